// SPDX-License-Identifier: GPL-2.0-only
/*
 * Evidence writer. Records collect in memory; a seal compresses them into one block,
 * chains it to the previous block's hash, writes header and payload with one writev and
 * fdatasyncs, so a crash costs at most the records not yet sealed. At open the last
 * segment is checked block by block: a torn tail (the last write cut short) is moved
 * aside to a ".torn-OFFSET" file and the segment truncated to the last intact block; an
 * altered block followed by intact ones is tampering, not a crash, and is left in place
 * for verify to find while writing goes on in a new segment. Either way a "recovery"
 * record in the chain says what was found. Time comes in through evidence_maintain; no
 * decision here reads the clock.
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

#include <openssl/evp.h>
#include <zlib.h>

#include "evidence.h"
#include "model/event.h"
#include "evidence_format.h"
#include "common/log.h"

#define RETENTION_PERIOD_NS (60ULL * 1000000000ULL)

struct evidence {
	struct evidence_opts o;
	char dir[PATH_MAX];
	int fd;                      /* current segment, O_APPEND */
	int idx_fd;                  /* its index */
	char seg_name[EV_SEG_NAME_LEN + 1];
	uint64_t seg_bytes;          /* intact bytes in the current segment */
	uint64_t block_no;           /* number the next block gets */
	uint8_t prev_hash[32];
	uint64_t next_seq;
	uint64_t open_since_ns;      /* maintain's time when it first saw the open block */
	bool open_seen;
	uint64_t last_retention_ns;
	bool retention_ran;
	/* the open block */
	unsigned char *buf;
	size_t len, cap;
	uint32_t n_records;
	uint64_t first_seq, first_ts, last_ts;
	struct ev_session_set sessions;
};

/* What a scan of the last segment found. */
struct scan {
	uint64_t good_end;           /* bytes of intact blocks from the start */
	uint64_t n_good;
	bool bad_block;              /* a whole block whose hash does not match */
	bool intact_after_bad;       /* ...followed by an intact block: tampering */
	uint64_t last_block_no;      /* of the last whole block, intact or not */
	uint8_t last_hash[32];
	uint64_t last_next_seq;
};

static void path_of(const struct evidence *ev, const char *name, char *out, size_t len)
{
	snprintf(out, len, "%s/%s", ev->dir, name);
}

static void fsync_dir(const struct evidence *ev)
{
	int fd = open(ev->dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);

	if (fd >= 0) {
		fsync(fd);
		close(fd);
	}
}

static int open_dir(struct evidence *ev)
{
	struct stat st;

	if (mkdir(ev->dir, 0700) && errno != EEXIST)
		return -errno;
	if (stat(ev->dir, &st))
		return -errno;
	if (!S_ISDIR(st.st_mode))
		return -ENOTDIR;
	/* A directory made by someone else (or with looser modes) is tightened, not trusted. */
	if ((st.st_mode & 0777) != 0700 && chmod(ev->dir, 0700))
		return -errno;
	if (st.st_uid != geteuid())
		log_warn("evidence: %s is owned by uid %u, not by us", ev->dir, st.st_uid);
	return 0;
}

/* Reads the block at off; 1 when whole (hash checked into *ok), 0 when torn or foreign. */
static int read_block(int fd, uint64_t off, uint64_t size, struct ev_block_hdr *h,
		      unsigned char **payload, bool *ok)
{
	uint8_t hash[32];
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
	*ok = false;
	if (h->flags & EV_FLAG_SESSIONS) {
		struct ev_session_set s;
		unsigned char *raw = NULL;
		size_t cap = 0, raw_len;

		/* The hash covers the block's sessions: they come from its own records. */
		if (ev_block_inflate(h, p, &raw, &cap, &raw_len, &s) == 0) {
			ev_block_hash(h, p, &s, hash);
			*ok = !memcmp(hash, h->hash, 32);
		}
		free(raw);
		return 1;
	}
	ev_block_hash(h, p, NULL, hash);
	*ok = !memcmp(hash, h->hash, 32);
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
	struct timespec ts;

	/* The clock only stamps the record; no decision depends on it. */
	clock_gettime(CLOCK_REALTIME, &ts);
	if (evidence_append(ev, "recovery", (uint64_t)ts.tv_sec * 1000000000ULL + ts.tv_nsec,
			    json, strlen(json), NULL) || evidence_seal(ev))
		log_error("evidence: could not record the recovery: %s", json);
}

