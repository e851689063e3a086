/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Packet capture of one port (vtoectl capture): the workers' taps and the
 * main thread's writer.
 *
 * A port being captured has port->capture set; the workers' taps test it
 * once per burst (nothing else costs while no capture runs).  A tap runs
 * the filter, copies what passes (at most snaplen bytes) from the capture's
 * own pool, stamps it (TSC, length before the cut, queue, direction, drop
 * reason) and puts it on the capture's ring; what finds the pool or the
 * ring full is counted as lost, never waited for.  The main thread drains
 * the ring at each housekeeping turn (every CAP_POLL_MS while a capture
 * runs), formats each copy with rte_pcapng_copy and writes it.  It ends a
 * capture when its count is reached, when asked, when the client stopped
 * asking how it goes (DP_CAPTURE_ORPHAN_S), when its port goes, or on a
 * write error: the port's pointer is cleared, a grace period waits out the
 * workers that held it, the ring is drained and the file closed.
 */
#define ALLOW_EXPERIMENTAL_API
#include "dp_priv.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <rte_cycles.h>
#include <rte_errno.h>
#include <rte_malloc.h>
#include <rte_mbuf.h>
#include <rte_mbuf_dyn.h>
#include <rte_mempool.h>
#include <rte_pcapng.h>
#include <rte_rcu_qsbr.h>
#include <rte_ring.h>

#include "capture/capture.h"

#define CAP_RING 4096           /* copies between a tap and the writer */
#define CAP_POOL 8191           /* copies in flight */
#define CAP_COPY_ROOM 2048      /* bytes per copy segment */
#define CAP_DRAIN_MAX 16384     /* copies written per turn */

/* What a tap stamps on its copy. */
struct dp_cap_meta {
	uint64_t tsc;
	uint32_t orig_len;
	uint16_t queue;
	uint8_t dir;                    /* enum rte_pcapng_direction */
	uint8_t reason;                 /* enum dp_drop + 1; 0: not dropped */
};

static int dp_cap_meta_off = -1;

static inline struct dp_cap_meta *
cap_meta(struct rte_mbuf *m)
{
	return RTE_MBUF_DYNFIELD(m, dp_cap_meta_off, struct dp_cap_meta *);
}

/* Room in the capture for one more frame: the count, then the pool. */
static inline bool
cap_want(struct dp_capture *c)
{
	return atomic_fetch_sub_explicit(&c->left, 1, memory_order_relaxed) > 0;
}

static void
cap_put(struct dp_capture *c, struct rte_mbuf **copies, unsigned int n)
{
	unsigned int took = rte_ring_enqueue_burst(c->ring, (void **)copies, n,
						   NULL);

	if (took < n) {
		atomic_fetch_add_explicit(&c->lost, n - took,
					  memory_order_relaxed);
		rte_pktmbuf_free_bulk(copies + took, n - took);
	}
}

void
dp_capture_burst(struct dp_capture *c, uint16_t queue, uint8_t dir,
		 int reason, struct rte_mbuf *const *pkts, uint16_t n)
{
	struct rte_mbuf *copies[64];
	uint64_t tsc = rte_rdtsc();
	unsigned int k = 0, lost = 0, out = 0;

	for (uint16_t i = 0; i < n; i++) {
		struct rte_mbuf *m = pkts[i], *cp;
		struct dp_cap_meta *meta;

		if (c->filter != NULL && !cap_filter_match(c->filter, m)) {
			out++;
			continue;
		}
		if (!cap_want(c))
			break;
		cp = rte_pktmbuf_copy(m, c->pool, 0, c->snaplen);
		if (cp == NULL) {
			lost++;
			continue;
		}
		meta = cap_meta(cp);
		*meta = (struct dp_cap_meta){
			.tsc = tsc,
			.orig_len = rte_pktmbuf_pkt_len(m),
			.queue = queue,
			.dir = dir,
			.reason = (uint8_t)(reason + 1),
		};
		copies[k++] = cp;
		if (k == RTE_DIM(copies)) {
			cap_put(c, copies, k);
			k = 0;
		}
	}
	if (k > 0)
		cap_put(c, copies, k);
	atomic_fetch_add_explicit(&c->seen, n, memory_order_relaxed);
	if (lost > 0)
		atomic_fetch_add_explicit(&c->lost, lost, memory_order_relaxed);
	if (out > 0)
		atomic_fetch_add_explicit(&c->filtered, out, memory_order_relaxed);
}

