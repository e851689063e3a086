/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * cfg: the vtoed schema.  Loads the YAML port map with libyaml's document
 * API and walks it one section at a time into a struct cfg, checking what
 * the daemon would trip over later (names, MACs, sockets, CPUs) before
 * anything is created.  Problems are collected rather than fatal, so the
 * operator fixes the whole file in one pass; cfg_yaml.c reads the nodes,
 * and the larger sections have files of their own (cfg_ports.c,
 * cfg_net.c, cfg_lcores.c, cfg_overlay.c).
 */
#include "cfg.h"

#include <errno.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "cfg_priv.h"

#define CFG_MBUFS_MIN 1024
#define CFG_MBUFS_MAX (4u << 20)        /* ~9 GiB of 2 KiB buffers */
#define CFG_FDB_SIZE_MIN 64
#define CFG_FDB_SIZE_MAX (1u << 20)
#define CFG_AGEING_MAX 86400            /* one day */

/* The keys each section takes: the schema walker checks them, and the
 * config diff classes every one (cfg_schema_keys). */
static const char *const keys_memory[] = { "hugepages", "mbufs", NULL };
static const char *const keys_control[] = { "socket", "mode", NULL };
static const char *const keys_fdb[] = { "size", "ageing", NULL };
static const char *const keys_eal[] = { "file_prefix", "args", NULL };
static const char *const keys_membership[] = { "source", "uri", "mode", "interval", "attach", "sockets", "defaults", NULL };
static const char *const keys_defaults[] = { "uplink", "weight", "offloads", "owner", "group", "perms", NULL };
static const char *const keys_datapath[] = { "direct", NULL };
static const char *const keys_socket_dir[] = { "path", "group", "mode", NULL };
static const char *const keys_root[] = { "lcores", "memory", "control", "fdb", "eal", "membership", "datapath", "socket_dir", "networks", "overlay", "cluster", "uplinks", "vms", NULL };

const char *const *
cfg_schema_keys(const char *section)
{
	static const struct {
		const char *name;
		const char *const *keys;
	} sections[] = {
		{ "lcores", cfg_keys_lcores },
		{ "memory", keys_memory },
		{ "control", keys_control },
		{ "fdb", keys_fdb },
		{ "eal", keys_eal },
		{ "membership", keys_membership },
		{ "uplink", cfg_keys_uplink },
		{ "datapath", keys_datapath },
		{ "socket_dir", keys_socket_dir },
		{ "defaults", keys_defaults },
		{ "port", cfg_keys_port },
		{ "vm", cfg_keys_vm },
		{ "overlay", cfg_keys_overlay },
		{ "cluster", cfg_keys_cluster },
		{ "", keys_root },
	};

	for (size_t i = 0; i < sizeof(sections) / sizeof(sections[0]); i++)
		if (strcmp(sections[i].name, section) == 0)
			return sections[i].keys;
	return NULL;
}

static void parse_memory(struct cfg_parser *p, const yaml_node_t *map)
{
	static const char ctx[] = "memory: ";
	yaml_node_t *n;
	unsigned long long v;
	bool second;

	cfg_map_check(p, map, ctx, keys_memory);
	n = cfg_map_get(p, map, "hugepages");
	if (n != NULL && cfg_get_either(p, n, ctx, "hugepages", "auto", "none",
					&second))
		p->cfg->hugepages = second ? CFG_HUGEPAGES_NONE : CFG_HUGEPAGES_AUTO;
	n = cfg_map_get(p, map, "mbufs");
	if (n != NULL && cfg_get_uint(p, n, ctx, "mbufs", CFG_MBUFS_MIN,
				      CFG_MBUFS_MAX, &v))
		p->cfg->mbufs = (uint32_t)v;
}

static void parse_control(struct cfg_parser *p, const yaml_node_t *map)
{
	static const char ctx[] = "control: ";
	yaml_node_t *n;

	cfg_map_check(p, map, ctx, keys_control);
	if ((n = cfg_map_get(p, map, "socket")) != NULL)
		cfg_get_path(p, n, ctx, "socket", p->cfg->ctl_socket);
	if ((n = cfg_map_get(p, map, "mode")) != NULL)
		cfg_get_mode(p, n, ctx, "mode", &p->cfg->ctl_mode);
}

