/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The control socket without a daemon: the protocol through
 * ctl_handle_request (a table of request lines and their answers), then a
 * real server in a temporary directory, driven from this thread: clients
 * write, the test calls ctl_server_poll, clients read.
 */
#include "control/ctl.h"
#include "control/ctl_client.h"

#include <errno.h>
#include <poll.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>
#include <jansson.h>

#define VERSION_OK "{\"ok\":true,\"result\":{\"version\":\"0.1.0\"}}"
#define VERSION_REQ "{\"cmd\":\"version\"}\n"
#define TOO_LARGE "{\"ok\":false,\"error\":\"request too large (max 65536 bytes)\"}"
#define BIG_SIZE (1u << 20)     /* a response larger than any socket buffer */
#define CLIENT_BUF (2u << 20)
#define POLL_ROUNDS 1000        /* x 5 ms: how long a client waits */

/* ---- commands ---- */

struct test_ctx {
	unsigned int calls;
};

static json_t *cmd_version(void *ctx, json_t *args, char *err, size_t err_size)
{
	(void)args, (void)err, (void)err_size;
	((struct test_ctx *)ctx)->calls++;
	return json_pack("{s:s}", "version", "0.1.0");
}

static json_t *cmd_echo(void *ctx, json_t *args, char *err, size_t err_size)
{
	(void)ctx, (void)err, (void)err_size;
	return json_incref(args);
}

static json_t *cmd_fail(void *ctx, json_t *args, char *err, size_t err_size)
{
	const char *port = json_string_value(json_object_get(args, "port"));

	(void)ctx;
	snprintf(err, err_size, "port \"%s\" not found", port ? port : "?");
	return NULL;
}

static json_t *cmd_fail_silent(void *ctx, json_t *args, char *err,
			       size_t err_size)
{
	(void)ctx, (void)args, (void)err, (void)err_size;
	return NULL;
}

static json_t *cmd_fail_binary(void *ctx, json_t *args, char *err,
			       size_t err_size)
{
	(void)ctx, (void)args;
	snprintf(err, err_size, "bad \xff byte");
	return NULL;
}

static json_t *cmd_big(void *ctx, json_t *args, char *err, size_t err_size)
{
	char *s = malloc(BIG_SIZE);
	json_t *result;

	(void)ctx, (void)args, (void)err, (void)err_size;
	if (s == NULL)
		return NULL;
	memset(s, 'b', BIG_SIZE);
	result = json_stringn(s, BIG_SIZE);
	free(s);
	return result;
}

static const struct ctl_cmd test_cmds[] = {
	{ "version", "show the version", cmd_version },
	{ "echo", "return the args", cmd_echo },
	{ "fail", "fail with a reason", cmd_fail },
	{ "fail_silent", NULL, cmd_fail_silent },
	{ "fail_binary", "fail with a non-UTF-8 reason", cmd_fail_binary },
	{ "big", "a 1 MiB result", cmd_big },
};
#define N_CMDS (sizeof(test_cmds) / sizeof(test_cmds[0]))

/* ---- the protocol ---- */

struct request_case {
	const char *line;
	const char *result;     /* expected result as JSON text; NULL: error */
	const char *error;      /* expected error: exactly this ... */
	const char *error_has;  /* ... or containing this */
};

