/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The worker's back-off, driven round by round on a virtual clock: idle
 * ramps up to the longest sleep, a round with work drops to zero at once,
 * busy mode never sleeps, and an idle worker's share of its CPU.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "dataplane/poll.h"

static void
test_busy_never_sleeps(void **state)
{
	struct poll_backoff b = { .max_us = 0 };

	(void)state;
	for (int i = 0; i < 10000; i++)
		assert_int_equal(poll_backoff_next(&b, false), 0);
}

static void
test_ramp_and_drop(void **state)
{
	static const uint32_t ramp[] = { 8, 16, 32, 64, 128, 250, 250, 250 };
	struct poll_backoff b = { .max_us = 250 };

	(void)state;
	for (int round = 0; round < 2; round++) {
		for (int i = 0; i < POLL_IDLE_ROUNDS; i++)
			assert_int_equal(poll_backoff_next(&b, false), 0);
		for (size_t i = 0; i < sizeof(ramp) / sizeof(ramp[0]); i++)
			assert_int_equal(poll_backoff_next(&b, false), ramp[i]);
		/* a burst: no sleep at once, and the count starts over */
		assert_int_equal(poll_backoff_next(&b, true), 0);
		assert_int_equal(b.sleep_us, 0);
	}
	/* work in every round: never a sleep */
	for (int i = 0; i < 1000; i++)
		assert_int_equal(poll_backoff_next(&b, i % 60 == 0 ? true : i % 2), 0);
}

static void
test_small_max(void **state)
{
	struct poll_backoff b = { .max_us = 5 };

	(void)state;
	for (int i = 0; i < POLL_IDLE_ROUNDS; i++)
		(void)poll_backoff_next(&b, false);
	assert_int_equal(poll_backoff_next(&b, false), 5);
	assert_int_equal(poll_backoff_next(&b, false), 5);
}

/* One idle second on a virtual clock, rounds of 2 us of work: the worker
 * is awake under 1% of it with the default 250 us, and a frame that
 * comes waits at most 250 us. */
static void
test_idle_share(void **state)
{
	struct poll_backoff b = { .max_us = 250 };
	uint64_t t = 0, awake = 0, longest = 0;

	(void)state;
	while (t < 1000000) {
		uint32_t s;

		t += 2;
		awake += 2;
		s = poll_backoff_next(&b, false);
		t += s;
		if (s > longest)
			longest = s;
	}
	assert_true(awake * 100 < t);
	assert_int_equal(longest, 250);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_busy_never_sleeps),
		cmocka_unit_test(test_ramp_and_drop),
		cmocka_unit_test(test_small_max),
		cmocka_unit_test(test_idle_share),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
