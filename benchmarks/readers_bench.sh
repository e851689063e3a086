#!/bin/bash
# SPDX-License-Identifier: BSD-3-Clause
# readers_bench.sh - co-resident VM-to-VM frames per second with 1 and with
# 2 reader workers on the destination's ring (issue 4's concurrent readers).
#
#   testpmd A (txonly, vm1.0) -> worker W (writer: polls vm1.0 only)
#        -> vm2.0's co-resident ring -> readers R1 [, R2] (each polls one of
#        vm2.0's queues and delivers into it) -> testpmd B (rxonly, 1 or 2 queues)
#
# Same vtoed binary, same generator, same frame size; only the number of
# readers changes.  The result is B's own RX counter over a fixed window,
# median over rounds, and the ratio 2 readers / 1 reader.
#
# Cores: the writer and each reader need a CPU of their own, and so do A
# and B, to show what concurrent readers buy: 1 + 2 + 2 = 5 CPUs.  With
# fewer, the workers share CPUs (LCORE@CPU) and the numbers show the cost
# of time slicing, not the gain of a second reader; the script says so.
#
# Usage: benchmarks/readers_bench.sh [--build DIR] [--size BYTES] [--rounds N]
#                                    [--duration S] [--results FILE]   (root)
set -uo pipefail
BENCH_DIR=$(cd "$(dirname "$0")" && pwd)
SIZE=64 ROUNDS=3 DURATION=5 RESULTS=""
while [ $# -gt 0 ]; do
	case $1 in
	--build) export VTOE_BUILD=$2; shift ;;
	--size) SIZE=$2; shift ;;
	--rounds) ROUNDS=$2; shift ;;
	--duration) DURATION=$2; shift ;;
	--results) RESULTS=$2; shift ;;
	-h | --help) sed -n '2,22p' "$0"; exit 0 ;;
	*) echo "unknown option $1" >&2; exit 2 ;;
	esac
	shift
done
source "$BENCH_DIR/../tests/integration/lib/common.sh"
source "$BENCH_DIR/../tests/integration/lib/testpmd.sh"
need_root
need_binaries "$VTOED" "$VTOECTL"
need_hugepages 512

# CPU plan: main + generators on the first CPUs, workers on the rest.
if [ "$NCPU" -ge 5 ]; then
	SHARED=0
	W_CPU=2 R1_CPU=3 R2_CPU=4
	GEN_A=0 GEN_B=1
else
	SHARED=1
	W_CPU=$WORKER_CPU R1_CPU=$WORKER_CPU R2_CPU=$WORKER_CPU
	GEN_A=$MAIN_CPU GEN_B=$MAIN_CPU
	log "only $NCPU CPUs: writer and readers share CPU $WORKER_CPU, generators share CPU $MAIN_CPU;"
	log "the ratio shows time slicing between readers, NOT what a second reader on its own core gives"
fi

# workers_yaml READERS: the writer first (it polls vm1.0, the first queue
# assigned), then one worker per reader (vm2.0's queues, in order).
workers_yaml() {
	local n=$1 list l=$W_CPU
	list="\"$l@$W_CPU\", \"$((l + 1))@$R1_CPU\""
	[ "$n" = 2 ] && list="$list, \"$((l + 2))@$R2_CPU\""
	echo "[$list]"
}

run_one() {  # READERS -> prints B's frames/s
	local readers=$1 conf=$WORK/vtoed-$1.yaml b0 b1 pps
	write_config "$conf" server
	sed -i "s|workers: \[$WORKER_CPU\]|workers: $(workers_yaml "$readers")|" "$conf"
	sed -i "s|mac: \"$VM2_MAC\", queues: 1}|mac: \"$VM2_MAC\", queues: $readers}|" "$conf"
	vtoed_start "$conf" "$WORK/vtoed-$readers.log" 120 || return 1
	TP_CPU=$GEN_B TP_QUEUES=$readers tp_start B "$VM2_SOCK" "$VM2_MAC" --rxq="$readers" --txq="$readers"
	tp B "set fwd rxonly"; tp B start
	TP_CPU=$GEN_A tp_start A "$VM1_SOCK" "$VM1_MAC" --eth-peer=0,$VM2_MAC --txpkts="$SIZE"
	wait_for 30 ports_up vm1.0 vm2.0 || { vtoed_stop; return 1; }
	tp A "set fwd txonly"; tp A start
	sleep 2
	b0=$(tp_counter B RX); sleep "$DURATION"; b1=$(tp_counter B RX)
	tp A stop
	pps=$(( (b1 - b0) / DURATION ))
	log "readers=$readers: B received $((b1 - b0)) frames in ${DURATION}s = $pps/s; vtoed vm2.0 drops: $(ctl --json stats | jq -c '.ports[] | select(.name=="vm2.0") | .drops | with_entries(select(.value != 0))')"
	tp_quit A; tp_quit B
	vtoed_stop TERM >/dev/null
	rm -f "$WORK"/A.fifo "$WORK"/B.fifo
	echo "$pps"
}

median() { sort -n | awk '{a[NR]=$1} END {print (NR % 2) ? a[(NR + 1) / 2] : int((a[NR / 2] + a[NR / 2 + 1]) / 2)}'; }

declare -a R1 R2
for ((r = 1; r <= ROUNDS; r++)); do
	R1+=("$(run_one 1)"); R2+=("$(run_one 2)")
done
m1=$(printf '%s\n' "${R1[@]}" | median); m2=$(printf '%s\n' "${R2[@]}" | median)
ratio=$(awk -v a="$m2" -v b="$m1" 'BEGIN { printf "%.2f", (b > 0) ? a / b : 0 }')
{
	echo "| readers | frames/s (median of $ROUNDS, ${SIZE} B) | rounds |"
	echo "|---|---|---|"
	echo "| 1 | $m1 | ${R1[*]} |"
	echo "| 2 | $m2 | ${R2[*]} |"
	echo
	echo "2 readers / 1 reader: **${ratio}x** (target >= 1.5x where the cores exist)."
	[ "$SHARED" = 1 ] && echo "Measured on $NCPU CPUs: the writer and both readers time-share one CPU and both testpmd generators the other, so this ratio is the cost of time slicing, not the gain of a second reader on its own core."
} | tee ${RESULTS:+"$RESULTS"}
pass "readers benchmark ran"
t_finish
