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
	const char *type;            /* NUL-terminated copy */
	const char *json;            /* NUL-terminated copy */
	size_t json_len;
	const char *segment;
	uint64_t block_no;
};

/* Return non-zero to stop the walk. */
typedef int (*ev_record_fn)(void *ctx, const struct ev_record *r);

struct ev_filter {
	bool have_session;
	uint32_t session_id;         /* skips blocks whose index lacks it */
	uint64_t since_ns, until_ns; /* 0: unbounded */
};

struct ev_report {
	bool intact;                 /* every block verified and the chain is whole */
	bool empty;
	uint64_t segments, blocks, records;
	uint64_t first_block;        /* >0 when older blocks were removed by retention */
	bool retention_cut;          /* the chain starts after a recorded retention */
	char problem[768];           /* the first problem found, precisely located */
	char head[65];               /* hash of the last intact block */
};

/*
 * Reads dir. fn may be NULL (verify only). Returns 0 when the walk ran (see rep->intact
 * for the verdict), or -errno when dir cannot be read (-ENOENT missing, -ENOTDIR, ...),
 * or -EINVAL when it holds no evidence segments at all.
 */
int evidence_read(const char *dir, const struct ev_filter *f, ev_record_fn fn, void *ctx,
		  struct ev_report *rep);

#endif
