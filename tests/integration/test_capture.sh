#!/bin/bash
# SPDX-License-Identifier: BSD-3-Clause
# test_capture.sh - vtoectl capture: a port's frames to pcapng, read back by
# tshark and compared with what was sent (count, lengths, a payload hash).
#
# vtoe-inject is both guests (vm1.0 sends, vm2.0 receives) and a tap is
# the uplink.
#  1. vm2.0 tx, --count: the frames vm1 sent it (by the direct path, vring
#     to vring) are all in the file, in order, byte for byte.
#  2. vm1.0 rx with a BPF filter (ether dst and len): only what matches,
#     the rest counted as filtered; then again with datapath.direct off
#     (reload), every frame through an mbuf.
#  3. --snaplen: frames cut, their full length kept.
#  4. drops: runts from vm1 are in the file with "drop: REASON" comments.
#  5. the uplink's tx: broadcasts flooded to the tap, as the kernel counts.
#  6. Ctrl-C ends a capture without a count and leaves a valid file;
#     a killed vtoectl's capture ends by itself; bad requests are refused
#     (unknown port, bad filter, no file descriptor, a second capture of a
#     port); the switch's books balance.
source "$(dirname "$0")/lib/common.sh"

need_root
need_binaries "$VTOED" "$VTOECTL" "$VTOE_INJECT"
command -v tshark >/dev/null || skip_all "tshark is not installed (scripts/setup.sh installs it)"
need_hugepages 256

CONF=$WORK/vtoed.yaml VLOG=$WORK/vtoed.log
TAP=vtoecap$$; TAP=${TAP:0:15}
FRAMES_PY=$(dirname "$0")/lib/pcap_frames.py
write_config "$CONF" server
sed -i "s|mac: \"$VM1_MAC\", queues: 1}|mac: \"$VM1_MAC\", queues: 1, uplink: up0}|" "$CONF"
printf 'uplinks:\n  - {name: up0, device: "net_tap0,iface=%s"}\n' "$TAP" >>"$CONF"
vtoed_start "$CONF" "$VLOG" 300 || { dump_log "$VLOG"; die "vtoed did not start"; }
sysctl -qw "net.ipv6.conf.$TAP.disable_ipv6=1" 2>/dev/null
ip link set "$TAP" up 2>/dev/null

# capture NAME ARGS...: vtoectl capture in the background; CAP_PID
capture() {
	local name=$1; shift
	timeout 60 "$VTOECTL" --socket "$CTL_SOCK" capture "$@" \
		>"$WORK/$name.out" 2>"$WORK/$name.err" &
	CAP_PID=$!
	wait_for 5 capture_running || log "capture $name did not start: $(cat "$WORK/$name.err")"
}
# tsh FILE ARGS...: tshark's view (as root it warns on stderr)
tsh() { local f=$1; shift; tshark -r "$f" "$@" 2>/dev/null; }
frames_in() { tsh "$1" -T fields -e frame.number | wc -l; }

# 1. vm2.0 tx: what vm1 sends it, through the direct path
capture tx --direction tx --count 2000 -w "$WORK/tx.pcapng" vm2.0
direct0=$(port_stat vm1.0 .direct)
inject_pair "$WORK/i1.out" --send 200:2000 --dst "$VM2_MAC" --wait 300
wait "$CAP_PID"; rc=$?
log "capture: $(cat "$WORK/tx.err")"
check "vtoectl capture ended by itself at the count (exit $rc)" test "$rc" = 0
check "vm2 got the 2000 frames ($(fact rx 1 "$WORK/i1.out"))" test "$(fact rx 1 "$WORK/i1.out")" = 2000
direct=$(( $(port_stat vm1.0 .direct) - direct0 ))
check "the frames took the direct path ($direct of 2000)" test "$direct" -gt 1000
check "tshark reads 2000 frames" test "$(frames_in "$WORK/tx.pcapng")" = 2000
check "every one 200 bytes" test "$(tsh "$WORK/tx.pcapng" -T fields -e frame.len | sort -u | tr '\n' ' ')" = "200 "
got=$(tsh "$WORK/tx.pcapng" -T fields -e data.data | python3 "$FRAMES_PY" got)
check "their payloads, in order, are what vm1 sent (md5 $got)" \
	test "$got" = "$(python3 "$FRAMES_PY" expect 200 2000)"