static const struct request_case request_cases[] = {
	/* valid */
	{ "{\"cmd\":\"version\"}", "{\"version\":\"0.1.0\"}", NULL, NULL },
	{ "{\"cmd\":\"echo\",\"args\":{\"port\":\"vm1.0\",\"n\":3}}",
	  "{\"port\":\"vm1.0\",\"n\":3}", NULL, NULL },
	{ "{\"cmd\":\"echo\"}", "{}", NULL, NULL },     /* args default to {} */
	{ " {\"args\" : {}, \"cmd\" : \"version\"}\r",
	  "{\"version\":\"0.1.0\"}", NULL, NULL },
	/* not JSON */
	{ "", NULL, NULL, "empty request" },
	{ " \t", NULL, NULL, "empty request" },
	{ "hello", NULL, NULL, "invalid JSON at column" },
	{ "{\"cmd\":\"vers", NULL, NULL, "invalid JSON" },
	{ "{\"cmd\":\"version\"} x", NULL, NULL, "invalid JSON" },
	{ "{\"cmd\":\"\xff\"}", NULL, NULL, "invalid JSON" },
	{ "{\"cmd\":\"version\",\"cmd\":\"echo\"}", NULL, NULL, "duplicate" },
	{ "{\"cmd\":\"echo\",\"args\":{\"a\":1,\"a\":2}}", NULL, NULL,
	  "duplicate" },
	/* JSON, but not a request */
	{ "[\"version\"]", NULL,
	  "request must be a JSON object, not an array", NULL },
	{ "\"version\"", NULL,
	  "request must be a JSON object, not a string", NULL },
	{ "{}", NULL, "missing \"cmd\"", NULL },
	{ "{\"args\":{}}", NULL, "missing \"cmd\"", NULL },
	{ "{\"cmd\":42}", NULL, "\"cmd\" must be a string, not an integer",
	  NULL },
	{ "{\"cmd\":null}", NULL, "\"cmd\" must be a string, not null", NULL },
	{ "{\"cmd\":\"x\"}", NULL, "unknown command \"x\"; try \"help\"", NULL },
	{ "{\"cmd\":\"\"}", NULL, "unknown command \"\"; try \"help\"", NULL },
	{ "{\"cmd\":\"echo\",\"args\":[1]}", NULL,
	  "\"args\" must be an object, not an array", NULL },
	{ "{\"cmd\":\"echo\",\"args\":null}", NULL,
	  "\"args\" must be an object, not null", NULL },
	{ "{\"cmd\":\"echo\",\"args\":\"vm1.0\"}", NULL,
	  "\"args\" must be an object, not a string", NULL },
	{ "{\"cmd\":\"stats\",\"port\":\"vm1.0\"}", NULL, NULL,
	  "unknown key \"port\" in request" },
	/* handler errors */
	{ "{\"cmd\":\"fail\",\"args\":{\"port\":\"vm9\"}}", NULL,
	  "port \"vm9\" not found", NULL },
	{ "{\"cmd\":\"fail_silent\"}", NULL, "command \"fail_silent\" failed",
	  NULL },
	{ "{\"cmd\":\"fail_binary\"}", NULL, "bad ? byte", NULL },
};

/* Parse a response line, checking what every response must be. */
static json_t *response_parse(const char *resp)
{
	json_error_t jerr;
	json_t *v;

	assert_non_null(resp);
	assert_null(strchr(resp, '\n'));
	v = json_loads(resp, JSON_REJECT_DUPLICATES, &jerr);
	assert_non_null(v);
	assert_true(json_is_object(v));
	assert_true(json_is_boolean(json_object_get(v, "ok")));
	return v;
}

static void test_request_table(void **state)
{
	struct test_ctx ctx = { 0 };

	(void)state;
	for (size_t i = 0; i < sizeof(request_cases) / sizeof(request_cases[0]);
	     i++) {
		const struct request_case *tc = &request_cases[i];
		char *resp = ctl_handle_request(test_cmds, N_CMDS, &ctx,
						tc->line, strlen(tc->line));
		json_t *v = response_parse(resp);

		print_message("case %zu: %s -> %s\n", i, tc->line, resp);
		if (tc->result != NULL) {
			json_t *want = json_loads(tc->result, 0, NULL);

			assert_true(json_is_true(json_object_get(v, "ok")));
			assert_true(json_equal(json_object_get(v, "result"),
					       want));
			json_decref(want);
		} else {
			const char *err = json_string_value(
				json_object_get(v, "error"));

			assert_true(json_is_false(json_object_get(v, "ok")));
			assert_non_null(err);
			if (tc->error != NULL)
				assert_string_equal(err, tc->error);
			else
				assert_non_null(strstr(err, tc->error_has));
		}
		json_decref(v);
		free(resp);
	}
	assert_int_equal(ctx.calls, 2);    /* the two "version" cases */
}

