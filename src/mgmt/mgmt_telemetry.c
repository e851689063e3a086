/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The switch's counters as DPDK telemetry commands, so dpdk-telemetry.py
 * sees what vtoectl sees: /vtoe/ports, /vtoe/stats,PORT (with the path
 * to the port and the software TOE's counters), /vtoe/toe,PORT (its
 * endpoint), /vtoe/cluster (the overlay), /vtoe/lcores, /vtoe/fdb,
 * /vtoe/qos,UPLINK.  Callbacks run on the telemetry thread and only read.
 */
#include "mgmt.h"

#include <errno.h>
#include <stddef.h>
#include <stdatomic.h>
#include <stdio.h>
#include <sched.h>
#include <string.h>

#include <rte_telemetry.h>

#include "config/cfg.h"
#include "dataplane/dp.h"
#include "dataplane/dp_overlay.h"
#include "dataplane/fdb.h"
#include "toe_stack/toe_offload.h"

/*
 * Cleared before the switch is destroyed; telemetry cannot unregister.  A
 * callback counts itself in tel_busy before it loads tel_dp, and
 * mgmt_telemetry_unregister() waits for the count to drop after clearing
 * tel_dp (both sequentially consistent: either the callback sees NULL or
 * the unregister sees it busy), so no callback still reads a switch that
 * is being freed.
 */
static _Atomic(struct dp *) tel_dp;
static atomic_uint tel_busy;

#define TEL_GUARDED(fn) \
static int \
fn##_guarded(const char *cmd, const char *params, struct rte_tel_data *d) \
{ \
	int rc; \
	atomic_fetch_add(&tel_busy, 1); \
	dp_table_lock(); \
	rc = fn(cmd, params, d); \
	dp_table_unlock(); \
	atomic_fetch_sub(&tel_busy, 1); \
	return rc; \
}

static int
tel_ports(const char *cmd, const char *params, struct rte_tel_data *d)
{
	struct dp *dp = atomic_load(&tel_dp);

	(void)cmd; (void)params;
	if (dp == NULL)
		return -ENODEV;
	rte_tel_data_start_array(d, RTE_TEL_STRING_VAL);
	for (unsigned int p = 0; p < dp_port_count(dp); p++) {
		struct dp_port_info in;

		if (dp_port_info(dp, p, &in) == 0)
			rte_tel_data_add_array_string(d, in.name);
	}
	return 0;
}

/* The port counters of one view, as PREFIX + their names. */
static void
tel_counters(struct rte_tel_data *d, const struct dp_port_stats *st,
	     enum dp_counter_view view, const char *prefix)
{
	for (unsigned int c = 0; c < dp_n_port_counters; c++) {
		char key[64];

		if (dp_port_counters[c].view != view)
			continue;
		snprintf(key, sizeof(key), "%s%s", prefix, dp_port_counters[c].name);
		rte_tel_data_add_dict_u64(d, key, DP_COUNTER(st, &dp_port_counters[c]));
	}
}

