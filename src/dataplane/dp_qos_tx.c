/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Worker side of an uplink's egress scheduler.  Frames bound for an
 * uplink are classed by the VM port they came from and queued in the
 * uplink's DWRR (directly on the owner worker, through the inbox ring from
 * the others); the owner then sends what the token bucket allows, in DWRR
 * order, segmenting super-frames for NICs without TSO as they leave.  Frames the NIC does not take are kept and retried first, so
 * congestion shows up in the class queues, where weights apply.
 */
#include "dp_priv.h"

#include <string.h>

#include <rte_ethdev.h>
#include <rte_ip.h>
#include <rte_mbuf.h>
#include <rte_ring.h>

#include "qos_dwrr/dwrr.h"

uint32_t
dp_qos_wire_len(const void *pkt)
{
	const struct rte_mbuf *m = pkt;
	uint32_t len = rte_pktmbuf_pkt_len(m), hdr, nseg;
	uint64_t wire;

	/* A super-frame (validated: canonical lengths, MSS > 0) leaves as
	 * segments, each with a copy of the headers and its own overhead. */
	if (!(m->ol_flags & RTE_MBUF_F_TX_TCP_SEG) || m->tso_segsz == 0)
		return len + DP_WIRE_OVERHEAD;
	hdr = (uint32_t)m->l2_len + m->l3_len + m->l4_len;
	if (len <= hdr)
		return len + DP_WIRE_OVERHEAD;
	nseg = (len - hdr + m->tso_segsz - 1) / m->tso_segsz;
	wire = (uint64_t)len + (uint64_t)(nseg - 1) * hdr +
	       (uint64_t)nseg * DP_WIRE_OVERHEAD;
	return wire < DP_QOS_CHARGE_MAX ? (uint32_t)wire : DP_QOS_CHARGE_MAX;
}

static void
dp_qos_class_enqueue(struct dp_worker *w, struct dp_qos *qos, uint16_t p,
		     uint32_t cls, struct rte_mbuf *m)
{
	/* -ENOBUFS: the class is over its bound, counted per class too. */
	if (dwrr_enqueue(qos->dwrr, cls, m) != 0) {
		w->stats[p].drops[DP_DROP_QOS_QUEUE_FULL]++;
		rte_pktmbuf_free(m);
	}
}

/*
 * Tag the frames of VM port in's network for the wire.  A frame another
 * port also holds (a flood) is copied first: the other ports get it
 * untagged.  Returns the frames left, in order; a frame that could not be
 * tagged is dropped and counted on uplink p.
 */
static uint16_t
dp_vlan_push(struct dp_worker *w, uint16_t p, uint16_t vlan,
	     struct rte_mbuf **pkts, uint16_t n)
{
	uint16_t k = 0;

	for (uint16_t i = 0; i < n; i++) {
		struct rte_mbuf *m = pkts[i];

		if (rte_mbuf_refcnt_read(m) > 1 || !RTE_MBUF_DIRECT(m)) {
			struct rte_mbuf *c = rte_pktmbuf_copy(m, w->dp->pool, 0,
							      UINT32_MAX);

			rte_pktmbuf_free(m);
			m = c;
		}
		if (m != NULL) {
			m->vlan_tci = vlan;
			if (rte_vlan_insert(&m) == 0) {
				pkts[k++] = m;
				continue;
			}
			rte_pktmbuf_free(m);
		}
		w->stats[p].drops[DP_DROP_VLAN_PUSH]++;
	}
	return k;
}

/* Owner: move what other workers handed over into DWRR. */
static void
dp_qos_inbox_take(struct dp_worker *w, struct dp_qos *qos, uint16_t p)
{
	struct rte_mbuf *pkts[DP_BURST];
	unsigned int n;

	while ((n = rte_ring_sc_dequeue_burst(qos->inbox, (void **)pkts,
					      DP_BURST, NULL)) > 0)
		for (unsigned int i = 0; i < n; i++)
			dp_qos_class_enqueue(w, qos, p, pkts[i]->hash.usr,
					     pkts[i]);
}

