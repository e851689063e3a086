/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * tso-gen: a TCP TSO super-frame source and sink for measuring what a
 * vhost-user switch spends per byte when it forwards 64 KB frames whole
 * (benchmarks/tso_bench.sh).  It stands in for two guests running at
 * native speed: port 0 sends TCP/IPv4 super-frames with TSO metadata, as a
 * Linux guest with TSO does; port 1 receives them with LRO (GUEST_TSO4 /
 * GUEST_CSUM / MRG_RXBUF negotiated), as a receiving guest does.
 *
 *   tso-gen [EAL args] -- --dst MAC [--size N] [--mss N] [--window N]
 *           [--warmup S] [--duration S] [--link-timeout S]
 *
 * The ports are the vdevs the EAL arguments create, normally
 *   --vdev net_virtio_user0,path=SOCK1,mac=MAC1,queues=1,queue_size=1024,server=1
 *   --vdev net_virtio_user1,path=SOCK2,mac=MAC2,queues=1,queue_size=1024,server=1
 * (port 0 = source, port 1 = sink; server=1: the switch connects as the
 * vhost-user client).  One lcore polls both.
 *
 * Every frame: Ethernet (src = port 0's MAC, dst = --dst) + IPv4 10.88.0.1
 * -> 10.88.0.2 (DF, id +1 per frame) + TCP 40000 -> 5201 (ACK|PSH, 20-byte
 * header, seq + payload per frame) + payload, --size bytes of IP datagram
 * (default 65000) in one mbuf, TSO to --mss (default 1448) requested in
 * the mbuf.  The payload is written once into every mbuf of the pool at
 * start; a send only rewrites the headers that change.
 *
 * Flow control like a TCP window: at most --window frames' worth of payload
 * (default 48 frames, less than the sink's ring holds) is outstanding (sent and not yet received at port 1,
 * counted in payload bytes, so a switch that segments still closes the
 * window).  Frames arrive in order (one flow, one queue), so a hole in the
 * TCP sequence at the sink is a drop: it is counted as lost and leaves the
 * window at once.  If nothing arrives for 1 s with the window full, what is
 * outstanding is written off as lost too and the window reopens.
 *
 * After --warmup seconds (default 2) it measures for --duration seconds
 * (default 8) and prints one "name value" line per fact:
 *   tsc_hz        TSC frequency
 *   window_s      measured window, seconds
 *   rx_frames     frames received at port 1 in the window
 *   rx_bytes      their bytes (pkt_len: L2 frame without FCS)
 *   rx_super      how many of them were longer than 1514 bytes (whole)
 *   rx_avg_len    rx_bytes / rx_frames
 *   tx_frames     super-frames port 0 handed to the PMD in the window
 *   lost          frames lost in the window (holes in the sequence, and
 *                 what a 1 s silence with a full window wrote off)
 *   lost_total    ... over warm-up and window
 *   gbps          rx_bytes * 8 / window / 1e9 (L2 bytes)
 *   fps           rx_frames / window
 *   gen_busy_pct  share of the window's cycles spent in loop iterations that
 *                 sent or received something (~100: the generator may be
 *                 the limit)
 * and "phase window" / "phase done" (flushed) when the window starts and
 * ends, for a script that samples the switch's counters at those moments;
 * after "phase done" the ports stay connected (draining) for 1.5 s before
 * the results are printed.
 * Exit 0 when frames arrived in the window, 1 when none did, 2 on setup
 * errors.  It pins nothing itself (give --lcores).
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <rte_byteorder.h>
#include <rte_cycles.h>
#include <rte_eal.h>
#include <rte_ethdev.h>
#include <rte_ether.h>
#include <rte_ip.h>
#include <rte_mbuf.h>
#include <rte_mempool.h>
#include <rte_tcp.h>

#include "tool_links.h"

#define GEN_BURST 32
#define GEN_RING_SIZE 1024
#define GEN_SRC_PORT 0
#define GEN_DST_PORT 1
#define GEN_HDR_LEN (RTE_ETHER_HDR_LEN + sizeof(struct rte_ipv4_hdr) + \
		     sizeof(struct rte_tcp_hdr))