/* The software TOE's work for this port, as "offload_*" keys. */
static void
tel_offload(struct rte_tel_data *d, const struct dp *dp, unsigned int p,
	    const struct dp_port_stats *st)
{
	struct toe_stats ts;

	dp_port_offload_stats(dp, p, &ts);
#define TOE_COUNTER_TEL(f, help) \
	rte_tel_data_add_dict_u64(d, "offload_" #f, ts.f);
	TOE_COUNTERS(TOE_COUNTER_TEL)
#undef TOE_COUNTER_TEL
	tel_counters(d, st, DP_VIEW_OFFLOAD, "offload_");
	for (int r = 1; r < TOE_DROP_MAX; r++) {
		char key[64];

		snprintf(key, sizeof(key), "offload_drop_%s", toe_drop_name(r));
		rte_tel_data_add_dict_u64(d, key, ts.drops[r]);
	}
}

static int
tel_stats(const char *cmd, const char *params, struct rte_tel_data *d)
{
	struct dp *dp = atomic_load(&tel_dp);
	struct dp_port_stats st;
	struct dp_port_info in;
	uint64_t total = 0;
	int p;

	(void)cmd;
	if (dp == NULL)
		return -ENODEV;
	if (params == NULL || (p = dp_port_find(dp, params)) < 0)
		return -EINVAL;
	dp_port_info(dp, (unsigned int)p, &in);
	dp_port_stats(dp, (unsigned int)p, &st);
	rte_tel_data_start_dict(d);
	rte_tel_data_add_dict_string(d, "name", in.name);
	rte_tel_data_add_dict_string(d, "link", in.link_up ? "up" : "down");
	tel_counters(d, &st, DP_VIEW_PORT, "");
	for (int r = 0; r < DP_DROP_MAX; r++) {
		char key[64];

		snprintf(key, sizeof(key), "drop_%s", dp_drop_name(r));
		rte_tel_data_add_dict_u64(d, key, st.drops[r]);
		total += st.drops[r];
	}
	rte_tel_data_add_dict_u64(d, "drops_total", total);
	rte_tel_data_add_dict_u64(d, "features", in.features);
	if (in.kind == DP_PORT_VHOST) {
		rte_tel_data_add_dict_string(d, "path", in.here ? "coresident" :
					     "uplink");
		rte_tel_data_add_dict_string(d, "network", in.network);
		rte_tel_data_add_dict_int(d, "vlan", in.vlan);
		rte_tel_data_add_dict_string(d, "port_security",
					     !in.port_security ? "off" :
					     in.ip_restricted ? "mac+ip" : "mac");
		/* Who runs the port, as vtoectl's "owner". */
		rte_tel_data_add_dict_int(d, "owner_vid", in.vid);
		rte_tel_data_add_dict_u64(d, "owner_standby", in.standby);
		rte_tel_data_add_dict_string(d, "owner_migrating_to",
					     in.standby_socket != NULL ?
					     in.standby_socket : "");
		rte_tel_data_add_dict_u64(d, "owner_dirty_logging", in.logging);
		rte_tel_data_add_dict_u64(d, "owner_changes", in.owner_changes);
		rte_tel_data_add_dict_u64(d, "owner_refused", in.refused);
		rte_tel_data_add_dict_u64(d, "owner_takeovers", in.takeovers);
		rte_tel_data_add_dict_u64(d, "owner_announces", in.announces);
		for (int r = 0; r < DP_DIRECT_STOP_MAX; r++) {
			char key[64];

			snprintf(key, sizeof(key), "direct_stop_%s",
				 dp_direct_stop_name((enum dp_direct_stop)r));
			rte_tel_data_add_dict_u64(d, key, st.direct_stops[r]);
		}
	}
	tel_offload(d, dp, (unsigned int)p, &st);
	return 0;
}

static int
tel_lcores(const char *cmd, const char *params, struct rte_tel_data *d)
{
	struct dp *dp = atomic_load(&tel_dp);

	(void)cmd; (void)params;
	if (dp == NULL)
		return -ENODEV;
	rte_tel_data_start_dict(d);
	for (unsigned int i = 0; i < dp_worker_count(dp); i++) {
		static struct dp_worker_info wi;        /* under the table lock */
		struct rte_tel_data *w = rte_tel_data_alloc(), *qs;
		char key[32];

		if (w == NULL)
			return -ENOMEM;
		dp_worker_info(dp, i, &wi);
		rte_tel_data_start_dict(w);
		rte_tel_data_add_dict_u64(w, "queues", wi.n_queues);
		rte_tel_data_add_dict_u64(w, "busy_cycles", wi.busy_cycles);
		rte_tel_data_add_dict_u64(w, "idle_cycles", wi.idle_cycles);
		rte_tel_data_add_dict_u64(w, "sleep_cycles", wi.sleep_cycles);
		rte_tel_data_add_dict_u64(w, "sleeps", wi.sleeps);
		rte_tel_data_add_dict_u64(w, "wakeups", wi.wakeups);
		/* the last window, in hundredths of a percent */
		rte_tel_data_add_dict_u64(w, "busy_bp", (uint64_t)(wi.busy_pct * 100));
		rte_tel_data_add_dict_u64(w, "sleep_bp", (uint64_t)(wi.sleep_pct * 100));
		rte_tel_data_add_dict_u64(w, "loop_max_cycles", wi.loop_max_cycles);
		/* Containers hold scalars only: one string per queue,
		 * "PORT:QUEUE LOAD_BP FRAMES_PER_S PINNED". */
		if (wi.n_queues > 0 && (qs = rte_tel_data_alloc()) != NULL) {
			rte_tel_data_start_array(qs, RTE_TEL_STRING_VAL);
			for (unsigned int q = 0; q < wi.n_queues; q++) {
				char line[96];
				struct dp_port_info pi;

				if (dp_port_info(dp, wi.queues[q].port, &pi) != 0)
					continue;
				snprintf(line, sizeof(line), "%s:%u %u %.0f %s",
					 pi.name, wi.queues[q].queue,
					 (unsigned int)(wi.queues[q].load_pct * 100),
					 wi.queues[q].frames_per_s,
					 wi.queues[q].pinned ? "pinned" : "-");
				if (rte_tel_data_add_array_string(qs, line) != 0)
					break;
			}
			rte_tel_data_add_dict_container(w, "queue_load", qs, 0);
		}
		snprintf(key, sizeof(key), "lcore%u", wi.lcore);
		rte_tel_data_add_dict_container(d, key, w, 0);
	}
	return 0;
}

struct tel_fdb {
	struct dp *dp;
	struct rte_tel_data *d;
	const char *network;
};

static int
tel_fdb_one(const struct fdb_entry *e, void *arg)
{
	struct tel_fdb *t = arg;
	struct dp_port_info in;
	char mac[18], line[96];

	/* Telemetry containers hold scalars only and dict keys may not hold
	 * ':', so each entry is one string: "NETWORK MAC PORT TYPE". */
	if (dp_port_info(t->dp, e->port, &in) != 0)
		return 0;
	cfg_mac_format(e->mac, mac, sizeof(mac));
	snprintf(line, sizeof(line), "%s %s %s %s", t->network, mac, in.name,
		 e->is_static ? "static" : "learned");
	/* Fails once telemetry's array is full: stop walking then. */
	return rte_tel_data_add_array_string(t->d, line) == 0 ? 0 : -ENOSPC;
}

static int
tel_fdb(const char *cmd, const char *params, struct rte_tel_data *d)
{
	struct tel_fdb t = { atomic_load(&tel_dp), d, NULL };

	(void)cmd; (void)params;
	if (t.dp == NULL)
		return -ENODEV;
	rte_tel_data_start_array(d, RTE_TEL_STRING_VAL);
	for (uint16_t n = 0; n < dp_n_networks(t.dp); n++) {
		t.network = dp_network(t.dp, n)->name;
		if (fdb_walk(dp_fdb(t.dp, n), tel_fdb_one, &t) != 0)
			break;
	}
	return 0;
}

/* An array of one class counter (a 32- or 64-bit field of struct
 * dwrr_class_stats at offset), in class order, added to dict d. */
static int
tel_qos_column(struct rte_tel_data *d, const char *key,
	       const struct dp_qos_info *qi, size_t offset, size_t size)
{
	struct rte_tel_data *a = rte_tel_data_alloc();

	if (a == NULL)
		return -ENOMEM;
	rte_tel_data_start_array(a, RTE_TEL_U64_VAL);
	for (uint32_t c = 0; c < qi->n_classes; c++) {
		const uint8_t *st = (const uint8_t *)&qi->classes[c].st;
		uint64_t v64 = 0;
		uint32_t v32 = 0;

		if (size == sizeof(v32)) {
			memcpy(&v32, st + offset, sizeof(v32));
			v64 = v32;
		} else {
			memcpy(&v64, st + offset, sizeof(v64));
		}
		rte_tel_data_add_array_u64(a, v64);
	}
	return rte_tel_data_add_dict_container(d, key, a, 0);
}

/* Dict keys cannot hold port names ('.'), so classes are columns:
 * parallel arrays in the order of "ports". */
static int
tel_qos(const char *cmd, const char *params, struct rte_tel_data *d)
{
	struct dp *dp = atomic_load(&tel_dp);
	static struct dp_qos_info qi;   /* telemetry runs one command at a time */
	struct rte_tel_data *ports, *weights, *shares;
	struct dp_port_info in;
	int p;

	(void)cmd;
	if (dp == NULL)
		return -ENODEV;
	if (params == NULL || (p = dp_port_find(dp, params)) < 0 ||
	    dp_qos_info(dp, (unsigned int)p, &qi) != 0)
		return -EINVAL;
	ports = rte_tel_data_alloc();
	weights = rte_tel_data_alloc();
	shares = rte_tel_data_alloc();
	if (ports == NULL || weights == NULL || shares == NULL) {
		rte_tel_data_free(ports);
		rte_tel_data_free(weights);
		rte_tel_data_free(shares);
		return -ENOMEM;
	}
	rte_tel_data_start_array(ports, RTE_TEL_STRING_VAL);
	rte_tel_data_start_array(weights, RTE_TEL_U64_VAL);
	rte_tel_data_start_array(shares, RTE_TEL_U64_VAL);
	for (uint32_t c = 0; c < qi.n_classes; c++) {
		dp_port_info(dp, qi.classes[c].port, &in);
		rte_tel_data_add_array_string(ports, in.name);
		rte_tel_data_add_array_u64(weights, qi.classes[c].st.weight);
		rte_tel_data_add_array_u64(shares, qi.classes[c].share_ppm);
	}
	rte_tel_data_start_dict(d);
	rte_tel_data_add_dict_u64(d, "rate_bps", qi.rate_bps);
	rte_tel_data_add_dict_u64(d, "base_quantum", qi.base_quantum);
	rte_tel_data_add_dict_u64(d, "queued", qi.queued);
	rte_tel_data_add_dict_container(d, "ports", ports, 0);
	rte_tel_data_add_dict_container(d, "weight", weights, 0);
	rte_tel_data_add_dict_container(d, "share_ppm", shares, 0);
#define COLUMN(f) tel_qos_column(d, #f, &qi, \
	offsetof(struct dwrr_class_stats, f), \
	sizeof(((struct dwrr_class_stats *)NULL)->f))
	COLUMN(deficit);
	COLUMN(backlog_packets);
	COLUMN(enqueued_packets);
	COLUMN(enqueued_bytes);
	COLUMN(sent_packets);
	COLUMN(sent_bytes);
	COLUMN(dropped_packets);
	COLUMN(backlog_bytes);
#undef COLUMN
	return 0;
}

