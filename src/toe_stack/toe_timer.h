/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * toe_timer: a hashed timing wheel of millisecond ticks, one per TOE
 * endpoint (run by the worker that serves its port, so that a port taken
 * down after a grace period leaves no timer behind on any worker), for
 * retransmission, delayed ACK, TIME_WAIT, keepalive and service timeouts.  Arming, moving and cancelling a timer
 * are O(1); toe_wheel_run visits only the slots of the ticks that passed,
 * each timer when its deadline is due (one that lies beyond a turn of the
 * wheel waits for its turn in its slot).  Pure: the clock is passed in.
 */
#ifndef VTOE_TOE_TIMER_H
#define VTOE_TOE_TIMER_H

#include <stdbool.h>
#include <stdint.h>

#define TOE_WHEEL_SLOTS 256     /* ticks of 1 ms: a turn is 256 ms */

struct toe_timer;
typedef void toe_timer_fn(struct toe_timer *t, uint64_t now_ms);

struct toe_timer {
	struct toe_timer *next, **pprev;        /* in its slot; pprev NULL: idle */
	uint64_t due_ms;
	toe_timer_fn *fn;
};

struct toe_wheel {
	uint64_t now_ms;                        /* ticks up to here have run */
	uint32_t armed;
	struct toe_timer *slot[TOE_WHEEL_SLOTS];
};

void toe_wheel_init(struct toe_wheel *w, uint64_t now_ms);
void toe_timer_init(struct toe_timer *t, toe_timer_fn *fn);
/* (Re)arm t for due_ms (past deadlines run on the next toe_wheel_run). */
void toe_timer_arm(struct toe_wheel *w, struct toe_timer *t, uint64_t due_ms);
void toe_timer_cancel(struct toe_wheel *w, struct toe_timer *t);
static inline bool toe_timer_armed(const struct toe_timer *t)
{
	return t->pprev != 0;
}
/* Run every timer due by now_ms; a callback may arm or cancel any timer.
 * Returns how many ran. */
unsigned int toe_wheel_run(struct toe_wheel *w, uint64_t now_ms);
/* The earliest deadline armed, or UINT64_MAX (for a sleeping worker). */
uint64_t toe_wheel_next(const struct toe_wheel *w);

#endif /* VTOE_TOE_TIMER_H */
