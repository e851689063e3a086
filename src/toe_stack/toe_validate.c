/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Guest offload metadata, checked against the frame it describes.  A
 * guest says "complete my checksum" and "cut this into MSS segments"
 * through its virtio-net header, which rte_vhost turns into mbuf flags;
 * both are claims by the guest about its own bytes, so each is checked
 * against what toe_parse() finds there, and a frame whose claims do not
 * hold is dropped under the first lie found.  What survives is canonical
 * (toe_offload.h), so toe_gso.c and toe_csum.c can work on it.
 */
#include "toe_priv.h"

#include <linux/virtio_net.h>
#include <netinet/in.h>
#include <string.h>

#include <rte_mbuf.h>

/* Offload bits this layer sets or clears; everything else is kept. */
#define OL_RX_CLAIMS (RTE_MBUF_F_RX_LRO | RTE_MBUF_F_RX_L4_CKSUM_MASK | \
		      RTE_MBUF_F_RX_IP_CKSUM_MASK)
#define OL_TX_CLAIMS (RTE_MBUF_F_TX_TCP_SEG | RTE_MBUF_F_TX_UDP_SEG | \
		      RTE_MBUF_F_TX_L4_MASK | RTE_MBUF_F_TX_IP_CKSUM | \
		      RTE_MBUF_F_TX_IPV4 | RTE_MBUF_F_TX_IPV6)

/*
 * Does a canonical frame (l2/l3/l4_len and TX flags) agree with its
 * headers?  Shared by validation and by every egress function that reads
 * or rewrites headers, so none of them trusts a length it did not check.
 */
enum toe_drop
toe_canon_check(const struct rte_mbuf *m, const struct toe_hdrs *h)
{
	uint64_t l4 = m->ol_flags & RTE_MBUF_F_TX_L4_MASK;
	bool tso = (m->ol_flags & RTE_MBUF_F_TX_TCP_SEG) != 0;

	if (h->ip_version == 0)
		return tso ? TOE_DROP_GSO_NOT_TCP : TOE_DROP_CSUM_UNSUPPORTED;
	if (h->frag)
		return TOE_DROP_IP_FRAG;
	/* Only a minimum-size frame may carry bytes after its datagram. */
	if (h->pad > 0 && m->pkt_len > TOE_FRAME_PAD_MAX)
		return TOE_DROP_IP_LEN_BAD;
	if (m->l2_len != h->l2_len || m->l3_len != h->l3_len)
		return TOE_DROP_MBUF_LENS_BAD;
	if (tso) {
		if (h->l4_proto != IPPROTO_TCP)
			return TOE_DROP_GSO_NOT_TCP;
		/* The lie: an l4_len shorter (or longer) than the TCP header,
		 * which would cut headers into payload or payload away. */
		if (m->l4_len != h->l4_len)
			return TOE_DROP_MBUF_LENS_BAD;
		if ((h->ip_version == 4 && (m->ol_flags & RTE_MBUF_F_TX_IPV6)) ||
		    (h->ip_version == 6 && (m->ol_flags & RTE_MBUF_F_TX_IPV4)))
			return TOE_DROP_GSO_TYPE_MISMATCH;
		return toe_gso_check(h, m->tso_segsz);
	}
	if ((l4 == RTE_MBUF_F_TX_TCP_CKSUM && h->l4_proto != IPPROTO_TCP) ||
	    (l4 == RTE_MBUF_F_TX_UDP_CKSUM && h->l4_proto != IPPROTO_UDP) ||
	    l4 == RTE_MBUF_F_TX_SCTP_CKSUM)
		return TOE_DROP_CSUM_UNSUPPORTED;
	return TOE_DROP_NONE;
}

enum toe_drop
toe_gso_check(const struct toe_hdrs *h, uint16_t gso_size)
{
	uint32_t payload;

	/* SYN and RST occupy or end the sequence space of one segment and
	 * URG points into one: none of them can be copied onto many. */
	if (h->tcp_flags & (TOE_TCP_SYN | TOE_TCP_RST | TOE_TCP_URG))
		return TOE_DROP_GSO_FLAGS_BAD;
	if (gso_size == 0)
		return TOE_DROP_GSO_SIZE_ZERO;
	payload = h->l3_end - h->l2_len - h->l3_len - h->l4_len;
	if (payload == 0 || gso_size > payload)
		return TOE_DROP_GSO_SIZE_BIG;
	if ((payload + gso_size - 1) / gso_size > TOE_GSO_SEGS_MAX)
		return TOE_DROP_GSO_TOO_MANY_SEGS;
	return TOE_DROP_NONE;
}

