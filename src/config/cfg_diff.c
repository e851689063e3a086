/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The one classification of every config field (cfg_diff.h).  A YAML
 * key the parser takes that no line here names fails test_cfg_diff, and
 * so does a struct field missing here wherever it moves the fields after
 * it (one small enough to sit in padding is caught by its key): a reload
 * can never silently ignore a change again.
 */
#include "cfg_diff.h"

#include <stdio.h>
#include <string.h>

#define F(T, f, key, cls, same) \
	{ key, offsetof(T, f), sizeof(((T *)0)->f), \
	  _Alignof(__typeof__(((T *)0)->f)), cls, same }

/* Text fields: bytes after the NUL are not part of the value. */
static bool
same_str(const struct cfg *a, const void *x, const struct cfg *b,
	 const void *y)
{
	(void)a;
	(void)b;
	return strcmp(x, y) == 0;
}

static bool
same_eal_args(const struct cfg *a, const void *x, const struct cfg *b,
	      const void *y)
{
	(void)x;
	(void)y;
	if (a->n_eal_args != b->n_eal_args)
		return false;
	for (unsigned int i = 0; i < a->n_eal_args; i++)
		if (strcmp(a->eal_args[i], b->eal_args[i]) != 0)
			return false;
	return true;
}

/* Indexes into another list are compared by what they name. */
static bool
same_port_uplink(const struct cfg *a, const void *x, const struct cfg *b,
		 const void *y)
{
	int u = *(const int *)x, v = *(const int *)y;

	if (u < 0 || v < 0)
		return u == v;
	return strcmp(a->uplinks[u].name, b->uplinks[v].name) == 0;
}

static bool
same_port_vm(const struct cfg *a, const void *x, const struct cfg *b,
	     const void *y)
{
	return strcmp(a->vms[*(const unsigned int *)x].name,
		      b->vms[*(const unsigned int *)y].name) == 0;
}

static bool
same_attach_dirs(const struct cfg *a, const void *x, const struct cfg *b,
		 const void *y)
{
	(void)x;
	(void)y;
	if (a->n_attach_dirs != b->n_attach_dirs)
		return false;
	for (unsigned int i = 0; i < a->n_attach_dirs; i++)
		if (strcmp(a->attach_dirs[i], b->attach_dirs[i]) != 0)
			return false;
	return true;
}

static bool
same_attach_defaults(const struct cfg *a, const void *x, const struct cfg *b,
		     const void *y)
{
	const struct cfg_port *p = x, *q = y;

	return same_port_uplink(a, &p->uplink, b, &q->uplink) &&
	       p->weight == q->weight && p->offloads == q->offloads &&
	       p->sock_owner == q->sock_owner &&
	       p->sock_group == q->sock_group && p->sock_perms == q->sock_perms;
}

static bool
same_networks(const struct cfg *a, const void *x, const struct cfg *b,
	      const void *y)
{
	(void)x;
	(void)y;
	if (a->n_networks != b->n_networks)
		return false;
	for (unsigned int i = 0; i < a->n_networks; i++)
		if (strcmp(a->networks[i].name, b->networks[i].name) != 0 ||
		    a->networks[i].vlan != b->networks[i].vlan ||
		    a->networks[i].vni != b->networks[i].vni)
			return false;
	return true;
}

