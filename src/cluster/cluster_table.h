/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * cluster_table: the directory as this host knows it, pure (no I/O):
 * the other hosts' entries, built from a full read (resync: replaces
 * everything) and kept by watch events, both as decoded key/values
 * (cluster_codec.h).  The session (cluster.c) feeds it; tests feed it a
 * scripted watch stream.
 *
 * - This host's own keys are not in it (the session handles them).
 * - A key or value that does not parse, or disagrees with itself, is
 *   refused and counted; if it replaces a good entry, that entry goes
 *   (etcd no longer holds it).
 * - Several hosts may claim one (VNI, MAC) (a migration's switch-over):
 *   all claims are kept, the newest mod_revision is the answer, and a
 *   second claim is counted as a conflict.
 * - A port entry is usable without its host's hosts/ key: its value
 *   carries the VTEP.  cluster_table_hosts lists every host with a
 *   hosts/ key or at least one entry.
 * - Bounded: at most max_entries port entries and max_hosts hosts; what
 *   would exceed them is refused and counted.
 * - The generation moves on every change a reader can see.
 */
#ifndef VTOE_CLUSTER_TABLE_H
#define VTOE_CLUSTER_TABLE_H

#include <stdint.h>

#include "cluster.h"

#define CLUSTER_TABLE_ENTRIES_MAX 65536
#define CLUSTER_TABLE_HOSTS_MAX 256

struct cluster_kv;
struct cluster_table;

struct cluster_table_counters {
	uint64_t applied;               /* events taken (changed the table) */
	uint64_t rejected;              /* keys or values refused */
	uint64_t conflicts;             /* (VNI, MAC) claimed by a 2nd host */
};

/* prefix and own_host are copied.  max_entries / max_hosts: 0 is the
 * default (and the maximum).  NULL + errno. */
struct cluster_table *cluster_table_create(const char *prefix,
					   const char *own_host,
					   unsigned int max_entries,
					   unsigned int max_hosts);
void cluster_table_destroy(struct cluster_table *t);

/* Replace everything with these kvs (a range).  0, or -ENOMEM with the
 * table as it was. */
int cluster_table_resync(struct cluster_table *t, const struct cluster_kv *kvs,
			 unsigned int n, uint64_t now_ms);
/* One watch event.  An event older than the entry it names (by
 * mod_revision) is ignored.  0, or -ENOMEM (the table then misses it:
 * the caller resyncs). */
int cluster_table_apply(struct cluster_table *t, const struct cluster_kv *kv,
			uint64_t now_ms);

uint64_t cluster_table_generation(const struct cluster_table *t);
void cluster_table_counters(const struct cluster_table *t,
			    struct cluster_table_counters *c);
/* Port entries held (every claim). */
unsigned int cluster_table_n_entries(const struct cluster_table *t);

/* As cluster_remotes / cluster_hosts (cluster.h): one remote per (VNI,
 * MAC), sorted by VNI then MAC; hosts sorted by name. */
unsigned int cluster_table_remotes(const struct cluster_table *t,
				   struct cluster_remote *out,
				   unsigned int max);
unsigned int cluster_table_hosts(const struct cluster_table *t,
				 struct cluster_host *out, unsigned int max);

#endif /* VTOE_CLUSTER_TABLE_H */
