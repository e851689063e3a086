/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * cfg: the uplinks: and vms: sections, and each VM's ports (name, socket,
 * MAC, uplink and weight, who may connect, metadata; a port's network
 * settings are cfg_net.c's).  Part of the schema walk in cfg.c.
 */
#include "cfg_priv.h"

#include <ctype.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "qos_dwrr/shaper.h"

const char *const cfg_keys_uplink[] = { "name", "device", "rate", "queue_packets", "queue_bytes", "mtu", "offloads", NULL };
const char *const cfg_keys_port[] = { "name", "socket", "mode", "mac", "queues", "uplink", "weight", "offloads", "takeover", "owner", "group", "perms", "network", "ip", "allowed", "port_security", "gateway", "dns", "toe", "impair", NULL };
const char *const cfg_keys_vm[] = { "name", "ports", "metadata", NULL };

/* A label for one list entry in messages: its name once known, else its
 * position (1-based, as an operator counts). */
static void entry_ctx(char *buf, size_t size, const char *kind,
		      const char *name, size_t pos)
{
	if (name[0] != '\0')
		snprintf(buf, size, "%s \"%s\": ", kind, name);
	else
		snprintf(buf, size, "%s %zu: ", kind, pos);
}

/* The DPDK device name: devargs up to the first comma. */
static size_t devname_len(const char *devargs)
{
	return strcspn(devargs, ",");
}

/* "200Mbit", "10Gbit": the rate the uplink's DWRR output is shaped to. */
static void parse_uplink_rate(struct cfg_parser *p, const yaml_node_t *n,
			      const char *ctx, struct cfg_uplink *up)
{
	const char *text = cfg_get_scalar(p, n, ctx, "rate");

	if (text == NULL)
		return;
	if (shaper_rate_parse(text, &up->rate_bps) != 0 ||
	    up->rate_bps < 64000)
		cfg_error(p, n, "%srate \"%s\" is not a rate (want a number of bits per second with a unit, like 200Mbit or 10Gbit, at least 64kbit)",
			  ctx, text);
}

static void parse_uplink(struct cfg_parser *p, const yaml_node_t *map,
			 size_t pos)
{
	struct cfg *cfg = p->cfg;
	struct cfg_uplink *up = &cfg->uplinks[cfg->n_uplinks++];
	char ctx[CFG_NAME_MAX + 16];
	unsigned long long v;
	yaml_node_t *n;
	unsigned int i;

	up->at = cfg_mark_of(map);
	entry_ctx(ctx, sizeof(ctx), "uplink", "", pos);
	if ((n = cfg_map_require(p, map, ctx, "name")) != NULL &&
	    cfg_get_name(p, n, ctx, "name", up->name)) {
		for (i = 0; i + 1 < cfg->n_uplinks; i++)
			if (strcmp(cfg->uplinks[i].name, up->name) == 0)
				cfg_error(p, n, "uplink name \"%s\" is used twice",
					  up->name);
		entry_ctx(ctx, sizeof(ctx), "uplink", up->name, pos);
	}
	cfg_map_check(p, map, ctx, cfg_keys_uplink);
	up->queue_packets = CFG_QOS_QUEUE_PACKETS;
	up->queue_bytes = CFG_QOS_QUEUE_BYTES;
	up->offloads = true;
	if ((n = cfg_map_get(p, map, "offloads")) != NULL)
		cfg_get_bool(p, n, ctx, "offloads", &up->offloads);
	if ((n = cfg_map_get(p, map, "rate")) != NULL)
		parse_uplink_rate(p, n, ctx, up);
	if ((n = cfg_map_get(p, map, "queue_packets")) != NULL &&
	    cfg_get_uint(p, n, ctx, "queue_packets", 1, 1 << 20, &v))
		up->queue_packets = (uint32_t)v;
	/* At least one jumbo frame, so any frame fits an empty queue. */
	if ((n = cfg_map_get(p, map, "queue_bytes")) != NULL &&
	    cfg_get_uint(p, n, ctx, "queue_bytes", 9216, 1ULL << 32, &v))
		up->queue_bytes = v;
	/* A frame must fit one mbuf (no scattered receive). */
	if ((n = cfg_map_get(p, map, "mtu")) != NULL &&
	    cfg_get_uint(p, n, ctx, "mtu", 576, CFG_UPLINK_MTU_MAX, &v))
		up->mtu = (uint16_t)v;
	if ((n = cfg_map_require(p, map, ctx, "device")) == NULL ||
	    !cfg_get_str(p, n, ctx, "device", up->device, sizeof(up->device)))
		return;
	/* DPDK refuses a second device of the same name at probe time. */
	for (i = 0; i + 1 < cfg->n_uplinks; i++) {
		const char *other = cfg->uplinks[i].device;
		size_t len = devname_len(up->device);

		if (devname_len(other) == len && strncmp(other, up->device, len) == 0)
			cfg_error(p, n, "%sdevice \"%.*s\" is already used by uplink \"%s\"",
				  ctx, (int)len, up->device, cfg->uplinks[i].name);
	}
}

