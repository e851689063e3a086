/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * dp: the switch.  Created from a validated config after the EAL is up;
 * owns the mbuf pool, the ports (vhost-user and uplinks), the MAC table
 * and the worker lcores.  The main thread creates, starts, ages, reads
 * counters, stops and destroys; workers only forward.
 */
#ifndef VTOE_DP_H
#define VTOE_DP_H

#include <stdbool.h>
#include <stdint.h>

#include "dp_drop.h"
#include "toe_stack/toe_ep.h"
#include "toe_stack/toe_imds.h"
#include "toe_stack/toe_iperf3.h"
#include "qos_dwrr/dwrr.h"

struct cfg;
struct dp;
struct fdb;

enum dp_port_kind {
	DP_PORT_VHOST,
	DP_PORT_UPLINK,
};

struct dp_port_info {
	const char *name;
	const char *vm;                 /* NULL for uplinks */
	bool from_libvirt;              /* made from a domain (attach: auto) */
	enum dp_port_kind kind;
	const char *socket;             /* vhost */
	bool client;                    /* vhost: client (reconnect) mode */
	const char *device;             /* uplink devargs */
	uint8_t mac[6];
	uint16_t queues;
	int uplink;                     /* vhost: port id of its uplink, -1 */
	uint32_t weight;
	bool link_up;
	int vid;                        /* vhost: -1 when no guest */
	uint64_t features;              /* vhost: negotiated virtio features */
	bool offloads;                  /* vhost: offloads offered */
	uint32_t caps;                  /* TOE_CAP_* the egress does itself */
	uint16_t eth_port;              /* uplink: DPDK port id */
	bool here;                      /* vhost: its VM runs on this host
					 * (co-resident: frames to it take
					 * its ring, not the uplink) */
	uint32_t coring_queued;         /* vhost: frames in its ring now */
	/* vhost: who runs the port (one owner per port), migrations. */
	const char *standby_socket;     /* client-mode migration target, or NULL */
	unsigned int standby;           /* other connections on its sockets */
	bool logging;                   /* owner logs dirty pages (migrating) */
	uint64_t owner_changes;
	uint64_t refused;
	uint64_t takeovers;
	uint64_t announces;
	const char *network;            /* vhost: its network's name */
	uint16_t vlan;                  /* vhost: its network's tag, 0: none */
	bool port_security;             /* vhost */
	bool ip_restricted;             /* vhost: port security checks IPs */
	struct cfg_impair impair;       /* vhost: dir 0 when none */
	char socket_buf[108];           /* storage for socket, standby_socket */
	char standby_buf[108];
};

/*
 * Why the direct path left a frame of this port to the library path
 * (dp_direct.c): counted once per stop, at the frame it stopped on;
 * PAUSED once per turn it did not look (dp_poll_rxq).
 * X(symbol, "name in vtoectl's JSON", "what happened")
 */
#define DP_DIRECT_STOPS(X) \
	X(OFFLOAD, "offload", "offload metadata not in the form passed on as it is, or a lie: the library path validates it") \
	X(CHAIN, "chain", "descriptor chain not walked directly: too long, an odd indirect table, outside guest memory") \
	X(HEADER, "header", "virtio-net or Ethernet header not whole in the first buffers") \
	X(DEST, "dest", "not exactly one other guest: flood, uplink, unknown destination, drop") \
	X(RECEIVER, "receiver", "receiving queue not free for this worker: frames queued ahead, disabled, shared, or being changed") \
	X(CAPS, "caps", "receiver lacks the frame's offloads: done in software on the library path") \
	X(GRO, "gro", "TCP segment for a guest that takes super-frames: GRO coalesces it on the library path") \
	X(FULL, "full", "receiver has not posted room for it") \
	X(PSEC, "psec", "port security needs headers past the bytes the direct path reads (neighbour discovery options, long IPv6 extension chains)") \
	X(TOE, "toe", "for the port's TOE endpoint (or it needs more headers to tell), or an ARP request it may suppress: answered on the library path") \
	X(PAUSED, "paused", "a turn it did not look: after turns in a row that it stopped at the first frame (an uplink's, the tunnel's), it pauses on the queue for 1 to 64 turns")

