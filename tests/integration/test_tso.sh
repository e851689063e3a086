#!/bin/bash
# SPDX-License-Identifier: BSD-3-Clause
# test_tso.sh - 64 KB TCP super-frames between two guests at native speed,
# through the direct path, the library path, and to a guest without
# offloads, every payload byte checked.
#
#   tso-gen (benchmarks/tso_gen.c, --check), one process, CPU 0
#     port 0 (vm1's NIC): 64 KB TCP/IPv4 frames, TSO metadata (MSS 1448)
#     port 1 (vm2's NIC): LRO when offered (GUEST_TSO4, MRG_RXBUF), checks
#                         every payload byte by its stream offset, and the
#                         GSO metadata (LRO, MSS) of every frame > 1 MSS
#          | $WORK/vm1.0.sock (virtio-user server)  | $WORK/vm2.0.sock
#   +------v-----------------------------------------v----+
#   | vtoed (client ports), worker CPU 1                   |
#   +------------------------------------------------------+
#
# 1. direct:  both ports offloads on, datapath direct: every frame passes
#    the TOE's check and goes vring to vring with its metadata
#    (offload.passed = rx_packets, direct_stops.offload 0), whole, no
#    loss, no corrupt byte; vm2 gets 64 KB frames spread over ~16
#    mergeable buffers each.
# 2. library: the same with datapath: {direct: false}: rte_vhost's
#    dequeue/enqueue (one external buffer per super-frame), nothing
#    passed directly, the same result at the sink.
# 3. vm2 without offloads: the direct path leaves the frames to the
#    library path (direct_stops.caps), which cuts them in software for vm2
#    into segments that point into the super-frames' buffers;
#    the sink gets MSS-sized segments, byte-exact, in order, none lost:
#    8 frames' segments (360) fit vm2's ring, and the ~45 segments of one
#    frame are handed to rte_vhost 32 at a time without counting as
#    retries against a full ring.
# 4. gro: vm1 without offloads sends plain 1460-byte TCP segments (full
#    checksums) to vm2, which takes super-frames: the direct path leaves
#    them to the library path (direct_stops.gro), where GRO coalesces them;
#    the sink gets super-frames with LRO metadata, byte-exact, no loss.
# 5. lies: gso_size 0, gso_size above the payload, TSO on a "UDP"
#    datagram, every frame: each dropped under its own reason (offload_bad, and the
#    TOE's offload drop counter), nothing reaches vm2, vtoed carries on.
# Also rerun under ASan (scripts/test.sh).
source "$(dirname "$0")/lib/common.sh"

need_root
TSO_GEN=${TSO_GEN:-$VTOE_BUILD/benchmarks/tso-gen}
need_binaries "$VTOED" "$VTOECTL" "$TSO_GEN"
need_hugepages 512

CONF=$WORK/vtoed.yaml VLOG=$WORK/vtoed.log

# gen OUT [ARGS...]: tso-gen on both sockets for 1 + 3 seconds
gen() {
	local out=$1; shift
	timeout 60 taskset -c "$OTHER_CPUS" "$TSO_GEN" -l "$MAIN_CPU" --no-pci -m 512 \
		--single-file-segments --file-prefix="$(dpdk_prefix "tsogen$RANDOM")" \
		--vdev "net_virtio_user0,path=$VM1_SOCK,mac=$VM1_MAC,queues=1,queue_size=1024,server=1" \
		--vdev "net_virtio_user1,path=$VM2_SOCK,mac=$VM2_MAC,queues=1,queue_size=1024,server=1" \
		-- --dst "$VM2_MAC" --warmup 1 --duration 3 --link-timeout 30 --check "$@" >"$out" 2>"$out.err"
}
fact() { sed -n "s/^$1 //p" "$2" | head -1; }  # WHAT FILE
# tso_config DIRECT VM1_OFFLOADS VM2_OFFLOADS: $CONF, both ports vhost-user
# clients of tso-gen's sockets
tso_config() {
	config_head >"$CONF"
	cat >>"$CONF" <<EOF
datapath: {direct: $1}
vms:
  - name: vm1
    ports:
      - {name: vm1.0, socket: $VM1_SOCK, mode: client, mac: "$VM1_MAC", queues: 1, offloads: $2}
  - name: vm2
    ports:
      - {name: vm2.0, socket: $VM2_SOCK, mode: client, mac: "$VM2_MAC", queues: 1, offloads: $3}
EOF
}

