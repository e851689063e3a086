/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The port endpoint of the TOE (toe_ep.h): classification, ARP, IPv4,
 * ICMP, IPv6 neighbour discovery and echo, the closed-port TCP answer and
 * the DHCPv4 server.  Every read of the frame is bounded by its length.
 */
#include "toe_ep.h"
#include "toe_bytes.h"

#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#define ETH_LEN 14
#define ETH_ARP 0x0806
#define ETH_IP4 0x0800
#define ETH_IP6 0x86dd
#define ARP_LEN 28
#define IP4_LEN 20
#define IP6_LEN 40
#define UDP_LEN 8
#define TCP_LEN 20
#define PROTO_ICMP 1
#define PROTO_TCP 6
#define PROTO_UDP 17
#define PROTO_ICMP6 58
#define ICMP_ECHO_REPLY 0
#define ICMP_ECHO 8
#define ICMP6_ECHO 128
#define ICMP6_ECHO_REPLY 129
#define ND_NS 135
#define ND_NA 136
#define ND_OPT_TLLA 2
#define TCP_FIN 0x01
#define TCP_SYN 0x02
#define TCP_RST 0x04
#define TCP_ACK 0x10
#define DHCP_SERVER_PORT 67
#define DHCP_CLIENT_PORT 68
#define BOOTP_LEN 236                   /* the fixed part, RFC 2131 2 */
#define BOOTP_MIN 300                   /* RFC 1542 3.2: pad to it */
#define DHCP_COOKIE 0x63825363u
#define MIN_FRAME 60

/* RFC 2132 option codes and RFC 2131 message types. */
enum {
	OPT_PAD = 0, OPT_MASK = 1, OPT_ROUTER = 3, OPT_DNS = 6,
	OPT_HOSTNAME = 12, OPT_MTU = 26, OPT_BROADCAST = 28,
	OPT_REQ_IP = 50, OPT_LEASE = 51, OPT_OVERLOAD = 52, OPT_MSG_TYPE = 53,
	OPT_SERVER_ID = 54, OPT_T1 = 58, OPT_T2 = 59,
	OPT_CLASSLESS = 121, OPT_END = 255,
};
enum {
	DHCPDISCOVER = 1, DHCPOFFER, DHCPREQUEST, DHCPDECLINE, DHCPACK,
	DHCPNAK, DHCPRELEASE, DHCPINFORM,
};

const uint8_t toe_ep_vmac[6] = { 0x02, 0x00, 0xa9, 0xfe, 0xa9, 0xfe };
const uint8_t toe_ep_md_ip4[4] = { 169, 254, 169, 254 };
const uint8_t toe_ep_md_ll6[16] = { 0xfe, 0x80, [12] = 0xa9, 0xfe, 0xa9, 0xfe };
const uint8_t toe_ep_md_ula6[16] = { 0xfd, 0x00, 0x0e, 0xc2, [14] = 0x02, 0x54 };
static const uint8_t bcast_mac[6] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };
static const uint8_t zero4[4];

static const char *const drop_names[] = {
#define X_(sym, name, help) name,
	TOE_EP_DROPS(X_)
#undef X_
};
static const char *const drop_helps[] = {
#define X_(sym, name, help) help,
	TOE_EP_DROPS(X_)
#undef X_
};
static const char *const lease_names[] = {
#define X_(sym, name) name,
	TOE_EP_LEASE_STATES(X_)
#undef X_
};

const struct toe_ep_counter toe_ep_counters[] = {
#define X_(f, name, help) { name, help, offsetof(struct toe_ep_stats, f) },
	TOE_EP_COUNTERS(X_)
#undef X_
};
const unsigned int toe_ep_n_counters =
	sizeof(toe_ep_counters) / sizeof(toe_ep_counters[0]);

const char *
toe_ep_drop_name(enum toe_ep_drop d)
{
	return (unsigned int)d < TOE_EP_DROP_MAX ? drop_names[d] : NULL;
}

const char *
toe_ep_drop_help(enum toe_ep_drop d)
{
	return (unsigned int)d < TOE_EP_DROP_MAX ? drop_helps[d] : NULL;
}

const char *
toe_ep_lease_state_name(unsigned int s)
{
	return s < TOE_EP_LEASE_STATE_MAX ? lease_names[s] : "?";
}

/* The pseudo header of an upper-layer message of len bytes. */
static uint32_t
pseudo4(const uint8_t *ip, uint8_t proto, uint32_t len)
{
	return sum16(ip + 12, 8, proto + len);
}

static uint32_t
pseudo6(const uint8_t *ip6, uint8_t proto, uint32_t len)
{
	return sum16(ip6 + 8, 32, proto + (len >> 16) + (len & 0xffff));
}

/* ------------------------------------------------------------------ */
/* Which addresses are the endpoint's                                  */

/* The gateway; the metadata address with metadata on, or as the DHCP
 * server's identifier when there is no gateway. */
static bool
is_mine4(const struct toe_ep_conf *c, const uint8_t *a)
{
	return (c->has_gw && memcmp(a, c->gw4, 4) == 0) ||
	       ((c->metadata || (c->dhcp && !c->has_gw)) &&
		memcmp(a, toe_ep_md_ip4, 4) == 0);
}

static bool
is_mine6(const struct toe_ep_conf *c, const uint8_t *a)
{
	return c->metadata && (memcmp(a, toe_ep_md_ll6, 16) == 0 ||
			       memcmp(a, toe_ep_md_ula6, 16) == 0);
}

/* ff02::1:ffXX:XXXX of one of the endpoint's IPv6 addresses. */
static bool
is_solicited_mine6(const struct toe_ep_conf *c, const uint8_t *a)
{
	static const uint8_t prefix[13] = { 0xff, 0x02, [11] = 0x01, 0xff };

	if (!c->metadata || memcmp(a, prefix, 13) != 0)
		return false;
	return memcmp(a + 13, toe_ep_md_ll6 + 13, 3) == 0 ||
	       memcmp(a + 13, toe_ep_md_ula6 + 13, 3) == 0;
}

