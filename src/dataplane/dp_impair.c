/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * A port's impairment stage in the worker (impair.h): frames the guest
 * sends (rx, before they are forwarded) and frames for it (tx, before
 * they are delivered) are dropped, held or passed.  Held frames wait in
 * the worker's heap, earliest due first, and go back where they were
 * taken from when due; one whose port went meanwhile is dropped
 * (port_removed).  Ports with a stage are left out of the direct path.
 */
#include "dp_priv.h"

#include <rte_cycles.h>
#include <rte_malloc.h>
#include <rte_mbuf.h>

void
dp_port_impair_set(struct dp *dp, uint16_t p, const struct cfg_impair *im)
{
	struct dp_port *port = &dp->ports[p];
	bool on = im->drop_ppm || im->reorder_ppm || im->delay_us;

	atomic_store_explicit(&port->imp_drop_ppm, im->drop_ppm, memory_order_relaxed);
	atomic_store_explicit(&port->imp_reorder_ppm, im->reorder_ppm, memory_order_relaxed);
	atomic_store_explicit(&port->imp_delay_us, im->delay_us, memory_order_relaxed);
	atomic_store_explicit(&port->imp_dir, on ? im->dir : 0, memory_order_release);
	port->conf.impair = *im;
}

static void
heap_swap(struct dp_held *h, uint32_t a, uint32_t b)
{
	struct dp_held t = h[a];

	h[a] = h[b];
	h[b] = t;
}

static void
heap_push(struct dp_worker *w, const struct dp_held *e)
{
	uint32_t i = w->n_held++;

	w->held[i] = *e;
	while (i > 0 && w->held[(i - 1) / 2].due > w->held[i].due) {
		heap_swap(w->held, i, (i - 1) / 2);
		i = (i - 1) / 2;
	}
}

static void
heap_pop(struct dp_worker *w)
{
	uint32_t i = 0;

	w->held[0] = w->held[--w->n_held];
	for (;;) {
		uint32_t l = 2 * i + 1, r = l + 1, m = i;

		if (l < w->n_held && w->held[l].due < w->held[m].due)
			m = l;
		if (r < w->n_held && w->held[r].due < w->held[m].due)
			m = r;
		if (m == i)
			break;
		heap_swap(w->held, i, m);
		i = m;
	}
}

uint16_t
dp_impair_filter(struct dp_worker *w, uint16_t p, uint8_t dir,
		 struct rte_mbuf **pkts, uint16_t n)
{
	const struct dp_port *port = &w->dp->ports[p];
	struct impair_params ip = {
		.drop_ppm = atomic_load_explicit(&port->imp_drop_ppm, memory_order_relaxed),
		.reorder_ppm = atomic_load_explicit(&port->imp_reorder_ppm, memory_order_relaxed),
		.delay_us = atomic_load_explicit(&port->imp_delay_us, memory_order_relaxed),
	};
	uint64_t now = rte_rdtsc(), us_cycles = w->dp->tsc_hz / 1000000;
	uint16_t kept = 0;

	if (w->held == NULL) {
		w->held = rte_malloc("vtoe_held", sizeof(*w->held) * DP_HELD_MAX, 0);
		if (w->imp_rng == 0)
			w->imp_rng = rte_rdtsc() | 1;
	}
	for (uint16_t i = 0; i < n; i++) {
		uint32_t hold_us;

		switch (impair_decide(&ip, &w->imp_rng, &hold_us)) {
		case IMPAIR_PASS:
			pkts[kept++] = pkts[i];
			break;
		case IMPAIR_HOLD:
			if (w->held != NULL && w->n_held < DP_HELD_MAX) {
				heap_push(w, &(struct dp_held){
					.due = now + hold_us * us_cycles, .m = pkts[i],
					.epoch = port->epoch, .port = p, .dir = dir,
				});
				break;
			}
			/* no room to hold it: a drop of the stage too */
			/* fall through */
		case IMPAIR_DROP:
			w->stats[p].drops[DP_DROP_IMPAIR]++;
			rte_pktmbuf_free(pkts[i]);
			break;
		}
	}
	return kept;
}

unsigned int
dp_impair_release(struct dp_worker *w, const struct fwd_ctx *fctx)
{
	uint64_t now = rte_rdtsc();
	unsigned int n = 0;

	while (w->n_held > 0 && w->held[0].due <= now) {
		struct dp_held e = w->held[0];
		const struct dp_port *port = &w->dp->ports[e.port];
		int16_t k = w->pl->corx_of_port[e.port];

		heap_pop(w);
		n++;
		/* The slot holds another port now, or this worker no longer
		 * serves it. */
		if (port->epoch != e.epoch || !port->used ||
		    (e.dir == CFG_IMPAIR_TX && k < 0)) {
			w->stats[e.port].drops[DP_DROP_PORT_REMOVED]++;
			rte_pktmbuf_free(e.m);
			continue;
		}
		if (e.dir == CFG_IMPAIR_RX)
			dp_forward(w, e.port, &e.m, 1, fctx);
		else
			dp_vhost_deliver(w, &w->pl->corx[k], &e.m, 1, true);
	}
	return n;
}

void
dp_impair_fini(struct dp_worker *w)
{
	for (uint32_t i = 0; i < w->n_held; i++)
		rte_pktmbuf_free(w->held[i].m);
	w->n_held = 0;
	rte_free(w->held);
	w->held = NULL;
}
