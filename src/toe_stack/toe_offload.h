/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The software TOE, layer 1: stateless offloads on rte_mbuf bursts.
 *
 *   guest tx ring -> toe_guest_validate()   guest claims checked, made canonical
 *   per destination -> toe_egress_prepare() segment / finish checksums only
 *                                           where that egress cannot
 *   uplink rx, per guest -> toe_gro_burst() coalesce in-order TCP segments
 *
 * Canonical form (what every function here leaves on a frame it keeps, and
 * what both rte_vhost_enqueue_burst and rte_eth_tx_burst read): l2_len,
 * l3_len, l4_len set from the headers actually in the frame;
 * RTE_MBUF_F_TX_IPV4 or _IPV6; RTE_MBUF_F_TX_TCP_CKSUM / _UDP_CKSUM when
 * the L4 checksum is still partial; RTE_MBUF_F_TX_TCP_SEG + tso_segsz (the
 * MSS) for a TCP super-frame.  RTE_MBUF_F_TX_IP_CKSUM is never set: the
 * IPv4 header checksum is the sender's (virtio has no offload for it, so a
 * guest's bad one passes as a wire would carry it), and every header the
 * TOE writes (segments) gets a correct one.  Frames without any
 * offload request pass through every function untouched.
 *
 * Every function is burst-shaped, runs on the lcore that owns the ctx,
 * never blocks, and either hands a frame on or frees it and counts it
 * under one named reason (TOE_DROPS).
 */
#ifndef VTOE_TOE_OFFLOAD_H
#define VTOE_TOE_OFFLOAD_H

#include <stdbool.h>
#include <stdint.h>

struct rte_mbuf;
struct rte_mempool;
struct virtio_net_hdr;

/*
 * Every reason the TOE's offload layer drops a frame, declared once:
 * X(symbol, "name shown by vtoectl and telemetry", "what happened").
 * The first group is guest metadata that lies (toe_validate.c), the second
 * is the egress running out of room (toe_gso.c, toe_csum.c).  Each dropped
 * frame is counted exactly once, under the first lie found.
 */
#define TOE_DROPS(X) \
	/* guest offload metadata and the headers it describes */ \
	X(CHAIN_BAD,         "chain_bad",         "mbuf chain whose pkt_len or nb_segs disagrees with its segments, or a segment past its buffer") \
	X(HDR_TRUNCATED,     "hdr_truncated",     "an Ethernet, IP, TCP or UDP header (or the TCP data offset) runs past the frame or the IP datagram") \
	X(HDR_TOO_LONG,      "hdr_too_long",      "headers longer than the 256 bytes the offload layer handles") \
	X(L3_BAD,            "l3_bad",            "offload asked for a frame that is not well-formed IPv4/IPv6 (version, IHL < 5, IPv6 jumbogram)") \
	X(IP_LEN_BAD,        "ip_len_bad",        "IP total or payload length disagrees with the frame length") \
	X(IP_FRAG,           "ip_frag",           "checksum or segmentation offload asked for an IP fragment") \
	X(L4_BAD,            "l4_bad",            "TCP data offset below 5 words, or UDP length disagreeing with the IP length") \
	X(CSUM_START_OOB,    "csum_start_oob",    "csum_start at or past the end of the frame") \
	X(CSUM_OFFSET_OOB,   "csum_offset_oob",   "checksum field (csum_start + csum_offset) not inside the frame") \
	X(CSUM_UNSUPPORTED,  "csum_unsupported",  "checksum offload asked for a protocol other than TCP or UDP over IP") \
	X(GSO_UNSUPPORTED,   "gso_unsupported",   "segmentation type other than TCPv4/TCPv6 (UFO, USO, unknown)") \
	X(GSO_NOT_TCP,       "gso_not_tcp",       "TCP segmentation asked for a frame that is not TCP over IP") \
	X(GSO_TYPE_MISMATCH, "gso_type_mismatch", "gso_type TCPv4 on an IPv6 frame or TCPv6 on an IPv4 frame") \
	X(GSO_FLAGS_BAD,     "gso_flags_bad",     "TCP segmentation asked for a segment with SYN, RST or URG set") \
	X(GSO_SIZE_ZERO,     "gso_size_zero",     "TCP segmentation asked with gso_size (MSS) 0") \
	X(GSO_SIZE_BIG,      "gso_size_big",      "gso_size larger than the TCP payload (or no payload at all)") \
	X(GSO_TOO_MANY_SEGS, "gso_too_many_segs", "gso_size so small the frame would become more than 1024 segments") \
	X(HDR_LEN_BAD,       "hdr_len_bad",       "virtio hdr_len past the frame or shorter than the real headers") \
	X(MBUF_LENS_BAD,     "mbuf_lens_bad",     "mbuf l2/l3/l4_len disagree with the headers in the frame (e.g. l4_len shorter than the TCP header)") \
	/* egress: software segmentation and checksum completion */ \
	X(NO_MBUF,           "no_mbuf",           "the mempool ran out while segmenting or copying a frame") \
	X(OUT_FULL,          "out_full",          "the caller's output array could not take every segment of a frame")

