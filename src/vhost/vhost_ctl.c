/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Control side of vhost-user ports: registers sockets with rte_vhost and
 * relays its device callbacks (run on the library's event thread) to the
 * port's user, for the one front-end that owns the port (vhost_owner.h).
 * Each connection is tied to its port when it opens, by the socket it came
 * through.  The feature set a socket offers is fixed here, once, so a
 * reconnecting guest (or a migration's destination) always sees the same
 * one.
 */
#include "vhost.h"
#include "vhost_direct.h"
#include "vhost_owner.h"

#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/stat.h>
#include <unistd.h>

#include <rte_log.h>
#include <linux/vhost_types.h>
#include <rte_vhost.h>

RTE_LOG_REGISTER(vhost_logtype, vtoe.vhost, INFO);
#define VHOST_LOG(level, ...) \
	rte_log(RTE_LOG_ ## level, vhost_logtype, "vhost: " __VA_ARGS__)

/* rte_vhost serves at most 1,024 sockets (MAX_VHOST_SOCKET). */
#define VHOST_SOCKETS_MAX 1024

/*
 * Never offered: ECN-marked and UDP segmentation, which the software TOE
 * does not do.  Checksum and TCP segmentation are offered when the port
 * has offloads (the TOE segments and checksums in software for any peer
 * that did not negotiate them), and masked too otherwise.  The set is
 * fixed per socket at registration, so a reconnecting guest always sees
 * the same one.
 */
#define VHOST_FEATURES_NEVER ( \
	1ULL << VIRTIO_NET_F_GUEST_ECN | 1ULL << VIRTIO_NET_F_GUEST_UFO | \
	1ULL << VIRTIO_NET_F_HOST_ECN | 1ULL << VIRTIO_NET_F_HOST_UFO)
#define VHOST_FEATURES_OFFLOAD ( \
	1ULL << VIRTIO_NET_F_CSUM | 1ULL << VIRTIO_NET_F_GUEST_CSUM | \
	1ULL << VIRTIO_NET_F_GUEST_TSO4 | 1ULL << VIRTIO_NET_F_GUEST_TSO6 | \
	1ULL << VIRTIO_NET_F_HOST_TSO4 | 1ULL << VIRTIO_NET_F_HOST_TSO6)

/*
 * A vhost-user port: its socket, in client mode a second socket being
 * connected as a migration's destination (standby_path), and who owns
 * it (vhost_owner.h).  Connections on either socket belong to the port.
 */
struct vhost_port {
	bool used;
	char path[108];         /* the port's socket now */
	char standby_path[108]; /* client mode: a destination's socket, "" */
	char retired_path[108]; /* to unregister off the vhost thread, "" */
	uint16_t queues;
	uint64_t flags;         /* rte_vhost_driver_register flags */
	uint64_t disabled;      /* features never offered */
	const struct vhost_events *events;
	void *arg;
	struct vhost_direct *direct;    /* NULL: library path only */
	struct vo_port vo;
	int64_t owner, group;   /* server socket's, -1: as made */
	uint32_t perms;         /* server socket's mode, 0: as made */
	uint64_t announces;     /* SEND_RARP from the owner */
	bool direct_logging;    /* the direct path logs dirty pages (said once) */
	/* Queue pair q: the caller's epoll set for the owner's kick
	 * eventfd of its tx vring (vhost_port_conf), -1: none. */
	int kick_ep[VHOST_QUEUES_MAX];
};

/* A front-end connection, from new_connection to destroy_connection. */
struct vhost_conn {
	uint16_t port_no;       /* 1 + its port's index, 0: none */
	bool via_standby;       /* connected through the standby path */
	char path[108];         /* the socket it came through */
	bool refused_logged;
	uint32_t enabled;       /* vrings this front-end enabled */
};

/*
 * Everything above, for every callback and the main thread's requests.
 * rte_vhost runs all vhost-user messages, and so all device callbacks,
 * on its one event thread; connections are also added from its
 * reconnect thread and from rte_vhost_driver_start.  Held while the
 * owner's events run (down() waits for the workers, which never take
 * it), never while calling rte_vhost_driver_unregister, which calls
 * destroy_device.
 */
static pthread_mutex_t vhost_lock = PTHREAD_MUTEX_INITIALIZER;
static struct vhost_port ports[VHOST_SOCKETS_MAX];
static struct vhost_conn conns[RTE_MAX_VHOST_DEVICE];

static struct vhost_port *
port_of_path_locked(const char *path, bool *standby)
{
	for (int i = 0; i < VHOST_SOCKETS_MAX; i++) {
		if (!ports[i].used)
			continue;
		if (strcmp(ports[i].path, path) == 0) {
			*standby = false;
			return &ports[i];
		}
		if (ports[i].standby_path[0] != '\0' &&
		    strcmp(ports[i].standby_path, path) == 0) {
			*standby = true;
			return &ports[i];
		}
	}
	return NULL;
}

/* The port of a connection; NULL for a vid of no port of ours. */
static struct vhost_port *
port_of_vid_locked(int vid)
{
	if (vid < 0 || vid >= RTE_MAX_VHOST_DEVICE || conns[vid].port_no == 0)
		return NULL;
	return &ports[conns[vid].port_no - 1];
}

/*
 * The owner vid stopped, went away or is taken over: take the port down.
 * Once the direct path is stopped (every vring lock taken once) and
 * down() returned (port->vid cleared, then an RCU grace period: workers
 * load the vid once per burst and report quiescence only between bursts),
 * no worker holds vid's rings or memory, so the library may stop or unmap
 * them, and whoever owns the port next starts from the library's indices.
 */
static void
port_release_locked(struct vhost_port *s, int vid, const char *why)
{
	VHOST_LOG(INFO, "%s: guest gone (vid %d): %s\n", s->path, vid, why);
	if (s->direct != NULL && s->direct->running_vid == vid) {
		s->direct->running_vid = -1;
		vhost_direct_stop(s->direct);
	}
	s->events->down(s->arg, vid);
	vo_release(&s->vo, vid);
	s->direct_logging = false;
}

/* vid stopped its device or went away: the port goes down if vid owns
 * it.  True then. */
static bool
owner_stop_locked(struct vhost_port *s, int vid, const char *why)
{
	if (vo_stop(&s->vo, vid) != VO_RELEASE)
		return false;
	port_release_locked(s, vid, why);
	return true;
}

/*
 * Put the owner's kick eventfds into the port's kick sets, edge-triggered
 * (a sleeping worker is woken by each kick and never reads the eventfd,
 * which is the library's).  Run after every message of the owner: a kick
 * fd replaced by SET_VRING_KICK was closed by the library, which took it
 * out of the set; adding one already there is EEXIST.  Locked.
 */
static void
kick_watch_locked(struct vhost_port *s, int vid)
{
	uint16_t vrings = rte_vhost_get_vring_num(vid);

	for (uint16_t q = 0; q < s->queues && 2u * q + 1 < vrings; q++) {
		struct rte_vhost_vring vr;
		struct epoll_event ev = { .events = EPOLLIN | EPOLLET };

		if (s->kick_ep[q] < 0 ||
		    rte_vhost_get_vhost_vring(vid, (uint16_t)(2 * q + 1), &vr) != 0 ||
		    vr.kickfd < 0)
			continue;
		if (epoll_ctl(s->kick_ep[q], EPOLL_CTL_ADD, vr.kickfd, &ev) != 0 &&
		    errno != EEXIST)
			VHOST_LOG(WARNING, "%s: cannot watch the kicks of queue %u: %s\n",
				  s->path, q, strerror(errno));
	}
}

static int
vhost_new_device(int vid)
{
	struct vhost_port *s;
	struct vhost_conn *c;
	uint16_t vrings = rte_vhost_get_vring_num(vid);
	int old, rc = -1;
	bool change;

	pthread_mutex_lock(&vhost_lock);
	s = port_of_vid_locked(vid);
	if (s == NULL)
		goto out;
	c = &conns[vid];
	/* A guest with more queue pairs than we poll would have frames
	 * sit unseen in the extra rings: refuse it and say why. */
	if (vrings > 2 * s->queues) {
		VHOST_LOG(ERR, "%s: guest has %u queue pairs, port is configured for %u; refusing\n",
			  s->path, vrings / 2, s->queues);
		goto out;
	}
	switch (vo_start(&s->vo, vid, &old)) {
	case VO_REFUSE:
		/* The library asks again after each message of this
		 * front-end: say it once. */
		if (!c->refused_logged)
			VHOST_LOG(ERR, "%s: a second front-end (vid %d) started while vid %d owns the port: refused (takeover: refuse)\n",
				  s->path, vid, s->vo.owner);
		c->refused_logged = true;
		goto out;
	case VO_TAKEOVER:
		VHOST_LOG(WARNING, "%s: vid %d takes the port over from vid %d (takeover: newest)\n",
			  s->path, vid, old);
		port_release_locked(s, old, "taken over");
		break;
	default:
		break;
	}
	/* Polling: the guest need not kick us (a worker about to sleep
	 * asks for kicks again, vhost_rx_arm). */
	for (uint16_t i = 0; i < vrings; i++)
		rte_vhost_enable_guest_notification(vid, i, 0);
	kick_watch_locked(s, vid);
	if (s->direct != NULL) {
		s->direct->running_vid = vid;
		vhost_direct_refresh(s->direct, vid);
	}
	/* Vrings it enabled before it started. */
	for (uint16_t v = 0; v < 32; v++)
		if (c->enabled & (1u << v))
			s->events->queue(s->arg, vid, v, true);
	if (s->events->up(s->arg, vid) != 0) {
		if (s->direct != NULL) {
			s->direct->running_vid = -1;
			vhost_direct_stop(s->direct);
		}
		goto out;
	}
	old = s->vo.last_owner;
	change = vo_own(&s->vo, vid);
	VHOST_LOG(INFO, "%s: guest connected (vid %d, %u queue pairs, features 0x%" PRIx64 ")%s\n",
		  s->path, vid, vrings / 2, vhost_features(vid),
		  change ? ": a new front-end owns the port (switch-over)" : "");
	if (change)
		VHOST_LOG(INFO, "%s: owner vid %d -> vid %d (owner change %" PRIu64 ")\n",
			  s->path, old, vid, s->vo.owner_changes);
	if (c->via_standby) {
		/* A client-mode migration's destination took over: its
		 * socket is the port's from now on; the source's is let go
		 * (off this thread: unregistering waits for it). */
		VHOST_LOG(INFO, "%s: migration switch-over: the port moves to %s\n",
			  s->path, s->standby_path);
		memcpy(s->retired_path, s->path, sizeof(s->retired_path));
		memcpy(s->path, s->standby_path, sizeof(s->path));
		s->standby_path[0] = '\0';
		for (int v = 0; v < RTE_MAX_VHOST_DEVICE; v++)
			if (conns[v].port_no == c->port_no)
				conns[v].via_standby = false;
	}
	rc = 0;
out:
	pthread_mutex_unlock(&vhost_lock);
	return rc;
}

/* The library closes a socket's connections when it is unregistered
 * without telling destroy_connection: forget them.  Locked. */
static void
conns_forget_locked(const char *path)
{
	for (int v = 0; v < RTE_MAX_VHOST_DEVICE; v++)
		if (conns[v].port_no != 0 && strcmp(conns[v].path, path) == 0)
			conns[v].port_no = 0;
}

static void
vhost_destroy_device(int vid)
{
	struct vhost_port *s;

	pthread_mutex_lock(&vhost_lock);
	s = port_of_vid_locked(vid);
	if (s != NULL && !owner_stop_locked(s, vid, "device stopped"))
		VHOST_LOG(INFO, "%s: vid %d stopped; not the owner (vid %d), nothing changes\n",
			  s->path, vid, s->vo.owner);
	pthread_mutex_unlock(&vhost_lock);
}

/* vhost-user request codes (the vhost-user spec). */
#define VHOST_USER_SEND_RARP 19

/*
 * Around every vhost-user message (memory table, ring addresses, features,
 * GET_VRING_BASE, ...) of the owner: the library has locked the device's
 * queues for its own burst calls; these stop the direct path before the
 * message is handled and rebuild it after (see vhost_direct.h).  Neither
 * claims the message.  Messages of other connections never touch the
 * port's direct state.
 */
static enum rte_vhost_msg_result
vhost_pre_msg(int vid, void *msg)
{
	struct vhost_port *s;

	pthread_mutex_lock(&vhost_lock);
	s = port_of_vid_locked(vid);
	if (s != NULL && s->vo.owner == vid) {
		if (s->direct != NULL && s->direct->running_vid == vid)
			vhost_direct_stop(s->direct);
		/* The message starts with its request code. */
		if (*(const uint32_t *)msg == VHOST_USER_SEND_RARP)
			s->announces++;
	}
	pthread_mutex_unlock(&vhost_lock);
	return RTE_VHOST_MSG_RESULT_NOT_HANDLED;
}

static enum rte_vhost_msg_result
vhost_post_msg(int vid, void *msg)
{
	struct vhost_port *s;

	(void)msg;
	pthread_mutex_lock(&vhost_lock);
	s = port_of_vid_locked(vid);
	if (s != NULL && s->vo.owner == vid)
		kick_watch_locked(s, vid);
	if (s != NULL && s->direct != NULL && s->direct->running_vid == vid) {
		vhost_direct_refresh(s->direct, vid);
		if (s->direct->logging != s->direct_logging)
			VHOST_LOG(INFO, "%s: vid %d: dirty-page logging %s (live migration); the direct path %s\n",
				  s->path, vid, s->direct->logging ? "on" : "off",
				  s->direct->logging ? "logs what it writes" : "goes on");
		s->direct_logging = s->direct->logging;
	}
	pthread_mutex_unlock(&vhost_lock);
	return RTE_VHOST_MSG_RESULT_NOT_HANDLED;
}

static const struct rte_vhost_user_extern_ops vhost_extern_ops = {
	.pre_msg_handle = vhost_pre_msg,
	.post_msg_handle = vhost_post_msg,
};

static int
vhost_new_connection(int vid)
{
	char path[108];
	struct vhost_port *s;
	bool standby = false, direct;

	if (vid < 0 || vid >= RTE_MAX_VHOST_DEVICE ||
	    rte_vhost_get_ifname(vid, path, sizeof(path)) != 0)
		return -1;
	pthread_mutex_lock(&vhost_lock);
	s = port_of_path_locked(path, &standby);
	conns[vid] = (struct vhost_conn){
		.port_no = s != NULL ? (uint16_t)(s - ports + 1) : 0,
		.via_standby = standby,
	};
	memcpy(conns[vid].path, path, sizeof(path));
	direct = s != NULL && s->direct != NULL;
	if (s != NULL)
		VHOST_LOG(INFO, "%s: front-end connected (vid %d%s)\n", path,
			  vid, s->vo.owner >= 0 ? ", standby: the port has an owner" : "");
	pthread_mutex_unlock(&vhost_lock);
	if (s == NULL)
		return -1;
	if (rte_vhost_extern_callback_register(vid, &vhost_extern_ops,
					       NULL) != 0) {
		/* Without the hooks the direct path could not be kept in
		 * step with the library: refuse the guest rather than
		 * run it unsafely.  Without a direct path only a kick fd
		 * the guest replaces later goes unwatched. */
		if (direct) {
			VHOST_LOG(ERR, "%s: cannot hook vhost-user messages (vid %d)\n",
				  path, vid);
			return -1;
		}
		VHOST_LOG(WARNING, "%s: cannot hook vhost-user messages (vid %d): a kick fd the guest replaces goes unwatched\n",
			  path, vid);
	}
	return 0;
}

/* Any front-end still connected to port s.  Locked. */
static bool
port_connected_locked(const struct vhost_port *s)
{
	uint16_t no = (uint16_t)(s - ports + 1);

	for (unsigned int v = 0; v < RTE_DIM(conns); v++)
		if (conns[v].port_no == no)
			return true;
	return false;
}

/* The library follows this with destroy_device only if the device was
 * running: an owner that closes its socket is released here. */
static void
vhost_destroy_connection(int vid)
{
	struct vhost_port *s;

	pthread_mutex_lock(&vhost_lock);
	s = port_of_vid_locked(vid);
	if (s != NULL) {
		owner_stop_locked(s, vid, "connection closed");
		VHOST_LOG(INFO, "%s: front-end disconnected (vid %d)\n",
			  conns[vid].path, vid);
		conns[vid].port_no = 0;
		if (!port_connected_locked(s))
			vo_empty(&s->vo);
	}
	pthread_mutex_unlock(&vhost_lock);
}

static int
vhost_vring_state_changed(int vid, uint16_t vring, int enable)
{
	struct vhost_port *s;

	if (vring >= 32)
		return 0;
	pthread_mutex_lock(&vhost_lock);
	s = port_of_vid_locked(vid);
	if (s != NULL) {
		if (enable)
			conns[vid].enabled |= 1u << vring;
		else
			conns[vid].enabled &= ~(1u << vring);
		/* Others' rings are theirs: they are replayed when they
		 * become the owner. */
		if (s->vo.owner == vid)
			s->events->queue(s->arg, vid, vring, enable != 0);
	}
	pthread_mutex_unlock(&vhost_lock);
	return 0;
}

static const struct rte_vhost_device_ops vhost_ops = {
	.new_device = vhost_new_device,
	.destroy_device = vhost_destroy_device,
	.vring_state_changed = vhost_vring_state_changed,
	.new_connection = vhost_new_connection,
	.destroy_connection = vhost_destroy_connection,
};

/* mkdir -p of the directory holding path (0755, as /run/vtoe would be). */
static int
vhost_parent_dir_make(const char *path)
{
	char dir[108];

	snprintf(dir, sizeof(dir), "%s", path);
	for (char *p = dir + 1; *p != '\0'; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(dir, 0755) != 0 && errno != EEXIST)
			return -errno;
		*p = '/';
	}
	return 0;
}

