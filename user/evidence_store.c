// SPDX-License-Identifier: GPL-2.0-only
/*
 * Evidence writer. Records collect in memory; a seal compresses them into one block,
 * chains it to the previous block's hash, writes header and payload with one write, and
 * fdatasyncs. A crash can lose at most the records not yet sealed (the seal interval,
 * 5 s by default). At open, the last segment is checked block by block and a torn tail
 * is moved aside to a ".torn" file, so writing continues after the last intact block.
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

#include <jansson.h>
#include <openssl/evp.h>
#include <zlib.h>

#include "evidence.h"
#include "evidence_format.h"
#include "log.h"

#define MAX_SESSIONS_PER_BLOCK 64

struct evidence {
	struct evidence_opts o;
	char dir[PATH_MAX];
	int fd;                      /* current segment */
	char seg_name[64];
	uint64_t seg_bytes;
	uint64_t block_no;           /* number the next block gets */
	uint8_t prev_hash[32];
	uint64_t next_seq;
	uint64_t last_seal_ns;
	uint64_t last_retention_ns;
	/* the open block */
	unsigned char *buf;
	size_t len, cap;
	uint32_t n_records;
	uint64_t first_seq, first_ts, last_ts;
	uint32_t sessions[MAX_SESSIONS_PER_BLOCK];
	unsigned n_sessions;
	bool sessions_overflow;
};

void ev_hex(const uint8_t *bin, size_t n, char *out)
{
	for (size_t i = 0; i < n; i++)
		sprintf(out + 2 * i, "%02x", bin[i]);
	out[2 * n] = '\0';
}

