#!/bin/bash
# SPDX-License-Identifier: BSD-3-Clause
# test_guests.sh server|client - two real Linux guests (QEMU/TCG) talk
# through vtoed: ping, then an md5-checked TCP echo.
#
#        guest vm1 10.0.0.1                     guest vm2 10.0.0.2
#        (client: ping, TCP echo)               (TCP echo server :5000)
#        virtio-net 52:54:00:00:01:01           virtio-net 52:54:00:00:02:01
#              |                                       |
#              | vhost-user  $WORK/vm1.0.sock          | vhost-user  $WORK/vm2.0.sock
#        +-----v---------------------------------------v-----+
#        |  vtoed   ports vm1.0, vm2.0 (static MACs)         |
#        |  main lcore: CPU 0        worker lcore: CPU 1     |
#        +---------------------------------------------------+
#        QEMU guests, vtoectl and this script: CPU 0
#
# server: vtoed creates the sockets, the guests connect.
# client: QEMU creates the sockets (server=on), vtoed connects (mode: client).
#         Once the guests talk, vtoed gets SIGTERM (must exit 0 and leave
#         QEMU's sockets alone), is started again, and the SAME guests, never
#         restarted, must talk again: vm1 runs rounds of ping + TCP echo and
#         the rounds seen after the restart are the second phase.
#
# VTOE_IT_BACKEND=testpmd runs the same guests against dpdk-testpmd
# (--forward-mode=io) instead of vtoed: a self-check of the harness.
source "$(dirname "$0")/lib/common.sh"
source "$(dirname "$0")/lib/guest.sh"

MODE=${1:-server}
case $MODE in server | client) ;; *) echo "usage: $0 server|client" >&2; exit 2 ;; esac
T_NAME="$T_NAME-$MODE"
BACKEND=${VTOE_IT_BACKEND:-vtoed}
GUEST_SECS=${VTOE_GUEST_SECS:-240}      # hard bound of each QEMU

need_root
if [ "$BACKEND" = vtoed ]; then need_binaries "$VTOED" "$VTOECTL"; fi
need_hugepages 256
guest_prepare
log "kernel $(basename "$GUEST_KBOOT"), worker CPU $WORKER_CPU, others $OTHER_CPUS, scratch $WORK"

# ------------------------------------------------------------- the backend
CONF=$WORK/vtoed.yaml
VLOG=$WORK/vtoed.log
write_config "$CONF" "$MODE"
backend_start() {
	if [ "$BACKEND" = vtoed ]; then
		vtoed_start "$CONF" "$VLOG" 400
		return
	fi
	local cl='' pfx; pfx=$(dpdk_prefix testpmd)
	[ "$MODE" = client ] && cl=",client=1"
	timeout -k 5 400 dpdk-testpmd --lcores "0@$MAIN_CPU,1@$WORKER_CPU" --main-lcore 0 --no-pci --no-huge -m 512 \
		--file-prefix="$pfx" --vdev "net_vhost0,iface=$VM1_SOCK,queues=1$cl" \
		--vdev "net_vhost1,iface=$VM2_SOCK,queues=1$cl" -- --no-mlockall \
		--total-num-mbufs=16384 -a --forward-mode=io --stats-period 60 </dev/null >>"$VLOG" 2>&1 &
	VTOED_PID=$! VTOED_TPID=$!; track "$VTOED_PID"
	[ "$MODE" = client ] || wait_for 30 socks_exist
}
socks_exist() { [ -S "$VM1_SOCK" ] && [ -S "$VM2_SOCK" ]; }
guests_report() { guest_show vm1; guest_show vm2; }
on_fail_dump() { [ "$T_FAIL" -gt 0 ] && { guests_report; dump_log "$VLOG" 40; }; }

# --------------------------------------------------------------- server mode
if [ "$MODE" = server ]; then
	backend_start || die "$BACKEND did not start"
	check "vtoed created both vhost-user sockets" wait_for 10 socks_exist
	guest_start vm2 "$VM2_SOCK" "$VM2_MAC" 0 "$GUEST_SECS" e2e.ip=10.0.0.2 e2e.role=server
	guest_start vm1 "$VM1_SOCK" "$VM1_MAC" 0 "$GUEST_SECS" e2e.ip=10.0.0.1 e2e.peer=10.0.0.2 e2e.role=client e2e.kb=1024 e2e.linger=60
	if guest_wait vm1 '^E2E RESULT' 200; then
		check "vm1 -> vm2 ping through vtoed" guest_has vm1 '^E2E PING OK'
		check "vm1 -> vm2 TCP echo 1 MiB, md5 equal" guest_has vm1 '^E2E TCP OK'
	else
		fail "vm1 gave no result within 200 s"
	fi
	if [ "$BACKEND" = vtoed ]; then
		STATS=$(ctl --json stats)
		for p in vm1.0 vm2.0; do
			check "vtoectl: $p link up, rx/tx counted" test "$(stat_of "$STATS" $p .link)" = up -a \
				"$(stat_of "$STATS" $p .rx_packets)" -gt 0 -a "$(stat_of "$STATS" $p .tx_packets)" -gt 0
		done
		log "vtoectl stats: $(jq -c '[(.result.ports // .ports)[] | {name, link, rx_packets, tx_packets, drops_total}]' <<<"$STATS" 2>/dev/null)"
		# Offloads are on by default: Linux's virtio_net takes them and
		# hands vtoed 64 KB TSO frames, which reach the other guest whole.
		for p in vm1.0 vm2.0; do
			check "$p negotiated CSUM, HOST_TSO4, GUEST_CSUM and GUEST_TSO4" \
				eval "[ \"\$(stat_of \"\$STATS\" $p '[.feature_names[] | select(. == \"CSUM\" or . == \"HOST_TSO4\" or . == \"GUEST_CSUM\" or . == \"GUEST_TSO4\")] | length')\" = 4 ]"
		done
		check "vm1.0's TSO super-frames were validated and kept whole ($(stat_of "$STATS" vm1.0 .offload.validated) validated)" \
			test "$(stat_of "$STATS" vm1.0 .offload.validated)" -gt 0 -a "$(stat_of "$STATS" vm2.0 .offload.segmented)" = 0
		check "no offload drops" test "$(stat_of "$STATS" vm1.0 .drops.offload_bad)" = 0 -a \
			"$(stat_of "$STATS" vm2.0 .drops.offload_egress)" = 0
	fi
	guest_stop vm1; guest_stop vm2
	if [ "$BACKEND" = vtoed ]; then
		vtoed_stop TERM; rc=$?
		check "vtoed exits 0 on SIGTERM (got $rc)" test $rc = 0
		check "vtoed unlinked its sockets" test ! -e "$VM1_SOCK" -a ! -e "$VM2_SOCK" -a ! -e "$CTL_SOCK"
	fi
	on_fail_dump
	t_finish
