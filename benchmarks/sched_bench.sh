#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# sched_bench.sh - host CPU scheduling vs I/O: guest-to-guest TCP throughput
# and ping RTT under that load when the QEMU/TCG guests and the switch SHARE
# the machine's two CPUs (no CPU of its own for the switch).  A busy-polling
# switch core takes CPU time the guests need; one that sleeps when idle
# gives it back.  Cases (all in one run, alternated):
#
#   vtoed-busy       vtoed, lcores {main: 0, workers: [1], poll: busy}
#   vtoed-adaptive   vtoed, poll: adaptive (default max_sleep, 1ms)
#   vtoed-interrupt  vtoed, poll: interrupt (sleeps in epoll on the guests'
#                    kick eventfds); SKIPPED, loudly, if this vtoed does not
#                    accept it (vtoed --check-config)
#   ovs-sleep0       Open vSwitch 3.1 + DPDK, other_config:pmd-maxsleep=0
#                    (its default: the PMD busy-polls)
#   ovs-sleep        the same with pmd-maxsleep=$OVS_MAXSLEEP us (load-based
#                    PMD sleeping, experimental in 3.1; see OVS_MAXSLEEP below)
#   ovs-sleepN       pmd-maxsleep=N us (for a sweep: ovs-sleep50,ovs-sleep250)
#   emul             no switch process and no polling core: QEMU's own
#                    virtio-net on a tap (-netdev tap,...,vhost=off: this
#                    kernel has no vhost-net), both taps in a Linux bridge
#
# Offloads are on everywhere, so the cases compare alike: vtoed ports
# `offloads: true`, OVS other_config:userspace-tso-enable=true with
# dpdkvhostuserclient ports (see tcp_bench.sh for why client ports), and
# the tap backend's own vnet_hdr offloads for emul.  Every guest has the same
# virtio-net-pci device (vectors=0, required by QEMU 7.2 TCG + vhost-user, kept
# for emul too).
#
# CPU placement (the point of the experiment): both QEMU guests may run on
# CPUs 0 and 1 (taskset -c 0,1); vtoed `lcores: {main: 0, workers: [1]}`
# (its worker pinned to CPU 1, which the guests also use); OVS
# pmd-cpu-mask=0x2, its other threads and ovsdb-server unpinned (0,1).
#
#   vm1 10.79.0.1: iperf3 -c vm2 (sender), and meanwhile ping vm2
#   vm2 10.79.0.2: iperf3 -s (receiver)
#
# Each measurement starts the switch (or the bridge) and two freshly booted
# guests (tests/integration/lib/guest.sh; guest-init.sh role iperf3ping),
# runs `iperf3 -c vm2 -J -t SECS -O OMIT -P PAR` in vm1 and, OMIT seconds
# after it started, `ping -i PINGI -w SECS vm2` (busybox) beside it, and
# stops everything.  Reported per measurement: iperf3's receiver-side rate;
# ping RTT p50/p99 and loss under that load; over the ping window (SECS
# seconds, from /proc): CPU of the switch process (vtoed, ovs-vswitchd) and
# of its polling thread (vtoed worker, OVS PMD), of both QEMU processes, and
# the whole machine's busy time, each in % of one CPU (the machine has 200).
# Rounds alternate the case order (A B C, then C B A, ...); the summary gives
# medians per case and ratios of medians with the per-round ratios.  A window
# in which processes that are not ours used more than FOREIGN_MAX % of a CPU
# is measured again once if time allows, else flagged '*'.
#
# Usage: benchmarks/sched_bench.sh [options]     (root)
#   --build DIR     vtoe build dir with apps/vtoed/vtoed and apps/vtoectl/vtoectl
#                   (default $VTOE_BUILD, else /tmp/build-bench, /tmp/build-lead)
#   --cases LIST    comma list (default
#                   vtoed-busy,vtoed-adaptive,vtoed-interrupt,ovs-sleep0,ovs-sleep,emul)
#   --rounds N      rounds (default 5; env SCHB_ROUNDS)
#   --secs S        measured seconds: iperf3 -t and the ping window (default 10; env SCHB_SECS)
#   --omit S        iperf3 -O warm-up, also the delay before ping (default 2; env SCHB_OMIT)
#   --parallel N    iperf3 -P streams (default 1; env SCHB_PAR)
#   --ping-interval S  ping -i in the guest (default 0.01; env SCHB_PINGI)
#   --ovs-maxsleep US  pmd-maxsleep of case ovs-sleep (default $OVS_MAXSLEEP, else 1000)
#   --max-time S    no quiet-waits / retries after S s, no measurement started
#                   after S+60-(SECS+OMIT+50) s (default: enough for every case
#                   and round plus 25%; env SCHB_MAX_TIME)
#   --results FILE  also write the summary (markdown) to FILE
#   --keep          keep the scratch dir (logs, consoles, iperf3 JSON, RTTs)
#   -h|--help
# Other env: SCHB_FOREIGN_MAX (10, % of a CPU), SCHB_QUIET_WAIT (20 s before
# each measurement), VTOE_GUEST_MEM (256 MiB per guest), VTOE_CACHE.
set -u -o pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
CASES=vtoed-busy,vtoed-adaptive,vtoed-interrupt,ovs-sleep0,ovs-sleep,emul
ROUNDS=${SCHB_ROUNDS:-5}
SECS=${SCHB_SECS:-10}
OMIT=${SCHB_OMIT:-2}
PAR=${SCHB_PAR:-1}
PINGI=${SCHB_PINGI:-0.01}
# pmd-maxsleep of "ovs-sleep": from a short sweep here (50/250/1000 us, runs
# polluted by other work): the PMD took 22/10.5/6.5 % of a CPU under load,
# throughput was within the noise; 1000 gives the guests the most CPU and
# matches vtoed's max_sleep (1ms).  Sweep again on a quiet box with
# --cases ovs-sleep50,ovs-sleep250,ovs-sleep1000.
OVS_MAXSLEEP=${OVS_MAXSLEEP:-1000}
MAX_TIME=${SCHB_MAX_TIME:-}
FOREIGN_MAX=${SCHB_FOREIGN_MAX:-10}
QUIET_WAIT=${SCHB_QUIET_WAIT:-20}
RESULTS_FILE=""
BUILD=${VTOE_BUILD:-}
OVS_VSWITCHD=${OVS_VSWITCHD:-/usr/lib/openvswitch-switch-dpdk/ovs-vswitchd-dpdk}
OVS_SCHEMA=${OVS_SCHEMA:-/usr/share/openvswitch/vswitch.ovsschema}
ARGS_SHOWN="$*"

