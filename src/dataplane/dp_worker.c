/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The worker lcore loop: poll each assigned rx queue for a burst, decide
 * every frame's destinations (fwd.c), stage them per output port, flush
 * the staged frames at the end of the burst (VM ports: into their
 * co-resident ring; uplinks: into their DWRR scheduler), deliver what the
 * rings of the VMs this worker polls hold, run the schedulers it owns, and
 * report quiescence to RCU between iterations.  Every frame received is
 * either staged for at least one port or counted under a drop reason;
 * every staged copy is either sent or counted under a drop reason on its
 * output port.
 */
#include "dp_priv.h"

#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/prctl.h>

#include <rte_cycles.h>
#include <rte_ethdev.h>
#include <rte_mbuf.h>
#include <rte_rcu_qsbr.h>
#include <rte_ring.h>

#include "toe_stack/toe_offload.h"
#include "vhost/vhost_io.h"

static inline void
dp_count_drop(struct dp_worker *w, uint16_t port, enum dp_drop reason,
	      uint64_t n)
{
	w->stats[port].drops[reason] += n;
}

void
dp_drop_frames(struct dp_worker *w, uint16_t port, enum dp_drop reason,
	       uint8_t dir, struct rte_mbuf **pkts, uint16_t n)
{
	struct dp_capture *cap = dp_cap_of(&w->dp->ports[port], DP_CAP_DROPS);

	dp_count_drop(w, port, reason, n);
	if (cap != NULL)
		dp_capture_burst(cap, 0, dir, (int)reason, pkts, n);
	rte_pktmbuf_free_bulk(pkts, n);
}

void
dp_toe_drop(void *arg, struct rte_mbuf *m, enum toe_stage stage,
	    enum toe_drop reason)
{
	const struct dp_toe_sink *s = arg;

	(void)reason;   /* (the TOE counted it in the port's offload drops) */
	if (stage == TOE_STAGE_GUEST)
		dp_drop_frames(s->w, s->port, DP_DROP_OFFLOAD_BAD, DP_CAP_IN,
			       &m, 1);
	else
		dp_drop_frames(s->w, s->port, DP_DROP_OFFLOAD_EGRESS,
			       DP_CAP_OUT, &m, 1);
}

static inline void
dp_stage(struct dp_worker *w, uint16_t port, struct rte_mbuf *m)
{
	struct dp_txbuf *tb = &w->txbufs[port];

	if (!tb->dirty) {
		tb->dirty = true;
		w->dirty[w->n_dirty++] = port;
	}
	/* One rx burst stages at most DP_BURST copies per port, and the
	 * buffers are flushed after every rx burst, so tb->n < DP_BURST
	 * (the TOE's frames go through dp_stage_out). */
	tb->pkts[tb->n++] = m;
}

static uint16_t
dp_port_rx(struct dp_worker *w, uint16_t p, uint16_t q,
	   struct rte_mbuf **pkts, uint16_t max)
{
	const struct dp_port *port = &w->dp->ports[p];
	uint8_t *last = &w->rx_last[p][q];
	uint16_t n;
	int vid;

	if (port->kind == DP_PORT_UPLINK)
		return rte_eth_rx_burst(port->eth_port, q, pkts, max);

	/* Pairs with the release stores in dp_vhost_up/down/queue. */
	vid = atomic_load_explicit(&port->vid, memory_order_acquire);
	if (vid < 0 ||
	    !(atomic_load_explicit(&port->vrings_enabled, memory_order_acquire) &
	      (1u << VHOST_VRING_GUEST_TX(q))))
		return 0;
	n = vhost_rx_burst(vid, q, w->dp->pool, pkts, max, *last);
	*last = (uint8_t)n;
	return n;
}

/* Frames a guest marked for checksum or segmentation: the marks are
 * claims, checked against the bytes; what does not hold is dropped
 * (dp_toe_drop). */
static uint16_t
dp_offload_validate(struct dp_worker *w, const struct dp_port *port,
		    struct rte_mbuf **pkts, uint16_t n)
{
	if (port->kind != DP_PORT_VHOST || !port->cfg->offloads)
		return n;
	return toe_guest_validate(w->toe[port->id], pkts, n);
}

