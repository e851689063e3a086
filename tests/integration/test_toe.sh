#!/bin/bash
# SPDX-License-Identifier: BSD-3-Clause
# test_toe.sh - the TOE endpoint of a VM port, against a real Linux guest
# (QEMU/TCG, busybox udhcpc, ping and wget, the kernel's TCP):
#
#   guest vm1 (no address) --- vm1.0: ip 10.0.0.11/24, gateway 10.0.0.1,
#                                     dns [10.0.0.2, 10.0.0.3], metadata
#
# The guest gets its address, router, DNS servers, host name, MTU, lease
# and classless routes (the metadata address and the default route) by
# DHCP from the switch; pings the gateway and 169.254.169.254 (ARP and
# ICMP answered by the endpoint), fe80::a9fe:a9fe (neighbour discovery
# and ICMPv6); a TCP connection to 169.254.169.254:80 is refused at once
# (RST: nothing listens there); wget reads its instance id, host name and
# user data (md5-checked) from the metadata service over the endpoint's
# TCP; iperf3 -c 169.254.169.254 runs against the endpoint's iperf3
# server; then it renews and releases its lease.
# vtoectl toe shows the lease released and the exchange counted, no drop,
# and the switch's books balance.
source "$(dirname "$0")/lib/common.sh"
source "$(dirname "$0")/lib/guest.sh"

GUEST_SECS=${VTOE_GUEST_SECS:-200}
need_root
need_binaries "$VTOED" "$VTOECTL"
need_hugepages 256
# busybox's wget (static glibc) crashes resolving even an address
GUEST_EXTRA_BINS="$(command -v wget) $(command -v iperf3)"
guest_prepare

CONF=$WORK/vtoed.yaml VLOG=$WORK/vtoed.log S1=$WORK/vm1.sock M1=52:54:00:00:0d:01
UD=$WORK/user-data
head -c 300000 /dev/urandom >"$UD"
UD_MD5=$(md5sum <"$UD" | cut -d' ' -f1)
config_head >"$CONF"
cat >>"$CONF" <<EOC
vms:
  - name: vm1
    metadata: {instance_id: i-0001, hostname: vm-one, user_data: $UD}
    ports:
      - {name: vm1.0, socket: $S1, mac: "$M1", ip: 10.0.0.11/24, gateway: 10.0.0.1,
         dns: [10.0.0.2, 10.0.0.3]}
EOC
vtoed_start "$CONF" "$VLOG" 300 || { dump_log "$VLOG"; die "vtoed did not start"; }
wait_for 10 test -S "$S1" || die "vtoed made no socket"

guest_start vm1 "$S1" "$M1" 0 "$GUEST_SECS" e2e.role=dhcp
if guest_wait vm1 '^E2E RESULT' $((GUEST_SECS - 20)); then
	guest_log vm1 | grep -E '^E2E (DHCP|ROUTES|TOE)' | while read -r l; do log "guest: $l"; done
	check "the guest's DHCP lease: its port's address, router, DNS, host name, MTU, lease time, server" \
		guest_has vm1 '^E2E DHCP bound ip=10\.0\.0\.11 subnet=255\.255\.255\.0 router=10\.0\.0\.1 dns=10\.0\.0\.2 10\.0\.0\.3 hostname=vm-one mtu=1500 lease=86400 serverid=10\.0\.0\.1 '
	check "classless routes (RFC 3442): 169.254.169.254/32 and the default, via the gateway" \
		guest_has vm1 '^E2E DHCP bound .*staticroutes=169\.254\.169\.254/32 10\.0\.0\.1 0\.0\.0\.0/0 10\.0\.0\.1$'
	check "the guest routes by them" guest_has vm1 '^E2E ROUTES .*default via 10\.0\.0\.1.*169\.254\.169\.254 via 10\.0\.0\.1'
	check "pings of the gateway and of 169.254.169.254 answered" guest_has vm1 '^E2E TOE ping_gw=OK ping_md=OK'
	check "IPv6 ping of fe80::a9fe:a9fe answered (neighbour discovery, ICMPv6)" guest_has vm1 '^E2E TOE .*ping6_md=OK'
	check "TCP to 169.254.169.254:81 refused at once (RST)" guest_has vm1 '^E2E TOE .*tcp=refused'
	check "wget of the metadata: instance id and host name" guest_has vm1 '^E2E IMDS instance_id=i-0001 hostname=vm-one '
	check "wget of the user data (300 kB): md5 $UD_MD5" guest_has vm1 "^E2E IMDS .*user_data_md5=$UD_MD5"
	check "iperf3 -c 169.254.169.254 from the guest completes" guest_has vm1 '^E2E IPERF3 TOE rc=0 '
	check "the lease renewed (unicast to the server)" guest_has vm1 '^E2E DHCP renew ip=10\.0\.0\.11 '
