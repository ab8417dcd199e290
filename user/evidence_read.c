// SPDX-License-Identifier: GPL-2.0-only
/*
 * Reading and verifying the evidence store. Verification is the walk itself: each
 * block's hash must match its content and name the previous block's hash, block numbers
 * must run on without a hole across segments, and a segment must begin where the one
 * before it ended. The first failure is reported with segment, block number and byte
 * offset; records before it are still delivered, records after it are not trusted.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <zlib.h>

#include "evidence_format.h"
#include "evidence_read.h"

struct walk {
	const char *dir;
	const struct ev_filter *f;
	ev_record_fn fn;
	void *ctx;
	struct ev_report *rep;
	uint8_t prev_hash[32];
	uint64_t next_block;
	bool started;
	bool stop;
	/* retention records seen: a chain may begin after a recorded deletion */
	char retained_heads[64][65];
	unsigned n_retained;
};

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static int list(const char *dir, char ***names, size_t *n)
{
	struct dirent *de;
	size_t cap = 0;
	DIR *d = opendir(dir);

	*names = NULL;
	*n = 0;
	if (!d)
		return -errno;
	while ((de = readdir(d))) {
		size_t l = strlen(de->d_name);

		if (strncmp(de->d_name, "seg-", 4) || l != 24 || strcmp(de->d_name + 20, ".xev"))
			continue;
		if (*n == cap) {
			char **v = realloc(*names, (cap = cap ? 2 * cap : 16) * sizeof(char *));

			if (!v)
				break;
			*names = v;
		}
		(*names)[(*n)++] = strdup(de->d_name);
	}
	closedir(d);
	qsort(*names, *n, sizeof(char *), cmp_str);
	return 0;
}

static void problem(struct walk *w, const char *fmt, const char *seg, uint64_t block, long long off,
		    const char *what)
{
	if (w->rep->problem[0])
		return;
	w->rep->intact = false;
	snprintf(w->rep->problem, sizeof(w->rep->problem), fmt, seg, (unsigned long long)block, off,
		 what);
}

/* Index lines tell which blocks hold a session, without decompressing. */
static bool block_may_match(struct walk *w, const char *seg, const struct ev_block_hdr *h)
{
	char path[PATH_MAX + 80], line[4096];
	bool found = true;
	FILE *f;

	if (w->f && ((w->f->since_ns && h->last_ts < w->f->since_ns) ||
		     (w->f->until_ns && h->first_ts > w->f->until_ns)))
		return false;
	if (!w->f || !w->f->have_session)
		return true;
	snprintf(path, sizeof(path), "%s/%.20s.idx", w->dir, seg);
	f = fopen(path, "r");
	if (!f)
		return true;
	while (fgets(line, sizeof(line), f)) {
		unsigned long long b;
		char sessions[3600], *tok, *save;

		if (sscanf(line, "%llu %*u %*u %*u %*u %*u %3599s", &b, sessions) != 2 ||
		    b != h->block_no)
			continue;
		found = false;
		if (sessions[0] == '*')
			found = true;
		for (tok = strtok_r(sessions, ",*", &save); tok && !found;
		     tok = strtok_r(NULL, ",*", &save))
			found = strtoul(tok, NULL, 10) == w->f->session_id;
		break;
	}
	fclose(f);
	return found;
}

static void note_retention(struct walk *w, const char *json)
{
	const char *p = strstr(json, "\"last_hash\":\"");

	if (p && w->n_retained < 64)
		snprintf(w->retained_heads[w->n_retained++], 65, "%.64s", p + 13);
}

static void deliver(struct walk *w, const char *seg, const struct ev_block_hdr *h,
		    const unsigned char *raw, size_t raw_len, long long off)
{
	size_t pos = 0;

	for (uint32_t i = 0; i < h->n_records && !w->stop; i++) {
		uint32_t len;
		struct ev_record r = { .segment = seg, .block_no = h->block_no };
		char type[256], *json;
		unsigned tlen;

		if (pos + 4 > raw_len || (memcpy(&len, raw + pos, 4), pos + 4 + len > raw_len) ||
		    len < 17 || (tlen = raw[pos + 20]) + 17 > len) {
			problem(w, "%s: block %llu at offset %lld: %s", seg, h->block_no, off,
				"record framing is corrupt");
			return;
		}
		memcpy(&r.seq, raw + pos + 4, 8);
		memcpy(&r.ts_ns, raw + pos + 12, 8);
		memcpy(type, raw + pos + 21, tlen);
		type[tlen] = '\0';
		r.json_len = len - 17 - tlen;
		json = strndup((const char *)raw + pos + 21 + tlen, r.json_len);
		r.type = type;
		r.json = json;
		if (json && !strcmp(type, "retention"))
			note_retention(w, json);
		w->rep->records++;
		if (json && w->fn && (!w->f || ((!w->f->since_ns || r.ts_ns >= w->f->since_ns) &&
						(!w->f->until_ns || r.ts_ns <= w->f->until_ns))))
			w->stop = w->fn(w->ctx, &r) != 0;
		free(json);
		pos += 4 + len;
	}
}

/* The first block of the store: either block 0, or the block after a retention cut. */
static bool chain_start_ok(struct walk *w, const struct ev_block_hdr *h)
{
	static const uint8_t zero[32];

	if (h->block_no == 0)
		return !memcmp(h->prev_hash, zero, 32);
	w->rep->first_block = h->block_no;
	w->rep->retention_cut = true;
	return true;
}

