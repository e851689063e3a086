#!/bin/bash
# SPDX-License-Identifier: BSD-3-Clause
# test_reload.sh - VM ports come and go by reload while others carry
# traffic: the untouched ports lose not one frame.
#
#   vtoe-inject A (vm1.0) <--- 2 x PPS frames/s, counted both ways ---> vtoe-inject B (vm2.0)
#            ^                                                            (CPU 0)
#            |  vm3.0 / vm4.0: vtoe-inject processes that appear with their
#            |  port, send a burst to vm1, and go away with it
#   +--------+-----------------------------------------------------------+
#   |  vtoed (server mode), one worker (CPU 1); reloads on the main thread |
#   +--------------------------------------------------------------------+
#
# For ROUNDS rounds (VTOE_RELOAD_ROUNDS; default 5): reload with vm3 and
# vm4 added; both send to vm1; reload with vm3's MAC and vm4's queues
# changed (both re-created); both send again with their new settings;
# reload with both removed.  Then: vm1 and vm2 each received exactly what
# the other sent, in order, intact (plus, for vm1, every frame vm3 and vm4
# sent); vm1.0 and vm2.0 kept their guest connection and counters; the
# switch balances (in_flight 0) and every mbuf is back in the pool.  Also:
# offloads changed by reload change what a guest negotiates, a broken file
# or a restart key changes nothing, and the answers name what changed.
source "$(dirname "$0")/lib/common.sh"

need_root
need_binaries "$VTOED" "$VTOECTL" "$VTOE_INJECT"
need_hugepages 256

ROUNDS=${VTOE_RELOAD_ROUNDS:-5}
PPS=${VTOE_RELOAD_PPS:-2000}
BURST=50
CONF=$WORK/vtoed.yaml VLOG=$WORK/vtoed.log
VM3_SOCK=$WORK/vm3.0.sock VM4_SOCK=$WORK/vm4.0.sock

# conf [vm3 MAC] [vm4 QUEUES] [vm1 OFFLOADS]: the port map, vm3/vm4 only
# when given.
conf() {
	local mac3=${1:-} q4=${2:-} off1=${3:-true}
	{
		config_head
		cat <<EOF
vms:
  - name: vm1
    ports:
      - {name: vm1.0, socket: $VM1_SOCK, mac: "$VM1_MAC", offloads: $off1}
  - name: vm2
    ports:
      - {name: vm2.0, socket: $VM2_SOCK, mac: "$VM2_MAC"}
EOF
		[ -z "$mac3" ] || cat <<EOF
  - name: vm3
    ports:
      - {name: vm3.0, socket: $VM3_SOCK, mac: "$mac3"}
  - name: vm4
    ports:
      - {name: vm4.0, socket: $VM4_SOCK, mac: "52:54:00:00:04:01", queues: $q4}
EOF
	} >"$CONF.new"
	mv "$CONF.new" "$CONF"
}

# inject NAME SOCK MAC QUEUES ARGS...: a vtoe-inject on CPU 0 in the background
inject() {
	local name=$1 sock=$2 mac=$3 q=$4; shift 4
	timeout -k 5 600 taskset -c "$OTHER_CPUS" "$VTOE_INJECT" -l "$MAIN_CPU" --no-pci --no-huge -m 64 \
		--file-prefix="$(dpdk_prefix "$name")" --log-level=4 \
		--vdev "net_virtio_user0,path=$sock,mac=$mac,queues=$q,queue_size=1024" -- \
		"$@" >"$WORK/$name.out" 2>"$WORK/$name.err" &
}
out_of() { awk -v k="$2" '$1 == k {print $3}' "$WORK/$1.out" | head -1; }  # NAME KEY
sent_of() { awk '$1 == "sent" {s += $3} END {print s + 0}' "$WORK/$1.out"; }
reload() {  # the answer in $ANSWER, vtoectl's exit code returned
	ANSWER=$(ctl --json reload 2>&1)
}
answer_list() { jq -r "(.result // .).$1 | join(\",\")" <<<"$ANSWER" 2>/dev/null; }
json() { ctl --json stats 2>/dev/null; }
total() { jq -r ".totals.$1 // .result.totals.$1" <<<"$(json)"; }
mbufs_in_use() { jq -r '.mbufs.in_use // .result.mbufs.in_use' <<<"$(json)"; }
vid_of() { ctl --json ports | jq -r --arg p "$1" '(.result? // .)[] | select(.name == $p) | .owner.vid'; }
features_of() { port_stat "$1" '.feature_names | join(",")'; }
has_port() { ctl --json ports | jq -e --arg p "$1" '(.result? // .)[] | select(.name == $p)' >/dev/null; }

conf
vtoed_start "$CONF" "$VLOG" 900 || die "vtoed did not start"
mbufs0=$(mbufs_in_use)

