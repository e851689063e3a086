/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * coring (the co-resident channel's MP/MC ring) on a real EAL, with real
 * mbufs from a real pktmbuf pool.
 *
 * The stress: W writers and R readers, each an EAL worker lcore, push
 * millions of frames through ONE ring made by coring_create().  Each writer
 * owns FLOWS_PER_WRITER flows; each frame carries (flow, seq, check) in its
 * data.  Writers enqueue bursts of 1..32 frames and retry (counted) while
 * the ring is full.  Readers dequeue bursts, check every frame and free it:
 *   - the tag is intact and the mbuf comes from the test's pool;
 *   - per reader, each flow's seq strictly increases (no reordering as any
 *     one reader sees it; coring.h promises no more than that);
 *   - a shared per-flow bitmap, set with an atomic fetch-or, shows no frame
 *     twice (no duplicates);
 * and at the end every (flow, seq) was seen exactly once (nothing lost),
 * the ring is empty and the pool has every mbuf back (nothing leaked).
 * Readers and writers never call cmocka (its asserts longjmp, which is
 * only valid on the main thread): they count and describe what they saw,
 * and the main lcore asserts once everybody has stopped.
 *
 * Runs: 1 writer x 1 reader (the baseline, one CPU each), 2 x 2 on the
 * default ring (4096), and 2 x 2 on the smallest ring (64: full and empty
 * all the time, indexes wrapping every 64 frames).  Before them: the API's
 * errors, and coring_drain() against a partly filled ring and racing two
 * readers.
 *
 * Oversubscription on purpose: this machine (and CI) has 2 CPUs, and EAL
 * maps 5 lcores onto them (--lcores=0@A,1@A,2@B,3@A,4@B, A and B the first
 * two CPUs we may run on), so the 2x2 runs have four busy-polling threads
 * on two CPUs, a writer and a reader on each.  An MP/MC ring stalls every
 * later writer (or reader) while one that reserved slots is preempted
 * before publishing them, for up to a time slice: here that can happen at
 * every scheduler tick, and must cost time only, never a frame.  (Waiting
 * on a full or empty ring, writers and readers spin and now and then
 * yield: see backoff().)
 *
 * The frames/s printed for 1x1 and 2x2 are for the notes, not asserted,
 * and on 2 CPUs they cannot show scaling: the 1x1 run already has a CPU
 * per thread, 2x2 doubles the threads on the same CPUs, and what it gets
 * depends on the scheduler (a writer and a reader sharing a CPU hand over
 * whole ring-fulls, cache-hot, which can even beat 1x1; a writer preempted
 * mid-enqueue costs everyone a time slice) and on whatever else runs on
 * the machine: from run to run the numbers vary by 2x and more.  They only
 * mean something on dedicated CPUs, as vtoed's workers have.  The whole
 * test takes a few seconds here (about 10 under ASan), so the default
 * frame count need not be cut down to fit the time.
 *
 * It can fail: a reader that skips one frame (lost), forgets to free one
 * (leak), swaps two of a burst (reordered) or checks one twice (seen
 * twice) fails it, and so does coring.c creating its ring single-producer
 * single-consumer (RING_F_SP_ENQ | RING_F_SC_DEQ): the drain and both 2x2
 * runs then see duplicates, losses and reordering, the 1x1 run rightly not.
 *
 * Frames: CORING_STRESS_FRAMES (default 4 Mi, per run; the small ring
 * runs a quarter of it) in the environment overrides the count.  The test
 * does not depend on timing to pass, but a run that has not finished after
 * RUN_DEADLINE_S fails instead of hanging (the meson timeout is the last
 * resort).
 */
#include <errno.h>
#include <inttypes.h>
#include <sched.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include <rte_common.h>
#include <rte_eal.h>
#include <rte_launch.h>
#include <rte_lcore.h>
#include <rte_mbuf.h>
#include <rte_mempool.h>
#include <rte_pause.h>
#include <rte_ring.h>

#include "dataplane/coring.h"

