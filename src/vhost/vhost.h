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
 * and disable (vring index: 2q is the guest's rx, 2q+1 its tx); it can
 * come before up().
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
	const struct vhost_events *events;
	void *arg;
	/* Kept in step with the library for the worker's direct vring path
	 * (vhost_direct.h); NULL for the library path only. */
	struct vhost_direct *direct;
};

/* Register and start a socket.  0 or -errno. */
int vhost_port_open(const struct vhost_port_conf *conf);
/* Stop and unregister (calls down() if a guest is connected); the socket
 * file of a server port is removed.  Safe on a path never opened. */
void vhost_port_close(const char *path);

/* Features negotiated by the guest on vid, 0 if none (not connected). */
uint64_t vhost_features(int vid);
/* "MRG_RXBUF", "VERSION_1", ... for virtio feature bit b, or NULL. */
const char *vhost_feature_name(unsigned int bit);

#endif /* VTOE_VHOST_H */
