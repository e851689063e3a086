/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Bounded access to mbuf chains for the offload layer: the one check that
 * a chain's lengths add up (toe_mbuf_chain_ok), then reads, writes and
 * copies by frame offset that never step past the data or off the chain.
 * Everything else in src/toe_stack/ reads frame bytes through here.
 */
#include "toe_priv.h"

#include <string.h>

#include <rte_mbuf.h>

bool
toe_mbuf_chain_ok(const struct rte_mbuf *m)
{
	const struct rte_mbuf *seg;
	uint32_t size = 0;
	uint32_t segs = 0;

	/*
	 * The lie: pkt_len or nb_segs disagreeing with the segments, or a
	 * data_len past the end of its buffer, so that a walk by any one of
	 * them reads past the data.  The loop stops after nb_segs + 1 steps
	 * even on a chain that loops back on itself.
	 */
	for (seg = m; seg != NULL; seg = seg->next) {
		if (++segs > m->nb_segs)
			return false;
		if ((uint32_t)seg->data_off + seg->data_len > seg->buf_len)
			return false;
		size += seg->data_len;
	}
	return segs == m->nb_segs && size == m->pkt_len;
}

bool
toe_mbuf_writable(const struct rte_mbuf *m)
{
	for (const struct rte_mbuf *seg = m; seg != NULL; seg = seg->next) {
		if (rte_mbuf_refcnt_read(seg) != 1 || RTE_MBUF_CLONED(seg))
			return false;
		if (RTE_MBUF_HAS_EXTBUF(seg) &&
		    rte_mbuf_ext_refcnt_read(seg->shinfo) != 1)
			return false;
	}
	return true;
}

/* The segment holding frame offset *off, with *off made relative to it. */
static const struct rte_mbuf *
seg_at(const struct rte_mbuf *m, uint32_t *off)
{
	const struct rte_mbuf *seg = m;

	while (seg != NULL && *off >= seg->data_len) {
		*off -= seg->data_len;
		seg = seg->next;
	}
	return seg;
}

int
toe_mbuf_read(const struct rte_mbuf *m, uint32_t off, uint32_t len, void *buf)
{
	uint8_t *dst = buf;
	const struct rte_mbuf *seg;

	if ((uint64_t)off + len > m->pkt_len)
		return -1;
	seg = seg_at(m, &off);
	while (len > 0) {
		uint32_t chunk;

		if (seg == NULL)
			return -1;
		chunk = RTE_MIN(len, (uint32_t)seg->data_len - off);
		memcpy(dst, rte_pktmbuf_mtod_offset(seg, const uint8_t *, off),
		       chunk);
		dst += chunk;
		len -= chunk;
		off = 0;
		seg = seg->next;
	}
	return 0;
}

int
toe_mbuf_write(struct rte_mbuf *m, uint32_t off, const void *buf, uint32_t len)
{
	const uint8_t *src = buf;
	struct rte_mbuf *seg;

	if ((uint64_t)off + len > m->pkt_len)
		return -1;
	for (seg = m; seg != NULL && off >= seg->data_len; seg = seg->next)
		off -= seg->data_len;
	while (len > 0) {
		uint32_t chunk;

		if (seg == NULL)
			return -1;
		chunk = RTE_MIN(len, (uint32_t)seg->data_len - off);
		memcpy(rte_pktmbuf_mtod_offset(seg, uint8_t *, off), src, chunk);
		src += chunk;
		len -= chunk;
		off = 0;
		seg = seg->next;
	}
	return 0;
}

/*
 * Copy [off, off + len) of src to the end of the chain head, whose last
 * mbuf is *last: fill its tailroom, then chain new mbufs from pool.  On
 * -ENOMEM the mbufs already chained stay in head (the caller frees head).
 */
int
toe_mbuf_append(struct rte_mbuf *head, struct rte_mbuf **last,
		struct rte_mempool *pool, const struct rte_mbuf *src,
		uint32_t off, uint32_t len)
{
	const struct rte_mbuf *seg;

	if ((uint64_t)off + len > src->pkt_len)
		return -EINVAL;
	seg = seg_at(src, &off);
	while (len > 0) {
		struct rte_mbuf *dst = *last;
		uint32_t chunk;

		if (seg == NULL)
			return -EINVAL;
		if (rte_pktmbuf_tailroom(dst) == 0) {
			dst = rte_pktmbuf_alloc(pool);
			if (dst == NULL)
				return -ENOMEM;
			(*last)->next = dst;
			head->nb_segs++;
			*last = dst;
		}
		chunk = RTE_MIN(len, (uint32_t)seg->data_len - off);
		chunk = RTE_MIN(chunk, (uint32_t)rte_pktmbuf_tailroom(dst));
		memcpy(rte_pktmbuf_mtod_offset(dst, uint8_t *, dst->data_len),
		       rte_pktmbuf_mtod_offset(seg, const uint8_t *, off),
		       chunk);
		dst->data_len += chunk;
		head->pkt_len += chunk;
		len -= chunk;
		off += chunk;
		if (off == seg->data_len) {
			off = 0;
			seg = seg->next;
		}
	}
	return 0;
}

struct rte_mbuf *
toe_mbuf_unshare(struct toe_ctx *ctx, struct rte_mbuf *m)
{
	struct rte_mbuf *copy;

	if (toe_mbuf_writable(m))
		return m;
	/* Another destination still reads m: change a copy, let go of m. */
	copy = rte_pktmbuf_copy(m, ctx->pool, 0, UINT32_MAX);
	if (copy == NULL)
		return NULL;
	rte_pktmbuf_free(m);
	return copy;
}
