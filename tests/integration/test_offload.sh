#!/bin/bash
# SPDX-License-Identifier: BSD-3-Clause
# test_offload.sh - issue 5's software TOE against real Linux TCP stacks:
# bulk transfers between QEMU/TCG guests through vtoed with checksum/TSO
# offloads on, off, and mixed, and out of an uplink to the host kernel.
#
#   vm1 10.78.0.1  offloads ON         vm2 10.78.0.2  offloads ON   (sink)
#   sender: -> vm2, -> vm3, -> host    vm3 10.78.0.3  offloads OFF  (sink, sender -> vm4)
#                                      vm4 10.78.0.4  offloads OFF  (sink)
#        |                 |                 |                 |
#        | vhost-user      | vhost-user      | vhost-user      | vhost-user
#   +----v-----------------v-----------------v-----------------v--------+
#   |  vtoed  vm1.0 (uplink up0)  vm2.0  vm3.0 (offloads: false)         |
#   |         vm4.0 (offloads: false)   up0 = net_tap0,iface=vtoeof<pid> |
#   |  main lcore: CPU 0                worker lcore: CPU 1              |
#   +----+--------------------------------------------------------------+
#        | TAP (rx steered by RPS to CPU 0)   tcpdump -Q in (CPU 0)
#   host kernel: vtoeof<pid> 10.78.0.254/24, TCP sink :5001 (python3, md5)
#   QEMU guests, tcpdump, python3, vtoectl and this script: CPU 0
#
#   1. on/on   vm1 -> vm2 8 MiB, md5 equal; both negotiated CSUM, HOST_TSO4,
#              GUEST_TSO4; vm1.0 offload.validated > 0, no offload drops;
#              super-frames kept whole (vm2.0 offload.segmented = 0);
#              `ethtool -k eth0` in both guests: tcp-segmentation-offload: on
#   2. off/off vm3 -> vm4 4 MiB, md5 equal; neither negotiated any of them;
#              vm3.0 offload.validated = 0; ethtool in both: TSO off
#   3. mixed   vm1 -> vm3 8 MiB, md5 equal; vm1's 64 KB super-frames are
#              segmented in software for vm3 (vm3.0 offload.segmented > 0)
#   4. uplink  vm1 -> host 4 MiB over up0, md5 equal; up0 offload.segmented
#              > 0 (net_tap's TSO is not used: see dp_uplink_tso; should an
#              uplink do TSO, more frames must reach the tap than vtoed
#              sent); >= 100 TCP segments captured on the tap as the host
#              received them, every IP and TCP checksum correct (tcpdump -vv),
#              no frame longer than 1514 bytes
#
# The four guests run at once under one vtoed (one boot each: booting
# four pairs one after the other would not fit the time bound); each
# scenario has its own ports, so every counter asserted belongs to it.
#
# Size: 8 MiB per guest -> guest transfer, not the issue's 64 MiB.  Measured
# on this 2-CPU box (every QEMU/TCG guest shares one CPU, the worker has the
# other): 8 MiB takes ~12 s alone (vm1 -> vm3) and ~22 s while the other
# pair also sends, i.e. ~0.4-0.7 MiB/s guest -> guest; 64 MiB would be
# 100-180 s per transfer and even 16 MiB would leave the test at ~100 s of
# its 120 s bound.  The off/off pair sends half as much (OFF_MB): without
# offloads every 1448-byte segment costs both TCG guests a trip through
# their stacks, and that transfer shares the CPU with the other two (it took
# up to 41 s for 8 MiB, making whole runs 55-88 s).  VTOE_OFFLOAD_MB=64 runs
# the full size (then raise VTOE_GUEST_SECS).  Per-transfer times are logged
# ("ms=").
source "$(dirname "$0")/lib/common.sh"
source "$(dirname "$0")/lib/guest.sh"

