/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * toe_ep: layer 2 of the software TOE, the endpoint of one VM port.  What
 * a cloud VM needs from its host's network before anything else: its
 * address by DHCP, its gateway and the instance metadata address answered
 * locally (ARP, IPv6 neighbour discovery, ICMP/ICMPv6 echo), and a prompt
 * refusal (TCP RST) rather than silence on what is not served yet.
 *
 * A pure function of the port's endpoint config and the frame: bytes in,
 * at most one reply frame out, the clock passed in; no DPDK types.  The
 * worker that polls a port's queue asks toe_ep_classify on the headers of
 * every frame from that port (the direct path on its peek), and hands the
 * frames it claims to toe_ep_input whole.  Every frame toe_ep_input takes
 * is answered or counted under a reason of TOE_EP_DROPS.
 *
 * Addresses the endpoint answers for, with the MAC toe_ep_vmac:
 *  - the port's gateway (IPv4), when it has one;
 *  - with metadata on, 169.254.169.254 and, in IPv6, fe80::a9fe:a9fe and
 *    fd00:ec2::254 (the EC2 instance metadata addresses).
 * A frame sent to toe_ep_vmac for any other address is dropped
 * (not_routed): vtoe does not route between networks.
 *
 * DHCPv4 server (RFC 2131, options RFC 2132): the port's first IPv4
 * address is the one address it leases, to the port's own MAC only.
 * DISCOVER -> OFFER, REQUEST -> ACK or NAK, INFORM -> ACK without a
 * lease, RELEASE and DECLINE recorded; replies carry the subnet mask,
 * router, DNS servers, host name, interface MTU, lease time with T1/T2,
 * and classless static routes (RFC 3442: the metadata address, and the
 * default route, which RFC 3442 clients take from there instead of the
 * router option).  The server identifier is the gateway, or without one
 * 169.254.169.254, reached on-link by the classless route.
 *
 * One endpoint is state for one port on one worker (its lease record and
 * counters): a port polled by several workers has one per worker, and
 * the views show the latest lease.  The lease record is read by the
 * management thread through a sequence count (toe_ep_lease_read).
 */
#ifndef VTOE_TOE_EP_H
#define VTOE_TOE_EP_H

#include <stdbool.h>
#include <stdint.h>

#include "toe_tcp.h"

/* The frames the endpoint replies with at most (and takes, but for TCP
 * segments: up to TOE_EP_IN_MAX, a guest's super-frame). */
#define TOE_EP_FRAME_MAX 1518
#define TOE_EP_IN_MAX (14 + 65535)
/* The MTU DHCP hands out by default: what the uplinks carry (an overlay
 * network's ports get less: the tunnel's headers). */
#define TOE_EP_MTU 1500
#define TOE_EP_LEASE_S 86400u
#define TOE_EP_DNS_MAX 4
/* IPv4 reassembly: datagrams in progress at once, their time to live,
 * the pieces held apart (RFC 791, RFC 815). */
#define TOE_EP_FRAG_SLOTS 4
#define TOE_EP_FRAG_TIMEOUT_MS 30000
#define TOE_EP_FRAG_RANGES 32
#define TOE_EP_FRAG_MAX 65535           /* bytes of a datagram's payload */
#define TOE_EP_HOSTNAME_MAX 64

/* The endpoint's MAC: locally administered, 169.254.169.254 in it. */
extern const uint8_t toe_ep_vmac[6];
extern const uint8_t toe_ep_md_ip4[4];          /* 169.254.169.254 */
extern const uint8_t toe_ep_md_ll6[16];         /* fe80::a9fe:a9fe */
extern const uint8_t toe_ep_md_ula6[16];        /* fd00:ec2::254 */

struct toe_ep_conf {
	uint8_t mac[6];                 /* the guest's (the port's) */
	uint8_t ip4[4];                 /* the address DHCP leases */
	uint8_t prefix4;
	bool has_gw;
	uint8_t gw4[4];
	uint8_t n_dns;
	uint8_t dns4[TOE_EP_DNS_MAX][4];
	bool dhcp;                      /* serve DHCPv4 */
	bool metadata;                  /* answer for the metadata addresses */
	uint8_t tcp_cc;                 /* enum toe_cc_algo of its connections */
	char hostname[TOE_EP_HOSTNAME_MAX];
	uint16_t mtu;                   /* the guest's (DHCP, fragments);
					 * 0: TOE_EP_MTU */
};

