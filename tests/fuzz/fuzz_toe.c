/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The TOE's offload layer (src/toe_stack: toe_parse.c, toe_validate.c,
 * toe_gso.c, toe_gro.c; contract in toe_offload.h) on random frames and
 * random guest metadata, with real mbufs (EAL in memory, no hugepages, as
 * tests/eal does).  Input: 16 bytes of metadata (see struct meta), then
 * the frame.  The frame is an mbuf chain of seg bytes per mbuf whose
 * headroom and tailroom are poisoned under ASan, or one mbuf with an
 * external buffer as rte_vhost makes for large frames (and the egress
 * may take segments sharing it, TOE_CAP_SG).
 *
 * Invariant: no crash, no read outside the frame, no mbuf or external
 * buffer leaked;
 * toe_parse on the chain and toe_parse_bytes on its first bytes agree,
 * and what they return lies inside the frame; no IPv4 header checksum
 * that was right is made wrong; toe_vnet_check returns the
 * reason toe_vnet_validate counts for the same frame and header (or
 * NONE and the frame is kept); a kept frame is canonical; after
 * toe_egress_prepare every output fits the egress (no TSO it cannot do,
 * no partial checksum it cannot finish, checksums right), and the TCP
 * payloads of the segments re-assemble to the input's payload in
 * sequence; GRO over those segments keeps that payload and count
 * (out = in - coalesced), and makes canonical frames.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <linux/virtio_net.h>
#include <netinet/in.h>
#include <rte_eal.h>
#include <rte_lcore.h>
#include <rte_malloc.h>
#include <rte_mbuf.h>
#include <rte_mempool.h>
#include <rte_net.h>

#include "toe_stack/toe_offload.h"
#include "toe_stack/toe_priv.h"
#include "fuzz.h"
#include "toe_frames.h"

#if defined(__has_feature)
#if __has_feature(address_sanitizer)
#include <sanitizer/asan_interface.h>
#define UNPOISON(p, n) ASAN_UNPOISON_MEMORY_REGION((p), (n))
#endif
#endif
#ifndef UNPOISON
#define UNPOISON(p, n) ((void)(p), (void)(n))
#endif

#define FRAME_MAX 70000
#define OUT_MAX TOE_GSO_SEGS_MAX

static struct rte_mempool *pool, *guest;
static struct toe_ctx *ctx;
/* The input's IPv4 header checksum was right: the library may not break
 * it (a wrong one from the guest is not a lie it checks, and passes). */
static bool ip_ok_in;

/* The metadata bytes at the start of an input. */
struct meta {
	uint8_t mode;           /* bit 0: virtio-net header, else mbuf flags;
				 * bits 1-2: which mbuf flags */
	uint8_t caps;           /* bits 0-2 TOE_CAP_*; bits 3-7: TSO segs */
	uint8_t seg;            /* bytes per mbuf / 8, 0: as many as fit */
	uint8_t gro_caps;       /* bits 0-2 TOE_CAP_* of the GRO receiver;
				 * bit 3: the egress takes shared chains
				 * (TOE_CAP_SG); bit 4: the frame comes in
				 * an external buffer, as rte_vhost's */
	uint16_t mss;           /* tso_segsz / gso_size */
	uint8_t l2, l3, l4;     /* legacy flags: the lengths claimed */
	uint8_t vh[7];          /* flags, gso_type, hdr_len, csum_start,
				 * csum_offset (low bytes; see below) */
};

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	static char args[][40] = {
		"fuzz_toe", "--no-huge", "-m", "256", "--no-pci", "--no-shconf",
		"--no-telemetry", "--file-prefix=fuzztoe", "-l", "0",
		"--log-level=*:error",
	};
	char *eal_argv[RTE_DIM(args)];

	(void)argc, (void)argv;
	for (size_t i = 0; i < RTE_DIM(args); i++)
		eal_argv[i] = args[i];
	FUZZ_CHECK(rte_eal_init((int)RTE_DIM(eal_argv), eal_argv) >= 0);
	pool = rte_pktmbuf_pool_create("fuzz_toe", 4095, 0, 0,
				       RTE_MBUF_DEFAULT_BUF_SIZE,
				       (int)rte_socket_id());
	guest = rte_pktmbuf_pool_create("fuzz_guest", 1023, 0, 0,
					RTE_MBUF_DEFAULT_BUF_SIZE,
					(int)rte_socket_id());
	FUZZ_CHECK(pool != NULL && guest != NULL);
	ctx = toe_ctx_create(pool, (int)rte_socket_id());
	FUZZ_CHECK(ctx != NULL);
	return 0;
}