GUEST_SECS=${VTOE_GUEST_SECS:-110}      # hard bound of each QEMU
MB=${VTOE_OFFLOAD_MB:-8}                # MiB guest -> guest (see above)
OFF_MB=$(( (MB + 1) / 2 ))              # MiB off/off (see above)
UP_MB=4                                 # guest -> host: >= 2800 segments
TAP=vtoeof$$                            # <= 15 characters, unique per run
NET=10.78.0
HOST_IP=$NET.254
VM3_SOCK=$WORK/vm3.0.sock VM4_SOCK=$WORK/vm4.0.sock
VM3_MAC=52:54:00:00:03:01 VM4_MAC=52:54:00:00:04:01

need_root
need_binaries "$VTOED" "$VTOECTL"
command -v python3 >/dev/null || die "python3 missing (the host's TCP sink)"
command -v tcpdump >/dev/null || die "tcpdump missing (apt-get install tcpdump)"
ETHTOOL_BIN=$(command -v ethtool || ls /usr/sbin/ethtool /sbin/ethtool 2>/dev/null | head -1)
[ -x "$ETHTOOL_BIN" ] || die "ethtool missing on the host (apt-get install ethtool): the guests need it"
ip link show "$TAP" >/dev/null 2>&1 && die "interface $TAP already exists"
need_hugepages 256
GUEST_EXTRA_BINS=$ETHTOOL_BIN
guest_prepare
log "kernel $(basename "$GUEST_KBOOT"), tap $TAP, worker CPU $WORKER_CPU, others $OTHER_CPUS, scratch $WORK"

of_cleanup() {
	local rc=$?
	(exit $rc); t_cleanup
	ip link show "$TAP" >/dev/null 2>&1 && ip link del "$TAP" 2>/dev/null
	return $rc
}
trap of_cleanup EXIT

CONF=$WORK/vtoed.yaml VLOG=$WORK/vtoed.log
config_head >"$CONF"
cat >>"$CONF" <<EOF
uplinks:
  - {name: up0, device: "net_tap0,iface=$TAP"}
vms:
  - name: vm1
    ports:
      - {name: vm1.0, socket: $VM1_SOCK, mode: server, mac: "$VM1_MAC", queues: 1, uplink: up0}
  - name: vm2
    ports:
      - {name: vm2.0, socket: $VM2_SOCK, mode: server, mac: "$VM2_MAC", queues: 1}
  - name: vm3
    ports:
      - {name: vm3.0, socket: $VM3_SOCK, mode: server, mac: "$VM3_MAC", queues: 1, offloads: false}
  - name: vm4
    ports:
      - {name: vm4.0, socket: $VM4_SOCK, mode: server, mac: "$VM4_MAC", queues: 1, offloads: false}
EOF

# ------------------------------------------------------------------ helpers
# n_feats STATS PORT: how many of CSUM, HOST_TSO4, GUEST_TSO4 the port negotiated
n_feats() {
	stat_of "$1" "$2" '[.feature_names[]? | select(. == "CSUM" or . == "HOST_TSO4" or . == "GUEST_TSO4")] | length'
}
send_line() { guest_log "$1" | grep "^E2E SEND to=$2 " | head -1; }
sink_md5s() { guest_log "$1" | sed -n 's/^E2E SINK md5=\([0-9a-f]*\).*/\1/p'; }
ethtool_tso() { guest_log "$1" | grep '^E2E ETHTOOL tcp-segmentation-offload:'; }
md5_of_line() { sed -n 's/.* md5=\([0-9a-f]*\).*/\1/p' <<<"$1"; }
all_done() {
	guest_has vm1 '^E2E XFER DONE' && guest_has vm3 '^E2E XFER DONE' &&
		[ "$(sink_md5s vm2 | wc -l)" -ge 1 ] && [ "$(sink_md5s vm4 | wc -l)" -ge 1 ] &&
		[ "$(sink_md5s vm3 | wc -l)" -ge 1 ] && grep -q '^md5 ' "$WORK/sink.log"
}
on_fail_dump() {
	[ "$T_FAIL" -gt 0 ] || return 0
	local g; for g in vm1 vm2 vm3 vm4; do guest_log "$g" | grep -v ETHTOOL | sed "s/^/    [$g] /" >&2; done
	dump_log "$VLOG" 40; dump_log "$WORK/sink.log" 5; dump_log "$WORK/tcpdump.log" 5
}

