/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The iperf3 server (toe_iperf3.h) against a scripted iperf3 client, two
 * TOE endpoints over a fake link with a fake clock (the harness of
 * test_toe_tcp.c): the server endpoint answers for 169.254.169.254, the
 * client endpoint connects from 10.0.0.11 and speaks the protocol as
 * iperf3 3.12 does (its cookie, its parameters, its results with -1
 * printed unsigned), byte values taken from iperf3's source rather than
 * from the server's.  Forward, reverse, -P 4, --bidir, -b pacing, -O,
 * 1 % loss; a second client while busy; UDP and too many streams
 * refused; hostile input (a bad cookie, bad JSON, a length over 64 KB, a
 * wrong state byte, resets, a vanished client, a control channel that
 * trickles a byte at a time); and after each failure, a test that works.
 */
#include <errno.h>
#include <inttypes.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include <jansson.h>

#include "toe_stack/toe_ep.h"
#include "toe_stack/toe_iperf3.h"
#include "toe_stack/toe_sock.h"
#include "toe_link.h"

/* The fake link is toe_link.h; here, losing the nth 37-byte segment to
 * the server (a stream's cookie). */
static unsigned int drop_cookie_nth;
static unsigned int cookies_seen;

static bool
cookie_filter(int to, const struct toe_emit *e)
{
	return to == 0 && drop_cookie_nth != 0 &&
	       e->pay_len[0] + e->pay_len[1] == 37 && ++cookies_seen == drop_cookie_nth;
}

/* ------------------------------------------------------------------ */
/* A scripted iperf3 client                                            */

/* iperf3's control messages (src/iperf_api.h), written out here rather
 * than taken from the server. */
#define TEST_START 1
#define TEST_RUNNING 2
#define TEST_END 4
#define PARAM_EXCHANGE 9
#define CREATE_STREAMS 10
#define SERVER_TERMINATE 11
#define CLIENT_TERMINATE 12
#define EXCHANGE_RESULTS 13
#define DISPLAY_RESULTS 14
#define IPERF_DONE 16
#define ACCESS_DENIED (-1)
#define SERVER_ERROR (-2)
#define COOKIE_SIZE 37

enum cphase {
	C_CONNECT, C_PARAM, C_CREATE, C_STREAMS, C_START, C_RUNNING,
	C_EXCHANGE, C_RESULTS, C_DISPLAY, C_DRAIN, C_DONE,
};

struct icli;

struct cstream {
	struct icli *c;
	struct toe_sock *sock;
	int id;
	bool sender, connected, eof;
	int err;
	uint64_t sent, rcvd, rcvd_running;
};

struct icli {
	/* the script */
	unsigned int parallel;
	bool reverse, bidir, udp, server_output, hold_streams;
	uint64_t to_send;               /* each sending stream */
	unsigned int recv_ms;           /* receiving: before TEST_END */
	uint64_t bandwidth;
	unsigned int omit;
	unsigned int chunk;             /* control writes: bytes a ms (0: all) */
	const uint8_t *cookie_raw;      /* instead of a cookie */
	size_t cookie_raw_len;
	const uint8_t *params_raw;      /* instead of the parameters */
	size_t params_raw_len;
	/* what happened */
	enum cphase phase;
	struct toe_sock *ctrl;
	bool connected, ctrl_eof;
	int ctrl_err;
	char cookie[COOKIE_SIZE];
	uint8_t in[80000];
	size_t in_len, in_off;
	uint8_t out[80000];
	size_t out_len, out_off;
	int8_t states[32];
	unsigned int n_states;
	bool denied;
	int32_t ierr, ierrno;
	unsigned int n_streams, n_open;
	struct cstream st[TOE_IPERF3_STREAMS_MAX * 2];
	uint64_t running_at, drain_at;
	json_t *results;                /* the server's */
};

static struct toe_iperf3 i3;
static struct icli ca, cb;

static bool
cli_running(const struct icli *c)
{
	return c->phase == C_RUNNING;
}

static void
cdata_read(struct cstream *st)
{
	uint8_t buf[16384];

	for (;;) {
		long n = toe_recv(st->sock, buf, sizeof(buf));

		if (n > 0) {
			for (long i = 0; i < n; i++)
				assert_true(buf[i] >= '0' && buf[i] <= '9');
			st->rcvd += (uint64_t)n;
			if (cli_running(st->c))
				st->rcvd_running += (uint64_t)n;
			continue;
		}
		if (n == 0)
			st->eof = true;
		else if (n != -EAGAIN)
			st->err = (int)-n;
		return;
	}
}

static void
cdata_pump(struct cstream *st)
{
	static uint8_t buf[16384];

	if (!st->sender || !cli_running(st->c) || st->sock == NULL || st->err)
		return;
	while (st->sent < st->c->to_send) {
		uint64_t want = st->c->to_send - st->sent;
		size_t k = want < sizeof(buf) ? (size_t)want : sizeof(buf);
		long n = toe_send(st->sock, buf, k);

		if (n <= 0)
			break;
		st->sent += (uint64_t)n;
	}
}

static void
cdata_cb(struct toe_sock *s, unsigned int ev, void *arg)
{
	struct cstream *st = arg;

	if (ev & TOE_SOCK_CONNECTED) {
		st->connected = true;
		/* iperf_tcp_connect: the cookie first */
		assert_int_equal(toe_send(s, st->c->cookie, COOKIE_SIZE), COOKIE_SIZE);
	}
	if (ev & TOE_SOCK_ERROR)
		st->err = toe_sock_error(s);
	cdata_read(st);
	cdata_pump(st);
}

