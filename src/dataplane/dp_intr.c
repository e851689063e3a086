/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Interrupt mode (lcores.poll: interrupt): a worker whose poll rounds keep
 * coming back empty sleeps in epoll until something wakes it:
 *  - a guest's kick on a tx ring it polls (the port's kick set, kept by
 *    the vhost thread; vhost_rx_arm asks the guest to kick),
 *  - an uplink's rx interrupt, where the PMD has them,
 *  - its wake eventfd: another worker left frames in a co-resident ring
 *    or a scheduler inbox it reads, the main thread published plans or
 *    stops, the vhost thread brought a guest up.
 * No frame waits for a sleep that nothing would end: the worker says it
 * sleeps, then arms every source and looks at every ring once more
 * (whoever adds to one after that look sees the flag and wakes it); an
 * rx queue without an interrupt bounds the sleep to the back-off's.
 */
#include "dp_priv.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>

#include <rte_cycles.h>
#include <rte_ethdev.h>
#include <rte_rcu_qsbr.h>
#include <rte_ring.h>

#include "vhost/vhost_io.h"

/* Even with every source armed a worker looks around this often: a
 * wake-up lost to a bug costs latency, not a stalled queue. */
#define DP_INTR_SLEEP_MAX_US 100000
#define DP_INTR_EVENTS 32

/* epoll data: what the fd is, and the fd. */
#define DP_INTR_DATA(kind, fd) ((uint64_t)(kind) << 32 | (uint32_t)(fd))
#define DP_INTR_WAKE 0xff

struct dp_armed {
	uint16_t port;
	uint16_t queue;
	int vid;                /* VM ports; -1: an uplink */
};

int
dp_intr_init(struct dp_worker *w)
{
	struct epoll_event ev = { .events = EPOLLIN };

	w->epfd = epoll_create1(EPOLL_CLOEXEC);
	w->wake_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	w->reg_fds = calloc(DP_WORKER_QUEUES_MAX, sizeof(*w->reg_fds) +
			    sizeof(struct dp_armed));
	if (w->epfd < 0 || w->wake_fd < 0 || w->reg_fds == NULL)
		return -errno;
	ev.data.u64 = DP_INTR_DATA(DP_INTR_WAKE, w->wake_fd);
	if (epoll_ctl(w->epfd, EPOLL_CTL_ADD, w->wake_fd, &ev) != 0)
		return -errno;
	return 0;
}

void
dp_intr_fini(struct dp_worker *w)
{
	if (w->epfd > 0)
		close(w->epfd);
	if (w->wake_fd > 0)
		close(w->wake_fd);
	free(w->reg_fds);
	w->reg_fds = NULL;
	w->epfd = w->wake_fd = -1;
}

void
dp_wake(struct dp_worker *w)
{
	uint64_t one = 1;

	if (w->wake_fd >= 0 && write(w->wake_fd, &one, sizeof(one)) < 0 &&
	    errno != EAGAIN)
		DP_LOG(DEBUG, "worker %u: wake: %s\n", w->index, strerror(errno));
}

static struct dp_armed *
dp_armed_of(struct dp_worker *w)
{
	return (struct dp_armed *)(w->reg_fds + DP_WORKER_QUEUES_MAX);
}

/* The fds of a new plan replace those of the last one.  All are taken
 * out first: a number freed by a closed port may come back in this plan
 * as another port's. */
static void
dp_intr_register(struct dp_worker *w, const struct dp_plan *pl)
{
	for (unsigned int i = 0; i < w->n_reg; i++)
		(void)epoll_ctl(w->epfd, EPOLL_CTL_DEL, w->reg_fds[i], NULL);
	w->n_reg = 0;
	w->reg_all = pl->intr_all;
	for (unsigned int i = 0; i < pl->n_rxqs; i++) {
		const struct dp_rxq *rq = &pl->rxqs[i];
		struct epoll_event ev = {
			/* A kick set stays readable until harvested; an
			 * interrupt fd is the PMD's, never read here. */
			.events = rq->intr_kind == DP_INTR_ETH ?
				  EPOLLIN | EPOLLET : EPOLLIN,
			.data.u64 = DP_INTR_DATA(rq->intr_kind, rq->intr_fd),
		};

		if (rq->intr_kind == DP_INTR_NONE)
			continue;
		if (epoll_ctl(w->epfd, EPOLL_CTL_ADD, rq->intr_fd, &ev) == 0)
			w->reg_fds[w->n_reg++] = rq->intr_fd;
		else
			w->reg_all = false;     /* its frames end no sleep */
	}
	w->reg_gen = pl->gen;
}