# ------------------------------------------------------------ vtoed + host
vtoed_start "$CONF" "$VLOG" 150 || die "vtoed did not start"
# From here on everything this test starts (QEMU, tcpdump, python3, vtoectl,
# jq) stays off the worker's CPU.
taskset -pc "$OTHER_CPUS" $$ >/dev/null
wait_for 5 ip link show "$TAP" >/dev/null 2>&1 || die "vtoed did not create $TAP"
echo 1 >"/proc/sys/net/ipv6/conf/$TAP/disable_ipv6" 2>/dev/null
ip addr add "$HOST_IP/24" dev "$TAP" && ip link set "$TAP" up || die "cannot configure $TAP"
# The tap's receive path would run as softirq on the worker's CPU, where the
# busy-polling worker starves it; steer it (RPS) to the other CPUs.
printf '%x' $(( (1 << WORKER_CPU) ^ ((1 << NCPU) - 1) )) >"/sys/class/net/$TAP/queues/rx-0/rps_cpus" ||
	die "cannot set RPS on $TAP"

# The host's TCP sink: md5 of everything one connection sends.
timeout -k 5 130 taskset -c "$OTHER_CPUS" python3 -u "$(dirname "$0")/lib/tcp_md5.py" sink "$HOST_IP" \
	>"$WORK/sink.log" 2>&1 &
track $!
wait_for 5 grep -q listening "$WORK/sink.log" || die "host TCP sink did not start: $(cat "$WORK/sink.log")"

# What vtoed wrote into the tap (-Q in: as the host received it; what the
# host sends may carry partial checksums its NIC would fill), whole frames
# so that -vv can verify the checksums.
PCAP=$WORK/up0.pcap
timeout -k 5 130 taskset -c "$OTHER_CPUS" tcpdump -i "$TAP" -Q in -n -U -s 0 -B 16384 -w "$PCAP" \
	"tcp and host $HOST_IP" 2>"$WORK/tcpdump.log" &
TCPDUMP_PID=$!; track $TCPDUMP_PID
wait_for 10 grep -q "listening on" "$WORK/tcpdump.log" || die "tcpdump did not start: $(cat "$WORK/tcpdump.log")"

# ------------------------------------------------------------------ guests
G="e2e.role=xfer e2e.ethtool=1 e2e.mb=$MB"
guest_start vm2 "$VM2_SOCK" "$VM2_MAC" 0 "$GUEST_SECS" e2e.ip=$NET.2 $G e2e.sink=1
guest_start vm4 "$VM4_SOCK" "$VM4_MAC" 0 "$GUEST_SECS" e2e.ip=$NET.4 $G e2e.sink=1
guest_start vm3 "$VM3_SOCK" "$VM3_MAC" 0 "$GUEST_SECS" e2e.ip=$NET.3 $G e2e.sink=1 e2e.send=$NET.4:$OFF_MB
guest_start vm1 "$VM1_SOCK" "$VM1_MAC" 0 "$GUEST_SECS" e2e.ip=$NET.1 $G \
	e2e.send=$NET.2,$NET.3,$HOST_IP:$UP_MB
if ! wait_for $((GUEST_SECS - 15)) all_done; then
	fail "transfers did not all finish within $((GUEST_SECS - 15)) s"
fi
S=$(ctl --json stats)
for g in vm1 vm3; do guest_log $g | grep '^E2E SEND' | sed "s/^/    [$g] /" >&2; done
log "stats: $(jq -c '[(.result.ports // .ports)[] | {name, link, rx_packets, tx_packets, direct, direct_stops: (.direct_stops // {} | with_entries(select(.value > 0))), drops_total, drops: (.drops | with_entries(select(.value > 0))),
	feature_names, offload: (.offload | {validated, passed, csum_sw, segmented, segments, coalesced, drops})}]' <<<"$S" 2>/dev/null)"

