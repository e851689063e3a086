#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
"""pcap_frames.py - what tshark read from a capture against what vtoe-inject sent.

  pcap_frames.py expect LEN COUNT [SEQ0]   md5 of the payloads (after the
                                           Ethernet header) of vtoe-inject's
                                           frames SEQ0.. of LEN bytes
  pcap_frames.py got                        md5 of the payloads tshark printed
                                           (data.data, one hex line each, stdin)

vtoe-inject's frame: Ethernet header (type 0x88b5), a big-endian sequence
number at byte 14, then byte i = (i * 13 + 5) mod 256.
"""
import hashlib
import struct
import sys


def payload(length, seq):
    b = bytearray((i * 13 + 5) & 0xFF for i in range(length))
    b[14:18] = struct.pack("!I", seq)
    return bytes(b[14:])


def main():
    h = hashlib.md5()
    if sys.argv[1] == "expect":
        length, count = int(sys.argv[2]), int(sys.argv[3])
        seq0 = int(sys.argv[4]) if len(sys.argv) > 4 else 0
        for s in range(seq0, seq0 + count):
            h.update(payload(length, s))
    else:
        for line in sys.stdin:
            line = line.strip().replace(":", "")
            if line:
                h.update(bytes.fromhex(line))
    print(h.hexdigest())


if __name__ == "__main__":
    main()
