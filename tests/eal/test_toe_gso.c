/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Software segmentation and checksum completion: a guest's 64 KB TCP
 * super-frame (IPv4 and IPv6, MSS 536, 1448, 1460, 8948) goes to an egress
 * that cannot segment it.  Every segment is read back with the reference
 * reader: lengths, sequence numbers, IP IDs, flags, options, checksums
 * recomputed independently; the payloads reassemble byte for byte.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include <netinet/in.h>
#include <rte_lcore.h>
#include <rte_mbuf.h>

#include "toe_frames.h"
#include "toe_stack/toe_offload.h"

#define LRO (RTE_MBUF_F_RX_LRO | RTE_MBUF_F_RX_L4_CKSUM_NONE)

static uint8_t orig[TF_FRAME_MAX], seg_buf[TF_FRAME_MAX], whole[TF_FRAME_MAX];
static struct rte_mbuf *out[TOE_GSO_SEGS_MAX];

/* 64 KB: the largest IPv4 datagram, the largest IPv6 payload. */
static struct tf_spec
big(int ipv)
{
	return (struct tf_spec){
		.ipv = ipv, .csum_partial = true,
		.payload_len = ipv == 4 ? 65535 - 20 - 32 : 65535 - 32,
		.seq = 0x01000000, .ack = 0xabcdef01, .ip_id = 0x1234,
		.flags = TF_ACK | TF_PSH, .tsval = 777, .payload_off = 5,
	};
}

/* The super-frame as rte_vhost hands it over (compliant flags), made
 * canonical by validation. */
static struct rte_mbuf *
super_frame(const struct tf_spec *s, uint16_t mss, uint32_t seg_size,
	    size_t *len)
{
	struct rte_mbuf *m;

	*len = tf_build(s, orig);
	m = tf_mbuf(toe_t.guest, orig, *len, seg_size);
	assert_non_null(m);
	m->ol_flags = LRO;
	m->tso_segsz = mss;
	assert_int_equal(toe_guest_validate(toe_t.ctx, &m, 1), 1);
	return m;
}

static void
check_segment(const struct tf_view *ov, uint16_t i, uint16_t n, bool partial,
	      uint32_t done, uint32_t size)
{
	const uint8_t *ip = seg_buf + ov->l2, *oip = orig + ov->l2;
	const struct rte_mbuf *m = out[i];
	size_t len = tf_linear(m, seg_buf);
	uint8_t flags = ov->flags;
	struct tf_view v;

	tf_view(seg_buf, len, &v);
	assert_int_equal(len, ov->payload_off + size);
	assert_int_equal(m->pkt_len, len);
	assert_memory_equal(seg_buf, orig, ov->l2);
	assert_int_equal(v.payload_len, size);
	if (ov->ipv == 4) {
		assert_int_equal(v.ip_len, ov->l3 + ov->l4 + size);
		assert_int_equal(v.ip_id, (uint16_t)(ov->ip_id + i));
		assert_true(tf_ipv4_csum_ok(seg_buf, &v));
		assert_int_equal(ip[1], oip[1]);        /* TOS */
		assert_int_equal(ip[6], oip[6]);        /* DF */
		assert_int_equal(ip[8], oip[8]);        /* TTL */
		assert_memory_equal(ip + 12, oip + 12, 8);
	} else {
		assert_int_equal(v.ip_len, ov->l4 + size);
		assert_memory_equal(ip, oip, 4);
		assert_memory_equal(ip + 6, oip + 6, 34);
	}
	assert_int_equal(v.seq, (uint32_t)(ov->seq + done));
	assert_int_equal(v.ack, ov->ack);
	assert_int_equal(v.window, ov->window);
	if (i + 1 != n)
		flags &= (uint8_t)~(TF_FIN | TF_PSH);
	if (i != 0)
		flags &= (uint8_t)~TF_CWR;
	assert_int_equal(v.flags, flags);
	assert_memory_equal(seg_buf + ov->l2 + ov->l3 + 20,
			    orig + ov->l2 + ov->l3 + 20, ov->l4 - 20);
	if (partial) {
		assert_int_equal(v.l4_csum, tf_pseudo(seg_buf, &v));
		assert_int_equal(m->ol_flags & RTE_MBUF_F_TX_L4_MASK,
				 RTE_MBUF_F_TX_TCP_CKSUM);
	} else {
		assert_true(tf_l4_csum_ok(seg_buf, &v));
		assert_int_equal(m->ol_flags & RTE_MBUF_F_TX_L4_MASK, 0);
	}
	assert_int_equal(m->ol_flags & RTE_MBUF_F_TX_TCP_SEG, 0);
	assert_int_equal(m->l2_len, ov->l2);
	assert_int_equal(m->l3_len, ov->l3);
	assert_int_equal(m->l4_len, ov->l4);
	memcpy(whole + done, seg_buf + v.payload_off, size);
}

