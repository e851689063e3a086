/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * overlay: (the host's VXLAN tunnel endpoint) and cluster: (the cluster
 * directory in etcd), and what they ask of networks and ports: a network
 * with a vni needs both; a port of such a network leaves through the
 * overlay's uplink.  Errors are FILE:LINE:COL like the rest.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "cfg_priv.h"

const char *const cfg_keys_overlay[] = { "local_ip", "uplink", "udp_port", "gateway", NULL };
const char *const cfg_keys_cluster[] = { "etcd", "host", "ttl", "prefix", NULL };

static bool get_ip4(struct cfg_parser *p, const yaml_node_t *n,
		    const char *ctx, const char *key, bool prefix_ok,
		    uint8_t addr[4], uint8_t *prefix)
{
	const char *s = cfg_get_scalar(p, n, ctx, key);
	struct cfg_ip ip;

	if (s == NULL)
		return false;
	if (cfg_ip_parse(s, &ip) != 0 || ip.family != 4 ||
	    (!prefix_ok && strchr(s, '/') != NULL)) {
		cfg_error(p, n, "%s%s \"%s\" is not an IPv4 address%s", ctx,
			  key, s, prefix_ok ? " (optionally with /LEN)" : "");
		return false;
	}
	if (ip.addr[0] == 0 || ip.addr[0] == 127 || ip.addr[0] >= 224) {
		cfg_error(p, n, "%s%s %s cannot be a tunnel endpoint (zero, loopback, multicast or reserved)",
			  ctx, key, s);
		return false;
	}
	memcpy(addr, ip.addr, 4);
	if (prefix != NULL)
		*prefix = strchr(s, '/') != NULL ? ip.prefix : 0;
	return true;
}

void cfg_parse_overlay(struct cfg_parser *p, const yaml_node_t *map)
{
	struct cfg *cfg = p->cfg;
	const char *ctx = "overlay: ";
	unsigned long long v;
	yaml_node_t *n;
	char name[CFG_NAME_MAX];

	cfg_map_check(p, map, ctx, cfg_keys_overlay);
	cfg->ovl_udp_port = 4789;
	cfg->ovl_uplink = -1;
	if ((n = cfg_map_require(p, map, ctx, "local_ip")) == NULL ||
	    !get_ip4(p, n, ctx, "local_ip", true, cfg->ovl_local_ip,
		     &cfg->ovl_prefix))
		return;
	if ((n = cfg_map_require(p, map, ctx, "uplink")) == NULL ||
	    !cfg_get_name(p, n, ctx, "uplink", name))
		return;
	for (unsigned int i = 0; i < cfg->n_uplinks; i++)
		if (strcmp(cfg->uplinks[i].name, name) == 0)
			cfg->ovl_uplink = (int)i;
	if (cfg->ovl_uplink < 0) {
		cfg_error(p, n, "%suplink \"%s\" is not in uplinks:", ctx, name);
		return;
	}
	if ((n = cfg_map_get(p, map, "udp_port")) != NULL) {
		if (!cfg_get_uint(p, n, ctx, "udp_port", 1, 65535, &v))
			return;
		cfg->ovl_udp_port = (uint16_t)v;
	}
	if ((n = cfg_map_get(p, map, "gateway")) != NULL) {
		if (!get_ip4(p, n, ctx, "gateway", false, cfg->ovl_gateway, NULL))
			return;
		if (cfg->ovl_prefix == 0) {
			cfg_error(p, n, "%sgateway needs local_ip with its prefix length (like 192.0.2.1/24): without it every VTEP is on the link",
				  ctx);
			return;
		}
		cfg->ovl_has_gateway = true;
	}
	cfg->has_overlay = true;
}

static bool url_ok(const char *s)
{
	const char *host = s + 7;

	if (strncmp(s, "http://", 7) != 0 || *host == '\0' || *host == '/')
		return false;
	for (const char *c = host; *c != '\0'; c++)
		if (*c <= ' ' || *c > '~' || *c == '"' || *c == '\\')
			return false;
	return true;
}

