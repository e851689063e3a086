/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * vtoe-inject: a test "guest" that sends exactly the frames it is told to,
 * including ones no real stack sends (shorter than an Ethernet header),
 * and counts what comes back.  The ports are whatever vdevs the EAL
 * arguments create, normally net_virtio_user on a vtoed vhost-user socket;
 * frames leave from port 0 and are counted on every port.
 *
 *   vtoe-inject [EAL args] -- [--send LEN:COUNT]... [--dst MAC] [--wait MS]
 *
 * Frames of 18 bytes or more carry a sequence number (big endian, after
 * the Ethernet header, counting every frame sent) and then a byte pattern
 * that the receiving side checks.  --alt-dst MAC --alt-every K sends every
 * K-th frame to MAC instead of --dst, so one burst mixes destinations.
 *
 * Output, one line per fact, for the integration scripts to parse:
 *   sent LEN COUNT      frames port 0 transmitted for one --send
 *   rx PORT COUNT       frames received on PORT during the run
 *   order PORT N        frames on PORT whose sequence number was not above
 *                       the one before (reordered or duplicated)
 *   corrupt PORT N      frames on PORT whose pattern did not match
 * --frames FILE sends frames written out byte by byte, after the --send
 * ones: each line of FILE is "PORT COUNT HEX" (COUNT copies of the frame
 * HEX, from port PORT), reported as "frames LINE SENT".
 * --delay MS waits that long after the links are up before sending.
 * --pps N paces the sending to at most N frames a second.  SIGINT or
 * SIGTERM ends the sending (and then the --wait) early: the counts are
 * printed all the same, so a test can run a flow for as long as it needs.
 * Exit 0 when every requested frame was sent, 1 otherwise.
 */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <rte_cycles.h>
#include <rte_eal.h>
#include <rte_ethdev.h>
#include <rte_ether.h>
#include <rte_mbuf.h>

#include "tool_links.h"

#define INJECT_SENDS_MAX 16
#define INJECT_LEN_MAX 1514
#define INJECT_BURST 32
#define INJECT_RING_SIZE 1024
#define INJECT_ETHERTYPE 0x88b5 /* IEEE 802 local experimental */

struct inject_send {
	unsigned int len;
	unsigned int count;
};

struct inject_opts {
	struct inject_send sends[INJECT_SENDS_MAX];
	unsigned int n_sends;
	struct rte_ether_addr dst;
	struct rte_ether_addr alt_dst;
	unsigned int alt_every;         /* 0: never */
	unsigned int wait_ms;
	unsigned int delay_ms;          /* --delay: after the links are up */
	unsigned int link_timeout_s;
	unsigned int pps;               /* 0: as fast as the port takes them */
	const char *frames;             /* --frames FILE, or NULL */
};

static volatile sig_atomic_t inject_stop;
/* --tx-offloads: ask for the checksum and TSO offloads the device offers
 * (what a virtio guest negotiates then shows what the switch offered). */
static bool inject_tx_offloads;

static void
inject_on_signal(int sig)
{
	(void)sig;
	inject_stop = 1;
}

static void
inject_usage(const char *prog)
{
	fprintf(stderr,
		"usage: %s [EAL args] -- [--send LEN:COUNT]... [--dst MAC] [--wait MS]\n"
		"          [--link-timeout S] [--alt-dst MAC --alt-every K]\n"
		"  --send LEN:COUNT  send COUNT frames of LEN bytes (1..%d) from port 0\n"
		"  --dst MAC         destination MAC (default ff:ff:ff:ff:ff:ff)\n"
		"  --wait MS         keep counting received frames for MS after sending\n"
		"  --link-timeout S  wait at most S seconds for every link (default 10)\n"
		"  --alt-dst MAC     with --alt-every K: every K-th frame goes to MAC\n"
		"  --pps N           send at most N frames a second\n"
		"  --frames FILE     then send the frames of FILE (lines: PORT COUNT HEX)\n"
		"  --tx-offloads     ask for the device's checksum and TSO offloads\n",
		prog, INJECT_LEN_MAX);
}

