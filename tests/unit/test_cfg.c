/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * test_cfg: the YAML port map parser without an EAL.  A full file is read
 * back field by field, defaults are checked, then one table row per kind of
 * mistake asserts NULL + EINVAL and a "t.yaml:LINE:COL:" line saying what
 * is wrong.  CPUs come from a seam (0..3), so results do not depend on the
 * machine.  Run from tests/unit: the shipped configs are ../../config/.
 */
#include <errno.h>
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

static bool cpus_0_to_3(unsigned int cpu)
{
	return cpu < 4;
}

static bool cpus_0_to_255(unsigned int cpu)
{
	return cpu < 256;
}

/* Parses text as "t.yaml"; *errs gets what was reported (free it). */
static struct cfg *parse_with(const char *text, char **errs,
			      cfg_cpu_present_fn cpus)
{
	size_t size;
	FILE *f = open_memstream(errs, &size);
	struct cfg *cfg;
	int e;

	assert_non_null(f);
	cfg = cfg_parse("t.yaml", text, strlen(text), f, cpus);
	e = errno;
	fclose(f);
	errno = e;
	return cfg;
}

/* Is there a line starting with where that contains phrase? */
static bool has_line(const char *errs, const char *where, const char *phrase)
{
	const char *line = errs;

	while (line != NULL && *line != '\0') {
		const char *end = strchr(line, '\n');
		size_t len = end != NULL ? (size_t)(end - line) : strlen(line);
		const char *hit = strstr(line, phrase);

		if (strncmp(line, where, strlen(where)) == 0 && hit != NULL &&
		    hit < line + len)
			return true;
		line = end != NULL ? end + 1 : NULL;
	}
	return false;
}

/* Checks one bad file; says what went wrong instead of stopping, so that
 * a table run shows every failing row at once. */
static bool check_error(const char *text, const char *where,
			const char *phrase, cfg_cpu_present_fn cpus)
{
	char *errs = NULL;
	struct cfg *cfg = parse_with(text, &errs, cpus);
	int e = errno;
	bool ok = cfg == NULL && e == EINVAL && has_line(errs, where, phrase);

	if (!ok)
		print_error("want \"%s ...%s...\"\ngot %s, errno %d and:\n%s",
			    where, phrase, cfg != NULL ? "a config" : "NULL",
			    e, errs);
	cfg_free(cfg);
	free(errs);
	return ok;
}

static void expect_error(const char *text, const char *where,
			 const char *phrase)
{
	assert_true(check_error(text, where, phrase, cpus_0_to_3));
}

static struct cfg *expect_ok(const char *text)
{
	char *errs = NULL;
	struct cfg *cfg = parse_with(text, &errs, cpus_0_to_3);

	if (cfg == NULL)
		print_error("unexpected errors:\n%s", errs);
	assert_non_null(cfg);
	assert_string_equal(errs, "");
	free(errs);
	return cfg;
}

/* One VM, one port (lines 1-4). */
#define VM1 "vms:\n" \
	"  - name: vm1\n" \
	"    ports:\n" \
	"      - {name: vm1.0, socket: /run/vtoe/vm1.0.sock, mac: \"52:54:00:00:01:01\"}\n"
/* A port in block style: its keys start on line 5, values after 8 spaces. */
#define PORT_HEAD "vms:\n" \
	"  - name: vm1\n" \
	"    ports:\n" \
	"      - name: vm1.0\n"
#define SOCK "        socket: /run/vtoe/vm1.0.sock\n"
#define MAC "        mac: \"52:54:00:00:01:01\"\n"
#define VM2_HEAD "  - name: vm2\n" \
	"    ports:\n" \
	"      - name: vm2.0\n"

static const char full_yaml[] =
	"lcores: {main: 2, workers: [1, 3]}\n"
	"memory: {hugepages: none, mbufs: 8192}\n"
	"control: {socket: /tmp/vtoe/ctl.sock, mode: \"0600\"}\n"
	"fdb: {size: 65536, ageing: 60}\n"
	"eal: {file_prefix: vt-test, args: [\"--log-level=lib.eal:info\", --no-pci]}\n"
	"socket_dir: {path: /run/vtoe, group: root, mode: \"0770\"}\n"
	"uplinks:\n"
	"  - {name: up0, device: \"net_tap0,iface=vtoe0\"}\n"
	"  - {name: up1, device: \"0000:3b:02.0\"}\n"
	"vms:\n"
	"  - name: vm1\n"
	"    ports:\n"
	"      - {name: vm1.0, socket: /run/vtoe/vm1.0.sock, mode: server,\n"
	"         mac: \"52:54:00:00:01:01\", queues: 2, uplink: up1, weight: 10,\n"
	"         owner: root, group: 0, perms: \"0660\"}\n"
	"      - {name: vm1.1, socket: /run/vtoe/vm1.1.sock, mode: client,\n"
	"         mac: \"52:54:00:00:01:02\", offloads: false, takeover: newest}\n"
	"  - name: vm2\n"
	"    ports:\n"
	"      - name: vm2.0\n"
	"        socket: /run/vtoe/vm2.0.sock\n"
	"        mac: 52:54:00:AB:02:01\n"
	"        uplink: up0\n"
	"        weight: 1000\n"
	"        queues: 8\n";

static void test_full(void **state)
{
	static const uint8_t mac[6] = { 0x52, 0x54, 0x00, 0xab, 0x02, 0x01 };
	struct cfg *cfg = expect_ok(full_yaml);

	(void)state;
	assert_string_equal(cfg->path, "t.yaml");
	assert_int_equal(cfg->main_lcore, 2);
	assert_int_equal(cfg->n_workers, 2);
	assert_int_equal(cfg->workers[0], 1);
	assert_int_equal(cfg->workers[1], 3);
	assert_int_equal(cfg->hugepages, CFG_HUGEPAGES_NONE);
	assert_int_equal(cfg->mbufs, 8192);
	assert_string_equal(cfg->ctl_socket, "/tmp/vtoe/ctl.sock");
	assert_int_equal(cfg->ctl_mode, 0600);
	assert_int_equal(cfg->fdb_size, 65536);
	assert_int_equal(cfg->fdb_ageing_s, 60);
	assert_string_equal(cfg->eal_file_prefix, "vt-test");
	assert_int_equal(cfg->n_eal_args, 2);
	assert_string_equal(cfg->eal_args[0], "--log-level=lib.eal:info");
	assert_string_equal(cfg->eal_args[1], "--no-pci");

	assert_int_equal(cfg->n_uplinks, 2);
	assert_string_equal(cfg->uplinks[0].name, "up0");
	assert_string_equal(cfg->uplinks[0].device, "net_tap0,iface=vtoe0");
	assert_string_equal(cfg->uplinks[1].device, "0000:3b:02.0");

	assert_int_equal(cfg->n_vms, 2);
	assert_string_equal(cfg->vms[0].name, "vm1");
	assert_int_equal(cfg->vms[0].port_first, 0);
	assert_int_equal(cfg->vms[0].n_ports, 2);
	assert_string_equal(cfg->vms[1].name, "vm2");
	assert_int_equal(cfg->vms[1].port_first, 2);
	assert_int_equal(cfg->vms[1].n_ports, 1);

	assert_int_equal(cfg->n_ports, 3);
	assert_string_equal(cfg->ports[0].name, "vm1.0");
	assert_string_equal(cfg->ports[0].socket, "/run/vtoe/vm1.0.sock");
	assert_int_equal(cfg->ports[0].mode, CFG_VHOST_SERVER);
	assert_int_equal(cfg->ports[0].queues, 2);
	assert_int_equal(cfg->ports[0].uplink, 1);
	assert_int_equal(cfg->ports[0].weight, 10);
	assert_int_equal(cfg->ports[0].vm, 0);
	assert_true(cfg->ports[0].offloads);    /* the default */
	assert_int_equal(cfg->ports[1].mode, CFG_VHOST_CLIENT);
	assert_false(cfg->ports[1].offloads);
	assert_false(cfg->ports[0].takeover_newest);    /* refuse */
	assert_true(cfg->ports[1].takeover_newest);
	assert_int_equal(cfg->ports[1].uplink, -1);
	assert_int_equal(cfg->ports[1].vm, 0);
	/* who may connect: by name or number; unset is -1 / 0 */
	assert_int_equal(cfg->ports[0].sock_owner, 0);
	assert_int_equal(cfg->ports[0].sock_group, 0);
	assert_int_equal(cfg->ports[0].sock_perms, 0660);
	assert_int_equal(cfg->ports[1].sock_owner, -1);
	assert_int_equal(cfg->ports[1].sock_group, -1);
	assert_int_equal(cfg->ports[1].sock_perms, 0);
	assert_string_equal(cfg->sockdir, "/run/vtoe");
	assert_int_equal(cfg->sockdir_group, 0);
	assert_int_equal(cfg->sockdir_mode, 0770);
	assert_string_equal(cfg->ports[2].name, "vm2.0");
	assert_memory_equal(cfg->ports[2].mac, mac, 6);
	assert_int_equal(cfg->ports[2].uplink, 0);
	assert_int_equal(cfg->ports[2].weight, 1000);
	assert_int_equal(cfg->ports[2].queues, 8);
	assert_int_equal(cfg->ports[2].vm, 1);
	cfg_free(cfg);
}

