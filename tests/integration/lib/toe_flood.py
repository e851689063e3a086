#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
"""toe_flood.py IFACE SRC_MAC DST_MAC SRC_IP DST_IP COUNT

Hostile TCP input for a TOE endpoint, sent raw on IFACE (AF_PACKET): COUNT
SYNs to DST_IP:80 from SRC_IP and as many source ports, then a batch of
malformed frames (bad TCP checksum, bad IP checksum, IP length past the
frame, data offset past the segment, a blind RST and a blind SYN-less ACK).
Prints "sent N" for each part."""
import random
import socket
import struct
import sys
import time


def csum(b):
    if len(b) % 2:
        b += b"\0"
    s = sum(struct.unpack("!%dH" % (len(b) // 2), b))
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return ~s & 0xFFFF


def frame(smac, dmac, sip, dip, sport, dport, seq, ack, flags, payload=b"",
          bad_tcp=False, bad_ip=False, ip_len_extra=0, doff=5):
    tcp = struct.pack("!HHIIBBHHH", sport, dport, seq, ack, doff << 4, flags,
                      65535, 0, 0) + payload
    ph = sip + dip + struct.pack("!BBH", 0, 6, len(tcp))
    c = csum(ph + tcp)
    if bad_tcp:
        c ^= 0x5A5A
    tcp = tcp[:16] + struct.pack("!H", c) + tcp[18:]
    ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(tcp) + ip_len_extra,
                     random.randrange(65536), 0x4000, 64, 6, 0, sip, dip)
    ic = csum(ip)
    if bad_ip:
        ic ^= 0x1234
    ip = ip[:10] + struct.pack("!H", ic) + ip[12:]
    return dmac + smac + b"\x08\x00" + ip + tcp


def main():
    iface, smac, dmac, sip, dip, count = sys.argv[1:7]
    smac = bytes.fromhex(smac.replace(":", ""))
    dmac = bytes.fromhex(dmac.replace(":", ""))
    sip = socket.inet_aton(sip)
    dip = socket.inet_aton(dip)
    s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW)
    s.bind((iface, 0))
    n = 0
    for i in range(int(count)):
        s.send(frame(smac, dmac, sip, dip, 1024 + i % 64000, 80,
                     random.randrange(1 << 32), 0, 0x02))
        n += 1
    print("sent syn", n, flush=True)
    time.sleep(2)           # let the switch take the flood first
    bad = []
    for i in range(200):
        sp = 2000 + i
        bad.append(frame(smac, dmac, sip, dip, sp, 80, 1, 0, 0x02, bad_tcp=True))
        bad.append(frame(smac, dmac, sip, dip, sp, 80, 1, 0, 0x02, bad_ip=True))
        bad.append(frame(smac, dmac, sip, dip, sp, 80, 1, 0, 0x02, ip_len_extra=40))
        bad.append(frame(smac, dmac, sip, dip, sp, 80, 1, 0, 0x02, doff=15))
        bad.append(frame(smac, dmac, sip, dip, sp, 80, random.randrange(1 << 32),
                         0, 0x04))
        bad.append(frame(smac, dmac, sip, dip, sp, 80, random.randrange(1 << 32),
                         random.randrange(1 << 32), 0x10, b"x" * 10))
    # in steps the tap's queue holds even while the worker is off its CPU
    for k, f in enumerate(bad):
        s.send(f)
        if k % 100 == 99:
            time.sleep(0.005)
    print("sent bad", len(bad), flush=True)


if __name__ == "__main__":
    main()
