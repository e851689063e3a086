/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The co-residency table on its own, driven event by event like a story:
 * a VM's life (started, paused, resumed, migrating out and back, stopped,
 * undefined), transient domains, incoming migration, definitions that
 * must not touch a running VM's live interfaces, hot-plug, resync
 * removing what vanished, MAC conflicts (refused, counted, logged, never
 * overwritten, granted when the holder lets go), bad input, the injected
 * clock and the change callback.
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

#include "membership/membership.h"

#define UUID_A "11111111-1111-1111-1111-111111111111"
#define UUID_B "22222222-2222-2222-2222-222222222222"
#define UUID_C "33333333-3333-3333-3333-333333333333"
#define UUID_D "44444444-4444-4444-4444-444444444444"

static const uint8_t MAC_1[6] = { 0x52, 0x54, 0x00, 0x00, 0x01, 0x01 };
static const uint8_t MAC_2[6] = { 0x52, 0x54, 0x00, 0x00, 0x01, 0x02 };
static const uint8_t MAC_3[6] = { 0x52, 0x54, 0x00, 0x00, 0x02, 0x01 };
static const uint8_t MAC_9[6] = { 0x52, 0x54, 0x00, 0x00, 0x09, 0x09 };

#define LOGS_MAX 64
#define CHANGES_MAX 64

struct change {
	char uuid[MEMBERSHIP_UUID_LEN + 1];
	enum membership_state old_state;
	enum membership_state state;
	unsigned int changes;
};

struct fx {
	struct membership *m;
	uint64_t now;
	char logs[LOGS_MAX][512];
	int n_logs;
	struct change changes[CHANGES_MAX];
	int n_changes;
};

static uint64_t
fake_clock(void *ctx)
{
	return ((struct fx *)ctx)->now;
}

static void
record_log(void *ctx, enum membership_log_level level, const char *msg)
{
	struct fx *fx = ctx;

	(void)level;
	if (fx->n_logs < LOGS_MAX)
		snprintf(fx->logs[fx->n_logs++], sizeof(fx->logs[0]), "%s", msg);
}

static void
record_change(void *ctx, const struct membership_vm *vm,
	      enum membership_state old_state, unsigned int changes)
{
	struct fx *fx = ctx;

	if (fx->n_changes < CHANGES_MAX) {
		struct change *c = &fx->changes[fx->n_changes++];

		memcpy(c->uuid, vm->uuid, sizeof(c->uuid));
		c->old_state = old_state;
		c->state = vm->state;
		c->changes = changes;
	}
}

static bool
logged(const struct fx *fx, const char *a, const char *b)
{
	for (int i = 0; i < fx->n_logs; i++)
		if (strstr(fx->logs[i], a) != NULL &&
		    (b == NULL || strstr(fx->logs[i], b) != NULL))
			return true;
	return false;
}

static int
setup(void **state)
{
	struct fx *fx = calloc(1, sizeof(*fx));
	struct membership_params p;

	assert_non_null(fx);
	fx->now = 1000;
	p = (struct membership_params){
		.clock_ns = fake_clock, .clock_ctx = fx,
		.log = record_log, .log_ctx = fx,
		.on_change = record_change, .change_ctx = fx,
	};
	fx->m = membership_create(&p);
	assert_non_null(fx->m);
	*state = fx;
	return 0;
}

static int
teardown(void **state)
{
	struct fx *fx = *state;

	membership_destroy(fx->m);
	free(fx);
	return 0;
}

/* One VM's description, as an event source would hand it in. */
struct vmdesc {
	struct membership_iface_info ifaces[MEMBERSHIP_IFACES_MAX + 1];
	struct membership_vm_info info;
};

static const struct membership_vm_info *
vm(struct vmdesc *d, const char *uuid, const char *name, bool persistent,
   int n, ...)
{
	va_list ap;

	va_start(ap, n);
	for (int i = 0; i < n; i++) {
		const uint8_t *mac = va_arg(ap, const uint8_t *);

		memcpy(d->ifaces[i].mac, mac, 6);
		d->ifaces[i].socket = va_arg(ap, const char *);
	}
	va_end(ap);
	d->info = (struct membership_vm_info){
		.uuid = uuid, .name = name, .persistent = persistent,
		.n_ifaces = (uint32_t)n, .ifaces = d->ifaces,
	};
	return &d->info;
}

