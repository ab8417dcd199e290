#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-only
"""Moves directories into and out of a watched tree right after a file beside them was
opened, so the kernel's cached verdict for the directory is warm when the move lands; the
steps follow each other within milliseconds, so renames elsewhere on the machine (which
also invalidate the cache) rarely fall between them. Prints what it did, one line a step.

usage: dir_moves.py SRC OUT   (OUT/in1/inner, OUT/in2/inner hold warm.csv, x.csv, y.csv;
                               OUT/staged.csv exists; SRC is the watched tree)
"""
import ctypes
import os
import sys

AT_FDCWD = -100
libc = ctypes.CDLL(None, use_errno=True)


def read(path):
    fd = os.open(path, os.O_RDONLY)
    while os.read(fd, 1 << 20):
        pass
    os.close(fd)


def renameat2(old, new):
    if libc.renameat2(AT_FDCWD, old.encode(), AT_FDCWD, new.encode(), 0):
        raise OSError(ctypes.get_errno(), "renameat2 %s %s" % (old, new))


def main(src, out):
    # Into the tree: inner/ judged unwatched, then its parent moved in.
    read(f"{out}/in1/inner/warm.csv")
    os.rename(f"{out}/in1", f"{src}/in1")
    read(f"{src}/in1/inner/x.csv")
    read(f"{out}/in2/inner/warm.csv")
    renameat2(f"{out}/in2", f"{src}/in2")
    read(f"{src}/in2/inner/x.csv")
    # Out of the tree: in1/inner/ judged watched just above, then moved out.
    os.rename(f"{src}/in1", f"{out}/gone1")
    read(f"{out}/gone1/inner/y.csv")
    # Removal: doomed/ judged watched, removed; a directory outside may get its number.
    os.mkdir(f"{src}/doomed")
    with open(f"{src}/doomed/f.csv", "wb") as f:
        f.write(b"x" * 16)
    read(f"{src}/doomed/f.csv")
    ino = os.stat(f"{src}/doomed").st_ino
    os.unlink(f"{src}/doomed/f.csv")
    os.rmdir(f"{src}/doomed")
    for i in range(2000):
        d = f"{out}/later/d{i}"
        os.mkdir(d)
        if os.stat(d).st_ino == ino:
            # A hard link, not a rename: only the removal moved the generation.
            os.link(f"{out}/staged.csv", f"{d}/y.csv")
            read(f"{d}/y.csv")
            print(f"reused {d}")
            return 0
    print("not reused")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1], sys.argv[2]))
