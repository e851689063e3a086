/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The switch's control commands (for the ctl socket) and its DPDK
 * telemetry commands: both read the same counters through dp.h.
 */
#ifndef VTOE_DP_API_H
#define VTOE_DP_API_H

#include <stddef.h>

struct ctl_cmd;
struct dp;

/* The command table; handlers take the struct dp as their ctx. */
const struct ctl_cmd *dp_api_commands(size_t *n_cmds);

/* Re-read the config file with the same parser and checks as at start
 * and apply it (dp_reload); d says what became of each port.  0, or
 * -errno with err set (-EINVAL: nothing changed).  For the "reload"
 * command and SIGHUP. */
struct cfg_diff;
int dp_config_reload(struct dp *dp, struct cfg_diff *d, char *err,
		     size_t err_size);

/* Register /vtoe/... telemetry commands reading dp.  0 or -errno.
 * dp must outlive the EAL (telemetry has no unregister). */
int dp_telemetry_register(struct dp *dp);
/* Before dp is destroyed: make the telemetry commands answer "stopped". */
void dp_telemetry_unregister(void);

#endif /* VTOE_DP_API_H */