void
dp_capture_chain(struct dp_capture *c, uint16_t queue, uint8_t dir,
		 int reason, const struct vd_chain *ch, uint32_t off,
		 uint32_t len)
{
	uint32_t want = RTE_MIN(len, c->snaplen), done = 0;
	struct rte_mbuf *m, *seg;

	atomic_fetch_add_explicit(&c->seen, 1, memory_order_relaxed);
	/* No mbuf to copy from: the frame's bytes go straight into the
	 * copy, which the filter then reads. */
	m = rte_pktmbuf_alloc(c->pool);
	for (seg = m; m != NULL && done < want;) {
		uint32_t part = RTE_MIN(want - done,
					(uint32_t)rte_pktmbuf_tailroom(seg));

		if (part == 0) {
			struct rte_mbuf *next = rte_pktmbuf_alloc(c->pool);

			if (next == NULL || rte_pktmbuf_chain(m, next) != 0) {
				rte_pktmbuf_free(next);
				break;
			}
			seg = next;
			continue;
		}
		vd_chain_gather(ch, off + done,
				rte_pktmbuf_mtod_offset(seg, uint8_t *, seg->data_len),
				part);
		seg->data_len = (uint16_t)(seg->data_len + part);
		m->pkt_len += part;
		done += part;
	}
	if (m == NULL || done < want) {
		rte_pktmbuf_free(m);
		atomic_fetch_add_explicit(&c->lost, 1, memory_order_relaxed);
		return;
	}
	if (c->filter != NULL && !cap_filter_match(c->filter, m)) {
		rte_pktmbuf_free(m);
		atomic_fetch_add_explicit(&c->filtered, 1, memory_order_relaxed);
		return;
	}
	if (!cap_want(c)) {
		rte_pktmbuf_free(m);
		return;
	}
	*cap_meta(m) = (struct dp_cap_meta){
		.tsc = rte_rdtsc(),
		.orig_len = len,
		.queue = queue,
		.dir = dir,
		.reason = (uint8_t)(reason + 1),
	};
	cap_put(c, &m, 1);
}

/* ------------------------------------------------------------ main thread */

static struct dp_capture *
cap_find(struct dp *dp, int id)
{
	for (unsigned int i = 0; i < DP_CAPTURES_MAX; i++)
		if (dp->captures[i] != NULL && dp->captures[i]->id == id)
			return dp->captures[i];
	return NULL;
}

/* Write what the taps queued.  Returns copies written. */
static unsigned int
cap_drain(struct dp_capture *c)
{
	struct rte_mbuf *copies[64];
	unsigned int n, total = 0;

	while (total < CAP_DRAIN_MAX &&
	       (n = rte_ring_dequeue_burst(c->ring, (void **)copies,
					   RTE_DIM(copies), NULL)) > 0) {
		for (unsigned int i = 0; i < n; i++) {
			struct dp_cap_meta meta = *cap_meta(copies[i]);
			char comment[96];
			struct rte_mbuf *epb = NULL;

			if (c->error == 0)
				epb = rte_pcapng_copy(0, meta.queue, copies[i],
						      c->epb_pool, UINT32_MAX,
						      meta.tsc, meta.dir);
			rte_pktmbuf_free(copies[i]);
			if (epb == NULL) {
				c->lost_main++;
				continue;
			}
			if (meta.reason > 0)
				snprintf(comment, sizeof(comment), "drop: %s",
					 dp_drop_name((enum dp_drop)(meta.reason - 1)));
			int rc = cap_file_write(c->file, epb, meta.orig_len,
						meta.reason > 0 ? comment : NULL);
			if (rc != 0 && c->error == 0)
				c->error = -rc;
			else if (rc == 0)
				c->written++;
		}
		total += n;
	}
	return total;
}

static void
cap_free(struct dp_capture *c)
{
	if (c->ring != NULL) {
		struct rte_mbuf *m;

		while (rte_ring_dequeue(c->ring, (void **)&m) == 0)
			rte_pktmbuf_free(m);
	}
	rte_ring_free(c->ring);
	rte_mempool_free(c->pool);
	rte_mempool_free(c->epb_pool);
	cap_filter_free(c->filter);
	rte_free(c);
}