/* A chain of seg bytes per mbuf holding buf; only the data readable. */
static struct rte_mbuf *
chain_make(const uint8_t *buf, uint32_t len, uint32_t seg)
{
	struct rte_mbuf *m = tf_mbuf(guest, buf, len, seg);

	FUZZ_CHECK(m != NULL);
	return m;
}

/* External buffers not released yet. */
static unsigned int ext_live;

static void
ext_free(void *addr, void *opaque)
{
	(void)opaque;
	rte_free(addr);
	ext_live--;
}

/* buf in one external buffer, as rte_vhost dequeues a large frame; NULL
 * when it would not fit one (64 KB with headroom and shared info). */
static struct rte_mbuf *
ext_make(const uint8_t *b, uint32_t len)
{
	struct rte_mbuf_ext_shared_info *shinfo;
	uint32_t want = RTE_PKTMBUF_HEADROOM + len + 2 * RTE_CACHE_LINE_SIZE;
	uint16_t buf_len;
	struct rte_mbuf *m;
	void *p;

	if (want > UINT16_MAX)
		return NULL;
	buf_len = (uint16_t)want;
	p = rte_malloc(NULL, buf_len, RTE_CACHE_LINE_SIZE);
	FUZZ_CHECK(p != NULL);
	shinfo = rte_pktmbuf_ext_shinfo_init_helper(p, &buf_len, ext_free, NULL);
	m = rte_pktmbuf_alloc(guest);
	FUZZ_CHECK(shinfo != NULL && m != NULL);
	rte_pktmbuf_attach_extbuf(m, p, rte_malloc_virt2iova(p), buf_len, shinfo);
	rte_pktmbuf_reset_headroom(m);
	FUZZ_CHECK(rte_pktmbuf_append(m, (uint16_t)len) != NULL);
	memcpy(rte_pktmbuf_mtod(m, uint8_t *), b, len);
	ext_live++;
	return m;
}

/* The frame's bytes, linear; its length. */
static uint32_t
linear(const struct rte_mbuf *m, uint8_t *buf)
{
	FUZZ_CHECK(toe_mbuf_chain_ok(m));
	return (uint32_t)tf_linear(m, buf);
}

static bool
same_hdrs(const struct toe_hdrs *a, const struct toe_hdrs *b)
{
	return a->l2_len == b->l2_len && a->l3_len == b->l3_len &&
	       a->l4_len == b->l4_len && a->ip_version == b->ip_version &&
	       a->l4_proto == b->l4_proto && a->frag == b->frag &&
	       a->tcp_flags == b->tcp_flags && a->l3_end == b->l3_end &&
	       a->pad == b->pad;
}

/* What toe_parse says lies inside the frame. */
static void
check_hdrs(const struct toe_hdrs *h, uint32_t len)
{
	if (h->ip_version == 0)
		return;
	FUZZ_CHECK(h->ip_version == 4 || h->ip_version == 6);
	FUZZ_CHECK(h->l3_end <= len && h->pad == len - h->l3_end);
	FUZZ_CHECK((uint32_t)h->l2_len + h->l3_len <= h->l3_end);
	FUZZ_CHECK((uint32_t)h->l2_len + h->l3_len + h->l4_len <= h->l3_end);
	if (!h->frag && h->l4_proto == IPPROTO_TCP)
		FUZZ_CHECK(h->l4_len >= 20 && h->l4_len <= 60);
	if (!h->frag && h->l4_proto == IPPROTO_UDP)
		FUZZ_CHECK(h->l4_len == 8);
}

static uint32_t
sum16(const uint8_t *p, uint32_t len, uint32_t sum)
{
	for (uint32_t i = 0; i + 1 < len; i += 2)
		sum += (uint32_t)p[i] << 8 | p[i + 1];
	if (len & 1)
		sum += (uint32_t)p[len - 1] << 8;
	return sum;
}

static uint16_t
fold(uint32_t sum)
{
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)sum;
}

