/* SPDX-License-Identifier: BSD-3-Clause */
/* The direct path's bursts on guests' split virtqueues (see vhost_burst.h). */
#include "vhost_burst.h"

#include <string.h>

#include <rte_vhost.h>

/* The used entries from index from on, n > 0 of them, about to be
 * written. */
static void
vb_prefetch_used(const struct vd_ring *r, uint16_t from, uint16_t n)
{
	uint16_t mask = r->size - 1;

	for (uint16_t k = 0; k < n; k += RTE_CACHE_LINE_SIZE / sizeof(r->used->ring[0]))
		cpu_prefetchw(&r->used->ring[(uint16_t)(from + k) & mask]);
	cpu_prefetchw(&r->used->ring[(uint16_t)(from + n - 1) & mask]);
}

/*
 * Walk the n chains posted in ring r from avail index from into c[],
 * their descriptors prefetched first: the guest wrote them on another
 * CPU, and waiting for each miss in turn is what a one-by-one walk costs.
 * Returns how many chains are usable (up to the first that is not).
 */
static uint16_t
vb_read_ahead(const struct vhost_direct *d, const struct vd_ring *r,
	      uint16_t from, uint16_t n, bool write, struct vd_chain *c)
{
	uint16_t mask = r->size - 1, heads[VB_BURST], i;

	for (i = 0; i < n; i++) {
		heads[i] = r->avail->ring[(uint16_t)(from + i) & mask];
		rte_prefetch0(&r->desc[heads[i] & mask]);
	}
	for (i = 0; i < n; i++)
		if (vd_chain_read(d, r, heads[i], write, &c[i]) != 0)
			break;
	return i;
}

/* Chains posted in r after avail index last; more than the ring holds
 * is a lie. */
static inline uint16_t
vb_posted(const struct vd_ring *r, uint16_t last)
{
	return (uint16_t)(__atomic_load_n(&r->avail->idx, __ATOMIC_ACQUIRE) -
			  last);
}

static void
vb_owe(struct vb_calls *calls, int vid, uint16_t vring)
{
	calls->c[calls->n].vid = vid;
	calls->c[calls->n].vring = vring;
	calls->n++;
}

int
vb_tx_open(struct vb_tx *t, struct vhost_direct *d, uint16_t v, uint16_t max)
{
	uint16_t posted;

	if (!vhost_direct_acquire(d, v))
		return -1;
	if (rte_vhost_get_vring_base(d->vid, v, &t->avail, &t->used) != 0)
		goto refuse;
	t->r = &d->ring[v];
	posted = vb_posted(t->r, t->avail);
	if (posted > t->r->size)
		goto refuse;
	if (posted == 0 || max == 0) {
		vhost_direct_release(d, v);
		return 0;
	}
	t->d = d;
	t->vring = v;
	t->posted = RTE_MIN(posted, RTE_MIN(max, (uint16_t)VB_BURST));
	t->n = vb_read_ahead(d, t->r, t->avail, t->posted, false, t->c);
	for (uint16_t j = 0; j < RTE_MIN(t->n, VB_PF_AHEAD); j++)
		vb_prefetch_chain(&t->c[j], false);
	if (t->n > 0)
		vb_prefetch_used(t->r, t->used, t->n);
	return 1;
refuse:
	vhost_direct_release(d, v);
	return -1;
}

void
vb_tx_close(struct vb_tx *t, uint16_t n, struct vb_calls *calls)
{
	if (n > 0) {
		t->avail += n;
		t->used += n;
		vd_used_publish(t->d, t->r, n, t->used);
		rte_vhost_set_vring_base(t->d->vid, t->vring, t->avail, t->used);
		vb_owe(calls, t->d->vid, t->vring);
	}
	vhost_direct_release(t->d, t->vring);
}

bool
vb_rx_open(struct vb_rx *q, struct vhost_direct *d, uint16_t v, uint16_t want)
{
	uint16_t posted;

	if (!vhost_direct_acquire(d, v))
		return false;
	if (rte_vhost_get_vring_base(d->vid, v, &q->last_avail,
				     &q->last_used) != 0)
		goto refuse;
	q->r = &d->ring[v];
	posted = vb_posted(q->r, q->last_avail);
	if (posted > q->r->size)
		goto refuse;    /* a guest that lies: the library's business */
	q->d = d;
	q->vring = v;
	q->n_ready = vb_read_ahead(d, q->r, q->last_avail,
				   RTE_MIN(posted, RTE_MIN(want, (uint16_t)VB_BURST)),
				   true, q->dc);
	for (uint16_t j = 0; j < RTE_MIN(q->n_ready, VB_PF_AHEAD); j++)
		vb_prefetch_chain(&q->dc[j], true);
	if (q->n_ready > 0)
		vb_prefetch_used(q->r, q->last_used, q->n_ready);
	q->moved = 0;
	q->pos = 0;
	return true;
refuse:
	vhost_direct_release(d, v);
	return false;
}

