/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * vxlan-gen: the traffic of a VM and of the remote host it talks to over a
 * VXLAN overlay, for measuring what a switch spends per frame on VXLAN
 * encapsulation and decapsulation (benchmarks/vxlan_bench.sh).  It stands
 * in for both ends on one core:
 *
 *   VM side   a net_virtio_user port on the switch's VM vhost-user socket
 *             (the guest: MAC --vm-mac)
 *   wire side a net_vhost port that is the switch's uplink device's other
 *             end (the switch's uplink is net_virtio_user on this socket):
 *             the underlay, with the remote tunnel endpoint --remote-ip
 *             behind it (this tool answers ARP for it with its own MAC)
 *
 *   vxlan-gen [EAL args] -- --wire DEVARGS --vm DEVARGS --vm-mac MAC
 *             --remote-mac MAC --sut-mac MAC --local-ip IP --remote-ip IP
 *             --vni N [--udp-port N] [--phases LIST] [--window N]
 *             [--tso-window N] [--tso-size N] [--mss N] [--tso-mode M]
 *             [--warmup S] [--duration S] [--gap S] [--link-timeout S]
 *             [--prime-timeout S]
 *
 * The two devices are hot-plugged after EAL init, the wire first (its
 * socket exists before the switch starts, so a switch that opens its
 * uplink at start finds it), then the VM side, normally
 *   --wire net_vhost0,iface=WIRE.sock,queues=1
 *   --vm   net_virtio_user0,path=VM.sock,mac=MAC,queues=1,queue_size=1024,server=1
 * (server=1 blocks until the switch connects: "wire ready" is printed
 * before, for the script to start the switch).
 *
 * Phases (--phases, default encap:64,decap:64), each one after the other:
 *   encap:N    the VM sends N-byte frames (L2, no FCS; IPv4/UDP, a 32-bit
 *              sequence number in the payload) to --remote-mac; the switch
 *              encapsulates them toward --remote-ip; they are counted at
 *              the wire (outer headers, VNI and inner MACs checked)
 *   decap:N    the remote host sends VXLAN (--remote-ip -> --local-ip, to
 *              --sut-mac, VNI --vni, UDP checksum 0) carrying N-byte frames
 *              from --remote-mac to --vm-mac; counted at the VM
 *   encap:tso  the VM sends a TCP stream (10.77.0.1:40000 -> 10.77.0.2:5201):
 *              --tso-size-byte IP datagrams with TSO metadata (MSS --mss),
 *              as a guest with TSO does (--tso-mode super), or MSS-sized
 *              segments with their checksums computed (--tso-mode plain:
 *              a guest whose switch offers no TSO); auto (default) is
 *              super when the VM port can do TCP TSO and checksum after
 *              the switch connected, else plain.  Counted at the wire by
 *              inner TCP payload bytes.
 * A phase first primes the path: one frame every 20 ms until one arrives
 * at the far side (the switch may have to learn the remote host from its
 * directory and resolve the remote endpoint by ARP), at most
 * --prime-timeout s ("phase fail NAME" then).  Then it runs --warmup s,
 * measures --duration s, and drains (sends nothing) for --gap s so that the
 * script can read the switch's counters before the next phase.
 *
 * Flow control like fwd_bench's circulating frames: at most --window
 * frames (default 512), for tso --tso-window super-frames' worth of
 * payload (default 16), are outstanding (sent, not yet arrived).  One flow,
 * one queue: a hole in the sequence at the far side is a drop (counted
 * lost, leaves the window); a window full and silent for 1 s is written
 * off as lost.
 *
 * Output, one "name value" per line:
 *   wire ready / vm ready       devices probed (wire: its socket exists)
 *   vm_tx_offload_capa HEX      what the VM port can do once connected
 *   tsc_hz N
 *   phase prime|window|done|fail NAME
 *   result NAME KEY VALUE        per phase: window_s, rx_frames, rx_bytes
 *                                (L2 at the far side), inner_bytes (the
 *                                VM's L2 bytes), payload_bytes (TCP/UDP
 *                                payload), tx_frames, lost (frames; tso:
 *                                payload bytes), bad (frames at the far
 *                                side that are not what was sent, or,
 *                                one TCP segment in 16, whose checksum
 *                                is wrong), stray
 *                                (frames where none were expected), mpps,
 *                                gbps (far side L2), payload_gbps,
 *                                gen_busy_pct, arp_replies, tso (super|
 *                                plain, tso phases), frame_len (what the
 *                                sender's frames are, L2)
 * Exit 0 when every phase moved frames in its window, 1 otherwise, 2 on
 * setup errors.  It pins nothing itself (give --lcores).
 */
#include <errno.h>
#include <getopt.h>
#include <stdarg.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <arpa/inet.h>

#include <rte_byteorder.h>
#include <rte_cycles.h>
#include <rte_dev.h>
#include <rte_eal.h>
#include <rte_ethdev.h>
#include <rte_ether.h>
#include <rte_ip.h>
#include <rte_mbuf.h>
#include <rte_mempool.h>
#include <rte_tcp.h>
#include <rte_udp.h>

#include "tool_links.h"

#define VG_BURST 32
#define VG_RING 1024
#define VG_OUTER 50             /* Ethernet + IPv4 + UDP + VXLAN */
#define VG_UDP_HDRS 42          /* Ethernet + IPv4 + UDP */
#define VG_TCP_HDRS 54          /* Ethernet + IPv4 + TCP */
#define VG_ROOM (2048 + RTE_PKTMBUF_HEADROOM)
#define VG_TSO_ROOM 65535
#define VG_PHASES_MAX 16
#define VG_LOSS_S 1
#define VG_PRIME_MS 20
#define VG_SETTLE_MS 300
#define VG_SPORT 49999          /* outer UDP source port of decap frames */

enum vg_dir { VG_ENCAP, VG_DECAP };
enum vg_tso { VG_TSO_AUTO, VG_TSO_SUPER, VG_TSO_PLAIN };

struct vg_phase {
	char name[24];
	enum vg_dir dir;
	bool tcp;               /* encap:tso */
	unsigned int size;      /* L2 frame the sender writes */
};

struct vg_opts {
	const char *wire_args, *vm_args;
	struct rte_ether_addr vm_mac, remote_mac, sut_mac;
	bool have_vm_mac, have_remote_mac, have_sut_mac;
	uint8_t local_ip[4], remote_ip[4];
	bool have_local, have_remote;
	uint32_t vni;
	uint16_t udp_port;
	struct vg_phase ph[VG_PHASES_MAX];
	unsigned int n_ph;
	unsigned int window, tso_window, tso_size, mss;
	enum vg_tso tso_mode;
	double warmup_s, duration_s, gap_s;
	unsigned int link_timeout_s, prime_timeout_s;
};

/* What the far side counted, since the phase's start. */
struct vg_counts {
	uint64_t rx_frames, rx_bytes, inner_bytes, payload_bytes;
	uint64_t tx_frames, lost, bad, stray, arp_replies, busy_cycles;
};

struct vg {
	struct vg_opts o;
	uint16_t vm, wire;                      /* port ids */
	struct rte_ether_addr wire_mac;
	struct rte_mempool *pool_tso, *pool_rx, *pool_ctl;
	bool tso_super;                         /* tso phases send super-frames */
	uint32_t tcp_payload_sum;               /* plain segments: the payload's sum */
	/* the phase running */
	const struct vg_phase *p;
	struct rte_mempool *tx_pool;
	uint16_t tx_port, rx_port;
	unsigned int frame_len, payload;        /* per frame sent */
	uint32_t seq, expect;                   /* units: frames, tso: bytes */
	uint16_t ip_id;
	uint64_t outstanding, win_units;
	struct vg_counts c;
};

static void
vg_usage(void)
{
	fprintf(stderr,
		"usage: vxlan-gen [EAL args] -- --wire DEVARGS --vm DEVARGS --vm-mac MAC\n"
		"       --remote-mac MAC --sut-mac MAC --local-ip IP --remote-ip IP --vni N\n"
		"       [--udp-port N] [--phases encap:64,decap:64,encap:1518,decap:1518,encap:tso]\n"
		"       [--window N] [--tso-window N] [--tso-size N] [--mss N]\n"
		"       [--tso-mode auto|super|plain] [--warmup S] [--duration S] [--gap S]\n"
		"       [--link-timeout S] [--prime-timeout S]\n"
		"(see the comment at the top of benchmarks/vxlan_gen.c)\n");
}

static int
vg_parse_phases(const char *s, struct vg_opts *o)
{
	char buf[512], *save = NULL, *tok;

	if (strlen(s) >= sizeof(buf))
		return -EINVAL;
	strcpy(buf, s);
	o->n_ph = 0;
	for (tok = strtok_r(buf, ",", &save); tok != NULL; tok = strtok_r(NULL, ",", &save)) {
		struct vg_phase *p = &o->ph[o->n_ph];
		char *colon = strchr(tok, ':'), *end;

		if (o->n_ph == VG_PHASES_MAX || colon == NULL)
			return -EINVAL;
		*colon = '\0';
		if (strcmp(tok, "encap") == 0)
			p->dir = VG_ENCAP;
		else if (strcmp(tok, "decap") == 0)
			p->dir = VG_DECAP;
		else
			return -EINVAL;
		if (strcmp(colon + 1, "tso") == 0) {
			if (p->dir != VG_ENCAP)
				return -EINVAL;
			p->tcp = true;
		} else {
			p->size = (unsigned int)strtoul(colon + 1, &end, 10);
			if (*end != '\0' || p->size < 60 || p->size > 1982)
				return -EINVAL;
		}
		snprintf(p->name, sizeof(p->name), "%s:%s", tok, colon + 1);
		o->n_ph++;
	}
	return o->n_ph > 0 ? 0 : -EINVAL;
}

static int
vg_parse(int argc, char **argv, struct vg_opts *o)
{
	static const struct option longopts[] = {
		{ "wire", required_argument, NULL, 'w' },
		{ "vm", required_argument, NULL, 'v' },
		{ "vm-mac", required_argument, NULL, 'a' },
		{ "remote-mac", required_argument, NULL, 'b' },
		{ "sut-mac", required_argument, NULL, 's' },
		{ "local-ip", required_argument, NULL, 'L' },
		{ "remote-ip", required_argument, NULL, 'R' },
		{ "vni", required_argument, NULL, 'n' },
		{ "udp-port", required_argument, NULL, 'u' },
		{ "phases", required_argument, NULL, 'p' },
		{ "window", required_argument, NULL, 'W' },
		{ "tso-window", required_argument, NULL, 'X' },
		{ "tso-size", required_argument, NULL, 'Z' },
		{ "mss", required_argument, NULL, 'm' },
		{ "tso-mode", required_argument, NULL, 'M' },
		{ "warmup", required_argument, NULL, 'U' },
		{ "duration", required_argument, NULL, 'D' },
		{ "gap", required_argument, NULL, 'G' },
		{ "link-timeout", required_argument, NULL, 'l' },
		{ "prime-timeout", required_argument, NULL, 'P' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	char *end;
	int c;

	o->udp_port = 4789;
	o->window = 512;
	o->tso_window = 16;
	o->tso_size = 65000;
	o->mss = 1448;
	o->warmup_s = 2;
	o->duration_s = 5;
	o->gap_s = 1.5;
	o->link_timeout_s = 30;
	o->prime_timeout_s = 20;
	if (vg_parse_phases("encap:64,decap:64", o) != 0)
		return -EINVAL;
	while ((c = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
		switch (c) {
		case 'w': o->wire_args = optarg; break;
		case 'v': o->vm_args = optarg; break;
		case 'a':
			if (rte_ether_unformat_addr(optarg, &o->vm_mac) != 0)
				return -EINVAL;
			o->have_vm_mac = true;
			break;
		case 'b':
			if (rte_ether_unformat_addr(optarg, &o->remote_mac) != 0)
				return -EINVAL;
			o->have_remote_mac = true;
			break;
		case 's':
			if (rte_ether_unformat_addr(optarg, &o->sut_mac) != 0)
				return -EINVAL;
			o->have_sut_mac = true;
			break;
		case 'L':
			if (inet_pton(AF_INET, optarg, o->local_ip) != 1)
				return -EINVAL;
			o->have_local = true;
			break;
		case 'R':
			if (inet_pton(AF_INET, optarg, o->remote_ip) != 1)
				return -EINVAL;
			o->have_remote = true;
			break;
		case 'n':
			o->vni = (uint32_t)strtoul(optarg, &end, 10);
			if (*end != '\0' || o->vni == 0 || o->vni > 0xffffff)
				return -EINVAL;
			break;
		case 'u':
			o->udp_port = (uint16_t)strtoul(optarg, &end, 10);
			if (*end != '\0' || o->udp_port == 0)
				return -EINVAL;
			break;
		case 'p':
			if (vg_parse_phases(optarg, o) != 0)
				return -EINVAL;
			break;
		case 'W':
			o->window = (unsigned int)strtoul(optarg, &end, 10);
			if (*end != '\0' || o->window < 1 || o->window > 4096)
				return -EINVAL;
			break;
		case 'X':
			o->tso_window = (unsigned int)strtoul(optarg, &end, 10);
			if (*end != '\0' || o->tso_window < 1 || o->tso_window > 64)
				return -EINVAL;
			break;
		case 'Z':
			o->tso_size = (unsigned int)strtoul(optarg, &end, 10);
			if (*end != '\0' || o->tso_size < 1000 || o->tso_size > 65000)
				return -EINVAL;
			break;
		case 'm':
			o->mss = (unsigned int)strtoul(optarg, &end, 10);
			if (*end != '\0' || o->mss < 536 || o->mss > 1900)
				return -EINVAL;
			break;
		case 'M':
			if (strcmp(optarg, "auto") == 0)
				o->tso_mode = VG_TSO_AUTO;
			else if (strcmp(optarg, "super") == 0)
				o->tso_mode = VG_TSO_SUPER;
			else if (strcmp(optarg, "plain") == 0)
				o->tso_mode = VG_TSO_PLAIN;
			else
				return -EINVAL;
			break;
		case 'U':
			o->warmup_s = strtod(optarg, &end);
			if (*end != '\0' || o->warmup_s < 0)
				return -EINVAL;
			break;
		case 'D':
			o->duration_s = strtod(optarg, &end);
			if (*end != '\0' || o->duration_s <= 0)
				return -EINVAL;
			break;
		case 'G':
			o->gap_s = strtod(optarg, &end);
			if (*end != '\0' || o->gap_s < 0)
				return -EINVAL;
			break;
		case 'l':
			o->link_timeout_s = (unsigned int)strtoul(optarg, NULL, 10);
			break;
		case 'P':
			o->prime_timeout_s = (unsigned int)strtoul(optarg, NULL, 10);
			break;
		default:
			return -EINVAL;
		}
	}
	if (o->wire_args == NULL || o->vm_args == NULL || !o->have_vm_mac ||
	    !o->have_remote_mac || !o->have_sut_mac || !o->have_local ||
	    !o->have_remote || o->vni == 0)
		return -EINVAL;
	return optind == argc ? 0 : -EINVAL;
}

/* Probe a vdev from its devargs ("name,k=v,..."): its port id. */
static int
vg_probe(const char *devargs, uint16_t *port)
{
	char name[RTE_DEV_NAME_MAX_LEN];
	size_t n = strcspn(devargs, ",");
	int rc;

	if (n == 0 || n >= sizeof(name))
		return -EINVAL;
	memcpy(name, devargs, n);
	name[n] = '\0';
	rc = rte_dev_probe(devargs);
	if (rc != 0)
		return rc;
	return rte_eth_dev_get_port_by_name(name, port) == 0 ? 0 : -ENODEV;
}

static int
vg_port_start(uint16_t port, struct rte_mempool *rx_pool, uint64_t tx_offloads)
{
	struct rte_eth_dev_info info;
	struct rte_eth_conf conf;
	int rc;

	rc = rte_eth_dev_info_get(port, &info);
	if (rc != 0)
		return rc;
	memset(&conf, 0, sizeof(conf));
	conf.txmode.offloads = tx_offloads & info.tx_offload_capa;
	conf.rxmode.offloads = info.rx_offload_capa & RTE_ETH_RX_OFFLOAD_SCATTER;
	rc = rte_eth_dev_configure(port, 1, 1, &conf);
	if (rc == 0)
		rc = rte_eth_rx_queue_setup(port, 0, VG_RING, rte_eth_dev_socket_id(port),
					    NULL, rx_pool);
	if (rc == 0)
		rc = rte_eth_tx_queue_setup(port, 0, VG_RING, rte_eth_dev_socket_id(port),
					    NULL);
	if (rc == 0)
		rc = rte_eth_dev_start(port);
	if (rc == 0)
		fprintf(stderr, "vxlan-gen: port %u (%s): tx offloads 0x%" PRIx64
			" (capa tx 0x%" PRIx64 " rx 0x%" PRIx64 ")\n", port,
			info.driver_name, conf.txmode.offloads, info.tx_offload_capa,
			info.rx_offload_capa);
	return rc;
}

/* --- frames ------------------------------------------------------------ */

static void
vg_ipv4(struct rte_ipv4_hdr *ip, const uint8_t src[4], const uint8_t dst[4],
	uint8_t proto, unsigned int total)
{
	memset(ip, 0, sizeof(*ip));
	ip->version_ihl = RTE_IPV4_VHL_DEF;
	ip->total_length = rte_cpu_to_be_16((uint16_t)total);
	ip->fragment_offset = rte_cpu_to_be_16(RTE_IPV4_HDR_DF_FLAG);
	ip->time_to_live = 64;
	ip->next_proto_id = proto;
	memcpy(&ip->src_addr, src, 4);
	memcpy(&ip->dst_addr, dst, 4);
	ip->hdr_checksum = rte_ipv4_cksum(ip);
}

static const uint8_t vg_vm_ip[4] = { 10, 77, 0, 1 };
static const uint8_t vg_remote_vm_ip[4] = { 10, 77, 0, 2 };

/* An inner IPv4/UDP frame of len bytes at p: sequence number 0. */
static void
vg_write_udp(uint8_t *p, unsigned int len, const struct rte_ether_addr *dst,
	     const struct rte_ether_addr *src, const uint8_t sip[4],
	     const uint8_t dip[4])
{
	struct rte_ether_hdr *eth = (struct rte_ether_hdr *)p;
	struct rte_ipv4_hdr *ip = (struct rte_ipv4_hdr *)(eth + 1);
	struct rte_udp_hdr *udp = (struct rte_udp_hdr *)(ip + 1);
	uint8_t *pl = (uint8_t *)(udp + 1);

	eth->dst_addr = *dst;
	eth->src_addr = *src;
	eth->ether_type = rte_cpu_to_be_16(RTE_ETHER_TYPE_IPV4);
	vg_ipv4(ip, sip, dip, IPPROTO_UDP, len - RTE_ETHER_HDR_LEN);
	udp->src_port = rte_cpu_to_be_16(5001);
	udp->dst_port = rte_cpu_to_be_16(5002);
	udp->dgram_len = rte_cpu_to_be_16((uint16_t)(len - RTE_ETHER_HDR_LEN - sizeof(*ip)));
	udp->dgram_cksum = 0;
	for (unsigned int i = 0; i < len - VG_UDP_HDRS; i++)
		pl[i] = (uint8_t)(i * 7 + 3);
}

/* VXLAN from the remote host to the switch's endpoint, around an inner
 * frame of inner bytes (written by vg_write_udp at p + VG_OUTER). */
static void
vg_write_outer(struct vg *g, uint8_t *p, unsigned int inner)
{
	struct rte_ether_hdr *eth = (struct rte_ether_hdr *)p;
	struct rte_ipv4_hdr *ip = (struct rte_ipv4_hdr *)(eth + 1);
	struct rte_udp_hdr *udp = (struct rte_udp_hdr *)(ip + 1);
	uint8_t *vx = (uint8_t *)(udp + 1);

	eth->dst_addr = g->o.sut_mac;
	eth->src_addr = g->wire_mac;
	eth->ether_type = rte_cpu_to_be_16(RTE_ETHER_TYPE_IPV4);
	vg_ipv4(ip, g->o.remote_ip, g->o.local_ip, IPPROTO_UDP, 20 + 8 + 8 + inner);
	udp->src_port = rte_cpu_to_be_16(VG_SPORT);
	udp->dst_port = rte_cpu_to_be_16(g->o.udp_port);
	udp->dgram_len = rte_cpu_to_be_16((uint16_t)(8 + 8 + inner));
	udp->dgram_cksum = 0;
	memset(vx, 0, 8);
	vx[0] = 0x08;                           /* I: the VNI is valid */
	vx[4] = (uint8_t)(g->o.vni >> 16);
	vx[5] = (uint8_t)(g->o.vni >> 8);
	vx[6] = (uint8_t)g->o.vni;
}

static void
vg_write_tcp(struct vg *g, uint8_t *p, unsigned int ip_len)
{
	struct rte_ether_hdr *eth = (struct rte_ether_hdr *)p;
	struct rte_ipv4_hdr *ip = (struct rte_ipv4_hdr *)(eth + 1);
	struct rte_tcp_hdr *tcp = (struct rte_tcp_hdr *)(ip + 1);
	uint8_t *pl = (uint8_t *)(tcp + 1);

	eth->dst_addr = g->o.remote_mac;
	eth->src_addr = g->o.vm_mac;
	eth->ether_type = rte_cpu_to_be_16(RTE_ETHER_TYPE_IPV4);
	vg_ipv4(ip, vg_vm_ip, vg_remote_vm_ip, IPPROTO_TCP, ip_len);
	memset(tcp, 0, sizeof(*tcp));
	tcp->src_port = rte_cpu_to_be_16(40000);
	tcp->dst_port = rte_cpu_to_be_16(5201);
	tcp->recv_ack = rte_cpu_to_be_32(1);
	tcp->data_off = (sizeof(*tcp) / 4) << 4;
	tcp->tcp_flags = RTE_TCP_ACK_FLAG;
	tcp->rx_win = rte_cpu_to_be_16(0xffff);
	for (unsigned int i = 0; i < ip_len - 40; i++)
		pl[i] = (uint8_t)(i * 7 + 3);
}

/* The phase's frame into every mbuf of its pool: alloc all, write, free. */
static int
vg_prefill(struct vg *g)
{
	struct rte_mempool *pool = g->tx_pool;
	unsigned int n = pool->size, i;
	struct rte_mbuf **all = calloc(n, sizeof(*all));
	const struct vg_phase *p = g->p;

	if (all == NULL)
		return -ENOMEM;
	for (i = 0; i < n; i++) {
		uint8_t *d;

		all[i] = rte_pktmbuf_alloc(pool);
		if (all[i] == NULL)
			break;
		d = rte_pktmbuf_mtod(all[i], uint8_t *);
		if (p->tcp)
			vg_write_tcp(g, d, g->frame_len - RTE_ETHER_HDR_LEN);
		else if (p->dir == VG_ENCAP)
			vg_write_udp(d, p->size, &g->o.remote_mac, &g->o.vm_mac,
				     vg_vm_ip, vg_remote_vm_ip);
		else {
			vg_write_outer(g, d, p->size);
			vg_write_udp(d + VG_OUTER, p->size, &g->o.vm_mac,
				     &g->o.remote_mac, vg_remote_vm_ip, vg_vm_ip);
		}
	}
	rte_pktmbuf_free_bulk(all, i);
	free(all);
	return i == n ? 0 : -ENOBUFS;
}

/* Per send: the sequence number (and for TCP the headers that change). */
static void
vg_stamp(struct vg *g, struct rte_mbuf *m)
{
	uint8_t *d = rte_pktmbuf_mtod(m, uint8_t *);

	m->data_len = (uint16_t)g->frame_len;
	m->pkt_len = g->frame_len;
	if (!g->p->tcp) {
		unsigned int off = (g->p->dir == VG_DECAP ? VG_OUTER : 0) + VG_UDP_HDRS;
		uint32_t s = rte_cpu_to_be_32(g->seq);

		memcpy(d + off, &s, 4);
		g->seq++;
		return;
	}
	struct rte_ipv4_hdr *ip = (struct rte_ipv4_hdr *)(d + RTE_ETHER_HDR_LEN);
	struct rte_tcp_hdr *tcp = (struct rte_tcp_hdr *)(ip + 1);

	ip->packet_id = rte_cpu_to_be_16(g->ip_id++);
	ip->hdr_checksum = 0;
	ip->hdr_checksum = rte_ipv4_cksum(ip);
	tcp->sent_seq = rte_cpu_to_be_32(g->seq);
	g->seq += g->payload;
	if (g->tso_super) {
		m->l2_len = RTE_ETHER_HDR_LEN;
		m->l3_len = sizeof(*ip);
		m->l4_len = sizeof(*tcp);
		m->tso_segsz = (uint16_t)g->o.mss;
		m->ol_flags = RTE_MBUF_F_TX_TCP_SEG | RTE_MBUF_F_TX_IPV4 |
			      RTE_MBUF_F_TX_TCP_CKSUM;
		tcp->cksum = rte_ipv4_phdr_cksum(ip, m->ol_flags);
		return;
	}
	/* A segment as a stack without TSO sends it: its checksum from the
	 * pseudo header, the TCP header and the payload's sum (the same
	 * bytes in every segment, summed once). */
	uint32_t sum;

	m->ol_flags = 0;
	tcp->cksum = 0;
	sum = (uint32_t)rte_ipv4_phdr_cksum(ip, 0) + rte_raw_cksum(tcp, sizeof(*tcp)) +
	      g->tcp_payload_sum;
	sum = (sum & 0xffff) + (sum >> 16);
	sum = (sum & 0xffff) + (sum >> 16);
	tcp->cksum = (uint16_t)~sum;
	if (tcp->cksum == 0)
		tcp->cksum = 0xffff;
}

/* --- receive ----------------------------------------------------------- */

/* An ARP request on the wire for the remote endpoint: answered from the
 * wire's MAC.  true: it was ARP (taken). */
static bool
vg_arp(struct vg *g, struct rte_mbuf *m)
{
	uint8_t buf[42];
	const uint8_t *f = rte_pktmbuf_read(m, 0, sizeof(buf), buf);
	struct rte_mbuf *r;
	uint8_t *o;

	if (f == NULL || f[12] != 0x08 || f[13] != 0x06)
		return false;
	/* htype 1, ptype IPv4, hlen 6, plen 4, op 1 (request), tpa ours */
	if (f[14] != 0 || f[15] != 1 || f[16] != 0x08 || f[17] != 0 || f[18] != 6 ||
	    f[19] != 4 || f[20] != 0 || f[21] != 1 || memcmp(f + 38, g->o.remote_ip, 4) != 0)
		return true;
	r = rte_pktmbuf_alloc(g->pool_ctl);
	if (r == NULL || (o = (uint8_t *)rte_pktmbuf_append(r, 60)) == NULL) {
		rte_pktmbuf_free(r);
		return true;
	}
	memset(o, 0, 60);
	memcpy(o, f + 6, 6);                            /* to the asker */
	memcpy(o + 6, g->wire_mac.addr_bytes, 6);
	o[12] = 0x08; o[13] = 0x06;
	memcpy(o + 14, f + 14, 6);                      /* htype .. plen */
	o[20] = 0; o[21] = 2;                           /* reply */
	memcpy(o + 22, g->wire_mac.addr_bytes, 6);      /* sha */
	memcpy(o + 28, g->o.remote_ip, 4);              /* spa */
	memcpy(o + 32, f + 22, 6);                      /* tha: the asker */
	memcpy(o + 38, f + 28, 4);                      /* tpa */
	for (int i = 0; i < 100; i++)
		if (rte_eth_tx_burst(g->wire, 0, &r, 1) == 1) {
			g->c.arp_replies++;
			return true;
		}
	rte_pktmbuf_free(r);
	return true;
}

/* One frame at the far side: its sequence gap (units) via *gap, false
 * when it is not what was sent. */
static bool
vg_rx_one(struct vg *g, struct rte_mbuf *m, uint64_t *gap, uint32_t *units)
{
	uint8_t buf[VG_OUTER + VG_TCP_HDRS + 4];
	unsigned int off = g->p->dir == VG_ENCAP ? VG_OUTER : 0;
	unsigned int need = off + (g->p->tcp ? VG_TCP_HDRS : VG_UDP_HDRS + 4);
	const uint8_t *f;
	const struct rte_ether_hdr *ieth;
	const struct rte_ipv4_hdr *iip;
	uint32_t seq, len = rte_pktmbuf_pkt_len(m);
	int32_t diff;

	if (len < need || (f = rte_pktmbuf_read(m, 0, need, buf)) == NULL)
		return false;
	if (off > 0) {
		const struct rte_ipv4_hdr *ip = (const struct rte_ipv4_hdr *)(f + 14);
		const struct rte_udp_hdr *udp = (const struct rte_udp_hdr *)(ip + 1);
		const uint8_t *vx = (const uint8_t *)(udp + 1);

		if (f[12] != 0x08 || f[13] != 0x00 || ip->version_ihl != RTE_IPV4_VHL_DEF ||
		    ip->next_proto_id != IPPROTO_UDP ||
		    memcmp(&ip->dst_addr, g->o.remote_ip, 4) != 0 ||
		    memcmp(&ip->src_addr, g->o.local_ip, 4) != 0 ||
		    udp->dst_port != rte_cpu_to_be_16(g->o.udp_port) ||
		    !(vx[0] & 0x08) ||
		    ((uint32_t)vx[4] << 16 | (uint32_t)vx[5] << 8 | vx[6]) != g->o.vni ||
		    memcmp(f, g->wire_mac.addr_bytes, 6) != 0)
			return false;
	}
	ieth = (const struct rte_ether_hdr *)(f + off);
	iip = (const struct rte_ipv4_hdr *)(ieth + 1);
	if (ieth->ether_type != rte_cpu_to_be_16(RTE_ETHER_TYPE_IPV4) ||
	    iip->version_ihl != RTE_IPV4_VHL_DEF)
		return false;
	if (g->p->dir == VG_ENCAP) {
		if (!rte_is_same_ether_addr(&ieth->dst_addr, &g->o.remote_mac) ||
		    !rte_is_same_ether_addr(&ieth->src_addr, &g->o.vm_mac))
			return false;
	} else if (!rte_is_same_ether_addr(&ieth->dst_addr, &g->o.vm_mac) ||
		   !rte_is_same_ether_addr(&ieth->src_addr, &g->o.remote_mac)) {
		return false;
	}
	if (g->p->tcp) {
		const struct rte_tcp_hdr *tcp = (const struct rte_tcp_hdr *)(iip + 1);

		if (iip->next_proto_id != IPPROTO_TCP || tcp->dst_port != rte_cpu_to_be_16(5201))
			return false;
		seq = rte_be_to_cpu_32(tcp->sent_seq);
		*units = rte_be_to_cpu_16(iip->total_length) - 40u;
		/* One segment in 16: its TCP checksum, which the switch may
		 * have left to its NIC (this side's rte_vhost completes it
		 * on receipt, as a NIC's peer would get it right). */
		if ((g->c.rx_frames & 15) == 0) {
			uint32_t l4 = off + 14 + 20, sum;
			uint16_t raw;

			if (len < l4 + *units + 20 ||
			    rte_raw_cksum_mbuf(m, l4, *units + 20, &raw) != 0)
				return false;
			sum = (uint32_t)raw + rte_ipv4_phdr_cksum(iip, 0);
			sum = (sum & 0xffff) + (sum >> 16);
			sum = (sum & 0xffff) + (sum >> 16);
			if (sum != 0xffff)
				return false;
		}
	} else {
		uint32_t s;

		if (iip->next_proto_id != IPPROTO_UDP)
			return false;
		memcpy(&s, f + off + VG_UDP_HDRS, 4);
		seq = rte_be_to_cpu_32(s);
		*units = 1;
	}
	diff = (int32_t)(seq - g->expect);
	*gap = diff > 0 ? (uint64_t)diff : 0;
	if (diff >= 0)
		g->expect = seq + *units;
	g->c.inner_bytes += len - off;
	g->c.payload_bytes += g->p->tcp ? *units : len - off - VG_UDP_HDRS;
	return true;
}

/* Poll both ports once: the far side counted, ARP answered, strays
 * dropped.  true: something came. */
static bool
vg_poll(struct vg *g, uint64_t now, uint64_t *last_rx)
{
	struct rte_mbuf *rx[VG_BURST];
	bool work = false;
	uint16_t n;

	n = rte_eth_rx_burst(g->rx_port, 0, rx, VG_BURST);
	for (uint16_t i = 0; i < n; i++) {
		uint64_t gap = 0;
		uint32_t units = 0;

		if (g->rx_port == g->wire && vg_arp(g, rx[i]))
			continue;
		if (!vg_rx_one(g, rx[i], &gap, &units)) {
			g->c.bad++;
			continue;
		}
		g->c.rx_frames++;
		g->c.rx_bytes += rte_pktmbuf_pkt_len(rx[i]);
		if (gap > 0) {
			/* a hole in the sequence: dropped on the way */
			g->c.lost += gap;
			g->outstanding -= RTE_MIN(g->outstanding, gap);
		}
		g->outstanding -= RTE_MIN(g->outstanding, (uint64_t)units);
	}
	if (n > 0) {
		rte_pktmbuf_free_bulk(rx, n);
		*last_rx = now;
		work = true;
	}
	/* the sending side: ARP on the wire; nothing else is expected */
	n = rte_eth_rx_burst(g->tx_port, 0, rx, VG_BURST);
	for (uint16_t i = 0; i < n; i++)
		if (!(g->tx_port == g->wire && vg_arp(g, rx[i])))
			g->c.stray++;
	if (n > 0) {
		rte_pktmbuf_free_bulk(rx, n);
		work = true;
	}
	return work;
}

/* --- a phase ----------------------------------------------------------- */

static void
vg_result(const char *phase, const char *key, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static void
vg_result(const char *phase, const char *key, const char *fmt, ...)
{
	va_list ap;

	printf("result %s %s ", phase, key);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
}

static void
vg_drain(struct vg *g, double secs)
{
	uint64_t hz = rte_get_tsc_hz(), end = rte_rdtsc() + (uint64_t)(secs * (double)hz);
	uint64_t last = 0;

	while (rte_rdtsc() < end)
		vg_poll(g, rte_rdtsc(), &last);
}

/*
 * A phase's own pool of frames: the ports may still hold mbufs of the
 * phase before (a virtio tx ring reclaims lazily), which must not come
 * back with that phase's frame in them.
 */
static struct rte_mempool *
vg_pool(const struct vg_phase *p)
{
	char name[RTE_MEMPOOL_NAMESIZE];
	struct rte_mempool *mp;

	if (snprintf(name, sizeof(name), "vg_%s", p->name) >= (int)sizeof(name))
		return NULL;
	mp = rte_mempool_lookup(name);
	if (mp != NULL)
		return mp;
	return rte_pktmbuf_pool_create(name, 4095, VG_BURST, 0, VG_ROOM, (int)rte_socket_id());
}

/* 0: frames moved in the window. */
static int
vg_phase_run(struct vg *g, const struct vg_phase *p)
{
	struct rte_mbuf *pend[VG_BURST];
	unsigned int n_pend = 0;
	uint64_t hz = rte_get_tsc_hz(), now, t0, t_win, t_end, last_rx, deadline;
	struct vg_counts w0;
	bool in_window = false;
	int rc;

	g->p = p;
	memset(&g->c, 0, sizeof(g->c));
	g->seq = 1;
	g->expect = 1;
	g->ip_id = 0;
	g->outstanding = 0;
	if (p->dir == VG_ENCAP) {
		g->tx_port = g->vm;
		g->rx_port = g->wire;
	} else {
		g->tx_port = g->wire;
		g->rx_port = g->vm;
	}
	if (p->tcp) {
		unsigned int ip_len = g->tso_super ? g->o.tso_size : g->o.mss + 40;

		g->tx_pool = g->tso_super ? g->pool_tso : vg_pool(p);
		g->frame_len = RTE_ETHER_HDR_LEN + ip_len;
		g->payload = ip_len - 40;
		/* the same payload bytes in every frame, as their window */
		g->win_units = (uint64_t)g->o.tso_window * (g->o.tso_size - 40);
	} else {
		g->tx_pool = vg_pool(p);
		g->frame_len = p->size + (p->dir == VG_DECAP ? VG_OUTER : 0);
		g->payload = 1;
		g->win_units = g->o.window;
	}
	if (g->tx_pool == NULL) {
		fprintf(stderr, "vxlan-gen: %s: mbuf pool: %s\n", p->name, rte_strerror(rte_errno));
		return -ENOMEM;
	}
	rc = vg_prefill(g);
	if (rc != 0) {
		fprintf(stderr, "vxlan-gen: %s: cannot prefill its pool: %s\n", p->name,
			strerror(-rc));
		return rc;
	}
	if (p->tcp && !g->tso_super) {
		struct rte_mbuf *m = rte_pktmbuf_alloc(g->tx_pool);

		if (m == NULL)
			return -ENOBUFS;
		g->tcp_payload_sum = rte_raw_cksum(rte_pktmbuf_mtod(m, uint8_t *) + VG_TCP_HDRS,
						   g->payload);
		rte_pktmbuf_free(m);
	}

	/* prime: one frame every VG_PRIME_MS until one arrives */
	printf("phase prime %s\n", p->name);
	fflush(stdout);
	last_rx = 0;
	deadline = rte_rdtsc() + (uint64_t)g->o.prime_timeout_s * hz;
	for (uint64_t next = 0; g->c.rx_frames == 0;) {
		now = rte_rdtsc();
		if (now >= deadline) {
			printf("phase fail %s\n", p->name);
			fflush(stdout);
			fprintf(stderr, "vxlan-gen: %s: nothing arrived in %u s of priming "
				"(bad %" PRIu64 ", stray %" PRIu64 ", arp replies %" PRIu64 ")\n",
				p->name, g->o.prime_timeout_s, g->c.bad, g->c.stray,
				g->c.arp_replies);
			vg_drain(g, g->o.gap_s);
			return -ETIMEDOUT;
		}
		if (now >= next) {
			struct rte_mbuf *m = rte_pktmbuf_alloc(g->tx_pool);

			if (m != NULL) {
				vg_stamp(g, m);
				if (rte_eth_tx_burst(g->tx_port, 0, &m, 1) == 1)
					g->c.tx_frames++;
				else
					rte_pktmbuf_free(m);
			}
			next = now + hz / 1000 * VG_PRIME_MS;
		}
		vg_poll(g, now, &last_rx);
	}
	/* what the priming lost is not the window's: restart the count of
	 * what is outstanding from what arrives next */
	vg_drain(g, 0.1);
	g->outstanding = 0;

	memset(&w0, 0, sizeof(w0));
	now = rte_rdtsc();
	last_rx = now;
	t_win = now + (uint64_t)(g->o.warmup_s * (double)hz);
	t_end = t_win + (uint64_t)(g->o.duration_s * (double)hz);
	while (now < t_end) {
		bool work;

		t0 = now;
		work = vg_poll(g, now, &last_rx);
		while (n_pend < VG_BURST &&
		       g->outstanding + (uint64_t)(n_pend + 1) * g->payload <= g->win_units) {
			struct rte_mbuf *m = rte_pktmbuf_alloc(g->tx_pool);

			if (m == NULL)
				break;
			vg_stamp(g, m);
			pend[n_pend++] = m;
		}
		if (n_pend > 0) {
			uint16_t done = rte_eth_tx_burst(g->tx_port, 0, pend, (uint16_t)n_pend);

			if (done > 0) {
				g->c.tx_frames += done;
				g->outstanding += (uint64_t)done * g->payload;
				n_pend -= done;
				memmove(pend, pend + done, n_pend * sizeof(pend[0]));
				work = true;
			}
		}
		now = rte_rdtsc();
		/* a full window and silence for VG_LOSS_S: written off */
		if (g->outstanding + g->payload > g->win_units && now - last_rx > VG_LOSS_S * hz) {
			g->c.lost += g->outstanding;
			g->outstanding = 0;
			last_rx = now;
		}
		if (work)
			g->c.busy_cycles += now - t0;
		if (!in_window && now >= t_win) {
			w0 = g->c;
			t_win = now;
			in_window = true;
			printf("phase window %s\n", p->name);
			fflush(stdout);
		}
	}
	printf("phase done %s\n", p->name);
	fflush(stdout);
	/* frames not sent yet are not the window's */
	rte_pktmbuf_free_bulk(pend, n_pend);
	{
		double secs = (double)(now - t_win) / (double)hz;
		uint64_t rxf = g->c.rx_frames - w0.rx_frames, rxb = g->c.rx_bytes - w0.rx_bytes;
		uint64_t pay = g->c.payload_bytes - w0.payload_bytes;
		const char *n = p->name;

		vg_result(n, "window_s", "%.3f", secs);
		vg_result(n, "frame_len", "%u", g->frame_len);
		if (p->tcp)
			vg_result(n, "tso", "%s", g->tso_super ? "super" : "plain");
		vg_result(n, "rx_frames", "%" PRIu64, rxf);
		vg_result(n, "rx_bytes", "%" PRIu64, rxb);
		vg_result(n, "inner_bytes", "%" PRIu64, g->c.inner_bytes - w0.inner_bytes);
		vg_result(n, "payload_bytes", "%" PRIu64, pay);
		vg_result(n, "tx_frames", "%" PRIu64, g->c.tx_frames - w0.tx_frames);
		vg_result(n, "lost", "%" PRIu64, g->c.lost - w0.lost);
		vg_result(n, "bad", "%" PRIu64, g->c.bad - w0.bad);
		vg_result(n, "stray", "%" PRIu64, g->c.stray - w0.stray);
		vg_result(n, "arp_replies", "%" PRIu64, g->c.arp_replies);
		vg_result(n, "mpps", "%.4f", (double)rxf / secs / 1e6);
		vg_result(n, "gbps", "%.3f", (double)rxb * 8 / secs / 1e9);
		vg_result(n, "payload_gbps", "%.3f", (double)pay * 8 / secs / 1e9);
		vg_result(n, "gen_busy_pct", "%.1f",
			  100.0 * (double)(g->c.busy_cycles - w0.busy_cycles) / (double)(now - t_win));
		fflush(stdout);
		vg_drain(g, g->o.gap_s);
		return rxf > 0 ? 0 : -ENODATA;
	}
}

int
main(int argc, char **argv)
{
	static struct vg g;
	struct rte_eth_dev_info info;
	bool any_tso = false;
	uint16_t port;
	int ret, rc = 0;

	ret = rte_eal_init(argc, argv);
	if (ret < 0) {
		fprintf(stderr, "vxlan-gen: EAL init failed\n");
		return 2;
	}
	argc -= ret;
	argv += ret;
	if (vg_parse(argc, argv, &g.o) != 0) {
		vg_usage();
		rc = 2;
		goto out_eal;
	}
	for (unsigned int i = 0; i < g.o.n_ph; i++)
		any_tso |= g.o.ph[i].tcp;

	g.pool_rx = rte_pktmbuf_pool_create("vg_rx", 16383, 256, 0, VG_ROOM, (int)rte_socket_id());
	g.pool_ctl = rte_pktmbuf_pool_create("vg_ctl", 255, 0, 0, RTE_MBUF_DEFAULT_BUF_SIZE,
					     (int)rte_socket_id());
	if (any_tso)
		g.pool_tso = rte_pktmbuf_pool_create("vg_tso", VG_RING + 64 + 4 * VG_BURST, VG_BURST,
						     0, VG_TSO_ROOM, (int)rte_socket_id());
	if (g.pool_rx == NULL || g.pool_ctl == NULL ||
	    (any_tso && g.pool_tso == NULL)) {
		fprintf(stderr, "vxlan-gen: mbuf pools: %s\n", rte_strerror(rte_errno));
		rc = 2;
		goto out_eal;
	}

	/* The wire first: its socket is there before the switch starts. */
	ret = vg_probe(g.o.wire_args, &g.wire);
	if (ret == 0)
		ret = vg_port_start(g.wire, g.pool_rx, 0);
	if (ret != 0) {
		fprintf(stderr, "vxlan-gen: wire device \"%s\": %s\n", g.o.wire_args, strerror(-ret));
		rc = 2;
		goto out_eal;
	}
	rte_eth_macaddr_get(g.wire, &g.wire_mac);
	printf("wire ready\n");
	fflush(stdout);
	/* server=1: returns once the switch has connected */
	ret = vg_probe(g.o.vm_args, &g.vm);
	if (ret == 0)
		ret = vg_port_start(g.vm, g.pool_rx,
				    g.o.tso_mode == VG_TSO_PLAIN ? 0 :
				    RTE_ETH_TX_OFFLOAD_TCP_TSO | RTE_ETH_TX_OFFLOAD_TCP_CKSUM);
	if (ret != 0) {
		fprintf(stderr, "vxlan-gen: VM device \"%s\": %s\n", g.o.vm_args, strerror(-ret));
		rc = 2;
		goto out_ports;
	}
	printf("vm ready\n");
	fflush(stdout);
	if (tool_links_wait(g.o.link_timeout_s) != 0) {
		fprintf(stderr, "vxlan-gen: links not up after %u s\n", g.o.link_timeout_s);
		rc = 2;
		goto out_ports;
	}
	rte_delay_ms(VG_SETTLE_MS);
	if (rte_eth_dev_info_get(g.vm, &info) == 0) {
		const uint64_t need = RTE_ETH_TX_OFFLOAD_TCP_TSO | RTE_ETH_TX_OFFLOAD_TCP_CKSUM;

		/* once connected, the capabilities are what the switch offers */
		printf("vm_tx_offload_capa 0x%" PRIx64 "\n", info.tx_offload_capa);
		g.tso_super = g.o.tso_mode == VG_TSO_SUPER ||
			      (g.o.tso_mode == VG_TSO_AUTO && (info.tx_offload_capa & need) == need);
	}
	printf("wire_mac " RTE_ETHER_ADDR_PRT_FMT "\n", RTE_ETHER_ADDR_BYTES(&g.wire_mac));
	printf("tsc_hz %" PRIu64 "\n", rte_get_tsc_hz());
	fflush(stdout);

	for (unsigned int i = 0; i < g.o.n_ph; i++)
		if (vg_phase_run(&g, &g.o.ph[i]) != 0)
			rc = 1;
	printf("all done\n");
	fflush(stdout);

out_ports:
	RTE_ETH_FOREACH_DEV(port) {
		rte_eth_dev_stop(port);
		rte_eth_dev_close(port);
	}
out_eal:
	rte_eal_cleanup();
	return rc;
}