void cfg_parse_uplinks(struct cfg_parser *p, const yaml_node_t *list)
{
	size_t i;

	for (i = 0; i < cfg_list_len(list); i++) {
		yaml_node_t *n = cfg_list_item(p, list, i);

		if (i == CFG_MAX_UPLINKS) {
			cfg_error(p, n, "uplinks: too many uplinks (max %d)",
				  CFG_MAX_UPLINKS);
			break;
		}
		if (cfg_want(p, n, YAML_MAPPING_NODE, "uplinks: ", "each uplink",
			     "a mapping like {name: up0, device: \"0000:3b:02.0\"}"))
			parse_uplink(p, n, i + 1);
	}
}

static void check_port_name(struct cfg_parser *p, const yaml_node_t *n,
			    const struct cfg_port *port)
{
	const struct cfg *cfg = p->cfg;
	unsigned int i;

	for (i = 0; i < cfg->n_uplinks; i++)
		if (strcmp(cfg->uplinks[i].name, port->name) == 0)
			cfg_error(p, n, "port name \"%s\" is also the name of an uplink",
				  port->name);
	for (i = 0; &cfg->ports[i] != port; i++)
		if (strcmp(cfg->ports[i].name, port->name) == 0)
			cfg_error(p, n, "port name \"%s\" is used twice (also in vm \"%s\")",
				  port->name, cfg->vms[cfg->ports[i].vm].name);
}

static void check_port_socket(struct cfg_parser *p, const yaml_node_t *n,
			      const char *ctx, const struct cfg_port *port)
{
	const struct cfg *cfg = p->cfg;
	unsigned int i;

	if (strcmp(cfg->ctl_socket, port->socket) == 0)
		cfg_error(p, n, "%ssocket %s is the control socket", ctx,
			  port->socket);
	for (i = 0; &cfg->ports[i] != port; i++)
		if (strcmp(cfg->ports[i].socket, port->socket) == 0)
			cfg_error(p, n, "%ssocket %s is already used by port \"%s\"",
				  ctx, port->socket, cfg->ports[i].name);
}

static void parse_port_mac(struct cfg_parser *p, const yaml_node_t *n,
			   const char *ctx, struct cfg_port *port)
{
	static const uint8_t zero[6], bcast[6] = {
		0xff, 0xff, 0xff, 0xff, 0xff, 0xff
	};
	const struct cfg *cfg = p->cfg;
	const char *s = cfg_get_scalar(p, n, ctx, "mac");
	uint8_t mac[6];
	unsigned int i;

	if (s == NULL)
		return;
	if (cfg_mac_parse(s, mac) < 0) {
		cfg_error(p, n, "%smac \"%s\" is not a MAC address (want six hex pairs like 52:54:00:00:01:01)",
			  ctx, s);
		return;
	}
	if (memcmp(mac, zero, 6) == 0) {
		cfg_error(p, n, "%smac %s is all zeros", ctx, s);
		return;
	}
	if (memcmp(mac, bcast, 6) == 0) {
		cfg_error(p, n, "%smac %s is the broadcast address", ctx, s);
		return;
	}
	if (mac[0] & 1) {
		cfg_error(p, n, "%smac %s is a multicast address (the first byte must be even)",
			  ctx, s);
		return;
	}
	for (i = 0; &cfg->ports[i] != port; i++)
		if (cfg->ports[i].network == port->network &&
		    memcmp(cfg->ports[i].mac, mac, 6) == 0)
			cfg_error(p, n, "%smac %s is already used by port \"%s\"",
				  ctx, s, cfg->ports[i].name);
	memcpy(port->mac, mac, 6);
}

