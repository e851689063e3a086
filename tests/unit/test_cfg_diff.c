/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * test_cfg_diff: what a reload of an edited port map would do, key by key
 * (one table row per config key), and the guard that every field of the
 * config structs and every YAML key the parser takes is classed.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "config/cfg.h"
#include "config/cfg_diff.h"

static const char base[] =
	"lcores: {main: 0, workers: [1]}\n"
	"memory: {hugepages: none, mbufs: 4096}\n"
	"control: {socket: /tmp/v.sock, mode: \"0660\"}\n"
	"fdb: {size: 1024, ageing: 300}\n"
	"eal: {file_prefix: t, args: [--log-level=5]}\n"
	"membership: {source: static}\n"
	"datapath: {direct: true}\n"
	"uplinks:\n"
	"  - {name: up0, device: net_null0, rate: 1Gbit, queue_packets: 512, queue_bytes: 65536}\n"
	"  - {name: up1, device: net_null1}\n"
	"vms:\n"
	"  - name: vm1\n"
	"    ports:\n"
	"      - {name: vm1.0, socket: /tmp/vm1.sock, mode: server, mac: \"52:54:00:00:00:01\", queues: 1, uplink: up0, weight: 1, offloads: true, takeover: refuse}\n"
	"  - name: vm2\n"
	"    ports:\n"
	"      - {name: vm2.0, socket: /tmp/vm2.sock, mac: \"52:54:00:00:00:02\"}\n";

static bool cpus(unsigned int cpu)
{
	return cpu < 4;
}

/* base with the first "from" replaced by "to" (must be there). */
static struct cfg *edited(const char *from, const char *to)
{
	char text[4096];
	const char *at = strstr(base, from);
	struct cfg *c;

	assert_non_null(at);
	snprintf(text, sizeof(text), "%.*s%s%s", (int)(at - base), base, to,
		 at + strlen(from));
	c = cfg_parse("t.yaml", text, strlen(text), stderr, cpus);
	assert_non_null(c);
	return c;
}

static const struct cfg_diff_entry *entry(const struct cfg_diff *d,
					  const char *name)
{
	for (unsigned int i = 0; i < d->n_ports; i++)
		if (strcmp(d->ports[i].name, name) == 0)
			return &d->ports[i];
	for (unsigned int i = 0; i < d->n_uplinks; i++)
		if (strcmp(d->uplinks[i].name, name) == 0)
			return &d->uplinks[i];
	return NULL;
}

struct row {
	const char *from, *to;
	/* Expected: a restart, naming key (and where), or these changes. */
	const char *restart;            /* "t.yaml:1:9: lcores.workers" */
	const char *live;               /* a LIVE global */
	const char *entry;              /* the one entry that changes */
	enum cfg_entry_change change;
	const char *key;                /* what decided it */
	const char *entry2;             /* a second one (renames, all) */
	enum cfg_entry_change change2;
};