#define N_LCORES 5                  /* main + 4 workers */
#define MAX_WRITERS 2
#define MAX_READERS 2
#define FLOWS_PER_WRITER 8
#define MAX_FLOWS (MAX_WRITERS * FLOWS_PER_WRITER)
#define BURST_MAX 32
/*
 * In flight at most: the ring (4095), a burst per writer and per reader,
 * and what the lcores' mempool caches hold (up to 1.5 x cache each).
 */
#define POOL_MBUFS 16383u
#define POOL_CACHE 256u
#define DEFAULT_FRAMES (4u << 20)
#define RUN_DEADLINE_S 45
#define DRAIN_ROUNDS 16
#define TAG_MAGIC 0xc0e1a6u

/* What a frame carries, at the start of its data. */
struct tag {
	uint32_t magic;
	uint32_t flow;
	uint64_t seq;
	uint64_t check;
};

static uint64_t
tag_check(uint32_t flow, uint64_t seq)
{
	uint64_t x = seq * 0x9e3779b97f4a7c15ull ^ ((uint64_t)flow << 48 | TAG_MAGIC);

	x ^= x >> 31;
	return x * 0xbf58476d1ce4e5b9ull;
}

struct writer_stats {
	uint64_t frames;
	uint64_t bursts;
	uint64_t full_retries;          /* enqueue took less than the burst */
	uint64_t alloc_retries;         /* the pool was (momentarily) empty */
	bool aborted;
} __rte_cache_aligned;

struct reader_stats {
	uint64_t frames;
	uint64_t bursts;
	uint64_t empty_polls;
	uint64_t reorders;
	uint64_t dups;
	uint64_t bad;                   /* foreign mbuf, bad length or tag */
	int64_t last[MAX_FLOWS];        /* last seq seen per flow, -1: none */
	char first_error[160];
} __rte_cache_aligned;

enum role { IDLE, WRITER, READER };

struct lcore_job {
	enum role role;
	unsigned int index;             /* writer or reader number */
	uint64_t frames;                /* writer: how many to send */
};

static struct stress {
	struct rte_mempool *pool;
	struct rte_ring *ring;
	unsigned int n_writers;         /* of this run: readers stop when all
					 * of them are done and the ring is empty */
	uint64_t per_flow;              /* frames of each flow */
	size_t words_per_flow;          /* of the bitmap */
	uint64_t *seen;                 /* MAX_FLOWS x words_per_flow bits */
	unsigned int writers_done;      /* atomic */
	unsigned int lcores_done;       /* atomic */
	bool abort;                     /* atomic: the deadline passed */
	bool go;                        /* atomic: start (all at once) */
	struct writer_stats ws[MAX_WRITERS];
	struct reader_stats rs[MAX_READERS];
	struct lcore_job job[RTE_MAX_LCORE];
} st;

static unsigned int workers[N_LCORES - 1];  /* worker lcore ids, in order */
static uint64_t stress_frames = DEFAULT_FRAMES;

/* ------------------------------------------------------------- writers */

static uint64_t
xorshift(uint64_t *s)
{
	uint64_t x = *s;

	x ^= x << 13;
	x ^= x >> 7;
	x ^= x << 17;
	return *s = x;
}

static bool
aborted(void)
{
	return __atomic_load_n(&st.abort, __ATOMIC_RELAXED);
}

/*
 * Wait a little before retrying a full (writer) or empty (reader) ring:
 * spin, as a worker does, but after yield_after failed tries in a row
 * (some tens of microseconds) give the CPU away.  With the threads
 * oversubscribed, the reader that would make room (or the writer that
 * would fill the ring) is often waiting for this very CPU, and spinning
 * on burns the rest of the time slice: on a loaded 2-CPU machine, pure
 * spinning made single runs take 15 s instead of 1.  That is the test's
 * doing, not the ring's: a writer or reader preempted inside the ring
 * still stalls the others there, spinning, as it would in vtoed.
 * CORING_STRESS_YIELD_AFTER=0 spins only (the workers' way).
 */
static unsigned int yield_after = 1024;

static void
backoff(unsigned int *spins)
{
	if (yield_after != 0 && ++*spins >= yield_after) {
		*spins = 0;
		sched_yield();
	} else {
		rte_pause();
	}
}

