/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The directory's bytes without a network: keys (canonical, refused
 * when not), JSON values (round trip, every hostile shape refused and
 * the output left untouched), base64 (RFC 4648 vectors), the request
 * bodies read back, and answers exactly as a real etcd 3.4 gateway sent
 * them (captured with curl): grant, keepalive of a live and of a revoked
 * lease, put, range, errors, and a watch stream with its created,
 * events, progress, compaction and end-of-stream error messages.
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
#include <jansson.h>

#include "cluster/cluster_codec.h"

#define LEN(s) (sizeof(s) - 1)
/* a literal and its length */
#define T(s) s, LEN(s)

static const uint8_t MAC_1[6] = { 0x52, 0x54, 0x00, 0x00, 0x01, 0x01 };

/* ------------------------------------------------ captured from etcd 3.4 */

#define HDR(rev) "{\"cluster_id\":\"15118495548433857066\"," \
	"\"member_id\":\"13668033151171901709\",\"revision\":\"" rev "\"," \
	"\"raft_term\":\"2\"}"

static const char GRANT[] =
	"{\"header\":" HDR("1") ",\"ID\":\"4111120478005524997\",\"TTL\":\"5\"}";
static const char KEEPALIVE_ALIVE[] =
	"{\"result\":{\"header\":" HDR("1") ",\"ID\":\"4111120478005524997\","
	"\"TTL\":\"5\"}}";
/* after a revoke: the lease is named, its TTL left out */
static const char KEEPALIVE_GONE[] =
	"{\"result\":{\"header\":" HDR("5") ",\"ID\":\"4111120478140055045\"}}";
static const char PUT_OK[] = "{\"header\":" HDR("2") "}";
static const char DELETE_OK[] = "{\"header\":" HDR("4") ",\"deleted\":\"1\"}";
static const char ERR_LEASE[] =
	"{\"error\":\"etcdserver: requested lease not found\","
	"\"message\":\"etcdserver: requested lease not found\",\"code\":5}";
static const char ERR_BADJSON[] =
	"{\"error\":\"invalid character 'b' looking for beginning of object "
	"key string\",\"message\":\"invalid character 'b' looking for "
	"beginning of object key string\",\"code\":3}";
static const char RANGE[] =
	"{\"header\":" HDR("3") ",\"kvs\":[{\"key\":\"L3Z0b2UvaG9zdHMvaHYtYg==\","
	"\"create_revision\":\"2\",\"mod_revision\":\"2\",\"version\":\"1\","
	"\"value\":\"eyJob3N0IjoiaHYtYiIsInZ0ZXAiOiIxMC4wLjAuMiIsInZlcnNpb24iOiIwLjEuMCJ9\","
	"\"lease\":\"4111120478140055045\"},{\"key\":"
	"\"L3Z0b2UvcG9ydHMvNTAwMC81Mjo1NDowMDowMDowMTowMS9odi1i\","
	"\"create_revision\":\"3\",\"mod_revision\":\"3\",\"version\":\"1\","
	"\"value\":\"eyJob3N0IjoiaHYtYiIsInZ0ZXAiOiIxMC4wLjAuMiIsInZuaSI6NTAwMCwibWFjIjoiNTI6NTQ6MDA6MDA6MDE6MDEiLCJwb3J0Ijoidm0xLjAiLCJpcHMiOlsiMTAuMS4wLjUiLCJmZDAwOjo1Il19\","
	"\"lease\":\"4111120478140055045\"}],\"count\":\"2\"}";
static const char RANGE_EMPTY[] = "{\"header\":" HDR("2") "}";
static const char W_CREATED[] =
	"{\"result\":{\"header\":" HDR("1") ",\"created\":true}}";
static const char W_PUT[] =
	"{\"result\":{\"header\":" HDR("3") ",\"events\":[{\"kv\":{\"key\":"
	"\"L3Z0b2UvcG9ydHMvNTAwMC81Mjo1NDowMDowMDowMTowMS9odi1i\","
	"\"create_revision\":\"3\",\"mod_revision\":\"3\",\"version\":\"1\","
	"\"value\":\"eyJob3N0IjoiaHYtYiIsInZ0ZXAiOiIxMC4wLjAuMiIsInZuaSI6NTAwMCwibWFjIjoiNTI6NTQ6MDA6MDA6MDE6MDEiLCJwb3J0Ijoidm0xLjAiLCJpcHMiOlsiMTAuMS4wLjUiLCJmZDAwOjo1Il19\","
	"\"lease\":\"4111120478140055045\"}}]}}";
static const char W_DELETE[] =
	"{\"result\":{\"header\":" HDR("4") ",\"events\":[{\"type\":\"DELETE\","
	"\"kv\":{\"key\":\"L3Z0b2UvcG9ydHMvNTAwMC81Mjo1NDowMDowMDowMTowMS9odi1i\","
	"\"mod_revision\":\"4\"}}]}}";
