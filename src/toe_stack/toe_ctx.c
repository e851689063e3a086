/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The offload layer's control side: a worker's ctx (counters and GRO
 * scratch), the drop reasons' names, and the mapping from what a guest
 * negotiated or a NIC offers to TOE_CAP_* bits.  Runs on the main lcore
 * (create, destroy) and on readers of the counters.
 */
#include "toe_priv.h"

#include <errno.h>

#include <linux/virtio_net.h>
#include <rte_ethdev.h>
#include <rte_malloc.h>
#include <rte_mbuf.h>

static const char *const toe_drop_names[] = {
#define TOE_DROP_NAME(sym, name, help) [TOE_DROP_##sym] = name,
	TOE_DROPS(TOE_DROP_NAME)
#undef TOE_DROP_NAME
};

static const char *const toe_drop_helps[] = {
#define TOE_DROP_HELP(sym, name, help) [TOE_DROP_##sym] = help,
	TOE_DROPS(TOE_DROP_HELP)
#undef TOE_DROP_HELP
};

const char *
toe_drop_name(enum toe_drop reason)
{
	if (reason <= TOE_DROP_NONE || reason >= TOE_DROP_MAX)
		return NULL;
	return toe_drop_names[reason];
}

const char *
toe_drop_help(enum toe_drop reason)
{
	if (reason <= TOE_DROP_NONE || reason >= TOE_DROP_MAX)
		return NULL;
	return toe_drop_helps[reason];
}

uint32_t
toe_caps_from_virtio(uint64_t features)
{
	uint32_t caps = 0;

	if (!(features & (1ULL << VIRTIO_NET_F_GUEST_CSUM)))
		return 0;
	caps |= TOE_CAP_L4_CSUM;
	if (features & (1ULL << VIRTIO_NET_F_GUEST_TSO4))
		caps |= TOE_CAP_TSO4;
	if (features & (1ULL << VIRTIO_NET_F_GUEST_TSO6))
		caps |= TOE_CAP_TSO6;
	return caps;
}

uint32_t
toe_caps_from_eth(uint64_t capa)
{
	const uint64_t csum = RTE_ETH_TX_OFFLOAD_TCP_CKSUM |
			      RTE_ETH_TX_OFFLOAD_UDP_CKSUM;
	uint32_t caps = 0;

	if ((capa & csum) == csum)
		caps |= TOE_CAP_L4_CSUM;
	if ((capa & RTE_ETH_TX_OFFLOAD_TCP_TSO) &&
	    (capa & RTE_ETH_TX_OFFLOAD_TCP_CKSUM))
		caps |= TOE_CAP_TSO4 | TOE_CAP_TSO6;
	return caps;
}

void
toe_stats_add(struct toe_stats *sum, const struct toe_stats *s)
{
#define TOE_COUNTER_ADD(f, help) sum->f += s->f;
	TOE_COUNTERS(TOE_COUNTER_ADD)
#undef TOE_COUNTER_ADD
	for (int r = 0; r < TOE_DROP_MAX; r++)
		sum->drops[r] += s->drops[r];
}

struct toe_ctx *
toe_ctx_create(struct rte_mempool *pool, int socket_id)
{
	struct toe_ctx *ctx;

	/* Segments are built with all their headers in the first mbuf. */
	if (pool == NULL ||
	    rte_pktmbuf_data_room_size(pool) < RTE_PKTMBUF_HEADROOM + TOE_HDR_MAX) {
		errno = EINVAL;
		return NULL;
	}
	ctx = rte_zmalloc_socket("toe_ctx", sizeof(*ctx), RTE_CACHE_LINE_SIZE,
				 socket_id);
	if (ctx == NULL) {
		errno = ENOMEM;
		return NULL;
	}
	ctx->pool = pool;
	return ctx;
}

void
toe_ctx_destroy(struct toe_ctx *ctx)
{
	rte_free(ctx);
}

void
toe_ctx_set_drop_sink(struct toe_ctx *ctx, toe_drop_sink *fn, void *arg)
{
	ctx->sink = fn;
	ctx->sink_arg = arg;
}

void
toe_count_lie(struct toe_ctx *ctx, enum toe_drop reason)
{
	toe_count_drop(ctx, reason);
}

void
toe_count_passed(struct toe_ctx *ctx, uint32_t n)
{
	ctx->stats.validated += n;
	ctx->stats.passed += n;
}

const struct toe_stats *
toe_ctx_stats(const struct toe_ctx *ctx)
{
	return &ctx->stats;
}