enum toe_drop {
	TOE_DROP_NONE = 0,              /* not a reason: drops[0] stays 0 */
#define TOE_DROP_ENUM(sym, name, help) TOE_DROP_##sym,
	TOE_DROPS(TOE_DROP_ENUM)
#undef TOE_DROP_ENUM
	TOE_DROP_MAX
};

/* "csum_start_oob", ...; NULL for TOE_DROP_NONE or out of range. */
const char *toe_drop_name(enum toe_drop reason);
const char *toe_drop_help(enum toe_drop reason);

/* What an egress does itself (a guest's negotiated features, a NIC's
 * tx_offload_capa).  Anything else is done in software before it. */
#define TOE_CAP_L4_CSUM (1u << 0)       /* completes a partial TCP/UDP checksum */
#define TOE_CAP_TSO4    (1u << 1)       /* segments TCP over IPv4 */
#define TOE_CAP_TSO6    (1u << 2)       /* segments TCP over IPv6 */
/* Takes chains whose mbufs share an external buffer with other frames
 * (rte_vhost's enqueue; a NIC with multi-segment transmit): software
 * segmentation of a super-frame in one external buffer (as rte_vhost
 * dequeues them) then points each segment at its payload there instead
 * of copying it. */
#define TOE_CAP_SG      (1u << 3)
/*
 * The upper 16 bits of caps: how many segments one TSO frame may become at
 * that egress (0: no limit).  A super-frame with more is cut into TSO
 * frames of at most that many segments ("partial GSO"), for NICs and PMDs
 * whose TSO takes less than 64 KB at once.
 */
#define TOE_CAP_TSO_SEGS_SHIFT 16
#define TOE_CAP_TSO_SEGS(n) ((uint32_t)(n) << TOE_CAP_TSO_SEGS_SHIFT)
#define TOE_CAP_TSO_SEGS_OF(caps) ((uint16_t)((caps) >> TOE_CAP_TSO_SEGS_SHIFT))

/* GUEST_CSUM -> L4_CSUM; GUEST_TSO4/6 -> TSO4/6, only with GUEST_CSUM
 * (virtio 1.1 5.1.3.1: TSO requires the checksum feature). */
uint32_t toe_caps_from_virtio(uint64_t negotiated_features);
/* RTE_ETH_TX_OFFLOAD_TCP_CKSUM and _UDP_CKSUM -> L4_CSUM;
 * RTE_ETH_TX_OFFLOAD_TCP_TSO (with TCP_CKSUM) -> TSO4 | TSO6. */
uint32_t toe_caps_from_eth(uint64_t tx_offload_capa);

#define TOE_HDR_MAX       256   /* Ethernet + IP + TCP headers handled */
#define TOE_GSO_SEGS_MAX 1024   /* segments one super-frame may become */
#define TOE_GRO_FLOWS      32   /* flows coalesced at once in a burst */
#define TOE_GRO_SEGS_MAX   64   /* segments merged into one frame */
#define TOE_GRO_SIZE_MAX 65535  /* IP datagram bytes of a merged frame */

