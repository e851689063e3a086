/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The direct path's bursts on guests' split virtqueues: all of the vring
 * protocol a worker speaks when it copies frames from one guest's tx ring
 * into another's rx ring itself.  vhost_direct.h keeps the per-guest state
 * and walks descriptors; the caller (the dataplane) only decides which
 * frames go.
 *
 *   vb_tx_open      hold a sender's tx vring, read the chains it posted
 *   vb_rx_open      hold a receiver's rx vring, read its posted buffers
 *   vb_rx_put       copy one frame into the next receive buffer: virtio-net
 *   vb_rx_put_hdr   header, bytes, used entry (several buffers with
 *                   MRG_RXBUF for a frame with offload metadata)
 *   vb_tx_done      the sender's chain i is consumed (copied or dropped)
 *   vb_rx_close     publish used->idx, hand the indices back to the
 *   vb_tx_close     library, owe the guest a notification, release
 *   vb_calls_flush  notify, once no vring is held (the library's
 *                   rte_vhost_vring_call takes its own vring lock)
 *
 * Order: a used entry and the bytes it covers are written before the
 * used->idx store (release) that publishes them; the indices go back to
 * the library (rte_vhost_set_vring_base) before the vring lock is
 * released, so the library's burst calls and the front-end's
 * GET_VRING_BASE carry on exactly from there.  While the front-end logs
 * dirty pages every write above is logged (vhost_direct.h), before the
 * publish.
 */
#ifndef VTOE_VHOST_BURST_H
#define VTOE_VHOST_BURST_H

#include <stdbool.h>
#include <stdint.h>

#include <rte_common.h>
#include <rte_prefetch.h>

#include "cpu/cpu_prefetch.h"
#include "vhost_direct.h"

/* Most chains of a sender taken in one burst. */
#define VB_BURST 32
/* Receive chains held at once: a 64 KB frame in 1518-byte mergeable
 * buffers (the smallest Linux posts) takes 44. */
#define VB_RX_CHAINS 64
/* Frames ahead whose buffers are prefetched: enough to cover a miss to
 * the other CPU's cache, few enough that the CPU does not drop the
 * prefetches (a whole burst's worth would overflow its miss buffers). */
#define VB_PF_AHEAD 4

/* Guest notifications owed by one burst: each receiver held (a receiver
 * may be held again after another), and the sender. */
struct vb_calls {
	uint16_t n;
	struct {
		int vid;
		uint16_t vring;
	} c[VB_BURST + 1];
};

/* A sender's tx vring, held from vb_tx_open to vb_tx_close. */
struct vb_tx {
	struct vhost_direct *d;
	const struct vd_ring *r;
	uint16_t vring;
	uint16_t avail;         /* the library's indices at open */
	uint16_t used;
	uint16_t posted;        /* chains posted, up to the max asked */
	uint16_t n;             /* of them read into c[]: the rest is the
				 * library path's */
	struct vd_chain c[VB_BURST];
};

/* A receiver's rx vring, held from vb_rx_open to vb_rx_close. */
struct vb_rx {
	struct vhost_direct *d;
	const struct vd_ring *r;
	uint16_t vring;
	uint16_t last_avail;    /* avail index of dc[pos] */
	uint16_t last_used;
	uint16_t moved;         /* chains filled while held */
	uint16_t pos;           /* next chain of dc[] to fill */
	uint16_t n_ready;       /* chains read into dc[] */
	struct vd_chain dc[VB_RX_CHAINS];
};

/*
 * Hold tx vring v of d and read up to max (<= VB_BURST) of the chains its
 * guest posted, their descriptors and first lines prefetched.  1: held,
 * t->posted > 0 and t->n of them readable.  0: nothing posted (or max 0).
 * -1: not this burst (the vhost thread holds it, the state is stale, or
 * the guest's avail index lies), for the library path.  Nothing is held
 * unless 1.
 */
int vb_tx_open(struct vb_tx *t, struct vhost_direct *d, uint16_t v,
	       uint16_t max);

/* Chain i of t consumed: its used entry (length 0, nothing written). */
static inline void
vb_tx_done(struct vb_tx *t, uint16_t i)
{
	vd_used_write(t->r, (uint16_t)(t->used + i), t->c[i].head, 0);
}

