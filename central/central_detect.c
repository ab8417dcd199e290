// SPDX-License-Identifier: GPL-2.0-only
/*
 * The central detections. Every rule is a table entry: a query returning one row per
 * finding with the alert key, host, user, episode span (ns) and a JSON object that
 * goes under "exfilmon" (members, figures, evidence ranges), built by PostgreSQL so
 * that lists and sums come out in one round trip. Parameters: $1 ring.min_users,
 * $2 ring.window (s), $3 silent intervals, $4 fleet_user.bulk_read, $5 fleet_user.window
 * (s), $6 fleet_user.drip bytes, $7 drip window (s), $8 detect.drift_grace (s).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>

#include "central_db.h"
#include "central_detect.h"
#include "common/log.h"

#define NS 1000000000ULL

struct rule {
	const char *name;
	const char *sql;             /* key, host, user, start_ns, end_ns, exfilmon json */
};

/* Users who, within the window, collected from sources and sent egress to a
 * destination network, grouped by network; a member must not have an agent
 * exfiltration alert of their own in the window. */
#define RING_SQL \
	"WITH w AS (SELECT ((now() - make_interval(secs => $2::double precision)) AT TIME ZONE 'UTC')::date AS d)," \
	"eg AS (SELECT * FROM activity_daily, w WHERE day >= w.d AND kind = 'egress_net' AND dst_net <> '')," \
	"src AS (SELECT user_name, host_id, session_id, sum(bytes) AS bytes, min(first_seq) AS fs," \
	"  max(last_seq) AS ls, jsonb_agg(jsonb_build_object('name', object, 'bytes', bytes) ORDER BY bytes DESC) AS sources" \
	"  FROM activity_daily, w WHERE day >= w.d AND kind IN ('source_file', 'source_net', 'mmap_source')" \
	"  GROUP BY 1, 2, 3)," \
	"m AS (SELECT e.dst_net, e.user_name, e.host_id, e.session_id, sum(e.bytes) AS egress_bytes," \
	"  min(e.first_seq) AS fs, max(e.last_seq) AS ls, min(e.first_ts) AS ft, max(e.last_ts) AS lt," \
	"  jsonb_agg(jsonb_build_object('name', e.object, 'bytes', e.bytes) ORDER BY e.bytes DESC) AS destinations" \
	"  FROM eg e WHERE EXISTS (SELECT 1 FROM src s WHERE s.user_name = e.user_name)" \
	"  AND NOT EXISTS (SELECT 1 FROM alerts a WHERE a.origin = 'agent' AND a.rule = 'exfiltration'" \
	"   AND a.user_name = e.user_name AND a.ts >= now() - make_interval(secs => $2::double precision))" \
	"  GROUP BY 1, 2, 3, 4)," \
	"r AS (SELECT dst_net FROM m GROUP BY dst_net HAVING count(DISTINCT user_name) >= $1::int)" \
	"SELECT 'ring:' || m.dst_net, NULL, NULL," \
	" (extract(epoch FROM min(m.ft)) * 1e9)::bigint, (extract(epoch FROM max(m.lt)) * 1e9)::bigint," \
	" jsonb_build_object('destination_net', m.dst_net," \
	"  'fingerprint', string_agg(DISTINCT m.user_name, ',')," \
	"  'users', jsonb_agg(DISTINCT m.user_name), 'hosts', jsonb_agg(DISTINCT m.host_id)," \
	"  'egress_bytes', sum(m.egress_bytes), 'source_bytes', sum(coalesce(s.bytes, 0))," \
	"  'members', jsonb_agg(jsonb_build_object('user', m.user_name, 'host', m.host_id," \
	"   'session_id', m.session_id, 'egress_bytes', m.egress_bytes, 'destinations', m.destinations," \
	"   'source_bytes', coalesce(s.bytes, 0), 'sources', coalesce(s.sources, '[]'::jsonb)," \
	"   'evidence_first_seq', least(m.fs, s.fs), 'evidence_last_seq', greatest(m.ls, s.ls))" \
	"   ORDER BY m.user_name, m.host_id, m.session_id))::text" \
	" FROM m JOIN r USING (dst_net) LEFT JOIN src s USING (user_name, host_id, session_id)" \
	" GROUP BY m.dst_net"

/* One person's source bytes over every host within the window crossed the threshold,
 * though no host's share did and the agents raised nothing for it. */