/* two events in one message (a put then its delete, replayed) */
static const char W_TWO[] =
	"{\"result\":{\"header\":" HDR("3") ",\"events\":[{\"kv\":{\"key\":"
	"\"L3Z0b2UvaG9zdHMvYQ==\",\"create_revision\":\"2\",\"mod_revision\":\"2\","
	"\"version\":\"1\",\"value\":\"eyJob3N0IjoiYSJ9\",\"lease\":"
	"\"4111120478005524997\"}},{\"type\":\"DELETE\",\"kv\":{\"key\":"
	"\"L3Z0b2UvaG9zdHMvYQ==\",\"mod_revision\":\"3\"}}]}}";
static const char W_PROGRESS[] = "{\"result\":{\"header\":" HDR("7") "}}";
static const char W_COMPACTED[] =
	"{\"result\":{\"header\":{\"cluster_id\":\"15118495548433857066\","
	"\"member_id\":\"13668033151171901709\",\"raft_term\":\"2\"},"
	"\"canceled\":true,\"compact_revision\":\"5\"}}";
static const char W_ERROR[] =
	"{\"error\":{\"grpc_code\":14,\"http_code\":503,\"message\":"
	"\"transport is closing\",\"http_status\":\"Service Unavailable\"}}";

/* -------------------------------------------------------------- helpers */

static int
parse_port(const char *json, struct cluster_remote *r)
{
	return cluster_value_port_parse(json, strlen(json), r);
}

/* A refused value leaves the output as it was. */
static void
assert_port_refused(const char *json)
{
	struct cluster_remote r, before;

	memset(&r, 0xa5, sizeof(r));
	before = r;
	if (parse_port(json, &r) != -EINVAL)
		fail_msg("accepted: %s", json);
	assert_memory_equal(&r, &before, sizeof(r));
}

static void
assert_key_refused(const char *key)
{
	struct cluster_key k, before;

	memset(&k, 0x5a, sizeof(k));
	before = k;
	if (cluster_key_parse("/vtoe/", key, strlen(key), &k) != -EINVAL)
		fail_msg("accepted: %s", key);
	assert_memory_equal(&k, &before, sizeof(k));
}

/* A string field of a JSON body, base64-decoded. */
static void
assert_b64_field(const json_t *o, const char *name, const char *want)
{
	const char *s = json_string_value(json_object_get(o, name));
	char buf[512];
	size_t n;

	assert_non_null(s);
	assert_int_equal(cluster_b64_decode(s, strlen(s), buf, sizeof(buf) - 1,
					    &n), 0);
	buf[n] = '\0';
	assert_string_equal(buf, want);
}

/* ---------------------------------------------------------------- keys */

