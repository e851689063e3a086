#!/usr/bin/env bash
# tso_bench.sh - what a switch spends per byte forwarding TCP TSO
# super-frames between two vhost-user ports, at native speed, comparing:
#
#   vtoed      our daemon: both ports `offloads: true`, `mode: client`
#   vtoed-lib  the same with `datapath: {direct: false}`: every frame through
#              rte_vhost's dequeue/enqueue and an mbuf (two copies)
#   ovs-tso  Open vSwitch 3.1 with DPDK, other_config:userspace-tso-enable=true:
#            netdev bridge, two dpdkvhostuserclient ports
#            (options:vhost-server-path=SOCK), flows in_port=1->2 / 2->1
#
# tcp_bench.sh runs iperf3 in QEMU/TCG guests, which are the bottleneck
# there (the switch core is 4-7 % busy); this one replaces the guests with
# tso-gen (benchmarks/tso_gen.c), two virtio-user ports in one DPDK process
# that behave like two guests with TSO at native speed:
#
#   tso-gen port 0 (source) --64 KB TCP frames, TSO metadata--> SOCK1
#        vtoed vm1.0 / OVS vm1 --(switch core)--> vm2.0 / vm2
#   tso-gen port 1 (sink, LRO: GUEST_TSO4/GUEST_CSUM/MRG_RXBUF) <-- SOCK2
#
# tso-gen owns both sockets (virtio-user server=1); the switch connects as a
# vhost-user client (with OVS's server-mode dpdkvhostuser ports OVS 3.1 turns
# host TSO off, see tcp_bench.sh).  It keeps at most --window super-frames
# outstanding, like a TCP window (so this measures throughput, not drops),
# counts what arrives at the sink and how much of it arrived whole (longer
# than 1514 bytes), and detects drops as holes in the TCP sequence.
#
# CPU layout (2-CPU machine): tso-gen on CPU 0 (--lcores 0@0); the switch's
# forwarding core (vtoed worker / OVS PMD) on CPU 1, everything else of the
# switch on CPU 0.
#
# Each window records Gbit/s (L2 bytes received at the sink), frames/s, the
# share of super-frames, frames lost, and the switch core's busy TSC cycles
# per frame and per Gbit (per frame entering the switch; per Gbit = per
# frame x 1e9 / (8 x L2 frame length sent)):
#   vtoed:   worker busy_cycles / rx_packets of both ports (control socket
#            JSON, `lcores` and `stats`, read when tso-gen prints "phase
#            window" and "phase done")
#   ovs-tso: pmd-perf-show after dpif-netdev/pmd-stats-clear at the window's
#            start: used cycles x busy share / Rx packets
# "core Gbit/s" = TSC Hz / busy cycles per Gbit: what one such core could
# forward if it were the limit (on this box tso-gen shares CPU 0 with the
# switch's other threads and may be the limit first).
#
# Every measurement starts the switch and tso-gen from scratch.  Systems are
# alternated within each round and the starting system is rotated between
# rounds; the summary reports the median over rounds plus per-round ratios.
# CPU time used by processes that are not ours is accounted during each
# window (lib_cpu.sh); a polluted window is retried while time allows.
#
# Usage: benchmarks/tso_bench.sh [options]      (run as root)
#   --systems LIST    comma list of vtoed,vtoed-lib,ovs-tso (default vtoed,ovs-tso; vtoed is
#                     skipped with a warning if its binary is missing)
#   --vtoed PATH      vtoed binary (default: /tmp/build-rel/apps/vtoed/vtoed,
#                     then /tmp/build-tso/..., /tmp/build-lead/..., /tmp/build-bench/...)
#   --gen PATH        tso-gen binary (default: benchmarks/tso-gen of the
#                     vtoed binary's build dir)
#   --rounds N        rounds (default 5)
#   --size N          IP total length of each super-frame (default 65000)
#   --mss N           TSO segment size (default 1448)
#   --window N        super-frames outstanding at most (default 48; the sink's ring holds 64)
#   --warmup S        warm-up seconds before the window (default 2)
#   --duration S      measurement window seconds (default 8)
#   --retries N       re-measure a window polluted by foreign CPU use (default 2)
#   --foreign-max P   max foreign CPU% (of one CPU) tolerated in a window (default 10)
#   --quiet-wait S    wait up to S s for the machine to be idle before each
#                     measurement (default 60)
#   --max-time S      after S seconds no more quiet waits or retries, and no
#                     measurement starts after S+60 s minus one measurement
#                     (default 480)
#   --hugepages N     2 MiB hugepages to reserve if fewer are present (default 2048)
#   --workdir DIR     where sockets/logs go (default: fresh mktemp dir)
#   --keep            keep the work dir (logs, switch stats) on exit
#   --results FILE    also write the summary (markdown) to FILE
#   -h|--help
set -uo pipefail

