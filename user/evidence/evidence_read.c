// SPDX-License-Identifier: GPL-2.0-only
/*
 * Reading and verifying the evidence store. Verification is the walk itself: each
 * block's hash must match its content and name the previous block's hash, block numbers
 * must run on without a hole across segments, and a store that does not start at block
 * 0 must hold a retention record naming the deleted segment's last block and hash. The
 * first failure is reported with segment, block number and byte offset; records before
 * it are delivered, records after it are not trusted. Queries use the per-segment index
 * to skip decompressing blocks, but every block's hash is still checked.
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


#include "common/hash.h"
#include "evidence_format.h"
#include "evidence_read.h"

#define MAX_RETAINED 1024
#define TORN ((uint64_t)-1)          /* walk_block: the block ends past the end of file */
#define SETTLE_STEP_MS 20

struct retained {
	char segment[32];
	uint64_t last_block;
	char last_hash[65];
};

struct seg_index {
	struct ev_index_entry *e;
	size_t n;
};

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
	char first_prev[65];         /* prev hash of the first block, when it is not block 0 */
	char first_segment[32];
	struct retained *retained;
	size_t n_retained;
	struct seg_index idx;
	uint64_t last_ts;            /* time of the last heartbeat record */
	/* The current block's index line, when its session list was proven by the block
	 * hash (version 2): only then may a query skip the block on its word. */
	const struct ev_index_entry *proven;
	/* buffers reused across blocks */
	unsigned char *comp, *raw;
	size_t comp_cap, raw_cap;
};

static void problem(struct walk *w, const char *seg, uint64_t block, uint64_t off,
		    const char *what)
{
	if (w->rep->problem[0])
		return;
	w->rep->intact = false;
	snprintf(w->rep->problem, sizeof(w->rep->problem), "%s: block %llu at offset %llu: %s",
		 seg, (unsigned long long)block, (unsigned long long)off, what);
}

static void index_problem(struct walk *w, const char *seg, uint64_t block, const char *what)
{
	if (w->rep->index_altered)
		return;
	w->rep->index_altered = true;
	snprintf(w->rep->index_problem, sizeof(w->rep->index_problem), "%.20s.idx: block %llu: %s",
		 seg, (unsigned long long)block, what);
}

/* Lines that do not parse are ignored: the index is a cache, never trusted alone. */
static void load_index(struct walk *w, const char *seg)
{
	char path[PATH_MAX + 64], line[1024];
	struct ev_index_entry e, *v;
	size_t cap = 0;
	FILE *f;

	free(w->idx.e);
	memset(&w->idx, 0, sizeof(w->idx));
	ev_index_path(w->dir, seg, path, sizeof(path));
	f = fopen(path, "re");
	if (!f)
		return;
	while (fgets(line, sizeof(line), f)) {
		if (ev_index_parse(line, &e))
			continue;
		if (w->idx.n == cap) {
			v = realloc(w->idx.e, (cap = cap ? 2 * cap : 64) * sizeof(*v));
			if (!v)
				break;
			w->idx.e = v;
		}
		w->idx.e[w->idx.n++] = e;
	}
	fclose(f);
}

/* The index line for the block at off, if it agrees with the verified header. */
static const struct ev_index_entry *index_for(struct walk *w, const struct ev_block_hdr *h,
					      uint64_t off)
{
	size_t lo = 0, hi = w->idx.n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (w->idx.e[mid].offset < off)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (lo == w->idx.n || w->idx.e[lo].offset != off)
		return NULL;
	return &w->idx.e[lo];
}

static bool index_agrees(const struct ev_index_entry *e, const struct ev_block_hdr *h)
{
	return e->block_no == h->block_no && e->first_ts == h->first_ts &&
	       e->last_ts == h->last_ts && e->first_seq == h->first_seq &&
	       e->n_records == h->n_records;
}

/* Whether a query must decompress this block. */
static bool block_may_match(struct walk *w, const struct ev_block_hdr *h)
{
	const struct ev_index_entry *e;

	if (!w->f)
		return true;
	if ((w->f->since_ns && h->last_ts < w->f->since_ns) ||
	    (w->f->until_ns && h->first_ts > w->f->until_ns))
		return false;
	if (!w->f->have_session)
		return true;
	/* Never on an unproven line: an edited index would hide a session. */
	e = w->proven;
	return !e || ev_session_set_has(&e->sessions, w->f->session_id);
}

