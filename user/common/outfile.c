// SPDX-License-Identifier: GPL-2.0-only
/*
 * Output files opened without following symlinks (outfile.h). Nothing is truncated
 * until the opened inode is known to be the caller's own regular file.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "outfile.h"

/* 0, or why fd must not be written. */
static int check(int fd)
{
	struct stat st;

	if (fstat(fd, &st))
		return -errno;
	if (!S_ISREG(st.st_mode))
		return -EINVAL;
	if (st.st_nlink > 1)
		return -EMLINK;
	if (st.st_uid != geteuid())
		return -EPERM;
	return 0;
}

FILE *outfile_open(const char *path)
{
	/* O_NONBLOCK: opening a FIFO for writing would wait for a reader. */
	int fd = open(path, O_WRONLY | O_CREAT | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC, 0600);
	int err;
	FILE *f;

	if (fd < 0)
		return NULL;
	err = check(fd);
	if (!err && (ftruncate(fd, 0) || fcntl(fd, F_SETFL, 0)))
		err = -errno;
	if (!err && !(f = fdopen(fd, "w")))
		err = -errno;
	if (err) {
		close(fd);
		errno = -err;
		return NULL;
	}
	return f;
}

const char *outfile_strerror(int err)
{
	switch (err) {
	case ELOOP: return "is a symbolic link (not followed; give the real path)";
	case EINVAL: return "not a regular file";
	case EMLINK: return "has other hard links (refused: it would be shared)";
	case EPERM: return "owned by another user (refused: they could read the output)";
	default: return strerror(err);
	}
}
