/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The direct path's descriptor walk (vd_chain_read, src/vhost/vhost_direct.c)
 * and the copies over what it returns, on random guests: a guest memory
 * table of 1-4 regions (random guest-physical layout with holes, each
 * region a separate heap block of exactly its size), a split ring of
 * 1..256 descriptors and whatever the regions hold (indirect tables).
 * No EAL: the structures are built in plain memory as the unit test does.
 *
 * Input: region count, ring size, 8 walks (head, direction), offsets for
 * the copies, the log size, then the regions' layout, the descriptor
 * table and the regions' bytes.
 *
 * Invariant: no crash, no access outside the table, the ring or a region;
 * an accepted chain has 1..VD_SEGS_MAX segments whose lengths add up to
 * its length, each non-empty one inside a single region; vd_chain_gather
 * returns the chain's bytes in order; vd_chain_copy between two chains
 * that share no byte writes exactly the bytes asked for and nothing else
 * in guest memory; dirty logging sets bits only inside the bitmap.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "vhost/vhost_direct.h"
#include "fuzz.h"

#define REGIONS_MAX 4
#define REGION_SIZE_MAX 8192
#define WALKS 8

struct guest {
	unsigned int n;
	uint8_t *va[REGIONS_MAX];
	uint64_t size[REGIONS_MAX];
};

/* Which region holds [va, va + len), or -1. */
static int
region_of(const struct guest *g, const uint8_t *va, uint32_t len)
{
	for (unsigned int i = 0; i < g->n; i++) {
		uintptr_t a = (uintptr_t)va, b = (uintptr_t)g->va[i];

		if (a >= b && a - b <= g->size[i] && len <= g->size[i] - (a - b))
			return (int)i;
	}
	return -1;
}

static void
check_chain(const struct guest *g, const struct vd_chain *c, uint16_t head)
{
	uint64_t sum = 0;

	FUZZ_CHECK(c->head == head);
	FUZZ_CHECK(c->n >= 1 && c->n <= VD_SEGS_MAX);
	for (uint16_t i = 0; i < c->n; i++) {
		sum += c->seg[i].len;
		if (c->seg[i].len != 0)
			FUZZ_CHECK(region_of(g, c->seg[i].va, c->seg[i].len) >= 0);
	}
	FUZZ_CHECK(sum == c->len);
}

/* Reference: the chain's bytes [off, off + len) by walking its segments. */
static void
ref_gather(const struct vd_chain *c, uint32_t off, uint8_t *out, uint32_t len)
{
	for (uint16_t i = 0; i < c->n && len > 0; i++) {
		uint32_t take;

		if (off >= c->seg[i].len) {
			off -= c->seg[i].len;
			continue;
		}
		take = c->seg[i].len - off < len ? c->seg[i].len - off : len;
		memcpy(out, c->seg[i].va + off, take);
		out += take;
		len -= take;
		off = 0;
	}
}

static bool
overlap(const uint8_t *a, uint32_t alen, const uint8_t *b, uint32_t blen)
{
	return alen != 0 && blen != 0 && a < b + blen && b < a + alen;
}

/* No byte in two segments of a, or of a and b. */
static bool
disjoint(const struct vd_chain *a, const struct vd_chain *b)
{
	for (uint16_t i = 0; i < a->n; i++) {
		for (uint16_t j = i + 1; j < a->n; j++)
			if (overlap(a->seg[i].va, a->seg[i].len, a->seg[j].va,
				    a->seg[j].len))
				return false;
		for (uint16_t j = 0; j < b->n; j++)
			if (overlap(a->seg[i].va, a->seg[i].len, b->seg[j].va,
				    b->seg[j].len))
				return false;
	}
	return true;
}

/* Mark in the guest's shadow which bytes [off, off + len) of c cover. */
static void
mark_range(const struct guest *g, const struct vd_chain *c, uint32_t off,
	   uint32_t len, uint8_t *marks[REGIONS_MAX])
{
	for (uint16_t i = 0; i < c->n && len > 0; i++) {
		uint32_t take;
		int r;

		if (off >= c->seg[i].len) {
			off -= c->seg[i].len;
			continue;
		}
		take = c->seg[i].len - off < len ? c->seg[i].len - off : len;
		r = region_of(g, c->seg[i].va, c->seg[i].len);
		memset(marks[r] + (c->seg[i].va + off - g->va[r]), 1, take);
		len -= take;
		off = 0;
	}
}

