/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The TOE's port endpoints in the switch (toe_ep.h): each VM port with an
 * IPv4 address and toe: dhcp or metadata on has one per worker, built and
 * freed with the port; the workers feed them (dp_worker.c), the views
 * read their counters and lease here.
 */
#include "dp_priv.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sodium.h>

#include <rte_cycles.h>
#include <rte_malloc.h>
#include <rte_mbuf.h>

#include "overlay/ovl_table.h"

#ifndef container_of
#define container_of(p, T, m) ((T *)((char *)(p) - offsetof(T, m)))
#endif

/* An endpoint, with where its frames go, and its services. */
struct dp_toe_ep {
	struct toe_ep ep;
	struct dp_worker *w;
	uint16_t port;
	bool imds_on;
	struct toe_imds imds;
	struct toe_iperf3 iperf3;
};

/* The port's endpoint config; false when it has none. */
static bool
dp_toe_conf(struct toe_ep_conf *c, const struct cfg_port *pc)
{
	const struct cfg_ip *ip4 = NULL;

	memset(c, 0, sizeof(*c));
	for (unsigned int i = 0; i < pc->n_ips && ip4 == NULL; i++)
		if (pc->ips[i].family == 4)
			ip4 = &pc->ips[i];
	if (ip4 == NULL || !(pc->toe_dhcp || pc->toe_metadata))
		return false;
	memcpy(c->mac, pc->mac, 6);
	memcpy(c->ip4, ip4->addr, 4);
	c->prefix4 = ip4->prefix;
	c->has_gw = pc->has_gateway;
	memcpy(c->gw4, pc->gateway, 4);
	_Static_assert(CFG_DNS_MAX <= TOE_EP_DNS_MAX, "dns: fits");
	c->n_dns = pc->n_dns;
	memcpy(c->dns4, pc->dns, sizeof(pc->dns));
	c->dhcp = pc->toe_dhcp;
	c->metadata = pc->toe_metadata;
	c->tcp_cc = pc->toe_cubic ? TOE_CC_CUBIC : TOE_CC_NEWRENO;
	_Static_assert(CFG_HOSTNAME_MAX <= TOE_EP_HOSTNAME_MAX, "hostname: fits");
	memcpy(c->hostname, pc->hostname, sizeof(pc->hostname));
	return true;
}

/*
 * A frame of an endpoint, into an mbuf chain for its port: headers and
 * payload copied, offload requests set in layer 1's canonical form (the
 * TCP checksum completed, and super-frames cut, by the port's egress as
 * the guest needs).
 */
static void
dp_toe_emit(void *arg, const struct toe_emit *e)
{
	struct dp_toe_ep *x = arg;
	struct dp_worker *w = x->w;
	struct rte_mempool *pool = w->dp->pool;
	struct rte_mbuf *head, *m;
	const uint8_t *src[3] = { e->hdr, e->pay[0], e->pay[1] };
	uint32_t left[3] = { e->hdr_len, e->pay_len[0], e->pay_len[1] };

	w->stats[x->port].toe_sent++;
	head = m = rte_pktmbuf_alloc(pool);
	if (m == NULL)
		goto nombuf;
	for (int k = 0; k < 3; k++)
		while (left[k] > 0) {
			uint32_t room = rte_pktmbuf_tailroom(m), n;

			if (room == 0) {
				struct rte_mbuf *next = rte_pktmbuf_alloc(pool);

				if (next == NULL || rte_pktmbuf_chain(head, next) != 0) {
					rte_pktmbuf_free(next);
					rte_pktmbuf_free(head);
					goto nombuf;
				}
				m = next;
				continue;
			}
			n = left[k] < room ? left[k] : room;
			memcpy(rte_pktmbuf_mtod_offset(m, uint8_t *, m->data_len),
			       src[k], n);
			m->data_len = (uint16_t)(m->data_len + n);
			head->pkt_len += n;
			src[k] += n;
			left[k] -= n;
		}
	if (e->l4_partial) {
		head->l2_len = e->l2_len;
		head->l3_len = e->l3_len;
		head->l4_len = e->l4_len;
		head->ol_flags |= RTE_MBUF_F_TX_IPV4 | RTE_MBUF_F_TX_TCP_CKSUM;
		if (e->mss > 0) {
			head->ol_flags |= RTE_MBUF_F_TX_TCP_SEG;
			head->tso_segsz = e->mss;
		}
	}
	dp_stage_out(w, x->port, head);
	return;
nombuf:
	w->stats[x->port].drops[DP_DROP_NO_MBUF]++;
}