static int
inject_parse(int argc, char **argv, struct inject_opts *o)
{
	static const struct option longopts[] = {
		{ "send", required_argument, NULL, 's' },
		{ "dst", required_argument, NULL, 'd' },
		{ "wait", required_argument, NULL, 'w' },
		{ "delay", required_argument, NULL, 'D' },
		{ "link-timeout", required_argument, NULL, 'l' },
		{ "alt-dst", required_argument, NULL, 'a' },
		{ "alt-every", required_argument, NULL, 'e' },
		{ "pps", required_argument, NULL, 'p' },
		{ "tx-offloads", no_argument, NULL, 'o' },
		{ "frames", required_argument, NULL, 'f' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	int c;

	memset(&o->dst, 0xff, sizeof(o->dst));
	o->link_timeout_s = 10;
	while ((c = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
		switch (c) {
		case 's': {
			struct inject_send *s = &o->sends[o->n_sends];

			if (o->n_sends == INJECT_SENDS_MAX ||
			    sscanf(optarg, "%u:%u", &s->len, &s->count) != 2 ||
			    s->len < 1 || s->len > INJECT_LEN_MAX)
				return -EINVAL;
			o->n_sends++;
			break;
		}
		case 'd':
			if (rte_ether_unformat_addr(optarg, &o->dst) != 0)
				return -EINVAL;
			break;
		case 'w':
			o->wait_ms = (unsigned int)strtoul(optarg, NULL, 10);
			break;
		case 'D':
			o->delay_ms = (unsigned int)strtoul(optarg, NULL, 10);
			break;
		case 'l':
			o->link_timeout_s = (unsigned int)strtoul(optarg, NULL, 10);
			break;
		case 'a':
			if (rte_ether_unformat_addr(optarg, &o->alt_dst) != 0)
				return -EINVAL;
			break;
		case 'e':
			o->alt_every = (unsigned int)strtoul(optarg, NULL, 10);
			break;
		case 'p':
			o->pps = (unsigned int)strtoul(optarg, NULL, 10);
			break;
		case 'o':
			inject_tx_offloads = true;
			break;
		case 'f':
			o->frames = optarg;
			break;
		default:
			return -EINVAL;
		}
	}
	return optind == argc ? 0 : -EINVAL;
}

static int
inject_port_init(uint16_t port, struct rte_mempool *pool)
{
	struct rte_eth_conf conf;
	int ret;

	memset(&conf, 0, sizeof(conf));
	if (inject_tx_offloads) {
		struct rte_eth_dev_info info;

		ret = rte_eth_dev_info_get(port, &info);
		if (ret != 0)
			return ret;
		conf.txmode.offloads = info.tx_offload_capa &
			(RTE_ETH_TX_OFFLOAD_TCP_CKSUM | RTE_ETH_TX_OFFLOAD_UDP_CKSUM |
			 RTE_ETH_TX_OFFLOAD_TCP_TSO);
	}
	ret = rte_eth_dev_configure(port, 1, 1, &conf);
	if (ret == 0)
		ret = rte_eth_rx_queue_setup(port, 0, INJECT_RING_SIZE,
					     rte_eth_dev_socket_id(port), NULL, pool);
	if (ret == 0)
		ret = rte_eth_tx_queue_setup(port, 0, INJECT_RING_SIZE,
					     rte_eth_dev_socket_id(port), NULL);
	if (ret == 0)
		ret = rte_eth_dev_start(port);
	return ret;
}

#define INJECT_SEQ_OFF 14
#define INJECT_SEQ_MIN_LEN (INJECT_SEQ_OFF + 4)

/* What a port received: counts, and the checks of stamped frames. */
struct inject_rx {
	uint64_t count[RTE_MAX_ETHPORTS];
	uint64_t order[RTE_MAX_ETHPORTS];
	uint64_t corrupt[RTE_MAX_ETHPORTS];
	int64_t last_seq[RTE_MAX_ETHPORTS];     /* -1: none yet */
};

static uint8_t
inject_pattern(unsigned int i)
{
	return (uint8_t)(i * 13 + 5);
}

static void
inject_rx_check(struct inject_rx *rx, uint16_t port, const struct rte_mbuf *m)
{
	uint8_t buf[INJECT_LEN_MAX];
	const uint8_t *p;
	uint32_t len = rte_pktmbuf_pkt_len(m), seq;
	const struct rte_ether_hdr *eth;

	if (len < INJECT_SEQ_MIN_LEN || len > INJECT_LEN_MAX)
		return;
	p = rte_pktmbuf_read(m, 0, len, buf);
	eth = (const struct rte_ether_hdr *)p;
	if (eth->ether_type != rte_cpu_to_be_16(INJECT_ETHERTYPE))
		return;
	memcpy(&seq, p + INJECT_SEQ_OFF, sizeof(seq));
	seq = rte_be_to_cpu_32(seq);
	if (rx->last_seq[port] >= (int64_t)seq)
		rx->order[port]++;
	rx->last_seq[port] = seq;
	for (uint32_t i = INJECT_SEQ_MIN_LEN; i < len; i++) {
		if (p[i] != inject_pattern(i)) {
			rx->corrupt[port]++;
			break;
		}
	}
}

/* Count, check and free whatever arrived on every port. */
static void
inject_rx_poll(struct inject_rx *rx)
{
	struct rte_mbuf *pkts[INJECT_BURST];
	uint16_t port, n;

	RTE_ETH_FOREACH_DEV(port) {
		n = rte_eth_rx_burst(port, 0, pkts, INJECT_BURST);
		rx->count[port] += n;
		for (uint16_t i = 0; i < n; i++)
			inject_rx_check(rx, port, pkts[i]);
		rte_pktmbuf_free_bulk(pkts, n);
	}
}

/*
 * One frame of len bytes: as much of an Ethernet header as fits (dst, src,
 * type), then a counting pattern.  A runt is simply a prefix of that.
 */
static struct rte_mbuf *
inject_frame(struct rte_mempool *pool, const struct rte_ether_addr *dst,
	     const struct rte_ether_addr *src, unsigned int len, uint32_t seq)
{
	uint8_t full[INJECT_LEN_MAX];
	struct rte_ether_hdr eth;
	struct rte_mbuf *m;
	char *p;
	unsigned int i;

	eth.dst_addr = *dst;
	eth.src_addr = *src;
	eth.ether_type = rte_cpu_to_be_16(INJECT_ETHERTYPE);
	memcpy(full, &eth, sizeof(eth));
	for (i = sizeof(eth); i < len; i++)
		full[i] = inject_pattern(i);
	if (len >= INJECT_SEQ_MIN_LEN) {
		seq = rte_cpu_to_be_32(seq);
		memcpy(full + INJECT_SEQ_OFF, &seq, sizeof(seq));
	}

	m = rte_pktmbuf_alloc(pool);
	if (m == NULL)
		return NULL;
	p = rte_pktmbuf_append(m, (uint16_t)len);
	if (p == NULL) {
		rte_pktmbuf_free(m);
		return NULL;
	}
	memcpy(p, full, len);
	return m;
}

/* Send count frames from port 0; gives up after 2 s without progress. */
static unsigned int
inject_send(struct rte_mempool *pool, const struct inject_opts *o,
	    const struct inject_send *s, struct inject_rx *rx, uint32_t *seq)
{
	struct rte_ether_addr src;
	struct rte_mbuf *pkts[INJECT_BURST];
	uint64_t stall_limit = 2 * rte_get_timer_hz();
	uint64_t last_progress = rte_get_timer_cycles();
	uint64_t hz = rte_get_timer_hz(), start = rte_get_timer_cycles();
	unsigned int sent = 0, n, i;
	uint16_t done;

	rte_eth_macaddr_get(0, &src);
	while (sent < s->count && !inject_stop) {
		n = RTE_MIN(s->count - sent, (unsigned int)INJECT_BURST);
		if (o->pps > 0) {
			/* What the rate allows by now, at most a burst. */
			uint64_t due = (rte_get_timer_cycles() - start) *
				       o->pps / hz + 1;

			if (due <= sent) {
				inject_rx_poll(rx);
				rte_delay_us(50);
				last_progress = rte_get_timer_cycles();
				continue;
			}
			n = (unsigned int)RTE_MIN((uint64_t)n, due - sent);
		}
		for (i = 0; i < n; i++) {
			uint32_t k = *seq + i;
			bool alt = o->alt_every > 0 &&
				   k % o->alt_every == o->alt_every - 1;

			pkts[i] = inject_frame(pool, alt ? &o->alt_dst : &o->dst,
					       &src, s->len, k);
			if (pkts[i] == NULL)
				break;
		}
		done = rte_eth_tx_burst(0, 0, pkts, (uint16_t)i);
		*seq += done;
		rte_pktmbuf_free_bulk(&pkts[done], i - done);
		sent += done;
		if (done > 0)
			last_progress = rte_get_timer_cycles();
		else if (rte_get_timer_cycles() - last_progress > stall_limit)
			break;
		inject_rx_poll(rx);
	}
	return sent;
}

/* One line of --frames: "PORT COUNT HEX".  Returns frames sent, -1 when
 * the line is not one. */
static int
inject_frames_line(struct rte_mempool *pool, const char *line,
		   struct inject_rx *rx)
{
	uint8_t bytes[INJECT_LEN_MAX];
	unsigned int port, count, len = 0, sent = 0, tries = 0;
	char hex[2 * INJECT_LEN_MAX + 1];

	if (sscanf(line, "%u %u %3028s", &port, &count, hex) != 3 ||
	    !rte_eth_dev_is_valid_port((uint16_t)port))
		return -1;
	for (const char *h = hex; h[0] != '\0' && h[1] != '\0'; h += 2) {
		unsigned int b;

		if (len == INJECT_LEN_MAX || sscanf(h, "%2x", &b) != 1)
			return -1;
		bytes[len++] = (uint8_t)b;
	}
	if (len == 0)
		return -1;
	while (sent < count && tries++ < 20000) {
		struct rte_mbuf *m = rte_pktmbuf_alloc(pool);
		char *p = m != NULL ? rte_pktmbuf_append(m, (uint16_t)len) : NULL;

		if (p == NULL) {
			rte_pktmbuf_free(m);
			return (int)sent;
		}
		memcpy(p, bytes, len);
		if (rte_eth_tx_burst((uint16_t)port, 0, &m, 1) == 1) {
			sent++;
		} else {
			rte_pktmbuf_free(m);
			rte_delay_us(100);
		}
		inject_rx_poll(rx);
	}
	return (int)sent;
}

static int
inject_frames(struct rte_mempool *pool, const char *path, struct inject_rx *rx)
{
	char line[2 * INJECT_LEN_MAX + 64];
	unsigned int n = 0;
	int rc = 0;
	FILE *f = fopen(path, "r");

	if (f == NULL) {
		fprintf(stderr, "vtoe-inject: %s: %s\n", path, strerror(errno));
		return 1;
	}
	while (fgets(line, sizeof(line), f) != NULL) {
		int sent;

		n++;
		if (line[0] == '#' || line[0] == '\n')
			continue;
		sent = inject_frames_line(pool, line, rx);
		printf("frames %u %d\n", n, sent);
		if (sent < 0)
			rc = 1;
	}
	fclose(f);
	return rc;
}

int
main(int argc, char **argv)
{
	static struct inject_rx rx;
	uint32_t seq = 0;
	struct inject_opts opts;
	struct rte_mempool *pool;
	unsigned int i, sent;
	uint64_t end;
	uint16_t port;
	int ret, rc = 0;

	signal(SIGINT, inject_on_signal);
	signal(SIGTERM, inject_on_signal);
	ret = rte_eal_init(argc, argv);
	if (ret < 0) {
		fprintf(stderr, "vtoe-inject: EAL init failed\n");
		return 2;
	}
	argc -= ret;
	argv += ret;
	/* Waits sleep: several generators share a CPU with vtoed's main
	 * thread on a small box. */
	rte_delay_us_callback_register(rte_delay_us_sleep);
	memset(&opts, 0, sizeof(opts));
	for (i = 0; i < RTE_MAX_ETHPORTS; i++)
		rx.last_seq[i] = -1;
	if (inject_parse(argc, argv, &opts) != 0) {
		inject_usage("vtoe-inject");
		rc = 2;
		goto err_eal;
	}
	if (rte_eth_dev_count_avail() == 0) {
		fprintf(stderr, "vtoe-inject: no ports (give --vdev net_virtio_user0,path=...)\n");
		rc = 2;
		goto err_eal;
	}
	pool = rte_pktmbuf_pool_create("inject", 8191, 256, 0,
				       RTE_MBUF_DEFAULT_BUF_SIZE, (int)rte_socket_id());
	if (pool == NULL) {
		fprintf(stderr, "vtoe-inject: mbuf pool: %s\n", rte_strerror(rte_errno));
		rc = 2;
		goto err_eal;
	}
	RTE_ETH_FOREACH_DEV(port) {
		ret = inject_port_init(port, pool);
		if (ret != 0) {
			fprintf(stderr, "vtoe-inject: port %u: %s\n", port, strerror(-ret));
			rc = 2;
			goto err_ports;
		}
	}
	if (tool_links_wait(opts.link_timeout_s) != 0) {
		fprintf(stderr, "vtoe-inject: links not up after %u s\n", opts.link_timeout_s);
		rc = 1;
		goto err_ports;
	}
	/* --delay: the switch sees the links first (a cluster directory
	 * publishes a port once its guest is up), frames counted meanwhile. */
	end = rte_get_timer_cycles() + (uint64_t)opts.delay_ms * rte_get_timer_hz() / 1000;
	while (rte_get_timer_cycles() < end && !inject_stop)
		inject_rx_poll(&rx);

	for (i = 0; i < opts.n_sends; i++) {
		sent = inject_send(pool, &opts, &opts.sends[i], &rx, &seq);
		printf("sent %u %u\n", opts.sends[i].len, sent);
		if (sent != opts.sends[i].count)
			rc = 1;
	}
	if (opts.frames != NULL && inject_frames(pool, opts.frames, &rx) != 0)
		rc = 1;
	end = rte_get_timer_cycles() + (uint64_t)opts.wait_ms * rte_get_timer_hz() / 1000;
	inject_stop = 0;        /* a second signal ends the wait */
	while (rte_get_timer_cycles() < end && !inject_stop) {
		inject_rx_poll(&rx);
		rte_delay_us(100);
	}
	RTE_ETH_FOREACH_DEV(port) {
		printf("rx %u %" PRIu64 "\n", port, rx.count[port]);
		printf("order %u %" PRIu64 "\n", port, rx.order[port]);
		printf("corrupt %u %" PRIu64 "\n", port, rx.corrupt[port]);
	}
	fflush(stdout);

err_ports:
	RTE_ETH_FOREACH_DEV(port) {
		rte_eth_dev_stop(port);
		rte_eth_dev_close(port);
	}
err_eal:
	rte_eal_cleanup();
	return rc;
}
