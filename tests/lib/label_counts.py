#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-only
"""Labels the programs cannot see: the programs look a label up only when its slot's
count (a daemon's lcount_proc / lcount_obj arrays, bpf/lineage.bpf.h) is not zero, so
each count must be at least the number of labels under its slot. Reads the pinned label
maps of PIN_DIR and the counts of the daemon PID; prints "LABELS UNCOUNTED": how many
labels there are and how many lie under a slot that counts too few.

usage: label_counts.py PIN_DIR PID
"""
import json
import os
import subprocess
import sys
from collections import Counter

LSLOTS_PROC = 65536                   # include/abi.h, xm_lslot_proc
LSLOTS_OBJ_BITS = 18                  # include/abi.h, xm_lslot_obj
M64 = (1 << 64) - 1


def slot_proc(key):
    return int.from_bytes(key[:4], 'little') & (LSLOTS_PROC - 1)


def slot_obj(key):
    ino = int.from_bytes(key[:8], 'little')
    dev = int.from_bytes(key[8:12], 'little')
    return (((ino ^ (dev << 40)) & M64) * 0x9e3779b97f4a7c15 & M64) >> (64 - LSLOTS_OBJ_BITS)


def bpftool(*args):
    return json.loads(subprocess.check_output(['bpftool', '-j', *args]))


def raw(hexes):
    return bytes(int(x, 16) for x in hexes)


def count_map(name, pid):
    """The id of the map called name among those pid holds (its fds' fdinfo)."""
    held = set()
    for fd in os.listdir(f'/proc/{pid}/fdinfo'):
        try:
            with open(f'/proc/{pid}/fdinfo/{fd}') as f:
                for line in f:
                    if line.startswith('map_id:'):
                        held.add(int(line.split()[1]))
        except OSError:
            pass
    ids = [m['id'] for m in bpftool('map', 'show') if m.get('name') == name and m['id'] in held]
    if len(ids) != 1:
        sys.exit(f'label_counts: {len(ids)} maps named {name} held by pid {pid}')
    return ids[0]


def main():
    pin, pid = sys.argv[1], int(sys.argv[2])
    labels = uncounted = 0
    for label_map, count_name, slot in (('labels', 'lcount_proc', slot_proc),
                                        ('ilabels', 'lcount_obj', slot_obj)):
        want = Counter(slot(raw(e['key'])) for e in bpftool('map', 'dump', 'pinned',
                                                             f'{pin}/{label_map}'))
        counts = count_map(count_name, pid)
        for s, n in want.items():
            v = bpftool('map', 'lookup', 'id', str(counts), 'key', 'hex',
                        *[f'{b:02x}' for b in s.to_bytes(4, 'little')])
            have = int.from_bytes(raw(v['value']), 'little')
            labels += n
            uncounted += n if have < n else 0
    print(labels, uncounted)


main()
