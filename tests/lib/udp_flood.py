#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-only
"""Sends one byte over UDP to N distinct loopback address:port pairs (addresses from
127.90.0.1 up, always port 9, discard, so no service anywhere receives them): the flow-map
exhaustion attack of issue 11. Touches --done when finished, then stays alive (holding
its flows) until killed when --hold is given.

usage: udp_flood.py --count N --done FILE [--hold]
"""
import argparse
import socket
import time


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--count", type=int, default=131070)
    ap.add_argument("--done", required=True)
    ap.add_argument("--hold", action="store_true")
    a = ap.parse_args()
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    base = (127 << 24) | (90 << 16) | 1
    for i in range(a.count):
        n = base + i
        addr = f"{n >> 24}.{(n >> 16) & 255}.{(n >> 8) & 255}.{n & 255}"
        try:
            s.sendto(b"x", (addr, 9))
        except OSError:
            pass  # an ICMP unreachable from an earlier datagram surfaces here
    open(a.done, "w").close()
    while a.hold:
        time.sleep(1)


if __name__ == "__main__":
    main()
