/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The overlay's remote table: built once by the main thread from the
 * cluster directory (one allocation holding hosts, the winning entries,
 * two open-addressing hash tables -- (net, MAC) and (net, IPv4) -- and the
 * per-network flood lists), then only read by workers until it is freed
 * after an RCU grace period.  Nothing here changes after build returns.
 */
#include "ovl_table.h"

#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

/* A key is (net << 48 | MAC) or (net << 32 | IPv4); net < n_nets <=
 * 65535 keeps both below all ones, which marks an empty slot. */
#define SLOT_EMPTY UINT64_MAX
/* Bounds the sizes below so that no size computation overflows. */
#define OVL_ENTRIES_LIMIT (1u << 28)

struct ovl_slot {
	uint64_t key;
	uint32_t entry;         /* index into entries */
	uint16_t host;          /* copied so a lookup touches one line */
};

struct ovl_table {
	unsigned int n_hosts;
	unsigned int n_entries;         /* winners: distinct (net, MAC) */
	uint16_t n_nets;
	uint32_t slot_mask;             /* both tables: power of two - 1 */
	struct ovl_slot *macs;          /* (net, MAC) -> entry */
	struct ovl_slot *ips;           /* (net, IPv4) -> entry */
	struct ovl_host *hosts;
	struct ovl_entry *entries;
	uint32_t *flood_off;            /* n_nets + 1: net's list at [off[net], off[net+1]) */
	uint16_t *flood_hosts;
};

static uint64_t
mac_key(uint16_t net, const uint8_t mac[6])
{
	return (uint64_t)net << 48 | (uint64_t)mac[0] << 40 |
	       (uint64_t)mac[1] << 32 | (uint64_t)mac[2] << 24 |
	       (uint64_t)mac[3] << 16 | (uint64_t)mac[4] << 8 | mac[5];
}

static uint64_t
ip_key(uint16_t net, const uint8_t ip[4])
{
	return (uint64_t)net << 32 | (uint64_t)ip[0] << 24 |
	       (uint64_t)ip[1] << 16 | (uint64_t)ip[2] << 8 | ip[3];
}

/* murmur3's 64-bit finaliser: every key bit reaches the low bits kept
 * by the mask (MACs of one vendor differ only in their last bytes). */
static uint64_t
key_hash(uint64_t k)
{
	k ^= k >> 33;
	k *= UINT64_C(0xff51afd7ed558ccd);
	k ^= k >> 33;
	k *= UINT64_C(0xc4ceb9fe1a85ec53);
	k ^= k >> 33;
	return k;
}

/*
 * The index of the slot holding key, or of the empty slot where it would
 * go, or SLOT_NONE when the table is full without it: a search gives up
 * after one lap.  Build sizes the tables to at least twice their keys, so
 * SLOT_NONE is a safeguard.
 */
#define SLOT_NONE UINT32_MAX

static uint32_t
slot_find(const struct ovl_slot *slots, uint32_t mask, uint64_t key)
{
	uint32_t i = (uint32_t)key_hash(key) & mask;

	for (uint32_t n = 0; n <= mask; n++, i = (i + 1) & mask) {
		if (slots[i].key == key || slots[i].key == SLOT_EMPTY)
			return i;
	}
	return SLOT_NONE;
}

/* A conflict on (net, MAC): the newer revision; on a tie, the lower host
 * index, so that every builder picks the same; on a full tie (the same
 * claim twice), the one seen first. */
static bool
entry_wins(const struct ovl_entry *e, const struct ovl_entry *old)
{
	if (e->revision != old->revision)
		return e->revision > old->revision;
	return e->host < old->host;
}

/* A conflict on (net, IPv4): as above, then the lower MAC. */
static bool
ip_claim_wins(const struct ovl_entry *e, const struct ovl_entry *old)
{
	if (e->revision != old->revision || e->host != old->host)
		return entry_wins(e, old);
	return memcmp(e->mac, old->mac, 6) < 0;
}

static size_t
layout_take(size_t *size, size_t n, size_t align)
{
	size_t off = (*size + align - 1) & ~(align - 1);

	*size = off + n;
	return off;
}

