/* SPDX-License-Identifier: BSD-3-Clause */
/* Internals of the switch shared by its control and data path files. */
#ifndef VTOE_DP_PRIV_H
#define VTOE_DP_PRIV_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include <rte_common.h>
#include <rte_log.h>

#include "config/cfg.h"
#include "dp.h"
#include "fwd.h"

extern int dp_logtype;
#define DP_LOG(level, ...) \
	rte_log(RTE_LOG_ ## level, dp_logtype, "dataplane: " __VA_ARGS__)

#define DP_BURST 32
#define DP_PORTS_MAX FWD_PORTS_MAX

struct rte_mempool;
struct rte_mbuf;
struct rte_rcu_qsbr;
struct dp;

struct dp_port {
	/* Set at creation, then read-only. */
	struct dp *dp;
	uint16_t id;
	enum dp_port_kind kind;
	char name[CFG_NAME_MAX];
	const struct cfg_port *cfg;     /* vhost ports */
	const struct cfg_uplink *ucfg;  /* uplinks */
	uint16_t queues;
	uint16_t eth_port;              /* uplinks */

	/*
	 * Written by the vhost event thread, read by workers.  vid is -1
	 * while no guest is connected.  The thread that clears it waits
	 * for every worker to pass a quiescent state before the library
	 * unmaps guest memory (dp_vhost_down).
	 */
	_Atomic int vid;
	_Atomic uint32_t vrings_enabled;        /* bit v: vring v enabled */
	bool opened;                            /* main thread only */
};

struct dp_rxq {
	uint16_t port;
	uint16_t queue;
};

struct dp_txbuf {
	uint16_t n;
	struct rte_mbuf *pkts[DP_BURST];
};

/*
 * One per worker lcore, cache aligned, owned by that lcore.  The main
 * thread reads the counters (relaxed 64-bit loads; they only grow).
 */
struct dp_worker {
	struct dp *dp;
	unsigned int lcore;
	unsigned int index;             /* RCU thread id, txq of uplinks */
	unsigned int n_rxqs;
	struct dp_rxq rxqs[DP_WORKER_QUEUES_MAX];

	/* Data path scratch. */
	struct dp_txbuf txbufs[DP_PORTS_MAX];
	uint16_t dirty[DP_PORTS_MAX];   /* ports with frames in txbufs */
	uint16_t n_dirty;

	/* Counters, written only by this worker. */
	uint64_t busy_cycles;
	uint64_t idle_cycles;
	struct dp_port_stats stats[DP_PORTS_MAX];
} __rte_cache_aligned;

struct dp {
	const struct cfg *cfg;
	struct rte_mempool *pool;
	struct fdb *fdb;
	struct rte_rcu_qsbr *rcu;
	uint64_t tsc_hz;

	uint16_t n_ports;
	struct dp_port ports[DP_PORTS_MAX];
	struct fwd_port fwd_ports[DP_PORTS_MAX];        /* read-only view */

	/* Bit p set: port p can take frames.  Set and cleared by the vhost
	 * event thread (guest up/down) and at uplink start; workers load it
	 * once per burst. */
	_Atomic uint64_t up_mask;

	unsigned int n_workers;
	struct dp_worker *workers;      /* n_workers, rte_zmalloc'd */
	atomic_bool stop;
	bool started;
	uint64_t last_age_tsc;
};

/* dp_worker.c */
int dp_worker_main(void *arg);

/* dp_port.c */
int dp_ports_open(struct dp *dp);
void dp_ports_close(struct dp *dp);

#endif /* VTOE_DP_PRIV_H */
