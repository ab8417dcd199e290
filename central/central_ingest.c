// SPDX-License-Identifier: GPL-2.0-only
/*
 * Ingest of evidence blocks, heartbeats and agent alerts (docs/central.md).
 *
 * Per host, a block is one of: already stored (same number, same hash: a redelivery,
 * dropped), the next one (its prev_hash must be the stored head's hash), ahead of the
 * next (kept in pending_blocks until the chain reaches it, or gap_timeout passes), or
 * behind the head with different content (the sequence jumped back: tampering). A
 * block whose link or own hash does not verify is still stored, marked, and alerted
 * on: degrade towards suspicion, never towards silence.
 *
 * A block is stored once (its row in blocks and the chain head move in the same
 * transaction as its records), so the records of an accepted block are new when their
 * sequence numbers continue the host's (chain_state.next_seq) as the agent writes
 * them: those are copied straight into records. A block whose numbers do not (a late
 * block filling a gap, or one that repeats numbers already stored) is read carefully:
 * the numbers already stored are looked up and skipped, and a repeat is tampering.
 * The activity records stored are summed per rollup key here (central_rollup.c). The
 * caller acks after COMMIT.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <arpa/inet.h>
#include <jansson.h>
#include <openssl/sha.h>

#include "central_db.h"
#include "central_ingest.h"
#include "central_rollup.h"
#include "common/log.h"
#include "common/endpoint.h"
#include "common/hash.h"
#include "evidence/evidence_format.h"

#define NS 1000000000ULL
#define DAY_NS (86400ULL * NS)
#define MAX_DAYS 4096
/* Records per COPY within a pull: small enough that the server's insert of one chunk
 * overlaps the inflating and parsing of the next, large enough to keep the statements'
 * fixed cost small. */
#define FLUSH_RECORDS 4096

struct chain {
	char host[72];
	bool known, dirty;
	uint64_t first_block, head_block, blocks, records, broken, gaps;
	uint64_t next_seq;            /* every record below it is stored (or never will be) */
	char head_hash[65];
	char head_segment[20];
	long pending;                 /* blocks of this host in pending_blocks */
};

struct ingest {
	const struct central_config *cfg;
	struct alert_sink *sink;
	struct db_buf recs, sess;
	struct rollup *roll;
	uint64_t staged;
	bool careful;                  /* after a failed batch: check every block's numbers */
	int64_t days[MAX_DAYS];        /* day partitions known to exist */
	unsigned n_days, n_days_committed;
	struct ingest_stats st;
};

int ingest_host_id_ok(const char *h)
{
	size_t n = 0;

	for (; h[n]; n++)
		if (n >= 64 || !((h[n] >= 'a' && h[n] <= 'z') || (h[n] >= 'A' && h[n] <= 'Z') ||
				 (h[n] >= '0' && h[n] <= '9') || h[n] == '_' || h[n] == '-'))
			return 0;
	return n > 0;
}

struct ingest *ingest_new(const struct central_config *cfg, struct alert_sink *sink)
{
	struct ingest *in = calloc(1, sizeof(*in));

	if (in && !(in->roll = rollup_new())) {
		free(in);
		return NULL;
	}
	if (in) {
		in->cfg = cfg;
		in->sink = sink;
	}
	return in;
}

void ingest_free(struct ingest *in)
{
	if (!in)
		return;
	db_buf_free(&in->recs);
	db_buf_free(&in->sess);
	rollup_free(in->roll);
	free(in);
}

const struct ingest_stats *ingest_stats(const struct ingest *in)
{
	return &in->st;
}

void ingest_forget_partitions(struct ingest *in)
{
	in->n_days = in->n_days_committed = 0;
}

int ingest_prepare(struct ingest *in, PGconn *db)
{
	(void)in;
	return db_exec(db,
		       ROLLUP_STAGE_SQL ";"
		       "CREATE TEMP TABLE IF NOT EXISTS stage_sessions (host_id text, session_id bigint, "
		       " login_ns bigint, loginuid bigint, uid bigint, user_name text, tty text, "
		       " remote_host text, seq bigint) ON COMMIT DELETE ROWS");
}

/* "YYYY-MM-DD HH:MM:SS.uuuuuu+00" for PostgreSQL. */
static void pg_time(uint64_t ns, char *buf, size_t len)
{
	time_t t = (time_t)(ns / NS);
	struct tm tm;
	size_t n;

	gmtime_r(&t, &tm);
	n = strftime(buf, len, "%Y-%m-%d %H:%M:%S", &tm);
	snprintf(buf + n, len - n, ".%06u+00", (unsigned)(ns % NS / 1000));
}

static int partition_for(struct ingest *in, PGconn *db, uint64_t ts_ns)
{
	int64_t day = (int64_t)(ts_ns / DAY_NS);
	char d[40];
	const char *p[1] = { d };

	for (unsigned i = 0; i < in->n_days; i++)
		if (in->days[i] == day)
			return 0;
	pg_time((uint64_t)day * DAY_NS, d, sizeof(d));
	d[10] = '\0';
	if (db_run(db, "SELECT exfilmon_partition($1::date)", 1, p))
		return -EIO;
	if (in->n_days < MAX_DAYS)
		in->days[in->n_days++] = day;
	return 0;
}

static void u64s(uint64_t v, char *buf)
{
	sprintf(buf, "%llu", (unsigned long long)v);
}

/* dst_net of an activity: the /24 of an IPv4 address, the /64 of an IPv6 one. */
void ingest_dst_net(const char *ip, char *out, size_t len)
{
	unsigned char a[16];

	out[0] = '\0';
	if (!ip)
		return;
	if (inet_pton(AF_INET, ip, a) == 1) {
		snprintf(out, len, "%u.%u.%u.0/24", a[0], a[1], a[2]);
	} else if (inet_pton(AF_INET6, ip, a) == 1) {
		char s[INET6_ADDRSTRLEN];

		if (!memcmp(a, "\0\0\0\0\0\0\0\0\0\0\xff\xff", 12)) {
			snprintf(out, len, "%u.%u.%u.0/24", a[12], a[13], a[14]);
			return;
		}
		memset(a + 8, 0, 8);
		inet_ntop(AF_INET6, a, s, sizeof(s));
		snprintf(out, len, "%s/64", s);
	}
}

static const char *jstr(json_t *o, const char *k)
{
	const char *s = json_string_value(json_object_get(o, k));

	return s ? s : "";
}

/* The destination network of an egress: from dst_ip, else from its "ip:port" object. */
static void egress_net(json_t *d, char *out, size_t len)
{
	const char *ip = json_string_value(json_object_get(d, "dst_ip")), *port;
	char host[64];

	if (!ip && !endpoint_split(jstr(d, "object"), host, sizeof(host), &port))
		ip = host;
	ingest_dst_net(ip, out, len);
}

