/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The membership adapter against real libvirt, no libvirtd: libvirt's
 * test driver runs in this process and emits real lifecycle events.
 *
 *     this test ---(read-write conn)---+
 *       define/create/suspend/...      |      test:///default
 *                                      +---> (one shared in-process
 *     adapter thread --(read-only)-----+      driver: both see it)
 *       events -> facts -> eventfd
 *     this test: membership_lv_run() -> table -> assertions
 *
 * After each step the table and the forwarding answer (which socket owns
 * a MAC) are asserted.  Also: resync on connect from a test:///FILE node,
 * domains without vhost-user interfaces, an unparsable MAC (libvirt
 * refuses it), two domains claiming one MAC, poll mode, libvirt
 * unreachable at start (reported, retried with capped backoff).
 * What the test driver cannot do (migrate, crash, hot-plug) is driven
 * one seam lower: every (event, detail) of libvirt 9.0 through the
 * mapping, and crafted facts through the dispatcher.
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
#include <time.h>
#include <unistd.h>

#include <cmocka.h>
#include <libvirt/libvirt.h>
#include <libvirt/virterror.h>

#include "membership/membership.h"
#include "membership/membership_libvirt.h"
#include "membership/membership_lv_priv.h"

#define WAIT_MS 5000

static const uint8_t MAC_A0[6] = { 0x52, 0x54, 0x00, 0x00, 0x0a, 0x00 };
static const uint8_t MAC_A1[6] = { 0x52, 0x54, 0x00, 0x00, 0x0a, 0x01 };
static const uint8_t MAC_B0[6] = { 0x52, 0x54, 0x00, 0x00, 0x0b, 0x00 };

#define UUID_A "aaaaaaaa-0000-4000-8000-00000000000a"
#define UUID_B "bbbbbbbb-0000-4000-8000-00000000000b"
#define UUID_C "cccccccc-0000-4000-8000-00000000000c"

#define LOGS_MAX 256

struct fx {
	struct membership *m;
	struct membership_lv *lv;
	virConnectPtr conn;             /* the test's own, read-write */
	char dir[64];
	char logs[LOGS_MAX][512];
	int n_logs;
};

static void
record_log(void *ctx, enum membership_log_level level, const char *msg)
{
	struct fx *fx = ctx;

	(void)level;
	if (fx->n_logs < LOGS_MAX)
		snprintf(fx->logs[fx->n_logs++], sizeof(fx->logs[0]), "%s", msg);
	if (getenv("VTOE_TEST_VERBOSE") != NULL)
		fprintf(stderr, "log: %s\n", msg);
}

static bool
logged(const struct fx *fx, const char *a, const char *b)
{
	for (int i = 0; i < fx->n_logs; i++)
		if (strstr(fx->logs[i], a) != NULL &&
		    (b == NULL || strstr(fx->logs[i], b) != NULL))
			return true;
	return false;
}

static uint64_t
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* Run the daemon's side (dispatch) until pred holds, or fail. */
#define WAIT_FOR(fx, pred) do { \
	uint64_t until_ = now_ms() + WAIT_MS; \
	while (!(pred)) { \
		if (now_ms() > until_) \
			fail_msg("%s:%d: timed out waiting for %s", \
				 __FILE__, __LINE__, #pred); \
		assert_true(membership_lv_run((fx)->lv, 20) >= 0); \
	} \
} while (0)

static void
lv_start(struct fx *fx, const char *uri, enum membership_lv_mode mode,
	 uint32_t poll_ms)
{
	struct membership_lv_params p = {
		.uri = uri, .mode = mode, .poll_interval_ms = poll_ms,
		.backoff_min_ms = 20, .backoff_max_ms = 80,
		.log = record_log, .log_ctx = fx,
	};

	fx->lv = membership_lv_create(fx->m, &p);
	assert_non_null(fx->lv);
}

static bool
lv_connected(const struct fx *fx)
{
	struct membership_lv_stats st;

	membership_lv_stats_get(fx->lv, &st);
	return st.connected;
}

static uint64_t
lv_resyncs(const struct fx *fx)
{
	struct membership_lv_stats st;

	membership_lv_stats_get(fx->lv, &st);
	return st.resyncs;
}

static int
setup(void **state)
{
	struct fx *fx = calloc(1, sizeof(*fx));
	struct membership_params p;

	assert_non_null(fx);
	p = (struct membership_params){ .log = record_log, .log_ctx = fx };
	fx->m = membership_create(&p);
	assert_non_null(fx->m);
	snprintf(fx->dir, sizeof(fx->dir), "/tmp/vtoe-memb-XXXXXX");
	assert_non_null(mkdtemp(fx->dir));
	*state = fx;
	return 0;
}

static int
teardown(void **state)
{
	struct fx *fx = *state;
	char cmd[128];

	membership_lv_destroy(fx->lv);
	/* Closing the last connection to test:///default frees its state:
	 * the next test starts from libvirt's default again. */
	if (fx->conn != NULL)
		virConnectClose(fx->conn);
	membership_destroy(fx->m);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", fx->dir);
	if (system(cmd) != 0)
		fprintf(stderr, "could not remove %s\n", fx->dir);
	free(fx);
	return 0;
}

