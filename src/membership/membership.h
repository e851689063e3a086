/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * membership: the co-residency table.  One entry per libvirt domain of
 * this host that has at least one vhost-user interface: UUID, name, state,
 * its interfaces (socket path, MAC) and when the entry last changed.  It is
 * told what happened (a VM started, paused, is migrating out, ...) and
 * decides what that means for the entry and for the MAC index behind the
 * question the dataplane asks: "is this MAC a co-resident running VM, and
 * behind which socket?".
 *
 * Fed by the libvirt adapter (membership_libvirt.h) or directly by tests.
 * A plain single-threaded structure owned by the control thread: workers
 * never read it; they get a copy published by RCU, rebuilt when the
 * generation moves (or from the change callback).  No DPDK, no libvirt.
 */
#ifndef VTOE_MEMBERSHIP_H
#define VTOE_MEMBERSHIP_H

#include <stdbool.h>
#include <stdint.h>

#define MEMBERSHIP_UUID_LEN 36          /* 8-4-4-4-12 hex digits */
#define MEMBERSHIP_IFACES_MAX 64        /* vhost-user interfaces per domain */
#define MEMBERSHIP_MAC_LEN 6

enum membership_state {
	MEMBERSHIP_RUNNING,             /* here and running: MACs local */
	MEMBERSHIP_PAUSED,              /* here, vCPUs stopped (paused, PM
					 * suspended, crashed) */
	MEMBERSHIP_MIGRATING_IN,        /* incoming migration: here, not running
					 * yet (the source still runs it) */
	MEMBERSHIP_MIGRATING_OUT,       /* paused here for the switch-over to
					 * another host */
	MEMBERSHIP_STOPPED,             /* defined (persistent), not running */
};
#define MEMBERSHIP_STATE_COUNT (MEMBERSHIP_STOPPED + 1)

/* "running", "paused", "migrating_in", "migrating_out", "stopped". */
const char *membership_state_name(enum membership_state state);

/*
 * Why an event or an interface was not taken as given: counted, and logged
 * when it is the user's business.  X(enum suffix, name, meaning).
 */
#define MEMBERSHIP_REASONS(X) \
	X(MAC_CONFLICT, "mac_conflict", \
	  "MAC already claimed by another domain: this interface refused") \
	X(MAC_DUPLICATE, "mac_duplicate", \
	  "MAC on two interfaces of one domain: the later one refused") \
	X(UNKNOWN_VM, "unknown_vm", \
	  "event for a domain not in the table (no vhost-user interface)") \
	X(UNKNOWN_IFACE, "unknown_iface", \
	  "device removed that the table does not hold: ignored")

enum membership_reason {
#define MEMBERSHIP_REASON_ENUM(e, name, help) MEMBERSHIP_REASON_ ## e,
	MEMBERSHIP_REASONS(MEMBERSHIP_REASON_ENUM)
#undef MEMBERSHIP_REASON_ENUM
	MEMBERSHIP_REASON_COUNT
};

const char *membership_reason_name(enum membership_reason reason);
const char *membership_reason_help(enum membership_reason reason);

enum membership_log_level {
	MEMBERSHIP_LOG_ERR,
	MEMBERSHIP_LOG_WARNING,
	MEMBERSHIP_LOG_INFO,
	MEMBERSHIP_LOG_DEBUG,
};

/* One line, no newline.  src/ never prints: the daemon routes this to
 * rte_log, the tests record it. */
typedef void (*membership_log_fn)(void *ctx, enum membership_log_level level,
				  const char *msg);

/* --- What the event sources hand in. ---------------------------------- */

/*
 * What a domain's XML says about the port a switch would make for one of
 * its interfaces (attach: auto): who makes the socket, the interface's
 * name, and overrides from the domain's <metadata> (docs/CONFIG.md).
 * Unset fields are 0 / "" / -1.  Fixed size: copied as it is.
 */
