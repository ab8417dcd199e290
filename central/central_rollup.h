/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The daily activity rollup (activity_daily: day x host x session x kind x object),
 * summed in the centre before it reaches PostgreSQL: ingest adds every activity record
 * it stores, and a flush writes one upsert row per group instead of making the server
 * aggregate every record again. Only records really stored are added, so the rollup
 * counts each byte once, like the records table.
 */
#ifndef EXFILMON_CENTRAL_ROLLUP_H
#define EXFILMON_CENTRAL_ROLLUP_H

#include <stdbool.h>
#include <stdint.h>

#include <libpq-fe.h>

/* One activity record's part of the rollup. Strings are copied by rollup_add. */
struct rollup_item {
	const char *host, *kind, *object, *dst_net;
	int64_t session_id, loginuid;
	bool has_loginuid;
	int64_t bytes, ops;
	uint64_t seq, ts_ns;
};

struct rollup;

struct rollup *rollup_new(void);
void rollup_free(struct rollup *r);
/* 0 or -ENOMEM. */
int rollup_add(struct rollup *r, const struct rollup_item *it);
/* Sends the groups as one COPY into the session's stage_rollup and one upsert into
 * activity_daily, left running like db_copy_send (the next statement collects the
 * outcome); then forgets them. Needs the sessions of the groups already inserted
 * (they name the user). 0 or -EIO/-ENOMEM. */
int rollup_flush(struct rollup *r, PGconn *db);
/* The groups as COPY text rows for stage_rollup (day number, host, session, loginuid,
 * kind, object, dst_net, bytes, ops, first and last seq, first and last ns), appended
 * to out in key order; then forgets them. 0 or -ENOMEM. */
struct db_buf;
int rollup_encode(struct rollup *r, struct db_buf *out);
/* Forgets what was added (a rolled back transaction). */
void rollup_reset(struct rollup *r);

/* The session's staging table rollup_flush copies into (ingest_prepare creates it):
 * days since 1970-01-01 and times in nanoseconds, converted by the upsert. */
#define ROLLUP_STAGE_SQL \
	"CREATE TEMP TABLE IF NOT EXISTS stage_rollup (day integer, host_id text," \
	" session_id bigint, loginuid bigint, kind text, object text, dst_net text, bytes bigint," \
	" ops bigint, first_seq bigint, last_seq bigint, first_ns bigint, last_ns bigint)" \
	" ON COMMIT DELETE ROWS"

#endif
