/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The direct path between co-resident guests: a worker polling a guest's
 * tx ring takes the frames at its head that go to exactly one other guest
 * this worker delivers to, and copies each from the sender's buffer into
 * a receive buffer of that guest (vhost_direct.h), with no mbuf between.
 * It stops at the first frame it does not take, which goes through the
 * library path before the direct path resumes (dp_poll_rxq), so the
 * frames of a ring keep their order whichever path each takes.
 *
 * Taken directly, per frame: no offload metadata (plain virtio-net header),
 * an Ethernet header in one buffer, a forwarding decision of exactly one
 * VM port, that port's ring empty (nothing queued ahead), its guest queue
 * enabled and written by this worker alone, and a receive buffer that
 * holds the frame.  Everything else (floods, uplinks, drops, super-frames,
 * a full guest) keeps the library path, with its counters and drop
 * reasons; so do TCP segments for a guest that takes super-frames, which
 * GRO coalesces there (fewer, larger frames for the receiving guest).
 */
#include "dp_priv.h"

#include <stdbool.h>
#include <string.h>
#if defined(__x86_64__)
#include <cpuid.h>
#endif

#include <rte_prefetch.h>
#include <rte_ring.h>

#include "toe_stack/toe_offload.h"
#include "vhost/vhost_direct.h"
#include "vhost/vhost_io.h"

#define ETH_HDR_LEN 14
/* Bytes read to tell TCP: the IPv4 protocol (offset 23) and the IPv6 next
 * header (offset 20) fields. */
#define DP_DIRECT_PEEK 24
/* Frames ahead whose buffers are prefetched: enough to cover a miss to
 * the other CPU's cache, few enough that the CPU does not drop the
 * prefetches (a whole burst's worth would overflow its miss buffers). */
#define DP_DIRECT_PF_AHEAD 4

/* The receiving ring held during a burst, and the receive buffers read
 * ahead of use (descriptors walked, buffers prefetched). */
struct dp_direct_dst {
	uint16_t port;          /* DP_PORTS_MAX while none is held */
	uint16_t vring;
	struct vhost_direct *d;
	const struct vd_ring *r;
	uint16_t last_avail;
	uint16_t last_used;
	uint16_t moved;
	uint16_t n_ready;       /* chains in dc[] that can be used */
	bool gro;               /* the guest takes TCP super-frames: its TCP
				 * segments go through GRO, not direct */
	struct vd_chain dc[DP_BURST];
};

/* Guest notifications owed, made once no direct state is held (the
 * library's vring call takes its own lock). */
struct dp_direct_calls {
	uint16_t n;
	struct {
		int vid;
		uint16_t vring;
	} c[DP_BURST + 1];
};

static void
dp_direct_dst_close(struct dp_direct_dst *dst, struct dp_direct_calls *calls)
{
	if (dst->port == DP_PORTS_MAX)
		return;
	if (dst->moved > 0) {
		/* The copies and used entries before the index.  (Writing the
		 * used entries as each frame is copied measured faster here
		 * than gathering them for one pass at the end.) */
		__atomic_store_n(&dst->r->used->idx, dst->last_used,
				 __ATOMIC_RELEASE);
		rte_vhost_set_vring_base(dst->d->vid, dst->vring,
					 dst->last_avail, dst->last_used);
		calls->c[calls->n].vid = dst->d->vid;
		calls->c[calls->n].vring = dst->vring;
		calls->n++;
	}
	vhost_direct_release(dst->d, dst->vring);
	dst->port = DP_PORTS_MAX;
}

/*
 * Walk the n chains posted in ring r from avail index from into c[],
 * their descriptors prefetched first: the guest wrote them on another
 * CPU, and waiting for each miss in turn is what a one-by-one walk costs.
 * Returns how many chains are usable (up to the first that is not).
 */
static uint16_t
dp_direct_read_ahead(const struct vhost_direct *d, const struct vd_ring *r,
		     uint16_t from, uint16_t n, bool write, struct vd_chain *c)
{
	uint16_t mask = r->size - 1, heads[DP_BURST], i;

	for (i = 0; i < n; i++) {
		heads[i] = r->avail->ring[(uint16_t)(from + i) & mask];
		rte_prefetch0(&r->desc[heads[i] & mask]);
	}
	for (i = 0; i < n; i++)
		if (vd_chain_read(d, r, heads[i], write, &c[i]) != 0)
			break;
	return i;
}

