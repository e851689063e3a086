/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * cfg_priv: checked access to a libyaml document (cfg_yaml.c), used by the
 * vtoed schema walker (cfg.c).  Every getter reports what is wrong with the
 * node itself and returns false/NULL, so the schema code stays a list of
 * keys.  Messages are built as "<ctx><key> ...": ctx names the owner and
 * ends in ": " ("memory: ", "port \"vm1.0\": "), or is "" at the top.
 */
#ifndef VTOE_CFG_PRIV_H
#define VTOE_CFG_PRIV_H

#include <stdbool.h>
#include <stdio.h>

#include <yaml.h>

#include "cfg.h"

struct cfg_parser {
	const char *name;               /* the file, as messages name it */
	FILE *err;                      /* may be NULL */
	yaml_document_t *doc;
	cfg_cpu_present_fn cpu_present;
	struct cfg *cfg;                /* being filled in */
	unsigned int n_errors;
	int sys_errno;                  /* set when failing was not the file's
					 * fault (ENOMEM) */
	bool ports_full;                /* "too many ports" said once */
	char cpus_text[128];            /* usable CPUs, built on first need */
};

/* One "FILE:LINE:COL: message" line to p->err (no position if NULL). */
void cfg_error(struct cfg_parser *p, const yaml_node_t *node,
	       const char *fmt, ...) __attribute__((format(printf, 3, 4)));
void cfg_error_at(struct cfg_parser *p, const yaml_mark_t *mark,
		  const char *fmt, ...) __attribute__((format(printf, 3, 4)));

static inline yaml_node_t *cfg_node(const struct cfg_parser *p, int index)
{
	return yaml_document_get_node(p->doc, index);
}

static inline size_t cfg_list_len(const yaml_node_t *list)
{
	return (size_t)(list->data.sequence.items.top -
			list->data.sequence.items.start);
}

static inline yaml_node_t *cfg_list_item(const struct cfg_parser *p,
					 const yaml_node_t *list, size_t i)
{
	return cfg_node(p, list->data.sequence.items.start[i]);
}

/* "a mapping", "a list", "a single value": for "must be X, not Y". */
const char *cfg_node_kind(const yaml_node_t *n);
/* "key:" with nothing after it, "~" or "null". */
bool cfg_is_null(const yaml_node_t *n);
/* Reports n (as ctx+key) unless it is of the given type; shape says what
 * was wanted, e.g. "a list of CPU numbers like [1, 2]". */
bool cfg_want(struct cfg_parser *p, const yaml_node_t *n,
	      yaml_node_type_t type, const char *ctx, const char *key,
	      const char *shape);

/* Reports unknown, repeated and non-scalar keys; allowed ends with NULL. */
void cfg_map_check(struct cfg_parser *p, const yaml_node_t *map,
		   const char *ctx, const char *const *allowed);
/* The value of key, or NULL when absent. */
yaml_node_t *cfg_map_get(const struct cfg_parser *p, const yaml_node_t *map,
			 const char *key);
/* Same, but absence is reported, at the mapping that lacks the key. */
yaml_node_t *cfg_map_require(struct cfg_parser *p, const yaml_node_t *map,
			     const char *ctx, const char *key);

/* A scalar's text ("" for null), NULL when not a usable scalar. */
const char *cfg_get_scalar(struct cfg_parser *p, const yaml_node_t *n,
			   const char *ctx, const char *key);
/* Non-empty and fitting buf (with its NUL). */
bool cfg_get_str(struct cfg_parser *p, const yaml_node_t *n, const char *ctx,
		 const char *key, char *buf, size_t size);
/* A name: letters, digits, '.', '_', '-'. */
bool cfg_get_name(struct cfg_parser *p, const yaml_node_t *n, const char *ctx,
		  const char *key, char buf[CFG_NAME_MAX]);
/* An absolute path that fits sun_path. */
bool cfg_get_path(struct cfg_parser *p, const yaml_node_t *n, const char *ctx,
		  const char *key, char buf[CFG_PATH_MAX]);
/* A decimal number in min..max. */
bool cfg_get_uint(struct cfg_parser *p, const yaml_node_t *n, const char *ctx,
		  const char *key, unsigned long long min,
		  unsigned long long max, unsigned long long *out);
/* A permission, digits read as octal: "0660", 660 or 0o660. */
bool cfg_get_mode(struct cfg_parser *p, const yaml_node_t *n, const char *ctx,
		  const char *key, uint32_t *out);

/* A user or group of this host, by name or number. */
bool cfg_get_id(struct cfg_parser *p, const yaml_node_t *n, const char *ctx,
		const char *key, bool group, int64_t *out);
/* true or false, nothing else. */
void cfg_get_bool(struct cfg_parser *p, const yaml_node_t *n, const char *ctx,
		  const char *key, bool *out);
/* One of two words: *second says which; false (reported) for anything
 * else. */
bool cfg_get_either(struct cfg_parser *p, const yaml_node_t *n,
		    const char *ctx, const char *key, const char *first,
		    const char *other, bool *second);

/* Letters, digits, '-', '.' (a host name), or printable without blanks
 * or quotes: metadata text that goes into DHCP options and HTTP. */
bool cfg_metadata_text_ok(const char *s, bool hostname);

/* Where node n starts, for messages about it after the walk. */
static inline struct cfg_mark cfg_mark_of(const yaml_node_t *n)
{
	return (struct cfg_mark){
		(uint32_t)n->start_mark.line + 1, (uint32_t)n->start_mark.column + 1,
	};
}

/* cfg_ports.c: uplinks: and vms: (their ports), and the parts of a port
 * membership: defaults: shares (its uplink; owner, group, perms). */
extern const char *const cfg_keys_uplink[];
extern const char *const cfg_keys_port[];
extern const char *const cfg_keys_vm[];
void cfg_parse_uplinks(struct cfg_parser *p, const yaml_node_t *list);
void cfg_parse_vms(struct cfg_parser *p, const yaml_node_t *list);
void cfg_parse_port_uplink(struct cfg_parser *p, const yaml_node_t *n,
			   const char *ctx, struct cfg_port *port);
void cfg_parse_port_access(struct cfg_parser *p, const yaml_node_t *map,
			   const char *ctx, struct cfg_port *port);

/* cfg_net.c: networks: and a port's network, ip, allowed, port_security
 * (networks are parsed before the VMs; the check runs after them). */
void cfg_parse_networks(struct cfg_parser *p, const yaml_node_t *list);
void cfg_parse_port_net(struct cfg_parser *p, const yaml_node_t *map,
			const char *ctx, struct cfg_port *port);
void cfg_check_networks(struct cfg_parser *p, const yaml_node_t *root);

/* cfg_overlay.c: overlay: and cluster: (after uplinks: and networks:),
 * and what they require of networks and ports (after the VMs). */
extern const char *const cfg_keys_lcores[];
/* cfg_lcores.c: the lcores: section; at says where to report problems
 * with the defaults (no lcores: section). */
void cfg_parse_lcores(struct cfg_parser *p, const yaml_node_t *map,
		      const yaml_node_t *at);
/* May this process run on cpu (its affinity; else the online CPUs)? */
bool cfg_cpu_usable(unsigned int cpu);
extern const char *const cfg_keys_overlay[];
extern const char *const cfg_keys_cluster[];
void cfg_parse_overlay(struct cfg_parser *p, const yaml_node_t *map);
void cfg_parse_cluster(struct cfg_parser *p, const yaml_node_t *map);
void cfg_check_overlay(struct cfg_parser *p, const yaml_node_t *root);

#endif /* VTOE_CFG_PRIV_H */
