#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
# seeds.py - (re)write the hand-built seeds of tests/fuzz/corpus/ (files
# named seed-*; crash-* regression inputs and merged inputs are left
# alone).  Run from anywhere: python3 tests/fuzz/seeds.py
import os
import struct

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))


def put(target, name, data):
    d = os.path.join(HERE, 'corpus', target)
    os.makedirs(d, exist_ok=True)
    if isinstance(data, str):
        data = data.encode()
    with open(os.path.join(d, 'seed-' + name), 'wb') as f:
        f.write(data)


def csum(b):
    if len(b) % 2:
        b += b'\0'
    s = sum(struct.unpack('!%dH' % (len(b) // 2), b))
    while s >> 16:
        s = (s & 0xffff) + (s >> 16)
    return ~s & 0xffff


def ipv4(proto, payload, src=b'\x0a\x00\x00\x0b', dst=b'\x0a\x00\x00\x0c',
         df=True, frag=0):
    h = struct.pack('!BBHHHBBH4s4s', 0x45, 0, 20 + len(payload), 1,
                    (0x4000 if df else 0) | frag, 64, proto, 0, src, dst)
    h = h[:10] + struct.pack('!H', csum(h)) + h[12:]
    return h + payload


def l4sum_v4(ip, proto, seg):
    ph = ip[12:20] + struct.pack('!BBH', 0, proto, len(seg))
    return csum(ph + seg)


def tcp4(payload, seq=1000, flags=0x10, partial=False, opts=b''):
    hlen = 20 + len(opts)
    t = struct.pack('!HHIIBBHHH', 40000, 5201, seq, 1, (hlen // 4) << 4,
                    flags, 502, 0, 0) + opts + payload
    ip = ipv4(6, t)
    if partial:
        ph = ip[12:20] + struct.pack('!BBH', 0, 6, len(t))
        s = sum(struct.unpack('!6H', ph))
        while s >> 16:
            s = (s & 0xffff) + (s >> 16)
        c = s
    else:
        c = l4sum_v4(ip, 6, t)
    t = t[:16] + struct.pack('!H', c) + t[18:]
    return ipv4(6, t)


def tcp6(payload, seq=7, flags=0x18):
    t = struct.pack('!HHIIBBHHH', 40000, 80, seq, 1, 5 << 4, flags, 502, 0,
                    0) + payload
    src = bytes(15) + b'\x01'
    dst = bytes(15) + b'\x02'
    ph = src + dst + struct.pack('!IxxxB', len(t), 6)
    t = t[:16] + struct.pack('!H', csum(ph + t)) + t[18:]
    return struct.pack('!IHBB', 6 << 28, len(t), 6, 64) + src + dst + t


def udp4(payload):
    u = struct.pack('!HHHH', 5000, 53, 8 + len(payload), 0) + payload
    ip = ipv4(17, u)
    u = u[:6] + struct.pack('!H', l4sum_v4(ip, 17, u)) + u[8:]
    return ipv4(17, u)


ETH4 = bytes.fromhex('525400000201' '525400000101' '0800')
ETH6 = bytes.fromhex('525400000201' '525400000101' '86dd')
ETHV = bytes.fromhex('525400000201' '525400000101' '8100' '0007' '0800')
PAY = bytes((i * 7 + 3) & 0xff for i in range(4000))

# ---- cfg: the shipped configs, and every section once
for name in ('vtoed.yaml', 'examples/two-vms-uplink.yaml'):
    with open(os.path.join(ROOT, 'config', name), 'rb') as f:
        put('cfg', os.path.basename(name).replace('.yaml', ''), f.read())
put('cfg', 'full', """lcores: {main: 2, workers: [1, "3@1"], poll: interrupt, max_sleep: 2ms,
  rebalance: {mode: auto, load: 80, period: 30s, improvement: 10}}
memory: {hugepages: none, mbufs: 8192}
control: {socket: /tmp/vtoe/ctl.sock, mode: "0600"}
fdb: {size: 65536, ageing: 60}
eal: {file_prefix: vt-test, args: ["--log-level=lib.eal:info", --no-pci]}
socket_dir: {path: /run/vtoe, group: root, mode: "0770"}
datapath: {direct: false}
networks: [{name: blue, vni: 5001}, {name: red, vlan: 100}]
overlay: {local_ip: 192.0.2.1/24, uplink: up0, udp_port: 4790, gateway: 192.0.2.254}
cluster: {etcd: ["http://127.0.0.1:2379"], host: host-a, ttl: 3s, prefix: /vtoe/}
uplinks:
  - {name: up0, device: "net_tap0,iface=vtoe0", mtu: 1600, rate: 1Gbit}
  - {name: up1, device: "0000:3b:02.0"}
vms:
  - name: vm1
    metadata: {instance_id: i-0001, hostname: vm-one, imds: v2-only}
    ports:
      - {name: vm1.0, socket: /run/vtoe/vm1.0.sock, mode: server,
         mac: "52:54:00:00:01:01", queues: 2, uplink: up1, weight: 10,
         owner: root, group: 0, perms: "0660", network: red,
         ip: [10.0.0.11/24, "2001:db8::11/64"], gateway: 10.0.0.1,
         dns: [10.0.0.2, 9.9.9.9], toe: {dhcp: true, metadata: true, iperf3: false, congestion: cubic},
         allowed: [{mac: "52:54:00:00:09:09", ip: 10.0.0.99}],
         port_security: {dhcp_server: true, router_advert: false},
         impair: {drop: 1%, reorder: 0.5%, delay: 5ms, direction: rx}}
      - {name: vm1.1, socket: /run/vtoe/vm1.1.sock, mode: client,
         mac: "52:54:00:00:01:02", offloads: false, takeover: newest, network: blue}
""")
put('cfg', 'libvirt', """membership: {source: libvirt, uri: "qemu:///system", mode: poll, interval: 2s,
  attach: auto, sockets: [/run/vtoe/],
  defaults: {uplink: up0, weight: 4, offloads: true, owner: 0, group: 0, perms: "0660"}}
uplinks: [{name: up0, device: net_null0}]
""")
put('cfg', 'anchors', """x: &a {name: vm1.0, socket: /run/a.sock, mac: "52:54:00:00:01:01"}
vms:
  - name: vm1
    ports: [*a, {<<: *a, name: vm1.1}]
""")

# ---- membership_xml
HEAD = ("<domain type='kvm'>\n  <name>vm1</name>\n"
        "  <uuid>0A1B2C3D-4E5F-6071-8293-a4b5c6d7e8f9</uuid>\n"
        "  <metadata>\n    <vtoe:port xmlns:vtoe='urn:vtoe:libvirt:1' "
        "mac='52:54:00:00:01:01' weight='4' uplink='up1' offloads='false' "
        "ip='10.0.0.11/24' gateway='10.0.0.1' dns='10.0.0.2,9.9.9.9' "
        "hostname='vm1' instance-id='i-0001'/>\n  </metadata>\n  <devices>\n")
VH = ("    <interface type='vhostuser'>\n      <mac address='%s'/>\n"
      "      <source type='unix' path='%s' mode='%s'/>\n"
      "      <target dev='%s'/>\n      <model type='virtio'/>\n"
      "    </interface>\n")
TAIL = "  </devices>\n</domain>\n"
put('membership_xml', 'two', HEAD + VH % ('52:54:00:00:01:01', '/run/vtoe/vm1.0.sock', 'client', 'vm1.0')
    + "    <interface type='network'><mac address='52:54:00:aa:bb:cc'/><source network='default'/></interface>\n"
    + VH % ('52:54:0:0:1:2', '/run/vtoe/vm1.1.sock', 'server', 'vm1.1') + TAIL)
put('membership_xml', 'skips', HEAD + VH % ('01:00:5e:00:00:01', '/a', 'client', 'x')
    + VH % ('zz', '/b', 'client', 'y')
    + "    <interface type='vhostuser'><mac address='52:54:00:00:01:03'/></interface>\n" + TAIL)
put('membership_xml', 'mac', '52:54:00:00:01:01')

# ---- vhost_direct: header, then regions' layout, table, bytes (fuzz_vhost_direct.c)
def vhost_seed(walks, descs, ring_order=3, regions=((0x1000, 4096, 0x2000), (0x400, 4096, 0))):
    b = bytes([len(regions) - 1, ring_order])
    for head, write in walks + [(0, 0)] * (8 - len(walks)):
        b += struct.pack('<HB', head, write)
    b += struct.pack('<6I', 5, 100, 300, 7, 9, 0x1000)
    b += bytes([63])                       # log size - 1
    b += struct.pack('<I', 0x100)          # first region at 0x100000
    for size, gap, _ in regions:
        b += struct.pack('<HH', size - 1, gap)
    table = list(descs) + [(0, 0, 0, 0)] * ((1 << ring_order) - len(descs))
    for addr, ln, flags, nxt in table:
        b += struct.pack('<QIHH', addr, ln, flags, nxt)
    for i, (size, _, _) in enumerate(regions):
        content = bytearray((j * 13 + i) & 0xff for j in range(size))
        if i == 1:   # an indirect table at the start of region 1
            ind = struct.pack('<QIHH', 0x100000 + 64, 100, 1, 1) + \
                  struct.pack('<QIHH', 0x100000 + 4096 + 0x400 + 512, 200, 0, 0)
            content[:len(ind)] = ind
        b += bytes(content)
    return b


R0 = 0x100000
R1 = R0 + 4096 + 0x400
put('vhost_direct', 'chains', vhost_seed(
    [(0, 0), (2, 1), (4, 0), (5, 0)],
    [(R0, 12, 1, 1), (R1 + 100, 1000, 0, 0), (R0 + 200, 2048, 2, 0),
     (0, 0, 0, 0), (R1, 32, 4, 0), (R0, 64, 1, 5)]))
put('vhost_direct', 'indirect', vhost_seed([(3, 0)], [(0, 0, 0, 0)] * 3 + [(R1, 32, 4, 0)]))

# ---- vxlan: 2 bytes of "not contiguous", then the frame
inner = ETH4 + udp4(b'hello')
vx = struct.pack('!II', 0x08000000, 5001 << 8) + inner
udp = struct.pack('!HHHH', 51234, 4789, 8 + len(vx), 0) + vx
outer = bytes.fromhex('020000000001' '020000000002' '0800') + ipv4(
    17, udp, src=bytes([192, 0, 2, 2]), dst=bytes([192, 0, 2, 1]), df=False)
put('vxlan', 'decap', b'\0\0' + outer)
put('vxlan', 'decap-split', struct.pack('<H', 20) + outer + bytes(6))
arp = bytes.fromhex('ffffffffffff' '020000000002' '0806' '0001' '0800' '06' '04' '0001'
                    '020000000002' 'c0000202' '000000000000' 'c0000201')
put('vxlan', 'arp', b'\0\0' + arp)

# ---- cluster_codec: a selector byte, then the text (fuzz_cluster_codec.c)
put('cluster_codec', 'key-host', b'\x00/vtoe/hosts/host-a')
put('cluster_codec', 'key-port', b'\x00/vtoe/ports/5001/52:54:00:00:01:01/host-a')
put('cluster_codec', 'host', b'\x10{"host":"host-a","vtep":"192.0.2.1","version":"0.1.0"}')
put('cluster_codec', 'port', b'\x20{"host":"host-a","vtep":"192.0.2.1","vni":5001,'
    b'"mac":"52:54:00:00:01:01","port":"vm1.0","ips":["10.0.0.11","2001:db8::11"]}')
put('cluster_codec', 'b64', b'\x30L3Z0b2UvaG9zdHMvaG9zdC1h')
put('cluster_codec', 'error', b'\x40{"error":"etcdserver: requested lease not found","code":5}')
put('cluster_codec', 'grant', b'\x41{"header":{"revision":"7"},"ID":"7587862072151785522","TTL":"10"}')
put('cluster_codec', 'keepalive', b'\x42{"result":{"header":{"revision":"7"},"ID":"1","TTL":"10"}}')
put('cluster_codec', 'header', b'\x43{"header":{"cluster_id":"1","member_id":"2","revision":"12","raft_term":"3"}}')
put('cluster_codec', 'range', b'\x44{"header":{"revision":"12"},"kvs":[{"key":"L3Z0b2UvaG9zdHMvaG9zdC1h",'
    b'"create_revision":"5","mod_revision":"9","version":"2","value":"eyJob3N0IjoiaG9zdC1hIn0=",'
    b'"lease":"7587862072151785522"}],"count":"1"}')
put('cluster_codec', 'watch', b'\x45{"result":{"header":{"revision":"13"},"events":[{"kv":'
    b'{"key":"L3Z0b2UvaG9zdHMvaG9zdC1h","mod_revision":"13","value":"e30="}},'
    b'{"type":"DELETE","kv":{"key":"L3Z0b2UvaG9zdHMvaG9zdC1h","mod_revision":"13"}}]}}')
put('cluster_codec', 'watch-created', b'\x45{"result":{"header":{"revision":"1"},"created":true}}')
put('cluster_codec', 'watch-compacted', b'\x45{"result":{"header":{"revision":"1"},"canceled":true,'
    b'"compact_revision":"40","cancel_reason":"compacted"}}')

# ---- toe: 16 bytes of metadata (struct meta in fuzz_toe.c), then the frame
def meta(mode, caps=0, seg=0, gro=0, mss=1448, l2=0, l3=0, l4=0, vh=bytes(7)):
    return struct.pack('<BBBBHBBB', mode, caps, seg, gro, mss, l2, l3, l4) + vh


big4 = ETH4 + tcp4(PAY[:3000], partial=True, opts=bytes.fromhex('0101080a0000000100000002'))
put('toe', 'lro-tso4', meta(2, caps=0, seg=128, mss=1448) + big4)
put('toe', 'lro-tso4-csum', meta(2, caps=1, seg=0, gro=7, mss=1000) + big4)
put('toe', 'lro-partial-segs', meta(2, caps=7 | (2 << 3), mss=500) + big4)
put('toe', 'legacy-tso4', meta(6 | 0x10 | 0x40, caps=0, mss=1448, l2=14, l3=20, l4=32) + big4)
put('toe', 'csum-none', meta(4, caps=0) + ETH4 + tcp4(PAY[:100], partial=True))
put('toe', 'udp', meta(4) + ETH4 + udp4(PAY[:64]))
put('toe', 'tcp6', meta(2, mss=700) + ETH6 + tcp6(PAY[:2000]))
put('toe', 'vlan', meta(2, mss=300) + ETHV + tcp4(PAY[:900], partial=True))
# virtio-net header: NEEDS_CSUM, GSO_TCPV4, hdr_len 66, csum_start 34, csum_offset 16
put('toe', 'vnet-tso4', meta(1, mss=1448, l2=0, vh=bytes([1, 1, 66, 34, 0, 16, 0])) + big4)
put('toe', 'vnet-csum', meta(1, caps=1, mss=0, vh=bytes([1, 0, 0, 34, 0, 16, 0]))
    + ETH4 + tcp4(PAY[:200], partial=True))
put('toe', 'plain', meta(0) + ETH4 + tcp4(PAY[:60]))
put('toe', 'frag', meta(4) + ETH4 + ipv4(6, PAY[:48], df=False, frag=0x2000))