void
vb_rx_close(struct vb_rx *q, struct vb_calls *calls)
{
	if (q->moved > 0) {
		/* The copies and used entries before the index.  (Writing the
		 * used entries as each frame is copied measured faster here
		 * than gathering them for one pass at the end.) */
		vd_used_publish(q->d, q->r, q->moved, q->last_used);
		rte_vhost_set_vring_base(q->d->vid, q->vring, q->last_avail,
					 q->last_used);
		vb_owe(calls, q->d->vid, q->vring);
	}
	vhost_direct_release(q->d, q->vring);
}

void
vb_calls_flush(struct vb_calls *calls)
{
	for (uint16_t c = 0; c < calls->n; c++)
		rte_vhost_vring_call(calls->c[c].vid, calls->c[c].vring);
	calls->n = 0;
}

/*
 * Read more of the receive chains the guest posted into q->dc (the used
 * ones dropped from the front).  False when none more could be read.
 */
static bool
vb_rx_more(struct vb_rx *q)
{
	uint16_t left = q->n_ready - q->pos, posted, got;

	if (q->pos > 0) {
		memmove(q->dc, q->dc + q->pos, left * sizeof(q->dc[0]));
		q->n_ready = left;
		q->pos = 0;
	}
	posted = vb_posted(q->r, q->last_avail);
	if (posted > q->r->size || posted <= left ||
	    q->n_ready == VB_RX_CHAINS)
		return false;
	got = vb_read_ahead(q->d, q->r, (uint16_t)(q->last_avail + left),
			    RTE_MIN((uint16_t)(posted - left),
				    RTE_MIN(VB_RX_CHAINS - q->n_ready, VB_BURST)),
			    true, q->dc + q->n_ready);
	q->n_ready += got;
	return got > 0;
}

/*
 * src := the pre_len bytes at pre, then chain c from byte off on.  c has
 * at most VD_SEGS_MAX segments, so src has room for them and pre.
 */
static void
vb_splice(struct vd_chain *src, const uint8_t *pre, uint32_t pre_len,
	  const struct vd_chain *c, uint32_t off)
{
	uint16_t n = 0, i;
	uint32_t o;

	src->len = 0;
	if (pre_len > 0) {
		src->seg[n++] = (struct vd_seg){ (uint8_t *)(uintptr_t)pre,
						 pre_len };
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

bool
vb_rx_put_hdr(struct vb_rx *q, const struct virtio_net_hdr *vh,
	      const uint8_t *pre, uint32_t pre_len, const struct vd_chain *sc,
	      uint32_t off, uint32_t frame_len)
{
	struct virtio_net_hdr_mrg_rxbuf h = { .hdr = *vh };
	uint16_t dhdr = q->d->hdr_len, k = 0;
	uint32_t need = dhdr + frame_len, have = 0, done = 0;
	struct vd_chain src;

	if (frame_len < pre_len)
		return false;
	do {
		const struct vd_chain *dc;

		if (k > 0 && !q->d->mrg_rxbuf)
			return false;
		if (q->pos + k == q->n_ready && !vb_rx_more(q))
			return false;
		dc = &q->dc[q->pos + k];
		if (k == 0 && dc->seg[0].len < dhdr)
			return false;
		have += dc->len;
		k++;
	} while (have < need);
	h.num_buffers = k;
	vd_hdr_write(q->d, &q->dc[q->pos], &h, dhdr);
	vb_splice(&src, pre, pre_len, sc, off);
	for (uint16_t j = 0; j < k; j++) {
		struct vd_chain *dc = &q->dc[q->pos + j];
		uint32_t doff = j == 0 ? dhdr : 0;
		uint32_t take = RTE_MIN(frame_len - done, dc->len - doff);

		vd_chain_put(q->d, dc, doff, &src, done, take);
		done += take;
		vd_used_write(q->r, q->last_used, dc->head, doff + take);
		q->last_used++;
	}
	q->last_avail += k;
	q->pos += k;
	q->moved += k;
	return true;
}
