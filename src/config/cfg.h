/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * cfg: the YAML port map of vtoed, parsed and validated before anything is
 * created.  No DPDK types here: the parser is unit-tested without an EAL.
 * Every error is reported as "FILE:LINE:COL: what is wrong".
 */
#ifndef VTOE_CFG_H
#define VTOE_CFG_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#define CFG_NAME_MAX 32         /* port, VM and uplink names, incl. NUL */
#define CFG_PATH_MAX 108        /* sizeof(sun_path) */
#define CFG_DEVARGS_MAX 256
#define CFG_MAX_WORKERS 64
#define CFG_MAX_LCORE_ID 128      /* RTE_MAX_LCORE of Debian's DPDK */
#define CFG_MAX_UPLINKS 8
#define CFG_UPLINK_MTU_MAX 2000   /* a frame fits one mbuf */
#define CFG_MAX_VMS 1024
#define CFG_MAX_PORTS 1024      /* all ports: vhost + uplinks */
#define CFG_MAX_QUEUES 8        /* queue pairs per vhost port */
#define CFG_MAX_EAL_ARGS 16
#define CFG_ATTACH_DIRS_MAX 8
#define CFG_WEIGHT_MIN 1
#define CFG_WEIGHT_MAX 1000
#define CFG_MAX_SLEEP_US_DEFAULT 1000
#define CFG_MAX_SLEEP_US_MAX 10000
#define CFG_REBALANCE_LOAD_DEFAULT 95
#define CFG_REBALANCE_PERIOD_DEFAULT 60
#define CFG_REBALANCE_PERIOD_MAX 3600
#define CFG_REBALANCE_IMPROVEMENT_DEFAULT 25

/* How a worker polls when there is little to do (CONFIG.md, lcores). */
#define CFG_POLL_MODES(X) \
	X(CFG_POLL_ADAPTIVE, "adaptive") \
	X(CFG_POLL_BUSY, "busy") \
	X(CFG_POLL_INTERRUPT, "interrupt")

enum cfg_poll {
#define CFG_POLL_ENUM(sym, name) sym,
	CFG_POLL_MODES(CFG_POLL_ENUM)
#undef CFG_POLL_ENUM
	CFG_POLL_MAX
};

/* "adaptive", "busy", "interrupt". */
const char *cfg_poll_name(enum cfg_poll mode);
#define CFG_MAX_NETWORKS 64     /* the implicit "default" included */
#define CFG_PORT_IPS_MAX 8      /* ip: addresses of a port */
#define CFG_ALLOWED_MAX 7       /* allowed: entries of a port */
#define CFG_DNS_MAX 4           /* dns: servers a port's DHCP hands out */
#define CFG_HOSTNAME_MAX 64     /* metadata: hostname, incl. NUL */
#define CFG_INSTANCE_ID_MAX 64  /* metadata: instance_id, incl. NUL */
#define CFG_USER_DATA_MAX (64u << 20)   /* metadata: user_data, bytes */

enum cfg_hugepages {
	CFG_HUGEPAGES_AUTO,     /* use hugepages if any are free, else --no-huge */
	CFG_HUGEPAGES_NONE,     /* always --no-huge */
};

enum cfg_vhost_mode {
	CFG_VHOST_SERVER,       /* vtoed creates the socket, QEMU connects */
	CFG_VHOST_CLIENT,       /* QEMU created it (server=on); vtoed connects
				 * and reconnects */
};

enum cfg_membership_source {
	CFG_MEMBERSHIP_STATIC,  /* the port map is the table: every VM here */
	CFG_MEMBERSHIP_LIBVIRT, /* libvirt says which VMs run here */
};

enum cfg_membership_mode {
	CFG_MEMBERSHIP_EVENTS,  /* lifecycle events, resync on (re)connect */
	CFG_MEMBERSHIP_POLL,    /* list every domain each interval (baseline) */
};

#define CFG_MEMBERSHIP_URI_DEFAULT "qemu:///system"
#define CFG_MEMBERSHIP_INTERVAL_MS_DEFAULT 1000u

#define CFG_QOS_QUEUE_PACKETS 1024       /* default per-class bound */
#define CFG_QOS_QUEUE_BYTES (1024 * 1518)

/* Where something is in the file (1-based); line 0: not in it (a
 * default).  For messages about a running config (reload). */
struct cfg_mark {
	uint32_t line;
	uint32_t col;
};

/* networks: [{name, vlan: 1..4094 | none} | {name, vni: 1..16777215}]:
 * isolated L2 segments, each either a VLAN on the uplinks or a VXLAN
 * segment of the overlay (overlay:, cluster:). */
