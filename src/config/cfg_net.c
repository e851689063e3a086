/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * networks: and what a port says about its place in one: network, ip,
 * allowed, port_security.  Errors are FILE:LINE:COL like the rest.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cfg_priv.h"

static const char *const keys_network[] = { "name", "vlan", "vni", NULL };
static const char *const keys_allowed[] = { "mac", "ip", NULL };
static const char *const keys_psec[] = { "dhcp_server", "router_advert", NULL };
static const char *const keys_toe[] = { "dhcp", "metadata", "iperf3", "congestion", NULL };
static const char *const keys_impair[] = { "drop", "reorder", "delay", "direction", NULL };

/* "1%", "0.25%" (to a ten-thousandth of a percent), "0": parts per
 * million. */
static bool percent_ppm(const char *s, uint32_t *ppm)
{
	unsigned long whole = 0, frac = 0, scale = 10000;
	const char *c = s;

	if (*c < '0' || *c > '9')
		return false;
	while (*c >= '0' && *c <= '9' && whole <= 100)
		whole = whole * 10 + (unsigned long)(*c++ - '0');
	if (*c == '.') {
		c++;
		if (*c < '0' || *c > '9')
			return false;
		while (*c >= '0' && *c <= '9') {
			if (scale > 1) {
				scale /= 10;
				frac += (unsigned long)(*c - '0') * scale;
			}
			c++;
		}
	}
	if (*c == '%')
		c++;
	else if (whole != 0 || frac != 0)
		return false;                   /* a rate needs its % */
	if (*c != '\0' || whole * 10000 + frac > 1000000)
		return false;
	*ppm = (uint32_t)(whole * 10000 + frac);
	return true;
}

int
cfg_impair_set(struct cfg_impair *im, const char *key, const char *value,
	       char *err, size_t size)
{
	if (strcmp(key, "drop") == 0 || strcmp(key, "reorder") == 0) {
		if (!percent_ppm(value, strcmp(key, "drop") == 0 ?
				 &im->drop_ppm : &im->reorder_ppm))
			goto bad;
	} else if (strcmp(key, "delay") == 0) {
		char *end;
		unsigned long v = strtoul(value, &end, 10);

		if (end == value)
			goto bad;
		if (strcmp(end, "ms") == 0)
			v *= 1000;
		else if (strcmp(end, "us") != 0 && !(*end == '\0' && v == 0))
			goto bad;
		if (v > CFG_IMPAIR_DELAY_MAX_US)
			goto bad;
		im->delay_us = (uint32_t)v;
	} else if (strcmp(key, "direction") == 0) {
		if (strcmp(value, "rx") == 0)
			im->dir = CFG_IMPAIR_RX;
		else if (strcmp(value, "tx") == 0)
			im->dir = CFG_IMPAIR_TX;
		else if (strcmp(value, "both") == 0)
			im->dir = CFG_IMPAIR_RX | CFG_IMPAIR_TX;
		else
			goto bad;
	} else {
		snprintf(err, size, "impair has no setting \"%s\" (drop, reorder, delay, direction)", key);
		return -EINVAL;
	}
	return 0;
bad:
	snprintf(err, size, "impair %s \"%s\" is not %s", key, value,
		 strcmp(key, "delay") == 0 ? "a delay up to 1000ms (like 5ms or 500us)" :
		 strcmp(key, "direction") == 0 ? "rx, tx or both" :
		 "a rate from 0% to 100% (like 1% or 0.5%)");
	return -EINVAL;
}

static void parse_port_impair(struct cfg_parser *p, const yaml_node_t *n,
			      const char *ctx, struct cfg_port *port)
{
	if (!cfg_want(p, n, YAML_MAPPING_NODE, ctx, "impair",
		      "a mapping like {drop: 1%, reorder: 1%, delay: 5ms, direction: both}"))
		return;
	cfg_map_check(p, n, ctx, keys_impair);
	port->impair.dir = CFG_IMPAIR_RX | CFG_IMPAIR_TX;
	for (size_t i = 0; keys_impair[i] != NULL; i++) {
		yaml_node_t *v = cfg_map_get(p, n, keys_impair[i]);
		const char *s;
		char err[160];

		if (v == NULL || (s = cfg_get_scalar(p, v, ctx, keys_impair[i])) == NULL)
			continue;
		if (cfg_impair_set(&port->impair, keys_impair[i], s, err, sizeof(err)) != 0)
			cfg_error(p, v, "%s%s", ctx, err);
	}
}