static enum membership_state
state_of(const struct fx *fx, const char *uuid)
{
	const struct membership_vm *v = membership_find(fx->m, uuid);

	assert_non_null(v);
	return v->state;
}

static void
assert_socket(const struct fx *fx, const uint8_t *mac, const char *socket)
{
	const char *s = membership_mac_socket(fx->m, mac);

	if (socket == NULL)
		assert_null(s);
	else {
		assert_non_null(s);
		assert_string_equal(s, socket);
	}
}

/* ------------------------------------------------------------ stories */

static void
test_started(void **state)
{
	struct fx *fx = *state;
	struct vmdesc d;
	const struct membership_vm *v;

	assert_int_equal(membership_vm_started(fx->m,
		vm(&d, UUID_A, "vm1", true, 2, MAC_1, "/run/vtoe/vm1.0.sock",
		   MAC_2, "/run/vtoe/vm1.1.sock")), 0);
	assert_int_equal(membership_count(fx->m), 1);
	v = membership_find(fx->m, UUID_A);
	assert_non_null(v);
	assert_string_equal(v->uuid, UUID_A);
	assert_string_equal(v->name, "vm1");
	assert_int_equal(v->state, MEMBERSHIP_RUNNING);
	assert_true(v->persistent);
	assert_int_equal(v->n_ifaces, 2);
	assert_memory_equal(v->ifaces[0].mac, MAC_1, 6);
	assert_string_equal(v->ifaces[1].socket, "/run/vtoe/vm1.1.sock");
	assert_false(v->ifaces[0].refused);
	assert_int_equal(v->changed_ns, 1000);
	assert_socket(fx, MAC_1, "/run/vtoe/vm1.0.sock");
	assert_socket(fx, MAC_2, "/run/vtoe/vm1.1.sock");
	assert_socket(fx, MAC_3, NULL);
	assert_ptr_equal(membership_mac_owner(fx->m, MAC_2), v);
	assert_int_equal(membership_generation(fx->m), 1);
	assert_int_equal(fx->n_changes, 1);
	assert_int_equal(fx->changes[0].changes, MEMBERSHIP_CHANGE_ADDED);
	assert_true(logged(fx, "vm1", "2 vhost-user interface"));
}

static void
test_lifecycle_story(void **state)
{
	struct fx *fx = *state;
	struct vmdesc d;
	uint64_t gen;

	membership_vm_started(fx->m, vm(&d, UUID_A, "vm1", true, 1, MAC_1,
					 "/s/a"));
	/* paused: present (owns its MAC), but frames take the uplink */
	fx->now = 2000;
	assert_int_equal(membership_vm_paused(fx->m, UUID_A), 0);
	assert_int_equal(state_of(fx, UUID_A), MEMBERSHIP_PAUSED);
	assert_socket(fx, MAC_1, NULL);
	assert_non_null(membership_mac_owner(fx->m, MAC_1));
	assert_int_equal(membership_find(fx->m, UUID_A)->changed_ns, 2000);
	assert_int_equal(fx->changes[1].old_state, MEMBERSHIP_RUNNING);
	assert_int_equal(fx->changes[1].state, MEMBERSHIP_PAUSED);
	assert_int_equal(fx->changes[1].changes, MEMBERSHIP_CHANGE_STATE);
	assert_true(logged(fx, "running -> paused", NULL));

	/* paused again: nothing changes, nothing to republish */
	gen = membership_generation(fx->m);
	fx->now = 2500;
	assert_int_equal(membership_vm_paused(fx->m, UUID_A), 0);
	assert_int_equal(membership_generation(fx->m), gen);
	assert_int_equal(membership_find(fx->m, UUID_A)->changed_ns, 2000);

	/* resumed: local again */
	fx->now = 3000;
	membership_vm_resumed(fx->m, UUID_A);
	assert_int_equal(state_of(fx, UUID_A), MEMBERSHIP_RUNNING);
	assert_socket(fx, MAC_1, "/s/a");

	/* paused for the switch-over to another host */
	membership_vm_migrating_out(fx->m, UUID_A);
	assert_int_equal(state_of(fx, UUID_A), MEMBERSHIP_MIGRATING_OUT);
	assert_socket(fx, MAC_1, NULL);
	/* the migration was cancelled: it runs on here */
	membership_vm_migrated_in(fx->m, UUID_A);
	assert_int_equal(state_of(fx, UUID_A), MEMBERSHIP_RUNNING);
	assert_socket(fx, MAC_1, "/s/a");

	/* destroyed: a persistent domain stays, stopped, holding nothing */
	membership_vm_stopped(fx->m, UUID_A);
	assert_int_equal(state_of(fx, UUID_A), MEMBERSHIP_STOPPED);
	assert_socket(fx, MAC_1, NULL);
	assert_null(membership_mac_owner(fx->m, MAC_1));

	/* started again */
	membership_vm_started(fx->m, vm(&d, UUID_A, "vm1", true, 1, MAC_1,
					 "/s/a"));
	assert_socket(fx, MAC_1, "/s/a");

	/* undefined while running: transient now, still here */
	assert_int_equal(membership_vm_undefined(fx->m, UUID_A), 0);
	assert_int_equal(state_of(fx, UUID_A), MEMBERSHIP_RUNNING);
	assert_false(membership_find(fx->m, UUID_A)->persistent);
	assert_socket(fx, MAC_1, "/s/a");

	/* and gone when it stops */
	fx->n_changes = 0;
	assert_int_equal(membership_vm_stopped(fx->m, UUID_A), 0);
	assert_null(membership_find(fx->m, UUID_A));
	assert_int_equal(membership_count(fx->m), 0);
	assert_socket(fx, MAC_1, NULL);
	assert_int_equal(fx->n_changes, 1);
	assert_int_equal(fx->changes[0].changes, MEMBERSHIP_CHANGE_REMOVED);
	assert_int_equal(fx->changes[0].old_state, MEMBERSHIP_RUNNING);
}

