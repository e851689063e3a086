#!/bin/bash
# SPDX-License-Identifier: BSD-3-Clause
# test_overlay.sh - two vtoed "hosts" on this machine reach each other's
# VMs over the VXLAN overlay, their cluster directory in a real 3-member
# etcd cluster:
#
#   host-a (vtoed, uplink net_af_packet on a veth into bridge BR, VTEP 192.0.2.1)
#   host-b (vtoed, uplink net_af_packet on a veth into bridge BR, VTEP 192.0.2.2)
# (veths rather than taps: a tap's MAC is the bridge's own, so frames to
# it would stop at the bridge)
#   host-c (vtoed, one blue port: a third host for head-end replication)
#   networks blue (VNI 5001) and red (VNI 5002) on all
#
# - real QEMU guests g1 (A) and g2 (B), blue, MTU 1450: ping and an
#   md5-checked TCP echo across hosts;
# - vtoe-inject "VMs": frames from A's blue port reach B's blue port, never
#   B's red port that has the same MAC, and the reverse for red; broadcasts
#   replicated to the blue ports of B and C, unicast to B only;
# - hostile directory entries (garbage, a host claiming a MAC with a key
#   that lies) refused and counted, the session unharmed;
# - the directory: one etcd member killed (updates go on); a VM port moved
#   from A to B (A follows at once); vtoed B killed -9 (its ports leave A's
#   table after the lease's TTL) and restarted (they return); the whole
#   etcd cluster down (tables kept, marked stale, traffic goes on) and back
#   (resynchronised, what changed meanwhile seen, frames A -> C delivered
#   meanwhile); B stopped cleanly (its
#   lease revoked: gone from A's table before the TTL).
source "$(dirname "$0")/lib/common.sh"
source "$(dirname "$0")/lib/guest.sh"
source "$(dirname "$0")/lib/etcd.sh"
source "$(dirname "$0")/lib/overlay.sh"

GUEST_SECS=${VTOE_GUEST_SECS:-300}
TTL=$OVL_TTL
ovl_need "$VTOE_INJECT"

ovl_underlay a b c
etcd_cluster_start 3 $((23000 + $$ % 1000 * 2)) || { dump_log "$WORK/etcd-1.log"; die "etcd cluster did not come up"; }
pass "3-member etcd cluster up ($ETCD_ENDPOINTS)"

MA=52:54:00:0a:00:01 MB=52:54:00:0b:00:01 MB2=52:54:00:0b:00:02
MB3=52:54:00:0b:00:03 MV=52:54:00:0c:00:01 MC=52:54:00:0d:00:01
G1M=52:54:00:0a:01:01 G2M=52:54:00:0b:01:01

A_PORTS="$(vmport g1 $G1M blue ', ip: 10.1.0.1/24')
$(vmport ia $MA blue)
$(vmport ra $MA red)
$(vmport mv $MV blue)"
B_PORTS="$(vmport g2 $G2M blue ', ip: 10.1.0.2/24')
$(vmport ib $MB blue)
$(vmport rb $MB red)
$(vmport ib2 $MB2 blue)
$(vmport ib3 $MB3 blue)"
host_conf a 192.0.2.1 "$A_PORTS" >"$WORK/a.yaml"
host_conf b 192.0.2.2 "$B_PORTS" >"$WORK/b.yaml"
host_conf c 192.0.2.3 "$(vmport ic $MC blue)" >"$WORK/c.yaml"

ctla() { timeout 10 "$VTOECTL" --socket "$WORK/a.sock" "$@"; }
ctlb() { timeout 10 "$VTOECTL" --socket "$WORK/b.sock" "$@"; }
start_host a || { dump_log "$WORK/vtoed-a.log"; die "vtoed A did not start"; }
start_host b || { dump_log "$WORK/vtoed-b.log"; die "vtoed B did not start"; }
start_host c || { dump_log "$WORK/vtoed-c.log"; die "vtoed C did not start"; }
check "the three hosts in sync with etcd" wait_for 15 eval 'watching a && watching b && watching c'

