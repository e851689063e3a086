#!/bin/bash
# SPDX-License-Identifier: BSD-3-Clause
# test_telemetry.sh - DPDK telemetry (dpdk-telemetry.py) sees the same
# counters as vtoectl.
#
#   dpdk-testpmd (CPU 0), two virtio-user ports, mac mode, --tx-first
#          |  $WORK/vm1.0.sock                 |  $WORK/vm2.0.sock
#   +------v-----------------------------------v------+
#   |  vtoed  --telemetry socket /var/run/dpdk/PREFIX--+--> dpdk-telemetry.py -f PREFIX
#   +-------------------------------------------------+
#
# Traffic runs, then stops; with the counters still, every port's packets,
# bytes and drops read through telemetry equal vtoectl's, and the MAC table
# and worker lcores are listed.
source "$(dirname "$0")/lib/common.sh"

need_root
command -v dpdk-testpmd >/dev/null || die "dpdk-testpmd missing (package dpdk-dev)"
command -v dpdk-telemetry.py >/dev/null || die "dpdk-telemetry.py missing (package dpdk-dev)"
need_binaries "$VTOED" "$VTOECTL"
need_hugepages 256

CONF=$WORK/vtoed.yaml VLOG=$WORK/vtoed.log
write_config "$CONF" server
PREFIX=$(sed -n 's/^eal: {file_prefix: \(.*\)}/\1/p' "$CONF")
vtoed_start "$CONF" "$VLOG" 300 || die "vtoed did not start"

tel() {  # tel COMMAND: one telemetry command's JSON value
	echo "$1" | timeout 10 dpdk-telemetry.py -f "$PREFIX" 2>/dev/null |
		jq -c --arg k "${1%%,*}" 'select(type == "object" and has($k)) | .[$k]' | tail -1
}

timeout -k 5 60 taskset -c "$OTHER_CPUS" dpdk-testpmd --lcores "0@$MAIN_CPU,1@$MAIN_CPU" --main-lcore 0 \
	--no-pci --no-huge -m 512 --file-prefix="$(dpdk_prefix gen)" \
	--vdev "net_virtio_user0,path=$VM1_SOCK,mac=$VM1_MAC" \
	--vdev "net_virtio_user1,path=$VM2_SOCK,mac=$VM2_MAC" -- --no-mlockall \
	--total-num-mbufs=16384 --forward-mode=mac --eth-peer=0,$VM2_MAC --eth-peer=1,$VM1_MAC \
	--tx-first -a < <(sleep 60) >"$WORK/gen.log" 2>&1 &
gen=$!; track $gen
wait_for 60 eval '[ "$(port_stat vm2.0 .rx_packets)" -gt 10000 ]' || { dump_log "$WORK/gen.log"; die "no traffic"; }
kill -TERM "$(pgrep -P "$gen" | head -1)" 2>/dev/null; wait "$gen" 2>/dev/null
sleep 0.5

ports=$(tel /vtoe/ports)
check "/vtoe/ports lists both ports ($ports)" [ "$ports" = '["vm1.0","vm2.0"]' ]
stats=$(ctl --json stats)
for p in vm1.0 vm2.0; do
	t=$(tel "/vtoe/stats,$p")
	for f in rx_packets rx_bytes tx_packets tx_bytes direct drops_total; do
		a=$(jq -r ".$f" <<<"$t"); b=$(stat_of "$stats" "$p" ".$f")
		check "$p $f: telemetry $a = vtoectl $b" [ -n "$a" -a "$a" = "$b" ]
	done
	for f in vid owner_changes refused takeovers; do
		a=$(jq -r "if \"$f\" == \"vid\" then .owner_vid elif \"$f\" == \"owner_changes\" then .owner_changes else .owner_$f end" <<<"$t")
		b=$(stat_of "$stats" "$p" ".owner.$f // -1")     # no owner: null / -1
		check "$p owner $f: telemetry $a = vtoectl $b" [ -n "$a" -a "$a" = "$b" ]
	done
	check "$p has traffic" [ "$(jq -r .rx_packets <<<"$t")" -gt 10000 ]
	check "$p: telemetry shows the co-resident path" [ "$(jq -r .path <<<"$t")" = coresident ]
	check "$p: telemetry shows its network and port security (default, mac)" \
		[ "$(jq -r '.network + " " + .port_security' <<<"$t")" = "default mac" ]
	a=$(jq -r .offload_validated <<<"$t"); b=$(stat_of "$stats" "$p" .offload.validated)
	check "$p offload validated: telemetry $a = vtoectl $b" [ -n "$a" -a "$a" = "$b" ]
	a=$(jq -c '[to_entries[] | select(.key | startswith("direct_stop_")) | {(.key | ltrimstr("direct_stop_")): .value}] | add' <<<"$t")
	b=$(stat_of "$stats" "$p" '.direct_stops | tojson')
	check "$p direct_stops: telemetry $a = vtoectl $b" [ -n "$b" -a "$(jq -S -c . <<<"$a")" = "$(jq -S -c . <<<"$b")" ]
	check "$p: telemetry has every TOE drop reason" \
		[ "$(jq '[keys[] | select(startswith("offload_drop_"))] | length' <<<"$t")" -ge 20 ]
done
bad=$(echo "/vtoe/stats,nosuch" | timeout 10 dpdk-telemetry.py -f "$PREFIX" 2>/dev/null | tail -1)
check "an unknown port is refused ($bad)" grep -q '"/vtoe/stats": null' <<<"$bad"
fdb=$(tel /vtoe/fdb)
fdb_has() { jq -e --arg e "$1" 'index($e) != null' <<<"$fdb" >/dev/null; }
check "/vtoe/fdb has vm1.0's static MAC in network default ($fdb)" fdb_has "default $VM1_MAC vm1.0 static"
check "/vtoe/fdb has vm2.0's static MAC" fdb_has "default $VM2_MAC vm2.0 static"
lc=$(tel /vtoe/lcores)
check "/vtoe/lcores shows the worker on lcore $WORKER_CPU ($lc)" \
	[ "$(jq -r ".lcore$WORKER_CPU.queues" <<<"$lc")" = 2 ]
check "/vtoe/lcores gives each queue's load (\"PORT:QUEUE LOAD_BP FRAMES_PER_S PINNED\")" \
	jq -e ".lcore$WORKER_CPU.queue_load | map(test(\"^vm[12][.]0:0 [0-9]+ [0-9]+ -\$\")) | all and length == 2" <<<"$lc"
check "/vtoe/lcores gives the worker's sleeps and its shares over the window" \
	jq -e ".lcore$WORKER_CPU | has(\"sleep_cycles\") and has(\"wakeups\") and has(\"busy_bp\")" <<<"$lc"
check "vtoed still answers" kill -0 "$VTOED_PID"
t_finish
