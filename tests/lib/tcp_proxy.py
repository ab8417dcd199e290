#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-only
# A TCP relay from LISTEN to TARGET (both HOST:PORT) that a test kills to cut a client
# off its server and starts again to let it back, without touching either end.
# Prints "ready" on stderr once listening.
import socket, sys, threading

def addr(s):
    h, p = s.rsplit(":", 1)
    return h, int(p)

def pipe(a, b):
    try:
        while True:
            d = a.recv(65536)
            if not d:
                break
            b.sendall(d)
    except OSError:
        pass
    for x in (a, b):
        try:
            x.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass

srv = socket.socket()
srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
srv.bind(addr(sys.argv[1]))
srv.listen(16)
print("ready", file=sys.stderr, flush=True)
while True:
    c, _ = srv.accept()
    try:
        u = socket.create_connection(addr(sys.argv[2]))
    except OSError:
        c.close()
        continue
    threading.Thread(target=pipe, args=(c, u), daemon=True).start()
    threading.Thread(target=pipe, args=(u, c), daemon=True).start()