# inject_hold NAME OUT SECS PORT...: a vtoe-inject "VM" on those ports (its
# frames leave from the first), up for SECS, in the background
inject_hold() {
	local name=$1 out=$2 secs=$3 i=0 v=(); shift 3
	for p in "$@"; do
		v+=(--vdev "net_virtio_user$i,path=$WORK/${p%%=*}.vsock,mac=${p#*=},queue_size=1024")
		i=$((i + 1))
	done
	timeout -k 5 $((secs + 30)) taskset -c "$OTHER_CPUS" "$VTOE_INJECT" -l "$MAIN_CPU" --no-pci --no-huge -m 128 \
		--file-prefix="$(dpdk_prefix "inj$name")" "${v[@]}" -- --wait $((secs * 1000)) "${INJ_ARGS[@]}" \
		>"$out" 2>"$out.err" &
	eval "INJ_$name=$!"; track "$!"
}
inject_end() {  # NAME: SIGTERM, wait for its counts
	local pid; eval "pid=\$INJ_$1"
	kill -TERM "$pid" 2>/dev/null; wait "$pid" 2>/dev/null
	return 0
}

# ---------------------------------------------------------------- guests
guest_start g2 "$WORK/g2.vsock" "$G2M" 0 "$GUEST_SECS" e2e.ip=10.1.0.2 e2e.mtu=1450 e2e.role=server
guest_start g1 "$WORK/g1.vsock" "$G1M" 0 "$GUEST_SECS" e2e.ip=10.1.0.1 e2e.mtu=1450 \
	e2e.peer=10.1.0.2 e2e.role=client e2e.kb=2048 e2e.linger=60

# ------------------------------------------- frames across hosts, isolation
INJ_ARGS=()
inject_hold rxb "$WORK/rxb.out" 120 "ib=$MB" "rb=$MB"
inject_hold rxc "$WORK/rxc.out" 120 "ic=$MC"
check "A learns B's blue and red port of the same MAC, and C's port, from the directory" \
	wait_for 20 eval "sees a b 5001 $MB && sees a b 5002 $MB && sees a c 5001 $MC"
INJ_ARGS=(--delay 2000 --send 600:2000 --dst "$MB" --alt-dst ff:ff:ff:ff:ff:ff --alt-every 10 --pps 2000)
inject_hold txa "$WORK/txa.out" 1 "ia=$MA"
wait "$INJ_txa"
INJ_ARGS=(--delay 2000 --send 300:1000 --dst "$MB" --pps 2000)
inject_hold txr "$WORK/txr.out" 1 "ra=$MA"
wait "$INJ_txr"
sleep 1
# (while B has ports: a host with none is out of the table, its next hop too)
NH=$(ovl_json a | jq -r '.hosts[] | select(.name == "host-b") | .next_hop_mac')
inject_end rxb; inject_end rxc
BLUE=$(fact rx 0 "$WORK/rxb.out") RED=$(fact rx 1 "$WORK/rxb.out") CB=$(fact rx 0 "$WORK/rxc.out")
log "A blue -> B: sent $(fact sent 600 "$WORK/txa.out"); A red -> B: sent $(fact sent 300 "$WORK/txr.out"); B got blue ${BLUE:-?} red ${RED:-?}"
# (the blue port also hears the guests' broadcasts: at least)
check "B's blue port got every frame of A's blue port, broadcasts included (${BLUE:-?} of 2000)" test "${BLUE:-0}" -ge 2000
check "B's red port got every frame of A's red port and none of blue (${RED:-?}, want 1000)" test "${RED:-0}" = 1000
# C hears the 200 broadcasts (and the guests' own), not the 1800 unicasts
check "C's blue port got A's broadcasts by head-end replication, not B's unicasts (${CB:-?})" \
	test "${CB:-0}" -ge 200 -a "${CB:-0}" -lt 1000
check "no frame corrupted or reordered across the tunnel" \
	test "$(fact corrupt 0 "$WORK/rxb.out")" = 0 -a "$(fact corrupt 1 "$WORK/rxb.out")" = 0 -a "$(fact order 0 "$WORK/rxb.out")" = 0
