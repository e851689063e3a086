/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Domain XML -> vhost-user interfaces, on XML libvirt would write and on
 * XML it never would: no vhost-user interface, unparsable or multicast
 * MACs, no socket path, too many interfaces, garbage, another root
 * element, no UUID, entities, truncation at every byte.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "membership/membership_xml.h"

#define HEAD \
	"<domain type='kvm'>\n" \
	"  <name>vm1</name>\n" \
	"  <uuid>0A1B2C3D-4E5F-6071-8293-a4b5c6d7e8f9</uuid>\n" \
	"  <memory unit='KiB'>1048576</memory>\n" \
	"  <memoryBacking><source type='memfd'/><access mode='shared'/>" \
	"</memoryBacking>\n" \
	"  <devices>\n"
#define TAIL "  </devices>\n</domain>\n"
#define VHOST(mac, path) \
	"    <interface type='vhostuser'>\n" \
	"      <mac address='" mac "'/>\n" \
	"      <source type='unix' path='" path "' mode='client'/>\n" \
	"      <model type='virtio'/>\n" \
	"    </interface>\n"

static int
parse(const char *xml, struct membership_xml_domain *dom, char *err)
{
	err[0] = '\0';
	return membership_xml_parse(xml, strlen(xml), dom, err, 256);
}

static void
test_two_vhost_user(void **state)
{
	static const char xml[] = HEAD
		VHOST("52:54:00:00:01:01", "/run/vtoe/vm1.0.sock")
		"    <interface type='network'><mac address='52:54:00:aa:bb:cc'/>"
		"<source network='default'/></interface>\n"
		VHOST("52:54:00:00:01:02", "/run/vtoe/vm1.1.sock")
		"    <disk type='file'><source file='/x'/></disk>\n"
		TAIL;
	struct membership_xml_domain dom;
	char err[256];

	(void)state;
	assert_int_equal(parse(xml, &dom, err), 0);
	assert_string_equal(dom.uuid, "0a1b2c3d-4e5f-6071-8293-a4b5c6d7e8f9");
	assert_string_equal(dom.name, "vm1");
	assert_int_equal(dom.n_ifaces, 2);
	assert_memory_equal(dom.ifaces[0].mac,
			    ((uint8_t[]){ 0x52, 0x54, 0, 0, 1, 1 }), 6);
	assert_string_equal(dom.ifaces[0].socket, "/run/vtoe/vm1.0.sock");
	assert_memory_equal(dom.ifaces[1].mac,
			    ((uint8_t[]){ 0x52, 0x54, 0, 0, 1, 2 }), 6);
	assert_string_equal(dom.ifaces[1].socket, "/run/vtoe/vm1.1.sock");
	assert_string_equal(dom.skip_msg, "");
	membership_xml_domain_clear(&dom);
	membership_xml_domain_clear(&dom);      /* twice is fine */
	membership_xml_domain_clear(NULL);
}

/* What the XML says about each interface's port: who makes the socket,
 * its name, and vtoe's <metadata> element matched by MAC; values that do
 * not parse stay unset. */
