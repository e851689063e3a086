#!/bin/bash
# SPDX-License-Identifier: BSD-3-Clause
# test_toe_netns.sh - the TOE endpoint's TCP and services with Linux TCP as
# the peer: the host kernel in a network namespace attached to VM port
# vm1.0 through dpdk-testpmd (its tap bridged to a virtio-user port on
# vtoed's socket, as test_netns.sh does), curl and iperf3 as clients.
#
#   ns vtoe-t<pid>: tap tt<pid> 10.0.0.11/24, route 169.254.169.254 via 10.0.0.1
#        |  (kernel TCP: curl, iperf3, python raw frames)      ns vtoe-u<pid>: tap tu<pid> 10.0.0.12/24
#   testpmd (io, CPU 0): net_tap0 <-> net_virtio_user0        net_tap1 <-> net_virtio_user1
#        |                                                         |
#   vtoed: vm1.0 (ip 10.0.0.11/24, gateway 10.0.0.1,           vm2.0 (ip 10.0.0.12/24, no endpoint)
#          imds v2-only, CUBIC) -> its TOE endpoint
#
# Checked: a 4000-byte ping (IPv4 reassembly in the endpoint, its reply
# fragmented); ARP suppression (vm1's request for 10.0.0.12 answered with
# vm2.0's MAC by vm1.0's endpoint: vm2's namespace sees no ARP request,
# and vm1 then pings it); the IMDSv2 token flow (401 without, 200 with, 401 forged);
# 1,000 requests on one keep-alive connection and 1,000 short connections
# all answered; 64 MiB of user data md5-exact with 1 % loss and 1 %
# reordering injected both ways (the impairment stage), and 16 MiB sent
# to the endpoint's iperf3 server under it (CUBIC on this port); iperf3 -c, -R and
# -P 4 against the endpoint's iperf3 server; 100,000 SYNs and a batch of
# malformed segments: counted, memory bounded (buffers, connections,
# vtoed's RSS shown), and a request right after still answered.
source "$(dirname "$0")/lib/common.sh"

need_root
command -v dpdk-testpmd >/dev/null || die "dpdk-testpmd missing (package dpdk-dev; run scripts/setup.sh)"
command -v curl >/dev/null || die "curl missing (run scripts/setup.sh)"
command -v python3 >/dev/null || die "python3 missing"
need_binaries "$VTOED" "$VTOECTL"
need_hugepages 256
UD_MB=${VTOE_TOE_UD_MB:-64}

NS=vtoe-t$$ TAP=tt$$ MAC=$VM1_MAC MD=169.254.169.254 NS2=vtoe-u$$ TAP2=tu$$
cleanup_ns() { ip netns del "$NS" 2>/dev/null; ip netns del "$NS2" 2>/dev/null; }
trap 'cleanup_ns; t_cleanup' EXIT
nsx() { ip netns exec "$NS" "$@"; }

UD=$WORK/user-data
head -c $((UD_MB << 20)) /dev/urandom >"$UD"
UD_MD5=$(md5sum <"$UD" | cut -d' ' -f1)
CONF=$WORK/vtoed.yaml VLOG=$WORK/vtoed.log
config_head >"$CONF"
cat >>"$CONF" <<EOC
vms:
  - name: vm1
    metadata: {instance_id: i-0abc, hostname: ns-one, user_data: $UD, imds: v2-only}
    ports:
      - {name: vm1.0, socket: $VM1_SOCK, mac: "$MAC", ip: 10.0.0.11/24, gateway: 10.0.0.1,
         allowed: [{ip: 10.0.0.99}], toe: {congestion: cubic}}
  - name: vm2
    ports:
      - {name: vm2.0, socket: $VM2_SOCK, mac: "$VM2_MAC", ip: 10.0.0.12/24,
         toe: {dhcp: false, metadata: false, iperf3: false}}
EOC
vtoed_start "$CONF" "$VLOG" 300 || { dump_log "$VLOG"; die "vtoed did not start"; }