static void
check_copy(const struct guest *g, struct vd_chain *dst, const struct vd_chain *src,
	   uint32_t doff, uint32_t off, uint32_t len)
{
	uint8_t *before[REGIONS_MAX] = { 0 }, *marks[REGIONS_MAX] = { 0 };
	uint8_t *want = malloc(len + 1), *got = malloc(len + 1);

	FUZZ_CHECK(want != NULL && got != NULL);
	for (unsigned int i = 0; i < g->n; i++) {
		before[i] = malloc(g->size[i]);
		marks[i] = calloc(1, g->size[i]);
		FUZZ_CHECK(before[i] != NULL && marks[i] != NULL);
		memcpy(before[i], g->va[i], g->size[i]);
	}
	ref_gather(src, off, want, len);
	mark_range(g, dst, doff, len, marks);
	vd_chain_copy(dst, doff, src, off, len);
	ref_gather(dst, doff, got, len);
	FUZZ_CHECK(memcmp(want, got, len) == 0);
	for (unsigned int i = 0; i < g->n; i++) {
		for (uint64_t b = 0; b < g->size[i]; b++)
			FUZZ_CHECK(marks[i][b] || g->va[i][b] == before[i][b]);
		free(before[i]);
		free(marks[i]);
	}
	free(want);
	free(got);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fuzz_in in = { data, size };
	struct vhost_direct d;
	struct guest g = { 0 };
	struct rte_vhost_memory *mem;
	struct vring_desc *table;
	struct vd_ring ring;
	struct vd_chain chains[2];
	bool have[2] = { false, false };
	uint16_t heads[WALKS];
	uint8_t dirs[WALKS];
	uint32_t offs[6];
	uint64_t gpa;

	g.n = 1 + fuzz_u8(&in) % REGIONS_MAX;
	ring.size = (uint16_t)(1u << (fuzz_u8(&in) % 9));
	for (unsigned int w = 0; w < WALKS; w++) {
		heads[w] = fuzz_u16(&in);
		dirs[w] = fuzz_u8(&in);
	}
	for (unsigned int i = 0; i < 6; i++)
		offs[i] = fuzz_u32(&in);

	vhost_direct_init(&d);
	d.log_size = 1 + fuzz_u8(&in);
	d.log_base = calloc(1, d.log_size);
	mem = calloc(1, sizeof(*mem) + g.n * sizeof(mem->regions[0]));
	FUZZ_CHECK(d.log_base != NULL && mem != NULL);
	mem->nregions = g.n;
	/* Regions in rising guest-physical order with random holes, not
	 * wrapping: the library builds the table from the front-end's. */
	gpa = (uint64_t)fuzz_u32(&in) << 12;
	for (unsigned int i = 0; i < g.n; i++) {
		g.size[i] = 1 + fuzz_u16(&in) % REGION_SIZE_MAX;
		g.va[i] = malloc(g.size[i]);
		FUZZ_CHECK(g.va[i] != NULL);
		mem->regions[i] = (struct rte_vhost_mem_region){
			.guest_phys_addr = gpa, .size = g.size[i],
			.host_user_addr = (uint64_t)(uintptr_t)g.va[i],
		};
		gpa += g.size[i] + fuzz_u16(&in);
	}
	table = malloc(ring.size * sizeof(*table));
	FUZZ_CHECK(table != NULL);
	for (unsigned int i = 0; i < ring.size; i++) {
		table[i].addr = fuzz_u64(&in);
		table[i].len = fuzz_u32(&in);
		table[i].flags = fuzz_u16(&in);
		table[i].next = fuzz_u16(&in);
	}
	for (unsigned int i = 0; i < g.n; i++)
		for (uint64_t b = 0; b < g.size[i]; b++)
			g.va[i][b] = fuzz_u8(&in);
	ring.desc = table;
	ring.avail = NULL;
	ring.used = NULL;
	d.mem = mem;
	d.ready = true;
	d.n_vrings = 1;
	d.ring[0] = ring;
	d.used_gpa[0] = offs[5];
	d.logging = true;

	for (unsigned int w = 0; w < WALKS; w++) {
		bool write = dirs[w] & 1;
		struct vd_chain c;

		if (vd_chain_read(&d, &d.ring[0], heads[w], write, &c) != 0)
			continue;
		check_chain(&g, &c, heads[w]);
		chains[write] = c;
		have[write] = true;
		if (c.len != 0) {
			uint32_t off = offs[w % 4] % c.len;
			uint32_t len = offs[(w + 1) % 4] % (c.len - off + 1);
			uint8_t *want = malloc(len + 1), *got = malloc(len + 1);

			FUZZ_CHECK(want != NULL && got != NULL);
			ref_gather(&c, off, want, len);
			vd_chain_gather(&c, off, got, len);
			FUZZ_CHECK(memcmp(want, got, len) == 0);
			vd_log_chain(&d, &c, off, len);
			free(want);
			free(got);
		}
	}
	if (have[0] && have[1] && chains[0].len != 0 && chains[1].len != 0 &&
	    disjoint(&chains[1], &chains[0])) {
		uint32_t off = offs[0] % chains[0].len;
		uint32_t doff = offs[1] % chains[1].len;
		uint32_t len = offs[2] % (RTE_MIN(chains[0].len - off,
						  chains[1].len - doff) + 1);

		check_copy(&g, &chains[1], &chains[0], doff, off, len);
	}
	vd_log_used(&d, &d.ring[0], (uint16_t)offs[3], (uint16_t)(offs[4] % (ring.size + 1u)));

	for (unsigned int i = 0; i < g.n; i++)
		free(g.va[i]);
	free(table);
	free(d.log_base);
	free(mem);
	return 0;
}
