/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The TCP of a TOE endpoint (toe_tcp.h, toe_sock.h): connections, input,
 * timers and the socket API; what goes out is built in toe_tcp_out.c.
 * Section numbers are RFC 9293's unless another RFC is named.
 */
#include "toe_tcp.h"

#include <errno.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "toe_ep.h"
#include "toe_bytes.h"
#include "toe_tcp_priv.h"

#define WS_MAX 14                       /* RFC 7323 2.3 */
#define COOKIE_PERIOD_MS 60000

static const char *const state_names[] = {
#define X_(sym, name) name,
	TOE_TCP_STATES(X_)
#undef X_
};

/* MSS values a SYN cookie can carry (3 bits). */
static const uint16_t cookie_mss[8] = {
	536, 1024, 1220, 1360, 1400, 1440, 1452, 1460,
};

const char *
toe_tcp_state_name(unsigned int s)
{
	return s < TOE_TCP_STATE_MAX ? state_names[s] : "?";
}

#define container_of(p, T, m) ((T *)((char *)(p) - offsetof(T, m)))

/* A segment is counted once: under a drop reason, or as taken in. */
static void
count_drop(struct toe_tcp *tcp, enum toe_ep_drop why)
{
	stats(tcp)->drops[why]++;
	tcp->seg_dropped = true;
}

/* ------------------------------------------------------------------ */
/* Ring buffers                                                        */

static bool
ring_alloc(struct toe_tcp *tcp, struct toe_ring *r, uint32_t cap)
{
	if (tcp->mem + cap > TOE_TCP_MEM_MAX)
		return false;
	r->buf = malloc(cap);
	if (r->buf == NULL)
		return false;
	r->cap = cap;
	r->head = r->len = 0;
	tcp->mem += cap;
	return true;
}

static void
ring_free(struct toe_tcp *tcp, struct toe_ring *r)
{
	if (r->buf != NULL) {
		free(r->buf);
		tcp->mem -= r->cap;
	}
	memset(r, 0, sizeof(*r));
}

/* Copy len bytes in at offset off from head (off + len <= cap). */
static void
ring_write(struct toe_ring *r, uint32_t off, const uint8_t *src, uint32_t len)
{
	uint32_t at = (r->head + off) % r->cap, first = r->cap - at;

	if (first > len)
		first = len;
	memcpy(r->buf + at, src, first);
	memcpy(r->buf, src + first, len - first);
}

static void
ring_read(const struct toe_ring *r, uint32_t off, uint8_t *dst, uint32_t len)
{
	uint32_t at = (r->head + off) % r->cap, first = r->cap - at;

	if (first > len)
		first = len;
	memcpy(dst, r->buf + at, first);
	memcpy(dst + first, r->buf, len - first);
}

static void
ring_drop(struct toe_ring *r, uint32_t n)
{
	r->head = (r->head + n) % r->cap;
	r->len -= n;
}

/* ------------------------------------------------------------------ */
/* ISNs, SYN cookies (SipHash-2-4 under the worker's key)              */

static uint64_t
keyed_hash(const struct toe_tcp *tcp, const uint8_t *raddr, uint16_t rport,
	   const uint8_t *laddr, uint16_t lport, uint32_t extra1,
	   uint32_t extra2)
{
	uint8_t msg[20], out[crypto_shorthash_BYTES];
	uint64_t h;

	memcpy(msg, raddr, 4);
	memcpy(msg + 4, laddr, 4);
	wr16(msg + 8, rport);
	wr16(msg + 10, lport);
	wr32(msg + 12, extra1);
	wr32(msg + 16, extra2);
	crypto_shorthash(out, msg, sizeof(msg), tcp->key);
	memcpy(&h, out, sizeof(h));
	return h;
}

/* RFC 6528: ISN = M + F(localip, localport, remoteip, remoteport, key),
 * M a 4 microsecond clock. */
static uint32_t
isn(const struct toe_tcp *tcp, const struct toe_sock *c)
{
	return (uint32_t)(tcp->now_ms * 250) +
	       (uint32_t)keyed_hash(tcp, c->raddr, c->rport, c->laddr,
				    c->lport, 0, 0);
}

static uint32_t
cookie_make(const struct toe_tcp *tcp, const uint8_t *raddr, uint16_t rport,
	    const uint8_t *laddr, uint16_t lport, uint32_t client_isn,
	    uint32_t t, unsigned int mss_idx)
{
	uint32_t h = (uint32_t)keyed_hash(tcp, raddr, rport, laddr, lport,
					  client_isn, t);

	return (h & 0xffffff00u) | (t & 0x1f) << 3 | (mss_idx & 7);
}

/* The MSS index a valid cookie carries, or -1. */
static int
cookie_check(const struct toe_tcp *tcp, const uint8_t *raddr, uint16_t rport,
	     const uint8_t *laddr, uint16_t lport, uint32_t client_isn,
	     uint32_t cookie)
{
	uint32_t now_t = (uint32_t)(tcp->now_ms / COOKIE_PERIOD_MS);

	for (uint32_t age = 0; age < 2; age++) {
		uint32_t t = now_t - age;

		if (((cookie >> 3) & 0x1f) != (t & 0x1f))
			continue;
		if (cookie_make(tcp, raddr, rport, laddr, lport, client_isn, t,
				cookie & 7) == cookie)
			return (int)(cookie & 7);
	}
	return -1;
}

/* ------------------------------------------------------------------ */
/* Connections: table, life                                            */

static unsigned int
hash_of(const uint8_t *raddr, uint16_t rport, uint16_t lport)
{
	uint32_t h = rd32(raddr) * 2654435761u ^ (uint32_t)rport * 40503u ^ lport;

	return (h ^ h >> 16) % TOE_TCP_HASH;
}

static struct toe_sock *
conn_find(struct toe_tcp *tcp, const uint8_t *raddr, uint16_t rport,
	  const uint8_t *laddr, uint16_t lport)
{
	for (struct toe_sock *c = tcp->hash[hash_of(raddr, rport, lport)];
	     c != NULL; c = c->hnext)
		if (c->rport == rport && c->lport == lport &&
		    memcmp(c->raddr, raddr, 4) == 0 &&
		    memcmp(c->laddr, laddr, 4) == 0)
			return c;
	return NULL;
}

static void
hash_add(struct toe_tcp *tcp, struct toe_sock *c)
{
	struct toe_sock **head = &tcp->hash[hash_of(c->raddr, c->rport, c->lport)];

	c->hnext = *head;
	*head = c;
	c->in_hash = true;
}

static void
hash_del(struct toe_tcp *tcp, struct toe_sock *c)
{
	struct toe_sock **pp = &tcp->hash[hash_of(c->raddr, c->rport, c->lport)];

	for (; *pp != NULL; pp = &(*pp)->hnext)
		if (*pp == c) {
			*pp = c->hnext;
			break;
		}
	c->in_hash = false;
}

static void rto_fire(struct toe_timer *t, uint64_t now_ms);
static void dack_fire(struct toe_timer *t, uint64_t now_ms);
static void ka_fire(struct toe_timer *t, uint64_t now_ms);

static struct toe_sock *
sock_new(struct toe_tcp *tcp)
{
	struct toe_sock *c = calloc(1, sizeof(*c));

	if (c == NULL)
		return NULL;
	c->tcp = tcp;
	toe_timer_init(&c->rto_t, rto_fire);
	toe_timer_init(&c->dack_t, dack_fire);
	toe_timer_init(&c->ka_t, ka_fire);
	return c;
}

static void
tw_unlink(struct toe_tcp *tcp, struct toe_sock *c)
{
	struct toe_sock **pp = &tcp->tw_head, *prev = NULL;

	for (; *pp != NULL; prev = *pp, pp = &(*pp)->qnext)
		if (*pp == c) {
			*pp = c->qnext;
			if (tcp->tw_tail == c)
				tcp->tw_tail = prev;
			tcp->n_tw--;
			return;
		}
}

/* The connection's memory goes; nothing may touch c after this. */
static void
conn_free(struct toe_sock *c)
{
	struct toe_tcp *tcp = c->tcp;

	toe_timer_cancel(tcp->wheel, &c->rto_t);
	toe_timer_cancel(tcp->wheel, &c->dack_t);
	toe_timer_cancel(tcp->wheel, &c->ka_t);
	if (c->in_hash)
		hash_del(tcp, c);
	if (c->state == TOE_TCP_TIME_WAIT)
		tw_unlink(tcp, c);
	else
		tcp->n_conns--;
	ring_free(tcp, &c->sndbuf);
	ring_free(tcp, &c->rcvbuf);
	free(c);
}