/*
 * Send job->frames frames, spread at random over the writer's flows, in
 * bursts of 1..BURST_MAX, each burst enqueued whole (the rest retried)
 * before the next is made: a flow's frames enter the ring in seq order.
 */
static void
writer_run(const struct lcore_job *job)
{
	struct writer_stats *ws = &st.ws[job->index];
	uint32_t first_flow = job->index * FLOWS_PER_WRITER;
	uint64_t next[FLOWS_PER_WRITER] = { 0 };
	unsigned int active[FLOWS_PER_WRITER], n_active = FLOWS_PER_WRITER;
	uint64_t rng = 0x5eed0000u + job->index * 7919u + 1;
	uint64_t left = job->frames;
	unsigned int spins = 0;         /* failed tries in a row */
	struct rte_mbuf *pkts[BURST_MAX];

	for (unsigned int i = 0; i < FLOWS_PER_WRITER; i++)
		active[i] = i;
	while (left > 0 && n_active > 0) {
		unsigned int n = 1 + (unsigned int)(xorshift(&rng) % BURST_MAX);
		unsigned int done = 0;

		if (n > left)
			n = (unsigned int)left;
		while (rte_pktmbuf_alloc_bulk(st.pool, pkts, n) != 0) {
			ws->alloc_retries++;
			if (aborted())
				goto abort;
			rte_pause();
		}
		for (unsigned int i = 0; i < n; i++) {
			unsigned int j = (unsigned int)(xorshift(&rng) % n_active);
			unsigned int f = active[j];
			struct tag t = {
				.magic = TAG_MAGIC,
				.flow = first_flow + f,
				.seq = next[f]++,
			};
			char *d = rte_pktmbuf_append(pkts[i], sizeof(t));

			if (next[f] == st.per_flow)
				active[j] = active[--n_active];
			t.check = tag_check(t.flow, t.seq);
			if (d == NULL) {    /* cannot happen: 24 B in 2 KiB */
				rte_pktmbuf_free_bulk(pkts, n);
				ws->aborted = true;
				goto abort;
			}
			memcpy(d, &t, sizeof(t));
			if (n_active == 0 && i + 1 < n) {
				/* cannot happen: frames <= flows x per_flow */
				rte_pktmbuf_free_bulk(pkts, n);
				ws->aborted = true;
				goto abort;
			}
		}
		for (;;) {
			done += rte_ring_enqueue_burst(st.ring,
						       (void *const *)&pkts[done],
						       n - done, NULL);
			if (done == n)
				break;
			if (aborted()) {
				rte_pktmbuf_free_bulk(&pkts[done], n - done);
				ws->frames += done;
				goto abort;
			}
			ws->full_retries++;
			backoff(&spins);
		}
		spins = 0;
		ws->frames += n;
		ws->bursts++;
		left -= n;
	}
	__atomic_add_fetch(&st.writers_done, 1, __ATOMIC_RELEASE);
	return;
abort:
	ws->aborted = true;
	__atomic_add_fetch(&st.writers_done, 1, __ATOMIC_RELEASE);
}

/* ------------------------------------------------------------- readers */

static void __attribute__((format(printf, 2, 3)))
reader_error(struct reader_stats *rs, const char *fmt, ...)
{
	va_list ap;

	if (rs->first_error[0] != '\0')
		return;
	va_start(ap, fmt);
	vsnprintf(rs->first_error, sizeof(rs->first_error), fmt, ap);
	va_end(ap);
}