J=$(ctla --json cluster | jq '.result // .')
log "A: $(jq -c '.counters' <<<"$J")"
check "A encapsulated and replicated (encap $(jq .counters.encap <<<"$J"), replicas $(jq .counters.replicas <<<"$J"))" \
	test "$(jq '.counters.encap >= 3200 and .counters.replicas >= 200' <<<"$J")" = true
check "A resolved B's tunnel endpoint by ARP ($NH)" test -n "$NH" -a "$NH" != null
SB=$(ctlb --json stats)
check "B dropped nothing from the tunnel as unknown" \
	test "$(jq '[(.result.ports // .ports)[] | .drops | (.vtep_unknown + .vni_unknown + .overlay_src + .vxlan_bad)] | add' <<<"$SB")" = 0

# ------------------------------------------- drops in the tunnel, captured
# Frames to a MAC that no host of the network has are dropped on A's
# uplink as overlay_unknown_dst; a capture of up0 shows each of them with
# that reason (tshark reads the file).
UNK=52:54:00:0e:ee:01
unk_drops() { stat_of "$(ctla --json stats)" up0 .drops.overlay_unknown_dst; }
U0=$(unk_drops)
timeout 60 "$VTOECTL" --socket "$WORK/a.sock" capture --direction tx --count 50 \
	--filter "ether dst $UNK" -w "$WORK/ovl-drops.pcapng" up0 >"$WORK/cap.out" 2>&1 &
CAPP=$!
CTL_SOCK=$WORK/a.sock wait_for 5 capture_running ||
	log "capture did not start: $(cat "$WORK/cap.out")"
INJ_ARGS=(--delay 2000 --send 120:50 --dst "$UNK" --pps 1000)
inject_hold txu "$WORK/txu.out" 1 "ia=$MA"
wait "$INJ_txu"
wait_for 10 eval '! kill -0 $CAPP 2>/dev/null'
kill -INT "$CAPP" 2>/dev/null; wait "$CAPP"
DROPS=$(tshark -r "$WORK/ovl-drops.pcapng" -T fields -e frame.comment 2>/dev/null | grep -c '^drop: overlay_unknown_dst$')
check "the 50 frames to an unknown MAC counted as overlay_unknown_dst on A's up0 ($(( $(unk_drops) - U0 )))" \
	test $(( $(unk_drops) - U0 )) = 50
check "and captured with that reason ($DROPS in the file)" test "$DROPS" = 50

# ---------------------------------------------- hostile directory entries
REJ0=$(dir_field a .counters.rejected)
EC() { ETCDCTL_API=3 timeout 5 "$ETCDCTL" --endpoints "$ETCD_ENDPOINTS" "$@" >/dev/null; }
EC put /vtoe/ports/5001/52:54:00:0e:00:01/host-x 'not json {'
EC put /vtoe/ports/5001/52:54:00:0e:00:02/host-x '{"host":"host-y","vtep":"192.0.2.9","vni":5001,"mac":"52:54:00:0e:00:02","port":"p","ips":[]}'
EC put /vtoe/ports/99999999/ff:ff:ff:ff:ff:ff/host-x '{}'
EC put /vtoe/hosts/host-x "$(head -c 3000 /dev/urandom | base64 -w0)"
check "garbage and lying entries in etcd refused and counted by A" \
	wait_for 10 eval '[ "$(dir_field a .counters.rejected)" -ge $((REJ0 + 3)) ]'
check "and the session goes on" watching a
check "no lying entry reached A's table" eval '! sees a x 5001 52:54:00:0e:00:02 && ! sees a y 5001 52:54:00:0e:00:02'
EC del --prefix /vtoe/ports/5001/52:54:00:0e; EC del --prefix /vtoe/ports/99999999; EC del /vtoe/hosts/host-x

