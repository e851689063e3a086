#!/bin/bash
# SPDX-License-Identifier: BSD-3-Clause
# test_migrate.sh [server|client] - live migration of a real guest under
# traffic in both directions, repeated, through vtoed.
#
#   guest A 10.0.0.1 (migrates: QEMU a0 -> a1 -> a2 ...)   guest B 10.0.0.2
#   both: md5-checked 8 MiB TCP rounds to the other, pings every 20 ms (A)
#         |  vm1.0                                         |  vm2.0
#   +-----v------------------------------------------------v-----+
#   |  vtoed (server: the sockets are vtoed's; client: QEMU's)   |
#   +------------------------------------------------------------+
#
# server: the destination QEMU connects to the same socket while the source
#         still owns the port; it takes the port over at the switch-over.
# client: the destination QEMU listens on a new socket; `vtoectl migrate
#         vm1.0 --to SOCK` connects vtoed to it as the port's standby.
#
# Every migration: no guest kernel crash, the guest keeps running on the
# destination; at the end every TCP round both ways arrived md5-exact, the
# pings lost are reported, and vm2.0 never left.  A migration cancelled
# mid-way leaves the port with the source.
#
# env: VTOE_MIGRATIONS (default 2), VTOE_MIG_DIRECT (true|false, default
# true), VTOE_MIG_ABORT (1: also one cancelled migration, default 1),
# VTOE_MIG_PINGI (seconds between pings, default 0.02), VTOE_IT_BACKEND=
# testpmd (server mode only) or ovs (Open vSwitch with DPDK: dpdkvhostuser
# ports, or dpdkvhostuserclient ports with a second port added for the
# destination): the same guests against another switch.
# Last line before the summary: "RESULT backend=B mode=M qemu_downtime_ms=
# a,b,.. outside_gaps_ms=x,y,.." (outside: the longest runs of B's pings to
# A that went unanswered, one per migration, the way a peer sees it).
source "$(dirname "$0")/lib/common.sh"
source "$(dirname "$0")/lib/guest.sh"

MODE=${1:-server}
case $MODE in server | client) ;; *) echo "usage: $0 [server|client]" >&2; exit 2 ;; esac
T_NAME="$T_NAME-$MODE"
BACKEND=${VTOE_IT_BACKEND:-vtoed}
MIGS=${VTOE_MIGRATIONS:-2}
PINGI=${VTOE_MIG_PINGI:-0.02}
DIRECT=${VTOE_MIG_DIRECT:-true}
ABORT=${VTOE_MIG_ABORT:-1}
QMP="python3 $(dirname "$0")/lib/qmp.py"
# Each hop: ~4 s of traffic before it, the migration itself (~2-10 s under
# TCG), then the traffic goes on for about 10 s after the last one.
GUEST_RUN=$(( 20 + MIGS * 15 + ABORT * 10 ))
GUEST_SECS=$(( GUEST_RUN + 120 ))

need_root
if [ "$BACKEND" = vtoed ]; then need_binaries "$VTOED" "$VTOECTL"; fi
need_hugepages $([ "$BACKEND" = ovs ] && echo 600 || echo 256)
guest_prepare
log "kernel $(basename "$GUEST_KBOOT"), $MIGS migrations, direct=$DIRECT, worker CPU $WORKER_CPU"

CONF=$WORK/vtoed.yaml
VLOG=$WORK/vtoed.log
write_config "$CONF" "$MODE"
echo "datapath: {direct: $DIRECT}" >>"$CONF"
source "$(dirname "$0")/lib/ovs.sh"
ovs_port_add() {  # NAME SOCK: server mode: OVS's socket is $OVS_DIR/NAME
	if [ "$MODE" = server ]; then
		ovs_vsctl add-port br0 "$1" -- set Interface "$1" type=dpdkvhostuser
	else
		ovs_vsctl add-port br0 "$1" -- set Interface "$1" type=dpdkvhostuserclient \
			"options:vhost-server-path=$2"
	fi
}
if [ "$BACKEND" = ovs ] && [ "$MODE" = server ]; then
	VM1_SOCK=$OVS_DIR/vm1 VM2_SOCK=$OVS_DIR/vm2
fi
if [ "$BACKEND" = vtoed ]; then
	vtoed_start "$CONF" "$VLOG" $((GUEST_SECS + 60)) || die "vtoed did not start"
