#!/bin/bash
# SPDX-License-Identifier: BSD-3-Clause
# reload_bench.sh - VM ports added and removed while traffic flows: vtoed's
# reload against Open vSwitch with DPDK's add-port/del-port, alternating
# rounds, same generators.
#
#   benchmarks/reload_bench.sh [--rounds N] [--pps N] [--many N]
#
# Both switches run their poll thread on CPU 1 and everything else on CPU 0;
# every port is in client mode (the generator, vtoe-inject on virtio-user
# with server=1, owns the socket), vm1 <-> vm2 carry --pps frames/s each way
# for the whole run.  Per round and system:
#   first_ms   a generator already waits on vm3's socket, sending 1000
#              frames/s to vm1; time from the add (vtoectl reload with vm3
#              in the file / ovs-vsctl add-port) to the switch's first frame
#              received from vm3, polled every few ms
#   add_ms     how long the add command itself took
#   del_ms     the same for removing vm3
#   many_add_ms, many_del_ms
#              --many ports (no guests) added in one reload / one ovs-vsctl
#              transaction, then removed
# Also, for vtoed alone (OVS has no such path): a domain created in a
# private libvirtd (test driver) with vtoed's membership attach: auto, from
# `virsh create` to its port's first frame (first_ms of "attach").
# And vtoed's worker loop-time distribution (vtoectl lcores) over the
# stretch with the adds and removes, against a stretch as long right after
# with none: the longest stall a port change causes the worker.  With perf
# (linux-perf), the scheduler's switches and the interrupts on the
# worker's CPU are recorded too, and each loop iteration of 100 us or more
# is split into the time the kernel took (switched out, interrupts) and
# the worker's own (benchmarks/stalls.py).
#
# Defaults: 5 rounds, --pps 20000, --many 60.  Needs root, hugepages,
# build/ (vtoed, vtoectl, vtoe-inject), openvswitch-switch-dpdk.
set -u -o pipefail
ROUNDS=5 PPS=20000 MANY=60
while [ $# -gt 0 ]; do
	case $1 in
	--rounds) ROUNDS=$2; shift ;;
	--pps) PPS=$2; shift ;;
	--many) MANY=$2; shift ;;
	-h | --help) sed -n '3,30p' "$0"; exit 0 ;;
	*) echo "reload_bench.sh: unknown option $1" >&2; exit 2 ;;
	esac
	shift
done
source "$(dirname "$0")/../tests/integration/lib/common.sh"
source "$(dirname "$0")/../tests/integration/lib/ovs.sh"
# This script and everything it starts (vtoectl, jq, virsh, the shell
# itself) stay off the switches' polling CPU: on a box without isolated
# cores they would otherwise be scheduled there and stall the worker for a
# whole time slice, which is no cost of a port change.
taskset -pc "$OTHER_CPUS" $$ >/dev/null
# vtoed itself may use every CPU (its worker is pinned by its lcores).
printf '#!/bin/sh\nexec taskset -c 0-%d %s "$@"\n' $((NCPU - 1)) "$VTOED" >"$WORK/vtoed-all-cpus"
chmod +x "$WORK/vtoed-all-cpus"
VTOED=$WORK/vtoed-all-cpus
need_root
need_binaries "$VTOED" "$VTOECTL" "$VTOE_INJECT"
need_hugepages 600
ovs_available || skip_all "openvswitch-switch-dpdk missing: no peer to compare with"

RES=$WORK/results
now_ms() { date +%s%3N; }
inject() {  # NAME SOCK MAC ARGS...: a generator owning SOCK (server=1)
	local name=$1 sock=$2 mac=$3; shift 3
	rm -f "$sock"
	timeout -k 5 900 taskset -c "$OTHER_CPUS" "$VTOE_INJECT" -l "$MAIN_CPU" --no-pci --no-huge -m 64 \
		--file-prefix="$(dpdk_prefix "$name")" --log-level=3 \
		--vdev "net_virtio_user0,path=$sock,mac=$mac,server=1,queue_size=1024" -- \
		--link-timeout 120 "$@" >"$WORK/$name.out" 2>"$WORK/$name.err" &
	INJ_PID=$!; track $INJ_PID
}
stop_inject() {  # WRAPPER_PID: SIGINT to the generator; the wrapper goes if it lingers
	kill -INT "$(pgrep -P "$1" | head -1)" 2>/dev/null
	for _ in $(seq 50); do kill -0 "$1" 2>/dev/null || break; sleep 0.1; done
	kill -KILL "$1" 2>/dev/null; wait "$1" 2>/dev/null
}
S1=$WORK/vm1.sock S2=$WORK/vm2.sock S3=$WORK/vm3.sock
MAC3=52:54:00:00:03:01