/* A server socket path left behind by a crash is removed; anything else
 * in the way is an error rather than something to delete. */
static int
vhost_server_path_prepare(const char *path)
{
	struct stat st;
	int rc = vhost_parent_dir_make(path);

	if (rc != 0)
		return rc;
	if (lstat(path, &st) != 0)
		return errno == ENOENT ? 0 : -errno;
	if (!S_ISSOCK(st.st_mode))
		return -EEXIST;
	return unlink(path) == 0 ? 0 : -errno;
}

/* Register, configure and start one socket for port s (path: its own or
 * a standby's).  0 or -errno; nothing is left registered on error. */
static int
vhost_socket_start(const struct vhost_port *s, const char *path)
{
	bool server = !(s->flags & RTE_VHOST_USER_CLIENT);
	bool access = server && (s->owner >= 0 || s->group >= 0 || s->perms != 0);
	mode_t umask_was = 0;
	int rc;

	if (rte_vhost_driver_register(path, s->flags) != 0)
		return -EIO;
	if (rte_vhost_driver_disable_features(path, s->disabled) != 0 ||
	    rte_vhost_driver_callback_register(path, &vhost_ops) != 0) {
		rte_vhost_driver_unregister(path);
		return -EIO;
	}
	/*
	 * The library binds and listens in rte_vhost_driver_start.  Made
	 * under umask 0177 the socket is root's alone (0600) until the chown
	 * and chmod below: no front-end but root's can connect in between.
	 * The umask is the process's; only this path (under vhost_lock,
	 * main thread) creates files while vtoed runs.
	 */
	errno = 0;
	if (access)
		umask_was = umask(0177);
	rc = rte_vhost_driver_start(path);
	if (access)
		umask(umask_was);
	if (rc == 0 && access &&
	    ((s->owner >= 0 || s->group >= 0) &&
	     chown(path, s->owner >= 0 ? (uid_t)s->owner : (uid_t)-1,
		   s->group >= 0 ? (gid_t)s->group : (gid_t)-1) != 0))
		rc = -1;
	if (rc == 0 && access && chmod(path, s->perms != 0 ? s->perms : 0600) != 0)
		rc = -1;
	if (rc != 0) {
		rc = errno != 0 ? -errno : -EIO;
		VHOST_LOG(ERR, "%s: cannot start the socket: %s\n", path,
			  strerror(-rc));
		rte_vhost_driver_unregister(path);
		return rc;
	}
	return 0;
}

