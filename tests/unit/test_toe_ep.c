/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The port endpoint of the TOE (toe_ep.h) on built frames: what it
 * claims, ARP, ICMP and ICMPv6 echo, neighbour discovery, the closed-port
 * TCP answer, the DHCP server through a whole exchange, and hostile input
 * (every truncation of every frame, random bytes): never a read past the
 * frame (ASan), and every frame taken is answered or counted.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "toe_stack/toe_ep.h"

static const uint8_t GMAC[6] = { 0x52, 0x54, 0, 0, 1, 1 };
static const uint8_t GIP[4] = { 10, 0, 0, 11 };
static const uint8_t GW[4] = { 10, 0, 0, 1 };
static const uint8_t BCAST[6] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };
static const uint8_t GLL6[16] = { 0xfe, 0x80, [8] = 0x50, 0x54, 0, 0xff, 0xfe, 0, 1, 1 };

static struct toe_ep_conf conf;
static struct toe_ep ep;
static uint8_t out[TOE_EP_IN_MAX];
static uint32_t out_len;
static const uint8_t KEY[16] = "0123456789abcdef";

/* The fake link: the last frame the endpoint sent, flattened, and the
 * lengths of all of them. */
static uint32_t sent_lens[16], n_sent;

static void
emit(void *arg, const struct toe_emit *e)
{
	(void)arg;
	if (n_sent < 16)
		sent_lens[n_sent] = e->hdr_len + e->pay_len[0] + e->pay_len[1];
	n_sent++;
	out_len = 0;
	memcpy(out, e->hdr, e->hdr_len);
	out_len = e->hdr_len;
	for (int k = 0; k < 2; k++) {
		if (e->pay_len[k] > 0)
			memcpy(out + out_len, e->pay[k], e->pay_len[k]);
		out_len += e->pay_len[k];
	}
}

static int
setup(void **state)
{
	(void)state;
	memset(&conf, 0, sizeof(conf));
	memcpy(conf.mac, GMAC, 6);
	memcpy(conf.ip4, GIP, 4);
	conf.prefix4 = 24;
	conf.has_gw = true;
	memcpy(conf.gw4, GW, 4);
	conf.n_dns = 2;
	memcpy(conf.dns4[0], (uint8_t[]){ 10, 0, 0, 2 }, 4);
	memcpy(conf.dns4[1], (uint8_t[]){ 9, 9, 9, 9 }, 4);
	conf.dhcp = conf.metadata = true;
	strcpy(conf.hostname, "vm1");
	toe_ep_fini(&ep);
	toe_ep_init(&ep, &conf, KEY, emit, NULL, 1000);
	return 0;
}

static uint16_t rd16(const uint8_t *p) { return (uint16_t)(p[0] << 8 | p[1]); }
static uint32_t rd32(const uint8_t *p) { return (uint32_t)rd16(p) << 16 | rd16(p + 2); }
static void wr16(uint8_t *p, uint16_t v) { p[0] = (uint8_t)(v >> 8); p[1] = (uint8_t)v; }
static void wr32(uint8_t *p, uint32_t v) { wr16(p, (uint16_t)(v >> 16)); wr16(p + 2, (uint16_t)v); }

static uint32_t
sum16(const uint8_t *p, uint32_t len, uint32_t sum)
{
	for (uint32_t i = 0; i + 1 < len; i += 2)
		sum += rd16(p + i);
	if (len & 1)
		sum += (uint32_t)p[len - 1] << 8;
	return sum;
}

static uint16_t
csum(const uint8_t *p, uint32_t len, uint32_t sum)
{
	sum = sum16(p, len, sum);
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)~sum;
}

static uint32_t ps4(const uint8_t *ip, uint8_t proto, uint32_t n) { return sum16(ip + 12, 8, proto + n); }
static uint32_t ps6(const uint8_t *ip, uint8_t proto, uint32_t n) { return sum16(ip + 8, 32, proto + n); }

/* Frame builders: each returns the frame's length. */
static uint32_t
eth(uint8_t *f, const uint8_t *dst, uint16_t type)
{
	memcpy(f, dst, 6);
	memcpy(f + 6, GMAC, 6);
	wr16(f + 12, type);
	return 14;
}

static uint32_t
arp_req(uint8_t *f, const uint8_t *tpa)
{
	uint8_t *a = f + eth(f, BCAST, 0x0806);

	memset(a, 0, 28);
	wr16(a, 1);
	wr16(a + 2, 0x0800);
	a[4] = 6;
	a[5] = 4;
	wr16(a + 6, 1);
	memcpy(a + 8, GMAC, 6);
	memcpy(a + 14, GIP, 4);
	memcpy(a + 24, tpa, 4);
	return 42;
}

/* IPv4 + payload of n bytes from src to dst; checksums filled by the
 * callers for the payload. */
