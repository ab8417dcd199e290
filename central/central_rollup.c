// SPDX-License-Identifier: GPL-2.0-only
/*
 * The daily activity rollup, grouped in the centre (central_rollup.h). A flush sorts
 * what was added by the rollup's key, sums each run of equal keys, and sends one row
 * per group; the server then upserts a few rows instead of grouping every record.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "central_db.h"
#include "central_rollup.h"

#define DAY_NS (86400ULL * 1000000000ULL)

struct group {
	int64_t day, session_id, loginuid;
	bool has_loginuid;
	int64_t bytes, ops;
	uint64_t first_seq, last_seq, first_ns, last_ns;
	char *host, *kind, *object, *dst_net;   /* one allocation, host first */
};

struct rollup {
	struct group *v;
	size_t n, cap;
	struct db_buf copy;
};

struct rollup *rollup_new(void)
{
	return calloc(1, sizeof(struct rollup));
}

void rollup_reset(struct rollup *r)
{
	for (size_t i = 0; i < r->n; i++)
		free(r->v[i].host);
	r->n = 0;
}

void rollup_free(struct rollup *r)
{
	if (!r)
		return;
	rollup_reset(r);
	free(r->v);
	db_buf_free(&r->copy);
	free(r);
}

int rollup_add(struct rollup *r, const struct rollup_item *it)
{
	size_t lh = strlen(it->host) + 1, lk = strlen(it->kind) + 1;
	size_t lo = strlen(it->object) + 1, ln = strlen(it->dst_net) + 1;
	struct group *g;
	char *s;

	if (r->n == r->cap) {
		size_t cap = r->cap ? 2 * r->cap : 1024;
		struct group *v = realloc(r->v, cap * sizeof(*v));

		if (!v)
			return -ENOMEM;
		r->v = v;
		r->cap = cap;
	}
	if (!(s = malloc(lh + lk + lo + ln)))
		return -ENOMEM;
	g = &r->v[r->n++];
	*g = (struct group){
		.day = (int64_t)(it->ts_ns / DAY_NS), .session_id = it->session_id,
		.loginuid = it->loginuid, .has_loginuid = it->has_loginuid,
		.bytes = it->bytes, .ops = it->ops, .first_seq = it->seq, .last_seq = it->seq,
		.first_ns = it->ts_ns, .last_ns = it->ts_ns,
		.host = memcpy(s, it->host, lh), .kind = memcpy(s + lh, it->kind, lk),
		.object = memcpy(s + lh + lk, it->object, lo),
		.dst_net = memcpy(s + lh + lk + lo, it->dst_net, ln),
	};
	return 0;
}

/* activity_daily's key order: day, host, session, kind, object. */
static int by_key(const void *pa, const void *pb)
{
	const struct group *a = pa, *b = pb;
	int c;

	if (a->day != b->day)
		return a->day < b->day ? -1 : 1;
	if ((c = strcmp(a->host, b->host)))
		return c;
	if (a->session_id != b->session_id)
		return a->session_id < b->session_id ? -1 : 1;
	if ((c = strcmp(a->kind, b->kind)))
		return c;
	return strcmp(a->object, b->object);
}

#define MIN(a, b) ((a) < (b) ? (a) : (b))
#define MAX(a, b) ((a) > (b) ? (a) : (b))

/* Folds b into a (same key). The destination network is the smallest non-empty one,
 * the user's uid the first record's, as the server's min() would have chosen. */
static void merge(struct group *a, const struct group *b)
{
	a->bytes += b->bytes;
	a->ops += b->ops;
	a->first_seq = MIN(a->first_seq, b->first_seq);
	a->last_seq = MAX(a->last_seq, b->last_seq);
	a->first_ns = MIN(a->first_ns, b->first_ns);
	a->last_ns = MAX(a->last_ns, b->last_ns);
	if (!*a->dst_net || (*b->dst_net && strcmp(b->dst_net, a->dst_net) < 0))
		a->dst_net = b->dst_net;
	if (!a->has_loginuid && b->has_loginuid) {
		a->loginuid = b->loginuid;
		a->has_loginuid = true;
	}
}