static void test_defaults(void **state)
{
	static const uint8_t mac[6] = { 0x52, 0x54, 0x00, 0x00, 0x01, 0x01 };
	struct cfg *cfg = expect_ok(VM1);

	(void)state;
	assert_int_equal(cfg->main_lcore, 0);
	assert_int_equal(cfg->n_workers, 1);
	assert_int_equal(cfg->workers[0], 1);
	assert_int_equal(cfg->hugepages, CFG_HUGEPAGES_AUTO);
	assert_int_equal(cfg->mbufs, 16384);
	assert_string_equal(cfg->ctl_socket, "/run/vtoe/vtoed.sock");
	assert_int_equal(cfg->ctl_mode, 0660);
	assert_int_equal(cfg->fdb_size, 4096);
	assert_int_equal(cfg->fdb_ageing_s, 300);
	assert_string_equal(cfg->eal_file_prefix, "vtoed");
	assert_int_equal(cfg->n_eal_args, 0);
	assert_int_equal(cfg->n_uplinks, 0);
	assert_int_equal(cfg->n_vms, 1);
	assert_int_equal(cfg->n_ports, 1);
	assert_int_equal(cfg->ports[0].mode, CFG_VHOST_SERVER);
	assert_memory_equal(cfg->ports[0].mac, mac, 6);
	assert_int_equal(cfg->ports[0].queues, 1);
	assert_int_equal(cfg->ports[0].uplink, -1);
	assert_int_equal(cfg->ports[0].weight, 1);
	assert_int_equal(cfg->membership, CFG_MEMBERSHIP_STATIC);
	assert_true(cfg->direct);       /* datapath: {direct: true} */
	cfg_free(cfg);
}

static void test_shared_cpu_workers(void **state)
{
	struct cfg *cfg;

	(void)state;
	cfg = expect_ok("lcores: {main: 0, workers: [1, \"2@1\", \"3@1\"]}\n" VM1);
	assert_int_equal(cfg->n_workers, 3);
	assert_int_equal(cfg->workers[0], 1);
	assert_int_equal(cfg->worker_cpus[0], 1);
	assert_int_equal(cfg->workers[1], 2);
	assert_int_equal(cfg->worker_cpus[1], 1);
	assert_int_equal(cfg->workers[2], 3);
	assert_int_equal(cfg->worker_cpus[2], 1);
	cfg_free(cfg);
}

static void test_membership(void **state)
{
	struct cfg *cfg;
	uint64_t ms = 0;

	(void)state;
	cfg = expect_ok("membership: {source: libvirt}\n" VM1);
	assert_int_equal(cfg->membership, CFG_MEMBERSHIP_LIBVIRT);
	assert_string_equal(cfg->membership_uri, "qemu:///system");
	assert_int_equal(cfg->membership_mode, CFG_MEMBERSHIP_EVENTS);
	cfg_free(cfg);

	cfg = expect_ok("membership:\n  source: libvirt\n"
			"  uri: \"test+unix:///default?socket=/tmp/l.sock\"\n"
			"  mode: poll\n  interval: 250ms\n" VM1);
	assert_string_equal(cfg->membership_uri,
			    "test+unix:///default?socket=/tmp/l.sock");
	assert_int_equal(cfg->membership_mode, CFG_MEMBERSHIP_POLL);
	assert_int_equal(cfg->membership_interval_ms, 250);
	cfg_free(cfg);

	cfg = expect_ok("membership: {source: static}\n" VM1);
	assert_int_equal(cfg->membership, CFG_MEMBERSHIP_STATIC);
	assert_false(cfg->attach_auto);
	cfg_free(cfg);

	cfg = expect_ok("uplinks: [{name: up0, device: net_null0}]\n"
			"membership: {source: libvirt, attach: auto,\n"
			"  sockets: [/run/vtoe, /var/lib/libvirt/qemu/],\n"
			"  defaults: {uplink: up0, weight: 3, offloads: false, group: root, perms: \"0660\"}}\n" VM1);
	assert_true(cfg->attach_auto);
	assert_int_equal(cfg->n_attach_dirs, 2);
	assert_string_equal(cfg->attach_dirs[0], "/run/vtoe/");
	assert_string_equal(cfg->attach_dirs[1], "/var/lib/libvirt/qemu/");
	assert_int_equal(cfg->attach_defaults.uplink, 0);
	assert_int_equal(cfg->attach_defaults.weight, 3);
	assert_false(cfg->attach_defaults.offloads);
	assert_int_equal(cfg->attach_defaults.sock_group, 0);
	assert_int_equal(cfg->attach_defaults.sock_perms, 0660);
	cfg_free(cfg);

	cfg = expect_ok("datapath: {direct: false}\n" VM1);
	assert_false(cfg->direct);
	cfg_free(cfg);

	assert_int_equal(cfg_interval_parse("2", &ms), 0);
	assert_int_equal(ms, 2000);
	assert_int_equal(cfg_interval_parse("3s", &ms), 0);
	assert_int_equal(ms, 3000);
	assert_int_equal(cfg_interval_parse("1m", &ms), 0);
	assert_int_equal(ms, 60000);
	assert_int_equal(cfg_interval_parse("-1s", &ms), -EINVAL);
	assert_int_equal(cfg_interval_parse("1 s", &ms), -EINVAL);
	assert_int_equal(cfg_interval_parse("99999999999ms", &ms), -EINVAL);
	assert_int_equal(cfg_interval_parse("", &ms), -EINVAL);
}

/* Files an operator may well write, which must be accepted. */
static void test_accepted_variants(void **state)
{
	static const struct {
		const char *text;
		uint32_t ctl_mode;
	} cases[] = {
		/* every entry under a section commented out */
		{ "uplinks:\n#  - {name: up0, device: net_null0}\n" VM1, 0660 },
		{ "eal: {args: []}\n" VM1, 0660 },
		{ "control: {mode: 660}\n" VM1, 0660 },
		{ "control: {mode: 0o640}\n" VM1, 0640 },
		{ "control: {mode: \"0600\"}\n" VM1, 0600 },
		{ "control: {mode: '0'}\n" VM1, 0 },
		{ "lcores: {workers: [3, 2]}\n" VM1, 0660 },
		{ "%YAML 1.1\n---\n" VM1 "...\n", 0660 },
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct cfg *cfg = expect_ok(cases[i].text);

		assert_int_equal(cfg->ctl_mode, cases[i].ctl_mode);
		cfg_free(cfg);
	}
}

struct bad_case {
	const char *what;
	const char *text;
	const char *where;      /* "t.yaml:LINE:COL:" */
	const char *phrase;
};

