/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The other hosts' directory entries (rules in cluster_table.h).  A set is
 * a hash of port entries by (VNI, MAC), chained, so the claims of one MAC
 * are one walk apart, and a hash of hosts by name.  A resync builds a new
 * set beside the old one and swaps: the old stays whole if memory runs
 * out, and comparing the two tells whether anything really changed.
 */
#include "cluster_table.h"

#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "cluster_codec.h"

#define NIL UINT32_MAX
#define HOST_NIL UINT16_MAX

struct ct_entry {
	struct cluster_remote r;
	uint32_t next;                  /* same bucket, or the free list */
	uint16_t host;                  /* its slot in hosts[] */
	bool used;
};

struct ct_host {
	char name[CLUSTER_HOST_MAX];
	uint8_t vtep[4];                /* the hosts/ key's, else an entry's */
	bool used;
	bool has_key;                   /* its hosts/ key is there */
	int64_t key_revision;
	unsigned int n_ports;
	uint64_t learned_ms;
	uint16_t next;                  /* same name bucket */
};

struct ct_set {
	struct ct_entry *entries;
	uint32_t cap, n_used, free_head;
	uint32_t *buckets;              /* by (VNI, MAC) */
	uint32_t n_buckets;             /* a power of two */
	struct ct_host *hosts;          /* max_hosts slots */
	uint16_t *host_buckets;         /* by name */
	uint32_t n_host_buckets;        /* a power of two */
	unsigned int n_hosts;
};

struct cluster_table {
	char prefix[CLUSTER_KEY_MAX];
	char own[CLUSTER_HOST_MAX];
	unsigned int max_entries, max_hosts;
	struct ct_set *cur;
	uint64_t generation;
	struct cluster_table_counters c;
};

static uint32_t
pow2_at_least(uint32_t n)
{
	uint32_t p = 16;

	while (p < n)
		p <<= 1;
	return p;
}

/* FNV-1a: the keys are whatever other hosts chose, so nothing clever. */
static uint32_t
fnv(uint32_t h, const void *data, size_t n)
{
	const uint8_t *p = data;

	for (size_t i = 0; i < n; i++)
		h = (h ^ p[i]) * 16777619u;
	return h;
}

static uint32_t
mac_hash(uint32_t vni, const uint8_t mac[6])
{
	return fnv(fnv(2166136261u, &vni, sizeof(vni)), mac, 6);
}

static uint32_t
name_hash(const char *name)
{
	return fnv(2166136261u, name, strlen(name));
}

/* --- sets -------------------------------------------------------------- */

static void
set_free(struct ct_set *s)
{
	if (s == NULL)
		return;
	free(s->entries);
	free(s->buckets);
	free(s->hosts);
	free(s->host_buckets);
	free(s);
}

static struct ct_set *
set_new(const struct cluster_table *t)
{
	struct ct_set *s = calloc(1, sizeof(*s));

	if (s == NULL)
		return NULL;
	s->n_buckets = pow2_at_least(t->max_entries);
	s->n_host_buckets = pow2_at_least(2 * t->max_hosts);
	s->buckets = malloc(s->n_buckets * sizeof(*s->buckets));
	s->hosts = calloc(t->max_hosts, sizeof(*s->hosts));
	s->host_buckets = malloc(s->n_host_buckets * sizeof(*s->host_buckets));
	if (s->buckets == NULL || s->hosts == NULL || s->host_buckets == NULL) {
		set_free(s);
		return NULL;
	}
	memset(s->buckets, 0xff, s->n_buckets * sizeof(*s->buckets));
	memset(s->host_buckets, 0xff,
	       s->n_host_buckets * sizeof(*s->host_buckets));
	s->free_head = NIL;
	return s;
}

static int
host_find(const struct ct_set *s, const char *name)
{
	uint16_t i = s->host_buckets[name_hash(name) & (s->n_host_buckets - 1)];

	for (; i != HOST_NIL; i = s->hosts[i].next)
		if (strcmp(s->hosts[i].name, name) == 0)
			return i;
	return -1;
}