static void
test_transient_stop_removes(void **state)
{
	struct fx *fx = *state;
	struct vmdesc d;

	membership_vm_started(fx->m, vm(&d, UUID_B, "t1", false, 1, MAC_3,
					 "/s/t"));
	assert_int_equal(membership_vm_stopped(fx->m, UUID_B), 0);
	assert_null(membership_find(fx->m, UUID_B));
	assert_true(logged(fx, "transient domain stopped", NULL));
}

static void
test_defined_then_undefined(void **state)
{
	struct fx *fx = *state;
	struct vmdesc d;

	/* defined: stopped, and a stopped domain claims nothing */
	assert_int_equal(membership_vm_defined(fx->m, vm(&d, UUID_A, "vm1",
		true, 1, MAC_1, "/s/a")), 0);
	assert_int_equal(state_of(fx, UUID_A), MEMBERSHIP_STOPPED);
	assert_null(membership_mac_owner(fx->m, MAC_1));
	/* redefined while stopped: the new config is what it has */
	membership_vm_defined(fx->m, vm(&d, UUID_A, "vm1", true, 1, MAC_2,
					"/s/a2"));
	assert_memory_equal(membership_find(fx->m, UUID_A)->ifaces[0].mac,
			    MAC_2, 6);
	/* started with its live config */
	membership_vm_started(fx->m, vm(&d, UUID_A, "vm1", true, 1, MAC_2,
					 "/s/a2"));
	assert_socket(fx, MAC_2, "/s/a2");
	/* redefined while running: the next boot's config, not the live one */
	fx->n_changes = 0;
	membership_vm_defined(fx->m, vm(&d, UUID_A, "vm1", true, 1, MAC_3,
					"/s/a3"));
	assert_int_equal(fx->n_changes, 0);
	assert_socket(fx, MAC_2, "/s/a2");
	assert_socket(fx, MAC_3, NULL);
	/* a transient "definition" is not one */
	assert_int_equal(membership_vm_defined(fx->m, vm(&d, UUID_B, "x",
		false, 1, MAC_9, "/s/x")), -EINVAL);
	/* stopped, then undefined: gone */
	membership_vm_stopped(fx->m, UUID_A);
	assert_int_equal(membership_vm_undefined(fx->m, UUID_A), 0);
	assert_int_equal(membership_count(fx->m), 0);
}