static int field_int(struct db_buf *b, json_t *v, bool last)
{
	char n[32];

	if (!json_is_integer(v))
		return db_buf_null(b, last);
	sprintf(n, "%lld", (long long)json_integer_value(v));
	return db_buf_field(b, n, last);
}

/* A record's JSON for the json column: the agent's text as it is when jansson parsed it
 * (so PostgreSQL accepts it too: no NUL escape, no NUL byte, valid UTF-8), else kept as
 * a string under "unparsed" (hex when not even UTF-8), so a hostile record is stored,
 * not lost and not able to fail the batch. */
static char *doc_text(json_t *d, const char *json, size_t len)
{
	json_t *w;
	char *s;

	if (d)
		return strndup(json, len);
	w = json_stringn(json, len);
	if (!w) {
		char *hex = malloc(2 * len + 1);

		if (!hex)
			return NULL;
		hex_encode((const uint8_t *)json, len, hex);
		w = json_pack("{s:s}", "unparsed_hex", hex);
		free(hex);
	} else {
		w = json_pack("{s:o}", "unparsed", w);
	}
	s = w ? json_dumps(w, JSON_COMPACT) : NULL;
	json_decref(w);
	return s;
}

static int agent_alert(struct ingest *in, PGconn *db, const char *host, json_t *a,
		       uint64_t ts_ns);

static int stage_session(struct ingest *in, const char *host, json_t *d, uint64_t seq)
{
	struct db_buf *b = &in->sess;
	char n[32];
	int err = 0;

	if (!json_is_integer(json_object_get(d, "session_id")))
		return 0;
	err |= db_buf_field(b, host, false);
	err |= field_int(b, json_object_get(d, "session_id"), false);
	sprintf(n, "%lld", json_is_integer(json_object_get(d, "login_ns")) ?
			   (long long)json_integer_value(json_object_get(d, "login_ns")) : 0LL);
	err |= db_buf_field(b, n, false);
	err |= field_int(b, json_object_get(d, "loginuid"), false);
	err |= field_int(b, json_object_get(d, "uid"), false);
	err |= db_buf_field(b, jstr(d, "user"), false);
	err |= db_buf_field(b, jstr(d, "tty"), false);
	err |= db_buf_field(b, jstr(d, "remote_host"), false);
	u64s(seq, n);
	err |= db_buf_field(b, n, true);
	return err ? -ENOMEM : 0;
}

/* An activity record of a session: its part of the daily rollup. */
static int roll_record(struct ingest *in, const char *host, json_t *d,
		       const struct ev_raw_record *r)
{
	json_t *sid = json_object_get(d, "session_id"), *uid = json_object_get(d, "loginuid");
	char net[64] = "";
	struct rollup_item it;

	if (!json_is_integer(sid))
		return 0;
	if (!strcmp(jstr(d, "kind"), "egress_net"))
		egress_net(d, net, sizeof(net));
	it = (struct rollup_item){
		.host = host, .kind = jstr(d, "kind"), .object = jstr(d, "object"), .dst_net = net,
		.session_id = json_integer_value(sid), .loginuid = json_integer_value(uid),
		.has_loginuid = json_is_integer(uid),
		.bytes = json_integer_value(json_object_get(d, "bytes")),
		.ops = json_integer_value(json_object_get(d, "ops")),
		.seq = r->seq, .ts_ns = r->ts_ns,
	};
	return rollup_add(in->roll, &it);
}

/* Stages one record, and notes its session in ss (the block hash covers the block's
 * sessions: noted here, each record is parsed once). */
static int stage_record(struct ingest *in, PGconn *db, const char *host,
			const struct ev_raw_record *r, struct ev_session_set *ss)
{
	char type[256], ts[40], n[32];
	json_t *d = json_loadb(r->json, r->json_len, 0, NULL);
	json_t *sid = NULL;
	struct db_buf *b = &in->recs;
	char *doc;
	int err = 0;

	snprintf(type, sizeof(type), "%.*s", (int)r->type_len, r->type);
	ev_session_set_note_doc(ss, r->type, r->type_len, d);
	if (d)
		sid = json_object_get(!strcmp(type, "alert") ? json_object_get(d, "exfilmon") : d,
				      "session_id");
	if (!(doc = doc_text(d, r->json, r->json_len))) {
		json_decref(d);
		return -ENOMEM;
	}
	if ((err = partition_for(in, db, r->ts_ns)))
		goto out;
	pg_time(r->ts_ns, ts, sizeof(ts));
	err |= db_buf_field(b, host, false);
	u64s(r->seq, n);
	err |= db_buf_field(b, n, false);
	err |= db_buf_field(b, ts, false);
	u64s(r->ts_ns, n);
	err |= db_buf_field(b, n, false);
	err |= db_buf_field(b, type, false);
	err |= field_int(b, sid, false);
	err |= db_buf_field(b, doc, true);
	if (err) {
		err = -ENOMEM;
		goto out;
	}
	in->staged++;
	if (d && !strcmp(type, "activity"))
		err = roll_record(in, host, d, r);
	else if (d && !strcmp(type, "session"))
		err = stage_session(in, host, d, r->seq);
	else if (d && !strcmp(type, "alert"))
		err = agent_alert(in, db, host, d, r->ts_ns);
out:
	free(doc);
	json_decref(d);
	return err;
}

/* Moves the staged sessions into their table, then sends the rollup and the records;
 * the records' COPY is left running: the server stores them while the next block is
 * inflated and parsed (the next statement on db collects the outcome). */
static int flush(struct ingest *in, PGconn *db)
{
	int err = 0;

	if (in->sess.len) {
		err = db_copy(db, "COPY stage_sessions FROM STDIN", in->sess.p, in->sess.len);
		err = err ? err : db_exec(db,
			"INSERT INTO sessions SELECT * FROM stage_sessions ON CONFLICT DO NOTHING;"
			"DELETE FROM stage_sessions");
		db_buf_reset(&in->sess);
	}
	err = err ? err : rollup_flush(in->roll, db);
	if (!err && in->recs.len)
		err = db_copy_send(db, "COPY records (host_id, seq, ts, ts_ns, type, session_id, doc)"
				   " FROM STDIN", in->recs.p, in->recs.len);
	db_buf_reset(&in->recs);
	in->staged = 0;
	return err;
}

/* Adds fields (stolen) under the alert's "exfilmon" object. */
static void add_fields(json_t *doc, json_t *fields)
{
	json_object_update(json_object_get(doc, "exfilmon"), fields);
	json_decref(fields);
}