enum toe_ep_claim
toe_ep_classify(const struct toe_ep_conf *c, const uint8_t *f, uint32_t have,
		uint32_t len)
{
	uint16_t type;
	uint32_t ihl;

	if (have > len)
		have = len;
	if (have < ETH_LEN)
		return len < ETH_LEN ? TOE_EP_NOT_MINE : TOE_EP_MAYBE;
	if (memcmp(f, toe_ep_vmac, 6) == 0)
		return TOE_EP_MINE;
	type = rd16(f + 12);
	switch (type) {
	case ETH_ARP:
		/* Requests for one of its addresses (replies and gratuitous
		 * announcements are the network's). */
		if (len < ETH_LEN + ARP_LEN)
			return TOE_EP_NOT_MINE;
		if (have < ETH_LEN + ARP_LEN)
			return TOE_EP_MAYBE;
		return rd16(f + 20) == 1 && is_mine4(c, f + 38) ?
		       TOE_EP_MINE : TOE_EP_NOT_MINE;
	case ETH_IP4:
		if (len < ETH_LEN + IP4_LEN)
			return TOE_EP_NOT_MINE;
		if (have < ETH_LEN + IP4_LEN)
			return TOE_EP_MAYBE;
		if (is_mine4(c, f + 30))
			return TOE_EP_MINE;
		/* DHCP from a client: broadcast, or to its server. */
		if (!c->dhcp || f[23] != PROTO_UDP ||
		    memcmp(f + 30, bcast_mac, 4) != 0)
			return TOE_EP_NOT_MINE;
		ihl = (uint32_t)(f[14] & 0xf) * 4;
		if (len < ETH_LEN + ihl + UDP_LEN)
			return TOE_EP_NOT_MINE;
		if (have < ETH_LEN + ihl + UDP_LEN)
			return TOE_EP_MAYBE;
		return rd16(f + ETH_LEN + ihl + 2) == DHCP_SERVER_PORT ?
		       TOE_EP_MINE : TOE_EP_NOT_MINE;
	case ETH_IP6:
		if (len < ETH_LEN + IP6_LEN)
			return TOE_EP_NOT_MINE;
		if (have < ETH_LEN + IP6_LEN)
			return TOE_EP_MAYBE;
		if (is_mine6(c, f + 38))
			return TOE_EP_MINE;
		if (!is_solicited_mine6(c, f + 38) || f[20] != PROTO_ICMP6)
			return TOE_EP_NOT_MINE;
		/* A solicitation for one of its addresses; the group is
		 * shared with any address ending the same. */
		if (len < ETH_LEN + IP6_LEN + 24)
			return TOE_EP_NOT_MINE;
		if (have < ETH_LEN + IP6_LEN + 24)
			return TOE_EP_MAYBE;
		return f[54] == ND_NS && is_mine6(c, f + 62) ?
		       TOE_EP_MINE : TOE_EP_NOT_MINE;
	default:
		return TOE_EP_NOT_MINE;
	}
}

void
toe_ep_init(struct toe_ep *ep, const struct toe_ep_conf *conf,
	    const uint8_t key[16], toe_emit_fn *emit, void *emit_arg,
	    uint64_t now_ms)
{
	memset(ep, 0, sizeof(*ep));
	ep->conf = conf;
	ep->emit = emit;
	ep->emit_arg = emit_arg;
	toe_wheel_init(&ep->wheel, now_ms);
	toe_tcp_init(&ep->tcp, ep, &ep->wheel, key);
}

static void frag_free(struct toe_ep_frag *d);

void
toe_ep_fini(struct toe_ep *ep)
{
	for (int i = 0; i < TOE_EP_FRAG_SLOTS; i++)
		if (ep->frags[i].used)
			frag_free(&ep->frags[i]);
	toe_tcp_fini(&ep->tcp);
}

/* ------------------------------------------------------------------ */
/* Replies                                                             */

struct ep_in {
	struct toe_ep *ep;
	const struct toe_ep_conf *c;
	const uint8_t *f;
	uint32_t len;
	uint8_t *out;                   /* TOE_EP_FRAME_MAX for a reply */
	bool l4_ok;
	uint64_t now_ms;
};

static bool
drop(struct ep_in *in, enum toe_ep_drop why)
{
	in->ep->stats.drops[why]++;
	return true;
}

/* A reply of len bytes is in out: padded to the minimum frame, sent. */
static bool
reply(struct ep_in *in, uint32_t len)
{
	struct toe_emit e = { .hdr = in->out, .l2_len = ETH_LEN };

	if (len < MIN_FRAME) {
		memset(in->out + len, 0, MIN_FRAME - len);
		len = MIN_FRAME;
	}
	e.hdr_len = len;
	in->ep->stats.replies++;
	in->ep->emit(in->ep->emit_arg, &e);
	return true;
}

static void
eth_hdr(uint8_t *o, const uint8_t *dst, uint16_t type)
{
	memcpy(o, dst, 6);
	memcpy(o + 6, toe_ep_vmac, 6);
	wr16(o + 12, type);
}

/* An IPv4 header of total length tot from src to dst, checksummed. */
static void
ip4_hdr(uint8_t *ip, const uint8_t *src, const uint8_t *dst, uint8_t proto,
	uint32_t tot)
{
	memset(ip, 0, IP4_LEN);
	ip[0] = 0x45;
	wr16(ip + 2, (uint16_t)tot);
	wr16(ip + 6, 0x4000);                   /* DF */
	ip[8] = 64;
	ip[9] = proto;
	memcpy(ip + 12, src, 4);
	memcpy(ip + 16, dst, 4);
	wr16(ip + 10, (uint16_t)~fold(sum16(ip, IP4_LEN, 0)));
}

