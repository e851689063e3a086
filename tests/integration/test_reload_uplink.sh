#!/bin/bash
# SPDX-License-Identifier: BSD-3-Clause
# test_reload_uplink.sh - uplinks added, changed and removed by reload
# (DPDK hotplug: probe, start, stop, close, remove) while a VM port that
# does not use them keeps its guest.
#
#   vtoe-inject A on vm1.0 (no uplink): connected the whole test
#   vtoe-inject B on vm2.0 -> up0 = net_tap0,iface=vtoerl<pid> (a kernel
#                              tap whose rx counter sees what leaves)
#
# 1. reload adds up0 and vm2.0 (uplink up0): B's frames to an unknown MAC
#    leave through the tap;
# 2. reload changes up0's rate: up0 is made again (the tap too), vm2.0 is
#    untouched and finds it again: B's frames leave through the new tap;
# 3. reload removes up0 (and vm2.0's uplink key): the tap is gone, the
#    device can be probed again, vm1.0 never noticed.
source "$(dirname "$0")/lib/common.sh"

need_root
need_binaries "$VTOED" "$VTOECTL" "$VTOE_INJECT"
need_hugepages 256

TAP=vtoerl$$; TAP=${TAP:0:15}
CONF=$WORK/vtoed.yaml VLOG=$WORK/vtoed.log
conf() {  # UPLINK_LINE VM2_LINE
	{
		config_head
		[ -z "$1" ] || printf 'uplinks:\n%s\n' "$1"
		cat <<EOF
vms:
  - name: vm1
    ports:
      - {name: vm1.0, socket: $VM1_SOCK, mac: "$VM1_MAC"}
EOF
		[ -z "$2" ] || printf '  - name: vm2\n    ports:\n%s\n' "$2"
	} >"$CONF"
}
UP="  - {name: up0, device: \"net_tap0,iface=$TAP\"}"
UP_RATE="  - {name: up0, device: \"net_tap0,iface=$TAP\", rate: 100Mbit}"
VM2="      - {name: vm2.0, socket: $VM2_SOCK, mac: \"$VM2_MAC\", uplink: up0}"
VM2_NOUP="      - {name: vm2.0, socket: $VM2_SOCK, mac: \"$VM2_MAC\"}"

conf "" ""
vtoed_start "$CONF" "$VLOG" 300 || die "vtoed did not start"
inject() {  # NAME SOCK MAC ARGS...
	local name=$1 sock=$2 mac=$3; shift 3
	timeout -k 5 120 taskset -c "$OTHER_CPUS" "$VTOE_INJECT" -l "$MAIN_CPU" --no-pci --no-huge -m 64 \
		--file-prefix="$(dpdk_prefix "$name")" --log-level=4 \
		--vdev "net_virtio_user0,path=$sock,mac=$mac" -- "$@" >"$WORK/$name.out" 2>"$WORK/$name.err"
}
inject A "$VM1_SOCK" "$VM1_MAC" --wait 600000 &
PID_A=$!; track $PID_A
wait_for 20 ports_up vm1.0 || die "vm1.0 did not come up"
vid() { ctl --json ports | jq -r --arg p "$1" '(.result? // .)[] | select(.name == $p) | .owner.vid'; }
vid1=$(vid vm1.0)
tap_rx() { cat "/sys/class/net/$TAP/statistics/rx_packets" 2>/dev/null || echo 0; }
tap_up() { ip link set "$TAP" up 2>/dev/null && sysctl -qw "net.ipv6.conf.$TAP.disable_ipv6=1" 2>/dev/null; }
send_out() {  # B sends 100 frames to a MAC nobody has: they take vm2.0's uplink
	inject B "$VM2_SOCK" "$VM2_MAC" --send 64:100 --dst 52:54:00:ee:ee:01 --wait 300
}

# 1. add
conf "$UP" "$VM2"
out=$(ctl reload 2>&1); rc=$?
check "reload adds up0 and vm2.0 ($(tr '\n' ' ' <<<"$out"))" \
	eval '[ $rc = 0 ] && grep -q "^added *2: .*up0" <<<"$out" && grep -q "^added *2: .*vm2.0" <<<"$out"'
check "up0's tap exists and is up" wait_for 5 tap_up
before=$(tap_rx)
send_out; rc=$?
check "vm2.0's frames leave through the new uplink ($(( $(tap_rx) - before )) of 100)" \
	wait_for 5 eval '[ $rc = 0 ] && [ $(( $(tap_rx) - before )) -ge 100 ]'

# 2. change: up0 made again, vm2.0 kept
conf "$UP_RATE" "$VM2"
out=$(ctl reload 2>&1); rc=$?
check "reload with up0's rate changed re-creates up0 only ($(tr '\n' ' ' <<<"$out"))" \
	eval '[ $rc = 0 ] && grep -q "^changed *1: up0" <<<"$out" && grep -q "^unchanged *2: vm1.0, vm2.0" <<<"$out"'
check "up0's tap is back" wait_for 5 tap_up
rate=$(ctl --json qos show up0 | jq -r '(.result? // .).uplinks[0].rate_bps')
check "up0 runs at its new rate ($rate)" [ "$rate" = 100000000 ]
before=$(tap_rx)
send_out; rc=$?
check "vm2.0 found its uplink again ($(( $(tap_rx) - before )) of 100 out)" \
	wait_for 5 eval '[ $rc = 0 ] && [ $(( $(tap_rx) - before )) -ge 100 ]'

# 3. remove
conf "" "$VM2_NOUP"
out=$(ctl reload 2>&1); rc=$?
check "reload removes up0 ($(tr '\n' ' ' <<<"$out"))" \
	eval '[ $rc = 0 ] && grep -q "^removed *1: up0" <<<"$out"'
check "the tap is gone" wait_for 5 eval '! ip link show "$TAP" >/dev/null 2>&1'
send_out
check "vm2.0's frames to an unknown MAC are now counted as unknown_dst" \
	eval '[ "$(port_stat vm2.0 .drops.unknown_dst)" -ge 100 ]'
conf "$UP" "$VM2"
out=$(ctl reload 2>&1); rc=$?
check "the same device can be added again ($(tr '\n' ' ' <<<"$out"))" \
	eval '[ $rc = 0 ] && grep -q "^added *1: up0" <<<"$out" && wait_for 5 tap_up'
check "vm1.0 kept its guest through it all (vid $vid1)" \
	eval '[ "$(vid vm1.0)" = "$vid1" ] && kill -0 $PID_A'
check "the switch balances (in_flight 0)" \
	wait_for 5 eval '[ "$(ctl --json stats | jq -r "(.result? // .).totals.in_flight")" = 0 ]'
kill -INT "$(pgrep -P $PID_A | head -1)" 2>/dev/null; wait $PID_A
vtoed_stop TERM; rc=$?
check "vtoed exits 0 on SIGTERM (rc=$rc)" [ $rc = 0 ]
t_finish