static const struct cfg_field cfg_fields_cfg[] = {
	F(struct cfg, path, "(the file)", CFG_DERIVED, NULL),
	F(struct cfg, main_lcore, "lcores.main", CFG_RESTART, NULL),
	F(struct cfg, workers, "lcores.workers", CFG_RESTART, NULL),
	F(struct cfg, worker_cpus, "lcores.workers", CFG_RESTART, NULL),
	F(struct cfg, n_workers, "lcores.workers", CFG_RESTART, NULL),
	F(struct cfg, poll, "lcores.poll", CFG_RESTART, NULL),
	F(struct cfg, max_sleep_us, "lcores.max_sleep", CFG_RESTART, NULL),
	F(struct cfg, rebalance_auto, "lcores.rebalance", CFG_LIVE, NULL),
	F(struct cfg, rebalance_load_pct, "lcores.rebalance", CFG_LIVE, NULL),
	F(struct cfg, rebalance_period_s, "lcores.rebalance", CFG_LIVE, NULL),
	F(struct cfg, rebalance_improvement_pct, "lcores.rebalance", CFG_LIVE, NULL),
	F(struct cfg, hugepages, "memory.hugepages", CFG_RESTART, NULL),
	F(struct cfg, mbufs, "memory.mbufs", CFG_RESTART, NULL),
	F(struct cfg, ctl_socket, "control.socket", CFG_RESTART, same_str),
	F(struct cfg, ctl_mode, "control.mode", CFG_RESTART, NULL),
	F(struct cfg, fdb_size, "fdb.size", CFG_RESTART, NULL),
	F(struct cfg, fdb_ageing_s, "fdb.ageing", CFG_LIVE, NULL),
	F(struct cfg, eal_file_prefix, "eal.file_prefix", CFG_RESTART, same_str),
	F(struct cfg, eal_args, "eal.args", CFG_RESTART, same_eal_args),
	F(struct cfg, n_eal_args, "eal.args", CFG_DERIVED, NULL),
	F(struct cfg, membership, "membership.source", CFG_RESTART, NULL),
	F(struct cfg, membership_uri, "membership.uri", CFG_RESTART, same_str),
	F(struct cfg, membership_mode, "membership.mode", CFG_RESTART, NULL),
	F(struct cfg, membership_interval_ms, "membership.interval",
	  CFG_RESTART, NULL),
	F(struct cfg, attach_auto, "membership.attach", CFG_RESTART, NULL),
	F(struct cfg, attach_dirs, "membership.sockets", CFG_RESTART,
	  same_attach_dirs),
	F(struct cfg, n_attach_dirs, "membership.sockets", CFG_DERIVED, NULL),
	F(struct cfg, attach_defaults, "membership.defaults", CFG_RESTART,
	  same_attach_defaults),
	/* Each VM port's direct-path state is set up when it opens. */
	F(struct cfg, direct, "datapath.direct", CFG_RECREATE, NULL),
	/* Made at start; the sockets in it are the ports'. */
	F(struct cfg, sockdir, "socket_dir.path", CFG_RESTART, same_str),
	F(struct cfg, sockdir_group, "socket_dir.group", CFG_RESTART, NULL),
	F(struct cfg, sockdir_mode, "socket_dir.mode", CFG_RESTART, NULL),
	/* Each network's MAC table and VLAN map are made at start. */
	F(struct cfg, networks, "networks", CFG_RESTART, same_networks),
	F(struct cfg, n_networks, "networks", CFG_DERIVED, NULL),
	/* The tunnel endpoint and the directory session are made at start. */
	F(struct cfg, has_overlay, "overlay", CFG_RESTART, NULL),
	F(struct cfg, ovl_local_ip, "overlay.local_ip", CFG_RESTART, NULL),
	F(struct cfg, ovl_prefix, "overlay.local_ip", CFG_RESTART, NULL),
	F(struct cfg, ovl_uplink, "overlay.uplink", CFG_RESTART, NULL),
	F(struct cfg, ovl_udp_port, "overlay.udp_port", CFG_RESTART, NULL),
	F(struct cfg, ovl_has_gateway, "overlay.gateway", CFG_RESTART, NULL),
	F(struct cfg, ovl_gateway, "overlay.gateway", CFG_RESTART, NULL),
	F(struct cfg, has_cluster, "cluster", CFG_RESTART, NULL),
	F(struct cfg, cluster_etcd, "cluster.etcd", CFG_RESTART, NULL),
	F(struct cfg, n_cluster_etcd, "cluster.etcd", CFG_DERIVED, NULL),
	F(struct cfg, cluster_host, "cluster.host", CFG_RESTART, same_str),
	F(struct cfg, cluster_ttl_s, "cluster.ttl", CFG_RESTART, NULL),
	F(struct cfg, cluster_prefix, "cluster.prefix", CFG_RESTART, same_str),
	F(struct cfg, uplinks, "uplinks", CFG_DERIVED, NULL),
	F(struct cfg, n_uplinks, "uplinks", CFG_DERIVED, NULL),
	F(struct cfg, vms, "vms", CFG_DERIVED, NULL),
	F(struct cfg, n_vms, "vms", CFG_DERIVED, NULL),
	F(struct cfg, ports, "vms", CFG_DERIVED, NULL),
	F(struct cfg, n_ports, "vms", CFG_DERIVED, NULL),
	F(struct cfg, at_lcores, "(place)", CFG_DERIVED, NULL),
	F(struct cfg, at_memory, "(place)", CFG_DERIVED, NULL),
	F(struct cfg, at_control, "(place)", CFG_DERIVED, NULL),
	F(struct cfg, at_fdb, "(place)", CFG_DERIVED, NULL),
	F(struct cfg, at_eal, "(place)", CFG_DERIVED, NULL),
	F(struct cfg, at_membership, "(place)", CFG_DERIVED, NULL),
	F(struct cfg, at_datapath, "(place)", CFG_DERIVED, NULL),
	F(struct cfg, at_socket_dir, "(place)", CFG_DERIVED, NULL),
	F(struct cfg, at_overlay, "(place)", CFG_DERIVED, NULL),
	F(struct cfg, at_cluster, "(place)", CFG_DERIVED, NULL),
};

