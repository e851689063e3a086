/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * A guest lies about its frames: every way the offload metadata can
 * disagree with the bytes, through the raw virtio-net header, through
 * rte_vhost's compliant flags and through its legacy flags.  Each lie is
 * dropped under its own reason, nothing is read past the data (run it
 * under ASan), and honest frames come out in canonical form.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include <linux/virtio_net.h>
#include <netinet/in.h>
#include <rte_ethdev.h>
#include <rte_mbuf.h>

#include "toe_frames.h"
#include "toe_stack/toe_offload.h"

enum claim { VNET, COMPLIANT, LEGACY };

struct vcase {
	const char *what;
	struct tf_spec spec;
	uint32_t seg_size;
	void (*lie)(uint8_t *buf, size_t *len);
	void (*lie_mbuf)(struct rte_mbuf *m);
	enum claim claim;
	struct virtio_net_hdr vh;
	uint64_t ol_flags;
	uint16_t tso_segsz;
	uint8_t l2, l3, l4;
	enum toe_drop expect;
};

#define TCP4 { .ipv = 4, .payload_len = 3000, .csum_partial = true }
#define TCP6 { .ipv = 6, .payload_len = 3000, .csum_partial = true }
#define UDP4 { .ipv = 4, .proto = IPPROTO_UDP, .payload_len = 3000, .csum_partial = true }
#define ICMP4 { .ipv = 4, .proto = IPPROTO_ICMP, .payload_len = 100 }
/* TCP4: 14 + 20 + 32 header bytes, 3066 in all, L4 at 34. */
#define VH_CSUM(start, off) { .flags = VIRTIO_NET_HDR_F_NEEDS_CSUM, \
			      .csum_start = (start), .csum_offset = (off) }
#define VH_TSO(type, size, hl) { .flags = VIRTIO_NET_HDR_F_NEEDS_CSUM, \
				 .gso_type = (type), .gso_size = (size), \
				 .hdr_len = (hl), .csum_start = 34, .csum_offset = 16 }
#define LRO (RTE_MBUF_F_RX_LRO | RTE_MBUF_F_RX_L4_CKSUM_NONE)
#define LEG_TSO4 (RTE_MBUF_F_TX_TCP_SEG | RTE_MBUF_F_TX_IPV4 | RTE_MBUF_F_TX_TCP_CKSUM)

static void
lie_ethertype_arp(uint8_t *b, size_t *len)
{
	(void)len;
	b[12] = 0x08;
	b[13] = 0x06;
}

static void lie_ip4_len_long(uint8_t *b, size_t *len) { (void)len; b[17]++; }
static void lie_ip4_len_short(uint8_t *b, size_t *len) { (void)len; b[16] -= 1; }
static void lie_ip6_len_long(uint8_t *b, size_t *len) { (void)len; b[19]++; }
static void lie_ihl_4(uint8_t *b, size_t *len) { (void)len; b[14] = 0x44; }
static void lie_ip_version_5(uint8_t *b, size_t *len) { (void)len; b[14] = 0x55; }
static void lie_ip6_jumbo(uint8_t *b, size_t *len) { (void)len; b[18] = b[19] = 0; }
static void lie_doff_15(uint8_t *b, size_t *len) { (void)len; b[34 + 12] = 0xf0; }
static void lie_doff_4(uint8_t *b, size_t *len) { (void)len; b[34 + 12] = 0x40; }
static void lie_udp_len(uint8_t *b, size_t *len) { (void)len; b[34 + 5]++; }
static void lie_truncate_30(uint8_t *b, size_t *len) { (void)b; *len = 30; }

/* Insert n IPv6 extension headers of size bytes each after the IPv6
 * header, chained in front of the original next header. */
static void
ip6_ext_insert(uint8_t *b, size_t *len, unsigned int n, unsigned int size,
	       uint8_t type)
{
	uint8_t *ip = b + 14;
	uint32_t plen = (uint32_t)ip[4] << 8 | ip[5];
	uint8_t next = ip[6];

	memmove(ip + 40 + n * size, ip + 40, *len - 54);
	for (unsigned int i = 0; i < n; i++) {
		uint8_t *e = ip + 40 + i * size;

		memset(e, 0, size);
		e[0] = i + 1 < n ? type : next;
		e[1] = (uint8_t)(size / 8 - 1);
	}
	ip[6] = type;
	plen += n * size;
	ip[4] = (uint8_t)(plen >> 8);
	ip[5] = (uint8_t)plen;
	*len += n * size;
}

static void
lie_ip6_ext_nine(uint8_t *b, size_t *len)
{
	ip6_ext_insert(b, len, 9, 8, IPPROTO_DSTOPTS);
}

