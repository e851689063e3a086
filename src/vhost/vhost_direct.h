/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Direct vring access: the worker reads a guest's split virtqueues itself,
 * so a frame between two co-resident guests is copied once, from the
 * sender's tx buffer into the receiver's rx buffer, with no mbuf between
 * them.  rte_vhost's burst calls copy twice (into an mbuf, out of it) and
 * allocate and free the mbuf; at 64-byte frames that is most of the cost.
 *
 * The library still owns the device.  We take its ring pointers, memory
 * table and indices through public calls, and hand the indices back after
 * every burst (rte_vhost_get/set_vring_base), so the library's own burst
 * calls, and the front-end's GET_VRING_BASE, carry on from where we
 * stopped.  Whatever the direct path does not do (indirect or long
 * descriptor chains, offload metadata, broadcast, uplinks, a full
 * receiver, anything malformed) is left in the ring for the library path,
 * which handles and counts it.
 *
 * Exclusion with the library's message handler (memory table, ring
 * addresses, features, GET_VRING_BASE...): the handler calls our
 * pre-message hook with the device's queues locked; the hook takes all our
 * vring locks, so no worker is inside a direct burst, and marks the state
 * stale; the post-message hook rebuilds it.  A worker holds the lock of
 * each vring it uses (a guest's tx vring, another's rx vring), so workers
 * on different queues of one guest never wait for each other; the
 * device-wide state is written only with every vring lock held, so any
 * one of them makes it safe to read.  Workers only trylock and never call
 * the library while holding a lock, so neither side waits for the other
 * in a cycle.  A message the library fails leaves the state stale
 * (no post hook): that device then takes the library path until the next
 * message.
 *
 * Live migration: while the front-end logs dirty pages, every byte this
 * path writes into a guest (receive buffers, virtio-net headers, used
 * entries, used->idx) is logged right after it is written, before the
 * burst's indices are handed back, so the front-end's last log sync
 * (after GET_VRING_BASE, which stops this path first) sees all of it.
 * Writes into a guest go through vd_hdr_write, vd_chain_put,
 * vd_used_write and vd_used_publish only, which log (the used entries of
 * a burst at its publish).
 *
 * Not direct: packed rings and IOMMU (IOVA) translation - the library
 * handles those.
 */
#ifndef VTOE_VHOST_DIRECT_H
#define VTOE_VHOST_DIRECT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <stdatomic.h>

#include <rte_pause.h>
#include <rte_vhost.h>

#include "vhost.h"

/* Longest descriptor chain taken directly: a 64 KB TCP frame from a Linux
 * guest (header, linear part, MAX_SKB_FRAGS = 17 pages) fits.  Longer
 * ones take the library path. */
#define VD_SEGS_MAX 20
/* Largest indirect descriptor table walked (virtio 1.1 2.6.5.3.1: the
 * driver keeps it within the queue size; Linux uses up to
 * MAX_SKB_FRAGS + 2 entries). */
#define VD_INDIRECT_MAX 1024

struct vd_seg {
	uint8_t *va;
	uint32_t len;
};

/* One descriptor chain, translated.  One seg more than a chain may have,
 * for a private copy of its headers put in front (vhost_burst.c). */
struct vd_chain {
	uint16_t head;
	uint16_t n;
	uint32_t len;           /* sum of seg[].len */
	struct vd_seg seg[VD_SEGS_MAX + 1];
};

struct vd_ring {
	struct vring_desc *desc;
	struct vring_avail *avail;
	struct vring_used *used;
	uint16_t size;          /* a power of two */
};

/* A vring's lock: taken by exchange, given back by a release store (on
 * x86 a plain store; rte_spinlock_unlock's xchg is a full barrier that a
 * release does not need, and a worker gives two locks back per burst). */
struct vd_lock {
	_Atomic uint32_t held;
};

static inline bool
vd_trylock(struct vd_lock *l)
{
	return atomic_load_explicit(&l->held, memory_order_relaxed) == 0 &&
	       atomic_exchange_explicit(&l->held, 1, memory_order_acquire) == 0;
}

static inline void
vd_lock(struct vd_lock *l)
{
	while (!vd_trylock(l))
		rte_pause();
}

static inline void
vd_unlock(struct vd_lock *l)
{
	atomic_store_explicit(&l->held, 0, memory_order_release);
}

struct vhost_direct {
	/* One per vring: workers trylock the ones they use; the vhost
	 * thread takes them all, in index order, to change what follows. */
	struct vd_lock lock[2 * VHOST_QUEUES_MAX];
	/* vhost thread only: the vid between its new_device and
	 * destroy_device, -1 otherwise.  Another connection on the same
	 * socket (a second front-end) never touches this state. */
	int running_vid;
	/* Below: valid while ready, read under lock. */
	bool ready;
	int vid;
	uint16_t hdr_len;       /* virtio-net header: 12 or 10 bytes */
	bool mrg_rxbuf;         /* a received frame may span several chains */
	uint16_t n_vrings;
	struct rte_vhost_memory *mem;   /* the library's copy, ours to free */
	struct vd_ring ring[2 * VHOST_QUEUES_MAX];
	/* Live migration: the front-end's dirty-page bitmap (one bit per
	 * 4 KiB guest page), set for every byte this path writes into the
	 * guest while logging (VHOST_F_LOG_ALL) is on, and where each used
	 * ring is in guest memory.  After the rest: the fast path reads
	 * only logging. */
	bool logging;
	uint8_t *log_base;
	uint64_t log_size;      /* bytes of bitmap */
	uint64_t used_gpa[2 * VHOST_QUEUES_MAX];
};

