#!/bin/bash
# SPDX-License-Identifier: BSD-3-Clause
# test.sh - every test of vtoe, in order, on this machine (what CI runs).
#
#   1. scripts/setup.sh --werror --asan --fuzz --guest-kernel
#   2. unit tests (cmocka; "eal" ones on --no-huge): meson test -C build --suite unit --suite eal
#   3. the same under ASan + UBSan:         meson test -C build-asan --suite unit
#   3b. fuzz: each libFuzzer target of tests/fuzz for VTOE_FUZZ_TIME seconds
#      (scripts/fuzz.sh, build-fuzz/; not with --unit-only)
#   4. integration tests (root, hugepages, real peers), each bounded in time:
#        test_badinput.sh       bad configs, hostile control requests, runt frames
#        test_sigterm.sh        clean stop on SIGTERM/SIGINT, restart after SIGKILL
#        test_testpmd.sh        frame accounting with dpdk-testpmd guests
#        test_guests.sh server  two QEMU/TCG Linux guests, vtoed as vhost-user server
#        test_guests.sh client  QEMU as server, vtoed restarted under running guests
#        test_migrate.sh server|client  live migrations of a guest under TCP both ways
#        test_reload.sh         VM ports added, changed, removed by reload under traffic
#        any other tests/integration/test_*.sh (without arguments), among
#        them test_capture.sh (pcapng read back by tshark) and
#        test_faults_*.sh (kills, an exhausted pool, a frozen receiver)
#      then the daemon-facing ones listed below again with vtoed built with
#      ASan + UBSan (build-asan/).
#
# Every unit test and every integration script counts as one test.  The last
# line is "N passed, N failed" (", N skipped" when some did not run); the
# exit status is non-zero if anything failed.
#
#   scripts/test.sh [--no-setup] [--unit-only]
#   env: VTOE_TEST_TIMEOUT (seconds per integration script, default 600),
#        VTOE_FUZZ_TIME (seconds per fuzz target, default 10)
set -u -o pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT" || exit 1
SETUP=1 INTEGRATION=1
for a in "$@"; do
	case $a in
	--no-setup) SETUP=0 ;;
	--unit-only) INTEGRATION=0 ;;
	-h | --help) sed -n '3,27p' "$0"; exit 0 ;;
	*) echo "test.sh: unknown option $a" >&2; exit 2 ;;
	esac
done
PER_TEST=${VTOE_TEST_TIMEOUT:-600}
PASSED=0 FAILED=0 SKIPPED=0
FAILURES=()
T0=$(date +%s)

banner() { echo; echo "=================== $* ($(date +%T))"; }
record() {  # record pass|fail|skip NAME [SECONDS]
	local what=$1 name=$2 secs=${3:-}
	case $what in
	pass) PASSED=$((PASSED + 1)); echo "PASS: $name${secs:+ (${secs}s)}" ;;
	fail) FAILED=$((FAILED + 1)); FAILURES+=("$name"); echo "FAIL: $name${secs:+ (${secs}s)}" ;;
	skip) SKIPPED=$((SKIPPED + 1)); echo "SKIP: $name${secs:+ (${secs}s)}" ;;
	esac
}
summary() {
	local total=$(( $(date +%s) - T0 ))
	echo
	echo "=================== summary ($((total / 60))m$((total % 60))s)"
	[ ${#FAILURES[@]} -gt 0 ] && printf 'failed: %s\n' "${FAILURES[@]}"
	if [ $SKIPPED -gt 0 ]; then
		echo "$PASSED passed, $FAILED failed, $SKIPPED skipped"
	else
		echo "$PASSED passed, $FAILED failed"
	fi
	[ $FAILED -eq 0 ]
	exit
}

# ------------------------------------------------------------------- setup
if [ $SETUP = 1 ]; then
	banner "setup"
	s=$(date +%s)
	if scripts/setup.sh --werror --asan --fuzz --guest-kernel; then
		record pass "setup (packages, -Dwerror build, ASan build, hugepages)" $(( $(date +%s) - s ))
	else
		record fail "setup (packages, -Dwerror build, ASan build, hugepages)" $(( $(date +%s) - s ))
		summary                                     # nothing to test without a build
	fi
fi

# ------------------------------------------------------------------- unit
# unit_suite BUILD_DIR LABEL: one recorded test per meson test.
unit_suite() {
	local dir=$1 label=$2 log=$1/meson-logs/testlog.json name res secs
	banner "unit tests: $label ($dir)"
	if [ ! -f "$dir/build.ninja" ]; then
		record fail "$label: $dir is not configured (run scripts/setup.sh --asan)"
		return
	fi
	rm -f "$log"
	UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1} \
	ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=0} \
		timeout -k 10 600 meson test -C "$dir" --suite unit --suite eal --print-errorlogs
	if [ ! -s "$log" ]; then
		record fail "$label: meson test produced no results"
		return
	fi
	while IFS=$'\t' read -r name res secs; do
		case $res in
		OK | EXPECTEDFAIL) record pass "$label: $name" "$secs" ;;
		SKIP) record skip "$label: $name" "$secs" ;;
		*) record fail "$label: $name ($res)" "$secs" ;;
		esac
	done < <(jq -r '[.name, .result, (.duration | floor | tostring)] | @tsv' "$log")
}
unit_suite build unit
unit_suite build-asan "unit (asan+ubsan)"