/* Every check a reader makes on one frame. */
static void
reader_check(struct reader_stats *rs, const struct rte_mbuf *m)
{
	struct tag t;
	uint64_t bit, old;

	if (m->pool != st.pool || m->nb_segs != 1 ||
	    rte_pktmbuf_data_len(m) != sizeof(t)) {
		rs->bad++;
		reader_error(rs, "foreign or malformed mbuf %p (pool %p, len %u)",
			     (const void *)m, (void *)m->pool,
			     rte_pktmbuf_data_len(m));
		return;
	}
	memcpy(&t, rte_pktmbuf_mtod(m, const void *), sizeof(t));
	if (t.magic != TAG_MAGIC || t.flow >= MAX_FLOWS ||
	    t.seq >= st.per_flow || t.check != tag_check(t.flow, t.seq)) {
		rs->bad++;
		reader_error(rs, "corrupt tag: magic %#x flow %u seq %" PRIu64,
			     t.magic, t.flow, t.seq);
		return;
	}
	if ((int64_t)t.seq <= rs->last[t.flow]) {
		rs->reorders++;
		reader_error(rs, "flow %u: seq %" PRIu64 " after %" PRId64,
			     t.flow, t.seq, rs->last[t.flow]);
	}
	rs->last[t.flow] = (int64_t)t.seq;
	bit = 1ull << (t.seq % 64);
	old = __atomic_fetch_or(&st.seen[t.flow * st.words_per_flow + t.seq / 64],
				bit, __ATOMIC_RELAXED);
	if (old & bit) {
		rs->dups++;
		reader_error(rs, "flow %u: seq %" PRIu64 " seen twice",
			     t.flow, t.seq);
	}
	rs->frames++;
}

/*
 * Dequeue, check and free until every writer of the run is done and the
 * ring is found empty after that (whatever another reader reserved
 * meanwhile, it checks itself).
 */
static void
reader_run(const struct lcore_job *job)
{
	struct reader_stats *rs = &st.rs[job->index];
	struct rte_mbuf *pkts[BURST_MAX];
	uint64_t rng = 0xbeef0000u + job->index * 104729u + 1;
	unsigned int spins = 0;         /* empty polls in a row */

	for (unsigned int f = 0; f < MAX_FLOWS; f++)
		rs->last[f] = -1;
	for (;;) {
		unsigned int want = 1 + (unsigned int)(xorshift(&rng) % BURST_MAX);
		unsigned int n = rte_ring_dequeue_burst(st.ring, (void **)pkts,
							want, NULL);

		if (n == 0) {
			if (aborted())
				return;
			if (__atomic_load_n(&st.writers_done, __ATOMIC_ACQUIRE) <
			    st.n_writers) {
				rs->empty_polls++;
				backoff(&spins);
				continue;
			}
			n = rte_ring_dequeue_burst(st.ring, (void **)pkts, want,
						   NULL);
			if (n == 0)
				return;
		}
		spins = 0;
		for (unsigned int i = 0; i < n; i++)
			reader_check(rs, pkts[i]);
		rte_pktmbuf_free_bulk(pkts, n);
		rs->bursts++;
	}
}

static int
lcore_main(void *arg)
{
	const struct lcore_job *job = arg;

	while (!__atomic_load_n(&st.go, __ATOMIC_ACQUIRE))
		rte_pause();
	if (job->role == WRITER)
		writer_run(job);
	else if (job->role == READER)
		reader_run(job);
	__atomic_add_fetch(&st.lcores_done, 1, __ATOMIC_RELEASE);
	return 0;
}

/* ------------------------------------------------------------ harness */

static double
now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Fresh counters and bitmap for a run whose flows have per_flow frames. */
static void
run_reset(uint64_t per_flow)
{
	free(st.seen);
	memset(st.ws, 0, sizeof(st.ws));
	memset(st.rs, 0, sizeof(st.rs));
	memset(st.job, 0, sizeof(st.job));
	st.per_flow = per_flow;
	st.words_per_flow = (size_t)((per_flow + 63) / 64);
	st.seen = calloc(MAX_FLOWS * st.words_per_flow, sizeof(*st.seen));
	st.writers_done = 0;
	st.lcores_done = 0;
	st.abort = false;
	st.go = false;
	st.n_writers = 0;
}

/*
 * Launch the writers on the first n_writers workers and the readers on
 * the next n_readers, each writer sending frames[w]; wait (on the main
 * lcore, sleeping: it shares a CPU) until all have returned, or abort
 * them at the deadline.  Returns the seconds it took, < 0 on abort.
 */