/* Copies bytes from off to the end aside, then truncates the segment there. */
static int set_aside_tail(struct evidence *ev, const char *name, int fd, uint64_t off,
			  uint64_t size, char *json, size_t json_len)
{
	char path[PATH_MAX + 64], digest[65];
	uint8_t md[32];
	unsigned char *tail = malloc(size - off);
	unsigned int md_len = 0;
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
	EVP_Digest(tail, size - off, md, &md_len, EVP_sha256(), NULL);
	ev_hex(md, 32, digest);
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

static int write_index_line(int fd, const struct ev_index_entry *e)
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
	uLongf raw_len;
	bool ok;

	if (read_block(fd, off, UINT64_MAX, &h, comp, &ok) != 1 || !ok)
		return -EIO;
	*e = (struct ev_index_entry){ .block_no = h.block_no, .offset = off,
				      .first_ts = h.first_ts, .last_ts = h.last_ts,
				      .first_seq = h.first_seq, .n_records = h.n_records };
	raw_len = h.raw_len;
	free(*raw);
	*raw = malloc(h.raw_len + 1);
	if (!*raw || uncompress(*raw, &raw_len, *comp, h.comp_len) != Z_OK)
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
		err = n < 0 ? n : write_index_line(tfd, &e);
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

static int new_segment(struct evidence *ev)
{
	char path[PATH_MAX + 64];

	if (ev->fd >= 0)
		close(ev->fd);
	snprintf(ev->seg_name, sizeof(ev->seg_name), "seg-%016llx.xev",
		 (unsigned long long)ev->block_no);
	path_of(ev, ev->seg_name, path, sizeof(path));
	ev->fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_APPEND | O_CLOEXEC, 0600);
	ev->seg_bytes = 0;
	if (ev->fd < 0)
		return -errno;
	fsync_dir(ev);
	return open_index(ev);
}

/* The last whole block header of a segment (hash not checked: used for ages, for the
 * chain head a retention record names, and to resume after an empty last segment). */
static int segment_last_header(const struct evidence *ev, const char *name,
			       struct ev_block_hdr *last)
{
	char path[PATH_MAX + 64];
	struct ev_block_hdr h;
	uint64_t off = 0, size;
	int fd, found = -ENODATA;

	path_of(ev, name, path, sizeof(path));
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
	int err = segment_last_header(ev, prev_name, &h);

	if (err)
		return err == -ENODATA ? 0 : err;
	memcpy(ev->prev_hash, h.hash, 32);
	ev->block_no = h.block_no + 1;
	ev->next_seq = h.first_seq + h.n_records;
	return 0;
}