/* A VM port's TOE endpoint: lease, counters, drops as "drop_*". */
static int
tel_toe(const char *cmd, const char *params, struct rte_tel_data *d)
{
	struct dp *dp = atomic_load(&tel_dp);
	struct dp_toe_info ti;
	uint64_t total = 0;
	int p;

	(void)cmd;
	if (dp == NULL)
		return -ENODEV;
	if (params == NULL || (p = dp_port_find(dp, params)) < 0 ||
	    dp_toe_info(dp, (unsigned int)p, &ti) != 0)
		return -EINVAL;
	rte_tel_data_start_dict(d);
	rte_tel_data_add_dict_string(d, "name", params);
	rte_tel_data_add_dict_string(d, "lease_state",
				     toe_ep_lease_state_name(ti.lease.state));
	rte_tel_data_add_dict_u64(d, "lease_expires_in_s",
				  ti.lease.state == TOE_EP_LEASE_BOUND &&
				  ti.lease.expires_ms > ti.now_ms ?
				  (ti.lease.expires_ms - ti.now_ms) / 1000 : 0);
	for (unsigned int k = 0; k < toe_ep_n_counters; k++)
		rte_tel_data_add_dict_u64(d, toe_ep_counters[k].name,
			*(const uint64_t *)((const char *)&ti.stats +
					    toe_ep_counters[k].off));
	for (int r = 0; r < TOE_EP_DROP_MAX; r++) {
		char key[64];

		snprintf(key, sizeof(key), "drop_%s", toe_ep_drop_name(r));
		rte_tel_data_add_dict_u64(d, key, ti.stats.drops[r]);
		total += ti.stats.drops[r];
	}
	rte_tel_data_add_dict_u64(d, "drops_total", total);
	return 0;
}