static void parse_socket_dir(struct cfg_parser *p, const yaml_node_t *map)
{
	static const char ctx[] = "socket_dir: ";
	struct cfg *cfg = p->cfg;
	yaml_node_t *n;

	cfg_map_check(p, map, ctx, keys_socket_dir);
	if ((n = cfg_map_require(p, map, ctx, "path")) != NULL)
		cfg_get_path(p, n, ctx, "path", cfg->sockdir);
	if ((n = cfg_map_get(p, map, "group")) != NULL)
		cfg_get_id(p, n, ctx, "group", true, &cfg->sockdir_group);
	if ((n = cfg_map_get(p, map, "mode")) != NULL)
		cfg_get_mode(p, n, ctx, "mode", &cfg->sockdir_mode);
}

static void parse_fdb(struct cfg_parser *p, const yaml_node_t *map)
{
	static const char ctx[] = "fdb: ";
	yaml_node_t *n;
	unsigned long long v;

	cfg_map_check(p, map, ctx, keys_fdb);
	n = cfg_map_get(p, map, "size");
	if (n != NULL && cfg_get_uint(p, n, ctx, "size", CFG_FDB_SIZE_MIN,
				      CFG_FDB_SIZE_MAX, &v))
		p->cfg->fdb_size = (uint32_t)v;
	n = cfg_map_get(p, map, "ageing");
	if (n != NULL && cfg_get_uint(p, n, ctx, "ageing", 1, CFG_AGEING_MAX, &v))
		p->cfg->fdb_ageing_s = (uint32_t)v;
}

static void parse_eal(struct cfg_parser *p, const yaml_node_t *map)
{
	static const char ctx[] = "eal: ";
	struct cfg *cfg = p->cfg;
	yaml_node_t *n, *args;
	const char *s;
	size_t i;

	cfg_map_check(p, map, ctx, keys_eal);
	/* The prefix names a directory under /var/run/dpdk. */
	if ((n = cfg_map_get(p, map, "file_prefix")) != NULL)
		cfg_get_name(p, n, ctx, "file_prefix", cfg->eal_file_prefix);
	args = cfg_map_get(p, map, "args");
	if (args == NULL || cfg_is_null(args) ||
	    !cfg_want(p, args, YAML_SEQUENCE_NODE, ctx, "args",
		      "a list of EAL options like [\"--log-level=lib.eal:info\"]"))
		return;
	for (i = 0; i < cfg_list_len(args); i++) {
		n = cfg_list_item(p, args, i);
		if (i == CFG_MAX_EAL_ARGS) {
			cfg_error(p, n, "eal: too many args (max %d)",
				  CFG_MAX_EAL_ARGS);
			break;
		}
		if ((s = cfg_get_scalar(p, n, ctx, "each arg")) == NULL)
			continue;
		if (s[0] == '\0') {
			cfg_error(p, n, "eal: an arg is empty");
			continue;
		}
		cfg->eal_args[cfg->n_eal_args] = strdup(s);
		if (cfg->eal_args[cfg->n_eal_args] == NULL) {
			p->sys_errno = ENOMEM;
			cfg_error(p, n, "eal: out of memory");
			return;
		}
		cfg->n_eal_args++;
	}
}

int cfg_interval_parse(const char *s, uint64_t *ms)
{
	unsigned long long v;
	char *end;

	if (s == NULL || *s < '0' || *s > '9')
		return -EINVAL;
	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno != 0 || v > UINT32_MAX)
		return -EINVAL;
	if (strcmp(end, "ms") == 0)
		*ms = v;
	else if (strcmp(end, "s") == 0 || *end == '\0')
		*ms = v * 1000;
	else if (strcmp(end, "m") == 0 || strcmp(end, "min") == 0)
		*ms = v * 60000;
	else
		return -EINVAL;
	return 0;
}

#define CFG_MEMBERSHIP_INTERVAL_MS_MIN 10
#define CFG_MEMBERSHIP_INTERVAL_MS_MAX 3600000

/* attach: auto|off and sockets: [DIR, ...] (defaults: after the uplinks,
 * which it may name: parse_attach_defaults). */
