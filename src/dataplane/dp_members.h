/* SPDX-License-Identifier: BSD-3-Clause */
/* Co-residency as the control socket shows it (dp_members.c). */
#ifndef VTOE_DP_MEMBERS_H
#define VTOE_DP_MEMBERS_H

#include <stdbool.h>

struct dp;
struct json_t;

/* Does VM port p's VM run here now (the snapshot the workers use)? */
bool dp_port_here(const struct dp *dp, unsigned int p);
/* "vtoectl membership": source, VMs with state and interfaces, and per
 * VM port the path its frames take.  A new reference. */
struct json_t *dp_members_json(const struct dp *dp);

#endif /* VTOE_DP_MEMBERS_H */
