/* SPDX-License-Identifier: BSD-3-Clause */
/* Direct vring access: state kept in step with the library, and the
 * descriptor walk and copy (see vhost_direct.h). */
#include "vhost_direct.h"

#include <stdlib.h>
#include <string.h>

#include <linux/vhost_types.h>
#include <rte_common.h>
#include <rte_memcpy.h>

/* Features under which the direct path steps aside. */
#define VD_FEATURES_NOT_DIRECT ( \
	1ULL << VIRTIO_F_IOMMU_PLATFORM | 1ULL << VIRTIO_F_RING_PACKED)
/* The dirty log's page (vhost-user: one bit per 4 KiB). */
#define VD_LOG_PAGE 4096

void
vhost_direct_init(struct vhost_direct *d)
{
	memset(d, 0, sizeof(*d));
	for (unsigned int v = 0; v < RTE_DIM(d->lock); v++)
		atomic_init(&d->lock[v].held, 0);
	d->vid = -1;
	d->running_vid = -1;
}

static void
vd_lock_all(struct vhost_direct *d)
{
	for (unsigned int v = 0; v < RTE_DIM(d->lock); v++)
		vd_lock(&d->lock[v]);
}

static void
vd_unlock_all(struct vhost_direct *d)
{
	for (unsigned int v = RTE_DIM(d->lock); v-- > 0;)
		vd_unlock(&d->lock[v]);
}

/* Under every vring lock. */
static void
vd_clear_locked(struct vhost_direct *d)
{
	d->ready = false;
	d->vid = -1;
	free(d->mem);   /* rte_vhost_get_mem_table allocates with malloc */
	d->mem = NULL;
	d->n_vrings = 0;
	d->logging = false;
	d->log_base = NULL;
	d->log_size = 0;
}

void
vhost_direct_stop(struct vhost_direct *d)
{
	vd_lock_all(d);
	vd_clear_locked(d);
	vd_unlock_all(d);
}

void
vhost_direct_refresh(struct vhost_direct *d, int vid)
{
	struct rte_vhost_memory *mem = NULL;
	uint64_t features = 0;
	uint16_t n;

	vd_lock_all(d);
	vd_clear_locked(d);
	if (rte_vhost_get_negotiated_features(vid, &features) != 0 ||
	    (features & VD_FEATURES_NOT_DIRECT) != 0)
		goto out;
	n = rte_vhost_get_vring_num(vid);
	if (n == 0 || n > RTE_DIM(d->ring))
		goto out;
	if (features & (1ULL << VHOST_F_LOG_ALL)) {
		/* Migrating: log what we write into the front-end's bitmap
		 * (mapped by the library at SET_LOG_BASE); without one, step
		 * aside. */
		uint64_t base = 0, size = 0;

		if (rte_vhost_get_log_base(vid, &base, &size) != 0 ||
		    base == 0 || size == 0)
			goto out;
		d->log_base = (uint8_t *)(uintptr_t)base;
		d->log_size = size;
		d->logging = true;
	}
	for (uint16_t i = 0; i < n; i++) {
		struct rte_vhost_vring vr;

		if (rte_vhost_get_vhost_vring(vid, i, &vr) != 0 ||
		    vr.desc == NULL || vr.avail == NULL || vr.used == NULL ||
		    vr.size == 0 || !rte_is_power_of_2(vr.size))
			goto out;
		/* Logging needs to know where the used ring is. */
		if (d->logging && vr.log_guest_addr == 0)
			goto out;
		d->ring[i] = (struct vd_ring){ vr.desc, vr.avail, vr.used,
					       vr.size };
		d->used_gpa[i] = vr.log_guest_addr;
	}
	if (rte_vhost_get_mem_table(vid, &mem) != 0 || mem == NULL)
		goto out;
	d->mem = mem;
	d->n_vrings = n;
	d->hdr_len = (features & (1ULL << VIRTIO_NET_F_MRG_RXBUF |
				  1ULL << VIRTIO_F_VERSION_1)) ?
		     sizeof(struct virtio_net_hdr_mrg_rxbuf) :
		     sizeof(struct virtio_net_hdr);
	d->mrg_rxbuf = (features & 1ULL << VIRTIO_NET_F_MRG_RXBUF) != 0;
	d->vid = vid;
	d->ready = true;
out:
	if (!d->ready)
		vd_clear_locked(d);     /* whatever was set before the step that failed */
	vd_unlock_all(d);
}

