/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The direct path's bursts (src/vhost/vhost_burst.c) on a sender's tx ring
 * and a receiver's rx ring built in plain memory as a guest would post
 * them, no EAL.  The library's side (its ring indices, the guest
 * notification) is faked behind the link seam (-Wl,--wrap).
 *
 * What a guest relies on: frames arrive whole, in the sender's order,
 * each under a virtio-net header with the right num_buffers; used entries
 * name the buffers in the order they were posted, with the bytes written;
 * used->idx covers exactly them, across the ring's end and the index's
 * 16-bit wrap; nothing is written for a frame that does not fit; the
 * indices handed back to the library and the notifications match what
 * was published.  While migrating, every byte written is in the dirty log.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "vhost/vhost_burst.h"

#define PAGE 4096
#define NPAGES 64
#define GPA_BASE 0x10000000ull
#define TX_SIZE 16
#define RX_SIZE 8
#define VID 7
#define RXV 0   /* guest queue 0: rx vring 0, tx vring 1 */
#define TXV 1
#define HDR 12

static uint8_t gm[NPAGES * PAGE] __attribute__((aligned(PAGE)));
static uint8_t before[sizeof(gm)];
static uint8_t bitmap[(GPA_BASE / PAGE + NPAGES) / 8 + 1];
static struct vhost_direct d;

/* Where the rings and buffers are, in guest-physical offsets from
 * GPA_BASE: tx ring on page 0, rx ring on page 1, tx buffers from page 4,
 * rx buffers from page 20. */
#define TX_DESC 0x000
#define TX_AVAIL 0x400
#define TX_USED 0x800
#define RX_DESC (PAGE + 0x000)
#define RX_AVAIL (PAGE + 0x400)
#define RX_USED (PAGE + 0x800)
#define TX_BUF (4 * PAGE)
#define RX_BUF (20 * PAGE)

/* The library's indices per vring, and the notifications it was asked
 * for. */
static uint16_t lib_avail[2], lib_used[2];
static int lib_fail_get;
static int n_calls, call_vring[8];

int __wrap_rte_vhost_get_vring_base(int vid, uint16_t v, uint16_t *a,
				    uint16_t *u);
int __wrap_rte_vhost_set_vring_base(int vid, uint16_t v, uint16_t a,
				    uint16_t u);
int __wrap_rte_vhost_vring_call(int vid, uint16_t v);

int
__wrap_rte_vhost_get_vring_base(int vid, uint16_t v, uint16_t *a, uint16_t *u)
{
	assert_int_equal(vid, VID);
	assert_true(v < 2);
	if (lib_fail_get)
		return -1;
	*a = lib_avail[v];
	*u = lib_used[v];
	return 0;
}

int
__wrap_rte_vhost_set_vring_base(int vid, uint16_t v, uint16_t a, uint16_t u)
{
	assert_int_equal(vid, VID);
	assert_true(v < 2);
	/* Handed back while the worker still holds the vring. */
	assert_false(vd_trylock(&d.lock[v]));
	lib_avail[v] = a;
	lib_used[v] = u;
	return 0;
}

int
__wrap_rte_vhost_vring_call(int vid, uint16_t v)
{
	assert_int_equal(vid, VID);
	/* Made once nothing is held: the library takes its own lock. */
	assert_true(vd_trylock(&d.lock[v]));
	vd_unlock(&d.lock[v]);
	assert_true(n_calls < 8);
	call_vring[n_calls++] = v;
	return 0;
}

static void *
at(uint64_t off)
{
	return gm + off;
}

static struct vring_avail *
avail(int v)
{
	return at(v == TXV ? TX_AVAIL : RX_AVAIL);
}

static struct vring_used *
used(int v)
{
	return at(v == TXV ? TX_USED : RX_USED);
}

static struct vring_desc *
desc(int v)
{
	return at(v == TXV ? TX_DESC : RX_DESC);
}

static uint8_t guest_mem_table[sizeof(struct rte_vhost_memory) +
			       sizeof(struct rte_vhost_mem_region)];

/* Both rings start at index start (the library's and the guest's), so
 * a burst from there crosses whatever start puts in its way. */
