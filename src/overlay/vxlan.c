/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * VXLAN over IPv4 (RFC 7348) and the tunnel endpoint's ARP, as pure
 * functions of bytes: the encapsulation header writer and its UDP source
 * port hash for the transmit side, the classifier that decides whether an
 * uplink frame is ours for the receive side.  dataplane/dp_overlay.c calls
 * them on mbuf data; ovl_table.c says where a MAC lives.
 */
#include "vxlan.h"

#include <errno.h>
#include <string.h>

#define ETH_LEN 14
#define IP4_LEN 20
#define UDP_LEN 8
#define VXH_LEN 8
#define ETHERTYPE_IPV4 0x0800
#define ETHERTYPE_ARP 0x0806
#define ETHERTYPE_IPV6 0x86dd
#define ETHERTYPE_VLAN 0x8100
#define ETHERTYPE_QINQ 0x88a8
#define IPPROTO_TCP_ 6
#define IPPROTO_UDP_ 17
#define IP4_DF 0x4000
#define IP4_MF 0x2000
#define IP4_OFFSET 0x1fff
#define VXLAN_FLAG_I 0x08

/* Where the inner frame starts: the only outer layout we accept. */
#define INNER_OFF (ETH_LEN + IP4_LEN + UDP_LEN + VXH_LEN)
_Static_assert(INNER_OFF == VXLAN_OUTER_LEN, "outer layout");
_Static_assert(IP4_LEN + UDP_LEN + VXH_LEN == VXLAN_IP_OVER, "outer layout");

static const char *const vxlan_drop_names[] = {
#define VXLAN_DROP_NAME(sym, name, help) [VXLAN_DROP_##sym] = name,
	VXLAN_DROPS(VXLAN_DROP_NAME)
#undef VXLAN_DROP_NAME
};

static const char *const vxlan_drop_helps[] = {
#define VXLAN_DROP_HELP(sym, name, help) [VXLAN_DROP_##sym] = help,
	VXLAN_DROPS(VXLAN_DROP_HELP)
#undef VXLAN_DROP_HELP
};

const char *
vxlan_drop_name(enum vxlan_drop d)
{
	return (unsigned int)d < VXLAN_DROP_MAX ? vxlan_drop_names[d] : NULL;
}

const char *
vxlan_drop_help(enum vxlan_drop d)
{
	return (unsigned int)d < VXLAN_DROP_MAX ? vxlan_drop_helps[d] : NULL;
}

static uint16_t
get16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static void
put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static bool
mac_is_group(const uint8_t mac[6])
{
	return mac[0] & 1;
}

static bool
mac_is_zero(const uint8_t mac[6])
{
	return (mac[0] | mac[1] | mac[2] | mac[3] | mac[4] | mac[5]) == 0;
}

/* A sum of 16-bit words folded to 16 bits with end-around carry. */
static uint16_t
fold(uint32_t sum)
{
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)sum;
}

/* The one's complement sum of len (even) bytes, folded (RFC 1071). */
static uint16_t
csum_fold(const uint8_t *p, uint32_t len)
{
	uint32_t sum = 0;

	for (uint32_t i = 0; i + 1 < len; i += 2)
		sum += get16(p + i);
	return fold(sum);
}

/*
 * Source port: the flow's fields loaded as words, each multiplied by its
 * own odd constant (independent multiplies, not a byte-serial chain),
 * summed, then murmur3's 64-bit finaliser so that the 14 bits kept
 * depend on every input bit.
 */
static uint64_t
load64(const uint8_t *p)
{
	uint64_t v;

	memcpy(&v, p, sizeof(v));
	return v;
}

static uint64_t
mix64(uint64_t h)
{
	h ^= h >> 33;
	h *= 0xff51afd7ed558ccdull;
	h ^= h >> 33;
	h *= 0xc4ceb9fe1a85ec53ull;
	h ^= h >> 33;
	return h;
}

/*
 * RFC 7348 5: the inner Ethernet header, and for IPv4/IPv6 the addresses
 * and for TCP/UDP the ports.  The ports of an IPv4 fragment are left out
 * (only the first fragment has them) so all fragments of a datagram take
 * one path; IPv6 extension headers are not walked (then: addresses only).
 * A VLAN-tagged inner frame hashes on its Ethernet header alone.
 */