static void
slots_clear(struct ovl_slot *slots, uint32_t n)
{
	for (uint32_t i = 0; i < n; i++)
		slots[i].key = SLOT_EMPTY;
}

struct ovl_table *
ovl_table_build(const struct ovl_host *hosts, unsigned int n_hosts,
		const struct ovl_entry *entries, unsigned int n_entries,
		uint16_t n_nets, unsigned int *skipped)
{
	size_t size = sizeof(struct ovl_table);
	size_t o_hosts, o_entries, o_macs, o_ips, o_off, o_flood;
	uint64_t *seen;         /* n_nets bitmaps of OVL_HOSTS_MAX bits */
	unsigned int n_skipped = 0;
	uint32_t n_slots = 8, n_flood = 0;
	struct ovl_table *t;
	char *mem;

	if (n_hosts > OVL_HOSTS_MAX || (n_hosts > 0 && hosts == NULL) ||
	    (n_entries > 0 && entries == NULL)) {
		errno = EINVAL;
		return NULL;
	}
	if (n_entries > OVL_ENTRIES_LIMIT) {
		errno = ENOMEM;
		return NULL;
	}
	while (n_slots < 2 * n_entries)
		n_slots *= 2;

	o_hosts = layout_take(&size, n_hosts * sizeof(struct ovl_host), 8);
	o_entries = layout_take(&size, n_entries * sizeof(struct ovl_entry), 8);
	o_macs = layout_take(&size, n_slots * sizeof(struct ovl_slot), 64);
	o_ips = layout_take(&size, n_slots * sizeof(struct ovl_slot), 64);
	o_off = layout_take(&size, ((size_t)n_nets + 1) * sizeof(uint32_t), 8);
	o_flood = layout_take(&size, n_entries * sizeof(uint16_t), 8);
	mem = aligned_alloc(64, (size + 63) & ~(size_t)63);
	seen = calloc((size_t)n_nets * (OVL_HOSTS_MAX / 64) + 1, sizeof(*seen));
	if (mem == NULL || seen == NULL) {
		free(mem);
		free(seen);
		errno = ENOMEM;
		return NULL;
	}

	t = (struct ovl_table *)(void *)mem;
	memset(t, 0, sizeof(*t));
	t->n_hosts = n_hosts;
	t->n_nets = n_nets;
	t->slot_mask = n_slots - 1;
	t->hosts = (struct ovl_host *)(void *)(mem + o_hosts);
	t->entries = (struct ovl_entry *)(void *)(mem + o_entries);
	t->macs = (struct ovl_slot *)(void *)(mem + o_macs);
	t->ips = (struct ovl_slot *)(void *)(mem + o_ips);
	t->flood_off = (uint32_t *)(void *)(mem + o_off);
	t->flood_hosts = (uint16_t *)(void *)(mem + o_flood);
	if (n_hosts > 0)
		memcpy(t->hosts, hosts, n_hosts * sizeof(*hosts));
	slots_clear(t->macs, n_slots);
	slots_clear(t->ips, n_slots);

	/* (net, MAC): one winner each; a loser is overwritten in place. */
	for (unsigned int i = 0; i < n_entries; i++) {
		const struct ovl_entry *e = &entries[i];
		struct ovl_slot *s;

		if (e->host >= n_hosts || e->net >= n_nets) {
			n_skipped++;
			continue;
		}
		/* never full: twice as many slots as entries */
		s = &t->macs[slot_find(t->macs, t->slot_mask,
				       mac_key(e->net, e->mac))];
		if (s->key == SLOT_EMPTY) {
			s->key = mac_key(e->net, e->mac);
			s->entry = t->n_entries++;
		} else if (!entry_wins(e, &t->entries[s->entry])) {
			continue;
		}
		s->host = e->host;
		t->entries[s->entry] = *e;
	}

	/* From the winners only: a claim that lost its MAC is stale, and so
	 * are its address and its place in the flood list. */
	for (uint32_t i = 0; i < t->n_entries; i++) {
		const struct ovl_entry *e = &t->entries[i];
		uint64_t *bits = &seen[(size_t)e->net * (OVL_HOSTS_MAX / 64)];
		struct ovl_slot *s;

		bits[e->host / 64] |= UINT64_C(1) << (e->host % 64);
		if ((e->ip4[0] | e->ip4[1] | e->ip4[2] | e->ip4[3]) == 0)
			continue;
		s = &t->ips[slot_find(t->ips, t->slot_mask,
				      ip_key(e->net, e->ip4))];
		if (s->key == SLOT_EMPTY)
			s->key = ip_key(e->net, e->ip4);
		else if (!ip_claim_wins(e, &t->entries[s->entry]))
			continue;
		s->entry = i;
		s->host = e->host;
	}

	/* Flood lists: the bitmap walked in order gives them sorted. */
	for (uint16_t net = 0; net < n_nets; net++) {
		const uint64_t *bits = &seen[(size_t)net * (OVL_HOSTS_MAX / 64)];

		t->flood_off[net] = n_flood;
		for (unsigned int h = 0; h < n_hosts; h++) {
			if (bits[h / 64] & UINT64_C(1) << (h % 64))
				t->flood_hosts[n_flood++] = (uint16_t)h;
		}
	}
	t->flood_off[n_nets] = n_flood;
	free(seen);

	if (skipped != NULL)
		*skipped = n_skipped;
	return t;
}