/* RFC 826: a request for one of its addresses, answered from its MAC. */
static bool
arp_input(struct ep_in *in)
{
	const uint8_t *a = in->f + ETH_LEN;
	uint8_t *o = in->out, *r = o + ETH_LEN;

	if (in->len < ETH_LEN + ARP_LEN)
		return drop(in, TOE_EP_DROP_TRUNCATED);
	/* Ethernet/IPv4 requests for one of its addresses only: anything
	 * else sent to its MAC is not routed. */
	if (rd16(a) != 1 || rd16(a + 2) != ETH_IP4 || a[4] != 6 || a[5] != 4 ||
	    rd16(a + 6) != 1 || !is_mine4(in->c, a + 24))
		return drop(in, TOE_EP_DROP_NOT_ROUTED);
	eth_hdr(o, a + 8, ETH_ARP);
	memcpy(r, a, 6);                        /* htype, ptype, hlen, plen */
	wr16(r + 6, 2);
	memcpy(r + 8, toe_ep_vmac, 6);
	memcpy(r + 14, a + 24, 4);
	memcpy(r + 18, a + 8, 10);              /* the requester's sha, spa */
	in->ep->stats.arp_replies++;
	return reply(in, ETH_LEN + ARP_LEN);
}

const uint8_t *
toe_ep_arp_target(const uint8_t *f, uint32_t len)
{
	if (len < ETH_LEN + ARP_LEN || rd16(f + 12) != ETH_ARP ||
	    memcmp(f, bcast_mac, 6) != 0)
		return NULL;
	/* Ethernet/IPv4 requests, not a probe or an announcement */
	if (rd16(f + 14) != 1 || rd16(f + 16) != ETH_IP4 || f[18] != 6 ||
	    f[19] != 4 || rd16(f + 20) != 1 || memcmp(f + 28, f + 38, 4) == 0 ||
	    memcmp(f + 28, zero4, 4) == 0)
		return NULL;
	return f + 38;
}

bool
toe_ep_arp_proxy(struct toe_ep *ep, const uint8_t *f, uint32_t len,
		 const uint8_t mac[6])
{
	uint8_t o[MIN_FRAME], *r = o + ETH_LEN;
	struct toe_emit e = { .hdr = o, .hdr_len = MIN_FRAME, .l2_len = ETH_LEN };

	if (toe_ep_arp_target(f, len) == NULL)
		return false;
	memset(o, 0, sizeof(o));
	memcpy(o, f + 22, 6);
	memcpy(o + 6, mac, 6);
	wr16(o + 12, ETH_ARP);
	memcpy(r, f + 14, 6);
	wr16(r + 6, 2);
	memcpy(r + 8, mac, 6);
	memcpy(r + 14, f + 38, 4);
	memcpy(r + 18, f + 22, 10);
	ep->stats.arp_suppressed++;
	ep->emit(ep->emit_arg, &e);
	return true;
}

/* ------------------------------------------------------------------ */
/* IPv4, ICMP, TCP                                                     */

static uint32_t
ep_mtu(const struct toe_ep *ep)
{
	return ep->conf->mtu != 0 ? ep->conf->mtu : TOE_EP_MTU;
}

/*
 * The echo reply to a reassembled request larger than the MTU, in
 * fragments of at most the MTU (RFC 791): the ICMP header (type, sum)
 * in the first one's headers, the data sent from the request itself.
 */
static bool
echo4_fragmented(struct ep_in *in, const uint8_t *ip, const uint8_t *icmp,
		 uint32_t n)
{
	const uint32_t per = (ep_mtu(in->ep) - IP4_LEN) & ~7u;
	uint8_t h[ETH_LEN + IP4_LEN + 8], *rip = h + ETH_LEN, ic[8];
	uint16_t id = in->ep->ip_id++;
	uint32_t sum;

	memcpy(ic, icmp, 8);
	ic[0] = ICMP_ECHO_REPLY;
	wr16(ic + 2, 0);
	sum = sum16(ic, 8, 0);
	sum = sum16(icmp + 8, n - 8, sum);      /* 8: even, no byte shift */
	wr16(ic + 2, (uint16_t)~fold(sum));
	for (uint32_t off = 0; off < n; off += per) {
		uint32_t len = n - off < per ? n - off : per;
		struct toe_emit e = { .hdr = h, .l2_len = ETH_LEN };

		eth_hdr(h, in->f + 6, ETH_IP4);
		memset(rip, 0, IP4_LEN);
		rip[0] = 0x45;
		wr16(rip + 2, (uint16_t)(IP4_LEN + len));
		wr16(rip + 4, id);
		wr16(rip + 6, (uint16_t)((off + len < n ? 0x2000 : 0) | off / 8));
		rip[8] = 64;
		rip[9] = PROTO_ICMP;
		memcpy(rip + 12, ip + 16, 4);
		memcpy(rip + 16, ip + 12, 4);
		wr16(rip + 10, (uint16_t)~fold(sum16(rip, IP4_LEN, 0)));
		if (off == 0) {
			memcpy(rip + IP4_LEN, ic, 8);
			e.hdr_len = ETH_LEN + IP4_LEN + 8;
			e.pay[0] = icmp + 8;
			e.pay_len[0] = len - 8;
		} else {
			e.hdr_len = ETH_LEN + IP4_LEN;
			e.pay[0] = icmp + off;
			e.pay_len[0] = len;
		}
		in->ep->stats.ip_frags_out++;
		in->ep->emit(in->ep->emit_arg, &e);
	}
	in->ep->stats.echo_replies++;
	in->ep->stats.replies++;
	return true;
}

/* Echo request to one of its addresses -> echo reply (RFC 792), the
 * request's options left out. */