static void
test_migration_in(void **state)
{
	struct fx *fx = *state;
	struct vmdesc d;

	/* incoming: here, the source still runs it, so not local yet */
	assert_int_equal(membership_vm_migrating_in(fx->m, vm(&d, UUID_C,
		"mig", false, 1, MAC_3, "/s/m")), 0);
	assert_int_equal(state_of(fx, UUID_C), MEMBERSHIP_MIGRATING_IN);
	assert_socket(fx, MAC_3, NULL);
	assert_non_null(membership_mac_owner(fx->m, MAC_3));
	/* switch-over done: local */
	membership_vm_migrated_in(fx->m, UUID_C);
	assert_int_equal(state_of(fx, UUID_C), MEMBERSHIP_RUNNING);
	assert_socket(fx, MAC_3, "/s/m");
	/* and away again: paused for switch-over, then stopped (transient
	 * after an incoming migration): gone */
	membership_vm_migrating_out(fx->m, UUID_C);
	assert_socket(fx, MAC_3, NULL);
	membership_vm_stopped(fx->m, UUID_C);
	assert_null(membership_find(fx->m, UUID_C));
}

static void
test_idempotent_started(void **state)
{
	struct fx *fx = *state;
	struct vmdesc d;
	uint64_t gen;

	membership_vm_started(fx->m, vm(&d, UUID_A, "vm1", true, 1, MAC_1,
					 "/s/a"));
	gen = membership_generation(fx->m);
	fx->now = 5000;
	membership_vm_started(fx->m, vm(&d, UUID_A, "vm1", true, 1, MAC_1,
					 "/s/a"));
	assert_int_equal(membership_generation(fx->m), gen);
	assert_int_equal(membership_find(fx->m, UUID_A)->changed_ns, 1000);
	/* the same domain restarted with another live config */
	membership_vm_started(fx->m, vm(&d, UUID_A, "vm1-renamed", true, 2,
					 MAC_1, "/s/a", MAC_2, "/s/b"));
	assert_int_equal(membership_find(fx->m, UUID_A)->changed_ns, 5000);
	assert_int_equal(fx->changes[fx->n_changes - 1].changes,
			 MEMBERSHIP_CHANGE_IFACES | MEMBERSHIP_CHANGE_NAME);
	assert_string_equal(membership_find(fx->m, UUID_A)->name, "vm1-renamed");
	assert_socket(fx, MAC_2, "/s/b");
	/* a UUID matches in any case (libvirt prints lower case) */
	membership_vm_started(fx->m, vm(&d, "ABCDEFAB-CDEF-ABCD-EFAB-CDEFABCDEFAB",
					 "upper", true, 1, MAC_3, "/s/u"));
	assert_non_null(membership_find(fx->m,
					"abcdefab-cdef-abcd-efab-cdefabcdefab"));
	assert_string_equal(membership_find(fx->m,
		"AbcdefaB-cdef-abcd-efab-cdefabcdefab")->uuid,
		"abcdefab-cdef-abcd-efab-cdefabcdefab");
}

static void
test_no_vhost_user(void **state)
{
	struct fx *fx = *state;
	struct vmdesc d;

	/* a domain without vhost-user interfaces is none of our business */
	assert_int_equal(membership_vm_started(fx->m,
		vm(&d, UUID_D, "plain", true, 0)), 0);
	assert_int_equal(membership_count(fx->m), 0);
	assert_int_equal(membership_generation(fx->m), 0);
	/* so its later events are for a domain we do not hold */
	assert_int_equal(membership_vm_paused(fx->m, UUID_D), -ENOENT);
	assert_int_equal(membership_vm_stopped(fx->m, UUID_D), -ENOENT);
	assert_int_equal(membership_reason_count(fx->m,
						 MEMBERSHIP_REASON_UNKNOWN_VM), 2);
	/* a domain that lost all its interfaces leaves the table */
	membership_vm_started(fx->m, vm(&d, UUID_A, "vm1", true, 1, MAC_1,
					 "/s/a"));
	membership_vm_started(fx->m, vm(&d, UUID_A, "vm1", true, 0));
	assert_int_equal(membership_count(fx->m), 0);
	assert_socket(fx, MAC_1, NULL);
}

/* ------------------------------------------------------------ hot-plug */