static const struct cfg_field cfg_fields_uplink[] = {
	F(struct cfg_uplink, name, "uplink.name", CFG_DERIVED, NULL),
	F(struct cfg_uplink, device, "uplink.device", CFG_RECREATE, same_str),
	F(struct cfg_uplink, rate_bps, "uplink.rate", CFG_RECREATE, NULL),
	F(struct cfg_uplink, queue_packets, "uplink.queue_packets",
	  CFG_RECREATE, NULL),
	F(struct cfg_uplink, queue_bytes, "uplink.queue_bytes", CFG_RECREATE,
	  NULL),
	F(struct cfg_uplink, mtu, "uplink.mtu", CFG_RECREATE, NULL),
	F(struct cfg_uplink, offloads, "uplink.offloads", CFG_RECREATE, NULL),
	F(struct cfg_uplink, at, "(place)", CFG_DERIVED, NULL),
};

static const struct cfg_field cfg_fields_vm[] = {
	/* A port's VM is one of its fields (port.vm, by name). */
	F(struct cfg_vm, name, "vm.name", CFG_DERIVED, NULL),
	/* Copied into its ports (port.hostname, port.instance_id). */
	F(struct cfg_vm, hostname, "vm.metadata", CFG_DERIVED, NULL),
	F(struct cfg_vm, instance_id, "vm.metadata", CFG_DERIVED, NULL),
	F(struct cfg_vm, user_data, "vm.metadata", CFG_DERIVED, NULL),
	F(struct cfg_vm, imds_v2_only, "vm.metadata", CFG_DERIVED, NULL),
	F(struct cfg_vm, port_first, "vm.ports", CFG_DERIVED, NULL),
	F(struct cfg_vm, n_ports, "vm.ports", CFG_DERIVED, NULL),
};

