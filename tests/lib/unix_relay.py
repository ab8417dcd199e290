#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-only
"""A local relay service: accepts connections on a unix socket, reads each one to its
end and uploads what it got to an HTTP drop site, as a proxy or a sync daemon outside
any login session would. Prints "ready" once listening and "uploaded N" after each
upload.

usage: unix_relay.py --socket PATH --url http://ADDR:PORT/PATH
"""
import argparse
import http.client
import os
import socket
import urllib.parse


def upload(url, data):
    u = urllib.parse.urlsplit(url)
    c = http.client.HTTPConnection(u.hostname, u.port, timeout=30)
    c.request("PUT", u.path, body=data, headers={"Content-Length": str(len(data))})
    c.getresponse().read()
    c.close()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--socket", required=True)
    ap.add_argument("--url", required=True)
    a = ap.parse_args()
    if os.path.exists(a.socket):
        os.unlink(a.socket)
    srv = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    srv.bind(a.socket)
    os.chmod(a.socket, 0o777)
    srv.listen(4)
    print("ready", flush=True)
    while True:
        conn, _ = srv.accept()
        chunks = []
        while True:
            b = conn.recv(1 << 16)
            if not b:
                break
            chunks.append(b)
        conn.close()
        data = b"".join(chunks)
        upload(a.url, data)
        # Tests wait for this before the next request: one request's bytes still going
        # out while the next comes in mix the two origins in the relay's label.
        print("uploaded %d" % len(data), flush=True)


if __name__ == "__main__":
    main()