/* Continues the last segment, after dealing with whatever its end holds. */
static int resume_segment(struct evidence *ev, const char *name, const char *prev_name)
{
	char path[PATH_MAX + 64], json[512] = "";
	struct scan sc;
	uint64_t size;
	int err = 0;

	path_of(ev, name, path, sizeof(path));
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
		err = new_segment(ev);
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

struct evidence *evidence_open(const struct evidence_opts *opts)
{
	struct evidence *ev = calloc(1, sizeof(*ev));
	char **names = NULL;
	size_t n = 0;
	int err;

	if (!ev)
		return NULL;
	ev->o = *opts;
	ev->fd = ev->idx_fd = -1;
	if (!ev->o.block_bytes)
		ev->o.block_bytes = 256 * 1024;
	if (!ev->o.segment_bytes)
		ev->o.segment_bytes = 16 << 20;
	if (snprintf(ev->dir, sizeof(ev->dir), "%s", opts->dir) >= (int)sizeof(ev->dir)) {
		err = -ENAMETOOLONG;
		goto out_free;
	}
	err = open_dir(ev);
	if (!err)
		err = ev_list_segments(ev->dir, &names, &n);
	if (!err)
		err = n ? resume_segment(ev, names[n - 1], n > 1 ? names[n - 2] : NULL)
		      : new_segment(ev);
	ev_free_names(names, n);
	if (err)
		goto out_free;
	return ev;
out_free:
	if (ev->fd >= 0)
		close(ev->fd);
	if (ev->idx_fd >= 0)
		close(ev->idx_fd);
	free(ev->buf);
	free(ev);
	errno = -err;
	return NULL;
}

static int reserve(struct evidence *ev, size_t need)
{
	size_t cap;
	unsigned char *b;

	if (ev->len + need <= ev->cap)
		return 0;
	cap = (ev->len + need) * 2;
	b = realloc(ev->buf, cap);
	if (!b)
		return -ENOMEM;
	ev->buf = b;
	ev->cap = cap;
	return 0;
}

static int append(struct evidence *ev, const char *type, uint64_t ts_ns, const char *json,
		  size_t len, const int64_t *session, uint64_t *seq)
{
	size_t tlen = strlen(type), need = 4 + EV_REC_FIXED + tlen + len;
	uint32_t rec_len = (uint32_t)(need - 4);
	unsigned char *p;
	int err;

	if (tlen > 255 || len > EV_MAX_PAYLOAD / 4)
		return -EINVAL;
	if ((err = reserve(ev, need)))
		return err;
	if (!ev->n_records) {
		ev->first_seq = ev->next_seq;
		ev->first_ts = ev->last_ts = ts_ns;
	}
	p = ev->buf + ev->len;
	memcpy(p, &rec_len, 4);
	memcpy(p + 4, &ev->next_seq, 8);
	memcpy(p + 12, &ts_ns, 8);
	p[20] = (unsigned char)tlen;
	memcpy(p + 21, type, tlen);
	memcpy(p + 21 + tlen, json, len);
	ev->len += need;
	ev->n_records++;
	ev->first_ts = ts_ns < ev->first_ts ? ts_ns : ev->first_ts;
	ev->last_ts = ts_ns > ev->last_ts ? ts_ns : ev->last_ts;
	if (!session)
		ev_session_set_note(&ev->sessions, type, tlen, json, len);
	else if (*session >= 0)
		ev_session_set_add(&ev->sessions, (uint32_t)*session);
	else if (*session == EVIDENCE_ALL_SESSIONS)
		ev->sessions.all = true;
	if (seq)
		*seq = ev->next_seq;
	ev->next_seq++;
	if (ev->len >= ev->o.block_bytes)
		return evidence_seal(ev);
	return 0;
}

int evidence_append(struct evidence *ev, const char *type, uint64_t ts_ns, const char *json,
		    size_t len, uint64_t *seq)
{
	return append(ev, type, ts_ns, json, len, NULL, seq);
}

int evidence_append_session(struct evidence *ev, const char *type, uint64_t ts_ns,
			    const char *json, size_t len, int64_t session, uint64_t *seq)
{
	if (session > (int64_t)UINT32_MAX || session < EVIDENCE_ALL_SESSIONS)
		return -EINVAL;
	return append(ev, type, ts_ns, json, len, &session, seq);
}

uint64_t evidence_next_seq(const struct evidence *ev)
{
	return ev->next_seq;
}

const char *evidence_segment(const struct evidence *ev)
{
	return ev->seg_name;
}

static void block_header(const struct evidence *ev, struct ev_block_hdr *h, size_t comp_len)
{
	memset(h, 0, sizeof(*h));
	memcpy(h->magic, EV_MAGIC, 8);
	h->version = EV_VERSION;
	h->hdr_len = EV_HDR_LEN;
	h->block_no = ev->block_no;
	h->first_seq = ev->first_seq;
	h->n_records = ev->n_records;
	h->first_ts = ev->first_ts;
	h->last_ts = ev->last_ts;
	h->raw_len = (uint32_t)ev->len;
	h->comp_len = (uint32_t)comp_len;
	memcpy(h->prev_hash, ev->prev_hash, 32);
}

/* One writev, then fdatasync; a failed or short write is cut off again so the
 * segment never keeps half a block behind an intact one. */
static int write_block(struct evidence *ev, const struct ev_block_hdr *h, const void *comp)
{
	struct iovec iov[2] = { { (void *)h, sizeof(*h) }, { (void *)comp, h->comp_len } };
	ssize_t want = sizeof(*h) + h->comp_len, got = writev(ev->fd, iov, 2);
	int err = 0;

	if (got < 0)
		err = -errno;
	else if (got != want)
		err = -ENOSPC;
	else if (fdatasync(ev->fd))
		err = -errno;
	if (err) {
		if (ftruncate(ev->fd, ev->seg_bytes))
			log_error("evidence: %s: cannot cut a failed write: %s", ev->seg_name,
				  strerror(errno));
	}
	return err;
}

static void block_done(struct evidence *ev, const struct ev_block_hdr *h)
{
	struct ev_index_entry e = { .block_no = h->block_no, .offset = ev->seg_bytes,
				    .first_ts = h->first_ts, .last_ts = h->last_ts,
				    .first_seq = h->first_seq, .n_records = h->n_records,
				    .sessions = ev->sessions };
	char head[65];

	/* The index is a cache: a lost line only makes queries read that block in full. */
	if (write_index_line(ev->idx_fd, &e))
		log_warn("evidence: %s: index line for block %llu not written", ev->seg_name,
			 (unsigned long long)h->block_no);
	ev->seg_bytes += EV_HDR_LEN + h->comp_len;
	memcpy(ev->prev_hash, h->hash, 32);
	ev->block_no++;
	ev->len = 0;
	ev->n_records = 0;
	ev->open_seen = false;
	memset(&ev->sessions, 0, sizeof(ev->sessions));
	ev_hex(h->hash, 32, head);
	if (ev->o.on_seal)
		ev->o.on_seal(ev->o.ctx, ev->seg_name, h->block_no, head);
}

/* zlib's fastest level: about 2.5 times the speed of its default on our records, for
 * blocks about 1.25 times larger (docs/benchmarks.md). */
static size_t compress_block(const void *raw, size_t len, unsigned char **out)
{
	uLongf n = compressBound(len);

	*out = malloc(n);
	if (!*out || compress2(*out, &n, raw, len, Z_BEST_SPEED) != Z_OK)
		return 0;
	return n;
}

int evidence_seal(struct evidence *ev)
{
	struct ev_block_hdr h;
	unsigned char *comp;
	size_t comp_len;
	int err;

	if (!ev->n_records)
		return 0;
	if (ev->seg_bytes && ev->seg_bytes >= ev->o.segment_bytes && (err = new_segment(ev)))
		return err;
	comp_len = compress_block(ev->buf, ev->len, &comp);
	if (!comp_len) {
		free(comp);
		return comp ? -EIO : -ENOMEM;
	}
	block_header(ev, &h, comp_len);
	h.flags = EV_FLAG_SESSIONS;
	ev_block_hash(&h, comp, &ev->sessions, h.hash);
	err = write_block(ev, &h, comp);
	free(comp);
	if (!err)
		block_done(ev, &h);
	return err;
}

/* Torn tails set aside from a segment go with it. */
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
	int err = segment_last_header(ev, name, &h);

	if (!err)
		ev_hex(h.hash, 32, head);
	else if (err != -ENODATA)
		return err;
	snprintf(json, sizeof(json),
		 "{\"deleted_segment\":\"%s\",\"last_block\":%llu,\"last_hash\":\"%s\","
		 "\"last_ts\":%llu,\"reason\":\"%s\"}",
		 name, (unsigned long long)h.block_no, head, (unsigned long long)h.last_ts, reason);
	if ((err = evidence_append(ev, "retention", now, json, strlen(json), NULL)) ||
	    (err = evidence_seal(ev)))
		return err;
	path_of(ev, name, path, sizeof(path));
	if (unlink(path))
		return -errno;
	ev_index_path(ev->dir, name, path, sizeof(path));
	unlink(path);
	delete_torn_files(ev, name);
	fsync_dir(ev);
	log_info("evidence: retention deleted %s (%s)", name, reason);
	return 0;
}

