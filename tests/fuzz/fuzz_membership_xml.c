/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The libvirt domain XML reader (membership_xml_parse) on any bytes.
 *
 * Invariant: no crash, no leak, no read outside the text; the answer is
 * 0, -EINVAL with a reason (and an empty domain) or -ENOMEM; a domain it
 * accepts has a 36-character UUID, at most MEMBERSHIP_IFACES_MAX
 * interfaces, each with a unicast non-zero MAC and a socket path, its
 * hint strings terminated; parsing again gives the same domain.  A MAC
 * that membership_xml_mac_parse accepts reads back the same when printed.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "membership/membership_xml.h"
#include "fuzz.h"

static bool
terminated(const char *s, size_t size)
{
	return memchr(s, '\0', size) != NULL;
}

static void
check_domain(const struct membership_xml_domain *d)
{
	FUZZ_CHECK(strlen(d->uuid) == MEMBERSHIP_UUID_LEN);
	FUZZ_CHECK(d->name != NULL);
	FUZZ_CHECK(d->n_ifaces <= MEMBERSHIP_IFACES_MAX);
	FUZZ_CHECK(d->n_ifaces == 0 || d->ifaces != NULL);
	FUZZ_CHECK(terminated(d->skip_msg, sizeof(d->skip_msg)));
	for (uint32_t i = 0; i < d->n_ifaces; i++) {
		const struct membership_xml_iface *f = &d->ifaces[i];
		static const uint8_t zero[MEMBERSHIP_MAC_LEN];

		FUZZ_CHECK((f->mac[0] & 1) == 0);
		FUZZ_CHECK(memcmp(f->mac, zero, sizeof(zero)) != 0);
		FUZZ_CHECK(f->socket != NULL && f->socket[0] != '\0');
		FUZZ_CHECK(terminated(f->hint.name, sizeof(f->hint.name)));
		FUZZ_CHECK(terminated(f->hint.uplink, sizeof(f->hint.uplink)));
		FUZZ_CHECK(terminated(f->hint.ip, sizeof(f->hint.ip)));
		FUZZ_CHECK(terminated(f->hint.gateway, sizeof(f->hint.gateway)));
		FUZZ_CHECK(terminated(f->hint.dns, sizeof(f->hint.dns)));
		FUZZ_CHECK(terminated(f->hint.hostname, sizeof(f->hint.hostname)));
		FUZZ_CHECK(terminated(f->hint.instance_id,
				      sizeof(f->hint.instance_id)));
		FUZZ_CHECK(f->hint.offloads >= -1 && f->hint.offloads <= 1);
	}
}

static bool
same_domain(const struct membership_xml_domain *a,
	    const struct membership_xml_domain *b)
{
	if (strcmp(a->uuid, b->uuid) != 0 || strcmp(a->name, b->name) != 0 ||
	    a->n_ifaces != b->n_ifaces ||
	    memcmp(a->skipped, b->skipped, sizeof(a->skipped)) != 0 ||
	    strcmp(a->skip_msg, b->skip_msg) != 0)
		return false;
	for (uint32_t i = 0; i < a->n_ifaces; i++)
		if (memcmp(a->ifaces[i].mac, b->ifaces[i].mac, MEMBERSHIP_MAC_LEN) != 0 ||
		    strcmp(a->ifaces[i].socket, b->ifaces[i].socket) != 0 ||
		    memcmp(&a->ifaces[i].hint, &b->ifaces[i].hint,
			   sizeof(a->ifaces[i].hint)) != 0)
			return false;
	return true;
}

static void
check_mac_text(const uint8_t *data, size_t size)
{
	uint8_t mac[MEMBERSHIP_MAC_LEN], again[MEMBERSHIP_MAC_LEN];
	char text[32], buf[18];

	if (size >= sizeof(text))
		return;
	memcpy(text, data, size);
	text[size] = '\0';
	if (membership_xml_mac_parse(text, mac) != 0)
		return;
	snprintf(buf, sizeof(buf), "%02x:%02x:%02x:%02x:%02x:%02x",
		 mac[0], mac[1], mac[2], mac[3], mac[4], mac[5]);
	FUZZ_CHECK(membership_xml_mac_parse(buf, again) == 0);
	FUZZ_CHECK(memcmp(mac, again, sizeof(mac)) == 0);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct membership_xml_domain a, b;
	char err[256], err2[256];
	int rc, rc2;

	check_mac_text(data, size);
	memset(&a, 0x5a, sizeof(a));    /* cleared by the parser */
	err[0] = '\0';
	rc = membership_xml_parse((const char *)data, size, &a, err, sizeof(err));
	FUZZ_CHECK(rc == 0 || rc == -EINVAL || rc == -ENOMEM);
	if (rc == -EINVAL) {
		FUZZ_CHECK(err[0] != '\0' && terminated(err, sizeof(err)));
		FUZZ_CHECK(a.n_ifaces == 0 && a.ifaces == NULL && a.name == NULL);
	}
	if (rc == 0) {
		check_domain(&a);
		memset(&b, 0, sizeof(b));
		rc2 = membership_xml_parse((const char *)data, size, &b, err2,
					   sizeof(err2));
		FUZZ_CHECK(rc2 == 0 && same_domain(&a, &b));
		membership_xml_domain_clear(&b);
	}
	membership_xml_domain_clear(&a);
	return 0;
}
