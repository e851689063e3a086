/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The iperf3 server (toe_iperf3.h).  A test is one allocation: the
 * control connection and its reader (cookie, state bytes, length-prefixed
 * JSON, each reassembled across callbacks), the data streams, the
 * connections still to show their cookie, and the timers.  It lives from
 * the control connection's accept to the end of the test; every way out
 * goes through test_end, which lets go of each connection and timer
 * before the memory, and the callback that got there returns at once.
 */
#include "toe_iperf3.h"
#include "toe_bytes.h"

#include <errno.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "toe_ep.h"
#include "toe_sock.h"

#define container_of(p, T, m) ((T *)((char *)(p) - offsetof(T, m)))

/* iperf3's control messages (src/iperf_api.h), one signed byte each. */
enum {
	MSG_TEST_START = 1,
	MSG_TEST_RUNNING = 2,
	MSG_TEST_END = 4,
	MSG_PARAM_EXCHANGE = 9,
	MSG_CREATE_STREAMS = 10,
	MSG_SERVER_TERMINATE = 11,
	MSG_CLIENT_TERMINATE = 12,
	MSG_EXCHANGE_RESULTS = 13,
	MSG_DISPLAY_RESULTS = 14,
	MSG_IPERF_DONE = 16,
	MSG_ACCESS_DENIED = -1,
	MSG_SERVER_ERROR = -2,
};

/* iperf3's error numbers (i_errno) the client prints after SERVER_ERROR. */
#define IE_NUMSTREAMS 6
#define IE_UNIMP 13

#define COOKIE_SIZE 37                  /* iperf.h */
#define OMIT_MAX_S 600                  /* iperf3's own bound on -O */
#define PACE_US_DEFAULT 1000            /* iperf3's --pacing-timer */
#define BLOCK 16384                     /* the pattern, one toe_send */
#define BACKLOG (TOE_IPERF3_STREAMS_MAX + TOE_IPERF3_PENDING_MAX + 8)

enum phase {
	PH_COOKIE,      /* reading the control connection's cookie */
	PH_PARAMS,      /* PARAM_EXCHANGE sent: reading the parameters */
	PH_STREAMS,     /* CREATE_STREAMS sent: taking the data connections */
	PH_RUNNING,     /* TEST_START, TEST_RUNNING sent: until TEST_END */
	PH_RESULTS,     /* EXCHANGE_RESULTS sent: reading the client's results */
	PH_DISPLAY,     /* ours and DISPLAY_RESULTS sent: until IPERF_DONE */
};

struct stream {
	struct toe_iperf3_test *t;
	struct toe_sock *sock;          /* NULL once let go (TEST_END) */
	int id;
	bool sender;
	uint64_t bytes;                 /* sent or received since TEST_START */
	uint64_t bytes_omit;            /* of them, in the omitted seconds */
	uint64_t rtx_start, rtx;        /* the stack's retransmits: base, count */
};

/* A connection in PH_STREAMS until its cookie shows what it is. */
struct pending {
	struct toe_iperf3_test *t;
	struct toe_sock *sock;          /* NULL: a free slot */
	uint32_t seq;                   /* accept order */
	uint8_t got;
	uint8_t cookie[COOKIE_SIZE];
};

struct toe_iperf3_test {
	struct toe_iperf3 *srv;
	struct toe_sock *ctrl;
	enum phase phase;
	uint8_t cookie[COOKIE_SIZE];
	/* The control reader: what the message under way has so far. */
	uint32_t got;
	uint8_t len_be[4];
	char *json;                     /* once its length is known */
	uint32_t json_len;
	/* The parameters. */
	bool bidir, reverse, server_output;
	unsigned int n_want, n_recv;    /* streams in all; receivers first */
	uint64_t rate;                  /* bits/s per sending stream; 0: free */
	uint32_t pace_ms, omit_ms;
	/* The streams, in the order of their ids. */
	unsigned int n;
	struct stream streams[TOE_IPERF3_STREAMS_MAX];
	struct pending pending[TOE_IPERF3_PENDING_MAX];
	uint32_t accept_seq;
	/* The endpoint's clock, ms. */
	uint64_t fixed_ms;              /* TEST_START: pacing's reference */
	uint64_t start_ms;              /* TEST_START, or the omitted part's end */
	uint64_t end_ms;                /* TEST_END */
	uint64_t progress_ms;
	struct toe_timer idle_t, omit_t, pace_t;
	uint8_t block[BLOCK];           /* what the sending streams send */
};