#define GEN_TX_ROOM 65535       /* mempool data_room_size, headroom included */
/* Receive buffers of a page, as a Linux guest posts its mergeable buffers
 * once big frames arrive: a 64 KB frame takes 16 of them, and the 1024
 * of the ring hold 64 frames, more than the default window. */
#define GEN_RX_ROOM (4096 + RTE_PKTMBUF_HEADROOM)
#define GEN_IP_MAX 65535
#define GEN_SUPER_MIN 1515      /* longer than a 1500-MTU frame: came whole */
#define GEN_LOSS_S 1
#define GEN_LINGER_MS 1500
#define GEN_SETTLE_MS 300       /* after the links are up, before sending */

struct gen_opts {
	struct rte_ether_addr dst;
	bool have_dst;
	bool check;             /* verify every payload byte and GSO metadata */
	bool plain;             /* no offloads: checksums done here, no TSO */
	enum { LIE_NONE, LIE_MSS0, LIE_MSS_BIG, LIE_UDP } lie;
	unsigned int size;      /* IP total length */
	unsigned int mss;
	unsigned int window;    /* frames */
	double warmup_s;
	double duration_s;
	unsigned int link_timeout_s;
};

/* Counters since start; the window is the difference of two snapshots. */
struct gen_counts {
	uint64_t rx_frames;
	uint64_t rx_bytes;
	uint64_t rx_super;
	uint64_t tx_frames;
	uint64_t lost;
	uint64_t busy_cycles;
	uint64_t corrupt;       /* --check: payload bytes not as sent */
	uint32_t last_seq;      /* --check: the sequence seen last */
	uint64_t seq_wraps;     /* ... and how often it wrapped */
	uint64_t meta_bad;      /* --check: a frame longer than one MSS without
				 * LRO / the MSS as its segment size */
};

static void
gen_usage(const char *prog)
{
	fprintf(stderr,
		"usage: %s [EAL args] -- --dst MAC [--size N] [--mss N] [--window N]\n"
		"          [--warmup S] [--duration S] [--link-timeout S] [--check]\n"
		"  --dst MAC         destination MAC of the frames (required)\n"
		"  --size N          IP total length of each super-frame (default 65000, %zu..%d)\n"
		"  --mss N           TSO segment size (default 1448)\n"
		"  --window N        frames outstanding at most (default 48)\n"
		"  --warmup S        seconds before the window (default 2)\n"
		"  --duration S      measurement window, seconds (default 8)\n"
		"  --link-timeout S  wait at most S seconds for both links (default 10)\n"
		"  --check           verify every received payload byte and the GSO\n"
		"                    metadata of whole frames (for tests; costs CPU)\n"
		"  --plain           send frames with no offload metadata and full checksums\n"
		"                    (a guest without CSUM/TSO; give --size 1500 --mss 1460)\n"
		"  --lie KIND        send offload metadata that lies, for tests: mss0 (MSS 0),\n"
		"                    mss-big (MSS above the payload), udp (TSO on a UDP datagram);\n"
		"                    nothing is expected to arrive (exit 0 either way)\n",
		prog, GEN_HDR_LEN - RTE_ETHER_HDR_LEN + 1,
		GEN_TX_ROOM - RTE_PKTMBUF_HEADROOM - RTE_ETHER_HDR_LEN);
}

