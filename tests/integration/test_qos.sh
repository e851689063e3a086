#!/bin/bash
# SPDX-License-Identifier: BSD-3-Clause
# test_qos.sh - the uplink's DWRR scheduler, measured outside vtoed: what
# actually left the uplink, counted in the pcap file the uplink writes.
#
#   testpmd g1 (txonly)   testpmd g2 (txonly)   testpmd g3 (txonly)
#   vm1.0 weight 1        vm2.0 weight 2        vm3.0 weight 4
#   1500 B frames to an outside MAC (unknown unicast -> the uplink)
#        |                     |                     |
#   +----v---------------------v---------------------v----+
#   | vtoed: DWRR over 3 classes, shaped to 200 Mbit/s    |
#   +---------------------------+-------------------------+
#                               | uplink up0: net_tap, iface vq<pid>
#                               v
#   the host kernel: tcpdump on the tap (kernel timestamps) -> out.pcap
#               pcap_shares.py: bytes per source MAC per time window
#
# 1. all three backlogged: shares 1/7, 2/7, 4/7 (each within 3 %), and
#    the uplink carries its 200 Mbit/s;
# 2. g3 stops: within a second g1 and g2 split the whole rate 1:2;
# 3. `vtoectl qos set vm1.0 weight 8`: at once 8:2, nothing restarted;
# 4. bad weights and ports are refused and change nothing; a rate that
#    does not parse is a config error; reloading the file applies weights
#    under the same rules, and refuses (changing nothing) what needs a
#    restart;
# 5. vm1 <-> vm2 frames never pass through the scheduler.
source "$(dirname "$0")/lib/common.sh"

need_root
command -v dpdk-testpmd >/dev/null || die "dpdk-testpmd missing (package dpdk-dev)"
need_binaries "$VTOED" "$VTOECTL"
need_hugepages 256
command -v python3 >/dev/null || die "python3 missing"

OUT=$WORK/out.pcap CONF=$WORK/vtoed.yaml VLOG=$WORK/vtoed.log TAP=vq$$
OUTSIDE=02:00:00:00:00:99
MACS=(52:54:00:00:01:01 52:54:00:00:02:01 52:54:00:00:03:01)
WEIGHTS=(1 2 4)
command -v tcpdump >/dev/null || die "tcpdump missing (package tcpdump; run scripts/setup.sh)"

# -------------------------------------------------------------- bad rate
cat >"$WORK/badrate.yaml" <<EOF2
uplinks:
  - {name: up0, device: "net_null0", rate: "fast"}
vms:
  - name: vm1
    ports:
      - {name: vm1.0, socket: $WORK/x.sock, mac: "52:54:00:00:01:01", uplink: up0}
EOF2
out=$("$VTOED" --check-config "$WORK/badrate.yaml" 2>&1); rc=$?
check "rate \"fast\" is a config error at its line ($out)" \
	eval '[ $rc = 2 ] && grep -q "badrate.yaml:2:.*rate \"fast\" is not a rate" <<<"$out"'

# -------------------------------------------------------------- vtoed
prefix=vtoe-vtoed-$$
cat >"$CONF" <<EOF2
lcores: {main: $MAIN_CPU, workers: [$WORKER_CPU]}
memory: {hugepages: auto, mbufs: 16384}
control: {socket: $CTL_SOCK, mode: "0660"}
eal: {file_prefix: $prefix}
uplinks:
  - {name: up0, device: "net_tap0,iface=$TAP", rate: 200Mbit}
vms:
EOF2
for i in 0 1 2; do
	cat >>"$CONF" <<EOF2
  - name: vm$((i + 1))
    ports:
      - {name: vm$((i + 1)).0, socket: $WORK/vm$((i + 1)).sock, mac: "${MACS[$i]}", uplink: up0, weight: ${WEIGHTS[$i]}}
EOF2
done
vtoed_start "$CONF" "$VLOG" 300 || die "vtoed did not start"
# From here on everything this test starts (generators, tcpdump, vtoectl,
# jq) stays off the worker's CPU: a busy-polling worker that shares its
# CPU loses whole scheduler slices, and the rate with them.
taskset -pc "$OTHER_CPUS" $$ >/dev/null
ip link set "$TAP" up || die "no tap $TAP"
# The kernel's receive path for the tap would run as softirq on the
# worker's CPU, where busy polling starves it and frames are lost before
# the capture sees them; steer it (RPS) to the other CPUs.
printf '%x' $(( (1 << WORKER_CPU) ^ ((1 << NCPU) - 1) )) >/sys/class/net/$TAP/queues/rx-0/rps_cpus ||
	die "cannot set RPS on $TAP"
