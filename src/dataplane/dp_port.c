/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Control side of the switch's ports: uplinks are DPDK ethdevs configured
 * and started here (one rx queue, one tx queue per worker so workers
 * never share one); VM ports are vhost-user sockets whose guests come and
 * go on the vhost event thread.  When a guest goes, its port is marked
 * down first and the thread then waits until every worker has been
 * quiescent once, so no worker still holds its vid when the library
 * unmaps the guest's memory.
 */
#include "dp_priv.h"

#include <assert.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/epoll.h>

#include <rte_dev.h>
#include <rte_ethdev.h>
#include <rte_mbuf.h>
#include <rte_rcu_qsbr.h>

#include "attach.h"
#include "coring.h"
#include "dp_members.h"
#include "fdb.h"
#include "toe_stack/toe_offload.h"
#include "vhost/vhost.h"

/* A slot id is a port id everywhere: MAC table, attach plans, config. */
static_assert(DP_PORTS_MAX <= FDB_PORT_MAX, "slot ids fit the MAC table");
static_assert(DP_PORTS_MAX <= ATTACH_MAX, "attach plans see every slot");
static_assert(CFG_MAX_PORTS <= DP_PORTS_MAX, "the config fits the slots");

#define DP_RX_DESC 1024
#define DP_TX_DESC 1024

static int
dp_vhost_up(void *arg, int vid)
{
	struct dp_port *port = arg;
	struct dp *dp = port->dp;

	/* What this guest takes as it is; the TOE does the rest for it.  The
	 * library does not check this: it writes whatever mbuf flags say.
	 * rte_vhost's enqueue takes chains whatever the guest negotiated. */
	atomic_store_explicit(&port->caps, TOE_CAP_SG | (port->cfg->offloads ?
			      toe_caps_from_virtio(vhost_features(vid)) : 0),
			      memory_order_relaxed);
	/* Pairs with the acquire load of vid in the workers. */
	atomic_store_explicit(&port->vid, vid, memory_order_release);
	portset_shared_add(&dp->up, port->id);
	/* A worker asleep on this port's (silent) kick set. */
	dp_wake_port(dp, port, -1);
	dp_overlay_port_changed(dp, port->id);
	DP_LOG(INFO, "port %s: link up\n", port->name);
	return 0;
}

static void
dp_vhost_down(void *arg, int vid)
{
	struct dp_port *port = arg;
	struct dp *dp = port->dp;
	int cur = atomic_load_explicit(&port->vid, memory_order_relaxed);

	/* Only the owner's down is ever reported (vhost_owner.h); a vid
	 * that is not the port's would take the real guest down. */
	if (cur >= 0 && cur != vid) {
		DP_LOG(WARNING, "port %s: down for vid %d, which does not run the port (vid %d): ignored\n",
		       port->name, vid, cur);
		return;
	}
	portset_shared_del(&dp->up, port->id);
	atomic_store_explicit(&port->vid, -1, memory_order_release);
	atomic_store_explicit(&port->vrings_enabled, 0, memory_order_release);
	atomic_store_explicit(&port->caps, 0, memory_order_relaxed);
	/*
	 * A worker that loaded the old vid before the stores above may be
	 * inside a burst on it.  Each worker reports quiescence between
	 * bursts only, so once all have, none can hold vid any longer and
	 * the library may free the device when we return.
	 */
	rte_rcu_qsbr_synchronize(dp->rcu, RTE_QSBR_THRID_INVALID);
	dp_overlay_port_changed(dp, port->id);
	DP_LOG(INFO, "port %s: link down (vid %d)\n", port->name, vid);
}

static void
dp_vhost_queue(void *arg, int vid, uint16_t vring, bool enabled)
{
	struct dp_port *port = arg;
	int cur = atomic_load_explicit(&port->vid, memory_order_relaxed);

	/* The owner's vrings only (before up(), cur is -1). */
	if (vring >= 32 || (cur >= 0 && cur != vid))
		return;
	if (enabled) {
		atomic_fetch_or_explicit(&port->vrings_enabled, 1u << vring,
					 memory_order_release);
		dp_wake_port(port->dp, port, -1);
	} else
		atomic_fetch_and_explicit(&port->vrings_enabled, ~(1u << vring),
					  memory_order_release);
}

static const struct vhost_events dp_vhost_events = {
	.up = dp_vhost_up,
	.down = dp_vhost_down,
	.queue = dp_vhost_queue,
};

/* The ethdev name is the devargs up to the first comma. */
static int
dp_uplink_port_id(const char *devargs, uint16_t *port_id)
{
	char name[RTE_ETH_NAME_MAX_LEN];
	size_t len = strcspn(devargs, ",");

	if (len >= sizeof(name))
		return -ENAMETOOLONG;
	memcpy(name, devargs, len);
	name[len] = '\0';
	if (rte_eth_dev_get_port_by_name(name, port_id) == 0)
		return 0;
	/* Not probed by the EAL arguments: probe it now. */
	if (rte_dev_probe(devargs) != 0)
		return -ENODEV;
	return rte_eth_dev_get_port_by_name(name, port_id) == 0 ? 0 : -ENODEV;
}

