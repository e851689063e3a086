/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * dwrr-bench: cycles per packet (enqueue + dequeue) of our DWRR
 * (src/qos_dwrr/dwrr.c) against DPDK's hierarchical scheduler (rte_sched)
 * set up as the nearest equivalent, on the same mbufs in the same process,
 * with every class backlogged, and Jain's fairness index over the weighted
 * shares x_i = bytes_i / weight_i (1.0 = exactly weighted).
 *
 *   dwrr-bench [EAL options] [-- --packets N --rounds R]
 *
 * Without EAL options it runs with --no-huge -m 512 --no-pci -l 0
 * --file-prefix=dwrrbench --no-telemetry --log-level=lib.eal:error.
 * The loop is closed: each burst of 32 that leaves the scheduler is
 * enqueued again to its own class, so every class stays backlogged (48
 * packets each, below the 64-packet queues: nothing is ever dropped).
 * Weights cycle 1, 2, 4, 8.  The two schedulers alternate within each
 * round and the table shows the median over rounds.
 *
 * rte_sched, the nearest equivalent: it has no per-pipe weight.  Its pipe
 * level is round robin, and what a pipe sends per visit is bounded by its
 * token bucket; the only weights are the WRR weights of the 4 best-effort
 * queues inside one pipe, which cannot carry 64 or 1024 classes (and would
 * leave the pipes themselves unweighted).  So each class is a pipe, as a VM
 * would be, using its first best-effort queue, with
 *   tb_size = weight x 1518: what one visit may send, the DRR quantum;
 *   tb_rate = port rate x weight / sum of weights: the share.
 * The port rate is 400 Gbit/s, far above what one core can schedule, so
 * every bucket is full again by the pipe's next visit: no rate binds and
 * rte_sched runs a weighted round robin at CPU speed, like DWRR.  (At a
 * port rate the CPU can reach, rte_sched shapes each pipe to its rate
 * instead: fair too, but not work conserving, and the benchmark would
 * measure idle polling.  A tb_size of 16 quanta was tried and is less fair,
 * 0.82 at 1024 classes.)  Frame overhead is 0 so both count the same bytes.
 * With 4 classes the WRR queues can carry them, so that layout is run
 * too (row "4 q"): one pipe that never runs out of credit, its 4
 * best-effort queues weighted 1, 2, 4, 8.
 *
 * The machine may be shared: each measured window also takes the thread's
 * CPU time, and a window where the thread was off the CPU for more than
 * 3 % of the time is measured again (up to 5 times; then marked '*').
 */
#include <errno.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <rte_common.h>
#include <rte_cycles.h>
#include <rte_eal.h>
#include <rte_lcore.h>
#include <rte_mbuf.h>
#include <rte_mempool.h>
#include <rte_sched.h>

#include "qos_dwrr/dwrr.h"

#define BURST 32
#define POP 48                  /* packets per class, all in flight */
#define QSIZE 64                /* per-class queue, > POP */
#define MAX_FRAME 1518
#define PORT_RATE (400000000000ULL / 8) /* 400 Gbit/s, in bytes/s */
#define ON_CPU_MIN 0.97
#define TRIES 5
#define N_WEIGHTS 4
#define MAX_ROUNDS 15

static const uint32_t weights[N_WEIGHTS] = { 1, 2, 4, 8 };

enum sizes { SIZES_64, SIZES_IMIX };
static const char *const size_names[] = { "64B", "IMIX" };

struct result {
	double cycles_per_pkt;
	double mpps;
	double jain;
	double on_cpu;          /* thread CPU time / wall time */
};

/* A measured window: TSC cycles, and how much of it this thread ran. */
struct window {
	uint64_t tsc;
	struct timespec cpu, wall;
};

static void
window_start(struct window *w)
{
	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &w->cpu);
	clock_gettime(CLOCK_MONOTONIC, &w->wall);
	w->tsc = rte_rdtsc_precise();
}

static double
ns_since(const struct timespec *t0, const struct timespec *t1)
{
	return (double)(t1->tv_sec - t0->tv_sec) * 1e9 +
	       (double)(t1->tv_nsec - t0->tv_nsec);
}

/* Returns the TSC cycles; *on_cpu the fraction of them the thread ran. */
static uint64_t
window_stop(const struct window *w, double *on_cpu)
{
	uint64_t tsc = rte_rdtsc_precise();
	struct timespec cpu, wall;

	clock_gettime(CLOCK_MONOTONIC, &wall);
	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &cpu);
	*on_cpu = ns_since(&w->cpu, &cpu) / ns_since(&w->wall, &wall);
	return tsc - w->tsc;
}