static uint8_t *
ip4(uint8_t *f, const uint8_t *mac, const uint8_t *src, const uint8_t *dst,
    uint8_t proto, uint32_t n, uint32_t *len)
{
	uint8_t *ip = f + eth(f, mac, 0x0800);

	memset(ip, 0, 20);
	ip[0] = 0x45;
	wr16(ip + 2, (uint16_t)(20 + n));
	ip[8] = 64;
	ip[9] = proto;
	memcpy(ip + 12, src, 4);
	memcpy(ip + 16, dst, 4);
	wr16(ip + 10, csum(ip, 20, 0));
	*len = 14 + 20 + n;
	return ip;
}

static uint32_t
echo4(uint8_t *f, const uint8_t *dst, uint32_t data)
{
	uint32_t len;
	uint8_t *ip = ip4(f, toe_ep_vmac, GIP, dst, 1, 8 + data, &len), *m = ip + 20;

	memset(m, 0, 8);
	m[0] = 8;
	wr16(m + 4, 0x1234);
	wr16(m + 6, 7);
	for (uint32_t i = 0; i < data; i++)
		m[8 + i] = (uint8_t)i;
	wr16(m + 2, csum(m, 8 + data, 0));
	return len;
}

static uint32_t
tcp4(uint8_t *f, const uint8_t *dst, uint8_t flags, uint32_t seq,
     uint32_t ack, uint32_t data)
{
	uint32_t len;
	uint8_t *ip = ip4(f, toe_ep_vmac, GIP, dst, 6, 20 + data, &len), *t = ip + 20;

	memset(t, 0, 20 + data);
	wr16(t, 40000);
	wr16(t + 2, 80);
	wr32(t + 4, seq);
	wr32(t + 8, ack);
	t[12] = 5 << 4;
	t[13] = flags;
	wr16(t + 14, 65535);
	wr16(t + 16, csum(t, 20 + data, ps4(ip, 6, 20 + data)));
	return len;
}

/* A DHCP message of type t with the given options after the type. */
static uint32_t
dhcp(uint8_t *f, uint8_t t, const uint8_t *ciaddr, const uint8_t *extra,
     uint32_t n_extra, bool bcast_flag)
{
	uint32_t n = 8 + 236 + 4 + 3 + n_extra + 1, len;
	uint8_t *ip = ip4(f, BCAST, (const uint8_t[4]){ 0 }, BCAST, 17, n, &len);
	uint8_t *u = ip + 20, *b = u + 8, *p;

	memset(u, 0, n);
	wr16(u, 68);
	wr16(u + 2, 67);
	wr16(u + 4, (uint16_t)n);
	b[0] = 1;
	b[1] = 1;
	b[2] = 6;
	wr32(b + 4, 0xabcd0001);
	if (bcast_flag)
		b[10] = 0x80;
	if (ciaddr != NULL) {
		memcpy(b + 12, ciaddr, 4);
		memcpy(ip + 12, ciaddr, 4);
		wr16(ip + 10, 0);
		wr16(ip + 10, csum(ip, 20, 0));
	}
	memcpy(b + 28, GMAC, 6);
	wr32(b + 236, 0x63825363);
	p = b + 240;
	*p++ = 53;
	*p++ = 1;
	*p++ = t;
	if (n_extra > 0)
		memcpy(p, extra, n_extra);
	p[n_extra] = 255;
	wr16(u + 6, csum(u, n, ps4(ip, 17, n)));
	return len;
}

static bool
input(const uint8_t *f, uint32_t len)
{
	out_len = 0;
	return toe_ep_input(&ep, f, len, false, 1000);
}

static void
assert_ip4_ok(const uint8_t *ip)
{
	assert_int_equal(csum(ip, 20, 0), 0);
}

/* The value of DHCP option code in the reply, or NULL; *olen its length. */
static const uint8_t *
reply_opt(uint8_t code, uint8_t *olen)
{
	const uint8_t *p = out + 14 + 20 + 8 + 240, *end = out + out_len;

	while (p < end && *p != 255) {
		if (*p == 0) {
			p++;
			continue;
		}
		if (p[0] == code) {
			*olen = p[1];
			return p + 2;
		}
		p += 2 + p[1];
	}
	return NULL;
}

static uint64_t
drops(enum toe_ep_drop d)
{
	return ep.stats.drops[d];
}

