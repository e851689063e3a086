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
/* Receive chains held at once: a 64 KB frame in 1518-byte mergeable
 * buffers (the smallest Linux posts) takes 44. */
#define DP_DIRECT_DST_CHAINS 64
/* Frames up to this size go direct even to a guest that takes
 * super-frames: TCP ACKs, which GRO would not merge anyway. */
#define DP_DIRECT_SMALL 128
/* Frames ahead whose buffers are prefetched: enough to cover a miss to
 * the other CPU's cache, few enough that the CPU does not drop the
 * prefetches (a whole burst's worth would overflow its miss buffers). */
#define DP_DIRECT_PF_AHEAD 4

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

/* The receiving ring held during a burst, and the receive buffers read
 * ahead of use (descriptors walked, buffers prefetched). */
struct dp_direct_dst {
	uint16_t port;          /* DP_PORTS_MAX while none is held */
	uint16_t vring;
	struct vhost_direct *d;
	const struct vd_ring *r;
	uint16_t last_avail;    /* avail index of dc[pos] */
	uint16_t last_used;
	uint16_t moved;         /* chains filled while held */
	uint16_t pos;           /* next chain of dc[] to fill */
	uint16_t n_ready;       /* chains read into dc[] */
	uint32_t caps;          /* TOE_CAP_* the guest negotiated */
	bool gro;               /* the guest takes TCP super-frames: its TCP
				 * segments go through GRO, not direct */
	struct vd_chain dc[DP_DIRECT_DST_CHAINS];
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
		vd_used_publish(dst->d, dst->r, dst->moved, dst->last_used);
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
	int16_t k = w->pl->corx_of_port[p];
	uint16_t q, vring, used, posted;
	uint32_t enabled;

