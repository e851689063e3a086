/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * DWRR on fake packets (a length, a class and a sequence number): the
 * fairness bound of Shreedhar & Varghese (for two classes backlogged over
 * an interval, |sent_i/w_i - sent_j/w_j| <= Max + 2 x base quantum) after
 * every dequeue, long-run shares, FIFO order inside a class,
 * work conservation, no banked credit, no starvation, weight changes,
 * queue bounds, the shaper's byte budget and drain.  Deterministic: every
 * random choice comes from a fixed seed.
 */
#include <errno.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "qos_dwrr/dwrr.h"

struct fpkt {
	uint32_t len;
	uint32_t cls;
	uint64_t seq;
};

static uint32_t
fpkt_len(const void *p)
{
	return ((const struct fpkt *)p)->len;
}

/* xorshift64*: a fixed seed gives the same run everywhere. */
static uint64_t
rnd(uint64_t *s)
{
	*s ^= *s >> 12;
	*s ^= *s << 25;
	*s ^= *s >> 27;
	return *s * 0x2545f4914f6cdd1dULL;
}

enum mix {
	MIX_64,
	MIX_1518,
	MIX_IMIX,               /* 7:4:1 of 64, 594, 1518 */
	MIX_64_VS_1518,         /* even classes 64, odd classes 1518 */
	MIX_JUMBO,              /* 9000, base quantum 9018 */
};

static const uint32_t mix_max[] = {
	[MIX_64] = 64, [MIX_1518] = 1518, [MIX_IMIX] = 1518,
	[MIX_64_VS_1518] = 1518, [MIX_JUMBO] = 9000,
};

#define MAX_CLASSES 64
#define POP 64                  /* packets a backlogged class keeps queued */
#define BURST_MAX 32            /* < POP: a burst never empties a class */

/*
 * A closed loop: every packet dequeued from a class that is "on" comes
 * back as a new packet at its tail, so on classes stay backlogged.
 */
struct sim {
	struct dwrr *d;
	uint32_t n;
	uint32_t w[MAX_CLASSES];
	uint32_t base;
	enum mix mix;
	uint64_t rng;
	bool on[MAX_CLASSES];
	uint64_t seq_in[MAX_CLASSES];
	uint64_t seq_out[MAX_CLASSES];
	uint64_t sent[MAX_CLASSES];     /* bytes since sim_mark() */
	struct fpkt pkts[MAX_CLASSES][POP];
	struct fpkt *free_[MAX_CLASSES][POP];
	uint32_t n_free[MAX_CLASSES];
};

static uint32_t
mix_len(struct sim *s, uint32_t cls)
{
	uint64_t r;

	switch (s->mix) {
	case MIX_64:
		return 64;
	case MIX_1518:
		return 1518;
	case MIX_IMIX:
		r = rnd(&s->rng) % 12;
		return r < 7 ? 64 : r < 11 ? 594 : 1518;
	case MIX_64_VS_1518:
		return cls % 2 == 0 ? 64 : 1518;
	case MIX_JUMBO:
		return 9000;
	}
	return 0;
}

static void
sim_fill(struct sim *s, uint32_t cls)
{
	while (s->on[cls] && s->n_free[cls] > 0) {
		struct fpkt *p = s->free_[cls][--s->n_free[cls]];

		p->len = mix_len(s, cls);
		p->seq = s->seq_in[cls]++;
		assert_int_equal(dwrr_enqueue(s->d, cls, p), 0);
	}
}

static struct sim *
sim_new(uint32_t n, const uint32_t *w, enum mix mix)
{
	struct sim *s = calloc(1, sizeof(*s));
	struct dwrr_params p = {
		.n_classes = n,
		.base_quantum = mix == MIX_JUMBO ? 9018 : 1518,
		.queue_packets = POP,
		.queue_bytes = POP * 9018,
		.pkt_len = fpkt_len,
	};

	assert_non_null(s);
	assert_true(n <= MAX_CLASSES);
	s->d = dwrr_create(&p);
	assert_non_null(s->d);
	s->n = n;
	s->base = p.base_quantum;
	s->mix = mix;
	s->rng = 0x9e3779b97f4a7c15ULL;
	for (uint32_t c = 0; c < n; c++) {
		s->w[c] = w[c];
		assert_int_equal(dwrr_weight_set(s->d, c, w[c]), 0);
		for (uint32_t i = 0; i < POP; i++) {
			s->pkts[c][i].cls = c;
			s->free_[c][s->n_free[c]++] = &s->pkts[c][i];
		}
		s->on[c] = true;
		sim_fill(s, c);
	}
	return s;
}