static void
test_classify(void **state)
{
	uint8_t f[TOE_EP_FRAME_MAX];
	uint32_t len;

	(void)state;
	len = arp_req(f, GW);
	assert_int_equal(toe_ep_classify(&conf, f, len, len), TOE_EP_MINE);
	assert_int_equal(toe_ep_classify(&conf, f, 30, len), TOE_EP_MAYBE);
	len = arp_req(f, toe_ep_md_ip4);
	assert_int_equal(toe_ep_classify(&conf, f, len, len), TOE_EP_MINE);
	len = arp_req(f, (const uint8_t[]){ 10, 0, 0, 12 });    /* another VM */
	assert_int_equal(toe_ep_classify(&conf, f, len, len), TOE_EP_NOT_MINE);
	len = dhcp(f, 1, NULL, NULL, 0, false);
	assert_int_equal(toe_ep_classify(&conf, f, len, len), TOE_EP_MINE);
	conf.dhcp = false;      /* another server on the network answers */
	assert_int_equal(toe_ep_classify(&conf, f, len, len), TOE_EP_NOT_MINE);
	conf.dhcp = true;
	conf.metadata = false;
	len = arp_req(f, toe_ep_md_ip4);
	assert_int_equal(toe_ep_classify(&conf, f, len, len), TOE_EP_NOT_MINE);
	conf.metadata = true;
	/* to the endpoint's MAC: whatever it is */
	len = tcp4(f, (const uint8_t[]){ 8, 8, 8, 8 }, 0x02, 1, 0, 0);
	assert_int_equal(toe_ep_classify(&conf, f, len, len), TOE_EP_MINE);
	memcpy(f, (const uint8_t[]){ 0x52, 0x54, 0, 0, 1, 2 }, 6);
	assert_int_equal(toe_ep_classify(&conf, f, len, len), TOE_EP_NOT_MINE);
	assert_int_equal(toe_ep_classify(&conf, f, 10, 10), TOE_EP_NOT_MINE);
	assert_int_equal(toe_ep_classify(&conf, f, 10, len), TOE_EP_MAYBE);
}

static void
test_arp(void **state)
{
	uint8_t f[64];
	uint32_t len = arp_req(f, GW);

	(void)state;
	assert_true(input(f, len));
	assert_int_equal(out_len, 60);
	assert_memory_equal(out, GMAC, 6);
	assert_memory_equal(out + 6, toe_ep_vmac, 6);
	assert_int_equal(rd16(out + 12), 0x0806);
	assert_int_equal(rd16(out + 20), 2);
	assert_memory_equal(out + 22, toe_ep_vmac, 6);
	assert_memory_equal(out + 28, GW, 4);
	assert_memory_equal(out + 32, GMAC, 6);
	assert_memory_equal(out + 38, GIP, 4);
	assert_int_equal(ep.stats.arp_replies, 1);
	/* not its address: not taken at all */
	len = arp_req(f, (const uint8_t[]){ 10, 0, 0, 12 });
	assert_false(input(f, len));
	/* a reply sent to its MAC: not routed */
	len = arp_req(f, GW);
	memcpy(f, toe_ep_vmac, 6);
	wr16(f + 20, 2);
	assert_true(input(f, len));
	assert_int_equal(out_len, 0);
	assert_int_equal(drops(TOE_EP_DROP_NOT_ROUTED), 1);
}

/* ARP suppression: the request for another VM's address, answered with
 * the MAC the caller found. */
static void
test_arp_proxy(void **state)
{
	static const uint8_t other[6] = { 0x52, 0x54, 0, 0, 2, 2 };
	uint8_t f[64];
	uint32_t len = arp_req(f, (const uint8_t[]){ 10, 0, 0, 12 });

	(void)state;
	assert_non_null(toe_ep_arp_target(f, len));
	out_len = 0;
	assert_true(toe_ep_arp_proxy(&ep, f, len, other));
	assert_int_equal(out_len, 60);
	assert_memory_equal(out, GMAC, 6);
	assert_memory_equal(out + 6, other, 6);
	assert_int_equal(rd16(out + 20), 2);
	assert_memory_equal(out + 22, other, 6);
	assert_memory_equal(out + 28, ((const uint8_t[]){ 10, 0, 0, 12 }), 4);
	assert_memory_equal(out + 32, GMAC, 6);
	assert_memory_equal(out + 38, GIP, 4);
	assert_int_equal(ep.stats.arp_suppressed, 1);
	/* not a request to suppress: unicast, a gratuitous one, cut */
	memcpy(f, GMAC, 6);
	assert_null(toe_ep_arp_target(f, len));
	len = arp_req(f, GIP);
	assert_null(toe_ep_arp_target(f, len));
	len = arp_req(f, (const uint8_t[]){ 10, 0, 0, 12 });
	assert_null(toe_ep_arp_target(f, 41));
	assert_false(toe_ep_arp_proxy(&ep, f, 41, other));
}

