/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * vtoed: wiring only.  Read the config, start the EAL, build the switch,
 * open the control socket, launch the workers, serve until SIGINT or
 * SIGTERM (SIGHUP re-reads the config), then unwind in reverse.  Exit codes: 0 clean stop, 1 runtime
 * failure, 2 bad command line or config.
 */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <unistd.h>

#include <rte_eal.h>
#include <rte_errno.h>
#include <rte_log.h>

#include "config/cfg.h"
#include "config/cfg_diff.h"
#include "control/ctl.h"
#include "dataplane/dp.h"
#include "mgmt/mgmt.h"
#include "eal_args.h"

#define HOUSEKEEPING_MS 100
#define CAPTURE_POLL_MS 5

RTE_LOG_REGISTER(vtoed_logtype, vtoe.daemon, INFO);
#define VTOED_LOG(level, ...) \
	rte_log(RTE_LOG_ ## level, vtoed_logtype, "vtoed: " __VA_ARGS__)

static atomic_bool stop_requested;
static atomic_bool reload_requested;

static void
on_signal(int sig)
{
	if (sig == SIGHUP)
		atomic_store(&reload_requested, true);
	else
		atomic_store(&stop_requested, true);
}

static void
usage(FILE *f)
{
	fprintf(f,
		"usage: vtoed --config FILE       run the daemon\n"
		"       vtoed --check-config FILE validate FILE and exit (0 ok, 2 bad)\n"
		"       vtoed --version\n");
}

static int
signals_install(void)
{
	struct sigaction sa = { .sa_handler = on_signal };

	sigemptyset(&sa.sa_mask);
	if (sigaction(SIGINT, &sa, NULL) != 0 ||
	    sigaction(SIGTERM, &sa, NULL) != 0 ||
	    sigaction(SIGHUP, &sa, NULL) != 0)
		return -errno;
	signal(SIGPIPE, SIG_IGN);
	return 0;
}

/*
 * The main thread's loop: one epoll over the control socket's own epoll,
 * with membership from libvirt the adapter's eventfd, and with a cluster
 * directory its session's epoll, so a libvirt event or an etcd watch
 * event reaches the workers' view as soon as the kernel wakes us, and a
 * control request as soon as it arrives; housekeeping (which runs the
 * directory's session too) at least every HOUSEKEEPING_MS.
 */
static int
serve(struct ctl_server *srv, struct dp *dp)
{
	struct epoll_event ev = { .events = EPOLLIN };
	int ep = epoll_create1(EPOLL_CLOEXEC), mfd = dp_members_fd(dp);
	int ofd = dp_overlay_fd(dp);
	int rc = 0;

	if (ep < 0)
		return -errno;
	ev.data.fd = ctl_server_fd(srv);
	if (epoll_ctl(ep, EPOLL_CTL_ADD, ev.data.fd, &ev) != 0 ||
	    (mfd >= 0 && (ev.data.fd = mfd,
			  epoll_ctl(ep, EPOLL_CTL_ADD, mfd, &ev) != 0)) ||
	    (ofd >= 0 && (ev.data.fd = ofd,
			  epoll_ctl(ep, EPOLL_CTL_ADD, ofd, &ev) != 0))) {
		rc = -errno;
		close(ep);
		return rc;
	}
	while (!atomic_load(&stop_requested)) {
		struct epoll_event evs[3];
		/* A capture's writer drains its taps' rings every few ms. */
		int n = epoll_wait(ep, evs, 3, dp_capture_running(dp) ?
				   CAPTURE_POLL_MS : HOUSEKEEPING_MS);

		if (n < 0 && errno != EINTR) {
			rc = -errno;
			fprintf(stderr, "vtoed: main loop: %s\n", strerror(-rc));
			break;
		}
		for (int i = 0; i < n; i++)
			if (evs[i].data.fd == mfd)
				dp_members_dispatch(dp);
		rc = ctl_server_poll(srv, 0);
		if (rc != 0 && rc != -EINTR) {
			fprintf(stderr, "vtoed: control socket: %s\n",
				strerror(-rc));
			break;
		}
		rc = 0;
		dp_housekeeping(dp);
		if (atomic_exchange(&reload_requested, false)) {
			static struct cfg_diff d;       /* ~130 KB */
			char err[512];

			if (mgmt_config_reload(dp, &d, err, sizeof(err)) != 0)
				VTOED_LOG(ERR, "SIGHUP: %s\n", err);
		}
	}
	close(ep);
	return rc;
}

int
main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "check-config", required_argument, NULL, 'C' },
		{ "version", no_argument, NULL, 'V' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *path = NULL;
	bool check_only = false;
	struct eal_args eal;
	struct ctl_server *srv;
	const struct ctl_cmd *cmds;
	size_t n_cmds;
	struct cfg *cfg;
	struct dp *dp;
	int opt, rc = 1;

	while ((opt = getopt_long(argc, argv, "c:C:Vh", opts, NULL)) != -1) {
		switch (opt) {
		case 'C':
			check_only = true;
			/* fall through */
		case 'c':
			path = optarg;
			break;
		case 'V':
			printf("vtoed %s\n", VTOE_VERSION);
			return 0;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (path == NULL || optind != argc) {
		usage(stderr);
		return 2;
	}

	cfg = cfg_load(path, stderr, NULL);
	if (cfg == NULL)
		return 2;
	if (check_only) {
		printf("%s: ok: %u VM(s), %u port(s), %u uplink(s), %u worker(s)\n",
		       path, cfg->n_vms, cfg->n_ports, cfg->n_uplinks,
		       cfg->n_workers);
		cfg_free(cfg);
		return 0;
	}
	if (eal_args_build(cfg, argv[0], &eal) != 0) {
		fprintf(stderr, "vtoed: EAL arguments too long\n");
		rc = 2;
		goto err_cfg;
	}
	if (rte_eal_init(eal.argc, eal.argv) < 0) {
		fprintf(stderr, "vtoed: EAL init failed: %s (see the EAL messages above)\n",
			rte_errno != 0 ? rte_strerror(rte_errno) : "error");
		goto err_cfg;
	}
	if (signals_install() != 0)
		goto err_eal;

	dp = dp_create(cfg);
	if (dp == NULL) {
		fprintf(stderr, "vtoed: cannot build the switch: %s\n",
			strerror(errno));
		goto err_eal;
	}
	if (mgmt_telemetry_register(dp) != 0)
		fprintf(stderr, "vtoed: telemetry commands not registered\n");

	cmds = mgmt_commands(&n_cmds);
	srv = ctl_server_create(cfg->ctl_socket, cfg->ctl_mode, cmds, n_cmds, dp);
	if (srv == NULL) {
		fprintf(stderr, "vtoed: control socket %s: %s\n",
			cfg->ctl_socket, strerror(errno));
		goto err_dp;
	}
	if (dp_start(dp) != 0)
		goto err_ctl;

	VTOED_LOG(NOTICE, "%s: serving %u port(s); control socket %s\n",
		  VTOE_VERSION, dp_port_count(dp), cfg->ctl_socket);
	rc = serve(srv, dp) == 0 ? 0 : 1;
	VTOED_LOG(NOTICE, "stopping\n");

	dp_stop(dp);
err_ctl:
	ctl_server_destroy(srv);
err_dp:
	mgmt_telemetry_unregister();
	dp_destroy(dp);
err_eal:
	rte_eal_cleanup();
err_cfg:
	cfg_free(cfg);
	return rc;
}