static void
test_devices(void **state)
{
	struct fx *fx = *state;
	struct membership_iface_info ifc = { .socket = "/s/b" };
	struct vmdesc d;

	memcpy(ifc.mac, MAC_2, 6);
	membership_vm_started(fx->m, vm(&d, UUID_A, "vm1", true, 1, MAC_1,
					 "/s/a"));
	fx->now = 7000;
	assert_int_equal(membership_vm_device_added(fx->m, UUID_A, &ifc), 0);
	assert_int_equal(membership_find(fx->m, UUID_A)->n_ifaces, 2);
	assert_int_equal(membership_find(fx->m, UUID_A)->changed_ns, 7000);
	assert_socket(fx, MAC_2, "/s/b");
	/* the same interface again: nothing */
	assert_int_equal(membership_vm_device_added(fx->m, UUID_A, &ifc), 0);
	assert_int_equal(membership_find(fx->m, UUID_A)->n_ifaces, 2);
	/* unknown domain, unknown interface */
	assert_int_equal(membership_vm_device_added(fx->m, UUID_D, &ifc),
			 -ENOENT);
	assert_int_equal(membership_vm_device_removed(fx->m, UUID_A, MAC_9),
			 -ENOENT);
	assert_int_equal(membership_reason_count(fx->m,
			 MEMBERSHIP_REASON_UNKNOWN_IFACE), 1);
	/* removed: its MAC is not local any more */
	assert_int_equal(membership_vm_device_removed(fx->m, UUID_A, MAC_1), 0);
	assert_socket(fx, MAC_1, NULL);
	assert_null(membership_mac_owner(fx->m, MAC_1));
	assert_socket(fx, MAC_2, "/s/b");
	/* the last one: the entry goes */
	assert_int_equal(membership_vm_device_removed(fx->m, UUID_A, MAC_2), 0);
	assert_int_equal(membership_count(fx->m), 0);
	/* a device added to a stopped domain claims nothing */
	membership_vm_defined(fx->m, vm(&d, UUID_B, "vm2", true, 1, MAC_3,
					"/s/c"));
	membership_vm_device_added(fx->m, UUID_B, &ifc);
	assert_null(membership_mac_owner(fx->m, MAC_2));
}

/* ------------------------------------------------------------ resync */

static void
test_resync_removes_vanished(void **state)
{
	struct fx *fx = *state;
	struct vmdesc d;

	membership_vm_started(fx->m, vm(&d, UUID_A, "a", true, 1, MAC_1, "/s/a"));
	membership_vm_started(fx->m, vm(&d, UUID_B, "b", true, 1, MAC_2, "/s/b"));
	membership_vm_started(fx->m, vm(&d, UUID_C, "c", false, 1, MAC_3,
					 "/s/c"));
	/* while we were disconnected: b vanished, c was paused, d came */
	fx->now = 9000;
	membership_resync_begin(fx->m);
	membership_vm_seen(fx->m, vm(&d, UUID_A, "a", true, 1, MAC_1, "/s/a"),
			   MEMBERSHIP_RUNNING);
	membership_vm_seen(fx->m, vm(&d, UUID_C, "c", false, 1, MAC_3, "/s/c"),
			   MEMBERSHIP_PAUSED);
	membership_vm_seen(fx->m, vm(&d, UUID_D, "d", true, 1, MAC_9, "/s/d"),
			   MEMBERSHIP_RUNNING);
	assert_int_equal(membership_resync_commit(fx->m), 1);
	assert_null(membership_find(fx->m, UUID_B));
	assert_socket(fx, MAC_2, NULL);
	assert_int_equal(state_of(fx, UUID_C), MEMBERSHIP_PAUSED);
	assert_int_equal(membership_find(fx->m, UUID_C)->changed_ns, 9000);
	assert_int_equal(membership_find(fx->m, UUID_A)->changed_ns, 1000);
	assert_socket(fx, MAC_9, "/s/d");
	assert_int_equal(membership_count(fx->m), 3);
	assert_true(logged(fx, "gone since the last resync", NULL));
	/* a second resync that lists nothing empties the table */
	membership_resync_begin(fx->m);
	assert_int_equal(membership_resync_commit(fx->m), 3);
	assert_int_equal(membership_count(fx->m), 0);
	/* an entry started by an event during the resync is kept */
	membership_resync_begin(fx->m);
	membership_vm_started(fx->m, vm(&d, UUID_A, "a", true, 1, MAC_1, "/s/a"));
	assert_int_equal(membership_resync_commit(fx->m), 0);
	assert_int_equal(membership_count(fx->m), 1);
}

/* ------------------------------------------------------------ conflicts */

