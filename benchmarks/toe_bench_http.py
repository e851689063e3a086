#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
"""toe_bench_http.py - the HTTP client (and a fallback server) of toe_bench.sh.

  toe_bench_http.py lat HOST PORT PATH N [WARMUP]
      N short GETs one after the other on one kept-alive HTTP/1.1
      connection (TCP_NODELAY), each timed from before its send to the last
      byte of its answer with time.perf_counter_ns; WARMUP requests first,
      not counted.  Prints one JSON line: n, p50_us, p90_us, p99_us,
      mean_us, min_us, max_us, reconnects (a connection the server closed:
      opened again, that request's sample dropped), bad (non-200 answers),
      body (the first answer's body).

  toe_bench_http.py serve ADDR PORT BODY
      The fallback Linux server when nginx cannot be had: asyncio
      (Protocol API, no streams), answers every GET with 200 and BODY,
      keep-alive for HTTP/1.1, close for HTTP/1.0 without keep-alive.
      Prints "listening" once it listens.
"""
import json
import socket
import sys
import time


def read_answer(s, buf):
    """One HTTP answer from s; returns (status, body, rest) or None on EOF."""
    while b"\r\n\r\n" not in buf:
        b = s.recv(65536)
        if not b:
            return None
        buf += b
    head, _, rest = buf.partition(b"\r\n\r\n")
    lines = head.split(b"\r\n")
    status = int(lines[0].split()[1])
    clen = 0
    for ln in lines[1:]:
        k, _, v = ln.partition(b":")
        if k.strip().lower() == b"content-length":
            clen = int(v.strip())
    while len(rest) < clen:
        b = s.recv(65536)
        if not b:
            return None
        rest += b
    return status, rest[:clen], rest[clen:]


def connect(host, port):
    s = socket.create_connection((host, port), timeout=10)
    s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    return s


def lat(host, port, path, n, warmup):
    req = ("GET %s HTTP/1.1\r\nHost: %s\r\nUser-Agent: toe_bench\r\n\r\n" % (path, host)).encode()
    s = connect(host, port)
    buf = b""
    samples = []
    reconnects = bad = 0
    body = None
    total = n + warmup
    i = 0
    while i < total:
        t0 = time.perf_counter_ns()
        s.sendall(req)
        r = read_answer(s, buf)
        t1 = time.perf_counter_ns()
        if r is None:                   # the server closed: open again, retry
            reconnects += 1
            if reconnects > 100:
                break
            s.close()
            s = connect(host, port)
            buf = b""
            continue
        status, b, buf = r
        if status != 200:
            bad += 1
        if body is None:
            body = b.decode(errors="replace")
        if i >= warmup:
            samples.append(t1 - t0)
        i += 1
    s.close()
    samples.sort()
    out = {"n": len(samples), "reconnects": reconnects, "bad": bad, "body": body}
    if samples:
        def pct(p):
            return samples[min(len(samples) - 1, int(p / 100.0 * len(samples)))] / 1000.0
        out.update(p50_us=round(pct(50), 1), p90_us=round(pct(90), 1), p99_us=round(pct(99), 1),
                   mean_us=round(sum(samples) / len(samples) / 1000.0, 1),
                   min_us=round(samples[0] / 1000.0, 1), max_us=round(samples[-1] / 1000.0, 1))
    print(json.dumps(out), flush=True)
    return 0 if samples and bad == 0 else 1


def serve(addr, port, body):
    import asyncio

    body = body.encode()

    class Http(asyncio.Protocol):
        def connection_made(self, transport):
            self.t = transport
            self.buf = b""

        def data_received(self, data):
            self.buf += data
            while b"\r\n\r\n" in self.buf:
                head, _, self.buf = self.buf.partition(b"\r\n\r\n")
                lines = head.split(b"\r\n")
                ver = lines[0].split()[-1] if lines[0] else b"HTTP/1.0"
                conn = b""
                for ln in lines[1:]:
                    k, _, v = ln.partition(b":")
                    if k.strip().lower() == b"connection":
                        conn = v.strip().lower()
                keep = conn != b"close" if ver == b"HTTP/1.1" else conn == b"keep-alive"
                self.t.write(b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: %d\r\n%s\r\n%s"
                             % (len(body), b"" if keep else b"Connection: close\r\n", body))
                if not keep:
                    self.t.close()
                    return

    async def main():
        loop = asyncio.get_running_loop()
        srv = await loop.create_server(Http, addr, port, backlog=4096, reuse_address=True)
        print("listening", flush=True)
        async with srv:
            await srv.serve_forever()

    asyncio.run(main())
    return 0


if __name__ == "__main__":
    a = sys.argv[1:]
    if len(a) >= 5 and a[0] == "lat":
        sys.exit(lat(a[1], int(a[2]), a[3], int(a[4]), int(a[5]) if len(a) > 5 else 100))
    if len(a) == 4 and a[0] == "serve":
        sys.exit(serve(a[1], int(a[2]), a[3]))
    sys.stderr.write(__doc__)
    sys.exit(2)