vtoed_conf() {  # [vm3] [many]
	config_head
	echo "vms:"
	echo "  - {name: vm1, ports: [{name: vm1.0, socket: $S1, mode: client, mac: \"$VM1_MAC\", offloads: false}]}"
	echo "  - {name: vm2, ports: [{name: vm2.0, socket: $S2, mode: client, mac: \"$VM2_MAC\", offloads: false}]}"
	[ "${1:-}" = vm3 ] &&
		echo "  - {name: vm3, ports: [{name: vm3.0, socket: $S3, mode: client, mac: \"$MAC3\", offloads: false}]}"
	if [ "${2:-}" = many ]; then
		for i in $(seq 1 "$MANY"); do
			printf '  - {name: m%d, ports: [{name: m%d.0, socket: %s/m%d.sock, mac: "52:54:00:10:%02x:%02x"}]}\n' \
				"$i" "$i" "$WORK" "$i" $((i / 256)) $((i % 256))
		done
	fi
}
rx_of_vtoed() { port_stat vm3.0 .rx_packets 2>/dev/null; }
rx_of_ovs() { ovs_vsctl get Interface vm3 statistics:rx_packets 2>/dev/null | tr -d '"'; }
got_first() { local n; n=$("rx_of_$1"); [ -n "$n" ] && [ "$n" -gt 0 ]; }
wait_first() {  # SYSTEM: poll as fast as the tools answer, for 30 s
	local end=$(( $(date +%s) + 30 ))
	while [ "$(date +%s)" -lt $end ]; do got_first "$1" && return 0; done
	return 1
}

