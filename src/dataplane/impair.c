/* SPDX-License-Identifier: BSD-3-Clause */
#include "impair.h"

enum impair_verdict
impair_decide(const struct impair_params *p, uint64_t *rng, uint32_t *hold_us)
{
	uint32_t r = (uint32_t)((impair_rand(rng) >> 32) % 1000000u);

	*hold_us = 0;
	if (r < p->drop_ppm)
		return IMPAIR_DROP;
	r = (uint32_t)((impair_rand(rng) >> 32) % 1000000u);
	if (r < p->reorder_ppm)
		*hold_us = p->delay_us + IMPAIR_REORDER_US;
	else
		*hold_us = p->delay_us;
	return *hold_us > 0 ? IMPAIR_HOLD : IMPAIR_PASS;
}
