/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef VTOE_DP_DROP_H
#define VTOE_DP_DROP_H

/*
 * Every reason vtoed drops a frame, declared once (as VPP's error lists):
 * X(symbol, "name shown by vtoectl and telemetry", "what happened").
 * Ingress reasons are counted on the port the frame came from, egress
 * reasons on the port it was being sent to; each dropped frame is counted
 * exactly once.
 */
#define DP_DROPS(X) \
	/* ingress */ \
	X(RUNT,             "runt",             "frame shorter than an Ethernet header") \
	X(SRC_MAC_MISMATCH, "src_mac_mismatch", "guest sent with a source MAC that is not its port's (nor an allowed one)") \
	X(SRC_MAC_INVALID,  "src_mac_invalid",  "multicast or all-zero source MAC") \
	X(GUEST_VLAN,       "guest_vlan",       "guest sent a VLAN-tagged frame: VM ports are access ports of their network") \
	X(IP_SPOOF,         "ip_spoof",         "port security: IPv4/IPv6 source address not the port's") \
	X(ARP_SPOOF,        "arp_spoof",        "port security: ARP sender MAC or IP address not the port's") \
	X(ND_SPOOF,         "nd_spoof",         "port security: neighbour discovery link-layer option or advertised target not the port's") \
	X(DHCP_SERVER,      "dhcp_server",      "port security: DHCP or DHCPv6 server message from a guest not allowed to serve") \
	X(ROUTER_ADVERT,    "router_advert",    "port security: IPv6 router advertisement from a guest not allowed to send them") \
	X(HEADER_CUT,       "header_cut",       "port security: an ARP, IP or ND header it must check is cut short or malformed") \
	X(VLAN_UNKNOWN,     "vlan_unknown",     "arrived on an uplink with a VLAN tag (or none) that no network of that uplink uses") \
	X(UNKNOWN_DST,      "unknown_dst",      "unknown unicast destination and no uplink to send it to") \
	X(SAME_PORT,        "same_port",        "destination is behind the port the frame came from (or an uplink, for frames from an uplink)") \
	X(NO_DEST,          "no_dest",          "broadcast/multicast with no other port up") \
	X(VM_AWAY,          "vm_away",          "destination VM is not running on this host (stopped, paused, migrated away) and the frame came from an uplink, or from a VM port without one") \
	X(OFFLOAD_BAD,      "offload_bad",      "guest offload metadata that does not hold (reason in the port's offload drops)") \
	X(VXLAN_BAD,        "vxlan_bad",        "VXLAN to this host's tunnel endpoint refused: headers that do not hold (reason in vtoectl cluster's vxlan drops)") \
	X(VTEP_UNKNOWN,     "vtep_unknown",     "VXLAN from a tunnel endpoint that is no host of the cluster directory") \
	X(VNI_UNKNOWN,      "vni_unknown",      "VXLAN with a VNI that no network of this host uses") \
	X(OVERLAY_SRC,      "overlay_src",      "VXLAN whose inner source MAC the directory does not place on the sending host in that network") \
	/* egress */ \
	X(LINK_DOWN,        "link_down",        "destination port has no guest connected") \
	X(QUEUE_DISABLED,   "queue_disabled",   "destination guest has not enabled that queue") \
	X(TX_FULL,          "tx_full",          "destination queue full: the guest or NIC did not take the frame") \
	X(OFFLOAD_EGRESS,   "offload_egress",   "could not segment or checksum a frame for its destination (reason in offload drops)") \
	X(QOS_QUEUE_FULL,   "qos_queue_full",   "the VM's DWRR class on the uplink is full: it sends beyond its share") \
	X(CORING_FULL,      "coring_full",      "the destination VM's co-resident ring is full: its readers fall behind") \
	X(VM_LEFT,          "vm_left",          "was in the VM's co-resident ring when the VM stopped, paused or migrated away (drained)") \
	X(NIC_STUCK,        "nic_stuck",        "the uplink NIC took nothing for 100 ms: the frame it kept refusing is dropped") \
	X(QOS_INBOX_FULL,   "qos_inbox_full",   "the uplink scheduler's inbox from other workers is full") \
	X(VLAN_PUSH,        "vlan_push",        "could not tag a frame with its network's VLAN for the uplink (no mbuf for the copy of a flooded frame, or no headroom)") \
	X(IMPAIR,           "impair",           "dropped on purpose by the port's impairment stage (impair:, vtoectl impair)") \
	X(NO_MBUF,          "no_mbuf",          "no mbuf for a frame the switch made (a TOE endpoint's reply, a tunnel copy)") \
	X(OVERLAY_UNKNOWN_DST, "overlay_unknown_dst", "overlay network: unicast to a MAC that no host of the cluster directory has in that network") \
	X(OVERLAY_NO_HOST,  "overlay_no_host",  "overlay network: broadcast/multicast with no other host in that network to replicate it to") \
	X(OVERLAY_NO_NEIGHBOUR, "overlay_no_neighbour", "overlay network: the next hop toward the remote tunnel endpoint has not answered ARP yet") \
	X(OVERLAY_MTU,      "overlay_mtu",      "overlay network: frame (or segment) larger than the uplink's MTU leaves room for after the tunnel headers") \
	X(OVERLAY_BURST,    "overlay_burst",    "overlay network: the copies of one burst (segments x hosts) exceeded what one burst holds") \
	X(PORT_REMOVED,     "port_removed",     "was queued for a port (or in an uplink's scheduler) when a reload or its domain removed or re-created it (drained)")

enum dp_drop {
#define DP_DROP_ENUM(sym, name, help) DP_DROP_##sym,
	DP_DROPS(DP_DROP_ENUM)
#undef DP_DROP_ENUM
	DP_DROP_MAX
};

/* "runt", "tx_full", ...; NULL for an out-of-range value. */
const char *dp_drop_name(enum dp_drop reason);
const char *dp_drop_help(enum dp_drop reason);

#endif /* VTOE_DP_DROP_H */
