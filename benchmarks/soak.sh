#!/bin/bash
# SPDX-License-Identifier: BSD-3-Clause
# soak.sh - vtoed built with ASan + UBSan, left running for N minutes under
# mixed traffic, port churn and guest restarts; then leaks, crashes, the
# switch's books and its mbufs.  Not part of CI.
#
#   benchmarks/soak.sh [--minutes N] [--build DIR] [--guests 0|1] [--seed N] [--keep]
#
#   flow A  vtoe-inject on vm1.0 -> vm2.0 (unicast)      restarted every 20-60 s,
#   flow B  vtoe-inject on vm2.0 -> vm1.0, every 10th    by SIGTERM or SIGKILL,
#           frame broadcast (all ports + the uplink)     each life a new rate/size
#   churn   every 10 s one step by `vtoectl reload`: vm3.0 + vm4.0 added (a
#           vtoe-inject on each: vm3 -> unknown MAC (to the uplink), vm4 ->
#           vm1), then both re-created (vm3 a new MAC, vm4 2 queues, impair,
#           offloads off) under their live generators, then removed under
#           them; vm1's weight and fdb.ageing change live every cycle, the
#           uplink is re-created (queue_packets) every 5th cycle
#   guests  (--guests 1, default when QEMU is there) g1.0 / g2.0: two QEMU/TCG
#           guests, g1 doing ping + 64 KiB TCP echo rounds against g2, the
#           host pinging g2 through the uplink tap; one of them killed and
#           booted again every 5 minutes (a third of the run if shorter)
#   +------------------------------------------------------------------+
#   | vtoed (ASan+UBSan, its own config/socket/file prefix), workers   |
#   | lcore 1 and 2 both on CPU 1; up0 = net_tap (host side: a tap)    |
#   +------------------------------------------------------------------+
#
# At the end (traffic stopped, 1 s for queued frames): `vtoectl --json
# stats` totals.in_flight must be 0 and mbufs.in_use back to what it was
# before any traffic; then SIGTERM: vtoed must exit 0 and LeakSanitizer
# (ASAN_OPTIONS=detect_leaks=1, log_path in the scratch dir) must report
# nothing, nor ASan/UBSan anything during the run.  vtoed must stay up
# throughout.  Prints a summary; exit 0 when every check passed, 1 if not.
#
# Everything runs under nice 15 (the script re-executes itself), the
# script and the generators on CPU 0.  Default build: build-asan (a meson
# build dir with -Db_sanitize=address,undefined; relative to the repo).
set -u -o pipefail
MINUTES=60 BUILD_ARG=build-asan GUESTS=auto SEED=$$ KEEP=0
ARGS_SHOWN="$*"
[ "$(nice)" -ge 15 ] || exec nice -n $((15 - $(nice))) "$0" "$@"
while [ $# -gt 0 ]; do
	case $1 in
	--minutes) MINUTES=$2; shift ;;
	--build) BUILD_ARG=$2; shift ;;
	--guests) GUESTS=$2; shift ;;
	--seed) SEED=$2; shift ;;
	--keep) KEEP=1 ;;
	-h | --help) sed -n '3,36p' "$0"; exit 0 ;;
	*) echo "soak.sh: unknown option $1" >&2; exit 2 ;;
	esac
	shift
