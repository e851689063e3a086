/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The TOE's port endpoints in the switch (toe_ep.h): each VM port with an
 * IPv4 address and toe: dhcp or metadata on has one per worker, built and
 * freed with the port; the workers feed them (dp_worker.c), the views
 * read their counters and lease here.
 */
#include "dp_priv.h"

#include <errno.h>
#include <string.h>

#include <rte_cycles.h>
#include <rte_malloc.h>

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
	_Static_assert(CFG_HOSTNAME_MAX <= TOE_EP_HOSTNAME_MAX, "hostname: fits");
	memcpy(c->hostname, pc->hostname, sizeof(pc->hostname));
	return true;
}

int
dp_toe_port_add(struct dp *dp, uint16_t p)
{
	struct dp_port *port = &dp->ports[p];

	port->toe_on = dp_toe_conf(&port->ep_conf, port->cfg);
	if (!port->toe_on)
		return 0;
	for (unsigned int i = 0; i < dp->n_workers; i++) {
		struct toe_ep *ep = rte_zmalloc("toe_ep", sizeof(*ep),
						RTE_CACHE_LINE_SIZE);

		if (ep == NULL) {
			dp_toe_port_free(dp, p);
			return -ENOMEM;
		}
		toe_ep_init(ep, &port->ep_conf);
		dp->workers[i].toe_ep[p] = ep;
	}
	return 0;
}

void
dp_toe_port_free(struct dp *dp, uint16_t p)
{
	for (unsigned int i = 0; i < dp->n_workers; i++) {
		rte_free(dp->workers[i].toe_ep[p]);
		dp->workers[i].toe_ep[p] = NULL;
	}
	dp->ports[p].toe_on = false;
}

uint64_t
dp_toe_now_ms(const struct dp *dp)
{
	return rte_get_tsc_cycles() / (dp->tsc_hz / 1000);
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
		toe_ep_lease_read(ep, &l);
		if (l.state != TOE_EP_LEASE_NONE &&
		    (info->lease.state == TOE_EP_LEASE_NONE ||
		     l.changed_ms > info->lease.changed_ms))
			info->lease = l;
	}
	return 0;
}
