/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The directory's keys, values and the gateway's JSON (cluster_codec.h).
 * Parsers fill a local copy and hand it out only when all of it checked:
 * a value from another host is never half taken.
 */
#include "cluster_codec.h"

#include <arpa/inet.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

/* --- names and addresses ----------------------------------------------- */

static bool
host_char(char ch)
{
	return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
	       (ch >= '0' && ch <= '9') || ch == '.' || ch == '_' || ch == '-';
}

bool
cluster_host_valid(const char *name, size_t len)
{
	if (len == 0 || len >= CLUSTER_HOST_MAX)
		return false;
	for (size_t i = 0; i < len; i++)
		if (!host_char(name[i]))
			return false;
	return true;
}

bool
cluster_mac_valid(const uint8_t mac[6])
{
	static const uint8_t zero[6];

	return (mac[0] & 1) == 0 && memcmp(mac, zero, 6) != 0;
}

bool
cluster_vtep_valid(const uint8_t vtep[4])
{
	return vtep[0] != 0 && vtep[0] < 224;
}

/* Printable ASCII only: names end up in vtoectl's tables and logs. */
static bool
text_valid(const char *s, size_t len, size_t max)
{
	if (len >= max)
		return false;
	for (size_t i = 0; i < len; i++)
		if (s[i] < 0x20 || s[i] > 0x7e)
			return false;
	return true;
}

static void
mac_format(char out[18], const uint8_t mac[6])
{
	snprintf(out, 18, "%02x:%02x:%02x:%02x:%02x:%02x",
		 mac[0], mac[1], mac[2], mac[3], mac[4], mac[5]);
}

static int
hex_lower(char ch)
{
	if (ch >= '0' && ch <= '9')
		return ch - '0';
	if (ch >= 'a' && ch <= 'f')
		return ch - 'a' + 10;
	return -1;
}

/* Exactly aa:bb:cc:dd:ee:ff, lowercase: one spelling per MAC, so that a
 * (VNI, MAC, host) has one key. */
static int
mac_parse(const char *s, size_t len, uint8_t mac[6])
{
	if (len != 17)
		return -EINVAL;
	for (int i = 0; i < 6; i++) {
		int hi = hex_lower(s[i * 3]), lo = hex_lower(s[i * 3 + 1]);

		if (hi < 0 || lo < 0 || (i < 5 && s[i * 3 + 2] != ':'))
			return -EINVAL;
		mac[i] = (uint8_t)(hi << 4 | lo);
	}
	return 0;
}

/* 1..CLUSTER_VNI_MAX, decimal without leading zeros. */
static int
vni_parse(const char *s, size_t len, uint32_t *vni)
{
	uint32_t v = 0;

	if (len == 0 || len > 8 || s[0] == '0')
		return -EINVAL;
	for (size_t i = 0; i < len; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -EINVAL;
		v = v * 10 + (uint32_t)(s[i] - '0');
	}
	if (v > CLUSTER_VNI_MAX)
		return -EINVAL;
	*vni = v;
	return 0;
}

static int
vtep_format(char out[INET_ADDRSTRLEN], const uint8_t vtep[4])
{
	return inet_ntop(AF_INET, vtep, out, INET_ADDRSTRLEN) ? 0 : -EINVAL;
}

/* --- keys -------------------------------------------------------------- */

static int
key_put(size_t size, int n)
{
	if (n < 0)
		return -EINVAL;
	if ((size_t)n >= size || n >= CLUSTER_KEY_MAX)
		return -ENOSPC;
	return n;
}

int
cluster_key_host(char *buf, size_t size, const char *prefix,
		 const char *host)
{
	if (!cluster_host_valid(host, strlen(host)))
		return -EINVAL;
	return key_put(size, snprintf(buf, size, "%shosts/%s",
					   prefix, host));
}

int
cluster_key_port(char *buf, size_t size, const char *prefix, uint32_t vni,
		 const uint8_t mac[6], const char *host)
{
	char m[18];

	if (vni == 0 || vni > CLUSTER_VNI_MAX || !cluster_mac_valid(mac) ||
	    !cluster_host_valid(host, strlen(host)))
		return -EINVAL;
	mac_format(m, mac);
	return key_put(size, snprintf(buf, size, "%sports/%" PRIu32
					   "/%s/%s", prefix, vni, m, host));
}

