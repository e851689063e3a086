/* SPDX-License-Identifier: BSD-3-Clause */
/* The instance metadata service (toe_imds.h). */
#include "toe_imds.h"

#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "toe_ep.h"
#include "toe_sock.h"

#define container_of(p, T, m) ((T *)((char *)(p) - offsetof(T, m)))

#define TOKEN_RAW 24                    /* expiry (8) + MAC (16) */
#define TOKEN_LEN 32                    /* base64url without padding */

/* One connection: what it received, the answer being sent. */
struct imds_conn {
	struct toe_imds *m;
	struct imds_conn *next, **pprev;        /* in m->conns */
	struct toe_sock *s;
	struct toe_timer idle;
	uint32_t in_len;
	uint8_t in[TOE_HTTP_HEAD_MAX + TOE_HTTP_BODY_MAX];
	/* the answer in progress: its head, then its body */
	char head[512];
	uint32_t head_len, head_off;
	const uint8_t *body;
	uint32_t body_len, body_off;
	char text[1024];                /* a generated body */
	bool busy;                      /* an answer is being sent */
	bool close_after;
	bool eof;
};

/* ------------------------------------------------------------------ */
/* Tokens                                                              */

static void
token_mac(const struct toe_imds_conf *c, const uint8_t exp[8], uint8_t mac[16])
{
	uint8_t full[crypto_auth_BYTES];

	crypto_auth(full, exp, 8, c->key);
	memcpy(mac, full, 16);
}

static void
token_make(const struct toe_imds_conf *c, uint64_t expires_ms, char *out)
{
	uint8_t raw[TOKEN_RAW];

	for (int i = 0; i < 8; i++)
		raw[i] = (uint8_t)(expires_ms >> (56 - 8 * i));
	token_mac(c, raw, raw + 8);
	sodium_bin2base64(out, TOKEN_LEN + 1, raw, sizeof(raw),
			  sodium_base64_VARIANT_URLSAFE_NO_PADDING);
}

static bool
token_ok(const struct toe_imds_conf *c, const char *tok, uint64_t now_ms)
{
	uint8_t raw[TOKEN_RAW], mac[16];
	size_t n = 0;
	uint64_t exp = 0;

	if (strlen(tok) != TOKEN_LEN ||
	    sodium_base642bin(raw, sizeof(raw), tok, TOKEN_LEN, NULL, &n, NULL,
			      sodium_base64_VARIANT_URLSAFE_NO_PADDING) != 0 ||
	    n != sizeof(raw))
		return false;
	token_mac(c, raw, mac);
	if (sodium_memcmp(mac, raw + 8, 16) != 0)
		return false;
	for (int i = 0; i < 8; i++)
		exp = exp << 8 | raw[i];
	return now_ms < exp;
}

/* ------------------------------------------------------------------ */
/* Answers                                                             */