static const char *const error_names[] = {
#define X_(sym, name, help) name,
	TOE_IPERF3_ERRORS(X_)
#undef X_
};
static const char *const error_helps[] = {
#define X_(sym, name, help) help,
	TOE_IPERF3_ERRORS(X_)
#undef X_
};

const struct toe_iperf3_counter toe_iperf3_counters[] = {
#define X_(f, name, help) { name, help, offsetof(struct toe_iperf3_stats, f) },
	TOE_IPERF3_COUNTERS(X_)
#undef X_
};
const unsigned int toe_iperf3_n_counters =
	sizeof(toe_iperf3_counters) / sizeof(toe_iperf3_counters[0]);

const char *
toe_iperf3_error_name(enum toe_iperf3_error e)
{
	return (unsigned int)e < TOE_IPERF3_ERR_MAX ? error_names[e] : NULL;
}

const char *
toe_iperf3_error_help(enum toe_iperf3_error e)
{
	return (unsigned int)e < TOE_IPERF3_ERR_MAX ? error_helps[e] : NULL;
}

/* The wheel's clock is where the worker last ran it; a segment being
 * processed may carry a later time (the stack's). */
static uint64_t
clock_ms(const struct toe_iperf3 *s)
{
	const struct toe_ep *ep = s->ep;

	return ep->tcp.now_ms > ep->wheel.now_ms ? ep->tcp.now_ms : ep->wheel.now_ms;
}

/* ------------------------------------------------------------------ */
/* Letting go                                                          */

/*
 * A FIN after what is queued, or a reset.  What was received is dropped
 * first: a close with unread data resets (RFC 2525 2.17), and the last
 * message we queued (ACCESS_DENIED, SERVER_ERROR) must get through.
 */
static void
sock_release(struct toe_sock *c, bool reset)
{
	if (reset) {
		toe_abort(c);
		return;
	}
	while (toe_recv_discard(c, SIZE_MAX) > 0)
		;
	toe_close(c);
}

/*
 * A receiving stream is reset even when the test ends well: iperf3
 * counts nothing after TEST_END, and what the client still has in flight
 * would fill a closed connection's window for a minute (a stock server's
 * close with unread data resets too).  A sending one closes after its
 * queue: a receiving client drains it, and takes a reset for an error.
 */
static void
stream_release(struct stream *st, bool reset)
{
	if (st->sock == NULL)
		return;
	sock_release(st->sock, reset || !st->sender);
	st->sock = NULL;
}

/* ACCESS_DENIED, as iperf3 answers a client while it is busy. */
static void
conn_deny(struct toe_iperf3 *s, struct toe_sock *c)
{
	uint8_t m = (uint8_t)MSG_ACCESS_DENIED;

	s->stats.refused_busy++;
	(void)toe_send(c, &m, 1);
	sock_release(c, false);
}

static void
pending_deny_all(struct toe_iperf3_test *t)
{
	for (unsigned int i = 0; i < TOE_IPERF3_PENDING_MAX; i++)
		if (t->pending[i].sock != NULL) {
			conn_deny(t->srv, t->pending[i].sock);
			t->pending[i].sock = NULL;
		}
}

/* The one way out of a test; the server is idle after it. */
static void
test_end(struct toe_iperf3_test *t, bool reset)
{
	struct toe_iperf3 *s = t->srv;
	struct toe_wheel *w = &s->ep->wheel;

	toe_timer_cancel(w, &t->idle_t);
	toe_timer_cancel(w, &t->omit_t);
	toe_timer_cancel(w, &t->pace_t);
	pending_deny_all(t);
	for (unsigned int i = 0; i < t->n; i++)
		stream_release(&t->streams[i], reset);
	sock_release(t->ctrl, reset);
	free(t->json);
	free(t);
	s->test = NULL;
}