static void
lie_ip6_ext_too_long(uint8_t *b, size_t *len)
{
	ip6_ext_insert(b, len, 1, 240, IPPROTO_DSTOPTS);
}

static void
lie_ip6_ext_past_datagram(uint8_t *b, size_t *len)
{
	/* The extension header claims 2048 bytes; the datagram has 3040. */
	ip6_ext_insert(b, len, 1, 8, IPPROTO_HOPOPTS);
	b[14 + 40 + 1] = 255;
	b[14 + 4] = 0;
	b[14 + 5] = 100;        /* payload length 100: ends inside */
	*len = 14 + 40 + 100;
}

static void lie_pkt_len_long(struct rte_mbuf *m) { m->pkt_len += 100; }
static void lie_nb_segs_low(struct rte_mbuf *m) { m->nb_segs--; }
static void lie_nb_segs_high(struct rte_mbuf *m) { m->nb_segs++; }

static void
lie_data_len_past_buffer(struct rte_mbuf *m)
{
	struct rte_mbuf *seg = m->next;
	uint16_t grow = (uint16_t)(seg->buf_len - seg->data_off - seg->data_len + 1);

	seg->data_len = (uint16_t)(seg->data_len + grow);
	m->pkt_len += grow;
}

static const struct vcase cases[] = {
	{ "csum_start at the end", TCP4, 0, NULL, NULL, VNET, VH_CSUM(3066, 16),
	  .expect = TOE_DROP_CSUM_START_OOB },
	{ "csum_start 0xffff", TCP4, 0, NULL, NULL, VNET, VH_CSUM(0xffff, 0),
	  .expect = TOE_DROP_CSUM_START_OOB },
	{ "csum field past the end", TCP4, 0, NULL, NULL, VNET, VH_CSUM(34, 3040),
	  .expect = TOE_DROP_CSUM_OFFSET_OOB },
	{ "csum field straddles the end", TCP4, 0, NULL, NULL, VNET,
	  VH_CSUM(3065, 0), .expect = TOE_DROP_CSUM_OFFSET_OOB },
	{ "gso_size 0", TCP4, 0, NULL, NULL, VNET,
	  VH_TSO(VIRTIO_NET_HDR_GSO_TCPV4, 0, 66), .expect = TOE_DROP_GSO_SIZE_ZERO },
	{ "gso_size above the payload", TCP4, 0, NULL, NULL, VNET,
	  VH_TSO(VIRTIO_NET_HDR_GSO_TCPV4, 3001, 66), .expect = TOE_DROP_GSO_SIZE_BIG },
	{ "gso without payload", { .ipv = 4, .csum_partial = true }, 0, NULL, NULL,
	  VNET, VH_TSO(VIRTIO_NET_HDR_GSO_TCPV4, 1448, 66),
	  .expect = TOE_DROP_GSO_SIZE_BIG },
	{ "gso_size 2: 1500 segments", TCP4, 0, NULL, NULL, VNET,
	  VH_TSO(VIRTIO_NET_HDR_GSO_TCPV4, 2, 66),
	  .expect = TOE_DROP_GSO_TOO_MANY_SEGS },
	{ "hdr_len past the frame", TCP4, 0, NULL, NULL, VNET,
	  VH_TSO(VIRTIO_NET_HDR_GSO_TCPV4, 1448, 3067), .expect = TOE_DROP_HDR_LEN_BAD },
	{ "hdr_len inside the TCP header", TCP4, 0, NULL, NULL, VNET,
	  VH_TSO(VIRTIO_NET_HDR_GSO_TCPV4, 1448, 54), .expect = TOE_DROP_HDR_LEN_BAD },
	{ "TSO on UDP", UDP4, 0, NULL, NULL, VNET,
	  VH_TSO(VIRTIO_NET_HDR_GSO_TCPV4, 1448, 0), .expect = TOE_DROP_GSO_NOT_TCP },
	{ "TSO on ICMP", ICMP4, 0, NULL, NULL, VNET,
	  VH_TSO(VIRTIO_NET_HDR_GSO_TCPV4, 50, 0), .expect = TOE_DROP_GSO_NOT_TCP },
	{ "TSO on ARP", TCP4, 0, lie_ethertype_arp, NULL, VNET,
	  VH_TSO(VIRTIO_NET_HDR_GSO_TCPV4, 1448, 0), .expect = TOE_DROP_GSO_NOT_TCP },
	{ "TCPv6 gso on IPv4", TCP4, 0, NULL, NULL, VNET,
	  VH_TSO(VIRTIO_NET_HDR_GSO_TCPV6, 1448, 0),
	  .expect = TOE_DROP_GSO_TYPE_MISMATCH },
	{ "UFO", UDP4, 0, NULL, NULL, VNET, VH_TSO(VIRTIO_NET_HDR_GSO_UDP, 1448, 0),
	  .expect = TOE_DROP_GSO_UNSUPPORTED },
	{ "TSO with SYN", { .ipv = 4, .payload_len = 3000, .flags = TF_SYN }, 0,
	  NULL, NULL, VNET, VH_TSO(VIRTIO_NET_HDR_GSO_TCPV4, 1448, 0),
	  .expect = TOE_DROP_GSO_FLAGS_BAD },
	{ "IPv4 total length past the frame", TCP4, 0, lie_ip4_len_long, NULL, VNET,
	  VH_TSO(VIRTIO_NET_HDR_GSO_TCPV4, 1448, 0), .expect = TOE_DROP_IP_LEN_BAD },
	{ "IPv4 total length 256 short", TCP4, 0, lie_ip4_len_short, NULL, VNET,
	  VH_TSO(VIRTIO_NET_HDR_GSO_TCPV4, 1448, 0), .expect = TOE_DROP_IP_LEN_BAD },
	{ "IPv6 payload length past the frame", TCP6, 0, lie_ip6_len_long, NULL,
	  VNET, VH_TSO(VIRTIO_NET_HDR_GSO_TCPV6, 1448, 0),
	  .expect = TOE_DROP_IP_LEN_BAD },
	{ "IHL 4", TCP4, 0, lie_ihl_4, NULL, VNET, VH_CSUM(34, 16),
	  .expect = TOE_DROP_L3_BAD },
	{ "IPv4 ethertype, version 5", TCP4, 0, lie_ip_version_5, NULL, VNET,
	  VH_CSUM(34, 16), .expect = TOE_DROP_L3_BAD },
	{ "IPv6 jumbogram", TCP6, 0, lie_ip6_jumbo, NULL, COMPLIANT,
	  .ol_flags = RTE_MBUF_F_RX_L4_CKSUM_NONE, .expect = TOE_DROP_L3_BAD },
	{ "TCP data offset past the datagram",
	  { .ipv = 4, .payload_len = 10, .csum_partial = true }, 0, lie_doff_15,
	  NULL, VNET, VH_CSUM(34, 16), .expect = TOE_DROP_HDR_TRUNCATED },
	{ "TCP data offset 4", TCP4, 0, lie_doff_4, NULL, COMPLIANT,
	  .ol_flags = LRO, .tso_segsz = 1448, .expect = TOE_DROP_L4_BAD },
	{ "UDP length lies", UDP4, 0, lie_udp_len, NULL, COMPLIANT,
	  .ol_flags = RTE_MBUF_F_RX_L4_CKSUM_NONE, .expect = TOE_DROP_L4_BAD },
	{ "truncated to 30 bytes", TCP4, 0, lie_truncate_30, NULL, COMPLIANT,
	  .ol_flags = RTE_MBUF_F_RX_L4_CKSUM_NONE, .expect = TOE_DROP_HDR_TRUNCATED },
	{ "fragment with TSO", { .ipv = 4, .payload_len = 3000, .frag_off = 0x2000 },
	  0, NULL, NULL, VNET, VH_TSO(VIRTIO_NET_HDR_GSO_TCPV4, 1448, 0),
	  .expect = TOE_DROP_IP_FRAG },
	{ "fragment with checksum", { .ipv = 4, .payload_len = 3000, .frag_off = 0x2000 },
	  0, NULL, NULL, COMPLIANT, .ol_flags = RTE_MBUF_F_RX_L4_CKSUM_NONE,
	  .expect = TOE_DROP_IP_FRAG },
	{ "checksum on ICMP", ICMP4, 0, NULL, NULL, COMPLIANT,
	  .ol_flags = RTE_MBUF_F_RX_L4_CKSUM_NONE,
	  .expect = TOE_DROP_CSUM_UNSUPPORTED },
	{ "compliant LRO on UDP", UDP4, 0, NULL, NULL, COMPLIANT, .ol_flags = LRO,
	  .tso_segsz = 1448, .expect = TOE_DROP_GSO_NOT_TCP },
	{ "compliant tso_segsz 0", TCP4, 0, NULL, NULL, COMPLIANT, .ol_flags = LRO,
	  .tso_segsz = 0, .expect = TOE_DROP_GSO_SIZE_ZERO },
	{ "compliant tso_segsz above the payload", TCP4, 0, NULL, NULL, COMPLIANT,
	  .ol_flags = LRO, .tso_segsz = 9000, .expect = TOE_DROP_GSO_SIZE_BIG },
	{ "legacy l4_len shorter than the TCP header", TCP4, 0, NULL, NULL, LEGACY,
	  .ol_flags = LEG_TSO4, .tso_segsz = 1448, .l2 = 14, .l3 = 20, .l4 = 20,
	  .expect = TOE_DROP_MBUF_LENS_BAD },
	{ "legacy l4_len past the frame", { .ipv = 4, .payload_len = 10 }, 0, NULL,
	  NULL, LEGACY, .ol_flags = LEG_TSO4, .tso_segsz = 8, .l2 = 14, .l3 = 20,
	  .l4 = 200, .expect = TOE_DROP_MBUF_LENS_BAD },
	{ "legacy l3_len lies", TCP4, 0, NULL, NULL, LEGACY, .ol_flags = LEG_TSO4,
	  .tso_segsz = 1448, .l2 = 14, .l3 = 40, .l4 = 32,
	  .expect = TOE_DROP_MBUF_LENS_BAD },
	{ "legacy TSO on UDP", UDP4, 0, NULL, NULL, LEGACY, .ol_flags = LEG_TSO4,
	  .tso_segsz = 1448, .l2 = 14, .l3 = 20, .l4 = 8,
	  .expect = TOE_DROP_GSO_NOT_TCP },
	{ "legacy UDP segmentation", UDP4, 0, NULL, NULL, LEGACY,
	  .ol_flags = RTE_MBUF_F_TX_UDP_SEG | RTE_MBUF_F_TX_IPV4, .tso_segsz = 1448,
	  .l2 = 14, .l3 = 20, .l4 = 8, .expect = TOE_DROP_GSO_UNSUPPORTED },
	{ "legacy TCP checksum on UDP", UDP4, 0, NULL, NULL, LEGACY,
	  .ol_flags = RTE_MBUF_F_TX_TCP_CKSUM | RTE_MBUF_F_TX_IPV4, .l2 = 14,
	  .l3 = 20, .expect = TOE_DROP_CSUM_UNSUPPORTED },
	{ "chain: pkt_len past the segments", TCP4, 1000, NULL, lie_pkt_len_long,
	  COMPLIANT, .ol_flags = LRO, .tso_segsz = 1448, .expect = TOE_DROP_CHAIN_BAD },
	{ "chain: nb_segs too low", TCP4, 1000, NULL, lie_nb_segs_low, VNET,
	  VH_TSO(VIRTIO_NET_HDR_GSO_TCPV4, 1448, 0), .expect = TOE_DROP_CHAIN_BAD },
	{ "chain: nb_segs too high", TCP4, 1000, NULL, lie_nb_segs_high, LEGACY,
	  .ol_flags = LEG_TSO4, .tso_segsz = 1448, .l2 = 14, .l3 = 20, .l4 = 32,
	  .expect = TOE_DROP_CHAIN_BAD },
	{ "chain: data_len past its buffer", TCP4, 1000, NULL,
	  lie_data_len_past_buffer, COMPLIANT, .ol_flags = LRO, .tso_segsz = 1448,
	  .expect = TOE_DROP_CHAIN_BAD },
	{ "IPv6: nine extension headers", TCP6, 0, lie_ip6_ext_nine, NULL,
	  COMPLIANT, .ol_flags = RTE_MBUF_F_RX_L4_CKSUM_NONE,
	  .expect = TOE_DROP_L3_BAD },
	{ "IPv6: headers past 256 bytes", TCP6, 0, lie_ip6_ext_too_long, NULL,
	  COMPLIANT, .ol_flags = LRO, .tso_segsz = 1448,
	  .expect = TOE_DROP_HDR_TOO_LONG },
	{ "IPv6: extension header past the datagram", TCP6, 0,
	  lie_ip6_ext_past_datagram, NULL, COMPLIANT,
	  .ol_flags = RTE_MBUF_F_RX_L4_CKSUM_NONE, .expect = TOE_DROP_HDR_TRUNCATED },
};

