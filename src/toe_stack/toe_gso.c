/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Egress side of the offload layer: fit canonical frames to what one
 * destination can do.  A TCP super-frame is cut into MSS segments in
 * software (TCP over IPv4 and IPv6; headers copied and patched, payload
 * copied into fresh mbufs, or shared where the egress takes that) when
 * the destination cannot segment it; a partial checksum is completed
 * (toe_csum.c) when it cannot do that.
 * Per segment: RFC 9293 §3.4 sequence numbers, RFC 6864 IPv4 IDs, FIN and
 * PSH on the last segment only, CWR on the first only (RFC 3168 §6.1.2).
 */
#include "toe_priv.h"

#include <netinet/in.h>
#include <string.h>

#include <rte_ether.h>
#include <rte_ip.h>
#include <rte_mbuf.h>

#include "cpu/cpu_prefetch.h"

static inline uint16_t
get16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static inline void
put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static inline uint32_t
get32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
	       (uint32_t)p[2] << 8 | p[3];
}

static inline void
put32(uint8_t *p, uint32_t v)
{
	put16(p, (uint16_t)(v >> 16));
	put16(p + 2, (uint16_t)v);
}

/* The super-frame's headers, and where output frame i starts in its
 * payload: each output carries up to per_out MSS segments (1: plain
 * segments; more: TSO frames the egress cuts further). */
struct gso_src {
	const struct rte_mbuf *m;
	const struct toe_hdrs *h;
	const uint8_t *hdr;
	uint32_t hdr_size;
	uint32_t payload;
	uint16_t mss;
	uint16_t per_out;
	uint16_t n_segs;        /* output frames */
	uint32_t ip4_base;      /* IPv4: the header's sum without its length,
				 * ID and checksum (native byte order) */
	struct rte_mbuf **pieces;       /* sharing m's external buffer: a
					 * fresh mbuf per segment for its
					 * payload; NULL: copied */
	uint16_t attached;              /* pieces used so far */
};

/*
 * Headers of segment i: the super-frame's, with the lengths of this
 * segment, its own sequence number and IP ID, and the flags TCP would have
 * put on it had it sent the segments itself.
 */
static void
gso_hdr_patch(const struct gso_src *src, uint8_t *p, uint16_t i,
	      uint32_t seg_size)
{
	const struct toe_hdrs *h = src->h;
	const uint8_t *sip = src->hdr + h->l2_len;
	uint8_t *ip = p + h->l2_len;
	uint8_t *th = ip + h->l3_len;
	uint32_t l3_size = (uint32_t)h->l3_len + h->l4_len + seg_size;
	uint8_t flags = sip[h->l3_len + 13];

	if (h->ip_version == 4) {
		/* RFC 6864 §4.2: consecutive IDs, as the sender's stack
		 * would have given separate datagrams (mod 2^16). */
		uint16_t len = (uint16_t)l3_size;
		uint16_t id = (uint16_t)(get16(sip + 4) +
					 (uint32_t)i * src->per_out);
		/* The checksum from the values, not read back from the
		 * header: loads of what was just stored wait for it. */
		uint16_t cks = (uint16_t)~toe_csum_fold(src->ip4_base +
							rte_cpu_to_be_16(len) +
							rte_cpu_to_be_16(id));

		put16(ip + 2, len);
		put16(ip + 4, id);
		memcpy(ip + 10, &cks, sizeof(cks));
	} else {
		put16(ip + 4, (uint16_t)(l3_size - 40));
	}
	put32(th + 4, toe_seq_add(get32(sip + h->l3_len + 4),
				  (uint32_t)i * src->mss * src->per_out));
	/* FIN and PSH end the data: they belong on the last segment only.
	 * CWR acknowledges one congestion signal: first segment only
	 * (RFC 3168 §6.1.2, as Linux tcp_gso_segment). */
	if (i + 1u != src->n_segs)
		flags &= (uint8_t)~(TOE_TCP_FIN | TOE_TCP_PSH);
	if (i != 0)
		flags &= (uint8_t)~TOE_TCP_CWR;
	th[13] = flags;
}

/* Segment i into s, a fresh mbuf: 0, or -1 (pool empty), counted by the
 * caller.  Nothing written to s is read back: s is cold, and such a load
 * waits for the stores ahead of it. */
