/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The switch's life cycle and its read side, all on the main thread:
 * build the port table and the MAC table from the config, spread the rx
 * queues over the workers, launch and stop them, age the MAC table, and
 * sum per-worker counters for the control socket and telemetry.
 */
#include "dp_priv.h"

#include <errno.h>
#include <pthread.h>
#include <stddef.h>
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

#include "config/cfg_diff.h"
#include "dp_members.h"
#include "fdb.h"
#include "toe_stack/toe_offload.h"
#include "vhost/vhost.h"

RTE_LOG_REGISTER(dp_logtype, vtoe.dataplane, INFO);

const struct dp_counter dp_port_counters[] = {
#define DP_COUNTER_ROW(f, name, view, help) \
	{ name, DP_VIEW_##view, offsetof(struct dp_port_stats, f) },
	DP_PORT_COUNTERS(DP_COUNTER_ROW)
#undef DP_COUNTER_ROW
};
const unsigned int dp_n_port_counters = RTE_DIM(dp_port_counters);

static pthread_mutex_t dp_table_mutex = PTHREAD_MUTEX_INITIALIZER;

void
dp_table_lock(void)
{
	pthread_mutex_lock(&dp_table_mutex);
}

void
dp_table_unlock(void)
{
	pthread_mutex_unlock(&dp_table_mutex);
}

#define DP_MBUF_CACHE 256
#define DP_AGE_INTERVAL_S 1

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
		dp->workers[i].epfd = dp->workers[i].wake_fd = -1;
		if (dp->intr && dp_intr_init(&dp->workers[i]) != 0) {
			DP_LOG(ERR, "worker %u: cannot set up interrupt mode\n", i);
			return -ENOMEM;
		}
	}
	for (unsigned int i = 0; i < dp->n_workers; i++) {
		struct dp_worker *w = &dp->workers[i];

		w->seg_out = rte_zmalloc("vtoe_seg_out",
					 sizeof(*w->seg_out) * DP_SEG_OUT, 0);
		if (w->seg_out == NULL || dp_toe_worker_init(w) != 0)
			return -ENOMEM;
	}
	sz = rte_rcu_qsbr_get_memsize(dp->n_workers);
	dp->rcu = rte_zmalloc("vtoe_rcu", sz, RTE_CACHE_LINE_SIZE);
	if (dp->rcu == NULL)
		return -ENOMEM;
	if (rte_rcu_qsbr_init(dp->rcu, dp->n_workers) != 0)
		return -rte_errno;
	return dp_plans_publish(dp);
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
	dp->intr = cfg->poll == CFG_POLL_INTERRUPT;
	dp->tsc_hz = rte_get_tsc_hz();
	atomic_init(&dp->stop, false);
	pthread_mutex_init(&dp->cap_view_lock, NULL);

	memset(dp->net_of_vlan, 0xff, sizeof(dp->net_of_vlan));
	dp->n_nets = (uint16_t)cfg->n_networks;
	for (uint16_t n = 0; n < dp->n_nets; n++) {
		dp->nets[n] = cfg->networks[n];
		/* An overlay network is on no VLAN of the uplinks. */
		if (dp->nets[n].vni == 0)
			dp->net_of_vlan[dp->nets[n].vlan] = (int16_t)n;
		dp->fdbs[n] = fdb_create(cfg->fdb_size);
		if (dp->fdbs[n] == NULL) {
			rc = -errno;
			goto err;
		}
	}
	/* An untagged "default" nobody uses must not take the untagged
	 * frames of a declared untagged network (the config allows that). */
	for (uint16_t n = 1; n < dp->n_nets; n++)
		if (dp->nets[n].vlan == 0 && dp->nets[n].vni == 0)
			dp->net_of_vlan[0] = (int16_t)n;
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
	if (cfg->sockdir[0] != '\0') {
		rc = vhost_socket_dir_prepare(cfg->sockdir, cfg->sockdir_group,
					      cfg->sockdir_mode);
		if (rc != 0) {
			DP_LOG(ERR, "socket_dir %s: %s\n", cfg->sockdir,
			       strerror(-rc));
			goto err;
		}
	}
	rc = cfg->n_uplinks + cfg->n_ports > DP_PORTS_MAX ? -E2BIG : 0;
	if (rc == 0)
		rc = dp_workers_create(dp);
	if (rc == 0)
		rc = dp_members_create(dp);
	/* Uplinks first: VM ports name theirs, and frames may flow as soon
	 * as a guest connects. */
	for (unsigned int u = 0; rc == 0 && u < cfg->n_uplinks; u++) {
		int p = dp_uplink_add(dp, &cfg->uplinks[u]);

		rc = p < 0 ? p : 0;
	}
	/* The overlay's uplink is there; its ports' guests learn its MTU. */
	if (rc == 0)
		rc = dp_overlay_create(dp);
	for (unsigned int i = 0; rc == 0 && i < cfg->n_ports; i++) {
		int p = dp_port_add(dp, cfg, &cfg->ports[i],
				    cfg->vms[cfg->ports[i].vm].name, false);

		rc = p < 0 ? p : 0;
	}
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
	dp_capture_poll(dp);
	vhost_housekeeping();
	dp_overlay_dispatch(dp);
	if (now - dp->last_age_tsc < DP_AGE_INTERVAL_S * dp->tsc_hz)
		return;
	dp->last_age_tsc = now;
	dp_load_tick(dp);
	aged = 0;
	for (uint16_t n = 0; n < dp->n_nets; n++)
		aged += fdb_age(dp->fdbs[n], dp_now_s(dp), dp->fdb_ageing_s);
	if (aged > 0)
		DP_LOG(DEBUG, "aged out %u MAC table entries\n", aged);
}