static void parse_attach(struct cfg_parser *p, const yaml_node_t *map)
{
	static const char ctx[] = "membership: ";
	struct cfg *cfg = p->cfg;
	yaml_node_t *n, *dirs;
	bool second;

	if ((n = cfg_map_get(p, map, "attach")) != NULL &&
	    cfg_get_either(p, n, ctx, "attach", "off", "auto", &second))
		cfg->attach_auto = second;
	dirs = cfg_map_get(p, map, "sockets");
	if (!cfg->attach_auto) {
		if (dirs != NULL)
			cfg_error(p, dirs, "membership: sockets needs attach: auto");
		if ((n = cfg_map_get(p, map, "defaults")) != NULL)
			cfg_error(p, n, "membership: defaults needs attach: auto");
		return;
	}
	if (dirs == NULL) {
		cfg_error(p, map, "membership: attach: auto needs sockets: [DIR, ...], the directories a domain's socket may be in");
		return;
	}
	if (!cfg_want(p, dirs, YAML_SEQUENCE_NODE, ctx, "sockets",
		      "a list of directories like [/run/vtoe/]"))
		return;
	if (cfg_list_len(dirs) == 0)
		cfg_error(p, dirs, "membership: sockets is empty (want at least one directory)");
	for (size_t i = 0; i < cfg_list_len(dirs); i++) {
		yaml_node_t *d = cfg_list_item(p, dirs, i);
		char *dir;
		size_t len;

		if (i == CFG_ATTACH_DIRS_MAX) {
			cfg_error(p, d, "membership: too many sockets directories (max %d)",
				  CFG_ATTACH_DIRS_MAX);
			break;
		}
		dir = cfg->attach_dirs[cfg->n_attach_dirs];
		if (!cfg_get_path(p, d, ctx, "sockets", dir))
			continue;
		/* A directory, named without ".." or "." steps: a domain's
		 * socket is checked against it by its text. */
		if (strstr(dir, "/../") != NULL || strstr(dir, "/./") != NULL ||
		    strcmp(dir, "/") == 0) {
			cfg_error(p, d, "membership: sockets directory \"%s\" must be a plain absolute directory (no . or .. steps, not /)",
				  dir);
			continue;
		}
		len = strlen(dir);
		if (dir[len - 1] != '/') {
			if (len + 1 >= CFG_PATH_MAX) {
				cfg_error(p, d, "membership: sockets directory \"%s\" is too long", dir);
				continue;
			}
			dir[len] = '/';
			dir[len + 1] = '\0';
		}
		cfg->n_attach_dirs++;
	}
}

/* membership: defaults: what a port made from a domain gets unless its
 * <metadata> says otherwise. */
static void parse_attach_defaults(struct cfg_parser *p,
				  const yaml_node_t *membership)
{
	static const char ctx[] = "membership: defaults: ";
	struct cfg_port *d = &p->cfg->attach_defaults;
	yaml_node_t *map, *n;
	unsigned long long v;

	if (membership == NULL || !p->cfg->attach_auto ||
	    (map = cfg_map_get(p, membership, "defaults")) == NULL ||
	    !cfg_want(p, map, YAML_MAPPING_NODE, "membership: ", "defaults",
		      "a mapping like {uplink: up0, weight: 1, offloads: true}"))
		return;
	cfg_map_check(p, map, ctx, keys_defaults);
	if ((n = cfg_map_get(p, map, "uplink")) != NULL)
		cfg_parse_port_uplink(p, n, ctx, d);
	n = cfg_map_get(p, map, "weight");
	if (n != NULL && cfg_get_uint(p, n, ctx, "weight", CFG_WEIGHT_MIN,
				      CFG_WEIGHT_MAX, &v))
		d->weight = (uint32_t)v;
	if ((n = cfg_map_get(p, map, "offloads")) != NULL)
		cfg_get_bool(p, n, ctx, "offloads", &d->offloads);
	/* Server-mode ports only (the domain's QEMU connects to them). */
	cfg_parse_port_access(p, map, ctx, d);
}

