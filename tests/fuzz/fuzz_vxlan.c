/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The overlay's receive side (vxlan_decap, vxlan_arp_parse) on any frame.
 * Input: 2 bytes saying how many of the frame's bytes are contiguous
 * (avail; the rest is "in later segments"), then the frame.
 *
 * Invariant: no crash, no read past avail (the frame is copied to a
 * buffer of exactly avail bytes); an OK answer describes an inner frame
 * inside the frame (at least an Ethernet header, contiguous) with a
 * 24-bit VNI, the same answer as with the whole frame contiguous, and
 * the inner frame re-encapsulated by vxlan_encap decapsulates to the same
 * VNI, source and length; the UDP source port hash is in 49152..65535;
 * an ARP frame that parses, rebuilt by vxlan_arp_build, parses the same.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "overlay/vxlan.h"
#include "fuzz.h"

static const uint8_t local_ip[4] = { 192, 0, 2, 1 };
#define PORT VXLAN_PORT_DEFAULT

static void
check_reencap(const uint8_t *frame, const struct vxlan_rx *rx)
{
	struct vxlan_tun t = {
		.src_mac = { 0x02, 0, 0, 0, 0, 1 },
		.dst_mac = { 0x02, 0, 0, 0, 0, 2 },
		.dst_port = PORT,
		.vni = rx->vni,
	};
	uint8_t *buf = malloc(VXLAN_OUTER_LEN + rx->inner_len);
	enum vxlan_drop drop;
	struct vxlan_rx again;
	uint16_t sport;

	FUZZ_CHECK(buf != NULL);
	memcpy(t.src_ip, rx->src_ip, 4);
	memcpy(t.dst_ip, local_ip, 4);
	memcpy(buf + VXLAN_OUTER_LEN, frame + rx->inner_off, rx->inner_len);
	sport = vxlan_src_port(buf + VXLAN_OUTER_LEN, rx->inner_len);
	FUZZ_CHECK(sport >= 49152);
	FUZZ_CHECK(vxlan_encap(buf, &t, sport, rx->inner_len) == 0);
	FUZZ_CHECK(vxlan_decap(buf, VXLAN_OUTER_LEN + rx->inner_len,
			       VXLAN_OUTER_LEN + rx->inner_len, local_ip, PORT,
			       &again, &drop) == VXLAN_RX_OK);
	FUZZ_CHECK(again.vni == rx->vni && again.inner_off == VXLAN_OUTER_LEN &&
		   again.inner_len == rx->inner_len &&
		   memcmp(again.src_ip, rx->src_ip, 4) == 0);
	free(buf);
}

static void
check_arp(const uint8_t *frame, uint32_t len)
{
	struct vxlan_arp a, b;
	uint8_t out[VXLAN_ARP_LEN];

	if (!vxlan_arp_parse(frame, len, &a))
		return;
	FUZZ_CHECK(a.op == 1 || a.op == 2);
	FUZZ_CHECK((a.sha[0] & 1) == 0);
	vxlan_arp_build(out, frame, frame + 6, &a);
	FUZZ_CHECK(vxlan_arp_parse(out, sizeof(out), &b));
	FUZZ_CHECK(memcmp(&a, &b, sizeof(a)) == 0);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct vxlan_rx rx, whole_rx;
	enum vxlan_drop drop = VXLAN_DROP_MAX, whole_drop;
	enum vxlan_rx_kind k, whole;
	uint32_t total, avail;
	uint8_t *frame;

	if (size < 2 || size - 2 > 65535 + 14)
		return 0;
	memset(&rx, 0, sizeof(rx));     /* padding too: compared whole */
	memset(&whole_rx, 0, sizeof(whole_rx));
	total = (uint32_t)(size - 2);
	avail = total - (((uint32_t)data[0] | (uint32_t)data[1] << 8) % (total + 1));
	/* Exactly the contiguous bytes: reading past them is an ASan report. */
	frame = malloc(avail != 0 ? avail : 1);
	FUZZ_CHECK(frame != NULL);
	memcpy(frame, data + 2, avail);
	k = vxlan_decap(frame, avail, total, local_ip, PORT, &rx, &drop);
	FUZZ_CHECK(k == VXLAN_RX_NOT_MINE || k == VXLAN_RX_OK || k == VXLAN_RX_DROP);
	if (k == VXLAN_RX_DROP)
		FUZZ_CHECK(drop < VXLAN_DROP_MAX && vxlan_drop_name(drop) != NULL);
	if (k == VXLAN_RX_OK) {
		FUZZ_CHECK(rx.vni <= VXLAN_VNI_MAX);
		FUZZ_CHECK(rx.inner_off >= VXLAN_OUTER_LEN);
		FUZZ_CHECK(rx.inner_len >= 14);
		FUZZ_CHECK((uint64_t)rx.inner_off + rx.inner_len <= total);
		FUZZ_CHECK((uint32_t)rx.inner_off + 14 <= avail);
		whole = vxlan_decap(data + 2, total, total, local_ip, PORT,
				    &whole_rx, &whole_drop);
		FUZZ_CHECK(whole == VXLAN_RX_OK &&
			   memcmp(&whole_rx, &rx, sizeof(rx)) == 0);
		if (avail == total)
			check_reencap(frame, &rx);
	}
	check_arp(frame, avail);
	free(frame);
	return 0;
}