/* A test that cannot go on: the client's fault or its going away are
 * reset (a hostile client gets no courtesy, a vanished one needs none,
 * and the buffers go now); an orderly end of the client's closes. */
static void
test_fail(struct toe_iperf3_test *t, enum toe_iperf3_error why)
{
	t->srv->stats.errors[why]++;
	test_end(t, why != TOE_IPERF3_ERR_CTRL_CLOSED &&
		    why != TOE_IPERF3_ERR_CLIENT_ENDED &&
		    why != TOE_IPERF3_ERR_STOPPED);
}

/* ------------------------------------------------------------------ */
/* Sending on the control connection; false: the test ended            */

static bool
ctrl_send(struct toe_iperf3_test *t, const void *buf, size_t len)
{
	long n = toe_send(t->ctrl, buf, len);

	if (n == (long)len)
		return true;
	/* A test writes a few KB into TOE_IPERF3_BUF of buffer: short is
	 * a connection that is shut (reset, or the peer's FIN and ours). */
	test_fail(t, TOE_IPERF3_ERR_CTRL_RESET);
	return false;
}

static bool
ctrl_send_json(struct toe_iperf3_test *t, const json_t *j)
{
	char *txt = json_dumps(j, JSON_COMPACT);
	uint8_t len[4];
	size_t n;
	bool ok;

	if (txt == NULL) {
		test_fail(t, TOE_IPERF3_ERR_NO_MEMORY);
		return false;
	}
	n = strlen(txt);
	wr32(len, (uint32_t)n);
	ok = ctrl_send(t, len, sizeof(len)) && ctrl_send(t, txt, n);
	free(txt);
	return ok;
}

/* SERVER_ERROR, iperf3's error number, errno (none): the client prints
 * the error and ends. */
static bool
test_refuse(struct toe_iperf3_test *t, uint32_t ierr)
{
	uint8_t m[9];

	m[0] = (uint8_t)MSG_SERVER_ERROR;
	wr32(m + 1, ierr);
	wr32(m + 5, 0);
	if (!ctrl_send(t, m, sizeof(m)))
		return false;
	t->srv->stats.refused_params++;
	test_end(t, false);
	return false;
}

/* ------------------------------------------------------------------ */
/* Data streams                                                        */

/* iperf3's throttle (iperf_check_throttle): a stream sends while its
 * average rate since TEST_START is under the target. */
static bool
pace_green(const struct toe_iperf3_test *t, const struct stream *st,
	   uint64_t now)
{
	return (double)st->bytes * 8000.0 <=
	       (double)t->rate * (double)(now - t->fixed_ms);
}

static void
stream_fill(struct stream *st)
{
	struct toe_iperf3_test *t = st->t;
	struct toe_iperf3 *s = t->srv;
	uint64_t now = clock_ms(s);

	for (;;) {
		size_t n = toe_send_room(st->sock);
		long k;

		if (n == 0)
			return;
		if (n > BLOCK)
			n = BLOCK;
		if (t->rate != 0 && !pace_green(t, st, now)) {
			if (!toe_timer_armed(&t->pace_t))
				toe_timer_arm(&s->ep->wheel, &t->pace_t,
					      now + t->pace_ms);
			return;
		}
		k = toe_send(st->sock, t->block, n);
		if (k <= 0)
			return;         /* shut: its ERROR or EOF comes */
		st->bytes += (uint64_t)k;
		s->stats.bytes_sent += (uint64_t)k;
	}
}

/* Data in: a receiver counts it while the test runs; a sender expects
 * none and drops it.  false: the test ended. */
static bool
stream_input(struct stream *st)
{
	struct toe_iperf3_test *t = st->t;
	struct toe_iperf3 *s = t->srv;

	for (;;) {
		long n = toe_recv_discard(st->sock, SIZE_MAX);

		if (n > 0) {
			s->stats.bytes_received += (uint64_t)n;
			t->progress_ms = clock_ms(s);
			if (!st->sender && t->phase == PH_RUNNING)
				st->bytes += (uint64_t)n;
			continue;
		}
		/* 0: a client may close a stream early, iperf3 lets it */
		if (n < 0 && n != -EAGAIN) {
			test_fail(t, TOE_IPERF3_ERR_STREAM_RESET);
			return false;
		}
		return true;
	}
}

