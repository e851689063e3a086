/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The MAC table: buckets of eight 64-bit keys (one cache line), each key
 * holding the MAC, the port and two flags, so that a lookup reads one
 * atomic word and can never see a MAC paired with a half-written port.
 * Workers learn with compare-and-swap; the main thread ages with
 * compare-and-swap; nobody locks.  See fdb.h for the contract.
 */
#include "fdb.h"

#include <assert.h>
#include <errno.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#define FDB_BUCKET_SLOTS 8

#define KEY_VALID  (UINT64_C(1) << 63)
#define KEY_STATIC (UINT64_C(1) << 62)
#define KEY_PORT_SHIFT 48
#define KEY_PORT_MASK 0x3fff    /* bits 48..61 */
#define KEY_MAC_MASK ((UINT64_C(1) << 48) - 1)

static_assert(FDB_PORT_MAX <= KEY_PORT_MASK, "a port id fits its bits");

struct fdb_bucket {
	_Atomic uint64_t keys[FDB_BUCKET_SLOTS];
} __attribute__((aligned(64)));

struct fdb {
	uint32_t n_buckets;             /* power of two */
	uint32_t bucket_mask;
	struct fdb_bucket *buckets;
	/* last_seen of each slot; written by learners with relaxed stores:
	 * a stale value only delays or hastens ageing by one refresh. */
	_Atomic uint32_t *last_seen;
};

static uint64_t
mac_to_u64(const uint8_t mac[6])
{
	return (uint64_t)mac[0] << 40 | (uint64_t)mac[1] << 32 |
	       (uint64_t)mac[2] << 24 | (uint64_t)mac[3] << 16 |
	       (uint64_t)mac[4] << 8 | (uint64_t)mac[5];
}

static void
u64_to_mac(uint64_t v, uint8_t mac[6])
{
	for (int i = 5; i >= 0; i--) {
		mac[i] = v & 0xff;
		v >>= 8;
	}
}

static uint64_t
key_make(uint64_t mac, uint16_t port, bool is_static)
{
	return KEY_VALID | (is_static ? KEY_STATIC : 0) |
	       (uint64_t)port << KEY_PORT_SHIFT | mac;
}

static uint16_t
key_port(uint64_t key)
{
	return (key >> KEY_PORT_SHIFT) & KEY_PORT_MASK;
}

static struct fdb_bucket *
bucket_of(const struct fdb *fdb, uint64_t mac)
{
	/* Fibonacci hashing: the top bits of mac * 2^64/phi. */
	uint64_t h = mac * UINT64_C(0x9E3779B97F4A7C15);

	return &fdb->buckets[(h >> 32) & fdb->bucket_mask];
}

static size_t
slot_index(const struct fdb *fdb, const struct fdb_bucket *b, int slot)
{
	return (size_t)(b - fdb->buckets) * FDB_BUCKET_SLOTS + slot;
}

struct fdb *
fdb_create(uint32_t n_entries)
{
	struct fdb *fdb;
	uint32_t n = 1;

	if (n_entries == 0 || n_entries > (UINT32_C(1) << 24)) {
		errno = EINVAL;
		return NULL;
	}
	while (n * FDB_BUCKET_SLOTS < n_entries)
		n <<= 1;

	fdb = calloc(1, sizeof(*fdb));
	if (fdb == NULL)
		return NULL;
	fdb->n_buckets = n;
	fdb->bucket_mask = n - 1;
	fdb->buckets = aligned_alloc(64, sizeof(*fdb->buckets) * n);
	fdb->last_seen = calloc((size_t)n * FDB_BUCKET_SLOTS,
				sizeof(*fdb->last_seen));
	if (fdb->buckets == NULL || fdb->last_seen == NULL) {
		fdb_destroy(fdb);
		errno = ENOMEM;
		return NULL;
	}
	memset(fdb->buckets, 0, sizeof(*fdb->buckets) * n);
	return fdb;
}

void
fdb_destroy(struct fdb *fdb)
{
	if (fdb == NULL)
		return;
	free(fdb->buckets);
	free(fdb->last_seen);
	free(fdb);
}

