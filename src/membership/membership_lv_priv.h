/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Shared by the two halves of the libvirt adapter: membership_libvirt.c
 * (the libvirt thread: connection, events, listing, XML) and
 * membership_lv_apply.c (the dispatching thread: facts -> table).  They
 * meet only at the fact queue below and at the counters.
 */
#ifndef VTOE_MEMBERSHIP_LV_PRIV_H
#define VTOE_MEMBERSHIP_LV_PRIV_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include <libvirt/libvirt.h>

#include "membership/membership.h"
#include "membership/membership_libvirt.h"
#include "membership/membership_xml.h"

/* What the libvirt thread learned, in the order it learned it; each maps
 * to one table event (RESYNC to begin, seen x n, commit). */
enum lv_fact_kind {
	LV_FACT_NONE,                   /* an event that changes nothing:
					 * never queued */
	LV_FACT_LOG,                    /* level, msg */
	LV_FACT_RESYNC,                 /* doms[0..n_doms): every domain */
	LV_FACT_DEFINED,                /* doms[0] */
	LV_FACT_STARTED,                /* doms[0] */
	LV_FACT_MIGRATING_IN,           /* doms[0] */
	LV_FACT_DEVICES_CHANGED,        /* doms[0]: its live XML after it */
	LV_FACT_UNDEFINED,              /* uuid */
	LV_FACT_PAUSED,                 /* uuid */
	LV_FACT_RESUMED,                /* uuid */
	LV_FACT_MIGRATING_OUT,          /* uuid */
	LV_FACT_MIGRATED_IN,            /* uuid */
	LV_FACT_STOPPED,                /* uuid */
};

/* A domain as read from libvirt at one moment. */
struct lv_domain {
	struct membership_xml_domain xml;       /* uuid, name, interfaces */
	enum membership_state state;
	bool persistent;
	/* Not asked (one RPC saved on a start): the table's entry says,
	 * and a domain the table does not hold yet is transient (a
	 * persistent one is defined first, or was listed at resync). */
	bool persistent_unknown;
};

struct lv_fact {
	struct lv_fact *next;
	enum lv_fact_kind kind;
	char uuid[MEMBERSHIP_UUID_LEN + 1];
	uint32_t n_listed;              /* RESYNC: domains libvirt listed */
	uint32_t n_doms;
	struct lv_domain *doms;
	enum membership_log_level level;
	char *msg;
};

/* Written by the libvirt thread (relaxed), read by anyone for display. */
struct lv_counters {
	atomic_bool connected;
	_Atomic uint64_t connect_attempts;
	_Atomic uint64_t connect_failures;
	_Atomic uint64_t disconnects;
	_Atomic uint64_t resyncs;
	_Atomic uint64_t events;
	_Atomic uint64_t events_unknown;
	_Atomic uint64_t domains_unreadable;
	_Atomic uint64_t facts_lost;
	_Atomic uint64_t xml[MEMBERSHIP_XML_REASON_COUNT];
	_Atomic uint32_t retry_ms;
};

enum lv_callback {
	LV_CB_LIFECYCLE,
	LV_CB_DEVICE_ADDED,
	LV_CB_DEVICE_REMOVED,
	LV_CB_COUNT,
};

struct membership_lv {
	/* Set at create, read only after. */
	struct membership *table;       /* the dispatching thread only */
	char *uri;
	enum membership_lv_mode mode;
	uint32_t poll_ms;
	uint32_t backoff_min_ms;
	uint32_t backoff_max_ms;
	membership_log_fn log;
	void *log_ctx;
	int efd;                        /* eventfd: facts waiting */
	pthread_t thread;
	int wake_timer;                 /* libvirt timer ids; updated from */
	int reconnect_timer;            /* the libvirt thread, wake_timer   */
	int resync_timer;               /* also by destroy */

	/* The queue, libvirt thread -> dispatching thread.  A mutex: this
	 * is the control path (a few facts per VM event), never a worker. */
	pthread_mutex_t lock;
	struct lv_fact *head;
	struct lv_fact **tail;

	/* libvirt thread only. */
	virConnectPtr conn;
	int cb_ids[LV_CB_COUNT];        /* -1: not registered */
	uint32_t backoff_ms;            /* next reconnect delay */
	bool poll_quiet;                /* periodic listings: no repeated
					 * warnings for the same domain */

	/* Set by destroy, read by the libvirt thread after each loop turn. */
	atomic_bool quit;

	struct lv_counters ctr;
};

void membership_lv_fact_free(struct lv_fact *f);
/* One fact -> its table event(s), on the dispatching thread.  Uses only
 * lv->table and lv->log: the tests call it with a bare struct to drive
 * what libvirt's test driver cannot (device hot-plug).  0 or -errno. */
int membership_lv_apply(struct membership_lv *lv, const struct lv_fact *f);
/* What a lifecycle (event, detail) means: the fact to queue, LV_FACT_NONE
 * for nothing.  *known is cleared for what libvirt 9.0 does not define.
 * Exposed for the tests: the test driver cannot migrate or crash. */
enum lv_fact_kind membership_lv_lifecycle_kind(int event, int detail,
					       bool *known);

#endif /* VTOE_MEMBERSHIP_LV_PRIV_H */