static void
conn_open(struct fx *fx, const char *uri)
{
	fx->conn = virConnectOpen(uri);
	if (fx->conn == NULL)
		fail_msg("virConnectOpen(%s): %s", uri, virGetLastErrorMessage());
}

/* A domain with shared memory and vhost-user interfaces; each iface is a
 * MAC text and a socket path. */
static char *
domain_xml(const char *name, const char *uuid, int n, ...)
{
	size_t cap = 8192, len;
	char *xml = malloc(cap);
	va_list ap;

	assert_non_null(xml);
	len = (size_t)snprintf(xml, cap,
		"<domain type='test'>\n"
		"  <name>%s</name>\n"
		"  <uuid>%s</uuid>\n"
		"  <memory unit='KiB'>1048576</memory>\n"
		"  <memoryBacking>\n"
		"    <source type='memfd'/>\n"
		"    <access mode='shared'/>\n"
		"  </memoryBacking>\n"
		"  <os><type>hvm</type></os>\n"
		"  <devices>\n", name, uuid);
	va_start(ap, n);
	for (int i = 0; i < n; i++) {
		const char *mac = va_arg(ap, const char *);
		const char *path = va_arg(ap, const char *);

		len += (size_t)snprintf(xml + len, cap - len,
			"    <interface type='vhostuser'>\n"
			"      <mac address='%s'/>\n"
			"      <source type='unix' path='%s' mode='client'/>\n"
			"      <model type='virtio'/>\n"
			"    </interface>\n", mac, path);
	}
	va_end(ap);
	snprintf(xml + len, cap - len, "  </devices>\n</domain>\n");
	return xml;
}

/* As `virsh define FILE` does: the XML goes through a file. */
static virDomainPtr
define_from_file(struct fx *fx, const char *xml)
{
	char path[128], *text;
	FILE *f;
	long size;
	virDomainPtr dom;

	snprintf(path, sizeof(path), "%s/domain.xml", fx->dir);
	f = fopen(path, "w");
	assert_non_null(f);
	assert_int_equal(fputs(xml, f) >= 0, 1);
	assert_int_equal(fclose(f), 0);

	f = fopen(path, "r");
	assert_non_null(f);
	assert_int_equal(fseek(f, 0, SEEK_END), 0);
	size = ftell(f);
	rewind(f);
	text = calloc(1, (size_t)size + 1);
	assert_non_null(text);
	assert_int_equal(fread(text, 1, (size_t)size, f), (size_t)size);
	fclose(f);
	dom = virDomainDefineXML(fx->conn, text);
	free(text);
	return dom;
}

static enum membership_state
state_of(const struct fx *fx, const char *uuid)
{
	const struct membership_vm *v = membership_find(fx->m, uuid);

	return v != NULL ? v->state : (enum membership_state)-1;
}

static bool
socket_is(const struct fx *fx, const uint8_t *mac, const char *want)
{
	const char *s = membership_mac_socket(fx->m, mac);

	return want == NULL ? s == NULL : s != NULL && strcmp(s, want) == 0;
}

/* ------------------------------------------------------------ stories */

/*
 * define -> create -> suspend -> resume -> destroy -> undefine, and the
 * table after each, with the forwarding answer for both MACs.
 */