while [ $# -gt 0 ]; do
	case $1 in
	--build) BUILD=$2; shift 2 ;;
	--cases) CASES=$2; shift 2 ;;
	--rounds) ROUNDS=$2; shift 2 ;;
	--secs) SECS=$2; shift 2 ;;
	--omit) OMIT=$2; shift 2 ;;
	--parallel) PAR=$2; shift 2 ;;
	--ping-interval) PINGI=$2; shift 2 ;;
	--ovs-maxsleep) OVS_MAXSLEEP=$2; shift 2 ;;
	--max-time) MAX_TIME=$2; shift 2 ;;
	--results) RESULTS_FILE=$2; shift 2 ;;
	--keep) export VTOE_KEEP=1; shift ;;
	-h | --help) sed -n '3,/^set -u/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
	*) echo "sched_bench.sh: unknown option $1 (see --help)" >&2; exit 2 ;;
	esac
done
for v in ROUNDS SECS OMIT PAR OVS_MAXSLEEP; do
	[[ ${!v} =~ ^[0-9]+$ ]] || { echo "sched_bench.sh: $v must be a number" >&2; exit 2; }
done
[[ $PINGI =~ ^[0-9]*\.?[0-9]+$ ]] || { echo "sched_bench.sh: --ping-interval: seconds, e.g. 0.01" >&2; exit 2; }
[ "$SECS" -ge 2 ] && [ "$SECS" -le 120 ] || { echo "sched_bench.sh: --secs 2..120" >&2; exit 2; }
[ "$ROUNDS" -ge 1 ] || { echo "sched_bench.sh: --rounds >= 1" >&2; exit 2; }
if [ -z "$BUILD" ]; then
	for b in /tmp/build-bench /tmp/build-lead; do
		[ -x "$b/apps/vtoed/vtoed" ] && { BUILD=$b; break; }
	done
fi
IFS=, read -r -a CASE_LIST <<<"$CASES"
for c in "${CASE_LIST[@]}"; do
	case $c in
	vtoed-busy | vtoed-adaptive | vtoed-interrupt | ovs-sleep | emul) ;;
	ovs-sleep[0-9]*) [[ $c =~ ^ovs-sleep[0-9]+$ ]] || { echo "sched_bench.sh: bad case $c" >&2; exit 2; } ;;
	*) echo "sched_bench.sh: unknown case $c (see --help)" >&2; exit 2 ;;
	esac
done
NCASE=${#CASE_LIST[@]}
EST=$((SECS + OMIT + 50))     # one measurement, roughly (boots, first ping, run, stops)
[ -n "$MAX_TIME" ] || MAX_TIME=$((ROUNDS * NCASE * EST * 5 / 4 + 120))
[[ $MAX_TIME =~ ^[0-9]+$ ]] || { echo "sched_bench.sh: --max-time must be a number" >&2; exit 2; }
[ "$(id -u)" = 0 ] || { echo "sched_bench.sh: must run as root (hugepages, vhost-user, taps, apt-get)" >&2; exit 1; }

# ------------------------------------------------------------ install step
want_vtoed=0 want_ovs=0
for c in "${CASE_LIST[@]}"; do case $c in vtoed*) want_vtoed=1 ;; ovs*) want_ovs=1 ;; esac; done
PKGS=(iperf3 qemu-system-x86 busybox-static cpio xz-utils jq ethtool procps util-linux iproute2)
[ $want_ovs = 1 ] && PKGS+=(openvswitch-switch-dpdk)
missing=()
for p in "${PKGS[@]}"; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'ok installed' || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
	echo "sched_bench: installing ${missing[*]}" >&2
	export DEBIAN_FRONTEND=noninteractive
	apt-get update -qq >/dev/null 2>&1
	apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null ||
		{ echo "sched_bench.sh: apt-get install ${missing[*]} failed" >&2; exit 1; }
fi

# the integration tests' helpers: scratch dir ($WORK), pid tracking and
# cleanup, vtoed start/stop, vtoectl, guests.  VTOE_BUILD must be set before.
export VTOE_BUILD=${BUILD:-$ROOT/build-missing}
T_SUFFIX=""
source "$ROOT/tests/integration/lib/common.sh"
source "$ROOT/tests/integration/lib/guest.sh"
need_root
# Everything shares CPUs 0 and 1 (common.sh would keep CPU 1 for the worker):
# guest_start pins QEMU to OTHER_CPUS.
MAIN_CPU=0 WORKER_CPU=1 OTHER_CPUS=0,1
RUN_ID=$$
SKIPPED=()     # "case: why" of cases this run cannot measure
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
IPERF3_BIN=$(command -v iperf3) || die "iperf3 missing"
ETHTOOL_BIN=$(command -v ethtool || ls /usr/sbin/ethtool /sbin/ethtool 2>/dev/null | head -1)
[ -x "$ETHTOOL_BIN" ] || die "ethtool missing"
[ $want_vtoed = 1 ] || [ $want_ovs = 1 ] && need_hugepages 1024
GUEST_EXTRA_BINS="$IPERF3_BIN $ETHTOOL_BIN"
guest_prepare
START_TS=$(date +%s)
NET=10.79.0
GUEST_SECS=$((SECS + OMIT + 150))      # hard bound of each QEMU
HZ=$(getconf CLK_TCK)

say() { echo "[$(date +%T)] $*"; }
show_cmd() { printf '  $'; printf ' %q' "$@"; printf '\n'; }
elapsed() { echo $(( $(date +%s) - START_TS )); }
skip_case() {  # CASE WHY: loudly, once
	CASE_SKIP[$1]=$2
	SKIPPED+=("$1: $2")
	echo "SKIP: sched_bench: $1: $2"
	echo "SKIP: sched_bench: $1: ******** THIS CASE IS NOT MEASURED ********"
}

