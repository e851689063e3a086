/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * What toe_tcp.c (connections, input, timers, sockets) and toe_tcp_out.c
 * (segments out, the SACK scoreboard) share.  Not for other modules.
 */
#ifndef VTOE_TOE_TCP_PRIV_H
#define VTOE_TOE_TCP_PRIV_H

#include <stdint.h>

#include "toe_ep.h"
#include "toe_sock.h"
#include "toe_tcp.h"

#define ETH_LEN 14
#define IP4_LEN 20
#define TCP_LEN 20
#define TCP_OPT_MAX 40
#define HDR_MAX (ETH_LEN + IP4_LEN + TCP_LEN + TCP_OPT_MAX)
#define PROTO_TCP 6

#define FIN 0x01
#define SYN 0x02
#define RST 0x04
#define PSH 0x08
#define ACK 0x10

#define OPT_EOL 0
#define OPT_NOP 1
#define OPT_MSS 2
#define OPT_WS 3
#define OPT_SACK_OK 4
#define OPT_SACK 5
#define OPT_TS 8

static inline struct toe_ep_stats *
stats(struct toe_tcp *tcp)
{
	return &tcp->ep->stats;
}

/* The receive window to advertise, in bytes (unscaled). */
uint32_t tcp_rcv_window(const struct toe_sock *c);
/* One segment: seq, flags, len bytes of the send buffer from offset off
 * (more than the MSS: a super-frame), options as the state wants them. */
void tcp_send_segment(struct toe_sock *c, uint32_t seq, uint8_t flags,
		      uint32_t off, uint32_t len);
void tcp_send_ack(struct toe_sock *c);
/* RFC 5961 7: a challenge ACK, at most TOE_TCP_CHALLENGE_PER_S a second. */
void tcp_challenge_ack(struct toe_sock *c);
/* The retransmission timer at rto_ms, backed off, capped. */
void tcp_rto_arm(struct toe_sock *c);
/* Bytes the peer has SACKed above snd_una. */
uint32_t tcp_sacked_bytes(const struct toe_sock *c);
/* Holes first in SACK recovery (RFC 6675), then new data, then a FIN;
 * an ACK if one is owed and nothing carried it. */
void tcp_output(struct toe_sock *c);

#endif /* VTOE_TOE_TCP_PRIV_H */
