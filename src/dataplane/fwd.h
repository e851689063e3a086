/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * fwd: the layer-2 forwarding decision for one frame, as a pure function of
 * the port map, the MAC table and the frame's header.  The worker calls it
 * per frame; the unit tests call it with a fake port map.  No DPDK types.
 *
 * Rules (each network its own L2 domain; uplinks never forward to each
 * other, as in a VEB):
 *  - networks: a VM port is in one network; an uplink carries every
 *    network (its frames' network comes from their VLAN tag, classified
 *    and taken off by the caller, which also tags what leaves).  Nothing
 *    crosses between networks: floods reach the ports of the frame's
 *    network only, and each network has its own MAC table, so the same
 *    MAC may live in two networks.
 *  - from a VM port: the source MAC must be the port's own (port security,
 *    psec.h, runs before this where it is on); a VLAN-tagged frame is
 *    dropped (an access port); broadcast and multicast go to every other
 *    VM port of its network that is up and to the source port's uplink;
 *    known unicast goes to its port; unknown unicast goes to the source
 *    port's uplink (dropped when it has none).
 *  - from an uplink: the source MAC is learned in the frame's network;
 *    broadcast and multicast go to every VM port of that network that is
 *    up; known unicast to its port; unknown unicast is dropped (an uplink
 *    never floods back out).
 *  - co-residency: a VM port whose VM does not run on this host now
 *    (stopped, paused, migrated away: in the away set) is not a
 *    destination.  Its MAC is reached like an unknown one: through the
 *    source's uplink from a VM, dropped (vm_away) from an uplink; floods
 *    skip it.
 */
#ifndef VTOE_FWD_H
#define VTOE_FWD_H

#include <stdbool.h>
#include <stdint.h>

#include "dp_drop.h"
#include "portset.h"

#define FWD_PORTS_MAX PORTSET_MAX

struct fdb;

struct fwd_port {
	uint8_t mac[6];         /* VM ports: the only source MAC allowed */
	uint16_t net;           /* VM ports: their network */
	bool is_uplink;
	int16_t uplink;         /* VM ports: their uplink's port id, or -1 */
	bool has_ip4;           /* VM ports: their first ip: (ARP suppression) */
	uint8_t ip4[4];
};

struct fwd_ctx {
	const struct fwd_port *ports;
	uint16_t n_ports;
	struct portset up;      /* port p can take frames now (the words
				 * below n_ports are read) */
	const struct portset *away;     /* VM port p's VM is not here */
	struct fdb *const *fdbs;        /* per network */
	uint16_t n_nets;
	uint32_t now_s;         /* for learning */
};

/*
 * Where does this frame go?  frame points at len bytes; net is its network
 * when it came from an uplink (a VM port's frames are in the port's).
 * Returns the
 * number of destination ports written to dsts (room for FWD_PORTS_MAX),
 * or 0 after setting *reason.  A unicast destination is returned even
 * when its port is down: the egress stage counts that drop on that port.
 */
unsigned int fwd_decide(const struct fwd_ctx *ctx, uint16_t in_port,
			uint16_t net, const uint8_t *frame, uint32_t len,
			uint16_t *dsts, enum dp_drop *reason);

#endif /* VTOE_FWD_H */
