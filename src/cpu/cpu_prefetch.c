/* SPDX-License-Identifier: BSD-3-Clause */
#include "cpu_prefetch.h"

#if defined(__x86_64__)
#include <cpuid.h>
#endif

bool cpu_prefetchw_ok;

static void __attribute__((constructor))
cpu_prefetch_probe(void)
{
#if defined(__x86_64__)
	unsigned int a, b, c, d;

	if (__get_cpuid(0x80000001, &a, &b, &c, &d))
		cpu_prefetchw_ok = (c & (1u << 8)) != 0;
#endif
}
