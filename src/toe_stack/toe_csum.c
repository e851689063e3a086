/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Internet checksums (RFC 1071) over mbuf chains: the pseudo headers of
 * RFC 9293 §3.1 (TCP/IPv4), RFC 768 (UDP) and RFC 8200 §8.1 (IPv6),
 * completion of a partial checksum, verification for GRO.  Sums are kept
 * in host byte order and stored as they are, which RFC 1071 §2(B) allows;
 * a chunk that starts at an odd offset is byte-swapped before it is added.
 * (rte_raw_cksum_mbuf truncates a chunk's carries before that swap, so it
 * is not used for chains.)
 */
#include "toe_priv.h"

#include <netinet/in.h>
#include <string.h>

#include <rte_byteorder.h>
#include <rte_ip.h>
#include <rte_mbuf.h>

uint16_t
toe_csum_fold(uint32_t sum)
{
	sum = (sum >> 16) + (sum & 0xffff);
	sum = (sum >> 16) + (sum & 0xffff);
	return (uint16_t)sum;
}

int
toe_csum_mbuf(const struct rte_mbuf *m, uint32_t off, uint32_t len,
	      uint32_t *sum)
{
	const struct rte_mbuf *seg = m;
	uint32_t acc = 0;
	uint32_t done = 0;

	if ((uint64_t)off + len > m->pkt_len)
		return -1;
	while (seg != NULL && off >= seg->data_len) {
		off -= seg->data_len;
		seg = seg->next;
	}
	while (len > 0) {
		uint32_t chunk;
		uint16_t s;

		if (seg == NULL)
			return -1;
		chunk = RTE_MIN(len, (uint32_t)seg->data_len - off);
		s = rte_raw_cksum(rte_pktmbuf_mtod_offset(seg, const void *, off),
				  chunk);
		if (done & 1)
			s = rte_bswap16(s);
		acc += s;       /* at most one 16-bit add per segment */
		done += chunk;
		len -= chunk;
		off = 0;
		seg = seg->next;
	}
	*sum = (uint32_t)toe_csum_fold(*sum) + toe_csum_fold(acc);
	return 0;
}

uint32_t
toe_csum_pseudo(const uint8_t *l3, uint8_t ip_version, uint8_t proto,
		uint32_t l4_size)
{
	uint32_t sum;

	if (ip_version == 4)
		sum = rte_raw_cksum(l3 + 12, 8);        /* source, destination */
	else
		sum = rte_raw_cksum(l3 + 8, 32);
	sum += rte_cpu_to_be_16((uint16_t)proto);
	sum += rte_cpu_to_be_16((uint16_t)(l4_size & 0xffff));
	sum += rte_cpu_to_be_16((uint16_t)(l4_size >> 16));
	return sum;
}

void
toe_ipv4_csum_set(uint8_t *ip)
{
	uint32_t ihl = (uint32_t)(ip[0] & 0x0f) * 4;
	uint16_t cks = 0;

	memcpy(ip + 10, &cks, sizeof(cks));
	cks = (uint16_t)~rte_raw_cksum(ip, ihl);
	memcpy(ip + 10, &cks, sizeof(cks));
}

static uint32_t
l4_field(const struct toe_hdrs *h)
{
	return (uint32_t)h->l2_len + h->l3_len +
	       (h->l4_proto == IPPROTO_TCP ? 16 : 6);
}

bool
toe_l4_csum_ok(const struct rte_mbuf *m, const struct toe_hdrs *h,
	       const uint8_t *hdr)
{
	uint32_t l4 = (uint32_t)h->l2_len + h->l3_len;
	uint32_t sum;
	uint16_t field;

	if (h->l4_proto == IPPROTO_UDP && h->ip_version == 4) {
		memcpy(&field, hdr + l4 + 6, sizeof(field));
		if (field == 0)
			return true;    /* RFC 768: no checksum sent */
	}
	sum = toe_csum_pseudo(hdr + h->l2_len, h->ip_version, h->l4_proto,
			      h->l3_end - l4);
	if (toe_csum_mbuf(m, l4, h->l3_end - l4, &sum) != 0)
		return false;
	return toe_csum_fold(sum) == 0xffff;
}