static void parse_membership(struct cfg_parser *p, const yaml_node_t *map)
{
	static const char ctx[] = "membership: ";
	struct cfg *cfg = p->cfg;
	yaml_node_t *n, *uri, *mode, *interval;
	const char *s;
	uint64_t ms;
	bool second;

	cfg_map_check(p, map, ctx, keys_membership);
	n = cfg_map_get(p, map, "source");
	if (n != NULL && cfg_get_either(p, n, ctx, "source", "static", "libvirt",
					&second))
		cfg->membership = second ? CFG_MEMBERSHIP_LIBVIRT :
					   CFG_MEMBERSHIP_STATIC;
	uri = cfg_map_get(p, map, "uri");
	mode = cfg_map_get(p, map, "mode");
	interval = cfg_map_get(p, map, "interval");
	if (cfg->membership == CFG_MEMBERSHIP_STATIC) {
		static const char *const libvirt_only[] = {
			"attach", "sockets", "defaults",
		};

		/* Settings that would do nothing are a mistake to point at. */
		if (uri != NULL)
			cfg_error(p, uri, "membership: uri needs source: libvirt (static takes the port map as the table)");
		if (mode != NULL)
			cfg_error(p, mode, "membership: mode needs source: libvirt");
		if (interval != NULL)
			cfg_error(p, interval, "membership: interval needs source: libvirt and mode: poll");
		for (size_t i = 0; i < sizeof(libvirt_only) / sizeof(libvirt_only[0]); i++)
			if ((n = cfg_map_get(p, map, libvirt_only[i])) != NULL)
				cfg_error(p, n, "membership: %s needs source: libvirt",
					  libvirt_only[i]);
		return;
	}
	parse_attach(p, map);
	if (uri != NULL)
		cfg_get_str(p, uri, ctx, "uri", cfg->membership_uri,
			    sizeof(cfg->membership_uri));
	if (mode != NULL && cfg_get_either(p, mode, ctx, "mode", "events", "poll",
					   &second))
		cfg->membership_mode = second ? CFG_MEMBERSHIP_POLL :
						CFG_MEMBERSHIP_EVENTS;
	if (interval == NULL ||
	    (s = cfg_get_scalar(p, interval, ctx, "interval")) == NULL)
		return;
	if (cfg->membership_mode != CFG_MEMBERSHIP_POLL)
		cfg_error(p, interval, "membership: interval needs mode: poll (events need no interval)");
	else if (cfg_interval_parse(s, &ms) != 0 ||
		 ms < CFG_MEMBERSHIP_INTERVAL_MS_MIN ||
		 ms > CFG_MEMBERSHIP_INTERVAL_MS_MAX)
		cfg_error(p, interval, "membership: interval \"%s\" is not a duration from 10ms to 1h (like 1s or 500ms)", s);
	else
		cfg->membership_interval_ms = (uint32_t)ms;
}


static void parse_datapath(struct cfg_parser *p, const yaml_node_t *map)
{
	static const char ctx[] = "datapath: ";
	yaml_node_t *n;

	cfg_map_check(p, map, ctx, keys_datapath);
	if ((n = cfg_map_get(p, map, "direct")) != NULL)
		cfg_get_bool(p, n, ctx, "direct", &p->cfg->direct);
}

/* A top-level section of the given type, or NULL when absent, left empty
 * ("uplinks:" with every entry commented out) or of the wrong type. */
static yaml_node_t *section(struct cfg_parser *p, const yaml_node_t *root,
			    const char *key, yaml_node_type_t type,
			    const char *shape)
{
	yaml_node_t *n = cfg_map_get(p, root, key);

	if (n == NULL || cfg_is_null(n) ||
	    !cfg_want(p, n, type, "", key, shape))
		return NULL;
	return n;
}

/* The sections whose place a config keeps, and where it keeps it. */
static const struct {
	const char *key;
	size_t off;
} section_at[] = {
	{ "lcores", offsetof(struct cfg, at_lcores) },
	{ "memory", offsetof(struct cfg, at_memory) },
	{ "control", offsetof(struct cfg, at_control) },
	{ "fdb", offsetof(struct cfg, at_fdb) },
	{ "eal", offsetof(struct cfg, at_eal) },
	{ "membership", offsetof(struct cfg, at_membership) },
	{ "datapath", offsetof(struct cfg, at_datapath) },
	{ "socket_dir", offsetof(struct cfg, at_socket_dir) },
	{ "overlay", offsetof(struct cfg, at_overlay) },
	{ "cluster", offsetof(struct cfg, at_cluster) },
};

