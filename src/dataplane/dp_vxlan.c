/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Worker side of the overlay.  Out: the frames of an overlay network's
 * VM port bound for the uplink are cut and checksummed in software if
 * they are super-frames (inside the tunnel the NIC cannot), then sent to
 * the host the remote table places their destination MAC on, or to every
 * host of the network (head-end replication), each in VXLAN toward that
 * host's tunnel endpoint.  In: VXLAN to this host's endpoint is checked
 * (vxlan.h), and delivered only into the network of its VNI, only with an
 * inner source MAC the directory places on the sending host.  ARP for the
 * endpoint is answered here; ARP from a next hop fills its slot.
 */
#include "dp_priv.h"

#include <string.h>

#include <rte_cycles.h>
#include <rte_ip.h>
#include <rte_mbuf.h>

#include "cpu/cpu_prefetch.h"
#include "overlay/ovl_table.h"
#include "overlay/vxlan.h"
#include "toe_stack/toe_offload.h"

/* An ARP frame of the uplink's: a request for the endpoint is answered;
 * a next hop's sender address fills its slot.  true: taken. */
static bool
dp_vxlan_arp(struct dp_worker *w, uint16_t in, struct rte_mbuf *m)
{
	struct dp_overlay *ovl = w->dp->ovl;
	const uint8_t *f = rte_pktmbuf_mtod(m, const uint8_t *);
	struct vxlan_arp a, r;
	uint8_t mine[6];
	uint32_t spa;
	bool taken = false;

	if (!vxlan_arp_parse(f, rte_pktmbuf_data_len(m), &a))
		return false;
	memcpy(&spa, a.spa, 4);
	for (unsigned int i = 0; spa != 0 && i < DP_NBR_MAX; i++) {
		struct dp_nbr *nb = &ovl->nbrs[i];

		if (atomic_load_explicit(&nb->ip, memory_order_relaxed) != spa)
			continue;
		atomic_store_explicit(&nb->mac, dp_mac_word(a.sha) | DP_NBR_VALID,
				      memory_order_relaxed);
		atomic_store_explicit(&nb->seen_tsc, rte_rdtsc(),
				      memory_order_relaxed);
		taken = true;
	}
	if (a.op == 1 && memcmp(a.tpa, ovl->local_ip, 4) == 0) {
		dp_word_mac(atomic_load_explicit(&ovl->uplink_mac,
					      memory_order_relaxed), mine);
		r = (struct vxlan_arp){ .op = 2 };
		memcpy(r.sha, mine, 6);
		memcpy(r.spa, ovl->local_ip, 4);
		memcpy(r.tha, a.sha, 6);
		memcpy(r.tpa, a.spa, 4);
		/* The request's mbuf becomes the reply when it is its own. */
		if (m->nb_segs == 1 && rte_mbuf_refcnt_read(m) == 1 &&
		    RTE_MBUF_DIRECT(m)) {
			rte_pktmbuf_reset(m);
		} else {
			rte_pktmbuf_free(m);
			m = rte_pktmbuf_alloc(w->dp->pool);
		}
		if (m != NULL && rte_pktmbuf_append(m, 60) != NULL) {
			uint8_t *o = rte_pktmbuf_mtod(m, uint8_t *);

			memset(o, 0, 60);
			vxlan_arp_build(o, a.sha, mine, &r);
			w->ovl.arp_replies++;
			w->ovl.arp_in++;
			/* the books: the request taken, a reply made */
			w->stats[in].toe_taken++;
			w->stats[in].toe_sent++;
			dp_stage_out(w, in, m);
			return true;
		}
		w->stats[in].drops[DP_DROP_NO_MBUF]++;
		rte_pktmbuf_free(m);
		return true;
	}
	if (!taken && memcmp(a.tpa, ovl->local_ip, 4) != 0)
		return false;           /* someone else's: the switch's */
	w->ovl.arp_in++;
	w->stats[in].toe_taken++;
	rte_pktmbuf_free(m);
	return true;
}