static void parse_network(struct cfg_parser *p, const yaml_node_t *map,
			  size_t pos)
{
	struct cfg *cfg = p->cfg;
	struct cfg_network net = { .at = { map->start_mark.line + 1,
					   map->start_mark.column + 1 } };
	char ctx[CFG_NAME_MAX + 32];
	const char *text;
	unsigned long long v;
	yaml_node_t *n;
	unsigned int i;

	snprintf(ctx, sizeof(ctx), "networks: entry %zu: ", pos);
	cfg_map_check(p, map, ctx, keys_network);
	if ((n = cfg_map_require(p, map, ctx, "name")) == NULL ||
	    !cfg_get_name(p, n, ctx, "name", net.name))
		return;
	snprintf(ctx, sizeof(ctx), "network \"%s\": ", net.name);
	if ((n = cfg_map_get(p, map, "vni")) != NULL) {
		/* An overlay network: its frames leave through the tunnel,
		 * never tagged on an uplink. */
		if (!cfg_get_uint(p, n, ctx, "vni", 1, CFG_VNI_MAX, &v))
			return;
		net.vni = (uint32_t)v;
		if (cfg_map_get(p, map, "vlan") != NULL) {
			cfg_error(p, map, "%svlan and vni: a network is either a VLAN on the uplinks or a VXLAN segment of the overlay",
				  ctx);
			return;
		}
		if (strcmp(net.name, "default") == 0) {
			cfg_error(p, map, "%sthe default network cannot be an overlay network", ctx);
			return;
		}
		text = NULL;
	} else if ((n = cfg_map_require(p, map, ctx, "vlan")) == NULL ||
	    (text = cfg_get_scalar(p, n, ctx, "vlan")) == NULL)
		return;
	if (text == NULL)
		net.vlan = 0;
	else if (strcmp(text, "none") == 0)
		net.vlan = 0;
	else if (cfg_get_uint(p, n, ctx, "vlan", 1, 4094, &v))
		net.vlan = (uint16_t)v;
	else
		return;
	/* "default" is always there (index 0): declaring it sets its tag. */
	for (i = 1; i < cfg->n_networks; i++)
		if (strcmp(cfg->networks[i].name, net.name) == 0) {
			cfg_error(p, map, "network name \"%s\" is used twice",
				  net.name);
			return;
		}
	if (strcmp(net.name, "default") == 0) {
		cfg->networks[0] = net;
		return;
	}
	if (cfg->n_networks == CFG_MAX_NETWORKS) {
		cfg_error(p, map, "networks: too many networks (max %d, \"default\" included)",
			  CFG_MAX_NETWORKS);
		return;
	}
	cfg->networks[cfg->n_networks++] = net;
}

void cfg_parse_networks(struct cfg_parser *p, const yaml_node_t *list)
{
	for (size_t i = 0; i < cfg_list_len(list); i++) {
		yaml_node_t *n = cfg_list_item(p, list, i);

		if (cfg_want(p, n, YAML_MAPPING_NODE, "networks: ", "each network",
			     "a mapping like {name: blue, vlan: 100} or {name: blue, vni: 5001}"))
			parse_network(p, n, i + 1);
	}
}

int
cfg_ip_parse(const char *s, struct cfg_ip *ip)
{
	char buf[64], *slash, *end;
	long len;

	if (strlen(s) >= sizeof(buf))
		return -EINVAL;
	memcpy(buf, s, strlen(s) + 1);
	slash = strchr(buf, '/');
	if (slash != NULL)
		*slash = '\0';
	memset(ip, 0, sizeof(*ip));
	if (inet_pton(AF_INET, buf, ip->addr) == 1)
		ip->family = 4;
	else if (inet_pton(AF_INET6, buf, ip->addr) == 1)
		ip->family = 6;
	else
		return -EINVAL;
	ip->prefix = ip->family == 4 ? 32 : 128;
	if (slash != NULL) {
		len = strtol(slash + 1, &end, 10);
		if (slash[1] == '\0' || *end != '\0' || len < 0 || len > ip->prefix)
			return -EINVAL;
		ip->prefix = (uint8_t)len;
	}
	return 0;
}