/* The sections' places, for messages about a running config. */
static void record_marks(struct cfg_parser *p, const yaml_node_t *root)
{
	const yaml_node_t *n;

	for (size_t i = 0; i < sizeof(section_at) / sizeof(section_at[0]); i++)
		if ((n = cfg_map_get(p, root, section_at[i].key)) != NULL)
			*(struct cfg_mark *)((char *)p->cfg + section_at[i].off) =
				cfg_mark_of(n);
}

struct cfg_mark cfg_section_mark(const struct cfg *cfg, const char *key)
{
	size_t len = strcspn(key, ".");

	for (size_t i = 0; i < sizeof(section_at) / sizeof(section_at[0]); i++)
		if (strlen(section_at[i].key) == len &&
		    strncmp(key, section_at[i].key, len) == 0)
			return *(const struct cfg_mark *)((const char *)cfg +
							  section_at[i].off);
	return (struct cfg_mark){ 0, 0 };
}

static void parse_root(struct cfg_parser *p, const yaml_node_t *root)
{
	yaml_node_t *n;

	if (root->type != YAML_MAPPING_NODE) {
		cfg_error(p, root, "the file must be a mapping of sections (lcores:, vms:, ...), not %s",
			  cfg_node_kind(root));
		return;
	}
	cfg_map_check(p, root, "", keys_root);
	record_marks(p, root);
	cfg_parse_lcores(p, section(p, root, "lcores", YAML_MAPPING_NODE,
				"a mapping like {main: 0, workers: [1]}"), root);
	if ((n = section(p, root, "memory", YAML_MAPPING_NODE,
			 "a mapping like {hugepages: auto, mbufs: 16384}")))
		parse_memory(p, n);
	if ((n = section(p, root, "control", YAML_MAPPING_NODE,
			 "a mapping like {socket: /run/vtoe/vtoed.sock, mode: \"0660\"}")))
		parse_control(p, n);
	if ((n = section(p, root, "fdb", YAML_MAPPING_NODE,
			 "a mapping like {size: 4096, ageing: 300}")))
		parse_fdb(p, n);
	if ((n = section(p, root, "eal", YAML_MAPPING_NODE,
			 "a mapping like {file_prefix: vtoed, args: [...]}")))
		parse_eal(p, n);
	if ((n = section(p, root, "membership", YAML_MAPPING_NODE,
			 "a mapping like {source: libvirt, uri: \"qemu:///system\"}")))
		parse_membership(p, n);
	if ((n = section(p, root, "datapath", YAML_MAPPING_NODE,
			 "a mapping like {direct: true}")))
		parse_datapath(p, n);
	if ((n = section(p, root, "socket_dir", YAML_MAPPING_NODE,
			 "a mapping like {path: /run/vtoe, group: libvirt-qemu, mode: \"0770\"}")))
		parse_socket_dir(p, n);
	/* Networks and uplinks before VMs: ports refer to them by name. */
	if ((n = section(p, root, "networks", YAML_SEQUENCE_NODE,
			 "a list of {name: blue, vlan: 100}")))
		cfg_parse_networks(p, n);
	if ((n = section(p, root, "uplinks", YAML_SEQUENCE_NODE,
			 "a list of {name: ..., device: ...}")))
		cfg_parse_uplinks(p, n);
	if ((n = section(p, root, "overlay", YAML_MAPPING_NODE,
			 "a mapping like {local_ip: 192.0.2.1/24, uplink: up0}")))
		cfg_parse_overlay(p, n);
	if ((n = section(p, root, "cluster", YAML_MAPPING_NODE,
			 "a mapping like {etcd: [\"http://127.0.0.1:2379\"], host: host-a}")))
		cfg_parse_cluster(p, n);
	n = cfg_map_get(p, root, "membership");
	parse_attach_defaults(p, n != NULL && n->type == YAML_MAPPING_NODE ? n : NULL);
	/* With attach: auto the domains bring their ports: vms may be
	 * left out. */
	n = cfg_map_get(p, root, "vms");
	if ((n == NULL || cfg_is_null(n)) && !p->cfg->attach_auto)
		cfg_error(p, n != NULL ? n : root, n != NULL ?
			  "vms is empty (want at least one VM with one port)" :
			  "missing required section \"vms\" (want at least one VM with one port, or membership attach: auto)");
	else if (n != NULL && !cfg_is_null(n) && cfg_want(p, n, YAML_SEQUENCE_NODE, "", "vms",
			  "a list of {name: ..., ports: [...]}"))
		cfg_parse_vms(p, n);
	cfg_check_networks(p, root);
	cfg_check_overlay(p, root);
}

