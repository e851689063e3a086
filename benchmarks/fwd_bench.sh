#!/usr/bin/env bash
# fwd_bench.sh - port-to-port forwarding benchmark between two vhost-user ports
# with ONE forwarding core, comparing:
#
#   vtoed    our daemon                      (vtoed --config FILE)
#   testpmd  dpdk-testpmd --forward-mode=io  (two net_vhost ports)
#   ovs      Open vSwitch with DPDK          (netdev bridge, two dpdkvhostuser
#                                             ports, in_port=1->2 / 2->1 flows)
#
# The generator is identical for all systems: dpdk-testpmd with two
# net_virtio_user ports attached to the system's two vhost-user sockets,
# --forward-mode=mac, burst 32, started with "start tx_first N" (N bursts of
# 32 frames injected per port, then the frames circulate in the loop
# generator -> SUT -> generator).  What comes back is counted from the
# generator's "show port stats all" (Rx-pps of port 0 + port 1, i.e. the
# total frames/s the SUT forwarded in both directions).
#
# CPU layout (2-CPU machine): generator main lcore and forwarding lcore on
# CPU 0 (--lcores '0@0,1@0'); the SUT's forwarding core on CPU 1 (its main /
# control thread on CPU 0, where it is idle).
#
# Besides Mpps, each window records what the SUT's forwarding core spent per
# frame (busy TSC cycles per frame, see "SUT cost" below): on this 2-CPU box
# the generator has one core too and becomes the bottleneck before a fast
# SUT does, so the Mpps ratio then understates the SUT; the cycles ratio
# shows what one core of each would forward if it were the limit.
#
# Every measurement starts the SUT and the generator from scratch, warms up,
# then reads a fixed window.  Systems are alternated within each round and
# the starting system is rotated between rounds, so drift cancels; the
# summary reports the median over rounds.  CPU time used by processes that
# are not ours is accounted during each window (the box may be shared); a
# polluted window is retried.
#
# Usage: benchmarks/fwd_bench.sh [options]      (run as root)
#   --systems LIST    comma list of vtoed,testpmd,ovs  (default: all three;
#                     vtoed is skipped with a warning if its binary is missing)
#   --vtoed PATH      vtoed binary (default: /tmp/build-lead/apps/vtoed/vtoed,
#                     then /tmp/build-bench/apps/vtoed/vtoed)
#   --base PATH       a second vtoed binary (e.g. built before a change),
#                     measured as system "base" and alternated with the
#                     others: add base to --systems
#   --poll MODE       lcores.poll of vtoed (busy|adaptive|interrupt; default:
#                     the binary's default); --base-poll MODE the same for base
#   --psec            vtoed's ports in a tagged network with port security
#                     restricting MAC and IPv4 source (the generator's
#                     198.18.0.1), and OVS's flows matching the same
#                     (in_port, dl_src, ip, nw_src); base keeps the plain
#                     config (a binary from before networks has none)
#   --sizes LIST      frame sizes in bytes, L2 frame without FCS (default 64,1518)
#   --rounds N        rounds (default 5)
#   --warmup S        warm-up seconds before the window (default 3)
#   --duration S      measurement window seconds (default 8)
#   --tx-bursts N     bursts of 32 frames injected per port (default 8)
#   --retries N       re-measure a window polluted by foreign CPU use (default 3)
#   --foreign-max P   max foreign CPU% (of one CPU) tolerated in a window (default 10)
#   --quiet-wait S    wait up to S s for the machine to be idle before each
#                     measurement (default 120)
#   --max-time S      after S seconds stop waiting for quiet and retrying;
#                     remaining measurements run once (default 480)
#   --hugepages N     2 MiB hugepages to reserve if fewer are present (default 2048)
#   --workdir DIR     where sockets/logs go (default: fresh mktemp dir)
#   --keep            keep the work dir (logs) on exit
#   --results FILE    also write the summary table (markdown) to FILE
#   -h|--help
set -uo pipefail

# ---------------------------------------------------------------- defaults
SYSTEMS="vtoed,testpmd,ovs"
VTOED=""
BASE=""
SIZES="64,1518"
PSEC=0
POLL=""
BASE_POLL=""
ROUNDS=5
# Like for like: testpmd's net_vhost and OVS (userspace-tso-enable=false, its
# default) offer the generator no checksum/TSO offloads, so vtoed's ports
# don't either unless VTOED_OFFLOADS=true (then virtio-user negotiates them
# and takes its slower, offload-aware receive path).
VTOED_OFFLOADS=${VTOED_OFFLOADS:-false}
WARMUP=3
DURATION=8
TX_BURSTS=8
RETRIES=3
FOREIGN_MAX=10
QUIET_WAIT=120
MAX_TIME=480
HUGEPAGES=2048
WORKDIR=""
KEEP=0
RESULTS_FILE=""
GEN_CPU=0
SUT_CPU=1

