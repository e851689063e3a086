/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * psec: port security, what a guest may send, as a pure function of the
 * port's allowed addresses and the frame's headers.  The worker calls it
 * on every frame from a VM port whose security is on, before the
 * forwarding decision (fwd.h); the unit tests call it on built frames.
 * No DPDK types.
 *
 * Rules (a refusal returns its drop reason, dp_drop.h):
 *  - The source MAC is one of the port's allowed MACs: its own, then the
 *    `allowed` entries' (src_mac_mismatch).
 *  - The port is IP-restricted when it has any address (`ip:` or an
 *    `allowed` ip); then every address check below applies to the
 *    addresses of the entry whose MAC sent the frame.  A port with no
 *    address keeps the MAC, ARP/ND link-layer, DHCP-server and RA checks
 *    only.
 *  - IPv4 source (ip_spoof): one of the entry's, or 0.0.0.0 from a DHCP
 *    client (UDP 68 -> 67).
 *  - IPv6 source (ip_spoof): one of the entry's, the link-local address
 *    derived from the entry's MAC (EUI-64), or :: to a link-scope
 *    multicast group as ICMPv6 (duplicate address detection, MLD).
 *  - ARP (arp_spoof): sender hardware address is the frame's source MAC;
 *    sender protocol address is one of the entry's, or 0.0.0.0 (a probe).
 *    RARP passes (live migration announces).
 *  - Neighbour discovery (nd_spoof): a link-layer address option (source
 *    or target) is the frame's source MAC; an advertisement's target is
 *    one of the entry's IPv6 addresses (or its link-local).
 *  - DHCP server messages (UDP from port 67, or DHCPv6 from 547):
 *    dhcp_server unless the port allows them; router advertisements: ra,
 *    unless the port allows them.
 *  - Headers it must read that are cut short (a truncated ARP, IP or ND
 *    header, an IPv6 extension chain that does not end in the frame, a
 *    first fragment without its upper-layer header): psec_malformed.
 *
 * The caller passes the frame's first `have` bytes of `len`; when the
 * rules need bytes beyond `have` (and within len) the check returns
 * PSEC_MORE, and the caller gives it more (or sends the frame the way
 * that has them).
 */
#ifndef VTOE_PSEC_H
#define VTOE_PSEC_H

#include <stdbool.h>
#include <stdint.h>

#include "dp_drop.h"

#define PSEC_ENTRIES_MAX 8      /* the port's own MAC + 7 allowed */
#define PSEC_IP4_MAX 16         /* per entry: a port's ip: and its */
#define PSEC_IP6_MAX 16         /* allowed addresses without a mac */

struct psec_entry {
	uint8_t mac[6];
	uint8_t n_ip4, n_ip6;
	uint8_t ip4[PSEC_IP4_MAX][4];           /* network order */
	uint8_t ip6[PSEC_IP6_MAX][16];
	uint8_t ll6[16];                        /* fe80::EUI-64 of mac */
};

struct psec_port {
	bool on;
	bool ip_restricted;     /* some entry has an address */
	bool allow_dhcp_server;
	bool allow_ra;
	uint8_t n_entries;      /* >= 1 when on: [0] is the port's own MAC */
	struct psec_entry e[PSEC_ENTRIES_MAX];
};

/* Returned when the rules need more than `have` bytes. */
#define PSEC_MORE DP_DROP_MAX
/* Returned when the frame may go on. */
#define PSEC_PASS (DP_DROP_MAX + 1)

/* The frame's first have bytes of len (have <= len).  PSEC_PASS,
 * PSEC_MORE, or the reason to drop it. */
int psec_check(const struct psec_port *ps, const uint8_t *frame,
	       uint32_t have, uint32_t len);

/* Fills e->ll6 from e->mac. */
void psec_entry_derive(struct psec_entry *e);

struct cfg_port;

/* A port's rules from its config: entry 0 its own MAC with its ip:
 * addresses; an allowed {mac, ip} adds that MAC (or, without a mac, an
 * address of the port's own). */
void psec_build(struct psec_port *ps, const struct cfg_port *pc);

#endif /* VTOE_PSEC_H */
