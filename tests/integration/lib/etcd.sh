# SPDX-License-Identifier: BSD-3-Clause
# A real etcd cluster on loopback for the cluster directory's tests
# (Debian's etcd-server).  Sourced after common.sh.
#
#   etcd_cluster_start N BASE   N members; member i (1..N) serves clients on
#                               127.0.0.1:BASE+i and peers on BASE+100+i,
#                               data in $WORK/etcd-i; ETCD_ENDPOINTS is set
#   etcd_member_kill I          kill -9 member I
#   etcd_member_start I         start member I again (same data dir)
#   etcd_healthy [ENDPOINTS]    every given endpoint answers
ETCD=${ETCD:-/usr/bin/etcd}
ETCDCTL=${ETCDCTL:-/usr/bin/etcdctl}

etcd_available() { [ -x "$ETCD" ] && [ -x "$ETCDCTL" ]; }

_etcd_url() { echo "http://127.0.0.1:$(( ETCD_BASE + $1 ))"; }
_etcd_peer() { echo "http://127.0.0.1:$(( ETCD_BASE + 100 + $1 ))"; }

etcd_member_start() {  # I
	local i=$1 state=${2:-existing}
	"$ETCD" --name "m$i" --data-dir "$WORK/etcd-$i" \
		--listen-client-urls "$(_etcd_url "$i")" --advertise-client-urls "$(_etcd_url "$i")" \
		--listen-peer-urls "$(_etcd_peer "$i")" --initial-advertise-peer-urls "$(_etcd_peer "$i")" \
		--initial-cluster "$ETCD_INITIAL" --initial-cluster-state "$state" \
		--initial-cluster-token "vtoe-$$" --heartbeat-interval 50 --election-timeout 500 \
		--logger zap --log-level error </dev/null >>"$WORK/etcd-$i.log" 2>&1 &
	eval "ETCD_PID_$i=$!"
	track "$!"
}

etcd_member_kill() {  # I
	local pid; eval "pid=\${ETCD_PID_$1:-}"
	[ -n "$pid" ] && { kill -KILL "$pid" 2>/dev/null; wait "$pid" 2>/dev/null; }
	return 0
}

etcd_healthy() {  # [ENDPOINTS]
	ETCDCTL_API=3 timeout 5 "$ETCDCTL" --endpoints "${1:-$ETCD_ENDPOINTS}" \
		--dial-timeout 1s --command-timeout 2s endpoint health >/dev/null 2>&1
}

etcd_cluster_start() {  # N BASE
	local n=$1 i
	ETCD_BASE=$2 ETCD_INITIAL= ETCD_ENDPOINTS= ETCD_N=$n
	for i in $(seq 1 "$n"); do
		ETCD_INITIAL="$ETCD_INITIAL${ETCD_INITIAL:+,}m$i=$(_etcd_peer "$i")"
		ETCD_ENDPOINTS="$ETCD_ENDPOINTS${ETCD_ENDPOINTS:+,}$(_etcd_url "$i")"
	done
	for i in $(seq 1 "$n"); do
		rm -rf "$WORK/etcd-$i"
		etcd_member_start "$i" new
	done
	wait_for 30 etcd_healthy
}

# etcd_get PREFIX: keys under PREFIX, one per line
etcd_keys() {
	ETCDCTL_API=3 timeout 5 "$ETCDCTL" --endpoints "$ETCD_ENDPOINTS" \
		--dial-timeout 1s get --prefix --keys-only "$1" 2>/dev/null | grep -v '^$'
}
