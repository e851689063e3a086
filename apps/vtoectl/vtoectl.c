/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * vtoectl: the command-line client of vtoed's control socket.  Turns
 * COMMAND [ARGS...] into one request line, sends it with ctl_client, and
 * shows the response as tables (vtoectl_render.c) or as JSON.  Exit codes:
 * 0 ok, 1 the daemon answered with an error, 2 bad usage or no answer.
 */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>

#include "control/ctl_client.h"
#include "vtoectl_capture.h"
#include "vtoectl_render.h"

#ifndef VTOE_VERSION
#define VTOE_VERSION "unknown"
#endif

#define VTOECTL_SOCKET_DEFAULT "/run/vtoe/vtoed.sock"
#define VTOECTL_TIMEOUT_DEFAULT_S 5.0
#define VTOECTL_TIMEOUT_MAX_S 3600.0

enum vtoectl_exit {
	VTOECTL_EXIT_OK = 0,
	VTOECTL_EXIT_DAEMON_ERROR = 1,
	VTOECTL_EXIT_USAGE = 2,         /* also: no daemon, no answer */
};

struct vtoectl_opts {
	const char *socket;
	bool json;
	double timeout_s;
	const char *cmd;
	char **args;            /* after COMMAND */
	int n_args;
};

/* Bare words some commands take, in order: the keys they stand for. */
static const struct {
	const char *cmd;
	const char *key;
} positional_keys[] = {
	{ "stats", "port" },
	{ "toe", "port" },
	{ "impair", "port" },
	/* migrate PORT --to SOCKET | migrate PORT --cancel */
	{ "migrate", "port" },
	/* lcores [show] | lcores pin PORT:QUEUE LCORE | lcores unpin PORT:QUEUE */
	{ "lcores", "action" },
	{ "lcores", "queue" },
	{ "lcores", "lcore" },
	/* qos show [UPLINK] | qos set PORT weight N */
	{ "qos", "action" },
	{ "qos", "target" },
	{ "qos", "param" },
	{ "qos", "value" },
};

static const char *positional_key(const char *cmd, size_t index)
{
	for (size_t k = 0; k < sizeof(positional_keys) /
	     sizeof(positional_keys[0]); k++) {
		if (strcmp(positional_keys[k].cmd, cmd) != 0)
			continue;
		if (index-- == 0)
			return positional_keys[k].key;
	}
	return NULL;
}

static void usage(FILE *out)
{
	fprintf(out,
"usage: vtoectl [--socket PATH] [--json] [--timeout SEC] COMMAND [ARGS...]\n"
"\n"
"Send COMMAND to vtoed's control socket and show the answer.\n"
"\n"
"  -s, --socket PATH   control socket (default: $VTOE_SOCKET, else\n"
"                      " VTOECTL_SOCKET_DEFAULT ")\n"
"  -j, --json          print the result as JSON instead of tables\n"
"  -t, --timeout SEC   give up waiting for an answer after SEC seconds\n"
"                      (default: %g)\n"
"  -h, --help          show this help; 'vtoectl help' lists the commands\n"
"  -V, --version       show vtoectl's version\n"
"\n"
"ARGS are KEY=VALUE pairs (VALUE is sent as an integer when it is one);\n"
"'stats PORT' is short for 'stats port=PORT' (so is 'toe PORT'); 'qos show [UPLINK]' and\n"
"'qos set PORT weight N' are the scheduler's commands; 'migrate PORT\n"
"--to SOCKET' and 'migrate PORT --cancel' a client-mode live migration's;\n"
"'lcores pin PORT:QUEUE LCORE' moves a queue to a worker and keeps it\n"
"there, 'lcores unpin PORT:QUEUE' lets rebalancing move it again.\n"
"--KEY VALUE stands for KEY=VALUE, a lone --FLAG for FLAG=true.\n"
"'vtoectl raw LINE' sends LINE as it is and prints the answer line.\n"
"'vtoectl capture PORT -w FILE' writes PORT's frames to FILE as pcapng\n"
"('vtoectl capture --help' for its options).\n"
"\n"
"Exit status: 0 ok, 1 the daemon answered with an error, 2 usage error\n"
"or no answer from the daemon.\n",
		VTOECTL_TIMEOUT_DEFAULT_S);
}

static int usage_error(const char *fmt, ...)
	__attribute__((format(printf, 1, 2)));