/* "10.0.0.11", "10.0.0.11/24", "2001:db8::11/64". */
static bool parse_ip(struct cfg_parser *p, const yaml_node_t *n,
		     const char *ctx, const char *key, struct cfg_ip *ip)
{
	const char *s = cfg_get_scalar(p, n, ctx, key);

	if (s == NULL)
		return false;
	if (cfg_ip_parse(s, ip) == 0)
		return true;
	cfg_error(p, n, "%s%s \"%s\" is not an address (want 10.0.0.11/24 or 2001:db8::11/64)",
		  ctx, key, s);
	return false;
}

static void parse_port_network(struct cfg_parser *p, const yaml_node_t *n,
			       const char *ctx, struct cfg_port *port)
{
	const struct cfg *cfg = p->cfg;
	char name[CFG_NAME_MAX], known[256];
	size_t len = 0;

	if (!cfg_get_name(p, n, ctx, "network", name))
		return;
	known[0] = '\0';
	for (unsigned int i = 0; i < cfg->n_networks; i++) {
		if (strcmp(cfg->networks[i].name, name) == 0) {
			port->network = i;
			return;
		}
		if (len < sizeof(known))
			len += (size_t)snprintf(known + len, sizeof(known) - len,
						"%s%s", i ? ", " : "",
						cfg->networks[i].name);
	}
	cfg_error(p, n, "%snetwork \"%s\" is not in networks: (known: %s)",
		  ctx, name, known);
}

static void parse_port_ips(struct cfg_parser *p, const yaml_node_t *n,
			   const char *ctx, struct cfg_port *port)
{
	size_t count = n->type == YAML_SEQUENCE_NODE ? cfg_list_len(n) : 1;

	for (size_t i = 0; i < count; i++) {
		const yaml_node_t *item = n->type == YAML_SEQUENCE_NODE ?
					  cfg_list_item(p, n, i) : n;

		if (port->n_ips == CFG_PORT_IPS_MAX) {
			cfg_error(p, item, "%sip: too many addresses (max %d)",
				  ctx, CFG_PORT_IPS_MAX);
			return;
		}
		if (parse_ip(p, item, ctx, "ip", &port->ips[port->n_ips]))
			port->n_ips++;
	}
}

static void parse_port_allowed(struct cfg_parser *p, const yaml_node_t *list,
			       const char *ctx, struct cfg_port *port)
{
	for (size_t i = 0; i < cfg_list_len(list); i++) {
		yaml_node_t *item = cfg_list_item(p, list, i), *n;
		struct cfg_allowed a = { 0 };
		const char *s;

		if (!cfg_want(p, item, YAML_MAPPING_NODE, ctx, "allowed entry",
			      "a mapping like {mac: \"00:00:5e:00:01:07\", ip: 10.0.0.100}"))
			continue;
		cfg_map_check(p, item, ctx, keys_allowed);
		if ((n = cfg_map_get(p, item, "mac")) != NULL &&
		    (s = cfg_get_scalar(p, n, ctx, "mac")) != NULL) {
			if (cfg_mac_parse(s, a.mac) < 0 || (a.mac[0] & 1)) {
				cfg_error(p, n, "%sallowed mac \"%s\" is not a unicast MAC address",
					  ctx, s);
				continue;
			}
			a.has_mac = true;
		}
		if ((n = cfg_map_get(p, item, "ip")) != NULL) {
			if (!parse_ip(p, n, ctx, "ip", &a.ip))
				continue;
			a.has_ip = true;
		}
		if (!a.has_mac && !a.has_ip) {
			cfg_error(p, item, "%sallowed entry names neither a mac nor an ip",
				  ctx);
			continue;
		}
		if (port->n_allowed == CFG_ALLOWED_MAX) {
			cfg_error(p, item, "%sallowed: too many entries (max %d)",
				  ctx, CFG_ALLOWED_MAX);
			return;
		}
		port->allowed[port->n_allowed++] = a;
	}
}