/* ------------------------------------------------------------------ */
/* Entry points                                                       */

static void report_yaml_error(struct cfg_parser *p, const yaml_parser_t *yp,
			      const char *text, size_t size)
{
	yaml_mark_t mark = { 0 };
	size_t i;

	switch (yp->error) {
	case YAML_MEMORY_ERROR:
		p->sys_errno = ENOMEM;
		cfg_error_at(p, NULL, "out of memory");
		return;
	case YAML_READER_ERROR:
		/* The reader gives a byte offset only (bad UTF-8, control
		 * characters): count lines and characters up to it. */
		for (i = 0; i < yp->problem_offset && i < size; i++) {
			if (text[i] == '\n') {
				mark.line++;
				mark.column = 0;
			} else if (((unsigned char)text[i] & 0xc0) != 0x80) {
				mark.column++;
			}
		}
		cfg_error_at(p, &mark, "cannot read: %s", yp->problem);
		return;
	default:
		break;
	}
	if (yp->context != NULL)
		cfg_error_at(p, &yp->problem_mark,
			     "YAML syntax error: %s (%s on line %zu)",
			     yp->problem, yp->context, yp->context_mark.line + 1);
	else
		cfg_error_at(p, &yp->problem_mark, "YAML syntax error: %s",
			     yp->problem != NULL ? yp->problem : "unknown");
}

/* Loads the one document of the stream, reporting syntax errors anywhere
 * in it; a second document would otherwise be ignored without a word. */
static bool load_document(struct cfg_parser *p, const char *text, size_t size)
{
	yaml_parser_t yp;
	yaml_mark_t start = { 0 };
	yaml_document_t more;
	yaml_node_t *root;
	bool ok = false;

	if (!yaml_parser_initialize(&yp)) {
		p->sys_errno = ENOMEM;
		cfg_error_at(p, NULL, "out of memory");
		return false;
	}
	yaml_parser_set_input_string(&yp, (const unsigned char *)text, size);
	if (!yaml_parser_load(&yp, p->doc)) {
		report_yaml_error(p, &yp, text, size);
		goto out;
	}
	root = yaml_document_get_root_node(p->doc);
	if (root == NULL)
		cfg_error_at(p, &start, "the file is empty (want at least a vms: section)");
	if (!yaml_parser_load(&yp, &more)) {
		report_yaml_error(p, &yp, text, size);
	} else {
		if (yaml_document_get_root_node(&more) != NULL)
			cfg_error(p, yaml_document_get_root_node(&more),
				  "a second YAML document: the file must hold exactly one");
		yaml_document_delete(&more);
	}
	ok = true;
out:
	yaml_parser_delete(&yp);
	return ok;
}

