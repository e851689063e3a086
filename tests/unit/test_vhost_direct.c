/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The direct path's descriptor walk and copy (src/vhost/vhost_direct.c)
 * against rings a hostile or broken guest could post: a split ring and a
 * guest memory table built in plain memory (two "regions" with a gap and
 * a guest-physical layout unlike the host's), no EAL.
 *
 * vd_chain_read must refuse, never loop or read outside the table: loops,
 * indexes past the ring or an indirect table, nested or chained indirect
 * tables, tables of odd sizes or across a region's end, buffers of the
 * wrong direction, addresses in no region or across a region's end,
 * chains longer than VD_SEGS_MAX; and follow a well-formed indirect table.  vd_chain_copy must put exactly the bytes asked for where
 * asked, whatever the two chains' segmentations (empty segments too), and
 * nothing else.
 */
#include <setjmp.h>
#include <stdbool.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "vhost/vhost_direct.h"

#define RING_SIZE 32     /* > VD_SEGS_MAX */
#define REGION_SIZE 4096
/* Guest-physical bases of the two regions: not the host addresses, and
 * with a hole between them. */
#define GPA0 0x100000ull
#define GPA1 0x300000ull

static uint8_t region0[REGION_SIZE], region1[REGION_SIZE];
static struct vring_desc desc[RING_SIZE];
static struct vhost_direct d;
static struct vd_ring ring = { .desc = desc, .size = RING_SIZE };

/* A guest memory table of two regions of size bytes each: guest-physical
 * gpa0 at host va0, gpa1 at va1. */
static struct rte_vhost_memory *
mem_two_regions(uint64_t gpa0, uint8_t *va0, uint64_t gpa1, uint8_t *va1,
		uint64_t size)
{
	struct rte_vhost_memory *mem;

	mem = calloc(1, sizeof(*mem) + 2 * sizeof(mem->regions[0]));
	assert_non_null(mem);
	mem->nregions = 2;
	mem->regions[0] = (struct rte_vhost_mem_region){
		.guest_phys_addr = gpa0, .size = size,
		.host_user_addr = (uint64_t)(uintptr_t)va0,
	};
	mem->regions[1] = (struct rte_vhost_mem_region){
		.guest_phys_addr = gpa1, .size = size,
		.host_user_addr = (uint64_t)(uintptr_t)va1,
	};
	return mem;
}

static int
setup(void **state)
{
	struct rte_vhost_memory *mem;

	(void)state;
	mem = mem_two_regions(GPA0, region0, GPA1, region1, REGION_SIZE);
	memset(&d, 0, sizeof(d));
	d.mem = mem;
	d.ready = true;
	memset(desc, 0, sizeof(desc));
	return 0;
}

static int
teardown(void **state)
{
	(void)state;
	free(d.mem);
	d.mem = NULL;
	return 0;
}

static void
set_desc(uint16_t i, uint64_t gpa, uint32_t len, uint16_t flags, uint16_t next)
{
	desc[i] = (struct vring_desc){ .addr = gpa, .len = len, .flags = flags,
				       .next = next };
}

static void
test_single_and_chained(void **state)
{
	struct vd_chain c;

	(void)state;
	set_desc(3, GPA0 + 100, 60, 0, 0);
	assert_int_equal(vd_chain_read(&d, &ring, 3, false, &c), 0);
	assert_int_equal(c.head, 3);
	assert_int_equal(c.n, 1);
	assert_int_equal(c.len, 60);
	assert_ptr_equal(c.seg[0].va, region0 + 100);

	/* 3 -> 7 -> 1, across both regions, in chain order */
	set_desc(3, GPA0 + 0, 12, VRING_DESC_F_NEXT, 7);
	set_desc(7, GPA1 + 2000, 1000, VRING_DESC_F_NEXT, 1);
	set_desc(1, GPA0 + 4000, 96, 0, 0);
	assert_int_equal(vd_chain_read(&d, &ring, 3, false, &c), 0);
	assert_int_equal(c.n, 3);
	assert_int_equal(c.len, 12 + 1000 + 96);
	assert_ptr_equal(c.seg[1].va, region1 + 2000);
	assert_ptr_equal(c.seg[2].va, region0 + 4000);
	assert_int_equal(c.seg[2].len, 96);

	/* device-writable chain for a receive ring */
	set_desc(5, GPA1, 2048, VRING_DESC_F_WRITE, 0);
	assert_int_equal(vd_chain_read(&d, &ring, 5, true, &c), 0);
	assert_int_equal(c.len, 2048);
	/* ... which is not a transmit buffer, and the other way round */
	assert_int_equal(vd_chain_read(&d, &ring, 5, false, &c), -1);
	assert_int_equal(vd_chain_read(&d, &ring, 1, true, &c), -1);
	/* a chain mixing both directions */
	set_desc(2, GPA0, 12, VRING_DESC_F_NEXT | VRING_DESC_F_WRITE, 4);
	set_desc(4, GPA0 + 12, 64, 0, 0);
	assert_int_equal(vd_chain_read(&d, &ring, 2, true, &c), -1);
	assert_int_equal(vd_chain_read(&d, &ring, 2, false, &c), -1);
}

static void
test_hostile_chains(void **state)
{
	struct vd_chain c;

	(void)state;
	/* head and next outside the ring */
	assert_int_equal(vd_chain_read(&d, &ring, RING_SIZE, false, &c), -1);
	assert_int_equal(vd_chain_read(&d, &ring, UINT16_MAX, false, &c), -1);
	set_desc(0, GPA0, 64, VRING_DESC_F_NEXT, RING_SIZE + 5);
	assert_int_equal(vd_chain_read(&d, &ring, 0, false, &c), -1);

	/* loops: to itself, and a two-descriptor cycle */
	set_desc(0, GPA0, 64, VRING_DESC_F_NEXT, 0);
	assert_int_equal(vd_chain_read(&d, &ring, 0, false, &c), -1);
	set_desc(0, GPA0, 64, VRING_DESC_F_NEXT, 1);
	set_desc(1, GPA0, 64, VRING_DESC_F_NEXT, 0);
	assert_int_equal(vd_chain_read(&d, &ring, 0, false, &c), -1);


	/* addresses: in the hole, past the end, across a region's end,
	 * wrapping around 2^64 */
	set_desc(0, GPA0 + REGION_SIZE + 16, 64, 0, 0);
	assert_int_equal(vd_chain_read(&d, &ring, 0, false, &c), -1);
	set_desc(0, GPA1 + REGION_SIZE, 1, 0, 0);
	assert_int_equal(vd_chain_read(&d, &ring, 0, false, &c), -1);
	set_desc(0, GPA0 + REGION_SIZE - 10, 11, 0, 0);
	assert_int_equal(vd_chain_read(&d, &ring, 0, false, &c), -1);
	set_desc(0, UINT64_MAX - 3, 64, 0, 0);
	assert_int_equal(vd_chain_read(&d, &ring, 0, false, &c), -1);
	set_desc(0, GPA0 + REGION_SIZE - 10, 10, 0, 0);    /* to the last byte */
	assert_int_equal(vd_chain_read(&d, &ring, 0, false, &c), 0);

	/* an empty buffer is harmless, wherever it claims to be */
	set_desc(0, 0xdead0000ull, 0, VRING_DESC_F_NEXT, 1);
	set_desc(1, GPA0, 64, 0, 0);
	assert_int_equal(vd_chain_read(&d, &ring, 0, false, &c), 0);
	assert_int_equal(c.len, 64);
}

static void
test_chain_length_limit(void **state)
{
	struct vd_chain c;

	(void)state;
	for (uint16_t i = 0; i < VD_SEGS_MAX; i++)
		set_desc(i, GPA0 + 100u * i, 100,
			 i + 1 < VD_SEGS_MAX ? VRING_DESC_F_NEXT : 0, i + 1);
	assert_int_equal(vd_chain_read(&d, &ring, 0, false, &c), 0);
	assert_int_equal(c.n, VD_SEGS_MAX);
	assert_int_equal(c.len, 100 * VD_SEGS_MAX);
	/* one more */
	desc[VD_SEGS_MAX - 1].flags = VRING_DESC_F_NEXT;
	set_desc(VD_SEGS_MAX, GPA0, 1, 0, 0);
	assert_int_equal(vd_chain_read(&d, &ring, 0, false, &c), -1);
}

/* Entry i of an indirect table kept at the start of region 1. */
static void
set_ind(uint16_t i, uint64_t gpa, uint32_t len, uint16_t flags, uint16_t next)
{
	struct vring_desc e = { .addr = gpa, .len = len, .flags = flags,
				.next = next };

	memcpy(region1 + i * sizeof(e), &e, sizeof(e));
}

static void
test_indirect(void **state)
{
	const uint32_t esz = sizeof(struct vring_desc);
	struct vd_chain c;

	(void)state;
	/* head 6 -> table of 4: entries 0 -> 2 -> 3 (1 unused) */
	set_ind(0, GPA0, 12, VRING_DESC_F_NEXT, 2);
	set_ind(1, GPA0, 1, 0, 0);
	set_ind(2, GPA0 + 12, 1500, VRING_DESC_F_NEXT, 3);
	set_ind(3, GPA1 + 2048, 2000, 0, 0);
	set_desc(6, GPA1, 4 * esz, VRING_DESC_F_INDIRECT, 0);
	assert_int_equal(vd_chain_read(&d, &ring, 6, false, &c), 0);
	assert_int_equal(c.head, 6);
	assert_int_equal(c.n, 3);
	assert_int_equal(c.len, 12 + 1500 + 2000);
	assert_ptr_equal(c.seg[0].va, region0);
	assert_ptr_equal(c.seg[2].va, region1 + 2048);
	/* device-writable table entries are not a transmit buffer */
	assert_int_equal(vd_chain_read(&d, &ring, 6, true, &c), -1);

	/* the table itself: odd size, empty, too big, past a region's end,
	 * in no region */
	set_desc(6, GPA1, 4 * esz + 1, VRING_DESC_F_INDIRECT, 0);
	assert_int_equal(vd_chain_read(&d, &ring, 6, false, &c), -1);
	set_desc(6, GPA1, 0, VRING_DESC_F_INDIRECT, 0);
	assert_int_equal(vd_chain_read(&d, &ring, 6, false, &c), -1);
	set_desc(6, GPA1, (VD_INDIRECT_MAX + 1) * esz, VRING_DESC_F_INDIRECT, 0);
	assert_int_equal(vd_chain_read(&d, &ring, 6, false, &c), -1);
	set_desc(6, GPA1 + REGION_SIZE - esz, 2 * esz, VRING_DESC_F_INDIRECT, 0);
	assert_int_equal(vd_chain_read(&d, &ring, 6, false, &c), -1);
	set_desc(6, GPA1 + REGION_SIZE + 64, esz, VRING_DESC_F_INDIRECT, 0);
	assert_int_equal(vd_chain_read(&d, &ring, 6, false, &c), -1);

	/* INDIRECT with NEXT, and an indirect descriptor inside a chain */
	set_desc(6, GPA1, 4 * esz, VRING_DESC_F_INDIRECT | VRING_DESC_F_NEXT, 7);
	set_desc(7, GPA0, 64, 0, 0);
	assert_int_equal(vd_chain_read(&d, &ring, 6, false, &c), -1);
	set_desc(7, GPA0, 64, VRING_DESC_F_NEXT, 6);
	set_desc(6, GPA1, 4 * esz, VRING_DESC_F_INDIRECT, 0);
	assert_int_equal(vd_chain_read(&d, &ring, 7, false, &c), -1);

	/* inside the table: nested table, next past the table's end (but
	 * inside the ring), a loop */
	set_ind(3, GPA1, 2 * esz, VRING_DESC_F_INDIRECT, 0);
	assert_int_equal(vd_chain_read(&d, &ring, 6, false, &c), -1);
	set_ind(3, GPA1 + 2048, 2000, VRING_DESC_F_NEXT, 4);
	assert_int_equal(vd_chain_read(&d, &ring, 6, false, &c), -1);
	set_ind(3, GPA1 + 2048, 2000, VRING_DESC_F_NEXT, 0);
	assert_int_equal(vd_chain_read(&d, &ring, 6, false, &c), -1);

	/* a table chain of VD_SEGS_MAX is taken, one more is not */
	for (uint16_t i = 0; i <= VD_SEGS_MAX; i++)
		set_ind(i, GPA0 + 64u * i, 64,
			i + 1 < VD_SEGS_MAX ? VRING_DESC_F_NEXT : 0, i + 1);
	set_desc(6, GPA1, (VD_SEGS_MAX + 1) * esz, VRING_DESC_F_INDIRECT, 0);
	assert_int_equal(vd_chain_read(&d, &ring, 6, false, &c), 0);
	assert_int_equal(c.n, VD_SEGS_MAX);
	set_ind(VD_SEGS_MAX - 1, GPA0, 64, VRING_DESC_F_NEXT, VD_SEGS_MAX);
	assert_int_equal(vd_chain_read(&d, &ring, 6, false, &c), -1);
}

/* Cut len bytes at base into a chain of segments of the given sizes. */
static void
make_chain(struct vd_chain *c, uint8_t *base, const uint32_t *sizes,
	   uint16_t n)
{
	uint32_t off = 0;

	c->n = n;
	c->len = 0;
	for (uint16_t i = 0; i < n; i++) {
		c->seg[i].va = base + off;
		c->seg[i].len = sizes[i];
		off += sizes[i] + 7;    /* gaps between segments: guard bytes */
		c->len += sizes[i];
	}
}

/* Byte k of a chain, as if it were flat. */
static uint8_t *
chain_byte(const struct vd_chain *c, uint32_t k)
{
	for (uint16_t i = 0; i < c->n; i++) {
		if (k < c->seg[i].len)
			return c->seg[i].va + k;
		k -= c->seg[i].len;
	}
	return NULL;
}

static void
test_copy_segmentations(void **state)
{
	static const struct {
		uint16_t n;
		uint32_t size[VD_SEGS_MAX];
	} shapes[] = {
		{ 1, { 1600 } },
		{ 2, { 12, 1588 } },
		{ 6, { 0, 12, 0, 700, 1, 887 } },
		{ 8, { 100, 100, 100, 100, 100, 100, 100, 900 } },
		{ 8, { 1, 2, 3, 5, 8, 13, 21, 1547 } },
	};
	static const struct { uint32_t off, doff, len; } cases[] = {
		{ 12, 12, 1514 }, { 0, 0, 1600 }, { 26, 12, 60 },
		{ 12, 26, 1500 }, { 99, 101, 1 }, { 1600, 0, 0 },
	};
	uint8_t *src = malloc(8192), *dst = malloc(8192), *want = malloc(8192);

	(void)state;
	assert_non_null(src);
	assert_non_null(dst);
	assert_non_null(want);
	for (unsigned int i = 0; i < 8192; i++)
		src[i] = (uint8_t)(i * 7 + 3);
	for (size_t a = 0; a < RTE_DIM(shapes); a++) {
		for (size_t b = 0; b < RTE_DIM(shapes); b++) {
			for (size_t k = 0; k < RTE_DIM(cases); k++) {
				struct vd_chain sc, dc;

				make_chain(&sc, src, shapes[a].size, shapes[a].n);
				make_chain(&dc, dst, shapes[b].size, shapes[b].n);
				if (cases[k].off + cases[k].len > sc.len ||
				    cases[k].doff + cases[k].len > dc.len)
					continue;
				memset(dst, 0xee, 8192);
				memcpy(want, dst, 8192);
				for (uint32_t j = 0; j < cases[k].len; j++)
					*(want + (chain_byte(&dc, cases[k].doff + j) - dst)) =
						*chain_byte(&sc, cases[k].off + j);
				vd_chain_copy(&dc, cases[k].doff, &sc, cases[k].off,
					      cases[k].len);
				/* every byte: the copied ones moved, guard
				 * bytes and the rest untouched */
				assert_memory_equal(dst, want, 8192);
			}
		}
	}
	free(src);
	free(dst);
	free(want);
}


/*
 * Dirty logging: with logging on, every byte written into guest memory
 * through the direct path's write calls (header, frame copies into
 * receive chains spread over two regions, used entries, used->idx) is in
 * a page whose bit is set, and no other page's bit is: a guest memory of
 * 2 x 16 pages, snapshotted before, compared after, over random frames
 * and segmentations.
 */
#define LOG_PAGES 16
#define LOG_REGION (LOG_PAGES * 4096)
#define LGPA0 0x40000ull                /* page 64 */
#define LGPA1 0x100000ull               /* page 256 */

static uint8_t lmem0[LOG_REGION], lmem1[LOG_REGION];
static uint8_t before0[LOG_REGION], before1[LOG_REGION];
static uint8_t bitmap[(LGPA1 + LOG_REGION) / 4096 / 8 + 1];

static bool
log_bit(uint64_t gpa)
{
	uint64_t page = gpa / 4096;

	return (bitmap[page / 8] >> (page % 8)) & 1;
}

/* Each changed byte's page logged; each logged page in guest memory. */
static void
check_log(void)
{
	for (uint32_t i = 0; i < LOG_REGION; i++) {
		if (lmem0[i] != before0[i])
			assert_true(log_bit(LGPA0 + i));
		if (lmem1[i] != before1[i])
			assert_true(log_bit(LGPA1 + i));
	}
	for (uint64_t page = 0; page < sizeof(bitmap) * 8; page++) {
		uint64_t gpa = page * 4096;

		if (!log_bit(gpa))
			continue;
		assert_true((gpa >= LGPA0 && gpa < LGPA0 + LOG_REGION) ||
			    (gpa >= LGPA1 && gpa < LGPA1 + LOG_REGION));
	}
}

static void
test_dirty_log_covers_writes(void **state)
{
	struct rte_vhost_memory *mem;
	struct vhost_direct ld;
	/* a used ring of 1024 entries in region 1: its index at the end of
	 * page 3, its entries on pages 4 and 5, so entries that wrap from
	 * page 5 to page 4 are on pages of their own */
	const uint64_t used_off = 4 * 4096 - 2 * sizeof(uint16_t);
	unsigned int seed = 12345;

	(void)state;
	mem = mem_two_regions(LGPA0, lmem0, LGPA1, lmem1, LOG_REGION);
	memset(&ld, 0, sizeof(ld));
	ld.mem = mem;
	ld.ready = true;
	ld.logging = true;
	ld.log_base = bitmap;
	ld.log_size = sizeof(bitmap);
	ld.ring[0] = (struct vd_ring){ .size = 1024,
				       .used = (struct vring_used *)(lmem1 + used_off) };
	ld.used_gpa[0] = LGPA1 + used_off;

	for (int round = 0; round < 200; round++) {
		struct vd_chain dst = { .n = 0 }, src = { .n = 1 };
		uint8_t frame[3000];
		uint32_t flen = 1 + rand_r(&seed) % sizeof(frame), room = 0;
		uint8_t hdr[12];

		for (uint32_t i = 0; i < flen; i++)
			frame[i] = (uint8_t)rand_r(&seed) | 1;
		src.seg[0] = (struct vd_seg){ frame, flen };
		src.len = flen;
		memset(hdr, 0x5a + round, sizeof(hdr));
		/* a receive chain of 1..4 buffers anywhere in guest memory,
		 * as the guest's descriptors would give them (gpa + va) */
		while (room < flen + sizeof(hdr) && dst.n < 4) {
			bool r1 = rand_r(&seed) & 1;
			uint32_t len = (dst.n == 0 ? sizeof(hdr) : 1) +
				       rand_r(&seed) % 2048;
			uint32_t off = rand_r(&seed) % (LOG_REGION - len);

			if (dst.n == 3)
				len = RTE_MAX(len, flen + sizeof(hdr) - room);
			if (len > LOG_REGION / 2)
				len = LOG_REGION / 2;
			off = rand_r(&seed) % (LOG_REGION - len);
			/* keep clear of the used ring (pages 3-5 of region 1) */
			if (r1 && off < 6 * 4096 && off + len > 3 * 4096)
				off = 6 * 4096 + off % (LOG_REGION - 6 * 4096 - len);
			dst.seg[dst.n++] = (struct vd_seg){
				(r1 ? lmem1 : lmem0) + off, len };
			room += len;
		}
		dst.len = room;
		if (room < flen + sizeof(hdr))
			continue;
		memcpy(before0, lmem0, sizeof(before0));
		memcpy(before1, lmem1, sizeof(before1));
		memset(bitmap, 0, sizeof(bitmap));
		vd_hdr_write(&ld, &dst, hdr, sizeof(hdr));
		vd_chain_put(&ld, &dst, sizeof(hdr), &src, 0, flen);
		vd_used_write(&ld.ring[0], (uint16_t)round, (uint16_t)round,
			      flen + sizeof(hdr));
		vd_used_publish(&ld, &ld.ring[0], 1, (uint16_t)(round + 1));
		check_log();
		/* the bytes landed where they should */
		assert_int_equal(ld.ring[0].used->idx, (uint16_t)(round + 1));
		assert_int_equal(ld.ring[0].used->ring[round].len, flen + sizeof(hdr));
	}
	/* a burst of entries that wraps the ring, published at once */
	memcpy(before0, lmem0, sizeof(before0));
	memcpy(before1, lmem1, sizeof(before1));
	memset(bitmap, 0, sizeof(bitmap));
	for (uint16_t k = 0; k < 5; k++)
		vd_used_write(&ld.ring[0], (uint16_t)(1022 + k), (uint16_t)(100 + k), 60 + k);
	vd_used_publish(&ld, &ld.ring[0], 5, 1027);
	check_log();
	assert_true(log_bit(LGPA1 + 4 * 4096));        /* slots 0..2 */
	assert_true(log_bit(LGPA1 + 5 * 4096));        /* slots 1022, 1023 */
	assert_int_equal(ld.ring[0].used->ring[2].id, 104);
	/* logging off: nothing is logged */
	ld.logging = false;
	memset(bitmap, 0, sizeof(bitmap));
	vd_used_publish(&ld, &ld.ring[0], 3, 7);
	vd_log_slow(&ld, LGPA0, 100);
	for (size_t i = 0; i < sizeof(bitmap); i++)
		assert_int_equal(bitmap[i], 0);
	/* a range past the bitmap's end is cut there, not written past it */
	ld.logging = true;
	ld.log_size = 1;
	vd_log_slow(&ld, 0, 64 * 4096);
	assert_int_equal(bitmap[0], 0xff);
	assert_int_equal(bitmap[1], 0);
	free(mem);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_single_and_chained, setup, teardown),
		cmocka_unit_test_setup_teardown(test_hostile_chains, setup, teardown),
		cmocka_unit_test_setup_teardown(test_chain_length_limit, setup, teardown),
		cmocka_unit_test_setup_teardown(test_indirect, setup, teardown),
		cmocka_unit_test(test_copy_segmentations),
		cmocka_unit_test(test_dirty_log_covers_writes),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
