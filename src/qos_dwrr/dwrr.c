/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Deficit round robin, after M. Shreedhar and G. Varghese, "Efficient Fair
 * Queuing using Deficit Round Robin", SIGCOMM '95 (IEEE/ACM ToN 4(3), 1996),
 * and Linux net/sched/sch_drr.c.  One instance per uplink, run by the worker
 * that owns the uplink (dataplane/dp_qos_tx.c); the control thread only sets
 * weights and reads counters.  No DPDK here: packets are opaque pointers.
 */
#include "qos_dwrr/dwrr.h"

#include <errno.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdlib.h>

/*
 * Counters with one writer (the owner) and readers on other threads
 * (dwrr_class_stats): the owner does a relaxed load and a relaxed store,
 * no locked instruction, so this costs what a plain counter costs on x86
 * and arm64, and the readers' relaxed loads are race free.  They see each
 * word whole but not a consistent set: fine for display.
 */
typedef _Atomic uint64_t dwrr_ctr;

static inline uint64_t
ctr_get(const dwrr_ctr *c)
{
	return atomic_load_explicit(c, memory_order_relaxed);
}

static inline void
ctr_set(dwrr_ctr *c, uint64_t v)
{
	atomic_store_explicit(c, v, memory_order_relaxed);
}

static inline void
ctr_add(dwrr_ctr *c, uint64_t v)
{
	ctr_set(c, ctr_get(c) + v);
}

/* The length is read once, at enqueue: dequeue decides from the slot
 * alone, without waiting on the packet's cache line, likely cold by the
 * time it leaves. */
struct dwrr_slot {
	void *pkt;
	uint32_t len;
};

struct dwrr_class {
	/* Owner only. */
	struct dwrr_slot *slots;        /* ring of ring_mask + 1 slots */
	uint32_t head;                  /* free running; next to send */
	/* Written by the owner, read by dwrr_class_stats().  A class is on
	 * the active list exactly when backlog_packets > 0. */
	dwrr_ctr deficit;               /* bytes it may still send this round */
	dwrr_ctr backlog_packets;
	dwrr_ctr backlog_bytes;
	dwrr_ctr sent_packets;
	dwrr_ctr sent_bytes;
	dwrr_ctr enqueued_packets;
	dwrr_ctr enqueued_bytes;
	dwrr_ctr dropped_packets;
	dwrr_ctr dropped_bytes;
	dwrr_ctr drained_packets;
	dwrr_ctr drained_bytes;
	/* Written by the control thread, read by the owner at each grant. */
	_Atomic uint32_t weight;
};

struct dwrr {
	/* Set at create, read only after. */
	dwrr_pkt_len_fn pkt_len;
	uint32_t n_classes;
	uint32_t base_quantum;
	uint32_t queue_packets;
	uint32_t ring_mask;
	uint64_t queue_bytes;
	struct dwrr_slot *slot_mem;
	/*
	 * Owner only: the active list, a FIFO of class ids.  Each class is
	 * on it at most once, so n_classes entries (rounded up to a power of
	 * two for the mask) never overflow; head and tail run free.
	 */
	uint32_t *active;
	uint32_t active_mask;
	uint32_t active_head;
	uint32_t active_tail;
	dwrr_ctr backlog_packets;       /* all classes */
	struct dwrr_class classes[];
};

static uint32_t
pow2_ceil(uint32_t x)
{
	uint32_t p = 1;

	while (p < x)
		p <<= 1;
	return p;
}

/*
 * quantum_i = weight_i x base quantum.  With base quantum >= the largest
 * frame, one grant always covers the packet at the head of the queue, so
 * every visit to a class sends at least one packet: the work per packet
 * is O(1) (the paper's condition Quantum >= Max), whatever the sizes.
 */
static inline uint64_t
class_quantum(const struct dwrr *d, const struct dwrr_class *c)
{
	return (uint64_t)atomic_load_explicit(&c->weight,
					      memory_order_relaxed) *
	       d->base_quantum;
}

static inline void
active_push(struct dwrr *d, uint32_t cls)
{
	d->active[d->active_tail++ & d->active_mask] = cls;
}

static inline uint32_t
active_first(const struct dwrr *d)
{
	return d->active[d->active_head & d->active_mask];
}

static inline bool
active_empty(const struct dwrr *d)
{
	return d->active_head == d->active_tail;
}

