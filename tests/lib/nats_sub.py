#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-only
# A NATS core subscriber speaking the text protocol over a plain socket (no client
# library needed): subscribes to SUBJECT on HOST:PORT, prints "ready" on stderr once the
# server has answered a PING, then appends each message's payload as one line to OUT.
# usage: nats_sub.py HOST:PORT SUBJECT OUT
import socket, sys

host, port = sys.argv[1].rsplit(":", 1)
subject, out = sys.argv[2], sys.argv[3]
s = socket.create_connection((host, int(port)))
f = s.makefile("rb")
f.readline()  # INFO
s.sendall(b'CONNECT {"verbose":false,"pedantic":false}\r\nSUB ' + subject.encode() + b" 1\r\nPING\r\n")
with open(out, "ab", buffering=0) as o:
    while True:
        line = f.readline()
        if not line:
            break
        if line.startswith(b"PONG"):
            print("ready", file=sys.stderr, flush=True)
        elif line.startswith(b"PING"):
            s.sendall(b"PONG\r\n")
        elif line.startswith(b"MSG"):
            n = int(line.split()[-1])
            payload = f.read(n + 2)[:n]
            o.write(payload.replace(b"\n", b" ") + b"\n")