static double
run(unsigned int n_writers, unsigned int n_readers, const uint64_t *frames)
{
	unsigned int launched = 0;
	double t0, deadline;
	bool late = false;

	assert_true(n_writers <= MAX_WRITERS && n_readers <= MAX_READERS);
	assert_true(n_writers + n_readers <= RTE_DIM(workers));
	st.n_writers = n_writers;
	__atomic_store_n(&st.writers_done, 0, __ATOMIC_RELAXED);
	__atomic_store_n(&st.lcores_done, 0, __ATOMIC_RELAXED);
	for (unsigned int i = 0; i < n_writers + n_readers; i++) {
		struct lcore_job *job = &st.job[workers[i]];

		job->role = i < n_writers ? WRITER : READER;
		job->index = i < n_writers ? i : i - n_writers;
		job->frames = i < n_writers ? frames[i] : 0;
	}
	__atomic_store_n(&st.go, false, __ATOMIC_RELAXED);
	for (unsigned int i = 0; i < n_writers + n_readers; i++) {
		if (rte_eal_remote_launch(lcore_main, &st.job[workers[i]],
					  workers[i]) != 0)
			break;
		launched++;
	}
	if (launched < n_writers + n_readers)
		__atomic_store_n(&st.abort, true, __ATOMIC_RELAXED);
	t0 = now_s();
	deadline = t0 + RUN_DEADLINE_S;
	__atomic_store_n(&st.go, true, __ATOMIC_RELEASE);
	while (__atomic_load_n(&st.lcores_done, __ATOMIC_ACQUIRE) < launched) {
		if (!late && now_s() > deadline) {
			late = true;
			__atomic_store_n(&st.abort, true, __ATOMIC_RELAXED);
		}
		usleep(2000);
	}
	rte_eal_mp_wait_lcore();
	if (late || launched < n_writers + n_readers) {
		/* Whatever the aborted run left in the ring goes back. */
		(void)coring_drain(st.ring);
		return -1;
	}
	return now_s() - t0;
}

/* ------------------------------------------------------------- groups */

/* *out = the environment's `name` if set (min..max), else left alone. */
static int
env_u64(const char *name, uint64_t min, uint64_t max, uint64_t *out)
{
	const char *env = getenv(name);
	unsigned long long v;
	char *end;

	if (env == NULL || *env == '\0')
		return 0;
	errno = 0;
	v = strtoull(env, &end, 0);
	if (errno != 0 || *end != '\0' || v < min || v > max) {
		fprintf(stderr, "test_coring: bad %s=%s\n", name, env);
		return -1;
	}
	*out = v;
	return 0;
}

static int
group_setup(void **state)
{
	static char args[8][64] = {
		"test_coring", "--no-huge", "-m", "256", "--no-pci",
		"--no-shconf", "--file-prefix=coringtest",
	};
	char *argv[RTE_DIM(args)];
	int cpu[2] = { -1, -1 }, n = 0;
	unsigned int w = 0, lc;
	cpu_set_t set;
	uint64_t v = yield_after;

	(void)state;
	/* The first two CPUs this process may run on (one twice if alone). */
	if (sched_getaffinity(0, sizeof(set), &set) != 0)
		return -1;
	for (int c = 0; c < CPU_SETSIZE && n < 2; c++)
		if (CPU_ISSET(c, &set))
			cpu[n++] = c;
	if (n == 0)
		return -1;
	if (n == 1)
		cpu[1] = cpu[0];
	snprintf(args[7], sizeof(args[7]), "--lcores=0@%d,1@%d,2@%d,3@%d,4@%d",
		 cpu[0], cpu[0], cpu[1], cpu[0], cpu[1]);
	for (size_t i = 0; i < RTE_DIM(args); i++)
		argv[i] = args[i];
	if (rte_eal_init((int)RTE_DIM(argv), argv) < 0)
		return -1;
	RTE_LCORE_FOREACH_WORKER(lc) {
		if (w < RTE_DIM(workers))
			workers[w++] = lc;
	}
	if (w < RTE_DIM(workers)) {
		fprintf(stderr, "test_coring: %u worker lcores, want %zu\n", w,
			RTE_DIM(workers));
		return -1;
	}
	if (env_u64("CORING_STRESS_FRAMES", MAX_FLOWS, UINT64_MAX,
		    &stress_frames) != 0 ||
	    env_u64("CORING_STRESS_YIELD_AFTER", 0, UINT32_MAX, &v) != 0)
		return -1;
	yield_after = (unsigned int)v;
	st.pool = rte_pktmbuf_pool_create("coring_test", POOL_MBUFS, POOL_CACHE,
					  0, RTE_MBUF_DEFAULT_BUF_SIZE,
					  (int)rte_socket_id());
	return st.pool != NULL ? 0 : -1;
}