static void
sim_free(struct sim *s)
{
	dwrr_destroy(s->d);
	free(s);
}

static void
sim_mark(struct sim *s)
{
	memset(s->sent, 0, sizeof(s->sent));
}

/* One dequeue call; checks FIFO order and puts the packets back. */
static uint32_t
sim_step(struct sim *s, uint32_t burst, uint32_t *classes_out)
{
	void *out[BURST_MAX];
	uint32_t n = dwrr_dequeue(s->d, out, burst, NULL);

	for (uint32_t i = 0; i < n; i++) {
		struct fpkt *p = out[i];

		assert_int_equal(p->seq, s->seq_out[p->cls]++);
		s->sent[p->cls] += p->len;
		s->free_[p->cls][s->n_free[p->cls]++] = p;
		if (classes_out != NULL)
			classes_out[i] = p->cls;
	}
	for (uint32_t i = 0; i < n; i++)
		sim_fill(s, ((struct fpkt *)out[i])->cls);
	return n;
}

/* The bound over the on classes: max - min of sent_i / w_i, compared in
 * integers (a/wa > b/wb  <=>  a x wb > b x wa). */
static void
check_bound(const struct sim *s)
{
	uint64_t bound = mix_max[s->mix] + 2ULL * s->base;
	int hi = -1, lo = -1;

	for (uint32_t c = 0; c < s->n; c++) {
		if (!s->on[c])
			continue;
		if (hi < 0 || s->sent[c] * s->w[hi] > s->sent[hi] * s->w[c])
			hi = (int)c;
		if (lo < 0 || s->sent[c] * s->w[lo] < s->sent[lo] * s->w[c])
			lo = (int)c;
	}
	if (hi < 0)
		return;
	if (s->sent[hi] * s->w[lo] - s->sent[lo] * s->w[hi] >
	    bound * s->w[hi] * s->w[lo])
		fail_msg("class %d sent %llu (w %u), class %d %llu (w %u)",
			 hi, (unsigned long long)s->sent[hi], s->w[hi], lo,
			 (unsigned long long)s->sent[lo], s->w[lo]);
}

/*
 * Run about `rounds` DRR rounds of the on classes.  Within one round every
 * class is within one quantum (+ Max) of its ideal, so shares are within
 * about (base + Max) / (rounds x base) of the weights: enough rounds for
 * 1 % are picked by the caller.  Burst sizes vary, so many intermediate
 * states are checked.
 */
static void
sim_run(struct sim *s, uint64_t rounds, bool bound)
{
	uint64_t target = 0, total = 0;

	for (uint32_t c = 0; c < s->n; c++)
		if (s->on[c])
			target += rounds * s->w[c] * s->base;
	while (total < target) {
		uint32_t burst = 1 + (uint32_t)(rnd(&s->rng) % BURST_MAX);
		uint32_t n = sim_step(s, burst, NULL);

		/* Work conserving: a backlog always fills the burst. */
		assert_int_equal(n, burst);
		total = 0;
		for (uint32_t c = 0; c < s->n; c++)
			total += s->sent[c];
		if (bound)
			check_bound(s);
	}
}

static uint64_t
rounds_for_1pct(const struct sim *s)
{
	/* (base + Max) / (rounds x base) <= 0.9 % */
	return (uint64_t)(s->base + mix_max[s->mix]) * 112 / s->base;
}

/* Each on class's byte share within 1 % (relative) of w_i / sum(w). */
static void
check_shares(const struct sim *s)
{
	uint64_t total = 0, wsum = 0;

	for (uint32_t c = 0; c < s->n; c++) {
		if (!s->on[c])
			continue;
		total += s->sent[c];
		wsum += s->w[c];
	}
	for (uint32_t c = 0; c < s->n; c++) {
		double share, want;

		if (!s->on[c])
			continue;
		share = (double)s->sent[c] / (double)total;
		want = (double)s->w[c] / (double)wsum;
		if (share < want * 0.99 || share > want * 1.01)
			fail_msg("class %u (weight %u): share %.6f, want %.6f",
				 c, s->w[c], share, want);
	}
}

