/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The token bucket on a fake clock: long runs earn exactly
 * floor(elapsed x rate / (8 x hz)) bytes, an idle bucket stops at its
 * depth, 100 Gbit/s and huge gaps do not overflow, rate 0 is unlimited;
 * then a table of rate strings.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "qos_dwrr/shaper.h"

static uint64_t
rnd(uint64_t *s)
{
	*s ^= *s >> 12;
	*s ^= *s << 25;
	*s ^= *s >> 27;
	return *s * 0x2545f4914f6cdd1dULL;
}

/* The reference, in 128 bits (a GCC/Clang extension, tests only). */
static uint64_t
earned(uint64_t ticks, uint64_t rate_bps, uint64_t hz)
{
	return (uint64_t)((unsigned __int128)ticks * rate_bps / (8 * hz));
}

/*
 * Send everything the bucket allows, refilling at random intervals, and
 * compare the total with what the rate allows over the elapsed time.
 */
static void
run_accuracy(uint64_t rate, uint64_t hz, uint64_t depth, uint64_t ticks,
	     uint64_t max_step, uint64_t seed)
{
	struct shaper s;
	uint64_t t0 = 123456789, now = t0, end = t0 + ticks;
	uint64_t sent = 0;

	shaper_init(&s, rate, hz, depth, now);
	shaper_consume(&s, shaper_refill(&s, now));     /* starts full */
	while (now < end) {
		uint64_t tokens;

		now += 1 + rnd(&seed) % max_step;
		if (now > end)
			now = end;
		tokens = shaper_refill(&s, now);
		assert_true(tokens <= depth);
		shaper_consume(&s, tokens);
		sent += tokens;
	}
	/* exactly the rate, after the initial full bucket */
	assert_int_equal(sent, earned(end - t0, rate, hz));
}

static void
test_rate_accuracy(void **state)
{
	(void)state;
	/* 200 Mbit/s at 2.5 GHz for 10 s: 250 MB, to the byte (the issue
	 * asks for 0.01 %); steps up to 20 us earn at most 500 B, so the
	 * 15000 B bucket never fills and nothing is capped away */
	run_accuracy(200000000, 2500000000ULL, 15000, 25000000000ULL, 50000, 1);
	/* 1 Mbit/s at 3 GHz in steps of 1..100 ticks (10 ms): each earns
	 * 1/240 of a byte at most, all of it carried in the remainder */
	run_accuracy(1000000, 3000000000ULL, 1518, 30000000, 100, 2);
	/* a rate and clock that do not divide each other, 10 s */
	run_accuracy(999999937, 2399999999ULL, 100000, 23999999990ULL,
		     1000000, 3);
	/* 100 Gbit/s polled every ~1 us, 1 s */
	run_accuracy(100000000000ULL, 3000000000ULL, 1 << 20, 3000000000ULL,
		     6000, 4);
}

static void
test_depth_cap_after_idle(void **state)
{
	const uint64_t hz = 2500000000ULL;
	struct shaper s;

	(void)state;
	shaper_init(&s, 200000000, hz, 30000, 1000);
	assert_int_equal(shaper_refill(&s, 1000), 30000);      /* starts full */
	shaper_consume(&s, 30000);
	assert_int_equal(shaper_refill(&s, 1000), 0);
	/* idle for 10 s: the burst is the depth, not 250 MB */
	assert_int_equal(shaper_refill(&s, 1000 + 10 * hz), 30000);
	shaper_consume(&s, 30000);
	/* then the rate again, from zero: 1000 B take 100000 ticks */
	assert_int_equal(shaper_refill(&s, 1000 + 10 * hz + 99999), 999);
	assert_int_equal(shaper_refill(&s, 1000 + 10 * hz + 100000), 1000);
	/* consuming more than there is leaves none (and no debt) */
	shaper_consume(&s, 5000);
	assert_int_equal(shaper_refill(&s, 1000 + 10 * hz + 100000), 0);
	/* a clock that steps back resyncs instead of stalling */
	assert_int_equal(shaper_refill(&s, 5), 0);
	assert_int_equal(shaper_refill(&s, 100005), 1000);
}