inject A "$VM1_SOCK" "$VM1_MAC" 1 --send 64:100000000 --pps "$PPS" --dst "$VM2_MAC" --wait 1500
PID_A=$!; track $PID_A
inject B "$VM2_SOCK" "$VM2_MAC" 1 --send 64:100000000 --pps "$PPS" --dst "$VM1_MAC" --wait 1500
PID_B=$!; track $PID_B
wait_for 30 ports_up vm1.0 vm2.0 || { dump_log "$VLOG"; die "the generators did not attach"; }
wait_for 10 eval '[ "$(port_stat vm2.0 .rx_packets)" -gt 100 ]' || die "no frames flow vm1 -> vm2"
vid1=$(vid_of vm1.0) vid2=$(vid_of vm2.0)
# Frames sent before the other side was up are dropped (link_down) on the
# port they were going to: that is the flow's start, not a reload's doing.
d1=$(port_stat vm1.0 .drops_total) d2=$(port_stat vm2.0 .drops_total)
log "flow vm1 <-> vm2 at $PPS frames/s each way; vids $vid1 $vid2; $ROUNDS rounds"

t0=$(date +%s) to_vm1=0 bad=0
for round in $(seq 1 "$ROUNDS"); do
	mac3=$(printf '52:54:00:00:03:%02x' $((round % 200)))
	conf "$mac3" 1
	if ! reload || [ "$(answer_list added)" != "vm3.0,vm4.0" ]; then
		fail "round $round: adding vm3.0 and vm4.0: $ANSWER"; bad=1; break
	fi
	for step in first second; do
		# Connected a moment after their last frame: a guest that
		# leaves with frames still in its tx ring loses them itself.
		inject C "$VM3_SOCK" "$mac3" 1 --send 64:$BURST --dst "$VM1_MAC" --wait 300
		pc=$!
		inject D "$VM4_SOCK" 52:54:00:00:04:01 "$([ $step = first ] && echo 1 || echo 2)" \
			--send 64:$BURST --dst "$VM1_MAC" --wait 300
		pd=$!
		wait $pc; rc_c=$?
		wait $pd; rc_d=$?
		if [ $rc_c != 0 ] || [ $rc_d != 0 ]; then
			dump_log "$WORK/C.err" 10; dump_log "$WORK/D.err" 10
			fail "round $round ($step): vm3/vm4 generators (exit $rc_c $rc_d)"; bad=1; break 2
		fi
		if [ "$(port_stat vm3.0 .rx_packets)" != "$(sent_of C)" ] ||
		   [ "$(port_stat vm4.0 .rx_packets)" != "$(sent_of D)" ]; then
			fail "round $round ($step): vtoed got $(port_stat vm3.0 .rx_packets) of vm3's $(sent_of C), $(port_stat vm4.0 .rx_packets) of vm4's $(sent_of D)"
			bad=1; break 2
		fi
		to_vm1=$((to_vm1 + $(sent_of C) + $(sent_of D)))
		[ $step = second ] && break
		# vm3 takes a new MAC, vm4 a second queue: both re-created.
		mac3=$(printf '52:54:00:00:05:%02x' $((round % 200)))
		conf "$mac3" 2
		if ! reload || [ "$(answer_list changed)" != "vm3.0,vm4.0" ] ||
		   [ "$(answer_list unchanged)" != "vm1.0,vm2.0" ]; then
			fail "round $round: changing vm3.0 and vm4.0: $ANSWER"; bad=1; break 2
		fi
	done
	conf
	if ! reload || [ "$(answer_list removed)" != "vm3.0,vm4.0" ]; then
		fail "round $round: removing vm3.0 and vm4.0: $ANSWER"; bad=1; break
	fi
done
secs=$(( $(date +%s) - t0 ))
[ $bad = 0 ] && pass "$ROUNDS rounds of add, change (MAC, queues) and remove by reload (${secs}s)"
check "vm3.0 and vm4.0 are gone" eval '! has_port vm3.0 && ! has_port vm4.0'
check "vm1.0 and vm2.0 kept their guest connections (vids $vid1 $vid2)" \
	eval '[ "$(vid_of vm1.0)" = "$vid1" ] && [ "$(vid_of vm2.0)" = "$vid2" ]'

# Stop the flow; each side then counts what is still on its way.
kill -INT "$(pgrep -P $PID_A | head -1)" "$(pgrep -P $PID_B | head -1)" 2>/dev/null
wait $PID_A; wait $PID_B
sa=$(sent_of A) sb=$(sent_of B) ra=$(out_of A rx) rb=$(out_of B rx)
log "vm1 sent $sa, vm2 got $rb; vm2 sent $sb, vm1 got $ra (with $to_vm1 from vm3/vm4)"
check "the flow ran the whole test ($sa frames vm1 -> vm2)" [ "$sa" -gt $((PPS * secs / 2)) ]
check "vm2 received every frame vm1 sent ($rb of $sa, $d2 before vm2 was up)" [ "$rb" = $((sa - d2)) ]
check "vm1 received every frame vm2, vm3 and vm4 sent ($ra of $((sb + to_vm1)), $d1 before vm1 was up)" \
	[ "$ra" = $((sb + to_vm1 - d1)) ]
