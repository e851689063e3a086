/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Port security (rules in psec.h).  Every byte read is bounded first by
 * the frame (len: a header cut short is malformed) and then by what the
 * caller has at hand (have: PSEC_MORE).
 */
#include "psec.h"

#include <assert.h>
#include <string.h>

#include "config/cfg.h"

static_assert(CFG_ALLOWED_MAX + 1 <= PSEC_ENTRIES_MAX,
	      "every allowed MAC has an entry");
static_assert(CFG_PORT_IPS_MAX + CFG_ALLOWED_MAX <= PSEC_IP4_MAX &&
	      CFG_PORT_IPS_MAX + CFG_ALLOWED_MAX <= PSEC_IP6_MAX,
	      "every configured address of the port's own MAC fits");

#define ETH_HDR_LEN 14
#define IP6_HDR_END (ETH_HDR_LEN + 40)
#define IP6_EXT_MAX 8           /* extension headers walked before giving up */

#define ETH_P_IPV4 0x0800
#define ETH_P_ARP 0x0806
#define ETH_P_IPV6 0x86dd

#define IPPROTO_V6_HOPOPTS 0
#define IPPROTO_V4_UDP 17
#define IPPROTO_V6_ROUTING 43
#define IPPROTO_V6_FRAGMENT 44
#define IPPROTO_V6_AH 51
#define IPPROTO_V6_ICMP 58
#define IPPROTO_V6_DSTOPTS 60

#define ICMP6_RA 134
#define ICMP6_NS 135
#define ICMP6_NA 136
#define ND_OPT_SLLA 1
#define ND_OPT_TLLA 2

#define DHCP4_SERVER_PORT 67
#define DHCP4_CLIENT_PORT 68
#define DHCP6_SERVER_PORT 547

/* Read n bytes from the start of the frame: refuse if the frame is
 * shorter, ask for more if the caller holds fewer. */
#define NEED(n) do {                                            \
	if ((uint32_t)(n) > len)                                \
		return DP_DROP_HEADER_CUT;                      \
	if ((uint32_t)(n) > have)                               \
		return PSEC_MORE;                               \
} while (0)

static uint16_t
be16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

void
psec_entry_derive(struct psec_entry *e)
{
	static const uint8_t fe80[8] = { 0xfe, 0x80 };

	memcpy(e->ll6, fe80, 8);
	e->ll6[8] = e->mac[0] ^ 0x02;
	e->ll6[9] = e->mac[1];
	e->ll6[10] = e->mac[2];
	e->ll6[11] = 0xff;
	e->ll6[12] = 0xfe;
	e->ll6[13] = e->mac[3];
	e->ll6[14] = e->mac[4];
	e->ll6[15] = e->mac[5];
}

static bool
has_ip4(const struct psec_entry *e, const uint8_t *a)
{
	for (unsigned int i = 0; i < e->n_ip4; i++)
		if (memcmp(e->ip4[i], a, 4) == 0)
			return true;
	return false;
}

static bool
has_ip6(const struct psec_entry *e, const uint8_t *a)
{
	if (memcmp(e->ll6, a, 16) == 0)
		return true;
	for (unsigned int i = 0; i < e->n_ip6; i++)
		if (memcmp(e->ip6[i], a, 16) == 0)
			return true;
	return false;
}

static bool
is_zero(const uint8_t *a, unsigned int n)
{
	for (unsigned int i = 0; i < n; i++)
		if (a[i] != 0)
			return false;
	return true;
}

static int
psec_arp(const struct psec_port *ps, const struct psec_entry *e,
	 const uint8_t *f, uint32_t have, uint32_t len)
{
	NEED(ETH_HDR_LEN + 28);
	/* Ethernet and IPv4 only: hardware type 1, protocol 0x0800. */
	if (be16(f + 14) != 1 || be16(f + 16) != ETH_P_IPV4 ||
	    f[18] != 6 || f[19] != 4)
		return DP_DROP_HEADER_CUT;
	if (memcmp(f + 22, f + 6, 6) != 0)
		return DP_DROP_ARP_SPOOF;
	if (ps->ip_restricted && !is_zero(f + 28, 4) && !has_ip4(e, f + 28))
		return DP_DROP_ARP_SPOOF;
	return PSEC_PASS;
}