int
cluster_key_parse(const char *prefix, const char *key, size_t len,
		  struct cluster_key *out)
{
	size_t plen = strlen(prefix);
	struct cluster_key k = { 0 };
	const char *s, *end, *slash;

	if (len > CLUSTER_KEY_MAX || len < plen || memcmp(key, prefix, plen))
		return -EINVAL;
	s = key + plen;
	end = key + len;
	if ((size_t)(end - s) > 6 && memcmp(s, "hosts/", 6) == 0) {
		s += 6;
		k.kind = CLUSTER_KEY_HOST;
	} else if ((size_t)(end - s) > 6 && memcmp(s, "ports/", 6) == 0) {
		s += 6;
		k.kind = CLUSTER_KEY_PORT;
		slash = memchr(s, '/', (size_t)(end - s));
		if (slash == NULL ||
		    vni_parse(s, (size_t)(slash - s), &k.vni) < 0)
			return -EINVAL;
		s = slash + 1;
		slash = memchr(s, '/', (size_t)(end - s));
		if (slash == NULL ||
		    mac_parse(s, (size_t)(slash - s), k.mac) < 0 ||
		    !cluster_mac_valid(k.mac))
			return -EINVAL;
		s = slash + 1;
	} else {
		return -EINVAL;
	}
	/* the rest is the host, with no '/' (not in the charset) */
	if (!cluster_host_valid(s, (size_t)(end - s)))
		return -EINVAL;
	memcpy(k.host, s, (size_t)(end - s));
	*out = k;
	return 0;
}

int
cluster_prefix_end(char *buf, size_t size, const char *prefix)
{
	size_t n = strlen(prefix);

	if (n == 0 || n >= size)
		return -EINVAL;
	memcpy(buf, prefix, n + 1);
	while (n > 0) {
		if ((unsigned char)buf[n - 1] < 0xff) {
			buf[n - 1]++;
			buf[n] = '\0';
			return 0;
		}
		n--;
	}
	return -EINVAL;
}

/* --- values ------------------------------------------------------------ */

static char *
dump(json_t *j)
{
	char *s;

	if (j == NULL) {
		errno = ENOMEM;
		return NULL;
	}
	s = json_dumps(j, JSON_COMPACT);
	json_decref(j);
	if (s == NULL)
		errno = ENOMEM;
	return s;
}

char *
cluster_value_host(const char *host, const uint8_t vtep[4],
		   const char *version)
{
	char v[INET_ADDRSTRLEN];

	if (!cluster_host_valid(host, strlen(host)) ||
	    !cluster_vtep_valid(vtep) || vtep_format(v, vtep) < 0 ||
	    !text_valid(version, strlen(version), CLUSTER_VERSION_MAX)) {
		errno = EINVAL;
		return NULL;
	}
	return dump(json_pack("{s:s, s:s, s:s}", "host", host, "vtep", v,
			      "version", version));
}

char *
cluster_value_port(const char *host, const uint8_t vtep[4],
		   const struct cluster_port *p)
{
	size_t plen = strnlen(p->port, sizeof(p->port));
	char v[INET_ADDRSTRLEN], m[18], a[INET6_ADDRSTRLEN];
	json_t *ips, *j;

	if (!cluster_host_valid(host, strlen(host)) ||
	    !cluster_vtep_valid(vtep) || vtep_format(v, vtep) < 0 ||
	    p->vni == 0 || p->vni > CLUSTER_VNI_MAX ||
	    !cluster_mac_valid(p->mac) ||
	    !text_valid(p->port, plen, sizeof(p->port)) ||
	    p->n_ips > CLUSTER_IPS_MAX) {
		errno = EINVAL;
		return NULL;
	}
	ips = json_array();
	if (ips == NULL) {
		errno = ENOMEM;
		return NULL;
	}
	for (unsigned int i = 0; i < p->n_ips; i++) {
		int af = p->ips[i].family == 4 ? AF_INET :
			 p->ips[i].family == 6 ? AF_INET6 : -1;

		if (af < 0 ||
		    inet_ntop(af, p->ips[i].addr, a, sizeof(a)) == NULL) {
			json_decref(ips);
			errno = EINVAL;
			return NULL;
		}
		if (json_array_append_new(ips, json_string(a)) < 0) {
			json_decref(ips);
			errno = ENOMEM;
			return NULL;
		}
	}
	mac_format(m, p->mac);
	j = json_pack("{s:s, s:s, s:I, s:s, s:s%, s:o}", "host", host,
		      "vtep", v, "vni", (json_int_t)p->vni, "mac", m,
		      "port", p->port, plen, "ips", ips);
	return dump(j);
}

