/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * shaper: a token bucket in bytes that paces an uplink's scheduler output
 * to the configured rate, so congestion builds in the DWRR queues (where
 * weights apply) instead of in the NIC.  Time is passed in, in ticks of a
 * given frequency (the TSC in vtoed, a fake clock in tests).
 */
#ifndef VTOE_SHAPER_H
#define VTOE_SHAPER_H

#include <stdint.h>

struct shaper {
	uint64_t rate_bps;      /* bits per second; 0 = unlimited */
	uint64_t hz;            /* ticks per second */
	uint64_t depth;         /* bucket size, bytes */
	uint64_t tokens;        /* bytes, <= depth */
	uint64_t last;          /* tick of the last refill */
	uint64_t rem;           /* sub-byte remainder carried between refills
				 * (in bits x ticks), so no rate is lost */
	uint64_t full_ticks;    /* ticks in which an empty bucket fills */
};

/* depth_bytes: burst allowance, at least one max frame; clamped to
 * 1..UINT64_MAX / (8 x hz) - 1 (about 700 MB at 3 GHz) so that the
 * arithmetic fits 64 bits.  The bucket starts full.  rate_bps or hz 0:
 * unlimited. */
void shaper_init(struct shaper *s, uint64_t rate_bps, uint64_t hz,
		 uint64_t depth_bytes, uint64_t now);
/* Add the tokens earned since the last call; returns the tokens now
 * available (UINT64_MAX when unlimited). */
uint64_t shaper_refill(struct shaper *s, uint64_t now);
/* Take bytes that were sent (<= what refill returned). */
void shaper_consume(struct shaper *s, uint64_t bytes);

/* "200Mbit", "10Gbit", "1.5Gbit", "500kbit", "100000000" (bit/s),
 * "1Gbps" ... -> bit/s.  0 or -EINVAL (*bps untouched).  A decimal number,
 * an optional space, then bit, bps or bit/s with an optional k, M, G or T
 * in either case ("200mbit" is mega, as in tc).  Refused: zero, signs,
 * exponents, fractions of a bit/s, overflow, and byte units ("MB", "MBps",
 * "MB/s"): a B is never guessed at. */
int shaper_rate_parse(const char *s, uint64_t *bps);

#endif /* VTOE_SHAPER_H */
