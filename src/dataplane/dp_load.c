/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Load accounting and rebalancing, on the main thread.  Workers keep
 * running sums (cycles and frames per rx queue, busy/idle/asleep cycles);
 * once a second this samples them into a ring of DP_LOAD_SAMPLES, so any
 * view over the last DP_LOAD_WINDOW_S seconds is the newest sample minus
 * the oldest.  With lcores.rebalance: auto it asks place.h whether a
 * worker has been overloaded long enough and whether moving queues is
 * worth it, then moves them (dp_queues_move).
 */
#include "dp_priv.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include <rte_cycles.h>

static unsigned int
dp_load_slot(uint64_t n)
{
	return (unsigned int)(n % DP_LOAD_SAMPLES);
}

/* The newest and oldest samples of the window; false: fewer than two. */
static bool
dp_load_span(const struct dp *dp, unsigned int *newest, unsigned int *oldest)
{
	uint64_t span;

	if (dp->load_n < 2)
		return false;
	span = dp->load_n - 1 < DP_LOAD_WINDOW_S ? dp->load_n - 1 : DP_LOAD_WINDOW_S;
	*newest = dp_load_slot(dp->load_n - 1);
	*oldest = dp_load_slot(dp->load_n - 1 - span);
	return true;
}

static void
dp_queue_sums(const struct dp *dp, uint16_t p, uint16_t q, uint64_t *cycles,
	      uint64_t *frames)
{
	*cycles = *frames = 0;
	for (unsigned int i = 0; i < dp->n_workers; i++) {
		const struct dp_rxq_load *ld = &dp->workers[i].rxq_load[p][q];

		*cycles += __atomic_load_n(&ld->cycles, __ATOMIC_RELAXED);
		*frames += __atomic_load_n(&ld->frames, __ATOMIC_RELAXED);
	}
}

void
dp_load_port_reset(struct dp *dp, uint16_t p)
{
	struct dp_port *port = &dp->ports[p];

	for (uint16_t q = 0; q < CFG_MAX_QUEUES; q++) {
		uint64_t c, f;

		dp_queue_sums(dp, p, q, &c, &f);
		for (unsigned int k = 0; k < DP_LOAD_SAMPLES; k++) {
			port->load[q].cycles[k] = c;
			port->load[q].frames[k] = f;
		}
	}
}

uint64_t
dp_load_queue(const struct dp *dp, uint16_t p, uint16_t q, uint64_t *frames,
	      uint64_t *window)
{
	const struct dp_load_hist *h = &dp->ports[p].load[q];
	unsigned int a, b;

	*frames = *window = 0;
	if (!dp_load_span(dp, &b, &a))
		return 0;
	*window = dp->load_tsc[b] - dp->load_tsc[a];
	*frames = h->frames[b] - h->frames[a];
	return h->cycles[b] - h->cycles[a];
}

/* Worker i's busy, idle and asleep cycles from sample a to sample b;
 * returns their sum. */
static uint64_t
dp_load_between(const struct dp *dp, unsigned int i, unsigned int a,
		unsigned int b, uint64_t *busy, uint64_t *idle, uint64_t *sleep)
{
	*busy = dp->wload[i][b].busy - dp->wload[i][a].busy;
	*idle = dp->wload[i][b].idle - dp->wload[i][a].idle;
	*sleep = dp->wload[i][b].sleep - dp->wload[i][a].sleep;
	return *busy + *idle + *sleep;
}

void
dp_load_worker(const struct dp *dp, unsigned int i, struct dp_worker_info *info)
{
	unsigned int a, b;
	uint64_t busy, idle, sleep, all;

	info->window_s = info->busy_pct = info->idle_pct = info->sleep_pct = 0;
	if (!dp_load_span(dp, &b, &a))
		return;
	all = dp_load_between(dp, i, a, b, &busy, &idle, &sleep);
	info->window_s = (double)(dp->load_tsc[b] - dp->load_tsc[a]) /
			 (double)dp->tsc_hz;
	if (all == 0)
		return;
	info->busy_pct = 100.0 * (double)busy / (double)all;
	info->idle_pct = 100.0 * (double)idle / (double)all;
	info->sleep_pct = 100.0 * (double)sleep / (double)all;
}

void
dp_rebalance_info(const struct dp *dp, struct dp_rebalance_info *info)
{
	*info = (struct dp_rebalance_info){
		.automatic = dp->cfg->rebalance_auto,
		.load_pct = dp->cfg->rebalance_load_pct,
		.period_s = dp->cfg->rebalance_period_s,
		.improvement_pct = dp->cfg->rebalance_improvement_pct,
		.checks = dp->rebalance_checks,
		.taken = dp->rebalances,
		.queues_moved = dp->queues_moved,
		.last_check_s = (uint32_t)dp->last_check_s,
		.last_taken = dp->last_taken,
		.last_moves = dp->last_proposal.moves,
		.last_var_before = dp->last_proposal.var_before,
		.last_var_after = dp->last_proposal.var_after,
	};
}