static int tampered(struct ingest *in, PGconn *db, const char *host, const char *what,
		    const char *detail, uint64_t block_no, const char *hash_hex, uint64_t ts_ns)
{
	char key[256];
	json_t *doc;

	snprintf(key, sizeof(key), "evidence_tampered:%s:%s:%llu:%.16s", host, what,
		 (unsigned long long)block_no, hash_hex);
	doc = alert_doc("evidence_tampered", key, host, NULL, ts_ns, ts_ns);
	add_fields(doc, json_pack("{s:s, s:s, s:I}", "problem", what, "detail", detail,
				  "block", (json_int_t)block_no));
	log_warn("ingest: %s: evidence tampered: %s", host, detail);
	return alert_raise(in->sink, db, key, host, NULL, doc) < 0 ? -EIO : 0;
}

static int load_chain(PGconn *db, struct chain *c)
{
	const char *p[1] = { c->host };
	PGresult *r = db_query(db,
			       "SELECT first_block, head_block, head_hash, head_segment, blocks, records,"
			       " broken_links, gaps, (SELECT count(*) FROM pending_blocks WHERE host_id = $1),"
			       " next_seq"
			       " FROM chain_state WHERE host_id = $1", 1, p);

	if (!r)
		return -EIO;
	c->known = PQntuples(r) > 0;
	if (c->known) {
		c->first_block = strtoull(PQgetvalue(r, 0, 0), NULL, 10);
		c->head_block = strtoull(PQgetvalue(r, 0, 1), NULL, 10);
		snprintf(c->head_hash, sizeof(c->head_hash), "%s", PQgetvalue(r, 0, 2));
		snprintf(c->head_segment, sizeof(c->head_segment), "%s", PQgetvalue(r, 0, 3));
		c->blocks = strtoull(PQgetvalue(r, 0, 4), NULL, 10);
		c->records = strtoull(PQgetvalue(r, 0, 5), NULL, 10);
		c->broken = strtoull(PQgetvalue(r, 0, 6), NULL, 10);
		c->gaps = strtoull(PQgetvalue(r, 0, 7), NULL, 10);
		c->pending = atol(PQgetvalue(r, 0, 8));
		c->next_seq = strtoull(PQgetvalue(r, 0, 9), NULL, 10);
	} else {
		PQclear(r);
		r = db_query(db, "SELECT count(*) FROM pending_blocks WHERE host_id = $1", 1, p);
		if (!r)
			return -EIO;
		c->pending = atol(PQgetvalue(r, 0, 0));
	}
	PQclear(r);
	return 0;
}

static int save_chain(PGconn *db, const struct chain *c)
{
	char v[8][32];
	const char *p[10] = { c->host, v[0], v[1], c->head_hash, c->head_segment, v[2], v[3], v[4],
			      v[5], v[6] };

	u64s(c->first_block, v[0]);
	u64s(c->head_block, v[1]);
	u64s(c->blocks, v[2]);
	u64s(c->records, v[3]);
	u64s(c->broken, v[4]);
	u64s(c->gaps, v[5]);
	u64s(c->next_seq, v[6]);
	return db_run(db,
		      "INSERT INTO chain_state AS c (host_id, first_block, head_block, head_hash,"
		      " head_segment, blocks, records, broken_links, gaps, next_seq, updated)"
		      " VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, now())"
		      " ON CONFLICT (host_id) DO UPDATE SET first_block = EXCLUDED.first_block,"
		      " head_block = EXCLUDED.head_block, head_hash = EXCLUDED.head_hash,"
		      " head_segment = EXCLUDED.head_segment, blocks = EXCLUDED.blocks,"
		      " records = EXCLUDED.records, broken_links = EXCLUDED.broken_links,"
		      " gaps = EXCLUDED.gaps, next_seq = EXCLUDED.next_seq, updated = now()", 10, p);
}

/* What the stored copy of block_no says: 1 same hash, 0 not stored, -2 different. */
static int stored_block(PGconn *db, const char *host, uint64_t block_no, const char *hash,
			char *stored, size_t len)
{
	char b[32];
	const char *p[2] = { host, b };
	PGresult *r;
	int ret;

	u64s(block_no, b);
	if (!(r = db_query(db, "SELECT hash FROM blocks WHERE host_id = $1 AND block_no = $2", 2, p)))
		return -EIO;
	if (!PQntuples(r)) {
		ret = 0;
	} else {
		snprintf(stored, len, "%s", PQgetvalue(r, 0, 0));
		ret = strcmp(stored, hash) ? -2 : 1;
	}
	PQclear(r);
	return ret;
}

static int park(PGconn *db, struct chain *c, uint64_t block_no, const char *segment,
		const unsigned char *data, size_t len)
{
	char b[32];
	const char *p[4] = { c->host, b, segment, (const char *)data };
	int lens[4] = { 0, 0, 0, (int)len }, fmts[4] = { 0, 0, 0, 1 };
	PGresult *r;
	int ok;

	if (db_wait(db))         /* a raw PQexecParams would drop a pending error */
		return -EIO;
	u64s(block_no, b);
	r = PQexecParams(db, "INSERT INTO pending_blocks (host_id, block_no, segment, block)"
			     " VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING",
			 4, NULL, p, lens, fmts, 0);
	ok = PQresultStatus(r) == PGRES_COMMAND_OK;
	if (!ok)
		log_error("db: park block: %s", PQresultErrorMessage(r));
	PQclear(r);
	if (ok)
		c->pending++;
	return ok ? 0 : -EIO;
}

static int store_block_row(PGconn *db, const struct chain *c, const struct ev_block_hdr *h,
			   const char *segment, const char *hash, const char *prev, bool ok)
{
	char v[3][32], ft[40], lt[40];
	const char *p[10] = { c->host, v[0], segment, hash, prev, v[1], v[2], ft, lt,
			      ok ? "true" : "false" };

	u64s(h->block_no, v[0]);
	u64s(h->first_seq, v[1]);
	u64s(h->n_records, v[2]);
	pg_time(h->first_ts, ft, sizeof(ft));
	pg_time(h->last_ts, lt, sizeof(lt));
	return db_run(db, "INSERT INTO blocks (host_id, block_no, segment, hash, prev_hash,"
			  " first_seq, n_records, first_ts, last_ts, chain_ok)"
			  " VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) ON CONFLICT DO NOTHING",
		      10, p);
}

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * NS + (uint64_t)ts.tv_nsec;
}

/* True when the records are numbered first_seq, first_seq + 1, ... from at or above
 * the chain's next_seq, as the agent numbers them: then none of them is stored yet. */
static bool fresh_numbers(const struct chain *c, const struct ev_block_hdr *h,
			  const unsigned char *raw, size_t len)
{
	uint64_t want = h->first_seq;
	struct ev_raw_record r;
	size_t pos = 0;
	int got;

	if (h->first_seq < c->next_seq)
		return false;
	while ((got = ev_payload_next(raw, len, &pos, &r)) == 1)
		if (r.seq != want++)
			return false;
	return got == 0;
}

