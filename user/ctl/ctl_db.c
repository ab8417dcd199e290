// SPDX-License-Identifier: GPL-2.0-only
/*
 * exfilctl --db CONNINFO: the investigator's views over exfilmon-central's PostgreSQL
 * store (docs/central.md): hosts, alerts, sessions, timeline, report and verify. With
 * --host H the tables print exactly as the same command on that host's store does (so
 * the two can be compared); across hosts a HOST column comes first.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>
#include <libpq-fe.h>

#include "common/timeutil.h"
#include "config/parse.h"
#include "ctl.h"
#include "ctl_case.h"
#include "evidence/evidence_read.h"

struct db_args {
	const char *conninfo, *user, *host, *rule, *dir, *head, *output;
	char since[32], until[32];   /* ns since the epoch as text, "" when open */
	long long session;
	bool json;
};

static const char usage[] =
	"usage: exfilctl COMMAND --db CONNINFO [--host H] [--user U] [--rule R] [--session N]\n"
	"                [--since T] [--until T] [--json]\n"
	"  COMMAND: hosts | alerts | sessions | timeline --user U | report [-o FILE]\n"
	"           | verify --host H [--dir STORE | --head HASH]\n"
	"  T: RFC 3339 (2026-11-28T07:51:54Z), a date, unix seconds, or relative (-2h, today)\n";

/* --since/--until in the forms every command takes (config/parse.h parse_time). */
static int parse_when(const char *s, char *out, size_t len)
{
	uint64_t ns;

	if (parse_time(s, realtime_ns(), &ns))
		return -EINVAL;
	snprintf(out, len, "%llu", (unsigned long long)ns);
	return 0;
}

static int parse_db_args(int argc, char **argv, struct db_args *a)
{
	static const struct option opts[] = {
		{ "db", required_argument, NULL, 'D' }, { "user", required_argument, NULL, 'u' },
		{ "host", required_argument, NULL, 'H' }, { "rule", required_argument, NULL, 'r' },
		{ "since", required_argument, NULL, 'S' }, { "until", required_argument, NULL, 'U' },
		{ "session", required_argument, NULL, 's' }, { "json", no_argument, NULL, 'j' },
		{ "dir", required_argument, NULL, 'd' }, { "head", required_argument, NULL, 'h' },
		{ "output", required_argument, NULL, 'o' }, { 0 } };
	int c;

	memset(a, 0, sizeof(*a));
	a->session = -1;
	optind = 1;
	while ((c = getopt_long(argc, argv, "o:", opts, NULL)) != -1) {
		switch (c) {
		case 'D': a->conninfo = optarg; break;
		case 'u': a->user = optarg; break;
		case 'H': a->host = optarg; break;
		case 'r': a->rule = optarg; break;
		case 'd': a->dir = optarg; break;
		case 'h': a->head = optarg; break;
		case 'o': a->output = optarg; break;
		case 'j': a->json = true; break;
		case 's': a->session = strtoll(optarg, NULL, 10); break;
		case 'S':
		case 'U':
			if (parse_when(optarg, c == 'S' ? a->since : a->until, sizeof(a->since))) {
				fprintf(stderr, "exfilctl: --%s: not a time: '%s'\n%s",
					c == 'S' ? "since" : "until", optarg, usage);
				return 2;
			}
			break;
		default:
			fputs(usage, stderr);
			return 2;
		}
	}
	if (optind < argc || !a->conninfo) {
		fputs(usage, stderr);
		return 2;
	}
	return 0;
}

/* Parameters every query gets, typed so that a query may leave some unused: $1 host,
 * $2 user, $3 rule, $4 since_ns, $5 until_ns, $6 session (NULL when not given). */
