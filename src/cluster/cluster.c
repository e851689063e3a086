/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The session with etcd (cluster.h), over libcurl's multi interface in
 * the main thread: CONNECTING (keep the lease if etcd still has it, else
 * grant one) -> SYNCING (read the whole prefix, reconcile this host's
 * keys with what etcd holds, start the watch) -> WATCHING.  Any failure
 * goes to BACKOFF and then to the next endpoint.  What the bytes mean is
 * cluster_codec.c; the other hosts' table is cluster_table.c.
 *
 * A dead member is noticed by the lease keepalive, sent every ttl/3 s
 * through the same member with a 2 s timeout (a watch may be silent for
 * ever, and etcd's progress notifications come every 10 minutes unless
 * configured otherwise); a killed one by its connections closing.
 */
#include "cluster.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/timerfd.h>
#include <time.h>
#include <unistd.h>

#include <curl/curl.h>

#include "cluster_codec.h"
#include "cluster_table.h"

#ifndef VTOE_VERSION
#define VTOE_VERSION "0"
#endif

#define CL_TIMEOUT_MS 2000              /* every request but the watch */
#define CL_RANGE_TIMEOUT_MS 10000       /* the whole directory may be big */
#define CL_CONNECT_TIMEOUT_MS 1000
#define CL_WATCH_CREATE_MS 2000         /* a watch not created by then: dead */
#define CL_REVOKE_TIMEOUT_MS 1000
#define CL_BACKOFF_MIN_MS 100
#define CL_BACKOFF_MAX_MS 5000
#define CL_WINDOW 8                     /* puts and deletes in flight */
#define CL_BODY_MAX (64u << 20)         /* a range or one watch message */
#define CL_PATH_MAX 32

enum cl_op {
	OP_GRANT,
	OP_PROBE,                       /* keepalive: is our lease there? */
	OP_KEEPALIVE,
	OP_RANGE,
	OP_WATCH,
	OP_PUT,
	OP_DELETE,
};

/* One of this host's keys: what it should hold and what etcd holds. */
struct cl_own {
	char *key;
	char *want;                     /* NULL: withdraw */
	char *have;                     /* as far as we know; NULL: absent */
	bool have_ours;                 /* under our lease */
	bool busy;                      /* a put or delete in flight */
	bool seen;                      /* cluster_publish's marker */
	int64_t rev;                    /* our last write, or the last event */
};

struct cl_req {
	struct cluster *c;
	struct cl_req *next;
	CURL *easy;
	enum cl_op op;
	char *body;                     /* the request (curl does not copy) */
	char *resp;
	size_t resp_len, resp_cap;
	struct cl_own *own;             /* OP_PUT, OP_DELETE */
	char *sent;                     /* OP_PUT: the value written */
	char fail[CLUSTER_ERROR_MAX];   /* set by the write callback */
};

struct cluster {
	struct cluster_conf conf;       /* prefix filled in */

	/* the event sources: curl's sockets and two timers, in one epoll */
	int epfd, curl_tfd, tick_tfd;
	CURLM *multi;
	struct curl_slist *hdrs;
	struct cl_req *reqs;            /* in flight */
	unsigned int n_busy;            /* puts and deletes among them */

	/* the session */
	enum cluster_state state;
	uint64_t state_since_ms, synced_ms;
	unsigned int ep;                /* endpoint in use */
	int64_t lease;
	int64_t revision;
	uint64_t keepalive_due;         /* monotonic ms */
	bool keepalive_busy;
	uint64_t backoff_until;         /* monotonic ms */
	uint32_t backoff_ms;
	bool ranged;                    /* SYNCING: the directory was read */
	bool watch_created;
	uint64_t watch_deadline;        /* monotonic ms, until created */
	char last_error[CLUSTER_ERROR_MAX];

	/* the other hosts, and this host's keys sorted by key */
	struct cluster_table *table;
	struct cl_own **own;
	unsigned int n_own, cap_own;
	char host_key[CLUSTER_KEY_MAX];
	bool dirty;                     /* own keys may need a request */
	unsigned int unpublishable;     /* ports of the last publish left out */

	struct cluster_counters cnt;
};

static const char *const state_names[] = {
#define CLUSTER_STATE_NAME(sym, name, help) name,
	CLUSTER_STATES(CLUSTER_STATE_NAME)
#undef CLUSTER_STATE_NAME
};

const char *
cluster_state_name(enum cluster_state s)
{
	return (unsigned int)s < CLUSTER_STATE_MAX ? state_names[s] : "?";
}