/* A port going away sends nothing more. */
static void
dp_toe_emit_none(void *arg, const struct toe_emit *e)
{
	(void)arg;
	(void)e;
}

/* The metadata service's config; the user data mapped (it may not be
 * readable any more: then the VM has none, and the log says why). */
static void
dp_toe_imds_conf(struct dp_port *port)
{
	const struct cfg_port *pc = port->cfg;
	struct toe_imds_conf *c = &port->imds_conf;
	struct stat st;
	int fd;

	memset(c, 0, sizeof(*c));
	snprintf(c->instance_id, sizeof(c->instance_id), "%s", pc->instance_id);
	snprintf(c->hostname, sizeof(c->hostname), "%s", pc->hostname);
	memcpy(c->ip4, port->ep_conf.ip4, 4);
	c->prefix4 = port->ep_conf.prefix4;
	memcpy(c->mac, pc->mac, 6);
	c->v2_only = pc->imds_v2_only;
	randombytes_buf(c->key, sizeof(c->key));
	if (pc->user_data[0] == '\0')
		return;
	fd = open(pc->user_data, O_RDONLY | O_CLOEXEC);
	if (fd < 0 || fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) ||
	    (uint64_t)st.st_size > CFG_USER_DATA_MAX) {
		DP_LOG(ERR, "port %s: user data %s not served: %s\n", port->name,
		       pc->user_data, fd < 0 ? strerror(errno) : "not a regular file of at most 64 MiB");
		if (fd >= 0)
			close(fd);
		return;
	}
	if (st.st_size > 0) {
		port->ud_map = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
		if (port->ud_map == MAP_FAILED) {
			DP_LOG(ERR, "port %s: user data %s not served: %s\n",
			       port->name, pc->user_data, strerror(errno));
			port->ud_map = NULL;
			close(fd);
			return;
		}
		port->ud_len = (size_t)st.st_size;
	}
	close(fd);
	c->user_data = port->ud_map != NULL ? port->ud_map : (const uint8_t *)"";
	c->user_data_len = (uint32_t)port->ud_len;
}

int
dp_toe_port_add(struct dp *dp, uint16_t p)
{
	struct dp_port *port = &dp->ports[p];
	uint64_t now = dp_toe_now_ms(dp);

	port->toe_on = dp_toe_conf(&port->ep_conf, port->cfg);
	if (!port->toe_on)
		return 0;
	/* DHCP tells a guest of an overlay network the MTU the tunnel leaves
	 * it. */
	port->ep_conf.mtu = dp_overlay_guest_mtu(dp, port->net);
	dp_toe_imds_conf(port);
	for (unsigned int i = 0; i < dp->n_workers; i++) {
		struct dp_worker *w = &dp->workers[i];
		struct dp_toe_ep *x = rte_zmalloc("toe_ep", sizeof(*x),
						  RTE_CACHE_LINE_SIZE);

		if (x == NULL) {
			dp_toe_port_free(dp, p);
			return -ENOMEM;
		}
		x->w = w;
		x->port = p;
		toe_ep_init(&x->ep, &port->ep_conf, w->toe_key, dp_toe_emit, x, now);
		/* Checksums and segmentation are the egress's (layer 1). */
		x->ep.tcp.csum_partial = true;
		x->ep.tcp.super = true;
		w->toe_ep[p] = &x->ep;
		if (port->ep_conf.metadata) {
			int rc = toe_imds_start(&x->imds, &x->ep, toe_ep_md_ip4,
						&port->imds_conf);

			if (rc != 0) {
				dp_toe_port_free(dp, p);
				return rc;
			}
			x->imds_on = true;
		}
		if (port->cfg->toe_iperf3) {
			int rc = toe_iperf3_start(&x->iperf3, &x->ep, toe_ep_md_ip4, 0);

			if (rc != 0) {
				dp_toe_port_free(dp, p);
				return rc;
			}
		}
	}
	return 0;
}

