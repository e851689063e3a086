#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# idle_bench.sh - what an idle switch costs the host: CPU used by the
# switch's polling thread (vtoed worker, OVS PMD) and by the whole switch
# process, with N idle VM ports (N = 2, 16, 64 by default), in one run,
# alternated:
#
#   vtoed-busy       vtoed, lcores {main: 0, workers: [1], poll: busy}
#   vtoed-adaptive   vtoed, poll: adaptive (default max_sleep, 1ms)
#   vtoed-interrupt  vtoed, poll: interrupt; SKIPPED, loudly, if this vtoed
#                    does not accept it (vtoed --check-config)
#   ovs-sleep0       Open vSwitch 3.1 + DPDK, pmd-maxsleep=0 (busy PMD)
#   ovs-sleep        pmd-maxsleep=$OVS_MAXSLEEP us (default as sched_bench.sh)
#   ovs-sleepN       pmd-maxsleep=N us
#
# An idle VM port is a vhost-user port whose front-end is connected, has its
# rings set up and enabled, and sends nothing: dpdk-testpmd in interactive
# mode (-i) with one net_virtio_user vdev per port, never told to `start`
# (testpmd starts and links its ports at init; only forwarding waits for
# `start`), stdin a fifo we hold open.  This DPDK build has RTE_MAX_ETHPORTS
# 32, so 32 ports per testpmd: ceil(N/32) processes.  Their CPU is measured
# and reported too (it must stay near 0: an idle front-end).  vtoed's ports
# are `mode: server` (virtio_user connects); OVS's are dpdkvhostuser (OVS
# creates the socket): the same direction for both switches, and testpmd
# needs no virtio_user server mode.
#
# CPUs as in sched_bench.sh: vtoed main lcore CPU 0, worker CPU 1; OVS
# pmd-cpu-mask=0x2, its other threads unpinned; testpmd on CPU 0.  Offloads
# on (vtoed `offloads: true`, OVS userspace-tso-enable=true).
#
# Each measurement starts the switch with N ports and the front-ends, waits
# until the switch reports all N links up, lets it settle SETTLE s (the
# adaptive back-off reaches its longest sleep within milliseconds), then
# reads /proc over SECS s: the polling thread, the whole switch process and
# the testpmd processes (schedstat of every thread, ns), the machine's busy
# time (/proc/stat), each in % of one CPU.  Rounds alternate the order of the cases and
# of the port counts; the summary gives medians per case and N.  A window in
# which processes that are not ours used more than FOREIGN_MAX % of a CPU is
# measured again once if time allows, else flagged '*'.
#
# Usage: benchmarks/idle_bench.sh [options]      (root)
#   --build DIR     vtoe build dir with apps/vtoed/vtoed and apps/vtoectl/vtoectl
#                   (default $VTOE_BUILD, else /tmp/build-bench, /tmp/build-lead)
#   --cases LIST    comma list (default
#                   vtoed-busy,vtoed-adaptive,vtoed-interrupt,ovs-sleep0,ovs-sleep)
#   --ports LIST    comma list of idle port counts, 1..256 (default 2,16,64)
#   --rounds N      rounds (default 3; env IDLB_ROUNDS)
#   --secs S        measured window (default 10; env IDLB_SECS)
#   --settle S      wait between all links up and the window (default 3)
#   --ovs-maxsleep US  pmd-maxsleep of case ovs-sleep (default $OVS_MAXSLEEP, else 1000)
#   --max-time S    no quiet-waits / retries after S s, no measurement started
#                   after S+60-(SECS+SETTLE+30) s (default: every case, N and round
#                   plus 25%; env IDLB_MAX_TIME)
#   --results FILE  also write the summary (markdown) to FILE
#   --keep          keep the scratch dir (logs)
#   -h|--help
# Other env: IDLB_FOREIGN_MAX (10, % of a CPU), IDLB_QUIET_WAIT (20 s before
# each measurement).
set -u -o pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
CASES=vtoed-busy,vtoed-adaptive,vtoed-interrupt,ovs-sleep0,ovs-sleep
PORTS=2,16,64
ROUNDS=${IDLB_ROUNDS:-3}
SECS=${IDLB_SECS:-10}
SETTLE=3
# pmd-maxsleep of "ovs-sleep": keep it the same as sched_bench.sh's
OVS_MAXSLEEP=${OVS_MAXSLEEP:-1000}
MAX_TIME=${IDLB_MAX_TIME:-}
FOREIGN_MAX=${IDLB_FOREIGN_MAX:-10}
QUIET_WAIT=${IDLB_QUIET_WAIT:-20}
RESULTS_FILE=""
BUILD=${VTOE_BUILD:-}
TESTPMD=${TESTPMD:-dpdk-testpmd}
TP_MAXPORTS=32                 # RTE_MAX_ETHPORTS of Debian's DPDK 22.11
OVS_VSWITCHD=${OVS_VSWITCHD:-/usr/lib/openvswitch-switch-dpdk/ovs-vswitchd-dpdk}
OVS_SCHEMA=${OVS_SCHEMA:-/usr/share/openvswitch/vswitch.ovsschema}
ARGS_SHOWN="$*"

