/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Output files that root writes where others can write too (exfilctl report -o
 * /tmp/case.html). A symlink planted at that name would make root overwrite any file it
 * points to; a FIFO would hang the command; a hard link or a file someone else owns
 * would hand the report to them. Such names are refused, not followed.
 */
#ifndef EXFILMON_OUTFILE_H
#define EXFILMON_OUTFILE_H

#include <stdio.h>

/*
 * Opens path for writing, created 0600 or truncated, never through a symlink as the last
 * component (O_NOFOLLOW). Returns a stream, or NULL with errno: ELOOP for a symlink,
 * EINVAL for something that is not a regular file, EMLINK for a file with other hard
 * links, EPERM for a file owned by another user, or what open(2) said.
 */
FILE *outfile_open(const char *path);

/* A sentence for outfile_open's errno ("is a symbolic link (not followed)"). */
const char *outfile_strerror(int err);

#endif