uint16_t
vxlan_src_port(const uint8_t *inner, uint32_t len)
{
	uint64_t h, a, b;
	uint32_t l4 = 0, ports;
	uint8_t proto = 0;

	/* Loaded from the frame itself: loads from a copy just made would
	 * wait for the stores ahead of them. */
	if (len >= ETH_LEN) {
		a = load64(inner);
		b = load64(inner + ETH_LEN - 8);
	} else {
		uint8_t eth[16] = { 0 };

		memcpy(eth, inner, len);
		a = load64(eth);
		b = load64(eth + ETH_LEN - 8) + len;
	}
	h = a * 0x9e3779b97f4a7c15ull + b * 0xc2b2ae3d27d4eb4full;
	if (len >= ETH_LEN + IP4_LEN &&
	    get16(inner + 12) == ETHERTYPE_IPV4 && inner[ETH_LEN] >> 4 == 4) {
		const uint8_t *ip = inner + ETH_LEN;
		uint32_t ihl = (ip[0] & 0xfu) * 4;

		h += load64(ip + 12) * 0x165667b19e3779f9ull;
		if (ihl >= IP4_LEN && (get16(ip + 6) & (IP4_MF | IP4_OFFSET)) == 0) {
			proto = ip[9];
			l4 = ETH_LEN + ihl;
		}
	} else if (len >= ETH_LEN + 40 &&
		   get16(inner + 12) == ETHERTYPE_IPV6 && inner[ETH_LEN] >> 4 == 6) {
		const uint8_t *ip = inner + ETH_LEN;

		h += load64(ip + 8) * 0x165667b19e3779f9ull +
		     load64(ip + 16) * 0x27d4eb2f165667c5ull +
		     load64(ip + 24) * 0x85ebca77c2b2ae63ull +
		     load64(ip + 32) * 0xd6e8feb86659fd93ull;
		proto = ip[6];
		l4 = ETH_LEN + 40;
	}
	if ((proto == IPPROTO_TCP_ || proto == IPPROTO_UDP_) && l4 + 4 <= len) {
		memcpy(&ports, inner + l4, sizeof(ports));
		h += ((uint64_t)proto << 32 | ports) * 0x94d049bb133111ebull;
	}
	/* 49152..65535: the dynamic range RFC 7348 5 recommends */
	return (uint16_t)(0xc000u | mix64(h) >> 50);
}

int
vxlan_encap(uint8_t out[VXLAN_OUTER_LEN], const struct vxlan_tun *t,
	    uint16_t src_port, uint32_t inner_len)
{
	uint8_t *ip = out + ETH_LEN;
	uint8_t *udp = ip + IP4_LEN;
	uint8_t *vxh = udp + UDP_LEN;
	uint16_t ip_len = (uint16_t)(IP4_LEN + UDP_LEN + VXH_LEN + inner_len);
	uint32_t sum;

	if (t->vni > VXLAN_VNI_MAX)
		return -EINVAL;
	if (inner_len > 0xffffu - IP4_LEN - UDP_LEN - VXH_LEN)
		return -EMSGSIZE;

	/* The IPv4 checksum from the values rather than from the header:
	 * out is usually an mbuf's cold headroom, and reading back what was
	 * just stored there waits for every store ahead of it. */
	sum = 0x4500u + ip_len + IP4_DF + (VXLAN_TTL << 8 | IPPROTO_UDP_) +
	      get16(t->src_ip) + get16(t->src_ip + 2) +
	      get16(t->dst_ip) + get16(t->dst_ip + 2);

	memcpy(out, t->dst_mac, 6);
	memcpy(out + 6, t->src_mac, 6);
	put16(out + 12, ETHERTYPE_IPV4);

	ip[0] = 0x45;
	ip[1] = 0;
	put16(ip + 2, ip_len);
	/* id 0 is fine for an atomic datagram (RFC 6864 4.1): DF is set, a
	 * VTEP's datagrams are never fragmented, the path MTU must fit. */
	put16(ip + 4, 0);
	put16(ip + 6, IP4_DF);
	ip[8] = VXLAN_TTL;
	ip[9] = IPPROTO_UDP_;
	put16(ip + 10, (uint16_t)~fold(sum));
	memcpy(ip + 12, t->src_ip, 4);
	memcpy(ip + 16, t->dst_ip, 4);

	put16(udp, src_port);
	put16(udp + 2, t->dst_port);
	put16(udp + 4, (uint16_t)(UDP_LEN + VXH_LEN + inner_len));
	put16(udp + 6, 0);      /* RFC 7348 5: zero over IPv4 */

	vxh[0] = VXLAN_FLAG_I;
	vxh[1] = vxh[2] = vxh[3] = 0;
	vxh[4] = (uint8_t)(t->vni >> 16);
	vxh[5] = (uint8_t)(t->vni >> 8);
	vxh[6] = (uint8_t)t->vni;
	vxh[7] = 0;
	return 0;
}

