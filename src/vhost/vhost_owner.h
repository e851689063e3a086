/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * One owner per port: which front-end connection (vid) runs a vhost-user
 * port.  Several connections may be open on a port's sockets at once (a
 * migration's destination QEMU, a second client by mistake); only the
 * owner's rings are polled, only its stop takes the port down.
 *
 *  - A connection that starts its device while the port has no owner
 *    becomes the owner.  When the port had another owner before, this is
 *    a switch-over (a migration's destination taking over from a source
 *    that stopped its rings): counted and logged.
 *  - One that starts while the owner runs is refused (counted), unless
 *    the port is configured `takeover: newest`: then the owner is taken
 *    down first and the newcomer takes over.
 *  - A stop of anything but the owner changes nothing.
 *
 * Pure decisions, no DPDK and no locks: vhost_ctl.c holds its lock
 * around them and carries them out.
 */
#ifndef VTOE_VHOST_OWNER_H
#define VTOE_VHOST_OWNER_H

#include <stdbool.h>
#include <stdint.h>

enum vo_verdict {
	VO_ACCEPT,      /* start: take the port (it has no owner) */
	VO_REFUSE,      /* start: the owner runs; the newcomer waits */
	VO_TAKEOVER,    /* start: take the owner down, then take the port */
	VO_RELEASE,     /* stop: the owner stopped; the port goes down */
	VO_IGNORE,      /* stop: not the owner; nothing changes */
};

struct vo_port {
	int owner;              /* vid running the port, -1: none */
	int last_owner;         /* the owner before, -1: never had one */
	bool takeover_newest;
	uint64_t owner_changes; /* a vid took over from a different one */
	uint64_t refused;       /* starts refused while an owner ran */
	uint64_t takeovers;     /* owners taken down by takeover: newest */
};

void vo_init(struct vo_port *p, bool takeover_newest);

/* vid started its device.  On VO_TAKEOVER, *old is the owner to take
 * down first (then call vo_release(p, *old)).  Nothing is recorded
 * until vo_own(). */
enum vo_verdict vo_start(struct vo_port *p, int vid, int *old);
/* vid now runs the port (its start was carried out).  True when this is
 * a change of owner (a switch-over or takeover). */
bool vo_own(struct vo_port *p, int vid);
/* vid stopped its device or went away. */
enum vo_verdict vo_stop(struct vo_port *p, int vid);
/* The owner is gone (after VO_RELEASE or VO_TAKEOVER). */
void vo_release(struct vo_port *p, int vid);
/* The port's last connection closed: whoever comes next is a new guest,
 * not a change of owner (a migration's destination is connected before
 * its source leaves, so switch-overs still count). */
void vo_empty(struct vo_port *p);

#endif /* VTOE_VHOST_OWNER_H */
