/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * vtoectl capture PORT [-d rx|tx|both] [-c N] [-s SNAPLEN] [-f EXPR]
 *                      [--no-drops] [--duration SEC] -w FILE|-
 *
 * Opens FILE here (with the caller's rights) and passes its descriptor to
 * vtoed, which writes pcapng into it; then asks how the capture goes until
 * it ends (count reached) or is stopped (SIGINT, SIGTERM, --duration).
 * vtoed ends a capture nobody asks after, so a killed vtoectl leaves
 * nothing running.
 */
#include "vtoectl_capture.h"

#include <errno.h>
#include <stdint.h>
#include <fcntl.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "control/ctl_client.h"

#define POLL_MS 200

static volatile sig_atomic_t capture_stop;

static void
on_signal(int sig)
{
	(void)sig;
	capture_stop = 1;
}

static void
capture_usage(FILE *out)
{
	fputs("usage: vtoectl capture PORT [--direction rx|tx|both] [--count N]\n"
	      "         [--snaplen N] [--filter 'BPF EXPRESSION'] [--no-drops]\n"
	      "         [--duration SEC] -w FILE.pcapng|-\n"
	      "       vtoectl capture --list\n"
	      "Frames the switch receives from PORT (rx), sends to it (tx), and\n"
	      "drops on their way (with the reason as a comment), as pcapng.\n"
	      "Ends after N frames, after SEC seconds, or on Ctrl-C.\n", out);
}

/* One request on fd; returns the parsed answer's result or NULL after
 * saying why. */
static json_t *
call(int fd, json_t *req, int timeout_ms, int pass_fd, const char *socket)
{
	char *line = json_dumps(req, JSON_COMPACT), *resp = NULL;
	json_t *ans, *result = NULL;
	int rc;

	if (line == NULL)
		return NULL;
	rc = ctl_client_call_fd(fd, line, strlen(line), timeout_ms, &resp,
				pass_fd);
	free(line);
	if (rc < 0) {
		fprintf(stderr, "vtoectl: %s: %s\n", socket, strerror(-rc));
		return NULL;
	}
	ans = json_loads(resp, 0, NULL);
	free(resp);
	if (json_is_true(json_object_get(ans, "ok"))) {
		result = json_incref(json_object_get(ans, "result"));
	} else {
		const char *e = json_string_value(json_object_get(ans, "error"));

		fprintf(stderr, "vtoectl: %s\n", e != NULL ? e : "invalid answer");
	}
	json_decref(ans);
	return result;
}

static int64_t
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* vtoectl capture --list: the captures running and just ended. */
static int
capture_list(const char *socket, int timeout_ms, bool json_out, bool alone)
{
	json_t *req, *res;
	size_t i;
	json_t *c;
	int sock;

	if (!alone) {
		capture_usage(stderr);
		return 2;
	}
	sock = ctl_client_connect(socket);
	if (sock < 0) {
		fprintf(stderr, "vtoectl: cannot connect to %s: %s\n", socket,
			strerror(-sock));
		return 2;
	}
	req = json_pack("{s:s, s:{s:s}}", "cmd", "capture", "args", "action", "list");
	res = call(sock, req, timeout_ms, -1, socket);
	json_decref(req);
	close(sock);
	if (res == NULL)
		return 1;
	if (json_out) {
		json_dumpf(res, stdout, JSON_INDENT(2));
		fputc('\n', stdout);
	} else {
		printf("%-4s %-16s %-9s %10s %10s %8s  %s\n", "ID", "PORT", "DIRECTION",
		       "WRITTEN", "BYTES", "LOST", "STATE");
		json_array_foreach(res, i, c)
			printf("%-4lld %-16s %-9s %10lld %10lld %8lld  %s\n",
			       (long long)json_integer_value(json_object_get(c, "id")),
			       json_string_value(json_object_get(c, "port")),
			       json_string_value(json_object_get(c, "direction")),
			       (long long)json_integer_value(json_object_get(c, "written")),
			       (long long)json_integer_value(json_object_get(c, "bytes")),
			       (long long)json_integer_value(json_object_get(c, "lost")),
			       json_is_true(json_object_get(c, "done")) ?
			       json_string_value(json_object_get(c, "ended")) : "running");
	}
	json_decref(res);
	return 0;
}

int
vtoectl_capture(const char *socket, double timeout_s, bool json_out,
		int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "direction", required_argument, NULL, 'd' },
		{ "count", required_argument, NULL, 'c' },
		{ "snaplen", required_argument, NULL, 's' },
		{ "filter", required_argument, NULL, 'f' },
		{ "no-drops", no_argument, NULL, 'D' },
		{ "duration", required_argument, NULL, 't' },
		{ "write", required_argument, NULL, 'w' },
		{ "list", no_argument, NULL, 'l' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *port = NULL, *dir = "both", *filter = NULL, *path = NULL;
	long long count = 0, snaplen = 0;
	double duration = 0;
	bool drops = true, list = false;
	int timeout_ms = (int)(timeout_s * 1000 + 0.5);
	struct sigaction sa = { .sa_handler = on_signal };
	json_t *args, *req, *st = NULL;
	int opt, sock, file, status = 1;
	int64_t until;
	char *end;

	optind = 0;
	while ((opt = getopt_long(argc, argv, "+d:c:s:f:t:w:h", longopts, NULL)) != -1) {
		switch (opt) {
		case 'd': dir = optarg; break;
		case 'f': filter = optarg; break;
		case 'D': drops = false; break;
		case 'w': path = optarg; break;
		case 'c':
		case 's':
		{
			long long v;

			errno = 0;
			v = strtoll(optarg, &end, 10);
			if (errno != 0 || *end != '\0' || optarg[0] == '-') {
				fprintf(stderr, "vtoectl: capture: invalid number \"%s\"\n", optarg);
				return 2;
			}
			*(opt == 'c' ? &count : &snaplen) = v;
			break;
		}
		case 't':
			duration = strtod(optarg, &end);
			if (*end != '\0' || !(duration > 0)) {
				fprintf(stderr, "vtoectl: capture: invalid duration \"%s\"\n", optarg);
				return 2;
			}
			break;
		case 'l': list = true; break;
		case 'h':
			capture_usage(stdout);
			return 0;
		default:
			capture_usage(stderr);
			return 2;
		}
	}
	if (list)
		return capture_list(socket, timeout_ms, json_out, optind == argc);
	if (optind < argc)
		port = argv[optind++];
	if (port == NULL || path == NULL || optind != argc) {
		capture_usage(stderr);
		return 2;
	}
	if (strcmp(path, "-") == 0)
		file = fcntl(STDOUT_FILENO, F_DUPFD_CLOEXEC, 3);
	else
		file = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (file < 0) {
		fprintf(stderr, "vtoectl: capture: %s: %s\n", path, strerror(errno));
		return 2;
	}
	sock = ctl_client_connect(socket);
	if (sock < 0) {
		fprintf(stderr, "vtoectl: cannot connect to %s: %s\n", socket,
			strerror(-sock));
		close(file);
		return 2;
	}
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);

	args = json_pack("{s:s, s:s, s:s, s:b}", "action", "start", "port", port,
			 "direction", dir, "drops", drops);
	if (count > 0)
		json_object_set_new(args, "count", json_integer(count));
	if (snaplen > 0)
		json_object_set_new(args, "snaplen", json_integer(snaplen));
	if (filter != NULL)
		json_object_set_new(args, "filter", json_string(filter));
	req = json_pack("{s:s, s:O}", "cmd", "capture", "args", args);
	st = call(sock, req, timeout_ms, file, socket);
	close(file);
	json_decref(req);
	if (st == NULL)
		goto out;
	json_object_set_new(args, "action", json_string("status"));
	json_object_set(args, "id", json_object_get(st, "id"));
	until = duration > 0 ? now_ms() + (int64_t)(duration * 1000) : INT64_MAX;
	req = json_pack("{s:s, s:O}", "cmd", "capture", "args", args);
	while (!json_is_true(json_object_get(st, "done"))) {
		struct timespec ts = { .tv_nsec = POLL_MS * 1000000L };

		if (capture_stop || now_ms() >= until)
			json_object_set_new(args, "action", json_string("stop"));
		else
			nanosleep(&ts, NULL);       /* a signal cuts it short */
		json_decref(st);
		st = call(sock, req, timeout_ms, -1, socket);
		if (st == NULL)
			break;
	}
	json_decref(req);
	if (st != NULL) {
		const char *ended = json_string_value(json_object_get(st, "ended"));

		if (json_out) {
			json_dumpf(st, stdout, JSON_INDENT(2));
			fputc('\n', stdout);
		}
		fprintf(stderr, "capture %lld of %s: %lld frame(s) written, %lld lost, %lld bytes (%lld seen, %lld filtered out); ended: %s\n",
			(long long)json_integer_value(json_object_get(st, "id")),
			json_string_value(json_object_get(st, "port")),
			(long long)json_integer_value(json_object_get(st, "written")),
			(long long)json_integer_value(json_object_get(st, "lost")),
			(long long)json_integer_value(json_object_get(st, "bytes")),
			(long long)json_integer_value(json_object_get(st, "seen")),
			(long long)json_integer_value(json_object_get(st, "filtered")),
			ended != NULL ? ended : "?");
		status = json_object_get(st, "write_error") != NULL ? 1 : 0;
	}
out:
	json_decref(st);
	json_decref(args);
	close(sock);
	return status;
}