static enum vxlan_rx_kind
refuse(enum vxlan_drop *drop, enum vxlan_drop why)
{
	*drop = why;
	return VXLAN_RX_DROP;
}

/*
 * What is ours: IPv4 to local_ip, protocol UDP, and the UDP destination
 * port is `port` -- or that port cannot be read: a non-first fragment has
 * no UDP header, an IHL below 5 puts it nowhere, a frame cut short lost
 * it.  Those are claimed and refused: VTEPs send with DF and do not
 * reassemble, so a UDP fragment to one is VXLAN gone wrong or an attack.
 * A readable port that is not ours leaves the frame to the switch, even
 * when the datagram has options or is a first fragment.
 *
 * The order of the checks decides which reason a frame with several faults
 * is counted under: the IPv4 header's own length, its checksum, fragment,
 * options, then the lengths it and UDP claim, VXLAN, the inner header.
 */
enum vxlan_rx_kind
vxlan_decap(const uint8_t *frame, uint32_t avail, uint32_t total,
	    const uint8_t local_ip[4], uint16_t port, struct vxlan_rx *rx,
	    enum vxlan_drop *drop)
{
	const uint8_t *ip = frame + ETH_LEN;
	const uint8_t *udp = ip + IP4_LEN;
	const uint8_t *vxh = udp + UDP_LEN;
	const uint8_t *inner = frame + INNER_OFF;
	uint32_t ihl, ip_len, udp_len, inner_len;
	uint16_t frag;

	/* A caller that says more is contiguous than the frame holds: never
	 * read beyond either. */
	if (avail > total)
		avail = total;

	/* Too short to carry an IPv4 header to anyone: the switch's runt. */
	if (total < ETH_LEN + IP4_LEN)
		return VXLAN_RX_NOT_MINE;
	/* Headers cut across segments cannot be classified; letting them
	 * through could hand the switch a frame that was ours. */
	if (avail < ETH_LEN)
		return refuse(drop, VXLAN_DROP_OUTER_TRUNC);
	if (get16(frame + 12) != ETHERTYPE_IPV4)
		return VXLAN_RX_NOT_MINE;
	if (avail < ETH_LEN + IP4_LEN)
		return refuse(drop, VXLAN_DROP_OUTER_TRUNC);
	if (ip[0] >> 4 != 4 || ip[9] != IPPROTO_UDP_ ||
	    memcmp(ip + 16, local_ip, 4) != 0)
		return VXLAN_RX_NOT_MINE;

	ihl = (ip[0] & 0xfu) * 4;
	frag = get16(ip + 6);
	if (ihl >= IP4_LEN && (frag & IP4_OFFSET) == 0 &&
	    ETH_LEN + ihl + 4 <= avail &&
	    get16(frame + ETH_LEN + ihl + 2) != port)
		return VXLAN_RX_NOT_MINE;

	/* From here on the frame is addressed to the VTEP. */
	if (ihl < IP4_LEN || ETH_LEN + ihl > avail)
		return refuse(drop, VXLAN_DROP_OUTER_TRUNC);
	if (csum_fold(ip, ihl) != 0xffff)
		return refuse(drop, VXLAN_DROP_OUTER_CSUM);
	if (frag & (IP4_MF | IP4_OFFSET))
		return refuse(drop, VXLAN_DROP_OUTER_FRAGMENT);
	if (ihl != IP4_LEN)
		return refuse(drop, VXLAN_DROP_OUTER_OPTIONS);