/* Queue events for the application (delivered by deliver()). */
static void
notify(struct toe_sock *c, unsigned int ev)
{
	c->events |= ev;
}

static void
listener_unqueue(struct toe_sock *c)
{
	struct toe_sock *l = c->listener, **pp, *prev = NULL;

	if (l == NULL)
		return;
	if (!c->accepted) {
		for (pp = &l->q_head; *pp != NULL; prev = *pp, pp = &(*pp)->qnext)
			if (*pp == c) {
				*pp = c->qnext;
				if (l->q_tail == c)
					l->q_tail = prev;
				break;
			}
		l->n_pending--;
	}
	c->listener = NULL;
}

/*
 * The connection is over (state CLOSED): freed now if the application
 * does not hold it (or never got it), else kept for toe_close.
 */
static void
conn_closed(struct toe_sock *c, int err)
{
	c->state = TOE_TCP_CLOSED;
	if (err != 0 && c->err == 0)
		c->err = err;
	toe_timer_cancel(c->tcp->wheel, &c->rto_t);
	toe_timer_cancel(c->tcp->wheel, &c->dack_t);
	toe_timer_cancel(c->tcp->wheel, &c->ka_t);
	if (c->in_hash)
		hash_del(c->tcp, c);
	/* One never accepted goes with the next deliver(). */
	listener_unqueue(c);
	if (c->app_owned)
		notify(c, err != 0 ? TOE_SOCK_ERROR | TOE_SOCK_READABLE :
				     TOE_SOCK_READABLE);
}

/*
 * Hand the queued events to the callback; after it returns c may be
 * gone (closed by the application), and so may be freed here.
 */
static void
deliver(struct toe_sock *c)
{
	unsigned int ev = c->events;

	c->events = 0;
	if (c->state == TOE_TCP_CLOSED && !c->app_owned && c->listener == NULL &&
	    !c->in_hash) {
		conn_free(c);
		return;
	}
	if (ev != 0 && c->cb != NULL && c->app_owned)
		c->cb(c, ev, c->arg);
}

/* ------------------------------------------------------------------ */
/* Timers                                                              */

static void
enter_time_wait(struct toe_sock *c)
{
	struct toe_tcp *tcp = c->tcp;

	c->state = TOE_TCP_TIME_WAIT;
	tcp->n_conns--;
	ring_free(tcp, &c->sndbuf);
	ring_free(tcp, &c->rcvbuf);
	toe_timer_cancel(tcp->wheel, &c->dack_t);
	toe_timer_cancel(tcp->wheel, &c->ka_t);
	toe_timer_arm(tcp->wheel, &c->rto_t, tcp->now_ms + 2 * TOE_TCP_MSL_MS);
	c->qnext = NULL;
	if (tcp->tw_tail != NULL)
		tcp->tw_tail->qnext = c;
	else
		tcp->tw_head = c;
	tcp->tw_tail = c;
	tcp->n_tw++;
	if (c->app_owned)
		notify(c, TOE_SOCK_READABLE);
	/* Bounded: the oldest goes first (its 2 MSL cut short). */
	if (tcp->n_tw > TOE_TCP_TW_MAX) {
		struct toe_sock *old = tcp->tw_head;

		stats(tcp)->tcp_tw_recycled++;
		if (!old->app_owned)
			conn_free(old);
		else {
			tw_unlink(tcp, old);
			tcp->n_conns++;         /* conn_closed's books */
			conn_closed(old, 0);
		}
	}
}

static void
abort_conn(struct toe_sock *c, int err, bool send_rst)
{
	if (send_rst && c->state != TOE_TCP_SYN_SENT &&
	    c->state != TOE_TCP_TIME_WAIT)
		tcp_send_segment(c, c->snd_nxt, RST | ACK, 0, 0);
	if (c->state == TOE_TCP_TIME_WAIT) {
		tw_unlink(c->tcp, c);
		c->tcp->n_conns++;
	}
	conn_closed(c, err);
}

static void
rto_fire(struct toe_timer *t, uint64_t now_ms)
{
	struct toe_sock *c = container_of(t, struct toe_sock, rto_t);
	struct toe_tcp *tcp = c->tcp;
	uint32_t flight;

	tcp->now_ms = now_ms;
	switch (c->state) {
	case TOE_TCP_TIME_WAIT:
		/* 2 MSL passed */
		tw_unlink(tcp, c);
		tcp->n_conns++;
		conn_closed(c, 0);
		deliver(c);
		return;
	case TOE_TCP_FIN_WAIT_2:
		/* An orphan whose peer never closed. */
		abort_conn(c, ETIMEDOUT, true);
		deliver(c);
		return;
	case TOE_TCP_SYN_SENT:
	case TOE_TCP_SYN_RECEIVED:
		if (++c->retries > TOE_TCP_SYN_RETRIES) {
			stats(tcp)->tcp_timeouts++;
			abort_conn(c, ETIMEDOUT, c->state == TOE_TCP_SYN_RECEIVED);
			deliver(c);
			return;
		}
		c->backoff++;
		stats(tcp)->tcp_retransmits++;
		c->retransmits++;
		tcp_send_segment(c, c->iss, SYN | (c->state == TOE_TCP_SYN_RECEIVED ? ACK : 0), 0, 0);
		tcp_rto_arm(c);
		return;
	default:
		break;
	}
	if (c->snd_una == c->snd_max && c->snd_una == c->snd_una + c->sndbuf.len)
		return;         /* nothing outstanding */
	/* Zero window: a probe of one byte, never a reason to give up
	 * while the peer answers (RFC 9293 3.8.6.1). */
	if (c->snd_wnd == 0 && seq_leq(c->snd_max, c->snd_una + 1)) {
		if (c->sndbuf.len > 0) {
			tcp_send_segment(c, c->snd_una, ACK, 0, 1);
			c->snd_nxt = c->snd_max = c->snd_una + 1;
		}
		if (c->backoff < 10)
			c->backoff++;
		tcp_rto_arm(c);
		return;
	}
	if (++c->retries > TOE_TCP_RETRIES) {
		stats(tcp)->tcp_timeouts++;
		abort_conn(c, ETIMEDOUT, true);
		deliver(c);
		return;
	}
	/* RFC 5681 3.1 (4): ssthresh from the flight, one segment of
	 * window; RFC 6298 5.5-5.7: back off, start from snd_una. */
	stats(tcp)->tcp_rto_timeouts++;
	flight = c->snd_max - c->snd_una;
	toe_cc_on_timeout(&c->cc, flight, tcp->now_ms);
	c->in_recovery = false;
	c->dupacks = 0;
	c->n_sacked = 0;                /* the receiver may renege */
	c->high_rxt = c->snd_una;
	c->rtt_timing = false;
	if (c->backoff < 10)
		c->backoff++;
	c->snd_nxt = c->snd_una;
	if (c->fin_sent && c->snd_una + c->sndbuf.len == c->snd_max - 1) {
		/* Only the FIN is outstanding beyond the data. */
		c->fin_sent = false;
		if (c->state == TOE_TCP_FIN_WAIT_1 || c->state == TOE_TCP_CLOSING)
			c->state = c->state == TOE_TCP_CLOSING ?
				   TOE_TCP_CLOSE_WAIT : TOE_TCP_ESTABLISHED;
		else if (c->state == TOE_TCP_LAST_ACK)
			c->state = TOE_TCP_CLOSE_WAIT;
	}
	toe_timer_cancel(tcp->wheel, &c->rto_t);
	tcp_rto_arm(c);
	tcp_output(c);
	deliver(c);
}

static void
dack_fire(struct toe_timer *t, uint64_t now_ms)
{
	struct toe_sock *c = container_of(t, struct toe_sock, dack_t);

	c->tcp->now_ms = now_ms;
	if (c->state != TOE_TCP_CLOSED)
		tcp_send_ack(c);
}

static void
ka_arm(struct toe_sock *c, uint32_t ms)
{
	if (c->opts.ka_idle_ms > 0)
		toe_timer_arm(c->tcp->wheel, &c->ka_t, c->tcp->now_ms + ms);
}