static uint64_t
clock_ms(clockid_t id)
{
	struct timespec ts;

	clock_gettime(id, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static uint64_t
mono_ms(void)
{
	return clock_ms(CLOCK_MONOTONIC);
}

static uint64_t
real_ms(void)
{
	return clock_ms(CLOCK_REALTIME);
}

static void
state_set(struct cluster *c, enum cluster_state s)
{
	if (c->state == CLUSTER_WATCHING && s != CLUSTER_WATCHING)
		c->synced_ms = real_ms();
	c->state = s;
	c->state_since_ms = real_ms();
}

/* --- this host's keys -------------------------------------------------- */

static int
own_search(const struct cluster *c, const char *key, bool *found)
{
	unsigned int lo = 0, hi = c->n_own;

	while (lo < hi) {
		unsigned int mid = (lo + hi) / 2;
		int d = strcmp(c->own[mid]->key, key);

		if (d == 0) {
			*found = true;
			return (int)mid;
		}
		if (d < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	*found = false;
	return (int)lo;
}

/* The item of key, made (wanting nothing) if needed; NULL: no memory. */
static struct cl_own *
own_get(struct cluster *c, const char *key)
{
	bool found;
	int i = own_search(c, key, &found);
	struct cl_own *o;

	if (found)
		return c->own[i];
	if (c->n_own == c->cap_own) {
		unsigned int cap = c->cap_own ? c->cap_own * 2 : 64;
		struct cl_own **v = realloc(c->own, cap * sizeof(*v));

		if (v == NULL)
			return NULL;
		c->own = v;
		c->cap_own = cap;
	}
	o = calloc(1, sizeof(*o));
	if (o == NULL || (o->key = strdup(key)) == NULL) {
		free(o);
		return NULL;
	}
	memmove(&c->own[i + 1], &c->own[i],
		(c->n_own - (unsigned int)i) * sizeof(*c->own));
	c->own[i] = o;
	c->n_own++;
	return o;
}

static void
own_free(struct cl_own *o)
{
	free(o->key);
	free(o->want);
	free(o->have);
	free(o);
}

/* Replace *dst by a copy of src (NULL ok); false: no memory, unchanged. */
static bool
str_set(char **dst, const char *src)
{
	char *s = NULL;

	if (src != NULL && (s = strdup(src)) == NULL)
		return false;
	free(*dst);
	*dst = s;
	return true;
}

static bool
str_eq(const char *a, const char *b)
{
	return a != NULL && b != NULL && strcmp(a, b) == 0;
}

/* Forget keys nobody wants that etcd does not hold. */
static void
own_compact(struct cluster *c)
{
	unsigned int n = 0;

	for (unsigned int i = 0; i < c->n_own; i++) {
		struct cl_own *o = c->own[i];

		if (o->want == NULL && o->have == NULL && !o->busy)
			own_free(o);
		else
			c->own[n++] = o;
	}
	c->n_own = n;
}

/* What etcd holds of a key of ours, seen in a range or a watch event. */
static void
own_seen(struct cluster *c, const struct cluster_kv *kv)
{
	struct cl_own *o = own_get(c, kv->key);

	if (o == NULL)
		return;                 /* the next resync tells again */
	/* our own write's echo, or older than it */
	if (kv->mod_revision != 0 && kv->mod_revision <= o->rev)
		return;
	o->rev = kv->mod_revision;
	if (kv->type == CLUSTER_KV_DELETE) {
		str_set(&o->have, NULL);
	} else if (str_set(&o->have, kv->value)) {
		o->have_ours = kv->lease == c->lease;
	} else {
		/* no memory: say it is there but not right, so it is put */
		o->have_ours = false;
	}
	c->dirty = true;
}

static bool
own_key(const struct cluster *c, const struct cluster_kv *kv)
{
	struct cluster_key k;

	return cluster_key_parse(c->conf.prefix, kv->key, kv->key_len,
				 &k) == 0 && strcmp(k.host, c->conf.host) == 0;
}

/* --- requests ---------------------------------------------------------- */

static size_t
req_write(char *data, size_t size, size_t nmemb, void *ctx);

static void
req_free(struct cl_req *r)
{
	if (r == NULL)
		return;
	if (r->easy != NULL)
		curl_easy_cleanup(r->easy);
	free(r->body);
	free(r->resp);
	free(r->sent);
	free(r);
}

/* Take r out of the list and the multi handle. */
static void
req_detach(struct cluster *c, struct cl_req *r)
{
	struct cl_req **p = &c->reqs;

	while (*p != NULL && *p != r)
		p = &(*p)->next;
	if (*p == r)
		*p = r->next;
	curl_multi_remove_handle(c->multi, r->easy);
	if (r->op == OP_PUT || r->op == OP_DELETE) {
		r->own->busy = false;
		c->n_busy--;
	}
	if (r->op == OP_KEEPALIVE)
		c->keepalive_busy = false;
}

static const char *const op_paths[] = {
	[OP_GRANT] = "/v3/lease/grant",
	[OP_PROBE] = "/v3/lease/keepalive",
	[OP_KEEPALIVE] = "/v3/lease/keepalive",
	[OP_RANGE] = "/v3/kv/range",
	[OP_WATCH] = "/v3/watch",
	[OP_PUT] = "/v3/kv/put",
	[OP_DELETE] = "/v3/kv/deleterange",
};

static void
easy_common(CURL *e, const char *url, const char *body,
	    const struct curl_slist *hdrs, long timeout_ms)
{
	curl_easy_setopt(e, CURLOPT_URL, url);
	curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "http");
	curl_easy_setopt(e, CURLOPT_NOPROXY, "*");
	curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(e, CURLOPT_HTTPHEADER, hdrs);
	curl_easy_setopt(e, CURLOPT_POSTFIELDS, body);
	curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE, (long)strlen(body));
	curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS,
			 (long)CL_CONNECT_TIMEOUT_MS);
	if (timeout_ms > 0)
		curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, timeout_ms);
}

