#!/bin/bash
# SPDX-License-Identifier: BSD-3-Clause
# test_overlay_migrate.sh - a real guest live-migrates between two hosts of
# the overlay under traffic with a guest on a third:
#
#   guest X 10.2.0.1: host A -> host C -> host A (QEMU x0 -> x1 -> x2)
#   guest Y 10.2.0.2: host B
#   both: md5-checked 4 MiB TCP rounds to the other, pings every 20 ms
#
# Each vtoed publishes X's port while X's device runs there: at the
# switch-over the destination's entry appears (the newer one wins) and the
# source's goes, so Y's frames follow X within one watch event.  Checks:
# every migration completes, every TCP round both ways arrives md5-exact,
# pings are answered throughout, the directory ends with X on A, and the
# longest run of Y's pings to X left unanswered (what a peer sees of the
# switch-over) is reported.
source "$(dirname "$0")/lib/common.sh"
source "$(dirname "$0")/lib/guest.sh"
source "$(dirname "$0")/lib/etcd.sh"
source "$(dirname "$0")/lib/overlay.sh"

PINGI=0.02
GUEST_RUN=45
GUEST_SECS=$((GUEST_RUN + 120))
QMP="python3 $(dirname "$0")/lib/qmp.py"
ovl_need

ovl_underlay a b c
etcd_cluster_start 1 $((25000 + $$ % 1000 * 2)) || { dump_log "$WORK/etcd-1.log"; die "etcd did not come up"; }
XM=52:54:00:0e:01:01 YM=52:54:00:0e:02:01
host_conf a 192.0.2.1 "$(vmport x $XM blue)" >"$WORK/a.yaml"
host_conf b 192.0.2.2 "$(vmport y $YM blue)" >"$WORK/b.yaml"
host_conf c 192.0.2.3 "$(vmport x $XM blue)" >"$WORK/c.yaml"
# A and C each have a port for X, on sockets of their own.
sed -i "s|$WORK/x.vsock|$WORK/x-c.vsock|" "$WORK/c.yaml"
OVL_SECS=$((GUEST_SECS + 60))
for h in a b c; do start_host $h || { dump_log "$WORK/vtoed-$h.log"; die "vtoed $h did not start"; }; done
check "the three hosts in sync with etcd" wait_for 15 eval 'watching a && watching b && watching c'

sock_of() { [ "$1" = a ] && echo "$WORK/x.vsock" || echo "$WORK/x-c.vsock"; }
start_x() {  # NAME HOST [INCOMING]
	local incoming=${3:+-incoming $3}
	GUEST_QEMU_ARGS="-qmp unix:$WORK/$1.qmp,server=on,wait=off $incoming" \
		guest_start "$1" "$(sock_of "$2")" "$XM" 0 "$GUEST_SECS" \
		e2e.ip=10.2.0.1 e2e.peer=10.2.0.2 e2e.role=mig e2e.mb=4 e2e.secs=$GUEST_RUN \
		e2e.pingi=$PINGI e2e.mtu=1450
}
X_NAMES=()
x_log() { local n; for n in "${X_NAMES[@]}"; do tr -d '\r' <"$WORK/$n.log" 2>/dev/null; done; }
x_has() { x_log | grep -a '^E2E ' | grep -qE "$1"; }
qmp_up() { [ -S "$WORK/$1.qmp" ]; }

guest_start y "$WORK/y.vsock" "$YM" 0 "$GUEST_SECS" \
	e2e.ip=10.2.0.2 e2e.peer=10.2.0.1 e2e.role=mig e2e.mb=4 e2e.secs=$GUEST_RUN e2e.pingi=$PINGI e2e.mtu=1450
start_x x0 a
X_NAMES=(x0)
on_fail_dump() { guest_show y; x_log | grep -a '^E2E ' | tail -20 >&2; for h in a b c; do dump_log "$WORK/vtoed-$h.log" 20; done; }
guest_wait y '^E2E FIRST PING' 150 && wait_for 60 x_has '^E2E FIRST PING' ||
	{ on_fail_dump; die "the guests never reached each other across hosts"; }
check "B places X on A" wait_for 10 sees b a 5001 "$XM"