timeout -k 5 280 taskset -c "$OTHER_CPUS" stdbuf -oL dpdk-testpmd --lcores "0@$MAIN_CPU,1@$MAIN_CPU" --main-lcore 0 \
	--no-pci --no-huge -m 512 --file-prefix="$(dpdk_prefix tptoe)" \
	--vdev "net_tap0,iface=$TAP,mac=$MAC" --vdev "net_virtio_user0,path=$VM1_SOCK,mac=$MAC" \
	--vdev "net_tap1,iface=$TAP2,mac=$VM2_MAC" --vdev "net_virtio_user1,path=$VM2_SOCK,mac=$VM2_MAC" \
	-- --no-mlockall --total-num-mbufs=16384 --forward-mode=io -a \
	< <(sleep 270) >"$WORK/testpmd.log" 2>&1 &
tp=$!; track $tp
wait_for 30 eval "ip link show $TAP >/dev/null 2>&1 && ip link show $TAP2 >/dev/null 2>&1" && wait_for 30 ports_up vm1.0 vm2.0 &&
	wait_for 30 grep -q "Press enter to exit" "$WORK/testpmd.log" || { dump_log "$WORK/testpmd.log"; die "testpmd bridge did not come up"; }
cleanup_ns
ip netns add "$NS"
ip link set "$TAP" netns "$NS"
ip -n "$NS" link set "$TAP" address "$MAC"
ip -n "$NS" addr add 10.0.0.11/24 dev "$TAP"
ip -n "$NS" link set "$TAP" up
ip -n "$NS" link set lo up
ip -n "$NS" route add $MD/32 via 10.0.0.1
ip netns add "$NS2"
ip link set "$TAP2" netns "$NS2"
ip -n "$NS2" link set "$TAP2" address "$VM2_MAC"
ip -n "$NS2" addr add 10.0.0.12/24 dev "$TAP2"
ip -n "$NS2" link set "$TAP2" up
if ! wait_for 15 eval "nsx busybox ping -c 1 -W 1 $MD >/dev/null"; then
	log "vm1.0: $(ctl --json stats | jq -c '(.result? // .).ports[0] | {rx_packets, tx_packets, toe_taken, toe_sent, drops: (.drops | with_entries(select(.value != 0)))}')"
	log "ns: $(nsx ip neigh 2>&1 | tr '\n' ' ') $(nsx ip -s link show "$TAP" 2>&1 | tr '\n' ' ')"
	die "no ping answer from $MD"
fi

T() { ctl --json toe vm1.0 | jq "(.result? // .)[0]$1"; }

# ARP suppression: vm2's namespace hears no request, vm1 gets vm2's MAC
ip netns exec "$NS2" timeout 5 tcpdump -ni "$TAP2" -c 1 'arp and ether broadcast' >"$WORK/arp2.txt" 2>&1 &
td=$!
sleep 1
nsx busybox arping -c 2 -w 3 -I "$TAP" 10.0.0.12 >"$WORK/arping.txt" 2>&1
wait $td
check "vm1's ARP request for vm2 answered with vm2.0's MAC ($(grep -ci 'reply from' "$WORK/arping.txt") replies)" \
	grep -qi "reply from 10.0.0.12 \[$VM2_MAC\]" "$WORK/arping.txt"
check "vm2's namespace saw no broadcast ARP request ($(grep -c 'ARP, Request' "$WORK/arp2.txt"))" \
	test "$(grep -c 'ARP, Request' "$WORK/arp2.txt")" = 0
check "vtoectl toe: vm2.0 (10.0.0.12, up) is vm1.0's neighbour" \
	test "$(T '.neighbours | map("\(.port) \(.ip) \(.up)") | join(",")')" = '"vm2.0 10.0.0.12 true"'
check "counted: arp_suppressed $(T .counters.arp_suppressed) (the first request: the next go unicast)" test "$(T .counters.arp_suppressed)" -ge 1
check "vm1 pings vm2 (10.0.0.12) through the switch" nsx busybox ping -c 2 -W 2 10.0.0.12
# a ping larger than the MTU: reassembled by the endpoint, answered in fragments
check "a 4000-byte ping of 169.254.169.254 answered (reassembled, the reply fragmented)" \
	nsx busybox ping -c 2 -W 3 -s 4000 $MD