static void
stream_cb(struct toe_sock *c, unsigned int ev, void *arg)
{
	struct stream *st = arg;

	(void)c;
	if ((ev & (TOE_SOCK_READABLE | TOE_SOCK_ERROR)) && !stream_input(st))
		return;
	if ((ev & TOE_SOCK_WRITABLE) && st->sender &&
	    st->t->phase == PH_RUNNING) {
		st->t->progress_ms = clock_ms(st->t->srv);
		stream_fill(st);
	}
}

static void
pace_fire(struct toe_timer *tm, uint64_t now_ms)
{
	struct toe_iperf3_test *t = container_of(tm, struct toe_iperf3_test, pace_t);

	(void)now_ms;
	for (unsigned int i = 0; i < t->n; i++)
		if (t->streams[i].sender && t->streams[i].sock != NULL)
			stream_fill(&t->streams[i]);
}

/* The omitted seconds are over: the results count from here
 * (iperf_reset_stats). */
static void
omit_fire(struct toe_timer *tm, uint64_t now_ms)
{
	struct toe_iperf3_test *t = container_of(tm, struct toe_iperf3_test, omit_t);

	t->start_ms = now_ms;
	for (unsigned int i = 0; i < t->n; i++) {
		struct stream *st = &t->streams[i];

		st->bytes_omit = st->bytes;
		if (st->sock != NULL)
			st->rtx_start = st->sock->retransmits;
	}
}

/* Every stream is in: TEST_START and TEST_RUNNING, and the senders go. */
static void
test_run(struct toe_iperf3_test *t)
{
	struct toe_iperf3 *s = t->srv;
	static const uint8_t m[2] = { MSG_TEST_START, MSG_TEST_RUNNING };

	/* latecomers are no part of it (iperf3 would leave them hanging) */
	pending_deny_all(t);
	t->phase = PH_RUNNING;
	t->start_ms = t->fixed_ms = clock_ms(s);
	for (unsigned int i = 0; i < t->n; i++)
		t->streams[i].rtx_start = t->streams[i].sock->retransmits;
	if (!ctrl_send(t, m, sizeof(m)))
		return;
	if (t->omit_ms > 0)
		toe_timer_arm(&s->ep->wheel, &t->omit_t, t->start_ms + t->omit_ms);
	for (unsigned int i = 0; i < t->n; i++)
		if (t->streams[i].sender)
			stream_fill(&t->streams[i]);
}

/* A data connection joins the test.  false: the test ended, or has all
 * its streams. */
static bool
stream_add(struct toe_iperf3_test *t, struct toe_sock *c)
{
	struct stream *st = &t->streams[t->n];

	memset(st, 0, sizeof(*st));
	st->t = t;
	st->sock = c;
	/* iperf_add_stream's numbering, which the client's matches: 1,
	 * then 3, 4, ... (kept so by iperf3 for compatibility) */
	st->id = t->n == 0 ? 1 : (int)t->n + 2;
	/* --bidir: the client opens its sending streams first */
	st->sender = t->n >= t->n_recv;
	t->n++;
	t->srv->stats.streams++;
	t->progress_ms = clock_ms(t->srv);
	toe_sock_set_cb(c, stream_cb, st);
	if (!stream_input(st))
		return false;
	if (t->n < t->n_want)
		return true;
	test_run(t);
	return false;
}

/*
 * Streams are numbered, and told sender from receiver, in the order
 * they were accepted, as iperf3 does (it reads each cookie before the
 * next accept): the client opens them one after the other, so a lost
 * cookie segment must not reorder them.  The oldest connection decides
 * first, once its cookie is in.
 */