static void
fairness(uint32_t n, const uint32_t *w)
{
	static const enum mix mixes[] = {
		MIX_64, MIX_1518, MIX_IMIX, MIX_64_VS_1518, MIX_JUMBO,
	};

	for (size_t m = 0; m < sizeof(mixes) / sizeof(mixes[0]); m++) {
		struct sim *s = sim_new(n, w, mixes[m]);

		sim_run(s, rounds_for_1pct(s), true);
		check_shares(s);
		sim_free(s);
	}
}

static void
test_fair_1_1(void **state)
{
	static const uint32_t w[] = { 1, 1 };

	(void)state;
	fairness(2, w);
}

static void
test_fair_1_2_4(void **state)
{
	static const uint32_t w[] = { 1, 2, 4 };

	(void)state;
	fairness(3, w);
}

static void
test_fair_1_10_100(void **state)
{
	static const uint32_t w[] = { 1, 10, 100 };

	(void)state;
	fairness(3, w);
}

/* 64 classes, weights 1..100 (a 1..1000 spread is covered by 1:10:100
 * and the starvation test; this one keeps the run short). */
static void
test_fair_64_random(void **state)
{
	uint32_t w[64];
	uint64_t seed = 42;

	(void)state;
	for (uint32_t c = 0; c < 64; c++)
		w[c] = 1 + (uint32_t)(rnd(&seed) % 100);
	fairness(64, w);
}

/* Classes going idle and coming back, 1:2:4 on IMIX. */
static void
test_work_conserving(void **state)
{
	static const uint32_t w[] = { 1, 2, 4 };
	struct sim *s = sim_new(3, w, MIX_IMIX);
	struct dwrr_class_stats st;
	uint32_t cls[BURST_MAX];
	uint64_t run, quantum = 4ULL * s->base;
	bool seen = false, done = false;

	(void)state;
	sim_run(s, 20, true);

	/* class 2 stops sending: what it had queued leaves... */
	s->on[2] = false;
	do {
		assert_int_equal(sim_step(s, 1, NULL), 1);
		dwrr_class_stats(s->d, 2, &st);
	} while (st.backlog_packets > 0);
	assert_int_equal(st.deficit, 0);

	/* ...and at once 0 and 1 take the whole output, 1:2 */
	sim_mark(s);
	sim_run(s, rounds_for_1pct(s), true);
	check_shares(s);
	assert_int_equal(s->sent[2], 0);

	/* class 2 is back after a long idle time: one fresh quantum, no
	 * credit banked while idle, and no penalty either */
	s->on[2] = true;
	sim_fill(s, 2);
	dwrr_class_stats(s->d, 2, &st);
	assert_int_equal(st.deficit, quantum);
	sim_mark(s);
	while (!done) {
		assert_int_equal(sim_step(s, 1, cls), 1);
		seen |= cls[0] == 2;
		done = seen && cls[0] != 2;
	}
	run = s->sent[2];       /* its first visit, until another class */
	assert_true(run <= quantum + mix_max[MIX_IMIX]);
	assert_true(run + mix_max[MIX_IMIX] > quantum);

	/* all three backlogged again: bound and shares 1:2:4 */
	sim_mark(s);
	sim_run(s, rounds_for_1pct(s), true);
	check_shares(s);
	sim_free(s);
}

/* Weight 1 against weight 1000: the small class still sends every round,
 * and between two of its visits the big one sends at most Q + Max. */
static void
test_no_starvation(void **state)
{
	static const uint32_t w[] = { 1, 1000 };
	struct sim *s = sim_new(2, w, MIX_IMIX);
	uint64_t gap = 0, visits = 0;
	uint32_t cls;

	(void)state;
	for (uint32_t i = 0; i < 1000000; i++) {
		uint64_t before = s->sent[1];

		assert_int_equal(sim_step(s, 1, &cls), 1);
		if (cls == 0) {
			visits += gap > 0;
			gap = 0;
		} else {
			gap += s->sent[1] - before;
			assert_true(gap <= 1000ULL * s->base + 1518);
		}
	}
	/* 1e6 IMIX packets are about 3.6e8 bytes, 237 rounds of 1001 x 1518 */
	assert_true(visits >= 230);
	check_shares(s);
	sim_free(s);
}

