// SPDX-License-Identifier: GPL-2.0-only
/*
 * Central alerts: stored with INSERT ... ON CONFLICT on alert_key (so a detection pass
 * run twice, or by two instances, raises an alert once), queued, and written to the
 * JSON-lines file (one O_APPEND write per line, synced) and syslog after the commit.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include "central_alert.h"
#include "central_db.h"
#include "common/log.h"

#define QUEUE_MAX 4096

struct alert_sink {
	int fd;
	bool use_syslog;
	char *queue[QUEUE_MAX];
	unsigned n;
	unsigned long dropped;
};

static const struct {
	const char *rule, *description, *category;
} rules[] = {
	{ "ring", "Ring: several people collected data and sent it to the same unapproved destination", "network" },
	{ "fleet_user", "Fleet user: one person's collection over all their hosts crossed a threshold no host saw", "file" },
	{ "agent_silent", "Agent silent: no heartbeat for several intervals without a clean shutdown", "host" },
	{ "evidence_tampered", "Evidence tampered: a host's chain does not continue, or contradicts its heartbeat", "host" },
	{ "evidence_gap", "Evidence gap: blocks of a host's chain are missing or were deleted unshipped", "host" },
	{ "config_drift", "Config drift: a host runs a configuration its group's majority does not", "configuration" },
	{ "policy_refused", "Policy refused: a host refused a policy bundle (bad signature, expired, rollback, wrong group)", "configuration" },
};

struct alert_sink *alert_sink_open(const char *path, bool use_syslog)
{
	struct alert_sink *s = calloc(1, sizeof(*s));

	if (!s)
		return NULL;
	s->fd = -1;
	s->use_syslog = use_syslog;
	if (path && *path) {
		s->fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600);
		if (s->fd < 0) {
			int e = errno;

			free(s);
			errno = e;
			return NULL;
		}
	}
	if (use_syslog)
		openlog("exfilmon-central", LOG_PID | LOG_NDELAY, LOG_AUTHPRIV);
	return s;
}

void alert_sink_close(struct alert_sink *s)
{
	if (!s)
		return;
	alert_sink_rolled_back(s);
	if (s->fd >= 0)
		close(s->fd);
	free(s);
}

void alert_time(uint64_t ns, char *buf, size_t len)
{
	time_t t = (time_t)(ns / 1000000000ULL);
	struct tm tm;
	char day[32];

	gmtime_r(&t, &tm);
	strftime(day, sizeof(day), "%Y-%m-%dT%H:%M:%S", &tm);
	snprintf(buf, len, "%s.%03uZ", day, (unsigned)(ns % 1000000000ULL / 1000000));
}

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

json_t *alert_doc(const char *rule, const char *key, const char *host, const char *user,
		  uint64_t start_ns, uint64_t end_ns)
{
	const char *desc = rule, *cat = "host";
	char now[40], start[40], end[40];

	for (size_t i = 0; i < sizeof(rules) / sizeof(rules[0]); i++)
		if (!strcmp(rules[i].rule, rule)) {
			desc = rules[i].description;
			cat = rules[i].category;
		}
	alert_time(now_ns(), now, sizeof(now));
	alert_time(start_ns, start, sizeof(start));
	alert_time(end_ns, end, sizeof(end));
	return json_pack("{s:s, s:{s:s, s:[s], s:s, s:s, s:i, s:s, s:s}, s:{s:s, s:s},"
			 " s:{s:s?, s:n}, s:{s:s?}, s:{s:s, s:i, s:s, s:s, s:s, s:s}}",
			 "@timestamp", now,
			 "event", "kind", "alert", "category", cat, "action", rule, "id", key,
			 "sequence", 1, "start", start, "end", end,
			 "rule", "name", rule, "description", desc,
			 "user", "name", user, "id",
			 "host", "name", host,
			 "exfilmon", "alert_key", key, "revision", 1, "origin", "central",
			 "episode_start", start, "episode_end", end, "host_id", host ? host : "");
}

static void queue(struct alert_sink *s, json_t *doc, int revision)
{
	char *line;

	json_object_set_new(json_object_get(doc, "event"), "sequence", json_integer(revision));
	json_object_set_new(json_object_get(doc, "exfilmon"), "revision", json_integer(revision));
	line = json_dumps(doc, JSON_COMPACT);
	if (!line)
		return;
	if (s->n == QUEUE_MAX) {
		s->dropped++;              /* still in PostgreSQL; the file is a copy */
		free(line);
		return;
	}
	s->queue[s->n++] = line;
}

int alert_raise(struct alert_sink *s, PGconn *db, const char *key, const char *host_id,
		const char *user, json_t *doc)
{
	const char *rule = json_string_value(json_object_get(json_object_get(doc, "rule"), "name"));
	char *text = json_dumps(doc, JSON_COMPACT);
	const char *p[5] = { key, rule, host_id, user, text };
	PGresult *r;
	int ret = -EIO;

	if (!text || !rule)
		goto out;
	r = db_query(db,
		     "INSERT INTO alerts (alert_key, origin, rule, host_id, user_name, ts, doc) "
		     "VALUES ($1, 'central', $2, $3, $4, now(), $5::jsonb) "
		     "ON CONFLICT (alert_key) DO UPDATE SET revision = alerts.revision + 1, ts = now(), "
		     " doc = jsonb_set(jsonb_set(EXCLUDED.doc, '{event,sequence}', to_jsonb(alerts.revision + 1)),"
		     "   '{exfilmon,revision}', to_jsonb(alerts.revision + 1)) "
		     "WHERE EXCLUDED.doc->'exfilmon'->'fingerprint' IS NOT NULL AND "
		     " EXCLUDED.doc->'exfilmon'->'fingerprint' IS DISTINCT FROM alerts.doc->'exfilmon'->'fingerprint' "
		     "RETURNING revision",
		     5, p);
	if (!r)
		goto out;
	ret = PQntuples(r) ? 1 : 0;
	if (ret)
		queue(s, doc, atoi(PQgetvalue(r, 0, 0)));
	PQclear(r);
out:
	free(text);
	json_decref(doc);
	return ret;
}

void alert_sink_committed(struct alert_sink *s)
{
	for (unsigned i = 0; i < s->n; i++) {
		size_t len = strlen(s->queue[i]);

		log_info("alert: %s", s->queue[i]);
		if (s->use_syslog)
			syslog(LOG_ALERT, "%s", s->queue[i]);
		s->queue[i][len] = '\n';   /* the NUL becomes the newline: one write per line */
		if (s->fd >= 0 && (write(s->fd, s->queue[i], len + 1) != (ssize_t)(len + 1) ||
				   fdatasync(s->fd)))
			log_error("alert: write alerts file: %s", strerror(errno));
		free(s->queue[i]);
	}
	s->n = 0;
	if (s->dropped) {
		log_warn("alert: %lu alerts not written to the file (queue full; they are in the database)",
			 s->dropped);
		s->dropped = 0;
	}
}

void alert_sink_rolled_back(struct alert_sink *s)
{
	for (unsigned i = 0; i < s->n; i++)
		free(s->queue[i]);
	s->n = 0;
}
