/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Port security: every check and every allowed exception, on frames built
 * here.  The port: MAC 52:54:00:00:01:01, 10.0.0.11 and 2001:db8::11, and
 * one allowed pair (a VRRP-like virtual MAC 00:00:5e:00:01:07 with
 * 10.0.0.100).  Another VM: 52:54:00:00:02:01, 10.0.0.12, 2001:db8::12.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "config/cfg.h"
#include "dataplane/dp_drop.h"
#include "dataplane/psec.h"

static const uint8_t mac_me[6] = { 0x52, 0x54, 0, 0, 1, 1 };
static const uint8_t mac_vip[6] = { 0x00, 0x00, 0x5e, 0x00, 0x01, 0x07 };
static const uint8_t mac_other[6] = { 0x52, 0x54, 0, 0, 2, 1 };
static const uint8_t ip_me[4] = { 10, 0, 0, 11 };
static const uint8_t ip_vip[4] = { 10, 0, 0, 100 };
static const uint8_t ip_other[4] = { 10, 0, 0, 12 };
static const uint8_t ip_zero[4];
static const uint8_t ip6_me[16] = { 0x20, 0x01, 0x0d, 0xb8, [15] = 0x11 };
static const uint8_t ip6_other[16] = { 0x20, 0x01, 0x0d, 0xb8, [15] = 0x12 };
static const uint8_t ip6_zero[16];
static const uint8_t ip6_ll_me[16] = { 0xfe, 0x80, [8] = 0x50, 0x54, 0x00,
				       0xff, 0xfe, 0x00, 0x01, 0x01 };
static const uint8_t ip6_ll_other[16] = { 0xfe, 0x80, [8] = 0x50, 0x54, 0x00,
					  0xff, 0xfe, 0x00, 0x02, 0x01 };
static const uint8_t ip6_allnodes[16] = { 0xff, 0x02, [15] = 1 };
static const uint8_t ip6_snm[16] = { 0xff, 0x02, [11] = 1, 0xff, 0, 0, 0x11 };

static struct psec_port ps;

static void
port_default(bool with_ips)
{
	memset(&ps, 0, sizeof(ps));
	ps.on = true;
	ps.n_entries = 2;
	memcpy(ps.e[0].mac, mac_me, 6);
	memcpy(ps.e[1].mac, mac_vip, 6);
	if (with_ips) {
		ps.ip_restricted = true;
		memcpy(ps.e[0].ip4[0], ip_me, 4);
		ps.e[0].n_ip4 = 1;
		memcpy(ps.e[0].ip6[0], ip6_me, 16);
		ps.e[0].n_ip6 = 1;
		memcpy(ps.e[1].ip4[0], ip_vip, 4);
		ps.e[1].n_ip4 = 1;
	}
	psec_entry_derive(&ps.e[0]);
	psec_entry_derive(&ps.e[1]);
}

static int
setup(void **state)
{
	(void)state;
	port_default(true);
	return 0;
}

static uint32_t
eth(uint8_t *f, const uint8_t *src, uint16_t type)
{
	memset(f, 0xff, 6);
	memcpy(f + 6, src, 6);
	f[12] = type >> 8;
	f[13] = type & 0xff;
	return 14;
}

static uint32_t
arp(uint8_t *f, const uint8_t *src, const uint8_t *sha, const uint8_t *spa)
{
	static const uint8_t hdr[8] = { 0, 1, 8, 0, 6, 4, 0, 1 };
	uint32_t n = eth(f, src, 0x0806);

	memcpy(f + n, hdr, 8);
	memcpy(f + n + 8, sha, 6);
	memcpy(f + n + 14, spa, 4);
	memset(f + n + 18, 0, 6);
	memcpy(f + n + 24, ip_other, 4);
	return n + 28;
}

static uint32_t
udp4(uint8_t *f, const uint8_t *src, const uint8_t *sip, uint16_t sport,
     uint16_t dport)
{
	uint32_t n = eth(f, src, 0x0800);

	memset(f + n, 0, 28);
	f[n] = 0x45;
	f[n + 3] = 28;
	f[n + 8] = 64;
	f[n + 9] = 17;
	memcpy(f + n + 12, sip, 4);
	memset(f + n + 16, 0xff, 4);
	f[n + 20] = sport >> 8;
	f[n + 21] = sport & 0xff;
	f[n + 22] = dport >> 8;
	f[n + 23] = dport & 0xff;
	return n + 28;
}

