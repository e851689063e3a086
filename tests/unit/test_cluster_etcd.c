/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The cluster directory against real etcd processes (3 members on
 * loopback, started and killed by this test), with two or three vtoed
 * sessions driven by one small loop (epoll on cluster_fd, dispatch):
 *
 *      host A --+                 +-- m0 --+
 *               +-- endpoints --> +-- m1 --+  one etcd cluster
 *      host B --+   (own order)   +-- m2 --+
 *
 *  1. B sees A's ports within 1 s, and a withdrawn one go; A's destroy
 *     revokes its lease, so B drops A at once.
 *  2. The member A talks to is killed: A carries on through the others;
 *     the member B talks to hangs (SIGSTOP): B notices within seconds.
 *  3. A host dies without a word (a child process, SIGKILL): after the
 *     TTL its ports are gone from B.
 *  4. Whole-cluster outage: B goes stale and keeps its table; A publishes
 *     meanwhile; the members come back on their data: B resyncs, is in
 *     sync again and sees what A published during the outage.
 *  5. A's lease revoked behind its back: A notices, takes a new lease and
 *     publishes again.  Hostile keys written by a stranger: refused and
 *     counted by B.
 *
 * Not in the 'unit' suite (needs /usr/bin/etcd, ~30 s): suite 'etcd'.
 */
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <netinet/in.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>
#include <curl/curl.h>

#include "cluster/cluster.h"
#include "cluster/cluster_codec.h"

#define ETCD "/usr/bin/etcd"
#define MEMBERS 3
#define TTL 3

struct member {
	pid_t pid;
	int client, peer;               /* loopback ports */
	char url[64];
};

static struct {
	char dir[64];
	char initial[512];
	struct member m[MEMBERS];
} env;

/* ------------------------------------------------------------- helpers */

static uint64_t
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* Free loopback ports, all held open together so they differ. */
static void
free_ports(int *ports, int n)
{
	int fds[2 * MEMBERS];

	assert_true(n <= 2 * MEMBERS);
	for (int i = 0; i < n; i++) {
		struct sockaddr_in a = { .sin_family = AF_INET,
					 .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
		socklen_t len = sizeof(a);

		fds[i] = socket(AF_INET, SOCK_STREAM, 0);
		assert_true(fds[i] >= 0);
		assert_int_equal(bind(fds[i], (struct sockaddr *)&a, sizeof(a)), 0);
		assert_int_equal(getsockname(fds[i], (struct sockaddr *)&a, &len), 0);
		ports[i] = ntohs(a.sin_port);
	}
	for (int i = 0; i < n; i++)
		close(fds[i]);
}

static void
member_start(int i)
{
	struct member *m = &env.m[i];
	char name[16], data[96], log[96], client[64], peer[64];
	pid_t pid;

	snprintf(name, sizeof(name), "m%d", i);
	snprintf(data, sizeof(data), "%s/m%d", env.dir, i);
	snprintf(log, sizeof(log), "%s/m%d.log", env.dir, i);
	snprintf(client, sizeof(client), "http://127.0.0.1:%d", m->client);
	snprintf(peer, sizeof(peer), "http://127.0.0.1:%d", m->peer);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		int fd = open(log, O_WRONLY | O_CREAT | O_APPEND, 0644);

		/* never outlive the test */
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		if (fd >= 0) {
			dup2(fd, 1);
			dup2(fd, 2);
		}
		execl(ETCD, ETCD, "--name", name, "--data-dir", data,
		      "--listen-client-urls", client,
		      "--advertise-client-urls", client,
		      "--listen-peer-urls", peer,
		      "--initial-advertise-peer-urls", peer,
		      "--initial-cluster", env.initial,
		      "--initial-cluster-state", "new",
		      "--initial-cluster-token", env.dir,
		      "--heartbeat-interval", "50",
		      "--election-timeout", "500",
		      (char *)NULL);
		_exit(127);
	}
	m->pid = pid;
}

static void
member_kill(int i)
{
	if (env.m[i].pid > 0) {
		kill(env.m[i].pid, SIGKILL);
		waitpid(env.m[i].pid, NULL, 0);
		env.m[i].pid = 0;
	}
}