loop_hist() { ctl --json lcores | jq -c '.[] | select(.role == "worker") | .loop_us'; }
mono_ns() { python3 -c 'import time; print(time.monotonic_ns())'; }
# The worker's latest long loop iterations, kept for stalls.py.
LONGS=()
longs() { local f=$WORK/longs.${#LONGS[@]}.json
	ctl --json lcores | jq -c '[.[] | select(.role == "worker")][0].long_loops_ns' >"$f" && LONGS+=("$f"); }
PERF_PID=
perf_start() {  # ROUND: switches on the worker's CPU, CLOCK_MONOTONIC
	command -v perf >/dev/null || return 0
	perf record -q -C "$WORKER_CPU" -k CLOCK_MONOTONIC -o "$WORK/sched$1.data" \
		-e sched:sched_switch -e 'irq:irq_handler_*' \
		-e irq_vectors:local_timer_entry -e irq_vectors:local_timer_exit \
		-e irq_vectors:call_function_entry -e irq_vectors:call_function_exit \
		-e irq_vectors:call_function_single_entry -e irq_vectors:call_function_single_exit \
		-e irq_vectors:reschedule_entry -e irq_vectors:reschedule_exit \
		-e irq:softirq_entry -e irq:softirq_exit -e exceptions:page_fault_user \
		-e tlb:tlb_flush >"$WORK/perf$1.log" 2>&1 &
	PERF_PID=$!; track $PERF_PID
	sleep 1
}
perf_stop() {  # ROUND FROM_NS TO_NS QUIET_TO_NS
	[ -n "$PERF_PID" ] || return 0
	kill -INT "$PERF_PID"; wait "$PERF_PID" 2>/dev/null; PERF_PID=
	local tid
	tid=$(ctl --json lcores | jq '[.[] | select(.role == "worker")][0].tid')
	perf script -i "$WORK/sched$1.data" --ns -F tid,time,event,trace >"$WORK/sched$1.txt" 2>/dev/null
	echo "vtoed $1 stalls_changes $(python3 "$(dirname "$0")/stalls.py" --window "$2" "$3" "$tid" "$WORK/sched$1.txt" "${LONGS[@]}")" >>"$RES"
	echo "vtoed $1 stalls_quiet $(python3 "$(dirname "$0")/stalls.py" --window "$3" "$4" "$tid" "$WORK/sched$1.txt" "${LONGS[@]}")" >>"$RES"
}
hist_delta() {  # BEFORE AFTER: the iterations in between, by duration
	jq -cn --argjson a "$1" --argjson b "$2" \
		'$b | to_entries | map(.value -= ($a[.key] // 0)) | map(select(.value > 0)) | from_entries'
}

run_vtoed() {  # ROUND
	local CONF=$WORK/vtoed.yaml VLOG=$WORK/vtoed.log t0 t1 t2 a b pa pb
	vtoed_conf >"$CONF"
	inject A "$S1" "$VM1_MAC" --send 64:1000000000 --pps "$PPS" --dst "$VM2_MAC"; pa=$INJ_PID
	inject B "$S2" "$VM2_MAC" --send 64:1000000000 --pps "$PPS" --dst "$VM1_MAC"; pb=$INJ_PID
	sleep 1
	vtoed_start "$CONF" "$VLOG" 600 || die "vtoed did not start"
	wait_for 30 ports_up vm1.0 vm2.0 || die "vtoed: generators did not attach"
	inject C "$S3" "$MAC3" --send 64:1000000000 --pps 1000 --dst "$VM1_MAC"
	sleep 1
	vtoed_conf vm3 >"$CONF"
	LONGS=(); perf_start "$1"
	h0=$(loop_hist) s0=$(now_ms) m0=$(mono_ns)
	t0=$(now_ms); ctl reload >/dev/null || die "vtoed: reload adding vm3 failed"; t1=$(now_ms)
	wait_first vtoed || die "vtoed: no frame from vm3"
	t2=$(now_ms)
	a=$((t1 - t0)) b=$((t2 - t0))
	sleep 0.5
	hp=$(loop_hist); echo "vtoed $1 phase_add_vm3 $(hist_delta "$h0" "$hp")" >>"$RES"; longs
	vtoed_conf >"$CONF"
	t0=$(now_ms); ctl reload >/dev/null || die "vtoed: reload removing vm3 failed"; t1=$(now_ms)
	echo "vtoed $1 first_ms $b add_ms $a del_ms $((t1 - t0))" >>"$RES"
	sleep 0.5
	hq=$(loop_hist); echo "vtoed $1 phase_del_vm3 $(hist_delta "$hp" "$hq")" >>"$RES"; longs
	stop_inject "$INJ_PID"
	vtoed_conf "" many >"$CONF"
	hp=$(loop_hist)
	t0=$(now_ms); ctl reload >/dev/null || die "vtoed: adding $MANY ports failed"; t1=$(now_ms)
	sleep 0.5
	hq=$(loop_hist); echo "vtoed $1 phase_add_many $(hist_delta "$hp" "$hq")" >>"$RES"; longs
	vtoed_conf >"$CONF"
	t2=$(now_ms); ctl reload >/dev/null || die "vtoed: removing $MANY ports failed"
	echo "vtoed $1 many_add_ms $((t1 - t0)) many_del_ms $(( $(now_ms) - t2 ))" >>"$RES"
	sleep 0.5
	h1=$(loop_hist) s1=$(now_ms) m1=$(mono_ns); longs
	echo "vtoed $1 phase_del_many $(hist_delta "$hq" "$h1")" >>"$RES"
	echo "vtoed $1 loops_adding_removing_$((s1 - s0))ms $(hist_delta "$h0" "$h1")" >>"$RES"
	# A stretch as long without any change, for comparison.
	sleep "$(( (s1 - s0) / 1000 )).$(( (s1 - s0) % 1000 ))"
	echo "vtoed $1 loops_quiet_$(( $(now_ms) - s1 ))ms $(hist_delta "$h1" "$(loop_hist)")" >>"$RES"
	longs; perf_stop "$1" "$m0" "$m1" "$(mono_ns)"
	vtoed_stop TERM
	stop_inject "$pa"; stop_inject "$pb"
}

run_ovs() {  # ROUND
	local t0 t1 t2 a b pa pb c=()
	OVS_DIR=$WORK/ovs$1
	inject A "$S1" "$VM1_MAC" --send 64:1000000000 --pps "$PPS" --dst "$VM2_MAC"; pa=$INJ_PID
	inject B "$S2" "$VM2_MAC" --send 64:1000000000 --pps "$PPS" --dst "$VM1_MAC"; pb=$INJ_PID
	sleep 1
	ovs_start 600 || die "Open vSwitch did not start"
	ovs_vsctl add-port br0 vm1 -- set Interface vm1 type=dpdkvhostuserclient "options:vhost-server-path=$S1" \
		-- add-port br0 vm2 -- set Interface vm2 type=dpdkvhostuserclient "options:vhost-server-path=$S2" ||
		die "ovs: ports"
	wait_for 30 eval '[ "$(ovs_vsctl get Interface vm1 link_state)" = up ]' || die "ovs: vm1 not up"
	inject C "$S3" "$MAC3" --send 64:1000000000 --pps 1000 --dst "$VM1_MAC"
	sleep 1
	t0=$(now_ms)
	ovs_vsctl add-port br0 vm3 -- set Interface vm3 type=dpdkvhostuserclient "options:vhost-server-path=$S3" ||
		die "ovs: add-port vm3"
	t1=$(now_ms)
	wait_first ovs || die "ovs: no frame from vm3"
	t2=$(now_ms)
	a=$((t1 - t0)) b=$((t2 - t0))
	t0=$(now_ms); ovs_vsctl del-port br0 vm3 || die "ovs: del-port vm3"; t1=$(now_ms)
	echo "ovs $1 first_ms $b add_ms $a del_ms $((t1 - t0))" >>"$RES"
	stop_inject "$INJ_PID"
	for i in $(seq 1 "$MANY"); do
		c+=(-- add-port br0 "m$i" -- set Interface "m$i" type=dpdkvhostuser)
	done
	t0=$(now_ms); OVS_VSCTL_TIMEOUT=600 ovs_vsctl "${c[@]:1}" >/dev/null || die "ovs: adding $MANY ports"; t1=$(now_ms)
	c=()
	for i in $(seq 1 "$MANY"); do c+=(-- del-port br0 "m$i"); done
	t2=$(now_ms); OVS_VSCTL_TIMEOUT=600 ovs_vsctl "${c[@]:1}" >/dev/null || die "ovs: removing $MANY ports"
	echo "ovs $1 many_add_ms $((t1 - t0)) many_del_ms $(( $(now_ms) - t2 ))" >>"$RES"
	ovs_stop
	stop_inject "$pa"; stop_inject "$pb"
}

# A domain's start as the add: a private libvirtd (test driver), vtoed
# with membership attach: auto and no YAML port; domain a's port receives,
# domain c is created with a generator already waiting on its socket.
lv_domain() {  # NAME UUID MAC SOCKET
	printf "<domain type='test'><name>%s</name><uuid>%s</uuid><memory unit='KiB'>1048576</memory><memoryBacking><source type='memfd'/><access mode='shared'/></memoryBacking><os><type>hvm</type></os><devices><interface type='vhostuser'><mac address='%s'/><source type='unix' path='%s' mode='server'/><target dev='%s-eth0'/><model type='virtio'/></interface></devices></domain>\n" \
		"$1" "$2" "$3" "$4" "$1"
}
run_attach() {  # ROUND
	local CONF=$WORK/attach.yaml VLOG=$WORK/attach.log t0 t1 pa att=$WORK/att
	mkdir -p "$att"
	{ config_head; echo "membership: {source: libvirt, uri: \"$URI\", attach: auto, sockets: [$att]}"; } >"$CONF"
	vtoed_start "$CONF" "$VLOG" 300 || die "vtoed (attach) did not start"
	wait_for 15 eval '[ "$(ctl --json membership | jq -r .connected)" = true ]' || die "vtoed did not reach libvirtd"
	inject A "$att/a.sock" "$VM1_MAC" --wait 600000; pa=$INJ_PID
	lv_domain da$1 33333333-0000-0000-0000-0000000000$((10 + $1)) "$VM1_MAC" "$att/a.sock" >"$WORK/da.xml"
	vsh create "$WORK/da.xml" >/dev/null || die "virsh create"
	wait_for 20 ports_up da$1-eth0 || die "domain a's port did not come up"
	inject C "$att/c.sock" "$MAC3" --send 64:1000000000 --pps 1000 --dst "$VM1_MAC"
	sleep 1
	lv_domain dc$1 33333333-0000-0000-0000-0000000000$((20 + $1)) "$MAC3" "$att/c.sock" >"$WORK/dc.xml"
	t0=$(now_ms)
	vsh create "$WORK/dc.xml" >/dev/null || die "virsh create"
	t1=$(now_ms)
	local end=$(( $(date +%s) + 30 )) n=
	while [ "$(date +%s)" -lt $end ]; do
		n=$(port_stat dc$1-eth0 .rx_packets 2>/dev/null)
		[ -n "$n" ] && [ "$n" -gt 0 ] && break
	done
	[ -n "$n" ] && [ "$n" -gt 0 ] || die "no frame from domain c's port"
	echo "attach $1 first_ms $(( $(now_ms) - t0 )) create_ms $((t1 - t0))" >>"$RES"
	vsh destroy dc$1 >/dev/null
	vsh destroy da$1 >/dev/null
	stop_inject "$INJ_PID"; stop_inject "$pa"
	vtoed_stop TERM
}

log "results in $RES; $ROUNDS rounds, flow $PPS frames/s each way, $MANY ports at once"
if [ -x /usr/sbin/libvirtd ]; then
	source "$(dirname "$0")/../tests/integration/lib/libvirtd.sh"
	libvirtd_start || warn_lv=1
else
	warn_lv=1
fi
for r in $(seq 1 "$ROUNDS"); do
	if [ $((r % 2)) = 1 ]; then run_vtoed "$r"; run_ovs "$r"; else run_ovs "$r"; run_vtoed "$r"; fi
	[ -n "${warn_lv:-}" ] || run_attach "$r"
	grep " $r " "$RES" | grep -v loops >&2
done

med() {  # SYSTEM KEY: the median over the rounds
	awk -v s="$1" -v k="$2" '$1 == s { for (i = 3; i < NF; i += 2) if ($i == k) print $(i + 1) }' "$RES" |
		sort -n | awk '{ a[NR] = $1 } END { print NR ? a[int((NR + 1) / 2)] : "nan" }'
}
echo
echo "median of $ROUNDS rounds (ms)   vtoed   ovs   vtoed/ovs"
for k in first_ms add_ms del_ms many_add_ms many_del_ms; do
	v=$(med vtoed $k) o=$(med ovs $k)
	printf '%-28s %7s %5s   %s\n' "$k" "$v" "$o" "$(awk -v v="$v" -v o="$o" 'BEGIN { if (o > 0) printf "%.2f", v / o; else print "-" }')"
done
[ -n "${warn_lv:-}" ] && echo "(no libvirtd: the domain-start measurement did not run)"
[ -n "${warn_lv:-}" ] || echo "a domain's start to its port's first frame (attach: auto): median $(med attach first_ms) ms (virsh create itself: $(med attach create_ms) ms)"
echo
echo "vtoed worker loop iterations by duration (upper bound, us: count):"
grep 'loops_\|phase_' "$RES" | sed 's/^vtoed /  round /'
if grep -q stalls_ "$RES"; then
	echo
	echo "vtoed worker loop iterations of 100 us or more: the worker's own part (switched-out and interrupt time taken out), us:"
	grep 'stalls_' "$RES" | sed 's/^vtoed /  round /'
fi
VTOE_KEEP=1
pass "measured $ROUNDS rounds"
t_finish
