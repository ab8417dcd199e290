/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Evidence reader: walks a store (live or copied) segment by segment and block by
 * block, checking every block's hash and the chain as it goes, and hands the records
 * that pass a filter to a callback. The same walk is `exfilctl verify`.
 */
#ifndef EXFILMON_EVIDENCE_READ_H
#define EXFILMON_EVIDENCE_READ_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct ev_record {
	uint64_t seq;
	uint64_t ts_ns;
	const char *type;            /* NUL-terminated, valid during the callback */
	const char *json;            /* NUL-terminated, valid during the callback */
	size_t json_len;
	const char *segment;
	uint64_t block_no;
};

/* Return non-zero to stop the walk. */
typedef int (*ev_record_fn)(void *ctx, const struct ev_record *r);

struct ev_filter {
	bool have_session;
	uint32_t session_id;         /* blocks whose index lacks it are not decompressed */
	uint64_t since_ns, until_ns; /* 0: unbounded; blocks outside are not decompressed */
	/* A short block at the end of the newest segment may be a seal in progress on a
	 * live store: wait up to this long for it to complete before calling it torn. */
	unsigned settle_ms;
	/* Report the hash and segment of this block when the chain reaches it (verify
	 * --expect: a chain head received off the box). */
	bool probe;
	uint64_t probe_block;
};

struct ev_report {
	bool intact;                 /* every block verified and the chain is whole */
	bool empty;
	uint64_t segments, blocks, records;
	uint64_t first_block;        /* >0 when older blocks were removed by retention */
	bool retention_cut;          /* the chain starts after a recorded retention */
	char retained_segment[32];   /* ...of this segment */
	char problem[768];           /* the first problem found, precisely located */
	char head[65];               /* hash of the last intact block */
	char head_segment[32];       /* where that block is */
	uint64_t head_block;
	uint64_t skipped_blocks;     /* verified but not decompressed: the index ruled them out */
	/* Verify only (fn == NULL): the index is compared with every block. */
	bool index_altered;
	char index_problem[256];
	uint64_t index_missing;      /* blocks without an index line (queries read them fully) */
	unsigned torn_files;         /* torn tails the writer set aside (see "recovery") */
	bool unreadable;             /* the problem is an I/O error, not the content */
	bool probe_found;            /* f->probe: the block verified, with this hash */
	char probe_hash[65];
	char probe_segment[32];
	/* Longest time between two heartbeat records (sealed every evidence.heartbeat while
	 * the agent runs): much longer than the interval is a stopped or frozen agent. Only
	 * blocks that were read count (all of them for verify). */
	uint64_t silence_ns, silence_from_ns, silence_to_ns;
};

/*
 * Reads dir. f may be NULL (everything, no waiting). fn may be NULL: then nothing is
 * delivered and the index is checked too (verify). Records of a block are delivered if
 * the block may hold the session (the caller filters records by session) and their
 * time is within since/until. Records before the first problem are delivered, nothing after it. Returns
 * 0 when the walk ran (see rep->intact for the verdict), -errno when dir cannot be read
 * (-ENOENT missing, -ENOTDIR, -EACCES), or -EINVAL when it holds no evidence segments.
 */
int evidence_read(const char *dir, const struct ev_filter *f, ev_record_fn fn, void *ctx,
		  struct ev_report *rep);

/* One sealed block as it is on disk, for shipping it elsewhere byte for byte. */
struct ev_block {
	unsigned char *bytes;        /* 128-byte header then comp_len payload bytes (malloc'd) */
	size_t len;
	uint64_t block_no;
	uint32_t n_records;
	uint64_t last_ts;            /* ns, the block's newest record */
	char segment[32];            /* "seg-<16 hex>.xev" */
	uint8_t hash[32];            /* as the header says; the receiver checks the chain */
};

/*
 * Reads block block_no of the store in dir into b (b->bytes freed first; free it with
 * ev_block_free). The block is located by segment names and a walk of headers. Returns
 * 0, -ENOENT when block_no is older than the oldest segment (deleted by retention),
 * -EAGAIN when it is not (completely) on disk, -EBADMSG when the header found there
 * has another number or is not ours, or -errno from reading.
 */
int evidence_block_read(const char *dir, uint64_t block_no, struct ev_block *b);
void ev_block_free(struct ev_block *b);

/* Bytes on disk of blocks from..to-1 (headers included) and the newest record time of
 * block `from` (0 when it is not there): the size and age of a shipping backlog. */
int evidence_range_size(const char *dir, uint64_t from, uint64_t to, uint64_t *bytes,
			uint64_t *from_last_ts);

/* First block number of the oldest segment that starts after block_no: where reading
 * can go on past a block that cannot be read. 0, or -ENOENT when there is none yet. */
int evidence_segment_after(const char *dir, uint64_t block_no, uint64_t *first);

/* Number of the first block of the oldest segment, 0 when the store is empty. */
int evidence_first_block(const char *dir, uint64_t *block_no);

#endif
