/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * membership-bench: how fast the co-residency table (src/membership)
 * follows libvirt, through a real libvirtd, in the adapter's two modes
 * (events, and polling every --interval ms), with 0..1000 background
 * domains, and what each mode costs in CPU (this process and libvirtd).
 *
 *   membership-bench [--events N] [--poll-events N] [--interval MS]
 *                    [--idle S] [--bg 0,10,100,1000] [--modes events,poll]
 *                    [--seed N] [--max-time S] [--quiet-wait S]
 *                    [--quiet-pct P] [--libvirtd PATH] [-v]
 *
 *   this process                                  libvirtd (private: its
 *   +----------------------------------------+    own sockets in a temp
 *   | actor (main thread): own rw connection  |--> dir, LIBVIRT_DRIVER_DIR
 *   |   create/suspend/resume/destroy "probe" |    empty, so it serves the
 *   | adapter's libvirt thread: ro connection |<-> in-daemon test driver
 *   | dispatcher thread: epoll on             |    only; no QEMU)
 *   |   membership_lv_fd() + stop eventfd,    |
 *   |   membership_lv_dispatch() -> table ->  |
 *   |   on_change: CLOCK_MONOTONIC stamp      |
 *   +----------------------------------------+
 *
 * One sample: the actor takes t_start (CLOCK_MONOTONIC, just before the
 * libvirt call starts), makes the call (virDomainCreateXML / Suspend /
 * Resume / Destroy on the probe domain, which has one vhost-user
 * interface), takes t_return just after it returns, and waits until the
 * table's on_change callback, on the dispatching thread, has stamped the
 * matching change (ADDED running / STATE paused / STATE running /
 * REMOVED).  Latency = t_table - t_start (the headline: includes the
 * actor's own RPC); also t_table - t_return (negative when the table saw
 * the change before the actor's call returned).  In poll mode the actor
 * first sleeps a uniformly random 0..interval, so that its calls are not
 * phase-locked to the polls (otherwise each call would land just after a
 * poll, and the lag would be a whole interval).
 *
 * CPU, per configuration: an idle window of --idle seconds (adapter
 * connected, initial listing applied, nothing happening), then the event
 * phase.  This process's CPU is CLOCK_PROCESS_CPUTIME_ID minus the actor
 * thread's CLOCK_THREAD_CPUTIME_ID: the adapter's libvirt thread plus the
 * dispatcher.  libvirtd's is its process CPU clock (clock_getcpuclockid:
 * utime + stime of /proc/PID/stat, in ns instead of 10 ms ticks; the
 * totals are printed side by side at the end).  Per event, libvirtd's CPU
 * includes doing the actor's operation itself: the "none" rows run the
 * same operations with no adapter connected, as the baseline to subtract.
 * Each configuration first runs one unrecorded create..destroy cycle.
 *
 * Exit status: 0, 1 on a failure, 2 on bad usage, 77 without libvirtd.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <libvirt/libvirt.h>
#include <libvirt/virterror.h>

#include "membership/membership.h"
#include "membership/membership_libvirt.h"

#define DEFAULT_LIBVIRTD "/usr/sbin/libvirtd"
#define PROBE_NAME "probe"
#define PROBE_UUID "00000000-0000-4000-8000-0000000b0001"   /* lower case:
							       * as the table
							       * folds it */
#define PROBE_MAC "52:54:00:0b:00:01"
#define PROBE_SOCK "/run/vtoe/probe.sock"
#define BG_MAX 100000
#define BG_LIST_MAX 16
#define SETTLE_MS 60000         /* initial listing of many domains */

enum op { OP_CREATE, OP_SUSPEND, OP_RESUME, OP_DESTROY, OP_COUNT };
static const char *const op_names[OP_COUNT] = {
	"create", "suspend", "resume", "destroy",
};

enum bmode { BM_NONE, BM_EVENTS, BM_POLL };
static const char *const bmode_names[] = { "none", "events", "poll" };

struct opts {
	uint32_t events;                /* samples per config, events mode */
	uint32_t poll_events;           /* samples per config, poll mode */
	uint32_t interval_ms;
	uint32_t idle_s;
	uint32_t bg[BG_LIST_MAX];
	uint32_t n_bg;
	bool mode_events;
	bool mode_poll;
	uint64_t seed;
	uint32_t max_time_s;
	uint32_t quiet_wait_s;          /* per config, 0: do not wait */
	uint32_t quiet_pct;             /* others' CPU that counts as quiet */
	const char *libvirtd;
	bool verbose;
};

/* ------------------------------------------------------------ time, CPU */

static uint64_t
now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static void
sleep_ns(uint64_t ns)
{
	struct timespec ts = {
		.tv_sec = (time_t)(ns / 1000000000u),
		.tv_nsec = (long)(ns % 1000000000u),
	};

	while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
		;
}