static struct rte_mbuf *
case_mbuf(const struct vcase *c)
{
	static uint8_t buf[TF_FRAME_MAX];
	size_t len = tf_build(&c->spec, buf);
	struct rte_mbuf *m;

	if (c->lie != NULL)
		c->lie(buf, &len);
	m = tf_mbuf(toe_t.guest, buf, len, c->seg_size);
	assert_non_null(m);
	m->ol_flags = c->ol_flags;
	m->tso_segsz = c->tso_segsz;
	m->l2_len = c->l2;
	m->l3_len = c->l3;
	m->l4_len = c->l4;
	if (c->lie_mbuf != NULL)
		c->lie_mbuf(m);
	return m;
}

/* One case's frames through the path its claim takes. */
static uint16_t
case_run(const struct vcase *c, struct rte_mbuf **pkts, uint16_t n)
{
	struct virtio_net_hdr vh[64];

	if (c->claim != VNET)
		return toe_guest_validate(toe_t.ctx, pkts, n);
	for (uint16_t i = 0; i < n; i++)
		vh[i] = c->vh;
	return toe_vnet_validate(toe_t.ctx, vh, pkts, n);
}

static void
test_each_lie_own_reason(void **state)
{
	(void)state;
	for (size_t i = 0; i < RTE_DIM(cases); i++) {
		const struct vcase *c = &cases[i];
		const struct toe_stats *st = toe_ctx_stats(toe_t.ctx);
		uint64_t before[TOE_DROP_MAX];
		struct rte_mbuf *m = case_mbuf(c);
		uint16_t kept;

		memcpy(before, st->drops, sizeof(before));
		kept = case_run(c, &m, 1);
		if (kept != 0) {
			rte_pktmbuf_free(m);
			fail_msg("%s: kept, expected drop %s", c->what,
				 toe_drop_name(c->expect));
		}
		for (int r = 1; r < TOE_DROP_MAX; r++) {
			uint64_t want = before[r] + (r == (int)c->expect);

			if (st->drops[r] != want)
				fail_msg("%s: %s counted %llu, expected %llu",
					 c->what, toe_drop_name((enum toe_drop)r),
					 (unsigned long long)st->drops[r],
					 (unsigned long long)want);
		}
	}
}