static void
cctrl_read(struct icli *c)
{
	for (;;) {
		long n;

		assert_true(c->in_len < sizeof(c->in));
		n = toe_recv(c->ctrl, c->in + c->in_len, sizeof(c->in) - c->in_len);
		if (n > 0) {
			c->in_len += (size_t)n;
			continue;
		}
		if (n == 0)
			c->ctrl_eof = true;
		else if (n != -EAGAIN)
			c->ctrl_err = (int)-n;
		return;
	}
}

static void
cctrl_cb(struct toe_sock *s, unsigned int ev, void *arg)
{
	struct icli *c = arg;

	if (ev & TOE_SOCK_CONNECTED)
		c->connected = true;
	if (ev & TOE_SOCK_ERROR)
		c->ctrl_err = toe_sock_error(s);
	cctrl_read(c);
}

static void
ctrl_write(struct icli *c, const void *p, size_t n)
{
	assert_true(c->out_len + n <= sizeof(c->out));
	memcpy(c->out + c->out_len, p, n);
	c->out_len += n;
}

static void
ctrl_write_byte(struct icli *c, int8_t b)
{
	ctrl_write(c, &b, 1);
}

/* what is queued goes out, c->chunk bytes a ms when it trickles */
static void
ctrl_flush(struct icli *c)
{
	size_t n = c->out_len - c->out_off;
	long k;

	if (c->ctrl == NULL || n == 0 || !c->connected)
		return;
	if (c->chunk != 0 && n > c->chunk)
		n = c->chunk;
	k = toe_send(c->ctrl, c->out + c->out_off, n);
	if (k > 0)
		c->out_off += (size_t)k;
}

static void
ctrl_write_json(struct icli *c, const char *txt)
{
	uint32_t n = (uint32_t)strlen(txt);
	uint8_t len[4] = { (uint8_t)(n >> 24), (uint8_t)(n >> 16),
			   (uint8_t)(n >> 8), (uint8_t)n };

	ctrl_write(c, len, 4);
	ctrl_write(c, txt, n);
}

/* A state byte from the server, or 256 when none is in. */
static int
take_byte(struct icli *c)
{
	int8_t b;

	if (c->in_off == c->in_len)
		return 256;
	b = (int8_t)c->in[c->in_off++];
	if (c->n_states < sizeof(c->states))
		c->states[c->n_states++] = b;
	return b;
}

static void
cli_connect(struct icli *c)
{
	static const char chars[] = "abcdefghijklmnopqrstuvwxyz234567";
	struct toe_sock_opts o = { .sndbuf = 256 * 1024, .rcvbuf = 256 * 1024 };

	/* make_cookie: 36 of chars and a NUL */
	for (int i = 0; i < COOKIE_SIZE - 1; i++)
		c->cookie[i] = chars[rnd() % 32];
	c->cookie[COOKIE_SIZE - 1] = 0;
	c->ctrl = toe_connect(&cli, GIP, toe_ep_md_ip4, 5201, &o, cctrl_cb, c);
	assert_non_null(c->ctrl);
	c->phase = C_CONNECT;
	if (c->parallel == 0)
		c->parallel = 1;
	c->n_streams = c->parallel * (c->bidir ? 2 : 1);
}

static void
cli_open_stream(struct icli *c)
{
	struct toe_sock_opts o = { .sndbuf = 256 * 1024, .rcvbuf = 256 * 1024 };
	unsigned int k = c->n_open++;
	struct cstream *st = &c->st[k];

	st->c = c;
	/* iperf_add_stream: 1, then 3, 4, ... */
	st->id = k == 0 ? 1 : (int)k + 2;
	/* --bidir: senders first (iperf_create_streams(test, 1)) */
	st->sender = c->bidir ? k < c->parallel : !c->reverse;
	st->sock = toe_connect(&cli, GIP, toe_ep_md_ip4, 5201, &o, cdata_cb, st);
	assert_non_null(st->sock);
}

static void
send_params(struct icli *c)
{
	char p[512], bw[64] = "";

	if (c->params_raw != NULL) {
		ctrl_write(c, c->params_raw, c->params_raw_len);
		return;
	}
	if (c->bandwidth)
		snprintf(bw, sizeof(bw), ",\"bandwidth\":%" PRIu64, c->bandwidth);
	/* send_parameters of 3.12, keys in its order */
	snprintf(p, sizeof(p),
		 "{\"%s\":true,\"omit\":%u,\"time\":10,\"num\":0,\"blockcount\":0,"
		 "\"parallel\":%u%s%s,\"len\":131072%s,\"pacing_timer\":1000%s,"
		 "\"client_version\":\"3.12\"}",
		 c->udp ? "udp" : "tcp", c->omit, c->parallel,
		 c->reverse ? ",\"reverse\":true" : "",
		 c->bidir ? ",\"bidirectional\":true" : "", bw,
		 c->server_output ? ",\"get_server_output\":1" : "");
	ctrl_write_json(c, p);
}

/* send_results of 3.12: its cJSON printed -1 as an unsigned integer */
#define MINUS_ONE_312 "18446744073709551615"

