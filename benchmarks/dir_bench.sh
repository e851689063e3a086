#!/usr/bin/env bash
# dir_bench.sh - how fast the cluster directory converges: from a VM port
# being published in etcd by its host (A) to another host's (B) workers
# forwarding with a table that has it, with 10, 100 and 1000 VM ports, and
# what that costs etcd.
#
#   etcd      a real cluster of --members members on loopback (Debian's
#             etcd-server 3.4), data on disk under the work dir
#   host B    vtoed (lcores main 0, worker 1, poll adaptive: idle, it
#             sleeps), network blue
#             VNI 5001, overlay on a net_null uplink, its directory in that
#             etcd (all members as endpoints), dataplane log at debug level:
#             every rebuild of the workers' remote table is logged
#             ("overlay: remote table of H host(s), V VM port(s)"), and each
#             log line is timestamped as it is read (dir_bench.py tslog)
#   host A    simulated: dir_bench.py publish writes its ports into etcd
#             through the v3 JSON gateway, in vtoed's exact format
#             (src/cluster/cluster_codec.c: hosts/HOST, then
#             ports/VNI/MAC/HOST = {"host","vtep","vni","mac","port","ips"}
#             under one lease), up to --concurrency puts in flight (vtoed's
#             own publisher keeps 8, CL_WINDOW), recording each put's start
#             and end (CLOCK_REALTIME) and revision. It talks to member 2,
#             B to member 1.
#   CPUs      B's worker alone on CPU 1; B's main thread and its log
#             reader on CPU 0 (nice 0), with etcd, host A and this script
#             (nice 19: they yield to B)
#
# Per round and per N (the order of the N rotates from round to round):
#   burst     N ports of a new host published at once (a host whose N VMs
#             start together)
#   singles   with those N in the directory, --singles more ports one at a
#             time, --single-interval s apart (one VM starting on a busy
#             cluster)
#   withdraw  the host's lease revoked (it stopped cleanly): until B's
#             workers' table has none of its ports
# For each port:
#   learned   B's `vtoectl --json cluster` remotes[].learned (CLOCK_REALTIME,
#             whole ms) minus the put's start: when B applied the watch event
#   workers   the timestamp of B's first table rebuild that holds the port
#             (the k-th port by revision is in every table of >= k ports)
#             minus the put's start: when B's workers had it (the rebuild
#             is logged after the snapshot is published and a grace period
#             has passed)
# and etcd's load during the burst: CPU seconds of all members
# (process_cpu_seconds_total), gRPC messages received per method (the JSON
# gateway's requests included), watch messages sent, proposals committed,
# WAL fsyncs; B's main thread's CPU time and its own requests.
#
# Usage: benchmarks/dir_bench.sh [options]      (root: hugepages for vtoed)
#   --build DIR         build dir with apps/vtoed/vtoed and apps/vtoectl/vtoectl
#                       (default /tmp/build-vx, then /tmp/build-rel, /tmp/build-bench)
#   --sizes LIST        ports per burst (default 10,100,1000)
#   --rounds N          rounds (default 5)
#   --members N         etcd members (default 3)
#   --concurrency N     puts in flight (default 8)
#   --singles N         single ports after the burst (default 20)
#   --single-interval S seconds between them (default 0.1)
#   --foreign-max P     max foreign CPU% (of one CPU) during a burst (default 10)
#   --quiet-wait S      wait up to S s for an idle machine before each round (default 30)
#   --max-time S        no new round after S s (default 300)
#   --hugepages N       2 MiB hugepages to reserve if fewer (default 2048)
#   --workdir DIR       default: mktemp -d /tmp/dirb.XXXXXX
#   --keep              keep the work dir (logs, every put, B's tables)
#   --results FILE      also write the summary (markdown) to FILE
#   -h|--help
set -uo pipefail

BUILD=""
SIZES="10,100,1000"
ROUNDS=5
MEMBERS=3
CONC=8
SINGLES=20
SINGLE_IVL=0.1
FOREIGN_MAX=10
QUIET_WAIT=30
MAX_TIME=300
HUGEPAGES=2048
WORKDIR=""
KEEP=0
RESULTS_FILE=""
ARGS_SHOWN="$*"
ETCD=${ETCD:-/usr/bin/etcd}
ETCDCTL=${ETCDCTL:-/usr/bin/etcdctl}
VNI=5001