check "counted: $(T .counters.ip_reassembled) reassembled, $(T .counters.ip_frags_out) fragments out" \
	test "$(T .counters.ip_reassembled)" -ge 2 -a "$(T .counters.ip_frags_out)" -ge 6
url() { echo "http://$MD$1"; }
code() { nsx curl -s -o /dev/null -w '%{http_code}' --max-time 10 "$@"; }

# IMDSv2
check "v2-only: no token, 401" test "$(code "$(url /latest/meta-data/instance-id)")" = 401
TOKEN=$(nsx curl -s --max-time 10 -X PUT "$(url /latest/api/token)" -H "X-aws-ec2-metadata-token-ttl-seconds: 21600")
check "PUT /latest/api/token: a token (${#TOKEN} chars)" test "${#TOKEN}" -ge 32
H="X-aws-ec2-metadata-token: $TOKEN"
check "with it: the instance id" test "$(nsx curl -s --max-time 10 -H "$H" "$(url /latest/meta-data/instance-id)")" = i-0abc
# (the last character changed: to B when it is an A)
FORGED=${TOKEN%?}A; [ "$FORGED" = "$TOKEN" ] && FORGED=${TOKEN%?}B
check "a forged token: 401" test "$(code -H "X-aws-ec2-metadata-token: $FORGED" "$(url /latest/meta-data/instance-id)")" = 401
check "NoCloud meta-data" nsx sh -c "curl -s --max-time 10 $(url /nocloud/meta-data) | grep -qx 'local-hostname: ns-one'"

# 1,000 requests on one connection, then 1,000 connections
c0=$(T .metadata_service.connections)
for i in $(seq 1000); do printf 'url = "%s"\noutput = "/dev/null"\n' "$(url /latest/meta-data/hostname)"; done >"$WORK/urls"
nsx curl -s --max-time 60 -H "$H" -K "$WORK/urls" -w '%{http_code}\n' >"$WORK/keepalive.out"
c1=$(T .metadata_service.connections)
check "1,000 keep-alive requests: all 200 ($(grep -c '^200$' "$WORK/keepalive.out")), on $((c1 - c0)) connection(s)" \
	test "$(grep -c '^200$' "$WORK/keepalive.out")" = 1000 -a $((c1 - c0)) -le 2
nsx curl -s --max-time 120 -H "$H" -H "Connection: close" -K "$WORK/urls" -w '%{http_code}\n' >"$WORK/short.out"
c2=$(T .metadata_service.connections)
check "1,000 short connections: all 200 ($(grep -c '^200$' "$WORK/short.out")), $((c2 - c1)) connections" \
	test "$(grep -c '^200$' "$WORK/short.out")" = 1000 -a $((c2 - c1)) = 1000

# 64 MiB under 1 % loss and reordering, both ways
check "impairment on" ctl impair vm1.0 drop=1% reorder=1% direction=both
r0=$(T .counters.tcp_retransmits)
t0=$(date +%s.%N)
got=$(nsx curl -s --max-time 200 -H "$H" "$(url /latest/user-data)" | md5sum | cut -d' ' -f1)
secs=$(echo "$(date +%s.%N) - $t0" | bc)
r1=$(T .counters.tcp_retransmits)
S=$(ctl --json stats)
log "user data ${UD_MB} MiB in ${secs} s under loss: retransmits $((r1 - r0)), impair drops $(stat_of "$S" vm1.0 .drops.impair)"
check "${UD_MB} MiB of user data md5-exact under 1% loss + reordering" test "$got" = "$UD_MD5"
check "losses were recovered: retransmits $((r1 - r0)) > 0, impair drops $(stat_of "$S" vm1.0 .drops.impair) > 0" \
	test $((r1 - r0)) -gt 0 -a "$(stat_of "$S" vm1.0 .drops.impair)" -gt 0