static size_t
sink(char *data, size_t size, size_t nmemb, void *ctx)
{
	size_t n = size * nmemb, *len = ((void **)ctx)[1];
	char *buf = ((void **)ctx)[0];

	if (*len + n < 256) {
		memcpy(buf + *len, data, n);
		*len += n;
		buf[*len] = '\0';
	}
	return n;
}

/* The member answers /health with true (it has a leader). */
static bool
member_healthy(int i)
{
	char url[96], buf[256] = "";
	size_t len = 0;
	void *ctx[2] = { buf, &len };
	CURL *e = curl_easy_init();
	long status = 0;

	snprintf(url, sizeof(url), "%s/health", env.m[i].url);
	curl_easy_setopt(e, CURLOPT_URL, url);
	curl_easy_setopt(e, CURLOPT_NOPROXY, "*");
	curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, 500L);
	curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, sink);
	curl_easy_setopt(e, CURLOPT_WRITEDATA, ctx);
	if (curl_easy_perform(e) == CURLE_OK)
		curl_easy_getinfo(e, CURLINFO_RESPONSE_CODE, &status);
	curl_easy_cleanup(e);
	return status == 200 && strstr(buf, "\"true\"") != NULL;
}

/* A request of our own to etcd (m2), as a stranger would: 0 or -1. */
static int
etcd_post(const char *path, char *body)
{
	char url[96], buf[256] = "";
	size_t len = 0;
	void *ctx[2] = { buf, &len };
	CURL *e = curl_easy_init();
	long status = 0;

	assert_non_null(body);
	snprintf(url, sizeof(url), "%s%s", env.m[2].url, path);
	curl_easy_setopt(e, CURLOPT_URL, url);
	curl_easy_setopt(e, CURLOPT_NOPROXY, "*");
	curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, 2000L);
	curl_easy_setopt(e, CURLOPT_POSTFIELDS, body);
	curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, sink);
	curl_easy_setopt(e, CURLOPT_WRITEDATA, ctx);
	if (curl_easy_perform(e) == CURLE_OK)
		curl_easy_getinfo(e, CURLINFO_RESPONSE_CODE, &status);
	curl_easy_cleanup(e);
	free(body);
	return status == 200 ? 0 : -1;
}

static void
members_wait_healthy(void)
{
	uint64_t t0 = now_ms();

	for (;;) {
		bool all = true;

		for (int i = 0; i < MEMBERS; i++)
			if (env.m[i].pid > 0 && !member_healthy(i))
				all = false;
		if (all)
			break;
		if (now_ms() - t0 > 20000)
			fail_msg("etcd members not healthy after 20 s (logs in %s)",
				 env.dir);
		usleep(100 * 1000);
	}
	print_message("etcd: members healthy after %llu ms\n",
		      (unsigned long long)(now_ms() - t0));
}

static int
rm_entry(const char *path, const struct stat *st, int flag, struct FTW *f)
{
	(void)st;
	(void)flag;
	(void)f;
	return remove(path);
}

/* --------------------------------------------------- the vtoed side */

#define HOSTS_MAX 4

/* The sessions the loop drives. */
static struct cluster *running[HOSTS_MAX];

static void
drive(struct cluster *c)
{
	for (int i = 0; i < HOSTS_MAX; i++) {
		if (running[i] == NULL) {
			running[i] = c;
			return;
		}
	}
	fail_msg("too many sessions");
}

static void
undrive(struct cluster *c)
{
	for (int i = 0; i < HOSTS_MAX; i++)
		if (running[i] == c)
			running[i] = NULL;
}

/* A session with the members in the order given (-1 ends the list). */
static struct cluster *
host_new(const char *name, uint8_t vtep_last, const char *prefix, ...)
{
	struct cluster_conf conf = { .ttl_s = TTL,
				     .vtep = { 10, 0, 0, vtep_last } };
	char err[256] = "";
	struct cluster *c;
	va_list ap;
	int i;

	snprintf(conf.host, sizeof(conf.host), "%s", name);
	snprintf(conf.prefix, sizeof(conf.prefix), "%s", prefix);
	va_start(ap, prefix);
	while ((i = va_arg(ap, int)) >= 0)
		snprintf(conf.endpoints[conf.n_endpoints++], CLUSTER_URL_MAX,
			 "%s", env.m[i].url);
	va_end(ap);
	c = cluster_create(&conf, err, sizeof(err));
	if (c == NULL)
		fail_msg("cluster_create: %s", err);
	drive(c);
	return c;
}