static void test_request_exact_bytes(void **state)
{
	static const char line[] = "{\"cmd\":\"version\"}\0{\"cmd\":\"x\"}";
	char *resp;

	(void)state;
	/* len, not the NUL, bounds the line */
	resp = ctl_handle_request(test_cmds, N_CMDS, &(struct test_ctx){ 0 },
				  line, strlen(line));
	assert_string_equal(resp, VERSION_OK);
	free(resp);
	/* an embedded NUL is not JSON, nor is it blank */
	resp = ctl_handle_request(test_cmds, N_CMDS, &(struct test_ctx){ 0 },
				  line, sizeof(line) - 1);
	assert_non_null(strstr(resp, "invalid JSON"));
	free(resp);
	resp = ctl_handle_request(test_cmds, N_CMDS, NULL, "\0 ", 2);
	assert_non_null(strstr(resp, "invalid JSON"));
	free(resp);
}

static void test_request_long_name_is_cut(void **state)
{
	char line[400], *resp;
	json_t *v;

	(void)state;
	/* 300 two-byte characters: the cut must not split one */
	strcpy(line, "{\"cmd\":\"");
	for (int i = 0; i < 150; i++)
		strcat(line, "\xc3\xa9");
	strcat(line, "\"}");
	resp = ctl_handle_request(test_cmds, N_CMDS, NULL, line, strlen(line));
	v = response_parse(resp);
	assert_non_null(strstr(json_string_value(json_object_get(v, "error")),
			       "...\"; try \"help\""));
	assert_true(strlen(resp) < 200);
	json_decref(v);
	free(resp);

	/* unterminated: the parser quotes it in its message, cut anywhere */
	line[strlen(line) - 2] = '\0';
	resp = ctl_handle_request(test_cmds, N_CMDS, NULL, line, strlen(line));
	v = response_parse(resp);
	assert_non_null(strstr(json_string_value(json_object_get(v, "error")),
			       "invalid JSON"));
	json_decref(v);
	free(resp);
}

static void test_request_help(void **state)
{
	char *resp = ctl_handle_request(test_cmds, N_CMDS, NULL,
					"{\"cmd\":\"help\"}", 14);
	json_t *v = response_parse(resp), *list;

	(void)state;
	list = json_object_get(v, "result");
	assert_true(json_is_array(list));
	assert_int_equal(json_array_size(list), N_CMDS + 1);
	assert_string_equal(json_string_value(json_object_get(
		json_array_get(list, 0), "name")), "help");
	for (size_t i = 0; i < N_CMDS; i++) {
		json_t *e = json_array_get(list, i + 1);

		assert_string_equal(json_string_value(json_object_get(e, "name")),
				    test_cmds[i].name);
		assert_string_equal(json_string_value(json_object_get(e, "help")),
				    test_cmds[i].help ? test_cmds[i].help : "");
	}
	json_decref(v);
	free(resp);
}

/* ---- a real server, driven from this thread ---- */

struct fixture {
	char dir[64];
	char path[128];         /* dir/run/ctl.sock: the server creates run/ */
	struct test_ctx ctx;
	struct ctl_server *srv;
};

struct client {
	int fd;
	bool closed;            /* EOF or ECONNRESET seen */
	size_t len;
	char buf[CLIENT_BUF];
};

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));

	if (f == NULL)
		return -1;
	strcpy(f->dir, "/tmp/vtoe-test-ctl-XXXXXX");
	if (mkdtemp(f->dir) == NULL)
		return -1;
	snprintf(f->path, sizeof(f->path), "%s/run/ctl.sock", f->dir);
	f->srv = ctl_server_create(f->path, 0600, test_cmds, N_CMDS, &f->ctx);
	if (f->srv == NULL)
		return -1;
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;
	char sub[160];

	ctl_server_destroy(f->srv);
	snprintf(sub, sizeof(sub), "%s/run", f->dir);
	rmdir(sub);
	rmdir(f->dir);
	free(f);
	return 0;
}

static struct client *client_open(const char *path)
{
	struct client *c = malloc(sizeof(*c));

	assert_non_null(c);
	c->fd = ctl_client_connect(path);      /* non-blocking */
	assert_true(c->fd >= 0);
	c->closed = false;
	c->len = 0;
	return c;
}

static void client_close(struct client *c)
{
	close(c->fd);
	free(c);
}

/* Returns 0, or -errno once the server has closed the connection. */
static int client_write(struct fixture *f, struct client *c, const void *data,
			size_t len)
{
	const char *p = data;

	for (int i = 0; len > 0 && i < POLL_ROUNDS; i++) {
		ssize_t n = send(c->fd, p, len, MSG_NOSIGNAL);

		if (n < 0 && (errno == EPIPE || errno == ECONNRESET))
			return -errno;
		if (n < 0) {
			assert_int_equal(errno, EAGAIN);
			assert_int_equal(ctl_server_poll(f->srv, 5), 0);
			continue;
		}
		p += n;
		len -= (size_t)n;
	}
	assert_int_equal(len, 0);
	return 0;
}

