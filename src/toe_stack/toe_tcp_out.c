/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The sending side of the TOE's TCP: segments built with their options
 * (RFC 7323 timestamps and window scale, RFC 2018 SACK blocks), the SACK
 * scoreboard and RFC 6675's pipe and next hole, and output(), which sends
 * what the windows allow.
 */
#include "toe_tcp_priv.h"

#include <string.h>

#include "toe_bytes.h"

/* The (at most two) pieces of len bytes at offset off. */
static void
out_ring_pieces(const struct toe_ring *r, uint32_t off, uint32_t len,
		struct toe_emit *e)
{
	uint32_t at = (r->head + off) % r->cap, first = r->cap - at;

	if (first > len)
		first = len;
	e->pay[0] = r->buf + at;
	e->pay_len[0] = first;
	e->pay[1] = r->buf;
	e->pay_len[1] = len - first;
}

uint32_t
tcp_rcv_window(const struct toe_sock *c)
{
	uint32_t used;

	if (c->rcvbuf.buf == NULL)
		return c->rcvbuf.cap ? c->rcvbuf.cap : TOE_TCP_BUF_DEFAULT;
	used = c->rcv_nxt - c->rd_seq;
	return used >= c->rcvbuf.cap ? 0 : c->rcvbuf.cap - used;
}

/* SACK blocks the next segment carries, in option bytes: its data is
 * that much shorter. */
static uint32_t
sack_opt_len(const struct toe_sock *c)
{
	uint32_t k;

	if (!c->sack_ok || c->n_ooo == 0)
		return 0;
	k = c->n_ooo < (c->ts_ok ? 3u : 4u) ? c->n_ooo : (c->ts_ok ? 3u : 4u);
	return 4 + 8 * k;
}
/* RFC 7323 3: TSval (our clock, offset per connection), TSecr; after
 * two NOPs when pad (the option then ends on a 4-byte boundary). */
static uint32_t
put_ts(const struct toe_sock *c, uint8_t *o, uint32_t n, bool pad)
{
	if (pad) {
		o[n++] = OPT_NOP;
		o[n++] = OPT_NOP;
	}
	o[n++] = OPT_TS;
	o[n++] = 10;
	wr32(o + n, (uint32_t)c->tcp->now_ms + c->ts_offset);
	wr32(o + n + 4, c->ts_recent);
	return n + 8;
}

/* Options of a segment; returns their length (a multiple of 4). */
static uint32_t
put_options(struct toe_sock *c, uint8_t *o, uint8_t flags)
{
	uint32_t n = 0;

	if (flags & SYN) {
		o[n++] = OPT_MSS;
		o[n++] = 4;
		wr16(o + n, TOE_TCP_MSS);
		n += 2;
		if (c->sack_ok && c->ts_ok) {
			o[n++] = OPT_SACK_OK;
			o[n++] = 2;
		} else if (c->sack_ok) {
			o[n++] = OPT_NOP;
			o[n++] = OPT_NOP;
			o[n++] = OPT_SACK_OK;
			o[n++] = 2;
		}
		if (c->ts_ok)
			n = put_ts(c, o, n, !c->sack_ok);
		if (c->ws_ok) {
			o[n++] = OPT_NOP;
			o[n++] = OPT_WS;
			o[n++] = 3;
			o[n++] = c->rcv_wscale;
		}
		return n;
	}
	if (c->ts_ok)
		n = put_ts(c, o, n, true);
	/* RFC 2018 4: the block of the latest segment first. */
	if (c->sack_ok && c->n_ooo > 0 && !(flags & RST)) {
		unsigned int max = c->ts_ok ? 3 : 4, k = 0;
		uint32_t at;

		o[n++] = OPT_NOP;
		o[n++] = OPT_NOP;
		o[n++] = OPT_SACK;
		at = n++;
		for (unsigned int i = 0; i < c->n_ooo && k < max; i++, k++) {
			unsigned int j = (c->last_ooo + i) % c->n_ooo;

			wr32(o + n, c->ooo[j].start);
			wr32(o + n + 4, c->ooo[j].end);
			n += 8;
		}
		o[at] = (uint8_t)(2 + 8 * k);
	}
	return n;
}

