/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Inside the evidence writer, shared by its files and nobody else: the writer's state,
 * the writer (evidence_store.c), recovery at open (evidence_recover.c) and retention
 * (evidence_retention.c).
 */
#ifndef EXFILMON_EVIDENCE_INT_H
#define EXFILMON_EVIDENCE_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "evidence.h"
#include "evidence_format.h"

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
	uint64_t unshipped_from;     /* first block not yet shipped (UINT64_MAX: no shipping) */
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


void evs_fsync_dir(const struct evidence *ev);
void evs_path_of(const struct evidence *ev, const char *name, char *out, size_t len);
int evs_new_segment(struct evidence *ev);
int evs_resume_segment(struct evidence *ev, const char *name, const char *prev_name);
int evs_segment_last_header(const struct evidence *ev, const char *name,
			       struct ev_block_hdr *last);
int evs_write_index_line(int fd, const struct ev_index_entry *e);
int evs_retention(struct evidence *ev, uint64_t now);

#endif