struct run {
	uint32_t n_classes;
	enum sizes sizes;
	bool sched_wrr;                 /* rte_sched: 4 WRR queues, 1 pipe */
	uint64_t packets;               /* measured, after the warm-up */
	struct rte_mempool *mp;
	struct rte_mbuf **mbufs;        /* n_classes x POP */
	uint64_t *bytes;                /* per class, over the measured part */
};

static uint32_t
class_weight(uint32_t cls)
{
	return weights[cls % N_WEIGHTS];
}

static uint64_t
weight_sum(uint32_t n_classes)
{
	uint64_t sum = 0;

	for (uint32_t c = 0; c < n_classes; c++)
		sum += class_weight(c);
	return sum;
}

/* IMIX 7:4:1 of 64, 594 and 1518 bytes; the same lengths for both
 * schedulers (same seed). */
static int
mbufs_alloc(struct run *r)
{
	uint32_t n = r->n_classes * POP;
	uint64_t seed = 0x9e3779b97f4a7c15ULL;

	if (rte_pktmbuf_alloc_bulk(r->mp, r->mbufs, n) != 0)
		return -ENOMEM;
	for (uint32_t i = 0; i < n; i++) {
		struct rte_mbuf *m = r->mbufs[i];
		uint16_t len = 64;

		if (r->sizes == SIZES_IMIX) {
			uint64_t x;

			seed ^= seed >> 12;
			seed ^= seed << 25;
			seed ^= seed >> 27;
			x = (seed * 0x2545f4914f6cdd1dULL) >> 32;
			x %= 12;
			len = x < 7 ? 64 : x < 11 ? 594 : MAX_FRAME;
		}
		/* The data is never read: only the length matters here. */
		m->data_len = len;
		m->pkt_len = len;
	}
	return 0;
}

static double
jain(const uint64_t *bytes, uint32_t n)
{
	double sum = 0, sum_sq = 0;

	for (uint32_t c = 0; c < n; c++) {
		double x = (double)bytes[c] / class_weight(c);

		sum += x;
		sum_sq += x * x;
	}
	return sum_sq > 0 ? sum * sum / (n * sum_sq) : 0;
}

static void
result_set(struct result *res, const struct run *r, uint64_t cycles,
	   uint64_t sent, double on_cpu)
{
	res->on_cpu = on_cpu;
	res->cycles_per_pkt = (double)cycles / (double)sent;
	res->mpps = (double)sent * rte_get_tsc_hz() / (double)cycles / 1e6;
	res->jain = jain(r->bytes, r->n_classes);
}

/* ---- our DWRR ---------------------------------------------------------- */

static uint32_t
mbuf_len(const void *pkt)
{
	return rte_pktmbuf_pkt_len((const struct rte_mbuf *)pkt);
}

/* The dataplane's loop (dp_qos_tx.c): dequeue a burst; what arrives is
 * enqueued to the class the classifier wrote in hash.usr. */
static uint64_t
dwrr_loop(struct dwrr *d, uint64_t packets)
{
	struct rte_mbuf *pkts[BURST];
	uint64_t sent = 0;

	while (sent < packets) {
		uint32_t n = dwrr_dequeue(d, (void **)pkts, BURST, NULL);

		for (uint32_t i = 0; i < n; i++)
			if (dwrr_enqueue(d, pkts[i]->hash.usr, pkts[i]) != 0)
				rte_exit(EXIT_FAILURE, "dwrr: queue full\n");
		sent += n;
	}
	return sent;
}

static void
run_dwrr(struct run *r, struct result *res)
{
	struct dwrr_params p = {
		.n_classes = r->n_classes,
		.base_quantum = MAX_FRAME,
		.queue_packets = QSIZE,
		.queue_bytes = QSIZE * MAX_FRAME,
		.pkt_len = mbuf_len,
	};
	struct dwrr_class_stats st;
	struct dwrr *d = dwrr_create(&p);
	uint64_t cycles = 0, sent = 0;
	double on_cpu = 0;
	struct window w;
	void *drained[BURST];
	uint32_t n;

	if (d == NULL || mbufs_alloc(r) != 0)
		rte_exit(EXIT_FAILURE, "dwrr setup: %s\n", strerror(errno));
	for (uint32_t c = 0; c < r->n_classes; c++)
		dwrr_weight_set(d, c, class_weight(c));
	for (uint32_t i = 0; i < r->n_classes * POP; i++) {
		r->mbufs[i]->hash.usr = i / POP;
		dwrr_enqueue(d, i / POP, r->mbufs[i]);
	}
	dwrr_loop(d, r->packets / 8);                   /* warm up */
	for (int t = 0; t < TRIES && on_cpu < ON_CPU_MIN; t++) {
		for (uint32_t c = 0; c < r->n_classes; c++) {
			dwrr_class_stats(d, c, &st);
			r->bytes[c] = st.sent_bytes;
		}
		window_start(&w);
		sent = dwrr_loop(d, r->packets);
		cycles = window_stop(&w, &on_cpu);
		for (uint32_t c = 0; c < r->n_classes; c++) {
			dwrr_class_stats(d, c, &st);
			r->bytes[c] = st.sent_bytes - r->bytes[c];
		}
	}
	result_set(res, r, cycles, sent, on_cpu);
	while ((n = dwrr_drain(d, drained, BURST)) > 0)
		rte_pktmbuf_free_bulk((struct rte_mbuf **)drained, n);
	dwrr_destroy(d);
}

