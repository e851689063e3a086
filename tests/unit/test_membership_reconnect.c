/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The adapter through a real libvirtd, killed and restarted under it:
 *
 *   this test --(rw)--+                      libvirtd (private: its own
 *                     +--> DIR/libvirt-sock  sockets in DIR, no driver
 *   adapter ----(ro)--+    test+unix:///     modules, serves the in-daemon
 *                          default           test driver)
 *
 * A domain created over the socket shows up through remote events; the
 * daemon is killed (close callback: "connection lost", retries with
 * backoff), restarted with a fresh test driver (the domain is gone), and
 * the adapter reconnects, resyncs (the entry goes) and listens again (a
 * new domain shows up by event).  Skipped (77) without libvirtd.
 */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>
#include <libvirt/libvirt.h>
#include <libvirt/virterror.h>

#include "membership/membership.h"
#include "membership/membership_libvirt.h"

#define LIBVIRTD "/usr/sbin/libvirtd"
#define WAIT_MS 15000

#define UUID_A "aaaaaaaa-0000-4000-8000-00000000000a"
#define UUID_B "bbbbbbbb-0000-4000-8000-00000000000b"

static const uint8_t MAC_A[6] = { 0x52, 0x54, 0x00, 0x00, 0x0a, 0x00 };

struct fx {
	char dir[64];
	char sock[128];
	char uri[192];
	pid_t daemon;
	struct membership *m;
	struct membership_lv *lv;
	int n_logs;
	char logs[256][512];
};

static void
record_log(void *ctx, enum membership_log_level level, const char *msg)
{
	struct fx *fx = ctx;

	(void)level;
	if (fx->n_logs < 256)
		snprintf(fx->logs[fx->n_logs++], sizeof(fx->logs[0]), "%s", msg);
	if (getenv("VTOE_TEST_VERBOSE") != NULL)
		fprintf(stderr, "log: %s\n", msg);
}

