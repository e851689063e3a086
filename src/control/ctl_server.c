/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The control socket's event loop: a non-blocking Unix stream listener and
 * up to CTL_CLIENTS_MAX connections on one epoll fd, each with a line buffer
 * in and at most one pending response out, so that a slow or hostile client
 * delays only itself.  Each complete line goes to ctl_handle_request
 * (ctl_proto.c); vtoectl (ctl_client.c) is the usual peer.
 */
#include "ctl.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/un.h>
#include <unistd.h>

#define CTL_LISTEN_BACKLOG 16
#define CTL_EVENTS_MAX 16
#define CTL_ACCEPT_BURST 8
/*
 * Requests answered per client per ctl_server_poll call: a client that
 * pipelines thousands of requests must not hold the main lcore for the
 * time of all of them.
 */
#define CTL_LINES_PER_POLL 16
#define CTL_LISTENER_TAG UINT64_MAX

/* The transport's own answers, complete at compile time. */
#define CTL_STR_(x) #x
#define CTL_STR(x) CTL_STR_(x)
#define CTL_TOO_LARGE "{\"ok\":false,\"error\":\"request too large (max " \
	CTL_STR(CTL_REQUEST_MAX) " bytes)\"}"
#define CTL_TOO_MANY "{\"ok\":false,\"error\":\"too many clients (max " \
	CTL_STR(CTL_CLIENTS_MAX) ")\"}"

struct ctl_client {
	int fd;                 /* -1: free slot */
	bool want_out;          /* epoll interest is EPOLLOUT, not EPOLLIN */
	bool eof;               /* peer shut its side: answer, then close */
	bool closing;           /* close once out is sent (request too large) */
	char *in;               /* CTL_REQUEST_MAX bytes while connected */
	size_t in_start;        /* first byte not yet consumed */
	size_t in_scanned;      /* in[in_start, in_scanned) holds no newline */
	size_t in_len;          /* bytes received into in[] */
	char *out;              /* response with its newline, partly sent */
	size_t out_size;
	size_t out_sent;
	int fd_in;              /* descriptor passed with a request, + 1;
				 * 0: none (ctl_take_fd) */
};

/* The descriptor passed with the request being handled, -1: none. */
static int ctl_request_fd = -1;

int ctl_take_fd(void)
{
	int fd = ctl_request_fd;

	ctl_request_fd = -1;
	return fd;
}

struct ctl_server {
	int epfd;
	int listen_fd;
	bool bound;             /* path is ours to unlink: dev/ino identify it */
	dev_t dev;
	ino_t ino;
	const struct ctl_cmd *cmds;
	size_t n_cmds;
	void *ctx;
	struct ctl_client clients[CTL_CLIENTS_MAX];
	char path[sizeof(((struct sockaddr_un *)NULL)->sun_path)];
};

/* ---- connections ---- */


static void client_close(struct ctl_client *c)
{
	/*
	 * close() drops the fd from the epoll set.  An event for this slot
	 * may still be in the batch being processed; it finds fd == -1, or
	 * a new client whose read or send then simply reports EAGAIN.
	 */
	close(c->fd);
	if (c->fd_in > 0)
		close(c->fd_in - 1);
	free(c->in);
	free(c->out);
	*c = (struct ctl_client){ .fd = -1 };
}

static int client_want(struct ctl_server *srv, struct ctl_client *c,
		       bool want_out)
{
	struct epoll_event ev = {
		.events = want_out ? EPOLLOUT : EPOLLIN,
		.data.u64 = (uint64_t)(c - srv->clients),
	};

	if (c->want_out == want_out)
		return 0;
	if (epoll_ctl(srv->epfd, EPOLL_CTL_MOD, c->fd, &ev) < 0)
		return -errno;
	c->want_out = want_out;
	return 0;
}

/* Returns 0 when out is empty, -EAGAIN when the peer is not reading. */
static int client_flush(struct ctl_client *c)
{
	while (c->out_sent < c->out_size) {
		ssize_t n = send(c->fd, c->out + c->out_sent,
				 c->out_size - c->out_sent,
				 MSG_NOSIGNAL | MSG_DONTWAIT);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return errno == EWOULDBLOCK ? -EAGAIN : -errno;
		c->out_sent += (size_t)n;
	}
	free(c->out);
	c->out = NULL;
	c->out_size = c->out_sent = 0;
	return 0;
}