/* Rates and gaps where a naive dt x rate overflows 64 bits. */
static void
test_no_overflow(void **state)
{
	static const struct {
		uint64_t rate, hz, depth;
	} cases[] = {
		{ 100000000000ULL, 3000000000ULL, 1 << 20 },
		{ 100000000000ULL, 3000000000ULL, UINT64_MAX },  /* clamped */
		{ 1000000000000ULL, 1ULL << 33, 1 << 24 },       /* 1 Tbit/s */
		{ 64000, 3000000000ULL, 1518 },                  /* slow */
		{ UINT64_MAX, 3000000000ULL, 9018 },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct shaper s;
		uint64_t depth, t = 1000, gap;

		shaper_init(&s, cases[i].rate, cases[i].hz, cases[i].depth, t);
		depth = s.depth;
		assert_true(depth >= 1 && depth <= cases[i].depth);
		assert_true(depth <= UINT64_MAX / (8 * cases[i].hz) - 1);
		/* huge gaps: a full bucket, never a wrapped one */
		assert_int_equal(shaper_refill(&s, t += 3600 * cases[i].hz),
				 depth);
		assert_int_equal(shaper_refill(&s, t += 1ULL << 62), depth);
		shaper_consume(&s, depth);
		assert_int_equal(shaper_refill(&s, t = UINT64_MAX - 1), depth);
		/* the longest gap that does not fill an empty bucket: the
		 * product is then as large as it gets */
		shaper_init(&s, cases[i].rate, cases[i].hz, cases[i].depth, 0);
		shaper_consume(&s, depth);
		gap = s.full_ticks - 1;
		assert_int_equal(shaper_refill(&s, gap),
				 earned(gap, cases[i].rate, cases[i].hz));
		assert_true(s.tokens < depth);
		assert_int_equal(shaper_refill(&s, gap + 1), depth);
	}
}

static void
test_unlimited(void **state)
{
	struct shaper s;

	(void)state;
	shaper_init(&s, 0, 3000000000ULL, 1518, 0);
	assert_int_equal(shaper_refill(&s, 0), UINT64_MAX);
	shaper_consume(&s, 1ULL << 40);
	assert_int_equal(shaper_refill(&s, 1), UINT64_MAX);
	assert_int_equal(shaper_refill(&s, UINT64_MAX), UINT64_MAX);
	/* no clock is no shaping either */
	shaper_init(&s, 1000000, 0, 1518, 0);
	assert_int_equal(shaper_refill(&s, 12345), UINT64_MAX);
}

static void
test_rate_parse(void **state)
{
	static const struct {
		const char *text;
		uint64_t bps;           /* 0: must be refused */
	} cases[] = {
		{ "200Mbit", 200000000 },
		{ "10Gbit", 10000000000ULL },
		{ "1.5Gbit", 1500000000 },
		{ "500kbit", 500000 },
		{ "100000000", 100000000 },
		{ "1Gbps", 1000000000 },
		{ "1gbit", 1000000000 },
		{ "200mbit", 200000000 },       /* tc's spelling: mega */
		{ "200MBIT", 0 },               /* B is bytes */
		{ "64Kbit", 64000 },
		{ "2Tbit", 2000000000000ULL },
		{ "2.5tbit", 2500000000000ULL },
		{ "100bit", 100 },
		{ "100bps", 100 },
		{ "100Mbit/s", 100000000 },
		{ "200 Mbit", 200000000 },
		{ "0.5kbit", 500 },
		{ "1.000bit", 1 },
		{ "1.234567891Gbit", 1234567891 },
		{ "1.2345678912Gbit", 0 },      /* a fraction of a bit/s */
		{ "1.5bit", 0 },
		{ "18446744073709551615", UINT64_MAX },
		{ "18446744073709551616", 0 },  /* overflow */
		{ "18446744073709552kbit", 0 }, /* overflow by the unit */
		{ "18446744.073709551615Tbit", UINT64_MAX },
		{ "18446744.073709551616Tbit", 0 },
		{ "99999999999999999999999", 0 },
		{ "", 0 },
		{ "0", 0 },
		{ "0Mbit", 0 },
		{ "0.0Gbit", 0 },
		{ "-1Mbit", 0 },
		{ "+1Mbit", 0 },
		{ " 1Mbit", 0 },
		{ "1Mbit ", 0 },
		{ "1 ", 0 },
		{ "1  Mbit", 0 },
		{ ".5Gbit", 0 },
		{ "1.Gbit", 0 },
		{ "1..5Gbit", 0 },
		{ "1e9", 0 },
		{ "Mbit", 0 },
		{ "10M", 0 },                   /* bits or bytes? say which */
		{ "10MB", 0 },
		{ "10MBps", 0 },
		{ "10MB/s", 0 },
		{ "10Mibit", 0 },
		{ "10Pbit", 0 },
		{ "10Mbitx", 0 },
		{ "0x10", 0 },
		{ "fast", 0 },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		uint64_t bps = 42;
		int rc = shaper_rate_parse(cases[i].text, &bps);

		if (cases[i].bps == 0) {
			if (rc != -EINVAL || bps != 42)
				fail_msg("\"%s\" accepted", cases[i].text);
		} else if (rc != 0 || bps != cases[i].bps) {
			fail_msg("\"%s\": rc %d, %llu", cases[i].text, rc,
				 (unsigned long long)bps);
		}
	}
	assert_int_equal(shaper_rate_parse(NULL, &(uint64_t){ 0 }), -EINVAL);
	assert_int_equal(shaper_rate_parse("1Mbit", NULL), -EINVAL);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_rate_accuracy),
		cmocka_unit_test(test_depth_cap_after_idle),
		cmocka_unit_test(test_no_overflow),
		cmocka_unit_test(test_unlimited),
		cmocka_unit_test(test_rate_parse),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