struct numbered {
	uint64_t seq;
	size_t idx;
};

static int by_seq(const void *pa, const void *pb)
{
	const struct numbered *a = pa, *b = pb;

	if (a->seq != b->seq)
		return a->seq < b->seq ? -1 : 1;
	return a->idx < b->idx ? -1 : a->idx > b->idx;
}

/* Of the block's records (v, sorted by number), marks in skip those whose number the
 * host already has stored, or an earlier record of the block has. What this
 * transaction staged is flushed first so that the lookup sees it. Returns how many
 * were marked, or a negative error. */
static long mark_repeats(struct ingest *in, PGconn *db, const char *host,
			 const struct numbered *v, size_t n, bool *skip)
{
	struct db_buf list = { 0 };
	const char *p[2] = { host, NULL };
	PGresult *r;
	long marked = 0;
	int err = flush(in, db);
	char num[24];

	for (size_t i = 0; !err && i < n; i++) {
		sprintf(num, "%llu", (unsigned long long)v[i].seq);
		err = db_buf_put(&list, i ? "," : "{", 1);
		if (!err)
			err = db_buf_put(&list, num, strlen(num));
	}
	if (!err)   /* the closing brace and the string's NUL */
		err = db_buf_put(&list, "}", 2);
	if (err) {
		db_buf_free(&list);
		return err < 0 ? err : -ENOMEM;
	}
	p[1] = list.p;
	r = db_query(db, "SELECT seq FROM records WHERE host_id = $1 AND seq = ANY($2::bigint[])"
			 " ORDER BY seq", 2, p);
	db_buf_free(&list);
	if (!r)
		return -EIO;
	for (size_t i = 0, k = 0; i < n; i++) {
		while (k < (size_t)PQntuples(r) && strtoull(PQgetvalue(r, (int)k, 0), NULL, 10) < v[i].seq)
			k++;
		skip[v[i].idx] = (i && v[i - 1].seq == v[i].seq) ||
				 (k < (size_t)PQntuples(r) &&
				  strtoull(PQgetvalue(r, (int)k, 0), NULL, 10) == v[i].seq);
		marked += skip[v[i].idx];
	}
	PQclear(r);
	return marked;
}

static int replayed(struct ingest *in, PGconn *db, const struct chain *c,
		    const struct ev_block_hdr *h, long n)
{
	char hash[65], detail[300];

	hex_encode(h->hash, 32, hash);
	snprintf(detail, sizeof(detail), "block %llu repeats %ld record number(s) already stored"
		 " or repeated within it: not stored again", (unsigned long long)h->block_no, n);
	return tampered(in, db, c->host, "replayed_records", detail, h->block_no, hash, h->last_ts);
}

/* A block whose numbers are not fresh: *skip gets one flag per record of the payload, in
 * order, set for the records already stored or repeated (the caller frees it); a
 * repeat raises evidence_tampered (replayed_records). */
static int careful_skips(struct ingest *in, PGconn *db, struct chain *c,
			 const struct ev_block_hdr *h, const unsigned char *raw, size_t len,
			 bool **skip)
{
	struct numbered *v = NULL;
	struct ev_raw_record r;
	size_t n = 0, cap = 0, pos = 0;
	long marked;

	while (ev_payload_next(raw, len, &pos, &r) == 1) {
		if (n == cap) {
			struct numbered *w = realloc(v, (cap = cap ? 2 * cap : 256) * sizeof(*v));

			if (!w) {
				free(v);
				return -ENOMEM;
			}
			v = w;
		}
		v[n] = (struct numbered){ r.seq, n };
		n++;
	}
	*skip = calloc(n ? n : 1, sizeof(**skip));
	if (!*skip) {
		free(v);
		return -ENOMEM;
	}
	qsort(v, n, sizeof(*v), by_seq);
	marked = mark_repeats(in, db, c->host, v, n, *skip);
	free(v);
	if (marked < 0)
		return (int)marked;
	return marked ? replayed(in, db, c, h, marked) : 0;
}

/* Inflates the payload and stages its records, each at most once (see the top), and
 * collects the sessions of all of them into ss. A payload that does not inflate or
 * whose framing is corrupt is tampering (alerted by the caller through *bad). */
static int stage_payload(struct ingest *in, PGconn *db, struct chain *c,
			 const struct ev_block_hdr *h, const unsigned char *comp, const char **bad,
			 struct ev_session_set *ss)
{
	unsigned char *raw = NULL;
	size_t cap = 0, raw_len = 0, pos = 0, i = 0;
	struct ev_raw_record r;
	bool *skip = NULL;
	int got, err = 0;

	memset(ss, 0, sizeof(*ss));
	/* The format's own inflater: both block versions, lengths checked. */
	if (ev_block_inflate(h, comp, &raw, &cap, &raw_len, NULL)) {
		*bad = "payload does not inflate to its stated length";
		goto out;
	}
	if ((in->careful || !fresh_numbers(c, h, raw, raw_len)) &&
	    (err = careful_skips(in, db, c, h, raw, raw_len, &skip)))
		goto out;
	for (; (got = ev_payload_next(raw, raw_len, &pos, &r)) == 1; i++) {
		if (r.seq >= c->next_seq)
			c->next_seq = r.seq + 1;
		if (skip && skip[i]) {
			ev_session_set_note(ss, r.type, r.type_len, r.json, r.json_len);
			continue;
		}
		if ((err = stage_record(in, db, c->host, &r, ss)))
			goto out;
		c->records++;
		in->st.records++;
	}
	if (got < 0)
		*bad = "record framing is corrupt";
out:
	free(skip);
	free(raw);
	return err;
}