int
vhost_socket_dir_prepare(const char *dir, int64_t gid, uint32_t mode)
{
	char probe[112];
	int rc;

	snprintf(probe, sizeof(probe), "%s/x", dir);
	rc = vhost_parent_dir_make(probe);
	if (rc != 0)
		return rc;
	if (gid >= 0 && chown(dir, (uid_t)-1, (gid_t)gid) != 0)
		return -errno;
	if (mode != 0 && chmod(dir, mode) != 0)
		return -errno;
	return 0;
}

/* Is path in use by a port, as its socket or a standby's?  Locked. */
static bool
path_taken_locked(const char *path)
{
	bool standby;

	return port_of_path_locked(path, &standby) != NULL;
}

int
vhost_port_open(const struct vhost_port_conf *conf)
{
	/* A frame larger than an mbuf (a 64 KB super-frame) is dequeued into
	 * one external buffer rather than a chain of ~33 mbufs: every later
	 * step (validation, forwarding, enqueue, segmentation, the NIC) then
	 * walks one segment. */
	uint64_t flags = RTE_VHOST_USER_NET_COMPLIANT_OL_FLAGS |
			 RTE_VHOST_USER_EXTBUF_SUPPORT;
	struct vhost_port *slot = NULL;
	int rc;

	if (conf->queues == 0 || conf->queues > VHOST_QUEUES_MAX ||
	    strlen(conf->path) >= sizeof(slot->path))
		return -EINVAL;
	if (conf->client) {
		flags |= RTE_VHOST_USER_CLIENT; /* reconnect is the default */
	} else {
		rc = vhost_server_path_prepare(conf->path);
		if (rc != 0)
			return rc;
	}

	pthread_mutex_lock(&vhost_lock);
	if (path_taken_locked(conf->path)) {
		pthread_mutex_unlock(&vhost_lock);
		return -EEXIST;
	}
	for (int i = 0; i < VHOST_SOCKETS_MAX && slot == NULL; i++)
		if (!ports[i].used)
			slot = &ports[i];
	if (slot != NULL) {
		*slot = (struct vhost_port){
			.used = true,
			.queues = conf->queues,
			.flags = flags,
			.disabled = VHOST_FEATURES_NEVER |
				    (conf->offloads ? 0 : VHOST_FEATURES_OFFLOAD),
			.events = conf->events,
			.arg = conf->arg,
			.direct = conf->direct,
			.owner = conf->owner,
			.group = conf->group,
			.perms = conf->perms,
		};
		strcpy(slot->path, conf->path);
		for (uint16_t q = 0; q < VHOST_QUEUES_MAX; q++)
			slot->kick_ep[q] = q < conf->queues &&
					   conf->kick_sets != NULL ?
					   conf->kick_sets[q] : -1;
		vo_init(&slot->vo, conf->takeover_newest);
		if (conf->direct != NULL)
			vhost_direct_init(conf->direct);
	}
	pthread_mutex_unlock(&vhost_lock);
	if (slot == NULL)
		return -ENOSPC;

	rc = vhost_socket_start(slot, conf->path);
	if (rc != 0) {
		pthread_mutex_lock(&vhost_lock);
		slot->used = false;
		pthread_mutex_unlock(&vhost_lock);
		return rc;
	}
	VHOST_LOG(INFO, "%s: %s, %u queue pair(s)\n", conf->path,
		  conf->client ? "connecting (client mode)" : "listening",
		  conf->queues);
	return (int)(slot - ports);
}

