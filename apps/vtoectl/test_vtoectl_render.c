/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * vtoectl's tables without a daemon: the result shapes of the control
 * contract render as the expected aligned text, and any other JSON (wrong
 * types, missing fields, escape sequences) renders without crashing.
 */
#include "vtoectl_render.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <jansson.h>

/* Render cmd's result (and args) given as JSON text; returns the output. */
static char *render(const char *cmd, const char *args_text,
		    const char *result_text)
{
	json_t *args = args_text ? json_loads(args_text, 0, NULL) : NULL;
	json_t *result = json_loads(result_text, JSON_DECODE_ANY, NULL);
	char *text = NULL;
	size_t size = 0;
	FILE *out = open_memstream(&text, &size);

	assert_non_null(out);
	assert_non_null(result);
	assert_int_equal(render_result(out, cmd, args, result), 0);
	fclose(out);
	json_decref(args);
	json_decref(result);
	return text;
}

static void expect_render(const char *cmd, const char *args,
			  const char *result, const char *want)
{
	char *text = render(cmd, args, result);

	assert_string_equal(text, want);
	free(text);
}

static void test_ports(void **state)
{
	(void)state;
	expect_render("ports", NULL,
		"[{\"name\":\"vm1.0\",\"vm\":\"vm1\",\"kind\":\"vhost\","
		"\"socket\":\"/run/vtoe/vm1.0.sock\",\"mode\":\"server\","
		"\"device\":null,\"mac\":\"52:54:00:00:01:01\",\"queues\":1,"
		"\"uplink\":\"up0\",\"weight\":1,\"link\":\"up\",\"origin\":\"libvirt\","
		"\"path\":\"coresident\",\"network\":\"blue\",\"port_security\":\"mac+ip\",\"owner\":{\"vid\":2,\"standby\":1,"
		"\"migrating_to\":\"/run/q/vm1.sock\",\"dirty_logging\":true}},"
		"{\"name\":\"up0\",\"vm\":null,\"kind\":\"uplink\","
		"\"socket\":null,\"mode\":null,\"device\":\"net_tap0\","
		"\"mac\":\"02:00:00:00:00:01\",\"queues\":2,\"uplink\":null,"
		"\"weight\":100,\"link\":\"down\",\"origin\":\"config\"}]",
		"NAME   KIND    VM   ORIGIN   LINK  PATH        NETWORK  SECURITY  MAC                QUEUES  WEIGHT  UPLINK  ENDPOINT                       OWNER\n"
		"vm1.0  vhost   vm1  libvirt  up    coresident  blue     mac+ip    52:54:00:00:01:01       1       1  up0     /run/vtoe/vm1.0.sock (server)  vid 2 +1 standby, logging, -> /run/q/vm1.sock\n"
		"up0    uplink  -    config   down  -           -        -         02:00:00:00:00:01       2     100  -       net_tap0                       -\n");
	/* fields missing or of another type */
	expect_render("ports", NULL, "[{\"name\":\"p\",\"socket\":true}]",
		"NAME  KIND  VM  ORIGIN  LINK  PATH  NETWORK  SECURITY  MAC  QUEUES  WEIGHT  UPLINK  ENDPOINT  OWNER\n"
		"p     -     -   -       -     -     -        -         -         -       -  -       true (-)  -\n");
}

#define STATS_RESULT \
	"{\"ports\":[{\"name\":\"vm1.0\",\"link\":\"up\",\"rx_packets\":12," \
	"\"rx_bytes\":1500,\"direct\":7,\"tx_packets\":3,\"tx_bytes\":180," \
	"\"drops_total\":13,\"drops\":{\"runt\":3,\"no_mbuf\":0," \
	"\"tx_full\":10},\"features\":\"0x8000\"," \
	"\"feature_names\":[\"MRG_RXBUF\",\"VERSION_1\"]}]}"
#define STATS_TABLE \
	"NAME   LINK  RX_PKTS  RX_BYTES  RX_DIRECT  TX_PKTS  TX_BYTES  DROPS\n" \
	"vm1.0  up         12      1500          7        3       180     13\n" \
	"\n" \
	"drops:\n" \
	"  vm1.0: runt=3 tx_full=10\n"

static void test_stats(void **state)
{
	(void)state;
	expect_render("stats", NULL, STATS_RESULT, STATS_TABLE);
	/* one port asked: its features too */
	expect_render("stats", "{\"port\":\"vm1.0\"}", STATS_RESULT,
		      STATS_TABLE "\n"
		      "features:\n"
		      "  vm1.0: 0x8000 (MRG_RXBUF, VERSION_1)\n");
}