/* Accepts h as the chain's next block (link already judged: link_ok). */
static int accept_block(struct ingest *in, PGconn *db, struct chain *c,
			const struct ev_block_hdr *h, const unsigned char *payload,
			const char *segment, bool link_ok)
{
	char hash[65], prev[65], detail[400];
	struct ev_session_set ss;
	const char *bad = NULL;
	bool self_ok;
	int err;

	hex_encode(h->hash, 32, hash);
	hex_encode(h->prev_hash, 32, prev);
	if (!link_ok) {
		snprintf(detail, sizeof(detail), "block %llu does not continue block %llu: its "
			 "prev_hash %s, block %llu's hash %s", (unsigned long long)h->block_no,
			 (unsigned long long)c->head_block, prev, (unsigned long long)c->head_block,
			 c->head_hash);
		if ((err = tampered(in, db, c->host, "broken_link", detail, h->block_no, hash, h->last_ts)))
			return err;
	}
	if ((err = stage_payload(in, db, c, h, payload, &bad, &ss)))
		return err;
	self_ok = !bad && ev_block_hash_matches(h, payload, &ss);
	if (!self_ok) {
		snprintf(detail, sizeof(detail), "block %llu's hash %s does not match its content",
			 (unsigned long long)h->block_no, hash);
		if ((err = tampered(in, db, c->host, "altered_block", detail, h->block_no, hash, h->last_ts)))
			return err;
	}
	if (bad) {
		snprintf(detail, sizeof(detail), "block %llu: %s", (unsigned long long)h->block_no, bad);
		if ((err = tampered(in, db, c->host, "bad_payload", detail, h->block_no, hash, h->last_ts)))
			return err;
	}
	if ((err = store_block_row(db, c, h, segment, hash, prev, link_ok && self_ok && !bad)))
		return err;
	if (!c->known)
		c->first_block = h->block_no;
	c->known = c->dirty = true;
	c->head_block = h->block_no;
	snprintf(c->head_hash, sizeof(c->head_hash), "%s", hash);
	snprintf(c->head_segment, sizeof(c->head_segment), "%s", segment);
	c->blocks++;
	c->broken += !(link_ok && self_ok && !bad);
	in->st.blocks++;
	if (in->staged >= in->cfg->batch_records || in->staged >= FLUSH_RECORDS)
		return flush(in, db);
	return 0;
}

static bool zero_hash(const uint8_t h[32])
{
	for (int i = 0; i < 32; i++)
		if (h[i])
			return false;
	return true;
}

static int block(struct ingest *in, PGconn *db, struct chain *c, const unsigned char *data,
		 size_t len, const char *segment, bool allow_gap);

/* After the head moved: ingests parked blocks that now follow it. */
static int unpark(struct ingest *in, PGconn *db, struct chain *c)
{
	while (c->pending > 0) {
		char b[32], seg[32];
		const char *p[2] = { c->host, b };
		PGresult *r;
		int err;

		u64s(c->head_block + 1, b);
		r = db_query(db, "DELETE FROM pending_blocks WHERE host_id = $1 AND block_no = $2"
				 " RETURNING segment, block", 2, p);
		if (!r)
			return -EIO;
		if (!PQntuples(r)) {
			PQclear(r);
			return 0;
		}
		c->pending--;
		snprintf(seg, sizeof(seg), "%s", PQgetvalue(r, 0, 0));
		{
			size_t n;
			unsigned char *bin = PQunescapeBytea((unsigned char *)PQgetvalue(r, 0, 1), &n);

			PQclear(r);
			if (!bin)
				return -ENOMEM;
			err = block(in, db, c, bin, n, seg, false);
			PQfreemem(bin);
		}
		if (err)
			return err;
	}
	return 0;
}

/* A block behind the head that the centre never stored: one that arrived after its
 * gap was declared (redelivered late). It is taken when it links to the stored blocks
 * on both sides that exist; returns 1 then, 0 when it does not fit (tampering). */
static int late_block(struct ingest *in, PGconn *db, struct chain *c, const struct ev_block_hdr *h,
		      const unsigned char *payload, const char *segment)
{
	char b[2][32], hash[65], prev[65];
	const char *p[3] = { c->host, b[0], b[1] };
	struct ev_session_set ss;
	const char *bad = NULL;
	PGresult *r;
	bool fits = true;
	int err;

	hex_encode(h->hash, 32, hash);
	hex_encode(h->prev_hash, 32, prev);
	u64s(h->block_no - 1, b[0]);
	u64s(h->block_no + 1, b[1]);
	r = db_query(db, "SELECT block_no, hash, prev_hash FROM blocks WHERE host_id = $1"
			 " AND block_no IN ($2, $3)", 3, p);
	if (!r)
		return -EIO;
	for (int i = 0; i < PQntuples(r); i++) {
		uint64_t n = strtoull(PQgetvalue(r, i, 0), NULL, 10);

		if (n < h->block_no && strcmp(PQgetvalue(r, i, 1), prev))
			fits = false;
		if (n > h->block_no && strcmp(PQgetvalue(r, i, 2), hash))
			fits = false;
	}
	PQclear(r);
	if (!fits || !ev_block_hash_ok(h, payload))
		return 0;
	if ((err = stage_payload(in, db, c, h, payload, &bad, &ss)) || bad)
		return err ? err : 0;
	if ((err = store_block_row(db, c, h, segment, hash, prev, true)))
		return err;
	log_info("ingest: %s: block %llu arrived late and fills its gap", c->host,
		 (unsigned long long)h->block_no);
	c->blocks++;
	c->dirty = true;
	in->st.blocks++;
	return 1;
}

static int block(struct ingest *in, PGconn *db, struct chain *c, const unsigned char *data,
		 size_t len, const char *segment, bool allow_gap)
{
	struct ev_block_hdr h;
	char hash[65], stored[65], detail[400];
	uint8_t sum[32];
	int err, s;

	if (len < EV_HDR_LEN) {
		SHA256(data, len, sum);
		hex_encode(sum, 32, hash);
		in->st.rejected++;
		return tampered(in, db, c->host, "malformed", "a message shorter than a block header",
				0, hash, now_ns());
	}
	memcpy(&h, data, sizeof(h));
	if (!ev_hdr_plausible(&h) || (size_t)h.comp_len + EV_HDR_LEN != len) {
		SHA256(data, len, sum);
		hex_encode(sum, 32, hash);
		in->st.rejected++;
		return tampered(in, db, c->host, "malformed",
				"a message that is not one evidence block", 0, hash, now_ns());
	}
	hex_encode(h.hash, 32, hash);
	if (c->known && h.block_no <= c->head_block) {
		if ((s = stored_block(db, c->host, h.block_no, hash, stored, sizeof(stored))) < -2)
			return -EIO;
		if (s == 1) {
			in->st.duplicates++;
			return 0;
		}
		if (s == 0 && h.block_no > c->first_block) {
			if ((s = late_block(in, db, c, &h, data + EV_HDR_LEN, segment)) != 0)
				return s < 0 ? s : 0;
		}
		in->st.rejected++;
		if (s == -2)
			snprintf(detail, sizeof(detail), "block %llu received again with other content"
				 " (hash %s, stored %s): the sequence jumped back",
				 (unsigned long long)h.block_no, hash, stored);
		else
			snprintf(detail, sizeof(detail), "block %llu is before the chain's start %llu:"
				 " the sequence jumped back", (unsigned long long)h.block_no,
				 (unsigned long long)c->first_block);
		return tampered(in, db, c->host, "jumped_back", detail, h.block_no, hash, h.last_ts);
	}
	if (!allow_gap && ((c->known && h.block_no > c->head_block + 1) ||
			   (!c->known && h.block_no > 0))) {
		in->st.pending++;
		return park(db, c, h.block_no, segment, data, len);
	}
	err = accept_block(in, db, c, &h, data + EV_HDR_LEN, segment,
			   allow_gap || (c->known ? !strcmp(c->head_hash, (hex_encode(h.prev_hash, 32, stored), stored))
						  : zero_hash(h.prev_hash)));
	return err ? err : unpark(in, db, c);
}