static const struct bad_case bad_cases[] = {
	/* the document */
	{ "empty file", "", "t.yaml:1:1:", "file is empty" },
	{ "only comments", "# nothing yet\n", "t.yaml:1:1:", "file is empty" },
	{ "document is a list", "- vm1\n- vm2\n", "t.yaml:1:1:",
	  "must be a mapping of sections" },
	{ "document is a scalar", "vtoed\n", "t.yaml:1:1:",
	  "must be a mapping of sections" },
	{ "syntax: unclosed flow list", "vms: [\n", "t.yaml:2:1:",
	  "YAML syntax error" },
	{ "syntax: bad indentation", VM1 "   bad: 1\n", "t.yaml:5:4:",
	  "YAML syntax error" },
	{ "syntax: tab indentation", "vms:\n\t- name: vm1\n", "t.yaml:2:1:",
	  "YAML syntax error" },
	{ "syntax: undefined alias", "vms: *nothing\n", "t.yaml:1:6:",
	  "YAML syntax error: found undefined alias" },
	{ "control character", "vms: \x01\n", "t.yaml:1:6:",
	  "cannot read: control characters are not allowed" },
	{ "second document", VM1 "---\n" VM1, "t.yaml:6:1:",
	  "second YAML document" },
	{ "unknown section", "vm:\n  - name: vm1\n" VM1, "t.yaml:1:1:",
	  "unknown key \"vm\" (allowed: lcores, memory, control, fdb, eal, membership, datapath, socket_dir, networks, overlay, cluster, uplinks, vms)" },
	{ "datapath direct not a boolean", "datapath: {direct: yes}\n" VM1,
	  "t.yaml:1:20:", "datapath: direct \"yes\" is not true or false" },
	{ "datapath unknown key", "datapath: {zero_copy: true}\n" VM1,
	  "t.yaml:1:12:", "datapath: unknown key \"zero_copy\" (allowed: direct)" },
	{ "datapath a list", "datapath: [direct]\n" VM1, "t.yaml:1:11:",
	  "datapath must be a mapping" },
	{ "section twice", "memory: {mbufs: 2048}\nmemory: {mbufs: 4096}\n" VM1,
	  "t.yaml:2:1:", "key \"memory\" is given twice (first on line 1)" },
	{ "non-scalar key", "[a, b]: 1\n" VM1, "t.yaml:1:1:",
	  "keys must be plain words, not a list" },
	{ "no vms", "memory: {mbufs: 2048}\n", "t.yaml:1:1:",
	  "missing required section \"vms\"" },
	{ "vms empty list", "vms: []\n", "t.yaml:1:6:", "vms is empty" },
	{ "vms null", "memory: {}\nvms:\n", "t.yaml:2:5:", "vms is empty" },
	{ "vms a scalar", "vms: vm1\n", "t.yaml:1:6:",
	  "vms must be a list of" },

	/* lcores */
	{ "lcores unknown key", "lcores: {main: 0, worker: [1]}\n" VM1,
	  "t.yaml:1:19:", "lcores: unknown key \"worker\" (allowed: main, workers, poll, max_sleep, rebalance)" },
	{ "lcores a list", "lcores: [0, 1]\n" VM1, "t.yaml:1:9:",
	  "lcores must be a mapping like {main: 0, workers: [1]}, not a list" },
	{ "worker not a CPU here", "lcores: {main: 0, workers: [1, 7]}\n" VM1,
	  "t.yaml:1:32:",
	  "worker 7 is not a CPU this process may run on (usable: 0-3)" },
	{ "main not a CPU here", "lcores: {main: 9, workers: [1]}\n" VM1,
	  "t.yaml:1:16:", "main 9 is not a CPU" },
	{ "main is a worker", "lcores: {main: 1, workers: [2, 1]}\n" VM1,
	  "t.yaml:1:32:", "worker 1 is also the main lcore" },
	{ "main is the default worker", "lcores: {main: 1}\n" VM1,
	  "t.yaml:1:9:", "worker 1 is also the main lcore" },
	{ "worker twice", "lcores: {main: 0, workers: [1, 2, 1]}\n" VM1,
	  "t.yaml:1:35:", "worker 1 is listed twice" },
	{ "no workers", "lcores: {main: 0, workers: []}\n" VM1,
	  "t.yaml:1:28:", "workers is empty" },
	{ "workers a scalar", "lcores: {main: 0, workers: 1}\n" VM1,
	  "t.yaml:1:28:", "workers must be a list of CPU numbers" },
	{ "worker a mapping", "lcores: {workers: [{cpu: 1}]}\n" VM1,
	  "t.yaml:1:20:", "worker must be a single value, not a mapping" },
	{ "main not a number", "lcores: {main: zero}\n" VM1, "t.yaml:1:16:",
	  "main \"zero\" is not a whole number" },
	{ "worker with trailing garbage", "lcores: {workers: [1x]}\n" VM1,
	  "t.yaml:1:20:", "worker \"1x\" is not a whole number" },
	{ "worker a float", "lcores: {workers: [1.0]}\n" VM1,
	  "t.yaml:1:20:", "is not a whole number" },
	{ "main negative", "lcores: {main: -1}\n" VM1, "t.yaml:1:16:",
	  "main -1 must not be negative" },
	{ "main overflows", "lcores: {main: 99999999999999999999999}\n" VM1,
	  "t.yaml:1:16:", "main 99999999999999999999999 is too large" },
	{ "main empty", "lcores: {main: }\n" VM1, "t.yaml:1:16:",
	  "main is empty" },

	/* memory */
	{ "hugepages not auto|none", "memory: {hugepages: yes}\n" VM1,
	  "t.yaml:1:21:", "hugepages \"yes\" is not auto or none" },
	{ "mbufs too few", "memory: {mbufs: 100}\n" VM1, "t.yaml:1:17:",
	  "mbufs 100 is too small (min 1024)" },
	{ "mbufs absurd", "memory: {mbufs: 1000000000}\n" VM1, "t.yaml:1:17:",
	  "mbufs 1000000000 is too large" },
	{ "mbufs with unit", "memory: {mbufs: 16k}\n" VM1, "t.yaml:1:17:",
	  "is not a whole number" },
	{ "mbufs leading zero", "memory: {mbufs: 02048}\n" VM1,
	  "t.yaml:1:17:", "has a leading zero" },
	{ "mbufs quoted hex", "memory: {mbufs: \"0x4000\"}\n" VM1,
	  "t.yaml:1:17:", "is not a whole number" },
	{ "memory a scalar", "memory: auto\n" VM1, "t.yaml:1:9:",
	  "memory must be a mapping" },
	{ "memory unknown key", "memory: {hugepage: auto}\n" VM1,
	  "t.yaml:1:10:", "memory: unknown key \"hugepage\" (allowed: hugepages, mbufs)" },

	/* control */
	{ "mode not octal", "control: {mode: \"0999\"}\n" VM1, "t.yaml:1:17:",
	  "mode \"0999\" is not an octal permission" },
	{ "mode beyond 0777", "control: {mode: \"04770\"}\n" VM1,
	  "t.yaml:1:17:", "is not an octal permission" },
	{ "mode a word", "control: {mode: rw}\n" VM1, "t.yaml:1:17:",
	  "is not an octal permission" },
	{ "mode empty", "control: {mode: \"\"}\n" VM1, "t.yaml:1:17:",
	  "is not an octal permission" },
	{ "control socket relative", "control: {socket: vtoed.sock}\n" VM1,
	  "t.yaml:1:19:", "must be an absolute path" },
	{ "control socket empty", "control: {socket: \"\"}\n" VM1,
	  "t.yaml:1:19:", "control: socket is empty" },
	{ "control socket too long",
	  "control: {socket: /run/vtoe/aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa.sock}\n" VM1,
	  "t.yaml:1:19:", "socket is too long (127 characters, max 107)" },
	{ "port socket is the control socket",
	  "control: {socket: /run/vtoe/vm1.0.sock}\n" VM1, "t.yaml:5:31:",
	  "socket /run/vtoe/vm1.0.sock is the control socket" },

	/* fdb */
	{ "fdb too small", "fdb: {size: 8}\n" VM1, "t.yaml:1:13:",
	  "fdb: size 8 is too small (min 64)" },
	{ "fdb too large", "fdb: {size: 2000000}\n" VM1, "t.yaml:1:13:",
	  "size 2000000 is too large (max 1048576)" },
	{ "ageing zero", "fdb: {ageing: 0}\n" VM1, "t.yaml:1:15:",
	  "ageing 0 is too small (min 1)" },
	{ "ageing over a day", "fdb: {ageing: 100000}\n" VM1, "t.yaml:1:15:",
	  "ageing 100000 is too large (max 86400)" },

	/* eal */
	{ "file_prefix too long",
	  "eal: {file_prefix: abcdefghijabcdefghijabcdefghijabcdefghij}\n" VM1,
	  "t.yaml:1:20:", "file_prefix is too long (40 characters, max 31)" },
	{ "file_prefix with slash", "eal: {file_prefix: a/b}\n" VM1,
	  "t.yaml:1:20:", "may only use letters, digits" },
	{ "eal args a scalar", "eal: {args: --no-pci}\n" VM1, "t.yaml:1:13:",
	  "args must be a list" },
	{ "eal arg a mapping", "eal: {args: [{a: b}]}\n" VM1, "t.yaml:1:14:",
	  "each arg must be a single value, not a mapping" },
	{ "eal arg empty", "eal: {args: [\"\"]}\n" VM1, "t.yaml:1:14:",
	  "an arg is empty" },
	{ "eal unknown key", "eal: {prefix: x}\n" VM1, "t.yaml:1:7:",
	  "eal: unknown key \"prefix\" (allowed: file_prefix, args)" },

	/* uplinks */
	{ "uplinks a mapping", "uplinks: {name: up0}\n" VM1, "t.yaml:1:10:",
	  "uplinks must be a list" },
	{ "uplink a scalar", "uplinks: [up0]\n" VM1, "t.yaml:1:11:",
	  "each uplink must be a mapping" },
	{ "uplink without device", "uplinks:\n  - {name: up0}\n" VM1,
	  "t.yaml:2:5:", "uplink \"up0\": missing required key \"device\"" },
	{ "uplink without name", "uplinks:\n  - {device: net_null0}\n" VM1,
	  "t.yaml:2:5:", "uplink 1: missing required key \"name\"" },
	{ "uplink unknown key",
	  "uplinks:\n  - {name: up0, device: net_null0, mac: \"52:54:00:00:00:01\"}\n" VM1,
	  "t.yaml:2:36:", "unknown key \"mac\" (allowed: name, device, rate, queue_packets, queue_bytes, mtu, offloads)" },
	{ "uplink rate garbage",
	  "uplinks:\n  - {name: up0, device: net_null0, rate: fast}\n" VM1,
	  "t.yaml:2:42:", "rate \"fast\" is not a rate" },
	{ "uplink rate in bytes",
	  "uplinks:\n  - {name: up0, device: net_null0, rate: 10MB}\n" VM1,
	  "t.yaml:2:42:", "rate \"10MB\" is not a rate" },
	{ "uplink rate zero",
	  "uplinks:\n  - {name: up0, device: net_null0, rate: 0Mbit}\n" VM1,
	  "t.yaml:2:42:", "rate \"0Mbit\" is not a rate" },
	{ "uplink rate negative",
	  "uplinks:\n  - {name: up0, device: net_null0, rate: -5Gbit}\n" VM1,
	  "t.yaml:2:42:", "rate \"-5Gbit\" is not a rate" },
	{ "uplink rate too slow",
	  "uplinks:\n  - {name: up0, device: net_null0, rate: 1kbit}\n" VM1,
	  "t.yaml:2:42:", "at least 64kbit" },
	{ "uplink queue_packets 0",
	  "uplinks:\n  - {name: up0, device: net_null0, queue_packets: 0}\n" VM1,
	  "t.yaml:2:51:", "queue_packets 0 is too small" },
	{ "uplink queue_bytes below a jumbo frame",
	  "uplinks:\n  - {name: up0, device: net_null0, queue_bytes: 1000}\n" VM1,
	  "t.yaml:2:49:", "queue_bytes 1000 is too small" },
	{ "port offloads not a boolean",
	  PORT_HEAD SOCK MAC "        offloads: yes\n", "t.yaml:7:19:",
	  "offloads \"yes\" is not true or false" },
	{ "port takeover not a policy",
	  PORT_HEAD SOCK MAC "        takeover: oldest\n", "t.yaml:7:19:",
	  "takeover \"oldest\" is not refuse or newest" },
	{ "uplink name twice",
	  "uplinks:\n  - {name: up0, device: net_null0}\n  - {name: up0, device: net_null1}\n" VM1,
	  "t.yaml:3:12:", "uplink name \"up0\" is used twice" },
	{ "uplink device twice",
	  "uplinks:\n  - {name: up0, device: \"net_tap0,iface=a\"}\n  - {name: up1, device: \"net_tap0,iface=b\"}\n" VM1,
	  "t.yaml:3:25:", "device \"net_tap0\" is already used by uplink \"up0\"" },
	{ "uplink device empty", "uplinks:\n  - {name: up0, device: \"\"}\n" VM1,
	  "t.yaml:2:25:", "uplink \"up0\": device is empty" },
	{ "port names a missing uplink",
	  "uplinks:\n  - {name: up0, device: net_null0}\n" PORT_HEAD SOCK MAC
	  "        uplink: up9\n",
	  "t.yaml:9:17:", "uplink \"up9\" does not exist (uplinks: up0)" },
	{ "port names an uplink when there are none",
	  PORT_HEAD SOCK MAC "        uplink: up0\n",
	  "t.yaml:7:17:", "does not exist (no uplinks are defined)" },
	{ "port name is an uplink name",
	  "uplinks:\n  - {name: vm1.0, device: net_null0}\n" VM1, "t.yaml:6:16:",
	  "port name \"vm1.0\" is also the name of an uplink" },

	/* vms */
	{ "vm a scalar", "vms: [vm1]\n", "t.yaml:1:7:",
	  "each vm must be a mapping" },
	{ "vm without name",
	  "vms:\n  - ports: [{name: a, socket: /a, mac: \"52:54:00:00:00:01\"}]\n",
	  "t.yaml:2:5:", "vm 1: missing required key \"name\"" },
	{ "vm without ports", "vms:\n  - name: vm1\n", "t.yaml:2:5:",
	  "vm \"vm1\": missing required key \"ports\"" },
	{ "vm with empty ports", "vms:\n  - name: vm1\n    ports: []\n",
	  "t.yaml:3:12:", "vm \"vm1\": ports is empty" },
	{ "vm with null ports", "vms:\n  - name: vm1\n    ports:\n",
	  "t.yaml:3:11:", "ports is empty" },
	{ "vm ports a mapping", "vms:\n  - name: vm1\n    ports: {name: a}\n",
	  "t.yaml:3:12:", "ports must be a list" },
	{ "vm unknown key", VM1 "    memory: 1G\n", "t.yaml:5:5:",
	  "vm \"vm1\": unknown key \"memory\" (allowed: name, ports, metadata)" },
	{ "vm name twice",
	  VM1 "  - name: vm1\n    ports:\n      - {name: vm1.1, socket: /b, mac: \"52:54:00:00:01:02\"}\n",
	  "t.yaml:5:11:", "vm name \"vm1\" is used twice" },
	{ "vm name with a space", "vms:\n  - name: my vm\n    ports: []\n",
	  "t.yaml:2:11:", "\"my vm\" may only use letters, digits, '.', '_' and '-'" },
	{ "vm name too long",
	  "vms:\n  - name: abcdefghijabcdefghijabcdefghijab\n    ports: []\n",
	  "t.yaml:2:11:", "name is too long (32 characters, max 31)" },
	{ "vm name empty", "vms:\n  - name: \"\"\n    ports: []\n",
	  "t.yaml:2:11:", "vm 1: name is empty" },
	{ "vm name with NUL", "vms:\n  - name: \"a\\0b\"\n    ports: []\n",
	  "t.yaml:2:11:", "name contains a NUL character" },

	/* ports */
	{ "port a list", "vms:\n  - name: vm1\n    ports:\n      - [a, b]\n",
	  "t.yaml:4:9:", "each port must be a mapping" },
	{ "port unknown key", PORT_HEAD SOCK MAC "        macaddr: x\n",
	  "t.yaml:7:9:",
	  "port \"vm1.0\": unknown key \"macaddr\" (allowed: name, socket, mode, mac, queues, uplink, weight, offloads, takeover, owner, group, perms, network, ip, allowed, port_security, gateway, dns, toe, impair)" },
	{ "poll word", "lcores: {poll: lazy}\n" VM1, "t.yaml:1:16:",
	  "poll \"lazy\" is not adaptive, busy or interrupt" },
	{ "rebalance word", "lcores: {rebalance: on}\n" VM1, "t.yaml:1:21:",
	  "lcores: rebalance \"on\" is not off or auto" },
	{ "rebalance key", "lcores: {rebalance: {mode: auto, every: 1}}\n" VM1, "t.yaml:1:34:",
	  "unknown key \"every\" (allowed: mode, load, period, improvement)" },
	{ "rebalance load", "lcores: {rebalance: {load: 101%}}\n" VM1, "t.yaml:1:28:",
	  "rebalance load \"101%\" is not a percentage from 10% to 100%" },
	{ "rebalance period", "lcores: {rebalance: {period: 0s}}\n" VM1, "t.yaml:1:30:",
	  "rebalance period \"0s\" is not a duration from 1s to 60m" },
	{ "rebalance improvement", "lcores: {rebalance: {improvement: 0}}\n" VM1, "t.yaml:1:35:",
	  "rebalance improvement \"0\" is not a percentage from 1% to 100%" },
	{ "max_sleep unit", "lcores: {max_sleep: 2s}\n" VM1, "t.yaml:1:21:",
	  "max_sleep \"2s\" is not a duration from 1us to 10ms" },
	{ "max_sleep too long", "lcores: {max_sleep: 11ms}\n" VM1, "t.yaml:1:21:",
	  "is not a duration" },
	{ "max_sleep zero", "lcores: {max_sleep: 0}\n" VM1, "t.yaml:1:21:",
	  "is not a duration" },
	{ "network unknown", PORT_HEAD SOCK MAC "        network: green\n",
	  "t.yaml:7:18:", "network \"green\" is not in networks: (known: default)" },
	{ "network vlan range", "networks: [{name: blue, vlan: 4095}]\n" VM1,
	  "t.yaml:1:31:", "vlan" },
	{ "network vlan word", "networks: [{name: blue, vlan: any}]\n" VM1,
	  "t.yaml:1:31:", "vlan" },
	{ "network twice", "networks: [{name: blue, vlan: 1}, {name: blue, vlan: 2}]\n" VM1,
	  "t.yaml:1:35:", "network name \"blue\" is used twice" },
	{ "networks share a vlan", "networks: [{name: blue, vlan: 7}, {name: red, vlan: 7}]\n" VM1,
	  "t.yaml:1:35:", "networks \"blue\" and \"red\" both use vlan 7" },
	{ "two untagged networks", "networks: [{name: blue, vlan: none}]\n" VM1,
	  "t.yaml:1:12:", "networks \"default\" and \"blue\" are both untagged" },
	{ "port ip bad", PORT_HEAD SOCK MAC "        ip: 10.0.0.300/24\n",
	  "t.yaml:7:13:", "ip \"10.0.0.300/24\" is not an address" },
	{ "port ip prefix", PORT_HEAD SOCK MAC "        ip: [\"2001:db8::1/129\"]\n",
	  "t.yaml:7:14:", "is not an address" },
	{ "allowed empty entry", PORT_HEAD SOCK MAC "        allowed: [{}]\n",
	  "t.yaml:7:19:", "allowed entry names neither a mac nor an ip" },
	{ "allowed multicast mac", PORT_HEAD SOCK MAC "        allowed: [{mac: \"01:00:5e:00:00:01\"}]\n",
	  "t.yaml:7:25:", "is not a unicast MAC address" },
	{ "port_security word", PORT_HEAD SOCK MAC "        port_security: yes\n",
	  "t.yaml:7:24:", "port_security \"yes\" is not true or false" },
	{ "port_security key", PORT_HEAD SOCK MAC "        port_security: {dhcp: true}\n",
	  "t.yaml:7:25:", "unknown key \"dhcp\"" },
	{ "port owner unknown", PORT_HEAD SOCK MAC "        owner: nosuchuser-vtoe\n",
	  "t.yaml:7:16:", "owner \"nosuchuser-vtoe\" is no user of this host" },
	{ "port group unknown", PORT_HEAD SOCK MAC "        group: nosuchgroup-vtoe\n",
	  "t.yaml:7:16:", "group \"nosuchgroup-vtoe\" is no group of this host" },
	{ "port perms not octal", PORT_HEAD SOCK MAC "        perms: \"0968\"\n",
	  "t.yaml:7:16:", "perms" },
	{ "port perms in client mode", PORT_HEAD SOCK MAC "        mode: client\n        perms: \"0660\"\n",
	  "t.yaml:8:16:", "perms needs mode: server (in client mode QEMU creates the socket" },
	{ "socket_dir without path", "socket_dir: {group: root}\n" PORT_HEAD SOCK MAC,
	  "t.yaml:1:13:", "socket_dir: missing required key \"path\"" },
	{ "socket_dir relative", "socket_dir: {path: run/vtoe}\n" PORT_HEAD SOCK MAC,
	  "t.yaml:1:20:", "must be an absolute path" },
	{ "port key twice", PORT_HEAD SOCK MAC MAC, "t.yaml:7:9:",
	  "key \"mac\" is given twice (first on line 6)" },
	{ "port without name",
	  "vms:\n  - name: vm1\n    ports:\n      - socket: /a\n        mac: \"52:54:00:00:01:01\"\n",
	  "t.yaml:4:9:", "vm \"vm1\" port 1: missing required key \"name\"" },
	{ "port without socket", PORT_HEAD MAC, "t.yaml:4:9:",
	  "port \"vm1.0\": missing required key \"socket\"" },
	{ "port without mac", PORT_HEAD SOCK, "t.yaml:4:9:",
	  "port \"vm1.0\": missing required key \"mac\"" },
	{ "port name too long",
	  "vms:\n  - name: vm1\n    ports:\n      - name: vm1.abcdefghijabcdefghijabcdefghij\n" SOCK MAC,
	  "t.yaml:4:15:", "name is too long (34 characters, max 31)" },
	{ "port socket relative", PORT_HEAD "        socket: vm1.sock\n" MAC,
	  "t.yaml:5:17:", "port \"vm1.0\": socket \"vm1.sock\" must be an absolute path" },
	{ "port socket too long",
	  PORT_HEAD "        socket: /run/vtoe/aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa.sock\n" MAC,
	  "t.yaml:5:17:", "socket is too long (114 characters, max 107)" },
	{ "port socket a list", PORT_HEAD "        socket: [/a]\n" MAC,
	  "t.yaml:5:17:", "socket must be a single value, not a list" },
	{ "port mode unknown", PORT_HEAD SOCK MAC "        mode: listen\n",
	  "t.yaml:7:15:", "mode \"listen\" is not server or client" },
	{ "mac not hex", PORT_HEAD SOCK "        mac: \"52:54:00:zz:01:01\"\n",
	  "t.yaml:6:14:",
	  "port \"vm1.0\": mac \"52:54:00:zz:01:01\" is not a MAC address (want six hex pairs like 52:54:00:00:01:01)" },
	{ "mac too short", PORT_HEAD SOCK "        mac: \"52:54:00:00:01\"\n",
	  "t.yaml:6:14:", "is not a MAC address" },
	{ "mac too long", PORT_HEAD SOCK "        mac: \"52:54:00:00:01:01:02\"\n",
	  "t.yaml:6:14:", "is not a MAC address" },
	{ "mac with dashes", PORT_HEAD SOCK "        mac: 52-54-00-00-01-01\n",
	  "t.yaml:6:14:", "is not a MAC address" },
	{ "mac multicast", PORT_HEAD SOCK "        mac: \"01:00:5e:00:00:01\"\n",
	  "t.yaml:6:14:", "mac 01:00:5e:00:00:01 is a multicast address" },
	{ "mac broadcast", PORT_HEAD SOCK "        mac: \"ff:ff:ff:ff:ff:ff\"\n",
	  "t.yaml:6:14:", "is the broadcast address" },
	{ "mac all zeros", PORT_HEAD SOCK "        mac: \"00:00:00:00:00:00\"\n",
	  "t.yaml:6:14:", "is all zeros" },
	{ "mac a mapping", PORT_HEAD SOCK "        mac: {a: 1}\n",
	  "t.yaml:6:14:", "mac must be a single value, not a mapping" },
	{ "mac twice",
	  PORT_HEAD SOCK MAC VM2_HEAD "        socket: /run/vtoe/vm2.0.sock\n" MAC,
	  "t.yaml:11:14:",
	  "port \"vm2.0\": mac 52:54:00:00:01:01 is already used by port \"vm1.0\"" },
	{ "port name twice",
	  VM1 "  - name: vm2\n    ports:\n      - {name: vm1.0, socket: /b, mac: \"52:54:00:00:02:01\"}\n",
	  "t.yaml:7:16:", "port name \"vm1.0\" is used twice (also in vm \"vm1\")" },
	{ "socket twice",
	  PORT_HEAD SOCK MAC VM2_HEAD SOCK "        mac: \"52:54:00:00:02:01\"\n",
	  "t.yaml:10:17:",
	  "socket /run/vtoe/vm1.0.sock is already used by port \"vm1.0\"" },
	{ "queues zero", PORT_HEAD SOCK MAC "        queues: 0\n",
	  "t.yaml:7:17:", "queues 0 is too small (min 1)" },
	{ "queues above max", PORT_HEAD SOCK MAC "        queues: 9\n",
	  "t.yaml:7:17:", "queues 9 is too large (max 8)" },
	{ "queues a word", PORT_HEAD SOCK MAC "        queues: two\n",
	  "t.yaml:7:17:", "queues \"two\" is not a whole number" },
	{ "weight zero", PORT_HEAD SOCK MAC "        weight: 0\n",
	  "t.yaml:7:17:", "weight 0 is too small (min 1)" },
	{ "weight above 1000", PORT_HEAD SOCK MAC "        weight: 1001\n",
	  "t.yaml:7:17:", "weight 1001 is too large (max 1000)" },
	{ "weight negative", PORT_HEAD SOCK MAC "        weight: -5\n",
	  "t.yaml:7:17:", "weight -5 must not be negative" },
	{ "weight overflows", PORT_HEAD SOCK MAC "        weight: 18446744073709551616\n",
	  "t.yaml:7:17:", "is too large (max 1000)" },

	/* shared-CPU workers */
	{ "worker LCORE@CPU garbage", "lcores: {workers: [\"a@1\"]}\n" VM1,
	  "t.yaml:1:20:", "worker \"a@1\" is not a CPU number or LCORE@CPU" },
	{ "worker LCORE@ without CPU", "lcores: {workers: [\"2@\"]}\n" VM1,
	  "t.yaml:1:20:", "is not a CPU number or LCORE@CPU" },
	{ "worker LCORE@CPU on a missing CPU", "lcores: {workers: [\"2@9\"]}\n" VM1,
	  "t.yaml:1:20:", "worker 9 is not a CPU this process may run on" },
	{ "worker LCORE@CPU lcore id too large",
	  "lcores: {workers: [\"200@1\"]}\n" VM1, "t.yaml:1:20:",
	  "lcore id 200 is too large (max 127)" },
	{ "worker LCORE@CPU on the main CPU", "lcores: {workers: [\"2@0\"]}\n" VM1,
	  "t.yaml:1:20:", "worker 0 is also the main lcore" },
	{ "worker lcore twice", "lcores: {workers: [1, \"1@2\"]}\n" VM1,
	  "t.yaml:1:23:", "worker 1 is listed twice" },

	/* membership */
	{ "membership source unknown", "membership: {source: xen}\n" VM1,
	  "t.yaml:1:22:", "membership: source \"xen\" is not static or libvirt" },
	{ "membership uri without libvirt",
	  "membership: {uri: \"qemu:///system\"}\n" VM1, "t.yaml:1:19:",
	  "membership: uri needs source: libvirt" },
	{ "membership mode without libvirt",
	  "membership: {source: static, mode: poll}\n" VM1, "t.yaml:1:36:",
	  "membership: mode needs source: libvirt" },
	{ "membership mode unknown",
	  "membership: {source: libvirt, mode: push}\n" VM1, "t.yaml:1:37:",
	  "membership: mode \"push\" is not events or poll" },
	{ "membership interval with events",
	  "membership: {source: libvirt, interval: 1s}\n" VM1, "t.yaml:1:41:",
	  "membership: interval needs mode: poll" },
	{ "membership interval not a duration",
	  "membership: {source: libvirt, mode: poll, interval: soon}\n" VM1,
	  "t.yaml:1:53:", "membership: interval \"soon\" is not a duration" },
	{ "membership interval too short",
	  "membership: {source: libvirt, mode: poll, interval: 1ms}\n" VM1,
	  "t.yaml:1:53:", "is not a duration from 10ms to 1h" },
	{ "membership interval too long",
	  "membership: {source: libvirt, mode: poll, interval: 2h}\n" VM1,
	  "t.yaml:1:53:", "is not a duration" },
	{ "membership uri empty",
	  "membership: {source: libvirt, uri: \"\"}\n" VM1,
	  "t.yaml:1:36:", "uri is empty" },
	{ "membership unknown key",
	  "membership: {source: libvirt, url: x}\n" VM1, "t.yaml:1:31:",
	  "unknown key \"url\" (allowed: source, uri, mode, interval, attach, sockets, defaults)" },
	{ "attach with static membership", "membership: {attach: auto}\n" VM1,
	  "t.yaml:1:22:", "membership: attach needs source: libvirt" },
	{ "attach without sockets", "membership: {source: libvirt, attach: auto}\n" VM1,
	  "t.yaml:1:13:", "attach: auto needs sockets: [DIR, ...]" },
	{ "attach sockets with a .. step",
	  "membership: {source: libvirt, attach: auto, sockets: [/run/vtoe/../etc]}\n" VM1,
	  "t.yaml:1:55:", "must be a plain absolute directory" },
	{ "attach sockets relative",
	  "membership: {source: libvirt, attach: auto, sockets: [run/vtoe]}\n" VM1,
	  "t.yaml:1:55:", "must be an absolute path" },
	{ "sockets without attach",
	  "membership: {source: libvirt, sockets: [/run/vtoe]}\n" VM1,
	  "t.yaml:1:40:", "membership: sockets needs attach: auto" },
	{ "attach defaults unknown uplink",
	  "membership: {source: libvirt, attach: auto, sockets: [/run/vtoe], defaults: {uplink: up9}}\n" VM1,
	  "t.yaml:1:86:", "uplink \"up9\" does not exist" },
	{ "attach defaults unknown key",
	  "membership: {source: libvirt, attach: auto, sockets: [/run/vtoe], defaults: {mac: x}}\n" VM1,
	  "t.yaml:1:78:", "unknown key \"mac\"" },
	{ "membership a list", "membership: [libvirt]\n" VM1, "t.yaml:1:13:",
	  "membership must be a mapping" },
};