static const struct row rows[] = {
	{ "main: 0", "main: 2", .restart = "t.yaml:1:9: lcores.main" },
	{ "workers: [1]", "workers: [2]", .restart = "t.yaml:1:9: lcores.workers" },
	{ "workers: [1]", "workers: [1, 2]", .restart = "t.yaml:1:9: lcores.workers" },
	{ "hugepages: none", "hugepages: auto", .restart = "t.yaml:2:9: memory.hugepages" },
	{ "mbufs: 4096", "mbufs: 8192", .restart = "t.yaml:2:9: memory.mbufs" },
	{ "/tmp/v.sock", "/tmp/w.sock", .restart = "t.yaml:3:10: control.socket" },
	{ "\"0660\"", "\"0600\"", .restart = "t.yaml:3:10: control.mode" },
	{ "size: 1024", "size: 2048", .restart = "t.yaml:4:6: fdb.size" },
	{ "file_prefix: t", "file_prefix: u", .restart = "t.yaml:5:6: eal.file_prefix" },
	{ "--log-level=5", "--log-level=6", .restart = "t.yaml:5:6: eal.args" },
	{ "[--log-level=5]", "[--log-level=5, --no-telemetry]", .restart = "t.yaml:5:6: eal.args" },
	{ "source: static", "source: libvirt", .restart = "t.yaml:6:13: membership.source" },
	{ "membership: {source: static}\n", "", .restart = NULL },
	{ "ageing: 300", "ageing: 60", .live = "fdb.ageing" },
	{ "direct: true", "direct: false", .entry = "vm1.0", .change = CFG_CHANGED,
	  .key = "datapath.direct", .entry2 = "vm2.0", .change2 = CFG_CHANGED },
	{ "/tmp/vm1.sock", "/tmp/vm9.sock", .entry = "vm1.0", .change = CFG_CHANGED, .key = "port.socket" },
	{ "mode: server", "mode: client", .entry = "vm1.0", .change = CFG_CHANGED, .key = "port.mode" },
	{ "00:01\"", "00:09\"", .entry = "vm1.0", .change = CFG_CHANGED, .key = "port.mac" },
	{ "queues: 1", "queues: 2", .entry = "vm1.0", .change = CFG_CHANGED, .key = "port.queues" },
	{ "uplink: up0", "uplink: up1", .entry = "vm1.0", .change = CFG_CHANGED, .key = "port.uplink" },
	{ "uplink: up0,", "", .entry = "vm1.0", .change = CFG_CHANGED, .key = "port.uplink" },
	{ "weight: 1", "weight: 5", .entry = "vm1.0", .change = CFG_CHANGED_LIVE, .key = "port.weight" },
	{ "offloads: true", "offloads: false", .entry = "vm1.0", .change = CFG_CHANGED, .key = "port.offloads" },
	{ "takeover: refuse", "takeover: newest", .entry = "vm1.0", .change = CFG_CHANGED, .key = "port.takeover" },
	{ "name: vm1\n", "name: vmx\n", .entry = "vm1.0", .change = CFG_CHANGED, .key = "vm.name" },
	{ "device: net_null0", "device: net_null2", .entry = "up0", .change = CFG_CHANGED, .key = "uplink.device" },
	{ "rate: 1Gbit", "rate: 2Gbit", .entry = "up0", .change = CFG_CHANGED, .key = "uplink.rate" },
	{ "queue_packets: 512", "queue_packets: 256", .entry = "up0", .change = CFG_CHANGED, .key = "uplink.queue_packets" },
	{ "queue_bytes: 65536", "queue_bytes: 32768", .entry = "up0", .change = CFG_CHANGED, .key = "uplink.queue_bytes" },
	{ "  - {name: up1, device: net_null1}\n", "", .entry = "up1", .change = CFG_REMOVED },
	{ "  - {name: up1, device: net_null1}\n",
	  "  - {name: up1, device: net_null1}\n  - {name: up2, device: net_null2}\n",
	  .entry = "up2", .change = CFG_ADDED },
	{ "  - name: vm2\n", "  - name: vm3\n    ports:\n      - {name: vm3.0, socket: /tmp/vm3.sock, mac: \"52:54:00:00:00:03\"}\n  - name: vm2\n",
	  .entry = "vm3.0", .change = CFG_ADDED },
	{ "  - name: vm2\n    ports:\n      - {name: vm2.0, socket: /tmp/vm2.sock, mac: \"52:54:00:00:00:02\"}\n", "",
	  .entry = "vm2.0", .change = CFG_REMOVED },
	{ "name: vm2.0", "name: vm2.1", .entry = "vm2.0", .change = CFG_REMOVED,
	  .entry2 = "vm2.1", .change2 = CFG_ADDED },
	/* A mix of live and restart changes: the restart wins. */
	{ "lcores: {main: 0, workers: [1]}\nmemory: {hugepages: none, mbufs: 4096}\n",
	  "lcores: {main: 0, workers: [2]}\nmemory: {hugepages: none, mbufs: 4096}\n",
	  .restart = "t.yaml:1:9: lcores.workers" },
};

static void test_rows(void **state)
{
	struct cfg *a = edited("", "");
	struct cfg_diff d;

	(void)state;
	for (size_t r = 0; r < sizeof(rows) / sizeof(rows[0]); r++) {
		const struct row *w = &rows[r];
		struct cfg *b = edited(w->from, w->to);
		unsigned int changed = 0;

		cfg_diff(a, b, &d);
		printf("row %zu: %s -> %s: restart=%d why=\"%s\"\n", r, w->from,
		       w->to, d.restart, d.why);
		assert_int_equal(d.restart, w->restart != NULL);
		if (w->restart != NULL) {
			assert_non_null(strstr(d.why, w->restart));
			assert_non_null(strstr(d.why, "needs a restart"));
			cfg_free(b);
			continue;
		}
		if (w->live != NULL) {
			assert_int_equal(d.n_live, 1);
			assert_string_equal(d.live[0], w->live);
		} else {
			assert_int_equal(d.n_live, 0);
		}
		for (unsigned int i = 0; i < d.n_ports + d.n_uplinks; i++) {
			const struct cfg_diff_entry *e = i < d.n_ports ?
				&d.ports[i] : &d.uplinks[i - d.n_ports];

			if (e->change == CFG_UNCHANGED)
				continue;
			changed++;
			if (w->entry != NULL && strcmp(e->name, w->entry) == 0) {
				assert_int_equal(e->change, w->change);
				if (w->key != NULL)
					assert_string_equal(e->key, w->key);
			} else {
				assert_non_null(w->entry2);
				assert_string_equal(e->name, w->entry2);
				assert_int_equal(e->change, w->change2);
			}
		}
		assert_int_equal(changed, (w->entry != NULL) + (w->entry2 != NULL));
		if (w->entry != NULL)
			assert_non_null(entry(&d, w->entry));
		cfg_free(b);
	}
	/* The same file: nothing at all. */
	cfg_diff(a, a, &d);
	assert_false(d.restart);
	assert_int_equal(cfg_diff_count(&d, CFG_UNCHANGED), 4);
	cfg_free(a);
}