static bool
icmp4_input(struct ep_in *in, const uint8_t *ip, uint32_t ihl, uint32_t tot)
{
	const uint8_t *icmp = ip + ihl;
	uint32_t n = tot - ihl;
	uint8_t *o = in->out, *rip = o + ETH_LEN, *ricmp = rip + IP4_LEN;

	if (n < 8 || fold(sum16(icmp, n, 0)) != 0xffff)
		return drop(in, TOE_EP_DROP_ICMP_BAD);
	/* An error about something it sent (RFC 1122 3.2.2): noted. */
	if (icmp[0] == 3 || icmp[0] == 11 || icmp[0] == 12) {
		in->ep->stats.icmp_errors++;
		return true;
	}
	if (icmp[0] != ICMP_ECHO || icmp[1] != 0)
		return drop(in, TOE_EP_DROP_ICMP_TYPE);
	if (IP4_LEN + n > ep_mtu(in->ep))
		return echo4_fragmented(in, ip, icmp, n);
	eth_hdr(o, in->f + 6, ETH_IP4);
	ip4_hdr(rip, ip + 16, ip + 12, PROTO_ICMP, IP4_LEN + n);
	memcpy(ricmp, icmp, n);
	ricmp[0] = ICMP_ECHO_REPLY;
	wr16(ricmp + 2, 0);
	wr16(ricmp + 2, (uint16_t)~fold(sum16(ricmp, n, 0)));
	in->ep->stats.echo_replies++;
	return reply(in, ETH_LEN + IP4_LEN + n);
}

/*
 * IPv6: a segment to a port with no listener (no IPv6 service yet): RFC
 * 9293 3.10.7.1 (CLOSED).  An incoming RST is ignored; with ACK,
 * <SEQ=SEG.ACK><CTL=RST>; without, <SEQ=0><ACK=SEG.SEQ+SEG.LEN><CTL=RST,ACK>.
 */
static bool
tcp_closed(struct ep_in *in, const uint8_t *ip, const uint8_t *tcp, uint32_t n)
{
	uint8_t *o = in->out;
	uint32_t seg_len, doff;
	uint8_t *rip = o + ETH_LEN, *rt = rip + IP6_LEN;
	uint8_t flags;
	uint32_t sum;

	if (n < TCP_LEN)
		return drop(in, TOE_EP_DROP_TCP_BAD);
	doff = (uint32_t)(tcp[12] >> 4) * 4;
	sum = pseudo6(ip, PROTO_TCP, n);
	if (doff < TCP_LEN || doff > n ||
	    (!in->l4_ok && fold(sum16(tcp, n, sum)) != 0xffff))
		return drop(in, TOE_EP_DROP_TCP_BAD);
	flags = tcp[13];
	if (flags & TCP_RST)
		return drop(in, TOE_EP_DROP_TCP_RST);
	seg_len = n - doff + !!(flags & TCP_SYN) + !!(flags & TCP_FIN);
	eth_hdr(o, in->f + 6, ETH_IP6);
	memset(rip, 0, IP6_LEN);
	rip[0] = 0x60;
	wr16(rip + 4, TCP_LEN);
	rip[6] = PROTO_TCP;
	rip[7] = 64;
	memcpy(rip + 8, ip + 24, 16);
	memcpy(rip + 24, ip + 8, 16);
	memset(rt, 0, TCP_LEN);
	memcpy(rt, tcp + 2, 2);
	memcpy(rt + 2, tcp, 2);
	if (flags & TCP_ACK) {
		memcpy(rt + 4, tcp + 8, 4);
		rt[13] = TCP_RST;
	} else {
		wr32(rt + 8, rd32(tcp + 4) + seg_len);
		rt[13] = TCP_RST | TCP_ACK;
	}
	rt[12] = TCP_LEN / 4 << 4;
	wr16(rt + 16, (uint16_t)~fold(sum16(rt, TCP_LEN,
					     pseudo6(rip, PROTO_TCP, TCP_LEN))));
	in->ep->stats.tcp_resets++;
	return reply(in, ETH_LEN + IP6_LEN + TCP_LEN);
}

static bool dhcp_input(struct ep_in *in, const uint8_t *ip,
		       const uint8_t *udp, uint32_t n);

static bool
udp4_input(struct ep_in *in, const uint8_t *ip, const uint8_t *udp,
	   uint32_t n)
{
	if (n < UDP_LEN || rd16(udp + 4) < UDP_LEN || rd16(udp + 4) > n)
		return drop(in, TOE_EP_DROP_UDP_BAD);
	n = rd16(udp + 4);
	/* A zero checksum: the sender computed none (RFC 768). */
	if (rd16(udp + 6) != 0 && !in->l4_ok &&
	    fold(sum16(udp, n, pseudo4(ip, PROTO_UDP, n))) != 0xffff)
		return drop(in, TOE_EP_DROP_UDP_BAD);
	if (rd16(udp + 2) == DHCP_SERVER_PORT && in->c->dhcp)
		return dhcp_input(in, ip, udp, n);
	return drop(in, TOE_EP_DROP_UDP_PORT);
}

/* ------------------------------------------------------------------ */
/* IPv4 reassembly (RFC 791, RFC 815): bounded, overlaps refused       */

static void
frag_free(struct toe_ep_frag *d)
{
	toe_timer_cancel(&d->ep->wheel, &d->timer);
	free(d->buf);
	d->buf = NULL;
	d->used = false;
}

static void
frag_expire(struct toe_timer *t, uint64_t now_ms)
{
	struct toe_ep_frag *d = (struct toe_ep_frag *)((char *)t -
		offsetof(struct toe_ep_frag, timer));

	(void)now_ms;
	d->ep->stats.ip_frag_timeouts++;
	frag_free(d);
}

static bool ip4_input(struct ep_in *in);

/* A fragment for the endpoint: held until its datagram is whole, which is
 * then taken as if it had come in one frame. */
