/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The co-resident channel's ring (coring.h).
 *
 * Why classic multi-producer/multi-consumer mode (flags 0) and not RTS or
 * HTS: an MP/MC ring reserves a slot range with one CAS on the head, copies
 * the pointers, then waits for earlier reservations to publish their tail
 * before publishing its own.  The wait is the cost: a writer preempted
 * between reserving and publishing stalls every later writer (readers
 * likewise) until it runs again, for up to a scheduler time slice.  RTS
 * (relaxed tail sync) and HTS (head/tail sync) exist for exactly that
 * case, overcommitted threads, and pay for it with a second CAS per burst
 * (RTS) or by letting only one writer at a time in (HTS).  vtoed's writers
 * and readers are the worker lcores, each pinned to a CPU of its own that
 * nothing else is scheduled on (lcores.workers: one EAL thread per CPU,
 * busy-polling, never blocking), so the window between reserve and
 * publish is a few dozen cycles and is never preempted: MP/MC's wait is
 * never long, and its single CAS is the cheapest.  The control thread's
 * drain is the one consumer that may be preempted; it runs only after a
 * VM left and an RCU grace period, when no worker touches that ring.
 * The stress test (tests/eal/test_coring.c) checks the mode under
 * oversubscription too, where the stalls show as time, never as loss.
 */
#include "coring.h"

#include <errno.h>
#include <stdio.h>

#include <rte_errno.h>
#include <rte_mbuf.h>
#include <rte_ring.h>

struct rte_ring *
coring_create(const char *port_name, int socket_id, unsigned int size)
{
	char name[RTE_RING_NAMESIZE];
	struct rte_ring *r;

	if (port_name == NULL || size < 64 || (size & (size - 1)) != 0) {
		errno = EINVAL;
		return NULL;
	}
	/* Ring names are global to the process (a memzone each) and short
	 * (RTE_RING_NAMESIZE): a name cut short could collide, so refuse. */
	if ((size_t)snprintf(name, sizeof(name), "vtoe_co_%s", port_name) >=
	    sizeof(name)) {
		errno = ENAMETOOLONG;
		return NULL;
	}
	r = rte_ring_create(name, size, socket_id, 0 /* MP/MC: see above */);
	if (r == NULL)
		errno = rte_errno;
	return r;
}

uint64_t
coring_drain(struct rte_ring *r)
{
	struct rte_mbuf *pkts[64];
	uint64_t total = 0;
	unsigned int n;

	if (r == NULL)
		return 0;
	while ((n = rte_ring_dequeue_burst(r, (void **)pkts, RTE_DIM(pkts),
					   NULL)) > 0) {
		rte_pktmbuf_free_bulk(pkts, n);
		total += n;
	}
	return total;
}

void
coring_free(struct rte_ring *r)
{
	if (r == NULL)
		return;
	(void)coring_drain(r);
	rte_ring_free(r);
}
