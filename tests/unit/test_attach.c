/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * test_attach: which ports libvirt's domains get (attach: auto), from a
 * co-residency table filled by hand: names, modes and overrides, sockets
 * outside the allowed directories, collisions with the port map, ports
 * kept, re-made and removed as domains change, and the slot limit.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "config/cfg.h"
#include "dataplane/attach.h"
#include "membership/membership.h"

static const char conf[] =
	"control: {socket: /run/vtoe/vtoed.sock}\n"
	"uplinks: [{name: up0, device: net_null0}, {name: up1, device: net_null1}]\n"
	"membership: {source: libvirt, attach: auto, sockets: [/run/vtoe, /var/lib/libvirt/qemu/],\n"
	"  defaults: {uplink: up0, weight: 2, group: 0, perms: \"0660\"}}\n"
	"vms:\n"
	"  - name: yaml\n"
	"    ports:\n"
	"      - {name: yaml.0, socket: /run/vtoe/yaml.0.sock, mac: \"52:54:00:00:00:01\"}\n";

static bool cpus(unsigned int cpu)
{
	return cpu < 4;
}

struct fx {
	struct cfg *cfg;
	struct membership *m;
	struct attach_port ports[8];
	unsigned int n_ports;
	struct attach_plan plan;
};

static int setup(void **state)
{
	struct fx *fx = calloc(1, sizeof(*fx));

	fx->cfg = cfg_parse("t.yaml", conf, strlen(conf), stderr, cpus);
	fx->m = membership_create(NULL);
	assert_non_null(fx->cfg);
	assert_non_null(fx->m);
	/* the port map's port exists */
	fx->ports[0] = (struct attach_port){
		.name = "yaml.0", .socket = "/run/vtoe/yaml.0.sock",
		.mac = { 0x52, 0x54, 0, 0, 0, 1 },
	};
	fx->n_ports = 1;
	*state = fx;
	return 0;
}

static int teardown(void **state)
{
	struct fx *fx = *state;

	cfg_free(fx->cfg);
	membership_destroy(fx->m);
	free(fx);
	return 0;
}

static struct membership_iface_info
iface(uint8_t last, const char *sock, bool qemu_server, const char *name)
{
	struct membership_iface_info i = {
		.mac = { 0x52, 0x54, 0, 0, 9, last }, .socket = sock,
	};

	i.hint.qemu_server = qemu_server;
	i.hint.offloads = -1;
	snprintf(i.hint.name, sizeof(i.hint.name), "%s", name);
	return i;
}

static void start(struct fx *fx, const char *uuid, const char *name,
		  struct membership_iface_info *ifs, uint32_t n)
{
	struct membership_vm_info info = {
		.uuid = uuid, .name = name, .persistent = true,
		.n_ifaces = n, .ifaces = ifs,
	};

	assert_int_equal(membership_vm_started(fx->m, &info), 0);
}

static void plan(struct fx *fx, unsigned int n_free)
{
	attach_plan(fx->cfg, fx->m, fx->ports, fx->n_ports, n_free, &fx->plan);
}

#define UUID_A "aaaaaaaa-0000-0000-0000-000000000001"
#define UUID_B "aaaaaaaa-0000-0000-0000-000000000002"

static void test_ports_from_a_domain(void **state)
{
	struct fx *fx = *state;
	struct membership_iface_info ifs[2] = {
		iface(1, "/run/vtoe/a0.sock", false, ""),
		iface(2, "/var/lib/libvirt/qemu/a1.sock", true, "a-eth1"),
	};
	const struct cfg_port *pc;

	ifs[1].hint.weight = 7;
	snprintf(ifs[1].hint.uplink, sizeof(ifs[1].hint.uplink), "up1");
	ifs[1].hint.offloads = 0;
	start(fx, UUID_A, "dom a!", ifs, 2);
	plan(fx, 60);
	assert_int_equal(fx->plan.n_refused, 0);
	assert_int_equal(fx->plan.n_remove, 0);
	assert_int_equal(fx->plan.n_add, 2);
	pc = &fx->plan.add[0].pc;
	assert_string_equal(pc->name, "dom_a_.0");      /* DOMAIN.N, cleaned */
	assert_string_equal(fx->plan.add[0].vm, "dom a!");
	assert_int_equal(pc->mode, CFG_VHOST_SERVER);   /* QEMU connects */
	assert_string_equal(pc->socket, "/run/vtoe/a0.sock");
	assert_int_equal(pc->uplink, 0);                /* defaults */
	assert_int_equal(pc->weight, 2);
	assert_true(pc->offloads);
	assert_int_equal(pc->sock_perms, 0660);
	assert_int_equal(pc->queues, 1);
	pc = &fx->plan.add[1].pc;
	assert_string_equal(pc->name, "a-eth1");        /* <target dev> */
	assert_int_equal(pc->mode, CFG_VHOST_CLIENT);   /* QEMU listens */
	assert_int_equal(pc->sock_perms, 0);            /* QEMU's socket */
	assert_int_equal(pc->uplink, 1);                /* <metadata> */
	assert_int_equal(pc->weight, 7);
	assert_false(pc->offloads);
}

