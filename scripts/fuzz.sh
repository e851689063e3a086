#!/bin/bash
# SPDX-License-Identifier: BSD-3-Clause
# fuzz.sh - build and run the libFuzzer targets of tests/fuzz (ASan + UBSan).
#
#   scripts/fuzz.sh [--build DIR] [--time SECONDS] [--jobs N] [--merge] [TARGET...]
#
# Configures DIR (default build-fuzz/) with clang, -Dfuzz=true and the
# sanitizers if it is not yet, builds only the fuzz targets, then runs each
# TARGET (default: all) for SECONDS (default 60) on a scratch copy of
# tests/fuzz/corpus/TARGET, one line per target:
#   fuzz TARGET: N execs, E exec/s, C corpus, crashes K
# Crash artifacts and logs stay in the work directory it names.  --jobs N
# runs N fuzzing processes per target (libFuzzer -fork).  --merge adds the
# new interesting inputs to tests/fuzz/corpus (maintainers).  Exit status
# non-zero if a target crashed or did not run.  No network.
set -u -o pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
BUILD=$ROOT/build-fuzz TIME=60 JOBS=1 MERGE=0 TARGETS=()
while [ $# -gt 0 ]; do
	case $1 in
	--build) BUILD=$(realpath -m "$2"); shift ;;
	--time) TIME=$2; shift ;;
	--jobs) JOBS=$2; shift ;;
	--merge) MERGE=1 ;;
	-h | --help) sed -n '3,15p' "$0"; exit 0 ;;
	-*) echo "fuzz.sh: unknown option $1" >&2; exit 2 ;;
	*) TARGETS+=("$1") ;;
	esac
	shift
done
CORPUS=$ROOT/tests/fuzz/corpus
if [ ${#TARGETS[@]} -eq 0 ]; then
	for d in "$CORPUS"/*/; do TARGETS+=("$(basename "$d")"); done
fi

if [ ! -f "$BUILD/build.ninja" ]; then
	CC=clang meson setup "$BUILD" "$ROOT" -Dfuzz=true -Dtests=disabled \
		-Db_sanitize=address,undefined -Db_lundef=false \
		-Dbuildtype=debugoptimized >"${TMPDIR:-/tmp}/vtoe-fuzz-setup.log" 2>&1 || {
		echo "fuzz.sh: meson setup failed, see ${TMPDIR:-/tmp}/vtoe-fuzz-setup.log" >&2; exit 1; }
fi
ninja -C "$BUILD" -j2 fuzz >/dev/null || { echo "fuzz.sh: build failed" >&2; exit 1; }

WORK=$(mktemp -d /tmp/vtoe-fuzz.XXXXXX)
echo "fuzz.sh: work directory $WORK (crash artifacts, logs)"
# Stop at the first report; leaks are reports too.
export ASAN_OPTIONS=${ASAN_OPTIONS:-abort_on_error=1:detect_leaks=1:symbolize=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-halt_on_error=1:print_stacktrace=1}
FAILED=0
for t in "${TARGETS[@]}"; do
	exe=$BUILD/tests/fuzz/fuzz_$t
	if [ ! -x "$exe" ] || [ ! -d "$CORPUS/$t" ]; then
		echo "fuzz $t: no such target"; FAILED=1; continue
	fi
	mkdir -p "$WORK/$t/corpus" "$WORK/$t/crashes"
	cp "$CORPUS/$t"/* "$WORK/$t/corpus/"
	args=(-max_total_time="$TIME" -print_final_stats=1 -timeout=60
	      -rss_limit_mb=3072 -max_len=70000
	      -artifact_prefix="$WORK/$t/crashes/")
	[ -f "$ROOT/tests/fuzz/$t.dict" ] && args+=(-dict="$ROOT/tests/fuzz/$t.dict")
	[ "$JOBS" -gt 1 ] && args+=(-fork="$JOBS" -ignore_crashes=1)
	# -timeout: one input slower than that is a hang (60 s: the machine is
	# shared).  libFuzzer's own bound is max_total_time; this one catches a hang in
	# start-up or a target that ignores it.
	(cd "$WORK/$t" && timeout -k 10 $((TIME + 120)) "$exe" "${args[@]}" \
		"$WORK/$t/corpus" >"$WORK/$t/log" 2>&1)
	rc=$?
	execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$WORK/$t/log" | tail -1)
	rate=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$WORK/$t/log" | tail -1)
	crashes=$(find "$WORK/$t/crashes" -type f | wc -l)
	ncorpus=$(find "$WORK/$t/corpus" -type f | wc -l)
	echo "fuzz $t: ${execs:-0} execs, ${rate:-0} exec/s, $ncorpus corpus, crashes $crashes"
	if [ $rc -ne 0 ] || [ "$crashes" -gt 0 ] || [ -z "$execs" ]; then
		FAILED=1
		echo "  failed (exit $rc): $WORK/$t/log"
		grep -m3 -E '^==[0-9]+==ERROR|runtime error|invariant broken' "$WORK/$t/log" | sed 's/^/  /'
		ls "$WORK/$t/crashes" 2>/dev/null | sed "s|^|  artifact: $WORK/$t/crashes/|"
	fi
	if [ $MERGE = 1 ]; then
		"$exe" -merge=1 -max_len=70000 -artifact_prefix="$WORK/$t/crashes/" \
			"$CORPUS/$t" "$WORK/$t/corpus" >"$WORK/$t/merge.log" 2>&1 ||
			{ echo "  merge failed: $WORK/$t/merge.log"; FAILED=1; }
	fi
done
exit $FAILED