static int lock_chain(PGconn *db, struct chain *c)
{
	const char *p[1] = { c->host };

	if (db_run(db, "SELECT pg_advisory_xact_lock(hashtextextended('exfilmon-chain:' || $1, 0))",
		   1, p))
		return -EIO;
	return load_chain(db, c);
}

static int by_host(const void *a, const void *b)
{
	return strcmp(((const struct chain *)a)->host, ((const struct chain *)b)->host);
}

static struct chain *find_chain(struct chain *v, size_t n, const char *host)
{
	struct chain k;

	snprintf(k.host, sizeof(k.host), "%s", host);
	return bsearch(&k, v, n, sizeof(*v), by_host);
}

static int split_subject(const char *subj, char *kind, char *host)
{
	const char *a, *b;

	if (strncmp(subj, "exfilmon.", 9))
		return -EINVAL;
	a = subj + 9;
	if (!(b = strchr(a, '.')) || b - a > 31)
		return -EINVAL;
	memcpy(kind, a, (size_t)(b - a));
	kind[b - a] = '\0';
	if (strlen(b + 1) > 64 || !ingest_host_id_ok(b + 1))
		return -EINVAL;
	strcpy(host, b + 1);
	return 0;
}

/* Locks and loads the chain of every host in the batch (blocks, heartbeats, alerts), in
 * host order: every row a pull writes belongs to one of its hosts, so two instances
 * never wait on each other in a cycle. */
static int lock_chains(PGconn *db, const struct ingest_msg *m, size_t n, struct chain **out,
		       size_t *n_out)
{
	struct chain *v = calloc(n ? n : 1, sizeof(*v));
	char kind[32], host[72];
	size_t k = 0;

	if (!v)
		return -ENOMEM;
	for (size_t i = 0; i < n; i++)
		if (!split_subject(m[i].subject, kind, host))
			snprintf(v[k++].host, sizeof(v[0].host), "%s", host);
	qsort(v, k, sizeof(*v), by_host);
	*n_out = 0;
	for (size_t i = 0; i < k; i++) {
		if (*n_out && !strcmp(v[*n_out - 1].host, v[i].host))
			continue;
		v[(*n_out)++] = v[i];
	}
	for (size_t i = 0; i < *n_out; i++)
		if (lock_chain(db, &v[i])) {
			free(v);
			return -EIO;
		}
	*out = v;
	return 0;
}

static int parse_rfc3339(const char *s, uint64_t *ns)
{
	struct tm tm = { 0 };
	const char *p = s ? strptime(s, "%Y-%m-%dT%H:%M:%S", &tm) : NULL;
	uint64_t frac = 0, scale = NS;

	if (!p)
		return -EINVAL;
	if (*p == '.')
		for (p++; *p >= '0' && *p <= '9'; p++)
			if (scale > 1) {
				scale /= 10;
				frac += (uint64_t)(*p - '0') * scale;
			}
	if (*p != 'Z' || p[1])
		return -EINVAL;
	*ns = (uint64_t)timegm(&tm) * NS + frac;
	return 0;
}

static int agent_alert(struct ingest *in, PGconn *db, const char *host, json_t *a,
		       uint64_t ts_ns)
{
	json_t *x = json_object_get(a, "exfilmon");
	const char *rule = json_string_value(json_object_get(json_object_get(a, "rule"), "name"));
	const char *user = json_string_value(json_object_get(json_object_get(a, "user"), "name"));
	char key[256], ts[40], rev[32];
	char *doc;
	int err;

	if (!rule || !json_is_integer(json_object_get(x, "alert_id")))
		return 0;                         /* not an alert we can key: kept as a record */
	snprintf(key, sizeof(key), "%s:agent:%lld:%s", host,
		 (long long)json_integer_value(json_object_get(x, "alert_id")),
		 jstr(x, "episode_start"));
	parse_rfc3339(jstr(a, "@timestamp"), &ts_ns);
	pg_time(ts_ns, ts, sizeof(ts));
	sprintf(rev, "%lld", json_is_integer(json_object_get(x, "revision")) ?
			     (long long)json_integer_value(json_object_get(x, "revision")) : 1LL);
	if (!(doc = json_dumps(a, JSON_COMPACT)))
		return -ENOMEM;
	{
		const char *p[7] = { key, rule, host, user, ts, rev, doc };

		err = db_run(db, "INSERT INTO alerts (alert_key, origin, rule, host_id, user_name, ts,"
				 " revision, doc) VALUES ($1, 'agent', $2, $3, $4, $5, $6, $7::jsonb)"
				 " ON CONFLICT (alert_key) DO UPDATE SET revision = EXCLUDED.revision,"
				 " doc = EXCLUDED.doc, ts = EXCLUDED.ts WHERE EXCLUDED.revision > alerts.revision",
			     7, p);
	}
	free(doc);
	in->st.alerts++;
	return err;
}

/* A heartbeat's fields as the statements' text parameters, numbers checked for range
 * (a hostile value must not make the statement fail and hold up its pull). */
struct hb_text {
	char ts[40], seq[24], iv[24], blk[24], rw[24], bw[24], bl[24], pser[24];
	char psha[65];              /* "policy": {"serial","sha256"}; "" when not said */
	char *groups, *dus, *doc;
};

static void int_text(json_t *v, long long min, long long max, char *out)
{
	long long x = json_is_integer(v) ? (long long)json_integer_value(v) : 0;

	sprintf(out, "%lld", x < min || x > max ? 0 : x);
}

/* The policy the agent says is in force; a sha256 that is not 64 hex digits is not one. */
static void policy_text(json_t *pol, struct hb_text *t)
{
	const char *sha = json_string_value(json_object_get(pol, "sha256"));

	t->pser[0] = t->psha[0] = 0;
	if (!json_is_object(pol))
		return;
	int_text(json_object_get(pol, "serial"), 0, INT64_MAX, t->pser);
	if (sha && strlen(sha) == 64 && strspn(sha, "0123456789abcdef") == 64)
		memcpy(t->psha, sha, 65);
}

