/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * GRO toward a guest: within one burst, in-order TCP segments of a flow
 * are chained behind the flow's first segment (zero copy: their headers
 * are trimmed off), and that first segment's headers are rewritten to
 * describe the whole, marked as a GSO frame for rte_vhost.  It undoes
 * what toe_gso.c does: a merged frame segmented again gives back the same
 * segments.  Rules follow Linux tcp_gro_receive, except that a segment
 * with PSH merges (and ends its frame) and FIN never merges.  TCP options
 * must be byte-identical, timestamps included: within one burst a sender
 * rarely ticks its timestamp clock, and an identical header is what TSO
 * will copy onto every segment again.  IPv4 IDs are not checked: they are
 * regenerated consecutively if the frame is segmented again.
 */
#include "toe_priv.h"

#include <netinet/in.h>
#include <string.h>

#include <rte_ip.h>
#include <rte_mbuf.h>

/* A segment as GRO sees it; hdr is the parse copy of its headers. */
struct gro_seg {
	struct toe_hdrs h;
	uint8_t hdr[TOE_HDR_MAX];
	uint32_t hdr_size;
	uint32_t payload;
	uint32_t seq;
	uint16_t nb_segs;
	uint8_t flags;
};

enum gro_kind {
	GRO_OTHER,      /* not a TCP segment: belongs to no flow */
	GRO_FLOW_ONLY,  /* of a flow, but must not merge: ends the flow's frame */
	GRO_MERGEABLE,
};

static inline uint32_t
get32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
	       (uint32_t)p[2] << 8 | p[3];
}

/* Addresses and ports, the part of the headers that names the flow. */
static bool
gro_same_flow(const struct gro_seg *s, const struct toe_gro_flow *f)
{
	const uint8_t *head = rte_pktmbuf_mtod(f->head, const uint8_t *);
	const uint8_t *ip = s->hdr + s->h.l2_len, *fip = head + f->l2_len;
	uint32_t addr_off = s->h.ip_version == 4 ? 12 : 8;
	uint32_t addr_size = s->h.ip_version == 4 ? 8 : 32;

	return s->h.ip_version == f->ip_version &&
	       memcmp(ip + addr_off, fip + addr_off, addr_size) == 0 &&
	       memcmp(ip + s->h.l3_len, fip + f->l3_len, 4) == 0;
}

static bool
gro_csum_good(struct toe_ctx *ctx, const struct rte_mbuf *m,
	      const struct gro_seg *s)
{
	uint64_t ip_fl = m->ol_flags & RTE_MBUF_F_RX_IP_CKSUM_MASK;
	uint64_t l4_fl = m->ol_flags & RTE_MBUF_F_RX_L4_CKSUM_MASK;

	if (ip_fl == RTE_MBUF_F_RX_IP_CKSUM_BAD ||
	    l4_fl == RTE_MBUF_F_RX_L4_CKSUM_BAD)
		return false;
	if (s->h.ip_version == 4 && ip_fl != RTE_MBUF_F_RX_IP_CKSUM_GOOD &&
	    rte_raw_cksum(s->hdr + s->h.l2_len, s->h.l3_len) != 0xffff)
		return false;
	if (l4_fl == RTE_MBUF_F_RX_L4_CKSUM_GOOD)
		return true;
	ctx->stats.csum_checked++;
	return toe_l4_csum_ok(m, &s->h, s->hdr);
}

static enum gro_kind
gro_classify(struct toe_ctx *ctx, uint32_t caps, struct rte_mbuf *m,
	     struct gro_seg *s)
{
	uint32_t fam;

	if (toe_parse(m, &s->h, s->hdr) != TOE_DROP_NONE ||
	    s->h.ip_version == 0 || s->h.frag ||
	    s->h.l4_proto != IPPROTO_TCP)
		return GRO_OTHER;
	s->hdr_size = (uint32_t)s->h.l2_len + s->h.l3_len + s->h.l4_len;
	s->payload = s->h.l3_end - s->hdr_size;
	s->seq = get32(s->hdr + s->h.l2_len + s->h.l3_len + 4);
	s->flags = s->h.tcp_flags;
	s->nb_segs = m->nb_segs;
	fam = s->h.ip_version == 4 ? TOE_CAP_TSO4 : TOE_CAP_TSO6;
	if (!(caps & fam) ||
	    (m->ol_flags & (RTE_MBUF_F_TX_TCP_SEG | RTE_MBUF_F_TX_L4_MASK)) ||
	    /* IP options, IPv6 extension headers, padding: not merged */
	    s->h.l3_len != (s->h.ip_version == 4 ? 20 : 40) || s->h.pad != 0 ||
	    s->payload == 0 ||
	    (s->flags & (TOE_TCP_SYN | TOE_TCP_FIN | TOE_TCP_RST |
			 TOE_TCP_URG)) ||
	    m->data_len < s->hdr_size || !toe_mbuf_writable(m))
		return GRO_FLOW_ONLY;
	if (!gro_csum_good(ctx, m, s)) {
		ctx->stats.csum_bad++;
		return GRO_FLOW_ONLY;
	}
	return GRO_MERGEABLE;
}