static uint64_t
keepalive_interval_ms(const struct cluster *c)
{
	return (uint64_t)c->conf.ttl_s * 1000 / 3;
}

static void session_fail(struct cluster *c, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* Start a request with body (taken over); false: the session failed. */
static bool
req_start(struct cluster *c, enum cl_op op, char *body, struct cl_own *own,
	  char *sent)
{
	struct cl_req *r = calloc(1, sizeof(*r));
	char url[CLUSTER_URL_MAX + CL_PATH_MAX];
	long timeout = op == OP_WATCH ? 0 :
		       op == OP_RANGE ? CL_RANGE_TIMEOUT_MS : CL_TIMEOUT_MS;

	/* a keepalive is over before the next is due: a hung member is
	 * left while the lease still runs */
	if ((op == OP_KEEPALIVE || op == OP_PROBE) &&
	    (uint64_t)timeout > keepalive_interval_ms(c))
		timeout = (long)keepalive_interval_ms(c);

	if (r == NULL || body == NULL || (r->easy = curl_easy_init()) == NULL) {
		free(body);
		free(sent);
		req_free(r);
		session_fail(c, "out of memory");
		return false;
	}
	r->c = c;
	r->op = op;
	r->body = body;
	r->own = own;
	r->sent = sent;
	snprintf(url, sizeof(url), "%s%s", c->conf.endpoints[c->ep],
		 op_paths[op]);
	easy_common(r->easy, url, body, c->hdrs, timeout);
	curl_easy_setopt(r->easy, CURLOPT_WRITEFUNCTION, req_write);
	curl_easy_setopt(r->easy, CURLOPT_WRITEDATA, r);
	curl_easy_setopt(r->easy, CURLOPT_PRIVATE, r);
	if (op == OP_WATCH) {
		/* a peer gone without a word (power, network) */
		curl_easy_setopt(r->easy, CURLOPT_TCP_KEEPALIVE, 1L);
		curl_easy_setopt(r->easy, CURLOPT_TCP_KEEPIDLE, 2L);
		curl_easy_setopt(r->easy, CURLOPT_TCP_KEEPINTVL, 1L);
	}
	if (curl_multi_add_handle(c->multi, r->easy) != CURLM_OK) {
		req_free(r);
		session_fail(c, "curl_multi_add_handle failed");
		return false;
	}
	r->next = c->reqs;
	c->reqs = r;
	if (own != NULL) {
		own->busy = true;
		c->n_busy++;
	}
	if (op == OP_KEEPALIVE)
		c->keepalive_busy = true;
	c->cnt.requests++;
	return true;
}

/* --- the session ------------------------------------------------------- */

static void
reqs_cancel(struct cluster *c)
{
	while (c->reqs != NULL) {
		struct cl_req *r = c->reqs;

		req_detach(c, r);
		req_free(r);
	}
}

static void
session_start(struct cluster *c)
{
	state_set(c, CLUSTER_CONNECTING);
	c->ranged = false;
	c->watch_created = false;
	if (c->lease != 0)
		req_start(c, OP_PROBE, cluster_req_lease(c->lease), NULL, NULL);
	else
		req_start(c, OP_GRANT, cluster_req_grant(c->conf.ttl_s), NULL,
			  NULL);
}

static void
session_fail(struct cluster *c, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(c->last_error, sizeof(c->last_error), fmt, ap);
	va_end(ap);
	reqs_cancel(c);
	state_set(c, CLUSTER_BACKOFF);
	c->backoff_until = mono_ms() + c->backoff_ms;
	c->backoff_ms = c->backoff_ms * 2 > CL_BACKOFF_MAX_MS ?
			CL_BACKOFF_MAX_MS : c->backoff_ms * 2;
	c->ep = (c->ep + 1) % c->conf.n_endpoints;
}

/* The lease is ours: read the directory. */
static void
sync_start(struct cluster *c)
{
	state_set(c, CLUSTER_SYNCING);
	c->keepalive_due = mono_ms() + keepalive_interval_ms(c);
	req_start(c, OP_RANGE, cluster_req_range(c->conf.prefix), NULL, NULL);
}

static bool
own_settled(const struct cluster *c)
{
	for (unsigned int i = 0; i < c->n_own; i++) {
		const struct cl_own *o = c->own[i];

		if (o->busy || (o->want == NULL && o->have != NULL) ||
		    (o->want != NULL &&
		     !(o->have_ours && str_eq(o->have, o->want))))
			return false;
	}
	return true;
}

/* In sync once the watch runs and our keys are what we publish. */
static void
sync_check(struct cluster *c)
{
	if (c->state == CLUSTER_SYNCING && c->ranged && c->watch_created &&
	    own_settled(c)) {
		state_set(c, CLUSTER_WATCHING);
		c->backoff_ms = CL_BACKOFF_MIN_MS;
		c->synced_ms = real_ms();
	}
}

/* Send what our keys need, a window at a time. */
static void
reconcile(struct cluster *c)
{
	if (!c->dirty || !(c->state == CLUSTER_WATCHING ||
			   (c->state == CLUSTER_SYNCING && c->ranged)))
		return;
	c->dirty = false;
	own_compact(c);
	for (unsigned int i = 0; i < c->n_own; i++) {
		struct cl_own *o = c->own[i];
		char *sent;

		if (o->busy)
			continue;
		if (c->n_busy >= CL_WINDOW) {
			c->dirty = true;        /* the rest when one returns */
			return;
		}
		if (o->want != NULL &&
		    !(o->have_ours && str_eq(o->have, o->want))) {
			sent = strdup(o->want);
			if (!req_start(c, OP_PUT, sent == NULL ? NULL :
				       cluster_req_put(o->key, o->want,
						       c->lease), o, sent))
				return;
		} else if (o->want == NULL && o->have != NULL) {
			if (!req_start(c, OP_DELETE, cluster_req_delete(o->key),
				       o, NULL))
				return;
		}
	}
}

/* A range answer: the other hosts go to the table, ours to own. */
static void
range_done(struct cluster *c, const char *body, size_t len)
{
	struct cluster_kvs kvs;
	int64_t rev;
	int rc = cluster_resp_range(body, len, &rev, &kvs);

	if (rc < 0) {
		c->cnt.errors++;
		session_fail(c, "range: unparsable answer");
		return;
	}
	if (cluster_table_resync(c->table, kvs.v, kvs.n, real_ms()) < 0) {
		cluster_kvs_free(&kvs);
		session_fail(c, "range: out of memory");
		return;
	}
	c->cnt.resyncs++;
	c->revision = rev;
	for (unsigned int i = 0; i < c->n_own; i++) {
		str_set(&c->own[i]->have, NULL);
		c->own[i]->rev = 0;
	}
	for (unsigned int i = 0; i < kvs.n; i++)
		if (own_key(c, &kvs.v[i]))
			own_seen(c, &kvs.v[i]);
	cluster_kvs_free(&kvs);
	c->ranged = true;
	c->dirty = true;
	c->watch_deadline = mono_ms() + CL_WATCH_CREATE_MS;
	req_start(c, OP_WATCH, cluster_req_watch(c->conf.prefix, rev + 1),
		  NULL, NULL);
}

/* One line of the watch stream; false: the watch is over. */
static bool
watch_line(struct cl_req *r, const char *line, size_t len)
{
	struct cluster *c = r->c;
	struct cluster_watch_msg m;
	uint64_t now = real_ms();

	if (cluster_resp_watch(line, len, &m) < 0) {
		snprintf(r->fail, sizeof(r->fail), "watch: unparsable message");
		return false;
	}
	if (m.revision > c->revision)
		c->revision = m.revision;
	switch (m.kind) {
	case CLUSTER_WATCH_CREATED:
		c->watch_created = true;
		break;
	case CLUSTER_WATCH_EVENTS:
		for (unsigned int i = 0; i < m.events.n; i++) {
			const struct cluster_kv *kv = &m.events.v[i];

			c->cnt.watch_events++;
			if (own_key(c, kv))
				own_seen(c, kv);
			else if (cluster_table_apply(c->table, kv, now) < 0)
				snprintf(r->fail, sizeof(r->fail),
					 "watch: out of memory");
		}
		break;
	case CLUSTER_WATCH_PROGRESS:
		break;
	case CLUSTER_WATCH_CANCELED:
		snprintf(r->fail, sizeof(r->fail), "watch canceled: %.140s",
			 m.reason);
		break;
	case CLUSTER_WATCH_COMPACTED:
		snprintf(r->fail, sizeof(r->fail),
			 "watch compacted at revision %lld",
			 (long long)m.compact_revision);
		break;
	case CLUSTER_WATCH_ERROR:
		snprintf(r->fail, sizeof(r->fail), "watch: %.140s", m.reason);
		break;
	}
	cluster_watch_msg_free(&m);
	return r->fail[0] == '\0';
}

static bool
buf_append(struct cl_req *r, const char *data, size_t n)
{
	if (r->resp_len + n + 1 > r->resp_cap) {
		size_t cap = r->resp_cap ? r->resp_cap : 4096;
		char *p;

		while (cap < r->resp_len + n + 1)
			cap *= 2;
		if (cap > CL_BODY_MAX)
			return false;
		p = realloc(r->resp, cap);
		if (p == NULL)
			return false;
		r->resp = p;
		r->resp_cap = cap;
	}
	memcpy(r->resp + r->resp_len, data, n);
	r->resp_len += n;
	r->resp[r->resp_len] = '\0';
	return true;
}

/* curl hands what it received: kept, and the watch's whole lines read. */
static size_t
req_write(char *data, size_t size, size_t nmemb, void *ctx)
{
	struct cl_req *r = ctx;
	size_t n = size * nmemb, start = 0;
	char *nl;

	if (!buf_append(r, data, n)) {
		snprintf(r->fail, sizeof(r->fail), "answer too big");
		return CURL_WRITEFUNC_ERROR;
	}
	if (r->op != OP_WATCH)
		return n;
	while ((nl = memchr(r->resp + start, '\n', r->resp_len - start))) {
		size_t len = (size_t)(nl - (r->resp + start));

		if (len > 0 && !watch_line(r, r->resp + start, len))
			return CURL_WRITEFUNC_ERROR;
		start += len + 1;
	}
	memmove(r->resp, r->resp + start, r->resp_len - start);
	r->resp_len -= start;
	return n;
}

/* A request's end, out of curl's callbacks (r already detached). */
static void
req_done(struct cluster *c, struct cl_req *r, CURLcode res)
{
	const char *path = op_paths[r->op] + 4;         /* after "/v3/" */
	char msg[CLUSTER_REASON_MAX];
	long status = 0;
	int64_t v, ttl;
	int code = 0, rc;

	curl_easy_getinfo(r->easy, CURLINFO_RESPONSE_CODE, &status);
	if (r->op == OP_WATCH) {
		/* a watch only ends badly; its last words say why */
		if (r->fail[0] == '\0' && r->resp_len > 0)
			watch_line(r, r->resp, r->resp_len);
		c->cnt.errors++;
		if (r->fail[0] != '\0')
			session_fail(c, "%s", r->fail);
		else
			session_fail(c, "watch: %s", res != CURLE_OK ?
				     curl_easy_strerror(res) : "ended");
		return;
	}
	if (res != CURLE_OK || status != 200) {
		c->cnt.errors++;
		if (res != CURLE_OK)
			snprintf(msg, sizeof(msg), "%s", r->fail[0] ?
				 r->fail : curl_easy_strerror(res));
		else if (cluster_resp_error(r->resp ? r->resp : "", r->resp_len,
					    msg, sizeof(msg), &code) < 0)
			snprintf(msg, sizeof(msg), "HTTP %ld", status);
		/* a put under a lease etcd no longer has */
		if (res == CURLE_OK && r->op == OP_PUT && code == 5 &&
		    strstr(msg, "lease") != NULL) {
			c->cnt.lease_lost++;
			c->lease = 0;
		}
		session_fail(c, "%s: %s", path, msg);
		return;
	}
	switch (r->op) {
	case OP_GRANT:
		if (cluster_resp_grant(r->resp, r->resp_len, &v, &ttl) < 0)
			break;
		c->cnt.lease_grants++;
		c->lease = v;
		sync_start(c);
		return;
	case OP_PROBE:
	case OP_KEEPALIVE:
		rc = cluster_resp_keepalive(r->resp, r->resp_len, &ttl);
		if (rc == -ENOENT) {
			c->cnt.lease_lost++;
			c->lease = 0;
			if (r->op == OP_PROBE) {
				req_start(c, OP_GRANT,
					  cluster_req_grant(c->conf.ttl_s),
					  NULL, NULL);
				return;
			}
			session_fail(c, "lease expired");
			return;
		}
		if (rc == -EIO) {
			c->cnt.errors++;
			session_fail(c, "%s: etcd error", path);
			return;
		}
		if (rc < 0)
			break;
		c->cnt.keepalives++;
		if (r->op == OP_PROBE)
			sync_start(c);
		return;
	case OP_RANGE:
		range_done(c, r->resp, r->resp_len);
		return;
	case OP_PUT:
	case OP_DELETE:
		if (cluster_resp_header(r->resp, r->resp_len, &v) < 0)
			break;
		if (v > c->revision)
			c->revision = v;
		if (r->op == OP_PUT)
			c->cnt.puts++;
		else
			c->cnt.deletes++;
		/* unless an event newer than our write came first */
		if (v >= r->own->rev) {
			r->own->rev = v;
			free(r->own->have);
			r->own->have = r->sent;         /* NULL for a delete */
			r->own->have_ours = true;
			r->sent = NULL;
		}
		c->dirty = true;
		return;
	case OP_WATCH:
		break;
	}
	c->cnt.errors++;
	session_fail(c, "%s: unparsable answer", path);
}

static void
reap(struct cluster *c)
{
	CURLMsg *m;
	int left;

	while ((m = curl_multi_info_read(c->multi, &left)) != NULL) {
		struct cl_req *r;
		CURLcode res;
		char *p = NULL;

		if (m->msg != CURLMSG_DONE)
			continue;
		curl_easy_getinfo(m->easy_handle, CURLINFO_PRIVATE, &p);
		if (p == NULL)
			continue;
		r = (struct cl_req *)(void *)p;
		/* m is invalid once its handle leaves the multi */
		res = m->data.result;
		req_detach(c, r);
		req_done(c, r, res);
		req_free(r);
	}
}

/* --- the event sources ------------------------------------------------- */

static int
on_socket(CURL *easy, curl_socket_t s, int what, void *ctx, void *sockp)
{
	struct cluster *c = ctx;
	struct epoll_event ev = { .data.fd = s };

	(void)easy;
	(void)sockp;
	if (what == CURL_POLL_REMOVE) {
		epoll_ctl(c->epfd, EPOLL_CTL_DEL, s, NULL);
		return 0;
	}
	if (what & CURL_POLL_IN)
		ev.events |= EPOLLIN;
	if (what & CURL_POLL_OUT)
		ev.events |= EPOLLOUT;
	if (epoll_ctl(c->epfd, EPOLL_CTL_MOD, s, &ev) < 0 && errno == ENOENT)
		epoll_ctl(c->epfd, EPOLL_CTL_ADD, s, &ev);
	return 0;
}

static void
timer_arm(int fd, uint64_t ms, bool absolute)
{
	struct itimerspec its = { 0 };

	its.it_value.tv_sec = (time_t)(ms / 1000);
	its.it_value.tv_nsec = (long)(ms % 1000) * 1000000;
	if (!absolute && ms == 0)
		its.it_value.tv_nsec = 1;       /* now: 0 would disarm */
	timerfd_settime(fd, absolute ? TFD_TIMER_ABSTIME : 0, &its, NULL);
}

static int
on_timer(CURLM *multi, long timeout_ms, void *ctx)
{
	struct cluster *c = ctx;
	struct itimerspec off = { 0 };

	(void)multi;
	if (timeout_ms < 0)
		timerfd_settime(c->curl_tfd, 0, &off, NULL);
	else
		timer_arm(c->curl_tfd, (uint64_t)timeout_ms, false);
	return 0;
}

static void
timer_drain(int fd)
{
	uint64_t n;

	if (read(fd, &n, sizeof(n)) < 0) {
		/* EAGAIN: not expired after all */
	}
}

/* Our own deadlines: the next one arms the tick timer. */
static void
timers_run(struct cluster *c)
{
	uint64_t now = mono_ms(), next = 0;

	switch (c->state) {
	case CLUSTER_BACKOFF:
		if (now >= c->backoff_until) {
			c->cnt.reconnects++;
			session_start(c);
		} else {
			next = c->backoff_until;
		}
		break;
	case CLUSTER_SYNCING:
	case CLUSTER_WATCHING:
		if (c->ranged && !c->watch_created &&
		    now >= c->watch_deadline) {
			c->cnt.errors++;
			session_fail(c, "watch: not created within %d ms",
				     CL_WATCH_CREATE_MS);
			next = c->backoff_until;
			break;
		}
		if (now >= c->keepalive_due && !c->keepalive_busy) {
			c->keepalive_due = now + keepalive_interval_ms(c);
			req_start(c, OP_KEEPALIVE, cluster_req_lease(c->lease),
				  NULL, NULL);
		}
		if (c->state == CLUSTER_BACKOFF) {
			next = c->backoff_until;
			break;
		}
		next = c->keepalive_due;
		if (c->ranged && !c->watch_created && c->watch_deadline < next)
			next = c->watch_deadline;
		break;
	case CLUSTER_CONNECTING:
	case CLUSTER_STATE_MAX:
		break;
	}
	if (next != 0)
		/* a deadline passed (a keepalive still out): not a spin */
		timer_arm(c->tick_tfd, next > now ? next : now + 10, true);
}

void
cluster_dispatch(struct cluster *c)
{
	struct epoll_event ev[32];
	int running, n, rounds = 0;

	do {
		n = epoll_wait(c->epfd, ev, 32, 0);
		for (int i = 0; i < n; i++) {
			int fd = ev[i].data.fd, flags = 0;

			if (fd == c->tick_tfd) {
				timer_drain(fd);
				continue;
			}
			if (fd == c->curl_tfd) {
				timer_drain(fd);
				curl_multi_socket_action(c->multi,
							 CURL_SOCKET_TIMEOUT,
							 0, &running);
				continue;
			}
			if (ev[i].events & EPOLLIN)
				flags |= CURL_CSELECT_IN;
			if (ev[i].events & EPOLLOUT)
				flags |= CURL_CSELECT_OUT;
			if (ev[i].events & (EPOLLERR | EPOLLHUP))
				flags |= CURL_CSELECT_ERR;
			curl_multi_socket_action(c->multi, fd, flags, &running);
		}
		reap(c);
	} while (n == 32 && ++rounds < 8);
	timers_run(c);
	reconcile(c);
	if (c->state == CLUSTER_SYNCING)
		sync_check(c);
	if (c->state == CLUSTER_WATCHING)
		c->synced_ms = real_ms();
}

/* --- the API ----------------------------------------------------------- */

static int
conf_check(const struct cluster_conf *conf, char *err, size_t size)
{
	if (conf->n_endpoints == 0 ||
	    conf->n_endpoints > CLUSTER_ENDPOINTS_MAX) {
		snprintf(err, size, "cluster: 1 to %d endpoints, not %u",
			 CLUSTER_ENDPOINTS_MAX, conf->n_endpoints);
		return -EINVAL;
	}
	for (unsigned int i = 0; i < conf->n_endpoints; i++) {
		const char *e = conf->endpoints[i];
		size_t len = strnlen(e, CLUSTER_URL_MAX);

		if (len == CLUSTER_URL_MAX || strncmp(e, "http://", 7) != 0 ||
		    len == 7 || e[7] == '/') {
			snprintf(err, size, "cluster: endpoint %u \"%.*s\": "
				 "want http://HOST:PORT", i + 1,
				 (int)(len < 64 ? len : 64), e);
			return -EINVAL;
		}
		for (size_t k = 0; k < len; k++) {
			if (e[k] <= ' ' || e[k] > '~') {
				snprintf(err, size, "cluster: endpoint %u: "
					 "space or control character", i + 1);
				return -EINVAL;
			}
		}
	}
	if (!cluster_host_valid(conf->host, strnlen(conf->host,
						    CLUSTER_HOST_MAX))) {
		snprintf(err, size, "cluster: host name \"%.*s\": 1 to %d "
			 "of [A-Za-z0-9._-]", 64, conf->host,
			 CLUSTER_HOST_MAX - 1);
		return -EINVAL;
	}
	if (!cluster_vtep_valid(conf->vtep)) {
		snprintf(err, size, "cluster: vtep %u.%u.%u.%u is not a "
			 "unicast address", conf->vtep[0], conf->vtep[1],
			 conf->vtep[2], conf->vtep[3]);
		return -EINVAL;
	}
	if (conf->ttl_s < 2 || conf->ttl_s > 86400) {
		snprintf(err, size, "cluster: ttl %u s: 2 to 86400",
			 conf->ttl_s);
		return -EINVAL;
	}
	if (conf->prefix[0] != '\0') {
		size_t len = strnlen(conf->prefix, CLUSTER_URL_MAX);

		if (len == CLUSTER_URL_MAX || conf->prefix[len - 1] != '/') {
			snprintf(err, size, "cluster: prefix must end "
				 "with '/'");
			return -EINVAL;
		}
		for (size_t k = 0; k < len; k++) {
			if (conf->prefix[k] < ' ' || conf->prefix[k] > '~') {
				snprintf(err, size, "cluster: prefix: control "
					 "character");
				return -EINVAL;
			}
		}
	}
	return 0;
}

static int
fds_open(struct cluster *c)
{
	struct epoll_event ev = { .events = EPOLLIN };

	c->epfd = epoll_create1(EPOLL_CLOEXEC);
	c->curl_tfd = timerfd_create(CLOCK_MONOTONIC,
				     TFD_NONBLOCK | TFD_CLOEXEC);
	c->tick_tfd = timerfd_create(CLOCK_MONOTONIC,
				     TFD_NONBLOCK | TFD_CLOEXEC);
	if (c->epfd < 0 || c->curl_tfd < 0 || c->tick_tfd < 0)
		return -errno;
	ev.data.fd = c->curl_tfd;
	if (epoll_ctl(c->epfd, EPOLL_CTL_ADD, c->curl_tfd, &ev) < 0)
		return -errno;
	ev.data.fd = c->tick_tfd;
	if (epoll_ctl(c->epfd, EPOLL_CTL_ADD, c->tick_tfd, &ev) < 0)
		return -errno;
	return 0;
}

static void
cluster_free(struct cluster *c)
{
	reqs_cancel(c);
	if (c->multi != NULL)
		curl_multi_cleanup(c->multi);
	curl_slist_free_all(c->hdrs);
	for (unsigned int i = 0; i < c->n_own; i++)
		own_free(c->own[i]);
	free(c->own);
	cluster_table_destroy(c->table);
	if (c->epfd >= 0)
		close(c->epfd);
	if (c->curl_tfd >= 0)
		close(c->curl_tfd);
	if (c->tick_tfd >= 0)
		close(c->tick_tfd);
	free(c);
	curl_global_cleanup();
}

struct cluster *
cluster_create(const struct cluster_conf *conf, char *err, size_t size)
{
	struct cluster *c;
	struct cl_own *o;
	char *value;
	int rc;

	if (conf_check(conf, err, size) < 0) {
		errno = EINVAL;
		return NULL;
	}
	/* reference counted, and thread-safe since curl 7.84 */
	if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
		snprintf(err, size, "cluster: curl_global_init failed");
		errno = ENOMEM;
		return NULL;
	}
	c = calloc(1, sizeof(*c));
	if (c == NULL) {
		curl_global_cleanup();
		snprintf(err, size, "cluster: out of memory");
		return NULL;
	}
	c->epfd = c->curl_tfd = c->tick_tfd = -1;
	c->conf = *conf;
	if (c->conf.prefix[0] == '\0')
		snprintf(c->conf.prefix, sizeof(c->conf.prefix), "%s",
			 CLUSTER_PREFIX_DEFAULT);
	for (unsigned int i = 0; i < conf->n_endpoints; i++) {
		size_t len = strlen(c->conf.endpoints[i]);

		while (len > 7 && c->conf.endpoints[i][len - 1] == '/')
			c->conf.endpoints[i][--len] = '\0';
	}
	c->backoff_ms = CL_BACKOFF_MIN_MS;
	rc = fds_open(c);
	if (rc < 0)
		goto fail;
	rc = -ENOMEM;
	c->table = cluster_table_create(c->conf.prefix, c->conf.host, 0, 0);
	c->multi = curl_multi_init();
	c->hdrs = curl_slist_append(NULL, "Content-Type: application/json");
	if (c->hdrs != NULL) {
		/* no 100-continue round trip on big puts */
		struct curl_slist *h = curl_slist_append(c->hdrs, "Expect:");

		if (h == NULL) {
			curl_slist_free_all(c->hdrs);
			c->hdrs = NULL;
		}
	}
	if (c->table == NULL || c->multi == NULL || c->hdrs == NULL)
		goto fail;
	curl_multi_setopt(c->multi, CURLMOPT_SOCKETFUNCTION, on_socket);
	curl_multi_setopt(c->multi, CURLMOPT_SOCKETDATA, c);
	curl_multi_setopt(c->multi, CURLMOPT_TIMERFUNCTION, on_timer);
	curl_multi_setopt(c->multi, CURLMOPT_TIMERDATA, c);
	if (cluster_key_host(c->host_key, sizeof(c->host_key), c->conf.prefix,
			     c->conf.host) < 0) {
		rc = -EINVAL;
		snprintf(err, size, "cluster: prefix too long");
		goto fail;
	}
	value = cluster_value_host(c->conf.host, c->conf.vtep, VTOE_VERSION);
	o = value != NULL ? own_get(c, c->host_key) : NULL;
	if (o == NULL) {
		free(value);
		goto fail;
	}
	o->want = value;
	c->dirty = true;
	session_start(c);
	return c;
fail:
	if (rc == -ENOMEM)
		snprintf(err, size, "cluster: out of memory");
	else if (rc != -EINVAL)
		snprintf(err, size, "cluster: %s", strerror(-rc));
	cluster_free(c);
	errno = -rc;
	return NULL;
}