static void
reset(uint16_t start, bool mrg)
{
	struct rte_vhost_memory *mem = (void *)guest_mem_table;

	memset(gm, 0xee, sizeof(gm));
	vhost_direct_init(&d);
	mem->nregions = 1;
	mem->regions[0] = (struct rte_vhost_mem_region){
		.guest_phys_addr = GPA_BASE, .size = sizeof(gm),
		.host_user_addr = (uint64_t)(uintptr_t)gm,
	};
	d.mem = mem;
	d.vid = VID;
	d.ready = true;
	d.n_vrings = 2;
	d.hdr_len = HDR;
	d.mrg_rxbuf = mrg;
	d.ring[RXV] = (struct vd_ring){ desc(RXV), avail(RXV), used(RXV), RX_SIZE };
	d.ring[TXV] = (struct vd_ring){ desc(TXV), avail(TXV), used(TXV), TX_SIZE };
	d.used_gpa[RXV] = GPA_BASE + RX_USED;
	d.used_gpa[TXV] = GPA_BASE + TX_USED;
	for (int v = 0; v < 2; v++) {
		avail(v)->idx = start;
		used(v)->idx = start;
		lib_avail[v] = start;
		lib_used[v] = start;
	}
	lib_fail_get = 0;
	n_calls = 0;
}

/* The guest posts a chain of n buffers (offsets off[], lengths len[]) on
 * vring v from descriptor head on; returns head. */
static uint16_t
post(int v, uint16_t head, int n, const uint64_t *off, const uint32_t *len)
{
	uint16_t size = v == TXV ? TX_SIZE : RX_SIZE;
	struct vring_avail *a = avail(v);

	for (int k = 0; k < n; k++) {
		uint16_t i = (uint16_t)((head + k) % size);

		desc(v)[i] = (struct vring_desc){
			.addr = GPA_BASE + off[k], .len = len[k],
			.flags = (uint16_t)((v == RXV ? VRING_DESC_F_WRITE : 0) |
					    (k + 1 < n ? VRING_DESC_F_NEXT : 0)),
			.next = (uint16_t)((head + k + 1) % size),
		};
	}
	a->ring[a->idx % size] = head;
	__atomic_store_n(&a->idx, (uint16_t)(a->idx + 1), __ATOMIC_RELEASE);
	return head;
}

/* A sender's frame f of flen bytes behind a zero virtio-net header, in
 * one buffer or split in two after split bytes (0: one buffer). */
static uint16_t
post_frame(uint16_t head, int f, uint32_t flen, uint32_t split)
{
	uint64_t off = TX_BUF + (uint64_t)f * 2 * PAGE;
	uint8_t *p = at(off);

	memset(p, 0, HDR);
	for (uint32_t k = 0; k < flen; k++)
		p[HDR + k] = (uint8_t)(f * 31 + k * 7 + 1);
	if (split == 0)
		return post(TXV, head, 1, (uint64_t[]){ off },
			    (uint32_t[]){ HDR + flen });
	/* the second piece elsewhere, as a guest's fragments would be */
	memmove(at(off + PAGE), p + HDR + split, flen - split);
	return post(TXV, head, 2, (uint64_t[]){ off, off + PAGE },
		    (uint32_t[]){ HDR + split, flen - split });
}

static bool
frame_is(const uint8_t *p, int f, uint32_t flen)
{
	for (uint32_t k = 0; k < flen; k++)
		if (p[k] != (uint8_t)(f * 31 + k * 7 + 1))
			return false;
	return true;
}

/* The guest posts receive buffer b (len bytes) as chain head b. */
static void
post_rx(uint16_t b, uint32_t len)
{
	post(RXV, b, 1, (uint64_t[]){ RX_BUF + (uint64_t)b * PAGE },
	     (uint32_t[]){ len });
}

/* The guest posts receive chain head: its virtio-net header alone in
 * buffer b, the frame's room (len) in buffer b + 8, another page. */
static void
post_rx_split(uint16_t head, uint16_t b, uint32_t len)
{
	post(RXV, head, 2,
	     (uint64_t[]){ RX_BUF + (uint64_t)b * PAGE,
			   RX_BUF + (uint64_t)(b + 8) * PAGE },
	     (uint32_t[]){ HDR, len });
}

/* Copy every frame of the sender's burst to the receiver, as the
 * dataplane does, until one does not fit; returns how many went. */