int
dp_vxlan_rx(struct dp_worker *w, uint16_t in, struct rte_mbuf *m,
	    uint16_t *net)
{
	struct dp *dp = w->dp;
	struct dp_overlay *ovl = dp->ovl;
	const uint8_t *f = rte_pktmbuf_mtod(m, const uint8_t *);
	uint16_t avail = rte_pktmbuf_data_len(m);
	const struct dp_ovl_snap *snap;
	const struct ovl_entry *e;
	enum vxlan_drop why;
	enum dp_drop reason;
	struct vxlan_rx rx;
	int host, nn;

	if (avail < 14 || f[12] != 0x08)
		return 0;
	if (f[13] == 0x06)
		return dp_vxlan_arp(w, in, m) ? -1 : 0;
	if (f[13] != 0x00)
		return 0;
	switch (vxlan_decap(f, avail, rte_pktmbuf_pkt_len(m), ovl->local_ip,
			    ovl->udp_port, &rx, &why)) {
	case VXLAN_RX_NOT_MINE:
		return 0;
	case VXLAN_RX_DROP:
		w->ovl.vxlan_drops[why]++;
		reason = DP_DROP_VXLAN_BAD;
		goto drop;
	case VXLAN_RX_OK:
		break;
	}
	/* Held until this iteration's quiescent state (dp_overlay.c frees
	 * a snapshot after the grace period). */
	snap = atomic_load_explicit(&ovl->snap, memory_order_acquire);
	host = snap != NULL ? ovl_table_host_of_vtep(snap->t, rx.src_ip) : -1;
	if (host < 0) {
		reason = DP_DROP_VTEP_UNKNOWN;
		goto drop;
	}
	nn = dp_overlay_net_of_vni(dp, rx.vni);
	if (nn < 0) {
		reason = DP_DROP_VNI_UNKNOWN;
		goto drop;
	}
	/* A host speaks only for the VMs the directory places on it. */
	e = ovl_table_entry(snap->t, (uint16_t)nn, f + rx.inner_off + 6);
	if (e == NULL || e->host != host) {
		reason = DP_DROP_OVERLAY_SRC;
		goto drop;
	}
	rte_pktmbuf_adj(m, rx.inner_off);
	if (rte_pktmbuf_pkt_len(m) > rx.inner_len)
		rte_pktmbuf_trim(m, (uint16_t)(rte_pktmbuf_pkt_len(m) - rx.inner_len));
	/* The NIC's flags were the outer frame's; what kind of buffer holds
	 * it (a PMD's external or attached one) stays, or the free would
	 * give a foreign buffer to the pool. */
	m->ol_flags &= RTE_MBUF_F_EXTERNAL | RTE_MBUF_F_INDIRECT;
	w->ovl.decap++;
	*net = (uint16_t)nn;
	return 1;
drop:
	dp_drop_frames(w, in, reason, DP_CAP_IN, &m, 1);
	return -1;
}

/* A request for next hop nb, at most one a second over all workers;
 * NULL when not due or no mbuf. */
static struct rte_mbuf *
dp_vxlan_ask(struct dp_worker *w, struct dp_nbr *nb, uint64_t now)
{
	struct dp_overlay *ovl = w->dp->ovl;
	uint64_t asked = atomic_load_explicit(&nb->asked_tsc, memory_order_relaxed);
	static const uint8_t bcast[6] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };
	struct vxlan_arp a = { .op = 1 };
	struct rte_mbuf *m;
	uint32_t ip;
	uint8_t *o;

	if (now - asked < w->dp->tsc_hz / 1000 * DP_NBR_ASK_MS ||
	    !atomic_compare_exchange_strong(&nb->asked_tsc, &asked, now))
		return NULL;
	m = rte_pktmbuf_alloc(w->dp->pool);
	if (m == NULL || (o = (uint8_t *)rte_pktmbuf_append(m, 60)) == NULL) {
		rte_pktmbuf_free(m);
		return NULL;
	}
	ip = atomic_load_explicit(&nb->ip, memory_order_relaxed);
	dp_word_mac(atomic_load_explicit(&ovl->uplink_mac, memory_order_relaxed),
		 a.sha);
	memcpy(a.spa, ovl->local_ip, 4);
	memcpy(a.tpa, &ip, 4);
	memset(o, 0, 60);
	vxlan_arp_build(o, bcast, a.sha, &a);
	w->ovl.arp_requests++;
	w->stats[atomic_load_explicit(&ovl->uplink, memory_order_relaxed)].toe_sent++;
	return m;
}

/* May the bytes in front of m's data be written?  Not when another frame
 * reads its buffer: an indirect mbuf, or an external buffer held twice.
 * (A super-frame in rte_vhost's external buffer is its own.) */
static inline bool
dp_vxlan_head_own(const struct rte_mbuf *m)
{
	if (RTE_MBUF_CLONED(m))
		return false;
	return !RTE_MBUF_HAS_EXTBUF(m) ||
	       rte_mbuf_ext_refcnt_read(m->shinfo) == 1;
}

/*
 * Fit a frame to what the uplink does inside the tunnel (tnl_caps): a
 * super-frame goes whole to a NIC with tunnel TSO when its segments fit
 * max_inner, in as many TSO frames as keep each outer datagram within
 * 65535 bytes; otherwise it is cut here, and a partial checksum the NIC
 * cannot complete is finished.  Returns the frames, in *segs.
 */