/*
 * The TSO vtoed hands to this PMD (TOE_CAP_TSO4/6, and with
 * TOE_CAP_TSO_SEGS a limit the TOE pre-cuts super-frames to), 0 for none.
 * Only PMDs whose TSO has been run end to end get it:
 *  - net_virtio / net_virtio_user: TSO when the device offers HOST_TSO4
 *    and HOST_TSO6 (and CSUM); the super-frame goes out whole with a
 *    virtio-net header, the device cuts it.  Run end to end by
 *    tests/integration/test_uplink_tso.sh (a second vtoed as the device).
 *    No segment limit: the PMD chains descriptors (or an indirect table).
 *  - not net_tap (DPDK 22.11): it claims TSO, but refuses every frame
 *    whose MSS plus headers exceeds the MTU (it compares the segment with
 *    its Ethernet header against the IP MTU), i.e. every full-size
 *    segment, and returns it untaken (seen as nic_stuck); its rte_gso
 *    also handles IPv4 only, into at most 128 mbufs.
 * A real VF joins the list once run on one; its limits then come from
 * rte_eth_tx_prepare and tx_desc_lim.nb_seg_max (partial GSO is in
 * toe_gso.c and tested in tests/eal/test_toe_gso.c).
 */
static uint32_t
dp_uplink_tso(const struct rte_eth_dev_info *info)
{
	const uint64_t need = RTE_ETH_TX_OFFLOAD_TCP_TSO |
			      RTE_ETH_TX_OFFLOAD_TCP_CKSUM;

	if (info->driver_name == NULL || (info->tx_offload_capa & need) != need)
		return 0;
	if (strcmp(info->driver_name, "net_virtio_user") == 0 ||
	    strcmp(info->driver_name, "net_virtio") == 0)
		return TOE_CAP_TSO4 | TOE_CAP_TSO6;
	return 0;
}

/*
 * What this PMD does for frames inside a VXLAN encapsulation, given what
 * it does for plain ones (caps), how it is told (*mark), and the tx
 * offloads that takes (added to *offloads):
 *  - a NIC that parses VXLAN (RTE_ETH_TX_OFFLOAD_VXLAN_TNL_TSO, with the
 *    outer and inner IPv4 checksums and the L4 ones) takes super-frames
 *    whole and completes inner checksums, told by DPDK's tunnel flags;
 *  - virtio completes the inner L4 checksum (TOE_CAP_L4_CSUM) when the
 *    outer headers are given as layer 2: the device sums from csum_start
 *    to the end, wherever that is, and the PMD puts csum_start at
 *    l2_len + l3_len (it ignores outer_l2/l3_len); it has no tunnel TSO;
 *  - any other gets full checksums and segments.
 * TOE_CAP_SG as for plain frames.
 */
static uint32_t
dp_uplink_tnl_caps(const struct rte_eth_dev_info *info, uint32_t caps,
		   enum toe_tnl_mark *mark, uint64_t *offloads)
{
	const uint64_t tnl = RTE_ETH_TX_OFFLOAD_VXLAN_TNL_TSO |
			     RTE_ETH_TX_OFFLOAD_OUTER_IPV4_CKSUM |
			     RTE_ETH_TX_OFFLOAD_IPV4_CKSUM |
			     RTE_ETH_TX_OFFLOAD_TCP_CKSUM |
			     RTE_ETH_TX_OFFLOAD_UDP_CKSUM;
	uint32_t c = caps & TOE_CAP_SG;

	*mark = TOE_TNL_AS_L2;
	if ((info->tx_offload_capa & tnl) == tnl) {
		*mark = TOE_TNL_FLAGS;
		*offloads |= tnl;
		return c | TOE_CAP_L4_CSUM | TOE_CAP_TSO4;
	}
	if (info->driver_name != NULL && (caps & TOE_CAP_L4_CSUM) &&
	    (strcmp(info->driver_name, "net_virtio_user") == 0 ||
	     strcmp(info->driver_name, "net_virtio") == 0))
		c |= TOE_CAP_L4_CSUM;
	return c;
}