static void
test_lifecycle(void **state)
{
	struct fx *fx = *state;
	const struct membership_vm *v;
	virDomainPtr dom;
	char *xml;
	uint64_t gen;

	conn_open(fx, "test:///default");
	lv_start(fx, "test:///default", MEMBERSHIP_LV_EVENTS, 0);
	WAIT_FOR(fx, lv_connected(fx) && logged(fx, "resync", "1 domains"));
	assert_true(logged(fx, "connected", "events"));
	/* test:///default runs a domain "test" with no vhost-user interface */
	assert_int_equal(membership_count(fx->m), 0);

	xml = domain_xml("vm-a", UUID_A, 2,
			 "52:54:00:00:0a:00", "/run/vtoe/a0.sock",
			 "52:54:00:00:0a:01", "/run/vtoe/a1.sock");
	dom = define_from_file(fx, xml);
	free(xml);
	assert_non_null(dom);

	/* defined: known, stopped, owning nothing */
	WAIT_FOR(fx, membership_find(fx->m, UUID_A) != NULL);
	v = membership_find(fx->m, UUID_A);
	assert_string_equal(v->name, "vm-a");
	assert_int_equal(v->state, MEMBERSHIP_STOPPED);
	assert_true(v->persistent);
	assert_int_equal(v->n_ifaces, 2);
	assert_memory_equal(v->ifaces[0].mac, MAC_A0, 6);
	assert_string_equal(v->ifaces[0].socket, "/run/vtoe/a0.sock");
	assert_memory_equal(v->ifaces[1].mac, MAC_A1, 6);
	assert_string_equal(v->ifaces[1].socket, "/run/vtoe/a1.sock");
	assert_true(socket_is(fx, MAC_A0, NULL));
	assert_null(membership_mac_owner(fx->m, MAC_A0));

	/* create: running, both MACs local */
	gen = membership_generation(fx->m);
	assert_int_equal(virDomainCreate(dom), 0);
	WAIT_FOR(fx, state_of(fx, UUID_A) == MEMBERSHIP_RUNNING);
	assert_true(membership_generation(fx->m) > gen);
	assert_true(socket_is(fx, MAC_A0, "/run/vtoe/a0.sock"));
	assert_true(socket_is(fx, MAC_A1, "/run/vtoe/a1.sock"));

	/* suspend: paused, MACs to the uplink path, still owned */
	assert_int_equal(virDomainSuspend(dom), 0);
	WAIT_FOR(fx, state_of(fx, UUID_A) == MEMBERSHIP_PAUSED);
	assert_true(socket_is(fx, MAC_A0, NULL));
	assert_true(socket_is(fx, MAC_A1, NULL));
	assert_non_null(membership_mac_owner(fx->m, MAC_A1));

	/* resume: local again */
	assert_int_equal(virDomainResume(dom), 0);
	WAIT_FOR(fx, state_of(fx, UUID_A) == MEMBERSHIP_RUNNING);
	assert_true(socket_is(fx, MAC_A0, "/run/vtoe/a0.sock"));
	assert_true(socket_is(fx, MAC_A1, "/run/vtoe/a1.sock"));

	/* destroy: persistent, so stopped, owning nothing */
	assert_int_equal(virDomainDestroy(dom), 0);
	WAIT_FOR(fx, state_of(fx, UUID_A) == MEMBERSHIP_STOPPED);
	assert_true(socket_is(fx, MAC_A0, NULL));
	assert_null(membership_mac_owner(fx->m, MAC_A0));

	/* undefine: gone */
	assert_int_equal(virDomainUndefine(dom), 0);
	WAIT_FOR(fx, membership_find(fx->m, UUID_A) == NULL);
	assert_int_equal(membership_count(fx->m), 0);
	virDomainFree(dom);

	/* every event, none unknown, and no full listing beyond the first */
	struct membership_lv_stats st;

	membership_lv_stats_get(fx->lv, &st);
	assert_true(st.events >= 6);
	assert_int_equal(st.events_unknown, 0);
	assert_int_equal(st.resyncs, 1);
	assert_int_equal(st.connect_failures, 0);
}

/* A transient domain (create without define) is gone when it stops. */
static void
test_transient(void **state)
{
	struct fx *fx = *state;
	virDomainPtr dom;
	char *xml;

	conn_open(fx, "test:///default");
	lv_start(fx, "test:///default", MEMBERSHIP_LV_EVENTS, 0);
	WAIT_FOR(fx, lv_connected(fx));
	xml = domain_xml("vm-t", UUID_C, 1, "52:54:00:00:0c:00", "/s/t");
	dom = virDomainCreateXML(fx->conn, xml, 0);
	free(xml);
	assert_non_null(dom);
	WAIT_FOR(fx, state_of(fx, UUID_C) == MEMBERSHIP_RUNNING);
	assert_false(membership_find(fx->m, UUID_C)->persistent);
	assert_int_equal(virDomainDestroy(dom), 0);
	WAIT_FOR(fx, membership_find(fx->m, UUID_C) == NULL);
	virDomainFree(dom);
}

/* Domains without vhost-user interfaces: no entry, their events are
 * "not ours", nothing breaks. */
static void
test_no_vhost_user(void **state)
{
	struct fx *fx = *state;
	virDomainPtr dom;
	char *xml;
	uint64_t unknown;

	conn_open(fx, "test:///default");
	lv_start(fx, "test:///default", MEMBERSHIP_LV_EVENTS, 0);
	WAIT_FOR(fx, lv_connected(fx));
	xml = domain_xml("plain", UUID_B, 0);
	dom = virDomainCreateXML(fx->conn, xml, 0);
	free(xml);
	assert_non_null(dom);
	unknown = membership_reason_count(fx->m, MEMBERSHIP_REASON_UNKNOWN_VM);
	assert_int_equal(virDomainSuspend(dom), 0);
	WAIT_FOR(fx, membership_reason_count(fx->m,
		 MEMBERSHIP_REASON_UNKNOWN_VM) > unknown);
	assert_int_equal(membership_count(fx->m), 0);
	/* libvirt's own "test" domain too */
	virDomainPtr test = virDomainLookupByName(fx->conn, "test");

	assert_non_null(test);
	assert_int_equal(virDomainSuspend(test), 0);
	assert_int_equal(virDomainResume(test), 0);
	WAIT_FOR(fx, membership_reason_count(fx->m,
		 MEMBERSHIP_REASON_UNKNOWN_VM) >= unknown + 3);
	assert_int_equal(membership_count(fx->m), 0);
	virDomainFree(test);
	virDomainDestroy(dom);
	virDomainFree(dom);
}