# ---------------------------------------------------------- CPU accounting
# cpu_snapshot, foreign_pct: benchmarks/lib_cpu.sh
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
# utime+stime ticks of a process, its exited threads included
proc_ticks() { awk '{ i = index($0, ") "); split(substr($0, i + 2), f, " "); print f[12] + f[13] }' "/proc/$1/stat" 2>/dev/null || echo 0; }
# ns on CPU of one thread (schedstat: exact, where ticks would be coarse)
thread_ns() { local ns=0; [ -n "$2" ] && read -r ns _ <"/proc/$1/task/$2/schedstat" 2>/dev/null; echo "${ns:-0}"; }
# proc_table: "PID PPID TICKS COMM" of every process, kernel threads included
proc_table() {
	cat /proc/[0-9]*/stat 2>/dev/null | awk '{ i = index($0, " ("); j = 0
		for (k = length($0); k > 0; k--) if (substr($0, k, 1) == ")") { j = k; break }
		split(substr($0, j + 2), f, " "); c = substr($0, i + 2, j - i - 2); gsub(/ /, "_", c)
		print $1, f[2], f[12] + f[13], c }'
}
# foreign_top T0 T1 SECONDS: the processes not ours that used the most CPU
foreign_top() {
	awk -v root="$$" -v hz="$HZ" -v s="$3" 'FNR == NR { t0[$1] = $3; next }
		{ pp[$1] = $2; d[$1] = $3 - t0[$1]; c[$1] = $4 }
		END { for (p in d) { q = p; mine = 0
				for (k = 0; k < 64 && q != "" && q != 0 && q != 1; k++) { if (q == root) { mine = 1; break } q = pp[q] }
				if (!mine && d[p] > 0) printf "%.1f %s[%s]\n", d[p] / hz / s * 100, c[p], p }
		}' "$1" "$2" | sort -gr | head -4 | awk '{ printf "%s%s %s%%", s, $2, $1; s = ", " }'
}
# "BUSY IRQ": busy ticks of all CPUs, and the irq+softirq part of them (kernel
# work no task is charged for: for emul, much of the bridge's)
host_ticks() { local u n s irq sirq; read -r _ u n s _ _ irq sirq _ </proc/stat; echo "$((u + n + s + irq + sirq)) $((irq + sirq))"; }
# probe: "SWITCH_TICKS CORE_NS QEMU_TICKS HOST_TICKS IRQ_TICKS NOW_NS" of
# SW_PID, SW_CORE_TID and QEMU_PIDS (set by the caller)
probe() {
	local q=0 p
	for p in $QEMU_PIDS; do q=$((q + $(proc_ticks "$p"))); done
	echo "$([ -n "$SW_PID" ] && proc_ticks "$SW_PID" || echo 0) $(thread_ns "${SW_PID:-0}" "$SW_CORE_TID") $q $(host_ticks) $(date +%s%N)"
}
# probe_pct P0 P1 -> "SWITCH% CORE% QEMU% IRQ% HOST%" of one CPU over the interval
probe_pct() {
	local a0 b0 c0 h0 i0 t0 a1 b1 c1 h1 i1 t1
	read -r a0 b0 c0 h0 i0 t0 <<<"$1"; read -r a1 b1 c1 h1 i1 t1 <<<"$2"
	awk -v a=$((a1 - a0)) -v b=$((b1 - b0)) -v c=$((c1 - c0)) -v h=$((h1 - h0)) -v i=$((i1 - i0)) -v t=$((t1 - t0)) -v hz="$HZ" \
		-v sw="${SW_PID:-}" -v core="${SW_CORE_TID:-}" 'BEGIN { s = t / 1e9; if (s <= 0) s = 1
		printf "%s %s %.1f %.1f %.1f\n", (sw == "" ? "-" : sprintf("%.1f", a / hz / s * 100)),
			(core == "" ? "-" : sprintf("%.1f", b / 1e9 / s * 100)), c / hz / s * 100, i / hz / s * 100, h / hz / s * 100 }'
}

