// SPDX-License-Identifier: GPL-2.0-only
/*
 * Opening an existing store: the last segment checked block by block, a torn tail set
 * aside and truncated, an altered block left for verify while writing moves to a new
 * segment, the chain resumed from the last intact block, and the index rebuilt when it
 * does not match the blocks.
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


#include "common/timeutil.h"
#include "common/hash.h"
#include "evidence_int.h"
#include "model/event.h"
#include "common/log.h"

static int read_block(int fd, uint64_t off, uint64_t size, struct ev_block_hdr *h,
		      unsigned char **payload, bool *ok)
{
	unsigned char *p;

	if (size - off < EV_HDR_LEN || pread(fd, h, sizeof(*h), off) != sizeof(*h) ||
	    !ev_hdr_plausible(h) || size - off - EV_HDR_LEN < h->comp_len)
		return 0;
	p = realloc(*payload, h->comp_len + 1);
	if (!p)
		return 0;
	*payload = p;
	if (pread(fd, p, h->comp_len, off + EV_HDR_LEN) != h->comp_len)
		return 0;
	*ok = ev_block_hash_ok(h, p);
	return 1;
}

static void scan_segment(struct evidence *ev, int fd, uint64_t size, struct scan *sc)
{
	unsigned char *payload = NULL;
	struct ev_block_hdr h;
	uint64_t off = 0;
	bool ok;

	memset(sc, 0, sizeof(*sc));
	while (off < size && read_block(fd, off, size, &h, &payload, &ok)) {
		off += EV_HDR_LEN + h.comp_len;
		sc->intact_after_bad |= ok && sc->bad_block;
		sc->bad_block |= !ok;
		sc->last_block_no = h.block_no;
		memcpy(sc->last_hash, h.hash, 32);
		sc->last_next_seq = h.first_seq + h.n_records;
		if (!ok || sc->bad_block)
			continue;
		sc->good_end = off;
		sc->n_good++;
		memcpy(ev->prev_hash, h.hash, 32);
		ev->block_no = h.block_no + 1;
		ev->next_seq = h.first_seq + h.n_records;
	}
	free(payload);
}

/* Writes a recovery record and seals it, so the chain itself tells what open found. */
static void record_recovery(struct evidence *ev, const char *json)
{
	/* The clock only stamps the record; no decision depends on it. */
	if (evidence_append(ev, "recovery", realtime_ns(), json, strlen(json), NULL) ||
	    evidence_seal(ev))
		log_error("evidence: could not record the recovery: %s", json);
}

/* Copies bytes from off to the end aside, then truncates the segment there. */
static int set_aside_tail(struct evidence *ev, const char *name, int fd, uint64_t off,
			  uint64_t size, char *json, size_t json_len)
{
	char path[PATH_MAX + 64], digest[SHA256_HEX_LEN];
	unsigned char *tail = malloc(size - off);
	int tfd, err = 0;

	if (!tail)
		return -ENOMEM;
	snprintf(path, sizeof(path), "%s/%s.torn-%llu", ev->dir, name, (unsigned long long)off);
	if (pread(fd, tail, size - off, off) != (ssize_t)(size - off))
		err = -EIO;
	tfd = err ? -1 : open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (!err && (tfd < 0 || write(tfd, tail, size - off) != (ssize_t)(size - off) || fsync(tfd)))
		err = -errno ? -errno : -EIO;
	if (tfd >= 0)
		close(tfd);
	sha256_hex(tail, size - off, digest);
	free(tail);
	/* Never truncate evidence that could not be saved first. */
	if (err)
		return err;
	if (ftruncate(fd, off) || fdatasync(fd))
		return -errno;
	log_warn("evidence: %s: torn block at offset %llu (%llu bytes) set aside as %s", name,
		 (unsigned long long)off, (unsigned long long)(size - off), path);
	snprintf(json, json_len,
		 "{\"event\":\"torn_tail\",\"segment\":\"%s\",\"offset\":%llu,\"bytes\":%llu,"
		 "\"set_aside\":\"%s.torn-%llu\",\"sha256\":\"%s\"}",
		 name, (unsigned long long)off, (unsigned long long)(size - off), name,
		 (unsigned long long)off, digest);
	return 0;
}

int evs_write_index_line(int fd, const struct ev_index_entry *e)
{
	char line[1024];
	size_t len = ev_index_format(e, line, sizeof(line));

	return write(fd, line, len) == (ssize_t)len ? 0 : -EIO;
}

/* True when the index has exactly one well-formed line per intact block, in order. */
static bool index_matches(const char *idx_path, int fd, uint64_t end)
{
	struct ev_index_entry e;
	struct ev_block_hdr h;
	char line[1024];
	uint64_t off = 0;
	bool match = true;
	FILE *f = fopen(idx_path, "re");

	if (!f)
		return end == 0;
	while (match && fgets(line, sizeof(line), f))
		match = !ev_index_parse(line, &e) && e.offset == off && off < end &&
			pread(fd, &h, sizeof(h), off) == sizeof(h) && h.block_no == e.block_no &&
			(off += EV_HDR_LEN + h.comp_len, true);
	fclose(f);
	return match && off == end;
}

static int index_entry_of(int fd, uint64_t off, struct ev_index_entry *e, unsigned char **comp,
			  unsigned char **raw)
{
	struct ev_block_hdr h;
	size_t raw_len;
	bool ok;

	if (read_block(fd, off, UINT64_MAX, &h, comp, &ok) != 1 || !ok)
		return -EIO;
	*e = (struct ev_index_entry){ .block_no = h.block_no, .offset = off,
				      .first_ts = h.first_ts, .last_ts = h.last_ts,
				      .first_seq = h.first_seq, .n_records = h.n_records };
	raw_len = h.raw_len;
	free(*raw);
	*raw = malloc(h.raw_len + 1);
	if (!*raw || ev_block_decompress(&h, *comp, *raw))
		return -EIO;
	ev_payload_sessions(*raw, raw_len, &e->sessions);
	return (int)(EV_HDR_LEN + h.comp_len);
}

