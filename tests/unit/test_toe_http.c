/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The services' HTTP parser (toe_http.h) on good, pipelined and hostile
 * requests, and the metadata service (toe_imds.h): its answers per path
 * and token rule, then whole exchanges over the TOE's TCP on a fake link
 * (keep-alive, pipelining, a large user data, errors that close).
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "toe_stack/toe_ep.h"
#include "toe_stack/toe_http.h"
#include "toe_stack/toe_imds.h"

static enum toe_http_result
parse(const char *s, struct toe_http_req *r, int *status)
{
	return toe_http_parse((const uint8_t *)s, (uint32_t)strlen(s), r, status);
}

static void
expect_bad(const char *s, int want)
{
	struct toe_http_req r;
	int status;

	assert_int_equal(parse(s, &r, &status), TOE_HTTP_BAD);
	if (status != want)
		fail_msg("%s: status %d, want %d", s, status, want);
}

static void
test_parse_good(void **state)
{
	struct toe_http_req r;
	int status;
	const char *two = "GET /a HTTP/1.1\r\nHost: x\r\n\r\n"
			  "PUT /latest/api/token HTTP/1.1\r\nHost: x\r\n"
			  "X-aws-ec2-metadata-token-ttl-seconds: 21600\r\n"
			  "Content-Length: 3\r\n\r\nabc";

	(void)state;
	assert_int_equal(parse("GET /latest/meta-data/ HTTP/1.1\r\nHost: 169.254.169.254\r\n"
			       "User-Agent: curl\r\n\r\n", &r, &status), TOE_HTTP_DONE);
	assert_string_equal(r.method, "GET");
	assert_string_equal(r.target, "/latest/meta-data/");
	assert_int_equal(r.minor, 1);
	assert_true(r.keep_alive);
	/* pipelined: the first, then the rest */
	assert_int_equal(parse(two, &r, &status), TOE_HTTP_DONE);
	assert_string_equal(r.target, "/a");
	assert_int_equal(toe_http_parse((const uint8_t *)two + r.size,
					(uint32_t)(strlen(two) - r.size), &r, &status),
			 TOE_HTTP_DONE);
	assert_string_equal(r.method, "PUT");
	assert_true(r.has_ttl);
	assert_int_equal(r.ttl, 21600);
	assert_int_equal(r.content_length, 3);
	/* HTTP/1.0: closes unless keep-alive; bare LF lines; a query and
	 * the absolute form */
	assert_int_equal(parse("GET /x?y=1 HTTP/1.0\n\n", &r, &status), TOE_HTTP_DONE);
	assert_false(r.keep_alive);
	assert_string_equal(r.target, "/x");
	assert_int_equal(parse("GET http://169.254.169.254/latest HTTP/1.0\r\n"
			       "Connection: Keep-Alive\r\n\r\n", &r, &status), TOE_HTTP_DONE);
	assert_true(r.keep_alive);
	assert_string_equal(r.target, "/latest");
	assert_int_equal(parse("GET / HTTP/1.1\r\nHost: a\r\nConnection: foo, close\r\n\r\n",
			       &r, &status), TOE_HTTP_DONE);
	assert_false(r.keep_alive);
	assert_int_equal(parse("GET / HTTP/1.1\r\nHost: a\r\nX-aws-ec2-metadata-token:  t0k \r\n\r\n",
			       &r, &status), TOE_HTTP_DONE);
	assert_string_equal(r.token, "t0k");
	/* not whole yet */
	assert_int_equal(parse("GET / HTTP/1.1\r\nHost: a\r\n", &r, &status), TOE_HTTP_MORE);
	assert_int_equal(parse("PUT / HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\n\r\nab",
			       &r, &status), TOE_HTTP_MORE);
}

