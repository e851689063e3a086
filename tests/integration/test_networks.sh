#!/bin/bash
# SPDX-License-Identifier: BSD-3-Clause
# test_networks.sh - tenant networks and port security, with generators
# that count what they receive.
#
#   networks blue (VLAN 100) and red (VLAN 200); one uplink up0 (a tap)
#   vtoe-inject: port 0 b1 (blue)  port 1 b2 (blue)  port 2 r1 (red, b1's MAC
#                and IP)  port 3 r2 (red)
#
# 1. Isolation, three times: the direct path on, off (library path only),
#    and with two workers (b2 and r2 read by the other one: through the
#    co-resident rings).  From b1: broadcast, multicast, known unicast to
#    b2, unknown unicast; from r1: broadcast, unicast to r2, unicast to
#    b2's MAC (unknown in red); from r2: unicast to b1's MAC (r1 in red).
#    On the tap: frames tagged 200 (broadcast) and 100 (to b1's MAC), and
#    an unknown tag.  Every receiver's count is exact: b1 4, b2 30, r1 8,
#    r2 17; tcpdump on the tap sees blue's frames tagged 100 and red's 200.
# 2. A hostile guest (b1): another VM's MAC, another VM's IP, gratuitous
#    ARP claiming b2's IP, a neighbour advertisement for b2's IPv6
#    address, a DHCP OFFER, a router advertisement, a VLAN-tagged frame;
#    nobody receives any, each is counted under its reason, and b2's
#    traffic (and b1's honest ARP) keeps flowing.
source "$(dirname "$0")/lib/common.sh"

need_root
need_binaries "$VTOED" "$VTOECTL" "$VTOE_INJECT"
command -v tcpdump >/dev/null || die "tcpdump missing (package tcpdump; run scripts/setup.sh)"
need_hugepages 256

FR=$(dirname "$0")/lib/frames.py
TAP=vtoenet$$
CONF=$WORK/vtoed.yaml VLOG=$WORK/vtoed.log
M1=52:54:00:00:0b:01 M2=52:54:00:00:0b:02 M4=52:54:00:00:0e:04
NOBODY=02:00:00:00:99:99
S_B1=$WORK/b1.sock S_B2=$WORK/b2.sock S_R1=$WORK/r1.sock S_R2=$WORK/r2.sock

# conf DIRECT WORKERS
conf() {
	config_head >"$CONF" "$CTL_SOCK" vtoed "$2"
	cat >>"$CONF" <<EOF
datapath: {direct: $1}
networks: [{name: blue, vlan: 100}, {name: red, vlan: 200}]
uplinks:
  - {name: up0, device: "net_tap0,iface=$TAP"}
vms:
  - name: b1
    ports: [{name: b1.0, socket: $S_B1, mac: "$M1", network: blue, uplink: up0, ip: [10.0.0.1/24, "fd00::1/64"]}]
  - name: b2
    ports: [{name: b2.0, socket: $S_B2, mac: "$M2", network: blue, uplink: up0, ip: [10.0.0.2/24, "fd00::2/64"]}]
  - name: r1
    ports: [{name: r1.0, socket: $S_R1, mac: "$M1", network: red, uplink: up0, ip: 10.0.0.1/24}]
  - name: r2
    ports: [{name: r2.0, socket: $S_R2, mac: "$M4", network: red, uplink: up0, ip: 10.0.0.4/24}]
EOF
}

# inject OUT FRAMES WAIT_MS: the four guests, sending FRAMES
inject() {
	timeout 90 taskset -c "$OTHER_CPUS" "$VTOE_INJECT" -l "$MAIN_CPU" --no-pci --no-huge -m 128 \
		--file-prefix="$(dpdk_prefix "inject$RANDOM")" \
		--vdev "net_virtio_user0,path=$S_B1,mac=$M1" --vdev "net_virtio_user1,path=$S_B2,mac=$M2" \
		--vdev "net_virtio_user2,path=$S_R1,mac=$M1" --vdev "net_virtio_user3,path=$S_R2,mac=$M4" \
		-- --frames "$2" --wait "$3" >"$1" 2>"$1.err"
}
hexf() { python3 "$FR" hex "$@"; }
drop_of() { stat_of "$1" "$2" ".drops.$3"; }

