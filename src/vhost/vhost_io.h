/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The worker's side of a vhost-user port: one burst in from a guest's tx
 * ring, one burst out to its rx ring.  The library copies frames to and
 * from guest memory, so an mbuf handed to vhost_tx_burst is still the
 * caller's to free, sent or not.
 */
#ifndef VTOE_VHOST_IO_H
#define VTOE_VHOST_IO_H

#include <stdbool.h>
#include <stdint.h>

#include <rte_lcore.h>
#include <rte_mbuf.h>
#include <rte_mempool.h>
#include <rte_vhost.h>

#include "cpu/cpu_prefetch.h"

/* Guest's queue pair q: its tx ring is vring 2q+1, its rx ring 2q. */
#define VHOST_VRING_GUEST_RX(q) ((uint16_t)((q) * 2))
#define VHOST_VRING_GUEST_TX(q) ((uint16_t)((q) * 2 + 1))

/*
 * The library copies each frame into an mbuf it takes from the top of
 * this lcore's pool cache.  Those buffers were last read by whoever took
 * the frames they held (an uplink's far end, another core), so each first
 * store would wait for its line: ask for the lines the next n frames
 * start in, exclusive, all at once.  The caller guesses n (the last
 * burst's size), so an idle queue asks for nothing.
 */
static inline void
vhost_rx_prefetch(struct rte_mempool *pool, uint16_t n)
{
	struct rte_mempool_cache *c =
		rte_mempool_default_cache(pool, rte_lcore_id());
	uint32_t off = (uint32_t)sizeof(struct rte_mbuf) +
		       rte_pktmbuf_priv_size(pool) + RTE_PKTMBUF_HEADROOM;

	if (c == NULL)
		return;
	if (n > c->len)
		n = (uint16_t)c->len;
	for (uint32_t i = c->len - n; i < c->len; i++)
		cpu_prefetchw((const uint8_t *)c->objs[i] + off);
}

static inline uint16_t
vhost_rx_burst(int vid, uint16_t q, struct rte_mempool *pool,
	       struct rte_mbuf **pkts, uint16_t n, uint16_t pf)
{
	if (pf > 0)
		vhost_rx_prefetch(pool, RTE_MIN(pf, n));
	return rte_vhost_dequeue_burst(vid, VHOST_VRING_GUEST_TX(q), pool,
				       pkts, n);
}

/* The most one rte_vhost_enqueue_burst call takes, whatever it is given
 * (MAX_PKT_BURST in DPDK 22.11's lib/vhost): taking that many is not a
 * sign of a full guest ring. */
#define VHOST_TX_BURST_MAX 32

static inline uint16_t
vhost_tx_burst(int vid, uint16_t q, struct rte_mbuf **pkts, uint16_t n)
{
	return rte_vhost_enqueue_burst(vid, VHOST_VRING_GUEST_RX(q), pkts, n);
}

/*
 * Interrupt mode, before a worker sleeps on the kick fd of queue pair q
 * (vhost_port_kick_fd): ask the guest to kick when it adds to its tx ring,
 * then look at the ring again.  The guest publishes avail->idx and then
 * reads whether to kick; we set the flag (or avail_event) and then read
 * avail->idx, with a full barrier between: one of us sees the other's
 * write, so a buffer added meanwhile is either seen here or kicked.
 * false: frames are there already (kicks are turned off again; poll).
 */
static inline bool
vhost_rx_arm(int vid, uint16_t q)
{
	uint16_t vr = VHOST_VRING_GUEST_TX(q);

	if (rte_vhost_enable_guest_notification(vid, vr, 1) != 0)
		return true;    /* no such ring: nothing to wait for */
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	if (rte_vhost_rx_queue_count(vid, vr) == 0)
		return true;
	rte_vhost_enable_guest_notification(vid, vr, 0);
	return false;
}

/* Polling again: the guest need not kick. */
static inline void
vhost_rx_disarm(int vid, uint16_t q)
{
	rte_vhost_enable_guest_notification(vid, VHOST_VRING_GUEST_TX(q), 0);
}

#endif /* VTOE_VHOST_IO_H */
