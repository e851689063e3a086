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
 * Output, one line per fact, for the integration scripts to parse:
 *   sent LEN COUNT      frames port 0 transmitted for one --send
 *   rx PORT COUNT       frames received on PORT during the run
 * Exit 0 when every requested frame was sent, 1 otherwise.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <rte_cycles.h>
#include <rte_eal.h>
#include <rte_ethdev.h>
#include <rte_ether.h>
#include <rte_mbuf.h>

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
	unsigned int wait_ms;
	unsigned int link_timeout_s;
};

static void
inject_usage(const char *prog)
{
	fprintf(stderr,
		"usage: %s [EAL args] -- [--send LEN:COUNT]... [--dst MAC] [--wait MS]\n"
		"          [--link-timeout S]\n"
		"  --send LEN:COUNT  send COUNT frames of LEN bytes (1..%d) from port 0\n"
		"  --dst MAC         destination MAC (default ff:ff:ff:ff:ff:ff)\n"
		"  --wait MS         keep counting received frames for MS after sending\n"
		"  --link-timeout S  wait at most S seconds for every link (default 10)\n",
		prog, INJECT_LEN_MAX);
}

static int
inject_parse(int argc, char **argv, struct inject_opts *o)
{
	static const struct option longopts[] = {
		{ "send", required_argument, NULL, 's' },
		{ "dst", required_argument, NULL, 'd' },
		{ "wait", required_argument, NULL, 'w' },
		{ "link-timeout", required_argument, NULL, 'l' },
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
		case 'l':
			o->link_timeout_s = (unsigned int)strtoul(optarg, NULL, 10);
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

static int
inject_links_wait(unsigned int timeout_s)
{
	uint64_t deadline = rte_get_timer_cycles() + timeout_s * rte_get_timer_hz();
	struct rte_eth_link link;
	uint16_t port;
	int all_up;

	do {
		all_up = 1;
		RTE_ETH_FOREACH_DEV(port) {
			if (rte_eth_link_get_nowait(port, &link) != 0 ||
			    link.link_status != RTE_ETH_LINK_UP)
				all_up = 0;
		}
		if (all_up)
			return 0;
		rte_delay_ms(10);
	} while (rte_get_timer_cycles() < deadline);
	return -ETIMEDOUT;
}

/* Count (and free) whatever arrived on every port. */
static void
inject_rx_poll(uint64_t *rx_counts)
{
	struct rte_mbuf *pkts[INJECT_BURST];
	uint16_t port, n;

	RTE_ETH_FOREACH_DEV(port) {
		n = rte_eth_rx_burst(port, 0, pkts, INJECT_BURST);
		rx_counts[port] += n;
		rte_pktmbuf_free_bulk(pkts, n);
	}
}

/*
 * One frame of len bytes: as much of an Ethernet header as fits (dst, src,
 * type), then a counting pattern.  A runt is simply a prefix of that.
 */
static struct rte_mbuf *
inject_frame(struct rte_mempool *pool, const struct rte_ether_addr *dst,
	     const struct rte_ether_addr *src, unsigned int len)
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
		full[i] = (uint8_t)i;

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
	    const struct inject_send *s, uint64_t *rx_counts)
{
	struct rte_ether_addr src;
	struct rte_mbuf *pkts[INJECT_BURST];
	uint64_t stall_limit = 2 * rte_get_timer_hz();
	uint64_t last_progress = rte_get_timer_cycles();
	unsigned int sent = 0, n, i;
	uint16_t done;

	rte_eth_macaddr_get(0, &src);
	while (sent < s->count) {
		n = RTE_MIN(s->count - sent, (unsigned int)INJECT_BURST);
		for (i = 0; i < n; i++) {
			pkts[i] = inject_frame(pool, &o->dst, &src, s->len);
			if (pkts[i] == NULL)
				break;
		}
		done = rte_eth_tx_burst(0, 0, pkts, (uint16_t)i);
		rte_pktmbuf_free_bulk(&pkts[done], i - done);
		sent += done;
		if (done > 0)
			last_progress = rte_get_timer_cycles();
		else if (rte_get_timer_cycles() - last_progress > stall_limit)
			break;
		inject_rx_poll(rx_counts);
	}
	return sent;
}

int
main(int argc, char **argv)
{
	uint64_t rx_counts[RTE_MAX_ETHPORTS] = { 0 };
	struct inject_opts opts;
	struct rte_mempool *pool;
	unsigned int i, sent;
	uint64_t end;
	uint16_t port;
	int ret, rc = 0;

	ret = rte_eal_init(argc, argv);
	if (ret < 0) {
		fprintf(stderr, "vtoe-inject: EAL init failed\n");
		return 2;
	}
	argc -= ret;
	argv += ret;
	memset(&opts, 0, sizeof(opts));
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
	if (inject_links_wait(opts.link_timeout_s) != 0) {
		fprintf(stderr, "vtoe-inject: links not up after %u s\n", opts.link_timeout_s);
		rc = 1;
		goto err_ports;
	}

	for (i = 0; i < opts.n_sends; i++) {
		sent = inject_send(pool, &opts, &opts.sends[i], rx_counts);
		printf("sent %u %u\n", opts.sends[i].len, sent);
		if (sent != opts.sends[i].count)
			rc = 1;
	}
	end = rte_get_timer_cycles() + (uint64_t)opts.wait_ms * rte_get_timer_hz() / 1000;
	while (rte_get_timer_cycles() < end) {
		inject_rx_poll(rx_counts);
		rte_delay_us(100);
	}
	RTE_ETH_FOREACH_DEV(port)
		printf("rx %u %" PRIu64 "\n", port, rx_counts[port]);
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
