/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The direct path between co-resident guests: a worker polling a guest's
 * tx ring takes the frames at its head that go to exactly one other guest
 * this worker delivers to, and copies each from the sender's buffer into
 * a receive buffer of that guest, with no mbuf between: this file decides
 * which frames go; src/vhost/vhost_burst.h does the rings (the vring
 * protocol, dirty logging, notifications).
 * It stops at the first frame it does not take, which goes through the
 * library path before the direct path resumes (dp_poll_rxq), so the
 * frames of a ring keep their order whichever path each takes.
 *
 * Taken directly, per frame: a forwarding decision of exactly one VM
 * port, that port's ring empty (nothing queued ahead), its guest queue
 * enabled and written by this worker alone, and receive buffers that hold
 * the frame (several, when the guest negotiated MRG_RXBUF).  A frame with
 * offload metadata (a partial checksum, a TCP super-frame) is taken when
 * the TOE finds its claims true (toe_vnet_check, on a private copy of its
 * headers, which is also what the receiver gets; a lie is dropped and
 * counted under its reason right there) and the receiving
 * guest negotiated those offloads: it then arrives as it was sent, one
 * copy of 64 KB where the library path makes two.  Everything else
 * (floods, uplinks, drops, lies, offloads the receiver lacks, a full
 * guest) keeps the library path, with its counters and drop reasons; so
 * do TCP segments with payload for a guest that takes super-frames, which
 * GRO coalesces there (fewer, larger frames for the receiving guest).
 */
#include "dp_priv.h"

#include <assert.h>
#include <stdbool.h>
#include <string.h>

#include <rte_ring.h>

#include "toe_stack/toe_offload.h"
#include "vhost/vhost_burst.h"
#include "vhost/vhost_io.h"

#define ETH_HDR_LEN 14
/* Bytes of a frame read privately, decided on and delivered from that
 * copy: the Ethernet header, the protocol fields that tell TCP, and the
 * addresses, ports and ICMPv6 type port security checks (psec.h asks for
 * more when it needs it: the library path takes those frames). */
#define DP_DIRECT_PEEK 64
/* Frames up to this size go direct even to a guest that takes
 * super-frames: TCP ACKs, which GRO would not merge anyway. */
#define DP_DIRECT_SMALL 128

static_assert(DP_BURST <= VB_BURST, "a burst's chains fit the sender's hold");

const char *
dp_direct_stop_name(enum dp_direct_stop s)
{
	static const char *const names[] = {
#define DP_DS_NAME(sym, name, help) name,
		DP_DIRECT_STOPS(DP_DS_NAME)
#undef DP_DS_NAME
	};

	return (unsigned int)s < RTE_DIM(names) ? names[s] : "?";
}

/* The receiving port held during a burst. */
struct dp_direct_dst {
	uint16_t port;          /* DP_PORTS_MAX while none is held */
	uint32_t caps;          /* TOE_CAP_* the guest negotiated */
	bool gro;               /* the guest takes TCP super-frames: its TCP
				 * segments go through GRO, not direct */
	struct dp_capture *cap; /* capturing what is sent to it, or NULL */
	struct vb_rx q;
};

static void
dp_direct_dst_close(struct dp_direct_dst *dst, struct vb_calls *calls)
{
	if (dst->port == DP_PORTS_MAX)
		return;
	vb_rx_close(&dst->q, calls);
	dst->port = DP_PORTS_MAX;
}

/* Hold port p's guest rx ring for direct copies from this worker (want:
 * how many frames may come); false when it must be left to the library
 * path. */
static bool
dp_direct_dst_open(struct dp_worker *w, uint16_t p, uint16_t want,
		   struct dp_direct_dst *dst)
{
	struct dp_port *port = &w->dp->ports[p];
	int16_t k = w->pl->corx_of_port[p];
	uint16_t q, vring;
	uint32_t enabled;

	/* A guest not yet reported up (new_device still running) is left
	 * to the library path, as one going down already is. */
	if (port->kind != DP_PORT_VHOST || k < 0 ||
	    atomic_load_explicit(&port->imp_dir, memory_order_relaxed) != 0 ||
	    atomic_load_explicit(&port->vid, memory_order_acquire) < 0 ||
	    !rte_ring_empty(port->coring))
		return false;
	q = w->pl->corx[k].queue;
	vring = VHOST_VRING_GUEST_RX(q);
	enabled = atomic_load_explicit(&port->vrings_enabled,
				       memory_order_acquire);
	/* Queue 0 also takes the frames of readers whose own queue is
	 * disabled (dp_vhost_deliver), through the library. */
	if (!(enabled & (1u << vring)) || (q == 0 && port->n_readers > 1))
		return false;
	if (!vb_rx_open(&dst->q, &port->direct, vring, want))
		return false;
	dst->caps = atomic_load_explicit(&port->caps, memory_order_relaxed);
	dst->gro = (dst->caps & (TOE_CAP_TSO4 | TOE_CAP_TSO6)) != 0;
	dst->cap = dp_cap_of(port, DP_CAP_TX);
	dst->port = p;
	return true;
}