void
dp_stop(struct dp *dp)
{
	atomic_store_explicit(&dp->stop, true, memory_order_relaxed);
	for (unsigned int i = 0; i < dp->n_workers; i++)
		dp_wake(&dp->workers[i]);
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
	dp_capture_destroy(dp);
	dp_ports_close(dp);
	dp_overlay_destroy(dp);
	dp_members_destroy(dp);
	for (uint16_t p = 0; dp->workers != NULL && p < DP_PORTS_MAX; p++)
		dp_toe_port_free(dp, p);
	for (unsigned int i = 0; dp->workers != NULL && i < dp->n_workers; i++) {
		for (uint16_t p = 0; p < DP_PORTS_MAX; p++)
			toe_ctx_destroy(dp->workers[i].toe[p]);
		rte_free(dp->workers[i].seg_out);
		dp_toe_worker_fini(&dp->workers[i]);
		dp_impair_fini(&dp->workers[i]);
		free(atomic_load(&dp->workers[i].plan));
		dp_intr_fini(&dp->workers[i]);
	}
	if (dp->cfg_owned != NULL)
		cfg_free(dp->cfg_owned);
	rte_mempool_free(dp->pool);
	rte_free(dp->rcu);
	rte_free(dp->workers);
	for (uint16_t n = 0; n < CFG_MAX_NETWORKS; n++)
		fdb_destroy(dp->fdbs[n]);
	rte_free(dp);
}

unsigned int
dp_port_count(const struct dp *dp)
{
	return atomic_load_explicit(&dp->n_ports, memory_order_relaxed);
}

int
dp_port_find(const struct dp *dp, const char *name)
{
	for (uint16_t p = 0; p < dp_port_count(dp); p++)
		if (dp->ports[p].used && strcmp(dp->ports[p].name, name) == 0)
			return p;
	return -ENOENT;
}

