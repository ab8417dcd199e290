/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * On-disk layout of the evidence store, shared by the writer and the reader.
 *
 * A segment file "seg-<first block no, 16 hex>.xev" is a run of blocks. A block is a
 * 128-byte header, then comp_len bytes of compressed records: zlib in version 1 and 2
 * blocks; in version 3 the codec is named by the header's flags (EV_CODEC_*: the LZ4
 * block format as written today, or zlib). A segment may hold blocks of several versions
 * (a store written before and after an upgrade). Its hash is
 * SHA-256(prev_hash || header with hash zeroed || payload), and prev_hash is the hash of
 * the block before it, in this segment or the previous one; block numbers run on across
 * segments. With EV_FLAG_SESSIONS (versions 2 and 3) the hash input ends with the block's
 * session set: the sorted ids as u32, then one byte, 1 when it concerns every session.
 * Records in a payload: u32 len (of what follows), u64 seq, u64 ts_ns,
 * u8 type_len, type, JSON. Integers are little-endian.
 * Beside each segment, "seg-....idx" has one line per block for fast queries:
 * "BLOCK OFFSET FIRST_TS LAST_TS FIRST_SEQ NRECORDS SESSIONS" where SESSIONS is "-"
 * (no session), or comma-separated session ids and "*" (records for every session).
 * The index is a cache: the writer rebuilds it at open, verify checks it against the
 * blocks, and a query reads a block in full when its index line is missing.
 */
#ifndef EXFILMON_EVIDENCE_FORMAT_H
#define EXFILMON_EVIDENCE_FORMAT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define EV_MAGIC "XMEVBLK1"
#define EV_VERSION 3                     /* written; versions 1 and 2 are still read */
#define EV_VERSION_MIN 1
/* Versions 2 and 3: the block hash also covers the block's session set (canonical form),
 * so an index line that names sessions is checked by the hash itself and cannot hide
 * one. */
#define EV_FLAG_SESSIONS 1u
/* Version 3: the payload's codec, in flags bits 4-7 (versions 1 and 2 are zlib). */
#define EV_CODEC_SHIFT 4
#define EV_CODEC_MASK (0xfu << EV_CODEC_SHIFT)
#define EV_CODEC_ZLIB 0u
#define EV_CODEC_LZ4 1u
#define EV_HDR_LEN 128
#define EV_MAX_PAYLOAD (64u << 20)
#define EV_REC_FIXED 17                  /* seq, ts_ns, type_len after the length */
#define EV_SEG_NAME_LEN 24               /* "seg-" 16 hex ".xev" */
#define EV_INDEX_MAX_SESSIONS 64         /* beyond this a block is marked "*" */

struct ev_block_hdr {
	char magic[8];
	uint32_t version;
	uint32_t hdr_len;
	uint64_t block_no;
	uint64_t first_seq;
	uint32_t n_records;
	uint32_t flags;
	uint64_t first_ts;
	uint64_t last_ts;
	uint32_t raw_len;
	uint32_t comp_len;
	uint8_t prev_hash[32];
	uint8_t hash[32];
};
_Static_assert(sizeof(struct ev_block_hdr) == EV_HDR_LEN, "evidence header layout changed");

/* One record as it sits in a decompressed payload; type and json are not terminated. */
struct ev_raw_record {
	uint64_t seq, ts_ns;
	const char *type;
	size_t type_len;
	const char *json;
	size_t json_len;
};

/* The sessions a block holds records for. all: some record concerns every session
 * (a gap with session_id null, a retention) or the block had too many to list. */
struct ev_session_set {
	uint32_t ids[EV_INDEX_MAX_SESSIONS];
	unsigned n;
	bool all;
};

/* One index line. */
struct ev_index_entry {
	uint64_t block_no, offset, first_ts, last_ts, first_seq;
	uint32_t n_records;
	struct ev_session_set sessions;
};

/* Computes the block hash into out (the header's own hash field counts as zero). s is
 * the block's session set, needed when h->flags has EV_FLAG_SESSIONS (NULL then gives a
 * hash that matches nothing). */
