/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Frames marked for a NIC that segments and checksums inside VXLAN
 * (toe_tunnel_mark, TOE_TNL_FLAGS), checked against what such a NIC does
 * with DPDK's tunnel metadata, with no vtoe code in the NIC's place:
 * rte_net_intel_cksum_flags_prepare (what Intel PMDs' tx_prepare runs),
 * then rte_gso_segment (DPDK's own VXLAN segmenter, which follows the
 * same metadata), then the checksums a NIC fills in, computed by the
 * tests' reference.  Every segment must then pass vtoe's hostile
 * decapsulation and carry its share of the stream with correct inner and
 * outer checksums.  The virtio form (TOE_TNL_AS_L2) is checked for where
 * its device starts summing.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include <rte_ethdev.h>
#include <rte_gso.h>
#include <rte_mbuf.h>
#include <rte_net.h>

#include "overlay/vxlan.h"
#include "toe_frames.h"
#include "toe_stack/toe_offload.h"

#define LRO (RTE_MBUF_F_RX_LRO | RTE_MBUF_F_RX_L4_CKSUM_NONE)
#define OUTER_L3 20
#define SEGS_MAX 256

static uint8_t orig[TF_FRAME_MAX], seg_buf[TF_FRAME_MAX], whole[TF_FRAME_MAX];
static struct rte_mbuf *frames[TOE_GSO_SEGS_MAX], *segs[SEGS_MAX];

static const struct vxlan_tun tun = {
	.src_mac = { 0x02, 0, 0, 0, 0x0a, 0x01 },
	.dst_mac = { 0x02, 0, 0, 0, 0x0b, 0x01 },
	.src_ip = { 192, 0, 2, 1 },
	.dst_ip = { 192, 0, 2, 2 },
	.dst_port = VXLAN_PORT_DEFAULT,
	.vni = 5001,
};

static struct tf_spec
stream(int ipv, uint32_t payload)
{
	return (struct tf_spec){
		.ipv = ipv, .csum_partial = true, .payload_len = payload,
		.seq = 0xfffff000, .ack = 0x01020304, .ip_id = 0xfff0,
		.flags = TF_ACK | TF_PSH, .tsval = 99, .payload_off = 11,
	};
}

/* A guest's frame as rte_vhost hands it over, made canonical. */
static struct rte_mbuf *
guest_frame(const struct tf_spec *s, uint16_t mss, size_t *len)
{
	struct rte_mbuf *m;

	*len = tf_build(s, orig);
	m = tf_mbuf(toe_t.guest, orig, *len, 0);
	assert_non_null(m);
	m->ol_flags = mss != 0 ? LRO : RTE_MBUF_F_RX_L4_CKSUM_NONE;
	m->tso_segsz = mss;
	assert_int_equal(toe_guest_validate(toe_t.ctx, &m, 1), 1);
	return m;
}

/* The outer headers in front, marked as dp_vxlan_push does. */
static void
encap(struct rte_mbuf *m, enum toe_tnl_mark how)
{
	uint32_t inner = rte_pktmbuf_pkt_len(m);
	uint8_t *h;

	tf_headroom_open(m);
	h = (uint8_t *)rte_pktmbuf_prepend(m, VXLAN_OUTER_LEN);

	assert_non_null(h);
	assert_int_equal(vxlan_encap(h, &tun, 50000, inner), 0);
	toe_tunnel_mark(m, how, VXLAN_OUTER_LEN, OUTER_L3,
			RTE_MBUF_F_TX_TUNNEL_VXLAN);
}

static void
put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

/*
 * What the NIC writes into one segment of len bytes in buf, from the
 * metadata only: both IPv4 checksums asked for, and the inner L4 one from
 * the partial sum tx_prepare left in its field (a TSO segment's without
 * the length, which the NIC adds per segment).
 */
static void
nic_fill(uint8_t *buf, size_t len, const struct rte_mbuf *m, bool tso)
{
	uint32_t ip = m->outer_l2_len + m->outer_l3_len + m->l2_len;
	uint32_t l4 = ip + m->l3_len, l4_size = (uint32_t)len - l4;
	uint16_t field, off = buf[ip + 9] == IPPROTO_UDP && (buf[ip] >> 4) == 4 ? 6 : 16;
	uint32_t sum;

	if (m->ol_flags & RTE_MBUF_F_TX_OUTER_IP_CKSUM) {
		put16(buf + m->outer_l2_len + 10, 0);
		put16(buf + m->outer_l2_len + 10,
		      (uint16_t)~tf_sum(buf + m->outer_l2_len, m->outer_l3_len, 0));
	}
	if (m->ol_flags & RTE_MBUF_F_TX_IP_CKSUM) {
		put16(buf + ip + 10, 0);
		put16(buf + ip + 10, (uint16_t)~tf_sum(buf + ip, m->l3_len, 0));
	}
	if (!(m->ol_flags & RTE_MBUF_F_TX_L4_MASK) && !tso)
		return;
	field = (uint16_t)(buf[l4 + off] << 8 | buf[l4 + off + 1]);
	put16(buf + l4 + off, 0);
	sum = field + (tso ? l4_size : 0);
	put16(buf + l4 + off, (uint16_t)~tf_sum(buf + l4, l4_size, sum));
}

/* Decapsulate one wire frame as the far VTEP does; returns the inner
 * frame's view, its bytes at *inner. */
static void
far_side(const uint8_t *buf, size_t len, const uint8_t **inner,
	 struct tf_view *v)
{
	struct vxlan_rx rx;
	enum vxlan_drop drop;

	assert_int_equal(vxlan_decap(buf, (uint32_t)len, (uint32_t)len,
				     tun.dst_ip, VXLAN_PORT_DEFAULT, &rx, &drop),
			 VXLAN_RX_OK);
	assert_int_equal(rx.vni, tun.vni);
	*inner = buf + rx.inner_off;
	tf_view(*inner, rx.inner_len, v);
	assert_int_equal(v->payload_off + v->payload_len, rx.inner_len);
	assert_true(tf_l4_csum_ok(*inner, v));
	if (v->ipv == 4)
		assert_true(tf_ipv4_csum_ok(*inner, v));
}

/*
 * A super-frame of payload bytes at mss through the NIC: held to one
 * outer datagram's worth of segments (toe_tunnel_caps) as the
 * dataplane does, each piece marked, prepared, segmented and filled in;
 * the far side gets the stream whole and in order.
 */
static void
tso_run(uint32_t payload, uint16_t mss)
{
	struct tf_spec s = stream(4, payload);
	struct tf_view ov;
	struct rte_mbuf *m;
	uint32_t done = 0, most, caps;
	uint16_t n, want_segs;
	size_t len;
	int nseg_total = 0;
	bool cut;

	m = guest_frame(&s, mss, &len);
	tf_view(orig, len, &ov);
	caps = toe_tunnel_caps(m, TOE_CAP_L4_CSUM | TOE_CAP_TSO4 | TOE_CAP_SG,
			       9100, VXLAN_IP_OVER, &cut);
	assert_false(cut);
	most = TOE_CAP_TSO_SEGS_OF(caps);
	assert_true(most >= 2);
	n = toe_egress_prepare(toe_t.ctx, caps, &m, 1, frames, RTE_DIM(frames));
	want_segs = (uint16_t)((payload + mss - 1) / mss);
	assert_int_equal(n, (want_segs + most - 1) / most);
	for (uint16_t f = 0; f < n; f++) {
		struct rte_mbuf *t = frames[f];
		struct rte_gso_ctx gso = {
			.direct_pool = toe_t.pool, .indirect_pool = toe_t.pool,
			.gso_types = RTE_ETH_TX_OFFLOAD_VXLAN_TNL_TSO,
		};
		uint64_t want = RTE_MBUF_F_TX_TCP_SEG | RTE_MBUF_F_TX_IPV4 |
			RTE_MBUF_F_TX_IP_CKSUM | RTE_MBUF_F_TX_TCP_CKSUM |
			RTE_MBUF_F_TX_OUTER_IPV4 | RTE_MBUF_F_TX_OUTER_IP_CKSUM |
			RTE_MBUF_F_TX_TUNNEL_VXLAN;
		/* a piece of one segment is a plain frame */
		bool tso = (t->ol_flags & RTE_MBUF_F_TX_TCP_SEG) != 0;
		int k;

		encap(t, TOE_TNL_FLAGS);
		if (!tso)
			want &= ~(RTE_MBUF_F_TX_TCP_SEG | RTE_MBUF_F_TX_IP_CKSUM |
				  RTE_MBUF_F_TX_OUTER_IP_CKSUM);
		assert_int_equal(t->ol_flags, want);
		assert_int_equal(t->outer_l2_len, 14);
		assert_int_equal(t->outer_l3_len, OUTER_L3);
		assert_int_equal(t->l2_len, 8 + 8 + ov.l2);
		assert_int_equal(t->l3_len, ov.l3);
		assert_int_equal(t->l4_len, ov.l4);
		assert_true(rte_pktmbuf_pkt_len(t) - 36 <= 65535 - 14);
		if (tso) {      /* both IPv4 checksums left to the NIC: 0 (DPDK) */
			const uint8_t *h = rte_pktmbuf_mtod(t, const uint8_t *);

			assert_int_equal(h[14 + 10] | h[14 + 11], 0);
			assert_int_equal(h[VXLAN_OUTER_LEN + ov.l2 + 10] |
					 h[VXLAN_OUTER_LEN + ov.l2 + 11], 0);
		}
		/* what an Intel PMD's tx_prepare does, then the NIC */
		assert_int_equal(rte_net_intel_cksum_flags_prepare(t, t->ol_flags), 0);
		if (tso) {
			assert_int_equal(t->tso_segsz, mss);
			gso.gso_size = (uint16_t)(t->outer_l2_len + t->outer_l3_len +
						  t->l2_len + t->l3_len + t->l4_len + mss);
			k = rte_gso_segment(t, &gso, segs, RTE_DIM(segs));
			assert_true(k >= 2);
			rte_pktmbuf_free(t);
		} else {
			segs[0] = t;
			k = 1;
		}
		for (int i = 0; i < k; i++) {
			uint32_t size = RTE_MIN((uint32_t)mss, payload - done);
			size_t sl = tf_linear(segs[i], seg_buf);
			const uint8_t *in;
			struct tf_view v;

			nic_fill(seg_buf, sl, segs[i], tso);
			far_side(seg_buf, sl, &in, &v);
			assert_int_equal(v.payload_len, size);
			assert_int_equal(v.seq, (uint32_t)(ov.seq + done));
			assert_int_equal(v.flags, done + size == payload ?
					 ov.flags : (ov.flags & ~TF_PSH));
			memcpy(whole + done, in + v.payload_off, size);
			done += size;
		}
		rte_pktmbuf_free_bulk(segs, (unsigned int)k);
		nseg_total += k;
	}
	assert_int_equal(nseg_total, want_segs);
	assert_int_equal(done, payload);
	assert_memory_equal(whole, orig + ov.payload_off, payload);
}

/* One outer datagram's worth: the whole super-frame in one TSO frame. */
static void
test_tunnel_tso_one(void **state)
{
	(void)state;
	tso_run(60000, 1448);
	tso_run(8948 * 6, 8948);
}

/* 64 KB of payload does not fit one outer datagram with the tunnel's 36
 * bytes: two TSO frames. */
static void
test_tunnel_tso_split(void **state)
{
	(void)state;
	tso_run(65535 - 20 - 32, 1448);
	tso_run(65535 - 20 - 32, 536);
}

/*
 * The decision before the tunnel: TSO kept with the most segments one
 * outer datagram holds (that many encapsulate, one more does not), and
 * refused, to be cut here, when the egress lacks it, the segments do not
 * fit the tunnel's MTU, or not even two fit a datagram.
 */
static void
test_tunnel_caps(void **state)
{
	static const uint16_t mss[] = { 536, 1448, 1460, 8948 };
	const uint32_t nic = TOE_CAP_L4_CSUM | TOE_CAP_TSO4 | TOE_CAP_SG;
	uint8_t o[VXLAN_OUTER_LEN];
	struct rte_mbuf *m;
	uint32_t caps, hdr, n;
	size_t len;
	bool cut;

	(void)state;
	for (size_t i = 0; i < RTE_DIM(mss); i++) {
		struct tf_spec s = stream(4, 60000);

		m = guest_frame(&s, mss[i], &len);
		hdr = (uint32_t)m->l2_len + m->l3_len + m->l4_len;
		caps = toe_tunnel_caps(m, nic, 9100, VXLAN_IP_OVER, &cut);
		n = TOE_CAP_TSO_SEGS_OF(caps);
		assert_false(cut);
		assert_int_equal(caps & ~TOE_CAP_TSO_SEGS(0xffff), nic);
		assert_int_equal(vxlan_encap(o, &tun, 1, hdr + n * mss[i]), 0);
		assert_int_equal(vxlan_encap(o, &tun, 1, hdr + (n + 1) * mss[i]),
				 -EMSGSIZE);
		/* the segments do not fit a 1450-byte inner MTU at 1460 */
		caps = toe_tunnel_caps(m, nic, hdr + mss[i] - 1, VXLAN_IP_OVER, &cut);
		assert_true(cut);
		assert_int_equal(caps, TOE_CAP_L4_CSUM | TOE_CAP_SG);
		/* virtio's caps inside the tunnel: no TSO */
		caps = toe_tunnel_caps(m, TOE_CAP_L4_CSUM, 9000, VXLAN_IP_OVER, &cut);
		assert_true(cut);
		assert_int_equal(caps, TOE_CAP_L4_CSUM);
		/* one segment per datagram is no TSO at all */
		caps = toe_tunnel_caps(m, nic, 0xffff, 0xffff - hdr - mss[i] - 1,
				       &cut);
		assert_true(cut);
		rte_pktmbuf_free(m);
	}
	/* IPv6 inside: this NIC's TSO is IPv4 only */
	{
		struct tf_spec s = stream(6, 60000);

		m = guest_frame(&s, 1440, &len);
		caps = toe_tunnel_caps(m, nic, 9100, VXLAN_IP_OVER, &cut);
		assert_true(cut);
		caps = toe_tunnel_caps(m, nic | TOE_CAP_TSO6, 9000,
				       VXLAN_IP_OVER, &cut);
		assert_false(cut);
		rte_pktmbuf_free(m);
	}
	/* a frame without TSO: the caps as they are */
	{
		struct tf_spec s = stream(4, 1000);

		m = guest_frame(&s, 0, &len);
		assert_int_equal(toe_tunnel_caps(m, nic, 1000, VXLAN_IP_OVER, &cut),
				 nic);
		assert_false(cut);
		rte_pktmbuf_free(m);
	}
}

/* A partial checksum alone, IPv4 and IPv6 inside: the NIC completes it
 * from the tunnel's lengths; the outer checksum stays vtoe's. */
static void
test_tunnel_csum(void **state)
{
	(void)state;
	for (int ipv = 4; ipv <= 6; ipv += 2) {
		struct tf_spec s = stream(ipv, 1000);
		struct rte_mbuf *m;
		const uint8_t *in;
		struct tf_view v;
		size_t len, sl;

		m = guest_frame(&s, 0, &len);
		assert_int_equal(toe_egress_prepare(toe_t.ctx, TOE_CAP_L4_CSUM,
						    &m, 1, frames, 1), 1);
		m = frames[0];
		encap(m, TOE_TNL_FLAGS);
		assert_int_equal(m->ol_flags,
				 RTE_MBUF_F_TX_TCP_CKSUM | RTE_MBUF_F_TX_OUTER_IPV4 |
				 RTE_MBUF_F_TX_TUNNEL_VXLAN |
				 (ipv == 4 ? RTE_MBUF_F_TX_IPV4 : RTE_MBUF_F_TX_IPV6));
		assert_int_equal(rte_net_intel_cksum_flags_prepare(m, m->ol_flags), 0);
		sl = tf_linear(m, seg_buf);
		nic_fill(seg_buf, sl, m, false);
		far_side(seg_buf, sl, &in, &v);
		assert_int_equal(v.payload_len, 1000);
		assert_memory_equal(in + v.payload_off, orig + v.payload_off, 1000);
		rte_pktmbuf_free(m);
	}
}

/* virtio's form: the outer headers are layer 2, so the device's
 * csum_start (l2_len + l3_len) is the inner TCP header; no outer flags. */
static void
test_tunnel_as_l2(void **state)
{
	struct tf_spec s = stream(4, 1000);
	struct rte_mbuf *m;
	struct tf_view ov;
	size_t len;

	(void)state;
	m = guest_frame(&s, 0, &len);
	tf_view(orig, len, &ov);
	encap(m, TOE_TNL_AS_L2);
	assert_int_equal(m->ol_flags, RTE_MBUF_F_TX_TCP_CKSUM | RTE_MBUF_F_TX_IPV4);
	assert_int_equal(m->l2_len + m->l3_len, VXLAN_OUTER_LEN + ov.l2 + ov.l3);
	rte_pktmbuf_free(m);
}

/* No request: nothing for the NIC, whatever the mode. */
static void
test_tunnel_plain(void **state)
{
	struct tf_spec s = stream(4, 100);
	struct rte_mbuf *m;

	(void)state;
	s.csum_partial = false;
	for (int how = TOE_TNL_AS_L2; how <= TOE_TNL_FLAGS; how++) {
		m = tf_mbuf_spec(toe_t.guest, &s, 0);
		assert_non_null(m);
		encap(m, (enum toe_tnl_mark)how);
		assert_int_equal(m->ol_flags, 0);
		rte_pktmbuf_free(m);
	}
}

/*
 * A frame in an external buffer of its own (rte_vhost's large frames) is
 * encapsulated in place: marked either way, with or without a request,
 * it stays external, so its free releases that buffer once and gives the
 * pool back only the mbuf.
 */
static void
test_tunnel_extbuf(void **state)
{
	(void)state;
	for (int how = TOE_TNL_AS_L2; how <= TOE_TNL_FLAGS; how++) {
		for (int partial = 0; partial <= 1; partial++) {
			struct tf_spec s = stream(4, 3000);
			struct rte_mbuf *m;
			int freed = 0;
			size_t len;

			s.csum_partial = partial;
			len = tf_build(&s, orig);
			m = tf_mbuf_ext(toe_t.guest, orig, len, &freed);
			assert_non_null(m);
			if (partial) {
				m->ol_flags |= RTE_MBUF_F_RX_L4_CKSUM_NONE;
				assert_int_equal(toe_guest_validate(toe_t.ctx, &m, 1), 1);
			}
			encap(m, (enum toe_tnl_mark)how);
			assert_true(RTE_MBUF_HAS_EXTBUF(m));
			assert_int_equal((m->ol_flags & RTE_MBUF_F_TX_L4_MASK) != 0,
					 partial);
			rte_pktmbuf_free(m);
			assert_int_equal(freed, 1);
		}
	}
}

#define T(f) cmocka_unit_test_setup_teardown(f, toe_test_setup, toe_test_teardown)
const struct CMUnitTest toe_tunnel_tests[] = {
	T(test_tunnel_tso_one),
	T(test_tunnel_tso_split),
	T(test_tunnel_caps),
	T(test_tunnel_csum),
	T(test_tunnel_as_l2),
	T(test_tunnel_plain),
	T(test_tunnel_extbuf),
};
#undef T
const size_t toe_tunnel_tests_n = RTE_DIM(toe_tunnel_tests);