static void test_bad_cases(void **state)
{
	unsigned int failed = 0;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(bad_cases) / sizeof(bad_cases[0]); i++) {
		if (!check_error(bad_cases[i].text, bad_cases[i].where,
				 bad_cases[i].phrase, cpus_0_to_3)) {
			print_error("^ bad case \"%s\"\n", bad_cases[i].what);
			failed++;
		}
	}
	assert_int_equal(failed, 0);
}

/* Every problem is reported, not just the first. */
static void test_all_problems_reported(void **state)
{
	char *errs = NULL;
	struct cfg *cfg;
	int lines = 0;
	const char *c;

	(void)state;
	cfg = parse_with("memory: {mbufs: 1}\n"
			 "fdb: {size: 1}\n"
			 PORT_HEAD SOCK "        mac: \"ff:ff:ff:ff:ff:ff\"\n",
			 &errs, cpus_0_to_3);
	assert_null(cfg);
	assert_int_equal(errno, EINVAL);
	for (c = errs; *c != '\0'; c++)
		lines += *c == '\n';
	assert_int_equal(lines, 3);
	assert_true(has_line(errs, "t.yaml:1:17:", "mbufs"));
	assert_true(has_line(errs, "t.yaml:2:13:", "size"));
	assert_true(has_line(errs, "t.yaml:8:14:", "broadcast"));
	free(errs);

	/* ...and a refused value does not echo into others: workers are not
	 * compared with a main lcore that was refused. */
	cfg = parse_with("lcores: {main: zero, workers: [0]}\n" VM1, &errs,
			 cpus_0_to_3);
	assert_null(cfg);
	assert_string_equal(errs, "t.yaml:1:16: lcores: main \"zero\" is not a whole number\n");
	free(errs);
}