static void client_puts(struct fixture *f, struct client *c, const char *s)
{
	assert_int_equal(client_write(f, c, s, strlen(s)), 0);
}

/* The next response line (malloc'd), or NULL when the server closed. */
static char *client_line(struct fixture *f, struct client *c)
{
	for (int i = 0; i < POLL_ROUNDS; i++) {
		char *nl = memchr(c->buf, '\n', c->len);
		ssize_t n;

		if (nl != NULL) {
			size_t len = (size_t)(nl - c->buf);
			char *line = strndup(c->buf, len);

			memmove(c->buf, nl + 1, c->len - len - 1);
			c->len -= len + 1;
			return line;
		}
		if (c->closed)
			return NULL;
		n = recv(c->fd, c->buf + c->len, CLIENT_BUF - c->len,
			 MSG_DONTWAIT);
		if (n > 0)
			c->len += (size_t)n;
		else if (n == 0 || errno == ECONNRESET)
			c->closed = true;
		else
			assert_int_equal(ctl_server_poll(f->srv, 5), 0);
	}
	fail_msg("no response within %d polls", POLL_ROUNDS);
	return NULL;
}

static void client_expect(struct fixture *f, struct client *c,
			  const char *want)
{
	char *line = client_line(f, c);

	assert_non_null(line);
	assert_string_equal(line, want);
	free(line);
}

static void client_expect_closed(struct fixture *f, struct client *c)
{
	assert_null(client_line(f, c));
	assert_true(c->closed);
}

/* The server has had its chances and still says nothing. */
static void client_expect_silence(struct fixture *f, struct client *c)
{
	char byte;

	for (int i = 0; i < 3; i++)
		assert_int_equal(ctl_server_poll(f->srv, 0), 0);
	assert_int_equal(c->len, 0);
	assert_int_equal(recv(c->fd, &byte, 1, MSG_DONTWAIT), -1);
	assert_int_equal(errno, EAGAIN);
}

static void test_two_clients(void **state)
{
	struct fixture *f = *state;
	struct client *a = client_open(f->path), *b = client_open(f->path);
	char *line;

	client_puts(f, a, VERSION_REQ);
	client_puts(f, b, "{\"cmd\":\"echo\",\"args\":{\"who\":\"b\"}}\n");
	client_expect(f, b, "{\"ok\":true,\"result\":{\"who\":\"b\"}}");
	client_expect(f, a, VERSION_OK);
	client_puts(f, a, "{\"cmd\":\"nope\"}\n");
	client_expect(f, a, "{\"ok\":false,\"error\":"
		      "\"unknown command \\\"nope\\\"; try \\\"help\\\"\"}");
	/* errors leave the connection open */
	client_puts(f, a, "garbage\n");
	line = client_line(f, a);
	assert_non_null(line);
	assert_non_null(strstr(line, "invalid JSON"));
	free(line);
	client_puts(f, a, VERSION_REQ);
	client_expect(f, a, VERSION_OK);
	assert_int_equal(f->ctx.calls, 2);
	client_close(a);
	client_close(b);
}

static void test_split_request(void **state)
{
	static const char *const pieces[] = {
		"{\"cmd\"", ":\"vers", "ion\"", "}",
	};
	struct fixture *f = *state;
	struct client *c = client_open(f->path);

	for (size_t i = 0; i < 4; i++) {
		client_puts(f, c, pieces[i]);
		client_expect_silence(f, c);
	}
	client_puts(f, c, "\n");
	client_expect(f, c, VERSION_OK);
	client_close(c);
}