static void
send_results(struct icli *c)
{
	char p[8192];
	size_t k;
	bool rx_only = c->reverse && !c->bidir;

	k = (size_t)snprintf(p, sizeof(p),
			     "{\"cpu_util_total\":3.25,\"cpu_util_user\":0.5,"
			     "\"cpu_util_system\":2.75,\"sender_has_retransmits\":%s,"
			     "\"congestion_used\":\"cubic\",\"streams\":[",
			     rx_only ? MINUS_ONE_312 : "1");
	for (unsigned int i = 0; i < c->n_open; i++) {
		struct cstream *st = &c->st[i];

		k += (size_t)snprintf(p + k, sizeof(p) - k,
				      "%s{\"id\":%d,\"bytes\":%" PRIu64 ",\"retransmits\":%s,"
				      "\"jitter\":0,\"errors\":0,\"packets\":0,"
				      "\"start_time\":0,\"end_time\":10.000123}",
				      i ? "," : "", st->id,
				      st->sender ? st->sent : st->rcvd_running,
				      st->sender ? "0" : MINUS_ONE_312);
		assert_true(k < sizeof(p));
	}
	snprintf(p + k, sizeof(p) - k, "]}");
	ctrl_write_json(c, p);
}

static void
cli_close_all(struct icli *c)
{
	for (unsigned int i = 0; i < c->n_open; i++)
		if (c->st[i].sock != NULL) {
			toe_close(c->st[i].sock);
			c->st[i].sock = NULL;
		}
	if (c->ctrl != NULL)
		toe_close(c->ctrl);
	c->ctrl = NULL;
}

static bool
running_over(struct icli *c)
{
	for (unsigned int i = 0; i < c->n_open; i++) {
		struct cstream *st = &c->st[i];

		if (st->sender && (st->sent < c->to_send ||
				   (st->sock != NULL && toe_send_queued(st->sock) > 0)))
			return false;
		if (!st->sender && now < c->running_at + c->recv_ms)
			return false;
	}
	return true;
}

static bool
drained(struct icli *c)
{
	if (now >= c->drain_at + 5000)
		return true;
	for (unsigned int i = 0; i < c->n_open; i++)
		if (!c->st[i].sender && !c->st[i].eof && !c->st[i].err)
			return false;
	return true;
}

