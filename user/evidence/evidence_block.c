// SPDX-License-Identifier: GPL-2.0-only
/*
 * Block access by number: what a shipper needs to send a sealed block exactly as it is on
 * disk. Segment file names carry their first block number, so the segment is found by
 * name and the block by a walk of the 128-byte headers in it (a 16 MiB segment of 1 MiB
 * blocks is a handful of preads).
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "evidence_format.h"
#include "evidence_read.h"

static uint64_t segment_first(const char *name)
{
	return strtoull(name + 4, NULL, 16);
}

/* The segment that holds block_no (the last one starting at or before it). */
static int find_segment(const char *dir, uint64_t block_no, char *out, size_t len)
{
	char **names;
	size_t n;
	long pick = -1;
	int err = ev_list_segments(dir, &names, &n);

	if (err)
		return err;
	for (size_t i = 0; i < n; i++)
		if (segment_first(names[i]) <= block_no)
			pick = (long)i;
	if (pick >= 0)
		snprintf(out, len, "%s", names[pick]);
	err = pick >= 0 ? 0 : n ? -ENOENT : -EAGAIN;
	ev_free_names(names, n);
	return err;
}

static int read_at(int fd, uint64_t off, uint64_t size, const struct ev_block_hdr *h,
		   struct ev_block *b)
{
	size_t len = EV_HDR_LEN + (size_t)h->comp_len;
	unsigned char *p;

	if (size - off < len)
		return -EAGAIN;
	p = malloc(len);
	if (!p)
		return -ENOMEM;
	if (pread(fd, p, len, off) != (ssize_t)len) {
		free(p);
		return -EIO;
	}
	b->bytes = p;
	b->len = len;
	b->block_no = h->block_no;
	b->n_records = h->n_records;
	b->last_ts = h->last_ts;
	memcpy(b->hash, h->hash, 32);
	return 0;
}

static int walk_to(int fd, uint64_t block_no, struct ev_block *b)
{
	uint64_t size = lseek(fd, 0, SEEK_END), off = 0;
	struct ev_block_hdr h;

	while (size - off >= EV_HDR_LEN) {
		if (pread(fd, &h, sizeof(h), off) != sizeof(h))
			return -EIO;
		if (!ev_hdr_plausible(&h))
			return -EBADMSG;
		if (h.block_no == block_no)
			return read_at(fd, off, size, &h, b);
		if (h.block_no > block_no)
			return -EBADMSG;
		off += EV_HDR_LEN + h.comp_len;
	}
	return -EAGAIN;
}

int evidence_block_read(const char *dir, uint64_t block_no, struct ev_block *b)
{
	char seg[32], path[PATH_MAX];
	int fd, err;

	ev_block_free(b);
	err = find_segment(dir, block_no, seg, sizeof(seg));
	if (err)
		return err;
	snprintf(path, sizeof(path), "%s/%.31s", dir, seg);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return errno == ENOENT ? -EAGAIN : -errno;
	err = walk_to(fd, block_no, b);
	close(fd);
	if (!err)
		snprintf(b->segment, sizeof(b->segment), "%s", seg);
	return err;
}

void ev_block_free(struct ev_block *b)
{
	free(b->bytes);
	b->bytes = NULL;
	b->len = 0;
}

int evidence_first_block(const char *dir, uint64_t *block_no)
{
	char **names;
	size_t n;
	int err = ev_list_segments(dir, &names, &n);

	if (err)
		return err;
	*block_no = n ? segment_first(names[0]) : 0;
	ev_free_names(names, n);
	return 0;
}

static void add_segment(const char *dir, const char *name, uint64_t from, uint64_t to,
			uint64_t *bytes, uint64_t *from_last_ts)
{
	char path[PATH_MAX];
	struct ev_block_hdr h;
	uint64_t size, off = 0;
	int fd;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return;
	size = lseek(fd, 0, SEEK_END);
	while (size - off >= EV_HDR_LEN && pread(fd, &h, sizeof(h), off) == sizeof(h) &&
	       ev_hdr_plausible(&h) && h.block_no < to) {
		if (h.block_no >= from)
			*bytes += EV_HDR_LEN + h.comp_len;
		if (h.block_no == from)
			*from_last_ts = h.last_ts;
		off += EV_HDR_LEN + h.comp_len;
	}
	close(fd);
}

int evidence_range_size(const char *dir, uint64_t from, uint64_t to, uint64_t *bytes,
			uint64_t *from_last_ts)
{
	char **names;
	size_t n;
	int err = ev_list_segments(dir, &names, &n);

	*bytes = 0;
	*from_last_ts = 0;
	if (err)
		return err;
	for (size_t i = 0; i < n && from < to; i++) {
		/* Segments that end before `from` (the next one starts at or before it). */
		if (i + 1 < n && segment_first(names[i + 1]) <= from)
			continue;
		if (segment_first(names[i]) >= to)
			break;
		add_segment(dir, names[i], from, to, bytes, from_last_ts);
	}
	ev_free_names(names, n);
	return 0;
}

int evidence_segment_after(const char *dir, uint64_t block_no, uint64_t *first)
{
	char **names;
	size_t n;
	int err = ev_list_segments(dir, &names, &n);

	if (err)
		return err;
	err = -ENOENT;
	for (size_t i = 0; i < n && err; i++) {
		if (segment_first(names[i]) > block_no) {
			*first = segment_first(names[i]);
			err = 0;
		}
	}
	ev_free_names(names, n);
	return err;
}
