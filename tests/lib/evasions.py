#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-only
"""Ways of moving a watched file's bytes that the sensors once missed (issue 11 B).
Each reads FILE completely first, then:

  udp-sendmsg FILE ADDR PORT        sendmsg() with the address, unconnected UDP
  udp-redirect FILE ALLOWED ADDR PORT   connect() to ALLOWED:PORT, then sendto() ADDR:PORT
  packet FILE                       AF_PACKET frames on lo (needs CAP_NET_RAW)
  fork-stage FILE OUT               fork(); the child writes the data to OUT
  mremap FILE                       mmap one page of FILE, mremap it to the whole file, touch it
  aio FILE                          Linux AIO (io_submit IOCB_CMD_PREAD) reads of FILE

Prints the bytes sent or written.
"""
import ctypes
import mmap
import os
import socket
import sys

CHUNK = 60000


def chunks(data):
    for i in range(0, len(data), CHUNK):
        yield data[i:i + CHUNK]


def read_all(path):
    with open(path, "rb") as f:
        return f.read()


def udp_sendmsg(path, addr, port):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    return sum(s.sendmsg([c], [], 0, (addr, int(port))) for c in chunks(read_all(path)))


def udp_redirect(path, allowed, addr, port):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.connect((allowed, int(port)))
    return sum(s.sendto(c, (addr, int(port))) for c in chunks(read_all(path)))


def packet(path):
    s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW)
    s.bind(("lo", 0))
    hdr = b"\x00" * 12 + b"\x88\xb5"   # local experimental ethertype
    data, n = read_all(path), 0
    for i in range(0, len(data), 1400):
        n += s.send(hdr + data[i:i + 1400])
    return n


def fork_stage(path, out):
    data = read_all(path)
    pid = os.fork()
    if pid == 0:
        with open(out, "wb") as f:
            f.write(data)
        os._exit(0)
    os.waitpid(pid, 0)
    return len(data)


def mremap_read(path):
    libc = ctypes.CDLL(None, use_errno=True)
    libc.mmap.restype = ctypes.c_void_p
    libc.mmap.argtypes = [ctypes.c_void_p, ctypes.c_size_t, ctypes.c_int, ctypes.c_int,
                          ctypes.c_int, ctypes.c_long]
    libc.mremap.restype = ctypes.c_void_p
    libc.mremap.argtypes = [ctypes.c_void_p, ctypes.c_size_t, ctypes.c_size_t, ctypes.c_int]
    size = os.path.getsize(path)
    fd = os.open(path, os.O_RDONLY)
    p = libc.mmap(None, 4096, mmap.PROT_READ, mmap.MAP_SHARED, fd, 0)
    q = libc.mremap(p, 4096, size, 1)  # MREMAP_MAYMOVE
    if q in (None, ctypes.c_void_p(-1).value):
        sys.exit(f"mremap: {os.strerror(ctypes.get_errno())}")
    total = 0
    for off in range(0, size, 4096):
        total += ctypes.c_ubyte.from_address(q + off).value >= 0
    return size


class Iocb(ctypes.Structure):
    _fields_ = [("data", ctypes.c_uint64), ("key", ctypes.c_uint32), ("rw_flags", ctypes.c_int32),
                ("opcode", ctypes.c_uint16), ("reqprio", ctypes.c_int16),
                ("fildes", ctypes.c_uint32), ("buf", ctypes.c_uint64),
                ("nbytes", ctypes.c_uint64), ("offset", ctypes.c_int64),
                ("reserved2", ctypes.c_uint64), ("flags", ctypes.c_uint32),
                ("resfd", ctypes.c_uint32)]


class IoEvent(ctypes.Structure):
    _fields_ = [("data", ctypes.c_uint64), ("obj", ctypes.c_uint64), ("res", ctypes.c_int64),
                ("res2", ctypes.c_int64)]


def aio(path):
    libc = ctypes.CDLL(None, use_errno=True)
    libc.syscall.restype = ctypes.c_long
    size, step = os.path.getsize(path), 1 << 20
    fd = os.open(path, os.O_RDONLY)
    ctx = ctypes.c_ulong(0)
    if libc.syscall(206, 8, ctypes.byref(ctx)):  # io_setup
        sys.exit("io_setup failed")
    buf = ctypes.create_string_buffer(step)
    total = 0
    for off in range(0, size, step):
        cb = Iocb(opcode=0, fildes=fd, buf=ctypes.addressof(buf), nbytes=step, offset=off)
        cbs = (ctypes.POINTER(Iocb) * 1)(ctypes.pointer(cb))
        if libc.syscall(209, ctx, 1, cbs) != 1:  # io_submit
            sys.exit("io_submit failed")
        ev = IoEvent()
        if libc.syscall(208, ctx, 1, 1, ctypes.byref(ev), None) != 1:  # io_getevents
            sys.exit("io_getevents failed")
        total += ev.res
    libc.syscall(207, ctx)  # io_destroy
    return total


def main():
    ops = {"udp-sendmsg": udp_sendmsg, "udp-redirect": udp_redirect, "packet": packet,
           "fork-stage": fork_stage, "mremap": mremap_read, "aio": aio}
    if len(sys.argv) < 3 or sys.argv[1] not in ops:
        sys.exit(__doc__)
    print(ops[sys.argv[1]](*sys.argv[2:]))


if __name__ == "__main__":
    main()
