/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The etcd directory codec (src/cluster/cluster_codec.c) on any bytes.
 * Input: one byte choosing the parser, then its text.
 *
 * Invariant: no crash, no leak, no read outside the text; every parser
 * fills its output wholly or not at all (a failed range or watch holds no
 * kv); what a parser accepts survives a round trip: a key re-made by
 * cluster_key_host/port is the same text, a value re-encoded parses to
 * the same fields, base64 decoded then encoded then decoded is the same
 * bytes; every kv's key and value are terminated at their length.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "cluster/cluster_codec.h"
#include "fuzz.h"

#define PREFIX "/vtoe/"

static void
check_key(const char *s, size_t n)
{
	struct cluster_key k;
	char buf[CLUSTER_KEY_MAX + 1];
	int len;

	if (cluster_key_parse(PREFIX, s, n, &k) != 0)
		return;
	FUZZ_CHECK(cluster_host_valid(k.host, strlen(k.host)));
	if (k.kind == CLUSTER_KEY_HOST) {
		len = cluster_key_host(buf, sizeof(buf), PREFIX, k.host);
	} else {
		FUZZ_CHECK(k.kind == CLUSTER_KEY_PORT);
		FUZZ_CHECK(k.vni >= 1 && k.vni <= CLUSTER_VNI_MAX);
		FUZZ_CHECK(cluster_mac_valid(k.mac));
		len = cluster_key_port(buf, sizeof(buf), PREFIX, k.vni, k.mac,
				       k.host);
	}
	/* canonical: the one text for these fields */
	FUZZ_CHECK(len >= 0 && (size_t)len == n && memcmp(buf, s, n) == 0);
}

static void
check_host_value(const char *s, size_t n)
{
	struct cluster_host h, again;
	char *text;

	if (cluster_value_host_parse(s, n, &h) != 0)
		return;
	FUZZ_CHECK(cluster_host_valid(h.name, strlen(h.name)));
	FUZZ_CHECK(cluster_vtep_valid(h.vtep));
	text = cluster_value_host(h.name, h.vtep, "fuzz");
	FUZZ_CHECK(text != NULL);
	FUZZ_CHECK(cluster_value_host_parse(text, strlen(text), &again) == 0);
	FUZZ_CHECK(strcmp(h.name, again.name) == 0 &&
		   memcmp(h.vtep, again.vtep, 4) == 0);
	free(text);
}

static void
check_port_value(const char *s, size_t n)
{
	struct cluster_remote r, again;
	struct cluster_port p = { 0 };
	char *text;

	if (cluster_value_port_parse(s, n, &r) != 0)
		return;
	FUZZ_CHECK(memchr(r.host, '\0', sizeof(r.host)) != NULL);
	FUZZ_CHECK(memchr(r.port, '\0', sizeof(r.port)) != NULL);
	FUZZ_CHECK(r.n_ips <= CLUSTER_IPS_MAX);
	p.vni = r.vni;
	memcpy(p.mac, r.mac, 6);
	memcpy(p.port, r.port, sizeof(p.port));
	p.n_ips = r.n_ips;
	memcpy(p.ips, r.ips, sizeof(p.ips));
	text = cluster_value_port(r.host, r.vtep, &p);
	FUZZ_CHECK(text != NULL);
	FUZZ_CHECK(cluster_value_port_parse(text, strlen(text), &again) == 0);
	FUZZ_CHECK(strcmp(r.host, again.host) == 0 &&
		   memcmp(r.vtep, again.vtep, 4) == 0 && r.vni == again.vni &&
		   memcmp(r.mac, again.mac, 6) == 0 &&
		   strcmp(r.port, again.port) == 0 && r.n_ips == again.n_ips &&
		   memcmp(r.ips, again.ips, r.n_ips * sizeof(r.ips[0])) == 0);
	free(text);
}