static void
ka_fire(struct toe_timer *t, uint64_t now_ms)
{
	struct toe_sock *c = container_of(t, struct toe_sock, ka_t);
	struct toe_tcp *tcp = c->tcp;
	uint64_t idle = now_ms - c->last_rx_ms;

	tcp->now_ms = now_ms;
	if (c->state != TOE_TCP_ESTABLISHED && c->state != TOE_TCP_CLOSE_WAIT)
		return;
	if (idle < c->opts.ka_idle_ms) {
		ka_arm(c, (uint32_t)(c->opts.ka_idle_ms - idle));
		return;
	}
	if (c->ka_sent >= c->opts.ka_probes) {
		stats(tcp)->tcp_timeouts++;
		abort_conn(c, ETIMEDOUT, true);
		deliver(c);
		return;
	}
	/* RFC 1122 4.2.3.6: a segment the peer must acknowledge. */
	c->ka_sent++;
	tcp_send_segment(c, c->snd_una - 1, ACK, 0, 0);
	ka_arm(c, c->opts.ka_intvl_ms);
}

/* ------------------------------------------------------------------ */
/* Input                                                               */

struct seg {
	const uint8_t *ip, *th, *data;
	uint32_t seq, ack, len, wnd;
	uint8_t flags;
	/* options */
	bool has_mss, has_ws, sack_ok, has_ts;
	uint16_t mss;
	uint8_t ws;
	uint32_t tsval, tsecr;
	uint8_t n_sack;
	struct toe_range sack[4];
};

/* RFC 9293 3.2; unknown options skipped by their length.  false: an
 * option runs past the header. */
static bool
parse_options(struct seg *s, const uint8_t *o, uint32_t n)
{
	uint32_t i = 0;

	while (i < n) {
		uint8_t kind = o[i], len;

		if (kind == OPT_EOL)
			break;
		if (kind == OPT_NOP) {
			i++;
			continue;
		}
		if (i + 1 >= n || (len = o[i + 1]) < 2 || i + len > n)
			return false;
		switch (kind) {
		case OPT_MSS:
			if (len == 4 && (s->flags & SYN)) {
				s->has_mss = true;
				s->mss = rd16(o + i + 2);
			}
			break;
		case OPT_WS:
			if (len == 3 && (s->flags & SYN)) {
				s->has_ws = true;
				s->ws = o[i + 2] > WS_MAX ? WS_MAX : o[i + 2];
			}
			break;
		case OPT_SACK_OK:
			if (len == 2 && (s->flags & SYN))
				s->sack_ok = true;
			break;
		case OPT_TS:
			if (len == 10) {
				s->has_ts = true;
				s->tsval = rd32(o + i + 2);
				s->tsecr = rd32(o + i + 6);
			}
			break;
		case OPT_SACK:
			for (uint32_t k = 2; k + 8 <= len && s->n_sack < 4; k += 8) {
				s->sack[s->n_sack].start = rd32(o + i + k);
				s->sack[s->n_sack].end = rd32(o + i + k + 4);
				s->n_sack++;
			}
			break;
		}
		i += len;
	}
	return true;
}

/* The connection a segment is for, seen from the endpoint. */
static void
seg_addrs(struct toe_sock *c, const struct seg *s)
{
	memcpy(c->laddr, s->ip + 16, 4);
	memcpy(c->raddr, s->ip + 12, 4);
	c->lport = rd16(s->th + 2);
	c->rport = rd16(s->th);
}

/* A segment to a port with no listener, or refused: RFC 9293 3.10.7.1. */
static void
send_reset_for(struct toe_tcp *tcp, const struct seg *s)
{
	struct toe_sock tmp;

	if (s->flags & RST)
		return;
	memset(&tmp, 0, sizeof(tmp));
	tmp.tcp = tcp;
	tmp.state = TOE_TCP_CLOSED;
	seg_addrs(&tmp, s);
	tmp.mss = TOE_TCP_MSS;
	stats(tcp)->tcp_resets++;
	if (s->flags & ACK) {
		tcp_send_segment(&tmp, s->ack, RST, 0, 0);
	} else {
		tmp.rcv_nxt = s->seq + s->len + !!(s->flags & SYN) + !!(s->flags & FIN);
		tcp_send_segment(&tmp, 0, RST | ACK, 0, 0);
	}
}

static uint8_t
choose_wscale(uint32_t rcvbuf)
{
	uint8_t ws = 0;

	while (ws < WS_MAX && (rcvbuf >> ws) > 65535)
		ws++;
	return ws;
}

/* Options the peer offered, taken for connection c (RFC 7323 1.3, 2.2;
 * RFC 2018 2). */
/* RFC 9293 3.7.1: the MSS counts no option; the data of a segment is
 * what is left after those it carries (timestamps on every one). */
static void
set_mss(struct toe_sock *c, uint32_t peer_mss)
{
	uint32_t m = peer_mss < TOE_TCP_MSS ? peer_mss : TOE_TCP_MSS;

	if (c->ts_ok)
		m -= 12;
	c->mss = (uint16_t)(m < 64 ? 64 : m);
}

static void
negotiate(struct toe_sock *c, const struct seg *s)
{
	c->ws_ok = s->has_ws;
	c->snd_wscale = s->has_ws ? s->ws : 0;
	c->rcv_wscale = s->has_ws ? choose_wscale(c->opts.rcvbuf) : 0;
	c->sack_ok = s->sack_ok;
	c->ts_ok = s->has_ts;
	if (s->has_ts)
		c->ts_recent = s->tsval;
	c->peer_mss = s->has_mss ? s->mss : TOE_TCP_MSS_DEFAULT;
	set_mss(c, c->peer_mss);
}


static void
conn_setup(struct toe_sock *c, const struct toe_sock_opts *opts)
{
	c->opts = *opts;
	if (c->opts.sndbuf == 0)
		c->opts.sndbuf = TOE_TCP_BUF_DEFAULT;
	if (c->opts.rcvbuf == 0)
		c->opts.rcvbuf = TOE_TCP_BUF_DEFAULT;
	if (c->opts.sndbuf > TOE_TCP_BUF_MAX)
		c->opts.sndbuf = TOE_TCP_BUF_MAX;
	if (c->opts.rcvbuf > TOE_TCP_BUF_MAX)
		c->opts.rcvbuf = TOE_TCP_BUF_MAX;
	c->rcvbuf.cap = c->opts.rcvbuf;         /* allocated when established */
	c->rto_ms = TOE_TCP_RTO_INIT_MS;
	c->mss = TOE_TCP_MSS_DEFAULT;
}

/* Buffers, windows and congestion state once the handshake is done
 * (RFC 5681 3.1: IW = 10 segments is RFC 6928's; 4 segments here). */
static bool
conn_establish(struct toe_sock *c)
{
	struct toe_tcp *tcp = c->tcp;

	if (!ring_alloc(tcp, &c->sndbuf, c->opts.sndbuf))
		return false;
	if (!ring_alloc(tcp, &c->rcvbuf, c->opts.rcvbuf)) {
		ring_free(tcp, &c->sndbuf);
		return false;
	}
	c->state = TOE_TCP_ESTABLISHED;
	toe_cc_init(&c->cc, tcp->ep->conf->tcp_cc, c->mss, 4);
	c->rd_seq = c->rcv_nxt;
	c->high_rxt = c->snd_una;
	c->backoff = 0;
	c->retries = 0;
	ka_arm(c, c->opts.ka_idle_ms);
	return true;
}

/* A listener's SYN: a half-open connection, or a SYN cookie when its
 * backlog (or the endpoint's room) is full. */