/* IPv6 + ICMPv6 (type, 20 bytes of body: NS/NA target at +4) or UDP. */
static uint32_t
ip6(uint8_t *f, const uint8_t *src, const uint8_t *sip, const uint8_t *dip,
    uint8_t nh, uint16_t plen)
{
	uint32_t n = eth(f, src, 0x86dd);

	memset(f + n, 0, 40);
	f[n] = 0x60;
	f[n + 4] = plen >> 8;
	f[n + 5] = plen & 0xff;
	f[n + 6] = nh;
	f[n + 7] = 255;
	memcpy(f + n + 8, sip, 16);
	memcpy(f + n + 24, dip, 16);
	return n + 40;
}

static uint32_t
nd(uint8_t *f, const uint8_t *src, const uint8_t *sip, uint8_t type,
   const uint8_t *target, uint8_t opt, const uint8_t *ll)
{
	uint32_t n = ip6(f, src, sip, ip6_allnodes, 58, ll ? 32 : 24);

	memset(f + n, 0, 24);
	f[n] = type;
	memcpy(f + n + 8, target, 16);
	n += 24;
	if (ll != NULL) {
		f[n] = opt;
		f[n + 1] = 1;
		memcpy(f + n + 2, ll, 6);
		n += 8;
	}
	return n;
}

static int
check(const uint8_t *f, uint32_t len)
{
	return psec_check(&ps, f, len, len);
}

static void
test_mac(void **state)
{
	uint8_t f[128];

	(void)state;
	assert_int_equal(check(f, udp4(f, mac_me, ip_me, 1000, 2000)), PSEC_PASS);
	assert_int_equal(check(f, udp4(f, mac_other, ip_me, 1000, 2000)),
			 DP_DROP_SRC_MAC_MISMATCH);
	/* the allowed pair: its MAC with its IP, not with the port's */
	assert_int_equal(check(f, udp4(f, mac_vip, ip_vip, 1000, 2000)), PSEC_PASS);
	assert_int_equal(check(f, udp4(f, mac_vip, ip_me, 1000, 2000)),
			 DP_DROP_IP_SPOOF);
	/* any other ethertype passes once the MAC does; RARP included */
	assert_int_equal(check(f, eth(f, mac_me, 0x8035) + 28), PSEC_PASS);
	assert_int_equal(check(f, 10), DP_DROP_RUNT);
	/* off: anything */
	ps.on = false;
	assert_int_equal(check(f, udp4(f, mac_other, ip_other, 67, 68)), PSEC_PASS);
}

static void
test_ip4(void **state)
{
	uint8_t f[128];

	(void)state;
	assert_int_equal(check(f, udp4(f, mac_me, ip_other, 1, 2)), DP_DROP_IP_SPOOF);
	/* 0.0.0.0 only from a DHCP client */
	assert_int_equal(check(f, udp4(f, mac_me, ip_zero, 68, 67)), PSEC_PASS);
	assert_int_equal(check(f, udp4(f, mac_me, ip_zero, 68, 68)), DP_DROP_IP_SPOOF);
	/* a DHCP server: refused unless allowed */
	assert_int_equal(check(f, udp4(f, mac_me, ip_me, 67, 68)), DP_DROP_DHCP_SERVER);
	ps.allow_dhcp_server = true;
	assert_int_equal(check(f, udp4(f, mac_me, ip_me, 67, 68)), PSEC_PASS);
	/* a port without addresses: any source, but still no DHCP server */
	port_default(false);
	assert_int_equal(check(f, udp4(f, mac_me, ip_other, 1, 2)), PSEC_PASS);
	assert_int_equal(check(f, udp4(f, mac_me, ip_other, 67, 68)), DP_DROP_DHCP_SERVER);
}

static void
test_ip4_cut(void **state)
{
	uint8_t f[128];
	uint32_t n = udp4(f, mac_me, ip_me, 67, 68);

	(void)state;
	/* header cut short; a bad IHL; fewer bytes at hand than needed */
	assert_int_equal(check(f, 14 + 10), DP_DROP_HEADER_CUT);
	f[14] = 0x44;
	assert_int_equal(check(f, n), DP_DROP_HEADER_CUT);
	f[14] = 0x45;
	assert_int_equal(psec_check(&ps, f, 30, n), PSEC_MORE);
	/* a later fragment has no UDP header: only its source is checked */
	f[20] = 0x00;
	f[21] = 0x10;
	assert_int_equal(check(f, n), PSEC_PASS);
}