static uint16_t
burst(uint16_t max, uint16_t *posted)
{
	struct vb_calls calls = { .n = 0 };
	struct vb_tx t;
	struct vb_rx q;
	uint16_t i = 0;

	assert_int_equal(vb_tx_open(&t, &d, TXV, max), 1);
	*posted = t.posted;
	assert_true(vb_rx_open(&q, &d, RXV, t.n));
	for (; i < t.n; i++) {
		const struct vd_chain *sc = &t.c[i];
		uint32_t room, flen = sc->len - HDR;
		const uint8_t *eth = vb_frame_head(sc, HDR, &room);
		uint8_t pre[14];

		assert_non_null(eth);
		memcpy(pre, eth, sizeof(pre));
		if (!vb_rx_put(&q, pre, sizeof(pre), sc, HDR + sizeof(pre), flen))
			break;
		vb_tx_done(&t, i);
	}
	vb_rx_close(&q, &calls);
	vb_tx_close(&t, i, &calls);
	vb_calls_flush(&calls);
	assert_int_equal(calls.n, 0);
	return i;
}

static void
check_rx(uint16_t start, uint16_t k, uint16_t b, int f, uint32_t flen)
{
	const struct vring_used_elem *e =
		&used(RXV)->ring[(uint16_t)(start + k) % RX_SIZE];
	const struct virtio_net_hdr_mrg_rxbuf *h = at(RX_BUF + (uint64_t)b * PAGE);

	assert_int_equal(e->id, b);
	assert_int_equal(e->len, HDR + flen);
	assert_int_equal(h->num_buffers, 1);
	assert_int_equal(h->hdr.flags, 0);
	assert_int_equal(h->hdr.gso_type, 0);
	assert_true(frame_is((const uint8_t *)h + HDR, f, flen));
	/* and not a byte after it */
	assert_int_equal(((const uint8_t *)h)[HDR + flen], 0xee);
}

/* Six frames (one and two buffers, 60 to 1500 bytes) across the rings'
 * ends and the 16-bit index wrap: in order, whole, indices and calls
 * right. */
static void
test_order_and_wrap(void **state)
{
	static const uint32_t flen[6] = { 60, 1500, 64, 700, 1200, 90 };
	static const uint32_t split[6] = { 0, 100, 0, 14, 1000, 30 };
	const uint16_t start = 65533;   /* rx slot 5, tx slot 13 */
	uint16_t tx_head[6], posted;

	(void)state;
	reset(start, true);
	for (int f = 0; f < 6; f++)
		tx_head[f] = post_frame((uint16_t)(f * 2 + 3), f, flen[f], split[f]);
	/* receive buffers posted out of order of their ids */
	for (uint16_t b = 0; b < 7; b++)
		post_rx((uint16_t)((b * 3) % 7), 2048);
	assert_int_equal(burst(32, &posted), 6);
	assert_int_equal(posted, 6);
	for (uint16_t k = 0; k < 6; k++) {
		const struct vring_used_elem *e =
			&used(TXV)->ring[(uint16_t)(start + k) % TX_SIZE];

		check_rx(start, k, (uint16_t)((k * 3) % 7), k, flen[k]);
		assert_int_equal(e->id, tx_head[k]);
		assert_int_equal(e->len, 0);
	}
	assert_int_equal(used(RXV)->idx, (uint16_t)(start + 6));
	assert_int_equal(used(TXV)->idx, (uint16_t)(start + 6));
	for (int v = 0; v < 2; v++) {
		assert_int_equal(lib_avail[v], (uint16_t)(start + 6));
		assert_int_equal(lib_used[v], (uint16_t)(start + 6));
	}
	/* the receiver first (its frames are there), then the sender */
	assert_int_equal(n_calls, 2);
	assert_int_equal(call_vring[0], RXV);
	assert_int_equal(call_vring[1], TXV);
	/* the seventh receive buffer stays posted for the next burst */
	assert_int_equal(avail(RXV)->idx, (uint16_t)(start + 7));
}

/* A burst takes no more than asked, and a receiver that runs out of (or
 * has too small) buffers stops it at that frame with nothing written for
 * it: the rest stays in the sender's ring for the library path. */