static void
test_mac_conflict(void **state)
{
	struct fx *fx = *state;
	struct vmdesc d;
	const struct membership_vm *b;

	membership_vm_started(fx->m, vm(&d, UUID_A, "vm-a", true, 1, MAC_1,
					 "/s/a"));
	/* a second domain claims the same MAC: refused, the first keeps it */
	assert_int_equal(membership_vm_started(fx->m, vm(&d, UUID_B, "vm-b",
		true, 2, MAC_1, "/s/b", MAC_2, "/s/b2")), 0);
	b = membership_find(fx->m, UUID_B);
	assert_non_null(b);
	assert_true(b->ifaces[0].refused);
	assert_false(b->ifaces[1].refused);
	assert_int_equal(membership_reason_count(fx->m,
			 MEMBERSHIP_REASON_MAC_CONFLICT), 1);
	assert_true(logged(fx, "mac_conflict", "vm-a"));
	assert_true(logged(fx, "vm-b", "52:54:00:00:01:01"));
	assert_socket(fx, MAC_1, "/s/a");
	assert_socket(fx, MAC_2, "/s/b2");
	assert_string_equal(membership_mac_owner(fx->m, MAC_1)->uuid, UUID_A);

	/* a paused holder still holds */
	membership_vm_paused(fx->m, UUID_A);
	assert_string_equal(membership_mac_owner(fx->m, MAC_1)->uuid, UUID_A);
	assert_socket(fx, MAC_1, NULL);

	/* the holder stops: the refused claim is granted, and said so */
	fx->n_changes = 0;
	fx->now = 4000;
	membership_vm_stopped(fx->m, UUID_A);
	b = membership_find(fx->m, UUID_B);
	assert_false(b->ifaces[0].refused);
	assert_socket(fx, MAC_1, "/s/b");
	assert_int_equal(b->changed_ns, 4000);
	assert_int_equal(fx->n_changes, 2);     /* A stopped, B granted */
	assert_string_equal(fx->changes[1].uuid, UUID_B);
	assert_int_equal(fx->changes[1].changes, MEMBERSHIP_CHANGE_CLAIMS);
	assert_true(logged(fx, "granted", "vm-b"));

	/* the first one comes back: now it is the later claim */
	membership_vm_started(fx->m, vm(&d, UUID_A, "vm-a", true, 1, MAC_1,
					 "/s/a"));
	assert_true(membership_find(fx->m, UUID_A)->ifaces[0].refused);
	assert_socket(fx, MAC_1, "/s/b");
	assert_int_equal(membership_reason_count(fx->m,
			 MEMBERSHIP_REASON_MAC_CONFLICT), 2);
}

static void
test_conflict_stopped_holds_nothing(void **state)
{
	struct fx *fx = *state;
	struct vmdesc d;

	/* a shut-off clone shares the running original's MAC: fine */
	membership_vm_defined(fx->m, vm(&d, UUID_A, "clone", true, 1, MAC_1,
					"/s/clone"));
	membership_vm_started(fx->m, vm(&d, UUID_B, "orig", true, 1, MAC_1,
					 "/s/orig"));
	assert_int_equal(membership_reason_count(fx->m,
			 MEMBERSHIP_REASON_MAC_CONFLICT), 0);
	assert_socket(fx, MAC_1, "/s/orig");
}

static void
test_conflict_restart_keeps_own_mac(void **state)
{
	struct fx *fx = *state;
	struct vmdesc d;

	membership_vm_started(fx->m, vm(&d, UUID_A, "a", true, 1, MAC_1, "/s/a"));
	membership_vm_started(fx->m, vm(&d, UUID_B, "b", true, 1, MAC_1, "/s/b"));
	/* A's interfaces change (one more): it keeps MAC_1, B stays refused */
	membership_vm_started(fx->m, vm(&d, UUID_A, "a", true, 2, MAC_1, "/s/a",
					 MAC_2, "/s/a2"));
	assert_socket(fx, MAC_1, "/s/a");
	assert_true(membership_find(fx->m, UUID_B)->ifaces[0].refused);
	/* A is removed by a resync that does not list it: B gets MAC_1 */
	membership_resync_begin(fx->m);
	membership_vm_seen(fx->m, vm(&d, UUID_B, "b", true, 1, MAC_1, "/s/b"),
			   MEMBERSHIP_RUNNING);
	membership_resync_commit(fx->m);
	assert_socket(fx, MAC_1, "/s/b");
}

