#!/bin/bash
# SPDX-License-Identifier: BSD-3-Clause
# test_badinput.sh - vtoed facing hostile input: bad configs, bad control
# requests, runt frames from a guest.
#
#   (a)  bad.yaml --> vtoed --check-config --> exit 2, "FILE:LINE:COL: msg",
#                                              no socket created
#
#   (b)  lib/ctl_probe.py ==(garbage, truncated JSON, 100 KiB line, ...)==>
#                               $WORK/ctl.sock --> vtoed (must answer, survive)
#
#   (c)  vtoe-inject (one process, two virtio-user ports, CPU 0)
#          port 0 mac 52:54:00:00:01:01        port 1 mac 52:54:00:00:02:01
#          sends runts (1..13 bytes),          counts what arrives
#          then 60-byte frames to port 1
#               |  $WORK/vm1.0.sock                  |  $WORK/vm2.0.sock
#        +------v------------------------------------v------+
#        |  vtoed  vm1.0 --(runts: drops.runt)  -->  vm2.0   |
#        |  worker lcore CPU 1                                |
#        +----------------------------------------------------+
source "$(dirname "$0")/lib/common.sh"

need_root
need_binaries "$VTOED" "$VTOECTL"

# ------------------------------------------------------------ (a) configs
CC=$WORK/cc                      # every socket a config names lives here
mkdir -p "$CC"
cfg_head() {
	cat <<EOF
lcores: {main: $MAIN_CPU, workers: [$WORKER_CPU]}
memory: {hugepages: none, mbufs: 8192}
control: {socket: $CC/ctl.sock, mode: "0660"}
eal: {file_prefix: vtoe-cc-$$}
uplinks:
  - {name: up0, device: "net_tap0,iface=vtoecc0"}
EOF
}
vm() {  # vm NAME PORT_YAML...: a VM with one flow-style port per argument
	echo "  - name: $1"
	echo "    ports:"
	shift
	local p
	for p in "$@"; do echo "      - {$p}"; done
}
P1="name: vm1.0, socket: $CC/vm1.0.sock, mode: server, mac: \"52:54:00:00:01:01\", queues: 1, uplink: up0, weight: 1"
P2="name: vm2.0, socket: $CC/vm2.0.sock, mode: server, mac: \"52:54:00:00:02:01\", queues: 1, uplink: up0, weight: 1"
good_config() { cfg_head; echo "vms:"; vm vm1 "$P1"; vm vm2 "$P2"; }

