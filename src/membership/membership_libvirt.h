/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * membership_lv: keeps a co-residency table (membership.h) in step with
 * libvirt.  A thread of its own runs libvirt's default event loop, holds
 * the connection, reconnects with backoff, lists domains on (re)connect
 * and reads domain XML; what it learns is queued.  The caller's control
 * thread applies the queue to the table (membership_lv_dispatch), so the
 * table stays single-threaded and the control thread never waits on
 * libvirtd.  No libvirt types here: the daemon does not include libvirt.
 *
 * Why a thread rather than calling virEventRunDefaultImpl() from the
 * daemon's loop: every libvirt call (open, list, get XML) is a blocking
 * RPC to libvirtd, which may hang for the keepalive timeout (~15 s) when
 * libvirtd is stuck; the daemon's loop also serves vtoectl and RCU
 * reclamation and must not stall with it.  And libvirt's default loop
 * polls only its own descriptors, so sharing one wait with the control
 * socket would need both loops to interleave with timeouts, adding up to
 * a timeout of latency to every event.  With the thread, an event reaches
 * the table as fast as the daemon's epoll wakes on membership_lv_fd().
 */
#ifndef VTOE_MEMBERSHIP_LIBVIRT_H
#define VTOE_MEMBERSHIP_LIBVIRT_H

#include <stdbool.h>
#include <stdint.h>

#include "membership/membership.h"
#include "membership/membership_xml.h"

#define MEMBERSHIP_LV_BACKOFF_MIN_MS 500u
#define MEMBERSHIP_LV_BACKOFF_MAX_MS 30000u
#define MEMBERSHIP_LV_POLL_INTERVAL_MS 1000u

enum membership_lv_mode {
	MEMBERSHIP_LV_EVENTS,   /* lifecycle + device events, resync only on
				 * (re)connect: the design */
	MEMBERSHIP_LV_POLL,     /* list every domain each interval: the
				 * baseline the issue compares against */
};

struct membership_lv_params {
	const char *uri;                /* e.g. "qemu:///system" */
	enum membership_lv_mode mode;
	uint32_t poll_interval_ms;      /* POLL only; 0: default */
	uint32_t backoff_min_ms;        /* first retry delay; 0: default */
	uint32_t backoff_max_ms;        /* cap of the doubling; 0: default */
	membership_log_fn log;          /* called on the dispatching thread;
					 * NULL: silent */
	void *log_ctx;
};

struct membership_lv_stats {
	bool connected;
	uint64_t connect_attempts;
	uint64_t connect_failures;
	uint64_t disconnects;           /* connection lost (close callback) */
	uint64_t resyncs;               /* full listings applied (connect,
					 * reconnect, poll, lost fact) */
	uint64_t events;                /* libvirt domain events received */
	uint64_t events_unknown;        /* event or detail newer than our
					 * headers: taken generically */
	uint64_t domains_unreadable;    /* domain vanished or XML unreadable
					 * while reading it */
	uint64_t facts_lost;            /* out of memory on the libvirt
					 * thread: a resync is scheduled */
	uint64_t xml[MEMBERSHIP_XML_REASON_COUNT];
	uint32_t retry_ms;              /* current reconnect delay */
};

struct membership_lv;

/*
 * Start keeping table in step with params->uri.  Registers libvirt's
 * default event loop (once per process) and starts the libvirt thread,
 * which connects at once.  libvirt being unreachable is not an error:
 * it is logged (at the next dispatch) and retried with exponential
 * backoff (min..max) forever.  NULL + errno: EINVAL, ENOMEM, EBUSY (one
 * adapter per process: libvirt has one default event loop), or what
 * libvirt's event loop or pthread_create failed with.  table must outlive
 * the adapter and be used by the dispatching thread only.
 */
struct membership_lv *
membership_lv_create(struct membership *table,
		     const struct membership_lv_params *params);
/* Stop the thread, close the connection, drop what was not dispatched.
 * Accepts NULL. */
void membership_lv_destroy(struct membership_lv *lv);

/* Readable (an eventfd) while facts wait for membership_lv_dispatch(). */
int membership_lv_fd(const struct membership_lv *lv);
/* Apply every queued fact to the table, in order; returns how many. */
uint32_t membership_lv_dispatch(struct membership_lv *lv);
/* Wait up to timeout_ms (-1: forever) for facts, then dispatch them: one
 * iteration, for loops without an epoll of their own and for tests.
 * Returns how many were applied, or -errno (-EINTR). */
int membership_lv_run(struct membership_lv *lv, int timeout_ms);

/* Relaxed reads of counters the libvirt thread writes: fine for display. */
void membership_lv_stats_get(const struct membership_lv *lv,
			     struct membership_lv_stats *st);

#endif /* VTOE_MEMBERSHIP_LIBVIRT_H */