static void
test_icmp(void **state)
{
	uint8_t f[TOE_EP_FRAME_MAX];
	uint32_t len = echo4(f, toe_ep_md_ip4, 56);

	(void)state;
	assert_true(input(f, len));
	assert_int_equal(out_len, len);
	assert_memory_equal(out, GMAC, 6);
	assert_ip4_ok(out + 14);
	assert_memory_equal(out + 14 + 12, toe_ep_md_ip4, 4);
	assert_memory_equal(out + 14 + 16, GIP, 4);
	assert_int_equal(out[34], 0);
	assert_int_equal(csum(out + 34, 64, 0), 0);
	assert_memory_equal(out + 38, f + 38, 60);      /* id, seq, data */
	/* to the gateway too */
	len = echo4(f, GW, 0);
	assert_true(input(f, len));
	assert_int_equal(ep.stats.echo_replies, 2);
	/* a bad ICMP checksum, a bad IP checksum, a fragment, a timestamp
	 * request, an address it is not */
	len = echo4(f, GW, 8);
	f[40] ^= 1;
	assert_true(input(f, len));
	assert_int_equal(drops(TOE_EP_DROP_ICMP_BAD), 1);
	len = echo4(f, GW, 8);
	f[24] ^= 1;
	assert_true(input(f, len));
	assert_int_equal(drops(TOE_EP_DROP_IP_HEADER), 1);
	len = echo4(f, GW, 8);
	wr16(f + 20, 0x2000);                           /* MF */
	wr16(f + 24, 0);
	wr16(f + 24, csum(f + 14, 20, 0));
	assert_true(input(f, len));
	assert_int_equal(ep.stats.ip_frags, 1);         /* held for the rest */
	len = echo4(f, GW, 8);
	f[34] = 13;             /* timestamp: not answered */
	wr16(f + 36, 0);
	wr16(f + 36, csum(f + 34, 16, 0));
	assert_true(input(f, len));
	assert_int_equal(drops(TOE_EP_DROP_ICMP_TYPE), 1);
	len = echo4(f, (const uint8_t[]){ 8, 8, 8, 8 }, 8);
	assert_true(input(f, len));
	assert_int_equal(drops(TOE_EP_DROP_NOT_ROUTED), 1);
	assert_int_equal(out_len, 0);
}

/* An IPv4 fragment of the ping in big (4008 bytes of ICMP): the piece at
 * off, len bytes, MF set unless last. */
static uint32_t
frag4(uint8_t *f, const uint8_t *big, uint32_t n, uint32_t off, uint32_t len,
      uint16_t id)
{
	uint32_t flen;
	uint8_t *ip = ip4(f, toe_ep_vmac, GIP, GW, 1, len, &flen);

	memcpy(ip + 20, big + off, len);
	wr16(ip + 4, id);
	wr16(ip + 6, (uint16_t)((off + len < n ? 0x2000 : 0) | off / 8));
	wr16(ip + 10, 0);
	wr16(ip + 10, csum(ip, 20, 0));
	return flen;
}

static void
test_reassembly(void **state)
{
	static uint8_t big[4008], f[1600];
	uint32_t len;

	(void)state;
	memset(big, 0, 8);
	big[0] = 8;
	for (uint32_t i = 8; i < sizeof(big); i++)
		big[i] = (uint8_t)(i * 7);
	wr16(big + 2, csum(big, sizeof(big), 0));
	/* out of order: the last, the first, the middle */
	n_sent = 0;
	len = frag4(f, big, sizeof(big), 2960, sizeof(big) - 2960, 77);
	assert_true(input(f, len));
	len = frag4(f, big, sizeof(big), 0, 1480, 77);
	assert_true(input(f, len));
	assert_int_equal(n_sent, 0);
	len = frag4(f, big, sizeof(big), 1480, 1480, 77);
	assert_true(input(f, len));
	assert_int_equal(ep.stats.ip_reassembled, 1);
	assert_int_equal(ep.stats.echo_replies, 1);
	/* the reply, fragmented to the MTU: 1480 + 1480 + 1048 bytes of ICMP */
	assert_int_equal(n_sent, 3);
	assert_int_equal(sent_lens[0], 14 + 20 + 1480);
	assert_int_equal(sent_lens[2], 14 + 20 + 1048);
	assert_int_equal(ep.stats.ip_frags_out, 3);
	assert_int_equal(rd16(out + 20) & 0x1fff, 2960 / 8);    /* the last */
	assert_int_equal(rd16(out + 20) & 0x2000, 0);
	/* an overlap ends the datagram */
	len = frag4(f, big, sizeof(big), 0, 1480, 78);
	assert_true(input(f, len));
	len = frag4(f, big, sizeof(big), 1400, 80, 78);
	assert_true(input(f, len));
	assert_int_equal(drops(TOE_EP_DROP_IP_FRAG_BAD), 1);
	/* not a multiple of 8 before the last */
	len = frag4(f, big, sizeof(big), 0, 1477, 79);
	assert_true(input(f, len));
	assert_int_equal(drops(TOE_EP_DROP_IP_FRAG_BAD), 2);
	/* four in progress at most; the fifth's fragment is refused */
	for (uint16_t id = 100; id < 105; id++) {
		len = frag4(f, big, sizeof(big), 0, 1480, id);
		assert_true(input(f, len));
	}
	assert_int_equal(drops(TOE_EP_DROP_IP_FRAG_LIMIT), 1);
	/* and they expire */
	toe_wheel_run(&ep.wheel, 1000 + TOE_EP_FRAG_TIMEOUT_MS + 1);
	assert_int_equal(ep.stats.ip_frag_timeouts, 4);
	len = frag4(f, big, sizeof(big), 0, 1480, 200);
	assert_true(input(f, len));
	assert_int_equal(drops(TOE_EP_DROP_IP_FRAG_LIMIT), 1);
}

