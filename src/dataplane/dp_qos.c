/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Control side of the uplink egress schedulers: build one per uplink (a
 * DWRR class for every VM port, weighted from the port map, shaped to
 * uplinks[].rate or the link speed), pick the worker that runs it, tear it
 * down after the workers stopped, and measure each class's share of the
 * last second for vtoectl and telemetry.  Frames between VM ports never
 * come here: only uplink egress is scheduled.
 */
#include "dp_priv.h"

#include <errno.h>
#include <stdio.h>

#include <rte_cycles.h>
#include <rte_ethdev.h>
#include <rte_malloc.h>
#include <rte_mbuf.h>
#include <rte_ring.h>

#include "qos_dwrr/dwrr.h"

#define DP_QOS_INBOX 4096               /* frames, power of two */
#define DP_QOS_SHARE_INTERVAL_S 1
#define DP_QOS_DEPTH_US 2000            /* token bucket: 2 ms of rate */

/* The worker polling the uplink's rx queue also runs its scheduler. */
static unsigned int
dp_qos_owner(const struct dp *dp, uint16_t port)
{
	int8_t w = dp->ports[port].worker_of_queue[0];

	return w >= 0 ? (unsigned int)w : 0;
}

static uint64_t
dp_qos_rate(const struct dp_port *up)
{
	struct rte_eth_link link;

	if (up->ucfg->rate_bps != 0)
		return up->ucfg->rate_bps;
	if (rte_eth_link_get_nowait(up->eth_port, &link) != 0 ||
	    link.link_speed == RTE_ETH_SPEED_NUM_NONE ||
	    link.link_speed == RTE_ETH_SPEED_NUM_UNKNOWN)
		return 0;       /* unknown speed: no shaping, DWRR order only */
	return (uint64_t)link.link_speed * 1000000;
}

int
dp_qos_create(struct dp *dp, struct dp_port *up)
{
	struct dwrr_params params = {
		.queue_packets = up->ucfg->queue_packets,
		.queue_bytes = up->ucfg->queue_bytes,
		.pkt_len = dp_qos_wire_len,
	};
	char name[RTE_RING_NAMESIZE];
	struct dp_qos *qos;
	uint16_t mtu = RTE_ETHER_MTU;
	uint64_t depth;

	qos = rte_zmalloc("vtoe_qos", sizeof(*qos), RTE_CACHE_LINE_SIZE);
	if (qos == NULL)
		return -ENOMEM;
	/* A class for every slot a VM port may take (the class is the
	 * slot), also for ports without an uplink of their own: they reach
	 * stations learned on this one.  Idle classes are never visited, so
	 * they cost nothing, and ports come and go without a new scheduler. */
	for (uint16_t p = 0; p < DP_PORTS_MAX; p++) {
		qos->class_of_port[p] = qos->n_classes;
		qos->port_of_class[qos->n_classes++] = p;
	}
	rte_eth_dev_get_mtu(up->eth_port, &mtu);
	/* The largest frame on the wire, VLAN tag included: one quantum
	 * always covers it, so every visit sends at least one frame. */
	qos->base_quantum = mtu + RTE_ETHER_HDR_LEN + RTE_VLAN_HLEN +
			    DP_WIRE_OVERHEAD;
	params.base_quantum = qos->base_quantum;
	params.n_classes = qos->n_classes > 0 ? qos->n_classes : 1;
	if (params.queue_bytes < qos->base_quantum)
		params.queue_bytes = qos->base_quantum;
	/* A class must be able to hold the largest charge, or a super-frame
	 * could never be queued. */
	if (params.queue_bytes < DP_QOS_CHARGE_MAX) {
		DP_LOG(NOTICE, "uplink %s: queue_bytes %" PRIu64 " raised to %u: a class must hold one whole super-frame\n",
		       up->name, (uint64_t)params.queue_bytes, DP_QOS_CHARGE_MAX);
		params.queue_bytes = DP_QOS_CHARGE_MAX;
	}
	qos->dwrr = dwrr_create(&params);
	if (qos->dwrr == NULL)
		goto err;

	snprintf(name, sizeof(name), "vtoe_qos_%u", up->id);
	/*
	 * Multi-producer: every worker may send to the uplink.  Single
	 * consumer: only the owner runs the scheduler.  Workers are pinned
	 * and never preempted by each other, so the classic MP mode's
	 * wait-for-earlier-writers cannot stall behind a descheduled one.
	 */
	qos->inbox = rte_ring_create(name, DP_QOS_INBOX, rte_socket_id(),
				     RING_F_SC_DEQ);
	if (qos->inbox == NULL)
		goto err;

	qos->rate_bps = dp_qos_rate(up);
	depth = qos->rate_bps / 8 * DP_QOS_DEPTH_US / 1000000;
	if (depth < 2ULL * qos->base_quantum)
		depth = 2ULL * qos->base_quantum;
	/* The bucket must hold the largest charge (a super-frame), or that
	 * frame would wait forever at the head of its class. */
	if (depth < DP_QOS_CHARGE_MAX)
		depth = DP_QOS_CHARGE_MAX;
	shaper_init(&qos->shaper, qos->rate_bps, dp->tsc_hz, depth, rte_rdtsc());

	/* The VM ports there are already get their weights (and their
	 * classes' counters start from here). */
	for (uint16_t p = 0; p < DP_PORTS_MAX; p++)
		if (dp->ports[p].used && dp->ports[p].kind == DP_PORT_VHOST)
			dwrr_weight_set(qos->dwrr, qos->class_of_port[p],
					atomic_load_explicit(&dp->ports[p].weight,
							     memory_order_relaxed));
	/* Run by the worker of its rx queue (the plans say so). */
	up->qos = qos;
	DP_LOG(INFO, "uplink %s: DWRR over %u class(es), quantum %u B x weight, rate %s%" PRIu64 " bit/s, run by worker %u\n",
	       up->name, qos->n_classes, qos->base_quantum,
	       qos->rate_bps == 0 ? "unlimited " : "", qos->rate_bps,
	       dp_qos_owner(dp, up->id));
	return 0;
err:
	rte_ring_free(qos->inbox);
	dwrr_destroy(qos->dwrr);
	rte_free(qos);
	return -ENOMEM;
}

