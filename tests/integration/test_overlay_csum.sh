#!/bin/bash
# SPDX-License-Identifier: BSD-3-Clause
# test_overlay_csum.sh - a TCP stream between real Linux guests on two
# vtoed "hosts", through the VXLAN overlay, its inner checksums left to the
# uplink's NIC.  The NIC is DPDK's virtio PMD (net_virtio_user), whose
# checksum offload sums from wherever csum_start points, so it completes a
# checksum inside the encapsulation; the device behind it is host B's
# uplink (net_vhost), where rte_vhost completes it on receipt, as a NIC
# would on the wire.  A checksum left wrong would stop the stream: B's GRO
# and vm2's stack both check them.
#
#   vm1 10.1.0.1 (QEMU/TCG, TSO on, MTU 1450)      vm2 10.1.0.2 (same)
#        | vhost-user                                  | vhost-user
#   vtoed host-a (VTEP 192.0.2.1)               vtoed host-b (VTEP 192.0.2.2)
#     up0 = net_virtio_user0,path=wire.sock  ===>  up0 = net_vhost0,iface=wire.sock
#   directory: one etcd member
#
# vm1 sends 8 MiB to vm2.  Checked: md5 equal; A cut vm1's super-frames
# inside the tunnel (overlay segmented > 0) into segments that point at
# the super-frames' buffers (offload segments_shared) and left every inner checksum
# of the stream to up0 (inner_csum_nic, one per data segment at least);
# B decapsulated the stream; no offload or overlay drops; books balance.
# Then (not in the ASan run) the same with offloads: false on A's up0: no
# checksum is left to the NIC, the TOE computes them all, md5 equal.
source "$(dirname "$0")/lib/common.sh"
source "$(dirname "$0")/lib/guest.sh"
source "$(dirname "$0")/lib/etcd.sh"
source "$(dirname "$0")/lib/overlay.sh"

GUEST_SECS=${VTOE_GUEST_SECS:-120}
MB=${VTOE_OVERLAY_CSUM_MB:-8}
G1M=52:54:00:0a:01:01 G2M=52:54:00:0b:01:01

ovl_need

etcd_cluster_start 1 $((24000 + $$ % 1000 * 2)) || { dump_log "$WORK/etcd-1.log"; die "etcd did not come up"; }

ctr() { num "$(ovl_json "$1" | jq -r ".counters.$2")"; }
tnl_drops() { echo $(( $(num "$(off_drops "$1" "$2")") + $(num "$(stat_of "$1" "$2" '.drops.overlay_mtu // 0')") )); }
host_yaml() {  # H IP DEVICE PORTS [UPLINK_OFFLOADS]
	config_head "$WORK/$1.sock" "$1"
	cat <<EOC
uplinks: [{name: up0, device: "$3", offloads: ${5:-true}}]
networks: [{name: blue, vni: 5001}]
overlay: {local_ip: $2/24, uplink: up0}
cluster: {etcd: ["${ETCD_ENDPOINTS%%,*}"], host: host-$1, ttl: ${OVL_TTL}s}
vms:
$4
EOC
}

