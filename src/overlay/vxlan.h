/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * vxlan: the overlay's wire formats (RFC 7348 over IPv4, and ARP for the
 * tunnel endpoints' neighbours) as pure functions of bytes.  No DPDK
 * types: the worker (dataplane/dp_overlay.c) calls them on mbuf data, the
 * unit tests on buffers.  Everything from the wire is hostile: every
 * length is checked before it is read, and every frame that is refused is
 * refused under a named reason.
 */
#ifndef VTOE_VXLAN_H
#define VTOE_VXLAN_H

#include <stdbool.h>
#include <stdint.h>

#define VXLAN_OUTER_LEN 50      /* Ethernet 14 + IPv4 20 + UDP 8 + VXLAN 8 */
#define VXLAN_IP_OVER 36        /* what the tunnel adds to an IP datagram */
#define VXLAN_PORT_DEFAULT 4789
#define VXLAN_VNI_MAX 0xffffffu
#define VXLAN_TTL 64
#define VXLAN_ARP_LEN 42        /* an ARP frame without padding */

/*
 * Why a frame addressed to this tunnel endpoint is refused, declared once:
 * X(symbol, "name", "what happened").
 */
#define VXLAN_DROPS(X) \
	X(OUTER_TRUNC,     "outer_trunc",     "outer IPv4/UDP/VXLAN headers cut short, or lengths that do not add up") \
	X(OUTER_CSUM,      "outer_csum",      "outer IPv4 header checksum wrong") \
	X(OUTER_FRAGMENT,  "outer_fragment",  "outer IPv4 datagram is a fragment (a VTEP never fragments)") \
	X(OUTER_OPTIONS,   "outer_options",   "outer IPv4 header with options") \
	X(VXLAN_FLAGS,     "vxlan_flags",     "VXLAN header without the I flag (no valid VNI)") \
	X(INNER_RUNT,      "inner_runt",      "inner frame shorter than an Ethernet header") \
	X(INNER_VLAN,      "inner_vlan",      "inner frame VLAN-tagged: the VNI is the network") \
	X(INNER_SRC,       "inner_src",       "inner source MAC multicast or zero")

enum vxlan_drop {
#define VXLAN_DROP_ENUM(sym, name, help) VXLAN_DROP_##sym,
	VXLAN_DROPS(VXLAN_DROP_ENUM)
#undef VXLAN_DROP_ENUM
	VXLAN_DROP_MAX
};

const char *vxlan_drop_name(enum vxlan_drop d);
const char *vxlan_drop_help(enum vxlan_drop d);

/* One tunnel: where the encapsulated frame goes. */
struct vxlan_tun {
	uint8_t src_mac[6];     /* the uplink's MAC */
	uint8_t dst_mac[6];     /* the next hop toward dst_ip (ARP) */
	uint8_t src_ip[4];      /* local VTEP */
	uint8_t dst_ip[4];      /* remote VTEP */
	uint16_t dst_port;      /* UDP, host order */
	uint32_t vni;
};

/*
 * The UDP source port for an inner frame (RFC 7348 5: a hash of the inner
 * headers, in 49152..65535), so that ECMP and RSS on the way keep a flow
 * on one path and spread flows.  Reads at most len bytes of inner.
 */
uint16_t vxlan_src_port(const uint8_t *inner, uint32_t len);

/*
 * Write the VXLAN_OUTER_LEN bytes of outer headers for an inner frame of
 * inner_len bytes (the whole frame, all segments) into out, IPv4 checksum
 * computed, UDP checksum 0 (RFC 7348 allows it over IPv4).  src_port from
 * vxlan_src_port().  -EMSGSIZE when the datagram would exceed 65535 bytes,
 * -EINVAL for a VNI above VXLAN_VNI_MAX.
 */
int vxlan_encap(uint8_t out[VXLAN_OUTER_LEN], const struct vxlan_tun *t,
		uint16_t src_port, uint32_t inner_len);

/* What the receive side found. */
enum vxlan_rx_kind {
	VXLAN_RX_NOT_MINE,      /* not VXLAN to (local_ip, port): the switch's */
	VXLAN_RX_OK,            /* decapsulate: rx filled */
	VXLAN_RX_DROP,          /* addressed to the VTEP but refused: *drop set */
};

struct vxlan_rx {
	uint32_t vni;
	uint8_t src_ip[4];      /* the remote VTEP */
	uint16_t inner_off;     /* the inner frame starts here */
	uint32_t inner_len;     /* and has this many bytes (outer padding cut) */
};

/*
 * Classify a frame from the overlay uplink (untagged).  frame points at
 * avail contiguous bytes of a frame of total bytes (avail <= total; at
 * least the outer headers and the inner Ethernet header must be
 * contiguous or it is OUTER_TRUNC/INNER_RUNT).  NOT_MINE: shorter than
 * Ethernet + IPv4 headers, not IPv4, not to local_ip, not UDP, or a UDP
 * destination port that can be read and is not port (host order).  A UDP
 * datagram to local_ip whose port cannot be read (a non-first fragment,
 * IHL < 5, cut short) is ours and refused.  Checks every outer length
 * against total (bytes after the IPv4 datagram are padding; the inner
 * frame ends where the UDP length says), the outer checksum, fragments,
 * options, the VXLAN flags, and the inner Ethernet header (size, VLAN
 * tag, source MAC).  rx is written only for OK, *drop only for DROP.
 */
enum vxlan_rx_kind vxlan_decap(const uint8_t *frame, uint32_t avail,
			       uint32_t total, const uint8_t local_ip[4],
			       uint16_t port, struct vxlan_rx *rx,
			       enum vxlan_drop *drop);

/* ARP (Ethernet/IPv4) as the tunnel endpoint speaks it on the uplink. */
struct vxlan_arp {
	uint16_t op;            /* 1 request, 2 reply */
	uint8_t sha[6], spa[4], tha[6], tpa[4];
};

/* An ARP frame (untagged): true and *a filled when it is a well-formed
 * Ethernet/IPv4 ARP request or reply, false otherwise (not ARP, cut short,
 * other hardware/protocol types, group sender MAC). */
bool vxlan_arp_parse(const uint8_t *frame, uint32_t len, struct vxlan_arp *a);

/* Write an ARP frame of VXLAN_ARP_LEN bytes: Ethernet from src_mac to
 * dst_mac (ff:.. for a request), then *a. */
void vxlan_arp_build(uint8_t out[VXLAN_ARP_LEN], const uint8_t dst_mac[6],
		     const uint8_t src_mac[6], const struct vxlan_arp *a);

#endif /* VTOE_VXLAN_H */
