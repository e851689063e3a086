/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The libvirt thread of the membership adapter: runs libvirt's default
 * event loop, owns the connection (read-only), turns domain events and
 * listings into facts for membership_lv_apply.c, and reconnects with
 * exponential backoff when the connection closes.  Nothing here touches
 * the table.  See membership_libvirt.h for why this is a thread.
 */
#include "membership/membership_libvirt.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>

#include <libvirt/libvirt.h>
#include <libvirt/virterror.h>
#include <libxml/parser.h>

#include "membership/membership_lv_priv.h"

/*
 * Keepalive: a libvirtd that stops answering is declared dead after about
 * interval x (count + 1) seconds, and the close callback reconnects.
 */
#define LV_KEEPALIVE_INTERVAL_S 5
#define LV_KEEPALIVE_COUNT 2
/* A fact lost to memory pressure is made good by a resync this soon. */
#define LV_RESYNC_AFTER_LOSS_MS 1000

/* ------------------------------------------------------------ process */

static pthread_once_t lv_once = PTHREAD_ONCE_INIT;
static int lv_once_rc;
/* libvirt has one default event loop per process: one adapter runs it. */
static atomic_bool lv_busy;

static void
lv_error_silence(void *opaque, virErrorPtr error)
{
	(void)opaque;
	(void)error;
}

static void
lv_once_init(void)
{
	/* libvirt's default error handler prints every error to stderr, and
	 * src/ never prints: each failure is read back right where it
	 * happens with virGetLastErrorMessage() and logged through the
	 * caller's log function.  Process-wide, as the handler is. */
	virSetErrorFunc(NULL, lv_error_silence);
	/* Before any connection is opened, or events have no loop. */
	lv_once_rc = virEventRegisterDefaultImpl();
	/* libxml2 wants its global init on one thread before others parse. */
	xmlInitParser();
}

/* ------------------------------------------------------------ counters */

static void
ctr_inc(_Atomic uint64_t *c)
{
	atomic_fetch_add_explicit(c, 1, memory_order_relaxed);
}

static void
ctr_add(_Atomic uint64_t *c, uint64_t v)
{
	atomic_fetch_add_explicit(c, v, memory_order_relaxed);
}

/* ------------------------------------------------------------ the queue */

void
membership_lv_fact_free(struct lv_fact *f)
{
	if (f == NULL)
		return;
	for (uint32_t i = 0; i < f->n_doms; i++)
		membership_xml_domain_clear(&f->doms[i].xml);
	free(f->doms);
	free(f->msg);
	free(f);
}

static struct lv_fact *
fact_new(enum lv_fact_kind kind)
{
	struct lv_fact *f = calloc(1, sizeof(*f));

	if (f != NULL)
		f->kind = kind;
	return f;
}

/* Hand f to the dispatching thread; it wakes on the eventfd. */
static void
fact_push(struct membership_lv *lv, struct lv_fact *f)
{
	uint64_t one = 1;

	pthread_mutex_lock(&lv->lock);
	*lv->tail = f;
	lv->tail = &f->next;
	pthread_mutex_unlock(&lv->lock);
	/* Only fails when the counter would overflow 2^64 - 2: the
	 * descriptor is readable then anyway. */
	if (write(lv->efd, &one, sizeof(one)) < 0) {
		/* nothing to do: see above */
	}
}

/* A table event was lost to memory pressure: list everything soon. */
static void
fact_lost(struct membership_lv *lv)
{
	ctr_inc(&lv->ctr.facts_lost);
	if (lv->mode == MEMBERSHIP_LV_EVENTS)
		virEventUpdateTimeout(lv->resync_timer,
				      LV_RESYNC_AFTER_LOSS_MS);
}