/* Shares follow a weight change made between two dequeues. */
static void
test_weight_change(void **state)
{
	static const uint32_t w[] = { 1, 2, 4 };
	struct sim *s = sim_new(3, w, MIX_IMIX);
	struct dwrr_class_stats st;

	(void)state;
	sim_run(s, rounds_for_1pct(s), true);
	check_shares(s);
	s->w[0] = 4;
	s->w[2] = 1;
	assert_int_equal(dwrr_weight_set(s->d, 0, 4), 0);
	assert_int_equal(dwrr_weight_set(s->d, 2, 1), 0);
	dwrr_class_stats(s->d, 0, &st);
	assert_int_equal(st.weight, 4);
	/* A class may hold a grant at its old weight (up to 3 quanta more
	 * than its new one here): a transient that longer runs dilute. */
	sim_mark(s);
	sim_run(s, 4 * rounds_for_1pct(s), false);
	check_shares(s);
	/* once every class has had a grant at its new weight, the bound
	 * holds again from there */
	sim_mark(s);
	sim_run(s, rounds_for_1pct(s), true);
	check_shares(s);
	sim_free(s);
}

/* A class that leaves the active list keeps none of its deficit. */
static void
test_no_banked_credit(void **state)
{
	struct dwrr_params p = {
		.n_classes = 2, .base_quantum = 1518, .queue_packets = 8,
		.queue_bytes = 100000, .pkt_len = fpkt_len,
	};
	struct dwrr *d = dwrr_create(&p);
	struct fpkt a = { .len = 64 }, b = { .len = 64 };
	struct dwrr_class_stats st;
	void *out[4];

	(void)state;
	assert_int_equal(dwrr_weight_set(d, 0, 1000), 0);
	assert_int_equal(dwrr_enqueue(d, 0, &a), 0);
	dwrr_class_stats(d, 0, &st);
	assert_int_equal(st.deficit, 1518000);
	assert_int_equal(dwrr_dequeue(d, out, 4, NULL), 1);
	dwrr_class_stats(d, 0, &st);
	assert_int_equal(st.deficit, 0);        /* not 1518000 - 64 */
	assert_int_equal(dwrr_enqueue(d, 0, &b), 0);
	dwrr_class_stats(d, 0, &st);
	assert_int_equal(st.deficit, 1518000);  /* one quantum, no more */
	dwrr_destroy(d);
}

static void
test_queue_bounds(void **state)
{
	struct dwrr_params p = {
		.n_classes = 2, .base_quantum = 1518, .queue_packets = 8,
		.queue_bytes = 10000, .pkt_len = fpkt_len,
	};
	struct dwrr *d = dwrr_create(&p);
	struct fpkt small[9], big[7], fit = { .len = 828 }, one = { .len = 1 };
	struct dwrr_class_stats st;
	void *out[16];

	(void)state;
	/* the packet bound: 8 packets, the 9th is dropped and counted */
	for (int i = 0; i < 9; i++) {
		small[i].len = 64;
		assert_int_equal(dwrr_enqueue(d, 0, &small[i]),
				 i < 8 ? 0 : -ENOBUFS);
	}
	dwrr_class_stats(d, 0, &st);
	assert_int_equal(st.backlog_packets, 8);
	assert_int_equal(st.backlog_bytes, 8 * 64);
	assert_int_equal(st.enqueued_packets, 8);
	assert_int_equal(st.dropped_packets, 1);
	assert_int_equal(st.dropped_bytes, 64);

	/* the byte bound: 6 x 1518 = 9108 fit, a 7th would make 10626 */
	for (int i = 0; i < 7; i++) {
		big[i].len = 1518;
		assert_int_equal(dwrr_enqueue(d, 1, &big[i]),
				 i < 6 ? 0 : -ENOBUFS);
	}
	/* 9108 + 64 + 828 is exactly the bound; one byte more is not */
	assert_int_equal(dwrr_enqueue(d, 1, &small[8]), 0);
	assert_int_equal(dwrr_enqueue(d, 1, &fit), 0);
	assert_int_equal(dwrr_enqueue(d, 1, &one), -ENOBUFS);
	dwrr_class_stats(d, 1, &st);
	assert_int_equal(st.backlog_bytes, 10000);
	assert_int_equal(st.dropped_packets, 2);
	assert_int_equal(st.dropped_bytes, 1518 + 1);
	assert_int_equal(dwrr_backlog_packets(d), 16);

	/* sending makes room again */
	assert_int_equal(dwrr_dequeue(d, out, 16, NULL), 16);
	assert_int_equal(dwrr_enqueue(d, 1, &one), 0);
	assert_int_equal(dwrr_backlog_packets(d), 1);
	dwrr_class_stats(d, 1, &st);
	assert_int_equal(st.sent_packets, 8);
	assert_int_equal(st.sent_bytes, 10000);
	dwrr_destroy(d);
}