/* The limits, on files generated with one entry too many. */
static void test_too_many(void **state)
{
	size_t cap = 256 * 1024, len;
	char *text = malloc(cap);
	char where[32], phrase[64];
	int i;

	(void)state;
	assert_non_null(text);

	len = (size_t)snprintf(text, cap, "lcores: {main: 0, workers: [1");
	for (i = 2; i <= CFG_MAX_WORKERS + 1; i++)
		len += (size_t)snprintf(text + len, cap - len, ", %d", i);
	snprintf(where, sizeof(where), "t.yaml:1:%zu:",
		 len - strlen(", 65") + 3);
	snprintf(text + len, cap - len, "]}\n" VM1);
	assert_true(check_error(text, where, "too many workers (max 64)",
				cpus_0_to_255));

	len = (size_t)snprintf(text, cap, "eal: {args: [");
	for (i = 0; i < CFG_MAX_EAL_ARGS; i++)
		len += (size_t)snprintf(text + len, cap - len, "x, ");
	snprintf(text + len, cap - len, "y]}\n" VM1);
	snprintf(where, sizeof(where), "t.yaml:1:%zu:", len + 1);
	expect_error(text, where, "too many args (max 16)");

	len = (size_t)snprintf(text, cap, "uplinks:\n");
	for (i = 0; i <= CFG_MAX_UPLINKS; i++)
		len += (size_t)snprintf(text + len, cap - len,
					"  - {name: up%d, device: net_null%d}\n",
					i, i);
	snprintf(text + len, cap - len, VM1);
	snprintf(where, sizeof(where), "t.yaml:%d:5:", CFG_MAX_UPLINKS + 2);
	expect_error(text, where, "too many uplinks (max 8)");

	/* one VM with a port more than the limit */
	len = (size_t)snprintf(text, cap, "vms:\n  - name: vm1\n    ports:\n");
	for (i = 0; i <= CFG_MAX_PORTS; i++)
		len += (size_t)snprintf(text + len, cap - len,
					"      - {name: p%d, socket: /s%d, mac: \"52:54:00:00:%02x:%02x\"}\n",
					i, i, i >> 8, i & 0xff);
	snprintf(where, sizeof(where), "t.yaml:%d:9:", CFG_MAX_PORTS + 4);
	expect_error(text, where, "too many ports");

	/* uplinks count against the same limit: 1 uplink + the limit in ports */
	len = (size_t)snprintf(text, cap,
			       "uplinks: [{name: up, device: net_null0}]\n"
			       "vms:\n  - name: vm1\n    ports:\n");
	for (i = 0; i < CFG_MAX_PORTS; i++)
		len += (size_t)snprintf(text + len, cap - len,
					"      - {name: p%d, socket: /s%d, mac: \"52:54:00:00:%02x:%02x\"}\n",
					i, i, i >> 8, i & 0xff);
	snprintf(where, sizeof(where), "t.yaml:%d:9:", CFG_MAX_PORTS + 4);
	expect_error(text, where, "vhost ports and uplinks together");

	/* a VM more than the limit, of one port each: the VM limit is
	 * reached first */
	len = (size_t)snprintf(text, cap, "vms:\n");
	for (i = 0; i <= CFG_MAX_VMS; i++)
		len += (size_t)snprintf(text + len, cap - len,
					"  - {name: vm%d, ports: [{name: p%d, socket: /s%d, mac: \"52:54:00:00:%02x:%02x\"}]}\n",
					i, i, i, i >> 8, i & 0xff);
	snprintf(where, sizeof(where), "t.yaml:%d:5:", CFG_MAX_VMS + 2);
	snprintf(phrase, sizeof(phrase), "too many VMs (max %d)", CFG_MAX_VMS);
	expect_error(text, where, phrase);
	free(text);
}