static size_t
discard(char *data, size_t size, size_t nmemb, void *ctx)
{
	(void)data;
	(void)ctx;
	return size * nmemb;
}

void
cluster_destroy(struct cluster *c)
{
	char url[CLUSTER_URL_MAX + CL_PATH_MAX];
	char *body;
	CURL *e;

	if (c == NULL)
		return;
	reqs_cancel(c);
	/* the one blocking request: the others drop our entries now rather
	 * than after the TTL */
	body = c->lease != 0 ? cluster_req_lease(c->lease) : NULL;
	e = body != NULL ? curl_easy_init() : NULL;
	if (e != NULL) {
		snprintf(url, sizeof(url), "%s/v3/lease/revoke",
			 c->conf.endpoints[c->ep]);
		easy_common(e, url, body, c->hdrs, CL_REVOKE_TIMEOUT_MS);
		curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS,
				 (long)CL_REVOKE_TIMEOUT_MS);
		curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, discard);
		curl_easy_perform(e);
		curl_easy_cleanup(e);
	}
	free(body);
	cluster_free(c);
}

int
cluster_fd(const struct cluster *c)
{
	return c->epfd;
}

void
cluster_publish(struct cluster *c, const struct cluster_port *ports,
		unsigned int n)
{
	char key[CLUSTER_KEY_MAX];

	c->unpublishable = 0;
	for (unsigned int i = 0; i < c->n_own; i++)
		c->own[i]->seen = false;
	for (unsigned int i = 0; i < n; i++) {
		const struct cluster_port *p = &ports[i];
		struct cl_own *o;
		char *value;

		if (p->vni == 0)
			continue;
		if (cluster_key_port(key, sizeof(key), c->conf.prefix, p->vni,
				     p->mac, c->conf.host) < 0) {
			c->unpublishable++;
			continue;
		}
		value = cluster_value_port(c->conf.host, c->conf.vtep, p);
		o = value != NULL ? own_get(c, key) : NULL;
		if (o == NULL || o->seen) {
			/* unpublishable (a name, address or MAC the directory
			 * cannot hold), or a duplicate */
			c->unpublishable += o == NULL;
			free(value);
			continue;
		}
		o->seen = true;
		if (str_eq(o->want, value)) {
			free(value);
			continue;
		}
		free(o->want);
		o->want = value;
	}
	for (unsigned int i = 0; i < c->n_own; i++) {
		struct cl_own *o = c->own[i];

		if (!o->seen && strcmp(o->key, c->host_key) != 0)
			str_set(&o->want, NULL);
	}
	c->dirty = true;
	reconcile(c);
}