static void parse_port_security(struct cfg_parser *p, const yaml_node_t *n,
				const char *ctx, struct cfg_port *port)
{
	yaml_node_t *v;

	if (n->type != YAML_MAPPING_NODE) {
		cfg_get_bool(p, n, ctx, "port_security", &port->port_security);
		return;
	}
	cfg_map_check(p, n, ctx, keys_psec);
	port->port_security = true;
	if ((v = cfg_map_get(p, n, "dhcp_server")) != NULL)
		cfg_get_bool(p, v, ctx, "dhcp_server", &port->allow_dhcp_server);
	if ((v = cfg_map_get(p, n, "router_advert")) != NULL)
		cfg_get_bool(p, v, ctx, "router_advert", &port->allow_ra);
}

/* An IPv4 address alone (no /LEN). */
static bool parse_ip4(struct cfg_parser *p, const yaml_node_t *n,
		      const char *ctx, const char *key, uint8_t out[4])
{
	const char *s = cfg_get_scalar(p, n, ctx, key);

	if (s == NULL)
		return false;
	if (inet_pton(AF_INET, s, out) != 1) {
		cfg_error(p, n, "%s%s \"%s\" is not an IPv4 address (want 10.0.0.1)",
			  ctx, key, s);
		return false;
	}
	return true;
}

/* The port's first IPv4 address, or NULL. */
static const struct cfg_ip *port_ip4(const struct cfg_port *port)
{
	for (unsigned int i = 0; i < port->n_ips; i++)
		if (port->ips[i].family == 4)
			return &port->ips[i];
	return NULL;
}

static bool same_subnet4(const uint8_t a[4], const uint8_t b[4],
			 unsigned int prefix)
{
	uint32_t x = (uint32_t)a[0] << 24 | a[1] << 16 | a[2] << 8 | a[3];
	uint32_t y = (uint32_t)b[0] << 24 | b[1] << 16 | b[2] << 8 | b[3];
	uint32_t mask = prefix == 0 ? 0 : ~(uint32_t)0 << (32 - prefix);

	return (x & mask) == (y & mask);
}

/* The host bits of a under prefix (ignored for /31 and /32: no network
 * or broadcast address there). */
static uint32_t host_part4(const uint8_t a[4], unsigned int prefix)
{
	uint32_t x = (uint32_t)a[0] << 24 | a[1] << 16 | a[2] << 8 | a[3];

	if (prefix >= 31)
		return 1;
	return x & (~(uint32_t)0 >> prefix);
}

/* The port's gateway (in port->gateway): another address of its IPv4
 * subnet.  0, or -EINVAL with the message in err. */
static int gateway_check(struct cfg_port *port, char *err, size_t size)
{
	const struct cfg_ip *ip = port_ip4(port);

	if (ip == NULL) {
		snprintf(err, size, "gateway needs an IPv4 ip: on the port (the address it is the gateway of)");
		return -EINVAL;
	}
	if (memcmp(ip->addr, port->gateway, 4) == 0 ||
	    !same_subnet4(ip->addr, port->gateway, ip->prefix) ||
	    host_part4(port->gateway, ip->prefix) == 0 ||
	    host_part4(port->gateway, ip->prefix) ==
	    (ip->prefix < 31 ? ~(uint32_t)0 >> ip->prefix : UINT32_MAX)) {
		snprintf(err, size, "gateway %u.%u.%u.%u is not another address of the port's subnet (ip %u.%u.%u.%u/%u)",
			 port->gateway[0], port->gateway[1],
			 port->gateway[2], port->gateway[3], ip->addr[0],
			 ip->addr[1], ip->addr[2], ip->addr[3], ip->prefix);
		return -EINVAL;
	}
	port->has_gateway = true;
	return 0;
}

static void parse_port_gateway(struct cfg_parser *p, const yaml_node_t *n,
			       const char *ctx, struct cfg_port *port)
{
	char err[160];

	if (!parse_ip4(p, n, ctx, "gateway", port->gateway))
		return;
	if (gateway_check(port, err, sizeof(err)) != 0)
		cfg_error(p, n, "%s%s", ctx, err);
}

