/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * toe_tcp: the TCP of a TOE endpoint (RFC 9293), behind the socket API of
 * toe_sock.h.  Pure: segments in as bytes, segments out through the
 * endpoint's emit callback, time through the worker's timer wheel.
 *
 * What it does, and where each rule comes from:
 *  - connection states and segment processing: RFC 9293 3.10;
 *  - window scale and timestamps with PAWS: RFC 7323;
 *  - SACK (RFC 2018) as receiver and sender, loss recovery by RFC 6675's
 *    pipe and NextSeg over a scoreboard, NewReno (RFC 6582) when the peer
 *    has no SACK; the window's growth RFC 5681, or CUBIC (RFC 9438) when
 *    the port asks (toe_cc.h);
 *  - retransmission timer RFC 6298 (the minimum is 200 ms, as Linux,
 *    rather than the RFC's 1 s: a lost segment on a host-local path
 *    otherwise stalls the connection for a second), with backoff;
 *  - delayed ACKs (RFC 1122 4.2.3.2: at most 40 ms, every second full
 *    segment acknowledged at once, out-of-order data at once);
 *  - ISNs by RFC 6528 (SipHash of the 4-tuple under a per-worker key);
 *  - RFC 5961: challenge ACKs for in-window RSTs and SYNs, the ACK
 *    acceptance range, a rate limit;
 *  - SYN cookies once a listener's backlog is full (no state per SYN);
 *  - TIME_WAIT for 2 MSL (bounded in number; the oldest is recycled);
 *  - keepalive per socket option; zero-window probes.
 * Toward a guest that takes TCP super-frames, data leaves in frames of up
 * to 64 KB with the MSS attached (layer 1 cuts them for guests that do
 * not); the guest's super-frames are taken whole.
 */
#ifndef VTOE_TOE_TCP_H
#define VTOE_TOE_TCP_H

#include <stdbool.h>
#include <stdint.h>

#include "toe_cc.h"
#include "toe_sock.h"
#include "toe_timer.h"

#define TOE_TCP_BUF_DEFAULT (64u * 1024)
#define TOE_TCP_BUF_MAX (4u * 1024 * 1024)
#define TOE_TCP_CONNS_MAX 256           /* per endpoint, TIME_WAIT apart */
#define TOE_TCP_TW_MAX 1024             /* TIME_WAIT per endpoint */
#define TOE_TCP_MEM_MAX (64u * 1024 * 1024)     /* buffers per endpoint */
#define TOE_TCP_LISTENERS_MAX 8
#define TOE_TCP_HASH 256
#define TOE_TCP_OOO_MAX 8               /* out-of-order ranges held */
#define TOE_TCP_SACK_MAX 8              /* scoreboard ranges */
#define TOE_TCP_MSS 1460                /* ours: IPv4 over a 1500 MTU */
#define TOE_TCP_MSS_DEFAULT 536         /* the peer's without the option */
#define TOE_TCP_SUPER_MAX 65000         /* payload of one super-frame */
#define TOE_TCP_RTO_INIT_MS 1000
#define TOE_TCP_RTO_MIN_MS 200
#define TOE_TCP_RTO_MAX_MS 60000
#define TOE_TCP_DELACK_MS 40
#define TOE_TCP_MSL_MS 30000
#define TOE_TCP_RETRIES 15              /* then the connection is dropped */
#define TOE_TCP_SYN_RETRIES 5
#define TOE_TCP_FIN_WAIT2_MS 60000      /* an orphan waits this long */
#define TOE_TCP_CHALLENGE_PER_S 100     /* RFC 5961 7 */
#define TOE_TCP_CONN_INFO_MAX 32        /* connections the views see */

#define TOE_TCP_STATES(X) \
	X(CLOSED, "closed") \
	X(LISTEN, "listen") \
	X(SYN_SENT, "syn_sent") \
	X(SYN_RECEIVED, "syn_received") \
	X(ESTABLISHED, "established") \
	X(FIN_WAIT_1, "fin_wait_1") \
	X(FIN_WAIT_2, "fin_wait_2") \
	X(CLOSE_WAIT, "close_wait") \
	X(CLOSING, "closing") \
	X(LAST_ACK, "last_ack") \
	X(TIME_WAIT, "time_wait")

