#!/bin/bash
# SPDX-License-Identifier: BSD-3-Clause
# test_faults_pool.sh - vtoed out of mbufs, and a guest that stops reading
# its rx ring, under load from vtoe-inject "guests" (virtio-user).
#
#   vtoe-inject A (vm1.0) ---+                        +--> vtoe-inject B (vm2.0)
#   vtoe-inject C (vm3.0) <--+  vtoed, network blue   |    (frozen: SIGSTOP)
#                            |  (VLAN 100), mbufs: 1024
#                            +--> up0: net_null (no rx), shaped to 1 Mbit/s,
#                                 its DWRR class may hold 8192 frames
#
# c. pool exhaustion: A floods broadcasts.  Each goes to B and, tagged,
#    to up0: the tag needs a copy (an mbuf), and the shaped uplink keeps
#    the copies, so the pool runs dry.  While it is dry: mbufs in use near
#    the pool's size, the copies that find no mbuf are dropped and counted
#    as vlan_push, B still gets every broadcast, and A's frames that vtoed
#    cannot take yet wait in A's ring (none vanishes: vm1.0 rx == A sent).
#    Once A stops: the uplink drains, mbufs in use back to the baseline,
#    the books balance, and a paced round gets through with no new drop.
# d. receiver full: B stops reading (SIGSTOP) for VTOE_FAULT_STALL seconds
#    (default 20) while A sends to B and C alternately at a steady rate.
#    C gets every frame of its half in every 10 s window, the frames B has
#    no room for are counted as tx_full on vm2.0, and after B reads again
#    it gets new frames; the books balance and the pool is back.
source "$(dirname "$0")/lib/common.sh"
source "$(dirname "$0")/lib/faults.sh"

STALL=${VTOE_FAULT_STALL:-20}
MBUFS=${VTOE_FAULT_MBUFS:-1024}
PPS=${VTOE_FAULT_PPS:-2000}            # (d): A's rate, half of it to C
need_root
need_binaries "$VTOED" "$VTOECTL" "$VTOE_INJECT"
need_hugepages 256
command -v jq >/dev/null || die "jq missing"

VM3_SOCK=$WORK/vm3.0.sock VM3_MAC=52:54:00:00:03:01
CONF=$WORK/vtoed.yaml VLOG=$WORK/vtoed.log
config_head | sed "s/mbufs: [0-9]*/mbufs: $MBUFS/" >"$CONF"
cat >>"$CONF" <<EOF
networks: [{name: blue, vlan: 100}]
uplinks:
  - {name: up0, device: "net_null0,no-rx=1", rate: 1Mbit, queue_packets: 8192, queue_bytes: 16777216}
vms:
EOF
for v in 1 2 3; do
	s=VM${v}_SOCK m=VM${v}_MAC
	echo "  - {name: vm$v, ports: [{name: vm$v.0, socket: ${!s}, mac: \"${!m}\", uplink: up0, network: blue}]}" >>"$CONF"
done
vtoed_start "$CONF" "$VLOG" $((STALL + 200)) || die "vtoed did not start"
on_fail_dump() { [ "$T_FAIL" -gt 0 ] && dump_log "$VLOG" 30; }

check "the pool has $MBUFS mbufs" test "$(js .mbufs.total)" = "$MBUFS"

# ------------------------------------------------------- c. pool exhaustion
N_C=${VTOE_FAULT_FLOOD:-150000}
inj_start AB 120 "$VM1_SOCK=$VM1_MAC" "$VM2_SOCK=$VM2_MAC" -- --delay 2000 --send 64:"$N_C" --pps 50000 --wait 600000
wait_for 20 ports_up vm1.0 vm2.0 || { dump_log "$WORK/AB.err"; die "A/B did not attach"; }
BASE=$(mbufs_in_use)
log "c: baseline mbufs in use $BASE of $MBUFS; A floods $N_C broadcasts at 50000/s"
# Watch the pool while A sends: the most in use, and for how many samples
# it was within 10% of empty.
# (A read that fails under a loaded host is skipped, not taken as 0.)
max=0 dry=0 samples=0 end=$((SECONDS + 90))
while inj_running AB && [ "$SECONDS" -lt "$end" ]; do
	r=$(port_stat vm1.0 .rx_packets) u=$(mbufs_in_use)
	if [ -n "$u" ] && [ -n "$r" ]; then
		samples=$((samples + 1))
		[ "$u" -gt "$max" ] && max=$u
		[ "$u" -ge $((MBUFS * 9 / 10)) ] && dry=$((dry + 1))
		[ "$r" -ge "$N_C" ] && break
	fi
	sleep 0.2