static void test_lcores_fdb_version(void **state)
{
	(void)state;
	expect_render("lcores", NULL,
		"[{\"lcore\":1,\"role\":\"worker\",\"queues\":[\"vm1.0:0\","
		"\"up0:0\"],\"busy_cycles\":125,\"idle_cycles\":875,"
		"\"busy_pct\":12.5,\"sleep_pct\":80,\"loop_max_us\":31.25},{\"lcore\":0,\"role\":\"main\"}]",
		"LCORE  ROLE    BUSY%  IDLE%  SLEEP%  WAKEUPS  LOOP_MAX_US  QUEUES\n"
		"    1  worker   12.5      -    80.0        -         31.2  vm1.0:0,up0:0\n"
		"    0  main        -      -       -        -            -  -\n");
	/* with the last window, queue loads and rebalancing */
	expect_render("lcores", NULL,
		"[{\"lcore\":0,\"role\":\"main\",\"queues\":[],\"poll\":\"interrupt\","
		"\"rebalance\":{\"mode\":\"auto\",\"load_pct\":95,\"period_s\":60,"
		"\"improvement_pct\":25,\"checks\":2,\"taken\":1,\"queues_moved\":3}},"
		"{\"lcore\":1,\"role\":\"worker\",\"queues\":[\"vm1.0:0\"],\"wakeups\":7,"
		"\"busy_pct\":1,\"sleep_pct\":2,\"loop_max_us\":3,"
		"\"window\":{\"seconds\":10,\"busy_pct\":40,\"idle_pct\":10,\"sleep_pct\":50},"
		"\"queue_load\":[{\"queue\":\"vm1.0:0\",\"load_pct\":39.94,\"frames_per_s\":120000.4,\"pinned\":true}]}]",
		"LCORE  ROLE    BUSY%  IDLE%  SLEEP%  WAKEUPS  LOOP_MAX_US  QUEUES\n"
		"    0  main        -      -       -        -            -  -\n"
		"    1  worker   40.0   10.0    50.0        7          3.0  vm1.0:0\n"
		"\n"
		"QUEUE    LCORE  LOAD%  FRAMES/S  PINNED\n"
		"vm1.0:0      1   39.9    120000  yes\n"
		"\n"
		"shares and loads over the last 10 s; poll: interrupt; rebalance: auto (a worker >= 95% busy for 60 s, variance 25% better): 2 proposal(s), 1 taken, 3 queue move(s)\n");
	expect_render("fdb", NULL,
		"[{\"network\":\"default\",\"mac\":\"52:54:00:00:01:01\",\"port\":\"vm1.0\","
		"\"type\":\"static\",\"age_s\":null},{\"network\":\"blue\",\"mac\":\"aa:bb:cc:dd:ee:ff\","
		"\"port\":\"up0\",\"type\":\"learned\",\"age_s\":12}]",
		"NETWORK  MAC                PORT   TYPE     AGE_S\n"
		"default  52:54:00:00:01:01  vm1.0  static       -\n"
		"blue     aa:bb:cc:dd:ee:ff  up0    learned     12\n");
	expect_render("version", NULL,
		"{\"version\":\"0.1.0\",\"dpdk\":\"DPDK 22.11.11\"}",
		"version: 0.1.0\n"
		"dpdk:    DPDK 22.11.11\n");
	/* no table for it: indented JSON */
	expect_render("config", NULL, "{\"workers\":[1]}",
		      "{\n  \"workers\": [\n    1\n  ]\n}\n");
}