enum toe_tcp_state {
#define TOE_TCP_STATE_ENUM(sym, name) TOE_TCP_##sym,
	TOE_TCP_STATES(TOE_TCP_STATE_ENUM)
#undef TOE_TCP_STATE_ENUM
	TOE_TCP_STATE_MAX
};

const char *toe_tcp_state_name(unsigned int s);

/* A frame the endpoint sends: headers, then up to two pieces of payload
 * (a ring buffer's), as one frame or, with mss set, a TCP super-frame. */
struct toe_emit {
	const uint8_t *hdr;
	uint32_t hdr_len;
	const uint8_t *pay[2];
	uint32_t pay_len[2];
	uint16_t mss;                   /* > 0: cut at this size (TSO) */
	uint8_t l2_len, l3_len, l4_len;
	bool l4_partial;                /* TCP checksum: pseudo header only */
};
typedef void toe_emit_fn(void *arg, const struct toe_emit *e);

struct toe_ring {
	uint8_t *buf;
	uint32_t cap;
	uint32_t head;                  /* index of the first byte */
	uint32_t len;                   /* bytes from head */
};

struct toe_range {
	uint32_t start, end;            /* sequence numbers, end excluded */
};

struct toe_tcp;

/* A listener or a connection (the socket handle is the TCB). */
struct toe_sock {
	struct toe_tcp *tcp;
	uint8_t state;                  /* enum toe_tcp_state */
	bool app_owned;                 /* the application holds the handle */
	bool in_hash;
	bool accepted;                  /* taken from the accept queue */
	int err;                        /* positive errno once ended */
	unsigned int events;            /* to deliver */
	toe_sock_cb *cb;
	void *arg;
	struct toe_sock *hnext;         /* hash chain */
	struct toe_sock *qnext;         /* accept queue / TIME_WAIT list */
	struct toe_sock *listener;      /* passive opens: whose queue */
	struct toe_sock_opts opts;

	/* Listeners. */
	unsigned int backlog, n_pending;
	struct toe_sock *q_head, *q_tail;

	/* Addresses (network order) and ports (host order). */
	uint8_t laddr[4], raddr[4];
	uint16_t lport, rport;
	uint16_t ip_id;

	/* Send side (RFC 9293 3.3.1). */
	uint32_t iss, snd_una, snd_nxt, snd_max, snd_wnd, snd_wl1, snd_wl2;
	uint32_t max_snd_wnd;
	uint16_t mss;                   /* data per segment (its options out) */
	uint16_t peer_mss;              /* the MSS option it sent */
	uint8_t snd_wscale, rcv_wscale;
	bool ws_ok, ts_ok, sack_ok;
	bool fin_queued, fin_sent;
	bool cookie;                    /* made from a SYN cookie */
	uint32_t ts_recent, ts_offset;
	uint32_t last_ack_sent;
	/* Congestion control: the window (toe_cc.h), recovery. */
	struct toe_cc cc;
	uint32_t recover, high_rxt;
	uint32_t dupacks;
	bool in_recovery;
	struct toe_range sacked[TOE_TCP_SACK_MAX];
	uint8_t n_sacked;
	/* RTT (RFC 6298), in microseconds; rto in ms. */
	uint32_t srtt_us, rttvar_us, rto_ms;
	uint32_t rtt_seq;               /* Karn: the segment being timed */
	uint64_t rtt_start_ms;
	bool rtt_timing;
	uint8_t backoff;
	uint8_t retries;

	/* Receive side. */
	uint32_t irs, rcv_nxt, rcv_adv;  /* rcv_adv: right edge advertised */
	uint32_t rd_seq;                /* sequence number of rcvbuf's head */
	bool fin_rcvd;
	bool fin_ooo;                   /* a FIN beyond a hole */
	uint32_t fin_seq;
	struct toe_range ooo[TOE_TCP_OOO_MAX];
	uint8_t n_ooo;
	uint8_t last_ooo;               /* the range the latest segment hit */
	uint32_t unacked_bytes;         /* received since our last ACK */
	bool ack_now;