TESTPMD=${TESTPMD:-dpdk-testpmd}
OVS_VSWITCHD=${OVS_VSWITCHD:-/usr/lib/openvswitch-switch-dpdk/ovs-vswitchd-dpdk}
OVS_SCHEMA=${OVS_SCHEMA:-/usr/share/openvswitch/vswitch.ovsschema}

MAC1="52:54:00:00:01:01"
MAC2="52:54:00:00:02:01"

usage() { sed -n '2,/^set -uo/p' "$0" | sed '$d; s/^# \{0,1\}//'; }

while [ $# -gt 0 ]; do
    case "$1" in
    --systems) SYSTEMS=$2; shift 2 ;;
    --vtoed) VTOED=$2; shift 2 ;;
    --base) BASE=$2; shift 2 ;;
    --sizes) SIZES=$2; shift 2 ;;
    --psec) PSEC=1; shift ;;
    --poll) POLL=$2; shift 2 ;;
    --base-poll) BASE_POLL=$2; shift 2 ;;
    --rounds) ROUNDS=$2; shift 2 ;;
    --warmup) WARMUP=$2; shift 2 ;;
    --duration) DURATION=$2; shift 2 ;;
    --tx-bursts) TX_BURSTS=$2; shift 2 ;;
    --retries) RETRIES=$2; shift 2 ;;
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

source "$(dirname "${BASH_SOURCE[0]}")/lib_bench.sh"   # log, warn, die, show_cmd, ...

[ "$(id -u)" = 0 ] || die "must run as root (hugepages, vhost-user)"
command -v "$TESTPMD" >/dev/null || die "$TESTPMD not found (apt-get install dpdk-dev)"
command -v stdbuf >/dev/null || die "stdbuf not found (coreutils)"

if [ -z "$VTOED" ]; then
    for c in /tmp/build-lead/apps/vtoed/vtoed /tmp/build-bench/apps/vtoed/vtoed; do
        [ -x "$c" ] && { VTOED=$c; break; }
    done
fi

# validate systems
SYS_LIST=()
IFS=, read -r -a _req <<<"$SYSTEMS"
for s in "${_req[@]}"; do
    case "$s" in
    testpmd) SYS_LIST+=(testpmd) ;;
    ovs)
        if [ -x "$OVS_VSWITCHD" ] && command -v ovsdb-server >/dev/null && command -v ovs-vsctl >/dev/null; then
            SYS_LIST+=(ovs)
        else
            warn "ovs: $OVS_VSWITCHD / ovsdb-server not found (apt-get install openvswitch-switch-dpdk); skipping"
        fi ;;
    vtoed)
        if [ -n "$VTOED" ] && [ -x "$VTOED" ]; then
            SYS_LIST+=(vtoed)
        else
            warn "vtoed: binary not found (${VTOED:-no --vtoed given, none in /tmp/build-lead or /tmp/build-bench}); skipping"
        fi ;;
    base)
        [ -n "$BASE" ] && [ -x "$BASE" ] || die "base: no --base binary given"
        SYS_LIST+=(base) ;;
    *) die "unknown system '$s' (vtoed,testpmd,ovs,base)" ;;
    esac