static void
test_arp(void **state)
{
	uint8_t f[128];

	(void)state;
	assert_int_equal(check(f, arp(f, mac_me, mac_me, ip_me)), PSEC_PASS);
	/* a probe (RFC 5227) */
	assert_int_equal(check(f, arp(f, mac_me, mac_me, ip_zero)), PSEC_PASS);
	/* gratuitous ARP claiming another VM's IP */
	assert_int_equal(check(f, arp(f, mac_me, mac_me, ip_other)), DP_DROP_ARP_SPOOF);
	/* sender MAC not the frame's */
	assert_int_equal(check(f, arp(f, mac_me, mac_other, ip_me)), DP_DROP_ARP_SPOOF);
	/* the allowed pair announces its own IP */
	assert_int_equal(check(f, arp(f, mac_vip, mac_vip, ip_vip)), PSEC_PASS);
	assert_int_equal(check(f, arp(f, mac_vip, mac_vip, ip_me)), DP_DROP_ARP_SPOOF);
	/* cut short; not Ethernet/IPv4 */
	assert_int_equal(check(f, arp(f, mac_me, mac_me, ip_me) - 1), DP_DROP_HEADER_CUT);
	f[19] = 16;
	assert_int_equal(check(f, 42), DP_DROP_HEADER_CUT);
	/* no addresses: any sender IP, but still the sender MAC */
	port_default(false);
	assert_int_equal(check(f, arp(f, mac_me, mac_me, ip_other)), PSEC_PASS);
	assert_int_equal(check(f, arp(f, mac_me, mac_other, ip_other)), DP_DROP_ARP_SPOOF);
}

static void
test_ip6(void **state)
{
	uint8_t f[160];
	uint32_t n;

	(void)state;
	n = ip6(f, mac_me, ip6_me, ip6_other, 17, 8);
	memset(f + n, 0, 8);
	assert_int_equal(check(f, n + 8), PSEC_PASS);
	n = ip6(f, mac_me, ip6_other, ip6_me, 17, 8);
	assert_int_equal(check(f, n + 8), DP_DROP_IP_SPOOF);
	/* the link-local from the port's MAC; not another's */
	n = ip6(f, mac_me, ip6_ll_me, ip6_other, 17, 8);
	assert_int_equal(check(f, n + 8), PSEC_PASS);
	n = ip6(f, mac_me, ip6_ll_other, ip6_other, 17, 8);
	assert_int_equal(check(f, n + 8), DP_DROP_IP_SPOOF);
	/* :: only as ICMPv6 to a link-scope group (DAD) */
	n = nd(f, mac_me, ip6_zero, 135, ip6_me, 0, NULL);
	memcpy(f + 14 + 24, ip6_snm, 16);
	assert_int_equal(check(f, n), PSEC_PASS);
	n = ip6(f, mac_me, ip6_zero, ip6_other, 17, 8);
	assert_int_equal(check(f, n + 8), DP_DROP_IP_SPOOF);
	/* DHCPv6 server */
	n = ip6(f, mac_me, ip6_ll_me, ip6_allnodes, 17, 8);
	memset(f + n, 0, 8);
	f[n] = 547 >> 8;
	f[n + 1] = 547 & 0xff;
	assert_int_equal(check(f, n + 8), DP_DROP_DHCP_SERVER);
	ps.allow_dhcp_server = true;
	assert_int_equal(check(f, n + 8), PSEC_PASS);
}

static void
test_ra(void **state)
{
	uint8_t f[160];
	uint32_t n = ip6(f, mac_me, ip6_ll_me, ip6_allnodes, 58, 16);

	(void)state;
	memset(f + n, 0, 16);
	f[n] = 134;
	assert_int_equal(check(f, n + 16), DP_DROP_ROUTER_ADVERT);
	/* hidden behind a hop-by-hop and a destination options header */
	n = ip6(f, mac_me, ip6_ll_me, ip6_allnodes, 0, 8 + 8 + 16);
	memset(f + n, 0, 32);
	f[n] = 60;
	f[n + 8] = 58;
	f[n + 16] = 134;
	assert_int_equal(check(f, n + 32), DP_DROP_ROUTER_ADVERT);
	/* an extension chain longer than the frame */
	f[n + 9] = 200;
	assert_int_equal(check(f, n + 32), DP_DROP_HEADER_CUT);
	/* allowed */
	f[n + 9] = 0;
	ps.allow_ra = true;
	assert_int_equal(check(f, n + 32), PSEC_PASS);
}

