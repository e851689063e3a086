/* SPDX-License-Identifier: BSD-3-Clause */
/* The ports domains should have (attach.h): a pure function. */
#include "attach.h"

#include <stdio.h>
#include <string.h>

static const char *const attach_reason_names[] = {
#define ATTACH_REASON_NAME(sym, name, help) name,
	ATTACH_REASONS(ATTACH_REASON_NAME)
#undef ATTACH_REASON_NAME
};

const char *
attach_reason_name(enum attach_reason r)
{
	return (unsigned int)r < ATTACH_REASON_MAX ? attach_reason_names[r] : "?";
}

/* Under one of the directories, by its text, with no step that could
 * climb out of it. */
static bool
under_dirs(const struct cfg *cfg, const char *path)
{
	size_t len = strlen(path);

	if (path[0] != '/' || len >= CFG_PATH_MAX || strstr(path, "/../") != NULL ||
	    strstr(path, "/./") != NULL || strstr(path, "//") != NULL ||
	    (len >= 3 && strcmp(path + len - 3, "/..") == 0) ||
	    (len >= 2 && strcmp(path + len - 2, "/.") == 0))
		return false;
	for (unsigned int i = 0; i < cfg->n_attach_dirs; i++) {
		size_t d = strlen(cfg->attach_dirs[i]);

		if (strncmp(path, cfg->attach_dirs[i], d) == 0 && path[d] != '\0')
			return true;
	}
	return false;
}

/* What vtoed's names may hold: others become '_'. */
static void
name_clean(char *s)
{
	for (; *s != '\0'; s++)
		if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') ||
		      (*s >= '0' && *s <= '9') || *s == '.' || *s == '_' ||
		      *s == '-'))
			*s = '_';
}

static int
uplink_index(const struct cfg *cfg, const char *name)
{
	for (unsigned int u = 0; u < cfg->n_uplinks; u++)
		if (strcmp(cfg->uplinks[u].name, name) == 0)
			return (int)u;
	return -1;
}

/* The port interface i (index n among vhost-user ones) of vm would get;
 * false when its metadata does not hold. */
static bool
want_of(const struct cfg *cfg, const struct membership_vm *vm,
	const struct membership_iface *ifc, unsigned int n,
	struct attach_want *w)
{
	char err[160];
	const struct membership_port_hint *h = &ifc->hint;
	struct cfg_port *pc = &w->pc;
	char suffix[16];
	int u;

	*pc = cfg->attach_defaults;
	pc->at = (struct cfg_mark){ 0, 0 };
	snprintf(w->vm, sizeof(w->vm), "%s", vm->name);
	if (h->name[0] != '\0') {
		snprintf(pc->name, sizeof(pc->name), "%s", h->name);
	} else {
		snprintf(suffix, sizeof(suffix), ".%u", n);
		snprintf(pc->name, sizeof(pc->name), "%.*s%s",
			 (int)(sizeof(pc->name) - 1 - strlen(suffix)), vm->name,
			 suffix);
	}
	name_clean(pc->name);
	snprintf(pc->socket, sizeof(pc->socket), "%s", ifc->socket);
	memcpy(pc->mac, ifc->mac, 6);
	/* The domain's QEMU listens: vtoed connects, and the socket is
	 * QEMU's (no owner, group or perms of vtoed's apply). */
	if (h->qemu_server) {
		pc->mode = CFG_VHOST_CLIENT;
		pc->sock_owner = pc->sock_group = -1;
		pc->sock_perms = 0;
	} else {
		pc->mode = CFG_VHOST_SERVER;
	}
	if (h->weight != 0)
		pc->weight = h->weight;
	if (h->uplink[0] != '\0' && (u = uplink_index(cfg, h->uplink)) >= 0)
		pc->uplink = u;
	if (h->offloads >= 0)
		pc->offloads = h->offloads == 1;
	/* The endpoint: the domain's name and UUID unless it says */
	snprintf(pc->hostname, sizeof(pc->hostname), "%s", vm->name);
	snprintf(pc->instance_id, sizeof(pc->instance_id), "%s", vm->uuid);
	return !h->meta_cut &&
	       cfg_port_endpoint_set(pc, h->ip, h->gateway, h->dns, h->hostname,
				     h->instance_id, err, sizeof(err)) == 0;
}

static bool
same_port(const struct attach_port *p, const struct cfg_port *pc)
{
	return strcmp(p->socket, pc->socket) == 0 &&
	       memcmp(p->mac, pc->mac, 6) == 0 &&
	       p->client == (pc->mode == CFG_VHOST_CLIENT);
}

static void
refuse(struct attach_plan *plan, const struct membership_vm *vm,
       const struct membership_iface *ifc, enum attach_reason r,
       const char *other)
{
	struct attach_refusal *f;

	if (plan->n_refused == ATTACH_MAX)
		return;
	f = &plan->refused[plan->n_refused++];
	snprintf(f->domain, sizeof(f->domain), "%s", vm->name);
	memcpy(f->mac, ifc->mac, 6);
	snprintf(f->socket, sizeof(f->socket), "%s", ifc->socket);
	f->reason = r;
	snprintf(f->other, sizeof(f->other), "%s", other != NULL ? other : "");
}