DOWNTIMES=()
hop() {  # I TO_HOST
	local i=$1 to=$2 src=${X_NAMES[-1]} dst="x$1" st r n
	start_x "$dst" "$to" "unix:$WORK/mig$i.sock"
	wait_for 90 qmp_up "$dst" || { fail "hop $i: destination QEMU has no monitor"; return 1; }
	$QMP "$WORK/$src.qmp" migrate-set-parameters '{"max-bandwidth": 1073741824, "downtime-limit": 300}' >/dev/null
	$QMP "$WORK/$src.qmp" migrate "{\"uri\": \"unix:$WORK/mig$i.sock\"}" >/dev/null ||
		{ fail "hop $i: migrate refused"; return 1; }
	n=1200
	while [ $n -gt 0 ]; do
		r=$($QMP "$WORK/$src.qmp" query-migrate 2>/dev/null) || r='{}'
		st=$(jq -r '.status // "none"' <<<"$r")
		case $st in completed | failed | cancelled) break ;; esac
		sleep 0.1; n=$((n - 1))
	done
	[ "$st" = completed ] || { fail "hop $i: migration ended '$st'"; return 1; }
	X_NAMES+=("$dst")
	DOWNTIMES+=("$(jq -r '.downtime' <<<"$r")")
	$QMP "$WORK/$src.qmp" quit >/dev/null 2>&1
	pass "hop $i: X migrated $src -> $dst (host $to), downtime $(jq -r '.downtime' <<<"$r") ms"
	local t0; t0=$(date +%s%N)
	check "hop $i: B places X on host $to" wait_for 10 sees b "$to" 5001 "$XM"
	log "hop $i: B followed in $(( ($(date +%s%N) - t0) / 1000000 )) ms after QEMU's completion"
}
sleep 5
hop 1 c
sleep 8
hop 2 a

guest_wait y '^E2E MIG DONE' $((GUEST_RUN + 60)) || fail "guest Y did not finish its rounds"
wait_for 60 x_has '^E2E MIG DONE' || fail "guest X did not finish its rounds"

md5_x=$(x_log | grep -a '^E2E SEND' | head -1 | sed 's/.*md5=\([0-9a-f]*\).*/\1/')
md5_y=$(guest_log y | grep -a '^E2E SEND' | head -1 | sed 's/.*md5=\([0-9a-f]*\).*/\1/')
sent_x=$(x_log | grep -ac '^E2E SEND round=[0-9]* rc=0 ')
sent_y=$(guest_log y | grep -ac '^E2E SEND round=[0-9]* rc=0 ')
sunk_y_ok=$(guest_log y | grep -ac "^E2E SINK md5=$md5_x")
sunk_x_ok=$(x_log | grep -ac "^E2E SINK md5=$md5_y")
sunk_y_bad=$(guest_log y | grep -a '^E2E SINK' | grep -avc "md5=$md5_x")
sunk_x_bad=$(x_log | grep -a '^E2E SINK' | grep -avc "md5=$md5_y")
log "X sent $sent_x rounds ($sunk_y_ok whole at Y, $sunk_y_bad not); Y sent $sent_y ($sunk_x_ok whole at X, $sunk_x_bad not)"
check "X -> Y across hosts and migrations: every TCP round md5-exact ($sunk_y_ok of $sent_x)" \
	test "$sent_x" -ge 2 -a "$sunk_y_ok" -ge "$sent_x" -a "$sunk_y_bad" = 0
check "Y -> X: every TCP round md5-exact ($sunk_x_ok of $sent_y)" \
	test "$sent_y" -ge 2 -a "$sunk_x_ok" -ge "$sent_y" -a "$sunk_x_bad" = 0
pings=$(x_log | grep -a '^E2E PINGS.*transmitted' | tail -1)
check "X's pings to Y answered across the migrations (${pings#E2E PINGS })" \
	grep -qE '[1-9][0-9]* packets received' <<<"$pings"
gaps=$(guest_log y | grep -a '^E2E GAPS' | tail -1)
outside=$(tr ' ' '\n' <<<"${gaps#E2E GAPS }" | grep '@' | cut -d@ -f1 | sort -rn | head -2 |
	awk -v i="$PINGI" '{ printf "%s%d", (NR > 1 ? "," : ""), $1 * i * 1000 }')
log "Y's pings to X every ${PINGI}s: unanswered runs ${gaps#E2E GAPS }"
echo "RESULT overlay qemu_downtime_ms=$(IFS=,; echo "${DOWNTIMES[*]:-}") outside_gaps_ms=$outside"
check "the directory ends with X on A, not on C" eval "sees b a 5001 $XM && ! sees b c 5001 $XM"
L=$(for h in a b c; do ovl_json $h; done | jq -s '[.[].counters] | {encap: (map(.encap) | add), decap: (map(.decap) | add)}')
log "tunnel: $L"
D=$(for h in a b c; do "$VTOECTL" --socket "$WORK/$h.sock" --json stats; done |
	jq -s -c '[.[] | (.result.ports // .ports)[] | select(.name == "up0") | .drops] |
		{vxlan_bad: (map(.vxlan_bad) | add), vni_unknown: (map(.vni_unknown) | add),
		 vtep_unknown: (map(.vtep_unknown) | add), overlay_src: (map(.overlay_src) | add),
		 overlay_unknown_dst: (map(.overlay_unknown_dst) | add)}')
# Frames from X's new host before the others learnt it are refused
# (vtep_unknown, overlay_src): the switch-over's cost, reported.
log "tunnel drops over the run: $D"
check "no VXLAN refused as bad or for an unknown VNI" test "$(jq '.vxlan_bad + .vni_unknown' <<<"$D")" = 0
[ "$T_FAIL" -gt 0 ] && on_fail_dump
for h in a b c; do stop_host $h; done
t_finish