/* iperf_run_client's loop, one ms of it */
static void
cli_step(struct icli *c)
{
	int b;

	if (c->ctrl == NULL || c->phase == C_DONE)
		return;
	for (bool again = true; again; ) {
		again = false;
		switch (c->phase) {
		case C_CONNECT:
			if (!c->connected)
				break;
			if (c->cookie_raw != NULL)
				ctrl_write(c, c->cookie_raw, c->cookie_raw_len);
			else
				ctrl_write(c, c->cookie, COOKIE_SIZE);
			c->phase = C_PARAM;
			again = true;
			break;
		case C_PARAM:
			if ((b = take_byte(c)) == 256)
				break;
			if (b == ACCESS_DENIED) {
				c->denied = true;
				c->phase = C_DONE;
				break;
			}
			assert_int_equal(b, PARAM_EXCHANGE);
			send_params(c);
			c->phase = C_CREATE;
			again = true;
			break;
		case C_CREATE:
			if (c->in_len - c->in_off < 1)
				break;
			if ((int8_t)c->in[c->in_off] == SERVER_ERROR) {
				const uint8_t *e;

				if (c->in_len - c->in_off < 9)
					break;
				take_byte(c);
				e = c->in + c->in_off;
				c->ierr = (int32_t)((uint32_t)e[0] << 24 | (uint32_t)e[1] << 16 |
						    (uint32_t)e[2] << 8 | e[3]);
				c->ierrno = (int32_t)((uint32_t)e[4] << 24 | (uint32_t)e[5] << 16 |
						      (uint32_t)e[6] << 8 | e[7]);
				c->in_off += 8;
				c->phase = C_DONE;
				break;
			}
			b = take_byte(c);
			if (b != CREATE_STREAMS)
				fail_msg("state %d, not CREATE_STREAMS", b);
			c->phase = C_STREAMS;
			again = true;
			break;
		case C_STREAMS:
			/* one at a time, as iperf3's blocking connects */
			if (c->hold_streams)
				break;
			if (c->n_open < c->n_streams &&
			    (c->n_open == 0 || c->st[c->n_open - 1].connected))
				cli_open_stream(c);
			if (c->n_open == c->n_streams && c->st[c->n_open - 1].connected)
				c->phase = C_START;
			else
				break;
			again = true;
			break;
		case C_START:
			if ((b = take_byte(c)) == 256)
				break;
			if (b == TEST_START)
				again = true;
			else if (b == TEST_RUNNING) {
				c->phase = C_RUNNING;
				c->running_at = now;
				for (unsigned int i = 0; i < c->n_open; i++)
					cdata_pump(&c->st[i]);
			} else {
				fail_msg("state %d while starting", b);
			}
			break;
		case C_RUNNING:
			for (unsigned int i = 0; i < c->n_open; i++)
				cdata_pump(&c->st[i]);
			if (!running_over(c))
				break;
			ctrl_write_byte(c, TEST_END);
			c->phase = C_EXCHANGE;
			again = true;
			break;
		case C_EXCHANGE:
			if ((b = take_byte(c)) == 256)
				break;
			assert_int_equal(b, EXCHANGE_RESULTS);
			send_results(c);
			c->phase = C_RESULTS;
			again = true;
			break;
		case C_RESULTS: {
			const uint8_t *p = c->in + c->in_off;
			uint32_t n;
			json_error_t err;

			if (c->in_len - c->in_off < 4)
				break;
			n = (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
			    (uint32_t)p[2] << 8 | p[3];
			if (c->in_len - c->in_off < 4 + (size_t)n)
				break;
			c->results = json_loadb((const char *)p + 4, n, 0, &err);
			if (c->results == NULL)
				fail_msg("server results: %s", err.text);
			c->in_off += 4 + n;
			c->phase = C_DISPLAY;
			again = true;
			break;
		}
		case C_DISPLAY:
			if ((b = take_byte(c)) == 256)
				break;
			assert_int_equal(b, DISPLAY_RESULTS);
			c->phase = C_DRAIN;
			c->drain_at = now;
			again = true;
			break;
		case C_DRAIN:
			/* waits for the senders' FINs, to count all (a stock
			 * client closes at once) */
			if (!drained(c))
				break;
			ctrl_write_byte(c, IPERF_DONE);
			ctrl_flush(c);
			cli_close_all(c);
			c->phase = C_DONE;
			break;
		case C_DONE:
			break;
		}
	}
	ctrl_flush(c);
}

static void
step(void)
{
	tick();
	cli_step(&ca);
	cli_step(&cb);
}

static void
run_steps(unsigned int ms)
{
	while (ms--)
		step();
}

static void
run_until_done(struct icli *c, unsigned int max_ms)
{
	for (unsigned int t = 0; t < max_ms && c->phase != C_DONE; t++)
		step();
	assert_int_equal(c->phase, C_DONE);
	run_steps(5);              /* its last words reach the server */
}

static void
run_until_phase(struct icli *c, enum cphase p, unsigned int max_ms)
{
	for (unsigned int t = 0; t < max_ms && c->phase != p; t++)
		step();
	assert_int_equal(c->phase, p);
}

/* ------------------------------------------------------------------ */

static int
setup(void **state)
{
	(void)state;
	link_setup();
	drop_cookie_nth = cookies_seen = 0;
	link_filter = cookie_filter;
	memset(&ca, 0, sizeof(ca));
	memset(&cb, 0, sizeof(cb));
	assert_int_equal(toe_iperf3_start(&i3, &srv, toe_ep_md_ip4, 0), 0);
	return 0;
}

static void
cli_free(struct icli *c)
{
	cli_close_all(c);
	json_decref(c->results);
	c->results = NULL;
}

static int
teardown(void **state)
{
	(void)state;
	cli_free(&ca);
	cli_free(&cb);
	toe_iperf3_stop(&i3);
	link_teardown();
	return 0;
}

/* The server's results for the stream the client numbered id. */
static json_t *
result_of(const struct icli *c, int id)
{
	json_t *a = json_object_get(c->results, "streams"), *v;
	size_t i;

	json_array_foreach(a, i, v)
		if (json_integer_value(json_object_get(v, "id")) == id)
			return v;
	return NULL;
}

static uint64_t
result_bytes(const struct icli *c, int id)
{
	json_t *v = result_of(c, id);

	assert_non_null(v);
	return (uint64_t)json_integer_value(json_object_get(v, "bytes"));
}

/* What get_results of 3.12 requires, and the ids the client holds. */
static void
check_results_shape(const struct icli *c)
{
	json_t *r = c->results, *a, *v;
	size_t i;

	assert_non_null(r);
	assert_true(json_is_number(json_object_get(r, "cpu_util_total")));
	assert_true(json_is_number(json_object_get(r, "cpu_util_user")));
	assert_true(json_is_number(json_object_get(r, "cpu_util_system")));
	assert_true(json_is_integer(json_object_get(r, "sender_has_retransmits")));
	a = json_object_get(r, "streams");
	assert_true(json_is_array(a));
	assert_int_equal(json_array_size(a), c->n_open);
	json_array_foreach(a, i, v) {
		static const char *const keys[] = {
			"id", "bytes", "retransmits", "jitter", "errors",
			"packets", "start_time", "end_time",
		};
		bool known = false;

		for (size_t k = 0; k < sizeof(keys) / sizeof(keys[0]); k++)
			assert_true(json_is_number(json_object_get(v, keys[k])));
		for (unsigned int k = 0; k < c->n_open; k++)
			known |= json_integer_value(json_object_get(v, "id")) == c->st[k].id;
		assert_true(known);
		assert_true(json_real_value(json_object_get(v, "end_time")) > 0);
	}
}

static void
check_idle(void)
{
	assert_null(i3.test);
}

/* tests == completed + refused + every error, once the server is idle */
static void
check_books(void)
{
	uint64_t sum = i3.stats.completed + i3.stats.refused_params;

	for (unsigned int e = 0; e < TOE_IPERF3_ERR_MAX; e++)
		sum += i3.stats.errors[e];
	assert_int_equal(sum, i3.stats.tests);
}

/* A plain forward test after whatever came before: the server works. */
static void
check_next_test_works(void)
{
	struct icli *c = &cb;

	cli_free(c);
	memset(c, 0, sizeof(*c));
	c->parallel = 2;
	c->to_send = 300000;
	cli_connect(c);
	run_until_done(c, 20000);
	check_results_shape(c);
	for (unsigned int i = 0; i < c->n_open; i++)
		assert_int_equal(result_bytes(c, c->st[i].id), 300000);
	run_steps(100);
	check_idle();
	check_books();
}

static const int8_t normal_states[] = {
	PARAM_EXCHANGE, CREATE_STREAMS, TEST_START, TEST_RUNNING,
	EXCHANGE_RESULTS, DISPLAY_RESULTS,
};

static void
check_states(const struct icli *c)
{
	assert_int_equal(c->n_states, sizeof(normal_states));
	assert_memory_equal(c->states, normal_states, sizeof(normal_states));
}

/* ------------------------------------------------------------------ */

static void
test_forward_one(void **state)
{
	json_t *r;

	(void)state;
	ca.to_send = 4u << 20;
	ca.server_output = true;
	cli_connect(&ca);
	run_until_done(&ca, 30000);
	check_states(&ca);
	check_results_shape(&ca);
	/* what the client sent, all of it (it waited for the ACKs) */
	assert_int_equal(ca.st[0].id, 1);
	assert_int_equal(ca.st[0].sent, 4u << 20);
	assert_int_equal(result_bytes(&ca, 1), 4u << 20);
	r = ca.results;
	/* a receiver: no retransmit counts */
	assert_int_equal(json_integer_value(json_object_get(r, "sender_has_retransmits")), -1);
	assert_int_equal(json_integer_value(json_object_get(result_of(&ca, 1), "retransmits")), -1);
	assert_true(json_is_string(json_object_get(r, "server_output_text")));
	assert_non_null(strstr(json_string_value(json_object_get(r, "server_output_text")),
			       "4194304 bytes"));
	assert_int_equal(i3.stats.tests, 1);
	assert_int_equal(i3.stats.completed, 1);
	assert_int_equal(i3.stats.streams, 1);
	assert_int_equal(i3.stats.bytes_received, 4u << 20);
	assert_int_equal(i3.stats.bytes_sent, 0);
	/* the stream was reset at TEST_END; the rest closes */
	run_steps(200);
	check_idle();
	check_books();
	assert_int_equal(srv.tcp.n_conns, 0);
}

static void
test_reverse(void **state)
{
	json_t *r;
	uint64_t b;

	(void)state;
	ca.reverse = true;
	ca.recv_ms = 200;
	cli_connect(&ca);
	run_until_done(&ca, 30000);
	check_states(&ca);
	check_results_shape(&ca);
	r = ca.results;
	b = result_bytes(&ca, 1);
	/* the server stopped at TEST_END and closed after its queue: the
	 * client, draining to the FIN, got every byte it reports */
	assert_true(ca.st[0].eof);
	assert_int_equal(ca.st[0].rcvd, b);
	assert_true(ca.st[0].rcvd_running > 0 && ca.st[0].rcvd_running <= b);
	assert_int_equal(i3.stats.bytes_sent, b);
	/* a sender: the stack's retransmits (none on a clean link) */
	assert_int_equal(json_integer_value(json_object_get(r, "sender_has_retransmits")), 1);
	assert_int_equal(json_integer_value(json_object_get(result_of(&ca, 1), "retransmits")), 0);
	/* TEST_END ~200 ms after TEST_START */
	assert_true(json_real_value(json_object_get(result_of(&ca, 1), "end_time")) >= 0.19);
	assert_true(json_real_value(json_object_get(result_of(&ca, 1), "end_time")) <= 0.25);
	assert_int_equal(i3.stats.completed, 1);
	run_steps(200);
	check_idle();
	check_books();
	check_next_test_works();
}

static void
test_parallel_4(void **state)
{
	(void)state;
	ca.parallel = 4;
	ca.to_send = 1u << 20;
	cli_connect(&ca);
	run_until_done(&ca, 30000);
	check_states(&ca);
	check_results_shape(&ca);
	/* 1, 3, 4, 5, each matched to its own connection's bytes */
	assert_int_equal(ca.st[0].id, 1);
	assert_int_equal(ca.st[1].id, 3);
	assert_int_equal(ca.st[3].id, 5);
	for (unsigned int i = 0; i < 4; i++)
		assert_int_equal(result_bytes(&ca, ca.st[i].id), 1u << 20);
	assert_null(result_of(&ca, 2));
	assert_int_equal(i3.stats.streams, 4);
	assert_int_equal(i3.stats.bytes_received, 4u << 20);
	run_steps(100);
	check_idle();
}

static void
test_bidir(void **state)
{
	json_t *r;

	(void)state;
	ca.parallel = 2;
	ca.bidir = true;
	ca.to_send = 1u << 20;
	ca.recv_ms = 100;
	cli_connect(&ca);
	run_until_done(&ca, 30000);
	check_states(&ca);
	check_results_shape(&ca);
	r = ca.results;
	assert_int_equal(json_integer_value(json_object_get(r, "sender_has_retransmits")), 1);
	for (unsigned int i = 0; i < 4; i++) {
		struct cstream *st = &ca.st[i];
		json_t *v = result_of(&ca, st->id);

		if (st->sender) {
			assert_int_equal(result_bytes(&ca, st->id), 1u << 20);
			assert_int_equal(json_integer_value(json_object_get(v, "retransmits")), -1);
		} else {
			assert_int_equal(result_bytes(&ca, st->id), st->rcvd);
			assert_true(st->rcvd > 0);
			assert_true(json_integer_value(json_object_get(v, "retransmits")) >= 0);
		}
	}
	run_steps(100);
	check_idle();
}

/* The first stream's cookie is lost: the second's comes first, yet the
 * ids and roles follow the order the client opened them in. */
static void
test_stream_order(void **state)
{
	(void)state;
	drop_cookie_nth = 2;            /* the control's is the first */
	ca.bidir = true;
	ca.to_send = 1u << 20;
	ca.recv_ms = 100;
	cli_connect(&ca);
	run_until_done(&ca, 30000);
	assert_int_equal(frames_lost[0] + frames_lost[1], 1);
	check_results_shape(&ca);
	assert_true(ca.st[0].sender);
	assert_int_equal(result_bytes(&ca, ca.st[0].id), 1u << 20);
	assert_int_equal(json_integer_value(json_object_get(result_of(&ca, ca.st[0].id),
							    "retransmits")), -1);
	assert_false(ca.st[1].sender);
	assert_true(ca.st[1].rcvd > 0);
	assert_int_equal(result_bytes(&ca, ca.st[1].id), ca.st[1].rcvd);
	assert_int_equal(i3.stats.completed, 1);
}

static void
test_forward_loss(void **state)
{
	(void)state;
	loss_ppm = 10000;               /* 1 % each way */
	ca.parallel = 2;
	ca.to_send = 2u << 20;
	cli_connect(&ca);
	run_until_done(&ca, 120000);
	assert_true(frames_lost[0] + frames_lost[1] > 0);
	check_results_shape(&ca);
	for (unsigned int i = 0; i < 2; i++)
		assert_int_equal(result_bytes(&ca, ca.st[i].id), 2u << 20);
	assert_int_equal(i3.stats.completed, 1);
	print_message("1%% loss: %llu frames lost, client retransmits %llu\n",
		      (unsigned long long)(frames_lost[0] + frames_lost[1]),
		      (unsigned long long)cli.stats.tcp_retransmits);
}

/* -R -b 8M: iperf3's pacing, ~1 MB a second; -O 1 leaves the first out */
static void
test_reverse_paced_omit(void **state)
{
	json_t *v;
	uint64_t b;
	double t;

	(void)state;
	ca.reverse = true;
	ca.bandwidth = 8000000;
	ca.omit = 1;
	ca.recv_ms = 1500;
	cli_connect(&ca);
	run_until_done(&ca, 30000);
	check_results_shape(&ca);
	v = result_of(&ca, 1);
	b = result_bytes(&ca, 1);
	t = json_real_value(json_object_get(v, "end_time")) -
	    json_real_value(json_object_get(v, "start_time"));
	/* 1.5 s paced at 1 MB/s, the first second omitted */
	assert_true(t > 0.49 && t < 0.53);
	assert_true(b > 480000 && b < 530000 + 16384);
	assert_true(i3.stats.bytes_sent > 1480000 && i3.stats.bytes_sent < 1530000 + 16384);
	print_message("paced: %" PRIu64 " bytes reported in %.3f s, %" PRIu64 " sent\n",
		      b, t, i3.stats.bytes_sent);
}

static void
test_busy_denied(void **state)
{
	(void)state;
	/* A holds the server in CREATE_STREAMS: B's connection is read as a
	 * stream whose cookie is not the test's */
	ca.parallel = 2;
	ca.to_send = 500000;
	ca.hold_streams = true;
	cli_connect(&ca);
	run_until_phase(&ca, C_STREAMS, 1000);
	run_steps(10);
	cli_connect(&cb);
	run_until_done(&cb, 1000);
	assert_true(cb.denied);
	assert_int_equal(cb.states[0], ACCESS_DENIED);
	assert_int_equal(i3.stats.refused_busy, 1);
	run_steps(10);
	assert_true(cb.ctrl_eof);
	cli_free(&cb);
	/* A goes on, and while it runs, C is turned away at once */
	ca.hold_streams = false;
	ca.to_send = 50u << 20;
	run_until_phase(&ca, C_RUNNING, 1000);
	memset(&cb, 0, sizeof(cb));
	cli_connect(&cb);
	run_until_done(&cb, 1000);
	assert_true(cb.denied);
	assert_int_equal(i3.stats.refused_busy, 2);
	assert_int_equal(i3.stats.tests, 1);
	cli_free(&cb);
	memset(&cb, 0, sizeof(cb));
	/* A is not disturbed */
	ca.to_send = 500000;
	for (unsigned int i = 0; i < 2; i++)
		if (ca.st[i].sent > ca.to_send)
			ca.to_send = ca.st[i].sent;
	run_until_done(&ca, 30000);
	check_states(&ca);
	for (unsigned int i = 0; i < 2; i++)
		assert_int_equal(result_bytes(&ca, ca.st[i].id), ca.st[i].sent);
	run_steps(100);
	check_idle();
	check_books();
}

static void
test_refused(void **state)
{
	(void)state;
	/* UDP: SERVER_ERROR, IEUNIMP (13) */
	ca.udp = true;
	cli_connect(&ca);
	run_until_done(&ca, 1000);
	assert_int_equal(ca.states[1], SERVER_ERROR);
	assert_int_equal(ca.ierr, 13);
	assert_int_equal(ca.ierrno, 0);
	run_steps(10);
	assert_true(ca.ctrl_eof);
	check_idle();
	cli_free(&ca);
	/* -P 17: IENUMSTREAMS (6); --bidir -P 9 as well */
	memset(&ca, 0, sizeof(ca));
	ca.parallel = 17;
	cli_connect(&ca);
	run_until_done(&ca, 1000);
	assert_int_equal(ca.ierr, 6);
	cli_free(&ca);
	memset(&ca, 0, sizeof(ca));
	ca.parallel = 9;
	ca.bidir = true;
	cli_connect(&ca);
	run_until_done(&ca, 1000);
	assert_int_equal(ca.ierr, 6);
	assert_int_equal(i3.stats.refused_params, 3);
	run_steps(10);
	check_idle();
	check_books();
	check_next_test_works();
}

/* The control channel a byte (or three) a ms: every piece reassembled. */
static void
test_trickle(void **state)
{
	(void)state;
	ca.chunk = 1;
	ca.reverse = true;
	ca.recv_ms = 50;
	cli_connect(&ca);
	run_until_done(&ca, 30000);
	check_states(&ca);
	assert_int_equal(result_bytes(&ca, 1), ca.st[0].rcvd);
	memset(&cb, 0, sizeof(cb));
	cb.chunk = 3;
	cb.parallel = 3;
	cb.to_send = 100000;
	cli_connect(&cb);
	run_until_done(&cb, 30000);
	check_states(&cb);
	assert_int_equal(i3.stats.completed, 2);
}

/* A client whose control connection is reset by the server. */
static void
expect_reset(struct icli *c, enum toe_iperf3_error why)
{
	run_steps(50);
	assert_int_equal(i3.stats.errors[why], 1);
	assert_int_equal(c->ctrl_err, ECONNRESET);
	check_idle();
	check_books();
	check_next_test_works();
}

static void
test_bad_cookie(void **state)
{
	static const uint8_t http[] =
		"GET /latest/meta-data/ HTTP/1.1\r\nHost: 169.254.169.254\r\n\r\n";

	(void)state;
	ca.cookie_raw = http;
	ca.cookie_raw_len = sizeof(http) - 1;
	cli_connect(&ca);
	expect_reset(&ca, TOE_IPERF3_ERR_BAD_COOKIE);
	assert_int_equal(ca.n_states, 0);
}

static void
test_bad_json(void **state)
{
	static const uint8_t bad[] = { 0, 0, 0, 5, '{', 'a', 'b', 'c', '}' };

	(void)state;
	ca.params_raw = bad;
	ca.params_raw_len = sizeof(bad);
	cli_connect(&ca);
	expect_reset(&ca, TOE_IPERF3_ERR_JSON_INVALID);
}

static void
test_json_array_not_object(void **state)
{
	static const uint8_t arr[] = { 0, 0, 0, 2, '[', ']' };

	(void)state;
	ca.params_raw = arr;
	ca.params_raw_len = sizeof(arr);
	cli_connect(&ca);
	expect_reset(&ca, TOE_IPERF3_ERR_JSON_INVALID);
}

static void
test_json_too_big(void **state)
{
	/* 64 KB + 1 announced: refused before any of it is read */
	static const uint8_t big[] = { 0, 1, 0, 1, '{' };

	(void)state;
	ca.params_raw = big;
	ca.params_raw_len = sizeof(big);
	cli_connect(&ca);
	expect_reset(&ca, TOE_IPERF3_ERR_JSON_TOO_BIG);
}

static void
test_bad_state_byte(void **state)
{
	(void)state;
	ca.parallel = 2;
	ca.hold_streams = true;
	cli_connect(&ca);
	run_until_phase(&ca, C_STREAMS, 1000);
	/* one stream in, then a byte no state takes */
	ca.hold_streams = false;
	run_steps(1);
	ca.hold_streams = true;
	run_steps(10);
	ctrl_write_byte(&ca, 0x55);
	run_steps(10);
	assert_int_equal(i3.stats.errors[TOE_IPERF3_ERR_BAD_MESSAGE], 1);
	assert_int_equal(ca.ctrl_err, ECONNRESET);
	assert_int_equal(ca.st[0].err, ECONNRESET);
	check_idle();
	assert_int_equal(srv.tcp.n_conns, 0);
	check_books();
	check_next_test_works();
}

static void
test_truncated_json_eof(void **state)
{
	static const uint8_t cut[] = { 0, 0, 0, 100, '{', '"', 't', 'c', 'p' };

	(void)state;
	ca.params_raw = cut;
	ca.params_raw_len = sizeof(cut);
	cli_connect(&ca);
	run_until_phase(&ca, C_CREATE, 1000);
	run_steps(10);
	assert_non_null(i3.test);
	toe_shutdown(ca.ctrl);
	run_steps(10);
	assert_int_equal(i3.stats.errors[TOE_IPERF3_ERR_CTRL_CLOSED], 1);
	/* an orderly close is answered in kind */
	assert_true(ca.ctrl_eof);
	assert_int_equal(ca.ctrl_err, 0);
	check_idle();
	check_books();
	check_next_test_works();
}

static void
test_truncated_json_silence(void **state)
{
	static const uint8_t cut[] = { 0, 0, 0, 100, '{', '"', 't', 'c', 'p' };

	(void)state;
	ca.params_raw = cut;
	ca.params_raw_len = sizeof(cut);
	cli_connect(&ca);
	run_until_phase(&ca, C_CREATE, 1000);
	run_steps(TOE_IPERF3_IDLE_MS - 100);
	assert_non_null(i3.test);
	run_steps(200);
	assert_int_equal(i3.stats.errors[TOE_IPERF3_ERR_IDLE_TIMEOUT], 1);
	assert_int_equal(ca.ctrl_err, ECONNRESET);
	check_idle();
	check_books();
	check_next_test_works();
}

static void
test_client_reset_mid_test(void **state)
{
	(void)state;
	ca.parallel = 3;
	ca.to_send = 100u << 20;
	cli_connect(&ca);
	run_until_phase(&ca, C_RUNNING, 1000);
	run_steps(50);
	assert_true(i3.stats.bytes_received > 0);
	toe_abort(ca.ctrl);
	ca.ctrl = NULL;
	run_steps(10);
	assert_int_equal(i3.stats.errors[TOE_IPERF3_ERR_CTRL_RESET], 1);
	check_idle();
	/* every data connection reset with it */
	for (unsigned int i = 0; i < 3; i++)
		assert_int_equal(ca.st[i].err, ECONNRESET);
	assert_int_equal(srv.tcp.n_conns, 0);
	check_books();
	check_next_test_works();
}

static void
test_stream_reset_mid_test(void **state)
{
	(void)state;
	ca.parallel = 2;
	ca.reverse = true;
	ca.recv_ms = 100000;
	cli_connect(&ca);
	run_until_phase(&ca, C_RUNNING, 1000);
	run_steps(20);
	toe_abort(ca.st[1].sock);
	ca.st[1].sock = NULL;
	run_steps(10);
	assert_int_equal(i3.stats.errors[TOE_IPERF3_ERR_STREAM_RESET], 1);
	assert_int_equal(ca.ctrl_err, ECONNRESET);
	assert_int_equal(ca.st[0].err, ECONNRESET);
	check_idle();
	assert_int_equal(srv.tcp.n_conns, 0);
	check_books();
	check_next_test_works();
}

/* The client vanishes mid-test: no progress, dropped after the idle
 * timeout; the client's leftovers are reset when they come back. */
static void
test_client_vanishes(void **state)
{
	(void)state;
	ca.to_send = 100u << 20;
	cli_connect(&ca);
	run_until_phase(&ca, C_RUNNING, 1000);
	run_steps(20);
	drop_to_server = drop_to_client = 1;
	run_steps(TOE_IPERF3_IDLE_MS - 100);
	assert_non_null(i3.test);
	run_steps(200);
	assert_int_equal(i3.stats.errors[TOE_IPERF3_ERR_IDLE_TIMEOUT], 1);
	check_idle();
	assert_int_equal(srv.tcp.n_conns, 0);
	drop_to_server = drop_to_client = 0;
	cli_free(&ca);
	check_books();
	check_next_test_works();
}

static void
test_client_terminate(void **state)
{
	(void)state;
	ca.reverse = true;
	ca.recv_ms = 100000;
	cli_connect(&ca);
	run_until_phase(&ca, C_RUNNING, 1000);
	run_steps(20);
	/* ^C: CLIENT_TERMINATE, then the client closes */
	ctrl_write_byte(&ca, CLIENT_TERMINATE);
	run_steps(10);
	assert_int_equal(i3.stats.errors[TOE_IPERF3_ERR_CLIENT_ENDED], 1);
	/* orderly: FINs, the sending stream's after its queue */
	assert_true(ca.ctrl_eof);
	assert_int_equal(ca.ctrl_err, 0);
	for (unsigned int t = 0; t < 1000 && !ca.st[0].eof; t++)
		step();
	assert_true(ca.st[0].eof);
	assert_int_equal(ca.st[0].err, 0);
	check_idle();
	check_books();
	check_next_test_works();
}

static void
test_stop_mid_test(void **state)
{
	(void)state;
	ca.parallel = 2;
	ca.to_send = 100u << 20;
	cli_connect(&ca);
	run_until_phase(&ca, C_RUNNING, 1000);
	run_steps(20);
	toe_iperf3_stop(&i3);
	run_steps(10);
	/* SERVER_TERMINATE, then the close */
	assert_int_equal(ca.in[ca.in_len - 1], SERVER_TERMINATE);
	assert_true(ca.ctrl_eof);
	assert_int_equal(i3.stats.errors[TOE_IPERF3_ERR_STOPPED], 1);
	check_idle();
	assert_null(i3.l);
	/* nothing listens any more */
	memset(&cb, 0, sizeof(cb));
	cli_connect(&cb);
	run_steps(10);
	assert_int_equal(cb.ctrl_err, ECONNREFUSED);
	toe_iperf3_stop(&i3);           /* twice is fine */
}

static void
test_names(void **state)
{
	(void)state;
	assert_int_equal(toe_iperf3_n_counters,
			 (sizeof(struct toe_iperf3_stats) / sizeof(uint64_t)) - TOE_IPERF3_ERR_MAX);
	assert_string_equal(toe_iperf3_counters[0].name, "tests");
	assert_int_equal(toe_iperf3_counters[1].off, offsetof(struct toe_iperf3_stats, completed));
	for (unsigned int e = 0; e < TOE_IPERF3_ERR_MAX; e++) {
		assert_non_null(toe_iperf3_error_name(e));
		assert_non_null(toe_iperf3_error_help(e));
	}
	assert_string_equal(toe_iperf3_error_name(TOE_IPERF3_ERR_JSON_TOO_BIG), "json_too_big");
	assert_null(toe_iperf3_error_name(TOE_IPERF3_ERR_MAX));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_forward_one, setup, teardown),
		cmocka_unit_test_setup_teardown(test_reverse, setup, teardown),
		cmocka_unit_test_setup_teardown(test_parallel_4, setup, teardown),
		cmocka_unit_test_setup_teardown(test_bidir, setup, teardown),
		cmocka_unit_test_setup_teardown(test_stream_order, setup, teardown),
		cmocka_unit_test_setup_teardown(test_forward_loss, setup, teardown),
		cmocka_unit_test_setup_teardown(test_reverse_paced_omit, setup, teardown),
		cmocka_unit_test_setup_teardown(test_busy_denied, setup, teardown),
		cmocka_unit_test_setup_teardown(test_refused, setup, teardown),
		cmocka_unit_test_setup_teardown(test_trickle, setup, teardown),
		cmocka_unit_test_setup_teardown(test_bad_cookie, setup, teardown),
		cmocka_unit_test_setup_teardown(test_bad_json, setup, teardown),
		cmocka_unit_test_setup_teardown(test_json_array_not_object, setup, teardown),
		cmocka_unit_test_setup_teardown(test_json_too_big, setup, teardown),
		cmocka_unit_test_setup_teardown(test_bad_state_byte, setup, teardown),
		cmocka_unit_test_setup_teardown(test_truncated_json_eof, setup, teardown),
		cmocka_unit_test_setup_teardown(test_truncated_json_silence, setup, teardown),
		cmocka_unit_test_setup_teardown(test_client_reset_mid_test, setup, teardown),
		cmocka_unit_test_setup_teardown(test_stream_reset_mid_test, setup, teardown),
		cmocka_unit_test_setup_teardown(test_client_vanishes, setup, teardown),
		cmocka_unit_test_setup_teardown(test_client_terminate, setup, teardown),
		cmocka_unit_test_setup_teardown(test_stop_mid_test, setup, teardown),
		cmocka_unit_test_setup_teardown(test_names, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
