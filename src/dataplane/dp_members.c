/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Co-residency for the dataplane, on the main thread: which VM ports have
 * their VM running on this host, published to the workers by RCU, and the
 * per-VM co-resident rings drained when a VM leaves.
 *
 *   libvirt thread --eventfd--> main loop: membership_lv_dispatch()
 *        -> table (membership.c) -> on_change: generation moved
 *        -> away mask = VM ports whose MAC no running domain here holds
 *           behind that port's socket
 *        -> dp_members_publish(): swap the snapshot, wait one grace
 *           period, free the old one, drain the rings of ports that left
 *
 * With membership source static the port map is the table: every VM port
 * is here, for good, and nothing is ever published after start.
 */
#include "dp_priv.h"

#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>
#include <rte_malloc.h>
#include <rte_rcu_qsbr.h>
#include <rte_ring.h>

#include "attach.h"
#include "coring.h"
#include "dp_members.h"
#include "membership/membership.h"
#include "membership/membership_libvirt.h"


struct dp_members {
	struct membership *table;       /* NULL: static */
	/* attach: auto: the last plan (its refusals are shown), and
	 * interfaces refused or ports that failed to open, counted once
	 * each time they start being refused. */
	struct attach_plan plan;
	uint64_t attach_refused;
	uint64_t attach_added;
	uint64_t attach_removed;
	uint64_t attach_failed;
	struct membership_lv *lv;
	uint64_t generation;            /* of the table, when published */
	uint64_t publishes;
	uint64_t last_publish_ns;       /* CLOCK_REALTIME */
	uint64_t publish_ns_last;       /* dispatch -> workers see it */
	uint64_t publish_ns_max;
	uint64_t started_ns;
	uint64_t changed_ns[DP_PORTS_MAX];      /* port's away bit flipped */
};

static uint64_t
realtime_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static uint64_t
mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static void
members_log(void *ctx, enum membership_log_level level, const char *msg)
{
	(void)ctx;
	switch (level) {
	case MEMBERSHIP_LOG_ERR:
		DP_LOG(ERR, "membership: %s\n", msg);
		break;
	case MEMBERSHIP_LOG_WARNING:
		DP_LOG(WARNING, "membership: %s\n", msg);
		break;
	case MEMBERSHIP_LOG_INFO:
		DP_LOG(INFO, "membership: %s\n", msg);
		break;
	case MEMBERSHIP_LOG_DEBUG:
		DP_LOG(DEBUG, "membership: %s\n", msg);
		break;
	}
}

/* Is the VM behind VM port p running here, by the table? */
static bool
port_here(const struct dp *dp, const struct membership *table, uint16_t p)
{
	const struct cfg_port *pc = dp->ports[p].cfg;
	const char *sock = membership_mac_socket(table, pc->mac);

	return sock != NULL && strcmp(sock, pc->socket) == 0;
}

uint64_t
dp_members_publish(struct dp *dp, const struct portset *away,
		   uint64_t generation)
{
	static const struct portset none;
	struct dp_members *mc = dp->mctl;
	struct dp_members_snap *next, *prev;
	const struct portset *was;
	uint64_t drained = 0, now = realtime_ns();

	next = malloc(sizeof(*next));
	if (next == NULL) {
		/* Keep the old view; the next event retries. */
		DP_LOG(ERR, "membership: out of memory publishing a snapshot\n");
		return 0;
	}
	next->away = *away;
	next->generation = generation;
	prev = atomic_exchange_explicit(&dp->members, next,
					memory_order_acq_rel);
	portset_shared_store(&dp->away, away);
	/* Every worker has left the iteration that could still use prev
	 * (to enqueue into, or read from, a ring of a VM now away). */
	rte_rcu_qsbr_synchronize(dp->rcu, RTE_QSBR_THRID_INVALID);
	was = prev != NULL ? &prev->away : &none;
	for (uint16_t p = 0; p < dp_port_count(dp); p++) {
		uint64_t n;
		char mac[18];

		if (!dp->ports[p].used || dp->ports[p].kind != DP_PORT_VHOST ||
		    portset_has(away, p) == portset_has(was, p))
			continue;
		mc->changed_ns[p] = now;
		if (!portset_has(away, p)) {
			DP_LOG(INFO, "membership: %s is here: co-resident path\n",
			       dp->ports[p].name);
			continue;
		}
		n = coring_drain(dp->ports[p].coring);
		if (n > 0)
			__atomic_fetch_add(&dp->ctl_stats[p].drops[DP_DROP_VM_LEFT],
					   n, __ATOMIC_RELAXED);
		drained += n;
		DP_LOG(INFO, "membership: %s is away: traffic to %s takes its uplink (%" PRIu64 " frames drained)\n",
		       dp->ports[p].name,
		       membership_mac_format(dp->ports[p].cfg->mac, mac), n);
	}
	free(prev);
	mc->generation = generation;
	mc->publishes++;
	mc->last_publish_ns = now;
	return drained;
}