void cfg_parse_port_uplink(struct cfg_parser *p, const yaml_node_t *n,
			      const char *ctx, struct cfg_port *port)
{
	const struct cfg *cfg = p->cfg;
	char name[CFG_NAME_MAX], known[CFG_MAX_UPLINKS * (CFG_NAME_MAX + 2)];
	size_t len = 0;
	unsigned int i;

	if (!cfg_get_str(p, n, ctx, "uplink", name, sizeof(name)))
		return;
	for (i = 0; i < cfg->n_uplinks; i++) {
		if (strcmp(cfg->uplinks[i].name, name) == 0) {
			port->uplink = (int)i;
			return;
		}
		len += (size_t)snprintf(known + len, sizeof(known) - len, "%s%s",
					len ? ", " : "", cfg->uplinks[i].name);
	}
	if (len == 0)
		cfg_error(p, n, "%suplink \"%s\" does not exist (no uplinks are defined)",
			  ctx, name);
	else
		cfg_error(p, n, "%suplink \"%s\" does not exist (uplinks: %s)",
			  ctx, name, known);
}



/* owner, group, perms: who may connect to a server-mode socket. */
void cfg_parse_port_access(struct cfg_parser *p, const yaml_node_t *map,
			      const char *ctx, struct cfg_port *port)
{
	static const char *const keys[] = { "owner", "group", "perms" };
	yaml_node_t *n;

	for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
		if ((n = cfg_map_get(p, map, keys[i])) == NULL)
			continue;
		/* In client mode QEMU creates the socket: it is its own. */
		if (port->mode == CFG_VHOST_CLIENT) {
			cfg_error(p, n, "%s%s needs mode: server (in client mode QEMU creates the socket; see socket_dir for its directory)",
				  ctx, keys[i]);
			continue;
		}
		if (i == 0)
			cfg_get_id(p, n, ctx, "owner", false, &port->sock_owner);
		else if (i == 1)
			cfg_get_id(p, n, ctx, "group", true, &port->sock_group);
		else
			cfg_get_mode(p, n, ctx, "perms", &port->sock_perms);
	}
}

