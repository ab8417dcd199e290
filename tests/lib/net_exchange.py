#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-only
"""One process that pulls data from a "source service" on 127.0.0.2:5432 (TCP, and UDP
datagrams) and pushes data to a "drop site" on 127.0.0.77 (TCP upload to :8080, UDP to
:9999, unconnected and connected). The servers run in threads of the same process; the
client side's byte counts are printed: "tcp_in udp_in tcp_out udp_out".
"""
import socket
import threading

TCP_BYTES = 3 * (1 << 20) + 12345
DGRAMS = 10


def serve_tcp(addr, send):
    srv = socket.socket()
    srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    srv.bind(addr)
    srv.listen(1)

    def run():
        conn, _ = srv.accept()
        if send:
            conn.sendall(b"r" * TCP_BYTES)
        else:
            while conn.recv(65536):
                pass
        conn.close()
        srv.close()
    t = threading.Thread(target=run)
    t.start()
    return t


def tcp_pull():
    t = serve_tcp(("127.0.0.2", 5432), True)
    c = socket.create_connection(("127.0.0.2", 5432))
    got = 0
    while True:
        d = c.recv(65536)
        if not d:
            break
        got += len(d)
    c.close()
    t.join()
    return got


def tcp_push():
    t = serve_tcp(("127.0.0.77", 8080), False)
    c = socket.create_connection(("127.0.0.77", 8080))
    c.sendall(b"u" * TCP_BYTES)
    c.close()
    t.join()
    return TCP_BYTES


def udp():
    src = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    src.bind(("127.0.0.2", 5432))
    drop = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    drop.bind(("127.0.0.77", 9999))
    me = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    me.bind(("127.0.0.1", 0))
    got = 0
    for _ in range(DGRAMS):
        src.sendto(b"d" * 1000, me.getsockname())
    for _ in range(DGRAMS):
        got += len(me.recvfrom(4096)[0])
    sent = 0
    for _ in range(DGRAMS):
        sent += me.sendto(b"e" * 1200, ("127.0.0.77", 9999))
    conn = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    conn.connect(("127.0.0.77", 9999))
    for _ in range(DGRAMS):
        sent += conn.send(b"f" * 1300)
    for _ in range(2 * DGRAMS):
        drop.recv(4096)
    return got, sent


def main():
    tin = tcp_pull()
    tout = tcp_push()
    uin, uout = udp()
    print(tin, uin, tout, uout)


if __name__ == "__main__":
    main()