static void
listen_syn(struct toe_tcp *tcp, struct toe_sock *l, const struct seg *s)
{
	struct toe_sock *c;

	if (l->n_pending < l->backlog && tcp->n_conns < TOE_TCP_CONNS_MAX &&
	    (c = sock_new(tcp)) != NULL) {
		conn_setup(c, &l->opts);
		seg_addrs(c, s);
		c->state = TOE_TCP_SYN_RECEIVED;
		c->irs = s->seq;
		c->rcv_nxt = s->seq + 1;
		c->rcv_adv = c->rcv_nxt;
		negotiate(c, s);
		c->ts_offset = (uint32_t)keyed_hash(tcp, c->raddr, c->rport,
						    c->laddr, c->lport, 1, 0);
		c->iss = isn(tcp, c);
		c->snd_una = c->iss;
		c->snd_nxt = c->snd_max = c->iss + 1;
		c->snd_wnd = s->wnd;            /* not scaled in a SYN */
		c->snd_wl1 = s->seq;
		c->snd_wl2 = c->iss;
		c->listener = l;
		c->last_rx_ms = tcp->now_ms;
		l->n_pending++;
		tcp->n_conns++;
		hash_add(tcp, c);
		tcp_send_segment(c, c->iss, SYN | ACK, 0, 0);
		tcp_rto_arm(c);
		return;
	}
	/* A SYN cookie: the connection is made from the ACK alone. */
	{
		struct toe_sock tmp;
		unsigned int idx = 0;
		uint32_t t = (uint32_t)(tcp->now_ms / COOKIE_PERIOD_MS);
		uint16_t peer_mss = s->has_mss ? s->mss : TOE_TCP_MSS_DEFAULT;

		for (unsigned int i = 0; i < 8; i++)
			if (cookie_mss[i] <= peer_mss)
				idx = i;
		memset(&tmp, 0, sizeof(tmp));
		tmp.tcp = tcp;
		tmp.state = TOE_TCP_SYN_RECEIVED;
		seg_addrs(&tmp, s);
		tmp.rcv_nxt = s->seq + 1;
		tmp.rcvbuf.cap = l->opts.rcvbuf ? l->opts.rcvbuf : TOE_TCP_BUF_DEFAULT;
		tmp.mss = cookie_mss[idx];
		stats(tcp)->tcp_syncookies_sent++;
		tcp_send_segment(&tmp, cookie_make(tcp, tmp.raddr, tmp.rport,
						   tmp.laddr, tmp.lport, s->seq,
						   t, idx), SYN | ACK, 0, 0);
	}
}

static void
accept_queue(struct toe_sock *l, struct toe_sock *c)
{
	c->qnext = NULL;
	if (l->q_tail != NULL)
		l->q_tail->qnext = c;
	else
		l->q_head = c;
	l->q_tail = c;
	notify(l, TOE_SOCK_ACCEPT);
}

/* An ACK to a listener: a SYN cookie coming back, or an RST. */
static void
listen_ack(struct toe_tcp *tcp, struct toe_sock *l, const struct seg *s)
{
	struct toe_sock *c;
	int idx = cookie_check(tcp, s->ip + 12, rd16(s->th), s->ip + 16,
			       rd16(s->th + 2), s->seq - 1, s->ack - 1);

	if (idx < 0 || (s->flags & (SYN | RST))) {
		count_drop(tcp, TOE_EP_DROP_TCP_BAD_COOKIE);
		send_reset_for(tcp, s);
		return;
	}
	if (l->n_pending >= l->backlog + TOE_TCP_CONNS_MAX ||
	    tcp->n_conns >= TOE_TCP_CONNS_MAX || (c = sock_new(tcp)) == NULL) {
		count_drop(tcp, TOE_EP_DROP_TCP_NO_MEMORY);
		send_reset_for(tcp, s);
		return;
	}
	conn_setup(c, &l->opts);
	seg_addrs(c, s);
	c->cookie = true;
	c->irs = s->seq - 1;
	c->rcv_nxt = s->seq;
	c->rcv_adv = c->rcv_nxt;
	c->iss = s->ack - 1;
	c->snd_una = c->snd_nxt = c->snd_max = s->ack;
	c->mss = cookie_mss[idx];
	c->snd_wnd = s->wnd;
	c->snd_wl1 = s->seq;
	c->snd_wl2 = s->ack;
	c->last_rx_ms = tcp->now_ms;
	tcp->n_conns++;
	if (!conn_establish(c)) {
		tcp->n_conns--;
		free(c);
		count_drop(tcp, TOE_EP_DROP_TCP_NO_MEMORY);
		send_reset_for(tcp, s);
		return;
	}
	stats(tcp)->tcp_syncookies_ok++;
	stats(tcp)->tcp_passive_opens++;
	c->listener = l;
	l->n_pending++;
	hash_add(tcp, c);
	accept_queue(l, c);
}

/* RFC 6298 2: a round-trip sample of r microseconds. */
static void
rtt_sample(struct toe_sock *c, uint32_t r)
{
	uint32_t rto;

	if (c->srtt_us == 0) {
		c->srtt_us = r ? r : 1;
		c->rttvar_us = r / 2;
	} else {
		uint32_t d = c->srtt_us > r ? c->srtt_us - r : r - c->srtt_us;

		c->rttvar_us = c->rttvar_us - c->rttvar_us / 4 + d / 4;
		c->srtt_us = c->srtt_us - c->srtt_us / 8 + r / 8;
		if (c->srtt_us == 0)
			c->srtt_us = 1;
	}
	rto = (c->srtt_us + (4 * c->rttvar_us > 1000 ? 4 * c->rttvar_us : 1000)) / 1000;
	c->rto_ms = rto < TOE_TCP_RTO_MIN_MS ? TOE_TCP_RTO_MIN_MS :
		    rto > TOE_TCP_RTO_MAX_MS ? TOE_TCP_RTO_MAX_MS : rto;
}

/* SACK blocks within (snd_una, snd_max] into the scoreboard, merged. */
static void
sack_update(struct toe_sock *c, const struct seg *s)
{
	for (unsigned int i = 0; i < s->n_sack; i++) {
		struct toe_range r = s->sack[i];
		unsigned int j, k;

		if (!seq_lt(r.start, r.end) || !seq_geq(r.start, c->snd_una) ||
		    !seq_leq(r.end, c->snd_max))
			continue;
		for (j = 0; j < c->n_sacked; ) {
			struct toe_range *o = &c->sacked[j];

			if (seq_leq(o->start, r.end) && seq_geq(o->end, r.start)) {
				r.start = seq_min(r.start, o->start);
				r.end = seq_max(r.end, o->end);
				c->sacked[j] = c->sacked[--c->n_sacked];
				continue;
			}
			j++;
		}
		if (c->n_sacked == TOE_TCP_SACK_MAX) {
			/* keep the highest: they decide the holes */
			k = 0;
			for (j = 1; j < c->n_sacked; j++)
				if (seq_lt(c->sacked[j].start, c->sacked[k].start))
					k = j;
			c->sacked[k] = r;
		} else {
			c->sacked[c->n_sacked++] = r;
		}
	}
	/* What una passed is no longer on the board. */
	for (unsigned int j = 0; j < c->n_sacked; ) {
		if (seq_leq(c->sacked[j].end, c->snd_una)) {
			c->sacked[j] = c->sacked[--c->n_sacked];
			continue;
		}
		if (seq_lt(c->sacked[j].start, c->snd_una))
			c->sacked[j].start = c->snd_una;
		j++;
	}
}

/* RFC 5681 3.2, RFC 6582 3.2, RFC 6675 5: recovery begins. */
static void
enter_recovery(struct toe_sock *c)
{
	uint32_t flight = c->snd_max - c->snd_una;

	stats(c->tcp)->tcp_fast_recoveries++;
	toe_cc_on_loss(&c->cc, flight, c->tcp->now_ms);
	c->recover = c->snd_max;
	c->in_recovery = true;
	c->high_rxt = c->snd_una;
	c->rtt_timing = false;
	if (c->sack_ok)
		return;         /* tcp_output() sends from the holes */
	/* NewReno: the first unacknowledged segment again, cwnd inflated
	 * by the three segments that left. */
	tcp_send_segment(c, c->snd_una, ACK, 0,
			 c->sndbuf.len < c->mss ? c->sndbuf.len : c->mss);
	c->retransmits++;
	stats(c->tcp)->tcp_retransmits++;
	c->cc.cwnd = c->cc.ssthresh + 3u * c->mss;
}

/* Bytes newly acknowledged: drop them from the send buffer, grow cwnd,
 * time the round trip, leave recovery (RFC 5681, RFC 6582, RFC 6298). */