/* Guest physical [gpa, gpa + len) as one mapped range, or NULL. */
static void *
vd_map(const struct vhost_direct *d, uint64_t gpa, uint32_t len)
{
	uint64_t mapped = len, va;

	va = rte_vhost_va_from_guest_pa(d->mem, gpa, &mapped);
	if (va == 0 || mapped != len)
		return NULL;    /* unmapped, or crosses a region boundary */
	return (void *)(uintptr_t)va;
}

int
vd_chain_read(const struct vhost_direct *d, const struct vd_ring *r,
	      uint16_t head, bool write, struct vd_chain *c)
{
	const struct vring_desc *table = r->desc;
	uint32_t size = r->size, idx = head;
	uint32_t total = 0;

	c->head = head;
	for (uint16_t n = 0; n < VD_SEGS_MAX;) {
		struct vring_desc desc;

		if (idx >= size)
			return -1;
		/* One read of the guest's descriptor: it may change it. */
		memcpy(&desc, (const void *)&table[idx], sizeof(desc));
		if (desc.flags & VRING_DESC_F_INDIRECT) {
			/* Only as the whole chain, and never nested
			 * (virtio 1.1 2.6.5.3.1). */
			if (n != 0 || table != r->desc ||
			    (desc.flags & VRING_DESC_F_NEXT) || desc.len == 0 ||
			    desc.len % sizeof(desc) != 0 ||
			    desc.len / sizeof(desc) > VD_INDIRECT_MAX)
				return -1;
			table = vd_map(d, desc.addr, desc.len);
			if (table == NULL)
				return -1;
			size = desc.len / sizeof(desc);
			idx = 0;
			continue;       /* the table pointer is not a segment */
		}
		if (!(desc.flags & VRING_DESC_F_WRITE) != !write)
			return -1;
		c->seg[n].va = desc.len != 0 ? vd_map(d, desc.addr, desc.len) : NULL;
		if (c->seg[n].va == NULL && desc.len != 0)
			return -1;
		c->seg[n].len = desc.len;
		total += desc.len;
		if (total < desc.len)
			return -1;      /* 4 GiB of chain */
		n++;
		if (!(desc.flags & VRING_DESC_F_NEXT)) {
			c->n = n;
			c->len = total;
			return 0;
		}
		idx = desc.next;
	}
	return -1;
}

void
vd_seek(const struct vd_chain *c, uint32_t off, uint16_t *s, uint32_t *o)
{
	uint16_t i = 0;

	while (i < c->n && off >= c->seg[i].len) {
		off -= c->seg[i].len;
		i++;
	}
	*s = i;
	*o = off;
}

void
vd_chain_copy(struct vd_chain *dst, uint32_t doff, const struct vd_chain *src,
	      uint32_t off, uint32_t len)
{
	uint16_t ds, ss;
	uint32_t dpos, spos;

	/* An empty first segment has no address (vd_chain_read): nothing
	 * to copy must not touch it. */
	if (len == 0)
		return;
	/* Both in their first buffers: the usual case. */
	if (doff + len <= dst->seg[0].len && off + len <= src->seg[0].len) {
		rte_memcpy(dst->seg[0].va + doff, src->seg[0].va + off, len);
		return;
	}
	vd_seek(dst, doff, &ds, &dpos);
	vd_seek(src, off, &ss, &spos);
	while (len > 0 && ds < dst->n && ss < src->n) {
		uint32_t chunk = RTE_MIN(len, RTE_MIN(dst->seg[ds].len - dpos,
						      src->seg[ss].len - spos));

		rte_memcpy(dst->seg[ds].va + dpos, src->seg[ss].va + spos, chunk);
		len -= chunk;
		dpos += chunk;
		spos += chunk;
		if (dpos == dst->seg[ds].len) {
			ds++;
			dpos = 0;
		}
		if (spos == src->seg[ss].len) {
			ss++;
			spos = 0;
		}
	}
}