done
if ! [[ $MINUTES =~ ^[0-9]+$ ]] || [ "$MINUTES" -lt 1 ]; then echo "soak.sh: --minutes N (N >= 1)" >&2; exit 2; fi
case $BUILD_ARG in /*) ;; *) BUILD_ARG=$(cd "$(dirname "$0")/.." && pwd)/$BUILD_ARG ;; esac
export VTOE_BUILD=$BUILD_ARG VTOE_KEEP=$KEEP
unset VTOED VTOECTL VTOE_INJECT
# shellcheck source=../tests/integration/lib/common.sh
source "$(dirname "$0")/../tests/integration/lib/common.sh"
# shellcheck source=../tests/integration/lib/guest.sh
source "$(dirname "$0")/../tests/integration/lib/guest.sh"
taskset -pc "$OTHER_CPUS" $$ >/dev/null     # off the worker's CPU
RANDOM=$SEED

need_root
need_binaries "$VTOED" "$VTOECTL" "$VTOE_INJECT"
need_hugepages 256
bo=$VTOE_BUILD/meson-info/intro-buildoptions.json
SANITIZE=$(jq -r '.[] | select(.name == "b_sanitize") | .value' "$bo" 2>/dev/null)
[[ $SANITIZE == *address* ]] || die "$VTOE_BUILD is not an ASan build (b_sanitize=$SANITIZE)"
# run from copies: a rebuild during the soak does not change what runs
mkdir -p "$WORK/bin" "$WORK/san" "$WORK/inj"
cp "$VTOED" "$VTOECTL" "$VTOE_INJECT" "$WORK/bin/" || die "cannot copy the binaries"
VTOECTL=$WORK/bin/vtoectl VTOE_INJECT=$WORK/bin/vtoe-inject
# vtoed itself may use every CPU (its workers are pinned by its lcores)
printf '#!/bin/sh\nexec taskset -c 0-%d %s "$@"\n' $((NCPU - 1)) "$WORK/bin/vtoed" >"$WORK/bin/vtoed-all-cpus"
chmod +x "$WORK/bin/vtoed-all-cpus"
VTOED=$WORK/bin/vtoed-all-cpus
SAN=$WORK/san
if [ "$GUESTS" = auto ]; then guest_tools_present && GUESTS=1 || GUESTS=0; fi
[ "$GUESTS" = 1 ] && guest_prepare

DUR=$((MINUTES * 60))
CHURN_SECS=10
GUEST_EVERY=$((DUR / 3 < 300 ? DUR / 3 : 300))
TAP=vtoesk$$
CONF=$WORK/vtoed.yaml VLOG=$WORK/vtoed.log
VM3_SOCK=$WORK/vm3.0.sock VM4_SOCK=$WORK/vm4.0.sock VM4_MAC=52:54:00:00:04:01
G1_SOCK=$WORK/g1.0.sock G2_SOCK=$WORK/g2.0.sock G1_MAC=52:54:00:00:11:01 G2_MAC=52:54:00:00:12:01
NET=10.213.0 HOST_IP=10.213.0.253 GHOST_MAC=02:00:00:00:00:99
# generator lives: "LEN PPS ALT_EVERY" (ALT_EVERY: every Nth frame broadcast, 0 never)
PROFILES_A=("64 20000 0" "1514 5000 0" "512 10000 0" "128 40000 0")
PROFILES_B=("1514 2000 10" "64 10000 20" "256 5000 10")

soak_cleanup() {
	local rc=$?
	(exit "$rc"); t_cleanup
	ip link show "$TAP" >/dev/null 2>&1 && ip link del "$TAP" 2>/dev/null
	return "$rc"
}
trap soak_cleanup EXIT

# ------------------------------------------------------------ the port map
# soak_conf CHURN_STATE: 0 without vm3/vm4, 1 added, 2 both re-created
CY=0                                    # churn cycles begun
soak_conf() {
	local st=$1 qp=$((CY / 5 % 2 ? 2048 : 1024)) w=$((CY % 2 + 1)) age=$((CY % 2 ? 60 : 30))
	local mac3; mac3=$(printf '52:54:00:00:%02x:%02x' $((st == 2 ? 5 : 3)) $((CY % 250)))
	{
		config_head "$CTL_SOCK" soak "$WORKER_CPU, \"2@$WORKER_CPU\""
		cat <<EOF
fdb: {size: 4096, ageing: $age}
uplinks:
  - {name: up0, device: "net_tap0,iface=$TAP", queue_packets: $qp}
vms:
  - name: vm1
    ports:
      - {name: vm1.0, socket: $VM1_SOCK, mac: "$VM1_MAC", uplink: up0, weight: $w}
  - name: vm2
    ports:
      - {name: vm2.0, socket: $VM2_SOCK, mac: "$VM2_MAC", uplink: up0}
EOF
		[ "$GUESTS" = 1 ] && cat <<EOF
  - name: g1
    ports:
      - {name: g1.0, socket: $G1_SOCK, mac: "$G1_MAC", uplink: up0, ip: $NET.1/24, gateway: $NET.254}
  - name: g2
    ports:
      - {name: g2.0, socket: $G2_SOCK, mac: "$G2_MAC", uplink: up0, ip: $NET.2/24, gateway: $NET.254}
EOF
		[ "$st" != 0 ] && cat <<EOF
  - name: vm3
    ports:
      - {name: vm3.0, socket: $VM3_SOCK, mac: "$mac3", uplink: up0, ip: 10.214.0.3/24, gateway: 10.214.0.1}
  - name: vm4
    ports:
EOF
		[ "$st" = 1 ] && cat <<EOF
      - {name: vm4.0, socket: $VM4_SOCK, mac: "$VM4_MAC", queues: 1, uplink: up0}
EOF
		[ "$st" = 2 ] && cat <<EOF
      - {name: vm4.0, socket: $VM4_SOCK, mac: "$VM4_MAC", queues: 2, uplink: up0, offloads: false,
         impair: {drop: 1%, reorder: 1%, delay: 2ms}}
EOF
	} >"$CONF.new"
	mv "$CONF.new" "$CONF"
	MAC3=$mac3
}

# ------------------------------------------------------------------ helpers
stats() { ctl --json stats 2>/dev/null; }
jv() { jq -r "(.result // .) | $2" <<<"$1" 2>/dev/null; }  # JSON FILTER
num() { [[ ${1:-} =~ ^-?[0-9]+$ ]] && echo "$1" || echo -1; }
cnt() { [[ ${1:-} =~ ^[0-9]+$ ]] && echo "$1" || echo 0; }  # a counter, 0 when absent
rss_mb() { awk '/VmRSS/ {printf "%d", $2 / 1024}' "/proc/$VTOED_PID/status" 2>/dev/null; }
vtoed_alive() { kill -0 "$VTOED_PID" 2>/dev/null; }
untrack() { local p n=(); for p in "${T_PIDS[@]}"; do [ "$p" = "$1" ] || n+=("$p"); done; T_PIDS=("${n[@]}"); }
# alive PID: running (not exited, not a zombie); read from /proc, no ps
alive() { local s; s=$(cat "/proc/$1/stat" 2>/dev/null) || return 1; s=${s##*) }; case ${s%% *} in Z | X) return 1 ;; esac; }
child_of() { pgrep -P "$1" | head -1; }    # the command under a timeout wrapper
# running WRAPPER START: its command runs (allowing 5 s to start it up)
running() { local c; c=$(child_of "$1"); { [ -n "$c" ] && alive "$c"; } || { alive "$1" && [ $((SECONDS - $2)) -lt 5 ]; }; }

# Processes are stopped, then reaped later: the kernel may take many
# seconds to release an exited ASan process (wait4 in shrink_dcache_parent)
# and the soak does not wait for that.
REAP=()
# stop WRAPPER SIG [CPU_VAR]: signal the command under WRAPPER, wait (15 s)
# until it has gone; its CPU seconds so far are added to CPU_VAR
CPU_GEN=0 CPU_QEMU=0 CLK=$(getconf CLK_TCK)
cpu_add() {  # VAR PID
	local -n acc=$1
	acc=$(awk -v a="$acc" -v hz="$CLK" '{ printf "%.2f", a + ($14 + $15) / hz }' "/proc/$2/stat" 2>/dev/null || echo "$acc")
}
stop() {
	local pid=$1 sig=$2 c t
	[ -n "$pid" ] || return 0
	c=$(child_of "$pid")
	if [ -n "$c" ] && alive "$c"; then
		[ -n "${3:-}" ] && cpu_add "$3" "$c"
		kill -"$sig" "$c" 2>/dev/null
		t=$((SECONDS + 15))
		while alive "$c" && [ $SECONDS -lt $t ]; do sleep 0.1; done
		alive "$c" && { log "pid $c ignored SIG$sig for 15 s: SIGKILL"; kill -KILL "$c" 2>/dev/null; }
	fi
	REAP+=("$pid")
	reap
}
reap() {
	local p n keep=()
	for p in "${REAP[@]}"; do
		if alive "$p"; then keep+=("$p"); continue; fi
		wait "$p" 2>/dev/null; untrack "$p"
		eval "n=\${INJ_NUM_$p:-}"
		[ -n "$n" ] && rm -rf "/var/run/dpdk/$(dpdk_prefix "inj$n")"
	done
	REAP=("${keep[@]}")
}

# the host's side of the uplink: no IPv6 chatter, an address beside the guests'
tap_setup() {
	wait_for 10 ip link show "$TAP" >/dev/null 2>&1 || { log "tap $TAP missing"; return 1; }
	echo 1 >"/proc/sys/net/ipv6/conf/$TAP/disable_ipv6" 2>/dev/null
	ip addr add "$HOST_IP/24" dev "$TAP" 2>/dev/null
	ip link set "$TAP" up
}

# inject_start NAME SOCK MAC QUEUES ARGS...: a vtoe-inject "guest" on CPU 0;
# INJ_PID is its timeout wrapper, its report $WORK/inj/NAME.N.out
INJ_N=0 INJ_KILLED=0 INJ_TERMED=0 INJ_EARLY=0
inject_start() {
	local name=$1 sock=$2 mac=$3 q=$4; shift 4
	INJ_N=$((INJ_N + 1))
	ASAN_OPTIONS=detect_leaks=0:log_path=$SAN/inject UBSAN_OPTIONS=print_stacktrace=1:log_path=$SAN/inject \
	timeout -k 5 $((DUR + 300)) taskset -c "$OTHER_CPUS" "$VTOE_INJECT" -l "$MAIN_CPU" --no-pci --no-huge -m 64 \
		--file-prefix="$(dpdk_prefix "inj$INJ_N")" --log-level=4 \
		--vdev "net_virtio_user0,path=$sock,mac=$mac,queues=$q,queue_size=1024" -- \
		--link-timeout 30 --wait 300 "$@" >"$WORK/inj/$name.$INJ_N.out" 2>&1 &
	INJ_PID=$!; track "$INJ_PID"
	disown "$INJ_PID"      # no "Killed" notices; bash still reaps it
	eval "INJ_NUM_$INJ_PID=$INJ_N"
}
# inject_stop WRAPPER [TERM|KILL]: a guest that leaves, or one that dies
inject_stop() {
	[ -n "$1" ] || return 0
	if running "$1" 0; then
		[ "${2:-TERM}" = KILL ] && INJ_KILLED=$((INJ_KILLED + 1)) || INJ_TERMED=$((INJ_TERMED + 1))
	fi
	stop "$1" "${2:-TERM}" CPU_GEN
}
pick_sig() { [ $((RANDOM % 3)) = 0 ] && echo KILL || echo TERM; }

# ------------------------------------------------------------- flows A, B
# FLOW_PID_f, FLOW_T0_f (started, $SECONDS), FLOW_NEXT_f (when its life ends): set and read through eval
FLOW_PID_A='' FLOW_PID_B='' LIVES_A=0 LIVES_B=0
flow_start() {  # A|B
	local f=$1 prof len pps alt sock mac dst
	if [ "$f" = A ]; then
		prof=${PROFILES_A[$((LIVES_A % ${#PROFILES_A[@]}))]}; LIVES_A=$((LIVES_A + 1))
		sock=$VM1_SOCK mac=$VM1_MAC dst=$VM2_MAC
	else
		prof=${PROFILES_B[$((LIVES_B % ${#PROFILES_B[@]}))]}; LIVES_B=$((LIVES_B + 1))
		sock=$VM2_SOCK mac=$VM2_MAC dst=$VM1_MAC
	fi
	read -r len pps alt <<<"$prof"
	local extra=()
	[ "$alt" -gt 0 ] && extra=(--alt-dst ff:ff:ff:ff:ff:ff --alt-every "$alt")
	inject_start "$f" "$sock" "$mac" 1 --send "$len:$((pps * (DUR + 600)))" --pps "$pps" --dst "$dst" "${extra[@]}"
	eval "FLOW_PID_$f=$INJ_PID FLOW_T0_$f=$SECONDS FLOW_NEXT_$f=$(( $(date +%s) + 20 + RANDOM % 41 ))"
}
flow_tick() {  # A|B: restart when its life is over, or when it ended by itself
	local f=$1 pid next t0
	eval "pid=\$FLOW_PID_$f next=\$FLOW_NEXT_$f t0=\$FLOW_T0_$f"
	if [ -n "$pid" ] && ! running "$pid" "$t0"; then
		INJ_EARLY=$((INJ_EARLY + 1)); log "flow $f ended by itself; restarting"
		inject_stop "$pid"; flow_start "$f"
	elif [ "$(date +%s)" -ge "$next" ]; then
		inject_stop "$pid" "$(pick_sig)"
		sleep "0.$((RANDOM % 10))"
		flow_start "$f"
	fi
}

# ------------------------------------------------------------------ churn
CH_STATE=0 CH_PID_C='' CH_PID_D='' RELOADS=0 RELOAD_BAD=0 N_ADDED=0 N_CHANGED=0 N_REMOVED=0 N_UPLINK=0 RELOAD_MAX_MS=0
reload_expect() {  # LIST PORTS...: reload; every PORT must be in the answer's LIST
	local list=$1 ans p t ok=1; shift
	RELOADS=$((RELOADS + 1))
	t=${EPOCHREALTIME/./}
	ans=$(timeout 40 "$VTOECTL" --socket "$CTL_SOCK" --timeout 30 --json reload 2>&1) || ok=0
	t=$(( (${EPOCHREALTIME/./} - t) / 1000 ))
	[ "$t" -gt "$RELOAD_MAX_MS" ] && RELOAD_MAX_MS=$t
	for p in "$@"; do
		jq -e --arg p "$p" "(.result // .).$list | index(\$p)" <<<"$ans" >/dev/null 2>&1 || ok=0
	done
	jq -e '(.result // .).changed | index("up0")' <<<"$ans" >/dev/null 2>&1 && N_UPLINK=$((N_UPLINK + 1))
	if [ $ok = 0 ]; then
		RELOAD_BAD=$((RELOAD_BAD + 1))
		log "reload $RELOADS: expected $* in $list: $(tr '\n' ' ' <<<"$ans")"
		echo "$(date +%T) reload $RELOADS ($list $*): $ans" >>"$WORK/reload-failures.log"
	fi
	return $((1 - ok))
}
churn_gens() {  # start vm3's and vm4's generators for CH_STATE
	local q=$((CH_STATE == 2 ? 2 : 1))
	inject_start C "$VM3_SOCK" "$MAC3" 1 --send "512:$((2000 * (DUR + 600)))" --pps 2000 --dst "$GHOST_MAC" \
		--alt-dst ff:ff:ff:ff:ff:ff --alt-every 50
	CH_PID_C=$INJ_PID
	inject_start D "$VM4_SOCK" "$VM4_MAC" "$q" --send "256:$((5000 * (DUR + 600)))" --pps 5000 --dst "$VM1_MAC"
	CH_PID_D=$INJ_PID
}
RX_C=0 RX_D=0
churn_count() {  # what vtoed received from vm3.0 and vm4.0 before they are re-created or removed
	local s; s=$(stats)
	RX_C=$((RX_C + $(cnt "$(stat_of "$s" vm3.0 .rx_packets)"))) RX_D=$((RX_D + $(cnt "$(stat_of "$s" vm4.0 .rx_packets)")))
}
churn_step() {
	local up0
	case $CH_STATE in
	0)
		CY=$((CY + 1)); CH_STATE=1
		up0=$((CY % 5 == 0 && CY > 0))  # queue_packets flips at every 5th cycle
		soak_conf 1
		reload_expect added vm3.0 vm4.0 && N_ADDED=$((N_ADDED + 2))
		[ $up0 = 1 ] && tap_setup
		churn_gens ;;
	1)
		CH_STATE=2; soak_conf 2; churn_count
		# re-created under their live generators, which then leave
		reload_expect changed vm3.0 vm4.0 && N_CHANGED=$((N_CHANGED + 2))
		inject_stop "$CH_PID_C" "$(pick_sig)"; inject_stop "$CH_PID_D" "$(pick_sig)"
		churn_gens ;;
	2)
		CH_STATE=0; soak_conf 0; churn_count
		reload_expect removed vm3.0 vm4.0 && N_REMOVED=$((N_REMOVED + 2))
		inject_stop "$CH_PID_C" "$(pick_sig)"; inject_stop "$CH_PID_D" "$(pick_sig)"
		CH_PID_C='' CH_PID_D='' ;;
	esac
}

# ----------------------------------------------------------------- guests
G_LIVES=0 G_EXITED=0 G_NEXT=0 G_CUR1='' G_CUR2='' G_TURN=0 HPING_PID=''
guest_life() {  # 1|2: boot a new life of guest g1 (client) or g2 (server)
	local g=$1 left=$((END - $(date +%s) + 120)) name
	G_LIVES=$((G_LIVES + 1)); name=g$g-$G_LIVES
	if [ "$g" = 1 ]; then
		guest_start "$name" "$G1_SOCK" "$G1_MAC" 0 "$left" e2e.ip=$NET.1 e2e.peer=$NET.2 \
			e2e.role=long e2e.secs="$left" e2e.kb=64
		# shellcheck disable=SC2034 # G_T0_g: read through eval
		G_CUR1=$name G_T0_1=$SECONDS
	else
		guest_start "$name" "$G2_SOCK" "$G2_MAC" 0 "$left" e2e.ip=$NET.2 e2e.role=server
		# shellcheck disable=SC2034
		G_CUR2=$name G_T0_2=$SECONDS
	fi
}
guest_retire() { stop "$(guest_pid "$1")" TERM CPU_QEMU; }  # NAME: QEMU killed, as guest_stop does
guest_tick() {
	local g name t0
	for g in 1 2; do
		eval "name=\$G_CUR$g t0=\$G_T0_$g"
		if ! running "$(guest_pid "$name")" "$t0"; then
			G_EXITED=$((G_EXITED + 1)); log "guest $name exited by itself; booting another"
			guest_retire "$name"; guest_life "$g"
		fi
	done
	[ "$(date +%s)" -ge "$G_NEXT" ] || return 0
	G_TURN=$((G_TURN + 1)); g=$((G_TURN % 2 ? 1 : 2))
	eval "name=\$G_CUR$g"
	log "guest restart $G_TURN: $name"
	guest_retire "$name"; guest_life "$g"
	G_NEXT=$(( $(date +%s) + GUEST_EVERY ))
}
guest_rounds() {  # -> "OK TOTAL" over every life of g1
	cat "$WORK"/g1-*.log 2>/dev/null | tr -d '\r' | grep -a '^E2E ROUND' |
		awk '{ n++; if ($4 == "ping=ok" && $5 == "tcp=ok") ok++ } END { printf "%d %d\n", ok, n }'
}

# ------------------------------------------------------------------ start
log "command: $0 $ARGS_SHOWN"
log "soak: $MINUTES min, build $VTOE_BUILD (b_sanitize=$SANITIZE), guests $GUESTS, seed $SEED, scratch $WORK"
log "machine: $NCPU CPUs, kernel $(uname -r); vtoed sha256 $(sha256sum "$WORK/bin/vtoed" | cut -c1-16), worker CPU $WORKER_CPU, others $OTHER_CPUS"
ip link show "$TAP" >/dev/null 2>&1 && die "interface $TAP already exists"
soak_conf 0
ASAN_OPTIONS=detect_leaks=1:halt_on_error=1:log_path=$SAN/vtoed \
UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=0:log_path=$SAN/vtoed \
	vtoed_start "$CONF" "$VLOG" $((DUR + 900)) || { dump_log "$VLOG"; die "vtoed did not start"; }
tap_setup || die "vtoed did not create $TAP"
sleep 1
S0=$(stats)
MBUFS0=$(num "$(jv "$S0" .mbufs.in_use)") MBUFS_TOTAL=$(jv "$S0" .mbufs.total) RSS0=$(rss_mb)
log "vtoed pid $VTOED_PID up; mbufs in use $MBUFS0 of $MBUFS_TOTAL before any traffic; RSS $RSS0 MiB"

T0=$(date +%s) END=$(( $(date +%s) + DUR ))
flow_start A; flow_start B
if [ "$GUESTS" = 1 ]; then
	guest_life 2; guest_life 1
	G_NEXT=$((T0 + GUEST_EVERY))
	timeout -k 5 $((DUR + 300)) busybox ping -q -i 1 -W 1 "$NET.2" >"$WORK/hostping.log" 2>&1 &
	HPING_PID=$!; track "$HPING_PID"
fi

# ------------------------------------------------------------------ soak
CHURN_NEXT=$((T0 + 5)) SAMPLE_NEXT=$T0 CRASHED='' MBUFS_PEAK=0 SAMPLES=$WORK/samples.tsv
echo -e "t_s\trx\ttx\tdrops\tin_flight\tmbufs_in_use\trss_mib\tports" >"$SAMPLES"
while [ "$(date +%s)" -lt "$END" ]; do
	if ! vtoed_alive; then CRASHED="vtoed died at t=$(( $(date +%s) - T0 ))s"; log "$CRASHED"; break; fi
	now=$(date +%s)
	reap; flow_tick A; flow_tick B
	[ "$now" -ge "$CHURN_NEXT" ] && { churn_step; CHURN_NEXT=$((now + CHURN_SECS)); }
	[ "$GUESTS" = 1 ] && guest_tick
	if [ "$now" -ge "$SAMPLE_NEXT" ]; then
		s=$(stats)
		m=$(num "$(jv "$s" .mbufs.in_use)"); [ "$m" -gt "$MBUFS_PEAK" ] && MBUFS_PEAK=$m
		echo -e "$((now - T0))\t$(jv "$s" .totals.rx_packets)\t$(jv "$s" .totals.tx_packets)\t$(jv "$s" .totals.drops)\t$(jv "$s" .totals.in_flight)\t$m\t$(rss_mb)\t$(jv "$s" '.ports | length')" >>"$SAMPLES"
		log "t=$((now - T0))s rx $(jv "$s" .totals.rx_packets) drops $(jv "$s" .totals.drops) mbufs $m RSS $(rss_mb) MiB;" \
			"reloads $RELOADS ($RELOAD_BAD bad), generator lives $INJ_N, guest lives $G_LIVES"
		SAMPLE_NEXT=$((now + 60))
	fi
	sleep 1
done
SOAK_SECS=$(( $(date +%s) - T0 ))

# ------------------------------------------------------------ traffic off
log "traffic off after ${SOAK_SECS}s"
inject_stop "$FLOW_PID_A"; inject_stop "$FLOW_PID_B"
inject_stop "$CH_PID_C"; inject_stop "$CH_PID_D"
if [ "$GUESTS" = 1 ]; then
	stop "$HPING_PID" INT
	guest_retire "$G_CUR1"; guest_retire "$G_CUR2"
fi
t=$((SECONDS + 60))
while [ ${#REAP[@]} -gt 0 ] && [ $SECONDS -lt $t ]; do sleep 0.5; reap; done
[ ${#REAP[@]} -eq 0 ] || log "${#REAP[@]} exited processes not yet reaped by the kernel: ${REAP[*]}"
sleep 1
S1=
inflight_zero() { S1=$(stats); [ "$(jv "$S1" .totals.in_flight)" = 0 ]; }
mbufs_back() { S1=$(stats); [ "$(num "$(jv "$S1" .mbufs.in_use)")" -le "$MBUFS0" ] && [ "$MBUFS0" -ge 0 ]; }
IN_FLIGHT0=$(jv "$(stats)" .totals.in_flight)
vtoed_alive && { wait_for 10 inflight_zero; IF_OK=$?; } || IF_OK=1
IN_FLIGHT=$(jv "$S1" .totals.in_flight)
vtoed_alive && { wait_for 10 mbufs_back; MB_OK=$?; } || MB_OK=1
MBUFS1=$(jv "$S1" .mbufs.in_use)
echo "$S1" >"$WORK/stats-end.json"
RSS1=$(rss_mb)
RX_C=$((RX_C + $(cnt "$(stat_of "$S1" vm3.0 .rx_packets)"))) RX_D=$((RX_D + $(cnt "$(stat_of "$S1" vm4.0 .rx_packets)")))
# CPU seconds: vtoed's (all threads), and everything this script started and reaped
VTOED_CPU=$(awk -v hz="$(getconf CLK_TCK)" '{ printf "%.0f", ($14 + $15) / hz }' "/proc/$VTOED_PID/stat" 2>/dev/null)
times >"$WORK/times"    # (not in a pipe: a subshell has no children)
KIDS_CPU=$(awk 'NR == 2 { s = 0; for (i = 1; i <= 2; i++) { split($i, a, "m"); sub("s", "", a[2]); s += a[1] * 60 + a[2] } printf "%.0f", s }' "$WORK/times")
DROPS_BY=$(jq -r '[(.result // .).ports[].drops | to_entries[] | select(.value > 0)] | group_by(.key)
	| map("\(.[0].key) \(map(.value) | add)") | join(", ")' <<<"$S1" 2>/dev/null)
log "end: $(jv "$S1" .totals | jq -c . 2>/dev/null); mbufs $(jv "$S1" .mbufs | jq -c . 2>/dev/null); removed $(jv "$S1" .removed | jq -c . 2>/dev/null)"

# stop: LeakSanitizer runs at exit and may take a while; allow 120 s
ALIVE_AT_END=0; vtoed_alive && ALIVE_AT_END=1
kill -TERM "$VTOED_PID" 2>/dev/null
wait_for 120 eval '! vtoed_alive'
if vtoed_alive; then vtoed_stop TERM; VRC=$?; else wait "$VTOED_TPID"; VRC=$?; fi

# ---------------------------------------------------------------- reports
san_files=("$SAN"/vtoed.*)
[ -e "${san_files[0]}" ] || san_files=()
LEAKS=$(cat "${san_files[@]}" /dev/null | grep -c 'ERROR: LeakSanitizer')
LEAK_SUM=$(cat "${san_files[@]}" /dev/null | grep 'SUMMARY: AddressSanitizer: [0-9]* byte(s) leaked' | head -1)
ASAN_ERR=$( { cat "${san_files[@]}" /dev/null; cat "$VLOG"; } | grep -c 'ERROR: AddressSanitizer')
UBSAN_ERR=$( { cat "${san_files[@]}" /dev/null; cat "$VLOG"; } | grep -c 'runtime error:')
INJ_SAN=$(cat "$SAN"/inject.* /dev/null 2>/dev/null | grep -c 'ERROR: \|runtime error:')
read -r G_OK G_ROUNDS <<<"$(guest_rounds)"
HP=$(grep -o '[0-9]* packets transmitted, [0-9]* packets received' "$WORK/hostping.log" 2>/dev/null)

echo
echo "================ soak summary: $(date -u +%Y-%m-%dT%H:%MZ), ${SOAK_SECS}s of $MINUTES min, seed $SEED ================"
echo "vtoed      : $VTOE_BUILD (b_sanitize=$SANITIZE), 2 workers on CPU $WORKER_CPU; scratch $WORK"
# vm1.0 and vm2.0 are never re-created: their counters cover every life
rate() { awk -v n="$1" -v t="$SOAK_SECS" 'BEGIN { printf "%d frames, %.0f/s", n, n / (t > 0 ? t : 1) }'; }
echo "flows      : A vm1->vm2 $LIVES_A lives, LEN PPS BCAST_EVERY in turn: $(printf '%s; ' "${PROFILES_A[@]}")"
echo "               vtoed took $(rate "$(stat_of "$S1" vm1.0 .rx_packets)") from vm1"
echo "             B vm2->vm1 $LIVES_B lives: $(printf '%s; ' "${PROFILES_B[@]}")"
echo "               vtoed took $(rate "$(stat_of "$S1" vm2.0 .rx_packets)") from vm2"
echo "             churn: C vm3->unknown MAC (to up0) 512 B 2000/s, every 50th broadcast: $RX_C frames;"
echo "               D vm4->vm1 256 B 5000/s: $RX_D frames (both as counted on their ports)"
echo "restarts   : $INJ_N generator lives ($INJ_TERMED stopped by SIGTERM, $INJ_KILLED by SIGKILL, $INJ_EARLY ended early)"
[ "$GUESTS" = 1 ] && echo "guests     : $G_LIVES QEMU lives ($G_TURN restarts, $G_EXITED exited by themselves); g1 rounds ok $G_OK of $G_ROUNDS; host ping g2: ${HP:-n/a}"
echo "churn      : $RELOADS reloads ($RELOAD_BAD not as expected, longest ${RELOAD_MAX_MS} ms): $N_ADDED ports added, $N_CHANGED re-created, $N_REMOVED removed; up0 re-created $N_UPLINK times; $CY cycles"
echo "switch     : rx $(jv "$S1" .totals.rx_packets) tx $(jv "$S1" .totals.tx_packets) flood_copies $(jv "$S1" .totals.flood_copies) drops $(jv "$S1" .totals.drops); removed ports $(jv "$S1" .removed.ports), drained $(jv "$S1" .removed.drained)"
echo "drops now  : ${DROPS_BY:-none} (ports present at the end)"
echo "memory     : mbufs in use $MBUFS0 before traffic, peak $MBUFS_PEAK (sampled), $MBUFS1 at the end, of $MBUFS_TOTAL; vtoed RSS $RSS0 -> ${RSS1:-?} MiB (guests' memory it maps included)"
printf 'cpu        : vtoed %s s (2 workers polling adaptively), the rest %s s (generators %.0f, QEMU %.0f), in %s s\n' \
	"${VTOED_CPU:-?}" "${KIDS_CPU:-?}" "$CPU_GEN" "$CPU_QEMU" "$SOAK_SECS"
echo "sanitizers : vtoed: $LEAKS leak reports ${LEAK_SUM:+($LEAK_SUM)}, $ASAN_ERR ASan errors, $UBSAN_ERR UBSan reports; generators: $INJ_SAN"
echo
check "(1) leaks: no LeakSanitizer report at vtoed's exit" [ "$LEAKS" = 0 ]
CRASH_OK=0
[ -z "$CRASHED" ] && [ "$ALIVE_AT_END" = 1 ] && [ "$VRC" = 0 ] && [ "$ASAN_ERR" = 0 ] && [ "$UBSAN_ERR" = 0 ] && CRASH_OK=1
check "(2) crashes: vtoed ran to the end${CRASHED:+ ($CRASHED)}, exit $VRC on SIGTERM, no ASan/UBSan report" [ $CRASH_OK = 1 ]
check "(3) counters balance: in_flight ${IN_FLIGHT:-?} after traffic stopped (${IN_FLIGHT0:-?} at the first look)" [ "$IF_OK" = 0 ]
check "(4) mbufs back to the baseline: $MBUFS1 in use, $MBUFS0 before traffic" [ "$MB_OK" = 0 ]
check "every reload did what was asked ($RELOAD_BAD of $RELOADS not)" [ "$RELOAD_BAD" = 0 ]
if [ "$T_FAIL" -gt 0 ]; then
	for f in "${san_files[@]}"; do echo "----- $f (first 60 lines)"; head -60 "$f"; done
	[ -s "$WORK/reload-failures.log" ] && { echo "----- reload failures"; head -5 "$WORK/reload-failures.log"; }
	dump_log "$VLOG" 30
fi
t_finish
