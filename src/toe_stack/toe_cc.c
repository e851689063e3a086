/* SPDX-License-Identifier: BSD-3-Clause */
/* Congestion control of the endpoint's TCP (toe_cc.h). */
#include "toe_cc.h"

#include <math.h>

#define CUBIC_BETA 0.7                  /* RFC 9438 4.6 */
#define CUBIC_C 0.4                     /* RFC 9438 5 */
/* RFC 9438 4.3: the Reno-friendly additive increase for beta 0.7. */
#define CUBIC_ALPHA (3.0 * (1.0 - CUBIC_BETA) / (1.0 + CUBIC_BETA))
#define CWND_MAX (64u * 1024 * 1024)

static const char *const names[] = {
#define X_(sym, name) name,
	TOE_CC_LIST(X_)
#undef X_
};

const char *
toe_cc_name(unsigned int algo)
{
	return algo < TOE_CC_MAX ? names[algo] : "?";
}

void
toe_cc_init(struct toe_cc *cc, uint8_t algo, uint32_t mss, uint32_t iw)
{
	*cc = (struct toe_cc){
		.algo = algo, .mss = mss, .cwnd = iw * mss,
		.ssthresh = UINT32_MAX / 2,
	};
}

static void
set_cwnd(struct toe_cc *cc, double bytes)
{
	if (bytes < cc->mss)
		bytes = cc->mss;
	if (bytes > CWND_MAX)
		bytes = CWND_MAX;
	cc->cwnd = (uint32_t)bytes;
}

/* RFC 9438 4.2-4.5, in segments. */
static void
cubic_ack(struct toe_cc *cc, uint32_t acked, uint64_t now_ms, uint32_t rtt_ms)
{
	double cwnd = (double)cc->cwnd / cc->mss, segs = (double)acked / cc->mss;
	double t, target, w_cubic;

	if (cc->epoch_ms == 0) {
		/* the congestion avoidance stage begins */
		cc->epoch_ms = now_ms;
		if (cc->w_max < cwnd) {
			cc->w_max = cwnd;
			cc->k = 0;
		} else {
			cc->k = cbrt((cc->w_max - cwnd) / CUBIC_C);
		}
		cc->w_est = cwnd;
	}
	t = (double)(now_ms - cc->epoch_ms) / 1000.0;
	w_cubic = CUBIC_C * pow(t - cc->k, 3) + cc->w_max;
	cc->w_est += CUBIC_ALPHA * segs / cwnd;
	if (w_cubic < cc->w_est) {
		set_cwnd(cc, cc->w_est * cc->mss);      /* Reno-friendly region */
		return;
	}
	/* concave or convex: toward W_cubic one RTT ahead (eq. 1), growing
	 * by at most half the window a round trip */
	target = CUBIC_C * pow(t + rtt_ms / 1000.0 - cc->k, 3) + cc->w_max;
	if (target < cwnd)
		target = cwnd;
	if (target > 1.5 * cwnd)
		target = 1.5 * cwnd;
	set_cwnd(cc, (cwnd + (target - cwnd) / cwnd * segs) * cc->mss);
}

void
toe_cc_on_ack(struct toe_cc *cc, uint32_t acked, uint64_t now_ms,
	      uint32_t rtt_ms)
{
	if (cc->cwnd < cc->ssthresh) {
		/* slow start (RFC 5681 3.1, one segment an ACK at most) */
		set_cwnd(cc, (double)cc->cwnd + (acked < cc->mss ? acked : cc->mss));
		return;
	}
	if (cc->algo == TOE_CC_CUBIC) {
		cubic_ack(cc, acked, now_ms, rtt_ms);
		return;
	}
	/* RFC 5681 3.1: about one segment a round trip */
	set_cwnd(cc, (double)cc->cwnd +
		 (double)((uint64_t)cc->mss * cc->mss / cc->cwnd) + 1);
}

/* RFC 9438 4.6-4.7: remember the window (less, on a second loss before
 * it was reached: fast convergence), and cut by beta. */
static void
cubic_cut(struct toe_cc *cc)
{
	double cwnd = (double)cc->cwnd / cc->mss;

	if (cwnd < cc->w_last_max)
		cc->w_max = cwnd * (1.0 + CUBIC_BETA) / 2.0;
	else
		cc->w_max = cwnd;
	cc->w_last_max = cwnd;
	cc->epoch_ms = 0;
	cc->ssthresh = (uint32_t)(cwnd * CUBIC_BETA * cc->mss);
	if (cc->ssthresh < 2 * cc->mss)
		cc->ssthresh = 2 * cc->mss;
}

void
toe_cc_on_loss(struct toe_cc *cc, uint32_t flight, uint64_t now_ms)
{
	(void)now_ms;
	if (cc->algo == TOE_CC_CUBIC) {
		cubic_cut(cc);
	} else {
		/* RFC 5681 3.2 (2) */
		cc->ssthresh = flight / 2 > 2 * cc->mss ? flight / 2 : 2 * cc->mss;
	}
	cc->cwnd = cc->ssthresh;
}

void
toe_cc_on_timeout(struct toe_cc *cc, uint32_t flight, uint64_t now_ms)
{
	(void)now_ms;
	if (cc->algo == TOE_CC_CUBIC)
		cubic_cut(cc);
	else
		cc->ssthresh = flight / 2 > 2 * cc->mss ? flight / 2 : 2 * cc->mss;
	cc->cwnd = cc->mss;             /* RFC 5681 3.1 (4): the loss window */
}