done
[ ${#SYS_LIST[@]} -gt 0 ] || die "no system to measure"
IFS=, read -r -a SIZE_LIST <<<"$SIZES"
for sz in "${SIZE_LIST[@]}"; do
    [[ "$sz" =~ ^[0-9]+$ ]] && [ "$sz" -ge 60 ] && [ "$sz" -le 2000 ] || die "bad frame size $sz (60..2000)"
done

# ---------------------------------------------------------------- state / cleanup
[ -n "$WORKDIR" ] || WORKDIR=$(mktemp -d /tmp/fwdb.XXXXXX)
mkdir -p "$WORKDIR" || die "cannot create $WORKDIR"
RUN_ID=$$
START_TS=$(date +%s)
ORIG_NR_HP=""
HP_SYSFS=/sys/kernel/mm/hugepages/hugepages-2048kB/nr_hugepages
MOUNTED_HUGETLBFS=""
PIDS=()           # every background process we started (timeout wrappers)
GEN_FD=""         # write side of the generator's stdin fifo
SUT_FD=""         # write side of the SUT testpmd's stdin fifo
CUR_SUT=""


cleanup() {
    local rc=$?
    trap - EXIT INT TERM
    [ -n "$CUR_SUT" ] && sut_stop 2>/dev/null
    local p
    for p in "${PIDS[@]}"; do kill_pid "$p" 5; done
    [ -n "$GEN_FD" ] && exec {GEN_FD}>&- 2>/dev/null
    [ -n "$SUT_FD" ] && exec {SUT_FD}>&- 2>/dev/null
    rm -rf /var/run/dpdk/bench-*-"$RUN_ID" 2>/dev/null
    if [ -n "$ORIG_NR_HP" ]; then
        echo "$ORIG_NR_HP" >"$HP_SYSFS" 2>/dev/null
        log "restored nr_hugepages to $ORIG_NR_HP"
    fi
    [ -n "$MOUNTED_HUGETLBFS" ] && umount "$MOUNTED_HUGETLBFS" 2>/dev/null
    if [ "$KEEP" = 1 ]; then
        log "logs kept in $WORKDIR"
    else
        rm -rf "$WORKDIR"
    fi
    log "total time: $(( $(date +%s) - START_TS )) s"
    exit $rc
}
trap cleanup EXIT
trap 'warn "interrupted"; exit 130' INT TERM

sockets_exist() { [ -S "$1" ] && [ -S "$2" ]; }
count_in() { grep -c -- "$2" "$1" 2>/dev/null || true; }

# ---------------------------------------------------------------- systems under test
# Each sut_start_* sets SOCK1 SOCK2 (vhost-user server sockets, SUT side) and
# returns non-zero on failure.  sut_stop stops whatever is running.
SUT_PIDS=()
SOCK1=""; SOCK2=""

sut_start_testpmd() {
    local d=$WORKDIR/m$MEAS
    SOCK1=$d/vm1.sock; SOCK2=$d/vm2.sock
    local fifo=$d/sut.in
    mkfifo "$fifo"
    exec {SUT_FD}<>"$fifo"
    local cmd=(stdbuf -oL -eL "$TESTPMD" --lcores "0@$GEN_CPU,1@$SUT_CPU" --main-lcore 0
        --file-prefix "bench-tp-$RUN_ID" --no-pci -m 512
        --vdev "net_vhost0,iface=$SOCK1,queues=1"
        --vdev "net_vhost1,iface=$SOCK2,queues=1"
        -- -i --forward-mode=io --nb-cores=1 --burst=32 --rxd=1024 --txd=1024
        --total-num-mbufs=16384 --auto-start --record-core-cycles)
    show_cmd "${cmd[@]}"
    timeout --kill-after=5 $((DURATION + WARMUP + 90)) "${cmd[@]}" <"$fifo" >"$d/sut.log" 2>&1 &
    SUT_PIDS=($!); PIDS+=($!)
    wait_for 30 "testpmd vhost sockets" sockets_exist "$SOCK1" "$SOCK2"
}

sut_start_vtoed() { vtoed_start "$VTOED" "$PSEC" "$POLL"; }
sut_start_base() { vtoed_start "$BASE" 0 "$BASE_POLL"; }
vtoed_start() {  # vtoed_start BINARY PSEC [POLL]
    local d=$WORKDIR/m$MEAS net="" poll=""
    SOCK1=$d/vm1.sock; SOCK2=$d/vm2.sock
    [ "$2" = 1 ] && net=", network: blue, ip: [198.18.0.1/32]"
    [ -n "${3:-}" ] && poll=", poll: $3"
    cat >"$d/vtoed.yaml" <<EOF
lcores: {main: $GEN_CPU, workers: [$SUT_CPU]$poll}
memory: {hugepages: auto, mbufs: 16384}
control: {socket: $d/vtoed.sock, mode: "0660"}
eal: {file_prefix: bench-vtoed-$RUN_ID}
$([ "$2" = 1 ] && echo "networks: [{name: blue, vlan: 100}]")
vms:
  - name: vm1
    ports:
      - {name: vm1.0, socket: $SOCK1, mode: server, mac: "$MAC1", queues: 1, offloads: $VTOED_OFFLOADS$net}
  - name: vm2
    ports:
      - {name: vm2.0, socket: $SOCK2, mode: server, mac: "$MAC2", queues: 1, offloads: $VTOED_OFFLOADS$net}
EOF
    sed 's/^/    | /' "$d/vtoed.yaml"
    local cmd=("$1" --config "$d/vtoed.yaml")
    show_cmd "${cmd[@]}"
    start_bg "$d/vtoed.log" $((DURATION + WARMUP + 90)) "${cmd[@]}"
    SUT_PIDS=("$BG_PID")
    wait_for 30 "vtoed vhost sockets" sockets_exist "$SOCK1" "$SOCK2" || {
        tail -20 "$d/vtoed.log" | sed 's/^/    vtoed: /' >&2; return 1; }
}

OVS_DIR=""
ovs_vsctl() { timeout 20 ovs-vsctl --db="unix:$OVS_DIR/db.sock" --timeout=15 "$@"; }
sut_start_ovs() {
    local d=$WORKDIR/m$MEAS
    OVS_DIR=$d/ovs
    mkdir -p "$OVS_DIR"
    SOCK1=$OVS_DIR/vm1; SOCK2=$OVS_DIR/vm2
    export OVS_RUNDIR=$OVS_DIR OVS_DBDIR=$OVS_DIR OVS_LOGDIR=$OVS_DIR OVS_SYSCONFDIR=$OVS_DIR
    local to=$((DURATION + WARMUP + 120)) c
    show_cmd ovsdb-tool create "$OVS_DIR/conf.db" "$OVS_SCHEMA"
    timeout 20 ovsdb-tool create "$OVS_DIR/conf.db" "$OVS_SCHEMA" || return 1
    c=(ovsdb-server "--remote=punix:$OVS_DIR/db.sock" "--pidfile=$OVS_DIR/ovsdb-server.pid"
        "--unixctl=$OVS_DIR/ovsdb-server.ctl" "--log-file=$OVS_DIR/ovsdb-server.log" "$OVS_DIR/conf.db")
    show_cmd taskset -c "$GEN_CPU" "${c[@]}"
    start_bg "$OVS_DIR/ovsdb-server.out" "$to" taskset -c "$GEN_CPU" "${c[@]}"
    SUT_PIDS=("$BG_PID")
    wait_for 20 "ovsdb-server socket" test -S "$OVS_DIR/db.sock" || return 1
    c=(--no-wait init -- set Open_vSwitch . other_config:dpdk-init=true
        "other_config:dpdk-lcore-mask=0x$(printf %x $((1 << GEN_CPU)))"
        "other_config:pmd-cpu-mask=0x$(printf %x $((1 << SUT_CPU)))"
        other_config:dpdk-socket-mem=1024
        "other_config:dpdk-extra=--file-prefix=bench-ovs-$RUN_ID --no-pci")
    show_cmd ovs-vsctl --db="unix:$OVS_DIR/db.sock" --timeout=15 "${c[@]}"
    ovs_vsctl "${c[@]}" || return 1
    # the main (non-PMD) thread and its helpers stay on the generator CPU; the
    # PMD thread pins itself to pmd-cpu-mask.
    c=(taskset -c "$GEN_CPU" "$OVS_VSWITCHD" "unix:$OVS_DIR/db.sock" "--pidfile=$OVS_DIR/ovs-vswitchd.pid"
        "--unixctl=$OVS_DIR/ovs-vswitchd.ctl" "--log-file=$OVS_DIR/ovs-vswitchd.log")
    show_cmd "${c[@]}"
    start_bg "$OVS_DIR/ovs-vswitchd.out" "$to" "${c[@]}"
    SUT_PIDS+=("$BG_PID")
    wait_for 60 "ovs-vswitchd control socket" test -S "$OVS_DIR/ovs-vswitchd.ctl" || {
        tail -20 "$OVS_DIR/ovs-vswitchd.log" "$OVS_DIR/ovs-vswitchd.out" 2>/dev/null | sed 's/^/    ovs: /' >&2; return 1; }
    c=(add-br br0 -- set bridge br0 datapath_type=netdev
        -- add-port br0 vm1 -- set Interface vm1 type=dpdkvhostuser ofport_request=1
        -- add-port br0 vm2 -- set Interface vm2 type=dpdkvhostuser ofport_request=2)
    show_cmd ovs-vsctl --db="unix:$OVS_DIR/db.sock" --timeout=15 "${c[@]}"
    ovs_vsctl "${c[@]}" || { tail -20 "$OVS_DIR/ovs-vswitchd.log" | sed 's/^/    ovs: /' >&2; return 1; }
    local br=unix:$OVS_DIR/br0.mgmt f
    wait_for 20 "br0 mgmt socket" test -S "$OVS_DIR/br0.mgmt" || return 1
    show_cmd ovs-ofctl del-flows "$br"
    timeout 10 ovs-ofctl del-flows "$br" || return 1
    local flows=(in_port=1,actions=output:2 in_port=2,actions=output:1)
    [ "$PSEC" = 1 ] && flows=("in_port=1,dl_src=$MAC1,ip,nw_src=198.18.0.1,actions=output:2"
                              "in_port=2,dl_src=$MAC2,ip,nw_src=198.18.0.1,actions=output:1")
    for f in "${flows[@]}"; do
        show_cmd ovs-ofctl add-flow "$br" "$f"
        timeout 10 ovs-ofctl add-flow "$br" "$f" || return 1
    done
    wait_for 30 "ovs vhost sockets" sockets_exist "$SOCK1" "$SOCK2" || {
        tail -20 "$OVS_DIR/ovs-vswitchd.log" | sed 's/^/    ovs: /' >&2; return 1; }
}
ovs_appctl() { timeout 10 ovs-appctl -t "$OVS_DIR/ovs-vswitchd.ctl" "$@"; }

sut_start() { CUR_SUT=$1; SUT_PIDS=(); "sut_start_$1"; }

sut_stop() {
    local p
    case "$CUR_SUT" in
    testpmd)
        [ -n "$SUT_FD" ] && { echo "quit" >&"$SUT_FD"; exec {SUT_FD}>&-; SUT_FD=""; } ;;
    ovs)
        timeout 10 ovs-appctl -t "$OVS_DIR/ovs-vswitchd.ctl" exit >/dev/null 2>&1
        timeout 5 ovs-appctl -t "$OVS_DIR/ovsdb-server.ctl" exit >/dev/null 2>&1
        unset OVS_RUNDIR OVS_DBDIR OVS_LOGDIR OVS_SYSCONFDIR ;;
    vtoed|base)
        # SIGTERM = graceful stop (timeout(1) forwards it to vtoed)
        for p in "${SUT_PIDS[@]}"; do kill -TERM "$p" 2>/dev/null; done ;;
    esac
    # give graceful shutdown a chance, then TERM/KILL (by pid only)
    for p in "${SUT_PIDS[@]}"; do
        local i
        for ((i = 0; i < 100; i++)); do kill -0 "$p" 2>/dev/null || break; sleep 0.1; done
        kill_pid "$p" 10
        forget_pid "$p"
    done
    SUT_PIDS=(); CUR_SUT=""
}