static void test_pipelined_requests(void **state)
{
	struct fixture *f = *state;
	struct client *c = client_open(f->path);
	char req[64], want[64];
	char *all = malloc(100 * sizeof(req));

	/* two requests in one write */
	client_puts(f, c, "{\"cmd\":\"echo\",\"args\":{\"n\":1}}\n"
		    "{\"cmd\":\"echo\",\"args\":{\"n\":2}}\n");
	client_expect(f, c, "{\"ok\":true,\"result\":{\"n\":1}}");
	client_expect(f, c, "{\"ok\":true,\"result\":{\"n\":2}}");

	/* many: answered over several polls, in order */
	all[0] = '\0';
	for (int i = 0; i < 100; i++) {
		snprintf(req, sizeof(req),
			 "{\"cmd\":\"echo\",\"args\":{\"n\":%d}}\n", i);
		strcat(all, req);
	}
	client_puts(f, c, all);
	for (int i = 0; i < 100; i++) {
		snprintf(want, sizeof(want),
			 "{\"ok\":true,\"result\":{\"n\":%d}}", i);
		client_expect(f, c, want);
	}
	free(all);
	client_close(c);
}

/* A line of exactly len bytes before its newline: a padded request. */
static char *padded_request(size_t len)
{
	char *line = malloc(len + 1);

	assert_non_null(line);
	memset(line, ' ', len);
	memcpy(line, VERSION_REQ, strlen(VERSION_REQ) - 1);
	line[len] = '\n';
	return line;
}

static void test_request_size_limit(void **state)
{
	struct fixture *f = *state;
	struct client *a = client_open(f->path), *b = client_open(f->path);
	char *fits = padded_request(CTL_REQUEST_MAX - 1);
	char *over = padded_request(CTL_REQUEST_MAX);
	char *huge = padded_request(3 * CTL_REQUEST_MAX);
	int rc;

	/* CTL_REQUEST_MAX counts the newline */
	assert_int_equal(client_write(f, a, fits, CTL_REQUEST_MAX), 0);
	client_expect(f, a, VERSION_OK);
	rc = client_write(f, a, over, CTL_REQUEST_MAX + 1);
	assert_true(rc == 0 || rc == -EPIPE || rc == -ECONNRESET);
	client_expect(f, a, TOO_LARGE);
	client_expect_closed(f, a);
	client_close(a);

	/* a client sending much more: b is served meanwhile */
	a = client_open(f->path);
	client_puts(f, b, VERSION_REQ);
	rc = client_write(f, a, huge, 3 * CTL_REQUEST_MAX + 1);
	assert_true(rc == 0 || rc == -EPIPE || rc == -ECONNRESET);
	client_expect(f, a, TOO_LARGE);
	client_expect_closed(f, a);
	client_expect(f, b, VERSION_OK);
	client_puts(f, b, VERSION_REQ);
	client_expect(f, b, VERSION_OK);

	client_close(a);
	client_close(b);
	free(fits);
	free(over);
	free(huge);
}

static void test_disconnect_mid_line(void **state)
{
	struct fixture *f = *state;
	struct client *c;

	/* more times than there are slots: each must be freed */
	for (int i = 0; i < CTL_CLIENTS_MAX + 4; i++) {
		c = client_open(f->path);
		client_puts(f, c, "{\"cmd\":\"vers");
		assert_int_equal(ctl_server_poll(f->srv, 0), 0);
		client_close(c);
		assert_int_equal(ctl_server_poll(f->srv, 0), 0);
	}
	/* gone before its answer could be sent: EPIPE, not SIGPIPE */
	c = client_open(f->path);
	client_puts(f, c, VERSION_REQ);
	client_close(c);
	for (int i = 0; i < 3; i++)
		assert_int_equal(ctl_server_poll(f->srv, 0), 0);

	c = client_open(f->path);
	client_puts(f, c, VERSION_REQ);
	client_expect(f, c, VERSION_OK);
	assert_int_equal(f->ctx.calls, 2);      /* the truncated ones: never */
	client_close(c);
}

static void test_half_close(void **state)
{
	struct fixture *f = *state;
	struct client *c = client_open(f->path);

	/* the request, then EOF at once: still answered, then closed */
	client_puts(f, c, VERSION_REQ "{\"cmd\":\"echo\"}\n{\"cmd\":");
	assert_int_equal(shutdown(c->fd, SHUT_WR), 0);
	client_expect(f, c, VERSION_OK);
	client_expect(f, c, "{\"ok\":true,\"result\":{}}");
	client_expect_closed(f, c);
	client_close(c);
}

