/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * For the small DPDK tools that stand in for guests (vtoe-inject,
 * benchmarks' tso-gen): wait until every port's link is up.
 */
#ifndef VTOE_TOOL_LINKS_H
#define VTOE_TOOL_LINKS_H

#include <errno.h>
#include <stdint.h>

#include <rte_cycles.h>
#include <rte_ethdev.h>

/* 0 once all links are up, -ETIMEDOUT after timeout_s seconds. */
static inline int
tool_links_wait(unsigned int timeout_s)
{
	uint64_t deadline = rte_get_timer_cycles() + timeout_s * rte_get_timer_hz();
	struct rte_eth_link link;
	uint16_t port;
	int all_up;

	do {
		all_up = 1;
		RTE_ETH_FOREACH_DEV(port) {
			if (rte_eth_link_get_nowait(port, &link) != 0 ||
			    link.link_status != RTE_ETH_LINK_UP)
				all_up = 0;
		}
		if (all_up)
			return 0;
		rte_delay_ms(10);
	} while (rte_get_timer_cycles() < deadline);
	return -ETIMEDOUT;
}

#endif /* VTOE_TOOL_LINKS_H */
