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

/* Blocks from `from` on in segment name and their records: what retention is about to
 * delete before anyone shipped it. */
struct unshipped {
	uint64_t blocks, records, first, last;
};

static void count_unshipped(const struct evidence *ev, const char *name, uint64_t from,
			    struct unshipped *u)
{
	char path[PATH_MAX + 64];
	struct ev_block_hdr h;
	uint64_t off = 0, size;
	int fd;

	memset(u, 0, sizeof(*u));
	evs_path_of(ev, name, path, sizeof(path));
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return;
	size = lseek(fd, 0, SEEK_END);
	while (size - off >= EV_HDR_LEN && pread(fd, &h, sizeof(h), off) == sizeof(h) &&
	       ev_hdr_plausible(&h) && size - off - EV_HDR_LEN >= h.comp_len) {
		off += EV_HDR_LEN + h.comp_len;
		if (h.block_no < from)
			continue;
		if (!u->blocks++)
			u->first = h.block_no;
		u->last = h.block_no;
		u->records += h.n_records;
	}
	close(fd);
}

static void report_unshipped(struct evidence *ev, const char *name, const struct unshipped *u)
{
	log_warn("evidence: retention deletes %llu blocks (%llu..%llu, %llu records) of %s "
		 "that were never shipped", (unsigned long long)u->blocks,
		 (unsigned long long)u->first, (unsigned long long)u->last,
		 (unsigned long long)u->records, name);
	if (ev->o.on_unshipped_deleted)
		ev->o.on_unshipped_deleted(ev->o.ctx, u->first, u->last, u->records);
}

/* Records the deletion durably first: a crash between the two leaves a segment that
 * the store says was deleted (harmless), never a deletion nobody recorded. */
static int delete_segment(struct evidence *ev, const char *name, const char *reason,
			  uint64_t now)
{
	char path[PATH_MAX + 64], head[65] = "none", json[512], extra[192] = "";
	struct ev_block_hdr h = { 0 };
	struct unshipped u = { 0 };
	int err = evs_segment_last_header(ev, name, &h);

	if (!err)
		hex_encode(h.hash, 32, head);
	else if (err != -ENODATA)
		return err;
	if (ev->unshipped_from != UINT64_MAX)
		count_unshipped(ev, name, ev->unshipped_from, &u);
	if (u.blocks)
		snprintf(extra, sizeof(extra),
			 ",\"unshipped\":{\"blocks\":%llu,\"records\":%llu,\"first_block\":%llu,"
			 "\"last_block\":%llu}",
			 (unsigned long long)u.blocks, (unsigned long long)u.records,
			 (unsigned long long)u.first, (unsigned long long)u.last);
	snprintf(json, sizeof(json),
		 "{\"deleted_segment\":\"%s\",\"last_block\":%llu,\"last_hash\":\"%s\","
		 "\"last_ts\":%llu,\"reason\":\"%s\"%s}",
		 name, (unsigned long long)h.block_no, head, (unsigned long long)h.last_ts, reason,
		 extra);
	if ((err = evidence_append(ev, "retention", now, json, strlen(json), NULL)) ||
	    (err = evidence_seal(ev)))
		return err;
	if (u.blocks)
		report_unshipped(ev, name, &u);
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

