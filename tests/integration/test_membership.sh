#!/bin/bash
# SPDX-License-Identifier: BSD-3-Clause
# test_membership.sh - libvirt decides which path a frame takes, while vtoed
# runs: a private libvirtd (test driver, its own unix socket), virsh from
# another process, two testpmd virtio-user "guests" and a tap uplink whose
# kernel-side rx counter shows what went out.
#
#   virsh create/destroy/suspend/resume -> private libvirtd (test driver)
#                                               | events
#   testpmd A (vm1, txonly to vm2's MAC)        v
#        |  vm1.0              vtoed (membership: libvirt) -- up0 --> tap vtoemb<pid>
#        +-------------------------> co-resident ring -> vm2.0 --> testpmd B (rxonly)
#
# Checked, each with counters read from their owners (testpmd B's RX, the
# tap's kernel rx_packets, vtoed's stats):
#  1. libvirtd unreachable at start: vtoed starts anyway, says so, retries,
#     and connects once libvirtd is there; VM ports take the uplink path.
#  2. virsh create vm1, vm2: both ports switch to the co-resident path;
#     512 frames A -> vm2 all reach B, none the tap.
#  3. virsh destroy vm2: vm2.0 switches to the uplink path; 512 frames go
#     out the tap, B gets none; frames in vm2.0's ring were drained and
#     counted (vm_left); per-port accounting still balances.
#  4. suspend / resume vm2 move it away and back.
#  5. libvirtd killed: vtoed stays up, shows it disconnected; restarted
#     (the test driver starts empty): vtoed reconnects and resyncs without
#     a restart (vm1 vanished -> uplink path); virsh create brings it back.
#  6. bad input: a domain whose vhost-user MAC does not parse, one claiming
#     vm1's MAC (refused, counted), one without vhost-user interfaces.
# Also logged: event -> path-visible latency as seen through vtoectl.
source "$(dirname "$0")/lib/common.sh"
source "$(dirname "$0")/lib/testpmd.sh"

need_root
command -v dpdk-testpmd >/dev/null || die "dpdk-testpmd missing (package dpdk-dev; run scripts/setup.sh)"
[ -x /usr/sbin/libvirtd ] || die "libvirtd missing (package libvirt-daemon; run scripts/setup.sh)"
command -v virsh >/dev/null || die "virsh missing (package libvirt-clients; run scripts/setup.sh)"
command -v jq >/dev/null || die "jq missing"
need_binaries "$VTOED" "$VTOECTL"
need_hugepages 256

# ------------------------------------------------------------ libvirtd
source "$(dirname "$0")/lib/libvirtd.sh"

# domain_xml NAME UUID MAC SOCKET
domain_xml() {
	cat <<EOF
<domain type='test'><name>$1</name><uuid>$2</uuid>
  <memory unit='KiB'>1048576</memory>
  <memoryBacking><source type='memfd'/><access mode='shared'/></memoryBacking>
  <os><type>hvm</type></os>
  <devices>
    <interface type='vhostuser'><mac address='$3'/>
      <source type='unix' path='$4' mode='client'/><model type='virtio'/></interface>
  </devices>
</domain>
EOF
}
UUID1=11111111-2222-3333-4444-000000000001
UUID2=11111111-2222-3333-4444-000000000002
domain_xml vm1 $UUID1 "$VM1_MAC" "$VM1_SOCK" >"$WORK/vm1.xml"
domain_xml vm2 $UUID2 "$VM2_MAC" "$VM2_SOCK" >"$WORK/vm2.xml"

# --------------------------------------------------------------- vtoed
TAP=vtoemb$$
TAP=${TAP:0:15}
CONF=$WORK/vtoed.yaml VLOG=$WORK/vtoed.log
write_config "$CONF" server
# Each VM port gets the uplink (that is where its frames go when the peer
# is away) and membership comes from the private libvirtd.
sed -i "s|queues: 1}|queues: 1, uplink: up0}|" "$CONF"
cat >>"$CONF" <<EOF
uplinks:
  - {name: up0, device: "net_tap0,iface=$TAP"}