static int
group_teardown(void **state)
{
	(void)state;
	rte_mempool_free(st.pool);
	st.pool = NULL;
	free(st.seen);
	st.seen = NULL;
	return 0;
}

/*
 * What the pool holds when a test starts: POOL_MBUFS, unless an earlier
 * test failed and leaked; the next one should not fail for it.
 */
static unsigned int pool_whole;

static int
test_setup(void **state)
{
	(void)state;
	pool_whole = rte_mempool_avail_count(st.pool);
	return 0;
}

/* Whatever a test left (it failed halfway), the next starts clean. */
static int
test_teardown(void **state)
{
	(void)state;
	coring_free(st.ring);
	st.ring = NULL;
	return 0;
}

/* -------------------------------------------------------------- tests */

/* Bad arguments, NULL, name clashes, and the ring's real capacity. */
static void
test_api(void **state)
{
	static const unsigned int bad[] = { 0, 1, 63, 100, 4095, 65 };
	struct rte_mbuf *m[64];
	struct rte_ring *r, *r2;

	(void)state;
	coring_free(NULL);
	assert_int_equal(coring_drain(NULL), 0);
	for (size_t i = 0; i < RTE_DIM(bad); i++) {
		errno = 0;
		assert_null(coring_create("vm_bad", SOCKET_ID_ANY, bad[i]));
		assert_int_equal(errno, EINVAL);
	}
	errno = 0;
	assert_null(coring_create(NULL, SOCKET_ID_ANY, 64));
	assert_int_equal(errno, EINVAL);

	/* A key that does not fit a ring name is refused, never cut short
	 * (two long names sharing a prefix would collide). */
	errno = 0;
	assert_null(coring_create("tenant-a-frontend-web-vm-port01",
				  SOCKET_ID_ANY, 64));
	assert_int_equal(errno, ENAMETOOLONG);

	/* Same port name twice: the second fails, EEXIST; free makes room. */
	r = coring_create("vm_twice", SOCKET_ID_ANY, 64);
	assert_non_null(r);
	st.ring = r;
	errno = 0;
	r2 = coring_create("vm_twice", SOCKET_ID_ANY, CORING_SIZE_DEFAULT);
	assert_null(r2);
	assert_int_equal(errno, EEXIST);
	/* Another name is another ring. */
	r2 = coring_create("vm_other", SOCKET_ID_ANY, 64);
	assert_non_null(r2);
	assert_ptr_not_equal(r, r2);
	coring_free(r2);

	/* size 64 (the smallest) holds 63 frames, as coring.h says. */
	assert_int_equal(rte_ring_get_capacity(r), 63);
	assert_int_equal(rte_pktmbuf_alloc_bulk(st.pool, m, 64), 0);
	assert_int_equal(rte_ring_enqueue_burst(r, (void *const *)m, 64, NULL),
			 63);
	rte_pktmbuf_free(m[63]);
	assert_int_equal(rte_mempool_avail_count(st.pool), pool_whole - 63);
	/* coring_free drains what is left: the pool is whole again. */
	coring_free(r);
	st.ring = NULL;
	assert_int_equal(rte_mempool_avail_count(st.pool), pool_whole);
	r = coring_create("vm_twice", SOCKET_ID_ANY, 64);
	assert_non_null(r);
	st.ring = r;
	assert_int_equal(coring_drain(r), 0);
}