void
dp_qos_enqueue(struct dp_worker *w, uint16_t p, uint16_t in,
	       struct rte_mbuf **pkts, uint16_t n)
{
	struct dp_qos *qos = w->dp->ports[p].qos;
	uint32_t cls = qos->class_of_port[in];
	const struct dp_port *from = &w->dp->ports[in];
	uint16_t vlan = from->vlan;
	unsigned int done;

	if (vlan != 0)
		n = dp_vlan_push(w, p, vlan, pkts, n);
	else if (w->dp->ovl != NULL && from->kind == DP_PORT_VHOST &&
		 w->dp->ovl->vni_of_net[from->net] != 0)
		n = dp_vxlan_push(w, p, in, pkts, n, &pkts);

	if (portset_has(&w->pl->qos_mine, p)) {
		/* Frames other workers handed over first: after the
		 * scheduler moved here, its inbox may still hold some of
		 * this flow's earlier ones. */
		if (unlikely(!rte_ring_empty(qos->inbox)))
			dp_qos_inbox_take(w, qos, p);
		for (uint16_t i = 0; i < n; i++)
			dp_qos_class_enqueue(w, qos, p, cls, pkts[i]);
		return;
	}
	/* The class rides in hash.usr: nothing reads the rx hash after the
	 * forwarding decision. */
	for (uint16_t i = 0; i < n; i++)
		pkts[i]->hash.usr = cls;
	done = rte_ring_enqueue_burst(qos->inbox, (void **)pkts, n, NULL);
	if (done > 0)
		dp_wake_port(w->dp, &w->dp->ports[p], (int)w->index);
	if (done < n) {
		w->stats[p].drops[DP_DROP_QOS_INBOX_FULL] += n - done;
		rte_pktmbuf_free_bulk(&pkts[done], n - done);
	}
}

/*
 * Frames the NIC segments itself: IPv4 ones get their IP checksum redone
 * per segment by the NIC where it has IP checksum offload (the field
 * zeroed, as DPDK wants; a virtio device redoes it without being asked),
 * then the PMD checks and fixes up what it needs (rte_eth_tx_prepare).  What the PMD
 * refuses is dropped and counted; returns the frames left, in order.
 */
static uint16_t
dp_qos_nic_offload(struct dp_worker *w, struct dp_port *port,
		   struct rte_mbuf **pkts, uint16_t n)
{
	bool any = false;
	uint16_t ok = 0;

	for (uint16_t i = 0; i < n; i++) {
		struct rte_mbuf *m = pkts[i];

		if (!(m->ol_flags & (RTE_MBUF_F_TX_TCP_SEG | RTE_MBUF_F_TX_L4_MASK)))
			continue;
		any = true;
		/* A super-frame to a group address (flooded, so shared) would
		 * need its header written under another reader: Linux never
		 * sends one; it is refused. */
		if ((m->ol_flags & RTE_MBUF_F_TX_TCP_SEG) &&
		    rte_mbuf_refcnt_read(m) > 1) {
			w->stats[port->id].drops[DP_DROP_OFFLOAD_EGRESS]++;
			rte_pktmbuf_free(m);
			memmove(pkts + i, pkts + i + 1,
				(size_t)(n - i - 1) * sizeof(*pkts));
			n--;
			i--;
			continue;
		}
		/* (a tunnel's frames come marked: toe_tunnel_mark) */
		if ((m->ol_flags & (RTE_MBUF_F_TX_TCP_SEG | RTE_MBUF_F_TX_IPV4 |
				    RTE_MBUF_F_TX_TUNNEL_MASK)) ==
		    (RTE_MBUF_F_TX_TCP_SEG | RTE_MBUF_F_TX_IPV4) && port->nic_ip_csum) {
			struct rte_ipv4_hdr *ip = rte_pktmbuf_mtod_offset(
				m, struct rte_ipv4_hdr *, m->l2_len);

			ip->hdr_checksum = 0;
			m->ol_flags |= RTE_MBUF_F_TX_IP_CKSUM;
		}
	}
	if (!any)
		return n;
	while (ok < n) {
		ok += rte_eth_tx_prepare(port->eth_port, 0, pkts + ok, n - ok);
		if (ok == n)
			break;
		/* pkts[ok] is one the PMD cannot send as marked. */
		w->stats[port->id].drops[DP_DROP_OFFLOAD_EGRESS]++;
		rte_pktmbuf_free(pkts[ok]);
		memmove(pkts + ok, pkts + ok + 1, (size_t)(n - ok - 1) * sizeof(*pkts));
		n--;
	}
	for (uint16_t i = 0; i < n; i++)
		if (pkts[i]->ol_flags & RTE_MBUF_F_TX_TCP_SEG)
			w->stats[port->id].nic_tso++;
	return n;
}