# bad_case NAME REGEX [LINES]: the config on stdin must be refused with a
# "FILE:LINE:COL: msg" line whose msg matches REGEX (case-insensitive) and,
# if LINES is given (e.g. "9" or "8|9"), whose LINE is one of them.
bad_case() {
	local name=$1 re=$2 lines=${3:-} f=$WORK/bad-$1.yaml out rc msgline
	cat >"$f"
	timeout 20 "$VTOED" --check-config "$f" >"$WORK/bad-$name.out" 2>"$WORK/bad-$name.err"; rc=$?
	out=$(cat "$WORK/bad-$name.err")
	msgline=$(grep -E "^$f:[0-9]+:[0-9]+: " <<<"$out" | grep -iE -- "$re" | head -1)
	local why=
	[ $rc = 2 ] || why="exit $rc, not 2;"
	[ -n "$msgline" ] || why="$why no '$f:LINE:COL: ...' line matching /$re/;"
	if [ -n "$lines" ] && [ -n "$msgline" ]; then
		local l; l=$(cut -d: -f2 <<<"${msgline#"$f"}")
		grep -qxE "$lines" <<<"$l" || why="$why reported line $l, expected $lines;"
	fi
	[ -z "$(ls -A "$CC")" ] || why="$why created $(ls -A "$CC" | tr '\n' ' ');"
	if [ -z "$why" ]; then
		pass "config: $name -> ${msgline#"$WORK/"}"
	else
		fail "config: $name: $why stderr: $(head -c 400 <<<"$out" | tr '\n' '|')"
		rm -rf "${CC:?}"/*
	fi
}

good_config >"$WORK/good.yaml"
timeout 20 "$VTOED" --check-config "$WORK/good.yaml" >"$WORK/good.out" 2>&1; rc=$?
check "config: a good config passes --check-config (exit $rc)" test $rc = 0
[ $rc = 0 ] || dump_log "$WORK/good.out" 10
check "config: --check-config creates no socket" test -z "$(ls -A "$CC")"

# Line numbers: cfg_head is 6 lines, "vms:" is 7, vm1 starts at 8 (its
# port at 10), vm2 at 11 (its port at 13).
{ cfg_head; echo "bogus_key: 1"; echo "vms:"; vm vm1 "$P1"; } | bad_case unknown-top-key 'bogus_key' 7
{ cfg_head; echo "vms:"; vm vm1 "$P1, colour: red"; } | bad_case unknown-port-key 'colour' 10
{ good_config | sed 's/mbufs: 8192/mbufs: lots/'; } | bad_case wrong-type-mbufs 'mbufs|integer|number' 2
{ cfg_head; echo "vms:"; vm vm1 "${P1/queues: 1/queues: \"many\"}"; } | bad_case wrong-type-queues 'queues|integer|number' 10
{ cfg_head; echo "vms: {vm1: 1}"; } | bad_case wrong-type-vms 'vms|sequence|list|array' 7
{ cfg_head; echo "vms:"; vm vm1 "${P1/52:54:00:00:01:01/52:54:00:zz:01:01}"; } | bad_case bad-mac 'mac' 10
{ cfg_head; echo "vms:"; vm vm1 "${P1/52:54:00:00:01:01/52:54:00:00:01}"; } | bad_case short-mac 'mac' 10
{ cfg_head; echo "vms:"; vm vm1 "${P1/52:54:00:00:01:01/01:00:5e:00:00:01}"; } | bad_case multicast-mac 'mac|multicast' 10
{ cfg_head; echo "vms:"; vm vm1 "$P1"; vm vm2 "${P2/vm2.0/vm1.0}"; } | bad_case duplicate-port-name 'dup|already|twice|unique|vm1\.0' '10|13'
{ cfg_head; echo "vms:"; vm vm1 "$P1"; vm vm1 "$P2"; } | bad_case duplicate-vm-name 'dup|already|twice|unique|vm1' '8|11'
{ cfg_head; echo "vms:"; vm vm1 "$P1"; vm vm2 "${P2/02:01\"/01:01\"}"; } | bad_case duplicate-mac 'mac' '10|13'
{ cfg_head; echo "vms:"; vm vm1 "$P1"; vm vm2 "${P2/vm2.0.sock/vm1.0.sock}"; } | bad_case duplicate-socket 'socket' '10|13'
{ cfg_head; echo "vms:"; vm vm1 "${P1/uplink: up0/uplink: up9}"; } | bad_case missing-uplink 'uplink|up9' 10
{ cfg_head; echo "vms:"; vm vm1 "${P1/queues: 1/queues: 99}"; } | bad_case queues-99 'queues' 10
{ cfg_head; echo "vms:"; vm vm1 "${P1/queues: 1/queues: 0}"; } | bad_case queues-0 'queues' 10
{ cfg_head; echo "vms:"; vm vm1 "${P1/weight: 1/weight: 0}"; } | bad_case weight-0 'weight' 10
{ cfg_head; echo "vms:"; vm vm1 "${P1/weight: 1/weight: 1001}"; } | bad_case weight-1001 'weight' 10
{ cfg_head; echo "vms:"; vm vm1 "${P1/weight: 1/weight: -1}"; } | bad_case weight-negative 'weight' 10
{ cfg_head; echo "vms:"; vm vm1 "${P1/mode: server/mode: sideways}"; } | bad_case bad-mode 'mode|sideways' 10
{ good_config | sed "1s/.*/lcores: {main: $MAIN_CPU, workers: [999]}/"; } | bad_case worker-999 'worker|lcore|cpu|999' 1
{ good_config | sed "1s/.*/lcores: {main: $MAIN_CPU, workers: []}/"; } | bad_case no-workers 'worker|lcore' 1
{ good_config | sed "1s/.*/lcores: {main: $WORKER_CPU, workers: [$WORKER_CPU]}/"; } | bad_case main-is-worker 'worker|lcore|main' 1
{ cfg_head; echo "vms:"; vm vm1 "${P1/socket: $CC\/vm1.0.sock/socket: \/$(printf 'x%.0s' {1..120}).sock}"; } | bad_case socket-path-too-long 'socket|long|path' 10
{ cfg_head; echo "vms:"; vm vm1 "name: vm1.0, mac: \"52:54:00:00:01:01\""; } | bad_case port-without-socket 'socket' 10
{ good_config; echo "  - {name: broken"; } | bad_case yaml-syntax '.' '1[4-6]'
{ printf 'lcores: {main: 0\n\tworkers: [1]}\n'; } | bad_case yaml-tab '.'

# a missing file: exit 2 too (or a plain error), never a crash
timeout 20 "$VTOED" --check-config "$WORK/no-such.yaml" >/dev/null 2>"$WORK/nofile.err"; rc=$?
check "config: a missing file is refused cleanly (exit $rc: $(head -1 "$WORK/nofile.err"))" test $rc -ge 1 -a $rc -le 2

# ------------------------------------------------------- (b) control socket
need_hugepages 128
CONF=$WORK/vtoed.yaml VLOG=$WORK/vtoed.log
write_config "$CONF" server
vtoed_start "$CONF" "$VLOG" 300 || { dump_log "$VLOG"; die "vtoed did not start"; }
wait_for 10 test -S "$VM1_SOCK" -a -S "$VM2_SOCK" || die "no vhost-user sockets"
while read -r line; do
	case $line in
	"ok "*) pass "ctl: ${line#ok }" ;;
	"not ok "*) fail "ctl: ${line#not ok }" ;;
	*) log "ctl_probe: $line" ;;
	esac