start() {  # LABEL DIRECT WORKERS
	conf "$2" "$3"
	vtoed_start "$CONF" "$VLOG" 300 || { dump_log "$VLOG"; die "$1: vtoed did not start"; }
	wait_for 10 ip link show "$TAP" >/dev/null 2>&1 || die "$1: vtoed did not create $TAP"
	echo 1 >"/proc/sys/net/ipv6/conf/$TAP/disable_ipv6" 2>/dev/null
	ip link set "$TAP" up
}

isolation() {  # LABEL DIRECT WORKERS
	local label=$1 out=$WORK/iso-$1.out fr=$WORK/iso-$1.frames cap=$WORK/iso-$1.pcap s ip td
	start "$label" "$2" "$3"
	{
		# unicast first: behind the floods it may find b2's ring busy
		# and the library path then takes the whole burst
		echo "0 10 $(hexf raw src=$M1 dst=$M2)"
		echo "0 10 $(hexf raw src=$M1)"
		echo "0 10 $(hexf raw src=$M1 dst=01:00:5e:00:00:01)"
		echo "0 10 $(hexf raw src=$M1 dst=$NOBODY)"
		echo "2 7 $(hexf raw src=$M1)"
		echo "2 7 $(hexf raw src=$M1 dst=$M4)"
		echo "2 7 $(hexf raw src=$M1 dst=$M2)"
		echo "3 5 $(hexf raw src=$M4 dst=$M1)"
	} >"$fr"
	timeout 30 tcpdump -Q in -e -n -i "$TAP" -w "$cap" >/dev/null 2>&1 & td=$!
	sleep 1
	inject "$out" "$fr" 4000 & ip=$!
	wait_for 20 ports_up b1.0 b2.0 r1.0 r2.0 || fail "$label: the four guests did not come up"
	sleep 1.5
	# from outside: red's broadcast, blue's unicast to b1's MAC (r1 has
	# it too, in red), a tag no network uses
	python3 "$FR" tap "$TAP" 3 tagged src=02:00:00:00:0a:01 vlan=200
	python3 "$FR" tap "$TAP" 4 tagged src=02:00:00:00:0a:01 dst=$M1 vlan=100
	python3 "$FR" tap "$TAP" 2 tagged src=02:00:00:00:0a:01 vlan=300
	wait $ip; local rc=$?
	kill $td 2>/dev/null; wait $td 2>/dev/null
	log "$label: vtoe-inject exit $rc: $(tr '\n' ' ' <"$out")"
	s=$(ctl --json stats)
	log "$label: $(jq -c '[(.result.ports // .ports)[] | {(.name): {rx: .rx_packets, tx: .tx_packets, direct, drops: (.drops | with_entries(select(.value != 0)))}}] | add' <<<"$s")"
	log "$label: direct stops $(jq -c '[(.result.ports // .ports)[] | {(.name): ((.direct_stops // {}) | with_entries(select(.value != 0)))}] | add' <<<"$s")"
	check "$label: b1 received only blue's frames from outside (4): $(fact rx 0 "$out")" test "$(fact rx 0 "$out")" = 4
	check "$label: b2 received b1's broadcast, multicast and unicast (30), nothing of red: $(fact rx 1 "$out")" test "$(fact rx 1 "$out")" = 30
	check "$label: r1 (b1's MAC, in red) received r2's unicast and red's outside broadcast (8), nothing of blue: $(fact rx 2 "$out")" test "$(fact rx 2 "$out")" = 8
	check "$label: r2 received r1's broadcast and unicast and red's outside broadcast (17): $(fact rx 3 "$out")" test "$(fact rx 3 "$out")" = 17
	check "$label: the unknown tag was dropped as vlan_unknown ($(drop_of "$s" up0 vlan_unknown))" test "$(drop_of "$s" up0 vlan_unknown)" = 2
	local v100 v200 untagged
	v100=$(tcpdump -r "$cap" -e -n 'vlan 100' 2>/dev/null | grep -c "ethertype 802.1Q")
	v200=$(tcpdump -r "$cap" -e -n 'vlan 200' 2>/dev/null | grep -c "ethertype 802.1Q")
	untagged=$(tcpdump -r "$cap" -e -n 'not vlan' 2>/dev/null | grep -c "0x88b5")
	check "$label: the tap saw blue's 30 frames tagged 100 ($v100), red's 14 tagged 200 ($v200), none untagged ($untagged)" \
		test "$v100" = 30 -a "$v200" = 14 -a "$untagged" = 0
	if [ "$2" = true ] && [ "$3" = "$WORKER_CPU" ]; then
		check "$label: b1's unicast to b2 went direct ($(stat_of "$s" b1.0 .direct))" test "$(stat_of "$s" b1.0 .direct)" -ge 10
	fi
	vtoed_stop TERM
	check "$label: vtoed exits 0" test $? = 0
}