static bool
frag_input(struct ep_in *in, const uint8_t *ip, uint32_t ihl, uint32_t tot)
{
	struct toe_ep *ep = in->ep;
	struct toe_ep_frag *d = NULL;
	uint16_t fl = rd16(ip + 6);
	uint32_t off = (uint32_t)(fl & 0x1fff) * 8, len = tot - ihl;
	bool more = (fl & 0x2000) != 0;

	for (int i = 0; i < TOE_EP_FRAG_SLOTS && d == NULL; i++) {
		struct toe_ep_frag *x = &ep->frags[i];

		if (x->used && x->id == rd16(ip + 4) && x->proto == ip[9] &&
		    memcmp(x->src, ip + 12, 4) == 0 && memcmp(x->dst, ip + 16, 4) == 0)
			d = x;
	}
	if (d == NULL) {
		for (int i = 0; i < TOE_EP_FRAG_SLOTS && d == NULL; i++)
			if (!ep->frags[i].used)
				d = &ep->frags[i];
		if (d == NULL ||
		    (d->buf = malloc(ETH_LEN + IP4_LEN + TOE_EP_FRAG_MAX)) == NULL)
			return drop(in, TOE_EP_DROP_IP_FRAG_LIMIT);
		d->ep = ep;
		d->used = true;
		memcpy(d->src, ip + 12, 4);
		memcpy(d->dst, ip + 16, 4);
		d->proto = ip[9];
		d->id = rd16(ip + 4);
		d->total = 0;
		d->n = 0;
		toe_timer_init(&d->timer, frag_expire);
		toe_timer_arm(&ep->wheel, &d->timer, in->now_ms + TOE_EP_FRAG_TIMEOUT_MS);
	}
	/* RFC 791: every fragment but the last carries a multiple of 8;
	 * none reaches past 65,535; pieces that overlap (RFC 5722's rule,
	 * kept for IPv4 as Linux does) end the datagram. */
	if ((more && (len % 8 != 0 || len == 0)) || off + len > TOE_EP_FRAG_MAX ||
	    (!more && d->total != 0 && d->total != off + len) ||
	    (d->total != 0 && off + len > d->total)) {
		frag_free(d);
		return drop(in, TOE_EP_DROP_IP_FRAG_BAD);
	}
	for (unsigned int i = 0; i < d->n; i++)
		if (off < d->r[i].end && off + len > d->r[i].start) {
			frag_free(d);
			return drop(in, TOE_EP_DROP_IP_FRAG_BAD);
		}
	if (d->n == TOE_EP_FRAG_RANGES) {
		frag_free(d);
		return drop(in, TOE_EP_DROP_IP_FRAG_LIMIT);
	}
	memcpy(d->buf + ETH_LEN + IP4_LEN + off, ip + ihl, len);
	d->r[d->n].start = off;
	d->r[d->n].end = off + len;
	d->n++;
	if (!more)
		d->total = off + len;
	ep->stats.ip_frags++;
	if (d->total != 0) {
		uint32_t have = 0;

		for (unsigned int i = 0; i < d->n; i++)
			have += d->r[i].end - d->r[i].start;
		if (have == d->total) {
			struct ep_in whole = *in;
			uint8_t *f = d->buf, *h = f + ETH_LEN;
			bool r;

			memcpy(f, in->f, ETH_LEN);
			memset(h, 0, IP4_LEN);
			h[0] = 0x45;
			wr16(h + 2, (uint16_t)(IP4_LEN + d->total > 0xffff ? 0xffff :
					       IP4_LEN + d->total));
			wr16(h + 4, d->id);
			h[8] = ip[8];
			h[9] = d->proto;
			memcpy(h + 12, d->src, 4);
			memcpy(h + 16, d->dst, 4);
			wr16(h + 10, (uint16_t)~fold(sum16(h, IP4_LEN, 0)));
			if (IP4_LEN + d->total > 0xffff) {
				frag_free(d);
				return drop(in, TOE_EP_DROP_IP_FRAG_BAD);
			}
			whole.f = f;
			whole.len = ETH_LEN + IP4_LEN + d->total;
			/* its TCP/UDP checksum covers the whole: checked */
			whole.l4_ok = false;
			ep->stats.ip_reassembled++;
			r = ip4_input(&whole);
			frag_free(d);
			return r;
		}
	}
	return true;
}

static bool
ip4_input(struct ep_in *in)
{
	const uint8_t *ip = in->f + ETH_LEN;
	uint32_t room = in->len - ETH_LEN, ihl, tot;
	bool dhcp;

	if (room < IP4_LEN)
		return drop(in, TOE_EP_DROP_TRUNCATED);
	ihl = (uint32_t)(ip[0] & 0xf) * 4;
	tot = rd16(ip + 2);
	if ((ip[0] >> 4) != 4 || ihl < IP4_LEN || tot < ihl || tot > room ||
	    fold(sum16(ip, ihl, 0)) != 0xffff)
		return drop(in, TOE_EP_DROP_IP_HEADER);
	dhcp = in->c->dhcp && ip[9] == PROTO_UDP &&
	       memcmp(ip + 16, bcast_mac, 4) == 0;
	if (!is_mine4(in->c, ip + 16) && !dhcp)
		return drop(in, TOE_EP_DROP_NOT_ROUTED);
	if (rd16(ip + 6) & 0x3fff)              /* MF or an offset */
		return frag_input(in, ip, ihl, tot);
	switch (ip[9]) {
	case PROTO_ICMP:
		if (dhcp)
			break;
		return icmp4_input(in, ip, ihl, tot);
	case PROTO_TCP:
		if (dhcp)
			break;
		toe_tcp_input(&in->ep->tcp, ip, ihl, ip + ihl, tot - ihl,
			      in->l4_ok, in->now_ms);
		return true;
	case PROTO_UDP:
		return udp4_input(in, ip, ip + ihl, tot - ihl);
	}
	return drop(in, TOE_EP_DROP_PROTO);
}

/* ------------------------------------------------------------------ */
/* IPv6: neighbour discovery and echo                                  */

/* RFC 4861 7.1.1 checks, then 7.2.4: a solicited advertisement to the
 * soliciting node (to all nodes for duplicate address detection). */
