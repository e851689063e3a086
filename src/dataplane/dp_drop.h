/* SPDX-License-Identifier: BSD-3-Clause */
/* Drop reasons as an enum and as names, both generated from dp_drop.def. */
#ifndef VTOE_DP_DROP_H
#define VTOE_DP_DROP_H

enum dp_drop {
#define DP_DROP(sym, name, help) DP_DROP_##sym,
#include "dp_drop.def"
#undef DP_DROP
	DP_DROP_MAX
};

/* "runt", "tx_full", ...; NULL for an out-of-range value. */
const char *dp_drop_name(enum dp_drop reason);
const char *dp_drop_help(enum dp_drop reason);

#endif /* VTOE_DP_DROP_H */