/* Lengths from the headers, IP version flag from the headers; the
 * requests (TX_TCP_SEG, TX_L4) are kept for toe_canon_check to judge. */
static void
canon_set(struct rte_mbuf *m, const struct toe_hdrs *h, uint64_t requests)
{
	uint64_t fl = m->ol_flags & ~(OL_RX_CLAIMS | OL_TX_CLAIMS);

	if (h->ip_version == 4)
		fl |= RTE_MBUF_F_TX_IPV4;
	else if (h->ip_version == 6)
		fl |= RTE_MBUF_F_TX_IPV6;
	if (requests & RTE_MBUF_F_TX_TCP_SEG)
		requests |= RTE_MBUF_F_TX_TCP_CKSUM;
	m->ol_flags = fl | requests;
	m->l2_len = h->l2_len;
	m->l3_len = h->l3_len;
	m->l4_len = h->l4_len;
}

/* The request a "checksum at the L4 header" claim makes of these headers. */
static uint64_t
csum_request(const struct toe_hdrs *h)
{
	if (h->l4_proto == IPPROTO_TCP)
		return RTE_MBUF_F_TX_TCP_CKSUM;
	if (h->l4_proto == IPPROTO_UDP)
		return RTE_MBUF_F_TX_UDP_CKSUM;
	return RTE_MBUF_F_TX_SCTP_CKSUM;        /* refused by toe_canon_check */
}

/*
 * One frame from rte_vhost_dequeue_burst.  Compliant flags carry only
 * "partial checksum" (RX_L4_CKSUM_NONE: rte_vhost already checked that
 * csum_start is within the headers of a TCP/UDP/SCTP frame) and "GSO with
 * this MSS" (RX_LRO + tso_segsz: rte_vhost checked the ptype, not the
 * lengths).  Legacy flags are already in canonical form, lengths included,
 * and are checked as they are.
 */
static enum toe_drop
guest_one(struct rte_mbuf *m)
{
	uint64_t fl = m->ol_flags;
	uint8_t hdr[TOE_HDR_MAX];
	struct toe_hdrs h;
	enum toe_drop r;

	if (fl & RTE_MBUF_F_TX_UDP_SEG)
		return TOE_DROP_GSO_UNSUPPORTED;
	r = toe_parse(m, &h, hdr);
	if (r != TOE_DROP_NONE)
		return r;
	if (fl & OL_RX_CLAIMS) {
		uint64_t req = 0;

		if (fl & RTE_MBUF_F_RX_LRO)
			req = RTE_MBUF_F_TX_TCP_SEG;
		else if ((fl & RTE_MBUF_F_RX_L4_CKSUM_MASK) ==
			 RTE_MBUF_F_RX_L4_CKSUM_NONE)
			req = csum_request(&h);
		canon_set(m, &h, req);
		return toe_canon_check(m, &h);
	}
	r = toe_canon_check(m, &h);
	if (r != TOE_DROP_NONE)
		return r;
	canon_set(m, &h, fl & (RTE_MBUF_F_TX_TCP_SEG | RTE_MBUF_F_TX_L4_MASK));
	return TOE_DROP_NONE;
}

static inline bool
has_claims(uint64_t fl)
{
	return (fl & (RTE_MBUF_F_RX_LRO | RTE_MBUF_F_TX_TCP_SEG |
		      RTE_MBUF_F_TX_UDP_SEG | RTE_MBUF_F_TX_L4_MASK)) != 0 ||
	       (fl & RTE_MBUF_F_RX_L4_CKSUM_MASK) == RTE_MBUF_F_RX_L4_CKSUM_NONE;
}

uint16_t
toe_guest_validate(struct toe_ctx *ctx, struct rte_mbuf **pkts, uint16_t n)
{
	uint16_t kept = 0;

	for (uint16_t i = 0; i < n; i++) {
		struct rte_mbuf *m = pkts[i];
		enum toe_drop r = TOE_DROP_NONE;

		if (has_claims(m->ol_flags)) {
			r = guest_one(m);
			if (r == TOE_DROP_NONE)
				ctx->stats.validated++;
		}
		if (r != TOE_DROP_NONE) {
			toe_drop(ctx, m, TOE_STAGE_GUEST, r);
			continue;
		}
		pkts[kept++] = m;
	}
	return kept;
}

