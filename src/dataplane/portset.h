/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * A set of port ids: one bit per port, in 64-bit words.  Plain (the
 * forwarding decision's view, RCU snapshots) and shared (written by one
 * thread with atomic word operations, read by workers word by word).  A
 * reader copies only the words below the ports in use, so a switch with
 * few ports pays for one word.
 */
#ifndef VTOE_PORTSET_H
#define VTOE_PORTSET_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

/* Port ids: VM ports and uplinks.  rte_vhost serves at most 1024
 * vhost-user sockets (MAX_VHOST_SOCKET). */
#define PORTSET_MAX 1024
#define PORTSET_WORDS ((PORTSET_MAX + 63) / 64)

struct portset {
	uint64_t w[PORTSET_WORDS];
};

/* Words that hold ports 0..n_ports-1. */
static inline unsigned int
portset_words(uint16_t n_ports)
{
	return (n_ports + 63u) / 64u;
}

static inline bool
portset_has(const struct portset *s, uint16_t p)
{
	return (s->w[p / 64] >> (p % 64)) & 1;
}

static inline void
portset_add(struct portset *s, uint16_t p)
{
	s->w[p / 64] |= UINT64_C(1) << (p % 64);
}

static inline void
portset_del(struct portset *s, uint16_t p)
{
	s->w[p / 64] &= ~(UINT64_C(1) << (p % 64));
}

static inline bool
portset_equal(const struct portset *a, const struct portset *b)
{
	for (unsigned int i = 0; i < PORTSET_WORDS; i++)
		if (a->w[i] != b->w[i])
			return false;
	return true;
}

struct portset_shared {
	_Atomic uint64_t w[PORTSET_WORDS];
};

static inline void
portset_shared_add(struct portset_shared *s, uint16_t p)
{
	atomic_fetch_or_explicit(&s->w[p / 64], UINT64_C(1) << (p % 64),
				 memory_order_release);
}

static inline void
portset_shared_del(struct portset_shared *s, uint16_t p)
{
	atomic_fetch_and_explicit(&s->w[p / 64], ~(UINT64_C(1) << (p % 64)),
				  memory_order_release);
}

static inline bool
portset_shared_has(const struct portset_shared *s, uint16_t p)
{
	return (atomic_load_explicit(&s->w[p / 64], memory_order_acquire) >>
		(p % 64)) & 1;
}

static inline void
portset_shared_store(struct portset_shared *s, const struct portset *src)
{
	for (unsigned int i = 0; i < PORTSET_WORDS; i++)
		atomic_store_explicit(&s->w[i], src->w[i], memory_order_release);
}

/* dst := the words of s that hold ports 0..n_ports-1 (the rest of dst is
 * left as it is: nobody reads it). */
static inline void
portset_shared_load(const struct portset_shared *s, uint16_t n_ports,
		    struct portset *dst)
{
	for (unsigned int i = 0; i < portset_words(n_ports); i++)
		dst->w[i] = atomic_load_explicit(&s->w[i], memory_order_acquire);
}

#endif /* VTOE_PORTSET_H */