static void
pending_promote(struct toe_iperf3_test *t)
{
	for (;;) {
		struct pending *p = NULL;
		struct toe_sock *c;

		for (unsigned int i = 0; i < TOE_IPERF3_PENDING_MAX; i++) {
			struct pending *x = &t->pending[i];

			if (x->sock != NULL &&
			    (p == NULL || (int32_t)(x->seq - p->seq) < 0))
				p = x;
		}
		if (p == NULL || p->got < COOKIE_SIZE)
			return;
		c = p->sock;
		p->sock = NULL;
		if (t->n == t->n_want ||
		    memcmp(p->cookie, t->cookie, COOKIE_SIZE) != 0)
			conn_deny(t->srv, c);
		else if (!stream_add(t, c))
			return;
	}
}

static void
pending_input(struct pending *p)
{
	struct toe_iperf3_test *t = p->t;

	if (p->got == COOKIE_SIZE)
		return;                 /* waits for an older one */
	while (p->got < COOKIE_SIZE) {
		long n = toe_recv(p->sock, p->cookie + p->got, COOKIE_SIZE - p->got);

		if (n == -EAGAIN)
			return;
		if (n <= 0) {
			/* gone before its cookie: nothing of the test's */
			sock_release(p->sock, n < 0);
			p->sock = NULL;
			break;
		}
		p->got = (uint8_t)(p->got + n);
	}
	pending_promote(t);
}

static void
pending_cb(struct toe_sock *c, unsigned int ev, void *arg)
{
	(void)c;
	(void)ev;
	pending_input(arg);
}

/* ------------------------------------------------------------------ */
/* The control connection                                              */

/* Stock clients send 36 of [a-z2-7] and a NUL, older ones other
 * printable characters: anything else is no iperf3 (a stray HTTP
 * client, say). */
static bool
cookie_valid(const uint8_t *c)
{
	if (c[COOKIE_SIZE - 1] != 0)
		return false;
	for (unsigned int i = 0; i < COOKIE_SIZE - 1; i++)
		if (c[i] < 0x21 || c[i] > 0x7e)
			return false;
	return true;
}

static double
param_num(const json_t *j, const char *key, double def)
{
	const json_t *v = json_object_get(j, key);

	return v == NULL ? def : json_number_value(v);  /* not a number: 0 */
}

/* get_parameters, for what is served; the keys are present or not. */
static bool
params_take(struct toe_iperf3_test *t, const json_t *j)
{
	double n, v;

	/* iperf3 takes the protocol whose key is there, TCP by default */
	if (json_object_get(j, "udp") != NULL || json_object_get(j, "sctp") != NULL)
		return test_refuse(t, IE_UNIMP);
	t->reverse = json_object_get(j, "reverse") != NULL;
	t->bidir = json_object_get(j, "bidirectional") != NULL;
	n = param_num(j, "parallel", 1);
	/* the comparisons fail for what is no count at all */
	if (!(n >= 1 && n * (t->bidir ? 2 : 1) <= TOE_IPERF3_STREAMS_MAX))
		return test_refuse(t, IE_NUMSTREAMS);
	t->n_want = (unsigned int)n * (t->bidir ? 2 : 1);
	t->n_recv = t->bidir ? (unsigned int)n : t->reverse ? 0 : t->n_want;
	v = param_num(j, "omit", 0);
	t->omit_ms = v >= 1 ? (uint32_t)(v < OMIT_MAX_S ? v : OMIT_MAX_S) * 1000 : 0;
	v = param_num(j, "bandwidth", 0);
	t->rate = v >= 1 && v < 1e18 ? (uint64_t)v : 0;
	v = param_num(j, "pacing_timer", PACE_US_DEFAULT);
	t->pace_ms = v >= 1000 && v <= 1e6 ? (uint32_t)(v / 1000) : 1;
	t->server_output = json_object_get(j, "get_server_output") != NULL;
	t->phase = PH_STREAMS;
	return ctrl_send(t, (const uint8_t[]){ MSG_CREATE_STREAMS }, 1);
}

