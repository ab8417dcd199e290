// SPDX-License-Identifier: GPL-2.0-only
/*
 * PostgreSQL helpers for exfilmon-central: connection, migrations, statements that log
 * their own failure once (what, SQL state, server message), and COPY text buffers.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "central_db.h"
#include "common/log.h"

/* Any fixed number: the key two instances serialise their migrations on. */
#define MIGRATE_LOCK 0x6578666d

static void report(PGconn *db, const PGresult *r, const char *sql)
{
	const char *state = r ? PQresultErrorField(r, PG_DIAG_SQLSTATE) : NULL;
	char what[64];

	snprintf(what, sizeof(what), "%.60s", sql);
	for (char *p = what; *p; p++)
		if (*p == '\n' || *p == '\t')
			*p = ' ';
	log_error("db: %s...: %s%s%s", what, state ? state : "", state ? " " : "",
		  r ? PQresultErrorMessage(r) : PQerrorMessage(db));
}

PGconn *db_connect(const char *conninfo, const char *app_name)
{
	PGconn *db = PQconnectdb(conninfo);

	if (PQstatus(db) != CONNECTION_OK) {
		log_error("db: connect: %s", PQerrorMessage(db));
		PQfinish(db);
		return NULL;
	}
	if (db_exec(db, "SET TimeZone = 'UTC'")) {
		PQfinish(db);
		return NULL;
	}
	(void)app_name;
	return db;
}

/* Collects the results of a statement db_copy_send left running. PQexec would discard
 * them silently, errors included, so every call below collects them first. */
static int drain(PGconn *db)
{
	PGresult *r;
	int err = 0;

	while ((r = PQgetResult(db))) {
		if (PQresultStatus(r) != PGRES_COMMAND_OK && PQresultStatus(r) != PGRES_TUPLES_OK) {
			report(db, r, "(statement sent earlier)");
			err = -EIO;
		}
		PQclear(r);
	}
	return err;
}

int db_wait(PGconn *db)
{
	return drain(db);
}

int db_exec(PGconn *db, const char *sql)
{
	/* Runs sql even when the earlier statement failed (sql may be the ROLLBACK), but
	 * reports that failure: a COMMIT after it must not count as committed. */
	int err = drain(db);
	PGresult *r = PQexec(db, sql);
	int ok = PQresultStatus(r) == PGRES_COMMAND_OK || PQresultStatus(r) == PGRES_TUPLES_OK;

	if (!ok)
		report(db, r, sql);
	PQclear(r);
	return ok && !err ? 0 : -EIO;
}

PGresult *db_query(PGconn *db, const char *sql, int n, const char *const *params)
{
	PGresult *r;

	if (drain(db))
		return NULL;
	r = PQexecParams(db, sql, n, NULL, params, NULL, NULL, 0);

	if (PQresultStatus(r) == PGRES_COMMAND_OK || PQresultStatus(r) == PGRES_TUPLES_OK)
		return r;
	report(db, r, sql);
	PQclear(r);
	return NULL;
}

int db_run(PGconn *db, const char *sql, int n, const char *const *params)
{
	PGresult *r = db_query(db, sql, n, params);

	PQclear(r);
	return r ? 0 : -EIO;
}

int db_copy_send(PGconn *db, const char *sql, const char *buf, size_t len)
{
	PGresult *r;
	int err = 0;

	if (drain(db) || !PQsendQuery(db, sql))
		return -EIO;
	r = PQgetResult(db);
	if (PQresultStatus(r) != PGRES_COPY_IN) {
		report(db, r, sql);
		PQclear(r);
		drain(db);
		return -EIO;
	}
	PQclear(r);
	if (len && PQputCopyData(db, buf, (int)len) != 1)
		err = -EIO;
	if (PQputCopyEnd(db, err ? "client error" : NULL) != 1)
		err = -EIO;
	return err;
}

