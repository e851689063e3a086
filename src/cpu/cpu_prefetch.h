/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Prefetch for writing.  DPDK builds for -march=corei7, where
 * __builtin_prefetch(p, 1) becomes a plain read prefetch: a line another
 * core holds then arrives shared, and the store that follows pays a
 * second trip to take it exclusive.  PREFETCHW asks for it exclusive in
 * one; it is used where the CPU has it (CPUID 0x80000001 ECX bit 8,
 * checked once at start), as CPUs without it may not take the opcode.
 *
 * Worth it wherever a worker writes a line the far side of a software
 * wire read last (a guest's receive buffer, an mbuf's headroom or data
 * the uplink's other end copied out).
 */
#ifndef VTOE_CPU_PREFETCH_H
#define VTOE_CPU_PREFETCH_H

#include <stdbool.h>

extern bool cpu_prefetchw_ok;

static inline void
cpu_prefetchw(const void *p)
{
#if defined(__x86_64__)
	if (cpu_prefetchw_ok) {
		__asm__ volatile("prefetchw %0" : : "m"(*(const volatile char *)p));
		return;
	}
#endif
	__builtin_prefetch(p, 1);
}

#endif
