/* SPDX-License-Identifier: BSD-3-Clause */
/* MAC table: static entries, learning, moves, ageing on an injected clock,
 * full buckets, and learners racing the ager on real threads. */
#include <errno.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "dataplane/fdb.h"

static void
mac_of(uint32_t i, uint8_t mac[6])
{
	mac[0] = 0x02;  /* locally administered unicast */
	mac[1] = 0x00;
	mac[2] = (i >> 24) & 0xff;
	mac[3] = (i >> 16) & 0xff;
	mac[4] = (i >> 8) & 0xff;
	mac[5] = i & 0xff;
}

static void
test_static_entries(void **state)
{
	struct fdb *fdb = fdb_create(64);
	uint8_t a[6], b[6];

	(void)state;
	assert_non_null(fdb);
	mac_of(1, a);
	mac_of(2, b);
	assert_int_equal(fdb_lookup(fdb, a), -1);
	assert_int_equal(fdb_add_static(fdb, a, 3), 0);
	assert_int_equal(fdb_lookup(fdb, a), 3);
	assert_int_equal(fdb_lookup(fdb, b), -1);
	assert_int_equal(fdb_add_static(fdb, a, 4), -EEXIST);
	/* a learned frame never overrides the port map */
	assert_int_equal(fdb_learn(fdb, a, 7, 10), -EPERM);
	assert_int_equal(fdb_lookup(fdb, a), 3);
	/* static entries never age */
	assert_int_equal(fdb_age(fdb, 1000000, 1), 0);
	assert_int_equal(fdb_lookup(fdb, a), 3);
	assert_int_equal(fdb_add_static(fdb, b, FDB_PORT_MAX), -EINVAL);
	/* A removed port's entry goes; only that port's. */
	assert_int_equal(fdb_del_static(fdb, a, 4), -ENOENT);
	assert_int_equal(fdb_lookup(fdb, a), 3);
	assert_int_equal(fdb_del_static(fdb, a, 3), 0);
	assert_int_equal(fdb_lookup(fdb, a), -1);
	assert_int_equal(fdb_del_static(fdb, a, 3), -ENOENT);
	/* The MAC can be learned, or be another port's, afterwards. */
	assert_int_equal(fdb_learn(fdb, a, 7, 10), 1);
	assert_int_equal(fdb_lookup(fdb, a), 7);
	assert_int_equal(fdb_add_static(fdb, a, 5), 0);
	assert_int_equal(fdb_lookup(fdb, a), 5);
	fdb_destroy(fdb);
	fdb_destroy(NULL);
}

static void
test_learn_refresh_move(void **state)
{
	struct fdb *fdb = fdb_create(64);
	uint8_t a[6];

	(void)state;
	mac_of(42, a);
	assert_int_equal(fdb_learn(fdb, a, 0, 100), 1);        /* learned */
	assert_int_equal(fdb_lookup(fdb, a), 0);
	assert_int_equal(fdb_learn(fdb, a, 0, 150), 0);        /* refreshed */
	assert_int_equal(fdb_learn(fdb, a, 1, 160), 1);        /* moved */
	assert_int_equal(fdb_lookup(fdb, a), 1);
	fdb_destroy(fdb);
}

static void
test_ageing(void **state)
{
	struct fdb *fdb = fdb_create(64);
	uint8_t old[6], fresh[6], refreshed[6];

	(void)state;
	mac_of(1, old);
	mac_of(2, fresh);
	mac_of(3, refreshed);
	fdb_learn(fdb, old, 0, 1000);
	fdb_learn(fdb, refreshed, 0, 1000);
	fdb_learn(fdb, fresh, 0, 1250);
	fdb_learn(fdb, refreshed, 0, 1290);
	/* 300 whole seconds after the old one's stamp: still there (its
	 * frame may have come at 1000.999, less than 300 s ago) */
	assert_int_equal(fdb_age(fdb, 1300, 300), 0);
	assert_int_equal(fdb_lookup(fdb, old), 0);
	/* 301: surely 300 s of silence, gone; the others stay */
	assert_int_equal(fdb_age(fdb, 1301, 300), 1);
	assert_int_equal(fdb_lookup(fdb, old), -1);
	assert_int_equal(fdb_lookup(fdb, fresh), 0);
	assert_int_equal(fdb_lookup(fdb, refreshed), 0);
	/* the clock wrapping around does not age everything at once */
	fdb_learn(fdb, old, 0, UINT32_MAX - 5);
	assert_int_equal(fdb_age(fdb, 10, 300), 2);     /* fresh, refreshed */
	assert_int_equal(fdb_lookup(fdb, old), 0);
	fdb_destroy(fdb);
}