static void
test_keys(void **state)
{
	char buf[CLUSTER_KEY_MAX];
	struct cluster_key k;
	uint8_t m[6] = { 0xaa, 0xbb, 0xcc, 0xdd, 0xee, 0xf0 };

	(void)state;
	assert_int_equal(cluster_key_host(buf, sizeof(buf), "/vtoe/", "hv-a"),
			 (int)strlen("/vtoe/hosts/hv-a"));
	assert_string_equal(buf, "/vtoe/hosts/hv-a");
	assert_int_equal(cluster_key_parse("/vtoe/", buf, strlen(buf), &k), 0);
	assert_int_equal(k.kind, CLUSTER_KEY_HOST);
	assert_string_equal(k.host, "hv-a");

	assert_true(cluster_key_port(buf, sizeof(buf), "/vtoe/", 16777215, m,
				     "hv_B.2") > 0);
	assert_string_equal(buf, "/vtoe/ports/16777215/aa:bb:cc:dd:ee:f0/hv_B.2");
	assert_int_equal(cluster_key_parse("/vtoe/", buf, strlen(buf), &k), 0);
	assert_int_equal(k.kind, CLUSTER_KEY_PORT);
	assert_int_equal(k.vni, 16777215);
	assert_memory_equal(k.mac, m, 6);
	assert_string_equal(k.host, "hv_B.2");

	/* what we would not write */
	assert_int_equal(cluster_key_port(buf, sizeof(buf), "/vtoe/", 0, m, "a"),
			 -EINVAL);
	assert_int_equal(cluster_key_port(buf, sizeof(buf), "/vtoe/", 16777216,
					  m, "a"), -EINVAL);
	m[0] = 0x01;
	assert_int_equal(cluster_key_port(buf, sizeof(buf), "/vtoe/", 5, m, "a"),
			 -EINVAL);
	assert_int_equal(cluster_key_host(buf, sizeof(buf), "/vtoe/", "a b"),
			 -EINVAL);
	assert_int_equal(cluster_key_host(buf, 10, "/vtoe/", "hv-a"), -ENOSPC);

	/* what another host may have written */
	assert_key_refused("/vtoe/ports/5/AA:BB:CC:DD:EE:F0/a");    /* case */
	assert_key_refused("/vtoe/ports/05/aa:bb:cc:dd:ee:f0/a");   /* 0-led */
	assert_key_refused("/vtoe/ports/0/aa:bb:cc:dd:ee:f0/a");
	assert_key_refused("/vtoe/ports/16777216/aa:bb:cc:dd:ee:f0/a");
	assert_key_refused("/vtoe/ports/-5/aa:bb:cc:dd:ee:f0/a");
	assert_key_refused("/vtoe/ports/5/01:bb:cc:dd:ee:f0/a");    /* group */
	assert_key_refused("/vtoe/ports/5/ff:ff:ff:ff:ff:ff/a");
	assert_key_refused("/vtoe/ports/5/00:00:00:00:00:00/a");    /* zero */
	assert_key_refused("/vtoe/ports/5/aa:bb:cc:dd:ee/a");
	assert_key_refused("/vtoe/ports/5/aa-bb-cc-dd-ee-f0/a");
	assert_key_refused("/vtoe/ports/5/aa:bb:cc:dd:ee:f0/");
	assert_key_refused("/vtoe/ports/5/aa:bb:cc:dd:ee:f0");
	assert_key_refused("/vtoe/ports/5/aa:bb:cc:dd:ee:f0/a/b");  /* extra */
	assert_key_refused("/vtoe/ports/5/aa:bb:cc:dd:ee:f0/a b");
	assert_key_refused("/vtoe/ports/5/aa:bb:cc:dd:ee:f0/h\xc3\xa9");
	assert_key_refused("/vtoe/hosts/");
	assert_key_refused("/vtoe/hosts/a/b");
	assert_key_refused("/vtoe/hosts/a;rm");
	assert_key_refused("/vtoe/config/x");
	assert_key_refused("/vtoe/");
	assert_key_refused("/other/hosts/a");
	assert_key_refused("/vto");
	/* 63 characters is the longest name */
	char longname[80];

	memset(longname, 'x', sizeof(longname));
	snprintf(buf, sizeof(buf), "/vtoe/hosts/%.63s", longname);
	assert_int_equal(cluster_key_parse("/vtoe/", buf, strlen(buf), &k), 0);
	snprintf(buf, sizeof(buf), "/vtoe/hosts/%.64s", longname);
	assert_key_refused(buf);
	/* a NUL inside: the length is what counts */
	assert_int_equal(cluster_key_parse("/vtoe/", "/vtoe/hosts/a\0b", 15, &k),
			 -EINVAL);
	/* far too long */
	char huge[CLUSTER_KEY_MAX + 20];

	memset(huge, 'a', sizeof(huge));
	memcpy(huge, "/vtoe/hosts/", 12);
	assert_int_equal(cluster_key_parse("/vtoe/", huge, sizeof(huge), &k),
			 -EINVAL);

	assert_int_equal(cluster_prefix_end(buf, sizeof(buf), "/vtoe/"), 0);
	assert_string_equal(buf, "/vtoe0");
	assert_int_equal(cluster_prefix_end(buf, sizeof(buf), "a\xff"), 0);
	assert_string_equal(buf, "b");
	assert_int_equal(cluster_prefix_end(buf, sizeof(buf), ""), -EINVAL);
}

/* -------------------------------------------------------------- values */

static void
test_values_round_trip(void **state)
{
	const uint8_t vtep[4] = { 10, 0, 0, 1 };
	struct cluster_port p = { .vni = 5000, .n_ips = 2 };
	struct cluster_remote r;
	struct cluster_host h;
	char *v;

	(void)state;
	memcpy(p.mac, MAC_1, 6);
	strcpy(p.port, "vm1.0");
	p.ips[0] = (struct cluster_ip){ .family = 4, .addr = { 10, 1, 0, 5 } };
	p.ips[1] = (struct cluster_ip){ .family = 6,
					.addr = { 0xfd, [15] = 5 } };
	v = cluster_value_port("hv-a", vtep, &p);
	assert_non_null(v);
	assert_string_equal(v, "{\"host\":\"hv-a\",\"vtep\":\"10.0.0.1\","
			    "\"vni\":5000,\"mac\":\"52:54:00:00:01:01\","
			    "\"port\":\"vm1.0\",\"ips\":[\"10.1.0.5\",\"fd00::5\"]}");
	assert_int_equal(parse_port(v, &r), 0);
	free(v);
	assert_string_equal(r.host, "hv-a");
	assert_memory_equal(r.vtep, vtep, 4);
	assert_int_equal(r.vni, 5000);
	assert_memory_equal(r.mac, MAC_1, 6);
	assert_string_equal(r.port, "vm1.0");
	assert_int_equal(r.n_ips, 2);
	assert_memory_equal(&r.ips[0], &p.ips[0], sizeof(p.ips[0]));
	assert_memory_equal(&r.ips[1], &p.ips[1], sizeof(p.ips[1]));
	assert_int_equal(r.revision, 0);

	v = cluster_value_host("hv-a", vtep, "0.1.0");
	assert_non_null(v);
	assert_string_equal(v, "{\"host\":\"hv-a\",\"vtep\":\"10.0.0.1\","
			    "\"version\":\"0.1.0\"}");
	assert_int_equal(cluster_value_host_parse(v, strlen(v), &h), 0);
	free(v);
	assert_string_equal(h.name, "hv-a");
	assert_memory_equal(h.vtep, vtep, 4);

	/* no ips, unknown fields: fine (a newer vtoe may add some) */
	assert_int_equal(parse_port("{\"host\":\"b\",\"vtep\":\"10.0.0.2\","
				    "\"vni\":1,\"mac\":\"52:54:00:00:01:01\","
				    "\"port\":\"\",\"mtu\":9000}", &r), 0);
	assert_int_equal(r.n_ips, 0);
	assert_int_equal(cluster_value_host_parse(T("{\"host\":\"b\",\"vtep\":"
						  "\"10.0.0.2\"}"), &h), 0);

	/* what we refuse to publish */
	p.vni = 0;
	assert_null(cluster_value_port("hv-a", vtep, &p));
	assert_int_equal(errno, EINVAL);
	p.vni = 1;
	p.n_ips = CLUSTER_IPS_MAX + 1;
	assert_null(cluster_value_port("hv-a", vtep, &p));
	p.n_ips = 1;
	p.ips[0].family = 5;
	assert_null(cluster_value_port("hv-a", vtep, &p));
	p.ips[0].family = 4;
	p.port[0] = '\n';
	assert_null(cluster_value_port("hv-a", vtep, &p));
	p.port[0] = 'v';
	assert_null(cluster_value_port("hv a", vtep, &p));
	assert_null(cluster_value_port("hv-a", (const uint8_t[4]){ 0 }, &p));
	assert_null(cluster_value_host("hv-a", (const uint8_t[4]){ 224, 0, 0, 1 },
				       "1"));
}