/* The frame's TCP or UDP checksum verifies (RFC 1071, own code). */
static bool
l4_csum_ok(const uint8_t *f, const struct toe_hdrs *h)
{
	const uint8_t *l3 = f + h->l2_len;
	uint32_t l4_size = h->l3_end - h->l2_len - h->l3_len, sum;

	if (h->ip_version == 4)
		sum = sum16(l3 + 12, 8, 0);
	else
		sum = sum16(l3 + 8, 32, 0);
	sum += h->l4_proto + l4_size;
	sum = sum16(f + h->l2_len + h->l3_len, l4_size, sum);
	return fold(sum) == 0xffff;
}

static bool
ip4_csum_ok(const uint8_t *f, const struct toe_hdrs *h)
{
	return h->ip_version != 4 ||
	       fold(sum16(f + h->l2_len, (uint32_t)(f[h->l2_len] & 0xf) * 4, 0)) == 0xffff;
}

/* A canonical frame (toe_offload.h): its lengths from its headers, the
 * IPv4 header checksum right, a TSO request only on TCP with an MSS. */
static void
check_canonical(const struct rte_mbuf *m, uint8_t *buf)
{
	uint32_t len = linear(m, buf);
	struct toe_hdrs h;

	if (!(m->ol_flags & (RTE_MBUF_F_TX_TCP_SEG | RTE_MBUF_F_TX_L4_MASK)))
		return;
	FUZZ_CHECK(toe_parse_bytes(buf, len, &h) == TOE_DROP_NONE);
	FUZZ_CHECK(h.ip_version != 0 && !h.frag);
	FUZZ_CHECK(m->l2_len == h.l2_len && m->l3_len == h.l3_len &&
		   m->l4_len == h.l4_len);
	FUZZ_CHECK(!!(m->ol_flags & RTE_MBUF_F_TX_IPV4) == (h.ip_version == 4));
	FUZZ_CHECK(!!(m->ol_flags & RTE_MBUF_F_TX_IPV6) == (h.ip_version == 6));
	FUZZ_CHECK(!(m->ol_flags & RTE_MBUF_F_TX_IP_CKSUM));
	FUZZ_CHECK(!ip_ok_in || ip4_csum_ok(buf, &h));
	if (m->ol_flags & RTE_MBUF_F_TX_TCP_SEG)
		FUZZ_CHECK(h.l4_proto == IPPROTO_TCP && m->tso_segsz != 0);
}

/* The TCP payload of a frame, appended to out at *n; false if not TCP.
 * *seq: the sequence number the next one must carry (0 on the first). */
static bool
payload_append(const uint8_t *f, uint32_t len, uint8_t *out, uint32_t *n,
	       uint32_t *seq, bool first)
{
	struct toe_hdrs h;
	uint32_t off, plen, s;

	if (toe_parse_bytes(f, len, &h) != TOE_DROP_NONE || h.ip_version == 0 ||
	    h.frag || h.l4_proto != IPPROTO_TCP)
		return false;
	off = (uint32_t)h.l2_len + h.l3_len + h.l4_len;
	plen = h.l3_end - off;
	s = (uint32_t)f[h.l2_len + h.l3_len + 4] << 24 |
	    (uint32_t)f[h.l2_len + h.l3_len + 5] << 16 |
	    (uint32_t)f[h.l2_len + h.l3_len + 6] << 8 |
	    f[h.l2_len + h.l3_len + 7];
	FUZZ_CHECK(first || s == *seq);
	*seq = s + plen;
	memcpy(out + *n, f + off, plen);
	*n += plen;
	return true;
}

static uint64_t
drops_total(void)
{
	const struct toe_stats *st = toe_ctx_stats(ctx);
	uint64_t n = 0;

	for (int r = 0; r < TOE_DROP_MAX; r++)
		n += st->drops[r];
	return n;
}

static uint8_t buf[FRAME_MAX], want[FRAME_MAX], got[FRAME_MAX], scratch[FRAME_MAX];
static struct rte_mbuf *outs[OUT_MAX];