static struct vhost_port *
port_of_handle(int handle)
{
	if (handle < 0 || handle >= VHOST_SOCKETS_MAX || !ports[handle].used)
		return NULL;
	return &ports[handle];
}

void
vhost_port_close(int handle)
{
	char paths[3][108];
	struct vhost_port *s;

	pthread_mutex_lock(&vhost_lock);
	s = port_of_handle(handle);
	if (s != NULL) {
		memcpy(paths[0], s->path, sizeof(paths[0]));
		memcpy(paths[1], s->standby_path, sizeof(paths[1]));
		memcpy(paths[2], s->retired_path, sizeof(paths[2]));
		s->retired_path[0] = '\0';
	}
	pthread_mutex_unlock(&vhost_lock);
	if (s == NULL)
		return;
	/* Calls destroy_device for a running guest, which needs the port
	 * to find its owner: let it go only afterwards. */
	for (int i = 2; i >= 0; i--)
		if (paths[i][0] != '\0')
			rte_vhost_driver_unregister(paths[i]);
	pthread_mutex_lock(&vhost_lock);
	for (int v = 0; v < RTE_MAX_VHOST_DEVICE; v++)
		if (conns[v].port_no == handle + 1)
			conns[v].port_no = 0;
	s->used = false;
	pthread_mutex_unlock(&vhost_lock);
}