check "vm2 saw vm1's frames in order and intact" \
	eval '[ "$(out_of B order)" = 0 ] && [ "$(out_of B corrupt)" = 0 ] && [ "$(out_of A corrupt)" = 0 ]'
check "vm2.0's counters cover the whole run (rx $(port_stat vm2.0 .rx_packets) >= $sb)" \
	[ "$(port_stat vm2.0 .rx_packets)" -ge "$sb" ]
check "nothing was dropped on vm1.0 or vm2.0 once both were up ($d1, $d2 before)" \
	eval '[ "$(port_stat vm1.0 .drops_total)" = "$d1" ] && [ "$(port_stat vm2.0 .drops_total)" = "$d2" ]'
check "the switch balances: in_flight 0" wait_for 5 eval '[ "$(total in_flight)" = 0 ]'
check "every mbuf is back in the pool (in use $(mbufs_in_use), at start $mbufs0)" \
	wait_for 5 eval '[ "$(mbufs_in_use)" -le "$mbufs0" ]'
removed=$(ctl --json stats | jq -r '(.result // .).removed.ports')
check "stats count the removed ports ($removed)" [ "$removed" = $((ROUNDS * 4)) ]

# ------------------------------------------- offloads change what is offered
# vm1's first guest is gone: wait until vtoed has let it go, or the next
# guest's features would be read off the old one.
wait_for 10 eval '! ports_up vm1.0' || die "vm1.0 still up after its guest left"
inject E "$VM1_SOCK" "$VM1_MAC" 1 --tx-offloads --wait 600000
PID_E=$!; track $PID_E
wait_for 20 ports_up vm1.0 || die "vm1.0 did not come up again"
f_on=$(features_of vm1.0)
conf "" "" false
reload; rc=$?
check "reload with vm1.0's offloads off re-creates it ($(answer_list changed))" \
	eval '[ $rc = 0 ] && [ "$(answer_list changed)" = vm1.0 ]'
kill -INT "$(pgrep -P $PID_E | head -1)" 2>/dev/null; wait $PID_E
inject F "$VM1_SOCK" "$VM1_MAC" 1 --tx-offloads --wait 600000
PID_F=$!; track $PID_F
wait_for 20 ports_up vm1.0 || die "vm1.0 did not come up after its re-creation"
f_off=$(features_of vm1.0)
log "vm1.0 negotiated $f_on with offloads, $f_off without"
check "the guest negotiates checksum and TSO only while offloads are on" \
	eval 'grep -q "CSUM.*HOST_TSO4" <<<"$f_on" && ! grep -q "CSUM\|TSO" <<<"$f_off"'
kill -INT "$(pgrep -P $PID_F | head -1)" 2>/dev/null; wait $PID_F

# ------------------------------------------- refused reloads change nothing
cp "$CONF" "$WORK/good.yaml"
sed -i 's/mbufs: 16384/mbufs: 8192/' "$CONF"
echo "      - {name: vm2.1, socket: $WORK/vm2.1.sock, mac: \"52:54:00:00:02:02\"}" >>"$CONF"
out=$(ctl reload 2>&1); rc=$?
check "a port added with a restart key changed: refused, naming the key and place ($out)" \
	eval '[ $rc = 1 ] && grep -q "vtoed.yaml:[0-9]*:[0-9]*: memory.mbufs: changing it needs a restart; nothing was changed" <<<"$out"'
check "... and nothing changed (no vm2.1.0)" eval '! has_port vm2.1'
cp "$WORK/good.yaml" "$CONF"
echo "  - {name: broken" >>"$CONF"
out=$(ctl reload 2>&1); rc=$?
check "a broken file: refused with FILE:LINE:COL, nothing changed ($out)" \
	eval '[ $rc = 1 ] && grep -q "vtoed.yaml:[0-9]*:[0-9]*:" <<<"$out" && has_port vm1.0 && has_port vm2.0'
cp "$WORK/good.yaml" "$CONF"
out=$(ctl reload 2>&1); rc=$?
check "vtoectl prints what became of each port ($(tr '\n' ' ' <<<"$out"))" \
	eval '[ $rc = 0 ] && grep -q "^unchanged *2: vm1.0, vm2.0" <<<"$out"'

vtoed_stop TERM; rc=$?
check "vtoed exits 0 on SIGTERM (rc=$rc)" [ $rc = 0 ]
t_finish
