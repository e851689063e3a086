# shellcheck shell=bash
# SPDX-License-Identifier: BSD-3-Clause
# faults.sh - shared helpers of the fault-injection tests (test_faults_*.sh;
# sourced after common.sh).
#
# inj_start NAME SECS SOCK=MAC [SOCK=MAC...] -- INJECT_ARGS...
#     vtoe-inject in the background on those vhost-user sockets (port 0 is
#     the first, and sends), bounded by SECS; report in $WORK/NAME.out.
# inj_sig NAME SIGNAL    signal vtoe-inject itself (not its timeout wrapper)
# inj_end NAME SECS      SIGINT twice (ends the sending, then the --wait),
#                        wait up to SECS for it to report; its exit code
# inj NAME WHAT PORT     one fact of its report ("rx 1 N" -> N)
# js FIELD               one field of `vtoectl --json stats` (jq path under
#                        the result, e.g. .totals.in_flight, .mbufs.in_use)
# books_balanced         the switch is idle and its books balance: in_flight,
#                        qos_queued and ring_queued all 0
# books_line             those three, for a check's description
# drops_nonzero PORT     a port's non-zero drop counters, as name=N ...
# wait_secs SECONDS COMMAND...   as wait_for, bounded by the clock (for
#                        commands that themselves take a while)

inj_start() {
	local name=$1 secs=$2 vdevs=() i=0 pm; shift 2
	while [ $# -gt 0 ] && [ "$1" != -- ]; do
		vdevs+=(--vdev "net_virtio_user$i,path=${1%%=*},mac=${1#*=},queue_size=1024")
		i=$((i + 1)); shift
	done
	[ $# -gt 0 ] && shift
	timeout -k 5 "$secs" taskset -c "$OTHER_CPUS" "$VTOE_INJECT" -l "$MAIN_CPU" --no-pci --no-huge \
		-m 128 --file-prefix="$(dpdk_prefix "$name")" --log-level=4 "${vdevs[@]}" -- "$@" \
		>"$WORK/$name.out" 2>"$WORK/$name.err" &
	pm=$!; track "$pm"
	eval "INJ_PID_$name=$pm"
}
_inj_wrapper() { eval "echo \${INJ_PID_$1:-}"; }
inj_sig() {
	local w c; w=$(_inj_wrapper "$1")
	c=$(pgrep -P "$w" 2>/dev/null | head -1)
	[ -n "$c" ] && kill -"$2" "$c" 2>/dev/null
}
inj_running() { kill -0 "$(_inj_wrapper "$1")" 2>/dev/null; }
inj_end() {
	local name=$1 secs=${2:-10} w; w=$(_inj_wrapper "$1")
	inj_sig "$name" CONT
	inj_sig "$name" INT; sleep 0.3; inj_sig "$name" INT
	wait_for "$secs" eval "! inj_running $name" || inj_sig "$name" KILL
	wait "$w" 2>/dev/null
}
# inj_wait NAME SECS: until it exits by itself; its exit code
inj_wait() {
	local w; w=$(_inj_wrapper "$1")
	wait_for "$2" eval "! inj_running $1" || return 124
	wait "$w" 2>/dev/null
}
inj() { fact "$2" "$3" "$WORK/$1.out"; }

js() { ctl --json stats 2>/dev/null | jq -r "(.result? // .) | $1" 2>/dev/null; }
books_line() {
	ctl --json stats 2>/dev/null |
		jq -r '(.result? // .).totals | "in_flight=\(.in_flight) qos_queued=\(.qos_queued) ring_queued=\(.ring_queued)"'
}
books_balanced() { [ "$(books_line)" = "in_flight=0 qos_queued=0 ring_queued=0" ]; }
drops_nonzero() {
	port_stat "$1" '[.drops | to_entries[] | select(.value != 0) | "\(.key)=\(.value)"] | join(" ")'
}
mbufs_in_use() { js .mbufs.in_use; }
wait_secs() {
	local end=$((SECONDS + $1)); shift
	until "$@"; do
		[ "$SECONDS" -lt "$end" ] || return 1
		sleep 0.2
	done
}