/* A JSON string field that must be there: its text, NUL-free. */
static const char *
str_field(const json_t *o, const char *name, size_t *len)
{
	const json_t *j = json_object_get(o, name);
	const char *s;

	if (!json_is_string(j))
		return NULL;
	s = json_string_value(j);
	*len = json_string_length(j);
	return strlen(s) == *len ? s : NULL;
}

static json_t *
value_load(const char *json, size_t len)
{
	json_t *o;

	if (len == 0 || len > CLUSTER_VALUE_MAX)
		return NULL;
	o = json_loadb(json, len, JSON_REJECT_DUPLICATES, NULL);
	if (o != NULL && !json_is_object(o)) {
		json_decref(o);
		return NULL;
	}
	return o;
}

static int
vtep_field(const json_t *o, uint8_t vtep[4])
{
	size_t len;
	const char *s = str_field(o, "vtep", &len);

	if (s == NULL || len >= INET_ADDRSTRLEN ||
	    inet_pton(AF_INET, s, vtep) != 1 || !cluster_vtep_valid(vtep))
		return -EINVAL;
	return 0;
}

static int
host_field(const json_t *o, char host[CLUSTER_HOST_MAX])
{
	size_t len;
	const char *s = str_field(o, "host", &len);

	if (s == NULL || !cluster_host_valid(s, len))
		return -EINVAL;
	memcpy(host, s, len);
	host[len] = '\0';
	return 0;
}

int
cluster_value_host_parse(const char *json, size_t len,
			 struct cluster_host *out)
{
	struct cluster_host h = { 0 };
	json_t *o = value_load(json, len), *ver;
	int rc = -EINVAL;

	if (o == NULL)
		return -EINVAL;
	if (host_field(o, h.name) < 0 || vtep_field(o, h.vtep) < 0)
		goto out;
	ver = json_object_get(o, "version");
	if (ver != NULL && (!json_is_string(ver) ||
			    !text_valid(json_string_value(ver),
					json_string_length(ver),
					CLUSTER_VERSION_MAX)))
		goto out;
	*out = h;
	rc = 0;
out:
	json_decref(o);
	return rc;
}

static int
ip_parse(const json_t *j, struct cluster_ip *ip)
{
	const char *s = json_string_value(j);
	size_t len = json_string_length(j);

	if (s == NULL || len >= INET6_ADDRSTRLEN || strlen(s) != len)
		return -EINVAL;
	memset(ip, 0, sizeof(*ip));
	if (inet_pton(AF_INET, s, ip->addr) == 1) {
		ip->family = 4;
		return 0;
	}
	if (inet_pton(AF_INET6, s, ip->addr) == 1) {
		ip->family = 6;
		return 0;
	}
	return -EINVAL;
}

int
cluster_value_port_parse(const char *json, size_t len,
			 struct cluster_remote *out)
{
	struct cluster_remote r = { 0 };
	json_t *o = value_load(json, len), *vni, *ips;
	const char *s;
	size_t n;
	int rc = -EINVAL;