membership: {source: libvirt, uri: "$URI"}
EOF
vtoed_start "$CONF" "$VLOG" 300 || { dump_log "$VLOG"; die "vtoed did not start"; }
# No IPv6 on the tap: the kernel would send router/neighbour solicitations
# that vtoed rightly floods to the VMs, and B counts every frame.
sysctl -qw "net.ipv6.conf.$TAP.disable_ipv6=1" 2>/dev/null
ip link set "$TAP" up 2>/dev/null
tap_rx() { cat "/sys/class/net/$TAP/statistics/rx_packets"; }

mjson() { ctl --json membership; }
path_of() { jq -r --arg p "$1" '.ports[] | select(.port == $p) | .path' <<<"$(mjson)"; }
path_is() { [ "$(path_of "$1")" = "$2" ]; }                 # PORT PATH
connected() { [ "$(mjson | jq -r .connected)" = true ]; }

# 1. libvirtd not there yet
sleep 1
check "vtoed serves with libvirtd unreachable" vtoed_ready
check "membership shows it disconnected" test "$(mjson | jq -r .connected)" = false
check "VM ports take the uplink path until libvirt says otherwise" \
	eval 'path_is vm1.0 uplink && path_is vm2.0 uplink'
check "vtoed logged that libvirt is unreachable" grep -qi "libvirt" "$VLOG"
libvirtd_start || { dump_log "$LV/libvirtd.log"; die "libvirtd did not start"; }
t0=$(date +%s.%N)
if wait_for 40 connected; then
	pass "connected $(printf '%.1f' "$(echo "$(date +%s.%N) - $t0" | bc)") s after libvirtd came up (backoff)"
else
	dump_log "$VLOG"; die "vtoed never connected to $URI"
fi

# testpmd guests
tp_start B "$VM2_SOCK" "$VM2_MAC"
tp B "set fwd rxonly"; tp B start
tp_start A "$VM1_SOCK" "$VM1_MAC" --eth-peer=0,$VM2_MAC --txpkts=64
tp A "set fwd rxonly"
wait_for 30 ports_up vm1.0 vm2.0 || { dump_log "$VLOG"; die "testpmd guests did not attach"; }

# send_round NAME: 16 bursts of 32 frames from A to vm2's MAC; sets
# D_B (B's new RX), D_TAP (tap's new rx) for the round.
B_PREV=0
send_round() {
	local tap0 b
	tap0=$(tap_rx)
	tp A "start tx_first 16"; sleep 2; tp A stop; sleep 1
	b=$(tp_counter B RX) || b=$B_PREV
	D_B=$((b - B_PREV)); B_PREV=$b
	D_TAP=$(( $(tap_rx) - tap0 ))
	log "round $1: B got $D_B, the tap got $D_TAP"
}

# event_latency PORT PATH: after a virsh command returned, how long until
# vtoectl shows PORT on PATH (ms; includes vtoectl's own round trips).
latency_ms() {
	local t1 t0=$1
	wait_for 10 path_is "$2" "$3" || { echo timeout; return 1; }
	t1=$(date +%s%N); echo $(( (t1 - t0) / 1000000 ))
}

# 2. both VMs start here
vsh create "$WORK/vm1.xml" >/dev/null || fail "virsh create vm1"
t=$(date +%s%N); vsh create "$WORK/vm2.xml" >/dev/null || fail "virsh create vm2"
ms=$(latency_ms "$t" vm2.0 coresident) && pass "vm2.0 co-resident ${ms} ms after virsh create returned" ||
	fail "vm2.0 never became co-resident"