# ---------------------------------------------------------------- defaults
SYSTEMS="vtoed,ovs-tso"
VTOED=""
GEN=""
ROUNDS=5
SIZE=65000
MSS=1448
WINDOW=48
WARMUP=2
DURATION=8
RETRIES=2
FOREIGN_MAX=10
QUIET_WAIT=60
MAX_TIME=480
HUGEPAGES=2048
WORKDIR=""
KEEP=0
RESULTS_FILE=""
GEN_CPU=0
SUT_CPU=1

OVS_VSWITCHD=${OVS_VSWITCHD:-/usr/lib/openvswitch-switch-dpdk/ovs-vswitchd-dpdk}
OVS_SCHEMA=${OVS_SCHEMA:-/usr/share/openvswitch/vswitch.ovsschema}

MAC1="52:54:00:00:01:01"
MAC2="52:54:00:00:02:01"
ARGS_SHOWN="$*"

usage() { sed -n '2,/^set -uo/p' "$0" | sed '$d; s/^# \{0,1\}//'; }

while [ $# -gt 0 ]; do
    case "$1" in
    --systems) SYSTEMS=$2; shift 2 ;;
    --vtoed) VTOED=$2; shift 2 ;;
    --gen) GEN=$2; shift 2 ;;
    --rounds) ROUNDS=$2; shift 2 ;;
    --size) SIZE=$2; shift 2 ;;
    --mss) MSS=$2; shift 2 ;;
    --window) WINDOW=$2; shift 2 ;;
    --warmup) WARMUP=$2; shift 2 ;;
    --duration) DURATION=$2; shift 2 ;;
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

for v in ROUNDS SIZE MSS WINDOW WARMUP DURATION RETRIES QUIET_WAIT MAX_TIME HUGEPAGES; do
    [[ ${!v} =~ ^[0-9]+$ ]] || die "--${v,,} must be a whole number"
done
[ "$DURATION" -ge 1 ] || die "--duration must be >= 1"
[ "$(id -u)" = 0 ] || die "must run as root (hugepages, vhost-user)"
command -v jq >/dev/null || die "jq not found (apt-get install jq)"
command -v python3 >/dev/null || die "python3 not found"

if [ -z "$VTOED" ]; then
    for c in /tmp/build-rel/apps/vtoed/vtoed /tmp/build-tso/apps/vtoed/vtoed /tmp/build-lead/apps/vtoed/vtoed /tmp/build-bench/apps/vtoed/vtoed; do
        [ -x "$c" ] && { VTOED=$c; break; }
    done
fi
if [ -z "$GEN" ] && [ -n "$VTOED" ]; then
    GEN=$(dirname "$VTOED")/../../benchmarks/tso-gen
fi
[ -n "$GEN" ] && [ -x "$GEN" ] || die "tso-gen not found (${GEN:-give --gen PATH}; ninja -C BUILD benchmarks/tso-gen)"

# validate systems
SYS_LIST=()
IFS=, read -r -a _req <<<"$SYSTEMS"
for s in "${_req[@]}"; do
    case "$s" in
    ovs-tso)
        if [ -x "$OVS_VSWITCHD" ] && command -v ovsdb-server >/dev/null && command -v ovs-vsctl >/dev/null; then
            SYS_LIST+=(ovs-tso)
        else
            warn "ovs-tso: $OVS_VSWITCHD / ovsdb-server not found (apt-get install openvswitch-switch-dpdk); skipping"
        fi ;;
    vtoed|vtoed-lib)
        if [ -n "$VTOED" ] && [ -x "$VTOED" ]; then
            SYS_LIST+=("$s")
        else
            warn "vtoed: binary not found (${VTOED:-no --vtoed given, none in /tmp/build-tso, /tmp/build-lead or /tmp/build-bench}); skipping"
        fi ;;
    *) die "unknown system '$s' (vtoed,vtoed-lib,ovs-tso)" ;;
    esac
