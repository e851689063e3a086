#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
"""tcp_md5.py - the two ends of an md5-checked TCP transfer, for the tests.

  tcp_md5.py sink ADDR      accept one connection on ADDR:5001, print
                            "listening", then "md5 HEX BYTES" of all it got
  tcp_md5.py send ADDR MB   send MB MiB of random bytes to ADDR:5001, print
                            "md5 HEX BYTES" of what was sent
"""
import hashlib
import os
import socket
import sys

PORT = 5001


def sink(addr):
    s = socket.socket()
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind((addr, PORT))
    s.listen(1)
    print("listening", flush=True)
    c, _ = s.accept()
    h, n = hashlib.md5(), 0
    while True:
        b = c.recv(1 << 20)
        if not b:
            break
        h.update(b)
        n += len(b)
    print("md5", h.hexdigest(), n, flush=True)


def send(addr, mb):
    h = hashlib.md5()
    s = socket.create_connection((addr, PORT), timeout=60)
    for _ in range(mb):
        b = os.urandom(1 << 20)
        h.update(b)
        s.sendall(b)
    s.shutdown(socket.SHUT_WR)
    s.recv(1)
    s.close()
    print("md5", h.hexdigest(), mb << 20, flush=True)


if __name__ == "__main__":
    if len(sys.argv) == 3 and sys.argv[1] == "sink":
        sink(sys.argv[2])
    elif len(sys.argv) == 4 and sys.argv[1] == "send":
        send(sys.argv[2], int(sys.argv[3]))
    else:
        sys.exit(__doc__)
