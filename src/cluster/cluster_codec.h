/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * cluster_codec: the directory's bytes, pure (no I/O): its keys and JSON
 * values (cluster.h), base64, the request bodies of etcd's v3 JSON
 * gateway and the parsing of its answers.  What etcd holds is written by
 * any host, so every parser here refuses what it does not fully
 * understand and never fills an output partly.
 *
 * Gateway answers (etcd 3.4): int64 fields are JSON strings, fields at
 * their default (0, PUT, false, empty) are left out, keys and values are
 * base64; a watch streams one {"result":{...}} object per line and ends
 * with {"error":{...}}.
 */
#ifndef VTOE_CLUSTER_CODEC_H
#define VTOE_CLUSTER_CODEC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cluster.h"

#define CLUSTER_KEY_MAX 512             /* bytes of a key we accept */
#define CLUSTER_VALUE_MAX 2048          /* bytes of a value we accept */
#define CLUSTER_VNI_MAX 16777215u
#define CLUSTER_VERSION_MAX 64          /* hosts/ "version", incl. NUL */
#define CLUSTER_REASON_MAX 160

/* --- keys ------------------------------------------------------------- */

enum cluster_key_kind {
	CLUSTER_KEY_HOST,               /* PREFIX hosts/HOST */
	CLUSTER_KEY_PORT,               /* PREFIX ports/VNI/MAC/HOST */
};

struct cluster_key {
	enum cluster_key_kind kind;
	char host[CLUSTER_HOST_MAX];
	uint32_t vni;                   /* ports only */
	uint8_t mac[6];                 /* ports only */
};

/* [A-Za-z0-9._-], 1 to CLUSTER_HOST_MAX - 1 characters. */
bool cluster_host_valid(const char *name, size_t len);
/* A MAC a VM port may have: not group, not zero. */
bool cluster_mac_valid(const uint8_t mac[6]);
/* An IPv4 address a host may tunnel from: not 0/8, not 224/3. */
bool cluster_vtep_valid(const uint8_t vtep[4]);

/* The key, NUL-terminated, into buf: its length, or -ENOSPC / -EINVAL. */
int cluster_key_host(char *buf, size_t size, const char *prefix,
		     const char *host);
int cluster_key_port(char *buf, size_t size, const char *prefix,
		     uint32_t vni, const uint8_t mac[6], const char *host);
/* 0, or -EINVAL for a key that is not exactly one of the two forms
 * (canonical: VNI decimal without leading zeros, MAC lowercase). */
int cluster_key_parse(const char *prefix, const char *key, size_t len,
		      struct cluster_key *out);

/* The end of a prefix range: prefix with its last byte plus one. */
int cluster_prefix_end(char *buf, size_t size, const char *prefix);

/* --- values ----------------------------------------------------------- */

/* JSON text (malloc'd), or NULL + errno (EINVAL: not publishable). */
char *cluster_value_host(const char *host, const uint8_t vtep[4],
			 const char *version);
char *cluster_value_port(const char *host, const uint8_t vtep[4],
			 const struct cluster_port *port);
/* 0 and out filled (name, vtep; the rest zero), or -EINVAL. */
int cluster_value_host_parse(const char *json, size_t len,
			     struct cluster_host *out);
/* 0 and out filled (host, vtep, vni, mac, port, ips; the rest zero), or
 * -EINVAL. */
int cluster_value_port_parse(const char *json, size_t len,
			     struct cluster_remote *out);

/* --- base64 (standard alphabet, padded) -------------------------------- */

/* The encoded length (NUL written), or 0 if size is too small. */
size_t cluster_b64_encode(const void *in, size_t n, char *out, size_t size);
/* 0 and *n_out, or -EINVAL (bad alphabet, padding) / -ENOSPC. */
int cluster_b64_decode(const char *in, size_t n, void *out, size_t size,
		       size_t *n_out);

/* --- gateway requests (JSON text, malloc'd; NULL + errno) --------------- */

char *cluster_req_grant(uint32_t ttl_s);
char *cluster_req_lease(int64_t lease);         /* keepalive, revoke */
char *cluster_req_put(const char *key, const char *value, int64_t lease);
char *cluster_req_delete(const char *key);
char *cluster_req_range(const char *prefix);
char *cluster_req_watch(const char *prefix, int64_t start_revision);

/* --- gateway answers --------------------------------------------------- */

enum cluster_kv_type {
	CLUSTER_KV_PUT,
	CLUSTER_KV_DELETE,
};

/* One key of a range or a watch event, decoded (NUL-terminated too). */
struct cluster_kv {
	enum cluster_kv_type type;
	char *key;
	size_t key_len;
	char *value;                    /* "" for a DELETE */
	size_t value_len;
	int64_t mod_revision;
	int64_t lease;                  /* 0: none */
};

struct cluster_kvs {
	struct cluster_kv *v;
	unsigned int n;
};

void cluster_kvs_free(struct cluster_kvs *kvs);

/*
 * The error object of a failed request ({"error":"..","code":N}) or of a
 * stream ({"error":{"grpc_code":N,"message":".."}}): 0 with the message
 * and gRPC code, or -EINVAL if body is not one.
 */
int cluster_resp_error(const char *body, size_t len, char *msg, size_t size,
		       int *code);
/* Lease grant: 0 with the lease and its TTL, or -EPROTO. */
int cluster_resp_grant(const char *body, size_t len, int64_t *lease,
		       int64_t *ttl);
/* Lease keepalive: 0 with the TTL left (> 0), -ENOENT if the lease is
 * gone (TTL absent or 0, or a NotFound error), -EIO for another error
 * object (the member's trouble: no leader, ...), -EPROTO if unparsable. */
int cluster_resp_keepalive(const char *body, size_t len, int64_t *ttl);
/* Put, delete, revoke: 0 with header.revision, or -EPROTO. */
int cluster_resp_header(const char *body, size_t len, int64_t *revision);
/* Range: 0 with header.revision and every kv (all of them or none), or
 * -EPROTO / -ENOMEM. */
int cluster_resp_range(const char *body, size_t len, int64_t *revision,
		       struct cluster_kvs *kvs);

enum cluster_watch_kind {
	CLUSTER_WATCH_CREATED,
	CLUSTER_WATCH_EVENTS,
	CLUSTER_WATCH_PROGRESS,         /* header only: nothing happened */
	CLUSTER_WATCH_CANCELED,
	CLUSTER_WATCH_COMPACTED,        /* canceled: start revision gone */
	CLUSTER_WATCH_ERROR,            /* the stream's error object */
};

struct cluster_watch_msg {
	enum cluster_watch_kind kind;
	int64_t revision;               /* header.revision, 0: absent */
	int64_t compact_revision;
	char reason[CLUSTER_REASON_MAX];
	struct cluster_kvs events;      /* EVENTS: all of them or none */
};

/* One message of the watch stream: 0, or -EPROTO / -ENOMEM (msg then
 * holds no events).  cluster_watch_msg_free after 0. */
int cluster_resp_watch(const char *line, size_t len,
		       struct cluster_watch_msg *msg);
void cluster_watch_msg_free(struct cluster_watch_msg *msg);

#endif /* VTOE_CLUSTER_CODEC_H */