/* Verify: the index line must describe the block exactly, sessions included. */
static void check_index(struct walk *w, const char *seg, const struct ev_block_hdr *h,
			uint64_t off, const unsigned char *raw, size_t raw_len)
{
	const struct ev_index_entry *e = index_for(w, h, off);
	struct ev_session_set s;

	if (!e) {
		w->rep->index_missing++;
		return;
	}
	if (!index_agrees(e, h)) {
		index_problem(w, seg, h->block_no, "line does not match the block header");
		return;
	}
	if (ev_payload_sessions(raw, raw_len, &s) == 0 && !ev_session_set_equal(&s, &e->sessions))
		index_problem(w, seg, h->block_no, "session list does not match the block");
}

static void note_retention(struct walk *w, const char *json)
{
	struct retained *r, *v;
	const char *p;

	if (w->n_retained == MAX_RETAINED)
		return;
	v = realloc(w->retained, (w->n_retained + 1) * sizeof(*v));
	if (!v)
		return;
	w->retained = v;
	r = &v[w->n_retained];
	memset(r, 0, sizeof(*r));
	p = strstr(json, "\"deleted_segment\":\"");
	if (p)
		sscanf(p + 19, "%31[^\"]", r->segment);
	p = strstr(json, "\"last_block\":");
	if (p)
		r->last_block = strtoull(p + 13, NULL, 10);
	p = strstr(json, "\"last_hash\":\"");
	if (p)
		sscanf(p + 13, "%64[0-9a-f]", r->last_hash);
	w->n_retained++;
}

static bool in_time(const struct ev_filter *f, uint64_t ts)
{
	return !f || ((!f->since_ns || ts >= f->since_ns) && (!f->until_ns || ts <= f->until_ns));
}

/* Heartbeats carry the time they were written (kernel records written late carry the
 * time of the event), so the time between two is how long the agent wrote nothing. */
static void note_heartbeat(struct walk *w, uint64_t ts)
{
	if (w->last_ts && ts > w->last_ts && ts - w->last_ts > w->rep->silence_ns) {
		w->rep->silence_ns = ts - w->last_ts;
		w->rep->silence_from_ns = w->last_ts;
		w->rep->silence_to_ns = ts;
	}
	if (ts > w->last_ts)
		w->last_ts = ts;
}

static void deliver(struct walk *w, const char *seg, const struct ev_block_hdr *h,
		    const unsigned char *raw, size_t raw_len, uint64_t off)
{
	struct ev_raw_record rr;
	size_t pos = 0;
	uint32_t n = 0;
	int got = 0;

	while (!w->stop && (got = ev_payload_next(raw, raw_len, &pos, &rr)) > 0) {
		char type[256], *json = malloc(rr.json_len + 1);
		struct ev_record r = { .seq = rr.seq, .ts_ns = rr.ts_ns, .type = type,
				       .json = json, .json_len = rr.json_len, .segment = seg,
				       .block_no = h->block_no };

		memcpy(type, rr.type, rr.type_len);
		type[rr.type_len] = '\0';
		/* Not strndup: a NUL inside hostile JSON would leave json_len past the copy. */
		if (json) {
			memcpy(json, rr.json, rr.json_len);
			json[rr.json_len] = '\0';
		}
		n++;
		w->rep->records++;
		if (json && !strcmp(type, "retention"))
			note_retention(w, json);
		if (!strcmp(type, "heartbeat"))
			note_heartbeat(w, r.ts_ns);
		if (json && w->fn && in_time(w->f, r.ts_ns))
			w->stop = w->fn(w->ctx, &r) != 0;
		free(json);
	}
	if (!w->stop && (got < 0 || n != h->n_records))
		problem(w, seg, h->block_no, off, "record framing is corrupt");
}

/* The first block of the store: block 0, or the block after a retention cut. */
static bool chain_start_ok(struct walk *w, const char *seg, const struct ev_block_hdr *h)
{
	static const uint8_t zero[32];

	if (h->block_no == 0)
		return !memcmp(h->prev_hash, zero, 32);
	w->rep->first_block = h->block_no;
	w->rep->retention_cut = true;
	hex_encode(h->prev_hash, 32, w->first_prev);
	snprintf(w->first_segment, sizeof(w->first_segment), "%s", seg);
	return true;
}

static bool chain_link_ok(struct walk *w, const struct ev_block_hdr *h)
{
	return h->block_no == w->next_block && !memcmp(h->prev_hash, w->prev_hash, 32);
}