static int put_row(struct db_buf *b, const struct group *g)
{
	char n[8][24];
	int err = 0;

	sprintf(n[0], "%lld", (long long)g->day);
	sprintf(n[1], "%lld", (long long)g->session_id);
	sprintf(n[2], "%lld", (long long)g->loginuid);
	sprintf(n[3], "%lld", (long long)g->bytes);
	sprintf(n[4], "%lld", (long long)g->ops);
	sprintf(n[5], "%llu", (unsigned long long)g->first_seq);
	sprintf(n[6], "%llu", (unsigned long long)g->last_seq);
	err |= db_buf_field(b, n[0], false);
	err |= db_buf_field(b, g->host, false);
	err |= db_buf_field(b, n[1], false);
	err |= g->has_loginuid ? db_buf_field(b, n[2], false) : db_buf_null(b, false);
	err |= db_buf_field(b, g->kind, false);
	err |= db_buf_field(b, g->object, false);
	err |= db_buf_field(b, g->dst_net, false);
	err |= db_buf_field(b, n[3], false);
	err |= db_buf_field(b, n[4], false);
	err |= db_buf_field(b, n[5], false);
	err |= db_buf_field(b, n[6], false);
	sprintf(n[7], "%llu", (unsigned long long)g->first_ns);
	err |= db_buf_field(b, n[7], false);
	sprintf(n[7], "%llu", (unsigned long long)g->last_ns);
	err |= db_buf_field(b, n[7], true);
	return err ? -ENOMEM : 0;
}

/* A group's user: the newest named login of its session on its host, else its uid. The
 * times go as nanoseconds and become microsecond timestamps on the server, exactly. */
static const char upsert_sql[] =
	"COPY stage_rollup FROM STDIN;"
	"INSERT INTO activity_daily AS a (day, host_id, session_id, user_name, kind, object,"
	" dst_net, bytes, ops, first_seq, last_seq, first_ts, last_ts)"
	" SELECT DATE '1970-01-01' + s.day, s.host_id, s.session_id,"
	"  coalesce((SELECT x.user_name FROM sessions x WHERE x.host_id = s.host_id"
	"   AND x.session_id = s.session_id AND x.user_name <> '' ORDER BY x.login_ns DESC LIMIT 1),"
	"   'uid:' || coalesce(s.loginuid::text, '?')),"
	"  s.kind, s.object, s.dst_net, s.bytes, s.ops, s.first_seq, s.last_seq,"
	"  timestamptz 'epoch' + s.first_ns / 1000 * interval '1 microsecond',"
	"  timestamptz 'epoch' + s.last_ns / 1000 * interval '1 microsecond'"
	" FROM stage_rollup s"
	" ON CONFLICT (day, host_id, session_id, kind, object) DO UPDATE SET"
	"  bytes = a.bytes + EXCLUDED.bytes, ops = a.ops + EXCLUDED.ops,"
	"  first_seq = least(a.first_seq, EXCLUDED.first_seq),"
	"  last_seq = greatest(a.last_seq, EXCLUDED.last_seq),"
	"  first_ts = least(a.first_ts, EXCLUDED.first_ts),"
	"  last_ts = greatest(a.last_ts, EXCLUDED.last_ts);"
	"DELETE FROM stage_rollup";

int rollup_encode(struct rollup *r, struct db_buf *out)
{
	size_t i = 0;
	int err = 0;

	qsort(r->v, r->n, sizeof(*r->v), by_key);
	while (i < r->n && !err) {
		struct group g = r->v[i++];

		for (; i < r->n && !by_key(&g, &r->v[i]); i++)
			merge(&g, &r->v[i]);
		err = put_row(out, &g);
	}
	rollup_reset(r);
	return err;
}

int rollup_flush(struct rollup *r, PGconn *db)
{
	int err;

	if (!r->n)
		return 0;
	db_buf_reset(&r->copy);
	err = rollup_encode(r, &r->copy);
	return err ? err : db_copy_send(db, upsert_sql, r->copy.p, r->copy.len);
}
