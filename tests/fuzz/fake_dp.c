/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The fake dataplane of fuzz_ctl (see fake_dp.h): three VM ports (one
 * with a TOE endpoint), one uplink and a free slot after them, a MAC
 * table with a static and a learned entry, one worker.  Every dp_*
 * function the command table calls is here, refusing what dp.h says the
 * real one refuses; a port id the command did not get from
 * dp_port_find or its loop over dp_port_count aborts.
 */
#include "fake_dp.h"

#include <errno.h>
#include <fcntl.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>

#include "config/cfg.h"
#include "config/cfg_diff.h"
#include "control/ctl.h"
#include "dataplane/dp.h"
#include "dataplane/dp_members.h"
#include "dataplane/dp_overlay.h"
#include "dataplane/fdb.h"
#include "toe_stack/toe_offload.h"
#include "fuzz.h"

static const char port_map[] =
	"lcores: {main: 0, workers: [1]}\n"
	"networks: [{name: blue, vlan: 7}]\n"
	"uplinks:\n"
	"  - {name: up0, device: net_null0}\n"
	"vms:\n"
	"  - name: vm1\n"
	"    ports:\n"
	"      - {name: vm1.0, socket: /tmp/vm1.0.sock, mac: \"52:54:00:00:01:01\",\n"
	"         uplink: up0, weight: 3, ip: 10.0.0.11/24, gateway: 10.0.0.1}\n"
	"      - {name: vm1.1, socket: /tmp/vm1.1.sock, mac: \"52:54:00:00:01:02\",\n"
	"         network: blue, mode: client}\n"
	"  - name: vm2\n"
	"    ports:\n"
	"      - {name: vm2.0, socket: /tmp/vm2.0.sock, mac: \"52:54:00:00:02:01\",\n"
	"         uplink: up0}\n";

struct dp {
	struct cfg *cfg;
	unsigned int n_vm;              /* VM ports: 0 .. n_vm - 1 */
	unsigned int n_ports;           /* then the uplinks; one free slot */
	uint32_t weight[CFG_MAX_PORTS];
	struct cfg_impair impair[CFG_MAX_PORTS];
	struct fdb *fdb[CFG_MAX_NETWORKS];
	struct toe_ep_conf conf;
};

