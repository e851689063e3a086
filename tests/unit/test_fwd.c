/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The forwarding decision and drop accounting, on a fake port map:
 *
 *          up0 (uplink, port 0)
 *           |
 *   vm1 (1) + vm2 (2) behind up0,   vm3 (3) local only (no uplink)
 *
 * all in network 0; in network 1 ("blue"), behind up0 too: vm4 (4) and
 * vm5 (5), which has vm1's MAC.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "dataplane/dp_drop.h"
#include "dataplane/fdb.h"
#include "dataplane/fwd.h"

#define UP0 0
#define VM1 1
#define VM2 2
#define VM3 3
#define VM4 4
#define VM5 5
#define N_PORTS 6
#define ALL_UP UINT64_C(0x3f)

static const uint8_t mac_vm1[6] = { 0x52, 0x54, 0, 0, 1, 1 };
static const uint8_t mac_vm2[6] = { 0x52, 0x54, 0, 0, 2, 1 };
static const uint8_t mac_vm3[6] = { 0x52, 0x54, 0, 0, 3, 1 };
static const uint8_t mac_vm4[6] = { 0x52, 0x54, 0, 0, 4, 1 };
static const uint8_t mac_out[6] = { 0x02, 0xaa, 0, 0, 0, 9 };   /* outside */
static const uint8_t mac_unk[6] = { 0x02, 0xbb, 0, 0, 0, 7 };
static const uint8_t mac_bcast[6] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };
static const uint8_t mac_mcast[6] = { 0x01, 0x00, 0x5e, 0, 0, 1 };

static struct fwd_port ports[N_PORTS];
static struct fdb *fdb, *fdb_blue;
static struct fdb *fdbs[2];
static uint16_t cur_net;        /* the network of frames from up0 */
static uint16_t cur_type;       /* the frames' ethertype */
static uint64_t away;   /* the ctx's away set (ports 0..63) for decide() */

static int
setup(void **state)
{
	(void)state;
	memset(ports, 0, sizeof(ports));
	ports[UP0].is_uplink = true;
	ports[UP0].uplink = -1;
	memcpy(ports[VM1].mac, mac_vm1, 6);
	ports[VM1].uplink = UP0;
	memcpy(ports[VM2].mac, mac_vm2, 6);
	ports[VM2].uplink = UP0;
	memcpy(ports[VM3].mac, mac_vm3, 6);
	ports[VM3].uplink = -1;
	memcpy(ports[VM4].mac, mac_vm4, 6);
	ports[VM4].uplink = UP0;
	ports[VM4].net = 1;
	memcpy(ports[VM5].mac, mac_vm1, 6);
	ports[VM5].uplink = UP0;
	ports[VM5].net = 1;
	cur_net = 0;
	cur_type = 0;
	fdb = fdb_create(256);
	fdb_blue = fdb_create(256);
	if (fdb == NULL || fdb_blue == NULL)
		return -1;
	fdbs[0] = fdb;
	fdbs[1] = fdb_blue;
	fdb_add_static(fdb, mac_vm1, VM1);
	fdb_add_static(fdb, mac_vm2, VM2);
	fdb_add_static(fdb, mac_vm3, VM3);
	fdb_add_static(fdb_blue, mac_vm4, VM4);
	fdb_add_static(fdb_blue, mac_vm1, VM5);
	return 0;
}

static int
teardown(void **state)
{
	(void)state;
	fdb_destroy(fdb);
	fdb_destroy(fdb_blue);
	return 0;
}

static unsigned int
decide(uint16_t in, const uint8_t *dst, const uint8_t *src, uint32_t len,
       uint64_t up, uint16_t *dsts, enum dp_drop *why)
{
	uint8_t frame[64] = { 0 };
	struct portset a = { .w = { away } };
	struct fwd_ctx ctx = {
		.ports = ports, .n_ports = N_PORTS, .up = { .w = { up } },
		.fdbs = fdbs, .n_nets = 2, .now_s = 100, .away = &a,
	};

	memcpy(frame, dst, 6);
	memcpy(frame + 6, src, 6);
	frame[12] = cur_type >> 8;
	frame[13] = cur_type & 0xff;
	*why = DP_DROP_MAX;
	return fwd_decide(&ctx, in, cur_net, frame, len, dsts, why);
}