int
vhost_port_migrate(int handle, const char *path)
{
	struct vhost_port *s;
	struct vhost_port copy;
	int rc = 0;

	if (path == NULL || path[0] != '/' || strlen(path) >= sizeof(s->path))
		return -EINVAL;
	pthread_mutex_lock(&vhost_lock);
	s = port_of_handle(handle);
	if (s == NULL)
		rc = -ENOENT;
	else if (!(s->flags & RTE_VHOST_USER_CLIENT))
		rc = -EOPNOTSUPP;       /* server: the destination connects here */
	else if (s->standby_path[0] != '\0' || s->retired_path[0] != '\0')
		rc = -EBUSY;
	else if (path_taken_locked(path))
		rc = -EEXIST;
	if (rc == 0) {
		snprintf(s->standby_path, sizeof(s->standby_path), "%s", path);
		copy = *s;
	}
	pthread_mutex_unlock(&vhost_lock);
	if (rc != 0)
		return rc;
	rc = vhost_socket_start(&copy, path);
	if (rc != 0) {
		pthread_mutex_lock(&vhost_lock);
		if (strcmp(s->standby_path, path) == 0)
			s->standby_path[0] = '\0';
		pthread_mutex_unlock(&vhost_lock);
		return rc;
	}
	VHOST_LOG(INFO, "%s: migration: connecting the destination %s as standby\n",
		  copy.path, path);
	return 0;
}