usage() { sed -n '2,/^set -uo/p' "$0" | sed '$d; s/^# \{0,1\}//'; }
while [ $# -gt 0 ]; do
    case "$1" in
    --build) BUILD=$2; shift 2 ;;
    --sizes) SIZES=$2; shift 2 ;;
    --rounds) ROUNDS=$2; shift 2 ;;
    --members) MEMBERS=$2; shift 2 ;;
    --concurrency) CONC=$2; shift 2 ;;
    --singles) SINGLES=$2; shift 2 ;;
    --single-interval) SINGLE_IVL=$2; shift 2 ;;
    --foreign-max) FOREIGN_MAX=$2; shift 2 ;;
    --quiet-wait) QUIET_WAIT=$2; shift 2 ;;
    --max-time) MAX_TIME=$2; shift 2 ;;
    --hugepages) HUGEPAGES=$2; shift 2 ;;
    --workdir) WORKDIR=$2; shift 2 ;;
    --keep) KEEP=1; shift ;;
    --results) RESULTS_FILE=$2; shift 2 ;;
    -h | --help) usage; exit 0 ;;
    *) echo "unknown option: $1 (see --help)" >&2; exit 2 ;;
    esac
done

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
source "$HERE/lib_bench.sh"   # log, warn, die, show_cmd, start_bg, wait_for, ...
HELPER=$HERE/dir_bench.py
# CPU layout: host B's worker alone on WORKER_CPU (a grace period waits
# for it: it must not be preempted, as on a host with its own cores);
# B's main thread and the reader of its log on B_CPU, where etcd, the
# simulated host A and this script run too, at nice 19, so that B is not
# held up by etcd's work (in a real cluster etcd runs elsewhere)
B_CPU=0
WORKER_CPU=1
ETCD_CPU=$B_CPU
ETCD_NICE=19

for v in ROUNDS MEMBERS CONC SINGLES QUIET_WAIT MAX_TIME HUGEPAGES; do
    [[ ${!v} =~ ^[0-9]+$ ]] || die "--${v,,} must be a whole number"
done
[ "$MEMBERS" -ge 2 ] || die "--members must be >= 2 (B and the simulated host talk to different members)"
[ "$(id -u)" = 0 ] || die "must run as root (hugepages)"
for c in jq python3 taskset; do command -v "$c" >/dev/null || die "$c not found"; done
[ -x "$ETCD" ] && [ -x "$ETCDCTL" ] || die "etcd missing (apt-get install etcd-server etcd-client)"
if [ -z "$BUILD" ]; then
    for c in /tmp/build-vx /tmp/build-rel /tmp/build-bench; do
        [ -x "$c/apps/vtoed/vtoed" ] && { BUILD=$c; break; }
    done
fi
[ -n "$BUILD" ] && [ -x "$BUILD/apps/vtoed/vtoed" ] && [ -x "$BUILD/apps/vtoectl/vtoectl" ] ||
    die "no vtoed build (give --build DIR)"
IFS=, read -r -a SIZE_LIST <<<"$SIZES"
for n in "${SIZE_LIST[@]}"; do [[ $n =~ ^[0-9]+$ ]] && [ "$n" -ge 1 ] && [ "$n" -le 60000 ] || die "bad size $n"; done

taskset -pc "$ETCD_CPU" $$ >/dev/null || die "cannot pin this script to CPU $ETCD_CPU"
renice -n "$ETCD_NICE" -p $$ >/dev/null || die "cannot renice this script"
[ -n "$WORKDIR" ] || WORKDIR=$(mktemp -d /tmp/dirb.XXXXXX)
mkdir -p "$WORKDIR" || die "cannot create $WORKDIR"
RUN_ID=$$
START_TS=$(date +%s)
ORIG_NR_HP=""
HP_SYSFS=/sys/kernel/mm/hugepages/hugepages-2048kB/nr_hugepages
MOUNTED_HUGETLBFS=""
PIDS=()
B_PID=""