/*
 * Two writers (on two lcores at once) fill the ring partly and stop;
 * coring_drain() from the main lcore returns exactly what is in it, and
 * the pool is whole again.  Then: two readers and the main lcore's drain
 * take a full ring apart at the same time; between them, every frame
 * once.
 */
static void
test_drain(void **state)
{
	const uint64_t frames[MAX_WRITERS] = { 1000, 1729 };
	uint64_t in, drained, read;
	unsigned int raced = 0;

	(void)state;
	st.ring = coring_create("vm_drain", SOCKET_ID_ANY, CORING_SIZE_DEFAULT);
	assert_non_null(st.ring);

	run_reset(frames[1]);
	assert_true(run(2, 0, frames) >= 0);
	in = st.ws[0].frames + st.ws[1].frames;
	assert_int_equal(in, frames[0] + frames[1]);
	assert_int_equal(rte_ring_count(st.ring), in);
	assert_int_equal(rte_mempool_avail_count(st.pool), pool_whole - in);
	assert_int_equal(coring_drain(st.ring), in);
	assert_int_equal(rte_ring_count(st.ring), 0);
	assert_int_equal(rte_mempool_avail_count(st.pool), pool_whole);
	assert_int_equal(coring_drain(st.ring), 0);

	/*
	 * The drain racing two readers (no writers: they stop at empty), over
	 * a full ring, a few rounds: who gets how much is up to the
	 * scheduler (printed, not asserted); that all of it goes exactly once
	 * is not.
	 */
	for (unsigned int round = 0; round < DRAIN_ROUNDS; round++) {
		const uint64_t fill[MAX_WRITERS] = { 2000, 2095 }; /* 4095: full */

		run_reset(fill[1]);
		assert_true(run(2, 0, fill) >= 0);
		assert_int_equal(rte_ring_count(st.ring), 4095);
		assert_int_equal(rte_ring_full(st.ring), 1);
		run_reset(fill[1]); /* the readers' bitmap; the ring keeps its frames */
		for (unsigned int i = 0; i < 2; i++) {
			st.job[workers[i]] = (struct lcore_job){
				.role = READER, .index = i,
			};
			assert_int_equal(rte_eal_remote_launch(lcore_main,
							       &st.job[workers[i]],
							       workers[i]), 0);
		}
		__atomic_store_n(&st.go, true, __ATOMIC_RELEASE);
		drained = coring_drain(st.ring);
		rte_eal_mp_wait_lcore();
		read = st.rs[0].frames + st.rs[1].frames;
		for (unsigned int i = 0; i < 2; i++) {
			if (st.rs[i].first_error[0] != '\0')
				print_message("  reader %u: %s\n", i,
					      st.rs[i].first_error);
			assert_int_equal(st.rs[i].dups + st.rs[i].reorders +
					 st.rs[i].bad, 0);
		}
		if (round == 0 || drained + read != 4095)
			print_message("  drain vs 2 readers, round %u: drained %"
				      PRIu64 ", read %" PRIu64 " + %" PRIu64 "\n",
				      round, drained, st.rs[0].frames,
				      st.rs[1].frames);
		raced += drained > 0 && read > 0;
		assert_int_equal(drained + read, 4095);
		assert_int_equal(rte_ring_count(st.ring), 0);
		assert_int_equal(rte_mempool_avail_count(st.pool), pool_whole);
	}
	/* Three threads on two CPUs: mostly the drain and one reader. */
	print_message("  drain vs 2 readers: in %u of %u rounds both the drain "
		      "and a reader took frames\n", raced, DRAIN_ROUNDS);
}

