#!/bin/bash
# SPDX-License-Identifier: BSD-3-Clause
# test_vanish.sh - guests that disappear mid-traffic (SIGKILL, no goodbye)
# never crash a worker or leak mbufs, and the ports come back.
#
#   dpdk-testpmd (one process, CPU 0): two virtio-user ports in mac mode,
#   --tx-first, so frames loop  vm1.0 -> vtoed -> vm2.0 -> testpmd -> vm1.0
#          |  vhost-user $WORK/vm1.0.sock       |  $WORK/vm2.0.sock
#   +------v------------------------------------v--------+
#   |  vtoed (server mode), worker lcore on CPU 1        |
#   +----------------------------------------------------+
#
# Three rounds: start testpmd, wait until frames flow, SIGKILL it at a
# random moment; then vtoed must still answer, both links be down, every
# mbuf be back in the pool (mbufs.in_use == 0: no uplink holds any), and
# the switch balance (rx + flood copies - tx - drops) be exactly 0.
source "$(dirname "$0")/lib/common.sh"

need_root
command -v dpdk-testpmd >/dev/null || die "dpdk-testpmd missing (package dpdk-dev)"
need_binaries "$VTOED" "$VTOECTL"
need_hugepages 256

CONF=$WORK/vtoed.yaml VLOG=$WORK/vtoed.log
write_config "$CONF" server
vtoed_start "$CONF" "$VLOG" 300 || die "vtoed did not start"

json() { ctl --json stats 2>/dev/null; }
total() { jq -r ".totals.$1 // .result.totals.$1" <<<"$(json)"; }
mbufs_in_use() { jq -r '.mbufs.in_use // .result.mbufs.in_use' <<<"$(json)"; }
links_down() { [ "$(port_stat vm1.0 .link)" = down ] && [ "$(port_stat vm2.0 .link)" = down ]; }
flowing() {  # rx of vm2.0 grew past $1
	local rx; rx=$(port_stat vm2.0 .rx_packets); [ -n "$rx" ] && [ "$rx" -gt "$1" ]
}

for round in 1 2 3; do
	before=$(port_stat vm2.0 .rx_packets)
	timeout -k 5 120 taskset -c "$OTHER_CPUS" dpdk-testpmd --lcores "0@$MAIN_CPU,1@$MAIN_CPU" --main-lcore 0 \
		--no-pci --no-huge -m 512 --file-prefix="$(dpdk_prefix "gen$round")" \
		--vdev "net_virtio_user0,path=$VM1_SOCK,mac=$VM1_MAC" \
		--vdev "net_virtio_user1,path=$VM2_SOCK,mac=$VM2_MAC" -- --no-mlockall \
		--total-num-mbufs=16384 --forward-mode=mac --eth-peer=0,$VM2_MAC --eth-peer=1,$VM1_MAC \
		--tx-first -a < <(sleep 120) >"$WORK/gen$round.log" 2>&1 &
	gen=$!; track $gen
	if ! wait_for 60 flowing "${before:-0}"; then
		dump_log "$WORK/gen$round.log"; dump_log "$VLOG"
		die "round $round: no frames flowed through vtoed"
	fi
	sleep "0.$((RANDOM % 10))"
	# kill testpmd itself, not its timeout wrapper
	kill -KILL "$(pgrep -P "$gen" | head -1)" "$gen" 2>/dev/null
	wait "$gen" 2>/dev/null
	check "round $round: vtoed survives a guest killed mid-traffic" kill -0 "$VTOED_PID"
	check "round $round: both links go down" wait_for 10 links_down
	check "round $round: every mbuf is back in the pool" wait_for 5 eval '[ "$(mbufs_in_use)" = 0 ]'
	in_flight=$(total in_flight)
	check "round $round: rx + flood copies = tx + drops (in_flight=$in_flight)" [ "$in_flight" = 0 ]
	log "round $round: vm2.0 rx $(port_stat vm2.0 .rx_packets), drops $(total drops)"
done

# A worker that had crashed or wedged would no longer count idle cycles.
c1=$(ctl --json lcores | jq '[.[] | select(.role == "worker") | .idle_cycles] | add')
sleep 1
c2=$(ctl --json lcores | jq '[.[] | select(.role == "worker") | .idle_cycles] | add')
check "the worker is still polling ($c1 -> $c2 idle cycles)" [ "$c2" -gt "$c1" ]
vtoed_stop TERM; rc=$?
check "vtoed exits 0 on SIGTERM afterwards (rc=$rc)" [ $rc = 0 ]
t_finish
