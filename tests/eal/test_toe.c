/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The TOE offload layer on a real EAL and real mbufs: three groups
 * (validation of hostile guest metadata, segmentation and checksum
 * completion, GRO), each test with a fresh toe_ctx and a check that every
 * mbuf went back to the pool.  EAL runs in memory, without hugepages or
 * PCI, on lcore 0.  (--no-shconf rather than --in-memory: DPDK 22.11 makes
 * --no-huge imply --legacy-mem, which it refuses with --in-memory.)
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <rte_eal.h>
#include <rte_lcore.h>
#include <rte_mbuf.h>
#include <rte_mempool.h>

#include "toe_frames.h"
#include "toe_stack/toe_offload.h"

#define POOL_MBUFS 8191

struct toe_test toe_t;

extern const struct CMUnitTest toe_validate_tests[];
extern const size_t toe_validate_tests_n;
extern const struct CMUnitTest toe_gso_tests[];
extern const size_t toe_gso_tests_n;
extern const struct CMUnitTest toe_gro_tests[];
extern const size_t toe_gro_tests_n;
extern const struct CMUnitTest toe_tunnel_tests[];
extern const size_t toe_tunnel_tests_n;

static int
group_setup(void **state)
{
	static char args[][32] = {
		"test_toe", "--no-huge", "-m", "256", "--no-pci", "--no-shconf",
		"--file-prefix=toetest", "-l", "0",
	};
	static bool eal_up;
	char *argv[RTE_DIM(args)];

	(void)state;
	for (size_t i = 0; i < RTE_DIM(args); i++)
		argv[i] = args[i];
	if (!eal_up) {
		if (rte_eal_init((int)RTE_DIM(argv), argv) < 0)
			return -1;
		eal_up = true;
	}
	toe_t.pool = rte_pktmbuf_pool_create("toe_test", POOL_MBUFS, 0, 0,
					     RTE_MBUF_DEFAULT_BUF_SIZE,
					     (int)rte_socket_id());
	toe_t.guest = rte_pktmbuf_pool_create("toe_guest", POOL_MBUFS, 0, 0,
					      RTE_MBUF_DEFAULT_BUF_SIZE,
					      (int)rte_socket_id());
	return toe_t.pool != NULL && toe_t.guest != NULL ? 0 : -1;
}

static int
group_teardown(void **state)
{
	(void)state;
	rte_mempool_free(toe_t.pool);
	tf_pool_unpoison(toe_t.guest);
	rte_mempool_free(toe_t.guest);
	toe_t.pool = NULL;
	toe_t.guest = NULL;
	return 0;
}

/* What the pool held when the test started: a test that fails leaks what
 * it held, and the next one should not fail for it. */
static unsigned int pool_avail, guest_avail;

int
toe_test_setup(void **state)
{
	(void)state;
	pool_avail = rte_mempool_avail_count(toe_t.pool);
	guest_avail = rte_mempool_avail_count(toe_t.guest);
	toe_t.ctx = toe_ctx_create(toe_t.pool, (int)rte_socket_id());
	return toe_t.ctx != NULL ? 0 : -1;
}

int
toe_test_teardown(void **state)
{
	(void)state;
	toe_ctx_destroy(toe_t.ctx);
	toe_t.ctx = NULL;
	/* Every test frees what it was handed: no mbuf may be left out. */
	assert_int_equal(rte_mempool_avail_count(toe_t.pool), pool_avail);
	assert_int_equal(rte_mempool_avail_count(toe_t.guest), guest_avail);
	return 0;
}

int
main(void)
{
	int failed = 0;

	failed += _cmocka_run_group_tests("toe_validate", toe_validate_tests,
					  toe_validate_tests_n, group_setup,
					  group_teardown);
	failed += _cmocka_run_group_tests("toe_gso", toe_gso_tests,
					  toe_gso_tests_n, group_setup,
					  group_teardown);
	failed += _cmocka_run_group_tests("toe_gro", toe_gro_tests,
					  toe_gro_tests_n, group_setup,
					  group_teardown);
	failed += _cmocka_run_group_tests("toe_tunnel", toe_tunnel_tests,
					  toe_tunnel_tests_n, group_setup,
					  group_teardown);
	rte_eal_cleanup();
	return failed;
}