static int hb_text(json_t *hb, uint64_t ts_ns, struct hb_text *t)
{
	json_t *ch = json_object_get(hb, "chain"), *du = json_object_get(hb, "deleted_unshipped");
	json_t *g = json_object_get(hb, "groups"), *d;

	pg_time(ts_ns, t->ts, sizeof(t->ts));
	int_text(json_object_get(hb, "seq"), 0, INT64_MAX, t->seq);
	int_text(json_object_get(hb, "interval_s"), 0, 86400, t->iv);
	int_text(json_object_get(ch, "block"), -1, INT64_MAX, t->blk);
	int_text(json_object_get(hb, "records_written"), 0, INT64_MAX, t->rw);
	int_text(json_object_get(hb, "blocks_written"), 0, INT64_MAX, t->bw);
	int_text(json_object_get(hb, "backlog_blocks"), 0, INT64_MAX, t->bl);
	d = json_pack("{s:I, s:I, s:I, s:I}",
		"blocks", (json_int_t)json_integer_value(json_object_get(du, "blocks")),
		"records", (json_int_t)json_integer_value(json_object_get(du, "records")),
		"first_block", (json_int_t)json_integer_value(json_object_get(du, "first_block")),
		"last_block", (json_int_t)json_integer_value(json_object_get(du, "last_block")));

	policy_text(json_object_get(hb, "policy"), t);
	t->groups = json_is_array(g) ? json_dumps(g, JSON_COMPACT) : strdup("[]");
	t->dus = d ? json_dumps(d, JSON_COMPACT) : NULL;
	json_decref(d);
	t->doc = json_dumps(hb, JSON_COMPACT);
	return t->groups && t->dus && t->doc ? 0 : -ENOMEM;
}

static const char hb_insert_sql[] =
	"INSERT INTO heartbeats (host_id, start_id, seq, ts, chain_block, chain_hash,"
	" clean_shutdown, doc) VALUES ($1, $2, $3, $4, $5, $6, $7, $8::jsonb)"
	" ON CONFLICT DO NOTHING RETURNING 1";

/* The host's row follows the newest heartbeat (a redelivered old one changes nothing). */
static const char hb_host_sql[] =
	"INSERT INTO hosts AS h (host_id, start_id, hb_seq, hb_ts, hb_chain_block,"
	" hb_chain_hash, clean_shutdown, host_name, agent_version, config_sha256,"
	" groups, interval_s, hb_chain_segment, records_written, blocks_written,"
	" backlog_blocks, deleted_unshipped, hb_received, policy_serial, policy_sha256)"
	" SELECT $1, $2, $3, $4, $5, $6, $7, $9, $10, nullif($11, ''),"
	"  ARRAY(SELECT jsonb_array_elements_text($12::jsonb)), $13, $14, $15, $16,"
	"  $17, $18::jsonb, clock_timestamp(), nullif($19, '')::bigint, nullif($20, '')"
	" WHERE $8::text IS NOT NULL"
	" ON CONFLICT (host_id) DO UPDATE SET start_id = EXCLUDED.start_id,"
	" hb_seq = EXCLUDED.hb_seq, hb_ts = EXCLUDED.hb_ts,"
	" hb_chain_block = EXCLUDED.hb_chain_block, hb_chain_hash = EXCLUDED.hb_chain_hash,"
	" clean_shutdown = EXCLUDED.clean_shutdown, host_name = EXCLUDED.host_name,"
	" agent_version = EXCLUDED.agent_version, config_sha256 = EXCLUDED.config_sha256,"
	" groups = EXCLUDED.groups, interval_s = EXCLUDED.interval_s,"
	" hb_chain_segment = EXCLUDED.hb_chain_segment, records_written = EXCLUDED.records_written,"
	" blocks_written = EXCLUDED.blocks_written, backlog_blocks = EXCLUDED.backlog_blocks,"
	" deleted_unshipped = EXCLUDED.deleted_unshipped, hb_received = EXCLUDED.hb_received,"
	" policy_serial = EXCLUDED.policy_serial, policy_sha256 = EXCLUDED.policy_sha256"
	" WHERE h.hb_ts IS NULL OR EXCLUDED.hb_ts >= h.hb_ts";

static int hb_store(PGconn *db, const char *host, json_t *hb, const struct hb_text *t)
{
	json_t *ch = json_object_get(hb, "chain");
	const char *p[20] = { host, jstr(hb, "start_id"), t->seq, t->ts,
			      t->blk[0] == '-' ? NULL : t->blk,
			      json_string_value(json_object_get(ch, "hash")),
			      json_is_true(json_object_get(hb, "clean_shutdown")) ? "true" : "false",
			      t->doc, jstr(hb, "host_name"), jstr(hb, "agent_version"),
			      jstr(hb, "config_sha256"), t->groups, t->iv,
			      json_string_value(json_object_get(ch, "segment")), t->rw, t->bw, t->bl,
			      t->dus, t->pser, t->psha };
	PGresult *r = db_query(db, hb_insert_sql, 8, p);
	int err;

	if (!r)
		return -EIO;
	err = PQntuples(r) ? db_run(db, hb_host_sql, 20, p) : 0;
	PQclear(r);
	return err;
}

static int heartbeat(struct ingest *in, PGconn *db, const char *host, const unsigned char *data,
		     size_t len)
{
	json_t *hb = json_loadb((const char *)data, len, 0, NULL);
	struct hb_text t = { .groups = NULL };
	uint64_t ts_ns;
	int err = 0;

	if (!hb || !json_is_integer(json_object_get(hb, "seq")) ||
	    !json_is_string(json_object_get(hb, "start_id")) ||
	    parse_rfc3339(jstr(hb, "ts"), &ts_ns)) {
		log_warn("ingest: %s: heartbeat without seq, start_id or ts: dropped", host);
		in->st.rejected++;
		goto out;
	}
	err = hb_text(hb, ts_ns, &t);
	err = err ? err : hb_store(db, host, hb, &t);
	in->st.heartbeats++;
out:
	free(t.groups);
	free(t.dus);
	free(t.doc);
	json_decref(hb);
	return err;
}

/* A policy event from a host (exfilmon.policyevent.HOST, FLEET_WIRE section 4): a
 * refusal is an alert, once per (host, serial, sha256, reason); "applied" events are
 * already in the heartbeat's policy field and need nothing here. */