/* ---- rte_sched ---------------------------------------------------------- */

/* Where class cls lives in rte_sched: its own pipe, or a queue of the
 * one pipe's best-effort traffic class. */
static uint32_t
sched_pipe(const struct run *r, uint32_t cls)
{
	return r->sched_wrr ? 0 : cls;
}

static uint32_t
sched_queue(const struct run *r, uint32_t cls)
{
	return r->sched_wrr ? cls : 0;
}

static uint32_t
sched_qid(const struct run *r, uint32_t cls)
{
	/* subport 0 | pipe | best-effort traffic class + queue */
	return sched_pipe(r, cls) * RTE_SCHED_QUEUES_PER_PIPE +
	       RTE_SCHED_TRAFFIC_CLASS_BE + sched_queue(r, cls);
}

static struct rte_sched_port *
sched_create(const struct run *r)
{
	uint32_t n_pipes = r->sched_wrr ? 1 : r->n_classes;
	struct rte_sched_subport_profile_params sp = {
		.tb_rate = PORT_RATE,
		.tb_size = 1000000,
		.tc_period = 10,
	};
	struct rte_sched_pipe_params pipes[N_WEIGHTS];
	struct rte_sched_subport_params sub = {
		.n_pipes_per_subport_enabled = n_pipes,
		.pipe_profiles = pipes,
		.n_pipe_profiles = r->sched_wrr ? 1 : N_WEIGHTS,
		.n_max_pipe_profiles = N_WEIGHTS,
	};
	struct rte_sched_port_params pp = {
		.name = "dwrr_bench",
		.socket = (int)rte_socket_id(),
		.rate = PORT_RATE,
		.mtu = MAX_FRAME,
		.frame_overhead = 0,
		.n_subports_per_port = 1,
		.subport_profiles = &sp,
		.n_subport_profiles = 1,
		.n_max_subport_profiles = 1,
		.n_pipes_per_subport = n_pipes,
	};
	uint64_t wsum = weight_sum(r->n_classes);
	struct rte_sched_port *port;

	for (int i = 0; i < RTE_SCHED_TRAFFIC_CLASSES_PER_PIPE; i++)
		sp.tc_rate[i] = PORT_RATE;
	sub.qsize[RTE_SCHED_TRAFFIC_CLASS_BE] = QSIZE;
	memset(pipes, 0, sizeof(pipes));
	for (int w = 0; w < N_WEIGHTS; w++) {
		struct rte_sched_pipe_params *pp_w = &pipes[w];

		pp_w->tb_rate = PORT_RATE * weights[w] / wsum;
		pp_w->tb_size = (uint64_t)weights[w] * MAX_FRAME;
		pp_w->tc_rate[RTE_SCHED_TRAFFIC_CLASS_BE] = pp_w->tb_rate;
		pp_w->tc_period = 10;
		pp_w->tc_ov_weight = 1;
		for (int q = 0; q < RTE_SCHED_BE_QUEUES_PER_PIPE; q++)
			pp_w->wrr_weights[q] = 1;
	}
	if (r->sched_wrr) {
		/* One pipe that never runs out of credit; the classes are
		 * its 4 best-effort queues with WRR weights 1, 2, 4, 8. */
		pipes[0].tb_rate = PORT_RATE;
		pipes[0].tb_size = 1000000;
		pipes[0].tc_rate[RTE_SCHED_TRAFFIC_CLASS_BE] = PORT_RATE;
		for (int q = 0; q < RTE_SCHED_BE_QUEUES_PER_PIPE; q++)
			pipes[0].wrr_weights[q] = (uint8_t)weights[q];
	}
	port = rte_sched_port_config(&pp);
	if (port == NULL)
		return NULL;
	if (rte_sched_subport_config(port, 0, &sub, 0) != 0)
		goto err;
	for (uint32_t p = 0; p < n_pipes; p++)
		if (rte_sched_pipe_config(port, 0, p,
					  r->sched_wrr ? 0 : (int32_t)(p % N_WEIGHTS))
		    != 0)
			goto err;
	return port;
err:
	rte_sched_port_free(port);
	return NULL;
}