# ------------------------------------------------------------------- fuzz
# One recorded test per target: its corpus, then VTOE_FUZZ_TIME seconds of
# new inputs; a crash fails it (the artifact's path is printed).
if [ $INTEGRATION = 1 ]; then
	FUZZ_TIME=${VTOE_FUZZ_TIME:-10}
	banner "fuzz: ${FUZZ_TIME}s per target (build-fuzz)"
	for d in tests/fuzz/corpus/*/; do
		t=$(basename "$d") s=$(date +%s)
		if out=$(scripts/fuzz.sh --time "$FUZZ_TIME" "$t" 2>&1); then
			grep "^fuzz $t:" <<<"$out"
			record pass "fuzz: $t" $(( $(date +%s) - s ))
		else
			echo "$out"
			record fail "fuzz: $t" $(( $(date +%s) - s ))
		fi
	done
fi

# ------------------------------------------------------------ integration
if [ $INTEGRATION = 1 ]; then
	# BUILD_DIR:SCRIPT [ARG]; the second group reruns the daemon-facing
	# tests with vtoed built with ASan + UBSan (any report fails the test).
	INTEGRATION_TESTS=(
		"build:test_badinput.sh"
		"build:test_sigterm.sh"
		"build:test_testpmd.sh"
		"build:test_guests.sh server"
		"build:test_guests.sh client"
		"build:test_migrate.sh server"
		"build:test_migrate.sh client"
	)
	# any other tests/integration/test_*.sh runs next, without arguments
	for f in tests/integration/test_*.sh; do
		case " ${INTEGRATION_TESTS[*]} " in *":${f##*/}"*) continue ;; esac
		INTEGRATION_TESTS+=("build:${f##*/}")
	done
	INTEGRATION_TESTS+=(
		"build-asan:test_badinput.sh"
		"build-asan:test_sigterm.sh"
		"build-asan:test_testpmd.sh"
		"build-asan:test_guests.sh client"
		"build-asan:test_membership.sh"
		"build-asan:test_multiworker.sh"
		"build-asan:test_direct.sh"
		# (test_tso's GSO and GRO run under ASan in the toe fuzz target)
		"build-asan:test_owner.sh"
		"build-asan:test_reload.sh"
		"build-asan:test_toe_netns.sh"
		# the overlay's session with etcd, and its tunnel with shared
		# segments and the NIC's inner checksums
		"build-asan:test_cluster_etcd.sh"
		"build-asan:test_overlay_csum.sh"
	)
	for entry in "${INTEGRATION_TESTS[@]}"; do
		dir=${entry%%:*} t=${entry#*:} suffix=
		[ "$dir" = build ] || suffix=" ($dir)"
		banner "integration: $t$suffix"
		s=$(date +%s)
		# shellcheck disable=SC2086 # "script arg" splits on purpose
		VTOE_BUILD=$ROOT/$dir T_SUFFIX=${suffix:+-asan} \
		UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1} \
			timeout -k 15 "$PER_TEST" tests/integration/$t
		rc=$?
		secs=$(( $(date +%s) - s ))
		case $rc in
		0) record pass "integration: $t$suffix" $secs ;;
		77) record skip "integration: $t$suffix (see its SKIP line)" $secs ;;
		124 | 137) record fail "integration: $t$suffix (timed out after ${PER_TEST}s)" $secs ;;
		*) record fail "integration: $t$suffix (exit $rc)" $secs ;;
		esac
	done
fi
summary