int
dp_members_create(struct dp *dp)
{
	const struct cfg *cfg = dp->cfg;
	struct dp_members *mc;

	mc = calloc(1, sizeof(*mc));
	if (mc == NULL)
		return -ENOMEM;
	dp->mctl = mc;
	mc->started_ns = realtime_ns();
	if (cfg->membership == CFG_MEMBERSHIP_LIBVIRT) {
		struct membership_params mp = {
			/* The adapter logs each change; the dispatch compares
			 * generations to decide whether to republish. */
			.log = members_log,
		};
		struct membership_lv_params lp = {
			.uri = cfg->membership_uri,
			.mode = cfg->membership_mode == CFG_MEMBERSHIP_POLL ?
				MEMBERSHIP_LV_POLL : MEMBERSHIP_LV_EVENTS,
			.poll_interval_ms = cfg->membership_interval_ms,
			.log = members_log,
		};

		mc->table = membership_create(&mp);
		if (mc->table == NULL)
			return -errno;
		mc->lv = membership_lv_create(mc->table, &lp);
		if (mc->lv == NULL) {
			DP_LOG(ERR, "membership: cannot start the libvirt adapter for %s: %s\n",
			       cfg->membership_uri, strerror(errno));
			return -errno;
		}
		/* Nobody is known to run here until libvirt says so: VM
		 * ports (added after this) are reached through their uplink
		 * until then. */
		DP_LOG(NOTICE, "membership: from libvirt %s (%s); VM ports take the uplink path until their domain runs here\n",
		       cfg->membership_uri,
		       cfg->membership_mode == CFG_MEMBERSHIP_POLL ? "polling" :
		       "events");
	}
	(void)dp_members_publish(dp, &(struct portset){ 0 }, 0);
	mc->publishes = 0;
	return 0;
}

void
dp_members_destroy(struct dp *dp)
{
	struct dp_members *mc = dp->mctl;

	if (mc != NULL) {
		membership_lv_destroy(mc->lv);
		membership_destroy(mc->table);
		free(mc);
		dp->mctl = NULL;
	}
	for (uint16_t p = 0; p < DP_PORTS_MAX; p++) {
		coring_free(dp->ports[p].coring);
		dp->ports[p].coring = NULL;
	}
	free(atomic_exchange(&dp->members, NULL));
}

int
dp_members_fd(const struct dp *dp)
{
	return dp->mctl != NULL && dp->mctl->lv != NULL ?
	       membership_lv_fd(dp->mctl->lv) : -1;
}

/* The away set by the table (static: every VM port is here). */
static void
members_away(const struct dp *dp, struct portset *away)
{
	const struct dp_members *mc = dp->mctl;

	*away = (struct portset){ 0 };
	if (mc == NULL || mc->table == NULL)
		return;
	for (uint16_t p = 0; p < dp_port_count(dp); p++)
		if (dp->ports[p].used && dp->ports[p].kind == DP_PORT_VHOST &&
		    !port_here(dp, mc->table, p))
			portset_add(away, p);
}

/* Main thread (the only writer): does away differ from what the workers
 * see? */
static bool
members_away_moved(const struct dp *dp, const struct portset *away)
{
	const struct dp_members_snap *cur =
		atomic_load_explicit(&dp->members, memory_order_relaxed);

	return cur == NULL || !portset_equal(&cur->away, away);
}