# ------------------------------------------------------------ real guests
if guest_wait g1 '^E2E RESULT' 240; then
	log "g1: $(guest_log g1 | grep -E 'PING|TCP|RESULT' | tr '\n' ' ')"
	check "guest g1 (host A) pings g2 (host B) over the overlay" guest_has g1 '^E2E PING OK'
	check "guest g1 echoes 2 MiB over TCP through g2 across hosts, md5-exact" guest_has g1 '^E2E TCP OK'
else
	fail "guest g1 reported no result"; guest_show g1; guest_show g2
fi
check "g1's ARP for g2 answered by A from the directory, not replicated ($(ctla --json toe g1.0 | jq '(.result? // .)[0].counters.arp_suppressed'))" \
	test "$(ctla --json toe g1.0 | jq '(.result? // .)[0].counters.arp_suppressed')" -ge 1
check "the guests' frames fit the tunnel (no overlay_mtu drop on A's uplink)" \
	test "$(ctla --json stats | jq '[(.result.ports // .ports)[] | .drops.overlay_mtu] | add')" = 0

# --------------------------------------------------------- etcd member lost
etcd_member_kill 1
log "etcd member 1 killed"
INJ_ARGS=()
inject_hold hb2 "$WORK/hb2.out" 60 "ib2=$MB2"
T0=$(date +%s%N)
check "with a member down, B's new port reaches A's table" wait_for 20 sees a b 5001 "$MB2"
log "seen after $(( ($(date +%s%N) - T0) / 1000000 )) ms; A uses $(dir_field a .endpoint)"
check "A moved off the dead member" test "$(dir_field a .endpoint)" != "http://127.0.0.1:$((ETCD_BASE + 1))"

# ---------------------------------------------------- a VM moves from A to B
inject_hold mva "$WORK/mva.out" 60 "mv=$MV"
check "B sees mv on A" wait_for 20 sees b a 5001 "$MV"
inject_end mva
grep -v -e 'name: mv$' -e "mv.0" "$WORK/a.yaml" >"$WORK/a2.yaml" && cp "$WORK/a2.yaml" "$WORK/a.yaml"
ctla reload >/dev/null || fail "reload of A without mv"
printf '%s\n' "$(vmport mv $MV blue)" >>"$WORK/b.yaml"
ctlb reload >/dev/null || fail "reload of B with mv"
check "mv left A's entries (B no longer sees it on A)" wait_for 10 eval "! sees b a 5001 $MV"
inject_hold mvb "$WORK/mvb.out" 60 "mv=$MV"
T0=$(date +%s%N)
check "A sees mv on B after the move" wait_for 20 sees a b 5001 "$MV"
log "A followed the move in $(( ($(date +%s%N) - T0) / 1000000 )) ms (incl. the port coming up)"
inject_end mvb

# ------------------------------------------------------- vtoed B killed -9
inject_end hb2
INJ_ARGS=()
inject_hold hb "$WORK/hb.out" 60 "ib=$MB"
check "A sees ib on B" wait_for 20 sees a b 5001 "$MB"
kill -KILL "$PID_b"; wait "$TPID_b" 2>/dev/null
T0=$(date +%s)
check "after B's lease TTL (${TTL}s) its VMs left A's table" wait_for $((TTL * 3)) sees_none a b
log "gone after $(( $(date +%s) - T0 )) s"
inject_end hb
start_host b || { dump_log "$WORK/vtoed-b.log"; die "vtoed B did not restart"; }
inject_hold hb "$WORK/hb.out" 60 "ib=$MB"
check "B restarted: its VM is back in A's table" wait_for 20 sees a b 5001 "$MB"