/* Segment s at mss for an egress with caps, and check everything. */
static void
gso_run(const struct tf_spec *s, uint16_t mss, uint32_t caps,
	uint32_t seg_size)
{
	struct rte_mbuf *m;
	struct tf_view ov;
	uint32_t done = 0;
	uint16_t n, want;
	size_t len;

	m = super_frame(s, mss, seg_size, &len);
	tf_view(orig, len, &ov);
	want = (uint16_t)((ov.payload_len + mss - 1) / mss);
	n = toe_egress_prepare(toe_t.ctx, caps, &m, 1, out, RTE_DIM(out));
	assert_int_equal(n, want);
	for (uint16_t i = 0; i < n; i++) {
		uint32_t size = RTE_MIN((uint32_t)mss, ov.payload_len - done);

		check_segment(&ov, i, n, (caps & TOE_CAP_L4_CSUM) != 0, done,
			      size);
		done += size;
	}
	assert_int_equal(done, ov.payload_len);
	assert_memory_equal(whole, orig + ov.payload_off, done);
	assert_int_equal(toe_ctx_stats(toe_t.ctx)->segmented, 1);
	assert_int_equal(toe_ctx_stats(toe_t.ctx)->segments, n);
	rte_pktmbuf_free_bulk(out, n);
}

#define GSO_TEST(name, ipv, mss)                                \
static void                                                     \
name(void **state)                                              \
{                                                               \
	struct tf_spec s = big(ipv);                            \
								\
	(void)state;                                            \
	gso_run(&s, mss, 0, 0);                                 \
}
GSO_TEST(test_gso_ipv4_mss536, 4, 536)
GSO_TEST(test_gso_ipv4_mss1448, 4, 1448)
GSO_TEST(test_gso_ipv4_mss1460, 4, 1460)
GSO_TEST(test_gso_ipv4_mss8948, 4, 8948)
GSO_TEST(test_gso_ipv6_mss536, 6, 536)
GSO_TEST(test_gso_ipv6_mss1448, 6, 1448)
GSO_TEST(test_gso_ipv6_mss1460, 6, 1460)
GSO_TEST(test_gso_ipv6_mss8948, 6, 8948)

/* An egress that completes checksums (GUEST_CSUM without GUEST_TSO):
 * segments leave with a partial checksum and TX_TCP_CKSUM. */
static void
test_gso_partial_csum(void **state)
{
	struct tf_spec s4 = big(4), s6 = big(6);

	(void)state;
	gso_run(&s4, 1448, TOE_CAP_L4_CSUM, 0);
	toe_ctx_destroy(toe_t.ctx);
	toe_t.ctx = toe_ctx_create(toe_t.pool, (int)rte_socket_id());
	/* IPv6 to an egress that segments IPv4 only */
	gso_run(&s6, 1448, TOE_CAP_L4_CSUM | TOE_CAP_TSO4, 0);
}

/* Sequence numbers and IDs wrap; FIN and PSH go last, CWR first, ECE
 * everywhere; a VLAN tag and an odd chain change nothing. */
static void
test_gso_wrap_flags_vlan_chain(void **state)
{
	struct tf_spec s = big(4);

	(void)state;
	s.seq = 0xffffe000;
	s.ip_id = 0xfffe;
	s.flags = TF_ACK | TF_PSH | TF_FIN | TF_CWR | TF_ECE;
	s.vlan = true;
	s.payload_len -= 4;
	gso_run(&s, 1448, 0, 333);
}