static bool
dp_any_offload(struct rte_mbuf *const *pkts, uint16_t n)
{
	for (uint16_t i = 0; i < n; i++)
		if (pkts[i]->ol_flags & (RTE_MBUF_F_TX_TCP_SEG | RTE_MBUF_F_TX_L4_MASK))
			return true;
	return false;
}

/*
 * Make the frames for port p fit what p takes: coalesce TCP segments for a
 * guest that takes super-frames (GRO; gro is false toward uplinks), then
 * segment and checksum in software whatever p cannot (GSO).  Returns the
 * frames to send, in *out (pkts or w->seg_out), and their count.
 */
uint16_t
dp_offload_egress(struct dp_worker *w, uint16_t p, bool gro,
		  struct rte_mbuf **pkts, uint16_t n, struct rte_mbuf ***out)
{
	const struct dp *dp = w->dp;
	struct dp_port_stats *st = &w->stats[p];
	struct toe_ctx *ctx = w->toe[p];
	uint32_t caps = atomic_load_explicit(&dp->ports[p].caps,
					     memory_order_relaxed);
	uint64_t dropped;
	uint16_t m;

	*out = pkts;
	if (gro && (caps & (TOE_CAP_TSO4 | TOE_CAP_TSO6)) && n > 1) {
		m = toe_gro_burst(ctx, caps, pkts, n);
		st->gro_merged += n - m;
		n = m;
	}
	if (!dp_any_offload(pkts, n))
		return n;
	/* (what the TOE drops, dp_toe_drop counts here) */
	dropped = st->drops[DP_DROP_OFFLOAD_EGRESS];
	m = toe_egress_prepare(ctx, caps, pkts, n, w->seg_out, DP_SEG_OUT);
	dropped = st->drops[DP_DROP_OFFLOAD_EGRESS] - dropped;
	/* n frames in = m out - extra segments + dropped */
	st->gso_extra += m + dropped - n;
	*out = w->seg_out;
	return m;
}

static uint64_t
dp_bytes(struct rte_mbuf **pkts, uint16_t n)
{
	uint64_t bytes = 0;

	for (uint16_t i = 0; i < n; i++)
		bytes += rte_pktmbuf_pkt_len(pkts[i]);
	return bytes;
}

/*
 * Deliver n frames for VM port cr->port into guest queue cr->queue, fitting
 * offloads first.  pkts may be rewritten in place (GRO).  Every frame is
 * sent or counted on the port; all are freed (the library copies).
 */
void
dp_vhost_deliver(struct dp_worker *w, const struct dp_corx *cr,
		 struct rte_mbuf **in, uint16_t taken, bool impaired)
{
	uint16_t p = cr->port;
	const struct dp_port *port = &w->dp->ports[p];
	struct dp_port_stats *st = &w->stats[p];
	struct rte_mbuf **pkts;
	enum dp_drop why = DP_DROP_TX_FULL;
	struct dp_capture *cap;
	uint16_t q = cr->queue, n, sent = 0;
	uint32_t enabled;
	int vid;

	if (!impaired && unlikely(atomic_load_explicit(&port->imp_dir,
						       memory_order_relaxed) & CFG_IMPAIR_TX)) {
		taken = dp_impair_filter(w, p, CFG_IMPAIR_TX, in, taken);
		if (taken == 0)
			return;
	}

	n = dp_offload_egress(w, p, true, in, taken, &pkts);
	vid = atomic_load_explicit(&port->vid, memory_order_acquire);
	enabled = atomic_load_explicit(&port->vrings_enabled,
				       memory_order_acquire);
	/* A guest may enable fewer queue pairs than it negotiated (Linux
	 * enables one per vCPU): fall back to the first one. */
	if (!(enabled & (1u << VHOST_VRING_GUEST_RX(q))))
		q = 0;
	if (vid < 0) {
		why = DP_DROP_LINK_DOWN;
	} else if (!(enabled & (1u << VHOST_VRING_GUEST_RX(q)))) {
		why = DP_DROP_QUEUE_DISABLED;
	} else {
		/* rte_vhost takes the vring's own lock here, so readers that
		 * fell back to one queue are safe.  It takes at most
		 * VHOST_TX_BURST_MAX frames a call: a burst of segments (a
		 * super-frame cut for this guest is ~45) just takes several
		 * calls.  A guest that took less than it was offered is
		 * draining its ring: try again a few times before dropping
		 * (as OVS's tx-retries); one that took nothing is not waited
		 * for. */
		unsigned int t = 0;
		uint16_t got, want;

		while (sent < n) {
			want = RTE_MIN(n - sent, VHOST_TX_BURST_MAX);
			got = vhost_tx_burst(vid, q, pkts + sent, want);
			sent += got;
			if (got == 0 || (got < want && t++ == DP_VHOST_TX_RETRIES))
				break;
			if (got < want)
				st->tx_retries++;
		}
		st->tx_packets += sent;
		st->tx_bytes += dp_bytes(pkts, sent);
	}
	/* The library copied what it took: still ours to show. */
	cap = dp_cap_of(port, DP_CAP_TX);
	if (cap != NULL && sent > 0)
		dp_capture_burst(cap, q, DP_CAP_OUT, -1, pkts, sent);
	rte_pktmbuf_free_bulk(pkts, sent);
	if (sent < n)
		dp_drop_frames(w, p, why, DP_CAP_OUT, pkts + sent, n - sent);
}