cleanup() {
    local rc=$?
    trap - EXIT INT TERM
    local p
    for p in "${PIDS[@]}"; do kill_pid "$p" 5; done
    rm -rf /var/run/dpdk/dirb-*-"$RUN_ID" 2>/dev/null
    # hugepage files a DPDK process that was killed left behind (ours only,
    # by file prefix; every process of ours is gone by now)
    local mnt
    for mnt in $(awk '$3 == "hugetlbfs" { print $2 }' /proc/mounts); do
        rm -f "$mnt"/dirb-*-"$RUN_ID"map_* 2>/dev/null
    done
    if [ -n "$ORIG_NR_HP" ]; then
        echo "$ORIG_NR_HP" >"$HP_SYSFS" 2>/dev/null
        log "restored nr_hugepages to $ORIG_NR_HP"
    fi
    [ -n "$MOUNTED_HUGETLBFS" ] && umount "$MOUNTED_HUGETLBFS" 2>/dev/null
    if [ "$KEEP" = 1 ]; then log "logs kept in $WORKDIR"; else rm -rf "$WORKDIR"; fi
    log "total time: $(( $(date +%s) - START_TS )) s"
    exit $rc
}
trap cleanup EXIT
trap 'warn "interrupted"; exit 130' INT TERM
elapsed() { echo $(( $(date +%s) - START_TS )); }

# ---------------------------------------------------------------- etcd
ETCD_BASE=$((28000 + RUN_ID % 500 * 4))
url() { echo "http://127.0.0.1:$((ETCD_BASE + $1))"; }
peer() { echo "http://127.0.0.1:$((ETCD_BASE + 100 + $1))"; }
INITIAL="" EPS=() ETCD_PIDS=()
for i in $(seq 1 "$MEMBERS"); do
    INITIAL="$INITIAL${INITIAL:+,}m$i=$(peer "$i")"
    EPS+=("$(url "$i")")
done
etcd_start() {
    local i c
    for i in $(seq 1 "$MEMBERS"); do
        c=(taskset -c "$ETCD_CPU" "$ETCD" --name "m$i" --data-dir "$WORKDIR/etcd-$i"
            --listen-client-urls "$(url "$i")" --advertise-client-urls "$(url "$i")"
            --listen-peer-urls "$(peer "$i")" --initial-advertise-peer-urls "$(peer "$i")"
            --initial-cluster "$INITIAL" --initial-cluster-state new
            --initial-cluster-token "dirb-$RUN_ID" --logger zap --log-level error)
        [ "$i" = 1 ] && show_cmd "${c[@]}"
        start_bg "$WORKDIR/etcd-$i.log" $((MAX_TIME + 900)) "${c[@]}"
        ETCD_PIDS+=("$BG_PID")
    done
    [ "$MEMBERS" -gt 1 ] && echo "  (and members 2..$MEMBERS alike on the next ports)"
    wait_for 30 "etcd cluster" bash -c "ETCDCTL_API=3 timeout 5 '$ETCDCTL' --endpoints '$(IFS=,; echo "${EPS[*]}")' endpoint health >/dev/null 2>&1" ||
        die "etcd did not come up ($(tail -3 "$WORKDIR/etcd-1.log"))"
}
# etcd's processes (the daemons under the timeout wrappers): CPU ticks
etcd_ticks() {
    local p c s=0
    for p in "${ETCD_PIDS[@]}"; do
        for c in $(pgrep -P "$p"); do
            s=$((s + $(awk '{ i = index($0, ") "); split(substr($0, i + 2), f, " "); print f[12] + f[13] }' "/proc/$c/stat" 2>/dev/null || echo 0)))
        done
    done
    echo "$s"
}

