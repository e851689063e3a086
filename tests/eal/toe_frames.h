/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Frames for the TOE tests, crafted byte by byte, and an independent
 * reference for what the library computes: a header reader and RFC 1071
 * checksums in network byte order that share no code with src/toe_stack.
 * Also the harness shared by the test files: EAL up once, one mempool, a
 * fresh toe_ctx per test and a leak check after it.
 */
#ifndef VTOE_TEST_TOE_FRAMES_H
#define VTOE_TEST_TOE_FRAMES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct rte_mbuf;
struct rte_mempool;
struct toe_ctx;

#define TF_FRAME_MAX 70000

/* TCP flags as on the wire. */
#define TF_FIN 0x01
#define TF_SYN 0x02
#define TF_RST 0x04
#define TF_PSH 0x08
#define TF_ACK 0x10
#define TF_URG 0x20
#define TF_ECE 0x40
#define TF_CWR 0x80

/* What to build.  Zero fields get sensible defaults (see tf_build). */
struct tf_spec {
	int ipv;                        /* 4 or 6 */
	uint8_t proto;                  /* 0 = TCP, or IPPROTO_UDP / _ICMP */
	bool vlan;                      /* one 802.1Q tag */
	uint8_t flow;                   /* varies addresses and ports */
	uint32_t seq, ack;
	uint8_t flags;                  /* TCP flags; 0 = ACK */
	uint16_t window;                /* 0 = 502 */
	bool no_ts;                     /* no timestamp option (default: 12 bytes) */
	uint32_t tsval;
	uint16_t ip_id;
	uint8_t ttl;                    /* 0 = 64 */
	uint8_t tos;
	bool no_df;
	uint16_t frag_off;              /* IPv4 flags/offset word, beyond DF */
	uint8_t ip_opt_words;           /* IPv4 options, 4-byte NOPs */
	uint32_t payload_len;
	uint32_t payload_off;           /* payload byte j is tf_byte(payload_off + j) */
	bool csum_partial;              /* L4 field = pseudo-header sum (guest NEEDS_CSUM) */
	bool csum_bad;                  /* L4 field off by one */
};

uint8_t tf_byte(uint32_t pos);
/* Returns the frame length written to buf (at most TF_FRAME_MAX). */
size_t tf_build(const struct tf_spec *s, uint8_t *buf);

/* A chain holding buf, seg_size bytes per mbuf (0: as many as fit).
 * Under ASan, each mbuf's headroom and tailroom are poisoned, so a read
 * past the data (or before it) is reported even inside the mempool. */
struct rte_mbuf *tf_mbuf(struct rte_mempool *mp, const uint8_t *buf,
			 size_t len, uint32_t seg_size);
/* The frame in an external buffer of its own, as rte_vhost hands over a
 * large one (up to 64 KB with its headroom and shared info); each release
 * of such a buffer adds one to *freed. */
struct rte_mbuf *tf_mbuf_ext(struct rte_mempool *mp, const uint8_t *buf,
			     size_t len, int *freed);
/* The first mbuf's headroom may be written (a header prepended). */
void tf_headroom_open(struct rte_mbuf *m);
/* Before the pool is freed (EAL clears its memory). */
void tf_pool_unpoison(struct rte_mempool *mp);
struct rte_mbuf *tf_mbuf_spec(struct rte_mempool *mp, const struct tf_spec *s,
			      uint32_t seg_size);
/* The frame's bytes, linear; returns its length. */
size_t tf_linear(const struct rte_mbuf *m, uint8_t *buf);

/* Reference reader for the frames tf_build makes. */
struct tf_view {
	uint32_t l2, l3, l4;            /* header sizes */
	int ipv;
	uint8_t proto;
	uint32_t ip_len;                /* IPv4 total length / IPv6 payload length */
	uint16_t ip_id;
	uint32_t seq, ack;
	uint8_t flags;
	uint16_t window;
	uint32_t payload_off, payload_len;
	uint16_t l4_csum;               /* the field, host order */
};
void tf_view(const uint8_t *buf, size_t len, struct tf_view *v);

uint16_t tf_sum(const uint8_t *p, size_t len, uint32_t init);
bool tf_ipv4_csum_ok(const uint8_t *buf, const struct tf_view *v);
bool tf_l4_csum_ok(const uint8_t *buf, const struct tf_view *v);
/* The folded pseudo-header sum a partial checksum field must hold. */
uint16_t tf_pseudo(const uint8_t *buf, const struct tf_view *v);

/* Harness (test_toe.c). */
struct toe_test {
	struct rte_mempool *pool;       /* the ctx's: segments, copies */
	struct rte_mempool *guest;      /* frames "from a guest" (tf_mbuf) */
	struct toe_ctx *ctx;
};
extern struct toe_test toe_t;
int toe_test_setup(void **state);
int toe_test_teardown(void **state);

#endif /* VTOE_TEST_TOE_FRAMES_H */
