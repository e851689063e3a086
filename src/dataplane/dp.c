/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The switch's life cycle and its read side, all on the main thread:
 * build the port table and the MAC table from the config, spread the rx
 * queues over the workers, launch and stop them, age the MAC table, and
 * sum per-worker counters for the control socket and telemetry.
 */
#include "dp_priv.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <rte_cycles.h>
#include <rte_eal.h>
#include <rte_ethdev.h>
#include <rte_errno.h>
#include <rte_launch.h>
#include <rte_lcore.h>
#include <rte_malloc.h>
#include <rte_mbuf.h>
#include <rte_mempool.h>
#include <rte_rcu_qsbr.h>
#include <rte_ring.h>

#include "dp_members.h"
#include "fdb.h"
#include "toe_stack/toe_offload.h"
#include "vhost/vhost.h"

RTE_LOG_REGISTER(dp_logtype, vtoe.dataplane, INFO);

#define DP_MBUF_CACHE 256
#define DP_AGE_INTERVAL_S 1

static int
dp_ports_build(struct dp *dp)
{
	const struct cfg *cfg = dp->cfg;

	if (cfg->n_uplinks + cfg->n_ports > DP_PORTS_MAX)
		return -E2BIG;
	/* Uplinks take ids 0..n_uplinks-1 so VM ports can name theirs. */
	for (unsigned int u = 0; u < cfg->n_uplinks; u++) {
		struct dp_port *port = &dp->ports[dp->n_ports];

		port->ucfg = &cfg->uplinks[u];
		port->kind = DP_PORT_UPLINK;
		port->queues = 1;
		snprintf(port->name, sizeof(port->name), "%s", cfg->uplinks[u].name);
		dp->fwd_ports[dp->n_ports] = (struct fwd_port){
			.is_uplink = true, .uplink = -1,
		};
		dp->n_ports++;
	}
	for (unsigned int i = 0; i < cfg->n_ports; i++) {
		const struct cfg_port *pc = &cfg->ports[i];
		struct dp_port *port = &dp->ports[dp->n_ports];
		struct fwd_port *fp = &dp->fwd_ports[dp->n_ports];
		int rc;

		port->cfg = pc;
		port->kind = DP_PORT_VHOST;
		port->queues = pc->queues;
		snprintf(port->name, sizeof(port->name), "%s", pc->name);
		memcpy(fp->mac, pc->mac, 6);
		fp->is_uplink = false;
		fp->uplink = (int16_t)pc->uplink;  /* uplink index == port id */
		atomic_init(&port->weight, pc->weight);
		rc = fdb_add_static(dp->fdb, pc->mac, dp->n_ports);
		if (rc != 0)
			return rc;
		dp->n_ports++;
	}
	for (uint16_t p = 0; p < dp->n_ports; p++) {
		dp->ports[p].dp = dp;
		dp->ports[p].id = p;
		atomic_init(&dp->ports[p].vid, -1);
		atomic_init(&dp->ports[p].vrings_enabled, 0);
	}
	return 0;
}

/* Round-robin every rx queue of every port over the workers. */
static int
dp_queues_assign(struct dp *dp)
{
	unsigned int next = 0;

	for (uint16_t p = 0; p < dp->n_ports; p++) {
		for (uint16_t q = 0; q < dp->ports[p].queues; q++) {
			struct dp_worker *w = &dp->workers[next];

			if (w->n_rxqs == DP_WORKER_QUEUES_MAX)
				return -E2BIG;
			w->rxqs[w->n_rxqs++] = (struct dp_rxq){ p, q };
			next = (next + 1) % dp->n_workers;
		}
	}
	/* Each worker reads the co-resident ring of every VM whose queues it
	 * polls, delivering into the first of them. */
	for (unsigned int i = 0; i < dp->n_workers; i++) {
		struct dp_worker *w = &dp->workers[i];

		for (uint16_t p = 0; p < DP_PORTS_MAX; p++)
			w->corx_of_port[p] = -1;
		for (unsigned int j = 0; j < w->n_rxqs; j++) {
			const struct dp_rxq *rq = &w->rxqs[j];
			bool seen = false;

			if (dp->ports[rq->port].kind != DP_PORT_VHOST)
				continue;
			for (unsigned int k = 0; k < w->n_corx && !seen; k++)
				seen = w->corx[k].port == rq->port;
			if (!seen) {
				w->corx_of_port[rq->port] = (int16_t)w->n_corx;
				dp->ports[rq->port].n_readers++;
				w->corx[w->n_corx++] = (struct dp_corx){
					rq->port, rq->queue,
				};
			}
		}
	}
	return 0;
}