static void
ack_advance(struct toe_sock *c, const struct seg *s)
{
	struct toe_tcp *tcp = c->tcp;
	uint32_t acked = s->ack - c->snd_una, data = acked;

	/* The FIN's sequence number is not in the buffer. */
	if (data > c->sndbuf.len)
		data = c->sndbuf.len;
	ring_drop(&c->sndbuf, data);
	c->snd_una = s->ack;
	if (seq_lt(c->snd_nxt, c->snd_una))
		c->snd_nxt = c->snd_una;
	c->retries = 0;
	c->backoff = 0;
	c->dupacks = 0;
	if (s->has_ts && c->ts_ok && s->tsecr != 0)
		rtt_sample(c, ((uint32_t)tcp->now_ms + c->ts_offset - s->tsecr) * 1000);
	else if (c->rtt_timing && seq_gt(s->ack, c->rtt_seq)) {
		rtt_sample(c, (uint32_t)(tcp->now_ms - c->rtt_start_ms) * 1000);
		c->rtt_timing = false;
	}
	if (c->in_recovery) {
		if (seq_geq(s->ack, c->recover)) {
			/* RFC 6582 3.2 (6): a full acknowledgment */
			c->in_recovery = false;
			c->cc.cwnd = c->cc.ssthresh;
		} else if (!c->sack_ok) {
			/* partial: the next hole again, deflate */
			tcp_send_segment(c, c->snd_una, ACK, 0,
					 c->sndbuf.len < c->mss ? c->sndbuf.len : c->mss);
			c->retransmits++;
			stats(tcp)->tcp_retransmits++;
			c->cc.cwnd = c->cc.cwnd > acked ? c->cc.cwnd - acked : 0;
			c->cc.cwnd += c->mss;
		}
	} else {
		toe_cc_on_ack(&c->cc, acked, tcp->now_ms, c->srtt_us / 1000);
	}
	if (c->snd_una == c->snd_max)
		toe_timer_cancel(tcp->wheel, &c->rto_t);
	else
		tcp_rto_arm(c);
	if (data > 0 && c->app_owned)
		notify(c, TOE_SOCK_WRITABLE);
}

/* Data at seq (len bytes, already trimmed to the window) into the
 * receive buffer, in order or held as an out-of-order range. */
static void
data_in(struct toe_sock *c, uint32_t seq, const uint8_t *data, uint32_t len)
{
	struct toe_tcp *tcp = c->tcp;
	uint32_t off = seq - c->rd_seq;
	struct toe_range r = { seq, seq + len };
	unsigned int j;

	ring_write(&c->rcvbuf, off, data, len);
	if (seq == c->rcv_nxt) {
		c->rcv_nxt += len;
		/* ranges now reached */
		for (bool moved = true; moved; ) {
			moved = false;
			for (j = 0; j < c->n_ooo; j++)
				if (seq_leq(c->ooo[j].start, c->rcv_nxt)) {
					c->rcv_nxt = seq_max(c->rcv_nxt, c->ooo[j].end);
					c->ooo[j] = c->ooo[--c->n_ooo];
					moved = true;
					c->ack_now = true;      /* a hole filled */
					break;
				}
		}
		c->last_ooo = 0;
		c->rcvbuf.len = c->rcv_nxt - c->rd_seq;
		return;
	}
	stats(tcp)->tcp_ooo_segs++;
	c->ack_now = true;
	for (j = 0; j < c->n_ooo; ) {
		if (seq_leq(c->ooo[j].start, r.end) && seq_geq(c->ooo[j].end, r.start)) {
			r.start = seq_min(r.start, c->ooo[j].start);
			r.end = seq_max(r.end, c->ooo[j].end);
			c->ooo[j] = c->ooo[--c->n_ooo];
			continue;
		}
		j++;
	}
	if (c->n_ooo == TOE_TCP_OOO_MAX) {
		/* keep the lowest ranges: they are delivered first; the
		 * data of the dropped one is sent again by the peer */
		unsigned int hi = 0;

		for (j = 1; j < c->n_ooo; j++)
			if (seq_gt(c->ooo[j].start, c->ooo[hi].start))
				hi = j;
		if (seq_gt(r.start, c->ooo[hi].start))
			return;
		c->ooo[hi] = r;
		c->last_ooo = (uint8_t)hi;
		return;
	}
	c->last_ooo = c->n_ooo;
	c->ooo[c->n_ooo++] = r;
}

static void
fin_in(struct toe_sock *c)
{
	c->rcv_nxt++;
	c->fin_rcvd = true;
	c->fin_ooo = false;
	c->ack_now = true;
	if (c->app_owned)
		notify(c, TOE_SOCK_READABLE);
	switch (c->state) {
	case TOE_TCP_ESTABLISHED:
		c->state = TOE_TCP_CLOSE_WAIT;
		break;
	case TOE_TCP_FIN_WAIT_1:
		/* our FIN not yet acknowledged */
		c->state = TOE_TCP_CLOSING;
		break;
	case TOE_TCP_FIN_WAIT_2:
		tcp_send_ack(c);
		enter_time_wait(c);
		break;
	default:
		break;
	}
}

