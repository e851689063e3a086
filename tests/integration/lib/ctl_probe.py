#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
"""ctl_probe.py SOCKET - throw hostile input at vtoed's control socket.

Prints one line per check, "ok DESCRIPTION" or "not ok DESCRIPTION: why",
for test_badinput.sh to count.  Only the standard library.
"""
import json
import socket
import sys
import time

SOCK = sys.argv[1]
TIMEOUT = 5.0
results = []


def report(ok, desc, why=""):
    results.append(ok)
    print(("ok " if ok else "not ok ") + desc + ("" if ok else ": " + why), flush=True)


def connect():
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.settimeout(TIMEOUT)
    s.connect(SOCK)
    return s


def read_line(s, buf):
    """One response line; (line or None at EOF, remaining buffer)."""
    while b"\n" not in buf:
        chunk = s.recv(65536)
        if not chunk:
            return None, buf
        buf += chunk
    line, _, rest = buf.partition(b"\n")
    return line, rest


def expect_error(s, buf, payload, desc):
    """Send payload (bytes, newline included); the answer must be ok:false."""
    try:
        if payload:
            s.sendall(payload)
        line, buf = read_line(s, buf)
    except OSError as e:
        report(False, desc, "socket error %s" % e)
        return buf
    if line is None:
        report(False, desc, "connection closed without an answer")
        return buf
    try:
        r = json.loads(line)
    except ValueError:
        report(False, desc, "answer is not JSON: %r" % line[:200])
        return buf
    good = isinstance(r, dict) and r.get("ok") is False and isinstance(r.get("error"), str)
    report(good, desc, "answer %r" % line[:200])
    return buf


def expect_version(s, buf, desc):
    try:
        s.sendall(b'{"cmd":"version"}\n')
        line, buf = read_line(s, buf)
        r = json.loads(line) if line is not None else None
        report(isinstance(r, dict) and r.get("ok") is True, desc, "answer %r" % line)
    except (OSError, ValueError) as e:
        report(False, desc, "error %s" % e)
    return buf


# --- many bad requests on one connection; each answered, connection kept
BAD = [
    (b"hello world\n", "garbage line"),
    (b'{"cmd":"vers\n', "truncated JSON"),
    (b'{"cmd":"version"\n', "JSON object missing its closing brace"),
    (b"[1,2,3]\n", "a JSON array instead of an object"),
    (b'"version"\n', "a JSON string instead of an object"),
    (b"42\n", "a JSON number instead of an object"),
    (b"null\n", "JSON null"),
    (b"{}\n", "an object without cmd"),
    (b'{"cmd":42}\n', "cmd is not a string"),
    (b'{"cmd":"frobnicate"}\n', "unknown command"),
    (b'{"cmd":"stats","args":[1]}\n', "args is not an object"),
    (b'{"cmd":"stats","args":{"port":"no-such-port"}}\n', "stats of an unknown port"),
    (b'{"cmd":"\xff\xfe"}\n', "invalid UTF-8"),
    (b'{"cmd":"version"}\x00{"cmd":"version"}\n', "embedded NUL byte"),
]
s = connect()
buf = b""
for payload, desc in BAD:
    buf = expect_error(s, buf, payload, desc)
buf = expect_version(s, buf, "same connection still answers version after 14 bad requests")
s.close()

# --- a 100 KiB line (limit is 64 KiB): an error, then the connection closes
s = connect()
big = b'{"cmd":"version","args":{"pad":"' + b"A" * (100 * 1024) + b'"}}\n'
try:
    s.sendall(big)
except OSError as e:
    print("# oversized line: send stopped early (%s)" % e)  # the server may close first
buf = expect_error(s, b"", b"", "100 KiB request line is refused")
try:
    deadline = time.time() + TIMEOUT
    closed = False
    while time.time() < deadline:
        chunk = s.recv(65536)
        if not chunk:
            closed = True
            break
    report(closed, "connection closed after the oversized line", "still open")
except ConnectionResetError:
    report(True, "connection closed after the oversized line")
except OSError as e:
    report(False, "connection closed after the oversized line", str(e))
s.close()

# --- half a request, then hang up; and a client that never sends anything
s = connect()
s.sendall(b'{"cmd":"sta')
s.close()
idle = connect()

# --- more connections than CTL_CLIENTS_MAX (32): the extra ones may be
# refused or closed, but the daemon must survive and serve afterwards
many = []
for _ in range(40):
    try:
        many.append(connect())
    except OSError:
        break
for c in many:
    c.close()
idle.close()
time.sleep(0.5)

s = connect()
expect_version(s, b"", "fresh connection answers version after the abuse")
s.close()
sys.exit(0 if all(results) else 1)
