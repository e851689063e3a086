#!/bin/bash
# SPDX-License-Identifier: BSD-3-Clause
# test_direct.sh - the direct vring-to-vring path between co-resident guests
# (src/dataplane/dp_direct.c), with real virtio-user guests.
#
# 1. Mixed stream, direct on.  vtoe-inject owns both guests (port 0 on
#    vm1.0, port 1 on vm2.0) and sends from port 0 a numbered stream to
#    vm2's MAC with every 7th frame to a MAC nobody has, 64 B and 1514 B
#    frames.  Frames to vm2 take the direct path; the others the library
#    path, which drops them (unknown_dst, no uplink), so nearly every burst
#    switches path mid-ring.  vm2 must see every frame vtoed did not count
#    as dropped, in order, byte-exact; vtoed's direct counter must show
#    both paths were used.  (A broadcast would not do: with one other
#    guest up it has one destination, and goes direct.)
# 2. The same with datapath: {direct: false}: nothing direct, same checks.
# 2b. A pause and its end: vm1 floods a MAC nobody has (every frame left
#    to the library path: the direct path pauses on the queue, counted as
#    direct_stops.paused),
#    then sends a paced stream to vm2: that goes direct again, whole and
#    in order.
# 3. vhost-user messages under load: testpmd A floods vm2, testpmd B
#    stops and restarts its port five times (GET_VRING_BASE, memory table,
#    ring addresses, features: each message stops and rebuilds the direct
#    state while A's worker copies into B's ring), then A restarts its
#    own port too.  vtoed must keep answering, and a paced round afterwards
#    must go direct and balance exactly: A sent == B received + drops.
source "$(dirname "$0")/lib/common.sh"

need_root
command -v dpdk-testpmd >/dev/null || die "dpdk-testpmd missing (package dpdk-dev; run scripts/setup.sh)"
need_binaries "$VTOED" "$VTOECTL" "$VTOE_INJECT"
need_hugepages 256

CONF=$WORK/vtoed.yaml VLOG=$WORK/vtoed.log
NOBODY=02:00:00:00:99:99

drops_sum() { jq '[(.result.ports // .ports)[].drops_total] | add // 0' <<<"$1"; }

# mixed_round LABEL DIRECT(true|false)
mixed_round() {
	local label=$1 direct=$2 out=$WORK/inject-$1.out s rx1 rx0 drops vrx vdir
	local n64=20000 n1514=4000 total
	total=$((n64 + n1514))
	write_config "$CONF" server
	echo "datapath: {direct: $direct}" >>"$CONF"
	vtoed_start "$CONF" "$VLOG" 300 || die "$label: vtoed did not start"
	inject_pair "$out" --send 64:$n64 --send 1514:$n1514 --dst "$VM2_MAC" \
		--alt-dst $NOBODY --alt-every 7 --wait 1500; local rc=$?
	log "$label: vtoe-inject exit $rc: $(tr '\n' ' ' <"$out")"
	s=$(ctl --json stats) || fail "$label: vtoectl --json stats"
	rx0=$(fact rx 0 "$out"); rx1=$(fact rx 1 "$out")
	drops=$(drops_sum "$s"); vrx=$(stat_of "$s" vm1.0 .rx_packets)
	vdir=$(stat_of "$s" vm1.0 .direct)
	log "$label: vm1.0 rx=$vrx direct=$vdir; vm2 got $rx1; drops $drops $(jq -c '[(.result.ports // .ports)[] | {(.name): (.drops | with_entries(select(.value != 0)))}] | add' <<<"$s")"
	check "$label: every frame sent ($total)" test "$rc" = 0 -a "$vrx" = "$total"
	check "$label: vm2 received ($rx1) + vtoed drops ($drops) == sent ($total)" \
		test "$((rx1 + drops))" = "$total"
	check "$label: the frames to nobody were dropped as unknown_dst" \
		test "$(stat_of "$s" vm1.0 .drops.unknown_dst)" = $((total / 7))
	check "$label: vm2 received most of them ($rx1 of $total)" test "$rx1" -gt $((total / 2))
	check "$label: vm2 got them in order (out of order: $(fact order 1 "$out"))" test "$(fact order 1 "$out")" = 0
	check "$label: vm2 got them byte-exact (corrupt: $(fact corrupt 1 "$out"))" test "$(fact corrupt 1 "$out")" = 0
	check "$label: nothing came back to the sender (port 0 got $rx0)" test "$rx0" = 0
	if [ "$direct" = true ]; then
		check "$label: frames to vm2 went direct, the others not (direct $vdir of $vrx)" \
			test "$vdir" -gt $((total / 2)) -a "$vdir" -lt "$vrx"
	else
		check "$label: nothing went direct (direct $vdir)" test "$vdir" = 0
	fi
	vtoed_stop TERM; rc=$?
	check "$label: vtoed exits 0 on SIGTERM (got $rc)" test $rc = 0
}

mixed_round "direct" true
mixed_round "library" false