/* Honest frames through each path, interleaved with that path's lies:
 * the honest ones come out, in order, and only they count as validated. */
static void
test_mixed_burst_keeps_order(void **state)
{
	const enum claim claims[] = { VNET, COMPLIANT, LEGACY };
	uint64_t validated = 0;

	(void)state;
	for (size_t k = 0; k < RTE_DIM(claims); k++) {
		struct vcase good = {
			.what = "good", .spec = TCP4, .claim = claims[k],
			.vh = VH_TSO(VIRTIO_NET_HDR_GSO_TCPV4, 1448, 66),
			.ol_flags = claims[k] == COMPLIANT ? LRO :
				    claims[k] == LEGACY ? LEG_TSO4 : 0,
			.tso_segsz = 1448, .l2 = 14, .l3 = 20, .l4 = 32,
		};
		struct rte_mbuf *pkts[64], *goods[32];
		struct virtio_net_hdr vh[64];
		uint16_t n = 0, n_good = 0, kept;

		for (size_t i = 0; i < RTE_DIM(cases); i++) {
			if (cases[i].claim != claims[k])
				continue;
			assert_true((size_t)n + 2 <= RTE_DIM(pkts));
			vh[n] = good.vh;
			goods[n_good] = case_mbuf(&good);
			pkts[n++] = goods[n_good++];
			vh[n] = cases[i].vh;
			pkts[n++] = case_mbuf(&cases[i]);
		}
		if (claims[k] == VNET)
			kept = toe_vnet_validate(toe_t.ctx, vh, pkts, n);
		else
			kept = toe_guest_validate(toe_t.ctx, pkts, n);
		assert_int_equal(kept, n_good);
		for (uint16_t i = 0; i < kept; i++)
			assert_ptr_equal(pkts[i], goods[i]);
		rte_pktmbuf_free_bulk(pkts, kept);
		validated += n_good;
		assert_int_equal(toe_ctx_stats(toe_t.ctx)->validated, validated);
	}
}

