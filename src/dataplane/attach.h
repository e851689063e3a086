/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * attach: which VM ports the domains libvirt knows should have
 * (membership attach: auto), as a pure function of the config, the
 * co-residency table and the ports there are now.  The dataplane carries
 * the plan out; the unit tests call it with a table they fill by hand.
 *
 * Every vhost-user interface of every domain in the table (running,
 * paused, migrating, or defined and shut off: a port goes only when its
 * domain is undefined or a transient one ends) becomes a port:
 *  - named by its <target dev=...> as libvirt reports it (libvirt names
 *    one itself when the XML gives none), else DOMAIN.N (N: its index
 *    among the domain's vhost-user interfaces), cut to fit;
 *  - socket and MAC from the XML; vtoed connects (client mode) when the
 *    domain's QEMU is the server, else makes the socket (server mode,
 *    with defaults.owner/group/perms);
 *  - uplink, weight, offloads from vtoe's <metadata> element, else from
 *    membership.defaults; its TOE endpoint (ip, gateway, dns, hostname,
 *    instance-id) from that element too, the host name defaulting to the
 *    domain's name and the instance id to its UUID; without an ip, the
 *    port has no endpoint.
 * An interface that is a port of the port map already (same MAC and
 * socket) is left to that port.  Any other is refused, with a reason,
 * when its socket is not under
 * one of membership.sockets (a domain XML must not point vtoed at any
 * socket on the host) or when its name, MAC or socket is another port's.
 * No DPDK here.
 */
#ifndef VTOE_ATTACH_H
#define VTOE_ATTACH_H

#include <stdbool.h>
#include <stdint.h>

#include "config/cfg.h"
#include "membership/membership.h"

#define ATTACH_MAX 1024                 /* ports given and planned, refusals kept */

/* X(symbol, "name", "why the interface got no port") */
#define ATTACH_REASONS(X) \
	X(OUTSIDE, "socket_outside", "its socket is not under one of membership.sockets") \
	X(NAME_TAKEN, "name_taken", "its port name is another port's") \
	X(MAC_TAKEN, "mac_taken", "its MAC is another port's (or another domain's)") \
	X(SOCKET_TAKEN, "socket_taken", "its socket is another port's") \
	X(TOO_MANY, "too_many", "more interfaces than ports vtoed can hold") \
	X(METADATA, "metadata_invalid", "its vtoe <metadata> element has an ip, gateway, dns, hostname or instance-id that does not hold")

enum attach_reason {
#define ATTACH_REASON_ENUM(sym, name, help) ATTACH_##sym,
	ATTACH_REASONS(ATTACH_REASON_ENUM)
#undef ATTACH_REASON_ENUM
	ATTACH_REASON_MAX
};

const char *attach_reason_name(enum attach_reason r);

/* A port that exists now. */
struct attach_port {
	const char *name;
	const char *socket;
	uint8_t mac[6];
	bool client;                    /* vtoed connects */
	bool from_libvirt;
};

struct attach_want {
	struct cfg_port pc;             /* name, socket, mode, mac, ... */
	char vm[CFG_NAME_MAX];          /* the domain's name, cut to fit */
};

struct attach_refusal {
	char domain[CFG_NAME_MAX];
	uint8_t mac[6];
	char socket[CFG_PATH_MAX];
	enum attach_reason reason;
	char other[CFG_NAME_MAX];       /* the port it collides with, or "" */
};

struct attach_plan {
	/* Ports made from domains that are to go (index into the ports
	 * given), and the ports to make (after those went). */
	unsigned int n_remove;
	unsigned int remove[ATTACH_MAX];
	unsigned int n_add;
	struct attach_want add[ATTACH_MAX];
	unsigned int n_keep;            /* made from domains, unchanged */
	unsigned int n_config;          /* interfaces the port map serves */
	unsigned int n_refused;
	struct attach_refusal refused[ATTACH_MAX];
};

/* Fill plan.  n_free: ports vtoed can still add (slots). */
void attach_plan(const struct cfg *cfg, const struct membership *table,
		 const struct attach_port *ports, unsigned int n_ports,
		 unsigned int n_free, struct attach_plan *plan);

#endif /* VTOE_ATTACH_H */
