/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Control commands of the switch, as JSON for the ctl socket: version,
 * ports, stats [port], lcores, fdb, config.  Runs on the main thread and
 * only reads: counters through dp_port_stats, the MAC table by walking it.
 */
#include "mgmt.h"
#include "mgmt_priv.h"

#include <arpa/inet.h>
#include <errno.h>
#include <limits.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>
#include <string.h>

#include <jansson.h>
#include <rte_version.h>

#include "config/cfg_diff.h"
#include "config/cfg.h"
#include "control/ctl.h"
#include "dataplane/dp.h"
#include "dataplane/dp_members.h"
#include "dataplane/dp_overlay.h"
#include "dataplane/fdb.h"
#include "toe_stack/toe_offload.h"
#include "vhost/vhost.h"

static json_t *
json_mac(const uint8_t mac[6])
{
	char buf[18];

	cfg_mac_format(mac, buf, sizeof(buf));
	return json_string(buf);
}

static json_t *
json_str_or_null(const char *s)
{
	return s != NULL ? json_string(s) : json_null();
}

static json_t *
api_version(void *ctx, json_t *args, char *err, size_t err_size)
{
	(void)ctx; (void)args; (void)err; (void)err_size;
	return json_pack("{s:s, s:s}", "version", VTOE_VERSION,
			 "dpdk", rte_version());
}

static const char *
port_name(const struct dp *dp, int p)
{
	struct dp_port_info info;

	if (p < 0 || dp_port_info(dp, (unsigned int)p, &info) != 0)
		return NULL;
	return info.name;
}

/* Who runs a VM port, and its migrations: one view for ports and stats. */
static json_t *
owner_json(const struct dp_port_info *in)
{
	return json_pack("{s:o, s:i, s:o, s:b, s:I, s:I, s:I, s:I}",
			 "vid", in->vid >= 0 ? json_integer(in->vid) : json_null(),
			 "standby", (int)in->standby,
			 "migrating_to", json_str_or_null(in->standby_socket),
			 "dirty_logging", in->logging,
			 "owner_changes", (json_int_t)in->owner_changes,
			 "refused", (json_int_t)in->refused,
			 "takeovers", (json_int_t)in->takeovers,
			 "announces", (json_int_t)in->announces);
}

static json_t *
impair_json(const struct cfg_impair *im)
{
	char drop[16], reorder[16];

	if (im->dir == 0)
		return json_null();
	snprintf(drop, sizeof(drop), "%u.%04u%%", im->drop_ppm / 10000, im->drop_ppm % 10000);
	snprintf(reorder, sizeof(reorder), "%u.%04u%%", im->reorder_ppm / 10000,
		 im->reorder_ppm % 10000);
	return json_pack("{s:s, s:s, s:I, s:s}", "drop", drop, "reorder", reorder,
			 "delay_us", (json_int_t)im->delay_us, "direction",
			 im->dir == CFG_IMPAIR_RX ? "rx" : im->dir == CFG_IMPAIR_TX ?
			 "tx" : "both");
}

static json_t *
api_ports(void *ctx, json_t *args, char *err, size_t err_size)
{
	const struct dp *dp = ctx;
	json_t *list = json_array();

	(void)args; (void)err; (void)err_size;
	for (unsigned int p = 0; p < dp_port_count(dp); p++) {
		struct dp_port_info in;
		bool vhost;
		json_t *o;

		if (dp_port_info(dp, p, &in) != 0)
			continue;       /* a free slot */
		vhost = in.kind == DP_PORT_VHOST;
		o = json_pack(
			"{s:s, s:o, s:s, s:o, s:o, s:o, s:o, s:i, s:o, s:o, s:s}",
			"name", in.name,
			"vm", json_str_or_null(in.vm),
			"kind", vhost ? "vhost" : "uplink",
			"socket", json_str_or_null(in.socket),
			"mode", vhost ? json_string(in.client ? "client" : "server")
				      : json_null(),
			"device", json_str_or_null(in.device),
			"mac", json_mac(in.mac),
			"queues", (int)in.queues,
			"uplink", json_str_or_null(port_name(dp, in.uplink)),
			"weight", vhost ? json_integer(in.weight) : json_null(),
			"link", in.link_up ? "up" : "down");
		json_object_set_new(o, "origin",
				    json_string(in.from_libvirt ? "libvirt" : "config"));
		/* Where frames for this VM go: its co-resident ring, or its
		 * uplink because the VM does not run here now. */
		if (vhost) {
			json_object_set_new(o, "network", json_string(in.network));
			json_object_set_new(o, "vlan", in.vlan ?
					    json_integer(in.vlan) : json_null());
			json_object_set_new(o, "port_security", json_string(
				!in.port_security ? "off" :
				in.ip_restricted ? "mac+ip" : "mac"));
			json_object_set_new(o, "impair", impair_json(&in.impair));
			json_object_set_new(o, "path",
					    json_string(in.here ? "coresident" :
							"uplink"));
			json_object_set_new(o, "owner", owner_json(&in));
		}
		json_array_append_new(list, o);
	}
	return list;
}

static json_t *
features_json(uint64_t features)
{
	json_t *names = json_array();

	for (unsigned int b = 0; b < 64; b++) {
		const char *n;

		if (!(features & (UINT64_C(1) << b)))
			continue;
		n = vhost_feature_name(b);
		if (n != NULL) {
			json_array_append_new(names, json_string(n));
		} else {
			char buf[16];

			snprintf(buf, sizeof(buf), "bit%u", b);
			json_array_append_new(names, json_string(buf));
		}
	}
	return names;
}

/* The port counters of one view, into o under their names. */
static void
counters_json(json_t *o, const struct dp_port_stats *st,
	      enum dp_counter_view view)
{
	for (unsigned int c = 0; c < dp_n_port_counters; c++)
		if (dp_port_counters[c].view == view)
			json_object_set_new(o, dp_port_counters[c].name,
				json_integer((json_int_t)DP_COUNTER(st, &dp_port_counters[c])));
}

/* The software TOE's work for this port: what its egress does itself,
 * what was done for it in software, and offload drops by reason. */