/*
 * Writer side of a co-resident VM: hand the frames to its ring; whoever
 * polls the VM's queues delivers them.  A VM with no guest connected
 * takes nothing (the frames would wait for a guest that may never come).
 *
 * Shortcut: when this worker is itself one of the VM's readers and the
 * ring is empty, nothing can be ahead of these frames, so it delivers
 * them at once (with one worker that is always the case: the ring costs
 * nothing).
 */
static void
dp_coring_put(struct dp_worker *w, uint16_t p, struct rte_mbuf **pkts,
	      uint16_t n)
{
	const struct dp_port *port = &w->dp->ports[p];
	int16_t k = w->pl->corx_of_port[p];
	unsigned int took = 0;

	if (k >= 0 && rte_ring_empty(port->coring)) {
		dp_vhost_deliver(w, &w->pl->corx[k], pkts, n, false);
		return;
	}
	if (atomic_load_explicit(&port->vid, memory_order_relaxed) >= 0)
		took = rte_ring_enqueue_burst(port->coring, (void **)pkts, n,
					      NULL);
	if (took > 0)
		dp_wake_port(w->dp, port, (int)w->index);
	if (took < n)
		dp_drop_frames(w, p, took == 0 && atomic_load_explicit(
				       &port->vid, memory_order_relaxed) < 0 ?
				       DP_DROP_LINK_DOWN : DP_DROP_CORING_FULL,
			       DP_CAP_OUT, pkts + took, n - took);
}

/* Send what is staged for port p: VM ports through their ring, uplinks
 * through their scheduler. */
static void
dp_flush_port(struct dp_worker *w, uint16_t p, uint16_t in)
{
	struct dp_txbuf *tb = &w->txbufs[p];
	const struct dp_port *port = &w->dp->ports[p];
	uint16_t n = tb->n;

	tb->n = 0;
	if (n == 0)
		return;
	if (port->kind == DP_PORT_VHOST) {
		/* Offloads are fitted by the reader, per burst it delivers:
		 * fewer ring slots for super-frames, and GRO sees the frames
		 * of every writer together. */
		dp_coring_put(w, p, tb->pkts, n);
		return;
	}
	/* Uplink egress goes through its DWRR scheduler, classed by the VM
	 * port the whole burst came from.  Super-frames are queued whole
	 * (charged their segments' wire bytes) and cut when they leave:
	 * one class slot each, and no work for frames the class drops. */
	dp_qos_enqueue(w, p, in, tb->pkts, n);
}

/*
 * Reader side: take a burst from VM port cr->port's ring and deliver it.
 * Returns how many frames were taken from the ring.
 *
 * With several readers on one VM (one per worker polling its queues), the
 * ring's FIFO order holds per reader; a flow whose frames two readers
 * take lands on two of the guest's queues, as with any multiqueue NIC
 * whose steering moved.
 */
static unsigned int
dp_coring_deliver(struct dp_worker *w, const struct dp_corx *cr)
{
	struct rte_mbuf **pkts = w->corx_buf.pkts;
	uint16_t taken;

	taken = (uint16_t)rte_ring_dequeue_burst(w->dp->ports[cr->port].coring,
						 (void **)pkts, DP_BURST, NULL);
	if (taken > 0)
		dp_vhost_deliver(w, cr, pkts, taken, false);
	return taken;
}