static void test_load(void **state)
{
	static const char *const files[] = {
		"../../config/vtoed.yaml",
		"../../config/examples/two-vms-uplink.yaml",
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
		struct cfg *cfg = cfg_load(files[i], stderr, cpus_0_to_3);

		print_message("load: %s\n", files[i]);
		assert_non_null(cfg);
		assert_string_equal(cfg->path, files[i]);
		cfg_free(cfg);
	}
}

/* The shipped default is what the README's main job runs. */
static void test_default_file(void **state)
{
	static const uint8_t mac1[6] = { 0x52, 0x54, 0x00, 0x00, 0x01, 0x01 };
	static const uint8_t mac2[6] = { 0x52, 0x54, 0x00, 0x00, 0x02, 0x01 };
	struct cfg *cfg = cfg_load("../../config/vtoed.yaml", stderr,
				   cpus_0_to_3);

	(void)state;
	assert_non_null(cfg);
	assert_int_equal(cfg->main_lcore, 0);
	assert_int_equal(cfg->n_workers, 1);
	assert_int_equal(cfg->workers[0], 1);
	assert_int_equal(cfg->hugepages, CFG_HUGEPAGES_AUTO);
	assert_int_equal(cfg->mbufs, 16384);
	assert_string_equal(cfg->ctl_socket, "/run/vtoe/vtoed.sock");
	assert_int_equal(cfg->ctl_mode, 0660);
	assert_int_equal(cfg->n_uplinks, 0);
	assert_int_equal(cfg->n_vms, 2);
	assert_string_equal(cfg->vms[0].name, "vm1");
	assert_string_equal(cfg->vms[1].name, "vm2");
	assert_int_equal(cfg->n_ports, 2);
	assert_string_equal(cfg->ports[0].name, "vm1.0");
	assert_string_equal(cfg->ports[0].socket, "/run/vtoe/vm1.0.sock");
	assert_int_equal(cfg->ports[0].mode, CFG_VHOST_SERVER);
	assert_memory_equal(cfg->ports[0].mac, mac1, 6);
	assert_int_equal(cfg->ports[0].queues, 1);
	assert_string_equal(cfg->ports[1].name, "vm2.0");
	assert_string_equal(cfg->ports[1].socket, "/run/vtoe/vm2.0.sock");
	assert_memory_equal(cfg->ports[1].mac, mac2, 6);
	assert_int_equal(cfg->ports[1].vm, 1);
	cfg_free(cfg);
}

static void test_load_errors(void **state)
{
	char *errs = NULL;
	size_t size;
	FILE *f = open_memstream(&errs, &size);
	struct cfg *cfg;

	(void)state;
	assert_non_null(f);
	cfg = cfg_load("no-such-dir/vtoed.yaml", f, cpus_0_to_3);
	assert_int_equal(errno, ENOENT);
	assert_null(cfg);
	cfg = cfg_load(".", f, cpus_0_to_3);
	assert_int_equal(errno, EISDIR);
	assert_null(cfg);
	fclose(f);
	assert_true(has_line(errs, "no-such-dir/vtoed.yaml: ",
			     "cannot open: No such file or directory"));
	assert_true(has_line(errs, ".: ", "cannot read: Is a directory"));
	free(errs);

	/* err may be NULL */
	cfg = cfg_parse("t.yaml", "vms: []\n", 8, NULL, cpus_0_to_3);
	assert_null(cfg);
	assert_int_equal(errno, EINVAL);
	cfg_free(NULL);
}

static void test_poll(void **state)
{
	struct cfg *cfg = expect_ok(VM1);

	(void)state;
	assert_int_equal(cfg->poll, CFG_POLL_ADAPTIVE);
	assert_int_equal(cfg->max_sleep_us, 1000);
	cfg_free(cfg);
	cfg = expect_ok("lcores: {poll: busy, max_sleep: 2ms}\n" VM1);
	assert_int_equal(cfg->poll, CFG_POLL_BUSY);
	assert_int_equal(cfg->max_sleep_us, 2000);
	cfg_free(cfg);
	cfg = expect_ok("lcores: {poll: adaptive, max_sleep: 40}\n" VM1);
	assert_int_equal(cfg->poll, CFG_POLL_ADAPTIVE);
	assert_int_equal(cfg->max_sleep_us, 40);
	assert_false(cfg->rebalance_auto);
	assert_int_equal(cfg->rebalance_load_pct, 95);
	assert_int_equal(cfg->rebalance_period_s, 60);
	assert_int_equal(cfg->rebalance_improvement_pct, 25);
	cfg_free(cfg);
	cfg = expect_ok("lcores: {poll: interrupt, rebalance: auto}\n" VM1);
	assert_int_equal(cfg->poll, CFG_POLL_INTERRUPT);
	assert_true(cfg->rebalance_auto);
	cfg_free(cfg);
	cfg = expect_ok("lcores: {rebalance: {load: 80%, period: 2m, improvement: 10}}\n" VM1);
	assert_true(cfg->rebalance_auto);
	assert_int_equal(cfg->rebalance_load_pct, 80);
	assert_int_equal(cfg->rebalance_period_s, 120);
	assert_int_equal(cfg->rebalance_improvement_pct, 10);
	cfg_free(cfg);
	cfg = expect_ok("lcores: {rebalance: {mode: off, period: 5s}}\n" VM1);
	assert_false(cfg->rebalance_auto);
	assert_int_equal(cfg->rebalance_period_s, 5);
	cfg_free(cfg);
}