static const char *chain_problem(struct walk *w, const struct ev_block_hdr *h)
{
	if (!w->started)
		return "chain broken: block 0 names a previous block";
	if (h->block_no > w->next_block)
		return "chain broken: blocks missing before this one (segment removed?)";
	if (h->block_no < w->next_block)
		return "chain broken: block out of order (segments reordered or replayed?)";
	return "chain broken: previous-hash does not match the block before";
}

static bool grow(unsigned char **buf, size_t *cap, size_t need)
{
	unsigned char *p;

	if (need <= *cap)
		return true;
	p = realloc(*buf, need);
	if (!p)
		return false;
	*buf = p;
	*cap = need;
	return true;
}

/* The number the block at off should have: the next one, or for the first block of the
 * store the number in its segment's name. Problems are reported under it, since the
 * header's own number is not trusted before the hash checks out. */
static uint64_t expected_block(const struct walk *w, const char *seg)
{
	return w->started ? w->next_block : strtoull(seg + 4, NULL, 16);
}

/*
 * The block's hash. A version 2 hash covers the block's session set: tried first with
 * the set its index line claims (when the line agrees with the header), which proves the
 * line and lets a query skip the block; else with the set of its own records (the block
 * is decompressed, *inflated set), and a line that failed is reported as altered.
 */
static bool hash_ok(struct walk *w, const char *seg, const struct ev_block_hdr *h, uint64_t off,
		    bool *inflated)
{
	const struct ev_index_entry *e = index_for(w, h, off);
	struct ev_session_set s;
	uint8_t hash[32];
	size_t raw_len;

	w->proven = NULL;
	*inflated = false;
	if (!(h->flags & EV_FLAG_SESSIONS)) {
		ev_block_hash(h, w->comp, NULL, hash);
		return !memcmp(hash, h->hash, 32);
	}
	if (e && index_agrees(e, h)) {
		ev_block_hash(h, w->comp, &e->sessions, hash);
		if (!memcmp(hash, h->hash, 32)) {
			w->proven = e;
			return true;
		}
	}
	if (ev_block_inflate(h, w->comp, &w->raw, &w->raw_cap, &raw_len, &s))
		return false;
	*inflated = true;
	ev_block_hash(h, w->comp, &s, hash);
	if (memcmp(hash, h->hash, 32))
		return false;
	if (e)
		index_problem(w, seg, h->block_no, "session list does not match the block");
	return true;
}


/* Checks one block at off; returns its length, or 0 after recording a problem. */
static uint64_t walk_block(struct walk *w, const char *seg, int fd, uint64_t off, uint64_t size)
{
	struct ev_block_hdr h;
	size_t raw_len;
	bool inflated;
	uint64_t block = expected_block(w, seg);

	if (size - off < EV_HDR_LEN || pread(fd, &h, sizeof(h), off) != sizeof(h))
		return TORN;
	if (!ev_hdr_plausible(&h)) {
		problem(w, seg, block, off, "not an evidence block header (altered or foreign data)");
		return 0;
	}
	if (size - off - EV_HDR_LEN < h.comp_len)
		return TORN;
	if (!grow(&w->comp, &w->comp_cap, h.comp_len + 1) ||
	    !grow(&w->raw, &w->raw_cap, h.raw_len + 1) ||
	    pread(fd, w->comp, h.comp_len, off + EV_HDR_LEN) != h.comp_len) {
		problem(w, seg, block, off, "cannot read the block");
		w->rep->unreadable = true;
		return 0;
	}
	if (!hash_ok(w, seg, &h, off, &inflated)) {
		problem(w, seg, block, off, "hash mismatch: the block was altered");
		return 0;
	}
	if (w->started ? !chain_link_ok(w, &h) : !chain_start_ok(w, seg, &h)) {
		problem(w, seg, h.block_no, off, chain_problem(w, &h));
		return 0;
	}
	w->started = true;
	memcpy(w->prev_hash, h.hash, 32);
	w->next_block = h.block_no + 1;
	w->rep->blocks++;
	hex_encode(h.hash, 32, w->rep->head);
	snprintf(w->rep->head_segment, sizeof(w->rep->head_segment), "%s", seg);
	w->rep->head_block = h.block_no;
	if (w->f && w->f->probe && w->f->probe_block == h.block_no) {
		w->rep->probe_found = true;
		memcpy(w->rep->probe_hash, w->rep->head, sizeof(w->rep->probe_hash));
		snprintf(w->rep->probe_segment, sizeof(w->rep->probe_segment), "%s", seg);
	}
	if (w->fn && !block_may_match(w, &h)) {
		w->rep->skipped_blocks++;
		return EV_HDR_LEN + h.comp_len;
	}
	raw_len = h.raw_len;
	if (!inflated && ev_block_decompress(&h, w->comp, w->raw)) {
		problem(w, seg, h.block_no, off, "payload does not decompress");
		return 0;
	}
	if (!w->fn)
		check_index(w, seg, &h, off, w->raw, raw_len);
	deliver(w, seg, &h, w->raw, raw_len, off);
	return w->rep->problem[0] ? 0 : EV_HDR_LEN + h.comp_len;
}

