/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Domain XML -> vhost-user interfaces, with libxml2 (xmlCtxtReadMemory +
 * XPath).  Called by the adapter's libvirt thread (membership_libvirt.c)
 * and by the tests.  The lie guarded against: XML that is not what libvirt
 * writes (hand-edited, truncated, hostile).  A parse error rejects the
 * domain; a bad interface only loses that interface.
 */
#include "membership/membership_xml.h"

#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libxml/parser.h>
#include <libxml/tree.h>
#include <libxml/xpath.h>

static const char *const xml_reason_names[MEMBERSHIP_XML_REASON_COUNT] = {
#define MEMBERSHIP_XML_REASON_NAME(e, name, help) [MEMBERSHIP_XML_ ## e] = name,
	MEMBERSHIP_XML_REASONS(MEMBERSHIP_XML_REASON_NAME)
#undef MEMBERSHIP_XML_REASON_NAME
};

const char *
membership_xml_reason_name(enum membership_xml_reason reason)
{
	return (unsigned int)reason < MEMBERSHIP_XML_REASON_COUNT ?
	       xml_reason_names[reason] : "?";
}

static void errf(char *err, size_t err_size, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void
errf(char *err, size_t err_size, const char *fmt, ...)
{
	va_list ap;

	if (err == NULL || err_size == 0)
		return;
	va_start(ap, fmt);
	vsnprintf(err, err_size, fmt, ap);
	va_end(ap);
}

int
membership_xml_mac_parse(const char *text, uint8_t mac[MEMBERSHIP_MAC_LEN])
{
	const char *p = text;

	if (text == NULL)
		return -EINVAL;
	for (int i = 0; i < MEMBERSHIP_MAC_LEN; i++) {
		unsigned int v = 0;
		int digits = 0;

		while (digits < 2 && isxdigit((unsigned char)*p)) {
			char c = *p++;

			int d = isdigit((unsigned char)c) ? c - '0' :
				tolower((unsigned char)c) - 'a' + 10;

			v = v * 16 + (unsigned int)d;
			digits++;
		}
		if (digits == 0)
			return -EINVAL;
		if (i < MEMBERSHIP_MAC_LEN - 1 ? *p != ':' : *p != '\0')
			return -EINVAL;
		if (*p == ':')
			p++;
		mac[i] = (uint8_t)v;
	}
	return 0;
}

/* The string value of expr evaluated at node (malloc'd, maybe ""), or
 * NULL on allocation failure. */
static char *
xpath_string(xmlXPathContextPtr xp, xmlNodePtr node, const char *expr)
{
	xmlXPathObjectPtr obj;
	char *s;

	xp->node = node;
	obj = xmlXPathEvalExpression((const xmlChar *)expr, xp);
	if (obj == NULL)
		return NULL;
	s = strdup(obj->type == XPATH_STRING && obj->stringval != NULL ?
		   (const char *)obj->stringval : "");
	xmlXPathFreeObject(obj);
	return s;
}

static void
skip(struct membership_xml_domain *dom, enum membership_xml_reason reason,
     uint32_t index, const char *what)
{
	if (dom->skip_msg[0] == '\0')
		snprintf(dom->skip_msg, sizeof(dom->skip_msg),
			 "vhost-user interface %u: %s (%s)", index, what,
			 membership_xml_reason_name(reason));
	dom->skipped[reason]++;
}

/* A name as vtoed's port map takes it (letters, digits, . _ -), else "". */
static void
hint_name(char *dst, const char *src)
{
	size_t n = strlen(src);

	dst[0] = '\0';
	if (n == 0 || n >= MEMBERSHIP_HINT_NAME_MAX ||
	    strspn(src, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-") != n)
		return;
	memcpy(dst, src, n + 1);
}

/* What the interface at node and vtoe's <metadata> element for its MAC
 * say about its port.  Values that do not parse are left unset (the
 * switch's defaults apply): a hint is never a reason to skip. */
static int
hint_parse(xmlXPathContextPtr xp, xmlNodePtr node,
	   const uint8_t mac[MEMBERSHIP_MAC_LEN],
	   struct membership_port_hint *h)
{
	static const char meta[] =
		"/domain/metadata/*[local-name()='port' and namespace-uri()='" MEMBERSHIP_XML_NS "']";
	xmlXPathObjectPtr obj;
	char *s;
	xmlNodePtr m = NULL;

	memset(h, 0, sizeof(*h));
	h->offloads = -1;
	if ((s = xpath_string(xp, node, "string(source[@type='unix']/@mode)")) == NULL)
		return -ENOMEM;
	h->qemu_server = strcmp(s, "server") == 0;
	free(s);
	if ((s = xpath_string(xp, node, "string(target/@dev)")) == NULL)
		return -ENOMEM;
	hint_name(h->name, s);
	free(s);

	xp->node = node;
	obj = xmlXPathEvalExpression((const xmlChar *)meta, xp);
	for (int i = 0; obj != NULL && obj->nodesetval != NULL &&
	     i < obj->nodesetval->nodeNr && m == NULL; i++) {
		uint8_t other[MEMBERSHIP_MAC_LEN];

		s = xpath_string(xp, obj->nodesetval->nodeTab[i], "string(@mac)");
		if (s != NULL && membership_xml_mac_parse(s, other) == 0 &&
		    memcmp(other, mac, MEMBERSHIP_MAC_LEN) == 0)
			m = obj->nodesetval->nodeTab[i];
		free(s);
	}
	if (m != NULL) {
		char *end;
		unsigned long w;

		if ((s = xpath_string(xp, m, "string(@weight)")) != NULL) {
			w = strtoul(s, &end, 10);
			if (s[0] != '\0' && *end == '\0' && w >= 1 && w <= 1000)
				h->weight = (uint32_t)w;
			free(s);
		}
		if ((s = xpath_string(xp, m, "string(@uplink)")) != NULL) {
			hint_name(h->uplink, s);
			free(s);
		}
		if ((s = xpath_string(xp, m, "string(@offloads)")) != NULL) {
			if (strcmp(s, "true") == 0 || strcmp(s, "false") == 0)
				h->offloads = strcmp(s, "true") == 0;
			free(s);
		}
		/* The endpoint's settings: text, checked where the port is
		 * made; one that does not fit makes them all unusable. */
		{
			static const char *const attrs[] = {
				"string(@ip)", "string(@gateway)", "string(@dns)",
				"string(@hostname)", "string(@instance-id)",
			};
			char *dst[] = { h->ip, h->gateway, h->dns, h->hostname,
					h->instance_id };
			size_t size[] = { sizeof(h->ip), sizeof(h->gateway),
					  sizeof(h->dns), sizeof(h->hostname),
					  sizeof(h->instance_id) };

			for (size_t k = 0; k < sizeof(attrs) / sizeof(attrs[0]); k++) {
				if ((s = xpath_string(xp, m, attrs[k])) == NULL)
					continue;
				if (strlen(s) >= size[k])
					h->meta_cut = true;
				else
					memcpy(dst[k], s, strlen(s) + 1);
				free(s);
			}
		}
	}
	xmlXPathFreeObject(obj);
	return 0;
}

/* One <interface type='vhostuser'>: appended to dom, or skipped. */
static int
iface_parse(struct membership_xml_domain *dom, xmlXPathContextPtr xp,
	    xmlNodePtr node, uint32_t index)
{
	struct membership_xml_iface *ifc;
	uint8_t mac[MEMBERSHIP_MAC_LEN];
	char *text, *path, what[160];
	int rc;

	text = xpath_string(xp, node, "string(mac/@address)");
	if (text == NULL)
		return -ENOMEM;
	rc = membership_xml_mac_parse(text, mac);
	if (rc != 0) {
		snprintf(what, sizeof(what), "MAC '%.40s' unparsable", text);
		free(text);
		skip(dom, MEMBERSHIP_XML_MAC_UNPARSABLE, index, what);
		return 0;
	}
	if ((mac[0] & 1) != 0 || (mac[0] | mac[1] | mac[2] | mac[3] |
				  mac[4] | mac[5]) == 0) {
		snprintf(what, sizeof(what), "MAC %.40s not unicast", text);
		free(text);
		skip(dom, MEMBERSHIP_XML_MAC_NOT_UNICAST, index, what);
		return 0;
	}
	free(text);
	path = xpath_string(xp, node, "string(source[@type='unix']/@path)");
	if (path == NULL)
		return -ENOMEM;
	if (path[0] == '\0') {
		free(path);
		skip(dom, MEMBERSHIP_XML_NO_SOCKET, index,
		     "no <source type='unix' path=...>");
		return 0;
	}
	if (dom->n_ifaces == MEMBERSHIP_IFACES_MAX) {
		free(path);
		skip(dom, MEMBERSHIP_XML_TOO_MANY_IFACES, index,
		     "beyond the per-domain maximum");
		return 0;
	}
	ifc = &dom->ifaces[dom->n_ifaces++];
	memcpy(ifc->mac, mac, MEMBERSHIP_MAC_LEN);
	ifc->socket = path;
	return hint_parse(xp, node, mac, &ifc->hint);
}

/* Trim surrounding whitespace in place. */
static char *
trim(char *s)
{
	size_t n;

	while (isspace((unsigned char)*s))
		s++;
	n = strlen(s);
	while (n > 0 && isspace((unsigned char)s[n - 1]))
		s[--n] = '\0';
	return s;
}

static bool
uuid_text_valid(const char *u)
{
	if (strlen(u) != MEMBERSHIP_UUID_LEN)
		return false;
	for (int i = 0; i < MEMBERSHIP_UUID_LEN; i++) {
		bool dash = i == 8 || i == 13 || i == 18 || i == 23;

		if (dash ? u[i] != '-' : !isxdigit((unsigned char)u[i]))
			return false;
	}
	return true;
}

static int
domain_parse(struct membership_xml_domain *dom, xmlDocPtr doc,
	     char *err, size_t err_size)
{
	xmlNodePtr root = xmlDocGetRootElement(doc);
	xmlXPathContextPtr xp = NULL;
	xmlXPathObjectPtr set = NULL;
	char *uuid = NULL, *name = NULL;
	int rc = -ENOMEM;

	if (root == NULL ||
	    xmlStrcmp(root->name, (const xmlChar *)"domain") != 0) {
		errf(err, err_size, "root element is <%.40s>, not <domain>",
		     root != NULL ? (const char *)root->name : "");
		return -EINVAL;
	}
	xp = xmlXPathNewContext(doc);
	if (xp == NULL)
		goto out;
	uuid = xpath_string(xp, root, "string(/domain/uuid)");
	name = xpath_string(xp, root, "string(/domain/name)");
	if (uuid == NULL || name == NULL)
		goto out;
	if (!uuid_text_valid(trim(uuid))) {
		errf(err, err_size, "<uuid> '%.40s' is not a UUID", trim(uuid));
		rc = -EINVAL;
		goto out;
	}
	if (trim(name)[0] == '\0') {
		errf(err, err_size, "no <name>");
		rc = -EINVAL;
		goto out;
	}
	for (int i = 0; i < MEMBERSHIP_UUID_LEN; i++)
		dom->uuid[i] = (char)tolower((unsigned char)trim(uuid)[i]);
	dom->name = strdup(trim(name));
	if (dom->name == NULL)
		goto out;

	xp->node = root;
	set = xmlXPathEvalExpression(
		(const xmlChar *)"/domain/devices/interface[@type='vhostuser']",
		xp);
	if (set == NULL)
		goto out;
	if (set->type == XPATH_NODESET && set->nodesetval != NULL &&
	    set->nodesetval->nodeNr > 0) {
		int n = set->nodesetval->nodeNr;

		dom->ifaces = calloc(n < MEMBERSHIP_IFACES_MAX ?
				     (size_t)n : MEMBERSHIP_IFACES_MAX,
				     sizeof(*dom->ifaces));
		if (dom->ifaces == NULL)
			goto out;
		for (int i = 0; i < n; i++) {
			rc = iface_parse(dom, xp, set->nodesetval->nodeTab[i],
					 (uint32_t)i);
			if (rc != 0)
				goto out;
		}
	}
	rc = 0;
out:
	if (rc == -ENOMEM)
		errf(err, err_size, "out of memory");
	xmlXPathFreeObject(set);
	xmlXPathFreeContext(xp);
	free(uuid);
	free(name);
	return rc;
}

int
membership_xml_parse(const char *xml, size_t len,
		     struct membership_xml_domain *dom,
		     char *err, size_t err_size)
{
	xmlParserCtxtPtr ctxt;
	xmlDocPtr doc;
	int rc;

	memset(dom, 0, sizeof(*dom));
	if (xml == NULL || len == 0) {
		errf(err, err_size, "empty domain XML");
		return -EINVAL;
	}
	if (len > MEMBERSHIP_XML_SIZE_MAX) {
		errf(err, err_size, "domain XML of %zu bytes, more than %u",
		     len, MEMBERSHIP_XML_SIZE_MAX);
		return -EINVAL;
	}
	xmlInitParser();
	ctxt = xmlNewParserCtxt();
	if (ctxt == NULL) {
		errf(err, err_size, "out of memory");
		return -ENOMEM;
	}
	/* NONET: no DTD fetched from anywhere.  NOERROR/NOWARNING: libxml2
	 * would print to stderr; the error is read back below instead.  No
	 * NOENT: entities are not substituted. */
	doc = xmlCtxtReadMemory(ctxt, xml, (int)len, "domain.xml", NULL,
				XML_PARSE_NONET | XML_PARSE_NOERROR |
				XML_PARSE_NOWARNING);
	if (doc == NULL) {
		const xmlError *e = xmlCtxtGetLastError(ctxt);
		char msg[200] = "unparsable";

		if (e != NULL && e->message != NULL) {
			snprintf(msg, sizeof(msg), "%s", e->message);
			trim(msg);
		}
		errf(err, err_size, "not XML: line %d: %s",
		     e != NULL ? e->line : 0, msg);
		xmlFreeParserCtxt(ctxt);
		return -EINVAL;
	}
	rc = domain_parse(dom, doc, err, err_size);
	xmlFreeDoc(doc);
	xmlFreeParserCtxt(ctxt);
	if (rc != 0)
		membership_xml_domain_clear(dom);
	return rc;
}

void
membership_xml_domain_clear(struct membership_xml_domain *dom)
{
	if (dom == NULL)
		return;
	for (uint32_t i = 0; i < dom->n_ifaces; i++)
		free(dom->ifaces[i].socket);
	free(dom->ifaces);
	free(dom->name);
	memset(dom, 0, sizeof(*dom));
}
