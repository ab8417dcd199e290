// SPDX-License-Identifier: GPL-2.0-only
/*
 * Media classification from /proc/self/mountinfo and sysfs. A mount is a sink when any
 * one signal says so; the signal is kept (why) so an alert can say why a mount counted.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "common/array_size.h"
#include "mounts.h"

#ifndef STATX_MNT_ID
#define STATX_MNT_ID 0x1000U   /* linux/stat.h, 5.8 */
#endif

static const char *const media_fstypes[] = {
	"vfat", "msdos", "exfat", "ntfs", "ntfs3", "fuseblk", "udf", "iso9660",
	"fuse.fusefat", "fuse.exfat", "fuse.ntfs-3g", "fuse.ntfs", "fuse.exfat-fuse",
	/* gvfs: MTP phones, cameras (gphoto2) and network shares appear under one FUSE mount
	 * (/run/user/UID/gvfs); whatever is written there leaves the machine. */
	"fuse.gvfsd-fuse",
};

static const char *const media_prefixes[] = { "/media/", "/run/media/" };

uint32_t mounts_kdev(uint64_t st_dev)
{
	return (uint32_t)(major(st_dev) << 20 | minor(st_dev));
}

uint32_t mounts_kdev_path(const char *mountinfo_path, const char *path, uint64_t st_dev)
{
	uint32_t kdev = mounts_kdev(st_dev);
	unsigned long long id;
	unsigned maj, min;
	struct statx sx;
	char line[4096];
	FILE *f;

	if (statx(AT_FDCWD, path, 0, STATX_MNT_ID, &sx) ||
	    !(sx.stx_mask & STATX_MNT_ID))
		return kdev;
	f = fopen(mountinfo_path, "re");
	if (!f)
		return kdev;
	while (fgets(line, sizeof(line), f)) {
		if (sscanf(line, "%llu %*u %u:%u", &id, &maj, &min) == 3 && id == sx.stx_mnt_id) {
			kdev = maj << 20 | min;
			break;
		}
	}
	fclose(f);
	return kdev;
}

/* Unescapes mountinfo's octal escapes (\040 for a space) in place. */
static void unescape(char *s)
{
	char *w = s;

	for (char *r = s; *r; r++) {
		if (r[0] == '\\' && r[1] >= '0' && r[1] <= '3' && r[2] && r[3]) {
			*w++ = (char)((r[1] - '0') << 6 | (r[2] - '0') << 3 | (r[3] - '0'));
			r += 3;
		} else {
			*w++ = *r;
		}
	}
	*w = '\0';
}

struct mi_line {
	unsigned maj, min;
	char root[256];
	char mountpoint[256];
	char fstype[32];
	char source[128];
};

/* One mountinfo line: "36 35 98:0 /mnt1 /mnt2 rw,noatime master:1 - ext3 /dev/root rw" */
static int parse_line(char *line, struct mi_line *m)
{
	char mnt[256], rest[512];
	char *dash;

	if (sscanf(line, "%*u %*u %u:%u %255s %255s", &m->maj, &m->min, m->root, mnt) != 4)
		return -EINVAL;
	dash = strstr(line, " - ");
	if (!dash)
		return -EINVAL;
	snprintf(rest, sizeof(rest), "%s", dash + 3);
	if (sscanf(rest, "%31s %127s", m->fstype, m->source) < 1)
		return -EINVAL;
	unescape(mnt);
	unescape(m->root);
	snprintf(m->mountpoint, sizeof(m->mountpoint), "%s", mnt);
	return 0;
}

static int read_sys_int(const char *path)
{
	FILE *f = fopen(path, "r");
	int v = -1;

	if (!f)
		return -1;
	if (fscanf(f, "%d", &v) != 1)
		v = -1;
	fclose(f);
	return v;
}

