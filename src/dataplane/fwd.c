/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The per-frame layer-2 decision (rules in fwd.h).  Kept free of mbufs so
 * that every rule, and every drop reason it can return, has a unit test.
 */
#include "fwd.h"

#include <string.h>

#include "fdb.h"

#define ETH_HDR_LEN 14

static bool
mac_is_group(const uint8_t *mac)
{
	return (mac[0] & 0x01) != 0;
}

static bool
mac_is_zero(const uint8_t *mac)
{
	static const uint8_t zero[6];

	return memcmp(mac, zero, 6) == 0;
}

static unsigned int
fwd_flood(const struct fwd_ctx *ctx, uint16_t in_port, uint16_t net,
	  uint16_t *dsts)
{
	const struct fwd_port *in = &ctx->ports[in_port];
	unsigned int n = 0;

	for (uint16_t p = 0; p < ctx->n_ports; p++) {
		const struct fwd_port *out = &ctx->ports[p];

		if (p == in_port || !portset_has(&ctx->up, p) ||
		    portset_has(ctx->away, p) ||
		    (!out->is_uplink && out->net != net))
			continue;
		/* Split horizon: frames from an uplink go to VMs only, and
		 * a VM reaches the outside through its own uplink only. */
		if (out->is_uplink && (in->is_uplink || in->uplink != p))
			continue;
		dsts[n++] = p;
	}
	return n;
}

unsigned int
fwd_decide(const struct fwd_ctx *ctx, uint16_t in_port, uint16_t net,
	   const uint8_t *frame, uint32_t len, uint16_t *dsts,
	   enum dp_drop *reason)
{
	const struct fwd_port *in = &ctx->ports[in_port];
	const uint8_t *dst, *src;
	struct fdb *fdb;
	unsigned int n;
	int out;

	if (len < ETH_HDR_LEN) {
		*reason = DP_DROP_RUNT;
		return 0;
	}
	dst = frame;
	src = frame + 6;
	if (!in->is_uplink)
		net = in->net;
	if (net >= ctx->n_nets) {
		*reason = DP_DROP_VLAN_UNKNOWN;
		return 0;
	}
	fdb = ctx->fdbs[net];

	if (in->is_uplink) {
		if (mac_is_group(src) || mac_is_zero(src)) {
			*reason = DP_DROP_SRC_MAC_INVALID;
			return 0;
		}
		/* -EPERM (an outside station claims a VM's MAC) and -ENOSPC
		 * leave the table as it is; the frame is still forwarded. */
		(void)fdb_learn(fdb, src, in_port, ctx->now_s);
	} else {
		uint16_t type = (uint16_t)(frame[12] << 8 | frame[13]);

		if (type == 0x8100 || type == 0x88a8) {
			*reason = DP_DROP_GUEST_VLAN;
			return 0;
		}
	}

	if (mac_is_group(dst)) {
		n = fwd_flood(ctx, in_port, net, dsts);
		if (n == 0)
			*reason = DP_DROP_NO_DEST;
		return n;
	}

	out = fdb_lookup(fdb, dst);
	if (out >= 0 && out < ctx->n_ports &&
	    portset_has(ctx->away, (uint16_t)out)) {
		/* The VM behind this MAC runs elsewhere now: the outside
		 * network knows where; what came from outside has nowhere
		 * to go. */
		if (in->is_uplink || in->uplink < 0) {
			*reason = DP_DROP_VM_AWAY;
			return 0;
		}
		out = -1;
	}
	if (out < 0 || out >= ctx->n_ports) {
		if (in->is_uplink || in->uplink < 0) {
			*reason = DP_DROP_UNKNOWN_DST;
			return 0;
		}
		out = in->uplink;
	}
	/* Split horizon again: what came from outside never goes back out,
	 * whether through the same uplink or another. */
	if (out == in_port || (in->is_uplink && ctx->ports[out].is_uplink)) {
		*reason = DP_DROP_SAME_PORT;
		return 0;
	}
	dsts[0] = (uint16_t)out;
	return 1;
}
