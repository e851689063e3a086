/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The TOE's TCP (toe_tcp.h) against itself over a fake link with a fake
 * clock: a server endpoint (the metadata address's) and a client endpoint
 * (toe_connect from the guest's address), frames carried between them
 * with loss, reordering and delay as a test asks, or raw segments built
 * here.  Handshake and options, transfers checked byte for byte (also
 * with 1% loss and reordering, and as super-frames), every close, RTO
 * backoff and the give-up, zero window, keepalive, RFC 5961 challenge
 * ACKs, PAWS, SYN cookies, a SYN flood in bounded memory, TIME_WAIT.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "toe_stack/toe_ep.h"
#include "toe_stack/toe_sock.h"
#include "toe_link.h"

/* ------------------------------------------------------------------ */
/* Applications: a server that accepts one connection and either echoes
 * or sinks, a client that sends a pattern and checks what comes back. */

struct app {
	struct toe_sock *l, *c;         /* NULL once closed */
	unsigned int events;
	uint64_t to_send, sent, got;
	uint32_t check;                 /* running hash of bytes received */
	bool echo, eof, closed_on_eof, read_stop;
	int err;
};

static struct app sa, ca;

static int
setup(void **state)
{
	(void)state;
	link_setup();
	return 0;
}

static int
teardown(void **state)
{
	(void)state;
	/* the handles the applications still hold */
	if (sa.c != NULL)
		toe_close(sa.c);
	if (ca.c != NULL)
		toe_close(ca.c);
	if (sa.l != NULL)
		toe_close(sa.l);
	memset(&sa, 0, sizeof(sa));
	memset(&ca, 0, sizeof(ca));
	link_teardown();
	return 0;
}

static uint8_t
pattern(uint64_t i)
{
	return (uint8_t)(i * 131 + (i >> 9));
}

static void
app_pump(struct app *a)
{
	uint8_t buf[8192];
	long n;

	for (;;) {
		size_t want = sizeof(buf);

		if (a->read_stop)
			break;
		/* an echo reads no more than it can send back */
		if (a->echo && toe_send_room(a->c) < want)
			want = toe_send_room(a->c);
		if (want == 0 || (n = toe_recv(a->c, buf, want)) <= 0)
			break;
		for (long i = 0; i < n; i++) {
			if (!a->echo)
				assert_int_equal(buf[i], pattern(a->got + (uint64_t)i));
			a->check = a->check * 31 + buf[i];
		}
		a->got += (uint64_t)n;
		if (a->echo) {
			long m = toe_send(a->c, buf, (size_t)n);

			assert_int_equal(m, n);     /* echo buffer as big */
		}
	}
	if (!a->read_stop && toe_recv_ready(a->c) == 0 &&
	    toe_recv(a->c, buf, 0) == 0 && !a->eof) {
		a->eof = true;
		if (a->closed_on_eof)
			toe_shutdown(a->c);
	}
	while (a->sent < a->to_send) {
		size_t room = toe_send_room(a->c), k;
		uint64_t want = a->to_send - a->sent;

		if (room == 0)
			break;
		k = want < room ? want : room;
		if (k > sizeof(buf))
			k = sizeof(buf);
		for (size_t i = 0; i < k; i++)
			buf[i] = pattern(a->sent + i);
		n = toe_send(a->c, buf, k);
		if (n <= 0)
			break;
		a->sent += (uint64_t)n;
	}
}

static void
conn_cb(struct toe_sock *s, unsigned int ev, void *arg)
{
	struct app *a = arg;

	(void)s;
	a->events |= ev;
	if (ev & TOE_SOCK_ERROR)
		a->err = toe_sock_error(s);
	if (!(ev & TOE_SOCK_ERROR))
		app_pump(a);
}

static void
listen_cb(struct toe_sock *l, unsigned int ev, void *arg)
{
	struct app *a = arg;
	struct toe_sock *c;

	assert_true(ev & TOE_SOCK_ACCEPT);
	while ((c = toe_accept(l)) != NULL) {
		a->c = c;
		toe_sock_set_cb(c, conn_cb, a);
		app_pump(a);
	}
}

static void
start(const struct toe_sock_opts *sopts, const struct toe_sock_opts *copts,
      unsigned int backlog)
{
	memset(&sa, 0, sizeof(sa));
	memset(&ca, 0, sizeof(ca));
	sa.l = toe_listen(&srv, toe_ep_md_ip4, 80, backlog, sopts, listen_cb, &sa);
	assert_non_null(sa.l);
	ca.c = toe_connect(&cli, GIP, toe_ep_md_ip4, 80, copts, conn_cb, &ca);
	assert_non_null(ca.c);
}

static struct toe_sock *
srv_conn(void)
{
	return sa.c;
}

static void
test_handshake_options(void **state)
{
	(void)state;
	start(NULL, NULL, 4);
	run_ms(10);
	assert_true(ca.events & TOE_SOCK_CONNECTED);
	assert_non_null(srv_conn());
	assert_int_equal(srv_conn()->state, TOE_TCP_ESTABLISHED);
	assert_int_equal(ca.c->state, TOE_TCP_ESTABLISHED);
	/* RFC 7323 and 2018 options both ways, MSS 1460 */
	assert_true(srv_conn()->ws_ok && srv_conn()->ts_ok && srv_conn()->sack_ok);
	assert_true(ca.c->ws_ok && ca.c->ts_ok && ca.c->sack_ok);
	assert_int_equal(srv_conn()->mss, 1448);        /* 1460 - timestamps */
	assert_int_equal(srv_conn()->rcv_wscale, ca.c->snd_wscale);
	assert_int_equal(srv.stats.tcp_passive_opens, 1);
	assert_int_equal(cli.stats.tcp_active_opens, 1);
	/* the ISNs differ per connection and side */
	assert_int_not_equal(srv_conn()->iss, ca.c->iss);
	/* a closed port: RST */
	{
		struct app x = { 0 };
		struct toe_sock *c = toe_connect(&cli, GIP, toe_ep_md_ip4, 81,
						 NULL, conn_cb, &x);

		run_ms(5);
		assert_int_equal(x.err, ECONNREFUSED);
		toe_close(c);
	}
}

/* A transfer of n bytes each way (the server echoes), exact. */
static void
echo_transfer(uint64_t n, unsigned int max_ms)
{
	struct toe_sock_opts o = { .sndbuf = 256 * 1024, .rcvbuf = 256 * 1024 };

	start(&o, &o, 4);
	sa.echo = true;
	sa.closed_on_eof = true;
	ca.to_send = n;
	ca.closed_on_eof = false;
	run_ms(5);
	app_pump(&ca);
	for (unsigned int t = 0; t < max_ms && !(ca.got == n && sa.eof); t++) {
		tick();
		if (ca.sent == n && ca.got == n && !ca.eof)
			toe_shutdown(ca.c);
		if (ca.sent < n)
			app_pump(&ca);
	}
	assert_int_equal(ca.sent, n);
	assert_int_equal(sa.got, n);
	assert_int_equal(ca.got, n);
	assert_int_equal(ca.check, sa.check);
}

static void
test_transfer_clean(void **state)
{
	(void)state;
	echo_transfer(4u << 20, 20000);
	/* nothing lost: no recovery, no timeout (a zero-window probe byte
	 * sent again is all that may repeat: the echo stops reading while
	 * it cannot send) */
	assert_int_equal(srv.stats.tcp_rto_timeouts + cli.stats.tcp_rto_timeouts, 0);
	assert_int_equal(srv.stats.tcp_fast_recoveries + cli.stats.tcp_fast_recoveries, 0);
	assert_int_equal(srv.stats.tcp_ooo_segs + cli.stats.tcp_ooo_segs, 0);
	assert_true(srv.stats.tcp_retransmits + cli.stats.tcp_retransmits <= 4);
	/* both closed: the server after the client's FIN */
	run_ms(200);
	assert_true(ca.eof);
}

static void
test_transfer_loss_reorder(void **state)
{
	(void)state;
	loss_ppm = 10000;               /* 1 % each way */
	reorder_ppm = 50000;            /* 5 % late by 1-3 ms */
	echo_transfer(4u << 20, 120000);
	assert_true(frames_lost[0] + frames_lost[1] > 0);
	assert_true(srv.stats.tcp_retransmits + cli.stats.tcp_retransmits > 0);
	assert_true(srv.stats.tcp_fast_recoveries + cli.stats.tcp_fast_recoveries > 0);
	assert_true(srv.stats.tcp_ooo_segs + cli.stats.tcp_ooo_segs > 0);
	print_message("1%% loss: lost %llu/%llu frames, retransmits %llu+%llu, recoveries %llu+%llu, RTOs %llu+%llu\n",
		      (unsigned long long)(frames_lost[0] + frames_lost[1]),
		      (unsigned long long)(frames_sent[0] + frames_sent[1]),
		      (unsigned long long)srv.stats.tcp_retransmits,
		      (unsigned long long)cli.stats.tcp_retransmits,
		      (unsigned long long)srv.stats.tcp_fast_recoveries,
		      (unsigned long long)cli.stats.tcp_fast_recoveries,
		      (unsigned long long)srv.stats.tcp_rto_timeouts,
		      (unsigned long long)cli.stats.tcp_rto_timeouts);
}

static void
test_transfer_cubic(void **state)
{
	(void)state;
	/* CUBIC on both ends (the port's setting), 1 % loss each way */
	sconf.tcp_cc = cconf.tcp_cc = TOE_CC_CUBIC;
	loss_ppm = 10000;
	echo_transfer(4u << 20, 120000);
	assert_int_equal(srv_conn()->cc.algo, TOE_CC_CUBIC);
	assert_true(srv.stats.tcp_fast_recoveries + cli.stats.tcp_fast_recoveries > 0);
	assert_true(srv_conn()->cc.w_max > 0);
}

static void
test_transfer_no_sack(void **state)
{
	(void)state;
	/* a peer without SACK: NewReno recovery */
	loss_ppm = 5000;
	start(&(struct toe_sock_opts){ .sndbuf = 128 * 1024 },
	      &(struct toe_sock_opts){ .rcvbuf = 128 * 1024 }, 4);
	/* the SYN in flight loses its SACK-permitted option */
	{
		struct frame *f = &q[nq - 1];
		uint8_t *o = f->data + 14 + 20 + 20;

		for (uint32_t i = 0; o + i < f->data + f->len; i++)
			if (o[i] == 4 && o[i + 1] == 2) {
				o[i] = o[i + 1] = 1;
				break;
			}
		f->whole_ok = true;
		ca.c->sack_ok = false;
	}
	sa.to_send = 2u << 20;
	run_ms(5);
	app_pump(&sa);
	for (unsigned int t = 0; t < 120000 && ca.got < sa.to_send; t++) {
		tick();
		app_pump(&sa);
	}
	assert_false(srv_conn()->sack_ok);
	assert_int_equal(ca.got, 2u << 20);
	assert_true(srv.stats.tcp_fast_recoveries > 0);
}

static void
test_super_frames(void **state)
{
	(void)state;
	srv.tcp.super = cli.tcp.super = true;
	echo_transfer(2u << 20, 20000);
	assert_true(srv.stats.tcp_segs_out < (2u << 20) / 1460);
}

static void
test_close_sequences(void **state)
{
	struct toe_sock *s;

	(void)state;
	start(NULL, NULL, 4);
	run_ms(5);
	s = srv_conn();
	/* the client closes first: FIN_WAIT_2 / CLOSE_WAIT */
	toe_shutdown(ca.c);
	run_ms(5);
	assert_int_equal(ca.c->state, TOE_TCP_FIN_WAIT_2);
	assert_int_equal(s->state, TOE_TCP_CLOSE_WAIT);
	assert_int_equal(toe_recv(s, (uint8_t[4]){ 0 }, 4), 0);        /* EOF */
	toe_close(s);
	sa.c = NULL;
	run_ms(5);
	/* LAST_ACK acknowledged: the server's side is gone; TIME_WAIT */
	assert_int_equal(ca.c->state, TOE_TCP_TIME_WAIT);
	assert_int_equal(srv.tcp.n_conns, 0);
	run_ms(2 * TOE_TCP_MSL_MS + 10);
	assert_int_equal(ca.c->state, TOE_TCP_CLOSED);
	assert_int_equal(cli.tcp.n_tw, 0);
	toe_close(ca.c);
	toe_close(sa.l);

	/* simultaneous close: CLOSING on both, then TIME_WAIT */
	start(NULL, NULL, 4);
	run_ms(5);
	delay_ms = 3;
	toe_shutdown(ca.c);
	toe_shutdown(srv_conn());
	run_ms(2);
	assert_int_equal(ca.c->state, TOE_TCP_FIN_WAIT_1);
	run_ms(2);
	assert_int_equal(ca.c->state, TOE_TCP_CLOSING);
	run_ms(10);
	assert_int_equal(ca.c->state, TOE_TCP_TIME_WAIT);
	assert_int_equal(srv_conn()->state, TOE_TCP_TIME_WAIT);
	toe_close(srv_conn());
	toe_close(ca.c);
	toe_close(sa.l);
	memset(&sa, 0, sizeof(sa));
	memset(&ca, 0, sizeof(ca));
}

static void
test_rto_backoff(void **state)
{
	uint64_t t0, last = 0;
	unsigned int sends = 0;
	uint64_t gaps[8];

	(void)state;
	start(NULL, NULL, 4);
	run_ms(5);
	drop_to_client = 1;
	sa.to_send = 1000;
	app_pump(&sa);
	t0 = now;
	/* each retransmission twice as late as the one before, from the
	 * 200 ms minimum (RFC 6298 5.5) */
	while (sends < 6) {
		uint64_t before = frames_sent[1];

		tick();
		if (frames_sent[1] != before) {
			if (last != 0 && sends < 8)
				gaps[sends - 1] = now - last;
			last = now;
			sends++;
		}
	}
	(void)t0;
	for (unsigned int i = 1; i + 1 < sends; i++)
		assert_true(gaps[i] >= 2 * gaps[i - 1] - 2 && gaps[i] <= 2 * gaps[i - 1] + 2);
	assert_true(gaps[0] >= TOE_TCP_RTO_MIN_MS);
	/* and at last it gives up: ETIMEDOUT, an RST */
	run_ms(20 * 60000);
	assert_int_equal(sa.err, ETIMEDOUT);
	assert_int_equal(srv.stats.tcp_timeouts, 1);
}

static void
test_zero_window(void **state)
{
	(void)state;
	start(&(struct toe_sock_opts){ .sndbuf = 64 * 1024 },
	      &(struct toe_sock_opts){ .rcvbuf = 4096 }, 4);
	run_ms(5);
	ca.read_stop = true;
	sa.to_send = 32 * 1024;
	app_pump(&sa);
	run_ms(5000);
	/* the client's buffer holds what whole segments fit (sender SWS
	 * avoidance, RFC 9293 3.8.6.2.1); the server waits, never gives up */
	assert_int_equal(toe_recv_ready(ca.c), 2 * 1448);
	assert_int_equal(srv_conn()->state, TOE_TCP_ESTABLISHED);
	assert_int_equal(srv.stats.tcp_timeouts, 0);
	ca.read_stop = false;
	app_pump(&ca);
	for (unsigned int t = 0; t < 30000 && ca.got < sa.to_send; t++) {
		tick();
		app_pump(&ca);
	}
	assert_int_equal(ca.got, 32 * 1024);
}

static void
test_keepalive(void **state)
{
	struct toe_sock_opts o = { .ka_idle_ms = 1000, .ka_intvl_ms = 500, .ka_probes = 3 };

	(void)state;
	start(&o, NULL, 4);
	run_ms(5);
	run_ms(3000);
	/* probes answered: still up */
	assert_int_equal(srv_conn()->state, TOE_TCP_ESTABLISHED);
	drop_to_server = 1;
	run_ms(4000);
	assert_int_equal(sa.err, ETIMEDOUT);
}

/* Raw segment from the client's address to the server's port 80. */
static void
raw_seg(uint16_t sport, uint32_t seq, uint32_t ack, uint8_t flags,
	const uint8_t *opts, uint32_t optlen, uint32_t data)
{
	uint8_t f[256];
	uint8_t *ip = f + 14, *t = ip + 20;
	uint32_t thl = 20 + optlen, n = thl + data, sum = 0;

	memset(f, 0, sizeof(f));
	memcpy(f, toe_ep_vmac, 6);
	memcpy(f + 6, GMAC, 6);
	f[12] = 0x08;
	ip[0] = 0x45;
	ip[2] = (uint8_t)((20 + n) >> 8);
	ip[3] = (uint8_t)(20 + n);
	ip[8] = 64;
	ip[9] = 6;
	memcpy(ip + 12, GIP, 4);
	memcpy(ip + 16, toe_ep_md_ip4, 4);
	t[0] = (uint8_t)(sport >> 8);
	t[1] = (uint8_t)sport;
	t[3] = 80;
	t[4] = (uint8_t)(seq >> 24); t[5] = (uint8_t)(seq >> 16); t[6] = (uint8_t)(seq >> 8); t[7] = (uint8_t)seq;
	t[8] = (uint8_t)(ack >> 24); t[9] = (uint8_t)(ack >> 16); t[10] = (uint8_t)(ack >> 8); t[11] = (uint8_t)ack;
	t[12] = (uint8_t)(thl / 4 << 4);
	t[13] = flags;
	t[14] = 0xff;
	t[15] = 0xff;
	if (optlen > 0)
		memcpy(t + 20, opts, optlen);
	for (int i = 0; i < 20; i += 2)
		sum += (uint32_t)(ip[i] << 8 | ip[i + 1]);
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	ip[10] = (uint8_t)(~sum >> 8);
	ip[11] = (uint8_t)~sum;
	toe_ep_input(&srv, f, 14 + 20 + n, true, now);
}

static void
test_challenge_acks(void **state)
{
	struct toe_sock *s;
	uint64_t out0;
	uint32_t rn;

	(void)state;
	start(NULL, NULL, 4);
	run_ms(5);
	s = srv_conn();
	rn = s->rcv_nxt;
	/* RST in the window, not at its edge: challenge ACK, connection up */
	out0 = frames_sent[1];
	raw_seg(ca.c->lport, rn + 100, 0, 0x04, NULL, 0, 0);
	assert_int_equal(srv.stats.drops[TOE_EP_DROP_TCP_RST_CHALLENGED], 1);
	assert_int_equal(frames_sent[1], out0 + 1);
	assert_int_equal(s->state, TOE_TCP_ESTABLISHED);
	/* RST outside the window: dropped, no answer */
	raw_seg(ca.c->lport, rn + 10000000, 0, 0x04, NULL, 0, 0);
	assert_int_equal(frames_sent[1], out0 + 1);
	/* SYN on the connection: challenge ACK */
	raw_seg(ca.c->lport, rn + 5, 0, 0x02, NULL, 0, 0);
	assert_int_equal(srv.stats.drops[TOE_EP_DROP_TCP_SYN_CHALLENGED], 1);
	assert_int_equal(srv.stats.tcp_challenge_acks, 2);
	/* an ACK of data never sent: challenge ACK, nothing acknowledged */
	raw_seg(ca.c->lport, rn, s->snd_max + 100000, 0x10, NULL, 0, 0);
	assert_int_equal(srv.stats.drops[TOE_EP_DROP_TCP_ACK_INVALID], 1);
	/* the rate limit: at most 100 a second */
	for (int i = 0; i < 300; i++)
		raw_seg(ca.c->lport, rn + 50, 0, 0x04, NULL, 0, 0);
	assert_true(srv.stats.tcp_challenge_acks <= TOE_TCP_CHALLENGE_PER_S + 1);
	/* a segment outside the window: an ACK, dropped */
	raw_seg(ca.c->lport, rn + 3000000, ca.c->snd_nxt, 0x10, NULL, 0, 10);
	assert_int_equal(srv.stats.drops[TOE_EP_DROP_TCP_OUT_OF_WINDOW], 2);
	/* the exact RST resets */
	raw_seg(ca.c->lport, rn, 0, 0x04, NULL, 0, 0);
	assert_int_equal(s->state, TOE_TCP_CLOSED);
	assert_int_equal(sa.err, ECONNRESET);
}

static void
test_paws(void **state)
{
	struct toe_sock *s;
	uint8_t ts[12] = { 1, 1, 8, 10 };

	(void)state;
	start(NULL, NULL, 4);
	run_ms(50);
	s = srv_conn();
	/* a timestamp older than the last one seen */
	ts[4] = (uint8_t)((s->ts_recent - 1000) >> 24);
	ts[5] = (uint8_t)((s->ts_recent - 1000) >> 16);
	ts[6] = (uint8_t)((s->ts_recent - 1000) >> 8);
	ts[7] = (uint8_t)(s->ts_recent - 1000);
	raw_seg(ca.c->lport, s->rcv_nxt, s->snd_nxt, 0x18, ts, 12, 20);
	assert_int_equal(srv.stats.drops[TOE_EP_DROP_TCP_PAWS], 1);
	assert_int_equal(toe_recv_ready(s), 0);
}

static void
test_syn_cookies_and_flood(void **state)
{
	uint8_t mss[4] = { 2, 4, 0x05, 0xb4 };

	(void)state;
	memset(&sa, 0, sizeof(sa));
	sa.l = toe_listen(&srv, toe_ep_md_ip4, 80, 8, NULL, listen_cb, &sa);
	/* 100,000 SYNs from as many ports, never completed */
	drop_to_client = 1;
	for (uint32_t i = 0; i < 100000; i++)
		raw_seg((uint16_t)(1024 + i % 60000), i * 7919, 0, 0x02, mss, 4, 0);
	drop_to_client = 0;
	/* bounded: the backlog's half-open connections, no buffers */
	assert_int_equal(srv.tcp.n_conns, 8);
	assert_int_equal(srv.tcp.mem, 0);
	assert_true(srv.stats.tcp_syncookies_sent >= 100000 - 8 - 60000);
	/* a real client still gets through, by cookie */
	ca.c = toe_connect(&cli, GIP, toe_ep_md_ip4, 80, NULL, conn_cb, &ca);
	sa.echo = true;
	run_ms(20);
	assert_true(ca.events & TOE_SOCK_CONNECTED);
	assert_int_equal(srv.stats.tcp_syncookies_ok, 1);
	assert_true(srv_conn()->cookie);
	ca.to_send = 100000;
	app_pump(&ca);
	run_ms(2000);
	assert_int_equal(ca.got, 100000);
	/* an ACK that is no cookie: RST */
	raw_seg(2000, 5, 12345, 0x10, NULL, 0, 0);
	assert_int_equal(srv.stats.drops[TOE_EP_DROP_TCP_BAD_COOKIE], 1);
	/* the half-open ones time out (SYN-ACK retries) */
	run_ms(200000);
	assert_int_equal(srv.tcp.n_conns, 1);
}

static void
test_time_wait_bound(void **state)
{
	(void)state;
	memset(&sa, 0, sizeof(sa));
	sa.l = toe_listen(&srv, toe_ep_md_ip4, 80, 64, NULL, listen_cb, &sa);
	/* connections the server closes first end in its TIME_WAIT */
	for (unsigned int i = 0; i < TOE_TCP_TW_MAX + 50; i++) {
		struct app x = { 0 };
		struct toe_sock *c = toe_connect(&cli, GIP, toe_ep_md_ip4, 80,
						 NULL, conn_cb, &x);

		x.c = c;
		run_ms(3);
		assert_non_null(sa.c);
		toe_close(sa.c);
		sa.c = NULL;
		run_ms(3);
		toe_close(c);
		run_ms(3);
	}
	/* a SYN that reuses a TIME_WAIT's ports takes it over (RFC 6191):
	 * the others beyond the bound were recycled */
	assert_int_equal(srv.tcp.n_tw, TOE_TCP_TW_MAX);
	assert_true(srv.stats.tcp_tw_recycled > 0 && srv.stats.tcp_tw_recycled <= 50);
	assert_int_equal(srv.tcp.n_conns, 0);
	run_ms(2 * TOE_TCP_MSL_MS + 10);
	assert_int_equal(srv.tcp.n_tw, 0);
}

/* A listener closed while a handshake to it is under way: the half-open
 * connection goes with it (nothing points at the freed listener). */
static void
test_listener_close_half_open(void **state)
{
	(void)state;
	delay_ms = 5;
	start(NULL, NULL, 4);
	run_ms(6);                      /* the SYN arrived, the ACK not yet */
	assert_int_equal(srv.tcp.n_conns, 1);
	toe_close(sa.l);
	sa.l = NULL;
	assert_int_equal(srv.tcp.n_conns, 0);
	run_ms(20);                     /* the ACK comes: RST, no listener */
	assert_int_equal(srv.tcp.n_conns, 0);
	assert_int_equal(ca.err, ECONNRESET);
}

static void
test_snapshot(void **state)
{
	struct toe_tcp_conn_info info[TOE_TCP_CONN_INFO_MAX];
	uint32_t total;
	unsigned int n;

	(void)state;
	start(NULL, NULL, 4);
	run_ms(5);
	toe_tcp_snapshot(&srv.tcp);
	n = toe_tcp_info_read(&srv.tcp, info, &total);
	assert_int_equal(n, 1);
	assert_int_equal(total, 1);
	assert_int_equal(info[0].state, TOE_TCP_ESTABLISHED);
	assert_int_equal(info[0].lport, 80);
	assert_memory_equal(info[0].raddr, GIP, 4);
	assert_string_equal(toe_tcp_state_name(info[0].state), "established");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_handshake_options, setup, teardown),
		cmocka_unit_test_setup_teardown(test_transfer_clean, setup, teardown),
		cmocka_unit_test_setup_teardown(test_transfer_loss_reorder, setup, teardown),
		cmocka_unit_test_setup_teardown(test_transfer_cubic, setup, teardown),
		cmocka_unit_test_setup_teardown(test_transfer_no_sack, setup, teardown),
		cmocka_unit_test_setup_teardown(test_super_frames, setup, teardown),
		cmocka_unit_test_setup_teardown(test_close_sequences, setup, teardown),
		cmocka_unit_test_setup_teardown(test_rto_backoff, setup, teardown),
		cmocka_unit_test_setup_teardown(test_zero_window, setup, teardown),
		cmocka_unit_test_setup_teardown(test_keepalive, setup, teardown),
		cmocka_unit_test_setup_teardown(test_challenge_acks, setup, teardown),
		cmocka_unit_test_setup_teardown(test_paws, setup, teardown),
		cmocka_unit_test_setup_teardown(test_syn_cookies_and_flood, setup, teardown),
		cmocka_unit_test_setup_teardown(test_time_wait_bound, setup, teardown),
		cmocka_unit_test_setup_teardown(test_listener_close_half_open, setup, teardown),
		cmocka_unit_test_setup_teardown(test_snapshot, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