#define PORT_OK_HEAD "{\"host\":\"b\",\"vtep\":\"10.0.0.2\",\"vni\":7,"
static void
test_values_hostile(void **state)
{
	char big[CLUSTER_VALUE_MAX + 128];
	struct cluster_host h, hb;

	(void)state;
	assert_port_refused("");
	assert_port_refused("null");
	assert_port_refused("[1]");
	assert_port_refused("{");
	assert_port_refused("{\"host\":\"b\"}");
	/* host */
	assert_port_refused("{\"host\":\"b c\",\"vtep\":\"10.0.0.2\",\"vni\":7,"
			    "\"mac\":\"52:54:00:00:01:01\",\"port\":\"p\"}");
	assert_port_refused("{\"host\":5,\"vtep\":\"10.0.0.2\",\"vni\":7,"
			    "\"mac\":\"52:54:00:00:01:01\",\"port\":\"p\"}");
	assert_port_refused("{\"host\":\"b\\u0000x\",\"vtep\":\"10.0.0.2\","
			    "\"vni\":7,\"mac\":\"52:54:00:00:01:01\",\"port\":\"p\"}");
	assert_port_refused("{\"host\":\"xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"
			    "xxxxxxxxxxxxxxxxxxxxxxxx\",\"vtep\":\"10.0.0.2\","
			    "\"vni\":7,\"mac\":\"52:54:00:00:01:01\",\"port\":\"p\"}");
	/* vtep */
	assert_port_refused("{\"host\":\"b\",\"vtep\":\"0.0.0.0\",\"vni\":7,"
			    "\"mac\":\"52:54:00:00:01:01\",\"port\":\"p\"}");
	assert_port_refused("{\"host\":\"b\",\"vtep\":\"239.1.1.1\",\"vni\":7,"
			    "\"mac\":\"52:54:00:00:01:01\",\"port\":\"p\"}");
	assert_port_refused("{\"host\":\"b\",\"vtep\":\"10.0.0\",\"vni\":7,"
			    "\"mac\":\"52:54:00:00:01:01\",\"port\":\"p\"}");
	assert_port_refused("{\"host\":\"b\",\"vtep\":\"fd00::1\",\"vni\":7,"
			    "\"mac\":\"52:54:00:00:01:01\",\"port\":\"p\"}");
	/* vni */
	assert_port_refused("{\"host\":\"b\",\"vtep\":\"10.0.0.2\",\"vni\":0,"
			    "\"mac\":\"52:54:00:00:01:01\",\"port\":\"p\"}");
	assert_port_refused("{\"host\":\"b\",\"vtep\":\"10.0.0.2\",\"vni\":16777216,"
			    "\"mac\":\"52:54:00:00:01:01\",\"port\":\"p\"}");
	assert_port_refused("{\"host\":\"b\",\"vtep\":\"10.0.0.2\",\"vni\":-1,"
			    "\"mac\":\"52:54:00:00:01:01\",\"port\":\"p\"}");
	assert_port_refused("{\"host\":\"b\",\"vtep\":\"10.0.0.2\",\"vni\":\"7\","
			    "\"mac\":\"52:54:00:00:01:01\",\"port\":\"p\"}");
	assert_port_refused("{\"host\":\"b\",\"vtep\":\"10.0.0.2\",\"vni\":7.5,"
			    "\"mac\":\"52:54:00:00:01:01\",\"port\":\"p\"}");
	/* mac */
	assert_port_refused(PORT_OK_HEAD "\"mac\":\"53:54:00:00:01:01\",\"port\":\"p\"}");
	assert_port_refused(PORT_OK_HEAD "\"mac\":\"00:00:00:00:00:00\",\"port\":\"p\"}");
	assert_port_refused(PORT_OK_HEAD "\"mac\":\"52:54:00:00:01\",\"port\":\"p\"}");
	assert_port_refused(PORT_OK_HEAD "\"port\":\"p\"}");
	/* port name */
	assert_port_refused(PORT_OK_HEAD "\"mac\":\"52:54:00:00:01:01\"}");
	assert_port_refused(PORT_OK_HEAD "\"mac\":\"52:54:00:00:01:01\","
			    "\"port\":\"0123456789012345678901234567890123\"}");
	assert_port_refused(PORT_OK_HEAD "\"mac\":\"52:54:00:00:01:01\","
			    "\"port\":\"a\\u001b[2J\"}");
	/* addresses */
	assert_port_refused(PORT_OK_HEAD "\"mac\":\"52:54:00:00:01:01\","
			    "\"port\":\"p\",\"ips\":\"10.0.0.1\"}");
	assert_port_refused(PORT_OK_HEAD "\"mac\":\"52:54:00:00:01:01\","
			    "\"port\":\"p\",\"ips\":[\"10.0.0.256\"]}");
	assert_port_refused(PORT_OK_HEAD "\"mac\":\"52:54:00:00:01:01\","
			    "\"port\":\"p\",\"ips\":[1]}");
	assert_port_refused(PORT_OK_HEAD "\"mac\":\"52:54:00:00:01:01\","
			    "\"port\":\"p\",\"ips\":[\"1.1.1.1\",\"1.1.1.2\","
			    "\"1.1.1.3\",\"1.1.1.4\",\"1.1.1.5\",\"1.1.1.6\","
			    "\"1.1.1.7\",\"1.1.1.8\",\"1.1.1.9\"]}");
	/* the same key twice: which one would count? */
	assert_port_refused(PORT_OK_HEAD "\"mac\":\"52:54:00:00:01:01\","
			    "\"port\":\"p\",\"host\":\"c\"}");
	/* too long, even if well formed */
	snprintf(big, sizeof(big), PORT_OK_HEAD "\"mac\":\"52:54:00:00:01:01\","
		 "\"port\":\"p\",\"pad\":\"%0*d\"}", CLUSTER_VALUE_MAX - 16, 0);
	assert_port_refused(big);
	/* deep nesting is not a stack overflow */
	memset(big, '[', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	assert_port_refused(big);

	memset(&h, 0x33, sizeof(h));
	hb = h;
	assert_int_equal(cluster_value_host_parse(T("{\"host\":\"b\",\"vtep\":"
						  "\"10.0.0.2\",\"version\":7}"), &h), -EINVAL);
	assert_int_equal(cluster_value_host_parse(T("{\"host\":\"b\"}"), &h),
			 -EINVAL);
	assert_int_equal(cluster_value_host_parse(T("{\"vtep\":\"10.0.0.2\"}"),
						  &h), -EINVAL);
	assert_memory_equal(&h, &hb, sizeof(h));
}

/* -------------------------------------------------------------- base64 */

static void
test_base64(void **state)
{
	static const char *const vec[][2] = {
		{ "", "" }, { "f", "Zg==" }, { "fo", "Zm8=" }, { "foo", "Zm9v" },
		{ "foob", "Zm9vYg==" }, { "fooba", "Zm9vYmE=" },
		{ "foobar", "Zm9vYmFy" },
	};
	char enc[32], dec[32];
	size_t n;

	(void)state;
	for (size_t i = 0; i < sizeof(vec) / sizeof(vec[0]); i++) {
		assert_int_equal(cluster_b64_encode(vec[i][0], strlen(vec[i][0]),
						    enc, sizeof(enc)),
				 strlen(vec[i][1]));
		assert_string_equal(enc, vec[i][1]);
		assert_int_equal(cluster_b64_decode(vec[i][1], strlen(vec[i][1]),
						    dec, sizeof(dec), &n), 0);
		assert_int_equal(n, strlen(vec[i][0]));
		assert_memory_equal(dec, vec[i][0], n);
	}
	/* all 256 byte values */
	uint8_t all[256], back[256];
	char big[400];

	for (int i = 0; i < 256; i++)
		all[i] = (uint8_t)i;
	assert_int_equal(cluster_b64_encode(all, 256, big, sizeof(big)), 344);
	assert_int_equal(cluster_b64_decode(big, 344, back, sizeof(back), &n), 0);
	assert_int_equal(n, 256);
	assert_memory_equal(all, back, 256);

	assert_int_equal(cluster_b64_encode(T("foo"), enc, 4), 0);  /* no NUL room */
	assert_int_equal(cluster_b64_decode(T("Zm9vYg"), dec, sizeof(dec), &n), 0);
	assert_int_equal(n, 4);                                 /* unpadded */
	assert_int_equal(cluster_b64_decode(T("Zm9v"), dec, 2, &n), -ENOSPC);
	assert_int_equal(cluster_b64_decode(T("Zm9v!"), dec, sizeof(dec), &n),
			 -EINVAL);
	assert_int_equal(cluster_b64_decode(T("Zm9=v"), dec, sizeof(dec), &n),
			 -EINVAL);
	assert_int_equal(cluster_b64_decode(T("Zm9vY"), dec, sizeof(dec), &n),
			 -EINVAL);
	assert_int_equal(cluster_b64_decode(T("Zg="), dec, sizeof(dec), &n),
			 -EINVAL);
	assert_int_equal(cluster_b64_decode(T("Z==="), dec, sizeof(dec), &n),
			 -EINVAL);
	assert_int_equal(cluster_b64_decode(T("Zm 9v"), dec, sizeof(dec), &n),
			 -EINVAL);
}

/* ------------------------------------------------------------ requests */

static json_t *
load(char *s)
{
	json_t *j;

	assert_non_null(s);
	j = json_loads(s, 0, NULL);
	free(s);
	assert_non_null(j);
	return j;
}

static void
test_requests(void **state)
{
	json_t *j, *cr;

	(void)state;
	j = load(cluster_req_grant(3));
	assert_int_equal(json_integer_value(json_object_get(j, "TTL")), 3);
	json_decref(j);

	j = load(cluster_req_lease(4111120478005524997LL));
	assert_string_equal(json_string_value(json_object_get(j, "ID")),
			    "4111120478005524997");
	json_decref(j);

	j = load(cluster_req_put("/vtoe/hosts/a", "{\"host\":\"a\"}",
				 4111120478005524997LL));
	assert_b64_field(j, "key", "/vtoe/hosts/a");
	assert_b64_field(j, "value", "{\"host\":\"a\"}");
	assert_string_equal(json_string_value(json_object_get(j, "lease")),
			    "4111120478005524997");
	json_decref(j);
	j = load(cluster_req_put("k", "v", 0));
	assert_null(json_object_get(j, "lease"));
	json_decref(j);

	j = load(cluster_req_delete("/vtoe/hosts/a"));
	assert_b64_field(j, "key", "/vtoe/hosts/a");
	assert_null(json_object_get(j, "range_end"));
	json_decref(j);

	j = load(cluster_req_range("/vtoe/"));
	assert_b64_field(j, "key", "/vtoe/");
	assert_b64_field(j, "range_end", "/vtoe0");
	json_decref(j);

	j = load(cluster_req_watch("/vtoe/", 42));
	cr = json_object_get(j, "create_request");
	assert_non_null(cr);
	assert_b64_field(cr, "key", "/vtoe/");
	assert_b64_field(cr, "range_end", "/vtoe0");
	assert_string_equal(json_string_value(json_object_get(cr,
			    "start_revision")), "42");
	assert_true(json_is_true(json_object_get(cr, "progress_notify")));
	json_decref(j);
}

/* ------------------------------------------------------------- answers */


static void
test_unary_answers(void **state)
{
	int64_t lease = 0, ttl = 0, rev = 0;
	char msg[CLUSTER_REASON_MAX];
	int code = 0;

	(void)state;
	assert_int_equal(cluster_resp_grant(GRANT, LEN(GRANT), &lease, &ttl), 0);
	assert_true(lease == 4111120478005524997LL);
	assert_int_equal(ttl, 5);
	assert_int_equal(cluster_resp_grant(ERR_LEASE, LEN(ERR_LEASE), &lease,
					    &ttl), -EPROTO);
	assert_int_equal(cluster_resp_grant(T("{\"ID\":\"x\",\"TTL\":\"5\"}"),
					    &lease, &ttl), -EPROTO);

	assert_int_equal(cluster_resp_keepalive(KEEPALIVE_ALIVE,
						LEN(KEEPALIVE_ALIVE), &ttl), 0);
	assert_int_equal(ttl, 5);
	assert_int_equal(cluster_resp_keepalive(KEEPALIVE_GONE,
						LEN(KEEPALIVE_GONE), &ttl),
			 -ENOENT);
	assert_int_equal(cluster_resp_keepalive(T("{\"result\":{\"TTL\":\"0\"}}"), &ttl), -ENOENT);
	/* a stream's error: NotFound is the lease, others the member */
	assert_int_equal(cluster_resp_keepalive(T("{\"error\":{\"grpc_code\":5,"
						"\"message\":\"lease not found\"}}"), &ttl), -ENOENT);
	assert_int_equal(cluster_resp_keepalive(W_ERROR, LEN(W_ERROR), &ttl),
			 -EIO);
	assert_int_equal(cluster_resp_keepalive(T("<html>"), &ttl), -EPROTO);
	assert_int_equal(cluster_resp_keepalive(T("{\"result\":{\"TTL\":true}}"), &ttl), -EPROTO);

	assert_int_equal(cluster_resp_header(PUT_OK, LEN(PUT_OK), &rev), 0);
	assert_int_equal(rev, 2);
	assert_int_equal(cluster_resp_header(DELETE_OK, LEN(DELETE_OK), &rev), 0);
	assert_int_equal(rev, 4);
	assert_int_equal(cluster_resp_header(ERR_LEASE, LEN(ERR_LEASE), &rev),
			 -EPROTO);
	assert_int_equal(cluster_resp_header(T("{}"), &rev), -EPROTO);
	assert_int_equal(cluster_resp_header(T(""), &rev), -EPROTO);

	assert_int_equal(cluster_resp_error(ERR_LEASE, LEN(ERR_LEASE), msg,
					    sizeof(msg), &code), 0);
	assert_int_equal(code, 5);
	assert_string_equal(msg, "etcdserver: requested lease not found");
	assert_int_equal(cluster_resp_error(ERR_BADJSON, LEN(ERR_BADJSON), msg,
					    sizeof(msg), &code), 0);
	assert_int_equal(code, 3);
	assert_int_equal(cluster_resp_error(W_ERROR, LEN(W_ERROR), msg,
					    sizeof(msg), &code), 0);
	assert_int_equal(code, 14);
	assert_string_equal(msg, "transport is closing");
	assert_int_equal(cluster_resp_error(PUT_OK, LEN(PUT_OK), msg,
					    sizeof(msg), &code), -EINVAL);
}

static void
test_range(void **state)
{
	struct cluster_kvs kvs;
	struct cluster_remote r;
	int64_t rev = 0;

	(void)state;
	assert_int_equal(cluster_resp_range(RANGE, LEN(RANGE), &rev, &kvs), 0);
	assert_int_equal(rev, 3);
	assert_int_equal(kvs.n, 2);
	assert_int_equal(kvs.v[0].type, CLUSTER_KV_PUT);
	assert_string_equal(kvs.v[0].key, "/vtoe/hosts/hv-b");
	assert_int_equal(kvs.v[0].key_len, 16);
	assert_string_equal(kvs.v[0].value, "{\"host\":\"hv-b\",\"vtep\":"
			    "\"10.0.0.2\",\"version\":\"0.1.0\"}");
	assert_int_equal(kvs.v[0].mod_revision, 2);
	assert_true(kvs.v[0].lease == 4111120478140055045LL);
	assert_string_equal(kvs.v[1].key, "/vtoe/ports/5000/52:54:00:00:01:01/hv-b");
	assert_int_equal(kvs.v[1].mod_revision, 3);
	assert_int_equal(cluster_value_port_parse(kvs.v[1].value,
						  kvs.v[1].value_len, &r), 0);
	assert_string_equal(r.port, "vm1.0");
	assert_int_equal(r.n_ips, 2);
	cluster_kvs_free(&kvs);

	assert_int_equal(cluster_resp_range(RANGE_EMPTY, LEN(RANGE_EMPTY), &rev,
					    &kvs), 0);
	assert_int_equal(rev, 2);
	assert_int_equal(kvs.n, 0);
	assert_null(kvs.v);

	/* all or nothing: a bad second kv drops the first too */
	assert_int_equal(cluster_resp_range(T("{\"header\":{\"revision\":\"9\"},"
		"\"kvs\":[{\"key\":\"YQ==\",\"mod_revision\":\"1\"},"
		"{\"key\":\"!!\"}]}"), &rev, &kvs), -EPROTO);
	assert_int_equal(kvs.n, 0);
	assert_null(kvs.v);
	assert_int_equal(cluster_resp_range(T("{\"header\":{\"revision\":\"9\"},"
		"\"kvs\":[{\"value\":\"YQ==\"}]}"), &rev, &kvs), -EPROTO);
	assert_int_equal(cluster_resp_range(T("{\"header\":{\"revision\":\"9\"},"
		"\"kvs\":[{\"key\":\"YQ==\",\"mod_revision\":\"x\"}]}"), &rev,
		&kvs), -EPROTO);
	assert_int_equal(cluster_resp_range(T("{\"header\":{\"revision\":\"9\"},"
		"\"kvs\":{}}"), &rev, &kvs), -EPROTO);
	assert_int_equal(cluster_resp_range(T("{\"kvs\":[]}"), &rev, &kvs),
			 -EPROTO);                              /* no header */
	assert_int_equal(cluster_resp_range(ERR_BADJSON, LEN(ERR_BADJSON), &rev,
					    &kvs), -EPROTO);
	/* a key etcd holds as empty value: no "value" at all */
	assert_int_equal(cluster_resp_range(T("{\"header\":{\"revision\":\"9\"},"
		"\"kvs\":[{\"key\":\"YQ==\",\"mod_revision\":\"8\"}]}"), &rev,
		&kvs), 0);
	assert_int_equal(kvs.n, 1);
	assert_string_equal(kvs.v[0].value, "");
	assert_int_equal(kvs.v[0].value_len, 0);
	assert_int_equal(kvs.v[0].lease, 0);
	cluster_kvs_free(&kvs);
}

static void
test_watch_stream(void **state)
{
	struct cluster_watch_msg m;

	(void)state;
	assert_int_equal(cluster_resp_watch(W_CREATED, LEN(W_CREATED), &m), 0);
	assert_int_equal(m.kind, CLUSTER_WATCH_CREATED);
	assert_int_equal(m.revision, 1);
	cluster_watch_msg_free(&m);

	assert_int_equal(cluster_resp_watch(W_PUT, LEN(W_PUT), &m), 0);
	assert_int_equal(m.kind, CLUSTER_WATCH_EVENTS);
	assert_int_equal(m.revision, 3);
	assert_int_equal(m.events.n, 1);
	assert_int_equal(m.events.v[0].type, CLUSTER_KV_PUT);
	assert_string_equal(m.events.v[0].key,
			    "/vtoe/ports/5000/52:54:00:00:01:01/hv-b");
	assert_int_equal(m.events.v[0].mod_revision, 3);
	assert_non_null(strstr(m.events.v[0].value, "\"vm1.0\""));
	cluster_watch_msg_free(&m);

	assert_int_equal(cluster_resp_watch(W_DELETE, LEN(W_DELETE), &m), 0);
	assert_int_equal(m.events.n, 1);
	assert_int_equal(m.events.v[0].type, CLUSTER_KV_DELETE);
	assert_int_equal(m.events.v[0].mod_revision, 4);
	assert_string_equal(m.events.v[0].value, "");
	cluster_watch_msg_free(&m);

	assert_int_equal(cluster_resp_watch(W_TWO, LEN(W_TWO), &m), 0);
	assert_int_equal(m.events.n, 2);
	assert_int_equal(m.events.v[0].type, CLUSTER_KV_PUT);
	assert_string_equal(m.events.v[0].key, "/vtoe/hosts/a");
	assert_int_equal(m.events.v[1].type, CLUSTER_KV_DELETE);
	assert_int_equal(m.events.v[1].mod_revision, 3);
	cluster_watch_msg_free(&m);

	assert_int_equal(cluster_resp_watch(W_PROGRESS, LEN(W_PROGRESS), &m), 0);
	assert_int_equal(m.kind, CLUSTER_WATCH_PROGRESS);
	assert_int_equal(m.revision, 7);

	assert_int_equal(cluster_resp_watch(W_COMPACTED, LEN(W_COMPACTED), &m),
			 0);
	assert_int_equal(m.kind, CLUSTER_WATCH_COMPACTED);
	assert_int_equal(m.compact_revision, 5);
	assert_int_equal(cluster_resp_watch(T("{\"result\":{\"canceled\":true,"
					    "\"cancel_reason\":\"no auth\"}}"), &m), 0);
	assert_int_equal(m.kind, CLUSTER_WATCH_CANCELED);
	assert_string_equal(m.reason, "no auth");

	assert_int_equal(cluster_resp_watch(W_ERROR, LEN(W_ERROR), &m), 0);
	assert_int_equal(m.kind, CLUSTER_WATCH_ERROR);
	assert_string_equal(m.reason, "transport is closing");

	/* broken messages: none of their events */
	assert_int_equal(cluster_resp_watch(T("{\"result\":{\"events\":[{\"type\":"
		"\"MERGE\",\"kv\":{\"key\":\"YQ==\"}}]}}"), &m), -EPROTO);
	assert_int_equal(m.events.n, 0);
	assert_int_equal(cluster_resp_watch(T("{\"result\":{\"events\":[{\"kv\":"
		"{\"key\":\"YQ==\"}},{\"kv\":{}}]}}"), &m), -EPROTO);
	assert_int_equal(m.events.n, 0);
	assert_int_equal(cluster_resp_watch(T("{\"result\":{\"events\":[7]}}"),
					    &m), -EPROTO);
	assert_int_equal(cluster_resp_watch(T("{\"result\":{\"events\":[{\"type\":"
		"7,\"kv\":{\"key\":\"YQ==\"}}]}}"), &m), -EPROTO);
	assert_int_equal(cluster_resp_watch(T("{\"result\":5}"), &m), -EPROTO);
	assert_int_equal(cluster_resp_watch(T("{\"resu"), &m), -EPROTO);
	assert_int_equal(cluster_resp_watch(T("{}"), &m), -EPROTO);
	assert_int_equal(cluster_resp_watch(T(""), &m), -EPROTO);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_keys),
		cmocka_unit_test(test_values_round_trip),
		cmocka_unit_test(test_values_hostile),
		cmocka_unit_test(test_base64),
		cmocka_unit_test(test_requests),
		cmocka_unit_test(test_unary_answers),
		cmocka_unit_test(test_range),
		cmocka_unit_test(test_watch_stream),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