done
[ ${#SYS_LIST[@]} -gt 0 ] || die "no system to measure"

# ---------------------------------------------------------------- state / cleanup
[ -n "$WORKDIR" ] || WORKDIR=$(mktemp -d /tmp/tsob.XXXXXX)
mkdir -p "$WORKDIR" || die "cannot create $WORKDIR"
RUN_ID=$$
START_TS=$(date +%s)
ORIG_NR_HP=""
HP_SYSFS=/sys/kernel/mm/hugepages/hugepages-2048kB/nr_hugepages
MOUNTED_HUGETLBFS=""
PIDS=()           # every background process we started (timeout wrappers)
CUR_SUT=""


cleanup() {
    local rc=$?
    trap - EXIT INT TERM
    [ -n "$CUR_SUT" ] && sut_stop 2>/dev/null
    local p
    for p in "${PIDS[@]}"; do kill_pid "$p" 5; done
    rm -rf /var/run/dpdk/bench-*-"$RUN_ID"-* 2>/dev/null
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

elapsed() { echo $(( $(date +%s) - START_TS )); }

# ---------------------------------------------------------------- systems under test
# Each sut_start_* sets SOCK1 SOCK2 (the sockets tso-gen will create; the
# switch connects to them as a vhost-user client, retrying) and returns
# non-zero on failure.  sut_stop stops whatever is running.  Commands are
# shown in full for the first measurement of each system.
SUT_PIDS=()
SUT_CHILDREN=()   # the daemons under the timeout(1) wrappers, to make sure they are gone
SOCK1=""; SOCK2=""
declare -A SHOWN

sut_start_vtoed-lib() { VTOED_DIRECT=false sut_start_vtoed; }
sut_start_vtoed() {
    local d=$WORKDIR/m$MEAS show=${SHOWN[vtoed${VTOED_DIRECT:-}]:-1}
    SOCK1=$d/vm1.sock; SOCK2=$d/vm2.sock
    cat >"$d/vtoed.yaml" <<EOF
lcores: {main: $GEN_CPU, workers: [$SUT_CPU]}
memory: {hugepages: auto, mbufs: 16384}
control: {socket: $d/vtoed.sock, mode: "0660"}
eal: {file_prefix: bench-vtoed-$RUN_ID-$MEAS}
datapath: {direct: ${VTOED_DIRECT:-true}}
vms:
  - name: vm1
    ports:
      - {name: vm1.0, socket: $SOCK1, mode: client, mac: "$MAC1", queues: 1, offloads: true}
  - name: vm2
    ports:
      - {name: vm2.0, socket: $SOCK2, mode: client, mac: "$MAC2", queues: 1, offloads: true}
EOF
    local cmd=("$VTOED" --config "$d/vtoed.yaml")
    if [ "$show" = 1 ]; then
        sed 's/^/    | /' "$d/vtoed.yaml"
        show_cmd "${cmd[@]}"
        SHOWN[vtoed${VTOED_DIRECT:-}]=0
    fi
    start_bg "$d/vtoed.log" $((DURATION + WARMUP + 120)) "${cmd[@]}"
    SUT_PIDS=("$BG_PID")
    sleep 0.2; SUT_CHILDREN=($(pgrep -P "$BG_PID"))
    wait_for 30 "vtoed control socket" test -S "$d/vtoed.sock" || {
        tail -20 "$d/vtoed.log" | sed 's/^/    vtoed: /' >&2; return 1; }
}

OVS_DIR=""
ovs_vsctl() { timeout 20 ovs-vsctl --db="unix:$OVS_DIR/db.sock" --timeout=15 "$@"; }
ovs_appctl() { timeout 10 ovs-appctl -t "$OVS_DIR/ovs-vswitchd.ctl" "$@"; }
sut_start_ovs-tso() {
    local d=$WORKDIR/m$MEAS show=${SHOWN[ovs]:-1}
    OVS_DIR=$d/ovs
    mkdir -p "$OVS_DIR"
    SOCK1=$d/vm1.sock; SOCK2=$d/vm2.sock
    SHOWN[ovs]=0
    if [ "$show" = 1 ]; then
        echo "  (environment: OVS_RUNDIR=OVS_DBDIR=OVS_LOGDIR=OVS_SYSCONFDIR=$OVS_DIR)"
    fi
    export OVS_RUNDIR=$OVS_DIR OVS_DBDIR=$OVS_DIR OVS_LOGDIR=$OVS_DIR OVS_SYSCONFDIR=$OVS_DIR
    local to=$((DURATION + WARMUP + 150)) c
    [ "$show" = 1 ] && show_cmd ovsdb-tool create "$OVS_DIR/conf.db" "$OVS_SCHEMA"
    timeout 20 ovsdb-tool create "$OVS_DIR/conf.db" "$OVS_SCHEMA" || return 1
    c=(ovsdb-server "--remote=punix:$OVS_DIR/db.sock" "--pidfile=$OVS_DIR/ovsdb-server.pid"
        "--unixctl=$OVS_DIR/ovsdb-server.ctl" "--log-file=$OVS_DIR/ovsdb-server.log" "$OVS_DIR/conf.db")
    [ "$show" = 1 ] && show_cmd taskset -c "$GEN_CPU" "${c[@]}"
    start_bg "$OVS_DIR/ovsdb-server.out" "$to" taskset -c "$GEN_CPU" "${c[@]}"
    SUT_PIDS=("$BG_PID")
    wait_for 20 "ovsdb-server socket" test -S "$OVS_DIR/db.sock" || return 1
    c=(--no-wait init -- set Open_vSwitch . other_config:dpdk-init=true
        "other_config:dpdk-lcore-mask=0x$(printf %x $((1 << GEN_CPU)))"
        "other_config:pmd-cpu-mask=0x$(printf %x $((1 << SUT_CPU)))"
        other_config:dpdk-socket-mem=1024
        "other_config:dpdk-extra=--file-prefix=bench-ovs-$RUN_ID-$MEAS --no-pci"
        other_config:userspace-tso-enable=true)
    [ "$show" = 1 ] && show_cmd ovs-vsctl --db="unix:$OVS_DIR/db.sock" --timeout=15 "${c[@]}"
    ovs_vsctl "${c[@]}" || return 1
    # the main (non-PMD) thread and its helpers stay on the generator CPU; the
    # PMD thread pins itself to pmd-cpu-mask.
    c=(taskset -c "$GEN_CPU" "$OVS_VSWITCHD" "unix:$OVS_DIR/db.sock" "--pidfile=$OVS_DIR/ovs-vswitchd.pid"
        "--unixctl=$OVS_DIR/ovs-vswitchd.ctl" "--log-file=$OVS_DIR/ovs-vswitchd.log")
    [ "$show" = 1 ] && show_cmd "${c[@]}"
    start_bg "$OVS_DIR/ovs-vswitchd.out" "$to" "${c[@]}"
    SUT_PIDS+=("$BG_PID")
    sleep 0.2; SUT_CHILDREN=($(pgrep -P "${SUT_PIDS[0]}") $(pgrep -P "$BG_PID"))
    wait_for 60 "ovs-vswitchd control socket" test -S "$OVS_DIR/ovs-vswitchd.ctl" || {
        tail -20 "$OVS_DIR/ovs-vswitchd.log" "$OVS_DIR/ovs-vswitchd.out" 2>/dev/null | sed 's/^/    ovs: /' >&2; return 1; }
    c=(add-br br0 -- set bridge br0 datapath_type=netdev
        -- add-port br0 vm1 -- set Interface vm1 type=dpdkvhostuserclient "options:vhost-server-path=$SOCK1" ofport_request=1
        -- add-port br0 vm2 -- set Interface vm2 type=dpdkvhostuserclient "options:vhost-server-path=$SOCK2" ofport_request=2)
    [ "$show" = 1 ] && show_cmd ovs-vsctl --db="unix:$OVS_DIR/db.sock" --timeout=15 "${c[@]}"
    ovs_vsctl "${c[@]}" || { tail -20 "$OVS_DIR/ovs-vswitchd.log" | sed 's/^/    ovs: /' >&2; return 1; }
    local br=unix:$OVS_DIR/br0.mgmt f
    wait_for 60 "br0 mgmt socket" test -S "$OVS_DIR/br0.mgmt" || return 1
    [ "$show" = 1 ] && show_cmd ovs-ofctl del-flows "$br"
    timeout 10 ovs-ofctl del-flows "$br" || return 1
    for f in in_port=1,actions=output:2 in_port=2,actions=output:1; do
        [ "$show" = 1 ] && show_cmd ovs-ofctl add-flow "$br" "$f"
        timeout 10 ovs-ofctl add-flow "$br" "$f" || return 1
    done
}

sut_start() { CUR_SUT=$1; SUT_PIDS=(); "sut_start_$1"; }

sut_stop() {
    local p
    case "$CUR_SUT" in
    ovs-tso)
        timeout 10 ovs-appctl -t "$OVS_DIR/ovs-vswitchd.ctl" exit >/dev/null 2>&1
        timeout 5 ovs-appctl -t "$OVS_DIR/ovsdb-server.ctl" exit >/dev/null 2>&1
        unset OVS_RUNDIR OVS_DBDIR OVS_LOGDIR OVS_SYSCONFDIR ;;
    vtoed|vtoed-lib)
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
    # a daemon that outlived its wrapper (slow shutdown) is killed by pid
    for p in "${SUT_CHILDREN[@]}"; do
        kill -0 "$p" 2>/dev/null && { warn "pid $p outlived its timeout wrapper; killing it"; kill -KILL "$p" 2>/dev/null; }
    done
    SUT_PIDS=(); SUT_CHILDREN=(); CUR_SUT=""
}

# ---------------------------------------------------------------- SUT cost and counters
vtoed_cost_snap() {  # vtoed_cost_snap TAG -> "BUSY_CYCLES FRAMES_IN"; keeps the JSON as TAG-*.json
    local d=$WORKDIR/m$MEAS busy frames
    vtoed_q "$d/vtoed.sock" lcores >"$d/$1-lcores.json" 2>/dev/null
    vtoed_q "$d/vtoed.sock" stats >"$d/$1-stats.json" 2>/dev/null
    busy=$(jq '[.[] | select(.role == "worker") | .busy_cycles] | add // 0' "$d/$1-lcores.json" 2>/dev/null)
    frames=$(jq '[(.ports // .)[] | .rx_packets] | add // 0' "$d/$1-stats.json" 2>/dev/null)
    echo "${busy:-0} ${frames:-0}"
}
# One line of what the switch saw, for the log: did the frames pass whole?
vtoed_note() {
    local f=$WORKDIR/m$MEAS/end-stats.json
    jq -r '[(.ports // .)[] | "\(.name): rx \(.rx_packets) (\(if .rx_packets > 0 then (.rx_bytes / .rx_packets | floor) else 0 end) B avg) tx \(.tx_packets) (\(if .tx_packets > 0 then (.tx_bytes / .tx_packets | floor) else 0 end) B avg) retries \(.tx_retries // 0) drops \(.drops_total)" +
        (if ([.drops | to_entries[] | select(.value > 0)] | length) > 0 then " \(.drops | with_entries(select(.value > 0)) | tojson)" else "" end) +
        " offload{validated \(.offload.validated // "-") csum_sw \(.offload.csum_sw // "-") segmented \(.offload.segmented // "-") coalesced \(.offload.coalesced // "-") drops \([.offload.drops[]?] | add // 0)}" +
        " feats \([.feature_names[]? | select(test("CSUM|TSO|MRG|IN_ORDER"))] | join(","))"] | join("; ")' "$f" 2>/dev/null
}
ovs_stats() {  # ovs_stats IFACE -> "rx_packets=N rx_bytes=N tx_packets=... (non-zero drop/error counters)"
    ovs_vsctl get Interface "$1" statistics 2>/dev/null | tr -d '{}"' | tr ',' '\n' | sed 's/^ *//' |
        awk -F= '$1 ~ /^(rx|tx)_(packets|bytes)$/ || $1 ~ /size_1519|1523|jumbo/ || ($1 ~ /drop|retr|fail|error/ && $2 != 0)' | paste -sd' '
}
ovs_note() {
    local i st s
    for i in vm1 vm2; do
        st=$(ovs_stats "$i")
        s=$(awk '{ for (k = 1; k <= NF; k++) { split($k, kv, "="); v[kv[1]] = kv[2] }
            printf "rx avg %d B, tx avg %d B", (v["rx_packets"] > 0 ? v["rx_bytes"] / v["rx_packets"] : 0),
                (v["tx_packets"] > 0 ? v["tx_bytes"] / v["tx_packets"] : 0) }' <<<"$st")
        echo -n "$i: $st ($s); "
    done
}