/* TEST_END: the counts are final; the streams go, the results come. */
static bool
test_stop(struct toe_iperf3_test *t)
{
	struct toe_iperf3 *s = t->srv;

	t->end_ms = clock_ms(s);
	toe_timer_cancel(&s->ep->wheel, &t->omit_t);
	toe_timer_cancel(&s->ep->wheel, &t->pace_t);
	for (unsigned int i = 0; i < t->n; i++) {
		struct stream *st = &t->streams[i];

		if (st->sender && st->sock != NULL)
			st->rtx = st->sock->retransmits - st->rtx_start;
		stream_release(st, false);
	}
	t->phase = PH_RESULTS;
	t->got = 0;
	return ctrl_send(t, (const uint8_t[]){ (uint8_t)MSG_EXCHANGE_RESULTS }, 1);
}

/* --get-server-output: a few lines the client prints as they are. */
static json_t *
results_text(const struct toe_iperf3_test *t, double secs)
{
	char txt[256 + TOE_IPERF3_STREAMS_MAX * 128];
	size_t k;

	k = (size_t)snprintf(txt, sizeof(txt),
			     "vtoe iperf3 server: TCP, %u stream(s)%s\n",
			     t->n, t->bidir ? ", bidirectional" :
				   t->reverse ? ", reverse" : "");
	for (unsigned int i = 0; i < t->n && k < sizeof(txt); i++) {
		const struct stream *st = &t->streams[i];
		uint64_t b = st->bytes - st->bytes_omit;

		k += (size_t)snprintf(txt + k, sizeof(txt) - k,
				      "[%3d] 0.00-%.2f sec %" PRIu64 " bytes %.0f bits/sec %s\n",
				      st->id, secs, b,
				      secs > 0 ? (double)b * 8 / secs : 0.0,
				      st->sender ? "sender" : "receiver");
	}
	return json_string(txt);
}

/* send_results: what iperf3 3.x clients require of each stream (id,
 * bytes, retransmits, jitter, errors, packets) and the times. */
static json_t *
results_json(const struct toe_iperf3_test *t)
{
	double secs = (double)(t->end_ms - t->start_ms) / 1000.0;
	json_t *r = json_object(), *a = json_array();
	int err = 0;

	if (r == NULL || a == NULL) {
		json_decref(r);
		json_decref(a);
		return NULL;
	}
	for (unsigned int i = 0; i < t->n; i++) {
		const struct stream *st = &t->streams[i];

		err |= json_array_append_new(a, json_pack(
			"{s:i, s:I, s:I, s:i, s:i, s:i, s:f, s:f}",
			"id", st->id,
			"bytes", (json_int_t)(st->bytes - st->bytes_omit),
			"retransmits", st->sender ? (json_int_t)st->rtx : (json_int_t)-1,
			"jitter", 0, "errors", 0, "packets", 0,
			"start_time", 0.0, "end_time", secs));
	}
	err |= json_object_set_new(r, "cpu_util_total", json_real(0));
	err |= json_object_set_new(r, "cpu_util_user", json_real(0));
	err |= json_object_set_new(r, "cpu_util_system", json_real(0));
	/* -1: a receiver, whose retransmits are not counted */
	err |= json_object_set_new(r, "sender_has_retransmits",
				   json_integer(t->n_recv < t->n_want ? 1 : -1));
	err |= json_object_set_new(r, "streams", a);
	if (t->server_output)
		err |= json_object_set_new(r, "server_output_text",
					   results_text(t, secs));
	if (err != 0) {
		json_decref(r);
		return NULL;
	}
	return r;
}

/* The client's results: iperf3's server only prints them. */
static bool
results_take(struct toe_iperf3_test *t)
{
	json_t *r = results_json(t);
	bool ok;

	if (r == NULL) {
		test_fail(t, TOE_IPERF3_ERR_NO_MEMORY);
		return false;
	}
	t->phase = PH_DISPLAY;
	ok = ctrl_send_json(t, r);
	json_decref(r);
	return ok && ctrl_send(t, (const uint8_t[]){ MSG_DISPLAY_RESULTS }, 1);
}

static void
test_complete(struct toe_iperf3_test *t)
{
	t->srv->stats.completed++;
	test_end(t, false);
}