static void
host_destroy(struct cluster *c)
{
	undrive(c);
	cluster_destroy(c);
}

/* What wait_for waits for; N_*: the count is the vni argument. */
enum what { WATCHING, STALE, HAS, HAS_NOT, N_HOSTS, N_PUBLISHED, N_DELETES };

/* Run every session until c shows what, or timeout_ms: how long it took,
 * or -1. */
static long
wait_for(int timeout_ms, struct cluster *c, enum what what, uint32_t vni,
	 uint8_t mac_last, const char *host)
{
	uint64_t t0 = now_ms();
	int ep = epoll_create1(0);

	assert_true(ep >= 0);
	for (int i = 0; i < HOSTS_MAX; i++) {
		struct epoll_event ev = { .events = EPOLLIN };

		if (running[i] == NULL)
			continue;
		ev.data.ptr = running[i];
		assert_int_equal(epoll_ctl(ep, EPOLL_CTL_ADD,
					   cluster_fd(running[i]), &ev), 0);
	}
	for (;;) {
		struct epoll_event evs[HOSTS_MAX];
		struct cluster_info info;
		bool ok = false;

		/* every session at least every 20 ms, at once when ready */
		epoll_wait(ep, evs, HOSTS_MAX, 20);
		for (int i = 0; i < HOSTS_MAX; i++)
			if (running[i] != NULL)
				cluster_dispatch(running[i]);
		cluster_info(c, &info);
		switch (what) {
		case WATCHING:
			ok = info.state == CLUSTER_WATCHING;
			break;
		case STALE:
			ok = info.stale;
			break;
		case N_HOSTS:
			ok = info.n_hosts == vni;
			break;
		case N_PUBLISHED:
			ok = info.n_published == vni;
			break;
		case N_DELETES:
			ok = info.c.deletes == vni;
			break;
		case HAS:
		case HAS_NOT: {
			struct cluster_remote r[64];
			unsigned int n = cluster_remotes(c, r, 64);
			bool has = false;

			for (unsigned int i = 0; i < n && i < 64; i++)
				if (r[i].vni == vni && r[i].mac[5] == mac_last &&
				    strcmp(r[i].host, host) == 0)
					has = true;
			ok = has == (what == HAS);
			break;
		}
		}
		if (ok) {
			close(ep);
			return (long)(now_ms() - t0);
		}
		if (now_ms() - t0 > (uint64_t)timeout_ms) {
			close(ep);
			print_message("timeout: state %s, last error \"%s\"\n",
				      cluster_state_name(info.state),
				      info.last_error);
			return -1;
		}
	}
}

/* Dispatch everything for ms (let things happen). */
static void
run_for(int ms)
{
	uint64_t t0 = now_ms();

	while (now_ms() - t0 < (uint64_t)ms) {
		usleep(20 * 1000);
		for (int i = 0; i < HOSTS_MAX; i++)
			if (running[i] != NULL)
				cluster_dispatch(running[i]);
	}
}

static struct cluster_port
port(uint32_t vni, uint8_t mac_last, const char *name)
{
	struct cluster_port p = { .vni = vni, .n_ips = 1,
				  .mac = { 0x52, 0x54, 0x00, 0x00, 0x01,
					   mac_last } };

	snprintf(p.port, sizeof(p.port), "%s", name);
	p.ips[0] = (struct cluster_ip){ .family = 4,
					.addr = { 10, 1, 0, mac_last } };
	return p;
}

#define WAIT_OK(ms, c, what, vni, mac, host, label) do { \
	long t_ = wait_for((ms), (c), (what), (vni), (mac), (host)); \
	if (t_ < 0) \
		fail_msg("%s: not within %d ms", (label), (ms)); \
	print_message("  %-52s %5ld ms\n", (label), t_); \
} while (0)

static void
print_info(const char *who, struct cluster *c)
{
	struct cluster_info i;

	cluster_info(c, &i);
	print_message("  %s: %s, requests %llu errors %llu reconnects %llu "
		      "grants %llu lost %llu resyncs %llu, last error \"%s\"\n",
		      who, cluster_state_name(i.state),
		      (unsigned long long)i.c.requests,
		      (unsigned long long)i.c.errors,
		      (unsigned long long)i.c.reconnects,
		      (unsigned long long)i.c.lease_grants,
		      (unsigned long long)i.c.lease_lost,
		      (unsigned long long)i.c.resyncs, i.last_error);
}