static void
test_tcp_closed(void **state)
{
	uint8_t f[TOE_EP_FRAME_MAX];
	uint32_t len;
	const uint8_t *t = out + 34;

	(void)state;
	/* SYN: <SEQ=0><ACK=SEG.SEQ+1><CTL=RST,ACK> */
	len = tcp4(f, toe_ep_md_ip4, 0x02, 1000, 0, 0);
	assert_true(input(f, len));
	assert_int_equal(out_len, 54);
	assert_ip4_ok(out + 14);
	assert_int_equal(rd16(t), 80);
	assert_int_equal(rd16(t + 2), 40000);
	assert_int_equal(rd32(t + 4), 0);
	assert_int_equal(rd32(t + 8), 1001);
	assert_int_equal(t[13], 0x14);
	assert_int_equal(csum(t, 20, ps4(out + 14, 6, 20)), 0);
	/* ACK with 10 bytes: <SEQ=SEG.ACK><CTL=RST> */
	len = tcp4(f, GW, 0x18, 5, 777, 10);
	assert_true(input(f, len));
	assert_int_equal(rd32(t + 4), 777);
	assert_int_equal(t[13], 0x04);
	assert_int_equal(ep.stats.tcp_resets, 2);
	/* a RST is never answered (RFC 9293 3.10.7.1) */
	len = tcp4(f, GW, 0x04, 5, 0, 0);
	assert_true(input(f, len));
	assert_int_equal(out_len, 0);
	assert_int_equal(drops(TOE_EP_DROP_TCP_RST), 1);
	len = tcp4(f, GW, 0x02, 5, 0, 0);
	f[50] ^= 0x40;
	assert_true(input(f, len));
	assert_int_equal(drops(TOE_EP_DROP_TCP_BAD), 1);
}

static void
test_dhcp_exchange(void **state)
{
	uint8_t f[TOE_EP_FRAME_MAX], olen;
	uint8_t sel[] = { 54, 4, 10, 0, 0, 1, 50, 4, 10, 0, 0, 11 };
	const uint8_t *o, *b = out + 42;
	struct toe_ep_lease l;
	uint32_t len;

	(void)state;
	len = dhcp(f, 1, NULL, NULL, 0, true);
	assert_true(input(f, len));
	assert_true(out_len >= 14 + 20 + 8 + 300);
	assert_memory_equal(out, BCAST, 6);             /* BROADCAST flag */
	assert_ip4_ok(out + 14);
	assert_memory_equal(out + 26, GW, 4);
	assert_memory_equal(out + 30, BCAST, 4);
	assert_int_equal(rd16(out + 34), 67);
	assert_int_equal(rd16(out + 36), 68);
	assert_int_equal(csum(out + 34, rd16(out + 38), ps4(out + 14, 17, rd16(out + 38))), 0);
	assert_int_equal(b[0], 2);
	assert_int_equal(rd32(b + 4), 0xabcd0001);
	assert_memory_equal(b + 16, GIP, 4);            /* yiaddr */
	assert_memory_equal(b + 28, GMAC, 6);
	assert_non_null(o = reply_opt(53, &olen));
	assert_int_equal(*o, 2);                        /* OFFER */
	assert_non_null(o = reply_opt(1, &olen));
	assert_int_equal(rd32(o), 0xffffff00);
	assert_non_null(o = reply_opt(3, &olen));
	assert_memory_equal(o, GW, 4);
	assert_non_null(o = reply_opt(6, &olen));
	assert_int_equal(olen, 8);
	assert_int_equal(o[4], 9);
	assert_non_null(o = reply_opt(12, &olen));
	assert_int_equal(olen, 3);
	assert_memory_equal(o, "vm1", 3);
	assert_non_null(o = reply_opt(26, &olen));
	assert_int_equal(rd16(o), 1500);
	assert_non_null(o = reply_opt(51, &olen));
	assert_int_equal(rd32(o), TOE_EP_LEASE_S);
	assert_non_null(o = reply_opt(54, &olen));
	assert_memory_equal(o, GW, 4);
	/* RFC 3442: 169.254.169.254/32 via the gateway, 0/0 via it */
	assert_non_null(o = reply_opt(121, &olen));
	assert_int_equal(olen, 14);
	assert_memory_equal(o, ((const uint8_t[]){ 32, 169, 254, 169, 254, 10, 0, 0, 1,
						    0, 10, 0, 0, 1 }), 14);
	toe_ep_lease_read(&ep, &l);
	assert_int_equal(l.state, TOE_EP_LEASE_OFFERED);

	/* REQUEST (SELECTING) -> ACK, unicast to yiaddr at chaddr */
	len = dhcp(f, 3, NULL, sel, sizeof(sel), false);
	assert_true(input(f, len));
	assert_memory_equal(out, GMAC, 6);
	assert_memory_equal(out + 30, GIP, 4);
	assert_int_equal(*reply_opt(53, &olen), 5);
	toe_ep_lease_read(&ep, &l);
	assert_int_equal(l.state, TOE_EP_LEASE_BOUND);
	assert_int_equal(l.expires_ms, 1000 + (uint64_t)TOE_EP_LEASE_S * 1000);
	/* selecting another server's offer: not ours to answer */
	sel[5] = 9;
	len = dhcp(f, 3, NULL, sel, sizeof(sel), false);
	assert_true(input(f, len));
	assert_int_equal(out_len, 0);
	assert_int_equal(drops(TOE_EP_DROP_DHCP_OTHER_SERVER), 1);
	/* INIT-REBOOT for another address: NAK, broadcast */
	len = dhcp(f, 3, NULL, (const uint8_t[]){ 50, 4, 10, 0, 0, 99 }, 6, false);
	assert_true(input(f, len));
	assert_memory_equal(out, BCAST, 6);
	assert_int_equal(*reply_opt(53, &olen), 6);
	assert_null(reply_opt(51, &olen));
	assert_int_equal(ep.stats.dhcp_naks, 1);
	/* RENEWING: ciaddr, no options -> ACK unicast to ciaddr */
	len = dhcp(f, 3, GIP, NULL, 0, false);
	assert_true(input(f, len));
	assert_int_equal(*reply_opt(53, &olen), 5);
	assert_memory_equal(out + 30, GIP, 4);
	assert_memory_equal(b + 12, GIP, 4);
	/* INFORM: configuration without a lease */
	len = dhcp(f, 8, GIP, NULL, 0, false);
	assert_true(input(f, len));
	assert_int_equal(*reply_opt(53, &olen), 5);
	assert_null(reply_opt(51, &olen));
	assert_memory_equal(b + 16, ((const uint8_t[4]){ 0 }), 4);
	assert_int_equal(ep.stats.dhcp_acks, 3);
	/* RELEASE: recorded, no answer */
	len = dhcp(f, 7, GIP, NULL, 0, false);
	assert_true(input(f, len));
	assert_int_equal(out_len, 0);
	toe_ep_lease_read(&ep, &l);
	assert_int_equal(l.state, TOE_EP_LEASE_RELEASED);
	/* a client may not send an OFFER */
	len = dhcp(f, 2, NULL, NULL, 0, false);
	assert_true(input(f, len));
	assert_int_equal(drops(TOE_EP_DROP_DHCP_TYPE), 1);
}