	/* A guest not yet reported up (new_device still running) is left
	 * to the library path, as one going down already is. */
	if (port->kind != DP_PORT_VHOST || k < 0 ||
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
	dst->caps = atomic_load_explicit(&port->caps, memory_order_relaxed);
	dst->gro = (dst->caps & (TOE_CAP_TSO4 | TOE_CAP_TSO6)) != 0;
	dst->port = p;
	dst->vring = vring;
	dst->moved = 0;
	dst->pos = 0;
	return true;
}

/*
 * Read more of the receive chains the guest posted into dst->dc (the
 * used ones dropped from the front).  False when none more could be read.
 */
static bool
dp_direct_dst_more(struct dp_direct_dst *dst)
{
	uint16_t left = dst->n_ready - dst->pos, posted, got;

	if (dst->pos > 0) {
		memmove(dst->dc, dst->dc + dst->pos, left * sizeof(dst->dc[0]));
		dst->n_ready = left;
		dst->pos = 0;
	}
	posted = (uint16_t)(__atomic_load_n(&dst->r->avail->idx,
					    __ATOMIC_ACQUIRE) - dst->last_avail);
	if (posted > dst->r->size || posted <= left ||
	    dst->n_ready == DP_DIRECT_DST_CHAINS)
		return false;
	got = dp_direct_read_ahead(dst->d, dst->r,
				   (uint16_t)(dst->last_avail + left),
				   RTE_MIN((uint16_t)(posted - left),
					   RTE_MIN(DP_DIRECT_DST_CHAINS - dst->n_ready,
						   DP_BURST)),
				   true, dst->dc + dst->n_ready);
	dst->n_ready += got;
	return got > 0;
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
	if (dst->pos == dst->n_ready)
		return false;
	dc = &dst->dc[dst->pos];
	if (dc->seg[0].len < dhdr || dc->len - dhdr < frame_len)
		return false;
	if (dst->pos + DP_DIRECT_PF_AHEAD < dst->n_ready)
		dp_direct_prefetch(&dst->dc[dst->pos + DP_DIRECT_PF_AHEAD], true);
	/* No offload claims; one buffer (num_buffers is there from
	 * VERSION_1 or MRG_RXBUF on, and is 1 either way). */
	if (dhdr == sizeof(struct virtio_net_hdr_mrg_rxbuf)) {
		static const struct virtio_net_hdr_mrg_rxbuf one = {
			.num_buffers = 1,
		};

		vd_hdr_write(dst->d, dc, &one, sizeof(one));
	} else {
		static const struct virtio_net_hdr none;

		vd_hdr_write(dst->d, dc, &none, sizeof(none));
	}
	vd_chain_put(dst->d, dc, dhdr, &ec, 0, ETH_HDR_LEN);
	vd_chain_put(dst->d, dc, dhdr + ETH_HDR_LEN, sc, hdr_len + ETH_HDR_LEN,
		     frame_len - ETH_HDR_LEN);
	vd_used_write(dst->r, dst->last_used, dc->head, dhdr + frame_len);
	dst->last_used++;
	dst->last_avail++;
	dst->pos++;
	dst->moved++;
	return true;
}

/*
 * src := the pre_len bytes at pre, then chain c from byte off on.  c has
 * at most VD_SEGS_MAX segments, so src has room for them and pre.
 */
static void
dp_direct_src(struct vd_chain *src, uint8_t *pre, uint32_t pre_len,
	      const struct vd_chain *c, uint32_t off)
{
	uint16_t n = 0, i;
	uint32_t o;

	src->len = 0;
	if (pre_len > 0) {
		src->seg[n++] = (struct vd_seg){ pre, pre_len };
		src->len = pre_len;
	}
	vd_seek(c, off, &i, &o);
	for (; i < c->n; i++, o = 0) {
		src->seg[n++] = (struct vd_seg){ c->seg[i].va + o,
						 c->seg[i].len - o };
		src->len += c->seg[i].len - o;
	}
	src->n = n;
}

/*
 * Copy a frame with offload metadata (chain sc after hdr_len bytes of
 * virtio-net header; its first pre_len bytes from the private copy pre,
 * which were checked) into dst, under the header vh, across as many
 * receive buffers as it takes when the guest merges them.  False, with
 * nothing written, when dst has no room for it.
 */
static bool
dp_direct_put_ol(struct dp_direct_dst *dst, const struct vd_chain *sc,
		 uint16_t hdr_len, uint32_t frame_len, uint8_t *pre,
		 uint32_t pre_len, const struct virtio_net_hdr *vh)
{
	struct virtio_net_hdr_mrg_rxbuf h = { .hdr = *vh };
	uint16_t dhdr = dst->d->hdr_len, k = 0;
	uint32_t need = dhdr + frame_len, have = 0, off = 0;
	struct vd_chain src;

	do {
		const struct vd_chain *dc;

		if (k > 0 && !dst->d->mrg_rxbuf)
			return false;
		if (dst->pos + k == dst->n_ready && !dp_direct_dst_more(dst))
			return false;
		dc = &dst->dc[dst->pos + k];
		if (k == 0 && dc->seg[0].len < dhdr)
			return false;
		have += dc->len;
		k++;
	} while (have < need);
	h.num_buffers = k;
	vd_hdr_write(dst->d, &dst->dc[dst->pos], &h, dhdr);
	dp_direct_src(&src, pre, pre_len, sc, hdr_len + pre_len);
	for (uint16_t j = 0; j < k; j++) {
		struct vd_chain *dc = &dst->dc[dst->pos + j];
		uint32_t doff = j == 0 ? dhdr : 0;
		uint32_t take = RTE_MIN(frame_len - off, dc->len - doff);

		vd_chain_put(dst->d, dc, doff, &src, off, take);
		off += take;
		vd_used_write(dst->r, dst->last_used, dc->head, doff + take);
		dst->last_used++;
	}
	dst->last_avail += k;
	dst->pos += k;
	dst->moved += k;
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

/* len bytes of chain c from byte off on, into buf (c holds them). */
static void
dp_direct_gather(const struct vd_chain *c, uint32_t off, uint8_t *buf,
		 uint32_t len)
{
	uint16_t i;
	uint32_t o;

	vd_seek(c, off, &i, &o);
	for (; i < c->n && len > 0; i++, o = 0) {
		uint32_t take = RTE_MIN(len, c->seg[i].len - o);

		memcpy(buf, c->seg[i].va + o, take);
		buf += take;
		len -= take;
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
	/* Not zeroed: only what is written is read (the receive chains alone
	 * are 22 KB). */
	struct dp_direct_dst dst;
	struct dp_direct_calls calls;
	uint16_t vring = VHOST_VRING_GUEST_TX(q), s_avail, s_used, avail_idx;
	uint16_t n, n_ok, i = 0, dport = DP_PORTS_MAX;
	struct vd_chain sc[DP_BURST];
	const struct vd_ring *sr;
	uint8_t eth[DP_DIRECT_PEEK], last_hdr[12], ohdr[TOE_HDR_MAX];
	bool last_valid = false;
	uint32_t n_ol = 0, n_lies = 0;
	/* Unless the walk stops on a frame, it ends at one it could not
	 * read (n_ok < n). */
	enum dp_direct_stop why = DP_DIRECT_STOP_CHAIN;

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

	/* Where the walk stops, and why (counted below). */
#define DS_STOP(r) { why = DP_DIRECT_STOP_##r; break; }
	for (; i < n_ok; i++) {
		uint16_t hdr_len = sd->hdr_len;
		const struct virtio_net_hdr *vh;
		struct virtio_net_hdr ovh;
		const uint8_t *geth, *hdr = eth;
		uint32_t room, frame_len, peek, needs = 0;
		bool ol, super = false;

		if (i + DP_DIRECT_PF_AHEAD < n_ok)
			dp_direct_prefetch(&sc[i + DP_DIRECT_PF_AHEAD], false);
		if (sc[i].seg[0].len < hdr_len)
			DS_STOP(HEADER);
		vh = (const struct virtio_net_hdr *)sc[i].seg[0].va;
		frame_len = sc[i].len - hdr_len;
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
			dp_direct_gather(&sc[i], hdr_len, ohdr, peek);
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
				n_lies++;
				vd_used_write(sr, (uint16_t)(s_used + i),
					      sc[i].head, 0);
				continue;
			}
			if (!pass)
				DS_STOP(OFFLOAD);   /* true, but needs the TOE's work */
			super = ovh.gso_type != VIRTIO_NET_HDR_GSO_NONE;
			hdr = ohdr;
		} else {
			geth = dp_direct_eth(&sc[i], hdr_len, &room);
			if (geth == NULL || room < ETH_HDR_LEN ||
			    frame_len < ETH_HDR_LEN)
				DS_STOP(HEADER);
			/* Decide on, and deliver, one private read of the
			 * header. */
			peek = RTE_MIN(room, (uint32_t)DP_DIRECT_PEEK);
			memcpy(eth, geth, peek);
		}
		/* Same two MACs as the frame before: same decision (as in
		 * dp_forward). */
		if (!(last_valid && memcmp(hdr, last_hdr, sizeof(last_hdr)) == 0)) {
			uint16_t dsts[DP_PORTS_MAX];
			enum dp_drop reason = DP_DROP_MAX;

			if (fwd_decide(fctx, in, hdr, ETH_HDR_LEN, dsts,
				       &reason) != 1)
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
			if (!dp_direct_dst_open(w, dport, n_ok - i, &dst))
				DS_STOP(RECEIVER);
		}
		/* Offloads the receiver lacks are done in software there. */
		if ((dst.caps & needs) != needs)
			DS_STOP(CAPS);
		if (dst.gro && !super &&
		    frame_len > DP_DIRECT_SMALL &&
		    dp_direct_maybe_tcp(hdr, peek, frame_len))
			DS_STOP(GRO);
		if (ol ? !dp_direct_put_ol(&dst, &sc[i], hdr_len, frame_len,
					   ohdr, peek, &ovh) :
			 !dp_direct_put(&dst, &sc[i], hdr_len, frame_len, eth))
			DS_STOP(FULL);
		vd_used_write(sr, (uint16_t)(s_used + i), sc[i].head, 0);
		n_ol += ol;
		st->rx_bytes += frame_len;
		w->stats[dport].tx_packets++;
		w->stats[dport].tx_bytes += frame_len;
	}
#undef DS_STOP
	dp_direct_dst_close(&dst, &calls);
	if (i > 0) {
		s_avail += i;
		s_used += i;
		vd_used_publish(sd, sr, i, s_used);
		rte_vhost_set_vring_base(sd->vid, vring, s_avail, s_used);
		calls.c[calls.n].vid = sd->vid;
		calls.c[calls.n].vring = vring;
		calls.n++;
		st->rx_packets += i;
		st->direct_packets += i - n_lies;
		if (n_ol > 0)
			toe_count_passed(w->toe[in], n_ol);
	}
	/* Stopped early: what is left is the library path's. */
	*rest = i < n;
	if (i < n)
		st->direct_stops[why]++;
out:
	vhost_direct_release(sd, vring);
	for (uint16_t c = 0; c < calls.n; c++)
		rte_vhost_vring_call(calls.c[c].vid, calls.c[c].vring);
	return i;
}
