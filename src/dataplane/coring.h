/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * coring: the co-resident channel of one VM port.  A ring of mbuf
 * pointers in DPDK (hugepage) memory: any worker that forwards a frame to
 * a co-resident running VM enqueues it (multi-writer); every worker that
 * polls one of that VM's queues dequeues from it and delivers into its
 * own guest queue (multi-reader).  Frames stay in the ring while nobody
 * reads; when the VM leaves (stops, pauses, migrates away) the control
 * thread drains it after an RCU grace period, and counts what it freed.
 *
 * Order: the ring is one FIFO, so each reader sees any one flow's frames
 * in the order they were enqueued (a subsequence of it); frames of one
 * writer's burst keep their order.  Two readers may split a flow between
 * them: per reader, order holds; across the guest's queues it is the
 * same as any multiqueue NIC spreading one flow (see notes in dp_worker.c).
 */
#ifndef VTOE_CORING_H
#define VTOE_CORING_H

#include <stdint.h>

struct rte_ring;

#define CORING_SIZE_DEFAULT 4096u       /* frames; a power of two */

/*
 * Create the ring of VM port `port_name` (a short key, unique in the
 * process: at most 20 characters) on NUMA socket `socket_id`
 * (SOCKET_ID_ANY: anywhere) with room for size - 1 frames (size: a power
 * of two, >= 64).  NULL + errno (EINVAL, ENAMETOOLONG, ENOMEM, EEXIST).
 */
struct rte_ring *coring_create(const char *port_name, int socket_id,
			       unsigned int size);
/* Drain (see coring_drain) and free.  Accepts NULL. */
void coring_free(struct rte_ring *r);
/*
 * Dequeue and free every frame in the ring; returns how many.  Safe
 * against concurrent readers and writers, but returns only once it finds
 * the ring empty: call it when writers have stopped (vtoed: after the RCU
 * grace period that follows a VM leaving).
 */
uint64_t coring_drain(struct rte_ring *r);

#endif /* VTOE_CORING_H */