/*
 * A guest announcing where it is (after a migration: QEMU's RARP, or the
 * guest's own gratuitous ARP with GUEST_ANNOUNCE): flooded like any
 * broadcast, counted here.  Only floods are looked at.
 */
static inline bool
dp_is_announce(const uint8_t *f, uint16_t len)
{
	uint16_t type;

	if (len < 42)
		return false;
	type = (uint16_t)(f[12] << 8 | f[13]);
	if (type == 0x8035)
		return true;                    /* RARP */
	/* ARP whose sender and target protocol addresses are the same */
	return type == 0x0806 && memcmp(f + 28, f + 38, 4) == 0;
}

/*
 * The network of a frame from an uplink, by its VLAN tag (taken off here
 * or by the NIC; vid 0 and no tag: the untagged network).  -1: no network
 * of this host uses that tag.
 */
static int
dp_uplink_net(const struct dp *dp, struct rte_mbuf *m)
{
	uint16_t vid = 0;

	if (m->ol_flags & RTE_MBUF_F_RX_VLAN_STRIPPED) {
		vid = m->vlan_tci & 0xfff;
	} else if (rte_pktmbuf_data_len(m) >= RTE_ETHER_HDR_LEN + 4 &&
		   *rte_pktmbuf_mtod_offset(m, const uint16_t *, 12) ==
		   rte_cpu_to_be_16(RTE_ETHER_TYPE_VLAN)) {
		if (rte_vlan_strip(m) != 0)
			return -1;
		vid = m->vlan_tci & 0xfff;
	}
	m->ol_flags &= ~(RTE_MBUF_F_RX_VLAN | RTE_MBUF_F_RX_VLAN_STRIPPED);
	return dp->net_of_vlan[vid];
}

void
dp_forward(struct dp_worker *w, uint16_t in, struct rte_mbuf **pkts,
	   uint16_t n, const struct fwd_ctx *fctx)
{
	struct dp_port_stats *st = &w->stats[in];
	const struct dp_port *port = &w->dp->ports[in];
	const bool from_uplink = port->kind != DP_PORT_VHOST;
	const bool psec = !from_uplink && port->psec.on;
	uint16_t dsts[DP_PORTS_MAX];
	uint8_t last_hdr[14];           /* MACs and type of the last frame */
	bool last_valid = false;
	enum dp_drop reason = DP_DROP_MAX;
	unsigned int nd = 0;
	uint16_t net = port->net, last_net = net;
	/* Frames of the overlay's uplink may be VXLAN to this host. */
	const bool ovl_in = from_uplink && w->dp->ovl != NULL &&
		atomic_load_explicit(&w->dp->ovl->uplink, memory_order_relaxed) == in;

	for (uint16_t i = 0; i < n; i++) {
		struct rte_mbuf *m = pkts[i];
		const uint8_t *hdr;
		uint32_t len = rte_pktmbuf_pkt_len(m);
		uint16_t data_len;

		st->rx_bytes += len;
		if (from_uplink && ovl_in) {
			int r = dp_vxlan_rx(w, in, m, &net);

			if (r < 0)
				continue;
			if (r > 0)
				goto decided_net;
		}
		if (from_uplink) {
			int nn = dp_uplink_net(w->dp, m);

			if (nn < 0) {
				dp_drop_frames(w, in, DP_DROP_VLAN_UNKNOWN,
					       DP_CAP_IN, &m, 1);
				continue;
			}
			net = (uint16_t)nn;
		}
decided_net:
		len = rte_pktmbuf_pkt_len(m);
		hdr = rte_pktmbuf_mtod(m, const uint8_t *);
		data_len = rte_pktmbuf_data_len(m);
		if (psec) {
			/* The headers it checks are in the first segment
			 * (the library fills it first): beyond it is cut. */
			int r = psec_check(&port->psec, hdr, data_len, len);

			if (unlikely(r != PSEC_PASS)) {
				dp_drop_frames(w, in, r == PSEC_MORE ?
					       DP_DROP_HEADER_CUT :
					       (enum dp_drop)r, DP_CAP_IN, &m, 1);
				continue;
			}
		}
		/* Before the decision cache: an ARP request for the gateway
		 * has the MACs of one for another VM. */
		if (port->toe_on) {
			if (toe_ep_classify(&port->ep_conf, hdr, data_len, len) !=
			    TOE_EP_NOT_MINE) {
				if (dp_toe_take(w, in, m))
					continue;
			} else if (dp_toe_suppress(w, in, fctx, m)) {
				continue;
			}
		}
		/*
		 * The decision reads the Ethernet header only, and only when
		 * the first segment holds it all (checked by data_len).  A
		 * frame with the same two MACs (and network) as the one
		 * before it in this burst gets the same decision (learning
		 * included): the burst is the unit, and flows come in trains.
		 */
		if (!(last_valid && data_len >= 12 + 2 && net == last_net &&
		      memcmp(hdr, last_hdr, sizeof(last_hdr)) == 0)) {
			reason = DP_DROP_MAX;
			nd = fwd_decide(fctx, in, net, hdr, data_len, dsts,
					&reason);
			last_valid = data_len >= 12 + 2;
			last_net = net;
			if (last_valid)
				memcpy(last_hdr, hdr, sizeof(last_hdr));
		}
		if (nd == 0) {
			dp_drop_frames(w, in, reason, DP_CAP_IN, &m, 1);
			continue;
		}
		if (nd > 1) {
			/* One reference per destination; each is dropped by
			 * the PMD (uplinks) or by dp_flush_port (vhost). */
			rte_mbuf_refcnt_update(m, (int16_t)(nd - 1));
			st->flood_copies += nd - 1;
			st->announces += dp_is_announce(hdr, data_len);
		}
		for (unsigned int d = 0; d < nd; d++)
			dp_stage(w, dsts[d], m);
	}
	dp_flush_dirty(w, in);
}