static int
psec_ip4(const struct psec_port *ps, const struct psec_entry *e,
	 const uint8_t *f, uint32_t have, uint32_t len)
{
	uint32_t ihl, l4;
	bool first, udp;
	uint16_t sport = 0, dport = 0;

	NEED(ETH_HDR_LEN + 20);
	ihl = (uint32_t)(f[14] & 0x0f) * 4;
	if ((f[14] >> 4) != 4 || ihl < 20)
		return DP_DROP_HEADER_CUT;
	first = (be16(f + 20) & 0x1fff) == 0;
	udp = f[23] == IPPROTO_V4_UDP;
	l4 = ETH_HDR_LEN + ihl;
	if (first && udp) {
		NEED(l4 + 4);
		sport = be16(f + l4);
		dport = be16(f + l4 + 2);
	}
	if (ps->ip_restricted && !has_ip4(e, f + 26) &&
	    !(is_zero(f + 26, 4) && sport == DHCP4_CLIENT_PORT &&
	      dport == DHCP4_SERVER_PORT))
		return DP_DROP_IP_SPOOF;
	if (sport == DHCP4_SERVER_PORT && !ps->allow_dhcp_server)
		return DP_DROP_DHCP_SERVER;
	return PSEC_PASS;
}

/* ND options from off to end: every link-layer address is the sender's. */
static int
psec_nd_opts(const uint8_t *f, uint32_t off, uint32_t end, uint32_t have,
	     uint32_t len)
{
	while (off < end) {
		uint32_t olen;

		NEED(off + 2);
		olen = (uint32_t)f[off + 1] * 8;
		if (olen == 0 || off + olen > end)
			return DP_DROP_HEADER_CUT;
		if (f[off] == ND_OPT_SLLA || f[off] == ND_OPT_TLLA) {
			NEED(off + 8);
			if (memcmp(f + off + 2, f + 6, 6) != 0)
				return DP_DROP_ND_SPOOF;
		}
		off += olen;
	}
	return PSEC_PASS;
}

static int
psec_ip6(const struct psec_port *ps, const struct psec_entry *e,
	 const uint8_t *f, uint32_t have, uint32_t len)
{
	uint32_t off = IP6_HDR_END, end;
	uint8_t nh;
	bool first = true;
	int l4 = -1;

	NEED(IP6_HDR_END);
	if ((f[14] >> 4) != 6)
		return DP_DROP_HEADER_CUT;
	end = IP6_HDR_END + be16(f + 18);
	if (end > len)
		return DP_DROP_HEADER_CUT;
	nh = f[20];
	for (unsigned int i = 0; ; i++) {
		if (nh != IPPROTO_V6_HOPOPTS && nh != IPPROTO_V6_ROUTING &&
		    nh != IPPROTO_V6_DSTOPTS && nh != IPPROTO_V6_AH &&
		    nh != IPPROTO_V6_FRAGMENT) {
			l4 = nh;
			break;
		}
		if (i == IP6_EXT_MAX)
			return DP_DROP_HEADER_CUT;
		NEED(off + 8);
		if (nh == IPPROTO_V6_FRAGMENT) {
			first = (be16(f + off + 2) & 0xfff8) == 0;
			nh = f[off];
			off += 8;
			if (!first)
				break;  /* no upper-layer header here */
			continue;
		}
		nh = f[off];
		off += nh == IPPROTO_V6_AH ? ((uint32_t)f[off + 1] + 2) * 4 :
					     ((uint32_t)f[off + 1] + 1) * 8;
		if (off > end)
			return DP_DROP_HEADER_CUT;
	}
	/* A first fragment carries the whole header chain (RFC 7112). */
	if (first && (l4 == IPPROTO_V6_ICMP || l4 == IPPROTO_V4_UDP))
		NEED(off + 4);
	if (first && off + 4 > end &&
	    (l4 == IPPROTO_V6_ICMP || l4 == IPPROTO_V4_UDP))
		return DP_DROP_HEADER_CUT;

	if (ps->ip_restricted && !has_ip6(e, f + 22) &&
	    !(is_zero(f + 22, 16) && f[38] == 0xff && (f[39] & 0x0f) == 2 &&
	      first && l4 == IPPROTO_V6_ICMP))
		return DP_DROP_IP_SPOOF;
	if (!first)
		return PSEC_PASS;
	if (l4 == IPPROTO_V4_UDP) {
		if (be16(f + off) == DHCP6_SERVER_PORT && !ps->allow_dhcp_server)
			return DP_DROP_DHCP_SERVER;
		return PSEC_PASS;
	}
	if (l4 != IPPROTO_V6_ICMP)
		return PSEC_PASS;
	switch (f[off]) {
	case ICMP6_RA:
		return ps->allow_ra ? PSEC_PASS : DP_DROP_ROUTER_ADVERT;
	case ICMP6_NA:
		NEED(off + 24);
		if (off + 24 > end)
			return DP_DROP_HEADER_CUT;
		if (ps->ip_restricted && !has_ip6(e, f + off + 8))
			return DP_DROP_ND_SPOOF;
		return psec_nd_opts(f, off + 24, end, have, len);
	case ICMP6_NS:
		NEED(off + 24);
		if (off + 24 > end)
			return DP_DROP_HEADER_CUT;
		return psec_nd_opts(f, off + 24, end, have, len);
	default:
		return PSEC_PASS;
	}
}