# ---------------------------------------------------------------- host B
B=$WORKDIR/b
VPID=""
b_start() {
    mkdir -p "$B"
    local eps
    eps=$(printf '"%s", ' "${EPS[@]}"); eps=${eps%, }
    cat >"$B/b.yaml" <<EOF
lcores: {main: $B_CPU, workers: [$WORKER_CPU]}
memory: {hugepages: auto, mbufs: 4096}
control: {socket: $B/b.sock, mode: "0660"}
eal: {file_prefix: dirb-b-$RUN_ID, args: ["--log-level=vtoe.dataplane:debug"]}
uplinks: [{name: up0, device: "net_null0"}]
networks: [{name: blue, vni: $VNI}]
overlay: {local_ip: 192.0.2.2/24, uplink: up0}
cluster: {etcd: [$eps], host: host-b, ttl: 10s}
vms:
  - name: vmb
    ports: [{name: vmb.0, socket: $B/vmb.sock, mac: "52:54:00:0b:00:01", network: blue}]
EOF
    sed 's/^/    | /' "$B/b.yaml"
    cp "$BUILD/apps/vtoed/vtoed" "$WORKDIR/vtoed.bin"
    local c=(nice -n "-$ETCD_NICE" taskset -c "$B_CPU" python3 "$HELPER" tslog "$B/vtoed.log" --
        taskset -c "$B_CPU,$WORKER_CPU" "$WORKDIR/vtoed.bin" --config "$B/b.yaml")
    show_cmd "${c[@]}"
    start_bg "$B/tslog.out" $((MAX_TIME + 900)) "${c[@]}"
    B_PID=$BG_PID
    wait_for 60 "vtoed B's control socket" test -S "$B/b.sock" || die "vtoed B did not start ($(tail -5 "$B/vtoed.log"))"
    VPID=$(awk '/tslog: pid/ {print $4; exit}' "$B/vtoed.log")
    wait_for 30 "B watching the directory" b_watching || die "B is not in sync with etcd"
}
bctl() { timeout 10 "$BUILD/apps/vtoectl/vtoectl" --socket "$B/b.sock" --json "$@"; }
b_watching() {
    bctl cluster 2>/dev/null | jq -e '(.result // .) | .directory | .state == "watching" and .stale == false' >/dev/null
}
b_main_ticks() { awk '{ i = index($0, ") "); split(substr($0, i + 2), f, " "); print f[12] + f[13] }' "/proc/$VPID/task/$VPID/stat" 2>/dev/null || echo 0; }
# the VM ports in B's workers' table after the last rebuild logged
b_table_ports() { grep -a "overlay: remote table of" "$B/vtoed.log" | tail -1 | sed -n 's/.* host(s), \([0-9]*\) VM port.*/\1/p'; }
# table_at_least N / table_empty: B's last rebuild logged
table_at_least() { local v; v=$(b_table_ports); [ -n "$v" ] && [ "$v" -ge "$1" ]; }
table_empty() { [ "$(b_table_ports)" = 0 ]; }
b_counter() { bctl cluster 2>/dev/null | jq -r "(.result // .) | .directory.counters.$1"; }

# CPU ticks of this script's children that have ended (bash's `times`):
# cpu_snapshot counts the processes alive at its two snapshots, so the
# short-lived helpers of a window (the publisher, metrics scrapes) would
# look like someone else's
# (times runs in this shell, not in a $(...) subshell, which would report
# its own children: call it as "reaped_ticks VAR")
reaped_ticks() {
    times >"$WORKDIR/.times"
    printf -v "$1" '%s' "$(awk -v hz="$(getconf CLK_TCK)" 'NR == 2 { s = 0
        for (i = 1; i <= 2; i++) { split($i, a, "m"); sub("s", "", a[2]); s += a[1] * 60 + a[2] }
        printf "%d\n", s * hz }' "$WORKDIR/.times")"
}
# A burst makes the kernel work for etcd (WAL fsyncs on disk, loopback
# TCP): interrupts, softirqs and kernel threads are not counted as other
# people's load here.  user_snapshot: "BUSY KERNEL NS" (USER_HZ ticks):
# the machine's busy time, and what of it was interrupts, softirqs and
# kernel threads (children of kthreadd)
user_snapshot() {
    local u n sy irq sirq k
    read -r _ u n sy _ _ irq sirq _ </proc/stat
    k=$(cat /proc/[0-9]*/stat 2>/dev/null | awk '{ i = index($0, ") "); split(substr($0, i + 2), f, " ")
        if ($1 == 2 || f[2] == 2) s += f[12] + f[13] } END { print s + 0 }')
    echo "$((u + n + sy + irq + sirq)) $((irq + sirq + k)) $(date +%s%N)"
}
# foreign_pct_ours CPUSNAP0 CPUSNAP1 REAPED0 REAPED1 USERSNAP0 USERSNAP1 -> "FOREIGN% STEAL%":
# busy time that is neither ours (alive, or ended children) nor the kernel's
foreign_pct_ours() {
    local f st t0 t1 k0 k1
    read -r f st <<<"$(foreign_pct "$1" "$2")"
    t0=$(awk '{ print $4 }' <<<"$1"); t1=$(awk '{ print $4 }' <<<"$2")
    k0=$(awk '{ print $2 }' <<<"$5"); k1=$(awk '{ print $2 }' <<<"$6")
    awk -v f="$f" -v st="$st" -v d=$(($4 - $3 + k1 - k0)) -v ms=$(( (t1 - t0) / 1000000 )) -v hz="$(getconf CLK_TCK)" \
        'BEGIN { if (ms <= 0) ms = 1; f -= d / hz / (ms / 1000) * 100; if (f < 0) f = 0; printf "%.1f %s\n", f, st }'
}