# ---------------------------------------------------------------- one measurement
# gen_measure -> sets GEN_RESULT="GBPS FPS SUPER% LOST FOREIGN% STEAL% GEN_BUSY% CYC/FRAME MCYC/GBIT CORE_GBPS"
GEN_RESULT=""
SUT_NOTE=""
gen_measure() {
    local d=$WORKDIR/m$MEAS glog=$WORKDIR/m$MEAS/gen.log
    local cmd=("$GEN" --lcores "0@$GEN_CPU" --file-prefix "bench-tsogen-$RUN_ID-$MEAS" --no-pci
        --single-file-segments -m 512
        --vdev "net_virtio_user0,path=$SOCK1,mac=$MAC1,queues=1,queue_size=1024,server=1"
        --vdev "net_virtio_user1,path=$SOCK2,mac=$MAC2,queues=1,queue_size=1024,server=1"
        -- --dst "$MAC2" --size "$SIZE" --mss "$MSS" --window "$WINDOW"
        --warmup "$WARMUP" --duration "$DURATION" --link-timeout 30)
    [ "${SHOWN[gen]:-1}" = 1 ] && { show_cmd "${cmd[@]}"; SHOWN[gen]=0; }
    start_bg "$glog" $((DURATION + WARMUP + 90)) "${cmd[@]}"
    local gpid=$BG_PID ok=1 c0="" c1="" s0="" s1="" f=0 st=0 scpf=""
    # tso-gen waits in EAL init until the switch has connected to both
    # sockets (the switch retries every second), then warms up
    wait_for $((WARMUP + 60)) "tso-gen window start" grep -q '^phase window' "$glog" || ok=0
    if [ $ok = 1 ]; then
        case "$CUR_SUT" in
        ovs-tso) ovs_appctl dpif-netdev/pmd-stats-clear >/dev/null 2>&1 ;;
        vtoed|vtoed-lib) c0=$(vtoed_cost_snap begin) ;;
        esac
        s0=$(cpu_snapshot)
        wait_for $((DURATION + 30)) "tso-gen window end" grep -q '^phase done' "$glog" || ok=0
        s1=$(cpu_snapshot)
        case "$CUR_SUT" in
        ovs-tso)
            ovs_appctl dpif-netdev/pmd-perf-show >"$d/ovs-pmd-perf.txt" 2>&1
            # "- Used TSC cycles:  U  ( 99.8 % of total cycles)"
            # "- busy iterations:  N  ( 95.3 % of used cycles)"
            # "  Rx packets:  P  (4170 Kpps, 559 cycles/pkt)"
            scpf=$(awk '/Used TSC cycles:/ { u = $5 } /busy iterations:/ { b = $6 }
                /Rx packets:/ { p = $3 } END { if (p > 0) printf "%.0f", u * b / 100 / p }' "$d/ovs-pmd-perf.txt")
            ovs_vsctl list Interface vm1 vm2 >"$d/ovs-interfaces.txt" 2>&1
            SUT_NOTE=$(ovs_note) ;;
        vtoed|vtoed-lib)
            c1=$(vtoed_cost_snap end)
            scpf=$(awk -v a="$c0" -v b="$c1" 'BEGIN { split(a, x, " "); split(b, y, " ")
                if (y[2] - x[2] > 0) printf "%.0f", (y[1] - x[1]) / (y[2] - x[2]) }')
            SUT_NOTE=$(vtoed_note) ;;
        esac
    fi
    wait_for 20 "tso-gen exit" bash -c "! kill -0 $gpid 2>/dev/null"
    kill_pid "$gpid" 5
    forget_pid "$gpid"
    [ -n "$s0" ] && [ -n "$s1" ] && read -r f st <<<"$(foreign_pct "$s0" "$s1")"
    gv() { sed -n "s/^$1 //p" "$glog" | tail -1; }
    local gbps fps rxf sup lost gbusy hz
    gbps=$(gv gbps) fps=$(gv fps) rxf=$(gv rx_frames) sup=$(gv rx_super) lost=$(gv lost) gbusy=$(gv gen_busy_pct) hz=$(gv tsc_hz)
    if [ -z "$gbps" ] || [ "${rxf:-0}" = 0 ]; then
        grep -v '^EAL' "$glog" | tail -8 | sed 's/^/    tso-gen: /' >&2
        GEN_RESULT=""
        return 1
    fi
    GEN_RESULT=$(awk -v g="$gbps" -v fps="$fps" -v rxf="$rxf" -v sup="$sup" -v l="$lost" -v f="$f" -v st="$st" \
        -v gb="${gbusy:-?}" -v c="${scpf:-?}" -v len=$((SIZE + 14)) -v hz="${hz:-0}" 'BEGIN {
        cg = "?"; cap = "?"
        if (c ~ /^[0-9.]+$/ && c > 0) { cg = sprintf("%.1f", c * 1e9 / (8 * len) / 1e6); if (hz > 0) cap = sprintf("%.1f", hz / (c * 1e9 / (8 * len))) }
        printf "%s %s %.1f %s %s %s %s %s %s %s\n", g, fps, (rxf > 0 ? sup / rxf * 100 : 0), l, f, st, gb, c, cg, cap }')
}