static void cap_view_publish(struct dp *dp);

/* Stop the taps, write the rest, close the file: the capture is done and
 * only its record stays (for the client's last look). */
static void
cap_finish(struct dp *dp, struct dp_capture *c, const char *why)
{
	struct dp_port *port = &dp->ports[c->port];
	struct dp_capture *expected = c;
	int rc;

	if (c->done)
		return;
	atomic_compare_exchange_strong(&port->capture, &expected, NULL);
	rte_rcu_qsbr_synchronize(dp->rcu, RTE_QSBR_THRID_INVALID);
	do
		cap_drain(c);
	while (!rte_ring_empty(c->ring) && c->error == 0);
	c->bytes_final = cap_file_bytes(c->file);
	rc = cap_file_close(c->file,
			    atomic_load(&c->seen) - atomic_load(&c->filtered),
			    atomic_load(&c->lost) + c->lost_main);
	c->file = NULL;
	if (rc != 0 && c->error == 0)
		c->error = -rc;
	if (c->error != 0)
		snprintf(c->why, sizeof(c->why), "writing the file: %s",
			 strerror(c->error));
	else
		snprintf(c->why, sizeof(c->why), "%s", why);
	c->done = true;
	c->done_tsc = rte_rdtsc();
	DP_LOG(INFO, "capture %d of %s ended (%s): %" PRIu64 " frame(s) written, %" PRIu64 " lost\n",
	       c->id, port->name, c->why, c->written,
	       atomic_load(&c->lost) + c->lost_main);
	cap_view_publish(dp);
}

static void
cap_release(struct dp *dp, struct dp_capture *c)
{
	for (unsigned int i = 0; i < DP_CAPTURES_MAX; i++)
		if (dp->captures[i] == c)
			dp->captures[i] = NULL;
	cap_free(c);
	cap_view_publish(dp);
}

