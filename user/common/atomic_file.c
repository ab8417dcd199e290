// SPDX-License-Identifier: GPL-2.0-only
/*
 * Whole-file replacement by temporary and rename (see atomic_file.h): one piece of code
 * for the status-like files the agent and the CLI keep (metrics, cursors, labels, policy).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "atomic_file.h"

FILE *atomic_file_open(struct atomic_file *a, const char *path, mode_t mode)
{
	int fd;

	if (snprintf(a->tmp, sizeof(a->tmp), "%s.tmp", path) >= (int)sizeof(a->tmp)) {
		errno = ENAMETOOLONG;
		return NULL;
	}
	fd = open(a->tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
	if (fd < 0)
		return NULL;
	a->f = fdopen(fd, "w");
	if (!a->f) {
		close(fd);
		unlink(a->tmp);
	}
	return a->f;
}

int atomic_file_commit(struct atomic_file *a, const char *path, bool durable)
{
	int err = 0;

	if (ferror(a->f) || fflush(a->f) || (durable && fsync(fileno(a->f))))
		err = errno ? -errno : -EIO;
	if (fclose(a->f) && !err)
		err = -errno;
	a->f = NULL;
	if (!err && rename(a->tmp, path))
		err = -errno;
	if (err) {
		unlink(a->tmp);
		return err;
	}
	return durable ? atomic_file_sync_dir(path) : 0;
}

int atomic_file_write(const char *path, const void *data, size_t len, mode_t mode)
{
	struct atomic_file a;

	if (!atomic_file_open(&a, path, mode))
		return -errno;
	fwrite(data, 1, len, a.f);
	return atomic_file_commit(&a, path, true);
}

int atomic_file_sync_dir(const char *path)
{
	char buf[PATH_MAX];
	int fd, err = 0;

	snprintf(buf, sizeof(buf), "%s", path);
	fd = open(dirname(buf), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	if (fsync(fd))
		err = -errno;
	close(fd);
	return err;
}