/* Each honest form comes out canonical: lengths from the headers,
 * requests as TX flags, RX claims gone. */
static void
check_canonical(const struct rte_mbuf *m, int ipv, uint64_t l4_req, bool tso,
		uint16_t mss)
{
	uint64_t want = (ipv == 4 ? RTE_MBUF_F_TX_IPV4 : RTE_MBUF_F_TX_IPV6) |
			l4_req | (tso ? RTE_MBUF_F_TX_TCP_SEG : 0);

	assert_int_equal(m->ol_flags, want);
	assert_int_equal(m->l2_len, 14);
	assert_int_equal(m->l3_len, ipv == 4 ? 20 : 40);
	if (tso)
		assert_int_equal(m->tso_segsz, mss);
}

static void
test_honest_frames_canonical(void **state)
{
	struct tf_spec t4 = TCP4, t6 = TCP6, u6 = { .ipv = 6, .proto = IPPROTO_UDP,
						   .payload_len = 700,
						   .csum_partial = true };
	struct virtio_net_hdr vh[3] = {
		VH_TSO(VIRTIO_NET_HDR_GSO_TCPV4, 1448, 66),
		/* Linux puts skb_headlen in hdr_len: past the headers is fine */
		VH_TSO(VIRTIO_NET_HDR_GSO_TCPV6 | VIRTIO_NET_HDR_GSO_ECN, 1440, 200),
		VH_CSUM(54, 6),
	};
	struct rte_mbuf *pkts[3];

	(void)state;
	pkts[0] = tf_mbuf_spec(toe_t.guest, &t4, 0);
	pkts[1] = tf_mbuf_spec(toe_t.guest, &t6, 512);
	pkts[2] = tf_mbuf_spec(toe_t.guest, &u6, 0);
	assert_int_equal(toe_vnet_validate(toe_t.ctx, vh, pkts, 3), 3);
	check_canonical(pkts[0], 4, RTE_MBUF_F_TX_TCP_CKSUM, true, 1448);
	check_canonical(pkts[1], 6, RTE_MBUF_F_TX_TCP_CKSUM, true, 1440);
	check_canonical(pkts[2], 6, RTE_MBUF_F_TX_UDP_CKSUM, false, 0);
	assert_int_equal(pkts[0]->l4_len, 32);

	/* rte_vhost compliant flags: GSO, and a bare partial checksum */
	for (int i = 0; i < 3; i++)
		pkts[i]->ol_flags = 0;
	pkts[0]->ol_flags = LRO;
	pkts[0]->tso_segsz = 1000;
	pkts[2]->ol_flags = RTE_MBUF_F_RX_L4_CKSUM_NONE;
	assert_int_equal(toe_guest_validate(toe_t.ctx, pkts, 3), 3);
	check_canonical(pkts[0], 4, RTE_MBUF_F_TX_TCP_CKSUM, true, 1000);
	assert_int_equal(pkts[1]->ol_flags, 0);        /* no claim: untouched */
	check_canonical(pkts[2], 6, RTE_MBUF_F_TX_UDP_CKSUM, false, 0);
	assert_int_equal(toe_ctx_stats(toe_t.ctx)->validated, 5);
	rte_pktmbuf_free_bulk(pkts, 3);
}