/*
 * Send one segment: seq, flags, len bytes of the send buffer from offset
 * off (len may exceed the MSS: a super-frame).
 */
void
tcp_send_segment(struct toe_sock *c, uint32_t seq, uint8_t flags, uint32_t off,
		 uint32_t len)
{
	struct toe_tcp *tcp = c->tcp;
	const struct toe_ep_conf *conf = tcp->ep->conf;
	uint8_t h[HDR_MAX], *ip = h + ETH_LEN, *th = ip + IP4_LEN;
	struct toe_emit e = { 0 };
	uint32_t optlen, thl, wnd, sum;

	memcpy(h, conf->mac, 6);
	memcpy(h + 6, toe_ep_vmac, 6);
	wr16(h + 12, 0x0800);
	memset(th, 0, TCP_LEN);
	optlen = put_options(c, th + TCP_LEN, flags);
	thl = TCP_LEN + optlen;
	wr16(th, c->lport);
	wr16(th + 2, c->rport);
	wr32(th + 4, seq);
	if (flags & ACK)
		wr32(th + 8, c->rcv_nxt);
	th[12] = (uint8_t)(thl / 4 << 4);
	th[13] = flags;
	wnd = tcp_rcv_window(c);
	/* RFC 9293 3.8.6.2.2: the right edge never moves left. */
	if (c->state != TOE_TCP_SYN_SENT && c->state != TOE_TCP_LISTEN &&
	    seq_lt(c->rcv_nxt + wnd, c->rcv_adv))
		wnd = c->rcv_adv - c->rcv_nxt;
	if (flags & SYN) {
		wr16(th + 14, (uint16_t)(wnd > 65535 ? 65535 : wnd));
	} else {
		uint32_t w = wnd >> c->rcv_wscale;

		wr16(th + 14, (uint16_t)(w > 65535 ? 65535 : w));
		wnd = (uint32_t)rd16(th + 14) << c->rcv_wscale;
	}
	if (flags & ACK) {
		if (seq_gt(c->rcv_nxt + wnd, c->rcv_adv))
			c->rcv_adv = c->rcv_nxt + wnd;
		c->last_ack_sent = c->rcv_nxt;
		c->unacked_bytes = 0;
		c->ack_now = false;
		toe_timer_cancel(tcp->wheel, &c->dack_t);
	}
	memset(ip, 0, IP4_LEN);
	ip[0] = 0x45;
	wr16(ip + 2, (uint16_t)(IP4_LEN + thl + len));   /* len <= TOE_TCP_SUPER_MAX */
	wr16(ip + 4, c->ip_id++);
	wr16(ip + 6, 0x4000);
	ip[8] = 64;
	ip[9] = PROTO_TCP;
	memcpy(ip + 12, c->laddr, 4);
	memcpy(ip + 16, c->raddr, 4);
	wr16(ip + 10, (uint16_t)~fold(sum16(ip, IP4_LEN, 0)));
	e.hdr = h;
	e.hdr_len = ETH_LEN + IP4_LEN + thl;
	e.l2_len = ETH_LEN;
	e.l3_len = IP4_LEN;
	e.l4_len = (uint8_t)thl;
	if (len > 0)
		out_ring_pieces(&c->sndbuf, off, len, &e);
	if (len > c->mss - sack_opt_len(c))
		e.mss = (uint16_t)(c->mss - sack_opt_len(c));
	/* The pseudo header counts the TCP length (a super-frame's, which
	 * layer 1 re-counts per segment). */
	sum = sum16(ip + 12, 8, PROTO_TCP + thl + len);
	if (tcp->csum_partial || e.mss) {
		wr16(th + 16, fold(sum));
		e.l4_partial = true;
	} else {
		sum = sum16(th, thl, sum);
		sum = sum16(e.pay[0], e.pay_len[0], sum);
		/* the second piece starts on an even offset when the first
		 * is even; an odd first piece shifts it */
		if (e.pay_len[1] > 0) {
			if (e.pay_len[0] & 1) {
				uint32_t s2 = sum16(e.pay[1], e.pay_len[1], 0);

				s2 = fold(s2);
				sum += (uint32_t)((s2 << 8 | s2 >> 8) & 0xffff);
			} else {
				sum = sum16(e.pay[1], e.pay_len[1], sum);
			}
		}
		wr16(th + 16, (uint16_t)~fold(sum));
	}
	stats(tcp)->tcp_segs_out++;
	c->bytes_out += len;
	tcp->ep->emit(tcp->ep->emit_arg, &e);
}