/* libvirt refuses an unparsable MAC itself: nothing reaches the table,
 * the adapter carries on (the parser's own handling of such XML is in
 * test_membership_xml). */
static void
test_unparsable_mac(void **state)
{
	struct fx *fx = *state;
	virDomainPtr dom;
	char *xml;

	conn_open(fx, "test:///default");
	lv_start(fx, "test:///default", MEMBERSHIP_LV_EVENTS, 0);
	WAIT_FOR(fx, lv_connected(fx));
	xml = domain_xml("badmac", UUID_B, 2, "52:54:00:zz:0b:00", "/s/b0",
			 "52:54:00:00:0b:01", "/s/b1");
	dom = virDomainCreateXML(fx->conn, xml, 0);
	free(xml);
	assert_null(dom);
	/* and the adapter still works */
	xml = domain_xml("good", UUID_C, 1, "52:54:00:00:0c:00", "/s/c");
	dom = virDomainCreateXML(fx->conn, xml, 0);
	free(xml);
	assert_non_null(dom);
	WAIT_FOR(fx, state_of(fx, UUID_C) == MEMBERSHIP_RUNNING);
	assert_null(membership_find(fx->m, UUID_B));
	virDomainDestroy(dom);
	virDomainFree(dom);
}

/* Two domains claim one MAC: the later claim is refused, counted and
 * logged; when the first goes, the second gets it. */
static void
test_mac_conflict(void **state)
{
	struct fx *fx = *state;
	virDomainPtr a, b;
	char *xml;

	conn_open(fx, "test:///default");
	lv_start(fx, "test:///default", MEMBERSHIP_LV_EVENTS, 0);
	WAIT_FOR(fx, lv_connected(fx));
	xml = domain_xml("first", UUID_A, 1, "52:54:00:00:0b:00", "/s/first");
	a = virDomainCreateXML(fx->conn, xml, 0);
	free(xml);
	assert_non_null(a);
	WAIT_FOR(fx, state_of(fx, UUID_A) == MEMBERSHIP_RUNNING);
	xml = domain_xml("second", UUID_B, 1, "52:54:00:00:0b:00", "/s/second");
	b = virDomainCreateXML(fx->conn, xml, 0);
	free(xml);
	assert_non_null(b);
	WAIT_FOR(fx, state_of(fx, UUID_B) == MEMBERSHIP_RUNNING);
	assert_true(membership_find(fx->m, UUID_B)->ifaces[0].refused);
	assert_int_equal(membership_reason_count(fx->m,
			 MEMBERSHIP_REASON_MAC_CONFLICT), 1);
	assert_true(logged(fx, "mac_conflict", "first"));
	assert_true(socket_is(fx, MAC_B0, "/s/first"));

	assert_int_equal(virDomainDestroy(a), 0);
	WAIT_FOR(fx, membership_find(fx->m, UUID_A) == NULL);
	assert_false(membership_find(fx->m, UUID_B)->ifaces[0].refused);
	assert_true(socket_is(fx, MAC_B0, "/s/second"));
	virDomainDestroy(b);
	virDomainFree(a);
	virDomainFree(b);
}

/* A node file with a running vhost-user domain: the listing on connect
 * fills the table, no event needed. */
static void
test_resync_on_connect(void **state)
{
	struct fx *fx = *state;
	char path[128], uri[160], *dom;
	FILE *f;

	dom = domain_xml("boot-a", UUID_A, 2,
			 "52:54:00:00:0a:00", "/run/vtoe/a0.sock",
			 "52:54:00:00:0a:01", "/run/vtoe/a1.sock");
	snprintf(path, sizeof(path), "%s/node.xml", fx->dir);
	f = fopen(path, "w");
	assert_non_null(f);
	fprintf(f, "<node>\n%s</node>\n", dom);
	fclose(f);
	free(dom);
	snprintf(uri, sizeof(uri), "test://%s", path);

	lv_start(fx, uri, MEMBERSHIP_LV_EVENTS, 0);
	WAIT_FOR(fx, state_of(fx, UUID_A) == MEMBERSHIP_RUNNING);
	assert_true(socket_is(fx, MAC_A0, "/run/vtoe/a0.sock"));
	assert_true(socket_is(fx, MAC_A1, "/run/vtoe/a1.sock"));
	assert_int_equal(lv_resyncs(fx), 1);
}