/* A flat buffer as a one-segment chain (only what vd_chain_copy reads is
 * set: zeroing the whole segment array costs more than the copy). */
static void
vd_flat(struct vd_chain *c, const void *buf, uint32_t len)
{
	c->n = 1;
	c->len = len;
	c->seg[0].va = (uint8_t *)(uintptr_t)buf;
	c->seg[0].len = len;
}

void
vd_chain_write_slow(struct vd_chain *dst, uint32_t doff, const void *src,
		    uint32_t len)
{
	struct vd_chain f;

	vd_flat(&f, src, len);
	vd_chain_copy(dst, doff, &f, 0, len);
}

void
vd_chain_gather(const struct vd_chain *c, uint32_t off, uint8_t *buf,
		uint32_t len)
{
	struct vd_chain f;

	vd_flat(&f, buf, len);
	vd_chain_copy(&f, 0, c, off, len);
}

/* The guest-physical address of host address va in d's memory. */
static bool
vd_gpa_of(const struct vhost_direct *d, const uint8_t *va, uint64_t *gpa)
{
	uint64_t a = (uint64_t)(uintptr_t)va;

	for (uint32_t i = 0; i < d->mem->nregions; i++) {
		const struct rte_vhost_mem_region *r = &d->mem->regions[i];

		if (a >= r->host_user_addr && a - r->host_user_addr < r->size) {
			*gpa = r->guest_phys_addr + (a - r->host_user_addr);
			return true;
		}
	}
	return false;
}

void
vd_log_chain(const struct vhost_direct *d, const struct vd_chain *c,
	     uint32_t off, uint32_t len)
{
	uint16_t s;
	uint32_t o;

	if (!d->logging || len == 0)
		return;
	vd_seek(c, off, &s, &o);
	for (; s < c->n && len > 0; s++, o = 0) {
		uint32_t take = RTE_MIN(len, c->seg[s].len - o);
		uint64_t gpa;

		/* vd_chain_read mapped every segment through this table, so
		 * each lies whole in one region. */
		if (vd_gpa_of(d, c->seg[s].va + o, &gpa))
			vd_log_slow(d, gpa, take);
		len -= take;
	}
}

void
vd_log_used(const struct vhost_direct *d, const struct vd_ring *r,
	    uint16_t from, uint16_t n)
{
	const uint64_t used_gpa = d->used_gpa[r - d->ring];
	const uint64_t ring = used_gpa + offsetof(struct vring_used, ring);
	const uint64_t elem = sizeof(struct vring_used_elem);
	uint16_t slot = from & (r->size - 1);
	uint16_t first = RTE_MIN(n, (uint16_t)(r->size - slot));

	/* The entries, in two pieces where they wrap; then the index. */
	vd_log_slow(d, ring + slot * elem, first * elem);
	if (n > first)
		vd_log_slow(d, ring, (uint64_t)(n - first) * elem);
	vd_log_slow(d, used_gpa + offsetof(struct vring_used, idx),
		    sizeof(r->used->idx));
}

void
vd_log_slow(const struct vhost_direct *d, uint64_t gpa, uint64_t len)
{
	uint64_t page, last;

	if (!d->logging || len == 0 || gpa + len < gpa)
		return;
	/* Bits after the bytes they cover: a log sync that clears a bit
	 * before we set it then sees the page again at the next one. */
	for (page = gpa / VD_LOG_PAGE, last = (gpa + len - 1) / VD_LOG_PAGE;
	     page <= last; page++) {
		/* Outside the bitmap (the front-end sized it to its memory):
		 * nothing of the guest's is there. */
		if (page / 8 >= d->log_size)
			break;
		__atomic_fetch_or(&d->log_base[page / 8],
				  (uint8_t)(1u << (page % 8)), __ATOMIC_RELEASE);
	}
}