static bool
nd_ns_input(struct ep_in *in, const uint8_t *ip6, const uint8_t *m,
	    uint32_t n)
{
	static const uint8_t all_nodes[16] = { 0xff, 0x02, [15] = 1 };
	static const uint8_t all_nodes_mac[6] = { 0x33, 0x33, 0, 0, 0, 1 };
	uint8_t *o = in->out, *rip = o + ETH_LEN, *na = rip + IP6_LEN;
	bool dad = memcmp(ip6 + 8, (const uint8_t[16]){ 0 }, 16) == 0;
	const uint32_t na_len = 24 + 8;

	if (ip6[7] != 255 || m[1] != 0 || n < 24 || !is_mine6(in->c, m + 8))
		return drop(in, TOE_EP_DROP_ND_BAD);
	for (uint32_t off = 24; off < n; ) {
		uint32_t ol = off + 2 <= n ? (uint32_t)m[off + 1] * 8 : 0;

		/* every option has a length, inside the message; none with
		 * a source link-layer address from the unspecified address */
		if (ol == 0 || off + ol > n || (dad && m[off] == 1))
			return drop(in, TOE_EP_DROP_ND_BAD);
		off += ol;
	}
	eth_hdr(o, dad ? all_nodes_mac : in->f + 6, ETH_IP6);
	memset(rip, 0, IP6_LEN);
	rip[0] = 0x60;
	wr16(rip + 4, (uint16_t)na_len);
	rip[6] = PROTO_ICMP6;
	rip[7] = 255;
	memcpy(rip + 8, m + 8, 16);
	memcpy(rip + 24, dad ? all_nodes : ip6 + 8, 16);
	memset(na, 0, na_len);
	na[0] = ND_NA;
	na[4] = dad ? 0x20 : 0x60;              /* (Solicited,) Override */
	memcpy(na + 8, m + 8, 16);
	na[24] = ND_OPT_TLLA;
	na[25] = 1;
	memcpy(na + 26, toe_ep_vmac, 6);
	wr16(na + 2, (uint16_t)~fold(sum16(na, na_len,
					   pseudo6(rip, PROTO_ICMP6, na_len))));
	in->ep->stats.nd_adverts++;
	return reply(in, ETH_LEN + IP6_LEN + na_len);
}

static bool
ip6_input(struct ep_in *in)
{
	const uint8_t *ip6 = in->f + ETH_LEN, *m;
	uint32_t room = in->len - ETH_LEN, n;
	uint8_t *o = in->out, *rip = o + ETH_LEN, *r = rip + IP6_LEN;

	if (room < IP6_LEN)
		return drop(in, TOE_EP_DROP_TRUNCATED);
	n = rd16(ip6 + 4);
	if ((ip6[0] >> 4) != 6 || n > room - IP6_LEN)
		return drop(in, TOE_EP_DROP_IP6_HEADER);
	m = ip6 + IP6_LEN;
	if (!is_mine6(in->c, ip6 + 24) && !is_solicited_mine6(in->c, ip6 + 24))
		return drop(in, TOE_EP_DROP_NOT_ROUTED);
	if (ip6[6] == PROTO_TCP && is_mine6(in->c, ip6 + 24))
		return tcp_closed(in, ip6, m, n);
	if (ip6[6] != PROTO_ICMP6)
		return drop(in, ip6[6] == 0 || ip6[6] == 43 || ip6[6] == 44 ||
				ip6[6] == 60 ? TOE_EP_DROP_IP6_HEADER :
				TOE_EP_DROP_PROTO);
	if (n < 4 || fold(sum16(m, n, pseudo6(ip6, PROTO_ICMP6, n))) != 0xffff)
		return drop(in, TOE_EP_DROP_ICMP_BAD);
	if (m[0] == ND_NS)
		return nd_ns_input(in, ip6, m, n);
	if (m[0] >= 1 && m[0] <= 4 && is_mine6(in->c, ip6 + 24)) {
		in->ep->stats.icmp_errors++;        /* RFC 4443 2.4 */
		return true;
	}
	if (m[0] != ICMP6_ECHO || m[1] != 0 || !is_mine6(in->c, ip6 + 24))
		return drop(in, TOE_EP_DROP_ICMP_TYPE);
	if (n < 8)
		return drop(in, TOE_EP_DROP_ICMP_BAD);
	/* RFC 4443 4.2: the reply carries the request's data. */
	eth_hdr(o, in->f + 6, ETH_IP6);
	memcpy(rip, ip6, 8);
	rip[7] = 64;
	memcpy(rip + 8, ip6 + 24, 16);
	memcpy(rip + 24, ip6 + 8, 16);
	memcpy(r, m, n);
	r[0] = ICMP6_ECHO_REPLY;
	wr16(r + 2, 0);
	wr16(r + 2, (uint16_t)~fold(sum16(r, n, pseudo6(rip, PROTO_ICMP6, n))));
	in->ep->stats.echo_replies++;
	return reply(in, ETH_LEN + IP6_LEN + n);
}

/* ------------------------------------------------------------------ */
/* DHCPv4                                                              */

struct dhcp_req {
	uint8_t type;
	bool has_req_ip, has_server_id;
	uint8_t req_ip[4];
	uint8_t server_id[4];
};

/* RFC 2132 2: pad, end, and code/length/value within the n bytes. */
static bool
dhcp_options(const uint8_t *p, uint32_t n, struct dhcp_req *r)
{
	uint32_t off = 0;

	while (off < n) {
		uint8_t code = p[off], len;

		if (code == OPT_END)
			return true;
		if (code == OPT_PAD) {
			off++;
			continue;
		}
		if (off + 2 > n || off + 2 + (len = p[off + 1]) > n)
			return false;
		/* The first of each counts (RFC 3396 concatenates long
		 * options; none of these is). */
		if (code == OPT_MSG_TYPE && len == 1 && r->type == 0)
			r->type = p[off + 2];
		else if (code == OPT_REQ_IP && len == 4 && !r->has_req_ip)
			memcpy(r->req_ip, p + off + 2, 4), r->has_req_ip = true;
		else if (code == OPT_SERVER_ID && len == 4 && !r->has_server_id)
			memcpy(r->server_id, p + off + 2, 4), r->has_server_id = true;
		off += 2u + len;
	}
	return false;                           /* no end option */
}

