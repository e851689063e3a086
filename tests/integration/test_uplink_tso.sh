#!/bin/bash
# SPDX-License-Identifier: BSD-3-Clause
# test_uplink_tso.sh - TSO done by the uplink's NIC, end to end, between two
# real Linux TCP stacks.  There is no VF here; the NIC is DPDK's virtio PMD
# (net_virtio_user), whose TSO is the real thing: the super-frame leaves
# whole with a virtio-net header and the device behind it segments or
# takes it as it is.  The device is a second vtoed, so what arrives is
# validated by the same TOE that checks guests.
#
#   vm1 10.77.0.1 (QEMU/TCG, offloads on)       vm2 10.77.0.2 (QEMU/TCG, offloads on)
#        | vhost-user                                 | vhost-user
#   vtoed "host" (ctl host.sock)                 vtoed "peer" (ctl peer.sock)
#     vm1.0 (uplink up0)                           vm2.0
#     up0 = net_virtio_user0,path=wire.sock  ===>  wire (vhost-user server,
#           TSO4/6 + CSUM offered by the peer)           MAC of vm1: it carries
#                                                        vm1's frames only)
#
# vm1 sends 8 MiB to vm2 over TCP; vm1's MAC is static in "host", vm2's is
# unknown there, so vm1's frames take vm1.0's uplink; in "peer" vm1's MAC
# is the wire port's and vm2's is vm2.0's.  Checked:
#   - md5 of the 8 MiB equal on both sides;
#   - up0 does tso4 (egress_does), and vtoed handed the NIC super-frames
#     (up0 offload.nic_tso > 0, mean frame on up0 over 1514 bytes) without
#     cutting any itself (segmented 0);
#   - the peer received them as TSO frames (wire offload.validated > 0)
#     and delivered them to vm2 whole (vm2.0 offload.segmented 0);
#   - no offload drops anywhere, and both daemons' books balance.
# Both workers share CPU 1 ("1@CPU"); the guests, QEMU and the rest CPU 0.
source "$(dirname "$0")/lib/common.sh"
source "$(dirname "$0")/lib/guest.sh"

GUEST_SECS=${VTOE_GUEST_SECS:-110}
MB=${VTOE_UPLINK_TSO_MB:-8}
NET=10.77.0
WIRE_SOCK=$WORK/wire.sock
PEER_CTL=$WORK/peer.sock

need_root
need_binaries "$VTOED" "$VTOECTL"
need_hugepages 512
guest_prepare

pctl() { timeout 10 "$VTOECTL" --socket "$PEER_CTL" "$@"; }

# ------------------------------------------------------------------- peer
# the device behind host's uplink
config_head "$PEER_CTL" peer "\"1@$WORKER_CPU\"" >"$WORK/peer.yaml"
cat >>"$WORK/peer.yaml" <<EOF
vms:
  - name: wire
    ports:
      - {name: wire, socket: $WIRE_SOCK, mode: server, mac: "$VM1_MAC", queues: 1}
  - name: vm2
    ports:
      - {name: vm2.0, socket: $VM2_SOCK, mode: server, mac: "$VM2_MAC", queues: 1}
EOF
timeout -k 5 150 "$VTOED" --config "$WORK/peer.yaml" </dev/null >"$WORK/peer.log" 2>&1 &
PEER_TPID=$!; track $PEER_TPID
wait_for 30 eval "pctl version >/dev/null 2>&1" || { dump_log "$WORK/peer.log"; die "peer vtoed did not start"; }
PEER_PID=$(pgrep -P "$PEER_TPID" | head -1); track "$PEER_PID"

# ------------------------------------------------------------------- host
# vm1's host, uplink with NIC TSO
config_head "$CTL_SOCK" host "\"1@$WORKER_CPU\"" >"$WORK/host.yaml"
cat >>"$WORK/host.yaml" <<EOF
uplinks:
  - {name: up0, device: "net_virtio_user0,path=$WIRE_SOCK,queues=1,queue_size=1024"}
vms:
  - name: vm1
    ports:
      - {name: vm1.0, socket: $VM1_SOCK, mode: server, mac: "$VM1_MAC", queues: 1, uplink: up0}