/* Egress, then GRO over what it made: the payload survives both. */
static void
egress_and_gro(struct rte_mbuf *m, const struct meta *mt)
{
	uint32_t caps = (mt->caps & 7) | TOE_CAP_TSO_SEGS(mt->caps >> 3) |
			(mt->gro_caps & 8 ? TOE_CAP_SG : 0);
	uint32_t gro_caps = mt->gro_caps & 7;
	uint32_t len = linear(m, buf), wn = 0, gn = 0, seq = 0;
	bool tcp = payload_append(buf, len, want, &wn, &seq, true);
	bool tso = m->ol_flags & RTE_MBUF_F_TX_TCP_SEG;
	bool partial = m->ol_flags & RTE_MBUF_F_TX_L4_MASK;
	uint64_t drops = drops_total(), coalesced;
	uint16_t n, n2;

	/* TSO only with the checksum, as every egress has it (virtio 1.1
	 * 5.1.3.1, toe_caps_from_virtio/_eth) */
	if (caps & (TOE_CAP_TSO4 | TOE_CAP_TSO6))
		caps |= TOE_CAP_L4_CSUM;
	if (gro_caps & (TOE_CAP_TSO4 | TOE_CAP_TSO6))
		gro_caps |= TOE_CAP_L4_CSUM;
	n = toe_egress_prepare(ctx, caps, &m, 1, outs, OUT_MAX);
	FUZZ_CHECK(n <= OUT_MAX);
	if (n == 0) {
		FUZZ_CHECK(drops_total() == drops + 1);
		return;
	}
	FUZZ_CHECK(tso || n == 1);
	for (uint16_t i = 0; i < n; i++) {
		struct rte_mbuf *o = outs[i];
		uint32_t olen = linear(o, buf);
		struct toe_hdrs h;

		check_canonical(o, scratch);
		FUZZ_CHECK(!(o->ol_flags & RTE_MBUF_F_TX_L4_MASK) ||
			   (caps & TOE_CAP_L4_CSUM));
		if (o->ol_flags & RTE_MBUF_F_TX_TCP_SEG) {
			FUZZ_CHECK(caps & (o->ol_flags & RTE_MBUF_F_TX_IPV4 ?
					   TOE_CAP_TSO4 : TOE_CAP_TSO6));
		} else if (tso) {
			FUZZ_CHECK(toe_parse_bytes(buf, olen, &h) == TOE_DROP_NONE);
			FUZZ_CHECK(h.l3_end - h.l2_len - h.l3_len - h.l4_len <=
				   mt->mss || mt->mss == 0);
		}
		if ((tso || partial) && !(o->ol_flags & RTE_MBUF_F_TX_L4_MASK)) {
			FUZZ_CHECK(toe_parse_bytes(buf, olen, &h) == TOE_DROP_NONE);
			FUZZ_CHECK(l4_csum_ok(buf, &h));
		}
		if (tcp)
			FUZZ_CHECK(payload_append(buf, olen, got, &gn, &seq, i == 0));
	}
	if (tcp)
		FUZZ_CHECK(gn == wn && memcmp(want, got, wn) == 0);

	/* The segments back as from the wire, for a guest with gro_caps;
	 * GRO may use the tailroom of mbufs it owns. */
	for (uint16_t i = 0; i < n; i++)
		for (struct rte_mbuf *s = outs[i]; s != NULL; s = s->next)
			UNPOISON(s->buf_addr, s->buf_len);
	coalesced = toe_ctx_stats(ctx)->coalesced;
	n2 = toe_gro_burst(ctx, gro_caps, outs, n);
	FUZZ_CHECK(n2 <= n && n - n2 == toe_ctx_stats(ctx)->coalesced - coalesced);
	gn = 0;
	for (uint16_t i = 0; i < n2; i++) {
		uint32_t olen = linear(outs[i], buf);

		check_canonical(outs[i], scratch);
		if (tcp)
			FUZZ_CHECK(payload_append(buf, olen, got, &gn, &seq, i == 0));
		rte_pktmbuf_free(outs[i]);
	}
	if (tcp)
		FUZZ_CHECK(gn == wn && memcmp(want, got, wn) == 0);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	unsigned int avail = rte_mempool_avail_count(pool);
	unsigned int gavail = rte_mempool_avail_count(guest);
	uint8_t hdr[TOE_HDR_MAX], hdr2[TOE_HDR_MAX];
	struct toe_hdrs h, h2;
	struct virtio_net_hdr vh, vout;
	enum toe_drop r, r2;
	struct rte_mbuf *m;
	struct meta mt;
	uint32_t len, needs;
	bool pass;
	uint16_t kept;

	if (size <= sizeof(mt) || size - sizeof(mt) > FRAME_MAX)
		return 0;
	memcpy(&mt, data, sizeof(mt));
	data += sizeof(mt);
	len = (uint32_t)(size - sizeof(mt));

	/* the parser, on bytes and on the chain */
	r = toe_parse_bytes(data, len, &h);
	if (r == TOE_DROP_NONE)
		check_hdrs(&h, len);
	ip_ok_in = r == TOE_DROP_NONE && ip4_csum_ok(data, &h);
	/* at most 512 mbufs a frame: the guest pool holds 1023 */
	m = len > 0 && (mt.gro_caps & 16) ? ext_make(data, len) : NULL;
	if (m == NULL)
		m = chain_make(data, len,
			       RTE_MAX((uint32_t)mt.seg * 8, (len + 511) / 512));
	r2 = toe_parse(m, &h2, hdr2);
	FUZZ_CHECK(r == r2);
	FUZZ_CHECK(memcmp(hdr2, data, RTE_MIN(len, (uint32_t)TOE_HDR_MAX)) == 0);
	if (r == TOE_DROP_NONE)
		FUZZ_CHECK(same_hdrs(&h, &h2));

	/* validation: a virtio-net header, or mbuf flags */
	if (mt.mode & 1) {
		const struct toe_stats *st = toe_ctx_stats(ctx);
		uint64_t before;

		vh = (struct virtio_net_hdr){
			.flags = mt.vh[0], .gso_type = mt.vh[1],
			.hdr_len = (uint16_t)(mt.vh[2] | mt.l2 << 8),
			.gso_size = mt.mss,
			.csum_start = (uint16_t)(mt.vh[3] | mt.vh[4] << 8),
			.csum_offset = (uint16_t)(mt.vh[5] | mt.vh[6] << 8),
		};
		memcpy(hdr, data, RTE_MIN(len, (uint32_t)TOE_HDR_MAX));
		r = toe_vnet_check(&vh, hdr, len, &pass, &needs, &vout);
		before = r != TOE_DROP_NONE ? st->drops[r] : 0;
		kept = toe_vnet_validate(ctx, &vh, &m, 1);
		if (r != TOE_DROP_NONE)
			FUZZ_CHECK(kept == 0 && st->drops[r] == before + 1);
		else
			FUZZ_CHECK(kept == 1);
		/* what passes as it is needs a receiver with those caps */
		if (kept == 1 && pass)
			FUZZ_CHECK((needs & ~(uint32_t)(TOE_CAP_L4_CSUM |
				    TOE_CAP_TSO4 | TOE_CAP_TSO6)) == 0);
	} else {
		/* the buffer's kind is the mbuf's, not the guest's to claim */
		const uint64_t ext = m->ol_flags & RTE_MBUF_F_EXTERNAL;

		switch ((mt.mode >> 1) & 3) {
		case 0:
			break;
		case 1:
			m->ol_flags = ext | RTE_MBUF_F_RX_LRO |
				      RTE_MBUF_F_RX_L4_CKSUM_NONE;
			m->tso_segsz = mt.mss;
			break;
		case 2:
			m->ol_flags = ext | RTE_MBUF_F_RX_L4_CKSUM_NONE;
			break;
		case 3:
			m->ol_flags = ext |
				      (mt.mode & 0x10 ? RTE_MBUF_F_TX_TCP_SEG : 0) |
				      (mt.mode & 0x20 ? RTE_MBUF_F_TX_IPV6 :
							RTE_MBUF_F_TX_IPV4) |
				      ((uint64_t)(mt.mode >> 6) << 52);
			m->tso_segsz = mt.mss;
			m->l2_len = mt.l2;
			m->l3_len = mt.l3;
			m->l4_len = mt.l4;
			break;
		}
		kept = toe_guest_validate(ctx, &m, 1);
	}
	if (kept == 1) {
		check_canonical(m, buf);
		egress_and_gro(m, &mt);
	}
	/* every mbuf went back (the guest's stay poisoned until reused) */
	FUZZ_CHECK(rte_mempool_avail_count(guest) == gavail);
	FUZZ_CHECK(rte_mempool_avail_count(pool) == avail);
	/* and every external buffer, once no segment points into it */
	FUZZ_CHECK(ext_live == 0);
	return 0;
}
