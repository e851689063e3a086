/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * dwrr: deficit weighted round robin (Shreedhar & Varghese, SIGCOMM '95)
 * over per-VM classes, one instance per uplink, owned by one worker.
 * quantum_i = weight_i x base quantum, base quantum >= the largest frame,
 * so each visit to a class sends at least one frame (O(1) per packet).
 * Only backlogged classes are on the active list; a class joining it gets
 * one quantum, a class leaving it loses its deficit (no credit banking).
 * Packets are opaque pointers; their length comes from a callback, so the
 * algorithm is unit-tested without DPDK.
 */
#ifndef VTOE_DWRR_H
#define VTOE_DWRR_H

#include <stdint.h>

#define DWRR_WEIGHT_MIN 1
#define DWRR_WEIGHT_MAX 1000
#define DWRR_CLASSES_MAX 65536
#define DWRR_QUANTUM_MIN 64             /* the smallest Ethernet frame */
#define DWRR_QUANTUM_MAX (1u << 20)
#define DWRR_QUEUE_PACKETS_MAX (1u << 20)

typedef uint32_t (*dwrr_pkt_len_fn)(const void *pkt);

struct dwrr;

struct dwrr_params {
	uint32_t n_classes;             /* 1..DWRR_CLASSES_MAX */
	uint32_t base_quantum;          /* bytes, >= largest frame,
					 * DWRR_QUANTUM_MIN..DWRR_QUANTUM_MAX */
	uint32_t queue_packets;         /* per-class bound,
					 * 1..DWRR_QUEUE_PACKETS_MAX */
	uint64_t queue_bytes;           /* per-class bound, >= base_quantum */
	dwrr_pkt_len_fn pkt_len;
};

struct dwrr_class_stats {
	uint32_t weight;
	uint32_t deficit;               /* bytes of credit left this round */
	uint32_t backlog_packets;
	uint64_t backlog_bytes;
	uint64_t enqueued_packets;
	uint64_t enqueued_bytes;
	uint64_t sent_packets;
	uint64_t sent_bytes;
	uint64_t dropped_packets;       /* queue full (packets or bytes bound) */
	uint64_t dropped_bytes;
	uint64_t drained_packets;       /* taken out by dwrr_drain() */
	uint64_t drained_bytes;
};

/* NULL + errno (EINVAL, ENOMEM).  Every class starts with weight 1. */
struct dwrr *dwrr_create(const struct dwrr_params *params);
/* Accepts NULL.  Packets still queued are not freed: drain first. */
void dwrr_destroy(struct dwrr *d);

/*
 * Set a class's weight, 1..DWRR_WEIGHT_MAX; 0 or -EINVAL (-ENOENT for a
 * class out of range), changing nothing on error.  May be called from
 * another thread than the owner: the weight is one atomic word, and the
 * new quantum applies from the class's next grant.
 */
int dwrr_weight_set(struct dwrr *d, uint32_t cls, uint32_t weight);

/* Owner only.  0, or -ENOBUFS when the class is full (the packet is
 * counted as dropped and stays the caller's to free), -ENOENT. */
int dwrr_enqueue(struct dwrr *d, uint32_t cls, void *pkt);

/*
 * Owner only.  Dequeue up to n packets in DRR order, but no packet longer
 * than what is left of *budget_bytes (decremented by what is returned):
 * the shaper's tokens.  Pass UINT64_MAX (or NULL) for no limit.  Stopping
 * on the budget loses nothing: the next call resumes where this one left
 * off.  Returns the count.
 */
uint32_t dwrr_dequeue(struct dwrr *d, void **pkts, uint32_t n,
		      uint64_t *budget_bytes);

/* Owner only: take every queued packet out (to free them), any order. */
uint32_t dwrr_drain(struct dwrr *d, void **pkts, uint32_t n);

uint64_t dwrr_backlog_packets(const struct dwrr *d);
uint32_t dwrr_class_count(const struct dwrr *d);
/* Relaxed reads: fine from another thread for display. */
int dwrr_class_stats(const struct dwrr *d, uint32_t cls,
		     struct dwrr_class_stats *st);

#endif /* VTOE_DWRR_H */
