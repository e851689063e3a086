#!/bin/bash
# SPDX-License-Identifier: BSD-3-Clause
# migrate_bench.sh - live-migration downtime through vtoed vs Open vSwitch
# with DPDK, same guests, alternating rounds, in both vhost-user modes.
#
#   benchmarks/migrate_bench.sh [--rounds N] [--migrations K] [--modes LIST]
#                               [--interval S] [--out FILE]
#
# Each round runs tests/integration/test_migrate.sh once per system and
# mode (order alternating between rounds): guest A migrates K times between
# QEMU processes while A and B stream md5-checked TCP both ways.
#   server: vtoed `mode: server`      vs OVS dpdkvhostuser ports
#   client: vtoed `mode: client` with `vtoectl migrate PORT --to SOCK`
#           vs OVS dpdkvhostuserclient, a second port added for the
#           destination's socket before the migration, the source's deleted
#           after (bridge action NORMAL: the MAC moves when the guest
#           announces itself).
# Downtime is measured from outside the migrating guest: guest B pings A
# every --interval seconds (default 0.01); a migration's downtime is the
# longest run of unanswered pings around it times the interval (the K
# longest runs of the whole run, one per migration; a migration that left
# no run of 2 or more unanswered pings counts as 2 intervals, its upper
# bound).  QEMU's own downtime (query-migrate) is recorded beside it.  A run
# that fails is retried once.  --summary FILE only prints the table of an
# earlier run's results file.
#
# Defaults: 5 rounds, 3 migrations, modes server,client.  Needs root,
# qemu-system-x86, openvswitch-switch-dpdk; takes ~90 s per run.
set -u -o pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
ROUNDS=5 MIGS=3 MODES=server,client INTERVAL=0.01 OUT= SUMMARY=
while [ $# -gt 0 ]; do
	case $1 in
	--rounds) ROUNDS=$2; shift ;;
	--migrations) MIGS=$2; shift ;;
	--modes) MODES=$2; shift ;;
	--interval) INTERVAL=$2; shift ;;
	--out) OUT=$2; shift ;;
	--summary) SUMMARY=$2; shift ;;
	-h | --help) sed -n '3,25p' "$0"; exit 0 ;;
	*) echo "migrate_bench.sh: unknown option $1" >&2; exit 2 ;;
	esac
	shift
done
if [ -n "$SUMMARY" ]; then
	RES=$SUMMARY ROUNDS=0
else
	[ "$(id -u)" = 0 ] || { echo "migrate_bench.sh: run as root" >&2; exit 2; }
	RES=$(mktemp /tmp/migrate-bench.XXXXXX)
	echo "# results (one RESULT line per run) in $RES"
fi

run_one() {  # SYSTEM MODE ROUND
	local sys=$1 mode=$2 r=$3 try line
	for try in 1 2; do
		echo "+ VTOE_IT_BACKEND=$sys VTOE_MIGRATIONS=$MIGS VTOE_MIG_ABORT=0 VTOE_MIG_PINGI=$INTERVAL tests/integration/test_migrate.sh $mode"
		line=$(cd "$ROOT" && VTOE_IT_BACKEND=$sys VTOE_MIGRATIONS=$MIGS VTOE_MIG_ABORT=0 \
			VTOE_MIG_PINGI=$INTERVAL timeout -k 10 900 tests/integration/test_migrate.sh "$mode" 2>/dev/null |
			grep '^RESULT ' | tail -1)
		if [ -n "$line" ] && ! grep -q 'outside_gaps_ms= *$' <<<"$line"; then
			echo "round=$r $line" | tee -a "$RES"
			return 0
		fi
		echo "  (run failed, try $try)"
	done
}

for r in $(seq 1 "$ROUNDS"); do  # (none with --summary)
	for mode in ${MODES//,/ }; do
		if [ $((r % 2)) = 1 ]; then order="vtoed ovs"; else order="ovs vtoed"; fi
		for sys in $order; do run_one "$sys" "$mode" "$r"; done
	done
done

# median of a comma/space list
median() { tr ', ' '\n\n' | grep -v '^$' | sort -n | awk '{ a[NR] = $1 } END {
	if (NR == 0) { print "-"; exit }
	print (NR % 2) ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2 }'; }
field() { sed -n "s/.* $1=\([^ ]*\).*/\1/p"; }
# each run's list padded to its migrations with 2 intervals (see above)
pad() { awk -F, -v k="$MIGS" -v b="$(awk -v i="$INTERVAL" 'BEGIN { print 2 * i * 1000 }')" '{
	n = ($0 == "") ? 0 : NF; line = $0
	for (j = n; j < k; j++) line = line (line == "" ? "" : ",") b
	print line }'; }

{
	echo
	echo "migrate_bench: ${SUMMARY:+results of $SUMMARY, }$(grep -c . "$RES") runs x $MIGS migrations, pings every ${INTERVAL}s"
	printf '%-7s %-6s %12s %12s %6s\n' mode system outside_ms qemu_ms runs
	for mode in ${MODES//,/ }; do
		for sys in vtoed ovs; do
			sel=$(grep "backend=$sys mode=$mode " "$RES")
			o=$(field outside_gaps_ms <<<"$sel" | pad | tr '\n' ',' | median)
			q=$(field qemu_downtime_ms <<<"$sel" | tr '\n' ',' | median)
			printf '%-7s %-6s %12s %12s %6s\n' "$mode" "$sys" "$o" "$q" "$(grep -c . <<<"$sel")"
			eval "O_${sys}_$mode=$o"
		done
		vo=$(eval echo "\$O_vtoed_$mode") oo=$(eval echo "\$O_ovs_$mode")
		awk -v a="$vo" -v b="$oo" -v m="$mode" 'BEGIN { if (b > 0 && a != "-")
			printf "%s: vtoed/ovs downtime seen from outside = %.2f\n", m, a / b }'
	done
	echo
	echo "per run:"
	cat "$RES"
} | tee ${OUT:+"$OUT"}