static bool
logged(const struct fx *fx, const char *a)
{
	for (int i = 0; i < fx->n_logs; i++)
		if (strstr(fx->logs[i], a) != NULL)
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
daemon_start(struct fx *fx)
{
	char conf[128], drivers[128], pidfile[128], log[128], env_dir[160];
	char env_path[] = "PATH=/usr/sbin:/usr/bin:/sbin:/bin";
	/* An empty driver directory: only the built-in test driver, no QEMU
	 * driver touching the host.  Built before fork(): the adapter's
	 * thread runs, and the child may only call async-signal-safe
	 * functions until exec. */
	char *envp[] = { env_dir, env_path, NULL };
	FILE *f;
	uint64_t until;

	snprintf(conf, sizeof(conf), "%s/libvirtd.conf", fx->dir);
	snprintf(drivers, sizeof(drivers), "%s/drivers", fx->dir);
	snprintf(pidfile, sizeof(pidfile), "%s/libvirtd.pid", fx->dir);
	snprintf(log, sizeof(log), "%s/libvirtd.log", fx->dir);
	snprintf(env_dir, sizeof(env_dir), "LIBVIRT_DRIVER_DIR=%s", drivers);
	mkdir(drivers, 0700);
	f = fopen(conf, "w");
	assert_non_null(f);
	fprintf(f, "unix_sock_dir = \"%s\"\n"
		"auth_unix_rw = \"none\"\nauth_unix_ro = \"none\"\n"
		"log_outputs = \"3:file:%s\"\n", fx->dir, log);
	fclose(f);
	unlink(fx->sock);

	fx->daemon = fork();
	assert_true(fx->daemon >= 0);
	if (fx->daemon == 0) {
		int null = open("/dev/null", O_RDWR);

		dup2(null, 1);
		dup2(null, 2);
		execle(LIBVIRTD, LIBVIRTD, "--config", conf, "--pid-file",
		       pidfile, (char *)NULL, envp);
		_exit(127);
	}
	until = now_ms() + WAIT_MS;
	while (access(fx->sock, F_OK) != 0) {
		struct timespec ms10 = { .tv_nsec = 10000000 };

		if (now_ms() > until)
			fail_msg("libvirtd did not create %s", fx->sock);
		nanosleep(&ms10, NULL);
		if (fx->lv != NULL)
			membership_lv_dispatch(fx->lv);
	}
}

static void
daemon_stop(struct fx *fx)
{
	if (fx->daemon <= 0)
		return;
	kill(fx->daemon, SIGTERM);
	waitpid(fx->daemon, NULL, 0);
	fx->daemon = 0;
}

static char *
domain_xml(const char *name, const char *uuid, const char *mac,
	   const char *path)
{
	char *xml = malloc(2048);

	assert_non_null(xml);
	snprintf(xml, 2048,
		 "<domain type='test'><name>%s</name><uuid>%s</uuid>"
		 "<memory unit='KiB'>1048576</memory>"
		 "<memoryBacking><source type='memfd'/><access mode='shared'/>"
		 "</memoryBacking><os><type>hvm</type></os><devices>"
		 "<interface type='vhostuser'><mac address='%s'/>"
		 "<source type='unix' path='%s' mode='client'/>"
		 "<model type='virtio'/></interface></devices></domain>",
		 name, uuid, mac, path);
	return xml;
}

/* Over its own connection, as `virsh create` from another process. */
static void
create_domain(struct fx *fx, const char *name, const char *uuid,
	      const char *mac, const char *path)
{
	virConnectPtr c = virConnectOpen(fx->uri);
	char *xml = domain_xml(name, uuid, mac, path);
	virDomainPtr dom;

	if (c == NULL)
		fail_msg("virConnectOpen(%s): %s", fx->uri,
			 virGetLastErrorMessage());
	dom = virDomainCreateXML(c, xml, 0);
	free(xml);
	if (dom == NULL)
		fail_msg("create %s: %s", name, virGetLastErrorMessage());
	virDomainFree(dom);
	virConnectClose(c);
}

static enum membership_state
state_of(const struct fx *fx, const char *uuid)
{
	const struct membership_vm *v = membership_find(fx->m, uuid);

	return v != NULL ? v->state : (enum membership_state)-1;
}

static void
test_reconnect(void **state)
{
	struct fx *fx = *state;
	struct membership_lv_stats st;
	struct membership_lv_params p = {
		.uri = fx->uri, .mode = MEMBERSHIP_LV_EVENTS,
		.backoff_min_ms = 50, .backoff_max_ms = 400,
		.log = record_log, .log_ctx = fx,
	};
	const char *s;

	daemon_start(fx);
	fx->lv = membership_lv_create(fx->m, &p);
	assert_non_null(fx->lv);
	WAIT_FOR(fx, (membership_lv_stats_get(fx->lv, &st), st.connected));

	/* an event through libvirtd */
	create_domain(fx, "remote-a", UUID_A, "52:54:00:00:0a:00", "/s/a");
	WAIT_FOR(fx, state_of(fx, UUID_A) == MEMBERSHIP_RUNNING);
	s = membership_mac_socket(fx->m, MAC_A);
	assert_non_null(s);
	assert_string_equal(s, "/s/a");

	/* libvirtd dies: noticed, retried with backoff, the table kept */
	daemon_stop(fx);
	WAIT_FOR(fx, logged(fx, "connection lost"));
	WAIT_FOR(fx, (membership_lv_stats_get(fx->lv, &st),
		      st.connect_failures >= 2));
	assert_false(st.connected);
	assert_int_equal(st.disconnects, 1);
	assert_int_equal(state_of(fx, UUID_A), MEMBERSHIP_RUNNING);

	/* back, with a fresh test driver: the domain is gone; the resync on
	 * reconnect says so, without any event */
	daemon_start(fx);
	WAIT_FOR(fx, membership_find(fx->m, UUID_A) == NULL);
	membership_lv_stats_get(fx->lv, &st);
	assert_true(st.connected);
	assert_int_equal(st.resyncs, 2);
	assert_null(membership_mac_socket(fx->m, MAC_A));

	/* and events flow again */
	create_domain(fx, "remote-b", UUID_B, "52:54:00:00:0b:00", "/s/b");
	WAIT_FOR(fx, state_of(fx, UUID_B) == MEMBERSHIP_RUNNING);
	membership_lv_stats_get(fx->lv, &st);
	assert_int_equal(st.resyncs, 2);
}

static int
setup(void **state)
{
	struct fx *fx = calloc(1, sizeof(*fx));
	struct membership_params p;

	assert_non_null(fx);
	snprintf(fx->dir, sizeof(fx->dir), "/tmp/vtoe-lvd-XXXXXX");
	assert_non_null(mkdtemp(fx->dir));
	snprintf(fx->sock, sizeof(fx->sock), "%s/libvirt-sock", fx->dir);
	snprintf(fx->uri, sizeof(fx->uri), "test+unix:///default?socket=%s",
		 fx->sock);
	p = (struct membership_params){ .log = record_log, .log_ctx = fx };
	fx->m = membership_create(&p);
	assert_non_null(fx->m);
	*state = fx;
	return 0;
}

static int
teardown(void **state)
{
	struct fx *fx = *state;
	char cmd[128];

	membership_lv_destroy(fx->lv);
	daemon_stop(fx);
	membership_destroy(fx->m);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", fx->dir);
	if (system(cmd) != 0)
		fprintf(stderr, "could not remove %s\n", fx->dir);
	free(fx);
	return 0;
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_reconnect, setup, teardown),
	};

	if (access(LIBVIRTD, X_OK) != 0) {
		printf("skip: %s not installed (Debian: libvirt-daemon)\n",
		       LIBVIRTD);
		return 77;
	}
	/* As vtoed does (apps/vtoed/main.c): a write to the killed daemon's
	 * socket must be an EPIPE for libvirt to handle, not the end of us. */
	signal(SIGPIPE, SIG_IGN);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
