/* SPDX-License-Identifier: BSD-3-Clause */
/* The impairment stage's decision (impair.h): rates and hold times. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "dataplane/impair.h"

static void
test_rates(void **state)
{
	struct impair_params p = { .drop_ppm = 10000, .reorder_ppm = 20000, .delay_us = 0 };
	uint64_t rng = 42;
	unsigned int drop = 0, hold = 0, pass = 0;
	uint32_t us;

	(void)state;
	for (int i = 0; i < 1000000; i++) {
		switch (impair_decide(&p, &rng, &us)) {
		case IMPAIR_DROP: drop++; assert_int_equal(us, 0); break;
		case IMPAIR_HOLD: hold++; assert_int_equal(us, IMPAIR_REORDER_US); break;
		case IMPAIR_PASS: pass++; break;
		}
	}
	/* 1 % and 2 % of a million, within a few standard deviations */
	assert_in_range(drop, 9500, 10500);
	assert_in_range(hold, 19000, 21000);
	assert_int_equal(drop + hold + pass, 1000000);
}

static void
test_delay_and_off(void **state)
{
	struct impair_params p = { .delay_us = 5000 };
	struct impair_params off = { 0 };
	uint64_t rng = 7;
	uint32_t us;

	(void)state;
	for (int i = 0; i < 1000; i++) {
		assert_int_equal(impair_decide(&p, &rng, &us), IMPAIR_HOLD);
		assert_int_equal(us, 5000);
		assert_int_equal(impair_decide(&off, &rng, &us), IMPAIR_PASS);
	}
	/* all dropped */
	p.drop_ppm = 1000000;
	assert_int_equal(impair_decide(&p, &rng, &us), IMPAIR_DROP);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_rates),
		cmocka_unit_test(test_delay_and_off),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