# ------------------------------------------------------------ switches
CUR_SUT="" SUT_SOCK1="" SUT_SOCK2="" OVS_DIR="" SW_PID="" SW_CORE_TID=""
EMUL_BR="sb${RUN_ID}br" EMUL_TAP1="sb${RUN_ID}t1" EMUL_TAP2="sb${RUN_ID}t2"
OVS_BR="sb${RUN_ID}"
OVSNETDEV_PREEXISTED=0
ip link show ovs-netdev >/dev/null 2>&1 && OVSNETDEV_PREEXISTED=1
vtoed_yaml() {  # DIR POLL -> the config on stdout
	cat <<EOF
lcores: {main: $MAIN_CPU, workers: [$WORKER_CPU], poll: $2}
memory: {hugepages: auto, mbufs: 16384}
control: {socket: $1/ctl.sock, mode: "0660"}
eal: {file_prefix: $(dpdk_prefix vtoed)}
vms:
  - name: vm1
    ports:
      - {name: vm1.0, socket: $1/vm1.sock, mode: server, mac: "$VM1_MAC", queues: 1, offloads: true}
  - name: vm2
    ports:
      - {name: vm2.0, socket: $1/vm2.sock, mode: server, mac: "$VM2_MAC", queues: 1, offloads: true}
EOF
}
# start_vtoed DIR POLL(busy|adaptive|interrupt)
start_vtoed() {
	local d=$1 poll=$2
	CTL_SOCK=$d/ctl.sock
	SUT_SOCK1=$d/vm1.sock SUT_SOCK2=$d/vm2.sock QEMU_SRV=0
	vtoed_yaml "$d" "$poll" >"$d/vtoed.yaml"
	if [ "${SHOWN_VTOED:-}" != "$poll" ]; then
		sed 's/^/    | /' "$d/vtoed.yaml"
		show_cmd taskset -c "$MAIN_CPU,$WORKER_CPU" "$VTOED_SRC" --config "$d/vtoed.yaml"
		SHOWN_VTOED=$poll
	fi
	CUR_SUT=vtoed
	vtoed_start "$d/vtoed.yaml" "$d/vtoed.log" "$GUEST_SECS" || return 1
	SW_PID=$VTOED_PID
	SW_CORE_TID=$(ctl --json lcores 2>/dev/null | jq -r '[.. | objects | select(.role? == "worker") | .tid] | first // empty' 2>/dev/null)
	if [ -z "$SW_CORE_TID" ]; then  # by thread name (DPDK: rte-worker-N)
		SW_CORE_TID=$(grep -l '^rte-worker' /proc/"$SW_PID"/task/*/comm 2>/dev/null | head -1 | cut -d/ -f5)
	fi
	[ -n "$SW_CORE_TID" ] || log "vtoed: worker thread not found; its CPU is not reported"
}
ovs_vsctl() { timeout 20 ovs-vsctl --db="unix:$OVS_DIR/db.sock" --timeout=15 "$@"; }
ovs_appctl() { timeout 10 ovs-appctl -t "$OVS_DIR/ovs-vswitchd.ctl" "$@"; }
# start_ovs DIR MAXSLEEP_US
start_ovs() {
	local d=$1 ms=$2 c show=0 pid
	OVS_DIR=$d/ovs; mkdir -p "$OVS_DIR"
	[ "${SHOWN_OVS:-}" != "$ms" ] && { show=1; SHOWN_OVS=$ms; }
	SUT_SOCK1=$d/vm1.sock SUT_SOCK2=$d/vm2.sock QEMU_SRV=1
	export OVS_RUNDIR=$OVS_DIR OVS_DBDIR=$OVS_DIR OVS_LOGDIR=$OVS_DIR OVS_SYSCONFDIR=$OVS_DIR
	CUR_SUT=ovs
	timeout 20 ovsdb-tool create "$OVS_DIR/conf.db" "$OVS_SCHEMA" || return 1
	c=(ovsdb-server "--remote=punix:$OVS_DIR/db.sock" "--pidfile=$OVS_DIR/ovsdb-server.pid"
		"--unixctl=$OVS_DIR/ovsdb-server.ctl" "--log-file=$OVS_DIR/ovsdb-server.log" "$OVS_DIR/conf.db")
	[ $show = 1 ] && { show_cmd ovsdb-tool create "$OVS_DIR/conf.db" "$OVS_SCHEMA"; show_cmd "${c[@]}"; }
	timeout -k 5 "$GUEST_SECS" "${c[@]}" >"$OVS_DIR/ovsdb-server.out" 2>&1 &
	track $!
	wait_for 20 test -S "$OVS_DIR/db.sock" || { log "ovsdb-server did not start"; return 1; }
	# no dpdk-lcore-mask: OVS's non-PMD threads stay unpinned (CPUs 0,1)
	c=(--no-wait init -- set Open_vSwitch . other_config:dpdk-init=true
		"other_config:pmd-cpu-mask=0x$(printf %x $((1 << WORKER_CPU)))"
		other_config:dpdk-socket-mem=1024
		"other_config:dpdk-extra=--file-prefix=$(dpdk_prefix ovs) --no-pci"
		other_config:userspace-tso-enable=true "other_config:pmd-maxsleep=$ms")
	[ $show = 1 ] && show_cmd ovs-vsctl --db="unix:$OVS_DIR/db.sock" --timeout=15 "${c[@]}"
	ovs_vsctl "${c[@]}" || return 1
	c=("$OVS_VSWITCHD" "unix:$OVS_DIR/db.sock" "--pidfile=$OVS_DIR/ovs-vswitchd.pid"
		"--unixctl=$OVS_DIR/ovs-vswitchd.ctl" "--log-file=$OVS_DIR/ovs-vswitchd.log")
	[ $show = 1 ] && show_cmd "${c[@]}"
	timeout -k 5 "$GUEST_SECS" "${c[@]}" >"$OVS_DIR/ovs-vswitchd.out" 2>&1 &
	track $!
	wait_for 60 test -S "$OVS_DIR/ovs-vswitchd.ctl" || {
		log "ovs-vswitchd did not start"; tail -20 "$OVS_DIR/ovs-vswitchd.log" >&2; return 1; }
	c=(add-br "$OVS_BR" -- set bridge "$OVS_BR" datapath_type=netdev
		-- add-port "$OVS_BR" vm1 -- set Interface vm1 type=dpdkvhostuserclient "options:vhost-server-path=$SUT_SOCK1" ofport_request=1
		-- add-port "$OVS_BR" vm2 -- set Interface vm2 type=dpdkvhostuserclient "options:vhost-server-path=$SUT_SOCK2" ofport_request=2)
	[ $show = 1 ] && { show_cmd ovs-vsctl --db="unix:$OVS_DIR/db.sock" --timeout=15 "${c[@]}"
		echo "    (flows: the bridge's default NORMAL rule; QEMU owns the sockets (server=on), OVS connects)"; }
	ovs_vsctl "${c[@]}" || { tail -20 "$OVS_DIR/ovs-vswitchd.log" >&2; return 1; }
	pid=$(cat "$OVS_DIR/ovs-vswitchd.pid" 2>/dev/null)
	SW_PID=$pid
	wait_for 10 eval 'grep -ql "^pmd" /proc/$SW_PID/task/*/comm 2>/dev/null'
	SW_CORE_TID=$(grep -l '^pmd' /proc/"$SW_PID"/task/*/comm 2>/dev/null | head -1 | cut -d/ -f5)
	[ -n "$SW_CORE_TID" ] || log "ovs: PMD thread not found; its CPU is not reported"
	grep -hE 'PMD (max sleep|load based sleeps)' "$OVS_DIR/ovs-vswitchd.log" | sed 's/^.*|/    ovs-vswitchd.log: /' | sort -u >"$d/ovs-sleep.txt"
	[ $show = 1 ] && cat "$d/ovs-sleep.txt"
	return 0
}
# start_emul DIR: a Linux bridge with one tap per guest
start_emul() {
	local d=$1 t
	CUR_SUT=emul SW_PID="" SW_CORE_TID=""
	if [ "${SHOWN_EMUL:-}" != 1 ]; then
		show_cmd ip link add "$EMUL_BR" type bridge stp_state 0 forward_delay 0
		show_cmd ip tuntap add dev "$EMUL_TAP1" mode tap
		show_cmd ip link set "$EMUL_TAP1" master "$EMUL_BR" up
		echo "    (the same for $EMUL_TAP2; host bridge-nf-call-iptables=$(cat /proc/sys/net/bridge/bridge-nf-call-iptables 2>/dev/null || echo -), empty ruleset: $(iptables -S 2>/dev/null | grep -vc '^-P') iptables rules)"
		SHOWN_EMUL=1
	fi
	ip link add "$EMUL_BR" type bridge stp_state 0 forward_delay 0 2>/dev/null ||
		ip link add "$EMUL_BR" type bridge || { log "cannot create bridge $EMUL_BR"; return 1; }
	ip link set "$EMUL_BR" up || return 1
	for t in "$EMUL_TAP1" "$EMUL_TAP2"; do
		ip tuntap add dev "$t" mode tap && ip link set "$t" master "$EMUL_BR" up || { log "cannot create tap $t"; return 1; }
	done
}
emul_clean() {
	ip link del "$EMUL_TAP1" 2>/dev/null; ip link del "$EMUL_TAP2" 2>/dev/null
	ip link del "$EMUL_BR" 2>/dev/null
	return 0
}
stop_sut() {
	case $CUR_SUT in
	vtoed) vtoed_stop TERM >/dev/null 2>&1 ;;
	ovs)
		ovs_appctl exit >/dev/null 2>&1
		timeout 5 ovs-appctl -t "$OVS_DIR/ovsdb-server.ctl" exit >/dev/null 2>&1
		# the netdev datapath's taps outlive OVS
		ip link del "$OVS_BR" 2>/dev/null
		[ $OVSNETDEV_PREEXISTED = 0 ] && ip link del ovs-netdev 2>/dev/null
		unset OVS_RUNDIR OVS_DBDIR OVS_LOGDIR OVS_SYSCONFDIR ;;
	emul) emul_clean ;;
	esac
	CUR_SUT="" SW_PID="" SW_CORE_TID=""
}
bench_cleanup() {
	local rc=$?
	[ -n "$CUR_SUT" ] && stop_sut
	emul_clean
	(exit $rc); t_cleanup
}
trap bench_cleanup EXIT

# emul_guest_start NAME TAP MAC SECONDS KERNEL_ARGS...: guest_start's QEMU
# with a tap backend instead of vhost-user
emul_guest_start() {
	local name=$1 tap=$2 mac=$3 secs=$4 pid; shift 4
	# shellcheck disable=SC2054  # commas are QEMU's
	local c=(qemu-system-x86_64 -accel "$GUEST_ACCEL" -M q35 -m "$GUEST_MEM" -smp 1
		-nodefaults -no-user-config -vga none -display none -no-reboot
		-serial "file:$WORK/$name.log"
		-object "memory-backend-memfd,id=mem,size=${GUEST_MEM}M,share=on" -numa node,memdev=mem
		-netdev "tap,id=n0,ifname=$tap,script=no,downscript=no,vhost=off"
		-device "virtio-net-pci,netdev=n0,mac=$mac,vectors=0"
		-kernel "$GUEST_KBOOT" -initrd "$GUEST_INITRD"
		-append "console=ttyS0 quiet panic=-1 e2e.maxt=$((secs - 5)) $*")
	[ "${SHOWN_EMULQ:-}" != 1 ] && { show_cmd taskset -c "$OTHER_CPUS" "${c[@]}"; SHOWN_EMULQ=1; }
	timeout -k 5 "$secs" taskset -c "$OTHER_CPUS" "${c[@]}" </dev/null >"$WORK/$name.qemu.log" 2>&1 &
	pid=$!; track "$pid"
	eval "GUEST_PID_${name//[^A-Za-z0-9_]/_}=$pid"
}

# switch-side counters after the run, into DIR; one summary line into SUT_NOTE
sut_collect() {
	local d=$1
	SUT_NOTE=""
	case $CUR_SUT in
	vtoed)
		ctl --json stats >"$d/vtoectl-stats.json" 2>&1
		ctl lcores >"$d/vtoectl-lcores.txt" 2>&1
		SUT_NOTE=$(jq -r '[(.result.ports // .ports)[] | "\(.name): rx \(.rx_packets) tx \(.tx_packets) drops \(.drops_total)" +
			(if ([.drops | to_entries[] | select(.value > 0)] | length) > 0 then " \(.drops | with_entries(select(.value > 0)) | tojson)" else "" end) +
			" feats \([.feature_names[]? | select(test("CSUM|TSO|MRG"))] | join(","))"] | join("; ")' \
			"$d/vtoectl-stats.json" 2>/dev/null)
		SUT_NOTE="$SUT_NOTE; worker since start: $(awk 'NR > 1 && /worker/' "$d/vtoectl-lcores.txt" | tr -s ' ' | head -1)" ;;
	ovs)
		ovs_appctl dpif-netdev/pmd-perf-show >"$d/pmd-perf.txt" 2>&1
		SUT_NOTE=$(for i in vm1 vm2; do
			echo -n "$i: $(ovs_vsctl get Interface $i statistics 2>/dev/null | tr -d '{}"' |
				tr ',' '\n' | sed 's/^ *//' | awk -F= '$1 == "rx_packets" || $1 == "tx_packets" || ($1 ~ /drop|retr|fail|error/ && $2 != 0)' | paste -sd' '); "
		done)
		SUT_NOTE="$SUT_NOTE $(sed 's/^ *ovs-vswitchd.log: //' "$d/ovs-sleep.txt" 2>/dev/null | paste -sd' ')" ;;
	emul)
		SUT_NOTE=$(for t in "$EMUL_TAP1" "$EMUL_TAP2"; do
			echo -n "$t: $(ip -s -o link show "$t" 2>/dev/null | sed 's/\\/\n/g' | awk '/RX:/ { getline; printf "rx %s drop %s ", $2, $4 } /TX:/ { getline; printf "tx %s drop %s", $2, $4 }'); "
		done) ;;
	esac
}