# round LABEL DIRECT VM2_OFFLOADS [VM1_OFFLOADS]
round() {
	local label=$1 direct=$2 off2=$3 off1=${4:-true} out=$WORK/gen-$1.out rc s rxf sup vrx
	tso_config "$direct" "$off1" "$off2"
	vtoed_start "$CONF" "$VLOG" 120 || die "$label: vtoed did not start"
	# tso-gen creates the sockets; vtoed (client) connects within a second.
	# Its window (48 super-frames) fits the sink's ring (1024 page-sized
	# buffers) whole; cut into 45 segments each, 8 of them do.
	case $label in
	no-offload) gen "$out" --window 8 & ;;
	gro) gen "$out" --plain --size 1500 --mss 1460 --window 256 & ;;
	*) gen "$out" & ;;
	esac
	local gpid=$!
	# read vtoed's books while tso-gen lingers, connected, after its window
	wait_for 40 grep -qs '^phase done' "$out" || fail "$label: tso-gen did not finish its window"
	s=$(ctl --json stats)
	wait "$gpid"; rc=$?
	log "$label: tso-gen exit $rc: $(tr '\n' ' ' <"$out") $(tail -3 "$out.err" | tr '\n' ' ')"
	log "$label: $(jq -c '[(.result.ports // .ports)[] | {name, rx_packets, tx_packets, direct, direct_stops: (.direct_stops | with_entries(select(.value > 0))), drops: (.drops | with_entries(select(.value > 0))), offload: (.offload | {validated, passed, segmented, segments, segments_shared, coalesced, gro_frames, csum_checked, csum_bad, drops})}]' <<<"$s" 2>/dev/null)"
	rxf=$(num "$(fact rx_frames "$out")"); sup=$(num "$(fact rx_super "$out")")
	vrx=$(num "$(stat_of "$s" vm1.0 .rx_packets)")
	check "$label: tso-gen exits 0 (got $rc)" test "$rc" = 0
	check "$label: frames arrived ($rxf in 3 s)" test "$rxf" -gt 100
	check "$label: no frame lost (lost_total $(fact lost_total "$out"))" test "$(fact lost_total "$out")" = 0
	check "$label: no drops in vtoed ($(stat_of "$s" vm1.0 .drops_total)/$(stat_of "$s" vm2.0 .drops_total))" \
		test "$(stat_of "$s" vm1.0 .drops_total)" = 0 -a "$(stat_of "$s" vm2.0 .drops_total)" = 0
	check "$label: no offload drops" test "$(jq '[(.result.ports // .ports)[].offload.drops | to_entries[].value] | add // 0' <<<"$s")" = 0
	[ "$off1" = true ] &&
		check "$label: every frame from vm1 validated ($(stat_of "$s" vm1.0 .offload.validated) of $vrx)" \
			test "$(stat_of "$s" vm1.0 .offload.validated)" = "$vrx" -a "$vrx" -gt 0
	case $label in
	gro)
		check "gro: vm1's plain segments coalesced for vm2 (vm2.0 offload.coalesced $(stat_of "$s" vm2.0 .offload.coalesced) into gro_frames $(stat_of "$s" vm2.0 .offload.gro_frames))" \
			test "$(num "$(stat_of "$s" vm2.0 .offload.gro_frames)")" -gt 0 -a "$(num "$(stat_of "$s" vm2.0 .offload.coalesced)")" -gt 0
		check "gro: their checksums verified once, none bad (vm2.0 csum_checked $(stat_of "$s" vm2.0 .offload.csum_checked), csum_bad $(stat_of "$s" vm2.0 .offload.csum_bad))" \
			test "$(num "$(stat_of "$s" vm2.0 .offload.csum_checked)")" -gt 0 -a "$(stat_of "$s" vm2.0 .offload.csum_bad)" = 0
		check "gro: vm2 got super-frames ($sup of $rxf longer than 1514 B, average $(fact rx_avg_len "$out") B)" \
			test "$sup" -gt 0
		check "gro: left to the library path for GRO (vm1.0 direct_stops.gro $(stat_of "$s" vm1.0 .direct_stops.gro))" \
			test "$(num "$(stat_of "$s" vm1.0 .direct_stops.gro)")" -gt 0 ;;
	direct)
		check "direct: all of vm2's frames whole ($sup of $rxf)" test "$sup" = "$rxf"
		check "direct: every frame passed on directly (passed $(stat_of "$s" vm1.0 .offload.passed), direct $(stat_of "$s" vm1.0 .direct), rx $vrx)" \
			test "$(stat_of "$s" vm1.0 .offload.passed)" = "$vrx" -a "$(stat_of "$s" vm1.0 .direct)" = "$vrx"
		check "direct: none refused by the TOE check (direct_stops.offload $(stat_of "$s" vm1.0 .direct_stops.offload))" \
			test "$(stat_of "$s" vm1.0 .direct_stops.offload)" = 0 ;;
	library)
		check "library: all of vm2's frames whole ($sup of $rxf)" test "$sup" = "$rxf"
		check "library: nothing direct (direct $(stat_of "$s" vm1.0 .direct), passed $(stat_of "$s" vm1.0 .offload.passed))" \
			test "$(stat_of "$s" vm1.0 .direct)" = 0 -a "$(stat_of "$s" vm1.0 .offload.passed)" = 0 ;;
	no-offload)
		check "no-offload: vm2 got MSS segments only ($sup of $rxf longer than 1514 B; average $(fact rx_avg_len "$out") B)" \
			test "$sup" = 0
		check "no-offload: cut in software for vm2 (segmented $(stat_of "$s" vm2.0 .offload.segmented))" \
			test "$(num "$(stat_of "$s" vm2.0 .offload.segmented)")" -gt 0
		# rte_vhost's dequeue puts each super-frame in one external
		# buffer: every segment points into it (rte_vhost's enqueue
		# takes chains), none copies its payload
		check "no-offload: the segments shared the super-frames' buffers (segments_shared $(stat_of "$s" vm2.0 .offload.segments_shared) of $(stat_of "$s" vm2.0 .offload.segments))" \
			test "$(num "$(stat_of "$s" vm2.0 .offload.segments_shared)")" -gt 0 -a \
			"$(stat_of "$s" vm2.0 .offload.segments_shared)" = "$(stat_of "$s" vm2.0 .offload.segments)"
		check "no-offload: left to the library path as the receiver lacks TSO (direct_stops.caps $(stat_of "$s" vm1.0 .direct_stops.caps), passed $(stat_of "$s" vm1.0 .offload.passed))" \
			test "$(num "$(stat_of "$s" vm1.0 .direct_stops.caps)")" -gt 0 -a "$(stat_of "$s" vm1.0 .offload.passed)" = 0 ;;
	esac
	vtoed_stop TERM; rc=$?
	check "$label: vtoed exits 0 on SIGTERM (got $rc)" test $rc = 0
}