static int
gso_seg_make(struct toe_ctx *ctx, struct gso_src *src, uint16_t i,
	     bool partial, struct rte_mbuf *s)
{
	const struct toe_hdrs *h = src->h;
	uint32_t piece = (uint32_t)src->mss * src->per_out;
	uint32_t off = (uint32_t)i * piece;
	uint32_t seg_size = RTE_MIN(piece, src->payload - off);
	bool tso = seg_size > src->mss;
	struct toe_hdrs sh = *h;
	struct rte_mbuf *last;
	uint8_t *p;

	/* Never NULL: toe_ctx_create checked the data room holds
	 * TOE_HDR_MAX.  All headers go in the first mbuf, where rte_vhost
	 * and PMDs look for them. */
	p = (uint8_t *)rte_pktmbuf_append(s, (uint16_t)src->hdr_size);
	if (p == NULL)
		return -1;
	memcpy(p, src->hdr, src->hdr_size);
	gso_hdr_patch(src, p, i, seg_size);
	last = s;
	if (src->pieces != NULL) {
		struct rte_mbuf *mi = src->pieces[src->attached++];
		const struct rte_mbuf *m = src->m;

		/* its reference was taken for all pieces at once */
		rte_pktmbuf_reset(mi);
		rte_pktmbuf_attach_extbuf(mi, m->buf_addr, rte_mbuf_iova_get(m),
					  m->buf_len, m->shinfo);
		mi->data_off = (uint16_t)(m->data_off + src->hdr_size + off);
		mi->data_len = (uint16_t)seg_size;
		mi->pkt_len = seg_size;
		s->next = mi;
		s->nb_segs = 2;
		s->pkt_len += seg_size;
	} else if (toe_mbuf_append(s, &last, ctx->pool, src->m,
				   src->hdr_size + off, seg_size) != 0) {
		return -1;
	}
	sh.l3_end = src->hdr_size + seg_size;
	sh.pad = 0;
	/* A piece the egress segments itself keeps a partial checksum. */
	if (toe_l4_csum_fill(s, &sh, src->hdr, partial || tso) != TOE_DROP_NONE)
		return -1;
	s->port = src->m->port;
	s->packet_type = src->m->packet_type;
	s->ol_flags = (h->ip_version == 4 ? RTE_MBUF_F_TX_IPV4 :
		       RTE_MBUF_F_TX_IPV6) |
		      (partial || tso ? RTE_MBUF_F_TX_TCP_CKSUM : 0) |
		      (tso ? RTE_MBUF_F_TX_TCP_SEG : 0);
	s->tso_segsz = tso ? src->mss : 0;
	s->l2_len = h->l2_len;
	s->l3_len = h->l3_len;
	s->l4_len = h->l4_len;
	return 0;
}

/* How many segments ahead the fresh mbufs' lines are asked for. */
#define GSO_PF_AHEAD 4

/* The lines a segment's making writes first: the mbuf's two, its headers,
 * and the headroom in front of them, where an encapsulation goes.  The
 * data's address is where the pool put it (rte_pktmbuf_init), not read
 * from the cold mbuf. */
static inline void
gso_seg_prefetch(const struct rte_mbuf *s, uint16_t priv)
{
	const uint8_t *d = (const uint8_t *)s + sizeof(*s) + priv +
			   RTE_PKTMBUF_HEADROOM;

	cpu_prefetchw(s);
	cpu_prefetchw((const uint8_t *)s + RTE_CACHE_LINE_SIZE);
	cpu_prefetchw(d);
	cpu_prefetchw(d - RTE_CACHE_LINE_SIZE);
}

/* Segments of one super-frame that may share its buffer. */
#define GSO_SHARE_MAX 64

static int
gso_cut(struct toe_ctx *ctx, uint32_t caps, struct rte_mbuf *m,
	struct rte_mbuf **out, uint16_t out_cap, uint16_t per_out)
{
	bool partial = (caps & TOE_CAP_L4_CSUM) != 0;
	struct rte_mbuf *pieces[GSO_SHARE_MAX];
	uint16_t priv = rte_pktmbuf_priv_size(ctx->pool);
	uint8_t hdr[TOE_HDR_MAX];
	struct gso_src src;
	struct toe_hdrs h;
	enum toe_drop r;
	int ret = -EINVAL;
	uint16_t i;