/*
 * PREFETCHW: fetch a line the guest owns ready to be written.  DPDK builds
 * for -march=corei7, where __builtin_prefetch(p, 1) becomes a plain read
 * prefetch: the line then arrives shared and the store pays a second trip
 * to take it exclusive.  The real one cut the worker's cost per 64-byte
 * frame by a third here (~450 -> ~320 cycles).  Checked once (CPUID
 * 0x80000001 ECX bit 8), as CPUs without it may not take the opcode.
 */
static bool dp_direct_prefetchw_ok;

static void __attribute__((constructor))
dp_direct_cpu_probe(void)
{
#if defined(__x86_64__)
	unsigned int a, b, c, d;

	if (__get_cpuid(0x80000001, &a, &b, &c, &d))
		dp_direct_prefetchw_ok = (c & (1u << 8)) != 0;
#endif
}

static inline void
dp_direct_prefetchw(const void *p)
{
#if defined(__x86_64__)
	if (dp_direct_prefetchw_ok) {
		asm volatile("prefetchw %0" : : "m"(*(const volatile char *)p));
		return;
	}
#endif
	__builtin_prefetch(p, 1);
}

/* The used entries from index from on, n of them, about to be written. */
static inline void
dp_direct_prefetch_used(const struct vd_ring *r, uint16_t from, uint16_t n)
{
	uint16_t mask = r->size - 1;

	for (uint16_t k = 0; k < n; k += RTE_CACHE_LINE_SIZE / sizeof(r->used->ring[0]))
		dp_direct_prefetchw(&r->used->ring[(uint16_t)(from + k) & mask]);
	dp_direct_prefetchw(&r->used->ring[(uint16_t)(from + n - 1) & mask]);
}

/* The first lines of a frame to be read (header, Ethernet header, start
 * of the payload) or of a buffer to be written. */
static inline void
dp_direct_prefetch(const struct vd_chain *c, bool write)
{
	if (write) {
		dp_direct_prefetchw(c->seg[0].va);
	} else {
		rte_prefetch0(c->seg[0].va);
		rte_prefetch0(c->seg[0].va + RTE_CACHE_LINE_SIZE);
	}
}

/* Hold port p's guest rx ring for direct copies from this worker (want:
 * how many frames may come); false when it must be left to the library
 * path. */
static bool
dp_direct_dst_open(struct dp_worker *w, uint16_t p, uint16_t want,
		   struct dp_direct_dst *dst)
{
	struct dp_port *port = &w->dp->ports[p];
	int16_t k = w->corx_of_port[p];
	uint16_t q, vring, used, posted;
	uint32_t enabled;

	/* A guest not yet reported up (new_device still running) is left
	 * to the library path, as one going down already is. */
	if (port->kind != DP_PORT_VHOST || k < 0 ||
	    atomic_load_explicit(&port->vid, memory_order_acquire) < 0 ||
	    !rte_ring_empty(port->coring))
		return false;
	q = w->corx[k].queue;
	vring = VHOST_VRING_GUEST_RX(q);
	enabled = atomic_load_explicit(&port->vrings_enabled,
				       memory_order_acquire);
	/* Queue 0 also takes the frames of readers whose own queue is
	 * disabled (dp_vhost_deliver), through the library. */
	if (!(enabled & (1u << vring)) || (q == 0 && port->n_readers > 1))
		return false;
	if (!vhost_direct_acquire(&port->direct, vring))
		return false;
	dst->d = &port->direct;
	if (rte_vhost_get_vring_base(dst->d->vid, vring, &dst->last_avail,
				     &used) != 0) {
		vhost_direct_release(dst->d, vring);
		return false;
	}
	dst->r = &dst->d->ring[vring];
	dst->last_used = used;
	posted = (uint16_t)(__atomic_load_n(&dst->r->avail->idx,
					    __ATOMIC_ACQUIRE) - dst->last_avail);
	if (posted > dst->r->size) {
		/* A guest that lies about its ring: the library's business. */
		vhost_direct_release(dst->d, vring);
		return false;
	}
	dst->n_ready = dp_direct_read_ahead(dst->d, dst->r, dst->last_avail,
					    RTE_MIN(posted, want), true, dst->dc);
	for (uint16_t j = 0; j < RTE_MIN(dst->n_ready, DP_DIRECT_PF_AHEAD); j++)
		dp_direct_prefetch(&dst->dc[j], true);
	if (dst->n_ready > 0)
		dp_direct_prefetch_used(dst->r, dst->last_used, dst->n_ready);
	dst->gro = (atomic_load_explicit(&port->caps, memory_order_relaxed) &
		    (TOE_CAP_TSO4 | TOE_CAP_TSO6)) != 0;
	dst->port = p;
	dst->vring = vring;
	dst->moved = 0;
	return true;
}