/* A runt without claims is not the offload layer's business. */
static void
test_no_claims_untouched(void **state)
{
	static const uint8_t runt[10] = { 1, 2, 3 };
	struct rte_mbuf *m = tf_mbuf(toe_t.guest, runt, sizeof(runt), 0);
	struct virtio_net_hdr vh = { .flags = 0x2 /* DATA_VALID: ignored */,
				     .gso_type = VIRTIO_NET_HDR_GSO_ECN };

	(void)state;
	assert_int_equal(toe_guest_validate(toe_t.ctx, &m, 1), 1);
	assert_int_equal(toe_vnet_validate(toe_t.ctx, &vh, &m, 1), 1);
	assert_int_equal(m->ol_flags, 0);
	assert_int_equal(toe_ctx_stats(toe_t.ctx)->validated, 0);
	rte_pktmbuf_free(m);
}

/* A checksum asked elsewhere than the L4 field is done right away, as
 * virtio defines it: from csum_start to the end, stored at the offset. */
static void
test_vnet_csum_elsewhere(void **state)
{
	static uint8_t buf[TF_FRAME_MAX], out[TF_FRAME_MAX];
	struct tf_spec s = { .ipv = 4, .payload_len = 1001 };
	size_t len = tf_build(&s, buf);
	struct virtio_net_hdr vh = VH_CSUM(100, 10);
	struct rte_mbuf *m;

	(void)state;
	buf[110] = buf[111] = 0;        /* the "partial" sum the guest left */
	m = tf_mbuf(toe_t.guest, buf, len, 333);
	assert_int_equal(toe_vnet_validate(toe_t.ctx, &vh, &m, 1), 1);
	assert_int_equal(tf_linear(m, out), len);
	assert_int_equal(tf_sum(out + 100, len - 100, 0), 0xffff);
	assert_memory_equal(out, buf, 110);
	assert_int_equal(m->ol_flags & RTE_MBUF_F_TX_L4_MASK, 0);
	assert_int_equal(toe_ctx_stats(toe_t.ctx)->csum_sw, 1);
	rte_pktmbuf_free(m);
}

/*
 * The direct path's check (toe_vnet_check) on bytes: every lie above is
 * found under the same reason toe_vnet_validate counts; honest frames
 * pass with the header their receiver gets; and what the other path
 * accepts only after work of its own (a checksum elsewhere, GSO without a
 * checksum request, ECN) is true but not passed on as it is.
 */
