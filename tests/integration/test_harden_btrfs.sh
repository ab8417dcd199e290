#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
# Issue 11 B14: on btrfs, stat's st_dev is a per-subvolume number while the kernel's
# inodes carry the superblock's device (what mountinfo shows). A source tree on btrfs,
# with a subvolume inside it, must be watched: reads of a file at the top and of one in
# the subvolume are counted exactly. (Inode numbers restart in each subvolume, so the
# two files may share one (device, inode) key and one flow: the bytes are exact, the
# object name is one of the two; docs/sensors.md lists it.)
. "$(dirname "$0")/../lib/itest.sh"

SIZE=4194304
command -v mkfs.btrfs >/dev/null || die "mkfs.btrfs missing (scripts/install-deps.sh test)"
truncate -s 256M "$T/btrfs.img"
mkfs.btrfs -q "$T/btrfs.img" >/dev/null 2>&1 || die "mkfs.btrfs"
mkdir -p "$T/mnt"
mount -o loop "$T/btrfs.img" "$T/mnt" || die "mount btrfs"
itest_on_exit "umount -l $T/mnt"
btrfs subvolume create "$T/mnt/sub" >/dev/null || die "btrfs subvolume create"
head -c $SIZE /dev/urandom >"$T/mnt/top.csv"
head -c $SIZE /dev/urandom >"$T/mnt/sub/in-subvolume.csv"
chmod -R a+rX "$T"
check "stat's device differs from the kernel's (the case under test)" "$(python3 -c "
import os
d = os.stat('$T/mnt/top.csv').st_dev
mi = [l.split() for l in open('/proc/self/mountinfo') if l.split()[4] == '$T/mnt']
print(int(mi[0][2] != f'{os.major(d)}:{os.minor(d)}'))")" 1
cat >"$T/exfilmon.yaml" <<YAML
sources:
  paths: ["$T/mnt"]
egress:
  allow: ["127.0.0.0/8"]
YAML
trace_start "$T/exfilmon.yaml" "$T/ev.json"
in_session 1001 "$T/read.info" cat "$T/mnt/top.csv" "$T/mnt/sub/in-subvolume.csv" >/dev/null ||
	die "reader"
sleep 1
trace_stop
S=$(info_session "$T/read.info")
check "both files on btrfs counted, to the byte" "$(events sum "$T/ev.json" --session "$S" \
	--kind source_file)" $((SIZE * 2))
check "both opens reported as sources" "$(events count "$T/ev.json" --session "$S" \
	--event open --class source)" 2
itest_finish
