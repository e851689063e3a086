#!/bin/bash
# SPDX-License-Identifier: BSD-3-Clause
# run-demo.sh - vtoe end to end on this machine, in about a minute:
# two real Linux guests talk to each other through vtoed.
#
#     guest vm1 10.0.0.1                       guest vm2 10.0.0.2
#     ping, TCP echo client                    TCP echo server
#     virtio-net 52:54:00:00:01:01             virtio-net 52:54:00:00:02:01
#           |                                        |
#           | vhost-user /run/vtoe/vm1.0.sock        | vhost-user /run/vtoe/vm2.0.sock
#     +-----v----------------------------------------v------+
#     |  vtoed --config config/vtoed.yaml                    |
#     |  main lcore CPU 0, worker lcore CPU 1                |
#     +------------------------------------------------------+
#     control: vtoectl --socket /run/vtoe/vtoed.sock
#
# Steps: scripts/setup.sh (packages, build, hugepages, guest kernel), start
# vtoed on the default config, boot both guests under QEMU/TCG (no KVM
# needed), vm1 pings vm2 and echoes 1 MiB of random data over TCP (md5
# checked), show `vtoectl ports`, `stats` and `membership`, stop everything.
# Exit 0 when the guests talked.  Runs as root (hugepages, /run/vtoe).
#
#   scripts/run-demo.sh [--no-setup] [--config FILE]
set -u -o pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
CONFIG=$ROOT/config/vtoed.yaml
SETUP=1
while [ $# -gt 0 ]; do
	case $1 in
	--no-setup) SETUP=0 ;;
	--config) CONFIG=$2; shift ;;
	-h | --help) sed -n '3,22p' "$0"; exit 0 ;;
	*) echo "run-demo.sh: unknown option $1" >&2; exit 2 ;;
	esac
	shift
done
DEMO_TIMEOUT=${VTOE_DEMO_TIMEOUT:-300}
step() { echo; echo "==> $*"; }

if [ "$(id -u)" != 0 ]; then
	echo "run-demo.sh: run as root (hugepages, /run/vtoe, QEMU)" >&2
	exit 1
fi
if [ $SETUP = 1 ]; then
	step "setup (packages, build into build/, hugepages, guest kernel)"
	"$ROOT/scripts/setup.sh" --guest-kernel || { echo "run-demo.sh: setup failed" >&2; exit 1; }
fi

source "$ROOT/tests/integration/lib/common.sh"
source "$ROOT/tests/integration/lib/guest.sh"
need_binaries "$VTOED" "$VTOECTL"

# The control socket comes from the config's control block (block or flow
# style); the ports, once vtoed runs, from `vtoectl --json ports`.
CTL_SOCK=$(awk '/^control:/ { c = 1; if (match($0, /socket: *[^,} ]+/)) { s = substr($0, RSTART, RLENGTH); sub(/socket: */, "", s); print s; exit } next }
	c && /^[^ #]/ { c = 0 } c && /^ +socket:/ { print $2; exit }' "$CONFIG" | tr -d '"')
CTL_SOCK=${CTL_SOCK:-/run/vtoe/vtoed.sock}

step "checking $CONFIG"
"$VTOED" --check-config "$CONFIG" || die "config refused"
if "$VTOECTL" --socket "$CTL_SOCK" version >/dev/null 2>&1; then
	die "a vtoed is already serving $CTL_SOCK; stop it first (systemctl stop vtoed?)"
fi

step "starting vtoed (log: $WORK/vtoed.log)"
# The sockets' directories, as the systemd unit's RuntimeDirectory=vtoe
# would create them (config/vtoed.service).
for d in $(sed -n 's/.*socket: *"\{0,1\}\(\/[^",} ]*\).*/\1/p' "$CONFIG" | xargs -rn1 dirname | sort -u); do
	[ -d "$d" ] || { mkdir -p "$d"; echo "created $d"; }
done
VLOG=$WORK/vtoed.log
vtoed_start "$CONFIG" "$VLOG" "$DEMO_TIMEOUT" || { dump_log "$VLOG" 30; die "vtoed did not start"; }
mapfile -t SOCKS < <(ctl --json ports | jq -r '[.[] | select(.kind == "vhost" and .mode == "server")][:2][] | .socket')
mapfile -t MACS < <(ctl --json ports | jq -r '[.[] | select(.kind == "vhost" and .mode == "server")][:2][] | .mac')
[ ${#SOCKS[@]} = 2 ] || die "$CONFIG needs two vhost ports in server mode (found ${#SOCKS[@]})"
wait_for 10 test -S "${SOCKS[0]}" -a -S "${SOCKS[1]}" || die "vtoed did not create ${SOCKS[*]}"
echo "vtoed pid $VTOED_PID is serving ${SOCKS[0]} and ${SOCKS[1]}"

step "booting two guests under QEMU/TCG (kernel from $VTOE_CACHE)"
guest_prepare
guest_start vm2 "${SOCKS[1]}" "${MACS[1]}" 0 "$DEMO_TIMEOUT" e2e.ip=10.0.0.2 e2e.role=server
guest_start vm1 "${SOCKS[0]}" "${MACS[0]}" 0 "$DEMO_TIMEOUT" \
	e2e.ip=10.0.0.1 e2e.peer=10.0.0.2 e2e.role=client e2e.kb=1024 e2e.linger=60
echo "vm1 ${MACS[0]} 10.0.0.1 on ${SOCKS[0]}; vm2 ${MACS[1]} 10.0.0.2 on ${SOCKS[1]}"
echo "waiting for vm1 to ping vm2 and echo 1 MiB over TCP (about 15 s)..."
guest_wait vm1 '^E2E RESULT' 200 || log "vm1 gave no result in 200 s"
guest_log vm1 | sed 's/^E2E /  vm1: /'
guest_log vm2 | sed 's/^E2E /  vm2: /'
check "vm1 pinged vm2 through vtoed" guest_has vm1 '^E2E PING OK'
check "vm1 echoed 1 MiB through vm2, md5 equal" guest_has vm1 '^E2E TCP OK'

step "vtoectl ports"
ctl ports
step "vtoectl stats"
ctl stats
step "vtoectl membership"
ctl membership

step "stopping guests and vtoed"
guest_stop vm1; guest_stop vm2
vtoed_stop TERM; rc=$?
check "vtoed exited 0 on SIGTERM (got $rc)" test $rc = 0
check "vtoed removed its sockets" test ! -e "${SOCKS[0]}" -a ! -e "${SOCKS[1]}" -a ! -e "$CTL_SOCK"
[ "$T_FAIL" -gt 0 ] && { guest_show vm1; guest_show vm2; dump_log "$VLOG" 30; }
echo
if [ "$T_FAIL" = 0 ]; then echo "DEMO OK: the two guests talked through vtoed"; else echo "DEMO FAILED"; fi
t_finish
