/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * GRO toward a guest, as scenarios: segments arrive from the wire in one
 * burst and the test says which of them must come out as one frame.
 * Segment k of a flow carries payload [k*mss, (k+1)*mss) of that flow's
 * stream; a merged frame must hold exactly the stream bytes of its parts,
 * with the first part's headers fixed up, and segmenting it again must
 * give back the very segments that went in.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include <netinet/in.h>
#include <rte_mbuf.h>

#include "toe_frames.h"
#include "toe_stack/toe_offload.h"

#define ALL (TOE_CAP_L4_CSUM | TOE_CAP_TSO4 | TOE_CAP_TSO6)
#define MSS 1448
#define SEQ0 0x7ffffa00u        /* crosses 2^31 within a few segments */

static struct rte_mbuf *pkts[128];
static struct tf_spec specs[128];

/* Segment k (MSS bytes of the stream) of flow, from the wire. */
static struct tf_spec
seg(int ipv, uint8_t flow, uint32_t k)
{
	return (struct tf_spec){
		.ipv = ipv, .flow = flow, .seq = SEQ0 + k * MSS,
		.ack = 0x10000, .ip_id = (uint16_t)(100 + k),
		.payload_len = MSS, .payload_off = k * MSS + flow * 7u,
		.tsval = 5,
	};
}

static uint16_t
burst(uint16_t n, uint32_t caps)
{
	for (uint16_t i = 0; i < n; i++) {
		pkts[i] = tf_mbuf_spec(toe_t.guest, &specs[i], 0);
		assert_non_null(pkts[i]);
	}
	return toe_gro_burst(toe_t.ctx, caps, pkts, n);
}

/*
 * Output frame i must be specs first, first + stride, ... (count of them)
 * merged: one frame of their payloads under the first one's headers, or
 * (count 1) the segment exactly as it went in.
 */
static void
expect_frames(uint16_t i, uint16_t first, uint16_t count, uint16_t stride)
{
	static uint8_t got[TF_FRAME_MAX], want[TF_FRAME_MAX];
	const struct tf_spec *s = &specs[first];
	struct rte_mbuf *m = pkts[i];
	size_t len = tf_linear(m, got), wlen;
	struct tf_view v, wv;
	uint32_t payload = 0;
	uint8_t psh = 0;

	if (count == 1) {
		wlen = tf_build(s, want);
		assert_int_equal(len, wlen);
		assert_memory_equal(got, want, len);
		assert_int_equal(m->ol_flags & RTE_MBUF_F_TX_TCP_SEG, 0);
		return;
	}
	for (uint16_t j = 0; j < count; j++) {
		payload += specs[first + j * stride].payload_len;
		psh |= specs[first + j * stride].flags & TF_PSH;
	}
	wlen = tf_build(s, want);
	tf_view(want, wlen, &wv);
	tf_view(got, len, &v);
	assert_int_equal(len, wv.payload_off + payload);
	assert_int_equal(m->pkt_len, len);
	assert_int_equal(v.payload_len, payload);
	assert_memory_equal(got, want, wv.l2);
	assert_int_equal(v.seq, s->seq);
	assert_int_equal(v.ack, s->ack);
	assert_int_equal(v.flags, (s->flags ? s->flags : TF_ACK) | psh);
	if (v.ipv == 4)
		assert_true(tf_ipv4_csum_ok(got, &v));
	assert_int_equal(v.l4_csum, tf_pseudo(got, &v));
	for (uint32_t j = 0; j < payload; j++)
		if (got[v.payload_off + j] != tf_byte(s->payload_off + j))
			fail_msg("frame %u: payload byte %u differs", i, j);
	assert_int_equal(m->ol_flags,
			 RTE_MBUF_F_TX_TCP_SEG | RTE_MBUF_F_TX_TCP_CKSUM |
			 (v.ipv == 4 ? RTE_MBUF_F_TX_IPV4 : RTE_MBUF_F_TX_IPV6));
	assert_int_equal(m->tso_segsz, s->payload_len);
	assert_int_equal(m->l2_len, wv.l2);
	assert_int_equal(m->l3_len, wv.l3);
	assert_int_equal(m->l4_len, wv.l4);
}