/*
 * Why the endpoint dropped a frame it took, declared once:
 * X(symbol, "name shown by vtoectl and telemetry", "what happened").
 */
#define TOE_EP_DROPS(X) \
	X(TRUNCATED,        "truncated",        "headers cut short by the frame's end") \
	X(TOO_BIG,          "too_big",          "larger than the endpoint reads (1518 bytes): an IPv4 fragment or super-frame to it") \
	X(NOT_ROUTED,       "not_routed",       "sent to the endpoint's MAC for an address it is not: vtoe does not route") \
	X(IP_HEADER,        "ip_header",        "IPv4 header invalid: version, lengths or checksum") \
	X(IP_FRAG_LIMIT,    "ip_frag_limit",    "IPv4 fragment of a datagram beyond TOE_EP_FRAG_SLOTS in reassembly, or of more pieces than it holds") \
	X(IP_FRAG_BAD,      "ip_frag_bad",      "IPv4 fragment that overlaps another, ends past 65,535 bytes, or is not a multiple of 8 bytes before the last: its datagram is dropped") \
	X(IP6_HEADER,       "ip6_header",       "IPv6 header invalid, or extension headers before the upper layer") \
	X(PROTO,            "proto",            "IP protocol the endpoint does not serve") \
	X(ICMP_BAD,         "icmp_bad",         "ICMP or ICMPv6 message cut short or with a bad checksum") \
	X(ICMP_TYPE,        "icmp_type",        "ICMP or ICMPv6 type the endpoint does not answer") \
	X(ND_BAD,           "nd_bad",           "neighbour solicitation invalid (RFC 4861 7.1.1: hop limit, code, target, options)") \
	X(UDP_BAD,          "udp_bad",          "UDP datagram cut short or with a bad checksum") \
	X(UDP_PORT,         "udp_port",         "UDP to the endpoint on a port it serves nothing on") \
	X(TCP_BAD,          "tcp_bad",          "TCP segment cut short or with a bad checksum") \
	X(TCP_RST,          "tcp_rst",          "TCP RST for no connection of the endpoint: ignored (RFC 9293 3.10.7.1)") \
	X(TCP_DUPLICATE,    "tcp_duplicate",    "TCP segment wholly below the receive window (a retransmission of what arrived): acknowledged") \
	X(TCP_OUT_OF_WINDOW, "tcp_out_of_window", "TCP segment (or its tail) outside the receive window: acknowledged") \
	X(TCP_PAWS,         "tcp_paws",         "TCP segment with an older timestamp (RFC 7323 5: PAWS): acknowledged") \
	X(TCP_RST_CHALLENGED, "tcp_rst_challenged", "RST in the window but not at its edge (RFC 5961 3): challenge ACK") \
	X(TCP_SYN_CHALLENGED, "tcp_syn_challenged", "SYN on a synchronized connection (RFC 5961 4): challenge ACK") \
	X(TCP_ACK_INVALID,  "tcp_ack_invalid",  "ACK of what was never sent or long acknowledged (RFC 5961 5): challenge ACK or RST") \
	X(TCP_NO_ACK,       "tcp_no_ack",       "TCP segment without ACK (nor SYN) where one is required") \
	X(TCP_BAD_COOKIE,   "tcp_bad_cookie",   "ACK to a listener that is no SYN cookie of ours: RST") \
	X(TCP_NO_MEMORY,    "tcp_no_memory",    "no room for another connection (connections or buffer memory of the endpoint): refused") \
	X(DHCP_MALFORMED,   "dhcp_malformed",   "DHCP message malformed: fixed part cut, no magic cookie, option past the end, no message type") \
	X(DHCP_CLIENT,      "dhcp_client",      "DHCP request for a hardware address that is not the port's") \
	X(DHCP_RELAYED,     "dhcp_relayed",     "DHCP message through a relay agent (giaddr set): not served on a VM port") \
	X(DHCP_OTHER_SERVER, "dhcp_other_server", "DHCPREQUEST that selects another server's offer") \
	X(DHCP_TYPE,        "dhcp_type",        "DHCP message type a server does not answer (OFFER, ACK, NAK, unknown)")

enum toe_ep_drop {
#define TOE_EP_DROP_ENUM(sym, name, help) TOE_EP_DROP_##sym,
	TOE_EP_DROPS(TOE_EP_DROP_ENUM)
#undef TOE_EP_DROP_ENUM
	TOE_EP_DROP_MAX
};