int
dp_port_info(const struct dp *dp, unsigned int p, struct dp_port_info *info)
{
	const struct dp_port *port;

	if (p >= DP_PORTS_MAX || !dp->ports[p].used)
		return -ENOENT;
	port = &dp->ports[p];
	memset(info, 0, sizeof(*info));
	info->name = port->name;
	info->kind = port->kind;
	info->queues = port->queues;
	info->link_up = portset_shared_has(&dp->up, (uint16_t)p);
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
	info->vm = port->vm;
	info->from_libvirt = port->from_libvirt;
	info->network = dp->nets[port->net].name;
	info->vlan = port->vlan;
	info->port_security = port->psec.on;
	info->ip_restricted = port->psec.ip_restricted;
	info->impair = port->conf.impair;
	if (atomic_load_explicit(&port->imp_dir, memory_order_relaxed) == 0)
		info->impair.dir = 0;
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
	info->uplink = port->uplink_id;
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

	if (p >= DP_PORTS_MAX || !dp->ports[p].used ||
	    dp->ports[p].kind != DP_PORT_VHOST || !dp->ports[p].opened) {
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
dp_port_impair(struct dp *dp, unsigned int p, const struct cfg_impair *im)
{
	if (p >= DP_PORTS_MAX || !dp->ports[p].used ||
	    dp->ports[p].kind != DP_PORT_VHOST)
		return -ENOENT;
	dp_port_impair_set(dp, (uint16_t)p, im);
	return 0;
}

int
dp_port_offload_stats(const struct dp *dp, unsigned int p, struct toe_stats *st)
{
	if (p >= DP_PORTS_MAX || !dp->ports[p].used)
		return -ENOENT;
	memset(st, 0, sizeof(*st));
	/* Each context has one writer, its worker; a reader sees each
	 * counter whole (aligned 64-bit), not the set at one instant. */
	for (unsigned int i = 0; i < dp->n_workers; i++)
		toe_stats_add(st, toe_ctx_stats(dp->workers[i].toe[p]));
	return 0;
}

/* The counters of slot p since the switch started. */
void
dp_port_stats_raw(const struct dp *dp, unsigned int p, struct dp_port_stats *out)
{
	uint64_t *o = (uint64_t *)out;
	const size_t n = sizeof(*out) / sizeof(uint64_t);

	_Static_assert(sizeof(struct dp_port_stats) % sizeof(uint64_t) == 0,
		       "dp_port_stats is a list of 64-bit counters");
	memset(out, 0, sizeof(*out));
	for (unsigned int i = 0; i <= dp->n_workers; i++) {
		/* Each worker's counters, then what the main thread dropped
		 * (rings drained when a VM left).  Each counter has one
		 * writer; relaxed loads give a whole value of each (not of
		 * the set at one instant). */
		const uint64_t *s = (const uint64_t *)(i < dp->n_workers ?
			&dp->workers[i].stats[p] : &dp->ctl_stats[p]);

		for (size_t k = 0; k < n; k++)
			o[k] += __atomic_load_n(&s[k], __ATOMIC_RELAXED);
	}
}

int
dp_port_stats(const struct dp *dp, unsigned int p, struct dp_port_stats *out)
{
	const uint64_t *b = (const uint64_t *)&dp->stats_base[p];
	uint64_t *o = (uint64_t *)out;

	if (p >= DP_PORTS_MAX || !dp->ports[p].used)
		return -ENOENT;
	dp_port_stats_raw(dp, p, out);
	/* Counters from the slot's earlier ports do not belong to it. */
	for (size_t k = 0; k < sizeof(*out) / sizeof(uint64_t); k++)
		o[k] -= b[k];
	return 0;
}

void
dp_stats_totals(const struct dp *dp, struct dp_port_stats *sum)
{
	uint64_t *o = (uint64_t *)sum;

	memset(sum, 0, sizeof(*sum));
	for (unsigned int p = 0; p < DP_PORTS_MAX; p++) {
		struct dp_port_stats st;
		const uint64_t *s = (const uint64_t *)&st;

		dp_port_stats_raw(dp, p, &st);
		for (size_t k = 0; k < sizeof(st) / sizeof(uint64_t); k++)
			o[k] += s[k];
	}
}

uint64_t
dp_ports_removed(const struct dp *dp, uint64_t *drained)
{
	*drained = dp->removed_drained;
	return dp->ports_removed;
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
	const struct dp_plan *pl;

	if (i >= dp->n_workers)
		return -ENOENT;
	w = &dp->workers[i];
	info->lcore = w->lcore;
	/* The main thread is the only one that swaps plans. */
	pl = atomic_load_explicit(&w->plan, memory_order_acquire);
	info->n_queues = pl->n_rxqs;
	for (unsigned int q = 0; q < pl->n_rxqs; q++) {
		uint16_t p = pl->rxqs[q].port, k = pl->rxqs[q].queue;
		uint64_t frames, window, cycles;

		cycles = dp_load_queue(dp, p, k, &frames, &window);
		info->queues[q].port = p;
		info->queues[q].queue = k;
		info->queues[q].pinned = (dp->ports[p].pinned >> k) & 1;
		info->queues[q].load_pct = window == 0 ? 0 :
			100.0 * (double)cycles / (double)window;
		info->queues[q].frames_per_s = window == 0 ? 0 :
			(double)frames * (double)dp->tsc_hz / (double)window;
	}
	dp_load_worker(dp, i, info);
	info->wakeups = __atomic_load_n(&w->wakeups, __ATOMIC_RELAXED);
	info->busy_cycles = __atomic_load_n(&w->busy_cycles, __ATOMIC_RELAXED);
	info->idle_cycles = __atomic_load_n(&w->idle_cycles, __ATOMIC_RELAXED);
	info->sleep_cycles = __atomic_load_n(&w->sleep_cycles, __ATOMIC_RELAXED);
	info->sleeps = __atomic_load_n(&w->sleeps, __ATOMIC_RELAXED);
	for (unsigned int b = 0; b < DP_LOOP_HIST; b++)
		info->loop_hist[b] = __atomic_load_n(&w->loop_hist[b],
						     __ATOMIC_RELAXED);
	info->loop_max_cycles = __atomic_load_n(&w->loop_max_cycles,
						__ATOMIC_RELAXED);
	info->tsc_hz = dp->tsc_hz;
	info->tid = __atomic_load_n(&w->tid, __ATOMIC_ACQUIRE);
	/* The ring's latest entries; those the worker may have written over
	 * while we copied are left out, with the one it may be writing (its
	 * slot is taken before n_long counts it). */
	{
		uint64_t n1 = __atomic_load_n(&w->n_long, __ATOMIC_ACQUIRE), n2;
		uint64_t from = n1 > DP_LONG_LOOPS ? n1 - DP_LONG_LOOPS : 0;

		info->n_long = 0;
		for (uint64_t k = from; k < n1; k++) {
			uint64_t c = __atomic_load_n(&w->long_loops[k % DP_LONG_LOOPS].cycles,
						     __ATOMIC_RELAXED);

			info->long_loops[info->n_long].end_ns =
				__atomic_load_n(&w->long_loops[k % DP_LONG_LOOPS].end_ns,
						__ATOMIC_RELAXED);
			info->long_loops[info->n_long++].ns = (uint64_t)
				((double)c * 1e9 / (double)dp->tsc_hz);
		}
		__atomic_thread_fence(__ATOMIC_ACQUIRE);
		n2 = __atomic_load_n(&w->n_long, __ATOMIC_RELAXED);
		if (n2 + 1 > DP_LONG_LOOPS && n2 + 1 - DP_LONG_LOOPS > from) {
			uint64_t lost = n2 + 1 - DP_LONG_LOOPS - from;

			lost = lost > info->n_long ? info->n_long : lost;
			memmove(info->long_loops, info->long_loops + lost,
				(info->n_long - lost) * sizeof(info->long_loops[0]));
			info->n_long -= (unsigned int)lost;
		}
	}
	return 0;
}

unsigned int
dp_main_lcore(const struct dp *dp)
{
	(void)dp;
	return rte_get_main_lcore();
}

const struct fdb *
dp_fdb(const struct dp *dp, uint16_t net)
{
	return net < dp->n_nets ? dp->fdbs[net] : NULL;
}

uint16_t
dp_n_networks(const struct dp *dp)
{
	return dp->n_nets;
}

const struct cfg_network *
dp_network(const struct dp *dp, uint16_t net)
{
	return net < dp->n_nets ? &dp->nets[net] : NULL;
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

int
dp_reload(struct dp *dp, struct cfg *next, struct cfg_diff *d, char *err,
	  size_t err_size)
{
	const struct cfg *prev = dp->cfg;
	unsigned int failed = 0;
	size_t len = 0;

	cfg_diff(prev, next, d);
	if (d->restart) {
		snprintf(err, err_size, "%s; nothing was changed", d->why);
		return -EINVAL;
	}
	dp_table_lock();
	/* Removed and re-created ports go first: the ports that are added
	 * may take their MACs and sockets (and uplinks their devices). */
	for (unsigned int i = 0; i < d->n_ports; i++) {
		const struct cfg_diff_entry *e = &d->ports[i];
		int p;

		if (e->change != CFG_REMOVED && e->change != CFG_CHANGED)
			continue;
		p = dp_config_port_find(dp, e->name);
		if (p >= 0)
			dp_port_remove(dp, (uint16_t)p);
	}
	/* A global that re-creates every VM port: those from libvirt too
	 * (made again below, from the table). */
	if (d->recreate_all != NULL) {
		for (uint16_t p = 0; p < DP_PORTS_MAX; p++)
			if (dp->ports[p].used && dp->ports[p].from_libvirt)
				dp_port_remove(dp, p);
		__atomic_store_n(&dp->direct, next->direct, __ATOMIC_RELAXED);
	}
	for (unsigned int i = 0; i < d->n_uplinks; i++) {
		const struct cfg_diff_entry *e = &d->uplinks[i];
		int p;

		if (e->change != CFG_REMOVED && e->change != CFG_CHANGED)
			continue;
		if ((p = dp_uplink_find(dp, e->name)) >= 0)
			dp_uplink_remove(dp, (uint16_t)p);
	}
	/* Then the new uplinks (the VM ports added next name them). */
	for (unsigned int i = 0; i < d->n_uplinks; i++) {
		const struct cfg_diff_entry *e = &d->uplinks[i];
		int p;

		if (e->new_idx < 0 || dp_uplink_find(dp, e->name) >= 0)
			continue;
		p = dp_uplink_add(dp, &next->uplinks[e->new_idx]);
		if (p < 0) {
			len += (size_t)snprintf(err + len, len < err_size ? err_size - len : 0,
				"%suplink %s: cannot start it: %s",
				failed++ > 0 ? "; " : "", e->name, strerror(-p));
			len = len < err_size ? len : err_size;
		}
	}
	for (unsigned int i = 0; i < d->n_ports; i++) {
		struct cfg_diff_entry *e = &d->ports[i];
		const struct cfg_port *pc = e->new_idx >= 0 ?
					    &next->ports[e->new_idx] : NULL;
		int p = e->change == CFG_REMOVED ? -1 :
			dp_config_port_find(dp, e->name);
		struct dp_port *port;

		if (pc == NULL)
			continue;
		if (p < 0) {
			/* Added, re-created, or missing since a reload that
			 * could not create it. */
			p = dp_port_add(dp, next, pc, next->vms[pc->vm].name, false);
			if (p < 0) {
				len += (size_t)snprintf(err + len, len < err_size ? err_size - len : 0,
					"%sport %s: cannot create it: %s",
					failed++ > 0 ? "; " : "", e->name,
					strerror(-p));
				len = len < err_size ? len : err_size;
			}
			continue;
		}
		/* Kept: its LIVE fields, and its indexes into the new file. */
		port = &dp->ports[p];
		if (port->conf.weight != pc->weight)
			dp_qos_weight_set(dp, (unsigned int)p, pc->weight);
		if (memcmp(&port->conf.impair, &pc->impair, sizeof(pc->impair)) != 0)
			dp_port_impair_set(dp, (uint16_t)p, &pc->impair);
		port->conf.weight = pc->weight;
		port->conf.vm = pc->vm;
		port->conf.uplink = pc->uplink;
		snprintf(port->uplink_name, sizeof(port->uplink_name), "%s",
			 pc->uplink >= 0 ? next->uplinks[pc->uplink].name : "");
		port->conf.at = pc->at;
		snprintf(port->vm, sizeof(port->vm), "%s", next->vms[pc->vm].name);
	}
	dp->fdb_ageing_s = next->fdb_ageing_s;
	dp_uplinks_rebind(dp);
	/* The new file is the config in effect from now on. */
	dp->cfg = next;
	if (dp->cfg_owned != NULL)
		cfg_free(dp->cfg_owned);
	dp->cfg_owned = next;
	dp_table_unlock();
	dp_members_attach(dp);
	DP_LOG(NOTICE, "reloaded %s: %u added, %u removed, %u changed, %u unchanged%s\n",
	       next->path, cfg_diff_count(d, CFG_ADDED),
	       cfg_diff_count(d, CFG_REMOVED),
	       cfg_diff_count(d, CFG_CHANGED) + cfg_diff_count(d, CFG_CHANGED_LIVE),
	       cfg_diff_count(d, CFG_UNCHANGED),
	       failed > 0 ? " (some ports could not be created)" : "");
	return failed > 0 ? -EIO : 0;
}