static void
test_full_receiver(void **state)
{
	const uint16_t start = 100;
	uint16_t posted;

	(void)state;
	reset(start, true);
	for (int f = 0; f < 4; f++)
		post_frame((uint16_t)(f * 2), f, 200, 0);
	post_rx(0, 2048);
	post_rx(1, 2048);
	post_rx(2, 100);        /* holds no 200-byte frame */
	post_rx(3, 2048);
	assert_int_equal(burst(1, &posted), 1);
	assert_int_equal(posted, 1);
	memcpy(before, gm, sizeof(gm));
	assert_int_equal(burst(32, &posted), 1);
	assert_int_equal(posted, 3);
	check_rx(start, 0, 0, 0, 200);
	check_rx(start, 1, 1, 1, 200);
	/* buffer 2 untouched, used entries and indices not past frame 1 */
	assert_memory_equal(at(RX_BUF + 2 * PAGE), before + RX_BUF + 2 * PAGE, 300);
	assert_int_equal(used(RXV)->idx, (uint16_t)(start + 2));
	assert_int_equal(used(TXV)->idx, (uint16_t)(start + 2));
	assert_int_equal(lib_avail[TXV], (uint16_t)(start + 2));
	assert_int_equal(lib_avail[RXV], (uint16_t)(start + 2));
	assert_memory_equal(&used(RXV)->ring[(start + 2) % RX_SIZE],
			    before + RX_USED + offsetof(struct vring_used, ring) +
			    ((start + 2) % RX_SIZE) * sizeof(struct vring_used_elem),
			    sizeof(struct vring_used_elem));
}

/* A frame with offload metadata across mergeable buffers, read ahead
 * only as needed: num_buffers, the header, one used entry per buffer;
 * without MRG_RXBUF it does not go, and nothing is written. */
static void
test_mergeable(void **state)
{
	const uint32_t flen = 3000, pre_len = 54;
	struct virtio_net_hdr vh = {
		.flags = VIRTIO_NET_HDR_F_NEEDS_CSUM, .csum_start = 34,
		.csum_offset = 16,
	};
	uint8_t pre[54];
	struct vb_calls calls = { .n = 0 };
	struct vb_tx t;
	struct vb_rx q;

	(void)state;
	for (int mrg = 1; mrg >= 0; mrg--) {
		reset(65535, mrg);
		post_frame(0, 5, flen, 1000);
		for (uint16_t b = 0; b < 4; b++)
			post_rx(b, 1024);
		memcpy(before, gm, sizeof(gm));
		assert_int_equal(vb_tx_open(&t, &d, TXV, 32), 1);
		/* one chain read ahead: the rest are read as the frame needs */
		assert_true(vb_rx_open(&q, &d, RXV, 1));
		assert_int_equal(q.n_ready, 1);
		vd_chain_gather(&t.c[0], HDR, pre, pre_len);
		if (!mrg) {
			assert_false(vb_rx_put_hdr(&q, &vh, pre, pre_len, &t.c[0],
						   HDR + pre_len, flen));
			vb_rx_close(&q, &calls);
			vb_tx_close(&t, 0, &calls);
			assert_int_equal(calls.n, 0);
			assert_memory_equal(gm, before, sizeof(gm));
			continue;
		}
		assert_true(vb_rx_put_hdr(&q, &vh, pre, pre_len, &t.c[0],
					  HDR + pre_len, flen));
		vb_tx_done(&t, 0);
		vb_rx_close(&q, &calls);
		vb_tx_close(&t, 1, &calls);
		vb_calls_flush(&calls);
		{
			const struct virtio_net_hdr_mrg_rxbuf *h = at(RX_BUF);
			uint8_t whole[3000];
			const uint32_t lens[3] = { 1024, 1024, HDR + flen - 2048 };

			assert_int_equal(h->num_buffers, 3);
			assert_int_equal(h->hdr.flags, VIRTIO_NET_HDR_F_NEEDS_CSUM);
			assert_int_equal(h->hdr.csum_start, 34);
			for (uint16_t k = 0; k < 3; k++) {
				const struct vring_used_elem *e =
					&used(RXV)->ring[(uint16_t)(65535 + k) % RX_SIZE];

				assert_int_equal(e->id, k);
				assert_int_equal(e->len, lens[k]);
			}
			memcpy(whole, at(RX_BUF + HDR), 1024 - HDR);
			memcpy(whole + 1024 - HDR, at(RX_BUF + PAGE), 1024);
			memcpy(whole + 2048 - HDR, at(RX_BUF + 2 * PAGE),
			       flen - (2048 - HDR));
			assert_true(frame_is(whole, 5, flen));
			assert_int_equal(used(RXV)->idx, (uint16_t)(65535 + 3));
			assert_int_equal(lib_avail[RXV], (uint16_t)(65535 + 3));
			/* buffer 3 untouched */
			assert_memory_equal(at(RX_BUF + 3 * PAGE),
					    before + RX_BUF + 3 * PAGE, 1024);
		}
	}
}