	if (!(m->ol_flags & RTE_MBUF_F_TX_TCP_SEG)) {
		if (out_cap == 0) {
			r = TOE_DROP_OUT_FULL;
			ret = -ENOSPC;
			goto drop;
		}
		out[0] = m;     /* nothing asked: the frame is its own segment */
		return 1;
	}
	r = toe_parse(m, &h, hdr);
	if (r == TOE_DROP_NONE)
		r = toe_canon_check(m, &h);
	if (r != TOE_DROP_NONE)
		goto drop;
	src = (struct gso_src){
		.m = m, .h = &h, .hdr = hdr,
		.hdr_size = (uint32_t)h.l2_len + h.l3_len + h.l4_len,
		.mss = m->tso_segsz,
		.per_out = per_out,
	};
	src.payload = h.l3_end - src.hdr_size;
	if (h.ip_version == 4) {
		uint8_t ip[60];         /* IHL is 4 bits of words */

		memcpy(ip, hdr + h.l2_len, RTE_MIN(h.l3_len, sizeof(ip)));
		memset(ip + 2, 0, 4);           /* length, ID */
		memset(ip + 10, 0, 2);          /* checksum */
		src.ip4_base = rte_raw_cksum(ip, RTE_MIN(h.l3_len, sizeof(ip)));
	}
	src.n_segs = (uint16_t)((src.payload + (uint32_t)src.mss * per_out - 1) /
				((uint32_t)src.mss * per_out));
	if (src.n_segs > out_cap) {
		r = TOE_DROP_OUT_FULL;
		ret = -ENOSPC;
		goto drop;
	}
	/* All at once, and their lines asked for ahead of use: fresh mbufs
	 * are cold, and a segment's making is short enough to wait on each
	 * of them in turn. */
	if (rte_mempool_get_bulk(ctx->pool, (void **)out, src.n_segs) != 0) {
		r = TOE_DROP_NO_MBUF;
		ret = -ENOMEM;
		goto drop;
	}
	/* One reference on the external buffer for all the segments (an
	 * atomic per segment waits, each time, for the stores to the cold
	 * segments before it); without the pieces, the payload is copied. */
	if ((caps & TOE_CAP_SG) && m->nb_segs == 1 && RTE_MBUF_HAS_EXTBUF(m) &&
	    src.n_segs <= GSO_SHARE_MAX &&
	    rte_mempool_get_bulk(ctx->pool, (void **)pieces, src.n_segs) == 0) {
		src.pieces = pieces;
		rte_mbuf_ext_refcnt_update(m->shinfo, (int16_t)src.n_segs);
	}
	for (i = 0; i < RTE_MIN(src.n_segs, (uint16_t)GSO_PF_AHEAD); i++) {
		gso_seg_prefetch(out[i], priv);
		if (src.pieces != NULL)
			cpu_prefetchw(pieces[i]);
	}
	for (i = 0; i < src.n_segs; i++) {
		if (i + GSO_PF_AHEAD < src.n_segs) {
			gso_seg_prefetch(out[i + GSO_PF_AHEAD], priv);
			if (src.pieces != NULL)
				cpu_prefetchw(pieces[i + GSO_PF_AHEAD]);
		}
		rte_pktmbuf_reset(out[i]);
		if (gso_seg_make(ctx, &src, i, partial, out[i]) != 0) {
			for (uint16_t j = i + 1; j < src.n_segs; j++)
				rte_pktmbuf_reset(out[j]);
			rte_pktmbuf_free_bulk(out, src.n_segs);
			if (src.pieces != NULL && src.attached < src.n_segs) {
				rte_mbuf_ext_refcnt_update(m->shinfo,
					(int16_t)-(src.n_segs - src.attached));
				rte_mempool_put_bulk(ctx->pool,
						     (void **)pieces + src.attached,
						     src.n_segs - src.attached);
			}
			r = TOE_DROP_NO_MBUF;
			ret = -ENOMEM;
			goto drop;
		}
	}
	rte_pktmbuf_free(m);
	ctx->stats.segmented++;
	ctx->stats.segments += src.n_segs;
	if (src.pieces != NULL)
		ctx->stats.segments_shared += src.n_segs;
	if (!partial && per_out == 1)
		ctx->stats.csum_sw += src.n_segs;
	return src.n_segs;
drop:
	toe_drop(ctx, m, TOE_STAGE_EGRESS, r);
	return ret;
}

int
toe_gso_segment(struct toe_ctx *ctx, uint32_t caps, struct rte_mbuf *m,
		struct rte_mbuf **out, uint16_t out_cap)
{
	return gso_cut(ctx, caps, m, out, out_cap, 1);
}

/* Segments a canonical super-frame becomes (lengths checked by the
 * validation that made it canonical). */
static uint32_t
gso_segs_of(const struct rte_mbuf *m)
{
	uint32_t hdr = (uint32_t)m->l2_len + m->l3_len + m->l4_len;

	if (m->tso_segsz == 0 || m->pkt_len <= hdr)
		return 1;
	return (m->pkt_len - hdr + m->tso_segsz - 1) / m->tso_segsz;
}

/*
 * May the frame leave with its requests as they are?  The egress must
 * have the capability, and find the headers it patches (rte_vhost's
 * virtio_enqueue_offload, a PMD's tx_prepare) in the first segment.
 */
static bool
egress_can(const struct rte_mbuf *m, uint32_t cap)
{
	return cap != 0 &&
	       m->data_len >= (uint32_t)m->l2_len + m->l3_len + m->l4_len;
}