void ev_block_hash(const struct ev_block_hdr *h, const void *payload, uint8_t out[32])
{
	struct ev_block_hdr copy = *h;
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	unsigned int n = 0;

	memset(copy.hash, 0, sizeof(copy.hash));
	EVP_DigestInit_ex(ctx, EVP_sha256(), NULL);
	EVP_DigestUpdate(ctx, h->prev_hash, sizeof(h->prev_hash));
	EVP_DigestUpdate(ctx, &copy, sizeof(copy));
	EVP_DigestUpdate(ctx, payload, h->comp_len);
	EVP_DigestFinal_ex(ctx, out, &n);
	EVP_MD_CTX_free(ctx);
}

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + ts.tv_nsec;
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Segment names in order (their hex block numbers sort as text). Caller frees. */
static int list_segments(const char *dir, char ***names, size_t *n)
{
	DIR *d = opendir(dir);
	struct dirent *de;
	size_t cap = 0;

	*names = NULL;
	*n = 0;
	if (!d)
		return -errno;
	while ((de = readdir(d))) {
		size_t l = strlen(de->d_name);

		if (strncmp(de->d_name, "seg-", 4) || l != 4 + 16 + 4 ||
		    strcmp(de->d_name + l - 4, ".xev"))
			continue;
		if (*n == cap) {
			char **v = realloc(*names, (cap = cap ? cap * 2 : 16) * sizeof(char *));

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

static void free_names(char **names, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(names[i]);
	free(names);
}

/* Moves bytes from off to the end of a segment aside and truncates the segment there. */
static void set_aside_tail(struct evidence *ev, const char *name, int fd, off_t off, off_t size)
{
	char path[PATH_MAX + 80];
	unsigned char *tail = malloc(size - off);
	int tfd;

	snprintf(path, sizeof(path), "%s/%s.torn-%lld", ev->dir, name, (long long)off);
	if (tail && pread(fd, tail, size - off, off) == size - off) {
		tfd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
		if (tfd >= 0) {
			if (write(tfd, tail, size - off) != size - off)
				log_warn("evidence: short write to %s", path);
			close(tfd);
		}
	}
	free(tail);
	if (ftruncate(fd, off))
		log_error("evidence: truncate %s: %s", name, strerror(errno));
	log_warn("evidence: %s: torn block at offset %lld (%lld bytes) set aside as %s", name,
		 (long long)off, (long long)(size - off), path);
}

/* Walks the last segment's blocks, learning the chain head and the next numbers. */
static int resume_segment(struct evidence *ev, const char *name)
{
	char path[PATH_MAX + 80];
	struct ev_block_hdr h;
	off_t off = 0, size;
	uint8_t hash[32];
	unsigned char *payload = NULL;
	int fd;

	snprintf(path, sizeof(path), "%s/%s", ev->dir, name);
	fd = open(path, O_RDWR | O_APPEND | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	size = lseek(fd, 0, SEEK_END);
	while (off + EV_HDR_LEN <= size) {
		if (pread(fd, &h, sizeof(h), off) != sizeof(h) || memcmp(h.magic, EV_MAGIC, 8) ||
		    h.comp_len > EV_MAX_PAYLOAD || off + EV_HDR_LEN + h.comp_len > size)
			break;
		payload = realloc(payload, h.comp_len ? h.comp_len : 1);
		if (!payload || pread(fd, payload, h.comp_len, off + EV_HDR_LEN) != h.comp_len)
			break;
		ev_block_hash(&h, payload, hash);
		if (memcmp(hash, h.hash, 32))
			break;
		memcpy(ev->prev_hash, h.hash, 32);
		ev->block_no = h.block_no + 1;
		ev->next_seq = h.first_seq + h.n_records;
		off += EV_HDR_LEN + h.comp_len;
	}
	free(payload);
	if (off < size)
		set_aside_tail(ev, name, fd, off, size);
	ev->fd = fd;
	ev->seg_bytes = off;
	snprintf(ev->seg_name, sizeof(ev->seg_name), "%s", name);
	return 0;
}

static int new_segment(struct evidence *ev)
{
	char path[PATH_MAX + 80];

	if (ev->fd >= 0)
		close(ev->fd);
	snprintf(ev->seg_name, sizeof(ev->seg_name), "seg-%016llx.xev",
		 (unsigned long long)ev->block_no);
	snprintf(path, sizeof(path), "%s/%s", ev->dir, ev->seg_name);
	ev->fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
	ev->seg_bytes = 0;
	return ev->fd < 0 ? -errno : 0;
}

struct evidence *evidence_open(const struct evidence_opts *opts)
{
	struct evidence *ev = calloc(1, sizeof(*ev));
	char **names;
	size_t n;
	int err;

	if (!ev)
		return NULL;
	ev->o = *opts;
	ev->fd = -1;
	snprintf(ev->dir, sizeof(ev->dir), "%s", opts->dir);
	if (!ev->o.block_bytes)
		ev->o.block_bytes = 256 * 1024;
	if (!ev->o.segment_bytes)
		ev->o.segment_bytes = 16 << 20;
	if (mkdir(ev->dir, 0700) && errno != EEXIST) {
		err = -errno;
		goto fail;
	}
	chmod(ev->dir, 0700);
	err = list_segments(ev->dir, &names, &n);
	if (err)
		goto fail;
	err = n ? resume_segment(ev, names[n - 1]) : new_segment(ev);
	free_names(names, n);
	if (err)
		goto fail;
	ev->last_seal_ns = now_ns();
	return ev;
fail:
	free(ev);
	errno = -err;
	return NULL;
}

static void note_session(struct evidence *ev, const char *json)
{
	const char *p = strstr(json, "\"session_id\":");
	uint32_t sid;

	if (!p || ev->sessions_overflow)
		return;
	if (sscanf(p + 13, "%u", &sid) != 1)
		return;
	for (unsigned i = 0; i < ev->n_sessions; i++)
		if (ev->sessions[i] == sid)
			return;
	if (ev->n_sessions == MAX_SESSIONS_PER_BLOCK)
		ev->sessions_overflow = true;
	else
		ev->sessions[ev->n_sessions++] = sid;
}

int evidence_append(struct evidence *ev, const char *type, uint64_t ts_ns, const char *json,
		    size_t len, uint64_t *seq)
{
	size_t tlen = strlen(type), need = 4 + 8 + 8 + 1 + tlen + len;
	uint32_t rec_len = (uint32_t)(need - 4);
	unsigned char *p;

	if (tlen > 255 || len > EV_MAX_PAYLOAD / 2)
		return -EINVAL;
	if (ev->len + need > ev->cap) {
		size_t cap = (ev->len + need) * 2;
		unsigned char *b = realloc(ev->buf, cap);

		if (!b)
			return -ENOMEM;
		ev->buf = b;
		ev->cap = cap;
	}
	if (!ev->n_records) {
		ev->first_seq = ev->next_seq;
		ev->first_ts = ts_ns;
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
	ev->last_ts = ts_ns > ev->last_ts ? ts_ns : ev->last_ts;
	note_session(ev, json);
	if (seq)
		*seq = ev->next_seq;
	ev->next_seq++;
	if (ev->len >= ev->o.block_bytes)
		return evidence_seal(ev);
	return 0;
}

uint64_t evidence_next_seq(const struct evidence *ev)
{
	return ev->next_seq;
}

static void write_index(struct evidence *ev, const struct ev_block_hdr *h, uint64_t offset)
{
	char path[PATH_MAX + 80], line[1024];
	size_t used;
	FILE *f;

	snprintf(path, sizeof(path), "%s/%.*s.idx", ev->dir, (int)strlen(ev->seg_name) - 4,
		 ev->seg_name);
	used = snprintf(line, sizeof(line), "%llu %llu %llu %llu %llu %u ",
			(unsigned long long)h->block_no, (unsigned long long)offset,
			(unsigned long long)h->first_ts, (unsigned long long)h->last_ts,
			(unsigned long long)h->first_seq, h->n_records);
	if (ev->sessions_overflow)
		used += snprintf(line + used, sizeof(line) - used, "*");
	for (unsigned i = 0; i < ev->n_sessions && used < sizeof(line) - 16; i++)
		used += snprintf(line + used, sizeof(line) - used, "%s%u", i ? "," : "",
				 ev->sessions[i]);
	if (!ev->n_sessions && !ev->sessions_overflow)
		used += snprintf(line + used, sizeof(line) - used, "-");
	f = fopen(path, "a");
	if (!f)
		return;
	fchmod(fileno(f), 0600);
	fprintf(f, "%s\n", line);
	fclose(f);
}

int evidence_seal(struct evidence *ev)
{
	struct ev_block_hdr h = { 0 };
	uLongf comp_len;
	unsigned char *comp;
	struct iovec iov[2];
	char head[65];
	int err = 0;

	if (!ev->n_records)
		return 0;
	if (ev->seg_bytes >= ev->o.segment_bytes && (err = new_segment(ev)))
		return err;
	comp_len = compressBound(ev->len);
	comp = malloc(comp_len);
	if (!comp)
		return -ENOMEM;
	if (compress2(comp, &comp_len, ev->buf, ev->len, 6) != Z_OK) {
		free(comp);
		return -EIO;
	}
	memcpy(h.magic, EV_MAGIC, 8);
	h.version = EV_VERSION;
	h.hdr_len = EV_HDR_LEN;
	h.block_no = ev->block_no;
	h.first_seq = ev->first_seq;
	h.n_records = ev->n_records;
	h.first_ts = ev->first_ts;
	h.last_ts = ev->last_ts;
	h.raw_len = (uint32_t)ev->len;
	h.comp_len = (uint32_t)comp_len;
	memcpy(h.prev_hash, ev->prev_hash, 32);
	ev_block_hash(&h, comp, h.hash);
	iov[0] = (struct iovec){ &h, sizeof(h) };
	iov[1] = (struct iovec){ comp, comp_len };
	if (writev(ev->fd, iov, 2) != (ssize_t)(sizeof(h) + comp_len) || fdatasync(ev->fd))
		err = -errno ? -errno : -EIO;
	free(comp);
	if (err)
		return err;
	write_index(ev, &h, ev->seg_bytes);
	ev->seg_bytes += sizeof(h) + comp_len;
	memcpy(ev->prev_hash, h.hash, 32);
	ev->block_no++;
	ev->len = 0;
	ev->n_records = 0;
	ev->n_sessions = 0;
	ev->sessions_overflow = false;
	ev->last_seal_ns = now_ns();
	ev_hex(h.hash, 32, head);
	if (ev->o.on_seal)
		ev->o.on_seal(ev->o.ctx, ev->seg_name, h.block_no, head);
	return 0;
}

/* Segment ages come from the last block's last timestamp in the index. */
static uint64_t segment_last_ts(const char *dir, const char *name, char *last_hash_hex)
{
	char path[PATH_MAX + 80];
	struct ev_block_hdr h;
	uint64_t last = 0;
	off_t off = 0, size;
	int fd;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return 0;
	size = lseek(fd, 0, SEEK_END);
	while (off + EV_HDR_LEN <= size && pread(fd, &h, sizeof(h), off) == sizeof(h) &&
	       !memcmp(h.magic, EV_MAGIC, 8)) {
		last = h.last_ts;
		ev_hex(h.hash, 32, last_hash_hex);
		off += EV_HDR_LEN + h.comp_len;
	}
	close(fd);
	return last;
}

static int retention(struct evidence *ev, uint64_t now)
{
	char **names, path[PATH_MAX + 80], head[65] = "", json[512];
	uint64_t total = 0;
	struct stat st;
	size_t n;

	if ((!ev->o.retention_ns && !ev->o.retention_bytes) || list_segments(ev->dir, &names, &n))
		return 0;
	for (size_t i = 0; i < n; i++) {
		snprintf(path, sizeof(path), "%s/%s", ev->dir, names[i]);
		if (!stat(path, &st))
			total += st.st_size;
	}
	/* Oldest first; never the segment being written. */
	for (size_t i = 0; i + 1 < n; i++) {
		uint64_t last = segment_last_ts(ev->dir, names[i], head);
		bool old = ev->o.retention_ns && last && now > last && now - last > ev->o.retention_ns;
		bool big = ev->o.retention_bytes && total > ev->o.retention_bytes;

		if (!old && !big)
			break;
		snprintf(path, sizeof(path), "%s/%s", ev->dir, names[i]);
		if (!stat(path, &st))
			total -= st.st_size;
		snprintf(json, sizeof(json),
			 "{\"deleted_segment\":\"%s\",\"last_hash\":\"%s\",\"reason\":\"%s\"}",
			 names[i], head, old ? "age" : "size");
		unlink(path);
		snprintf(path, sizeof(path), "%s/%.20s.idx", ev->dir, names[i]);
		unlink(path);
		log_info("evidence: retention deleted %s (%s)", names[i], old ? "age" : "size");
		evidence_append(ev, "retention", now, json, strlen(json), NULL);
	}
	free_names(names, n);
	return 0;
}

int evidence_maintain(struct evidence *ev, uint64_t now)
{
	int err = 0;

	if (ev->n_records && now - ev->last_seal_ns >= ev->o.seal_interval_ns)
		err = evidence_seal(ev);
	/* Retention reads every segment's headers: once a minute is plenty. */
	if (!err && now - ev->last_retention_ns > 60ULL * 1000000000ULL) {
		ev->last_retention_ns = now;
		err = retention(ev, now);
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
	free(ev->buf);
	free(ev);
}