/* ---------------------------------------------------------------- tests */

static void
test_publish_withdraw(void **state)
{
	struct cluster *a = host_new("hv-a", 1, "/t1/", 0, 1, 2, -1);
	struct cluster *b = host_new("hv-b", 2, "/t1/", 1, 2, 0, -1);
	struct cluster_port ports[2] = { port(5000, 1, "vm1.0"),
					 port(5000, 2, "vm2.0") };
	struct cluster_host h[4];
	struct cluster_remote r[4];
	struct cluster_info info;

	(void)state;
	WAIT_OK(5000, a, WATCHING, 0, 0, NULL, "A in sync");
	WAIT_OK(5000, b, WATCHING, 0, 0, NULL, "B in sync");
	cluster_publish(a, ports, 2);
	WAIT_OK(1000, b, HAS, 5000, 1, "hv-a", "B sees A's first port");
	WAIT_OK(1000, b, HAS, 5000, 2, "hv-a", "B sees A's second port");
	assert_int_equal(cluster_remotes(b, r, 4), 2);
	assert_string_equal(r[0].port, "vm1.0");
	assert_memory_equal(r[0].vtep, ((const uint8_t[]){ 10, 0, 0, 1 }), 4);
	assert_int_equal(r[0].n_ips, 1);
	assert_int_equal(r[0].ips[0].addr[3], 1);
	assert_int_equal(cluster_hosts(b, h, 4), 1);
	assert_string_equal(h[0].name, "hv-a");
	assert_int_equal(h[0].n_ports, 2);
	/* and A sees B, which runs no port: a host without entries */
	WAIT_OK(1000, a, N_HOSTS, 1, 0, NULL, "A sees B's host key");
	assert_int_equal(cluster_hosts(a, h, 4), 1);
	assert_string_equal(h[0].name, "hv-b");
	assert_int_equal(cluster_remotes(a, NULL, 0), 0);
	/* its puts answered (B may see them first, through its watch) */
	WAIT_OK(1000, a, N_PUBLISHED, 3, 0, NULL, "A's 3 keys published");
	cluster_info(a, &info);
	assert_int_not_equal(info.lease_id, 0);

	cluster_publish(a, ports, 1);
	WAIT_OK(1000, b, HAS_NOT, 5000, 2, "hv-a", "B drops A's withdrawn port");
	assert_int_equal(cluster_remotes(b, NULL, 0), 1);
	/* its own watch may tell A before etcd's answer does */
	WAIT_OK(1000, a, N_DELETES, 1, 0, NULL, "A's delete answered");
	cluster_info(a, &info);
	assert_int_equal(info.n_published, 2);
	assert_true(info.c.puts >= 3);

	/* a clean exit revokes the lease: gone at once, not after the TTL */
	host_destroy(a);
	WAIT_OK(1000, b, HAS_NOT, 5000, 1, "hv-a", "A destroyed: B drops it");
	assert_int_equal(cluster_hosts(b, NULL, 0), 0);
	cluster_info(b, &info);
	assert_int_equal(info.c.rejected, 0);
	assert_int_equal(info.c.conflicts, 0);
	host_destroy(b);
}