/* virtio 1.1 §5.1.6.2: the TCP/UDP checksum field, at the L4 header? */
static bool
csum_is_l4(const struct toe_hdrs *h, uint32_t start, uint32_t offset)
{
	if (h->ip_version == 0 || h->frag ||
	    start != (uint32_t)h->l2_len + h->l3_len)
		return false;
	return (h->l4_proto == IPPROTO_TCP && offset == 16) ||
	       (h->l4_proto == IPPROTO_UDP && offset == 6);
}

/*
 * The lies a guest's virtio-net header can tell about the frame_len-byte
 * frame whose first min(frame_len, TOE_HDR_MAX) bytes are hdr, in the
 * order they are looked for: positions first, before anything is read at
 * them, then what the parsed headers (into *h) contradict.  Shared by the
 * mbuf path (vnet_one) and the bytes path (toe_vnet_check), so both find
 * the same lie under the same reason.
 */
static enum toe_drop
vnet_lies(const struct virtio_net_hdr *vh, const uint8_t *hdr,
	  uint32_t frame_len, struct toe_hdrs *h)
{
	uint32_t start = vh->csum_start, offset = vh->csum_offset;
	bool csum = (vh->flags & VIRTIO_NET_HDR_F_NEEDS_CSUM) != 0;
	uint8_t gso = vh->gso_type & (uint8_t)~VIRTIO_NET_HDR_GSO_ECN;
	enum toe_drop r;

	if (csum && start >= frame_len)
		return TOE_DROP_CSUM_START_OOB;
	if (csum && start + offset + 2 > frame_len)
		return TOE_DROP_CSUM_OFFSET_OOB;
	if (gso != VIRTIO_NET_HDR_GSO_NONE) {
		if (gso != VIRTIO_NET_HDR_GSO_TCPV4 &&
		    gso != VIRTIO_NET_HDR_GSO_TCPV6)
			return TOE_DROP_GSO_UNSUPPORTED;
		if (vh->hdr_len > frame_len)
			return TOE_DROP_HDR_LEN_BAD;
	}
	r = toe_parse_bytes(hdr, frame_len, h);
	if (r != TOE_DROP_NONE || gso == VIRTIO_NET_HDR_GSO_NONE)
		return r;
	if (h->ip_version == 0 || (!h->frag && h->l4_proto != IPPROTO_TCP))
		return TOE_DROP_GSO_NOT_TCP;
	if (h->frag)
		return TOE_DROP_IP_FRAG;
	if ((gso == VIRTIO_NET_HDR_GSO_TCPV4) != (h->ip_version == 4))
		return TOE_DROP_GSO_TYPE_MISMATCH;
	/* hdr_len is a hint (virtio 1.1 §5.1.6.2), but one that ends inside
	 * the headers is a lie about where payload starts. */
	if (vh->hdr_len != 0 &&
	    vh->hdr_len < (uint32_t)h->l2_len + h->l3_len + h->l4_len)
		return TOE_DROP_HDR_LEN_BAD;
	return TOE_DROP_NONE;
}

/* One frame and the virtio-net header the guest wrote for it. */
static enum toe_drop
vnet_one(struct toe_ctx *ctx, const struct virtio_net_hdr *vh,
	 struct rte_mbuf **mp)
{
	uint32_t start = vh->csum_start, offset = vh->csum_offset;
	uint8_t gso = vh->gso_type & (uint8_t)~VIRTIO_NET_HDR_GSO_ECN;
	struct rte_mbuf *m = *mp;
	uint8_t hdr[TOE_HDR_MAX];
	struct toe_hdrs h;
	enum toe_drop r;

	if (!toe_mbuf_chain_ok(m) ||
	    toe_mbuf_read(m, 0, RTE_MIN(m->pkt_len, (uint32_t)TOE_HDR_MAX),
			  hdr) != 0)
		return TOE_DROP_CHAIN_BAD;
	r = vnet_lies(vh, hdr, m->pkt_len, &h);
	if (r != TOE_DROP_NONE)
		return r;
	if (gso != VIRTIO_NET_HDR_GSO_NONE) {
		/* Its checksum request, wherever it points, is subsumed:
		 * every segment gets a checksum of its own. */
		canon_set(m, &h, RTE_MBUF_F_TX_TCP_SEG);
		m->tso_segsz = vh->gso_size;
		return toe_canon_check(m, &h);
	}
	if (csum_is_l4(&h, start, offset)) {
		canon_set(m, &h, csum_request(&h));
		return toe_canon_check(m, &h);
	}
	/* Somewhere else (a tunnel's inner header, say): done now, as the
	 * device the guest believes it talks to would. */
	m = toe_mbuf_unshare(ctx, m);
	if (m == NULL)
		return TOE_DROP_NO_MBUF;
	*mp = m;
	r = toe_csum_generic(m, start, offset);
	if (r != TOE_DROP_NONE)
		return r;
	ctx->stats.csum_sw++;
	canon_set(m, &h, 0);
	return TOE_DROP_NONE;
}