int
cfg_port_endpoint_set(struct cfg_port *pc, const char *ip, const char *gateway,
		      const char *dns, const char *hostname,
		      const char *instance_id, char *err, size_t size)
{
	bool has_ip4;

	if (ip[0] != '\0') {
		if (cfg_ip_parse(ip, &pc->ips[0]) != 0) {
			snprintf(err, size, "ip \"%s\" is not an address (want 10.0.0.11/24)", ip);
			return -EINVAL;
		}
		pc->n_ips = 1;
	}
	if (gateway[0] != '\0') {
		if (inet_pton(AF_INET, gateway, pc->gateway) != 1) {
			snprintf(err, size, "gateway \"%s\" is not an IPv4 address", gateway);
			return -EINVAL;
		}
		if (gateway_check(pc, err, size) != 0)
			return -EINVAL;
	}
	if (dns[0] != '\0') {
		char buf[80], *save = NULL, *tok;

		snprintf(buf, sizeof(buf), "%s", dns);
		for (tok = strtok_r(buf, ",", &save); tok != NULL;
		     tok = strtok_r(NULL, ",", &save)) {
			if (pc->n_dns == CFG_DNS_MAX ||
			    inet_pton(AF_INET, tok, pc->dns[pc->n_dns]) != 1) {
				snprintf(err, size, "dns \"%s\" is not up to %d IPv4 addresses (\"10.0.0.2,9.9.9.9\")",
					 dns, CFG_DNS_MAX);
				return -EINVAL;
			}
			pc->n_dns++;
		}
	}
	if (hostname[0] != '\0') {
		if (!cfg_metadata_text_ok(hostname, true) ||
		    strlen(hostname) >= sizeof(pc->hostname)) {
			snprintf(err, size, "hostname \"%s\" is not a host name", hostname);
			return -EINVAL;
		}
		snprintf(pc->hostname, sizeof(pc->hostname), "%s", hostname);
	}
	if (instance_id[0] != '\0') {
		if (!cfg_metadata_text_ok(instance_id, false) ||
		    strlen(instance_id) >= sizeof(pc->instance_id)) {
			snprintf(err, size, "instance-id \"%s\" is not printable text without blanks", instance_id);
			return -EINVAL;
		}
		snprintf(pc->instance_id, sizeof(pc->instance_id), "%s", instance_id);
	}
	has_ip4 = port_ip4(pc) != NULL;
	pc->toe_dhcp = pc->toe_metadata = pc->toe_iperf3 = has_ip4;
	return 0;
}

static void parse_port_dns(struct cfg_parser *p, const yaml_node_t *n,
			   const char *ctx, struct cfg_port *port)
{
	size_t count = n->type == YAML_SEQUENCE_NODE ? cfg_list_len(n) : 1;

	for (size_t i = 0; i < count; i++) {
		const yaml_node_t *item = n->type == YAML_SEQUENCE_NODE ?
					  cfg_list_item(p, n, i) : n;

		if (port->n_dns == CFG_DNS_MAX) {
			cfg_error(p, item, "%sdns: too many servers (max %d)",
				  ctx, CFG_DNS_MAX);
			return;
		}
		if (parse_ip4(p, item, ctx, "dns", port->dns[port->n_dns]))
			port->n_dns++;
	}
}

/* toe: {dhcp, metadata, iperf3}: each on by default when the port has an
 * IPv4 address (the endpoint answers with it), and refused without one. */