static json_t *
offload_json(const struct dp *dp, unsigned int p, const struct dp_port_info *in,
	     const struct dp_port_stats *st)
{
	struct toe_stats ts;
	json_t *drops = json_object(), *caps = json_array(), *o;

	dp_port_offload_stats(dp, p, &ts);
	for (int r = 1; r < TOE_DROP_MAX; r++)
		if (ts.drops[r] != 0)
			json_object_set_new(drops, toe_drop_name(r),
					    json_integer((json_int_t)ts.drops[r]));
	if (in->caps & TOE_CAP_L4_CSUM)
		json_array_append_new(caps, json_string("csum"));
	if (in->caps & TOE_CAP_TSO4)
		json_array_append_new(caps, json_string("tso4"));
	if (in->caps & TOE_CAP_TSO6)
		json_array_append_new(caps, json_string("tso6"));
	o = json_pack("{s:b, s:o, s:o}",
		      "enabled", in->kind == DP_PORT_UPLINK || in->offloads,
		      "egress_does", caps, "drops", drops);
#define TOE_COUNTER_JSON(f, help) \
	json_object_set_new(o, #f, json_integer((json_int_t)ts.f));
	TOE_COUNTERS(TOE_COUNTER_JSON)
#undef TOE_COUNTER_JSON
	counters_json(o, st, DP_VIEW_OFFLOAD);
	return o;
}

static json_t *
port_stats_json(const struct dp *dp, unsigned int p)
{
	struct dp_port_info in;
	struct dp_port_stats st;
	json_t *drops = json_object();
	uint64_t total = 0;
	char feat[24];
	json_t *o;

	dp_port_info(dp, p, &in);
	dp_port_stats(dp, p, &st);
	for (int r = 0; r < DP_DROP_MAX; r++) {
		json_object_set_new(drops, dp_drop_name(r),
				    json_integer((json_int_t)st.drops[r]));
		total += st.drops[r];
	}
	snprintf(feat, sizeof(feat), "0x%" PRIx64, in.features);
	o = json_pack("{s:s, s:s}", "name", in.name,
		      "link", in.link_up ? "up" : "down");
	counters_json(o, &st, DP_VIEW_PORT);
	json_object_set_new(o, "drops_total", json_integer((json_int_t)total));
	json_object_set_new(o, "drops", drops);
	if (in.kind == DP_PORT_VHOST) {
		json_object_set_new(o, "owner", owner_json(&in));
		json_object_set_new(o, "features", json_string(feat));
		json_object_set_new(o, "feature_names",
				    features_json(in.features));
	}
	if (in.kind == DP_PORT_VHOST) {
		json_t *ds = json_object();

		for (int r = 0; r < DP_DIRECT_STOP_MAX; r++)
			json_object_set_new(ds, dp_direct_stop_name((enum dp_direct_stop)r),
					    json_integer((json_int_t)st.direct_stops[r]));
		json_object_set_new(o, "direct_stops", ds);
	}
	json_object_set_new(o, "offload", offload_json(dp, p, &in, &st));
	return o;
}

static json_t *
api_stats(void *ctx, json_t *args, char *err, size_t err_size)
{
	const struct dp *dp = ctx;
	struct dp_port_stats sum = { 0 };
	uint64_t drained;
	json_t *jport = json_object_get(args, "port");
	json_t *ports = json_array();
	uint64_t drops = 0, queued = 0, ring_queued = 0;
	int only = -1;

	if (jport != NULL) {
		if (!json_is_string(jport)) {
			snprintf(err, err_size, "\"port\" must be a port name");
			json_decref(ports);
			return NULL;
		}
		only = dp_port_find(dp, json_string_value(jport));
		if (only < 0) {
			snprintf(err, err_size, "no port named \"%s\"",
				 json_string_value(jport));
			json_decref(ports);
			return NULL;
		}
	}
	for (unsigned int p = 0; p < dp_port_count(dp); p++) {
		if ((only >= 0 && (int)p != only) ||
		    dp_port_info(dp, p, &(struct dp_port_info){ 0 }) != 0)
			continue;       /* not asked for, or a free slot */
		json_array_append_new(ports, port_stats_json(dp, p));
	}
	/* The switch's totals: every slot since the start, so frames of
	 * ports since removed still balance. */
	dp_stats_totals(dp, &sum);
	for (int r = 0; r < DP_DROP_MAX; r++)
		drops += sum.drops[r];
	for (unsigned int p = 0; p < dp_port_count(dp); p++) {
		struct dp_qos_info qi;
		struct dp_port_info pi;

		if (dp_qos_info(dp, p, &qi) == 0)
			queued += qi.queued;
		if (dp_port_info(dp, p, &pi) == 0)
			ring_queued += pi.coring_queued;
	}
	/*
	 * Conservation: every frame received is sent, dropped or taken by a
	 * TOE endpoint, and every flood copy and endpoint reply is sent or
	 * dropped, so rx + flood_copies + toe_sent - toe_taken - tx - drops
	 * (segments and GRO merges accounted) is what is in
	 * flight: the frames waiting in uplink schedulers (qos_queued) and
	 * in co-resident rings (ring_queued) plus those inside a worker's
	 * burst; 0 once the switch is idle.
	 */
	return json_pack("{s:o, s:{s:I, s:I}, s:{s:I, s:I}, s:{s:I, s:I, s:I, s:I, s:I, s:I, s:I}}",
			 "ports", ports,
			 "removed",
			 "ports", (json_int_t)dp_ports_removed(dp, &drained),
			 "drained", (json_int_t)drained,
			 "mbufs",
			 "total", (json_int_t)dp_mbufs_total(dp),
			 "in_use", (json_int_t)dp_mbufs_in_use(dp),
			 "totals",
			 "rx_packets", (json_int_t)sum.rx_packets,
			 "flood_copies", (json_int_t)sum.flood_copies,
			 "tx_packets", (json_int_t)sum.tx_packets,
			 "drops", (json_int_t)drops,
			 "in_flight", (json_int_t)(sum.rx_packets + sum.flood_copies +
						   sum.toe_sent - sum.toe_taken +
						   sum.gso_extra - sum.gro_merged -
						   sum.tx_packets - drops),
			 "qos_queued", (json_int_t)queued,
			 "ring_queued", (json_int_t)ring_queued);
}

/* Loop iterations by duration: {"UPPER_US": count} for the non-empty
 * buckets, bucket b holding those shorter than 2^b cycles. */
static json_t *
loop_hist_json(const struct dp_worker_info *wi)
{
	json_t *h = json_object();

	for (unsigned int b = 0; b < DP_LOOP_HIST; b++) {
		char key[32];

		if (wi->loop_hist[b] == 0)
			continue;
		snprintf(key, sizeof(key), "%.3g",
			 (double)(UINT64_C(1) << b) * 1e6 / (double)wi->tsc_hz);
		json_object_set_new(h, key, json_integer((json_int_t)wi->loop_hist[b]));
	}
	return h;
}

/* A whole number from 0 to max; -1: not one. */
static long
uint_text(const char *s, long max)
{
	char *end;
	long n;

	if (s == NULL || s[0] < '0' || s[0] > '9')
		return -1;
	errno = 0;
	n = strtol(s, &end, 10);
	return errno == 0 && *end == '\0' && n <= max ? n : -1;
}

/* The same as JSON: a number, or a string holding one. */
static long
json_uint_arg(json_t *v, long max)
{
	if (json_is_integer(v))
		return json_integer_value(v) >= 0 && json_integer_value(v) <= max ?
		       (long)json_integer_value(v) : -1;
	return uint_text(json_string_value(v), max);
}

/* lcores pin PORT:QUEUE LCORE | lcores unpin PORT:QUEUE */
static json_t *
lcores_pin(struct dp *dp, json_t *args, bool pin, char *err, size_t err_size)
{
	const char *spec = json_string_value(json_object_get(args, "queue"));
	json_t *jl = json_object_get(args, "lcore");
	long lcore = pin ? json_uint_arg(jl, INT_MAX) : -1, q;
	const char *colon;
	char name[64];
	int p;

	if (spec == NULL || (colon = strrchr(spec, ':')) == NULL ||
	    (size_t)(colon - spec) >= sizeof(name) || (pin && jl == NULL) ||
	    (!pin && jl != NULL)) {
		snprintf(err, err_size, "usage: lcores pin PORT:QUEUE LCORE | lcores unpin PORT:QUEUE");
		return NULL;
	}
	if (pin && lcore < 0) {
		snprintf(err, err_size, "lcore: not a number");
		return NULL;
	}
	memcpy(name, spec, (size_t)(colon - spec));
	name[colon - spec] = '\0';
	q = uint_text(colon + 1, 0xffff);
	if (q < 0) {
		snprintf(err, err_size, "\"%s\" is not PORT:QUEUE (a queue number after the colon)", spec);
		return NULL;
	}
	p = dp_port_find(dp, name);
	if (p < 0) {
		snprintf(err, err_size, "no port named \"%s\"", name);
		return NULL;
	}
	if (dp_queue_pin(dp, (unsigned int)p, (unsigned int)q, (int)lcore,
			 err, err_size) != 0)
		return NULL;
	return json_pack("{s:s, s:o}", "queue", spec,
			 "lcore", pin ? json_integer(lcore) : json_null());
}

static json_t *
api_lcores(void *ctx, json_t *args, char *err, size_t err_size)
{
	struct dp *dp = ctx;
	const char *action = json_string_value(json_object_get(args, "action"));
	json_t *list;
	struct dp_rebalance_info ri;
	static struct dp_worker_info wi;

	if (action != NULL && strcmp(action, "show") != 0) {
		if (strcmp(action, "pin") == 0 || strcmp(action, "unpin") == 0)
			return lcores_pin(dp, args, action[0] == 'p', err, err_size);
		snprintf(err, err_size, "unknown lcores action \"%s\" (show | pin PORT:QUEUE LCORE | unpin PORT:QUEUE)",
			 action);
		return NULL;
	}
	dp_rebalance_info(dp, &ri);
	list = json_array();
	json_array_append_new(list, json_pack(
		"{s:i, s:s, s:[], s:s, s:{s:s, s:i, s:i, s:i, s:I, s:I, s:I, s:o}}",
		"lcore", (int)dp_main_lcore(dp), "role", "main", "queues",
		"poll", cfg_poll_name(dp_cfg(dp)->poll),
		"rebalance", "mode", ri.automatic ? "auto" : "off",
		"load_pct", (int)ri.load_pct, "period_s", (int)ri.period_s,
		"improvement_pct", (int)ri.improvement_pct,
		"checks", (json_int_t)ri.checks, "taken", (json_int_t)ri.taken,
		"queues_moved", (json_int_t)ri.queues_moved,
		"last", ri.checks == 0 ? json_null() : json_pack(
			"{s:I, s:b, s:i, s:f, s:f}",
			"age_s", (json_int_t)(dp_now_s(dp) - ri.last_check_s),
			"taken", ri.last_taken, "moves", (int)ri.last_moves,
			"variance_before", ri.last_var_before,
			"variance_after", ri.last_var_after)));
	for (unsigned int i = 0; i < dp_worker_count(dp); i++) {
		json_t *queues = json_array(), *loads = json_array(),
		       *longs = json_array();
		double pct, sleep_pct;

		dp_worker_info(dp, i, &wi);
		for (unsigned int q = 0; q < wi.n_queues; q++) {
			char buf[64];

			snprintf(buf, sizeof(buf), "%s:%u",
				 port_name(dp, wi.queues[q].port),
				 wi.queues[q].queue);
			json_array_append_new(queues, json_string(buf));
			json_array_append_new(loads, json_pack(
				"{s:s, s:f, s:f, s:b}", "queue", buf,
				"load_pct", wi.queues[q].load_pct,
				"frames_per_s", wi.queues[q].frames_per_s,
				"pinned", wi.queues[q].pinned));
		}
		pct = wi.busy_cycles + wi.idle_cycles == 0 ? 0.0 :
			100.0 * (double)wi.busy_cycles /
			(double)(wi.busy_cycles + wi.idle_cycles);
		for (unsigned int k = 0; k < wi.n_long; k++)
			json_array_append_new(longs, json_pack("[I, I]",
				(json_int_t)wi.long_loops[k].end_ns,
				(json_int_t)wi.long_loops[k].ns));
		sleep_pct = wi.busy_cycles + wi.idle_cycles + wi.sleep_cycles == 0 ?
			0.0 : 100.0 * (double)wi.sleep_cycles /
			(double)(wi.busy_cycles + wi.idle_cycles + wi.sleep_cycles);
		json_array_append_new(list, json_pack(
			"{s:i, s:s, s:i, s:o, s:o, s:I, s:I, s:I, s:I, s:I, s:f, s:f,"
			" s:{s:f, s:f, s:f, s:f}, s:f, s:o, s:o}",
			"lcore", (int)wi.lcore, "role", "worker", "tid", wi.tid,
			"queues", queues, "queue_load", loads,
			"busy_cycles", (json_int_t)wi.busy_cycles,
			"idle_cycles", (json_int_t)wi.idle_cycles,
			"sleep_cycles", (json_int_t)wi.sleep_cycles,
			"sleeps", (json_int_t)wi.sleeps,
			"wakeups", (json_int_t)wi.wakeups,
			"busy_pct", pct,
			"sleep_pct", sleep_pct,
			"window", "seconds", wi.window_s, "busy_pct", wi.busy_pct,
			"idle_pct", wi.idle_pct, "sleep_pct", wi.sleep_pct,
			"loop_max_us", (double)wi.loop_max_cycles * 1e6 /
				       (double)wi.tsc_hz,
			"loop_us", loop_hist_json(&wi),
			"long_loops_ns", longs));
	}
	return list;
}

struct fdb_dump {
	const struct dp *dp;
	uint32_t now_s;
	json_t *list;
	const char *network;
};

static int
fdb_dump_one(const struct fdb_entry *e, void *arg)
{
	struct fdb_dump *d = arg;
	json_t *o = json_pack("{s:s, s:o, s:o, s:s}",
			      "network", d->network,
			      "mac", json_mac(e->mac),
			      "port", json_str_or_null(port_name(d->dp, e->port)),
			      "type", e->is_static ? "static" : "learned");

	json_object_set_new(o, "age_s", e->is_static ? json_null() :
			    json_integer(d->now_s - e->last_seen_s));
	json_array_append_new(d->list, o);
	return 0;
}

static json_t *
api_fdb(void *ctx, json_t *args, char *err, size_t err_size)
{
	const struct dp *dp = ctx;
	struct fdb_dump d = { dp, dp_now_s(dp), json_array(), NULL };

	(void)args; (void)err; (void)err_size;
	for (uint16_t n = 0; n < dp_n_networks(dp); n++) {
		d.network = dp_network(dp, n)->name;
		fdb_walk(dp_fdb(dp, n), fdb_dump_one, &d);
	}
	return d.list;
}

/* The weight in force (it may have been changed since the config). */
static uint32_t
port_weight(const struct dp *dp, const char *name)
{
	struct dp_port_info in;
	int p = dp_port_find(dp, name);

	return p >= 0 && dp_port_info(dp, (unsigned int)p, &in) == 0 ? in.weight : 0;
}

static json_t *
api_config(void *ctx, json_t *args, char *err, size_t err_size)
{
	const struct cfg *c = dp_cfg(ctx);
	json_t *workers = json_array(), *uplinks = json_array();
	json_t *vms = json_array(), *eal_args = json_array();
	json_t *dirs = json_array(), *res;
	char mode[8];

	(void)args; (void)err; (void)err_size;
	for (unsigned int i = 0; i < c->n_workers; i++)
		json_array_append_new(workers, json_integer(c->workers[i]));
	for (unsigned int i = 0; i < c->n_eal_args; i++)
		json_array_append_new(eal_args, json_string(c->eal_args[i]));
	for (unsigned int i = 0; i < c->n_uplinks; i++)
		json_array_append_new(uplinks, json_pack("{s:s, s:s}",
			"name", c->uplinks[i].name,
			"device", c->uplinks[i].device));
	for (unsigned int v = 0; v < c->n_vms; v++) {
		json_t *ports = json_array();

		for (unsigned int i = 0; i < c->vms[v].n_ports; i++) {
			const struct cfg_port *p =
				&c->ports[c->vms[v].port_first + i];

			json_array_append_new(ports, json_pack(
				"{s:s, s:s, s:s, s:o, s:i, s:o, s:i, s:b, s:s}",
				"name", p->name, "socket", p->socket,
				"mode", p->mode == CFG_VHOST_CLIENT ? "client" : "server",
				"mac", json_mac(p->mac), "queues", (int)p->queues,
				"uplink", p->uplink >= 0 ?
					json_string(c->uplinks[p->uplink].name) :
					json_null(),
				"weight", (int)port_weight(ctx, p->name),
				"offloads", p->offloads,
				"takeover", p->takeover_newest ? "newest" : "refuse"));
		}
		json_array_append_new(vms, json_pack("{s:s, s:o}",
			"name", c->vms[v].name, "ports", ports));
	}
	snprintf(mode, sizeof(mode), "%04o", c->ctl_mode);
	res = json_pack("{s:s, s:{s:i, s:o, s:s, s:i, s:{s:s, s:i, s:i, s:i}}, s:{s:s, s:i}, s:{s:s, s:s},"
			" s:{s:i, s:i}, s:{s:s, s:o}, s:o, s:o, s:{s:b}}",
			"file", c->path,
			"lcores", "main", (int)c->main_lcore, "workers", workers,
			"poll", cfg_poll_name(c->poll),
			"max_sleep_us", (int)c->max_sleep_us,
			"rebalance", "mode", c->rebalance_auto ? "auto" : "off",
			"load_pct", (int)c->rebalance_load_pct,
			"period_s", (int)c->rebalance_period_s,
			"improvement_pct", (int)c->rebalance_improvement_pct,
			"memory", "hugepages",
			c->hugepages == CFG_HUGEPAGES_NONE ? "none" : "auto",
			"mbufs", (int)c->mbufs,
			"control", "socket", c->ctl_socket, "mode", mode,
			"fdb", "size", (int)c->fdb_size,
			"ageing", (int)dp_fdb_ageing_s(ctx),
			"eal", "file_prefix", c->eal_file_prefix, "args", eal_args,
			"uplinks", uplinks, "vms", vms,
			"datapath", "direct", c->direct);
	for (unsigned int i = 0; i < c->n_attach_dirs; i++)
		json_array_append_new(dirs, json_string(c->attach_dirs[i]));
	json_object_set_new(res, "membership", json_pack("{s:s, s:s, s:o}",
		"source", c->membership == CFG_MEMBERSHIP_LIBVIRT ? "libvirt" : "static",
		"attach", c->attach_auto ? "auto" : "off", "sockets", dirs));
	if (c->sockdir[0] != '\0') {
		snprintf(mode, sizeof(mode), "%04o", c->sockdir_mode);
		json_object_set_new(res, "socket_dir", json_pack("{s:s, s:I, s:s}",
			"path", c->sockdir, "group", (json_int_t)c->sockdir_group,
			"mode", c->sockdir_mode != 0 ? mode : "unchanged"));
	}
	return res;
}

static json_t *
qos_uplink_json(const struct dp *dp, unsigned int u)
{
	struct dp_qos_info qi;
	struct dp_port_info in;
	json_t *classes = json_array();

	dp_qos_info(dp, u, &qi);
	dp_port_info(dp, u, &in);
	for (uint32_t c = 0; c < qi.n_classes; c++) {
		const struct dp_qos_class_info *ci = &qi.classes[c];

		json_array_append_new(classes, json_pack(
			"{s:s, s:i, s:I, s:i, s:i, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:f}",
			"port", port_name(dp, ci->port),
			"weight", (int)ci->st.weight,
			"quantum", (json_int_t)ci->st.weight * qi.base_quantum,
			"deficit", (int)ci->st.deficit,
			"backlog_packets", (int)ci->st.backlog_packets,
			"backlog_bytes", (json_int_t)ci->st.backlog_bytes,
			"enqueued_packets", (json_int_t)ci->st.enqueued_packets,
			"enqueued_bytes", (json_int_t)ci->st.enqueued_bytes,
			"sent_packets", (json_int_t)ci->st.sent_packets,
			"sent_bytes", (json_int_t)ci->st.sent_bytes,
			"dropped_packets", (json_int_t)ci->st.dropped_packets,
			"dropped_bytes", (json_int_t)ci->st.dropped_bytes,
			"share", ci->share_ppm / 1e6));
	}
	return json_pack("{s:s, s:I, s:i, s:i, s:I, s:o}",
			 "uplink", in.name,
			 "rate_bps", (json_int_t)qi.rate_bps,
			 "base_quantum", (int)qi.base_quantum,
			 "lcore", (int)qi.owner_lcore,
			 "queued", (json_int_t)qi.queued,
			 "classes", classes);
}

static json_t *
qos_show(const struct dp *dp, json_t *args, char *err, size_t err_size)
{
	json_t *jname = json_object_get(args, "uplink");
	json_t *list = json_array();
	int only = -1;
	struct dp_qos_info qi;

	if (jname == NULL)
		jname = json_object_get(args, "target");
	if (jname != NULL) {
		const char *name = json_string_value(jname);

		only = name != NULL ? dp_port_find(dp, name) : -1;
		if (only < 0 || dp_qos_info(dp, (unsigned int)only, &qi) != 0) {
			snprintf(err, err_size, "no uplink named \"%s\"",
				 name != NULL ? name : "?");
			json_decref(list);
			return NULL;
		}
	}
	for (unsigned int p = 0; p < dp_port_count(dp); p++) {
		if ((only >= 0 && (int)p != only) || dp_qos_info(dp, p, &qi) != 0)
			continue;
		json_array_append_new(list, qos_uplink_json(dp, p));
	}
	return json_pack("{s:o}", "uplinks", list);
}

/* A weight given as 5 or "5": anything else is not one. */
static int
qos_weight_arg(json_t *v, long long *out)
{
	const char *s;
	char *end;

	if (json_is_integer(v)) {
		*out = json_integer_value(v);
		return 0;
	}
	s = json_string_value(v);
	if (s == NULL || *s == '\0')
		return -EINVAL;
	errno = 0;
	*out = strtoll(s, &end, 10);
	return errno != 0 || *end != '\0' ? -EINVAL : 0;
}

static json_t *
qos_set(struct dp *dp, json_t *args, char *err, size_t err_size)
{
	json_t *jport = json_object_get(args, "port");
	json_t *jparam = json_object_get(args, "param");
	json_t *jweight = json_object_get(args, "weight");
	struct dp_port_info in;
	const char *name;
	long long w;
	int p;

	if (jport == NULL)
		jport = json_object_get(args, "target");
	name = json_string_value(jport);
	if (name == NULL) {
		snprintf(err, err_size, "usage: qos set PORT weight N");
		return NULL;
	}
	if (jweight == NULL && jparam != NULL) {
		if (!json_is_string(jparam) ||
		    strcmp(json_string_value(jparam), "weight") != 0) {
			snprintf(err, err_size, "only \"weight\" can be set (usage: qos set PORT weight N)");
			return NULL;
		}
		jweight = json_object_get(args, "value");
	}
	p = dp_port_find(dp, name);
	if (p < 0 || dp_port_info(dp, (unsigned int)p, &in) != 0 ||
	    in.kind != DP_PORT_VHOST) {
		snprintf(err, err_size, "no VM port named \"%s\"", name);
		return NULL;
	}
	if (jweight == NULL || qos_weight_arg(jweight, &w) != 0 ||
	    w < DWRR_WEIGHT_MIN || w > DWRR_WEIGHT_MAX) {
		char *text = jweight != NULL ?
			json_dumps(jweight, JSON_ENCODE_ANY) : NULL;

		snprintf(err, err_size, "weight must be a whole number from %d to %d, not %s",
			 DWRR_WEIGHT_MIN, DWRR_WEIGHT_MAX,
			 text != NULL ? text : "nothing");
		free(text);
		return NULL;
	}
	dp_qos_weight_set(dp, (unsigned int)p, (uint32_t)w);
	return json_pack("{s:s, s:i, s:i}", "port", name, "weight", (int)w,
			 "was", (int)in.weight);
}

static json_t *
api_qos(void *ctx, json_t *args, char *err, size_t err_size)
{
	const char *action = json_string_value(json_object_get(args, "action"));

	if (action == NULL || strcmp(action, "show") == 0)
		return qos_show(ctx, args, err, err_size);
	if (strcmp(action, "set") == 0)
		return qos_set(ctx, args, err, err_size);
	snprintf(err, err_size, "unknown qos action \"%s\" (show [UPLINK] | set PORT weight N)",
		 action);
	return NULL;
}

/*
 * The EAL pinned this thread to the main lcore, so the parser's default
 * check (the CPUs this process may run on) would refuse the workers: any
 * CPU of the machine passes here, and a changed lcores section is refused
 * by dp_reload as needing a restart anyway.
 */
static bool
reload_cpu_present(unsigned int cpu)
{
	long n = sysconf(_SC_NPROCESSORS_CONF);

	return n > 0 && cpu < (unsigned long)n;
}

int
mgmt_config_reload(struct dp *dp, struct cfg_diff *d, char *err, size_t err_size)
{
	char *msgs = NULL;
	size_t msgs_size = 0;
	FILE *f = open_memstream(&msgs, &msgs_size);
	struct cfg *next;
	int rc;

	if (f == NULL) {
		snprintf(err, err_size, "out of memory");
		return -ENOMEM;
	}
	next = cfg_load(dp_cfg(dp)->path, f, reload_cpu_present);
	fclose(f);
	if (next == NULL) {
		/* The first problem, as FILE:LINE:COL: what is wrong. */
		snprintf(err, err_size, "%.*s; nothing was changed",
			 (int)strcspn(msgs != NULL ? msgs : "", "\n"),
			 msgs != NULL ? msgs : "");
		free(msgs);
		return -EINVAL;
	}
	free(msgs);
	rc = dp_reload(dp, next, d, err, err_size);
	if (rc == -EINVAL)
		cfg_free(next);         /* refused: the switch did not take it */
	return rc;
}

/* The names of d's ports and uplinks with that change. */
static json_t *
diff_names(const struct cfg_diff *d, enum cfg_entry_change a,
	   enum cfg_entry_change b)
{
	json_t *names = json_array();

	for (unsigned int i = 0; i < d->n_ports + d->n_uplinks; i++) {
		const struct cfg_diff_entry *e = i < d->n_ports ? &d->ports[i] :
						 &d->uplinks[i - d->n_ports];

		if (e->change == a || e->change == b)
			json_array_append_new(names, json_string(e->name));
	}
	return names;
}

static json_t *
api_reload(void *ctx, json_t *args, char *err, size_t err_size)
{
	struct cfg_diff *d = malloc(sizeof(*d));
	json_t *res = NULL;
	int rc;

	(void)args;
	if (d == NULL) {
		snprintf(err, err_size, "out of memory");
		return NULL;
	}
	rc = mgmt_config_reload(ctx, d, err, err_size);
	if (rc == 0)
		res = json_pack("{s:s, s:b, s:o, s:o, s:o, s:o}",
				"file", dp_cfg(ctx)->path, "applied", 1,
				"added", diff_names(d, CFG_ADDED, CFG_ADDED),
				"removed", diff_names(d, CFG_REMOVED, CFG_REMOVED),
				"changed", diff_names(d, CFG_CHANGED,
						      CFG_CHANGED_LIVE),
				"unchanged", diff_names(d, CFG_UNCHANGED,
							CFG_UNCHANGED));
	free(d);
	return res;
}

/* migrate PORT --to SOCKET | --cancel: a client-mode live migration. */
static json_t *
api_migrate(void *ctx, json_t *args, char *err, size_t err_size)
{
	struct dp *dp = ctx;
	const char *name = json_string_value(json_object_get(args, "port"));
	json_t *jto = json_object_get(args, "to");
	bool cancel = json_is_true(json_object_get(args, "cancel"));
	const char *to = json_string_value(jto);
	int p;

	if (name == NULL || (to == NULL) == !cancel) {
		snprintf(err, err_size, "usage: migrate PORT --to SOCKET | migrate PORT --cancel");
		return NULL;
	}
	p = dp_port_find(dp, name);
	if (p < 0) {
		snprintf(err, err_size, "no port named \"%s\"", name);
		return NULL;
	}
	if (dp_port_migrate(dp, (unsigned int)p, cancel ? NULL : to, err,
			    err_size) != 0)
		return NULL;
	return json_pack("{s:s, s:o, s:b}", "port", name,
			 "to", json_str_or_null(cancel ? NULL : to),
			 "cancelled", cancel);
}

static json_t *
api_membership(void *ctx, json_t *args, char *err, size_t err_size)
{
	(void)args; (void)err; (void)err_size;
	return dp_members_json(ctx);
}

static json_t *
json_ip4(const uint8_t a[4])
{
	char buf[INET_ADDRSTRLEN];

	return json_string(inet_ntop(AF_INET, a, buf, sizeof(buf)));
}

static json_t *
json_ip6(const uint8_t a[16])
{
	char buf[INET6_ADDRSTRLEN];

	return json_string(inet_ntop(AF_INET6, a, buf, sizeof(buf)));
}

static json_t *
imds_json(const struct dp_toe_info *ti)
{
	json_t *o;

	if (!ti->imds)
		return json_null();
	o = json_pack("{s:s, s:I}", "imds", ti->imds_v2_only ? "v2-only" : "v1-and-v2",
		      "user_data_bytes", (json_int_t)ti->user_data_len);
#define IMDS_JSON(f, name, help) \
	json_object_set_new(o, name, json_integer((json_int_t)ti->imds_stats.f));
	TOE_IMDS_COUNTERS(IMDS_JSON)
#undef IMDS_JSON
	return o;
}

static json_t *
iperf3_json(const struct dp_toe_info *ti)
{
	json_t *o, *errors = json_object();

	if (!ti->iperf3)
		return json_null();
	o = json_pack("{s:i}", "port", TOE_IPERF3_PORT);
	for (unsigned int k = 0; k < toe_iperf3_n_counters; k++)
		json_object_set_new(o, toe_iperf3_counters[k].name, json_integer((json_int_t)
			*(const uint64_t *)((const char *)&ti->iperf3_stats +
					    toe_iperf3_counters[k].off)));
	for (int e = 0; e < TOE_IPERF3_ERR_MAX; e++)
		json_object_set_new(errors, toe_iperf3_error_name(e),
				    json_integer((json_int_t)ti->iperf3_stats.errors[e]));
	json_object_set_new(o, "errors", errors);
	return o;
}

static json_t *
tcp_json(const struct dp_toe_info *ti)
{
	json_t *list = json_array();

	for (unsigned int i = 0; i < ti->n_conns; i++) {
		const struct toe_tcp_conn_info *c = &ti->conns[i];
		char l[INET_ADDRSTRLEN + 8], r[INET_ADDRSTRLEN + 8];

		inet_ntop(AF_INET, c->laddr, l, INET_ADDRSTRLEN);
		snprintf(l + strlen(l), sizeof(l) - strlen(l), ":%u", c->lport);
		inet_ntop(AF_INET, c->raddr, r, INET_ADDRSTRLEN);
		snprintf(r + strlen(r), sizeof(r) - strlen(r), ":%u", c->rport);
		json_array_append_new(list, json_pack(
			"{s:s, s:s, s:s, s:I, s:I, s:I, s:f, s:I, s:I, s:I, s:I, s:I, s:I, s:I}",
			"state", toe_tcp_state_name(c->state), "local", l, "remote", r,
			"cwnd", (json_int_t)c->cwnd,
			"ssthresh", (json_int_t)(c->ssthresh > 1u << 30 ? 0 : c->ssthresh),
			"mss", (json_int_t)c->mss,
			"srtt_ms", c->srtt_us / 1000.0, "rto_ms", (json_int_t)c->rto_ms,
			"snd_wnd", (json_int_t)c->snd_wnd,
			"snd_queued", (json_int_t)c->snd_queued,
			"rcv_queued", (json_int_t)c->rcv_queued,
			"bytes_in", (json_int_t)c->bytes_in,
			"bytes_out", (json_int_t)c->bytes_out,
			"retransmits", (json_int_t)c->retransmits));
	}
	return json_pack("{s:s, s:I, s:I, s:I, s:o}", "congestion",
			 toe_cc_name(ti->conf->tcp_cc),
			 "connections", (json_int_t)ti->conns_total,
			 "time_wait", (json_int_t)ti->conns_tw,
			 "buffer_bytes", (json_int_t)ti->tcp_mem, "list", list);
}

static void
neighbour_json(const struct dp_toe_neighbour *n, void *arg)
{
	json_array_append_new(arg, json_pack("{s:s, s:o, s:o, s:b}", "port", n->port,
					     "ip", json_ip4(n->ip4), "mac", json_mac(n->mac),
					     "up", n->up));
}

/* One port's TOE endpoint: what it answers for, its lease, counters and
 * drops by reason, its services and connections. */
static json_t *
toe_port_json(const struct dp *dp, unsigned int p, const struct dp_port_info *pi,
	      const struct dp_toe_info *ti)
{
	const struct toe_ep_conf *c = ti->conf;
	const struct toe_ep_lease *l = &ti->lease;
	json_t *dns = json_array(), *answers = json_array();
	json_t *counters = json_object(), *drops = json_object(), *lease;
	char ip[INET_ADDRSTRLEN + 4], xid[12];
	uint64_t total = 0;
	json_t *o;

	for (unsigned int i = 0; i < c->n_dns; i++)
		json_array_append_new(dns, json_ip4(c->dns4[i]));
	if (c->has_gw)
		json_array_append_new(answers, json_ip4(c->gw4));
	if (c->metadata || (c->dhcp && !c->has_gw))
		json_array_append_new(answers, json_ip4(toe_ep_md_ip4));
	if (c->metadata) {
		json_array_append_new(answers, json_ip6(toe_ep_md_ll6));
		json_array_append_new(answers, json_ip6(toe_ep_md_ula6));
	}
	for (unsigned int k = 0; k < toe_ep_n_counters; k++)
		json_object_set_new(counters, toe_ep_counters[k].name,
				    json_integer((json_int_t)*(const uint64_t *)
					((const char *)&ti->stats + toe_ep_counters[k].off)));
	for (int r = 0; r < TOE_EP_DROP_MAX; r++) {
		json_object_set_new(drops, toe_ep_drop_name(r),
				    json_integer((json_int_t)ti->stats.drops[r]));
		total += ti->stats.drops[r];
	}
	snprintf(xid, sizeof(xid), "0x%08x", l->xid);
	lease = json_pack("{s:s, s:o, s:o, s:o, s:o}",
			  "state", toe_ep_lease_state_name(l->state),
			  "ip", l->state == TOE_EP_LEASE_NONE ? json_null() : json_ip4(l->ip),
			  "xid", l->state == TOE_EP_LEASE_NONE ? json_null() : json_string(xid),
			  "age_s", l->state == TOE_EP_LEASE_NONE ? json_null() :
			  json_integer((json_int_t)((ti->now_ms - l->changed_ms) / 1000)),
			  "expires_in_s", l->state != TOE_EP_LEASE_BOUND ? json_null() :
			  json_integer(l->expires_ms > ti->now_ms ?
				       (json_int_t)((l->expires_ms - ti->now_ms) / 1000) : 0));
	inet_ntop(AF_INET, c->ip4, ip, INET_ADDRSTRLEN);
	snprintf(ip + strlen(ip), sizeof(ip) - strlen(ip), "/%u", c->prefix4);
	o = json_pack("{s:s, s:o, s:o, s:o, s:s, s:o, s:o, s:b, s:b, s:s, s:o, s:o, s:o, s:o, s:o, s:I}",
			 "port", pi->name, "vm", json_str_or_null(pi->vm),
			 "mac", json_mac(c->mac),
			 "endpoint_mac", json_mac(toe_ep_vmac),
			 "ip", ip,
			 "gateway", c->has_gw ? json_ip4(c->gw4) : json_null(),
			 "dns", dns, "dhcp", c->dhcp, "metadata", c->metadata,
			 "hostname", c->hostname,
			 "instance_id", json_str_or_null(ti->instance_id[0] ? ti->instance_id : NULL),
			 "answers", answers, "lease", lease,
			 "counters", counters, "drops", drops,
			 "drops_total", (json_int_t)total);
	{
		json_t *nbs = json_array();

		dp_toe_neighbours(dp, p, neighbour_json, nbs);
		json_object_set_new(o, "neighbours", nbs);
	}
	json_object_set_new(o, "metadata_service", imds_json(ti));
	json_object_set_new(o, "iperf3_service", iperf3_json(ti));
	json_object_set_new(o, "tcp", tcp_json(ti));
	return o;
}

static json_t *
api_toe(void *ctx, json_t *args, char *err, size_t err_size)
{
	const struct dp *dp = ctx;
	json_t *jport = json_object_get(args, "port"), *list = json_array();
	int only = -1;

	if (jport != NULL) {
		if (!json_is_string(jport) ||
		    (only = dp_port_find(dp, json_string_value(jport))) < 0) {
			snprintf(err, err_size, "no port named \"%s\"",
				 json_is_string(jport) ? json_string_value(jport) : "?");
			json_decref(list);
			return NULL;
		}
	}
	for (unsigned int p = 0; p < dp_port_count(dp); p++) {
		struct dp_port_info pi;
		struct dp_toe_info ti;
		int rc;

		if ((only >= 0 && p != (unsigned int)only) ||
		    dp_port_info(dp, p, &pi) != 0)
			continue;
		rc = dp_toe_info(dp, p, &ti);
		if (rc == -ENODATA && only >= 0) {
			snprintf(err, err_size, "port \"%s\" has no TOE endpoint (it needs an IPv4 ip: and toe: dhcp or metadata on)",
				 pi.name);
			json_decref(list);
			return NULL;
		}
		if (rc == 0)
			json_array_append_new(list, toe_port_json(dp, p, &pi, &ti));
	}
	return list;
}

/* impair PORT [drop=R] [reorder=R] [delay=D] [direction=rx|tx|both] | impair PORT off */
static json_t *
api_impair(void *ctx, json_t *args, char *err, size_t err_size)
{
	struct dp *dp = ctx;
	json_t *jport = json_object_get(args, "port"), *v;
	struct cfg_impair im = { .dir = CFG_IMPAIR_RX | CFG_IMPAIR_TX };
	struct dp_port_info pi;
	const char *key;
	int p;

	if (!json_is_string(jport) ||
	    (p = dp_port_find(dp, json_string_value(jport))) < 0 ||
	    dp_port_info(dp, (unsigned int)p, &pi) != 0 || pi.kind != DP_PORT_VHOST) {
		snprintf(err, err_size, "usage: impair PORT [drop=1%%] [reorder=1%%] [delay=5ms] [direction=rx|tx|both] | impair PORT off (PORT: a VM port)");
		return NULL;
	}
	json_object_foreach(args, key, v) {
		char text[32];

		if (strcmp(key, "port") == 0 || strcmp(key, "off") == 0)
			continue;
		if (json_is_integer(v))
			snprintf(text, sizeof(text), "%" JSON_INTEGER_FORMAT, json_integer_value(v));
		else if (json_is_string(v))
			snprintf(text, sizeof(text), "%s", json_string_value(v));
		else
			text[0] = '\0';
		if (cfg_impair_set(&im, key, text, err, err_size) != 0)
			return NULL;
	}
	if (json_object_get(args, "off") != NULL)
		im = (struct cfg_impair){ 0 };
	dp_port_impair(dp, (unsigned int)p, &im);
	dp_port_info(dp, (unsigned int)p, &pi);
	return json_pack("{s:s, s:o}", "port", pi.name, "impair", impair_json(&pi.impair));
}

static json_t *
api_cluster(void *ctx, json_t *args, char *err, size_t err_size)
{
	json_t *res;

	(void)args;
	res = dp_overlay_json(ctx);
	if (res == NULL)
		snprintf(err, err_size, "no overlay: this vtoed has no overlay: and cluster: in its config");
	return res;
}

static const struct ctl_cmd mgmt_cmds[] = {
	{ "version", "vtoed and DPDK versions", api_version },
	{ "ports", "every port: kind, socket or device, MAC, link state", api_ports },
	{ "stats", "counters and drops by reason; args {\"port\": NAME} for one", api_stats },
	{ "lcores", "lcores: the queues each worker polls and their load, busy/idle/asleep time (poll: busy never sleeps; adaptive sleeps a little when idle; interrupt sleeps until a guest kicks or a NIC interrupts), rebalancing; show | pin PORT:QUEUE LCORE (moved there and kept) | unpin PORT:QUEUE", api_lcores },
	{ "fdb", "the MAC table", api_fdb },
	{ "impair", "a VM port's impairment stage, for tests: impair PORT drop=1% reorder=1% delay=5ms direction=rx|tx|both | impair PORT off", api_impair },
	{ "toe", "TOE endpoints of the VM ports: addresses answered, DHCP lease, counters, drops by reason; args {\"port\": NAME} for one", api_toe },
	{ "config", "the configuration in effect", api_config },
	{ "qos", "uplink DWRR schedulers: show [UPLINK] | set PORT weight N", api_qos },
	{ "cluster", "the overlay and the cluster directory in etcd: this host's tunnel endpoint, the session (state, lease, stale), the other hosts with their VTEPs and next hops, their VM ports and when each was learned, counters", api_cluster },
	{ "membership", "which VMs run here (static or libvirt), their state, and the path to each VM port", api_membership },
	{ "reload", "re-read the config file and apply it: ports added, removed and re-created, weights and MAC ageing changed, the other ports untouched", api_reload },
	{ "capture", "packet capture of a port to pcapng (vtoectl capture PORT -w FILE): start port=PORT [direction=rx|tx|both] [count=N] [snaplen=N] [filter=EXPR] [drops=false] with the file's descriptor passed | status id=N | stop id=N | list", mgmt_api_capture },
	{ "migrate", "client-mode live migration: {\"port\": NAME, \"to\": SOCKET} connects the destination as standby; {\"port\": NAME, \"cancel\": true} drops it", api_migrate },
};

const struct ctl_cmd *
mgmt_commands(size_t *n_cmds)
{
	*n_cmds = sizeof(mgmt_cmds) / sizeof(mgmt_cmds[0]);
	return mgmt_cmds;
}