/* dsts as a bit set, for order-free comparison */
static uint64_t
set_of(const uint16_t *dsts, unsigned int n)
{
	uint64_t s = 0;

	for (unsigned int i = 0; i < n; i++) {
		assert_false(s & (UINT64_C(1) << dsts[i]));    /* no duplicates */
		s |= UINT64_C(1) << dsts[i];
	}
	return s;
}

struct fwd_case {
	const char *story;
	uint16_t in;
	const uint8_t *dst, *src;
	uint32_t len;
	uint64_t up;
	uint64_t want;          /* destination set, 0 for a drop */
	enum dp_drop why;       /* when dropped */
};

static void
run_cases(const struct fwd_case *cases, size_t n_cases)
{
	for (size_t i = 0; i < n_cases; i++) {
		const struct fwd_case *c = &cases[i];
		uint16_t dsts[FWD_PORTS_MAX];
		enum dp_drop why;
		unsigned int n;

		print_message("case: %s\n", c->story);
		n = decide(c->in, c->dst, c->src, c->len, c->up, dsts, &why);
		assert_int_equal(set_of(dsts, n), c->want);
		if (c->want == 0)
			assert_int_equal(why, c->why);
	}
}

static void
test_rules(void **state)
{
	const struct fwd_case cases[] = {
		{ "vm1 -> vm2, known unicast", VM1, mac_vm2, mac_vm1, 60, ALL_UP,
		  1u << VM2, 0 },
		{ "vm1 -> vm3 (local only) still reachable", VM1, mac_vm3, mac_vm1,
		  60, ALL_UP, 1u << VM3, 0 },
		{ "vm1 -> unknown goes to vm1's uplink", VM1, mac_unk, mac_vm1, 60,
		  ALL_UP, 1u << UP0, 0 },
		{ "vm3 -> unknown: no uplink", VM3, mac_unk, mac_vm3, 60, ALL_UP,
		  0, DP_DROP_UNKNOWN_DST },
		{ "vm1 broadcast: other VMs and its uplink", VM1, mac_bcast, mac_vm1,
		  60, ALL_UP, 1u << VM2 | 1u << VM3 | 1u << UP0, 0 },
		{ "vm3 broadcast: VMs only (no uplink of its own)", VM3, mac_bcast,
		  mac_vm3, 60, ALL_UP, 1u << VM1 | 1u << VM2, 0 },
		{ "vm1 multicast like broadcast", VM1, mac_mcast, mac_vm1, 60,
		  ALL_UP, 1u << VM2 | 1u << VM3 | 1u << UP0, 0 },
		{ "broadcast skips ports that are down", VM1, mac_bcast, mac_vm1, 60,
		  1u << VM1 | 1u << VM3, 1u << VM3, 0 },
		{ "broadcast with nobody else up", VM1, mac_bcast, mac_vm1, 60,
		  1u << VM1, 0, DP_DROP_NO_DEST },
		{ "uplink broadcast: every VM, never back out", UP0, mac_bcast,
		  mac_out, 60, ALL_UP, 1u << VM1 | 1u << VM2 | 1u << VM3, 0 },
		{ "uplink -> vm2", UP0, mac_vm2, mac_out, 60, ALL_UP, 1u << VM2, 0 },
		{ "uplink -> unknown is not flooded", UP0, mac_unk, mac_out, 60,
		  ALL_UP, 0, DP_DROP_UNKNOWN_DST },
		{ "unicast to a down port is still decided (egress counts it)",
		  VM1, mac_vm2, mac_vm1, 60, 1u << VM1, 1u << VM2, 0 },
		{ "guest sending to itself", VM1, mac_vm1, mac_vm1, 60, ALL_UP, 0,
		  DP_DROP_SAME_PORT },
		{ "uplink frame with a multicast source", UP0, mac_vm1, mac_mcast,
		  60, ALL_UP, 0, DP_DROP_SRC_MAC_INVALID },
		{ "13-byte runt from a guest", VM1, mac_vm2, mac_vm1, 13, ALL_UP, 0,
		  DP_DROP_RUNT },
		{ "0-byte frame", VM1, mac_vm2, mac_vm1, 0, ALL_UP, 0, DP_DROP_RUNT },
		{ "exactly a header is enough", VM1, mac_vm2, mac_vm1, 14, ALL_UP,
		  1u << VM2, 0 },
	};

	(void)state;
	run_cases(cases, sizeof(cases) / sizeof(cases[0]));
}

