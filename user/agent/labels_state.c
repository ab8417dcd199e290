// SPDX-License-Identifier: GPL-2.0-only
/*
 * Derived-file labels saved to and loaded from the state directory (labels_state.h).
 * One line per file: "dev ino gen credit flags n s0 l0 s1 l1 s2 l2 s3 l3 ctime_s ctime_ns
 * path"; the path is the rest of the line (a path holding a newline is not kept). The
 * kernel's dev encoding (major << 20 | minor) is the one stored.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <bpf/bpf.h>

#include "common/atomic_file.h"
#include "abi.h"
#include "label_index.h"
#include "labels_state.h"

static uint32_t kernel_dev(dev_t d)
{
	return major(d) << 20 | minor(d);
}

static int save_one(FILE *f, const struct xm_watch_key *k, const struct xm_label *v,
		    const char *path)
{
	struct stat st;

	/* Only a file that is still where its name says: the change time pins it. */
	if (!path || strchr(path, '\n') || stat(path, &st) || st.st_ino != k->ino ||
	    kernel_dev(st.st_dev) != k->dev)
		return 0;
	fprintf(f, "%u %llu %u %llu %u %u", k->dev, (unsigned long long)k->ino, v->gen,
		(unsigned long long)v->credit, v->flags, v->n_origins);
	for (int i = 0; i < XM_LABEL_ORIGINS; i++)
		fprintf(f, " %u %u", v->origins[i].session, v->origins[i].loginuid);
	fprintf(f, " %lld %ld %s\n", (long long)st.st_ctim.tv_sec, st.st_ctim.tv_nsec, path);
	return 1;
}

int labels_state_save(int ilabels, struct objnames *names, const char *path)
{
	struct xm_watch_key key, next, *prev = NULL;
	struct atomic_file a;
	struct xm_label v;
	int n = 0, err;
	FILE *f = atomic_file_open(&a, path, 0600);

	if (!f)
		return -errno;
	while (bpf_map_get_next_key(ilabels, prev, &next) == 0) {
		key = next;
		prev = &key;
		if (key.dev >= XM_LDEV_INET || bpf_map_lookup_elem(ilabels, &key, &v))
			continue;
		n += save_one(f, &key, &v, objnames_get(names, key.dev, key.ino));
	}
	err = atomic_file_commit(&a, path, true);
	return err ? err : n;
}

/* One saved line back into the map if its file is unchanged. */
static int load_one(const struct sensor_maps *m, char *line, uint64_t now)
{
	unsigned dev, gen, flags, n, s[4], l[4];
	unsigned long long ino, credit;
	struct xm_watch_key k = { 0 };
	struct xm_label v = { 0 };
	long long cs;
	long cns;
	int used = 0;
	struct stat st;
	char *path;

	if (sscanf(line, "%u %llu %u %llu %u %u %u %u %u %u %u %u %u %u %lld %ld %n", &dev, &ino,
		   &gen, &credit, &flags, &n, &s[0], &l[0], &s[1], &l[1], &s[2], &l[2], &s[3],
		   &l[3], &cs, &cns, &used) != 16 || !used)
		return 0;
	path = line + used;
	path[strcspn(path, "\n")] = '\0';
	if (stat(path, &st) || st.st_ino != ino || kernel_dev(st.st_dev) != dev ||
	    st.st_ctim.tv_sec != cs || st.st_ctim.tv_nsec != cns)
		return 0;
	k.dev = dev;
	k.ino = ino;
	v.credit = credit;
	v.flags = flags;
	v.gen = gen;
	v.n_origins = n < XM_LABEL_ORIGINS ? n : XM_LABEL_ORIGINS;
	v.last_ns = now;
	for (int i = 0; i < XM_LABEL_ORIGINS; i++) {
		v.origins[i].session = s[i];
		v.origins[i].loginuid = l[i];
	}
	return label_index_insert_obj(m, &k, &v) == 0;
}

int labels_state_load(const struct sensor_maps *m, const char *path, uint64_t now_boot_ns)
{
	struct xm_watch_key first;
	char *line = NULL;
	size_t cap = 0;
	int n = 0;
	FILE *f;

	/* A map that is not empty was pinned across a restart: it is newer than the file. */
	if (bpf_map_get_next_key(m->ilabels, NULL, &first) == 0)
		return 0;
	f = fopen(path, "re");
	if (!f)
		return errno == ENOENT ? 0 : -errno;
	while (getline(&line, &cap, f) > 0)
		n += load_one(m, line, now_boot_ns);
	free(line);
	fclose(f);
	return n;
}