/* May s follow the segments of f in one frame? */
static bool
gro_fits(const struct toe_gro_flow *f, const struct gro_seg *s)
{
	const uint8_t *head = rte_pktmbuf_mtod(f->head, const uint8_t *);
	const uint8_t *ip = s->hdr + s->h.l2_len, *fip = head + f->l2_len;
	const uint8_t *th = ip + s->h.l3_len, *fth = fip + f->l3_len;
	const uint8_t keep = (uint8_t)~(TOE_TCP_PSH | TOE_TCP_CWR);

	/* In order, no bigger than the first, and room left. */
	if (toe_seq_diff(s->seq, f->next_seq) != 0 || s->payload > f->mss ||
	    f->size + s->payload > TOE_GRO_SIZE_MAX ||
	    f->segs == TOE_GRO_SEGS_MAX ||
	    (uint32_t)f->head->nb_segs + s->nb_segs > RTE_MBUF_MAX_NB_SEGS)
		return false;
	/* CWR answers one congestion signal: only a frame's first segment
	 * may carry it (RFC 3168 §6.1.2). */
	if (s->flags & TOE_TCP_CWR)
		return false;
	if (s->h.l2_len != f->l2_len || memcmp(s->hdr, head, f->l2_len) != 0)
		return false;
	if (s->h.ip_version == 4) {
		if (ip[1] != fip[1] ||                  /* TOS, ECN */
		    (ip[6] & 0x40) != (fip[6] & 0x40) || /* DF */
		    ip[8] != fip[8])                    /* TTL */
			return false;
	} else {
		if (memcmp(ip, fip, 4) != 0 ||          /* class, flow label */
		    ip[7] != fip[7])                    /* hop limit */
			return false;
	}
	/* Same ACK, same window, same flags but PSH, same options: the
	 * merged frame's single header must say what each segment said. */
	return s->h.l4_len == f->l4_len &&
	       memcmp(th + 8, fth + 8, 4) == 0 &&
	       (s->flags & keep) == (fth[13] & keep) &&
	       memcmp(th + 14, fth + 14, 2) == 0 &&
	       memcmp(th + 20, fth + 20, (size_t)f->l4_len - 20) == 0;
}

static void
gro_append(struct toe_ctx *ctx, struct toe_gro_flow *f, struct rte_mbuf *m,
	   const struct gro_seg *s)
{
	/* gro_classify checked the headers are all in the first segment. */
	rte_pktmbuf_adj(m, (uint16_t)s->hdr_size);
	f->last->next = m;
	f->head->nb_segs = (uint16_t)(f->head->nb_segs + m->nb_segs);
	f->head->pkt_len += m->pkt_len;
	f->last = rte_pktmbuf_lastseg(m);
	f->next_seq = toe_seq_add(f->next_seq, s->payload);
	f->size += s->payload;
	f->segs++;
	f->psh = f->psh || (s->flags & TOE_TCP_PSH);
	ctx->stats.coalesced++;
}