/* Removable flag of the disk or, for a partition, of its parent disk; USB by sysfs path. */
static const char *block_signal(const char *sysfs_root, unsigned maj, unsigned min)
{
	char link[512], real[PATH_MAX], path[PATH_MAX + 32];

	snprintf(link, sizeof(link), "%s/dev/block/%u:%u", sysfs_root, maj, min);
	if (!realpath(link, real))
		return NULL;
	if (strstr(real, "/usb"))
		return "usb bus";
	snprintf(path, sizeof(path), "%s/removable", real);
	if (read_sys_int(path) == 1)
		return "removable device";
	snprintf(path, sizeof(path), "%s/../removable", real);
	if (read_sys_int(path) == 1)
		return "removable device";
	return NULL;
}

static bool classify(const struct mi_line *m, const char *sysfs_root, char *why, size_t len)
{
	const char *sig;

	for (size_t i = 0; i < ARRAY_SIZE(media_fstypes); i++) {
		if (!strcmp(m->fstype, media_fstypes[i])) {
			snprintf(why, len, "fstype %s", m->fstype);
			return true;
		}
	}
	for (size_t i = 0; i < ARRAY_SIZE(media_prefixes); i++) {
		if (!strncmp(m->mountpoint, media_prefixes[i], strlen(media_prefixes[i]))) {
			snprintf(why, len, "under %.*s", (int)strlen(media_prefixes[i]) - 1,
				 media_prefixes[i]);
			return true;
		}
	}
	/* Anonymous devices (major 0) have no block device to ask. */
	if (m->maj != 0 && (sig = block_signal(sysfs_root, m->maj, m->min))) {
		snprintf(why, len, "%s", sig);
		return true;
	}
	return false;
}

static int push(struct mount_list *l, const struct mi_line *m, const char *why)
{
	struct mount_entry *v = realloc(l->v, (l->n + 1) * sizeof(*v));
	struct mount_entry *e;

	if (!v)
		return -ENOMEM;
	l->v = v;
	e = &v[l->n++];
	memset(e, 0, sizeof(*e));
	e->dev = m->maj << 20 | m->min;
	snprintf(e->mountpoint, sizeof(e->mountpoint), "%s", m->mountpoint);
	snprintf(e->fstype, sizeof(e->fstype), "%s", m->fstype);
	snprintf(e->source, sizeof(e->source), "%s", m->source);
	snprintf(e->why, sizeof(e->why), "%s", why);
	return 0;
}

int mounts_scan_media(const char *mountinfo_path, const char *sysfs_root, struct mount_list *out)
{
	struct mount_list l = { 0 };
	FILE *f = fopen(mountinfo_path, "r");
	char line[2048], why[48];
	struct mi_line m;
	int err = 0;

	if (!f)
		return -errno;
	while (!err && fgets(line, sizeof(line), f)) {
		if (parse_line(line, &m) || !classify(&m, sysfs_root, why, sizeof(why)))
			continue;
		err = push(&l, &m, why);
	}
	fclose(f);
	if (err) {
		mounts_free(&l);
		return err;
	}
	mounts_free(out);
	*out = l;
	return 0;
}

void mounts_free(struct mount_list *l)
{
	free(l->v);
	l->v = NULL;
	l->n = 0;
}

int mounts_find_dev(const char *mountinfo_path, uint32_t dev, char *mnt, size_t len,
		    char *root, size_t root_len)
{
	FILE *f = fopen(mountinfo_path, "r");
	char line[2048];
	struct mi_line m;
	int err = -ENOENT;

	if (!f)
		return -errno;
	while (fgets(line, sizeof(line), f)) {
		if (parse_line(line, &m) || (m.maj << 20 | m.min) != dev)
			continue;
		/* Prefer a mount of the filesystem's own root: bind mounts of subtrees and
		 * later mounts of the same device come second. */
		if (err == 0 && strcmp(m.root, "/"))
			continue;
		snprintf(mnt, len, "%s", m.mountpoint);
		snprintf(root, root_len, "%s", m.root);
		err = 0;
		if (!strcmp(m.root, "/"))
			break;
	}
	fclose(f);
	return err;
}