static void test_networks(void **state)
{
	static const char text[] =
		"networks: [{name: blue, vlan: 100}, {name: red, vlan: 200}, {name: default, vlan: 5}]\n"
		"vms:\n"
		"  - name: vm1\n"
		"    ports:\n"
		"      - {name: vm1.0, socket: /run/vtoe/vm1.0.sock, mac: \"52:54:00:00:01:01\", network: blue,\n"
		"         ip: [10.0.0.11/24, \"2001:db8::11/64\"], allowed: [{mac: \"00:00:5e:00:01:07\", ip: 10.0.0.100}, {ip: 10.0.0.12}],\n"
		"         port_security: {dhcp_server: true}}\n"
		"  - name: vm2\n"
		"    ports:\n"
		/* the same MAC in another network */
		"      - {name: vm2.0, socket: /run/vtoe/vm2.0.sock, mac: \"52:54:00:00:01:01\", network: red, port_security: false}\n"
		"      - {name: vm2.1, socket: /run/vtoe/vm2.1.sock, mac: \"52:54:00:00:02:02\"}\n";
	struct cfg *cfg = expect_ok(text);
	const struct cfg_port *p = &cfg->ports[0];

	(void)state;
	assert_int_equal(cfg->n_networks, 3);
	assert_string_equal(cfg->networks[0].name, "default");
	assert_int_equal(cfg->networks[0].vlan, 5);
	assert_string_equal(cfg->networks[1].name, "blue");
	assert_int_equal(cfg->networks[1].vlan, 100);
	assert_int_equal(cfg->networks[2].vlan, 200);
	assert_int_equal(p->network, 1);
	assert_true(p->port_security);
	assert_true(p->allow_dhcp_server);
	assert_false(p->allow_ra);
	assert_int_equal(p->n_ips, 2);
	assert_int_equal(p->ips[0].family, 4);
	assert_int_equal(p->ips[0].prefix, 24);
	assert_int_equal(p->ips[0].addr[3], 11);
	assert_int_equal(p->ips[1].family, 6);
	assert_int_equal(p->ips[1].addr[15], 0x11);
	assert_int_equal(p->n_allowed, 2);
	assert_true(p->allowed[0].has_mac && p->allowed[0].has_ip);
	assert_int_equal(p->allowed[0].ip.addr[3], 100);
	assert_false(p->allowed[1].has_mac);
	assert_int_equal(cfg->ports[1].network, 2);
	assert_false(cfg->ports[1].port_security);
	assert_int_equal(cfg->ports[2].network, 0);
	assert_true(cfg->ports[2].port_security);
	cfg_free(cfg);

	/* the same MAC twice in one network is still refused */
	expect_error("networks: [{name: blue, vlan: 100}]\n"
		     "vms:\n"
		     "  - name: vm1\n"
		     "    ports:\n"
		     "      - {name: vm1.0, socket: /run/vtoe/vm1.0.sock, mac: \"52:54:00:00:01:01\", network: blue}\n"
		     "      - {name: vm1.1, socket: /run/vtoe/vm1.1.sock, mac: \"52:54:00:00:01:01\", network: blue}\n",
		     "t.yaml:6:58:", "is already used by port \"vm1.0\"");
	/* an untagged network is fine when "default" has no port */
	cfg = expect_ok("networks: [{name: blue, vlan: none}]\n"
			"vms:\n"
			"  - name: vm1\n"
			"    ports:\n"
			"      - {name: vm1.0, socket: /run/vtoe/vm1.0.sock, mac: \"52:54:00:00:01:01\", network: blue}\n");
	assert_int_equal(cfg->networks[1].vlan, 0);
	cfg_free(cfg);
}

/* The port's endpoint: gateway, dns, toe and the VM's metadata. */
static void test_toe_keys(void **state)
{
#define TOE_VM(meta, port) \
	"vms:\n  - name: vm1\n" meta "    ports:\n" \
	"      - {name: vm1.0, socket: /run/vtoe/vm1.0.sock, mac: \"52:54:00:00:01:01\"" port "}\n"
	struct cfg *cfg;
	const struct cfg_port *p;

	(void)state;
	cfg = expect_ok(TOE_VM("    metadata: {instance_id: i-0001, hostname: web-1.example}\n",
			       ", ip: [\"2001:db8::11/64\", 10.0.0.11/24], gateway: 10.0.0.1, dns: [10.0.0.2, 9.9.9.9]"));
	p = &cfg->ports[0];
	assert_true(p->has_gateway);
	assert_memory_equal(p->gateway, ((uint8_t[]){ 10, 0, 0, 1 }), 4);
	assert_int_equal(p->n_dns, 2);
	assert_int_equal(p->dns[1][0], 9);
	assert_true(p->toe_dhcp);                       /* on with an IPv4 ip */
	assert_true(p->toe_metadata);
	assert_true(p->toe_iperf3);
	assert_false(p->imds_v2_only);
	assert_string_equal(p->hostname, "web-1.example");
	assert_string_equal(p->instance_id, "i-0001");
	cfg_free(cfg);

	/* no ip: no endpoint; the hostname defaults to the VM's name */
	cfg = expect_ok(TOE_VM("", ""));
	assert_false(cfg->ports[0].toe_dhcp);
	assert_false(cfg->ports[0].toe_metadata);
	assert_string_equal(cfg->ports[0].hostname, "vm1");
	assert_string_equal(cfg->ports[0].instance_id, "");
	cfg_free(cfg);
	/* an IPv6 address alone: no DHCPv4 */
	cfg = expect_ok(TOE_VM("", ", ip: \"2001:db8::11/64\""));
	assert_false(cfg->ports[0].toe_dhcp);
	cfg_free(cfg);
	cfg = expect_ok(TOE_VM("", ", ip: 10.0.0.11/24, toe: {dhcp: false}"));
	assert_false(cfg->ports[0].toe_dhcp);
	assert_true(cfg->ports[0].toe_metadata);
	cfg_free(cfg);

	expect_error(TOE_VM("", ", toe: {dhcp: true}"), "t.yaml:4:91:",
		     "toe: dhcp needs an IPv4 ip: on the port");
	expect_error(TOE_VM("", ", ip: 10.0.0.11/24, toe: {dhcp: true, iperf: true}"),
		     "t.yaml:4:115:", "unknown key \"iperf\" (allowed: dhcp, metadata, iperf3, congestion)");
	expect_error(TOE_VM("", ", ip: 10.0.0.11/24, toe: yes"), "t.yaml:4:102:",
		     "toe must be a mapping");
	expect_error(TOE_VM("", ", gateway: 10.0.0.1"), "t.yaml:4:88:",
		     "gateway needs an IPv4 ip: on the port");
	expect_error(TOE_VM("", ", ip: 10.0.0.11/24, gateway: 10.0.1.1"), "t.yaml:4:106:",
		     "gateway 10.0.1.1 is not another address of the port's subnet (ip 10.0.0.11/24)");
	expect_error(TOE_VM("", ", ip: 10.0.0.11/24, gateway: 10.0.0.11"), "t.yaml:4:106:",
		     "is not another address");
	expect_error(TOE_VM("", ", ip: 10.0.0.11/24, gateway: 10.0.0.255"), "t.yaml:4:106:",
		     "is not another address");
	expect_error(TOE_VM("", ", ip: 10.0.0.11/24, gateway: 10.0.0.0"), "t.yaml:4:106:",
		     "is not another address");
	expect_error(TOE_VM("", ", ip: 10.0.0.11/24, gateway: \"2001:db8::1\""), "t.yaml:4:106:",
		     "gateway \"2001:db8::1\" is not an IPv4 address");
	expect_error(TOE_VM("", ", ip: 10.0.0.11/24, dns: [1.1.1.1, 2.2.2.2, 3.3.3.3, 4.4.4.4, 5.5.5.5]"),
		     "t.yaml:4:139:", "dns: too many servers (max 4)");
	expect_error(TOE_VM("    metadata: {hostname: \"a b\"}\n", ""), "t.yaml:3:26:",
		     "metadata: hostname \"a b\" is not a host name");
	expect_error(TOE_VM("    metadata: {instance_id: \"i\\\"x\"}\n", ""), "t.yaml:3:29:",
		     "metadata: instance_id \"i\"x\" is not printable text");
	expect_error(TOE_VM("    metadata: {user: x}\n", ""), "t.yaml:3:16:",
		     "unknown key \"user\"");
	expect_error(TOE_VM("    metadata: {user_data: /nonexistent/ud}\n", ""), "t.yaml:3:27:",
		     "metadata: user_data /nonexistent/ud is not a readable file");
	expect_error(TOE_VM("    metadata: {imds: v3}\n", ""), "t.yaml:3:22:",
		     "imds \"v3\" is not v1-and-v2 or v2-only");
	cfg = expect_ok(TOE_VM("    metadata: {user_data: /etc/hostname, imds: v2-only}\n",
			       ", ip: 10.0.0.11/24, toe: {iperf3: false}"));
	assert_string_equal(cfg->ports[0].user_data, "/etc/hostname");
	assert_true(cfg->ports[0].imds_v2_only);
	assert_false(cfg->ports[0].toe_iperf3);
	assert_true(cfg->ports[0].toe_dhcp);
	assert_false(cfg->ports[0].toe_cubic);
	cfg_free(cfg);
	cfg = expect_ok(TOE_VM("", ", ip: 10.0.0.11/24, toe: {congestion: cubic}"));
	assert_true(cfg->ports[0].toe_cubic);
	cfg_free(cfg);
	expect_error(TOE_VM("", ", ip: 10.0.0.11/24, toe: {congestion: bbr}"), "t.yaml:4:",
		     "toe: congestion \"bbr\" is not newreno or cubic");
	expect_error(TOE_VM("    metadata: [a]\n", ""), "t.yaml:3:15:",
		     "metadata must be a mapping");
	/* the impairment stage */
	cfg = expect_ok(TOE_VM("", ", impair: {drop: 1%, reorder: 0.25%, delay: 5ms, direction: tx}"));
	assert_int_equal(cfg->ports[0].impair.drop_ppm, 10000);
	assert_int_equal(cfg->ports[0].impair.reorder_ppm, 2500);
	assert_int_equal(cfg->ports[0].impair.delay_us, 5000);
	assert_int_equal(cfg->ports[0].impair.dir, CFG_IMPAIR_TX);
	cfg_free(cfg);
	cfg = expect_ok(TOE_VM("", ", impair: {drop: 100%}"));
	assert_int_equal(cfg->ports[0].impair.drop_ppm, 1000000);
	assert_int_equal(cfg->ports[0].impair.dir, CFG_IMPAIR_RX | CFG_IMPAIR_TX);
	cfg_free(cfg);
	expect_error(TOE_VM("", ", impair: {drop: 1}"), "t.yaml:4:", "impair drop \"1\" is not a rate from 0% to 100%");
	expect_error(TOE_VM("", ", impair: {drop: 101%}"), "t.yaml:4:", "is not a rate");
	expect_error(TOE_VM("", ", impair: {delay: 2s}"), "t.yaml:4:", "impair delay \"2s\" is not a delay up to 1000ms");
	expect_error(TOE_VM("", ", impair: {direction: up}"), "t.yaml:4:", "impair direction \"up\" is not rx, tx or both");
	expect_error(TOE_VM("", ", impair: {loss: 1%}"), "t.yaml:4:", "unknown key \"loss\"");
#undef TOE_VM
}