/* The first n chains (each passed to vb_tx_done) are used: publish them,
 * owe the guest a call when n > 0, release. */
void vb_tx_close(struct vb_tx *t, uint16_t n, struct vb_calls *calls);

/* Hold rx vring v of d for up to want frames; false, holding nothing,
 * when it must be left to the library path. */
bool vb_rx_open(struct vb_rx *q, struct vhost_direct *d, uint16_t v,
		uint16_t want);

/* Publish what was put, owe the guest a call if anything was, release. */
void vb_rx_close(struct vb_rx *q, struct vb_calls *calls);

/* Notify the guests owed a call; calls is empty after. */
void vb_calls_flush(struct vb_calls *calls);

/*
 * The start of the frame in sender chain c, after hdr_len bytes of
 * virtio-net header, when it begins in the first or second buffer; the
 * bytes there in *room.  NULL when the header does not end on or inside
 * the first buffer.
 */
static inline const uint8_t *
vb_frame_head(const struct vd_chain *c, uint16_t hdr_len, uint32_t *room)
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

/* The first lines of a frame to be read (header, Ethernet header, start
 * of the payload) or of a buffer to be written. */
static inline void
vb_prefetch_chain(const struct vd_chain *c, bool write)
{
	if (write) {
		cpu_prefetchw(c->seg[0].va);
	} else {
		rte_prefetch0(c->seg[0].va);
		rte_prefetch0(c->seg[0].va + RTE_CACHE_LINE_SIZE);
	}
}

/* Chain i of t about to be read: prefetch the one VB_PF_AHEAD after it. */
static inline void
vb_tx_prefetch_next(const struct vb_tx *t, uint16_t i)
{
	if (i + VB_PF_AHEAD < t->n)
		vb_prefetch_chain(&t->c[i + VB_PF_AHEAD], false);
}

/*
 * Put one frame of frame_len bytes into q's next receive buffer, under a
 * virtio-net header with no offload claims: its first pre_len bytes from
 * pre (the private copy the caller decided on: the guest may rewrite its
 * buffer while we read it), the rest from chain sc at byte off.  False,
 * with nothing written, when q has no receive buffer (read ahead) that
 * holds the frame whole.
 */
static inline bool
vb_rx_put(struct vb_rx *q, const uint8_t *pre, uint32_t pre_len,
	  const struct vd_chain *sc, uint32_t off, uint32_t frame_len)
{
	uint16_t dhdr = q->d->hdr_len;
	struct vd_chain *dc;

	if (q->pos == q->n_ready)
		return false;
	dc = &q->dc[q->pos];
	if (dc->seg[0].len < dhdr || dc->len - dhdr < frame_len ||
	    frame_len < pre_len)
		return false;
	if (q->pos + VB_PF_AHEAD < q->n_ready)
		vb_prefetch_chain(&q->dc[q->pos + VB_PF_AHEAD], true);
	/* No offload claims; one buffer (num_buffers is there from
	 * VERSION_1 or MRG_RXBUF on, and is 1 either way). */
	if (dhdr == sizeof(struct virtio_net_hdr_mrg_rxbuf)) {
		static const struct virtio_net_hdr_mrg_rxbuf one = {
			.num_buffers = 1,
		};

		vd_hdr_write(q->d, dc, &one, sizeof(one));
	} else {
		static const struct virtio_net_hdr none;

		vd_hdr_write(q->d, dc, &none, sizeof(none));
	}
	vd_chain_write(q->d, dc, dhdr, pre, pre_len);
	vd_chain_put(q->d, dc, dhdr + pre_len, sc, off, frame_len - pre_len);
	vd_used_write(q->r, q->last_used, dc->head, dhdr + frame_len);
	q->last_used++;
	q->last_avail++;
	q->pos++;
	q->moved++;
	return true;
}

/*
 * As vb_rx_put, under header vh (offload claims the caller checked), and
 * across as many receive buffers as it takes when the guest merges them
 * (reading more of the posted ones when needed).
 */
bool vb_rx_put_hdr(struct vb_rx *q, const struct virtio_net_hdr *vh,
		   const uint8_t *pre, uint32_t pre_len,
		   const struct vd_chain *sc, uint32_t off, uint32_t frame_len);

#endif /* VTOE_VHOST_BURST_H */
