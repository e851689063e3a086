/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * VXLAN and the VTEP's ARP on frames built here.  The local VTEP is
 * 192.0.2.1 on port 4789; the remote one 192.0.2.2.  A valid frame is the
 * encapsulation of a small inner IPv4 frame from 52:54:00:00:01:01; each
 * test breaks one thing in it.  Buffers read by the code under test are
 * malloc'd to their exact size so that ASan catches a read past avail.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "overlay/vxlan.h"

#define PORT VXLAN_PORT_DEFAULT

static const uint8_t ip_local[4] = { 192, 0, 2, 1 };
static const uint8_t ip_remote[4] = { 192, 0, 2, 2 };
static const uint8_t ip_other[4] = { 192, 0, 2, 9 };
static const uint8_t mac_up[6] = { 0x02, 0, 0, 0, 0, 0x01 };
static const uint8_t mac_gw[6] = { 0x02, 0, 0, 0, 0, 0xfe };
static const uint8_t mac_vm[6] = { 0x52, 0x54, 0, 0, 1, 1 };
static const uint8_t mac_vm2[6] = { 0x52, 0x54, 0, 0, 2, 1 };
static const uint8_t mac_bcast[6] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };

static uint16_t
get16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static void
put16(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

/* RFC 1071 written out again, not the code's: sum of 16-bit words with
 * end-around carry, the complement of which is the checksum. */
static uint16_t
ip_csum(const uint8_t *ip, unsigned int len)
{
	uint64_t sum = 0;

	for (unsigned int i = 0; i < len; i += 2)
		sum += (uint64_t)ip[i] << 8 | ip[i + 1];
	sum = (sum % 0xffff);
	return (uint16_t)~(sum == 0 ? 0xffff : sum);
}

static void
fix_csum(uint8_t *f)
{
	unsigned int ihl = (f[14] & 0xfu) * 4;

	put16(f + 24, 0);
	put16(f + 24, ip_csum(f + 14, ihl));
}

static void
tun_default(struct vxlan_tun *t, uint32_t vni)
{
	memcpy(t->src_mac, mac_up, 6);
	memcpy(t->dst_mac, mac_gw, 6);
	memcpy(t->src_ip, ip_remote, 4);    /* sent by the remote VTEP */
	memcpy(t->dst_ip, ip_local, 4);
	t->dst_port = PORT;
	t->vni = vni;
}

/* An inner Ethernet/IPv4/UDP frame of len (>= 14) bytes. */
static void
inner_fill(uint8_t *p, uint32_t len, uint16_t sport)
{
	memcpy(p, mac_vm2, 6);
	memcpy(p + 6, mac_vm, 6);
	put16(p + 12, 0x0800);
	for (uint32_t i = 14; i < len; i++)
		p[i] = (uint8_t)(i * 7);
	if (len >= 14 + 24) {
		memset(p + 14, 0, 20);
		p[14] = 0x45;
		p[14 + 9] = 17;
		memcpy(p + 14 + 12, ((const uint8_t[]){ 10, 0, 0, 1 }), 4);
		memcpy(p + 14 + 16, ((const uint8_t[]){ 10, 0, 0, 2 }), 4);
		put16(p + 34, sport);
		put16(p + 36, 53);
	}
}

/* A whole VXLAN frame in f: outer headers, inner frame of inner_len
 * bytes, then pad bytes of Ethernet padding.  Its length. */
static uint32_t
frame_build(uint8_t *f, uint32_t vni, uint32_t inner_len, uint32_t pad)
{
	struct vxlan_tun t;

	tun_default(&t, vni);
	assert_int_equal(vxlan_encap(f, &t, 50000, inner_len), 0);
	inner_fill(f + VXLAN_OUTER_LEN, inner_len, 1000);
	memset(f + VXLAN_OUTER_LEN + inner_len, 0, pad);
	return VXLAN_OUTER_LEN + inner_len + pad;
}

/* decap on an exact-size copy of the first avail bytes of f. */
static enum vxlan_rx_kind
decap_n(const uint8_t *f, uint32_t avail, uint32_t total, struct vxlan_rx *rx,
	enum vxlan_drop *drop)
{
	uint8_t *copy = malloc(avail);
	enum vxlan_rx_kind k;

	assert_true(copy != NULL || avail == 0);
	if (avail > 0)
		memcpy(copy, f, avail);
	k = vxlan_decap(copy, avail, total, ip_local, PORT, rx, drop);
	free(copy);
	return k;
}

static enum vxlan_rx_kind
decap(const uint8_t *f, uint32_t len, struct vxlan_rx *rx,
      enum vxlan_drop *drop)
{
	return decap_n(f, len, len, rx, drop);
}

/* The drop reason of f, or -1 when it is not dropped. */
static int
drop_of(const uint8_t *f, uint32_t len)
{
	struct vxlan_rx rx;
	enum vxlan_drop d = VXLAN_DROP_MAX;

	if (decap(f, len, &rx, &d) != VXLAN_RX_DROP)
		return -1;
	return (int)d;
}

static enum vxlan_rx_kind
kind_of(const uint8_t *f, uint32_t len)
{
	struct vxlan_rx rx;
	enum vxlan_drop d;

	return decap(f, len, &rx, &d);
}

static void
test_drop_names(void **state)
{
	(void)state;
	for (int i = 0; i < VXLAN_DROP_MAX; i++) {
		const char *name = vxlan_drop_name((enum vxlan_drop)i);

		assert_non_null(name);
		assert_non_null(vxlan_drop_help((enum vxlan_drop)i));
		for (int j = 0; j < i; j++)
			assert_string_not_equal(name,
						vxlan_drop_name((enum vxlan_drop)j));
	}
	assert_string_equal(vxlan_drop_name(VXLAN_DROP_OUTER_CSUM), "outer_csum");
	assert_null(vxlan_drop_name(VXLAN_DROP_MAX));
	assert_null(vxlan_drop_help(VXLAN_DROP_MAX));
}

static void
test_encap_fields(void **state)
{
	uint8_t o[VXLAN_OUTER_LEN];
	struct vxlan_tun t;

	(void)state;
	tun_default(&t, 0x123456);
	memcpy(t.src_ip, ip_local, 4);
	memcpy(t.dst_ip, ip_remote, 4);
	memset(o, 0xaa, sizeof(o));
	assert_int_equal(vxlan_encap(o, &t, 0xd00d, 100), 0);
	/* Ethernet */
	assert_memory_equal(o, mac_gw, 6);
	assert_memory_equal(o + 6, mac_up, 6);
	assert_int_equal(get16(o + 12), 0x0800);
	/* IPv4 */
	assert_int_equal(o[14], 0x45);
	assert_int_equal(o[15], 0);
	assert_int_equal(get16(o + 16), 20 + 8 + 8 + 100);
	assert_int_equal(get16(o + 18), 0);
	assert_int_equal(get16(o + 20), 0x4000);        /* DF, offset 0 */
	assert_int_equal(o[22], VXLAN_TTL);
	assert_int_equal(o[23], 17);
	assert_memory_equal(o + 26, ip_local, 4);
	assert_memory_equal(o + 30, ip_remote, 4);
	/* the checksum, computed independently */
	{
		uint8_t h[20];

		memcpy(h, o + 14, 20);
		put16(h + 10, 0);
		assert_int_equal(get16(o + 24), ip_csum(h, 20));
		assert_int_equal(ip_csum(o + 14, 20), 0);
	}
	/* UDP */
	assert_int_equal(get16(o + 34), 0xd00d);
	assert_int_equal(get16(o + 36), PORT);
	assert_int_equal(get16(o + 38), 8 + 8 + 100);
	assert_int_equal(get16(o + 40), 0);
	/* VXLAN */
	assert_memory_equal(o + 42, ((const uint8_t[]){ 0x08, 0, 0, 0,
							0x12, 0x34, 0x56, 0 }), 8);

	/* the largest datagram, one more, a VNI too big */
	assert_int_equal(vxlan_encap(o, &t, 1, 65535 - 36), 0);
	assert_int_equal(get16(o + 16), 65535);
	assert_int_equal(ip_csum(o + 14, 20), 0);
	assert_int_equal(vxlan_encap(o, &t, 1, 65535 - 35), -EMSGSIZE);
	assert_int_equal(vxlan_encap(o, &t, 1, UINT32_MAX), -EMSGSIZE);
	t.vni = VXLAN_VNI_MAX;
	assert_int_equal(vxlan_encap(o, &t, 1, 0), 0);
	assert_memory_equal(o + 46, ((const uint8_t[]){ 0xff, 0xff, 0xff, 0 }), 4);
	t.vni = VXLAN_VNI_MAX + 1;
	assert_int_equal(vxlan_encap(o, &t, 1, 0), -EINVAL);

	/* The checksum is computed from the values, not read from the
	 * header: it must verify for addresses and lengths whose sums carry
	 * (all ones) as for any other. */
	t.vni = 1;
	srand(7);
	for (int i = 0; i < 20000; i++) {
		uint32_t len = i < 4 ? (uint32_t)(65535 - 36 - i) :
			       (uint32_t)rand() % (65535 - 36 + 1);

		for (int b = 0; b < 4; b++) {
			t.src_ip[b] = i % 3 == 0 ? 0xff : (uint8_t)rand();
			t.dst_ip[b] = i % 5 == 0 ? 0xff : (uint8_t)rand();
		}
		assert_int_equal(vxlan_encap(o, &t, (uint16_t)rand(), len), 0);
		assert_int_equal(ip_csum(o + 14, 20), 0);
		assert_memory_equal(o + 26, t.src_ip, 4);
		assert_memory_equal(o + 30, t.dst_ip, 4);
	}
}

static void
test_roundtrip(void **state)
{
	static const uint32_t lens[] = { 14, 15, 60, 1514, 9000, 65535 - 36 };
	static const uint32_t vnis[] = { 0, 1, 0xabcdef, VXLAN_VNI_MAX };
	uint8_t *f = malloc(65536 + 14);

	(void)state;
	assert_non_null(f);
	for (size_t i = 0; i < sizeof(lens) / sizeof(lens[0]); i++) {
		for (size_t j = 0; j < sizeof(vnis) / sizeof(vnis[0]); j++) {
			uint32_t n = frame_build(f, vnis[j], lens[i], 0);
			struct vxlan_rx rx;
			enum vxlan_drop d;

			assert_int_equal(decap(f, n, &rx, &d), VXLAN_RX_OK);
			assert_int_equal(rx.vni, vnis[j]);
			assert_memory_equal(rx.src_ip, ip_remote, 4);
			assert_int_equal(rx.inner_off, VXLAN_OUTER_LEN);
			assert_int_equal(rx.inner_len, lens[i]);
			assert_memory_equal(f + rx.inner_off + 6, mac_vm, 6);
		}
	}
	free(f);
}

/* Ethernet pads a short frame to 60 bytes: what follows the IPv4
 * datagram is not part of the inner frame. */
static void
test_padding(void **state)
{
	uint8_t f[256];
	struct vxlan_rx rx;
	enum vxlan_drop d;
	uint32_t n;

	(void)state;
	n = frame_build(f, 7, 14, 46);
	assert_int_equal(decap(f, n, &rx, &d), VXLAN_RX_OK);
	assert_int_equal(rx.inner_len, 14);
	/* padding that no segment holds contiguously is fine too */
	assert_int_equal(decap_n(f, VXLAN_OUTER_LEN + 14, n, &rx, &d),
			 VXLAN_RX_OK);
	assert_int_equal(rx.inner_len, 14);

	/* a UDP length short of the IPv4 payload: UDP's says where the
	 * inner frame ends */
	n = frame_build(f, 7, 100, 0);
	put16(f + 38, 8 + 8 + 60);
	assert_int_equal(decap(f, n, &rx, &d), VXLAN_RX_OK);
	assert_int_equal(rx.inner_len, 60);
}

static void
test_not_mine(void **state)
{
	uint8_t f[256];
	uint32_t n = frame_build(f, 7, 60, 0);
	uint8_t g[256];

	(void)state;
	assert_int_equal(kind_of(f, n), VXLAN_RX_OK);
	/* runts: nothing that short is addressed to anyone */
	for (uint32_t len = 0; len < 34; len++)
		assert_int_equal(kind_of(f, len), VXLAN_RX_NOT_MINE);
	/* other ethertypes */
	memcpy(g, f, n);
	put16(g + 12, 0x0806);
	assert_int_equal(kind_of(g, n), VXLAN_RX_NOT_MINE);
	put16(g + 12, 0x86dd);
	assert_int_equal(kind_of(g, n), VXLAN_RX_NOT_MINE);
	put16(g + 12, 0x8100);      /* the overlay uplink is untagged */
	assert_int_equal(kind_of(g, n), VXLAN_RX_NOT_MINE);
	/* IPv4 ethertype, version 6 */
	memcpy(g, f, n);
	g[14] = 0x65;
	fix_csum(g);
	assert_int_equal(kind_of(g, n), VXLAN_RX_NOT_MINE);
	/* another destination */
	memcpy(g, f, n);
	memcpy(g + 30, ip_other, 4);
	fix_csum(g);
	assert_int_equal(kind_of(g, n), VXLAN_RX_NOT_MINE);
	/* TCP to us */
	memcpy(g, f, n);
	g[23] = 6;
	fix_csum(g);
	assert_int_equal(kind_of(g, n), VXLAN_RX_NOT_MINE);
	/* UDP to us, another port; and the port byte-swapped */
	memcpy(g, f, n);
	put16(g + 36, 53);
	assert_int_equal(kind_of(g, n), VXLAN_RX_NOT_MINE);
	put16(g + 36, 0xb512);
	assert_int_equal(kind_of(g, n), VXLAN_RX_NOT_MINE);
	/* ...even when it has a bad checksum, options or is a first
	 * fragment: its port says it is not VXLAN */
	g[24] ^= 1;
	assert_int_equal(kind_of(g, n), VXLAN_RX_NOT_MINE);
	memcpy(g, f, n);
	put16(g + 20, 0x2000);
	put16(g + 36, 53);
	fix_csum(g);
	assert_int_equal(kind_of(g, n), VXLAN_RX_NOT_MINE);
	/* a non-default port is honoured */
	memcpy(g, f, n);
	{
		struct vxlan_rx rx;
		enum vxlan_drop d;

		assert_int_equal(vxlan_decap(g, n, n, ip_local, 8472, &rx, &d),
				 VXLAN_RX_NOT_MINE);
		put16(g + 36, 8472);
		assert_int_equal(vxlan_decap(g, n, n, ip_local, 8472, &rx, &d),
				 VXLAN_RX_OK);
	}
}

/* Options: IHL 6 with a 4-byte NOP option, the rest moved along. */
static uint32_t
with_options(uint8_t *g, const uint8_t *f, uint32_t n)
{
	memcpy(g, f, 34);
	memset(g + 34, 1, 4);
	memcpy(g + 38, f + 34, n - 34);
	g[14] = 0x46;
	put16(g + 16, get16(f + 16) + 4);
	fix_csum(g);
	return n + 4;
}

static void
test_drops(void **state)
{
	uint8_t f[256], g[256];
	uint32_t n = frame_build(f, 7, 60, 0);

	(void)state;
	/* IHL below 5: no header we could read UDP from */
	for (uint8_t ihl = 0; ihl < 5; ihl++) {
		memcpy(g, f, n);
		g[14] = (uint8_t)(0x40 | ihl);
		assert_int_equal(drop_of(g, n), VXLAN_DROP_OUTER_TRUNC);
	}
	/* checksum */
	memcpy(g, f, n);
	g[25] ^= 0x40;
	assert_int_equal(drop_of(g, n), VXLAN_DROP_OUTER_CSUM);
	memcpy(g, f, n);
	g[15] = 0x10;               /* TOS changed on the way, checksum not */
	assert_int_equal(drop_of(g, n), VXLAN_DROP_OUTER_CSUM);
	fix_csum(g);
	assert_int_equal(drop_of(g, n), -1);
	/* fragments: the first (MF), a middle one, the last; a non-first
	 * fragment has no UDP header, so whatever its bytes say it is ours */
	memcpy(g, f, n);
	put16(g + 20, 0x6000);      /* DF|MF */
	fix_csum(g);
	assert_int_equal(drop_of(g, n), VXLAN_DROP_OUTER_FRAGMENT);
	put16(g + 20, 0x2000 | 185);
	put16(g + 36, 53);
	fix_csum(g);
	assert_int_equal(drop_of(g, n), VXLAN_DROP_OUTER_FRAGMENT);
	put16(g + 20, 185);
	fix_csum(g);
	assert_int_equal(drop_of(g, n), VXLAN_DROP_OUTER_FRAGMENT);
	/* options, with our port where UDP then is */
	assert_int_equal(drop_of(g, with_options(g, f, n)),
			 VXLAN_DROP_OUTER_OPTIONS);
	/* IHL 15, cut right after the IPv4 header's first 20 bytes */
	memcpy(g, f, n);
	g[14] = 0x4f;
	assert_int_equal(drop_of(g, 14 + 40), VXLAN_DROP_OUTER_TRUNC);
	/* VXLAN without I; I with every reserved bit set is fine */
	memcpy(g, f, n);
	g[42] = 0;
	assert_int_equal(drop_of(g, n), VXLAN_DROP_VXLAN_FLAGS);
	g[42] = 0xf7;
	assert_int_equal(drop_of(g, n), VXLAN_DROP_VXLAN_FLAGS);
	memset(g + 42, 0xff, 4);
	g[49] = 0xff;
	assert_int_equal(drop_of(g, n), -1);
	/* inner VLAN tags */
	memcpy(g, f, n);
	put16(g + 50 + 12, 0x8100);
	assert_int_equal(drop_of(g, n), VXLAN_DROP_INNER_VLAN);
	put16(g + 50 + 12, 0x88a8);
	assert_int_equal(drop_of(g, n), VXLAN_DROP_INNER_VLAN);
	/* inner source: group, broadcast, zero; a broadcast destination is
	 * fine */
	memcpy(g, f, n);
	g[50 + 6] |= 1;
	assert_int_equal(drop_of(g, n), VXLAN_DROP_INNER_SRC);
	memcpy(g + 50 + 6, mac_bcast, 6);
	assert_int_equal(drop_of(g, n), VXLAN_DROP_INNER_SRC);
	memset(g + 50 + 6, 0, 6);
	assert_int_equal(drop_of(g, n), VXLAN_DROP_INNER_SRC);
	memcpy(g, f, n);
	memcpy(g + 50, mac_bcast, 6);
	assert_int_equal(drop_of(g, n), -1);
}

/* Lengths that lie, each in a frame that is otherwise valid. */
static void
test_lying_lengths(void **state)
{
	uint8_t f[256], g[256];
	uint32_t n = frame_build(f, 7, 60, 0);     /* IP 96, UDP 76 */

	(void)state;
	/* IPv4 total length beyond the frame, by one and by a lot */
	memcpy(g, f, n);
	put16(g + 16, 97);
	fix_csum(g);
	assert_int_equal(drop_of(g, n), VXLAN_DROP_OUTER_TRUNC);
	put16(g + 16, 0xffff);
	fix_csum(g);
	assert_int_equal(drop_of(g, n), VXLAN_DROP_OUTER_TRUNC);
	/* IPv4 total length too short for its own header and UDP's */
	for (uint32_t l = 0; l < 28; l++) {
		put16(g + 16, l);
		fix_csum(g);
		assert_int_equal(drop_of(g, n), VXLAN_DROP_OUTER_TRUNC);
	}
	/* IPv4 length fine, UDP length beyond the IPv4 payload */
	memcpy(g, f, n);
	put16(g + 38, 77);
	assert_int_equal(drop_of(g, n), VXLAN_DROP_OUTER_TRUNC);
	put16(g + 38, 0xffff);
	assert_int_equal(drop_of(g, n), VXLAN_DROP_OUTER_TRUNC);
	/* IPv4 length shorter than the frame (padding) but UDP's beyond it */
	memcpy(g, f, n);
	put16(g + 16, 60);
	fix_csum(g);
	assert_int_equal(drop_of(g, n), VXLAN_DROP_OUTER_TRUNC);
	/* UDP length too short for UDP and VXLAN... */
	memcpy(g, f, n);
	for (uint32_t l = 0; l < 16; l++) {
		put16(g + 38, l);
		assert_int_equal(drop_of(g, n), VXLAN_DROP_OUTER_TRUNC);
	}
	/* ...or for an inner Ethernet header */
	for (uint32_t l = 16; l < 16 + 14; l++) {
		put16(g + 38, l);
		assert_int_equal(drop_of(g, n), VXLAN_DROP_INNER_RUNT);
	}
	put16(g + 38, 30);
	assert_int_equal(drop_of(g, n), -1);
	/* a 16-byte UDP datagram with nothing after it, the IPv4 length
	 * matching */
	n = frame_build(f, 7, 0, 0);
	assert_int_equal(drop_of(f, n), VXLAN_DROP_INNER_RUNT);
	/* a frame shorter than the caller says it is: avail bounds reads */
	n = frame_build(f, 7, 60, 0);
	assert_int_equal(decap_n(f, n, n + 100, &(struct vxlan_rx){ 0 },
				 &(enum vxlan_drop){ 0 }), VXLAN_RX_OK);
}

/*
 * A valid frame of 50 + 28 bytes cut at every length, two ways: the frame
 * itself cut (avail = total), and the frame whole but only the first bytes
 * contiguous (avail < total = 78).  Each verdict follows from where the
 * cut falls.
 */
static void
test_truncation(void **state)
{
	uint8_t f[128];
	uint32_t n = frame_build(f, 7, 28, 0);

	(void)state;
	assert_int_equal(n, 64 + 14);
	for (uint32_t len = 0; len <= n; len++) {
		struct vxlan_rx rx;
		enum vxlan_drop d = VXLAN_DROP_MAX;
		enum vxlan_rx_kind k = decap_n(f, len, len, &rx, &d);

		if (len < 34) {
			assert_int_equal(k, VXLAN_RX_NOT_MINE);
		} else if (len < n) {
			/* ours (or perhaps, before the port is readable),
			 * and its IPv4 length runs past the end */
			assert_int_equal(k, VXLAN_RX_DROP);
			assert_int_equal(d, VXLAN_DROP_OUTER_TRUNC);
		} else {
			assert_int_equal(k, VXLAN_RX_OK);
		}

		d = VXLAN_DROP_MAX;
		k = decap_n(f, len, n, &rx, &d);
		if (len < VXLAN_OUTER_LEN) {
			assert_int_equal(k, VXLAN_RX_DROP);
			assert_int_equal(d, VXLAN_DROP_OUTER_TRUNC);
		} else if (len < VXLAN_OUTER_LEN + 14) {
			assert_int_equal(k, VXLAN_RX_DROP);
			assert_int_equal(d, VXLAN_DROP_INNER_RUNT);
		} else {
			assert_int_equal(k, VXLAN_RX_OK);
			assert_int_equal(rx.inner_len, 28);
		}
	}
	/* a frame that is not IPv4: the first 14 bytes decide */
	put16(f + 12, 0x0806);
	for (uint32_t len = 14; len <= n; len++)
		assert_int_equal(decap_n(f, len, n, &(struct vxlan_rx){ 0 },
					 &(enum vxlan_drop){ 0 }),
				 VXLAN_RX_NOT_MINE);
}

static uint64_t rng_state;

static uint32_t
rng(void)
{
	/* xorshift64*: fixed seed, the same frames every run */
	rng_state ^= rng_state >> 12;
	rng_state ^= rng_state << 25;
	rng_state ^= rng_state >> 27;
	return (uint32_t)((rng_state * UINT64_C(2685821657736338717)) >> 32);
}

/*
 * 100,000 random frames, half of them starting from valid headers with a
 * few bytes changed, so the deep checks see hostile values too.  Nothing
 * may crash or read past avail, and whatever is accepted must lie within
 * the frame.
 */
static void
test_random(void **state)
{
	unsigned int counts[3] = { 0 };
	uint8_t tmpl[256];

	(void)state;
	rng_state = UINT64_C(0x9e3779b97f4a7c15);
	for (int iter = 0; iter < 100000; iter++) {
		uint32_t total = rng() % 200;
		uint32_t avail = total - (rng() % 4 == 0 ? rng() % (total + 1) : 0);
		uint8_t *f = malloc(avail);
		struct vxlan_rx rx;
		enum vxlan_drop d = VXLAN_DROP_MAX;
		enum vxlan_rx_kind k;

		assert_true(f != NULL || avail == 0);
		for (uint32_t i = 0; i < avail; i++)
			f[i] = (uint8_t)rng();
		if (rng() % 2 == 0 && total >= VXLAN_OUTER_LEN) {
			uint32_t inner = rng() % (total - VXLAN_OUTER_LEN + 1);
			uint32_t pad = total - VXLAN_OUTER_LEN - inner;
			int flips = (int)(rng() % 4);

			frame_build(tmpl, rng() & VXLAN_VNI_MAX, inner, pad);
			while (flips-- > 0) {
				uint32_t at = rng() % total;

				tmpl[at] ^= (uint8_t)(1u << (rng() % 8));
			}
			if (rng() % 2 == 0)
				fix_csum(tmpl);
			memcpy(f, tmpl, avail);
		}
		k = vxlan_decap(f, avail, total, ip_local, PORT, &rx, &d);
		assert_in_range(k, VXLAN_RX_NOT_MINE, VXLAN_RX_DROP);
		counts[k]++;
		if (k == VXLAN_RX_OK) {
			assert_true(rx.inner_off + rx.inner_len <= total);
			assert_true(rx.inner_off + 14u <= avail);
			assert_true(rx.inner_len >= 14);
			assert_true(rx.vni <= VXLAN_VNI_MAX);
		} else if (k == VXLAN_RX_DROP) {
			assert_in_range(d, 0, VXLAN_DROP_MAX - 1);
		}
		free(f);
	}
	/* the corpus reaches every verdict */
	assert_true(counts[VXLAN_RX_OK] > 1000);
	assert_true(counts[VXLAN_RX_DROP] > 1000);
	assert_true(counts[VXLAN_RX_NOT_MINE] > 1000);
}

/* The source port of an exact-size copy of p. */
static uint16_t
src_port_n(const uint8_t *p, uint32_t len)
{
	uint8_t *copy = malloc(len);
	uint16_t sp;

	assert_true(copy != NULL || len == 0);
	if (len > 0)
		memcpy(copy, p, len);
	sp = vxlan_src_port(copy, len);
	free(copy);
	return sp;
}

static int
cmp_u16(const void *a, const void *b)
{
	return (int)*(const uint16_t *)a - (int)*(const uint16_t *)b;
}

static unsigned int
n_distinct(uint16_t *v, unsigned int n)
{
	unsigned int d = n > 0;

	qsort(v, n, sizeof(*v), cmp_u16);
	for (unsigned int i = 1; i < n; i++)
		d += v[i] != v[i - 1];
	return d;
}

/* An inner IPv6/TCP frame. */
static void
inner6_fill(uint8_t *p, uint16_t sport)
{
	memset(p, 0, 14 + 40 + 20);
	memcpy(p, mac_vm2, 6);
	memcpy(p + 6, mac_vm, 6);
	put16(p + 12, 0x86dd);
	p[14] = 0x60;
	p[14 + 6] = 6;
	p[14 + 8] = 0x20;
	p[14 + 23] = 1;
	p[14 + 24] = 0x20;
	p[14 + 39] = 2;
	put16(p + 54, sport);
	put16(p + 56, 80);
}

static void
test_src_port(void **state)
{
	uint16_t ports[1000];
	uint8_t p[128], q[128];

	(void)state;
	/* IPv4/UDP flows that differ only in their source port */
	for (unsigned int i = 0; i < 1000; i++) {
		inner_fill(p, 64, (uint16_t)(10000 + i));
		ports[i] = src_port_n(p, 64);
		assert_true(ports[i] >= 49152);
		assert_int_equal(src_port_n(p, 64), ports[i]);
		/* the payload does not matter */
		p[60] ^= 0xff;
		assert_int_equal(src_port_n(p, 64), ports[i]);
	}
	assert_true(n_distinct(ports, 1000) >= 950);
	/* IPv6/TCP flows */
	for (unsigned int i = 0; i < 1000; i++) {
		inner6_fill(p, (uint16_t)(20000 + i));
		ports[i] = src_port_n(p, 74);
		assert_true(ports[i] >= 49152);
		assert_int_equal(src_port_n(p, 74), ports[i]);
	}
	assert_true(n_distinct(ports, 1000) >= 950);
	/* flows that differ in their inner addresses or MACs only */
	for (unsigned int i = 0; i < 1000; i++) {
		inner_fill(p, 64, 1000);
		if (i % 2)
			put16(p + 14 + 12 + 2, i);
		else
			put16(p + 4, i);
		ports[i] = src_port_n(p, 64);
	}
	assert_true(n_distinct(ports, 1000) >= 950);

	/* an IPv4 fragment: its ports are left out, so the rest of the
	 * datagram (whose "ports" are payload) takes the same path */
	inner_fill(p, 64, 1000);
	put16(p + 14 + 6, 0x2000);
	memcpy(q, p, 64);
	put16(q + 34, 2000);
	assert_int_equal(src_port_n(p, 64), src_port_n(q, 64));
	put16(q + 14 + 6, 185);
	assert_int_equal(src_port_n(p, 64), src_port_n(q, 64));

	/* every length, exact buffers: reads only len bytes, stays in range */
	inner_fill(p, 80, 1234);
	for (uint32_t len = 0; len <= 80; len++)
		assert_true(src_port_n(p, len) >= 49152);
	inner6_fill(p, 1234);
	for (uint32_t len = 0; len <= 80; len++)
		assert_true(src_port_n(p, len) >= 49152);
}

static void
test_arp(void **state)
{
	struct vxlan_arp a = { .op = 1 }, b;
	uint8_t f[64], g[64];

	(void)state;
	memcpy(a.sha, mac_up, 6);
	memcpy(a.spa, ip_local, 4);
	memcpy(a.tpa, ip_remote, 4);
	vxlan_arp_build(f, mac_bcast, mac_up, &a);
	assert_memory_equal(f, mac_bcast, 6);
	assert_memory_equal(f + 6, mac_up, 6);
	assert_memory_equal(f + 12, ((const uint8_t[]){ 8, 6, 0, 1, 8, 0, 6, 4,
							0, 1 }), 10);
	assert_true(vxlan_arp_parse(f, VXLAN_ARP_LEN, &b));
	assert_int_equal(b.op, 1);
	assert_memory_equal(b.sha, mac_up, 6);
	assert_memory_equal(b.spa, ip_local, 4);
	assert_memory_equal(b.tha, ((const uint8_t[6]){ 0 }), 6);
	assert_memory_equal(b.tpa, ip_remote, 4);

	/* the reply, padded to 60 bytes on the wire */
	a.op = 2;
	memcpy(a.sha, mac_gw, 6);
	memcpy(a.tha, mac_up, 6);
	vxlan_arp_build(f, mac_up, mac_gw, &a);
	memset(f + VXLAN_ARP_LEN, 0, 18);
	assert_true(vxlan_arp_parse(f, 60, &b));
	assert_int_equal(b.op, 2);
	assert_memory_equal(b.sha, mac_gw, 6);
	assert_memory_equal(b.tha, mac_up, 6);

	/* every shorter length, exact buffers */
	for (uint32_t len = 0; len < VXLAN_ARP_LEN; len++) {
		uint8_t *c = malloc(len);

		assert_true(c != NULL || len == 0);
		if (len > 0)
			memcpy(c, f, len);
		assert_false(vxlan_arp_parse(c, len, &b));
		free(c);
	}
	/* each field wrong in turn: ethertype, htype, ptype, hlen, plen, op */
	{
		static const struct {
			unsigned int off;
			uint8_t val;
		} bad[] = {
			{ 13, 0x35 }, { 15, 6 }, { 16, 0x86 }, { 18, 8 },
			{ 19, 16 }, { 21, 0 }, { 21, 3 }, { 20, 1 },
		};

		for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
			memcpy(g, f, 60);
			g[bad[i].off] = bad[i].val;
			assert_false(vxlan_arp_parse(g, 60, &b));
		}
	}
	/* senders that must not be learnt */
	memcpy(g, f, 60);
	g[22] |= 1;
	assert_false(vxlan_arp_parse(g, 60, &b));
	memset(g + 22, 0xff, 6);
	assert_false(vxlan_arp_parse(g, 60, &b));
	memset(g + 22, 0, 6);
	assert_false(vxlan_arp_parse(g, 60, &b));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_drop_names),
		cmocka_unit_test(test_encap_fields),
		cmocka_unit_test(test_roundtrip),
		cmocka_unit_test(test_padding),
		cmocka_unit_test(test_not_mine),
		cmocka_unit_test(test_drops),
		cmocka_unit_test(test_lying_lengths),
		cmocka_unit_test(test_truncation),
		cmocka_unit_test(test_random),
		cmocka_unit_test(test_src_port),
		cmocka_unit_test(test_arp),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