/* The TOE endpoint from the domain's metadata: its ip, gateway, dns,
 * host name (default: the domain's name) and instance id (default: its
 * UUID); metadata that does not hold refuses the interface. */
static void test_endpoint_from_metadata(void **state)
{
	struct fx *fx = *state;
	struct membership_iface_info ifs[3] = {
		iface(1, "/run/vtoe/e0.sock", false, "e-eth0"),
		iface(2, "/run/vtoe/e1.sock", false, "e-eth1"),
		iface(3, "/run/vtoe/e2.sock", false, "e-eth2"),
	};
	const struct cfg_port *pc;

	snprintf(ifs[0].hint.ip, sizeof(ifs[0].hint.ip), "10.0.0.11/24");
	snprintf(ifs[0].hint.gateway, sizeof(ifs[0].hint.gateway), "10.0.0.1");
	snprintf(ifs[0].hint.dns, sizeof(ifs[0].hint.dns), "10.0.0.2,9.9.9.9");
	snprintf(ifs[1].hint.ip, sizeof(ifs[1].hint.ip), "10.0.1.5/24");
	snprintf(ifs[1].hint.hostname, sizeof(ifs[1].hint.hostname), "web-1");
	snprintf(ifs[1].hint.instance_id, sizeof(ifs[1].hint.instance_id), "i-42");
	snprintf(ifs[2].hint.ip, sizeof(ifs[2].hint.ip), "10.0.2.5/24");
	snprintf(ifs[2].hint.gateway, sizeof(ifs[2].hint.gateway), "10.9.9.1");
	start(fx, UUID_A, "dom-e", ifs, 3);
	plan(fx, 60);
	assert_int_equal(fx->plan.n_add, 2);
	pc = &fx->plan.add[0].pc;
	assert_int_equal(pc->n_ips, 1);
	assert_int_equal(pc->ips[0].prefix, 24);
	assert_true(pc->has_gateway);
	assert_int_equal(pc->n_dns, 2);
	assert_true(pc->toe_dhcp && pc->toe_metadata && pc->toe_iperf3);
	assert_string_equal(pc->hostname, "dom-e");
	assert_string_equal(pc->instance_id, UUID_A);
	pc = &fx->plan.add[1].pc;
	assert_false(pc->has_gateway);
	assert_string_equal(pc->hostname, "web-1");
	assert_string_equal(pc->instance_id, "i-42");
	/* the gateway outside its subnet */
	assert_int_equal(fx->plan.n_refused, 1);
	assert_int_equal(fx->plan.refused[0].reason, ATTACH_METADATA);
	assert_string_equal(attach_reason_name(ATTACH_METADATA), "metadata_invalid");
}

/* A domain XML must not point vtoed at any socket on the host. */
static void test_outside_and_collisions(void **state)
{
	struct fx *fx = *state;
	struct membership_iface_info ifs[6] = {
		iface(1, "/etc/passwd", false, ""),
		iface(2, "/run/vtoe/../etc/x.sock", false, ""),
		iface(3, "/run/vtoe-other/x.sock", false, ""),
		iface(4, "/run/vtoe/vtoed.sock", false, ""),      /* control */
		iface(5, "/run/vtoe/yaml.0.sock", false, ""),     /* a port's */
		iface(6, "/run/vtoe/fine.sock", false, "yaml.0"), /* a name */
	};
	struct membership_iface_info mac[1] = {
		iface(7, "/run/vtoe/m.sock", false, ""),
	};
	static const enum attach_reason want[] = {
		ATTACH_OUTSIDE, ATTACH_OUTSIDE, ATTACH_OUTSIDE,
		ATTACH_SOCKET_TAKEN, ATTACH_SOCKET_TAKEN, ATTACH_NAME_TAKEN,
		ATTACH_MAC_TAKEN,
	};

	mac[0].mac[4] = 0;
	mac[0].mac[5] = 1;                              /* yaml.0's MAC */
	start(fx, UUID_A, "a", ifs, 6);
	start(fx, UUID_B, "b", mac, 1);
	plan(fx, 60);
	assert_int_equal(fx->plan.n_add, 0);
	assert_int_equal(fx->plan.n_refused, 7);
	for (unsigned int i = 0; i < 7; i++) {
		printf("%u: %s %s (%s)\n", i, fx->plan.refused[i].socket,
		       attach_reason_name(fx->plan.refused[i].reason),
		       fx->plan.refused[i].other);
		assert_int_equal(fx->plan.refused[i].reason, want[i]);
	}
	assert_string_equal(fx->plan.refused[4].other, "yaml.0");
	assert_string_equal(fx->plan.refused[6].other, "yaml.0");
}