# ---------------------------------------------------------------- SUT cost
# What the SUT's forwarding core spends per frame, in TSC cycles of the
# iterations (bursts) that moved frames: its capacity on one core, which
# the Mpps hide once the generator (one core too) is the bottleneck.
#   vtoed:   lcores busy_cycles / frames sent on both ports (vtoectl's JSON
#            over the control socket, read at both ends of the window)
#   testpmd: --record-core-cycles, "CPU cycles/packet" at "stop" (the whole
#            run, warm-up included)
#   ovs:     pmd-perf-show: used cycles x busy share / rx packets (stats
#            cleared at the start of the window)
vtoed_cost_snap() {  # -> "BUSY_CYCLES FRAMES_SENT" of vtoed now
    local sock=$WORKDIR/m$MEAS/vtoed.sock busy frames
    busy=$(vtoed_q "$sock" lcores 2>/dev/null | jq '[.[] | select(.role == "worker") | .busy_cycles] | add // 0')
    frames=$(vtoed_q "$sock" stats 2>/dev/null | jq '[(.ports // .)[] | .tx_packets] | add // 0')
    echo "${busy:-0} ${frames:-0}"
}

# ---------------------------------------------------------------- generator
# gen_measure SIZE -> sets GEN_RESULT="MPPS RXPPS0 RXPPS1 FOREIGN% STEAL% GEN_BUSY% GEN_CYCLES_PER_PKT"
GEN_RESULT=""
links_up() { # re-query until both generator ports report link up
    local n
    n=$(wc -l <"$1")
    echo "show port summary all" >&"$GEN_FD"
    sleep 0.3
    [ "$(tail -n +$((n + 1)) "$1" | grep -cE '^[01] +52:54.* up ')" -ge 2 ]
}
gen_measure() {
    local size=$1 d=$WORKDIR/m$MEAS
    local fifo=$d/gen.in glog=$d/gen.log
    mkfifo "$fifo"
    exec {GEN_FD}<>"$fifo"
    local cmd=(stdbuf -oL -eL "$TESTPMD" --lcores "0@$GEN_CPU,1@$GEN_CPU" --main-lcore 0
        --file-prefix "bench-gen-$RUN_ID" --no-pci --single-file-segments -m 512
        --vdev "net_virtio_user0,path=$SOCK1,mac=$MAC1,queues=1,queue_size=1024"
        --vdev "net_virtio_user1,path=$SOCK2,mac=$MAC2,queues=1,queue_size=1024"
        -- -i --forward-mode=mac "--eth-peer=0,$MAC2" "--eth-peer=1,$MAC1"
        --burst=32 --rxd=1024 --txd=1024 --nb-cores=1 --total-num-mbufs=16384
        "--txpkts=$size" --record-core-cycles)
    show_cmd "${cmd[@]}" >&2
    timeout --kill-after=5 $((DURATION + WARMUP + 60)) "${cmd[@]}" <"$fifo" >"$glog" 2>&1 &
    local gpid=$!
    PIDS+=("$gpid")
    gen_cmd() { echo "    testpmd> $*" >&2; echo "$*" >&"$GEN_FD"; }
    local ok=1
    wait_for 30 "generator prompt" grep -q "testpmd> " "$glog" || ok=0
    if [ $ok = 1 ]; then
        wait_for 20 "generator links up" links_up "$glog" || ok=0
        sleep 1
    fi
    local s0="" s1="" rx0=0 rx1=0 n f st gbusy="" gcpp="" gstart c0="" c1="" scpp=""
    if [ $ok = 1 ]; then
        gen_cmd "start tx_first $TX_BURSTS"
        gstart=$(( $(date +%s%N) / 1000000 ))
        sleep "$WARMUP"
        n=$(count_in "$glog" "Rx-pps:")
        gen_cmd "show port stats all"
        wait_for 10 "stats" bash -c "[ \$(grep -c Rx-pps: '$glog') -ge $((n + 2)) ]"
        [ "$CUR_SUT" = ovs ] && ovs_appctl dpif-netdev/pmd-stats-clear >/dev/null 2>&1
        [[ "$CUR_SUT" = vtoed || "$CUR_SUT" = base ]] && c0=$(vtoed_cost_snap)
        s0=$(cpu_snapshot)
        sleep "$DURATION"
        s1=$(cpu_snapshot)
        [[ "$CUR_SUT" = vtoed || "$CUR_SUT" = base ]] && c1=$(vtoed_cost_snap)
        n=$(count_in "$glog" "Rx-pps:")
        gen_cmd "show port stats all"
        if wait_for 10 "stats" bash -c "[ \$(grep -c Rx-pps: '$glog') -ge $((n + 2)) ]"; then
            read -r rx0 rx1 < <(grep "Rx-pps:" "$glog" | tail -2 | awk '{print $2}' | paste -sd' ')
        fi
        [ "$CUR_SUT" = ovs ] && ovs_appctl dpif-netdev/pmd-perf-show >"$d/ovs-pmd-perf.txt" 2>&1
        case "$CUR_SUT" in
        vtoed|base)
            scpp=$(awk -v a="$c0" -v b="$c1" 'BEGIN { split(a, x, " "); split(b, y, " ")
                if (y[2] - x[2] > 0) printf "%.0f", (y[1] - x[1]) / (y[2] - x[2]) }') ;;
        ovs)
            # "- Used TSC cycles:  U  ( 99.8 % of total cycles)"
            # "- busy iterations:  N  ( 95.3 % of used cycles)"
            # "  Rx packets:  P  (4170 Kpps, 559 cycles/pkt)"
            scpp=$(awk '/Used TSC cycles:/ { u = $5 } /busy iterations:/ { b = $6 }
                /Rx packets:/ { p = $3 } END { if (p > 0) printf "%.0f", u * b / 100 / p }' "$d/ovs-pmd-perf.txt") ;;
        testpmd)
            echo "stop" >&"$SUT_FD"
            wait_for 5 "SUT forward stats" grep -q "CPU cycles/packet=" "$d/sut.log" &&
                scpp=$(grep "CPU cycles/packet=" "$d/sut.log" | tail -1 | sed -n 's/.*cycles\/packet=\([0-9.]*\).*/\1/p') ;;
        esac
        gen_cmd "stop"
        wait_for 5 "forward stats" grep -q "Accumulated forward statistics" "$glog"
        # generator busy share: cycles spent in non-empty bursts since
        # "start" / elapsed cycles.  ~100% means the generator, not the
        # SUT, may be the limit.
        gbusy=$(grep "CPU cycles/packet=" "$glog" | tail -1 |
            sed -n 's/.*total cycles=\([0-9]*\) .* at \([0-9]*\) MHz.*/\1 \2/p' |
            awk -v t="$(( $(date +%s%N) / 1000000 - gstart ))" '{ if (t > 0 && $2 > 0) printf "%.0f", $1 / ($2 * 1000 * t) * 100 }')
        # generator cycles per packet: its work per frame is the same for every
        # SUT, so a jump here means the whole machine (host) was slower
        gcpp=$(grep "CPU cycles/packet=" "$glog" | tail -1 | sed -n 's/.*cycles\/packet=\([0-9]*\).*/\1/p')
    fi
    gen_cmd "quit"
    local i
    for ((i = 0; i < 100; i++)); do kill -0 "$gpid" 2>/dev/null || break; sleep 0.1; done
    kill_pid "$gpid" 5
    forget_pid "$gpid"
    exec {GEN_FD}>&-; GEN_FD=""
    if [ -n "$s0" ]; then read -r f st <<<"$(foreign_pct "$s0" "$s1")"; else f=0 st=0; fi
    GEN_RESULT=$(awk -v a="$rx0" -v b="$rx1" -v f="$f" -v st="$st" -v e="${gbusy:-?}" -v c="${gcpp:-?}" \
        -v s="${scpp:-?}" 'BEGIN { printf "%.4f %d %d %s %s %s %s %s\n", (a + b) / 1e6, a, b, f, st, e, c, s }')
}