done
# A is done sending once vtoed took all it sent; B may still be counting.
wait_for 30 eval '[ "$(port_stat vm1.0 .rx_packets)" -ge "$N_C" ]'
sleep 1
inj_end AB 10
sent=$(inj AB sent 64) b_rx=$(inj AB rx 1)
S=$(ctl --json stats)
vlan_push=$(stat_of "$S" up0 .drops.vlan_push)
log "c: A sent $sent, vtoed took $(stat_of "$S" vm1.0 .rx_packets), B got $b_rx; up0 sent $(stat_of "$S" up0 .tx_packets), drops: up0 [$(drops_nonzero up0)] vm2.0 [$(drops_nonzero vm2.0)]; mbufs in use max $max, >= 90% in $dry of $samples samples"
check "c: A sent all $N_C broadcasts (sent $sent)" test "$sent" = "$N_C"
# (sampled every 0.2 s, the peak may fall between samples: vlan_push,
# below, is the proof that copies found no mbuf)
check "c: the pool was nearly drained under the flood (max in use $max of $MBUFS; >= 90% in $dry of $samples samples)" \
	test "$max" -ge $((MBUFS / 2))
check "c: copies that found no mbuf were dropped and counted as vlan_push on up0 ($vlan_push)" \
	test "${vlan_push:-0}" -gt 0
check "c: no frame A sent vanished: vtoed took every one ($(stat_of "$S" vm1.0 .rx_packets) of $sent)" \
	test "$(stat_of "$S" vm1.0 .rx_packets)" = "$sent"
# B shares a CPU with A's sending: its ring may fill now and then (tx_full).
check "c: every broadcast reached B or was counted (B got $b_rx = vm2.0 tx $(stat_of "$S" vm2.0 .tx_packets); + drops [$(drops_nonzero vm2.0)] = $sent)" \
	test "$b_rx" = "$(stat_of "$S" vm2.0 .tx_packets)" -a \
	$(( $(stat_of "$S" vm2.0 .tx_packets) + $(stat_of "$S" vm2.0 .drops_total) )) = "$sent"
check "c: every copy for up0 was sent or counted (up0 tx $(stat_of "$S" up0 .tx_packets) + vlan_push $vlan_push = $sent)" \
	wait_for 10 eval '[ $(( $(port_stat up0 .tx_packets) + $(port_stat up0 .drops.vlan_push) )) = "$sent" ]'
check "c: after the flood mbufs in use are back to the baseline ($BASE; now $(mbufs_in_use))" \
	wait_for 10 eval '[ "$(mbufs_in_use)" = "$BASE" ]'
check "c: the books balance after the flood ($(books_line))" wait_for 10 books_balanced
# Recovery: a paced round below the uplink's rate goes through whole.
vp0=$(port_stat up0 .drops.vlan_push) up0=$(port_stat up0 .tx_packets)
inj_start AB2 90 "$VM1_SOCK=$VM1_MAC" "$VM2_SOCK=$VM2_MAC" -- --send 64:1000 --pps 1000 --wait 10000
inj_wait AB2 80
check "c: recovered: a paced round of 1000 broadcasts reaches B whole ($(inj AB2 rx 1))" test "$(inj AB2 rx 1)" = 1000
check "c: recovered: and the uplink, no new drop (up0 tx +$(( $(port_stat up0 .tx_packets) - up0 )), vlan_push +$(( $(port_stat up0 .drops.vlan_push) - vp0 )))" \
	wait_for 10 eval '[ $(( $(port_stat up0 .tx_packets) - up0 )) = 1000 ] && [ "$(port_stat up0 .drops.vlan_push)" = "$vp0" ]'
check "c: books balance, mbufs at the baseline ($(books_line), in use $(mbufs_in_use))" \
	wait_for 10 eval 'books_balanced && [ "$(mbufs_in_use)" = "$BASE" ]'

# ------------------------------------------------------- d. receiver full
# A sends to B and C alternately (every 2nd frame to C) for STALL + 6 s.
N_D=$(( PPS * (STALL + 6) / 2 * 2 ))
S0=$(ctl --json stats)
b_tx0=$(stat_of "$S0" vm2.0 .tx_packets) b_full0=$(stat_of "$S0" vm2.0 .drops.tx_full)
c_tx0=$(stat_of "$S0" vm3.0 .tx_packets) c_drop0=$(stat_of "$S0" vm3.0 .drops_total)
inj_start B $((STALL + 120)) "$VM2_SOCK=$VM2_MAC" -- --wait 3600000
wait_for 20 ports_up vm2.0 || die "B did not attach"
# B reads before it freezes: 64 frames from A reach it (its rx ring is set up).
inj_start P 60 "$VM1_SOCK=$VM1_MAC" -- --send 64:64 --dst "$VM2_MAC" --wait 200
inj_wait P 30
wait_for 10 eval '[ "$(port_stat vm2.0 .tx_packets)" -ge $((b_tx0 + 64)) ]' ||
	die "B did not read the 64 frames sent before the stall ($(drops_nonzero vm2.0))"
