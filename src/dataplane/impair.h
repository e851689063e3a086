/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * impair: what a port's impairment stage does to one frame, as a pure
 * function of its settings and a random draw.  The kernel here has no
 * netem; tests that need a lossy path (TCP recovery, reordering) set
 * `impair:` on a port (or `vtoectl impair`), and the worker applies it to
 * the frames the guest sends (rx), the frames sent to it (tx), or both.
 *
 * A frame is dropped with probability drop_ppm; else it is held for
 * delay_us, and with probability reorder_ppm for longer (delay_us plus
 * IMPAIR_REORDER_US), so that the frames after it overtake it.  With no
 * delay and no reordering drawn it passes at once.
 */
#ifndef VTOE_IMPAIR_H
#define VTOE_IMPAIR_H

#include <stdint.h>

#define IMPAIR_REORDER_US 1000

enum impair_verdict {
	IMPAIR_PASS,
	IMPAIR_DROP,
	IMPAIR_HOLD,                    /* for *hold_us */
};

struct impair_params {
	uint32_t drop_ppm;
	uint32_t reorder_ppm;
	uint32_t delay_us;
};

/* xorshift64*: the worker's own stream (seeded non-zero). */
static inline uint64_t
impair_rand(uint64_t *s)
{
	*s ^= *s >> 12;
	*s ^= *s << 25;
	*s ^= *s >> 27;
	return *s * 2685821657736338717ull;
}

enum impair_verdict impair_decide(const struct impair_params *p,
				  uint64_t *rng, uint32_t *hold_us);

#endif /* VTOE_IMPAIR_H */