#define MEMBERSHIP_HINT_NAME_MAX 32
struct membership_port_hint {
	bool qemu_server;                       /* <source mode='server'> */
	char name[MEMBERSHIP_HINT_NAME_MAX];    /* <target dev=...> */
	uint32_t weight;
	char uplink[MEMBERSHIP_HINT_NAME_MAX];
	int8_t offloads;                        /* -1: unset, 0, 1 */
	/* The port's TOE endpoint, as text ("": unset; checked by attach):
	 * ip, gateway, dns (comma-separated), hostname, instance-id. */
	char ip[48];
	char gateway[16];
	char dns[68];
	char hostname[64];
	char instance_id[64];
	bool meta_cut;                          /* one did not fit: unusable */
};

struct membership_iface_info {
	uint8_t mac[MEMBERSHIP_MAC_LEN];        /* unicast, not all zero */
	const char *socket;                     /* vhost-user socket path */
	struct membership_port_hint hint;
};

struct membership_vm_info {
	const char *uuid;                       /* MEMBERSHIP_UUID_LEN chars */
	const char *name;
	bool persistent;                        /* defined, not only created */
	uint32_t n_ifaces;                      /* 0..MEMBERSHIP_IFACES_MAX */
	const struct membership_iface_info *ifaces;
};

/* --- What the table holds (read only for callers). --------------------- */

struct membership_iface {
	uint8_t mac[MEMBERSHIP_MAC_LEN];
	char *socket;
	struct membership_port_hint hint;
	/* The MAC is claimed by an interface that came first (this domain's
	 * or another's): lookups never answer with this interface.  Cleared
	 * as soon as the holder lets go (stops, goes away, loses the
	 * interface). */
	bool refused;
};

struct membership_vm {
	char uuid[MEMBERSHIP_UUID_LEN + 1];
	char *name;
	enum membership_state state;
	bool persistent;
	uint64_t changed_ns;                    /* the table's clock */
	uint32_t n_ifaces;                      /* >= 1 */
	struct membership_iface *ifaces;
};

/* --- The table. -------------------------------------------------------- */

/* What a change did, as bits of the callback's `changes`. */
#define MEMBERSHIP_CHANGE_ADDED   (1u << 0)     /* new entry */
#define MEMBERSHIP_CHANGE_REMOVED (1u << 1)     /* entry about to be freed */
#define MEMBERSHIP_CHANGE_STATE   (1u << 2)     /* state moved from old_state */
#define MEMBERSHIP_CHANGE_IFACES  (1u << 3)     /* interfaces added/removed */
#define MEMBERSHIP_CHANGE_CLAIMS  (1u << 4)     /* a refused MAC was granted */
#define MEMBERSHIP_CHANGE_NAME    (1u << 5)

/*
 * Called after each change to one entry, on the control thread, with the
 * table consistent.  vm is valid for the call only (for REMOVED it is
 * freed right after).  The callee must not modify the table.
 */
typedef void (*membership_change_fn)(void *ctx, const struct membership_vm *vm,
				     enum membership_state old_state,
				     unsigned int changes);

struct membership_params {
	uint64_t (*clock_ns)(void *ctx);        /* NULL: CLOCK_REALTIME */
	void *clock_ctx;
	membership_log_fn log;                  /* NULL: silent */
	void *log_ctx;
	membership_change_fn on_change;         /* NULL: none */
	void *change_ctx;
};

struct membership;

/* NULL + errno (ENOMEM).  params may be NULL. */
struct membership *membership_create(const struct membership_params *params);
/* Accepts NULL.  No callbacks are called. */
void membership_destroy(struct membership *m);

/*
 * Events, named after what happened.  Each returns 0 (also when nothing
 * needed to change), -EINVAL for a malformed info (nothing changed), or
 * -ENOENT for a domain the table does not hold (counted as unknown_vm:
 * normal for domains without vhost-user interfaces).  A domain holds
 * claims on its MACs in every state but stopped; a claim on a MAC another
 * domain holds is refused, counted and logged, never overwritten.
 *
 * Events carrying an info add the domain if it is new.  An info with no
 * interface means "nothing for us": the entry, if any, is removed.
 */