static bool chain_link_ok(struct walk *w, const struct ev_block_hdr *h)
{
	return h->block_no == w->next_block && !memcmp(h->prev_hash, w->prev_hash, 32);
}

static int walk_segment(struct walk *w, const char *seg)
{
	char path[PATH_MAX + 80];
	unsigned char *comp = NULL, *raw = NULL;
	struct ev_block_hdr h;
	off_t off = 0, size;
	uint8_t hash[32];
	int fd;

	snprintf(path, sizeof(path), "%s/%s", w->dir, seg);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		problem(w, "%s: block %llu at offset %lld: %s", seg, w->next_block, 0, strerror(errno));
		return -1;
	}
	/* An empty segment is what a writer leaves after setting a torn first block
	 * aside; a missing block would show as a gap in the numbering after it. */
	size = lseek(fd, 0, SEEK_END);
	while (off < size && !w->stop) {
		uLongf raw_len;

		if (off + EV_HDR_LEN > size || pread(fd, &h, sizeof(h), off) != sizeof(h)) {
			problem(w, "%s: block %llu at offset %lld: %s", seg, w->next_block, off,
				"torn block header (truncated file)");
			break;
		}
		if (memcmp(h.magic, EV_MAGIC, 8) || h.version != EV_VERSION ||
		    h.comp_len > EV_MAX_PAYLOAD || h.raw_len > EV_MAX_PAYLOAD) {
			problem(w, "%s: block %llu at offset %lld: %s", seg, w->next_block, off,
				"not an evidence block header (altered or foreign data)");
			break;
		}
		if (off + EV_HDR_LEN + h.comp_len > size) {
			problem(w, "%s: block %llu at offset %lld: %s", seg, h.block_no, off,
				"torn block (truncated payload)");
			break;
		}
		comp = realloc(comp, h.comp_len + 1);
		raw = realloc(raw, h.raw_len + 1);
		if (!comp || !raw || pread(fd, comp, h.comp_len, off + EV_HDR_LEN) != h.comp_len)
			break;
		ev_block_hash(&h, comp, hash);
		if (memcmp(hash, h.hash, 32)) {
			problem(w, "%s: block %llu at offset %lld: %s", seg, h.block_no, off,
				"hash mismatch: the block was altered");
			break;
		}
		if (w->started ? !chain_link_ok(w, &h) : !chain_start_ok(w, &h)) {
			problem(w, "%s: block %llu at offset %lld: %s", seg, h.block_no, off,
				h.block_no != w->next_block && w->started
					? "chain broken: blocks missing or reordered before this one"
					: "chain broken: previous-hash does not match");
			break;
		}
		w->started = true;
		memcpy(w->prev_hash, h.hash, 32);
		w->next_block = h.block_no + 1;
		w->rep->blocks++;
		ev_hex(h.hash, 32, w->rep->head);
		off += EV_HDR_LEN + h.comp_len;
		/* A query skips blocks the index rules out: their hash is checked, their
		 * payload is never decompressed. */
		if (w->fn && !block_may_match(w, seg, &h))
			continue;
		raw_len = h.raw_len;
		if (uncompress(raw, &raw_len, comp, h.comp_len) != Z_OK || raw_len != h.raw_len) {
			problem(w, "%s: block %llu at offset %lld: %s", seg, h.block_no,
				off - EV_HDR_LEN - h.comp_len, "payload does not decompress");
			break;
		}
		deliver(w, seg, &h, raw, raw_len, off - EV_HDR_LEN - h.comp_len);
	}
	free(comp);
	free(raw);
	close(fd);
	return w->rep->problem[0] ? -1 : 0;
}

/* A chain that starts after block 0 is fine only if a retention record vouches for it. */
static void check_retention_cut(struct walk *w)
{
	if (!w->rep->retention_cut || w->rep->problem[0] || (w->f && w->f->have_session))
		return;
	if (!w->n_retained)
		problem(w, "%s: block %llu at offset %lld: %s", "(start of store)",
			w->rep->first_block, 0,
			"blocks before this one are missing and no retention record explains it");
}

int evidence_read(const char *dir, const struct ev_filter *f, ev_record_fn fn, void *ctx,
		  struct ev_report *rep)
{
	struct walk w = { .dir = dir, .f = f, .fn = fn, .ctx = ctx, .rep = rep };
	struct stat st;
	char **names;
	size_t n;
	int err;

	memset(rep, 0, sizeof(*rep));
	rep->intact = true;
	if (stat(dir, &st))
		return -errno;
	if (!S_ISDIR(st.st_mode))
		return -ENOTDIR;
	err = list(dir, &names, &n);
	if (err)
		return err;
	if (!n) {
		free(names);
		rep->empty = true;
		rep->intact = false;
		snprintf(rep->problem, sizeof(rep->problem),
			 "%s: no evidence segments (seg-*.xev): empty or not an evidence directory",
			 dir);
		return -EINVAL;
	}
	for (size_t i = 0; i < n && !w.stop; i++) {
		rep->segments++;
		if (walk_segment(&w, names[i]))
			break;
	}
	check_retention_cut(&w);
	for (size_t i = 0; i < n; i++)
		free(names[i]);
	free(names);
	return 0;
}
