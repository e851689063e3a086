#!/bin/bash
# SPDX-License-Identifier: BSD-3-Clause
# test_multiworker.sh - the paths that need two workers: several readers on
# one VM's co-resident ring, and a worker handing uplink frames to the
# scheduler another worker owns (its MP/SC inbox).  This machine has 2
# CPUs, so three workers share CPU 1 ("2@1", "3@1"): they take turns, which
# is slow but exercises every concurrent path (a worker preempted inside a
# ring operation stalls the others, never loses a frame).
#
#   testpmd A (vm1.0, 1 queue) --> vtoed: worker 0 (lcore 1@CPU1) polls up0, vm2.0 q1
#                                         worker 1 (lcore 2@CPU1) polls vm1.0
#                                         worker 2 (lcore 3@CPU1) polls vm2.0 q0
#   vm2.0's ring is written by worker 1 and read by workers 0 and 2, each
#   delivering into its own queue of testpmd B (2 queues).  (With the
#   writer among the readers, time slicing on one CPU would let it take
#   everything it wrote before anyone else ran.)  up0 (a tap) is
#   scheduled by worker 0; vm1.0's frames for it come from worker 1
#   through the inbox.
#
# Checked from the owners' counters: A's TX == vtoed vm1.0 rx; B's RX (both
# queues) == vtoed vm2.0 tx; the tap's kernel rx == vtoed up0 tx; both of
# B's queues received frames (two readers); the books balance.
source "$(dirname "$0")/lib/common.sh"
source "$(dirname "$0")/lib/testpmd.sh"

need_root
command -v dpdk-testpmd >/dev/null || die "dpdk-testpmd missing (package dpdk-dev; run scripts/setup.sh)"
need_binaries "$VTOED" "$VTOECTL"
need_hugepages 256

TAP=vtoemw$$; TAP=${TAP:0:15}
CONF=$WORK/vtoed.yaml VLOG=$WORK/vtoed.log
write_config "$CONF" server
sed -i "s|workers: \[$WORKER_CPU\]|workers: [$WORKER_CPU, \"$((WORKER_CPU + 1))@$WORKER_CPU\", \"$((WORKER_CPU + 2))@$WORKER_CPU\"]|" "$CONF"
sed -i "s|mac: \"$VM1_MAC\", queues: 1}|mac: \"$VM1_MAC\", queues: 1, uplink: up0}|" "$CONF"
sed -i "s|mac: \"$VM2_MAC\", queues: 1}|mac: \"$VM2_MAC\", queues: 2, uplink: up0}|" "$CONF"
printf 'uplinks:\n  - {name: up0, device: "net_tap0,iface=%s"}\n' "$TAP" >>"$CONF"
vtoed_start "$CONF" "$VLOG" 300 || { dump_log "$VLOG"; die "vtoed did not start"; }
sysctl -qw "net.ipv6.conf.$TAP.disable_ipv6=1" 2>/dev/null
ip link set "$TAP" up 2>/dev/null
tap_rx() { cat "/sys/class/net/$TAP/statistics/rx_packets"; }

l=$(ctl --json lcores)
check "three workers, all on CPU $WORKER_CPU" \
	test "$(jq '[.[] | select(.role == "worker")] | length' <<<"$l")" = 3
log "lcores: $(jq -c '[.[] | {lcore, role, queues}]' <<<"$l")"

TP_QUEUES=2 tp_start B "$VM2_SOCK" "$VM2_MAC" --rxq=2 --txq=2
tp B "set fwd rxonly"; tp B start
tp_start A "$VM1_SOCK" "$VM1_MAC" --eth-peer=0,$VM2_MAC --txpkts=64
tp A "set fwd rxonly"
wait_for 30 ports_up vm1.0 vm2.0 || { dump_log "$VLOG"; die "testpmd guests did not attach"; }

# b_queue_rx QUEUE: B's own per-queue RX, from its xstats
b_queue_rx() {
	local before; before=$(grep -c '###### NIC extended statistics for port 0' "$WORK/B.log")
	tp B "show port xstats 0"
	wait_for 10 eval "[ \$(grep -c '###### NIC extended statistics for port 0' '$WORK/B.log') -gt $before ]" || return 1
	sleep 0.3
	sed -n "s/^ *rx_q$1_good_packets: *\([0-9]*\).*/\1/p" "$WORK/B.log" | tail -1
}