/* After a grace period with the port in no plan: no worker runs these
 * endpoints or their timers. */
void
dp_toe_port_free(struct dp *dp, uint16_t p)
{
	for (unsigned int i = 0; i < dp->n_workers; i++) {
		struct toe_ep *ep = dp->workers[i].toe_ep[p];

		if (ep != NULL) {
			struct dp_toe_ep *x = container_of(ep, struct dp_toe_ep, ep);

			ep->emit = dp_toe_emit_none;
			if (x->imds_on)
				toe_imds_stop(&x->imds);
			toe_iperf3_stop(&x->iperf3);
			toe_ep_fini(ep);
			rte_free(x);
		}
		dp->workers[i].toe_ep[p] = NULL;
	}
	dp->ports[p].toe_on = false;
	if (dp->ports[p].ud_map != NULL)
		munmap(dp->ports[p].ud_map, dp->ports[p].ud_len);
	dp->ports[p].ud_map = NULL;
	dp->ports[p].ud_len = 0;
}

uint64_t
dp_toe_now_ms(const struct dp *dp)
{
	return rte_get_tsc_cycles() / (dp->tsc_hz / 1000);
}

int
dp_toe_worker_init(struct dp_worker *w)
{
	if (sodium_init() < 0)
		return -ENOMEM;
	randombytes_buf(w->toe_key, sizeof(w->toe_key));
	w->toe_sleep_us = UINT32_MAX;
	w->toe_in = rte_malloc("toe_in", TOE_EP_IN_MAX, 0);
	return w->toe_in != NULL ? 0 : -ENOMEM;
}

void
dp_toe_worker_fini(struct dp_worker *w)
{
	rte_free(w->toe_in);
	w->toe_in = NULL;
}

void
dp_toe_neighbours(const struct dp *dp, unsigned int port,
		  void (*fn)(const struct dp_toe_neighbour *n, void *arg),
		  void *arg)
{
	struct portset up;
	uint16_t n_ports = dp_port_count(dp);

	if (port >= DP_PORTS_MAX || !dp->ports[port].used)
		return;
	portset_shared_load(&dp->up, n_ports, &up);
	for (uint16_t p = 0; p < n_ports; p++) {
		const struct fwd_port *fp = &dp->fwd_ports[p];
		struct dp_toe_neighbour nb;

		if (p == port || !dp->ports[p].used || fp->is_uplink ||
		    !fp->has_ip4 || fp->net != dp->ports[port].net)
			continue;
		nb.port = dp->ports[p].name;
		memcpy(nb.ip4, fp->ip4, 4);
		memcpy(nb.mac, fp->mac, 6);
		nb.up = portset_has(&up, p);
		fn(&nb, arg);
	}
}

/*
 * A frame the port's TOE endpoint claimed (toe_ep_classify): given to it
 * whole (read out of the mbuf chain), its answers staged for the port.
 * false: not the endpoint's after all.  A checksum the guest left to the
 * host (a validated claim) is not checked: the bytes came from its
 * memory.
 */