/* Co-residency: a VM that runs elsewhere is reached through the uplink. */
static void
test_away(void **state)
{
	const struct fwd_case cases[] = {
		{ "vm1 -> vm2 away: through vm1's uplink", VM1, mac_vm2, mac_vm1,
		  60, ALL_UP, 1u << UP0, 0 },
		{ "vm3 -> vm2 away: vm3 has no uplink", VM3, mac_vm2, mac_vm3, 60,
		  ALL_UP, 0, DP_DROP_VM_AWAY },
		{ "uplink -> vm2 away: not here, never back out", UP0, mac_vm2,
		  mac_out, 60, ALL_UP, 0, DP_DROP_VM_AWAY },
		{ "broadcast skips the away VM", VM1, mac_bcast, mac_vm1, 60,
		  ALL_UP, 1u << VM3 | 1u << UP0, 0 },
		{ "uplink broadcast skips it too", UP0, mac_bcast, mac_out, 60,
		  ALL_UP, 1u << VM1 | 1u << VM3, 0 },
		{ "vm1 -> vm3 (here) unaffected", VM1, mac_vm3, mac_vm1, 60, ALL_UP,
		  1u << VM3, 0 },
	};

	(void)state;
	away = 1u << VM2;
	run_cases(cases, sizeof(cases) / sizeof(cases[0]));
	/* back home: the same frame goes straight to it again */
	away = 0;
	{
		uint16_t dsts[FWD_PORTS_MAX];
		enum dp_drop why;

		assert_int_equal(decide(VM1, mac_vm2, mac_vm1, 60, ALL_UP, dsts,
					&why), 1);
		assert_int_equal(dsts[0], VM2);
	}
}

static void
test_learning_from_uplink(void **state)
{
	uint16_t dsts[FWD_PORTS_MAX];
	enum dp_drop why;

	(void)state;
	/* vm1 -> outside station: unknown, goes out the uplink */
	assert_int_equal(decide(VM1, mac_out, mac_vm1, 60, ALL_UP, dsts, &why), 1);
	assert_int_equal(dsts[0], UP0);
	/* the station answers: learned on up0 */
	assert_int_equal(decide(UP0, mac_vm1, mac_out, 60, ALL_UP, dsts, &why), 1);
	assert_int_equal(fdb_lookup(fdb, mac_out), UP0);
	/* vm3 (no uplink) now knows where it is: via up0 */
	assert_int_equal(decide(VM3, mac_out, mac_vm3, 60, ALL_UP, dsts, &why), 1);
	assert_int_equal(dsts[0], UP0);
	/* an outside frame claiming vm2's MAC does not steal it */
	decide(UP0, mac_vm1, mac_vm2, 60, ALL_UP, dsts, &why);
	assert_int_equal(fdb_lookup(fdb, mac_vm2), VM2);
	/* the station sending to itself through us */
	assert_int_equal(decide(UP0, mac_out, mac_out, 60, ALL_UP, dsts, &why), 0);
	assert_int_equal(why, DP_DROP_SAME_PORT);
}

static void
test_drop_names(void **state)
{
	(void)state;
	for (int r = 0; r < DP_DROP_MAX; r++) {
		assert_non_null(dp_drop_name(r));
		assert_true(strlen(dp_drop_name(r)) > 0);
		assert_non_null(dp_drop_help(r));
		for (int s = 0; s < r; s++)
			assert_string_not_equal(dp_drop_name(r), dp_drop_name(s));
	}
	assert_null(dp_drop_name(DP_DROP_MAX));
	assert_string_equal(dp_drop_name(DP_DROP_RUNT), "runt");
}

/*
 * Accounting as the worker does it: every received frame is staged for
 * its destinations or dropped with a reason at ingress; every staged copy
 * is sent or dropped with a reason at egress.  Over random traffic,
 * rx + flood copies == tx + drops, exactly.
 */