struct cfg_network {
	char name[CFG_NAME_MAX];
	uint16_t vlan;                  /* tag on uplinks; 0: untagged */
	uint32_t vni;                   /* 0: not an overlay network */
	struct cfg_mark at;
};

#define CFG_VNI_MAX 0xffffffu
#define CFG_ETCD_MAX 8                  /* cluster: etcd: endpoints */
#define CFG_URL_MAX 256
#define CFG_CLUSTER_TTL_DEFAULT_S 10
#define CFG_CLUSTER_TTL_MAX_S 3600

struct cfg_ip {
	uint8_t family;                 /* 4 or 6 */
	uint8_t prefix;                 /* 32/128 when not written */
	uint8_t addr[16];               /* network order; IPv4 in [0..3] */
};

/* allowed: [{mac, ip}]: another MAC the port may send from (with the
 * address it may use with it), or another address of its own MAC. */
struct cfg_allowed {
	bool has_mac, has_ip;
	uint8_t mac[6];
	struct cfg_ip ip;
};

/* impair: {drop: 1%, reorder: 0.5%, delay: 5ms, direction: rx|tx|both}:
 * a lossy path on purpose, for tests (impair.h). */
#define CFG_IMPAIR_RX 1                 /* frames the guest sends */
#define CFG_IMPAIR_TX 2                 /* frames sent to the guest */
#define CFG_IMPAIR_DELAY_MAX_US 1000000
struct cfg_impair {
	uint32_t drop_ppm;
	uint32_t reorder_ppm;
	uint32_t delay_us;
	uint8_t dir;                    /* CFG_IMPAIR_*, default both */
};

/* One setting ("drop", "reorder", "delay", "direction") from its text:
 * 0, or -EINVAL with what is wrong in err. */
int cfg_impair_set(struct cfg_impair *im, const char *key, const char *value,
		   char *err, size_t size);

struct cfg_uplink {
	char name[CFG_NAME_MAX];
	char device[CFG_DEVARGS_MAX];   /* DPDK devargs: PCI address or vdev */
	uint64_t rate_bps;              /* shaper rate; 0: the link's speed */
	uint32_t queue_packets;         /* DWRR per-class bound, packets */
	uint64_t queue_bytes;           /* DWRR per-class bound, bytes */
	uint16_t mtu;                   /* set on the device; 0: as it is */
	bool offloads;                  /* use the NIC's checksum/TSO
					 * offloads, default true */
	struct cfg_mark at;             /* its entry in uplinks: */
};

struct cfg_port {
	char name[CFG_NAME_MAX];
	char socket[CFG_PATH_MAX];
	enum cfg_vhost_mode mode;
	uint8_t mac[6];
	uint16_t queues;                /* 1..CFG_MAX_QUEUES, default 1 */
	int uplink;                     /* index into cfg->uplinks, -1: none */
	uint32_t weight;                /* CFG_WEIGHT_MIN..MAX, default 1 */
	unsigned int vm;                /* index into cfg->vms */
	bool offloads;                  /* offer checksum/TSO to the guest,
					 * default true */
	/* takeover: refuse | newest.  A second front-end that starts its
	 * device while the port's owner runs is refused (default), or
	 * takes the port over (newest). */
	bool takeover_newest;
	/* Server mode: who may connect to the socket (owner, group: ids;
	 * -1: left as created, root's) and its mode (0: the umask's). */
	int64_t sock_owner;
	int64_t sock_group;
	uint32_t sock_perms;
	/* network: NAME (index into cfg->networks; 0: "default") */
	unsigned int network;
	/* port_security: true (default) | false | {dhcp_server, router_advert} */
	bool port_security;
	bool allow_dhcp_server;
	bool allow_ra;
	struct cfg_ip ips[CFG_PORT_IPS_MAX];    /* ip: ADDR[/LEN] | [...] */
	unsigned int n_ips;
	struct cfg_allowed allowed[CFG_ALLOWED_MAX];
	unsigned int n_allowed;
	/* The port's endpoint in the TOE (toe_ep.h): gateway: IPv4, dns:
	 * [IPv4, ...], toe: {dhcp, metadata, iperf3} (each on by default
	 * when the port has an IPv4 ip:, off without).  hostname,
	 * instance_id, user_data and imds are the VM's metadata: (hostname
	 * defaults to the VM's name). */
	bool has_gateway;
	uint8_t gateway[4];
	uint8_t n_dns;
	uint8_t dns[CFG_DNS_MAX][4];
	bool toe_dhcp;
	bool toe_metadata;
	bool toe_iperf3;
	bool toe_cubic;                 /* toe: {congestion: cubic}, else newreno */
	char hostname[CFG_HOSTNAME_MAX];
	char instance_id[CFG_INSTANCE_ID_MAX];
	char user_data[CFG_PATH_MAX];   /* "" : none */
	bool imds_v2_only;
	struct cfg_impair impair;       /* all 0: none */
	struct cfg_mark at;             /* its entry in ports: */
};

