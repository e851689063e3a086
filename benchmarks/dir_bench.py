#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
"""dir_bench.py - helpers of benchmarks/dir_bench.sh (the cluster directory's
convergence), standard library only:

  tslog OUT -- CMD...      run CMD, write each line of its output to OUT
                           with the CLOCK_REALTIME it was read at
                           ("%.6f line"); SIGTERM/SIGINT go to CMD
  publish ...              a simulated host's VM ports written into etcd
                           through the v3 JSON gateway, as vtoed publishes
                           its own (src/cluster/cluster_codec.c's keys and
                           values, under one lease, up to --concurrency puts
                           in flight like vtoed's CL_WINDOW); each put's
                           start and end time and revision to --out (JSON)
  revoke URL LEASE         revoke a lease (the simulated host goes away)
  metrics URL...           etcd's Prometheus counters that matter here,
                           summed over the members, as one JSON object
  analyze ...              per port: put -> learned by vtoed B (its
                           `vtoectl --json cluster` remotes[].learned) and
                           put -> B's workers given a table that has it
                           (B's "overlay: remote table of H host(s), V VM
                           port(s)" debug lines, timestamped by tslog)
"""
import argparse
import base64
import http.client
import json
import os
import signal
import subprocess
import sys
import threading
import time
import urllib.parse


def b64(s):
    return base64.b64encode(s.encode()).decode()


# --------------------------------------------------------------- tslog
def cmd_tslog(a):
    out = open(a.out, "w", buffering=1)
    p = subprocess.Popen(a.cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)

    def fwd(sig, _frame):
        try:
            p.send_signal(sig)
        except ProcessLookupError:
            pass
    signal.signal(signal.SIGTERM, fwd)
    signal.signal(signal.SIGINT, fwd)
    print("%.6f tslog: pid %d" % (time.time(), p.pid), file=out)
    for line in iter(p.stdout.readline, b""):
        out.write("%.6f %s" % (time.time(), line.decode(errors="replace")))
    return p.wait()


# --------------------------------------------------------------- etcd gateway
class Gateway:
    def __init__(self, url):
        u = urllib.parse.urlparse(url)
        self.host, self.port = u.hostname, u.port
        self.conn = None

    def post(self, path, body):
        for attempt in range(3):
            try:
                if self.conn is None:
                    self.conn = http.client.HTTPConnection(self.host, self.port, timeout=10)
                self.conn.request("POST", path, json.dumps(body),
                                  {"Content-Type": "application/json"})
                r = self.conn.getresponse()
                data = r.read()
                if r.status != 200:
                    raise RuntimeError("%s: HTTP %d %s" % (path, r.status, data[:200]))
                return json.loads(data)
            except (OSError, http.client.HTTPException):
                self.conn = None
                if attempt == 2:
                    raise
        return None


def mac_of(prefix, i):
    return "%s:%02x:%02x" % (prefix, i >> 8 & 0xff, i & 0xff)


