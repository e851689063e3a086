#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
"""stalls.py - tell a vtoed worker's own stalls from time the kernel took.

    stalls.py [--window FROM_NS TO_NS] TID PERF_SCRIPT LONG_LOOPS_JSON...

TID: the worker thread (vtoectl --json lcores: .tid).  PERF_SCRIPT: the
output of `perf script --ns -F tid,time,event,trace` over a recording made
on the worker's CPU with `-k CLOCK_MONOTONIC` of sched:sched_switch and,
optionally, the interrupt tracepoints (irq_vectors:*_entry/_exit,
irq:irq_handler_*, irq:softirq_entry/exit), exceptions:page_fault_user and
tlb:tlb_flush.  LONG_LOOPS_JSON: files each holding a worker's
long_loops_ns (a list of [end_ns, ns], CLOCK_MONOTONIC) read during the
recording.

For every long loop iteration, the time the worker was switched out and
the time its CPU spent in interrupts and softirqs inside it are taken
out: what is left is the worker's own stall (its code, a lock, a page
fault, or a hypervisor that took the CPU, which the guest kernel cannot
see).  Prints one line of JSON: how many long iterations, how many were
preempted or interrupted, the own-stall distribution, and for the five
longest own stalls what happened inside them.  --window keeps the
iterations that ended in [FROM_NS, TO_NS).
"""
import json
import re
import sys

BUCKETS_US = [100, 250, 500, 1000, 2000, 5000]
LINE = re.compile(r'^\s*(\d+)\s+(\d+)\.(\d{9}):\s+([\w:]+):\s?(.*)$')
SWITCH = re.compile(r'prev_pid=(\d+).*==>.*next_pid=(\d+)')


def parse(tid, path):
    """Intervals the worker lost (switched out; interrupts and softirqs
    while it was the current task), and point events (faults, flushes)."""
    lost, points = [], []
    out, irq, n = None, {}, 0
    with open(path) as f:
        for line in f:
            m = LINE.match(line)
            if not m:
                continue
            cur = int(m.group(1))
            t = int(m.group(2)) * 1000000000 + int(m.group(3))
            ev, rest = m.group(4), m.group(5)
            n += 1
            if ev == "sched:sched_switch":
                s = SWITCH.search(rest)
                if not s:
                    continue
                if int(s.group(1)) == tid and out is None:
                    out = t
                elif int(s.group(2)) == tid and out is not None:
                    lost.append((out, t, "switched_out"))
                    out = None
            elif cur != tid:
                continue
            elif ev.endswith("_entry"):
                irq[ev[:-6]] = t
            elif ev.endswith("_exit") and ev[:-5] in irq:
                lost.append((irq.pop(ev[:-5]), t, ev[:-5].split(":")[1]))
            else:
                points.append((t, ev.split(":")[1]))
    if out is not None:
        lost.append((out, 1 << 62, "switched_out"))
    return lost, points, n


def covered(a, b, spans):
    """Time of [a, b) under the union of spans."""
    total, end = 0, a
    for s, e, _ in sorted(x for x in spans if x[1] > a and x[0] < b):
        s, e = max(s, end), min(e, b)
        if e > s:
            total += e - s
            end = e
    return total


def main():
    args = sys.argv[1:]
    lo, hi = 0, 1 << 63
    if args[:1] == ["--window"]:
        lo, hi, args = int(args[1]), int(args[2]), args[3:]
    tid, script = int(args[0]), args[1]
    loops = set()
    for p in args[2:]:
        with open(p) as f:
            for end, ns in json.load(f) or []:
                if lo <= end < hi:
                    loops.add((end, ns))
    lost, points, n_events = parse(tid, script)
    if n_events == 0:
        print(json.dumps({"error": "no events in " + script + ": was perf recording?"}))
        sys.exit(1)
    rows, preempted = [], 0
    for end, ns in sorted(loops):
        start = end - ns
        inside = [x for x in lost if x[1] > start and x[0] < end]
        if inside:
            preempted += 1
        own = max(0, ns - covered(start, end, inside)) / 1000.0
        what = {}
        for _, _, k in inside:
            what[k] = what.get(k, 0) + 1
        for t, k in points:
            if start <= t < end:
                what[k] = what.get(k, 0) + 1
        rows.append((own, ns / 1000.0, what))
    hist = {}
    for own, _, _ in rows:
        key = next((f"<{b}" for b in BUCKETS_US if own < b), f">={BUCKETS_US[-1]}")
        hist[key] = hist.get(key, 0) + 1
    top = sorted(rows, key=lambda r: -r[0])[:5]
    print(json.dumps({
        "long_loops": len(rows),
        "preempted_or_interrupted": preempted,
        "own_max_us": round(max((r[0] for r in rows), default=0), 1),
        "own_us": hist,
        "longest_wall_us": round(max((r[1] for r in rows), default=0), 1),
        "longest_own": [{"own_us": round(o, 1), "wall_us": round(w, 1), "inside": k}
                        for o, w, k in top],
    }, sort_keys=True))


if __name__ == "__main__":
    main()
