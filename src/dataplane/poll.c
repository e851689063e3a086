/* SPDX-License-Identifier: BSD-3-Clause */
/* The worker's back-off (rules in poll.h). */
#include "poll.h"

uint32_t
poll_backoff_next(struct poll_backoff *b, bool work)
{
	if (work || b->max_us == 0) {
		b->idle_rounds = 0;
		b->sleep_us = 0;
		return 0;
	}
	if (b->idle_rounds < POLL_IDLE_ROUNDS) {
		b->idle_rounds++;
		return 0;
	}
	b->sleep_us = b->sleep_us == 0 ? POLL_SLEEP_FIRST_US : 2 * b->sleep_us;
	if (b->sleep_us > b->max_us)
		b->sleep_us = b->max_us;
	return b->sleep_us;
}