/* The domain runs here now (booted, restored, woken up).  The info is the
 * live configuration: it replaces the interfaces. */
int membership_vm_started(struct membership *m,
			  const struct membership_vm_info *info);
/* Incoming migration started here: present, not running yet. */
int membership_vm_migrating_in(struct membership *m,
			       const struct membership_vm_info *info);
/* A (new) persistent configuration.  A new or stopped domain takes its
 * interfaces; a running one keeps its live ones (they change only with
 * device events or the next start). */
int membership_vm_defined(struct membership *m,
			  const struct membership_vm_info *info);
/* A resync listed this domain, in this state: upsert, and mark it seen so
 * that membership_resync_commit() keeps it. */
int membership_vm_seen(struct membership *m,
		       const struct membership_vm_info *info,
		       enum membership_state state);

int membership_vm_paused(struct membership *m, const char *uuid);
int membership_vm_resumed(struct membership *m, const char *uuid);
/* Paused here for the switch-over to another host: not local any more. */
int membership_vm_migrating_out(struct membership *m, const char *uuid);
/* A migration ended with the guest running here: the incoming one
 * finished, or an outgoing one was cancelled and the source resumed. */
int membership_vm_migrated_in(struct membership *m, const char *uuid);
/* Not running any more (shut down, destroyed, crashed, migrated away,
 * saved).  A transient domain is gone: its entry is removed. */
int membership_vm_stopped(struct membership *m, const char *uuid);
/* The persistent configuration was removed.  A stopped domain is gone; a
 * running one becomes transient and goes when it stops. */
int membership_vm_undefined(struct membership *m, const char *uuid);

/* An interface was hot-plugged into a domain the table holds (an
 * identical interface already there: nothing changes). */
int membership_vm_device_added(struct membership *m, const char *uuid,
			       const struct membership_iface_info *iface);
/* The interface with this MAC was unplugged (the refused one first when a
 * domain has two).  The last one removes the entry.  -ENOENT (counted as
 * unknown_iface) when the domain has no such interface. */
int membership_vm_device_removed(struct membership *m, const char *uuid,
				 const uint8_t mac[MEMBERSHIP_MAC_LEN]);

/*
 * Full resync: begin, one membership_vm_seen() per domain listed, commit.
 * Commit removes every entry not seen (nor added or restarted by an event)
 * since begin: domains that vanished while nobody was listening.  Returns
 * how many it removed.
 */
void membership_resync_begin(struct membership *m);
uint32_t membership_resync_commit(struct membership *m);

/* --- Queries. ---------------------------------------------------------- */

/*
 * The vhost-user socket behind this MAC when a co-resident domain holds
 * the MAC and is running; NULL otherwise (not ours, or paused, migrating,
 * stopped: those frames take the uplink path).  Valid until the next
 * event.
 */
const char *membership_mac_socket(const struct membership *m,
				  const uint8_t mac[MEMBERSHIP_MAC_LEN]);
/* The domain holding the claim on this MAC, whatever its state, or NULL. */
const struct membership_vm *
membership_mac_owner(const struct membership *m,
		     const uint8_t mac[MEMBERSHIP_MAC_LEN]);

const struct membership_vm *membership_find(const struct membership *m,
					    const char *uuid);
/* Iterate in the order entries were added: first with prev == NULL. */
const struct membership_vm *membership_next(const struct membership *m,
					    const struct membership_vm *prev);
uint32_t membership_count(const struct membership *m);
/* Moves by at least one on every change (what the dataplane compares to
 * decide whether to republish). */
uint64_t membership_generation(const struct membership *m);
uint64_t membership_reason_count(const struct membership *m,
				 enum membership_reason reason);

/* "52:54:00:00:01:01" into buf (>= 18 bytes); returns buf. */
char *membership_mac_format(const uint8_t mac[MEMBERSHIP_MAC_LEN], char *buf);

#endif /* VTOE_MEMBERSHIP_H */