uint16_t
toe_egress_prepare(struct toe_ctx *ctx, uint32_t caps, struct rte_mbuf **pkts,
		   uint16_t n, struct rte_mbuf **out, uint16_t out_cap)
{
	uint16_t k = 0;

	for (uint16_t i = 0; i < n; i++) {
		struct rte_mbuf *m = pkts[i];
		uint64_t fl = m->ol_flags;

		if (fl & RTE_MBUF_F_TX_TCP_SEG) {
			uint32_t tso = fl & RTE_MBUF_F_TX_IPV6 ?
				       TOE_CAP_TSO6 : TOE_CAP_TSO4;

			uint16_t max = TOE_CAP_TSO_SEGS_OF(caps);
			uint16_t per_out = 0;

			if (!egress_can(m, caps & tso))
				per_out = 1;
			else if (max > 1 && gso_segs_of(m) > max)
				per_out = max;
			if (per_out != 0) {
				int r = gso_cut(ctx, caps, m, out + k,
						(uint16_t)(out_cap - k), per_out);

				if (r > 0)
					k = (uint16_t)(k + r);
				continue;
			}
		} else if (fl & RTE_MBUF_F_TX_L4_MASK) {
			if (!egress_can(m, caps & TOE_CAP_L4_CSUM) &&
			    toe_csum_complete(ctx, &m) != 0)
				continue;
		}
		if (k == out_cap) {
			toe_drop(ctx, m, TOE_STAGE_EGRESS, TOE_DROP_OUT_FULL);
			continue;
		}
		out[k++] = m;
	}
	return k;
}

void
toe_tunnel_mark(struct rte_mbuf *m, enum toe_tnl_mark how, uint16_t hdr_len,
		uint16_t outer_l3, uint64_t tunnel_flag)
{
	/* What kind of buffer holds the frame stays, or the free would give
	 * an external or attached buffer to the pool as the mbuf's own. */
	const uint64_t kind = RTE_MBUF_F_EXTERNAL | RTE_MBUF_F_INDIRECT;
	const uint64_t keep = kind | RTE_MBUF_F_TX_TCP_SEG |
			      RTE_MBUF_F_TX_L4_MASK | RTE_MBUF_F_TX_IPV4 |
			      RTE_MBUF_F_TX_IPV6;
	uint64_t fl = m->ol_flags & keep;
	uint16_t inner_l2;
	uint8_t *p;

	if (!(fl & (RTE_MBUF_F_TX_TCP_SEG | RTE_MBUF_F_TX_L4_MASK))) {
		m->ol_flags = fl & kind;
		return;
	}
	inner_l2 = m->l2_len;
	if (how == TOE_TNL_AS_L2) {
		m->ol_flags = fl;
		m->l2_len = (uint16_t)(inner_l2 + hdr_len);
		return;
	}
	m->outer_l2_len = RTE_ETHER_HDR_LEN;
	m->outer_l3_len = outer_l3;
	m->l2_len = (uint16_t)(hdr_len - RTE_ETHER_HDR_LEN - outer_l3 + inner_l2);
	fl |= RTE_MBUF_F_TX_OUTER_IPV4 | tunnel_flag;
	if (fl & RTE_MBUF_F_TX_TCP_SEG) {
		p = rte_pktmbuf_mtod(m, uint8_t *);
		((struct rte_ipv4_hdr *)(p + RTE_ETHER_HDR_LEN))->hdr_checksum = 0;
		fl |= RTE_MBUF_F_TX_OUTER_IP_CKSUM;
		if (fl & RTE_MBUF_F_TX_IPV4) {
			((struct rte_ipv4_hdr *)(p + hdr_len + inner_l2))->hdr_checksum = 0;
			fl |= RTE_MBUF_F_TX_IP_CKSUM;
		}
	}
	m->ol_flags = fl;
}

uint32_t
toe_tunnel_caps(const struct rte_mbuf *m, uint32_t tnl_caps,
		uint32_t max_inner, uint32_t over, bool *cut)
{
	const uint32_t tso = TOE_CAP_TSO4 | TOE_CAP_TSO6;
	uint32_t hdr = (uint32_t)m->l2_len + m->l3_len + m->l4_len;
	uint32_t mss = m->tso_segsz, most = 0;

	*cut = false;
	if (!(m->ol_flags & RTE_MBUF_F_TX_TCP_SEG))
		return tnl_caps;
	if (mss != 0 && hdr + over + mss <= UINT16_MAX)
		most = (UINT16_MAX - over - hdr) / mss;
	if (!(tnl_caps & (m->ol_flags & RTE_MBUF_F_TX_IPV6 ? TOE_CAP_TSO6 :
							   TOE_CAP_TSO4)) ||
	    most < 2 || hdr + mss > max_inner) {
		*cut = true;
		return tnl_caps & ~tso;
	}
	return (tnl_caps & ~TOE_CAP_TSO_SEGS(UINT16_MAX)) |
	       TOE_CAP_TSO_SEGS(RTE_MIN(most, (uint32_t)UINT16_MAX));
}