static uint64_t
clock_us(clockid_t id)
{
	struct timespec ts;

	if (clock_gettime(id, &ts) != 0)
		return 0;
	return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

/* utime + stime of pid from /proc/PID/stat, in microseconds (clock-tick
 * resolution: 10 ms).  Only a cross-check of the CPU clock below. */
static uint64_t
proc_stat_cpu_us(pid_t pid)
{
	char path[64], buf[1024], *p;
	unsigned long long ut = 0, st = 0;
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return 0;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return 0;
	buf[n] = '\0';
	/* The command may hold spaces and ')': fields restart after the
	 * last ')', with field 3 (state); utime and stime are 14 and 15. */
	p = strrchr(buf, ')');
	if (p == NULL ||
	    sscanf(p + 1, " %*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %llu %llu",
		   &ut, &st) != 2)
		return 0;
	return (ut + st) * 1000000u / (unsigned long long)sysconf(_SC_CLK_TCK);
}

/*
 * CPU clocks, nanosecond-precise (what utime + stime in /proc/PID/stat
 * count too, in 10 ms ticks): this process, the actor (main) thread, and
 * libvirtd through clock_getcpuclockid() -- all its threads, also ones
 * that have exited.
 */
struct cpu_snap {
	uint64_t wall_ns;
	uint64_t self_us;               /* whole process */
	uint64_t actor_us;              /* main thread */
	uint64_t lvd_us;                /* libvirtd */
	uint64_t busy_us;               /* the machine: /proc/stat, ticks */
};

/* Busy time of every CPU of the machine (user, nice, system, irq,
 * softirq; guest is inside user), in microseconds. */
static uint64_t
machine_busy_us(void)
{
	unsigned long long v[7] = { 0 };
	char buf[512];
	ssize_t n;
	int fd = open("/proc/stat", O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return 0;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return 0;
	buf[n] = '\0';
	if (sscanf(buf, "cpu %llu %llu %llu %llu %llu %llu %llu", &v[0],
		   &v[1], &v[2], &v[3], &v[4], &v[5], &v[6]) != 7)
		return 0;
	/* user nice system [idle iowait] irq softirq */
	return (v[0] + v[1] + v[2] + v[5] + v[6]) * 1000000u /
	       (unsigned long long)sysconf(_SC_CLK_TCK);
}

static pid_t daemon_pid;
static clockid_t daemon_clock;

/* Called on the actor (main) thread only. */
static void
cpu_snap(struct cpu_snap *s)
{
	s->wall_ns = now_ns();
	s->self_us = clock_us(CLOCK_PROCESS_CPUTIME_ID);
	s->actor_us = clock_us(CLOCK_THREAD_CPUTIME_ID);
	s->lvd_us = clock_us(daemon_clock);
	s->busy_us = machine_busy_us();
}

/* CPU of everything else on the machine between two snaps, in % of one
 * CPU (10 ms ticks: coarse over short phases). */
static double
foreign_pct(const struct cpu_snap *a, const struct cpu_snap *z)
{
	double busy = (double)z->busy_us - (double)a->busy_us;
	double ours = ((double)z->self_us - (double)a->self_us) +
		      ((double)z->lvd_us - (double)a->lvd_us);
	double wall = (double)(z->wall_ns - a->wall_ns) / 1e3;
	double f = wall > 0 ? (busy - ours) / wall * 100 : 0;

	return f > 0 ? f : 0;
}

/* Microseconds between two snaps: libvirtd's, or this process's minus
 * the actor thread's. */
static double
cpu_delta(const struct cpu_snap *a, const struct cpu_snap *z, bool lvd)
{
	if (lvd)
		return (double)z->lvd_us - (double)a->lvd_us;
	return ((double)z->self_us - (double)a->self_us) -
	       ((double)z->actor_us - (double)a->actor_us);
}

/* ------------------------------------------------------------ libvirtd */

static char work_dir[64];
static char sock_path[128];
static char uri[192];

static void
cleanup_dir(void)
{
	char cmd[128];

	if (work_dir[0] == '\0')
		return;
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", work_dir);
	if (system(cmd) != 0)
		fprintf(stderr, "could not remove %s\n", work_dir);
	work_dir[0] = '\0';
}

static void
daemon_stop(void)
{
	if (daemon_pid <= 0)
		return;
	kill(daemon_pid, SIGTERM);
	waitpid(daemon_pid, NULL, 0);
	daemon_pid = 0;
}

/* Watchdog and SIGINT/SIGTERM: the daemon goes with us. */
static void
on_fatal_signal(int sig)
{
	static const char msg[] = "membership-bench: stopped (signal or "
				  "--max-time): libvirtd killed\n";

	if (daemon_pid > 0)
		kill(daemon_pid, SIGKILL);
	if (write(2, msg, sizeof(msg) - 1) < 0) {
		/* nothing to do */
	}
	_exit(sig == SIGALRM ? 3 : 130);
}

static int
daemon_start(const char *libvirtd)
{
	char conf[128], drivers[128], pidfile[128], log[128], env_dir[160];
	char env_path[] = "PATH=/usr/sbin:/usr/bin:/sbin:/bin";
	/* An empty driver directory: only the built-in test driver. */
	char *envp[] = { env_dir, env_path, NULL };
	uint64_t until;
	FILE *f;

	snprintf(work_dir, sizeof(work_dir), "/tmp/vtoe-mbench-XXXXXX");
	if (mkdtemp(work_dir) == NULL) {
		perror("mkdtemp");
		work_dir[0] = '\0';
		return -1;
	}
	snprintf(sock_path, sizeof(sock_path), "%s/libvirt-sock", work_dir);
	snprintf(uri, sizeof(uri), "test+unix:///default?socket=%s",
		 sock_path);
	snprintf(conf, sizeof(conf), "%s/libvirtd.conf", work_dir);
	snprintf(drivers, sizeof(drivers), "%s/drivers", work_dir);
	snprintf(pidfile, sizeof(pidfile), "%s/libvirtd.pid", work_dir);
	snprintf(log, sizeof(log), "%s/libvirtd.log", work_dir);
	snprintf(env_dir, sizeof(env_dir), "LIBVIRT_DRIVER_DIR=%s", drivers);
	mkdir(drivers, 0700);
	f = fopen(conf, "w");
	if (f == NULL) {
		perror(conf);
		return -1;
	}
	fprintf(f, "unix_sock_dir = \"%s\"\n"
		"auth_unix_rw = \"none\"\nauth_unix_ro = \"none\"\n"
		"log_outputs = \"3:file:%s\"\n", work_dir, log);
	fclose(f);

	daemon_pid = fork();
	if (daemon_pid < 0) {
		perror("fork");
		return -1;
	}
	if (daemon_pid == 0) {
		int null = open("/dev/null", O_RDWR);

		dup2(null, 1);
		dup2(null, 2);
		execle(libvirtd, libvirtd, "--config", conf, "--pid-file",
		       pidfile, (char *)NULL, envp);
		_exit(127);
	}
	if (clock_getcpuclockid(daemon_pid, &daemon_clock) != 0) {
		fprintf(stderr, "clock_getcpuclockid(libvirtd)\n");
		return -1;
	}
	until = now_ns() + 15000000000ull;
	while (access(sock_path, F_OK) != 0) {
		if (now_ns() > until || waitpid(daemon_pid, NULL, WNOHANG) != 0) {
			fprintf(stderr, "libvirtd did not create %s\n",
				sock_path);
			return -1;
		}
		sleep_ns(10000000);
	}
	return 0;
}

/* ------------------------------------------------------------ domains */

static char *
domain_xml(char *buf, size_t size, const char *name, const char *uuid,
	   const char *mac, const char *sock)
{
	snprintf(buf, size,
		 "<domain type='test'><name>%s</name><uuid>%s</uuid>"
		 "<memory unit='KiB'>131072</memory>"
		 "<memoryBacking><source type='memfd'/><access mode='shared'/>"
		 "</memoryBacking><os><type>hvm</type></os><devices>"
		 "<interface type='vhostuser'><mac address='%s'/>"
		 "<source type='unix' path='%s' mode='server'/>"
		 "<model type='virtio'/></interface></devices></domain>",
		 name, uuid, mac, sock);
	return buf;
}

/* Background domains bg-0000.. up to n, running, one vhost-user
 * interface each.  Created while no adapter listens. */
static int
bg_ensure(virConnectPtr c, uint32_t *have, uint32_t n)
{
	char xml[1024], name[32], uuid[40], mac[24], sock[64];
	uint64_t t0 = now_ns();
	uint32_t from = *have;

	for (uint32_t i = *have; i < n; i++) {
		virDomainPtr d;

		snprintf(name, sizeof(name), "bg-%04u", i);
		snprintf(uuid, sizeof(uuid),
			 "00000000-0000-4000-8000-%012x", i + 1);
		snprintf(mac, sizeof(mac), "52:54:01:%02x:%02x:%02x",
			 (i >> 16) & 0xff, (i >> 8) & 0xff, i & 0xff);
		snprintf(sock, sizeof(sock), "/run/vtoe/bg-%04u.sock", i);
		d = virDomainCreateXML(c, domain_xml(xml, sizeof(xml), name,
						     uuid, mac, sock), 0);
		if (d == NULL) {
			fprintf(stderr, "create %s: %s\n", name,
				virGetLastErrorMessage());
			return -1;
		}
		virDomainFree(d);
		*have = i + 1;
	}
	if (n > from)
		printf("# background: created %u domains (now %u) in %.2f s\n",
		       n - from, n, (double)(now_ns() - t0) / 1e9);
	return 0;
}

/* ------------------------------------------------------------ the table */

struct bench {
	/* The expected change of the probe domain, and its stamp. */
	pthread_mutex_t lock;
	pthread_cond_t cond;
	bool active;
	unsigned int want_changes;
	int want_state;                 /* -1: any */
	uint64_t hit_ns;
	bool hit;

	_Atomic uint64_t added;         /* entries added (any domain) */
	_Atomic uint64_t changes;       /* callbacks */
	_Atomic uint64_t warnings;      /* log lines WARNING or worse */

	/* Dispatcher: time inside membership_lv_dispatch(). */
	_Atomic uint64_t disp_calls;
	_Atomic uint64_t disp_facts;
	_Atomic uint64_t disp_ns;
	_Atomic uint64_t disp_max_ns;

	bool verbose;
};

static void
on_change(void *ctx, const struct membership_vm *vm,
	  enum membership_state old_state, unsigned int changes)
{
	struct bench *b = ctx;
	uint64_t t = now_ns();

	(void)old_state;
	atomic_fetch_add_explicit(&b->changes, 1, memory_order_relaxed);
	if (changes & MEMBERSHIP_CHANGE_ADDED)
		atomic_fetch_add_explicit(&b->added, 1, memory_order_relaxed);
	if (strcmp(vm->uuid, PROBE_UUID) != 0)
		return;
	pthread_mutex_lock(&b->lock);
	if (b->active && (changes & b->want_changes) != 0 &&
	    (b->want_state < 0 || (int)vm->state == b->want_state)) {
		b->hit_ns = t;
		b->hit = true;
		b->active = false;
		pthread_cond_signal(&b->cond);
	}
	pthread_mutex_unlock(&b->lock);
}

static void
on_log(void *ctx, enum membership_log_level level, const char *msg)
{
	struct bench *b = ctx;

	if (level <= MEMBERSHIP_LOG_WARNING) {
		atomic_fetch_add_explicit(&b->warnings, 1,
					  memory_order_relaxed);
		fprintf(stderr, "membership: %s\n", msg);
	} else if (b->verbose && level <= MEMBERSHIP_LOG_INFO) {
		fprintf(stderr, "membership: %s\n", msg);
	}
}

struct dispatcher {
	struct membership_lv *lv;
	struct bench *b;
	int stop_fd;
	pthread_t thread;
};

/* The daemon's shape: one epoll on the adapter's eventfd (and, here, a
 * stop eventfd), dispatch whenever it is readable. */
static void *
dispatcher_main(void *arg)
{
	struct dispatcher *d = arg;
	struct epoll_event ev = { .events = EPOLLIN }, evs[2];
	int ep = epoll_create1(EPOLL_CLOEXEC);

	if (ep < 0)
		return NULL;
	ev.data.fd = membership_lv_fd(d->lv);
	epoll_ctl(ep, EPOLL_CTL_ADD, ev.data.fd, &ev);
	ev.data.fd = d->stop_fd;
	epoll_ctl(ep, EPOLL_CTL_ADD, ev.data.fd, &ev);
	for (;;) {
		int n = epoll_wait(ep, evs, 2, -1);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			break;
		for (int i = 0; i < n; i++) {
			if (evs[i].data.fd == d->stop_fd)
				goto out;
			uint64_t t0 = now_ns();
			uint32_t k = membership_lv_dispatch(d->lv);
			uint64_t dt = now_ns() - t0;
			uint64_t mx = atomic_load(&d->b->disp_max_ns);

			atomic_fetch_add(&d->b->disp_calls, 1);
			atomic_fetch_add(&d->b->disp_facts, k);
			atomic_fetch_add(&d->b->disp_ns, dt);
			while (dt > mx &&
			       !atomic_compare_exchange_weak(&d->b->disp_max_ns,
							     &mx, dt))
				;
		}
	}
out:
	close(ep);
	return NULL;
}

static void
disp_reset(struct bench *b)
{
	atomic_store(&b->disp_calls, 0);
	atomic_store(&b->disp_facts, 0);
	atomic_store(&b->disp_ns, 0);
	atomic_store(&b->disp_max_ns, 0);
}

/* ------------------------------------------------------------ stats */

static int
cmp_i64(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;

	return (x > y) - (x < y);
}

/* Nearest rank on a sorted array. */
static int64_t
pct(const int64_t *v, uint32_t n, double p)
{
	uint64_t k;

	if (n == 0)
		return 0;
	k = (uint64_t)(p * n + 0.999999);
	if (k == 0)
		k = 1;
	if (k > n)
		k = n;
	return v[k - 1];
}

struct dist {
	uint32_t n;
	double p50, p99, max, min, mean;        /* microseconds */
};

static struct dist
dist_of(int64_t *ns, uint32_t n)
{
	struct dist d = { .n = n };
	double sum = 0;

	if (n == 0)
		return d;
	qsort(ns, n, sizeof(*ns), cmp_i64);
	for (uint32_t i = 0; i < n; i++)
		sum += (double)ns[i];
	d.p50 = (double)pct(ns, n, 0.50) / 1e3;
	d.p99 = (double)pct(ns, n, 0.99) / 1e3;
	d.max = (double)ns[n - 1] / 1e3;
	d.min = (double)ns[0] / 1e3;
	d.mean = sum / n / 1e3;
	return d;
}

/* ------------------------------------------------------------ one config */

struct result {
	enum bmode mode;
	uint32_t bg;
	uint32_t n;                     /* samples taken */
	uint32_t missed;                /* the table never saw it in time */
	struct dist lat;                /* start -> table */
	struct dist lat_ret;            /* return -> table */
	struct dist rpc;                /* start -> return (actor's call) */
	struct dist create;             /* start -> table: create only */
	struct dist state;              /* suspend, resume, destroy */
	/* idle window */
	double idle_s;
	double idle_self_ms_s;          /* ms of CPU per s (= 0.1 % of one) */
	double idle_lvd_ms_s;
	uint64_t idle_resyncs;
	double idle_disp_mean_us;
	double idle_disp_max_us;
	double idle_foreign;            /* % of one CPU, everyone else */
	double phase_foreign;
	/* event phase */
	double phase_s;
	double ev_self_us;              /* adapter CPU per event, raw */
	double ev_self_marg_us;         /* minus the idle rate x duration */
	double ev_lvd_us;
	double ev_lvd_marg_us;
	double ev_actor_us;
	uint64_t lv_events;
	uint64_t lv_resyncs;
	uint64_t lv_unreadable;
	uint64_t lv_lost;
	double settle_s;                /* create -> initial listing applied */
	double quiet_waited_s;          /* --quiet-wait: waited this long */
	double quiet_last;              /* others' load in its last second */
};

static uint64_t rng_state;

static uint64_t
rng_next(void)
{
	/* xorshift64* */
	rng_state ^= rng_state >> 12;
	rng_state ^= rng_state << 25;
	rng_state ^= rng_state >> 27;
	return rng_state * 2685821657736338717ull;
}

static void
expect_set(struct bench *b, enum op op)
{
	pthread_mutex_lock(&b->lock);
	b->hit = false;
	b->active = true;
	switch (op) {
	case OP_CREATE:
		b->want_changes = MEMBERSHIP_CHANGE_ADDED;
		b->want_state = MEMBERSHIP_RUNNING;
		break;
	case OP_SUSPEND:
		b->want_changes = MEMBERSHIP_CHANGE_STATE;
		b->want_state = MEMBERSHIP_PAUSED;
		break;
	case OP_RESUME:
		b->want_changes = MEMBERSHIP_CHANGE_STATE;
		b->want_state = MEMBERSHIP_RUNNING;
		break;
	case OP_DESTROY:
	case OP_COUNT:
		b->want_changes = MEMBERSHIP_CHANGE_REMOVED;
		b->want_state = -1;
		break;
	}
	pthread_mutex_unlock(&b->lock);
}

/* Wait for the stamp: true and *t when it came, false on timeout. */
static bool
expect_wait(struct bench *b, uint64_t timeout_ms, uint64_t *t)
{
	struct timespec dl;
	bool hit;

	clock_gettime(CLOCK_MONOTONIC, &dl);
	dl.tv_sec += (time_t)(timeout_ms / 1000);
	dl.tv_nsec += (long)(timeout_ms % 1000) * 1000000;
	if (dl.tv_nsec >= 1000000000) {
		dl.tv_sec++;
		dl.tv_nsec -= 1000000000;
	}
	pthread_mutex_lock(&b->lock);
	while (!b->hit) {
		if (pthread_cond_timedwait(&b->cond, &b->lock, &dl) ==
		    ETIMEDOUT)
			break;
	}
	hit = b->hit;
	*t = b->hit_ns;
	b->active = false;
	pthread_mutex_unlock(&b->lock);
	return hit;
}

static int
op_run(virConnectPtr c, virDomainPtr *probe, enum op op)
{
	char xml[1024];
	int rc = 0;

	switch (op) {
	case OP_CREATE:
		*probe = virDomainCreateXML(c, domain_xml(xml, sizeof(xml),
							   PROBE_NAME,
							   PROBE_UUID,
							   PROBE_MAC,
							   PROBE_SOCK), 0);
		rc = *probe != NULL ? 0 : -1;
		break;
	case OP_SUSPEND:
		rc = virDomainSuspend(*probe);
		break;
	case OP_RESUME:
		rc = virDomainResume(*probe);
		break;
	case OP_DESTROY:
	case OP_COUNT:
		rc = virDomainDestroy(*probe);
		virDomainFree(*probe);
		*probe = NULL;
		break;
	}
	if (rc < 0)
		fprintf(stderr, "%s %s: %s\n", op_names[op], PROBE_NAME,
			virGetLastErrorMessage());
	return rc;
}

static bool deadline_hit;
static uint64_t deadline_ns;

/* Up to max_s seconds until everyone else used less than pct % of one
 * CPU over one second (other people's jobs share the machine).  Returns
 * the last second's load. */
static double
wait_quiet(uint32_t max_s, uint32_t pct)
{
	uint64_t until = now_ns() + (uint64_t)max_s * 1000000000u;
	struct cpu_snap a, z;
	double f;

	do {
		cpu_snap(&a);
		sleep_ns(1000000000u);
		cpu_snap(&z);
		f = foreign_pct(&a, &z);
	} while (f >= pct && now_ns() < until && now_ns() < deadline_ns);
	return f;
}

static int
run_config(const struct opts *o, virConnectPtr actor, enum bmode mode,
	   uint32_t bg, struct result *r)
{
	struct bench b = { .verbose = o->verbose };
	struct membership_params mp = {
		.on_change = on_change, .change_ctx = &b,
		.log = on_log, .log_ctx = &b,
	};
	struct membership_lv_params lp = {
		.uri = uri,
		.mode = mode == BM_POLL ? MEMBERSHIP_LV_POLL :
					  MEMBERSHIP_LV_EVENTS,
		.poll_interval_ms = o->interval_ms,
		.log = on_log, .log_ctx = &b,
	};
	struct dispatcher d = { .b = &b, .stop_fd = -1 };
	struct membership *table = NULL;
	struct membership_lv_stats st0, st;
	struct cpu_snap a, z;
	uint32_t n = mode == BM_POLL ? o->poll_events : o->events;
	int64_t *lat, *lat_ret, *rpc, *op_lat[OP_COUNT];
	uint32_t op_n[OP_COUNT] = { 0 };
	virDomainPtr probe = NULL;
	pthread_condattr_t ca;
	int ret = -1;

	memset(r, 0, sizeof(*r));
	r->mode = mode;
	r->bg = bg;
	if (o->quiet_wait_s > 0) {
		uint64_t t = now_ns();
		double f = wait_quiet(o->quiet_wait_s, o->quiet_pct);

		r->quiet_waited_s = (double)(now_ns() - t) / 1e9;
		r->quiet_last = f;
	}
	n = (n + 3) / 4 * 4;            /* whole create..destroy cycles */
	lat = calloc(n, sizeof(*lat));
	lat_ret = calloc(n, sizeof(*lat_ret));
	rpc = calloc(n, sizeof(*rpc));
	for (int i = 0; i < OP_COUNT; i++)
		op_lat[i] = calloc(n, sizeof(int64_t));
	if (lat == NULL || lat_ret == NULL || rpc == NULL ||
	    op_lat[0] == NULL || op_lat[1] == NULL || op_lat[2] == NULL ||
	    op_lat[3] == NULL)
		goto out_free;
	pthread_mutex_init(&b.lock, NULL);
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&b.cond, &ca);
	pthread_condattr_destroy(&ca);

	if (mode != BM_NONE) {
		uint64_t t0 = now_ns(), until = t0 + SETTLE_MS * 1000000ull;

		table = membership_create(&mp);
		if (table == NULL)
			goto out_sync;
		d.stop_fd = eventfd(0, EFD_CLOEXEC);
		d.lv = membership_lv_create(table, &lp);
		if (d.lv == NULL) {
			fprintf(stderr, "membership_lv_create: %s\n",
				strerror(errno));
			goto out_table;
		}
		if (pthread_create(&d.thread, NULL, dispatcher_main, &d) != 0)
			goto out_lv;
		/* Connected and the first listing applied: every background
		 * domain in the table. */
		for (;;) {
			membership_lv_stats_get(d.lv, &st);
			if (st.resyncs >= 1 && atomic_load(&b.added) >= bg)
				break;
			if (now_ns() > until) {
				fprintf(stderr, "%s bg=%u: adapter did not "
					"settle (resyncs %" PRIu64 ", added %"
					PRIu64 ")\n", bmode_names[mode], bg,
					st.resyncs, atomic_load(&b.added));
				goto out_thread;
			}
			sleep_ns(1000000);
		}
		r->settle_s = (double)(now_ns() - t0) / 1e9;
		/* The dispatch that applied the listing may still be running
		 * (the count moves inside it): let it finish outside the
		 * window; in poll mode, let the timer run once too. */
		sleep_ns(mode == BM_POLL ?
			 (uint64_t)o->interval_ms * 1000000u : 200000000u);

		/* Idle window. */
		membership_lv_stats_get(d.lv, &st0);
		disp_reset(&b);
		cpu_snap(&a);
		sleep_ns((uint64_t)o->idle_s * 1000000000u);
		cpu_snap(&z);
		membership_lv_stats_get(d.lv, &st);
		r->idle_s = (double)(z.wall_ns - a.wall_ns) / 1e9;
		r->idle_self_ms_s = (cpu_delta(&a, &z, false) / 1e3) /
				    r->idle_s;
		r->idle_lvd_ms_s = (cpu_delta(&a, &z, true) / 1e3) /
				   r->idle_s;
		r->idle_resyncs = st.resyncs - st0.resyncs;
		r->idle_foreign = foreign_pct(&a, &z);
		if (atomic_load(&b.disp_calls) > 0)
			r->idle_disp_mean_us =
				(double)atomic_load(&b.disp_ns) /
				(double)atomic_load(&b.disp_calls) / 1e3;
		r->idle_disp_max_us = (double)atomic_load(&b.disp_max_ns) / 1e3;
	}

	/* Warm-up: one create..destroy cycle, not recorded. */
	for (int i = 0; i < OP_COUNT; i++) {
		uint64_t t;

		expect_set(&b, (enum op)i);
		if (op_run(actor, &probe, (enum op)i) < 0)
			goto out_thread;
		if (mode != BM_NONE &&
		    !expect_wait(&b, mode == BM_POLL ?
				 3ull * o->interval_ms + 5000 : 5000, &t)) {
			fprintf(stderr, "%s bg=%u: warm-up %s not seen by "
				"the table\n", bmode_names[mode], bg,
				op_names[i]);
			goto out_thread;
		}
	}
	if (mode != BM_NONE)
		membership_lv_stats_get(d.lv, &st0);

	/* Event phase. */
	cpu_snap(&a);
	for (uint32_t i = 0; i < n; i++) {
		enum op op = (enum op)(i % OP_COUNT);
		uint64_t t_start, t_ret, t_tbl;

		if (now_ns() > deadline_ns && op == OP_CREATE) {
			deadline_hit = true;
			break;
		}
		if (mode == BM_POLL)
			sleep_ns(rng_next() % ((uint64_t)o->interval_ms *
					       1000000u));
		expect_set(&b, op);
		t_start = now_ns();
		if (op_run(actor, &probe, op) < 0)
			goto out_thread;
		t_ret = now_ns();
		if (mode == BM_NONE) {
			rpc[r->n++] = (int64_t)(t_ret - t_start);
			continue;
		}
		if (!expect_wait(&b, mode == BM_POLL ?
				 3ull * o->interval_ms + 5000 : 5000,
				 &t_tbl)) {
			fprintf(stderr, "%s bg=%u: %s #%u not seen by the "
				"table\n", bmode_names[mode], bg,
				op_names[op], i);
			r->missed++;
			continue;
		}
		rpc[r->n] = (int64_t)(t_ret - t_start);
		lat[r->n] = (int64_t)(t_tbl - t_start);
		lat_ret[r->n] = (int64_t)t_tbl - (int64_t)t_ret;
		op_lat[op][op_n[op]++] = (int64_t)(t_tbl - t_start);
		r->n++;
	}
	cpu_snap(&z);
	if (probe != NULL) {            /* cut short: leave no probe behind */
		virDomainDestroy(probe);
		virDomainFree(probe);
		probe = NULL;
		if (mode != BM_NONE) {
			uint64_t t;

			expect_set(&b, OP_DESTROY);
			expect_wait(&b, 3ull * o->interval_ms + 5000, &t);
		}
	}
	r->phase_s = (double)(z.wall_ns - a.wall_ns) / 1e9;
	r->phase_foreign = foreign_pct(&a, &z);
	if (r->n > 0) {
		double adapter = cpu_delta(&a, &z, false);
		double lvd = cpu_delta(&a, &z, true);

		r->ev_self_us = adapter / r->n;
		r->ev_self_marg_us = (adapter - r->idle_self_ms_s * 1e3 *
				      r->phase_s) / r->n;
		r->ev_lvd_us = lvd / r->n;
		r->ev_lvd_marg_us = (lvd - r->idle_lvd_ms_s * 1e3 *
				     r->phase_s) / r->n;
		r->ev_actor_us = (double)(z.actor_us - a.actor_us) / r->n;
	}
	r->rpc = dist_of(rpc, r->n);
	if (mode != BM_NONE) {
		r->lat = dist_of(lat, r->n);
		r->lat_ret = dist_of(lat_ret, r->n);
		uint32_t ns = 0;

		/* lat is free again: the uuid-only operations, pooled. */
		for (int k = OP_SUSPEND; k < OP_COUNT; k++) {
			memcpy(&lat[ns], op_lat[k], op_n[k] * sizeof(*lat));
			ns += op_n[k];
		}
		r->state = dist_of(lat, ns);
		r->create = dist_of(op_lat[OP_CREATE], op_n[OP_CREATE]);
		membership_lv_stats_get(d.lv, &st);
		r->lv_events = st.events - st0.events;
		r->lv_resyncs = st.resyncs - st0.resyncs;
		r->lv_unreadable = st.domains_unreadable;
		r->lv_lost = st.facts_lost;
	}
	ret = 0;

out_thread:
	if (probe != NULL) {
		virDomainDestroy(probe);
		virDomainFree(probe);
	}
	if (mode != BM_NONE && d.lv != NULL) {
		uint64_t one = 1;

		if (write(d.stop_fd, &one, sizeof(one)) < 0)
			perror("write");
		pthread_join(d.thread, NULL);
	}
out_lv:
	membership_lv_destroy(d.lv);
out_table:
	membership_destroy(table);
	if (d.stop_fd >= 0)
		close(d.stop_fd);
out_sync:
	pthread_cond_destroy(&b.cond);
	pthread_mutex_destroy(&b.lock);
out_free:
	free(lat);
	free(lat_ret);
	free(rpc);
	for (int i = 0; i < OP_COUNT; i++)
		free(op_lat[i]);
	return ret;
}

/* ------------------------------------------------------------ report */

static void
print_latency_header(void)
{
	printf("\n%-6s %5s %4s | %9s %9s %9s %9s | %9s %9s | %8s | "
	       "%8s %8s | %9s %9s | %7s\n",
	       "mode", "bg", "n", "p50", "p99", "max", "mean",
	       "ret p50", "ret p99", "rpc p50", "cre p50", "cre p99",
	       "s/r/d p50", "s/r/d p99", "others%");
	printf("-------------------+-----------------------------------------"
	       "+---------------------+----------+-------------------+--------"
	       "-------------+--------\n");
}

static void
print_latency(const struct result *r)
{
	if (r->mode == BM_NONE) {
		printf("%-6s %5u %4u | %9s %9s %9s %9s | %9s %9s | %8.0f | "
		       "%8s %8s | %9s %9s | %7.0f\n",
		       bmode_names[r->mode], r->bg, r->n, "-", "-", "-", "-",
		       "-", "-", r->rpc.p50, "-", "-", "-", "-",
		       r->phase_foreign);
		return;
	}
	printf("%-6s %5u %4u | %9.0f %9.0f %9.0f %9.0f | %9.0f %9.0f | "
	       "%8.0f | %8.0f %8.0f | %9.0f %9.0f | %7.0f%s\n",
	       bmode_names[r->mode], r->bg, r->n, r->lat.p50, r->lat.p99,
	       r->lat.max, r->lat.mean, r->lat_ret.p50, r->lat_ret.p99,
	       r->rpc.p50, r->create.p50, r->create.p99, r->state.p50,
	       r->state.p99, r->phase_foreign,
	       r->missed > 0 ? "  (missed!)" : "");
}

static void
print_cpu_header(void)
{
	printf("\n%-6s %5s | %8s %8s %7s %9s %9s %7s | %7s %9s %9s %9s "
	       "%9s %9s\n",
	       "mode", "bg", "bench", "libvirtd", "polls", "disp mean",
	       "disp max", "others", "phase", "bench/ev", "marginal",
	       "lvd/ev", "marginal", "actor/ev");
	printf("%-6s %5s | %8s %8s %7s %9s %9s %7s | %7s %9s %9s %9s %9s "
	       "%9s\n",
	       "", "", "ms/s", "ms/s", "", "us", "us", "%", "s", "us", "us",
	       "us", "us", "us");
	printf("-------------+------------------------------------------------"
	       "-------+------------------------------------------------------"
	       "--------\n");
}

/* Two CPU clocks read microseconds apart: no "-0.00". */
static double
nz(double v)
{
	return v < 0 && v > -0.01 ? 0 : v;
}

static void
print_cpu(const struct result *r)
{
	if (r->mode == BM_NONE) {
		printf("%-6s %5u | %8s %8s %7s %9s %9s %7s | %7.2f %9s %9s "
		       "%9.0f %9s %9.0f\n",
		       bmode_names[r->mode], r->bg, "-", "-", "-", "-", "-",
		       "-", r->phase_s, "-", "-", r->ev_lvd_us, "-",
		       r->ev_actor_us);
		return;
	}
	printf("%-6s %5u | %8.2f %8.2f %7" PRIu64 " %9.0f %9.0f %7.0f | "
	       "%7.2f %9.0f %9.0f %9.0f %9.0f %9.0f\n",
	       bmode_names[r->mode], r->bg, nz(r->idle_self_ms_s),
	       nz(r->idle_lvd_ms_s), r->idle_resyncs, r->idle_disp_mean_us,
	       r->idle_disp_max_us, r->idle_foreign, r->phase_s, r->ev_self_us,
	       r->ev_self_marg_us, r->ev_lvd_us, r->ev_lvd_marg_us,
	       r->ev_actor_us);
}

/* ------------------------------------------------------------ main */

static void
usage(FILE *f)
{
	fprintf(f,
		"usage: membership-bench [--events N] [--poll-events N] "
		"[--interval MS]\n"
		"         [--idle S] [--bg LIST] [--modes events,poll] "
		"[--seed N]\n"
		"         [--max-time S] [--quiet-wait S] [--quiet-pct P]\n"
		"         [--libvirtd PATH] [-v]\n"
		"  --events N       samples per events-mode config (200)\n"
		"  --poll-events N  samples per poll-mode config (24)\n"
		"  --interval MS    poll interval (1000)\n"
		"  --idle S         idle window per config (10)\n"
		"  --bg LIST        background domain counts (0,10,100,1000)\n"
		"  --modes LIST     events, poll or both (events,poll)\n"
		"  --max-time S     stop sampling after S s; hard kill at "
		"S + 120 (270)\n"
		"  --quiet-wait S   before each config, wait up to S s for "
		"the machine to be\n"
		"                   quiet: others below --quiet-pct %% of a "
		"CPU (0: off; 25)\n");
}

static int
parse_u32(const char *s, uint32_t *v)
{
	char *end;
	unsigned long x;

	errno = 0;
	x = strtoul(s, &end, 10);
	if (errno != 0 || end == s || *end != '\0' || x > UINT32_MAX)
		return -1;
	*v = (uint32_t)x;
	return 0;
}

static int
parse_opts(int argc, char **argv, struct opts *o)
{
	static const struct option lo[] = {
		{ "events", required_argument, NULL, 'e' },
		{ "poll-events", required_argument, NULL, 'p' },
		{ "interval", required_argument, NULL, 'i' },
		{ "idle", required_argument, NULL, 'I' },
		{ "bg", required_argument, NULL, 'b' },
		{ "modes", required_argument, NULL, 'm' },
		{ "seed", required_argument, NULL, 's' },
		{ "max-time", required_argument, NULL, 'T' },
		{ "libvirtd", required_argument, NULL, 'L' },
		{ "quiet-wait", required_argument, NULL, 'q' },
		{ "quiet-pct", required_argument, NULL, 'Q' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	char *list, *tok, *save;
	uint32_t seed32;
	int c;

	*o = (struct opts){
		.events = 200, .poll_events = 24, .interval_ms = 1000,
		.idle_s = 10, .bg = { 0, 10, 100, 1000 }, .n_bg = 4,
		.mode_events = true, .mode_poll = true, .seed = 1,
		.max_time_s = 270, .quiet_pct = 25,
		.libvirtd = DEFAULT_LIBVIRTD,
	};
	while ((c = getopt_long(argc, argv, "vh", lo, NULL)) != -1) {
		switch (c) {
		case 'e':
			if (parse_u32(optarg, &o->events) < 0)
				return -1;
			break;
		case 'p':
			if (parse_u32(optarg, &o->poll_events) < 0)
				return -1;
			break;
		case 'i':
			if (parse_u32(optarg, &o->interval_ms) < 0 ||
			    o->interval_ms == 0 || o->interval_ms > 600000)
				return -1;
			break;
		case 'I':
			if (parse_u32(optarg, &o->idle_s) < 0 ||
			    o->idle_s == 0)
				return -1;
			break;
		case 's':
			if (parse_u32(optarg, &seed32) < 0)
				return -1;
			o->seed = seed32 != 0 ? seed32 : 1;
			break;
		case 'T':
			if (parse_u32(optarg, &o->max_time_s) < 0)
				return -1;
			break;
		case 'L':
			o->libvirtd = optarg;
			break;
		case 'q':
			if (parse_u32(optarg, &o->quiet_wait_s) < 0)
				return -1;
			break;
		case 'Q':
			if (parse_u32(optarg, &o->quiet_pct) < 0)
				return -1;
			break;
		case 'v':
			o->verbose = true;
			break;
		case 'b':
			list = strdup(optarg);
			if (list == NULL)
				return -1;
			o->n_bg = 0;
			for (tok = strtok_r(list, ",", &save); tok != NULL;
			     tok = strtok_r(NULL, ",", &save)) {
				if (o->n_bg == BG_LIST_MAX ||
				    parse_u32(tok, &o->bg[o->n_bg]) < 0 ||
				    o->bg[o->n_bg] > BG_MAX ||
				    (o->n_bg > 0 &&
				     o->bg[o->n_bg] < o->bg[o->n_bg - 1])) {
					free(list);
					return -1;
				}
				o->n_bg++;
			}
			free(list);
			if (o->n_bg == 0)
				return -1;
			break;
		case 'm':
			o->mode_events = strstr(optarg, "events") != NULL;
			o->mode_poll = strstr(optarg, "poll") != NULL;
			if (!o->mode_events && !o->mode_poll)
				return -1;
			break;
		case 'h':
			usage(stdout);
			exit(0);
		default:
			return -1;
		}
	}
	return optind == argc ? 0 : -1;
}

int
main(int argc, char **argv)
{
	struct result res[BG_LIST_MAX * 3];
	uint32_t n_res = 0, have_bg = 0;
	virConnectPtr actor = NULL;
	struct sigaction sa;
	struct opts o;
	uint64_t t_begin = now_ns();
	char host[256] = "";
	int rc = 1;

	if (parse_opts(argc, argv, &o) < 0) {
		usage(stderr);
		return 2;
	}
	if (access(o.libvirtd, X_OK) != 0) {
		printf("skip: %s not installed (Debian: libvirt-daemon)\n",
		       o.libvirtd);
		return 77;
	}
	setvbuf(stdout, NULL, _IOLBF, 0);
	rng_state = o.seed * 0x9e3779b97f4a7c15ull;
	deadline_ns = t_begin + (uint64_t)o.max_time_s * 1000000000u;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_fatal_signal;
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGALRM, &sa, NULL);
	alarm(o.max_time_s + 120);

	if (daemon_start(o.libvirtd) < 0)
		goto out;
	gethostname(host, sizeof(host) - 1);
	{
		unsigned long lib = 0;

		virGetVersion(&lib, NULL, NULL);
		printf("# membership-bench: libvirt %lu.%lu.%lu, private "
		       "libvirtd pid %d, uri %s\n", lib / 1000000,
		       lib / 1000 % 1000, lib % 1000, (int)daemon_pid, uri);
	}
	printf("# events/config %u (events mode), %u (poll mode), poll "
	       "interval %u ms, idle window %u s, seed %" PRIu64 ", %ld "
	       "CPUs\n", (o.events + 3) / 4 * 4, (o.poll_events + 3) / 4 * 4,
	       o.interval_ms, o.idle_s, o.seed, sysconf(_SC_NPROCESSORS_ONLN));

	/* The actor's connection opens before any adapter registers
	 * libvirt's event loop: its calls are plain RPCs. */
	actor = virConnectOpen(uri);
	if (actor == NULL) {
		fprintf(stderr, "virConnectOpen(%s): %s\n", uri,
			virGetLastErrorMessage());
		goto out;
	}

	for (uint32_t k = 0; k < o.n_bg && !deadline_hit; k++) {
		enum bmode modes[3];
		int nm = 0;

		if (bg_ensure(actor, &have_bg, o.bg[k]) < 0)
			goto out;
		modes[nm++] = BM_NONE;
		if (o.mode_events)
			modes[nm++] = BM_EVENTS;
		if (o.mode_poll)
			modes[nm++] = BM_POLL;
		for (int j = 0; j < nm && !deadline_hit; j++) {
			struct result *r = &res[n_res];

			if (run_config(&o, actor, modes[j], o.bg[k], r) < 0)
				goto out;
			n_res++;
			char quiet[64] = "";

			if (o.quiet_wait_s > 0)
				snprintf(quiet, sizeof(quiet),
					 ", quiet wait %.0f s (others %.0f%%)",
					 r->quiet_waited_s, r->quiet_last);
			printf("# done: %-6s bg=%-5u n=%u settle %.2f s, "
			       "lv events %" PRIu64 ", resyncs %" PRIu64
			       ", unreadable %" PRIu64 ", lost %" PRIu64
			       "%s  (t=%.0f s)\n", bmode_names[r->mode], r->bg,
			       r->n, r->settle_s, r->lv_events, r->lv_resyncs,
			       r->lv_unreadable, r->lv_lost, quiet,
			       (double)(now_ns() - t_begin) / 1e9);
		}
	}
	if (deadline_hit)
		printf("# --max-time %u s reached: later configs skipped\n",
		       o.max_time_s);

	printf("\n## Latency: libvirt call start -> table's on_change "
	       "(microseconds)\n"
	       "## ret = from the call's return; rpc = the actor's call "
	       "itself; cre = create only;\n"
	       "## s/r/d = suspend, resume, destroy (the events the adapter "
	       "forwards without reading the domain)\n");
	print_latency_header();
	for (uint32_t i = 0; i < n_res; i++)
		print_latency(&res[i]);

	printf("\n## CPU: idle window (ms of CPU per second = 0.1%% of one "
	       "CPU), and per event\n"
	       "## bench = this process minus the actor thread (adapter "
	       "thread + dispatcher); marginal = minus idle rate x phase "
	       "time\n");
	print_cpu_header();
	for (uint32_t i = 0; i < n_res; i++)
		print_cpu(&res[i]);
	printf("\n# libvirtd CPU over the whole run: %.0f ms by its CPU clock, "
	       "%.0f ms by /proc/%d/stat utime+stime\n",
	       (double)clock_us(daemon_clock) / 1e3,
	       (double)proc_stat_cpu_us(daemon_pid) / 1e3, (int)daemon_pid);
	printf("# total %.0f s\n", (double)(now_ns() - t_begin) / 1e9);
	rc = 0;
out:
	if (actor != NULL)
		virConnectClose(actor);
	alarm(0);
	daemon_stop();
	cleanup_dir();
	return rc;
}