#define FLEET_USER_SQL(what, thr, win, rules) \
	"WITH a AS (SELECT d.user_name, d.host_id, sum(d.bytes) AS bytes, min(d.first_ts) AS ft," \
	"  max(d.last_ts) AS lt FROM activity_daily d" \
	"  WHERE d.last_ts >= now() - make_interval(secs => " win "::double precision)" \
	"  AND d.kind IN ('source_file', 'source_net', 'mmap_source') GROUP BY 1, 2)" \
	"SELECT 'fleet_user:" what ":' || user_name || ':' || to_char(now() AT TIME ZONE 'UTC', 'YYYY-MM-DD')," \
	" NULL, user_name, (extract(epoch FROM min(ft)) * 1e9)::bigint," \
	" (extract(epoch FROM max(lt)) * 1e9)::bigint," \
	" jsonb_build_object('threshold_kind', '" what "', 'threshold', " thr "::bigint," \
	"  'source_bytes', sum(bytes), 'fingerprint', string_agg(host_id, ',' ORDER BY host_id)," \
	"  'hosts', jsonb_agg(jsonb_build_object('host', host_id, 'source_bytes', bytes) ORDER BY host_id))::text" \
	" FROM a GROUP BY user_name" \
	" HAVING sum(bytes) >= " thr "::bigint AND max(bytes) < " thr "::bigint AND NOT EXISTS (" \
	"  SELECT 1 FROM alerts x WHERE x.origin = 'agent' AND x.user_name = a.user_name" \
	"  AND x.rule IN (" rules ") AND x.ts >= now() - make_interval(secs => " win "::double precision))"

/* Each host with what was pushed to its groups (its heartbeat's groups and "all"): the
 * newest serial and when it was first there, whether the config it runs (the policy
 * sha256 of its heartbeat, else its config_sha256) was ever pushed to them, and the
 * serial it runs (the heartbeat's, else that of the push with its sha, else 0). */
#define PUSHED_CTE \
	"WITH h AS (SELECT host_id, start_id, hb_received, groups, groups || ARRAY['all'] AS pg," \
	"  coalesce(policy_sha256, config_sha256) AS sha, policy_serial FROM hosts" \
	"  WHERE coalesce(policy_sha256, config_sha256) IS NOT NULL)," \
	"n AS (SELECT h.host_id, max(q.serial) AS newest FROM h JOIN policy_pushes q" \
	"  ON q.grp = ANY(h.pg) GROUP BY h.host_id)," \
	"s AS (SELECT h.*, n.newest," \
	"  (SELECT min(q.pushed_at) FROM policy_pushes q WHERE q.grp = ANY(h.pg) AND q.serial = n.newest) AS newest_at," \
	"  (SELECT max(q.serial) FROM policy_pushes q WHERE q.grp = ANY(h.pg) AND q.config_sha256 = h.sha) AS known," \
	"  (SELECT q.config_sha256 FROM policy_pushes q WHERE q.grp = ANY(h.pg) AND q.serial = n.newest LIMIT 1) AS newest_sha" \
	"  FROM h JOIN n USING (host_id))"

/* Behind: the host kept reporting a serial below the newest push to its groups for
 * longer than the grace, counted from its first heartbeat of this run received after the
 * push (a laptop back from a weekend is judged from when it is back). Unknown: it runs a
 * config never pushed to its groups. Keyed by (host, serial): once per push it lags. */
#define DRIFT_SQL \
	PUSHED_CTE "," \
	"a AS (SELECT s.*, coalesce(policy_serial, known, 0) AS applied, f.since FROM s LEFT JOIN LATERAL" \
	"  (SELECT min(b.received) AS since FROM heartbeats b WHERE b.host_id = s.host_id" \
	"   AND b.start_id = s.start_id AND b.received >= s.newest_at) f ON true)" \
	"SELECT 'config_drift:' || host_id || ':behind:' || newest, host_id, NULL," \
	" (extract(epoch FROM since) * 1e9)::bigint, (extract(epoch FROM hb_received) * 1e9)::bigint," \
	" jsonb_build_object('problem', 'behind', 'groups', groups, 'applied_serial', applied," \
	"  'config_sha256', sha, 'pushed_serial', newest, 'pushed_sha256', newest_sha," \
	"  'pushed_at', newest_at, 'behind_since', since, 'grace_s', $8::bigint)::text" \
	" FROM a WHERE applied < newest AND hb_received - since > make_interval(secs => $8::double precision)" \
	" UNION ALL " \
	"SELECT 'config_drift:' || host_id || ':unknown:' || applied || ':' || sha, host_id, NULL," \
	" (extract(epoch FROM hb_received) * 1e9)::bigint, (extract(epoch FROM hb_received) * 1e9)::bigint," \
	" jsonb_build_object('problem', 'unknown_sha', 'groups', groups, 'applied_serial', applied," \
	"  'config_sha256', sha, 'pushed_serial', newest, 'pushed_sha256', newest_sha," \
	"  'detail', 'runs a config never pushed to its groups')::text" \
	" FROM a WHERE known IS NULL"