static void
test_port_hints(void **state)
{
	static const char xml[] =
		"<domain type='kvm'>\n"
		"  <name>vm1</name>\n"
		"  <uuid>0a1b2c3d-4e5f-6071-8293-a4b5c6d7e8f9</uuid>\n"
		"  <metadata>\n"
		"    <vtoe:port xmlns:vtoe='urn:vtoe:libvirt:1' mac='52:54:00:00:01:02'"
		" weight='4' uplink='up1' offloads='false'/>\n"
		"    <vtoe:port xmlns:vtoe='urn:vtoe:libvirt:1' mac='52:54:00:00:01:03'"
		" weight='5000' uplink='a b' offloads='maybe' ip='10.0.0.11/24' gateway='10.0.0.1'"
		" dns='10.0.0.2' hostname='vm-one' instance-id='i-0001'/>\n"
		"    <other:port xmlns:other='urn:someone:else' mac='52:54:00:00:01:01' weight='9'/>\n"
		"  </metadata>\n"
		"  <devices>\n"
		"    <interface type='vhostuser'><mac address='52:54:00:00:01:01'/>"
		"<source type='unix' path='/run/vtoe/a.sock' mode='server'/>"
		"<target dev='vm1-eth0'/></interface>\n"
		"    <interface type='vhostuser'><mac address='52:54:00:00:01:02'/>"
		"<source type='unix' path='/run/vtoe/b.sock' mode='client'/>"
		"<target dev='bad name/../x'/></interface>\n"
		"    <interface type='vhostuser'><mac address='52:54:00:00:01:03'/>"
		"<source type='unix' path='/run/vtoe/c.sock'/></interface>\n"
		TAIL;
	struct membership_xml_domain dom;
	const struct membership_port_hint *h;
	char err[256];

	(void)state;
	assert_int_equal(parse(xml, &dom, err), 0);
	assert_int_equal(dom.n_ifaces, 3);
	h = &dom.ifaces[0].hint;
	assert_true(h->qemu_server);
	assert_string_equal(h->name, "vm1-eth0");
	assert_int_equal(h->weight, 0);         /* another namespace's element */
	assert_int_equal(h->offloads, -1);
	h = &dom.ifaces[1].hint;
	assert_false(h->qemu_server);
	assert_string_equal(h->name, "");       /* not a name vtoed takes */
	assert_int_equal(h->weight, 4);
	assert_string_equal(h->uplink, "up1");
	assert_int_equal(h->offloads, 0);
	h = &dom.ifaces[2].hint;
	assert_false(h->qemu_server);
	assert_int_equal(h->weight, 0);         /* out of range */
	assert_string_equal(h->uplink, "");
	assert_int_equal(h->offloads, -1);
	/* the endpoint's text, checked where the port is made */
	assert_string_equal(h->ip, "10.0.0.11/24");
	assert_string_equal(h->gateway, "10.0.0.1");
	assert_string_equal(h->dns, "10.0.0.2");
	assert_string_equal(h->hostname, "vm-one");
	assert_string_equal(h->instance_id, "i-0001");
	assert_false(h->meta_cut);
	assert_string_equal(dom.ifaces[1].hint.ip, "");
	membership_xml_domain_clear(&dom);
}

static void
test_no_vhost_user(void **state)
{
	static const char xml[] = HEAD
		"    <interface type='network'><mac address='52:54:00:aa:bb:cc'/>"
		"<source network='default'/></interface>\n" TAIL;
	static const char bare[] = "<domain><name>x</name>"
		"<uuid>11111111-2222-3333-4444-555555555555</uuid></domain>";
	struct membership_xml_domain dom;
	char err[256];

	(void)state;
	assert_int_equal(parse(xml, &dom, err), 0);
	assert_int_equal(dom.n_ifaces, 0);
	assert_null(dom.ifaces);
	membership_xml_domain_clear(&dom);
	/* no <devices> at all */
	assert_int_equal(parse(bare, &dom, err), 0);
	assert_int_equal(dom.n_ifaces, 0);
	membership_xml_domain_clear(&dom);
}