while [ $# -gt 0 ]; do
	case $1 in
	--build) BUILD=$2; shift 2 ;;
	--cases) CASES=$2; shift 2 ;;
	--ports) PORTS=$2; shift 2 ;;
	--rounds) ROUNDS=$2; shift 2 ;;
	--secs) SECS=$2; shift 2 ;;
	--settle) SETTLE=$2; shift 2 ;;
	--ovs-maxsleep) OVS_MAXSLEEP=$2; shift 2 ;;
	--max-time) MAX_TIME=$2; shift 2 ;;
	--results) RESULTS_FILE=$2; shift 2 ;;
	--keep) export VTOE_KEEP=1; shift ;;
	-h | --help) sed -n '3,/^set -u/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
	*) echo "idle_bench.sh: unknown option $1 (see --help)" >&2; exit 2 ;;
	esac
done
for v in ROUNDS SECS SETTLE OVS_MAXSLEEP; do
	[[ ${!v} =~ ^[0-9]+$ ]] || { echo "idle_bench.sh: $v must be a number" >&2; exit 2; }
done
[ "$SECS" -ge 1 ] && [ "$SECS" -le 120 ] || { echo "idle_bench.sh: --secs 1..120" >&2; exit 2; }
[ "$ROUNDS" -ge 1 ] || { echo "idle_bench.sh: --rounds >= 1" >&2; exit 2; }
if [ -z "$BUILD" ]; then
	for b in /tmp/build-bench /tmp/build-lead; do
		[ -x "$b/apps/vtoed/vtoed" ] && { BUILD=$b; break; }
	done
fi
IFS=, read -r -a CASE_LIST <<<"$CASES"
for c in "${CASE_LIST[@]}"; do
	case $c in
	vtoed-busy | vtoed-adaptive | vtoed-interrupt | ovs-sleep) ;;
	ovs-sleep[0-9]*) [[ $c =~ ^ovs-sleep[0-9]+$ ]] || { echo "idle_bench.sh: bad case $c" >&2; exit 2; } ;;
	*) echo "idle_bench.sh: unknown case $c (see --help)" >&2; exit 2 ;;
	esac
done
IFS=, read -r -a PORT_LIST <<<"$PORTS"
for n in "${PORT_LIST[@]}"; do
	[[ $n =~ ^[0-9]+$ ]] && [ "$n" -ge 1 ] && [ "$n" -le 256 ] || { echo "idle_bench.sh: --ports: counts 1..256" >&2; exit 2; }
done
NCASE=${#CASE_LIST[@]} NPORTS=${#PORT_LIST[@]}
EST=$((SECS + SETTLE + 30))    # one measurement, roughly (starts, links, window, stops)
[ -n "$MAX_TIME" ] || MAX_TIME=$((ROUNDS * NCASE * NPORTS * EST * 5 / 4 + 120))
[[ $MAX_TIME =~ ^[0-9]+$ ]] || { echo "idle_bench.sh: --max-time must be a number" >&2; exit 2; }
[ "$(id -u)" = 0 ] || { echo "idle_bench.sh: must run as root (hugepages, vhost-user, apt-get)" >&2; exit 1; }

# ------------------------------------------------------------ install step
want_vtoed=0 want_ovs=0
for c in "${CASE_LIST[@]}"; do case $c in vtoed*) want_vtoed=1 ;; ovs*) want_ovs=1 ;; esac; done
PKGS=(dpdk jq procps util-linux coreutils iproute2)
[ $want_ovs = 1 ] && PKGS+=(openvswitch-switch-dpdk)
missing=()
for p in "${PKGS[@]}"; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'ok installed' || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
	echo "idle_bench: installing ${missing[*]}" >&2
	export DEBIAN_FRONTEND=noninteractive
	apt-get update -qq >/dev/null 2>&1
	apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null ||
		{ echo "idle_bench.sh: apt-get install ${missing[*]} failed" >&2; exit 1; }
fi