/* An old and a new entry matched by name keep both indexes. */
static void test_indexes(void **state)
{
	struct cfg *a = edited("", "");
	struct cfg *b = edited("  - name: vm1\n", "  - name: vm0\n    ports:\n      - {name: vm0.0, socket: /tmp/vm0.sock, mac: \"52:54:00:00:00:10\"}\n  - name: vm1\n");
	struct cfg_diff d;
	const struct cfg_diff_entry *e;

	(void)state;
	cfg_diff(a, b, &d);
	e = entry(&d, "vm2.0");
	assert_non_null(e);
	assert_int_equal(e->old_idx, 1);
	assert_int_equal(e->new_idx, 2);
	assert_int_equal(e->change, CFG_UNCHANGED);
	e = entry(&d, "vm0.0");
	assert_int_equal(e->old_idx, -1);
	assert_int_equal(e->new_idx, 0);
	assert_int_equal(cfg_diff_count(&d, CFG_ADDED), 1);
	cfg_free(a);
	cfg_free(b);
}

static int by_offset(const void *x, const void *y)
{
	const struct cfg_field *f = x, *g = y;

	return f->off < g->off ? -1 : f->off > g->off;
}

/* Laid out again from the table, each struct comes out exactly as the
 * compiler laid it out: no field is missing from the table. */
static void test_every_field_classed(void **state)
{
	(void)state;
	for (int s = 0; s < CFG_STRUCT_MAX; s++) {
		size_t n, size, align, off = 0;
		const struct cfg_field *t = cfg_fields((enum cfg_struct)s, &n,
						       &size, &align);
		struct cfg_field sorted[64];

		assert_true(n > 0 && n <= 64);
		memcpy(sorted, t, n * sizeof(*t));
		qsort(sorted, n, sizeof(*t), by_offset);
		for (size_t i = 0; i < n; i++) {
			off = (off + sorted[i].align - 1) / sorted[i].align *
			      sorted[i].align;
			if (off != sorted[i].off)
				fail_msg("struct %d: a field before %s is not classed (table at %zu, struct at %zu)",
					 s, sorted[i].key, off, sorted[i].off);
			off += sorted[i].size;
		}
		off = (off + align - 1) / align * align;
		if (off != size)
			fail_msg("struct %d: a field after the last classed one (%s) is not classed",
				 s, sorted[n - 1].key);
	}
}

static bool classed(const char *key)
{
	size_t klen = strlen(key);

	for (int s = 0; s < CFG_STRUCT_MAX; s++) {
		size_t n, size, align;
		const struct cfg_field *t = cfg_fields((enum cfg_struct)s, &n,
						       &size, &align);

		for (size_t i = 0; i < n; i++) {
			size_t tlen = strlen(t[i].key);

			/* the key itself, a field under it (a section), or
			 * a field classing the mapping it is in */
			if (strcmp(t[i].key, key) == 0 ||
			    (strncmp(t[i].key, key, klen) == 0 &&
			     t[i].key[klen] == '.') ||
			    (strncmp(key, t[i].key, tlen) == 0 && key[tlen] == '.'))
				return true;
		}
	}
	return false;
}

/* Every key the parser takes is named by the classification. */
static void test_every_key_classed(void **state)
{
	static const char *const sections[][2] = {
		{ "", "" }, { "lcores", "lcores" }, { "memory", "memory" },
		{ "control", "control" }, { "fdb", "fdb" }, { "eal", "eal" },
		{ "membership", "membership" },
		{ "defaults", "membership.defaults" },
		{ "datapath", "datapath" }, { "socket_dir", "socket_dir" },
		{ "uplink", "uplink" }, { "vm", "vm" }, { "port", "port" },
		{ "overlay", "overlay" }, { "cluster", "cluster" },
	};

	(void)state;
	for (size_t s = 0; s < sizeof(sections) / sizeof(sections[0]); s++) {
		const char *const *keys = cfg_schema_keys(sections[s][0]);

		assert_non_null(keys);
		for (; *keys != NULL; keys++) {
			char key[64];

			snprintf(key, sizeof(key), "%s%s%s", sections[s][1],
				 sections[s][1][0] != '\0' ? "." : "", *keys);
			if (!classed(key))
				fail_msg("config key %s is not classed in cfg_diff.c",
					 key);
		}
	}
	assert_null(cfg_schema_keys("nosuch"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_rows),
		cmocka_unit_test(test_indexes),
		cmocka_unit_test(test_every_field_classed),
		cmocka_unit_test(test_every_key_classed),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
