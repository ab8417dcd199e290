// SPDX-License-Identifier: GPL-2.0-only
/*
 * Retention: whole segments deleted by age or total size, oldest first, each deletion
 * recorded and sealed in the chain before the unlink.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>


#include "common/hash.h"
#include "evidence_int.h"
#include "model/event.h"
#include "common/log.h"

static void delete_torn_files(const struct evidence *ev, const char *name)
{
	struct dirent *de;
	DIR *d = opendir(ev->dir);

	if (!d)
		return;
	while ((de = readdir(d)))
		if (!strncmp(de->d_name, name, EV_SEG_NAME_LEN) &&
		    !strncmp(de->d_name + EV_SEG_NAME_LEN, ".torn-", 6))
			unlinkat(dirfd(d), de->d_name, 0);
	closedir(d);
}

/* Records the deletion durably first: a crash between the two leaves a segment that
 * the store says was deleted (harmless), never a deletion nobody recorded. */
static int delete_segment(struct evidence *ev, const char *name, const char *reason,
			  uint64_t now)
{
	char path[PATH_MAX + 64], head[65] = "none", json[512];
	struct ev_block_hdr h = { 0 };
	int err = evs_segment_last_header(ev, name, &h);

	if (!err)
		hex_encode(h.hash, 32, head);
	else if (err != -ENODATA)
		return err;
	snprintf(json, sizeof(json),
		 "{\"deleted_segment\":\"%s\",\"last_block\":%llu,\"last_hash\":\"%s\","
		 "\"last_ts\":%llu,\"reason\":\"%s\"}",
		 name, (unsigned long long)h.block_no, head, (unsigned long long)h.last_ts, reason);
	if ((err = evidence_append(ev, "retention", now, json, strlen(json), NULL)) ||
	    (err = evidence_seal(ev)))
		return err;
	evs_path_of(ev, name, path, sizeof(path));
	if (unlink(path))
		return -errno;
	ev_index_path(ev->dir, name, path, sizeof(path));
	unlink(path);
	delete_torn_files(ev, name);
	evs_fsync_dir(ev);
	log_info("evidence: evs_retention deleted %s (%s)", name, reason);
	return 0;
}

static uint64_t file_size(const struct evidence *ev, const char *name)
{
	char path[PATH_MAX + 64];
	struct stat st;

	evs_path_of(ev, name, path, sizeof(path));
	return stat(path, &st) ? 0 : (uint64_t)st.st_size;
}

int evs_retention(struct evidence *ev, uint64_t now)
{
	struct ev_block_hdr h;
	uint64_t total = 0;
	char **names;
	size_t n;
	int err;

	if ((!ev->o.retention_ns && !ev->o.retention_bytes) ||
	    (err = ev_list_segments(ev->dir, &names, &n)))
		return 0;
	for (size_t i = 0; i < n; i++)
		total += file_size(ev, names[i]);
	/* Oldest first, and never the segment being written. */
	for (size_t i = 0; i < n && strcmp(names[i], ev->seg_name) < 0 && !err; i++) {
		uint64_t size = file_size(ev, names[i]);
		bool old, big;

		h.last_ts = 0;
		evs_segment_last_header(ev, names[i], &h);
		old = ev->o.retention_ns && now > h.last_ts && now - h.last_ts > ev->o.retention_ns;
		big = ev->o.retention_bytes && total > ev->o.retention_bytes;
		if (!old && !big)
			break;
		err = delete_segment(ev, names[i], old ? "age" : "size", now);
		total -= size;
	}
	ev_free_names(names, n);
	return err;
}