export VTOE_BUILD=${BUILD:-$ROOT/build-missing}
T_SUFFIX=""
source "$ROOT/tests/integration/lib/common.sh"
need_root
MAIN_CPU=0 WORKER_CPU=1
RUN_ID=$$
SKIPPED=()
declare -A CASE_SKIP=()
if [ $want_vtoed = 1 ]; then
	need_binaries "$VTOED" "$VTOECTL"
	# run from copies: the build dir may be rebuilt while we run
	cp "$VTOED" "$WORK/vtoed.bin" && cp "$VTOECTL" "$WORK/vtoectl.bin" || die "cannot copy vtoed"
	VTOED_SRC=$VTOED
	printf '#!/bin/sh\nexec taskset -c %s,%s %s "$@"\n' "$MAIN_CPU" "$WORKER_CPU" "$WORK/vtoed.bin" >"$WORK/vtoed-run"
	chmod +x "$WORK/vtoed-run"
	VTOED=$WORK/vtoed-run VTOECTL=$WORK/vtoectl.bin
fi
if [ $want_ovs = 1 ]; then
	[ -x "$OVS_VSWITCHD" ] && command -v ovsdb-server >/dev/null ||
		die "$OVS_VSWITCHD / ovsdb-server missing (apt-get install openvswitch-switch-dpdk)"
fi
command -v "$TESTPMD" >/dev/null || die "$TESTPMD missing (apt-get install dpdk)"
need_hugepages 1024
START_TS=$(date +%s)
HZ=$(getconf CLK_TCK)
PROC_SECS=$((SECS + SETTLE + 200))     # hard bound of every process of a measurement

say() { echo "[$(date +%T)] $*"; }
show_cmd() { printf '  $'; printf ' %q' "$@"; printf '\n'; }
elapsed() { echo $(( $(date +%s) - START_TS )); }
skip_case() {  # CASE WHY: loudly, once
	CASE_SKIP[$1]=$2
	SKIPPED+=("$1: $2")
	echo "SKIP: idle_bench: $1: $2"
	echo "SKIP: idle_bench: $1: ******** THIS CASE IS NOT MEASURED ********"
}

