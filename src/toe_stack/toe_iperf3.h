/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * toe_iperf3: an iperf3 server on a TOE endpoint (default port 5201, over
 * toe_sock.h), so that a stock `iperf3 -c 169.254.169.254` in a guest
 * measures its path to the host.  Event-driven on the endpoint's worker:
 * socket callbacks and the endpoint's timer wheel, no thread, no clock of
 * its own.
 *
 * The protocol (iperf3 3.x, src/iperf_api.c; checked against 3.12, the
 * client Debian 12 ships, and compatible back to 3.9):
 *  - control connection: the client's cookie (37 bytes: 36 characters and
 *    a NUL); PARAM_EXCHANGE (9); the parameters as JSON, each JSON message
 *    a 4-byte big-endian length and the text; CREATE_STREAMS (10);
 *  - data connections to the same port, each opening with the test's
 *    cookie, numbered in the order they were accepted as iperf3 numbers
 *    them (1, 3, 4, 5, ...: the client matches results by these ids;
 *    with --bidir the first half are the client's senders);
 *  - TEST_START (1) and TEST_RUNNING (2) once all are in; then data until
 *    the client's TEST_END (4) (it ends -t, -n and -k tests alike);
 *  - EXCHANGE_RESULTS (13); the client's results (JSON); ours (JSON: the
 *    bytes of each stream, retransmits from the stack when we sent, start
 *    and end times from the endpoint's clock); DISPLAY_RESULTS (14); the
 *    client's IPERF_DONE (16) ends the test.
 * Supported: TCP; forward (the server sinks), -R (the server sends a
 * constant pattern as fast as the windows allow, or paced by -b per
 * stream as iperf3 paces), --bidir, -P up to TOE_IPERF3_STREAMS_MAX data
 * connections in all, -O (omitted seconds left out of the results),
 * --get-server-output (a text summary).  Ignored: -w, -M, -N, -S, -C,
 * --fq-rate, --burst (the stack's buffers and congestion control are
 * the endpoint's).  Refused with the protocol's error path (SERVER_ERROR
 * (-2), then iperf3's error number and errno, 4 bytes big-endian each):
 * UDP and SCTP (IEUNIMP, 13), more streams than the limit (IENUMSTREAMS,
 * 6).  One test at a time, as iperf3: another connection gets
 * ACCESS_DENIED (-1) and is closed; so does a data connection whose
 * cookie is not the test's.
 *
 * Bounded against a hostile client: JSON messages of at most
 * TOE_IPERF3_JSON_MAX bytes, at most TOE_IPERF3_STREAMS_MAX streams and
 * TOE_IPERF3_PENDING_MAX connections waiting for their cookie, and a
 * test without progress (control bytes, data in or acknowledged) for
 * TOE_IPERF3_IDLE_MS is dropped.  Every test that ends, however, closes
 * (or resets) all its connections and leaves the server idle, ready for
 * the next: completed, refused, or counted under one reason of
 * TOE_IPERF3_ERRORS.
 */
#ifndef VTOE_TOE_IPERF3_H
#define VTOE_TOE_IPERF3_H

#include <stdint.h>

#define TOE_IPERF3_PORT 5201
#define TOE_IPERF3_STREAMS_MAX 16       /* data connections of a test */
#define TOE_IPERF3_PENDING_MAX 8        /* connections waiting for a cookie */
#define TOE_IPERF3_JSON_MAX (64u * 1024)
#define TOE_IPERF3_IDLE_MS 60000
#define TOE_IPERF3_BUF (256u * 1024)    /* each connection's buffers */

struct toe_ep;
struct toe_sock;
struct toe_iperf3_test;

/* What the server did, declared once: X(field, "name", "help"). */
#define TOE_IPERF3_COUNTERS(X) \
	X(tests,          "tests",          "control connections taken as a test") \
	X(completed,      "completed",      "tests run to IPERF_DONE") \
	X(refused_busy,   "refused_busy",   "connections answered ACCESS_DENIED: a test was under way, or a data connection's cookie was not the test's") \
	X(refused_params, "refused_params", "tests answered SERVER_ERROR: UDP, SCTP, or more streams than TOE_IPERF3_STREAMS_MAX") \
	X(streams,        "streams",        "data connections taken into a test") \
	X(bytes_received, "bytes_received", "payload bytes read from data connections") \
	X(bytes_sent,     "bytes_sent",     "payload bytes queued on data connections (reverse and bidirectional tests)")

/*
 * Why a test ended before its IPERF_DONE, declared once:
 * X(symbol, "name", "what happened").  Each such test counts once.
 */
#define TOE_IPERF3_ERRORS(X) \
	X(BAD_COOKIE,   "bad_cookie",   "the control connection opened with no iperf3 cookie") \
	X(BAD_MESSAGE,  "bad_message",  "a control byte that is no message the test's state takes") \
	X(JSON_TOO_BIG, "json_too_big", "a JSON message announced longer than TOE_IPERF3_JSON_MAX") \
	X(JSON_INVALID, "json_invalid", "a JSON message that is no JSON object") \
	X(CTRL_CLOSED,  "ctrl_closed",  "the client closed the control connection before the results") \
	X(CTRL_RESET,   "ctrl_reset",   "the control connection was reset or timed out") \
	X(STREAM_RESET, "stream_reset", "a data connection was reset or timed out") \
	X(CLIENT_ENDED, "client_ended", "the client ended the test early: CLIENT_TERMINATE, or IPERF_DONE before the results") \
	X(IDLE_TIMEOUT, "idle_timeout", "TOE_IPERF3_IDLE_MS without progress") \
	X(NO_MEMORY,    "no_memory",    "no memory for the test or one of its messages") \
	X(STOPPED,      "stopped",      "the server stopped during the test (the client was sent SERVER_TERMINATE)")

enum toe_iperf3_error {
#define TOE_IPERF3_ERR_ENUM(sym, name, help) TOE_IPERF3_ERR_##sym,
	TOE_IPERF3_ERRORS(TOE_IPERF3_ERR_ENUM)
#undef TOE_IPERF3_ERR_ENUM
	TOE_IPERF3_ERR_MAX
};

/* Only uint64_t: the views may add them up as an array. */
struct toe_iperf3_stats {
#define TOE_IPERF3_FIELD(f, name, help) uint64_t f;
	TOE_IPERF3_COUNTERS(TOE_IPERF3_FIELD)
#undef TOE_IPERF3_FIELD
	uint64_t errors[TOE_IPERF3_ERR_MAX];
};

/* One server: the caller's storage, the endpoint's worker's to touch. */
struct toe_iperf3 {
	struct toe_ep *ep;
	struct toe_sock *l;
	struct toe_iperf3_test *test;   /* the test under way; NULL: idle */
	struct toe_iperf3_stats stats;
};

/* Listen on addr:port (port 0: TOE_IPERF3_PORT).  0 or -errno. */
int toe_iperf3_start(struct toe_iperf3 *s, struct toe_ep *ep,
		     const uint8_t addr[4], uint16_t port);
/* End the test under way (SERVER_TERMINATE to its client, its
 * connections closed) and the listener; the counters stay.  Accepts a
 * server never started or already stopped. */
void toe_iperf3_stop(struct toe_iperf3 *s);

const char *toe_iperf3_error_name(enum toe_iperf3_error e);
const char *toe_iperf3_error_help(enum toe_iperf3_error e);

/* The counters as a table, for the views. */
struct toe_iperf3_counter {
	const char *name;
	const char *help;
	unsigned int off;               /* in struct toe_iperf3_stats */
};
extern const struct toe_iperf3_counter toe_iperf3_counters[];
extern const unsigned int toe_iperf3_n_counters;

#endif /* VTOE_TOE_IPERF3_H */