static int
dp_uplink_open(struct dp *dp, struct dp_port *port)
{
	struct rte_eth_conf conf = { 0 };
	struct rte_eth_dev_info info;
	enum toe_tnl_mark mark;
	uint32_t caps, tso, tnl;
	uint16_t id;
	int rc;

	rc = dp_uplink_port_id(port->ucfg->device, &id);
	if (rc != 0) {
		DP_LOG(ERR, "uplink %s: no DPDK port for device \"%s\"\n",
		       port->name, port->ucfg->device);
		return rc;
	}
	port->eth_port = id;
	rc = rte_eth_dev_info_get(id, &info);
	if (rc != 0)
		return rc;
	/* offloads: false: the NIC is asked for nothing but chains; the TOE
	 * does the rest (an operator's way around a NIC whose offloads
	 * misbehave). */
	if (!port->ucfg->offloads)
		info.tx_offload_capa &= RTE_ETH_TX_OFFLOAD_MULTI_SEGS;
	/* The NIC's own L4 checksum where it has it, and its TSO on PMDs
	 * where vtoed's use of it is tested; the TOE does in software what
	 * the egress lacks, as frames leave the scheduler.  IPv4 TSO has
	 * each segment's IP checksum redone by whoever cuts it: the NIC's
	 * IP checksum offload where there is one (a VF), the device itself
	 * for virtio (which has no such offload). */
	conf.txmode.offloads = info.tx_offload_capa &
		(RTE_ETH_TX_OFFLOAD_TCP_CKSUM | RTE_ETH_TX_OFFLOAD_UDP_CKSUM);
	caps = toe_caps_from_eth(conf.txmode.offloads);
	/* A NIC that takes chains gets software segments that share the
	 * super-frame's buffer. */
	if (info.tx_offload_capa & RTE_ETH_TX_OFFLOAD_MULTI_SEGS) {
		conf.txmode.offloads |= RTE_ETH_TX_OFFLOAD_MULTI_SEGS;
		caps |= TOE_CAP_SG;
	}
	tso = dp_uplink_tso(&info);
	port->nic_ip_csum = false;
	if (tso != 0) {
		conf.txmode.offloads |= RTE_ETH_TX_OFFLOAD_TCP_TSO |
			(info.tx_offload_capa & (RTE_ETH_TX_OFFLOAD_IPV4_CKSUM |
						 RTE_ETH_TX_OFFLOAD_MULTI_SEGS));
		port->nic_ip_csum = (info.tx_offload_capa &
				     RTE_ETH_TX_OFFLOAD_IPV4_CKSUM) != 0;
		caps |= tso;
	}
	tnl = dp_uplink_tnl_caps(&info, caps, &mark, &conf.txmode.offloads);
	atomic_store_explicit(&port->caps, caps, memory_order_relaxed);
	atomic_store_explicit(&port->tnl_caps, tnl, memory_order_relaxed);
	atomic_store_explicit(&port->tnl_mark, (uint8_t)mark, memory_order_relaxed);
	DP_LOG(INFO, "uplink %s: %s does %s%s%s%s%s (at most %u segments per TSO frame)\n",
	       port->name, info.driver_name != NULL ? info.driver_name : "?",
	       caps & TOE_CAP_L4_CSUM ? "L4 checksums" : "no checksums",
	       caps & TOE_CAP_TSO4 ? ", TSO4" : "",
	       caps & TOE_CAP_TSO6 ? ", TSO6" : "",
	       tnl & TOE_CAP_L4_CSUM ? ", inner checksums in VXLAN" : "",
	       tnl & TOE_CAP_TSO4 ? ", TSO in VXLAN" : "",
	       TOE_CAP_TSO_SEGS_OF(caps));
	/* One tx queue: only the worker that owns the uplink's scheduler
	 * transmits on it (others hand frames over through its inbox), and
	 * some PMDs (net_tap) want as many tx queues as rx queues. */
	/* Interrupt mode: rx interrupts where the PMD has them; without,
	 * the worker polling it sleeps at most max_sleep. */
	conf.intr_conf.rxq = dp->intr;
	rc = rte_eth_dev_configure(id, 1, 1, &conf);
	if (rc != 0 && dp->intr) {
		conf.intr_conf.rxq = 0;
		rc = rte_eth_dev_configure(id, 1, 1, &conf);
	}
	if (rc != 0)
		goto err;
	port->rx_intr = conf.intr_conf.rxq != 0;
	if (port->ucfg->mtu != 0) {
		rc = rte_eth_dev_set_mtu(id, port->ucfg->mtu);
		if (rc != 0) {
			DP_LOG(ERR, "uplink %s: cannot set MTU %u: %s\n", port->name,
			       port->ucfg->mtu, rte_strerror(-rc));
			goto err;
		}
	}
	rc = rte_eth_rx_queue_setup(id, 0, DP_RX_DESC, rte_eth_dev_socket_id(id),
				    NULL, dp->pool);
	if (rc == 0)
		rc = rte_eth_tx_queue_setup(id, 0, DP_TX_DESC,
					    rte_eth_dev_socket_id(id), NULL);
	if (rc != 0)
		goto err;
	rc = rte_eth_dev_start(id);
	if (rc != 0)
		goto err;
	if (port->rx_intr && rte_eth_dev_rx_intr_ctl_q_get_fd(id, 0) < 0)
		port->rx_intr = false;
	if (dp->intr)
		DP_LOG(INFO, "uplink %s: %s\n", port->name, port->rx_intr ?
		       "rx interrupts: its worker sleeps until frames come" :
		       "no rx interrupts: its worker sleeps at most lcores.max_sleep");
	/* A switch port sees every frame: promiscuous, all multicast. */
	rte_eth_promiscuous_enable(id);
	rte_eth_allmulticast_enable(id);
	port->opened = true;
	rc = dp_qos_create(dp, port);
	if (rc != 0) {
		DP_LOG(ERR, "uplink %s: cannot create its scheduler\n", port->name);
		return rc;
	}
	portset_shared_add(&dp->up, port->id);
	DP_LOG(INFO, "uplink %s: DPDK port %u (%s) started\n", port->name, id,
	       info.driver_name);
	return 0;
err:
	DP_LOG(ERR, "uplink %s: setup failed: %s\n", port->name,
	       rte_strerror(-rc));
	return rc;
}

