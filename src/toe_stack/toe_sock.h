/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * toe_sock: the socket-like API of a TOE endpoint's TCP (toe_tcp.c), for
 * the services that run inside vtoed on the worker that owns the
 * endpoint (the instance metadata service, the iperf3 server).
 *
 * Contract:
 *  - Non-blocking and single-threaded: every call is made on the worker
 *    that owns the endpoint, from a service's start or from a callback.
 *  - Readiness is pushed: a socket's callback gets the events that became
 *    true (TOE_SOCK_*), after the segment or timer that caused them was
 *    processed; calls from inside a callback are allowed (send, recv,
 *    close, accept, even on other sockets).  Level-triggered state is
 *    readable any time through toe_recv_ready / toe_send_room.
 *  - toe_send copies into the connection's send buffer and returns how
 *    much it took; WRITABLE comes when room was freed by an ACK.
 *  - toe_recv copies out of the receive buffer; 0 means the peer sent its
 *    FIN and everything before it was read.
 *  - A socket stays valid until toe_close (or toe_abort) is called on it,
 *    also after ERROR: the application owns the handle, the stack owns
 *    the connection (which may live on after close: FIN_WAIT, TIME_WAIT).
 *  - A listener's callback gets ACCEPT while connections wait in its
 *    queue; toe_accept takes them (NULL when none).  Data (or a FIN)
 *    that came before the accept raised no event on the connection:
 *    read it right after toe_accept.
 */
#ifndef VTOE_TOE_SOCK_H
#define VTOE_TOE_SOCK_H

#include <stddef.h>
#include <stdint.h>

struct toe_ep;
struct toe_sock;

enum toe_sock_event {
	TOE_SOCK_ACCEPT = 1,            /* listener: a connection is queued */
	TOE_SOCK_CONNECTED = 2,         /* toe_connect completed */
	TOE_SOCK_READABLE = 4,          /* data, or the end of the stream */
	TOE_SOCK_WRITABLE = 8,          /* send room was freed */
	TOE_SOCK_ERROR = 16,            /* reset or timed out: toe_sock_error */
};

typedef void toe_sock_cb(struct toe_sock *s, unsigned int events, void *arg);

/* Buffer sizes of the connections a listener accepts (bytes; 0: the
 * default, TOE_TCP_BUF_DEFAULT). */
struct toe_sock_opts {
	uint32_t sndbuf;
	uint32_t rcvbuf;
	/* keepalive: idle ms before the first probe, ms between probes,
	 * probes unanswered before the connection is dropped (0: off) */
	uint32_t ka_idle_ms, ka_intvl_ms, ka_probes;
};

/* Listen on addr:port (IPv4, network order) of the endpoint.  backlog:
 * connections being set up or waiting for accept; beyond it SYNs are
 * answered with SYN cookies.  NULL + errno (EADDRINUSE, ENOMEM). */
struct toe_sock *toe_listen(struct toe_ep *ep, const uint8_t addr[4],
			    uint16_t port, unsigned int backlog,
			    const struct toe_sock_opts *opts,
			    toe_sock_cb *cb, void *arg);
/* A connection from the listener's queue, or NULL. */
struct toe_sock *toe_accept(struct toe_sock *listener);
/* Open a connection from the endpoint's address src to dst:port; the
 * callback gets CONNECTED or ERROR.  NULL + errno. */
struct toe_sock *toe_connect(struct toe_ep *ep, const uint8_t src[4],
			     const uint8_t dst[4], uint16_t port,
			     const struct toe_sock_opts *opts,
			     toe_sock_cb *cb, void *arg);
void toe_sock_set_cb(struct toe_sock *s, toe_sock_cb *cb, void *arg);

/* Bytes taken (>= 0), or -EPIPE (shut down, reset), -ENOTCONN. */
long toe_send(struct toe_sock *s, const void *buf, size_t len);
size_t toe_send_room(const struct toe_sock *s);
/* Bytes not yet acknowledged by the peer (sent or waiting to be). */
size_t toe_send_queued(const struct toe_sock *s);
/* Bytes read (> 0), 0 at the end of the stream, -EAGAIN, or the
 * connection's error (-ECONNRESET, -ETIMEDOUT). */
long toe_recv(struct toe_sock *s, void *buf, size_t len);
/* The same without copying: the bytes are dropped. */
long toe_recv_discard(struct toe_sock *s, size_t len);
size_t toe_recv_ready(const struct toe_sock *s);
/* FIN after what is queued; recv goes on. */
int toe_shutdown(struct toe_sock *s);
/* Let go of the socket: its connection closes gracefully (an RST when
 * received data was left unread, RFC 2525 2.17). */
void toe_close(struct toe_sock *s);
/* Reset the connection and let go of the socket. */
void toe_abort(struct toe_sock *s);
/* 0, or the positive errno the connection ended with. */
int toe_sock_error(const struct toe_sock *s);
/* The peer's address and port (network order address). */
void toe_sock_peer(const struct toe_sock *s, uint8_t addr[4], uint16_t *port);
/* The endpoint the socket belongs to. */
struct toe_ep *toe_sock_ep(const struct toe_sock *s);

#endif /* VTOE_TOE_SOCK_H */