	if (o == NULL)
		return -EINVAL;
	if (host_field(o, r.host) < 0 || vtep_field(o, r.vtep) < 0)
		goto out;
	vni = json_object_get(o, "vni");
	if (!json_is_integer(vni) || json_integer_value(vni) < 1 ||
	    json_integer_value(vni) > CLUSTER_VNI_MAX)
		goto out;
	r.vni = (uint32_t)json_integer_value(vni);
	s = str_field(o, "mac", &n);
	if (s == NULL || mac_parse(s, n, r.mac) < 0 ||
	    !cluster_mac_valid(r.mac))
		goto out;
	s = str_field(o, "port", &n);
	if (s == NULL || !text_valid(s, n, sizeof(r.port)))
		goto out;
	memcpy(r.port, s, n);
	ips = json_object_get(o, "ips");
	if (ips != NULL) {
		if (!json_is_array(ips) ||
		    json_array_size(ips) > CLUSTER_IPS_MAX)
			goto out;
		for (size_t i = 0; i < json_array_size(ips); i++)
			if (ip_parse(json_array_get(ips, i), &r.ips[i]) < 0)
				goto out;
		r.n_ips = (uint8_t)json_array_size(ips);
	}
	*out = r;
	rc = 0;
out:
	json_decref(o);
	return rc;
}

/* --- base64 ------------------------------------------------------------ */

static const char b64_alphabet[] =
	"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

size_t
cluster_b64_encode(const void *in, size_t n, char *out, size_t size)
{
	const uint8_t *p = in;
	size_t need = (n + 2) / 3 * 4, o = 0;

	if (size <= need)
		return 0;
	for (size_t i = 0; i < n; i += 3) {
		uint32_t v = (uint32_t)p[i] << 16;

		if (i + 1 < n)
			v |= (uint32_t)p[i + 1] << 8;
		if (i + 2 < n)
			v |= p[i + 2];
		out[o++] = b64_alphabet[v >> 18 & 63];
		out[o++] = b64_alphabet[v >> 12 & 63];
		out[o++] = i + 1 < n ? b64_alphabet[v >> 6 & 63] : '=';
		out[o++] = i + 2 < n ? b64_alphabet[v & 63] : '=';
	}
	out[o] = '\0';
	return o;
}

static int
b64_value(char ch)
{
	if (ch >= 'A' && ch <= 'Z')
		return ch - 'A';
	if (ch >= 'a' && ch <= 'z')
		return ch - 'a' + 26;
	if (ch >= '0' && ch <= '9')
		return ch - '0' + 52;
	if (ch == '+')
		return 62;
	if (ch == '/')
		return 63;
	return -1;
}

int
cluster_b64_decode(const char *in, size_t n, void *out, size_t size,
		   size_t *n_out)
{
	uint8_t *p = out;
	size_t o = 0, pad = 0;
	uint32_t acc = 0;
	unsigned int bits = 0;

	/* padding: the last one or two characters, a multiple of 4 then */
	while (pad < 2 && n > pad && in[n - 1 - pad] == '=')
		pad++;
	if (pad > 0 && n % 4 != 0)
		return -EINVAL;
	n -= pad;
	if (n % 4 == 1)
		return -EINVAL;
	for (size_t i = 0; i < n; i++) {
		int v = b64_value(in[i]);

		if (v < 0)
			return -EINVAL;
		acc = acc << 6 | (uint32_t)v;
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			if (o >= size)
				return -ENOSPC;
			p[o++] = (uint8_t)(acc >> bits);
			acc &= (1u << bits) - 1;
		}
	}
	*n_out = o;
	return 0;
}

/* --- requests ---------------------------------------------------------- */

static json_t *
b64_json(const char *s)
{
	size_t n = strlen(s), size = (n + 2) / 3 * 4 + 1;
	char *b = malloc(size);
	json_t *j;

	if (b == NULL)
		return NULL;
	cluster_b64_encode(s, n, b, size);
	j = json_string(b);
	free(b);
	return j;
}

static json_t *
i64_json(int64_t v)
{
	char s[24];

	/* int64 as a string, as the gateway writes them: no double on
	 * the way */
	snprintf(s, sizeof(s), "%" PRId64, v);
	return json_string(s);
}

char *
cluster_req_grant(uint32_t ttl_s)
{
	return dump(json_pack("{s:I}", "TTL", (json_int_t)ttl_s));
}