uint32_t
fdb_capacity(const struct fdb *fdb)
{
	return fdb->n_buckets * FDB_BUCKET_SLOTS;
}

int
fdb_add_static(struct fdb *fdb, const uint8_t mac[6], uint16_t port)
{
	uint64_t m = mac_to_u64(mac);
	struct fdb_bucket *b = bucket_of(fdb, m);

	if (port >= FDB_PORT_MAX)
		return -EINVAL;
	for (int i = 0; i < FDB_BUCKET_SLOTS; i++) {
		uint64_t k = atomic_load_explicit(&b->keys[i],
						  memory_order_relaxed);
		if ((k & KEY_VALID) && (k & KEY_MAC_MASK) == m) {
			if (k & KEY_STATIC)
				return -EEXIST;
			/* A learned entry for a MAC that is now static. */
			atomic_store_explicit(&b->keys[i],
					      key_make(m, port, true),
					      memory_order_release);
			return 0;
		}
	}
	for (int i = 0; i < FDB_BUCKET_SLOTS; i++) {
		uint64_t empty = 0;
		/* Pairs with the acquire loads in fdb_lookup. */
		if (atomic_compare_exchange_strong_explicit(&b->keys[i], &empty,
				key_make(m, port, true),
				memory_order_release, memory_order_relaxed))
			return 0;
	}
	return -ENOSPC;
}

int
fdb_del_static(struct fdb *fdb, const uint8_t mac[6], uint16_t port)
{
	uint64_t m = mac_to_u64(mac);
	struct fdb_bucket *b = bucket_of(fdb, m);
	uint64_t want = key_make(m, port, true);

	for (int i = 0; i < FDB_BUCKET_SLOTS; i++) {
		uint64_t k = want;

		/* Learners never overwrite a static entry, so the CAS only
		 * races with nothing; a lookup sees the entry or an empty
		 * slot (no probe chains: a bucket is scanned whole). */
		if (atomic_compare_exchange_strong_explicit(&b->keys[i], &k, 0,
				memory_order_release, memory_order_relaxed))
			return 0;
	}
	return -ENOENT;
}

int
fdb_lookup(const struct fdb *fdb, const uint8_t mac[6])
{
	uint64_t m = mac_to_u64(mac);
	struct fdb_bucket *b = bucket_of(fdb, m);

	for (int i = 0; i < FDB_BUCKET_SLOTS; i++) {
		/* Pairs with the release CAS/stores of learners and add_static. */
		uint64_t k = atomic_load_explicit(&b->keys[i],
						  memory_order_acquire);
		if ((k & KEY_VALID) && (k & KEY_MAC_MASK) == m)
			return key_port(k);
	}
	return -1;
}

int
fdb_learn(struct fdb *fdb, const uint8_t mac[6], uint16_t port, uint32_t now_s)
{
	uint64_t m = mac_to_u64(mac);
	struct fdb_bucket *b = bucket_of(fdb, m);
	uint64_t want = key_make(m, port, false);
	int empty = -1;

	if (port >= FDB_PORT_MAX)
		return -EINVAL;
	for (int i = 0; i < FDB_BUCKET_SLOTS; i++) {
		uint64_t k = atomic_load_explicit(&b->keys[i],
						  memory_order_acquire);
		_Atomic uint32_t *seen;

		if (!(k & KEY_VALID)) {
			if (empty < 0)
				empty = i;
			continue;
		}
		if ((k & KEY_MAC_MASK) != m)
			continue;
		if (k & KEY_STATIC)
			return -EPERM;
		seen = &fdb->last_seen[slot_index(fdb, b, i)];
		/* Only write when the second changed: keeps the line shared
		 * between workers that see the same source. */
		if (atomic_load_explicit(seen, memory_order_relaxed) != now_s)
			atomic_store_explicit(seen, now_s, memory_order_relaxed);
		if (k == want)
			return 0;
		/* The station moved to another port.  Losing this race to
		 * the ager or to another learner is fine: the next frame
		 * learns again. */
		atomic_compare_exchange_strong_explicit(&b->keys[i], &k, want,
				memory_order_release, memory_order_relaxed);
		return 1;
	}
	if (empty < 0)
		return -ENOSPC;
	for (int i = empty; i < FDB_BUCKET_SLOTS; i++) {
		uint64_t expected = 0;

		/* Pairs with the acquire loads in fdb_lookup/fdb_learn.  Two
		 * workers learning the same new MAC at once both aim at the
		 * first empty slot, so one of them fails here and finds the
		 * other's entry on its next frame.  last_seen is written
		 * after the claim so that a lost race never stamps another
		 * MAC's slot; until then the ager may see an old stamp and
		 * drop the entry, which the next frame learns again. */
		if (atomic_compare_exchange_strong_explicit(&b->keys[i],
				&expected, want,
				memory_order_release, memory_order_relaxed)) {
			atomic_store_explicit(
				&fdb->last_seen[slot_index(fdb, b, i)],
				now_s, memory_order_relaxed);
			return 1;
		}
		if ((expected & KEY_MAC_MASK) == m)
			return 0;
	}
	return -ENOSPC;
}