/* A short block at the end of the newest segment may be a seal in progress on a live
 * store: wait for the writer a little before calling it torn. */
static uint64_t settle_tail(const struct walk *w, int fd, uint64_t size, bool last_segment)
{
	unsigned waits = w->f && last_segment ? w->f->settle_ms / SETTLE_STEP_MS : 0;

	for (unsigned i = 0; i < waits; i++) {
		uint64_t now;

		usleep(SETTLE_STEP_MS * 1000);
		now = lseek(fd, 0, SEEK_END);
		if (now != size)
			return now;
	}
	return size;
}

static void torn(struct walk *w, const char *seg, int fd, uint64_t off, uint64_t size)
{
	struct ev_block_hdr h;

	if (size - off < EV_HDR_LEN || pread(fd, &h, sizeof(h), off) != sizeof(h))
		problem(w, seg, expected_block(w, seg), off, "torn block header (truncated file)");
	else
		problem(w, seg, expected_block(w, seg), off, "torn block (truncated payload)");
}

static int walk_segment(struct walk *w, const char *seg, bool last_segment)
{
	char path[PATH_MAX + 64];
	uint64_t off = 0, size, len, grown;
	int fd;

	snprintf(path, sizeof(path), "%s/%s", w->dir, seg);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		problem(w, seg, w->next_block, 0, strerror(errno));
		w->rep->unreadable = true;
		return -1;
	}
	load_index(w, seg);
	/* An empty segment is what a writer leaves after setting a torn first block aside
	 * or a crash right after rotation; a missing block shows as a gap after it. */
	size = lseek(fd, 0, SEEK_END);
	while (off < size && !w->stop) {
		len = walk_block(w, seg, fd, off, size);
		if (len == TORN && (grown = settle_tail(w, fd, size, last_segment)) != size) {
			size = grown;
			continue;
		}
		if (len == TORN)
			torn(w, seg, fd, off, size);
		if (len == TORN || !len)
			break;
		off += len;
	}
	close(fd);
	return w->rep->problem[0] ? -1 : 0;
}

/* A chain that starts after block 0 is fine only if a retention record vouches for it:
 * the deleted segment's last block is the one just before, with the same hash. */
static void check_retention_cut(struct walk *w)
{
	char what[256];

	if (!w->rep->retention_cut || w->rep->problem[0])
		return;
	for (size_t i = w->n_retained; i-- > 0;) {
		const struct retained *r = &w->retained[i];

		if (r->last_block + 1 == w->rep->first_block && !strcmp(r->last_hash, w->first_prev)) {
			snprintf(w->rep->retained_segment, sizeof(w->rep->retained_segment), "%s",
				 r->segment);
			return;
		}
	}
	/* A time query skipped blocks that may hold the record: no verdict then. */
	if (w->rep->skipped_blocks && w->f && !w->f->have_session)
		return;
	snprintf(what, sizeof(what), "blocks 0..%llu are missing and no retention record "
		 "accounts for them (segment removed?)",
		 (unsigned long long)w->rep->first_block - 1);
	problem(w, w->first_segment, w->rep->first_block, 0, what);
}

static void count_torn(const char *dir, struct ev_report *rep)
{
	DIR *d = opendir(dir);
	struct dirent *de;

	if (!d)
		return;
	while ((de = readdir(d)))
		rep->torn_files += !strncmp(de->d_name, "seg-", 4) && strstr(de->d_name, ".torn-");
	closedir(d);
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
	err = ev_list_segments(dir, &names, &n);
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
		if (walk_segment(&w, names[i], i + 1 == n))
			break;
	}
	if (!w.stop)
		check_retention_cut(&w);
	if (!rep->blocks && rep->intact) {
		rep->intact = false;
		snprintf(rep->problem, sizeof(rep->problem),
			 "%s: segments hold no sealed block yet", dir);
	}
	count_torn(dir, rep);
	ev_free_names(names, n);
	free(w.idx.e);
	free(w.retained);
	free(w.comp);
	free(w.raw);
	return 0;
}