static void
test_parse_hostile(void **state)
{
	char big[TOE_HTTP_HEAD_MAX + 200];

	(void)state;
	expect_bad("GET / HTTP/1.1\r\n\r\n", 400);                     /* no Host */
	expect_bad("GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n", 400);
	expect_bad("GET /\r\n\r\n", 400);
	expect_bad("GET / HTTP/2.0\r\nHost: a\r\n\r\n", 505);
	expect_bad("GET / FTP/1.1\r\nHost: a\r\n\r\n", 400);
	expect_bad("G(T / HTTP/1.1\r\nHost: a\r\n\r\n", 400);
	expect_bad("GET noslash HTTP/1.1\r\nHost: a\r\n\r\n", 400);
	expect_bad("GET / HTTP/1.1\r\nHost : a\r\n\r\n", 400);         /* space before : */
	expect_bad("GET / HTTP/1.1\r\nHost: a\r\n folded\r\n\r\n", 400);
	expect_bad("GET / HTTP/1.1\r\nHost: a\rb\r\n\r\n", 400);        /* bare CR */
	expect_bad("GET / HTTP/1.1\r\nHost: a\x01\r\n\r\n", 400);
	expect_bad("GET / HTTP/1.1\r\nHost: a\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n", 400);
	expect_bad("GET / HTTP/1.1\r\nHost: a\r\nContent-Length: -1\r\n\r\n", 400);
	expect_bad("PUT / HTTP/1.1\r\nHost: a\r\nContent-Length: 99999\r\n\r\n", 413);
	expect_bad("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n", 501);
	memset(big, 'a', sizeof(big));
	memcpy(big, "GET /", 5);
	big[sizeof(big) - 1] = '\0';
	expect_bad(big, 414);                                           /* long target */
	snprintf(big, sizeof(big), "GET / HTTP/1.1\r\nHost: a\r\nX: ");
	memset(big + strlen(big), 'b', sizeof(big) - strlen(big) - 1);
	big[sizeof(big) - 1] = '\0';
	expect_bad(big, 431);                                           /* long head */
	/* every truncation of a good request: MORE, never a crash */
	{
		const char *g = "GET /latest/meta-data/instance-id HTTP/1.1\r\nHost: h\r\n\r\n";
		struct toe_http_req r;
		int status;

		for (size_t n = 0; n < strlen(g); n++) {
			char *b = malloc(n + 1);

			memcpy(b, g, n);
			assert_int_equal(toe_http_parse((uint8_t *)b, (uint32_t)n, &r, &status),
					 TOE_HTTP_MORE);
			free(b);
		}
	}
	/* random bytes: any answer but a crash (ASan watches the reads) */
	srand(3);
	for (int i = 0; i < 20000; i++) {
		uint32_t n = (uint32_t)rand() % 300;
		uint8_t *b = malloc(n ? n : 1);
		struct toe_http_req r;
		int status;

		for (uint32_t k = 0; k < n; k++)
			b[k] = (uint8_t)(rand() % 4 == 0 ? "\r\n :/"[rand() % 5] : rand());
		toe_http_parse(b, n, &r, &status);
		free(b);
	}
}

static struct toe_imds_conf mconf;
static struct toe_imds svc;

static void
imds_setup(void)
{
	static const uint8_t ud[] = "#cloud-config\nhostname: x\n";

	memset(&mconf, 0, sizeof(mconf));
	snprintf(mconf.instance_id, sizeof(mconf.instance_id), "i-0001");
	snprintf(mconf.hostname, sizeof(mconf.hostname), "vm-one");
	memcpy(mconf.ip4, (uint8_t[]){ 10, 0, 0, 11 }, 4);
	mconf.prefix4 = 24;
	memcpy(mconf.mac, (uint8_t[]){ 0x52, 0x54, 0, 0, 1, 1 }, 6);
	mconf.user_data = ud;
	mconf.user_data_len = sizeof(ud) - 1;
	memset(mconf.key, 7, sizeof(mconf.key));
	memset(&svc, 0, sizeof(svc));
	svc.conf = &mconf;
}

/* The answer to a request given as text. */
static int
ask(const char *req, uint64_t now, struct toe_imds_resp *r)
{
	struct toe_http_req q;
	int status;

	assert_int_equal(parse(req, &q, &status), TOE_HTTP_DONE);
	toe_imds_answer(&svc, &q, now, r);
	return r->status;
}

static void
expect_body(const char *req, const char *body)
{
	struct toe_imds_resp r;

	assert_int_equal(ask(req, 1000, &r), 200);
	assert_int_equal(r.body_len, strlen(body));
	assert_memory_equal(r.body, body, r.body_len);
}

#define GET(path) "GET " path " HTTP/1.1\r\nHost: 169.254.169.254\r\n\r\n"