# lie_round KIND REASON DIRECT [capture]: every frame's GSO metadata lies
# the same way (tso-gen --lie; the virtio PMD writes it into the
# virtio-net header).  With capture, vm1.0's frames are captured (tshark
# reads the file): each frame the TOE refused is in it as a drop.
lie_round() {
	local kind=$1 reason=$2 direct=$3 out=$WORK/gen-lie-$1-$3.out s vrx rc
	local label="lie $1 (direct: $3)" capp="" pcap=$WORK/lie-$1-$3.pcapng
	tso_config "$direct" true true
	vtoed_start "$CONF" "$VLOG" 120 || die "$label: vtoed did not start"
	if [ "${4:-}" = capture ]; then
		timeout 60 "$VTOECTL" --socket "$CTL_SOCK" capture --direction rx \
			--snaplen 96 -w "$pcap" vm1.0 >"$WORK/lie-cap.out" 2>&1 &
		capp=$!
		wait_for 5 capture_running ||
			log "$label: capture did not start: $(cat "$WORK/lie-cap.out")"
	fi
	gen "$out" --window 8 --warmup 0 --duration 1 --lie "$kind" &
	local gpid=$!
	wait_for 40 grep -qs '^phase done' "$out" || fail "$label: tso-gen did not finish its window"
	s=$(ctl --json stats)
	wait "$gpid"
	if [ -n "$capp" ]; then
		local bad seen lost
		kill -INT "$capp" 2>/dev/null; wait "$capp"
		bad=$(num "$(stat_of "$(ctl --json stats)" vm1.0 .drops.offload_bad)")
		lost=$(num "$(ctl --json capture --list | jq '[.[] | select(.port == "vm1.0") | .lost] | add')")
		seen=$(tshark -r "$pcap" -T fields -e frame.comment 2>/dev/null | grep -c '^drop: offload_bad$')
		check "$label: the refused frames captured as drops ($seen in the file, $lost lost, of $bad)" \
			test "$seen" -gt 0 -a "$seen" -le "$bad" -a $((seen + lost)) -ge "$bad"
	fi
	vrx=$(num "$(stat_of "$s" vm1.0 .rx_packets)")
	log "$label: tso-gen rx_frames $(fact rx_frames "$out"); $(jq -c '[(.result.ports // .ports)[] | {name, rx_packets, tx_packets, drops: (.drops | with_entries(select(.value > 0))), offload: (.offload | {validated, drops})}]' <<<"$s" 2>/dev/null)"
	check "$label: vm1 sent some ($vrx)" test "$vrx" -gt 0
	check "$label: every one dropped as $reason ($(stat_of "$s" vm1.0 ".offload.drops.$reason") of $vrx, offload_bad $(stat_of "$s" vm1.0 .drops.offload_bad))" \
		test "$(stat_of "$s" vm1.0 ".offload.drops.$reason")" = "$vrx" -a "$(stat_of "$s" vm1.0 .drops.offload_bad)" = "$vrx"
	check "$label: nothing reached vm2 (vm2.0 tx $(stat_of "$s" vm2.0 .tx_packets), sink $(fact rx_frames "$out"))" \
		test "$(stat_of "$s" vm2.0 .tx_packets)" = 0 -a "$(fact rx_frames "$out")" = 0
	vtoed_stop TERM; rc=$?
	check "$label: vtoed exits 0 on SIGTERM (got $rc)" test $rc = 0
}

round direct true true
round library false true
round no-offload true false
round gro true true false
# The direct path reads the guest's own header and drops each lie under
# its reason; the library path sees only what rte_vhost makes of it, which
# for gso_size 0 or GSO on a UDP datagram is the claim removed and the
# frame kept, so those two are checked with the direct path only.
lie_round mss0 gso_size_zero true
lie_round mss-big gso_size_big true
# (a TCP header read as UDP has a UDP length that lies: found first)
lie_round udp l4_bad true
lie_round mss-big gso_size_big false capture
[ "$T_FAIL" -gt 0 ] && dump_log "$VLOG" 60
t_finish