char *
cluster_req_lease(int64_t lease)
{
	return dump(json_pack("{s:o}", "ID", i64_json(lease)));
}

char *
cluster_req_put(const char *key, const char *value, int64_t lease)
{
	json_t *j = json_pack("{s:o, s:o}", "key", b64_json(key),
			      "value", b64_json(value));

	if (j != NULL && lease != 0 &&
	    json_object_set_new(j, "lease", i64_json(lease)) < 0) {
		json_decref(j);
		j = NULL;
	}
	return dump(j);
}

char *
cluster_req_delete(const char *key)
{
	return dump(json_pack("{s:o}", "key", b64_json(key)));
}

char *
cluster_req_range(const char *prefix)
{
	char end[CLUSTER_KEY_MAX];

	if (cluster_prefix_end(end, sizeof(end), prefix) < 0) {
		errno = EINVAL;
		return NULL;
	}
	return dump(json_pack("{s:o, s:o}", "key", b64_json(prefix),
			      "range_end", b64_json(end)));
}

char *
cluster_req_watch(const char *prefix, int64_t start_revision)
{
	char end[CLUSTER_KEY_MAX];

	if (cluster_prefix_end(end, sizeof(end), prefix) < 0) {
		errno = EINVAL;
		return NULL;
	}
	/* progress_notify: a member that still talks says so even when
	 * nothing changes (if it is configured to) */
	return dump(json_pack("{s:{s:o, s:o, s:o, s:b}}", "create_request",
			      "key", b64_json(prefix),
			      "range_end", b64_json(end),
			      "start_revision", i64_json(start_revision),
			      "progress_notify", 1));
}

/* --- answers ----------------------------------------------------------- */

static json_t *
body_load(const char *body, size_t len)
{
	json_t *o = json_loadb(body, len, 0, NULL);

	if (o != NULL && !json_is_object(o)) {
		json_decref(o);
		return NULL;
	}
	return o;
}

/* An int64 field: a decimal string (the gateway's way) or a JSON
 * integer; absent is 0 (proto3 leaves defaults out). */
static int
i64_field(const json_t *o, const char *name, int64_t *v)
{
	const json_t *j = json_object_get(o, name);
	const char *s;
	char *end;
	long long x;

	if (j == NULL) {
		*v = 0;
		return 0;
	}
	if (json_is_integer(j)) {
		*v = json_integer_value(j);
		return 0;
	}
	if (!json_is_string(j))
		return -EPROTO;
	s = json_string_value(j);
	if (*s == '\0' || strlen(s) != json_string_length(j))
		return -EPROTO;
	errno = 0;
	x = strtoll(s, &end, 10);
	if (errno != 0 || *end != '\0')
		return -EPROTO;
	*v = x;
	return 0;
}

static int
header_revision(const json_t *o, int64_t *rev)
{
	const json_t *h = json_object_get(o, "header");

	if (h == NULL) {
		*rev = 0;
		return 0;
	}
	if (!json_is_object(h))
		return -EPROTO;
	return i64_field(h, "revision", rev);
}

static void
copy_text(char *dst, size_t size, const char *src)
{
	snprintf(dst, size, "%s", src != NULL ? src : "");
}

int
cluster_resp_error(const char *body, size_t len, char *msg, size_t size,
		   int *code)
{
	json_t *o = body_load(body, len), *e, *m;
	int64_t c = 0;
	int rc = -EINVAL;

	if (o == NULL)
		return -EINVAL;
	e = json_object_get(o, "error");
	if (json_is_string(e)) {
		/* unary: {"error":"..","message":"..","code":N} */
		m = json_object_get(o, "message");
		copy_text(msg, size, json_is_string(m) ? json_string_value(m) :
				     json_string_value(e));
		if (i64_field(o, "code", &c) == 0)
			rc = 0;
	} else if (json_is_object(e)) {
		/* stream: {"error":{"grpc_code":N,"message":".."}} */
		m = json_object_get(e, "message");
		copy_text(msg, size, json_string_value(m));
		if (i64_field(e, "grpc_code", &c) == 0)
			rc = 0;
	}
	if (rc == 0)
		*code = (int)c;
	json_decref(o);
	return rc;
}

