/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * place: which worker polls which rx queue, as pure functions of measured
 * load.  The main thread measures (cycles each queue took over the last
 * window, dp_load) and carries out what these decide (moving a queue is a
 * hand-over through quiescence, dp_port.c); the unit tests feed them
 * tables.
 *
 * Rules:
 *  - a new queue goes to the worker with the least load, counting the
 *    queues placed before it in the same call at the mean load of a queue
 *    (so ten new ports do not all land on the one idle worker); fewest
 *    queues breaks a tie, then the lowest index.  Queues already placed
 *    stay: a move costs a hand-over and warm caches;
 *  - a rebalance is proposed by a greedy pass: queues by load, heaviest
 *    first, each to the worker least loaded so far (its own on a tie);
 *    pinned queues stay and count first.  It is taken only when it cuts
 *    the variance of the workers' loads by at least improvement_pct and
 *    the busiest worker's load by at least PLACE_MIN_RELIEF_PCT: a small
 *    gain is not worth the moves, and noise between nearly equal
 *    workers must not make queues travel back and forth;
 *  - the trigger: a worker whose busy share stayed at or above load_pct
 *    for period_s (each sample over the threshold) asks for a rebalance;
 *    after asking, it is asked again only after another full period.
 *  - a worker never gets more than cap queues.
 */
#ifndef VTOE_PLACE_H
#define VTOE_PLACE_H

#include <stdbool.h>
#include <stdint.h>

#define PLACE_WORKERS_MAX 64
#define PLACE_NONE (-1)         /* a queue with no worker yet */
#define PLACE_MIN_RELIEF_PCT 5

struct place_queue {
	uint64_t load;          /* cycles over the window */
	int16_t worker;         /* PLACE_NONE: new */
	bool pinned;            /* never moved by a rebalance */
};

/* Give every queue with worker PLACE_NONE a worker.  0, or -E2BIG when
 * every worker holds cap queues (the queue keeps PLACE_NONE). */
int place_new(struct place_queue *q, unsigned int n, unsigned int n_workers,
	      unsigned int cap);

struct place_proposal {
	double var_before;      /* variance of the workers' loads now */
	double var_after;       /* ... with the proposal */
	uint64_t max_before;    /* the busiest worker's load now */
	uint64_t max_after;     /* ... with the proposal */
	unsigned int moves;     /* queues whose worker changes */
};

/* Propose a worker for every queue in to[] (n entries).  true when it is
 * worth taking (see the rules); *pr says why either way. */
bool place_rebalance(const struct place_queue *q, unsigned int n,
		     unsigned int n_workers, unsigned int cap,
		     uint32_t improvement_pct, int16_t *to,
		     struct place_proposal *pr);

struct place_trigger {
	uint32_t over_s[PLACE_WORKERS_MAX];     /* seconds at or over */
	uint32_t quiet_s;                       /* since the last ask */
};

/* One sample per second of each worker's busy share (percent).  true:
 * ask for a rebalance now. */
bool place_trigger_step(struct place_trigger *t, const uint32_t *busy_pct,
			unsigned int n_workers, uint32_t load_pct,
			uint32_t period_s);

#endif /* VTOE_PLACE_H */