static void
check_b64(const char *s, size_t n)
{
	size_t cap = n + 4, got = 0, got2 = 0;
	uint8_t *bin = malloc(cap), *bin2 = malloc(cap);
	char *enc = malloc(2 * cap + 8);
	size_t elen;

	FUZZ_CHECK(bin != NULL && bin2 != NULL && enc != NULL);
	/* anything encodes, and decodes back */
	elen = cluster_b64_encode(s, n, enc, 2 * cap + 8);
	FUZZ_CHECK(elen == (n + 2) / 3 * 4 && enc[elen] == '\0');
	FUZZ_CHECK(cluster_b64_decode(enc, elen, bin, cap, &got) == 0);
	FUZZ_CHECK(got == n && memcmp(bin, s, n) == 0);
	/* what decodes, encodes to text that decodes the same */
	if (cluster_b64_decode(s, n, bin, cap, &got) == 0) {
		FUZZ_CHECK(got <= n);
		elen = cluster_b64_encode(bin, got, enc, 2 * cap + 8);
		FUZZ_CHECK(elen != 0 || got == 0);
		FUZZ_CHECK(cluster_b64_decode(enc, elen, bin2, cap, &got2) == 0);
		FUZZ_CHECK(got2 == got && memcmp(bin, bin2, got) == 0);
	}
	free(bin);
	free(bin2);
	free(enc);
}

static void
check_kvs(const struct cluster_kvs *kvs)
{
	for (unsigned int i = 0; i < kvs->n; i++) {
		const struct cluster_kv *kv = &kvs->v[i];

		FUZZ_CHECK(kv->type == CLUSTER_KV_PUT || kv->type == CLUSTER_KV_DELETE);
		FUZZ_CHECK(kv->key != NULL && kv->key[kv->key_len] == '\0');
		FUZZ_CHECK(kv->value != NULL && kv->value[kv->value_len] == '\0');
		FUZZ_CHECK(kv->type == CLUSTER_KV_PUT || kv->value_len == 0);
		FUZZ_CHECK(kv->key_len <= CLUSTER_KEY_MAX &&
			   kv->value_len <= CLUSTER_VALUE_MAX);
	}
}

static void
check_answers(uint8_t which, const char *s, size_t n)
{
	struct cluster_kvs kvs = { 0 };
	struct cluster_watch_msg msg;
	int64_t a = 0, b = 0;
	char text[CLUSTER_ERROR_MAX];
	int code = 0, rc;

	switch (which % 6) {
	case 0:
		if (cluster_resp_error(s, n, text, sizeof(text), &code) == 0)
			FUZZ_CHECK(memchr(text, '\0', sizeof(text)) != NULL);
		break;
	case 1:
		rc = cluster_resp_grant(s, n, &a, &b);
		FUZZ_CHECK(rc == 0 || rc == -EPROTO);
		break;
	case 2:
		rc = cluster_resp_keepalive(s, n, &a);
		FUZZ_CHECK(rc == -ENOENT || rc == -EPROTO || rc == -EIO ||
			   (rc == 0 && a > 0));
		break;
	case 3:
		rc = cluster_resp_header(s, n, &a);
		FUZZ_CHECK(rc == 0 || rc == -EPROTO);
		break;
	case 4:
		rc = cluster_resp_range(s, n, &a, &kvs);
		FUZZ_CHECK(rc == 0 || rc == -EPROTO || rc == -ENOMEM);
		if (rc != 0)
			FUZZ_CHECK(kvs.n == 0);
		check_kvs(&kvs);
		cluster_kvs_free(&kvs);
		break;
	case 5:
		memset(&msg, 0, sizeof(msg));
		rc = cluster_resp_watch(s, n, &msg);
		FUZZ_CHECK(rc == 0 || rc == -EPROTO || rc == -ENOMEM);
		if (rc != 0) {
			FUZZ_CHECK(msg.events.n == 0);
			break;
		}
		FUZZ_CHECK(memchr(msg.reason, '\0', sizeof(msg.reason)) != NULL);
		FUZZ_CHECK(msg.kind == CLUSTER_WATCH_EVENTS || msg.events.n == 0);
		check_kvs(&msg.events);
		cluster_watch_msg_free(&msg);
		break;
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *s = (const char *)data + 1;
	size_t n = size - 1;

	if (size < 1)
		return 0;
	switch (data[0] >> 4) {
	case 0:
		check_key(s, n);
		break;
	case 1:
		check_host_value(s, n);
		break;
	case 2:
		check_port_value(s, n);
		break;
	case 3:
		check_b64(s, n);
		break;
	default:
		check_answers(data[0], s, n);
		break;
	}
	return 0;
}