void
dp_members_refresh(struct dp *dp)
{
	struct dp_members *mc = dp->mctl;
	uint64_t now = realtime_ns();
	struct portset away;

	if (mc == NULL)
		return;
	members_away(dp, &away);
	/* Ports just added start their state's clock now. */
	for (uint16_t p = 0; p < dp_port_count(dp); p++)
		if (dp->ports[p].used && mc->changed_ns[p] == 0)
			mc->changed_ns[p] = now;
		else if (!dp->ports[p].used)
			mc->changed_ns[p] = 0;
	if (members_away_moved(dp, &away))
		(void)dp_members_publish(dp, &away, mc->generation);
}

/* Was this interface refused by the plan before this one? */
static bool
refused_before(const struct attach_plan *old, const struct attach_refusal *f)
{
	for (unsigned int i = 0; i < old->n_refused; i++)
		if (memcmp(old->refused[i].mac, f->mac, 6) == 0 &&
		    strcmp(old->refused[i].socket, f->socket) == 0 &&
		    old->refused[i].reason == f->reason)
			return true;
	return false;
}

/*
 * attach: auto: make the ports match the domains of the table (attach.h
 * decides, this carries it out): ports of domains that went, or whose
 * interface changed, first; then the new ones.
 */
void
dp_members_attach(struct dp *dp)
{
	struct dp_members *mc = dp->mctl;
	struct attach_port ports[DP_PORTS_MAX];
	uint16_t ids[DP_PORTS_MAX];
	unsigned int n = 0, n_free = 0;
	struct attach_plan *old, *plan = &mc->plan;
	char mac[18];

	if (mc == NULL || !dp->cfg->attach_auto || mc->table == NULL)
		return;
	for (uint16_t p = 0; p < DP_PORTS_MAX; p++) {
		const struct dp_port *port = &dp->ports[p];

		if (!port->used) {
			n_free++;
			continue;
		}
		if (port->kind != DP_PORT_VHOST)
			continue;
		ports[n] = (struct attach_port){
			.name = port->name, .socket = port->conf.socket,
			.client = port->conf.mode == CFG_VHOST_CLIENT,
			.from_libvirt = port->from_libvirt,
		};
		memcpy(ports[n].mac, port->conf.mac, 6);
		ids[n++] = p;
	}
	old = malloc(sizeof(*old));
	if (old == NULL)
		return;         /* the next change tries again */
	*old = *plan;
	attach_plan(dp->cfg, mc->table, ports, n, n_free, plan);
	for (unsigned int i = 0; i < plan->n_refused; i++) {
		const struct attach_refusal *f = &plan->refused[i];

		if (refused_before(old, f))
			continue;
		mc->attach_refused++;
		DP_LOG(WARNING, "membership: domain %s: interface %s on %s gets no port: %s%s%s\n",
		       f->domain, membership_mac_format(f->mac, mac), f->socket,
		       attach_reason_name(f->reason), f->other[0] ? ", " : "",
		       f->other);
	}
	free(old);
	if (plan->n_remove == 0 && plan->n_add == 0)
		return;
	dp_table_lock();
	for (unsigned int i = 0; i < plan->n_remove; i++) {
		DP_LOG(INFO, "membership: port %s goes with its domain's interface\n",
		       dp->ports[ids[plan->remove[i]]].name);
		dp_port_remove(dp, ids[plan->remove[i]]);
		mc->attach_removed++;
	}
	for (unsigned int i = 0; i < plan->n_add; i++) {
		const struct attach_want *w = &plan->add[i];
		int rc = dp_port_add(dp, dp->cfg, &w->pc, w->vm, true);

		if (rc < 0) {
			mc->attach_failed++;
			DP_LOG(ERR, "membership: domain %s: port %s on %s: cannot open it: %s\n",
			       w->vm, w->pc.name, w->pc.socket, strerror(-rc));
			continue;
		}
		mc->attach_added++;
		DP_LOG(NOTICE, "membership: port %s made from domain %s (%s, %s mode)\n",
		       w->pc.name, w->vm, w->pc.socket,
		       w->pc.mode == CFG_VHOST_CLIENT ? "client" : "server");
	}
	dp_table_unlock();
}