static void
test_bad_params(void **state)
{
	const struct dwrr_params good = {
		.n_classes = 4, .base_quantum = 1518, .queue_packets = 64,
		.queue_bytes = 65536, .pkt_len = fpkt_len,
	};
	struct dwrr_params bad[10];
	struct dwrr *d;

	(void)state;
	for (int i = 0; i < 10; i++)
		bad[i] = good;
	bad[0].n_classes = 0;
	bad[1].n_classes = DWRR_CLASSES_MAX + 1;
	bad[2].base_quantum = DWRR_QUANTUM_MIN - 1;
	bad[3].base_quantum = DWRR_QUANTUM_MAX + 1;
	bad[4].queue_packets = 0;
	bad[5].queue_packets = DWRR_QUEUE_PACKETS_MAX + 1;
	bad[6].queue_bytes = good.base_quantum - 1;
	bad[7].pkt_len = NULL;
	bad[8].n_classes = UINT32_MAX;
	bad[9].base_quantum = 0;
	for (int i = 0; i < 10; i++) {
		errno = 0;
		assert_null(dwrr_create(&bad[i]));
		assert_int_equal(errno, EINVAL);
	}
	errno = 0;
	assert_null(dwrr_create(NULL));
	assert_int_equal(errno, EINVAL);
	dwrr_destroy(NULL);

	/* the edges are good */
	bad[0] = good;
	bad[0].n_classes = 1;
	bad[0].base_quantum = DWRR_QUANTUM_MIN;
	bad[0].queue_packets = 1;
	bad[0].queue_bytes = DWRR_QUANTUM_MIN;
	d = dwrr_create(&bad[0]);
	assert_non_null(d);
	assert_int_equal(dwrr_class_count(d), 1);
	dwrr_destroy(d);
	bad[0] = good;
	bad[0].n_classes = DWRR_CLASSES_MAX;
	bad[0].queue_packets = 3;       /* rounded up to a ring of 4 */
	d = dwrr_create(&bad[0]);
	assert_non_null(d);
	assert_int_equal(dwrr_class_count(d), DWRR_CLASSES_MAX);
	dwrr_destroy(d);
}

static void
test_enoent_einval(void **state)
{
	struct dwrr_params p = {
		.n_classes = 4, .base_quantum = 1518, .queue_packets = 4,
		.queue_bytes = 65536, .pkt_len = fpkt_len,
	};
	struct dwrr *d = dwrr_create(&p);
	struct fpkt a = { .len = 100 };
	struct dwrr_class_stats st;

	(void)state;
	assert_int_equal(dwrr_enqueue(d, 4, &a), -ENOENT);
	assert_int_equal(dwrr_enqueue(d, UINT32_MAX, &a), -ENOENT);
	assert_int_equal(dwrr_weight_set(d, 4, 10), -ENOENT);
	assert_int_equal(dwrr_class_stats(d, 4, &st), -ENOENT);
	assert_int_equal(dwrr_class_stats(d, 0, NULL), -EINVAL);
	assert_int_equal(dwrr_class_stats(NULL, 0, &st), -EINVAL);
	assert_int_equal(dwrr_weight_set(NULL, 0, 10), -EINVAL);
	/* weights outside 1..1000 change nothing */
	assert_int_equal(dwrr_weight_set(d, 1, 7), 0);
	assert_int_equal(dwrr_weight_set(d, 1, 0), -EINVAL);
	assert_int_equal(dwrr_weight_set(d, 1, DWRR_WEIGHT_MAX + 1), -EINVAL);
	assert_int_equal(dwrr_class_stats(d, 1, &st), 0);
	assert_int_equal(st.weight, 7);
	assert_int_equal(dwrr_weight_set(d, 1, DWRR_WEIGHT_MAX), 0);
	assert_int_equal(dwrr_class_stats(d, 0, &st), 0);
	assert_int_equal(st.weight, 1);         /* the default */
	assert_int_equal(dwrr_backlog_packets(d), 0);
	dwrr_destroy(d);
}

