#!/bin/bash
# SPDX-License-Identifier: BSD-3-Clause
# test_reload_direct.sh - datapath.direct changed by reload really changes
# the path frames take (it used to be a silent no-op): every VM port is
# re-created, and frames between co-resident guests are copied vring to
# vring (vtoectl stats RX_DIRECT) only while it is on.
#
#   vtoe-inject B (vm2.0) --100 frames--> vtoed --> vtoe-inject A (vm1.0)
source "$(dirname "$0")/lib/common.sh"

need_root
need_binaries "$VTOED" "$VTOECTL" "$VTOE_INJECT"
need_hugepages 256

CONF=$WORK/vtoed.yaml VLOG=$WORK/vtoed.log
conf() {  # DIRECT
	write_config "$CONF" server
	echo "datapath: {direct: $1}" >>"$CONF"
}
inject() {  # NAME SOCK MAC ARGS...
	local name=$1 sock=$2 mac=$3; shift 3
	timeout -k 5 60 taskset -c "$OTHER_CPUS" "$VTOE_INJECT" -l "$MAIN_CPU" --no-pci --no-huge -m 64 \
		--file-prefix="$(dpdk_prefix "$name")" --log-level=4 \
		--vdev "net_virtio_user0,path=$sock,mac=$mac" -- "$@" >"$WORK/$name.out" 2>"$WORK/$name.err"
}
# round DIRECT: a receiver on vm1, 100 frames from vm2; echo vm2.0's
# direct count and what vm1 got
round() {
	inject A "$VM1_SOCK" "$VM1_MAC" --wait 4000 &
	local pa=$!
	wait_for 20 ports_up vm1.0 || return 1
	inject B "$VM2_SOCK" "$VM2_MAC" --send 64:100 --dst "$VM1_MAC" --wait 200 || return 1
	wait $pa
	echo "$(port_stat vm2.0 .direct) $(awk '$1 == "rx" {print $3}' "$WORK/A.out")"
}

conf true
vtoed_start "$CONF" "$VLOG" 120 || die "vtoed did not start"
read -r d1 got1 < <(round)
check "direct on: vm2's 100 frames reach vm1 copied vring to vring (direct $d1, vm1 got $got1)" \
	eval '[ "$got1" = 100 ] && [ "$d1" = 100 ]'
conf false
out=$(ctl reload 2>&1); rc=$?
check "reload with direct: false re-creates both ports ($(tr '\n' ' ' <<<"$out"))" \
	eval '[ $rc = 0 ] && grep -q "^changed *2: vm1.0, vm2.0" <<<"$out"'
read -r d2 got2 < <(round)
check "direct off: they take the library path (direct $d2, vm1 got $got2)" \
	eval '[ "$got2" = 100 ] && [ "$d2" = 0 ]'
conf true
ctl reload >/dev/null
read -r d3 got3 < <(round)
check "direct on again: vring to vring again (direct $d3, vm1 got $got3)" \
	eval '[ "$got3" = 100 ] && [ "$d3" = 100 ]'
vtoed_stop TERM; rc=$?
check "vtoed exits 0 on SIGTERM (rc=$rc)" [ $rc = 0 ]
t_finish