struct dwrr *
dwrr_create(const struct dwrr_params *p)
{
	struct dwrr *d;
	uint32_t ring_size;

	if (p == NULL || p->pkt_len == NULL ||
	    p->n_classes < 1 || p->n_classes > DWRR_CLASSES_MAX ||
	    p->base_quantum < DWRR_QUANTUM_MIN ||
	    p->base_quantum > DWRR_QUANTUM_MAX ||
	    p->queue_packets < 1 || p->queue_packets > DWRR_QUEUE_PACKETS_MAX ||
	    p->queue_bytes < p->base_quantum) {
		errno = EINVAL;
		return NULL;
	}
	/* At most 2^16 classes x 2^20 slots x 16 bytes: fits a 64-bit
	 * size_t; calloc checks the product itself. */
	ring_size = pow2_ceil(p->queue_packets);
	d = calloc(1, sizeof(*d) + p->n_classes * sizeof(d->classes[0]));
	if (d == NULL)
		goto nomem;
	d->active_mask = pow2_ceil(p->n_classes) - 1;
	d->active = calloc(d->active_mask + 1, sizeof(d->active[0]));
	d->slot_mem = calloc((size_t)p->n_classes * ring_size,
			     sizeof(d->slot_mem[0]));
	if (d->active == NULL || d->slot_mem == NULL)
		goto nomem;
	d->pkt_len = p->pkt_len;
	d->n_classes = p->n_classes;
	d->base_quantum = p->base_quantum;
	d->queue_packets = p->queue_packets;
	d->queue_bytes = p->queue_bytes;
	d->ring_mask = ring_size - 1;
	for (uint32_t i = 0; i < p->n_classes; i++) {
		d->classes[i].slots = d->slot_mem + (size_t)i * ring_size;
		atomic_init(&d->classes[i].weight, DWRR_WEIGHT_MIN);
	}
	return d;
nomem:
	dwrr_destroy(d);
	errno = ENOMEM;
	return NULL;
}

void
dwrr_destroy(struct dwrr *d)
{
	if (d == NULL)
		return;
	free(d->slot_mem);
	free(d->active);
	free(d);
}

int
dwrr_weight_set(struct dwrr *d, uint32_t cls, uint32_t weight)
{
	if (d == NULL)
		return -EINVAL;
	if (cls >= d->n_classes)
		return -ENOENT;
	if (weight < DWRR_WEIGHT_MIN || weight > DWRR_WEIGHT_MAX)
		return -EINVAL;
	/* Relaxed: the weight is one word and orders nothing else; the
	 * owner picks it up at the class's next grant. */
	atomic_store_explicit(&d->classes[cls].weight, weight,
			      memory_order_relaxed);
	return 0;
}

int
dwrr_enqueue(struct dwrr *d, uint32_t cls, void *pkt)
{
	struct dwrr_class *c;
	struct dwrr_slot *s;
	uint64_t n, bytes;
	uint32_t len;

	if (cls >= d->n_classes)
		return -ENOENT;
	c = &d->classes[cls];
	len = d->pkt_len(pkt);
	n = ctr_get(&c->backlog_packets);
	bytes = ctr_get(&c->backlog_bytes);
	/* bytes <= queue_bytes always, so the subtraction cannot wrap. */
	if (n == d->queue_packets || len > d->queue_bytes - bytes) {
		ctr_add(&c->dropped_packets, 1);
		ctr_add(&c->dropped_bytes, len);
		return -ENOBUFS;
	}
	s = &c->slots[(c->head + n) & d->ring_mask];
	s->pkt = pkt;
	s->len = len;
	ctr_set(&c->backlog_packets, n + 1);
	ctr_set(&c->backlog_bytes, bytes + len);
	ctr_add(&c->enqueued_packets, 1);
	ctr_add(&c->enqueued_bytes, len);
	ctr_add(&d->backlog_packets, 1);
	if (n == 0) {
		/* A class joining the list gets one fresh quantum, nothing
		 * saved from before it went idle: DRR has no credit banking,
		 * so an idle class cannot come back with a burst. */
		ctr_set(&c->deficit, class_quantum(d, c));
		active_push(d, cls);
	}
	return 0;
}