# ------------------------------------------------- the whole cluster down
# A's sender is known to C (and C's receiver to A) before etcd goes, and
# sends while it is down.
INJ_ARGS=()
inject_hold hc "$WORK/hc.out" 60 "ic=$MC"
check "A sees C's port" wait_for 10 sees a c 5001 "$MC"
INJ_ARGS=(--delay 12000 --send 200:500 --dst "$MC" --pps 2000)
inject_hold txa2 "$WORK/txa2.out" 1 "ia=$MA"
check "C sees A's sender" wait_for 10 sees c a 5001 "$MA"
etcd_member_kill 2; etcd_member_kill 3
log "every etcd member down"
check "A marks its table stale" wait_for 10 test "$(dir_field a .stale)" = true
check "B marks its table stale" wait_for 10 test "$(dir_field b .stale)" = true
check "A kept B's VMs while etcd is down" sees a b 5001 "$MB"
INJ_ARGS=()
inject_hold hb3 "$WORK/hb3.out" 60 "ib3=$MB3"   # published when etcd returns
wait "$INJ_txa2"
log "A sent $(fact sent 200 "$WORK/txa2.out") frames while etcd was down"
nz_drops() {  # HOST: its ports' drops that are not 0
	"$VTOECTL" --socket "$WORK/$1.sock" --json stats |
		jq -c '[(.result.ports // .ports)[] | {(.name): (.drops | with_entries(select(.value != 0)))} | select(.[] != {})] | add'
}
log "drops: A $(nz_drops a); C $(nz_drops c); A's hosts $(ovl_json a | jq -c '[.hosts[] | {name, next_hop_mac}]')"
for i in 1 2 3; do etcd_member_start "$i"; done
check "etcd back" wait_for 30 etcd_healthy
check "A and B resynchronised (not stale)" wait_for 30 eval 'watching a && watching b'
check "what B started during the outage reaches A" wait_for 20 sees a b 5001 "$MB3"
inject_end hb; inject_end hc
check "A's frames reached C while etcd was down ($(fact rx 0 "$WORK/hc.out") of 500)" \
	test "$(fact rx 0 "$WORK/hc.out")" -ge 500
inject_end hb3

# ------------------------------------------------------------- the views
ctla cluster >"$WORK/cluster-a.txt" 2>&1
check "vtoectl cluster shows host-b, its VTEP and VMs" grep -q "host-b .*192.0.2.2" "$WORK/cluster-a.txt"
cat "$WORK/cluster-a.txt" >&2
if command -v dpdk-telemetry.py >/dev/null; then
	TEL=$(echo "/vtoe/cluster" | timeout 10 dpdk-telemetry.py -f "$(dpdk_prefix a)" 2>/dev/null |
	      jq -c 'select(type == "object" and has("/vtoe/cluster")) | .["/vtoe/cluster"]' | tail -1)
	check "telemetry /vtoe/cluster: in sync, the tunnel's counters as vtoectl's ($(jq -c '{state, encap, etcd_resyncs}' <<<"$TEL"))" \
		test "$(jq -r '"\(.state) \(.encap >= 3200) \(.etcd_resyncs >= 1)"' <<<"$TEL")" = "watching true true"
else
	fail "dpdk-telemetry.py missing (package dpdk-dev)"
fi

# Every frame each host took is accounted for: delivered, dropped under a
# reason, or a copy/segment/ARP counted as such.
inflight() { "$VTOECTL" --socket "$WORK/$1.sock" --json stats | jq '(.result // .).totals.in_flight'; }
check "the books balance on every host (in_flight $(inflight a) $(inflight b) $(inflight c))" \
	wait_for 10 eval '[ "$(inflight a)" = 0 ] && [ "$(inflight b)" = 0 ] && [ "$(inflight c)" = 0 ]'

# ---------------------------------------------- clean stop revokes the lease
inject_hold hb "$WORK/hb.out" 60 "ib=$MB"
wait_for 20 sees a b 5001 "$MB"
stop_host b
check "vtoed B exits 0" test $? = 0
check "B stopped cleanly: its VMs left A's table before the TTL" wait_for $((TTL - 2)) sees_none a b
inject_end hb
guest_stop g1; guest_stop g2
stop_host a
check "vtoed A exits 0" test $? = 0
stop_host c
check "vtoed C exits 0" test $? = 0
[ "$T_FAIL" -gt 0 ] && { dump_log "$WORK/vtoed-a.log" 40; dump_log "$WORK/vtoed-b.log" 40; }
t_finish
