/* SPDX-License-Identifier: BSD-3-Clause */
/* Queue placement and rebalancing decisions (rules in place.h). */
#include "place.h"

#include <errno.h>
#include <stdlib.h>

int
place_new(struct place_queue *q, unsigned int n, unsigned int n_workers,
	  unsigned int cap)
{
	uint64_t load[PLACE_WORKERS_MAX] = { 0 }, sum = 0, mean;
	unsigned int count[PLACE_WORKERS_MAX] = { 0 }, placed = 0;
	int rc = 0;

	if (n_workers == 0 || n_workers > PLACE_WORKERS_MAX)
		return -EINVAL;
	for (unsigned int i = 0; i < n; i++) {
		if (q[i].worker < 0 || (unsigned int)q[i].worker >= n_workers)
			continue;
		load[q[i].worker] += q[i].load;
		count[q[i].worker]++;
		sum += q[i].load;
		placed++;
	}
	mean = placed > 0 ? sum / placed : 0;
	for (unsigned int i = 0; i < n; i++) {
		int best = -1;

		if (q[i].worker != PLACE_NONE)
			continue;
		for (unsigned int w = 0; w < n_workers; w++) {
			if (count[w] >= cap)
				continue;
			if (best < 0 || load[w] < load[best] ||
			    (load[w] == load[best] && count[w] < count[best]))
				best = (int)w;
		}
		if (best < 0) {
			rc = -E2BIG;
			continue;
		}
		q[i].worker = (int16_t)best;
		load[best] += mean;
		count[best]++;
	}
	return rc;
}

static double
place_variance(const uint64_t *load, unsigned int n_workers)
{
	double mean = 0, var = 0;

	for (unsigned int w = 0; w < n_workers; w++)
		mean += (double)load[w];
	mean /= n_workers;
	for (unsigned int w = 0; w < n_workers; w++)
		var += ((double)load[w] - mean) * ((double)load[w] - mean);
	return var / n_workers;
}

static const struct place_queue *place_sort_q;

static int
place_by_load(const void *a, const void *b)
{
	const struct place_queue *qa = &place_sort_q[*(const unsigned int *)a];
	const struct place_queue *qb = &place_sort_q[*(const unsigned int *)b];

	if (qa->load != qb->load)
		return qa->load > qb->load ? -1 : 1;
	/* Stable: the order they came in. */
	return *(const unsigned int *)a < *(const unsigned int *)b ? -1 : 1;
}

bool
place_rebalance(const struct place_queue *q, unsigned int n,
		unsigned int n_workers, unsigned int cap,
		uint32_t improvement_pct, int16_t *to,
		struct place_proposal *pr)
{
	uint64_t before[PLACE_WORKERS_MAX] = { 0 }, after[PLACE_WORKERS_MAX] = { 0 };
	unsigned int count[PLACE_WORKERS_MAX] = { 0 };
	unsigned int *order;

	*pr = (struct place_proposal){ 0 };
	if (n_workers < 2 || n_workers > PLACE_WORKERS_MAX || n == 0)
		return false;
	order = malloc(n * sizeof(*order));
	if (order == NULL)
		return false;
	for (unsigned int i = 0; i < n; i++) {
		order[i] = i;
		to[i] = q[i].worker;
		if (q[i].worker < 0 || (unsigned int)q[i].worker >= n_workers)
			continue;
		before[q[i].worker] += q[i].load;
		if (q[i].pinned) {
			after[q[i].worker] += q[i].load;
			count[q[i].worker]++;
		}
	}
	place_sort_q = q;
	qsort(order, n, sizeof(*order), place_by_load);
	for (unsigned int k = 0; k < n; k++) {
		unsigned int i = order[k];
		int cur = q[i].worker, best = -1;

		if (q[i].pinned || cur < 0 || (unsigned int)cur >= n_workers)
			continue;
		for (unsigned int w = 0; w < n_workers; w++) {
			if (count[w] >= cap)
				continue;
			if (best < 0 || after[w] < after[best] ||
			    (after[w] == after[best] && (int)w == cur))
				best = (int)w;
		}
		if (best < 0)
			best = cur;
		to[i] = (int16_t)best;
		after[best] += q[i].load;
		count[best]++;
		pr->moves += best != cur;
	}
	free(order);
	pr->var_before = place_variance(before, n_workers);
	pr->var_after = place_variance(after, n_workers);
	for (unsigned int w = 0; w < n_workers; w++) {
		if (before[w] > pr->max_before)
			pr->max_before = before[w];
		if (after[w] > pr->max_after)
			pr->max_after = after[w];
	}
	return pr->moves > 0 && pr->var_before > 0 &&
	       (pr->var_before - pr->var_after) * 100 >=
	       pr->var_before * improvement_pct &&
	       pr->max_after * 100 <= pr->max_before * (100 - PLACE_MIN_RELIEF_PCT);
}

bool
place_trigger_step(struct place_trigger *t, const uint32_t *busy_pct,
		   unsigned int n_workers, uint32_t load_pct, uint32_t period_s)
{
	bool ask = false;

	if (t->quiet_s < UINT32_MAX)
		t->quiet_s++;
	for (unsigned int w = 0; w < n_workers && w < PLACE_WORKERS_MAX; w++) {
		t->over_s[w] = busy_pct[w] >= load_pct ? t->over_s[w] + 1 : 0;
		if (t->over_s[w] >= period_s && t->quiet_s >= period_s)
			ask = true;
	}
	if (ask)
		t->quiet_s = 0;
	return ask;
}