/*
 * Might this frame (its first have bytes in b) be a TCP segment?  Then
 * GRO may coalesce it for a guest that takes super-frames (the library
 * path); a VLAN tag or too few bytes to tell count as maybe.
 */
static bool
dp_direct_maybe_tcp(const uint8_t *b, uint32_t have, uint32_t frame_len)
{
	uint16_t type = (uint16_t)(b[12] << 8 | b[13]);

	if (frame_len < DP_DIRECT_PEEK)
		return false;
	if (have < DP_DIRECT_PEEK)
		return true;
	switch (type) {
	case 0x0800:
		return b[23] == 6;
	case 0x86dd:
		return b[20] == 6;
	case 0x8100:
	case 0x88a8:
		return true;
	default:
		return false;
	}
}

/* Captures see the frames this path takes or drops as the library
 * path's taps would (cap_rx: the sender's capture of what it sends). */
static void
dp_direct_tap_drop(struct dp_capture *cap_rx, const struct dp_port *src,
		   uint16_t q, enum dp_drop why, const struct vd_chain *sc,
		   uint32_t off, uint32_t len)
{
	struct dp_capture *cd = dp_cap_of(src, DP_CAP_DROPS);

	if (cap_rx != NULL)
		dp_capture_chain(cap_rx, q, DP_CAP_IN, -1, sc, off, len);
	if (cd != NULL)
		dp_capture_chain(cd, q, DP_CAP_IN, (int)why, sc, off, len);
}