int
dp_capture_start(struct dp *dp, const struct dp_capture_req *req,
		 char *err, size_t err_size)
{
	char name[RTE_MEMZONE_NAMESIZE];
	struct dp_capture *c;
	unsigned int slot = DP_CAPTURES_MAX;
	uint32_t snaplen = req->snaplen == 0 ? CAP_SNAPLEN_MAX : req->snaplen;
	int p = -1;

	for (uint16_t i = 0; i < dp->n_ports; i++)
		if (dp->ports[i].used && strcmp(dp->ports[i].name, req->port) == 0)
			p = i;
	if (p < 0) {
		snprintf(err, err_size, "no port %s", req->port);
		goto fail_fd;
	}
	if (atomic_load(&dp->ports[p].capture) != NULL) {
		snprintf(err, err_size, "port %s is being captured already",
			 req->port);
		goto fail_fd;
	}
	if (snaplen < 64 || snaplen > CAP_SNAPLEN_MAX) {
		snprintf(err, err_size, "snaplen must be 64 to %u", CAP_SNAPLEN_MAX);
		goto fail_fd;
	}
	if ((req->dirs & (DP_CAP_RX | DP_CAP_TX | DP_CAP_DROPS)) == 0) {
		snprintf(err, err_size, "nothing to capture");
		goto fail_fd;
	}
	for (unsigned int i = 0; i < DP_CAPTURES_MAX; i++)
		if (dp->captures[i] == NULL) {
			slot = i;
			break;
		}
	/* A finished record makes room for a new capture. */
	for (unsigned int i = 0; slot == DP_CAPTURES_MAX && i < DP_CAPTURES_MAX; i++)
		if (dp->captures[i]->done) {
			cap_release(dp, dp->captures[i]);
			slot = i;
		}
	if (slot == DP_CAPTURES_MAX) {
		snprintf(err, err_size, "%d captures run already", DP_CAPTURES_MAX);
		goto fail_fd;
	}
	if (dp_cap_meta_off < 0) {
		static const struct rte_mbuf_dynfield desc = {
			.name = "vtoe_capture_meta",
			.size = sizeof(struct dp_cap_meta),
			.align = __alignof__(struct dp_cap_meta),
		};

		dp_cap_meta_off = rte_mbuf_dynfield_register(&desc);
		if (dp_cap_meta_off < 0) {
			snprintf(err, err_size, "cannot register the mbuf field: %s",
				 rte_strerror(rte_errno));
			goto fail_fd;
		}
	}
	c = rte_zmalloc("vtoe_capture", sizeof(*c), RTE_CACHE_LINE_SIZE);
	if (c == NULL) {
		snprintf(err, err_size, "out of memory");
		goto fail_fd;
	}
	c->id = ++dp->capture_ids;
	c->port = (uint16_t)p;
	c->dirs = req->dirs;
	c->snaplen = snaplen;
	atomic_init(&c->left, req->count == 0 || req->count > INT64_MAX ?
			      INT64_MAX : (int64_t)req->count);
	c->count = req->count;
	if (req->filter != NULL && req->filter[0] != '\0') {
		c->filter = cap_filter_compile(req->filter, snaplen, err, err_size);
		if (c->filter == NULL)
			goto fail;
		snprintf(c->filter_text, sizeof(c->filter_text), "%s", req->filter);
	}
	snprintf(name, sizeof(name), "vtoe_cap%d", c->id);
	c->pool = rte_pktmbuf_pool_create(name, CAP_POOL, 128, 0,
					  RTE_PKTMBUF_HEADROOM + CAP_COPY_ROOM,
					  (int)rte_socket_id());
	snprintf(name, sizeof(name), "vtoe_capw%d", c->id);
	/* The writer formats one block at a time and frees it once written. */
	c->epb_pool = rte_pktmbuf_pool_create(name, 63, 0, 0,
					      rte_pcapng_mbuf_size(snaplen) + 256,
					      (int)rte_socket_id());
	snprintf(name, sizeof(name), "vtoe_capr%d", c->id);
	c->ring = rte_ring_create(name, CAP_RING, (int)rte_socket_id(),
				  RING_F_SC_DEQ);
	if (c->pool == NULL || c->epb_pool == NULL || c->ring == NULL) {
		snprintf(err, err_size, "no memory for the capture's buffers: %s",
			 rte_strerror(rte_errno));
		goto fail;
	}
	{
		char desc[160];
		const struct dp_port *port = &dp->ports[p];

		snprintf(desc, sizeof(desc), "vtoed %s port %s%s%s",
			 port->kind == DP_PORT_VHOST ? "VM" : "uplink", port->name,
			 port->kind == DP_PORT_VHOST ? " of VM " : "",
			 port->kind == DP_PORT_VHOST ? port->vm : "");
		c->file = cap_file_open(req->fd, port->name, desc, snaplen,
					err, err_size);
	}
	if (c->file == NULL) {
		cap_free(c);
		return -1;
	}
	dp->captures[slot] = c;
	c->last_poll_tsc = rte_rdtsc();
	atomic_store_explicit(&dp->ports[p].capture, c, memory_order_release);
	DP_LOG(INFO, "capture %d of %s started (%s%s%s, snaplen %u%s%s)\n",
	       c->id, dp->ports[p].name,
	       c->dirs & DP_CAP_RX ? "rx " : "", c->dirs & DP_CAP_TX ? "tx " : "",
	       c->dirs & DP_CAP_DROPS ? "drops" : "", snaplen,
	       c->filter != NULL ? ", filter " : "", c->filter_text);
	cap_view_publish(dp);
	return c->id;
fail:
	cap_free(c);
fail_fd:
	close(req->fd);
	return -1;
}

int
dp_capture_stop(struct dp *dp, int id)
{
	struct dp_capture *c = cap_find(dp, id);

	if (c == NULL)
		return -ENOENT;
	cap_finish(dp, c, "stopped");
	return 0;
}

static void
cap_info(const struct dp *dp, const struct dp_capture *c,
	 struct dp_capture_info *info)
{
	*info = (struct dp_capture_info){
		.id = c->id,
		.dirs = c->dirs,
		.snaplen = c->snaplen,
		.count = c->count,
		.done = c->done,
		.seen = atomic_load(&c->seen),
		.filtered = atomic_load(&c->filtered),
		.written = c->written,
		.lost = atomic_load(&c->lost) + c->lost_main,
		.bytes = c->file != NULL ? cap_file_bytes(c->file) : c->bytes_final,
		.error = c->error,
	};
	snprintf(info->port, sizeof(info->port), "%s", dp->ports[c->port].name);
	snprintf(info->filter, sizeof(info->filter), "%s", c->filter_text);
	snprintf(info->why, sizeof(info->why), "%s", c->why);
}

