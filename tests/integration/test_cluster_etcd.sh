#!/bin/bash
# SPDX-License-Identifier: BSD-3-Clause
# test_cluster_etcd.sh - the cluster directory (src/cluster) against real
# etcd: runs tests/unit/test_cluster_etcd, which starts, kills, hangs and
# restarts its own etcd members on loopback, and records its timings.
#
#   test_cluster_etcd (one process, epoll on cluster_fd)
#     host A --+                                  +-- m0 --+
#              +-- v3 JSON gateway (libcurl) -->  +-- m1 --+  etcd, 3 members,
#     host B --+   each its own endpoint order    +-- m2 --+  127.0.0.1, free
#     host C (a child process, SIGKILLed:                     ports, data in
#             its lease expires after the TTL)                /tmp/vtoe-cl-etcd.*
#
# Checked (one PASS/FAIL per case): publish/withdraw seen by the other
# host within 1 s and a destroy's revoke; a killed member (A's) and a hung
# one (B's, SIGSTOP); a dead host's ports gone after the TTL; a
# whole-cluster outage (stale, table kept, resync on return, entries
# published meanwhile seen).  Needs /usr/bin/etcd (package etcd-server),
# no root.  VTOE_KEEP=1 keeps etcd's data and logs.
source "$(dirname "$0")/lib/common.sh"

EXE=$VTOE_BUILD/tests/unit/test_cluster_etcd
[ -x /usr/bin/etcd ] || skip_all "/usr/bin/etcd missing (package etcd-server)"
need_binaries "$EXE"

OUT=$WORK/cluster_etcd.out
log "running $EXE (about 15 s)"
timeout -k 5 120 "$EXE" >"$OUT" 2>&1; rc=$?
[ $rc = 77 ] && skip_all "$(grep -m1 '^SKIP' "$OUT")"

# the timings it measured, for the record
grep -E '^  |^etcd:' "$OUT" | while IFS= read -r line; do log "${line#  }"; done

# one line per case, as cmocka reports it
declare -A seen
while IFS= read -r line; do
	case $line in
	'[       OK ] test_'*)
		t=${line#*] }; seen[$t]=1; pass "$t" ;;
	'[  FAILED  ] test_'*)
		t=${line#*] }
		[ -n "${seen[$t]:-}" ] && continue
		seen[$t]=1
		fail "$t: $(grep -B3 -m1 "FAILED  \] $t\$" "$OUT" | grep -m1 -E 'ERROR|error' || echo see log)" ;;
	esac
done <"$OUT"
check "test_cluster_etcd exits 0 (got $rc$([ $rc = 124 ] && echo ': timed out'))" test $rc = 0
[ "$T_FAIL" -gt 0 ] && { log "its output:"; tail -60 "$OUT" >&2; }
t_finish