int
psec_check(const struct psec_port *ps, const uint8_t *f, uint32_t have,
	   uint32_t len)
{
	const struct psec_entry *e = NULL;

	if (!ps->on)
		return PSEC_PASS;
	if (len < ETH_HDR_LEN)
		return DP_DROP_RUNT;
	if (have < ETH_HDR_LEN)
		return PSEC_MORE;
	for (unsigned int i = 0; i < ps->n_entries; i++)
		if (memcmp(f + 6, ps->e[i].mac, 6) == 0) {
			e = &ps->e[i];
			break;
		}
	if (e == NULL)
		return DP_DROP_SRC_MAC_MISMATCH;
	switch (be16(f + 12)) {
	case ETH_P_ARP:
		return psec_arp(ps, e, f, have, len);
	case ETH_P_IPV4:
		return psec_ip4(ps, e, f, have, len);
	case ETH_P_IPV6:
		return psec_ip6(ps, e, f, have, len);
	default:
		return PSEC_PASS;
	}
}

static struct psec_entry *
psec_entry_of(struct psec_port *ps, const uint8_t mac[6])
{
	for (unsigned int i = 0; i < ps->n_entries; i++)
		if (memcmp(ps->e[i].mac, mac, 6) == 0)
			return &ps->e[i];
	if (ps->n_entries == PSEC_ENTRIES_MAX)
		return NULL;
	memcpy(ps->e[ps->n_entries].mac, mac, 6);
	psec_entry_derive(&ps->e[ps->n_entries]);
	return &ps->e[ps->n_entries++];
}

static void
psec_entry_add_ip(struct psec_port *ps, struct psec_entry *e,
		  const struct cfg_ip *ip)
{
	if (ip->family == 4 && e->n_ip4 < PSEC_IP4_MAX)
		memcpy(e->ip4[e->n_ip4++], ip->addr, 4);
	else if (ip->family == 6 && e->n_ip6 < PSEC_IP6_MAX)
		memcpy(e->ip6[e->n_ip6++], ip->addr, 16);
	else
		return;
	ps->ip_restricted = true;
}

void
psec_build(struct psec_port *ps, const struct cfg_port *pc)
{
	struct psec_entry *own;

	memset(ps, 0, sizeof(*ps));
	ps->on = pc->port_security;
	ps->allow_dhcp_server = pc->allow_dhcp_server;
	ps->allow_ra = pc->allow_ra;
	own = psec_entry_of(ps, pc->mac);
	for (unsigned int i = 0; i < pc->n_ips; i++)
		psec_entry_add_ip(ps, own, &pc->ips[i]);
	for (unsigned int i = 0; i < pc->n_allowed; i++) {
		const struct cfg_allowed *a = &pc->allowed[i];
		struct psec_entry *e = a->has_mac ? psec_entry_of(ps, a->mac) : own;

		if (e != NULL && a->has_ip)
			psec_entry_add_ip(ps, e, &a->ip);
	}
}