static void parse_port(struct cfg_parser *p, const yaml_node_t *map,
		       const char *vm_ctx, size_t pos)
{
	struct cfg *cfg = p->cfg;
	struct cfg_port *port = &cfg->ports[cfg->n_ports++];
	char ctx[2 * CFG_NAME_MAX + 32];
	unsigned long long v;
	yaml_node_t *n;
	bool second;

	*port = (struct cfg_port){
		.mode = CFG_VHOST_SERVER, .queues = 1, .uplink = -1,
		.weight = 1, .vm = cfg->n_vms - 1, .offloads = true,
		.sock_owner = -1, .sock_group = -1, .port_security = true,
		.at = cfg_mark_of(map),
	};
	/* vm_ctx ends in ": " */
	snprintf(ctx, sizeof(ctx), "%.*s port %zu: ",
		 (int)strlen(vm_ctx) - 2, vm_ctx, pos);
	if ((n = cfg_map_require(p, map, ctx, "name")) != NULL &&
	    cfg_get_name(p, n, ctx, "name", port->name)) {
		check_port_name(p, n, port);
		entry_ctx(ctx, sizeof(ctx), "port", port->name, pos);
	}
	cfg_map_check(p, map, ctx, cfg_keys_port);
	if ((n = cfg_map_require(p, map, ctx, "socket")) != NULL &&
	    cfg_get_path(p, n, ctx, "socket", port->socket))
		check_port_socket(p, n, ctx, port);
	if ((n = cfg_map_get(p, map, "mode")) != NULL &&
	    cfg_get_either(p, n, ctx, "mode", "server", "client", &second))
		port->mode = second ? CFG_VHOST_CLIENT : CFG_VHOST_SERVER;
	/* The network first: a MAC is unique within its network. */
	cfg_parse_port_net(p, map, ctx, port);
	if ((n = cfg_map_require(p, map, ctx, "mac")) != NULL)
		parse_port_mac(p, n, ctx, port);
	n = cfg_map_get(p, map, "queues");
	if (n != NULL && cfg_get_uint(p, n, ctx, "queues", 1, CFG_MAX_QUEUES, &v))
		port->queues = (uint16_t)v;
	if ((n = cfg_map_get(p, map, "uplink")) != NULL)
		cfg_parse_port_uplink(p, n, ctx, port);
	n = cfg_map_get(p, map, "weight");
	if (n != NULL && cfg_get_uint(p, n, ctx, "weight", CFG_WEIGHT_MIN,
				      CFG_WEIGHT_MAX, &v))
		port->weight = (uint32_t)v;
	if ((n = cfg_map_get(p, map, "offloads")) != NULL)
		cfg_get_bool(p, n, ctx, "offloads", &port->offloads);
	if ((n = cfg_map_get(p, map, "takeover")) != NULL &&
	    cfg_get_either(p, n, ctx, "takeover", "refuse", "newest", &second))
		port->takeover_newest = second;
	cfg_parse_port_access(p, map, ctx, port);
	memcpy(port->hostname, cfg->vms[port->vm].hostname, sizeof(port->hostname));
	memcpy(port->instance_id, cfg->vms[port->vm].instance_id,
	       sizeof(port->instance_id));
	memcpy(port->user_data, cfg->vms[port->vm].user_data,
	       sizeof(port->user_data));
	port->imds_v2_only = cfg->vms[port->vm].imds_v2_only;
}

/* Printable, no blanks: it goes into DHCP options and HTTP bodies. */
bool cfg_metadata_text_ok(const char *s, bool hostname)
{
	if (*s == '\0')
		return false;
	for (; *s != '\0'; s++) {
		unsigned char c = (unsigned char)*s;

		if (hostname ? !(isalnum(c) || c == '-' || c == '.') :
			       (c <= ' ' || c >= 0x7f || c == '"' || c == '\\'))
			return false;
	}
	return true;
}

/* metadata: {instance_id, hostname, user_data, imds}; hostname defaults
 * to the VM's name, instance_id to none (the service makes one). */
static void parse_vm_metadata(struct cfg_parser *p, const yaml_node_t *map,
			      const char *ctx, struct cfg_vm *vm)
{
	static const char *const keys[] = { "instance_id", "hostname", "user_data", "imds", NULL };
	char *dst[] = { vm->instance_id, vm->hostname };
	size_t size[] = { sizeof(vm->instance_id), sizeof(vm->hostname) };
	yaml_node_t *n;

	_Static_assert(CFG_NAME_MAX <= CFG_HOSTNAME_MAX, "a VM name fits");
	memcpy(vm->hostname, vm->name, CFG_NAME_MAX);
	if (map == NULL || cfg_is_null(map))
		return;
	if (!cfg_want(p, map, YAML_MAPPING_NODE, ctx, "metadata",
		      "a mapping like {instance_id: i-0001, hostname: vm1}"))
		return;
	cfg_map_check(p, map, ctx, keys);
	for (size_t i = 0; i < 2; i++) {
		const char *s;

		n = cfg_map_get(p, map, keys[i]);
		if (n == NULL || (s = cfg_get_scalar(p, n, ctx, keys[i])) == NULL)
			continue;
		if (strlen(s) >= size[i] || !cfg_metadata_text_ok(s, i == 1)) {
			cfg_error(p, n, "%smetadata: %s \"%s\" is not %s of at most %zu characters",
				  ctx, keys[i], s, i == 1 ?
				  "a host name (letters, digits, '-', '.')" :
				  "printable text without blanks or quotes",
				  size[i] - 1);
			continue;
		}
		snprintf(dst[i], size[i], "%s", s);
	}
	if ((n = cfg_map_get(p, map, "user_data")) != NULL &&
	    cfg_get_path(p, n, ctx, "user_data", vm->user_data)) {
		struct stat st;

		/* Read when the port is made; said here if it cannot be. */
		if (stat(vm->user_data, &st) != 0 || !S_ISREG(st.st_mode) ||
		    access(vm->user_data, R_OK) != 0)
			cfg_error(p, n, "%smetadata: user_data %s is not a readable file",
				  ctx, vm->user_data);
		else if ((uint64_t)st.st_size > CFG_USER_DATA_MAX)
			cfg_error(p, n, "%smetadata: user_data %s is larger than %u MiB",
				  ctx, vm->user_data, CFG_USER_DATA_MAX >> 20);
	}
	if ((n = cfg_map_get(p, map, "imds")) != NULL) {
		bool second;

		if (cfg_get_either(p, n, ctx, "imds", "v1-and-v2", "v2-only", &second))
			vm->imds_v2_only = second;
	}
}

