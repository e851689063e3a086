#!/bin/bash
# SPDX-License-Identifier: BSD-3-Clause
# test_faults_guests.sh - real QEMU/TCG guests through vtoed when things
# die with SIGKILL: vtoed itself, and then a guest's QEMU.
#
#   guest vm1 10.0.0.1 (sends MB MiB)     guest vm2 10.0.0.2 (md5 sink)
#        | QEMU's socket (client mode)        | QEMU's socket
#   +----v------------------------------------v----+
#   |  vtoed: vm1.0, vm2.0 mode client;            |
#   |         vm3.0, vm4.0 mode server             |
#   +----^------------------------------------+----+
#        | vtoe-inject F: port 0 on vm3.0 floods broadcasts, port 1 on
#        +-- vm4.0 counts them (the "others" of b)
#
# a. vm1 sends vm2 one md5-checked TCP stream (one nc connection).  Mid-
#    transfer vtoed gets SIGKILL and is started again: the same guests,
#    never restarted, finish the stream md5-exact.
# b. F floods broadcasts (to vm1.0, vm2.0, vm4.0); mid-flood vm2's QEMU
#    gets SIGKILL.  vtoed survives, vm2.0 goes down, vm4.0 keeps getting
#    every broadcast (or they are counted), vm1 keeps running; afterwards
#    the books balance and mbufs in use are back to the baseline.
# env: VTOE_FAULT_MB (size of the stream, default 24 MiB).
source "$(dirname "$0")/lib/common.sh"
source "$(dirname "$0")/lib/guest.sh"
source "$(dirname "$0")/lib/faults.sh"

MB=${VTOE_FAULT_MB:-24}
GUEST_SECS=${VTOE_GUEST_SECS:-200}
need_root
need_binaries "$VTOED" "$VTOECTL" "$VTOE_INJECT"
need_hugepages 256
command -v jq >/dev/null || die "jq missing"
guest_prepare

VM3_SOCK=$WORK/vm3.0.sock VM3_MAC=52:54:00:00:03:01
VM4_SOCK=$WORK/vm4.0.sock VM4_MAC=52:54:00:00:04:01
CONF=$WORK/vtoed.yaml VLOG=$WORK/vtoed.log
write_config "$CONF" client
for v in 3 4; do
	s=VM${v}_SOCK m=VM${v}_MAC
	echo "  - {name: vm$v, ports: [{name: vm$v.0, socket: ${!s}, mode: server, mac: \"${!m}\"}]}" >>"$CONF"
done
socks_exist() { [ -S "$VM1_SOCK" ] && [ -S "$VM2_SOCK" ]; }
qemu_of() { pgrep -P "$(guest_pid "$1")" | head -1; }   # the QEMU under its timeout
guests_alive() { local g; for g in "$@"; do kill -0 "$(qemu_of "$g")" 2>/dev/null || return 1; done; }
on_fail_dump() { [ "$T_FAIL" -gt 0 ] && { guest_show vm1; guest_show vm2; dump_log "$VLOG" 40; }; }

guest_start vm2 "$VM2_SOCK" "$VM2_MAC" 1 "$GUEST_SECS" e2e.ip=10.0.0.2 e2e.role=xfer e2e.sink=1
guest_start vm1 "$VM1_SOCK" "$VM1_MAC" 1 "$GUEST_SECS" e2e.ip=10.0.0.1 e2e.role=xfer e2e.send=10.0.0.2:"$MB"
wait_for 30 socks_exist || { on_fail_dump; die "QEMU did not create the sockets"; }
vtoed_start "$CONF" "$VLOG" $((GUEST_SECS + 60)) || die "vtoed did not start"

# ------------------------------------------------ a. vtoed SIGKILLed mid-transfer
guest_wait vm1 '^E2E FIRST PING' 120 || { T_FAIL=1; on_fail_dump; die "the guests never reached each other"; }
moving() { [ "$(port_stat vm1.0 .rx_bytes)" -gt $((2 << 20)) ] 2>/dev/null; }
wait_for 60 moving || { T_FAIL=1; on_fail_dump; die "vm1's stream did not start"; }
at=$(port_stat vm1.0 .rx_bytes)
check "a: the stream is under way when vtoed is killed ($((at >> 10)) KiB of $MB MiB through)" \
	eval '! guest_has vm1 "^E2E SEND"'