uint64_t
cluster_generation(const struct cluster *c)
{
	return cluster_table_generation(c->table);
}

unsigned int
cluster_remotes(const struct cluster *c, struct cluster_remote *out,
		unsigned int max)
{
	return cluster_table_remotes(c->table, out, max);
}

unsigned int
cluster_hosts(const struct cluster *c, struct cluster_host *out,
	      unsigned int max)
{
	return cluster_table_hosts(c->table, out, max);
}

void
cluster_info(const struct cluster *c, struct cluster_info *info)
{
	struct cluster_table_counters tc;

	memset(info, 0, sizeof(*info));
	info->state = c->state;
	info->stale = c->state != CLUSTER_WATCHING;
	info->state_since_ms = c->state_since_ms;
	info->synced_ms = c->synced_ms;
	snprintf(info->endpoint, sizeof(info->endpoint), "%s",
		 c->conf.endpoints[c->ep]);
	info->lease_id = c->lease;
	info->ttl_s = c->conf.ttl_s;
	info->revision = c->revision;
	for (unsigned int i = 0; i < c->n_own; i++)
		if (c->own[i]->have != NULL)
			info->n_published++;
	info->n_unpublishable = c->unpublishable;
	info->n_hosts = cluster_table_hosts(c->table, NULL, 0);
	info->n_remotes = cluster_table_remotes(c->table, NULL, 0);
	snprintf(info->last_error, sizeof(info->last_error), "%s",
		 c->last_error);
	info->c = c->cnt;
	cluster_table_counters(c->table, &tc);
	info->c.rejected = tc.rejected;
	info->c.conflicts = tc.conflicts;
}