struct cfg_vm {
	char name[CFG_NAME_MAX];
	/* metadata: {instance_id, hostname, user_data: PATH,
	 * imds: v1-and-v2 | v2-only} (copied into its ports) */
	char hostname[CFG_HOSTNAME_MAX];
	char instance_id[CFG_INSTANCE_ID_MAX];
	char user_data[CFG_PATH_MAX];
	bool imds_v2_only;
	unsigned int port_first;        /* ports[port_first .. +n_ports) */
	unsigned int n_ports;
};

struct cfg {
	char path[CFG_PATH_MAX * 2];    /* file it was read from */

	/* lcores: {main: N, workers: [N | "LCORE@CPU", ...]} */
	unsigned int main_lcore;                        /* default 0 */
	unsigned int workers[CFG_MAX_WORKERS];          /* lcore ids */
	unsigned int worker_cpus[CFG_MAX_WORKERS];      /* the CPU of each */
	unsigned int n_workers;                         /* >= 1 */
	/* lcores: {poll: busy|adaptive|interrupt, max_sleep: 1ms} */
	enum cfg_poll poll;                             /* default adaptive */
	uint32_t max_sleep_us;                          /* default 1000 */
	/* lcores: {rebalance: off|auto|{mode, load, period, improvement}} */
	bool rebalance_auto;                            /* default off */
	uint32_t rebalance_load_pct;                    /* default 95 */
	uint32_t rebalance_period_s;                    /* default 60 */
	uint32_t rebalance_improvement_pct;             /* default 25 */

	/* memory: {hugepages: auto|none, mbufs: N} */
	enum cfg_hugepages hugepages;                   /* default auto */
	uint32_t mbufs;                                 /* default 16384 */

	/* control: {socket: PATH, mode: "0660"} */
	char ctl_socket[CFG_PATH_MAX];  /* default /run/vtoe/vtoed.sock */
	uint32_t ctl_mode;              /* default 0660 */

	/* fdb: {size: N, ageing: SECONDS} */
	uint32_t fdb_size;              /* entries, default 4096 */
	uint32_t fdb_ageing_s;          /* default 300 */

	/* eal: {file_prefix: STR, args: [STR, ...]} (optional) */
	char eal_file_prefix[CFG_NAME_MAX];             /* default "vtoed" */
	char *eal_args[CFG_MAX_EAL_ARGS];
	unsigned int n_eal_args;

	/* membership: {source: static|libvirt, uri: URI, mode: events|poll,
	 *              interval: 1s} */
	enum cfg_membership_source membership;          /* default static */
	char membership_uri[CFG_DEVARGS_MAX];           /* libvirt only */
	enum cfg_membership_mode membership_mode;       /* default events */
	uint32_t membership_interval_ms;                /* poll only */

	/* socket_dir: {path: PATH, group: NAME|GID, mode: "0770"}: the
	 * directory of the vhost-user sockets, made (or fixed) at start so
	 * that QEMU running as another user can create (client mode) or
	 * reach (server mode) its socket there.  path "" : none. */
	char sockdir[CFG_PATH_MAX];
	int64_t sockdir_group;          /* -1: left as it is */
	uint32_t sockdir_mode;          /* 0: left as it is */

	/* membership: {attach: auto|off, sockets: [DIR, ...], defaults:
	 * {uplink, weight, offloads, owner, group, perms}}: with libvirt, a
	 * domain's vhost-user interfaces become VM ports by themselves, for
	 * sockets under one of these directories only (each ends in '/'). */
	bool attach_auto;
	char attach_dirs[CFG_ATTACH_DIRS_MAX][CFG_PATH_MAX];
	unsigned int n_attach_dirs;
	struct cfg_port attach_defaults; /* uplink, weight, offloads, access */

	/* datapath: {direct: true|false}: frames between co-resident guests
	 * copied vring to vring by the worker (default true) */
	bool direct;