static void
test_imds_paths(void **state)
{
	struct toe_imds_resp r;

	(void)state;
	imds_setup();
	expect_body(GET("/latest/meta-data/instance-id"), "i-0001");
	expect_body(GET("/latest/meta-data/hostname"), "vm-one");
	expect_body(GET("/latest/meta-data/local-ipv4"), "10.0.0.11");
	expect_body(GET("/latest/meta-data/mac"), "52:54:00:00:01:01");
	expect_body(GET("/latest/meta-data"), "hostname\ninstance-id\nlocal-hostname\nlocal-ipv4\nmac\nnetwork/");
	expect_body(GET("/latest/meta-data/network/interfaces/macs/"), "52:54:00:00:01:01/");
	expect_body(GET("/latest/meta-data/network/interfaces/macs/52:54:00:00:01:01/subnet-ipv4-cidr-block"),
		    "10.0.0.0/24");
	expect_body(GET("/latest/meta-data/network/interfaces/macs/52:54:00:00:01:01/local-ipv4s"), "10.0.0.11");
	expect_body(GET("/latest/user-data"), "#cloud-config\nhostname: x\n");
	expect_body(GET("/nocloud/meta-data"), "instance-id: i-0001\nlocal-hostname: vm-one\n");
	expect_body(GET("/latest/"), "dynamic\nmeta-data\nuser-data");
	assert_int_equal(ask(GET("/latest/dynamic/instance-identity/document"), 1000, &r), 200);
	assert_non_null(strstr(r.text, "\"instanceId\" : \"i-0001\""));
	assert_int_equal(ask(GET("/latest/meta-data/nothing"), 1000, &r), 404);
	assert_int_equal(ask(GET("/latest/meta-data/network/interfaces/macs/00:00:00:00:00:00/mac"), 1000, &r), 404);
	assert_int_equal(ask(GET("/other"), 1000, &r), 404);
	assert_int_equal(ask(GET("/latestx"), 1000, &r), 404);
	assert_int_equal(ask("DELETE /latest/ HTTP/1.1\r\nHost: a\r\n\r\n", 1000, &r), 405);
	assert_non_null(strstr(r.extra, "Allow: GET, HEAD"));
	/* without user data: 404 on EC2's path, empty on NoCloud's */
	mconf.user_data = NULL;
	assert_int_equal(ask(GET("/latest/user-data"), 1000, &r), 404);
	expect_body(GET("/nocloud/user-data"), "");
	/* no instance id: i- and the MAC */
	mconf.instance_id[0] = '\0';
	expect_body(GET("/latest/meta-data/instance-id"), "i-525400000101");
}