static int
dp_vhost_open(struct dp_port *port)
{
	struct vhost_port_conf conf = {
		.path = port->cfg->socket,
		.client = port->cfg->mode == CFG_VHOST_CLIENT,
		.queues = port->queues,
		.offloads = port->cfg->offloads,
		.takeover_newest = port->cfg->takeover_newest,
		.events = &dp_vhost_events,
		.arg = port,
		.direct = port->dp->direct ? &port->direct : NULL,
		.owner = port->cfg->sock_owner,
		.group = port->cfg->sock_group,
		.perms = port->cfg->sock_perms,
		.kick_sets = port->kick_sets,
	};
	int rc = vhost_port_open(&conf);

	if (rc < 0) {
		DP_LOG(ERR, "port %s: cannot open vhost-user socket %s: %s\n",
		       port->name, conf.path, strerror(-rc));
		return rc;
	}
	port->vhost_handle = rc;
	port->opened = true;
	return 0;
}

void
dp_ports_close(struct dp *dp)
{
	/* VM ports first: unregistering runs dp_vhost_down for connected
	 * guests, which waits for the workers (already offline here). */
	for (uint16_t p = 0; p < DP_PORTS_MAX; p++) {
		struct dp_port *port = &dp->ports[p];

		if (port->kind != DP_PORT_VHOST || !port->opened)
			continue;
		vhost_port_close(port->vhost_handle);
		port->opened = false;
	}
	for (uint16_t p = 0; p < DP_PORTS_MAX; p++) {
		struct dp_port *port = &dp->ports[p];

		if (port->kind != DP_PORT_UPLINK || !port->opened)
			continue;
		portset_shared_del(&dp->up, port->id);
		dp_qos_destroy(dp, port);
		rte_eth_dev_stop(port->eth_port);
		rte_eth_dev_close(port->eth_port);
		port->opened = false;
	}
}

/* --- plans: which worker polls what ------------------------------------ */

/* Give every rx queue of the ports in use that has no worker yet the
 * least loaded worker (place.h); the others stay where they are.  -E2BIG
 * when every worker polls DP_WORKER_QUEUES_MAX queues. */
static int
dp_queues_place(struct dp *dp)
{
	static struct place_queue pq[DP_PORTS_MAX * CFG_MAX_QUEUES];
	uint16_t n_ports = dp_port_count(dp);
	unsigned int n = 0, k = 0;
	bool any = false;
	int rc;

	for (uint16_t p = 0; p < n_ports; p++) {
		const struct dp_port *port = &dp->ports[p];

		for (uint16_t q = 0; port->used && q < port->queues; q++) {
			uint64_t frames, window;

			pq[n++] = (struct place_queue){
				.load = dp_load_queue(dp, p, q, &frames, &window),
				.worker = port->worker_of_queue[q] == DP_QUEUE_PARKED ?
					  (int16_t)DP_QUEUE_PARKED :
					  port->worker_of_queue[q],
			};
			any |= port->worker_of_queue[q] == -1;
		}
	}
	if (!any)
		return 0;
	rc = place_new(pq, n, dp->n_workers, DP_WORKER_QUEUES_MAX);
	for (uint16_t p = 0; p < n_ports; p++) {
		struct dp_port *port = &dp->ports[p];

		for (uint16_t q = 0; port->used && q < port->queues; q++, k++)
			if (port->worker_of_queue[q] == -1)
				port->worker_of_queue[q] = (int8_t)pq[k].worker;
	}
	return rc;
}