b_tx0=$((b_tx0 + 64))
inj_sig B STOP
log "d: B frozen (SIGSTOP) for ${STALL}s; A sends $N_D frames at $PPS/s, half to B, half to C"
inj_start AC $((STALL + 120)) "$VM1_SOCK=$VM1_MAC" "$VM3_SOCK=$VM3_MAC" -- \
	--send 64:"$N_D" --pps "$PPS" --dst "$VM2_MAC" --alt-dst "$VM3_MAC" --alt-every 2 --wait 3000
wait_for 20 ports_up vm1.0 vm3.0 || die "A/C did not attach"
t_stall=$(date +%s)
# C's share, window by window: each 10 s window must carry what A sent C
# (from 2 s in: A's pacing starts once its links are up).
sleep 2
win=10 bad=0 windows=() prev=$(port_stat vm3.0 .tx_packets)
while [ $(( $(date +%s) - t_stall + win )) -le "$STALL" ]; do
	sleep "$win"
	now=$(port_stat vm3.0 .tx_packets)
	[ -n "$now" ] || now=$(port_stat vm3.0 .tx_packets)     # once more on a loaded host
	d=$((now - prev)); prev=$now
	windows+=("$d")
	[ "$d" -ge $(( PPS / 2 * win * 9 / 10 )) ] || bad=$((bad + 1))
done
sleep $(( STALL - ($(date +%s) - t_stall) )) 2>/dev/null
full_mid=$(( $(port_stat vm2.0 .drops.tx_full) - b_full0 ))
inj_sig B CONT
log "d: B reads again after $(( $(date +%s) - t_stall ))s; tx_full on vm2.0 so far $full_mid; C per ${win}s: ${windows[*]}"
check "d: C unaffected: every ${win}s window of the stall carried C's share (>= $(( PPS / 2 * win * 9 / 10 )): ${windows[*]})" \
	test "$bad" = 0 -a "${#windows[@]}" -ge 1
inj_wait AC $((STALL + 60)); rc=$?
sleep 1
inj_end B 10
S=$(ctl --json stats)
a_sent=$(inj AC sent 64) c_rx=$(inj AC rx 1) b_rx=$(inj B rx 0)
b_tx=$(( $(stat_of "$S" vm2.0 .tx_packets) - b_tx0 )) b_full=$(( $(stat_of "$S" vm2.0 .drops.tx_full) - b_full0 ))
log "d: A sent $a_sent (rc $rc); C got $c_rx (order $(inj AC order 1), corrupt $(inj AC corrupt 1)); B got $b_rx, vm2.0 tx $b_tx tx_full $b_full; drops vm1.0 [$(drops_nonzero vm1.0)] vm3.0 [$(drops_nonzero vm3.0)]; vm1.0 direct stops $(stat_of "$S" vm1.0 '.direct_stops | with_entries(select(.value != 0))' | tr -d ' \n')"
check "d: A sent all $N_D frames at $PPS/s (sent $a_sent)" test "$a_sent" = "$N_D"
check "d: C got every frame of its half, in order, intact ($c_rx of $((N_D / 2)); vm3.0 tx +$(( $(stat_of "$S" vm3.0 .tx_packets) - c_tx0 )))" \
	test "$c_rx" = $((N_D / 2)) -a "$(inj AC order 1)" = 0 -a "$(inj AC corrupt 1)" = 0 -a \
	$(( $(stat_of "$S" vm3.0 .tx_packets) - c_tx0 )) = "$c_rx"
check "d: no drop on C's port ($(( $(stat_of "$S" vm3.0 .drops_total) - c_drop0 )))" \
	test "$(stat_of "$S" vm3.0 .drops_total)" = "$c_drop0"
check "d: B's frames that found no room were counted as tx_full on vm2.0 ($full_mid during the stall, $b_full in all)" \
	test "$full_mid" -gt $(( PPS / 2 * (STALL - 10) )) -a "$b_full" -ge "$full_mid"
check "d: every frame for B was delivered or counted (vm2.0 tx $b_tx + tx_full $b_full = $((N_D / 2)))" \
	test $((b_tx + b_full)) = $((N_D / 2))
check "d: B got what vtoed delivered to it ($b_rx = 64 before the stall + $b_tx)" test "$b_rx" = $((b_tx + 64))
check "d: B gets frames again after it reads (it got $b_rx after the 64 before the stall, more than its ring holds)" test "$b_rx" -gt 1164
check "d: the books balance ($(books_line)) and mbufs are back at the baseline ($(mbufs_in_use) = $BASE)" \
	wait_for 10 eval 'books_balanced && [ "$(mbufs_in_use)" = "$BASE" ]'
check "vtoed still serves" vtoed_ready
vtoed_stop TERM; rc=$?
check "vtoed exits 0 on SIGTERM (got $rc)" test $rc = 0
on_fail_dump
t_finish
