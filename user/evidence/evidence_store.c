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


#include "common/hash.h"
#include "evidence_int.h"
#include "model/event.h"
#include "common/log.h"

void evs_path_of(const struct evidence *ev, const char *name, char *out, size_t len)
{
	snprintf(out, len, "%s/%s", ev->dir, name);
}

void evs_fsync_dir(const struct evidence *ev)
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
	ev->unshipped_from = UINT64_MAX;
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
		err = n ? evs_resume_segment(ev, names[n - 1], n > 1 ? names[n - 2] : NULL)
		      : evs_new_segment(ev);
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

static void block_header(const struct evidence *ev, struct ev_block_hdr *h, size_t comp_len,
			 uint32_t flags)
{
	memset(h, 0, sizeof(*h));
	memcpy(h->magic, EV_MAGIC, 8);
	h->version = EV_VERSION;
	h->flags = flags;
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
	if (evs_write_index_line(ev->idx_fd, &e))
		log_warn("evidence: %s: index line for block %llu not written", ev->seg_name,
			 (unsigned long long)h->block_no);
	ev->seg_bytes += EV_HDR_LEN + h->comp_len;
	memcpy(ev->prev_hash, h->hash, 32);
	ev->block_no++;
	ev->len = 0;
	ev->n_records = 0;
	ev->open_seen = false;
	memset(&ev->sessions, 0, sizeof(ev->sessions));
	hex_encode(h->hash, 32, head);
	if (ev->o.on_seal)
		ev->o.on_seal(ev->o.ctx, ev->seg_name, h->block_no, head);
}

int evidence_seal(struct evidence *ev)
{
	struct ev_block_hdr h;
	unsigned char *comp;
	size_t comp_len;
	uint32_t flags;
	int err;

	if (!ev->n_records)
		return 0;
	if (ev->seg_bytes && ev->seg_bytes >= ev->o.segment_bytes && (err = evs_new_segment(ev)))
		return err;
	comp_len = ev_block_compress(ev->buf, ev->len, &comp, &flags);
	if (!comp_len) {
		free(comp);
		return comp ? -EIO : -ENOMEM;
	}
	block_header(ev, &h, comp_len, flags | EV_FLAG_SESSIONS);
	ev_block_hash(&h, comp, &ev->sessions, h.hash);
	err = write_block(ev, &h, comp);
	free(comp);
	if (!err)
		block_done(ev, &h);
	return err;
}

/* Torn tails set aside from a segment go with it. */
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
		err = evs_retention(ev, now_ns);
	}
	return err;
}

uint64_t evidence_next_block(const struct evidence *ev)
{
	return ev->block_no;
}

void evidence_set_unshipped(struct evidence *ev, uint64_t first_block)
{
	ev->unshipped_from = first_block;
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