static const struct cfg_field cfg_fields_port[] = {
	F(struct cfg_port, name, "port.name", CFG_DERIVED, NULL),
	F(struct cfg_port, socket, "port.socket", CFG_RECREATE, same_str),
	F(struct cfg_port, mode, "port.mode", CFG_RECREATE, NULL),
	F(struct cfg_port, mac, "port.mac", CFG_RECREATE, NULL),
	F(struct cfg_port, queues, "port.queues", CFG_RECREATE, NULL),
	F(struct cfg_port, uplink, "port.uplink", CFG_RECREATE,
	  same_port_uplink),
	F(struct cfg_port, weight, "port.weight", CFG_LIVE, NULL),
	F(struct cfg_port, vm, "vm.name", CFG_RECREATE, same_port_vm),
	/* What the guest is offered is fixed when it negotiates. */
	F(struct cfg_port, offloads, "port.offloads", CFG_RECREATE, NULL),
	F(struct cfg_port, takeover_newest, "port.takeover", CFG_RECREATE,
	  NULL),
	/* Applied as the socket is made. */
	F(struct cfg_port, sock_owner, "port.owner", CFG_RECREATE, NULL),
	F(struct cfg_port, sock_group, "port.group", CFG_RECREATE, NULL),
	F(struct cfg_port, sock_perms, "port.perms", CFG_RECREATE, NULL),
	/* A port's network and security are set as it is made. */
	F(struct cfg_port, network, "port.network", CFG_RECREATE, NULL),
	F(struct cfg_port, port_security, "port.port_security", CFG_RECREATE,
	  NULL),
	F(struct cfg_port, allow_dhcp_server, "port.port_security",
	  CFG_RECREATE, NULL),
	F(struct cfg_port, allow_ra, "port.port_security", CFG_RECREATE, NULL),
	F(struct cfg_port, ips, "port.ip", CFG_RECREATE, NULL),
	F(struct cfg_port, n_ips, "port.ip", CFG_RECREATE, NULL),
	F(struct cfg_port, allowed, "port.allowed", CFG_RECREATE, NULL),
	F(struct cfg_port, n_allowed, "port.allowed", CFG_RECREATE, NULL),
	/* The endpoint is built with the port. */
	F(struct cfg_port, has_gateway, "port.gateway", CFG_RECREATE, NULL),
	F(struct cfg_port, gateway, "port.gateway", CFG_RECREATE, NULL),
	F(struct cfg_port, n_dns, "port.dns", CFG_RECREATE, NULL),
	F(struct cfg_port, dns, "port.dns", CFG_RECREATE, NULL),
	F(struct cfg_port, toe_dhcp, "port.toe", CFG_RECREATE, NULL),
	F(struct cfg_port, toe_metadata, "port.toe", CFG_RECREATE, NULL),
	F(struct cfg_port, toe_iperf3, "port.toe", CFG_RECREATE, NULL),
	F(struct cfg_port, toe_cubic, "port.toe", CFG_RECREATE, NULL),
	F(struct cfg_port, hostname, "vm.metadata", CFG_RECREATE, same_str),
	F(struct cfg_port, instance_id, "vm.metadata", CFG_RECREATE, same_str),
	F(struct cfg_port, user_data, "vm.metadata", CFG_RECREATE, same_str),
	F(struct cfg_port, imds_v2_only, "vm.metadata", CFG_RECREATE, NULL),
	/* Read by the workers per burst. */
	F(struct cfg_port, impair, "port.impair", CFG_LIVE, NULL),
	F(struct cfg_port, at, "(place)", CFG_DERIVED, NULL),
};

#define N(a) (sizeof(a) / sizeof((a)[0]))

const struct cfg_field *
cfg_fields(enum cfg_struct s, size_t *n, size_t *size, size_t *align)
{
	switch (s) {
	case CFG_STRUCT_CFG:
		*n = N(cfg_fields_cfg), *size = sizeof(struct cfg);
		*align = _Alignof(struct cfg);
		return cfg_fields_cfg;
	case CFG_STRUCT_UPLINK:
		*n = N(cfg_fields_uplink), *size = sizeof(struct cfg_uplink);
		*align = _Alignof(struct cfg_uplink);
		return cfg_fields_uplink;
	case CFG_STRUCT_VM:
		*n = N(cfg_fields_vm), *size = sizeof(struct cfg_vm);
		*align = _Alignof(struct cfg_vm);
		return cfg_fields_vm;
	case CFG_STRUCT_PORT:
		*n = N(cfg_fields_port), *size = sizeof(struct cfg_port);
		*align = _Alignof(struct cfg_port);
		return cfg_fields_port;
	default:
		*n = 0;
		return NULL;
	}
}

/* The first field of x and y that differs and is not DERIVED, with the
 * worst class among all that differ in *cls. */
static const char *
cmp_fields(const struct cfg_field *t, size_t n, const struct cfg *a,
	   const void *x, const struct cfg *b, const void *y,
	   enum cfg_class *cls)
{
	const char *first = NULL;

	*cls = CFG_SAME;
	for (size_t i = 0; i < n; i++) {
		const char *fx = (const char *)x + t[i].off;
		const char *fy = (const char *)y + t[i].off;
		bool same;

		if (t[i].cls == CFG_DERIVED)
			continue;
		same = t[i].same != NULL ? t[i].same(a, fx, b, fy) :
					   memcmp(fx, fy, t[i].size) == 0;
		if (same)
			continue;
		if (t[i].cls > *cls) {
			*cls = t[i].cls;
			first = t[i].key;
		}
	}
	return first;
}