# --------------------------------------------------------------- 1. on / on
L=$(send_line vm1 $NET.2)
check "1. on/on: vm1 -> vm2 ${MB} MiB, md5 equal (${L#E2E })" \
	test -n "$(md5_of_line "$L")" -a "$(md5_of_line "$L")" = "$(sink_md5s vm2 | head -1)"
for p in vm1.0 vm2.0; do
	check "1. on/on: $p negotiated CSUM, HOST_TSO4, GUEST_TSO4" test "$(n_feats "$S" $p)" = 3
done
check "1. on/on: vm1.0's TSO/partial-csum frames validated ($(stat_of "$S" vm1.0 .offload.validated))" \
	test "$(num "$(stat_of "$S" vm1.0 .offload.validated)")" -gt 0
# Offload frames between two guests that both negotiated the offloads go
# the direct path (one copy, metadata passed on as it was): none of vm1's
# was refused there.  (vm1's plain MSS segments for vm2 take the library
# path on purpose, where GRO coalesces them: direct_stops.gro.)
check "1. on/on: vm1's offload frames for vm2 passed on directly (vm1.0 offload.passed $(stat_of "$S" vm1.0 .offload.passed), direct_stops.offload $(stat_of "$S" vm1.0 .direct_stops.offload))" \
	test "$(num "$(stat_of "$S" vm1.0 .offload.passed)")" -gt 0 -a "$(stat_of "$S" vm1.0 .direct_stops.offload)" = 0
check "1. on/on: super-frames reached vm2 whole (vm2.0 offload.segmented = $(stat_of "$S" vm2.0 .offload.segmented))" \
	test "$(stat_of "$S" vm2.0 .offload.segmented)" = 0
for p in vm1.0 vm2.0; do
	check "1. on/on: no offload drops on $p ($(off_drops "$S" $p))" test "$(off_drops "$S" $p)" = 0
done
for g in vm1 vm2; do
	E=$(ethtool_tso $g)
	echo "    [$g] ${E#E2E ETHTOOL }"
	check "1. on/on: ethtool -k eth0 in $g: tcp-segmentation-offload: on" grep -q ': on' <<<"$E"
done

# ------------------------------------------------------------- 2. off / off
L=$(send_line vm3 $NET.4)
check "2. off/off: vm3 -> vm4 ${OFF_MB} MiB, md5 equal (${L#E2E })" \
	test -n "$(md5_of_line "$L")" -a "$(md5_of_line "$L")" = "$(sink_md5s vm4 | head -1)"
for p in vm3.0 vm4.0; do
	check "2. off/off: $p negotiated none of CSUM, HOST_TSO4, GUEST_TSO4 ($(stat_of "$S" $p '.feature_names | join(",")'))" \
		test "$(n_feats "$S" $p)" = 0
done
check "2. off/off: vm3.0 offload.validated = 0 ($(stat_of "$S" vm3.0 .offload.validated))" \
	test "$(stat_of "$S" vm3.0 .offload.validated)" = 0
check "2. off/off: nothing segmented for vm4 (vm4.0 offload.segmented = $(stat_of "$S" vm4.0 .offload.segmented))" \
	test "$(stat_of "$S" vm4.0 .offload.segmented)" = 0
for p in vm3.0 vm4.0; do
	check "2. off/off: no offload drops on $p ($(off_drops "$S" $p))" test "$(off_drops "$S" $p)" = 0
done
for g in vm3 vm4; do
	E=$(ethtool_tso $g)
	echo "    [$g] ${E#E2E ETHTOOL }"
	check "2. off/off: ethtool -k eth0 in $g: tcp-segmentation-offload: off" grep -q ': off' <<<"$E"