check "vm1.0 co-resident too" path_is vm1.0 coresident
check "ports shows the path" test "$(ctl --json ports | jq -r '.[] | select(.name=="vm2.0") | .path')" = coresident
send_round "both here"
check "both here: all 512 frames reached B (got $D_B)" test "$D_B" = 512
check "both here: none went out the uplink (tap got $D_TAP)" test "$D_TAP" = 0

# 3. vm2 destroyed: frames to its MAC take the uplink
drained0=$(jq '.ports[] | select(.port=="vm2.0") | .drained' <<<"$(mjson)")
t=$(date +%s%N); vsh destroy vm2 >/dev/null || fail "virsh destroy vm2"
ms=$(latency_ms "$t" vm2.0 uplink) && pass "vm2.0 on the uplink path ${ms} ms after virsh destroy returned" ||
	fail "vm2.0 stayed co-resident after destroy"
check "membership no longer lists vm2 (transient domain gone)" \
	test "$(mjson | jq '[.vms[] | select(.name=="vm2")] | length')" = 0
send_round "vm2 away"
check "vm2 away: B got nothing (got $D_B)" test "$D_B" = 0
check "vm2 away: 512 frames went out the uplink (tap got $D_TAP)" test "$D_TAP" -ge 512
s=$(ctl --json stats)
check "vm2 away: vtoed counted none as dropped on vm2.0" \
	test "$(stat_of "$s" vm2.0 '.drops_total')" = "$(( $(stat_of "$s" vm2.0 '.drops.vm_left') ))"
check "drained frames are counted (vm_left $(stat_of "$s" vm2.0 .drops.vm_left) >= $drained0)" \
	test "$(stat_of "$s" vm2.0 .drops.vm_left)" -ge "$drained0"
check "the switch balances (in_flight 0, ring_queued 0)" \
	test "$(jq -r '.totals | "\(.in_flight) \(.ring_queued)"' <<<"$s")" = "0 0"

# 4. suspend / resume
vsh create "$WORK/vm2.xml" >/dev/null
wait_for 10 path_is vm2.0 coresident && pass "vm2 back: co-resident" || fail "vm2 not back"
send_round "vm2 back"
check "vm2 back: B gets the frames again (got $D_B)" test "$D_B" = 512
t=$(date +%s%N); vsh suspend vm2 >/dev/null
ms=$(latency_ms "$t" vm2.0 uplink) && pass "suspended vm2 is away ${ms} ms after virsh suspend" ||
	fail "suspend did not move vm2.0 to the uplink path"
check "membership shows vm2 paused" \
	test "$(mjson | jq -r '.vms[] | select(.name=="vm2") | .state')" = paused
t=$(date +%s%N); vsh resume vm2 >/dev/null
ms=$(latency_ms "$t" vm2.0 coresident) && pass "resumed vm2 is back ${ms} ms after virsh resume" ||
	fail "resume did not bring vm2.0 back"

# 4b. a VM leaves under load: A floods vm2 while vm2 is destroyed.  Frames
# in flight at the switch-over are delivered, sent out the uplink, or
# drained and counted: vtoed's books balance exactly and agree with A and B.
tp A "set fwd txonly"; tp A start; sleep 1
vsh destroy vm2 >/dev/null || fail "virsh destroy vm2 under load"
sleep 1; tp A stop; tp A "set fwd rxonly"; sleep 1
a=$(tp_counter A TX); b=$(tp_counter B RX); B_PREV=$b
s=$(ctl --json stats)
log "under load: A sent $a, B got $b; vtoed: $(jq -c '{totals, vm2: [.ports[] | select(.name=="vm2.0") | .drops | with_entries(select(.value != 0))]}' <<<"$s")"
check "under load: vtoed vm1.0 rx ($(stat_of "$s" vm1.0 .rx_packets)) == A's TX ($a)" test "$(stat_of "$s" vm1.0 .rx_packets)" = "$a"
check "under load: B's RX ($b) == vtoed vm2.0 tx ($(stat_of "$s" vm2.0 .tx_packets))" test "$b" = "$(stat_of "$s" vm2.0 .tx_packets)"
check "under load: the switch balances (in_flight 0, ring_queued 0)" \
	test "$(jq -r '.totals | "\(.in_flight) \(.ring_queued)"' <<<"$s")" = "0 0"