const struct dp_counter dp_port_counters[] = {
#define FAKE_COUNTER(f, name, view, help) \
	{ name, DP_VIEW_##view, offsetof(struct dp_port_stats, f) },
	DP_PORT_COUNTERS(FAKE_COUNTER)
#undef FAKE_COUNTER
};
const unsigned int dp_n_port_counters =
	sizeof(dp_port_counters) / sizeof(dp_port_counters[0]);

static bool
cpu_any(unsigned int cpu)
{
	(void)cpu;
	return true;
}

struct dp *
fake_dp_get(void)
{
	static struct dp dp;
	static const uint8_t mac[6] = { 0x52, 0x54, 0, 0, 9, 9 };

	if (dp.cfg != NULL)
		return &dp;
	dp.cfg = cfg_parse("fake.yaml", port_map, sizeof(port_map) - 1, stderr,
			   cpu_any);
	FUZZ_CHECK(dp.cfg != NULL);
	/* reload reads this: nothing there, so it is refused */
	snprintf(dp.cfg->path, sizeof(dp.cfg->path), "/nonexistent/vtoed.yaml");
	dp.n_vm = dp.cfg->n_ports;
	dp.n_ports = dp.n_vm + dp.cfg->n_uplinks;
	for (unsigned int n = 0; n < dp.cfg->n_networks; n++) {
		dp.fdb[n] = fdb_create(64);
		FUZZ_CHECK(dp.fdb[n] != NULL);
	}
	fdb_add_static(dp.fdb[0], dp.cfg->ports[0].mac, 0);
	fdb_learn(dp.fdb[0], mac, (uint16_t)dp.n_vm, 5);
	memcpy(dp.conf.mac, dp.cfg->ports[0].mac, 6);
	memcpy(dp.conf.ip4, dp.cfg->ports[0].ips[0].addr, 4);
	dp.conf.prefix4 = 24;
	dp.conf.has_gw = true;
	dp.conf.dhcp = dp.conf.metadata = true;
	snprintf(dp.conf.hostname, sizeof(dp.conf.hostname), "vm1");
	fake_dp_reset(&dp);
	return &dp;
}

void
fake_dp_reset(struct dp *dp)
{
	for (unsigned int p = 0; p < dp->n_vm; p++) {
		dp->weight[p] = dp->cfg->ports[p].weight;
		dp->impair[p] = dp->cfg->ports[p].impair;
	}
}

/* A port the command must have found (dp_port_find) before using. */
static void
check_port(const struct dp *dp, unsigned int port)
{
	FUZZ_CHECK(port < dp->n_ports);
}

unsigned int
dp_port_count(const struct dp *dp)
{
	return dp->n_ports + 1;
}

int
dp_port_find(const struct dp *dp, const char *name)
{
	FUZZ_CHECK(name != NULL);
	for (unsigned int p = 0; p < dp->n_vm; p++)
		if (strcmp(dp->cfg->ports[p].name, name) == 0)
			return (int)p;
	for (unsigned int u = 0; u < dp->cfg->n_uplinks; u++)
		if (strcmp(dp->cfg->uplinks[u].name, name) == 0)
			return (int)(dp->n_vm + u);
	return -ENOENT;
}

int
dp_port_info(const struct dp *dp, unsigned int port, struct dp_port_info *in)
{
	memset(in, 0, sizeof(*in));
	if (port >= dp->n_ports)
		return -ENOENT;
	in->uplink = -1;
	in->vid = -1;
	if (port < dp->n_vm) {
		const struct cfg_port *pc = &dp->cfg->ports[port];

		in->name = pc->name;
		in->vm = dp->cfg->vms[pc->vm].name;
		in->kind = DP_PORT_VHOST;
		snprintf(in->socket_buf, sizeof(in->socket_buf), "%s", pc->socket);
		in->socket = in->socket_buf;
		in->client = pc->mode == CFG_VHOST_CLIENT;
		memcpy(in->mac, pc->mac, 6);
		in->queues = pc->queues;
		in->uplink = pc->uplink >= 0 ? (int)dp->n_vm + pc->uplink : -1;
		in->weight = dp->weight[port];
		in->vid = port == 0 ? 0 : -1;
		in->link_up = port == 0;
		in->features = port == 0 ? 0x130000000ull | 1ull << 63 : 0;
		in->offloads = pc->offloads;
		in->caps = TOE_CAP_L4_CSUM;
		in->here = true;
		in->network = dp->cfg->networks[pc->network].name;
		in->vlan = dp->cfg->networks[pc->network].vlan;
		in->port_security = pc->port_security;
		in->impair = dp->impair[port];
	} else {
		const struct cfg_uplink *u = &dp->cfg->uplinks[port - dp->n_vm];

		in->name = u->name;
		in->kind = DP_PORT_UPLINK;
		in->device = u->device;
		in->queues = 1;
		in->link_up = true;
	}
	return 0;
}

int
dp_port_stats(const struct dp *dp, unsigned int port, struct dp_port_stats *st)
{
	check_port(dp, port);
	memset(st, 0, sizeof(*st));
	st->rx_packets = 10 + port;
	st->tx_packets = 9 + port;
	st->drops[0] = 1;
	return 0;
}

void
dp_stats_totals(const struct dp *dp, struct dp_port_stats *sum)
{
	(void)dp;
	memset(sum, 0, sizeof(*sum));
}

uint64_t
dp_ports_removed(const struct dp *dp, uint64_t *drained)
{
	(void)dp;
	*drained = 0;
	return 0;
}

int
dp_reload(struct dp *dp, struct cfg *next, struct cfg_diff *d, char *err,
	  size_t err_size)
{
	/* the path above does not exist: never reached */
	(void)dp, (void)next, (void)d, (void)err, (void)err_size;
	FUZZ_CHECK(!"reload of a file that does not exist");
	return -EINVAL;
}

uint32_t
dp_fdb_ageing_s(const struct dp *dp)
{
	return dp->cfg->fdb_ageing_s;
}

int
dp_port_migrate(struct dp *dp, unsigned int port, const char *path, char *err,
		size_t err_size)
{
	check_port(dp, port);
	if (port >= dp->n_vm) {
		snprintf(err, err_size, "not a VM port");
		return -ENOENT;
	}
	if (path != NULL)
		FUZZ_CHECK(strlen(path) < SIZE_MAX);
	snprintf(err, err_size, "not in client mode");
	return -EINVAL;
}

int
dp_port_impair(struct dp *dp, unsigned int port, const struct cfg_impair *im)
{
	check_port(dp, port);
	if (port >= dp->n_vm)
		return -ENOENT;
	FUZZ_CHECK(im->dir <= (CFG_IMPAIR_RX | CFG_IMPAIR_TX));
	FUZZ_CHECK(im->drop_ppm <= 1000000 && im->reorder_ppm <= 1000000);
	FUZZ_CHECK(im->delay_us <= CFG_IMPAIR_DELAY_MAX_US);
	dp->impair[port] = *im;
	return 0;
}

int
dp_qos_info(const struct dp *dp, unsigned int port, struct dp_qos_info *qi)
{
	memset(qi, 0, sizeof(*qi));
	if (port < dp->n_vm || port >= dp->n_ports)
		return -ENOENT;
	qi->base_quantum = 1514;
	for (unsigned int p = 0; p < dp->n_vm; p++) {
		qi->classes[qi->n_classes].port = (uint16_t)p;
		qi->classes[qi->n_classes].st.weight = dp->weight[p];
		qi->n_classes++;
	}
	return 0;
}

int
dp_qos_weight_set(struct dp *dp, unsigned int port, uint32_t weight)
{
	check_port(dp, port);
	if (port >= dp->n_vm)
		return -ENOENT;
	if (weight < DWRR_WEIGHT_MIN || weight > DWRR_WEIGHT_MAX)
		return -EINVAL;
	dp->weight[port] = weight;
	return 0;
}

int
dp_port_offload_stats(const struct dp *dp, unsigned int port,
		      struct toe_stats *st)
{
	check_port(dp, port);
	memset(st, 0, sizeof(*st));
	st->drops[TOE_DROP_L3_BAD] = 2;
	return 0;
}

int
dp_toe_info(const struct dp *dp, unsigned int port, struct dp_toe_info *ti)
{
	check_port(dp, port);
	memset(ti, 0, sizeof(*ti));
	if (port != 0)
		return -ENODATA;
	ti->conf = &dp->conf;
	ti->instance_id = "";
	ti->imds = ti->iperf3 = true;
	ti->n_conns = 1;
	ti->conns_total = 1;
	ti->conns[0].state = 1;
	ti->now_ms = 5000;
	return 0;
}

void
dp_toe_neighbours(const struct dp *dp, unsigned int port,
		  void (*fn)(const struct dp_toe_neighbour *n, void *arg),
		  void *arg)
{
	struct dp_toe_neighbour n = { .port = "vm2.0", .ip4 = { 10, 0, 0, 12 } };

	check_port(dp, port);
	fn(&n, arg);
}

unsigned int
dp_worker_count(const struct dp *dp)
{
	(void)dp;
	return 1;
}

int
dp_worker_info(const struct dp *dp, unsigned int worker,
	       struct dp_worker_info *wi)
{
	FUZZ_CHECK(worker < 1);
	memset(wi, 0, sizeof(*wi));
	wi->lcore = 1;
	wi->n_queues = dp->n_ports;
	for (unsigned int q = 0; q < wi->n_queues; q++)
		wi->queues[q].port = (uint16_t)q;
	wi->tsc_hz = 1000000000;
	wi->loop_hist[3] = 7;
	return 0;
}

void
dp_rebalance_info(const struct dp *dp, struct dp_rebalance_info *ri)
{
	(void)dp;
	memset(ri, 0, sizeof(*ri));
}

int
dp_queue_pin(struct dp *dp, unsigned int port, unsigned int q, int lcore,
	     char *err, size_t err_size)
{
	check_port(dp, port);
	FUZZ_CHECK(q <= 0xffff && lcore >= -1);
	if (q >= 1) {
		snprintf(err, err_size, "no queue %u", q);
		return -EINVAL;
	}
	return 0;
}

unsigned int
dp_main_lcore(const struct dp *dp)
{
	return dp->cfg->main_lcore;
}

uint16_t
dp_n_networks(const struct dp *dp)
{
	return (uint16_t)dp->cfg->n_networks;
}

const struct cfg_network *
dp_network(const struct dp *dp, uint16_t net)
{
	FUZZ_CHECK(net < dp->cfg->n_networks);
	return &dp->cfg->networks[net];
}

const struct fdb *
dp_fdb(const struct dp *dp, uint16_t net)
{
	FUZZ_CHECK(net < dp->cfg->n_networks);
	return dp->fdb[net];
}

unsigned int
dp_mbufs_in_use(const struct dp *dp)
{
	(void)dp;
	return 0;
}

unsigned int
dp_mbufs_total(const struct dp *dp)
{
	return dp->cfg->mbufs;
}

uint32_t
dp_now_s(const struct dp *dp)
{
	(void)dp;
	return 100;
}

const struct cfg *
dp_cfg(const struct dp *dp)
{
	return dp->cfg;
}

const char *
dp_direct_stop_name(enum dp_direct_stop s)
{
	static const char *const names[] = {
#define FAKE_DS_NAME(sym, name, help) name,
		DP_DIRECT_STOPS(FAKE_DS_NAME)
#undef FAKE_DS_NAME
	};

	FUZZ_CHECK((unsigned int)s < DP_DIRECT_STOP_MAX);
	return names[s];
}

json_t *
dp_members_json(const struct dp *dp)
{
	(void)dp;
	return json_pack("{s:s}", "source", "static");
}

json_t *
dp_overlay_json(const struct dp *dp)
{
	(void)dp;
	return NULL;
}

/* Packet capture: at most one, id 1, forgotten at each input.  The file
 * descriptor a request passes is tracked: the command must hand it to
 * dp_capture_start or close it (fake_dp_fd_check). */
static bool capture_on;
static struct dp_capture_info capture;
static int passed_fd = -1;       /* until ctl_take_fd */
static int given_fd = -1;        /* what it gave */

int
ctl_take_fd(void)
{
	int fd = passed_fd;

	passed_fd = -1;
	given_fd = fd;
	return fd;
}

void
fake_dp_pass_fd(bool pass)
{
	FUZZ_CHECK(passed_fd < 0);
	capture_on = false;
	if (pass) {
		passed_fd = open("/dev/null", O_WRONLY | O_CLOEXEC);
		FUZZ_CHECK(passed_fd >= 0);
	}
}

void
fake_dp_fd_check(void)
{
	if (passed_fd >= 0) {
		/* not taken: the server closes what the command did not take */
		close(passed_fd);
	} else if (given_fd >= 0) {
		/* taken: closed by the command or by dp_capture_start */
		FUZZ_CHECK(fcntl(given_fd, F_GETFD) < 0);
	}
	passed_fd = given_fd = -1;
}

int
dp_capture_start(struct dp *dp, const struct dp_capture_req *req, char *err,
		 size_t err_size)
{
	int p;

	FUZZ_CHECK(req->fd >= 0 && close(req->fd) == 0);
	FUZZ_CHECK(req->port != NULL);
	FUZZ_CHECK((req->dirs & (DP_CAP_RX | DP_CAP_TX)) != 0 &&
		   (req->dirs & ~(DP_CAP_RX | DP_CAP_TX | DP_CAP_DROPS)) == 0);
	p = dp_port_find(dp, req->port);
	if (p < 0 || capture_on) {
		snprintf(err, err_size, "no port named \"%s\"", req->port);
		return -1;
	}
	memset(&capture, 0, sizeof(capture));
	capture.id = 1;
	snprintf(capture.port, sizeof(capture.port), "%s", req->port);
	capture.dirs = req->dirs;
	capture.snaplen = req->snaplen;
	capture.count = req->count;
	snprintf(capture.filter, sizeof(capture.filter), "%s",
		 req->filter != NULL ? req->filter : "");
	capture_on = true;
	return 1;
}

int
dp_capture_stop(struct dp *dp, int id)
{
	(void)dp;
	if (!capture_on || id != 1)
		return -ENOENT;
	capture.done = true;
	snprintf(capture.why, sizeof(capture.why), "stopped");
	return 0;
}

int
dp_capture_info(struct dp *dp, int id, struct dp_capture_info *info)
{
	(void)dp;
	if (!capture_on || id != 1)
		return -ENOENT;
	*info = capture;
	return 0;
}

unsigned int
dp_capture_list(struct dp *dp, int *ids, unsigned int max)
{
	(void)dp;
	if (!capture_on || max == 0)
		return 0;
	ids[0] = 1;
	return 1;
}

int
dp_capture_keep(struct dp *dp, int id)
{
	(void)dp;
	return capture_on && id == 1 ? 0 : -ENOENT;
}