static bool
log_bit(uint64_t gpa)
{
	uint64_t page = gpa / PAGE;

	return bitmap[page / 8] & (1u << (page % 8));
}

/* Migrating: every byte a burst writes into the guest is in the dirty
 * log (headers on pages of their own too), and no page outside guest
 * memory is marked. */
static void
test_dirty_log(void **state)
{
	uint16_t posted;

	(void)state;
	for (int round = 0; round < 6; round++) {
		uint16_t start = (uint16_t)(65530 + round * 3);

		reset(start, true);
		d.logging = true;
		d.log_base = bitmap;
		d.log_size = sizeof(bitmap);
		memset(bitmap, 0, sizeof(bitmap));
		for (int f = 0; f < 5; f++)
			post_frame((uint16_t)(f * 3), f, 100 + f * 300,
				   f % 2 ? 50 : 0);
		post_rx(0, 2048);
		post_rx_split(1, 1, 2048);
		post_rx(3, 2048);
		post_rx_split(4, 4, 2048);
		post_rx(6, 2048);
		memcpy(before, gm, sizeof(gm));
		assert_int_equal(burst(32, &posted), 5);
		for (size_t i = 0; i < sizeof(gm); i++)
			if (gm[i] != before[i])
				assert_true(log_bit(GPA_BASE + i));
		for (uint64_t p = 0; p < sizeof(bitmap) * 8; p++)
			if (log_bit(p * PAGE))
				assert_true(p * PAGE >= GPA_BASE &&
					    p * PAGE < GPA_BASE + sizeof(gm));
	}
}

/* Refused, holding nothing: a guest whose avail index claims more than
 * its ring holds, a library that cannot say where the ring is, a vring
 * the vhost thread holds, a stale state; nothing posted is not an error. */
static void
test_refused(void **state)
{
	struct vb_tx t;
	struct vb_rx q;

	(void)state;
	reset(0, true);
	assert_int_equal(vb_tx_open(&t, &d, TXV, 32), 0);
	post_frame(0, 0, 60, 0);
	assert_int_equal(vb_tx_open(&t, &d, TXV, 0), 0);
	avail(TXV)->idx = TX_SIZE + 1;
	avail(RXV)->idx = RX_SIZE + 1;
	assert_int_equal(vb_tx_open(&t, &d, TXV, 32), -1);
	assert_false(vb_rx_open(&q, &d, RXV, 32));
	avail(TXV)->idx = 1;
	lib_fail_get = 1;
	assert_int_equal(vb_tx_open(&t, &d, TXV, 32), -1);
	assert_false(vb_rx_open(&q, &d, RXV, 32));
	lib_fail_get = 0;
	vd_lock(&d.lock[TXV]);
	assert_int_equal(vb_tx_open(&t, &d, TXV, 32), -1);
	vd_unlock(&d.lock[TXV]);
	d.ready = false;
	assert_int_equal(vb_tx_open(&t, &d, TXV, 32), -1);
	d.ready = true;
	/* every refusal let go of the vrings */
	for (int v = 0; v < 2; v++) {
		assert_true(vd_trylock(&d.lock[v]));
		vd_unlock(&d.lock[v]);
	}
	assert_int_equal(vb_tx_open(&t, &d, TXV, 32), 1);
	vb_tx_close(&t, 0, &(struct vb_calls){ .n = 0 });
	assert_int_equal(n_calls, 0);
	assert_int_equal(lib_avail[TXV], 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_order_and_wrap),
		cmocka_unit_test(test_full_receiver),
		cmocka_unit_test(test_mergeable),
		cmocka_unit_test(test_dirty_log),
		cmocka_unit_test(test_refused),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