static void test_toe(void **state)
{
	(void)state;
	expect_render("toe", NULL,
		"[{\"port\":\"vm1.0\",\"vm\":\"vm1\",\"mac\":\"52:54:00:00:01:01\","
		"\"endpoint_mac\":\"02:00:a9:fe:a9:fe\",\"ip\":\"10.0.0.11/24\","
		"\"gateway\":\"10.0.0.1\",\"dns\":[\"10.0.0.2\",\"9.9.9.9\"],\"dhcp\":true,"
		"\"metadata\":true,\"hostname\":\"vm1\",\"instance_id\":\"i-0001\","
		"\"answers\":[\"10.0.0.1\",\"169.254.169.254\"],"
		"\"lease\":{\"state\":\"bound\",\"ip\":\"10.0.0.11\",\"xid\":\"0x0000002a\","
		"\"age_s\":12,\"expires_in_s\":86388},"
		"\"counters\":{\"taken\":3,\"replies\":2},"
		"\"drops\":{\"truncated\":0,\"not_routed\":1},\"drops_total\":1},"
		"{\"port\":\"vm2.0\",\"vm\":\"vm2\",\"mac\":\"52:54:00:00:02:02\","
		"\"endpoint_mac\":\"02:00:a9:fe:a9:fe\",\"ip\":\"10.0.0.12/24\","
		"\"gateway\":null,\"dns\":[],\"dhcp\":false,\"metadata\":true,"
		"\"hostname\":\"vm2\",\"instance_id\":null,\"answers\":[\"169.254.169.254\"],"
		"\"lease\":{\"state\":\"none\",\"ip\":null},"
		"\"counters\":{\"taken\":0},\"drops\":{\"truncated\":0}}]",
		"vm1.0 (vm vm1)  mac 52:54:00:00:01:01  ip 10.0.0.11/24  gateway 10.0.0.1\n"
		"  dhcp on  metadata on  hostname vm1  instance_id i-0001  dns 10.0.0.2,9.9.9.9\n"
		"  answers 10.0.0.1 169.254.169.254 as 02:00:a9:fe:a9:fe\n"
		"  lease bound 10.0.0.11 xid 0x0000002a, changed 12 s ago, expires in 86388 s\n"
		"  taken=3 replies=2\n"
		"  drops: not_routed=1\n"
		"\n"
		"vm2.0 (vm vm2)  mac 52:54:00:00:02:02  ip 10.0.0.12/24  gateway -\n"
		"  dhcp off  metadata on  hostname vm2  instance_id -  dns -\n"
		"  answers 169.254.169.254 as 02:00:a9:fe:a9:fe\n"
		"  lease none\n"
		"  taken=0\n"
		"  drops: none\n");
	expect_render("toe", NULL, "[]",
		"no port has a TOE endpoint (a port needs an IPv4 ip: and toe: dhcp or metadata on)\n");
}

static void test_unexpected_shapes(void **state)
{
	static const char *const cmds[] = {
		"ports", "stats", "lcores", "fdb", "help", "version", "config",
		"toe", "other",
	};
	static const char *const results[] = {
		"null", "42", "\"text\"", "[]", "{}", "[null, 1, \"x\", [], {}]",
		"{\"ports\": 5}",
		"{\"ports\": [null, {\"name\": {\"a\": 1}, \"drops\": [1]}]}",
		("[{\"name\": null, \"queues\": \"x\", \"busy_pct\": \"high\","
		 " \"drops\": {\"x\": null, \"y\": \"many\"}, \"socket\": 7,"
		 " \"feature_names\": \"MRG\"}]"),
		("[{\"name\": \"\\u001b[2Jevil\\u0007\", \"help\": \"\\u00e9t\\u00e9\","
		 " \"queues\": [1, null, [2]], \"mac\": 1e300}]"),
	};

	(void)state;
	for (size_t c = 0; c < sizeof(cmds) / sizeof(cmds[0]); c++) {
		for (size_t r = 0; r < sizeof(results) / sizeof(results[0]);
		     r++) {
			char *text = render(cmds[c], "{\"port\":\"x\"}",
					    results[r]);

			/* a terminal never sees the daemon's escapes */
			assert_null(strchr(text, '\x1b'));
			assert_null(strchr(text, '\a'));
			free(text);
		}
	}
}

/* Membership from libvirt: the source line, VMs with their interfaces
 * (a refused MAC and a MAC that differs from the port map stand out),
 * and the path each VM port takes.  Ages are relative to now: "changed"
 * is set far in the future so that they print as 0.0s. */
