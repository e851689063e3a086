/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Management of the switch, kept out of the data path: the control
 * socket's commands, DPDK telemetry, reading the config file again.  All
 * of it goes through the dataplane's public API (dp.h).
 */
#ifndef VTOE_MGMT_H
#define VTOE_MGMT_H

#include <stddef.h>

struct ctl_cmd;
struct dp;

/* The command table; handlers take the struct dp as their ctx. */
const struct ctl_cmd *mgmt_commands(size_t *n_cmds);

/* Re-read the config file with the same parser and checks as at start
 * and apply it (dp_reload); d says what became of each port.  0, or
 * -errno with err set (-EINVAL: nothing changed).  For the "reload"
 * command and SIGHUP. */
struct cfg_diff;
int mgmt_config_reload(struct dp *dp, struct cfg_diff *d, char *err,
		     size_t err_size);

/* Register /vtoe/... telemetry commands reading dp.  0 or -errno.
 * dp must outlive the EAL (telemetry has no unregister). */
int mgmt_telemetry_register(struct dp *dp);
/* Before dp is destroyed: make the telemetry commands answer "stopped". */
void mgmt_telemetry_unregister(void);

#endif /* VTOE_MGMT_H */