static uint64_t
sched_loop(struct rte_sched_port *port, uint64_t packets)
{
	struct rte_mbuf *pkts[BURST];
	uint64_t sent = 0;

	while (sent < packets) {
		int n = rte_sched_port_dequeue(port, pkts, BURST);

		if (n > 0 && rte_sched_port_enqueue(port, pkts, n) != n)
			rte_exit(EXIT_FAILURE, "rte_sched: queue full\n");
		sent += (uint64_t)n;
	}
	return sent;
}

static void
sched_read_bytes(struct rte_sched_port *port, const struct run *r,
		 uint64_t *bytes)
{
	struct rte_sched_queue_stats qs;
	uint16_t qlen;

	/* Read-and-clear; counts what was enqueued, which in this closed
	 * loop is what was dequeued, give or take the 48 in flight. */
	for (uint32_t c = 0; c < r->n_classes; c++) {
		if (rte_sched_queue_read_stats(port, sched_qid(r, c), &qs,
					       &qlen) != 0)
			rte_exit(EXIT_FAILURE, "rte_sched: no stats\n");
		bytes[c] = qs.n_bytes;
	}
}

static void
run_sched(struct run *r, struct result *res)
{
	struct rte_sched_port *port = sched_create(r);
	uint64_t cycles = 0, sent = 0;
	uint32_t n = r->n_classes * POP;
	double on_cpu = 0;
	struct window w;

	if (port == NULL || mbufs_alloc(r) != 0)
		rte_exit(EXIT_FAILURE, "rte_sched setup failed\n");
	for (uint32_t i = 0; i < n; i++)
		rte_sched_port_pkt_write(port, r->mbufs[i], 0,
					 sched_pipe(r, i / POP),
					 RTE_SCHED_TRAFFIC_CLASS_BE,
					 sched_queue(r, i / POP), RTE_COLOR_GREEN);
	if (rte_sched_port_enqueue(port, r->mbufs, n) != (int)n)
		rte_exit(EXIT_FAILURE, "rte_sched: initial enqueue\n");
	sched_loop(port, r->packets / 8);               /* warm up */
	for (int t = 0; t < TRIES && on_cpu < ON_CPU_MIN; t++) {
		sched_read_bytes(port, r, r->bytes);
		window_start(&w);
		sent = sched_loop(port, r->packets);
		cycles = window_stop(&w, &on_cpu);
		sched_read_bytes(port, r, r->bytes);
	}
	result_set(res, r, cycles, sent, on_cpu);
	rte_sched_port_free(port);              /* frees the queued mbufs */
}

/* ------------------------------------------------------------------------ */

static int
cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

