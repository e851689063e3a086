# SPDX-License-Identifier: BSD-3-Clause
# common.sh - shared helpers of the integration tests (sourced, bash only).
#
# Gives every test: a scratch directory, a list of the processes it started
# (all killed by pid on exit), PASS/FAIL/SKIP lines with counters, the CPU
# split of a 2-CPU box (vtoed's worker gets the last CPU, everything else
# the others), and helpers to start/stop vtoed and talk to it.
#
# Settings (env): VTOE_BUILD (build dir, default <repo>/build),
# VTOE_KEEP=1 (keep the scratch dir), VTOE_VERBOSE=1 (dump logs on failure).

set -u -o pipefail

VTOE_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../../.." && pwd)
VTOE_BUILD=${VTOE_BUILD:-$VTOE_ROOT/build}
VTOED=${VTOED:-$VTOE_BUILD/apps/vtoed/vtoed}
VTOECTL=${VTOECTL:-$VTOE_BUILD/apps/vtoectl/vtoectl}
VTOE_INJECT=${VTOE_INJECT:-$VTOE_BUILD/tests/tools/vtoe-inject}
T_NAME=$(basename "$0" .sh)${T_SUFFIX:-}

T_PASS=0 T_FAIL=0 T_SKIP=0
T_PIDS=()
T_START=$(date +%s)

log()  { echo "[$T_NAME $(date +%T)] $*" >&2; }
pass() { echo "PASS: $T_NAME: $*"; T_PASS=$((T_PASS + 1)); }
fail() { echo "FAIL: $T_NAME: $*"; T_FAIL=$((T_FAIL + 1)); }
# check DESCRIPTION COMMAND...: PASS or FAIL depending on the command.
check() { local d=$1; shift; if "$@"; then pass "$d"; else fail "$d"; fi; }
# A test that cannot run says so loudly and exits 77 (meson's "skip").
skip_all() {
	echo "SKIP: $T_NAME: $*"
	echo "SKIP: $T_NAME: ******** THIS TEST DID NOT RUN ********"
	T_SKIP=$((T_SKIP + 1)); exit 77
}
# A broken precondition (not a product failure): FAIL and stop.
die() { fail "$*"; exit 1; }

# Scratch dir: short path, sun_path is only 108 bytes.
WORK=$(mktemp -d "/tmp/vtoe-$T_NAME.XXXXXX")

# Track a background process started by the test.
track() { T_PIDS+=("$1"); }
dpdk_prefix() { echo "vtoe-$1-$$"; }  # TAG -> a unique --file-prefix, removed on exit

# ours PID: still our child or grandchild (a tracked pid that already exited
# may have been reused by someone else's process: never signal that one).
ours() {
	local pp st
	read -r pp st < <(ps -o ppid=,stat= -p "$1" 2>/dev/null) || return 1
	case $st in Z*) return 1 ;; esac                        # exited, not reaped
	[ "$pp" = $$ ] || [ "$(ps -o ppid= -p "$pp" 2>/dev/null | tr -d ' ')" = $$ ]
}
t_cleanup() {
	local p rc=$?
	for p in "${T_PIDS[@]}"; do ours "$p" && kill -TERM "$p" 2>/dev/null; done
	for p in "${T_PIDS[@]}"; do
		# give each 5 s, then SIGKILL
		local n=50
		while ours "$p" && [ $n -gt 0 ]; do sleep 0.1; n=$((n - 1)); done
		ours "$p" && kill -KILL "$p" 2>/dev/null
		wait "$p" 2>/dev/null                           # reaps our children only
	done
	# every --file-prefix from dpdk_prefix ends in -$$
	rm -rf /var/run/dpdk/vtoe-*-$$
	rm -f /dev/hugepages/vtoe-*-$$map_* 2>/dev/null
	if [ "${VTOE_KEEP:-0}" = 1 ] || [ "$T_FAIL" -gt 0 ]; then
		log "logs kept in $WORK"
	else
		rm -rf "$WORK"
	fi
	return $rc
}
trap t_cleanup EXIT
trap 'fail "interrupted"; exit 1' INT TERM

# Print the summary line and exit: 0 all passed, 1 a failure, 77 skipped.
t_finish() {
	local secs=$(( $(date +%s) - T_START ))
	echo "$T_NAME: $T_PASS passed, $T_FAIL failed$([ $T_SKIP -gt 0 ] && echo ", $T_SKIP skipped") (${secs}s)"
	[ "$T_FAIL" -eq 0 ] || exit 1
	[ "$T_PASS" -gt 0 ] || exit 77
	exit 0
}

