/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The capture command: start a capture of a port into the file whose
 * descriptor came with the request, ask how one goes (which keeps it
 * alive), stop it, list them.  vtoectl capture drives it.
 */
#include "mgmt_priv.h"

#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "config/cfg.h"
#include "control/ctl.h"
#include "dataplane/dp.h"

static json_t *
capture_json(const struct dp_capture_info *ci)
{
	json_t *o = json_pack("{s:i, s:s, s:s, s:b, s:I, s:I, s:b, s:I, s:I, s:I, s:I, s:I}",
			      "id", ci->id, "port", ci->port,
			      "direction", (ci->dirs & (DP_CAP_RX | DP_CAP_TX)) ==
					   (DP_CAP_RX | DP_CAP_TX) ? "both" :
					   ci->dirs & DP_CAP_RX ? "rx" :
					   ci->dirs & DP_CAP_TX ? "tx" : "none",
			      "drops", (ci->dirs & DP_CAP_DROPS) != 0,
			      "snaplen", (json_int_t)ci->snaplen,
			      "count", (json_int_t)ci->count,
			      "done", ci->done,
			      "seen", (json_int_t)ci->seen,
			      "filtered", (json_int_t)ci->filtered,
			      "written", (json_int_t)ci->written,
			      "lost", (json_int_t)ci->lost,
			      "bytes", (json_int_t)ci->bytes);

	if (o != NULL && ci->filter[0] != '\0')
		json_object_set_new(o, "filter", json_string(ci->filter));
	if (o != NULL && ci->done)
		json_object_set_new(o, "ended", json_string(ci->why));
	if (o != NULL && ci->error != 0)
		json_object_set_new(o, "write_error", json_integer(ci->error));
	return o;
}

/* An optional non-negative integer argument: 0 when absent, -1 bad. */
static int
arg_uint(json_t *args, const char *key, uint64_t max, uint64_t *v,
	 char *err, size_t err_size)
{
	json_t *j = json_object_get(args, key);

	*v = 0;
	if (j == NULL)
		return 0;
	if (!json_is_integer(j) || json_integer_value(j) < 0 ||
	    (uint64_t)json_integer_value(j) > max) {
		snprintf(err, err_size, "capture: %s must be an integer from 0 to %llu",
			 key, (unsigned long long)max);
		return -1;
	}
	*v = (uint64_t)json_integer_value(j);
	return 0;
}

static json_t *
capture_start(struct dp *dp, json_t *args, char *err, size_t err_size)
{
	const char *port = json_string_value(json_object_get(args, "port"));
	const char *dir = json_string_value(json_object_get(args, "direction"));
	json_t *jfilter = json_object_get(args, "filter");
	json_t *jdrops = json_object_get(args, "drops");
	struct dp_capture_req req = { .port = port, .fd = ctl_take_fd() };
	struct dp_capture_info ci;
	uint64_t v;
	int id;

	if (req.fd < 0) {
		snprintf(err, err_size, "capture: start needs the file's descriptor passed with the request (vtoectl capture does that)");
		return NULL;
	}
	if (port == NULL) {
		snprintf(err, err_size, "capture: usage: start port=PORT [direction=rx|tx|both] [count=N] [snaplen=N] [filter=EXPR] [drops=false]");
		goto fail;
	}
	if (dir == NULL || strcmp(dir, "both") == 0) {
		req.dirs = DP_CAP_RX | DP_CAP_TX;
	} else if (strcmp(dir, "rx") == 0) {
		req.dirs = DP_CAP_RX;
	} else if (strcmp(dir, "tx") == 0) {
		req.dirs = DP_CAP_TX;
	} else {
		snprintf(err, err_size, "capture: direction is rx, tx or both");
		goto fail;
	}
	if (jdrops != NULL && !json_is_boolean(jdrops)) {
		snprintf(err, err_size, "capture: drops is true or false");
		goto fail;
	}
	if (!json_is_false(jdrops))
		req.dirs |= DP_CAP_DROPS;
	if (jfilter != NULL && !json_is_string(jfilter)) {
		snprintf(err, err_size, "capture: filter is a string (a tcpdump expression)");
		goto fail;
	}
	req.filter = json_string_value(jfilter);
	if (arg_uint(args, "count", INT64_MAX, &req.count, err, err_size) != 0 ||
	    arg_uint(args, "snaplen", UINT32_MAX, &v, err, err_size) != 0)
		goto fail;
	req.snaplen = (uint32_t)v;
	id = dp_capture_start(dp, &req, err, err_size);      /* takes the fd */
	if (id < 0)
		return NULL;
	if (dp_capture_info(dp, id, &ci) != 0) {
		snprintf(err, err_size, "capture %d ended at once", id);
		return NULL;
	}
	return capture_json(&ci);
fail:
	close(req.fd);
	return NULL;
}

json_t *
mgmt_api_capture(void *ctx, json_t *args, char *err, size_t err_size)
{
	struct dp *dp = ctx;
	const char *action = json_string_value(json_object_get(args, "action"));
	struct dp_capture_info ci;
	uint64_t id;

	if (action == NULL || strcmp(action, "list") == 0) {
		int ids[DP_CAPTURES_MAX];
		unsigned int n = dp_capture_list(dp, ids, DP_CAPTURES_MAX);
		json_t *arr = json_array();

		for (unsigned int i = 0; arr != NULL && i < n; i++)
			if (dp_capture_info(dp, ids[i], &ci) == 0)
				json_array_append_new(arr, capture_json(&ci));
		return arr;
	}
	if (strcmp(action, "start") == 0)
		return capture_start(dp, args, err, err_size);
	if (strcmp(action, "status") != 0 && strcmp(action, "stop") != 0) {
		snprintf(err, err_size, "capture: action is start, status, stop or list");
		return NULL;
	}
	if (arg_uint(args, "id", INT32_MAX, &id, err, err_size) != 0)
		return NULL;
	if (strcmp(action, "stop") == 0 && dp_capture_stop(dp, (int)id) != 0) {
		snprintf(err, err_size, "capture: no capture %llu", (unsigned long long)id);
		return NULL;
	}
	if (dp_capture_keep(dp, (int)id) != 0 ||
	    dp_capture_info(dp, (int)id, &ci) != 0) {
		snprintf(err, err_size, "capture: no capture %llu", (unsigned long long)id);
		return NULL;
	}
	return capture_json(&ci);
}
