/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * On-disk layout of the evidence store, shared by the writer and the reader.
 *
 * A segment file "seg-<first block no, 16 hex>.xev" is a run of blocks. A block is a
 * 128-byte header, then comp_len bytes of zlib-compressed records. Its hash is
 * SHA-256(prev_hash || header with hash zeroed || payload), and prev_hash is the hash of
 * the block before it, in this segment or the previous one; block numbers run on across
 * segments. Records in a payload: u32 len (of what follows), u64 seq, u64 ts_ns,
 * u8 type_len, type, JSON. Integers are little-endian.
 * Beside each segment, "seg-....idx" has one line per block for fast queries:
 * "BLOCK OFFSET FIRST_TS LAST_TS FIRST_SEQ NRECORDS S1,S2,..." (session ids in it).
 */
#ifndef EXFILMON_EVIDENCE_FORMAT_H
#define EXFILMON_EVIDENCE_FORMAT_H

#include <stdint.h>

#define EV_MAGIC "XMEVBLK1"
#define EV_VERSION 1
#define EV_HDR_LEN 128
#define EV_MAX_PAYLOAD (64u << 20)

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

/* Computes the block hash into out. */
void ev_block_hash(const struct ev_block_hdr *h, const void *payload, uint8_t out[32]);
void ev_hex(const uint8_t *bin, size_t n, char *out);

#endif