static int policy_event(struct ingest *in, PGconn *db, const char *host, const unsigned char *data,
			size_t len)
{
	json_t *ev = json_loadb((const char *)data, len, 0, NULL);
	const char *what = ev ? jstr(ev, "event") : NULL;
	const char *reason = ev ? jstr(ev, "reason") : NULL;
	const char *sha = ev ? jstr(ev, "sha256") : NULL;
	json_t *serial = ev ? json_object_get(ev, "serial") : NULL;
	char key[320];
	json_t *doc;
	int err = 0;

	if (!ev || !what) {
		log_warn("ingest: %s: policy event without an event field: dropped", host);
		in->st.rejected++;
		goto out;
	}
	if (strcmp(what, "refused"))
		goto out;
	snprintf(key, sizeof(key), "policy_refused:%s:%lld:%.64s:%.80s", host,
		 json_is_integer(serial) ? (long long)json_integer_value(serial) : -1LL,
		 sha ? sha : "-", reason ? reason : "-");
	doc = alert_doc("policy_refused", key, host, NULL, now_ns(), now_ns());
	add_fields(doc, json_pack("{s:s, s:O, s:s}", "reason", reason ? reason : "",
				  "serial", serial ? serial : json_null(), "sha256", sha ? sha : ""));
	log_warn("ingest: %s: refused a policy bundle: %s", host, reason ? reason : "?");
	err = alert_raise(in->sink, db, key, host, NULL, doc) < 0 ? -EIO : 0;
out:
	json_decref(ev);
	return err;
}

static int one_message(struct ingest *in, PGconn *db, struct chain *v, size_t nv,
		       const struct ingest_msg *m)
{
	char kind[32], host[72];
	struct chain *c;

	if (split_subject(m->subject, kind, host)) {
		log_warn("ingest: message on '%.80s' ignored (not exfilmon.KIND.HOST_ID)", m->subject);
		in->st.rejected++;
		return 0;
	}
	if (!strcmp(kind, "evidence")) {
		c = find_chain(v, nv, host);
		return c ? block(in, db, c, m->data, m->len, m->segment ? m->segment : "", false) : -EIO;
	}
	if (!strcmp(kind, "heartbeat"))
		return heartbeat(in, db, host, m->data, m->len);
	if (!strcmp(kind, "alert")) {
		json_t *a = json_loadb((const char *)m->data, m->len, 0, NULL);
		int err = a ? agent_alert(in, db, host, a, now_ns()) : 0;

		json_decref(a);
		return err;
	}
	if (!strcmp(kind, "policyevent"))
		return policy_event(in, db, host, m->data, m->len);
	return 0;
}

static int finish(struct ingest *in, PGconn *db, int err)
{
	if (!err)
		err = db_exec(db, "COMMIT");
	else
		db_exec(db, "ROLLBACK");
	db_buf_reset(&in->recs);
	db_buf_reset(&in->sess);
	rollup_reset(in->roll);
	in->staged = 0;
	/* A failed batch is retried message by message; those retries look up every
	 * block's numbers, so a chain_state.next_seq that is wrong for any reason costs
	 * one failed try, never a message refused for ever by the records' key. */
	in->careful = err != 0;
	if (err) {
		alert_sink_rolled_back(in->sink);
		in->n_days = in->n_days_committed;
		return -EIO;
	}
	in->n_days_committed = in->n_days;
	alert_sink_committed(in->sink);
	return 0;
}

int ingest_batch(struct ingest *in, PGconn *db, const struct ingest_msg *m, size_t n)
{
	struct chain *v = NULL;
	size_t nv = 0;
	int err;

	if (db_exec(db, "BEGIN"))
		return -EIO;
	err = lock_chains(db, m, n, &v, &nv);
	for (size_t i = 0; !err && i < n; i++)
		err = one_message(in, db, v, nv, &m[i]);
	err = err ? err : flush(in, db);
	for (size_t i = 0; !err && i < nv; i++)
		if (v[i].dirty)
			err = save_chain(db, &v[i]);
	free(v);
	return finish(in, db, err);
}

static int gap_alert(struct ingest *in, PGconn *db, struct chain *c, uint64_t from, uint64_t to)
{
	char key[200], detail[300];
	json_t *doc;

	snprintf(key, sizeof(key), "evidence_gap:%s:missing:%llu-%llu", c->host,
		 (unsigned long long)from, (unsigned long long)to);
	snprintf(detail, sizeof(detail), "blocks %llu to %llu never arrived",
		 (unsigned long long)from, (unsigned long long)to);
	doc = alert_doc("evidence_gap", key, c->host, NULL, now_ns(), now_ns());
	add_fields(doc, json_pack("{s:s, s:I, s:I}", "detail", detail, "first_block",
				  (json_int_t)from, "last_block", (json_int_t)to));
	log_warn("ingest: %s: evidence gap: %s", c->host, detail);
	c->gaps++;
	return alert_raise(in->sink, db, key, c->host, NULL, doc) < 0 ? -EIO : 0;
}

/* One host whose oldest parked block waited too long: alert the gap (unless the chain
 * simply starts there) and continue the chain from that block. */
static int resolve_host(struct ingest *in, PGconn *db, const char *host)
{
	struct chain c = { 0 };
	const char *p[1] = { c.host };
	PGresult *r;
	int err;

	snprintf(c.host, sizeof(c.host), "%s", host);
	if ((err = lock_chain(db, &c)))
		return err;
	r = db_query(db, "DELETE FROM pending_blocks WHERE (host_id, block_no) = (SELECT host_id,"
			 " min(block_no) FROM pending_blocks WHERE host_id = $1 GROUP BY host_id)"
			 " RETURNING block_no, segment, block", 1, p);
	if (!r)
		return -EIO;
	if (PQntuples(r)) {
		uint64_t b = strtoull(PQgetvalue(r, 0, 0), NULL, 10);
		size_t n;
		unsigned char *bin = PQunescapeBytea((unsigned char *)PQgetvalue(r, 0, 2), &n);
		char seg[32];

		snprintf(seg, sizeof(seg), "%s", PQgetvalue(r, 0, 1));
		c.pending--;
		if (c.known && b > c.head_block + 1)
			err = gap_alert(in, db, &c, c.head_block + 1, b - 1);
		else if (!c.known)
			log_info("ingest: %s: chain starts at block %llu", host, (unsigned long long)b);
		err = err ? err : (bin ? block(in, db, &c, bin, n, seg,
						       !c.known || b > c.head_block + 1) : -ENOMEM);
		PQfreemem(bin);
	}
	PQclear(r);
	err = err ? err : flush(in, db);
	return err ? err : (c.dirty ? save_chain(db, &c) : 0);
}

int ingest_resolve_gaps(struct ingest *in, PGconn *db)
{
	char secs[32];
	const char *p[1] = { secs };
	PGresult *r;
	int err = 0;

	sprintf(secs, "%llu", (unsigned long long)(in->cfg->gap_timeout_ns / NS));
	r = db_query(db, "SELECT DISTINCT host_id FROM pending_blocks"
			 " WHERE received < now() - make_interval(secs => $1::double precision)", 1, p);
	if (!r)
		return -EIO;
	for (int i = 0; !err && i < PQntuples(r); i++) {
		if (db_exec(db, "BEGIN")) {
			err = -EIO;
			break;
		}
		err = finish(in, db, resolve_host(in, db, PQgetvalue(r, i, 0)));
	}
	PQclear(r);
	return err;
}