static uint16_t
dp_vxlan_finish(struct dp_worker *w, uint16_t p, uint32_t tnl_caps,
		uint32_t max_inner, struct rte_mbuf *m, struct rte_mbuf ***segs)
{
	struct dp_port_stats *st = &w->stats[p];
	uint64_t dropped;
	uint32_t caps;
	bool cut;
	uint16_t k;

	if (!(m->ol_flags & (RTE_MBUF_F_TX_TCP_SEG | RTE_MBUF_F_TX_L4_MASK))) {
		w->seg_out[0] = m;
		*segs = w->seg_out;
		return 1;
	}
	caps = toe_tunnel_caps(m, tnl_caps, max_inner, VXLAN_IP_OVER, &cut);
	w->ovl.segmented += cut;
	/* (what the TOE drops, dp_toe_drop counts here) */
	dropped = st->drops[DP_DROP_OFFLOAD_EGRESS];
	k = toe_egress_prepare(w->toe[p], caps, &m, 1, w->seg_out,
			       DP_SEG_OUT);
	dropped = st->drops[DP_DROP_OFFLOAD_EGRESS] - dropped;
	/* 1 frame in = k out - extra segments + dropped */
	st->gso_extra += k + dropped - 1;
	*segs = w->seg_out;
	return k;
}

uint16_t
dp_vxlan_push(struct dp_worker *w, uint16_t p, uint16_t in,
	      struct rte_mbuf **pkts, uint16_t n, struct rte_mbuf ***outp)
{
	struct dp *dp = w->dp;
	struct dp_overlay *ovl = dp->ovl;
	struct dp_port_stats *st = &w->stats[p];
	const struct dp_ovl_snap *snap =
		atomic_load_explicit(&ovl->snap, memory_order_acquire);
	const struct ovl_table *t = snap != NULL ? snap->t : NULL;
	uint16_t net = dp->ports[in].net, k = 0;
	uint32_t max_inner = atomic_load_explicit(&ovl->max_inner,
						  memory_order_relaxed);
	uint32_t tnl_caps = atomic_load_explicit(&dp->ports[p].tnl_caps,
						 memory_order_relaxed);
	enum toe_tnl_mark mark = atomic_load_explicit(&dp->ports[p].tnl_mark,
						      memory_order_relaxed);
	struct rte_mbuf **out = w->ovl_out;
	struct vxlan_tun tun = {
		.dst_port = ovl->udp_port,
		.vni = ovl->vni_of_net[net],
	};
	uint64_t now = rte_rdtsc();