# and the other way: 16 MiB into the endpoint's iperf3 server under it
# (iperf3 counts what the server read when the client's TEST_END comes:
# what is still in flight then is not in it; byte-exact delivery into the
# endpoint under loss is test_toe_tcp's, against itself)
nsx timeout 120 iperf3 -c $MD -n 16M -J >"$WORK/iperf3-loss.json" 2>&1
rc=$?
read -r sent rcvd <<<"$(jq -r '"\(.end.sum_sent.bytes) \(.end.sum_received.bytes)"' "$WORK/iperf3-loss.json" 2>/dev/null)"
check "16 MiB to the endpoint's iperf3 server under the same loss: completes, the server took $rcvd of $sent by the end" \
	test "$rc" = 0 -a -n "$rcvd" -a "${sent:-0}" -ge $((16 << 20)) -a "${rcvd:-0}" -ge $(( ${sent:-0} * 8 / 10 ))
check "impairment off" ctl impair vm1.0 --off

# iperf3 against the endpoint
if [ "$(T .iperf3_service)" != null ]; then
	for mode in "" "-R" "-P 4"; do
		if nsx timeout 60 iperf3 -c $MD -t 3 -J $mode >"$WORK/iperf3$mode.json" 2>&1; then
			bps=$(jq '.end.sum_received.bits_per_second // .end.sum.bits_per_second' "$WORK/iperf3$mode.json")
			check "iperf3 -c $MD $mode: completes, $(echo "$bps / 1000000" | bc) Mbit/s" test "${bps%.*}" -gt 0
		else
			log "$(tail -5 "$WORK/iperf3$mode.json")"
			fail "iperf3 -c $MD $mode failed"
		fi
	done
else
	fail "the endpoint has no iperf3 service"
fi

# 100,000 SYNs (from an address the port may use, that no host answers
# for: the SYN-ACKs go nowhere), then malformed segments
rss0=$(awk '/VmRSS/{print $2}' /proc/"$VTOED_PID"/status)
d0=$(T .drops_total)
nsx timeout 120 python3 "$(dirname "$0")/lib/toe_flood.py" "$TAP" "$MAC" 02:00:a9:fe:a9:fe 10.0.0.99 $MD 100000 >"$WORK/flood.out" 2>&1
log "flood: $(tr '\n' ' ' <"$WORK/flood.out")"
sleep 1
rss1=$(awk '/VmRSS/{print $2}' /proc/"$VTOED_PID"/status)
log "after the flood: $(T '| {tcp: {connections: .tcp.connections, time_wait: .tcp.time_wait, buffer_bytes: .tcp.buffer_bytes}, cookies: .counters.tcp_syncookies_sent, drops: (.drops | with_entries(select(.value != 0)))}' | jq -c .); vtoed RSS ${rss0} -> ${rss1} kB"
check "the SYN flood was answered with SYN cookies past the backlog ($(T .counters.tcp_syncookies_sent))" \
	test "$(T .counters.tcp_syncookies_sent)" -gt 50000
live=$(( $(T .tcp.connections) - $(T .tcp.time_wait) ))
check "connections bounded ($live open <= 256, $(T .tcp.time_wait) in TIME_WAIT <= 1024), buffers $(T .tcp.buffer_bytes) bytes" \
	test "$live" -le 256 -a "$(T .tcp.time_wait)" -le 1024 -a "$(T .tcp.buffer_bytes)" -le $((16 << 20))
check "malformed segments counted under their reasons ($(( $(T .drops_total) - d0 )) >= 600)" \
	test $(( $(T .drops_total) - d0 )) -ge 600
check "vtoed's memory stayed bounded (RSS ${rss0} -> ${rss1} kB, < +64 MiB)" test $((rss1 - rss0)) -lt 65536
check "still answering after it" test "$(nsx curl -s --max-time 10 -H "$H" "$(url /latest/meta-data/instance-id)")" = i-0abc

S=$(ctl --json stats)
check "the switch's books balance (in_flight 0)" \
	wait_for 5 eval '[ "$(ctl --json stats | jq -r "(.result? // .).totals.in_flight")" = 0 ]'
kill "$(pgrep -P "$tp" | head -1)" 2>/dev/null; wait "$tp" 2>/dev/null
cleanup_ns
vtoed_stop TERM
check "vtoed exits 0" test $? = 0
[ "$T_FAIL" -gt 0 ] && dump_log "$VLOG" 30
t_finish