/*
 * Counters, written only by the ctx's lcore; readers sum them over
 * lcores (toe_stats_add).  Frame accounting, for the dataplane's own:
 * validate: out = in - drops;  egress: out = in - drops - segmented +
 * segments;  gro: out = in - coalesced.
 */
/* The TOE's counters, declared once: X(field, "what it counts").  Every
 * view (vtoectl's offload block, telemetry's offload_*) iterates this. */
#define TOE_COUNTERS(X) \
	X(validated, "guest frames with offload metadata kept") \
	X(passed, "of those, passed on as they were to a guest (toe_vnet_passable, direct path)") \
	X(csum_sw, "L4 checksums completed in software") \
	X(segmented, "super-frames split in software") \
	X(segments, "frames those became") \
	X(segments_shared, "of those, pointing at the super-frame's buffer instead of a copy of its payload") \
	X(coalesced, "segments absorbed into a GRO frame") \
	X(gro_frames, "GRO frames made (2..TOE_GRO_SEGS_MAX segments)") \
	X(csum_checked, "segments whose checksums GRO verified in software") \
	X(csum_bad, "segments GRO found corrupt: passed on unmerged")

struct toe_stats {
#define TOE_COUNTER_FIELD(f, help) uint64_t f;
	TOE_COUNTERS(TOE_COUNTER_FIELD)
#undef TOE_COUNTER_FIELD
	uint64_t drops[TOE_DROP_MAX];
};

void toe_stats_add(struct toe_stats *sum, const struct toe_stats *s);

struct toe_ctx;

/*
 * One per (worker lcore, port) when counters are wanted per port, else one
 * per worker: it holds the counters and the GRO flow table (empty between
 * bursts).  pool supplies segments and private copies; its data room must
 * hold TOE_HDR_MAX bytes after the headroom.  NULL + errno (EINVAL, ENOMEM).
 */
struct toe_ctx *toe_ctx_create(struct rte_mempool *pool, int socket_id);
void toe_ctx_destroy(struct toe_ctx *ctx);      /* accepts NULL */
const struct toe_stats *toe_ctx_stats(const struct toe_ctx *ctx);

/*
 * Where the frames the TOE refuses go.  Without a sink it frees them;
 * with one, each is counted as before and then handed to the sink, which
 * must free it: the caller can show it (a packet capture marks it with
 * the reason).  stage tells whether the TOE was checking a guest's
 * claims (toe_guest_validate, toe_vnet_validate) or fitting the frame to
 * an egress (toe_egress_prepare, toe_gso_segment, toe_csum_complete).
 */
enum toe_stage {
	TOE_STAGE_GUEST,
	TOE_STAGE_EGRESS,
};
typedef void toe_drop_sink(void *arg, struct rte_mbuf *m,
			   enum toe_stage stage, enum toe_drop reason);
void toe_ctx_set_drop_sink(struct toe_ctx *ctx, toe_drop_sink *fn,
			   void *arg);

/*
 * Frames a guest sent, as rte_vhost_dequeue_burst returned them: with
 * RTE_VHOST_USER_NET_COMPLIANT_OL_FLAGS (RTE_MBUF_F_RX_LRO + tso_segsz for
 * GSO, RTE_MBUF_F_RX_L4_CKSUM_NONE for a partial checksum) or with the
 * legacy flags (RTE_MBUF_F_TX_TCP_SEG / _TX_L4_MASK + l2/l3/l4_len).  The
 * flags are claims: the headers are parsed again from the bytes, within
 * the frame, and a frame whose claims do not hold is counted and dropped
 * (freed, or handed to the ctx's sink).
 * Kept frames are compacted to the front of pkts, in order, in canonical
 * form.  Returns how many were kept.
 */
uint16_t toe_guest_validate(struct toe_ctx *ctx, struct rte_mbuf **pkts,
			    uint16_t n);

