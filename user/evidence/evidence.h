/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Evidence store: append-only segment files of zlib-compressed blocks, each block sealed
 * with a SHA-256 chained to the previous block's, so that removing, reordering or editing
 * any block breaks the chain from there on. Records are JSON objects with a type; see
 * docs/evidence.md for the layout and durability model.
 *
 * Record types written by the daemon (JSON object fields in docs/evidence.md):
 *   "agent"     start/stop of the agent, hooks chosen, config hash
 *   "config"    a configuration that came into force (sha256, path)
 *   "session"   a login session: session_id, loginuid, uid, user, tty, remote_host, login_ns
 *   "process"   exec/exit/seed of a process: pid, ppid, session_id, comm, exe, args
 *   "connect"   a socket connect/accept with both ends and its class
 *   "activity"  bytes moved for one process and object (struct activity)
 *   "gap"       detail lost: session(s), time span, what kind, how many
 *   "alert"     an alert revision (the same JSON as the alerts file)
 *   "retention" a segment deleted by retention: deleted_segment, last_block, last_hash,
 *               last_ts, reason ("age"|"size"), and when some of its blocks were never
 *               shipped, unshipped {blocks, records, first_block, last_block}; written
 *               and sealed before the unlink
 *   "recovery"  what open found at the end of the last segment: event "torn_tail"
 *               (segment, offset, bytes, set_aside file, sha256 of those bytes) or
 *               "altered_block" (segment, offset; the file is left for verify)
 */
#ifndef EXFILMON_EVIDENCE_H
#define EXFILMON_EVIDENCE_H

#include <stddef.h>
#include <stdint.h>

struct evidence;

struct evidence_opts {
	const char *dir;              /* created 0700 root if missing */
	uint64_t segment_bytes;       /* rotate after this many bytes on disk */
	uint64_t block_bytes;         /* seal when a block's uncompressed payload reaches this */
	uint64_t seal_interval_ns;    /* and at least this often (evidence_maintain) */
	uint64_t retention_ns;        /* delete segments older than this (0: keep) */
	uint64_t retention_bytes;     /* and the oldest while the total exceeds this (0: keep) */
	/* Told every seal: the segment, block number in it and new chain head (hex). */
	void (*on_seal)(void *ctx, const char *segment, uint64_t block_no, const char *head_hex);
	/* Told when retention deletes blocks that were never shipped (evidence_set_unshipped):
	 * the first and last such block and how many records they held. May be NULL. */
	void (*on_unshipped_deleted)(void *ctx, uint64_t first_block, uint64_t last_block,
				     uint64_t records);
	void *ctx;
};

/* Opens or creates the store; a torn last block is detected, logged and left behind
 * (the chain continues from the last intact block). NULL with errno set on failure. */
struct evidence *evidence_open(const struct evidence_opts *opts);

/* Appends one record; *seq (may be NULL) gets its store-wide sequence number.
 * json must be one JSON object (no trailing newline). Returns 0 or -errno. */
int evidence_append(struct evidence *ev, const char *type, uint64_t ts_ns, const char *json,
		    size_t len, uint64_t *seq);

/* Session arguments of evidence_append_session besides a session id. */

/* evidence_append for a caller that knows which session the record concerns, as
 * ev_session_set_note would find it in the JSON (the index entry), so the record is not
 * parsed again on the hot path. A wrong session makes verify report the index altered. */
int evidence_append_session(struct evidence *ev, const char *type, uint64_t ts_ns,
			    const char *json, size_t len, int64_t session, uint64_t *seq);

/* The sequence number the next append will get. */
uint64_t evidence_next_seq(const struct evidence *ev);

/* The number the next sealed block will get (so blocks 0..this-1 exist or existed). */
uint64_t evidence_next_block(const struct evidence *ev);

/* Tells retention that blocks from first_block on have not been shipped off the host yet,
 * so deleting them is recorded as such. UINT64_MAX (the default): nothing is shipped. */
void evidence_set_unshipped(struct evidence *ev, uint64_t first_block);

/* Name of the segment file being written ("seg-<16 hex>.xev"). */
const char *evidence_segment(const struct evidence *ev);

/* Seals the open block now: compress, chain, write, fsync. Returns 0 or -errno. */
int evidence_seal(struct evidence *ev);

/* Time-driven work, with now_ns the caller's clock (realtime ns): seals the open block
 * once it has been open for seal_interval_ns (counted from the first call that sees it),
 * and at most once a minute deletes the oldest segments older than retention_ns (by
 * their last record time) or while the store exceeds retention_bytes, each deletion
 * recorded and sealed first. Rotation happens at seal time. Returns 0 or -errno. */
int evidence_maintain(struct evidence *ev, uint64_t now_ns);

/* Seals what is pending and closes. Accepts NULL. */
void evidence_close(struct evidence *ev);

#endif