static void
test_nd(void **state)
{
	uint8_t f[160];
	uint32_t n;

	(void)state;
	/* NA for its own address with its own MAC */
	n = nd(f, mac_me, ip6_me, 136, ip6_me, 2, mac_me);
	assert_int_equal(check(f, n), PSEC_PASS);
	/* NA for another VM's address */
	n = nd(f, mac_me, ip6_me, 136, ip6_other, 2, mac_me);
	assert_int_equal(check(f, n), DP_DROP_ND_SPOOF);
	/* NA whose target link-layer address is another's MAC */
	n = nd(f, mac_me, ip6_me, 136, ip6_me, 2, mac_other);
	assert_int_equal(check(f, n), DP_DROP_ND_SPOOF);
	/* NS for another's address is a question: fine, with its own SLLA */
	n = nd(f, mac_me, ip6_me, 135, ip6_other, 1, mac_me);
	assert_int_equal(check(f, n), PSEC_PASS);
	n = nd(f, mac_me, ip6_me, 135, ip6_other, 1, mac_other);
	assert_int_equal(check(f, n), DP_DROP_ND_SPOOF);
	/* fewer bytes at hand than the options need */
	assert_int_equal(psec_check(&ps, f, 64, n), PSEC_MORE);
	/* a zero-length option */
	f[n - 7] = 0;
	assert_int_equal(check(f, n), DP_DROP_HEADER_CUT);
	/* no addresses: the target is not checked, the options still are */
	port_default(false);
	n = nd(f, mac_me, ip6_ll_me, 136, ip6_other, 2, mac_me);
	assert_int_equal(check(f, n), PSEC_PASS);
	n = nd(f, mac_me, ip6_ll_me, 136, ip6_other, 2, mac_other);
	assert_int_equal(check(f, n), DP_DROP_ND_SPOOF);
}

/* From the config: the own MAC with its ip:, allowed pairs as entries,
 * an allowed ip without mac on the own MAC. */
static void
test_build(void **state)
{
	struct cfg_port pc = { .port_security = true, .allow_ra = true };
	uint8_t f[128];

	(void)state;
	memcpy(pc.mac, mac_me, 6);
	pc.ips[0] = (struct cfg_ip){ .family = 4, .prefix = 24 };
	memcpy(pc.ips[0].addr, ip_me, 4);
	pc.ips[1] = (struct cfg_ip){ .family = 6, .prefix = 64 };
	memcpy(pc.ips[1].addr, ip6_me, 16);
	pc.n_ips = 2;
	pc.allowed[0] = (struct cfg_allowed){ .has_mac = true, .has_ip = true,
					      .ip = { .family = 4 } };
	memcpy(pc.allowed[0].mac, mac_vip, 6);
	memcpy(pc.allowed[0].ip.addr, ip_vip, 4);
	pc.allowed[1] = (struct cfg_allowed){ .has_ip = true,
					      .ip = { .family = 4 } };
	memcpy(pc.allowed[1].ip.addr, ip_other, 4);
	pc.n_allowed = 2;
	psec_build(&ps, &pc);
	assert_true(ps.on && ps.ip_restricted && ps.allow_ra);
	assert_false(ps.allow_dhcp_server);
	assert_int_equal(ps.n_entries, 2);
	assert_int_equal(ps.e[0].n_ip4, 2);
	assert_int_equal(ps.e[0].n_ip6, 1);
	assert_memory_equal(ps.e[0].ll6, ip6_ll_me, 16);
	assert_int_equal(check(f, udp4(f, mac_me, ip_other, 1, 2)), PSEC_PASS);
	assert_int_equal(check(f, udp4(f, mac_vip, ip_vip, 1, 2)), PSEC_PASS);
	assert_int_equal(check(f, udp4(f, mac_vip, ip_other, 1, 2)), DP_DROP_IP_SPOOF);
	/* no address anywhere: not IP-restricted */
	memset(&pc, 0, sizeof(pc));
	pc.port_security = true;
	memcpy(pc.mac, mac_me, 6);
	psec_build(&ps, &pc);
	assert_false(ps.ip_restricted);
	assert_int_equal(check(f, udp4(f, mac_me, ip_other, 1, 2)), PSEC_PASS);
	pc.port_security = false;
	psec_build(&ps, &pc);
	assert_int_equal(check(f, udp4(f, mac_other, ip_other, 67, 68)), PSEC_PASS);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup(test_mac, setup),
		cmocka_unit_test_setup(test_ip4, setup),
		cmocka_unit_test_setup(test_ip4_cut, setup),
		cmocka_unit_test_setup(test_arp, setup),
		cmocka_unit_test_setup(test_ip6, setup),
		cmocka_unit_test_setup(test_ra, setup),
		cmocka_unit_test_setup(test_nd, setup),
		cmocka_unit_test_setup(test_build, setup),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
