/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Which mounted filesystems are egress sinks: removable or external media (FAT, exFAT,
 * NTFS, fuse media drivers, block devices that are removable or on the USB bus, and
 * anything mounted under /media or /run/media as desktops mount sticks). Reads
 * mountinfo and sysfs from roots the caller gives, so tests use fixture trees.
 */
#ifndef EXFILMON_MOUNTS_H
#define EXFILMON_MOUNTS_H

#include <stddef.h>
#include <stdint.h>

struct mount_entry {
	uint32_t dev;            /* kernel encoding: major << 20 | minor */
	char mountpoint[256];
	char fstype[32];
	char source[128];
	char why[48];            /* why it counts as media: "fstype vfat", "under /media", ... */
};

struct mount_list {
	struct mount_entry *v;
	size_t n;
};

/* Parses mountinfo_path, keeps media mounts only. sysfs_root is "/sys" normally.
 * Returns 0 or -errno; *out is replaced (free with mounts_free). */
int mounts_scan_media(const char *mountinfo_path, const char *sysfs_root, struct mount_list *out);
void mounts_free(struct mount_list *l);

/* Finds where a device is mounted (any mount, media or not), preferring a mount of the
 * filesystem's root: mnt gets the mount point, root the fs path mounted there. For
 * turning the kernel's fs-relative paths into full ones. Returns 0 or -ENOENT. */
int mounts_find_dev(const char *mountinfo_path, uint32_t dev, char *mnt, size_t len,
		    char *root, size_t root_len);

/* Kernel dev_t encoding from a userspace one. */
uint32_t mounts_kdev(uint64_t st_dev);

/* The device the kernel's inodes under path carry (i_sb->s_dev, what the sensors key
 * files by), from the line of path's mount in mountinfo. On btrfs stat's st_dev is a
 * per-subvolume number instead, which matches nothing. Falls back to st_dev where statx
 * cannot name the mount (before 5.8). */
uint32_t mounts_kdev_path(const char *mountinfo_path, const char *path, uint64_t st_dev);

#endif
