/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * vhost: vhost-user sockets through the rte_vhost library.  The control
 * half (vhost_ctl.c) registers sockets and turns the library's device
 * callbacks, which run on its own event thread, into the owner's events;
 * the data half (vhost_io.h) is what workers call per burst.
 */
#ifndef VTOE_VHOST_H
#define VTOE_VHOST_H

#include <stdbool.h>
#include <stdint.h>

#define VHOST_QUEUES_MAX 8      /* queue pairs per port we poll */

/*
 * What the owner of a socket hears, on the vhost event thread.  up() runs
 * when the guest is ready to move frames, down() when it goes away: after
 * down() returns the library unmaps guest memory, so down() must not
 * return while a worker can still use vid.  queue() reports vring enable
 * and disable (vring index: 2q is the guest's rx, 2q+1 its tx); those
 * enabled before up() are reported just before it.  All three are about
 * the port's owner only: a second connection on the port's socket never
 * causes any of them until it owns the port.
 */
struct vhost_events {
	int (*up)(void *arg, int vid);
	void (*down)(void *arg, int vid);
	void (*queue)(void *arg, int vid, uint16_t vring, bool enabled);
};

struct vhost_direct;

struct vhost_port_conf {
	const char *path;
	bool client;            /* connect (and reconnect) instead of listen */
	uint16_t queues;        /* queue pairs, 1..VHOST_QUEUES_MAX */
	bool offloads;          /* offer CSUM/GUEST_CSUM/TSO4/6 both ways */
	bool takeover_newest;   /* a second front-end starting while the
				 * owner runs takes over (else: refused) */
	const struct vhost_events *events;
	void *arg;
	/* Kept in step with the library for the worker's direct vring path
	 * (vhost_direct.h); NULL for the library path only. */
	struct vhost_direct *direct;
	/* Server mode: the socket's owner and group (-1: root's, as made)
	 * and mode (0: the umask's), set before any front-end can connect. */
	int64_t owner;
	int64_t group;
	uint32_t perms;
	/* Interrupt mode: per queue pair, an epoll set of the caller's in
	 * which the vhost thread keeps the owner's kick eventfd of its tx
	 * vring, edge-triggered, across reconnects and SET_VRING_KICK (the
	 * set becomes readable at each kick; the caller harvests it with
	 * epoll_wait(.., 0) and never reads the eventfd).  NULL: none. */
	const int *kick_sets;
};

/* Make the directory of the sockets (if missing) and give it group gid
 * (-1: keep) and mode (0: keep), so that QEMU running as another user can
 * create its socket there (client mode) or reach vtoed's.  0 or -errno. */
int vhost_socket_dir_prepare(const char *dir, int64_t gid, uint32_t mode);

/* Register and start a socket.  A handle (>= 0) for the calls below, or
 * -errno. */
int vhost_port_open(const struct vhost_port_conf *conf);
/* Stop and unregister every socket of the port (calls down() if a guest
 * runs it); the socket file of a server port is removed. */
void vhost_port_close(int handle);

/*
 * Client mode: connect to a migration destination's socket (path) as the
 * port's standby, keeping the owner.  When the destination starts its
 * device after the source stopped (the switch-over), it owns the port,
 * path becomes the port's socket and the source's is let go (by
 * vhost_housekeeping).  0, -EOPNOTSUPP (server mode: the destination
 * connects to the port's own socket), -EBUSY (a migration is under way),
 * -EEXIST (path is a port's), -EINVAL, -EIO.
 */
int vhost_port_migrate(int handle, const char *path);
/* Drop the standby connection of a migration that will not happen.
 * 0 or -ENOENT (none). */
int vhost_port_migrate_cancel(int handle);
/* Main thread, now and then: let go of migrated-away sockets. */
void vhost_housekeeping(void);

struct vhost_port_status {
	char path[108];         /* the port's socket now */
	char standby_path[108]; /* client-mode migration under way, or "" */
	int owner;              /* vid running the port, -1 */
	unsigned int standby;   /* other connections on its sockets */
	bool logging;           /* the owner logs dirty pages (migrating) */
	uint64_t owner_changes; /* another front-end took over */
	uint64_t refused;       /* front-ends refused while the owner ran */
	uint64_t takeovers;     /* owners taken over (takeover: newest) */
	uint64_t announces;     /* SEND_RARP requests (after a migration) */
};
int vhost_port_status(int handle, struct vhost_port_status *st);

/* Features negotiated by the guest on vid, 0 if none (not connected). */
uint64_t vhost_features(int vid);
/* "MRG_RXBUF", "VERSION_1", ... for virtio feature bit b, or NULL. */
const char *vhost_feature_name(unsigned int bit);

#endif /* VTOE_VHOST_H */