/* The egress that segments itself gets the super-frame as it is. */
static void
test_gso_passthrough(void **state)
{
	struct tf_spec s = big(6);
	struct rte_mbuf *m, *orig_m;
	size_t len;

	(void)state;
	m = orig_m = super_frame(&s, 1448, 0, &len);
	assert_int_equal(toe_egress_prepare(toe_t.ctx, TOE_CAP_L4_CSUM |
					    TOE_CAP_TSO6, &m, 1, out, 1), 1);
	assert_ptr_equal(out[0], orig_m);
	assert_true(out[0]->ol_flags & RTE_MBUF_F_TX_TCP_SEG);
	assert_int_equal(out[0]->tso_segsz, 1448);
	assert_int_equal(toe_ctx_stats(toe_t.ctx)->segmented, 0);
	rte_pktmbuf_free(out[0]);
}

static void
test_gso_out_full(void **state)
{
	struct tf_spec s = big(4);
	struct rte_mbuf *m;
	size_t len;

	(void)state;
	m = super_frame(&s, 1448, 0, &len);
	assert_int_equal(toe_egress_prepare(toe_t.ctx, 0, &m, 1, out, 10), 0);
	assert_int_equal(toe_ctx_stats(toe_t.ctx)->drops[TOE_DROP_OUT_FULL], 1);
}

static unsigned int egress_sunk;

static void
sink_egress(void *arg, struct rte_mbuf *m, enum toe_stage stage,
	    enum toe_drop reason)
{
	assert_ptr_equal(arg, &egress_sunk);
	assert_int_equal(stage, TOE_STAGE_EGRESS);
	assert_true(reason == TOE_DROP_OUT_FULL || reason == TOE_DROP_NO_MBUF);
	egress_sunk++;
	rte_pktmbuf_free(m);
}

/* The frame egress could not take goes to the sink whole, as an egress's
 * drop: the super-frame itself, not a segment of it. */
static void
test_gso_drop_sink(void **state)
{
	struct tf_spec s = big(4);
	struct rte_mbuf *m;
	size_t len;

	(void)state;
	egress_sunk = 0;
	toe_ctx_set_drop_sink(toe_t.ctx, sink_egress, &egress_sunk);
	m = super_frame(&s, 1448, 0, &len);
	assert_int_equal(toe_egress_prepare(toe_t.ctx, 0, &m, 1, out, 10), 0);
	assert_int_equal(egress_sunk, 1);
	assert_int_equal(toe_ctx_stats(toe_t.ctx)->drops[TOE_DROP_OUT_FULL], 1);
}

/* The pool runs dry halfway: the frame is dropped, nothing leaks. */
static void
test_gso_no_mbuf(void **state)
{
	struct rte_mempool *small = rte_pktmbuf_pool_create(
		"toe_small", 63, 0, 0, RTE_MBUF_DEFAULT_BUF_SIZE,
		(int)rte_socket_id());
	struct toe_ctx *ctx = toe_ctx_create(small, (int)rte_socket_id());
	struct tf_spec s = big(4);
	struct rte_mbuf *m;
	size_t len;

	(void)state;
	assert_non_null(ctx);
	m = super_frame(&s, 536, 0, &len);
	assert_int_equal(toe_gso_segment(ctx, 0, m, out, RTE_DIM(out)), -ENOMEM);
	assert_int_equal(toe_ctx_stats(ctx)->drops[TOE_DROP_NO_MBUF], 1);
	assert_int_equal(rte_mempool_avail_count(small), 63);
	toe_ctx_destroy(ctx);
	rte_mempool_free(small);
}

/* Partial checksums completed for an egress without checksum offload,
 * on contiguous frames and on chains cut at odd places (one byte per
 * mbuf: even the headers are spread out). */