static enum toe_drop
check_bytes(const struct virtio_net_hdr *vh, const uint8_t *buf, size_t len,
	    bool *pass, uint32_t *needs, struct virtio_net_hdr *out)
{
	return toe_vnet_check(vh, buf, (uint32_t)len, pass, needs, out);
}

static void
test_vnet_check_bytes(void **state)
{
	static uint8_t buf[TF_FRAME_MAX];
	struct tf_spec t4 = TCP4, t6 = TCP6, u6 = { .ipv = 6, .proto = IPPROTO_UDP,
						   .payload_len = 700,
						   .csum_partial = true };
	struct virtio_net_hdr out, vh;
	uint32_t needs;
	bool pass;
	size_t len;

	(void)state;
	for (size_t i = 0; i < RTE_DIM(cases); i++) {
		const struct vcase *c = &cases[i];
		enum toe_drop r;

		if (c->claim != VNET || c->lie_mbuf != NULL)
			continue;
		len = tf_build(&c->spec, buf);
		if (c->lie != NULL)
			c->lie(buf, &len);
		pass = true;
		r = check_bytes(&c->vh, buf, len, &pass, &needs, &out);
		if (r != c->expect || pass)
			fail_msg("%s: %s%s, expected %s", c->what,
				 r == TOE_DROP_NONE ? "no lie" : toe_drop_name(r),
				 pass ? " (passed)" : "", toe_drop_name(c->expect));
	}

	len = tf_build(&t4, buf);
	vh = (struct virtio_net_hdr)VH_TSO(VIRTIO_NET_HDR_GSO_TCPV4, 1448, 66);
	assert_int_equal(check_bytes(&vh, buf, len, &pass, &needs, &out), TOE_DROP_NONE);
	assert_true(pass);
	assert_int_equal(needs, TOE_CAP_L4_CSUM | TOE_CAP_TSO4);
	assert_int_equal(out.flags, VIRTIO_NET_HDR_F_NEEDS_CSUM);
	assert_int_equal(out.gso_type, VIRTIO_NET_HDR_GSO_TCPV4);
	assert_int_equal(out.gso_size, 1448);
	assert_int_equal(out.csum_start, 34);
	assert_int_equal(out.csum_offset, 16);
	assert_int_equal(out.hdr_len, 66);
	/* true, but not as it is: GSO with no checksum request, ECN, an
	 * unknown flag */
	vh.flags = 0;
	assert_int_equal(check_bytes(&vh, buf, len, &pass, &needs, &out), TOE_DROP_NONE);
	assert_false(pass);
	vh.flags = VIRTIO_NET_HDR_F_NEEDS_CSUM | VIRTIO_NET_HDR_F_DATA_VALID;
	assert_int_equal(check_bytes(&vh, buf, len, &pass, &needs, &out), TOE_DROP_NONE);
	assert_false(pass);
	vh.flags = VIRTIO_NET_HDR_F_NEEDS_CSUM;
	vh.gso_type |= VIRTIO_NET_HDR_GSO_ECN;
	assert_int_equal(check_bytes(&vh, buf, len, &pass, &needs, &out), TOE_DROP_NONE);
	assert_false(pass);
	/* a checksum somewhere else than the TCP field: done in software */
	vh = (struct virtio_net_hdr)VH_CSUM(100, 10);
	assert_int_equal(check_bytes(&vh, buf, len, &pass, &needs, &out), TOE_DROP_NONE);
	assert_false(pass);
	/* a frame cut inside its TCP header: the checksum field is past its
	 * end (the first lie vnet_one finds too) */
	vh = (struct virtio_net_hdr)VH_CSUM(34, 16);
	assert_int_equal(check_bytes(&vh, buf, 50, &pass, &needs, &out),
			 TOE_DROP_CSUM_OFFSET_OOB);
	assert_false(pass);
	/* no claims at all: not the check's business */
	vh = (struct virtio_net_hdr){ 0 };
	assert_int_equal(check_bytes(&vh, buf, len, &pass, &needs, &out), TOE_DROP_NONE);
	assert_false(pass);

	/* IPv6, Linux's hdr_len (skb_headlen) replaced by the real one */
	len = tf_build(&t6, buf);
	vh = (struct virtio_net_hdr)VH_TSO(VIRTIO_NET_HDR_GSO_TCPV6, 1440, 200);
	vh.csum_start = 54;
	assert_int_equal(check_bytes(&vh, buf, len, &pass, &needs, &out), TOE_DROP_NONE);
	assert_true(pass);
	assert_int_equal(needs, TOE_CAP_L4_CSUM | TOE_CAP_TSO6);
	assert_int_equal(out.hdr_len, 14 + 40 + 32);
	assert_int_equal(out.csum_start, 54);

	/* a partial UDP checksum, no GSO */
	len = tf_build(&u6, buf);
	vh = (struct virtio_net_hdr)VH_CSUM(54, 6);
	assert_int_equal(check_bytes(&vh, buf, len, &pass, &needs, &out), TOE_DROP_NONE);
	assert_true(pass);
	assert_int_equal(needs, TOE_CAP_L4_CSUM);
	assert_int_equal(out.gso_type, VIRTIO_NET_HDR_GSO_NONE);
	assert_int_equal(out.csum_offset, 6);
}