static void test_too_many_clients(void **state)
{
	struct fixture *f = *state;
	struct client *cs[CTL_CLIENTS_MAX], *extra;

	for (int i = 0; i < CTL_CLIENTS_MAX; i++) {
		cs[i] = client_open(f->path);
		client_puts(f, cs[i], VERSION_REQ);
		client_expect(f, cs[i], VERSION_OK);
	}
	extra = client_open(f->path);
	client_expect(f, extra,
		      "{\"ok\":false,\"error\":\"too many clients (max 32)\"}");
	client_expect_closed(f, extra);
	client_close(extra);

	client_close(cs[0]);
	assert_int_equal(ctl_server_poll(f->srv, 0), 0);
	cs[0] = client_open(f->path);
	client_puts(f, cs[0], VERSION_REQ);
	client_expect(f, cs[0], VERSION_OK);
	for (int i = 0; i < CTL_CLIENTS_MAX; i++)
		client_close(cs[i]);
}

static double elapsed_ms(const struct timespec *t0)
{
	struct timespec t1;

	clock_gettime(CLOCK_MONOTONIC, &t1);
	return (double)(t1.tv_sec - t0->tv_sec) * 1e3 +
	       (double)(t1.tv_nsec - t0->tv_nsec) / 1e6;
}

static void test_slow_reader(void **state)
{
	struct fixture *f = *state;
	struct client *slow = client_open(f->path), *b = client_open(f->path);
	struct timespec t0;
	char *line;

	/* 1 MiB that slow does not read, and a request behind it */
	client_puts(f, slow, "{\"cmd\":\"big\"}\n" VERSION_REQ);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (int i = 0; i < 20; i++)
		assert_int_equal(ctl_server_poll(f->srv, 0), 0);
	assert_true(elapsed_ms(&t0) < 1000);
	client_puts(f, b, VERSION_REQ);
	client_expect(f, b, VERSION_OK);
	assert_int_equal(f->ctx.calls, 1);      /* slow's waits its turn */

	line = client_line(f, slow);
	assert_non_null(line);
	assert_int_equal(strlen(line), strlen("{\"ok\":true,\"result\":\"\"}") +
			 BIG_SIZE);
	free(line);
	client_expect(f, slow, VERSION_OK);
	client_close(slow);
	client_close(b);
}

static void test_address_in_use(void **state)
{
	struct fixture *f = *state;
	struct client *c;

	errno = 0;
	assert_null(ctl_server_create(f->path, 0600, test_cmds, N_CMDS, NULL));
	assert_int_equal(errno, EADDRINUSE);
	/* the first server still owns the path and answers */
	c = client_open(f->path);
	client_puts(f, c, VERSION_REQ);
	client_expect(f, c, VERSION_OK);
	client_close(c);
}

static void test_stale_socket_replaced(void **state)
{
	struct fixture *f = *state;
	struct sockaddr_un addr = { .sun_family = AF_UNIX };
	struct ctl_server *srv;
	int fd;

	/* a socket file nobody listens on, as a killed daemon leaves it */
	snprintf(addr.sun_path, sizeof(addr.sun_path), "%s/stale.sock",
		 f->dir);
	fd = socket(AF_UNIX, SOCK_STREAM, 0);
	assert_int_equal(bind(fd, (struct sockaddr *)&addr, sizeof(addr)), 0);
	close(fd);
	srv = ctl_server_create(addr.sun_path, 0600, test_cmds, N_CMDS, NULL);
	assert_non_null(srv);
	ctl_server_destroy(srv);
	assert_int_equal(access(addr.sun_path, F_OK), -1);
}

static void test_not_a_socket(void **state)
{
	struct fixture *f = *state;
	char path[160];
	FILE *fp;

	snprintf(path, sizeof(path), "%s/file", f->dir);
	fp = fopen(path, "w");
	assert_non_null(fp);
	fclose(fp);
	errno = 0;
	assert_null(ctl_server_create(path, 0600, test_cmds, N_CMDS, NULL));
	assert_int_equal(errno, EEXIST);
	assert_int_equal(access(path, F_OK), 0);        /* left alone */
	unlink(path);

	errno = 0;
	memset(path, 'a', sizeof(path) - 1);
	path[0] = '/';
	path[sizeof(path) - 1] = '\0';
	assert_null(ctl_server_create(path, 0600, test_cmds, N_CMDS, NULL));
	assert_int_equal(errno, ENAMETOOLONG);
}

