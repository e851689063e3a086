#!/bin/bash
# SPDX-License-Identifier: BSD-3-Clause
# test_sigterm.sh - vtoed stops cleanly: exit 0 on SIGTERM and SIGINT, with
# and without a guest attached, and leaves no socket behind; after a
# SIGKILL (sockets left behind) it starts again over the stale files.
#
#   signal --> vtoed (server mode) --creates--> $WORK/vm1.0.sock
#                 ^                              $WORK/vm2.0.sock
#                 |                              $WORK/ctl.sock
#   vtoe-inject (virtio-user on vm1.0.sock, sending, CPU 0)  [case 3]
#
#   1. idle vtoed, SIGTERM         -> exit 0, the 3 sockets gone
#   2. idle vtoed, SIGINT          -> exit 0, the 3 sockets gone
#   3. guest attached and sending, SIGTERM -> exit 0 within 15 s, sockets gone
#   4. SIGKILL (stale sockets stay) -> a new vtoed starts, serves, exits 0
source "$(dirname "$0")/lib/common.sh"

need_root
need_binaries "$VTOED" "$VTOECTL"
need_hugepages 128
CONF=$WORK/vtoed.yaml VLOG=$WORK/vtoed.log
write_config "$CONF" server
socks_gone() { [ ! -e "$VM1_SOCK" ] && [ ! -e "$VM2_SOCK" ] && [ ! -e "$CTL_SOCK" ]; }
socks_there() { [ -S "$VM1_SOCK" ] && [ -S "$VM2_SOCK" ] && [ -S "$CTL_SOCK" ]; }

for sig in TERM INT; do
	echo "--- SIG$sig" >>"$VLOG"
	vtoed_start "$CONF" "$VLOG" 120 || die "vtoed did not start"
	check "idle: vtoed created its 3 sockets" socks_there
	t0=$(date +%s%N)
	vtoed_stop $sig; rc=$?
	ms=$(( ($(date +%s%N) - t0) / 1000000 ))
	check "idle: SIG$sig -> exit 0 (got $rc, ${ms} ms)" test $rc = 0
	check "idle: SIG$sig -> sockets unlinked" socks_gone
done

echo "--- SIGTERM with a guest" >>"$VLOG"
vtoed_start "$CONF" "$VLOG" 120 || die "vtoed did not start"
if [ -x "$VTOE_INJECT" ]; then
	timeout 60 taskset -c "$OTHER_CPUS" "$VTOE_INJECT" -l "$MAIN_CPU" --no-pci --no-huge -m 128 \
		--file-prefix="$(dpdk_prefix inject)" \
		--vdev "net_virtio_user0,path=$VM1_SOCK,mac=$VM1_MAC" -- \
		--send 60:200000 --dst "$VM2_MAC" --wait 30000 >"$WORK/inject.out" 2>&1 &
	INJ=$!; track $INJ
	check "guest: vm1.0 link up" wait_for 15 ports_up vm1.0
	sleep 1
	check "guest: vtoed is receiving its frames" test "$(port_stat vm1.0 .rx_packets)" -gt 0
else
	fail "guest: $VTOE_INJECT not built (tests/tools); stopping idle"
fi
vtoed_stop TERM; rc=$?
check "guest: SIGTERM with a guest attached -> exit 0 (got $rc)" test $rc = 0
check "guest: sockets unlinked" socks_gone
[ -n "${INJ:-}" ] && { kill "$INJ" 2>/dev/null; wait "$INJ" 2>/dev/null; }

echo "--- SIGKILL, then restart over stale sockets" >>"$VLOG"
vtoed_start "$CONF" "$VLOG" 120 || die "vtoed did not start"
vtoed_stop KILL
check "kill -9 leaves the socket files behind (the case under test)" test -e "$VM1_SOCK" -o -e "$CTL_SOCK"
if vtoed_start "$CONF" "$VLOG" 120; then
	pass "restart over stale sockets: vtoed serves again"
	check "restart: vhost-user sockets are live" socks_there
	vtoed_stop TERM; rc=$?
	check "restart: SIGTERM -> exit 0 (got $rc)" test $rc = 0
	check "restart: sockets unlinked" socks_gone
else
	fail "restart over stale sockets: vtoed did not come up"
fi
[ "$T_FAIL" -gt 0 ] && dump_log "$VLOG" 40
t_finish