static void
test_dhcp_no_gateway(void **state)
{
	uint8_t f[TOE_EP_FRAME_MAX], olen;
	const uint8_t *o;
	uint32_t len;

	(void)state;
	conf.has_gw = false;
	len = dhcp(f, 1, NULL, NULL, 0, false);
	assert_true(input(f, len));
	assert_null(reply_opt(3, &olen));
	/* the server is 169.254.169.254, on-link by the classless route */
	assert_non_null(o = reply_opt(54, &olen));
	assert_memory_equal(o, toe_ep_md_ip4, 4);
	assert_non_null(o = reply_opt(121, &olen));
	assert_int_equal(olen, 9);
	assert_memory_equal(o, ((const uint8_t[]){ 32, 169, 254, 169, 254, 0, 0, 0, 0 }), 9);
	/* a renewal unicast to that server is claimed */
	len = dhcp(f, 3, GIP, NULL, 0, false);
	memcpy(f + 30, toe_ep_md_ip4, 4);
	wr16(f + 24, 0);
	wr16(f + 24, csum(f + 14, 20, 0));
	wr16(f + 40, 0);                        /* no UDP checksum */
	assert_int_equal(toe_ep_classify(&conf, f, len, len), TOE_EP_MINE);
	conf.metadata = false;
	assert_int_equal(toe_ep_classify(&conf, f, len, len), TOE_EP_MINE);
	assert_true(input(f, len));
	assert_int_equal(*reply_opt(53, &olen), 5);
	assert_null(reply_opt(121, &olen));
}