static void
expect_frame(uint16_t i, uint16_t first, uint16_t count)
{
	expect_frames(i, first, count, 1);
}

static void
free_out(uint16_t n)
{
	rte_pktmbuf_free_bulk(pkts, n);
}

static void
test_in_order_merges(void **state)
{
	(void)state;
	for (int ipv = 4; ipv <= 6; ipv += 2) {
		for (uint32_t k = 0; k < 20; k++)
			specs[k] = seg(ipv, 0, k);
		assert_int_equal(burst(20, ALL), 1);
		expect_frame(0, 0, 20);
		free_out(1);
	}
	assert_int_equal(toe_ctx_stats(toe_t.ctx)->coalesced, 38);
	assert_int_equal(toe_ctx_stats(toe_t.ctx)->gro_frames, 2);
	assert_int_equal(toe_ctx_stats(toe_t.ctx)->csum_checked, 40);
}

/* What GRO merged, segmentation gives back exactly: same bytes, same
 * checksums, the same IP IDs (they were consecutive). */
static void
test_round_trip(void **state)
{
	static uint8_t got[TF_FRAME_MAX], want[TF_FRAME_MAX];
	struct rte_mbuf *segs[64];

	(void)state;
	for (int ipv = 4; ipv <= 6; ipv += 2) {
		for (uint32_t k = 0; k < 30; k++)
			specs[k] = seg(ipv, 0, k);
		specs[29].payload_len = 99;
		specs[29].flags = TF_ACK | TF_PSH;
		assert_int_equal(burst(30, ALL), 1);
		assert_int_equal(toe_egress_prepare(toe_t.ctx, 0, pkts, 1, segs,
						    64), 30);
		for (uint16_t k = 0; k < 30; k++) {
			size_t len = tf_linear(segs[k], got);

			assert_int_equal(len, tf_build(&specs[k], want));
			assert_memory_equal(got, want, len);
		}
		rte_pktmbuf_free_bulk(segs, 30);
	}
}

/* A gap or a step back ends the frame; each run in order merges. */
static void
test_out_of_order_flushes(void **state)
{
	static const uint32_t order[] = { 0, 1, 3, 4, 2, 5, 6, 6 };
	uint16_t n;

	(void)state;
	for (size_t i = 0; i < RTE_DIM(order); i++)
		specs[i] = seg(4, 0, order[i]);
	n = burst(RTE_DIM(order), ALL);
	/* [0 1] [3 4] [2] [5 6] [6: a duplicate is out of order too] */
	assert_int_equal(n, 5);
	expect_frame(0, 0, 2);
	expect_frame(1, 2, 2);
	expect_frame(2, 4, 1);
	expect_frame(3, 5, 2);
	expect_frame(4, 7, 1);
	free_out(n);
}

/* PSH merges, stays on the frame and ends it. */
static void
test_psh_merges_and_ends(void **state)
{
	uint16_t n;

	(void)state;
	for (uint32_t k = 0; k < 6; k++)
		specs[k] = seg(6, 0, k);
	specs[2].flags = TF_ACK | TF_PSH;
	n = burst(6, ALL);
	assert_int_equal(n, 2);
	expect_frame(0, 0, 3);
	expect_frame(1, 3, 3);
	free_out(n);
}

/* SYN, FIN, RST and URG never merge, either way. */
static void
test_syn_fin_rst_urg_never_merge(void **state)
{
	static const uint8_t flags[] = { TF_SYN, TF_FIN, TF_RST, TF_URG };

	(void)state;
	for (size_t f = 0; f < RTE_DIM(flags); f++) {
		uint16_t n;

		for (uint32_t k = 0; k < 5; k++)
			specs[k] = seg(4, 0, k);
		specs[2].flags = TF_ACK | flags[f];
		n = burst(5, ALL);
		assert_int_equal(n, 3);
		expect_frame(0, 0, 2);
		expect_frame(1, 2, 1);
		expect_frame(2, 3, 2);
		free_out(n);
	}
}

