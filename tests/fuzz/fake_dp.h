/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * A dataplane without EAL for the control commands (fake_dp.c): the
 * functions of dataplane/dp.h that src/mgmt/mgmt_api.c calls, over a
 * config parsed from a fixed port map.  It checks what the commands pass
 * down: a port id that is no port, an impairment out of range, a capture
 * request without its file or direction aborts.
 */
#ifndef VTOE_FUZZ_FAKE_DP_H
#define VTOE_FUZZ_FAKE_DP_H

#include <stdbool.h>

struct dp;

/* The switch, built once. */
struct dp *fake_dp_get(void);
/* Forget what the previous input changed (weights, impairments). */
void fake_dp_reset(struct dp *dp);
/* The next request passes a file descriptor (ctl_take_fd), or not. */
void fake_dp_pass_fd(bool pass);
/* After it: the descriptor was taken by the dataplane or closed. */
void fake_dp_fd_check(void);

#endif /* VTOE_FUZZ_FAKE_DP_H */