/*
 * Copy one frame (chain sc, header hdr_len) into dst, its Ethernet header
 * from eth: the checked copy, as the guest may rewrite its buffer while
 * we read it.  False, with nothing written, when dst has no receive
 * buffer that holds it.
 */
static bool
dp_direct_put(struct dp_direct_dst *dst, const struct vd_chain *sc,
	      uint16_t hdr_len, uint32_t frame_len, uint8_t *eth)
{
	const struct vd_chain ec = { .n = 1, .len = ETH_HDR_LEN,
				     .seg = { { eth, ETH_HDR_LEN } } };
	uint16_t dhdr = dst->d->hdr_len;
	struct vd_chain *dc;

	/* None posted (or read ahead): the library path retries, then
	 * counts the drop. */
	if (dst->moved == dst->n_ready)
		return false;
	dc = &dst->dc[dst->moved];
	if (dc->seg[0].len < dhdr || dc->len - dhdr < frame_len)
		return false;
	if (dst->moved + DP_DIRECT_PF_AHEAD < dst->n_ready)
		dp_direct_prefetch(&dst->dc[dst->moved + DP_DIRECT_PF_AHEAD], true);
	/* No offload claims; one buffer (num_buffers is there from
	 * VERSION_1 or MRG_RXBUF on, and is 1 either way). */
	if (dhdr == sizeof(struct virtio_net_hdr_mrg_rxbuf)) {
		static const struct virtio_net_hdr_mrg_rxbuf one = {
			.num_buffers = 1,
		};

		memcpy(dc->seg[0].va, &one, sizeof(one));
	} else {
		static const struct virtio_net_hdr none;

		memcpy(dc->seg[0].va, &none, sizeof(none));
	}
	vd_chain_copy(dc, dhdr, &ec, 0, ETH_HDR_LEN);
	vd_chain_copy(dc, dhdr + ETH_HDR_LEN, sc, hdr_len + ETH_HDR_LEN,
		      frame_len - ETH_HDR_LEN);
	dst->r->used->ring[dst->last_used & (dst->r->size - 1)] =
		(struct vring_used_elem){ .id = dc->head, .len = dhdr + frame_len };
	dst->last_used++;
	dst->last_avail++;
	dst->moved++;
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

/* The Ethernet header of chain c after hdr_len bytes of virtio-net
 * header, if it is whole in one buffer; its room in *room. */
static const uint8_t *
dp_direct_eth(const struct vd_chain *c, uint16_t hdr_len, uint32_t *room)
{
	if (c->seg[0].len > hdr_len) {
		*room = c->seg[0].len - hdr_len;
		return c->seg[0].va + hdr_len;
	}
	if (c->seg[0].len == hdr_len && c->n > 1) {
		*room = c->seg[1].len;
		return c->seg[1].va;
	}
	*room = 0;
	return NULL;
}

uint16_t
dp_direct_rx(struct dp_worker *w, uint16_t in, uint16_t q, uint16_t max,
	     const struct fwd_ctx *fctx, bool *rest)
{
	struct dp *dp = w->dp;
	struct dp_port *src = &dp->ports[in];
	struct vhost_direct *sd = &src->direct;
	struct dp_port_stats *st = &w->stats[in];
	/* Not zeroed: only what is written is read (4 KB each burst). */
	struct dp_direct_dst dst;
	struct dp_direct_calls calls;
	uint16_t vring = VHOST_VRING_GUEST_TX(q), s_avail, s_used, avail_idx;
	uint16_t n, n_ok, i = 0, dport = DP_PORTS_MAX;
	struct vd_chain sc[DP_BURST];
	const struct vd_ring *sr;
	uint8_t eth[DP_DIRECT_PEEK], last_hdr[12];
	bool last_valid = false;

	dst.port = DP_PORTS_MAX;
	calls.n = 0;
	*rest = true;
	if (atomic_load_explicit(&src->vid, memory_order_acquire) < 0 ||
	    !(atomic_load_explicit(&src->vrings_enabled, memory_order_acquire) &
	      (1u << vring)))
		return 0;
	if (!vhost_direct_acquire(sd, vring))
		return 0;
	if (rte_vhost_get_vring_base(sd->vid, vring, &s_avail, &s_used) != 0)
		goto out;
	sr = &sd->ring[vring];
	avail_idx = __atomic_load_n(&sr->avail->idx, __ATOMIC_ACQUIRE);
	n = (uint16_t)(avail_idx - s_avail);
	if (n == 0 || max == 0) {
		*rest = false;
		goto out;
	}
	if (n > sr->size)
		goto out;       /* the library deals with a lying guest */
	n = RTE_MIN(n, RTE_MIN(max, (uint16_t)DP_BURST));
	n_ok = dp_direct_read_ahead(sd, sr, s_avail, n, false, sc);
	for (uint16_t j = 0; j < RTE_MIN(n_ok, DP_DIRECT_PF_AHEAD); j++)
		dp_direct_prefetch(&sc[j], false);
	if (n_ok > 0)
		dp_direct_prefetch_used(sr, s_used, n_ok);

	for (; i < n_ok; i++) {
		uint16_t hdr_len = sd->hdr_len;
		const struct virtio_net_hdr *vh;
		const uint8_t *geth;
		uint32_t room, frame_len, peek;

		if (i + DP_DIRECT_PF_AHEAD < n_ok)
			dp_direct_prefetch(&sc[i + DP_DIRECT_PF_AHEAD], false);
		if (sc[i].seg[0].len < hdr_len)
			break;
		vh = (const struct virtio_net_hdr *)sc[i].seg[0].va;
		if (vh->flags != 0 || vh->gso_type != VIRTIO_NET_HDR_GSO_NONE)
			break;  /* offload claims: validated on the library path */
		frame_len = sc[i].len - hdr_len;
		geth = dp_direct_eth(&sc[i], hdr_len, &room);
		if (geth == NULL || room < ETH_HDR_LEN || frame_len < ETH_HDR_LEN)
			break;
		/* Decide on, and deliver, one private read of the header. */
		peek = RTE_MIN(room, (uint32_t)DP_DIRECT_PEEK);
		memcpy(eth, geth, peek);
		/* Same two MACs as the frame before: same decision (as in
		 * dp_forward). */
		if (!(last_valid && memcmp(eth, last_hdr, sizeof(last_hdr)) == 0)) {
			uint16_t dsts[DP_PORTS_MAX];
			enum dp_drop reason = DP_DROP_MAX;

			if (fwd_decide(fctx, in, eth, ETH_HDR_LEN, dsts,
				       &reason) != 1)
				break;
			dport = dsts[0];
			/* fwd_decide never returns the source (same_port);
			 * the rings' locks no longer stop it if it did. */
			if (dport == in)
				break;
			memcpy(last_hdr, eth, sizeof(last_hdr));
			last_valid = true;
		}
		if (dst.port != dport) {
			dp_direct_dst_close(&dst, &calls);
			if (!dp_direct_dst_open(w, dport, n_ok - i, &dst))
				break;
		}
		if (dst.gro && dp_direct_maybe_tcp(eth, peek, frame_len))
			break;
		if (!dp_direct_put(&dst, &sc[i], hdr_len, frame_len, eth))
			break;
		sr->used->ring[(uint16_t)(s_used + i) & (sr->size - 1)] =
			(struct vring_used_elem){ .id = sc[i].head, .len = 0 };
		st->rx_bytes += frame_len;
		w->stats[dport].tx_packets++;
		w->stats[dport].tx_bytes += frame_len;
	}
	dp_direct_dst_close(&dst, &calls);
	if (i > 0) {
		s_avail += i;
		s_used += i;
		__atomic_store_n(&sr->used->idx, s_used, __ATOMIC_RELEASE);
		rte_vhost_set_vring_base(sd->vid, vring, s_avail, s_used);
		calls.c[calls.n].vid = sd->vid;
		calls.c[calls.n].vring = vring;
		calls.n++;
		st->rx_packets += i;
		st->direct_packets += i;
	}
	/* Stopped early: what is left is the library path's. */
	*rest = i < n;
out:
	vhost_direct_release(sd, vring);
	for (uint16_t c = 0; c < calls.n; c++)
		rte_vhost_vring_call(calls.c[c].vid, calls.c[c].vring);
	return i;
}