/*
 * Write m's TCP/UDP checksum: the folded pseudo-header sum when partial
 * (what virtio's NEEDS_CSUM and DPDK's TX_*_CKSUM expect to find), the
 * full checksum otherwise.  m must be writable; h and hdr describe it.
 */
enum toe_drop
toe_l4_csum_fill(struct rte_mbuf *m, const struct toe_hdrs *h,
		 const uint8_t *hdr, bool partial)
{
	uint32_t l4 = (uint32_t)h->l2_len + h->l3_len;
	uint32_t sum;
	uint16_t cks = 0;

	sum = toe_csum_pseudo(hdr + h->l2_len, h->ip_version, h->l4_proto,
			      h->l3_end - l4);
	if (partial) {
		cks = toe_csum_fold(sum);
	} else {
		if (toe_mbuf_write(m, l4_field(h), &cks, sizeof(cks)) != 0 ||
		    toe_csum_mbuf(m, l4, h->l3_end - l4, &sum) != 0)
			return TOE_DROP_CHAIN_BAD;
		cks = (uint16_t)~toe_csum_fold(sum);
		/* RFC 768: a computed 0 is sent as all ones (0 = none). */
		if (cks == 0 && h->l4_proto == IPPROTO_UDP)
			cks = 0xffff;
	}
	if (toe_mbuf_write(m, l4_field(h), &cks, sizeof(cks)) != 0)
		return TOE_DROP_CHAIN_BAD;
	return TOE_DROP_NONE;
}

/*
 * virtio 1.1 §5.1.6.2: "the device computes the checksum from csum_start
 * to the end of the packet and stores it at csum_start + csum_offset"; the
 * field already holds the guest's partial sum, so it is part of the sum.
 * The caller has checked that both lie inside the frame.
 */
enum toe_drop
toe_csum_generic(struct rte_mbuf *m, uint32_t start, uint32_t offset)
{
	uint32_t sum = 0;
	uint16_t cks;

	if (toe_csum_mbuf(m, start, m->pkt_len - start, &sum) != 0)
		return TOE_DROP_CHAIN_BAD;
	cks = (uint16_t)~toe_csum_fold(sum);
	if (cks == 0)
		cks = 0xffff;   /* as Linux skb_checksum_help (CSUM_MANGLED_0) */
	if (toe_mbuf_write(m, start + offset, &cks, sizeof(cks)) != 0)
		return TOE_DROP_CHAIN_BAD;
	return TOE_DROP_NONE;
}

int
toe_csum_complete(struct toe_ctx *ctx, struct rte_mbuf **mp)
{
	uint8_t hdr[TOE_HDR_MAX];
	struct rte_mbuf *m = *mp;
	struct toe_hdrs h;
	enum toe_drop r;
	int ret = -EINVAL;

	r = toe_parse(m, &h, hdr);
	if (r == TOE_DROP_NONE)
		r = toe_canon_check(m, &h);
	if (r != TOE_DROP_NONE)
		goto drop;
	m = toe_mbuf_unshare(ctx, m);
	if (m == NULL) {
		m = *mp;
		r = TOE_DROP_NO_MBUF;
		ret = -ENOMEM;
		goto drop;
	}
	r = toe_l4_csum_fill(m, &h, hdr, false);
	if (r != TOE_DROP_NONE)
		goto drop;
	m->ol_flags &= ~RTE_MBUF_F_TX_L4_MASK;
	ctx->stats.csum_sw++;
	*mp = m;
	return 0;
drop:
	toe_drop(ctx, m, TOE_STAGE_EGRESS, r);
	*mp = NULL;
	return ret;
}