/* A state byte from the client (iperf_handle_message_server). */
static bool
ctrl_message(struct toe_iperf3_test *t, int8_t m)
{
	switch (m) {
	case MSG_TEST_START:
		return true;            /* iperf3 lets it pass */
	case MSG_TEST_END:
		if (t->phase == PH_RUNNING)
			return test_stop(t);
		break;
	case MSG_IPERF_DONE:
		if (t->phase == PH_DISPLAY)
			test_complete(t);
		else
			test_fail(t, TOE_IPERF3_ERR_CLIENT_ENDED);
		return false;
	case MSG_CLIENT_TERMINATE:
		test_fail(t, TOE_IPERF3_ERR_CLIENT_ENDED);
		return false;
	default:
		break;
	}
	test_fail(t, TOE_IPERF3_ERR_BAD_MESSAGE);
	return false;
}

/* A piece of a message is complete: the cookie, a JSON length, a JSON. */
static bool
ctrl_piece(struct toe_iperf3_test *t)
{
	json_error_t jerr;
	json_t *j;
	uint32_t len;
	bool ok;

	t->got = 0;
	if (t->phase == PH_COOKIE) {
		if (!cookie_valid(t->cookie)) {
			test_fail(t, TOE_IPERF3_ERR_BAD_COOKIE);
			return false;
		}
		t->phase = PH_PARAMS;
		return ctrl_send(t, (const uint8_t[]){ MSG_PARAM_EXCHANGE }, 1);
	}
	if (t->json == NULL) {
		len = rd32(t->len_be);
		if (len > TOE_IPERF3_JSON_MAX || len == 0) {
			test_fail(t, len == 0 ? TOE_IPERF3_ERR_JSON_INVALID :
					      TOE_IPERF3_ERR_JSON_TOO_BIG);
			return false;
		}
		t->json = malloc(len);
		if (t->json == NULL) {
			test_fail(t, TOE_IPERF3_ERR_NO_MEMORY);
			return false;
		}
		t->json_len = len;
		return true;
	}
	/* Every number as a real: 3.12 and 3.13 clients print -1 as
	 * 18446744073709551615 (their cJSON printed integers unsigned),
	 * too big for an integer. */
	j = json_loadb(t->json, t->json_len, JSON_DECODE_INT_AS_REAL, &jerr);
	free(t->json);
	t->json = NULL;
	t->json_len = 0;
	if (j == NULL || !json_is_object(j)) {
		json_decref(j);
		test_fail(t, TOE_IPERF3_ERR_JSON_INVALID);
		return false;
	}
	ok = t->phase == PH_PARAMS ? params_take(t, j) : results_take(t);
	json_decref(j);
	return ok;
}

/* The client closed: after the results that is its IPERF_DONE (iperf3
 * takes it so); before, the test is lost. */
static void
ctrl_eof(struct toe_iperf3_test *t)
{
	if (t->phase == PH_DISPLAY)
		test_complete(t);
	else
		test_fail(t, TOE_IPERF3_ERR_CTRL_CLOSED);
}

/* Read exactly what the message under way lacks, however it comes. */
static void
ctrl_input(struct toe_iperf3_test *t)
{
	for (;;) {
		uint8_t byte, *dst;
		size_t want;
		long n;

		switch (t->phase) {
		case PH_COOKIE:
			dst = t->cookie + t->got;
			want = COOKIE_SIZE - t->got;
			break;
		case PH_PARAMS:
		case PH_RESULTS:
			if (t->json == NULL) {
				dst = t->len_be + t->got;
				want = sizeof(t->len_be) - t->got;
			} else {
				dst = (uint8_t *)t->json + t->got;
				want = t->json_len - t->got;
			}
			break;
		default:
			dst = &byte;
			want = 1;
			break;
		}
		n = toe_recv(t->ctrl, dst, want);
		if (n == -EAGAIN)
			return;
		if (n == 0) {
			ctrl_eof(t);
			return;
		}
		if (n < 0) {
			test_fail(t, TOE_IPERF3_ERR_CTRL_RESET);
			return;
		}
		t->progress_ms = clock_ms(t->srv);
		if (dst == &byte) {
			if (!ctrl_message(t, (int8_t)byte))
				return;
			continue;
		}
		t->got += (uint32_t)n;
		if ((size_t)n == want && !ctrl_piece(t))
			return;
	}
}