static void
test_mac_duplicate_in_domain(void **state)
{
	struct fx *fx = *state;
	struct vmdesc d;
	const struct membership_vm *v;

	membership_vm_started(fx->m, vm(&d, UUID_A, "dup", true, 2, MAC_1,
					 "/s/first", MAC_1, "/s/second"));
	v = membership_find(fx->m, UUID_A);
	assert_false(v->ifaces[0].refused);
	assert_true(v->ifaces[1].refused);
	assert_int_equal(membership_reason_count(fx->m,
			 MEMBERSHIP_REASON_MAC_DUPLICATE), 1);
	assert_true(logged(fx, "mac_duplicate", "/s/first"));
	assert_socket(fx, MAC_1, "/s/first");
	/* unplugging "the interface with MAC_1" takes the refused one */
	membership_vm_device_removed(fx->m, UUID_A, MAC_1);
	v = membership_find(fx->m, UUID_A);
	assert_int_equal(v->n_ifaces, 1);
	assert_string_equal(v->ifaces[0].socket, "/s/first");
	assert_socket(fx, MAC_1, "/s/first");
}

/* ------------------------------------------------------------ bad input */

static void
test_bad_input(void **state)
{
	struct fx *fx = *state;
	static const uint8_t mcast[6] = { 0x01, 0x00, 0x5e, 0, 0, 1 };
	static const uint8_t zero[6];
	struct vmdesc d;

	assert_int_equal(membership_vm_started(fx->m, NULL), -EINVAL);
	assert_int_equal(membership_vm_started(fx->m,
		vm(&d, "not-a-uuid", "x", true, 1, MAC_1, "/s")), -EINVAL);
	assert_int_equal(membership_vm_started(fx->m,
		vm(&d, "1111111-11111-1111-1111-111111111111", "x", true, 1,
		   MAC_1, "/s")), -EINVAL);
	assert_int_equal(membership_vm_started(fx->m,
		vm(&d, UUID_A, "", true, 1, MAC_1, "/s")), -EINVAL);
	assert_int_equal(membership_vm_started(fx->m,
		vm(&d, UUID_A, NULL, true, 1, MAC_1, "/s")), -EINVAL);
	assert_int_equal(membership_vm_started(fx->m,
		vm(&d, UUID_A, "x", true, 1, mcast, "/s")), -EINVAL);
	assert_int_equal(membership_vm_started(fx->m,
		vm(&d, UUID_A, "x", true, 1, zero, "/s")), -EINVAL);
	assert_int_equal(membership_vm_started(fx->m,
		vm(&d, UUID_A, "x", true, 1, MAC_1, "")), -EINVAL);
	assert_int_equal(membership_vm_started(fx->m,
		vm(&d, UUID_A, "x", true, 1, MAC_1, NULL)), -EINVAL);
	vm(&d, UUID_A, "x", true, 0);
	d.info.n_ifaces = MEMBERSHIP_IFACES_MAX + 1;
	for (uint32_t i = 0; i < d.info.n_ifaces; i++) {
		memcpy(d.ifaces[i].mac, MAC_1, 6);
		d.ifaces[i].mac[5] = (uint8_t)i;
		d.ifaces[i].socket = "/s";
	}
	assert_int_equal(membership_vm_started(fx->m, &d.info), -EINVAL);
	assert_int_equal(membership_vm_paused(fx->m, NULL), -EINVAL);
	assert_int_equal(membership_vm_paused(fx->m, "zz"), -EINVAL);
	assert_int_equal(membership_vm_seen(fx->m, vm(&d, UUID_A, "x", true, 1,
		MAC_1, "/s"), (enum membership_state)42), -EINVAL);
	assert_int_equal(membership_count(fx->m), 0);
	assert_int_equal(membership_generation(fx->m), 0);
	assert_null(membership_find(fx->m, NULL));
}

static void
test_device_limit(void **state)
{
	struct fx *fx = *state;
	struct membership_iface_info ifc = { .socket = "/s/more" };
	struct vmdesc d;

	vm(&d, UUID_A, "big", true, 0);
	d.info.n_ifaces = MEMBERSHIP_IFACES_MAX;
	for (uint32_t i = 0; i < d.info.n_ifaces; i++) {
		memcpy(d.ifaces[i].mac, MAC_1, 6);
		d.ifaces[i].mac[4] = 0x40;
		d.ifaces[i].mac[5] = (uint8_t)i;
		d.ifaces[i].socket = "/s/big";
	}
	assert_int_equal(membership_vm_started(fx->m, &d.info), 0);
	memcpy(ifc.mac, MAC_9, 6);
	assert_int_equal(membership_vm_device_added(fx->m, UUID_A, &ifc),
			 -ENOSPC);
}

