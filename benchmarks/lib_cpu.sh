# SPDX-License-Identifier: BSD-3-Clause
# lib_cpu.sh - who else used the CPUs during a measurement window (sourced by
# the benchmark scripts).  The box may be shared: a window in which other
# processes were busy is marked, retried or waited out by the caller.

# cpu_snapshot: "BUSY STEAL OURS NS": busy ticks (USER_HZ) of the whole
# machine, steal ticks, ticks of this script's process tree, and the time.
cpu_snapshot() {
	local u n s irq sirq st ours
	read -r _ u n s _ _ irq sirq st _ </proc/stat
	ours=$(cat /proc/[0-9]*/stat 2>/dev/null | awk -v root="$$" '
		{ i = 0; for (k = length($0); k > 0; k--) if (substr($0, k, 1) == ")") { i = k; break }
		  pid = $1; split(substr($0, i + 2), f, " ");
		  ppid[pid] = f[2]; t[pid] = f[12] + f[13] }
		END { s = 0
		      for (p in t) { q = p; for (d = 0; d < 64 && q != "" && q != 0 && q != 1; d++) {
		                         if (q == root) { s += t[p]; break } q = ppid[q] } }
		      print s }')
	echo "$((u + n + s + irq + sirq)) $st $ours $(date +%s%N)"
}

# foreign_pct SNAP0 SNAP1 -> "FOREIGN% STEAL%": busy time not ours, and
# steal, in percent of one CPU over the time between the snapshots.
foreign_pct() {
	local b0 s0 o0 t0 b1 s1 o1 t1
	read -r b0 s0 o0 t0 <<<"$1"; read -r b1 s1 o1 t1 <<<"$2"
	awk -v b=$((b1 - b0)) -v s=$((s1 - s0)) -v o=$((o1 - o0)) -v t=$(( (t1 - t0) / 1000000 )) -v hz="$(getconf CLK_TCK)" \
		'BEGIN { if (t <= 0) t = 1; f = (b - o) / hz / (t / 1000) * 100; if (f < 0) f = 0
		         printf "%.1f %.1f\n", f, s / hz / (t / 1000) * 100 }'
}