# wait_for SECONDS COMMAND...: poll every 0.1 s until the command succeeds.
wait_for() {
	local n=$(( $1 * 10 )); shift
	while [ $n -gt 0 ]; do
		"$@" && return 0
		sleep 0.1; n=$((n - 1))
	done
	return 1
}

# ------------------------------------------------------------------ CPUs
# The busy-polling worker gets the last CPU; QEMU, testpmd and the tests
# share the others.  (need_root skips the tests on a 1-CPU machine.)
NCPU=$(nproc)
if [ "$NCPU" -ge 2 ]; then
	WORKER_CPU=$((NCPU - 1)); OTHER_CPUS=0-$((NCPU - 2))
else
	WORKER_CPU=0; OTHER_CPUS=0
fi
MAIN_CPU=${OTHER_CPUS%%-*}

need_root() {
	[ "$(id -u)" = 0 ] || skip_all "must run as root (hugepages, vhost sockets)"
	[ "$NCPU" -ge 2 ] || skip_all "needs 2 CPUs (vtoed's worker busy-polls one of its own); this machine has $NCPU"
}

need_binaries() {  # $@ paths
	local f
	for f in "$@"; do
		[ -x "$f" ] || die "missing $f (build first: scripts/setup.sh)"
	done
}

# Hugepages: CI runs as root, so reserve them rather than skip.
need_hugepages() {  # $1 minimum free 2 MiB pages
	local want=${1:-256} free
	mkdir -p /dev/hugepages
	mountpoint -q /dev/hugepages || mount -t hugetlbfs nodev /dev/hugepages 2>/dev/null
	free=$(awk '/HugePages_Free/{print $2}' /proc/meminfo)
	if [ "${free:-0}" -lt "$want" ]; then
		local total; total=$(cat /proc/sys/vm/nr_hugepages)
		echo $(( total + want - free )) > /proc/sys/vm/nr_hugepages 2>/dev/null
		free=$(awk '/HugePages_Free/{print $2}' /proc/meminfo)
	fi
	mountpoint -q /dev/hugepages && [ "${free:-0}" -ge "$want" ] ||
		skip_all "cannot get $want free 2 MiB hugepages at /dev/hugepages (free: ${free:-0})"
}

# ------------------------------------------------------------------ vtoed
CTL_SOCK=$WORK/ctl.sock

# write_config FILE MODE(server|client) [EXTRA_YAML]: two VMs, one port each,
# sockets in $WORK; lcores: main on MAIN_CPU, the worker on WORKER_CPU.
VM1_SOCK=$WORK/vm1.0.sock VM2_SOCK=$WORK/vm2.0.sock
VM1_MAC=52:54:00:00:01:01 VM2_MAC=52:54:00:00:02:01
# config_head [CTL_SOCKET [PREFIX_TAG [WORKER]]]: the sections every test
# config starts with (main lcore on MAIN_CPU, one worker, default $CTL_SOCK,
# a unique EAL file prefix tagged PREFIX_TAG, default "vtoed").
config_head() {
	local ctl=${1:-$CTL_SOCK} tag=${2:-vtoed} worker=${3:-$WORKER_CPU}
	cat <<EOF
# generated by $T_NAME
lcores: {main: $MAIN_CPU, workers: [$worker]}
memory: {hugepages: auto, mbufs: 16384}
control: {socket: $ctl, mode: "0660"}
eal: {file_prefix: $(dpdk_prefix "$tag")}
EOF
}
write_config() {
	local file=$1 mode=$2
	config_head >"$file"
	cat >>"$file" <<EOF
vms:
  - name: vm1
    ports:
      - {name: vm1.0, socket: $VM1_SOCK, mode: $mode, mac: "$VM1_MAC", queues: 1}
  - name: vm2
    ports:
      - {name: vm2.0, socket: $VM2_SOCK, mode: $mode, mac: "$VM2_MAC", queues: 1}
EOF
}