balance() {  # ROUND: the exact checks after a round
	local s a b t
	sleep 1
	a=$(tp_counter A TX); b=$(tp_counter B RX); t=$(tap_rx)
	s=$(ctl --json stats)
	log "$1: A sent $a, B got $b, tap got $t; vtoed totals $(jq -c .totals <<<"$s") drops $(jq -c '[.ports[] | {(.name): (.drops | with_entries(select(.value != 0)))}] | add' <<<"$s")"
	check "$1: vtoed vm1.0 rx ($(stat_of "$s" vm1.0 .rx_packets)) == A's TX ($a)" test "$(stat_of "$s" vm1.0 .rx_packets)" = "$a"
	check "$1: B's RX ($b) == vtoed vm2.0 tx ($(stat_of "$s" vm2.0 .tx_packets))" test "$b" = "$(stat_of "$s" vm2.0 .tx_packets)"
	check "$1: tap's kernel rx ($t) == vtoed up0 tx ($(stat_of "$s" up0 .tx_packets))" test "$t" = "$(stat_of "$s" up0 .tx_packets)"
	check "$1: the books balance (in_flight, ring_queued, qos_queued all 0)" \
		test "$(jq -r '.totals | "\(.in_flight) \(.ring_queued) \(.qos_queued)"' <<<"$s")" = "0 0 0"
}

# 1. paced VM to VM
tp A "start tx_first 16"; sleep 2; tp A stop
balance "paced vm1->vm2"
check "paced: B got all 512" test "$(tp_counter B RX)" = 512

# 2. flood VM to VM: both readers deliver
tp A "set fwd txonly"; tp A start; sleep 3; tp A stop; tp A "set fwd rxonly"
balance "flood vm1->vm2"
q0=$(b_queue_rx 0); q1=$(b_queue_rx 1)
log "B per queue: q0 $q0, q1 $q1"
check "both readers delivered (B's q0 $q0 > 0 and q1 $q1 > 0)" test "${q0:-0}" -gt 0 -a "${q1:-0}" -gt 0

# 3. VM to the outside: worker 1 hands frames to worker 0's scheduler
tp A "set eth-peer 0 02:00:00:00:00:99"
tp A "start tx_first 16"; sleep 2; tp A stop
balance "paced vm1->uplink (through the inbox)"
check "the tap received at least the 512 frames" test "$(tap_rx)" -ge 512

# 4. the uplink's NIC refuses everything (its tap is down): the scheduler
# keeps retrying, then drops the head frame every 100 ms (nic_stuck), the
# rest waits or is dropped by its class bound, all counted; once the tap
# is up again frames flow at once.
ip link set "$TAP" down
t0=$(tap_rx)
tp A "start tx_first 16"; sleep 2; tp A stop
sleep 1
s=$(ctl --json stats)
stuck=$(stat_of "$s" up0 .drops.nic_stuck)
log "tap down: up0 drops $(jq -c '.ports[] | select(.name=="up0") | .drops | with_entries(select(.value != 0))' <<<"$s"), qos_queued $(jq .totals.qos_queued <<<"$s")"
if [ "$(stat_of "$s" up0 .tx_packets)" != "$(tap_rx)" ]; then
	# This PMD takes frames it cannot write (counting them as its own
	# errors): nothing is held, so there is nothing to unstick.
	log "net_tap took frames with its interface down: the stuck-NIC guard was not needed here"
else
	check "tap down: the NIC's refusals end in counted nic_stuck drops ($stuck)" test "${stuck:-0}" -gt 0
fi
check "tap down: the books balance (in_flight == qos_queued)" \
	test "$(jq '.totals.in_flight == .totals.qos_queued' <<<"$s")" = true
ip link set "$TAP" up
tp A "start tx_first 16"; sleep 2; tp A stop
balance "paced vm1->uplink after the tap came back"
check "tap up again: frames reach it ($(( $(tap_rx) - t0 )) new)" test "$(( $(tap_rx) - t0 ))" -ge 512

tp_quit A; tp_quit B
vtoed_stop TERM; rc=$?
check "vtoed exits 0 on SIGTERM (got $rc)" test $rc = 0
[ "$T_FAIL" -gt 0 ] && { dump_log "$VLOG" 40; dump_log "$WORK/B.log" 20; }
t_finish