enum dp_direct_stop {
#define DP_DS_ENUM(sym, name, help) DP_DIRECT_STOP_##sym,
	DP_DIRECT_STOPS(DP_DS_ENUM)
#undef DP_DS_ENUM
	DP_DIRECT_STOP_MAX
};

const char *dp_direct_stop_name(enum dp_direct_stop s);

/*
 * A port's counters, declared once: X(field, "name", VIEW, "what it
 * counts").  VIEW PORT: shown with the port (vtoectl stats, telemetry
 * NAME); OFFLOAD: with its offload work (vtoectl's offload block,
 * telemetry offload_NAME).  The per-worker sum, the JSON, telemetry and
 * vtoectl's tables all iterate this list.
 */
#define DP_PORT_COUNTERS(X) \
	X(rx_packets, "rx_packets", PORT, "frames received from the port") \
	X(rx_bytes, "rx_bytes", PORT, "bytes of those") \
	X(tx_packets, "tx_packets", PORT, "frames the port took") \
	X(tx_bytes, "tx_bytes", PORT, "bytes of those") \
	X(tx_retries, "tx_retries", PORT, "bursts a guest took part of: tried again") \
	X(direct_packets, "direct", PORT, "frames from this port copied vring to vring") \
	X(flood_copies, "flood_copies", PORT, "extra copies made of frames from this port") \
	X(announces, "announces", PORT, "gratuitous ARP / RARP flooded from this port (a guest telling where it is now)") \
	X(toe_taken, "toe_taken", PORT, "frames from the guest its TOE endpoint took: answered, or dropped under a reason of vtoectl toe (the overlay's uplink: ARP its tunnel endpoint took)") \
	X(toe_sent, "toe_sent", PORT, "frames its TOE endpoint made for the guest, then sent or dropped as any (the overlay's uplink: ARP its tunnel endpoint sent)") \
	X(nic_tso, "nic_tso", OFFLOAD, "uplinks: super-frames the NIC segments") \
	X(gso_extra, "gso_extra", OFFLOAD, "frames to this port: segments minus super-frames") \
	X(gro_merged, "gro_merged", OFFLOAD, "frames to this port absorbed by GRO")

enum dp_counter_view { DP_VIEW_PORT, DP_VIEW_OFFLOAD };

struct dp_port_stats {
#define DP_COUNTER_FIELD(f, name, view, help) uint64_t f;
	DP_PORT_COUNTERS(DP_COUNTER_FIELD)
#undef DP_COUNTER_FIELD
	uint64_t direct_stops[DP_DIRECT_STOP_MAX];
	uint64_t drops[DP_DROP_MAX];
};

/* The list above as a table, for the views. */
struct dp_counter {
	const char *name;
	enum dp_counter_view view;
	size_t off;                     /* in struct dp_port_stats */
};
extern const struct dp_counter dp_port_counters[];
extern const unsigned int dp_n_port_counters;
#define DP_COUNTER(st, c) (*(const uint64_t *)((const char *)(st) + (c)->off))

#define DP_WORKER_QUEUES_MAX 4096
#define DP_LOOP_HIST 40         /* 2^39 cycles: minutes */
/* The latest loop iterations of DP_LONG_LOOP_US or more are kept, with
 * when they ended: set beside the scheduler's trace, they tell a stall of
 * the worker's own from time the kernel gave its CPU to someone else. */
#define DP_LONG_LOOPS 256
#define DP_LONG_LOOP_US 100