static PGresult *query(PGconn *db, const struct db_args *a, const char *sql)
{
	char sess[32];
	const char *p[6] = { a->host, a->user, a->rule, a->since[0] ? a->since : NULL,
			     a->until[0] ? a->until : NULL, NULL };
	static const Oid types[6] = { 25, 25, 25, 20, 20, 20 };
	PGresult *r;

	if (a->session >= 0) {
		snprintf(sess, sizeof(sess), "%lld", a->session);
		p[5] = sess;
	}
	r = PQexecParams(db, sql, 6, types, p, NULL, NULL, 0);
	if (PQresultStatus(r) != PGRES_TUPLES_OK) {
		fprintf(stderr, "exfilctl: query failed: %s", PQresultErrorMessage(r));
		PQclear(r);
		return NULL;
	}
	return r;
}

static const char *v(PGresult *r, int i, int j)
{
	return PQgetvalue(r, i, j);
}

/* A host's policy against what was pushed to its groups (and "all"): the serial it runs
 * (its heartbeat's, else that of the push with its config's hash), the newest pushed,
 * and the drift: current, behind, ahead, unknown-sha (never pushed to its groups) or
 * no-push (nothing pushed to its groups; config_drift falls back to the majority). */
#define HOST_POLICY \
	" LEFT JOIN LATERAL (SELECT max(q.serial) AS newest," \
	"  max(q.serial) FILTER (WHERE q.config_sha256 = coalesce(h.policy_sha256, h.config_sha256)) AS known" \
	"  FROM policy_pushes q WHERE q.grp = ANY(h.groups || ARRAY['all'])) p ON true" \
	" LEFT JOIN LATERAL (SELECT coalesce(h.policy_serial, p.known) AS applied," \
	"  CASE WHEN h.host_id IS NULL THEN NULL WHEN p.newest IS NULL THEN 'no-push'" \
	"  WHEN p.known IS NULL THEN 'unknown-sha'" \
	"  WHEN coalesce(h.policy_serial, p.known) < p.newest THEN 'behind'" \
	"  WHEN coalesce(h.policy_serial, p.known) > p.newest THEN 'ahead' ELSE 'current' END AS drift) d ON true"

static int db_hosts(PGconn *db, const struct db_args *a)
{
	PGresult *r = query(db, a,
		"SELECT host_id, coalesce(h.host_name, ''), coalesce(h.agent_version, ''),"
		" left(coalesce(h.config_sha256, ''), 12),"
		" coalesce(to_char(h.hb_ts, 'YYYY-MM-DD HH24:MI:SS'), '-'),"
		" coalesce(c.head_block::text, '-'), left(coalesce(c.head_hash, ''), 16),"
		" coalesce((h.hb_chain_block - c.head_block)::text, '-'),"
		" CASE WHEN coalesce(c.broken_links, 0) > 0 THEN 'TAMPERED'"
		"  WHEN h.host_id IS NULL THEN 'no-heartbeat' WHEN h.clean_shutdown THEN 'stopped'"
		"  WHEN h.hb_received < now() - make_interval(secs => 3 * h.interval_s) THEN 'SILENT'"
		"  ELSE 'ok' END,"
		" json_build_object('host_id', host_id, 'host_name', h.host_name, 'agent_version',"
		"  h.agent_version, 'config_sha256', h.config_sha256, 'last_heartbeat', h.hb_ts,"
		"  'chain_head_block', c.head_block, 'chain_head_hash', c.head_hash,"
		"  'heartbeat_chain_block', h.hb_chain_block, 'records', c.records,"
		"  'broken_links', c.broken_links, 'groups', h.groups, 'policy_serial', d.applied,"
		"  'policy_sha256', h.policy_sha256, 'pushed_serial', p.newest, 'drift', d.drift)::text,"
		" coalesce(nullif(array_to_string(h.groups, ','), ''), '-'),"
		" coalesce(d.applied::text, '-'), coalesce(p.newest::text, '-'), coalesce(d.drift, '-')"
		" FROM hosts h FULL JOIN chain_state c USING (host_id)" HOST_POLICY
		" WHERE ($1::text IS NULL OR host_id = $1) AND ($2::text IS NULL OR EXISTS"
		"  (SELECT 1 FROM sessions s WHERE s.host_id = coalesce(h.host_id, c.host_id)"
		"  AND s.user_name = $2)) ORDER BY host_id");

	if (!r)
		return 1;
	if (!a->json)
		printf("%-20s %-16s %-8s %-12s %-19s %8s %-16s %5s %-12s %10s %10s %-11s %s\n",
		       "HOST", "NAME", "VERSION", "CONFIG", "LAST HEARTBEAT", "BLOCK", "CHAIN HEAD",
		       "LAG", "GROUPS", "SERIAL", "PUSHED", "DRIFT", "STATUS");
	for (int i = 0; i < PQntuples(r); i++) {
		char h[256], n[256], ver[256], cfg[64], grp[256];

		/* Names, version, config hash and groups are whatever the agent's heartbeat said. */
		if (a->json)
			puts(v(r, i, 9));
		else
			printf("%-20s %-16s %-8s %-12s %-19s %8s %-16s %5s %-12s %10s %10s %-11s %s\n",
			       ctl_safe(v(r, i, 0), h, sizeof(h)), ctl_safe(v(r, i, 1), n, sizeof(n)),
			       ctl_safe(v(r, i, 2), ver, sizeof(ver)), ctl_safe(v(r, i, 3), cfg, sizeof(cfg)),
			       v(r, i, 4), v(r, i, 5), v(r, i, 6), v(r, i, 7),
			       ctl_safe(v(r, i, 10), grp, sizeof(grp)), v(r, i, 11), v(r, i, 12),
			       v(r, i, 13), v(r, i, 8));
	}
	PQclear(r);
	return 0;
}

