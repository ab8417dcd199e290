#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-only
"""Reads a whole file through one kernel path: read, readv, pread, preadv, mmap,
sendfile, splice or copy_file_range (the last three into /dev/null or a scratch file),
so a test can prove each path is accounted byte for byte.

usage: read_paths.py METHOD FILE
"""
import mmap
import os
import sys
import tempfile

CHUNK = 1 << 20


def read(fd, n):
    while os.read(fd, CHUNK):
        pass


def readv(fd, n):
    while os.readv(fd, [bytearray(65536), bytearray(65536)]):
        pass


def pread(fd, n):
    off = 0
    while off < n:
        off += len(os.pread(fd, CHUNK, off))


def preadv(fd, n):
    off = 0
    while off < n:
        off += os.preadv(fd, [bytearray(CHUNK)], off)


def do_mmap(fd, n):
    m = mmap.mmap(fd, 0, prot=mmap.PROT_READ)
    m.close()


def sendfile(fd, n):
    out = os.open("/dev/null", os.O_WRONLY)
    off = 0
    while off < n:
        off += os.sendfile(out, fd, off, n - off)


def splice(fd, n):
    r, w = os.pipe()
    out = os.open("/dev/null", os.O_WRONLY)
    while True:
        moved = os.splice(fd, w, 65536)
        if not moved:
            break
        while moved:
            moved -= os.splice(r, out, moved)


def copy_file_range(fd, n):
    with tempfile.TemporaryFile(dir=os.environ.get("TMPDIR", "/tmp")) as f:
        while os.copy_file_range(fd, f.fileno(), CHUNK):
            pass


METHODS = {"read": read, "readv": readv, "pread": pread, "preadv": preadv,
           "mmap": do_mmap, "sendfile": sendfile, "splice": splice,
           "copy_file_range": copy_file_range}


def main():
    method, path = sys.argv[1], sys.argv[2]
    fd = os.open(path, os.O_RDONLY)
    METHODS[method](fd, os.fstat(fd).st_size)
    os.close(fd)


if __name__ == "__main__":
    main()
