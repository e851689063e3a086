/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The directory table driven like a story by the gateway's own text: a
 * full read (a range answer) and then a watch stream, message by
 * message, in the exact shape etcd 3.4 sends (header, base64 keys and
 * values, PUT left out, int64 as strings), through the codec's parsers.
 * Told: other hosts' ports come and go, this host's own keys are
 * ignored, a migration is seen as a second claim that wins (B's put then
 * A's delete, and the other way round), hostile entries are refused and
 * counted without touching the table, a resync replaces everything (and
 * bumps the generation only when something changed), and the bounds.
 */
#include <errno.h>
#include <inttypes.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "cluster/cluster_codec.h"
#include "cluster/cluster_table.h"

#define OWN "hv-a"
#define LEASE "4111120478140055045"

static const uint8_t M1[6] = { 0x52, 0x54, 0x00, 0x00, 0x01, 0x01 };
static const uint8_t M2[6] = { 0x52, 0x54, 0x00, 0x00, 0x02, 0x01 };
static const uint8_t M3[6] = { 0x52, 0x54, 0x00, 0x00, 0x03, 0x01 };

struct fx {
	struct cluster_table *t;
	int64_t rev;                    /* etcd's revision */
	uint64_t now;
};

static int
setup(void **state)
{
	struct fx *fx = calloc(1, sizeof(*fx));

	assert_non_null(fx);
	fx->t = cluster_table_create("/vtoe/", OWN, 0, 0);
	assert_non_null(fx->t);
	fx->rev = 1;
	fx->now = 1000;
	*state = fx;
	return 0;
}

static int
teardown(void **state)
{
	struct fx *fx = *state;

	cluster_table_destroy(fx->t);
	free(fx);
	return 0;
}

/* ------------------------------------------------ the gateway's text */

static char *
b64(const char *s)
{
	size_t size = (strlen(s) + 2) / 3 * 4 + 1;
	char *out = malloc(size);

	assert_non_null(out);
	assert_int_equal(cluster_b64_encode(s, strlen(s), out, size), size - 1);
	return out;
}

static const char *
mac_s(const uint8_t m[6])
{
	static char buf[4][18];
	static int n;
	char *b = buf[n++ % 4];

	snprintf(b, 18, "%02x:%02x:%02x:%02x:%02x:%02x",
		 m[0], m[1], m[2], m[3], m[4], m[5]);
	return b;
}

static const char *
port_key(uint32_t vni, const uint8_t m[6], const char *host)
{
	static char buf[4][256];
	static int n;
	char *b = buf[n++ % 4];

	snprintf(b, 256, "/vtoe/ports/%" PRIu32 "/%s/%s", vni, mac_s(m), host);
	return b;
}

static const char *
host_key(const char *host)
{
	static char buf[4][256];
	static int n;
	char *b = buf[n++ % 4];

	snprintf(b, 256, "/vtoe/hosts/%s", host);
	return b;
}

/* What cluster.c publishes for a port; ip the last byte of 10.1.0.X. */
static const char *
port_value(const char *host, int vtep, uint32_t vni, const uint8_t m[6],
	   int ip)
{
	static char buf[4][512];
	static int n;
	char *b = buf[n++ % 4];

	snprintf(b, 512, "{\"host\":\"%s\",\"vtep\":\"10.0.0.%d\",\"vni\":%"
		 PRIu32 ",\"mac\":\"%s\",\"port\":\"vm.%d\",\"ips\":"
		 "[\"10.1.0.%d\"]}", host, vtep, vni, mac_s(m), ip, ip);
	return b;
}

static const char *
host_value(const char *host, int vtep)
{
	static char buf[4][256];
	static int n;
	char *b = buf[n++ % 4];

	snprintf(b, 256, "{\"host\":\"%s\",\"vtep\":\"10.0.0.%d\","
		 "\"version\":\"0.1.0\"}", host, vtep);
	return b;
}

static void
header(char *buf, size_t size, int64_t rev)
{
	snprintf(buf, size, "\"header\":{\"cluster_id\":\"15118495548433857066\","
		 "\"member_id\":\"13668033151171901709\",\"revision\":\"%"
		 PRId64 "\",\"raft_term\":\"2\"}", rev);
}

/* One event as the gateway writes it: PUT is the default, left out. */
static void
event(char *buf, size_t size, const char *key, const char *value,
      int64_t rev)
{
	char *k = b64(key);

	if (value == NULL) {
		snprintf(buf, size, "{\"type\":\"DELETE\",\"kv\":{\"key\":\"%s\","
			 "\"mod_revision\":\"%" PRId64 "\"}}", k, rev);
	} else {
		char *v = b64(value);

		snprintf(buf, size, "{\"kv\":{\"key\":\"%s\",\"create_revision\":"
			 "\"%" PRId64 "\",\"mod_revision\":\"%" PRId64 "\","
			 "\"version\":\"1\",\"value\":\"%s\",\"lease\":\"" LEASE
			 "\"}}", k, rev, rev, v);
		free(v);
	}
	free(k);
}

/* A message of the watch stream, through the codec into the table. */
static void
feed(struct fx *fx, const char *line)
{
	struct cluster_watch_msg m;

	assert_int_equal(cluster_resp_watch(line, strlen(line), &m), 0);
	for (unsigned int i = 0; i < m.events.n; i++)
		assert_int_equal(cluster_table_apply(fx->t, &m.events.v[i],
						     fx->now), 0);
	cluster_watch_msg_free(&m);
}

/* One message with n events: key, value (NULL: DELETE) pairs, each at
 * the next revision. */
static void
watch(struct fx *fx, int n, ...)
{
	char line[32768], ev[8192], hdr[256];
	size_t off;
	va_list ap;

	header(hdr, sizeof(hdr), fx->rev + n);
	off = (size_t)snprintf(line, sizeof(line), "{\"result\":{%s,\"events\":[",
			       hdr);
	va_start(ap, n);
	for (int i = 0; i < n; i++) {
		const char *key = va_arg(ap, const char *);
		const char *value = va_arg(ap, const char *);

		event(ev, sizeof(ev), key, value, ++fx->rev);
		off += (size_t)snprintf(line + off, sizeof(line) - off, "%s%s",
					i ? "," : "", ev);
	}
	va_end(ap);
	snprintf(line + off, sizeof(line) - off, "]}}");
	feed(fx, line);
}

static void
put(struct fx *fx, const char *key, const char *value)
{
	watch(fx, 1, key, value);
}

static void
del(struct fx *fx, const char *key)
{
	watch(fx, 1, key, (const char *)NULL);
}

/* An event replayed at an old revision. */
static void
watch_at(struct fx *fx, int64_t rev, const char *key, const char *value)
{
	char line[8192], ev[4096], hdr[256];

	header(hdr, sizeof(hdr), fx->rev);
	event(ev, sizeof(ev), key, value, rev);
	snprintf(line, sizeof(line), "{\"result\":{%s,\"events\":[%s]}}", hdr, ev);
	feed(fx, line);
}

/* A range answer with n key/value pairs, each at the next revision. */
static void
range(struct fx *fx, int n, ...)
{
	size_t size = 4096 + (size_t)n * 2048, off;
	char *body = malloc(size), hdr[256];
	struct cluster_kvs kvs;
	int64_t rev;
	va_list ap;

	assert_non_null(body);
	header(hdr, sizeof(hdr), fx->rev + n);
	off = (size_t)snprintf(body, size, "{%s,\"kvs\":[", hdr);
	va_start(ap, n);
	for (int i = 0; i < n; i++) {
		char *k = b64(va_arg(ap, const char *));
		char *v = b64(va_arg(ap, const char *));

		fx->rev++;
		off += (size_t)snprintf(body + off, size - off,
			"%s{\"key\":\"%s\",\"create_revision\":\"%" PRId64 "\","
			"\"mod_revision\":\"%" PRId64 "\",\"version\":\"1\","
			"\"value\":\"%s\",\"lease\":\"" LEASE "\"}",
			i ? "," : "", k, fx->rev, fx->rev, v);
		free(k);
		free(v);
	}
	va_end(ap);
	snprintf(body + off, size - off, "],\"count\":\"%d\"}", n);
	assert_int_equal(cluster_resp_range(body, strlen(body), &rev, &kvs), 0);
	assert_int_equal(rev, fx->rev);
	assert_int_equal(kvs.n, n);
	assert_int_equal(cluster_table_resync(fx->t, kvs.v, kvs.n, fx->now), 0);
	cluster_kvs_free(&kvs);
	free(body);
}

/* -------------------------------------------------------------- views */

static unsigned int
remotes(const struct fx *fx, struct cluster_remote *out, unsigned int max)
{
	return cluster_table_remotes(fx->t, out, max);
}

static unsigned int
n_remotes(const struct fx *fx)
{
	return cluster_table_remotes(fx->t, NULL, 0);
}

/* The host that owns (vni, mac) in the table's answer, or NULL. */
static const char *
owner(const struct fx *fx, uint32_t vni, const uint8_t m[6])
{
	static struct cluster_remote r[64];
	unsigned int n = remotes(fx, r, 64);

	for (unsigned int i = 0; i < n && i < 64; i++)
		if (r[i].vni == vni && memcmp(r[i].mac, m, 6) == 0)
			return r[i].host;
	return NULL;
}

static struct cluster_table_counters
counters(const struct fx *fx)
{
	struct cluster_table_counters c;

	cluster_table_counters(fx->t, &c);
	return c;
}

static uint64_t
gen(const struct fx *fx)
{
	return cluster_table_generation(fx->t);
}

/* ------------------------------------------------------------ stories */

static void
test_resync_then_watch(void **state)
{
	struct fx *fx = *state;
	struct cluster_remote r[8];
	struct cluster_host h[8];
	uint64_t g;
	int64_t m1_rev;

	/* the directory as read at start: two other hosts, and our own */
	range(fx, 6,
	      host_key("hv-b"), host_value("hv-b", 2),
	      host_key("hv-c"), host_value("hv-c", 3),
	      host_key(OWN), host_value(OWN, 1),
	      port_key(5000, M1, "hv-b"), port_value("hv-b", 2, 5000, M1, 5),
	      port_key(5000, M2, "hv-c"), port_value("hv-c", 3, 5000, M2, 6),
	      port_key(5000, M3, OWN), port_value(OWN, 1, 5000, M3, 7));
	m1_rev = fx->rev - 2;
	assert_int_equal(gen(fx), 1);
	assert_int_equal(remotes(fx, r, 8), 2);
	assert_string_equal(r[0].host, "hv-b");
	assert_memory_equal(r[0].mac, M1, 6);
	assert_int_equal(r[0].vni, 5000);
	assert_memory_equal(r[0].vtep, ((const uint8_t[]){ 10, 0, 0, 2 }), 4);
	assert_string_equal(r[0].port, "vm.5");
	assert_int_equal(r[0].n_ips, 1);
	assert_int_equal(r[0].ips[0].family, 4);
	assert_memory_equal(r[0].ips[0].addr, ((const uint8_t[]){ 10, 1, 0, 5 }), 4);
	assert_int_equal(r[0].revision, m1_rev);
	assert_int_equal(r[0].learned_ms, 1000);
	assert_string_equal(r[1].host, "hv-c");
	assert_int_equal(cluster_table_hosts(fx->t, h, 8), 2);
	assert_string_equal(h[0].name, "hv-b");
	assert_int_equal(h[0].n_ports, 1);
	assert_memory_equal(h[1].vtep, ((const uint8_t[]){ 10, 0, 0, 3 }), 4);
	assert_int_equal(counters(fx).rejected, 0);

	/* the watch from there on: hv-b starts a VM */
	fx->now = 2000;
	g = gen(fx);
	put(fx, port_key(7, M3, "hv-b"), port_value("hv-b", 2, 7, M3, 9));
	assert_int_equal(gen(fx), g + 1);
	assert_int_equal(n_remotes(fx), 3);
	assert_string_equal(owner(fx, 7, M3), "hv-b");
	assert_int_equal(cluster_table_hosts(fx->t, h, 8), 2);
	assert_int_equal(h[0].n_ports, 2);

	/* its address changes: a new revision, learned again */
	fx->now = 3000;
	put(fx, port_key(7, M3, "hv-b"), port_value("hv-b", 2, 7, M3, 10));
	assert_int_equal(gen(fx), g + 2);
	remotes(fx, r, 8);
	assert_int_equal(r[0].vni, 7);          /* sorted: VNI 7 first */
	assert_int_equal(r[0].ips[0].addr[3], 10);
	assert_int_equal(r[0].revision, fx->rev);
	assert_int_equal(r[0].learned_ms, 3000);

	/* nothing happened: progress notifications change nothing */
	feed(fx, "{\"result\":{\"header\":{\"cluster_id\":\"1\",\"member_id\":"
		 "\"2\",\"revision\":\"40\",\"raft_term\":\"2\"}}}");
	/* an old event replayed (an older revision than held): ignored */
	watch_at(fx, m1_rev - 1, port_key(5000, M1, "hv-b"),
		 port_value("hv-b", 2, 5000, M1, 99));
	watch_at(fx, m1_rev - 1, port_key(5000, M1, "hv-b"), NULL);
	assert_int_equal(gen(fx), g + 2);
	assert_string_equal(owner(fx, 5000, M1), "hv-b");

	/* the VM stops */
	del(fx, port_key(7, M3, "hv-b"));
	assert_int_equal(gen(fx), g + 3);
	assert_int_equal(n_remotes(fx), 2);
	assert_null(owner(fx, 7, M3));
	/* deleting what is not there is no change */
	del(fx, port_key(7, M3, "hv-b"));
	assert_int_equal(gen(fx), g + 3);
	assert_int_equal(counters(fx).applied, 3);
}

static void
test_own_keys_ignored(void **state)
{
	struct fx *fx = *state;

	put(fx, host_key(OWN), host_value(OWN, 1));
	put(fx, port_key(5, M1, OWN), port_value(OWN, 1, 5, M1, 1));
	/* even a broken one: ours is the session's business */
	put(fx, port_key(5, M2, OWN), "garbage");
	del(fx, port_key(5, M1, OWN));
	assert_int_equal(gen(fx), 0);
	assert_int_equal(n_remotes(fx), 0);
	assert_int_equal(cluster_table_hosts(fx->t, NULL, 0), 0);
	assert_int_equal(counters(fx).rejected, 0);
}

/* A VM moves from hv-b to hv-c; seen from hv-a. */
static void
test_migration_put_then_delete(void **state)
{
	struct fx *fx = *state;
	struct cluster_host h[4];

	put(fx, port_key(5000, M1, "hv-b"), port_value("hv-b", 2, 5000, M1, 5));
	assert_string_equal(owner(fx, 5000, M1), "hv-b");
	/* switch-over: the destination publishes before the source withdraws */
	put(fx, port_key(5000, M1, "hv-c"), port_value("hv-c", 3, 5000, M1, 5));
	assert_string_equal(owner(fx, 5000, M1), "hv-c");
	assert_int_equal(n_remotes(fx), 1);     /* one per (VNI, MAC) */
	assert_int_equal(cluster_table_n_entries(fx->t), 2);
	assert_int_equal(counters(fx).conflicts, 1);
	assert_int_equal(cluster_table_hosts(fx->t, h, 4), 2);
	assert_int_equal(h[0].n_ports, 1);
	assert_int_equal(h[1].n_ports, 1);
	/* the source lets go */
	del(fx, port_key(5000, M1, "hv-b"));
	assert_string_equal(owner(fx, 5000, M1), "hv-c");
	assert_int_equal(cluster_table_n_entries(fx->t), 1);
	assert_int_equal(counters(fx).conflicts, 1);
	assert_int_equal(cluster_table_hosts(fx->t, h, 4), 1);
	assert_string_equal(h[0].name, "hv-c");

	/* and back, both in one message (a transaction) */
	watch(fx, 2, port_key(5000, M1, "hv-b"),
	      port_value("hv-b", 2, 5000, M1, 5),
	      port_key(5000, M1, "hv-c"), (const char *)NULL);
	assert_string_equal(owner(fx, 5000, M1), "hv-b");
	assert_int_equal(counters(fx).conflicts, 2);
}

static void
test_migration_delete_then_put(void **state)
{
	struct fx *fx = *state;
	uint64_t g;

	put(fx, port_key(5000, M1, "hv-b"), port_value("hv-b", 2, 5000, M1, 5));
	g = gen(fx);
	del(fx, port_key(5000, M1, "hv-b"));
	assert_null(owner(fx, 5000, M1));
	put(fx, port_key(5000, M1, "hv-c"), port_value("hv-c", 3, 5000, M1, 5));
	assert_string_equal(owner(fx, 5000, M1), "hv-c");
	assert_int_equal(counters(fx).conflicts, 0);
	assert_int_equal(gen(fx), g + 2);

	/* the same MAC in another network is another entry, no conflict */
	put(fx, port_key(6000, M1, "hv-b"), port_value("hv-b", 2, 6000, M1, 5));
	assert_string_equal(owner(fx, 5000, M1), "hv-c");
	assert_string_equal(owner(fx, 6000, M1), "hv-b");
	assert_int_equal(counters(fx).conflicts, 0);
}

/* What any host may write, refused one by one: counted, nothing else. */
static void
test_hostile(void **state)
{
	struct fx *fx = *state;
	char big[4096];
	static const char *const bad[][2] = {
		/* keys */
		{ "/vtoe/ports/5000/52:54:00:00:01:01", "{}" },
		{ "/vtoe/ports/0/52:54:00:00:01:01/hv-b", "{}" },
		{ "/vtoe/ports/16777216/52:54:00:00:01:01/hv-b", "{}" },
		{ "/vtoe/ports/5000/53:54:00:00:01:01/hv-b", "{}" },
		{ "/vtoe/ports/5000/00:00:00:00:00:00/hv-b", "{}" },
		{ "/vtoe/ports/5000/52:54:00:00:01:01/hv b", "{}" },
		{ "/vtoe/hosts/hv$b", "{}" },
		{ "/vtoe/nonsense", "{}" },
		/* values */
		{ "/vtoe/ports/5000/52:54:00:00:01:01/hv-b", "not json" },
		{ "/vtoe/ports/5000/52:54:00:00:01:01/hv-b", "" },
		/* a key that disagrees with its value */
		{ "/vtoe/ports/5000/52:54:00:00:01:01/hv-b",
		  "{\"host\":\"hv-c\",\"vtep\":\"10.0.0.3\",\"vni\":5000,"
		  "\"mac\":\"52:54:00:00:01:01\",\"port\":\"p\"}" },
		{ "/vtoe/ports/5000/52:54:00:00:01:01/hv-b",
		  "{\"host\":\"hv-b\",\"vtep\":\"10.0.0.2\",\"vni\":5001,"
		  "\"mac\":\"52:54:00:00:01:01\",\"port\":\"p\"}" },
		{ "/vtoe/ports/5000/52:54:00:00:01:01/hv-b",
		  "{\"host\":\"hv-b\",\"vtep\":\"10.0.0.2\",\"vni\":5000,"
		  "\"mac\":\"52:54:00:00:01:02\",\"port\":\"p\"}" },
		{ "/vtoe/hosts/hv-b", "{\"host\":\"hv-c\",\"vtep\":\"10.0.0.3\"}" },
		/* too much */
		{ "/vtoe/ports/5000/52:54:00:00:01:01/hv-b",
		  "{\"host\":\"hv-b\",\"vtep\":\"10.0.0.2\",\"vni\":5000,"
		  "\"mac\":\"52:54:00:00:01:01\",\"port\":\"p\",\"ips\":["
		  "\"1.0.0.1\",\"1.0.0.2\",\"1.0.0.3\",\"1.0.0.4\",\"1.0.0.5\","
		  "\"1.0.0.6\",\"1.0.0.7\",\"1.0.0.8\",\"1.0.0.9\"]}" },
		{ "/vtoe/ports/5000/52:54:00:00:01:01/hv-b",
		  "{\"host\":\"hv-b\",\"vtep\":\"10.0.0.2\",\"vni\":5000,"
		  "\"mac\":\"52:54:00:00:01:01\",\"port\":"
		  "\"a-port-name-longer-than-31-chars\"}" },
		{ "/vtoe/ports/5000/52:54:00:00:01:01/hv-b",
		  "{\"host\":\"hv-b\",\"vtep\":\"0.1.2.3\",\"vni\":5000,"
		  "\"mac\":\"52:54:00:00:01:01\",\"port\":\"p\"}" },
	};
	size_t n = sizeof(bad) / sizeof(bad[0]);

	put(fx, port_key(7, M2, "hv-c"), port_value("hv-c", 3, 7, M2, 1));
	for (size_t i = 0; i < n; i++) {
		uint64_t g = gen(fx);

		put(fx, bad[i][0], bad[i][1]);
		if (counters(fx).rejected != i + 1)
			fail_msg("not refused: %s = %s", bad[i][0], bad[i][1]);
		assert_int_equal(gen(fx), g);
		assert_int_equal(n_remotes(fx), 1);
		assert_int_equal(cluster_table_hosts(fx->t, NULL, 0), 1);
	}
	/* a value far bigger than any we write */
	snprintf(big, sizeof(big), "{\"host\":\"hv-b\",\"vtep\":\"10.0.0.2\","
		 "\"vni\":5000,\"mac\":\"52:54:00:00:01:01\",\"port\":\"p\","
		 "\"x\":\"%03000d\"}", 0);
	put(fx, port_key(5000, M1, "hv-b"), big);
	assert_int_equal(counters(fx).rejected, n + 1);
	/* deleting a key that never parsed: no news, not counted */
	del(fx, "/vtoe/ports/5000/52:54:00:00:01:01");
	assert_int_equal(counters(fx).rejected, n + 1);

	/* a good entry overwritten with garbage is gone: etcd no longer
	 * holds anything valid there */
	uint64_t g = gen(fx);

	put(fx, port_key(7, M2, "hv-c"), "{\"host\":\"hv-c\"}");
	assert_int_equal(counters(fx).rejected, n + 2);
	assert_int_equal(gen(fx), g + 1);
	assert_int_equal(n_remotes(fx), 0);
	assert_int_equal(cluster_table_hosts(fx->t, NULL, 0), 0);
	put(fx, host_key("hv-c"), host_value("hv-c", 3));
	put(fx, host_key("hv-c"), "{\"host\":\"hv-c\",\"vtep\":\"300.0.0.1\"}");
	assert_int_equal(cluster_table_hosts(fx->t, NULL, 0), 0);
	assert_int_equal(counters(fx).rejected, n + 3);
	assert_int_equal(counters(fx).conflicts, 0);
}

static void
test_resync_replaces(void **state)
{
	struct fx *fx = *state;
	struct cluster_remote r[8];
	struct cluster_host h[8];
	uint64_t g;

	put(fx, host_key("hv-b"), host_value("hv-b", 2));
	put(fx, port_key(5000, M1, "hv-b"), port_value("hv-b", 2, 5000, M1, 5));
	put(fx, port_key(5000, M2, "hv-c"), port_value("hv-c", 3, 5000, M2, 6));
	assert_int_equal(n_remotes(fx), 2);
	g = gen(fx);

	/* a whole-cluster outage later: only hv-d is left */
	fx->now = 5000;
	range(fx, 2, host_key("hv-d"), host_value("hv-d", 4),
	      port_key(5000, M3, "hv-d"), port_value("hv-d", 4, 5000, M3, 7));
	assert_int_equal(gen(fx), g + 1);
	assert_int_equal(remotes(fx, r, 8), 1);
	assert_string_equal(r[0].host, "hv-d");
	assert_int_equal(r[0].learned_ms, 5000);
	assert_int_equal(cluster_table_hosts(fx->t, h, 8), 1);
	assert_string_equal(h[0].name, "hv-d");
	assert_int_equal(cluster_table_n_entries(fx->t), 1);

	/* the same directory read again: nothing changed, learned kept */
	fx->now = 9000;
	fx->rev -= 2;
	range(fx, 2, host_key("hv-d"), host_value("hv-d", 4),
	      port_key(5000, M3, "hv-d"), port_value("hv-d", 4, 5000, M3, 7));
	assert_int_equal(gen(fx), g + 1);
	remotes(fx, r, 8);
	assert_int_equal(r[0].learned_ms, 5000);
	cluster_table_hosts(fx->t, h, 8);
	assert_int_equal(h[0].learned_ms, 5000);

	/* republished meanwhile (a new revision): a change */
	range(fx, 2, host_key("hv-d"), host_value("hv-d", 4),
	      port_key(5000, M3, "hv-d"), port_value("hv-d", 4, 5000, M3, 7));
	assert_int_equal(gen(fx), g + 2);
	remotes(fx, r, 8);
	assert_int_equal(r[0].learned_ms, 9000);

	/* a conflict found by a resync is counted once */
	range(fx, 2, port_key(5000, M3, "hv-d"), port_value("hv-d", 4, 5000, M3, 7),
	      port_key(5000, M3, "hv-e"), port_value("hv-e", 5, 5000, M3, 7));
	assert_int_equal(counters(fx).conflicts, 1);
	assert_string_equal(owner(fx, 5000, M3), "hv-e");
	fx->rev -= 2;
	range(fx, 2, port_key(5000, M3, "hv-d"), port_value("hv-d", 4, 5000, M3, 7),
	      port_key(5000, M3, "hv-e"), port_value("hv-e", 5, 5000, M3, 7));
	assert_int_equal(counters(fx).conflicts, 1);

	/* an empty directory empties the table; own and bad keys skipped */
	range(fx, 2, port_key(5000, M1, OWN), port_value(OWN, 1, 5000, M1, 1),
	      "/vtoe/hosts/bad host", "{}");
	assert_int_equal(n_remotes(fx), 0);
	assert_int_equal(cluster_table_hosts(fx->t, NULL, 0), 0);
	assert_int_equal(counters(fx).rejected, 1);
	/* and watching goes on from there */
	put(fx, port_key(5000, M1, "hv-b"), port_value("hv-b", 2, 5000, M1, 5));
	assert_string_equal(owner(fx, 5000, M1), "hv-b");
}

/* A host known by its ports only, then by its key. */
static void
test_hosts(void **state)
{
	struct fx *fx = *state;
	struct cluster_host h[4];

	put(fx, port_key(5, M1, "hv-e"), port_value("hv-e", 5, 5, M1, 1));
	assert_int_equal(cluster_table_hosts(fx->t, h, 4), 1);
	assert_string_equal(h[0].name, "hv-e");
	assert_memory_equal(h[0].vtep, ((const uint8_t[]){ 10, 0, 0, 5 }), 4);
	assert_int_equal(h[0].n_ports, 1);
	/* its key says otherwise: the key wins for the host */
	put(fx, host_key("hv-e"), host_value("hv-e", 50));
	cluster_table_hosts(fx->t, h, 4);
	assert_memory_equal(h[0].vtep, ((const uint8_t[]){ 10, 0, 0, 50 }), 4);
	/* the ports carry their own */
	assert_int_equal(n_remotes(fx), 1);
	/* key gone, ports left: still listed */
	del(fx, host_key("hv-e"));
	assert_int_equal(cluster_table_hosts(fx->t, h, 4), 1);
	assert_int_equal(h[0].n_ports, 1);
	del(fx, port_key(5, M1, "hv-e"));
	assert_int_equal(cluster_table_hosts(fx->t, h, 4), 0);
	/* a key without ports is a host too */
	put(fx, host_key("hv-f"), host_value("hv-f", 6));
	assert_int_equal(cluster_table_hosts(fx->t, h, 4), 1);
	assert_int_equal(h[0].n_ports, 0);
	/* at most max written, the count all the same */
	put(fx, host_key("hv-g"), host_value("hv-g", 7));
	assert_int_equal(cluster_table_hosts(fx->t, h, 1), 2);
	assert_string_equal(h[0].name, "hv-f");
}

static void
test_bounds_small(void **state)
{
	struct fx *fx = *state;

	cluster_table_destroy(fx->t);
	fx->t = cluster_table_create("/vtoe/", OWN, 3, 2);
	assert_non_null(fx->t);
	put(fx, port_key(5, M1, "hv-b"), port_value("hv-b", 2, 5, M1, 1));
	put(fx, port_key(5, M2, "hv-b"), port_value("hv-b", 2, 5, M2, 1));
	put(fx, host_key("hv-c"), host_value("hv-c", 3));
	/* a third host */
	put(fx, host_key("hv-d"), host_value("hv-d", 4));
	put(fx, port_key(6, M1, "hv-d"), port_value("hv-d", 4, 6, M1, 1));
	assert_int_equal(counters(fx).rejected, 2);
	assert_int_equal(cluster_table_hosts(fx->t, NULL, 0), 2);
	/* a fourth entry */
	put(fx, port_key(5, M3, "hv-c"), port_value("hv-c", 3, 5, M3, 1));
	put(fx, port_key(6, M3, "hv-c"), port_value("hv-c", 3, 6, M3, 1));
	assert_int_equal(counters(fx).rejected, 3);
	assert_int_equal(cluster_table_n_entries(fx->t), 3);
	/* updating one held is fine when full */
	put(fx, port_key(5, M3, "hv-c"), port_value("hv-c", 3, 5, M3, 2));
	assert_int_equal(counters(fx).rejected, 3);
	/* room again */
	del(fx, port_key(5, M1, "hv-b"));
	put(fx, port_key(6, M3, "hv-c"), port_value("hv-c", 3, 6, M3, 1));
	assert_int_equal(cluster_table_n_entries(fx->t), 3);
	assert_int_equal(counters(fx).rejected, 3);
	assert_null(cluster_table_create("/vtoe/", OWN,
					 CLUSTER_TABLE_ENTRIES_MAX + 1, 0));
	assert_null(cluster_table_create("/vtoe/", OWN, 0,
					 CLUSTER_TABLE_HOSTS_MAX + 1));
}

/* The real limits, by a resync of 65536 + 2 entries over 257 hosts. */
static void
test_bounds_default(void **state)
{
	struct fx *fx = *state;
	unsigned int n = CLUSTER_TABLE_ENTRIES_MAX + 2, k = 0;
	struct cluster_kv *kvs = calloc(n, sizeof(*kvs));
	struct cluster_remote *r;
	char host[16];

	assert_non_null(kvs);
	for (unsigned int i = 0; i < CLUSTER_TABLE_HOSTS_MAX; i++) {
		snprintf(host, sizeof(host), "hv-%u", i);
		for (unsigned int j = 0; j < 256; j++, k++) {
			uint8_t m[6] = { 0x52, 0x54, 0, 0, (uint8_t)i,
					 (uint8_t)j };

			kvs[k].key = strdup(port_key(1, m, host));
			kvs[k].value = strdup(port_value(host, 2, 1, m, 1));
			kvs[k].key_len = strlen(kvs[k].key);
			kvs[k].value_len = strlen(kvs[k].value);
			kvs[k].mod_revision = k + 1;
		}
	}
	/* one host too many, one entry too many */
	kvs[k].key = strdup(port_key(2, M1, "hv-extra"));
	kvs[k].value = strdup(port_value("hv-extra", 2, 2, M1, 1));
	kvs[k + 1].key = strdup(port_key(2, M1, "hv-0"));
	kvs[k + 1].value = strdup(port_value("hv-0", 2, 2, M1, 1));
	for (unsigned int i = k; i < n; i++) {
		kvs[i].key_len = strlen(kvs[i].key);
		kvs[i].value_len = strlen(kvs[i].value);
		kvs[i].mod_revision = i + 1;
	}
	assert_int_equal(cluster_table_resync(fx->t, kvs, n, 1), 0);
	assert_int_equal(cluster_table_n_entries(fx->t), CLUSTER_TABLE_ENTRIES_MAX);
	assert_int_equal(cluster_table_hosts(fx->t, NULL, 0),
			 CLUSTER_TABLE_HOSTS_MAX);
	assert_int_equal(counters(fx).rejected, 2);
	r = calloc(CLUSTER_TABLE_ENTRIES_MAX, sizeof(*r));
	assert_non_null(r);
	assert_int_equal(cluster_table_remotes(fx->t, r,
					       CLUSTER_TABLE_ENTRIES_MAX),
			 CLUSTER_TABLE_ENTRIES_MAX);
	/* sorted by VNI then MAC */
	for (unsigned int i = 1; i < CLUSTER_TABLE_ENTRIES_MAX; i++)
		assert_true(memcmp(r[i - 1].mac, r[i].mac, 6) < 0);
	free(r);
	/* a watch event for a new entry is refused too */
	fx->rev = n + 1;
	put(fx, port_key(3, M1, "hv-1"), port_value("hv-1", 2, 3, M1, 1));
	assert_int_equal(counters(fx).rejected, 3);
	struct cluster_kvs all = { .v = kvs, .n = n };

	cluster_kvs_free(&all);
}

/* A stream message that does not parse changes nothing. */
static void
test_broken_stream(void **state)
{
	struct fx *fx = *state;
	struct cluster_watch_msg m;
	static const char *const lines[] = {
		"{\"result\":{\"events\":[{\"kv\":{\"key\":\"L3Z0b2Uv!!\"}}]}}",
		"{\"result\":{\"events\":[{\"type\":\"EXPIRE\",\"kv\":{\"key\":\"YQ==\"}}]}}",
		"{\"result\":{\"header\":{\"revision\":\"x\"}}}",
		"{\"result\"",
	};

	for (size_t i = 0; i < sizeof(lines) / sizeof(lines[0]); i++) {
		assert_int_equal(cluster_resp_watch(lines[i], strlen(lines[i]),
						    &m), -EPROTO);
		assert_int_equal(m.events.n, 0);
	}
	assert_int_equal(gen(fx), 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_resync_then_watch, setup, teardown),
		cmocka_unit_test_setup_teardown(test_own_keys_ignored, setup, teardown),
		cmocka_unit_test_setup_teardown(test_migration_put_then_delete, setup, teardown),
		cmocka_unit_test_setup_teardown(test_migration_delete_then_put, setup, teardown),
		cmocka_unit_test_setup_teardown(test_hostile, setup, teardown),
		cmocka_unit_test_setup_teardown(test_resync_replaces, setup, teardown),
		cmocka_unit_test_setup_teardown(test_hosts, setup, teardown),
		cmocka_unit_test_setup_teardown(test_bounds_small, setup, teardown),
		cmocka_unit_test_setup_teardown(test_bounds_default, setup, teardown),
		cmocka_unit_test_setup_teardown(test_broken_stream, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
