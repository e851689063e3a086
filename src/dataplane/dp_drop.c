/* SPDX-License-Identifier: BSD-3-Clause */
/* Names and explanations of the drop reasons, from DP_DROPS. */
#include "dp_drop.h"

#include <stddef.h>

static const char *const dp_drop_names[] = {
#define DP_DROP_NAME(sym, name, help) [DP_DROP_##sym] = name,
	DP_DROPS(DP_DROP_NAME)
#undef DP_DROP_NAME
};

static const char *const dp_drop_helps[] = {
#define DP_DROP_HELP(sym, name, help) [DP_DROP_##sym] = help,
	DP_DROPS(DP_DROP_HELP)
#undef DP_DROP_HELP
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