# ---------------------------------------------------- a pause and its end
write_config "$CONF" server
echo "datapath: {direct: true}" >>"$CONF"
vtoed_start "$CONF" "$VLOG" 300 || die "pause: vtoed did not start"
inject_pair "$WORK/p1.out" --send 64:200000 --dst "$NOBODY" --wait 500
s=$(ctl --json stats)
sent=$(stat_of "$s" vm1.0 .rx_packets) paused=$(stat_of "$s" vm1.0 .direct_stops.paused)
dest=$(stat_of "$s" vm1.0 .direct_stops.dest)
log "pause: vm1.0 rx $sent, direct_stops $(stat_of "$s" vm1.0 '.direct_stops | with_entries(select(.value > 0)) | tojson')"
check "pause: all 200000 to nobody dropped as unknown_dst ($(stat_of "$s" vm1.0 .drops.unknown_dst))" \
	test "$(stat_of "$s" vm1.0 .drops.unknown_dst)" = 200000
check "pause: the direct path paused on the queue (paused $paused turns; it stopped at $dest of $sent)" \
	test "$(num "$paused")" -gt 0 -a "$(num "$dest")" -lt "$sent"
d0=$(stat_of "$s" vm1.0 .direct)
inject_pair "$WORK/p2.out" --send 200:2000 --dst "$VM2_MAC" --pps 4000 --wait 500
s=$(ctl --json stats); d=$(( $(stat_of "$s" vm1.0 .direct) - d0 ))
check "pause: vm2 then got all 2000, in order ($(fact rx 1 "$WORK/p2.out"), out of order $(fact order 1 "$WORK/p2.out"))" \
	test "$(fact rx 1 "$WORK/p2.out")" = 2000 -a "$(fact order 1 "$WORK/p2.out")" = 0
check "pause: and they went direct again ($d of 2000)" test "$d" -ge 1900
vtoed_stop TERM; rc=$?
check "pause: vtoed exits 0 on SIGTERM (got $rc)" test $rc = 0

# ---------------------------------------------------- messages under load
source "$(dirname "$0")/lib/testpmd.sh"
write_config "$CONF" server
vtoed_start "$CONF" "$VLOG" 300 || die "vtoed did not start"
tp_start B "$VM2_SOCK" "$VM2_MAC"
tp B "set fwd rxonly"; tp B start
tp_start A "$VM1_SOCK" "$VM1_MAC" --eth-peer=0,$VM2_MAC --txpkts=64
wait_for 30 ports_up vm1.0 vm2.0 || { dump_log "$WORK/A.log"; dump_log "$WORK/B.log"; die "ports not up"; }
tp A "set fwd txonly"; tp A start
sleep 1
responsive=1
for i in 1 2 3 4 5; do
	tp B stop; tp B "port stop 0"; sleep 0.3; tp B "port start 0"; tp B start
	sleep 0.7
	ctl version >/dev/null || responsive=0
done
tp A stop; tp A "port stop 0"; sleep 0.3; tp A "port start 0"
check "vtoed kept answering through 5 port restarts under load" test $responsive = 1
wait_for 20 ports_up vm1.0 vm2.0 || fail "ports not up again after the restarts"
sleep 1
s0=$(ctl --json stats); d0=$(stat_of "$s0" vm1.0 .direct)
a0=$(tp_counter A TX); b0=$(tp_counter B RX); drops0=$(drops_sum "$s0")
tp A "set fwd rxonly"; tp A "start tx_first 16"; sleep 2; tp A stop
sleep 1
s1=$(ctl --json stats); d1=$(stat_of "$s1" vm1.0 .direct)
a1=$(tp_counter A TX); b1=$(tp_counter B RX); drops1=$(drops_sum "$s1")
log "after restarts: A sent $((a1 - a0)), B got $((b1 - b0)), drops +$((drops1 - drops0)), direct +$((d1 - d0))"
check "after restarts: A sent 512" test "$((a1 - a0))" = 512
check "after restarts: B received all 512 (got $((b1 - b0)), drops +$((drops1 - drops0)))" \
	test "$((b1 - b0))" = 512
check "after restarts: they went direct (+$((d1 - d0)))" test "$((d1 - d0))" = 512
# vtoed's own books for the whole run, churn included (what B lost in
# its ring while restarting is B's business, not vtoed's).
vrx=$(stat_of "$s1" vm1.0 .rx_packets); vtx=$(stat_of "$s1" vm2.0 .tx_packets)
check "whole run: vm1.0 rx ($vrx) == vm2.0 tx ($vtx) + drops ($drops1)" test "$vrx" = "$((vtx + drops1))"
tp_quit A; tp_quit B
vtoed_stop TERM; rc=$?
check "vtoed exits 0 on SIGTERM after the churn (got $rc)" test $rc = 0
[ "$T_FAIL" -gt 0 ] && { dump_log "$WORK/A.log" 40; dump_log "$WORK/B.log" 40; dump_log "$VLOG" 60; }
t_finish
