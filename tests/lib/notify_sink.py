#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-only
"""A stand-in for systemd's notify socket: binds a unix datagram socket at PATH and
appends every message it receives to OUT as one line, "MONOTONIC_SECONDS MESSAGE" with
newlines inside a message shown as "|". Prints "ready" once bound.
usage: notify_sink.py PATH OUT"""
import os
import socket
import sys
import time

path, out = sys.argv[1], sys.argv[2]
if os.path.exists(path):
    os.unlink(path)
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(path)
os.chmod(path, 0o666)
print("ready", flush=True)
with open(out, "a", buffering=1) as f:
    while True:
        msg = s.recv(4096).decode("utf-8", "replace").strip().replace("\n", "|")
        f.write(f"{time.monotonic():.3f} {msg}\n")
