#!/bin/bash
# SPDX-License-Identifier: BSD-3-Clause
# test_uplink.sh - vtoed's uplink against a real Linux network stack: the
# host kernel, on the far side of a TAP uplink, plays "the network".
#
#        guest vm1 10.77.0.1 (QEMU/TCG, CPU 0)
#        client: ping + md5-checked TCP echo against 10.77.0.2,
#        then lingers reporting eth0 rx_packets ("E2E RX packets=N")
#        virtio-net 52:54:00:00:01:01
#              |
#              | vhost-user  $WORK/vm1.0.sock
#        +-----v-------------------------------------------+
#        |  vtoed   vm1.0 (static MAC, uplink: up0)        |
#        |          up0 = net_tap0,iface=vtoeup<pid>       |
#        |  fdb ageing 3 s       worker lcore: CPU 1       |
#        +-----+-------------------------------------------+
#              | TAP (created by vtoed, gone when it exits)
#        host kernel: vtoeup<pid> 10.77.0.2/24, IPv6 off on it,
#        TCP echo server 10.77.0.2:5000 (python3), ping, ip neigh
#
#   1. the guest pings the host and TCP-echoes 1 MiB, md5 equal
#   2. `vtoectl --json fdb` shows the TAP's MAC learned on up0
#   3. host silent -> that entry is gone within ageing + 2 s of the host's
#      last frame (and not before ageing)
#   4. host pings 10.77.0.9 through a static neighbour 02:00:00:00:00:99:
#      every frame counted as up0 drops.unknown_dst, vtoed sends nothing to
#      vm1.0 and the guest's rx counter does not move; then the host pings
#      the guest (positive control: the guest's counter does move)
#   5. totals.in_flight of `vtoectl --json stats` is 0 at the end
#   6. SIGTERM: vtoed exits 0, the TAP interface is gone
source "$(dirname "$0")/lib/common.sh"
source "$(dirname "$0")/lib/guest.sh"

GUEST_SECS=${VTOE_GUEST_SECS:-150}      # hard bound of QEMU
AGEING=3
TAP=vtoeup$$                            # <= 15 characters, unique per run
HOST_IP=10.77.0.2 GUEST_IP=10.77.0.1
GHOST_IP=10.77.0.9 GHOST_MAC=02:00:00:00:00:99
N_GHOST=5                               # frames the host sends to GHOST_MAC

need_root
need_binaries "$VTOED" "$VTOECTL"
command -v python3 >/dev/null || die "python3 missing (the host's TCP echo server)"
ip link show "$TAP" >/dev/null 2>&1 && die "interface $TAP already exists"
need_hugepages 256
guest_prepare
log "kernel $(basename "$GUEST_KBOOT"), tap $TAP, worker CPU $WORKER_CPU, scratch $WORK"

# vtoed deletes the TAP when it exits; this only covers a vtoed that could
# not be stopped (t_cleanup SIGKILLs it first).
up_cleanup() {
	local rc=$?
	(exit $rc); t_cleanup
	ip link show "$TAP" >/dev/null 2>&1 && ip link del "$TAP" 2>/dev/null
	return $rc
}
trap up_cleanup EXIT

CONF=$WORK/vtoed.yaml VLOG=$WORK/vtoed.log
config_head >"$CONF"
cat >>"$CONF" <<EOF
fdb: {size: 4096, ageing: $AGEING}
uplinks:
  - {name: up0, device: "net_tap0,iface=$TAP"}
vms:
  - name: vm1
    ports:
      - {name: vm1.0, socket: $VM1_SOCK, mode: server, mac: "$VM1_MAC", queues: 1, uplink: up0}
EOF

# ------------------------------------------------------------------ helpers
hping() { timeout 15 busybox ping -q "$@" >/dev/null 2>&1; }   # the host pings
now_ms() { local t=${EPOCHREALTIME/./}; echo $((t / 1000)); }
stats() { ctl --json stats 2>/dev/null; }
fdb() { ctl --json fdb 2>/dev/null; }
# learned_age FDB_JSON MAC: age_s of MAC learned on up0, empty when absent
learned_age() {
	jq -r --arg m "$2" '(.result? // .) | .[]? | select((.mac | ascii_downcase) == $m
		and .port == "up0" and .type == "learned") | .age_s' <<<"$1" 2>/dev/null | head -1
}
in_flight() { jq -r '(.result? // .) | .totals.in_flight' <<<"$(stats)" 2>/dev/null; }
guest_rx() { guest_log vm1 | sed -n 's/^E2E RX packets=\([0-9]*\).*/\1/p' | tail -1; }
guest_rx_above() { local n; n=$(guest_rx); [ -n "$n" ] && [ "$n" -gt "$1" ]; }
port_summary() {
	jq -c '[(.result.ports // .ports)[] | {name, link, rx_packets, tx_packets, drops_total,
		drops: (.drops | with_entries(select(.value > 0)))}]' <<<"$(stats)" 2>/dev/null
}
on_fail_dump() {
	[ "$T_FAIL" -gt 0 ] || return 0
	guest_show vm1; dump_log "$VLOG" 40; dump_log "$WORK/echo.log" 10
	log "fdb: $(fdb | jq -c . 2>/dev/null)"
}