static void
test_imds_tokens(void **state)
{
	struct toe_imds_resp r;
	char req[512], tok[64];

	(void)state;
	imds_setup();
	/* IMDSv2: PUT for a token, then use it */
	assert_int_equal(ask("PUT /latest/api/token HTTP/1.1\r\nHost: a\r\n"
			     "X-aws-ec2-metadata-token-ttl-seconds: 60\r\n\r\n", 1000, &r), 200);
	assert_non_null(strstr(r.extra, "X-aws-ec2-metadata-token-ttl-seconds: 60"));
	assert_int_equal(r.body_len, 32);
	memcpy(tok, r.body, r.body_len);
	tok[r.body_len] = '\0';
	snprintf(req, sizeof(req), "GET /latest/meta-data/instance-id HTTP/1.1\r\nHost: a\r\n"
		 "X-aws-ec2-metadata-token: %s\r\n\r\n", tok);
	assert_int_equal(ask(req, 2000, &r), 200);
	/* expired, forged, garbage: 401 */
	assert_int_equal(ask(req, 1000 + 60 * 1000, &r), 401);
	tok[5] = tok[5] == 'A' ? 'B' : 'A';
	snprintf(req, sizeof(req), "GET /latest/meta-data/instance-id HTTP/1.1\r\nHost: a\r\n"
		 "X-aws-ec2-metadata-token: %s\r\n\r\n", tok);
	assert_int_equal(ask(req, 2000, &r), 401);
	assert_int_equal(ask("GET /latest/ HTTP/1.1\r\nHost: a\r\nX-aws-ec2-metadata-token: x\r\n\r\n",
			     2000, &r), 401);
	/* another port's key: 401 */
	memset(mconf.key, 8, sizeof(mconf.key));
	snprintf(req, sizeof(req), "GET /latest/ HTTP/1.1\r\nHost: a\r\nX-aws-ec2-metadata-token: %s\r\n\r\n", tok);
	assert_int_equal(ask(req, 2000, &r), 401);
	/* the TTL's bounds, the method, proxies */
	assert_int_equal(ask("PUT /latest/api/token HTTP/1.1\r\nHost: a\r\n\r\n", 1000, &r), 400);
	assert_int_equal(ask("PUT /latest/api/token HTTP/1.1\r\nHost: a\r\n"
			     "X-aws-ec2-metadata-token-ttl-seconds: 21601\r\n\r\n", 1000, &r), 400);
	assert_int_equal(ask("PUT /latest/api/token HTTP/1.1\r\nHost: a\r\n"
			     "X-aws-ec2-metadata-token-ttl-seconds: 0\r\n\r\n", 1000, &r), 400);
	assert_int_equal(ask(GET("/latest/api/token"), 1000, &r), 405);
	assert_int_equal(ask("PUT /latest/api/token HTTP/1.1\r\nHost: a\r\nX-Forwarded-For: 1.2.3.4\r\n"
			     "X-aws-ec2-metadata-token-ttl-seconds: 60\r\n\r\n", 1000, &r), 403);
	/* v2-only: no token, 401; NoCloud stays open */
	mconf.v2_only = true;
	assert_int_equal(ask(GET("/latest/meta-data/instance-id"), 1000, &r), 401);
	assert_int_equal(ask(GET("/nocloud/meta-data"), 1000, &r), 200);
	assert_int_equal(svc.stats.tokens, 1);
}

/* ------------------------------------------------------------------ */
/* Whole exchanges over the TOE's TCP                                   */

struct frame {
	uint8_t *data;
	uint32_t len;
	int to;
};
static struct frame q[4096];
static unsigned int nq;
static uint64_t now = 1000;
static struct toe_ep_conf sconf, cconf;
static struct toe_ep srv, cli;

static void
emit(void *arg, const struct toe_emit *e)
{
	uint32_t len = e->hdr_len + e->pay_len[0] + e->pay_len[1];
	struct frame *f = &q[nq++];

	assert_true(nq < 4096);
	f->data = malloc(len);
	memcpy(f->data, e->hdr, e->hdr_len);
	if (e->pay_len[0])
		memcpy(f->data + e->hdr_len, e->pay[0], e->pay_len[0]);
	if (e->pay_len[1])
		memcpy(f->data + e->hdr_len + e->pay_len[0], e->pay[1], e->pay_len[1]);
	f->len = len;
	f->to = arg == &srv ? 1 : 0;
}

static void
tick(void)
{
	now++;
	while (nq > 0) {
		struct frame batch[4096];
		unsigned int n = nq;

		memcpy(batch, q, n * sizeof(q[0]));
		nq = 0;
		for (unsigned int i = 0; i < n; i++) {
			toe_ep_input(batch[i].to == 0 ? &srv : &cli, batch[i].data,
				     batch[i].len, false, now);
			free(batch[i].data);
		}
	}
	toe_wheel_run(&srv.wheel, now);
	toe_wheel_run(&cli.wheel, now);
}

static char got[4 << 20];
static size_t got_len;

static void
cli_cb(struct toe_sock *s, unsigned int ev, void *arg)
{
	long n;

	(void)ev;
	(void)arg;
	while ((n = toe_recv(s, got + got_len, sizeof(got) - got_len)) > 0)
		got_len += (size_t)n;
}