check "under load: some frames went out the uplink after the switch-over" \
	test "$(stat_of "$s" up0 .tx_packets)" -gt 512
vsh create "$WORK/vm2.xml" >/dev/null
check "vm2 back after the load round" wait_for 10 path_is vm2.0 coresident

# 5. libvirtd dies and comes back empty
libvirtd_kill
check "libvirtd gone: vtoed notices" wait_for 10 eval '! connected'
check "vtoed still serves" vtoed_ready
check "the table is kept while disconnected (vm1 still co-resident)" path_is vm1.0 coresident
libvirtd_start || die "libvirtd did not restart"
check "reconnected without restarting vtoed" wait_for 40 connected
check "resync: vm1 vanished with the old libvirtd -> uplink path" wait_for 10 path_is vm1.0 uplink
check "resync counted" test "$(mjson | jq .resyncs)" -ge 2
vsh create "$WORK/vm1.xml" >/dev/null; vsh create "$WORK/vm2.xml" >/dev/null
check "after resync, new events work again" wait_for 10 eval 'path_is vm1.0 coresident && path_is vm2.0 coresident'
send_round "after reconnect"
check "after reconnect: B gets all 512 (got $D_B)" test "$D_B" = 512

# 6. bad input from libvirt
domain_xml badmac 11111111-2222-3333-4444-0000000000b1 "52:54:zz:00:00:01" "$WORK/bad.sock" >"$WORK/bad1.xml"
domain_xml thief 11111111-2222-3333-4444-0000000000b2 "$VM1_MAC" "$WORK/thief.sock" >"$WORK/bad2.xml"
cat >"$WORK/bad3.xml" <<EOF
<domain type='test'><name>plain</name><uuid>11111111-2222-3333-4444-0000000000b3</uuid>
  <memory unit='KiB'>1048576</memory><os><type>hvm</type></os><devices/></domain>
EOF
for f in bad1 bad2 bad3; do vsh create "$WORK/$f.xml" >/dev/null 2>&1 || log "virsh refused $f.xml itself"; done
sleep 1
m=$(mjson)
log "reasons: $(jq -c .reasons <<<"$m")"
check "a MAC another domain holds is refused and counted" \
	test "$(jq .reasons.mac_conflict <<<"$m")" -ge 1
check "the thief does not take vm1.0's traffic (still co-resident)" path_is vm1.0 coresident
check "a domain without vhost-user interfaces is not in the table" \
	test "$(jq '[.vms[] | select(.name=="plain")] | length' <<<"$m")" = 0
check "an unparsable MAC is counted (mac_unparsable $(jq .reasons.mac_unparsable <<<"$m")) or refused by libvirt itself" \
	eval "[ \"\$(jq .reasons.mac_unparsable <<<'$m')\" -ge 1 ] || ! vsh dominfo badmac >/dev/null 2>&1"
check "vtoed still serves after the bad domains" vtoed_ready
send_round "after bad input"
check "after bad input: B gets all 512 (got $D_B)" test "$D_B" = 512

ctl membership >"$WORK/membership.txt" 2>&1 && log "vtoectl membership:" && cat "$WORK/membership.txt" >&2
check "vtoectl membership renders a table" grep -q "coresident" "$WORK/membership.txt"

tp_quit A; tp_quit B
vtoed_stop TERM; rc=$?
check "vtoed exits 0 on SIGTERM (got $rc)" test $rc = 0
[ "$T_FAIL" -gt 0 ] && { dump_log "$VLOG" 60; dump_log "$LV/libvirtd.log" 20; }
t_finish
