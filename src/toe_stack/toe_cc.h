/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * toe_cc: the congestion window's growth and its cut on loss, for the
 * endpoint's TCP: NewReno (RFC 5681: slow start, then one segment a
 * round trip) or CUBIC (RFC 9438: the window a cubic function of the time
 * since the last loss, never below what Reno would reach).  Pure: the
 * connection hands in what an ACK acknowledged, the time and its RTT.
 */
#ifndef VTOE_TOE_CC_H
#define VTOE_TOE_CC_H

#include <stdint.h>

#define TOE_CC_LIST(X) \
	X(NEWRENO, "newreno") \
	X(CUBIC, "cubic")

enum toe_cc_algo {
#define TOE_CC_ENUM(sym, name) TOE_CC_##sym,
	TOE_CC_LIST(TOE_CC_ENUM)
#undef TOE_CC_ENUM
	TOE_CC_MAX
};

const char *toe_cc_name(unsigned int algo);

/* One connection's congestion state (windows in bytes). */
struct toe_cc {
	uint8_t algo;                   /* enum toe_cc_algo */
	uint32_t mss;
	uint32_t cwnd, ssthresh;
	/* CUBIC (RFC 9438 4): the window before the last loss, the time
	 * that loss was, K, and the Reno-friendly estimate. */
	double w_max, w_last_max, k, w_est;
	uint64_t epoch_ms;              /* 0: no epoch started */
};

/* Start: the initial window of iw segments, no threshold. */
void toe_cc_init(struct toe_cc *cc, uint8_t algo, uint32_t mss, uint32_t iw);
/* acked bytes newly acknowledged outside recovery, at now_ms with a
 * smoothed RTT of rtt_ms. */
void toe_cc_on_ack(struct toe_cc *cc, uint32_t acked, uint64_t now_ms,
		   uint32_t rtt_ms);
/* A loss found by duplicate ACKs/SACK (fast recovery): ssthresh set,
 * cwnd to it.  flight: the bytes outstanding. */
void toe_cc_on_loss(struct toe_cc *cc, uint32_t flight, uint64_t now_ms);
/* A retransmission timeout: ssthresh from the flight, cwnd one segment. */
void toe_cc_on_timeout(struct toe_cc *cc, uint32_t flight, uint64_t now_ms);

#endif /* VTOE_TOE_CC_H */