/* What wakes a sleeping worker for queue q of port (interrupt mode). */
static void
dp_rxq_intr(const struct dp *dp, const struct dp_port *port, uint16_t q,
	    struct dp_rxq *rq)
{
	rq->intr_kind = DP_INTR_NONE;
	rq->intr_fd = -1;
	if (!dp->intr)
		return;
	if (port->kind == DP_PORT_VHOST && port->kick_sets[q] >= 0) {
		rq->intr_kind = DP_INTR_KICK;
		rq->intr_fd = port->kick_sets[q];
	} else if (port->kind == DP_PORT_UPLINK && port->opened && port->rx_intr) {
		rq->intr_fd = rte_eth_dev_rx_intr_ctl_q_get_fd(port->eth_port, q);
		rq->intr_kind = rq->intr_fd >= 0 ? DP_INTR_ETH : DP_INTR_NONE;
	}
}

int
dp_plans_publish(struct dp *dp)
{
	struct dp_plan *next[CFG_MAX_WORKERS] = { NULL };
	uint16_t n_ports = dp_port_count(dp), readers[DP_PORTS_MAX] = { 0 };
	uint64_t mask[DP_PORTS_MAX] = { 0 };
	int rc;

	rc = dp_queues_place(dp);
	if (rc != 0)
		goto out;
	dp->plan_gen++;
	for (unsigned int i = 0; i < dp->n_workers; i++) {
		next[i] = calloc(1, sizeof(*next[i]));
		if (next[i] == NULL) {
			rc = -ENOMEM;
			goto out;
		}
		next[i]->gen = dp->plan_gen;
		next[i]->intr_all = true;
		for (uint16_t p = 0; p < DP_PORTS_MAX; p++)
			next[i]->corx_of_port[p] = -1;
	}
	for (uint16_t p = 0; p < n_ports; p++) {
		struct dp_port *port = &dp->ports[p];

		if (!port->used)
			continue;
		for (uint16_t q = 0; q < port->queues; q++) {
			struct dp_plan *pl;
			struct dp_rxq *rq;

			if (port->worker_of_queue[q] < 0)
				continue;       /* parked: being handed over */
			pl = next[port->worker_of_queue[q]];
			if (pl->n_rxqs == DP_WORKER_QUEUES_MAX) {
				rc = -E2BIG;
				goto out;
			}
			rq = &pl->rxqs[pl->n_rxqs++];
			*rq = (struct dp_rxq){ .port = p, .queue = q };
			dp_rxq_intr(dp, port, q, rq);
			pl->intr_all &= rq->intr_kind != DP_INTR_NONE;
			mask[p] |= 1ULL << port->worker_of_queue[q];
			/* Each worker reads the co-resident ring of every VM
			 * whose queues it polls, delivering into the first. */
			if (port->kind != DP_PORT_VHOST || pl->corx_of_port[p] >= 0)
				continue;
			pl->corx_of_port[p] = (int16_t)pl->n_corx;
			pl->corx[pl->n_corx++] = (struct dp_corx){ p, q };
			readers[p]++;
		}
		/* An uplink's scheduler runs on the worker of its queue,
		 * once it is open. */
		if (port->kind == DP_PORT_UPLINK && port->qos != NULL &&
		    port->worker_of_queue[0] >= 0) {
			struct dp_plan *pl = next[port->worker_of_queue[0]];

			pl->qos[pl->n_qos++] = p;
			portset_add(&pl->qos_mine, p);
		}
	}
	/* While workers switch plans, some hold the old one and some the
	 * new: the counts they read (readers of a ring, whom to wake) must
	 * cover both until all have switched, then shrink to the new. */
	for (uint16_t p = 0; p < n_ports; p++) {
		struct dp_port *port = &dp->ports[p];

		if (!port->used)
			continue;
		if (port->n_readers < readers[p])
			port->n_readers = readers[p];
		atomic_fetch_or(&port->wake_mask, mask[p]);
	}
	for (unsigned int i = 0; i < dp->n_workers; i++)
		next[i] = atomic_exchange_explicit(&dp->workers[i].plan, next[i],
						   memory_order_acq_rel);
	/* A sleeping worker picks its new plan up now. */
	for (unsigned int i = 0; i < dp->n_workers; i++)
		dp_wake(&dp->workers[i]);
	/* No worker still polls from an old plan after this. */
	rte_rcu_qsbr_synchronize(dp->rcu, RTE_QSBR_THRID_INVALID);
	for (uint16_t p = 0; p < n_ports; p++) {
		struct dp_port *port = &dp->ports[p];

		if (!port->used)
			continue;
		port->n_readers = readers[p];
		atomic_store(&port->wake_mask, mask[p]);
	}
out:
	for (unsigned int i = 0; i < dp->n_workers; i++)
		free(next[i]);
	return rc;
}

