#!/bin/bash
# SPDX-License-Identifier: BSD-3-Clause
# test_testpmd.sh - frame accounting through vtoed, with two dpdk-testpmd
# processes as simulated guests (virtio-user, no QEMU).
#
#   testpmd "A" (sender)                       testpmd "B" (receiver)
#   net_virtio_user0 mac 52:54:00:00:01:01     net_virtio_user0 mac 52:54:00:00:02:01
#   txonly, --eth-peer=0,52:54:00:00:02:01     rxonly
#   CPU 0                                      CPU 0
#          |  vhost-user $WORK/vm1.0.sock             |  vhost-user $WORK/vm2.0.sock
#   +------v------------------------------------------v------+
#   |  vtoed   vm1.0 --------- static MAC fwd --------> vm2.0 |
#   |  main lcore CPU 0, worker lcore CPU 1                   |
#   +---------------------------------------------------------+
#
# Two rounds: (1) paced: "start tx_first 16" = 16 bursts of 32 frames;
# (2) flood: txonly for 2 s (B shares its CPU with A, so vtoed will drop).
# After each round, with every counter read from its owner:
#   vtoed vm1.0 rx_packets == A's own TX-packets
#   vtoed vm2.0 tx_packets == B's own RX-packets
#   A's TX-packets == B's RX-packets + vtoed's drops_total (all ports)
#
# VTOE_IT_BACKEND=testpmd puts a dpdk-testpmd io forwarder in vtoed's place
# (harness self-check; only A->B counts are then checked).
source "$(dirname "$0")/lib/common.sh"

BACKEND=${VTOE_IT_BACKEND:-vtoed}
need_root
command -v dpdk-testpmd >/dev/null || die "dpdk-testpmd missing (package dpdk-dev; run scripts/setup.sh)"
[ "$BACKEND" = vtoed ] && need_binaries "$VTOED" "$VTOECTL"
need_hugepages 256

CONF=$WORK/vtoed.yaml VLOG=$WORK/vtoed.log
write_config "$CONF" server
if [ "$BACKEND" = vtoed ]; then
	vtoed_start "$CONF" "$VLOG" 300 || die "vtoed did not start"
else
	timeout -k 5 300 dpdk-testpmd --lcores "0@$MAIN_CPU,1@$WORKER_CPU" --main-lcore 0 --no-pci --no-huge -m 512 \
		--file-prefix="$(dpdk_prefix fwd)" --vdev "net_vhost0,iface=$VM1_SOCK,queues=1" \
		--vdev "net_vhost1,iface=$VM2_SOCK,queues=1" -- --no-mlockall --total-num-mbufs=16384 -a \
		--forward-mode=io --stats-period 60 </dev/null >"$VLOG" 2>&1 &
	VTOED_PID=$! VTOED_TPID=$!; track $VTOED_PID
fi
wait_for 10 test -S "$VM1_SOCK" -a -S "$VM2_SOCK" || { dump_log "$VLOG"; die "no vhost-user sockets"; }

source "$(dirname "$0")/lib/testpmd.sh"

tp_start B "$VM2_SOCK" "$VM2_MAC"
tp B "set fwd rxonly"; tp B start
tp_start A "$VM1_SOCK" "$VM1_MAC" --eth-peer=0,$VM2_MAC --txpkts=64
tp A "set fwd rxonly"
if [ "$BACKEND" = vtoed ]; then
	if wait_for 30 ports_up vm1.0 vm2.0; then pass "both testpmd guests attached (link up)"; else
		dump_log "$WORK/A.log"; dump_log "$WORK/B.log"; dump_log "$VLOG"; die "ports not up"; fi
else
	sleep 3
fi

drops_sum() { jq '[(.result.ports // .ports)[].drops_total] | add // 0' <<<"$1"; }
# account ROUND: read A, B and vtoed counters (cumulative) and check them.
A_PREV=0
account() {
	local round=$1 a b s vrx vtx drops
	sleep 1                                  # let vtoed and B drain
	a=$(tp_counter A TX); b=$(tp_counter B RX)
	log "round $round: A sent $a, B received $b (cumulative)"
	[ -n "$a" ] && [ -n "$b" ] || { fail "$round: cannot read testpmd counters"; return; }
	check "$round: A sent frames ($((a - A_PREV)) this round)" test $((a - A_PREV)) -gt 0
	A_PREV=$a
	if [ "$BACKEND" != vtoed ]; then
		check "$round: B received frames" test "$b" -gt 0
		return
	fi
	s=$(ctl --json stats) || { fail "$round: vtoectl --json stats failed"; return; }
	vrx=$(stat_of "$s" vm1.0 .rx_packets); vtx=$(stat_of "$s" vm2.0 .tx_packets); drops=$(drops_sum "$s")
	log "round $round: vtoed vm1.0 rx=$vrx vm2.0 tx=$vtx drops_total=$drops $(jq -c '[(.result.ports // .ports)[] | {(.name): (.drops | with_entries(select(.value != 0)))}] | add' <<<"$s")"
	check "$round: vtoed vm1.0 rx_packets ($vrx) == A's TX-packets ($a)" test "$vrx" = "$a"
	check "$round: B's RX-packets ($b) == vtoed vm2.0 tx_packets ($vtx)" test "$b" = "$vtx"
	check "$round: A sent ($a) == B received ($b) + vtoed drops ($drops)" test "$a" = "$((b + drops))"
	check "$round: vtoed vm2.0 rx_packets == 0 (B never sends)" test "$(stat_of "$s" vm2.0 .rx_packets)" = 0
}

# round 1: paced, a known number of frames
tp A "start tx_first 16"; sleep 2; tp A stop
account "paced 16x32"
a1=$A_PREV
check "paced: A's TX-packets is 512 (16 bursts of 32)" test "$a1" = 512
# round 2: flood for 2 s
tp A "set fwd txonly"; tp A start; sleep 2; tp A stop
account "flood 2s"

tp_quit A; tp_quit B
if [ "$BACKEND" = vtoed ]; then
	vtoed_stop TERM; rc=$?
	check "vtoed exits 0 on SIGTERM (got $rc)" test $rc = 0
	check "vtoed unlinked its sockets" test ! -e "$VM1_SOCK" -a ! -e "$VM2_SOCK" -a ! -e "$CTL_SOCK"
fi
[ "$T_FAIL" -gt 0 ] && { dump_log "$WORK/A.log" 40; dump_log "$WORK/B.log" 40; dump_log "$VLOG" 40; }
t_finish