/* ------------------------------------------------------------ scale */

static void
test_many_domains(void **state)
{
	struct fx *fx = *state;
	enum { N = 1000 };
	char uuids[N][MEMBERSHIP_UUID_LEN + 1], sock[64];
	struct vmdesc d;
	uint8_t mac[6] = { 0x52, 0x54, 0x00, 0, 0, 0 };
	const struct membership_vm *v;
	int n = 0;

	for (int i = 0; i < N; i++) {
		snprintf(uuids[i], sizeof(uuids[i]),
			 "%08x-0000-4000-8000-%012x", i, i);
		mac[4] = (uint8_t)(i >> 8);
		mac[5] = (uint8_t)i;
		snprintf(sock, sizeof(sock), "/s/%d", i);
		assert_int_equal(membership_vm_started(fx->m,
			vm(&d, uuids[i], "vm", false, 1, mac, sock)), 0);
	}
	assert_int_equal(membership_count(fx->m), N);
	/* arrival order */
	for (v = membership_next(fx->m, NULL); v != NULL;
	     v = membership_next(fx->m, v))
		assert_string_equal(v->uuid, uuids[n++]);
	assert_int_equal(n, N);
	/* a resync that lists the even ones */
	membership_resync_begin(fx->m);
	for (int i = 0; i < N; i += 2) {
		mac[4] = (uint8_t)(i >> 8);
		mac[5] = (uint8_t)i;
		snprintf(sock, sizeof(sock), "/s/%d", i);
		membership_vm_seen(fx->m, vm(&d, uuids[i], "vm", false, 1, mac,
					     sock), MEMBERSHIP_RUNNING);
	}
	assert_int_equal(membership_resync_commit(fx->m), N / 2);
	for (int i = 0; i < N; i++) {
		mac[4] = (uint8_t)(i >> 8);
		mac[5] = (uint8_t)i;
		snprintf(sock, sizeof(sock), "/s/%d", i);
		assert_socket(fx, mac, i % 2 == 0 ? sock : NULL);
	}
}

static void
test_names(void **state)
{
	char buf[18];

	(void)state;
	assert_string_equal(membership_state_name(MEMBERSHIP_MIGRATING_OUT),
			    "migrating_out");
	assert_string_equal(membership_state_name((enum membership_state)99),
			    "?");
	assert_string_equal(membership_reason_name(MEMBERSHIP_REASON_MAC_CONFLICT),
			    "mac_conflict");
	assert_non_null(strstr(membership_reason_help(
		MEMBERSHIP_REASON_MAC_CONFLICT), "refused"));
	assert_string_equal(membership_mac_format(MAC_1, buf),
			    "52:54:00:00:01:01");
	/* defaults: no params at all */
	struct membership *m = membership_create(NULL);

	assert_non_null(m);
	membership_destroy(m);
	membership_destroy(NULL);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_started, setup, teardown),
		cmocka_unit_test_setup_teardown(test_lifecycle_story, setup, teardown),
		cmocka_unit_test_setup_teardown(test_transient_stop_removes, setup, teardown),
		cmocka_unit_test_setup_teardown(test_defined_then_undefined, setup, teardown),
		cmocka_unit_test_setup_teardown(test_migration_in, setup, teardown),
		cmocka_unit_test_setup_teardown(test_idempotent_started, setup, teardown),
		cmocka_unit_test_setup_teardown(test_no_vhost_user, setup, teardown),
		cmocka_unit_test_setup_teardown(test_devices, setup, teardown),
		cmocka_unit_test_setup_teardown(test_resync_removes_vanished, setup, teardown),
		cmocka_unit_test_setup_teardown(test_mac_conflict, setup, teardown),
		cmocka_unit_test_setup_teardown(test_conflict_stopped_holds_nothing, setup, teardown),
		cmocka_unit_test_setup_teardown(test_conflict_restart_keeps_own_mac, setup, teardown),
		cmocka_unit_test_setup_teardown(test_mac_duplicate_in_domain, setup, teardown),
		cmocka_unit_test_setup_teardown(test_bad_input, setup, teardown),
		cmocka_unit_test_setup_teardown(test_device_limit, setup, teardown),
		cmocka_unit_test_setup_teardown(test_many_domains, setup, teardown),
		cmocka_unit_test(test_names),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