int
dp_queues_move(struct dp *dp, const struct dp_move *moves, unsigned int n)
{
	int rc;

	for (unsigned int i = 0; i < n; i++) {
		const struct dp_move *m = &moves[i];

		if (m->port >= dp_port_count(dp) || !dp->ports[m->port].used ||
		    m->queue >= dp->ports[m->port].queues ||
		    m->worker >= dp->n_workers)
			return -EINVAL;
	}
	/*
	 * Hand-over through quiescence: first no worker polls the queues
	 * (and, for an uplink's queue 0, runs its scheduler); once every
	 * worker has passed a quiescent state, the old one has finished
	 * the frames it took, and whatever it handed to rings and inboxes
	 * is there before the new worker takes the next frame.  Frames
	 * meanwhile wait in their rings.  One queue is never polled by
	 * two workers, so its order holds.
	 */
	for (unsigned int i = 0; i < n; i++)
		dp->ports[moves[i].port].worker_of_queue[moves[i].queue] =
			DP_QUEUE_PARKED;
	rc = dp_plans_publish(dp);
	for (unsigned int i = 0; i < n; i++)
		dp->ports[moves[i].port].worker_of_queue[moves[i].queue] =
			(int8_t)moves[i].worker;
	if (rc == 0)
		rc = dp_plans_publish(dp);
	for (unsigned int i = 0; rc == 0 && i < n; i++) {
		DP_LOG(INFO, "port %s: queue %u moved to worker %u (lcore %u)\n",
		       dp->ports[moves[i].port].name, moves[i].queue,
		       moves[i].worker, dp->workers[moves[i].worker].lcore);
		dp->queues_moved++;
	}
	return rc;
}

/* --- one place that builds and tears down a VM port -------------------- */

int
dp_config_port_find(const struct dp *dp, const char *name)
{
	int p = dp_port_find(dp, name);

	return p >= 0 && !dp->ports[p].from_libvirt ? p : -1;
}

/* Slot p's TOE contexts go (the slot is free again). */
static void
dp_slot_give_back(struct dp *dp, uint16_t p)
{
	/* Closing a kick set takes it out of every worker's epoll too. */
	for (uint16_t q = 0; q < CFG_MAX_QUEUES; q++) {
		if (dp->ports[p].kick_sets[q] >= 0)
			close(dp->ports[p].kick_sets[q]);
		dp->ports[p].kick_sets[q] = -1;
	}
	for (unsigned int i = 0; i < dp->n_workers; i++) {
		toe_ctx_destroy(dp->workers[i].toe[p]);
		dp->workers[i].toe[p] = NULL;
	}
	dp_toe_port_free(dp, p);
}

/* A free slot, or DP_PORTS_MAX. */
static uint16_t
dp_slot_free(const struct dp *dp)
{
	uint16_t p;

	for (p = 0; p < DP_PORTS_MAX; p++)
		if (!dp->ports[p].used && dp->ports[p].coring == NULL &&
		    dp->ports[p].qos == NULL)
			break;
	return p;
}

/*
 * Take free slot p for a port of this kind: cleared, its TOE context on
 * every worker made, its counters' base taken (a port's counters start
 * at zero).  Not yet in use.  0 or -ENOMEM (nothing left behind).
 */
static int
dp_slot_take(struct dp *dp, uint16_t p, enum dp_port_kind kind,
	     const char *name, uint16_t queues)
{
	struct dp_port *port = &dp->ports[p];

	/* Nothing refers to a free slot: every worker passed a quiescent
	 * state after its last port was unpublished. */
	{
		uint32_t epoch = port->epoch + 1;

		memset(port, 0, sizeof(*port));
		port->epoch = epoch;
	}
	port->dp = dp;
	port->id = p;
	port->kind = kind;
	port->queues = queues;
	port->uplink_id = -1;
	snprintf(port->name, sizeof(port->name), "%s", name);
	for (uint16_t q = 0; q < CFG_MAX_QUEUES; q++) {
		port->worker_of_queue[q] = -1;
		port->kick_sets[q] = -1;
	}
	for (uint16_t q = 0; dp->intr && kind == DP_PORT_VHOST && q < queues; q++) {
		port->kick_sets[q] = epoll_create1(EPOLL_CLOEXEC);
		if (port->kick_sets[q] < 0) {
			dp_slot_give_back(dp, p);
			return -ENOMEM;
		}
	}
	atomic_init(&port->vid, -1);
	atomic_init(&port->vrings_enabled, 0);
	atomic_init(&port->caps, 0);
	atomic_init(&port->tnl_caps, 0);
	atomic_init(&port->tnl_mark, TOE_TNL_AS_L2);
	for (unsigned int i = 0; i < dp->n_workers; i++) {
		struct dp_worker *w = &dp->workers[i];

		w->toe[p] = toe_ctx_create(dp->pool, (int)rte_socket_id());
		if (w->toe[p] == NULL) {
			dp_slot_give_back(dp, p);
			return -ENOMEM;
		}
		w->toe_sink[p] = (struct dp_toe_sink){ .w = w, .port = p };
		toe_ctx_set_drop_sink(w->toe[p], dp_toe_drop, &w->toe_sink[p]);
	}
	dp_port_stats_raw(dp, p, &dp->stats_base[p]);
	dp_load_port_reset(dp, p);
	return 0;
}