#define TIME_FILTER(col) \
	" AND ($4::bigint IS NULL OR " col " >= $4) AND ($5::bigint IS NULL OR " col " <= $5)"

/* The SESSION column: the alert's session; a per-user or central alert names none here
 * ("user", "-"; the local view lists the sessions a per-user alert covers). */
static const char *alert_session(json_t *al, char *buf, size_t len)
{
	json_t *x = json_object_get(al, "exfilmon");
	json_t *sid = json_object_get(x, "session_id");

	if (json_is_integer(sid))
		snprintf(buf, len, "%lld", (long long)json_integer_value(sid));
	else
		snprintf(buf, len, "%s", json_object_get(x, "alert_key") ? "-" : "user");
	return buf;
}

static int db_alerts(PGconn *db, const struct db_args *a)
{
	PGresult *r = query(db, a,
		"SELECT host_id, doc::text FROM alerts WHERE ($1::text IS NULL OR host_id = $1"
		"  OR doc->'exfilmon'->'hosts' ? $1)"
		" AND ($2::text IS NULL OR user_name = $2 OR doc->'exfilmon'->'users' ? $2)"
		" AND ($3::text IS NULL OR rule = $3)"
		" AND ($6::bigint IS NULL OR doc->'exfilmon'->>'session_id' = $6::text)"
		TIME_FILTER("(extract(epoch FROM ts) * 1e9)::bigint") " ORDER BY id");

	if (!r)
		return 1;
	if (!a->json && a->host)
		ctl_alert_header();
	else if (!a->json)
		printf("%-20s ", "HOST"), ctl_alert_header();
	for (int i = 0; i < PQntuples(r); i++) {
		json_t *al = json_loads(v(r, i, 1), 0, NULL);
		char h[256], sess[32];

		if (!al)
			continue;
		if (a->json) {
			json_dumpf(al, stdout, JSON_COMPACT);
			putchar('\n');
			json_decref(al);
			continue;
		}
		if (!a->host)
			printf("%-20s ", ctl_safe(v(r, i, 0), h, sizeof(h)));
		ctl_alert_line(al, alert_session(al, sess, sizeof(sess)));
		json_decref(al);
	}
	PQclear(r);
	return 0;
}