# vtoed_start CONFIG LOG [SECONDS]: start in the background under `timeout`,
# wait until the control socket answers.  VTOED_PID is vtoed itself (so that
# signals reach it, not timeout), VTOED_TPID its timeout wrapper.
vtoed_start() {
	local conf=$1 out=$2 secs=${3:-600}
	timeout -k 5 "$secs" "$VTOED" --config "$conf" </dev/null >>"$out" 2>&1 &
	VTOED_TPID=$!; track "$VTOED_TPID"
	VTOED_PID=
	wait_for 5 vtoed_child || { log "vtoed exited at once:"; tail -20 "$out" >&2; return 1; }
	track "$VTOED_PID"
	if ! wait_for 30 vtoed_ready; then
		log "vtoed did not come up; last lines of $out:"; tail -20 "$out" >&2
		return 1
	fi
}
vtoed_child() { VTOED_PID=$(pgrep -P "$VTOED_TPID" | head -1); [ -n "$VTOED_PID" ]; }
vtoed_ready() { kill -0 "$VTOED_PID" 2>/dev/null && "$VTOECTL" --socket "$CTL_SOCK" version >/dev/null 2>&1; }

# vtoed_stop [SIGNAL]: signal vtoed, wait up to 15 s; returns its exit code
# (128+N: killed by signal N; 137 = it had to be SIGKILLed).
vtoed_stop() {
	local sig=${1:-TERM} n=150 rc
	[ -n "${VTOED_PID:-}" ] || return 1
	kill -"$sig" "$VTOED_PID" 2>/dev/null
	while kill -0 "$VTOED_PID" 2>/dev/null && [ $n -gt 0 ]; do sleep 0.1; n=$((n - 1)); done
	if kill -0 "$VTOED_PID" 2>/dev/null; then
		log "vtoed ignored SIG$sig for 15 s; killing it"
		kill -KILL "$VTOED_PID"
	fi
	wait "$VTOED_TPID" 2>/dev/null; rc=$?
	return $rc
}

ctl() { timeout 10 "$VTOECTL" --socket "$CTL_SOCK" "$@"; }
# capture_running: a packet capture of the vtoed at $CTL_SOCK is running
capture_running() { [ "$(ctl --json capture --list | jq '[.[] | select(.done == false)] | length')" -gt 0 ]; }
# inject_pair OUT ARGS...: vtoe-inject as both guests (port 0 on vm1.0,
# port 1 on vm2.0), its report in OUT (stderr in OUT.err)
inject_pair() {
	local out=$1; shift
	timeout 90 taskset -c "$OTHER_CPUS" "$VTOE_INJECT" -l "$MAIN_CPU" --no-pci --no-huge -m 128 \
		--file-prefix="$(dpdk_prefix "inject$RANDOM")" \
		--vdev "net_virtio_user0,path=$VM1_SOCK,mac=$VM1_MAC,queue_size=1024" \
		--vdev "net_virtio_user1,path=$VM2_SOCK,mac=$VM2_MAC,queue_size=1024" -- "$@" \
		>"$out" 2>"$out.err"
}
# fact WHAT PORT FILE: one fact of vtoe-inject's report ("rx 1 N" -> N)
fact() { sed -n "s/^$1 $2 //p" "$3" | head -1; }
# stat_of JSON PORT FIELD: one counter of one port from `vtoectl --json stats`.
stat_of() { jq -r --arg p "$2" ".result.ports[]? // .ports[]? | select(.name == \$p) | $3" <<<"$1" 2>/dev/null | head -1; }
# num VALUE: a counter, or -1000000 when it is not one (fails every check)
num() { [[ $1 =~ ^[0-9]+$ ]] && echo "$1" || echo -1000000; }
# check_books WHO STATS: a check that vtoed's books balance (totals.in_flight 0)
check_books() {
	local f; f=$(jq .totals.in_flight <<<"$2" 2>/dev/null)
	check "$1's books balance (in_flight $f)" test "$f" = 0
}
# off_drops STATS PORT: offload-related drops of a port (vtoed's and the TOE's)
off_drops() {
	stat_of "$1" "$2" '((.drops.offload_bad // 0) + (.drops.offload_egress // 0) + ([.offload.drops[]?] | add // 0))'
}
port_stat() { stat_of "$(ctl --json stats 2>/dev/null)" "$1" "$2"; }  # PORT FIELD
ports_up() {  # $@ port names
	local s p; s=$(ctl --json stats 2>/dev/null) || return 1
	for p in "$@"; do [ "$(stat_of "$s" "$p" .link)" = up ] || return 1; done
}

dump_log() {  # $1 file $2 lines
	[ -f "$1" ] || return 0
	echo "----- last ${2:-30} lines of $1" >&2
	tail -n "${2:-30}" "$1" >&2
}