/* Whose is this name, MAC or socket among the ports that stay and those
 * already planned?  NULL: nobody's. */
static const char *
taken(const struct cfg *cfg, const struct attach_port *ports,
      unsigned int n_ports, const bool *going, const struct attach_plan *plan,
      const struct cfg_port *pc, enum attach_reason *why)
{
	if (strcmp(pc->socket, cfg->ctl_socket) == 0) {
		*why = ATTACH_SOCKET_TAKEN;
		return "the control socket";
	}
	for (unsigned int i = 0; i < n_ports; i++) {
		if (going[i])
			continue;
		*why = strcmp(ports[i].name, pc->name) == 0 ? ATTACH_NAME_TAKEN :
		       memcmp(ports[i].mac, pc->mac, 6) == 0 ? ATTACH_MAC_TAKEN :
		       strcmp(ports[i].socket, pc->socket) == 0 ?
		       ATTACH_SOCKET_TAKEN : ATTACH_REASON_MAX;
		if (*why != ATTACH_REASON_MAX)
			return ports[i].name;
	}
	for (unsigned int i = 0; i < plan->n_add; i++) {
		const struct cfg_port *q = &plan->add[i].pc;

		*why = strcmp(q->name, pc->name) == 0 ? ATTACH_NAME_TAKEN :
		       memcmp(q->mac, pc->mac, 6) == 0 ? ATTACH_MAC_TAKEN :
		       strcmp(q->socket, pc->socket) == 0 ?
		       ATTACH_SOCKET_TAKEN : ATTACH_REASON_MAX;
		if (*why != ATTACH_REASON_MAX)
			return q->name;
	}
	return NULL;
}

/* The interface is a port of the port map already (same MAC, same
 * socket): that port serves it, as it did without attach. */
static bool
served_by_config(const struct attach_port *ports, unsigned int n_ports,
		 const struct membership_iface *ifc)
{
	for (unsigned int p = 0; p < n_ports; p++)
		if (!ports[p].from_libvirt && memcmp(ports[p].mac, ifc->mac, 6) == 0 &&
		    strcmp(ports[p].socket, ifc->socket) == 0)
			return true;
	return false;
}

void
attach_plan(const struct cfg *cfg, const struct membership *table,
	    const struct attach_port *ports, unsigned int n_ports,
	    unsigned int n_free, struct attach_plan *plan)
{
	bool going[ATTACH_MAX] = { false }, kept[ATTACH_MAX] = { false };
	const struct membership_vm *vm;
	struct attach_want w;

	memset(plan, 0, sizeof(*plan));
	if (n_ports > ATTACH_MAX)
		n_ports = ATTACH_MAX;
	/* A port made from a domain stays when the table still gives it,
	 * unchanged; every other one of them goes first. */
	for (vm = membership_next(table, NULL); vm != NULL;
	     vm = membership_next(table, vm)) {
		for (uint32_t i = 0; i < vm->n_ifaces; i++) {
			if (vm->ifaces[i].refused ||
			    !under_dirs(cfg, vm->ifaces[i].socket) ||
			    !want_of(cfg, vm, &vm->ifaces[i], i, &w))
				continue;
			for (unsigned int p = 0; p < n_ports; p++)
				if (ports[p].from_libvirt &&
				    strcmp(ports[p].name, w.pc.name) == 0 &&
				    same_port(&ports[p], &w.pc))
					kept[p] = true;
		}
	}
	for (unsigned int p = 0; p < n_ports; p++) {
		going[p] = ports[p].from_libvirt && !kept[p];
		if (going[p] && plan->n_remove < ATTACH_MAX)
			plan->remove[plan->n_remove++] = p;
	}
	for (vm = membership_next(table, NULL); vm != NULL;
	     vm = membership_next(table, vm)) {
		for (uint32_t i = 0; i < vm->n_ifaces; i++) {
			const struct membership_iface *ifc = &vm->ifaces[i];
			enum attach_reason why;
			const char *other;
			bool keep = false;

			if (ifc->refused) {
				refuse(plan, vm, ifc, ATTACH_MAC_TAKEN, NULL);
				continue;
			}
			if (served_by_config(ports, n_ports, ifc)) {
				plan->n_config++;
				continue;
			}
			if (!under_dirs(cfg, ifc->socket)) {
				refuse(plan, vm, ifc, ATTACH_OUTSIDE, NULL);
				continue;
			}
			if (!want_of(cfg, vm, ifc, i, &w)) {
				refuse(plan, vm, ifc, ATTACH_METADATA, NULL);
				continue;
			}
			for (unsigned int p = 0; p < n_ports && !keep; p++)
				keep = kept[p] && strcmp(ports[p].name, w.pc.name) == 0;
			if (keep) {
				plan->n_keep++;
				continue;
			}
			other = taken(cfg, ports, n_ports, going, plan, &w.pc, &why);
			if (other != NULL) {
				refuse(plan, vm, ifc, why, other);
				continue;
			}
			if (plan->n_add == ATTACH_MAX ||
			    plan->n_add == n_free + plan->n_remove) {
				refuse(plan, vm, ifc, ATTACH_TOO_MANY, NULL);
				continue;
			}
			plan->add[plan->n_add++] = w;
		}
	}
}