/* Poll mode: the same story seen by listing every interval. */
static void
test_poll_mode(void **state)
{
	struct fx *fx = *state;
	struct membership_lv_stats st;
	virDomainPtr dom;
	char *xml;

	conn_open(fx, "test:///default");
	lv_start(fx, "test:///default", MEMBERSHIP_LV_POLL, 30);
	WAIT_FOR(fx, lv_connected(fx) && logged(fx, "connected", "polling"));
	xml = domain_xml("polled", UUID_A, 1, "52:54:00:00:0a:00", "/s/p");
	dom = virDomainDefineXML(fx->conn, xml);
	free(xml);
	assert_non_null(dom);
	WAIT_FOR(fx, state_of(fx, UUID_A) == MEMBERSHIP_STOPPED);
	assert_int_equal(virDomainCreate(dom), 0);
	WAIT_FOR(fx, state_of(fx, UUID_A) == MEMBERSHIP_RUNNING);
	assert_true(socket_is(fx, MAC_A0, "/s/p"));
	assert_int_equal(virDomainSuspend(dom), 0);
	WAIT_FOR(fx, state_of(fx, UUID_A) == MEMBERSHIP_PAUSED);
	assert_int_equal(virDomainDestroy(dom), 0);
	assert_int_equal(virDomainUndefine(dom), 0);
	WAIT_FOR(fx, membership_find(fx->m, UUID_A) == NULL);
	virDomainFree(dom);
	membership_lv_stats_get(fx->lv, &st);
	assert_int_equal(st.events, 0);         /* none registered */
	assert_true(st.resyncs >= 3);
}

/*
 * libvirt unreachable at start: the adapter says so, keeps retrying with
 * a doubling delay capped at the maximum, and the caller keeps running
 * (the dispatch loop here).
 */
static void
test_unreachable(void **state)
{
	struct fx *fx = *state;
	struct membership_lv_stats st;

	lv_start(fx, "qemu+unix:///system?socket=/nonexistent/libvirt-sock",
		 MEMBERSHIP_LV_EVENTS, 0);
	/* Failures, not attempts: an attempt is counted before it fails. */
	WAIT_FOR(fx, (membership_lv_stats_get(fx->lv, &st),
		      st.connect_failures >= 4));
	WAIT_FOR(fx, logged(fx, "retrying in 80 ms", NULL));
	membership_lv_stats_get(fx->lv, &st);
	assert_false(st.connected);
	assert_true(st.connect_failures >= 4);
	assert_int_equal(st.retry_ms, 80);
	assert_true(logged(fx, "cannot connect", "/nonexistent"));
	assert_true(logged(fx, "retrying in 20 ms", NULL));
	assert_true(logged(fx, "retrying in 40 ms", NULL));
	assert_int_equal(membership_count(fx->m), 0);
}

/* A URI libvirt does not even know: same treatment, no crash. */
static void
test_bad_uri(void **state)
{
	struct fx *fx = *state;
	struct membership_lv_stats st;

	lv_start(fx, "nosuchdriver:///x", MEMBERSHIP_LV_POLL, 10);
	WAIT_FOR(fx, (membership_lv_stats_get(fx->lv, &st),
		      st.connect_failures >= 2));
	assert_false(st.connected);
}

static void
test_create_errors(void **state)
{
	struct fx *fx = *state;
	struct membership_lv_params p = { .uri = "test:///default" };
	struct membership_lv *second;

	assert_null(membership_lv_create(NULL, &p));
	assert_int_equal(errno, EINVAL);
	assert_null(membership_lv_create(fx->m, NULL));
	p.uri = "";
	assert_null(membership_lv_create(fx->m, &p));
	p.uri = "test:///default";
	p.mode = (enum membership_lv_mode)7;
	assert_null(membership_lv_create(fx->m, &p));
	assert_int_equal(errno, EINVAL);
	/* one adapter per process (one libvirt default event loop) */
	lv_start(fx, "test:///default", MEMBERSHIP_LV_EVENTS, 0);
	p.mode = MEMBERSHIP_LV_EVENTS;
	second = membership_lv_create(fx->m, &p);
	assert_null(second);
	assert_int_equal(errno, EBUSY);
	/* destroy right away, connected or not: no hang, no leak */
	membership_lv_destroy(fx->lv);
	fx->lv = NULL;
	lv_start(fx, "test:///default", MEMBERSHIP_LV_EVENTS, 0);
	membership_lv_destroy(NULL);
}


/* ------------------------------------------------------------ seams */

/*
 * Every lifecycle event and detail of libvirt 9.0 -> the table event.
 * Migration, as seen from each side:
 *   source:      SUSPENDED_MIGRATED (switch-over) -> migrating_out,
 *                STOPPED_MIGRATED -> stopped,
 *                (cancelled) RESUMED_MIGRATED -> migrated_in (runs here)
 *   destination: STARTED_MIGRATED -> migrating_in,
 *                RESUMED_MIGRATED / _POSTCOPY -> migrated_in
 */
