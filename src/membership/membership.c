/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The co-residency table: entries by UUID (a list in arrival order plus a
 * hash), and the MAC index, a claim per MAC held by the first interface
 * that asked while its domain is present (any state but stopped).  Events
 * come from membership_libvirt (through its queue) or from tests; the
 * dataplane reads a copy, never this.  Everything here runs on the control
 * thread: no locks, no atomics.
 */
#include "membership/membership.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* Fixed bucket counts: thousands of domains give short chains, and a
 * control-path table does not need to grow. */
#define VM_BUCKETS 1024
#define MAC_BUCKETS 4096

struct mvm {
	struct membership_vm pub;       /* first: what callers see */
	struct mvm *prev, *next;        /* arrival order */
	struct mvm *hnext;              /* UUID bucket chain */
	uint64_t seen_epoch;            /* last resync (or upsert) saw it */
};

/* MAC -> the domain whose interface holds it.  The holder is the one
 * interface of that domain with this MAC that is not refused. */
struct claim {
	uint8_t mac[MEMBERSHIP_MAC_LEN];
	struct mvm *vm;
	struct claim *hnext;
};

struct membership {
	struct membership_params p;
	struct mvm *head, *tail;
	uint32_t n_vms;
	uint32_t n_refused;             /* interfaces refused: claims_retry()
					 * has work only when > 0 */
	uint64_t generation;
	uint64_t epoch;                 /* resync counter */
	uint64_t reasons[MEMBERSHIP_REASON_COUNT];
	struct mvm *vm_buckets[VM_BUCKETS];
	struct claim *claim_buckets[MAC_BUCKETS];
};

static const char *const state_names[MEMBERSHIP_STATE_COUNT] = {
	[MEMBERSHIP_RUNNING] = "running",
	[MEMBERSHIP_PAUSED] = "paused",
	[MEMBERSHIP_MIGRATING_IN] = "migrating_in",
	[MEMBERSHIP_MIGRATING_OUT] = "migrating_out",
	[MEMBERSHIP_STOPPED] = "stopped",
};

static const char *const reason_names[MEMBERSHIP_REASON_COUNT] = {
#define MEMBERSHIP_REASON_NAME(e, name, help) [MEMBERSHIP_REASON_ ## e] = name,
	MEMBERSHIP_REASONS(MEMBERSHIP_REASON_NAME)
#undef MEMBERSHIP_REASON_NAME
};

static const char *const reason_helps[MEMBERSHIP_REASON_COUNT] = {
#define MEMBERSHIP_REASON_HELP(e, name, help) [MEMBERSHIP_REASON_ ## e] = help,
	MEMBERSHIP_REASONS(MEMBERSHIP_REASON_HELP)
#undef MEMBERSHIP_REASON_HELP
};

const char *
membership_state_name(enum membership_state state)
{
	return (unsigned int)state < MEMBERSHIP_STATE_COUNT ?
	       state_names[state] : "?";
}

const char *
membership_reason_name(enum membership_reason reason)
{
	return (unsigned int)reason < MEMBERSHIP_REASON_COUNT ?
	       reason_names[reason] : "?";
}

const char *
membership_reason_help(enum membership_reason reason)
{
	return (unsigned int)reason < MEMBERSHIP_REASON_COUNT ?
	       reason_helps[reason] : "?";
}

char *
membership_mac_format(const uint8_t mac[MEMBERSHIP_MAC_LEN], char *buf)
{
	snprintf(buf, 18, "%02x:%02x:%02x:%02x:%02x:%02x",
		 mac[0], mac[1], mac[2], mac[3], mac[4], mac[5]);
	return buf;
}

static void mlog(const struct membership *m, enum membership_log_level level,
		 const char *fmt, ...) __attribute__((format(printf, 3, 4)));

static void
mlog(const struct membership *m, enum membership_log_level level,
     const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	if (m->p.log == NULL)
		return;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	m->p.log(m->p.log_ctx, level, msg);
}

