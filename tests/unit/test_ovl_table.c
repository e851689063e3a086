/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The overlay's remote table on a small cluster:
 *
 *   host 0 "a" 10.9.0.1   host 1 "b" 10.9.0.2   host 2 "c" 10.9.0.3
 *   host 3 "d" 10.9.0.4 (no ports)
 *
 * network 0: vm1 on a, vm2 on b, vm3 on b;  network 1: vm1's MAC again, on
 * c (another tenant's VM that happens to have it).  Then conflicts,
 * skipped entries and a table of 10,000.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "overlay/ovl_table.h"

#define N_HOSTS 4

static const uint8_t mac_vm1[6] = { 0x52, 0x54, 0, 0, 1, 1 };
static const uint8_t mac_vm2[6] = { 0x52, 0x54, 0, 0, 2, 1 };
static const uint8_t mac_vm3[6] = { 0x52, 0x54, 0, 0, 3, 1 };
static const uint8_t mac_unk[6] = { 0x52, 0x54, 0, 0, 9, 9 };

static struct ovl_host hosts[OVL_HOSTS_MAX + 1];

static void
hosts_init(void)
{
	memset(hosts, 0, sizeof(hosts));
	for (unsigned int i = 0; i <= OVL_HOSTS_MAX; i++) {
		snprintf(hosts[i].name, sizeof(hosts[i].name), "%c",
			 (char)('a' + i % 26));
		hosts[i].vtep[0] = 10;
		hosts[i].vtep[1] = 9;
		hosts[i].vtep[2] = (uint8_t)(i >> 8);
		hosts[i].vtep[3] = (uint8_t)(i + 1);
		hosts[i].nbr = (uint16_t)(100 + i);
	}
}

static struct ovl_entry
entry(uint16_t net, const uint8_t mac[6], uint16_t host, uint8_t ip_last,
      int64_t revision)
{
	struct ovl_entry e = { .net = net, .host = host, .revision = revision };

	memcpy(e.mac, mac, 6);
	if (ip_last != 0) {
		e.ip4[0] = 10;
		e.ip4[3] = ip_last;
	}
	return e;
}

static struct ovl_table *
build(const struct ovl_entry *es, unsigned int n, uint16_t n_nets,
      unsigned int *skipped)
{
	struct ovl_table *t = ovl_table_build(hosts, N_HOSTS, es, n, n_nets,
					      skipped);

	assert_non_null(t);
	return t;
}

static const uint8_t *
ip(uint8_t last)
{
	static uint8_t a[4];

	a[0] = 10;
	a[1] = a[2] = 0;
	a[3] = last;
	return a;
}

static void
test_lookup(void **state)
{
	const struct ovl_entry es[] = {
		entry(0, mac_vm1, 0, 11, 1),
		entry(0, mac_vm2, 1, 12, 1),
		entry(0, mac_vm3, 1, 0, 1),
		entry(1, mac_vm1, 2, 11, 1),
	};
	unsigned int skipped = 99;
	struct ovl_table *t = build(es, 4, 2, &skipped);
	const struct ovl_entry *e;

	(void)state;
	assert_int_equal(skipped, 0);
	assert_int_equal(ovl_table_n_entries(t), 4);
	assert_int_equal(ovl_table_n_hosts(t), N_HOSTS);
	assert_int_equal(ovl_table_lookup(t, 0, mac_vm1), 0);
	assert_int_equal(ovl_table_lookup(t, 0, mac_vm2), 1);
	assert_int_equal(ovl_table_lookup(t, 0, mac_vm3), 1);
	/* the same MAC in another network is another VM */
	assert_int_equal(ovl_table_lookup(t, 1, mac_vm1), 2);
	assert_int_equal(ovl_table_lookup(t, 1, mac_vm2), -1);
	assert_int_equal(ovl_table_lookup(t, 0, mac_unk), -1);
	/* a network the table does not have */
	assert_int_equal(ovl_table_lookup(t, 2, mac_vm1), -1);
	assert_int_equal(ovl_table_lookup(t, UINT16_MAX, mac_vm1), -1);
	assert_null(ovl_table_entry(t, 2, mac_vm1));

	e = ovl_table_entry(t, 1, mac_vm1);
	assert_non_null(e);
	assert_int_equal(e->net, 1);
	assert_int_equal(e->host, 2);
	assert_memory_equal(e->mac, mac_vm1, 6);
	assert_memory_equal(e->ip4, ip(11), 4);
	assert_null(ovl_table_entry(t, 0, mac_unk));
	ovl_table_free(t);
}

/* A migration seen from outside: the VM's MAC claimed by its old host and
 * its new one; the newer revision is where it lives, whichever order the
 * directory lists them in. */
static void
test_conflicts(void **state)
{
	struct ovl_entry es[3];
	struct ovl_table *t;

	(void)state;
	es[0] = entry(0, mac_vm1, 0, 11, 5);
	es[1] = entry(0, mac_vm1, 1, 12, 7);
	for (int order = 0; order < 2; order++) {
		struct ovl_entry in[2] = { es[order], es[1 - order] };

		t = build(in, 2, 1, NULL);
		assert_int_equal(ovl_table_n_entries(t), 1);
		assert_int_equal(ovl_table_lookup(t, 0, mac_vm1), 1);
		assert_int_equal(ovl_table_entry(t, 0, mac_vm1)->revision, 7);
		ovl_table_free(t);
	}
	/* negative revisions compare as numbers */
	es[0] = entry(0, mac_vm1, 0, 11, -1);
	es[1] = entry(0, mac_vm1, 1, 11, -2);
	t = build(es, 2, 1, NULL);
	assert_int_equal(ovl_table_lookup(t, 0, mac_vm1), 0);
	ovl_table_free(t);
	/* equal revisions: the lower host index, in either order */
	es[0] = entry(0, mac_vm1, 2, 11, 3);
	es[1] = entry(0, mac_vm1, 1, 12, 3);
	es[2] = entry(0, mac_vm1, 3, 13, 3);
	t = build(es, 3, 1, NULL);
	assert_int_equal(ovl_table_lookup(t, 0, mac_vm1), 1);
	assert_memory_equal(ovl_table_entry(t, 0, mac_vm1)->ip4, ip(12), 4);
	ovl_table_free(t);
	es[0] = entry(0, mac_vm1, 1, 12, 3);
	es[1] = entry(0, mac_vm1, 2, 11, 3);
	t = build(es, 2, 1, NULL);
	assert_int_equal(ovl_table_lookup(t, 0, mac_vm1), 1);
	ovl_table_free(t);
	/* the same claim twice: the first one */
	es[0] = entry(0, mac_vm1, 1, 12, 3);
	es[1] = entry(0, mac_vm1, 1, 13, 3);
	t = build(es, 2, 1, NULL);
	assert_int_equal(ovl_table_n_entries(t), 1);
	assert_memory_equal(ovl_table_entry(t, 0, mac_vm1)->ip4, ip(12), 4);
	ovl_table_free(t);
}

static void
test_flood(void **state)
{
	const struct ovl_entry es[] = {
		entry(0, mac_vm3, 2, 0, 1),
		entry(0, mac_vm1, 0, 0, 1),
		entry(0, mac_vm2, 2, 0, 1),
		entry(2, mac_vm1, 1, 0, 1),
		entry(0, mac_unk, 0, 0, 1),
		/* loses vm2 to host 2: host 3 has no port in net 0 */
		entry(0, mac_vm2, 3, 0, 0),
	};
	struct ovl_table *t = build(es, 6, 4, NULL);
	const uint16_t *hs;

	(void)state;
	/* distinct, sorted */
	assert_int_equal(ovl_table_flood(t, 0, &hs), 2);
	assert_int_equal(hs[0], 0);
	assert_int_equal(hs[1], 2);
	assert_int_equal(ovl_table_flood(t, 1, &hs), 0);
	assert_int_equal(ovl_table_flood(t, 2, &hs), 1);
	assert_int_equal(hs[0], 1);
	assert_int_equal(ovl_table_flood(t, 3, &hs), 0);
	assert_int_equal(ovl_table_flood(t, 4, &hs), 0);
	assert_int_equal(ovl_table_flood(t, UINT16_MAX, &hs), 0);
	ovl_table_free(t);
}

static void
test_arp(void **state)
{
	const struct ovl_entry es[] = {
		entry(0, mac_vm1, 0, 11, 1),
		entry(0, mac_vm2, 1, 12, 1),
		entry(0, mac_vm3, 1, 0, 1),         /* no address */
		entry(1, mac_vm3, 2, 11, 1),        /* 10.0.0.11 in net 1 */
		/* 10.0.0.13 moved from vm1 to vm2 (revision 4) */
		entry(1, mac_vm1, 0, 13, 3),
		entry(1, mac_vm2, 1, 13, 4),
		/* a claim that lost its MAC does not keep its address */
		entry(1, mac_unk, 0, 14, 1),
		entry(1, mac_unk, 1, 15, 2),
	};
	struct ovl_table *t = build(es, 8, 2, NULL);
	uint8_t mac[6];

	(void)state;
	assert_int_equal(ovl_table_arp(t, 0, ip(11), mac), 0);
	assert_memory_equal(mac, mac_vm1, 6);
	assert_int_equal(ovl_table_arp(t, 0, ip(12), mac), 0);
	assert_memory_equal(mac, mac_vm2, 6);
	assert_int_equal(ovl_table_arp(t, 1, ip(11), mac), 0);
	assert_memory_equal(mac, mac_vm3, 6);
	assert_int_equal(ovl_table_arp(t, 1, ip(13), mac), 0);
	assert_memory_equal(mac, mac_vm2, 6);
	assert_int_equal(ovl_table_arp(t, 1, ip(15), mac), 0);
	assert_memory_equal(mac, mac_unk, 6);
	assert_int_equal(ovl_table_arp(t, 1, ip(14), mac), -1);
	/* misses: 0.0.0.0 is "none", an unknown address, other networks */
	assert_int_equal(ovl_table_arp(t, 0, (const uint8_t[4]){ 0 }, mac), -1);
	assert_int_equal(ovl_table_arp(t, 0, ip(99), mac), -1);
	assert_int_equal(ovl_table_arp(t, 1, ip(12), mac), -1);
	assert_int_equal(ovl_table_arp(t, 2, ip(11), mac), -1);
	ovl_table_free(t);

	/* the same address on two MACs of one host at one revision: the
	 * lower MAC, whichever comes first */
	{
		struct ovl_entry two[2] = {
			entry(0, mac_vm2, 1, 20, 1),
			entry(0, mac_vm1, 1, 20, 1),
		};

		t = build(two, 2, 1, NULL);
		assert_int_equal(ovl_table_arp(t, 0, ip(20), mac), 0);
		assert_memory_equal(mac, mac_vm1, 6);
		ovl_table_free(t);
	}
}

static void
test_hosts(void **state)
{
	struct ovl_table *t = build(NULL, 0, 1, NULL);
	const struct ovl_host *h;

	(void)state;
	assert_int_equal(ovl_table_host_of_vtep(t, hosts[0].vtep), 0);
	assert_int_equal(ovl_table_host_of_vtep(t, hosts[3].vtep), 3);
	/* a host beyond n_hosts is not in the table */
	assert_int_equal(ovl_table_host_of_vtep(t, hosts[4].vtep), -1);
	assert_int_equal(ovl_table_host_of_vtep(t, (const uint8_t[4]){ 0 }), -1);
	h = ovl_table_host(t, 2);
	assert_non_null(h);
	assert_string_equal(h->name, "c");
	assert_int_equal(h->nbr, 102);
	assert_memory_equal(h->vtep, hosts[2].vtep, 4);
	assert_null(ovl_table_host(t, N_HOSTS));
	ovl_table_free(t);

	/* the table holds a copy: the caller's array may change */
	t = build(NULL, 0, 1, NULL);
	hosts[1].vtep[3] = 77;
	assert_int_equal(ovl_table_host_of_vtep(t, hosts[1].vtep), -1);
	hosts_init();
	assert_int_equal(ovl_table_host_of_vtep(t, hosts[1].vtep), 1);
	ovl_table_free(t);

	/* 0.0.0.0 is never a VTEP, even when a host has not got one yet */
	memset(hosts[1].vtep, 0, 4);
	t = build(NULL, 0, 1, NULL);
	assert_int_equal(ovl_table_host_of_vtep(t, hosts[1].vtep), -1);
	ovl_table_free(t);
	hosts_init();
}

static void
test_skipped(void **state)
{
	struct ovl_entry es[] = {
		entry(0, mac_vm1, 0, 11, 1),
		entry(0, mac_vm2, N_HOSTS, 12, 1),      /* no such host */
		entry(2, mac_vm3, 1, 13, 1),            /* no such network */
		entry(1, mac_vm3, UINT16_MAX, 0, 1),
		entry(1, mac_vm2, 1, 12, 1),
	};
	unsigned int skipped = 0;
	struct ovl_table *t = build(es, 5, 2, &skipped);
	uint8_t mac[6];

	(void)state;
	assert_int_equal(skipped, 3);
	assert_int_equal(ovl_table_n_entries(t), 2);
	assert_int_equal(ovl_table_lookup(t, 0, mac_vm2), -1);
	assert_int_equal(ovl_table_lookup(t, 1, mac_vm2), 1);
	assert_int_equal(ovl_table_arp(t, 0, ip(12), mac), -1);
	ovl_table_free(t);
	/* skipped may be NULL */
	t = build(es, 5, 2, NULL);
	ovl_table_free(t);
	/* no networks at all: everything skipped */
	t = build(es, 5, 0, &skipped);
	assert_int_equal(skipped, 5);
	assert_int_equal(ovl_table_n_entries(t), 0);
	assert_int_equal(ovl_table_lookup(t, 0, mac_vm1), -1);
	ovl_table_free(t);
}

static void
test_empty(void **state)
{
	struct ovl_table *t;
	const uint16_t *hs;
	uint8_t mac[6];
	unsigned int skipped = 7;

	(void)state;
	t = ovl_table_build(NULL, 0, NULL, 0, 0, &skipped);
	assert_non_null(t);
	assert_int_equal(skipped, 0);
	assert_int_equal(ovl_table_n_hosts(t), 0);
	assert_int_equal(ovl_table_n_entries(t), 0);
	assert_int_equal(ovl_table_lookup(t, 0, mac_vm1), -1);
	assert_null(ovl_table_entry(t, 0, mac_vm1));
	assert_int_equal(ovl_table_arp(t, 0, ip(1), mac), -1);
	assert_int_equal(ovl_table_flood(t, 0, &hs), 0);
	assert_int_equal(ovl_table_host_of_vtep(t, hosts[0].vtep), -1);
	assert_null(ovl_table_host(t, 0));
	ovl_table_free(t);

	/* networks but no entries */
	t = build(NULL, 0, 64, NULL);
	for (uint16_t net = 0; net < 64; net++) {
		assert_int_equal(ovl_table_flood(t, net, &hs), 0);
		assert_int_equal(ovl_table_lookup(t, net, mac_vm1), -1);
	}
	ovl_table_free(t);
	ovl_table_free(NULL);
}

static void
test_refused(void **state)
{
	(void)state;
	errno = 0;
	assert_null(ovl_table_build(hosts, OVL_HOSTS_MAX + 1, NULL, 0, 1, NULL));
	assert_int_equal(errno, EINVAL);
	/* the most hosts there may be */
	{
		struct ovl_entry e = entry(0, mac_vm1, OVL_HOSTS_MAX - 1, 0, 1);
		struct ovl_table *t = ovl_table_build(hosts, OVL_HOSTS_MAX, &e,
						      1, 1, NULL);
		const uint16_t *hs;

		assert_non_null(t);
		assert_int_equal(ovl_table_lookup(t, 0, mac_vm1),
				 OVL_HOSTS_MAX - 1);
		assert_int_equal(ovl_table_flood(t, 0, &hs), 1);
		assert_int_equal(hs[0], OVL_HOSTS_MAX - 1);
		assert_int_equal(ovl_table_host_of_vtep(t,
							hosts[OVL_HOSTS_MAX - 1].vtep),
				 OVL_HOSTS_MAX - 1);
		ovl_table_free(t);
	}
}

/* 10,000 VMs over 256 hosts and 64 networks, MACs of one vendor that
 * differ only in their last bytes, each MAC in every network (on another
 * host in each). */
static void
test_many(void **state)
{
	enum { N = 10000, NETS = 64 };
	struct ovl_entry *es = calloc(N, sizeof(*es));
	bool seen[NETS][OVL_HOSTS_MAX];
	struct ovl_table *t;
	unsigned int skipped = 1;

	(void)state;
	assert_non_null(es);
	memset(seen, 0, sizeof(seen));
	for (unsigned int i = 0; i < N; i++) {
		uint8_t mac[6] = { 0x52, 0x54, 0, 0, (uint8_t)(i / NETS >> 8),
				   (uint8_t)(i / NETS) };
		uint16_t host = (uint16_t)((i * 7 + i / NETS) % OVL_HOSTS_MAX);

		es[i] = entry((uint16_t)(i % NETS), mac, host, 0, i);
		es[i].ip4[0] = 10;
		es[i].ip4[1] = (uint8_t)(i >> 16);
		es[i].ip4[2] = (uint8_t)(i >> 8);
		es[i].ip4[3] = (uint8_t)i;
		seen[i % NETS][host] = true;
	}
	t = ovl_table_build(hosts, OVL_HOSTS_MAX, es, N, NETS, &skipped);
	assert_non_null(t);
	assert_int_equal(skipped, 0);
	assert_int_equal(ovl_table_n_entries(t), N);
	for (unsigned int i = 0; i < N; i++) {
		uint8_t mac[6];

		assert_int_equal(ovl_table_lookup(t, es[i].net, es[i].mac),
				 es[i].host);
		assert_int_equal(ovl_table_entry(t, es[i].net, es[i].mac)->revision,
				 i);
		assert_int_equal(ovl_table_arp(t, es[i].net, es[i].ip4, mac), 0);
		assert_memory_equal(mac, es[i].mac, 6);
	}
	/* not there */
	for (unsigned int i = 0; i < N; i++) {
		uint8_t mac[6] = { 0x52, 0x55, 0, 0, (uint8_t)(i >> 8), (uint8_t)i };

		assert_int_equal(ovl_table_lookup(t, (uint16_t)(i % NETS), mac),
				 -1);
	}
	for (uint16_t net = 0; net < NETS; net++) {
		const uint16_t *hs;
		unsigned int n = ovl_table_flood(t, net, &hs), want = 0;

		for (unsigned int h = 0; h < OVL_HOSTS_MAX; h++)
			want += seen[net][h];
		assert_int_equal(n, want);
		for (unsigned int k = 0; k < n; k++) {
			assert_true(seen[net][hs[k]]);
			if (k > 0)
				assert_true(hs[k] > hs[k - 1]);
		}
	}
	ovl_table_free(t);
	free(es);
}

static int
setup(void **state)
{
	(void)state;
	hosts_init();
	return 0;
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup(test_lookup, setup),
		cmocka_unit_test_setup(test_conflicts, setup),
		cmocka_unit_test_setup(test_flood, setup),
		cmocka_unit_test_setup(test_arp, setup),
		cmocka_unit_test_setup(test_hosts, setup),
		cmocka_unit_test_setup(test_skipped, setup),
		cmocka_unit_test_setup(test_empty, setup),
		cmocka_unit_test_setup(test_refused, setup),
		cmocka_unit_test_setup(test_many, setup),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