void
tcp_send_ack(struct toe_sock *c)
{
	tcp_send_segment(c, c->snd_nxt, ACK, 0, 0);
}

/* RFC 5961 7: challenge ACKs, at most TOE_TCP_CHALLENGE_PER_S a second. */
void
tcp_challenge_ack(struct toe_sock *c)
{
	struct toe_tcp *tcp = c->tcp;
	uint64_t sec = tcp->now_ms / 1000;

	if (sec != tcp->chal_sec) {
		tcp->chal_sec = sec;
		tcp->chal_count = 0;
	}
	if (tcp->chal_count++ >= TOE_TCP_CHALLENGE_PER_S)
		return;
	stats(tcp)->tcp_challenge_acks++;
	tcp_send_ack(c);
}

void
tcp_rto_arm(struct toe_sock *c)
{
	uint64_t rto = (uint64_t)c->rto_ms << c->backoff;

	if (rto > TOE_TCP_RTO_MAX_MS)
		rto = TOE_TCP_RTO_MAX_MS;
	toe_timer_arm(c->tcp->wheel, &c->rto_t, c->tcp->now_ms + rto);
}

static bool
sacked_at(const struct toe_sock *c, uint32_t seq, uint32_t *end)
{
	for (unsigned int i = 0; i < c->n_sacked; i++)
		if (seq_in(seq, c->sacked[i].start, c->sacked[i].end)) {
			*end = c->sacked[i].end;
			return true;
		}
	return false;
}

uint32_t
tcp_sacked_bytes(const struct toe_sock *c)
{
	uint32_t n = 0;

	for (unsigned int i = 0; i < c->n_sacked; i++)
		n += c->sacked[i].end - c->sacked[i].start;
	return n;
}

/* The highest sequence number SACKed, or snd_una. */
static uint32_t
sack_high(const struct toe_sock *c)
{
	uint32_t h = c->snd_una;

	for (unsigned int i = 0; i < c->n_sacked; i++)
		h = seq_max(h, c->sacked[i].end);
	return h;
}

/*
 * The holes of the scoreboard from high_rxt (or snd_una) up to the
 * highest SACKed byte, in order: fn gets each hole's start and length,
 * and stops the walk by returning false.
 */
static void
holes_walk(const struct toe_sock *c, bool (*fn)(uint32_t, uint32_t, void *),
	   void *arg)
{
	uint32_t s = seq_max(c->high_rxt, c->snd_una), high = sack_high(c), end;

	while (seq_lt(s, high)) {
		if (sacked_at(c, s, &end)) {
			s = end;
			continue;
		}
		end = high;
		for (unsigned int i = 0; i < c->n_sacked; i++)
			if (seq_gt(c->sacked[i].start, s))
				end = seq_min(end, c->sacked[i].start);
		if (!fn(s, end - s, arg))
			return;
		s = end;
	}
}

static bool
hole_first(uint32_t start, uint32_t len, void *arg)
{
	uint32_t *h = arg;

	h[0] = start;
	h[1] = len;
	return false;
}

static bool
hole_sum(uint32_t start, uint32_t len, void *arg)
{
	(void)start;
	*(uint32_t *)arg += len;
	return true;
}

/* RFC 6675 NextSeg (simplified): the first hole not sent again; *len of
 * it up to one segment.  False: no hole. */
static bool
next_hole(const struct toe_sock *c, uint32_t *seq, uint32_t *len)
{
	uint32_t h[2] = { 0, 0 }, smss = c->mss - sack_opt_len(c);

	holes_walk(c, hole_first, h);
	if (h[1] == 0)
		return false;
	*seq = h[0];
	*len = h[1] > smss ? smss : h[1];
	return true;
}

/* RFC 6675 pipe: bytes in flight, SACKed ones and holes not yet sent
 * again (taken as lost) left out. */