vtoed_stop KILL; rc=$?
log "a: vtoed SIGKILLed (rc $rc) after $((at >> 10)) KiB"
check "a: vtoed died of SIGKILL (rc $rc)" test "$rc" = 137
sleep 1
check "a: both guests kept running while vtoed was dead" guests_alive vm1 vm2
t0=$(date +%s%N)
echo "--- restart after SIGKILL ---" >>"$VLOG"
vtoed_start "$CONF" "$VLOG" $((GUEST_SECS + 60)) || die "vtoed did not restart"
check "a: both guests reconnected to the new vtoed" wait_for 30 ports_up vm1.0 vm2.0
log "a: vtoed back, guests reconnected $(( ($(date +%s%N) - t0) / 1000000 )) ms after the restart began"
guest_wait vm1 '^E2E SEND' 120
guest_wait vm2 '^E2E SINK' 30
sendl=$(guest_log vm1 | grep -m1 '^E2E SEND') sinkl=$(guest_log vm2 | grep -m1 '^E2E SINK')
md5_tx=$(sed -n 's/.* md5=\([0-9a-f]*\).*/\1/p' <<<"$sendl") md5_rx=$(sed -n 's/.* md5=\([0-9a-f]*\).*/\1/p' <<<"$sinkl")
log "a: vm1: ${sendl:-no SEND line}; vm2: ${sinkl:-no SINK line}"
check "a: the stream completed md5-exact across the SIGKILL (sent ${md5_tx:-none}, got ${md5_rx:-none}, $MB MiB)" \
	test -n "$md5_tx" -a "$md5_tx" = "$md5_rx" -a "$(guest_log vm2 | grep -c '^E2E SINK')" = 1
check "a: guests were not restarted (one boot each)" \
	test "$(guest_log vm1 | grep -c '^E2E INIT')" = 1 -a "$(guest_log vm2 | grep -c '^E2E INIT')" = 1
check "a: the books balance after the stream ($(books_line))" wait_for 10 books_balanced

# ------------------------------------------------ b. a QEMU SIGKILLed mid-flood
N=${VTOE_FAULT_FLOOD:-150000}
inj_start F 120 "$VM3_SOCK=$VM3_MAC" "$VM4_SOCK=$VM4_MAC" -- --delay 2000 --send 64:"$N" --pps 25000 --wait 3000
wait_for 20 ports_up vm3.0 vm4.0 || die "F did not attach"
BASE=$(mbufs_in_use)
to_vm4() { echo $(( $(port_stat vm4.0 .tx_packets) + $(port_stat vm4.0 .drops_total) )); }
V4=$(to_vm4)
log "b: baseline mbufs in use $BASE of $(js .mbufs.total); F floods $N broadcasts at 25000/s"
wait_for 30 eval '[ "$(port_stat vm4.0 .tx_packets)" -gt 30000 ]' || fail "b: the flood did not get going"
check "b: the flood reaches vm2.0 before its QEMU is killed" test "$(port_stat vm2.0 .tx_packets)" -gt 0
kill -KILL "$(qemu_of vm2)"
t_kill=$(date +%s%N)
{ wait "$(guest_pid vm2)"; } 2>/dev/null      # reaped here: no job notice
check "b: vm2.0 goes down when its QEMU dies" wait_for 10 eval '[ "$(port_stat vm2.0 .link)" = down ]'
to_vm2() { echo $(( $(port_stat vm2.0 .tx_packets) + $(port_stat vm2.0 .drops_total) )); }
V2=$(to_vm2)
log "b: vm2's QEMU SIGKILLed; vm2.0 down after $(( ($(date +%s%N) - t_kill) / 1000000 )) ms"
c0=$(port_stat vm4.0 .tx_packets); sleep 1; c1=$(port_stat vm4.0 .tx_packets)
check "b: vtoed keeps forwarding for the others (vm4.0 got $((c1 - c0)) broadcasts in the second after)" \
	test $((c1 - c0)) -gt 10000
check "b: vtoed survived" vtoed_ready
inj_wait F 60
S=$(ctl --json stats)
f_rx=$(inj F rx 1) f_sent=$(inj F sent 64)
log "b: F sent $f_sent, vm4 got $f_rx; vm1.0 tx $(stat_of "$S" vm1.0 .tx_packets) drops [$(drops_nonzero vm1.0)]; vm2.0 drops [$(drops_nonzero vm2.0)]; vm4.0 drops [$(drops_nonzero vm4.0)]"
check "b: F sent all $N broadcasts ($f_sent)" test "$f_sent" = "$N"
# vm4 also gets the guests' own few broadcasts (ARP, IPv6 ND).
v4=$(( $(to_vm4) - V4 ))
check "b: every broadcast reached vm4 or was counted (vm4 got $f_rx = vm4.0 tx $(stat_of "$S" vm4.0 .tx_packets); delivered + dropped since F came: $v4 = $N + $((v4 - N)) from the guests)" \
	test "$f_rx" = "$(stat_of "$S" vm4.0 .tx_packets)" -a "$v4" -ge "$N" -a "$v4" -le $((N + 50))
check "b: the flood skipped the dead vm2.0 (nothing delivered or dropped there since it went down: $(( $(to_vm2) - V2 )))" \
	test "$(to_vm2)" = "$V2"
check "b: vm1 kept running, vm1.0 up" eval 'guests_alive vm1 && [ "$(stat_of "$S" vm1.0 .link)" = up ]'
check "b: mbufs in use back to the baseline ($BASE; now $(mbufs_in_use))" wait_for 10 eval '[ "$(mbufs_in_use)" = "$BASE" ]'
check "b: the books balance ($(books_line))" wait_for 10 books_balanced

guest_stop vm1
vtoed_stop TERM; rc=$?
check "vtoed exits 0 on SIGTERM (got $rc)" test $rc = 0
on_fail_dump
t_finish