/*
 * The shaper's budget: the same traffic dequeued once without a limit and
 * once with small random budgets comes out in the same order (stopping on
 * the budget loses no state), and no call returns more than its budget.
 */
static void
test_budget(void **state)
{
	struct dwrr_params p = {
		.n_classes = 3, .base_quantum = 1518, .queue_packets = 512,
		.queue_bytes = 1 << 20, .pkt_len = fpkt_len,
	};
	static struct fpkt pk[3][500];
	struct dwrr *ref = dwrr_create(&p), *d = dwrr_create(&p);
	void *want[1500], *got[1500];
	uint32_t n_want = 0, n_got = 0, stops = 0;
	uint64_t rng = 7;

	(void)state;
	for (uint32_t c = 0; c < 3; c++) {
		assert_int_equal(dwrr_weight_set(ref, c, 1 + 2 * c), 0);
		assert_int_equal(dwrr_weight_set(d, c, 1 + 2 * c), 0);
	}
	for (uint32_t i = 0; i < 500; i++) {
		for (uint32_t c = 0; c < 3; c++) {
			uint64_t r = rnd(&rng) % 12;

			pk[c][i].len = r < 7 ? 64 : r < 11 ? 594 : 1518;
			assert_int_equal(dwrr_enqueue(ref, c, &pk[c][i]), 0);
			assert_int_equal(dwrr_enqueue(d, c, &pk[c][i]), 0);
		}
	}
	while (n_want < 1500) {
		uint32_t n = dwrr_dequeue(ref, want + n_want, 7, NULL);

		assert_true(n > 0);
		n_want += n;
	}
	/* a budget of nothing sends nothing */
	{
		uint64_t zero = 0;

		assert_int_equal(dwrr_dequeue(d, got, 32, &zero), 0);
		assert_int_equal(zero, 0);
	}
	while (n_got < 1500) {
		uint64_t budget = rnd(&rng) % 3000, left = budget, bytes = 0;
		uint32_t n = dwrr_dequeue(d, got + n_got, 32, &left);

		for (uint32_t i = 0; i < n; i++)
			bytes += fpkt_len(got[n_got + i]);
		assert_true(bytes <= budget);
		assert_int_equal(left, budget - bytes);
		n_got += n;
		/* stopped short: the next packet is longer than what is left */
		if (n < 32 && n_got < 1500) {
			assert_true(fpkt_len(want[n_got]) > left);
			stops++;
		}
	}
	assert_true(stops > 100);
	assert_memory_equal(want, got, sizeof(want));
	assert_int_equal(dwrr_backlog_packets(d), 0);
	dwrr_destroy(ref);
	dwrr_destroy(d);
}