static void fill_session(PGresult *r, int i, struct case_session *s)
{
	memset(s, 0, sizeof(*s));
	s->session_id = (uint32_t)strtoul(v(r, i, 1), NULL, 10);
	s->loginuid = (uint32_t)strtoul(v(r, i, 2), NULL, 10);
	snprintf(s->user, sizeof(s->user), "%s", v(r, i, 3));
	snprintf(s->tty, sizeof(s->tty), "%s", v(r, i, 4));
	snprintf(s->remote_host, sizeof(s->remote_host), "%s", v(r, i, 5));
	s->login_ns = strtoull(v(r, i, 6), NULL, 10);
	s->first_ns = strtoull(v(r, i, 7), NULL, 10);
	s->last_ns = strtoull(v(r, i, 8), NULL, 10);
	s->source_bytes = strtoull(v(r, i, 9), NULL, 10);
	s->egress_bytes = strtoull(v(r, i, 10), NULL, 10);
	s->staging_bytes = strtoull(v(r, i, 11), NULL, 10);
	s->alerts = (unsigned)strtoul(v(r, i, 12), NULL, 10);
	s->gaps = (unsigned)strtoul(v(r, i, 13), NULL, 10);
}

/* The figures exfilctl sessions computes from a store (ctl_case.c account()), from the
 * central copy of the same records. */
static int db_sessions(PGconn *db, const struct db_args *a)
{
	PGresult *r = query(db, a,
		"WITH t AS (SELECT r.host_id, r.session_id, min(r.ts_ns) AS first_ns, max(r.ts_ns) AS last_ns,"
		"  sum(CASE WHEN r.type = 'activity' AND (r.doc->>'kind' LIKE 'source%' OR"
		"   r.doc->>'kind' = 'mmap_source') THEN (r.doc->>'bytes')::numeric ELSE 0 END) AS src,"
		"  sum(CASE WHEN r.type = 'activity' AND r.doc->>'kind' LIKE 'egress%'"
		"   THEN (r.doc->>'bytes')::numeric ELSE 0 END) AS egr,"
		"  sum(CASE WHEN r.type = 'activity' AND r.doc->>'kind' = 'staging'"
		"   THEN (r.doc->>'bytes')::numeric ELSE 0 END) AS stg,"
		"  count(*) FILTER (WHERE r.type = 'alert' AND"
		"   coalesce((r.doc->'exfilmon'->>'revision')::numeric, 0) <= 1) AS alerts,"
		"  count(*) FILTER (WHERE r.type = 'gap') AS gaps"
		"  FROM records r WHERE r.session_id IS NOT NULL AND ($1::text IS NULL OR r.host_id = $1)"
		"  AND ($6::bigint IS NULL OR r.session_id = $6)" TIME_FILTER("r.ts_ns")
		"  GROUP BY 1, 2)"
		"SELECT t.host_id, t.session_id, coalesce(s.loginuid, 0), coalesce(s.user_name, ''),"
		" coalesce(s.tty, ''), coalesce(s.remote_host, ''), coalesce(s.login_ns, 0), first_ns,"
		" last_ns, src, egr, stg, alerts, gaps"
		" FROM t LEFT JOIN LATERAL (SELECT * FROM sessions x WHERE x.host_id = t.host_id"
		"  AND x.session_id = t.session_id ORDER BY x.seq DESC LIMIT 1) s ON true"
		" WHERE ($2::text IS NULL OR s.user_name = $2)"
		" ORDER BY first_ns, t.session_id, t.host_id");

	if (!r)
		return 1;
	if (!a->json && !a->host)
		printf("%-20s ", "HOST");
	if (!a->json)
		ctl_session_header();
	for (int i = 0; i < PQntuples(r); i++) {
		struct case_session s;
		char h[256];

		fill_session(r, i, &s);
		if (a->json) {
			json_t *o = ctl_session_json(&s);

			if (!a->host)
				json_object_set_new(o, "host", json_string(v(r, i, 0)));
			json_dumpf(o, stdout, JSON_COMPACT);
			putchar('\n');
			json_decref(o);
			continue;
		}
		if (!a->host)
			printf("%-20s ", ctl_safe(v(r, i, 0), h, sizeof(h)));
		ctl_session_line(&s);
	}
	PQclear(r);
	return 0;
}