/* Slot p's port is in use: plans and readers see it. */
static void
dp_slot_use(struct dp *dp, uint16_t p)
{
	dp->ports[p].used = true;
	if (dp_port_count(dp) <= p)
		atomic_store_explicit(&dp->n_ports, p + 1, memory_order_release);
}

/* Slot p's port went with dropped frames still queued for it: counted
 * (port_removed), and its TOE contexts go. */
static void
dp_slot_removed(struct dp *dp, uint16_t p, uint64_t dropped)
{
	__atomic_fetch_add(&dp->ctl_stats[p].drops[DP_DROP_PORT_REMOVED],
			   dropped, __ATOMIC_RELAXED);
	dp->ports_removed++;
	dp->removed_drained += dropped;
	dp_slot_give_back(dp, p);
}

int
dp_uplink_find(const struct dp *dp, const char *name)
{
	for (uint16_t p = 0; p < dp_port_count(dp); p++)
		if (dp->ports[p].used && dp->ports[p].kind == DP_PORT_UPLINK &&
		    strcmp(dp->ports[p].name, name) == 0)
			return p;
	return -1;
}

void
dp_uplinks_rebind(struct dp *dp)
{
	for (uint16_t p = 0; p < dp_port_count(dp); p++) {
		struct dp_port *port = &dp->ports[p];
		int u;

		if (!port->used || port->kind != DP_PORT_VHOST)
			continue;
		u = port->uplink_name[0] != '\0' ?
		    dp_uplink_find(dp, port->uplink_name) : -1;
		if (u == port->uplink_id)
			continue;
		/* One aligned word the workers read per frame: they see the
		 * old uplink (gone from the up set: its frames are counted as
		 * link_down) or the new one. */
		__atomic_store_n(&dp->fwd_ports[p].uplink, (int16_t)u,
				 __ATOMIC_RELEASE);
		port->uplink_id = (int16_t)u;
		if (u >= 0)
			DP_LOG(INFO, "port %s: uplink %s (id %d)\n", port->name,
			       port->uplink_name, u);
		else if (port->uplink_name[0] != '\0')
			DP_LOG(WARNING, "port %s: its uplink %s is not there: frames to unknown MACs are dropped\n",
			       port->name, port->uplink_name);
	}
}

int
dp_uplink_add(struct dp *dp, const struct cfg_uplink *uc)
{
	uint16_t p = dp_slot_free(dp);
	struct dp_port *port;
	int rc;

	if (p == DP_PORTS_MAX)
		return -ENOSPC;
	rc = dp_slot_take(dp, p, DP_PORT_UPLINK, uc->name, 1);
	if (rc != 0)
		return rc;
	port = &dp->ports[p];
	port->uconf = *uc;
	port->ucfg = &port->uconf;
	dp->fwd_ports[p] = (struct fwd_port){ .is_uplink = true, .uplink = -1 };
	dp_slot_use(dp, p);
	/* Its worker first: the scheduler is that worker's to run. */
	(void)dp_queues_place(dp);
	rc = dp_uplink_open(dp, port);
	if (rc == 0)
		rc = dp_plans_publish(dp);
	if (rc != 0) {
		dp_uplink_remove(dp, p);
		return rc;
	}
	dp_uplinks_rebind(dp);
	return p;
}

void
dp_uplink_remove(struct dp *dp, uint16_t p)
{
	struct dp_port *port = &dp->ports[p];
	struct rte_eth_dev_info info;
	struct rte_device *dev = NULL;
	uint64_t dropped;

	dp_capture_port_gone(dp, p);
	portset_shared_del(&dp->up, p);
	/* Nobody sends to it any more: VM ports lose it, learned MACs
	 * behind it are forgotten, its queue and scheduler leave the plans. */
	port->used = false;
	dp_uplinks_rebind(dp);
	for (uint16_t n = 0; n < dp->n_nets; n++)
		fdb_flush_port(dp->fdbs[n], p);
	if (dp_plans_publish(dp) != 0)
		rte_rcu_qsbr_synchronize(dp->rcu, RTE_QSBR_THRID_INVALID);
	dropped = dp_qos_destroy(dp, port);
	if (port->opened) {
		if (rte_eth_dev_info_get(port->eth_port, &info) == 0)
			dev = info.device;
		rte_eth_dev_stop(port->eth_port);
		rte_eth_dev_close(port->eth_port);
		/* Let the device go too, so that the same one can be probed
		 * again by a later reload. */
		if (dev != NULL)
			rte_dev_remove(dev);
		port->opened = false;
	}
	dp_slot_removed(dp, p, dropped);
	DP_LOG(INFO, "uplink %s: removed (%" PRIu64 " queued frame(s) dropped: port_removed)\n",
	       port->name, dropped);
}