# ---------------------------------------------------------------- one part
RES=$WORKDIR/results.tsv
: >"$RES"
HOSTNO=0
part() {  # part ROUND N
    local r=$1 n=$2 d h vtep macp lease t_rev t_gone m0 m1 e0 e1 b0 b1 s0 s1 k0 k1 u0 u1 f st q0 q1 w0 w1
    HOSTNO=$((HOSTNO + 1))
    d=$WORKDIR/r$r-n$n; mkdir -p "$d"
    h=sim-$r-$n
    vtep=10.99.$((HOSTNO / 250)).$((HOSTNO % 250 + 1))
    macp=$(printf '02:d1:%02x:%02x' "$r" "$HOSTNO")
    [ "$(b_table_ports)" = 0 ] || warn "B's table is not empty before the part ($(b_table_ports) ports)"
    m0=$(python3 "$HELPER" metrics "${EPS[@]}"); e0=$(etcd_ticks); b0=$(b_main_ticks)
    q0=$(b_counter requests); w0=$(b_counter watch_events)
    u0=$(user_snapshot); s0=$(cpu_snapshot); reaped_ticks k0
    python3 "$HELPER" publish --endpoint "${EPS[1]}" --host "$h" --vtep "$vtep" --vni "$VNI" --n "$n" \
        --mac-prefix "$macp" --concurrency "$CONC" --out "$d/burst.json" | sed 's/^/    /'
    wait_for 60 "B's workers with all $n ports" table_at_least "$n"
    s1=$(cpu_snapshot); reaped_ticks k1; u1=$(user_snapshot)
    sleep 0.3    # the last watch messages' CPU
    m1=$(python3 "$HELPER" metrics "${EPS[@]}"); e1=$(etcd_ticks); b1=$(b_main_ticks)
    q1=$(b_counter requests); w1=$(b_counter watch_events)
    read -r f st <<<"$(foreign_pct_ours "$s0" "$s1" "$k0" "$k1" "$u0" "$u1")"
    lease=$(jq -r .lease "$d/burst.json")
    # singles, the burst's ports still there
    python3 "$HELPER" publish --endpoint "${EPS[1]}" --host "$h" --vtep "$vtep" --vni "$VNI" --n "$SINGLES" \
        --first $((n + 1)) --lease "$lease" --mac-prefix "$macp" --interval "$SINGLE_IVL" --out "$d/singles.json" | sed 's/^/    /'
    wait_for 60 "B's workers with all $((n + SINGLES)) ports" table_at_least $((n + SINGLES))
    bctl cluster >"$d/cluster.json" 2>/dev/null
    python3 "$HELPER" analyze --puts "$d/burst.json" --cluster "$d/cluster.json" --log "$B/vtoed.log" --base 0 >"$d/burst.res" || warn "analyze failed"
    python3 "$HELPER" analyze --puts "$d/singles.json" --cluster "$d/cluster.json" --log "$B/vtoed.log" --base "$n" >"$d/singles.res" || warn "analyze failed"
    # withdraw: the lease revoked, until B's workers hold none of the host's ports
    read -r t_rev _ <<<"$(python3 "$HELPER" revoke "${EPS[1]}" "$lease")"
    wait_for 30 "B's table empty" table_empty
    t_gone=$(awk -v t="$t_rev" '/overlay: remote table of/ && $1 >= t && / 0 VM port/ { print $1; exit }' "$B/vtoed.log")
    local wd; wd=$(awk -v a="$t_rev" -v b="${t_gone:-}" 'BEGIN { if (b == "") print "-"; else printf "%.1f", (b - a) * 1000 }')
    # one row: what the analysis says, and the load of the burst
    jq -rn --slurpfile bu "$d/burst.res" --slurpfile si "$d/singles.res" --argjson m0 "$m0" --argjson m1 "$m1" \
        --arg r "$r" --arg n "$n" --arg f "$f" --arg wd "$wd" --arg e "$((e1 - e0))" --arg b "$((b1 - b0))" \
        --arg q "$((q1 - q0))" --arg w "$((w1 - w0))" --arg hz "$(getconf CLK_TCK)" '
        def d(k): (($m1.total[k] // 0) - ($m0.total[k] // 0));
        def f1: if . == null or (type == "number" and isnan) then "-" else (. * 10 | round / 10 | tostring) end;
        [$r, $n, ($bu[0].publish_ms | f1), ($bu[0].put_ms_p50 | f1), ($bu[0].put_ms_p99 | f1),
         ($bu[0].learned_ms_p50 | f1), ($bu[0].learned_ms_p99 | f1),
         ($bu[0].workers_ms_p50 | f1), ($bu[0].workers_ms_p99 | f1), ($bu[0].workers_ms_max | f1),
         ($bu[0].all_in_workers_ms | f1), ($bu[0].rebuilds | tostring),
         ($si[0].learned_ms_p50 | f1), ($si[0].learned_ms_p99 | f1), ($si[0].workers_ms_p50 | f1), ($si[0].workers_ms_p99 | f1),
         $wd, (($e | tonumber) / ($hz | tonumber) * 1000 | f1), (d("process_cpu_seconds_total") * 1000 | f1),
         (d("rx:Put") | tostring), (d("rx:LeaseGrant") + d("rx:LeaseKeepAlive") + d("rx:LeaseRevoke") | tostring),
         (d("rx:Range") | tostring), (d("tx:Watch") | tostring), (d("etcd_server_proposals_committed_total") | tostring),
         (d("etcd_disk_wal_fsync_duration_seconds_count") | tostring),
         (($b | tonumber) / ($hz | tonumber) * 1000 | f1), $q, $w, $f,
         ($bu[0].missing + $si[0].missing | tostring), ($bu[0].errors + $si[0].errors | tostring),
         ($bu[0].learned_after_ack_ms_p50 | f1)] | @tsv' >>"$RES"
    log "  => N=$n: $(tail -1 "$RES" | awk -F'\t' '{ printf "burst %s ms to publish; learned p50 %s p99 %s ms; workers p50 %s p99 %s max %s ms, all in %s ms (%s rebuilds); singles learned p50 %s workers p50 %s p99 %s ms; withdraw %s ms; etcd CPU %s ms (/proc) %s ms (metrics), puts %s, watch msgs %s, proposals %s, fsyncs %s; B main thread %s ms, %s requests, %s watch events; foreign CPU %s%%; missing %s, errors %s", $3, $6, $7, $8, $9, $10, $11, $12, $13, $15, $16, $17, $18, $19, $20, $23, $24, $25, $26, $27, $28, $29, $30, $31 }')"
}

# ---------------------------------------------------------------- main
log "dir_bench: sizes=${SIZE_LIST[*]} rounds=$ROUNDS members=$MEMBERS concurrency=$CONC singles=$SINGLES x ${SINGLE_IVL}s"
log "command: $0 $ARGS_SHOWN"
log "workdir $WORKDIR"
log "machine: $(nproc --all) CPUs, $(awk -F: '/model name/ {print $2; exit}' /proc/cpuinfo | sed 's/^ *//'), kernel $(uname -r); etcd $("$ETCD" --version 2>/dev/null | awk '/etcd Version/ {print $3}'), data on $(df --output=source "$WORKDIR" | tail -1)"
log "vtoed: $BUILD/apps/vtoed/vtoed ($(stat -c %y "$BUILD/apps/vtoed/vtoed" | cut -d. -f1), sha256 $(sha256sum "$BUILD/apps/vtoed/vtoed" | cut -c1-16)), run from a copy"
setup_hugepages
etcd_start
b_start
log "etcd members: ${EPS[*]}; B uses the first, the simulated hosts the second"
nsz=${#SIZE_LIST[@]}
for ((r = 1; r <= ROUNDS; r++)); do
    if [ "$(elapsed)" -ge "$MAX_TIME" ]; then
        warn "time bound (--max-time $MAX_TIME s): no more rounds"
        break
    fi
    wait_quiet
    for ((k = 0; k < nsz; k++)); do
        n=${SIZE_LIST[$(((k + r - 1) % nsz))]}
        log "round $r/$ROUNDS: N=$n (t=$(elapsed)s)"
        part "$r" "$n"
    done
done

# ---------------------------------------------------------------- summary
# results.tsv: 1 round, 2 N, 3 publish ms, 4-5 put p50/p99, 6-7 learned
# p50/p99, 8-10 workers p50/p99/max, 11 all in workers ms, 12 rebuilds,
# 13-14 singles learned p50/p99, 15-16 singles workers p50/p99, 17 withdraw
# ms, 18 etcd CPU ms (/proc), 19 etcd CPU ms (metrics), 20 puts, 21 lease
# msgs, 22 ranges, 23 watch msgs sent, 24 proposals, 25 fsyncs, 26 B main
# ms, 27 B requests, 28 B watch events, 29 foreign%, 30 missing, 31 errors,
# 32 learned after the put's answer p50
med() {  # N COL [DECIMALS]
    awk -F'\t' -v n="$1" -v c="$2" '$2 == n && $c ~ /^-?[0-9.]+$/ { print $c }' "$RES" | median |
        awk -v d="${3:-1}" '{ if ($1 == "nan") print "-"; else printf "%.*f\n", d, $1 }'
}
all() { awk -F'\t' -v n="$1" -v c="$2" -v fm="$FOREIGN_MAX" '$2 == n { printf "%s%s%s", s, $c, ($29 + 0 > fm ? "*" : ""); s = " " }' "$RES"; }
summary() {
    local n
    echo
    echo "## dir_bench results ($(date -u +%Y-%m-%dT%H:%MZ); $MEMBERS etcd members; $(awk -F'\t' 'END { print NR }' "$RES") bursts; medians of the rounds, ms)"
    echo
    echo "| VM ports | burst published in | put p50 / p99 | learned p50 / p99 (p50 after the put's answer) | **workers p50 / p99** (max) | all in workers | table rebuilds | singles learned p50 / p99 | **singles workers p50 / p99** | withdraw (lease revoked -> none in workers) |"
    echo "|---:|---:|---|---|---|---:|---:|---|---|---:|"
    for n in "${SIZE_LIST[@]}"; do
        echo "| $n | $(med "$n" 3 0) | $(med "$n" 4) / $(med "$n" 5) | $(med "$n" 6) / $(med "$n" 7) ($(med "$n" 32)) | **$(med "$n" 8) / $(med "$n" 9)** ($(med "$n" 10)) |" \
            "$(med "$n" 11 0) | $(med "$n" 12 0) | $(med "$n" 13) / $(med "$n" 14) | **$(med "$n" 15) / $(med "$n" 16)** | $(med "$n" 17) |"
    done
    echo
    echo "Per round, workers p99 of the burst (ms): $(for n in "${SIZE_LIST[@]}"; do printf 'N=%s: %s; ' "$n" "$(all "$n" 9)"; done)"
    echo
    echo "etcd's load during a burst (all members; medians):"
    echo
    echo "| VM ports | etcd CPU ms (/proc) | etcd CPU ms (its metrics) | Put requests | lease requests | Range | watch messages sent | proposals committed | WAL fsyncs | B main thread CPU ms | B's requests | B's watch events |"
    echo "|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"
    for n in "${SIZE_LIST[@]}"; do
        echo "| $n | $(med "$n" 18 0) | $(med "$n" 19 0) | $(med "$n" 20 0) | $(med "$n" 21 0) | $(med "$n" 22 0) | $(med "$n" 23 0) | $(med "$n" 24 0) | $(med "$n" 25 0) | $(med "$n" 26 0) | $(med "$n" 27 0) | $(med "$n" 28 0) |"
    done
    echo
    echo "(* = other people's processes used more than ${FOREIGN_MAX}% of a CPU during that burst (the kernel's work is not"
    echo "counted: etcd's fsyncs and loopback TCP make plenty); learned has whole-ms resolution;"
    echo "\"put\" is etcd's own latency for one put as the simulated host saw it; missing ports (never seen by B): $(awk -F'\t' '{ s += $30 } END { print s + 0 }' "$RES"), put errors: $(awk -F'\t' '{ s += $31 } END { print s + 0 }' "$RES"))"
}
summary | tee "$WORKDIR/summary.md"
[ -n "$RESULTS_FILE" ] && cp "$WORKDIR/summary.md" "$RESULTS_FILE"
echo
log "raw results: $RES"
sed 's/^/    /' "$RES"
exit 0