static uint64_t file_size(const struct evidence *ev, const char *name)
{
	char path[PATH_MAX + 64];
	struct stat st;

	path_of(ev, name, path, sizeof(path));
	return stat(path, &st) ? 0 : (uint64_t)st.st_size;
}

static int retention(struct evidence *ev, uint64_t now)
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
		segment_last_header(ev, names[i], &h);
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

int evidence_maintain(struct evidence *ev, uint64_t now_ns)
{
	int err = 0;

	/* The interval runs from the first maintain that sees the block open, so a crash
	 * loses at most seal_interval plus one maintain period. */
	if (ev->n_records && !ev->open_seen) {
		ev->open_seen = true;
		ev->open_since_ns = now_ns;
	}
	if (ev->n_records && now_ns - ev->open_since_ns >= ev->o.seal_interval_ns)
		err = evidence_seal(ev);
	/* Retention reads every segment's headers: once a minute is plenty. */
	if (!err && (!ev->retention_ran || now_ns - ev->last_retention_ns >= RETENTION_PERIOD_NS)) {
		ev->retention_ran = true;
		ev->last_retention_ns = now_ns;
		err = retention(ev, now_ns);
	}
	return err;
}

void evidence_close(struct evidence *ev)
{
	if (!ev)
		return;
	if (evidence_seal(ev))
		log_error("evidence: final seal failed; the last records are lost");
	if (ev->fd >= 0)
		close(ev->fd);
	if (ev->idx_fd >= 0)
		close(ev->idx_fd);
	free(ev->buf);
	free(ev);
}