# ... and give that CPU, busy with three generators, room to catch up.
OLD_BACKLOG=$(sysctl -n net.core.netdev_max_backlog)
sysctl -qw net.core.netdev_max_backlog=100000
restore_backlog() { sysctl -qw net.core.netdev_max_backlog="$OLD_BACKLOG"; }
trap 'restore_backlog; t_cleanup' EXIT
# DPDK's net_pcap stamps frames with a clock that jumps; the kernel's
# capture of the tap has real timestamps.  Headers are enough.
timeout -k 5 120 taskset -c "$OTHER_CPUS" tcpdump -i "$TAP" -n -U -s 64 -B 16384 -w "$OUT" "ether dst $OUTSIDE" 2>"$WORK/tcpdump.log" &
track $!
wait_for 10 grep -q "listening on" "$WORK/tcpdump.log" || die "tcpdump did not start: $(cat "$WORK/tcpdump.log")"

GEN_PIDS=()
gen_start() {  # INDEX: one txonly testpmd on vm(INDEX+1)
	local i=$1
	timeout -k 5 120 taskset -c "$OTHER_CPUS" dpdk-testpmd --lcores "0@$MAIN_CPU,1@$MAIN_CPU" --main-lcore 0 \
		--no-pci --no-huge -m 256 --file-prefix="vtoe-g$i-$$" \
		--vdev "net_virtio_user0,path=$WORK/vm$((i + 1)).sock,mac=${MACS[$i]}" -- --no-mlockall \
		--total-num-mbufs=4096 --forward-mode=txonly --txpkts=1500 --eth-peer=0,$OUTSIDE \
		-a < <(sleep 120) >"$WORK/g$i.log" 2>&1 &
	GEN_PIDS[$i]=$!; track $!
}
gen_stop() {  # INDEX
	local pid=${GEN_PIDS[$1]}
	kill -TERM "$(pgrep -P "$pid" | head -1)" "$pid" 2>/dev/null; wait "$pid" 2>/dev/null
}
class_sent() {  # PORT: sent_packets of its class
	ctl --json qos show up0 | jq -r --arg p "$1" '.uplinks[0].classes[] | select(.port == $p) | .sent_packets'
}
all_sending() {
	local p; for p in vm1.0 vm2.0 vm3.0; do [ "$(class_sent $p)" -gt 100 ] || return 1; done
}
now() { date +%s.%N; }
shares() {  # T0 T1 -> "b1 b2 b3" bytes of vm1..vm3 in the window
	python3 "$(dirname "$0")/lib/pcap_shares.py" "$OUT" "$1" "$2" |
		jq -r --arg a "${MACS[0]}" --arg b "${MACS[1]}" --arg c "${MACS[2]}" \
			'[.bytes[$a] // 0, .bytes[$b] // 0, .bytes[$c] // 0] | map(tostring) | join(" ")'
}
# within PART TOTAL WANT_NUM WANT_DEN [TOL]: |PART/TOTAL - NUM/DEN| <= TOL
# (default 3 %) of NUM/DEN
within() { awk -v p="$1" -v t="$2" -v n="$3" -v d="$4" -v tol="${5:-0.03}" 'BEGIN { w = n / d; s = p / t; exit !(t > 0 && (s - w < 0 ? w - s : s - w) <= tol * w) }'; }
pct() { awk -v p="$1" -v t="$2" 'BEGIN { printf "%.2f%%", t ? 100 * p / t : 0 }'; }

for i in 0 1 2; do gen_start $i; done
wait_for 60 all_sending || { dump_log "$WORK/g0.log"; dump_log "$VLOG"; die "the generators never got through"; }

