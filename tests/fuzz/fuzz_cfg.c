/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The YAML port map loader (cfg_parse, src/config) on any bytes.
 *
 * Invariant: no crash, no leak, no read outside the text; a text is
 * refused with at least one message and every message is
 * "fuzz.yaml:LINE:COL: ..."; a text that parses parses again the same
 * way (cfg_diff of the two finds nothing changed) and the config
 * respects the bounds the rest of vtoed relies on (counts within their
 * arrays, strings terminated, every index into another table valid).
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config/cfg.h"
#include "config/cfg_diff.h"
#include "fuzz.h"

#define NAME "fuzz.yaml"

static bool
cpu_any(unsigned int cpu)
{
	return cpu < CFG_MAX_LCORE_ID;
}

static bool
terminated(const char *s, size_t size)
{
	return memchr(s, '\0', size) != NULL;
}

/* Each line "fuzz.yaml:LINE:COL: what"; at least one. */
static void
check_messages(const char *msgs, size_t len)
{
	const char *line = msgs;

	FUZZ_CHECK(len > 0);
	while (line < msgs + len) {
		const char *nl = memchr(line, '\n', (size_t)(msgs + len - line));
		const char *p = line + strlen(NAME ":");

		FUZZ_CHECK(nl != NULL);
		FUZZ_CHECK(strncmp(line, NAME ":", strlen(NAME ":")) == 0);
		FUZZ_CHECK(p < nl && *p >= '0' && *p <= '9');
		while (*p >= '0' && *p <= '9')
			p++;
		FUZZ_CHECK(*p++ == ':');
		FUZZ_CHECK(*p >= '0' && *p <= '9');
		line = nl + 1;
	}
}

static void
check_cfg(const struct cfg *c)
{
	FUZZ_CHECK(c->n_workers >= 1 && c->n_workers <= CFG_MAX_WORKERS);
	FUZZ_CHECK(c->n_eal_args <= CFG_MAX_EAL_ARGS);
	for (unsigned int i = 0; i < c->n_eal_args; i++)
		FUZZ_CHECK(c->eal_args[i] != NULL);
	FUZZ_CHECK(c->n_networks >= 1 && c->n_networks <= CFG_MAX_NETWORKS);
	FUZZ_CHECK(c->n_uplinks <= CFG_MAX_UPLINKS);
	FUZZ_CHECK(c->n_vms <= CFG_MAX_VMS);
	FUZZ_CHECK(c->n_ports <= CFG_MAX_PORTS);
	FUZZ_CHECK(c->n_attach_dirs <= CFG_ATTACH_DIRS_MAX);
	FUZZ_CHECK(c->n_cluster_etcd <= CFG_ETCD_MAX);
	FUZZ_CHECK(terminated(c->ctl_socket, sizeof(c->ctl_socket)));
	FUZZ_CHECK(terminated(c->eal_file_prefix, sizeof(c->eal_file_prefix)));
	FUZZ_CHECK(terminated(c->sockdir, sizeof(c->sockdir)));
	FUZZ_CHECK(!c->has_cluster || c->has_overlay);
	FUZZ_CHECK(!c->has_overlay ||
		   (c->ovl_uplink >= 0 && (unsigned int)c->ovl_uplink < c->n_uplinks));
	for (unsigned int n = 0; n < c->n_networks; n++) {
		FUZZ_CHECK(terminated(c->networks[n].name, CFG_NAME_MAX));
		FUZZ_CHECK(c->networks[n].vlan <= 4094);
		FUZZ_CHECK(c->networks[n].vni <= CFG_VNI_MAX);
	}
	for (unsigned int u = 0; u < c->n_uplinks; u++) {
		FUZZ_CHECK(terminated(c->uplinks[u].name, CFG_NAME_MAX));
		FUZZ_CHECK(terminated(c->uplinks[u].device, CFG_DEVARGS_MAX));
		FUZZ_CHECK(c->uplinks[u].mtu <= CFG_UPLINK_MTU_MAX);
	}
	for (unsigned int v = 0; v < c->n_vms; v++) {
		const struct cfg_vm *vm = &c->vms[v];

		FUZZ_CHECK(terminated(vm->name, CFG_NAME_MAX));
		FUZZ_CHECK(vm->port_first <= c->n_ports &&
			   vm->n_ports <= c->n_ports - vm->port_first);
	}
	for (unsigned int i = 0; i < c->n_ports; i++) {
		const struct cfg_port *p = &c->ports[i];

		FUZZ_CHECK(terminated(p->name, CFG_NAME_MAX));
		FUZZ_CHECK(terminated(p->socket, CFG_PATH_MAX));
		FUZZ_CHECK(terminated(p->hostname, CFG_HOSTNAME_MAX));
		FUZZ_CHECK(terminated(p->instance_id, CFG_INSTANCE_ID_MAX));
		FUZZ_CHECK(terminated(p->user_data, CFG_PATH_MAX));
		FUZZ_CHECK(p->queues >= 1 && p->queues <= CFG_MAX_QUEUES);
		FUZZ_CHECK(p->weight >= CFG_WEIGHT_MIN && p->weight <= CFG_WEIGHT_MAX);
		FUZZ_CHECK(p->uplink >= -1 && p->uplink < (int)c->n_uplinks);
		FUZZ_CHECK(p->vm < c->n_vms);
		FUZZ_CHECK(p->network < c->n_networks);
		FUZZ_CHECK(p->n_ips <= CFG_PORT_IPS_MAX);
		FUZZ_CHECK(p->n_allowed <= CFG_ALLOWED_MAX);
		FUZZ_CHECK(p->n_dns <= CFG_DNS_MAX);
		for (unsigned int k = 0; k < p->n_ips; k++)
			FUZZ_CHECK((p->ips[k].family == 4 && p->ips[k].prefix <= 32) ||
				   (p->ips[k].family == 6 && p->ips[k].prefix <= 128));
		FUZZ_CHECK(p->impair.drop_ppm <= 1000000 &&
			   p->impair.reorder_ppm <= 1000000 &&
			   p->impair.delay_us <= CFG_IMPAIR_DELAY_MAX_US);
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct cfg_diff diff;
	char *msgs = NULL, *msgs2 = NULL;
	size_t len = 0, len2 = 0;
	FILE *f = open_memstream(&msgs, &len);
	FILE *f2 = open_memstream(&msgs2, &len2);
	struct cfg *a, *b;

	FUZZ_CHECK(f != NULL && f2 != NULL);
	a = cfg_parse(NAME, (const char *)data, size, f, cpu_any);
	b = cfg_parse(NAME, (const char *)data, size, f2, cpu_any);
	fclose(f);
	fclose(f2);
	FUZZ_CHECK((a == NULL) == (b == NULL));
	if (a == NULL) {
		check_messages(msgs, len);
		FUZZ_CHECK(len == len2 && memcmp(msgs, msgs2, len) == 0);
	} else {
		check_cfg(a);
		cfg_diff(a, b, &diff);
		FUZZ_CHECK(!diff.restart && diff.n_live == 0 &&
			   diff.recreate_all == NULL);
		FUZZ_CHECK(diff.n_ports == a->n_ports &&
			   diff.n_uplinks == a->n_uplinks);
		FUZZ_CHECK(cfg_diff_count(&diff, CFG_UNCHANGED) ==
			   a->n_ports + a->n_uplinks);
	}
	cfg_free(a);
	cfg_free(b);
	free(msgs);
	free(msgs2);
	return 0;
}