static void
diff_globals(const struct cfg *a, const struct cfg *b, struct cfg_diff *d)
{
	for (size_t i = 0; i < N(cfg_fields_cfg); i++) {
		const struct cfg_field *f = &cfg_fields_cfg[i];
		const char *fx = (const char *)a + f->off;
		const char *fy = (const char *)b + f->off;
		struct cfg_mark m;

		if (f->cls == CFG_DERIVED ||
		    (f->same != NULL ? f->same(a, fx, b, fy) :
				       memcmp(fx, fy, f->size) == 0))
			continue;
		switch (f->cls) {
		case CFG_LIVE:
			if (d->n_live < N(d->live))
				d->live[d->n_live++] = f->key;
			break;
		case CFG_RECREATE:
			d->recreate_all = f->key;
			break;
		case CFG_RESTART:
			if (d->restart)
				break;
			d->restart = true;
			m = cfg_section_mark(b, f->key);
			if (m.line > 0)
				snprintf(d->why, sizeof(d->why),
					 "%s:%u:%u: %s: changing it needs a restart",
					 b->path, m.line, m.col, f->key);
			else
				snprintf(d->why, sizeof(d->why),
					 "%s: %s (now its default): changing it needs a restart",
					 b->path, f->key);
			break;
		default:
			break;
		}
	}
}

static enum cfg_entry_change
entry_change(enum cfg_class cls)
{
	switch (cls) {
	case CFG_SAME:
		return CFG_UNCHANGED;
	case CFG_LIVE:
		return CFG_CHANGED_LIVE;
	default:
		return CFG_CHANGED;
	}
}

/* Entries of two lists matched by name (the name is their first field). */
static unsigned int
diff_list(const struct cfg *a, const void *la, unsigned int na,
	  const struct cfg *b, const void *lb, unsigned int nb, size_t stride,
	  const struct cfg_field *t, size_t nt, const char *all,
	  struct cfg_diff_entry *out)
{
	unsigned int n = 0;

	for (unsigned int j = 0; j < nb; j++) {
		const char *y = (const char *)lb + j * stride;
		struct cfg_diff_entry *e = &out[n++];

		*e = (struct cfg_diff_entry){ .old_idx = -1, .new_idx = (int)j,
					      .change = CFG_ADDED };
		snprintf(e->name, sizeof(e->name), "%s", y);
		for (unsigned int i = 0; i < na; i++) {
			const char *x = (const char *)la + i * stride;
			enum cfg_class cls;

			if (strcmp(x, y) != 0)
				continue;
			e->old_idx = (int)i;
			e->key = cmp_fields(t, nt, a, x, b, y, &cls);
			if (all != NULL && cls < CFG_RECREATE) {
				cls = CFG_RECREATE;
				e->key = all;
			}
			e->change = entry_change(cls);
			break;
		}
	}
	for (unsigned int i = 0; i < na; i++) {
		const char *x = (const char *)la + i * stride;
		bool kept = false;

		for (unsigned int j = 0; j < nb && !kept; j++)
			kept = strcmp(x, (const char *)lb + j * stride) == 0;
		if (kept)
			continue;
		out[n] = (struct cfg_diff_entry){
			.old_idx = (int)i, .new_idx = -1, .change = CFG_REMOVED,
		};
		snprintf(out[n].name, sizeof(out[n].name), "%s", x);
		n++;
	}
	return n;
}

void
cfg_diff(const struct cfg *a, const struct cfg *b, struct cfg_diff *d)
{
	_Static_assert(offsetof(struct cfg_port, name) == 0 &&
		       offsetof(struct cfg_uplink, name) == 0,
		       "entries are matched by their leading name");

	memset(d, 0, sizeof(*d));
	diff_globals(a, b, d);
	d->n_uplinks = diff_list(a, a->uplinks, a->n_uplinks, b, b->uplinks,
				 b->n_uplinks, sizeof(struct cfg_uplink),
				 cfg_fields_uplink, N(cfg_fields_uplink), NULL,
				 d->uplinks);
	d->n_ports = diff_list(a, a->ports, a->n_ports, b, b->ports,
			       b->n_ports, sizeof(struct cfg_port),
			       cfg_fields_port, N(cfg_fields_port),
			       d->recreate_all, d->ports);
}

unsigned int
cfg_diff_count(const struct cfg_diff *d, enum cfg_entry_change c)
{
	unsigned int n = 0;

	for (unsigned int i = 0; i < d->n_ports; i++)
		n += d->ports[i].change == c;
	for (unsigned int i = 0; i < d->n_uplinks; i++)
		n += d->uplinks[i].change == c;
	return n;
}
