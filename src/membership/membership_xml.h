/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * membership_xml: a libvirt domain XML -> its UUID, name and vhost-user
 * interfaces (<interface type='vhostuser'> with <mac address=...> and
 * <source type='unix' path=... mode=...>, <target dev=...>, and vtoe's
 * <metadata> element for it).  libxml2 only, no libvirt: the adapter
 * feeds it virDomainGetXMLDesc() output, the tests feed it anything.
 * Never trusts the text: garbage is rejected with a reason, an interface
 * that cannot be used is skipped with a counted reason, a domain without
 * vhost-user interfaces simply has none.
 */
#ifndef VTOE_MEMBERSHIP_XML_H
#define VTOE_MEMBERSHIP_XML_H

#include <stddef.h>
#include <stdint.h>

#include "membership/membership.h"

#define MEMBERSHIP_XML_SIZE_MAX (16u << 20)     /* bytes of domain XML */

/* X(enum suffix, name, meaning) */
#define MEMBERSHIP_XML_REASONS(X) \
	X(XML_INVALID, "xml_invalid", \
	  "domain XML unparsable or not a domain: rejected") \
	X(MAC_UNPARSABLE, "mac_unparsable", \
	  "vhost-user interface without a readable MAC: skipped") \
	X(MAC_NOT_UNICAST, "mac_not_unicast", \
	  "vhost-user interface with a multicast or zero MAC: skipped") \
	X(NO_SOCKET, "no_socket", \
	  "vhost-user interface without a unix socket path: skipped") \
	X(TOO_MANY_IFACES, "too_many_ifaces", \
	  "vhost-user interfaces beyond MEMBERSHIP_IFACES_MAX: skipped")

enum membership_xml_reason {
#define MEMBERSHIP_XML_REASON_ENUM(e, name, help) MEMBERSHIP_XML_ ## e,
	MEMBERSHIP_XML_REASONS(MEMBERSHIP_XML_REASON_ENUM)
#undef MEMBERSHIP_XML_REASON_ENUM
	MEMBERSHIP_XML_REASON_COUNT
};

const char *membership_xml_reason_name(enum membership_xml_reason reason);

struct membership_xml_iface {
	uint8_t mac[MEMBERSHIP_MAC_LEN];
	char *socket;
	struct membership_port_hint hint;
};

/* The namespace of vtoe's element in a domain's <metadata>:
 *   <vtoe:port xmlns:vtoe="urn:vtoe:libvirt:1" mac="52:54:00:00:01:01"
 *              weight="4" uplink="up1" offloads="false"
 *              ip="10.0.0.11/24" gateway="10.0.0.1" dns="10.0.0.2,9.9.9.9"
 *              hostname="vm1" instance-id="i-0001"/>
 * one per interface, matched by MAC. */
#define MEMBERSHIP_XML_NS "urn:vtoe:libvirt:1"

struct membership_xml_domain {
	char uuid[MEMBERSHIP_UUID_LEN + 1];
	char *name;
	uint32_t n_ifaces;
	struct membership_xml_iface *ifaces;
	/* Interfaces skipped, by reason; the first skip explained. */
	uint32_t skipped[MEMBERSHIP_XML_REASON_COUNT];
	char skip_msg[256];
};

/*
 * Parse len bytes of domain XML into *dom (cleared first).  0, or -EINVAL
 * with a one-line reason in err (dom left empty), -ENOMEM.  Calls
 * xmlInitParser() itself; safe from any thread (nothing global is set).
 */
int membership_xml_parse(const char *xml, size_t len,
			 struct membership_xml_domain *dom,
			 char *err, size_t err_size);
/* Free what parse allocated; the struct may be parsed into again. */
void membership_xml_domain_clear(struct membership_xml_domain *dom);

/* "52:54:00:00:01:01" (1 or 2 hex digits per octet, as libvirt accepts)
 * into mac: 0 or -EINVAL. */
int membership_xml_mac_parse(const char *text,
			     uint8_t mac[MEMBERSHIP_MAC_LEN]);

#endif /* VTOE_MEMBERSHIP_XML_H */