static void
test_lifecycle_mapping(void **state)
{
	static const struct {
		int event, detail;
		enum lv_fact_kind kind;
	} cases[] = {
		{ VIR_DOMAIN_EVENT_DEFINED, VIR_DOMAIN_EVENT_DEFINED_ADDED, LV_FACT_DEFINED },
		{ VIR_DOMAIN_EVENT_DEFINED, VIR_DOMAIN_EVENT_DEFINED_UPDATED, LV_FACT_DEFINED },
		{ VIR_DOMAIN_EVENT_DEFINED, VIR_DOMAIN_EVENT_DEFINED_RENAMED, LV_FACT_DEFINED },
		{ VIR_DOMAIN_EVENT_DEFINED, VIR_DOMAIN_EVENT_DEFINED_FROM_SNAPSHOT, LV_FACT_DEFINED },
		{ VIR_DOMAIN_EVENT_UNDEFINED, VIR_DOMAIN_EVENT_UNDEFINED_REMOVED, LV_FACT_UNDEFINED },
		{ VIR_DOMAIN_EVENT_UNDEFINED, VIR_DOMAIN_EVENT_UNDEFINED_RENAMED, LV_FACT_UNDEFINED },
		{ VIR_DOMAIN_EVENT_STARTED, VIR_DOMAIN_EVENT_STARTED_BOOTED, LV_FACT_STARTED },
		{ VIR_DOMAIN_EVENT_STARTED, VIR_DOMAIN_EVENT_STARTED_MIGRATED, LV_FACT_MIGRATING_IN },
		{ VIR_DOMAIN_EVENT_STARTED, VIR_DOMAIN_EVENT_STARTED_RESTORED, LV_FACT_STARTED },
		{ VIR_DOMAIN_EVENT_STARTED, VIR_DOMAIN_EVENT_STARTED_FROM_SNAPSHOT, LV_FACT_STARTED },
		{ VIR_DOMAIN_EVENT_STARTED, VIR_DOMAIN_EVENT_STARTED_WAKEUP, LV_FACT_STARTED },
		{ VIR_DOMAIN_EVENT_SUSPENDED, VIR_DOMAIN_EVENT_SUSPENDED_PAUSED, LV_FACT_PAUSED },
		{ VIR_DOMAIN_EVENT_SUSPENDED, VIR_DOMAIN_EVENT_SUSPENDED_MIGRATED, LV_FACT_MIGRATING_OUT },
		{ VIR_DOMAIN_EVENT_SUSPENDED, VIR_DOMAIN_EVENT_SUSPENDED_IOERROR, LV_FACT_PAUSED },
		{ VIR_DOMAIN_EVENT_SUSPENDED, VIR_DOMAIN_EVENT_SUSPENDED_WATCHDOG, LV_FACT_PAUSED },
		{ VIR_DOMAIN_EVENT_SUSPENDED, VIR_DOMAIN_EVENT_SUSPENDED_RESTORED, LV_FACT_PAUSED },
		{ VIR_DOMAIN_EVENT_SUSPENDED, VIR_DOMAIN_EVENT_SUSPENDED_FROM_SNAPSHOT, LV_FACT_PAUSED },
		{ VIR_DOMAIN_EVENT_SUSPENDED, VIR_DOMAIN_EVENT_SUSPENDED_API_ERROR, LV_FACT_PAUSED },
		{ VIR_DOMAIN_EVENT_SUSPENDED, VIR_DOMAIN_EVENT_SUSPENDED_POSTCOPY, LV_FACT_MIGRATING_OUT },
		{ VIR_DOMAIN_EVENT_SUSPENDED, VIR_DOMAIN_EVENT_SUSPENDED_POSTCOPY_FAILED, LV_FACT_PAUSED },
		{ VIR_DOMAIN_EVENT_RESUMED, VIR_DOMAIN_EVENT_RESUMED_UNPAUSED, LV_FACT_RESUMED },
		{ VIR_DOMAIN_EVENT_RESUMED, VIR_DOMAIN_EVENT_RESUMED_MIGRATED, LV_FACT_MIGRATED_IN },
		{ VIR_DOMAIN_EVENT_RESUMED, VIR_DOMAIN_EVENT_RESUMED_FROM_SNAPSHOT, LV_FACT_RESUMED },
		{ VIR_DOMAIN_EVENT_RESUMED, VIR_DOMAIN_EVENT_RESUMED_POSTCOPY, LV_FACT_MIGRATED_IN },
		{ VIR_DOMAIN_EVENT_RESUMED, VIR_DOMAIN_EVENT_RESUMED_POSTCOPY_FAILED, LV_FACT_RESUMED },
		{ VIR_DOMAIN_EVENT_STOPPED, VIR_DOMAIN_EVENT_STOPPED_SHUTDOWN, LV_FACT_STOPPED },
		{ VIR_DOMAIN_EVENT_STOPPED, VIR_DOMAIN_EVENT_STOPPED_DESTROYED, LV_FACT_STOPPED },
		{ VIR_DOMAIN_EVENT_STOPPED, VIR_DOMAIN_EVENT_STOPPED_CRASHED, LV_FACT_STOPPED },
		{ VIR_DOMAIN_EVENT_STOPPED, VIR_DOMAIN_EVENT_STOPPED_MIGRATED, LV_FACT_STOPPED },
		{ VIR_DOMAIN_EVENT_STOPPED, VIR_DOMAIN_EVENT_STOPPED_SAVED, LV_FACT_STOPPED },
		{ VIR_DOMAIN_EVENT_STOPPED, VIR_DOMAIN_EVENT_STOPPED_FAILED, LV_FACT_STOPPED },
		{ VIR_DOMAIN_EVENT_STOPPED, VIR_DOMAIN_EVENT_STOPPED_FROM_SNAPSHOT, LV_FACT_STOPPED },
		{ VIR_DOMAIN_EVENT_SHUTDOWN, VIR_DOMAIN_EVENT_SHUTDOWN_FINISHED, LV_FACT_NONE },
		{ VIR_DOMAIN_EVENT_SHUTDOWN, VIR_DOMAIN_EVENT_SHUTDOWN_GUEST, LV_FACT_NONE },
		{ VIR_DOMAIN_EVENT_SHUTDOWN, VIR_DOMAIN_EVENT_SHUTDOWN_HOST, LV_FACT_NONE },
		{ VIR_DOMAIN_EVENT_PMSUSPENDED, VIR_DOMAIN_EVENT_PMSUSPENDED_MEMORY, LV_FACT_PAUSED },
		{ VIR_DOMAIN_EVENT_PMSUSPENDED, VIR_DOMAIN_EVENT_PMSUSPENDED_DISK, LV_FACT_PAUSED },
		{ VIR_DOMAIN_EVENT_CRASHED, VIR_DOMAIN_EVENT_CRASHED_PANICKED, LV_FACT_PAUSED },
		{ VIR_DOMAIN_EVENT_CRASHED, VIR_DOMAIN_EVENT_CRASHED_CRASHLOADED, LV_FACT_NONE },
	};
	static const struct {
		int event, detail;
		enum lv_fact_kind kind;
	} unknown[] = {
		/* a newer libvirtd: the generic meaning of the event */
		{ VIR_DOMAIN_EVENT_STARTED, 99, LV_FACT_STARTED },
		{ VIR_DOMAIN_EVENT_SUSPENDED, 99, LV_FACT_PAUSED },
		{ VIR_DOMAIN_EVENT_RESUMED, 99, LV_FACT_RESUMED },
		{ VIR_DOMAIN_EVENT_STOPPED, -1, LV_FACT_STOPPED },
		{ VIR_DOMAIN_EVENT_SHUTDOWN, 99, LV_FACT_NONE },
		{ 99, 0, LV_FACT_NONE },
		{ -1, 0, LV_FACT_NONE },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		bool known = true;

		if (membership_lv_lifecycle_kind(cases[i].event, cases[i].detail,
						 &known) != cases[i].kind ||
		    !known)
			fail_msg("event %d detail %d", cases[i].event,
				 cases[i].detail);
	}
	for (size_t i = 0; i < sizeof(unknown) / sizeof(unknown[0]); i++) {
		bool known = true;

		if (membership_lv_lifecycle_kind(unknown[i].event,
						 unknown[i].detail, &known) !=
		    unknown[i].kind || known)
			fail_msg("unknown event %d detail %d", unknown[i].event,
				 unknown[i].detail);
	}
}

