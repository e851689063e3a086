/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Queue placement and rebalancing, table-driven: where new queues go,
 * which proposals are taken and which are not worth their moves, pinned
 * queues, the per-worker cap, and the trigger's period.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "dataplane/place.h"

#define N(a) (sizeof(a) / sizeof((a)[0]))

static void
test_new(void **state)
{
	static const struct {
		const char *name;
		unsigned int n_workers, cap, n;
		struct place_queue in[6];
		int16_t want[6];
		int rc;
	} cases[] = {
		{ "all idle: round robin by count", 2, 64, 4,
		  { { 0, -1, 0 }, { 0, -1, 0 }, { 0, -1, 0 }, { 0, -1, 0 } },
		  { 0, 1, 0, 1 }, 0 },
		{ "the least loaded, not the fewest queues", 2, 64, 4,
		  { { 900, 0, 0 }, { 10, 1, 0 }, { 10, 1, 0 }, { 0, -1, 0 } },
		  { 0, 1, 1, 1 }, 0 },
		{ "new ones count at the mean load", 2, 64, 5,
		  /* w0 60, w1 0; mean 30: 1st -> w1 (0), 2nd -> w1 (30 vs 60),
		   * 3rd -> w0 (60 vs 60, fewer queues) */
		  { { 60, 0, 0 }, { 0, 1, 0 }, { 0, -1, 0 }, { 0, -1, 0 }, { 0, -1, 0 } },
		  { 0, 1, 1, 1, 0 }, 0 },
		{ "placed queues stay", 3, 64, 3,
		  { { 1000, 2, 0 }, { 1000, 2, 0 }, { 0, -1, 0 } },
		  { 2, 2, 0 }, 0 },
		{ "the cap", 2, 2, 5,
		  { { 0, 0, 0 }, { 0, 0, 0 }, { 0, -1, 0 }, { 0, -1, 0 }, { 0, -1, 0 } },
		  { 0, 0, 1, 1, -1 }, -E2BIG },
	};

	(void)state;
	for (size_t c = 0; c < N(cases); c++) {
		struct place_queue q[6];
		int rc;

		for (unsigned int i = 0; i < cases[c].n; i++)
			q[i] = cases[c].in[i];
		rc = place_new(q, cases[c].n, cases[c].n_workers, cases[c].cap);
		if (rc != cases[c].rc)
			fail_msg("%s: rc %d, want %d", cases[c].name, rc, cases[c].rc);
		for (unsigned int i = 0; i < cases[c].n; i++)
			if (q[i].worker != cases[c].want[i])
				fail_msg("%s: queue %u on worker %d, want %d",
					 cases[c].name, i, q[i].worker,
					 cases[c].want[i]);
	}
}