void ev_block_hash(const struct ev_block_hdr *h, const void *payload,
		   const struct ev_session_set *s, uint8_t out[32]);
/* Whether the block's stored hash is right for its header and compressed payload (for a
 * version 2 block, with the sessions of its own records: it is decompressed). */
bool ev_block_hash_ok(const struct ev_block_hdr *h, const void *comp);
/* The same for a reader that collected the block's session set s itself from the
 * records it parsed anyway (ev_session_set_note_doc): no second inflate and parse. */
bool ev_block_hash_matches(const struct ev_block_hdr *h, const void *comp,
			   const struct ev_session_set *s);
/* Decompresses a block's payload into *raw (grown as needed; *raw_len gets its length)
 * through ev_block_decompress and, when s is not NULL, computes its session set. 0,
 * -ENOMEM or -EINVAL. */
int ev_block_inflate(const struct ev_block_hdr *h, const void *comp, unsigned char **raw,
		     size_t *cap, size_t *raw_len, struct ev_session_set *s);
/* True when h has our magic, a version and codec we read, and lengths a reader may
 * allocate. */
bool ev_hdr_plausible(const struct ev_block_hdr *h);

/* Compresses a payload with the codec new blocks use. Returns comp_len and *out
 * (malloc'd, the caller frees it, even when 0 is returned), 0 on failure; *flags gets the
 * codec for the header of a version EV_VERSION block. */
size_t ev_block_compress(const void *raw, size_t raw_len, unsigned char **out,
			 uint32_t *flags);

/* The one decompressor of the tree: every reader of blocks (store recovery, walks,
 * verify, export, the central service, the shipper) goes through it, whatever the
 * block's version and codec. raw holds h->raw_len bytes. Returns 0, or -EINVAL when the
 * payload does not decompress to exactly h->raw_len bytes (or names no codec we read). */
int ev_block_decompress(const struct ev_block_hdr *h, const void *comp, void *raw);

/* The next record of a payload at *pos. Returns 1 and advances *pos, 0 at the end of
 * raw, -EINVAL when the framing is corrupt. */
int ev_payload_next(const unsigned char *raw, size_t raw_len, size_t *pos,
		    struct ev_raw_record *r);

/* Adds the session(s) a record concerns to s: "session_id" at the top level, or under
 * "exfilmon" for alerts; null (or a retention/recovery record) concerns every session. */
void ev_session_set_note(struct ev_session_set *s, const char *type, size_t type_len,
			 const char *json, size_t json_len);
/* The same for a record already parsed (doc NULL: its text is not JSON). */
struct json_t;
void ev_session_set_note_doc(struct ev_session_set *s, const char *type, size_t type_len,
			     const struct json_t *doc);
/* Adds one session id (a full set turns into "all"). */
void ev_session_set_add(struct ev_session_set *s, uint32_t id);
bool ev_session_set_has(const struct ev_session_set *s, uint32_t session_id);
bool ev_session_set_equal(const struct ev_session_set *a, const struct ev_session_set *b);
/* Sessions of every record in a payload; -EINVAL when its framing is corrupt. */
int ev_payload_sessions(const unsigned char *raw, size_t raw_len, struct ev_session_set *s);

/* Formats e as one index line with its newline; returns its length. */
size_t ev_index_format(const struct ev_index_entry *e, char *buf, size_t len);
/* Parses one line (newline required: a torn last line is refused). 0 or -EINVAL. */
int ev_index_parse(const char *line, struct ev_index_entry *e);
/* "DIR/seg-XXXXXXXXXXXXXXXX.idx" for segment name seg. */
void ev_index_path(const char *dir, const char *seg, char *out, size_t len);

/* Names of the segment files in dir, sorted (hex block numbers sort as text). Caller
 * frees with ev_free_names. Returns 0 or -errno. */
int ev_list_segments(const char *dir, char ***names, size_t *n);
void ev_free_names(char **names, size_t n);

#endif