	dp_word_mac(atomic_load_explicit(&ovl->uplink_mac, memory_order_relaxed),
		 tun.src_mac);
	memcpy(tun.src_ip, ovl->local_ip, 4);
	/* The outer headers go into each frame's headroom, a line the
	 * uplink's far end read last: ask for them all at once, exclusive,
	 * not one miss per frame. */
	for (uint16_t i = 0; i < n; i++)
		cpu_prefetchw(rte_pktmbuf_mtod(pkts[i], const uint8_t *) -
			     VXLAN_OUTER_LEN);
	for (uint16_t i = 0; i < n; i++) {
		struct rte_mbuf *m = pkts[i], **segs;
		const uint16_t *hosts = NULL;
		uint16_t one, ns, sport;
		unsigned int nh = 0;
		const uint8_t *dst = rte_pktmbuf_mtod(m, const uint8_t *);
		int h;

		if (t != NULL && (dst[0] & 1)) {
			nh = ovl_table_flood(t, net, &hosts);
		} else if (t != NULL && (h = ovl_table_lookup(t, net, dst)) >= 0) {
			one = (uint16_t)h;
			hosts = &one;
			nh = 1;
		}
		if (nh == 0) {
			dp_drop_frames(w, p, (dst[0] & 1) ? DP_DROP_OVERLAY_NO_HOST :
				       DP_DROP_OVERLAY_UNKNOWN_DST, DP_CAP_OUT, &m, 1);
			continue;
		}
		/* Once per frame: a super-frame's segments are one flow,
		 * and their fresh headers are still in the store buffer. */
		sport = vxlan_src_port(dst, rte_pktmbuf_data_len(m));
		ns = dp_vxlan_finish(w, p, tnl_caps, max_inner, m, &segs);
		for (uint16_t s = 0; s < ns; s++) {
			struct rte_mbuf *seg = segs[s];
			uint32_t len = rte_pktmbuf_pkt_len(seg);

			/* (a TSO frame's segments fit: toe_tunnel_caps) */
			if (!(seg->ol_flags & RTE_MBUF_F_TX_TCP_SEG) &&
			    len > max_inner) {
				dp_drop_frames(w, p, DP_DROP_OVERLAY_MTU,
					       DP_CAP_OUT, &seg, 1);
				continue;
			}
			/* the books: one frame for each host, each of them
			 * sent or dropped below */
			w->stats[in].flood_copies += nh - 1;
			for (unsigned int j = 0; j < nh; j++) {
				const struct ovl_host *oh = ovl_table_host(t, hosts[j]);
				struct dp_nbr *nb = &ovl->nbrs[oh->nbr];
				uint64_t mac = atomic_load_explicit(&nb->mac,
						memory_order_relaxed);
				bool last = j + 1 == nh;
				struct rte_mbuf *c, *ask = NULL;
				uint8_t *hdr;

				if (!(mac & DP_NBR_VALID) ||
				    now - atomic_load_explicit(&nb->seen_tsc,
						memory_order_relaxed) >
				    dp->tsc_hz * DP_NBR_REFRESH_S)
					ask = dp_vxlan_ask(w, nb, now);
				if (ask != NULL) {
					if (k < DP_SEG_OUT) {
						out[k++] = ask;
					} else {
						st->drops[DP_DROP_OVERLAY_BURST]++;
						rte_pktmbuf_free(ask);
					}
				}
				/* (the frame itself, for the last host; for
				 * the others the copy not made) */
				if (!(mac & DP_NBR_VALID) || k == DP_SEG_OUT) {
					enum dp_drop why = !(mac & DP_NBR_VALID) ?
						DP_DROP_OVERLAY_NO_NEIGHBOUR :
						DP_DROP_OVERLAY_BURST;

					if (last)
						dp_drop_frames(w, p, why, DP_CAP_OUT,
							       &seg, 1);
					else
						st->drops[why]++;
					continue;
				}
				/* The last host takes the frame itself, unless
				 * others hold it too (a flood) or it has no room
				 * in front: then it gets a copy. */
				c = seg;
				if (!last || rte_mbuf_refcnt_read(seg) > 1 ||
				    !dp_vxlan_head_own(seg) ||
				    rte_pktmbuf_headroom(seg) < VXLAN_OUTER_LEN) {
					c = rte_pktmbuf_copy(seg, dp->pool, 0, UINT32_MAX);
					if (last)
						rte_pktmbuf_free(seg);
					if (c == NULL) {
						st->drops[DP_DROP_NO_MBUF]++;
						continue;
					}
					if (!last)
						w->ovl.replicas++;
				}
				dp_word_mac(mac, tun.dst_mac);
				memcpy(tun.dst_ip, oh->vtep, 4);
				hdr = (uint8_t *)rte_pktmbuf_prepend(c, VXLAN_OUTER_LEN);
				if (hdr == NULL ||
				    vxlan_encap(hdr, &tun, sport, len) != 0) {
					dp_drop_frames(w, p, DP_DROP_OVERLAY_MTU,
						       DP_CAP_OUT, &c, 1);
					continue;
				}
				/* What is left inside goes to the NIC
				 * (dp_uplink_tnl_caps). */
				w->ovl.inner_csum_nic +=
					(c->ol_flags & RTE_MBUF_F_TX_L4_MASK) != 0;
				w->ovl.nic_tso +=
					(c->ol_flags & RTE_MBUF_F_TX_TCP_SEG) != 0;
				toe_tunnel_mark(c, mark, VXLAN_OUTER_LEN,
						sizeof(struct rte_ipv4_hdr),
						RTE_MBUF_F_TX_TUNNEL_VXLAN);
				out[k++] = c;
				w->ovl.encap++;
			}
		}
	}
	*outp = out;
	return k;
}

/*
 * The worker that runs the overlay uplink's scheduler asks for the next
 * hops of the table that have no MAC yet (or are due a refresh) a few
 * times a second, so a host that joins is resolved before its first
 * frame rather than at the cost of it.
 */
void
dp_vxlan_resolve(struct dp_worker *w, uint64_t now)
{
	struct dp_overlay *ovl = w->dp->ovl;
	int32_t up = atomic_load_explicit(&ovl->uplink, memory_order_relaxed);
	struct rte_mbuf *reqs[DP_BURST];
	uint16_t n = 0;

	if (up < 0 || !portset_has(&w->pl->qos_mine, (uint16_t)up) ||
	    now - w->ovl_resolve_tsc < w->dp->tsc_hz / 10)
		return;
	w->ovl_resolve_tsc = now;
	for (unsigned int i = 0; i < DP_NBR_MAX && n < DP_BURST; i++) {
		struct dp_nbr *nb = &ovl->nbrs[i];
		struct rte_mbuf *m;

		if (atomic_load_explicit(&nb->ip, memory_order_acquire) == 0 ||
		    ((atomic_load_explicit(&nb->mac, memory_order_relaxed) & DP_NBR_VALID) &&
		     now - atomic_load_explicit(&nb->seen_tsc, memory_order_relaxed) <
		     w->dp->tsc_hz * DP_NBR_REFRESH_S))
			continue;
		m = dp_vxlan_ask(w, nb, now);
		if (m != NULL)
			reqs[n++] = m;
	}
	if (n > 0)
		dp_qos_enqueue(w, (uint16_t)up, (uint16_t)up, reqs, n);
}