bool
dp_toe_take(struct dp_worker *w, uint16_t in, struct rte_mbuf *m)
{
	uint32_t len = rte_pktmbuf_pkt_len(m);
	const uint8_t *f = rte_pktmbuf_read(m, 0, RTE_MIN(len, (uint32_t)TOE_EP_IN_MAX),
					    w->toe_in);
	bool l4_ok = (m->ol_flags & (RTE_MBUF_F_TX_L4_MASK | RTE_MBUF_F_TX_TCP_SEG)) != 0;

	if (f == NULL ||
	    !toe_ep_input(w->toe_ep[in], f, len, l4_ok, dp_toe_now_ms(w->dp)))
		return false;
	w->stats[in].toe_taken++;
	w->toe_armed = true;
	rte_pktmbuf_free(m);
	return true;
}

/*
 * ARP suppression: a broadcast request from port in for the address of
 * another VM port of its network whose guest is up is answered by in's
 * endpoint with that port's MAC.  A scan of the ports: ARP requests are
 * few, and a guest that floods them spends its own worker's time.
 */
bool
dp_toe_suppress(struct dp_worker *w, uint16_t in, const struct fwd_ctx *fctx,
		struct rte_mbuf *m)
{
	const uint8_t *f = rte_pktmbuf_mtod(m, const uint8_t *);
	uint32_t len = rte_pktmbuf_data_len(m);
	const uint8_t *ip = toe_ep_arp_target(f, len);
	uint16_t net = w->dp->ports[in].net;

	if (ip == NULL)
		return false;
	for (uint16_t p = 0; p < fctx->n_ports; p++) {
		const struct fwd_port *fp = &fctx->ports[p];

		if (p == in || fp->is_uplink || !fp->has_ip4 || fp->net != net ||
		    memcmp(fp->ip4, ip, 4) != 0 || !portset_has(&fctx->up, p))
			continue;
		toe_ep_arp_proxy(w->toe_ep[in], f, len, fp->mac);
		w->stats[in].toe_taken++;
		rte_pktmbuf_free(m);
		return true;
	}
	/* An overlay network's VMs on other hosts: from the directory, so
	 * the request is not replicated to every host of the network. */
	if (w->dp->ovl != NULL && w->dp->ovl->vni_of_net[net] != 0) {
		const struct dp_ovl_snap *snap = atomic_load_explicit(
			&w->dp->ovl->snap, memory_order_acquire);
		uint8_t mac[6];

		if (snap != NULL && ovl_table_arp(snap->t, net, ip, mac) == 0) {
			toe_ep_arp_proxy(w->toe_ep[in], f, len, mac);
			w->stats[in].toe_taken++;
			rte_pktmbuf_free(m);
			return true;
		}
	}
	return false;
}

/*
 * The timers of the endpoints of the ports this worker polls, and the
 * views' copy of their connections every 250 ms.  Returns whether any
 * frame went out.
 */
bool
dp_toe_run(struct dp_worker *w, uint64_t tsc)
{
	const struct dp_plan *pl = w->pl;
	uint64_t now = tsc / (w->dp->tsc_hz / 1000), next = UINT64_MAX;
	uint64_t sent = 0;
	bool armed = false;

	for (unsigned int i = 0; i < pl->n_rxqs; i++) {
		uint16_t p = pl->rxqs[i].port;
		struct toe_ep *ep = w->toe_ep[p];

		if (ep == NULL)
			continue;
		sent -= w->stats[p].toe_sent;
		if (ep->wheel.armed > 0)
			toe_wheel_run(&ep->wheel, now);
		/* the views' copy: every 250 ms, and once when it goes quiet
		 * (no timer: the worker stops visiting it) */
		if (now >= ep->snap_ms + 250 ||
		    (ep->wheel.armed == 0 && !ep->snap_quiet)) {
			ep->snap_ms = now;
			ep->snap_quiet = ep->wheel.armed == 0;
			toe_tcp_snapshot(&ep->tcp);
		} else if (ep->wheel.armed > 0) {
			ep->snap_quiet = false;
		}
		sent += w->stats[p].toe_sent;
		if (ep->wheel.armed > 0) {
			armed = true;
			if (w->dp->intr) {
				uint64_t t = toe_wheel_next(&ep->wheel);

				next = t < next ? t : next;
			}
		}
	}
	w->toe_armed = armed;
	w->toe_sleep_us = next == UINT64_MAX ? UINT32_MAX :
			  next <= now ? 0 : (uint32_t)RTE_MIN((next - now) * 1000, (uint64_t)UINT32_MAX - 1);
	if (sent > 0)
		dp_flush_dirty(w, DP_PORTS_MAX);
	return sent > 0;
}