check "all to vm2's MAC, flagged outbound" \
	test "$(tsh "$WORK/tx.pcapng" -T fields -e eth.dst -e frame.packet_flags_direction | sort -u | tr '\t\n' ' ')" = "$VM2_MAC 0x00000002 "
check "the interface is named vm2.0" \
	test "$(tshark -r "$WORK/tx.pcapng" -T fields -e frame.interface_name -c 1 2>/dev/null)" = vm2.0

# 2. a BPF filter on vm1.0's rx: 300 frames of 100 bytes, 200 of 400
for direct in on off; do
	if [ $direct = off ]; then
		# every frame through rte_vhost and an mbuf: the library path's tap
		echo "datapath: {direct: false}" >>"$CONF"
		ctl reload >/dev/null || fail "reload to datapath.direct false: $(ctl reload 2>&1)"
	fi
	capture filt --direction rx --no-drops --filter "ether dst $VM2_MAC and len >= 300" \
		-w "$WORK/filt-$direct.pcapng" vm1.0
	inject_pair "$WORK/i2.out" --send 100:300 --send 400:200 --dst "$VM2_MAC" --wait 300
	sleep 0.3
	kill -INT "$CAP_PID"; wait "$CAP_PID"; rc=$?
	log "capture ($direct): $(cat "$WORK/filt.err")"
	check "filter, direct path $direct: Ctrl-C ends the capture (exit $rc)" test "$rc" = 0
	check "filter, direct path $direct: only the 200 frames of 400 bytes ($(frames_in "$WORK/filt-$direct.pcapng"))" \
		test "$(frames_in "$WORK/filt-$direct.pcapng")" = 200
	got=$(tsh "$WORK/filt-$direct.pcapng" -T fields -e data.data | python3 "$FRAMES_PY" got)
	check "filter, direct path $direct: the payloads are vm1's frames 300..499" \
		test "$got" = "$(python3 "$FRAMES_PY" expect 400 200 300)"
	check "filter, direct path $direct: flagged inbound" \
		test "$(tsh "$WORK/filt-$direct.pcapng" -T fields -e frame.packet_flags_direction | sort -u)" = 0x00000001
	check "filter, direct path $direct: the other 300 counted as filtered out" \
		grep -q "300 filtered out" "$WORK/filt.err"
done
# the last of them through DPDK telemetry, as vtoectl lists it (an ended
# capture's record stays a few seconds)
PREFIX=$(sed -n 's/^eal: {file_prefix: \(.*\)}/\1/p' "$CONF")
T=$(echo /vtoe/captures | timeout 10 dpdk-telemetry.py -f "$PREFIX" 2>/dev/null |
	jq -c 'select(type == "object" and has("/vtoe/captures")) | .["/vtoe/captures"]' | tail -1)
L=$(ctl --json capture --list)
id=$(jq -r '[.[] | select(.port == "vm1.0")] | last | .id' <<<"$L")
tv=$(jq -c --arg i "$id" '.[$i] | [.port, .state, .seen, .filtered, .written, .lost]' <<<"$T" 2>/dev/null)
lv=$(jq -c --argjson i "$id" '.[] | select(.id == $i) | [.port, (if .done then "ended" else "running" end), .seen, .filtered, .written, .lost]' <<<"$L" 2>/dev/null)
check "telemetry /vtoe/captures shows capture $id as vtoectl lists it ($tv; vtoectl $lv)" \
	test -n "$tv" -a "$tv" = "$lv" -a "$(jq -r --arg i "$id" '.[$i].written' <<<"$T")" = 200

# 3. snaplen
capture snap --direction tx --snaplen 64 --count 100 -w "$WORK/snap.pcapng" vm2.0
inject_pair "$WORK/i3.out" --send 1000:100 --dst "$VM2_MAC" --wait 300
wait "$CAP_PID"
check "snaplen 64: 100 frames of 1000 bytes, 64 of each kept" \
	test "$(tsh "$WORK/snap.pcapng" -T fields -e frame.len -e frame.cap_len | sort | uniq -c | awk '{print $1, $2, $3}')" = "100 1000 64"

