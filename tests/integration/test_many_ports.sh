#!/bin/bash
# SPDX-License-Identifier: BSD-3-Clause
# test_many_ports.sh - hundreds of ports: port ids past the first words of
# the port sets (64, 128, 256) forward, flood, and come and go by reload.
#
#   vtoe-inject A on vm1.0 (port 0)  <--->  vtoe-inject F on far.0 (the last
#   port, id > 300); N filler ports (server sockets, no guest) in between.
#
# 1. A and F exchange unicast frames both ways and A's broadcasts reach F
#    (the flood walks every port, the fillers are down and skipped);
# 2. one reload removes half the fillers and adds as many new ones: the
#    answer says so, A and F keep their guest connections and still reach
#    each other;
# 3. vtoectl ports lists them all.
source "$(dirname "$0")/lib/common.sh"

N=${VTOE_MANY_PORTS:-300}
need_root
need_binaries "$VTOED" "$VTOECTL" "$VTOE_INJECT"
need_hugepages 256

CONF=$WORK/vtoed.yaml VLOG=$WORK/vtoed.log FAR_SOCK=$WORK/far.sock
FAR_MAC=52:54:00:00:0f:01
mkdir -p "$WORK/m"
conf() {  # FIRST LAST: fillers mFIRST..mLAST
	{
		config_head
		echo "vms:"
		echo "  - {name: vm1, ports: [{name: vm1.0, socket: $VM1_SOCK, mac: \"$VM1_MAC\"}]}"
		for i in $(seq "$1" "$2"); do
			printf '  - {name: m%d, ports: [{name: m%d.0, socket: %s/m/%d.sock, mac: "52:54:00:10:%02x:%02x"}]}\n' \
				"$i" "$i" "$WORK" "$i" $((i / 256)) $((i % 256))
		done
		echo "  - {name: far, ports: [{name: far.0, socket: $FAR_SOCK, mac: \"$FAR_MAC\"}]}"
	} >"$CONF.new"
	mv "$CONF.new" "$CONF"
}
inject() {  # NAME SOCK MAC ARGS...
	local name=$1 sock=$2 mac=$3; shift 3
	timeout -k 5 120 taskset -c "$OTHER_CPUS" "$VTOE_INJECT" -l "$MAIN_CPU" --no-pci --no-huge -m 64 \
		--file-prefix="$(dpdk_prefix "$name")" --log-level=4 \
		--vdev "net_virtio_user0,path=$sock,mac=$mac" -- "$@" >"$WORK/$name.out" 2>"$WORK/$name.err" &
}
out_of() { awk -v k="$2" '$1 == k {print $3}' "$WORK/$1.out" | head -1; }  # NAME KEY
vid_of() { ctl --json ports | jq -r --arg p "$1" '(.result? // .)[] | select(.name == $p) | .owner.vid'; }
n_ports() { ctl --json ports | jq '(.result? // .) | length'; }
port_id() { ctl --json ports | jq --arg p "$1" '(.result? // .) | map(.name) | index($p)'; }
# one_way TAG FROM_SOCK FROM_MAC TO_SOCK TO_MAC TO_PORT DST COUNT: a
# listener on TO (up before anything is sent), then COUNT frames to DST.
one_way() {
	local tag=$1 fs=$2 fm=$3 ts=$4 tm=$5 tp=$6 dst=$7 n=$8 l s
	inject R$tag "$ts" "$tm" --wait 4000; l=$!; track $l
	wait_for 20 ports_up "$tp" || die "$tp did not come up"
	inject S$tag "$fs" "$fm" --send 64:"$n" --dst "$dst" --wait 200; s=$!; track $s
	wait $s; wait $l
}
# exchange TAG COUNT: vm1 -> far, far -> vm1, vm1 broadcasts; RTAGa,
# RTAGb and RTAGc count what arrived.
exchange() {
	one_way "$1a" "$VM1_SOCK" "$VM1_MAC" "$FAR_SOCK" "$FAR_MAC" far.0 "$FAR_MAC" "$2"
	one_way "$1b" "$FAR_SOCK" "$FAR_MAC" "$VM1_SOCK" "$VM1_MAC" vm1.0 "$VM1_MAC" "$2"
	one_way "$1c" "$VM1_SOCK" "$VM1_MAC" "$FAR_SOCK" "$FAR_MAC" far.0 ff:ff:ff:ff:ff:ff "$2"
}

conf 1 "$N"
t0=$(date +%s%3N)
vtoed_start "$CONF" "$VLOG" 300 || die "vtoed did not start with $((N + 2)) ports"
log "vtoed up with $((N + 2)) ports in $(( $(date +%s%3N) - t0 )) ms"
check "vtoectl ports lists all $((N + 2)) ports" [ "$(n_ports)" = $((N + 2)) ]
wtid=$(ctl --json lcores | jq '[.[] | select(.role == "worker")][0].tid')
check "lcores names the worker's thread ($wtid, a thread of vtoed) and lists its long loop iterations" \
	eval '[ -d "/proc/$VTOED_PID/task/$wtid" ] &&
	      ctl --json lcores | jq -e "[.[] | select(.role == \"worker\")][0].long_loops_ns | type == \"array\"" >/dev/null'
far_id=$(port_id far.0)
check "far.0 has a port id past the first words ($far_id > 256)" [ "$far_id" -gt 256 ]

exchange 1 500
check "far.0 received all 500 frames from vm1.0 ($(out_of R1a rx))" [ "$(out_of R1a rx)" = 500 ]
check "vm1.0 received all 500 frames from far.0 ($(out_of R1b rx))" [ "$(out_of R1b rx)" = 500 ]
check "vm1.0's broadcasts reached far.0 ($(out_of R1c rx) of 500)" [ "$(out_of R1c rx)" = 500 ]

# Keep a guest on vm1.0 across the reload to see that it spares it.
inject KA "$VM1_SOCK" "$VM1_MAC" --wait 600000; KA=$!; track $KA
wait_for 20 ports_up vm1.0 || die "vm1.0 did not come up"
vid1=$(vid_of vm1.0)
half=$((N / 2))
conf $((half + 1)) $((N + half))
ANSWER=$(ctl --json reload 2>&1)
n_added=$(jq '(.result // .).added | length' <<<"$ANSWER")
n_removed=$(jq '(.result // .).removed | length' <<<"$ANSWER")
check "reload added $half and removed $half fillers (added $n_added, removed $n_removed)" \
	[ "$n_added" = "$half" ] && [ "$n_removed" = "$half" ]
check "still $((N + 2)) ports" [ "$(n_ports)" = $((N + 2)) ]
check "vm1.0 kept its guest connection (vid $vid1)" [ "$(vid_of vm1.0)" = "$vid1" ]
kill -INT "$(pgrep -P $KA | head -1)" 2>/dev/null; wait $KA
exchange 2 500
check "after the reload far.0 received all 500 from vm1.0 ($(out_of R2a rx))" [ "$(out_of R2a rx)" = 500 ]
check "after the reload vm1.0 received all 500 from far.0 ($(out_of R2b rx))" [ "$(out_of R2b rx)" = 500 ]
check "after the reload vm1.0's broadcasts reached far.0 ($(out_of R2c rx) of 500)" [ "$(out_of R2c rx)" = 500 ]
vtoed_stop TERM; rc=$?
check "vtoed exits 0 on SIGTERM with $((N + 2)) ports (rc=$rc)" [ $rc = 0 ]
t_finish
