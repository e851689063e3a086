/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * ovl_table: where a MAC of an overlay network lives in the cluster, as
 * the workers read it: an immutable snapshot built by the main thread
 * from the cluster directory and published by RCU (dataplane/dp_overlay.c),
 * like the co-residency table.  Pure: no DPDK types, unit-tested.
 *
 * Keys are (network, MAC): the same MAC may live in two networks.  A
 * network's flood list is the hosts that have at least one port in it
 * (head-end replication).  A MAC claimed by two hosts (a migration's
 * switch-over seen from outside) is the host with the newer revision.
 */
#ifndef VTOE_OVL_TABLE_H
#define VTOE_OVL_TABLE_H

#include <stdint.h>

#define OVL_HOSTS_MAX 256
#define OVL_HOST_NAME_MAX 64

struct ovl_host {
	char name[OVL_HOST_NAME_MAX];
	uint8_t vtep[4];
	uint16_t nbr;           /* the caller's neighbour slot for it */
};

struct ovl_entry {
	uint16_t net;           /* this host's network index */
	uint8_t mac[6];
	uint16_t host;          /* index into the hosts given to build */
	uint8_t ip4[4];         /* first IPv4 address, 0.0.0.0: none */
	int64_t revision;       /* newer wins a conflict */
};

struct ovl_table;

/*
 * Build a snapshot (hosts and entries are copied).  Entries with host >=
 * n_hosts or net >= n_nets are skipped (counted in *skipped when not
 * NULL).  Two entries for one (net, mac): the higher revision, then the
 * lower host index, then the first given; the losers are gone from the
 * snapshot (lookups, ARP, flood lists).  NULL + errno: EINVAL for
 * n_hosts > OVL_HOSTS_MAX or a NULL array with a count, ENOMEM on
 * allocation failure or more than 2^28 entries.
 */
struct ovl_table *ovl_table_build(const struct ovl_host *hosts,
				  unsigned int n_hosts,
				  const struct ovl_entry *entries,
				  unsigned int n_entries, uint16_t n_nets,
				  unsigned int *skipped);
void ovl_table_free(struct ovl_table *t);

/* The host of (net, mac): its index, or -1. */
int ovl_table_lookup(const struct ovl_table *t, uint16_t net,
		     const uint8_t mac[6]);
/* The entry of (net, mac), or NULL. */
const struct ovl_entry *ovl_table_entry(const struct ovl_table *t,
					uint16_t net, const uint8_t mac[6]);
/* The MAC of IPv4 address ip in net (ARP answered from the directory):
 * 0 and mac filled, or -1.  An address claimed twice: the higher
 * revision, then the lower host index, then the lower MAC. */
int ovl_table_arp(const struct ovl_table *t, uint16_t net,
		  const uint8_t ip[4], uint8_t mac[6]);
/* The hosts with ports in net, for head-end replication: their number,
 * *hosts pointing at their indices, ascending (valid as long as t; NULL
 * for a net >= n_nets). */
unsigned int ovl_table_flood(const struct ovl_table *t, uint16_t net,
			     const uint16_t **hosts);
/* The host whose VTEP is ip (the first), or -1; never for 0.0.0.0. */
int ovl_table_host_of_vtep(const struct ovl_table *t, const uint8_t ip[4]);
const struct ovl_host *ovl_table_host(const struct ovl_table *t,
				      unsigned int i);
unsigned int ovl_table_n_hosts(const struct ovl_table *t);
unsigned int ovl_table_n_entries(const struct ovl_table *t);

#endif /* VTOE_OVL_TABLE_H */