/* Rewrites a segment's index from its intact blocks (a crash can leave it short or torn). */
static int rebuild_index(struct evidence *ev, const char *name, int fd, uint64_t end)
{
	char idx[PATH_MAX + 64], tmp[PATH_MAX + 80];
	unsigned char *comp = NULL, *raw = NULL;
	struct ev_index_entry e;
	uint64_t off = 0;
	int tfd, n, err = 0;

	ev_index_path(ev->dir, name, idx, sizeof(idx));
	if (index_matches(idx, fd, end))
		return 0;
	snprintf(tmp, sizeof(tmp), "%s.tmp", idx);
	tfd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (tfd < 0)
		return -errno;
	while (!err && off < end) {
		n = index_entry_of(fd, off, &e, &comp, &raw);
		err = n < 0 ? n : evs_write_index_line(tfd, &e);
		off += n > 0 ? n : 0;
	}
	free(comp);
	free(raw);
	close(tfd);
	if (!err && rename(tmp, idx))
		err = -errno;
	if (err)
		unlink(tmp);
	else
		log_info("evidence: rebuilt index of %s", name);
	return err;
}

static int open_index(struct evidence *ev)
{
	char idx[PATH_MAX + 64];

	if (ev->idx_fd >= 0)
		close(ev->idx_fd);
	ev_index_path(ev->dir, ev->seg_name, idx, sizeof(idx));
	ev->idx_fd = open(idx, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
	return ev->idx_fd < 0 ? -errno : 0;
}

int evs_new_segment(struct evidence *ev)
{
	char path[PATH_MAX + 64];

	if (ev->fd >= 0)
		close(ev->fd);
	snprintf(ev->seg_name, sizeof(ev->seg_name), "seg-%016llx.xev",
		 (unsigned long long)ev->block_no);
	evs_path_of(ev, ev->seg_name, path, sizeof(path));
	ev->fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_APPEND | O_CLOEXEC, 0600);
	ev->seg_bytes = 0;
	if (ev->fd < 0)
		return -errno;
	evs_fsync_dir(ev);
	return open_index(ev);
}

/* The last whole block header of a segment (hash not checked: used for ages, for the
 * chain head a evs_retention record names, and to resume after an empty last segment). */
int evs_segment_last_header(const struct evidence *ev, const char *name,
			       struct ev_block_hdr *last)
{
	char path[PATH_MAX + 64];
	struct ev_block_hdr h;
	uint64_t off = 0, size;
	int fd, found = -ENODATA;

	evs_path_of(ev, name, path, sizeof(path));
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	size = lseek(fd, 0, SEEK_END);
	while (size - off >= EV_HDR_LEN && pread(fd, &h, sizeof(h), off) == sizeof(h) &&
	       ev_hdr_plausible(&h) && size - off - EV_HDR_LEN >= h.comp_len) {
		*last = h;
		off += EV_HDR_LEN + h.comp_len;
		found = 0;
	}
	close(fd);
	return found;
}

/* The chain state after the last block of an earlier segment. */
static int chain_after(struct evidence *ev, const char *prev_name)
{
	struct ev_block_hdr h;
	int err = evs_segment_last_header(ev, prev_name, &h);

	if (err)
		return err == -ENODATA ? 0 : err;
	memcpy(ev->prev_hash, h.hash, 32);
	ev->block_no = h.block_no + 1;
	ev->next_seq = h.first_seq + h.n_records;
	return 0;
}

/* Continues the last segment, after dealing with whatever its end holds. */
int evs_resume_segment(struct evidence *ev, const char *name, const char *prev_name)
{
	char path[PATH_MAX + 64], json[512] = "";
	struct scan sc;
	uint64_t size;
	int err = 0;

	evs_path_of(ev, name, path, sizeof(path));
	ev->fd = open(path, O_RDWR | O_APPEND | O_CLOEXEC);
	if (ev->fd < 0)
		return -errno;
	size = lseek(ev->fd, 0, SEEK_END);
	/* A segment without an intact block (rotation or a first seal cut short) goes on
	 * from where the one before it ended. */
	if (prev_name && (err = chain_after(ev, prev_name)))
		return err;
	scan_segment(ev, ev->fd, size, &sc);
	snprintf(ev->seg_name, sizeof(ev->seg_name), "%s", name);
	ev->seg_bytes = sc.good_end;
	if (sc.intact_after_bad) {
		log_error("evidence: %s: an altered block at offset %llu is followed by intact "
			  "ones; leaving the file as it is and starting a new segment",
			  name, (unsigned long long)sc.good_end);
		snprintf(json, sizeof(json),
			 "{\"event\":\"altered_block\",\"segment\":\"%s\",\"offset\":%llu}", name,
			 (unsigned long long)sc.good_end);
		memcpy(ev->prev_hash, sc.last_hash, 32);
		ev->block_no = sc.last_block_no + 1;
		ev->next_seq = sc.last_next_seq > ev->next_seq ? sc.last_next_seq : ev->next_seq;
		err = evs_new_segment(ev);
	} else {
		if (sc.good_end < size)
			err = set_aside_tail(ev, name, ev->fd, sc.good_end, size, json, sizeof(json));
		if (!err)
			err = rebuild_index(ev, name, ev->fd, sc.good_end);
		if (!err)
			err = open_index(ev);
	}
	if (!err && json[0])
		record_recovery(ev, json);
	return err;
}