# ---------------------------------------------------------------- main
log "tso_bench: systems=${SYS_LIST[*]} rounds=$ROUNDS size=${SIZE}B (L2 $((SIZE + 14))B) mss=$MSS window=$WINDOW frames warmup=${WARMUP}s duration=${DURATION}s"
log "command: $0 $ARGS_SHOWN"
log "workdir $WORKDIR"
log "machine: $(nproc) CPUs, $(awk -F: '/model name/ {print $2; exit}' /proc/cpuinfo | sed 's/^ *//'), kernel $(uname -r), $(awk '/MemTotal/ {printf "%.0f GiB", $2/1048576}' /proc/meminfo)"
log "versions: dpdk $(dpkg-query -W -f='${Version}' libdpdk-dev 2>/dev/null || echo '?'), openvswitch-switch-dpdk $(dpkg-query -W -f='${Version}' openvswitch-switch-dpdk 2>/dev/null || echo 'not installed')"
# snapshot the binaries: the build dir may be rebuilt while we run
cp "$GEN" "$WORKDIR/tso-gen.bin" || die "cannot copy $GEN"
log "tso-gen: $GEN (sha256 $(sha256sum "$GEN" | cut -c1-16)), run from a copy"
GEN=$WORKDIR/tso-gen.bin
if [[ " ${SYS_LIST[*]} " == *" vtoed"* ]]; then
    cp "$VTOED" "$WORKDIR/vtoed.bin" || die "cannot copy $VTOED"
    log "vtoed: $VTOED ($(stat -c %y "$VTOED" | cut -d. -f1), sha256 $(sha256sum "$VTOED" | cut -c1-16)), run from a copy"
    bo=$(dirname "$VTOED")/../../meson-info/intro-buildoptions.json
    if [ -f "$bo" ]; then
        log "vtoed build: $(python3 -c 'import json,sys; o={x["name"]: x["value"] for x in json.load(open(sys.argv[1]))}; print(" ".join("%s=%s" % (k, o.get(k)) for k in ("buildtype", "optimization", "b_ndebug", "b_sanitize")))' "$bo" 2>/dev/null)"
    fi
    VTOED=$WORKDIR/vtoed.bin