static void
test_csum_complete(void **state)
{
	static const struct {
		int ipv;
		uint8_t proto;
		uint32_t payload, seg_size, caps;
	} v[] = {
		{ 4, IPPROTO_TCP, 1400, 0, 0 },
		{ 4, IPPROTO_TCP, 3001, 7, 0 },
		{ 6, IPPROTO_TCP, 999, 333, 0 },
		{ 4, IPPROTO_UDP, 1001, 333, 0 },
		{ 6, IPPROTO_UDP, 150, 1, 0 },
		/* capable egress, headers not in the first mbuf: done here */
		{ 6, IPPROTO_TCP, 150, 1, TOE_CAP_L4_CSUM },
	};

	(void)state;
	for (size_t i = 0; i < RTE_DIM(v); i++) {
		struct tf_spec s = { .ipv = v[i].ipv, .proto = v[i].proto,
				     .payload_len = v[i].payload,
				     .csum_partial = true, .payload_off = 3 };
		size_t len = tf_build(&s, orig);
		struct rte_mbuf *m = tf_mbuf(toe_t.guest, orig, len,
					     v[i].seg_size), *in = m;
		struct tf_view tv;

		m->ol_flags = RTE_MBUF_F_RX_L4_CKSUM_NONE;
		assert_int_equal(toe_guest_validate(toe_t.ctx, &m, 1), 1);
		assert_int_equal(toe_egress_prepare(toe_t.ctx, v[i].caps, &m, 1,
						    out, 1), 1);
		assert_ptr_equal(out[0], in);   /* private: done in place */
		assert_int_equal(tf_linear(out[0], seg_buf), len);
		tf_view(seg_buf, len, &tv);
		assert_true(tf_l4_csum_ok(seg_buf, &tv));
		assert_int_equal(out[0]->ol_flags & RTE_MBUF_F_TX_L4_MASK, 0);
		assert_int_equal(toe_ctx_stats(toe_t.ctx)->csum_sw, i + 1);
		rte_pktmbuf_free(out[0]);
	}
}

/* A frame flooded to several ports is shared: completing its checksum
 * for one must not change what the others send. */
static void
test_csum_shared_copied(void **state)
{
	struct tf_spec s = { .ipv = 4, .payload_len = 500, .csum_partial = true };
	size_t len = tf_build(&s, orig);
	struct rte_mbuf *m = tf_mbuf(toe_t.guest, orig, len, 0), *shared;
	struct tf_view tv;

	(void)state;
	m->ol_flags = RTE_MBUF_F_RX_L4_CKSUM_NONE;
	assert_int_equal(toe_guest_validate(toe_t.ctx, &m, 1), 1);
	shared = m;
	rte_mbuf_refcnt_update(shared, 1);
	assert_int_equal(toe_egress_prepare(toe_t.ctx, 0, &m, 1, out, 1), 1);
	assert_ptr_not_equal(out[0], shared);
	assert_int_equal(tf_linear(out[0], seg_buf), len);
	tf_view(seg_buf, len, &tv);
	assert_true(tf_l4_csum_ok(seg_buf, &tv));
	assert_int_equal(tf_linear(shared, seg_buf), len);
	assert_memory_equal(seg_buf, orig, len);        /* still partial */
	assert_true(shared->ol_flags & RTE_MBUF_F_TX_TCP_CKSUM);
	assert_int_equal(rte_mbuf_refcnt_read(shared), 1);
	rte_pktmbuf_free(out[0]);
	rte_pktmbuf_free(shared);
}

/* Plain frames pass every egress untouched and uncounted. */
static void
test_egress_plain_untouched(void **state)
{
	struct tf_spec s = { .ipv = 6, .payload_len = 100 };
	struct rte_mbuf *m = tf_mbuf_spec(toe_t.guest, &s, 0), *in = m;
	const struct toe_stats *st = toe_ctx_stats(toe_t.ctx);

	(void)state;
	assert_int_equal(toe_egress_prepare(toe_t.ctx, 0, &m, 1, out, 1), 1);
	assert_ptr_equal(out[0], in);
	assert_int_equal(out[0]->ol_flags, 0);
	assert_int_equal(st->csum_sw + st->segmented, 0);
	/* and one frame that asks nothing is its own only segment */
	assert_int_equal(toe_gso_segment(toe_t.ctx, 0, m, out, 1), 1);
	assert_ptr_equal(out[0], in);
	rte_pktmbuf_free(m);
}

/*
 * Partial GSO: an egress whose TSO takes at most `per` segments at once
 * gets TSO frames of that many segments.  Each piece is checked as a TSO
 * frame, then cut in software as that egress's NIC would: the segments
 * must be exactly those of cutting the whole super-frame at once (IDs,
 * sequence numbers, flags, checksums, payload).
 */