/*
 * The same checks against the guest's own virtio-net header (hdrs[i]
 * describes pkts[i]): csum_start, csum_offset, gso_type, gso_size and
 * hdr_len are each checked against the frame.  A checksum asked at a
 * position that is not the TCP/UDP checksum field is completed here, as
 * virtio 1.1 5.1.6.2 defines it (csum_start to the end of the frame).
 */
uint16_t toe_vnet_validate(struct toe_ctx *ctx,
			   const struct virtio_net_hdr *hdrs,
			   struct rte_mbuf **pkts, uint16_t n);

/*
 * For a path that reads the guest's own virtio-net header and hands the
 * frame to another guest with its metadata (the direct vring path,
 * dp_direct.c): the checks of toe_vnet_validate on the frame_len-byte
 * frame whose first min(frame_len, TOE_HDR_MAX) bytes are hdr.  Returns
 * the lie found, under the reason toe_vnet_validate would count, or
 * TOE_DROP_NONE.  Then *pass tells whether the frame can go on as it is,
 * in the one form a receiving guest takes unchanged: a TCP/UDP checksum
 * left partial at its own field, or TCP segmentation over IPv4/IPv6 with
 * that checksum, no ECN.  If so, *needs = the TOE_CAP_* bits the receiver
 * must have, and *out = the header to give it, every length from the
 * parsed headers (the guest's hdr_len is not passed on).  True claims in
 * another form (a checksum elsewhere, ECN) need toe_guest_validate's
 * path.  Counts nothing.
 */
enum toe_drop toe_vnet_check(const struct virtio_net_hdr *vh,
			     const uint8_t *hdr, uint32_t frame_len,
			     bool *pass, uint32_t *needs,
			     struct virtio_net_hdr *out);

/* A frame toe_vnet_check found lying was dropped: counted under reason. */
void toe_count_lie(struct toe_ctx *ctx, enum toe_drop reason);

/* n frames that toe_vnet_check let pass were passed on: counted as
 * validated, as the other path counts the frames it keeps, and passed. */
void toe_count_passed(struct toe_ctx *ctx, uint32_t n);

/*
 * Make canonical frames fit one egress with capabilities caps (TOE_CAP_*):
 * a TCP super-frame the egress cannot segment is split into tso_segsz
 * segments (new mbufs from the ctx's pool; the original is freed), one
 * the egress segments but in smaller pieces (TOE_CAP_TSO_SEGS) into TSO
 * frames of at most that many segments; a partial checksum the egress
 * cannot complete is completed.  Segments
 * carry a partial checksum + RTE_MBUF_F_TX_TCP_CKSUM when caps has
 * TOE_CAP_L4_CSUM, a full one otherwise; with TOE_CAP_SG each is its
 * headers in a new mbuf chained to one attached to the super-frame's
 * external buffer, when it has one, else the payload is copied.  A frame shared with other
 * destinations (refcnt > 1, indirect) is copied before it is changed.
 * Every input is consumed; out (not overlapping pkts) receives up to
 * out_cap frames, in order; a frame whose segments do not all fit is
 * dropped whole (out_full).  Returns how many frames are in out.
 */
uint16_t toe_egress_prepare(struct toe_ctx *ctx, uint32_t caps,
			    struct rte_mbuf **pkts, uint16_t n,
			    struct rte_mbuf **out, uint16_t out_cap);

/*
 * One frame of toe_egress_prepare, for callers that want it alone.
 * Segment a canonical TCP super-frame (RTE_MBUF_F_TX_TCP_SEG) into out:
 * returns the number of segments, or -EINVAL (headers lie), -ENOMEM,
 * -ENOSPC (more than out_cap segments), counted.  m is consumed.
 */
int toe_gso_segment(struct toe_ctx *ctx, uint32_t caps, struct rte_mbuf *m,
		    struct rte_mbuf **out, uint16_t out_cap);

/*
 * Complete the partial TCP/UDP checksum of a canonical frame in place
 * (*m is replaced by a private copy if it was shared) and clear its
 * checksum request.  0, or -EINVAL / -ENOMEM with *m counted and dropped.
 */