struct dp_worker_info {
	unsigned int lcore;
	unsigned int n_queues;
	struct {
		uint16_t port;
		uint16_t queue;
		bool pinned;            /* vtoectl lcores pin: never rebalanced */
		/* over the last window_s: share of a CPU, frames a second */
		double load_pct;
		double frames_per_s;
	} queues[DP_WORKER_QUEUES_MAX];
	uint64_t busy_cycles;   /* loop iterations that moved frames */
	uint64_t idle_cycles;
	uint64_t sleep_cycles;  /* asleep, the CPU given back (adaptive) */
	uint64_t sleeps;
	uint64_t wakeups;       /* interrupt mode: sleeps an event ended */
	/* The same shares over the last window_s seconds (0: none yet). */
	double window_s;
	double busy_pct, idle_pct, sleep_pct;
	/* How long loop iterations took: loop_hist[b] counts those of
	 * 2^(b-1) to 2^b - 1 TSC cycles (b = 0: none); the longest one.  A
	 * stall of the worker (a lock, a slow guest) shows at the top. */
	uint64_t loop_hist[DP_LOOP_HIST];
	uint64_t loop_max_cycles;
	uint64_t tsc_hz;
	int tid;                        /* the worker thread's, 0 until it runs */
	unsigned int n_long;            /* long_loops[] filled, oldest first */
	struct {
		uint64_t end_ns;        /* CLOCK_MONOTONIC */
		uint64_t ns;
	} long_loops[DP_LONG_LOOPS];
};

struct dp_qos_class_info {
	uint16_t port;                  /* the VM port this class serves */
	uint32_t share_ppm;             /* of the uplink's bytes, last second */
	struct dwrr_class_stats st;
};

struct dp_qos_info {
	uint64_t rate_bps;              /* 0: unlimited */
	uint32_t base_quantum;          /* bytes; quantum = weight x this */
	unsigned int owner_lcore;
	uint64_t queued;                /* frames held by the scheduler */
	uint32_t n_classes;
	struct dp_qos_class_info classes[64];
};

/* Rebalancing (lcores.rebalance) and queue moves, for lcores. */
struct dp_rebalance_info {
	bool automatic;
	uint32_t load_pct, period_s, improvement_pct;
	uint64_t checks;                /* proposals made */
	uint64_t taken;                 /* ... and carried out */
	uint64_t queues_moved;          /* by rebalances and pins */
	uint32_t last_check_s;          /* dp_now_s of the last, 0: none */
	bool last_taken;
	unsigned int last_moves;
	double last_var_before, last_var_after;
};
void dp_rebalance_info(const struct dp *dp, struct dp_rebalance_info *info);

/*
 * Pin queue q of port to the worker on lcore (moved there now, without
 * loss or reordering), or with lcore -1 unpin it (a rebalance may move
 * it again).  0, or -errno with err filled.
 */
int dp_queue_pin(struct dp *dp, unsigned int port, unsigned int q, int lcore,
		 char *err, size_t err_size);

/* After rte_eal_init.  NULL + errno; reasons are logged. */
struct dp *dp_create(const struct cfg *cfg);
/* Launch the workers on their lcores. 0 or -errno. */
int dp_start(struct dp *dp);
/* Main thread, a few times a second: ages the MAC table. */
void dp_housekeeping(struct dp *dp);
/* Stop the workers and wait for them. */
void dp_stop(struct dp *dp);
/* Close ports, free everything.  Accepts NULL. */
void dp_destroy(struct dp *dp);

/* Serialises the port table between the main thread, which changes it
 * (reload), and readers on other threads (telemetry). */
void dp_table_lock(void);
void dp_table_unlock(void);

/* Port ids are below this; dp_port_info() says -ENOENT for a free one. */
unsigned int dp_port_count(const struct dp *dp);
int dp_port_find(const struct dp *dp, const char *name);
int dp_port_info(const struct dp *dp, unsigned int port,
		 struct dp_port_info *info);
/* Sum of every worker's counters for port, since it was built. */
int dp_port_stats(const struct dp *dp, unsigned int port,
		  struct dp_port_stats *stats);