static void
test_bad_interfaces_skipped(void **state)
{
	static const char xml[] = HEAD
		VHOST("52:54:00:zz:01:01", "/s/bad-mac")
		VHOST("52:54:00:00:01", "/s/short-mac")
		VHOST("52:54:00:00:01:01:07", "/s/long-mac")
		VHOST("", "/s/empty-mac")
		"    <interface type='vhostuser'><source type='unix' "
		"path='/s/no-mac'/></interface>\n"
		VHOST("01:00:5e:00:00:01", "/s/multicast")
		VHOST("00:00:00:00:00:00", "/s/zero")
		"    <interface type='vhostuser'><mac address='52:54:00:00:03:01'/>"
		"</interface>\n"
		"    <interface type='vhostuser'><mac address='52:54:00:00:03:02'/>"
		"<source type='tcp' path='/s/tcp'/></interface>\n"
		VHOST("52:54:00:00:01:02", "/s/good")
		TAIL;
	struct membership_xml_domain dom;
	char err[256];

	(void)state;
	assert_int_equal(parse(xml, &dom, err), 0);
	/* only the good one survives; each other one counted by reason */
	assert_int_equal(dom.n_ifaces, 1);
	assert_string_equal(dom.ifaces[0].socket, "/s/good");
	assert_int_equal(dom.skipped[MEMBERSHIP_XML_MAC_UNPARSABLE], 5);
	assert_int_equal(dom.skipped[MEMBERSHIP_XML_MAC_NOT_UNICAST], 2);
	assert_int_equal(dom.skipped[MEMBERSHIP_XML_NO_SOCKET], 2);
	assert_non_null(strstr(dom.skip_msg, "interface 0"));
	assert_non_null(strstr(dom.skip_msg, "52:54:00:zz:01:01"));
	assert_non_null(strstr(dom.skip_msg, "mac_unparsable"));
	membership_xml_domain_clear(&dom);
}

static void
test_too_many(void **state)
{
	size_t cap = 200000, len;
	char *xml = malloc(cap);
	struct membership_xml_domain dom;
	char err[256];

	(void)state;
	assert_non_null(xml);
	len = (size_t)snprintf(xml, cap, "%s", HEAD);
	for (int i = 0; i < MEMBERSHIP_IFACES_MAX + 3; i++)
		len += (size_t)snprintf(xml + len, cap - len,
			"<interface type='vhostuser'><mac address='52:54:00:00:%02x:%02x'/>"
			"<source type='unix' path='/s/%d'/></interface>",
			i >> 8, i & 0xff, i);
	snprintf(xml + len, cap - len, "%s", TAIL);
	assert_int_equal(parse(xml, &dom, err), 0);
	assert_int_equal(dom.n_ifaces, MEMBERSHIP_IFACES_MAX);
	assert_int_equal(dom.skipped[MEMBERSHIP_XML_TOO_MANY_IFACES], 3);
	membership_xml_domain_clear(&dom);
	free(xml);
}

static void
test_rejected(void **state)
{
	static const struct {
		const char *xml;
		const char *why;
	} cases[] = {
		{ "this is not XML", "not XML" },
		{ "<domain><name>x</name>", "not XML" },
		{ "<domain><name>x</nam></domain>", "not XML" },
		{ "\x01\x02\x03", "not XML" },
		{ "<network><name>x</name></network>", "not <domain>" },
		{ "<domain><name>x</name></domain>", "not a UUID" },
		{ "<domain><name>x</name><uuid>1234</uuid></domain>",
		  "not a UUID" },
		{ "<domain><name>x</name>"
		  "<uuid>11111111+2222-3333-4444-555555555555</uuid></domain>",
		  "not a UUID" },
		{ "<domain><name> </name>"
		  "<uuid>11111111-2222-3333-4444-555555555555</uuid></domain>",
		  "no <name>" },
		/* a DTD fetched from the network would be a way out */
		{ "<!DOCTYPE domain SYSTEM \"http://127.0.0.1:9/x.dtd\">"
		  "<domain><name>x</name></domain>", "not a UUID" },
	};
	struct membership_xml_domain dom;
	char err[256];

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		assert_int_equal(parse(cases[i].xml, &dom, err), -EINVAL);
		if (strstr(err, cases[i].why) == NULL)
			fail_msg("case %zu: '%s' lacks '%s'", i, err,
				 cases[i].why);
		assert_null(dom.name);
		assert_int_equal(dom.n_ifaces, 0);
	}
	assert_int_equal(membership_xml_parse(NULL, 0, &dom, err, sizeof(err)),
			 -EINVAL);
	assert_int_equal(membership_xml_parse("<a/>", 0, &dom, err,
					      sizeof(err)), -EINVAL);
	assert_int_equal(membership_xml_parse("<a/>",
		(size_t)MEMBERSHIP_XML_SIZE_MAX + 1, &dom, err, sizeof(err)),
		-EINVAL);
	assert_non_null(strstr(err, "bytes"));
	/* no err buffer: still no crash */
	assert_int_equal(membership_xml_parse("junk", 4, &dom, NULL, 0),
			 -EINVAL);
}

