# SPDX-License-Identifier: BSD-3-Clause
# Several vtoed "hosts" on this machine for the overlay's tests: their
# uplinks are net_af_packet on veths into one Linux bridge (a tap's MAC
# would be the bridge's own, so frames to it would stop at the bridge), the
# cluster directory in etcd (lib/etcd.sh).  Sourced after common.sh,
# guest.sh and etcd.sh.
#
#   ovl_need [BINARY...]      root, vtoed, vtoectl (and BINARY...), hugepages,
#                             etcd, jq and the guest image, or skip/die
#   ovl_underlay a b c        a bridge and one veth per host (removed on exit)
#   host_conf H IP PORTS      host H's config (host-H, VTEP IP, etcd: $EPS)
#   vmport NAME MAC NET [..]  a VM with one port NAME.0 on $WORK/NAME.vsock
#   start_host H              vtoed for host H; PID_H, TPID_H
#   sees H OWNER VNI MAC      H's remote table places MAC of VNI on OWNER
#   sees_none H OWNER         no VM of OWNER in H's table
#   dir_field H JQ            a field of H's directory session
#   watching H                H is in sync with etcd
OVL_BR=vtoebr$$
OVL_TTL=${OVL_TTL:-5}
OVL_HOSTS=()

ovl_need() {
	need_root
	need_binaries "$VTOED" "$VTOECTL" "$@"
	need_hugepages 512
	etcd_available || skip_all "etcd-server is not installed (scripts/setup.sh installs it)"
	command -v jq >/dev/null || skip_all "jq missing"
	guest_prepare
}

ovl_underlay() {
	local h
	ip link add "$OVL_BR" type bridge || skip_all "cannot make a Linux bridge"
	ip link set "$OVL_BR" up
	for h in "$@"; do
		ip link add "vto$h$$" type veth peer name "vto$h$$p" || skip_all "cannot make veth pairs"
		ip link set "vto$h$$p" master "$OVL_BR" && ip link set "vto$h$$p" up &&
			ip link set "vto$h$$" up
		OVL_HOSTS+=("$h")
	done
	trap 'rc=$?; ip link del "$OVL_BR" 2>/dev/null; for h in "${OVL_HOSTS[@]}"; do ip link del "vto$h$$" 2>/dev/null; done; (exit $rc); t_cleanup' EXIT
}

host_conf() {  # H IP PORTS_YAML
	local h=$1 ip=$2 ports=$3
	config_head "$WORK/$h.sock" "$h"
	cat <<EOC
uplinks: [{name: up0, device: "net_af_packet_$h,iface=vto$h$$"}]
networks: [{name: blue, vni: 5001}, {name: red, vni: 5002}]
overlay: {local_ip: $ip/24, uplink: up0}
cluster: {etcd: [$(tr , '\n' <<<"$ETCD_ENDPOINTS" | sed 's/.*/"&"/' | paste -sd, -)], host: host-$h, ttl: ${OVL_TTL}s}
vms:
$ports
EOC
}

vmport() {  # NAME MAC NETWORK [EXTRA]
	printf '  - name: %s\n    ports: [{name: %s.0, socket: %s, mac: "%s", network: %s%s}]\n' \
		"$1" "$1" "$WORK/$1.vsock" "$2" "$3" "${4:-}"
}

start_host() {  # H
	local try
	for try in 1 2; do
		if CTL_SOCK=$WORK/$1.sock vtoed_start "$WORK/$1.yaml" "$WORK/vtoed-$1.log" "${OVL_SECS:-600}"; then
			eval "PID_$1=$VTOED_PID TPID_$1=$VTOED_TPID"
			return 0
		fi
		# DPDK 22.11's af_packet numbers its fanout group pid ^ ifindex:
		# another host's vtoed, started just before on the next veth,
		# can hold that number on another interface (EINVAL).  A new
		# process is a new number.
		grep -q 'could not set PACKET_FANOUT' "$WORK/vtoed-$1.log" || return 1
		log "host $1: its af_packet fanout group number was taken; starting it again"
	done
	return 1
}

stop_host() {  # H [SIGNAL]
	local pid tpid
	eval "pid=\$PID_$1 tpid=\$TPID_$1"
	CTL_SOCK=$WORK/$1.sock VTOED_PID=$pid VTOED_TPID=$tpid vtoed_stop "${2:-TERM}"
}

ovl_json() { "$VTOECTL" --socket "$WORK/$1.sock" --json cluster 2>/dev/null | jq '.result // .'; }
sees() {
	ovl_json "$1" | jq -e --arg o "host-$2" --argjson v "$3" --arg m "$4" \
		'.remotes | any(.host == $o and .vni == $v and .mac == $m)' >/dev/null
}
sees_none() {
	ovl_json "$1" | jq -e --arg o "host-$2" '.remotes | all(.host != $o)' >/dev/null
}
dir_field() { ovl_json "$1" | jq -r ".directory | $2"; }
watching() { [ "$(dir_field "$1" .state)" = watching ] && [ "$(dir_field "$1" .stale)" = false ]; }