void
dp_flush_dirty(struct dp_worker *w, uint16_t in)
{
	for (uint16_t i = 0; i < w->n_dirty; i++) {
		w->txbufs[w->dirty[i]].dirty = false;
		dp_flush_port(w, w->dirty[i], in);
	}
	w->n_dirty = 0;
}

/* A frame the switch made for port p (a TOE endpoint's): staged, the
 * port's buffer sent on when full. */
void
dp_stage_out(struct dp_worker *w, uint16_t p, struct rte_mbuf *m)
{
	if (w->txbufs[p].n == DP_BURST)
		dp_flush_port(w, p, p);
	dp_stage(w, p, m);
}

/*
 * One turn on an rx queue, at most DP_BURST frames.  A VM port's queue is
 * read by the direct path first (dp_direct.c); the frame it stops at goes
 * through the library, alone when the direct path took some before it (so
 * the direct path resumes right after), with the rest of the budget when
 * it took none.  Each step is forwarded before the next is read, so the
 * ring's order holds across the two paths.
 */
static uint16_t
dp_poll_rxq(struct dp_worker *w, const struct dp_rxq *rxq,
	    struct rte_mbuf **pkts, const struct fwd_ctx *fctx)
{
	struct dp *dp = w->dp;
	const struct dp_port *port = &dp->ports[rxq->port];
	/* A port opened while the direct path was off has no ring state for
	 * it (never ready): the library path takes its frames. */
	uint8_t imp = atomic_load_explicit(&port->imp_dir, memory_order_relaxed);
	bool direct = __atomic_load_n(&dp->direct, __ATOMIC_RELAXED) &&
		      port->kind == DP_PORT_VHOST && !(imp & CFG_IMPAIR_RX);
	uint8_t *skip = &w->direct_skip[rxq->port][rxq->queue];
	uint16_t budget = DP_BURST, want, n;
	bool paused = false;