# ------------------------------------------------------------ one measurement
RES=$WORK/results.tsv
: >"$RES"
maxsleep_of() { case $1 in ovs-sleep) echo "$OVS_MAXSLEEP" ;; *) echo "${1#ovs-sleep}" ;; esac; }
# pctl P < numbers: nearest-rank percentile
pctl() { sort -g | awk -v p="$1" '{ a[NR] = $1 } END { if (NR == 0) { print "?"; exit }
	k = int(p / 100 * NR); if (k < p / 100 * NR) k++; if (k < 1) k = 1; printf "%.3f\n", a[k] }'; }
# columns of $RES
#  1 round  2 case  3 Gbit/s received (FAIL|SKIP)  4 Gbit/s sent  5 retransmits
#  6 ping p50 ms  7 ping p99 ms  8 ping loss %  9 replies  10 switch %  11 core %
#  12 QEMU %  13 kernel irq+softirq %  14 machine busy %  15 foreign %  16 steal %
#  17 clean|polluted|failed|skipped
fail_row() { echo -e "$1\t$2\tFAIL\t0\t?\t?\t?\t?\t0\t?\t?\t?\t?\t?\t${3:-0}\t${4:-0}\tfailed" >>"$RES"; }
skip_row() { echo -e "$1\t$2\tSKIP\t0\t?\t?\t?\t?\t0\t?\t?\t?\t?\t?\t0\t0\tskipped" >>"$RES"; }
# measure CASE ROUND -> appends a line to $RES, sets M_CLEAN (clean|polluted|failed)
measure() {
	local cs=$1 r=$2 d=$WORK/m$MEAS ok=1 g1=vm1_m$MEAS g2=vm2_m$MEAS
	mkdir -p "$d"
	M_CLEAN=failed
	wait_quiet
	case $cs in
	vtoed-*) start_vtoed "$d" "${cs#vtoed-}" ;;
	ovs-sleep*) start_ovs "$d" "$(maxsleep_of "$cs")" ;;
	emul) start_emul "$d" ;;
	esac || { log "$cs: switch did not start (logs in $d)"; ok=0; }
	local ga=(e2e.role=iperf3ping e2e.ethtool=1 "e2e.secs=$SECS" "e2e.omit=$OMIT" "e2e.par=$PAR" "e2e.pingi=$PINGI")
	if [ $ok = 1 ]; then
		if [ "$cs" = emul ]; then
			emul_guest_start $g2 "$EMUL_TAP2" "$VM2_MAC" "$GUEST_SECS" e2e.ip=$NET.2 e2e.iperf=server "${ga[@]}"
			emul_guest_start $g1 "$EMUL_TAP1" "$VM1_MAC" "$GUEST_SECS" e2e.ip=$NET.1 e2e.peer=$NET.2 e2e.iperf=client "${ga[@]}"
		else
			guest_start $g2 "$SUT_SOCK2" "$VM2_MAC" $QEMU_SRV "$GUEST_SECS" e2e.ip=$NET.2 e2e.iperf=server "${ga[@]}"
			guest_start $g1 "$SUT_SOCK1" "$VM1_MAC" $QEMU_SRV "$GUEST_SECS" e2e.ip=$NET.1 e2e.peer=$NET.2 e2e.iperf=client "${ga[@]}"
		fi
		guest_wait $g1 '^E2E IPERF3 START' 90 || { log "$cs: vm1 never started iperf3"; ok=0; }
	fi
	local s0="" s1="" p0="" p1="" f=0 st=0 swp="?" corep="?" qp="?" irqp=0 hp="?" try0="" t0=0 t1=0 p
	if [ $ok = 1 ]; then
		QEMU_PIDS=""
		for p in $(guest_pid $g1) $(guest_pid $g2); do QEMU_PIDS="$QEMU_PIDS $(pgrep -P "$p" | head -1)"; done
		guest_wait $g1 '^E2E LOAD BEGIN' $((OMIT + 30)) || { log "$cs: the load never began"; ok=0; }
	fi
	if [ $ok = 1 ]; then
		proc_table >"$d/procs0"; s0=$(cpu_snapshot); p0=$(probe); t0=$(date +%s%N)
		try0=$(guest_log $g1 | sed -n 's/^E2E LOAD BEGIN try=\([0-9]*\).*/\1/p' | tail -1)
		guest_wait $g1 "^E2E LOAD END try=$try0" $((SECS + 30)) || { log "$cs: ping did not end"; ok=0; }
		s1=$(cpu_snapshot); p1=$(probe); t1=$(date +%s%N); proc_table >"$d/procs1"
		read -r f st <<<"$(foreign_pct "$s0" "$s1")"
		read -r swp corep qp irqp hp <<<"$(probe_pct "$p0" "$p1")"
		# irq/softirq time is charged to no task; on an otherwise idle box it is ours
		f=$(awk -v f="$f" -v i="$irqp" 'BEGIN { f -= i; printf "%.1f", f < 0 ? 0 : f }')
		guest_wait $g1 '^E2E IPERF3 DONE' 60 || { log "$cs: iperf3 did not finish"; ok=0; }
	fi
	[ -n "$CUR_SUT" ] && sut_collect "$d"
	guest_stop $g1; guest_stop $g2
	cp "$WORK/$g1.log" "$d/vm1.console" 2>/dev/null; cp "$WORK/$g2.log" "$d/vm2.console" 2>/dev/null
	stop_sut
	guest_log $g1 | sed -n 's/^E2E IPERF3J //p' >"$d/iperf3.json"
	guest_log $g1 | sed -n 's/^E2E PINGT //p' | tr ' ' '\n' | grep -v '^$' >"$d/rtt-ms.txt"
	local gb sgb rtx err ivals tso1 csum2 tries p50 p99 loss nrep
	read -r gb sgb rtx < <(jq -r '[(.end.sum_received.bits_per_second // 0) / 1e9, (.end.sum_sent.bits_per_second // 0) / 1e9,
		(.end.sum_sent.retransmits // "?")] | map(if type == "number" then (. * 1000 | round / 1000) else . end) | @tsv' \
		"$d/iperf3.json" 2>/dev/null)
	err=$(jq -r '.error // empty' "$d/iperf3.json" 2>/dev/null)
	ivals=$(jq -r '[.intervals[]? | select(.sum.omitted | not) | .sum.bits_per_second / 1e6 | round] | join(" ")' "$d/iperf3.json" 2>/dev/null)
	tso1=$(guest_log $g1 | sed -n 's/^E2E ETHTOOL tcp-segmentation-offload: \([a-z]*\).*/\1/p' | head -1)
	csum2=$(guest_log $g2 | sed -n 's/^E2E ETHTOOL rx-checksumming: \([a-z]*\).*/\1/p' | head -1)
	tries=$(guest_log $g1 | sed -n 's/^E2E IPERF3 DONE rc=[0-9]* tries=\([0-9]*\).*/\1/p' | head -1)
	p50=$(pctl 50 <"$d/rtt-ms.txt") p99=$(pctl 99 <"$d/rtt-ms.txt") nrep=$(wc -l <"$d/rtt-ms.txt")
	loss=$(guest_log $g1 | sed -n 's/^E2E PINGS .* \([0-9.]*\)% packet loss.*/\1/p' | tail -1)
	if [ $ok = 0 ] || [ -z "${gb:-}" ] || [ -n "$err" ] || awk -v g="${gb:-0}" 'BEGIN { exit !(g <= 0) }'; then
		say "  => $cs: FAILED${err:+ (iperf3: $err)} (logs: $d)"
		guest_log $g1 | grep -v -e IPERF3J -e ETHTOOL -e PINGT | tail -5 | sed 's/^/     [vm1] /'
		fail_row "$r" "$cs" "$f" "$st"
		M_CLEAN=failed
		return 1
	fi
	M_CLEAN=clean
	awk -v f="$f" -v m="$FOREIGN_MAX" 'BEGIN { exit !(f > m) }' && M_CLEAN=polluted
	# the CPU window saw another iperf3 try than the one reported: measure again
	[ "${tries:-1}" != "$try0" ] && { M_CLEAN=polluted; say "  (iperf3 retried: the CPU window was try $try0, the result try $tries)"; }
	say "  => $cs: $(awk -v g="$gb" 'BEGIN { printf "%.3f", g }') Gbit/s received (sent $sgb, retransmits $rtx);" \
		"ping under load p50 ${p50} ms p99 ${p99} ms (${nrep} replies, loss ${loss:-?}%)"
	say "     CPU over the $(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.1f", (b - a) / 1e9 }') s ping window, % of one CPU:" \
		"switch process ${swp}, its polling thread ${corep}, both QEMU ${qp}, kernel irq+softirq ${irqp}, whole machine ${hp} (of 200);" \
		"foreign ${f} ($(foreign_top "$d/procs0" "$d/procs1" "$(awk -v a="$t0" -v b="$t1" 'BEGIN { print (b - a) / 1e9 }')")), steal ${st}"
	say "     per second (Mbit/s): $ivals"
	say "     guest offloads: vm1 tcp-segmentation-offload $tso1, vm2 rx-checksumming $csum2"
	say "     switch: $SUT_NOTE"
	echo -e "$r\t$cs\t$gb\t$sgb\t$rtx\t$p50\t$p99\t${loss:-?}\t$nrep\t$swp\t$corep\t$qp\t$irqp\t$hp\t$f\t$st\t$M_CLEAN" >>"$RES"
}