static struct toe_sock *
connect_imds(void)
{
	struct toe_sock *c;

	memset(&sconf, 0, sizeof(sconf));
	memcpy(sconf.mac, mconf.mac, 6);
	memcpy(sconf.ip4, mconf.ip4, 4);
	sconf.prefix4 = 24;
	sconf.metadata = true;
	memset(&cconf, 0, sizeof(cconf));
	memcpy(cconf.mac, mconf.mac, 6);
	memcpy(cconf.ip4, toe_ep_md_ip4, 4);
	cconf.has_gw = true;
	memcpy(cconf.gw4, mconf.ip4, 4);
	toe_ep_init(&srv, &sconf, (const uint8_t *)"0123456789abcdef", emit, &srv, now);
	toe_ep_init(&cli, &cconf, (const uint8_t *)"fedcba9876543210", emit, &cli, now);
	assert_int_equal(toe_imds_start(&svc, &srv, toe_ep_md_ip4, &mconf), 0);
	got_len = 0;
	c = toe_connect(&cli, mconf.ip4, toe_ep_md_ip4, 80,
			&(struct toe_sock_opts){ .rcvbuf = 1 << 20 }, cli_cb, NULL);
	for (int i = 0; i < 5; i++)
		tick();
	return c;
}

static void
disconnect(struct toe_sock *c)
{
	toe_close(c);
	toe_imds_stop(&svc);
	toe_ep_fini(&srv);
	toe_ep_fini(&cli);
	for (unsigned int i = 0; i < nq; i++)
		free(q[i].data);
	nq = 0;
}

static unsigned int
count(const char *hay, size_t n, const char *needle)
{
	unsigned int k = 0;
	size_t l = strlen(needle);

	for (size_t i = 0; i + l <= n; i++)
		if (memcmp(hay + i, needle, l) == 0)
			k++;
	return k;
}

static void
test_imds_exchanges(void **state)
{
	static uint8_t big[3 << 20];
	char reqs[8192];
	struct toe_sock *c;
	size_t n = 0;

	(void)state;
	imds_setup();
	/* 100 pipelined requests on one connection: 100 answers, in order */
	c = connect_imds();
	for (int i = 0; i < 100; i++)
		n += (size_t)snprintf(reqs + n, sizeof(reqs) - n, "%s",
				      i % 2 ? GET("/latest/meta-data/local-ipv4") :
					      GET("/latest/meta-data/instance-id"));
	assert_int_equal(toe_send(c, reqs, n), (long)n);
	for (int i = 0; i < 50; i++)
		tick();
	assert_int_equal(count(got, got_len, "HTTP/1.1 200 OK"), 100);
	assert_int_equal(count(got, got_len, "\r\n\r\ni-0001"), 50);
	assert_int_equal(count(got, got_len, "\r\n\r\n10.0.0.11"), 50);
	assert_true(strstr(got, "i-0001") < strstr(got, "10.0.0.11"));
	assert_int_equal(svc.stats.requests, 100);
	assert_int_equal(svc.n_conns, 1);
	/* a bad request is answered, then the connection closes */
	got_len = 0;
	toe_send(c, "GET / HTTP/1.1\r\n\r\n", 18);
	for (int i = 0; i < 20; i++)
		tick();
	assert_non_null(strstr(got, "HTTP/1.1 400 Bad Request"));
	assert_non_null(strstr(got, "Connection: close"));
	assert_int_equal(svc.n_conns, 0);
	assert_int_equal(toe_recv(c, got, 1), 0);       /* EOF */
	disconnect(c);

	/* 3 MiB of user data through a 256 KB send buffer */
	for (size_t i = 0; i < sizeof(big); i++)
		big[i] = (uint8_t)(i * 7 + (i >> 11));
	mconf.user_data = big;
	mconf.user_data_len = sizeof(big);
	c = connect_imds();
	toe_send(c, GET("/latest/user-data"), strlen(GET("/latest/user-data")));
	for (int i = 0; i < 3000 && got_len < sizeof(big) + 100; i++)
		tick();
	{
		char *body = strstr(got, "\r\n\r\n");

		assert_non_null(body);
		assert_non_null(strstr(got, "Content-Length: 3145728"));
		body += 4;
		assert_int_equal(got_len - (size_t)(body - got), sizeof(big));
		assert_memory_equal(body, big, sizeof(big));
	}
	/* idle: closed after TOE_IMDS_IDLE_MS */
	for (int i = 0; i < TOE_IMDS_IDLE_MS + 10; i++)
		tick();
	assert_int_equal(svc.stats.idle_closed, 1);
	assert_int_equal(svc.n_conns, 0);
	disconnect(c);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse_good),
		cmocka_unit_test(test_parse_hostile),
		cmocka_unit_test(test_imds_paths),
		cmocka_unit_test(test_imds_tokens),
		cmocka_unit_test(test_imds_exchanges),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