/* RFC 9293 3.10.7.4, for every state past LISTEN and SYN-SENT. */
static void
conn_input_(struct toe_sock *c, struct seg *s)
{
	struct toe_tcp *tcp = c->tcp;
	uint32_t wnd = seq_gt(c->rcv_adv, c->rcv_nxt) ? c->rcv_adv - c->rcv_nxt : 0;
	uint32_t seg_len = s->len + !!(s->flags & SYN) + !!(s->flags & FIN);
	bool ok;

	if (c->state == TOE_TCP_ESTABLISHED || c->state == TOE_TCP_SYN_RECEIVED)
		wnd = seq_max(wnd, tcp_rcv_window(c));
	c->last_rx_ms = tcp->now_ms;
	c->ka_sent = 0;
	/* RFC 7323 5.3: PAWS. */
	if (c->ts_ok && s->has_ts && !(s->flags & RST) &&
	    seq_lt(s->tsval, c->ts_recent)) {
		count_drop(tcp, TOE_EP_DROP_TCP_PAWS);
		tcp_send_ack(c);
		return;
	}
	/* First: is the segment acceptable? */
	if (seg_len == 0)
		ok = wnd == 0 ? s->seq == c->rcv_nxt :
		     seq_in(s->seq, c->rcv_nxt, c->rcv_nxt + wnd);
	else
		ok = wnd > 0 &&
		     (seq_in(s->seq, c->rcv_nxt, c->rcv_nxt + wnd) ||
		      seq_in(s->seq + seg_len - 1, c->rcv_nxt, c->rcv_nxt + wnd));
	/* A retransmitted SYN in SYN-RECEIVED: the SYN-ACK again. */
	if ((s->flags & SYN) && c->state == TOE_TCP_SYN_RECEIVED &&
	    s->seq == c->irs && !(s->flags & ACK)) {
		tcp_send_segment(c, c->iss, SYN | ACK, 0, 0);
		return;
	}
	if (!ok) {
		count_drop(tcp, seq_lt(s->seq + seg_len, c->rcv_nxt + 1) ?
				TOE_EP_DROP_TCP_DUPLICATE :
				TOE_EP_DROP_TCP_OUT_OF_WINDOW);
		if (!(s->flags & RST)) {
			c->ack_now = true;
			/* a FIN retransmitted into TIME_WAIT restarts it */
			if (c->state == TOE_TCP_TIME_WAIT && (s->flags & FIN))
				toe_timer_arm(tcp->wheel, &c->rto_t,
					      tcp->now_ms + 2 * TOE_TCP_MSL_MS);
			tcp_send_ack(c);
		}
		return;
	}
	/* RFC 7323 4.3: the timestamp to echo. */
	if (c->ts_ok && s->has_ts && seq_leq(s->seq, c->last_ack_sent))
		c->ts_recent = s->tsval;
	/* Second: RST (RFC 5961 3.2). */
	if (s->flags & RST) {
		if (s->seq != c->rcv_nxt) {
			count_drop(tcp, TOE_EP_DROP_TCP_RST_CHALLENGED);
			tcp_challenge_ack(c);
			return;
		}
		stats(tcp)->tcp_resets_in++;
		if (c->state == TOE_TCP_TIME_WAIT) {
			tw_unlink(tcp, c);
			tcp->n_conns++;
			conn_closed(c, 0);
		} else {
			conn_closed(c, ECONNRESET);
		}
		deliver(c);
		return;
	}
	/* Fourth: SYN (RFC 5961 4.2). */
	if (s->flags & SYN) {
		count_drop(tcp, TOE_EP_DROP_TCP_SYN_CHALLENGED);
		tcp_challenge_ack(c);
		return;
	}
	/* Fifth: ACK. */
	if (!(s->flags & ACK)) {
		count_drop(tcp, TOE_EP_DROP_TCP_NO_ACK);
		return;
	}
	if (c->state == TOE_TCP_SYN_RECEIVED) {
		if (!seq_in(s->ack, c->snd_una + 1, c->snd_max + 1)) {
			count_drop(tcp, TOE_EP_DROP_TCP_ACK_INVALID);
			send_reset_for(tcp, s);
			return;
		}
		if (!conn_establish(c)) {
			count_drop(tcp, TOE_EP_DROP_TCP_NO_MEMORY);
			abort_conn(c, ENOMEM, true);
			deliver(c);
			return;
		}
		stats(tcp)->tcp_passive_opens++;
		c->snd_wnd = s->wnd << c->snd_wscale;
		c->snd_wl1 = s->seq;
		c->snd_wl2 = s->ack;
		c->max_snd_wnd = c->snd_wnd;
		if (c->listener != NULL)
			accept_queue(c->listener, c);
	}
	/* RFC 5961 5.2: SND.UNA - MAX.SND.WND <= SEG.ACK <= SND.NXT. */
	if (seq_gt(s->ack, c->snd_max) ||
	    seq_lt(s->ack, c->snd_una - c->max_snd_wnd)) {
		count_drop(tcp, TOE_EP_DROP_TCP_ACK_INVALID);
		tcp_challenge_ack(c);
		return;
	}
	if (c->state == TOE_TCP_TIME_WAIT) {
		if (s->flags & FIN) {
			tcp_send_ack(c);
			toe_timer_arm(tcp->wheel, &c->rto_t, tcp->now_ms + 2 * TOE_TCP_MSL_MS);
		}
		return;
	}
	if (c->sack_ok && s->n_sack > 0)
		sack_update(c, s);
	if (seq_gt(s->ack, c->snd_una)) {
		ack_advance(c, s);
		if (c->n_sacked > 0)
			sack_update(c, &(struct seg){ .n_sack = 0 });
	} else if (s->ack == c->snd_una && s->len == 0 &&
		   !(s->flags & FIN) && c->snd_una != c->snd_max &&
		   c->snd_wnd != 0 && (s->wnd << c->snd_wscale) == c->snd_wnd) {
		/* RFC 5681 2: a duplicate acknowledgment */
		c->dupacks++;
		if (c->in_recovery && !c->sack_ok)
			c->cc.cwnd += c->mss;
		else if (!c->in_recovery && (c->dupacks == 3 ||
			 (c->sack_ok && tcp_sacked_bytes(c) >= 3u * c->mss)))
			enter_recovery(c);
	}
	/* Window update (3.10.7.4, fifth). */
	if (seq_lt(c->snd_wl1, s->seq) ||
	    (c->snd_wl1 == s->seq && seq_leq(c->snd_wl2, s->ack))) {
		uint32_t old = c->snd_wnd;

		c->snd_wnd = s->wnd << c->snd_wscale;
		c->snd_wl1 = s->seq;
		c->snd_wl2 = s->ack;
		if (c->snd_wnd > c->max_snd_wnd)
			c->max_snd_wnd = c->snd_wnd;
		if (old == 0 && c->snd_wnd > 0) {
			/* out of persist: a probe byte not taken goes again */
			c->backoff = 0;
			c->snd_nxt = c->snd_una;
			toe_timer_cancel(tcp->wheel, &c->rto_t);
		}
	}
	/* Our FIN acknowledged? */
	if (c->fin_sent && c->snd_una == c->snd_max) {
		switch (c->state) {
		case TOE_TCP_FIN_WAIT_1:
			c->state = TOE_TCP_FIN_WAIT_2;
			if (!c->app_owned)
				toe_timer_arm(tcp->wheel, &c->rto_t,
					      tcp->now_ms + TOE_TCP_FIN_WAIT2_MS);
			break;
		case TOE_TCP_CLOSING:
			enter_time_wait(c);
			deliver(c);
			return;
		case TOE_TCP_LAST_ACK:
			conn_closed(c, 0);
			deliver(c);
			return;
		default:
			break;
		}
	}
	/* Seventh: the data. */
	if (s->len > 0 && (c->state == TOE_TCP_ESTABLISHED ||
			   c->state == TOE_TCP_FIN_WAIT_1 ||
			   c->state == TOE_TCP_FIN_WAIT_2)) {
		uint32_t seq = s->seq, len = s->len;
		const uint8_t *d = s->data;
		uint32_t room;

		if (seq_lt(seq, c->rcv_nxt)) {          /* the front seen */
			uint32_t cut = c->rcv_nxt - seq;

			seq += cut;
			d += cut;
			len -= cut;
		}
		room = c->rcvbuf.cap - (seq - c->rd_seq);
		if (seq - c->rd_seq >= c->rcvbuf.cap)
			room = 0;
		if (len > room) {
			count_drop(tcp, TOE_EP_DROP_TCP_OUT_OF_WINDOW);
			len = room;
			s->flags &= (uint8_t)~FIN;      /* its FIN is cut too */
		}
		if (len > 0) {
			bool in_order = seq == c->rcv_nxt;

			stats(tcp)->tcp_bytes_in += len;
			c->bytes_in += len;
			data_in(c, seq, d, len);
			c->unacked_bytes += len;
			if (in_order && c->app_owned)
				notify(c, TOE_SOCK_READABLE);
			/* RFC 1122 4.2.3.2: every second full segment */
			if (c->unacked_bytes >= 2u * c->mss)
				c->ack_now = true;
		}
		if (c->fin_ooo && c->rcv_nxt == c->fin_seq)
			fin_in(c);
	}
	/* Eighth: FIN. */
	if (s->flags & FIN) {
		uint32_t fseq = s->seq + s->len;

		if (fseq == c->rcv_nxt && !c->fin_rcvd)
			fin_in(c);
		else if (seq_gt(fseq, c->rcv_nxt)) {
			c->fin_ooo = true;
			c->fin_seq = fseq;
		}
	}
	if (c->state == TOE_TCP_TIME_WAIT) {
		deliver(c);
		return;
	}
	tcp_output(c);
	if (c->unacked_bytes > 0 && !toe_timer_armed(&c->dack_t))
		toe_timer_arm(tcp->wheel, &c->dack_t, tcp->now_ms + TOE_TCP_DELACK_MS);
	deliver(c);
}

/* The listener whose queue the connection may join hears of it after
 * the segment was processed (its callback may touch the connection). */
static void
conn_input(struct toe_sock *c, struct seg *s)
{
	struct toe_sock *l = c->state == TOE_TCP_SYN_RECEIVED ? c->listener : NULL;

	conn_input_(c, s);
	if (l != NULL && l->events != 0)
		deliver(l);
}

/* RFC 9293 3.10.7.3: SYN-SENT. */
static void
syn_sent_input(struct toe_sock *c, struct seg *s)
{
	struct toe_tcp *tcp = c->tcp;

	if ((s->flags & ACK) && !seq_in(s->ack, c->iss + 1, c->snd_max + 1)) {
		if (!(s->flags & RST))
			send_reset_for(tcp, s);
		count_drop(tcp, TOE_EP_DROP_TCP_ACK_INVALID);
		return;
	}
	if (s->flags & RST) {
		if (s->flags & ACK) {
			conn_closed(c, ECONNREFUSED);
			deliver(c);
		} else {
			count_drop(tcp, TOE_EP_DROP_TCP_RST_CHALLENGED);
		}
		return;
	}
	if (!(s->flags & SYN) || !(s->flags & ACK)) {
		count_drop(tcp, TOE_EP_DROP_TCP_NO_ACK);
		return;
	}
	c->irs = s->seq;
	c->rcv_nxt = s->seq + 1;
	c->rcv_adv = c->rcv_nxt;
	{
		/* our offers stand only where the peer answered them */
		bool ws = c->ws_ok, ts = c->ts_ok, sack = c->sack_ok;
		uint8_t rws = c->rcv_wscale;

		negotiate(c, s);
		c->ws_ok = ws && s->has_ws;
		c->rcv_wscale = c->ws_ok ? rws : 0;
		c->snd_wscale = c->ws_ok ? s->ws : 0;
		c->ts_ok = ts && s->has_ts;
		c->sack_ok = sack && s->sack_ok;
		set_mss(c, c->peer_mss);
	}
	c->snd_una = s->ack;
	toe_timer_cancel(tcp->wheel, &c->rto_t);
	if (!conn_establish(c)) {
		count_drop(tcp, TOE_EP_DROP_TCP_NO_MEMORY);
		abort_conn(c, ENOMEM, true);
		deliver(c);
		return;
	}
	c->snd_wnd = s->wnd;            /* RFC 7323 2.2: a SYN's is unscaled */
	c->max_snd_wnd = c->snd_wnd;
	c->snd_wl1 = s->seq;
	c->snd_wl2 = s->ack;
	stats(tcp)->tcp_active_opens++;
	tcp_send_ack(c);
	notify(c, TOE_SOCK_CONNECTED | TOE_SOCK_WRITABLE);
	tcp_output(c);
	deliver(c);
}