elif [ "$BACKEND" = ovs ]; then
	{ ovs_start $((GUEST_SECS + 60)) && ovs_port_add vm1 "$VM1_SOCK" && ovs_port_add vm2 "$VM2_SOCK"; } ||
		{ tail -20 "$OVS_DIR"/*.log >&2; die "Open vSwitch did not start"; }
	[ "$MODE" = client ] || wait_for 30 test -S "$VM2_SOCK" || die "OVS made no vhost-user sockets"
else
	[ "$MODE" = server ] || skip_all "the testpmd baseline runs in server mode only"
	pfx=$(dpdk_prefix testpmd)
	timeout -k 5 $((GUEST_SECS + 60)) dpdk-testpmd --lcores "0@$MAIN_CPU,1@$WORKER_CPU" --main-lcore 0 \
		--no-pci --no-huge -m 512 --file-prefix="$pfx" \
		--vdev "net_vhost0,iface=$VM1_SOCK,queues=1" --vdev "net_vhost1,iface=$VM2_SOCK,queues=1" \
		-- --no-mlockall --total-num-mbufs=16384 -a --forward-mode=io --stats-period 60 \
		</dev/null >>"$VLOG" 2>&1 &
	track $!
	wait_for 30 test -S "$VM2_SOCK" || die "testpmd did not create its sockets"
fi

# The guest's QEMU processes, in order; the last one runs it now.
A_NAMES=()
qemu_srv=0; [ "$MODE" = client ] && qemu_srv=1
start_a() {  # NAME SOCK [INCOMING]
	local incoming=${3:+-incoming $3}
	GUEST_QEMU_ARGS="-qmp unix:$WORK/$1.qmp,server=on,wait=off $incoming" \
		guest_start "$1" "$2" "$VM1_MAC" "$qemu_srv" "$GUEST_SECS" \
		e2e.ip=10.0.0.1 e2e.peer=10.0.0.2 e2e.role=mig e2e.mb=8 e2e.secs=$GUEST_RUN \
		e2e.pingi=$PINGI
}
a_log() { local n; for n in "${A_NAMES[@]}"; do tr -d '\r' <"$WORK/$n.log" 2>/dev/null; done; }
a_has() { a_log | grep -a '^E2E ' | grep -qE "$1"; }
qmp_up() { [ -S "$WORK/$1.qmp" ]; }
crashed() {  # serial logs with a kernel oops/panic/BUG
	grep -laE 'BUG:|Oops|general protection|Kernel panic|RIP: |list_add corruption|list_del corruption|Bad rss-counter|kernel NULL pointer|unable to handle' \
		"$WORK"/*.log 2>/dev/null | grep -v -e vtoed.log -e qemu.log
}
port_socket_is() { [ "$(jq -r '(.result? // .) | .[] | select(.name == "vm1.0") | .socket' <<<"$(ctl --json ports)")" = "$1" ]; }
dest_sock() {  # I: the destination's socket (client mode: QEMU's own, new)
	if [ "$MODE" = server ]; then echo "$VM1_SOCK"; else echo "$WORK/vm1.0-m$1.sock"; fi
}

guest_start b "$VM2_SOCK" "$VM2_MAC" "$qemu_srv" "$GUEST_SECS" \
	e2e.ip=10.0.0.2 e2e.peer=10.0.0.1 e2e.role=mig e2e.mb=8 e2e.secs=$GUEST_RUN e2e.pingi=$PINGI
start_a a0 "$VM1_SOCK"
A_NAMES=(a0)
OVS_SRC_PORT=vm1
on_fail_dump() { guest_show b; a_log | grep -a '^E2E ' | tail -20 >&2; dump_log "$VLOG" 60; }

guest_wait b '^E2E FIRST PING' 120 && wait_for 60 a_has '^E2E FIRST PING' ||
	{ on_fail_dump; die "the guests never reached each other"; }
log "guests talk; migrating A $MIGS times"

# migrate I CANCEL: one hop of guest A to a new QEMU; CANCEL=1 cancels it
# mid-way (the source must keep running and keep the port).
MIG_DOWNTIMES=()
migrate() {
	local i=$1 cancel=$2 src=${A_NAMES[-1]} dst="a$1" sock st r n
	sock=$(dest_sock "$i")
	start_a "$dst" "$sock" "unix:$WORK/mig$i.sock"
	if [ "$MODE" = client ]; then
		# QEMU waits for the switch on its new socket before anything else
		wait_for 30 test -S "$sock" || { fail "hop $i: destination socket missing"; return 1; }
		if [ "$BACKEND" = vtoed ]; then
			check "hop $i: vtoectl migrate vm1.0 --to the destination's socket" \
				ctl migrate vm1.0 --to "$sock"
		else
			ovs_port_add "vm1m$i" "$sock" || { fail "hop $i: OVS port for the destination"; return 1; }
		fi
	fi
	# A QEMU starting on a CPU that two TCG guests keep busy once took 38 s.
	wait_for 90 qmp_up "$dst" || { fail "hop $i: destination QEMU has no monitor"; return 1; }
	if [ "$cancel" = 1 ]; then
		# Throttle so it cannot finish before the cancel.
		$QMP "$WORK/$src.qmp" migrate-set-parameters '{"max-bandwidth": 4194304}' >/dev/null
	else
		$QMP "$WORK/$src.qmp" migrate-set-parameters '{"max-bandwidth": 1073741824, "downtime-limit": 300}' >/dev/null
	fi
	$QMP "$WORK/$src.qmp" migrate "{\"uri\": \"unix:$WORK/mig$i.sock\"}" >/dev/null ||
		{ fail "hop $i: migrate refused"; return 1; }
	if [ "$cancel" = 1 ]; then
		sleep 2
		$QMP "$WORK/$src.qmp" migrate_cancel >/dev/null
	fi
	n=1200
	while [ $n -gt 0 ]; do
		r=$($QMP "$WORK/$src.qmp" query-migrate 2>/dev/null) || r='{}'
		st=$(jq -r '.status // "none"' <<<"$r")
		case $st in completed | failed | cancelled) break ;; esac
		sleep 0.1; n=$((n - 1))
	done
	if [ "$cancel" = 1 ]; then
		check "hop $i: cancelled migration ends cancelled (got $st)" test "$st" = cancelled
		# the destination never ran the guest; the source goes on
		if [ "$MODE" = client ] && [ "$BACKEND" = vtoed ]; then
			check "hop $i: vtoectl migrate vm1.0 --cancel drops the standby" \
				ctl migrate vm1.0 --cancel
		elif [ "$MODE" = client ] && [ "$BACKEND" = ovs ]; then
			ovs_vsctl del-port br0 "vm1m$i" >/dev/null 2>&1
		fi
		kill "$(guest_pid "$dst")" 2>/dev/null
		[ "$BACKEND" = vtoed ] && check "hop $i: after the cancel vm1.0 is still up on the source" \
			test "$(port_stat vm1.0 .link)" = up
		return 0
	fi
	if [ "$st" != completed ]; then
		fail "hop $i: migration $src -> $dst ended '$st': $(jq -c . <<<"$r")"
		return 1
	fi
	A_NAMES+=("$dst")
	MIG_DOWNTIMES+=("$(jq -r '.downtime' <<<"$r")")
	log "hop $i: $src -> $dst completed in $(jq -r '."total-time"' <<<"$r") ms, downtime $(jq -r '.downtime' <<<"$r") ms"
	$QMP "$WORK/$src.qmp" quit >/dev/null 2>&1
	if [ "$BACKEND" = ovs ] && [ "$MODE" = client ]; then
		# the source's port goes; the destination's stays
		ovs_vsctl del-port br0 "$OVS_SRC_PORT" >/dev/null 2>&1
		OVS_SRC_PORT=vm1m$i
	fi
	pass "hop $i: migration $src -> $dst completed (downtime $(jq -r '.downtime' <<<"$r") ms)"
	if [ "$BACKEND" = vtoed ]; then
		check "hop $i: vm1.0 is up again, owned by the destination" wait_for 10 ports_up vm1.0
		if [ "$MODE" = client ]; then
			check "hop $i: vm1.0's socket is now the destination's" \
				wait_for 10 port_socket_is "$sock"
		fi
	fi
}

for i in $(seq 1 "$MIGS"); do
	sleep 4
	migrate "$i" 0 || break
	if [ -n "$(crashed)" ]; then fail "hop $i: a guest kernel crashed: $(crashed)"; break; fi
	if [ "$ABORT" = 1 ] && [ "$i" = 1 ]; then
		sleep 2
		migrate "c$i" 1
	fi
done

# The transfers go on to the end of GUEST_RUN, on the last QEMU.
guest_wait b '^E2E MIG DONE' $((GUEST_RUN + 60)) || fail "guest B did not finish its rounds"
wait_for 60 a_has '^E2E MIG DONE' || fail "guest A did not finish its rounds (last QEMU ${A_NAMES[-1]})"

CR=$(crashed)
check "no guest kernel crashed or hung (oops, BUG, GPF in any serial log)" test -z "$CR"
[ -z "$CR" ] || grep -ahE -A8 'BUG:|Oops|general protection|Kernel panic' $CR | head -40 >&2

# Every round sent arrived whole at the other side.
md5_a=$(a_log | grep -a '^E2E SEND' | head -1 | sed 's/.*md5=\([0-9a-f]*\).*/\1/')
md5_b=$(guest_log b | grep -a '^E2E SEND' | head -1 | sed 's/.*md5=\([0-9a-f]*\).*/\1/')
# A round nc gave up on (refused between two sink connections, or cut) is
# not counted as sent; if any of it arrived, its sink md5 is a bad one.
sent_a=$(a_log | grep -ac '^E2E SEND round=[0-9]* rc=0 ')
sent_b=$(guest_log b | grep -ac '^E2E SEND round=[0-9]* rc=0 ')
sunk_b_ok=$(guest_log b | grep -ac "^E2E SINK md5=$md5_a")
sunk_a_ok=$(a_log | grep -ac "^E2E SINK md5=$md5_b")
sunk_b_bad=$(guest_log b | grep -a '^E2E SINK' | grep -avc "md5=$md5_a")
sunk_a_bad=$(a_log | grep -a '^E2E SINK' | grep -avc "md5=$md5_b")
log "A sent $sent_a rounds ($sunk_b_ok arrived whole, $sunk_b_bad not); B sent $sent_b ($sunk_a_ok whole, $sunk_a_bad not)"
check "A -> B: every TCP round md5-exact ($sunk_b_ok of $sent_a)" test "$sent_a" -ge 2 -a "$sunk_b_ok" -ge "$sent_a" -a "$sunk_b_bad" = 0
check "B -> A: every TCP round md5-exact ($sunk_a_ok of $sent_b)" test "$sent_b" -ge 2 -a "$sunk_a_ok" -ge "$sent_b" -a "$sunk_a_bad" = 0
pings=$(a_log | grep -a '^E2E PINGS.*transmitted' | tail -1)
log "A's pings at 20 ms: ${pings#E2E PINGS }; downtimes (QEMU): ${MIG_DOWNTIMES[*]:-} ms"
check "A's pings were answered across the migrations (${pings#E2E PINGS })" \
	grep -qE '[1-9][0-9]* packets received' <<<"$pings"

# Seen from outside A: B's pings to A, the longest unanswered runs, one
# per migration.
gaps=$(guest_log b | grep -a '^E2E GAPS' | tail -1)
outside=$(tr ' ' '\n' <<<"${gaps#E2E GAPS }" | grep '@' | cut -d@ -f1 | sort -rn | head -"$MIGS" |
	awk -v i="$PINGI" '{ printf "%s%d", (NR > 1 ? "," : ""), $1 * i * 1000 }')
log "B's pings to A every ${PINGI}s: unanswered runs ${gaps#E2E GAPS }"
echo "RESULT backend=$BACKEND mode=$MODE qemu_downtime_ms=$(IFS=,; echo "${MIG_DOWNTIMES[*]:-}") outside_gaps_ms=$outside"

if [ "$BACKEND" = vtoed ]; then
	STATS=$(ctl --json stats)
	check "vm2.0 stayed up" test "$(stat_of "$STATS" vm2.0 .link)" = up
	check "vm1.0 is up on the last destination" test "$(stat_of "$STATS" vm1.0 .link)" = up
	check "vtoed is still running" kill -0 "$VTOED_PID"
	oc=$(jq -r '(.result? // .) | .[] | select(.name == "vm1.0") | .owner.owner_changes' <<<"$(ctl --json ports)")
	check "vtoectl counted every switch-over as an owner change ($oc of $MIGS)" test "$oc" = "$MIGS"
fi
[ "$T_FAIL" -gt 0 ] && on_fail_dump
t_finish