/* What the endpoint answered, declared once: X(field, "name", "help"). */
#define TOE_EP_COUNTERS(X) \
	X(taken,          "taken",          "frames from the guest the endpoint took") \
	X(replies,        "replies",        "frames the endpoint sent the guest") \
	X(arp_replies,    "arp_replies",    "ARP requests answered") \
	X(arp_suppressed, "arp_suppressed", "ARP requests for another VM port of the network answered with its MAC, not flooded") \
	X(nd_adverts,     "nd_adverts",     "neighbour solicitations answered") \
	X(echo_replies,   "echo_replies",   "ICMP and ICMPv6 echo requests answered") \
	X(ip_frags,       "ip_frags",       "IPv4 fragments taken into reassembly") \
	X(ip_reassembled, "ip_reassembled", "IPv4 datagrams reassembled (then answered or dropped as any)") \
	X(ip_frag_timeouts, "ip_frag_timeouts", "IPv4 datagrams whose fragments did not all come in TOE_EP_FRAG_TIMEOUT_MS: dropped") \
	X(ip_frags_out,   "ip_frags_out",   "IPv4 fragments sent (echo replies larger than the MTU)") \
	X(icmp_errors,    "icmp_errors",    "ICMP/ICMPv6 errors from the guest about what the endpoint sent (unreachable, time exceeded, parameter problem)") \
	X(tcp_resets,     "tcp_resets",     "TCP segments answered with RST: no service on that port, or refused") \
	X(tcp_passive_opens, "tcp_passive_opens", "TCP connections accepted") \
	X(tcp_active_opens, "tcp_active_opens", "TCP connections the endpoint opened") \
	X(tcp_segs_in,    "tcp_segs_in",    "TCP segments taken in (the others are under a drop reason)") \
	X(tcp_segs_out,   "tcp_segs_out",   "TCP segments (or super-frames) sent") \
	X(tcp_bytes_in,   "tcp_bytes_in",   "TCP payload bytes received in window") \
	X(tcp_bytes_out,  "tcp_bytes_out",  "TCP payload bytes the services queued") \
	X(tcp_retransmits, "tcp_retransmits", "TCP segments sent again") \
	X(tcp_rto_timeouts, "tcp_rto_timeouts", "retransmission timeouts") \
	X(tcp_fast_recoveries, "tcp_fast_recoveries", "fast retransmits (SACK or NewReno recovery)") \
	X(tcp_ooo_segs,   "tcp_ooo_segs",   "TCP segments received out of order (held, SACKed)") \
	X(tcp_syncookies_sent, "tcp_syncookies_sent", "SYNs answered with a SYN cookie (backlog full)") \
	X(tcp_syncookies_ok, "tcp_syncookies_ok", "connections made from a returned SYN cookie") \
	X(tcp_challenge_acks, "tcp_challenge_acks", "challenge ACKs sent (RFC 5961)") \
	X(tcp_resets_in,  "tcp_resets_in",  "connections reset by the guest") \
	X(tcp_timeouts,   "tcp_timeouts",   "connections dropped: retransmissions or keepalives unanswered") \
	X(tcp_tw_recycled, "tcp_tw_recycled", "TIME_WAIT connections ended early: too many") \
	X(dhcp_offers,    "dhcp_offers",    "DHCPDISCOVER answered with an OFFER") \
	X(dhcp_acks,      "dhcp_acks",      "DHCPREQUEST and DHCPINFORM answered with an ACK") \
	X(dhcp_naks,      "dhcp_naks",      "DHCPREQUEST for another address answered with a NAK") \
	X(dhcp_releases,  "dhcp_releases",  "DHCPRELEASE received") \
	X(dhcp_declines,  "dhcp_declines",  "DHCPDECLINE received: the guest found its address in use")

struct toe_ep_stats {
#define TOE_EP_COUNTER_FIELD(f, name, help) uint64_t f;
	TOE_EP_COUNTERS(TOE_EP_COUNTER_FIELD)
#undef TOE_EP_COUNTER_FIELD
	uint64_t drops[TOE_EP_DROP_MAX];
};

#define TOE_EP_LEASE_STATES(X) \
	X(NONE, "none") \
	X(OFFERED, "offered") \
	X(BOUND, "bound") \
	X(RELEASED, "released") \
	X(DECLINED, "declined")

enum toe_ep_lease_state {
#define TOE_EP_LS_ENUM(sym, name) TOE_EP_LEASE_##sym,
	TOE_EP_LEASE_STATES(TOE_EP_LS_ENUM)
#undef TOE_EP_LS_ENUM
	TOE_EP_LEASE_STATE_MAX
};