static void
tcp_input(struct toe_tcp *tcp, const uint8_t *ip, const uint8_t *th,
	  uint32_t n, bool csum_ok)
{
	struct seg s = { .ip = ip, .th = th };
	struct toe_sock *c, *l = NULL;
	uint32_t doff;

	if (n < TCP_LEN) {
		count_drop(tcp, TOE_EP_DROP_TCP_BAD);
		return;
	}
	doff = (uint32_t)(th[12] >> 4) * 4;
	if (doff < TCP_LEN || doff > n ||
	    (!csum_ok && fold(sum16(th, n, sum16(ip + 12, 8, PROTO_TCP + n))) != 0xffff)) {
		count_drop(tcp, TOE_EP_DROP_TCP_BAD);
		return;
	}
	s.flags = th[13];
	s.seq = rd32(th + 4);
	s.ack = rd32(th + 8);
	s.wnd = rd16(th + 14);
	s.data = th + doff;
	s.len = n - doff;
	if (!parse_options(&s, th + TCP_LEN, doff - TCP_LEN)) {
		count_drop(tcp, TOE_EP_DROP_TCP_BAD);
		return;
	}
	c = conn_find(tcp, ip + 12, rd16(th), ip + 16, rd16(th + 2));
	/* RFC 6191: a new SYN may take over a TIME_WAIT connection when it
	 * is newer (by timestamp, else by sequence number). */
	if (c != NULL && c->state == TOE_TCP_TIME_WAIT && (s.flags & SYN) &&
	    !(s.flags & (ACK | RST)) &&
	    (c->ts_ok && s.has_ts ? seq_gt(s.tsval, c->ts_recent) :
				   seq_gt(s.seq, c->rcv_nxt))) {
		tw_unlink(tcp, c);
		tcp->n_conns++;
		conn_closed(c, 0);
		deliver(c);
		c = NULL;
	}
	if (c != NULL) {
		if (c->state == TOE_TCP_SYN_SENT)
			syn_sent_input(c, &s);
		else
			conn_input(c, &s);
		return;
	}
	for (unsigned int i = 0; i < TOE_TCP_LISTENERS_MAX; i++) {
		struct toe_sock *x = tcp->listeners[i];

		if (x != NULL && x->lport == rd16(th + 2) &&
		    memcmp(x->laddr, ip + 16, 4) == 0)
			l = x;
	}
	if (l == NULL) {
		if (s.flags & RST)
			count_drop(tcp, TOE_EP_DROP_TCP_RST);
		else
			send_reset_for(tcp, &s);
		return;
	}
	/* RFC 9293 3.10.7.2: LISTEN. */
	if (s.flags & RST) {
		count_drop(tcp, TOE_EP_DROP_TCP_RST);
		return;
	}
	if (s.flags & ACK) {
		listen_ack(tcp, l, &s);
		deliver(l);
		return;
	}
	if (!(s.flags & SYN)) {
		count_drop(tcp, TOE_EP_DROP_TCP_NO_ACK);
		return;
	}
	listen_syn(tcp, l, &s);
}

void
toe_tcp_input(struct toe_tcp *tcp, const uint8_t *ip, uint32_t ihl,
	      const uint8_t *th, uint32_t n, bool csum_ok, uint64_t now_ms)
{
	(void)ihl;
	tcp->now_ms = now_ms;
	tcp->seg_dropped = false;
	tcp_input(tcp, ip, th, n, csum_ok);
	if (!tcp->seg_dropped)
		stats(tcp)->tcp_segs_in++;
}

/* ------------------------------------------------------------------ */
/* Socket API                                                          */

struct toe_sock *
toe_listen(struct toe_ep *ep, const uint8_t addr[4], uint16_t port,
	   unsigned int backlog, const struct toe_sock_opts *opts,
	   toe_sock_cb *cb, void *arg)
{
	struct toe_tcp *tcp = &ep->tcp;
	struct toe_sock *l;
	int free_slot = -1;

	for (int i = 0; i < TOE_TCP_LISTENERS_MAX; i++) {
		struct toe_sock *x = tcp->listeners[i];

		if (x == NULL) {
			if (free_slot < 0)
				free_slot = i;
		} else if (x->lport == port && memcmp(x->laddr, addr, 4) == 0) {
			errno = EADDRINUSE;
			return NULL;
		}
	}
	if (free_slot < 0 || (l = sock_new(tcp)) == NULL) {
		errno = ENOMEM;
		return NULL;
	}
	l->state = TOE_TCP_LISTEN;
	memcpy(l->laddr, addr, 4);
	l->lport = port;
	l->backlog = backlog ? backlog : 16;
	if (opts != NULL)
		l->opts = *opts;
	l->cb = cb;
	l->arg = arg;
	l->app_owned = true;
	tcp->listeners[free_slot] = l;
	return l;
}

struct toe_sock *
toe_accept(struct toe_sock *l)
{
	struct toe_sock *c = l->q_head;

	if (l->state != TOE_TCP_LISTEN || c == NULL)
		return NULL;
	l->q_head = c->qnext;
	if (l->q_head == NULL)
		l->q_tail = NULL;
	l->n_pending--;
	c->qnext = NULL;
	c->accepted = true;
	c->listener = NULL;
	c->app_owned = true;
	return c;
}

struct toe_sock *
toe_connect(struct toe_ep *ep, const uint8_t src[4], const uint8_t dst[4],
	    uint16_t port, const struct toe_sock_opts *opts, toe_sock_cb *cb,
	    void *arg)
{
	struct toe_tcp *tcp = &ep->tcp;
	struct toe_sock *c;
	uint16_t lport = 0;

	if (tcp->n_conns >= TOE_TCP_CONNS_MAX || (c = sock_new(tcp)) == NULL) {
		errno = ENOMEM;
		return NULL;
	}
	conn_setup(c, opts != NULL ? opts : &(struct toe_sock_opts){ 0 });
	memcpy(c->laddr, src, 4);
	memcpy(c->raddr, dst, 4);
	c->rport = port;
	/* An ephemeral port (RFC 6056 algorithm 1: a keyed hash, then
	 * the next free one). */
	for (uint32_t i = 0; i < 28232; i++) {
		lport = (uint16_t)(32768 + (keyed_hash(tcp, dst, port, src, 0,
						      (uint32_t)tcp->now_ms, 2) + i) % 28232);
		if (conn_find(tcp, dst, port, src, lport) == NULL)
			break;
	}
	c->lport = lport;
	c->state = TOE_TCP_SYN_SENT;
	c->ws_ok = c->ts_ok = c->sack_ok = true;
	c->rcv_wscale = choose_wscale(c->opts.rcvbuf);
	c->ts_offset = (uint32_t)keyed_hash(tcp, c->raddr, c->rport, c->laddr,
					    c->lport, 1, 0);
	c->iss = isn(tcp, c);
	c->snd_una = c->iss;
	c->snd_nxt = c->snd_max = c->iss + 1;
	c->cb = cb;
	c->arg = arg;
	c->app_owned = true;
	c->accepted = true;
	tcp->n_conns++;
	hash_add(tcp, c);
	tcp_send_segment(c, c->iss, SYN, 0, 0);
	tcp_rto_arm(c);
	return c;
}

void
toe_sock_set_cb(struct toe_sock *s, toe_sock_cb *cb, void *arg)
{
	s->cb = cb;
	s->arg = arg;
}

static bool
can_send(const struct toe_sock *c)
{
	return (c->state == TOE_TCP_ESTABLISHED ||
		c->state == TOE_TCP_CLOSE_WAIT) && !c->fin_queued;
}

long
toe_send(struct toe_sock *c, const void *buf, size_t len)
{
	uint32_t room;

	if (c->state == TOE_TCP_SYN_SENT || c->state == TOE_TCP_SYN_RECEIVED)
		return -ENOTCONN;
	if (!can_send(c))
		return -EPIPE;
	room = c->sndbuf.cap - c->sndbuf.len;
	if (len > room)
		len = room;
	if (len == 0)
		return 0;
	ring_write(&c->sndbuf, c->sndbuf.len, buf, (uint32_t)len);
	c->sndbuf.len += (uint32_t)len;
	stats(c->tcp)->tcp_bytes_out += len;
	tcp_output(c);
	return (long)len;
}