static int
dp_workers_create(struct dp *dp)
{
	size_t sz;

	dp->n_workers = dp->cfg->n_workers;
	dp->workers = rte_zmalloc("vtoe_workers",
				  sizeof(*dp->workers) * dp->n_workers,
				  RTE_CACHE_LINE_SIZE);
	if (dp->workers == NULL)
		return -ENOMEM;
	for (unsigned int i = 0; i < dp->n_workers; i++) {
		unsigned int lcore = dp->cfg->workers[i];

		if (!rte_lcore_is_enabled(lcore) ||
		    lcore == rte_get_main_lcore()) {
			DP_LOG(ERR, "worker lcore %u is not enabled in the EAL\n",
			       lcore);
			return -EINVAL;
		}
		dp->workers[i].dp = dp;
		dp->workers[i].lcore = lcore;
		dp->workers[i].index = i;
	}
	for (unsigned int i = 0; i < dp->n_workers; i++) {
		struct dp_worker *w = &dp->workers[i];

		w->seg_out = rte_zmalloc("vtoe_seg_out",
					 sizeof(*w->seg_out) * DP_SEG_OUT, 0);
		if (w->seg_out == NULL)
			return -ENOMEM;
		for (uint16_t p = 0; p < dp->n_ports; p++) {
			w->toe[p] = toe_ctx_create(dp->pool, (int)rte_socket_id());
			if (w->toe[p] == NULL)
				return -ENOMEM;
		}
	}
	sz = rte_rcu_qsbr_get_memsize(dp->n_workers);
	dp->rcu = rte_zmalloc("vtoe_rcu", sz, RTE_CACHE_LINE_SIZE);
	if (dp->rcu == NULL)
		return -ENOMEM;
	if (rte_rcu_qsbr_init(dp->rcu, dp->n_workers) != 0)
		return -rte_errno;
	return dp_queues_assign(dp);
}

struct dp *
dp_create(const struct cfg *cfg)
{
	struct dp *dp;
	int rc;

	dp = rte_zmalloc("vtoe_dp", sizeof(*dp), RTE_CACHE_LINE_SIZE);
	if (dp == NULL) {
		errno = ENOMEM;
		return NULL;
	}
	dp->cfg = cfg;
	dp->fdb_ageing_s = cfg->fdb_ageing_s;
	dp->direct = cfg->direct;
	dp->tsc_hz = rte_get_tsc_hz();
	atomic_init(&dp->stop, false);
	atomic_init(&dp->up_mask, 0);

	dp->fdb = fdb_create(cfg->fdb_size);
	if (dp->fdb == NULL) {
		rc = -errno;
		goto err;
	}
	dp->pool = rte_pktmbuf_pool_create("vtoe_mbufs", cfg->mbufs,
					   DP_MBUF_CACHE, 0,
					   RTE_MBUF_DEFAULT_BUF_SIZE,
					   (int)rte_socket_id());
	if (dp->pool == NULL) {
		DP_LOG(ERR, "cannot create a pool of %u mbufs: %s\n",
		       cfg->mbufs, rte_strerror(rte_errno));
		rc = -ENOMEM;
		goto err;
	}
	rc = dp_ports_build(dp);
	if (rc == 0)
		rc = dp_workers_create(dp);
	if (rc == 0)
		rc = dp_members_create(dp);
	if (rc == 0)
		rc = dp_ports_open(dp);
	if (rc != 0)
		goto err;
	return dp;
err:
	dp_destroy(dp);
	errno = -rc;
	return NULL;
}

int
dp_start(struct dp *dp)
{
	for (unsigned int i = 0; i < dp->n_workers; i++) {
		int rc = rte_eal_remote_launch(dp_worker_main, &dp->workers[i],
					       dp->workers[i].lcore);
		if (rc != 0) {
			DP_LOG(ERR, "cannot launch worker on lcore %u: %s\n",
			       dp->workers[i].lcore, rte_strerror(-rc));
			dp_stop(dp);
			return rc;
		}
	}
	dp->started = true;
	return 0;
}

void
dp_housekeeping(struct dp *dp)
{
	uint64_t now = rte_rdtsc();
	unsigned int aged;

	dp_qos_housekeeping(dp, now);
	vhost_housekeeping();
	if (now - dp->last_age_tsc < DP_AGE_INTERVAL_S * dp->tsc_hz)
		return;
	dp->last_age_tsc = now;
	aged = fdb_age(dp->fdb, dp_now_s(dp), dp->fdb_ageing_s);
	if (aged > 0)
		DP_LOG(DEBUG, "aged out %u MAC table entries\n", aged);
}

