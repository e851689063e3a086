/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * toe_imds: the instance metadata service of a TOE endpoint, HTTP/1.1 on
 * 169.254.169.254:80 over the endpoint's TCP (toe_sock.h).  The port the
 * request came in on is the identity: a VM reads its own metadata only.
 *
 * Paths (EC2's, as cloud-init and AWS tooling read them, and NoCloud's):
 *   /latest/meta-data/ {hostname, instance-id, local-hostname,
 *     local-ipv4, mac, network/interfaces/macs/MAC/{device-number,
 *     local-hostname, local-ipv4s, mac, subnet-ipv4-cidr-block}}
 *   /latest/user-data (404 without one), /latest/dynamic/instance-identity/
 *   document (JSON), directory paths list their entries (with or without
 *   the trailing slash);
 *   PUT /latest/api/token with X-aws-ec2-metadata-token-ttl-seconds
 *   (1..21600) answers an IMDSv2 token; a request with
 *   X-aws-ec2-metadata-token must carry a valid one (401), and with
 *   v2_only every /latest request must (401); a token PUT with
 *   X-Forwarded-For is refused (403), as EC2 does to keep proxies out;
 *   /nocloud/{meta-data, user-data, vendor-data} for cloud-init's NoCloud
 *   datasource (seedfrom: http://169.254.169.254/nocloud/; no token).
 * Tokens carry their expiry and a MAC under the port's key, so every
 * worker serving the port checks them without shared state.
 * GET and HEAD; another method is 405 (with Allow).  Keep-alive and
 * pipelining (answers in order); a connection idle for TOE_IMDS_IDLE_MS
 * is closed; request limits and their statuses are toe_http.h's.
 */
#ifndef VTOE_TOE_IMDS_H
#define VTOE_TOE_IMDS_H

#include <stdbool.h>
#include <stdint.h>

#include "toe_http.h"
#include "toe_timer.h"

#define TOE_IMDS_PORT 80
#define TOE_IMDS_IDLE_MS 60000
#define TOE_IMDS_CONNS_MAX 64
#define TOE_IMDS_TTL_MAX 21600
#define TOE_IMDS_KEY_LEN 32

struct toe_ep;
struct toe_sock;

struct toe_imds_conf {
	char instance_id[64];           /* "" : i- and the MAC's digits */
	char hostname[64];
	uint8_t ip4[4];
	uint8_t prefix4;
	uint8_t mac[6];
	const uint8_t *user_data;       /* NULL: none */
	uint32_t user_data_len;
	bool v2_only;
	uint8_t key[TOE_IMDS_KEY_LEN];  /* the port's, for tokens */
};

/* What the service did, declared once: X(field, "name", "help"). */
#define TOE_IMDS_COUNTERS(X) \
	X(connections, "connections", "connections accepted") \
	X(refused, "refused", "connections reset: TOE_IMDS_CONNS_MAX open") \
	X(requests, "requests", "requests answered") \
	X(ok, "ok", "answered 200") \
	X(not_found, "not_found", "answered 404") \
	X(unauthorized, "unauthorized", "answered 401: no token (v2-only) or a bad one") \
	X(forbidden, "forbidden", "answered 403: a token request through a proxy") \
	X(bad_method, "bad_method", "answered 405") \
	X(bad_request, "bad_request", "malformed or too large (400, 413, 414, 431, 501, 505): answered, then closed") \
	X(tokens, "tokens", "IMDSv2 tokens issued") \
	X(idle_closed, "idle_closed", "connections closed after TOE_IMDS_IDLE_MS idle")

struct toe_imds_stats {
#define TOE_IMDS_FIELD(f, name, help) uint64_t f;
	TOE_IMDS_COUNTERS(TOE_IMDS_FIELD)
#undef TOE_IMDS_FIELD
};

struct imds_conn;

struct toe_imds {
	struct toe_ep *ep;
	const struct toe_imds_conf *conf;
	struct toe_sock *l;
	struct imds_conn *conns;
	unsigned int n_conns;
	struct toe_imds_stats stats;
};

/* An answer: status, the headers to add, the body (in text or, for the
 * user data, the service's buffer). */
struct toe_imds_resp {
	int status;
	const char *ctype;
	char extra[160];                /* header lines, each "...\r\n" */
	const uint8_t *body;
	uint32_t body_len;
	char text[1024];
};

/* Listen on addr:TOE_IMDS_PORT.  0 or -errno. */
int toe_imds_start(struct toe_imds *m, struct toe_ep *ep, const uint8_t addr[4],
		   const struct toe_imds_conf *conf);
/* The service's own state freed; call before toe_ep_fini, which frees
 * its sockets (without a word to the guest: the port is going). */
void toe_imds_stop(struct toe_imds *m);

/* The answer to one parsed request (pure: the unit tests' entry). */
void toe_imds_answer(struct toe_imds *m, const struct toe_http_req *req,
		     uint64_t now_ms, struct toe_imds_resp *out);

#endif /* VTOE_TOE_IMDS_H */
