/* SPDX-License-Identifier: BSD-3-Clause */
/* Internals of the switch shared by its control and data path files. */
#ifndef VTOE_DP_PRIV_H
#define VTOE_DP_PRIV_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include <rte_common.h>
#include <rte_log.h>

#include "config/cfg.h"
#include "dp.h"
#include "fwd.h"
#include "poll.h"
#include "toe_stack/toe_offload.h"
#include "psec.h"
#include "place.h"
#include "impair.h"
#include "qos_dwrr/dwrr.h"
#include "qos_dwrr/shaper.h"
#include "toe_stack/toe_ep.h"
#include "toe_stack/toe_imds.h"
#include "toe_stack/toe_iperf3.h"
#include "vhost/vhost_direct.h"

extern int dp_logtype;
#define DP_LOG(level, ...) \
	rte_log(RTE_LOG_ ## level, dp_logtype, "dataplane: " __VA_ARGS__)

#define DP_BURST 32
/* Most turns a queue whose frames the direct path keeps leaving to the
 * library path goes without it (dp_poll_rxq). */
#define DP_DIRECT_BACKOFF_MAX 64
/* Extra attempts to hand a burst to a guest that is taking it part by
 * part (OVS's tx-retries defaults to 8). */
#define DP_VHOST_TX_RETRIES 8
/* A burst of 64 KB super-frames cut at an MSS of 512 or more. */
#define DP_SEG_OUT (DP_BURST * 128)
#define DP_PORTS_MAX FWD_PORTS_MAX

struct rte_mempool;
struct rte_mbuf;
struct rte_rcu_qsbr;
struct dp;

/* One rx queue's share of a worker: cycles of the turns that found
 * frames (and deliveries into its guest queue, an uplink's scheduler
 * runs), frames it took.  Summed over workers, as queues move. */
struct dp_rxq_load {
	uint64_t cycles;
	uint64_t frames;
};

/* Load over a sliding window: the main thread samples the running sums
 * once a second and keeps the last DP_LOAD_SAMPLES (dp_load.c). */
#define DP_LOAD_WINDOW_S 10
#define DP_LOAD_SAMPLES (DP_LOAD_WINDOW_S + 1)
struct dp_load_hist {
	uint64_t cycles[DP_LOAD_SAMPLES];
	uint64_t frames[DP_LOAD_SAMPLES];
};

/* worker_of_queue while a queue is handed over: no worker polls it. */
#define DP_QUEUE_PARKED (-2)

/*
 * A port slot.  VM ports come and go while the switch runs (dp_port_add,
 * dp_port_remove: the one place that builds and tears down a port and
 * everything attached to it); a slot is reused only after every worker
 * has passed a quiescent state with nothing of the old port left.
 */
struct dp_port {
	/* Set when the port is built, then read-only while it lives
	 * (a reload updates the LIVE fields of conf in place). */
	struct dp *dp;
	uint16_t id;
	enum dp_port_kind kind;
	bool used;                      /* main thread: the slot holds a port */
	char name[CFG_NAME_MAX];
	const struct cfg_port *cfg;     /* vhost ports: &conf */
	const struct cfg_uplink *ucfg;  /* uplinks: &uconf */
	struct cfg_port conf;           /* the port's own copy of its config */
	struct cfg_uplink uconf;
	char vm[CFG_NAME_MAX];          /* VM ports: the VM (domain) name */
	bool from_libvirt;              /* made from a domain (attach: auto) */
	/* VM ports: their uplink, by name (the config's) and by id now (-1:
	 * none, or it went); fwd_ports[].uplink is what workers read. */
	char uplink_name[CFG_NAME_MAX];
	int16_t uplink_id;
	uint16_t queues;
	int8_t worker_of_queue[CFG_MAX_QUEUES]; /* rx queue q: its worker */
	uint16_t eth_port;              /* uplinks */
	int vhost_handle;               /* VM ports, once opened */
	bool nic_ip_csum;               /* uplinks: TSO frames get the NIC's
					 * IPv4 header checksum offload */

	/*
	 * Written by the vhost event thread, read by workers.  vid is -1
	 * while no guest is connected.  The thread that clears it waits
	 * for every worker to pass a quiescent state before the library
	 * unmaps guest memory (dp_vhost_down).
	 */
	_Atomic int vid;
	_Atomic uint32_t vrings_enabled;        /* bit v: vring v enabled */
	/* Set by the main thread while a capture of the port runs; taps
	 * hold it until their quiescent state (dp_capture.c). */
	struct dp_capture *_Atomic capture;
	bool opened;                            /* main thread only */
	struct dp_qos *qos;                     /* uplinks: the scheduler */
	_Atomic uint32_t weight;                /* VM ports: DWRR weight now */
	/* TOE_CAP_* this egress does itself: a guest's negotiated offloads
	 * (set at up, cleared at down), an uplink's NIC offloads. */
	_Atomic uint32_t caps;
	/* Uplinks: what the NIC does for frames inside the VXLAN
	 * encapsulation (TOE_CAP_*; dp_uplink_tnl_caps), and how it is
	 * told (enum toe_tnl_mark). */
	_Atomic uint32_t tnl_caps;
	_Atomic uint8_t tnl_mark;
	/* VM ports: the co-resident channel (coring.h).  Any worker
	 * enqueues frames for this VM, the workers polling its queues
	 * dequeue and deliver them. */
	struct rte_ring *coring;
	/* VM ports: workers that read coring (set when it is built). */
	uint16_t n_readers;
	/* Bit w: worker w polls this port's queues (and runs an uplink's
	 * scheduler); woken in interrupt mode when frames are left for it.
	 * Never short of the plans any worker may hold. */
	_Atomic uint64_t wake_mask;
	bool rx_intr;                   /* uplinks: rx interrupts configured */
	/* VM ports, interrupt mode: per queue, the epoll set the vhost
	 * thread keeps the guest's kick fd in (vhost_port_conf); -1. */
	int kick_sets[CFG_MAX_QUEUES];
	/* Main thread: queues pinned to their worker (vtoectl lcores pin),
	 * and their load history. */
	uint8_t pinned;                 /* bit q */
	struct dp_load_hist load[CFG_MAX_QUEUES];
	/* VM ports: the guest's rings for the direct path (dp_direct.c),
	 * kept in step with the library by the vhost thread. */
	struct vhost_direct direct;
	/* VM ports: their network and what they may send (psec.h), set
	 * when the port is built. */
	uint16_t net;
	uint16_t vlan;                  /* its network's tag; 0: none */
	struct psec_port psec;
	/* VM ports: the TOE endpoint's config (dp_toe.c), set when the
	 * port is built; each worker has its state in toe_ep[]. */
	bool toe_on;
	struct toe_ep_conf ep_conf;
	/* The impairment stage (impair.h), read by workers per burst;
	 * dir 0: none.  epoch tells frames held for an earlier port of the
	 * slot from this one's. */
	_Atomic uint32_t imp_drop_ppm, imp_reorder_ppm, imp_delay_us;
	_Atomic uint8_t imp_dir;
	uint32_t epoch;
	/* Its metadata service's config, the user data mapped. */
	struct toe_imds_conf imds_conf;
	void *ud_map;
	size_t ud_len;
};

/*
 * What the workers know of co-residency, published by RCU: a worker loads
 * the pointer once per loop iteration and holds it until its next
 * quiescent state; the main thread swaps in a new one, waits for a grace
 * period, then frees the old one and drains the rings of VMs that left.
 */
struct dp_members_snap {
	struct portset away;    /* VM ports whose VM does not run here now */
	uint64_t generation;    /* of the table it was built from */
};

struct dwrr;
struct rte_ring;
struct toe_ctx;
struct ovl_table;
struct cluster;

/*
 * The overlay (dp_overlay.c: main thread; dp_vxlan.c: workers).  The
 * remote table is an RCU snapshot like the co-residency one.  A next
 * hop's MAC lives in a slot the main thread gives it (ip set while a
 * host of some snapshot uses it, cleared after the grace period of the
 * snapshot that dropped it); workers fill in the MAC from ARP, only for
 * slots in use, so the uplink cannot grow the table.
 */
#define DP_NBR_MAX 256
#define DP_NBR_VALID (1ull << 48)
#define DP_NBR_REFRESH_S 30             /* ask again while in use */
#define DP_NBR_ASK_MS 1000              /* at most one request a second */

struct dp_nbr {
	_Atomic uint32_t ip;            /* main thread; network order, 0: free */
	_Atomic uint64_t mac;           /* workers: 6 bytes | DP_NBR_VALID */
	_Atomic uint64_t seen_tsc;      /* workers: its last ARP */
	_Atomic uint64_t asked_tsc;     /* workers: our last request */
};

/* A MAC as the slots and uplink_mac hold it: 6 bytes in a word. */
static inline uint64_t
dp_mac_word(const uint8_t mac[6])
{
	uint64_t v = 0;

	for (int i = 0; i < 6; i++)
		v |= (uint64_t)mac[i] << (8 * i);
	return v;
}

static inline void
dp_word_mac(uint64_t v, uint8_t mac[6])
{
	for (int i = 0; i < 6; i++)
		mac[i] = (uint8_t)(v >> (8 * i));
}

struct dp_ovl_snap {
	struct ovl_table *t;
	uint64_t generation;            /* the directory's it was built from */
};

/* Overlay counters, per worker, declared once. */
#define DP_OVL_COUNTERS(X) \
	X(encap,        "frames sent into the tunnel (each copy of a replicated frame, each segment)") \
	X(decap,        "frames taken out of the tunnel and switched") \
	X(replicas,     "extra copies made for head-end replication") \
	X(segmented,    "super-frames cut in software inside the encapsulation") \
	X(nic_tso,      "super-frames sent into the tunnel whole, for the uplink's NIC to segment") \
	X(inner_csum_nic, "frames sent into the tunnel with their inner TCP/UDP checksum left to the uplink's NIC") \
	X(arp_in,       "ARP frames for the tunnel endpoint or from a next hop, taken") \
	X(arp_replies,  "ARP replies sent for this host's tunnel endpoint") \
	X(arp_requests, "ARP requests sent for a next hop")

struct dp_ovl_stats {
#define DP_OVL_FIELD(name, help) uint64_t name;
	DP_OVL_COUNTERS(DP_OVL_FIELD)
#undef DP_OVL_FIELD
	uint64_t vxlan_drops[16];       /* by enum vxlan_drop */
};

struct dp_overlay {
	/* Fixed while vtoed runs. */
	uint8_t local_ip[4];
	uint16_t udp_port;
	uint32_t mask;                  /* local_ip's prefix, host order; 0: all on-link */
	bool has_gw;
	uint8_t gw[4];
	uint32_t vni_of_net[CFG_MAX_NETWORKS];  /* 0: not an overlay network */
	char uplink_name[CFG_NAME_MAX];

	/* Main thread writes (the uplink may be re-created by a reload);
	 * workers read relaxed. */
	_Atomic int32_t uplink;         /* port id, -1: not there */
	_Atomic uint64_t uplink_mac;    /* 6 bytes */
	_Atomic uint32_t max_inner;     /* largest inner frame: MTU + 14 - 50 */

	_Atomic(struct dp_ovl_snap *) snap;     /* RCU */
	struct dp_nbr nbrs[DP_NBR_MAX];

	/* The main loop's descriptor: the session's epoll and kick_fd, an
	 * eventfd the vhost thread writes when a port of an overlay network
	 * goes up or down, so it is published at once, not at the next
	 * housekeeping. */
	int epfd;
	int kick_fd;

	/* Main thread only. */
	struct cluster *cl;
	uint64_t cl_gen;
	/* Each neighbour slot's state: a slot dropped from the table is
	 * reused only after a grace period, so no worker that matched its
	 * old address writes a MAC into it once it serves another next hop;
	 * and the next hop a free slot had, so a host that comes back finds
	 * its MAC still there. */
	uint8_t nbr_state[DP_NBR_MAX];
	uint32_t nbr_last_ip[DP_NBR_MAX];
	/* The session's state for the telemetry thread, copied at every
	 * dispatch under tel_lock (a pthread mutex, opaque here). */
	void *tel_lock;
	void *tel_info;                 /* struct cluster_info */
	unsigned int skipped;           /* directory entries of VNIs not here */
	uint64_t published_ms;
};

/*
 * The egress scheduler of one uplink: a DWRR class per VM port that uses
 * the uplink, shaped to the uplink's rate.  One worker, the owner, runs
 * it; frames from other workers reach it through the MP/SC inbox ring.
 */
struct dp_qos {
	/* Set at creation, then read-only. */
	struct dwrr *dwrr;              /* owner, plus relaxed stats reads */
	/* Any worker enqueues, the owner dequeues.  The owner is the worker
	 * whose plan runs the scheduler (qos_mine), the one that polls the
	 * uplink's queue 0; a queue move hands it over between plans. */
	struct rte_ring *inbox;
	uint32_t n_classes;
	uint32_t class_of_port[DP_PORTS_MAX];   /* UINT32_MAX: no class */
	uint16_t port_of_class[DP_PORTS_MAX];
	uint64_t rate_bps;              /* shaper rate, 0 = unlimited */
	uint32_t base_quantum;          /* wire bytes of the largest frame */

	/* Owner worker only. */
	struct shaper shaper;
	uint16_t n_pending;             /* dequeued, not yet taken by the NIC */
	uint64_t stuck_since;           /* TSC of the first attempt that sent
					 * nothing, 0 while the NIC takes frames */
	struct rte_mbuf *pending[DP_SEG_OUT];   /* segments of a burst */

	/* Main thread: each class's counters when its port was built. */
	struct dwrr_class_stats base[DP_PORTS_MAX];
	/* Main thread: measured share of the last second, in ppm. */
	uint64_t last_sent_bytes[DP_PORTS_MAX];
	_Atomic uint32_t share_ppm[DP_PORTS_MAX];
	uint64_t last_share_tsc;
};

/* What wakes a worker sleeping in interrupt mode for an rx queue. */
enum dp_intr_kind {
	DP_INTR_NONE,           /* nothing: the worker sleeps at most max_sleep */
	DP_INTR_KICK,           /* a VM port's kick set (vhost_port_kick_fd) */
	DP_INTR_ETH,            /* an uplink's rx interrupt fd */
};

struct dp_rxq {
	uint16_t port;
	uint16_t queue;
	uint8_t intr_kind;      /* enum dp_intr_kind */
	int intr_fd;
};

/* A VM port whose co-resident ring this worker reads, and the guest
 * queue it delivers into (the first of the port's queues it polls). */
struct dp_corx {
	uint16_t port;
	uint16_t queue;
};

/*
 * What one worker polls, published by RCU: the worker loads its plan once
 * per loop iteration and holds it until its quiescent state; the main
 * thread swaps in a new one when ports come or go, waits for a grace
 * period, then frees the old one.
 */
struct dp_plan {
	uint64_t gen;                   /* counts plans published, from 1 */
	bool intr_all;                  /* every rx queue has an intr_fd */
	unsigned int n_rxqs;
	struct dp_rxq rxqs[DP_WORKER_QUEUES_MAX];
	/* Co-resident rings this worker reads. */
	uint16_t n_corx;
	struct dp_corx corx[DP_WORKER_QUEUES_MAX];
	int16_t corx_of_port[DP_PORTS_MAX];     /* index in corx, -1: none */
	/* Uplinks whose scheduler this worker runs. */
	uint16_t n_qos;
	uint16_t qos[DP_PORTS_MAX];
	struct portset qos_mine;        /* the same, as a set */
};


/* A frame the impairment stage holds until due (TSC). */
#define DP_HELD_MAX 4096
struct dp_held {
	uint64_t due;
	struct rte_mbuf *m;
	uint32_t epoch;
	uint16_t port;
	uint8_t dir;                    /* CFG_IMPAIR_RX or _TX */
};

struct dp_txbuf {
	uint16_t n;
	bool dirty;                     /* listed in the worker's dirty[] */
	struct rte_mbuf *pkts[DP_BURST];
};

/* Where a TOE context's refusals go (dp_toe_drop): its worker and port. */
struct dp_toe_sink {
	struct dp_worker *w;
	uint16_t port;
};

/*
 * One per worker lcore, cache aligned, owned by that lcore.  The main
 * thread reads the counters (relaxed 64-bit loads; they only grow).
 */
struct dp_worker {
	struct dp *dp;
	unsigned int lcore;
	unsigned int index;             /* RCU thread id */
	_Atomic(struct dp_plan *) plan; /* swapped by the main thread */
	const struct dp_plan *pl;       /* this iteration's (worker only) */

	/* Data path scratch. */
	struct dp_txbuf txbufs[DP_PORTS_MAX];
	uint16_t dirty[DP_PORTS_MAX];   /* ports with frames in txbufs */
	uint16_t n_dirty;

	/* Software TOE: one context per port (counters per port), and room
	 * for what a burst of super-frames becomes. */
	struct toe_ctx *toe[DP_PORTS_MAX];
	struct dp_toe_sink toe_sink[DP_PORTS_MAX];
	struct rte_mbuf **seg_out;      /* DP_SEG_OUT entries */
	/* Layer 2: the endpoints of the ports with one (dp_toe.c), the
	 * frame at work read out of its mbufs, and how long the worker may
	 * sleep before a timer of its endpoints is due (UINT32_MAX: any). */
	struct toe_ep *toe_ep[DP_PORTS_MAX];
	uint8_t toe_key[16];
	/* Frames the impairment stage holds, earliest due first. */
	uint64_t imp_rng;
	uint32_t n_held;
	struct dp_held *held;           /* DP_HELD_MAX */
	bool toe_armed;                 /* some endpoint has a timer */
	uint32_t toe_sleep_us;
	uint8_t *toe_in;                /* TOE_EP_IN_MAX bytes */
	/* The overlay: its counters and the frames a burst becomes. */
	struct dp_ovl_stats ovl;
	struct rte_mbuf **ovl_out;      /* DP_SEG_OUT entries */
	uint64_t ovl_resolve_tsc;       /* last dp_vxlan_resolve scan */

	struct dp_txbuf corx_buf;

	/* Counters, written only by this worker. */
	uint64_t busy_cycles;
	uint64_t idle_cycles;
	uint64_t sleep_cycles;          /* given back to the host (adaptive) */
	uint64_t sleeps;
	struct poll_backoff backoff;
	uint64_t loop_hist[DP_LOOP_HIST];
	uint64_t loop_max_cycles;
	uint64_t long_cycles;           /* DP_LONG_LOOP_US in TSC cycles */
	uint64_t n_long;                /* long loops recorded, ever */
	struct {
		uint64_t end_ns;
		uint64_t cycles;
	} long_loops[DP_LONG_LOOPS];    /* slot n_long % DP_LONG_LOOPS */
	int tid;

	/* Interrupt mode (dp_intr.c).  sleeping is set by the worker before
	 * it looks at its rings one last time; a thread that leaves frames
	 * for it reads it after, and writes wake_fd if set. */
	_Atomic bool sleeping;
	int epfd;                       /* what the worker sleeps on */
	int wake_fd;                    /* eventfd: others wake it */
	uint64_t reg_gen;               /* plan whose fds are in epfd */
	bool reg_all;                   /* ... and every rx queue's is */
	unsigned int n_reg;
	int *reg_fds;                   /* DP_WORKER_QUEUES_MAX */
	uint64_t wakeups;               /* sleeps ended by an event */
	struct dp_rxq_load rxq_load[DP_PORTS_MAX][CFG_MAX_QUEUES];
	/* The direct path took nothing at this queue's last turn: the next
	 * reads ahead one chain, not a burst (dp_poll_rxq).  After misses
	 * in a row, the next direct_skip turns leave the queue to the
	 * library path alone, direct_backoff turns more after each further
	 * miss (up to DP_DIRECT_BACKOFF_MAX), none after a frame it took. */
	bool direct_missed[DP_PORTS_MAX][CFG_MAX_QUEUES];
	uint8_t direct_skip[DP_PORTS_MAX][CFG_MAX_QUEUES];
	uint8_t direct_backoff[DP_PORTS_MAX][CFG_MAX_QUEUES];
	/* Frames the library path's last burst at a guest's queue took: the
	 * next burst's buffers prefetched (vhost_rx_burst). */
	uint8_t rx_last[DP_PORTS_MAX][CFG_MAX_QUEUES];

	struct dp_port_stats stats[DP_PORTS_MAX];
} __rte_cache_aligned;

struct dp {
	const struct cfg *cfg;
	struct rte_mempool *pool;
	/* Networks (fixed while vtoed runs): a MAC table each, and the
	 * network of each uplink VLAN tag (vid 0: untagged; -1: none). */
	struct fdb *fdbs[CFG_MAX_NETWORKS];
	uint16_t n_nets;
	struct cfg_network nets[CFG_MAX_NETWORKS];
	int16_t net_of_vlan[4096];
	struct rte_rcu_qsbr *rcu;
	uint64_t tsc_hz;

	/* Port ids are below n_ports (slots in use or free); workers load
	 * it once per iteration for floods. */
	_Atomic uint16_t n_ports;
	struct dp_port ports[DP_PORTS_MAX];
	struct fwd_port fwd_ports[DP_PORTS_MAX];        /* read-only view */

	/* Port p can take frames.  Set and cleared by the vhost event thread
	 * (guest up/down) and at uplink start; workers load it once per loop
	 * iteration. */
	struct portset_shared up;

	/* Co-residency (dp_members.c): the snapshot workers read, and the
	 * main thread's side (table, libvirt adapter; NULL when static). */
	_Atomic(struct dp_members_snap *) members;
	/* The published away set again, for readers outside RCU (control
	 * socket, telemetry thread): they never touch a snapshot that the
	 * main thread may free once the workers are past it. */
	struct portset_shared away;
	struct dp_members *mctl;
	/* Counters the main thread writes (frames drained from rings). */
	struct dp_port_stats ctl_stats[DP_PORTS_MAX];
	/* What the counters of a slot read when its port was built: a
	 * port's counters start at zero. */
	struct dp_port_stats stats_base[DP_PORTS_MAX];
	/* Ports removed while running, and the frames still queued for them
	 * then (dropped as port_removed). */
	uint64_t ports_removed;
	uint64_t removed_drained;
	/* The config in effect, when a reload replaced the one the switch
	 * was created with (which its caller owns). */
	struct cfg *cfg_owned;

	unsigned int n_workers;
	struct dp_worker *workers;      /* n_workers, rte_zmalloc'd */
	atomic_bool stop;
	bool started;
	uint64_t last_age_tsc;
	uint32_t fdb_ageing_s;          /* main thread; changed by reload */
	bool direct;                    /* datapath.direct: vring to vring;
					 * changed by a reload, which
					 * re-creates every VM port */
	bool intr;                      /* lcores.poll: interrupt */
	uint64_t plan_gen;              /* main thread: plans published */

	/* Main thread: load samples (dp_load.c) and rebalancing. */
	uint64_t load_n;                /* samples taken; the newest is
					 * (load_n - 1) % DP_LOAD_SAMPLES */
	uint64_t load_tsc[DP_LOAD_SAMPLES];
	struct {
		uint64_t busy, idle, sleep;
	} wload[CFG_MAX_WORKERS][DP_LOAD_SAMPLES];
	struct place_trigger trigger;
	uint64_t rebalances;            /* proposals taken */
	uint64_t rebalance_checks;      /* proposals made */
	uint64_t queues_moved;
	struct place_proposal last_proposal;
	bool last_taken;
	uint64_t last_check_s;          /* when (dp_now_s), 0: never */

	/* overlay: and cluster: (NULL without). */
	struct dp_overlay *ovl;

	/* Main thread: packet captures, running and just ended. */
	struct dp_capture *captures[DP_CAPTURES_MAX];
	/* What the main thread last saw of them, for the telemetry thread
	 * (dp_capture_values). */
	pthread_mutex_t cap_view_lock;
	struct dp_capture_info cap_view[DP_CAPTURES_MAX];
	unsigned int n_cap_view;
	int capture_ids;
};

/* dp_capture.c: one port's capture.  Workers read the first part. */
struct cap_filter;
struct cap_file;
struct dp_capture {
	unsigned int dirs;              /* DP_CAP_* */
	uint32_t snaplen;
	struct cap_filter *filter;      /* NULL: every frame */
	struct rte_mempool *pool;       /* the taps' copies */
	struct rte_ring *ring;          /* copies to the writer (MP/SC) */
	_Atomic int64_t left;           /* frames still wanted */
	_Atomic uint64_t seen, filtered, lost;
	/* main thread */
	int id;
	uint16_t port;
	uint64_t count;
	char filter_text[256];
	struct rte_mempool *epb_pool;   /* rte_pcapng_copy's blocks */
	struct cap_file *file;
	uint64_t written, lost_main, bytes_final;
	uint64_t last_poll_tsc, done_tsc;
	int error;                      /* errno of a failed write */
	bool done;
	char why[96];
};

/* Directions as pcapng's packet flags (rte_pcapng_direction). */
#define DP_CAP_IN 1
#define DP_CAP_OUT 2

/* The capture of port that wants dir (DP_CAP_*), or NULL: what a tap
 * tests on every burst. */
static inline struct dp_capture *
dp_cap_of(const struct dp_port *port, unsigned int dir)
{
	struct dp_capture *c = atomic_load_explicit(&port->capture,
						    memory_order_acquire);

	return unlikely(c != NULL) && (c->dirs & dir) ? c : NULL;
}
/* Taps (workers): frames (reason: enum dp_drop, -1 when not dropped;
 * dir: enum rte_pcapng_direction), and a frame the direct path copies
 * from a guest's descriptor chain (its len bytes from off). */
void dp_capture_burst(struct dp_capture *c, uint16_t queue, uint8_t dir,
		      int reason, struct rte_mbuf *const *pkts, uint16_t n);
void dp_capture_chain(struct dp_capture *c, uint16_t queue, uint8_t dir,
		      int reason, const struct vd_chain *ch, uint32_t off,
		      uint32_t len);
/* Drop n frames of port's under reason (enum dp_drop): counted, shown to
 * a capture of the port's drops (dir: DP_CAP_IN or _OUT, on their way in
 * or out), freed. */
void dp_drop_frames(struct dp_worker *w, uint16_t port, enum dp_drop reason,
		    uint8_t dir, struct rte_mbuf **pkts, uint16_t n);
/* A TOE context's sink (toe_drop_sink, arg a struct dp_toe_sink): its
 * refusals are the port's drops, offload_bad on the way in, offload_egress
 * on the way out, counted and captured like any other. */
void dp_toe_drop(void *arg, struct rte_mbuf *m, enum toe_stage stage,
		 enum toe_drop reason);
/* Main thread: write what the taps queued, end what is over. */
void dp_capture_poll(struct dp *dp);
/* Port p is going: its capture ends. */
void dp_capture_port_gone(struct dp *dp, uint16_t p);
void dp_capture_destroy(struct dp *dp);

/* dp_worker.c */
int dp_worker_main(void *arg);

/* dp_load.c (main thread) */
/* Once a second: sample the load sums; with rebalance: auto, maybe move
 * queues. */
void dp_load_tick(struct dp *dp);
/* A new port in slot p: its window starts now. */
void dp_load_port_reset(struct dp *dp, uint16_t p);
/* Cycles queue q of port p took over the window, and the window's
 * length in cycles (0: no window yet). */
uint64_t dp_load_queue(const struct dp *dp, uint16_t p, uint16_t q,
		       uint64_t *frames, uint64_t *window);
/* Worker i's window: window_s and the busy/idle/sleep shares of info. */
void dp_load_worker(const struct dp *dp, unsigned int i,
		    struct dp_worker_info *info);

/* dp_port.c: hand queues over to other workers: none polls them for one
 * grace period, then the new one does.  0 or -errno. */
struct dp_move {
	uint16_t port;
	uint16_t queue;
	uint16_t worker;
};
int dp_queues_move(struct dp *dp, const struct dp_move *moves, unsigned int n);

/* dp_intr.c: interrupt mode */
int dp_intr_init(struct dp_worker *w);
void dp_intr_fini(struct dp_worker *w);
/* Any thread: end worker w's sleep (now, or its next one). */
void dp_wake(struct dp_worker *w);
/* Worker self (or another thread, self = -1) left frames for the
 * workers that poll port (its wake_mask): wake those that sleep.  Only
 * in interrupt mode, where nothing else would end their sleep; the mask
 * is not even read otherwise. */
static inline void
dp_wake_port(struct dp *dp, const struct dp_port *port, int self)
{
	uint64_t mask;

	if (!dp->intr)
		return;
	mask = atomic_load_explicit(&port->wake_mask, memory_order_relaxed);
	if (self >= 0)
		mask &= ~(1ULL << self);
	if (mask == 0)
		return;
	/* Our frames are in the ring before we read "sleeping": pairs with
	 * the fence in dp_intr_sleep. */
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	while (mask != 0) {
		struct dp_worker *o = &dp->workers[__builtin_ctzll(mask)];

		mask &= mask - 1;
		if (atomic_load_explicit(&o->sleeping, memory_order_relaxed))
			dp_wake(o);
	}
}
/* A sleep of worker w from TSC t0 to t1, in its counters. */
static inline void
dp_sleep_account(struct dp_worker *w, uint64_t t0, uint64_t t1)
{
	__atomic_store_n(&w->sleep_cycles, w->sleep_cycles + (t1 - t0),
			 __ATOMIC_RELAXED);
	__atomic_store_n(&w->sleeps, w->sleeps + 1, __ATOMIC_RELAXED);
}
/* The worker, between loop iterations, holding its plan and snapshot:
 * sleep until an interrupt, a wake-up or max_us (when some rx queue has
 * no interrupt).  Goes offline for RCU while it sleeps.  Returns the TSC
 * after. */
uint64_t dp_intr_sleep(struct dp_worker *w, const struct dp_plan *pl,
		       const struct dp_members_snap *snap, uint32_t max_us);

/* dp_direct.c: copy up to max frames at the head of VM port in's guest
 * tx ring q straight into the guests they go to.  Returns frames taken;
 * *rest is true when it stopped at a frame it leaves to the library. */
uint16_t dp_direct_rx(struct dp_worker *w, uint16_t in, uint16_t q,
		      uint16_t max, const struct fwd_ctx *fctx, bool *rest);

/* dp_qos_tx.c (workers) */
/* Hand frames from port "in" bound for uplink p to its scheduler; what
 * the scheduler cannot take is freed and counted.  */
void dp_qos_enqueue(struct dp_worker *w, uint16_t p, uint16_t in,
		    struct rte_mbuf **pkts, uint16_t n);
/* Owner: move the inbox into DWRR, dequeue what the shaper allows, send.
 * Returns how many frames the NIC took. */
unsigned int dp_qos_run(struct dp_worker *w, uint16_t p, uint64_t now);
/* The uplink's scheduler still holds frames (shaped, or the NIC full). */
bool dp_qos_backlogged(const struct dp_worker *w, uint16_t p);
/* What the scheduler charges for a frame: its bytes on the wire
 * (frame + FCS + preamble + inter-frame gap); for a TCP super-frame, those
 * of the segments it becomes, up to DP_QOS_CHARGE_MAX. */
uint32_t dp_qos_wire_len(const void *pkt);
#define DP_WIRE_OVERHEAD 24
/* A 64 KB super-frame cut at an MSS of 536 or more costs less than this;
 * smaller MSS values (legal, but rare) are charged this much.  The
 * shaper's bucket holds at least this, so any queued frame can leave. */
#define DP_QOS_CHARGE_MAX (128u * 1024)
/* A NIC that takes nothing for this long while frames wait: the frame at
 * the head is dropped (nic_stuck), so one frame the PMD will never take
 * (or a link that is down) cannot hold the uplink forever. */
#define DP_QOS_STUCK_MS 100

/* dp_worker.c: fit frames for port p to what p does itself (GRO toward
 * guests when gro, then software GSO/checksum); returns the frames to send
 * in *out (pkts or w->seg_out) and their count; counts on p. */
uint16_t dp_offload_egress(struct dp_worker *w, uint16_t p, bool gro,
			   struct rte_mbuf **pkts, uint16_t n,
			   struct rte_mbuf ***out);

/* dp_qos.c (main thread) */
int dp_qos_create(struct dp *dp, struct dp_port *uplink);
/* After no worker runs it any more: returns the frames it still held
 * (dropped). */
uint64_t dp_qos_destroy(struct dp *dp, struct dp_port *uplink);
void dp_qos_housekeeping(struct dp *dp, uint64_t now);
/* Frames held by the scheduler (classes, inbox, NIC retry). */
uint64_t dp_qos_queued(const struct dp_qos *qos);
/* VM port p was just built: its class on every uplink starts now, at its
 * weight. */
void dp_qos_port_added(struct dp *dp, uint16_t p);

/* dp_members.c (main thread) */
#define DP_CORING_SIZE 1024     /* frames per VM; a power of two */
int dp_members_create(struct dp *dp);
/* After ports came or went: publish the away mask of the ports in use. */
void dp_members_refresh(struct dp *dp);
/* attach: auto: make the ports from libvirt match the table now. */
void dp_members_attach(struct dp *dp);
void dp_members_destroy(struct dp *dp);
/* Publish a snapshot with this away mask; after a grace period, drain the
 * rings of the ports that went away.  Returns frames drained. */
uint64_t dp_members_publish(struct dp *dp, const struct portset *away,
			    uint64_t generation);

/* dp.c: the counters of slot p since the switch started (no base). */
void dp_port_stats_raw(const struct dp *dp, unsigned int p,
		       struct dp_port_stats *out);

/* dp_port.c */
void dp_ports_close(struct dp *dp);
/* Build VM port pc (of config cfg: its uplink index is cfg's) of VM vm in
 * a free slot and open its socket (workers may be running): returns its
 * id, or -errno (nothing left behind).  from_libvirt: made from a
 * domain's XML rather than the port map. */
int dp_port_add(struct dp *dp, const struct cfg *cfg,
		const struct cfg_port *pc, const char *vm, bool from_libvirt);
/* Probe, start and schedule uplink uc in a free slot (workers may be
 * running): its id, or -errno (nothing left behind). */
int dp_uplink_add(struct dp *dp, const struct cfg_uplink *uc);
/* Stop uplink p and free its slot: what its scheduler held is dropped
 * (port_removed); VM ports that used it lose their uplink until it comes
 * back (dp_uplinks_rebind). */
void dp_uplink_remove(struct dp *dp, uint16_t p);
/* The uplink named name, or -1. */
int dp_uplink_find(const struct dp *dp, const char *name);
/* Point every VM port at its uplink by name again (after uplinks came or
 * went). */
void dp_uplinks_rebind(struct dp *dp);
/* The port of the port map (not made from a domain) named name, or -1. */
int dp_config_port_find(const struct dp *dp, const char *name);
/* Close VM port p and free its slot, draining what is queued for it. */
void dp_port_remove(struct dp *dp, uint16_t p);
/* Spread the rx queues of every port in use over the workers (ports
 * keep the workers they had) and publish the plans. 0 or -E2BIG. */
int dp_plans_publish(struct dp *dp);

/* dp_toe.c: port p's TOE endpoints on every worker, when its config
 * gives it one (0 or -ENOMEM); freed with the slot. */
int dp_toe_port_add(struct dp *dp, uint16_t p);
void dp_toe_port_free(struct dp *dp, uint16_t p);
/* The clock of the endpoints' lease times and timers. */
uint64_t dp_toe_now_ms(const struct dp *dp);
/* Worker side: a frame port in's endpoint claimed (toe_ep_classify):
 * true when taken (m consumed); the endpoints' timers and services, true
 * when they sent anything. */
bool dp_toe_take(struct dp_worker *w, uint16_t in, struct rte_mbuf *m);
bool dp_toe_suppress(struct dp_worker *w, uint16_t in,
		     const struct fwd_ctx *fctx, struct rte_mbuf *m);
bool dp_toe_run(struct dp_worker *w, uint64_t tsc);
/* The worker's TOE state (0 or -ENOMEM) and its end. */
int dp_toe_worker_init(struct dp_worker *w);
void dp_toe_worker_fini(struct dp_worker *w);
/* dp_impair.c: the port's impairment settings (workers see them at their
 * next burst); the frames of a burst through the stage (dropped ones
 * counted, held ones kept), returning those that go on now; the held
 * frames now due, handed back; those of a worker, all dropped. */
void dp_port_impair_set(struct dp *dp, uint16_t p, const struct cfg_impair *im);
uint16_t dp_impair_filter(struct dp_worker *w, uint16_t p, uint8_t dir,
			  struct rte_mbuf **pkts, uint16_t n);
unsigned int dp_impair_release(struct dp_worker *w, const struct fwd_ctx *fctx);
void dp_impair_fini(struct dp_worker *w);
/* dp_worker.c: the delivery and forwarding the held frames go back to. */
void dp_vhost_deliver(struct dp_worker *w, const struct dp_corx *cr,
		      struct rte_mbuf **in, uint16_t taken, bool impaired);
void dp_forward(struct dp_worker *w, uint16_t in, struct rte_mbuf **pkts,
		uint16_t n, const struct fwd_ctx *fctx);
/* dp_worker.c: a frame the switch made, staged for port p; what is
 * staged, flushed (in: the port the frames came from). */
void dp_stage_out(struct dp_worker *w, uint16_t p, struct rte_mbuf *m);
void dp_flush_dirty(struct dp_worker *w, uint16_t in);

/* dp_overlay.c (main thread): the overlay and its directory session,
 * made with the switch when the config has overlay: (0 or -errno), and
 * their end; what a guest of network net may send (0: no limit of the
 * overlay's). */
int dp_overlay_create(struct dp *dp);
void dp_overlay_destroy(struct dp *dp);
uint16_t dp_overlay_guest_mtu(const struct dp *dp, uint16_t net);
/* vhost thread: port p's guest went up or down. */
void dp_overlay_port_changed(struct dp *dp, uint16_t p);
/* dp_vxlan.c (workers): a frame from uplink in: 0 not the overlay's (the
 * switch goes on with it), 1 decapsulated (its network in *net), -1
 * consumed (ARP for the tunnel endpoint, or refused and counted).  The
 * frames of VM port in's overlay network for uplink p, in the tunnel:
 * how many, in *out (every input consumed; what could not go counted). */
int dp_vxlan_rx(struct dp_worker *w, uint16_t in, struct rte_mbuf *m,
		uint16_t *net);
uint16_t dp_vxlan_push(struct dp_worker *w, uint16_t p, uint16_t in,
		       struct rte_mbuf **pkts, uint16_t n,
		       struct rte_mbuf ***out);
/* The network of vni here, or -1 (dp->ovl set). */
static inline int
dp_overlay_net_of_vni(const struct dp *dp, uint32_t vni)
{
	for (uint16_t n = 0; n < dp->n_nets; n++)
		if (dp->ovl->vni_of_net[n] == vni)
			return n;
	return -1;
}
/* The overlay uplink's scheduler owner: ARP for next hops without a MAC. */
void dp_vxlan_resolve(struct dp_worker *w, uint64_t now);


#endif /* VTOE_DP_PRIV_H */
