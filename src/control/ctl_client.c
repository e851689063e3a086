/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The client side of the control socket: connect, send one request line,
 * read one response line, all bounded by a deadline so that vtoectl never
 * hangs on a wedged daemon.  The server side is ctl_server.c.
 */
#include "ctl_client.h"

#include <errno.h>
#include <poll.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#define CTL_CLIENT_CHUNK 4096

int ctl_client_connect(const char *path)
{
	struct sockaddr_un addr = { .sun_family = AF_UNIX };
	int fd;

	if (path == NULL || path[0] == '\0')
		return -EINVAL;
	if (strlen(path) >= sizeof(addr.sun_path))
		return -ENAMETOOLONG;
	memcpy(addr.sun_path, path, strlen(path) + 1);

	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	/* a Unix connect completes at once, or fails with EAGAIN when the
	 * daemon's backlog is full */
	if (connect(fd, (struct sockaddr *)&addr, sizeof(addr)) < 0) {
		int rc = -errno;

		close(fd);
		return rc;
	}
	return fd;
}

static int64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Wait until fd is ready for events or the deadline (< 0: none) passes. */
static int fd_wait(int fd, short events, int64_t deadline)
{
	struct pollfd pfd = { .fd = fd, .events = events };

	for (;;) {
		int64_t left = deadline < 0 ? -1 : deadline - now_ms();
		int n;

		if (deadline >= 0 && left <= 0)
			return -ETIMEDOUT;
		n = poll(&pfd, 1, left > INT32_MAX ? INT32_MAX : (int)left);
		if (n > 0)
			return 0;       /* ready, or HUP/ERR for the caller */
		if (n < 0 && errno != EINTR)
			return -errno;
	}
}

/*
 * Returns 0 when sent, or -errno.  A daemon that refuses a request (too
 * large, too many clients) answers and closes before reading all of it:
 * EPIPE then, and the answer is waiting to be read.
 */
static int request_send(int fd, const char *line, size_t len,
			int64_t deadline, int pass_fd)
{
	struct iovec iov[2] = {
		{ .iov_base = (void *)(uintptr_t)line, .iov_len = len },
		{ .iov_base = (void *)(uintptr_t)"\n", .iov_len = 1 },
	};
	union {
		struct cmsghdr h;
		char b[CMSG_SPACE(sizeof(int))];
	} ctl;
	struct msghdr msg = { .msg_iov = iov, .msg_iovlen = 2 };

	/* The descriptor rides with the first bytes sent. */
	if (pass_fd >= 0) {
		memset(&ctl, 0, sizeof(ctl));
		msg.msg_control = ctl.b;
		msg.msg_controllen = sizeof(ctl.b);
		ctl.h.cmsg_level = SOL_SOCKET;
		ctl.h.cmsg_type = SCM_RIGHTS;
		ctl.h.cmsg_len = CMSG_LEN(sizeof(int));
		memcpy(CMSG_DATA(&ctl.h), &pass_fd, sizeof(int));
	}
	while (msg.msg_iovlen > 0) {
		ssize_t n = sendmsg(fd, &msg, MSG_NOSIGNAL | MSG_DONTWAIT);
		int rc;

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
			rc = fd_wait(fd, POLLOUT, deadline);
			if (rc < 0)
				return rc;
			continue;
		}
		if (n < 0)
			return -errno;
		msg.msg_control = NULL;
		msg.msg_controllen = 0;
		while (msg.msg_iovlen > 0 && (size_t)n >= msg.msg_iov->iov_len) {
			n -= (ssize_t)msg.msg_iov->iov_len;
			msg.msg_iov++;
			msg.msg_iovlen--;
		}
		if (msg.msg_iovlen > 0) {
			msg.msg_iov->iov_base = (char *)msg.msg_iov->iov_base + n;
			msg.msg_iov->iov_len -= (size_t)n;
		}
	}
	return 0;
}

static int response_recv(int fd, int64_t deadline, char **response)
{
	size_t size = 0, cap = 0;
	char *buf = NULL;
	int rc;

	for (;;) {
		ssize_t n;
		char *nl;

		if (cap - size < CTL_CLIENT_CHUNK) {
			char *bigger;

			if (cap >= CTL_RESPONSE_MAX) {
				rc = -EMSGSIZE;
				break;
			}
			cap = cap == 0 ? 2 * CTL_CLIENT_CHUNK : 2 * cap;
			bigger = realloc(buf, cap + 1);
			if (bigger == NULL) {
				rc = -ENOMEM;
				break;
			}
			buf = bigger;
		}
		n = recv(fd, buf + size, cap - size, MSG_DONTWAIT);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
			rc = fd_wait(fd, POLLIN, deadline);
			if (rc < 0)
				break;
			continue;
		}
		if (n <= 0) {
			rc = n == 0 ? -ECONNRESET : -errno;
			break;
		}
		nl = memchr(buf + size, '\n', (size_t)n);
		size += (size_t)n;
		if (nl != NULL) {
			*nl = '\0';     /* one request, one line: nothing follows */
			*response = buf;
			return 0;
		}
	}
	free(buf);
	return rc;
}

int ctl_client_call(int fd, const char *line, size_t len, int timeout_ms,
		    char **response)
{
	return ctl_client_call_fd(fd, line, len, timeout_ms, response, -1);
}

int ctl_client_call_fd(int fd, const char *line, size_t len, int timeout_ms,
		       char **response, int pass_fd)
{
	int64_t deadline = timeout_ms < 0 ? -1 : now_ms() + timeout_ms;
	int rc;

	if (fd < 0 || line == NULL || response == NULL)
		return -EINVAL;
	*response = NULL;
	rc = request_send(fd, line, len, deadline, pass_fd);
	if (rc < 0 && rc != -EPIPE && rc != -ECONNRESET)
		return rc;
	return response_recv(fd, deadline, response);
}