fi

# --------------------------------------------------------------- client mode
# vm1 runs rounds for up to LONG_SECS; we stop it as soon as phase 2 passed.
LONG_SECS=$((GUEST_SECS - 30))
guest_start vm2 "$VM2_SOCK" "$VM2_MAC" 1 "$GUEST_SECS" e2e.ip=10.0.0.2 e2e.role=server
guest_start vm1 "$VM1_SOCK" "$VM1_MAC" 1 "$GUEST_SECS" e2e.ip=10.0.0.1 e2e.peer=10.0.0.2 \
	e2e.role=long e2e.secs=$LONG_SECS e2e.kb=64
wait_for 30 socks_exist || { guests_report; die "QEMU did not create the sockets"; }
backend_start || die "$BACKEND did not start"

ok_rounds_after() {  # $1: count OK rounds after the first $1 round lines
	guest_log vm1 | grep '^E2E ROUND' | tail -n +$(($1 + 1)) | grep -c 'ping=ok tcp=ok'
}
rounds_seen() { guest_log vm1 | grep -c '^E2E ROUND'; }
phase_ok() { [ "$(ok_rounds_after "$1")" -ge 3 ]; }

if wait_for 150 phase_ok 0; then
	pass "phase 1: vm1 <-> vm2 ping + TCP echo rounds ($(ok_rounds_after 0) ok of $(rounds_seen))"
else
	guests_report; dump_log "$VLOG" 40
	die "phase 1: guests did not talk through $BACKEND (rounds ok: $(ok_rounds_after 0))"
fi
[ "$BACKEND" = vtoed ] && log "ports before restart: $(ctl ports 2>&1 | tr '\n' ' ')"

vtoed_stop TERM; rc=$?
if [ "$BACKEND" = vtoed ]; then
	check "vtoed exits 0 on SIGTERM with guests attached (got $rc)" test $rc = 0
	check "vtoed left QEMU's sockets alone and removed its control socket" \
		test -S "$VM1_SOCK" -a -S "$VM2_SOCK" -a ! -e "$CTL_SOCK"
fi
guests_alive() { kill -0 "$(guest_pid vm1)" 2>/dev/null && kill -0 "$(guest_pid vm2)" 2>/dev/null; }
check "both guests kept running while vtoed was down" guests_alive
sleep 3
echo "--- restart ---" >>"$VLOG"
backend_start || die "$BACKEND did not restart"
R0=$(rounds_seen)
log "vtoed restarted after guest round $R0"
if wait_for 120 phase_ok "$R0"; then
	pass "phase 2: same guests talk again after the restart ($(ok_rounds_after "$R0") rounds ok after round $R0)"
else
	fail "phase 2: no 3 good rounds after the restart (ok after round $R0: $(ok_rounds_after "$R0"))"
fi
check "guests were not restarted (one boot each)" \
	test "$(guest_log vm1 | grep -c '^E2E INIT')" = 1 -a "$(guest_log vm2 | grep -c '^E2E INIT')" = 1
if [ "$BACKEND" = vtoed ]; then
	STATS=$(ctl --json stats)
	check "vtoectl: both ports up after reconnect" test "$(stat_of "$STATS" vm1.0 .link)" = up -a "$(stat_of "$STATS" vm2.0 .link)" = up
	log "vtoectl stats: $(jq -c '[(.result.ports // .ports)[] | {name, link, rx_packets, tx_packets, drops_total}]' <<<"$STATS" 2>/dev/null)"
fi
log "vm1 rounds: $(rounds_seen) total, $(ok_rounds_after 0) ok"
guest_stop vm1; guest_stop vm2
vtoed_stop TERM; rc=$?
[ "$BACKEND" = vtoed ] && check "vtoed exits 0 on SIGTERM after the guests left (got $rc)" test $rc = 0
on_fail_dump
t_finish