/* One person (or one session of one host) across the fleet in time order: the records
 * of their sessions, plus the agent and every-session gap records of those hosts, as
 * exfilctl timeline keeps them. One host: in store order. */
static int db_timeline(PGconn *db, const struct db_args *a)
{
	PGresult *r;

	if (!a->user && !(a->host && a->session >= 0)) {
		fprintf(stderr, "exfilctl timeline: give --user U (or --host H --session N)\n");
		return 2;
	}
	r = query(db, a,
		"WITH us AS (SELECT DISTINCT host_id, session_id FROM sessions"
		"  WHERE ($2::text IS NULL OR user_name = $2) AND ($1::text IS NULL OR host_id = $1)"
		"  AND ($6::bigint IS NULL OR session_id = $6))"
		"SELECT r.host_id, r.seq, r.ts_ns, r.type, r.doc::text FROM ("
		" SELECT x.* FROM us JOIN records x USING (host_id, session_id)"
		" UNION ALL SELECT x.* FROM (SELECT DISTINCT host_id FROM us) h JOIN records x"
		"  USING (host_id) WHERE x.session_id IS NULL AND x.type IN ('agent', 'gap')) r"
		" WHERE true" TIME_FILTER("r.ts_ns")
		" ORDER BY CASE WHEN $1::text IS NULL THEN r.ts_ns ELSE 0 END, r.host_id, r.seq");
	if (!r)
		return 1;
	for (int i = 0; i < PQntuples(r); i++) {
		json_t *d = json_loads(v(r, i, 4), 0, NULL);
		char when[32], line[1024], h[256];

		if (!d)
			continue;
		if (a->json) {
			json_t *rec = json_pack("{s:I, s:I, s:s, s:O}", "seq",
						(json_int_t)strtoll(v(r, i, 1), NULL, 10), "ts_ns",
						(json_int_t)strtoll(v(r, i, 2), NULL, 10), "type",
						v(r, i, 3), "data", d);
			char *s;

			if (!a->host)
				json_object_set_new(rec, "host", json_string(v(r, i, 0)));
			s = json_dumps(rec, JSON_COMPACT);
			puts(s);
			free(s);
			json_decref(rec);
		} else {
			ctl_describe(v(r, i, 3), d, line, sizeof(line));
			if (line[0]) {
				ctl_fmt_time(strtoull(v(r, i, 2), NULL, 10), when, sizeof(when));
				if (a->host)
					printf("%s  %s\n", when, line);
				else
					printf("%s  %-20s %s\n", when, ctl_safe(v(r, i, 0), h, sizeof(h)), line);
			}
		}
		json_decref(d);
	}
	PQclear(r);
	return 0;
}

/* Compares the central head with a local store's or a given head. */
static int compare_head(PGconn *db, const struct db_args *a, uint64_t block, const char *hash)
{
	char b[32];
	const char *p[2] = { a->host, b };
	PGresult *r;
	int ret;

	snprintf(b, sizeof(b), "%llu", (unsigned long long)block);
	r = PQexecParams(db, "SELECT hash FROM blocks WHERE host_id = $1 AND block_no = $2", 2,
			 NULL, p, NULL, NULL, 0);
	if (PQresultStatus(r) != PGRES_TUPLES_OK)
		ret = 1;
	else if (!PQntuples(r)) {
		printf("compare: block %s (hash %.16s...) is not in the central copy (not shipped yet,"
		       " or the central copy is behind)\n", b, hash);
		ret = 1;
	} else if (strcmp(v(r, 0, 0), hash)) {
		printf("compare: DIFFERENT: block %s is %s here and %s centrally\n", b, hash,
		       v(r, 0, 0));
		ret = 1;
	} else {
		printf("compare: block %s hash %s agrees with the central copy\n", b, hash);
		ret = 0;
	}
	PQclear(r);
	return ret;
}

