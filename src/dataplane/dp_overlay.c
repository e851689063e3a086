/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Control side of the overlay (main thread): the directory session
 * (src/cluster), this host's running VM ports of overlay networks
 * published into it, and what it learns of the others turned into the
 * remote table the workers read (an RCU snapshot, as co-residency's),
 * with a neighbour slot for each next hop.  The workers' side is
 * dp_vxlan.c.
 */
#include "dp_priv.h"
#include "dp_overlay.h"

#include <arpa/inet.h>
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <jansson.h>
#include <rte_ethdev.h>
#include <rte_malloc.h>
#include <rte_rcu_qsbr.h>

#include "cluster/cluster.h"
#include "dp_members.h"
#include "overlay/ovl_table.h"
#include "overlay/vxlan.h"

#define DP_OVL_REMOTES_MAX 65536

/* Slot states (dp_overlay.nbr_state). */
enum { NBR_FREE, NBR_USED, NBR_DROPPED };

static void dp_overlay_sum(const struct dp *dp, struct dp_ovl_stats *sum);
_Static_assert(VXLAN_DROP_MAX <= 16, "dp_ovl_stats.vxlan_drops holds every reason");

static void
dp_overlay_uplink_refresh(struct dp *dp)
{
	struct dp_overlay *ovl = dp->ovl;
	int u = dp_uplink_find(dp, ovl->uplink_name);
	struct rte_ether_addr mac;
	uint16_t mtu = RTE_ETHER_MTU;

	if (u >= 0) {
		uint16_t eth = dp->ports[u].eth_port;

		if (rte_eth_macaddr_get(eth, &mac) == 0)
			atomic_store_explicit(&ovl->uplink_mac,
					      dp_mac_word(mac.addr_bytes),
					      memory_order_relaxed);
		rte_eth_dev_get_mtu(eth, &mtu);
		atomic_store_explicit(&ovl->max_inner,
				      (uint32_t)mtu + RTE_ETHER_HDR_LEN - VXLAN_OUTER_LEN,
				      memory_order_relaxed);
	}
	atomic_store_explicit(&ovl->uplink, u, memory_order_relaxed);
}

uint16_t
dp_overlay_guest_mtu(const struct dp *dp, uint16_t net)
{
	const struct dp_overlay *ovl = dp->ovl;

	if (ovl == NULL || net >= CFG_MAX_NETWORKS || ovl->vni_of_net[net] == 0)
		return 0;
	return (uint16_t)(atomic_load_explicit(&ovl->max_inner,
					       memory_order_relaxed) -
			  RTE_ETHER_HDR_LEN);
}

int
dp_overlay_create(struct dp *dp)
{
	const struct cfg *cfg = dp->cfg;
	struct cluster_conf cc = { .ttl_s = cfg->cluster_ttl_s };
	struct dp_overlay *ovl;
	char err[256];

	if (!cfg->has_overlay)
		return 0;
	ovl = rte_zmalloc("vtoe_overlay", sizeof(*ovl), RTE_CACHE_LINE_SIZE);
	if (ovl == NULL)
		return -ENOMEM;
	dp->ovl = ovl;
	ovl->epfd = epoll_create1(EPOLL_CLOEXEC);
	ovl->kick_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (ovl->epfd < 0 || ovl->kick_fd < 0)
		return -errno;
	memcpy(ovl->local_ip, cfg->ovl_local_ip, 4);
	ovl->udp_port = cfg->ovl_udp_port;
	if (cfg->ovl_prefix > 0)
		ovl->mask = ~0u << (32 - cfg->ovl_prefix);
	ovl->has_gw = cfg->ovl_has_gateway;
	memcpy(ovl->gw, cfg->ovl_gateway, 4);
	for (uint16_t n = 0; n < dp->n_nets; n++)
		ovl->vni_of_net[n] = dp->nets[n].vni;
	snprintf(ovl->uplink_name, sizeof(ovl->uplink_name), "%s",
		 cfg->uplinks[cfg->ovl_uplink].name);
	atomic_init(&ovl->max_inner, RTE_ETHER_MTU + RTE_ETHER_HDR_LEN - VXLAN_OUTER_LEN);
	dp_overlay_uplink_refresh(dp);
	for (unsigned int i = 0; i < dp->n_workers; i++) {
		dp->workers[i].ovl_out = rte_zmalloc("vtoe_ovl_out",
			DP_SEG_OUT * sizeof(struct rte_mbuf *), RTE_CACHE_LINE_SIZE);
		if (dp->workers[i].ovl_out == NULL)
			return -ENOMEM;
	}

	for (unsigned int i = 0; i < cfg->n_cluster_etcd; i++)
		snprintf(cc.endpoints[i], sizeof(cc.endpoints[i]), "%s",
			 cfg->cluster_etcd[i]);
	cc.n_endpoints = cfg->n_cluster_etcd;
	snprintf(cc.host, sizeof(cc.host), "%s", cfg->cluster_host);
	memcpy(cc.vtep, ovl->local_ip, 4);
	snprintf(cc.prefix, sizeof(cc.prefix), "%s", cfg->cluster_prefix);
	ovl->tel_lock = calloc(1, sizeof(pthread_mutex_t));
	ovl->tel_info = calloc(1, sizeof(struct cluster_info));
	if (ovl->tel_lock == NULL || ovl->tel_info == NULL)
		return -ENOMEM;
	pthread_mutex_init(ovl->tel_lock, NULL);
	ovl->cl = cluster_create(&cc, err, sizeof(err));
	if (ovl->cl == NULL) {
		DP_LOG(ERR, "cluster: %s\n", err);
		return errno != 0 ? -errno : -EINVAL;
	}
	{
		struct epoll_event ev = { .events = EPOLLIN, .data.fd = ovl->kick_fd };

		if (epoll_ctl(ovl->epfd, EPOLL_CTL_ADD, ovl->kick_fd, &ev) != 0)
			return -errno;
		ev.data.fd = cluster_fd(ovl->cl);
		if (epoll_ctl(ovl->epfd, EPOLL_CTL_ADD, ev.data.fd, &ev) != 0)
			return -errno;
	}
	DP_LOG(INFO, "overlay: tunnel endpoint %u.%u.%u.%u:%u on uplink %s, guest MTU %u; directory of host %s in etcd\n",
	       ovl->local_ip[0], ovl->local_ip[1], ovl->local_ip[2],
	       ovl->local_ip[3], ovl->udp_port, ovl->uplink_name,
	       (unsigned int)(atomic_load(&ovl->max_inner) - RTE_ETHER_HDR_LEN),
	       cfg->cluster_host);
	return 0;
}

/* After the workers stopped. */
void
dp_overlay_destroy(struct dp *dp)
{
	struct dp_overlay *ovl = dp->ovl;
	struct dp_ovl_snap *snap;

	if (ovl == NULL)
		return;
	cluster_destroy(ovl->cl);
	if (ovl->epfd > 0)
		close(ovl->epfd);
	if (ovl->kick_fd > 0)
		close(ovl->kick_fd);
	if (ovl->tel_lock != NULL)
		pthread_mutex_destroy(ovl->tel_lock);
	free(ovl->tel_lock);
	free(ovl->tel_info);
	snap = atomic_load(&ovl->snap);
	if (snap != NULL)
		ovl_table_free(snap->t);
	free(snap);
	for (unsigned int i = 0; dp->workers != NULL && i < dp->n_workers; i++)
		rte_free(dp->workers[i].ovl_out);
	rte_free(ovl);
	dp->ovl = NULL;
}

int
dp_overlay_fd(const struct dp *dp)
{
	return dp->ovl != NULL ? dp->ovl->epfd : -1;
}

void
dp_overlay_port_changed(struct dp *dp, uint16_t p)
{
	struct dp_overlay *ovl = dp->ovl;
	uint64_t one = 1;

	if (ovl == NULL || ovl->vni_of_net[dp->ports[p].net] == 0)
		return;
	if (write(ovl->kick_fd, &one, sizeof(one)) != sizeof(one))
		DP_LOG(DEBUG, "overlay: kick: %s\n", strerror(errno));
}

/* This host's VM ports of overlay networks whose guest is up and whose
 * VM runs here: what the directory should say. */
static void
dp_overlay_publish(struct dp *dp)
{
	static struct cluster_port pub[DP_PORTS_MAX];
	struct dp_overlay *ovl = dp->ovl;
	unsigned int n = 0;

	for (uint16_t p = 0; p < DP_PORTS_MAX; p++) {
		const struct dp_port *port = &dp->ports[p];
		struct cluster_port *cp = &pub[n];

		if (!port->used || port->kind != DP_PORT_VHOST ||
		    ovl->vni_of_net[port->net] == 0 ||
		    !portset_shared_has(&dp->up, p) || !dp_port_here(dp, p))
			continue;
		memset(cp, 0, sizeof(*cp));
		cp->vni = ovl->vni_of_net[port->net];
		memcpy(cp->mac, port->conf.mac, 6);
		snprintf(cp->port, sizeof(cp->port), "%s", port->name);
		for (unsigned int i = 0; i < port->conf.n_ips &&
		     cp->n_ips < CLUSTER_IPS_MAX; i++) {
			cp->ips[cp->n_ips].family = port->conf.ips[i].family;
			memcpy(cp->ips[cp->n_ips].addr, port->conf.ips[i].addr, 16);
			cp->n_ips++;
		}
		n++;
	}
	cluster_publish(ovl->cl, pub, n);
}

/* The slot of next hop ip (network order), taken if new; -1: none left. */
static int
dp_overlay_nbr(struct dp_overlay *ovl, uint32_t ip, bool *used)
{
	int free_slot = -1, again = -1;

	for (int i = 0; i < DP_NBR_MAX; i++) {
		if (ovl->nbr_state[i] == NBR_USED &&
		    atomic_load_explicit(&ovl->nbrs[i].ip, memory_order_relaxed) == ip) {
			used[i] = true;
			return i;
		}
		if (ovl->nbr_state[i] == NBR_FREE && ovl->nbr_last_ip[i] == ip && again < 0)
			again = i;
		if (ovl->nbr_state[i] == NBR_FREE && free_slot < 0)
			free_slot = i;
	}
	if (again >= 0) {
		free_slot = again;
	} else if (free_slot >= 0) {
		atomic_store_explicit(&ovl->nbrs[free_slot].mac, 0, memory_order_relaxed);
		atomic_store_explicit(&ovl->nbrs[free_slot].seen_tsc, 0, memory_order_relaxed);
		atomic_store_explicit(&ovl->nbrs[free_slot].asked_tsc, 0, memory_order_relaxed);
	} else {
		return -1;
	}
	ovl->nbr_last_ip[free_slot] = ip;
	/* Pairs with the workers' reads through the snapshot that names
	 * the slot, published after this. */
	atomic_store_explicit(&ovl->nbrs[free_slot].ip, ip, memory_order_release);
	ovl->nbr_state[free_slot] = NBR_USED;
	used[free_slot] = true;
	return free_slot;
}

static uint32_t
dp_overlay_next_hop(const struct dp_overlay *ovl, const uint8_t vtep[4])
{
	uint32_t a, l, ip;

	memcpy(&a, vtep, 4);
	memcpy(&l, ovl->local_ip, 4);
	if (ovl->mask == 0 || !ovl->has_gw ||
	    ((rte_be_to_cpu_32(a) ^ rte_be_to_cpu_32(l)) & ovl->mask) == 0)
		return a;
	memcpy(&ip, ovl->gw, 4);
	return ip;
}

/* The directory changed: a new snapshot for the workers. */
static void
dp_overlay_rebuild(struct dp *dp)
{
	struct dp_overlay *ovl = dp->ovl;
	uint64_t gen = cluster_generation(ovl->cl);
	struct cluster_remote *rem = NULL;
	struct ovl_entry *ents = NULL;
	struct ovl_host *hosts = NULL;
	struct dp_ovl_snap *snap, *prev;
	bool used[DP_NBR_MAX] = { false }, dropped = false;
	unsigned int n, n_hosts = 0, n_ents = 0, skipped = 0;

	if (gen == ovl->cl_gen && atomic_load(&ovl->snap) != NULL)
		return;
	/* Slots dropped by the last rebuild are free once every worker
	 * has passed a quiescent state since. */
	for (int i = 0; i < DP_NBR_MAX; i++)
		dropped |= ovl->nbr_state[i] == NBR_DROPPED;
	if (dropped) {
		rte_rcu_qsbr_synchronize(dp->rcu, RTE_QSBR_THRID_INVALID);
		for (int i = 0; i < DP_NBR_MAX; i++)
			if (ovl->nbr_state[i] == NBR_DROPPED)
				ovl->nbr_state[i] = NBR_FREE;
	}
	n = cluster_remotes(ovl->cl, NULL, 0);
	if (n > DP_OVL_REMOTES_MAX)
		n = DP_OVL_REMOTES_MAX;
	rem = calloc(n + 1, sizeof(*rem));
	ents = calloc(n + 1, sizeof(*ents));
	hosts = calloc(OVL_HOSTS_MAX, sizeof(*hosts));
	snap = calloc(1, sizeof(*snap));
	if (rem == NULL || ents == NULL || hosts == NULL || snap == NULL)
		goto out;
	n = cluster_remotes(ovl->cl, rem, n);
	for (unsigned int i = 0; i < n; i++) {
		const struct cluster_remote *r = &rem[i];
		struct ovl_entry *e = &ents[n_ents];
		int net = dp_overlay_net_of_vni(dp, r->vni);
		unsigned int h;

		if (net < 0) {
			skipped++;      /* a VNI none of this host's networks has */
			continue;
		}
		/* A host is its tunnel endpoint. */
		for (h = 0; h < n_hosts; h++)
			if (memcmp(hosts[h].vtep, r->vtep, 4) == 0)
				break;
		if (h == n_hosts) {
			int slot;

			if (n_hosts == OVL_HOSTS_MAX ||
			    (slot = dp_overlay_nbr(ovl, dp_overlay_next_hop(ovl, r->vtep),
						   used)) < 0) {
				skipped++;
				continue;
			}
			snprintf(hosts[h].name, sizeof(hosts[h].name), "%s", r->host);
			memcpy(hosts[h].vtep, r->vtep, 4);
			hosts[h].nbr = (uint16_t)slot;
			n_hosts++;
		}
		e->net = (uint16_t)net;
		memcpy(e->mac, r->mac, 6);
		e->host = (uint16_t)h;
		e->revision = r->revision;
		for (unsigned int k = 0; k < r->n_ips; k++)
			if (r->ips[k].family == 4) {
				memcpy(e->ip4, r->ips[k].addr, 4);
				break;
			}
		n_ents++;
	}
	snap->t = ovl_table_build(hosts, n_hosts, ents, n_ents, dp->n_nets, NULL);
	if (snap->t == NULL)
		goto out;
	snap->generation = gen;
	prev = atomic_exchange_explicit(&ovl->snap, snap, memory_order_acq_rel);
	snap = NULL;
	ovl->cl_gen = gen;
	ovl->skipped = skipped;
	/* Pairs with the workers' loads: after this no worker holds prev. */
	rte_rcu_qsbr_synchronize(dp->rcu, RTE_QSBR_THRID_INVALID);
	if (prev != NULL)
		ovl_table_free(prev->t);
	free(prev);
	for (int i = 0; i < DP_NBR_MAX; i++)
		if (ovl->nbr_state[i] == NBR_USED && !used[i]) {
			atomic_store_explicit(&ovl->nbrs[i].ip, 0, memory_order_relaxed);
			ovl->nbr_state[i] = NBR_DROPPED;
		}
	DP_LOG(DEBUG, "overlay: remote table of %u host(s), %u VM port(s) (%u skipped)\n",
	       n_hosts, n_ents, skipped);
out:
	free(snap);
	free(rem);
	free(ents);
	free(hosts);
}

void
dp_overlay_dispatch(struct dp *dp)
{
	uint64_t n;

	if (dp->ovl == NULL)
		return;
	if (read(dp->ovl->kick_fd, &n, sizeof(n)) < 0 && errno != EAGAIN)
		DP_LOG(DEBUG, "overlay: kick: %s\n", strerror(errno));
	dp_overlay_uplink_refresh(dp);
	cluster_dispatch(dp->ovl->cl);
	dp_overlay_publish(dp);
	dp_overlay_rebuild(dp);
	pthread_mutex_lock(dp->ovl->tel_lock);
	cluster_info(dp->ovl->cl, dp->ovl->tel_info);
	pthread_mutex_unlock(dp->ovl->tel_lock);
}

unsigned int
dp_overlay_values(const struct dp *dp, struct dp_overlay_value *out,
		  unsigned int max, char *state, size_t state_size)
{
	struct dp_overlay *ovl = dp->ovl;
	struct cluster_info ci;
	struct dp_ovl_stats sum = { 0 };
	unsigned int n = 0;

	if (ovl == NULL || ovl->tel_lock == NULL)
		return 0;
	pthread_mutex_lock(ovl->tel_lock);
	ci = *(const struct cluster_info *)ovl->tel_info;
	pthread_mutex_unlock(ovl->tel_lock);
	snprintf(state, state_size, "%s%s", cluster_state_name(ci.state),
		 ci.stale ? " stale" : "");
	dp_overlay_sum(dp, &sum);
#define PUT(nm, v) do { if (n < max) out[n++] = (struct dp_overlay_value){ nm, v }; } while (0)
	PUT("stale", ci.stale);
	PUT("lease", (uint64_t)ci.lease_id);
	PUT("revision", (uint64_t)ci.revision);
	PUT("published", ci.n_published);
	PUT("hosts", ci.n_hosts);
	PUT("remotes", ci.n_remotes);
#define CL_PUT(name, help) PUT("etcd_" #name, ci.c.name);
	CLUSTER_COUNTERS(CL_PUT)
#undef CL_PUT
#define OVL_PUT(name, help) PUT(#name, sum.name);
	DP_OVL_COUNTERS(OVL_PUT)
#undef OVL_PUT
	for (int r = 0; r < VXLAN_DROP_MAX; r++)
		PUT(vxlan_drop_name((enum vxlan_drop)r), sum.vxlan_drops[r]);
#undef PUT
	return n;
}

/* The workers' overlay counters, summed (relaxed loads: they only grow). */
static void
dp_overlay_sum(const struct dp *dp, struct dp_ovl_stats *sum)
{
	for (unsigned int w = 0; w < dp->n_workers; w++) {
		const struct dp_ovl_stats *s = &dp->workers[w].ovl;

#define DP_OVL_SUM(name, help) \
		sum->name += __atomic_load_n(&s->name, __ATOMIC_RELAXED);
		DP_OVL_COUNTERS(DP_OVL_SUM)
#undef DP_OVL_SUM
		for (int r = 0; r < VXLAN_DROP_MAX; r++)
			sum->vxlan_drops[r] += __atomic_load_n(&s->vxlan_drops[r],
							       __ATOMIC_RELAXED);
	}
}

/* --- vtoectl cluster --------------------------------------------------- */

static json_t *
ip4_json(const uint8_t ip[4])
{
	char buf[16];

	snprintf(buf, sizeof(buf), "%u.%u.%u.%u", ip[0], ip[1], ip[2], ip[3]);
	return json_string(buf);
}

static json_t *
mac_json(const uint8_t mac[6])
{
	char buf[18];

	cfg_mac_format(mac, buf, sizeof(buf));
	return json_string(buf);
}

/* CLOCK_REALTIME ms as seconds since the epoch, as the other views. */
static json_t *
ms_json(uint64_t ms)
{
	return ms == 0 ? json_null() : json_real((double)ms / 1000.0);
}

static json_t *
ip_json(const struct cluster_ip *ip)
{
	char buf[64];

	if (ip->family == 4)
		return ip4_json(ip->addr);
	if (inet_ntop(AF_INET6, ip->addr, buf, sizeof(buf)) == NULL)
		return json_null();
	return json_string(buf);
}

static json_t *
dp_overlay_hosts_json(const struct dp *dp)
{
	const struct dp_overlay *ovl = dp->ovl;
	struct cluster_host *hs = calloc(OVL_HOSTS_MAX, sizeof(*hs));
	unsigned int n = hs != NULL ? cluster_hosts(ovl->cl, hs, OVL_HOSTS_MAX) : 0;
	json_t *arr = json_array();

	if (n > OVL_HOSTS_MAX)
		n = OVL_HOSTS_MAX;
	for (unsigned int i = 0; i < n; i++) {
		uint32_t nh = dp_overlay_next_hop(ovl, hs[i].vtep);
		json_t *nbr = json_null();
		uint8_t nh4[4];

		memcpy(nh4, &nh, 4);
		for (int k = 0; k < DP_NBR_MAX; k++) {
			uint64_t mac;
			uint8_t m[6];

			if (ovl->nbr_state[k] != NBR_USED ||
			    atomic_load_explicit(&ovl->nbrs[k].ip,
						 memory_order_relaxed) != nh)
				continue;
			mac = atomic_load_explicit(&ovl->nbrs[k].mac,
						   memory_order_relaxed);
			if (mac & DP_NBR_VALID) {
				dp_word_mac(mac, m);
				json_decref(nbr);
				nbr = mac_json(m);
			}
		}
		json_array_append_new(arr, json_pack("{s:s, s:o, s:I, s:o, s:o, s:o}",
			"name", hs[i].name, "vtep", ip4_json(hs[i].vtep),
			"ports", (json_int_t)hs[i].n_ports,
			"learned", ms_json(hs[i].learned_ms),
			"next_hop", ip4_json(nh4), "next_hop_mac", nbr));
	}
	free(hs);
	return arr;
}

static json_t *
dp_overlay_remotes_json(const struct dp *dp)
{
	const struct dp_overlay *ovl = dp->ovl;
	unsigned int n = cluster_remotes(ovl->cl, NULL, 0);
	struct cluster_remote *rem;
	json_t *arr = json_array();

	if (n > DP_OVL_REMOTES_MAX)
		n = DP_OVL_REMOTES_MAX;
	rem = calloc(n + 1, sizeof(*rem));
	if (rem == NULL)
		return arr;
	n = cluster_remotes(ovl->cl, rem, n);
	for (unsigned int i = 0; i < n; i++) {
		const struct cluster_remote *r = &rem[i];
		int net = dp_overlay_net_of_vni(dp, r->vni);
		json_t *ips = json_array();

		for (unsigned int k = 0; k < r->n_ips; k++)
			json_array_append_new(ips, ip_json(&r->ips[k]));
		json_array_append_new(arr, json_pack("{s:s, s:o, s:I, s:o, s:o, s:o, s:s, s:I, s:o}",
			"host", r->host, "vtep", ip4_json(r->vtep),
			"vni", (json_int_t)r->vni,
			"network", net >= 0 ? json_string(dp->nets[net].name) : json_null(),
			"mac", mac_json(r->mac), "ips", ips, "port", r->port,
			"revision", (json_int_t)r->revision,
			"learned", ms_json(r->learned_ms)));
	}
	free(rem);
	return arr;
}

json_t *
dp_overlay_json(const struct dp *dp)
{
	const struct dp_overlay *ovl = dp->ovl;
	struct cluster_info ci;
	struct dp_ovl_stats sum = { 0 };
	json_t *dir, *counters, *drops, *ctr, *nets;

	if (ovl == NULL)
		return NULL;
	cluster_info(ovl->cl, &ci);
	dp_overlay_sum(dp, &sum);
	counters = json_object();
#define DP_OVL_JSON(name, help) \
	json_object_set_new(counters, #name, json_integer((json_int_t)sum.name));
	DP_OVL_COUNTERS(DP_OVL_JSON)
#undef DP_OVL_JSON
	drops = json_object();
	for (int r = 0; r < VXLAN_DROP_MAX; r++)
		json_object_set_new(drops, vxlan_drop_name((enum vxlan_drop)r),
				    json_integer((json_int_t)sum.vxlan_drops[r]));
	json_object_set_new(counters, "vxlan_drops", drops);
	ctr = json_object();
#define CL_JSON(name, help) \
	json_object_set_new(ctr, #name, json_integer((json_int_t)ci.c.name));
	CLUSTER_COUNTERS(CL_JSON)
#undef CL_JSON
	dir = json_pack("{s:s, s:b, s:o, s:o, s:s, s:s, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:o}",
		"state", cluster_state_name(ci.state), "stale", ci.stale,
		"since", ms_json(ci.state_since_ms), "synced", ms_json(ci.synced_ms),
		"endpoint", ci.endpoint, "last_error", ci.last_error,
		"lease", (json_int_t)ci.lease_id,
		"ttl", (json_int_t)ci.ttl_s, "revision", (json_int_t)ci.revision,
		"published", (json_int_t)ci.n_published,
		"unpublishable", (json_int_t)ci.n_unpublishable,
		"n_hosts", (json_int_t)ci.n_hosts,
		"n_remotes", (json_int_t)ci.n_remotes, "counters", ctr);
	nets = json_array();
	for (uint16_t n = 0; n < dp->n_nets; n++)
		if (ovl->vni_of_net[n] != 0)
			json_array_append_new(nets, json_pack("{s:s, s:I}",
				"name", dp->nets[n].name,
				"vni", (json_int_t)ovl->vni_of_net[n]));
	return json_pack("{s:s, s:o, s:I, s:s, s:I, s:o, s:o, s:o, s:o, s:o, s:I}",
		"host", dp->cfg->cluster_host, "vtep", ip4_json(ovl->local_ip),
		"udp_port", (json_int_t)ovl->udp_port, "uplink", ovl->uplink_name,
		"guest_mtu", (json_int_t)(atomic_load_explicit(&ovl->max_inner,
				memory_order_relaxed) - RTE_ETHER_HDR_LEN),
		"networks", nets, "directory", dir,
		"hosts", dp_overlay_hosts_json(dp),
		"remotes", dp_overlay_remotes_json(dp),
		"counters", counters, "skipped", (json_int_t)ovl->skipped);
}