static void
pieces_run(int ipv, uint16_t mss, uint16_t per)
{
	struct tf_spec s = big(ipv);
	struct rte_mbuf *m, *pieces[64];
	uint32_t caps = TOE_CAP_L4_CSUM | TOE_CAP_TSO4 | TOE_CAP_TSO6 |
			TOE_CAP_TSO_SEGS(per);
	uint32_t done = 0;
	uint16_t np, n = 0, want;
	struct tf_view ov;
	size_t len;

	m = super_frame(&s, mss, 0, &len);
	tf_view(orig, len, &ov);
	want = (uint16_t)((ov.payload_len + mss - 1) / mss);
	np = toe_egress_prepare(toe_t.ctx, caps, &m, 1, pieces, RTE_DIM(pieces));
	assert_int_equal(np, (want + per - 1) / per);
	for (uint16_t p = 0; p < np; p++) {
		uint32_t plen = pieces[p]->pkt_len - ov.payload_off;
		bool tso = plen > mss;
		struct tf_view v;
		size_t l = tf_linear(pieces[p], seg_buf);

		tf_view(seg_buf, l, &v);
		assert_true(plen <= (uint32_t)per * mss);
		assert_int_equal((pieces[p]->ol_flags & RTE_MBUF_F_TX_TCP_SEG) != 0, tso);
		if (tso)
			assert_int_equal(pieces[p]->tso_segsz, mss);
		assert_int_equal(pieces[p]->ol_flags & RTE_MBUF_F_TX_L4_MASK,
				 RTE_MBUF_F_TX_TCP_CKSUM);
		if (ipv == 4) {
			assert_true(tf_ipv4_csum_ok(seg_buf, &v));
			assert_int_equal(v.ip_id, (uint16_t)(ov.ip_id + p * per));
		}
		assert_int_equal(v.seq, (uint32_t)(ov.seq + (uint32_t)p * per * mss));
		n += toe_egress_prepare(toe_t.ctx, 0, &pieces[p], 1, out + n,
					(uint16_t)(RTE_DIM(out) - n));
	}
	assert_int_equal(n, want);
	for (uint16_t i = 0; i < n; i++) {
		uint32_t size = RTE_MIN((uint32_t)mss, ov.payload_len - done);

		check_segment(&ov, i, n, false, done, size);
		done += size;
	}
	assert_int_equal(done, ov.payload_len);
	assert_memory_equal(whole, orig + ov.payload_off, done);
	rte_pktmbuf_free_bulk(out, n);
}

static void
test_gso_pieces(void **state)
{
	(void)state;
	pieces_run(4, 1448, 16);
	pieces_run(4, 536, 4);
	pieces_run(6, 1448, 16);
	pieces_run(6, 1440, 7);
}

/* A super-frame within the egress's limit goes whole. */
static void
test_gso_pieces_within_limit(void **state)
{
	struct tf_spec s = big(4);
	struct rte_mbuf *m;
	size_t len;

	(void)state;
	s.payload_len = 8 * 1448;
	m = super_frame(&s, 1448, 0, &len);
	assert_int_equal(toe_egress_prepare(toe_t.ctx, TOE_CAP_L4_CSUM |
					    TOE_CAP_TSO4 | TOE_CAP_TSO_SEGS(8),
					    &m, 1, out, RTE_DIM(out)), 1);
	assert_ptr_equal(out[0], m);
	assert_int_equal(toe_ctx_stats(toe_t.ctx)->segmented, 0);
	rte_pktmbuf_free(m);
}

/* A super-frame in its own external buffer (tf_mbuf_ext), made canonical;
 * releases of the buffer counted in ext_freed. */
static int ext_freed;

static struct rte_mbuf *
super_frame_ext(const struct tf_spec *s, uint16_t mss, size_t *len,
		struct rte_mbuf_ext_shared_info **shinfo)
{
	struct rte_mbuf *m;

	*len = tf_build(s, orig);
	m = tf_mbuf_ext(toe_t.guest, orig, *len, &ext_freed);
	assert_non_null(m);
	*shinfo = m->shinfo;
	m->ol_flags |= LRO;
	m->tso_segsz = mss;
	assert_int_equal(toe_guest_validate(toe_t.ctx, &m, 1), 1);
	return m;
}

/* An egress that takes shared buffers: each segment is its headers and
 * a piece of the super-frame's external buffer, which is released when
 * the last segment is, not before; everything else as copied segments.
 * Past GSO_SHARE_MAX segments (MSS 536) the payload is copied and the
 * buffer released at once. */
