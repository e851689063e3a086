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

#include <errno.h>
#include <string.h>

#include <rte_ethdev.h>
#include <rte_mbuf.h>
#include <rte_rcu_qsbr.h>

#include "fdb.h"
#include "toe_stack/toe_offload.h"
#include "vhost/vhost.h"

#define DP_RX_DESC 1024
#define DP_TX_DESC 1024

static int
dp_vhost_up(void *arg, int vid)
{
	struct dp_port *port = arg;
	struct dp *dp = port->dp;

	/* What this guest takes as it is; the TOE does the rest for it.  The
	 * library does not check this: it writes whatever mbuf flags say. */
	atomic_store_explicit(&port->caps, port->cfg->offloads ?
			      toe_caps_from_virtio(vhost_features(vid)) : 0,
			      memory_order_relaxed);
	/* Pairs with the acquire load of vid in the workers. */
	atomic_store_explicit(&port->vid, vid, memory_order_release);
	atomic_fetch_or_explicit(&dp->up_mask, UINT64_C(1) << port->id,
				 memory_order_release);
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
	atomic_fetch_and_explicit(&dp->up_mask, ~(UINT64_C(1) << port->id),
				  memory_order_release);
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
	if (enabled)
		atomic_fetch_or_explicit(&port->vrings_enabled, 1u << vring,
					 memory_order_release);
	else
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

static int
dp_uplink_open(struct dp *dp, struct dp_port *port)
{
	struct rte_eth_conf conf = { 0 };
	struct rte_eth_dev_info info;
	uint32_t caps, tso;
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
	/* The NIC's own L4 checksum where it has it, and its TSO on PMDs
	 * where vtoed's use of it is tested; the TOE does in software what
	 * the egress lacks, as frames leave the scheduler.  IPv4 TSO has
	 * each segment's IP checksum redone by whoever cuts it: the NIC's
	 * IP checksum offload where there is one (a VF), the device itself
	 * for virtio (which has no such offload). */
	conf.txmode.offloads = info.tx_offload_capa &
		(RTE_ETH_TX_OFFLOAD_TCP_CKSUM | RTE_ETH_TX_OFFLOAD_UDP_CKSUM);
	caps = toe_caps_from_eth(conf.txmode.offloads);
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
	atomic_store_explicit(&port->caps, caps, memory_order_relaxed);
	DP_LOG(INFO, "uplink %s: %s does %s%s%s (at most %u segments per TSO frame)\n",
	       port->name, info.driver_name != NULL ? info.driver_name : "?",
	       caps & TOE_CAP_L4_CSUM ? "L4 checksums" : "no checksums",
	       caps & TOE_CAP_TSO4 ? ", TSO4" : "",
	       caps & TOE_CAP_TSO6 ? ", TSO6" : "", TOE_CAP_TSO_SEGS_OF(caps));
	/* One tx queue: only the worker that owns the uplink's scheduler
	 * transmits on it (others hand frames over through its inbox), and
	 * some PMDs (net_tap) want as many tx queues as rx queues. */
	rc = rte_eth_dev_configure(id, 1, 1, &conf);
	if (rc != 0)
		goto err;
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
	/* A switch port sees every frame: promiscuous, all multicast. */
	rte_eth_promiscuous_enable(id);
	rte_eth_allmulticast_enable(id);
	port->opened = true;
	rc = dp_qos_create(dp, port);
	if (rc != 0) {
		DP_LOG(ERR, "uplink %s: cannot create its scheduler\n", port->name);
		return rc;
	}
	atomic_fetch_or_explicit(&dp->up_mask, UINT64_C(1) << port->id,
				 memory_order_release);
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

int
dp_ports_open(struct dp *dp)
{
	int rc = 0;

	/* Uplinks first: VM ports may reference them and frames may flow as
	 * soon as a guest connects. */
	for (uint16_t p = 0; p < dp->n_ports && rc == 0; p++)
		if (dp->ports[p].kind == DP_PORT_UPLINK)
			rc = dp_uplink_open(dp, &dp->ports[p]);
	for (uint16_t p = 0; p < dp->n_ports && rc == 0; p++)
		if (dp->ports[p].kind == DP_PORT_VHOST)
			rc = dp_vhost_open(&dp->ports[p]);
	return rc;
}

void
dp_ports_close(struct dp *dp)
{
	/* VM ports first: unregistering runs dp_vhost_down for connected
	 * guests, which waits for the workers (already offline here). */
	for (uint16_t p = 0; p < dp->n_ports; p++) {
		struct dp_port *port = &dp->ports[p];

		if (port->kind != DP_PORT_VHOST || !port->opened)
			continue;
		vhost_port_close(port->vhost_handle);
		port->opened = false;
	}
	for (uint16_t p = 0; p < dp->n_ports; p++) {
		struct dp_port *port = &dp->ports[p];

		if (port->kind != DP_PORT_UPLINK || !port->opened)
			continue;
		atomic_fetch_and_explicit(&dp->up_mask,
					  ~(UINT64_C(1) << port->id),
					  memory_order_release);
		dp_qos_destroy(dp, port);
		rte_eth_dev_stop(port->eth_port);
		rte_eth_dev_close(port->eth_port);
		port->opened = false;
	}
}
