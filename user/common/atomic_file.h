/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Files replaced whole or not at all: written under PATH.tmp, then renamed over PATH, so
 * a reader (node_exporter, the next start, exfilctl) sees the old file or the new one,
 * never half of one. Durable replacement also syncs the file and its directory, so a
 * power cut leaves one of the two as well.
 */
#ifndef EXFILMON_ATOMIC_FILE_H
#define EXFILMON_ATOMIC_FILE_H

#include <limits.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <sys/types.h>

struct atomic_file {
	FILE *f;
	char tmp[PATH_MAX];
};

/* Creates (mode) or truncates PATH.tmp for writing; its stream, or NULL with errno set. */
FILE *atomic_file_open(struct atomic_file *a, const char *path, mode_t mode);
/* Closes the stream and renames it over path; durable: fsync of the file before and of
 * its directory after. On any failure (a write error included) the temporary is removed
 * and path is left as it was. Returns 0 or -errno. */
int atomic_file_commit(struct atomic_file *a, const char *path, bool durable);
/* len bytes of data as the whole of path, durably. Returns 0 or -errno. */
int atomic_file_write(const char *path, const void *data, size_t len, mode_t mode);
/* fsync of the directory holding path: makes a rename or a new file in it durable. */
int atomic_file_sync_dir(const char *path);

#endif