int
dp_queue_pin(struct dp *dp, unsigned int port, unsigned int q, int lcore,
	     char *err, size_t err_size)
{
	struct dp_port *pt;
	struct dp_move m;
	unsigned int w;
	int rc;

	if (port >= dp_port_count(dp) || !dp->ports[port].used) {
		snprintf(err, err_size, "no such port");
		return -ENOENT;
	}
	pt = &dp->ports[port];
	if (q >= pt->queues) {
		snprintf(err, err_size, "port %s has %u queue(s): no queue %u",
			 pt->name, pt->queues, q);
		return -ENOENT;
	}
	if (lcore < 0) {
		pt->pinned &= (uint8_t)~(1u << q);
		return 0;
	}
	for (w = 0; w < dp->n_workers; w++)
		if (dp->workers[w].lcore == (unsigned int)lcore)
			break;
	if (w == dp->n_workers) {
		snprintf(err, err_size, "lcore %d is not a worker", lcore);
		return -ENOENT;
	}
	pt->pinned |= (uint8_t)(1u << q);
	if (pt->worker_of_queue[q] == (int8_t)w)
		return 0;
	m = (struct dp_move){ (uint16_t)port, (uint16_t)q, (uint16_t)w };
	dp_table_lock();        /* telemetry reads the plans */
	rc = dp_queues_move(dp, &m, 1);
	dp_table_unlock();
	if (rc != 0)
		snprintf(err, err_size, "cannot move the queue: %s", strerror(-rc));
	return rc;
}

/* The busy share of each worker over the last second, in percent. */
static void
dp_load_last_second(const struct dp *dp, uint32_t *busy_pct)
{
	unsigned int b = dp_load_slot(dp->load_n - 1);
	unsigned int a = dp_load_slot(dp->load_n - 2);

	for (unsigned int i = 0; i < dp->n_workers; i++) {
		uint64_t busy, idle, sleep;
		uint64_t all = dp_load_between(dp, i, a, b, &busy, &idle, &sleep);

		busy_pct[i] = all == 0 ? 0 : (uint32_t)(busy * 100 / all);
	}
}

/* Every queue in use, its load over the window and where it is. */
static unsigned int
dp_load_queues(const struct dp *dp, struct place_queue *pq,
	       struct dp_move *where, unsigned int max)
{
	unsigned int n = 0;

	for (uint16_t p = 0; p < dp_port_count(dp); p++) {
		const struct dp_port *port = &dp->ports[p];

		for (uint16_t q = 0; port->used && q < port->queues && n < max; q++) {
			uint64_t frames, window;

			if (port->worker_of_queue[q] < 0)
				continue;
			pq[n] = (struct place_queue){
				.load = dp_load_queue(dp, p, q, &frames, &window),
				.worker = port->worker_of_queue[q],
				.pinned = (port->pinned >> q) & 1,
			};
			where[n++] = (struct dp_move){ p, q, 0 };
		}
	}
	return n;
}

static void
dp_rebalance(struct dp *dp)
{
	static struct place_queue pq[DP_PORTS_MAX * CFG_MAX_QUEUES];
	static struct dp_move mv[DP_PORTS_MAX * CFG_MAX_QUEUES];
	static int16_t to[DP_PORTS_MAX * CFG_MAX_QUEUES];
	unsigned int n = dp_load_queues(dp, pq, mv, DP_PORTS_MAX * CFG_MAX_QUEUES);
	unsigned int k = 0;
	bool take;

	take = place_rebalance(pq, n, dp->n_workers, DP_WORKER_QUEUES_MAX,
			       dp->cfg->rebalance_improvement_pct, to,
			       &dp->last_proposal);
	dp->rebalance_checks++;
	dp->last_taken = take;
	dp->last_check_s = dp_now_s(dp);
	/* Refused proposals come every period while a worker stays busy:
	 * lcores shows the last one. */
	rte_log(take ? RTE_LOG_INFO : RTE_LOG_DEBUG, dp_logtype,
		"dataplane: rebalance: a worker stayed >= %u%% busy for %u s; proposal moves %u queue(s): load variance %.3g -> %.3g, busiest worker %" PRIu64 " -> %" PRIu64 " cycles: %s\n",
	       dp->cfg->rebalance_load_pct, dp->cfg->rebalance_period_s,
	       dp->last_proposal.moves, dp->last_proposal.var_before,
	       dp->last_proposal.var_after, dp->last_proposal.max_before,
	       dp->last_proposal.max_after,
	       take ? "taken" : "not worth it");
	if (!take)
		return;
	for (unsigned int i = 0; i < n; i++)
		if (to[i] != pq[i].worker)
			mv[k++] = (struct dp_move){ mv[i].port, mv[i].queue,
						    (uint16_t)to[i] };
	dp_table_lock();        /* telemetry reads the plans */
	if (dp_queues_move(dp, mv, k) == 0)
		dp->rebalances++;
	dp_table_unlock();
}

void
dp_load_tick(struct dp *dp)
{
	unsigned int k = dp_load_slot(dp->load_n);
	uint32_t busy_pct[CFG_MAX_WORKERS];

	dp->load_tsc[k] = rte_rdtsc();
	for (unsigned int i = 0; i < dp->n_workers; i++) {
		const struct dp_worker *w = &dp->workers[i];

		dp->wload[i][k].busy = __atomic_load_n(&w->busy_cycles, __ATOMIC_RELAXED);
		dp->wload[i][k].idle = __atomic_load_n(&w->idle_cycles, __ATOMIC_RELAXED);
		dp->wload[i][k].sleep = __atomic_load_n(&w->sleep_cycles, __ATOMIC_RELAXED);
	}
	for (uint16_t p = 0; p < dp_port_count(dp); p++)
		for (uint16_t q = 0; dp->ports[p].used && q < dp->ports[p].queues; q++)
			dp_queue_sums(dp, p, q, &dp->ports[p].load[q].cycles[k],
				      &dp->ports[p].load[q].frames[k]);
	dp->load_n++;
	if (dp->load_n < 2 || dp->n_workers < 2)
		return;
	dp_load_last_second(dp, busy_pct);
	if (place_trigger_step(&dp->trigger, busy_pct, dp->n_workers,
			       dp->cfg->rebalance_load_pct,
			       dp->cfg->rebalance_period_s) &&
	    dp->cfg->rebalance_auto)
		dp_rebalance(dp);
}