# ---------------------------------------------------------------- main
log "fwd_bench: systems=${SYS_LIST[*]} sizes=${SIZE_LIST[*]} rounds=$ROUNDS warmup=${WARMUP}s window=${DURATION}s tx_first=$TX_BURSTS bursts x 32/port"
log "workdir $WORKDIR"
log "machine: $(nproc) CPUs, $(awk -F: '/model name/ {print $2; exit}' /proc/cpuinfo | sed 's/^ *//'), kernel $(uname -r), $(awk '/MemTotal/ {printf "%.0f GiB", $2/1048576}' /proc/meminfo)"
log "versions: dpdk-testpmd $(dpkg-query -W -f='${Version}' dpdk-dev 2>/dev/null || echo '?'), openvswitch-switch-dpdk $(dpkg-query -W -f='${Version}' openvswitch-switch-dpdk 2>/dev/null || echo 'not installed')"
if [[ " ${SYS_LIST[*]} " == *" vtoed "* ]]; then
    # snapshot the binary: the build dir may be rebuilt while we run
    cp "$VTOED" "$WORKDIR/vtoed.bin" || die "cannot copy $VTOED"
    log "vtoed: $VTOED ($(stat -c %y "$VTOED" | cut -d. -f1), sha256 $(sha256sum "$VTOED" | cut -c1-16)), run from a copy"
    bo=$(dirname "$VTOED")/../../meson-info/intro-buildoptions.json
    if [ -f "$bo" ] && command -v python3 >/dev/null; then
        log "vtoed build: $(python3 -c 'import json,sys; o={x["name"]: x["value"] for x in json.load(open(sys.argv[1]))}; print(" ".join("%s=%s" % (k, o.get(k)) for k in ("buildtype", "optimization", "b_ndebug", "b_sanitize")))' "$bo" 2>/dev/null)"
    fi
    VTOED=$WORKDIR/vtoed.bin