# ------------------------------------------------------------ checks
if [ $want_vtoed = 1 ]; then
	for c in "${CASE_LIST[@]}"; do
		case $c in vtoed-*) ;; *) continue ;; esac
		mkdir -p "$WORK/check"
		vtoed_yaml "$WORK/check" "${c#vtoed-}" >"$WORK/check/$c.yaml"
		if ! out=$("$WORK/vtoed.bin" --check-config "$WORK/check/$c.yaml" 2>&1); then
			skip_case "$c" "this vtoed does not accept lcores.poll: ${c#vtoed-} ($( { echo "$out" | grep -m1 -i poll || echo "$out" | head -1; } | sed 's/^[^ ]*:[0-9]*:[0-9]*: //'))"
		fi
	done
fi

# ------------------------------------------------------------ main
say "sched_bench: cases ${CASE_LIST[*]}, $ROUNDS rounds, iperf3 -t $SECS -O $OMIT -P $PAR, ping -i $PINGI, max-time ${MAX_TIME}s"
say "command: $0 $ARGS_SHOWN"
say "machine: $(nproc --all) CPUs, $(awk -F: '/model name/ {print $2; exit}' /proc/cpuinfo | sed 's/^ *//'), kernel $(uname -r), $(awk '/MemTotal/ {printf "%.0f GiB", $2/1048576}' /proc/meminfo)"
say "versions: qemu $(dpkg-query -W -f='${Version}' qemu-system-x86 2>/dev/null), iperf3 $(dpkg-query -W -f='${Version}' iperf3 2>/dev/null), dpdk $(dpkg-query -W -f='${Version}' libdpdk-dev 2>/dev/null), openvswitch-switch-dpdk $(dpkg-query -W -f='${Version}' openvswitch-switch-dpdk 2>/dev/null || echo -)"
say "guests: kernel $(basename "$GUEST_KBOOT"), ${GUEST_MEM} MiB, 1 vCPU each, -accel $GUEST_ACCEL, on CPUs $OTHER_CPUS; switch: main CPU $MAIN_CPU, polling core CPU $WORKER_CPU (shared with the guests)"
if [ $want_vtoed = 1 ]; then
	bo=$BUILD/meson-info/intro-buildoptions.json
	say "vtoed: $VTOED_SRC ($(stat -c %y "$VTOED_SRC" | cut -d. -f1), sha256 $(sha256sum "$WORK/vtoed.bin" | cut -c1-16), repo HEAD now $(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null)$(git -C "$ROOT" diff --quiet HEAD -- src apps 2>/dev/null || echo '+uncommitted')$( [ -f "$bo" ] && python3 -c 'import json,sys; o={x["name"]: x["value"] for x in json.load(open(sys.argv[1]))}; print(", buildtype=%s optimization=%s b_ndebug=%s" % (o.get("buildtype"), o.get("optimization"), o.get("b_ndebug")))' "$bo" 2>/dev/null)), run from a copy"