/* The overlay and its cluster directory: state, counters, vxlan drops. */
static int
tel_cluster(const char *cmd, const char *params, struct rte_tel_data *d)
{
	struct dp *dp = atomic_load(&tel_dp);
	struct dp_overlay_value v[64];
	char state[32];
	unsigned int n;

	(void)cmd;
	(void)params;
	if (dp == NULL)
		return -ENODEV;
	n = dp_overlay_values(dp, v, 64, state, sizeof(state));
	if (n == 0)
		return -ENOENT;
	rte_tel_data_start_dict(d);
	rte_tel_data_add_dict_string(d, "state", state);
	for (unsigned int i = 0; i < n; i++)
		rte_tel_data_add_dict_u64(d, v[i].name, v[i].value);
	return 0;
}

/* Running and just-ended captures, keyed by id: their port and counters. */
static int
tel_captures(const char *cmd, const char *params, struct rte_tel_data *d)
{
	struct dp *dp = atomic_load(&tel_dp);
	struct dp_capture_info ci[DP_CAPTURES_MAX];
	unsigned int n;

	(void)cmd;
	(void)params;
	if (dp == NULL)
		return -ENODEV;
	n = dp_capture_values(dp, ci, DP_CAPTURES_MAX);
	rte_tel_data_start_dict(d);
	for (unsigned int i = 0; i < n; i++) {
		struct rte_tel_data *c = rte_tel_data_alloc();
		char id[16];

		if (c == NULL)
			return -ENOMEM;
		rte_tel_data_start_dict(c);
		rte_tel_data_add_dict_string(c, "port", ci[i].port);
		rte_tel_data_add_dict_string(c, "state",
					     ci[i].done ? "ended" : "running");
		rte_tel_data_add_dict_u64(c, "seen", ci[i].seen);
		rte_tel_data_add_dict_u64(c, "filtered", ci[i].filtered);
		rte_tel_data_add_dict_u64(c, "written", ci[i].written);
		rte_tel_data_add_dict_u64(c, "lost", ci[i].lost);
		rte_tel_data_add_dict_u64(c, "bytes", ci[i].bytes);
		snprintf(id, sizeof(id), "%d", ci[i].id);
		rte_tel_data_add_dict_container(d, id, c, 0);
	}
	return 0;
}