/* Hosts none of whose groups ever got a push: the config a strict majority of the group
 * runs stands for what IT wants (hosts without groups form the group "all"). */
#define MAJORITY_SQL \
	"WITH g AS (SELECT host_id, config_sha256, unnest(CASE WHEN cardinality(groups) = 0" \
	"  THEN ARRAY['all'] ELSE groups END) AS grp, hb_ts FROM hosts h WHERE config_sha256 IS NOT NULL" \
	"  AND NOT EXISTS (SELECT 1 FROM policy_pushes q WHERE q.grp = ANY(h.groups || ARRAY['all'])))," \
	"c AS (SELECT grp, config_sha256, count(*) AS n, sum(count(*)) OVER (PARTITION BY grp) AS total" \
	"  FROM g GROUP BY grp, config_sha256)," \
	"m AS (SELECT grp, config_sha256 AS majority, n, total FROM c WHERE n * 2 > total)" \
	"SELECT 'config_drift:' || g.host_id || ':' || g.grp || ':' || g.config_sha256, g.host_id, NULL," \
	" (extract(epoch FROM g.hb_ts) * 1e9)::bigint, (extract(epoch FROM g.hb_ts) * 1e9)::bigint," \
	" jsonb_build_object('problem', 'majority', 'group', g.grp, 'config_sha256', g.config_sha256," \
	"  'majority_sha256', m.majority, 'majority_hosts', m.n, 'group_hosts', m.total)::text" \
	" FROM g JOIN m USING (grp) WHERE g.config_sha256 <> m.majority"

static const struct rule rules[] = {
	{ "ring", RING_SQL },
	{ "fleet_user", FLEET_USER_SQL("bulk", "$4", "$5", "'bulk_collection_bytes'") },
	{ "fleet_user", FLEET_USER_SQL("drip", "$6", "$7", "'slow_drip'") },
	{ "agent_silent",
	  "SELECT 'agent_silent:' || host_id || ':' || start_id || ':' || hb_seq, host_id, NULL,"
	  " (extract(epoch FROM hb_ts) * 1e9)::bigint, (extract(epoch FROM now()) * 1e9)::bigint,"
	  " jsonb_build_object('last_heartbeat', hb_ts, 'last_received', hb_received,"
	  "  'interval_s', interval_s, 'missed_intervals',"
	  "  floor(extract(epoch FROM now() - hb_received) / interval_s), 'host_name', host_name,"
	  "  'chain_block', hb_chain_block, 'chain_hash', hb_chain_hash)::text"
	  " FROM hosts WHERE NOT clean_shutdown AND interval_s > 0"
	  " AND hb_received < now() - make_interval(secs => interval_s * $3::double precision)" },
	{ "evidence_tampered",
	  "WITH c AS (UPDATE heartbeats h SET chain_checked = true FROM blocks b"
	  " WHERE NOT h.chain_checked AND b.host_id = h.host_id AND b.block_no = h.chain_block"
	  " RETURNING h.host_id, h.start_id, h.seq, h.ts, h.chain_block, h.chain_hash, b.hash AS stored)"
	  "SELECT 'evidence_tampered:' || host_id || ':heartbeat:' || chain_block || ':' || left(chain_hash, 16),"
	  " host_id, NULL, (extract(epoch FROM ts) * 1e9)::bigint, (extract(epoch FROM ts) * 1e9)::bigint,"
	  " jsonb_build_object('problem', 'heartbeat_contradicts', 'detail', 'heartbeat ' || start_id || '/'"
	  "  || seq || ' says block ' || chain_block || ' has hash ' || coalesce(chain_hash, 'null') ||"
	  "  ', the block received has ' || stored, 'block', chain_block)::text"
	  " FROM c WHERE chain_hash IS DISTINCT FROM stored" },
	{ "evidence_gap",
	  "SELECT 'evidence_gap:' || host_id || ':deleted:' || (deleted_unshipped->>'first_block') || '-'"
	  " || (deleted_unshipped->>'last_block'), host_id, NULL, (extract(epoch FROM hb_ts) * 1e9)::bigint,"
	  " (extract(epoch FROM hb_ts) * 1e9)::bigint,"
	  " jsonb_build_object('detail', 'the agent deleted ' || (deleted_unshipped->>'blocks') ||"
	  "  ' blocks (' || (deleted_unshipped->>'records') || ' records) before shipping them',"
	  "  'first_block', deleted_unshipped->'first_block', 'last_block', deleted_unshipped->'last_block',"
	  "  'records', deleted_unshipped->'records')::text"
	  " FROM hosts WHERE (deleted_unshipped->>'blocks')::bigint > 0" },
	{ "config_drift", DRIFT_SQL },
	{ "config_drift", MAJORITY_SQL },
};

