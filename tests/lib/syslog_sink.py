#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-only
"""A syslog collector for tests: accepts TCP connections on 127.0.0.1:PORT, decodes
RFC 6587 octet-counted frames ("LEN SP MSG") and appends one message per line to --out.
A frame that does not parse is written as "BAD FRAME" so a test can catch it."""
import argparse
import socketserver


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--out", required=True)
    a = ap.parse_args()

    class Handler(socketserver.StreamRequestHandler):
        def handle(self):
            buf = b""
            while True:
                data = self.request.recv(65536)
                if not data:
                    return
                buf += data
                while b" " in buf:
                    head, _, rest = buf.partition(b" ")
                    if not head.isdigit():
                        self.emit(b"BAD FRAME")
                        buf = b""
                        break
                    n = int(head)
                    if len(rest) < n:
                        break
                    self.emit(rest[:n])
                    buf = rest[n:]

        def emit(self, msg):
            with open(a.out, "ab") as f:
                f.write(msg.replace(b"\n", b"\\n") + b"\n")

    socketserver.ThreadingTCPServer.allow_reuse_address = True
    srv = socketserver.ThreadingTCPServer(("127.0.0.1", a.port), Handler)
    print("ready", flush=True)
    srv.serve_forever()


if __name__ == "__main__":
    main()