# ---------------------------------------------------- 1: weights 1:2:4
t=$(now); sleep 1; tx0=$(port_stat up0 .tx_packets); sleep 2; tx1=$(port_stat up0 .tx_packets); sleep 0.5
log "phase 1: vtoed's own count: about $(( (tx1 - tx0) * 1524 * 8 / 2 )) bit/s on the wire (timed by vtoectl calls)"
read -r b1 b2 b3 <<<"$(shares "$(awk -v t="$t" 'BEGIN{printf "%.6f", t + 1}')" "$(awk -v t="$t" 'BEGIN{printf "%.6f", t + 3}')")"
tot=$((b1 + b2 + b3))
check "1:2:4 - vm1 gets 1/7 ($(pct $b1 $tot))" within $b1 $tot 1 7
check "1:2:4 - vm2 gets 2/7 ($(pct $b2 $tot))" within $b2 $tot 2 7
check "1:2:4 - vm3 gets 4/7 ($(pct $b3 $tot))" within $b3 $tot 4 7
# 200 Mbit/s of wire bytes; pcap counts frames (wire = frame + 24)
# (5 %: the capture shares its CPU with three generators)
check "the uplink carries 200 Mbit/s ($((tot * 8 / 2 * 1524 / 1500)) bit/s on the wire)" \
	within $((tot * 8 / 2 * 1524 / 1500)) 200000000 1 1 0.05
check "vm3's class backs up (it is congested, not the NIC)" \
	eval '[ "$(ctl --json qos show up0 | jq ".uplinks[0].classes[2].dropped_packets")" -gt 0 ]'

# ---------------------------------------------------- 2: vm3 goes idle
gen_stop 2; t=$(now); sleep 2
read -r b1 b2 b3 <<<"$(shares "$(awk -v t="$t" 'BEGIN{printf "%.6f", t + 0.5}')" "$(awk -v t="$t" 'BEGIN{printf "%.6f", t + 1.5}')")"
tot=$((b1 + b2 + b3))
check "vm3 stopped: nothing more from it ($b3 B)" [ "$b3" = 0 ]
check "vm3 stopped: vm1 gets 1/3 within a second ($(pct $b1 $tot))" within $b1 $tot 1 3
check "vm3 stopped: vm2 gets 2/3 within a second ($(pct $b2 $tot))" within $b2 $tot 2 3
check "vm3 stopped: vm1 + vm2 use the whole rate ($((tot * 8 * 1524 / 1500)) bit/s)" \
	within $((tot * 8 * 1524 / 1500)) 200000000 1 1 0.05

# ---------------------------------------------------- 3: weight at runtime
out=$(ctl qos set vm1.0 weight 8); rc=$?
check "qos set vm1.0 weight 8 ($out)" [ $rc = 0 ]
t=$(now); sleep 2
read -r b1 b2 b3 <<<"$(shares "$(awk -v t="$t" 'BEGIN{printf "%.6f", t + 0.5}')" "$(awk -v t="$t" 'BEGIN{printf "%.6f", t + 1.5}')")"
tot=$((b1 + b2))
check "after the change vm1:vm2 = 8:2 ($(pct $b1 $tot) : $(pct $b2 $tot))" within $b1 $tot 8 10
check "the change lost no frame to a restart (vtoed pid unchanged)" kill -0 "$VTOED_PID"

# ---------------------------------------------------- 4: bad input
for bad in 0 -1 1001 abc 2.5 ""; do
	out=$(ctl qos set vm2.0 weight "$bad" 2>&1); rc=$?
	check "weight \"$bad\" refused ($out)" [ $rc = 1 ]
done
out=$(ctl qos set nosuch.0 weight 3 2>&1); rc=$?
check "unknown port refused ($out)" [ $rc = 1 ]
out=$(ctl qos set up0 weight 3 2>&1); rc=$?
check "an uplink has no weight ($out)" [ $rc = 1 ]
out=$(ctl qos set vm2.0 colour 3 2>&1); rc=$?
check "only weight can be set ($out)" [ $rc = 1 ]
w=$(ctl --json qos show up0 | jq '.uplinks[0].classes[1].weight')
check "vm2.0's weight is still 2 after the refusals ($w)" [ "$w" = 2 ]
out=$(ctl qos show nosuch 2>&1); rc=$?
check "qos show of an unknown uplink refused ($out)" [ $rc = 1 ]

# ---------------------------------------------------- 4b: config reload
weight_of() { ctl --json qos show up0 | jq --arg p "$1" '.uplinks[0].classes[] | select(.port == $p) | .weight'; }
cp "$CONF" "$WORK/good.yaml"
sed -i 's/weight: 2}/weight: 5}/' "$CONF"
out=$(ctl reload 2>&1); rc=$?
check "reload applies a new weight from the file ($out)" eval '[ $rc = 0 ] && [ "$(weight_of vm2.0)" = 5 ]'
sed -i 's/weight: 5}/weight: 0}/' "$CONF"
out=$(ctl reload 2>&1); rc=$?
check "reload refuses weight 0 with FILE:LINE:COL, same rule as qos set ($out)" \
	eval '[ $rc = 1 ] && grep -q "vtoed.yaml:[0-9]*:[0-9]*:.*weight" <<<"$out" && [ "$(weight_of vm2.0)" = 5 ]'
