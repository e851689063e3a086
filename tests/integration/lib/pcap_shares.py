#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
"""pcap_shares.py FILE T0 T1

Bytes per source MAC in the frames of a pcap file whose timestamps fall in
[T0, T1) (seconds since the epoch, as a kernel capture stamps them);
prints one JSON object
{"window": [t0, t1], "bytes": {mac: n}, "frames": {mac: n}, "first": ts}.
Reads the classic pcap format (what tcpdump -w writes) with the standard
library only.
"""
import json
import struct
import sys


def main():
    path, t0, t1 = sys.argv[1], float(sys.argv[2]), float(sys.argv[3])
    nbytes, nframes = {}, {}
    with open(path, 'rb') as f:
        head = f.read(24)
        if len(head) < 24:
            print(json.dumps({"error": "no pcap header"}))
            return 1
        magic = struct.unpack('<I', head[:4])[0]
        if magic in (0xa1b2c3d4, 0xa1b23c4d):
            end = '<'
        else:
            end = '>'
        nano = magic in (0xa1b23c4d, 0x4d3cb2a1)
        first = None
        while True:
            rec = f.read(16)
            if len(rec) < 16:
                break
            sec, frac, incl, orig = struct.unpack(end + 'IIII', rec)
            data = f.read(incl)
            if len(data) < incl:
                break
            ts = sec + frac / (1e9 if nano else 1e6)
            if first is None:
                first = ts
            if ts < t0 or ts >= t1 or incl < 12:
                continue
            src = ':'.join('%02x' % b for b in data[6:12])
            nbytes[src] = nbytes.get(src, 0) + orig
            nframes[src] = nframes.get(src, 0) + 1
    print(json.dumps({"window": [t0, t1], "first": first, "bytes": nbytes,
                      "frames": nframes}))
    return 0


if __name__ == '__main__':
    sys.exit(main())
