#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
"""qmp.py SOCKET COMMAND [JSON_ARGS]: one QMP command to a QEMU monitor.

Prints the "return" member as JSON and exits 0, or prints the error and
exits 1.  Used by the migration tests (migrate, query-migrate, quit)."""
import json
import socket
import sys


def main():
    if len(sys.argv) < 3:
        sys.exit(__doc__)
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.settimeout(10)
    s.connect(sys.argv[1])
    f = s.makefile("rw")

    def call(cmd, args=None):
        req = {"execute": cmd}
        if args:
            req["arguments"] = args
        f.write(json.dumps(req) + "\n")
        f.flush()
        while True:
            line = f.readline()
            if not line:
                return {"error": {"desc": "monitor closed"}}
            msg = json.loads(line)
            if "return" in msg or "error" in msg:
                return msg

    json.loads(f.readline())            # greeting
    call("qmp_capabilities")
    args = json.loads(sys.argv[3]) if len(sys.argv) > 3 else None
    r = call(sys.argv[2], args)
    if "error" in r:
        print(json.dumps(r["error"]))
        sys.exit(1)
    print(json.dumps(r["return"]))


if __name__ == "__main__":
    main()