	/* overlay: {local_ip: IP[/LEN], uplink: NAME, udp_port: 4789,
	 * gateway: IP}: the host's VXLAN tunnel endpoint (VTEP) on that
	 * uplink.  Remote VTEPs inside local_ip's prefix (or every one,
	 * without a prefix) are reached directly, others via gateway. */
	bool has_overlay;
	uint8_t ovl_local_ip[4];
	uint8_t ovl_prefix;             /* 0: none written */
	int ovl_uplink;                 /* index into uplinks */
	uint16_t ovl_udp_port;          /* default 4789 */
	bool ovl_has_gateway;
	uint8_t ovl_gateway[4];

	/* cluster: {etcd: [URL, ...], host: NAME, ttl: 10s, prefix: /vtoe/}:
	 * the cluster directory in etcd (needs overlay:). */
	bool has_cluster;
	char cluster_etcd[CFG_ETCD_MAX][CFG_URL_MAX];
	unsigned int n_cluster_etcd;
	char cluster_host[CFG_HOSTNAME_MAX];    /* default: gethostname() */
	uint32_t cluster_ttl_s;
	char cluster_prefix[CFG_URL_MAX];       /* default /vtoe/ */

	/* [0] is "default" (untagged unless declared with a vlan) */
	struct cfg_network networks[CFG_MAX_NETWORKS];
	unsigned int n_networks;
	struct cfg_uplink uplinks[CFG_MAX_UPLINKS];
	unsigned int n_uplinks;
	struct cfg_vm vms[CFG_MAX_VMS];
	unsigned int n_vms;
	struct cfg_port ports[CFG_MAX_PORTS];           /* vhost ports, all VMs */
	unsigned int n_ports;

	/* Where each section is, for messages about it. */
	struct cfg_mark at_lcores, at_memory, at_control, at_fdb, at_eal,
			at_membership, at_datapath, at_socket_dir,
			at_overlay, at_cluster;
};

/*
 * The keys the parser takes in a section: "" (the top level), "lcores",
 * "memory", "control", "fdb", "eal", "membership", "datapath",
 * "socket_dir", "defaults" (membership.defaults), and the
 * list entries "uplink", "vm", "port".  NULL-terminated; NULL for any
 * other name.  The config diff (cfg_diff.h) classes every one of them.
 */
const char *const *cfg_schema_keys(const char *section);

/* Where the section of key ("lcores" or "lcores.workers") is in the
 * file cfg was read from; line 0 when it is not there. */
struct cfg_mark cfg_section_mark(const struct cfg *cfg, const char *key);

/* Seam for the unit tests: is this CPU one of this machine's? */
typedef bool (*cfg_cpu_present_fn)(unsigned int cpu);

/*
 * Parse and validate. On success returns a config (free with cfg_free).
 * On failure returns NULL, sets errno (EINVAL for a bad config, else the
 * I/O error), and has printed one line per problem, each
 * "FILE:LINE:COL: what is wrong", to err (may be NULL). cpu_present may be
 * NULL (then the CPUs online on this machine are used).
 */
struct cfg *cfg_load(const char *path, FILE *err, cfg_cpu_present_fn cpu_present);
/* Same, from a buffer; "name" stands in for the file name in messages. */
struct cfg *cfg_parse(const char *name, const char *text, size_t size,
		      FILE *err, cfg_cpu_present_fn cpu_present);
void cfg_free(struct cfg *cfg);

/* "1s", "250ms", "2" (seconds) -> milliseconds; 0 or -EINVAL. */
int cfg_interval_parse(const char *s, uint64_t *ms);

/* "52:54:00:00:01:01" -> 6 bytes; 0 or -EINVAL. */
int cfg_mac_parse(const char *s, uint8_t mac[6]);
/* "10.0.0.11", "10.0.0.11/24", "2001:db8::11/64": 0 or -EINVAL. */
int cfg_ip_parse(const char *s, struct cfg_ip *ip);
/* A port's endpoint from text, as a libvirt domain's metadata gives it
 * (attach.c): ip, gateway, dns ("a,b"), hostname, instance_id, any ""
 * for unset; the toe: flags follow the address as in the port map.
 * 0, or -EINVAL with what is wrong in err. */
int cfg_port_endpoint_set(struct cfg_port *pc, const char *ip,
			  const char *gateway, const char *dns,
			  const char *hostname, const char *instance_id,
			  char *err, size_t size);
/* 6 bytes -> "52:54:00:00:01:01" (buf >= 18 bytes). */
void cfg_mac_format(const uint8_t mac[6], char *buf, size_t size);

#endif /* VTOE_CFG_H */