else
	guest_show vm1
	fail "the guest gave no result"
fi

T=$(ctl --json toe vm1.0 | jq '(.result? // .)[0]')
log "toe: $(jq -c '{lease, counters, drops_total}' <<<"$T")"
c() { jq -r ".counters.$1" <<<"$T"; }
check "vtoectl toe: the lease released ($(jq -r .lease.state <<<"$T"))" test "$(jq -r .lease.state <<<"$T")" = released
check "vtoectl toe: the instance id and host name" test "$(jq -r '"\(.instance_id) \(.hostname)"' <<<"$T")" = "i-0001 vm-one"
check "DHCP counted: offers $(c dhcp_offers) >= 1, acks $(c dhcp_acks) >= 2, releases $(c dhcp_releases) >= 1" \
	test "$(c dhcp_offers)" -ge 1 -a "$(c dhcp_acks)" -ge 2 -a "$(c dhcp_releases)" -ge 1
check "answers counted: ARP $(c arp_replies), ND $(c nd_adverts), echo $(c echo_replies) >= 9, RST $(c tcp_resets)" \
	test "$(c arp_replies)" -ge 1 -a "$(c nd_adverts)" -ge 1 -a "$(c echo_replies)" -ge 9 -a "$(c tcp_resets)" -ge 1
check "the metadata service answered 3 requests ($(jq -c .metadata_service <<<"$T"))" \
	test "$(jq -r '.metadata_service | "\(.requests) \(.ok)"' <<<"$T")" = "3 3"
# (late segments of the iperf3 streams the server resets at a test's end
# meet no connection: tcp_bad_cookie, answered with RST, as any host would)
check "the endpoint dropped nothing else the guest sent it ($(jq -c '.drops | with_entries(select(.value != 0))' <<<"$T"))" \
	test "$(jq -r '.drops_total - .drops.tcp_bad_cookie' <<<"$T")" = 0
ctl toe vm1.0 >"$WORK/toe.txt"
check "vtoectl toe (text) shows the addresses it answers" grep -q "answers 10.0.0.1 169.254.169.254 fe80::a9fe:a9fe fd00:ec2::254 as 02:00:a9:fe:a9:fe" "$WORK/toe.txt"
# the same through DPDK telemetry
PREFIX=$(sed -n 's/^eal: {file_prefix: \(.*\)}/\1/p' "$CONF")
if command -v dpdk-telemetry.py >/dev/null; then
	TEL=$(echo "/vtoe/toe,vm1.0" | timeout 10 dpdk-telemetry.py -f "$PREFIX" 2>/dev/null |
	      jq -c 'select(type == "object" and has("/vtoe/toe")) | .["/vtoe/toe"]' | tail -1)
	check "telemetry /vtoe/toe,vm1.0: lease released, the same DHCP ACKs ($(jq -r .dhcp_acks <<<"$TEL"))" \
		test "$(jq -r '"\(.lease_state) \(.dhcp_acks) \(.drops_total)"' <<<"$TEL")" = "released $(c dhcp_acks) $(jq -r .drops_total <<<"$T")"
else
	fail "dpdk-telemetry.py missing (package dpdk-dev)"
fi
S=$(ctl --json stats)
check "the port counts what its endpoint took and sent ($(stat_of "$S" vm1.0 .toe_taken) / $(stat_of "$S" vm1.0 .toe_sent))" \
	test "$(stat_of "$S" vm1.0 .toe_taken)" -ge 15 -a "$(stat_of "$S" vm1.0 .toe_sent)" -ge 15
check "the switch's books balance (in_flight 0)" \
	wait_for 5 eval '[ "$(ctl --json stats | jq -r "(.result? // .).totals.in_flight")" = 0 ]'
guest_stop vm1
vtoed_stop TERM
check "vtoed exits 0" test $? = 0
[ "$T_FAIL" -gt 0 ] && { guest_show vm1; dump_log "$VLOG" 30; }
t_finish