static void
test_drain(void **state)
{
	struct dwrr_params p = {
		.n_classes = 5, .base_quantum = 1518, .queue_packets = 100,
		.queue_bytes = 1 << 20, .pkt_len = fpkt_len,
	};
	struct dwrr *d = dwrr_create(&p);
	static struct fpkt pk[5][100];
	uint8_t seen[5][100] = { { 0 } };
	struct dwrr_class_stats st;
	void *out[500];
	uint32_t n, total = 0, sent;

	(void)state;
	for (uint32_t c = 0; c < 5; c++) {
		dwrr_weight_set(d, c, c + 1);
		for (uint32_t i = 0; i < 100 - 10 * c; i++) {
			pk[c][i] = (struct fpkt){ .len = 64 + 100 * c + i,
						  .cls = c, .seq = i };
			assert_int_equal(dwrr_enqueue(d, c, &pk[c][i]), 0);
		}
	}
	/* 400 queued; send some, then drain the rest three at a time */
	sent = dwrr_dequeue(d, out, 77, NULL);
	assert_int_equal(sent, 77);
	for (uint32_t i = 0; i < sent; i++) {
		struct fpkt *f = out[i];

		seen[f->cls][f->seq]++;
	}
	while ((n = dwrr_drain(d, out, 3)) > 0) {
		assert_true(n <= 3);
		for (uint32_t i = 0; i < n; i++) {
			struct fpkt *f = out[i];

			seen[f->cls][f->seq]++;
		}
		total += n;
	}
	assert_int_equal(sent + total, 400);
	for (uint32_t c = 0; c < 5; c++)
		for (uint32_t i = 0; i < 100 - 10 * c; i++)
			assert_int_equal(seen[c][i], 1);
	assert_int_equal(dwrr_backlog_packets(d), 0);
	assert_int_equal(dwrr_dequeue(d, out, 10, NULL), 0);
	for (uint32_t c = 0; c < 5; c++) {
		dwrr_class_stats(d, c, &st);
		assert_int_equal(st.backlog_packets, 0);
		assert_int_equal(st.backlog_bytes, 0);
		assert_int_equal(st.deficit, 0);
		assert_int_equal(st.enqueued_packets,
				 st.sent_packets + st.drained_packets);
		assert_int_equal(st.enqueued_bytes,
				 st.sent_bytes + st.drained_bytes);
	}
	/* and the scheduler works as new afterwards */
	assert_int_equal(dwrr_enqueue(d, 4, &pk[4][0]), 0);
	assert_int_equal(dwrr_enqueue(d, 2, &pk[2][0]), 0);
	assert_int_equal(dwrr_dequeue(d, out, 10, NULL), 2);
	assert_ptr_equal(out[0], &pk[4][0]);
	assert_ptr_equal(out[1], &pk[2][0]);
	dwrr_destroy(d);
}

/*
 * The control thread changes weights and reads counters while the owner
 * schedules (run this binary under TSan to check the atomics).
 */
struct ctl_arg {
	struct dwrr *d;
	atomic_bool stop;
};

static void *
ctl_thread(void *arg)
{
	struct ctl_arg *a = arg;
	struct dwrr_class_stats st;
	uint32_t w = 1;

	while (!atomic_load_explicit(&a->stop, memory_order_relaxed)) {
		for (uint32_t c = 0; c < 4; c++) {
			assert_int_equal(dwrr_weight_set(a->d, c, w), 0);
			assert_int_equal(dwrr_class_stats(a->d, c, &st), 0);
		}
		w = w % DWRR_WEIGHT_MAX + 1;
	}
	return NULL;
}

static void
test_weight_set_concurrent(void **state)
{
	static const uint32_t w[] = { 1, 1, 1, 1 };
	struct sim *s = sim_new(4, w, MIX_IMIX);
	struct ctl_arg a = { .d = s->d };
	pthread_t t;

	(void)state;
	atomic_init(&a.stop, false);
	assert_int_equal(pthread_create(&t, NULL, ctl_thread, &a), 0);
	for (int i = 0; i < 50000; i++)
		assert_int_equal(sim_step(s, BURST_MAX, NULL), BURST_MAX);
	atomic_store_explicit(&a.stop, true, memory_order_relaxed);
	assert_int_equal(pthread_join(t, NULL), 0);
	sim_free(s);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_fair_1_1),
		cmocka_unit_test(test_fair_1_2_4),
		cmocka_unit_test(test_fair_1_10_100),
		cmocka_unit_test(test_fair_64_random),
		cmocka_unit_test(test_work_conserving),
		cmocka_unit_test(test_no_starvation),
		cmocka_unit_test(test_weight_change),
		cmocka_unit_test(test_no_banked_credit),
		cmocka_unit_test(test_queue_bounds),
		cmocka_unit_test(test_bad_params),
		cmocka_unit_test(test_enoent_einval),
		cmocka_unit_test(test_budget),
		cmocka_unit_test(test_drain),
		cmocka_unit_test(test_weight_set_concurrent),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