void
dp_stop(struct dp *dp)
{
	atomic_store_explicit(&dp->stop, true, memory_order_relaxed);
	for (unsigned int i = 0; i < dp->n_workers; i++)
		rte_eal_wait_lcore(dp->workers[i].lcore);
	dp->started = false;
}

void
dp_destroy(struct dp *dp)
{
	if (dp == NULL)
		return;
	if (dp->started)
		dp_stop(dp);
	/* Workers are stopped and offline: nothing can hold a port now. */
	dp_ports_close(dp);
	dp_members_destroy(dp);
	for (unsigned int i = 0; dp->workers != NULL && i < dp->n_workers; i++) {
		for (uint16_t p = 0; p < DP_PORTS_MAX; p++)
			toe_ctx_destroy(dp->workers[i].toe[p]);
		rte_free(dp->workers[i].seg_out);
	}
	rte_mempool_free(dp->pool);
	rte_free(dp->rcu);
	rte_free(dp->workers);
	fdb_destroy(dp->fdb);
	rte_free(dp);
}

unsigned int
dp_port_count(const struct dp *dp)
{
	return dp->n_ports;
}

int
dp_port_find(const struct dp *dp, const char *name)
{
	for (uint16_t p = 0; p < dp->n_ports; p++)
		if (strcmp(dp->ports[p].name, name) == 0)
			return p;
	return -ENOENT;
}

int
dp_port_info(const struct dp *dp, unsigned int p, struct dp_port_info *info)
{
	const struct dp_port *port;
	uint64_t up;

	if (p >= dp->n_ports)
		return -ENOENT;
	port = &dp->ports[p];
	up = atomic_load_explicit(&dp->up_mask, memory_order_acquire);
	memset(info, 0, sizeof(*info));
	info->name = port->name;
	info->kind = port->kind;
	info->queues = port->queues;
	info->link_up = (up & (UINT64_C(1) << p)) != 0;
	info->uplink = -1;
	info->vid = -1;
	if (port->kind == DP_PORT_UPLINK) {
		info->caps = atomic_load_explicit(&port->caps, memory_order_relaxed);
		info->device = port->ucfg->device;
		info->eth_port = port->eth_port;
		rte_eth_macaddr_get(port->eth_port,
				    (struct rte_ether_addr *)info->mac);
		return 0;
	}
	info->vm = dp->cfg->vms[port->cfg->vm].name;
	info->socket = port->cfg->socket;
	if (port->opened) {
		struct vhost_port_status vs;

		if (vhost_port_status(port->vhost_handle, &vs) == 0) {
			memcpy(info->socket_buf, vs.path, sizeof(info->socket_buf));
			info->socket = info->socket_buf;
			if (vs.standby_path[0] != '\0') {
				memcpy(info->standby_buf, vs.standby_path,
				       sizeof(info->standby_buf));
				info->standby_socket = info->standby_buf;
			}
			info->standby = vs.standby;
			info->logging = vs.logging;
			info->owner_changes = vs.owner_changes;
			info->refused = vs.refused;
			info->takeovers = vs.takeovers;
			info->announces = vs.announces;
		}
	}
	info->client = port->cfg->mode == CFG_VHOST_CLIENT;
	memcpy(info->mac, port->cfg->mac, 6);
	info->uplink = port->cfg->uplink;
	info->weight = atomic_load_explicit(&port->weight, memory_order_relaxed);
	info->vid = atomic_load_explicit(&port->vid, memory_order_acquire);
	info->features = vhost_features(info->vid);
	info->offloads = port->cfg->offloads;
	info->caps = atomic_load_explicit(&port->caps, memory_order_relaxed);
	info->here = dp_port_here(dp, p);
	info->coring_queued = port->coring != NULL ?
			      rte_ring_count(port->coring) : 0;
	return 0;
}