static double
median(double *v, int n)
{
	qsort(v, (size_t)n, sizeof(v[0]), cmp_double);
	return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

/* Median cycles and rate over the rounds, the worst fairness and the
 * least time on the CPU. */
static void
summarize(const struct result *res, int rounds, struct result *sum)
{
	double c[MAX_ROUNDS], m[MAX_ROUNDS];

	sum->jain = 1;
	sum->on_cpu = 1;
	for (int k = 0; k < rounds; k++) {
		c[k] = res[k].cycles_per_pkt;
		m[k] = res[k].mpps;
		sum->jain = RTE_MIN(sum->jain, res[k].jain);
		sum->on_cpu = RTE_MIN(sum->on_cpu, res[k].on_cpu);
	}
	sum->cycles_per_pkt = median(c, rounds);
	sum->mpps = median(m, rounds);
}

static void
usage(void)
{
	fprintf(stderr, "usage: dwrr-bench [EAL options] [-- --packets N --rounds R]\n");
	exit(2);
}

int
main(int argc, char **argv)
{
	static const struct {
		uint32_t n_classes;
		bool sched_wrr;
	} cases[] = {
		{ 4, false }, { 4, true }, { 64, false }, { 1024, false },
	};
	static const char *const eal_defaults[] = {
		"--no-huge", "-m", "512", "--no-pci", "-l", "0",
		"--file-prefix=dwrrbench", "--no-telemetry",
		"--log-level=lib.eal:error",
	};
	char *def_argv[RTE_DIM(eal_defaults) + 1];
	uint64_t packets = 4000000;
	int rounds = 5, used;
	struct run r = { 0 };

	if (argc == 1) {
		def_argv[0] = argv[0];
		for (size_t i = 0; i < RTE_DIM(eal_defaults); i++)
			def_argv[i + 1] = strdup(eal_defaults[i]);
		argc = RTE_DIM(def_argv);
		argv = def_argv;
	}
	used = rte_eal_init(argc, argv);
	if (used < 0)
		rte_exit(EXIT_FAILURE, "EAL init failed\n");
	for (int i = used + 1; i < argc; i++) {
		if (strcmp(argv[i], "--packets") == 0 && i + 1 < argc)
			packets = strtoull(argv[++i], NULL, 0);
		else if (strcmp(argv[i], "--rounds") == 0 && i + 1 < argc)
			rounds = atoi(argv[++i]);
		else
			usage();
	}
	if (packets < 1000 || rounds < 1 || rounds > MAX_ROUNDS)
		usage();
	r.packets = packets;
	r.mp = rte_pktmbuf_pool_create("dwrr_bench", 1024 * POP + 1023, 256,
				       0, RTE_MBUF_DEFAULT_BUF_SIZE,
				       (int)rte_socket_id());
	r.mbufs = calloc(1024 * POP, sizeof(r.mbufs[0]));
	r.bytes = calloc(1024, sizeof(r.bytes[0]));
	if (r.mp == NULL || r.mbufs == NULL || r.bytes == NULL)
		rte_exit(EXIT_FAILURE, "no memory for mbufs\n");

	printf("DWRR vs rte_sched: %" PRIu64 " packets per run, median of %d rounds, TSC %.2f GHz\n"
	       "enqueue + dequeue, bursts of %d, all classes backlogged, weights 1,2,4,8 cycling\n\n",
	       packets, rounds, rte_get_tsc_hz() / 1e9, BURST);
	printf("%8s %5s | %10s %7s %9s | %10s %7s %9s | %6s\n",
	       "classes", "sizes", "dwrr c/p", "Mpps", "Jain",
	       "sched c/p", "Mpps", "Jain", "ratio");
	printf("---------------+-------------------------------+-------------------------------+-------\n");
	for (size_t ci = 0; ci < RTE_DIM(cases); ci++) {
		for (int s = SIZES_64; s <= SIZES_IMIX; s++) {
			struct result a[MAX_ROUNDS], b[MAX_ROUNDS], da, sb;

			r.n_classes = cases[ci].n_classes;
			r.sched_wrr = cases[ci].sched_wrr;
			r.sizes = (enum sizes)s;
			for (int k = 0; k < rounds; k++) {
				/* alternate which goes first: drift cancels */
				if (k % 2 == 0) {
					run_dwrr(&r, &a[k]);
					run_sched(&r, &b[k]);
				} else {
					run_sched(&r, &b[k]);
					run_dwrr(&r, &a[k]);
				}
			}
			summarize(a, rounds, &da);
			summarize(b, rounds, &sb);
			printf("%6u%2s %5s | %9.1f%c %7.1f %9.6f | %9.1f%c %7.1f %9.6f | %5.2fx\n",
			       r.n_classes, r.sched_wrr ? " q" : "",
			       size_names[s],
			       da.cycles_per_pkt, da.on_cpu < ON_CPU_MIN ? '*' : ' ',
			       da.mpps, da.jain,
			       sb.cycles_per_pkt, sb.on_cpu < ON_CPU_MIN ? '*' : ' ',
			       sb.mpps, sb.jain,
			       da.cycles_per_pkt / sb.cycles_per_pkt);
			fflush(stdout);
		}
	}
	printf("\nrte_sched: one pipe per class (tb_size = weight x 1518, tb_rate = share of the port);\n"
	       "4 q: the 4 classes as the best-effort WRR queues of one pipe (weights 1,2,4,8) instead\n"
	       "c/p: TSC cycles per packet (one enqueue + one dequeue), median; ratio: dwrr c/p / rte_sched c/p\n"
	       "Jain: (sum x)^2 / (n sum x^2) over x_i = bytes_i / weight_i, 1 = exactly weighted; the worst round\n"
	       "*: some window had the thread off the CPU > %.0f %% of the time even after %d tries\n",
	       (1 - ON_CPU_MIN) * 100, TRIES);
	free(r.mbufs);
	free(r.bytes);
	rte_mempool_free(r.mp);
	rte_eal_cleanup();
	return 0;
}