static void parse_port_toe(struct cfg_parser *p, const yaml_node_t *n,
			   const char *ctx, struct cfg_port *port)
{
	static const char *const keys[] = { "dhcp", "metadata", "iperf3" };
	bool *flags[] = { &port->toe_dhcp, &port->toe_metadata, &port->toe_iperf3 };
	bool has_ip4 = port_ip4(port) != NULL;

	port->toe_dhcp = port->toe_metadata = port->toe_iperf3 = has_ip4;
	if (n == NULL)
		return;
	if (!cfg_want(p, n, YAML_MAPPING_NODE, ctx, "toe",
		      "a mapping like {dhcp: true, metadata: true, iperf3: true, congestion: cubic}"))
		return;
	cfg_map_check(p, n, ctx, keys_toe);
	{
		yaml_node_t *v = cfg_map_get(p, n, "congestion");
		const char *t;

		if (v != NULL && (t = cfg_get_scalar(p, v, ctx, "congestion")) != NULL) {
			if (strcmp(t, "cubic") == 0 || strcmp(t, "newreno") == 0)
				port->toe_cubic = strcmp(t, "cubic") == 0;
			else
				cfg_error(p, v, "%stoe: congestion \"%s\" is not newreno or cubic",
					  ctx, t);
		}
	}
	for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
		yaml_node_t *v = cfg_map_get(p, n, keys[i]);

		if (v == NULL)
			continue;
		cfg_get_bool(p, v, ctx, keys[i], flags[i]);
		if (*flags[i] && !has_ip4)
			cfg_error(p, v, "%stoe: %s needs an IPv4 ip: on the port (the address the endpoint answers for it with)",
				  ctx, keys[i]);
	}
}

void cfg_parse_port_net(struct cfg_parser *p, const yaml_node_t *map,
			const char *ctx, struct cfg_port *port)
{
	yaml_node_t *n;

	if ((n = cfg_map_get(p, map, "network")) != NULL)
		parse_port_network(p, n, ctx, port);
	if ((n = cfg_map_get(p, map, "ip")) != NULL)
		parse_port_ips(p, n, ctx, port);
	if ((n = cfg_map_get(p, map, "allowed")) != NULL &&
	    cfg_want(p, n, YAML_SEQUENCE_NODE, ctx, "allowed",
		     "a list like [{mac: \"00:00:5e:00:01:07\", ip: 10.0.0.100}]"))
		parse_port_allowed(p, n, ctx, port);
	if ((n = cfg_map_get(p, map, "port_security")) != NULL)
		parse_port_security(p, n, ctx, port);
	if ((n = cfg_map_get(p, map, "gateway")) != NULL)
		parse_port_gateway(p, n, ctx, port);
	if ((n = cfg_map_get(p, map, "dns")) != NULL)
		parse_port_dns(p, n, ctx, port);
	parse_port_toe(p, cfg_map_get(p, map, "toe"), ctx, port);
	if ((n = cfg_map_get(p, map, "impair")) != NULL)
		parse_port_impair(p, n, ctx, port);
}

/*
 * Each tag names one segment on the wire: two networks in use may not
 * share a VLAN (nor both be untagged).  "default" counts only when a
 * port is in it.
 */
void cfg_check_networks(struct cfg_parser *p, const yaml_node_t *root)
{
	const struct cfg *cfg = p->cfg;
	bool default_used = false;

	for (unsigned int i = 0; i < cfg->n_ports; i++)
		default_used |= cfg->ports[i].network == 0;
	default_used |= cfg->attach_auto;
	for (unsigned int i = default_used ? 0 : 1; i < cfg->n_networks; i++)
		for (unsigned int j = i + 1; j < cfg->n_networks; j++) {
			const struct cfg_network *a = &cfg->networks[i];
			const struct cfg_network *b = &cfg->networks[j];

			/* Overlay networks are not on the uplinks' VLANs. */
			if (a->vlan != b->vlan || a->vni != 0 || b->vni != 0)
				continue;
			yaml_mark_t at = { .line = b->at.line ? b->at.line - 1 : 0,
					   .column = b->at.col ? b->at.col - 1 : 0 };

			if (b->at.line == 0)
				cfg_error(p, root, "networks \"%s\" and \"%s\" share a VLAN", a->name, b->name);
			else if (a->vlan == 0)
				cfg_error_at(p, &at, "networks \"%s\" and \"%s\" are both untagged (vlan: none): an uplink could not tell their frames apart%s",
					  a->name, b->name, i == 0 ?
					  " (ports without network: are in \"default\"; declare it with a vlan)" : "");
			else
				cfg_error_at(p, &at, "networks \"%s\" and \"%s\" both use vlan %u",
					  a->name, b->name, a->vlan);
		}
}