void
ovl_table_free(struct ovl_table *t)
{
	free(t);
}

static const struct ovl_slot *
mac_slot(const struct ovl_table *t, uint16_t net, const uint8_t mac[6])
{
	uint32_t i;

	if (net >= t->n_nets)
		return NULL;
	i = slot_find(t->macs, t->slot_mask, mac_key(net, mac));
	if (i == SLOT_NONE || t->macs[i].key == SLOT_EMPTY)
		return NULL;
	return &t->macs[i];
}

int
ovl_table_lookup(const struct ovl_table *t, uint16_t net, const uint8_t mac[6])
{
	const struct ovl_slot *s = mac_slot(t, net, mac);

	return s != NULL ? s->host : -1;
}

const struct ovl_entry *
ovl_table_entry(const struct ovl_table *t, uint16_t net, const uint8_t mac[6])
{
	const struct ovl_slot *s = mac_slot(t, net, mac);

	return s != NULL ? &t->entries[s->entry] : NULL;
}

int
ovl_table_arp(const struct ovl_table *t, uint16_t net, const uint8_t ip[4],
	      uint8_t mac[6])
{
	uint32_t i;

	if (net >= t->n_nets)
		return -1;
	i = slot_find(t->ips, t->slot_mask, ip_key(net, ip));
	if (i == SLOT_NONE || t->ips[i].key == SLOT_EMPTY)
		return -1;
	memcpy(mac, t->entries[t->ips[i].entry].mac, 6);
	return 0;
}

unsigned int
ovl_table_flood(const struct ovl_table *t, uint16_t net,
		const uint16_t **hosts)
{
	if (net >= t->n_nets) {
		*hosts = NULL;
		return 0;
	}
	*hosts = &t->flood_hosts[t->flood_off[net]];
	return t->flood_off[net + 1] - t->flood_off[net];
}

/* 0.0.0.0 is a host without a tunnel endpoint, never a source. */
int
ovl_table_host_of_vtep(const struct ovl_table *t, const uint8_t ip[4])
{
	if ((ip[0] | ip[1] | ip[2] | ip[3]) == 0)
		return -1;
	for (unsigned int i = 0; i < t->n_hosts; i++) {
		if (memcmp(t->hosts[i].vtep, ip, 4) == 0)
			return (int)i;
	}
	return -1;
}

const struct ovl_host *
ovl_table_host(const struct ovl_table *t, unsigned int i)
{
	return i < t->n_hosts ? &t->hosts[i] : NULL;
}

unsigned int
ovl_table_n_hosts(const struct ovl_table *t)
{
	return t->n_hosts;
}

unsigned int
ovl_table_n_entries(const struct ovl_table *t)
{
	return t->n_entries;
}