int
cluster_resp_grant(const char *body, size_t len, int64_t *lease,
		   int64_t *ttl)
{
	json_t *o = body_load(body, len);
	int64_t id, t;
	int rc = -EPROTO;

	if (o == NULL)
		return -EPROTO;
	if (json_object_get(o, "error") == NULL &&
	    i64_field(o, "ID", &id) == 0 && i64_field(o, "TTL", &t) == 0 &&
	    id != 0 && t > 0) {
		*lease = id;
		*ttl = t;
		rc = 0;
	}
	json_decref(o);
	return rc;
}

int
cluster_resp_keepalive(const char *body, size_t len, int64_t *ttl)
{
	json_t *o = body_load(body, len), *r;
	char msg[CLUSTER_REASON_MAX];
	int64_t t;
	int code, rc = -EPROTO;

	if (o == NULL)
		return -EPROTO;
	r = json_object_get(o, "result");
	if (json_is_object(r)) {
		/* a lease that is gone comes back without TTL */
		if (i64_field(r, "TTL", &t) == 0) {
			rc = t > 0 ? 0 : -ENOENT;
			*ttl = t;
		}
	} else if (cluster_resp_error(body, len, msg, sizeof(msg),
				      &code) == 0) {
		/* NotFound says the lease is gone; anything else (no
		 * leader, ...) is the member's trouble, not the lease's */
		rc = code == 5 ? -ENOENT : -EIO;
	}
	json_decref(o);
	return rc;
}

int
cluster_resp_header(const char *body, size_t len, int64_t *revision)
{
	json_t *o = body_load(body, len);
	int rc = -EPROTO;

	if (o == NULL)
		return -EPROTO;
	if (json_object_get(o, "error") == NULL &&
	    json_is_object(json_object_get(o, "header")) &&
	    header_revision(o, revision) == 0)
		rc = 0;
	json_decref(o);
	return rc;
}

void
cluster_kvs_free(struct cluster_kvs *kvs)
{
	for (unsigned int i = 0; i < kvs->n; i++) {
		free(kvs->v[i].key);
		free(kvs->v[i].value);
	}
	free(kvs->v);
	kvs->v = NULL;
	kvs->n = 0;
}

/* A base64 string field, decoded and NUL-terminated; absent is "". */
static int
b64_field(const json_t *o, const char *name, bool required, char **out,
	  size_t *n_out)
{
	const json_t *j = json_object_get(o, name);
	const char *s = "";
	size_t n = 0, size;
	char *buf;

	if (j == NULL && required)
		return -EPROTO;
	if (j != NULL) {
		if (!json_is_string(j))
			return -EPROTO;
		s = json_string_value(j);
		n = json_string_length(j);
	}
	size = n / 4 * 3 + 3;
	buf = malloc(size + 1);
	if (buf == NULL)
		return -ENOMEM;
	if (cluster_b64_decode(s, n, buf, size, n_out) < 0) {
		free(buf);
		return -EPROTO;
	}
	buf[*n_out] = '\0';
	*out = buf;
	return 0;
}

static int
kv_parse(const json_t *kv, enum cluster_kv_type type, struct cluster_kv *out)
{
	struct cluster_kv k = { .type = type };
	int rc;

	if (!json_is_object(kv))
		return -EPROTO;
	rc = i64_field(kv, "mod_revision", &k.mod_revision);
	if (rc == 0)
		rc = i64_field(kv, "lease", &k.lease);
	if (rc == 0)
		rc = b64_field(kv, "key", true, &k.key, &k.key_len);
	if (rc == 0) {
		rc = b64_field(kv, "value", false, &k.value, &k.value_len);
		if (rc < 0)
			free(k.key);
	}
	if (rc == 0)
		*out = k;
	return rc;
}