int toe_csum_complete(struct toe_ctx *ctx, struct rte_mbuf **m);

/*
 * Two ways an egress is told about the requests of a frame it carries
 * inside a tunnel: hdr_len bytes of outer headers (Ethernet, IPv4 of
 * outer_l3 bytes, then UDP + VXLAN) were just prepended to a canonical
 * frame, which toe_egress_prepare fitted to the egress's caps inside the
 * tunnel.
 *  - TOE_TNL_AS_L2: the outer headers count as layer 2 (l2_len grows).
 *    A virtio device sums from csum_start = l2_len + l3_len, wherever
 *    that is, and its PMD ignores DPDK's outer lengths; no TSO.
 *  - TOE_TNL_FLAGS: DPDK's tunnel metadata, for a NIC that parses the
 *    tunnel (RTE_ETH_TX_OFFLOAD_VXLAN_TNL_TSO): outer_l2_len,
 *    outer_l3_len, RTE_MBUF_F_TX_OUTER_IPV4 | tunnel_flag, l2_len =
 *    UDP + VXLAN + the inner Ethernet header.  A super-frame also gets
 *    RTE_MBUF_F_TX_OUTER_IP_CKSUM and, inner IPv4, RTE_MBUF_F_TX_IP_CKSUM,
 *    with both IPv4 checksums zeroed: every segment has its own lengths
 *    and IDs, so the NIC redoes both (it must have OUTER_IPV4_CKSUM and
 *    IPV4_CKSUM).  The TCP checksum field is left for the PMD's
 *    tx_prepare, which finds it from these lengths.
 * A frame without a request keeps no offload flag.  RTE_MBUF_F_EXTERNAL
 * and _INDIRECT always stay.
 */
enum toe_tnl_mark {
	TOE_TNL_AS_L2,
	TOE_TNL_FLAGS,
};

void toe_tunnel_mark(struct rte_mbuf *m, enum toe_tnl_mark how,
		     uint16_t hdr_len, uint16_t outer_l3, uint64_t tunnel_flag);

/*
 * What to fit canonical frame m to (toe_egress_prepare) before it goes
 * into a tunnel whose egress does tnl_caps inside it and whose headers
 * add over bytes to the outer IP datagram (36 for VXLAN over IPv4): a
 * super-frame keeps the egress's TSO only when each segment (headers +
 * MSS) fits max_inner and at least two segments fit one outer datagram of
 * at most 65535 bytes, in TSO frames of as many as fit
 * (TOE_CAP_TSO_SEGS); otherwise it is cut in software and *cut is set.
 */
uint32_t toe_tunnel_caps(const struct rte_mbuf *m, uint32_t tnl_caps,
			 uint32_t max_inner, uint32_t over, bool *cut);

/*
 * Coalesce in-order TCP segments of each flow in pkts (frames from the
 * wire, bound for one guest with capabilities caps) into frames of up to
 * TOE_GRO_SIZE_MAX IP bytes, in place.  Only segments whose checksums are
 * good merge (verified once, in software unless the NIC flagged them
 * GOOD); never across SYN/FIN/RST/URG, a CWR after the first segment, a
 * gap or reordering, changed ACK/window/options/TTL/TOS, IP options or
 * fragments; a segment with PSH merges and ends its frame, which keeps
 * PSH.  A merged frame is canonical and marked for the guest as GSO:
 * RTE_MBUF_F_TX_TCP_SEG | _TX_TCP_CKSUM | _TX_IPV4/6, tso_segsz = the
 * flow's MSS (its first segment's payload), l2/l3/l4_len, partial TCP
 * checksum, correct IPv4 header checksum.  Every frame that did not merge
 * is left as it came.  Flows are flushed at the end of the call; nothing
 * is held across bursts.  Returns the new count.
 */
uint16_t toe_gro_burst(struct toe_ctx *ctx, uint32_t caps,
		       struct rte_mbuf **pkts, uint16_t n);

#endif /* VTOE_TOE_OFFLOAD_H */