# ------------------------------------------------------------ vtoed + host
vtoed_start "$CONF" "$VLOG" 300 || die "vtoed did not start"
wait_for 5 ip link show "$TAP" >/dev/null 2>&1 || die "vtoed did not create $TAP"
TAP_MAC=$(ip -o link show "$TAP" | sed -n 's/.*link\/ether \([0-9a-f:]*\).*/\1/p')
[ -n "$TAP_MAC" ] || die "cannot read $TAP's MAC"
# The host's side: one address, no IPv6 (no router solicitations, MLD or
# DAD frames that would keep refreshing the learned entry).
echo 1 >"/proc/sys/net/ipv6/conf/$TAP/disable_ipv6" 2>/dev/null
ip addr add "$HOST_IP/24" dev "$TAP" && ip link set "$TAP" up || die "cannot configure $TAP"
log "$TAP: MAC $TAP_MAC, $HOST_IP/24"

# TCP echo server bound to the TAP's address only, one thread per client.
timeout -k 5 200 python3 -c '
import socket, socketserver, sys
class Echo(socketserver.BaseRequestHandler):
    def handle(self):
        while True:
            b = self.request.recv(65536)
            if not b:
                break
            self.request.sendall(b)
socketserver.ThreadingTCPServer.allow_reuse_address = True
srv = socketserver.ThreadingTCPServer((sys.argv[1], 5000), Echo)
print("listening", flush=True)
srv.serve_forever()
' "$HOST_IP" >"$WORK/echo.log" 2>&1 &
track $!
wait_for 5 grep -q listening "$WORK/echo.log" || die "host TCP echo server did not start: $(cat "$WORK/echo.log")"

# ---------------------------------------------------------- 1. guest <-> host
guest_start vm1 "$VM1_SOCK" "$VM1_MAC" 0 "$GUEST_SECS" e2e.ip=$GUEST_IP e2e.peer=$HOST_IP \
	e2e.role=client e2e.kb=1024 e2e.linger=$((GUEST_SECS - 20)) e2e.rxwatch=1
if guest_wait vm1 '^E2E RESULT' 90; then
	check "1. guest -> host ping over up0" guest_has vm1 '^E2E PING OK'
	check "1. guest -> host TCP echo 1 MiB over up0, md5 equal" guest_has vm1 '^E2E TCP OK'
else
	fail "1. guest gave no result within 90 s"
	on_fail_dump; t_finish
fi
log "after traffic: $(port_summary)"
# The guest's TCP sends 64 KB TSO frames (offloads are on by default); the
# tap cannot take them, so vtoed's TOE cut them in software, and the host's
# stack accepted every segment's checksum (the md5 above).
S=$(ctl --json stats)
check "1. guest TSO frames segmented in software for up0 ($(stat_of "$S" up0 .offload.segmented) frames -> $(stat_of "$S" up0 .offload.segments) segments)" \
	test "$(num "$(stat_of "$S" up0 .offload.segmented)")" -gt 0
check "1. no offload drops on the way out" test "$(stat_of "$S" up0 .drops.offload_egress)" = 0

# ------------------------------------------------------------- 2. learning
F=$(fdb)
AGE=$(learned_age "$F" "$TAP_MAC")
check "2. fdb: $TAP's MAC $TAP_MAC learned on up0 (age_s=${AGE:-absent})" test -n "$AGE"
check "2. fdb: vm1.0's MAC is static on vm1.0" test -n "$(jq -r --arg m "$VM1_MAC" \
	'(.result? // .) | .[]? | select(.mac == $m and .port == "vm1.0" and .type == "static")' <<<"$F")"

# --------------------------------------------------------------- 3. ageing
# The host sends one ping to the guest (a frame at a known moment), then
# nothing of its own accord.  Poll every 0.2 s: when up0's rx counter last
# moved (the host is the only sender on the TAP; it may still send an ARP
# probe a few seconds later) and whether the entry is still there.
rx_prev=$(port_stat up0 .rx_packets) t_prev_poll=$(now_ms)
t_old=$t_prev_poll t_new=$t_prev_poll
gone_ms= a= seen_ms= limit=$(( (AGEING + 2) * 1000 )) deadline=$(( $(now_ms) + 25000 ))
hping -c 1 -W 2 "$GUEST_IP" || log "3. host -> guest ping (the host's last frame) got no answer"
while [ "$(now_ms)" -lt "$deadline" ]; do
	t_poll=$(now_ms)
	rx=$(port_stat up0 .rx_packets)
	a=$(learned_age "$(fdb)" "$TAP_MAC")
	if [ "$rx" != "$rx_prev" ]; then t_old=$t_prev_poll t_new=$t_poll rx_prev=$rx; fi
	t_prev_poll=$t_poll
	if [ -z "$a" ]; then gone_ms=$(now_ms); break; fi
	seen_ms=$t_poll
	# Present longer than ageing + 2 s after the frame at the latest
	[ $(( t_poll - t_old )) -gt $(( limit + 300 )) ] && break
	sleep 0.2