uint16_t
toe_vnet_validate(struct toe_ctx *ctx, const struct virtio_net_hdr *hdrs,
		  struct rte_mbuf **pkts, uint16_t n)
{
	uint16_t kept = 0;

	for (uint16_t i = 0; i < n; i++) {
		const struct virtio_net_hdr *vh = &hdrs[i];
		struct rte_mbuf *m = pkts[i];
		enum toe_drop r = TOE_DROP_NONE;

		/* Flag bits it does not know, ECN without GSO: ignored, as
		 * virtio 1.1 §5.1.6.2.2 asks of a device. */
		if ((vh->flags & VIRTIO_NET_HDR_F_NEEDS_CSUM) ||
		    (vh->gso_type & ~VIRTIO_NET_HDR_GSO_ECN) !=
		    VIRTIO_NET_HDR_GSO_NONE) {
			r = vnet_one(ctx, vh, &m);
			if (r == TOE_DROP_NONE)
				ctx->stats.validated++;
		}
		if (r != TOE_DROP_NONE) {
			toe_drop(ctx, m, TOE_STAGE_GUEST, r);
			continue;
		}
		pkts[kept++] = m;
	}
	return kept;
}

enum toe_drop
toe_vnet_check(const struct virtio_net_hdr *vh, const uint8_t *hdr,
	       uint32_t frame_len, bool *pass, uint32_t *needs,
	       struct virtio_net_hdr *out)
{
	uint32_t start = vh->csum_start, offset = vh->csum_offset, l234;
	bool csum = (vh->flags & VIRTIO_NET_HDR_F_NEEDS_CSUM) != 0;
	uint8_t gso = vh->gso_type & (uint8_t)~VIRTIO_NET_HDR_GSO_ECN;
	struct toe_hdrs h;
	enum toe_drop r;

	*pass = false;
	if (!csum && gso == VIRTIO_NET_HDR_GSO_NONE)
		return TOE_DROP_NONE;
	r = vnet_lies(vh, hdr, frame_len, &h);
	if (r != TOE_DROP_NONE)
		return r;
	l234 = (uint32_t)h.l2_len + h.l3_len + h.l4_len;
	/* No GSO, checksum elsewhere: completed in software on the other
	 * path (vnet_one), which checks nothing more. */
	if (gso == VIRTIO_NET_HDR_GSO_NONE && !csum_is_l4(&h, start, offset))
		return TOE_DROP_NONE;
	/* toe_canon_check's, for lengths that come from these headers */
	if (h.pad > 0 && frame_len > TOE_FRAME_PAD_MAX)
		return TOE_DROP_IP_LEN_BAD;
	if (gso != VIRTIO_NET_HDR_GSO_NONE) {
		r = toe_gso_check(&h, vh->gso_size);
		if (r != TOE_DROP_NONE)
			return r;
	}
	/* True claims.  Passed on as they are only in the one form a
	 * receiver takes unchanged: a checksum request at the L4 field, no
	 * ECN (GUEST_ECN) and no flags we do not know. */
	if (vh->flags != VIRTIO_NET_HDR_F_NEEDS_CSUM ||
	    (vh->gso_type & VIRTIO_NET_HDR_GSO_ECN) ||
	    !csum_is_l4(&h, start, offset))
		return TOE_DROP_NONE;
	memset(out, 0, sizeof(*out));
	out->flags = VIRTIO_NET_HDR_F_NEEDS_CSUM;
	out->csum_start = (uint16_t)(h.l2_len + h.l3_len);
	out->csum_offset = vh->csum_offset;
	*needs = TOE_CAP_L4_CSUM;
	if (gso != VIRTIO_NET_HDR_GSO_NONE) {
		out->gso_type = gso;
		out->gso_size = vh->gso_size;
		out->hdr_len = (uint16_t)l234;
		*needs |= gso == VIRTIO_NET_HDR_GSO_TCPV4 ? TOE_CAP_TSO4 : TOE_CAP_TSO6;
	}
	*pass = true;
	return TOE_DROP_NONE;
}
