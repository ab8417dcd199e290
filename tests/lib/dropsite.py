#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-only
"""A fake external drop site: an HTTP server that accepts uploads (PUT/POST) and
counts the bytes, bound to a loopback address (127.0.0.77 by default). Prints
"ready" once listening; writes the total received to --count on every upload.

usage: dropsite.py [--addr 127.0.0.77] [--port 8080] [--count FILE]
"""
import argparse
import http.server
import threading


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--addr", default="127.0.0.77")
    ap.add_argument("--port", type=int, default=8080)
    ap.add_argument("--count")
    a = ap.parse_args()
    total = [0]
    lock = threading.Lock()

    class Handler(http.server.BaseHTTPRequestHandler):
        def receive(self):
            n = int(self.headers.get("Content-Length", "0"))
            left = n
            while left > 0:
                chunk = self.rfile.read(min(left, 1 << 16))
                if not chunk:
                    break
                left -= len(chunk)
            with lock:
                total[0] += n - left
                if a.count:
                    with open(a.count, "w") as f:
                        f.write(f"{total[0]}\n")
            self.send_response(201)
            self.send_header("Content-Length", "0")
            self.end_headers()

        do_PUT = receive
        do_POST = receive

        def log_message(self, *args):
            pass

    srv = http.server.ThreadingHTTPServer((a.addr, a.port), Handler)
    print("ready", flush=True)
    srv.serve_forever()


if __name__ == "__main__":
    main()
