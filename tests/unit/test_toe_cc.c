/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The endpoint TCP's congestion control (toe_cc.h): NewReno's slow start,
 * one segment a round trip, halving; CUBIC's cut by beta = 0.7, its
 * window back at W_max after K seconds (RFC 9438 eq. 2), concave before
 * and convex after, fast convergence, and never below Reno's estimate.
 */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "toe_stack/toe_cc.h"

#define MSS 1000u

/* A round trip's worth of ACKs (one per segment) at rtt_ms. */
static void
round_trip(struct toe_cc *cc, uint64_t *now, uint32_t rtt_ms)
{
	uint32_t segs = cc->cwnd / MSS;

	*now += rtt_ms;
	for (uint32_t i = 0; i < segs; i++)
		toe_cc_on_ack(cc, MSS, *now, rtt_ms);
}

static void
test_newreno(void **state)
{
	struct toe_cc cc;
	uint64_t now = 0;
	uint32_t before;

	(void)state;
	toe_cc_init(&cc, TOE_CC_NEWRENO, MSS, 4);
	assert_int_equal(cc.cwnd, 4 * MSS);
	round_trip(&cc, &now, 10);
	assert_int_equal(cc.cwnd, 8 * MSS);             /* slow start doubles */
	toe_cc_on_loss(&cc, cc.cwnd, now);
	assert_int_equal(cc.ssthresh, 4 * MSS);         /* half the flight */
	assert_int_equal(cc.cwnd, 4 * MSS);
	before = cc.cwnd;
	round_trip(&cc, &now, 10);
	assert_in_range(cc.cwnd, before + MSS * 9 / 10, before + MSS + 10); /* ~+1 segment */
	toe_cc_on_timeout(&cc, 6 * MSS, now);
	assert_int_equal(cc.cwnd, MSS);
	assert_int_equal(cc.ssthresh, 3 * MSS);
	assert_string_equal(toe_cc_name(TOE_CC_CUBIC), "cubic");
}

static void
test_cubic_curve(void **state)
{
	struct toe_cc cc;
	uint64_t now = 0, t_loss;
	double k = cbrt(100 * (1 - 0.7) / 0.4);        /* 4.22 s */
	uint32_t at_half, at_k, at_2k;

	(void)state;
	toe_cc_init(&cc, TOE_CC_CUBIC, MSS, 4);
	cc.cwnd = 100 * MSS;
	cc.ssthresh = 50 * MSS;                         /* in avoidance */
	toe_cc_on_loss(&cc, cc.cwnd, now);
	assert_int_equal(cc.cwnd, 70 * MSS);            /* beta 0.7 */
	assert_int_equal(cc.ssthresh, 70 * MSS);
	t_loss = now;
	/* 100 ms round trips: the window climbs back to W_max at about K */
	while (now - t_loss < (uint64_t)(k * 500))
		round_trip(&cc, &now, 100);
	at_half = cc.cwnd;
	while (now - t_loss < (uint64_t)(k * 1000))
		round_trip(&cc, &now, 100);
	at_k = cc.cwnd;
	while (now - t_loss < (uint64_t)(k * 2000))
		round_trip(&cc, &now, 100);
	at_2k = cc.cwnd;
	/* concave: most of the way back by K/2; W_max (within a few
	 * segments) at K; convex beyond it */
	assert_true(at_half > 85 * MSS && at_half < 100 * MSS);
	assert_in_range(at_k, 97 * MSS, 106 * MSS);
	assert_true(at_2k > 120 * MSS);
	assert_true(at_2k - at_k > at_k - at_half);
}

static void
test_cubic_fast_convergence_and_reno_floor(void **state)
{
	struct toe_cc cc;
	uint64_t now = 0;
	double w_est_before;

	(void)state;
	toe_cc_init(&cc, TOE_CC_CUBIC, MSS, 4);
	cc.cwnd = 100 * MSS;
	cc.ssthresh = 10 * MSS;
	toe_cc_on_loss(&cc, cc.cwnd, now);              /* W_max 100 */
	cc.cwnd = 80 * MSS;
	toe_cc_on_loss(&cc, cc.cwnd, now);              /* before reaching it */
	assert_true(fabs(cc.w_max - 80 * 0.85) < 0.01); /* (1 + beta) / 2 */
	assert_int_equal(cc.cwnd, 56 * MSS);
	/* at 1 ms round trips the cubic curve hardly moves: Reno's
	 * estimate carries the window (the Reno-friendly region) */
	round_trip(&cc, &now, 1);
	w_est_before = cc.w_est;
	for (int i = 0; i < 50; i++)
		round_trip(&cc, &now, 1);
	assert_true(cc.w_est > w_est_before + 10);
	assert_true(cc.cwnd >= (uint32_t)(cc.w_est * MSS) - MSS);
	/* a timeout: one segment, the threshold cut by beta */
	toe_cc_on_timeout(&cc, cc.cwnd, now);
	assert_int_equal(cc.cwnd, MSS);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_newreno),
		cmocka_unit_test(test_cubic_curve),
		cmocka_unit_test(test_cubic_fast_convergence_and_reno_floor),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
