// SPDX-License-Identifier: GPL-2.0-only
/*
 * Inode names, kept in a libc search tree. Eviction is by generation: when the tree
 * reaches its cap it is dropped whole and names are learned again from later opens,
 * which keeps memory bounded without a per-entry LRU list.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <search.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "mounts.h"
#include "objnames.h"

struct name {
	uint64_t ino;
	uint32_t dev;
	char path[];
};

struct objnames {
	void *root;
	size_t n, cap;
};

static int cmp(const void *a, const void *b)
{
	const struct name *x = a, *y = b;

	if (x->dev != y->dev)
		return x->dev < y->dev ? -1 : 1;
	if (x->ino != y->ino)
		return x->ino < y->ino ? -1 : 1;
	return 0;
}

struct objnames *objnames_new(size_t cap)
{
	struct objnames *o = calloc(1, sizeof(*o));

	if (o)
		o->cap = cap ? cap : 65536;
	return o;
}

static void drop_all(struct objnames *o)
{
	tdestroy(o->root, free);
	o->root = NULL;
	o->n = 0;
}

void objnames_free(struct objnames *o)
{
	if (!o)
		return;
	drop_all(o);
	free(o);
}

int objnames_set(struct objnames *o, uint32_t dev, uint64_t ino, const char *path)
{
	size_t len = strlen(path) + 1;
	struct name *n = malloc(sizeof(*n) + len), **slot;

	if (!n)
		return -ENOMEM;
	n->dev = dev;
	n->ino = ino;
	memcpy(n->path, path, len);
	if (o->n >= o->cap)
		drop_all(o);
	slot = tsearch(n, &o->root, cmp);
	if (!slot) {
		free(n);
		return -ENOMEM;
	}
	if (*slot != n) {
		/* Renamed or relinked: the latest name wins. */
		struct name *old = *slot;

		tdelete(old, &o->root, cmp);
		free(old);
		slot = tsearch(n, &o->root, cmp);
		if (!slot) {
			free(n);
			return -ENOMEM;
		}
		return 0;
	}
	o->n++;
	return 0;
}

const char *objnames_get(struct objnames *o, uint32_t dev, uint64_t ino)
{
	struct name key = { .ino = ino, .dev = dev };
	struct name **slot = tfind(&key, &o->root, cmp);

	return slot ? (*slot)->path : NULL;
}

const char *objnames_resolve_fd(struct objnames *o, const char *proc_root, uint32_t pid,
				uint32_t dev, uint64_t ino)
{
	char dir[64 + PATH_MAX], link[PATH_MAX + 320], target[PATH_MAX];
	struct dirent *de;
	const char *found = NULL;
	DIR *d;

	snprintf(dir, sizeof(dir), "%s/%u/fd", proc_root, pid);
	d = opendir(dir);
	if (!d)
		return NULL;
	while (!found && (de = readdir(d))) {
		struct stat st;
		ssize_t n;

		if (de->d_name[0] == '.')
			continue;
		snprintf(link, sizeof(link), "%s/%s", dir, de->d_name);
		if (stat(link, &st) || st.st_ino != ino)
			continue;
		/* btrfs: stat's device is the subvolume's; the kernel's is the mount's. */
		if (mounts_kdev(st.st_dev) != dev) {
			char mi[PATH_MAX + 32];

			snprintf(mi, sizeof(mi), "%s/self/mountinfo", proc_root);
			if (mounts_kdev_path(mi, link, st.st_dev) != dev)
				continue;
		}
		n = readlink(link, target, sizeof(target) - 1);
		if (n <= 0)
			continue;
		target[n] = '\0';
		if (objnames_set(o, dev, ino, target) == 0)
			found = objnames_get(o, dev, ino);
	}
	closedir(d);
	return found;
}

size_t objnames_count(const struct objnames *o)
{
	return o->n;
}