static void lv_log(struct membership_lv *lv, enum membership_log_level level,
		   const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/* Logs travel through the queue too: the caller's log function is only
 * ever called on its own thread, in order with the table's messages. */
static void
lv_log(struct membership_lv *lv, enum membership_log_level level,
       const char *fmt, ...)
{
	struct lv_fact *f;
	char msg[512];
	va_list ap;

	if (lv->log == NULL)
		return;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	f = fact_new(LV_FACT_LOG);
	if (f == NULL)
		return;
	f->level = level;
	f->msg = strdup(msg);
	if (f->msg == NULL) {
		free(f);
		return;
	}
	fact_push(lv, f);
}

static const char *
lv_err(void)
{
	/* Thread-local in libvirt: the error of this thread's last call. */
	return virGetLastErrorMessage();
}

/* ------------------------------------------------------------ domains */

/* A paused domain's reason, exhaustively (libvirt 9.0). */
static enum membership_state
lv_paused_state(int reason)
{
	switch ((virDomainPausedReason)reason) {
	case VIR_DOMAIN_PAUSED_UNKNOWN:
	case VIR_DOMAIN_PAUSED_USER:
	case VIR_DOMAIN_PAUSED_SAVE:
	case VIR_DOMAIN_PAUSED_DUMP:
	case VIR_DOMAIN_PAUSED_IOERROR:
	case VIR_DOMAIN_PAUSED_WATCHDOG:
	case VIR_DOMAIN_PAUSED_FROM_SNAPSHOT:
	case VIR_DOMAIN_PAUSED_SHUTTING_DOWN:
	case VIR_DOMAIN_PAUSED_SNAPSHOT:
	case VIR_DOMAIN_PAUSED_CRASHED:
	case VIR_DOMAIN_PAUSED_STARTING_UP:
	case VIR_DOMAIN_PAUSED_POSTCOPY_FAILED:
	/* Either side of a migration (the source paused for the switch-over,
	 * the destination not resumed yet) reads the same: not running
	 * here, present.  The next lifecycle event tells which side. */
	case VIR_DOMAIN_PAUSED_MIGRATION:
		return MEMBERSHIP_PAUSED;
	case VIR_DOMAIN_PAUSED_POSTCOPY:
		/* Only the source pauses for post-copy: the guest runs on
		 * the destination already. */
		return MEMBERSHIP_MIGRATING_OUT;
	}
	return MEMBERSHIP_PAUSED;
}

/* virDomainGetState() -> the table's state, exhaustively (libvirt 9.0).
 * A state newer than these headers reads as present, not running. */
static enum membership_state
lv_state(int state, int reason)
{
	switch ((virDomainState)state) {
	case VIR_DOMAIN_RUNNING:
	case VIR_DOMAIN_BLOCKED:        /* on a resource: still runs */
	case VIR_DOMAIN_SHUTDOWN:       /* shutting down: runs until it stops */
		return MEMBERSHIP_RUNNING;
	case VIR_DOMAIN_PAUSED:
		return lv_paused_state(reason);
	case VIR_DOMAIN_NOSTATE:        /* being set up */
	case VIR_DOMAIN_CRASHED:        /* vCPUs stopped, process kept */
	case VIR_DOMAIN_PMSUSPENDED:    /* guest asleep */
		return MEMBERSHIP_PAUSED;
	case VIR_DOMAIN_SHUTOFF:
		return MEMBERSHIP_STOPPED;
	}
	return MEMBERSHIP_PAUSED;
}

/*
 * Read dom now: state, persistence, live XML -> out.  0, or -1 when the
 * domain could not be read (it vanished: a later event or listing says
 * so) or its XML was rejected; -ENOMEM.  quiet: a periodic poll re-reads
 * the same domains every interval, and would repeat the same warnings.
 */
/* What the caller already knows of a domain (each libvirt call is a
 * blocking RPC to libvirtd on the event thread): */
struct lv_known {
	bool state_known;       /* state/reason below: do not ask */
	int state, reason;
	int persistent;         /* 0/1, -1: ask, -2: leave unknown */
};

static int
lv_domain_read(struct membership_lv *lv, virDomainPtr dom,
	       struct lv_domain *out, bool quiet, bool want_state,
	       const struct lv_known *known)
{
	const char *name = virDomainGetName(dom);
	int state = VIR_DOMAIN_RUNNING, reason = 0, persistent, rc;
	char *xml, err[256];

	if (known != NULL && known->state_known) {
		state = known->state;
		reason = known->reason;
		want_state = false;
	}
	/* A start's state is the event itself, so it is not asked for. */
	if (want_state && virDomainGetState(dom, &state, &reason, 0) < 0) {
		ctr_inc(&lv->ctr.domains_unreadable);
		lv_log(lv, MEMBERSHIP_LOG_DEBUG,
		       "domain %s: state unreadable: %s",
		       name != NULL ? name : "?", lv_err());
		return -1;
	}
	if (known != NULL && known->persistent == -2)
		persistent = 0;
	else if (known != NULL && known->persistent >= 0)
		persistent = known->persistent;
	else
		persistent = virDomainIsPersistent(dom);
	xml = virDomainGetXMLDesc(dom, 0);
	if (xml == NULL) {
		ctr_inc(&lv->ctr.domains_unreadable);
		lv_log(lv, MEMBERSHIP_LOG_DEBUG,
		       "domain %s: XML unreadable: %s",
		       name != NULL ? name : "?", lv_err());
		return -1;
	}
	rc = membership_xml_parse(xml, strlen(xml), &out->xml, err,
				  sizeof(err));
	free(xml);
	if (rc == -ENOMEM)
		return -ENOMEM;
	if (rc != 0) {
		if (!quiet) {
			ctr_inc(&lv->ctr.xml[MEMBERSHIP_XML_XML_INVALID]);
			lv_log(lv, MEMBERSHIP_LOG_WARNING,
			       "domain %s: XML rejected: %s (xml_invalid)",
			       name != NULL ? name : "?", err);
		}
		return -1;
	}
	if (!quiet) {
		for (int r = 0; r < MEMBERSHIP_XML_REASON_COUNT; r++)
			ctr_add(&lv->ctr.xml[r], out->xml.skipped[r]);
		if (out->xml.skip_msg[0] != '\0')
			lv_log(lv, MEMBERSHIP_LOG_WARNING, "domain %s (%s): %s",
			       out->xml.name, out->xml.uuid, out->xml.skip_msg);
	}
	out->state = lv_state(state, reason);
	out->persistent = persistent == 1;
	out->persistent_unknown = known != NULL && known->persistent == -2;
	return 0;
}

/* A fact carrying dom as read now.  Unreadable: no fact (the domain is
 * gone, and the event saying so follows). */
static void
lv_push_domain(struct membership_lv *lv, enum lv_fact_kind kind,
	       virDomainPtr dom)
{
	struct lv_fact *f = fact_new(kind);
	/* For a start or an incoming migration, persistence is the table's
	 * to tell (membership_lv_apply): one RPC fewer on the event thread. */
	struct lv_known k = { .persistent = -2 };
	int rc;

	if (f == NULL || (f->doms = calloc(1, sizeof(*f->doms))) == NULL) {
		free(f);
		fact_lost(lv);
		return;
	}
	/* Only a device change needs the state read: defined, started and
	 * migrating-in facts set it from what happened. */
	rc = lv_domain_read(lv, dom, &f->doms[0], false,
			    kind == LV_FACT_DEVICES_CHANGED,
			    kind == LV_FACT_STARTED || kind == LV_FACT_MIGRATING_IN ?
			    &k : NULL);
	if (rc != 0) {
		membership_lv_fact_free(f);
		if (rc == -ENOMEM)
			fact_lost(lv);
		return;
	}
	f->n_doms = 1;
	memcpy(f->uuid, f->doms[0].xml.uuid, sizeof(f->uuid));
	fact_push(lv, f);
}

static void
lv_push_uuid(struct membership_lv *lv, enum lv_fact_kind kind,
	     virDomainPtr dom)
{
	char uuid[VIR_UUID_STRING_BUFLEN];
	struct lv_fact *f;

	if (virDomainGetUUIDString(dom, uuid) < 0) {
		ctr_inc(&lv->ctr.domains_unreadable);
		return;
	}
	f = fact_new(kind);
	if (f == NULL) {
		fact_lost(lv);
		return;
	}
	snprintf(f->uuid, sizeof(f->uuid), "%s", uuid);
	fact_push(lv, f);
}

/*
 * List every domain and queue one RESYNC fact: the table keeps what is
 * listed and drops the rest.  Only on (re)connect, after a lost fact, and
 * each interval in poll mode.  0 or -1 (logged).
 */
/* UUIDs of the persistent domains, in one RPC; NULL + *n = -1 when libvirt
 * cannot say (then each domain is asked). */
static char (*lv_persistent_uuids(struct membership_lv *lv, int *n))[VIR_UUID_STRING_BUFLEN]
{
	virDomainPtr *doms = NULL;
	char (*uuids)[VIR_UUID_STRING_BUFLEN] = NULL;

	*n = virConnectListAllDomains(lv->conn, &doms,
				      VIR_CONNECT_LIST_DOMAINS_PERSISTENT);
	if (*n < 0)
		return NULL;
	if (*n > 0)
		uuids = calloc((size_t)*n, sizeof(*uuids));
	for (int i = 0; i < *n; i++) {
		if (uuids != NULL &&
		    virDomainGetUUIDString(doms[i], uuids[i]) != 0)
			uuids[i][0] = '\0';
		virDomainFree(doms[i]);
	}
	free(doms);
	if (uuids == NULL && *n > 0)
		*n = -1;
	return uuids;
}

/*
 * List every domain and queue one RESYNC fact: the table keeps what is
 * listed and drops the rest.  Only on (re)connect, after a lost fact, and
 * each interval in poll mode.  States come from one bulk call and
 * persistence from one listing, so a resync of N domains costs N + 2
 * RPCs (the XML of each), not 3N + 1; a libvirt without the bulk call is
 * asked domain by domain.  0 or -1 (logged).
 */
static int
lv_resync(struct membership_lv *lv, bool quiet)
{
	virDomainStatsRecordPtr *recs = NULL;
	virDomainPtr *doms = NULL;
	char (*pers)[VIR_UUID_STRING_BUFLEN] = NULL;
	struct lv_fact *f;
	int n, n_pers = -1, rc = 0;

	n = virConnectGetAllDomainStats(lv->conn, VIR_DOMAIN_STATS_STATE, &recs, 0);
	if (n >= 0)
		pers = lv_persistent_uuids(lv, &n_pers);
	else
		n = virConnectListAllDomains(lv->conn, &doms, 0);
	if (n < 0) {
		lv_log(lv, MEMBERSHIP_LOG_WARNING,
		       "libvirt %s: listing domains: %s", lv->uri, lv_err());
		return -1;
	}
	f = fact_new(LV_FACT_RESYNC);
	if (f != NULL && n > 0 &&
	    (f->doms = calloc((size_t)n, sizeof(*f->doms))) == NULL) {
		free(f);
		f = NULL;
	}
	for (int i = 0; i < n; i++) {
		virDomainPtr dom = recs != NULL ? recs[i]->dom : doms[i];
		struct lv_known k = { .persistent = -1 };

		if (recs != NULL &&
		    virTypedParamsGetInt(recs[i]->params, recs[i]->nparams,
					 "state.state", &k.state) == 1 &&
		    virTypedParamsGetInt(recs[i]->params, recs[i]->nparams,
					 "state.reason", &k.reason) == 1)
			k.state_known = true;
		if (pers != NULL || n_pers == 0) {
			char uuid[VIR_UUID_STRING_BUFLEN];

			if (virDomainGetUUIDString(dom, uuid) == 0) {
				k.persistent = 0;
				for (int j = 0; j < n_pers; j++)
					if (strcmp(pers[j], uuid) == 0)
						k.persistent = 1;
			}
		}
		if (f != NULL && rc == 0) {
			rc = lv_domain_read(lv, dom, &f->doms[f->n_doms], quiet,
					    true, &k);
			if (rc == 0)
				f->n_doms++;
			else if (rc == -1)
				rc = 0;         /* that domain only */
		}
		if (doms != NULL)
			virDomainFree(doms[i]);
	}
	if (recs != NULL)
		virDomainStatsRecordListFree(recs);
	free(doms);
	free(pers);
	if (f == NULL || rc != 0) {
		membership_lv_fact_free(f);
		fact_lost(lv);
		return -1;
	}
	f->n_listed = (uint32_t)n;
	ctr_inc(&lv->ctr.resyncs);
	fact_push(lv, f);
	return 0;
}

/* ------------------------------------------------------------ events */

/*
 * What each lifecycle event means for the table.  Every event and detail
 * of libvirt 9.0 is named, with no default: one a newer libvirt adds is a
 * -Wswitch warning here.  At run time, a detail these headers do not know
 * (a newer libvirtd) takes the generic meaning of its event, counted as
 * events_unknown.
 */
static enum lv_fact_kind
lv_defined(int detail, bool *known)
{
	switch ((virDomainEventDefinedDetailType)detail) {
	case VIR_DOMAIN_EVENT_DEFINED_ADDED:
	case VIR_DOMAIN_EVENT_DEFINED_UPDATED:
	case VIR_DOMAIN_EVENT_DEFINED_RENAMED:
	case VIR_DOMAIN_EVENT_DEFINED_FROM_SNAPSHOT:
		return LV_FACT_DEFINED;
	}
	*known = false;
	return LV_FACT_DEFINED;
}

static enum lv_fact_kind
lv_undefined(int detail, bool *known)
{
	switch ((virDomainEventUndefinedDetailType)detail) {
	case VIR_DOMAIN_EVENT_UNDEFINED_REMOVED:
	case VIR_DOMAIN_EVENT_UNDEFINED_RENAMED:       /* DEFINED_RENAMED
							 * brings it back */
		return LV_FACT_UNDEFINED;
	}
	*known = false;
	return LV_FACT_UNDEFINED;
}

static enum lv_fact_kind
lv_started(int detail, bool *known)
{
	switch ((virDomainEventStartedDetailType)detail) {
	case VIR_DOMAIN_EVENT_STARTED_BOOTED:
	case VIR_DOMAIN_EVENT_STARTED_RESTORED:
	case VIR_DOMAIN_EVENT_STARTED_FROM_SNAPSHOT:
	case VIR_DOMAIN_EVENT_STARTED_WAKEUP:
		return LV_FACT_STARTED;
	case VIR_DOMAIN_EVENT_STARTED_MIGRATED:
		/* Incoming: QEMU waits for the state, paused; the source
		 * still runs the guest until RESUMED_MIGRATED here. */
		return LV_FACT_MIGRATING_IN;
	}
	*known = false;
	return LV_FACT_STARTED;
}

static enum lv_fact_kind
lv_suspended(int detail, bool *known)
{
	switch ((virDomainEventSuspendedDetailType)detail) {
	case VIR_DOMAIN_EVENT_SUSPENDED_PAUSED:
	case VIR_DOMAIN_EVENT_SUSPENDED_IOERROR:
	case VIR_DOMAIN_EVENT_SUSPENDED_WATCHDOG:
	case VIR_DOMAIN_EVENT_SUSPENDED_RESTORED:
	case VIR_DOMAIN_EVENT_SUSPENDED_FROM_SNAPSHOT:
	case VIR_DOMAIN_EVENT_SUSPENDED_API_ERROR:
	case VIR_DOMAIN_EVENT_SUSPENDED_POSTCOPY_FAILED:
		return LV_FACT_PAUSED;
	case VIR_DOMAIN_EVENT_SUSPENDED_MIGRATED:
		/* The source stops the vCPUs for the switch-over: from here
		 * on the guest's frames must take the uplink. */
	case VIR_DOMAIN_EVENT_SUSPENDED_POSTCOPY:
		/* Post-copy: the destination runs the guest already. */
		return LV_FACT_MIGRATING_OUT;
	}
	*known = false;
	return LV_FACT_PAUSED;
}

static enum lv_fact_kind
lv_resumed(int detail, bool *known)
{
	switch ((virDomainEventResumedDetailType)detail) {
	case VIR_DOMAIN_EVENT_RESUMED_UNPAUSED:
	case VIR_DOMAIN_EVENT_RESUMED_FROM_SNAPSHOT:
	case VIR_DOMAIN_EVENT_RESUMED_POSTCOPY_FAILED:  /* runs on, here */
		return LV_FACT_RESUMED;
	case VIR_DOMAIN_EVENT_RESUMED_MIGRATED:
		/* Destination: migration complete.  Source: migration
		 * cancelled, the guest runs on here.  Both: running here. */
	case VIR_DOMAIN_EVENT_RESUMED_POSTCOPY:
		/* Destination: running here, pages still arriving. */
		return LV_FACT_MIGRATED_IN;
	}
	*known = false;
	return LV_FACT_RESUMED;
}

static enum lv_fact_kind
lv_stopped(int detail, bool *known)
{
	switch ((virDomainEventStoppedDetailType)detail) {
	case VIR_DOMAIN_EVENT_STOPPED_SHUTDOWN:
	case VIR_DOMAIN_EVENT_STOPPED_DESTROYED:
	case VIR_DOMAIN_EVENT_STOPPED_CRASHED:
	case VIR_DOMAIN_EVENT_STOPPED_MIGRATED:        /* source: gone */
	case VIR_DOMAIN_EVENT_STOPPED_SAVED:
	case VIR_DOMAIN_EVENT_STOPPED_FAILED:
	case VIR_DOMAIN_EVENT_STOPPED_FROM_SNAPSHOT:
		return LV_FACT_STOPPED;
	}
	*known = false;
	return LV_FACT_STOPPED;
}

static enum lv_fact_kind
lv_shutdown(int detail, bool *known)
{
	switch ((virDomainEventShutdownDetailType)detail) {
	case VIR_DOMAIN_EVENT_SHUTDOWN_FINISHED:
	case VIR_DOMAIN_EVENT_SHUTDOWN_GUEST:
	case VIR_DOMAIN_EVENT_SHUTDOWN_HOST:
		/* The guest is shutting down but still runs: STOPPED
		 * follows when it is gone. */
		return LV_FACT_NONE;
	}
	*known = false;
	return LV_FACT_NONE;
}

static enum lv_fact_kind
lv_pmsuspended(int detail, bool *known)
{
	switch ((virDomainEventPMSuspendedDetailType)detail) {
	case VIR_DOMAIN_EVENT_PMSUSPENDED_MEMORY:
	case VIR_DOMAIN_EVENT_PMSUSPENDED_DISK:
		return LV_FACT_PAUSED;  /* asleep: nobody reads its rings */
	}
	*known = false;
	return LV_FACT_PAUSED;
}

static enum lv_fact_kind
lv_crashed(int detail, bool *known)
{
	switch ((virDomainEventCrashedDetailType)detail) {
	case VIR_DOMAIN_EVENT_CRASHED_PANICKED:
		/* vCPUs stopped; STOPPED or STARTED follows per on_crash. */
		return LV_FACT_PAUSED;
	case VIR_DOMAIN_EVENT_CRASHED_CRASHLOADED:
		return LV_FACT_NONE;      /* a crash kernel runs: still up */
	}
	*known = false;
	return LV_FACT_PAUSED;
}

enum lv_fact_kind
membership_lv_lifecycle_kind(int event, int detail, bool *known)
{
	switch ((virDomainEventType)event) {
	case VIR_DOMAIN_EVENT_DEFINED:
		return lv_defined(detail, known);
	case VIR_DOMAIN_EVENT_UNDEFINED:
		return lv_undefined(detail, known);
	case VIR_DOMAIN_EVENT_STARTED:
		return lv_started(detail, known);
	case VIR_DOMAIN_EVENT_SUSPENDED:
		return lv_suspended(detail, known);
	case VIR_DOMAIN_EVENT_RESUMED:
		return lv_resumed(detail, known);
	case VIR_DOMAIN_EVENT_STOPPED:
		return lv_stopped(detail, known);
	case VIR_DOMAIN_EVENT_SHUTDOWN:
		return lv_shutdown(detail, known);
	case VIR_DOMAIN_EVENT_PMSUSPENDED:
		return lv_pmsuspended(detail, known);
	case VIR_DOMAIN_EVENT_CRASHED:
		return lv_crashed(detail, known);
	}
	*known = false;
	return LV_FACT_NONE;
}

static int
lv_lifecycle(virConnectPtr conn, virDomainPtr dom, int event, int detail,
	     void *opaque)
{
	struct membership_lv *lv = opaque;
	bool known = true;
	enum lv_fact_kind kind = membership_lv_lifecycle_kind(event, detail,
							     &known);

	(void)conn;
	ctr_inc(&lv->ctr.events);
	if (!known) {
		ctr_inc(&lv->ctr.events_unknown);
		lv_log(lv, MEMBERSHIP_LOG_DEBUG,
		       "domain %s: lifecycle event %d detail %d unknown to "
		       "libvirt 9.0: %s", virDomainGetName(dom), event, detail,
		       kind == LV_FACT_NONE ? "ignored" : "taken generically");
	}
	switch (kind) {
	case LV_FACT_DEFINED:
	case LV_FACT_STARTED:
	case LV_FACT_MIGRATING_IN:
		lv_push_domain(lv, kind, dom);
		break;
	case LV_FACT_UNDEFINED:
	case LV_FACT_PAUSED:
	case LV_FACT_RESUMED:
	case LV_FACT_MIGRATING_OUT:
	case LV_FACT_MIGRATED_IN:
	case LV_FACT_STOPPED:
		lv_push_uuid(lv, kind, dom);
		break;
	case LV_FACT_NONE:
	case LV_FACT_LOG:
	case LV_FACT_RESYNC:
	case LV_FACT_DEVICES_CHANGED:
		break;
	}
	return 0;
}

/*
 * A device came or went.  Which interface an alias names is in the live
 * XML only while the device exists, so both directions re-read the
 * domain; the dispatcher diffs its interfaces against the table's.
 */
static void
lv_device_changed(virConnectPtr conn, virDomainPtr dom, const char *alias,
		  void *opaque)
{
	struct membership_lv *lv = opaque;

	(void)conn;
	(void)alias;
	ctr_inc(&lv->ctr.events);
	lv_push_domain(lv, LV_FACT_DEVICES_CHANGED, dom);
}

/* ------------------------------------------------------------ connection */

static void lv_closed(virConnectPtr conn, int reason, void *opaque);

/*
 * Events: lifecycle (which covers migration: STARTED/SUSPENDED/RESUMED/
 * STOPPED _MIGRATED and _POSTCOPY), device added and removed.
 * MIGRATION_ITERATION is not registered: during pre-copy the guest still
 * runs here and its frames must stay local; only the switch-over
 * (SUSPENDED_MIGRATED) changes where they go.
 */
static int
lv_events_register(struct membership_lv *lv)
{
	lv->cb_ids[LV_CB_LIFECYCLE] = virConnectDomainEventRegisterAny(
		lv->conn, NULL, VIR_DOMAIN_EVENT_ID_LIFECYCLE,
		VIR_DOMAIN_EVENT_CALLBACK(lv_lifecycle), lv, NULL);
	lv->cb_ids[LV_CB_DEVICE_ADDED] = virConnectDomainEventRegisterAny(
		lv->conn, NULL, VIR_DOMAIN_EVENT_ID_DEVICE_ADDED,
		VIR_DOMAIN_EVENT_CALLBACK(lv_device_changed), lv, NULL);
	lv->cb_ids[LV_CB_DEVICE_REMOVED] = virConnectDomainEventRegisterAny(
		lv->conn, NULL, VIR_DOMAIN_EVENT_ID_DEVICE_REMOVED,
		VIR_DOMAIN_EVENT_CALLBACK(lv_device_changed), lv, NULL);
	for (int i = 0; i < LV_CB_COUNT; i++)
		if (lv->cb_ids[i] < 0)
			return -1;
	return 0;
}

static void
lv_disconnect(struct membership_lv *lv)
{
	if (lv->conn == NULL)
		return;
	/* On a dead connection these fail (silently): closing frees them. */
	for (int i = 0; i < LV_CB_COUNT; i++) {
		if (lv->cb_ids[i] >= 0)
			virConnectDomainEventDeregisterAny(lv->conn,
							   lv->cb_ids[i]);
		lv->cb_ids[i] = -1;
	}
	virConnectUnregisterCloseCallback(lv->conn, lv_closed);
	virConnectClose(lv->conn);
	lv->conn = NULL;
	atomic_store_explicit(&lv->ctr.connected, false, memory_order_relaxed);
	if (lv->mode == MEMBERSHIP_LV_POLL)
		virEventUpdateTimeout(lv->resync_timer, -1);
}

/* Try again in backoff_ms, doubling it up to the cap for the next time. */
static void
lv_retry_later(struct membership_lv *lv)
{
	uint32_t delay = lv->backoff_ms;

	atomic_store_explicit(&lv->ctr.retry_ms, delay, memory_order_relaxed);
	virEventUpdateTimeout(lv->reconnect_timer, (int)delay);
	lv->backoff_ms = delay >= lv->backoff_max_ms / 2 ?
			 lv->backoff_max_ms : delay * 2;
}

static void
lv_connect(struct membership_lv *lv)
{
	const char *step;
	uint64_t attempt;

	attempt = atomic_fetch_add_explicit(&lv->ctr.connect_attempts, 1,
					    memory_order_relaxed) + 1;
	/* Read-only: the adapter lists and watches, it never changes a
	 * domain (and libvirtd's read-only socket is enough). */
	lv->conn = virConnectOpenReadOnly(lv->uri);
	if (lv->conn == NULL) {
		step = "cannot connect";
		goto fail;
	}
	/* Remote connections only: the in-process test:/// driver refuses
	 * it, and has no peer that could hang anyway. */
	if (virConnectSetKeepAlive(lv->conn, LV_KEEPALIVE_INTERVAL_S,
				   LV_KEEPALIVE_COUNT) < 0)
		lv_log(lv, MEMBERSHIP_LOG_DEBUG, "libvirt %s: no keepalive: %s",
		       lv->uri, lv_err());
	if (virConnectRegisterCloseCallback(lv->conn, lv_closed, lv,
					    NULL) < 0) {
		step = "registering the close callback";
		goto fail;
	}
	/* Events before the listing: nothing can fall between the two (an
	 * event about a domain already listed is applied after, and every
	 * table event is idempotent). */
	if (lv->mode == MEMBERSHIP_LV_EVENTS && lv_events_register(lv) < 0) {
		step = "registering domain events";
		goto fail;
	}
	/* Connected (and listening) from here: set before the listing is
	 * queued, so whoever applies it sees the adapter connected. */
	atomic_store_explicit(&lv->ctr.connected, true, memory_order_relaxed);
	lv_log(lv, MEMBERSHIP_LOG_INFO, "libvirt %s: connected (%s)", lv->uri,
	       lv->mode == MEMBERSHIP_LV_EVENTS ? "events" : "polling");
	if (lv_resync(lv, false) < 0) {
		step = "listing domains";
		goto fail;
	}
	if (lv->mode == MEMBERSHIP_LV_POLL)
		virEventUpdateTimeout(lv->resync_timer, (int)lv->poll_ms);
	lv->backoff_ms = lv->backoff_min_ms;
	atomic_store_explicit(&lv->ctr.retry_ms, 0, memory_order_relaxed);
	return;
fail:
	ctr_inc(&lv->ctr.connect_failures);
	lv_log(lv, MEMBERSHIP_LOG_WARNING,
	       "libvirt %s: %s (attempt %llu): %s; retrying in %u ms", lv->uri,
	       step, (unsigned long long)attempt, lv_err(), lv->backoff_ms);
	lv_disconnect(lv);
	lv_retry_later(lv);
}

/* libvirt calls this from its loop when the connection dies. */
static void
lv_closed(virConnectPtr conn, int reason, void *opaque)
{
	struct membership_lv *lv = opaque;
	const char *why = "unknown reason";

	(void)conn;
	switch ((virConnectCloseReason)reason) {
	case VIR_CONNECT_CLOSE_REASON_ERROR:
		why = "I/O error";
		break;
	case VIR_CONNECT_CLOSE_REASON_EOF:
		why = "libvirtd closed it";
		break;
	case VIR_CONNECT_CLOSE_REASON_KEEPALIVE:
		why = "libvirtd stopped answering (keepalive)";
		break;
	case VIR_CONNECT_CLOSE_REASON_CLIENT:
		return;                 /* our own virConnectClose() */
	}
	ctr_inc(&lv->ctr.disconnects);
	atomic_store_explicit(&lv->ctr.connected, false, memory_order_relaxed);
	if (lv->mode == MEMBERSHIP_LV_POLL)
		virEventUpdateTimeout(lv->resync_timer, -1);
	lv->backoff_ms = lv->backoff_min_ms;
	lv_log(lv, MEMBERSHIP_LOG_WARNING,
	       "libvirt %s: connection lost: %s; reconnecting in %u ms",
	       lv->uri, why, lv->backoff_ms);
	/* Closing the connection from inside its own close callback is not
	 * safe: the reconnect timer does it, from the loop. */
	lv_retry_later(lv);
}

/* ------------------------------------------------------------ timers */

static void
lv_reconnect_cb(int timer, void *opaque)
{
	struct membership_lv *lv = opaque;

	virEventUpdateTimeout(timer, -1);
	lv_disconnect(lv);
	lv_connect(lv);
}

static void
lv_resync_cb(int timer, void *opaque)
{
	struct membership_lv *lv = opaque;
	bool poll = lv->mode == MEMBERSHIP_LV_POLL;

	if (!poll)
		virEventUpdateTimeout(timer, -1);       /* one shot */
	if (lv->conn != NULL)
		lv_resync(lv, poll);
}

/* destroy sets it to 0 to wake the loop: it only has to run. */
static void
lv_wake_cb(int timer, void *opaque)
{
	(void)opaque;
	virEventUpdateTimeout(timer, -1);
}

static void
lv_last_turn_cb(int timer, void *opaque)
{
	(void)opaque;
	virEventRemoveTimeout(timer);
}

static void *
lv_thread(void *arg)
{
	struct membership_lv *lv = arg;
	int t;

	lv_connect(lv);
	while (!atomic_load(&lv->quit)) {
		if (virEventRunDefaultImpl() < 0) {
			struct timespec pause = { .tv_nsec = 100000000 };

			/* poll() itself failed: do not spin. */
			lv_log(lv, MEMBERSHIP_LOG_ERR, "libvirt event loop: %s",
			       lv_err());
			nanosleep(&pause, NULL);
		}
	}
	lv_disconnect(lv);
	virEventRemoveTimeout(lv->reconnect_timer);
	virEventRemoveTimeout(lv->resync_timer);
	virEventRemoveTimeout(lv->wake_timer);
	/* libvirt frees removed handles and timers, and with them its last
	 * references to the closed connection's socket, on its next loop
	 * turn: give it one, with a timer due at once so it returns. */
	t = virEventAddTimeout(0, lv_last_turn_cb, NULL, NULL);
	if (t >= 0)
		virEventRunDefaultImpl();
	return NULL;
}

/* ------------------------------------------------------------ life */

struct membership_lv *
membership_lv_create(struct membership *table,
		     const struct membership_lv_params *params)
{
	struct membership_lv *lv;
	int rc;

	if (table == NULL || params == NULL || params->uri == NULL ||
	    params->uri[0] == '\0' ||
	    (params->mode != MEMBERSHIP_LV_EVENTS &&
	     params->mode != MEMBERSHIP_LV_POLL)) {
		errno = EINVAL;
		return NULL;
	}
	if (atomic_exchange(&lv_busy, true)) {
		errno = EBUSY;
		return NULL;
	}
	pthread_once(&lv_once, lv_once_init);
	if (lv_once_rc < 0) {
		errno = EIO;
		goto err_busy;
	}
	lv = calloc(1, sizeof(*lv));
	if (lv == NULL) {
		errno = ENOMEM;
		goto err_busy;
	}
	lv->table = table;
	lv->mode = params->mode;
	lv->poll_ms = params->poll_interval_ms != 0 ?
		      params->poll_interval_ms : MEMBERSHIP_LV_POLL_INTERVAL_MS;
	lv->backoff_min_ms = params->backoff_min_ms;
	if (lv->backoff_min_ms == 0)
		lv->backoff_min_ms = MEMBERSHIP_LV_BACKOFF_MIN_MS;
	lv->backoff_max_ms = params->backoff_max_ms;
	if (lv->backoff_max_ms == 0)
		lv->backoff_max_ms = MEMBERSHIP_LV_BACKOFF_MAX_MS;
	if (lv->backoff_max_ms < lv->backoff_min_ms)
		lv->backoff_max_ms = lv->backoff_min_ms;
	if (lv->poll_ms > INT32_MAX || lv->backoff_max_ms > INT32_MAX) {
		errno = EINVAL;
		goto err_lv;
	}
	lv->backoff_ms = lv->backoff_min_ms;
	lv->log = params->log;
	lv->log_ctx = params->log_ctx;
	lv->head = NULL;
	lv->tail = &lv->head;
	for (int i = 0; i < LV_CB_COUNT; i++)
		lv->cb_ids[i] = -1;
	lv->uri = strdup(params->uri);
	if (lv->uri == NULL) {
		errno = ENOMEM;
		goto err_lv;
	}
	lv->efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (lv->efd < 0)
		goto err_uri;
	rc = pthread_mutex_init(&lv->lock, NULL);
	if (rc != 0) {
		errno = rc;
		goto err_efd;
	}
	/* Timers exist before the thread: destroy can always wake it. */
	lv->wake_timer = virEventAddTimeout(-1, lv_wake_cb, lv, NULL);
	lv->reconnect_timer = virEventAddTimeout(-1, lv_reconnect_cb, lv, NULL);
	lv->resync_timer = virEventAddTimeout(-1, lv_resync_cb, lv, NULL);
	if (lv->wake_timer < 0 || lv->reconnect_timer < 0 ||
	    lv->resync_timer < 0) {
		errno = EIO;
		goto err_timers;
	}
	rc = pthread_create(&lv->thread, NULL, lv_thread, lv);
	if (rc != 0) {
		errno = rc;
		goto err_timers;
	}
	return lv;

err_timers:
	if (lv->wake_timer >= 0)
		virEventRemoveTimeout(lv->wake_timer);
	if (lv->reconnect_timer >= 0)
		virEventRemoveTimeout(lv->reconnect_timer);
	if (lv->resync_timer >= 0)
		virEventRemoveTimeout(lv->resync_timer);
	pthread_mutex_destroy(&lv->lock);
err_efd:
	close(lv->efd);
err_uri:
	free(lv->uri);
err_lv:
	free(lv);
err_busy:
	atomic_store(&lv_busy, false);
	return NULL;
}

void
membership_lv_destroy(struct membership_lv *lv)
{
	struct lv_fact *f;

	if (lv == NULL)
		return;
	atomic_store(&lv->quit, true);
	/* Changing a timer from another thread interrupts libvirt's poll():
	 * the loop turns, sees quit, and the thread closes the connection
	 * and removes the timers itself.  After the join nothing of libvirt
	 * refers to lv any more. */
	virEventUpdateTimeout(lv->wake_timer, 0);
	pthread_join(lv->thread, NULL);
	for (f = lv->head; f != NULL;) {
		struct lv_fact *next = f->next;

		membership_lv_fact_free(f);
		f = next;
	}
	pthread_mutex_destroy(&lv->lock);
	close(lv->efd);
	free(lv->uri);
	free(lv);
	atomic_store(&lv_busy, false);
}

void
membership_lv_stats_get(const struct membership_lv *lv,
			struct membership_lv_stats *st)
{
	const struct lv_counters *c = &lv->ctr;

	memset(st, 0, sizeof(*st));
	st->connected = atomic_load_explicit(&c->connected,
					     memory_order_relaxed);
#define LV_GET(f) atomic_load_explicit(&c->f, memory_order_relaxed)
	st->connect_attempts = LV_GET(connect_attempts);
	st->connect_failures = LV_GET(connect_failures);
	st->disconnects = LV_GET(disconnects);
	st->resyncs = LV_GET(resyncs);
	st->events = LV_GET(events);
	st->events_unknown = LV_GET(events_unknown);
	st->domains_unreadable = LV_GET(domains_unreadable);
	st->facts_lost = LV_GET(facts_lost);
	st->retry_ms = LV_GET(retry_ms);
	for (int r = 0; r < MEMBERSHIP_XML_REASON_COUNT; r++)
		st->xml[r] = LV_GET(xml[r]);
#undef LV_GET
}
