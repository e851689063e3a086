#!/bin/bash
# SPDX-License-Identifier: BSD-3-Clause
# test_networks_guests.sh - tenant isolation between real Linux guests
# (QEMU/TCG), with port security restricting their addresses:
#
#   blue (VLAN 100): g1 10.0.0.1 (an echo server, idle), g2 10.0.0.2 probes g1
#   red  (VLAN 200): g3 10.0.0.3 probes g1
#
# g2 must reach g1 (ping and arping answered); g3, in another network of
# the same subnet, must not (ping fails, arping gets no reply).  Port
# security is on with the guests' addresses: their own ARP, IPv4 and IPv6
# (link-local, DAD, MLD) traffic must pass it, so no frame of the blue
# guests is dropped by it.
source "$(dirname "$0")/lib/common.sh"
source "$(dirname "$0")/lib/guest.sh"

GUEST_SECS=${VTOE_GUEST_SECS:-240}
need_root
need_binaries "$VTOED" "$VTOECTL"
need_hugepages 256
guest_prepare

CONF=$WORK/vtoed.yaml VLOG=$WORK/vtoed.log
S1=$WORK/g1.sock S2=$WORK/g2.sock S3=$WORK/g3.sock
M1=52:54:00:00:0c:01 M2=52:54:00:00:0c:02 M3=52:54:00:00:0c:03
config_head >"$CONF"
cat >>"$CONF" <<EOC
networks: [{name: blue, vlan: 100}, {name: red, vlan: 200}]
vms:
  - name: g1
    ports: [{name: g1.0, socket: $S1, mac: "$M1", network: blue, ip: 10.0.0.1/24}]
  - name: g2
    ports: [{name: g2.0, socket: $S2, mac: "$M2", network: blue, ip: 10.0.0.2/24}]
  - name: g3
    ports: [{name: g3.0, socket: $S3, mac: "$M3", network: red, ip: 10.0.0.3/24}]
EOC
vtoed_start "$CONF" "$VLOG" 400 || { dump_log "$VLOG"; die "vtoed did not start"; }
wait_for 10 test -S "$S3" || die "vtoed made no sockets"

guest_start g1 "$S1" "$M1" 0 "$GUEST_SECS" e2e.ip=10.0.0.1 e2e.role=server e2e.maxt=230
guest_start g2 "$S2" "$M2" 0 "$GUEST_SECS" e2e.ip=10.0.0.2 e2e.peer=10.0.0.1 e2e.role=probe e2e.wait=5 e2e.maxt=230
guest_start g3 "$S3" "$M3" 0 "$GUEST_SECS" e2e.ip=10.0.0.3 e2e.peer=10.0.0.1 e2e.role=probe e2e.wait=5 e2e.maxt=230
if guest_wait g2 '^E2E PROBE' 200 && guest_wait g3 '^E2E PROBE' 60; then
	log "g2: $(guest_log g2 | grep '^E2E PROBE')"
	log "g3: $(guest_log g3 | grep '^E2E PROBE')"
	check "g2 (blue) pings g1 (blue)" guest_has g2 '^E2E PROBE ping=OK'
	check "g2 (blue) gets arping replies from g1" guest_has g2 '^E2E PROBE ping=OK arping=[1-9]'
	check "g3 (red) cannot ping g1 (blue)" guest_has g3 '^E2E PROBE ping=FAIL'
	check "g3 (red) gets no arping reply from g1" guest_has g3 '^E2E PROBE ping=FAIL arping=0 '
else
	fail "the probes gave no result"
fi
S=$(ctl --json stats)
log "drops: $(jq -c '[(.result.ports // .ports)[] | {(.name): (.drops | with_entries(select(.value != 0)))}] | add' <<<"$S")"
PS=$(jq '[(.result.ports // .ports)[] | .drops | (.src_mac_mismatch + .ip_spoof + .arp_spoof + .nd_spoof + .dhcp_server + .router_advert + .header_cut + .guest_vlan)] | add' <<<"$S")
check "port security dropped none of the guests' own frames ($PS)" test "$PS" = 0
check "g1.0 sent frames to g2.0 only: g3.0 received nothing of blue ($(stat_of "$S" g3.0 .tx_packets) frames)" \
	test "$(stat_of "$S" g3.0 .tx_packets)" = 0
guest_stop g1; guest_stop g2; guest_stop g3
vtoed_stop TERM
check "vtoed exits 0" test $? = 0
[ "$T_FAIL" -gt 0 ] && { guest_show g2; guest_show g3; dump_log "$VLOG" 30; }
t_finish