/* Queue resp (malloc'd, without newline) and take ownership of it. */
static int client_queue(struct ctl_client *c, char *resp)
{
	size_t len;
	char *line;

	if (resp == NULL)
		return -ENOMEM;
	len = strlen(resp);
	line = realloc(resp, len + 1);
	if (line == NULL) {
		free(resp);
		return -ENOMEM;
	}
	line[len] = '\n';       /* no NUL needed: out is sized, not a string */
	c->out = line;
	c->out_size = len + 1;
	c->out_sent = 0;
	return 0;
}

/*
 * Answer the complete lines buffered for c, one at a time: the next one is
 * handled only when the previous response is fully sent, which bounds what
 * a client that does not read can make us hold to one response.
 */
static void client_pump(struct ctl_server *srv, struct ctl_client *c)
{
	unsigned int n_lines = 0;
	char *nl;
	int rc;

	for (;;) {
		if (c->out != NULL) {
			rc = client_flush(c);
			if (rc == -EAGAIN) {
				if (client_want(srv, c, true) < 0)
					break;
				return;         /* until EPOLLOUT */
			}
			if (rc < 0)
				break;
		}
		if (c->closing)
			break;

		nl = memchr(c->in + c->in_scanned, '\n',
			    c->in_len - c->in_scanned);
		if (nl == NULL) {
			c->in_scanned = c->in_len;
			if (c->in_len - c->in_start == CTL_REQUEST_MAX) {
				/* no room left and still no newline */
				c->closing = true;
				rc = client_queue(c, strdup(CTL_TOO_LARGE));
				if (rc < 0)
					break;
				continue;
			}
			if (c->eof)
				break;  /* a truncated last line is dropped */
			if (client_want(srv, c, false) < 0)
				break;
			return;
		}
		if (n_lines++ == CTL_LINES_PER_POLL) {
			/*
			 * More later: the socket is writable, so EPOLLOUT
			 * brings us back on the next poll.
			 */
			if (client_want(srv, c, true) < 0)
				break;
			return;
		}

		ctl_request_fd = c->fd_in - 1;
		c->fd_in = 0;
		rc = client_queue(c, ctl_handle_request(srv->cmds, srv->n_cmds,
				srv->ctx, c->in + c->in_start,
				(size_t)(nl - (c->in + c->in_start))));
		/* not taken by the command: not kept either */
		{
			int left = ctl_take_fd();

			if (left >= 0)
				close(left);
		}
		c->in_start = c->in_scanned = (size_t)(nl + 1 - c->in);
		if (rc < 0)
			break;
	}
	client_close(c);
}

/*
 * recv, keeping a descriptor passed along (SCM_RIGHTS) for the request
 * it came with; only the newest one is kept, others are closed.
 */
static ssize_t client_recv(struct ctl_client *c)
{
	union {
		struct cmsghdr h;
		char b[CMSG_SPACE(sizeof(int) * 4)];
	} ctl;
	struct iovec iov = {
		.iov_base = c->in + c->in_len,
		.iov_len = CTL_REQUEST_MAX - c->in_len,
	};
	struct msghdr msg = {
		.msg_iov = &iov, .msg_iovlen = 1,
		.msg_control = ctl.b, .msg_controllen = sizeof(ctl.b),
	};
	ssize_t n = recvmsg(c->fd, &msg, MSG_CMSG_CLOEXEC);

	if (n < 0)
		return n;
	for (struct cmsghdr *h = CMSG_FIRSTHDR(&msg); h != NULL;
	     h = CMSG_NXTHDR(&msg, h)) {
		size_t k;

		if (h->cmsg_level != SOL_SOCKET || h->cmsg_type != SCM_RIGHTS)
			continue;
		for (k = 0; k < (h->cmsg_len - CMSG_LEN(0)) / sizeof(int); k++) {
			int fd;

			memcpy(&fd, CMSG_DATA(h) + k * sizeof(int), sizeof(fd));
			if (c->fd_in > 0)
				close(c->fd_in - 1);
			c->fd_in = fd + 1;
		}
	}
	return n;
}