static void
test_dhcp_hostile(void **state)
{
	uint8_t f[TOE_EP_FRAME_MAX];
	uint32_t len;

	(void)state;
	/* an option running past the end */
	len = dhcp(f, 1, NULL, (const uint8_t[]){ 12, 200, 'x' }, 3, false);
	wr16(f + 40, 0);
	assert_true(input(f, len));
	assert_int_equal(drops(TOE_EP_DROP_DHCP_MALFORMED), 1);
	/* no end option */
	len = dhcp(f, 1, NULL, NULL, 0, false);
	f[len - 1] = 0;
	wr16(f + 40, 0);
	assert_true(input(f, len));
	assert_int_equal(drops(TOE_EP_DROP_DHCP_MALFORMED), 2);
	/* no magic cookie */
	len = dhcp(f, 1, NULL, NULL, 0, false);
	f[42 + 236] = 0;
	wr16(f + 40, 0);
	assert_true(input(f, len));
	assert_int_equal(drops(TOE_EP_DROP_DHCP_MALFORMED), 3);
	/* no message type (BOOTP) */
	len = dhcp(f, 1, NULL, NULL, 0, false);
	f[42 + 240] = 0;                        /* the type option padded out */
	f[42 + 241] = 0;
	f[42 + 242] = 0;
	wr16(f + 40, 0);
	assert_true(input(f, len));
	assert_int_equal(drops(TOE_EP_DROP_DHCP_MALFORMED), 4);
	/* another hardware address */
	len = dhcp(f, 1, NULL, NULL, 0, false);
	f[42 + 33] ^= 1;
	wr16(f + 40, 0);
	assert_true(input(f, len));
	assert_int_equal(drops(TOE_EP_DROP_DHCP_CLIENT), 1);
	/* relayed */
	len = dhcp(f, 1, NULL, NULL, 0, false);
	f[42 + 24] = 10;
	wr16(f + 40, 0);
	assert_true(input(f, len));
	assert_int_equal(drops(TOE_EP_DROP_DHCP_RELAYED), 1);
	/* a bad UDP checksum */
	len = dhcp(f, 1, NULL, NULL, 0, false);
	f[42 + 4] ^= 1;
	assert_true(input(f, len));
	assert_int_equal(drops(TOE_EP_DROP_UDP_BAD), 1);
	/* UDP length past the IP payload */
	len = dhcp(f, 1, NULL, NULL, 0, false);
	wr16(f + 38, 2000);
	assert_true(input(f, len));
	assert_int_equal(drops(TOE_EP_DROP_UDP_BAD), 2);
	assert_int_equal(ep.stats.replies, 0);
}

static uint32_t
ip6(uint8_t *f, const uint8_t *mac, const uint8_t *src, const uint8_t *dst,
    uint8_t hop, const uint8_t *m, uint32_t n)
{
	uint8_t *h = f + eth(f, mac, 0x86dd);

	memset(h, 0, 40);
	h[0] = 0x60;
	wr16(h + 4, (uint16_t)n);
	h[6] = 58;
	h[7] = hop;
	memcpy(h + 8, src, 16);
	memcpy(h + 24, dst, 16);
	memcpy(h + 40, m, n);
	wr16(h + 42, 0);
	wr16(h + 42, csum(h + 40, n, ps6(h, 58, n)));
	return 54 + n;
}

static void
test_nd_echo6(void **state)
{
	static const uint8_t sol[16] = { 0xff, 0x02, [11] = 1, 0xff, 0xfe, 0xa9, 0xfe };
	static const uint8_t sol_mac[6] = { 0x33, 0x33, 0xff, 0xfe, 0xa9, 0xfe };
	uint8_t f[TOE_EP_FRAME_MAX], ns[32] = { 135 }, echo[16] = { 128 };
	uint32_t len;

	(void)state;
	memcpy(ns + 8, toe_ep_md_ll6, 16);
	ns[24] = 1;                             /* source link-layer address */
	ns[25] = 1;
	memcpy(ns + 26, GMAC, 6);
	len = ip6(f, sol_mac, GLL6, sol, 255, ns, 32);
	assert_int_equal(toe_ep_classify(&conf, f, len, len), TOE_EP_MINE);
	assert_true(input(f, len));
	assert_int_equal(out_len, 14 + 40 + 32);
	assert_memory_equal(out, GMAC, 6);
	assert_int_equal(out[14 + 7], 255);
	assert_memory_equal(out + 22, toe_ep_md_ll6, 16);
	assert_memory_equal(out + 38, GLL6, 16);
	assert_int_equal(out[54], 136);
	assert_int_equal(out[58], 0x60);                /* S, O */
	assert_memory_equal(out + 62, toe_ep_md_ll6, 16);
	assert_memory_equal(out + 80, toe_ep_vmac, 6);
	assert_int_equal(csum(out + 54, 32, ps6(out + 14, 58, 32)), 0);
	/* hop limit not 255: forged from off-link */
	len = ip6(f, sol_mac, GLL6, sol, 64, ns, 32);
	assert_true(input(f, len));
	assert_int_equal(drops(TOE_EP_DROP_ND_BAD), 1);
	/* an option of length 0 */
	ns[25] = 0;
	len = ip6(f, sol_mac, GLL6, sol, 255, ns, 32);
	assert_true(input(f, len));
	assert_int_equal(drops(TOE_EP_DROP_ND_BAD), 2);
	/* a solicitation for another address in the same group */
	ns[25] = 1;
	ns[8] = 0x20;
	len = ip6(f, sol_mac, GLL6, sol, 255, ns, 32);
	assert_int_equal(toe_ep_classify(&conf, f, len, len), TOE_EP_NOT_MINE);
	/* echo to fd00:ec2::254 */
	wr16(echo + 4, 9);
	memcpy(echo + 8, "abcdefgh", 8);
	len = ip6(f, toe_ep_vmac, GLL6, toe_ep_md_ula6, 64, echo, 16);
	assert_true(input(f, len));
	assert_int_equal(out_len, len);
	assert_int_equal(out[54], 129);
	assert_memory_equal(out + 22, toe_ep_md_ula6, 16);
	assert_memory_equal(out + 58, echo + 4, 12);
	assert_int_equal(csum(out + 54, 16, ps6(out + 14, 58, 16)), 0);
	assert_int_equal(ep.stats.echo_replies, 1);
	assert_int_equal(ep.stats.nd_adverts, 1);
}