static void
test_member_lost(void **state)
{
	struct cluster *a = host_new("hv-a", 1, "/t2/", 0, 1, 2, -1);
	struct cluster *b = host_new("hv-b", 2, "/t2/", 1, 2, 0, -1);
	struct cluster_port ports[3] = { port(7, 1, "p1"), port(7, 2, "p2"),
					 port(7, 3, "p3") };
	struct cluster_info info;

	(void)state;
	WAIT_OK(5000, a, WATCHING, 0, 0, NULL, "A in sync (on m0)");
	WAIT_OK(5000, b, WATCHING, 0, 0, NULL, "B in sync (on m1)");
	cluster_publish(a, ports, 1);
	WAIT_OK(1000, b, HAS, 7, 1, "hv-a", "B sees p1");

	/* A's member dies */
	member_kill(0);
	cluster_publish(a, ports, 2);
	WAIT_OK(5000, b, HAS, 7, 2, "hv-a", "m0 killed: B sees A's p2");
	WAIT_OK(5000, a, WATCHING, 0, 0, NULL, "A in sync again");
	cluster_info(a, &info);
	assert_string_not_equal(info.endpoint, env.m[0].url);
	assert_true(info.c.reconnects >= 1);
	print_info("A", a);
	member_start(0);                /* quorum for what follows */
	members_wait_healthy();

	/* B's member hangs: its connections stay open, it says nothing */
	kill(env.m[1].pid, SIGSTOP);
	cluster_publish(a, &ports[1], 2);       /* p1 withdrawn, p3 added */
	WAIT_OK(8000, b, HAS, 7, 3, "hv-a", "m1 hung: B sees A's p3");
	WAIT_OK(1000, b, HAS_NOT, 7, 1, "hv-a", "and p1 gone");
	cluster_info(b, &info);
	assert_string_not_equal(info.endpoint, env.m[1].url);
	print_info("B", b);
	kill(env.m[1].pid, SIGCONT);
	members_wait_healthy();
	host_destroy(a);
	host_destroy(b);
}

/* The dead host: a child process that publishes and is killed. */
static pid_t
child_host(void)
{
	pid_t pid = fork();

	assert_true(pid >= 0);
	if (pid == 0) {
		struct cluster_conf conf = { .ttl_s = 2, .host = "hv-c",
					     .vtep = { 10, 0, 0, 3 },
					     .prefix = "/t3/",
					     .n_endpoints = MEMBERS };
		struct cluster_port p = port(9, 9, "doomed");
		struct cluster *c;
		char err[256];

		prctl(PR_SET_PDEATHSIG, SIGKILL);
		for (int i = 0; i < MEMBERS; i++)
			snprintf(conf.endpoints[i], CLUSTER_URL_MAX, "%s",
				 env.m[i].url);
		c = cluster_create(&conf, err, sizeof(err));
		if (c == NULL)
			_exit(1);
		cluster_publish(c, &p, 1);
		for (;;) {
			usleep(20 * 1000);
			cluster_dispatch(c);
		}
	}
	return pid;
}

static void
test_dead_host(void **state)
{
	pid_t child = child_host();        /* before B: shares nothing */
	struct cluster *b = host_new("hv-b", 2, "/t3/", 2, 1, 0, -1);
	uint64_t t0;
	long t;

	(void)state;
	WAIT_OK(5000, b, HAS, 9, 9, "hv-c", "B sees C's port");
	kill(child, SIGKILL);
	waitpid(child, NULL, 0);
	t0 = now_ms();
	/* not before a keepalive could have been missed ... */
	t = wait_for(2 * 1000 + 3000, b, HAS_NOT, 9, 9, "hv-c");
	if (t < 0)
		fail_msg("C's port still there %llu ms after its death",
			 (unsigned long long)(now_ms() - t0));
	print_message("  %-52s %5ld ms (TTL 2 s)\n",
		      "C killed: its port gone from B", t);
	assert_int_equal(cluster_hosts(b, NULL, 0), 0);
	host_destroy(b);
}

static void
test_outage(void **state)
{
	struct cluster *a = host_new("hv-a", 1, "/t4/", 0, 1, 2, -1);
	struct cluster *b = host_new("hv-b", 2, "/t4/", 2, 0, 1, -1);
	struct cluster_port ports[2] = { port(11, 1, "before"),
					 port(11, 2, "during") };
	struct cluster_info info;
	uint64_t gen;

	(void)state;
	WAIT_OK(5000, a, WATCHING, 0, 0, NULL, "A in sync");
	WAIT_OK(5000, b, WATCHING, 0, 0, NULL, "B in sync");
	cluster_publish(a, ports, 1);
	WAIT_OK(1000, b, HAS, 11, 1, "hv-a", "B sees A's port");
	gen = cluster_generation(b);

	for (int i = 0; i < MEMBERS; i++)
		member_kill(i);
	WAIT_OK(5000, b, STALE, 0, 0, NULL, "all members killed: B stale");
	WAIT_OK(5000, a, STALE, 0, 0, NULL, "A stale");
	/* A publishes while nobody listens */
	cluster_publish(a, ports, 2);
	run_for(1500);
	cluster_info(b, &info);
	assert_true(info.stale);
	assert_int_not_equal(info.state, CLUSTER_WATCHING);
	assert_true(info.synced_ms > 0);
	/* the table as it was */
	assert_int_equal(cluster_generation(b), gen);
	assert_int_equal(cluster_remotes(b, NULL, 0), 1);
	assert_int_equal(info.n_remotes, 1);
	assert_true(info.last_error[0] != '\0');
	print_info("B during the outage", b);

	for (int i = 0; i < MEMBERS; i++)
		member_start(i);
	WAIT_OK(20000, b, WATCHING, 0, 0, NULL, "members back: B in sync");
	WAIT_OK(5000, b, HAS, 11, 2, "hv-a", "B sees what A published meanwhile");
	WAIT_OK(5000, b, HAS, 11, 1, "hv-a", "and what it had before");
	cluster_info(b, &info);
	assert_false(info.stale);
	assert_true(info.c.resyncs >= 2);
	assert_true(info.c.reconnects >= 1);
	print_info("A", a);
	print_info("B", b);
	host_destroy(a);
	host_destroy(b);
}

