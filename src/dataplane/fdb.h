/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * fdb: the MAC table.  Static entries come from the port map; entries are
 * learned from frames received on uplinks and age out.  Workers look up and
 * learn without locks; the main thread ages.  No DPDK types: the caller
 * passes the time, so tests drive the clock.
 */
#ifndef VTOE_FDB_H
#define VTOE_FDB_H

#include <stdbool.h>
#include <stdint.h>

#define FDB_PORT_MAX 16383      /* port ids 0..16382: 14 bits of the key */

struct fdb;

struct fdb_entry {
	uint8_t mac[6];
	uint16_t port;
	bool is_static;
	uint32_t last_seen_s;   /* learned entries: time of the last frame */
};

/* A table of at least n_entries slots (rounded up).  NULL + errno. */
struct fdb *fdb_create(uint32_t n_entries);
void fdb_destroy(struct fdb *fdb);

/* Control path: 0, -EEXIST (MAC already static), -ENOSPC, -EINVAL. */
int fdb_add_static(struct fdb *fdb, const uint8_t mac[6], uint16_t port);

/* Control path: remove the static entry of mac on port (the port went
 * away).  0, -ENOENT (no such entry). */
int fdb_del_static(struct fdb *fdb, const uint8_t mac[6], uint16_t port);

/* Data path: port id, or -1 when the MAC is unknown. */
int fdb_lookup(const struct fdb *fdb, const uint8_t mac[6]);

/*
 * Data path: frame from mac arrived on port at now_s.
 * Returns 0 (known, refreshed), 1 (learned or moved), -EPERM (mac is a
 * static entry: a learned frame never overrides the port map), -ENOSPC
 * (bucket full: not learned, frames to it are treated as unknown).
 */
int fdb_learn(struct fdb *fdb, const uint8_t mac[6], uint16_t port,
	      uint32_t now_s);

/* Main thread: remove learned entries not seen for more than max_age_s
 * whole seconds (never one seen less than max_age_s ago).  Returns how
 * many were removed. */
unsigned int fdb_age(struct fdb *fdb, uint32_t now_s, uint32_t max_age_s);

/* Control path: remove every learned entry on port (port went away). */
unsigned int fdb_flush_port(struct fdb *fdb, uint16_t port);

/* Snapshot for display: calls fn for every entry; stops if fn returns
 * non-zero.  Entries may change while walking (workers keep learning). */
typedef int (*fdb_walk_fn)(const struct fdb_entry *e, void *arg);
int fdb_walk(const struct fdb *fdb, fdb_walk_fn fn, void *arg);

uint32_t fdb_capacity(const struct fdb *fdb);

#endif /* VTOE_FDB_H */