int
dp_toe_info(const struct dp *dp, unsigned int p, struct dp_toe_info *info)
{
	const struct dp_port *port;
	uint64_t *o = (uint64_t *)&info->stats;

	if (p >= DP_PORTS_MAX || !dp->ports[p].used)
		return -ENOENT;
	port = &dp->ports[p];
	memset(info, 0, sizeof(*info));
	if (!port->toe_on)
		return -ENODATA;
	info->conf = &port->ep_conf;
	info->instance_id = port->conf.instance_id;
	info->imds = port->ep_conf.metadata;
	info->iperf3 = port->cfg->toe_iperf3;
	info->imds_v2_only = port->imds_conf.v2_only;
	info->user_data_len = port->ud_len;
	info->now_ms = dp_toe_now_ms(dp);
	_Static_assert(sizeof(struct toe_ep_stats) % sizeof(uint64_t) == 0,
		       "toe_ep_stats is a list of 64-bit counters");
	/* Each endpoint has one writer, its worker; the latest lease of
	 * them is the port's. */
	for (unsigned int i = 0; i < dp->n_workers; i++) {
		const struct toe_ep *ep = dp->workers[i].toe_ep[p];
		const uint64_t *s = (const uint64_t *)&ep->stats;
		struct toe_ep_lease l;

		for (size_t k = 0; k < sizeof(ep->stats) / sizeof(uint64_t); k++)
			o[k] += __atomic_load_n(&s[k], __ATOMIC_RELAXED);
		{
			const struct dp_toe_ep *x = (const struct dp_toe_ep *)
				((const char *)ep - offsetof(struct dp_toe_ep, ep));
			const uint64_t *ms = (const uint64_t *)&x->imds.stats;
			uint64_t *mo = (uint64_t *)&info->imds_stats;
			struct toe_tcp_conn_info ci[TOE_TCP_CONN_INFO_MAX];
			uint32_t total;
			unsigned int n = toe_tcp_info_read(&ep->tcp, ci, &total);

			for (size_t k = 0; k < sizeof(x->imds.stats) / sizeof(uint64_t); k++)
				mo[k] += __atomic_load_n(&ms[k], __ATOMIC_RELAXED);
			ms = (const uint64_t *)&x->iperf3.stats;
			mo = (uint64_t *)&info->iperf3_stats;
			for (size_t k = 0; k < sizeof(x->iperf3.stats) / sizeof(uint64_t); k++)
				mo[k] += __atomic_load_n(&ms[k], __ATOMIC_RELAXED);
			for (unsigned int k = 0; k < n && info->n_conns < TOE_TCP_CONN_INFO_MAX; k++)
				info->conns[info->n_conns++] = ci[k];
			info->conns_total += total;
			info->conns_tw += __atomic_load_n(&ep->tcp.n_tw, __ATOMIC_RELAXED);
			info->tcp_mem += __atomic_load_n(&ep->tcp.mem, __ATOMIC_RELAXED);
		}
		toe_ep_lease_read(ep, &l);
		if (l.state != TOE_EP_LEASE_NONE &&
		    (info->lease.state == TOE_EP_LEASE_NONE ||
		     l.changed_ms > info->lease.changed_ms))
			info->lease = l;
	}
	return 0;
}