hostile() {
	local out=$WORK/hostile.out fr=$WORK/hostile.frames s
	start hostile true "$WORKER_CPU"
	{
		echo "0 5 $(hexf raw src=$M2)"
		echo "0 5 $(hexf udp4 src=$M1 sip=10.0.0.2)"
		echo "0 5 $(hexf arp src=$M1 spa=10.0.0.2)"
		echo "0 5 $(hexf na src=$M1 sip=fd00::1 target=fd00::2)"
		echo "0 5 $(hexf udp4 src=$M1 sip=10.0.0.1 sport=67 dport=68)"
		echo "0 5 $(hexf ra src=$M1 sip=fe80::5054:ff:fe00:b01)"
		echo "0 5 $(hexf tagged src=$M1 vlan=200)"
		echo "0 5 $(hexf arp src=$M1 spa=10.0.0.1)"
		echo "1 6 $(hexf raw src=$M2)"
		echo "2 3 $(hexf udp4 src=$M1 sip=10.0.0.1)"
	} >"$fr"
	inject "$out" "$fr" 2000; local rc=$?
	log "hostile: vtoe-inject exit $rc: $(tr '\n' ' ' <"$out")"
	s=$(ctl --json stats)
	log "hostile: $(jq -c '[(.result.ports // .ports)[] | {(.name): (.drops | with_entries(select(.value != 0)))}] | add' <<<"$s")"
	check "hostile: b2 received only b1's honest ARP (5): $(fact rx 1 "$out")" test "$(fact rx 1 "$out")" = 5
	check "hostile: the spoofed VM's own traffic flows: b1 got b2's 6 frames ($(fact rx 0 "$out"))" test "$(fact rx 0 "$out")" = 6
	check "hostile: r1, in red with b1's MAC and IP, reaches r2 (3): $(fact rx 3 "$out")" test "$(fact rx 3 "$out")" = 3
	check "hostile: r1 received nothing ($(fact rx 2 "$out"))" test "$(fact rx 2 "$out")" = 0
	local r
	for r in src_mac_mismatch ip_spoof arp_spoof nd_spoof dhcp_server router_advert guest_vlan; do
		check "hostile: 5 frames dropped as $r on b1.0 ($(drop_of "$s" b1.0 "$r"))" test "$(drop_of "$s" b1.0 "$r")" = 5
	done
	vtoed_stop TERM
	check "hostile: vtoed exits 0" test $? = 0
}

isolation direct true "$WORKER_CPU"
isolation library false "$WORKER_CPU"
# Two workers on one CPU: some guests are read by the other worker, so
# frames between them go through the co-resident rings.
isolation rings true "$WORKER_CPU, \"3@$WORKER_CPU\""
hostile
t_finish