static void parse_vm(struct cfg_parser *p, const yaml_node_t *map, size_t pos)
{
	struct cfg *cfg = p->cfg;
	struct cfg_vm *vm = &cfg->vms[cfg->n_vms++];
	char ctx[CFG_NAME_MAX + 16];
	yaml_node_t *n, *ports;
	unsigned int i;
	size_t j;

	/* The name first: the other messages are about "vm \"NAME\"". */
	entry_ctx(ctx, sizeof(ctx), "vm", "", pos);
	if ((n = cfg_map_require(p, map, ctx, "name")) != NULL &&
	    cfg_get_name(p, n, ctx, "name", vm->name)) {
		for (i = 0; i + 1 < cfg->n_vms; i++)
			if (strcmp(cfg->vms[i].name, vm->name) == 0)
				cfg_error(p, n, "vm name \"%s\" is used twice",
					  vm->name);
		entry_ctx(ctx, sizeof(ctx), "vm", vm->name, pos);
	}
	cfg_map_check(p, map, ctx, cfg_keys_vm);
	parse_vm_metadata(p, cfg_map_get(p, map, "metadata"), ctx, vm);
	vm->port_first = cfg->n_ports;
	ports = cfg_map_require(p, map, ctx, "ports");
	if (ports == NULL)
		return;
	if (cfg_is_null(ports) || (ports->type == YAML_SEQUENCE_NODE &&
				   cfg_list_len(ports) == 0)) {
		cfg_error(p, ports, "%sports is empty (want at least one port)", ctx);
		return;
	}
	if (!cfg_want(p, ports, YAML_SEQUENCE_NODE, ctx, "ports",
		      "a list of port mappings"))
		return;
	for (j = 0; j < cfg_list_len(ports); j++) {
		n = cfg_list_item(p, ports, j);
		if (cfg->n_ports + cfg->n_uplinks >= CFG_MAX_PORTS) {
			if (!p->ports_full)
				cfg_error(p, n, "too many ports: vhost ports and uplinks together may be at most %d",
					  CFG_MAX_PORTS);
			p->ports_full = true;
			break;
		}
		if (cfg_want(p, n, YAML_MAPPING_NODE, ctx, "each port",
			     "a mapping like {name: vm1.0, socket: ..., mac: ...}"))
			parse_port(p, n, ctx, j + 1);
	}
	vm->n_ports = cfg->n_ports - vm->port_first;
}

void cfg_parse_vms(struct cfg_parser *p, const yaml_node_t *list)
{
	size_t i;

	if (cfg_list_len(list) == 0 && !p->cfg->attach_auto)
		cfg_error(p, list, "vms is empty (want at least one VM with one port)");
	for (i = 0; i < cfg_list_len(list); i++) {
		yaml_node_t *n = cfg_list_item(p, list, i);

		if (i == CFG_MAX_VMS) {
			cfg_error(p, n, "vms: too many VMs (max %d)", CFG_MAX_VMS);
			break;
		}
		if (cfg_want(p, n, YAML_MAPPING_NODE, "vms: ", "each vm",
			     "a mapping like {name: vm1, ports: [...]}"))
			parse_vm(p, n, i + 1);
	}
}