uint16_t
dp_direct_rx(struct dp_worker *w, uint16_t in, uint16_t q, uint16_t max,
	     const struct fwd_ctx *fctx, bool *rest)
{
	struct dp *dp = w->dp;
	struct dp_port *src = &dp->ports[in];
	struct dp_port_stats *st = &w->stats[in];
	/* Not zeroed: only what is written is read (the receive and send
	 * chains are 22 KB and 11 KB). */
	struct dp_direct_dst dst;
	struct vb_tx t;
	struct vb_calls calls;
	uint16_t vring = VHOST_VRING_GUEST_TX(q), hdr_len, i = 0;
	uint16_t dport = DP_PORTS_MAX;
	uint8_t eth[DP_DIRECT_PEEK], last_hdr[14], ohdr[TOE_HDR_MAX];
	bool last_valid = false;
	uint32_t n_ol = 0, n_drops = 0;
	const bool psec = src->psec.on;
	/* Captures of this port, read once a burst. */
	struct dp_capture *const cap_rx = dp_cap_of(src, DP_CAP_RX);
	const bool cap_on = atomic_load_explicit(&src->capture,
						 memory_order_relaxed) != NULL;
	/* Unless the walk stops on a frame, it ends at one it could not
	 * read (t.n < t.posted). */
	enum dp_direct_stop why = DP_DIRECT_STOP_CHAIN;
	int open;

	dst.port = DP_PORTS_MAX;
	calls.n = 0;
	*rest = true;
	if (atomic_load_explicit(&src->vid, memory_order_acquire) < 0 ||
	    !(atomic_load_explicit(&src->vrings_enabled, memory_order_acquire) &
	      (1u << vring)))
		return 0;
	open = vb_tx_open(&t, &src->direct, vring, RTE_MIN(max, (uint16_t)DP_BURST));
	if (open <= 0) {
		*rest = open < 0;
		return 0;
	}
	hdr_len = src->direct.hdr_len;

	/* Where the walk stops, and why (counted below). */
#define DS_STOP(r) { why = DP_DIRECT_STOP_##r; break; }
	for (; i < t.n; i++) {
		const struct vd_chain *sc = &t.c[i];
		const struct virtio_net_hdr *vh;
		struct virtio_net_hdr ovh;
		const uint8_t *geth, *hdr = eth;
		uint32_t room, frame_len, peek, needs = 0;
		bool ol, super = false;

		vb_tx_prefetch_next(&t, i);
		if (sc->seg[0].len < hdr_len)
			DS_STOP(HEADER);
		vh = (const struct virtio_net_hdr *)sc->seg[0].va;
		frame_len = sc->len - hdr_len;
		ol = vh->flags != 0 || vh->gso_type != VIRTIO_NET_HDR_GSO_NONE;
		if (ol) {
			/* One private read of the header and of the frame's
			 * headers: the claims are checked on it, and it is
			 * what the receiver gets. */
			struct virtio_net_hdr gvh;
			enum toe_drop lie;
			bool pass;

			memcpy(&gvh, vh, sizeof(gvh));
			peek = RTE_MIN(frame_len, (uint32_t)TOE_HDR_MAX);
			vd_chain_gather(sc, hdr_len, ohdr, peek);
			lie = toe_vnet_check(&gvh, ohdr, frame_len, &pass,
					     &needs, &ovh);
			if (lie != TOE_DROP_NONE) {
				/* Dropped here, in ring order, under its own
				 * reason: rte_vhost would hide some lies from
				 * the library path (a GSO claim with gso_size
				 * 0 or on a UDP datagram loses only the claim,
				 * and the frame would go on, oversized). */
				toe_count_lie(w->toe[in], lie);
				st->drops[DP_DROP_OFFLOAD_BAD]++;
				if (unlikely(cap_on))
					dp_direct_tap_drop(cap_rx, src, q,
							   DP_DROP_OFFLOAD_BAD,
							   sc, hdr_len, frame_len);
				n_drops++;
				vb_tx_done(&t, i);
				continue;
			}
			if (!pass)
				DS_STOP(OFFLOAD);   /* true, but needs the TOE's work */
			super = ovh.gso_type != VIRTIO_NET_HDR_GSO_NONE;
			hdr = ohdr;
		} else {
			geth = vb_frame_head(sc, hdr_len, &room);
			if (geth == NULL || room < ETH_HDR_LEN ||
			    frame_len < ETH_HDR_LEN)
				DS_STOP(HEADER);
			/* Decide on, and deliver, one private read of the
			 * headers. */
			peek = RTE_MIN(RTE_MIN(room, frame_len),
				       (uint32_t)DP_DIRECT_PEEK);
			memcpy(eth, geth, peek);
		}
		if (psec) {
			int r = psec_check(&src->psec, hdr, peek, frame_len);

			if (r == PSEC_MORE)
				DS_STOP(PSEC);
			if (unlikely(r != PSEC_PASS)) {
				/* Refused here, in ring order, as on the
				 * library path. */
				st->drops[r]++;
				if (unlikely(cap_on))
					dp_direct_tap_drop(cap_rx, src, q,
							   (enum dp_drop)r, sc,
							   hdr_len, frame_len);
				n_drops++;
				vb_tx_done(&t, i);
				continue;
			}
		}
		/* the endpoint's frames, and ARP requests it may suppress */
		if (src->toe_on &&
		    (toe_ep_classify(&src->ep_conf, hdr, peek, frame_len) !=
		     TOE_EP_NOT_MINE || toe_ep_arp_target(hdr, peek) != NULL))
			DS_STOP(TOE);
		/* Same MACs and type as the frame before: same decision (as
		 * in dp_forward). */
		if (!(last_valid && memcmp(hdr, last_hdr, sizeof(last_hdr)) == 0)) {
			uint16_t dsts[DP_PORTS_MAX];
			enum dp_drop reason = DP_DROP_MAX;

			if (fwd_decide(fctx, in, src->net, hdr, ETH_HDR_LEN,
				       dsts, &reason) != 1)
				DS_STOP(DEST);
			dport = dsts[0];
			/* fwd_decide never returns the source (same_port);
			 * the rings' locks no longer stop it if it did. */
			if (dport == in)
				DS_STOP(DEST);
			memcpy(last_hdr, hdr, sizeof(last_hdr));
			last_valid = true;
		}
		if (dst.port != dport) {
			dp_direct_dst_close(&dst, &calls);
			if (!dp_direct_dst_open(w, dport, t.n - i, &dst))
				DS_STOP(RECEIVER);
		}
		/* Offloads the receiver lacks are done in software there. */
		if ((dst.caps & needs) != needs)
			DS_STOP(CAPS);
		if (dst.gro && !super &&
		    frame_len > DP_DIRECT_SMALL &&
		    dp_direct_maybe_tcp(hdr, peek, frame_len))
			DS_STOP(GRO);
		if (ol ? !vb_rx_put_hdr(&dst.q, &ovh, ohdr, peek, sc,
					hdr_len + peek, frame_len) :
			 !vb_rx_put(&dst.q, eth, peek, sc, hdr_len + peek,
				    frame_len))
			DS_STOP(FULL);
		vb_tx_done(&t, i);
		if (unlikely(cap_rx != NULL))
			dp_capture_chain(cap_rx, q, DP_CAP_IN, -1, sc, hdr_len,
					 frame_len);
		if (unlikely(dst.cap != NULL))
			dp_capture_chain(dst.cap, (uint16_t)(dst.q.vring / 2),
					 DP_CAP_OUT, -1, sc, hdr_len, frame_len);
		n_ol += ol;
		st->rx_bytes += frame_len;
		w->stats[dport].tx_packets++;
		w->stats[dport].tx_bytes += frame_len;
	}
#undef DS_STOP
	dp_direct_dst_close(&dst, &calls);
	vb_tx_close(&t, i, &calls);
	if (i > 0) {
		st->rx_packets += i;
		st->direct_packets += i - n_drops;
		if (n_ol > 0)
			toe_count_passed(w->toe[in], n_ol);
	}
	/* Stopped early: what is left is the library path's. */
	*rest = i < t.posted;
	if (i < t.posted)
		st->direct_stops[why]++;
	vb_calls_flush(&calls);
	return i;
}