/* Rewrite the first segment's headers to describe the merged frame. */
static void
gro_finish(struct toe_ctx *ctx, struct toe_gro_flow *f)
{
	struct rte_mbuf *m = f->head;
	uint8_t *p = rte_pktmbuf_mtod(m, uint8_t *);
	uint8_t *ip = p + f->l2_len;
	uint8_t *th = ip + f->l3_len;
	struct toe_hdrs h = {
		.l2_len = f->l2_len, .l3_len = f->l3_len, .l4_len = f->l4_len,
		.ip_version = f->ip_version, .l4_proto = IPPROTO_TCP,
		.l3_end = f->l2_len + f->size,
	};

	if (f->segs < 2)
		return;         /* left exactly as it came */
	if (f->ip_version == 4) {
		ip[2] = (uint8_t)(f->size >> 8);
		ip[3] = (uint8_t)f->size;
		toe_ipv4_csum_set(ip);
	} else {
		ip[4] = (uint8_t)((f->size - 40) >> 8);
		ip[5] = (uint8_t)(f->size - 40);
	}
	if (f->psh)
		th[13] |= TOE_TCP_PSH;
	/* Partial, as virtio NEEDS_CSUM means: every byte was verified. */
	toe_l4_csum_fill(m, &h, p, true);
	m->ol_flags &= ~(RTE_MBUF_F_RX_LRO | RTE_MBUF_F_RX_L4_CKSUM_MASK |
			 RTE_MBUF_F_RX_IP_CKSUM_MASK | RTE_MBUF_F_TX_OFFLOAD_MASK);
	m->ol_flags |= RTE_MBUF_F_TX_TCP_SEG | RTE_MBUF_F_TX_TCP_CKSUM |
		       (f->ip_version == 4 ? RTE_MBUF_F_TX_IPV4 :
					     RTE_MBUF_F_TX_IPV6);
	m->tso_segsz = f->mss;
	m->l2_len = f->l2_len;
	m->l3_len = f->l3_len;
	m->l4_len = f->l4_len;
	ctx->stats.gro_frames++;
}

static void
gro_close(struct toe_ctx *ctx, uint16_t idx)
{
	gro_finish(ctx, &ctx->flows[idx]);
	ctx->flows[idx] = ctx->flows[--ctx->n_flows];
}

static int
gro_lookup(const struct toe_ctx *ctx, const struct gro_seg *s)
{
	for (uint16_t i = 0; i < ctx->n_flows; i++)
		if (gro_same_flow(s, &ctx->flows[i]))
			return i;
	return -1;
}

/* s, already in the burst, is the first segment of a new frame. */
static void
gro_open(struct toe_ctx *ctx, struct rte_mbuf *m, const struct gro_seg *s)
{
	struct toe_gro_flow *f;

	/* A PSH segment ends its frame at once; a full table leaves the
	 * segment as it is. */
	if ((s->flags & TOE_TCP_PSH) || ctx->n_flows == TOE_GRO_FLOWS)
		return;
	f = &ctx->flows[ctx->n_flows++];
	*f = (struct toe_gro_flow){
		.head = m, .last = rte_pktmbuf_lastseg(m),
		.next_seq = toe_seq_add(s->seq, s->payload),
		.size = (uint32_t)s->h.l3_len + s->h.l4_len + s->payload,
		.mss = (uint16_t)s->payload, .segs = 1,
		.l2_len = (uint8_t)s->h.l2_len, .l3_len = (uint8_t)s->h.l3_len,
		.l4_len = (uint8_t)s->h.l4_len, .ip_version = s->h.ip_version,
	};
}

uint16_t
toe_gro_burst(struct toe_ctx *ctx, uint32_t caps, struct rte_mbuf **pkts,
	      uint16_t n)
{
	struct gro_seg s;
	uint16_t k = 0;

	if (!(caps & (TOE_CAP_TSO4 | TOE_CAP_TSO6)))
		return n;
	for (uint16_t i = 0; i < n; i++) {
		struct rte_mbuf *m = pkts[i];
		enum gro_kind kind = gro_classify(ctx, caps, m, &s);
		int idx = kind == GRO_OTHER ? -1 : gro_lookup(ctx, &s);

		if (kind == GRO_MERGEABLE && idx >= 0 &&
		    gro_fits(&ctx->flows[idx], &s)) {
			struct toe_gro_flow *f = &ctx->flows[idx];

			gro_append(ctx, f, m, &s);
			/* A short segment is the last of what TCP sent as one
			 * write; PSH ends it explicitly. */
			if (f->psh || s.payload < f->mss ||
			    f->segs == TOE_GRO_SEGS_MAX)
				gro_close(ctx, (uint16_t)idx);
			continue;
		}
		/* Order within a flow: whatever does not join its frame
		 * ends it, so nothing later can overtake this segment. */
		if (idx >= 0)
			gro_close(ctx, (uint16_t)idx);
		pkts[k++] = m;
		if (kind == GRO_MERGEABLE)
			gro_open(ctx, m, &s);
	}
	while (ctx->n_flows > 0)
		gro_close(ctx, (uint16_t)(ctx->n_flows - 1));
	return k;
}
