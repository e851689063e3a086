#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
"""frames.py - frames for vtoe-inject --frames and for a tap, by name.

  frames.py hex KIND [key=value ...]     one frame as hex
  frames.py tap IFACE COUNT KIND [...]   send it COUNT times on IFACE (AF_PACKET)

KIND: raw (ethertype 0x88b5), udp4, arp, na (IPv6 neighbour advertisement),
ra (router advertisement), tagged (802.1Q around raw).
Keys: dst, src (MACs), sip, dip (addresses), sport, dport, sha, spa,
target, lla (ND option), vlan.  Checksums are left zero: vtoed does not
read them, and the receivers here only count.
"""
import ipaddress
import socket
import struct
import sys


def mac(s):
    return bytes(int(x, 16) for x in s.split(":"))


def ip(s):
    return ipaddress.ip_address(s).packed


def eth(a, etype):
    return mac(a.get("dst", "ff:ff:ff:ff:ff:ff")) + mac(a["src"]) + struct.pack("!H", etype)


def ip6(a, nh, payload):
    hdr = struct.pack("!IHBB", 6 << 28, len(payload), nh, 255)
    return hdr + ip(a["sip"]) + ip(a.get("dip", "ff02::1")) + payload


def build(kind, a):
    if kind == "raw":
        return eth(a, 0x88B5) + bytes(range(46))
    if kind == "tagged":
        return (mac(a.get("dst", "ff:ff:ff:ff:ff:ff")) + mac(a["src"]) +
                struct.pack("!HHH", 0x8100, int(a.get("vlan", "100")), 0x88B5) + bytes(range(46)))
    if kind == "udp4":
        udp = struct.pack("!HHHH", int(a.get("sport", "1000")), int(a.get("dport", "2000")), 8 + 18, 0) + bytes(18)
        iph = struct.pack("!BBHHHBBH", 0x45, 0, 20 + len(udp), 0, 0, 64, 17, 0)
        return eth(a, 0x0800) + iph + ip(a["sip"]) + ip(a.get("dip", "255.255.255.255")) + udp
    if kind == "arp":
        body = struct.pack("!HHBBH", 1, 0x0800, 6, 4, 1) + mac(a.get("sha", a["src"])) + ip(a["spa"])
        body += bytes(6) + ip(a.get("tpa", a["spa"]))
        return eth(a, 0x0806) + body + bytes(18)
    if kind == "na":
        icmp = struct.pack("!BBHI", 136, 0, 0, 0x20000000) + ip(a["target"])
        icmp += struct.pack("!BB", 2, 1) + mac(a.get("lla", a["src"]))
        return eth(a, 0x86DD) + ip6(a, 58, icmp)
    if kind == "ra":
        icmp = struct.pack("!BBHBBHII", 134, 0, 0, 64, 0, 1800, 0, 0)
        return eth(a, 0x86DD) + ip6(a, 58, icmp)
    raise SystemExit("unknown frame kind " + kind)


def main():
    if sys.argv[1] == "hex":
        kind, args = sys.argv[2], sys.argv[3:]
    else:
        iface, count, kind, args = sys.argv[2], int(sys.argv[3]), sys.argv[4], sys.argv[5:]
    a = dict(x.split("=", 1) for x in args)
    f = build(kind, a)
    if sys.argv[1] == "hex":
        print(f.hex())
        return
    s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW)
    s.bind((iface, 0))
    for _ in range(count):
        s.send(f)


if __name__ == "__main__":
    main()