int
vhost_port_migrate_cancel(int handle)
{
	char path[108] = "";
	struct vhost_port *s;

	pthread_mutex_lock(&vhost_lock);
	s = port_of_handle(handle);
	if (s != NULL)
		memcpy(path, s->standby_path, sizeof(path));
	pthread_mutex_unlock(&vhost_lock);
	if (s == NULL)
		return -ENOENT;
	if (path[0] == '\0')
		return -ENOENT;
	/* A standby that never started its device: unregistering it
	 * touches nothing of the owner's (destroy_device of a non-owner is
	 * ignored). */
	rte_vhost_driver_unregister(path);
	pthread_mutex_lock(&vhost_lock);
	if (strcmp(s->standby_path, path) == 0)
		s->standby_path[0] = '\0';
	conns_forget_locked(path);
	pthread_mutex_unlock(&vhost_lock);
	VHOST_LOG(INFO, "%s: migration to %s cancelled\n", s->path, path);
	return 0;
}

void
vhost_housekeeping(void)
{
	for (int i = 0; i < VHOST_SOCKETS_MAX; i++) {
		char path[108] = "";

		pthread_mutex_lock(&vhost_lock);
		if (ports[i].used)
			memcpy(path, ports[i].retired_path, sizeof(path));
		pthread_mutex_unlock(&vhost_lock);
		if (path[0] == '\0')
			continue;
		/* The migrated-away source's socket: its connection (a
		 * stopped device, not the owner) is closed with it. */
		rte_vhost_driver_unregister(path);
		pthread_mutex_lock(&vhost_lock);
		ports[i].retired_path[0] = '\0';
		conns_forget_locked(path);
		pthread_mutex_unlock(&vhost_lock);
		VHOST_LOG(INFO, "%s: migrated away: socket let go\n", path);
	}
}