static void
test_gso_shared_extbuf(void **state)
{
	static const struct {
		int ipv;
		uint16_t mss;
		uint32_t caps;
		bool shared;
	} c[] = {
		{ 4, 1448, TOE_CAP_SG | TOE_CAP_L4_CSUM, true },
		{ 6, 1448, TOE_CAP_SG, true },
		{ 4, 8948, TOE_CAP_SG, true },
		{ 4, 536, TOE_CAP_SG | TOE_CAP_L4_CSUM, false },
	};

	(void)state;
	for (size_t k = 0; k < RTE_DIM(c); k++) {
		struct rte_mbuf_ext_shared_info *shinfo;
		struct tf_spec sp = big(c[k].ipv);
		struct rte_mbuf *m;
		struct tf_view ov;
		uint32_t done = 0;
		unsigned int avail = rte_mempool_avail_count(toe_t.pool);
		size_t len;
		uint16_t n;

		/* what fits one external buffer, headroom and all */
		sp.payload_len = 60000;
		ext_freed = 0;
		m = super_frame_ext(&sp, c[k].mss, &len, &shinfo);
		tf_view(orig, len, &ov);
		n = toe_egress_prepare(toe_t.ctx, c[k].caps, &m, 1, out,
				       RTE_DIM(out));
		assert_int_equal(n, (ov.payload_len + c[k].mss - 1) / c[k].mss);
		for (uint16_t i = 0; i < n; i++) {
			uint32_t size = RTE_MIN((uint32_t)c[k].mss,
						ov.payload_len - done);

			check_segment(&ov, i, n,
				      (c[k].caps & TOE_CAP_L4_CSUM) != 0, done,
				      size);
			if (c[k].shared) {
				assert_int_equal(out[i]->nb_segs, 2);
				assert_true(RTE_MBUF_DIRECT(out[i]));
				assert_true(RTE_MBUF_HAS_EXTBUF(out[i]->next));
				assert_ptr_equal(out[i]->next->shinfo, shinfo);
			} else {
				assert_false(RTE_MBUF_HAS_EXTBUF(out[i]));
			}
			done += size;
		}
		assert_memory_equal(whole, orig + ov.payload_off, done);
		assert_int_equal(toe_ctx_stats(toe_t.ctx)->segments_shared,
				 c[k].shared ? n : 0);
		assert_int_equal(ext_freed, c[k].shared ? 0 : 1);
		if (c[k].shared) {
			assert_int_equal(rte_mbuf_ext_refcnt_read(shinfo), n);
			rte_pktmbuf_free_bulk(out, (unsigned int)(n - 1));
			assert_int_equal(ext_freed, 0);
			rte_pktmbuf_free(out[n - 1]);
		} else {
			rte_pktmbuf_free_bulk(out, n);
		}
		assert_int_equal(ext_freed, 1);
		assert_int_equal(rte_mempool_avail_count(toe_t.pool), avail);
		toe_ctx_destroy(toe_t.ctx);
		toe_t.ctx = toe_ctx_create(toe_t.pool, (int)rte_socket_id());
	}
}

#define T(f) cmocka_unit_test_setup_teardown(f, toe_test_setup, toe_test_teardown)
const struct CMUnitTest toe_gso_tests[] = {
	T(test_gso_shared_extbuf),
	T(test_gso_pieces),
	T(test_gso_pieces_within_limit),
	T(test_gso_ipv4_mss536),
	T(test_gso_ipv4_mss1448),
	T(test_gso_ipv4_mss1460),
	T(test_gso_ipv4_mss8948),
	T(test_gso_ipv6_mss536),
	T(test_gso_ipv6_mss1448),
	T(test_gso_ipv6_mss1460),
	T(test_gso_ipv6_mss8948),
	T(test_gso_partial_csum),
	T(test_gso_wrap_flags_vlan_chain),
	T(test_gso_passthrough),
	T(test_gso_out_full),
	T(test_gso_drop_sink),
	T(test_gso_no_mbuf),
	T(test_csum_complete),
	T(test_csum_shared_copied),
	T(test_egress_plain_untouched),
};
const size_t toe_gso_tests_n = RTE_DIM(toe_gso_tests);