static void
test_lease_revoked(void **state)
{
	struct cluster *a = host_new("hv-a", 1, "/t5/", 0, 1, 2, -1);
	struct cluster *b = host_new("hv-b", 2, "/t5/", 1, 2, 0, -1);
	struct cluster_port p = port(13, 1, "p1");
	struct cluster_info before, after;
	uint64_t rejected;

	(void)state;
	WAIT_OK(5000, a, WATCHING, 0, 0, NULL, "A in sync");
	WAIT_OK(5000, b, WATCHING, 0, 0, NULL, "B in sync");
	cluster_publish(a, &p, 1);
	WAIT_OK(1000, b, HAS, 13, 1, "hv-a", "B sees A's port");
	cluster_info(a, &before);

	/* someone revokes A's lease: its entries go with it */
	assert_int_equal(etcd_post("/v3/lease/revoke",
				   cluster_req_lease(before.lease_id)), 0);
	WAIT_OK(1000, b, HAS_NOT, 13, 1, "hv-a", "A's lease revoked: B drops it");
	WAIT_OK(5000, b, HAS, 13, 1, "hv-a", "A republished under a new lease");
	cluster_info(a, &after);
	assert_true(after.lease_id != before.lease_id);
	assert_true(after.c.lease_lost >= before.c.lease_lost + 1);
	assert_true(after.c.lease_grants >= before.c.lease_grants + 1);
	print_info("A", a);

	/* a stranger writes nonsense under the prefix */
	cluster_info(b, &before);
	rejected = before.c.rejected;
	assert_int_equal(etcd_post("/v3/kv/put", cluster_req_put(
		"/t5/ports/13/52:54:00:00:01:09/hv-x", "{\"host\":\"hv-y\","
		"\"vtep\":\"10.0.0.9\",\"vni\":13,\"mac\":"
		"\"52:54:00:00:01:09\",\"port\":\"x\"}", 0)), 0);
	assert_int_equal(etcd_post("/v3/kv/put", cluster_req_put(
		"/t5/ports/13/FF:FF:FF:FF:FF:FF/hv-x", "{}", 0)), 0);
	assert_int_equal(etcd_post("/v3/kv/put", cluster_req_put(
		"/t5/hosts/hv-x", "\x01\x02 not json", 0)), 0);
	run_for(300);
	cluster_info(b, &after);
	/* (more if B had to read everything again meanwhile) */
	assert_true(after.c.rejected >= rejected + 3);
	assert_int_equal(after.n_remotes, 1);
	assert_int_equal(after.n_hosts, 1);
	assert_true(after.state == CLUSTER_WATCHING);
	host_destroy(a);
	WAIT_OK(1000, b, HAS_NOT, 13, 1, "hv-a", "A destroyed: B drops it");
	host_destroy(b);
}