/* CWR may open a frame, never join one (RFC 3168 §6.1.2). */
static void
test_cwr_first_only(void **state)
{
	uint16_t n;

	(void)state;
	for (uint32_t k = 0; k < 6; k++)
		specs[k] = seg(4, 0, k);
	specs[0].flags = TF_ACK | TF_CWR;
	specs[3].flags = TF_ACK | TF_CWR;
	n = burst(6, ALL);
	assert_int_equal(n, 2);
	expect_frame(0, 0, 3);
	expect_frame(1, 3, 3);
	free_out(n);
}

/* Anything the merged header could not say for every segment splits:
 * timestamps, ACK, window, TTL, TOS. */
static void
test_header_changes_split(void **state)
{
	(void)state;
	for (int c = 0; c < 5; c++) {
		uint16_t n;

		for (uint32_t k = 0; k < 4; k++) {
			specs[k] = seg(4, 0, k);
			if (k < 2)
				continue;
			if (c == 0)
				specs[k].tsval = 6;
			else if (c == 1)
				specs[k].ack = 0x20000;
			else if (c == 2)
				specs[k].window = 1000;
			else if (c == 3)
				specs[k].ttl = 63;
			else
				specs[k].tos = 0x3;     /* ECN CE */
		}
		n = burst(4, ALL);
		assert_int_equal(n, 2);
		expect_frame(0, 0, 2);
		expect_frame(1, 2, 2);
		free_out(n);
	}
}

/* Two flows interleaved (and one on the same addresses, other ports,
 * ahead of them): each merges on its own. */
static void
test_flows_interleaved(void **state)
{
	uint16_t n = 0;

	(void)state;
	specs[n++] = (struct tf_spec){ .ipv = 4, .flow = 1,
				       .proto = IPPROTO_UDP, .payload_len = 100 };
	for (uint32_t k = 0; k < 6; k++) {
		specs[n++] = seg(4, 1, k);
		specs[n++] = seg(6, 2, k);
	}
	n = burst(n, ALL);
	assert_int_equal(n, 3);
	expect_frame(0, 0, 1);
	expect_frames(1, 1, 6, 2);
	expect_frames(2, 2, 6, 2);
	free_out(n);
}

/* The short segment is the last of a write; a bigger one starts anew. */
static void
test_short_ends_bigger_restarts(void **state)
{
	uint16_t n;

	(void)state;
	for (uint32_t k = 0; k < 5; k++)
		specs[k] = seg(4, 0, k);
	specs[2].payload_len = 500;
	specs[3].seq = specs[2].seq + 500;
	specs[3].payload_off = specs[2].payload_off + 500;
	specs[3].payload_len = 400;
	specs[4].seq = specs[3].seq + 400;
	specs[4].payload_off = specs[3].payload_off + 400;
	n = burst(5, ALL);
	/* [0 1 2(short)] [3(400)] [4: 1448 > 400, new frame] */
	assert_int_equal(n, 3);
	expect_frame(0, 0, 3);
	expect_frame(1, 3, 1);
	expect_frame(2, 4, 1);
	free_out(n);
}

/* 64 KB at most: 45 segments of 1448 fit an IPv4 datagram, 46 do not. */
static void
test_size_limit(void **state)
{
	uint16_t n;

	(void)state;
	for (uint32_t k = 0; k < 50; k++)
		specs[k] = seg(4, 0, k);
	n = burst(50, ALL);
	assert_int_equal(n, 2);
	expect_frame(0, 0, 45);
	expect_frame(1, 45, 5);
	assert_true(pkts[0]->pkt_len - 14 <= 65535);
	free_out(n);
}

/* Corrupt segments pass unmerged, for the guest to drop; a NIC's GOOD
 * is trusted, its BAD is not merged. */