int
dp_port_migrate(struct dp *dp, unsigned int p, const char *path, char *err,
		size_t err_size)
{
	struct dp_port *port;
	int rc;

	if (p >= dp->n_ports || dp->ports[p].kind != DP_PORT_VHOST ||
	    !dp->ports[p].opened) {
		snprintf(err, err_size, "not a VM port");
		return -ENOENT;
	}
	port = &dp->ports[p];
	rc = path != NULL ? vhost_port_migrate(port->vhost_handle, path) :
			    vhost_port_migrate_cancel(port->vhost_handle);
	switch (rc) {
	case 0:
		DP_LOG(INFO, "port %s: %s%s\n", port->name,
		       path != NULL ? "migrating to " : "migration cancelled",
		       path != NULL ? path : "");
		break;
	case -EOPNOTSUPP:
		snprintf(err, err_size, "port %s is in server mode: the destination QEMU connects to its socket %s itself",
			 port->name, port->cfg->socket);
		break;
	case -EBUSY:
		snprintf(err, err_size, "port %s: a migration is already under way (cancel it first)",
			 port->name);
		break;
	case -EEXIST:
		snprintf(err, err_size, "%s is already the socket of a port", path);
		break;
	case -ENOENT:
		snprintf(err, err_size, "port %s: no migration under way", port->name);
		break;
	case -EINVAL:
		snprintf(err, err_size, "the destination socket must be an absolute path of at most 107 bytes");
		break;
	default:
		snprintf(err, err_size, "port %s: cannot connect to %s: %s",
			 port->name, path != NULL ? path : "?", strerror(-rc));
		break;
	}
	return rc;
}

int
dp_port_offload_stats(const struct dp *dp, unsigned int p, struct toe_stats *st)
{
	if (p >= dp->n_ports)
		return -ENOENT;
	memset(st, 0, sizeof(*st));
	/* Each context has one writer, its worker; a reader sees each
	 * counter whole (aligned 64-bit), not the set at one instant. */
	for (unsigned int i = 0; i < dp->n_workers; i++)
		toe_stats_add(st, toe_ctx_stats(dp->workers[i].toe[p]));
	return 0;
}

int
dp_port_stats(const struct dp *dp, unsigned int p, struct dp_port_stats *out)
{
	if (p >= dp->n_ports)
		return -ENOENT;
	memset(out, 0, sizeof(*out));
	for (unsigned int i = 0; i < dp->n_workers; i++) {
		const struct dp_port_stats *s = &dp->workers[i].stats[p];

		/* Each counter has one writer; relaxed loads are enough for a
		 * consistent value of each (not of the set). */
		out->rx_packets += __atomic_load_n(&s->rx_packets, __ATOMIC_RELAXED);
		out->rx_bytes += __atomic_load_n(&s->rx_bytes, __ATOMIC_RELAXED);
		out->tx_packets += __atomic_load_n(&s->tx_packets, __ATOMIC_RELAXED);
		out->tx_bytes += __atomic_load_n(&s->tx_bytes, __ATOMIC_RELAXED);
		out->flood_copies += __atomic_load_n(&s->flood_copies,
						     __ATOMIC_RELAXED);
		out->gso_extra += __atomic_load_n(&s->gso_extra, __ATOMIC_RELAXED);
		out->gro_merged += __atomic_load_n(&s->gro_merged, __ATOMIC_RELAXED);
		out->tx_retries += __atomic_load_n(&s->tx_retries, __ATOMIC_RELAXED);
		out->direct_packets += __atomic_load_n(&s->direct_packets,
						       __ATOMIC_RELAXED);
		out->nic_tso += __atomic_load_n(&s->nic_tso, __ATOMIC_RELAXED);
		out->announces += __atomic_load_n(&s->announces, __ATOMIC_RELAXED);
		for (int r = 0; r < DP_DIRECT_STOP_MAX; r++)
			out->direct_stops[r] +=
				__atomic_load_n(&s->direct_stops[r], __ATOMIC_RELAXED);
		for (int r = 0; r < DP_DROP_MAX; r++)
			out->drops[r] += __atomic_load_n(&s->drops[r],
							 __ATOMIC_RELAXED);
	}
	/* What the main thread dropped (rings drained when a VM left). */
	for (int r = 0; r < DP_DROP_MAX; r++)
		out->drops[r] += __atomic_load_n(&dp->ctl_stats[p].drops[r],
						 __ATOMIC_RELAXED);
	return 0;
}

unsigned int
dp_worker_count(const struct dp *dp)
{
	return dp->n_workers;
}

int
dp_worker_info(const struct dp *dp, unsigned int i, struct dp_worker_info *info)
{
	const struct dp_worker *w;

	if (i >= dp->n_workers)
		return -ENOENT;
	w = &dp->workers[i];
	info->lcore = w->lcore;
	info->n_queues = w->n_rxqs;
	for (unsigned int q = 0; q < w->n_rxqs; q++) {
		info->queues[q].port = w->rxqs[q].port;
		info->queues[q].queue = w->rxqs[q].queue;
	}
	info->busy_cycles = __atomic_load_n(&w->busy_cycles, __ATOMIC_RELAXED);
	info->idle_cycles = __atomic_load_n(&w->idle_cycles, __ATOMIC_RELAXED);
	return 0;
}