done < <(timeout 60 python3 "$(dirname "$0")/lib/ctl_probe.py" "$CTL_SOCK" 2>&1)
check "ctl: vtoed is still running" kill -0 "$VTOED_PID"
check "ctl: vtoectl version still works: $(ctl version 2>&1 | head -1)" ctl version
check "ctl: vtoectl stats still works" eval 'ctl --json stats | jq -e ".ok != false" >/dev/null'

# ------------------------------------------------------- (c) runt frames
if [ ! -x "$VTOE_INJECT" ]; then
	fail "runt: $VTOE_INJECT not built (tests/tools)"
else
	S0=$(ctl --json stats)
	runt0=$(stat_of "$S0" vm1.0 '.drops.runt // 0')
	timeout 60 taskset -c "$OTHER_CPUS" "$VTOE_INJECT" -l "$MAIN_CPU" --no-pci --no-huge -m 128 \
		--file-prefix="$(dpdk_prefix inject)" \
		--vdev "net_virtio_user0,path=$VM1_SOCK,mac=$VM1_MAC,queue_size=1024" \
		--vdev "net_virtio_user1,path=$VM2_SOCK,mac=$VM2_MAC,queue_size=1024" -- \
		--send 10:100 --send 1:5 --send 13:5 --send 60:100 --dst "$VM2_MAC" --wait 1500 \
		>"$WORK/inject.out" 2>"$WORK/inject.err"; rc=$?
	log "vtoe-inject exit $rc: $(tr '\n' ' ' <"$WORK/inject.out")"
	check "runt: vtoe-inject sent 110 runts and 100 normal frames" \
		test $rc = 0 -a "$(grep -c '^sent' "$WORK/inject.out")" = 4
	[ $rc = 0 ] || dump_log "$WORK/inject.err" 20
	sleep 0.5
	S1=$(ctl --json stats)
	runt1=$(stat_of "$S1" vm1.0 '.drops.runt // 0')
	log "vm1.0 after: $(jq -c '(.result.ports // .ports)[] | select(.name=="vm1.0") | {rx_packets, drops_total, drops}' <<<"$S1")"
	check "runt: vtoed counted 110 runts under vm1.0 drops.runt ($runt0 -> $runt1)" test "$((runt1 - runt0))" = 110
	rx1=$(awk '$1 == "rx" && $2 == 1 {print $3}' "$WORK/inject.out")
	check "runt: forwarding continued: port 1 got the 100 normal frames (got ${rx1:-none})" test "${rx1:-0}" = 100
	check "runt: vtoed vm2.0 tx_packets counts those 100" test "$(stat_of "$S1" vm2.0 .tx_packets)" -ge 100
	check "runt: vtoed is still running" kill -0 "$VTOED_PID"
fi

vtoed_stop TERM; rc=$?
check "vtoed exits 0 on SIGTERM after all that (got $rc)" test $rc = 0
[ "$T_FAIL" -gt 0 ] && dump_log "$VLOG" 30
t_finish