/* Re-walks the central copy of a host's chain: numbers without holes, each prev_hash
 * equal to the hash before it, every block marked as verified at ingest. */
static int db_verify(PGconn *db, const struct db_args *a)
{
	PGresult *r;
	char prev[65] = "";
	long long expect = -1;
	int bad = 0, n;

	if (!a->host) {
		fprintf(stderr, "exfilctl verify: give --host H\n");
		return 2;
	}
	r = query(db, a, "SELECT block_no, hash, prev_hash, chain_ok, n_records FROM blocks"
			 " WHERE host_id = $1 ORDER BY block_no");
	if (!r)
		return 1;
	n = PQntuples(r);
	for (int i = 0; i < n; i++) {
		long long b = strtoll(v(r, i, 0), NULL, 10);

		if (expect >= 0 && b != expect) {
			printf("GAP: blocks %lld to %lld are missing\n", expect, b - 1);
			bad = 1;
		} else if (expect >= 0 && strcmp(prev, v(r, i, 2))) {
			printf("BROKEN LINK: block %lld's prev_hash %s is not block %lld's hash %s\n", b,
			       v(r, i, 2), b - 1, prev);
			bad = 1;
		}
		if (strcmp(v(r, i, 3), "t")) {
			printf("TAMPERED: block %lld did not verify when it arrived\n", b);
			bad = 1;
		}
		snprintf(prev, sizeof(prev), "%s", v(r, i, 1));
		expect = b + 1;
	}
	if (!n)
		printf("no blocks of host %s in the central store\n", a->host);
	else
		printf("%s: %d blocks (%s to %lld); chain head %s (block %lld)\n",
		       bad ? "NOT INTACT" : "intact", n, v(r, 0, 0), expect - 1, prev, expect - 1);
	PQclear(r);
	if (a->dir) {
		struct ev_report rep;

		if (evidence_read(a->dir, NULL, NULL, NULL, &rep)) {
			fprintf(stderr, "exfilctl: %s: cannot read the store\n", a->dir);
			return 1;
		}
		bad |= compare_head(db, a, rep.head_block, rep.head);
	} else if (a->head) {
		const char *colon = strchr(a->head, ':');

		if (!colon) {
			fprintf(stderr, "exfilctl verify: --head BLOCK:HASH\n");
			return 2;
		}
		bad |= compare_head(db, a, strtoull(a->head, NULL, 10), colon + 1);
	}
	return bad || !n;
}

static void html_text(FILE *f, const char *s)
{
	for (; *s; s++) {
		switch (*s) {
		case '<': fputs("&lt;", f); break;
		case '>': fputs("&gt;", f); break;
		case '&': fputs("&amp;", f); break;
		case '"': fputs("&quot;", f); break;
		default: fputc(*s, f);
		}
	}
}

static void html_ring(FILE *f, json_t *x)
{
	json_t *m;
	size_t i;

	fprintf(f, "<table><tr><th>user</th><th>host</th><th>session</th><th>collected</th>"
		   "<th>top source</th><th>sent out</th><th>destination</th><th>evidence</th></tr>\n");
	json_array_foreach(json_object_get(x, "members"), i, m) {
		json_t *src = json_array_get(json_object_get(m, "sources"), 0);
		json_t *dst = json_array_get(json_object_get(m, "destinations"), 0);

		fputs("<tr><td>", f);
		html_text(f, case_str(m, "user"));
		fputs("</td><td>", f);
		html_text(f, case_str(m, "host"));
		fprintf(f, "</td><td>%lld</td><td>%lld</td><td>", case_int(m, "session_id"),
			case_int(m, "source_bytes"));
		html_text(f, case_str(src, "name"));
		fprintf(f, "</td><td>%lld</td><td>", case_int(m, "egress_bytes"));
		html_text(f, case_str(dst, "name"));
		fprintf(f, "</td><td>seq %lld-%lld</td></tr>\n", case_int(m, "evidence_first_seq"),
			case_int(m, "evidence_last_seq"));
	}
	fputs("</table>\n", f);
}