def cmd_publish(a):
    g = Gateway(a.endpoint)
    if a.lease:
        lease = a.lease
    else:
        lease = g.post("/v3/lease/grant", {"TTL": a.ttl})["ID"]
    prefix = a.prefix
    # the hosts/ key first, as vtoed does when its session starts
    hv = json.dumps({"host": a.host, "vtep": a.vtep, "version": "dir_bench"},
                    separators=(",", ":"))
    if not a.lease:
        g.post("/v3/kv/put", {"key": b64("%shosts/%s" % (prefix, a.host)),
                              "value": b64(hv), "lease": lease})
    items = []
    for i in range(a.first, a.first + a.n):
        mac = mac_of(a.mac_prefix, i)
        key = "%sports/%d/%s/%s" % (prefix, a.vni, mac, a.host)
        val = json.dumps({"host": a.host, "vtep": a.vtep, "vni": a.vni, "mac": mac,
                          "port": "vm%d.0" % i, "ips": []}, separators=(",", ":"))
        items.append({"i": i, "mac": mac, "key": key, "value": val})
    lock = threading.Lock()
    nxt = [0]
    errors = []

    def worker():
        gw = Gateway(a.endpoint)
        while True:
            with lock:
                k = nxt[0]
                nxt[0] += 1
            if k >= len(items):
                return
            it = items[k]
            if a.interval > 0:
                # paced: the k-th put starts at t0 + k * interval
                delay = t0 + k * a.interval - time.time()
                if delay > 0:
                    time.sleep(delay)
            it["t_start"] = time.time()
            try:
                r = gw.post("/v3/kv/put", {"key": b64(it["key"]), "value": b64(it["value"]),
                                           "lease": lease})
                it["revision"] = int(r["header"]["revision"])
            except Exception as e:  # noqa: BLE001 - reported below
                with lock:
                    errors.append("%s: %s" % (it["key"], e))
            it["t_end"] = time.time()

    # paced puts start a moment from now, on the grid; a burst at once
    t0 = time.time() + (0.05 if a.interval > 0 else 0.0)
    conc = 1 if a.interval > 0 else a.concurrency
    threads = [threading.Thread(target=worker) for _ in range(conc)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    t1 = time.time()
    json.dump({"host": a.host, "lease": lease, "endpoint": a.endpoint, "n": a.n,
               "concurrency": conc, "interval": a.interval, "t_begin": t0, "t_done": t1,
               "errors": errors, "puts": items}, open(a.out, "w"))
    print("published %d port(s) of %s in %.3f s (%d error(s)), lease %s"
          % (a.n, a.host, t1 - t0, len(errors), lease))
    return 1 if errors else 0


def cmd_revoke(a):
    g = Gateway(a.endpoint)
    g.post("/v3/maintenance/status", {})        # connected before the clock starts
    t0 = time.time()
    g.post("/v3/lease/revoke", {"ID": a.lease})
    print("%.6f %.6f" % (t0, time.time()))
    return 0


# --------------------------------------------------------------- metrics
WANT = ("process_cpu_seconds_total", "etcd_mvcc_put_total", "etcd_mvcc_delete_total",
        "etcd_debugging_mvcc_events_total", "etcd_server_proposals_committed_total",
        "etcd_disk_wal_fsync_duration_seconds_count", "etcd_network_client_grpc_received_bytes_total",
        "etcd_network_client_grpc_sent_bytes_total")


def scrape(url):
    u = urllib.parse.urlparse(url)
    c = http.client.HTTPConnection(u.hostname, u.port, timeout=10)
    c.request("GET", "/metrics")
    text = c.getresponse().read().decode()
    out = {}
    for line in text.splitlines():
        if not line or line[0] == "#":
            continue
        name, _, value = line.rpartition(" ")
        base = name.split("{", 1)[0]
        if base in WANT:
            out[base] = out.get(base, 0.0) + float(value)
        elif base in ("grpc_server_msg_received_total", "grpc_server_msg_sent_total"):
            m = name.split('grpc_method="', 1)[1].split('"', 1)[0]
            k = "%s:%s" % ("rx" if "received" in base else "tx", m)
            out[k] = out.get(k, 0.0) + float(value)
    return out


def cmd_metrics(a):
    total = {}
    per = {}
    for url in a.urls:
        m = scrape(url)
        per[url] = m
        for k, v in m.items():
            total[k] = total.get(k, 0.0) + v
    json.dump({"t": time.time(), "total": total, "members": per}, sys.stdout)
    print()
    return 0


# --------------------------------------------------------------- analyze
def pct(xs, p):
    if not xs:
        return float("nan")
    xs = sorted(xs)
    k = (len(xs) - 1) * p / 100.0
    f = int(k)
    c = min(f + 1, len(xs) - 1)
    return xs[f] + (xs[c] - xs[f]) * (k - f)


def rebuilds(path, t_from):
    """(time, VM ports) of every table rebuild B logged after t_from."""
    out = []
    for line in open(path, errors="replace"):
        if "overlay: remote table of" not in line:
            continue
        ts, _, rest = line.partition(" ")
        try:
            t = float(ts)
            v = int(rest.split(" host(s), ", 1)[1].split(" VM port", 1)[0])
        except (ValueError, IndexError):
            continue
        if t >= t_from:
            out.append((t, v))
    return out


def cmd_analyze(a):
    pub = json.load(open(a.puts))
    cl = json.load(open(a.cluster))
    cl = cl.get("result", cl)
    learned = {r["mac"]: r for r in cl.get("remotes", []) if r.get("host") == pub["host"]}
    puts = [p for p in pub["puts"] if "revision" in p]
    # B's table holds a.base entries of other hosts besides these
    reb = rebuilds(a.log, pub["t_begin"] - 1)
    by_rev = sorted(puts, key=lambda p: p["revision"])
    lat_learn, lat_learn_end, lat_work, put_ms, missing = [], [], [], [], 0
    for rank, p in enumerate(by_rev, start=1):
        put_ms.append((p["t_end"] - p["t_start"]) * 1000)
        r = learned.get(p["mac"])
        if r is None or r.get("learned") is None:
            missing += 1
            continue
        lat_learn.append((r["learned"] - p["t_start"]) * 1000)
        lat_learn_end.append((r["learned"] - p["t_end"]) * 1000)
        need = a.base + rank
        # learned is in whole ms; the rebuild is logged after it
        t_l = r["learned"] - 0.001
        for t, v in reb:
            if v >= need and t >= t_l:
                lat_work.append((t - p["t_start"]) * 1000)
                break
    last_learned = max((learned[p["mac"]]["learned"] for p in puts if p["mac"] in learned
                        and learned[p["mac"]].get("learned")), default=float("nan"))
    full = [t for t, v in reb if v >= a.base + len(puts)]
    res = {
        "host": pub["host"], "n": len(puts), "missing": missing, "errors": len(pub["errors"]),
        "concurrency": pub["concurrency"], "interval": pub["interval"],
        "publish_ms": (pub["t_done"] - pub["t_begin"]) * 1000,
        "put_ms_p50": pct(put_ms, 50), "put_ms_p99": pct(put_ms, 99),
        "learned_ms_p50": pct(lat_learn, 50), "learned_ms_p99": pct(lat_learn, 99),
        "learned_ms_max": max(lat_learn, default=float("nan")),
        "learned_after_ack_ms_p50": pct(lat_learn_end, 50),
        "workers_ms_p50": pct(lat_work, 50), "workers_ms_p99": pct(lat_work, 99),
        "workers_ms_max": max(lat_work, default=float("nan")), "workers_n": len(lat_work),
        "all_learned_ms": (last_learned - pub["t_begin"]) * 1000,
        "all_in_workers_ms": (full[0] - pub["t_begin"]) * 1000 if full else float("nan"),
        "rebuilds": len([1 for t, v in reb if t <= (full[0] if full else float("inf"))]),
    }
    # JSON has no NaN: null
    res = {k: (None if isinstance(v, float) and v != v else v) for k, v in res.items()}
    json.dump(res, sys.stdout)
    print()
    return 0


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sp = ap.add_subparsers(dest="sub", required=True)
    p = sp.add_parser("tslog")
    p.add_argument("out")
    p.add_argument("cmd", nargs=argparse.REMAINDER)
    p = sp.add_parser("publish")
    p.add_argument("--endpoint", required=True)
    p.add_argument("--host", required=True)
    p.add_argument("--vtep", required=True)
    p.add_argument("--vni", type=int, default=5001)
    p.add_argument("--n", type=int, required=True)
    p.add_argument("--first", type=int, default=1)
    p.add_argument("--mac-prefix", required=True, help="the first 4 bytes, aa:bb:cc:dd")
    p.add_argument("--prefix", default="/vtoe/")
    p.add_argument("--ttl", type=int, default=120)
    p.add_argument("--lease", default="", help="an existing lease (no hosts/ key put then)")
    p.add_argument("--concurrency", type=int, default=8)
    p.add_argument("--interval", type=float, default=0.0, help="pace: seconds between puts")
    p.add_argument("--out", required=True)
    p = sp.add_parser("revoke")
    p.add_argument("endpoint")
    p.add_argument("lease")
    p = sp.add_parser("metrics")
    p.add_argument("urls", nargs="+")
    p = sp.add_parser("analyze")
    p.add_argument("--puts", required=True)
    p.add_argument("--cluster", required=True)
    p.add_argument("--log", required=True)
    p.add_argument("--base", type=int, default=0)
    a = ap.parse_args()
    if a.sub == "tslog" and a.cmd and a.cmd[0] == "--":
        a.cmd = a.cmd[1:]
    return {"tslog": cmd_tslog, "publish": cmd_publish, "revoke": cmd_revoke,
            "metrics": cmd_metrics, "analyze": cmd_analyze}[a.sub](a)


if __name__ == "__main__":
    sys.exit(main())