sed -i 's/weight: 0}/weight: 7}/; s/mbufs: 16384/mbufs: 8192/' "$CONF"
out=$(ctl reload 2>&1); rc=$?
check "reload refuses a change that needs a restart, naming key and place, and changes nothing ($out)" \
	eval '[ $rc = 1 ] && grep -q "vtoed.yaml:2:[0-9]*: memory.mbufs: changing it needs a restart" <<<"$out" && [ "$(weight_of vm2.0)" = 5 ]'
cp "$WORK/good.yaml" "$CONF"
sed -i 's/weight: 2}/weight: 3}/' "$CONF"
kill -HUP "$VTOED_PID"
check "SIGHUP reloads too (vm2.0 now 3)" wait_for 5 eval '[ "$(weight_of vm2.0)" = 3 ]'
check "vtoed keeps running after the reloads" kill -0 "$VTOED_PID"

# ---------------------------------------------------- 5: VM to VM bypasses DWRR
gen_stop 0; gen_stop 1
before=$(ctl --json qos show up0 | jq '[.uplinks[0].classes[].enqueued_packets] | add')
rx2=$(port_stat vm2.0 .tx_packets)
timeout -k 5 60 taskset -c "$OTHER_CPUS" dpdk-testpmd --lcores "0@$MAIN_CPU,1@$MAIN_CPU" --main-lcore 0 \
	--no-pci --no-huge -m 512 --file-prefix="vtoe-pair-$$" \
	--vdev "net_virtio_user0,path=$WORK/vm1.sock,mac=${MACS[0]}" \
	--vdev "net_virtio_user1,path=$WORK/vm2.sock,mac=${MACS[1]}" -- --no-mlockall \
	--total-num-mbufs=8192 --forward-mode=mac --eth-peer=0,${MACS[1]} --eth-peer=1,${MACS[0]} \
	--tx-first -a < <(sleep 60) >"$WORK/pair.log" 2>&1 &
pair=$!; track $pair
wait_for 30 eval '[ "$(port_stat vm2.0 .tx_packets)" -gt $((rx2 + 10000)) ]'
kill -TERM "$(pgrep -P "$pair" | head -1)" 2>/dev/null; wait $pair 2>/dev/null
after=$(ctl --json qos show up0 | jq '[.uplinks[0].classes[].enqueued_packets] | add')
check "vm1 <-> vm2 frames flowed ($(( $(port_stat vm2.0 .tx_packets) - rx2 )) to vm2)" \
	[ "$(port_stat vm2.0 .tx_packets)" -gt $((rx2 + 10000)) ]
check "and none went through the uplink scheduler ($before -> $after enqueued)" [ "$before" = "$after" ]

wait_for 5 eval '[ "$(ctl --json stats | jq .totals.in_flight)" = 0 ]'
check "every frame accounted for: rx + copies = tx + drops" \
	eval '[ "$(ctl --json stats | jq .totals.in_flight)" = 0 ]'
# The same scheduler through DPDK telemetry: one column per counter.
tel=$(echo "/vtoe/qos,up0" | timeout 10 dpdk-telemetry.py -f "$prefix" 2>/dev/null | tail -1)
check "telemetry /vtoe/qos,up0 has the weights vtoectl shows ($(jq -c '.["/vtoe/qos"].weight' <<<"$tel"))" \
	eval '[ "$(jq -c ".[\"/vtoe/qos\"].weight" <<<"$tel")" = "$(ctl --json qos show up0 | jq -c "[.uplinks[0].classes[].weight]")" ]'
check "telemetry /vtoe/qos,up0 has sent bytes, deficits and backlogs per class" \
	eval 'jq -e ".[\"/vtoe/qos\"] | (.sent_bytes | length) == 3 and (.deficit | length) == 3 and (.backlog_packets | length) == 3" <<<"$tel" >/dev/null'
vtoed_stop TERM; rc=$?
check "vtoed exits 0 on SIGTERM (rc=$rc)" [ $rc = 0 ]
rm -rf /var/run/dpdk/vtoe-g*-$$ /var/run/dpdk/vtoe-pair-$$ /var/run/dpdk/$prefix
t_finish