static uint32_t
pipe_bytes(const struct toe_sock *c)
{
	uint32_t flight = c->snd_max - c->snd_una - tcp_sacked_bytes(c), lost = 0;

	holes_walk(c, hole_sum, &lost);
	return flight > lost ? flight - lost : 0;
}

/*
 * Send what the windows allow: holes first in SACK recovery, then new
 * data, then a FIN; an ACK if one is owed and nothing carried it.
 */
void
tcp_output(struct toe_sock *c)
{
	struct toe_tcp *tcp = c->tcp;
	bool sent = false;

	if (c->state == TOE_TCP_CLOSED || c->state == TOE_TCP_LISTEN ||
	    c->state == TOE_TCP_SYN_SENT || c->state == TOE_TCP_SYN_RECEIVED ||
	    c->state == TOE_TCP_TIME_WAIT) {
		if (c->ack_now && c->state == TOE_TCP_TIME_WAIT)
			tcp_send_ack(c);
		return;
	}
	if (c->in_recovery && c->sack_ok) {
		uint32_t seq, len, pipe = pipe_bytes(c);

		while (c->cc.cwnd > pipe && c->cc.cwnd - pipe >= c->mss &&
		       next_hole(c, &seq, &len)) {
			tcp_send_segment(c, seq, ACK, seq - c->snd_una, len);
			c->high_rxt = seq + len;
			c->retransmits++;
			stats(tcp)->tcp_retransmits++;
			pipe += len;
			sent = true;
		}
	}
	for (;;) {
		uint32_t end = c->snd_una + c->sndbuf.len;
		uint32_t win = seq_min(c->cc.cwnd, c->snd_wnd);
		uint32_t flight = c->in_recovery && c->sack_ok ? pipe_bytes(c) :
				  c->snd_nxt - c->snd_una;
		uint32_t avail = end - c->snd_nxt, allowed, len, max;
		uint32_t smss = c->mss - sack_opt_len(c);

		if (seq_geq(c->snd_nxt, end))
			break;
		allowed = win > flight ? win - flight : 0;
		/* An ACK above una moved snd_nxt behind snd_una? never */
		len = avail < allowed ? avail : allowed;
		if (len == 0)
			break;
		/* Send a full segment, or what is left (no Nagle: the
		 * services write whole messages). */
		if (len < smss && len < avail)
			break;
		max = tcp->super ? TOE_TCP_SUPER_MAX / smss * smss : smss;
		if (len > max)
			len = max;
		tcp_send_segment(c, c->snd_nxt, ACK | (len == avail ? PSH : 0),
				 c->snd_nxt - c->snd_una, len);
		if (seq_lt(c->snd_nxt, c->snd_max)) {
			c->retransmits++;
			stats(tcp)->tcp_retransmits++;
		} else if (!c->rtt_timing && !c->ts_ok) {
			c->rtt_timing = true;
			c->rtt_seq = c->snd_nxt;
			c->rtt_start_ms = tcp->now_ms;
		}
		c->snd_nxt += len;
		c->snd_max = seq_max(c->snd_max, c->snd_nxt);
		sent = true;
		if (!toe_timer_armed(&c->rto_t))
			tcp_rto_arm(c);
	}
	/* The FIN when all data went (it takes a sequence number). */
	if (c->fin_queued && !c->fin_sent &&
	    c->snd_nxt == c->snd_una + c->sndbuf.len) {
		tcp_send_segment(c, c->snd_nxt, FIN | ACK, 0, 0);
		c->snd_nxt++;
		c->snd_max = seq_max(c->snd_max, c->snd_nxt);
		c->fin_sent = true;
		sent = true;
		if (c->state == TOE_TCP_ESTABLISHED)
			c->state = TOE_TCP_FIN_WAIT_1;
		else if (c->state == TOE_TCP_CLOSE_WAIT)
			c->state = TOE_TCP_LAST_ACK;
		if (!toe_timer_armed(&c->rto_t))
			tcp_rto_arm(c);
	}
	/* Persist: a zero window with data waiting keeps the timer on. */
	if (!sent && c->snd_wnd == 0 && c->snd_nxt != c->snd_una + c->sndbuf.len &&
	    !toe_timer_armed(&c->rto_t))
		tcp_rto_arm(c);
	if (!sent && c->ack_now)
		tcp_send_ack(c);
}