struct cfg *cfg_parse(const char *name, const char *text, size_t size,
		      FILE *err, cfg_cpu_present_fn cpu_present)
{
	yaml_document_t doc;
	struct cfg_parser p = {
		.name = name, .err = err, .doc = &doc,
		.cpu_present = cpu_present != NULL ? cpu_present : cfg_cpu_usable,
	};
	struct cfg *cfg = calloc(1, sizeof(*cfg));

	if (cfg == NULL)
		return NULL;
	snprintf(cfg->path, sizeof(cfg->path), "%s", name);
	cfg->main_lcore = 0;
	cfg->poll = CFG_POLL_ADAPTIVE;
	cfg->max_sleep_us = CFG_MAX_SLEEP_US_DEFAULT;
	cfg->rebalance_load_pct = CFG_REBALANCE_LOAD_DEFAULT;
	cfg->rebalance_period_s = CFG_REBALANCE_PERIOD_DEFAULT;
	cfg->rebalance_improvement_pct = CFG_REBALANCE_IMPROVEMENT_DEFAULT;
	cfg->hugepages = CFG_HUGEPAGES_AUTO;
	cfg->mbufs = 16384;
	snprintf(cfg->ctl_socket, sizeof(cfg->ctl_socket), "/run/vtoe/vtoed.sock");
	cfg->ctl_mode = 0660;
	cfg->fdb_size = 4096;
	cfg->fdb_ageing_s = 300;
	cfg->direct = true;
	cfg->sockdir_group = -1;
	cfg->attach_defaults = (struct cfg_port){
		.mode = CFG_VHOST_SERVER, .queues = 1, .uplink = -1, .weight = 1,
		.offloads = true, .sock_owner = -1, .sock_group = -1,
		.port_security = true,
	};
	snprintf(cfg->networks[0].name, sizeof(cfg->networks[0].name), "default");
	cfg->n_networks = 1;
	cfg->membership = CFG_MEMBERSHIP_STATIC;
	snprintf(cfg->membership_uri, sizeof(cfg->membership_uri), "%s",
		 CFG_MEMBERSHIP_URI_DEFAULT);
	cfg->membership_mode = CFG_MEMBERSHIP_EVENTS;
	cfg->membership_interval_ms = CFG_MEMBERSHIP_INTERVAL_MS_DEFAULT;
	snprintf(cfg->eal_file_prefix, sizeof(cfg->eal_file_prefix), "vtoed");
	p.cfg = cfg;

	if (load_document(&p, text, size)) {
		if (yaml_document_get_root_node(&doc) != NULL)
			parse_root(&p, yaml_document_get_root_node(&doc));
		yaml_document_delete(&doc);
	}
	if (p.n_errors > 0) {
		cfg_free(cfg);
		errno = p.sys_errno != 0 ? p.sys_errno : EINVAL;
		return NULL;
	}
	return cfg;
}

static char *read_all(FILE *f, size_t *size)
{
	size_t cap = 4096, len = 0, n;
	char *buf = malloc(cap), *bigger;

	while (buf != NULL && (n = fread(buf + len, 1, cap - len, f)) > 0) {
		len += n;
		if (len < cap)
			continue;
		bigger = realloc(buf, cap * 2);
		if (bigger == NULL) {
			free(buf);
			return NULL;
		}
		buf = bigger;
		cap *= 2;
	}
	if (buf != NULL && ferror(f)) {
		int e = errno;

		free(buf);
		errno = e;
		return NULL;
	}
	*size = len;
	return buf;
}

struct cfg *cfg_load(const char *path, FILE *err,
		     cfg_cpu_present_fn cpu_present)
{
	struct cfg *cfg;
	size_t size = 0;
	char *text;
	FILE *f;
	int e;

	f = fopen(path, "re");
	if (f == NULL) {
		e = errno;
		if (err != NULL)
			fprintf(err, "%s: cannot open: %s\n", path, strerror(e));
		errno = e;
		return NULL;
	}
	text = read_all(f, &size);
	e = errno;
	fclose(f);
	if (text == NULL) {
		if (err != NULL)
			fprintf(err, "%s: cannot read: %s\n", path, strerror(e));
		errno = e;
		return NULL;
	}
	cfg = cfg_parse(path, text, size, err, cpu_present);
	e = errno;
	free(text);
	errno = e;
	return cfg;
}

void cfg_free(struct cfg *cfg)
{
	unsigned int i;

	if (cfg == NULL)
		return;
	for (i = 0; i < cfg->n_eal_args; i++)
		free(cfg->eal_args[i]);
	free(cfg);
}

static int hex_digit(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

int cfg_mac_parse(const char *s, uint8_t mac[6])
{
	uint8_t out[6];
	int i, hi, lo;

	for (i = 0; i < 6; i++) {
		hi = hex_digit(s[0]);
		if (hi < 0)
			return -EINVAL;
		lo = hex_digit(s[1]);
		if (lo < 0)
			return -EINVAL;
		out[i] = (uint8_t)(hi << 4 | lo);
		s += 2;
		if (i < 5 && *s++ != ':')
			return -EINVAL;
	}
	if (*s != '\0')
		return -EINVAL;
	memcpy(mac, out, 6);
	return 0;
}

void cfg_mac_format(const uint8_t mac[6], char *buf, size_t size)
{
	snprintf(buf, size, "%02x:%02x:%02x:%02x:%02x:%02x",
		 mac[0], mac[1], mac[2], mac[3], mac[4], mac[5]);
}