done
if [ -n "$gone_ms" ]; then
	hi=$(( gone_ms - t_old )) lo=$(( gone_ms - t_new ))
	log "entry gone $lo..$hi ms after the host's last frame (ageing ${AGEING} s)"
	# Seen at a poll more than ageing + 2 s after the frame at the latest
	# is too long; the polls' own spacing (two vtoectl calls each) is not.
	check "3. learned entry aged out within ageing + 2 s of the host's last frame (last seen $(( seen_ms - t_new )) ms after it, gone by $lo ms)" \
		test $(( seen_ms - t_new )) -le "$limit"
	# (whole-second stamps, swept every second: ageing .. ageing + 2 s)
	check "3. learned entry not forgotten before ageing ($lo..$hi ms)" test "$hi" -ge $(( AGEING * 1000 ))
elif [ "$(now_ms)" -ge "$deadline" ]; then
	fail "3. the host was never silent for ageing + 2 s within 25 s (up0 rx kept moving: $rx_prev)"
else
	fail "3. $TAP_MAC still learned $(( $(now_ms) - t_old )) ms after the host's last frame (ageing ${AGEING} s, age_s=${a:-?})"
fi

# ------------------------------------------------- 4. unknown unicast, uplink
# Baseline: the guest has counted every frame vtoed gave it (both sides idle).
S=$(stats)
U0=$(stat_of "$S" up0 .drops.unknown_dst) V0=$(stat_of "$S" vm1.0 .tx_packets)
wait_for 5 eval '[ "$(guest_rx)" = "$V0" ]'
G0=$(guest_rx)
check "4. the guest's eth0 rx_packets equals vtoed's vm1.0 tx_packets (${G0:-no report} = $V0)" test "$G0" = "$V0"
ip neigh replace "$GHOST_IP" lladdr "$GHOST_MAC" dev "$TAP" nud permanent || fail "4. ip neigh add $GHOST_IP failed"
hping -c "$N_GHOST" -i 0.2 -W 1 "$GHOST_IP"; prc=$?
# ~1 s after the last of them: well inside the ageing time
AGE=$(learned_age "$(fdb)" "$TAP_MAC")
check "4. ping to the unknown MAC $GHOST_MAC got no reply (ping exit $prc)" test $prc -ne 0
ip neigh del "$GHOST_IP" dev "$TAP" 2>/dev/null
sleep 1.5                                # the guest polls its counter every 0.2 s
S=$(stats)
U1=$(stat_of "$S" up0 .drops.unknown_dst) V1=$(stat_of "$S" vm1.0 .tx_packets) G1=$(guest_rx)
check "4. up0 drops.unknown_dst counted each of the $N_GHOST frames ($U0 -> $U1)" \
	test "$(( $(num "$U1") - $(num "$U0") ))" = "$N_GHOST"
check "4. vtoed sent nothing to vm1.0 meanwhile (tx_packets $V0 -> $V1)" test "$V1" = "$V0"
check "4. nothing reached the guest (its eth0 rx_packets $G0 -> $G1)" test "${G1:-x}" = "${G0:-y}"
check "4. $TAP_MAC learned again from those frames (age_s=${AGE:-absent})" test -n "$AGE"
# Positive control: a frame for the guest's MAC does reach it and is seen.
hping -c 3 -i 0.2 -W 2 "$GUEST_IP"; prc=$?
check "4. control: host -> guest ping over up0 answered (ping exit $prc)" test $prc = 0
wait_for 3 guest_rx_above "${G1:-0}"; grc=$?
check "4. control: the guest's rx counter sees them ($G1 -> $(guest_rx))" test $grc = 0

# ---------------------------------------------------------- 5. accounting
# (counters are read one by one: wait for a moment when nothing is moving)
IF=
in_flight_zero() { IF=$(in_flight); [ "$IF" = 0 ]; }
wait_for 5 in_flight_zero
check "5. rx + flood copies = tx + drops with the guest up (in_flight=$IF)" test "$IF" = 0
log "end: $(port_summary)"
guest_stop vm1
wait_for 10 eval '[ "$(port_stat vm1.0 .link)" = down ]' || log "vm1.0 link still up after QEMU stopped"
wait_for 5 in_flight_zero
check "5. rx + flood copies = tx + drops after the guest left (in_flight=$IF)" test "$IF" = 0

# ---------------------------------------------------------------- 6. stop
vtoed_stop TERM; rc=$?
check "6. vtoed exits 0 on SIGTERM (got $rc)" test $rc = 0
check "6. $TAP is gone with vtoed" wait_for 5 eval '! ip link show "$TAP" >/dev/null 2>&1'
check "6. vtoed unlinked its sockets" test ! -e "$VM1_SOCK" -a ! -e "$CTL_SOCK"
on_fail_dump
t_finish
