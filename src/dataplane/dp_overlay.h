/* SPDX-License-Identifier: BSD-3-Clause */
/* The overlay and its cluster directory as the control socket shows them
 * (dp_overlay.c). */
#ifndef VTOE_DP_OVERLAY_H
#define VTOE_DP_OVERLAY_H

#include <stddef.h>
#include <stdint.h>

struct dp;
struct json_t;

/* "vtoectl cluster": this host's tunnel endpoint, the directory session,
 * the other hosts and their VM ports, the counters.  NULL without
 * overlay:.  A new reference. */
struct json_t *dp_overlay_json(const struct dp *dp);

/* For the telemetry thread: the directory session's state and counters
 * as of the main thread's last dispatch, and the workers' overlay
 * counters, as name/value pairs.  How many were written (at most max);
 * 0 without overlay:. */
struct dp_overlay_value {
	const char *name;
	uint64_t value;
};
unsigned int dp_overlay_values(const struct dp *dp, struct dp_overlay_value *out,
			       unsigned int max, char *state, size_t state_size);

#endif /* VTOE_DP_OVERLAY_H */
