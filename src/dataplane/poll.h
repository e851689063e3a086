/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * poll: when a worker gives its CPU back, as a pure function of what its
 * poll rounds found.  The worker calls it after every round; the unit
 * tests call it with made-up rounds.  No DPDK types, no clock: the caller
 * sleeps what it is told.
 *
 * Rules (adaptive mode):
 *  - a round that handled any frame sleeps 0 and starts over: under load
 *    the worker polls flat out, at once;
 *  - after POLL_IDLE_ROUNDS empty rounds in a row (tens of microseconds
 *    or more: longer than the gaps between bursts of a busy flow, which
 *    a sleep would turn into lost throughput) it starts to sleep,
 *    POLL_SLEEP_FIRST_US first, doubling with each empty round after, up
 *    to max_us: a lull costs nothing, a long one is paid for with at most
 *    one max_us delay of the frame that ends it;
 *  - max_us 0 (busy mode) never sleeps.
 * A frame that arrives while the worker sleeps waits in its ring (the
 * guest's vring, the NIC's rx ring) until the sleep ends; no frame is
 * dropped by the sleep unless that ring fills in max_us.
 */
#ifndef VTOE_POLL_H
#define VTOE_POLL_H

#include <stdbool.h>
#include <stdint.h>

#define POLL_IDLE_ROUNDS 1024
#define POLL_SLEEP_FIRST_US 8

struct poll_backoff {
	uint32_t max_us;        /* the longest sleep; 0: never sleep */
	uint32_t idle_rounds;   /* empty rounds in a row */
	uint32_t sleep_us;      /* the last sleep asked for */
};

/* After a round that handled frames (work) or not: microseconds to
 * sleep now. */
uint32_t poll_backoff_next(struct poll_backoff *b, bool work);

#endif /* VTOE_POLL_H */