/* One stress run: W writers x R readers, about `frames` in all. */
static void
stress(unsigned int n_writers, unsigned int n_readers, unsigned int ring_size,
       uint64_t n_frames)
{
	uint64_t frames[MAX_WRITERS];
	uint64_t per_flow = n_frames / (n_writers * FLOWS_PER_WRITER);
	uint64_t total = per_flow * n_writers * FLOWS_PER_WRITER;
	uint64_t sent = 0, got = 0, full = 0, nomem = 0, empty = 0;
	uint64_t errors = 0, missing = 0;
	unsigned int n_flows = n_writers * FLOWS_PER_WRITER;
	double secs;

	st.ring = coring_create("vm_stress", SOCKET_ID_ANY, ring_size);
	assert_non_null(st.ring);
	run_reset(per_flow);
	assert_non_null(st.seen);
	for (unsigned int w = 0; w < n_writers; w++)
		frames[w] = per_flow * FLOWS_PER_WRITER;
	secs = run(n_writers, n_readers, frames);

	for (unsigned int w = 0; w < n_writers; w++) {
		sent += st.ws[w].frames;
		full += st.ws[w].full_retries;
		nomem += st.ws[w].alloc_retries;
	}
	for (unsigned int r = 0; r < n_readers; r++) {
		const struct reader_stats *rs = &st.rs[r];

		got += rs->frames;
		empty += rs->empty_polls;
		errors += rs->reorders + rs->dups + rs->bad;
		print_message("  reader %u: %" PRIu64 " frames in %" PRIu64
			      " bursts, %" PRIu64 " reordered, %" PRIu64
			      " twice, %" PRIu64 " bad%s%s\n", r, rs->frames,
			      rs->bursts, rs->reorders, rs->dups, rs->bad,
			      rs->first_error[0] ? ": first: " : "",
			      rs->first_error);
	}
	/* Nothing lost: every (flow, seq) of the run seen (and, above, once). */
	for (unsigned int f = 0; f < n_flows; f++) {
		for (uint64_t s = 0; s < per_flow; s++) {
			if (st.seen[f * st.words_per_flow + s / 64] &
			    (1ull << (s % 64)))
				continue;
			if (missing++ == 0)
				print_message("  first lost: flow %u seq %" PRIu64
					      "\n", f, s);
		}
	}
	print_message("%ux%u, ring %u: %" PRIu64 " frames in %.2f s: "
		      "%.2f Mframes/s (%" PRIu64 " full-ring retries, %" PRIu64
		      " empty-pool retries, %" PRIu64 " empty polls)\n",
		      n_writers, n_readers, ring_size, total, secs,
		      secs > 0 ? (double)total / secs / 1e6 : 0.0, full, nomem,
		      empty);
	assert_true(secs >= 0);         /* finished before the deadline */
	assert_int_equal(errors, 0);
	assert_int_equal(sent, total);
	assert_int_equal(got, total);
	assert_int_equal(missing, 0);
	assert_int_equal(rte_ring_count(st.ring), 0);
	assert_int_equal(rte_mempool_avail_count(st.pool), pool_whole);
}

/* The baseline: one writer, one reader, on two CPUs of their own. */
static void
test_stress_1x1(void **state)
{
	(void)state;
	stress(1, 1, CORING_SIZE_DEFAULT, stress_frames);
}

/* Two writers, two readers, on two CPUs (oversubscribed: see the top). */
static void
test_stress_2x2(void **state)
{
	(void)state;
	stress(2, 2, CORING_SIZE_DEFAULT, stress_frames);
}

/*
 * The same on the smallest ring (64: 63 frames, two bursts): full and
 * empty all the time, every enqueue and dequeue racing the others for the
 * same few slots, and the indexes wrapping every 64 frames.  A quarter of
 * the frames (1 Mi by default): here it is the wrap-arounds that count.
 */
static void
test_stress_2x2_small(void **state)
{
	(void)state;
	stress(2, 2, 64, stress_frames / 4);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_api, test_setup,
						test_teardown),
		cmocka_unit_test_setup_teardown(test_drain, test_setup,
						test_teardown),
		cmocka_unit_test_setup_teardown(test_stress_1x1, test_setup,
						test_teardown),
		cmocka_unit_test_setup_teardown(test_stress_2x2, test_setup,
						test_teardown),
		cmocka_unit_test_setup_teardown(test_stress_2x2_small,
						test_setup, test_teardown),
	};
	int failed;

	failed = cmocka_run_group_tests(tests, group_setup, group_teardown);
	rte_eal_cleanup();
	return failed;
}