EOF
vtoed_start "$WORK/host.yaml" "$WORK/host.log" 150 || { dump_log "$WORK/peer.log"; die "host vtoed did not start"; }
taskset -pc "$OTHER_CPUS" $$ >/dev/null
S=$(ctl --json stats)
UP_CAPS=$(stat_of "$S" up0 '.offload.egress_does | join(",")')
log "up0 does: $UP_CAPS; $(grep -m1 'uplink up0: ' "$WORK/host.log")"
check "up0 (virtio-user to the peer) does TSO: egress_does [$UP_CAPS]" grep -q 'tso4' <<<"$UP_CAPS"
wait_for 10 eval "[ \"\$(stat_of \"\$(pctl --json stats)\" wire .link)\" = up ]" ||
	fail "the peer's wire port did not come up"

# ----------------------------------------------------------------- guests
G="e2e.role=xfer e2e.mb=$MB"
guest_start vm2 "$VM2_SOCK" "$VM2_MAC" 0 "$GUEST_SECS" e2e.ip=$NET.2 $G e2e.sink=1
guest_start vm1 "$VM1_SOCK" "$VM1_MAC" 0 "$GUEST_SECS" e2e.ip=$NET.1 $G e2e.send=$NET.2
done_xfer() { guest_has vm1 '^E2E XFER DONE' && guest_has vm2 '^E2E SINK md5='; }
wait_for $((GUEST_SECS - 15)) done_xfer || fail "the transfer did not finish within $((GUEST_SECS - 15)) s"
sleep 1
S=$(ctl --json stats); P=$(pctl --json stats)
log "host: $(jq -c '[.ports[] | {name, rx_packets, tx_packets, drops: (.drops | with_entries(select(.value > 0))), offload: (.offload | {egress_does, validated, segmented, nic_tso, coalesced, drops})}]' <<<"$S")"
log "peer: $(jq -c '[.ports[] | {name, rx_packets, tx_packets, drops: (.drops | with_entries(select(.value > 0))), offload: (.offload | {validated, segmented, coalesced, drops})}]' <<<"$P")"

L=$(guest_log vm1 | grep "^E2E SEND to=$NET.2 " | head -1)
SENT=$(sed -n 's/.* md5=\([0-9a-f]*\).*/\1/p' <<<"$L")
GOT=$(guest_log vm2 | sed -n 's/^E2E SINK md5=\([0-9a-f]*\).*/\1/p' | head -1)
check "vm1 -> vm2 ${MB} MiB across the wire, md5 equal (${L#E2E })" test -n "$SENT" -a "$SENT" = "$GOT"
NIC_TSO=$(num "$(stat_of "$S" up0 .offload.nic_tso)")
check "host handed up0's NIC super-frames to segment (nic_tso $NIC_TSO)" test "$NIC_TSO" -gt 0
UP_TXP=$(num "$(stat_of "$S" up0 .tx_packets)"); UP_TXB=$(num "$(stat_of "$S" up0 .tx_bytes)")
check "super-frames crossed the wire: $UP_TXB bytes in $UP_TXP frames on up0, more than 1514 each on average" \
	test "$UP_TXP" -gt 0 -a "$UP_TXB" -gt $((UP_TXP * 1514))
check "host cut none itself (up0 offload.segmented $(stat_of "$S" up0 .offload.segmented))" \
	test "$(stat_of "$S" up0 .offload.segmented)" = 0
WIRE_VAL=$(num "$(stat_of "$P" wire .offload.validated)")
check "the peer received TSO frames from the NIC (wire offload.validated $WIRE_VAL >= nic_tso $NIC_TSO)" \
	test "$WIRE_VAL" -ge "$NIC_TSO" -a "$WIRE_VAL" -gt 0
check "the peer delivered them to vm2 whole (vm2.0 offload.segmented $(stat_of "$P" vm2.0 .offload.segmented))" \
	test "$(stat_of "$P" vm2.0 .offload.segmented)" = 0
for p in vm1.0 up0; do
	check "host: no offload drops on $p ($(off_drops "$S" $p))" test "$(off_drops "$S" $p)" = 0
done
for p in wire vm2.0; do
	check "peer: no offload drops on $p ($(off_drops "$P" $p))" test "$(off_drops "$P" $p)" = 0
done
check_books host "$S"
check_books peer "$P"

guest_stop vm1; guest_stop vm2
vtoed_stop TERM; rc=$?
check "host vtoed exits 0 on SIGTERM (got $rc)" test $rc = 0
kill -TERM "$PEER_PID" 2>/dev/null
wait_for 15 eval "! kill -0 $PEER_PID 2>/dev/null" || fail "peer vtoed did not stop"
if [ "$T_FAIL" -gt 0 ]; then
	guest_show vm1; guest_show vm2
	dump_log "$WORK/host.log" 30; dump_log "$WORK/peer.log" 30
fi
t_finish