struct toe_ep_lease {
	uint8_t state;                  /* enum toe_ep_lease_state */
	uint8_t ip[4];
	uint32_t xid;                   /* of the last message */
	uint64_t changed_ms;            /* clock of the last change */
	uint64_t expires_ms;            /* BOUND: changed_ms + lease */
};

/* A datagram in reassembly. */
struct toe_ep_frag {
	struct toe_ep *ep;
	bool used;
	uint8_t src[4], dst[4], proto;
	uint16_t id;
	uint32_t total;                 /* payload bytes once the last came; 0 */
	uint8_t n;                      /* ranges held */
	struct { uint32_t start, end; } r[TOE_EP_FRAG_RANGES];
	uint8_t *buf;                   /* Ethernet, IPv4 (20), payload */
	struct toe_timer timer;
};

struct toe_ep {
	const struct toe_ep_conf *conf;
	struct toe_ep_stats stats;      /* owner writes, readers load relaxed */
	uint32_t lease_seq;             /* odd while the owner writes lease */
	struct toe_ep_lease lease;
	toe_emit_fn *emit;              /* every frame the endpoint sends */
	void *emit_arg;
	struct toe_wheel wheel;         /* its timers */
	struct toe_ep_frag frags[TOE_EP_FRAG_SLOTS];
	uint16_t ip_id;                 /* of the datagrams it fragments */
	uint64_t snap_ms;               /* of the views' last copy */
	bool snap_quiet;                /* ... taken with no timer armed */
	struct toe_tcp tcp;
};

enum toe_ep_claim {
	TOE_EP_NOT_MINE,        /* forward as any frame */
	TOE_EP_MINE,            /* give it to toe_ep_input */
	TOE_EP_MAYBE,           /* the headers needed are past have bytes */
};

/* Does the frame, of which have bytes of len are at f, go to the
 * endpoint?  Reads the headers only. */
enum toe_ep_claim toe_ep_classify(const struct toe_ep_conf *c,
				  const uint8_t *f, uint32_t have,
				  uint32_t len);

/* key: 16 secret bytes (ISNs, SYN cookies); emit: where its frames go;
 * now_ms: the clock of its timers (toe_wheel_run(&ep->wheel, now_ms)). */
void toe_ep_init(struct toe_ep *ep, const struct toe_ep_conf *conf,
		 const uint8_t key[16], toe_emit_fn *emit, void *emit_arg,
		 uint64_t now_ms);
/* Every connection and listener freed, nothing sent. */
void toe_ep_fini(struct toe_ep *ep);

/*
 * Take a frame the endpoint claimed: len bytes at f, or when len is over
 * TOE_EP_IN_MAX its first TOE_EP_IN_MAX (dropped: too_big).  Returns
 * false when it is not the endpoint's after all (forward it), true when
 * taken: answered through emit, or counted under a drop reason, or a
 * message that needs no answer.  l4_ok: the TCP/UDP checksum need not be
 * checked (the guest left it to the host).  now_ms: any monotonic clock,
 * the wheel's.
 */
bool toe_ep_input(struct toe_ep *ep, const uint8_t *f, uint32_t len,
		  bool l4_ok, uint64_t now_ms);

/*
 * ARP suppression: a request (len bytes at f, broadcast) for the address
 * of another VM port of the network, answered with that port's MAC
 * instead of flooded.  true when f is such a request and was answered
 * (counted arp_suppressed); the caller found the MAC.  is_request tells
 * the caller whether to look: the target address, or NULL.
 */
const uint8_t *toe_ep_arp_target(const uint8_t *f, uint32_t len);
bool toe_ep_arp_proxy(struct toe_ep *ep, const uint8_t *f, uint32_t len,
		      const uint8_t mac[6]);

/* A consistent copy of the lease, from any thread. */
void toe_ep_lease_read(const struct toe_ep *ep, struct toe_ep_lease *out);

const char *toe_ep_drop_name(enum toe_ep_drop d);
const char *toe_ep_drop_help(enum toe_ep_drop d);
const char *toe_ep_lease_state_name(unsigned int s);

/* The counters as a table, for the views. */
struct toe_ep_counter {
	const char *name;
	const char *help;
	unsigned int off;               /* in struct toe_ep_stats */
};
extern const struct toe_ep_counter toe_ep_counters[];
extern const unsigned int toe_ep_n_counters;

#endif /* VTOE_TOE_EP_H */