/* A fact as the libvirt thread would queue it: one domain with n
 * interfaces, each a MAC text and a socket path. */
static struct lv_fact *
fact(enum lv_fact_kind kind, const char *uuid, enum membership_state st,
     int n, ...)
{
	struct lv_fact *f = calloc(1, sizeof(*f));
	struct lv_domain *d;
	va_list ap;

	assert_non_null(f);
	f->kind = kind;
	snprintf(f->uuid, sizeof(f->uuid), "%s", uuid);
	f->doms = calloc(1, sizeof(*f->doms));
	assert_non_null(f->doms);
	f->n_doms = 1;
	d = &f->doms[0];
	snprintf(d->xml.uuid, sizeof(d->xml.uuid), "%s", uuid);
	d->xml.name = strdup("hotplug");
	d->xml.ifaces = calloc((size_t)n + 1, sizeof(*d->xml.ifaces));
	assert_non_null(d->xml.ifaces);
	d->state = st;
	d->persistent = true;
	va_start(ap, n);
	for (int i = 0; i < n; i++) {
		const char *mac = va_arg(ap, const char *);

		assert_int_equal(membership_xml_mac_parse(mac,
			d->xml.ifaces[i].mac), 0);
		d->xml.ifaces[i].socket = strdup(va_arg(ap, const char *));
	}
	va_end(ap);
	d->xml.n_ifaces = (uint32_t)n;
	return f;
}

static int
apply(struct membership_lv *lv, struct lv_fact *f)
{
	int rc = membership_lv_apply(lv, f);

	membership_lv_fact_free(f);
	return rc;
}

/* Device events: the dispatcher diffs the domain's live interfaces
 * against the table (the test driver cannot hot-plug). */