/* An event's type: "PUT" is the default, so usually absent. */
static int
event_type(const json_t *e, enum cluster_kv_type *type)
{
	const json_t *t = json_is_object(e) ? json_object_get(e, "type") : NULL;
	const char *s = json_string_value(t);

	if (!json_is_object(e) || (t != NULL && s == NULL))
		return -EPROTO;
	if (t == NULL || strcmp(s, "PUT") == 0)
		*type = CLUSTER_KV_PUT;
	else if (strcmp(s, "DELETE") == 0)
		*type = CLUSTER_KV_DELETE;
	else
		return -EPROTO;
	return 0;
}

/* Every element of arr (kvs of a range, or events of a watch), or none. */
static int
kvs_parse(const json_t *arr, bool events, struct cluster_kvs *kvs)
{
	size_t n = json_array_size(arr);
	int rc = 0;

	kvs->v = NULL;
	kvs->n = 0;
	if (arr == NULL)
		return 0;
	if (!json_is_array(arr))
		return -EPROTO;
	if (n == 0)
		return 0;
	if (n > UINT32_MAX)
		return -EPROTO;
	kvs->v = calloc(n, sizeof(*kvs->v));
	if (kvs->v == NULL)
		return -ENOMEM;
	for (size_t i = 0; i < n && rc == 0; i++) {
		const json_t *kv = json_array_get(arr, i);
		enum cluster_kv_type type = CLUSTER_KV_PUT;

		if (events) {
			rc = event_type(kv, &type);
			kv = json_object_get(kv, "kv");
		}
		if (rc == 0)
			rc = kv_parse(kv, type, &kvs->v[i]);
		if (rc == 0)
			kvs->n++;
	}
	if (rc < 0)
		cluster_kvs_free(kvs);
	return rc;
}

int
cluster_resp_range(const char *body, size_t len, int64_t *revision,
		   struct cluster_kvs *kvs)
{
	json_t *o = body_load(body, len);
	int64_t rev;
	int rc = -EPROTO;

	if (o == NULL)
		return -EPROTO;
	if (json_object_get(o, "error") == NULL &&
	    json_is_object(json_object_get(o, "header")) &&
	    header_revision(o, &rev) == 0 && rev > 0) {
		rc = kvs_parse(json_object_get(o, "kvs"), false, kvs);
		if (rc == 0)
			*revision = rev;
	}
	json_decref(o);
	return rc;
}

static bool
bool_field(const json_t *o, const char *name)
{
	return json_is_true(json_object_get(o, name));
}

int
cluster_resp_watch(const char *line, size_t len, struct cluster_watch_msg *msg)
{
	json_t *o = body_load(line, len), *r, *reason;
	int code, rc = -EPROTO;

	memset(msg, 0, sizeof(*msg));
	if (o == NULL)
		return -EPROTO;
	r = json_object_get(o, "result");
	if (r == NULL) {
		if (cluster_resp_error(line, len, msg->reason,
				       sizeof(msg->reason), &code) == 0) {
			msg->kind = CLUSTER_WATCH_ERROR;
			rc = 0;
		}
		goto out;
	}
	if (!json_is_object(r) || header_revision(r, &msg->revision) < 0 ||
	    i64_field(r, "compact_revision", &msg->compact_revision) < 0)
		goto out;
	if (bool_field(r, "canceled")) {
		msg->kind = msg->compact_revision > 0 ?
			    CLUSTER_WATCH_COMPACTED : CLUSTER_WATCH_CANCELED;
		reason = json_object_get(r, "cancel_reason");
		copy_text(msg->reason, sizeof(msg->reason),
			  json_is_string(reason) ? json_string_value(reason) :
			  msg->compact_revision > 0 ? "compacted" : "canceled");
		rc = 0;
	} else if (bool_field(r, "created")) {
		msg->kind = CLUSTER_WATCH_CREATED;
		rc = 0;
	} else if (json_object_get(r, "events") != NULL) {
		msg->kind = CLUSTER_WATCH_EVENTS;
		rc = kvs_parse(json_object_get(r, "events"), true,
			       &msg->events);
	} else {
		msg->kind = CLUSTER_WATCH_PROGRESS;
		rc = 0;
	}
out:
	json_decref(o);
	return rc;
}

void
cluster_watch_msg_free(struct cluster_watch_msg *msg)
{
	cluster_kvs_free(&msg->events);
}
