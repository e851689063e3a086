/* SPDX-License-Identifier: BSD-3-Clause */
/* Names and explanations of the drop reasons, from dp_drop.def. */
#include "dp_drop.h"

#include <stddef.h>

static const char *const dp_drop_names[] = {
#define DP_DROP(sym, name, help) [DP_DROP_##sym] = name,
#include "dp_drop.def"
#undef DP_DROP
};

static const char *const dp_drop_helps[] = {
#define DP_DROP(sym, name, help) [DP_DROP_##sym] = help,
#include "dp_drop.def"
#undef DP_DROP
};

const char *
dp_drop_name(enum dp_drop reason)
{
	return (unsigned int)reason < DP_DROP_MAX ? dp_drop_names[reason] : NULL;
}

const char *
dp_drop_help(enum dp_drop reason)
{
	return (unsigned int)reason < DP_DROP_MAX ? dp_drop_helps[reason] : NULL;
}