static void
test_device_facts(void **state)
{
	struct fx *fx = *state;
	struct membership_lv bare = {
		.table = fx->m, .log = record_log, .log_ctx = fx,
	};
	struct lv_fact *log;

	/* its first vhost-user interface: the domain enters the table */
	assert_int_equal(apply(&bare, fact(LV_FACT_DEVICES_CHANGED, UUID_A,
		MEMBERSHIP_RUNNING, 1, "52:54:00:00:0a:00", "/s/a0")), 0);
	assert_true(socket_is(fx, MAC_A0, "/s/a0"));
	/* one more */
	assert_int_equal(apply(&bare, fact(LV_FACT_DEVICES_CHANGED, UUID_A,
		MEMBERSHIP_RUNNING, 2, "52:54:00:00:0a:00", "/s/a0",
		"52:54:00:00:0a:01", "/s/a1")), 0);
	assert_int_equal(membership_find(fx->m, UUID_A)->n_ifaces, 2);
	assert_true(socket_is(fx, MAC_A1, "/s/a1"));
	/* the first one unplugged */
	assert_int_equal(apply(&bare, fact(LV_FACT_DEVICES_CHANGED, UUID_A,
		MEMBERSHIP_RUNNING, 1, "52:54:00:00:0a:01", "/s/a1")), 0);
	assert_int_equal(membership_find(fx->m, UUID_A)->n_ifaces, 1);
	assert_true(socket_is(fx, MAC_A0, NULL));
	assert_true(socket_is(fx, MAC_A1, "/s/a1"));
	/* every interface swapped at once: the entry stays */
	assert_int_equal(apply(&bare, fact(LV_FACT_DEVICES_CHANGED, UUID_A,
		MEMBERSHIP_RUNNING, 1, "52:54:00:00:0b:00", "/s/b0")), 0);
	assert_int_equal(membership_count(fx->m), 1);
	assert_true(socket_is(fx, MAC_A1, NULL));
	assert_true(socket_is(fx, MAC_B0, "/s/b0"));
	/* the same socket, another MAC: one out, one in */
	assert_int_equal(apply(&bare, fact(LV_FACT_DEVICES_CHANGED, UUID_A,
		MEMBERSHIP_RUNNING, 1, "52:54:00:00:0a:00", "/s/b0")), 0);
	assert_true(socket_is(fx, MAC_B0, NULL));
	assert_true(socket_is(fx, MAC_A0, "/s/b0"));
	/* the last one gone: so is the entry */
	assert_int_equal(apply(&bare, fact(LV_FACT_DEVICES_CHANGED, UUID_A,
		MEMBERSHIP_RUNNING, 0)), 0);
	assert_int_equal(membership_count(fx->m), 0);

	/* a migration through the dispatcher: destination side */
	assert_int_equal(apply(&bare, fact(LV_FACT_MIGRATING_IN, UUID_B,
		MEMBERSHIP_PAUSED, 1, "52:54:00:00:0b:00", "/s/in")), 0);
	assert_int_equal(state_of(fx, UUID_B), MEMBERSHIP_MIGRATING_IN);
	assert_true(socket_is(fx, MAC_B0, NULL));
	assert_int_equal(apply(&bare, fact(LV_FACT_MIGRATED_IN, UUID_B,
		MEMBERSHIP_RUNNING, 0)), 0);
	assert_true(socket_is(fx, MAC_B0, "/s/in"));
	/* and it leaves again: switch-over, then stopped */
	assert_int_equal(apply(&bare, fact(LV_FACT_MIGRATING_OUT, UUID_B,
		MEMBERSHIP_PAUSED, 0)), 0);
	assert_true(socket_is(fx, MAC_B0, NULL));
	assert_int_equal(apply(&bare, fact(LV_FACT_STOPPED, UUID_B,
		MEMBERSHIP_STOPPED, 0)), 0);
	assert_int_equal(state_of(fx, UUID_B), MEMBERSHIP_STOPPED);

	/* a DEFINED read after the domain was undefined again: skipped */
	struct lv_fact *f = fact(LV_FACT_DEFINED, UUID_C, MEMBERSHIP_STOPPED,
				 1, "52:54:00:00:0c:00", "/s/c");

	f->doms[0].persistent = false;
	assert_int_equal(apply(&bare, f), 0);
	assert_null(membership_find(fx->m, UUID_C));

	/* logs reach the caller's function, on its thread */
	log = calloc(1, sizeof(*log));
	assert_non_null(log);
	log->kind = LV_FACT_LOG;
	log->level = MEMBERSHIP_LOG_WARNING;
	log->msg = strdup("hello from the libvirt thread");
	assert_int_equal(apply(&bare, log), 0);
	assert_true(logged(fx, "hello from the libvirt thread", NULL));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_lifecycle, setup, teardown),
		cmocka_unit_test_setup_teardown(test_transient, setup, teardown),
		cmocka_unit_test_setup_teardown(test_no_vhost_user, setup, teardown),
		cmocka_unit_test_setup_teardown(test_unparsable_mac, setup, teardown),
		cmocka_unit_test_setup_teardown(test_mac_conflict, setup, teardown),
		cmocka_unit_test_setup_teardown(test_resync_on_connect, setup, teardown),
		cmocka_unit_test_setup_teardown(test_poll_mode, setup, teardown),
		cmocka_unit_test_setup_teardown(test_unreachable, setup, teardown),
		cmocka_unit_test_setup_teardown(test_bad_uri, setup, teardown),
		cmocka_unit_test_setup_teardown(test_create_errors, setup, teardown),
		cmocka_unit_test(test_lifecycle_mapping),
		cmocka_unit_test_setup_teardown(test_device_facts, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