static json_t *
attach_json(const struct dp *dp)
{
	const struct dp_members *mc = dp->mctl;
	json_t *dirs = json_array(), *refused = json_array(), *ports = json_array();
	char mac[18];

	for (unsigned int i = 0; i < dp->cfg->n_attach_dirs; i++)
		json_array_append_new(dirs, json_string(dp->cfg->attach_dirs[i]));
	for (uint16_t p = 0; p < dp_port_count(dp); p++)
		if (dp->ports[p].used && dp->ports[p].from_libvirt)
			json_array_append_new(ports, json_string(dp->ports[p].name));
	for (unsigned int i = 0; i < mc->plan.n_refused; i++) {
		const struct attach_refusal *f = &mc->plan.refused[i];

		json_array_append_new(refused, json_pack("{s:s, s:s, s:s, s:s, s:s}",
			"domain", f->domain,
			"mac", membership_mac_format(f->mac, mac),
			"socket", f->socket,
			"reason", attach_reason_name(f->reason),
			"other", f->other));
	}
	return json_pack("{s:b, s:o, s:o, s:o, s:I, s:I, s:I, s:I}",
			 "auto", dp->cfg->attach_auto, "sockets", dirs,
			 "ports", ports, "refused", refused,
			 "refused_total", (json_int_t)mc->attach_refused,
			 "added", (json_int_t)mc->attach_added,
			 "removed", (json_int_t)mc->attach_removed,
			 "failed", (json_int_t)mc->attach_failed);
}

void
dp_members_dispatch(struct dp *dp)
{
	struct dp_members *mc = dp->mctl;
	uint64_t t0 = mono_ns(), gen, dt;
	struct portset away;

	if (mc == NULL || mc->lv == NULL)
		return;
	(void)membership_lv_dispatch(mc->lv);
	gen = membership_generation(mc->table);
	if (gen == mc->generation)
		return;
	dp_members_attach(dp);
	members_away(dp, &away);
	if (!members_away_moved(dp, &away)) {
		mc->generation = gen;   /* nothing the workers see moved */
		return;
	}
	(void)dp_members_publish(dp, &away, gen);
	dt = mono_ns() - t0;
	mc->publish_ns_last = dt;
	if (dt > mc->publish_ns_max)
		mc->publish_ns_max = dt;
}

bool
dp_port_here(const struct dp *dp, unsigned int p)
{
	return p >= DP_PORTS_MAX || !portset_shared_has(&dp->away, (uint16_t)p);
}

/* --- vtoectl membership ------------------------------------------------ */

static json_t *
mac_json(const uint8_t mac[6])
{
	char buf[18];

	return json_string(membership_mac_format(mac, buf));
}

static json_t *
time_json(uint64_t ns)
{
	return json_real((double)ns / 1e9);
}

/* The VM port behind an interface of the table, or NULL. */
static const struct dp_port *
port_of_iface(const struct dp *dp, const struct membership_iface *ifc)
{
	for (uint16_t p = 0; p < dp_port_count(dp); p++) {
		const struct dp_port *port = &dp->ports[p];

		if (port->used && port->kind == DP_PORT_VHOST &&
		    strcmp(port->cfg->socket, ifc->socket) == 0)
			return port;
	}
	return NULL;
}

static json_t *
vms_from_table(const struct dp *dp, const struct membership *table)
{
	json_t *vms = json_array();

	for (const struct membership_vm *vm = membership_next(table, NULL);
	     vm != NULL; vm = membership_next(table, vm)) {
		json_t *ifaces = json_array();

		for (uint32_t i = 0; i < vm->n_ifaces; i++) {
			const struct membership_iface *ifc = &vm->ifaces[i];
			const struct dp_port *port = port_of_iface(dp, ifc);
			bool mac_ok = port != NULL &&
				      memcmp(port->cfg->mac, ifc->mac, 6) == 0;

			json_array_append_new(ifaces, json_pack(
				"{s:o, s:s, s:o, s:b, s:b}",
				"mac", mac_json(ifc->mac),
				"socket", ifc->socket,
				"port", port != NULL ? json_string(port->name) :
						       json_null(),
				/* the port map's MAC for that socket differs:
				 * the port stays on the uplink path */
				"mac_matches_port", mac_ok,
				"refused", ifc->refused));
		}
		json_array_append_new(vms, json_pack(
			"{s:s, s:s, s:s, s:b, s:o, s:o}",
			"uuid", vm->uuid, "name", vm->name,
			"state", membership_state_name(vm->state),
			"persistent", vm->persistent,
			"changed", time_json(vm->changed_ns),
			"interfaces", ifaces));
	}
	return vms;
}