	/* The lies: an IPv4 length beyond the frame (what follows it within
	 * the frame is Ethernet padding, cut), a UDP length beyond the IPv4
	 * payload or too short for UDP and VXLAN headers. */
	ip_len = get16(ip + 2);
	if (ip_len > total - ETH_LEN || ip_len < IP4_LEN + UDP_LEN)
		return refuse(drop, VXLAN_DROP_OUTER_TRUNC);
	if (avail < ETH_LEN + IP4_LEN + UDP_LEN)
		return refuse(drop, VXLAN_DROP_OUTER_TRUNC);
	udp_len = get16(udp + 4);
	if (udp_len > ip_len - IP4_LEN || udp_len < UDP_LEN + VXH_LEN)
		return refuse(drop, VXLAN_DROP_OUTER_TRUNC);
	if (avail < INNER_OFF)
		return refuse(drop, VXLAN_DROP_OUTER_TRUNC);

	/* RFC 7348 5: the I flag must be set; the reserved bits are ignored
	 * on receive. */
	if (!(vxh[0] & VXLAN_FLAG_I))
		return refuse(drop, VXLAN_DROP_VXLAN_FLAGS);

	inner_len = udp_len - UDP_LEN - VXH_LEN;
	if (inner_len < ETH_LEN || avail < INNER_OFF + ETH_LEN)
		return refuse(drop, VXLAN_DROP_INNER_RUNT);
	/* The VNI is the network: a tag inside would be a second, unchecked
	 * one the guest never configured. */
	if (get16(inner + 12) == ETHERTYPE_VLAN ||
	    get16(inner + 12) == ETHERTYPE_QINQ)
		return refuse(drop, VXLAN_DROP_INNER_VLAN);
	/* A group or zero source would poison the MAC table. */
	if (mac_is_group(inner + 6) || mac_is_zero(inner + 6))
		return refuse(drop, VXLAN_DROP_INNER_SRC);

	rx->vni = (uint32_t)vxh[4] << 16 | (uint32_t)vxh[5] << 8 | vxh[6];
	memcpy(rx->src_ip, ip + 12, 4);
	rx->inner_off = INNER_OFF;
	rx->inner_len = inner_len;
	return VXLAN_RX_OK;
}

bool
vxlan_arp_parse(const uint8_t *frame, uint32_t len, struct vxlan_arp *a)
{
	static const uint8_t eth_ip4[6] = { 0, 1, 8, 0, 6, 4 };
	const uint8_t *arp = frame + ETH_LEN;
	uint16_t op;

	if (len < VXLAN_ARP_LEN || get16(frame + 12) != ETHERTYPE_ARP ||
	    memcmp(arp, eth_ip4, sizeof(eth_ip4)) != 0)
		return false;
	op = get16(arp + 6);
	if (op != 1 && op != 2)
		return false;
	/* A group or zero sender would be learnt as a neighbour. */
	if (mac_is_group(arp + 8) || mac_is_zero(arp + 8))
		return false;
	a->op = op;
	memcpy(a->sha, arp + 8, 6);
	memcpy(a->spa, arp + 14, 4);
	memcpy(a->tha, arp + 18, 6);
	memcpy(a->tpa, arp + 24, 4);
	return true;
}

void
vxlan_arp_build(uint8_t out[VXLAN_ARP_LEN], const uint8_t dst_mac[6],
		const uint8_t src_mac[6], const struct vxlan_arp *a)
{
	static const uint8_t eth_ip4[6] = { 0, 1, 8, 0, 6, 4 };
	uint8_t *arp = out + ETH_LEN;

	memcpy(out, dst_mac, 6);
	memcpy(out + 6, src_mac, 6);
	put16(out + 12, ETHERTYPE_ARP);
	memcpy(arp, eth_ip4, sizeof(eth_ip4));
	put16(arp + 6, a->op);
	memcpy(arp + 8, a->sha, 6);
	memcpy(arp + 14, a->spa, 4);
	memcpy(arp + 18, a->tha, 6);
	memcpy(arp + 24, a->tpa, 4);
}