void cfg_parse_cluster(struct cfg_parser *p, const yaml_node_t *map)
{
	struct cfg *cfg = p->cfg;
	const char *ctx = "cluster: ";
	yaml_node_t *n;
	uint64_t ms;

	cfg_map_check(p, map, ctx, cfg_keys_cluster);
	cfg->cluster_ttl_s = CFG_CLUSTER_TTL_DEFAULT_S;
	snprintf(cfg->cluster_prefix, sizeof(cfg->cluster_prefix), "/vtoe/");
	if ((n = cfg_map_require(p, map, ctx, "etcd")) == NULL ||
	    !cfg_want(p, n, YAML_SEQUENCE_NODE, ctx, "etcd",
		      "a list of URLs like [\"http://10.0.0.1:2379\", ...]"))
		return;
	if (cfg_list_len(n) == 0 || cfg_list_len(n) > CFG_ETCD_MAX) {
		cfg_error(p, n, "%setcd: want 1 to %d endpoints, not %zu", ctx,
			  CFG_ETCD_MAX, cfg_list_len(n));
		return;
	}
	for (size_t i = 0; i < cfg_list_len(n); i++) {
		yaml_node_t *e = cfg_list_item(p, n, i);
		char *url = cfg->cluster_etcd[cfg->n_cluster_etcd];

		if (!cfg_get_str(p, e, ctx, "etcd", url, CFG_URL_MAX))
			return;
		if (!url_ok(url)) {
			cfg_error(p, e, "%setcd endpoint \"%s\" is not an http://HOST:PORT URL",
				  ctx, url);
			return;
		}
		cfg->n_cluster_etcd++;
	}
	if ((n = cfg_map_get(p, map, "host")) != NULL) {
		if (!cfg_get_str(p, n, ctx, "host", cfg->cluster_host,
				 sizeof(cfg->cluster_host)))
			return;
		if (!cfg_metadata_text_ok(cfg->cluster_host, true) ||
		    strchr(cfg->cluster_host, '/') != NULL) {
			cfg_error(p, n, "%shost \"%s\" is not a host name (letters, digits, '-', '.')",
				  ctx, cfg->cluster_host);
			return;
		}
	} else if (gethostname(cfg->cluster_host, sizeof(cfg->cluster_host)) != 0 ||
		   !cfg_metadata_text_ok(cfg->cluster_host, true)) {
		cfg_error(p, map, "%sthis machine's host name is not usable: set host:", ctx);
		return;
	}
	if ((n = cfg_map_get(p, map, "ttl")) != NULL) {
		const char *s = cfg_get_scalar(p, n, ctx, "ttl");

		if (s == NULL)
			return;
		if (cfg_interval_parse(s, &ms) != 0 || ms % 1000 != 0 ||
		    ms < 2000 || ms > CFG_CLUSTER_TTL_MAX_S * 1000ull) {
			cfg_error(p, n, "%sttl \"%s\" is not a whole number of seconds from 2s to %ds",
				  ctx, s, CFG_CLUSTER_TTL_MAX_S);
			return;
		}
		cfg->cluster_ttl_s = (uint32_t)(ms / 1000);
	}
	if ((n = cfg_map_get(p, map, "prefix")) != NULL) {
		size_t len;

		if (!cfg_get_str(p, n, ctx, "prefix", cfg->cluster_prefix,
				 sizeof(cfg->cluster_prefix) - 1))
			return;
		len = strlen(cfg->cluster_prefix);
		if (cfg->cluster_prefix[0] != '/' ||
		    strspn(cfg->cluster_prefix, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789/._-") != len) {
			cfg_error(p, n, "%sprefix \"%s\" is not a key prefix like /vtoe/ (letters, digits, '/', '.', '_', '-')",
				  ctx, cfg->cluster_prefix);
			return;
		}
		if (cfg->cluster_prefix[len - 1] != '/')
			strcat(cfg->cluster_prefix, "/");
	}
	cfg->has_cluster = true;
}

void cfg_check_overlay(struct cfg_parser *p, const yaml_node_t *root)
{
	struct cfg *cfg = p->cfg;
	const yaml_node_t *ovl = cfg_map_get(p, root, "overlay");
	const yaml_node_t *cl = cfg_map_get(p, root, "cluster");
	bool any_vni = false;

	for (unsigned int i = 0; i < cfg->n_networks; i++) {
		const struct cfg_network *net = &cfg->networks[i];
		yaml_mark_t at = { .line = net->at.line ? net->at.line - 1 : 0,
				   .column = net->at.col ? net->at.col - 1 : 0 };

		if (net->vni == 0)
			continue;
		any_vni = true;
		if (ovl == NULL || cl == NULL)
			cfg_error_at(p, &at, "network \"%s\" has a vni: it needs overlay: (this host's tunnel endpoint) and cluster: (where the other hosts' VMs are)",
				     net->name);
		for (unsigned int j = i + 1; j < cfg->n_networks; j++)
			if (cfg->networks[j].vni == net->vni)
				cfg_error(p, root, "networks \"%s\" and \"%s\" both use vni %u",
					  net->name, cfg->networks[j].name, net->vni);
	}
	if (cl != NULL && ovl == NULL)
		cfg_error(p, cl, "cluster: needs overlay: (the directory publishes this host's tunnel endpoint)");
	if (ovl != NULL && !any_vni && cfg->has_overlay)
		cfg_error(p, ovl, "overlay: no network has a vni (like {name: blue, vni: 5001})");
	if (!cfg->has_overlay)
		return;
	/* A port of an overlay network reaches other hosts through the
	 * tunnel: its uplink is the overlay's. */
	for (unsigned int i = 0; i < cfg->n_ports; i++) {
		struct cfg_port *port = &cfg->ports[i];

		if (cfg->networks[port->network].vni == 0)
			continue;
		if (port->uplink >= 0 && port->uplink != cfg->ovl_uplink) {
			yaml_mark_t at = { .line = port->at.line ? port->at.line - 1 : 0,
					   .column = port->at.col ? port->at.col - 1 : 0 };

			cfg_error_at(p, &at, "port \"%s\": uplink \"%s\": the port is in overlay network \"%s\", which leaves through the overlay's uplink \"%s\"",
				     port->name, cfg->uplinks[port->uplink].name,
				     cfg->networks[port->network].name,
				     cfg->uplinks[cfg->ovl_uplink].name);
			continue;
		}
		port->uplink = cfg->ovl_uplink;
	}
}