static json_t *
vms_from_config(const struct dp *dp, uint64_t since_ns)
{
	const struct cfg *cfg = dp->cfg;
	json_t *vms = json_array();

	for (unsigned int v = 0; v < cfg->n_vms; v++) {
		json_t *ifaces = json_array();

		for (unsigned int i = 0; i < cfg->vms[v].n_ports; i++) {
			const struct cfg_port *pc =
				&cfg->ports[cfg->vms[v].port_first + i];

			json_array_append_new(ifaces, json_pack(
				"{s:o, s:s, s:s, s:b, s:b}",
				"mac", mac_json(pc->mac), "socket", pc->socket,
				"port", pc->name, "mac_matches_port", 1,
				"refused", 0));
		}
		json_array_append_new(vms, json_pack(
			"{s:n, s:s, s:s, s:b, s:o, s:o}",
			"uuid", "name", cfg->vms[v].name, "state", "running",
			"persistent", 1, "changed", time_json(since_ns),
			"interfaces", ifaces));
	}
	return vms;
}

json_t *
dp_members_json(const struct dp *dp)
{
	const struct dp_members *mc = dp->mctl;
	const struct cfg *cfg = dp->cfg;
	json_t *ports = json_array(), *res, *reasons;

	for (uint16_t p = 0; p < dp_port_count(dp); p++) {
		const struct dp_port *port = &dp->ports[p];

		if (!port->used || port->kind != DP_PORT_VHOST)
			continue;
		json_array_append_new(ports, json_pack(
			"{s:s, s:s, s:s, s:s, s:o, s:I, s:I}",
			"port", port->name,
			"vm", port->vm,
			"origin", port->from_libvirt ? "libvirt" : "config",
			"path", dp_port_here(dp, p) ? "coresident" : "uplink",
			"changed", time_json(mc->changed_ns[p]),
			"ring_queued", (json_int_t)rte_ring_count(port->coring),
			"drained", (json_int_t)(__atomic_load_n(
				&dp->ctl_stats[p].drops[DP_DROP_VM_LEFT],
				__ATOMIC_RELAXED) -
				dp->stats_base[p].drops[DP_DROP_VM_LEFT])));
	}
	if (mc->table == NULL)
		return json_pack("{s:s, s:o, s:o}", "source", "static",
				 "vms", vms_from_config(dp, mc->started_ns),
				 "ports", ports);

	struct membership_lv_stats st;

	membership_lv_stats_get(mc->lv, &st);
	reasons = json_object();
	for (int r = 0; r < MEMBERSHIP_REASON_COUNT; r++)
		json_object_set_new(reasons, membership_reason_name(r),
				    json_integer((json_int_t)membership_reason_count(
					    mc->table, r)));
	for (int r = 0; r < MEMBERSHIP_XML_REASON_COUNT; r++)
		json_object_set_new(reasons, membership_xml_reason_name(r),
				    json_integer((json_int_t)st.xml[r]));
	res = json_pack("{s:s, s:s, s:s, s:b, s:I, s:I, s:I, s:I, s:I, s:I, s:I}",
		"source", "libvirt", "uri", cfg->membership_uri,
		"mode", cfg->membership_mode == CFG_MEMBERSHIP_POLL ? "poll" :
			"events",
		"connected", st.connected,
		"connect_attempts", (json_int_t)st.connect_attempts,
		"disconnects", (json_int_t)st.disconnects,
		"resyncs", (json_int_t)st.resyncs,
		"events", (json_int_t)st.events,
		"retry_ms", (json_int_t)st.retry_ms,
		"publishes", (json_int_t)mc->publishes,
		"publish_us_max", (json_int_t)(mc->publish_ns_max / 1000));
	json_object_set_new(res, "generation",
			    json_integer((json_int_t)membership_generation(mc->table)));
	json_object_set_new(res, "reasons", reasons);
	json_object_set_new(res, "vms", vms_from_table(dp, mc->table));
	json_object_set_new(res, "ports", ports);
	json_object_set_new(res, "attach", attach_json(dp));
	return res;
}