/* After the workers stopped: nothing else touches the queues now. */
uint64_t
dp_qos_destroy(struct dp *dp, struct dp_port *up)
{
	struct dp_qos *qos = up->qos;
	void *pkts[DP_BURST];
	uint64_t dropped = 0;
	unsigned int n;

	(void)dp;
	if (qos == NULL)
		return 0;
	while ((n = rte_ring_dequeue_burst(qos->inbox, pkts, DP_BURST, NULL)) > 0) {
		rte_pktmbuf_free_bulk((struct rte_mbuf **)pkts, n);
		dropped += n;
	}
	while ((n = dwrr_drain(qos->dwrr, pkts, DP_BURST)) > 0) {
		rte_pktmbuf_free_bulk((struct rte_mbuf **)pkts, n);
		dropped += n;
	}
	rte_pktmbuf_free_bulk(qos->pending, qos->n_pending);
	dropped += qos->n_pending;
	rte_ring_free(qos->inbox);
	dwrr_destroy(qos->dwrr);
	rte_free(qos);
	up->qos = NULL;
	return dropped;
}

uint64_t
dp_qos_queued(const struct dp_qos *qos)
{
	return dwrr_backlog_packets(qos->dwrr) + rte_ring_count(qos->inbox) +
	       __atomic_load_n(&qos->n_pending, __ATOMIC_RELAXED);
}