static void test_membership(void **state)
{
	char *text;

	(void)state;
	text = render("membership", NULL,
		"{\"source\":\"libvirt\",\"uri\":\"test:///x\",\"mode\":\"events\","
		"\"connected\":true,\"events\":7,\"resyncs\":1,\"disconnects\":0,"
		"\"vms\":[{\"uuid\":\"u1\",\"name\":\"vm1\",\"state\":\"running\","
		"\"changed\":4e12,\"interfaces\":[{\"mac\":\"52:54:00:00:01:01\","
		"\"socket\":\"/s1\",\"port\":\"vm1.0\",\"mac_matches_port\":true,"
		"\"refused\":false},{\"mac\":\"52:54:00:00:09:09\",\"socket\":\"/s9\","
		"\"port\":null,\"mac_matches_port\":false,\"refused\":true}]}],"
		"\"ports\":[{\"port\":\"vm1.0\",\"vm\":\"vm1\",\"path\":\"coresident\","
		"\"changed\":4e12,\"ring_queued\":0,\"drained\":3}]}");
	assert_non_null(strstr(text, "source libvirt test:///x (events), connected, 7 events, 1 resyncs, 0 disconnects\n"));
	assert_non_null(strstr(text, "VM   STATE    CHANGED   INTERFACES"));
	assert_non_null(strstr(text, "vm1  running  0.0s ago  52:54:00:00:01:01->vm1.0 52:54:00:00:09:09->(no port) REFUSED  u1\n"));
	assert_non_null(strstr(text, "PORT   VM   PATH        CHANGED   RING  DRAINED\n"
				     "vm1.0  vm1  coresident  0.0s ago     0        3\n"));
	free(text);

	text = render("membership", NULL,
		"{\"source\":\"libvirt\",\"uri\":\"qemu:///system\",\"mode\":\"poll\","
		"\"connected\":false,\"events\":0,\"resyncs\":0,\"disconnects\":0,"
		"\"vms\":[],\"ports\":[{\"port\":\"vm1.0\",\"vm\":\"vm1\","
		"\"path\":\"uplink\",\"changed\":4e12,\"ring_queued\":0,\"drained\":0}]}");
	assert_non_null(strstr(text, "NOT CONNECTED (retrying)"));
	assert_non_null(strstr(text, "vm1.0  vm1  uplink"));
	free(text);

	text = render("membership", NULL,
		"{\"source\":\"static\",\"vms\":[],\"ports\":[]}");
	assert_non_null(strstr(text, "source static: the port map is the table\n"));
	free(text);
}

/* The overlay: the endpoint line, the session (stale stands out, the last
 * error shown), the hosts and their VMs. */
static void test_cluster(void **state)
{
	char *text;

	(void)state;
	text = render("cluster", NULL,
		"{\"host\":\"host-a\",\"vtep\":\"192.0.2.1\",\"udp_port\":4789,"
		"\"uplink\":\"up0\",\"guest_mtu\":1450,"
		"\"networks\":[{\"name\":\"blue\",\"vni\":5001}],"
		"\"directory\":{\"state\":\"backoff\",\"stale\":true,\"since\":4e12,"
		"\"synced\":null,\"endpoint\":\"http://e1:2379\",\"last_error\":\"connect refused\","
		"\"lease\":7,\"ttl\":10,\"revision\":42,\"published\":2,"
		"\"counters\":{\"requests\":5}},"
		"\"hosts\":[{\"name\":\"host-b\",\"vtep\":\"192.0.2.2\",\"ports\":1,"
		"\"learned\":4e12,\"next_hop\":\"192.0.2.2\",\"next_hop_mac\":\"02:00:00:00:00:02\"}],"
		"\"remotes\":[{\"host\":\"host-b\",\"vtep\":\"192.0.2.2\",\"vni\":5001,"
		"\"network\":\"blue\",\"mac\":\"52:54:00:0b:00:01\",\"ips\":[\"10.1.0.2\"],"
		"\"port\":\"g2.0\",\"revision\":40,\"learned\":4e12}],"
		"\"counters\":{\"encap\":9,\"vxlan_drops\":{\"outer_csum\":1}}}");
	assert_non_null(strstr(text, "host host-a  vtep 192.0.2.1:4789 on up0  guest MTU 1450  networks blue=5001\n"));
	assert_non_null(strstr(text, "directory backoff STALE via http://e1:2379  lease 7 (ttl 10 s)  revision 42  published 2\n"));
	assert_non_null(strstr(text, "  last error: connect refused\n"));
	assert_non_null(strstr(text, " requests=5\n"));
	assert_non_null(strstr(text, "overlay encap=9\n  vxlan drops: outer_csum=1"));
	assert_non_null(strstr(text, "host-b  192.0.2.2      1  0.0s ago  192.0.2.2  02:00:00:00:00:02\n"));
	assert_non_null(strstr(text, "host-b  blue     5001  52:54:00:0b:00:01  10.1.0.2  g2.0  0.0s ago\n"));
	free(text);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_ports),
		cmocka_unit_test(test_membership),
		cmocka_unit_test(test_cluster),
		cmocka_unit_test(test_stats),
		cmocka_unit_test(test_lcores_fdb_version),
		cmocka_unit_test(test_toe),
		cmocka_unit_test(test_unexpected_shapes),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
