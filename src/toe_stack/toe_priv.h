/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * What the offload layer's files share: the ctx, the parsed view of a
 * frame's headers, bounded mbuf-chain access, checksum primitives and TCP
 * sequence arithmetic.  Not for use outside src/toe_stack/.
 */
#ifndef VTOE_TOE_PRIV_H
#define VTOE_TOE_PRIV_H

#include <stdbool.h>
#include <stdint.h>

#include <rte_common.h>
#include <rte_mbuf.h>

#include "toe_offload.h"

/* TCP header flags (RFC 9293 §3.1; CWR and ECE from RFC 3168 §6.1). */
#define TOE_TCP_FIN 0x01
#define TOE_TCP_SYN 0x02
#define TOE_TCP_RST 0x04
#define TOE_TCP_PSH 0x08
#define TOE_TCP_ACK 0x10
#define TOE_TCP_URG 0x20
#define TOE_TCP_ECE 0x40
#define TOE_TCP_CWR 0x80

/* The smallest Ethernet frame without FCS, with one VLAN tag: a frame this
 * short may carry padding after its IP datagram. */
#define TOE_FRAME_PAD_MAX 64

/*
 * TCP sequence numbers live modulo 2^32 (RFC 9293 §3.4, "Sequence
 * Numbers"); compare them only through these.
 */
static inline uint32_t
toe_seq_add(uint32_t seq, uint32_t n)
{
	return seq + n;
}

static inline int32_t
toe_seq_diff(uint32_t a, uint32_t b)
{
	return (int32_t)(a - b);
}

static inline bool
toe_seq_lt(uint32_t a, uint32_t b)
{
	return toe_seq_diff(a, b) < 0;
}

struct toe_gro_flow {
	struct rte_mbuf *head;          /* first segment; its headers become the frame's */
	struct rte_mbuf *last;          /* last mbuf of the chain, to append in O(1) */
	uint32_t next_seq;              /* what the next in-order segment carries */
	uint32_t size;                  /* IP datagram bytes so far */
	uint16_t mss;                   /* payload of the first segment */
	uint16_t segs;
	uint8_t l2_len;
	uint8_t l3_len;
	uint8_t l4_len;
	uint8_t ip_version;
	bool psh;
};

struct toe_ctx {
	/* Set at create, read-only after. */
	struct rte_mempool *pool;
	/* Owning lcore only. */
	struct toe_stats stats;
	/* Set before the first burst, read-only after. */
	toe_drop_sink *sink;
	void *sink_arg;
	/* GRO scratch: n_flows is 0 between bursts. */
	uint16_t n_flows;
	struct toe_gro_flow flows[TOE_GRO_FLOWS];
} __rte_cache_aligned;

static inline void
toe_count_drop(struct toe_ctx *ctx, enum toe_drop reason)
{
	ctx->stats.drops[reason]++;
}

/* Frame m refused: counted, then the sink's or freed. */
static inline void
toe_drop(struct toe_ctx *ctx, struct rte_mbuf *m, enum toe_stage stage,
	 enum toe_drop reason)
{
	toe_count_drop(ctx, reason);
	if (ctx->sink != NULL)
		ctx->sink(ctx->sink_arg, m, stage, reason);
	else
		rte_pktmbuf_free(m);
}

/*
 * The headers of a frame, as toe_parse() found them in its bytes.  Offsets
 * are from the start of the frame; every header they name is inside both
 * the frame and its IP datagram.
 */
struct toe_hdrs {
	uint16_t l2_len;                /* Ethernet + up to two VLAN tags */
	uint16_t l3_len;                /* IP header, options, IPv6 extension headers */
	uint16_t l4_len;                /* TCP header with options, 8 for UDP, else 0 */
	uint8_t ip_version;             /* 4, 6, or 0: not IP */
	uint8_t l4_proto;               /* IPPROTO_* of the transport header */
	bool frag;                      /* an IP fragment: transport header not parsed */
	uint8_t tcp_flags;
	uint32_t l3_end;                /* l2_len + IP datagram length */
	uint32_t pad;                   /* frame bytes after the datagram */
};

/* mbuf chains (toe_mbuf.c).  Only chain_ok trusts nothing; the others
 * trust a chain it accepted but still stop at NULL. */
bool toe_mbuf_chain_ok(const struct rte_mbuf *m);
bool toe_mbuf_writable(const struct rte_mbuf *m);
int toe_mbuf_read(const struct rte_mbuf *m, uint32_t off, uint32_t len,
		  void *buf);
int toe_mbuf_write(struct rte_mbuf *m, uint32_t off, const void *buf,
		   uint32_t len);
int toe_mbuf_append(struct rte_mbuf *head, struct rte_mbuf **last,
		    struct rte_mempool *pool, const struct rte_mbuf *src,
		    uint32_t off, uint32_t len);

/*
 * Parse m's headers (toe_parse.c).  hdr receives the first
 * min(pkt_len, TOE_HDR_MAX) bytes, so callers can read the headers there.
 * Returns TOE_DROP_NONE or the first lie found.  A frame that is not IP,
 * or a fragment, or neither TCP nor UDP, is not an error here.
 */
enum toe_drop toe_parse(const struct rte_mbuf *m, struct toe_hdrs *h,
			uint8_t hdr[TOE_HDR_MAX]);
/* The same on bytes already copied: hdr holds the first
 * min(frame_len, TOE_HDR_MAX) bytes of a frame_len-byte frame. */
enum toe_drop toe_parse_bytes(const uint8_t *hdr, uint32_t frame_len,
			      struct toe_hdrs *h);

/* Canonical form (toe_validate.c): do the mbuf's lengths and requests
 * agree with the headers?  Does a TSO request make sense for them? */
enum toe_drop toe_canon_check(const struct rte_mbuf *m,
			      const struct toe_hdrs *h);
enum toe_drop toe_gso_check(const struct toe_hdrs *h, uint16_t gso_size);

/* Checksums (toe_csum.c), RFC 1071 one's complement sums. */
uint16_t toe_csum_fold(uint32_t sum);
int toe_csum_mbuf(const struct rte_mbuf *m, uint32_t off, uint32_t len,
		  uint32_t *sum);
uint32_t toe_csum_pseudo(const uint8_t *l3, uint8_t ip_version,
			 uint8_t proto, uint32_t l4_size);
void toe_ipv4_csum_set(uint8_t *ip);
bool toe_l4_csum_ok(const struct rte_mbuf *m, const struct toe_hdrs *h,
		    const uint8_t *hdr);
enum toe_drop toe_l4_csum_fill(struct rte_mbuf *m, const struct toe_hdrs *h,
			       const uint8_t *hdr, bool partial);
enum toe_drop toe_csum_generic(struct rte_mbuf *m, uint32_t start,
			       uint32_t offset);

/* Private copy of a shared frame before it is changed; NULL when the pool
 * is empty (nothing freed). */
struct rte_mbuf *toe_mbuf_unshare(struct toe_ctx *ctx, struct rte_mbuf *m);

#endif /* VTOE_TOE_PRIV_H */