/* Arm every source; false when a ring turns out not to be empty. */
static bool
dp_intr_arm(struct dp_worker *w, const struct dp_plan *pl,
	    const struct dp_members_snap *snap, unsigned int *n_armed)
{
	struct dp *dp = w->dp;
	struct dp_armed *armed = dp_armed_of(w);

	*n_armed = 0;
	for (unsigned int i = 0; i < pl->n_rxqs; i++) {
		const struct dp_rxq *rq = &pl->rxqs[i];
		const struct dp_port *port = &dp->ports[rq->port];

		if (rq->intr_kind == DP_INTR_KICK) {
			int vid = atomic_load_explicit(&port->vid,
						       memory_order_acquire);
			uint32_t en = atomic_load_explicit(&port->vrings_enabled,
							   memory_order_acquire);

			if (vid < 0 || !(en & (1u << VHOST_VRING_GUEST_TX(rq->queue))))
				continue;       /* up or enable wakes us */
			if (!vhost_rx_arm(vid, rq->queue))
				return false;
			armed[(*n_armed)++] = (struct dp_armed){ rq->port, rq->queue, vid };
		} else if (rq->intr_kind == DP_INTR_ETH) {
			if (rte_eth_dev_rx_intr_enable(port->eth_port, rq->queue) != 0)
				return false;
			armed[(*n_armed)++] = (struct dp_armed){ rq->port, rq->queue, -1 };
			if (rte_eth_rx_queue_count(port->eth_port, rq->queue) > 0)
				return false;
		}
	}
	for (uint16_t i = 0; i < pl->n_corx; i++)
		if (!portset_has(&snap->away, pl->corx[i].port) &&
		    !rte_ring_empty(dp->ports[pl->corx[i].port].coring))
			return false;
	for (uint16_t i = 0; i < pl->n_qos; i++)
		if (!rte_ring_empty(dp->ports[pl->qos[i]].qos->inbox) ||
		    dp_qos_backlogged(w, pl->qos[i]))
			return false;
	return true;
}

/* Polling again.  Online, with the plan armed under (gen): the ports of
 * an unchanged plan cannot have gone; a guest that went and came back
 * has its own vid. */
static void
dp_intr_disarm(struct dp_worker *w, uint64_t gen, unsigned int n_armed)
{
	struct dp *dp = w->dp;
	const struct dp_plan *cur = atomic_load_explicit(&w->plan,
							 memory_order_acquire);
	const struct dp_armed *armed = dp_armed_of(w);

	if (cur->gen != gen)
		return;         /* the next sleep's wake-up disarms */
	for (unsigned int i = 0; i < n_armed; i++) {
		const struct dp_port *port = &dp->ports[armed[i].port];

		if (armed[i].vid < 0)
			(void)rte_eth_dev_rx_intr_disable(port->eth_port,
							  armed[i].queue);
		else if (atomic_load_explicit(&port->vid, memory_order_acquire) ==
			 armed[i].vid)
			vhost_rx_disarm(armed[i].vid, armed[i].queue);
	}
}

static void
dp_intr_harvest(const struct epoll_event *evs, int n)
{
	for (int i = 0; i < n; i++) {
		uint32_t kind = (uint32_t)(evs[i].data.u64 >> 32);
		int fd = (int)(uint32_t)evs[i].data.u64;
		struct epoll_event tmp[DP_INTR_EVENTS];
		uint64_t v;

		if (kind == DP_INTR_WAKE)
			(void)!read(fd, &v, sizeof(v));
		else if (kind == DP_INTR_KICK)
			while (epoll_wait(fd, tmp, DP_INTR_EVENTS, 0) == DP_INTR_EVENTS)
				;
	}
}

uint64_t
dp_intr_sleep(struct dp_worker *w, const struct dp_plan *pl,
	      const struct dp_members_snap *snap, uint32_t max_us)
{
	struct epoll_event evs[DP_INTR_EVENTS];
	uint64_t gen = pl->gen, t0 = rte_rdtsc(), t1;
	struct timespec ts;
	unsigned int n_armed;
	uint32_t us;
	bool quiet;
	int n;

	if (pl->gen != w->reg_gen)
		dp_intr_register(w, pl);
	us = w->reg_all ? DP_INTR_SLEEP_MAX_US : max_us;
	/* A TOE endpoint's timer due sooner (dp_toe_run). */
	if (w->toe_armed && us > w->toe_sleep_us)
		us = w->toe_sleep_us;
	ts = (struct timespec){ .tv_sec = us / 1000000,
				.tv_nsec = (long)(us % 1000000) * 1000 };
	atomic_store_explicit(&w->sleeping, true, memory_order_relaxed);
	/* Pairs with the fence in dp_wake_port: the flag is visible before
	 * we look at the rings, or the writer's frames are. */
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	quiet = dp_intr_arm(w, pl, snap, &n_armed);
	if (quiet) {
		/* Nothing of the plan or snapshot is touched from here. */
		rte_rcu_qsbr_thread_offline(w->dp->rcu, w->index);
		n = epoll_pwait2(w->epfd, evs, DP_INTR_EVENTS, &ts, NULL);
		rte_rcu_qsbr_thread_online(w->dp->rcu, w->index);
		if (n > 0) {
			dp_intr_harvest(evs, n);
			__atomic_store_n(&w->wakeups, w->wakeups + 1,
					 __ATOMIC_RELAXED);
		}
	}
	atomic_store_explicit(&w->sleeping, false, memory_order_relaxed);
	dp_intr_disarm(w, gen, n_armed);
	t1 = rte_rdtsc();
	if (quiet)
		dp_sleep_account(w, t0, t1);
	return t1;
}