	/* A queue whose frames all go where the direct path cannot take
	 * them (an uplink, the tunnel) does not pay its look every turn. */
	if (direct && *skip > 0) {
		(*skip)--;
		direct = false;
		paused = true;
	}
	while (budget > 0) {
		want = budget;
		if (direct) {
			bool *missed = &w->direct_missed[rxq->port][rxq->queue];
			uint8_t *back = &w->direct_backoff[rxq->port][rxq->queue];
			bool rest;
			/* After a turn where it stopped at the first frame
			 * (to an uplink, say), it looks at one frame, not
			 * read ahead a burst the library path then reads
			 * again. */
			uint16_t got = dp_direct_rx(w, rxq->port, rxq->queue,
						    *missed ? 1 : budget, fctx,
						    &rest);

			/* (an empty ring says nothing either way) */
			if (got > 0) {
				*back = 0;
				*missed = false;
			} else if (rest) {
				if (*missed) {
					*back = *back == 0 ? 1 : (uint8_t)RTE_MIN(
						*back * 2, DP_DIRECT_BACKOFF_MAX);
					*skip = *back;
				}
				*missed = true;
			}
			budget -= got;
			if (!rest || budget == 0)
				break;
			if (got > 0)
				want = 1;
		}
		n = dp_port_rx(w, rxq->port, rxq->queue, pkts, want);
		if (n == 0)
			break;
		w->stats[rxq->port].direct_stops[DP_DIRECT_STOP_PAUSED] += paused;
		budget -= n;
		w->stats[rxq->port].rx_packets += n;
		{
			struct dp_capture *cap = dp_cap_of(port, DP_CAP_RX);

			if (cap != NULL)
				dp_capture_burst(cap, rxq->queue, DP_CAP_IN, -1,
						 pkts, n);
		}
		n = dp_offload_validate(w, port, pkts, n);
		if (unlikely(imp & CFG_IMPAIR_RX))
			n = dp_impair_filter(w, rxq->port, CFG_IMPAIR_RX, pkts, n);
		dp_forward(w, rxq->port, pkts, n, fctx);
		if (!direct)
			break;
	}
	return DP_BURST - budget;
}

/* What a queue took since the last mark: load accounting (dp_load.c). */
static inline uint64_t
dp_charge(struct dp_worker *w, uint16_t port, uint16_t queue, uint64_t since,
	  unsigned int frames)
{
	struct dp_rxq_load *ld = &w->rxq_load[port][queue];
	uint64_t t = rte_rdtsc();

	ld->cycles += t - since;
	ld->frames += frames;
	return t;
}

static inline void
dp_loop_account(struct dp_worker *w, uint64_t cycles)
{
	unsigned int b = cycles == 0 ? 0 : 64 - (unsigned int)__builtin_clzll(cycles);

	w->loop_hist[b < DP_LOOP_HIST ? b : DP_LOOP_HIST - 1]++;
	if (cycles > w->loop_max_cycles)
		w->loop_max_cycles = cycles;
	if (unlikely(cycles >= w->long_cycles)) {
		uint64_t n = w->n_long;
		struct timespec ts;

		clock_gettime(CLOCK_MONOTONIC, &ts);
		__atomic_store_n(&w->long_loops[n % DP_LONG_LOOPS].end_ns,
				 (uint64_t)ts.tv_sec * 1000000000u +
				 (uint64_t)ts.tv_nsec, __ATOMIC_RELAXED);
		__atomic_store_n(&w->long_loops[n % DP_LONG_LOOPS].cycles,
				 cycles, __ATOMIC_RELAXED);
		__atomic_store_n(&w->n_long, n + 1, __ATOMIC_RELEASE);
	}
}

/*
 * Give the CPU back for us microseconds (adaptive polling, poll.h).  The
 * worker holds nothing here (after its quiescent state) and goes offline
 * for RCU, so a grace period does not wait for its sleep.  Frames that
 * come meanwhile wait in their rings.
 */
static uint64_t
dp_worker_sleep(struct dp_worker *w, uint32_t us)
{
	struct timespec ts = { .tv_sec = 0, .tv_nsec = (long)us * 1000 };
	uint64_t t0 = rte_rdtsc(), t1;

	rte_rcu_qsbr_thread_offline(w->dp->rcu, w->index);
	clock_nanosleep(CLOCK_MONOTONIC, 0, &ts, NULL);
	rte_rcu_qsbr_thread_online(w->dp->rcu, w->index);
	t1 = rte_rdtsc();
	dp_sleep_account(w, t0, t1);
	return t1;
}