static int usage_error(const char *fmt, ...)
{
	va_list ap;

	fputs("vtoectl: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputs("\nTry 'vtoectl --help'.\n", stderr);
	return -EINVAL;
}

static int opts_parse(int argc, char **argv, struct vtoectl_opts *o)
{
	static const struct option longopts[] = {
		{ "socket", required_argument, NULL, 's' },
		{ "json", no_argument, NULL, 'j' },
		{ "timeout", required_argument, NULL, 't' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 },
	};
	const char *env = getenv("VTOE_SOCKET");
	char *end;
	int opt;

	*o = (struct vtoectl_opts){
		.socket = env != NULL && env[0] != '\0' ?
			  env : VTOECTL_SOCKET_DEFAULT,
		.timeout_s = VTOECTL_TIMEOUT_DEFAULT_S,
	};
	/* "+": stop at COMMAND, its ARGS are not our options */
	while ((opt = getopt_long(argc, argv, "+s:jt:hV", longopts, NULL)) != -1) {
		switch (opt) {
		case 's':
			if (optarg[0] == '\0')
				return usage_error("empty --socket path");
			o->socket = optarg;
			break;
		case 'j':
			o->json = true;
			break;
		case 't':
			errno = 0;
			o->timeout_s = strtod(optarg, &end);
			if (errno != 0 || end == optarg || *end != '\0' ||
			    !(o->timeout_s > 0) ||
			    o->timeout_s > VTOECTL_TIMEOUT_MAX_S)
				return usage_error("invalid --timeout \"%s\" "
						   "(seconds, > 0, <= 3600)",
						   optarg);
			break;
		case 'h':
			usage(stdout);
			exit(VTOECTL_EXIT_OK);
		case 'V':
			printf("vtoectl %s\n", VTOE_VERSION);
			exit(VTOECTL_EXIT_OK);
		default:
			/* getopt already said what is wrong */
			fputs("Try 'vtoectl --help'.\n", stderr);
			return -EINVAL;
		}
	}
	if (optind >= argc)
		return usage_error("missing COMMAND");
	o->cmd = argv[optind];
	o->args = argv + optind + 1;
	o->n_args = argc - optind - 1;
	return 0;
}

/* VALUE as a JSON integer when all of it is one, else as a string. */
static json_t *arg_value(const char *text)
{
	long long n;
	char *end;

	if ((text[0] >= '0' && text[0] <= '9') ||
	    (text[0] == '-' && text[1] >= '0' && text[1] <= '9')) {
		errno = 0;
		n = strtoll(text, &end, 10);
		if (errno == 0 && *end == '\0')
			return json_integer(n);
	}
	return json_string(text);
}

/* The "args" object of the request; NULL after printing why not. */
static json_t *args_build(const struct vtoectl_opts *o)
{
	json_t *args = json_object();
	size_t n_positional = 0;

	if (args == NULL)
		return NULL;
	for (int i = 0; i < o->n_args; i++) {
		const char *arg = o->args[i];
		const char *eq = strchr(arg, '=');
		const char *key = NULL;
		char name[128];
		json_t *value;

		if (arg[0] == '-' && arg[1] == '-' && arg[2] != '\0' &&
		    eq == NULL) {
			/* --FLAG (true) or --KEY VALUE */
			key = arg + 2;
			if (i + 1 < o->n_args && o->args[i + 1][0] != '-') {
				value = json_string(o->args[++i]);
			} else {
				value = json_true();
			}
		} else if (eq == NULL) {
			key = positional_key(o->cmd, n_positional);
			if (key == NULL) {
				usage_error("unexpected argument \"%s\" "
					    "(arguments are KEY=VALUE)", arg);
				goto err;
			}
			n_positional++;
			value = json_string(arg);
		} else {
			if (eq == arg || (size_t)(eq - arg) >= sizeof(name)) {
				usage_error("invalid argument \"%s\" "
					    "(arguments are KEY=VALUE)", arg);
				goto err;
			}
			snprintf(name, sizeof(name), "%.*s", (int)(eq - arg),
				 arg);
			key = name;
			value = arg_value(eq + 1);
		}
		if (json_object_get(args, key) != NULL) {
			usage_error("argument \"%s\" given twice", key);
			json_decref(value);
			goto err;
		}
		/* json_string fails on text that is not UTF-8 */
		if (value == NULL || json_object_set_new(args, key, value) < 0) {
			usage_error("invalid argument \"%s\" (not UTF-8?)", arg);
			goto err;
		}
	}
	return args;
err:
	json_decref(args);
	return NULL;
}

/* The request line (malloc'd); args_out keeps the args for rendering. */
static char *request_build(const struct vtoectl_opts *o, json_t **args_out)
{
	json_t *req, *args;
	char *line;

	*args_out = NULL;
	if (strcmp(o->cmd, "raw") == 0) {
		if (o->n_args != 1) {
			usage_error("raw takes exactly one argument, the "
				    "request line");
			return NULL;
		}
		if (strchr(o->args[0], '\n') != NULL) {
			usage_error("raw request must be a single line");
			return NULL;
		}
		return strdup(o->args[0]);
	}
	args = args_build(o);
	if (args == NULL)
		return NULL;
	req = json_pack("{s:s,s:O}", "cmd", o->cmd, "args", args);
	line = req != NULL ? json_dumps(req, JSON_COMPACT) : NULL;
	json_decref(req);
	if (line == NULL) {
		usage_error("invalid command \"%s\"", o->cmd);
		json_decref(args);
		return NULL;
	}
	*args_out = args;
	return line;
}

/* Send line, wait for the answer; prints why not and returns NULL. */
static char *daemon_call(const struct vtoectl_opts *o, const char *line)
{
	char *resp = NULL;
	int fd, rc;

	fd = ctl_client_connect(o->socket);
	if (fd < 0) {
		fprintf(stderr, "vtoectl: cannot connect to %s: %s%s\n",
			o->socket, strerror(-fd),
			fd == -ENOENT || fd == -ECONNREFUSED ?
			" (is vtoed running? see --socket and VTOE_SOCKET)" :
			fd == -EACCES ? " (try as root or as the socket's group)"
				      : "");
		return NULL;
	}
	rc = ctl_client_call(fd, line, strlen(line),
			     (int)(o->timeout_s * 1000 + 0.5), &resp);
	close(fd);
	if (rc == -ETIMEDOUT)
		fprintf(stderr, "vtoectl: no answer from %s within %g s\n",
			o->socket, o->timeout_s);
	else if (rc == -ECONNRESET)
		fprintf(stderr, "vtoectl: %s closed the connection without "
			"answering\n", o->socket);
	else if (rc < 0)
		fprintf(stderr, "vtoectl: %s: %s\n", o->socket, strerror(-rc));
	return rc == 0 ? resp : NULL;
}

/* Show the response; returns the exit status. */
static int response_show(const struct vtoectl_opts *o, json_t *args,
			 const char *line)
{
	bool raw = strcmp(o->cmd, "raw") == 0;
	json_t *resp, *ok, *result;
	json_error_t jerr;
	int status, rc;

	if (raw)
		printf("%s\n", line);
	resp = json_loads(line, JSON_REJECT_DUPLICATES, &jerr);
	ok = json_object_get(resp, "ok");
	if (!json_is_boolean(ok)) {
		fprintf(stderr, "vtoectl: invalid answer from %s: %s\n",
			o->socket, resp == NULL ? jerr.text :
			"no \"ok\" field");
		json_decref(resp);
		return VTOECTL_EXIT_USAGE;
	}

	if (json_is_false(ok)) {
		const char *err = json_string_value(
			json_object_get(resp, "error"));

		if (o->json && !raw)
			render_json(stdout, resp);
		fprintf(stderr, "vtoectl: %s\n", err != NULL ? err :
			"the daemon reported an error without a message");
		json_decref(resp);
		return VTOECTL_EXIT_DAEMON_ERROR;
	}

	status = VTOECTL_EXIT_OK;
	result = json_object_get(resp, "result");
	if (!raw) {
		rc = o->json ? render_json(stdout, result) :
			       render_result(stdout, o->cmd, args, result);
		if (rc == -ENOMEM) {
			fprintf(stderr, "vtoectl: out of memory\n");
			status = VTOECTL_EXIT_USAGE;
		}
	}
	json_decref(resp);
	return status;
}

int main(int argc, char **argv)
{
	struct vtoectl_opts o;
	json_t *args = NULL;
	char *line, *resp;
	int status;

	if (opts_parse(argc, argv, &o) < 0)
		return VTOECTL_EXIT_USAGE;
	/* A capture is a session, not one request. */
	if (strcmp(o.cmd, "capture") == 0)
		return vtoectl_capture(o.socket, o.timeout_s, o.json,
				       o.n_args + 1, o.args - 1);
	line = request_build(&o, &args);
	if (line == NULL)
		return VTOECTL_EXIT_USAGE;
	resp = daemon_call(&o, line);
	free(line);
	if (resp == NULL) {
		json_decref(args);
		return VTOECTL_EXIT_USAGE;
	}
	status = response_show(&o, args, resp);
	free(resp);
	json_decref(args);

	if (fflush(stdout) != 0 || ferror(stdout)) {
		fprintf(stderr, "vtoectl: cannot write the output: %s\n",
			strerror(errno));
		return VTOECTL_EXIT_USAGE;
	}
	return status;
}