static void client_read(struct ctl_server *srv, struct ctl_client *c)
{
	ssize_t n;

	if (c->in_start > 0) {
		memmove(c->in, c->in + c->in_start, c->in_len - c->in_start);
		c->in_len -= c->in_start;
		c->in_scanned -= c->in_start;
		c->in_start = 0;
	}
	/* client_pump leaves room: a full buffer without newline is closed */
	n = client_recv(c);
	if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR))
		return;
	if (n < 0) {
		client_close(c);
		return;
	}
	if (n == 0)
		c->eof = true;
	c->in_len += (size_t)n;
	client_pump(srv, c);
}

static void server_refuse(int fd)
{
	static const char busy[] = CTL_TOO_MANY "\n";

	/* best effort: a fresh socket buffer always has room for this */
	(void)send(fd, busy, sizeof(busy) - 1, MSG_NOSIGNAL | MSG_DONTWAIT);
	close(fd);
}

static void server_accept(struct ctl_server *srv)
{
	for (int i = 0; i < CTL_ACCEPT_BURST; i++) {
		struct ctl_client *c = NULL;
		struct epoll_event ev = { .events = EPOLLIN };
		int fd;

		fd = accept4(srv->listen_fd, NULL, NULL,
			     SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (fd < 0 && (errno == EINTR || errno == ECONNABORTED))
			continue;
		/*
		 * EAGAIN: done.  EMFILE/ENFILE: the listener stays readable
		 * and we retry on each poll until a descriptor is freed.
		 */
		if (fd < 0)
			return;

		for (size_t k = 0; k < CTL_CLIENTS_MAX && c == NULL; k++)
			if (srv->clients[k].fd < 0)
				c = &srv->clients[k];
		if (c == NULL) {
			server_refuse(fd);
			continue;
		}
		c->in = malloc(CTL_REQUEST_MAX);
		ev.data.u64 = (uint64_t)(c - srv->clients);
		if (c->in == NULL ||
		    epoll_ctl(srv->epfd, EPOLL_CTL_ADD, fd, &ev) < 0) {
			free(c->in);
			c->in = NULL;
			close(fd);
			continue;
		}
		c->fd = fd;
	}
}

int ctl_server_poll(struct ctl_server *srv, int timeout_ms)
{
	struct epoll_event evs[CTL_EVENTS_MAX];
	int n;

	if (srv == NULL)
		return -EINVAL;
	n = epoll_wait(srv->epfd, evs, CTL_EVENTS_MAX, timeout_ms);
	if (n < 0)
		return -errno;
	for (int i = 0; i < n; i++) {
		struct ctl_client *c;

		if (evs[i].data.u64 == CTL_LISTENER_TAG) {
			server_accept(srv);
			continue;
		}
		c = &srv->clients[evs[i].data.u64];
		if (c->fd < 0)
			continue;
		/* EPOLLHUP/ERR surface as an error or EOF in either path */
		if (c->want_out)
			client_pump(srv, c);
		else
			client_read(srv, c);
	}
	return 0;
}

int ctl_server_fd(const struct ctl_server *srv)
{
	return srv != NULL ? srv->epfd : -1;
}

/* ---- the listening socket ---- */

/* mkdir -p of path's directory; the last component is the socket. */
static int path_mkdir_parents(const char *path)
{
	char dir[sizeof(((struct sockaddr_un *)NULL)->sun_path)];
	char *slash;

	snprintf(dir, sizeof(dir), "%s", path);
	slash = strrchr(dir, '/');
	if (slash == NULL || slash == dir)
		return 0;
	*slash = '\0';
	for (char *p = dir + 1; ; p++) {
		char saved = *p;

		if (saved != '/' && saved != '\0')
			continue;
		*p = '\0';
		/* EEXIST on a non-directory: bind reports ENOTDIR */
		if (mkdir(dir, 0755) < 0 && errno != EEXIST)
			return -errno;
		*p = saved;
		if (saved == '\0')
			return 0;
	}
}

/*
 * A socket file left by a daemon that died is removed; one a live daemon
 * answers on is not ours to take.  Anything else at path is left alone.
 */
static int path_claim(const struct sockaddr_un *addr)
{
	struct stat st;
	int fd, rc;

	if (lstat(addr->sun_path, &st) < 0)
		return errno == ENOENT ? 0 : -errno;
	if (!S_ISSOCK(st.st_mode))
		return -EEXIST;

	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	rc = connect(fd, (const struct sockaddr *)addr, sizeof(*addr));
	rc = rc == 0 ? 0 : errno;
	close(fd);
	if (rc == 0 || rc == EAGAIN)    /* EAGAIN: its backlog is full */
		return -EADDRINUSE;
	if (rc != ECONNREFUSED)
		return -rc;
	if (unlink(addr->sun_path) < 0 && errno != ENOENT)
		return -errno;
	return 0;
}

struct ctl_server *ctl_server_create(const char *path, uint32_t mode,
				     const struct ctl_cmd *cmds, size_t n_cmds,
				     void *ctx)
{
	struct sockaddr_un addr = { .sun_family = AF_UNIX };
	struct epoll_event ev = {
		.events = EPOLLIN,
		.data.u64 = CTL_LISTENER_TAG,
	};
	struct ctl_server *srv;
	struct stat st;
	int rc;

	if (path == NULL || path[0] == '\0' || (cmds == NULL && n_cmds > 0)) {
		errno = EINVAL;
		return NULL;
	}
	if (strlen(path) >= sizeof(addr.sun_path)) {
		errno = ENAMETOOLONG;
		return NULL;
	}
	srv = calloc(1, sizeof(*srv));
	if (srv == NULL)
		return NULL;
	srv->epfd = srv->listen_fd = -1;
	for (size_t i = 0; i < CTL_CLIENTS_MAX; i++)
		srv->clients[i].fd = -1;
	srv->cmds = cmds;
	srv->n_cmds = n_cmds;
	srv->ctx = ctx;
	memcpy(srv->path, path, strlen(path) + 1);
	memcpy(addr.sun_path, path, strlen(path) + 1);

	rc = path_mkdir_parents(path);
	if (rc == 0)
		rc = path_claim(&addr);
	if (rc < 0)
		goto err;

	srv->listen_fd = socket(AF_UNIX,
				SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (srv->listen_fd < 0 ||
	    bind(srv->listen_fd, (struct sockaddr *)&addr, sizeof(addr)) < 0 ||
	    lstat(path, &st) < 0)
		goto err_errno;
	srv->bound = true;
	srv->dev = st.st_dev;
	srv->ino = st.st_ino;
	/* before listen: nobody can connect under the umask's permissions */
	if (chmod(path, (mode_t)(mode & 07777)) < 0 ||
	    listen(srv->listen_fd, CTL_LISTEN_BACKLOG) < 0)
		goto err_errno;
	srv->epfd = epoll_create1(EPOLL_CLOEXEC);
	if (srv->epfd < 0 ||
	    epoll_ctl(srv->epfd, EPOLL_CTL_ADD, srv->listen_fd, &ev) < 0)
		goto err_errno;
	return srv;

err_errno:
	rc = -errno;
err:
	ctl_server_destroy(srv);
	errno = -rc;
	return NULL;
}

void ctl_server_destroy(struct ctl_server *srv)
{
	struct stat st;

	if (srv == NULL)
		return;
	for (size_t i = 0; i < CTL_CLIENTS_MAX; i++)
		if (srv->clients[i].fd >= 0)
			client_close(&srv->clients[i]);
	if (srv->epfd >= 0)
		close(srv->epfd);
	if (srv->listen_fd >= 0)
		close(srv->listen_fd);
	/* a daemon started after us may have replaced the file: keep it */
	if (srv->bound && lstat(srv->path, &st) == 0 &&
	    st.st_dev == srv->dev && st.st_ino == srv->ino)
		unlink(srv->path);
	free(srv);
}