void vhost_direct_init(struct vhost_direct *d);

/* vhost event thread: take the direct path away from vid / rebuild it
 * for vid (stays off if vid's features or rings rule it out). */
void vhost_direct_stop(struct vhost_direct *d);
void vhost_direct_refresh(struct vhost_direct *d, int vid);

/* Workers: hold vring v of d for a burst.  False when the vhost thread
 * holds it, the state is stale or the guest has no such vring; then use
 * the library path. */
static inline bool
vhost_direct_acquire(struct vhost_direct *d, uint16_t v)
{
	if (v >= 2 * VHOST_QUEUES_MAX || !vd_trylock(&d->lock[v]))
		return false;
	if (!d->ready || v >= d->n_vrings) {
		vd_unlock(&d->lock[v]);
		return false;
	}
	return true;
}

static inline void
vhost_direct_release(struct vhost_direct *d, uint16_t v)
{
	vd_unlock(&d->lock[v]);
}

/*
 * Read and translate the chain starting at descriptor head of ring r:
 * every descriptor device-writable (write) or device-readable (!write),
 * at most VD_SEGS_MAX long, each buffer inside one memory region.  The
 * head may instead point to an indirect table (one region, at most
 * VD_INDIRECT_MAX entries, none of them indirect), whose chain is then
 * the one read.  0, or -1 for anything else (left to the library).
 */
int vd_chain_read(const struct vhost_direct *d, const struct vd_ring *r,
		  uint16_t head, bool write, struct vd_chain *c);

/* Position off bytes into c: segment *s (c->n if past the end), byte *o
 * in it. */
void vd_seek(const struct vd_chain *c, uint32_t off, uint16_t *s, uint32_t *o);

/* Copy len bytes from src starting at byte off into dst starting at byte
 * doff; both chains hold them (checked by the caller). */
void vd_chain_copy(struct vd_chain *dst, uint32_t doff,
		   const struct vd_chain *src, uint32_t off, uint32_t len);

/* Mark guest-physical [gpa, gpa + len) dirty, when logging. */
void vd_log_slow(const struct vhost_direct *d, uint64_t gpa, uint64_t len);

static inline void
vd_log(const struct vhost_direct *d, uint64_t gpa, uint64_t len)
{
	if (__builtin_expect(d->logging, 0))
		vd_log_slow(d, gpa, len);
}

/* Bytes [off, off + len) of chain c were written: log them (each
 * segment's guest address found from the memory table: only while
 * logging, so chains need not carry it). */
void vd_log_chain(const struct vhost_direct *d, const struct vd_chain *c,
		  uint32_t off, uint32_t len);

/* vd_chain_copy into a guest's receive chain dst, logged. */
static inline void
vd_chain_put(const struct vhost_direct *d, struct vd_chain *dst,
	     uint32_t doff, const struct vd_chain *src, uint32_t off,
	     uint32_t len)
{
	vd_chain_copy(dst, doff, src, off, len);
	if (__builtin_expect(d->logging, 0))
		vd_log_chain(d, dst, doff, len);
}

/* The len bytes of chain c from byte off on, into buf (c holds them). */
void vd_chain_gather(const struct vd_chain *c, uint32_t off, uint8_t *buf,
		     uint32_t len);

/* Copy len bytes at src into chain dst from byte doff on, when they do not
 * all fit in its first segment (dst holds them; checked by the caller). */
void vd_chain_write_slow(struct vd_chain *dst, uint32_t doff, const void *src,
			 uint32_t len);

/* len bytes at src into a guest's receive chain dst from byte doff on,
 * logged. */
static inline void
vd_chain_write(const struct vhost_direct *d, struct vd_chain *dst,
	       uint32_t doff, const void *src, uint32_t len)
{
	if (__builtin_expect(doff + len <= dst->seg[0].len, 1))
		memcpy(dst->seg[0].va + doff, src, len);
	else
		vd_chain_write_slow(dst, doff, src, len);
	if (__builtin_expect(d->logging, 0))
		vd_log_chain(d, dst, doff, len);
}

/* Write len bytes of hdr at the start of receive chain c (its first
 * segment holds them; checked by the caller), logged. */
static inline void
vd_hdr_write(const struct vhost_direct *d, struct vd_chain *c,
	     const void *hdr, uint32_t len)
{
	memcpy(c->seg[0].va, hdr, len);
	if (__builtin_expect(d->logging, 0))
		vd_log_chain(d, c, 0, len);
}

/* Used entry idx (free-running) of ring r := {id, len}.  Logged by the
 * vd_used_publish that covers it. */
static inline void
vd_used_write(const struct vd_ring *r, uint16_t idx, uint16_t id, uint32_t len)
{
	r->used->ring[idx & (r->size - 1)] =
		(struct vring_used_elem){ .id = id, .len = len };
}

void vd_log_used(const struct vhost_direct *d, const struct vd_ring *r,
		 uint16_t from, uint16_t n);

/* used->idx := idx, after the n entries before it (written with
 * vd_used_write) and the buffers they cover; the entries and the index
 * are logged. */
static inline void
vd_used_publish(const struct vhost_direct *d, const struct vd_ring *r,
		uint16_t n, uint16_t idx)
{
	__atomic_store_n(&r->used->idx, idx, __ATOMIC_RELEASE);
	if (__builtin_expect(d->logging, 0))
		vd_log_used(d, r, (uint16_t)(idx - n), n);
}

#endif /* VTOE_VHOST_DIRECT_H */