	struct toe_ring sndbuf, rcvbuf;

	struct toe_timer rto_t;         /* retransmission, persist, 2MSL */
	struct toe_timer dack_t;
	struct toe_timer ka_t;
	uint64_t last_rx_ms;
	uint32_t ka_sent;

	/* Counters of this connection. */
	uint64_t bytes_in, bytes_out, retransmits;
};

/* What the views see of one connection. */
struct toe_tcp_conn_info {
	uint8_t state;
	uint8_t laddr[4], raddr[4];
	uint16_t lport, rport;
	uint32_t cwnd, ssthresh, mss, srtt_us, rto_ms, snd_wnd;
	uint32_t snd_queued, rcv_queued;
	uint64_t bytes_in, bytes_out, retransmits;
};

struct toe_tcp {
	struct toe_ep *ep;
	struct toe_wheel *wheel;
	uint8_t key[16];                /* ISNs and SYN cookies */
	bool csum_partial;              /* emit the pseudo-header sum only */
	bool super;                     /* emit super-frames */
	struct toe_sock *listeners[TOE_TCP_LISTENERS_MAX];
	struct toe_sock *hash[TOE_TCP_HASH];
	uint32_t n_conns, n_tw;
	uint64_t mem;                   /* buffer bytes held */
	struct toe_sock *tw_head, *tw_tail;     /* TIME_WAIT, oldest first */
	uint64_t chal_sec;
	uint32_t chal_count;
	uint64_t now_ms;                /* of the segment or timer at work */
	bool seg_dropped;               /* the segment at work was counted */
	/* The views' copy, refreshed by toe_tcp_snapshot. */
	uint32_t info_seq;
	uint32_t n_info, n_info_total;
	struct toe_tcp_conn_info info[TOE_TCP_CONN_INFO_MAX];
};

struct toe_ep;
void toe_tcp_init(struct toe_tcp *tcp, struct toe_ep *ep,
		  struct toe_wheel *wheel, const uint8_t key[16]);
/* Free every connection and listener (no segment sent). */
void toe_tcp_fini(struct toe_tcp *tcp);
/*
 * A TCP segment to one of the endpoint's addresses: ip is its IPv4
 * header (ihl bytes), th its n bytes of TCP header and payload.
 * csum_ok: the checksum need not be checked (the guest left it to the
 * host; its bytes came from its memory).  Counted and answered here.
 */
void toe_tcp_input(struct toe_tcp *tcp, const uint8_t *ip, uint32_t ihl,
		   const uint8_t *th, uint32_t n, bool csum_ok,
		   uint64_t now_ms);
/* Copy the connections' state for the views (every few hundred ms). */
void toe_tcp_snapshot(struct toe_tcp *tcp);
/* A consistent copy of the views' state; returns how many were copied
 * into out (room for TOE_TCP_CONN_INFO_MAX); *total: all connections. */
unsigned int toe_tcp_info_read(const struct toe_tcp *tcp,
			       struct toe_tcp_conn_info *out, uint32_t *total);

/* Sequence number arithmetic, RFC 9293 3.4 (modulo 2^32). */
static inline bool seq_lt(uint32_t a, uint32_t b) { return (int32_t)(a - b) < 0; }
static inline bool seq_leq(uint32_t a, uint32_t b) { return (int32_t)(a - b) <= 0; }
static inline bool seq_gt(uint32_t a, uint32_t b) { return (int32_t)(a - b) > 0; }
static inline bool seq_geq(uint32_t a, uint32_t b) { return (int32_t)(a - b) >= 0; }
static inline uint32_t seq_max(uint32_t a, uint32_t b) { return seq_gt(a, b) ? a : b; }
static inline uint32_t seq_min(uint32_t a, uint32_t b) { return seq_lt(a, b) ? a : b; }
/* lo <= a < hi */
static inline bool seq_in(uint32_t a, uint32_t lo, uint32_t hi)
{
	return seq_geq(a, lo) && seq_lt(a, hi);
}

#endif /* VTOE_TOE_TCP_H */