TEL_GUARDED(tel_cluster)
TEL_GUARDED(tel_captures)
TEL_GUARDED(tel_ports)
TEL_GUARDED(tel_toe)
TEL_GUARDED(tel_stats)
TEL_GUARDED(tel_lcores)
TEL_GUARDED(tel_qos)
TEL_GUARDED(tel_fdb)

int
mgmt_telemetry_register(struct dp *dp)
{
	atomic_store(&tel_dp, dp);
	if (rte_telemetry_register_cmd("/vtoe/ports", tel_ports_guarded,
			"vtoed port names. Takes no parameters") != 0 ||
	    rte_telemetry_register_cmd("/vtoe/stats", tel_stats_guarded,
			"Counters and drops of one port. Parameters: port name") != 0 ||
	    rte_telemetry_register_cmd("/vtoe/lcores", tel_lcores_guarded,
			"Worker lcores: queues, busy/idle cycles. Takes no parameters") != 0 ||
	    rte_telemetry_register_cmd("/vtoe/qos", tel_qos_guarded,
			"Uplink DWRR scheduler: per-class columns. Parameters: uplink name") != 0 ||
	    rte_telemetry_register_cmd("/vtoe/cluster", tel_cluster_guarded,
				       "The overlay and its cluster directory in etcd: state, counters, vxlan drops") != 0 ||
	    rte_telemetry_register_cmd("/vtoe/toe", tel_toe_guarded,
			"TOE endpoint of a VM port: lease, counters, drops by reason. Parameters: port name") != 0 ||
	    rte_telemetry_register_cmd("/vtoe/captures", tel_captures_guarded,
			"Packet captures running or just ended, by id: port, state, seen/filtered/written/lost frames, file bytes. Takes no parameters") != 0 ||
	    rte_telemetry_register_cmd("/vtoe/fdb", tel_fdb_guarded,
			"MAC table, one \"MAC PORT TYPE\" string per entry. Takes no parameters") != 0)
		return -EINVAL;
	return 0;
}

void
mgmt_telemetry_unregister(void)
{
	atomic_store(&tel_dp, NULL);
	while (atomic_load(&tel_busy) != 0)
		sched_yield();
}