unsigned int
fdb_age(struct fdb *fdb, uint32_t now_s, uint32_t max_age_s)
{
	unsigned int removed = 0;

	for (uint32_t bi = 0; bi < fdb->n_buckets; bi++) {
		struct fdb_bucket *b = &fdb->buckets[bi];

		for (int i = 0; i < FDB_BUCKET_SLOTS; i++) {
			uint64_t k = atomic_load_explicit(&b->keys[i],
							  memory_order_relaxed);
			uint32_t seen;

			if (!(k & KEY_VALID) || (k & KEY_STATIC))
				continue;
			seen = atomic_load_explicit(
				&fdb->last_seen[slot_index(fdb, b, i)],
				memory_order_relaxed);
			/* Stamps are whole seconds: an entry stamped s may have
			 * seen its frame at s.999, so only more than
			 * max_age_s whole seconds is surely max_age_s of
			 * silence.  An entry lives max_age_s to max_age_s + 2
			 * seconds with the ager running every second. */
			if ((uint32_t)(now_s - seen) <= max_age_s)
				continue;
			/* If a worker refreshed or moved it meanwhile the CAS
			 * fails and the entry lives on. */
			if (atomic_compare_exchange_strong_explicit(&b->keys[i],
					&k, 0, memory_order_relaxed,
					memory_order_relaxed))
				removed++;
		}
	}
	return removed;
}

unsigned int
fdb_flush_port(struct fdb *fdb, uint16_t port)
{
	unsigned int removed = 0;

	for (uint32_t bi = 0; bi < fdb->n_buckets; bi++) {
		struct fdb_bucket *b = &fdb->buckets[bi];

		for (int i = 0; i < FDB_BUCKET_SLOTS; i++) {
			uint64_t k = atomic_load_explicit(&b->keys[i],
							  memory_order_relaxed);

			if (!(k & KEY_VALID) || (k & KEY_STATIC) ||
			    key_port(k) != port)
				continue;
			if (atomic_compare_exchange_strong_explicit(&b->keys[i],
					&k, 0, memory_order_relaxed,
					memory_order_relaxed))
				removed++;
		}
	}
	return removed;
}

int
fdb_walk(const struct fdb *fdb, fdb_walk_fn fn, void *arg)
{
	for (uint32_t bi = 0; bi < fdb->n_buckets; bi++) {
		struct fdb_bucket *b = &fdb->buckets[bi];

		for (int i = 0; i < FDB_BUCKET_SLOTS; i++) {
			uint64_t k = atomic_load_explicit(&b->keys[i],
							  memory_order_acquire);
			struct fdb_entry e;
			int rc;

			if (!(k & KEY_VALID))
				continue;
			u64_to_mac(k & KEY_MAC_MASK, e.mac);
			e.port = key_port(k);
			e.is_static = (k & KEY_STATIC) != 0;
			e.last_seen_s = atomic_load_explicit(
				&fdb->last_seen[slot_index(fdb, b, i)],
				memory_order_relaxed);
			rc = fn(&e, arg);
			if (rc != 0)
				return rc;
		}
	}
	return 0;
}