static void
test_rebalance(void **state)
{
	static const struct {
		const char *name;
		unsigned int n_workers, cap, n;
		uint32_t improvement;
		struct place_queue in[6];
		bool take;
		int16_t want[6];
		unsigned int moves;
	} cases[] = {
		{ "all on one worker: spread", 2, 64, 4, 25,
		  { { 400, 0, 0 }, { 300, 0, 0 }, { 200, 0, 0 }, { 100, 0, 0 } },
		  true, { 0, 1, 1, 0 }, 2 },
		{ "already balanced: nothing to gain", 2, 64, 4, 25,
		  { { 400, 0, 0 }, { 300, 1, 0 }, { 200, 1, 0 }, { 100, 0, 0 } },
		  false, { 0, 1, 1, 0 }, 0 },
		{ "a light queue evens two workers out", 2, 64, 3, 25,
		  /* 550/450 -> 500/500 */
		  { { 500, 0, 0 }, { 450, 1, 0 }, { 50, 0, 0 } },
		  true, { 0, 1, 1 }, 1 },
		{ "one heavy queue cannot be split: moving the light one gains 4%", 2, 64, 2, 25,
		  { { 1000, 0, 0 }, { 10, 0, 0 } },
		  false, { 0, 0 }, 0 },
		{ "noise: 52/48 stays", 2, 64, 4, 25,
		  { { 27, 0, 0 }, { 25, 0, 0 }, { 24, 1, 0 }, { 24, 1, 0 } },
		  false, { 0, 0, 1, 1 }, 0 },
		{ "pinned queues stay and count", 2, 64, 3, 25,
		  { { 500, 0, 1 }, { 400, 0, 1 }, { 300, 0, 0 } },
		  true, { 0, 0, 1 }, 1 },
		{ "everything pinned: nothing moves", 2, 64, 2, 25,
		  { { 500, 0, 1 }, { 400, 0, 1 } },
		  false, { 0, 0 }, 0 },
		{ "one worker: nothing to do", 1, 64, 2, 25,
		  { { 500, 0, 0 }, { 400, 0, 0 } },
		  false, { 0, 0 }, 0 },
		{ "three workers", 3, 64, 6, 25,
		  { { 600, 0, 0 }, { 500, 0, 0 }, { 400, 0, 0 }, { 300, 1, 0 },
		    { 200, 1, 0 }, { 100, 2, 0 } },
		  /* 600->w0, 500->w1, 400->w2, 300->w2 (400<500<600),
		   * 200->w1 (500 < 600 and < 700), 100->w0? w0 600, w1 700,
		   * w2 700: w0 */
		  true, { 0, 1, 2, 2, 1, 0 }, 4 },
		{ "the cap holds", 2, 2, 4, 25,
		  { { 400, 0, 0 }, { 300, 0, 0 }, { 1, 1, 0 }, { 1, 1, 0 } },
		  /* 400->w0, 300->w1, 1->w1 (cap 2 reached), 1->w0 */
		  true, { 0, 1, 1, 0 }, 2 },
	};

	(void)state;
	for (size_t c = 0; c < N(cases); c++) {
		struct place_proposal pr;
		int16_t to[6];
		bool take;

		take = place_rebalance(cases[c].in, cases[c].n, cases[c].n_workers,
				       cases[c].cap, cases[c].improvement, to, &pr);
		if (take != cases[c].take)
			fail_msg("%s: take %d, want %d (var %.0f -> %.0f, %u moves)",
				 cases[c].name, take, cases[c].take,
				 pr.var_before, pr.var_after, pr.moves);
		if (!take)
			continue;
		if (pr.moves != cases[c].moves)
			fail_msg("%s: %u moves, want %u", cases[c].name, pr.moves,
				 cases[c].moves);
		for (unsigned int i = 0; i < cases[c].n; i++)
			if (to[i] != cases[c].want[i])
				fail_msg("%s: queue %u to worker %d, want %d",
					 cases[c].name, i, to[i], cases[c].want[i]);
	}
}

/* The threshold: improvement_pct decides between two loads. */
static void
test_improvement_threshold(void **state)
{
	/* 700/300 -> greedy 500/500?  queues 400, 300 on w0, 300 on w1:
	 * before 700/300 (var 40000); greedy 400->w0, 300->w1, 300->w1:
	 * 400/600 (var 10000): 75% better. */
	const struct place_queue q[] = { { 400, 0, 0 }, { 300, 0, 0 }, { 300, 1, 0 } };
	struct place_proposal pr;
	int16_t to[3];

	(void)state;
	assert_true(place_rebalance(q, 3, 2, 64, 75, to, &pr));
	assert_false(place_rebalance(q, 3, 2, 64, 76, to, &pr));
	assert_int_equal(pr.moves, 1);
}

static void
test_trigger(void **state)
{
	struct place_trigger t = { 0 };
	uint32_t over[2] = { 97, 10 }, under[2] = { 90, 10 };
	int asked = 0;

	(void)state;
	/* 4 s over, one under, then over: the period starts again */
	for (int s = 0; s < 4; s++)
		assert_false(place_trigger_step(&t, over, 2, 95, 5));
	assert_false(place_trigger_step(&t, under, 2, 95, 5));
	for (int s = 0; s < 4; s++)
		assert_false(place_trigger_step(&t, over, 2, 95, 5));
	assert_true(place_trigger_step(&t, over, 2, 95, 5));
	/* still over: asked again only after another full period */
	for (int s = 0; s < 20; s++)
		asked += place_trigger_step(&t, over, 2, 95, 5);
	assert_int_equal(asked, 4);
	/* never over: never asked */
	t = (struct place_trigger){ 0 };
	for (int s = 0; s < 100; s++)
		assert_false(place_trigger_step(&t, under, 2, 95, 5));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_new),
		cmocka_unit_test(test_rebalance),
		cmocka_unit_test(test_improvement_threshold),
		cmocka_unit_test(test_trigger),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