static void
text(struct toe_imds_resp *r, int status, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void
text(struct toe_imds_resp *r, int status, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(r->text, sizeof(r->text), fmt, ap);
	va_end(ap);
	r->status = status;
	r->body = (const uint8_t *)r->text;
	r->body_len = n < 0 ? 0 : (uint32_t)n >= sizeof(r->text) ?
		      (uint32_t)sizeof(r->text) - 1 : (uint32_t)n;
}

static void
error(struct toe_imds_resp *r, int status)
{
	text(r, status, "%d %s\n", status, toe_http_reason(status));
}

static void
instance_id(const struct toe_imds_conf *c, char *out, size_t size)
{
	if (c->instance_id[0] != '\0')
		snprintf(out, size, "%s", c->instance_id);
	else
		snprintf(out, size, "i-%02x%02x%02x%02x%02x%02x", c->mac[0],
			 c->mac[1], c->mac[2], c->mac[3], c->mac[4], c->mac[5]);
}

/* path equals dir with or without its trailing slash */
static bool
is_dir(const char *path, const char *dir)
{
	size_t n = strlen(dir);

	return strncmp(path, dir, n) == 0 &&
	       (path[n] == '\0' || (path[n] == '/' && path[n + 1] == '\0'));
}

/* /latest/meta-data/..., the leaves and directories. */
static bool
meta_data(const struct toe_imds_conf *c, const char *p,
	  struct toe_imds_resp *r)
{
	char mac[18], id[72], ip[16], net[20], macdir[64];
	uint32_t a = (uint32_t)c->ip4[0] << 24 | c->ip4[1] << 16 |
		     c->ip4[2] << 8 | c->ip4[3];
	uint32_t mask = c->prefix4 == 0 ? 0 : ~(uint32_t)0 << (32 - c->prefix4);

	snprintf(mac, sizeof(mac), "%02x:%02x:%02x:%02x:%02x:%02x", c->mac[0],
		 c->mac[1], c->mac[2], c->mac[3], c->mac[4], c->mac[5]);
	instance_id(c, id, sizeof(id));
	snprintf(ip, sizeof(ip), "%u.%u.%u.%u", c->ip4[0], c->ip4[1], c->ip4[2], c->ip4[3]);
	a &= mask;
	snprintf(net, sizeof(net), "%u.%u.%u.%u/%u", a >> 24, (a >> 16) & 0xff,
		 (a >> 8) & 0xff, a & 0xff, c->prefix4);
	snprintf(macdir, sizeof(macdir), "network/interfaces/macs/%s", mac);
	if (is_dir(p, ""))
		text(r, 200, "hostname\ninstance-id\nlocal-hostname\nlocal-ipv4\nmac\nnetwork/");
	else if (strcmp(p, "instance-id") == 0)
		text(r, 200, "%s", id);
	else if (strcmp(p, "hostname") == 0 || strcmp(p, "local-hostname") == 0)
		text(r, 200, "%s", c->hostname);
	else if (strcmp(p, "local-ipv4") == 0)
		text(r, 200, "%s", ip);
	else if (strcmp(p, "mac") == 0)
		text(r, 200, "%s", mac);
	else if (is_dir(p, "network"))
		text(r, 200, "interfaces/");
	else if (is_dir(p, "network/interfaces"))
		text(r, 200, "macs/");
	else if (is_dir(p, "network/interfaces/macs"))
		text(r, 200, "%s/", mac);
	else if (strncmp(p, macdir, strlen(macdir)) == 0) {
		const char *leaf = p + strlen(macdir);

		if (is_dir(leaf, ""))
			text(r, 200, "device-number\nlocal-hostname\nlocal-ipv4s\nmac\nsubnet-ipv4-cidr-block");
		else if (strcmp(leaf, "/device-number") == 0)
			text(r, 200, "0");
		else if (strcmp(leaf, "/local-hostname") == 0)
			text(r, 200, "%s", c->hostname);
		else if (strcmp(leaf, "/local-ipv4s") == 0)
			text(r, 200, "%s", ip);
		else if (strcmp(leaf, "/mac") == 0)
			text(r, 200, "%s", mac);
		else if (strcmp(leaf, "/subnet-ipv4-cidr-block") == 0)
			text(r, 200, "%s", net);
		else
			return false;
	} else {
		return false;
	}
	return true;
}

static void
user_data(const struct toe_imds_conf *c, struct toe_imds_resp *r, bool nocloud)
{
	if (c->user_data == NULL) {
		if (nocloud)
			text(r, 200, "%s", "");         /* NoCloud wants one */
		else
			error(r, 404);
		return;
	}
	r->status = 200;
	r->ctype = "application/octet-stream";
	r->body = c->user_data;
	r->body_len = c->user_data_len;
}

void
toe_imds_answer(struct toe_imds *m, const struct toe_http_req *q,
		uint64_t now_ms, struct toe_imds_resp *r)
{
	const struct toe_imds_conf *c = m->conf;
	const char *p = q->target;
	bool get = strcmp(q->method, "GET") == 0 || strcmp(q->method, "HEAD") == 0;
	char id[72];

	memset(r, 0, sizeof(*r));
	r->ctype = "text/plain";
	if (strcmp(p, "/latest/api/token") == 0) {
		char tok[TOKEN_LEN + 1];

		if (strcmp(q->method, "PUT") != 0) {
			snprintf(r->extra, sizeof(r->extra), "Allow: PUT\r\n");
			error(r, 405);
		} else if (q->forwarded) {
			error(r, 403);
		} else if (!q->has_ttl || q->ttl < 1 || q->ttl > TOE_IMDS_TTL_MAX) {
			error(r, 400);
		} else {
			token_make(c, now_ms + (uint64_t)q->ttl * 1000, tok);
			text(r, 200, "%s", tok);
			snprintf(r->extra, sizeof(r->extra),
				 "X-aws-ec2-metadata-token-ttl-seconds: %ld\r\n", q->ttl);
			m->stats.tokens++;
		}
		return;
	}
	if (!get) {
		snprintf(r->extra, sizeof(r->extra), "Allow: GET, HEAD\r\n");
		error(r, 405);
		return;
	}
	if (strncmp(p, "/nocloud", 8) == 0) {
		p += 8;
		instance_id(c, id, sizeof(id));
		if (is_dir(p, ""))
			text(r, 200, "meta-data\nuser-data\nvendor-data");
		else if (strcmp(p, "/meta-data") == 0)
			text(r, 200, "instance-id: %s\nlocal-hostname: %s\n", id, c->hostname);
		else if (strcmp(p, "/user-data") == 0)
			user_data(c, r, true);
		else if (strcmp(p, "/vendor-data") == 0)
			text(r, 200, "%s", "");
		else
			error(r, 404);
		return;
	}
	if (is_dir(p, "") && strcmp(p, "/") == 0) {
		text(r, 200, "latest");
		return;
	}
	if (strncmp(p, "/latest", 7) != 0 || (p[7] != '\0' && p[7] != '/')) {
		error(r, 404);
		return;
	}
	/* IMDSv2: a token, when given, must hold; v2-only wants one. */
	if ((q->has_token && !token_ok(c, q->token, now_ms)) ||
	    (!q->has_token && c->v2_only)) {
		error(r, 401);
		return;
	}
	p += 7;
	instance_id(c, id, sizeof(id));
	if (is_dir(p, ""))
		text(r, 200, c->user_data != NULL ? "dynamic\nmeta-data\nuser-data" :
			     "dynamic\nmeta-data");
	else if (strcmp(p, "/user-data") == 0)
		user_data(c, r, false);
	else if (strncmp(p, "/meta-data", 10) == 0 &&
		 (p[10] == '\0' || p[10] == '/') &&
		 meta_data(c, p[10] == '\0' ? "" : p + 11, r))
		;
	else if (is_dir(p, "/dynamic"))
		text(r, 200, "instance-identity/");
	else if (is_dir(p, "/dynamic/instance-identity"))
		text(r, 200, "document");
	else if (strcmp(p, "/dynamic/instance-identity/document") == 0) {
		text(r, 200, "{\n  \"instanceId\" : \"%s\",\n  \"privateIp\" : \"%u.%u.%u.%u\",\n  \"version\" : \"2017-09-30\"\n}",
		     id, c->ip4[0], c->ip4[1], c->ip4[2], c->ip4[3]);
		r->ctype = "application/json";
	} else
		error(r, 404);
}

/* ------------------------------------------------------------------ */
/* Connections                                                         */

static void conn_cb(struct toe_sock *s, unsigned int ev, void *arg);

static void
conn_free(struct imds_conn *k, bool reset)
{
	struct toe_imds *m = k->m;

	toe_timer_cancel(&m->ep->wheel, &k->idle);
	if (reset)
		toe_abort(k->s);
	else
		toe_close(k->s);
	if (k->next != NULL)
		k->next->pprev = k->pprev;
	*k->pprev = k->next;
	m->n_conns--;
	free(k);
}

static void
idle_fire(struct toe_timer *t, uint64_t now_ms)
{
	struct imds_conn *k = container_of(t, struct imds_conn, idle);

	(void)now_ms;
	k->m->stats.idle_closed++;
	conn_free(k, false);
}

static void
count_status(struct toe_imds *m, int status)
{
	m->stats.requests++;
	switch (status) {
	case 200: m->stats.ok++; break;
	case 401: m->stats.unauthorized++; break;
	case 403: m->stats.forbidden++; break;
	case 404: m->stats.not_found++; break;
	case 405: m->stats.bad_method++; break;
	default: m->stats.bad_request++; break;
	}
}

/* Set up the answer to send (head, body). */
static void
answer(struct imds_conn *k, const struct toe_imds_resp *r, bool head_only)
{
	int n;

	count_status(k->m, r->status);
	n = snprintf(k->head, sizeof(k->head),
		     "HTTP/1.1 %d %s\r\nContent-Type: %s\r\nContent-Length: %u\r\n"
		     "Server: vtoe\r\n%s%s\r\n", r->status,
		     toe_http_reason(r->status), r->ctype, r->body_len, r->extra,
		     k->close_after ? "Connection: close\r\n" : "");
	k->head_len = n < 0 ? 0 : (uint32_t)n;
	k->head_off = 0;
	if (r->body == (const uint8_t *)r->text) {
		memcpy(k->text, r->text, r->body_len);
		k->body = (const uint8_t *)k->text;
	} else {
		k->body = r->body;
	}
	k->body_len = head_only ? 0 : r->body_len;
	k->body_off = 0;
	k->busy = true;
}

/* Send what the socket takes; true when the answer went whole. */
static bool
pump_out(struct imds_conn *k)
{
	long n;

	while (k->head_off < k->head_len) {
		n = toe_send(k->s, k->head + k->head_off, k->head_len - k->head_off);
		if (n <= 0)
			return false;
		k->head_off += (uint32_t)n;
	}
	while (k->body_off < k->body_len) {
		n = toe_send(k->s, k->body + k->body_off, k->body_len - k->body_off);
		if (n <= 0)
			return false;
		k->body_off += (uint32_t)n;
	}
	k->busy = false;
	return true;
}

/*
 * Read, answer in order, send; returns false once the connection is
 * gone (freed).
 */
static bool
serve(struct imds_conn *k)
{
	struct toe_imds *m = k->m;
	uint64_t now = m->ep->wheel.now_ms;

	for (;;) {
		struct toe_http_req req;
		struct toe_imds_resp r;
		enum toe_http_result res;
		int status;
		long n;

		if (k->busy && !pump_out(k))
			return true;                    /* WRITABLE goes on */
		if (k->close_after) {
			conn_free(k, false);
			return false;
		}
		if (k->in_len < sizeof(k->in) && !k->eof) {
			n = toe_recv(k->s, k->in + k->in_len, sizeof(k->in) - k->in_len);
			if (n > 0)
				k->in_len += (uint32_t)n;
			else if (n == 0)
				k->eof = true;
			else if (n != -EAGAIN) {
				conn_free(k, true);
				return false;
			}
		}
		if (k->in_len == 0) {
			if (k->eof) {
				conn_free(k, false);
				return false;
			}
			return true;
		}
		res = toe_http_parse(k->in, k->in_len, &req, &status);
		if (res == TOE_HTTP_MORE) {
			if (k->eof) {
				conn_free(k, false);    /* cut short */
				return false;
			}
			return true;
		}
		toe_timer_arm(&m->ep->wheel, &k->idle, now + TOE_IMDS_IDLE_MS);
		if (res == TOE_HTTP_BAD) {
			memset(&r, 0, sizeof(r));
			r.ctype = "text/plain";
			error(&r, status);
			k->close_after = true;
			k->in_len = 0;
			answer(k, &r, false);
			continue;
		}
		toe_imds_answer(m, &req, now, &r);
		k->close_after = !req.keep_alive;
		answer(k, &r, strcmp(req.method, "HEAD") == 0);
		memmove(k->in, k->in + req.size, k->in_len - req.size);
		k->in_len -= req.size;
	}
}

static void
conn_cb(struct toe_sock *s, unsigned int ev, void *arg)
{
	struct imds_conn *k = arg;

	(void)s;
	if (ev & TOE_SOCK_ERROR) {
		conn_free(k, false);
		return;
	}
	serve(k);
}

static void
listen_cb(struct toe_sock *l, unsigned int ev, void *arg)
{
	struct toe_imds *m = arg;
	struct toe_sock *s;

	(void)ev;
	while ((s = toe_accept(l)) != NULL) {
		struct imds_conn *k;

		if (m->n_conns >= TOE_IMDS_CONNS_MAX ||
		    (k = calloc(1, sizeof(*k))) == NULL) {
			m->stats.refused++;
			toe_abort(s);
			continue;
		}
		k->m = m;
		k->s = s;
		k->next = m->conns;
		if (k->next != NULL)
			k->next->pprev = &k->next;
		m->conns = k;
		k->pprev = &m->conns;
		toe_timer_init(&k->idle, idle_fire);
		toe_timer_arm(&m->ep->wheel, &k->idle,
			      m->ep->wheel.now_ms + TOE_IMDS_IDLE_MS);
		m->n_conns++;
		m->stats.connections++;
		toe_sock_set_cb(s, conn_cb, k);
		serve(k);
	}
}

int
toe_imds_start(struct toe_imds *m, struct toe_ep *ep, const uint8_t addr[4],
	       const struct toe_imds_conf *conf)
{
	struct toe_sock_opts o = {
		.sndbuf = 256 * 1024, .rcvbuf = 16 * 1024,
	};

	memset(m, 0, sizeof(*m));
	m->ep = ep;
	m->conf = conf;
	m->l = toe_listen(ep, addr, TOE_IMDS_PORT, 64, &o, listen_cb, m);
	return m->l != NULL ? 0 : -errno;
}

void
toe_imds_stop(struct toe_imds *m)
{
	/* The sockets and the listener are the endpoint's to free
	 * (toe_ep_fini, which sends nothing): only ours go here. */
	while (m->conns != NULL) {
		struct imds_conn *k = m->conns;

		toe_timer_cancel(&m->ep->wheel, &k->idle);
		m->conns = k->next;
		free(k);
	}
	m->n_conns = 0;
	m->l = NULL;
}