static void
server_id(const struct toe_ep_conf *c, uint8_t out[4])
{
	memcpy(out, c->has_gw ? c->gw4 : toe_ep_md_ip4, 4);
}

static uint8_t *
opt(uint8_t *p, uint8_t code, const void *v, uint8_t len)
{
	p[0] = code;
	p[1] = len;
	memcpy(p + 2, v, len);
	return p + 2 + len;
}

static uint8_t *
opt32(uint8_t *p, uint8_t code, uint32_t v)
{
	uint8_t b[4];

	wr32(b, v);
	return opt(p, code, b, 4);
}

/* RFC 3442: destination width, its significant octets, router. */
static uint8_t *
route(uint8_t *p, const uint8_t *dst, uint8_t width, const uint8_t *gw)
{
	uint8_t octets = (uint8_t)((width + 7) / 8);

	*p++ = width;
	memcpy(p, dst, octets);
	p += octets;
	memcpy(p, gw, 4);
	return p + 4;
}

/* The options of an OFFER or ACK (lease: with the lease times). */
static uint8_t *
dhcp_config_options(const struct toe_ep_conf *c, uint8_t *p, bool lease)
{
	uint8_t routes[2 * 9], *rp = routes, sid[4];
	uint32_t mask = c->prefix4 == 0 ? 0 : ~(uint32_t)0 << (32 - c->prefix4);
	uint32_t a = rd32(c->ip4);
	size_t hl = strnlen(c->hostname, sizeof(c->hostname));
	uint16_t mtu = c->mtu != 0 ? c->mtu : TOE_EP_MTU;

	server_id(c, sid);
	p = opt(p, OPT_SERVER_ID, sid, 4);
	if (lease) {
		p = opt32(p, OPT_LEASE, TOE_EP_LEASE_S);
		p = opt32(p, OPT_T1, TOE_EP_LEASE_S / 2);
		p = opt32(p, OPT_T2, TOE_EP_LEASE_S / 8 * 7);
	}
	p = opt32(p, OPT_MASK, mask);
	if (c->prefix4 < 31)
		p = opt32(p, OPT_BROADCAST, a | ~mask);
	if (c->has_gw)
		p = opt(p, OPT_ROUTER, c->gw4, 4);
	if (c->n_dns > 0)
		p = opt(p, OPT_DNS, c->dns4, (uint8_t)(4 * c->n_dns));
	if (hl > 0)
		p = opt(p, OPT_HOSTNAME, c->hostname, (uint8_t)hl);
	p = opt(p, OPT_MTU, (const uint8_t[]){ mtu >> 8, mtu & 0xff }, 2);
	if (c->metadata)
		rp = route(rp, toe_ep_md_ip4, 32, c->has_gw ? c->gw4 : zero4);
	if (c->has_gw)
		rp = route(rp, zero4, 0, c->gw4);
	if (rp > routes)
		p = opt(p, OPT_CLASSLESS, routes, (uint8_t)(rp - routes));
	return p;
}

/* Record a lease change where readers see it whole. */
static void
lease_set(struct toe_ep *ep, uint8_t state, const uint8_t *ip, uint32_t xid,
	  uint64_t now_ms)
{
	__atomic_store_n(&ep->lease_seq, ep->lease_seq + 1, __ATOMIC_RELAXED);
	__atomic_thread_fence(__ATOMIC_RELEASE);
	ep->lease.state = state;
	memcpy(ep->lease.ip, ip, 4);
	ep->lease.xid = xid;
	ep->lease.changed_ms = now_ms;
	ep->lease.expires_ms = state == TOE_EP_LEASE_BOUND ?
			       now_ms + (uint64_t)TOE_EP_LEASE_S * 1000 : 0;
	__atomic_store_n(&ep->lease_seq, ep->lease_seq + 1, __ATOMIC_RELEASE);
}

void
toe_ep_lease_read(const struct toe_ep *ep, struct toe_ep_lease *out)
{
	uint32_t s0, s1;

	do {
		s0 = __atomic_load_n(&ep->lease_seq, __ATOMIC_ACQUIRE);
		memcpy(out, (const void *)&ep->lease, sizeof(*out));
		__atomic_thread_fence(__ATOMIC_ACQUIRE);
		s1 = __atomic_load_n(&ep->lease_seq, __ATOMIC_RELAXED);
	} while ((s0 & 1) || s0 != s1);
}

/*
 * Answer with message type t (OFFER, ACK, NAK).  Addressing, RFC 2131
 * 4.1: a NAK is broadcast; else to ciaddr when the client has one, to
 * the broadcast address when it asked (the BROADCAST flag), else to
 * yiaddr at chaddr.
 */
static bool
dhcp_reply(struct ep_in *in, const uint8_t *b, uint8_t t, bool inform)
{
	const struct toe_ep_conf *c = in->c;
	uint8_t *o = in->out, *ip = o + ETH_LEN, *udp = ip + IP4_LEN;
	uint8_t *bp = udp + UDP_LEN, *p, sid[4];
	const uint8_t *dst_ip, *dst_mac;
	bool has_ciaddr = memcmp(b + 12, zero4, 4) != 0;
	uint32_t blen, n;

	memset(bp, 0, BOOTP_LEN);
	bp[0] = 2;                              /* BOOTREPLY */
	bp[1] = 1;
	bp[2] = 6;
	memcpy(bp + 4, b + 4, 4);               /* xid */
	memcpy(bp + 10, b + 10, 2);             /* flags */
	if (t == DHCPACK)
		memcpy(bp + 12, b + 12, 4);     /* ciaddr */
	if (t != DHCPNAK && !inform)
		memcpy(bp + 16, c->ip4, 4);     /* yiaddr */
	memcpy(bp + 28, b + 28, 16);            /* chaddr */
	p = bp + BOOTP_LEN;
	wr32(p, DHCP_COOKIE);
	p = opt(p + 4, OPT_MSG_TYPE, &t, 1);
	if (t == DHCPNAK) {
		server_id(c, sid);
		p = opt(p, OPT_SERVER_ID, sid, 4);
	} else {
		p = dhcp_config_options(c, p, !inform);
	}
	*p++ = OPT_END;
	blen = (uint32_t)(p - bp);
	if (blen < BOOTP_MIN) {
		memset(p, 0, BOOTP_MIN - blen);
		blen = BOOTP_MIN;
	}
	if (t == DHCPNAK || (!has_ciaddr && (b[10] & 0x80))) {
		dst_ip = bcast_mac;             /* 255.255.255.255 */
		dst_mac = bcast_mac;
	} else {
		dst_ip = has_ciaddr ? b + 12 : c->ip4;
		dst_mac = b + 28;
	}
	n = UDP_LEN + blen;
	server_id(c, sid);
	eth_hdr(o, dst_mac, ETH_IP4);
	ip4_hdr(ip, sid, dst_ip, PROTO_UDP, IP4_LEN + n);
	wr16(udp, DHCP_SERVER_PORT);
	wr16(udp + 2, DHCP_CLIENT_PORT);
	wr16(udp + 4, (uint16_t)n);
	wr16(udp + 6, 0);
	wr16(udp + 6, (uint16_t)~fold(sum16(udp, n, pseudo4(ip, PROTO_UDP, n))));
	if (rd16(udp + 6) == 0)
		wr16(udp + 6, 0xffff);
	return reply(in, ETH_LEN + IP4_LEN + n);
}