static void
test_checksums(void **state)
{
	const struct toe_stats *st = toe_ctx_stats(toe_t.ctx);
	uint16_t n;

	(void)state;
	for (uint32_t k = 0; k < 5; k++)
		specs[k] = seg(4, 0, k);
	specs[2].csum_bad = true;
	n = burst(5, ALL);
	assert_int_equal(n, 3);
	expect_frame(0, 0, 2);
	expect_frame(1, 2, 1);
	expect_frame(2, 3, 2);
	assert_int_equal(st->csum_bad, 1);
	free_out(n);

	for (uint32_t k = 0; k < 4; k++)
		pkts[k] = tf_mbuf_spec(toe_t.guest, &specs[k], 0);
	for (uint32_t k = 0; k < 4; k++)
		pkts[k]->ol_flags = RTE_MBUF_F_RX_IP_CKSUM_GOOD |
				    (k == 1 ? RTE_MBUF_F_RX_L4_CKSUM_BAD :
					      RTE_MBUF_F_RX_L4_CKSUM_GOOD);
	/* specs[2] is corrupt, but flagged GOOD: trusted, merged */
	n = toe_gro_burst(toe_t.ctx, ALL, pkts, 4);
	assert_int_equal(n, 3);
	assert_int_equal(pkts[2]->pkt_len, 14 + 52 + 2 * MSS);
	assert_int_equal(st->csum_bad, 2);
	free_out(n);
}

/* What never merges: IP options, fragments, pure ACKs, frames a guest
 * sent with offload requests, shared frames, families the guest lacks. */
static void
test_not_mergeable(void **state)
{
	(void)state;
	for (int c = 0; c < 6; c++) {
		uint32_t caps = c == 5 ? TOE_CAP_L4_CSUM | TOE_CAP_TSO6 : ALL;
		uint16_t n;

		for (uint32_t k = 0; k < 3; k++) {
			specs[k] = seg(4, 0, k);
			if (c == 0)
				specs[k].ip_opt_words = 1;
			else if (c == 1)
				specs[k].frag_off = 0x2000;
			else if (c == 2 && k == 1)
				specs[k].payload_len = 0;
		}
		for (uint16_t k = 0; k < 3; k++)
			pkts[k] = tf_mbuf_spec(toe_t.guest, &specs[k], 0);
		if (c == 3)
			pkts[1]->ol_flags = RTE_MBUF_F_TX_TCP_CKSUM;
		if (c == 4)
			rte_mbuf_refcnt_update(pkts[1], 1);
		n = toe_gro_burst(toe_t.ctx, caps, pkts, 3);
		assert_int_equal(n, 3);
		if (c == 4)
			rte_pktmbuf_free(pkts[1]);
		free_out(n);
	}
	assert_int_equal(toe_ctx_stats(toe_t.ctx)->coalesced, 0);
}

/* Segments spread over several mbufs merge as well, zero copy. */
static void
test_chained_segments(void **state)
{
	uint16_t n;

	(void)state;
	for (uint32_t k = 0; k < 8; k++) {
		specs[k] = seg(6, 0, k);
		pkts[k] = tf_mbuf_spec(toe_t.guest, &specs[k], 700);
	}
	n = toe_gro_burst(toe_t.ctx, ALL, pkts, 8);
	assert_int_equal(n, 1);
	expect_frame(0, 0, 8);
	free_out(n);
}

#define T(f) cmocka_unit_test_setup_teardown(f, toe_test_setup, toe_test_teardown)
const struct CMUnitTest toe_gro_tests[] = {
	T(test_in_order_merges),
	T(test_round_trip),
	T(test_out_of_order_flushes),
	T(test_psh_merges_and_ends),
	T(test_syn_fin_rst_urg_never_merge),
	T(test_cwr_first_only),
	T(test_header_changes_split),
	T(test_flows_interleaved),
	T(test_short_ends_bigger_restarts),
	T(test_size_limit),
	T(test_checksums),
	T(test_not_mergeable),
	T(test_chained_segments),
};
const size_t toe_gro_tests_n = RTE_DIM(toe_gro_tests);
