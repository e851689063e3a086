/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The control protocol on any request line (ctl_handle_request,
 * src/control/ctl_proto.c), dispatched twice: to a table like the unit
 * test's (echo, failing handlers, a non-UTF-8 reason), and to vtoed's own
 * command table (src/mgmt/mgmt_api.c, compiled in) over a dataplane
 * without EAL (fake_dp.c), so every command's argument handling runs.
 *
 * Invariant: no crash, no leak; every answer is one line of valid JSON:
 * {"ok": true, "result": ...} or {"ok": false, "error": "non-empty"},
 * nothing else; echo returns exactly the args it was given; a command
 * passes the dataplane only port ids it found and impairments in range
 * (fake_dp.c aborts otherwise); a file descriptor passed with a request
 * is taken by the dataplane or closed, never left open.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <jansson.h>

#include "control/ctl.h"
#include "mgmt/mgmt.h"
#include "fake_dp.h"
#include "fuzz.h"

static json_t *
cmd_echo(void *ctx, json_t *args, char *err, size_t err_size)
{
	(void)ctx, (void)err, (void)err_size;
	return json_incref(args);
}

static json_t *
cmd_fail(void *ctx, json_t *args, char *err, size_t err_size)
{
	const char *port = json_string_value(json_object_get(args, "port"));

	(void)ctx;
	snprintf(err, err_size, "port \"%s\" not found", port ? port : "?");
	return NULL;
}

static json_t *
cmd_fail_silent(void *ctx, json_t *args, char *err, size_t err_size)
{
	(void)ctx, (void)args, (void)err, (void)err_size;
	return NULL;
}

/* A reason that fills the whole buffer, not terminated. */
static json_t *
cmd_fail_full(void *ctx, json_t *args, char *err, size_t err_size)
{
	(void)ctx, (void)args;
	memset(err, 0xc3, err_size);
	return NULL;
}

static const struct ctl_cmd test_cmds[] = {
	{ "echo", "return the args", cmd_echo },
	{ "fail", "fail with a reason", cmd_fail },
	{ "fail_silent", NULL, cmd_fail_silent },
	{ "fail_full", "fail with a reason as long as the buffer", cmd_fail_full },
	{ "nofn", "a command without a handler", NULL },
};

/* The answer is one line: {"ok":true,"result":X} or {"ok":false,"error":S}.
 * Returns the result (borrowed from *resp_out) or NULL. */
static json_t *
check_response(const char *resp, json_t **resp_out)
{
	json_error_t jerr;
	json_t *r, *ok, *v;

	FUZZ_CHECK(resp != NULL);
	FUZZ_CHECK(strchr(resp, '\n') == NULL);
	r = json_loads(resp, 0, &jerr);
	FUZZ_CHECK(r != NULL && json_is_object(r));
	FUZZ_CHECK(json_object_size(r) == 2);
	ok = json_object_get(r, "ok");
	FUZZ_CHECK(json_is_boolean(ok));
	if (json_is_true(ok)) {
		v = json_object_get(r, "result");
		FUZZ_CHECK(v != NULL);
	} else {
		v = json_object_get(r, "error");
		FUZZ_CHECK(json_is_string(v) && json_string_length(v) > 0);
		v = NULL;
	}
	*resp_out = r;
	return v;
}

/* The args of a well-formed {"cmd": "echo", "args": {...}}, or NULL. */
static json_t *
echo_args(const uint8_t *data, size_t size)
{
	json_t *req = json_loadb((const char *)data, size,
				 JSON_REJECT_DUPLICATES | JSON_DECODE_ANY, NULL);
	json_t *cmd, *args;

	if (req == NULL)
		return NULL;
	cmd = json_object_get(req, "cmd");
	args = json_object_get(req, "args");
	if (!json_is_object(req) || !json_is_string(cmd) ||
	    strcmp(json_string_value(cmd), "echo") != 0 ||
	    json_object_size(req) != 2 || !json_is_object(args)) {
		json_decref(req);
		return NULL;
	}
	json_incref(args);
	json_decref(req);
	return args;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct dp *dp = fake_dp_get();
	const struct ctl_cmd *cmds;
	size_t n_cmds;
	json_t *r, *result, *args;
	char *resp;

	if (size >= CTL_REQUEST_MAX)
		return 0;       /* the server refuses longer lines before this */

	resp = ctl_handle_request(test_cmds, sizeof(test_cmds) / sizeof(test_cmds[0]),
				  NULL, (const char *)data, size);
	result = check_response(resp, &r);
	args = echo_args(data, size);
	if (args != NULL) {
		FUZZ_CHECK(result != NULL && json_equal(result, args));
		json_decref(args);
	}
	json_decref(r);
	free(resp);

	fake_dp_reset(dp);
	fake_dp_pass_fd(size % 2 == 0);
	cmds = mgmt_commands(&n_cmds);
	resp = ctl_handle_request(cmds, n_cmds, dp, (const char *)data, size);
	check_response(resp, &r);
	fake_dp_fd_check();
	json_decref(r);
	free(resp);
	return 0;
}
