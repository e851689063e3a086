/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * One owner per port (src/vhost/vhost_owner.c): the sequences a port
 * meets.  A migration in server mode (the destination connects beside the
 * source and starts only after the source stopped), an intruder on a
 * running guest's socket (refused, and its exit changes nothing), the
 * same with takeover: newest, a guest restarting its own device, and a
 * cancelled migration (the source goes on, the destination never owns).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "vhost/vhost_owner.h"

/* start as the vhost thread carries it out: a verdict, then own */
static enum vo_verdict
start(struct vo_port *p, int vid, int *old)
{
	enum vo_verdict v = vo_start(p, vid, old);

	if (v == VO_TAKEOVER)
		vo_release(p, *old);
	if (v == VO_ACCEPT || v == VO_TAKEOVER)
		vo_own(p, vid);
	return v;
}

static enum vo_verdict
stop(struct vo_port *p, int vid)
{
	enum vo_verdict v = vo_stop(p, vid);

	if (v == VO_RELEASE)
		vo_release(p, vid);
	return v;
}

static void test_first_guest_owns(void **state)
{
	struct vo_port p;
	int old;

	(void)state;
	vo_init(&p, false);
	assert_int_equal(p.owner, -1);
	assert_int_equal(start(&p, 0, &old), VO_ACCEPT);
	assert_int_equal(p.owner, 0);
	assert_int_equal(p.owner_changes, 0);   /* a first owner is no change */
	/* the library repeats new_device: still the owner, nothing counted */
	assert_int_equal(start(&p, 0, &old), VO_ACCEPT);
	assert_int_equal(p.owner_changes, 0);
}

static void test_server_migration(void **state)
{
	struct vo_port p;
	int old;

	(void)state;
	vo_init(&p, false);
	start(&p, 0, &old);                     /* source */
	/* the destination (vid 1) connects; the source stops its rings */
	assert_int_equal(stop(&p, 0), VO_RELEASE);
	assert_int_equal(p.owner, -1);
	/* the destination starts: it owns the port, a switch-over */
	assert_int_equal(start(&p, 1, &old), VO_ACCEPT);
	assert_int_equal(p.owner, 1);
	assert_int_equal(p.owner_changes, 1);
	/* the source's QEMU quits afterwards: nothing changes */
	assert_int_equal(stop(&p, 0), VO_IGNORE);
	assert_int_equal(p.owner, 1);
	/* and back again, to a new process that got vid 0 */
	stop(&p, 1);
	start(&p, 0, &old);
	assert_int_equal(p.owner_changes, 2);
}

static void test_intruder_refused(void **state)
{
	struct vo_port p;
	int old;

	(void)state;
	vo_init(&p, false);
	start(&p, 3, &old);
	assert_int_equal(start(&p, 7, &old), VO_REFUSE);
	assert_int_equal(p.owner, 3);
	assert_int_equal(p.refused, 1);
	/* asked again after its next message: still refused */
	assert_int_equal(start(&p, 7, &old), VO_REFUSE);
	assert_int_equal(p.refused, 2);
	/* the intruder exits: the guest keeps its port */
	assert_int_equal(stop(&p, 7), VO_IGNORE);
	assert_int_equal(p.owner, 3);
	assert_int_equal(p.owner_changes, 0);
}

static void test_takeover_newest(void **state)
{
	struct vo_port p;
	int old = -5;

	(void)state;
	vo_init(&p, true);
	start(&p, 3, &old);
	assert_int_equal(vo_start(&p, 7, &old), VO_TAKEOVER);
	assert_int_equal(old, 3);               /* to take down first */
	vo_release(&p, old);
	assert_true(vo_own(&p, 7));
	assert_int_equal(p.owner, 7);
	assert_int_equal(p.takeovers, 1);
	assert_int_equal(p.owner_changes, 1);
	/* the old one's stop must not take the new owner down */
	assert_int_equal(stop(&p, 3), VO_IGNORE);
	assert_int_equal(p.owner, 7);
}

static void test_guest_restarts_its_device(void **state)
{
	struct vo_port p;
	int old;

	(void)state;
	vo_init(&p, false);
	start(&p, 2, &old);
	assert_int_equal(stop(&p, 2), VO_RELEASE);     /* driver reload */
	assert_int_equal(start(&p, 2, &old), VO_ACCEPT);
	assert_int_equal(p.owner_changes, 0);           /* same front-end */
}

static void test_cancelled_migration(void **state)
{
	struct vo_port p;
	int old;

	(void)state;
	vo_init(&p, false);
	start(&p, 0, &old);
	/* destination vid 1 connected, never started; cancelled: closes */
	assert_int_equal(stop(&p, 1), VO_IGNORE);
	assert_int_equal(p.owner, 0);
	assert_int_equal(p.owner_changes, 0);
	/* a migration that failed after the source stopped: it resumes */
	stop(&p, 0);
	assert_int_equal(start(&p, 0, &old), VO_ACCEPT);
	assert_int_equal(p.owner_changes, 0);
}

static void test_stop_without_owner(void **state)
{
	struct vo_port p;

	(void)state;
	vo_init(&p, false);
	assert_int_equal(stop(&p, 0), VO_IGNORE);
	assert_int_equal(stop(&p, -1), VO_IGNORE);
	assert_int_equal(p.owner, -1);
}

/* A guest that left and a new one that came: no change of owner, even
 * when the library gives the newcomer another vid. */
static void test_reconnect_is_no_change(void **state)
{
	struct vo_port p;
	int old;

	(void)state;
	vo_init(&p, false);
	assert_int_equal(start(&p, 1, &old), VO_ACCEPT);
	assert_int_equal(stop(&p, 1), VO_RELEASE);
	vo_empty(&p);
	assert_int_equal(start(&p, 0, &old), VO_ACCEPT);
	assert_int_equal(p.owner_changes, 0);
	/* a migration: the destination (2) was connected when 0 left */
	assert_int_equal(start(&p, 2, &old), VO_REFUSE);
	assert_int_equal(stop(&p, 0), VO_RELEASE);
	assert_int_equal(start(&p, 2, &old), VO_ACCEPT);
	assert_int_equal(p.owner_changes, 1);
	/* emptied while someone owns it: nothing to forget */
	vo_empty(&p);
	assert_int_equal(p.last_owner, 2);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_first_guest_owns),
		cmocka_unit_test(test_server_migration),
		cmocka_unit_test(test_intruder_refused),
		cmocka_unit_test(test_takeover_newest),
		cmocka_unit_test(test_guest_restarts_its_device),
		cmocka_unit_test(test_cancelled_migration),
		cmocka_unit_test(test_stop_without_owner),
		cmocka_unit_test(test_reconnect_is_no_change),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