fi
if [ -n "$BASE" ]; then
    cp "$BASE" "$WORKDIR/base.bin" || die "cannot copy $BASE"
    log "base: $BASE ($(stat -c %y "$BASE" | cut -d. -f1), sha256 $(sha256sum "$BASE" | cut -c1-16)), run from a copy"
    BASE=$WORKDIR/base.bin
fi
setup_hugepages

RES=$WORKDIR/results.tsv
: >"$RES"
MEAS=0
nsys=${#SYS_LIST[@]}
for ((r = 1; r <= ROUNDS; r++)); do
    for size in "${SIZE_LIST[@]}"; do
        for ((k = 0; k < nsys; k++)); do
            sys=${SYS_LIST[$(((k + r - 1) % nsys))]}
            for ((try = 0; try <= RETRIES; try++)); do
                MEAS=$((MEAS + 1))
                mkdir -p "$WORKDIR/m$MEAS"
                log "round $r/$ROUNDS size ${size}B system $sys (measurement $MEAS$([ "$try" -gt 0 ] && echo ", retry $try"))"
                if [ $(( $(date +%s) - START_TS )) -ge "$MAX_TIME" ]; then
                    [ "$QUIET_WAIT" = 0 ] || warn "time budget (--max-time $MAX_TIME s) used up: no more quiet waits or retries"
                    QUIET_WAIT=0; RETRIES=0
                fi
                wait_quiet
                if ! sut_start "$sys"; then
                    warn "$sys failed to start (logs: $WORKDIR/m$MEAS)"
                    sut_stop
                    echo -e "$r\t$size\t$sys\tFAIL\t0\t0\t0\t0\t-\tfailed\t-\t-" >>"$RES"
                    break
                fi
                gen_measure "$size"
                read -r mpps rx0 rx1 fpct steal gbusy gcpp scpp <<<"$GEN_RESULT"
                sut_stop
                log "  => $sys ${size}B: $mpps Mpps (port0 $rx0 pps, port1 $rx1 pps; foreign CPU ${fpct}%, steal ${steal}%, generator busy ${gbusy}%, ${gcpp} cycles/pkt; SUT ${scpp} busy cycles/pkt)"
                clean=clean
                if awk -v f="$fpct" -v m="$FOREIGN_MAX" 'BEGIN { exit !(f > m) }'; then
                    clean=polluted
                    if [ "$try" -lt "$RETRIES" ]; then
                        warn "window polluted by other processes (${fpct}% of a CPU); re-measuring"
                        continue
                    fi
                    warn "window polluted by other processes (${fpct}% of a CPU); keeping it, flagged '*'"
                fi
                echo -e "$r\t$size\t$sys\t$mpps\t$rx0\t$rx1\t$fpct\t$steal\t$gbusy\t$clean\t$gcpp\t$scpp" >>"$RES"
                break
            done
        done
    done
done

# ---------------------------------------------------------------- summary
declare -A MED
# per_round SIZE A B COL [clean]: "ROUND A/B" for every round in which both
# A and B have a number in column COL (clean windows only with "clean")
per_round() {
    awk -F'\t' -v z="$1" -v a="$2" -v b="$3" -v c="$4" -v clean="${5:-}" '
        $2 != z || $c !~ /^[0-9.]+$/ || (clean != "" && $10 != "clean") { next }
        $3 == a { x[$1] = $c }
        $3 == b { y[$1] = $c }
        END { for (r = 1; r <= 1000; r++) if ((r in x) && (r in y) && y[r] > 0) printf "%d %.6f\n", r, x[r] / y[r] }' "$RES"
}
summary() {
    echo
    echo "## fwd_bench results ($(date -u +%Y-%m-%dT%H:%MZ), $ROUNDS rounds, ${DURATION}s window, median Mpps, both directions summed)"
    echo
    local hdr="| frame (B) |" sep="|---|" s size
    for s in "${SYS_LIST[@]}"; do hdr+=" $s Mpps |"; sep+="---:|"; done
    local has_v=0 has_t=0 has_o=0
    for s in "${SYS_LIST[@]}"; do case $s in vtoed) has_v=1 ;; testpmd) has_t=1 ;; ovs) has_o=1 ;; esac; done
    [ $has_v = 1 ] && [ $has_t = 1 ] && { hdr+=" vtoed/testpmd |"; sep+="---:|"; }
    [ $has_v = 1 ] && [ $has_o = 1 ] && { hdr+=" vtoed/OVS |"; sep+="---:|"; }
    echo "$hdr"; echo "$sep"
    for size in "${SIZE_LIST[@]}"; do
        local row="| $size |"
        for s in "${SYS_LIST[@]}"; do
            # median over clean windows; over all of them (flagged *) if none is clean
            local all mark=""
            MED[$s,$size]=$(awk -F'\t' -v z="$size" -v s="$s" '$2 == z && $3 == s && $10 == "clean" { print $4 }' "$RES" | median)
            if [ "${MED[$s,$size]}" = nan ]; then
                MED[$s,$size]=$(awk -F'\t' -v z="$size" -v s="$s" '$2 == z && $3 == s && $4 != "FAIL" { print $4 }' "$RES" | median)
                [ "${MED[$s,$size]}" = nan ] || mark="*"
            fi
            all=$(awk -F'\t' -v z="$size" -v s="$s" '$2 == z && $3 == s { printf "%s%s%s", sep, $4, ($10 == "polluted" ? "*" : ""); sep = " " }' "$RES")
            row+=" ${MED[$s,$size]}$mark ($all) |"
        done
        ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b + 0 > 0 && a != "nan") printf "%.2fx", a / b; else print "n/a" }'; }
        [ $has_v = 1 ] && [ $has_t = 1 ] && row+=" $(ratio "${MED[vtoed,$size]}" "${MED[testpmd,$size]}") |"
        [ $has_v = 1 ] && [ $has_o = 1 ] && row+=" $(ratio "${MED[vtoed,$size]}" "${MED[ovs,$size]}") |"
        echo "$row"
    done
    echo
    echo "(per-round values in parentheses, in round order; * = window polluted by other"
    echo "processes' CPU use above ${FOREIGN_MAX}% of a CPU, left out of the median when a clean one exists)"
    if [ $has_v = 1 ] && { [ $has_t = 1 ] || [ $has_o = 1 ]; }; then
        echo
        echo "Paired ratios (vtoed vs. the other system measured in the same round, clean windows"
        echo "only; median, then the per-round values):"
        local o
        for size in "${SIZE_LIST[@]}"; do
            for o in testpmd ovs; do
                [[ " ${SYS_LIST[*]} " == *" $o "* ]] || continue
                local pr
                pr=$(per_round "$size" vtoed "$o" 4 clean)
                if [ -z "$pr" ]; then
                    echo "- ${size}B vtoed/$o: n/a (no round with both clean)"
                    continue
                fi
                printf -- '- %sB vtoed/%s: %.2fx (%s )\n' "$size" "$o" "$(cut -d' ' -f2 <<<"$pr" | median)" \
                    "$(awk '{ printf " r%s:%.2f", $1, $2 }' <<<"$pr")"
            done
        done
    fi
    if [ $has_v = 1 ] && [ ${#SYS_LIST[@]} -gt 1 ]; then
        echo
        echo "Per-core cost (the SUT forwarding core's busy TSC cycles per frame; other/vtoed,"
        echo "i.e. how many times more frames vtoed's core could forward; median over rounds):"
        for size in "${SIZE_LIST[@]}"; do
            local line="- ${size}B cycles/frame:"
            for s in "${SYS_LIST[@]}"; do
                line+=" $s $(awk -F'\t' -v z="$size" -v s="$s" '$2 == z && $3 == s && $12 ~ /^[0-9.]+$/ { print $12 }' "$RES" | median)"
            done
            for o in testpmd ovs base; do
                [[ " ${SYS_LIST[*]} " == *" $o "* ]] || continue
                line+="; $o/vtoed $(per_round "$size" "$o" vtoed 12 | cut -d' ' -f2 | median |
                    awk '{ if ($1 == "nan") printf "n/a"; else printf "%.2fx", $1 }')"
            done
            echo "$line"
        done
    fi
    if [ $has_v = 1 ]; then
        echo
        echo "Targets:"
        tgt() { # tgt SIZE OTHER FACTOR
            local a=${MED[vtoed,$1]:-nan} b=${MED[$2,$1]:-nan}
            awk -v a="$a" -v b="$b" -v f="$3" -v z="$1" -v o="$2" 'BEGIN {
                if (a == "nan" || b == "nan" || b + 0 <= 0) { printf "- %sB vtoed >= %.1fx %s: n/a\n", z, f, o; exit }
                r = a / b; printf "- %sB vtoed >= %.1fx %s: %.2fx  %s\n", z, f, o, r, (r >= f ? "PASS" : "FAIL") }'
        }
        for size in "${SIZE_LIST[@]}"; do
            if [ "$size" = 64 ]; then
                [ $has_t = 1 ] && tgt 64 testpmd 0.9
                [ $has_o = 1 ] && tgt 64 ovs 1.4
            elif [ "$size" = 1518 ]; then
                [ $has_t = 1 ] && tgt 1518 testpmd 1.0
            fi
        done
    fi
}
summary | tee "$WORKDIR/summary.md"
[ -n "$RESULTS_FILE" ] && cp "$WORKDIR/summary.md" "$RESULTS_FILE"
echo
log "raw results (round size system Mpps rx0_pps rx1_pps foreign_cpu% steal% gen_busy% clean gen_cycles/pkt sut_busy_cycles/pkt): $RES"
sed 's/^/    /' "$RES"
if grep -q FAIL "$RES"; then exit 1; fi
exit 0