/* Every frame taken is answered, counted as a drop, a DHCP message that
 * gets no answer, or a TCP segment taken in. */
static void
assert_books(void)
{
	uint64_t d = 0;

	for (int r = 0; r < TOE_EP_DROP_MAX; r++)
		d += ep.stats.drops[r];
	assert_int_equal(ep.stats.taken, ep.stats.replies + d +
			 ep.stats.dhcp_releases + ep.stats.dhcp_declines +
			 ep.stats.tcp_segs_in);
}

static void
test_hostile(void **state)
{
	uint8_t f[8][TOE_EP_FRAME_MAX], ns[32] = { 135 };
	uint32_t lens[8], n = 0;
	uint8_t *buf;

	(void)state;
	memcpy(ns + 8, toe_ep_md_ll6, 16);
	lens[n] = arp_req(f[n], GW), n++;
	lens[n] = echo4(f[n], GW, 100), n++;
	lens[n] = tcp4(f[n], GW, 0x02, 1, 0, 0), n++;
	lens[n] = dhcp(f[n], 1, NULL, NULL, 0, false), n++;
	lens[n] = dhcp(f[n], 3, NULL, (const uint8_t[]){ 50, 4, 10, 0, 0, 11 }, 6, false), n++;
	lens[n] = ip6(f[n], toe_ep_vmac, GLL6, toe_ep_md_ll6, 255, ns, 24), n++;
	lens[n] = echo4(f[n], toe_ep_md_ip4, 1400), n++;
	/* every truncation, into a buffer of exactly that size (ASan) */
	for (uint32_t i = 0; i < n; i++)
		for (uint32_t l = 0; l <= lens[i]; l++) {
			buf = malloc(l ? l : 1);
			memcpy(buf, f[i], l);
			toe_ep_classify(&conf, buf, l, l);
			input(buf, l);
			assert_true(out_len <= TOE_EP_FRAME_MAX);
			free(buf);
		}
	/* random bytes after a header that is claimed */
	srand(7);
	for (int round = 0; round < 20000; round++) {
		uint32_t i = (uint32_t)rand() % n, l = (uint32_t)rand() % (lens[i] + 1);

		buf = malloc(l ? l : 1);
		memcpy(buf, f[i], l);
		for (int k = 0; k < 4 && l > 14; k++)
			buf[14 + (uint32_t)rand() % (l - 14)] = (uint8_t)rand();
		input(buf, l);
		free(buf);
	}
	/* a frame larger than the endpoint reads */
	buf = calloc(1, 9000);
	echo4(buf, GW, 0);
	assert_true(input(buf, 9000));
	assert_int_equal(drops(TOE_EP_DROP_TOO_BIG), 1);
	free(buf);
	assert_books();
}

static void
test_names(void **state)
{
	(void)state;
	for (int r = 0; r < TOE_EP_DROP_MAX; r++) {
		assert_non_null(toe_ep_drop_name(r));
		assert_non_null(toe_ep_drop_help(r));
		for (int s = 0; s < r; s++)
			assert_string_not_equal(toe_ep_drop_name(r), toe_ep_drop_name(s));
	}
	assert_null(toe_ep_drop_name(TOE_EP_DROP_MAX));
	assert_string_equal(toe_ep_lease_state_name(TOE_EP_LEASE_BOUND), "bound");
	assert_int_equal(toe_ep_n_counters, 33);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup(test_classify, setup),
		cmocka_unit_test_setup(test_arp, setup),
		cmocka_unit_test_setup(test_arp_proxy, setup),
		cmocka_unit_test_setup(test_icmp, setup),
		cmocka_unit_test_setup(test_reassembly, setup),
		cmocka_unit_test_setup(test_tcp_closed, setup),
		cmocka_unit_test_setup(test_dhcp_exchange, setup),
		cmocka_unit_test_setup(test_dhcp_no_gateway, setup),
		cmocka_unit_test_setup(test_dhcp_hostile, setup),
		cmocka_unit_test_setup(test_nd_echo6, setup),
		cmocka_unit_test_setup(test_hostile, setup),
		cmocka_unit_test(test_names),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
