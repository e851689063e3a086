/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The dispatching half of the libvirt adapter: runs on the caller's
 * control thread (the table's owner), takes what the libvirt thread
 * queued (membership_libvirt.c) and turns each fact into the table event
 * of the same name.  The only code of the adapter that touches the table.
 */
#include "membership/membership_libvirt.h"

#include <errno.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "membership/membership_lv_priv.h"

static void apply_log(const struct membership_lv *lv,
		      enum membership_log_level level, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void
apply_log(const struct membership_lv *lv, enum membership_log_level level,
	  const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	if (lv->log == NULL)
		return;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	lv->log(lv->log_ctx, level, msg);
}

/* Borrow d's strings into a table info (ifaces has room for
 * MEMBERSHIP_IFACES_MAX, the parser's bound). */
static void
info_of(const struct lv_domain *d, struct membership_vm_info *info,
	struct membership_iface_info *ifaces)
{
	for (uint32_t i = 0; i < d->xml.n_ifaces; i++) {
		memcpy(ifaces[i].mac, d->xml.ifaces[i].mac, MEMBERSHIP_MAC_LEN);
		ifaces[i].socket = d->xml.ifaces[i].socket;
		ifaces[i].hint = d->xml.ifaces[i].hint;
	}
	*info = (struct membership_vm_info){
		.uuid = d->xml.uuid,
		.name = d->xml.name,
		.persistent = d->persistent,
		.n_ifaces = d->xml.n_ifaces,
		.ifaces = ifaces,
	};
}

static bool
info_has(const struct membership_vm_info *info,
	 const struct membership_iface *ifc)
{
	for (uint32_t i = 0; i < info->n_ifaces; i++)
		if (memcmp(info->ifaces[i].mac, ifc->mac,
			   MEMBERSHIP_MAC_LEN) == 0 &&
		    strcmp(info->ifaces[i].socket, ifc->socket) == 0)
			return true;
	return false;
}

static bool
vm_has(const struct membership_vm *vm, const struct membership_iface_info *ifc)
{
	for (uint32_t i = 0; i < vm->n_ifaces; i++)
		if (memcmp(vm->ifaces[i].mac, ifc->mac,
			   MEMBERSHIP_MAC_LEN) == 0 &&
		    strcmp(vm->ifaces[i].socket, ifc->socket) == 0)
			return true;
	return false;
}

/*
 * A device event: the domain's live interfaces now are in info.  Added
 * ones first, so that a domain whose every interface was swapped keeps
 * its entry; then removed ones, one at a time (each removal may free or
 * reorder the entry, so it is looked up again).
 */
static int
apply_devices(struct membership *t, const struct membership_vm_info *info,
	      enum membership_state state)
{
	const struct membership_vm *vm = membership_find(t, info->uuid);
	int rc = 0;

	if (vm == NULL)         /* its first vhost-user interface */
		return membership_vm_seen(t, info, state);
	for (uint32_t i = 0; i < info->n_ifaces && rc == 0; i++)
		if (!vm_has(vm, &info->ifaces[i]))
			rc = membership_vm_device_added(t, info->uuid,
							&info->ifaces[i]);
	while (rc == 0 && (vm = membership_find(t, info->uuid)) != NULL) {
		const struct membership_iface *gone = NULL;

		for (uint32_t i = 0; i < vm->n_ifaces && gone == NULL; i++)
			if (!info_has(info, &vm->ifaces[i]))
				gone = &vm->ifaces[i];
		if (gone == NULL)
			break;
		rc = membership_vm_device_removed(t, info->uuid, gone->mac);
	}
	return rc;
}

static int
apply_resync(struct membership_lv *lv, const struct lv_fact *f)
{
	struct membership_iface_info ifaces[MEMBERSHIP_IFACES_MAX];
	struct membership_vm_info info;
	uint32_t removed, kept = 0;
	int rc = 0;

	membership_resync_begin(lv->table);
	for (uint32_t i = 0; i < f->n_doms; i++) {
		info_of(&f->doms[i], &info, ifaces);
		int r = membership_vm_seen(lv->table, &info, f->doms[i].state);

		if (r != 0)
			rc = r;
		else if (info.n_ifaces > 0)
			kept++;
	}
	/* Entries that failed to update (ENOMEM) were not marked seen, and
	 * would be dropped: keep the table as it is and wait for events. */
	if (rc == -ENOMEM) {
		apply_log(lv, MEMBERSHIP_LOG_ERR,
			  "libvirt resync: out of memory: table not pruned");
		return rc;
	}
	removed = membership_resync_commit(lv->table);
	apply_log(lv, MEMBERSHIP_LOG_DEBUG,
		  "libvirt resync: %u domains listed, %u with vhost-user "
		  "interfaces, %u entries gone", f->n_listed, kept, removed);
	return rc;
}

int
membership_lv_apply(struct membership_lv *lv, const struct lv_fact *f)
{
	struct membership_iface_info ifaces[MEMBERSHIP_IFACES_MAX];
	struct membership_vm_info info = { .uuid = NULL };
	struct membership *t = lv->table;

	if (f->n_doms == 1) {
		info_of(&f->doms[0], &info, ifaces);
		if (f->doms[0].persistent_unknown) {
			const struct membership_vm *vm =
				membership_find(t, info.uuid);

			info.persistent = vm != NULL && vm->persistent;
		}
	}
	switch (f->kind) {
	case LV_FACT_NONE:
		return 0;
	case LV_FACT_LOG:
		if (lv->log != NULL)
			lv->log(lv->log_ctx, f->level, f->msg);
		return 0;
	case LV_FACT_RESYNC:
		return apply_resync(lv, f);
	case LV_FACT_DEFINED:
		/* Undefined again before we read it: UNDEFINED follows. */
		if (!info.persistent)
			return 0;
		return membership_vm_defined(t, &info);
	case LV_FACT_STARTED:
		return membership_vm_started(t, &info);
	case LV_FACT_MIGRATING_IN:
		return membership_vm_migrating_in(t, &info);
	case LV_FACT_DEVICES_CHANGED:
		return apply_devices(t, &info, f->doms[0].state);
	case LV_FACT_UNDEFINED:
		return membership_vm_undefined(t, f->uuid);
	case LV_FACT_PAUSED:
		return membership_vm_paused(t, f->uuid);
	case LV_FACT_RESUMED:
		return membership_vm_resumed(t, f->uuid);
	case LV_FACT_MIGRATING_OUT:
		return membership_vm_migrating_out(t, f->uuid);
	case LV_FACT_MIGRATED_IN:
		return membership_vm_migrated_in(t, f->uuid);
	case LV_FACT_STOPPED:
		return membership_vm_stopped(t, f->uuid);
	}
	return 0;
}

uint32_t
membership_lv_dispatch(struct membership_lv *lv)
{
	struct lv_fact *f;
	uint64_t pending;
	uint32_t n = 0;

	/* Reset the eventfd before taking the queue: a fact pushed after
	 * the take writes it again, so none waits unseen. */
	if (read(lv->efd, &pending, sizeof(pending)) < 0) {
		/* EAGAIN: nothing was signalled; the queue may still hold
		 * facts pushed between a write and our last read. */
	}
	pthread_mutex_lock(&lv->lock);
	f = lv->head;
	lv->head = NULL;
	lv->tail = &lv->head;
	pthread_mutex_unlock(&lv->lock);

	while (f != NULL) {
		struct lv_fact *next = f->next;
		int rc = membership_lv_apply(lv, f);

		/* -ENOENT is a domain without vhost-user interfaces: counted
		 * by the table, nothing to say. */
		if (rc != 0 && rc != -ENOENT)
			apply_log(lv, MEMBERSHIP_LOG_ERR,
				  "domain %s: applying a libvirt event: %s",
				  f->uuid[0] != '\0' ? f->uuid : "?",
				  strerror(-rc));
		membership_lv_fact_free(f);
		f = next;
		n++;
	}
	return n;
}

int
membership_lv_run(struct membership_lv *lv, int timeout_ms)
{
	struct pollfd pfd = { .fd = lv->efd, .events = POLLIN };
	int rc = poll(&pfd, 1, timeout_ms);

	if (rc < 0)
		return -errno;
	return (int)membership_lv_dispatch(lv);
}

int
membership_lv_fd(const struct membership_lv *lv)
{
	return lv->efd;
}