fi
echo "  guests (QEMU: tests/integration/lib/guest.sh guest_start, -smp 1 -m $GUEST_MEM, memfd shared memory, virtio-net-pci vectors=0):"
echo "    vm2: e2e.ip=$NET.2 e2e.role=iperf3ping e2e.iperf=server   -> iperf3 -s -p 5201"
echo "    vm1: e2e.ip=$NET.1 e2e.peer=$NET.2 e2e.role=iperf3ping e2e.iperf=client -> iperf3 -c $NET.2 -p 5201 -J -t $SECS -O $OMIT -P $PAR,"
echo "         after ${OMIT}s beside it: ping -i $PINGI -w $SECS $NET.2"

MEAS=0
HARD_END=$((MAX_TIME + 60))
for ((r = 1; r <= ROUNDS; r++)); do
	for ((k = 0; k < NCASE; k++)); do
		if [ $((r % 2)) = 1 ]; then cs=${CASE_LIST[$k]}; else cs=${CASE_LIST[$((NCASE - 1 - k))]}; fi
		if [ -n "${CASE_SKIP[$cs]:-}" ]; then
			skip_row "$r" "$cs"
			continue
		fi
		for try in 0 1; do
			if [ $(( $(elapsed) + EST )) -gt "$HARD_END" ]; then
				say "round $r $cs: skipped (time bound: ${HARD_END}s)"
				skip_row "$r" "$cs"
				break
			fi
			MEAS=$((MEAS + 1))
			say "round $r/$ROUNDS case $cs (measurement $MEAS$([ $try = 1 ] && echo ', retry'), t=$(elapsed)s)"
			measure "$cs" "$r"
			if [ $try = 1 ]; then
				# keep whichever of the two windows had less foreign CPU
				last=$(tail -1 "$RES")
				if [ "$(cut -f17 <<<"$last")" = failed ] ||
					awk -v a="$(cut -f15 <<<"$last")" -v b="$(cut -f15 <<<"$FIRST")" 'BEGIN { exit !(a > b) }'; then
					sed -i '$d' "$RES"; echo "$FIRST" >>"$RES"
					say "  keeping the first window (less foreign CPU)"
				fi
			elif [ "$M_CLEAN" = polluted ] && [ $(( $(elapsed) + 2 * EST )) -le "$MAX_TIME" ]; then
				say "  window polluted (other processes, or an iperf3 retry); measuring again"
				FIRST=$(tail -1 "$RES")
				sed -i '$d' "$RES"
				continue
			fi
			break
		done
	done
done

