/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The offload layer's own header parser: Ethernet (up to two VLAN tags),
 * IPv4 with options, IPv6 with extension headers, TCP and UDP.  Validation,
 * segmentation, checksum completion and GRO all start from what it finds
 * in the bytes, never from what an mbuf's fields or a guest's virtio
 * header claim.  Every header is checked to lie inside the frame and its
 * IP datagram before a byte of it is read.
 */
#include "toe_priv.h"

#include <netinet/in.h>
#include <string.h>

#include <rte_byteorder.h>
#include <rte_ether.h>
#include <rte_mbuf.h>

#define IP6_EXT_MAX 8   /* extension headers walked before giving up */

static inline uint16_t
be16_at(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

/*
 * A header of size bytes at offset start, ending no later than end (the
 * frame or the IP datagram): is it all there, and within what we copied?
 */
static enum toe_drop
need(uint32_t start, uint32_t size, uint32_t end)
{
	if ((uint64_t)start + size > end)
		return TOE_DROP_HDR_TRUNCATED;
	if (start + size > TOE_HDR_MAX)
		return TOE_DROP_HDR_TOO_LONG;
	return TOE_DROP_NONE;
}

static enum toe_drop
parse_ipv4(uint32_t frame_len, struct toe_hdrs *h, const uint8_t *hdr)
{
	uint32_t off = h->l2_len;
	const uint8_t *ip = hdr + off;
	uint32_t ihl, total;
	enum toe_drop r;

	r = need(off, 20, frame_len);
	if (r != TOE_DROP_NONE)
		return r;
	ihl = (uint32_t)(ip[0] & 0x0f) * 4;
	if (ip[0] >> 4 != 4 || ihl < 20)
		return TOE_DROP_L3_BAD;
	/* The lie: a total length past the frame, or one that does not even
	 * cover the header (RFC 791 §3.1). */
	total = be16_at(ip + 2);
	if (total < ihl || off + total > frame_len)
		return TOE_DROP_IP_LEN_BAD;
	h->l3_end = off + total;
	r = need(off, ihl, h->l3_end);
	if (r != TOE_DROP_NONE)
		return r;
	h->ip_version = 4;
	h->l3_len = (uint16_t)ihl;
	h->l4_proto = ip[9];
	h->frag = (be16_at(ip + 6) & 0x3fff) != 0;      /* MF or an offset */
	return TOE_DROP_NONE;
}

static enum toe_drop
parse_ipv6(uint32_t frame_len, struct toe_hdrs *h, const uint8_t *hdr)
{
	uint32_t off = h->l2_len;
	const uint8_t *ip = hdr + off;
	uint32_t payload, pos;
	uint8_t next;
	enum toe_drop r;

	r = need(off, 40, frame_len);
	if (r != TOE_DROP_NONE)
		return r;
	if (ip[0] >> 4 != 6)
		return TOE_DROP_L3_BAD;
	/* Payload length 0 means a jumbogram (RFC 2675): not handled. */
	payload = be16_at(ip + 4);
	if (payload == 0)
		return TOE_DROP_L3_BAD;
	if (off + 40 + payload > frame_len)
		return TOE_DROP_IP_LEN_BAD;
	h->l3_end = off + 40 + payload;
	h->ip_version = 6;
	next = ip[6];
	pos = off + 40;
	/* RFC 8200 §4: a chain of extension headers; bounded, as a guest can
	 * make it as long as the frame. */
	for (int i = 0;; i++) {
		uint32_t size;

		if (next != IPPROTO_HOPOPTS && next != IPPROTO_ROUTING &&
		    next != IPPROTO_DSTOPTS && next != IPPROTO_FRAGMENT &&
		    next != IPPROTO_AH)
			break;
		if (i == IP6_EXT_MAX)
			return TOE_DROP_L3_BAD;
		r = need(pos, 8, h->l3_end);
		if (r != TOE_DROP_NONE)
			return r;
		if (next == IPPROTO_FRAGMENT)
			size = 8;
		else if (next == IPPROTO_AH)
			size = ((uint32_t)hdr[pos + 1] + 2) * 4;   /* RFC 4302 §2.2 */
		else
			size = ((uint32_t)hdr[pos + 1] + 1) * 8;
		r = need(pos, size, h->l3_end);
		if (r != TOE_DROP_NONE)
			return r;
		if (next == IPPROTO_FRAGMENT)
			h->frag = true;
		next = hdr[pos];
		pos += size;
	}
	h->l3_len = (uint16_t)(pos - off);
	h->l4_proto = next;
	return TOE_DROP_NONE;
}

static enum toe_drop
parse_l4(struct toe_hdrs *h, const uint8_t *hdr)
{
	uint32_t off = h->l2_len + h->l3_len;
	enum toe_drop r;

	if (h->l4_proto == IPPROTO_TCP) {
		uint32_t size;

		r = need(off, 20, h->l3_end);
		if (r != TOE_DROP_NONE)
			return r;
		/* The lie: a data offset below the fixed header, or one that
		 * runs past the datagram (RFC 9293 §3.1). */
		size = (uint32_t)(hdr[off + 12] >> 4) * 4;
		if (size < 20)
			return TOE_DROP_L4_BAD;
		r = need(off, size, h->l3_end);
		if (r != TOE_DROP_NONE)
			return r;
		h->l4_len = (uint16_t)size;
		h->tcp_flags = hdr[off + 13];
	} else if (h->l4_proto == IPPROTO_UDP) {
		r = need(off, 8, h->l3_end);
		if (r != TOE_DROP_NONE)
			return r;
		/* RFC 768: the UDP length covers header and data, exactly. */
		if (be16_at(hdr + off + 4) != h->l3_end - off)
			return TOE_DROP_L4_BAD;
		h->l4_len = 8;
	}
	return TOE_DROP_NONE;
}

enum toe_drop
toe_parse_bytes(const uint8_t *hdr, uint32_t frame_len, struct toe_hdrs *h)
{
	uint16_t type;
	uint32_t off;
	enum toe_drop r;

	memset(h, 0, sizeof(*h));
	h->l3_end = frame_len;
	r = need(0, RTE_ETHER_HDR_LEN, frame_len);
	if (r != TOE_DROP_NONE)
		return r;
	type = be16_at(hdr + 12);
	off = RTE_ETHER_HDR_LEN;
	for (int tags = 0; tags < 2; tags++) {
		if (type != RTE_ETHER_TYPE_VLAN && type != RTE_ETHER_TYPE_QINQ)
			break;
		r = need(off, 4, frame_len);
		if (r != TOE_DROP_NONE)
			return r;
		type = be16_at(hdr + off + 2);
		off += 4;
	}
	h->l2_len = (uint16_t)off;
	if (type == RTE_ETHER_TYPE_IPV4)
		r = parse_ipv4(frame_len, h, hdr);
	else if (type == RTE_ETHER_TYPE_IPV6)
		r = parse_ipv6(frame_len, h, hdr);
	else
		return TOE_DROP_NONE;   /* not IP: nothing more to find */
	if (r != TOE_DROP_NONE)
		return r;
	h->pad = frame_len - h->l3_end;
	if (h->frag)
		return TOE_DROP_NONE;
	return parse_l4(h, hdr);
}

enum toe_drop
toe_parse(const struct rte_mbuf *m, struct toe_hdrs *h,
	  uint8_t hdr[TOE_HDR_MAX])
{
	uint32_t have = RTE_MIN(m->pkt_len, (uint32_t)TOE_HDR_MAX);

	memset(h, 0, sizeof(*h));
	if (!toe_mbuf_chain_ok(m))
		return TOE_DROP_CHAIN_BAD;
	if (toe_mbuf_read(m, 0, have, hdr) != 0)
		return TOE_DROP_CHAIN_BAD;
	return toe_parse_bytes(hdr, m->pkt_len, h);
}