/* The slot of name, made if needed: its index, or -ENOSPC. */
static int
host_get(const struct cluster_table *t, struct ct_set *s, const char *name,
	 uint64_t now_ms)
{
	int i = host_find(s, name);
	uint32_t b;

	if (i >= 0)
		return i;
	if (s->n_hosts >= t->max_hosts)
		return -ENOSPC;
	for (i = 0; s->hosts[i].used; i++)
		;
	b = name_hash(name) & (s->n_host_buckets - 1);
	s->hosts[i] = (struct ct_host){ .used = true, .learned_ms = now_ms,
					.next = s->host_buckets[b] };
	strcpy(s->hosts[i].name, name);
	s->host_buckets[b] = (uint16_t)i;
	s->n_hosts++;
	return i;
}

/* A host with neither its key nor entries is forgotten. */
static void
host_release(struct ct_set *s, int i)
{
	struct ct_host *h = &s->hosts[i];
	uint16_t *p = &s->host_buckets[name_hash(h->name) &
				       (s->n_host_buckets - 1)];

	if (h->has_key || h->n_ports > 0)
		return;
	while (*p != i)
		p = &s->hosts[*p].next;
	*p = h->next;
	h->used = false;
	s->n_hosts--;
}

static uint32_t *
bucket_of(const struct ct_set *s, uint32_t vni, const uint8_t mac[6])
{
	return &s->buckets[mac_hash(vni, mac) & (s->n_buckets - 1)];
}

static bool
same_mac(const struct cluster_remote *r, uint32_t vni, const uint8_t mac[6])
{
	return r->vni == vni && memcmp(r->mac, mac, 6) == 0;
}

static uint32_t
entry_find(const struct ct_set *s, uint32_t vni, const uint8_t mac[6],
	   int host)
{
	uint32_t i = *bucket_of(s, vni, mac);

	for (; i != NIL; i = s->entries[i].next)
		if (s->entries[i].host == host &&
		    same_mac(&s->entries[i].r, vni, mac))
			return i;
	return NIL;
}

/* Claims on (vni, mac) other than entry `except`. */
static unsigned int
claims(const struct ct_set *s, uint32_t vni, const uint8_t mac[6],
       uint32_t except)
{
	unsigned int n = 0;

	for (uint32_t i = *bucket_of(s, vni, mac); i != NIL;
	     i = s->entries[i].next)
		if (i != except && same_mac(&s->entries[i].r, vni, mac))
			n++;
	return n;
}

static uint32_t
entry_insert(struct ct_set *s, const struct cluster_remote *r, int host)
{
	uint32_t i, *b;

	if (s->free_head == NIL) {
		uint32_t cap = s->cap ? s->cap * 2 : 64;
		struct ct_entry *e = realloc(s->entries, cap * sizeof(*e));

		if (e == NULL)
			return NIL;
		for (uint32_t k = cap; k > s->cap; k--) {
			e[k - 1].used = false;
			e[k - 1].next = s->free_head;
			s->free_head = k - 1;
		}
		s->entries = e;
		s->cap = cap;
	}
	i = s->free_head;
	s->free_head = s->entries[i].next;
	b = bucket_of(s, r->vni, r->mac);
	s->entries[i] = (struct ct_entry){ .r = *r, .next = *b,
					   .host = (uint16_t)host,
					   .used = true };
	*b = i;
	s->n_used++;
	s->hosts[host].n_ports++;
	return i;
}

static void
entry_remove(struct ct_set *s, uint32_t i)
{
	struct ct_entry *e = &s->entries[i];
	uint32_t *p = bucket_of(s, e->r.vni, e->r.mac);

	while (*p != i)
		p = &s->entries[*p].next;
	*p = e->next;
	e->used = false;
	e->next = s->free_head;
	s->free_head = i;
	s->n_used--;
	s->hosts[e->host].n_ports--;
	host_release(s, e->host);
}