/* Send pkts[0..n) on the uplink; keep what the NIC does not take. */
static uint16_t
dp_qos_xmit(struct dp_worker *w, struct dp_port *port, struct rte_mbuf **pkts,
	    uint16_t n)
{
	struct dp_qos *qos = port->qos;
	struct dp_port_stats *st = &w->stats[port->id];
	/* Queue 0: the owner is the uplink's only transmitter. */
	uint16_t sent = rte_eth_tx_burst(port->eth_port, 0, pkts, n);

	st->tx_packets += sent;
	for (uint16_t i = 0; i < sent; i++)
		st->tx_bytes += rte_pktmbuf_pkt_len(pkts[i]);
	/* pkts may be qos->pending itself: move the rest to its front. */
	for (uint16_t i = sent; i < n; i++)
		qos->pending[i - sent] = pkts[i];
	qos->n_pending = n - sent;
	return sent;
}

bool
dp_qos_backlogged(const struct dp_worker *w, uint16_t p)
{
	const struct dp_qos *qos = w->dp->ports[p].qos;

	return qos->n_pending > 0 || dwrr_backlog_packets(qos->dwrr) > 0;
}

unsigned int
dp_qos_run(struct dp_worker *w, uint16_t p, uint64_t now)
{
	struct dp_port *port = &w->dp->ports[p];
	struct dp_qos *qos = port->qos;
	struct rte_mbuf *pkts[DP_BURST];
	uint64_t tokens, budget;
	unsigned int n, sent = 0;

	dp_qos_inbox_take(w, qos, p);

	if (qos->n_pending > 0) {
		sent = dp_qos_xmit(w, port, qos->pending, qos->n_pending);
		if (sent > 0) {
			qos->stuck_since = 0;
		} else if (qos->stuck_since == 0) {
			qos->stuck_since = now;
		} else if (now - qos->stuck_since >
			   w->dp->tsc_hz / 1000 * DP_QOS_STUCK_MS) {
			/* Retried for DP_QOS_STUCK_MS without progress:
			 * give up on the frame at the head only. */
			w->stats[p].drops[DP_DROP_NIC_STUCK]++;
			rte_pktmbuf_free(qos->pending[0]);
			memmove(qos->pending, qos->pending + 1,
				(size_t)(qos->n_pending - 1) * sizeof(*qos->pending));
			qos->n_pending--;
			qos->stuck_since = now;
		}
		if (qos->n_pending > 0)
			return sent;    /* the NIC is full: keep the backlog */
	}
	qos->stuck_since = 0;
	tokens = shaper_refill(&qos->shaper, now);
	budget = tokens;
	n = dwrr_dequeue(qos->dwrr, (void **)pkts, DP_BURST, &budget);
	if (n == 0)
		return sent;
	shaper_consume(&qos->shaper, tokens - budget);
	/* Cut and checksum what the NIC cannot, now that it leaves. */
	{
		struct rte_mbuf **out;
		uint16_t m = dp_offload_egress(w, p, false, pkts, (uint16_t)n,
					       &out);

		struct dp_capture *cap = dp_cap_of(port, DP_CAP_TX);

		m = dp_qos_nic_offload(w, port, out, m);
		/* Shown once, when handed to the NIC (a retry is not). */
		if (cap != NULL)
			dp_capture_burst(cap, 0, DP_CAP_OUT, -1, out, m);
		return sent + dp_qos_xmit(w, port, out, m);
	}
}