int db_copy(PGconn *db, const char *copy_sql, const char *buf, size_t len)
{
	PGresult *r;
	int err = 0;

	if (drain(db))
		return -EIO;
	r = PQexec(db, copy_sql);

	if (PQresultStatus(r) != PGRES_COPY_IN) {
		report(db, r, copy_sql);
		PQclear(r);
		return -EIO;
	}
	PQclear(r);
	if (len && PQputCopyData(db, buf, (int)len) != 1)
		err = -EIO;
	if (PQputCopyEnd(db, err ? "client error" : NULL) != 1)
		err = -EIO;
	while ((r = PQgetResult(db))) {
		if (PQresultStatus(r) != PGRES_COMMAND_OK) {
			report(db, r, copy_sql);
			err = -EIO;
		}
		PQclear(r);
	}
	return err;
}

bool db_broken(PGconn *db)
{
	return !db || PQstatus(db) != CONNECTION_OK;
}

static int schema_version(PGconn *db, unsigned *v)
{
	PGresult *r = db_query(db, "SELECT to_regclass('schema_version') IS NULL", 0, NULL);
	bool none;

	if (!r)
		return -EIO;
	none = !strcmp(PQgetvalue(r, 0, 0), "t");
	PQclear(r);
	*v = 0;
	if (none)
		return 0;
	if (!(r = db_query(db, "SELECT coalesce(max(version), 0) FROM schema_version", 0, NULL)))
		return -EIO;
	*v = (unsigned)strtoul(PQgetvalue(r, 0, 0), NULL, 10);
	PQclear(r);
	return 0;
}

int db_migrate(PGconn *db)
{
	char sql[128];
	unsigned have;

	if (db_exec(db, "BEGIN"))
		return -EIO;
	snprintf(sql, sizeof(sql), "SELECT pg_advisory_xact_lock(%d)", MIGRATE_LOCK);
	if (db_exec(db, sql) || schema_version(db, &have))
		goto out_rollback;
	for (unsigned i = 0; i < central_n_migrations; i++) {
		const struct central_migration *m = &central_migrations[i];

		if (m->version <= have)
			continue;
		if (db_exec(db, m->sql))
			goto out_rollback;
		snprintf(sql, sizeof(sql), "INSERT INTO schema_version (version) VALUES (%u)",
			 m->version);
		if (db_exec(db, sql))
			goto out_rollback;
		log_info("db: applied schema %s", m->name);
	}
	return db_exec(db, "COMMIT");
out_rollback:
	db_exec(db, "ROLLBACK");
	return -EIO;
}

static int grow(struct db_buf *b, size_t more)
{
	size_t cap = b->cap ? b->cap : 65536;
	char *p;

	while (cap < b->len + more + 1)
		cap *= 2;
	if (cap == b->cap)
		return 0;
	if (!(p = realloc(b->p, cap)))
		return -ENOMEM;
	b->p = p;
	b->cap = cap;
	return 0;
}

int db_buf_put(struct db_buf *b, const char *s, size_t len)
{
	if (grow(b, len))
		return -ENOMEM;
	memcpy(b->p + b->len, s, len);
	b->len += len;
	return 0;
}

int db_buf_field(struct db_buf *b, const char *s, bool last)
{
	size_t n = strlen(s);
	char *o;

	if (grow(b, 2 * n + 1))
		return -ENOMEM;
	o = b->p + b->len;
	for (size_t i = 0; i < n; i++) {
		switch (s[i]) {
		case '\\': *o++ = '\\'; *o++ = '\\'; break;
		case '\t': *o++ = '\\'; *o++ = 't'; break;
		case '\n': *o++ = '\\'; *o++ = 'n'; break;
		case '\r': *o++ = '\\'; *o++ = 'r'; break;
		default: *o++ = s[i];
		}
	}
	*o++ = last ? '\n' : '\t';
	b->len = (size_t)(o - b->p);
	return 0;
}

int db_buf_null(struct db_buf *b, bool last)
{
	return db_buf_put(b, last ? "\\N\n" : "\\N\t", 3);
}

void db_buf_reset(struct db_buf *b)
{
	b->len = 0;
}

void db_buf_free(struct db_buf *b)
{
	free(b->p);
	memset(b, 0, sizeof(*b));
}