size_t
toe_send_room(const struct toe_sock *c)
{
	return can_send(c) ? c->sndbuf.cap - c->sndbuf.len : 0;
}

size_t
toe_send_queued(const struct toe_sock *c)
{
	return c->sndbuf.len;
}

size_t
toe_recv_ready(const struct toe_sock *c)
{
	return c->rcvbuf.buf != NULL ? c->rcvbuf.len : 0;
}

/* After the application took bytes: a window update when the window
 * grew by enough (RFC 9293 3.8.6.2.2, receiver SWS avoidance). */
static void
window_update(struct toe_sock *c)
{
	uint32_t wnd = tcp_rcv_window(c), adv = c->rcv_adv - c->rcv_nxt;
	uint32_t step = c->rcvbuf.cap / 2 < c->mss ? c->rcvbuf.cap / 2 : c->mss;

	if (seq_gt(c->rcv_adv, c->rcv_nxt) && wnd > adv && wnd - adv >= step &&
	    (c->state == TOE_TCP_ESTABLISHED || c->state == TOE_TCP_FIN_WAIT_1 ||
	     c->state == TOE_TCP_FIN_WAIT_2))
		tcp_send_ack(c);
	else if (!seq_gt(c->rcv_adv, c->rcv_nxt) && wnd >= step &&
		 c->state == TOE_TCP_ESTABLISHED)
		tcp_send_ack(c);
}

static long
recv_common(struct toe_sock *c, void *buf, size_t len)
{
	uint32_t n;

	if (c->rcvbuf.buf == NULL || c->rcvbuf.len == 0) {
		if (c->err != 0)
			return -c->err;
		if (c->fin_rcvd || c->state == TOE_TCP_CLOSED ||
		    c->state == TOE_TCP_TIME_WAIT)
			return 0;
		return -EAGAIN;
	}
	n = len < c->rcvbuf.len ? (uint32_t)len : c->rcvbuf.len;
	if (buf != NULL)
		ring_read(&c->rcvbuf, 0, buf, n);
	ring_drop(&c->rcvbuf, n);
	c->rd_seq += n;
	window_update(c);
	return n;
}

long
toe_recv(struct toe_sock *c, void *buf, size_t len)
{
	return recv_common(c, buf, len);
}

long
toe_recv_discard(struct toe_sock *c, size_t len)
{
	return recv_common(c, NULL, len);
}

int
toe_shutdown(struct toe_sock *c)
{
	if (c->state != TOE_TCP_ESTABLISHED && c->state != TOE_TCP_CLOSE_WAIT)
		return -ENOTCONN;
	c->fin_queued = true;
	tcp_output(c);
	return 0;
}

void
toe_close(struct toe_sock *c)
{
	struct toe_tcp *tcp = c->tcp;

	c->cb = NULL;
	c->events = 0;
	if (c->state == TOE_TCP_LISTEN) {
		for (int i = 0; i < TOE_TCP_LISTENERS_MAX; i++)
			if (tcp->listeners[i] == c)
				tcp->listeners[i] = NULL;
		/* connections not yet accepted (queued, or half-open) are
		 * reset: none may point at the listener after this */
		for (unsigned int h = 0; h < TOE_TCP_HASH; h++) {
			struct toe_sock *q = tcp->hash[h], *next;

			for (; q != NULL; q = next) {
				next = q->hnext;
				if (q->listener != c || q->accepted)
					continue;
				q->listener = NULL;
				q->accepted = true;
				abort_conn(q, ECONNRESET, true);
				conn_free(q);
			}
		}
		free(c);
		return;
	}
	c->app_owned = false;
	switch (c->state) {
	case TOE_TCP_CLOSED:
		if (!c->in_hash)
			conn_free(c);
		return;
	case TOE_TCP_SYN_SENT:
		conn_closed(c, 0);
		conn_free(c);
		return;
	case TOE_TCP_TIME_WAIT:
		return;         /* it ends by itself */
	default:
		break;
	}
	/* RFC 2525 2.17: data left unread is a reset. */
	if (c->rcvbuf.len > 0) {
		abort_conn(c, ECONNABORTED, true);
		conn_free(c);
		return;
	}
	if (!c->fin_queued) {
		c->fin_queued = true;
		tcp_output(c);
	}
	if (c->state == TOE_TCP_FIN_WAIT_2)
		toe_timer_arm(tcp->wheel, &c->rto_t, tcp->now_ms + TOE_TCP_FIN_WAIT2_MS);
}

void
toe_abort(struct toe_sock *c)
{
	if (c->state == TOE_TCP_LISTEN) {
		toe_close(c);
		return;
	}
	c->cb = NULL;
	c->app_owned = false;
	if (c->state != TOE_TCP_CLOSED)
		abort_conn(c, ECONNABORTED, true);
	if (c->state == TOE_TCP_CLOSED)
		conn_free(c);
}

int
toe_sock_error(const struct toe_sock *c)
{
	return c->err;
}

void
toe_sock_peer(const struct toe_sock *c, uint8_t addr[4], uint16_t *port)
{
	memcpy(addr, c->raddr, 4);
	*port = c->rport;
}

struct toe_ep *
toe_sock_ep(const struct toe_sock *c)
{
	return c->tcp->ep;
}

/* ------------------------------------------------------------------ */

void
toe_tcp_init(struct toe_tcp *tcp, struct toe_ep *ep, struct toe_wheel *wheel,
	     const uint8_t key[16])
{
	memset(tcp, 0, sizeof(*tcp));
	tcp->ep = ep;
	tcp->wheel = wheel;
	memcpy(tcp->key, key, sizeof(tcp->key));
}

void
toe_tcp_fini(struct toe_tcp *tcp)
{
	for (unsigned int h = 0; h < TOE_TCP_HASH; h++)
		while (tcp->hash[h] != NULL) {
			struct toe_sock *c = tcp->hash[h];

			c->listener = NULL;
			conn_free(c);
		}
	for (int i = 0; i < TOE_TCP_LISTENERS_MAX; i++)
		if (tcp->listeners[i] != NULL) {
			free(tcp->listeners[i]);
			tcp->listeners[i] = NULL;
		}
}

void
toe_tcp_snapshot(struct toe_tcp *tcp)
{
	uint32_t n = 0, total = 0;

	__atomic_store_n(&tcp->info_seq, tcp->info_seq + 1, __ATOMIC_RELAXED);
	__atomic_thread_fence(__ATOMIC_RELEASE);
	for (unsigned int h = 0; h < TOE_TCP_HASH; h++)
		for (struct toe_sock *c = tcp->hash[h]; c != NULL; c = c->hnext) {
			struct toe_tcp_conn_info *i = &tcp->info[n];

			total++;
			if (n == TOE_TCP_CONN_INFO_MAX)
				continue;
			i->state = c->state;
			memcpy(i->laddr, c->laddr, 4);
			memcpy(i->raddr, c->raddr, 4);
			i->lport = c->lport;
			i->rport = c->rport;
			i->cwnd = c->cc.cwnd;
			i->ssthresh = c->cc.ssthresh;
			i->mss = c->mss;
			i->srtt_us = c->srtt_us;
			i->rto_ms = c->rto_ms;
			i->snd_wnd = c->snd_wnd;
			i->snd_queued = c->sndbuf.len;
			i->rcv_queued = c->rcvbuf.len;
			i->bytes_in = c->bytes_in;
			i->bytes_out = c->bytes_out;
			i->retransmits = c->retransmits;
			n++;
		}
	tcp->n_info = n;
	tcp->n_info_total = total;
	__atomic_store_n(&tcp->info_seq, tcp->info_seq + 1, __ATOMIC_RELEASE);
}

unsigned int
toe_tcp_info_read(const struct toe_tcp *tcp, struct toe_tcp_conn_info *out,
		  uint32_t *total)
{
	uint32_t s0, s1, n;

	do {
		s0 = __atomic_load_n(&tcp->info_seq, __ATOMIC_ACQUIRE);
		n = tcp->n_info;
		if (n > TOE_TCP_CONN_INFO_MAX)
			n = TOE_TCP_CONN_INFO_MAX;
		memcpy(out, (const void *)tcp->info, n * sizeof(*out));
		*total = tcp->n_info_total;
		__atomic_thread_fence(__ATOMIC_ACQUIRE);
		s1 = __atomic_load_n(&tcp->info_seq, __ATOMIC_RELAXED);
	} while ((s0 & 1) || s0 != s1);
	return n;
}