# ---------------------------------------------------------- CPU accounting
source "$(dirname "${BASH_SOURCE[0]}")/lib_cpu.sh"
wait_quiet() {
	local t0 s0 s1 f st
	t0=$(date +%s)
	while :; do
		s0=$(cpu_snapshot); sleep 1; s1=$(cpu_snapshot)
		read -r f st <<<"$(foreign_pct "$s0" "$s1")"
		awk -v f="$f" -v m="$FOREIGN_MAX" 'BEGIN { exit !(f <= m) }' && return 0
		if [ $(( $(date +%s) - t0 )) -ge "$QUIET_WAIT" ] || [ "$(elapsed)" -ge "$MAX_TIME" ]; then
			say "  machine not idle (foreign CPU ${f}%); measuring anyway"
			return 1
		fi
		say "  waiting for foreign CPU load (${f}% of a CPU) to go away"
	done
}
thread_ns() { local ns=0; [ -n "$2" ] && read -r ns _ <"/proc/$1/task/$2/schedstat" 2>/dev/null; echo "${ns:-0}"; }
# tasks_ns PID...: "PATH NS" of every thread of the processes (schedstat: ns,
# where utime+stime ticks would be 10 ms coarse against ~1% loads)
tasks_ns() { local p; for p in "$@"; do awk '{ print FILENAME, $1 }' /proc/"$p"/task/*/schedstat 2>/dev/null; done; }
# ns_delta FILE0 FILE1: CPU ns between the two, per thread (one born in
# between counts whole; one gone by FILE1 is lost, rare in an idle window)
ns_delta() { awk 'FNR == NR { a[$1] = $2; next } { s += $2 - a[$1] } END { printf "%d\n", s }' "$1" "$2"; }
host_ticks() { local u n s irq sirq; read -r _ u n s _ _ irq sirq _ </proc/stat; echo "$((u + n + s + irq + sirq))"; }
# probe DIR TAG: the switch's threads, the testpmds' threads, and
# "CORE_NS HOST_TICKS NOW_NS" into DIR/TAG.*
probe() {
	# shellcheck disable=SC2086  # TP_PIDS: a list
	tasks_ns $TP_PIDS >"$1/$2.tp"
	tasks_ns "$SW_PID" >"$1/$2.sw"
	echo "$(thread_ns "$SW_PID" "$SW_CORE_TID") $(host_ticks) $(date +%s%N)" >"$1/$2.core"
}
# probe_pct DIR -> "SWITCH% CORE% TESTPMD% HOST%" of one CPU between probes p0 and p1
probe_pct() {
	local b0 h0 t0 b1 h1 t1
	read -r b0 h0 t0 <"$1/p0.core"; read -r b1 h1 t1 <"$1/p1.core"
	awk -v a="$(ns_delta "$1/p0.sw" "$1/p1.sw")" -v b=$((b1 - b0)) -v c="$(ns_delta "$1/p0.tp" "$1/p1.tp")" \
		-v h=$((h1 - h0)) -v t=$((t1 - t0)) -v hz="$HZ" -v core="${SW_CORE_TID:-}" 'BEGIN { s = t / 1e9; if (s <= 0) s = 1
		printf "%.2f %s %.2f %.1f\n", a / 1e9 / s * 100, (core == "" ? "-" : sprintf("%.2f", b / 1e9 / s * 100)),
			c / 1e9 / s * 100, h / hz / s * 100 }'
}

# ------------------------------------------------------------ switches
CUR_SUT="" OVS_DIR="" SW_PID="" SW_CORE_TID="" TP_PIDS="" TP_TPIDS=""
OVS_BR="ib${RUN_ID}"
OVSNETDEV_PREEXISTED=0
ip link show ovs-netdev >/dev/null 2>&1 && OVSNETDEV_PREEXISTED=1
port_mac() { printf '52:54:00:%02x:%02x:01' $(($1 / 256 + 16)) $(($1 % 256)); }  # I -> a MAC of its own
SOCKS=()      # the N sockets of the current measurement
vtoed_yaml() {  # DIR POLL N -> the config on stdout
	local i
	cat <<EOF
lcores: {main: $MAIN_CPU, workers: [$WORKER_CPU], poll: $2}
memory: {hugepages: auto, mbufs: 16384}
control: {socket: $1/ctl.sock, mode: "0660"}
eal: {file_prefix: $(dpdk_prefix vtoed)}
vms:
EOF
	for ((i = 0; i < $3; i++)); do
		echo "  - {name: vm$i, ports: [{name: vm$i.0, socket: $1/p$i.sock, mode: server, mac: \"$(port_mac $i)\", queues: 1, offloads: true}]}"
	done
}
# start_vtoed DIR POLL N
start_vtoed() {
	local d=$1 poll=$2 n=$3 i
	CTL_SOCK=$d/ctl.sock
	SOCKS=(); for ((i = 0; i < n; i++)); do SOCKS+=("$d/p$i.sock"); done
	vtoed_yaml "$d" "$poll" "$n" >"$d/vtoed.yaml"
	if [ "${SHOWN_VTOED:-}" != "$poll" ]; then
		sed '7,$d; s/^/    | /' "$d/vtoed.yaml"; [ "$n" -gt 1 ] && echo "    |   ... ($n VMs of one port each)"
		show_cmd taskset -c "$MAIN_CPU,$WORKER_CPU" "$VTOED_SRC" --config "$d/vtoed.yaml"
		SHOWN_VTOED=$poll
	fi
	CUR_SUT=vtoed
	vtoed_start "$d/vtoed.yaml" "$d/vtoed.log" "$PROC_SECS" || return 1
	SW_PID=$VTOED_PID
	SW_CORE_TID=$(ctl --json lcores 2>/dev/null | jq -r '[.. | objects | select(.role? == "worker") | .tid] | first // empty' 2>/dev/null)
	[ -n "$SW_CORE_TID" ] || SW_CORE_TID=$(grep -l '^rte-worker' /proc/"$SW_PID"/task/*/comm 2>/dev/null | head -1 | cut -d/ -f5)
	[ -n "$SW_CORE_TID" ] || log "vtoed: worker thread not found; its CPU is not reported"
}
vtoed_links_up() {  # N: every port's link up
	local up
	up=$(ctl --json stats 2>/dev/null | jq '[(.result.ports // .ports)[]? | select(.link == "up")] | length' 2>/dev/null)
	[ "${up:-0}" -ge "$1" ]
}
ovs_vsctl() { timeout 30 ovs-vsctl --db="unix:$OVS_DIR/db.sock" --timeout=25 "$@"; }
ovs_appctl() { timeout 10 ovs-appctl -t "$OVS_DIR/ovs-vswitchd.ctl" "$@"; }
# start_ovs DIR MAXSLEEP_US N
start_ovs() {
	local d=$1 ms=$2 n=$3 c show=0 i
	OVS_DIR=$d/ovs; mkdir -p "$OVS_DIR"
	[ "${SHOWN_OVS:-}" != "$ms" ] && { show=1; SHOWN_OVS=$ms; }
	SOCKS=(); for ((i = 0; i < n; i++)); do SOCKS+=("$OVS_DIR/vhu$i"); done
	export OVS_RUNDIR=$OVS_DIR OVS_DBDIR=$OVS_DIR OVS_LOGDIR=$OVS_DIR OVS_SYSCONFDIR=$OVS_DIR
	CUR_SUT=ovs
	timeout 20 ovsdb-tool create "$OVS_DIR/conf.db" "$OVS_SCHEMA" || return 1
	c=(ovsdb-server "--remote=punix:$OVS_DIR/db.sock" "--pidfile=$OVS_DIR/ovsdb-server.pid"
		"--unixctl=$OVS_DIR/ovsdb-server.ctl" "--log-file=$OVS_DIR/ovsdb-server.log" "$OVS_DIR/conf.db")
	[ $show = 1 ] && show_cmd "${c[@]}"
	timeout -k 5 "$PROC_SECS" "${c[@]}" >"$OVS_DIR/ovsdb-server.out" 2>&1 &
	track $!
	wait_for 20 test -S "$OVS_DIR/db.sock" || { log "ovsdb-server did not start"; return 1; }
	c=(--no-wait init -- set Open_vSwitch . other_config:dpdk-init=true
		"other_config:pmd-cpu-mask=0x$(printf %x $((1 << WORKER_CPU)))"
		other_config:dpdk-socket-mem=1024
		"other_config:dpdk-extra=--file-prefix=$(dpdk_prefix ovs) --no-pci"
		other_config:userspace-tso-enable=true "other_config:pmd-maxsleep=$ms")
	[ $show = 1 ] && show_cmd ovs-vsctl --db="unix:$OVS_DIR/db.sock" "${c[@]}"
	ovs_vsctl "${c[@]}" || return 1
	c=("$OVS_VSWITCHD" "unix:$OVS_DIR/db.sock" "--pidfile=$OVS_DIR/ovs-vswitchd.pid"
		"--unixctl=$OVS_DIR/ovs-vswitchd.ctl" "--log-file=$OVS_DIR/ovs-vswitchd.log")
	[ $show = 1 ] && show_cmd "${c[@]}"
	timeout -k 5 "$PROC_SECS" "${c[@]}" >"$OVS_DIR/ovs-vswitchd.out" 2>&1 &
	track $!
	wait_for 60 test -S "$OVS_DIR/ovs-vswitchd.ctl" || {
		log "ovs-vswitchd did not start"; tail -20 "$OVS_DIR/ovs-vswitchd.log" >&2; return 1; }
	c=(add-br "$OVS_BR" -- set bridge "$OVS_BR" datapath_type=netdev)
	for ((i = 0; i < n; i++)); do
		c+=(-- add-port "$OVS_BR" "vhu$i" -- set Interface "vhu$i" type=dpdkvhostuser "ofport_request=$((i + 1))")
	done
	[ $show = 1 ] && { show_cmd ovs-vsctl --db="unix:$OVS_DIR/db.sock" "${c[@]:0:11}"
		echo "    ... (one dpdkvhostuser port vhuI per idle VM port; OVS creates $OVS_DIR/vhuI)"; }
	ovs_vsctl "${c[@]}" || { tail -20 "$OVS_DIR/ovs-vswitchd.log" >&2; return 1; }
	SW_PID=$(cat "$OVS_DIR/ovs-vswitchd.pid" 2>/dev/null)
	wait_for 10 eval 'grep -ql "^pmd" /proc/$SW_PID/task/*/comm 2>/dev/null'
	SW_CORE_TID=$(grep -l '^pmd' /proc/"$SW_PID"/task/*/comm 2>/dev/null | head -1 | cut -d/ -f5)
	[ -n "$SW_CORE_TID" ] || log "ovs: PMD thread not found; its CPU is not reported"
	local lastsock=${SOCKS[$((n - 1))]}
	wait_for 20 test -S "$lastsock" || { log "ovs: socket $lastsock missing"; return 1; }
	grep -hE 'PMD (max sleep|load based sleeps)' "$OVS_DIR/ovs-vswitchd.log" | sed 's/^.*|/ovs-vswitchd.log: /' | sort -u >"$d/ovs-sleep.txt"
	[ $show = 1 ] && sed 's/^/    /' "$d/ovs-sleep.txt"
	return 0
}
ovs_links_up() {  # N
	local up
	up=$(ovs_vsctl -f csv --no-headings --columns=name,link_state list Interface 2>/dev/null | grep -c '^vhu[0-9]*,up$')
	[ "${up:-0}" -ge "$1" ]
}

# ------------------------------------------------------------ front-ends
TP_FDS=()
# start_testpmds DIR: ceil(N/32) interactive testpmds on SOCKS, none started
start_testpmds() {
	local d=$1 n=${#SOCKS[@]} k=0 i c fd
	TP_PIDS="" TP_LOGS=()
	for ((i = 0; i < n; i += TP_MAXPORTS, k++)); do
		local j last=$((i + TP_MAXPORTS < n ? i + TP_MAXPORTS : n))
		c=(stdbuf -oL "$TESTPMD" --lcores "0@$MAIN_CPU,1@$MAIN_CPU" --main-lcore 0 --no-pci --no-huge -m 256
			"--file-prefix=$(dpdk_prefix "tp$k")")
		for ((j = i; j < last; j++)); do
			c+=(--vdev "net_virtio_user$((j - i)),path=${SOCKS[$j]},mac=$(port_mac "$j"),queues=1,queue_size=256")
		done
		c+=(-- -i --no-mlockall --total-num-mbufs=16384 --rxd=256 --txd=256 --nb-cores=1)
		if [ "${SHOWN_TP:-}" != 1 ]; then
			show_cmd "${c[@]:0:12}"; echo "      ... (--vdev net_virtio_userJ,... for each of up to $TP_MAXPORTS ports) ${c[*]: -6}"
			echo "    (interactive, stdin a fifo held open; \`start\` is never sent)"
			SHOWN_TP=1
		fi
		mkfifo "$d/tp$k.fifo"
		exec {fd}<>"$d/tp$k.fifo"
		TP_FDS+=("$fd")
		timeout -k 5 "$PROC_SECS" taskset -c "$MAIN_CPU" "${c[@]}" <"$d/tp$k.fifo" >"$d/tp$k.log" 2>&1 &
		track $!
		TP_LOGS+=("$d/tp$k.log")
		TP_TPIDS="${TP_TPIDS:-} $!"
	done
	# wait for every prompt (ports started), then find the testpmd processes
	for c in "${TP_LOGS[@]}"; do
		wait_for 90 grep -q 'testpmd> ' "$c" || { log "testpmd did not reach its prompt:"; tail -5 "$c" >&2; return 1; }
	done
	for c in $TP_TPIDS; do TP_PIDS="$TP_PIDS $(pgrep -P "$c" | head -1)"; done
	return 0
}
stop_testpmds() {
	local fd
	for fd in "${TP_FDS[@]}"; do { echo quit >&"$fd"; } 2>/dev/null; done
	local n=100 p
	for p in $TP_TPIDS; do
		while kill -0 "$p" 2>/dev/null && [ $n -gt 0 ]; do sleep 0.1; n=$((n - 1)); done
		kill -0 "$p" 2>/dev/null && kill -TERM "$p" 2>/dev/null
		wait "$p" 2>/dev/null
	done
	for fd in "${TP_FDS[@]}"; do exec {fd}>&-; done
	TP_FDS=() TP_TPIDS="" TP_PIDS=""
	return 0
}
stop_sut() {
	case $CUR_SUT in
	vtoed) vtoed_stop TERM >/dev/null 2>&1 ;;
	ovs)
		ovs_appctl exit >/dev/null 2>&1
		timeout 5 ovs-appctl -t "$OVS_DIR/ovsdb-server.ctl" exit >/dev/null 2>&1
		ip link del "$OVS_BR" 2>/dev/null
		[ $OVSNETDEV_PREEXISTED = 0 ] && ip link del ovs-netdev 2>/dev/null
		unset OVS_RUNDIR OVS_DBDIR OVS_LOGDIR OVS_SYSCONFDIR ;;
	esac
	CUR_SUT="" SW_PID="" SW_CORE_TID=""
}
bench_cleanup() {
	local rc=$?
	[ -n "${TP_TPIDS:-}" ] && stop_testpmds
	[ -n "$CUR_SUT" ] && stop_sut
	(exit $rc); t_cleanup
}
trap bench_cleanup EXIT

# ------------------------------------------------------------ one measurement
RES=$WORK/results.tsv
: >"$RES"
maxsleep_of() { case $1 in ovs-sleep) echo "$OVS_MAXSLEEP" ;; *) echo "${1#ovs-sleep}" ;; esac; }
# columns of $RES
#  1 round  2 case  3 ports  4 polling thread %  5 switch process %  6 testpmd %
#  7 machine busy %  8 foreign %  9 steal %  10 clean|polluted|failed|skipped
row() { echo -e "$1\t$2\t$3\t$4\t$5\t$6\t$7\t$8\t$9\t${10}" >>"$RES"; }
# measure CASE N ROUND -> a line in $RES, M_CLEAN
measure() {
	local cs=$1 n=$2 r=$3 d=$WORK/m$MEAS ok=1
	mkdir -p "$d"
	M_CLEAN=failed
	wait_quiet
	case $cs in
	vtoed-*) start_vtoed "$d" "${cs#vtoed-}" "$n" ;;
	ovs-sleep*) start_ovs "$d" "$(maxsleep_of "$cs")" "$n" ;;
	esac || { log "$cs: switch did not start (logs in $d)"; ok=0; }
	[ $ok = 1 ] && { start_testpmds "$d" || ok=0; }
	if [ $ok = 1 ]; then
		case $CUR_SUT in
		vtoed) wait_for 60 vtoed_links_up "$n" ;;
		ovs) wait_for 60 ovs_links_up "$n" ;;
		esac || { log "$cs: not all $n links came up"; ok=0; }
	fi
	local s0 s1 f=0 st=0 swp="?" corep="?" tpp="?" hp="?" t0 t1
	if [ $ok = 1 ]; then
		sleep "$SETTLE"
		s0=$(cpu_snapshot); probe "$d" p0; t0=$(date +%s%N)
		sleep "$SECS"
		s1=$(cpu_snapshot); probe "$d" p1; t1=$(date +%s%N)
		read -r f st <<<"$(foreign_pct "$s0" "$s1")"
		read -r swp corep tpp hp <<<"$(probe_pct "$d")"
		# still all up at the end: the front-ends stayed connected
		case $CUR_SUT in
		vtoed) vtoed_links_up "$n"; ctl lcores >"$d/vtoectl-lcores.txt" 2>&1 ;;
		ovs) ovs_links_up "$n"; ovs_appctl dpif-netdev/pmd-stats-show >"$d/pmd-stats.txt" 2>&1 ;;
		esac || { log "$cs: links went down during the window"; ok=0; }
	fi
	stop_testpmds
	stop_sut
	if [ $ok = 0 ]; then
		say "  => $cs, $n ports: FAILED (logs: $d)"
		row "$r" "$cs" "$n" "?" "?" "?" "?" "$f" "$st" failed
		return 1
	fi
	M_CLEAN=clean
	awk -v f="$f" -v m="$FOREIGN_MAX" 'BEGIN { exit !(f > m) }' && M_CLEAN=polluted
	say "  => $cs, $n idle ports, % of one CPU over $(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.1f", (b - a) / 1e9 }') s:" \
		"polling thread ${corep}, switch process ${swp}, testpmd front-ends ${tpp}, whole machine ${hp} (of 200);" \
		"foreign ${f}, steal ${st}"
	row "$r" "$cs" "$n" "$corep" "$swp" "$tpp" "$hp" "$f" "$st" "$M_CLEAN"
}

# ------------------------------------------------------------ checks
if [ $want_vtoed = 1 ]; then
	for c in "${CASE_LIST[@]}"; do
		case $c in vtoed-*) ;; *) continue ;; esac
		mkdir -p "$WORK/check"
		vtoed_yaml "$WORK/check" "${c#vtoed-}" 2 >"$WORK/check/$c.yaml"
		if ! out=$("$WORK/vtoed.bin" --check-config "$WORK/check/$c.yaml" 2>&1); then
			skip_case "$c" "this vtoed does not accept lcores.poll: ${c#vtoed-} ($( { echo "$out" | grep -m1 -i poll || echo "$out" | head -1; } | sed 's/^[^ ]*:[0-9]*:[0-9]*: //'))"
		fi
	done
fi

# ------------------------------------------------------------ main
say "idle_bench: cases ${CASE_LIST[*]}, idle ports ${PORT_LIST[*]}, $ROUNDS rounds, window ${SECS}s after ${SETTLE}s, max-time ${MAX_TIME}s"
say "command: $0 $ARGS_SHOWN"
say "machine: $(nproc --all) CPUs, $(awk -F: '/model name/ {print $2; exit}' /proc/cpuinfo | sed 's/^ *//'), kernel $(uname -r)"
say "versions: dpdk $(dpkg-query -W -f='${Version}' dpdk 2>/dev/null), openvswitch-switch-dpdk $(dpkg-query -W -f='${Version}' openvswitch-switch-dpdk 2>/dev/null || echo -)"
[ $want_vtoed = 1 ] && say "vtoed: $VTOED_SRC ($(stat -c %y "$VTOED_SRC" | cut -d. -f1), sha256 $(sha256sum "$WORK/vtoed.bin" | cut -c1-16), repo HEAD now $(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null)$(git -C "$ROOT" diff --quiet HEAD -- src apps 2>/dev/null || echo '+uncommitted')), run from a copy"

MEAS=0
HARD_END=$((MAX_TIME + 60))
for ((r = 1; r <= ROUNDS; r++)); do
	for ((m = 0; m < NPORTS; m++)); do
		if [ $((r % 2)) = 1 ]; then n=${PORT_LIST[$m]}; else n=${PORT_LIST[$((NPORTS - 1 - m))]}; fi
		for ((k = 0; k < NCASE; k++)); do
			# the case order alternates per port count too, so each case leads as often
			if [ $(((r + m) % 2)) = 1 ]; then cs=${CASE_LIST[$k]}; else cs=${CASE_LIST[$((NCASE - 1 - k))]}; fi
			if [ -n "${CASE_SKIP[$cs]:-}" ]; then
				row "$r" "$cs" "$n" "?" "?" "?" "?" 0 0 skipped
				continue
			fi
			for try in 0 1; do
				if [ $(( $(elapsed) + EST )) -gt "$HARD_END" ]; then
					say "round $r $cs $n ports: skipped (time bound: ${HARD_END}s)"
					row "$r" "$cs" "$n" "?" "?" "?" "?" 0 0 skipped
					break
				fi
				MEAS=$((MEAS + 1))
				say "round $r/$ROUNDS case $cs, $n idle ports (measurement $MEAS$([ $try = 1 ] && echo ', retry'), t=$(elapsed)s)"
				measure "$cs" "$n" "$r"
				if [ $try = 1 ]; then
					last=$(tail -1 "$RES")
					if [ "$(cut -f10 <<<"$last")" = failed ] ||
						awk -v a="$(cut -f8 <<<"$last")" -v b="$(cut -f8 <<<"$FIRST")" 'BEGIN { exit !(a > b) }'; then
						sed -i '$d' "$RES"; echo "$FIRST" >>"$RES"
						say "  keeping the first window (less foreign CPU)"
					fi
				elif [ "$M_CLEAN" = polluted ] && [ $(( $(elapsed) + 2 * EST )) -le "$MAX_TIME" ]; then
					say "  window polluted by other processes; measuring again"
					FIRST=$(tail -1 "$RES")
					sed -i '$d' "$RES"
					continue
				fi
				break
			done
		done
	done
done

# ------------------------------------------------------------ summary
median() { sort -g | awk '{ a[NR] = $1 } END { if (NR == 0) { print "nan"; exit }
	printf "%.4f\n", (NR % 2) ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2 }'; }
# cell CASE N COLUMN: median over clean windows (else polluted ones, marked '*')
cell() {
	local m
	m=$(awk -F'\t' -v c="$1" -v n="$2" -v k="$3" '$2 == c && $3 == n && $10 == "clean" && $k ~ /^[0-9.]+$/ { print $k }' "$RES" | median)
	if [ "$m" = nan ]; then
		m=$(awk -F'\t' -v c="$1" -v n="$2" -v k="$3" '$2 == c && $3 == n && $10 == "polluted" && $k ~ /^[0-9.]+$/ { print $k }' "$RES" | median)
		[ "$m" = nan ] && { echo "n/a"; return; }
		awk -v v="$m" 'BEGIN { printf "%.2f*", v }'; return
	fi
	awk -v v="$m" 'BEGIN { printf "%.2f", v }'
}
label() { case $1 in ovs-sleep*) echo "$1 (pmd-maxsleep=$(maxsleep_of "$1"))" ;; *) echo "$1" ;; esac; }
table() {  # COLUMN TITLE
	local cs n hdr="| case |" sep="|---|" line
	for n in "${PORT_LIST[@]}"; do hdr="$hdr $n ports |"; sep="$sep---:|"; done
	echo "$2, % of one CPU (median of the rounds):"
	echo
	echo "$hdr"; echo "$sep"
	for cs in "${CASE_LIST[@]}"; do
		line="| $(label "$cs") |"
		for n in "${PORT_LIST[@]}"; do
			if [ -n "${CASE_SKIP[$cs]:-}" ]; then line="$line SKIPPED |"; else line="$line $(cell "$cs" "$n" "$1") |"; fi
		done
		echo "$line"
	done
	echo
}
summary() {
	echo
	echo "## idle_bench results ($(date -u +%Y-%m-%dT%H:%MZ); idle vhost-user ports (testpmd virtio_user, connected, not started); ${SECS} s windows; $ROUNDS rounds)"
	echo
	table 4 "Polling thread (vtoed worker / OVS PMD; /proc schedstat)"
	table 5 "Whole switch process (vtoed / ovs-vswitchd, all its threads; schedstat)"
	table 6 "Idle front-ends (all testpmd processes, all threads; schedstat)"
	table 7 "Whole machine busy (of 200)"
	echo "(* = every window was polluted: other processes used more than ${FOREIGN_MAX}% of a CPU; per-window values in the raw results)"
	local t
	if [ ${#SKIPPED[@]} -gt 0 ]; then
		echo
		for t in "${SKIPPED[@]}"; do echo "SKIPPED (not measured): $t"; done
	fi
}
summary | tee "$WORK/summary.md"
[ -n "$RESULTS_FILE" ] && cp "$WORK/summary.md" "$RESULTS_FILE"
echo
say "raw results (round case ports thread% switch% testpmd% machine% foreign% steal% clean): $RES"
sed 's/^/    /' "$RES"
say "total time: $(elapsed) s (plus $(( START_TS - T_START )) s of preparation)"
[ "${VTOE_KEEP:-0}" = 1 ] && say "logs kept in $WORK"
grep -qP '\tfailed$' "$RES" && exit 1
exit 0