# 4. drops with their reason: runts from vm1 (shorter than an Ethernet header)
capture drops --direction rx -w "$WORK/drops.pcapng" vm1.0
inject_pair "$WORK/i4.out" --send 10:50 --send 60:20 --dst "$VM2_MAC" --wait 300
sleep 0.3
kill -INT "$CAP_PID"; wait "$CAP_PID"
reasons=$(port_stat vm1.0 '.drops | to_entries[] | select(.value > 0) | "\(.key)=\(.value)"' | tr '\n' ' ')
comments=$(tsh "$WORK/drops.pcapng" -T fields -e frame.comment | grep -c '^drop: ')
check "the 50 runts are in the file as drops with their reason ($comments; counters: $reasons)" test "$comments" = 50
check "the reason is the one counted" \
	test "$(tsh "$WORK/drops.pcapng" -T fields -e frame.comment | grep '^drop: ' | sort -u | sed 's/^drop: //')" = \
	"$(port_stat vm1.0 '.drops | to_entries[] | select(.value > 0) | .key')"
check "and the 20 good frames too (70 received, 50 dropped)" \
	test "$(frames_in "$WORK/drops.pcapng")" = 120

# 5. the uplink's tx: broadcasts from vm1 flooded to the tap
t0=$(cat "/sys/class/net/$TAP/statistics/rx_packets")
capture up --direction tx --filter "ether proto 0x88b5" -w "$WORK/up.pcapng" up0
inject_pair "$WORK/i5.out" --send 300:150 --wait 300
sleep 0.5
kill -INT "$CAP_PID"; wait "$CAP_PID"
t1=$(cat "/sys/class/net/$TAP/statistics/rx_packets")
check "up0 tx: the 150 broadcasts, as the kernel got them ($(frames_in "$WORK/up.pcapng"); tap +$((t1 - t0)))" \
	test "$(frames_in "$WORK/up.pcapng")" = 150
got=$(tsh "$WORK/up.pcapng" -T fields -e data.data | python3 "$FRAMES_PY" got)
check "up0 tx: payloads as sent" test "$got" = "$(python3 "$FRAMES_PY" expect 300 150)"

# 6. a killed client's capture ends by itself; refusals
capture orphan -w "$WORK/orphan.pcapng" vm2.0
kill -KILL $(pgrep -P "$CAP_PID"); wait "$CAP_PID" 2>/dev/null
orphan_gone() { [ "$(ctl --json capture --list | jq '[.[] | select(.done == false)] | length')" = 0 ]; }
wait_for 20 orphan_gone
check "a killed vtoectl's capture ended by itself ($(ctl --json capture --list | jq -c '[.[] | {id, ended}]'))" orphan_gone
check "its file is still valid pcapng" tsh "$WORK/orphan.pcapng" -c 1

out=$("$VTOECTL" --socket "$CTL_SOCK" capture -w "$WORK/x.pcapng" nosuch 2>&1); rc=$?
check "unknown port refused (exit $rc: $out)" test "$rc" = 1 -a -n "$(grep 'no port nosuch' <<<"$out")"
out=$("$VTOECTL" --socket "$CTL_SOCK" capture --filter 'ether frob' -w "$WORK/x.pcapng" vm1.0 2>&1); rc=$?
check "bad filter refused with libpcap's reason (exit $rc: $out)" test "$rc" = 1 -a -n "$(grep 'filter:' <<<"$out")"
out=$(ctl raw '{"cmd":"capture","args":{"action":"start","port":"vm1.0"}}')
check "start without a descriptor refused ($out)" grep -q descriptor <<<"$out"
out=$(ctl raw '{"cmd":"capture","args":{"action":"status","id":"x"}}')
check "a bad id refused ($out)" grep -q '"ok":false' <<<"$out"
capture second -w "$WORK/second.pcapng" vm1.0
out=$("$VTOECTL" --socket "$CTL_SOCK" capture -w "$WORK/x.pcapng" vm1.0 2>&1); rc=$?
check "a second capture of a port refused (exit $rc: $out)" test "$rc" = 1 -a -n "$(grep 'already' <<<"$out")"
kill -INT "$CAP_PID"; wait "$CAP_PID"

stats=$(ctl --json stats)
check_books vtoed "$stats"
vtoed_stop TERM
check "vtoed exits 0" test $? = 0
t_finish