unsigned int
dp_main_lcore(const struct dp *dp)
{
	(void)dp;
	return rte_get_main_lcore();
}

const struct fdb *
dp_fdb(const struct dp *dp)
{
	return dp->fdb;
}

unsigned int
dp_mbufs_in_use(const struct dp *dp)
{
	/* Counts per-lcore caches as free, so idle vhost-only switches read 0. */
	return rte_mempool_in_use_count(dp->pool);
}

unsigned int
dp_mbufs_total(const struct dp *dp)
{
	return dp->pool->size;
}

uint32_t
dp_now_s(const struct dp *dp)
{
	return (uint32_t)(rte_rdtsc() / dp->tsc_hz);
}

const struct cfg *
dp_cfg(const struct dp *dp)
{
	return dp->cfg;
}

uint32_t
dp_fdb_ageing_s(const struct dp *dp)
{
	return dp->fdb_ageing_s;
}

/* What a reload cannot change, each with the words for the error. */
static const char *
dp_reload_blocker(const struct cfg *a, const struct cfg *b)
{
	if (a->main_lcore != b->main_lcore || a->n_workers != b->n_workers ||
	    memcmp(a->workers, b->workers, sizeof(a->workers)) != 0)
		return "lcores";
	if (a->hugepages != b->hugepages || a->mbufs != b->mbufs)
		return "memory";
	if (strcmp(a->ctl_socket, b->ctl_socket) != 0 || a->ctl_mode != b->ctl_mode)
		return "control";
	if (a->fdb_size != b->fdb_size)
		return "fdb size";
	if (a->membership != b->membership ||
	    strcmp(a->membership_uri, b->membership_uri) != 0 ||
	    a->membership_mode != b->membership_mode ||
	    a->membership_interval_ms != b->membership_interval_ms)
		return "membership";
	if (strcmp(a->eal_file_prefix, b->eal_file_prefix) != 0 ||
	    a->n_eal_args != b->n_eal_args)
		return "eal";
	for (unsigned int i = 0; i < a->n_eal_args; i++)
		if (strcmp(a->eal_args[i], b->eal_args[i]) != 0)
			return "eal";
	if (a->n_uplinks != b->n_uplinks)
		return "the uplinks";
	for (unsigned int u = 0; u < a->n_uplinks; u++) {
		const struct cfg_uplink *x = &a->uplinks[u], *y = &b->uplinks[u];

		if (strcmp(x->name, y->name) != 0 || strcmp(x->device, y->device) != 0)
			return "the uplinks";
		if (x->rate_bps != y->rate_bps || x->queue_packets != y->queue_packets ||
		    x->queue_bytes != y->queue_bytes)
			return "an uplink's rate or queue bounds";
	}
	if (a->n_vms != b->n_vms || a->n_ports != b->n_ports)
		return "the VMs or their ports";
	for (unsigned int v = 0; v < a->n_vms; v++)
		if (strcmp(a->vms[v].name, b->vms[v].name) != 0 ||
		    a->vms[v].n_ports != b->vms[v].n_ports)
			return "the VMs or their ports";
	for (unsigned int i = 0; i < a->n_ports; i++) {
		const struct cfg_port *x = &a->ports[i], *y = &b->ports[i];

		if (strcmp(x->name, y->name) != 0 || strcmp(x->socket, y->socket) != 0 ||
		    x->mode != y->mode || memcmp(x->mac, y->mac, 6) != 0 ||
		    x->queues != y->queues || x->uplink != y->uplink ||
		    x->offloads != y->offloads ||
		    x->takeover_newest != y->takeover_newest)
			return "a port's name, socket, mode, MAC, queues, uplink, offloads or takeover";
	}
	return NULL;
}

int
dp_reload(struct dp *dp, const struct cfg *next, char *err, size_t err_size)
{
	const char *blocker = dp_reload_blocker(dp->cfg, next);
	uint16_t first_vm_port = (uint16_t)dp->cfg->n_uplinks;

	if (blocker != NULL) {
		snprintf(err, err_size, "%s: changing %s needs a restart; nothing was changed",
			 next->path, blocker);
		return -EINVAL;
	}
	/* Weights were validated by the parser (1..1000): this cannot fail. */
	for (unsigned int i = 0; i < next->n_ports; i++)
		dp_qos_weight_set(dp, first_vm_port + i, next->ports[i].weight);
	dp->fdb_ageing_s = next->fdb_ageing_s;
	DP_LOG(NOTICE, "reloaded %s: weights and MAC ageing applied\n", next->path);
	return 0;
}