fi
setup_hugepages

RES=$WORKDIR/results.tsv
: >"$RES"
MEAS=0
EST=$((WARMUP + DURATION + 15))    # one measurement, roughly (starts, connects, stops)
HARD_END=$((MAX_TIME + 60))
nsys=${#SYS_LIST[@]}
for ((r = 1; r <= ROUNDS; r++)); do
    for ((k = 0; k < nsys; k++)); do
        sys=${SYS_LIST[$(((k + r - 1) % nsys))]}
        for ((try = 0; try <= RETRIES; try++)); do
            if [ $(( $(elapsed) + EST )) -gt "$HARD_END" ]; then
                warn "round $r $sys: skipped (time bound --max-time $MAX_TIME s + 60)"
                echo -e "$r\t$sys\tSKIP\t0\t0\t0\t0\t0\t-\t-\t-\t-\tskipped" >>"$RES"
                break
            fi
            MEAS=$((MEAS + 1))
            mkdir -p "$WORKDIR/m$MEAS"
            log "round $r/$ROUNDS system $sys (measurement $MEAS$([ "$try" -gt 0 ] && echo ", retry $try"), t=$(elapsed)s)"
            if [ "$(elapsed)" -ge "$MAX_TIME" ]; then
                [ "$QUIET_WAIT" = 0 ] || warn "time budget (--max-time $MAX_TIME s) used up: no more quiet waits or retries"
                QUIET_WAIT=0; RETRIES=0
            fi
            wait_quiet
            if ! sut_start "$sys"; then
                warn "$sys failed to start (logs: $WORKDIR/m$MEAS)"
                sut_stop
                echo -e "$r\t$sys\tFAIL\t0\t0\t0\t0\t0\t-\t-\t-\t-\tfailed" >>"$RES"
                break
            fi
            SUT_NOTE=""
            if ! gen_measure; then
                warn "$sys: nothing measured (logs: $WORKDIR/m$MEAS)"
                sut_stop
                echo -e "$r\t$sys\tFAIL\t0\t0\t0\t0\t0\t-\t-\t-\t-\tfailed" >>"$RES"
                break
            fi
            sut_stop
            read -r gbps fps sup lost fpct steal gbusy cpf cpg cap <<<"$GEN_RESULT"
            log "  => $sys: $gbps Gbit/s, $fps frames/s, ${sup}% super-frames, $lost lost; SUT core $cpf busy cycles/frame," \
                "$cpg Mcycles/Gbit (one core: $cap Gbit/s); tso-gen busy ${gbusy}%; foreign CPU ${fpct}%, steal ${steal}%"
            log "     switch: $SUT_NOTE"
            clean=clean
            if awk -v f="$fpct" -v m="$FOREIGN_MAX" 'BEGIN { exit !(f > m) }'; then
                clean=polluted
                if [ "$try" -lt "$RETRIES" ] && [ $(( $(elapsed) + EST )) -le "$MAX_TIME" ]; then
                    warn "window polluted by other processes (${fpct}% of a CPU); re-measuring"
                    continue
                fi
                warn "window polluted by other processes (${fpct}% of a CPU); keeping it, flagged '*'"
            fi
            echo -e "$r\t$sys\t$gbps\t$fps\t$sup\t$lost\t$fpct\t$steal\t$gbusy\t$cpf\t$cpg\t$cap\t$clean" >>"$RES"
            break
        done
    done
done

# ---------------------------------------------------------------- summary
# results.tsv: 1 round, 2 system, 3 Gbit/s, 4 frames/s, 5 super%, 6 lost,
# 7 foreign%, 8 steal%, 9 gen busy%, 10 cycles/frame, 11 Mcycles/Gbit,
# 12 one-core Gbit/s, 13 clean|polluted|failed|skipped
# col_median SYS COL: over clean windows, else over all measured (then "*")
col_median() {
    local m
    m=$(awk -F'\t' -v s="$1" -v c="$2" '$2 == s && $13 == "clean" && $c ~ /^[0-9.]+$/ { print $c }' "$RES" | median)
    if [ "$m" = nan ]; then
        m=$(awk -F'\t' -v s="$1" -v c="$2" '$2 == s && $13 == "polluted" && $c ~ /^[0-9.]+$/ { print $c }' "$RES" | median)
        [ "$m" = nan ] || m="$m*"
    fi
    echo "$m"
}
col_all() { # col_all SYS COL: per-round values, '*' for polluted windows
    awk -F'\t' -v s="$1" -v c="$2" '$2 == s { printf "%s%s%s", sep, ($13 == "failed" || $13 == "skipped") ? toupper($13) : $c, ($13 == "polluted" ? "*" : ""); sep = " " }' "$RES"
}
# per_round A B COL: "ROUND A/B" for every round in which both have a number
per_round() {
    awk -F'\t' -v a="$1" -v b="$2" -v c="$3" '
        $c !~ /^[0-9.]+$/ || ($13 != "clean" && $13 != "polluted") { next }
        $2 == a { x[$1] = $c; px[$1] = ($13 == "polluted") }
        $2 == b { y[$1] = $c; py[$1] = ($13 == "polluted") }
        END { for (r = 1; r <= 1000; r++) if ((r in x) && (r in y) && y[r] > 0) printf "%d %.6f %s\n", r, x[r] / y[r], (px[r] || py[r]) ? "*" : "" }' "$RES"
}
summary() {
    local s
    echo
    echo "## tso_bench results ($(date -u +%Y-%m-%dT%H:%MZ); $ROUNDS rounds; ${DURATION}s window; TCP super-frames of $((SIZE + 14)) B L2, MSS $MSS, window $WINDOW frames; median of the rounds)"
    echo
    echo "| system | Gbit/s | per round | frames/s | super-frames | lost/window | SUT busy cycles/frame | SUT Mcycles/Gbit | one core at 100 % busy |"
    echo "|---|---:|---|---:|---:|---:|---:|---:|---:|"
    for s in "${SYS_LIST[@]}"; do
        echo "| $s | **$(col_median "$s" 3)** | $(col_all "$s" 3) | $(col_median "$s" 4) | $(col_median "$s" 5) % |" \
            "$(col_all "$s" 6) | $(col_median "$s" 10) ($(col_all "$s" 10)) | $(col_median "$s" 11) ($(col_all "$s" 11)) | $(col_median "$s" 12) Gbit/s |"
    done
    echo
    echo "(Gbit/s = L2 bytes received whole or not at tso-gen's sink; super-frames = share of received frames"
    echo "longer than 1514 B, i.e. passed whole; SUT cost per frame entering the switch, per Gbit ="
    echo "per frame x 1e9 / (8 x $((SIZE + 14)) B); one core = TSC Hz / cycles per Gbit; * = window polluted by"
    echo "other processes' CPU use above ${FOREIGN_MAX}% of a CPU, left out of the median when a clean one exists)"
    local a b pr first=1
    for a in vtoed vtoed-lib; do
        for b in ovs-tso vtoed-lib; do
            [ "$a" = "$b" ] && continue
            [[ " ${SYS_LIST[*]} " == *" $a "* && " ${SYS_LIST[*]} " == *" $b "* ]] || continue
            if [ $first = 1 ]; then
                echo
                echo "Paired ratios (same round; median, then per round):"
                first=0
            fi
            pr=$(per_round "$a" "$b" 3)
            [ -n "$pr" ] && printf -- '- Gbit/s %s/%s: **%.2fx** (%s )\n' "$a" "$b" "$(cut -d' ' -f2 <<<"$pr" | median)" \
                "$(awk '{ printf " r%s:%.2f%s", $1, $2, $3 }' <<<"$pr")"
            pr=$(per_round "$b" "$a" 11)
            [ -n "$pr" ] && printf -- '- SUT core cycles per Gbit %s/%s: **%.2fx** (%s ) (> 1: %s spends less per byte)\n' \
                "$b" "$a" "$(cut -d' ' -f2 <<<"$pr" | median)" "$(awk '{ printf " r%s:%.2f%s", $1, $2, $3 }' <<<"$pr")" "$a"
        done
    done
}
summary | tee "$WORKDIR/summary.md"
[ -n "$RESULTS_FILE" ] && cp "$WORKDIR/summary.md" "$RESULTS_FILE"
echo
log "raw results (round system Gbit/s frames/s super% lost foreign_cpu% steal% gen_busy% sut_cycles/frame sut_Mcycles/Gbit one_core_Gbit/s clean): $RES"
sed 's/^/    /' "$RES"
if grep -qP '\t(failed)$' "$RES"; then exit 1; fi
exit 0