static bool
remote_equal(const struct cluster_remote *a, const struct cluster_remote *b)
{
	if (strcmp(a->host, b->host) || memcmp(a->vtep, b->vtep, 4) ||
	    a->vni != b->vni || memcmp(a->mac, b->mac, 6) ||
	    strcmp(a->port, b->port) || a->n_ips != b->n_ips ||
	    a->revision != b->revision)
		return false;
	for (unsigned int i = 0; i < a->n_ips; i++)
		if (a->ips[i].family != b->ips[i].family ||
		    memcmp(a->ips[i].addr, b->ips[i].addr, 16))
			return false;
	return true;
}

/* --- applying a key ---------------------------------------------------- */

/* Change counts as seen by readers: 1 changed, 0 not, -ENOMEM. */
static int
apply_host(struct cluster_table *t, struct ct_set *s,
	   const struct cluster_kv *kv, const struct cluster_key *k,
	   uint64_t now_ms)
{
	int h = host_find(s, k->host);
	struct ct_host *slot = h >= 0 ? &s->hosts[h] : NULL;
	struct cluster_host v;
	bool had = slot != NULL && slot->has_key;

	if (had && kv->mod_revision < slot->key_revision)
		return 0;               /* older than what we hold */
	if (kv->type == CLUSTER_KV_PUT &&
	    (cluster_value_host_parse(kv->value, kv->value_len, &v) < 0 ||
	     strcmp(v.name, k->host) != 0))
		t->c.rejected++;
	else if (kv->type == CLUSTER_KV_PUT) {
		if (h < 0)
			h = host_get(t, s, k->host, now_ms);
		if (h < 0) {
			t->c.rejected++;
			return 0;
		}
		slot = &s->hosts[h];
		if (had && slot->key_revision == kv->mod_revision &&
		    memcmp(slot->vtep, v.vtep, 4) == 0)
			return 0;
		slot->has_key = true;
		slot->key_revision = kv->mod_revision;
		memcpy(slot->vtep, v.vtep, 4);
		slot->learned_ms = now_ms;
		return 1;
	}
	/* a DELETE, or a refused value: the key no longer says anything */
	if (!had)
		return 0;
	slot->has_key = false;
	host_release(s, h);
	return 1;
}

static int
apply_port(struct cluster_table *t, struct ct_set *s,
	   const struct cluster_kv *kv, const struct cluster_key *k,
	   uint64_t now_ms, bool count_conflicts)
{
	int h = host_find(s, k->host);
	uint32_t i = h >= 0 ? entry_find(s, k->vni, k->mac, h) : NIL;
	struct ct_entry *e = i != NIL ? &s->entries[i] : NULL;
	struct cluster_remote r;

	if (e != NULL && kv->mod_revision < e->r.revision)
		return 0;               /* older than what we hold */
	if (kv->type == CLUSTER_KV_PUT &&
	    (cluster_value_port_parse(kv->value, kv->value_len, &r) < 0 ||
	     strcmp(r.host, k->host) != 0 || r.vni != k->vni ||
	     memcmp(r.mac, k->mac, 6) != 0))
		t->c.rejected++;
	else if (kv->type == CLUSTER_KV_PUT) {
		r.revision = kv->mod_revision;
		r.learned_ms = now_ms;
		if (e != NULL) {
			r.learned_ms = e->r.learned_ms;
			if (remote_equal(&e->r, &r))
				return 0;
			r.learned_ms = now_ms;
			e->r = r;
		} else {
			if (s->n_used >= t->max_entries) {
				t->c.rejected++;
				return 0;
			}
			h = host_get(t, s, k->host, now_ms);
			if (h < 0) {
				t->c.rejected++;
				return 0;
			}
			i = entry_insert(s, &r, h);
			if (i == NIL) {
				host_release(s, h);
				return -ENOMEM;
			}
			if (count_conflicts && claims(s, r.vni, r.mac, i) > 0)
				t->c.conflicts++;
		}
		if (!s->hosts[h].has_key)
			memcpy(s->hosts[h].vtep, r.vtep, 4);
		return 1;
	}
	/* a DELETE, or a refused value: the key no longer says anything */
	if (e == NULL)
		return 0;
	entry_remove(s, i);
	return 1;
}

