/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The control protocol, without sockets: one request line in, one response
 * line out.  Parses and checks {"cmd": ..., "args": {...}}, dispatches to
 * the handler table, and turns every failure into {"ok": false, "error"}
 * with a message a person can act on.  ctl_server.c feeds it lines.
 */
#include "ctl.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#define CTL_ERROR_MAX 512
#define CTL_NAME_QUOTE_MAX 64   /* bytes of a user-given name echoed back */

static char *response_dump(json_t *resp)
{
	char *s = resp != NULL ? json_dumps(resp, JSON_COMPACT) : NULL;

	json_decref(resp);
	if (s == NULL)
		/* a result string that is not UTF-8, or no memory */
		s = strdup("{\"ok\":false,\"error\":\"cannot encode the response\"}");
	return s;
}

static char *response_error(const char *fmt, ...)
	__attribute__((format(printf, 1, 2)));

static char *response_error(const char *fmt, ...)
{
	char msg[CTL_ERROR_MAX];
	json_t *resp;
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	resp = json_pack("{s:b,s:s}", "ok", 0, "error", msg);
	if (resp == NULL) {
		/*
		 * Not UTF-8: bytes from a handler, or a client's text the
		 * parser quoted and cut mid-character.
		 */
		for (char *p = msg; *p != '\0'; p++)
			if ((unsigned char)*p >= 0x80)
				*p = '?';
		resp = json_pack("{s:b,s:s}", "ok", 0, "error", msg);
	}
	return response_dump(resp);
}

static char *response_ok(json_t *result)
{
	json_t *resp;

	if (result == NULL)
		return response_dump(NULL);
	resp = json_object();
	if (resp == NULL) {
		json_decref(result);
		return NULL;
	}
	/* set_new takes result even when it fails */
	if (json_object_set_new(resp, "ok", json_true()) < 0 ||
	    json_object_set_new(resp, "result", result) < 0) {
		json_decref(resp);
		return NULL;
	}
	return response_dump(resp);
}

/*
 * Copy a client-given name for an error message: bounded, and cut on a
 * UTF-8 character boundary so that the message stays valid JSON.
 */
static const char *name_quote(const char *name, char *buf, size_t size)
{
	size_t len = strlen(name);

	if (len < size)
		return name;
	len = size - 4;
	while (len > 0 && ((unsigned char)name[len] & 0xc0) == 0x80)
		len--;
	snprintf(buf, size, "%.*s...", (int)len, name);
	return buf;
}

static const char *json_type_name(const json_t *v)
{
	switch (json_typeof(v)) {
	case JSON_OBJECT: return "an object";
	case JSON_ARRAY: return "an array";
	case JSON_STRING: return "a string";
	case JSON_INTEGER: return "an integer";
	case JSON_REAL: return "a number";
	case JSON_TRUE:
	case JSON_FALSE: return "a boolean";
	case JSON_NULL: return "null";
	}
	return "unknown";
}

static json_t *help_result(const struct ctl_cmd *cmds, size_t n_cmds)
{
	json_t *list = json_array();

	if (list == NULL ||
	    json_array_append_new(list, json_pack("{s:s,s:s}", "name", "help",
						  "help", "list the commands")) < 0)
		goto err;
	for (size_t i = 0; i < n_cmds; i++) {
		if (strcmp(cmds[i].name, "help") == 0)
			continue;       /* shadowed by the built-in */
		if (json_array_append_new(list, json_pack("{s:s,s:s}",
			"name", cmds[i].name,
			"help", cmds[i].help != NULL ? cmds[i].help : "")) < 0)
			goto err;
	}
	return list;
err:
	json_decref(list);
	return NULL;
}

static char *request_dispatch(const struct ctl_cmd *cmds, size_t n_cmds,
			      void *ctx, const char *name, json_t *args)
{
	char quoted[CTL_NAME_QUOTE_MAX];
	char err[CTL_ERROR_MAX] = "";
	const struct ctl_cmd *cmd = NULL;
	json_t *result;

	if (strcmp(name, "help") == 0)
		return response_ok(help_result(cmds, n_cmds));
	for (size_t i = 0; i < n_cmds && cmd == NULL; i++)
		if (strcmp(cmds[i].name, name) == 0)
			cmd = &cmds[i];
	if (cmd == NULL || cmd->fn == NULL)
		return response_error("unknown command \"%s\"; try \"help\"",
				      name_quote(name, quoted, sizeof(quoted)));

	result = cmd->fn(ctx, args, err, sizeof(err));
	if (result != NULL)
		return response_ok(result);
	err[sizeof(err) - 1] = '\0';    /* the handler may have filled it all */
	if (err[0] == '\0')
		return response_error("command \"%s\" failed", name);
	return response_error("%s", err);
}

char *ctl_handle_request(const struct ctl_cmd *cmds, size_t n_cmds, void *ctx,
			 const char *line, size_t len)
{
	char quoted[CTL_NAME_QUOTE_MAX];
	json_error_t jerr;
	json_t *req, *cmd, *args, *value;
	const char *key;
	char *resp;
	size_t i;

	for (i = 0; i < len && memchr(" \t\r", line[i], 3) != NULL; i++)
		;
	if (i == len)
		return response_error("empty request; expected "
				      "{\"cmd\": \"...\", \"args\": {...}}");

	/* DECODE_ANY: a non-object gets our message, not the parser's */
	req = json_loadb(line, len, JSON_REJECT_DUPLICATES | JSON_DECODE_ANY,
			 &jerr);
	if (req == NULL)
		return response_error("invalid JSON at column %d: %s",
				      jerr.column, jerr.text);

	if (!json_is_object(req)) {
		resp = response_error("request must be a JSON object, not %s",
				      json_type_name(req));
		goto out;
	}
	/* a typo such as {"cmd": "stats", "port": 1} must not go unnoticed */
	json_object_foreach(req, key, value) {
		if (strcmp(key, "cmd") != 0 && strcmp(key, "args") != 0) {
			resp = response_error("unknown key \"%s\" in request; "
					      "command arguments go in \"args\"",
					      name_quote(key, quoted,
							 sizeof(quoted)));
			goto out;
		}
	}
	cmd = json_object_get(req, "cmd");
	if (cmd == NULL) {
		resp = response_error("missing \"cmd\"");
		goto out;
	}
	if (!json_is_string(cmd)) {
		resp = response_error("\"cmd\" must be a string, not %s",
				      json_type_name(cmd));
		goto out;
	}
	args = json_object_get(req, "args");
	if (args == NULL) {
		args = json_object();
		if (args == NULL || json_object_set_new(req, "args", args) < 0) {
			resp = NULL;
			goto out;
		}
	} else if (!json_is_object(args)) {
		resp = response_error("\"args\" must be an object, not %s",
				      json_type_name(args));
		goto out;
	}
	resp = request_dispatch(cmds, n_cmds, ctx, json_string_value(cmd), args);
out:
	json_decref(req);
	return resp;
}
