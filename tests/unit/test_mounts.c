// SPDX-License-Identifier: GPL-2.0-only
/* Unit tests for mounts.c: media classification from a fixture mountinfo and sysfs. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <cmocka.h>

#include "agent/mounts.h"

static char root[64];

static void put(const char *rel, const char *text)
{
	char path[256];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", root, rel);
	f = fopen(path, "w");
	assert_non_null(f);
	fputs(text, f);
	fclose(f);
}

static void mk(const char *rel)
{
	char cmd[512];

	snprintf(cmd, sizeof(cmd), "mkdir -p '%s/%s'", root, rel);
	assert_int_equal(system(cmd), 0);
}

static void link_to(const char *target_rel, const char *link_rel)
{
	char t[256], l[256];

	snprintf(t, sizeof(t), "%s/%s", root, target_rel);
	snprintf(l, sizeof(l), "%s/%s", root, link_rel);
	assert_int_equal(symlink(t, l), 0);
}

static int setup(void **state)
{
	snprintf(root, sizeof(root), "/tmp/test_mounts.XXXXXX");
	assert_non_null(mkdtemp(root));
	mk("sys/dev/block");
	/* sdb1: a partition of a USB disk; sdc: a removable SATA device; vda: fixed. */
	mk("sys/devices/pci0000:00/usb1/1-1/host6/block/sdb/sdb1");
	mk("sys/devices/pci0000:00/ata2/block/sdc");
	mk("sys/devices/pci0000:00/virtio1/block/vda");
	put("sys/devices/pci0000:00/ata2/block/sdc/removable", "1\n");
	put("sys/devices/pci0000:00/virtio1/block/vda/removable", "0\n");
	link_to("sys/devices/pci0000:00/usb1/1-1/host6/block/sdb/sdb1", "sys/dev/block/8:17");
	link_to("sys/devices/pci0000:00/ata2/block/sdc", "sys/dev/block/8:32");
	link_to("sys/devices/pci0000:00/virtio1/block/vda", "sys/dev/block/254:0");
	put("mountinfo",
	    "22 1 254:0 / / rw,relatime - ext4 /dev/vda rw\n"
	    "30 22 8:17 / /mnt/usb rw - ext4 /dev/sdb1 rw\n"
	    "31 22 8:32 / /mnt/sata rw - xfs /dev/sdc rw\n"
	    "32 22 0:55 / /media/alice/STICK rw - fuse.fusefat /dev/loop0 rw\n"
	    "33 22 7:1 / /mnt/fat\\040stick rw - vfat /dev/loop1 rw\n"
	    "34 22 0:56 / /run/media/bob/disk rw - ext4 /dev/sdd1 rw\n"
	    "35 22 254:0 /srv/data /srv/bound rw - ext4 /dev/vda rw\n"
	    "36 22 0:21 / /proc rw - proc proc rw\n"
	    "37 22 0:57 / /run/user/1000/gvfs rw - fuse.gvfsd-fuse gvfsd-fuse rw\n"
	    "garbage line\n");
	return 0;
}

static int teardown(void **state)
{
	char cmd[128];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", root);
	return system(cmd);
}

static const struct mount_entry *find(const struct mount_list *l, const char *mnt)
{
	for (size_t i = 0; i < l->n; i++)
		if (!strcmp(l->v[i].mountpoint, mnt))
			return &l->v[i];
	return NULL;
}

static void scan(struct mount_list *l)
{
	char mi[128], sys[128];

	snprintf(mi, sizeof(mi), "%s/mountinfo", root);
	snprintf(sys, sizeof(sys), "%s/sys", root);
	assert_int_equal(mounts_scan_media(mi, sys, l), 0);
}

static void test_mounts_scan_media_finds_every_signal(void **state)
{
	struct mount_list l = { 0 };

	scan(&l);
	assert_int_equal(l.n, 6);
	assert_string_equal(find(&l, "/mnt/usb")->why, "usb bus");
	assert_string_equal(find(&l, "/mnt/sata")->why, "removable device");
	assert_string_equal(find(&l, "/media/alice/STICK")->why, "fstype fuse.fusefat");
	assert_string_equal(find(&l, "/mnt/fat stick")->why, "fstype vfat");
	assert_string_equal(find(&l, "/run/media/bob/disk")->why, "under /run/media");
	assert_string_equal(find(&l, "/run/user/1000/gvfs")->why, "fstype fuse.gvfsd-fuse");
	assert_int_equal(find(&l, "/mnt/usb")->dev, 8 << 20 | 17);
	mounts_free(&l);
}

static void test_mounts_scan_media_skips_fixed_disks(void **state)
{
	struct mount_list l = { 0 };

	scan(&l);
	assert_null(find(&l, "/"));
	assert_null(find(&l, "/proc"));
	assert_null(find(&l, "/srv/bound"));
	mounts_free(&l);
}

static void test_mounts_scan_media_missing_file(void **state)
{
	struct mount_list l = { 0 };

	assert_int_equal(mounts_scan_media("/nonexistent/mountinfo", "/sys", &l), -ENOENT);
	assert_int_equal(l.n, 0);
}

static void test_mounts_find_dev_prefers_fs_root(void **state)
{
	char mi[128], mnt[256], rootp[256];

	snprintf(mi, sizeof(mi), "%s/mountinfo", root);
	assert_int_equal(mounts_find_dev(mi, 254 << 20, mnt, sizeof(mnt), rootp, sizeof(rootp)), 0);
	assert_string_equal(mnt, "/");
	assert_string_equal(rootp, "/");
	assert_int_equal(mounts_find_dev(mi, 1 << 20, mnt, sizeof(mnt), rootp, sizeof(rootp)),
			 -ENOENT);
}

static void test_mounts_kdev_encoding(void **state)
{
	assert_int_equal(mounts_kdev(makedev(8, 17)), 8 << 20 | 17);
	assert_int_equal(mounts_kdev(makedev(259, 300)), 259 << 20 | 300);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_mounts_scan_media_finds_every_signal),
		cmocka_unit_test(test_mounts_scan_media_skips_fixed_disks),
		cmocka_unit_test(test_mounts_scan_media_missing_file),
		cmocka_unit_test(test_mounts_find_dev_prefers_fs_root),
		cmocka_unit_test(test_mounts_kdev_encoding),
	};

	return cmocka_run_group_tests_name("mounts", tests, setup, teardown);
}