/* Every prefix of a good document: rejected or parsed, never a crash,
 * never an interface that is not in the full document. */
static void
test_truncated(void **state)
{
	static const char xml[] = HEAD
		VHOST("52:54:00:00:01:01", "/run/vtoe/vm1.0.sock") TAIL;
	struct membership_xml_domain dom;
	char err[256];

	(void)state;
	for (size_t len = 1; len < sizeof(xml) - 1; len++) {
		int rc = membership_xml_parse(xml, len, &dom, err, sizeof(err));

		if (rc == 0) {
			assert_true(dom.n_ifaces <= 1);
			membership_xml_domain_clear(&dom);
		} else {
			assert_int_equal(rc, -EINVAL);
		}
	}
}

static void
test_entities_not_expanded(void **state)
{
	/* Internal entities in the socket path: not substituted into a
	 * path we would then hand to the dataplane. */
	static const char xml[] =
		"<!DOCTYPE domain [<!ENTITY a 'aaaaaaaaaaaaaaaaaaaaaaaaaaaa'>"
		"<!ENTITY b '&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;'>]>"
		"<domain><name>e</name>"
		"<uuid>11111111-2222-3333-4444-555555555555</uuid><devices>"
		"<interface type='vhostuser'><mac address='52:54:00:00:01:01'/>"
		"<source type='unix' path='/s/&b;'/></interface>"
		"</devices></domain>";
	struct membership_xml_domain dom;
	char err[256];
	int rc;

	(void)state;
	rc = parse(xml, &dom, err);
	if (rc == 0) {
		for (uint32_t i = 0; i < dom.n_ifaces; i++)
			assert_true(strlen(dom.ifaces[i].socket) < 400);
		membership_xml_domain_clear(&dom);
	} else {
		assert_int_equal(rc, -EINVAL);
	}
}

static void
test_mac_parse(void **state)
{
	static const struct {
		const char *text;
		int rc;
		uint8_t mac[6];
	} cases[] = {
		{ "52:54:00:00:01:01", 0, { 0x52, 0x54, 0, 0, 1, 1 } },
		{ "FE:ff:0a:B0:c:1", 0, { 0xfe, 0xff, 0x0a, 0xb0, 0x0c, 0x01 } },
		{ "52:54:00:00:01:", -EINVAL, { 0 } },
		{ "52:54:00:00:01", -EINVAL, { 0 } },
		{ "52:54:00:00:01:01:", -EINVAL, { 0 } },
		{ "52-54-00-00-01-01", -EINVAL, { 0 } },
		{ "525:4:00:00:01:01", -EINVAL, { 0 } },
		{ " 52:54:00:00:01:01", -EINVAL, { 0 } },
		{ "52:54:00:00:01:01 ", -EINVAL, { 0 } },
		{ "", -EINVAL, { 0 } },
	};
	uint8_t mac[6];

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		assert_int_equal(membership_xml_mac_parse(cases[i].text, mac),
				 cases[i].rc);
		if (cases[i].rc == 0)
			assert_memory_equal(mac, cases[i].mac, 6);
	}
	assert_int_equal(membership_xml_mac_parse(NULL, mac), -EINVAL);
	assert_string_equal(membership_xml_reason_name(
		MEMBERSHIP_XML_MAC_UNPARSABLE), "mac_unparsable");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_two_vhost_user),
		cmocka_unit_test(test_port_hints),
		cmocka_unit_test(test_no_vhost_user),
		cmocka_unit_test(test_bad_interfaces_skipped),
		cmocka_unit_test(test_too_many),
		cmocka_unit_test(test_rejected),
		cmocka_unit_test(test_truncated),
		cmocka_unit_test(test_entities_not_expanded),
		cmocka_unit_test(test_mac_parse),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
