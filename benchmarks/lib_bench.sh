# SPDX-License-Identifier: BSD-3-Clause
# lib_bench.sh - what fwd_bench.sh and tso_bench.sh share (sourced): logging,
# exact command lines, background processes with a time bound (PIDS,
# BG_PID), waiting, the quiet-machine wait (FOREIGN_MAX, QUIET_WAIT; via
# lib_cpu.sh), hugepages (HUGEPAGES, HP_SYSFS; sets ORIG_NR_HP and
# MOUNTED_HUGETLBFS for the caller's cleanup), vtoed's control socket, and
# the median.  The variables named are the caller's.

source "$(dirname "${BASH_SOURCE[0]}")/lib_cpu.sh"

log() { printf '[%s] %s\n' "$(date +%T)" "$*"; }
warn() { printf '[%s] WARNING: %s\n' "$(date +%T)" "$*" >&2; }
die() { printf '[%s] ERROR: %s\n' "$(date +%T)" "$*" >&2; exit 1; }
# print an exact, copy-pasteable command line (the timeout(1) wrapper that
# bounds each process is left out)
show_cmd() { printf '  $'; printf ' %q' "$@"; printf '\n'; }

kill_pid() { # kill_pid PID [grace_seconds]: TERM, wait, KILL
    local pid=$1 grace=${2:-10} i
    kill -0 "$pid" 2>/dev/null || { wait "$pid" 2>/dev/null; return 0; }
    kill -TERM "$pid" 2>/dev/null
    for ((i = 0; i < grace * 10; i++)); do
        kill -0 "$pid" 2>/dev/null || break
        sleep 0.1
    done
    if kill -0 "$pid" 2>/dev/null; then
        # timeout(1) forwards TERM to its child; KILL the child too
        pkill -KILL -P "$pid" 2>/dev/null
        kill -KILL "$pid" 2>/dev/null
    fi
    wait "$pid" 2>/dev/null
    return 0
}

start_bg() { # start_bg LOGFILE TIMEOUT CMD...  -> sets BG_PID
    local logf=$1 to=$2; shift 2
    timeout --kill-after=5 "$to" "$@" >"$logf" 2>&1 &
    BG_PID=$!
    PIDS+=("$BG_PID")
}
forget_pid() { local p out=(); for p in "${PIDS[@]}"; do [ "$p" = "$1" ] || out+=("$p"); done; PIDS=("${out[@]}"); }

wait_for() { # wait_for TIMEOUT_S DESCRIPTION TEST_CMD...
    local to=$1 what=$2 i; shift 2
    for ((i = 0; i < to * 10; i++)); do
        "$@" && return 0
        sleep 0.1
    done
    warn "timed out after ${to}s waiting for $what"
    return 1
}

wait_quiet() {
    local t0 s0 s1 f st
    t0=$(date +%s)
    while :; do
        s0=$(cpu_snapshot); sleep 1; s1=$(cpu_snapshot)
        read -r f st <<<"$(foreign_pct "$s0" "$s1")"
        awk -v f="$f" -v m="$FOREIGN_MAX" 'BEGIN { exit !(f <= m) }' && return 0
        if [ $(( $(date +%s) - t0 )) -ge "$QUIET_WAIT" ]; then
            warn "machine not idle (foreign CPU ${f}%) after ${QUIET_WAIT}s; measuring anyway"
            return 1
        fi
        [ $(( ($(date +%s) - t0) % 10 )) -lt 1 ] && log "  waiting for foreign CPU load (${f}%) to go away..."
    done
}

setup_hugepages() {
    local total
    total=$(awk '/^HugePages_Total/ {print $2}' /proc/meminfo)
    if [ "${total:-0}" -lt "$HUGEPAGES" ] && [ -w "$HP_SYSFS" ]; then
        ORIG_NR_HP=$(cat "$HP_SYSFS")
        log "reserving $HUGEPAGES x 2 MiB hugepages (had $ORIG_NR_HP)"
        show_cmd sh -c "echo $HUGEPAGES > $HP_SYSFS"
        echo "$HUGEPAGES" >"$HP_SYSFS"
    fi
    if ! grep -q hugetlbfs /proc/mounts; then
        mkdir -p /dev/hugepages
        show_cmd mount -t hugetlbfs nodev /dev/hugepages
        mount -t hugetlbfs nodev /dev/hugepages || die "cannot mount hugetlbfs"
        MOUNTED_HUGETLBFS=/dev/hugepages
    fi
    local free
    free=$(awk '/^HugePages_Free/ {print $2}' /proc/meminfo)
    log "hugepages: total $(awk '/^HugePages_Total/ {print $2}' /proc/meminfo), free $free (2 MiB)"
    [ "${free:-0}" -ge 1024 ] || warn "fewer than 1024 free hugepages; DPDK processes may fail"
}

vtoed_q() {  # vtoed_q SOCK CMD -> the JSON result on stdout
    python3 - "$1" "$2" <<'PY'
import json, socket, sys
s = socket.socket(socket.AF_UNIX)
s.settimeout(5)
s.connect(sys.argv[1])
s.sendall((json.dumps({"cmd": sys.argv[2]}) + "\n").encode())
buf = b""
while not buf.endswith(b"\n"):
    chunk = s.recv(65536)
    if not chunk:
        break
    buf += chunk
print(json.dumps(json.loads(buf)["result"]))
PY
}

median() { sort -g | awk '{ a[NR] = $1 } END { if (NR == 0) { print "nan"; exit }
    printf "%.3f\n", (NR % 2) ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2 }'; }