static void
test_bucket_full_and_flush(void **state)
{
	struct fdb *fdb = fdb_create(8);      /* one bucket of 8 slots */
	uint8_t mac[6];
	unsigned int learned = 0;

	(void)state;
	assert_int_equal(fdb_capacity(fdb), 8);
	for (uint32_t i = 0; i < 9; i++) {
		mac_of(i, mac);
		int rc = fdb_learn(fdb, mac, (uint16_t)(i % 2), 5);
		if (i < 8)
			assert_int_equal(rc, 1);
		else
			assert_int_equal(rc, -ENOSPC);
		learned += rc == 1;
	}
	assert_int_equal(learned, 8);
	mac_of(8, mac);
	assert_int_equal(fdb_lookup(fdb, mac), -1);
	/* port 1 went away: its four learned entries go, port 0's stay */
	assert_int_equal(fdb_flush_port(fdb, 1), 4);
	mac_of(1, mac);
	assert_int_equal(fdb_lookup(fdb, mac), -1);
	mac_of(0, mac);
	assert_int_equal(fdb_lookup(fdb, mac), 0);
	/* room again */
	mac_of(8, mac);
	assert_int_equal(fdb_learn(fdb, mac, 0, 6), 1);
	fdb_destroy(fdb);
}

static int
count_entry(const struct fdb_entry *e, void *arg)
{
	unsigned int *n = arg;

	if (e->is_static)
		n[0]++;
	else
		n[1]++;
	return 0;
}

static void
test_walk(void **state)
{
	struct fdb *fdb = fdb_create(1024);
	unsigned int n[2] = { 0, 0 };
	uint8_t mac[6];

	(void)state;
	for (uint32_t i = 0; i < 10; i++) {
		mac_of(i, mac);
		fdb_add_static(fdb, mac, 1);
	}
	for (uint32_t i = 100; i < 130; i++) {
		mac_of(i, mac);
		assert_int_equal(fdb_learn(fdb, mac, 0, 1), 1);
	}
	fdb_walk(fdb, count_entry, n);
	assert_int_equal(n[0], 10);
	assert_int_equal(n[1], 30);
	fdb_destroy(fdb);
}

static void
test_bad_size(void **state)
{
	(void)state;
	assert_null(fdb_create(0));
	assert_int_equal(errno, EINVAL);
}

/* Two learners and one ager at once: no entry ever points at a port that
 * was never learned for it, and what is fresh survives. */
struct race {
	struct fdb *fdb;
	uint16_t port;
	uint32_t base;
};

static void *
learner(void *arg)
{
	struct race *r = arg;
	uint8_t mac[6];

	for (uint32_t round = 0; round < 200; round++)
		for (uint32_t i = 0; i < 500; i++) {
			mac_of(r->base + i, mac);
			fdb_learn(r->fdb, mac, r->port, round);
			int p = fdb_lookup(r->fdb, mac);
			/* absent (aged or lost race) or ours: never another's */
			if (p != -1 && p != r->port)
				return (void *)1;
		}
	return NULL;
}

static void
test_concurrent_learn_and_age(void **state)
{
	struct fdb *fdb = fdb_create(4096);
	struct race r[2] = { { fdb, 1, 0 }, { fdb, 2, 100000 } };
	pthread_t t[2];
	void *ret;

	(void)state;
	for (int i = 0; i < 2; i++)
		assert_int_equal(pthread_create(&t[i], NULL, learner, &r[i]), 0);
	for (uint32_t now = 0; now < 2000; now++)
		fdb_age(fdb, now % 200, 1);
	for (int i = 0; i < 2; i++) {
		assert_int_equal(pthread_join(t[i], &ret), 0);
		assert_null(ret);
	}
	/* After the race, learning once more makes every MAC known. */
	for (int k = 0; k < 2; k++)
		for (uint32_t i = 0; i < 500; i++) {
			uint8_t mac[6];

			mac_of(r[k].base + i, mac);
			fdb_learn(fdb, mac, r[k].port, 500);
			assert_int_equal(fdb_lookup(fdb, mac), r[k].port);
		}
	fdb_destroy(fdb);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_static_entries),
		cmocka_unit_test(test_learn_refresh_move),
		cmocka_unit_test(test_ageing),
		cmocka_unit_test(test_bucket_full_and_flush),
		cmocka_unit_test(test_walk),
		cmocka_unit_test(test_bad_size),
		cmocka_unit_test(test_concurrent_learn_and_age),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