static int
gen_parse(int argc, char **argv, struct gen_opts *o)
{
	static const struct option longopts[] = {
		{ "dst", required_argument, NULL, 'd' },
		{ "size", required_argument, NULL, 's' },
		{ "mss", required_argument, NULL, 'm' },
		{ "window", required_argument, NULL, 'w' },
		{ "warmup", required_argument, NULL, 'W' },
		{ "duration", required_argument, NULL, 'D' },
		{ "link-timeout", required_argument, NULL, 'l' },
		{ "check", no_argument, NULL, 'c' },
		{ "plain", no_argument, NULL, 'p' },
		{ "lie", required_argument, NULL, 'L' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	unsigned int ip_max = GEN_TX_ROOM - RTE_PKTMBUF_HEADROOM - RTE_ETHER_HDR_LEN;
	char *end;
	int c;

	o->size = 65000;
	o->mss = 1448;
	o->window = 48;
	o->warmup_s = 2;
	o->duration_s = 8;
	o->link_timeout_s = 10;
	if (ip_max > GEN_IP_MAX)
		ip_max = GEN_IP_MAX;
	while ((c = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
		switch (c) {
		case 'd':
			if (rte_ether_unformat_addr(optarg, &o->dst) != 0)
				return -EINVAL;
			o->have_dst = true;
			break;
		case 's':
			o->size = (unsigned int)strtoul(optarg, &end, 10);
			if (*end != '\0' || o->size <= GEN_HDR_LEN - RTE_ETHER_HDR_LEN ||
			    o->size > ip_max)
				return -EINVAL;
			break;
		case 'm':
			o->mss = (unsigned int)strtoul(optarg, &end, 10);
			if (*end != '\0' || o->mss < 64 || o->mss > 9000)
				return -EINVAL;
			break;
		case 'w':
			o->window = (unsigned int)strtoul(optarg, &end, 10);
			if (*end != '\0' || o->window < 1 || o->window > 4096)
				return -EINVAL;
			break;
		case 'W':
			o->warmup_s = strtod(optarg, &end);
			if (*end != '\0' || o->warmup_s < 0)
				return -EINVAL;
			break;
		case 'D':
			o->duration_s = strtod(optarg, &end);
			if (*end != '\0' || o->duration_s <= 0)
				return -EINVAL;
			break;
		case 'l':
			o->link_timeout_s = (unsigned int)strtoul(optarg, NULL, 10);
			break;
		case 'c':
			o->check = true;
			break;
		case 'p':
			o->plain = true;
			break;
		case 'L':
			if (strcmp(optarg, "mss0") == 0)
				o->lie = LIE_MSS0;
			else if (strcmp(optarg, "mss-big") == 0)
				o->lie = LIE_MSS_BIG;
			else if (strcmp(optarg, "udp") == 0)
				o->lie = LIE_UDP;
			else
				return -EINVAL;
			break;
		default:
			return -EINVAL;
		}
	}
	if (!o->have_dst)
		return -EINVAL;
	return optind == argc ? 0 : -EINVAL;
}

/*
 * Port 0 must do TSO and TCP checksum (the switch offers HOST_TSO4/6 and
 * CSUM); port 1 asks for LRO, TCP checksum and scatter, as far as the
 * switch offers GUEST_TSO4/6, GUEST_CSUM and MRG_RXBUF.
 */
static int
gen_port_init(uint16_t port, struct rte_mempool *rx_pool, bool plain)
{
	const uint64_t tx_need = RTE_ETH_TX_OFFLOAD_TCP_TSO | RTE_ETH_TX_OFFLOAD_TCP_CKSUM;
	const uint64_t rx_want = RTE_ETH_RX_OFFLOAD_TCP_LRO | RTE_ETH_RX_OFFLOAD_TCP_CKSUM |
				 RTE_ETH_RX_OFFLOAD_SCATTER;
	struct rte_eth_dev_info info;
	struct rte_eth_conf conf;
	int ret;

	ret = rte_eth_dev_info_get(port, &info);
	if (ret != 0)
		return ret;
	memset(&conf, 0, sizeof(conf));
	if (port == GEN_SRC_PORT && plain) {
		conf.txmode.offloads = 0;
	} else if (port == GEN_SRC_PORT) {
		if ((info.tx_offload_capa & tx_need) != tx_need) {
			fprintf(stderr,
				"tso-gen: port %u (%s) cannot do TCP TSO + TCP checksum "
				"(tx_offload_capa 0x%" PRIx64 "): the switch does not offer "
				"HOST_TSO4/6 and CSUM on this socket\n",
				port, info.driver_name, info.tx_offload_capa);
			return -ENOTSUP;
		}
		conf.txmode.offloads = tx_need;
	} else {
		conf.rxmode.offloads = info.rx_offload_capa & rx_want;
		if ((conf.rxmode.offloads & RTE_ETH_RX_OFFLOAD_TCP_LRO) == 0)
			fprintf(stderr,
				"tso-gen: warning: port %u: no LRO (rx_offload_capa 0x%" PRIx64
				"): the switch does not offer GUEST_TSO4/6, super-frames will "
				"arrive segmented\n", port, info.rx_offload_capa);
		/*
		 * 64 KB is what LRO may hand us.  ethdev only accepts a value
		 * the PMD reports; virtio reports none (0) and then insists on
		 * the default, which it does not use anyway.
		 */
		if (conf.rxmode.offloads & RTE_ETH_RX_OFFLOAD_TCP_LRO)
			conf.rxmode.max_lro_pkt_size = info.max_lro_pkt_size == 0 ? 0 :
				RTE_MIN(info.max_lro_pkt_size, (uint32_t)GEN_IP_MAX);
	}
	ret = rte_eth_dev_configure(port, 1, 1, &conf);
	if (ret == 0)
		ret = rte_eth_rx_queue_setup(port, 0, GEN_RING_SIZE,
					     rte_eth_dev_socket_id(port), NULL, rx_pool);
	if (ret == 0)
		ret = rte_eth_tx_queue_setup(port, 0, GEN_RING_SIZE,
					     rte_eth_dev_socket_id(port), NULL);
	if (ret == 0)
		ret = rte_eth_dev_start(port);
	if (ret == 0)
		fprintf(stderr, "tso-gen: port %u (%s): rx offloads 0x%" PRIx64
			", tx offloads 0x%" PRIx64 " (capa rx 0x%" PRIx64 " tx 0x%" PRIx64 ")\n",
			port, info.driver_name, conf.rxmode.offloads, conf.txmode.offloads,
			info.rx_offload_capa, info.tx_offload_capa);
	return ret;
}

/* The constant part of every frame, written once into each mbuf. */
struct gen_frame {
	const struct gen_opts *o;
	struct rte_ether_addr src;
	unsigned int frame_len;         /* L2 */
	unsigned int payload;           /* TCP payload per frame */
	uint32_t seq;
	uint16_t ip_id;
};

static void
gen_write_frame(struct gen_frame *f, uint8_t *p)
{
	struct rte_ether_hdr *eth = (struct rte_ether_hdr *)p;
	struct rte_ipv4_hdr *ip = (struct rte_ipv4_hdr *)(eth + 1);
	struct rte_tcp_hdr *tcp = (struct rte_tcp_hdr *)(ip + 1);
	uint8_t *pl = (uint8_t *)(tcp + 1);

	eth->dst_addr = f->o->dst;
	eth->src_addr = f->src;
	eth->ether_type = rte_cpu_to_be_16(RTE_ETHER_TYPE_IPV4);
	memset(ip, 0, sizeof(*ip));
	ip->version_ihl = RTE_IPV4_VHL_DEF;
	ip->total_length = rte_cpu_to_be_16((uint16_t)f->o->size);
	ip->fragment_offset = rte_cpu_to_be_16(RTE_IPV4_HDR_DF_FLAG);
	ip->time_to_live = 64;
	ip->next_proto_id = IPPROTO_TCP;
	ip->src_addr = rte_cpu_to_be_32(RTE_IPV4(10, 88, 0, 1));
	ip->dst_addr = rte_cpu_to_be_32(RTE_IPV4(10, 88, 0, 2));
	memset(tcp, 0, sizeof(*tcp));
	tcp->src_port = rte_cpu_to_be_16(40000);
	tcp->dst_port = rte_cpu_to_be_16(5201);
	tcp->recv_ack = rte_cpu_to_be_32(1);
	tcp->data_off = (sizeof(*tcp) / 4) << 4;
	tcp->tcp_flags = RTE_TCP_ACK_FLAG | RTE_TCP_PSH_FLAG;
	tcp->rx_win = rte_cpu_to_be_16(0xffff);
	for (unsigned int i = 0; i < f->payload; i++)
		pl[i] = (uint8_t)(i * 7 + 3);
}

/* Write the frame into every mbuf of the pool: alloc all, write, free all. */
static int
gen_prefill(struct rte_mempool *pool, struct gen_frame *f)
{
	unsigned int n = pool->size, i;
	struct rte_mbuf **all = calloc(n, sizeof(*all));

	if (all == NULL)
		return -ENOMEM;
	for (i = 0; i < n; i++) {
		all[i] = rte_pktmbuf_alloc(pool);
		if (all[i] == NULL)
			break;
		gen_write_frame(f, rte_pktmbuf_mtod(all[i], uint8_t *));
	}
	rte_pktmbuf_free_bulk(all, i);
	free(all);
	return i == n ? 0 : -ENOBUFS;
}

/* Per send: headers that change, lengths and offload metadata. */
static void
gen_stamp(struct gen_frame *f, struct rte_mbuf *m)
{
	struct rte_ether_hdr *eth = rte_pktmbuf_mtod(m, struct rte_ether_hdr *);
	struct rte_ipv4_hdr *ip = (struct rte_ipv4_hdr *)(eth + 1);
	struct rte_tcp_hdr *tcp = (struct rte_tcp_hdr *)(ip + 1);

	m->data_len = (uint16_t)f->frame_len;
	m->pkt_len = f->frame_len;
	m->l2_len = RTE_ETHER_HDR_LEN;
	m->l3_len = sizeof(*ip);
	m->l4_len = sizeof(*tcp);
	m->tso_segsz = (uint16_t)f->o->mss;
	m->ol_flags = RTE_MBUF_F_TX_TCP_SEG | RTE_MBUF_F_TX_IPV4 | RTE_MBUF_F_TX_TCP_CKSUM;
	/* --lie: what the virtio PMD turns into a lying virtio-net header
	 * (gso_size from tso_segsz, gso_type TCPv4 whatever the protocol). */
	if (f->o->lie == LIE_MSS0)
		m->tso_segsz = 0;
	else if (f->o->lie == LIE_MSS_BIG)
		m->tso_segsz = (uint16_t)(f->payload + 1);
	else if (f->o->lie == LIE_UDP)
		ip->next_proto_id = IPPROTO_UDP;
	ip->packet_id = rte_cpu_to_be_16(f->ip_id++);
	ip->hdr_checksum = 0;
	ip->hdr_checksum = rte_ipv4_cksum(ip);
	tcp->sent_seq = rte_cpu_to_be_32(f->seq);
	f->seq += f->payload;
	if (f->o->plain) {
		/* Segments of one write, as a stack without TSO sends them:
		 * PSH on the last of every 32, where GRO must end a frame. */
		tcp->tcp_flags = RTE_TCP_ACK_FLAG |
				 (f->ip_id % 32 == 0 ? RTE_TCP_PSH_FLAG : 0);
		m->ol_flags = 0;
		tcp->cksum = 0;
		tcp->cksum = rte_ipv4_udptcp_cksum(ip, tcp);
		return;
	}
	tcp->cksum = rte_ipv4_phdr_cksum(ip, m->ol_flags);
}

/*
 * The sink's view of the byte stream: the TCP payload bytes missing before
 * this frame (0 when it is the next one expected).  One queue, one flow:
 * frames and their segments arrive in order, so a hole is a drop.
 */
static uint64_t
gen_rx_gap(const struct rte_mbuf *m, uint32_t *expect)
{
	const struct rte_ether_hdr *eth = rte_pktmbuf_mtod(m, const struct rte_ether_hdr *);
	const struct rte_ipv4_hdr *ip = (const struct rte_ipv4_hdr *)(eth + 1);
	const struct rte_tcp_hdr *tcp;
	uint32_t seq, plen;
	int32_t diff;

	if (m->data_len < GEN_HDR_LEN ||
	    eth->ether_type != rte_cpu_to_be_16(RTE_ETHER_TYPE_IPV4) ||
	    ip->version_ihl != RTE_IPV4_VHL_DEF || ip->next_proto_id != IPPROTO_TCP)
		return 0;
	tcp = (const struct rte_tcp_hdr *)(ip + 1);
	if (tcp->dst_port != rte_cpu_to_be_16(5201))
		return 0;
	seq = rte_be_to_cpu_32(tcp->sent_seq);
	plen = rte_be_to_cpu_16(ip->total_length) - (uint32_t)(GEN_HDR_LEN - RTE_ETHER_HDR_LEN);
	diff = (int32_t)(seq - *expect);
	*expect = seq + plen;
	return diff > 0 ? (uint64_t)diff : 0;
}

/*
 * --check: every payload byte of m is what the source wrote at that
 * offset of its super-frame (sequence numbers start at 1 and advance by
 * f->payload a frame, so whole or cut, the offset is (seq - 1) mod
 * payload), and a frame carrying more than one MSS says so (LRO, the MSS
 * as segment size), as a guest that negotiated GUEST_TSO is told.
 */
static void
gen_rx_check(const struct rte_mbuf *m, const struct gen_frame *f,
	     struct gen_counts *c)
{
	uint8_t hdr[GEN_HDR_LEN];
	const struct rte_ipv4_hdr *ip;
	const struct rte_tcp_hdr *tcp;
	const struct rte_mbuf *seg;
	uint32_t seq, plen, k, off;
	const uint8_t *h;

	h = rte_pktmbuf_read(m, 0, GEN_HDR_LEN, hdr);
	if (h == NULL)
		return;
	ip = (const struct rte_ipv4_hdr *)(h + RTE_ETHER_HDR_LEN);
	tcp = (const struct rte_tcp_hdr *)(ip + 1);
	if (ip->next_proto_id != IPPROTO_TCP || tcp->dst_port != rte_cpu_to_be_16(5201))
		return;
	seq = rte_be_to_cpu_32(tcp->sent_seq);
	plen = rte_be_to_cpu_16(ip->total_length) - (uint32_t)(GEN_HDR_LEN - RTE_ETHER_HDR_LEN);
	if ((uint64_t)GEN_HDR_LEN + plen > m->pkt_len) {
		c->corrupt++;
		return;
	}
	if (plen > f->o->mss &&
	    (!(m->ol_flags & RTE_MBUF_F_RX_LRO) || m->tso_segsz != f->o->mss))
		c->meta_bad++;
	/* Past 4 GiB the 32-bit sequence wraps (a test window sends that
	 * above ~9 Gbit/s) and 2^32 is no multiple of payload: place the
	 * byte by its 64-bit stream position. */
	if (seq < c->last_seq && c->last_seq - seq > 0x80000000u)
		c->seq_wraps++;
	c->last_seq = seq;
	k = (uint32_t)((((uint64_t)c->seq_wraps << 32) + seq - 1) % f->payload);
	off = GEN_HDR_LEN;
	for (seg = m; seg != NULL && plen > 0; seg = seg->next) {
		const uint8_t *p = rte_pktmbuf_mtod(seg, const uint8_t *);

		for (; off < seg->data_len && plen > 0; off++, plen--) {
			if (p[off] != (uint8_t)(k * 7 + 3)) {
				c->corrupt++;
				return;
			}
			if (++k == f->payload)
				k = 0;
		}
		off -= seg->data_len;
	}
}

static void
gen_counts_print(const char *name, uint64_t v)
{
	printf("%s %" PRIu64 "\n", name, v);
}

int
main(int argc, char **argv)
{
	struct rte_mbuf *rx[GEN_BURST], *pend[GEN_BURST];
	struct gen_counts c, w0;
	struct gen_opts opts;
	struct gen_frame frame;
	struct rte_mempool *tx_pool, *rx_pool;
	uint64_t hz, t_start, t_win, t_end, now, last_rx, outstanding, win_bytes;
	uint64_t t0, stray = 0;
	uint32_t expect_seq = 1;
	unsigned int n_pend = 0, tx_n;
	bool in_window = false;
	uint16_t port, n, done;
	int ret, rc = 0;

	ret = rte_eal_init(argc, argv);
	if (ret < 0) {
		fprintf(stderr, "tso-gen: EAL init failed\n");
		return 2;
	}
	argc -= ret;
	argv += ret;
	memset(&opts, 0, sizeof(opts));
	if (gen_parse(argc, argv, &opts) != 0) {
		gen_usage("tso-gen");
		rc = 2;
		goto err_eal;
	}
	if (rte_eth_dev_count_avail() != 2) {
		fprintf(stderr, "tso-gen: need exactly two ports (source, sink), have %u "
			"(give two --vdev net_virtio_user...,server=1)\n", rte_eth_dev_count_avail());
		rc = 2;
		goto err_eal;
	}

	/*
	 * TX: one 64 KB segment per frame.  The PMD holds sent mbufs until it
	 * reclaims ring slots, so the pool covers a full ring besides the
	 * window and what is being built.
	 */
	tx_n = GEN_RING_SIZE + opts.window + 2 * GEN_BURST + 1;
	tx_pool = rte_pktmbuf_pool_create("tso_tx", tx_n, GEN_BURST, 0, GEN_TX_ROOM,
					  (int)rte_socket_id());
	rx_pool = rte_pktmbuf_pool_create("tso_rx", 16383, 256, 0,
					  GEN_RX_ROOM, (int)rte_socket_id());
	if (tx_pool == NULL || rx_pool == NULL) {
		fprintf(stderr, "tso-gen: mbuf pools: %s\n", rte_strerror(rte_errno));
		rc = 2;
		goto err_eal;
	}
	RTE_ETH_FOREACH_DEV(port) {
		ret = gen_port_init(port, rx_pool, opts.plain);
		if (ret != 0) {
			fprintf(stderr, "tso-gen: port %u: %s\n", port, strerror(-ret));
			rc = 2;
			goto err_ports;
		}
	}

	memset(&frame, 0, sizeof(frame));
	frame.o = &opts;
	frame.frame_len = RTE_ETHER_HDR_LEN + opts.size;
	frame.payload = opts.size - (GEN_HDR_LEN - RTE_ETHER_HDR_LEN);
	frame.seq = 1;
	rte_eth_macaddr_get(GEN_SRC_PORT, &frame.src);
	if (gen_prefill(tx_pool, &frame) != 0) {
		fprintf(stderr, "tso-gen: could not prefill the tx pool\n");
		rc = 2;
		goto err_ports;
	}
	if (tool_links_wait(opts.link_timeout_s) != 0) {
		fprintf(stderr, "tso-gen: links not up after %u s\n", opts.link_timeout_s);
		rc = 2;
		goto err_ports;
	}
	/* Our link is up once the vhost-user messages are sent; the switch
	 * may take a moment more to call the device ready, and frames sent
	 * before would be its "link down" drops, not the switch's cost. */
	rte_delay_ms(GEN_SETTLE_MS);

	hz = rte_get_tsc_hz();
	win_bytes = (uint64_t)opts.window * frame.payload;
	memset(&c, 0, sizeof(c));
	memset(&w0, 0, sizeof(w0));
	outstanding = 0;
	t_start = rte_rdtsc();
	t_win = t_start + (uint64_t)(opts.warmup_s * (double)hz);
	t_end = t_win + (uint64_t)(opts.duration_s * (double)hz);
	last_rx = t_start;
	printf("tsc_hz %" PRIu64 "\n", hz);
	fflush(stdout);
	for (now = t_start; now < t_end;) {
		bool work = false;

		t0 = now;
		/* sink */
		n = rte_eth_rx_burst(GEN_DST_PORT, 0, rx, GEN_BURST);
		if (n > 0) {
			for (uint16_t i = 0; i < n; i++) {
				uint32_t len = rte_pktmbuf_pkt_len(rx[i]);
				uint64_t gap = gen_rx_gap(rx[i], &expect_seq);

				c.rx_bytes += len;
				c.rx_super += len >= GEN_SUPER_MIN;
				if (opts.check)
					gen_rx_check(rx[i], &frame, &c);
				if (gap > 0) {
					/* a hole in the byte stream: dropped on the way */
					c.lost += (gap + frame.payload - 1) / frame.payload;
					outstanding -= RTE_MIN(outstanding, gap);
				}
				if (len > GEN_HDR_LEN)
					outstanding -= RTE_MIN(outstanding,
							       (uint64_t)(len - GEN_HDR_LEN));
			}
			c.rx_frames += n;
			rte_pktmbuf_free_bulk(rx, n);
			last_rx = t0;
			work = true;
		}
		/* nothing is expected back at the source; drop what comes */
		n = rte_eth_rx_burst(GEN_SRC_PORT, 0, rx, GEN_BURST);
		if (n > 0) {
			stray += n;
			rte_pktmbuf_free_bulk(rx, n);
		}
		/* source: fill the window */
		while (n_pend < GEN_BURST && outstanding + (uint64_t)(n_pend + 1) * frame.payload <= win_bytes) {
			struct rte_mbuf *m = rte_pktmbuf_alloc(tx_pool);

			if (m == NULL)
				break;
			gen_stamp(&frame, m);
			pend[n_pend++] = m;
		}
		if (n_pend > 0) {
			done = rte_eth_tx_burst(GEN_SRC_PORT, 0, pend, (uint16_t)n_pend);
			if (done > 0) {
				c.tx_frames += done;
				outstanding += (uint64_t)done * frame.payload;
				n_pend -= done;
				memmove(pend, pend + done, n_pend * sizeof(pend[0]));
				work = true;
			}
		}
		now = rte_rdtsc();
		/* a full window and silence for GEN_LOSS_S: written off */
		if (outstanding + frame.payload > win_bytes &&
		    now - last_rx > GEN_LOSS_S * hz) {
			c.lost += (outstanding + frame.payload - 1) / frame.payload;
			outstanding = 0;
			last_rx = now;
		}
		if (work)
			c.busy_cycles += now - t0;
		if (!in_window && now >= t_win) {
			w0 = c;
			t_win = now;
			in_window = true;
			printf("phase window\n");
			fflush(stdout);
		}
	}
	printf("phase done\n");
	fflush(stdout);
	/*
	 * Keep the ports up (draining, not sending) for GEN_LINGER_MS, so
	 * that the script can read the switch's counters and negotiated
	 * features while both sides are still connected.
	 */
	for (uint64_t linger = rte_rdtsc() + GEN_LINGER_MS * hz / 1000; rte_rdtsc() < linger;) {
		RTE_ETH_FOREACH_DEV(port) {
			n = rte_eth_rx_burst(port, 0, rx, GEN_BURST);
			rte_pktmbuf_free_bulk(rx, n);
		}
	}

	{
		double secs = (double)(now - t_win) / (double)hz;
		uint64_t rxf = c.rx_frames - w0.rx_frames, rxb = c.rx_bytes - w0.rx_bytes;

		printf("window_s %.3f\n", secs);
		gen_counts_print("rx_frames", rxf);
		gen_counts_print("rx_bytes", rxb);
		gen_counts_print("rx_super", c.rx_super - w0.rx_super);
		printf("rx_avg_len %.0f\n", rxf > 0 ? (double)rxb / (double)rxf : 0.0);
		gen_counts_print("tx_frames", c.tx_frames - w0.tx_frames);
		gen_counts_print("lost", c.lost - w0.lost);
		gen_counts_print("lost_total", c.lost);
		printf("gbps %.3f\n", (double)rxb * 8 / secs / 1e9);
		printf("fps %.0f\n", (double)rxf / secs);
		printf("gen_busy_pct %.1f\n",
		       100.0 * (double)(c.busy_cycles - w0.busy_cycles) / (double)(now - t_win));
		if (stray > 0)
			gen_counts_print("rx_stray", stray);
		if (opts.check) {
			gen_counts_print("corrupt", c.corrupt);
			gen_counts_print("meta_bad", c.meta_bad);
			if (c.corrupt > 0 || c.meta_bad > 0)
				rc = 1;
		}
		fflush(stdout);
		if (rxf == 0 && opts.lie == LIE_NONE) {
			fprintf(stderr, "tso-gen: nothing arrived at port %u in the window\n",
				GEN_DST_PORT);
			rc = 1;
		}
	}
	rte_pktmbuf_free_bulk(pend, n_pend);

err_ports:
	RTE_ETH_FOREACH_DEV(port) {
		rte_eth_dev_stop(port);
		rte_eth_dev_close(port);
	}
err_eal:
	rte_eal_cleanup();
	return rc;
}
