// SPDX-License-Identifier: GPL-2.0-only
/*
 * Policy store: last-known-good and applied files. The applied file is four text lines
 * ("serial N", "sha256 HEX", "require_signed 0|1", "path PATH") so an operator can read
 * it with cat.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/atomic_file.h"
#include "config.h"
#include "parse.h"
#include "policy_store.h"

int policy_store_read(const char *dir, struct policy_applied *a)
{
	char path[PATH_MAX], serial[32], sha[80], line[160];
	unsigned req;
	FILE *f;
	int n = 0;

	memset(a, 0, sizeof(*a));
	snprintf(path, sizeof(path), "%s/applied", dir);
	f = fopen(path, "re");
	if (!f)
		return -errno;
	if (fgets(line, sizeof(line), f) && sscanf(line, "serial %31s", serial) == 1)
		n++;
	if (fgets(line, sizeof(line), f) && sscanf(line, "sha256 %79s", sha) == 1)
		n++;
	if (fgets(line, sizeof(line), f) && sscanf(line, "require_signed %u", &req) == 1)
		n++;
	if (fgets(a->path, sizeof(a->path), f) && !strncmp(a->path, "path ", 5)) {
		memmove(a->path, a->path + 5, strlen(a->path + 5) + 1);
		a->path[strcspn(a->path, "\n")] = '\0';
		n++;
	}
	fclose(f);
	if (n != 4 || parse_u64(serial, 0, INT64_MAX, &a->serial) || strlen(sha) != 64 ||
	    req > 1)
		return -EINVAL;
	memcpy(a->sha256, sha, 65);
	a->require_signed = req;
	return 0;
}

int policy_store_read_lkg(const char *dir, char **text, size_t *len)
{
	char path[PATH_MAX];

	snprintf(path, sizeof(path), "%s/last-known-good", dir);
	return config_read_file(path, text, len);
}

/* dir/name replaced by data, durably: a power cut leaves the old file or the new one. */
static int replace_file(const char *dir, const char *name, const void *data, size_t len)
{
	char path[PATH_MAX];

	if (snprintf(path, sizeof(path), "%s/%s", dir, name) >= (int)sizeof(path))
		return -ENAMETOOLONG;
	return atomic_file_write(path, data, len, 0600);
}

/* mkdir -p, each new level 0700: the state dir may not exist before the first policy. */
static int make_dirs(const char *dir)
{
	char buf[PATH_MAX];

	snprintf(buf, sizeof(buf), "%s", dir);
	for (char *p = buf + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(buf, 0700) && errno != EEXIST)
			return -errno;
		*p = '/';
	}
	return mkdir(buf, 0700) && errno != EEXIST ? -errno : 0;
}

int policy_store_save(const char *dir, const char *text, size_t len,
		      const struct policy_applied *a)
{
	char applied[4400];
	int n, err;

	if ((err = make_dirs(dir)))
		return err;
	n = snprintf(applied, sizeof(applied), "serial %llu\nsha256 %s\nrequire_signed %d\n"
		     "path %s\n", (unsigned long long)a->serial, a->sha256,
		     a->require_signed ? 1 : 0, a->path);
	/* The policy first: an applied file never names a policy that is not on disk. */
	err = replace_file(dir, "last-known-good", text, len);
	if (!err)
		err = replace_file(dir, "applied", applied, (size_t)n);
	return err;
}