/* Ports made earlier stay when unchanged, are made again when their
 * socket changes, and go with their domain. */
static void test_keep_remake_remove(void **state)
{
	struct fx *fx = *state;
	struct membership_iface_info ifs[1] = {
		iface(1, "/run/vtoe/a0.sock", false, "a0"),
	};
	struct membership_iface_info moved[1] = {
		iface(1, "/run/vtoe/a0-new.sock", false, "a0"),
	};

	start(fx, UUID_A, "a", ifs, 1);
	fx->ports[1] = (struct attach_port){
		.name = "a0", .socket = "/run/vtoe/a0.sock",
		.mac = { 0x52, 0x54, 0, 0, 9, 1 }, .from_libvirt = true,
	};
	fx->ports[2] = (struct attach_port){
		.name = "gone.0", .socket = "/run/vtoe/gone.sock",
		.mac = { 0x52, 0x54, 0, 0, 9, 9 }, .from_libvirt = true,
	};
	fx->n_ports = 3;
	plan(fx, 60);
	assert_int_equal(fx->plan.n_keep, 1);
	assert_int_equal(fx->plan.n_add, 0);
	assert_int_equal(fx->plan.n_remove, 1);
	assert_int_equal(fx->plan.remove[0], 2);        /* its domain left */

	start(fx, UUID_A, "a", moved, 1);
	plan(fx, 60);
	assert_int_equal(fx->plan.n_keep, 0);
	assert_int_equal(fx->plan.n_remove, 2);         /* a0 re-made too */
	assert_int_equal(fx->plan.n_add, 1);
	assert_string_equal(fx->plan.add[0].pc.socket, "/run/vtoe/a0-new.sock");

	assert_int_equal(membership_vm_undefined(fx->m, UUID_A), 0);
	assert_int_equal(membership_vm_stopped(fx->m, UUID_A), 0);
	plan(fx, 60);
	assert_int_equal(fx->plan.n_add, 0);
	assert_int_equal(fx->plan.n_remove, 2);
}

/* A domain whose interface is a port of the port map: that port serves
 * it, nothing is made or refused. */
static void test_served_by_config(void **state)
{
	struct fx *fx = *state;
	struct membership_iface_info ifs[1] = {
		iface(1, "/run/vtoe/yaml.0.sock", false, ""),
	};

	ifs[0].mac[4] = 0;
	start(fx, UUID_A, "yaml", ifs, 1);
	plan(fx, 60);
	assert_int_equal(fx->plan.n_config, 1);
	assert_int_equal(fx->plan.n_add, 0);
	assert_int_equal(fx->plan.n_refused, 0);
}

static void test_slot_limit(void **state)
{
	struct fx *fx = *state;
	struct membership_iface_info ifs[3] = {
		iface(1, "/run/vtoe/1.sock", false, ""),
		iface(2, "/run/vtoe/2.sock", false, ""),
		iface(3, "/run/vtoe/3.sock", false, ""),
	};

	start(fx, UUID_A, "a", ifs, 3);
	plan(fx, 2);
	assert_int_equal(fx->plan.n_add, 2);
	assert_int_equal(fx->plan.n_refused, 1);
	assert_int_equal(fx->plan.refused[0].reason, ATTACH_TOO_MANY);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_ports_from_a_domain, setup, teardown),
		cmocka_unit_test_setup_teardown(test_endpoint_from_metadata, setup, teardown),
		cmocka_unit_test_setup_teardown(test_outside_and_collisions, setup, teardown),
		cmocka_unit_test_setup_teardown(test_keep_remake_remove, setup, teardown),
		cmocka_unit_test_setup_teardown(test_served_by_config, setup, teardown),
		cmocka_unit_test_setup_teardown(test_slot_limit, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