static int raise_row(struct alert_sink *sink, PGconn *db, const char *rule, PGresult *r, int i)
{
	const char *key = PQgetvalue(r, i, 0);
	const char *host = PQgetisnull(r, i, 1) ? NULL : PQgetvalue(r, i, 1);
	const char *user = PQgetisnull(r, i, 2) ? NULL : PQgetvalue(r, i, 2);
	json_t *x = json_loads(PQgetvalue(r, i, 5), 0, NULL);
	json_t *doc = alert_doc(rule, key, host, user, strtoull(PQgetvalue(r, i, 3), NULL, 10),
				strtoull(PQgetvalue(r, i, 4), NULL, 10));

	if (!x || !doc) {
		json_decref(x);
		json_decref(doc);
		return -ENOMEM;
	}
	json_object_update(json_object_get(doc, "exfilmon"), x);
	json_decref(x);
	return alert_raise(sink, db, key, host, user, doc) < 0 ? -EIO : 0;
}

static int run_rule(const struct rule *ru, const char *const *p, PGconn *db,
		    struct alert_sink *sink)
{
	static const Oid types[8] = { 25, 25, 25, 25, 25, 25, 25, 25 };
	struct timespec t0, t1;
	PGresult *r;
	int err = 0;

	clock_gettime(CLOCK_MONOTONIC, &t0);
	if (db_exec(db, "BEGIN"))
		return -EIO;
	/* Typed as text, so a rule need not use every parameter. */
	r = PQexecParams(db, ru->sql, 8, types, p, NULL, NULL, 0);
	if (PQresultStatus(r) != PGRES_TUPLES_OK) {
		log_error("detect: %s: %s", ru->name, PQresultErrorMessage(r));
		err = -EIO;
	}
	for (int i = 0; !err && i < PQntuples(r); i++)
		err = raise_row(sink, db, ru->name, r, i);
	PQclear(r);
	if (!err && !db_exec(db, "COMMIT")) {
		alert_sink_committed(sink);
		clock_gettime(CLOCK_MONOTONIC, &t1);
		log_debug("detect: %s took %.1f ms", ru->name,
			  (double)(t1.tv_sec - t0.tv_sec) * 1e3 + (double)(t1.tv_nsec - t0.tv_nsec) / 1e6);
		return 0;
	}
	db_exec(db, "ROLLBACK");
	alert_sink_rolled_back(sink);        /* the failed statement was logged */
	return -EIO;
}

int detect_run(const struct central_config *cfg, PGconn *db, struct alert_sink *sink)
{
	char v[8][32];
	const char *p[8] = { v[0], v[1], v[2], v[3], v[4], v[5], v[6], v[7] };
	int err = 0;

	sprintf(v[0], "%llu", (unsigned long long)cfg->ring_min_users);
	sprintf(v[1], "%llu", (unsigned long long)(cfg->ring_window_ns / NS));
	sprintf(v[2], "%llu", (unsigned long long)cfg->silent_intervals);
	sprintf(v[3], "%llu", (unsigned long long)cfg->fu_bulk_bytes);
	sprintf(v[4], "%llu", (unsigned long long)(cfg->fu_window_ns / NS));
	sprintf(v[5], "%llu", (unsigned long long)cfg->fu_drip_bytes);
	sprintf(v[6], "%llu", (unsigned long long)(cfg->fu_drip_window_ns / NS));
	sprintf(v[7], "%llu", (unsigned long long)(cfg->drift_grace_ns / NS));
	for (size_t i = 0; i < sizeof(rules) / sizeof(rules[0]); i++)
		if (run_rule(&rules[i], p, db, sink))
			err = -EIO;
	return err;
}