CPUS0=$(taskset -pc $$ | sed 's/.*: //')
# round OFFLOADS: both hosts and guests from scratch, A's up0 with
# offloads: OFFLOADS
round() {
	local off=$1 g1=g1 g2=g2 t=""
	[ "$off" = true ] || { g1=g1n g2=g2n t="offloads: false:"; }
	rm -f "$WORK/wire.sock"
	taskset -pc "$CPUS0" $$ >/dev/null     # (the last round kept to the guests')
	# B first: its uplink is the vhost-user server A's virtio-user connects to.
	host_yaml b 192.0.2.2 "net_vhost0,iface=$WORK/wire.sock,queues=1" \
		"$(vmport $g2 $G2M blue ', ip: 10.1.0.2/24')" >"$WORK/b.yaml"
	host_yaml a 192.0.2.1 "net_virtio_user0,path=$WORK/wire.sock,queues=1,queue_size=1024" \
		"$(vmport $g1 $G1M blue ', ip: 10.1.0.1/24')" "$off" >"$WORK/a.yaml"
	start_host b || { dump_log "$WORK/vtoed-b.log"; die "host-b did not start"; }
	start_host a || { dump_log "$WORK/vtoed-a.log"; die "host-a did not start"; }
	taskset -pc "$OTHER_CPUS" $$ >/dev/null
	L=$(grep 'uplink up0: .* does ' "$WORK/vtoed-a.log" | tail -1)
	log "host-a: ${L#*: }"
	if [ "$off" = true ]; then
		check "${t:+$t }host-a's up0 (virtio-user) completes inner checksums" grep -q 'inner checksums in VXLAN' <<<"$L"
	else
		check "${t:+$t }host-a's up0 is asked for no checksum" grep -q 'no checksums' <<<"$L"
	fi
	check "${t:+$t }both hosts in sync with etcd" wait_for 20 eval "watching a && watching b"

	G="e2e.role=xfer e2e.mb=$MB e2e.mtu=1450"
	guest_start $g2 "$WORK/$g2.vsock" "$G2M" 0 "$GUEST_SECS" e2e.ip=10.1.0.2 $G e2e.sink=1
	guest_start $g1 "$WORK/$g1.vsock" "$G1M" 0 "$GUEST_SECS" e2e.ip=10.1.0.1 $G e2e.send=10.1.0.2
	check "${t:+$t }each host sees the other's VM once its guest is up" \
		wait_for 60 eval "sees a b 5001 $G2M && sees b a 5001 $G1M"
	done_xfer() { guest_has $g1 '^E2E XFER DONE' && guest_has $g2 '^E2E SINK md5='; }
	wait_for $((GUEST_SECS - 15)) done_xfer || fail "the transfer did not finish within $((GUEST_SECS - 15)) s"
	sleep 1

	SA=$(CTL_SOCK=$WORK/a.sock ctl --json stats); SB=$(CTL_SOCK=$WORK/b.sock ctl --json stats)
	log "host-a overlay: $(ovl_json a | jq -c .counters)"
	log "host-b overlay: $(ovl_json b | jq -c .counters)"
	L=$(guest_log $g1 | grep "^E2E SEND to=10.1.0.2 " | head -1)
	SENT=$(sed -n 's/.* md5=\([0-9a-f]*\).*/\1/p' <<<"$L")
	GOT=$(guest_log $g2 | sed -n 's/^E2E SINK md5=\([0-9a-f]*\).*/\1/p' | head -1)
	check "${t:+$t }g1 -> g2 ${MB} MiB through the tunnel, md5 equal (${L#E2E })" test -n "$SENT" -a "$SENT" = "$GOT"
	SEG=$(ctr a segmented) ENC=$(ctr a encap) NIC=$(ctr a inner_csum_nic)
	check "${t:+$t }host-a cut super-frames inside the tunnel (segmented $SEG)" test "$SEG" -gt 0
	SHARED=$(num "$(stat_of "$SA" up0 .offload.segments_shared)") SEGS=$(num "$(stat_of "$SA" up0 .offload.segments)")
	# rte_vhost hands a super-frame over in one external buffer when it fits
	# one (up to 64 KB with headroom), else as a chain, whose payload is copied
	check "${t:+$t }its segments pointed at the super-frames' buffers instead of copying their payload ($SHARED of $SEGS, at least 90%)" \
		test "$SHARED" -gt 0 -a "$SHARED" -ge $((SEGS * 9 / 10))
	# every data segment of the stream: at least MB MiB over a 1398-byte MSS
	if [ "$off" = true ]; then
		check "${t:+$t }host-a left the inner checksums to up0 ($NIC of $ENC frames sent into the tunnel)" \
			test "$NIC" -ge $((MB * 1048576 / 1398)) -a "$NIC" -le "$ENC"
	else
		check "${t:+$t }host-a left no checksum to up0 ($NIC of $ENC frames sent into the tunnel)" \
			test "$NIC" = 0 -a "$ENC" -ge $((MB * 1048576 / 1398))
	fi
	DEC=$(ctr b decap)
	check "${t:+$t }host-b took the stream out of the tunnel (decap $DEC)" test "$DEC" -ge $((MB * 1048576 / 1398))
	VXD=$(ovl_json b | jq '[.counters.vxlan_drops[]] | add')
	check "${t:+$t }host-b refused no VXLAN frame (vxlan_drops $VXD)" test "$VXD" = 0
	for p in $g1.0 up0; do
		check "${t:+$t }host-a: no offload or tunnel MTU drops on $p ($(tnl_drops "$SA" $p))" test "$(tnl_drops "$SA" $p)" = 0
	done
	for p in up0 $g2.0; do
		check "${t:+$t }host-b: no offload or tunnel MTU drops on $p ($(tnl_drops "$SB" $p))" test "$(tnl_drops "$SB" $p)" = 0
	done
	check_books host-a "$SA"
	check_books host-b "$SB"

	guest_stop $g1; guest_stop $g2
	stop_host a; rc=$?
	check "${t:+$t }host-a exits 0 on SIGTERM (got $rc)" test $rc = 0
	stop_host b; rc=$?
	check "${t:+$t }host-b exits 0 on SIGTERM (got $rc)" test $rc = 0
	if [ "$T_FAIL" -gt 0 ]; then
		guest_show $g1; guest_show $g2
		dump_log "$WORK/vtoed-a.log" 30; dump_log "$WORK/vtoed-b.log" 30
	fi
}

round true
[ -n "${T_SUFFIX:-}" ] || round false
t_finish