static uint64_t
clock_realtime_ns(void *ctx)
{
	struct timespec ts;

	(void)ctx;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* A domain present on this host holds its MACs; a stopped one does not
 * (a shut-off clone may well share a MAC with the running original). */
static bool
state_holds_claims(enum membership_state state)
{
	return state != MEMBERSHIP_STOPPED;
}

/* ------------------------------------------------------------ validation */

static bool
uuid_valid(const char *uuid)
{
	if (uuid == NULL || strlen(uuid) != MEMBERSHIP_UUID_LEN)
		return false;
	for (int i = 0; i < MEMBERSHIP_UUID_LEN; i++) {
		char c = uuid[i];
		bool dash = i == 8 || i == 13 || i == 18 || i == 23;

		if (dash ? c != '-' :
		    !((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') ||
		      (c >= 'A' && c <= 'F')))
			return false;
	}
	return true;
}

/* libvirt prints UUIDs in lower case; fold so that any spelling matches. */
static void
uuid_fold(char dst[MEMBERSHIP_UUID_LEN + 1], const char *src)
{
	for (int i = 0; i < MEMBERSHIP_UUID_LEN; i++) {
		char c = src[i];

		dst[i] = (c >= 'A' && c <= 'F') ? (char)(c - 'A' + 'a') : c;
	}
	dst[MEMBERSHIP_UUID_LEN] = '\0';
}

static bool
mac_valid(const uint8_t *mac)
{
	static const uint8_t zero[MEMBERSHIP_MAC_LEN];

	/* A multicast "MAC" would capture floods; all-zero is no address. */
	return (mac[0] & 1) == 0 && memcmp(mac, zero, MEMBERSHIP_MAC_LEN) != 0;
}

static bool
iface_info_valid(const struct membership_iface_info *ifc)
{
	return ifc != NULL && ifc->socket != NULL && ifc->socket[0] != '\0' &&
	       mac_valid(ifc->mac);
}

static bool
vm_info_valid(const struct membership_vm_info *info)
{
	if (info == NULL || !uuid_valid(info->uuid) || info->name == NULL ||
	    info->name[0] == '\0' || info->n_ifaces > MEMBERSHIP_IFACES_MAX ||
	    (info->n_ifaces > 0 && info->ifaces == NULL))
		return false;
	for (uint32_t i = 0; i < info->n_ifaces; i++)
		if (!iface_info_valid(&info->ifaces[i]))
			return false;
	return true;
}

/* ------------------------------------------------------------ hashing */

/* FNV-1a: short keys, no adversary (the keys come from libvirt). */
static uint32_t
fnv1a(const void *key, size_t size)
{
	const uint8_t *p = key;
	uint32_t h = 2166136261u;

	for (size_t i = 0; i < size; i++)
		h = (h ^ p[i]) * 16777619u;
	return h;
}

static struct mvm **
vm_slot(struct membership *m, const char *folded_uuid)
{
	struct mvm **slot = &m->vm_buckets[fnv1a(folded_uuid,
						 MEMBERSHIP_UUID_LEN) %
					   VM_BUCKETS];

	while (*slot != NULL && strcmp((*slot)->pub.uuid, folded_uuid) != 0)
		slot = &(*slot)->hnext;
	return slot;
}

static struct mvm *
vm_find(const struct membership *m, const char *uuid)
{
	char folded[MEMBERSHIP_UUID_LEN + 1];
	struct mvm *vm;

	if (!uuid_valid(uuid))
		return NULL;
	uuid_fold(folded, uuid);
	vm = m->vm_buckets[fnv1a(folded, MEMBERSHIP_UUID_LEN) % VM_BUCKETS];
	while (vm != NULL && strcmp(vm->pub.uuid, folded) != 0)
		vm = vm->hnext;
	return vm;
}

static struct claim **
claim_slot(struct membership *m, const uint8_t *mac)
{
	struct claim **slot = &m->claim_buckets[fnv1a(mac, MEMBERSHIP_MAC_LEN) %
						MAC_BUCKETS];

	while (*slot != NULL &&
	       memcmp((*slot)->mac, mac, MEMBERSHIP_MAC_LEN) != 0)
		slot = &(*slot)->hnext;
	return slot;
}

static const struct claim *
claim_find(const struct membership *m, const uint8_t *mac)
{
	uint32_t b = fnv1a(mac, MEMBERSHIP_MAC_LEN) % MAC_BUCKETS;
	const struct claim *c = m->claim_buckets[b];

	while (c != NULL && memcmp(c->mac, mac, MEMBERSHIP_MAC_LEN) != 0)
		c = c->hnext;
	return c;
}

/* The interface of vm that holds mac (not refused), or NULL. */
static const struct membership_iface *
holder_iface(const struct mvm *vm, const uint8_t *mac)
{
	for (uint32_t i = 0; i < vm->pub.n_ifaces; i++) {
		const struct membership_iface *ifc = &vm->pub.ifaces[i];

		if (!ifc->refused &&
		    memcmp(ifc->mac, mac, MEMBERSHIP_MAC_LEN) == 0)
			return ifc;
	}
	return NULL;
}

/* ------------------------------------------------------------ changes */

static void
changed(struct membership *m, struct mvm *vm, enum membership_state old_state,
	unsigned int changes)
{
	vm->pub.changed_ns = m->p.clock_ns(m->p.clock_ctx);
	m->generation++;
	if (m->p.on_change != NULL)
		m->p.on_change(m->p.change_ctx, &vm->pub, old_state, changes);
}

/* ------------------------------------------------------------ claims */

/*
 * Claim the MAC of vm's interface i: granted when nobody holds it,
 * otherwise the interface is refused (counted, logged) and the holder
 * keeps it.  First come, first served: whoever was there first is already
 * receiving that MAC's traffic, and taking it away on a later claim would
 * let any domain definition steal another guest's frames.
 */
static void
claim_take(struct membership *m, struct mvm *vm, uint32_t i)
{
	struct membership_iface *ifc = &vm->pub.ifaces[i];
	struct claim **slot = claim_slot(m, ifc->mac);
	char mac[18];

	if (*slot == NULL) {
		struct claim *c = malloc(sizeof(*c));

		if (c != NULL) {
			memcpy(c->mac, ifc->mac, MEMBERSHIP_MAC_LEN);
			c->vm = vm;
			c->hnext = NULL;
			*slot = c;
			ifc->refused = false;
			return;
		}
		/* Refused for now; claims_retry() tries again. */
		mlog(m, MEMBERSHIP_LOG_ERR,
		     "domain %s (%s): interface %s: MAC %s: out of memory for "
		     "the MAC index: refused for now",
		     vm->pub.name, vm->pub.uuid, ifc->socket,
		     membership_mac_format(ifc->mac, mac));
	} else if ((*slot)->vm == vm) {
		const struct membership_iface *h = holder_iface(vm, ifc->mac);

		m->reasons[MEMBERSHIP_REASON_MAC_DUPLICATE]++;
		mlog(m, MEMBERSHIP_LOG_WARNING,
		     "domain %s (%s): interface %s: MAC %s is already on its "
		     "interface %s: refused (mac_duplicate)",
		     vm->pub.name, vm->pub.uuid, ifc->socket,
		     membership_mac_format(ifc->mac, mac),
		     h != NULL ? h->socket : "?");
	} else {
		const struct mvm *owner = (*slot)->vm;
		const struct membership_iface *h;

		h = holder_iface(owner, ifc->mac);

		m->reasons[MEMBERSHIP_REASON_MAC_CONFLICT]++;
		mlog(m, MEMBERSHIP_LOG_WARNING,
		     "domain %s (%s): interface %s: MAC %s is already claimed "
		     "by domain %s (%s) on %s: refused until that one lets go "
		     "(mac_conflict)",
		     vm->pub.name, vm->pub.uuid, ifc->socket,
		     membership_mac_format(ifc->mac, mac), owner->pub.name,
		     owner->pub.uuid, h != NULL ? h->socket : "?");
	}
	ifc->refused = true;
	m->n_refused++;
}

static void
claims_take(struct membership *m, struct mvm *vm)
{
	for (uint32_t i = 0; i < vm->pub.n_ifaces; i++)
		claim_take(m, vm, i);
}

/* Let go of the claim on interface i (or of its refusal).  Returns true
 * when a MAC became free (someone refused may now have it). */
static bool
claim_drop(struct membership *m, struct mvm *vm, uint32_t i)
{
	struct membership_iface *ifc = &vm->pub.ifaces[i];
	struct claim **slot;

	if (ifc->refused) {
		ifc->refused = false;
		m->n_refused--;
		return false;
	}
	slot = claim_slot(m, ifc->mac);
	if (*slot == NULL || (*slot)->vm != vm)
		return false;   /* cannot happen: not refused means held */
	struct claim *c = *slot;

	*slot = c->hnext;
	free(c);
	return true;
}

static bool
claims_drop(struct membership *m, struct mvm *vm)
{
	bool released = false;

	for (uint32_t i = 0; i < vm->pub.n_ifaces; i++)
		released |= claim_drop(m, vm, i);
	return released;
}

/*
 * MACs were released: hand each to the earliest-arrived present domain
 * that was refused it.  A walk over every entry, but only while some
 * interface is refused, which is an operator's mistake being waited out.
 */
static void
claims_retry(struct membership *m)
{
	for (struct mvm *vm = m->head; vm != NULL && m->n_refused > 0;
	     vm = vm->next) {
		bool granted = false;

		if (!state_holds_claims(vm->pub.state))
			continue;
		for (uint32_t i = 0; i < vm->pub.n_ifaces; i++) {
			struct membership_iface *ifc = &vm->pub.ifaces[i];
			char mac[18];

			if (!ifc->refused || claim_find(m, ifc->mac) != NULL)
				continue;
			ifc->refused = false;
			m->n_refused--;
			claim_take(m, vm, i);
			if (ifc->refused)
				continue;
			granted = true;
			mlog(m, MEMBERSHIP_LOG_INFO,
			     "domain %s (%s): interface %s: MAC %s released by "
			     "its holder: granted",
			     vm->pub.name, vm->pub.uuid, ifc->socket,
			     membership_mac_format(ifc->mac, mac));
		}
		if (granted)
			changed(m, vm, vm->pub.state, MEMBERSHIP_CHANGE_CLAIMS);
	}
}

/* ------------------------------------------------------------ entries */

static void
ifaces_free(struct membership_iface *ifaces, uint32_t n)
{
	if (ifaces == NULL)
		return;
	for (uint32_t i = 0; i < n; i++)
		free(ifaces[i].socket);
	free(ifaces);
}

static struct membership_iface *
ifaces_copy(const struct membership_vm_info *info)
{
	struct membership_iface *ifaces = calloc(info->n_ifaces,
						 sizeof(*ifaces));

	if (ifaces == NULL)
		return NULL;
	for (uint32_t i = 0; i < info->n_ifaces; i++) {
		memcpy(ifaces[i].mac, info->ifaces[i].mac, MEMBERSHIP_MAC_LEN);
		ifaces[i].hint = info->ifaces[i].hint;
		ifaces[i].socket = strdup(info->ifaces[i].socket);
		if (ifaces[i].socket == NULL) {
			ifaces_free(ifaces, i);
			return NULL;
		}
	}
	return ifaces;
}

static bool
iface_same(const struct membership_iface *a,
	   const struct membership_iface_info *b)
{
	return memcmp(a->mac, b->mac, MEMBERSHIP_MAC_LEN) == 0 &&
	       strcmp(a->socket, b->socket) == 0;
}

/* Same interfaces in the same order (libvirt keeps the XML's order). */
static bool
ifaces_same(const struct mvm *vm, const struct membership_vm_info *info)
{
	if (vm->pub.n_ifaces != info->n_ifaces)
		return false;
	for (uint32_t i = 0; i < info->n_ifaces; i++)
		if (!iface_same(&vm->pub.ifaces[i], &info->ifaces[i]))
			return false;
	return true;
}

static void
vm_free(struct mvm *vm)
{
	ifaces_free(vm->pub.ifaces, vm->pub.n_ifaces);
	free(vm->pub.name);
	free(vm);
}

static struct mvm *
vm_new(const struct membership_vm_info *info, enum membership_state state)
{
	struct mvm *vm = calloc(1, sizeof(*vm));

	if (vm == NULL)
		return NULL;
	uuid_fold(vm->pub.uuid, info->uuid);
	vm->pub.name = strdup(info->name);
	vm->pub.ifaces = ifaces_copy(info);
	if (vm->pub.name == NULL || vm->pub.ifaces == NULL) {
		free(vm->pub.name);
		ifaces_free(vm->pub.ifaces, info->n_ifaces);
		free(vm);
		return NULL;
	}
	vm->pub.n_ifaces = info->n_ifaces;
	vm->pub.state = state;
	vm->pub.persistent = info->persistent;
	return vm;
}

static void
vm_link(struct membership *m, struct mvm *vm)
{
	struct mvm **slot = vm_slot(m, vm->pub.uuid);

	*slot = vm;
	vm->prev = m->tail;
	if (m->tail != NULL)
		m->tail->next = vm;
	else
		m->head = vm;
	m->tail = vm;
	m->n_vms++;
}

static void
vm_unlink(struct membership *m, struct mvm *vm)
{
	struct mvm **slot = vm_slot(m, vm->pub.uuid);

	*slot = vm->hnext;
	if (vm->prev != NULL)
		vm->prev->next = vm->next;
	else
		m->head = vm->next;
	if (vm->next != NULL)
		vm->next->prev = vm->prev;
	else
		m->tail = vm->prev;
	m->n_vms--;
}

/* Gone: its MACs go back to whoever was refused them. */
static void
vm_remove(struct membership *m, struct mvm *vm, const char *why)
{
	bool released = claims_drop(m, vm);

	vm_unlink(m, vm);
	mlog(m, MEMBERSHIP_LOG_INFO, "domain %s (%s): %s: removed",
	     vm->pub.name, vm->pub.uuid, why);
	changed(m, vm, vm->pub.state, MEMBERSHIP_CHANGE_REMOVED);
	vm_free(vm);
	if (released)
		claims_retry(m);
}

static void
vm_log_state(const struct membership *m, const struct mvm *vm,
	     enum membership_state old_state)
{
	mlog(m, MEMBERSHIP_LOG_INFO, "domain %s (%s): %s -> %s",
	     vm->pub.name, vm->pub.uuid, membership_state_name(old_state),
	     membership_state_name(vm->pub.state));
}

enum upsert_how {
	UPSERT_LIVE,            /* started, migrating in, seen: the info is
				 * what runs (or what a resync listed) */
	UPSERT_DEFINED,         /* a persistent config: the live one wins */
};

/*
 * Add the domain, or bring its entry to (info, state).  Allocates before
 * touching anything, so -ENOMEM leaves the entry as it was.  Its own MACs
 * are re-claimed before released ones are offered to others, so replacing
 * the interfaces of a domain never hands its MACs to a refused rival.
 */
static int
vm_upsert(struct membership *m, const struct membership_vm_info *info,
	  enum membership_state state, enum upsert_how how)
{
	struct mvm *vm;

	if (!vm_info_valid(info))
		return -EINVAL;
	vm = vm_find(m, info->uuid);
	if (vm == NULL) {
		if (info->n_ifaces == 0)
			return 0;       /* nothing of ours */
		vm = vm_new(info, state);
		if (vm == NULL)
			return -ENOMEM;
		vm->seen_epoch = m->epoch;
		vm_link(m, vm);
		mlog(m, MEMBERSHIP_LOG_INFO,
		     "domain %s (%s): %s with %u vhost-user interface(s)",
		     vm->pub.name, vm->pub.uuid, membership_state_name(state),
		     vm->pub.n_ifaces);
		if (state_holds_claims(state))
			claims_take(m, vm);
		changed(m, vm, state, MEMBERSHIP_CHANGE_ADDED);
		return 0;
	}

	vm->seen_epoch = m->epoch;
	if (how == UPSERT_DEFINED) {
		vm->pub.persistent = true;
		if (vm->pub.state != MEMBERSHIP_STOPPED)
			return 0;
	} else {
		vm->pub.persistent = info->persistent;
	}
	if (info->n_ifaces == 0) {
		vm_remove(m, vm, "no vhost-user interface any more");
		return 0;
	}

	enum membership_state old_state = vm->pub.state;
	bool new_ifaces = !ifaces_same(vm, info);
	bool new_name = strcmp(vm->pub.name, info->name) != 0;
	bool reclaim = new_ifaces || state_holds_claims(old_state) !=
				     state_holds_claims(state);
	struct membership_iface *ifaces = NULL;
	char *name = NULL;
	unsigned int changes = 0;
	bool released = false;

	if (new_ifaces && (ifaces = ifaces_copy(info)) == NULL)
		return -ENOMEM;
	if (new_name && (name = strdup(info->name)) == NULL) {
		ifaces_free(ifaces, info->n_ifaces);
		return -ENOMEM;
	}
	if (reclaim)
		released = claims_drop(m, vm);
	if (new_ifaces) {
		ifaces_free(vm->pub.ifaces, vm->pub.n_ifaces);
		vm->pub.ifaces = ifaces;
		vm->pub.n_ifaces = info->n_ifaces;
		changes |= MEMBERSHIP_CHANGE_IFACES;
	}
	if (new_name) {
		free(vm->pub.name);
		vm->pub.name = name;
		changes |= MEMBERSHIP_CHANGE_NAME;
	}
	if (old_state != state) {
		vm->pub.state = state;
		changes |= MEMBERSHIP_CHANGE_STATE;
		vm_log_state(m, vm, old_state);
	}
	if (reclaim && state_holds_claims(state))
		claims_take(m, vm);
	if (changes != 0)
		changed(m, vm, old_state, changes);
	if (released)
		claims_retry(m);
	return 0;
}

static struct mvm *
vm_find_event(struct membership *m, const char *uuid, const char *event)
{
	struct mvm *vm = vm_find(m, uuid);

	if (vm == NULL && uuid_valid(uuid)) {
		m->reasons[MEMBERSHIP_REASON_UNKNOWN_VM]++;
		mlog(m, MEMBERSHIP_LOG_DEBUG,
		     "domain %s: %s: not in the table (unknown_vm)", uuid,
		     event);
	}
	return vm;
}

static int
vm_state_event(struct membership *m, const char *uuid,
	       enum membership_state state, const char *event)
{
	struct mvm *vm;
	enum membership_state old_state;
	bool released = false;

	if (!uuid_valid(uuid))
		return -EINVAL;
	vm = vm_find_event(m, uuid, event);
	if (vm == NULL)
		return -ENOENT;
	old_state = vm->pub.state;
	if (old_state == state)
		return 0;
	if (state_holds_claims(old_state) && !state_holds_claims(state))
		released = claims_drop(m, vm);
	vm->pub.state = state;
	if (!state_holds_claims(old_state) && state_holds_claims(state))
		claims_take(m, vm);
	vm_log_state(m, vm, old_state);
	changed(m, vm, old_state, MEMBERSHIP_CHANGE_STATE);
	if (released)
		claims_retry(m);
	return 0;
}

/* ------------------------------------------------------------ events */

int
membership_vm_started(struct membership *m,
		      const struct membership_vm_info *info)
{
	return vm_upsert(m, info, MEMBERSHIP_RUNNING, UPSERT_LIVE);
}

int
membership_vm_migrating_in(struct membership *m,
			   const struct membership_vm_info *info)
{
	return vm_upsert(m, info, MEMBERSHIP_MIGRATING_IN, UPSERT_LIVE);
}

int
membership_vm_defined(struct membership *m,
		      const struct membership_vm_info *info)
{
	if (info != NULL && !info->persistent)
		return -EINVAL;
	return vm_upsert(m, info, MEMBERSHIP_STOPPED, UPSERT_DEFINED);
}

int
membership_vm_seen(struct membership *m, const struct membership_vm_info *info,
		   enum membership_state state)
{
	if ((unsigned int)state >= MEMBERSHIP_STATE_COUNT)
		return -EINVAL;
	return vm_upsert(m, info, state, UPSERT_LIVE);
}

int
membership_vm_paused(struct membership *m, const char *uuid)
{
	return vm_state_event(m, uuid, MEMBERSHIP_PAUSED, "paused");
}

int
membership_vm_resumed(struct membership *m, const char *uuid)
{
	return vm_state_event(m, uuid, MEMBERSHIP_RUNNING, "resumed");
}

int
membership_vm_migrating_out(struct membership *m, const char *uuid)
{
	return vm_state_event(m, uuid, MEMBERSHIP_MIGRATING_OUT,
			      "migrating out");
}

int
membership_vm_migrated_in(struct membership *m, const char *uuid)
{
	return vm_state_event(m, uuid, MEMBERSHIP_RUNNING, "migrated in");
}

int
membership_vm_stopped(struct membership *m, const char *uuid)
{
	struct mvm *vm;

	if (!uuid_valid(uuid))
		return -EINVAL;
	vm = vm_find_event(m, uuid, "stopped");
	if (vm == NULL)
		return -ENOENT;
	/* A transient domain exists only while it runs. */
	if (!vm->pub.persistent) {
		vm_remove(m, vm, "transient domain stopped");
		return 0;
	}
	return vm_state_event(m, uuid, MEMBERSHIP_STOPPED, "stopped");
}

int
membership_vm_undefined(struct membership *m, const char *uuid)
{
	struct mvm *vm;

	if (!uuid_valid(uuid))
		return -EINVAL;
	vm = vm_find_event(m, uuid, "undefined");
	if (vm == NULL)
		return -ENOENT;
	if (vm->pub.state == MEMBERSHIP_STOPPED) {
		vm_remove(m, vm, "undefined");
		return 0;
	}
	/* Still running, now transient: it goes when it stops.  Persistence
	 * does not change forwarding: no change to publish. */
	vm->pub.persistent = false;
	return 0;
}

int
membership_vm_device_added(struct membership *m, const char *uuid,
			   const struct membership_iface_info *iface)
{
	struct membership_iface *ifaces;
	struct mvm *vm;
	char mac[18];
	uint32_t n;

	if (!uuid_valid(uuid) || !iface_info_valid(iface))
		return -EINVAL;
	vm = vm_find_event(m, uuid, "device added");
	if (vm == NULL)
		return -ENOENT;
	n = vm->pub.n_ifaces;
	for (uint32_t i = 0; i < n; i++)
		if (iface_same(&vm->pub.ifaces[i], iface))
			return 0;
	if (n == MEMBERSHIP_IFACES_MAX)
		return -ENOSPC;
	ifaces = realloc(vm->pub.ifaces, (n + 1) * sizeof(*ifaces));
	if (ifaces == NULL)
		return -ENOMEM;
	vm->pub.ifaces = ifaces;
	ifaces[n] = (struct membership_iface){ .refused = false };
	memcpy(ifaces[n].mac, iface->mac, MEMBERSHIP_MAC_LEN);
	ifaces[n].hint = iface->hint;
	ifaces[n].socket = strdup(iface->socket);
	if (ifaces[n].socket == NULL)
		return -ENOMEM;
	vm->pub.n_ifaces = n + 1;
	mlog(m, MEMBERSHIP_LOG_INFO, "domain %s (%s): interface %s (%s) added",
	     vm->pub.name, vm->pub.uuid, iface->socket,
	     membership_mac_format(iface->mac, mac));
	if (state_holds_claims(vm->pub.state))
		claim_take(m, vm, n);
	changed(m, vm, vm->pub.state, MEMBERSHIP_CHANGE_IFACES);
	return 0;
}

int
membership_vm_device_removed(struct membership *m, const char *uuid,
			     const uint8_t mac[MEMBERSHIP_MAC_LEN])
{
	struct mvm *vm;
	uint32_t n, victim = UINT32_MAX;
	bool released = false;
	char macs[18];

	if (!uuid_valid(uuid) || mac == NULL)
		return -EINVAL;
	vm = vm_find_event(m, uuid, "device removed");
	if (vm == NULL)
		return -ENOENT;
	n = vm->pub.n_ifaces;
	/* The refused duplicate first: the one holding the MAC keeps it. */
	for (uint32_t i = n; i-- > 0;) {
		const struct membership_iface *ifc = &vm->pub.ifaces[i];

		if (memcmp(ifc->mac, mac, MEMBERSHIP_MAC_LEN) != 0)
			continue;
		if (victim == UINT32_MAX || ifc->refused)
			victim = i;
		if (ifc->refused)
			break;
	}
	if (victim == UINT32_MAX) {
		m->reasons[MEMBERSHIP_REASON_UNKNOWN_IFACE]++;
		mlog(m, MEMBERSHIP_LOG_DEBUG,
		     "domain %s (%s): device removed: no interface with MAC %s "
		     "(unknown_iface)", vm->pub.name, vm->pub.uuid,
		     membership_mac_format(mac, macs));
		return -ENOENT;
	}
	if (n == 1) {
		vm_remove(m, vm, "its last vhost-user interface was removed");
		return 0;
	}
	mlog(m, MEMBERSHIP_LOG_INFO,
	     "domain %s (%s): interface %s (%s) removed", vm->pub.name,
	     vm->pub.uuid, vm->pub.ifaces[victim].socket,
	     membership_mac_format(mac, macs));
	if (state_holds_claims(vm->pub.state))
		released = claim_drop(m, vm, victim);
	free(vm->pub.ifaces[victim].socket);
	memmove(&vm->pub.ifaces[victim], &vm->pub.ifaces[victim + 1],
		(n - victim - 1) * sizeof(vm->pub.ifaces[0]));
	vm->pub.n_ifaces = n - 1;
	changed(m, vm, vm->pub.state, MEMBERSHIP_CHANGE_IFACES);
	if (released)
		claims_retry(m);
	return 0;
}

void
membership_resync_begin(struct membership *m)
{
	m->epoch++;
}

uint32_t
membership_resync_commit(struct membership *m)
{
	struct mvm *vm = m->head;
	uint32_t removed = 0;

	while (vm != NULL) {
		struct mvm *next = vm->next;

		if (vm->seen_epoch != m->epoch) {
			vm_remove(m, vm, "gone since the last resync");
			removed++;
		}
		vm = next;
	}
	return removed;
}

/* ------------------------------------------------------------ queries */

const struct membership_vm *
membership_mac_owner(const struct membership *m,
		     const uint8_t mac[MEMBERSHIP_MAC_LEN])
{
	const struct claim *c = claim_find(m, mac);

	return c != NULL ? &c->vm->pub : NULL;
}

const char *
membership_mac_socket(const struct membership *m,
		      const uint8_t mac[MEMBERSHIP_MAC_LEN])
{
	const struct claim *c = claim_find(m, mac);
	const struct membership_iface *ifc;

	if (c == NULL || c->vm->pub.state != MEMBERSHIP_RUNNING)
		return NULL;
	ifc = holder_iface(c->vm, mac);
	return ifc != NULL ? ifc->socket : NULL;
}

const struct membership_vm *
membership_find(const struct membership *m, const char *uuid)
{
	const struct mvm *vm = vm_find(m, uuid);

	return vm != NULL ? &vm->pub : NULL;
}

const struct membership_vm *
membership_next(const struct membership *m, const struct membership_vm *prev)
{
	const struct mvm *vm;

	if (prev == NULL)
		vm = m->head;
	else
		vm = ((const struct mvm *)prev)->next;  /* pub is first */
	return vm != NULL ? &vm->pub : NULL;
}

uint32_t
membership_count(const struct membership *m)
{
	return m->n_vms;
}

uint64_t
membership_generation(const struct membership *m)
{
	return m->generation;
}

uint64_t
membership_reason_count(const struct membership *m,
			enum membership_reason reason)
{
	return (unsigned int)reason < MEMBERSHIP_REASON_COUNT ?
	       m->reasons[reason] : 0;
}

/* ------------------------------------------------------------ life */

struct membership *
membership_create(const struct membership_params *params)
{
	struct membership *m = calloc(1, sizeof(*m));

	if (m == NULL) {
		errno = ENOMEM;
		return NULL;
	}
	if (params != NULL)
		m->p = *params;
	if (m->p.clock_ns == NULL)
		m->p.clock_ns = clock_realtime_ns;
	return m;
}

void
membership_destroy(struct membership *m)
{
	if (m == NULL)
		return;
	for (unsigned int b = 0; b < MAC_BUCKETS; b++) {
		struct claim *c = m->claim_buckets[b];

		while (c != NULL) {
			struct claim *next = c->hnext;

			free(c);
			c = next;
		}
	}
	for (struct mvm *vm = m->head, *next; vm != NULL; vm = next) {
		next = vm->next;
		vm_free(vm);
	}
	free(m);
}
