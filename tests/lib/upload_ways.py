#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-only
"""Uploads a file to an HTTP drop site the ways a script can, other than a client
program's read and write: the body goes out by sendall of the bytes read (raw), of an
mmap of the file (mmap), by sendfile (sendfile), or spliced through a pipe (splice).

usage: upload_ways.py raw|mmap|sendfile|splice FILE ADDR:PORT
"""
import mmap
import os
import socket
import sys


def main():
    how, path, dst = sys.argv[1], sys.argv[2], sys.argv[3]
    host, port = dst.rsplit(':', 1)
    size = os.path.getsize(path)
    s = socket.create_connection((host, int(port)))
    s.sendall(f'PUT /upload HTTP/1.1\r\nHost: {host}\r\nContent-Length: {size}\r\n'
              'Connection: close\r\n\r\n'.encode())
    with open(path, 'rb') as f:
        if how == 'raw':
            s.sendall(f.read())
        elif how == 'mmap':
            with mmap.mmap(f.fileno(), 0, prot=mmap.PROT_READ) as m:
                s.sendall(m)
        elif how == 'sendfile':
            off = 0
            while off < size:
                off += os.sendfile(s.fileno(), f.fileno(), off, size - off)
        elif how == 'splice':
            r, w = os.pipe()
            left = size
            while left:
                n = os.splice(f.fileno(), w, min(left, 65536))
                if not n:
                    break
                left -= n
                while n:
                    n -= os.splice(r, s.fileno(), n)
        else:
            sys.exit(f'upload_ways: unknown way {how}')
    s.shutdown(socket.SHUT_WR)
    reply = s.recv(4096)
    if not reply.startswith(b'HTTP/1.') or b' 201 ' not in reply.split(b'\r\n')[0]:
        sys.exit(f'upload_ways: drop site said {reply[:60]!r}')


main()