# ------------------------------------------------------------ summary
median() { sort -g | awk '{ a[NR] = $1 } END { if (NR == 0) { print "nan"; exit }
	printf "%.4f\n", (NR % 2) ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2 }'; }
# col_median CASE COLUMN -> "MEDIAN MARK": over the clean rounds, else over
# the polluted ones (MARK '*'; else '-')
col_median() {
	local m
	m=$(awk -F'\t' -v c="$1" -v k="$2" '$2 == c && $17 == "clean" && $k ~ /^[0-9.]+$/ { print $k }' "$RES" | median)
	if [ "$m" = nan ]; then
		m=$(awk -F'\t' -v c="$1" -v k="$2" '$2 == c && $17 == "polluted" && $k ~ /^[0-9.]+$/ { print $k }' "$RES" | median)
		[ "$m" = nan ] || { echo "$m *"; return; }
	fi
	echo "$m -"
}
declare -A MED P99
fmt() { awk -v v="$1" -v d="$2" 'BEGIN { if (v == "nan") print "n/a"; else printf "%." d "f", v }'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (a != "nan" && b != "nan" && b > 0) printf "%.2fx", a / b; else print "n/a" }'; }
paired() {  # A B [COLUMN]: per-round ratios, '*' when either window was polluted
	awk -F'\t' -v a="$1" -v b="$2" -v k="${3:-3}" '$3 != "FAIL" && $3 != "SKIP" && $k ~ /^[0-9.]+$/ {
			if ($2 == a) { x[$1] = $k; px[$1] = ($17 == "polluted") }
			if ($2 == b) { y[$1] = $k; py[$1] = ($17 == "polluted") } }
		END { for (r = 1; r <= 1000; r++) if ((r in x) && (r in y) && y[r] > 0) {
			printf "%sr%d %.2fx%s", s, r, x[r] / y[r], (px[r] || py[r]) ? "*" : ""; s = ", " } }' "$RES"
}
label() {
	case $1 in
	ovs-sleep*) echo "$1 (pmd-maxsleep=$(maxsleep_of "$1"))" ;;
	*) echo "$1" ;;
	esac
}
summary() {
	local cs m mk
	echo
	echo "## sched_bench results ($(date -u +%Y-%m-%dT%H:%MZ); guests and switch share CPUs 0-1; iperf3 -t $SECS -O $OMIT -P $PAR, ping -i $PINGI beside it; $ROUNDS rounds; medians)"
	echo
	echo "| case | throughput Gbit/s | per round | ping p50 ms | ping p99 ms | ping loss % | switch process % | polling thread % | QEMU (both) % | kernel irq+softirq % | machine busy % |"
	echo "|---|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|"
	for cs in "${CASE_LIST[@]}"; do
		if [ -n "${CASE_SKIP[$cs]:-}" ]; then
			echo "| $(label "$cs") | SKIPPED: ${CASE_SKIP[$cs]} | | | | | | | | | |"
			MED[$cs]=nan P99[$cs]=nan
			continue
		fi
		local row
		row="| $(label "$cs") |"
		read -r m mk <<<"$(col_median "$cs" 3)"; MED[$cs]=$m; mk=${mk#-}
		row="$row **$(fmt "${MED[$cs]}" 3)**$mk | $(awk -F'\t' -v c="$cs" '$2 == c { printf "%s%s%s", s, ($3 == "FAIL" || $3 == "SKIP") ? $3 : sprintf("%.3f", $3), ($17 == "polluted" ? "*" : ""); s = " " }' "$RES") |"
		for k in 6 7 8 10 11 12 13 14; do
			read -r m mk <<<"$(col_median "$cs" $k)"; mk=${mk#-}
			[ $k = 7 ] && P99[$cs]=$m
			case $k in 6 | 7) m=$(fmt "$m" 3) ;; *) m=$(fmt "$m" 1) ;; esac
			[ "$m" = n/a ] && [ $k -ge 10 ] && [ $k -le 11 ] && m=-
			row="$row $m |"
		done
		echo "$row"
	done
	echo
	echo "(* = every window of that case was polluted (its medians are of those): other processes used more than ${FOREIGN_MAX}% of a CPU;"
	echo "CPU columns are % of one CPU over the ${SECS} s ping window, from /proc (the machine has 200): switch process ="
	echo "vtoed or ovs-vswitchd, all threads; polling thread = vtoed's worker / OVS's PMD; QEMU = both guests' processes"
	echo "(vCPU + device emulation; for emul also the bridge work done in their syscalls); kernel irq+softirq = time charged"
	echo "to no process (for emul, part of the bridge's work); machine busy = all CPUs' busy time)"
	echo
	echo "Ratios of the medians, throughput (per round in parentheses; ping p99 alongside):"
	local t rr
	for t in "vtoed-adaptive vtoed-busy" "vtoed-adaptive ovs-sleep" "vtoed-interrupt vtoed-busy" "vtoed-busy emul" "vtoed-adaptive emul" \
		"ovs-sleep ovs-sleep0" "vtoed-interrupt ovs-sleep"; do
		set -- $t
		[ -n "${MED[$1]:-}" ] && [ -n "${MED[$2]:-}" ] || continue
		if [ -n "${CASE_SKIP[$1]:-}${CASE_SKIP[$2]:-}" ]; then
			echo "- $1 / $2: not measured ($([ -n "${CASE_SKIP[$1]:-}" ] && echo "$1" || echo "$2") SKIPPED)"
			continue
		fi
		rr=$(ratio "${MED[$1]}" "${MED[$2]}")
		echo "- $1 / $2: **$rr** ($(paired "$1" "$2")); ping p99 $(fmt "${P99[$1]}" 3) vs $(fmt "${P99[$2]}" 3) ms"
	done
	if [ ${#SKIPPED[@]} -gt 0 ]; then
		echo
		for t in "${SKIPPED[@]}"; do echo "SKIPPED (not measured): $t"; done
	fi
}
summary | tee "$WORK/summary.md"
[ -n "$RESULTS_FILE" ] && cp "$WORK/summary.md" "$RESULTS_FILE"
echo
say "raw results (round case Gbit/s_received Gbit/s_sent retransmits p50_ms p99_ms loss% replies switch% core% qemu% irq+softirq% machine% foreign% steal% clean): $RES"
sed 's/^/    /' "$RES"
say "total time: $(elapsed) s (plus $(( START_TS - T_START )) s of preparation)"
[ "${VTOE_KEEP:-0}" = 1 ] && say "logs, consoles, iperf3 JSON, RTTs and switch stats kept in $WORK"
grep -qP '\tfailed$' "$RES" && exit 1
exit 0