int
dp_port_add(struct dp *dp, const struct cfg *cfg, const struct cfg_port *pc,
	    const char *vm, bool from_libvirt)
{
	struct dp_port *port = NULL;
	char key[8];
	uint16_t p = dp_slot_free(dp);
	int rc;

	if (p == DP_PORTS_MAX)
		return -ENOSPC;
	rc = dp_slot_take(dp, p, DP_PORT_VHOST, pc->name, pc->queues);
	if (rc != 0)
		return rc;
	port = &dp->ports[p];
	port->conf = *pc;
	port->cfg = &port->conf;
	port->from_libvirt = from_libvirt;
	snprintf(port->vm, sizeof(port->vm), "%s", vm);
	atomic_init(&port->weight, pc->weight);
	if (pc->uplink >= 0)
		snprintf(port->uplink_name, sizeof(port->uplink_name), "%s",
			 cfg->uplinks[pc->uplink].name);
	port->uplink_id = (int16_t)(port->uplink_name[0] != '\0' ?
				    dp_uplink_find(dp, port->uplink_name) : -1);
	port->net = pc->network < dp->n_nets ? (uint16_t)pc->network : 0;
	port->vlan = dp->nets[port->net].vlan;
	psec_build(&port->psec, pc);
	dp_port_impair_set(dp, p, &pc->impair);
	rc = dp_toe_port_add(dp, p);
	if (rc != 0) {
		DP_LOG(ERR, "port %s: no memory for its TOE endpoints\n", port->name);
		goto err;
	}
	dp->fwd_ports[p] = (struct fwd_port){
		.is_uplink = false, .uplink = port->uplink_id, .net = port->net,
	};
	memcpy(dp->fwd_ports[p].mac, pc->mac, 6);
	for (unsigned int i = 0; i < pc->n_ips && !dp->fwd_ports[p].has_ip4; i++)
		if (pc->ips[i].family == 4) {
			dp->fwd_ports[p].has_ip4 = true;
			memcpy(dp->fwd_ports[p].ip4, pc->ips[i].addr, 4);
		}

	/* Named by slot: port names (31 characters) do not fit a ring name. */
	snprintf(key, sizeof(key), "p%u", p);
	port->coring = coring_create(key, (int)rte_socket_id(), DP_CORING_SIZE);
	if (port->coring == NULL) {
		rc = -errno;
		DP_LOG(ERR, "port %s: cannot create its co-resident ring: %s\n",
		       port->name, strerror(-rc));
		goto err;
	}
	dp_qos_port_added(dp, p);
	rc = fdb_add_static(dp->fdbs[port->net], pc->mac, p);
	if (rc != 0) {
		DP_LOG(ERR, "port %s: MAC table: %s\n", port->name, strerror(-rc));
		goto err;
	}
	dp_slot_use(dp, p);
	rc = dp_plans_publish(dp);
	if (rc != 0)
		goto err_used;
	dp_members_refresh(dp);
	/* Last: from here on the guest may come up and frames flow. */
	rc = dp_vhost_open(port);
	if (rc != 0)
		goto err_used;
	DP_LOG(INFO, "port %s: added (id %u, %u queue(s), socket %s)\n",
	       port->name, p, port->queues, pc->socket);
	return p;
err_used:
	dp_port_remove(dp, p);
	return rc;
err:
	fdb_del_static(dp->fdbs[port->net], pc->mac, p);
	coring_free(port->coring);
	port->coring = NULL;
	dp_slot_give_back(dp, p);
	return rc;
}

void
dp_port_remove(struct dp *dp, uint16_t p)
{
	struct dp_port *port = &dp->ports[p];
	uint64_t drained;

	dp_capture_port_gone(dp, p);
	/* The guest first: no vhost event reaches the port after this, and
	 * dp_vhost_down has waited out the workers that held its vid. */
	if (port->opened) {
		vhost_port_close(port->vhost_handle);
		port->opened = false;
	}
	portset_shared_del(&dp->up, p);
	/* Then every way a worker finds the port: its MAC, the MACs learned
	 * behind it, its queues (the new plans' grace period covers all). */
	fdb_del_static(dp->fdbs[port->net], port->conf.mac, p);
	fdb_flush_port(dp->fdbs[port->net], p);
	port->used = false;
	if (dp_plans_publish(dp) != 0)
		rte_rcu_qsbr_synchronize(dp->rcu, RTE_QSBR_THRID_INVALID);
	dp_members_refresh(dp);
	/* No worker holds the port now: what is still queued for it goes. */
	drained = coring_drain(port->coring);
	coring_free(port->coring);
	port->coring = NULL;
	dp_slot_removed(dp, p, drained);
	DP_LOG(INFO, "port %s: removed (%" PRIu64 " queued frame(s) dropped: port_removed)\n",
	       port->name, drained);
}
