/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * A byte token bucket on an injected clock, in exact integer arithmetic:
 * what a refill cannot turn into whole bytes is carried to the next one,
 * so over any run the tokens earned are floor(elapsed x rate / (8 x hz))
 * exactly (until the bucket is full).  The owner worker of an uplink runs
 * it in front of dwrr_dequeue (dataplane/dp_qos_tx.c).
 */
#include "qos_dwrr/shaper.h"

#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <string.h>

void
shaper_init(struct shaper *s, uint64_t rate_bps, uint64_t hz,
	    uint64_t depth_bytes, uint64_t now)
{
	uint64_t max_depth, bits_to_fill;

	memset(s, 0, sizeof(*s));
	s->last = now;
	/* An 8 x hz that does not fit 64 bits is no clock: no shaping. */
	if (rate_bps == 0 || hz == 0 || hz > UINT64_MAX / 16) {
		s->depth = UINT64_MAX;
		s->tokens = UINT64_MAX;
		return;
	}
	s->rate_bps = rate_bps;
	s->hz = hz;
	/*
	 * A refill computes dt x rate + rem in 64 bits.  dt is below
	 * full_ticks there (past it the bucket is simply full), so
	 * dt x rate < depth x 8 x hz, and rem < 8 x hz: the sum is below
	 * (depth + 1) x 8 x hz, which this bound keeps within 64 bits
	 * whatever the rate (100 Gbit/s and more) and however long the gap.
	 */
	max_depth = UINT64_MAX / (8 * hz) - 1;
	s->depth = depth_bytes < 1 ? 1 :
		   depth_bytes > max_depth ? max_depth : depth_bytes;
	s->tokens = s->depth;
	bits_to_fill = s->depth * 8 * hz;       /* in bits x ticks */
	s->full_ticks = bits_to_fill / rate_bps +
			(bits_to_fill % rate_bps != 0);
}

uint64_t
shaper_refill(struct shaper *s, uint64_t now)
{
	uint64_t dt, num, per_byte;

	if (s->rate_bps == 0)
		return UINT64_MAX;
	/* The TSC of one core never goes back; should the clock do it
	 * anyway, start counting from there rather than stall. */
	if (now <= s->last) {
		s->last = now;
		return s->tokens;
	}
	dt = now - s->last;
	s->last = now;
	if (dt >= s->full_ticks) {
		s->tokens = s->depth;
		s->rem = 0;
		return s->tokens;
	}
	per_byte = 8 * s->hz;                   /* bits x ticks in a byte */
	num = dt * s->rate_bps + s->rem;
	s->tokens += num / per_byte;
	s->rem = num % per_byte;
	/* A full bucket earns nothing more, remainder included. */
	if (s->tokens >= s->depth) {
		s->tokens = s->depth;
		s->rem = 0;
	}
	return s->tokens;
}

void
shaper_consume(struct shaper *s, uint64_t bytes)
{
	if (s->rate_bps == 0)
		return;
	s->tokens = bytes < s->tokens ? s->tokens - bytes : 0;
}

static bool
is_digit(char c)
{
	return c >= '0' && c <= '9';
}

static char
lower(char c)
{
	return c >= 'A' && c <= 'Z' ? (char)(c - 'A' + 'a') : c;
}

/*
 * The unit after the number: an optional SI prefix (k, M, G, T, in any
 * case: "mbit" is tc's spelling of megabit) and then "bit", "bps" or
 * "bit/s"; nothing at all means bit/s.  The b is lowercase: "MB", "MBps"
 * would be bytes, refused rather than guessed at.  Returns the multiplier,
 * 0 when the text is no unit.
 */
static uint64_t
unit_parse(const char *u)
{
	static const char *const names[] = { "bit", "bps", "bit/s" };
	uint64_t mult = 1;

	if (*u == '\0')
		return 1;
	switch (lower(*u)) {
	case 'k': mult = 1000ULL; u++; break;
	case 'm': mult = 1000000ULL; u++; break;
	case 'g': mult = 1000000000ULL; u++; break;
	case 't': mult = 1000000000000ULL; u++; break;
	default: break;
	}
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (strcmp(u, names[i]) == 0)
			return mult;
	return 0;
}

int
shaper_rate_parse(const char *s, uint64_t *bps)
{
	const char *p = s, *frac = NULL;
	uint64_t whole = 0, frac_bits = 0, mult, scale, rate;
	size_t n_frac = 0;

	if (s == NULL || bps == NULL || !is_digit(*p))
		return -EINVAL;         /* also "", "-1", "+1", ".5", " 1" */
	for (; is_digit(*p); p++) {
		if (whole > (UINT64_MAX - (uint64_t)(*p - '0')) / 10)
			return -EINVAL;
		whole = whole * 10 + (uint64_t)(*p - '0');
	}
	if (*p == '.') {
		frac = ++p;
		while (is_digit(*p))
			p++;
		n_frac = (size_t)(p - frac);
		if (n_frac == 0)
			return -EINVAL; /* "1." */
	}
	if (*p == ' ' && p[1] != '\0')
		p++;            /* "200 Mbit" reads well in YAML */
	mult = unit_parse(p);
	if (mult == 0)
		return -EINVAL;
	/* The fraction, digit by digit: "1.5Gbit" is 5 x 10^8 bits on top.
	 * Digits finer than one bit/s must be zeros: a rate is whole bits. */
	scale = mult;
	for (size_t i = 0; i < n_frac; i++) {
		uint64_t digit = (uint64_t)(frac[i] - '0');

		if (scale >= 10) {
			scale /= 10;
			frac_bits += digit * scale;
		} else if (digit != 0) {
			return -EINVAL;
		}
	}
	if (whole > (UINT64_MAX - frac_bits) / mult)
		return -EINVAL;
	rate = whole * mult + frac_bits;
	if (rate == 0)
		return -EINVAL; /* 0 would mean unlimited: say so otherwise */
	*bps = rate;
	return 0;
}