static void test_mode_and_destroy(void **state)
{
	struct fixture *f = *state;
	struct ctl_server *srv;
	struct client *c;
	char path[200], dir[160];
	struct stat st;

	/* parents created as mkdir -p does */
	snprintf(dir, sizeof(dir), "%s/a/b", f->dir);
	snprintf(path, sizeof(path), "%s/ctl.sock", dir);
	srv = ctl_server_create(path, 0660, test_cmds, N_CMDS, &f->ctx);
	assert_non_null(srv);
	assert_int_equal(stat(dir, &st), 0);
	assert_true(S_ISDIR(st.st_mode));
	assert_int_equal(lstat(path, &st), 0);
	assert_true(S_ISSOCK(st.st_mode));
	assert_int_equal(st.st_mode & 07777, 0660);

	/* the epoll fd wakes a daemon's own event loop */
	c = client_open(path);
	assert_int_equal(poll(&(struct pollfd){ .fd = ctl_server_fd(srv),
					       .events = POLLIN }, 1, 1000), 1);
	assert_int_equal(ctl_server_poll(srv, 0), 0);

	/* destroy closes the clients and unlinks the path */
	ctl_server_destroy(srv);
	assert_int_equal(lstat(path, &st), -1);
	assert_int_equal(errno, ENOENT);
	assert_true(recv(c->fd, c->buf, 1, 0) == 0 || errno == ECONNRESET);
	client_close(c);
	ctl_server_destroy(NULL);
	rmdir(dir);
	snprintf(dir, sizeof(dir), "%s/a", f->dir);
	rmdir(dir);
}

static void test_client_helper(void **state)
{
	struct fixture *f = *state;
	char missing[160], *resp = NULL, *big;
	pid_t pid;
	int fd;

	snprintf(missing, sizeof(missing), "%s/missing.sock", f->dir);
	assert_int_equal(ctl_client_connect(missing), -ENOENT);

	/* nobody polls the server: connected, but no answer */
	fd = ctl_client_connect(f->path);
	assert_true(fd >= 0);
	assert_int_equal(ctl_client_call(fd, "{\"cmd\":\"version\"}", 17, 100,
					 &resp), -ETIMEDOUT);
	assert_null(resp);
	close(fd);

	/* a child serves while this process calls, as vtoed and vtoectl */
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		for (;;)
			ctl_server_poll(f->srv, 100);
	}
	fd = ctl_client_connect(f->path);
	assert_true(fd >= 0);
	assert_int_equal(ctl_client_call(fd, "{\"cmd\":\"version\"}", 17, 5000,
					 &resp), 0);
	assert_string_equal(resp, VERSION_OK);
	free(resp);
	assert_int_equal(ctl_client_call(fd, "", 0, 5000, &resp), 0);
	assert_non_null(strstr(resp, "empty request"));
	free(resp);
	close(fd);

	/* refused before it is all sent: the answer is still read */
	big = padded_request(16 * CTL_REQUEST_MAX);
	fd = ctl_client_connect(f->path);
	assert_true(fd >= 0);
	assert_int_equal(ctl_client_call(fd, big, 16 * CTL_REQUEST_MAX, 5000,
					 &resp), 0);
	assert_string_equal(resp, TOO_LARGE);
	free(resp);
	free(big);
	close(fd);
	kill(pid, SIGKILL);
	waitpid(pid, NULL, 0);
}

int main(void)
{
#define SERVER_TEST(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_request_table),
		cmocka_unit_test(test_request_exact_bytes),
		cmocka_unit_test(test_request_long_name_is_cut),
		cmocka_unit_test(test_request_help),
		SERVER_TEST(test_two_clients),
		SERVER_TEST(test_split_request),
		SERVER_TEST(test_pipelined_requests),
		SERVER_TEST(test_request_size_limit),
		SERVER_TEST(test_disconnect_mid_line),
		SERVER_TEST(test_half_close),
		SERVER_TEST(test_too_many_clients),
		SERVER_TEST(test_slow_reader),
		SERVER_TEST(test_address_in_use),
		SERVER_TEST(test_stale_socket_replaced),
		SERVER_TEST(test_not_a_socket),
		SERVER_TEST(test_mode_and_destroy),
		SERVER_TEST(test_client_helper),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