/* What a drop sink was handed. */
static struct {
	unsigned int n;
	enum toe_stage stage[64];
	enum toe_drop reason[64];
} sunk;

static void
sink_keep(void *arg, struct rte_mbuf *m, enum toe_stage stage,
	  enum toe_drop reason)
{
	assert_ptr_equal(arg, &sunk);
	assert_non_null(m);
	if (sunk.n < RTE_DIM(sunk.stage)) {
		sunk.stage[sunk.n] = stage;
		sunk.reason[sunk.n] = reason;
	}
	sunk.n++;
	rte_pktmbuf_free(m);
}

/* With a sink, every lie's frame is handed to it (not freed by the TOE),
 * once, as a guest's, under the reason it is counted under; the harness's
 * leak check then sees every mbuf back. */
static void
test_drop_sink(void **state)
{
	(void)state;
	memset(&sunk, 0, sizeof(sunk));
	toe_ctx_set_drop_sink(toe_t.ctx, sink_keep, &sunk);
	for (size_t i = 0; i < RTE_DIM(cases); i++) {
		const struct vcase *c = &cases[i];
		struct rte_mbuf *m = case_mbuf(c);
		unsigned int before = sunk.n;

		assert_int_equal(case_run(c, &m, 1), 0);
		if (sunk.n != before + 1)
			fail_msg("%s: sink got %u frames", c->what, sunk.n - before);
		assert_int_equal(sunk.stage[before], TOE_STAGE_GUEST);
		if (sunk.reason[before] != c->expect)
			fail_msg("%s: sink got %s, expected %s", c->what,
				 toe_drop_name(sunk.reason[before]),
				 toe_drop_name(c->expect));
	}
	assert_true(RTE_DIM(cases) <= RTE_DIM(sunk.stage));
}

static void
test_drop_names(void **state)
{
	(void)state;
	assert_null(toe_drop_name(TOE_DROP_NONE));
	assert_null(toe_drop_name(TOE_DROP_MAX));
	for (int r = 1; r < TOE_DROP_MAX; r++) {
		assert_non_null(toe_drop_name((enum toe_drop)r));
		assert_non_null(toe_drop_help((enum toe_drop)r));
		for (int q = 1; q < r; q++)
			assert_string_not_equal(toe_drop_name((enum toe_drop)r),
						toe_drop_name((enum toe_drop)q));
	}
}

static void
test_caps(void **state)
{
	(void)state;
	assert_int_equal(toe_caps_from_virtio(1ULL << VIRTIO_NET_F_GUEST_TSO4), 0);
	assert_int_equal(toe_caps_from_virtio(1ULL << VIRTIO_NET_F_GUEST_CSUM),
			 TOE_CAP_L4_CSUM);
	assert_int_equal(toe_caps_from_virtio(1ULL << VIRTIO_NET_F_GUEST_CSUM |
					      1ULL << VIRTIO_NET_F_GUEST_TSO6),
			 TOE_CAP_L4_CSUM | TOE_CAP_TSO6);
	assert_int_equal(toe_caps_from_eth(RTE_ETH_TX_OFFLOAD_TCP_TSO), 0);
	assert_int_equal(toe_caps_from_eth(RTE_ETH_TX_OFFLOAD_TCP_CKSUM |
					   RTE_ETH_TX_OFFLOAD_UDP_CKSUM |
					   RTE_ETH_TX_OFFLOAD_TCP_TSO),
			 TOE_CAP_L4_CSUM | TOE_CAP_TSO4 | TOE_CAP_TSO6);
}

#define T(f) cmocka_unit_test_setup_teardown(f, toe_test_setup, toe_test_teardown)
const struct CMUnitTest toe_validate_tests[] = {
	T(test_each_lie_own_reason),
	T(test_mixed_burst_keeps_order),
	T(test_honest_frames_canonical),
	T(test_no_claims_untouched),
	T(test_vnet_csum_elsewhere),
	T(test_vnet_check_bytes),
	T(test_drop_sink),
	T(test_drop_names),
	T(test_caps),
};
const size_t toe_validate_tests_n = RTE_DIM(toe_validate_tests);