/* Each class's share of what the uplink sent in the last interval. */
void
dp_qos_housekeeping(struct dp *dp, uint64_t now)
{
	for (uint16_t p = 0; p < DP_PORTS_MAX; p++) {
		struct dp_qos *qos = dp->ports[p].used ? dp->ports[p].qos : NULL;
		uint64_t delta[DP_PORTS_MAX], total = 0;

		if (qos == NULL ||
		    now - qos->last_share_tsc < DP_QOS_SHARE_INTERVAL_S * dp->tsc_hz)
			continue;
		qos->last_share_tsc = now;
		for (uint32_t c = 0; c < qos->n_classes; c++) {
			struct dwrr_class_stats st;

			dwrr_class_stats(qos->dwrr, c, &st);
			delta[c] = st.sent_bytes - qos->last_sent_bytes[c];
			qos->last_sent_bytes[c] = st.sent_bytes;
			total += delta[c];
		}
		for (uint32_t c = 0; c < qos->n_classes; c++)
			atomic_store_explicit(&qos->share_ppm[c],
				total == 0 ? 0 : (uint32_t)(delta[c] * 1000000 / total),
				memory_order_relaxed);
	}
}

/* Cumulative class counters since the port in that slot was built. */
static void
dp_qos_class_since(const struct dp_qos *qos, uint32_t c,
		   struct dwrr_class_stats *st)
{
	const struct dwrr_class_stats *b = &qos->base[c];

	dwrr_class_stats(qos->dwrr, c, st);
	st->enqueued_packets -= b->enqueued_packets;
	st->enqueued_bytes -= b->enqueued_bytes;
	st->sent_packets -= b->sent_packets;
	st->sent_bytes -= b->sent_bytes;
	st->dropped_packets -= b->dropped_packets;
	st->dropped_bytes -= b->dropped_bytes;
	st->drained_packets -= b->drained_packets;
	st->drained_bytes -= b->drained_bytes;
}

void
dp_qos_port_added(struct dp *dp, uint16_t p)
{
	for (uint16_t u = 0; u < DP_PORTS_MAX; u++) {
		struct dp_qos *qos = dp->ports[u].used ? dp->ports[u].qos : NULL;
		uint32_t c;

		if (qos == NULL)
			continue;
		c = qos->class_of_port[p];
		dwrr_class_stats(qos->dwrr, c, &qos->base[c]);
		dwrr_weight_set(qos->dwrr, c, dp->ports[p].conf.weight);
	}
}

int
dp_qos_info(const struct dp *dp, unsigned int port, struct dp_qos_info *info)
{
	const struct dp_qos *qos;
	uint32_t n = 0;

	if (port >= DP_PORTS_MAX || !dp->ports[port].used ||
	    dp->ports[port].qos == NULL)
		return -ENOENT;
	qos = dp->ports[port].qos;
	info->rate_bps = qos->rate_bps;
	info->base_quantum = qos->base_quantum;
	info->owner_lcore = dp->workers[dp_qos_owner(dp, port)].lcore;
	info->queued = dp_qos_queued(qos);
	/* The classes of the VM ports there are now. */
	for (uint32_t c = 0; c < qos->n_classes; c++) {
		uint16_t p = qos->port_of_class[c];

		if (!dp->ports[p].used || dp->ports[p].kind != DP_PORT_VHOST ||
		    n == RTE_DIM(info->classes))
			continue;
		info->classes[n].port = p;
		info->classes[n].share_ppm = atomic_load_explicit(
			&qos->share_ppm[c], memory_order_relaxed);
		dp_qos_class_since(qos, c, &info->classes[n].st);
		n++;
	}
	info->n_classes = n;
	return 0;
}

int
dp_qos_weight_set(struct dp *dp, unsigned int port, uint32_t weight)
{
	if (port >= DP_PORTS_MAX || !dp->ports[port].used ||
	    dp->ports[port].kind != DP_PORT_VHOST)
		return -ENOENT;
	if (weight < DWRR_WEIGHT_MIN || weight > DWRR_WEIGHT_MAX)
		return -EINVAL;
	/* One atomic word per class: the owner picks it up at the class's
	 * next quantum grant, with no pause and no frame lost. */
	for (uint16_t u = 0; u < DP_PORTS_MAX; u++) {
		struct dp_qos *qos = dp->ports[u].used ? dp->ports[u].qos : NULL;

		if (qos != NULL)
			dwrr_weight_set(qos->dwrr, qos->class_of_port[port],
					weight);
	}
	atomic_store_explicit(&dp->ports[port].weight, weight,
			      memory_order_relaxed);
	return 0;
}
