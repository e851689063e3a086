/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The worker's side of a vhost-user port: one burst in from a guest's tx
 * ring, one burst out to its rx ring.  The library copies frames to and
 * from guest memory, so an mbuf handed to vhost_tx_burst is still the
 * caller's to free, sent or not.
 */
#ifndef VTOE_VHOST_IO_H
#define VTOE_VHOST_IO_H

#include <stdint.h>

#include <rte_vhost.h>

struct rte_mbuf;
struct rte_mempool;

/* Guest's queue pair q: its tx ring is vring 2q+1, its rx ring 2q. */
#define VHOST_VRING_GUEST_RX(q) ((uint16_t)((q) * 2))
#define VHOST_VRING_GUEST_TX(q) ((uint16_t)((q) * 2 + 1))

static inline uint16_t
vhost_rx_burst(int vid, uint16_t q, struct rte_mempool *pool,
	       struct rte_mbuf **pkts, uint16_t n)
{
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

#endif /* VTOE_VHOST_IO_H */
