/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * cfg_diff: what differs between the running config and a re-read one,
 * and what each difference takes.  Every field of struct cfg, cfg_uplink,
 * cfg_vm and cfg_port is classed here, and only here:
 *
 *   LIVE      applied to the running switch as it is (a port's weight)
 *   RECREATE  the port it belongs to is closed and created again; a
 *             global key of this class re-creates every VM port
 *   RESTART   cannot change while vtoed runs (lcores, memory, eal, ...)
 *   DERIVED   not a setting of its own: a count, an index compared by
 *             name, a place in the file, the name a port is known by
 *
 * Ports and uplinks are known by name: one only in the new config is
 * added, one only in the old removed.  Pure: no DPDK, no I/O.
 */
#ifndef VTOE_CFG_DIFF_H
#define VTOE_CFG_DIFF_H

#include <stdbool.h>
#include <stddef.h>

#include "cfg.h"

enum cfg_class {
	CFG_SAME,               /* (results) nothing differs */
	CFG_LIVE,
	CFG_RECREATE,
	CFG_RESTART,
	CFG_DERIVED,            /* (tables) never compared by itself */
};

enum cfg_entry_change {
	CFG_UNCHANGED,
	CFG_CHANGED_LIVE,       /* keeps running; LIVE fields applied */
	CFG_CHANGED,            /* closed and created again */
	CFG_ADDED,
	CFG_REMOVED,
};

/* One VM port or uplink of either config. */
struct cfg_diff_entry {
	char name[CFG_NAME_MAX];        /* a copy: outlives either config */
	int old_idx;                    /* in the running config, -1: added */
	int new_idx;                    /* in the new one, -1: removed */
	enum cfg_entry_change change;
	const char *key;                /* changed: the first field that
					 * decided it ("port.mac") */
};

struct cfg_diff {
	/* A RESTART field differs: nothing may change.  why says which,
	 * "FILE:LINE:COL: KEY: changing it needs a restart". */
	bool restart;
	char why[320];
	/* LIVE globals that differ ("fdb.ageing"), and the RECREATE global
	 * that re-creates every VM port ("datapath.direct"), or NULL. */
	unsigned int n_live;
	const char *live[8];
	const char *recreate_all;
	unsigned int n_ports;
	struct cfg_diff_entry ports[2 * CFG_MAX_PORTS];
	unsigned int n_uplinks;
	struct cfg_diff_entry uplinks[2 * CFG_MAX_UPLINKS];
};

/* a: running, b: re-read (both validated).  Fills d; never fails. */
void cfg_diff(const struct cfg *a, const struct cfg *b, struct cfg_diff *d);

/* Counts of d's entries (ports and uplinks) with that change. */
unsigned int cfg_diff_count(const struct cfg_diff *d,
			    enum cfg_entry_change change);

/* The classification tables, for their test. */
enum cfg_struct { CFG_STRUCT_CFG, CFG_STRUCT_UPLINK, CFG_STRUCT_VM,
		  CFG_STRUCT_PORT, CFG_STRUCT_MAX };
struct cfg_field {
	const char *key;                /* "section.key" as in the YAML */
	size_t off, size, align;
	enum cfg_class cls;
	/* NULL: compared byte for byte. */
	bool (*same)(const struct cfg *a, const void *x, const struct cfg *b,
		     const void *y);
};
const struct cfg_field *cfg_fields(enum cfg_struct s, size_t *n,
				   size_t *struct_size, size_t *struct_align);

#endif /* VTOE_CFG_DIFF_H */