/* Every port's counters summed since the switch started, those of ports
 * removed since included (they balance: rx + copies = tx + drops). */
void dp_stats_totals(const struct dp *dp, struct dp_port_stats *sum);
/* VM ports removed while running; *drained: frames dropped with them. */
uint64_t dp_ports_removed(const struct dp *dp, uint64_t *drained);

/*
 * Apply a re-read config (validated by the same parser) to the running
 * switch, by the classification of cfg_diff.h: VM ports added, removed
 * and re-created, LIVE fields applied, untouched ports left alone.  A
 * RESTART difference (or an uplink change) refuses it: -EINVAL, err says
 * which key and where, nothing changed.  Otherwise the switch takes next
 * (it frees it) and d says what became of every port; -EIO when some
 * port could not be created (err names them; the others are applied, and
 * the next reload tries those again).  A caller keeps next on -EINVAL.
 */
struct cfg_diff;
int dp_reload(struct dp *dp, struct cfg *next, struct cfg_diff *d, char *err,
	      size_t err_size);
uint32_t dp_fdb_ageing_s(const struct dp *dp);

/* Client-mode live migration of VM port: connect the destination's
 * socket as standby (see vhost_port_migrate), or with path NULL drop
 * that standby.  0 or -errno; err says why not. */
int dp_port_migrate(struct dp *dp, unsigned int port, const char *path,
		    char *err, size_t err_size);

/* VM port's impairment stage, now: 0, -ENOENT (not a VM port). */
int dp_port_impair(struct dp *dp, unsigned int port, const struct cfg_impair *im);

/* The egress scheduler of uplink port: 0, -ENOENT (not an uplink). */
int dp_qos_info(const struct dp *dp, unsigned int port, struct dp_qos_info *info);
/* Weight of VM port on every uplink, at once: 0, -ENOENT (not a VM
 * port), -EINVAL (outside DWRR_WEIGHT_MIN..MAX); nothing changes on error. */
int dp_qos_weight_set(struct dp *dp, unsigned int port, uint32_t weight);

struct toe_stats;
/* The software TOE's counters for port, summed over the workers. */
int dp_port_offload_stats(const struct dp *dp, unsigned int port,
			  struct toe_stats *st);

/* A VM port's TOE endpoint: its config, counters summed over the
 * workers, its latest lease, and the clock the lease's times are on. */
struct dp_toe_info {
	const struct toe_ep_conf *conf;
	const char *instance_id;        /* "" when the VM has none */
	struct toe_ep_stats stats;
	struct toe_ep_lease lease;
	uint64_t now_ms;
	bool imds, imds_v2_only;
	uint64_t user_data_len;
	struct toe_imds_stats imds_stats;
	bool iperf3;
	struct toe_iperf3_stats iperf3_stats;
	/* connections (as of the last copy, up to 250 ms old) */
	unsigned int n_conns;           /* in conns[] */
	uint32_t conns_total;
	uint32_t conns_tw;              /* of them in TIME_WAIT */
	struct toe_tcp_conn_info conns[TOE_TCP_CONN_INFO_MAX];
	uint64_t tcp_mem;
};
/* 0, -ENOENT (no such port), -ENODATA (the port has no endpoint). */
int dp_toe_info(const struct dp *dp, unsigned int port,
		struct dp_toe_info *info);

/* The endpoint's neighbours: the other VM ports of its network with an
 * IPv4 address, whose ARP requests it answers (suppression) while their
 * guest is up.  Calls fn for each; main thread. */
struct dp_toe_neighbour {
	const char *port;
	uint8_t ip4[4];
	uint8_t mac[6];
	bool up;
};
void dp_toe_neighbours(const struct dp *dp, unsigned int port,
		       void (*fn)(const struct dp_toe_neighbour *n, void *arg),
		       void *arg);