static void test_mac(void **state)
{
	static const struct {
		const char *text;
		int ret;
		uint8_t mac[6];
	} cases[] = {
		{ "52:54:00:00:01:01", 0, { 0x52, 0x54, 0, 0, 1, 1 } },
		{ "FF:ee:0a:B0:c1:D2", 0, { 0xff, 0xee, 0x0a, 0xb0, 0xc1, 0xd2 } },
		{ "", -EINVAL, { 0 } },
		{ "52:54:00:00:01", -EINVAL, { 0 } },
		{ "52:54:00:00:01:", -EINVAL, { 0 } },
		{ "52:54:00:00:01:011", -EINVAL, { 0 } },
		{ "52:54:00:00:01:01:", -EINVAL, { 0 } },
		{ "5:54:00:00:01:01", -EINVAL, { 0 } },
		{ "52-54-00-00-01-01", -EINVAL, { 0 } },
		{ "g2:54:00:00:01:01", -EINVAL, { 0 } },
		{ " 52:54:00:00:01:01", -EINVAL, { 0 } },
	};
	uint8_t mac[6];
	char buf[18];
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		memset(mac, 0xaa, sizeof(mac));
		assert_int_equal(cfg_mac_parse(cases[i].text, mac), cases[i].ret);
		if (cases[i].ret == 0)
			assert_memory_equal(mac, cases[i].mac, 6);
	}
	cfg_mac_format(cases[1].mac, buf, sizeof(buf));
	assert_string_equal(buf, "ff:ee:0a:b0:c1:d2");
}

/* overlay:, cluster: and networks with a vni. */
static void test_overlay_keys(void **state)
{
#define OVL_UP "uplinks: [{name: up0, device: net_tap0}, {name: up1, device: net_tap1}]\n"
#define OVL_NETS "networks: [{name: blue, vni: 5001}, {name: red, vlan: 100}]\n"
#define OVL_VM(port) \
	"vms:\n  - name: vm1\n    ports:\n" \
	"      - {name: vm1.0, socket: /run/vtoe/vm1.0.sock, mac: \"52:54:00:00:01:01\", network: blue" port "}\n"
#define OVL_SECT "overlay: {local_ip: 192.0.2.1/24, uplink: up0}\n"
#define CL_SECT "cluster: {etcd: [\"http://127.0.0.1:2379\", \"http://127.0.0.1:22379\"], host: host-a, ttl: 3s}\n"
	struct cfg *cfg;

	(void)state;
	cfg = expect_ok(OVL_UP OVL_NETS OVL_SECT CL_SECT OVL_VM(""));
	assert_true(cfg->has_overlay);
	assert_memory_equal(cfg->ovl_local_ip, ((uint8_t[]){ 192, 0, 2, 1 }), 4);
	assert_int_equal(cfg->ovl_prefix, 24);
	assert_int_equal(cfg->ovl_uplink, 0);
	assert_int_equal(cfg->ovl_udp_port, 4789);
	assert_false(cfg->ovl_has_gateway);
	assert_true(cfg->has_cluster);
	assert_int_equal(cfg->n_cluster_etcd, 2);
	assert_string_equal(cfg->cluster_etcd[1], "http://127.0.0.1:22379");
	assert_string_equal(cfg->cluster_host, "host-a");
	assert_int_equal(cfg->cluster_ttl_s, 3);
	assert_string_equal(cfg->cluster_prefix, "/vtoe/");
	assert_int_equal(cfg->networks[1].vni, 5001);
	assert_int_equal(cfg->networks[1].vlan, 0);
	/* the port leaves through the overlay's uplink */
	assert_int_equal(cfg->ports[0].uplink, 0);
	cfg_free(cfg);

	cfg = expect_ok("uplinks: [{name: up0, device: net_tap0, mtu: 1600}]\n" OVL_NETS OVL_SECT CL_SECT OVL_VM(""));
	assert_int_equal(cfg->uplinks[0].mtu, 1600);
	assert_true(cfg->uplinks[0].offloads);          /* the default */
	cfg_free(cfg);
	/* the NIC's offloads, plain and in the tunnel, can be refused */
	cfg = expect_ok("uplinks: [{name: up0, device: net_tap0, offloads: false}]\n" OVL_NETS OVL_SECT CL_SECT OVL_VM(""));
	assert_false(cfg->uplinks[0].offloads);
	cfg_free(cfg);
	expect_error("uplinks: [{name: up0, device: net_tap0, offloads: maybe}]\n" OVL_NETS OVL_SECT CL_SECT OVL_VM(""),
		     "t.yaml:1:", "offloads");
	expect_error("uplinks: [{name: up0, device: net_tap0, mtu: 9000}]\n" OVL_NETS OVL_SECT CL_SECT OVL_VM(""),
		     "t.yaml:1:", "mtu");

	cfg = expect_ok(OVL_UP OVL_NETS
			"overlay: {local_ip: 192.0.2.1/24, uplink: up1, udp_port: 8472, gateway: 192.0.2.254}\n"
			"cluster: {etcd: [\"http://10.0.0.1:2379\"], host: b, prefix: /dc1}\n" OVL_VM(""));
	assert_int_equal(cfg->ports[0].uplink, 1);
	assert_int_equal(cfg->ovl_udp_port, 8472);
	assert_true(cfg->ovl_has_gateway);
	assert_string_equal(cfg->cluster_prefix, "/dc1/");
	assert_int_equal(cfg->cluster_ttl_s, 10);
	cfg_free(cfg);

	expect_error(OVL_UP OVL_NETS CL_SECT OVL_VM(""), "t.yaml:2:",
		     "network \"blue\" has a vni: it needs overlay:");
	expect_error(OVL_UP OVL_NETS OVL_SECT OVL_VM(""), "t.yaml:2:",
		     "it needs overlay: (this host's tunnel endpoint) and cluster:");
	expect_error(OVL_UP "networks: [{name: blue, vni: 5001, vlan: 7}]\n" OVL_SECT CL_SECT OVL_VM(""),
		     "t.yaml:2:", "vlan and vni");
	expect_error(OVL_UP "networks: [{name: blue, vni: 16777216}]\n" OVL_SECT CL_SECT OVL_VM(""),
		     "t.yaml:2:", "vni");
	expect_error(OVL_UP "networks: [{name: blue, vni: 7}, {name: red, vni: 7}]\n" OVL_SECT CL_SECT OVL_VM(""),
		     "t.yaml:1:", "both use vni 7");
	expect_error(OVL_UP OVL_NETS OVL_SECT CL_SECT OVL_VM(", uplink: up1"),
		     "t.yaml:8:", "which leaves through the overlay's uplink \"up0\"");
	expect_error(OVL_UP OVL_NETS "overlay: {local_ip: 192.0.2.1/24, uplink: up9}\n" CL_SECT OVL_VM(""),
		     "t.yaml:3:", "uplink \"up9\" is not in uplinks:");
	expect_error(OVL_UP OVL_NETS "overlay: {local_ip: 127.0.0.1, uplink: up0}\n" CL_SECT OVL_VM(""),
		     "t.yaml:3:", "cannot be a tunnel endpoint");
	expect_error(OVL_UP OVL_NETS "overlay: {local_ip: fe80::1, uplink: up0}\n" CL_SECT OVL_VM(""),
		     "t.yaml:3:", "is not an IPv4 address");
	expect_error(OVL_UP OVL_NETS "overlay: {local_ip: 192.0.2.1, uplink: up0, gateway: 192.0.2.254}\n" CL_SECT OVL_VM(""),
		     "t.yaml:3:", "gateway needs local_ip with its prefix length");
	expect_error(OVL_UP OVL_NETS "overlay: {local_ip: 192.0.2.1, uplink: up0, mtu: 9000}\n" CL_SECT OVL_VM(""),
		     "t.yaml:3:", "unknown key \"mtu\"");
	expect_error(OVL_UP OVL_NETS OVL_SECT "cluster: {etcd: [\"https://x:2379\"], host: a}\n" OVL_VM(""),
		     "t.yaml:4:", "is not an http://HOST:PORT URL");
	expect_error(OVL_UP OVL_NETS OVL_SECT "cluster: {etcd: [], host: a}\n" OVL_VM(""),
		     "t.yaml:4:", "want 1 to 8 endpoints");
	expect_error(OVL_UP OVL_NETS OVL_SECT "cluster: {etcd: [\"http://x:1\"], host: \"a b\"}\n" OVL_VM(""),
		     "t.yaml:4:", "is not a host name");
	expect_error(OVL_UP OVL_NETS OVL_SECT "cluster: {etcd: [\"http://x:1\"], host: a, ttl: 1s}\n" OVL_VM(""),
		     "t.yaml:4:", "whole number of seconds from 2s");
	expect_error(OVL_UP OVL_NETS OVL_SECT "cluster: {etcd: [\"http://x:1\"], host: a, prefix: \"vtoe\"}\n" OVL_VM(""),
		     "t.yaml:4:", "is not a key prefix");
	expect_error(OVL_UP "networks: [{name: red, vlan: 100}]\n" OVL_SECT CL_SECT
		     "vms:\n  - name: vm1\n    ports:\n      - {name: vm1.0, socket: /run/vtoe/vm1.0.sock, mac: \"52:54:00:00:01:01\"}\n",
		     "t.yaml:3:", "no network has a vni");
	expect_error(OVL_UP "networks: [{name: default, vni: 9}]\n" OVL_SECT CL_SECT OVL_VM(""),
		     "t.yaml:2:", "cannot be an overlay network");
#undef OVL_UP
#undef OVL_NETS
#undef OVL_VM
#undef OVL_SECT
#undef CL_SECT
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_full),
		cmocka_unit_test(test_defaults),
		cmocka_unit_test(test_membership),
		cmocka_unit_test(test_shared_cpu_workers),
		cmocka_unit_test(test_accepted_variants),
		cmocka_unit_test(test_bad_cases),
		cmocka_unit_test(test_all_problems_reported),
		cmocka_unit_test(test_too_many),
		cmocka_unit_test(test_load),
		cmocka_unit_test(test_default_file),
		cmocka_unit_test(test_load_errors),
		cmocka_unit_test(test_poll),
		cmocka_unit_test(test_networks),
		cmocka_unit_test(test_toe_keys),
		cmocka_unit_test(test_mac),
		cmocka_unit_test(test_overlay_keys),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