/* A bad configuration is refused with a reason. */
static void
test_conf(void **state)
{
	struct cluster_conf conf = { .n_endpoints = 1, .ttl_s = 2,
				     .host = "hv-a", .vtep = { 10, 0, 0, 1 },
				     .endpoints = { "https://127.0.0.1:2379" } };
	char err[256];

	(void)state;
	assert_null(cluster_create(&conf, err, sizeof(err)));
	assert_int_equal(errno, EINVAL);
	assert_non_null(strstr(err, "http://"));
	snprintf(conf.endpoints[0], CLUSTER_URL_MAX, "http://127.0.0.1:1");
	snprintf(conf.host, sizeof(conf.host), "hv a");
	assert_null(cluster_create(&conf, err, sizeof(err)));
	assert_non_null(strstr(err, "host"));
	snprintf(conf.host, sizeof(conf.host), "hv-a");
	conf.ttl_s = 1;
	assert_null(cluster_create(&conf, err, sizeof(err)));
	assert_non_null(strstr(err, "ttl"));
	conf.ttl_s = 2;
	conf.n_endpoints = 0;
	assert_null(cluster_create(&conf, err, sizeof(err)));
	conf.n_endpoints = 1;
	snprintf(conf.prefix, sizeof(conf.prefix), "/no-slash");
	assert_null(cluster_create(&conf, err, sizeof(err)));
	conf.prefix[0] = '\0';
	/* a fine one, against nothing: backs off, never blocks */
	struct cluster *c = cluster_create(&conf, err, sizeof(err));
	struct cluster_info info;

	assert_non_null(c);
	drive(c);
	WAIT_OK(2000, c, STALE, 0, 0, NULL, "nothing listening: stale");
	run_for(300);
	cluster_info(c, &info);
	assert_int_equal(info.state == CLUSTER_WATCHING, false);
	assert_true(info.c.errors >= 1);
	host_destroy(c);
	cluster_destroy(NULL);
}

/* ---------------------------------------------------------------- main */

/* A failed test leaves its sessions behind: not for the next one. */
static int
sessions_teardown(void **state)
{
	(void)state;
	for (int i = 0; i < HOSTS_MAX; i++) {
		cluster_destroy(running[i]);
		running[i] = NULL;
	}
	return 0;
}

static int
group_setup(void **state)
{
	int ports[2 * MEMBERS];
	size_t off = 0;

	(void)state;
	snprintf(env.dir, sizeof(env.dir), "/tmp/vtoe-cl-etcd.XXXXXX");
	if (mkdtemp(env.dir) == NULL)
		return -1;
	free_ports(ports, 2 * MEMBERS);
	for (int i = 0; i < MEMBERS; i++) {
		env.m[i].client = ports[2 * i];
		env.m[i].peer = ports[2 * i + 1];
		snprintf(env.m[i].url, sizeof(env.m[i].url),
			 "http://127.0.0.1:%d", env.m[i].client);
		off += (size_t)snprintf(env.initial + off,
					sizeof(env.initial) - off,
					"%sm%d=http://127.0.0.1:%d",
					i ? "," : "", i, env.m[i].peer);
	}
	for (int i = 0; i < MEMBERS; i++)
		member_start(i);
	members_wait_healthy();
	return 0;
}

static int
group_teardown(void **state)
{
	(void)state;
	for (int i = 0; i < MEMBERS; i++) {
		if (env.m[i].pid > 0)
			kill(env.m[i].pid, SIGCONT);
		member_kill(i);
	}
	if (getenv("VTOE_KEEP") == NULL)
		nftw(env.dir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
	else
		print_message("etcd data and logs kept in %s\n", env.dir);
	return 0;
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_teardown(test_conf, sessions_teardown),
		cmocka_unit_test_teardown(test_publish_withdraw, sessions_teardown),
		cmocka_unit_test_teardown(test_member_lost, sessions_teardown),
		cmocka_unit_test_teardown(test_dead_host, sessions_teardown),
		cmocka_unit_test_teardown(test_outage, sessions_teardown),
		cmocka_unit_test_teardown(test_lease_revoked, sessions_teardown),
	};
	int rc;

	if (access(ETCD, X_OK) != 0) {
		printf("SKIP: cluster_etcd: %s missing (Debian package "
		       "etcd-server)\n", ETCD);
		printf("SKIP: cluster_etcd: ******** THIS TEST DID NOT RUN "
		       "********\n");
		return 77;
	}
	signal(SIGPIPE, SIG_IGN);
	curl_global_init(CURL_GLOBAL_DEFAULT);
	rc = cmocka_run_group_tests(tests, group_setup, group_teardown);
	curl_global_cleanup();
	return rc;
}