unsigned int dp_worker_count(const struct dp *dp);
int dp_worker_info(const struct dp *dp, unsigned int worker,
		   struct dp_worker_info *info);
unsigned int dp_main_lcore(const struct dp *dp);

/* Networks: 0 .. dp_n_networks - 1, each with its MAC table. */
uint16_t dp_n_networks(const struct dp *dp);
const struct cfg_network *dp_network(const struct dp *dp, uint16_t net);
const struct fdb *dp_fdb(const struct dp *dp, uint16_t net);
/* mbufs of the pool not free right now (in rings, queues, in flight). */
unsigned int dp_mbufs_in_use(const struct dp *dp);
unsigned int dp_mbufs_total(const struct dp *dp);
/* Seconds on the clock the MAC table uses. */
uint32_t dp_now_s(const struct dp *dp);

/*
 * Co-residency (dp_members.c, main thread).  With membership source
 * libvirt, the adapter's descriptor is readable when libvirt told it
 * something: call dp_members_dispatch() then (-1 with source static).
 */
int dp_members_fd(const struct dp *dp);
void dp_members_dispatch(struct dp *dp);
/* The cluster directory's session (overlay:, cluster:): a descriptor
 * readable when it has work (-1: none), and that work; dp_housekeeping
 * does it too. */
int dp_overlay_fd(const struct dp *dp);
void dp_overlay_dispatch(struct dp *dp);
const struct cfg *dp_cfg(const struct dp *dp);

/*
 * Packet capture of one port (dp_capture.c, main thread): rx is what the
 * switch receives from the port (a guest's transmissions), tx what it
 * sends to it, drops the frames dropped on their way in or out of it
 * (written with their reason as a comment).
 */
#define DP_CAP_RX 1u
#define DP_CAP_TX 2u
#define DP_CAP_DROPS 4u
#define DP_CAPTURES_MAX 8
/* A capture whose client has not asked after it for this long ends; a
 * finished one is forgotten after as long. */
#define DP_CAPTURE_ORPHAN_S 5

struct dp_capture_req {
	const char *port;
	unsigned int dirs;              /* DP_CAP_* */
	uint32_t snaplen;               /* 0: the whole frame */
	uint64_t count;                 /* 0: until stopped */
	const char *filter;             /* tcpdump expression, NULL */
	int fd;                         /* the file; taken, even on error */
};

struct dp_capture_info {
	int id;
	char port[32];
	unsigned int dirs;
	uint32_t snaplen;
	uint64_t count;
	char filter[256];
	bool done;
	char why[96];                   /* done: why it ended */
	int error;                      /* errno of a failed write, 0 */
	uint64_t seen;                  /* frames the taps looked at */
	uint64_t filtered;              /* of those, the filter refused */
	uint64_t written;               /* in the file */
	uint64_t lost;                  /* matched, not written: pool, ring
					 * or writer full */
	uint64_t bytes;                 /* of the file */
};

/* Returns the capture's id (> 0), or -1 and a reason in err. */
int dp_capture_start(struct dp *dp, const struct dp_capture_req *req,
		     char *err, size_t err_size);
/* End capture id now (its record stays for a last look).  -ENOENT. */
int dp_capture_stop(struct dp *dp, int id);
/* Capture id's state.  -ENOENT. */
int dp_capture_info(struct dp *dp, int id, struct dp_capture_info *info);
/* Its client still follows capture id: it is not orphaned.  -ENOENT. */
int dp_capture_keep(struct dp *dp, int id);
unsigned int dp_capture_list(struct dp *dp, int *ids, unsigned int max);
/* Any thread: up to max captures as the main thread last saw them (at
 * every turn while one runs, and as one starts or ends). */
unsigned int dp_capture_values(struct dp *dp, struct dp_capture_info *out,
			       unsigned int max);
/* A capture runs: the main loop should turn every few milliseconds. */
bool dp_capture_running(const struct dp *dp);

#endif /* VTOE_DP_H */