uint32_t
dwrr_dequeue(struct dwrr *d, void **pkts, uint32_t n, uint64_t *budget_bytes)
{
	uint64_t budget = budget_bytes != NULL ? *budget_bytes : UINT64_MAX;
	uint32_t sent = 0;

	while (sent < n && !active_empty(d)) {
		uint32_t cls = active_first(d);
		struct dwrr_class *c = &d->classes[cls];
		struct dwrr_slot *s = &c->slots[c->head & d->ring_mask];
		uint64_t deficit = ctr_get(&c->deficit);
		uint64_t backlog;

		if (s->len > deficit) {
			/* Its round is over: grant the next quantum and move
			 * it to the tail (sch_drr's list_move_tail). */
			ctr_set(&c->deficit, deficit + class_quantum(d, c));
			d->active_head++;
			active_push(d, cls);
			continue;
		}
		/* The shaper has fewer tokens than this packet: stop here.
		 * Nothing has changed yet, so the next call resumes with
		 * the same class, packet and deficit. */
		if (s->len > budget)
			break;
		budget -= s->len;
		/* The caller touches every packet it gets (to send it) and
		 * this one sat queued for a round, likely out of cache:
		 * start the load now so a burst's misses overlap.  At 1024
		 * classes on IMIX this halves the cycles per packet
		 * (docs/BENCHMARKS.md). */
		__builtin_prefetch(s->pkt);
		pkts[sent++] = s->pkt;
		c->head++;
		deficit -= s->len;
		backlog = ctr_get(&c->backlog_packets) - 1;
		ctr_set(&c->backlog_packets, backlog);
		ctr_set(&c->backlog_bytes, ctr_get(&c->backlog_bytes) - s->len);
		ctr_add(&c->sent_packets, 1);
		ctr_add(&c->sent_bytes, s->len);
		if (backlog == 0) {
			/* Leaving the list forfeits the rest of the
			 * deficit: see dwrr_enqueue. */
			deficit = 0;
			d->active_head++;
		}
		ctr_set(&c->deficit, deficit);
	}
	ctr_set(&d->backlog_packets, ctr_get(&d->backlog_packets) - sent);
	if (budget_bytes != NULL)
		*budget_bytes = budget;
	return sent;
}

uint32_t
dwrr_drain(struct dwrr *d, void **pkts, uint32_t n)
{
	uint32_t got = 0;

	while (got < n && !active_empty(d)) {
		struct dwrr_class *c = &d->classes[active_first(d)];
		uint64_t backlog = ctr_get(&c->backlog_packets);

		while (got < n && backlog > 0) {
			struct dwrr_slot *s = &c->slots[c->head++ &
							d->ring_mask];

			pkts[got++] = s->pkt;
			backlog--;
			ctr_set(&c->backlog_bytes,
				ctr_get(&c->backlog_bytes) - s->len);
			ctr_add(&c->drained_packets, 1);
			ctr_add(&c->drained_bytes, s->len);
		}
		ctr_set(&c->backlog_packets, backlog);
		if (backlog == 0) {
			ctr_set(&c->deficit, 0);
			d->active_head++;
		}
	}
	ctr_set(&d->backlog_packets, ctr_get(&d->backlog_packets) - got);
	return got;
}

uint64_t
dwrr_backlog_packets(const struct dwrr *d)
{
	return ctr_get(&d->backlog_packets);
}

uint32_t
dwrr_class_count(const struct dwrr *d)
{
	return d->n_classes;
}

int
dwrr_class_stats(const struct dwrr *d, uint32_t cls,
		 struct dwrr_class_stats *st)
{
	const struct dwrr_class *c;
	uint64_t deficit;

	if (d == NULL || st == NULL)
		return -EINVAL;
	if (cls >= d->n_classes)
		return -ENOENT;
	c = &d->classes[cls];
	/* A deficit above 32 bits needs a packet longer than any frame. */
	deficit = ctr_get(&c->deficit);
	st->weight = atomic_load_explicit(&c->weight, memory_order_relaxed);
	st->deficit = deficit > UINT32_MAX ? UINT32_MAX : (uint32_t)deficit;
	st->backlog_packets = (uint32_t)ctr_get(&c->backlog_packets);
	st->backlog_bytes = ctr_get(&c->backlog_bytes);
	st->enqueued_packets = ctr_get(&c->enqueued_packets);
	st->enqueued_bytes = ctr_get(&c->enqueued_bytes);
	st->sent_packets = ctr_get(&c->sent_packets);
	st->sent_bytes = ctr_get(&c->sent_bytes);
	st->dropped_packets = ctr_get(&c->dropped_packets);
	st->dropped_bytes = ctr_get(&c->dropped_bytes);
	st->drained_packets = ctr_get(&c->drained_packets);
	st->drained_bytes = ctr_get(&c->drained_bytes);
	return 0;
}