static void
test_conservation(void **state)
{
	const uint8_t *macs[] = { mac_vm1, mac_vm2, mac_vm3, mac_out, mac_bcast,
				  mac_mcast, mac_unk };   /* mac_unk: never a source */
	uint64_t rx = 0, copies = 0, tx = 0, drops[DP_DROP_MAX] = { 0 };
	uint64_t total_drops = 0;

	(void)state;
	srand(7);
	for (int i = 0; i < 100000; i++) {
		uint16_t in = (uint16_t)(rand() % 4), dsts[FWD_PORTS_MAX];
		const uint8_t *dst = macs[rand() % 7];
		const uint8_t *src = rand() % 4 ? (in == UP0 ? mac_out :
						   ports[in].mac) : macs[rand() % 6];
		uint64_t up = (uint64_t)(rand() % 16) | (UINT64_C(1) << in);
		uint32_t len = rand() % 50 ? 64 : (uint32_t)(rand() % 14);
		enum dp_drop why;
		unsigned int n = decide(in, dst, src, len, up, dsts, &why);

		rx++;
		if (n == 0) {
			assert_in_range(why, 0, DP_DROP_MAX - 1);
			drops[why]++;
			continue;
		}
		copies += n - 1;
		for (unsigned int d = 0; d < n; d++) {
			if (!(up & (UINT64_C(1) << dsts[d])))
				drops[DP_DROP_LINK_DOWN]++;
			else if (rand() % 100 == 0)
				drops[DP_DROP_TX_FULL]++;
			else
				tx++;
		}
	}
	for (int r = 0; r < DP_DROP_MAX; r++)
		total_drops += drops[r];
	assert_int_equal(rx + copies, tx + total_drops);
	/* the random mix reaches every ingress reason */
	assert_true(drops[DP_DROP_RUNT] > 0);
	assert_true(drops[DP_DROP_SRC_MAC_INVALID] > 0);
	assert_true(drops[DP_DROP_UNKNOWN_DST] > 0);
	assert_true(drops[DP_DROP_SAME_PORT] > 0);
	assert_true(drops[DP_DROP_LINK_DOWN] > 0);
}

/* Port ids past the first 64 (the sets are words of 64): a flood from
 * the last port reaches every other VM port that is up and here, whatever
 * word its bit is in, and unicast to a port past 64 that is away takes
 * the uplink. */
static void
test_many_ports(void **state)
{
	static struct fwd_port wide[FWD_PORTS_MAX];
	static const uint8_t mac_far[6] = { 0x52, 0x54, 0, 0, 0x7f, 1 };
	uint16_t n = FWD_PORTS_MAX, dsts[FWD_PORTS_MAX], last = n - 1;
	struct portset away_set = { 0 };
	struct fwd_ctx ctx = { .ports = wide, .n_ports = n, .fdbs = fdbs,
			       .n_nets = 1, .now_s = 100, .away = &away_set };
	uint8_t frame[64] = { 0 };
	enum dp_drop why = DP_DROP_MAX;
	unsigned int got;

	(void)state;
	assert_true(FWD_PORTS_MAX >= 1000);
	for (uint16_t p = 0; p < n; p++) {
		wide[p].uplink = 0;
		wide[p].mac[0] = 0x52;
		wide[p].mac[4] = (uint8_t)(p >> 8);
		wide[p].mac[5] = (uint8_t)p;
		if (p % 3 != 1)
			portset_add(&ctx.up, p);
	}
	wide[0].is_uplink = true;
	wide[0].uplink = -1;
	portset_add(&away_set, 130);
	portset_add(&away_set, 700);
	memset(frame, 0xff, 6);
	memcpy(frame + 6, wide[last].mac, 6);
	got = fwd_decide(&ctx, last, 0, frame, 60, dsts, &why);
	{
		struct portset seen = { 0 };
		unsigned int want = 0;

		for (unsigned int i = 0; i < got; i++) {
			assert_false(portset_has(&seen, dsts[i]));
			portset_add(&seen, dsts[i]);
		}
		for (uint16_t p = 0; p < n; p++) {
			bool dest = p != last && p % 3 != 1 && p != 130 && p != 700;

			assert_int_equal(portset_has(&seen, p), dest);
			want += dest;
		}
		assert_int_equal(got, want);
	}
	/* unicast to port 700 (away) from port 1000: through the uplink */
	assert_int_equal(fdb_add_static(fdb, mac_far, 700), 0);
	memcpy(frame, mac_far, 6);
	memcpy(frame + 6, wide[1000].mac, 6);
	assert_int_equal(fwd_decide(&ctx, 1000, 0, frame, 60, dsts, &why), 1);
	assert_int_equal(dsts[0], 0);
	portset_del(&away_set, 700);
	assert_int_equal(fwd_decide(&ctx, 1000, 0, frame, 60, dsts, &why), 1);
	assert_int_equal(dsts[0], 700);
}