static int
set_apply(struct cluster_table *t, struct ct_set *s,
	  const struct cluster_kv *kv, uint64_t now_ms, bool count_conflicts)
{
	struct cluster_key k;

	if (cluster_key_parse(t->prefix, kv->key, kv->key_len, &k) < 0) {
		/* deleting what never parsed is no news */
		if (kv->type == CLUSTER_KV_PUT)
			t->c.rejected++;
		return 0;
	}
	if (strcmp(k.host, t->own) == 0)
		return 0;
	if (k.kind == CLUSTER_KEY_HOST)
		return apply_host(t, s, kv, &k, now_ms);
	return apply_port(t, s, kv, &k, now_ms, count_conflicts);
}

/* --- the table --------------------------------------------------------- */

struct cluster_table *
cluster_table_create(const char *prefix, const char *own_host,
		     unsigned int max_entries, unsigned int max_hosts)
{
	struct cluster_table *t;

	if (strlen(prefix) >= sizeof(t->prefix) ||
	    strlen(own_host) >= sizeof(t->own) ||
	    max_entries > CLUSTER_TABLE_ENTRIES_MAX ||
	    max_hosts > CLUSTER_TABLE_HOSTS_MAX) {
		errno = EINVAL;
		return NULL;
	}
	t = calloc(1, sizeof(*t));
	if (t == NULL)
		return NULL;
	strcpy(t->prefix, prefix);
	strcpy(t->own, own_host);
	t->max_entries = max_entries ? max_entries : CLUSTER_TABLE_ENTRIES_MAX;
	t->max_hosts = max_hosts ? max_hosts : CLUSTER_TABLE_HOSTS_MAX;
	t->cur = set_new(t);
	if (t->cur == NULL) {
		free(t);
		errno = ENOMEM;
		return NULL;
	}
	return t;
}

void
cluster_table_destroy(struct cluster_table *t)
{
	if (t == NULL)
		return;
	set_free(t->cur);
	free(t);
}

int
cluster_table_apply(struct cluster_table *t, const struct cluster_kv *kv,
		    uint64_t now_ms)
{
	int rc = set_apply(t, t->cur, kv, now_ms, true);

	if (rc > 0) {
		t->c.applied++;
		t->generation++;
	}
	return rc < 0 ? rc : 0;
}

/*
 * After a resync: keep what was learned when of entries that did not
 * change, count the MACs that became claimed twice, and tell whether a
 * reader would see any difference.
 */
static bool
resync_merge(struct cluster_table *t, const struct ct_set *old,
	     struct ct_set *s)
{
	bool changed = old->n_used != s->n_used || old->n_hosts != s->n_hosts;

	for (uint32_t i = 0; i < s->cap; i++) {
		struct ct_entry *e = &s->entries[i];
		int oh;
		uint32_t oi;

		if (!e->used)
			continue;
		oh = host_find(old, e->r.host);
		oi = oh >= 0 ? entry_find(old, e->r.vni, e->r.mac, oh) : NIL;
		if (oi != NIL && remote_equal(&old->entries[oi].r, &e->r)) {
			e->r.learned_ms = old->entries[oi].r.learned_ms;
		} else {
			changed = true;
		}
		/* once per MAC: counted on its first claim in the chain */
		if (claims(s, e->r.vni, e->r.mac, i) > 0 &&
		    claims(old, e->r.vni, e->r.mac, NIL) < 2) {
			uint32_t j = *bucket_of(s, e->r.vni, e->r.mac);

			while (!same_mac(&s->entries[j].r, e->r.vni, e->r.mac))
				j = s->entries[j].next;
			if (j == i)
				t->c.conflicts++;
		}
	}
	for (unsigned int i = 0; i < t->max_hosts; i++) {
		struct ct_host *h = &s->hosts[i];
		int oh;

		if (!h->used)
			continue;
		oh = host_find(old, h->name);
		if (oh < 0) {
			changed = true;
			continue;
		}
		if (old->hosts[oh].has_key != h->has_key ||
		    old->hosts[oh].key_revision != h->key_revision ||
		    memcmp(old->hosts[oh].vtep, h->vtep, 4))
			changed = true;
		else
			h->learned_ms = old->hosts[oh].learned_ms;
	}
	return changed;
}