done

# ---------------------------------------------------------------- 3. mixed
L=$(send_line vm1 $NET.3)
check "3. mixed: vm1 (on) -> vm3 (off) ${MB} MiB, md5 equal (${L#E2E })" \
	test -n "$(md5_of_line "$L")" -a "$(md5_of_line "$L")" = "$(sink_md5s vm3 | head -1)"
check "3. mixed: vm1's super-frames segmented in software for vm3 (vm3.0 offload.segmented = $(stat_of "$S" vm3.0 .offload.segmented), segments $(stat_of "$S" vm3.0 .offload.segments))" \
	test "$(num "$(stat_of "$S" vm3.0 .offload.segmented)")" -gt 0

# --------------------------------------------------------------- 4. uplink
L=$(send_line vm1 $HOST_IP)
H=$(sed -n 's/^md5 \([0-9a-f]*\) .*/\1/p' "$WORK/sink.log")
check "4. uplink: vm1 -> host ${UP_MB} MiB over up0, md5 equal (${L#E2E }; host: $(grep '^md5' "$WORK/sink.log"))" \
	test -n "$H" -a "$(md5_of_line "$L")" = "$H"
UP_CAPS=$(stat_of "$S" up0 '.offload.egress_does | join(",")')
UP_TX=$(num "$(stat_of "$S" up0 .tx_packets)")
check "4. uplink: TSO frames cut for up0 ($(stat_of "$S" up0 .offload.segmented) super-frames -> $(stat_of "$S" up0 .offload.segments) frames by vtoed; up0 does: $UP_CAPS)" \
	test "$(num "$(stat_of "$S" up0 .offload.segmented)")" -gt 0
check "4. uplink: no offload drops on up0 ($(off_drops "$S" up0))" test "$(off_drops "$S" up0)" = 0
sleep 0.5
kill -INT "$TCPDUMP_PID" 2>/dev/null; wait "$TCPDUMP_PID" 2>/dev/null
DUMP=$WORK/up0.txt
timeout 30 taskset -c "$OTHER_CPUS" tcpdump -r "$PCAP" -vv -n tcp >"$DUMP" 2>/dev/null
N_SEG=$(grep -c 'cksum 0x[0-9a-f]* (correct)' "$DUMP")
N_BAD=$(grep -cE 'incorrect|bad cksum' "$DUMP")
N_BIG=$(timeout 30 taskset -c "$OTHER_CPUS" tcpdump -r "$PCAP" -n 'greater 1515' 2>/dev/null | wc -l)
N_ALL=$(timeout 30 taskset -c "$OTHER_CPUS" tcpdump -r "$PCAP" -n 2>/dev/null | wc -l)
grep -E 'incorrect|bad cksum' "$DUMP" | head -3 | sed 's/^/    [tap] /'
check "4. uplink: >= 100 TCP segments from vtoed captured on $TAP ($N_ALL frames, $N_SEG with a correct TCP checksum)" \
	test "$N_SEG" -ge 100
check "4. uplink: no bad IP or TCP checksum among them ($N_BAD)" test "$N_BAD" = 0 -a "$N_SEG" = "$N_ALL"
check "4. uplink: no captured frame longer than 1514 bytes ($N_BIG)" test "$N_BIG" = 0 -a "$N_ALL" -gt 0
if [[ ,$UP_CAPS, == *,tso4,* ]]; then
	# The NIC's own TSO cut the TSO frames vtoed handed it: more frames
	# on the wire than vtoed sent.
	check "4. uplink: the NIC's TSO cut further: $N_ALL frames on the tap > $UP_TX handed to up0" \
		test "$N_ALL" -gt "$UP_TX"
fi

# ------------------------------------------------------------------ stop
for g in vm1 vm2 vm3 vm4; do guest_stop $g; done
vtoed_stop TERM; rc=$?
check "vtoed exits 0 on SIGTERM (got $rc)" test $rc = 0
on_fail_dump
t_finish