int
dp_worker_main(void *arg)
{
	struct dp_worker *w = arg;
	struct dp *dp = w->dp;
	struct rte_mbuf *pkts[DP_BURST];
	struct fwd_ctx fctx = {
		.ports = dp->fwd_ports,
		.fdbs = dp->fdbs,
		.n_nets = dp->n_nets,
	};
	uint64_t prev = rte_rdtsc();

	w->long_cycles = dp->tsc_hz / 1000000 * DP_LONG_LOOP_US;
	w->backoff = (struct poll_backoff){
		.max_us = dp->cfg->poll != CFG_POLL_BUSY ? dp->cfg->max_sleep_us : 0,
	};
	/* Short sleeps as asked: the default 50 us timer slack would
	 * stretch every one. */
	(void)prctl(PR_SET_TIMERSLACK, 1UL, 0UL, 0UL, 0UL);
	__atomic_store_n(&w->tid, (int)gettid(), __ATOMIC_RELEASE);
	rte_rcu_qsbr_thread_register(dp->rcu, w->index);
	rte_rcu_qsbr_thread_online(dp->rcu, w->index);
	DP_LOG(INFO, "worker %u on lcore %u: %u rx queue(s)\n", w->index,
	       w->lcore, atomic_load(&w->plan)->n_rxqs);

	while (!atomic_load_explicit(&dp->stop, memory_order_relaxed)) {
		uint64_t now, mark;
		uint32_t us;
		bool busy = false, awake = false;

		/* Held until the quiescent state below. */
		const struct dp_members_snap *snap =
			atomic_load_explicit(&dp->members, memory_order_acquire);
		const struct dp_plan *pl =
			atomic_load_explicit(&w->plan, memory_order_acquire);

		w->pl = pl;
		fctx.n_ports = atomic_load_explicit(&dp->n_ports,
						    memory_order_acquire);
		portset_shared_load(&dp->up, fctx.n_ports, &fctx.up);
		fctx.away = &snap->away;
		fctx.now_s = (uint32_t)(prev / dp->tsc_hz);
		/* Each queue is charged the cycles of its turns that found
		 * frames (and the empty turns just before them). */
		mark = prev;
		for (unsigned int i = 0; i < pl->n_rxqs; i++) {
			const struct dp_rxq *rq = &pl->rxqs[i];
			uint16_t got = dp_poll_rxq(w, rq, pkts, &fctx);

			if (got > 0) {
				busy = true;
				mark = dp_charge(w, rq->port, rq->queue, mark, got);
			}
		}
		/* Deliver to co-resident VMs; a VM that went away is
		 * skipped: the main thread drains its ring after this
		 * snapshot's grace period. */
		for (uint16_t i = 0; i < pl->n_corx; i++) {
			const struct dp_corx *cr = &pl->corx[i];

			if (portset_has(&snap->away, cr->port))
				continue;
			/* Up to two bursts: several writers may have filled
			 * it since the last turn. */
			unsigned int got = dp_coring_deliver(w, cr);

			if (got == DP_BURST)
				got += dp_coring_deliver(w, cr);
			if (got > 0) {
				busy = true;
				mark = dp_charge(w, cr->port, cr->queue, mark, 0);
			}
		}
		now = mark = rte_rdtsc();
		for (uint16_t i = 0; i < pl->n_qos; i++) {
			if (dp_qos_run(w, pl->qos[i], now) > 0) {
				busy = true;
				mark = dp_charge(w, pl->qos[i], 0, mark, 0);
			} else if (w->backoff.max_us != 0 &&
				   dp_qos_backlogged(w, pl->qos[i])) {
				awake = true;   /* shaped frames wait for tokens */
			}
		}
		if (dp->ovl != NULL)
			dp_vxlan_resolve(w, now);
		/* The TOE endpoints' timers and services. */
		if (w->toe_armed && dp_toe_run(w, now))
			busy = true;
		/* Frames the impairment stage held, now due. */
		if (w->n_held > 0) {
			awake = true;
			if (dp_impair_release(w, &fctx) > 0)
				busy = true;
		}
		if (busy)
			w->busy_cycles += now - prev;
		else
			w->idle_cycles += now - prev;
		dp_loop_account(w, now - prev);
		prev = now;
		us = w->backoff.max_us == 0 ? 0 :
		     poll_backoff_next(&w->backoff, busy || awake);
		/* Sleeps in epoll, holding the plan until it goes offline. */
		if (us > 0 && dp->intr)
			prev = dp_intr_sleep(w, pl, snap, us);
		/* No vid, port state or plan is held across this point. */
		rte_rcu_qsbr_quiescent(dp->rcu, w->index);
		if (us > 0 && !dp->intr)
			prev = dp_worker_sleep(w, us);
	}

	rte_rcu_qsbr_thread_offline(dp->rcu, w->index);
	rte_rcu_qsbr_thread_unregister(dp->rcu, w->index);
	return 0;
}