/* A self-contained HTML page of the alerts the filters select; a ring names its members. */
static int db_report(PGconn *db, const struct db_args *a)
{
	PGresult *r = query(db, a,
		"SELECT host_id, rule, to_char(ts, 'YYYY-MM-DD HH24:MI:SS'), doc::text FROM alerts"
		" WHERE ($1::text IS NULL OR host_id = $1 OR doc->'exfilmon'->'hosts' ? $1)"
		" AND ($2::text IS NULL OR user_name = $2 OR doc->'exfilmon'->'users' ? $2)"
		" AND ($3::text IS NULL OR rule = $3)"
		TIME_FILTER("(extract(epoch FROM ts) * 1e9)::bigint") " ORDER BY ts, id");
	FILE *f = stdout;

	if (!r)
		return 1;
	if (a->output && !(f = fopen(a->output, "w"))) {
		fprintf(stderr, "exfilctl: %s: %s\n", a->output, strerror(errno));
		PQclear(r);
		return 1;
	}
	fputs("<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><title>exfilmon fleet report"
	      "</title><style>body{font-family:sans-serif}table{border-collapse:collapse}"
	      "td,th{border:1px solid #999;padding:2px 6px}</style></head><body>\n"
	      "<h1>exfilmon fleet report</h1>\n", f);
	for (int i = 0; i < PQntuples(r); i++) {
		json_t *d = json_loads(v(r, i, 3), 0, NULL), *x = json_object_get(d, "exfilmon");

		fprintf(f, "<h2>%s: ", v(r, i, 2));
		html_text(f, v(r, i, 1));
		fputs("</h2>\n<p>", f);
		html_text(f, case_str(json_object_get(d, "rule"), "description"));
		fputs("</p>\n", f);
		if (!strcmp(v(r, i, 1), "ring")) {
			fputs("<p>destination network ", f);
			html_text(f, case_str(x, "destination_net"));
			fprintf(f, ": %lld bytes sent out by %zu people</p>\n",
				case_int(x, "egress_bytes"), json_array_size(json_object_get(x, "users")));
			html_ring(f, x);
		} else {
			fputs("<p>host ", f);
			html_text(f, v(r, i, 0));
			fputs(", user ", f);
			html_text(f, case_str(json_object_get(d, "user"), "name"));
			fputs("</p>\n", f);
		}
		json_decref(d);
	}
	fputs("</body></html>\n", f);
	if (f != stdout)
		fclose(f);
	PQclear(r);
	return 0;
}

int ctl_db_main(int argc, char **argv)
{
	static const struct {
		const char *name;
		int (*run)(PGconn *db, const struct db_args *a);
	} views[] = {
		{ "hosts", db_hosts }, { "alerts", db_alerts }, { "sessions", db_sessions },
		{ "timeline", db_timeline }, { "verify", db_verify }, { "report", db_report },
	};
	struct db_args a;
	PGconn *db;
	int ret = 2;

	if (parse_db_args(argc, argv, &a))
		return 2;
	for (size_t i = 0; i < sizeof(views) / sizeof(views[0]); i++) {
		if (strcmp(argv[0], views[i].name))
			continue;
		db = PQconnectdb(a.conninfo);
		if (PQstatus(db) != CONNECTION_OK) {
			fprintf(stderr, "exfilctl: --db: %s", PQerrorMessage(db));
			PQfinish(db);
			return 1;
		}
		PQclear(PQexec(db, "SET TimeZone = 'UTC'"));
		ret = views[i].run(db, &a);
		PQfinish(db);
		return ret;
	}
	fprintf(stderr, "exfilctl: '%s' has no --db view\n%s", argv[0], usage);
	return ret;
}

bool ctl_wants_db(int argc, char **argv)
{
	for (int i = 1; i < argc; i++)
		if (!strcmp(argv[i], "--db") || !strncmp(argv[i], "--db=", 5))
			return true;
	return false;
}