int
dp_capture_info(struct dp *dp, int id, struct dp_capture_info *info)
{
	struct dp_capture *c = cap_find(dp, id);

	if (c == NULL)
		return -ENOENT;
	cap_info(dp, c, info);
	return 0;
}

/* The main thread's view of its captures, copied for other threads. */
static void
cap_view_publish(struct dp *dp)
{
	struct dp_capture_info v[DP_CAPTURES_MAX];
	unsigned int n = 0;

	for (unsigned int i = 0; i < DP_CAPTURES_MAX; i++)
		if (dp->captures[i] != NULL)
			cap_info(dp, dp->captures[i], &v[n++]);
	if (n == 0 && dp->n_cap_view == 0)
		return;         /* the main thread is its only writer */
	pthread_mutex_lock(&dp->cap_view_lock);
	memcpy(dp->cap_view, v, n * sizeof(v[0]));
	dp->n_cap_view = n;
	pthread_mutex_unlock(&dp->cap_view_lock);
}

unsigned int
dp_capture_values(struct dp *dp, struct dp_capture_info *out,
		  unsigned int max)
{
	unsigned int n;

	pthread_mutex_lock(&dp->cap_view_lock);
	n = RTE_MIN(max, dp->n_cap_view);
	memcpy(out, dp->cap_view, n * sizeof(out[0]));
	pthread_mutex_unlock(&dp->cap_view_lock);
	return n;
}

int
dp_capture_keep(struct dp *dp, int id)
{
	struct dp_capture *c = cap_find(dp, id);

	if (c == NULL)
		return -ENOENT;
	c->last_poll_tsc = rte_rdtsc();
	return 0;
}

unsigned int
dp_capture_list(struct dp *dp, int *ids, unsigned int max)
{
	unsigned int n = 0;

	for (unsigned int i = 0; i < DP_CAPTURES_MAX && n < max; i++)
		if (dp->captures[i] != NULL)
			ids[n++] = dp->captures[i]->id;
	return n;
}

bool
dp_capture_running(const struct dp *dp)
{
	for (unsigned int i = 0; i < DP_CAPTURES_MAX; i++)
		if (dp->captures[i] != NULL && !dp->captures[i]->done)
			return true;
	return false;
}

void
dp_capture_poll(struct dp *dp)
{
	uint64_t now = rte_rdtsc();

	for (unsigned int i = 0; i < DP_CAPTURES_MAX; i++) {
		struct dp_capture *c = dp->captures[i];

		if (c == NULL)
			continue;
		if (c->done) {
			/* Records nobody came back for. */
			if (now - c->done_tsc > DP_CAPTURE_ORPHAN_S * dp->tsc_hz)
				cap_release(dp, c);
			continue;
		}
		cap_drain(c);
		if (c->error != 0)
			cap_finish(dp, c, "error");
		else if (atomic_load_explicit(&c->left, memory_order_relaxed) <= 0)
			cap_finish(dp, c, "count reached");
		else if (now - c->last_poll_tsc > DP_CAPTURE_ORPHAN_S * dp->tsc_hz)
			cap_finish(dp, c, "its client went away");
		else if (cap_file_flush(c->file) != 0)
			cap_finish(dp, c, "error");
	}
	cap_view_publish(dp);
}

void
dp_capture_port_gone(struct dp *dp, uint16_t p)
{
	struct dp_capture *c = atomic_load(&dp->ports[p].capture);

	if (c != NULL)
		cap_finish(dp, c, "the port was removed");
}

void
dp_capture_destroy(struct dp *dp)
{
	for (unsigned int i = 0; i < DP_CAPTURES_MAX; i++)
		if (dp->captures[i] != NULL) {
			cap_finish(dp, dp->captures[i], "vtoed stopped");
			cap_release(dp, dp->captures[i]);
		}
}
