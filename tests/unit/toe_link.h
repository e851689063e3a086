/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The fake link of the TOE's unit tests: a server endpoint (the metadata
 * address's) and a client endpoint (standing for the guest, 10.0.0.11),
 * frames carried between them by a queue with a fake clock, delay, loss
 * and reordering as a test asks.  Header-only: each test binary has its
 * own copy of the state.
 */
#ifndef VTOE_TEST_TOE_LINK_H
#define VTOE_TEST_TOE_LINK_H

#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "toe_stack/toe_ep.h"

static const uint8_t GIP[4] = { 10, 0, 0, 11 };
static const uint8_t GMAC[6] = { 0x52, 0x54, 0, 0, 1, 1 };
static const uint8_t KEY[16] = "0123456789abcdef";

struct frame {
	uint8_t *data;
	uint32_t len;
	uint64_t at;
	int to;                 /* 0: server, 1: client */
	bool whole_ok;          /* a super-frame: checksum partial */
};

#define QMAX 200000
static struct frame q[QMAX], due[QMAX];
static unsigned int nq;
static uint64_t now;
static struct toe_ep_conf sconf, cconf;
static struct toe_ep srv, cli;
static unsigned int loss_ppm, reorder_ppm, delay_ms = 1;
static unsigned int drop_to_client, drop_to_server;     /* drop all */
static uint64_t frames_sent[2], frames_lost[2];
static uint32_t rng = 12345;
/* A test's own say on a frame (true: lost), or NULL. */
static bool (*link_filter)(int to, const struct toe_emit *e);

static inline uint32_t
rnd(void)
{
	rng = rng * 1103515245u + 12345u;
	return rng >> 8;
}

static inline void
emit(void *arg, const struct toe_emit *e)
{
	int to = arg == &srv ? 1 : 0;   /* the server's frames go to the client */
	uint32_t len = e->hdr_len + e->pay_len[0] + e->pay_len[1];
	struct frame *f;

	frames_sent[to]++;
	/* every frame fits a 1500-byte MTU, or cuts into frames that do */
	if (e->mss == 0)
		assert_true(len <= 1514);
	else
		assert_true(e->hdr_len + e->mss <= 1514);
	if ((to == 1 && drop_to_client) || (to == 0 && drop_to_server) ||
	    rnd() % 1000000 < loss_ppm || (link_filter != NULL && link_filter(to, e))) {
		frames_lost[to]++;
		return;
	}
	assert_true(nq < QMAX);
	f = &q[nq++];
	f->data = malloc(len);
	assert_non_null(f->data);
	memcpy(f->data, e->hdr, e->hdr_len);
	if (e->pay_len[0] > 0)
		memcpy(f->data + e->hdr_len, e->pay[0], e->pay_len[0]);
	if (e->pay_len[1] > 0)
		memcpy(f->data + e->hdr_len + e->pay_len[0], e->pay[1], e->pay_len[1]);
	f->len = len;
	f->to = to;
	f->whole_ok = e->l4_partial;
	f->at = now + delay_ms + (rnd() % 1000000 < reorder_ppm ? 1 + rnd() % 3 : 0);
}

/* Deliver what is due, in the order sent, run the timers; one ms. */
static inline void
tick(void)
{
	unsigned int nd = 0, k = 0;

	now++;
	for (unsigned int i = 0; i < nq; i++) {
		if (q[i].at <= now)
			due[nd++] = q[i];
		else
			q[k++] = q[i];
	}
	nq = k;
	for (unsigned int i = 0; i < nd; i++) {
		toe_ep_input(due[i].to == 0 ? &srv : &cli, due[i].data,
			     due[i].len, due[i].whole_ok, now);
		free(due[i].data);
	}
	toe_wheel_run(&srv.wheel, now);
	toe_wheel_run(&cli.wheel, now);
}

static inline void
run_ms(unsigned int ms)
{
	while (ms--)
		tick();
}

/* Both endpoints, fresh, the link empty and clean. */
static inline void
link_setup(void)
{
	for (unsigned int i = 0; i < nq; i++)
		free(q[i].data);
	nq = 0;
	now = 1000;
	loss_ppm = reorder_ppm = 0;
	delay_ms = 1;
	drop_to_client = drop_to_server = 0;
	link_filter = NULL;
	memset(frames_sent, 0, sizeof(frames_sent));
	memset(frames_lost, 0, sizeof(frames_lost));
	memset(&sconf, 0, sizeof(sconf));
	memcpy(sconf.mac, GMAC, 6);
	memcpy(sconf.ip4, GIP, 4);
	sconf.prefix4 = 24;
	sconf.metadata = true;
	/* The client endpoint stands for the guest: its own address is
	 * "the gateway" of a port whose guest is 169.254.169.254. */
	memset(&cconf, 0, sizeof(cconf));
	memcpy(cconf.mac, GMAC, 6);
	memcpy(cconf.ip4, toe_ep_md_ip4, 4);
	cconf.prefix4 = 16;
	cconf.has_gw = true;
	memcpy(cconf.gw4, GIP, 4);
	toe_ep_init(&srv, &sconf, KEY, emit, &srv, now);
	toe_ep_init(&cli, &cconf, (const uint8_t *)"fedcba9876543210", emit, &cli, now);
}

static inline void
link_teardown(void)
{
	toe_ep_fini(&srv);
	toe_ep_fini(&cli);
	for (unsigned int i = 0; i < nq; i++)
		free(q[i].data);
	nq = 0;
}

#endif /* VTOE_TEST_TOE_LINK_H */