int
vhost_port_status(int handle, struct vhost_port_status *st)
{
	const struct vhost_port *s;

	memset(st, 0, sizeof(*st));
	pthread_mutex_lock(&vhost_lock);
	s = port_of_handle(handle);
	if (s != NULL) {
		memcpy(st->path, s->path, sizeof(st->path));
		memcpy(st->standby_path, s->standby_path, sizeof(st->standby_path));
		st->owner = s->vo.owner;
		for (int v = 0; v < RTE_MAX_VHOST_DEVICE; v++)
			if (conns[v].port_no == handle + 1 && v != s->vo.owner)
				st->standby++;
		st->logging = (vhost_features(s->vo.owner) &
			       (1ULL << VHOST_F_LOG_ALL)) != 0;
		st->owner_changes = s->vo.owner_changes;
		st->refused = s->vo.refused;
		st->takeovers = s->vo.takeovers;
		st->announces = s->announces;
	}
	pthread_mutex_unlock(&vhost_lock);
	return s != NULL ? 0 : -ENOENT;
}

uint64_t
vhost_features(int vid)
{
	uint64_t features = 0;

	if (vid < 0 || rte_vhost_get_negotiated_features(vid, &features) != 0)
		return 0;
	return features;
}

const char *
vhost_feature_name(unsigned int bit)
{
	switch (bit) {
	case VIRTIO_NET_F_CSUM: return "CSUM";
	case VIRTIO_NET_F_GUEST_CSUM: return "GUEST_CSUM";
	case VIRTIO_NET_F_CTRL_GUEST_OFFLOADS: return "CTRL_GUEST_OFFLOADS";
	case VIRTIO_NET_F_MTU: return "MTU";
	case VIRTIO_NET_F_MAC: return "MAC";
	case VIRTIO_NET_F_GUEST_TSO4: return "GUEST_TSO4";
	case VIRTIO_NET_F_GUEST_TSO6: return "GUEST_TSO6";
	case VIRTIO_NET_F_GUEST_ECN: return "GUEST_ECN";
	case VIRTIO_NET_F_GUEST_UFO: return "GUEST_UFO";
	case VIRTIO_NET_F_HOST_TSO4: return "HOST_TSO4";
	case VIRTIO_NET_F_HOST_TSO6: return "HOST_TSO6";
	case VIRTIO_NET_F_HOST_ECN: return "HOST_ECN";
	case VIRTIO_NET_F_HOST_UFO: return "HOST_UFO";
	case VIRTIO_NET_F_MRG_RXBUF: return "MRG_RXBUF";
	case VIRTIO_NET_F_STATUS: return "STATUS";
	case VIRTIO_NET_F_CTRL_VQ: return "CTRL_VQ";
	case VIRTIO_NET_F_CTRL_RX: return "CTRL_RX";
	case VIRTIO_NET_F_CTRL_VLAN: return "CTRL_VLAN";
	case VIRTIO_NET_F_GUEST_ANNOUNCE: return "GUEST_ANNOUNCE";
	case VIRTIO_NET_F_MQ: return "MQ";
	case VIRTIO_F_NOTIFY_ON_EMPTY: return "NOTIFY_ON_EMPTY";
	case VIRTIO_F_ANY_LAYOUT: return "ANY_LAYOUT";
	case VIRTIO_RING_F_INDIRECT_DESC: return "RING_INDIRECT_DESC";
	case VIRTIO_RING_F_EVENT_IDX: return "RING_EVENT_IDX";
	case VHOST_USER_F_PROTOCOL_FEATURES: return "PROTOCOL_FEATURES";
	case VIRTIO_F_VERSION_1: return "VERSION_1";
	case VIRTIO_F_IOMMU_PLATFORM: return "IOMMU_PLATFORM";
	case VIRTIO_F_RING_PACKED: return "RING_PACKED";
	case VIRTIO_F_IN_ORDER: return "IN_ORDER";
	default: return NULL;
	}
}
