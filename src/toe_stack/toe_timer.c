/* SPDX-License-Identifier: BSD-3-Clause */
#include "toe_timer.h"

#include <string.h>

void
toe_wheel_init(struct toe_wheel *w, uint64_t now_ms)
{
	memset(w, 0, sizeof(*w));
	w->now_ms = now_ms;
}

void
toe_timer_init(struct toe_timer *t, toe_timer_fn *fn)
{
	t->next = NULL;
	t->pprev = NULL;
	t->due_ms = 0;
	t->fn = fn;
}

static void
unlink_timer(struct toe_wheel *w, struct toe_timer *t)
{
	if (t->next != NULL)
		t->next->pprev = t->pprev;
	*t->pprev = t->next;
	t->next = NULL;
	t->pprev = NULL;
	w->armed--;
}

void
toe_timer_cancel(struct toe_wheel *w, struct toe_timer *t)
{
	if (t->pprev != NULL)
		unlink_timer(w, t);
}

void
toe_timer_arm(struct toe_wheel *w, struct toe_timer *t, uint64_t due_ms)
{
	struct toe_timer **head;

	toe_timer_cancel(w, t);
	/* A deadline already passed runs at the next tick. */
	if (due_ms <= w->now_ms)
		due_ms = w->now_ms + 1;
	t->due_ms = due_ms;
	head = &w->slot[due_ms % TOE_WHEEL_SLOTS];
	t->next = *head;
	if (*head != NULL)
		(*head)->pprev = &t->next;
	*head = t;
	t->pprev = head;
	w->armed++;
}

unsigned int
toe_wheel_run(struct toe_wheel *w, uint64_t now_ms)
{
	unsigned int ran = 0;

	/* After a long pause, one turn visits every slot once. */
	if (now_ms > w->now_ms + TOE_WHEEL_SLOTS)
		w->now_ms = now_ms - TOE_WHEEL_SLOTS;
	while (w->now_ms < now_ms && w->armed > 0) {
		struct toe_timer **head = &w->slot[++w->now_ms % TOE_WHEEL_SLOTS];
		struct toe_timer *t = *head, *next;

		/* Callbacks may arm timers into this very slot (for later
		 * turns): only those due by now run. */
		while (t != NULL) {
			next = t->next;
			if (t->due_ms <= now_ms) {
				unlink_timer(w, t);
				t->fn(t, now_ms);
				ran++;
				/* The callback may have changed the list. */
				next = *head;
				while (next != NULL && next->due_ms > now_ms)
					next = next->next;
			}
			t = next;
		}
	}
	w->now_ms = now_ms > w->now_ms ? now_ms : w->now_ms;
	return ran;
}

uint64_t
toe_wheel_next(const struct toe_wheel *w)
{
	uint64_t best = UINT64_MAX;

	if (w->armed == 0)
		return best;
	for (uint64_t k = 1; k <= TOE_WHEEL_SLOTS; k++) {
		for (const struct toe_timer *t = w->slot[(w->now_ms + k) % TOE_WHEEL_SLOTS];
		     t != NULL; t = t->next)
			if (t->due_ms < best)
				best = t->due_ms;
		if (best <= w->now_ms + k)
			break;
	}
	return best;
}