static bool
dhcp_input(struct ep_in *in, const uint8_t *ip, const uint8_t *udp,
	   uint32_t n)
{
	const struct toe_ep_conf *c = in->c;
	struct toe_ep *ep = in->ep;
	const uint8_t *b = udp + UDP_LEN;
	uint32_t blen = n - UDP_LEN, xid;
	struct dhcp_req r = { 0 };
	uint8_t sid[4];
	bool ok;

	(void)ip;
	if (blen < BOOTP_LEN + 4 || rd32(b + BOOTP_LEN) != DHCP_COOKIE ||
	    b[0] != 1 || !dhcp_options(b + BOOTP_LEN + 4,
				       blen - BOOTP_LEN - 4, &r) ||
	    r.type == 0)
		return drop(in, TOE_EP_DROP_DHCP_MALFORMED);
	if (b[1] != 1 || b[2] != 6 || memcmp(b + 28, c->mac, 6) != 0)
		return drop(in, TOE_EP_DROP_DHCP_CLIENT);
	if (memcmp(b + 24, zero4, 4) != 0)
		return drop(in, TOE_EP_DROP_DHCP_RELAYED);
	xid = rd32(b + 4);
	server_id(c, sid);
	switch (r.type) {
	case DHCPDISCOVER:
		lease_set(ep, TOE_EP_LEASE_OFFERED, c->ip4, xid, in->now_ms);
		ep->stats.dhcp_offers++;
		return dhcp_reply(in, b, DHCPOFFER, false);
	case DHCPREQUEST:
		/* RFC 2131 4.3.2: SELECTING names the server; INIT-REBOOT
		 * names the address; RENEWING/REBINDING has it in ciaddr. */
		if (r.has_server_id && memcmp(r.server_id, sid, 4) != 0)
			return drop(in, TOE_EP_DROP_DHCP_OTHER_SERVER);
		if (r.has_req_ip)
			ok = memcmp(r.req_ip, c->ip4, 4) == 0;
		else if (memcmp(b + 12, zero4, 4) != 0)
			ok = memcmp(b + 12, c->ip4, 4) == 0;
		else
			return drop(in, TOE_EP_DROP_DHCP_MALFORMED);
		if (!ok) {
			ep->stats.dhcp_naks++;
			return dhcp_reply(in, b, DHCPNAK, false);
		}
		lease_set(ep, TOE_EP_LEASE_BOUND, c->ip4, xid, in->now_ms);
		ep->stats.dhcp_acks++;
		return dhcp_reply(in, b, DHCPACK, false);
	case DHCPINFORM:
		ep->stats.dhcp_acks++;
		return dhcp_reply(in, b, DHCPACK, true);
	case DHCPRELEASE:
		lease_set(ep, TOE_EP_LEASE_RELEASED, c->ip4, xid, in->now_ms);
		ep->stats.dhcp_releases++;
		return true;
	case DHCPDECLINE:
		lease_set(ep, TOE_EP_LEASE_DECLINED, c->ip4, xid, in->now_ms);
		ep->stats.dhcp_declines++;
		return true;
	default:
		return drop(in, TOE_EP_DROP_DHCP_TYPE);
	}
}

/* ------------------------------------------------------------------ */

/* TCP over IPv4, to one of its addresses: it may be a super-frame. */
static bool
is_tcp4(const uint8_t *f, uint32_t len)
{
	return len >= ETH_LEN + IP4_LEN && rd16(f + 12) == ETH_IP4 &&
	       f[23] == PROTO_TCP;
}

bool
toe_ep_input(struct toe_ep *ep, const uint8_t *f, uint32_t len, bool l4_ok,
	     uint64_t now_ms)
{
	uint8_t out[TOE_EP_FRAME_MAX];
	struct ep_in in = {
		.ep = ep, .c = ep->conf, .f = f, .len = len, .out = out,
		.l4_ok = l4_ok, .now_ms = now_ms,
	};

	if (toe_ep_classify(ep->conf, f, len < TOE_EP_IN_MAX ? len :
			    TOE_EP_IN_MAX, len) != TOE_EP_MINE)
		return false;
	ep->stats.taken++;
	if (len > (is_tcp4(f, len) ? TOE_EP_IN_MAX : TOE_EP_FRAME_MAX))
		return drop(&in, TOE_EP_DROP_TOO_BIG);
	switch (rd16(f + 12)) {
	case ETH_ARP:
		return arp_input(&in);
	case ETH_IP4:
		return ip4_input(&in);
	case ETH_IP6:
		return ip6_input(&in);
	default:
		return drop(&in, TOE_EP_DROP_NOT_ROUTED);
	}
}