int
cluster_table_resync(struct cluster_table *t, const struct cluster_kv *kvs,
		     unsigned int n, uint64_t now_ms)
{
	struct cluster_table_counters saved = t->c;
	struct ct_set *s = set_new(t);

	if (s == NULL)
		return -ENOMEM;
	for (unsigned int i = 0; i < n; i++) {
		if (kvs[i].type != CLUSTER_KV_PUT)
			continue;
		if (set_apply(t, s, &kvs[i], now_ms, false) < 0) {
			t->c = saved;
			set_free(s);
			return -ENOMEM;
		}
	}
	if (resync_merge(t, t->cur, s))
		t->generation++;
	set_free(t->cur);
	t->cur = s;
	return 0;
}

uint64_t
cluster_table_generation(const struct cluster_table *t)
{
	return t->generation;
}

void
cluster_table_counters(const struct cluster_table *t,
		       struct cluster_table_counters *c)
{
	*c = t->c;
}

unsigned int
cluster_table_n_entries(const struct cluster_table *t)
{
	return t->cur->n_used;
}

/* The claim readers see: the newest revision, then the smaller name. */
static bool
entry_wins(const struct ct_set *s, uint32_t i)
{
	const struct cluster_remote *r = &s->entries[i].r;

	for (uint32_t j = *bucket_of(s, r->vni, r->mac); j != NIL;
	     j = s->entries[j].next) {
		const struct cluster_remote *o = &s->entries[j].r;

		if (j == i || !same_mac(o, r->vni, r->mac))
			continue;
		if (o->revision > r->revision ||
		    (o->revision == r->revision &&
		     strcmp(o->host, r->host) < 0))
			return false;
	}
	return true;
}

static int
remote_cmp(const void *a, const void *b, void *ctx)
{
	const struct ct_entry *e = ctx;
	const struct cluster_remote *x = &e[*(const uint32_t *)a].r;
	const struct cluster_remote *y = &e[*(const uint32_t *)b].r;

	if (x->vni != y->vni)
		return x->vni < y->vni ? -1 : 1;
	return memcmp(x->mac, y->mac, 6);
}

unsigned int
cluster_table_remotes(const struct cluster_table *t,
		      struct cluster_remote *out, unsigned int max)
{
	const struct ct_set *s = t->cur;
	uint32_t *win = max > 0 ? malloc(s->n_used * sizeof(*win) + 1) : NULL;
	unsigned int n = 0;

	for (uint32_t i = 0; i < s->cap; i++) {
		if (!s->entries[i].used || !entry_wins(s, i))
			continue;
		if (win != NULL)
			win[n] = i;
		else if (n < max)       /* no memory to sort: unsorted */
			out[n] = s->entries[i].r;
		n++;
	}
	if (win != NULL) {
		qsort_r(win, n, sizeof(*win), remote_cmp, s->entries);
		for (unsigned int i = 0; i < n && i < max; i++)
			out[i] = s->entries[win[i]].r;
		free(win);
	}
	return n;
}

static int
host_cmp(const void *a, const void *b)
{
	return strcmp(((const struct cluster_host *)a)->name,
		      ((const struct cluster_host *)b)->name);
}

unsigned int
cluster_table_hosts(const struct cluster_table *t, struct cluster_host *out,
		    unsigned int max)
{
	const struct ct_set *s = t->cur;
	struct cluster_host all[CLUSTER_TABLE_HOSTS_MAX];
	unsigned int n = 0;

	for (unsigned int i = 0; i < t->max_hosts; i++) {
		const struct ct_host *h = &s->hosts[i];

		if (!h->used)
			continue;
		all[n] = (struct cluster_host){ .n_ports = h->n_ports,
						.learned_ms = h->learned_ms };
		strcpy(all[n].name, h->name);
		memcpy(all[n].vtep, h->vtep, 4);
		n++;
	}
	qsort(all, n, sizeof(all[0]), host_cmp);
	if (out != NULL)
		memcpy(out, all, (n < max ? n : max) * sizeof(*out));
	return n;
}