/* Two networks on one uplink: nothing crosses, whatever the MACs. */
static void
test_networks(void **state)
{
	const struct fwd_case blue_cases[] = {
		{ "vm4 broadcast: blue's VMs and the uplink, not default's",
		  VM4, mac_bcast, mac_vm4, 60, ALL_UP, 1u << VM5 | 1u << UP0, 0 },
		{ "vm4 multicast likewise", VM4, mac_mcast, mac_vm4, 60, ALL_UP,
		  1u << VM5 | 1u << UP0, 0 },
		{ "vm4 -> vm1's MAC is vm5 in blue", VM4, mac_vm1, mac_vm4, 60,
		  ALL_UP, 1u << VM5, 0 },
		{ "vm4 -> vm2 (a default MAC) is unknown in blue: the uplink",
		  VM4, mac_vm2, mac_vm4, 60, ALL_UP, 1u << UP0, 0 },
		{ "vm5 (vm1's MAC) -> vm4", VM5, mac_vm4, mac_vm1, 60, ALL_UP,
		  1u << VM4, 0 },
		{ "vm1 -> vm4's MAC is unknown in default: the uplink", VM1,
		  mac_vm4, mac_vm1, 60, ALL_UP, 1u << UP0, 0 },
		{ "vm1 broadcast reaches no blue port", VM1, mac_bcast, mac_vm1,
		  60, ALL_UP, 1u << VM2 | 1u << VM3 | 1u << UP0, 0 },
		{ "blue broadcast with only blue's uplink up", VM4, mac_bcast,
		  mac_vm4, 60, 1u << UP0 | 1u << VM4, 1u << UP0, 0 },
	};
	const struct fwd_case from_uplink_blue[] = {
		{ "uplink (blue) broadcast: blue's VMs only", UP0, mac_bcast,
		  mac_out, 60, ALL_UP, 1u << VM4 | 1u << VM5, 0 },
		{ "uplink (blue) -> vm1's MAC is vm5", UP0, mac_vm1, mac_out, 60,
		  ALL_UP, 1u << VM5, 0 },
		{ "uplink (blue) -> vm2's MAC: unknown in blue", UP0, mac_vm2,
		  mac_out, 60, ALL_UP, 0, DP_DROP_UNKNOWN_DST },
	};
	const struct fwd_case from_uplink_none[] = {
		{ "uplink frame of no network", UP0, mac_bcast, mac_out, 60,
		  ALL_UP, 0, DP_DROP_VLAN_UNKNOWN },
	};
	const struct fwd_case guest_tag[] = {
		{ "guest-tagged frame", VM4, mac_bcast, mac_vm4, 60, ALL_UP, 0,
		  DP_DROP_GUEST_VLAN },
	};
	uint16_t dsts[FWD_PORTS_MAX];
	enum dp_drop why;

	(void)state;
	run_cases(blue_cases, sizeof(blue_cases) / sizeof(blue_cases[0]));
	cur_net = 1;
	run_cases(from_uplink_blue, sizeof(from_uplink_blue) /
				    sizeof(from_uplink_blue[0]));
	/* learnt in blue only: default's VMs still send it to the uplink */
	assert_int_equal(fdb_lookup(fdb_blue, mac_out), UP0);
	assert_int_equal(fdb_lookup(fdb, mac_out), -1);
	/* a VM port's frames are in its own network, whatever the caller says */
	assert_int_equal(decide(VM1, mac_bcast, mac_vm1, 60, ALL_UP, dsts, &why), 3);
	cur_net = 2;
	run_cases(from_uplink_none, 1);
	cur_net = 0;
	cur_type = 0x8100;
	run_cases(guest_tag, 1);
	cur_type = 0x88a8;
	run_cases(guest_tag, 1);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_rules, setup, teardown),
		cmocka_unit_test_setup_teardown(test_away, setup, teardown),
		cmocka_unit_test_setup_teardown(test_networks, setup, teardown),
		cmocka_unit_test_setup_teardown(test_many_ports, setup, teardown),
		cmocka_unit_test_setup_teardown(test_learning_from_uplink, setup,
						teardown),
		cmocka_unit_test(test_drop_names),
		cmocka_unit_test_setup_teardown(test_conservation, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
