/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * cluster: the cluster directory in etcd (v3 JSON gateway over libcurl),
 * run by the main thread only; the workers never see it (the dataplane
 * turns what it learns into an ovl_table snapshot).
 *
 * Each vtoed publishes its running VM ports of overlay networks (VNI,
 * MAC, addresses, host, VTEP) under PREFIX, attached to a lease of its
 * own that it keeps alive: when the host dies the lease expires and etcd
 * withdraws its entries.  It watches PREFIX to keep the table of the
 * other hosts' ports.  It survives a member's loss (next endpoint), and a
 * whole-cluster outage (the last table is kept, marked stale, and
 * resynchronised on return), reconnecting with backoff.
 *
 * Keys (values are JSON objects):
 *   PREFIX hosts/HOST              {"host","vtep","version"}
 *   PREFIX ports/VNI/MAC/HOST      {"host","vtep","vni","mac","port","ips":[...]}
 */
#ifndef VTOE_CLUSTER_H
#define VTOE_CLUSTER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define CLUSTER_ENDPOINTS_MAX 8
#define CLUSTER_URL_MAX 256
#define CLUSTER_HOST_MAX 64     /* incl. NUL */
#define CLUSTER_PORT_NAME_MAX 32
#define CLUSTER_IPS_MAX 8
#define CLUSTER_PREFIX_DEFAULT "/vtoe/"
#define CLUSTER_ERROR_MAX 160

struct cluster_conf {
	char endpoints[CLUSTER_ENDPOINTS_MAX][CLUSTER_URL_MAX]; /* http://h:p */
	unsigned int n_endpoints;
	char host[CLUSTER_HOST_MAX];    /* this host's name: [A-Za-z0-9._-] */
	uint8_t vtep[4];                /* this host's tunnel endpoint */
	uint32_t ttl_s;                 /* lease TTL, >= 2 */
	char prefix[CLUSTER_URL_MAX];   /* "" : CLUSTER_PREFIX_DEFAULT */
};

struct cluster_ip {
	uint8_t family;                 /* 4 or 6 */
	uint8_t addr[16];
};

/* A VM port of this host, as published. */
struct cluster_port {
	uint32_t vni;
	uint8_t mac[6];
	char port[CLUSTER_PORT_NAME_MAX];
	uint8_t n_ips;
	struct cluster_ip ips[CLUSTER_IPS_MAX];
};

/* A VM port of another host, as learned. */
struct cluster_remote {
	char host[CLUSTER_HOST_MAX];
	uint8_t vtep[4];
	uint32_t vni;
	uint8_t mac[6];
	char port[CLUSTER_PORT_NAME_MAX];
	uint8_t n_ips;
	struct cluster_ip ips[CLUSTER_IPS_MAX];
	int64_t revision;               /* etcd mod_revision */
	uint64_t learned_ms;            /* CLOCK_REALTIME, ms */
};

/* Another host, as learned from its hosts/ key. */
struct cluster_host {
	char name[CLUSTER_HOST_MAX];
	uint8_t vtep[4];
	unsigned int n_ports;           /* its entries in the table */
	uint64_t learned_ms;
};

/* The session with etcd, declared once. */
#define CLUSTER_STATES(X) \
	X(CONNECTING, "connecting", "granting a lease") \
	X(SYNCING,    "syncing",    "publishing this host's ports and reading the directory") \
	X(WATCHING,   "watching",   "in sync: watching the directory") \
	X(BACKOFF,    "backoff",    "etcd unreachable: waiting before the next endpoint")

enum cluster_state {
#define CLUSTER_STATE_ENUM(sym, name, help) CLUSTER_##sym,
	CLUSTER_STATES(CLUSTER_STATE_ENUM)
#undef CLUSTER_STATE_ENUM
	CLUSTER_STATE_MAX
};

/* Counters, declared once. */
#define CLUSTER_COUNTERS(X) \
	X(requests,      "HTTP requests made to etcd") \
	X(errors,        "requests that failed (transport, HTTP status or a body that does not parse)") \
	X(reconnects,    "sessions started again after an error") \
	X(lease_grants,  "leases granted") \
	X(keepalives,    "lease keepalives answered") \
	X(lease_lost,    "times the lease was found expired (entries published again)") \
	X(puts,          "entries published") \
	X(deletes,       "entries withdrawn") \
	X(resyncs,       "full reads of the directory") \
	X(watch_events,  "watch events applied") \
	X(rejected,      "directory entries refused (bad key or value), left out of the table") \
	X(conflicts,     "a MAC of a network claimed by two hosts (the newer one kept)")

struct cluster_counters {
#define CLUSTER_COUNTER_FIELD(name, help) uint64_t name;
	CLUSTER_COUNTERS(CLUSTER_COUNTER_FIELD)
#undef CLUSTER_COUNTER_FIELD
};

struct cluster_info {
	enum cluster_state state;
	bool stale;                     /* table not in sync with etcd now */
	uint64_t state_since_ms;        /* CLOCK_REALTIME, ms */
	uint64_t synced_ms;             /* last time in sync, 0: never */
	char endpoint[CLUSTER_URL_MAX]; /* the one in use */
	int64_t lease_id;               /* 0: none */
	uint32_t ttl_s;
	int64_t revision;               /* the directory's, as last seen */
	unsigned int n_published;       /* this host's entries in etcd */
	unsigned int n_unpublishable;   /* ports of the last cluster_publish
					 * the directory cannot hold */
	unsigned int n_hosts, n_remotes;
	char last_error[CLUSTER_ERROR_MAX]; /* why the session last failed,
					     * "" : never */
	struct cluster_counters c;
};

struct cluster;

const char *cluster_state_name(enum cluster_state s);

/* NULL + errno (EINVAL with a message in err for a bad conf). */
struct cluster *cluster_create(const struct cluster_conf *conf, char *err,
			       size_t size);
/* Revokes the lease (best effort, bounded to a second): the other hosts
 * drop this one's ports at once rather than after the TTL.  NULL ok. */
void cluster_destroy(struct cluster *c);

/* A file descriptor that is readable when cluster_dispatch has work
 * (sockets, timers); the caller adds it to its epoll. */
int cluster_fd(const struct cluster *c);
/* Do what is due: call when cluster_fd is readable, and at least every
 * 100 ms.  Never blocks. */
void cluster_dispatch(struct cluster *c);

/* The ports this host runs now (replaces the last set; the difference is
 * published).  Ports whose VNI is 0 are ignored. */
void cluster_publish(struct cluster *c, const struct cluster_port *ports,
		     unsigned int n);

/* Bumped whenever the table of the other hosts changes. */
uint64_t cluster_generation(const struct cluster *c);
/* The other hosts' ports, one per (VNI, MAC) (the newest claim): how
 * many there are; at most max written. */
unsigned int cluster_remotes(const struct cluster *c,
			     struct cluster_remote *out, unsigned int max);
unsigned int cluster_hosts(const struct cluster *c, struct cluster_host *out,
			   unsigned int max);
void cluster_info(const struct cluster *c, struct cluster_info *info);

#endif /* VTOE_CLUSTER_H */