static void
ctrl_cb(struct toe_sock *c, unsigned int ev, void *arg)
{
	(void)c;
	if (ev & (TOE_SOCK_READABLE | TOE_SOCK_ERROR))
		ctrl_input(arg);
}

/* No progress for TOE_IPERF3_IDLE_MS: the client is gone or stuck. */
static void
idle_fire(struct toe_timer *tm, uint64_t now_ms)
{
	struct toe_iperf3_test *t = container_of(tm, struct toe_iperf3_test, idle_t);

	if (now_ms - t->progress_ms < TOE_IPERF3_IDLE_MS) {
		toe_timer_arm(&t->srv->ep->wheel, &t->idle_t,
			      t->progress_ms + TOE_IPERF3_IDLE_MS);
		return;
	}
	test_fail(t, TOE_IPERF3_ERR_IDLE_TIMEOUT);
}

/* ------------------------------------------------------------------ */
/* Connections                                                         */

static void
test_new(struct toe_iperf3 *s, struct toe_sock *c)
{
	struct toe_iperf3_test *t = calloc(1, sizeof(*t));

	s->stats.tests++;
	if (t == NULL) {
		s->stats.errors[TOE_IPERF3_ERR_NO_MEMORY]++;
		toe_abort(c);
		return;
	}
	t->srv = s;
	t->ctrl = c;
	t->phase = PH_COOKIE;
	t->progress_ms = clock_ms(s);
	toe_timer_init(&t->idle_t, idle_fire);
	toe_timer_init(&t->omit_t, omit_fire);
	toe_timer_init(&t->pace_t, pace_fire);
	toe_timer_arm(&s->ep->wheel, &t->idle_t, t->progress_ms + TOE_IPERF3_IDLE_MS);
	/* iperf3's --repeating-payload pattern */
	for (unsigned int i = 0; i < BLOCK; i++)
		t->block[i] = (uint8_t)('0' + i % 10);
	s->test = t;
	toe_sock_set_cb(c, ctrl_cb, t);
	/* what came with the handshake got no event */
	ctrl_input(t);
}

/* Idle: a new test.  Taking streams: a stream, if its cookie says so.
 * Else busy (iperf_accept). */
static void
conn_new(struct toe_iperf3 *s, struct toe_sock *c)
{
	struct toe_iperf3_test *t = s->test;

	if (t == NULL) {
		test_new(s, c);
		return;
	}
	if (t->phase == PH_STREAMS)
		for (unsigned int i = 0; i < TOE_IPERF3_PENDING_MAX; i++) {
			struct pending *p = &t->pending[i];

			if (p->sock != NULL)
				continue;
			p->t = t;
			p->sock = c;
			p->seq = t->accept_seq++;
			p->got = 0;
			toe_sock_set_cb(c, pending_cb, p);
			pending_input(p);
			return;
		}
	conn_deny(s, c);
}

static void
listen_cb(struct toe_sock *l, unsigned int ev, void *arg)
{
	struct toe_sock *c;

	(void)ev;
	while ((c = toe_accept(l)) != NULL)
		conn_new(arg, c);
}

int
toe_iperf3_start(struct toe_iperf3 *s, struct toe_ep *ep,
		 const uint8_t addr[4], uint16_t port)
{
	struct toe_sock_opts o = {
		.sndbuf = TOE_IPERF3_BUF,
		.rcvbuf = TOE_IPERF3_BUF,
	};

	memset(s, 0, sizeof(*s));
	s->ep = ep;
	s->l = toe_listen(ep, addr, port != 0 ? port : TOE_IPERF3_PORT, BACKLOG,
			  &o, listen_cb, s);
	return s->l != NULL ? 0 : -errno;
}

void
toe_iperf3_stop(struct toe_iperf3 *s)
{
	if (s == NULL)
		return;
	if (s->test != NULL) {
		uint8_t m = MSG_SERVER_TERMINATE;

		(void)toe_send(s->test->ctrl, &m, 1);
		test_fail(s->test, TOE_IPERF3_ERR_STOPPED);
	}
	if (s->l != NULL)
		toe_close(s->l);
	s->l = NULL;
}
