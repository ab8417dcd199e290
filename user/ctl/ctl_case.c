// SPDX-License-Identifier: GPL-2.0-only
/*
 * The case model behind exfilctl sessions, alerts, timeline, export and report: one
 * walk of the store, with jansson parsing each record, so every command sees the same
 * sessions, totals and alerts.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "model/activity.h"
#include "ctl.h"
#include "ctl_case.h"

void ctl_fmt_time(uint64_t ns, char *buf, size_t len)
{
	time_t secs = ns / 1000000000ULL;
	struct tm tm;

	if (!ns) {
		snprintf(buf, len, "-");
		return;
	}
	gmtime_r(&secs, &tm);
	strftime(buf, len, "%Y-%m-%d %H:%M:%S", &tm);
}

void ctl_fmt_rfc3339(uint64_t ns, char *buf, size_t len)
{
	time_t secs = ns / 1000000000ULL;
	struct tm tm;
	char day[32];

	gmtime_r(&secs, &tm);
	strftime(day, sizeof(day), "%Y-%m-%dT%H:%M:%S", &tm);
	snprintf(buf, len, "%s.%03lluZ", day, (unsigned long long)(ns % 1000000000ULL) / 1000000);
}

const char *case_str(json_t *o, const char *key)
{
	const char *s = json_string_value(json_object_get(o, key));

	return s ? s : "";
}

long long case_int(json_t *o, const char *key)
{
	return json_integer_value(json_object_get(o, key));
}

static struct case_session *session_slot(struct case_model *m, uint32_t sid)
{
	struct case_session *v;

	for (size_t i = 0; i < m->n_sessions; i++)
		if (m->sessions[i].session_id == sid)
			return &m->sessions[i];
	v = realloc(m->sessions, (m->n_sessions + 1) * sizeof(*v));
	if (!v)
		return NULL;
	m->sessions = v;
	v = &m->sessions[m->n_sessions++];
	memset(v, 0, sizeof(*v));
	v->session_id = sid;
	v->loginuid = LOGINUID_NONE;
	return v;
}

const struct case_session *case_find(const struct case_model *m, uint32_t session_id)
{
	for (size_t i = 0; i < m->n_sessions; i++)
		if (m->sessions[i].session_id == session_id)
			return &m->sessions[i];
	return NULL;
}

struct load_ctx {
	const struct case_opts *o;
	struct case_model *m;
	json_t *user_alerts;         /* per-user alert records, kept where they cover */
};

static void add_alert(struct case_model *m, json_t *a)
{
	json_t *x = json_object_get(a, "exfilmon"), *old;
	size_t i;

	json_array_foreach(m->alerts, i, old) {
		json_t *ox = json_object_get(old, "exfilmon");

		if (case_int(ox, "alert_id") == case_int(x, "alert_id") &&
		    !strcmp(case_str(json_object_get(old, "host"), "name"),
			    case_str(json_object_get(a, "host"), "name"))) {
			if (case_int(x, "revision") >= case_int(ox, "revision"))
				json_array_set(m->alerts, i, a);
			return;
		}
	}
	json_array_append(m->alerts, a);
}

static void account(struct case_session *s, json_t *d, const char *type, uint64_t ts)
{
	const char *kind = case_str(d, "kind");
	uint64_t bytes = (uint64_t)case_int(d, "bytes");

	/* Who the session is, when its login record is gone (retention, a --since query
	 * that skipped it): per-user alerts are matched by login uid. */
	if (s->loginuid == LOGINUID_NONE && json_is_integer(json_object_get(d, "loginuid")))
		s->loginuid = (uint32_t)case_int(d, "loginuid");
	if (!s->first_ns || ts < s->first_ns)
		s->first_ns = ts;
	if (ts > s->last_ns)
		s->last_ns = ts;
	if (!strcmp(type, "gap"))
		s->gaps++;
	if (strcmp(type, "activity"))
		return;
	switch (activity_class(activity_kind_from_name(kind))) {
	case ACT_CLASS_SOURCE:
		s->source_bytes += bytes;
		break;
	case ACT_CLASS_EGRESS:
		s->egress_bytes += bytes;
		break;
	case ACT_CLASS_STAGING:
		s->staging_bytes += bytes;
		break;
	case ACT_CLASS_NONE:
		break;
	}
}

static void identify(struct case_session *s, json_t *d)
{
	s->loginuid = (uint32_t)case_int(d, "loginuid");
	snprintf(s->user, sizeof(s->user), "%s", case_str(d, "user"));
	snprintf(s->tty, sizeof(s->tty), "%s", case_str(d, "tty"));
	snprintf(s->remote_host, sizeof(s->remote_host), "%s", case_str(d, "remote_host"));
	s->login_ns = (uint64_t)case_int(d, "login_ns");
}

static bool in_window(const struct ev_filter *f, uint64_t ts)
{
	return (!f->since_ns || ts >= f->since_ns) && (!f->until_ns || ts <= f->until_ns);
}

/* Records kept for the list: the session's (or user's) own, the agent's, and gaps that
 * concern every session (trimmed to the session's span once it is known, in case_load). */
static bool wanted_record(struct load_ctx *c, const struct ev_record *r, json_t *d,
			  const struct case_session *s)
{
	const struct ev_filter *f = &c->o->filter;

	if (!c->o->keep_records || !in_window(f, r->ts_ns))
		return false;
	if (!f->have_session && !c->o->user)
		return true;
	if (s)
		return (!f->have_session || s->session_id == f->session_id) &&
		       (!c->o->user || !strcmp(s->user, c->o->user));
	/* A per-user alert waits in c->user_alerts until the sessions' spans are known. */
	return !strcmp(r->type, "agent") ||
	       (!strcmp(r->type, "gap") && json_is_null(json_object_get(d, "session_id")));
}

/* {seq, ts_ns, type, data} and the ECS fields of an exported record (ctl_ecs.c). */
static json_t *record_json(const struct ev_record *r, json_t *d, const struct ctl_identity *id)
{
	json_t *rec = json_pack("{s:I, s:I, s:s, s:O}", "seq", (json_int_t)r->seq, "ts_ns",
				(json_int_t)r->ts_ns, "type", r->type, "data", d);

	if (rec)
		ctl_ecs_record(rec, r->type, d, r->ts_ns, id);
	return rec;
}

static int on_record(void *ctx, const struct ev_record *r)
{
	struct load_ctx *c = ctx;
	json_t *d = json_loadb(r->json, r->json_len, 0, NULL), *sid;
	struct case_session *s = NULL;

	c->m->last_seq = r->seq;
	if (!d)
		return 0;
	sid = json_object_get(!strcmp(r->type, "alert") ? json_object_get(d, "exfilmon") : d,
			      "session_id");
	if (json_is_integer(sid))
		s = session_slot(c->m, (uint32_t)json_integer_value(sid));
	/* Who a session is matters whenever it logged in; the window limits the rest. */
	if (s && !strcmp(r->type, "session"))
		identify(s, d);
	ctl_identity_note(&c->m->id, r->type, d);
	if (!c->m->first_id.host_name[0])
		c->m->first_id = c->m->id;
	if (s && in_window(&c->o->filter, r->ts_ns))
		account(s, d, r->type, r->ts_ns);
	if (!strcmp(r->type, "alert") && in_window(&c->o->filter, r->ts_ns)) {
		add_alert(c->m, d);
		if (s && case_int(json_object_get(d, "exfilmon"), "revision") <= 1)
			s->alerts++;
	}
	if (wanted_record(c, r, d, s)) {
		json_array_append_new(c->m->records, record_json(r, d, &c->m->id));
	} else if (c->user_alerts && !c->o->filter.have_session && !s &&
		   !strcmp(r->type, "alert") && in_window(&c->o->filter, r->ts_ns)) {
		json_array_append_new(c->user_alerts, record_json(r, d, &c->m->id));
	}
	json_decref(d);
	return 0;
}

/* Second pass of a session query: per-user alerts carry no session id, so the index
 * cannot point at their blocks. One covering the session was raised after the session
 * began (an alert follows the activity it counts), so blocks before that are skipped. */
static int on_user_alert(void *ctx, const struct ev_record *r)
{
	struct load_ctx *c = ctx;
	json_t *d, *x;

	if (strcmp(r->type, "alert") || !in_window(&c->o->filter, r->ts_ns))
		return 0;
	d = json_loadb(r->json, r->json_len, 0, NULL);
	x = json_object_get(d, "exfilmon");
	if (d && json_is_null(json_object_get(x, "session_id"))) {
		add_alert(c->m, d);
		if (c->user_alerts)
			json_array_append_new(c->user_alerts, record_json(r, d, &c->m->id));
	}
	json_decref(d);
	return 0;
}

static int load_user_alerts(struct load_ctx *c)
{
	const struct case_session *s = case_find(c->m, c->o->filter.session_id);
	struct ev_filter f = { .since_ns = c->o->filter.since_ns,
			       .until_ns = c->o->filter.until_ns, .settle_ms = CTL_SETTLE_MS };
	struct ev_report rep;

	if (!s)
		return 0;
	if (s->first_ns > f.since_ns)
		f.since_ns = s->first_ns;
	return evidence_read(c->o->dir, &f, on_user_alert, c, &rep);
}

/* RFC 3339 as the alerts carry it ("2026-11-28T07:31:54.481Z") to nanoseconds. */
static int rfc3339_ns(const char *s, uint64_t *ns)
{
	struct tm tm = { 0 };
	const char *end = strptime(s, "%Y-%m-%dT%H:%M:%S", &tm);
	uint64_t frac = 0, scale = 1000000000ULL;

	if (!end)
		return -EINVAL;
	if (*end == '.')
		for (end++; *end >= '0' && *end <= '9'; end++)
			if (scale > 1)
				frac += (uint64_t)(*end - '0') * (scale /= 10);
	if (strcmp(end, "Z"))
		return -EINVAL;
	*ns = (uint64_t)timegm(&tm) * 1000000000ULL + frac;
	return 0;
}

/* Alerts carry milliseconds; a session's records are compared with that much slack. */
#define EPISODE_SLACK_NS 1000000ULL

bool case_alert_covers(json_t *alert, const struct case_session *s)
{
	json_t *x = json_object_get(alert, "exfilmon"), *sid = json_object_get(x, "session_id");
	uint64_t start, end;

	if (json_is_integer(sid))
		return (uint32_t)json_integer_value(sid) == s->session_id;
	if (!json_is_null(sid))
		return false;
	if (s->loginuid != LOGINUID_NONE ? (uint32_t)case_int(x, "loginuid") != s->loginuid
					 : !*s->user || strcmp(s->user, case_str(json_object_get(
							  alert, "user"), "name")))
		return false;
	/* Without readable episode bounds, show it in every session of the user rather
	 * than in none. */
	if (rfc3339_ns(case_str(x, "episode_start"), &start) ||
	    rfc3339_ns(case_str(x, "episode_end"), &end))
		return true;
	return s->first_ns <= end + EPISODE_SLACK_NS && s->last_ns + EPISODE_SLACK_NS >= start;
}

/* The latest revision of the episode record r belongs to. */
static json_t *latest_revision(const struct case_model *m, json_t *r)
{
	json_t *d = json_object_get(r, "data"), *al;
	long long id = case_int(json_object_get(d, "exfilmon"), "alert_id");
	const char *host = case_str(json_object_get(d, "host"), "name");
	size_t i;

	json_array_foreach(m->alerts, i, al)
		if (case_int(json_object_get(al, "exfilmon"), "alert_id") == id &&
		    !strcmp(case_str(json_object_get(al, "host"), "name"), host))
			return al;
	return d;
}

/* Whether the episode covers a session the query is about. */
static bool covers_query(const struct case_opts *o, const struct case_model *m, json_t *alert)
{
	for (size_t i = 0; i < m->n_sessions; i++) {
		const struct case_session *s = &m->sessions[i];

		if ((o->filter.have_session && s->session_id != o->filter.session_id) ||
		    (o->user && strcmp(s->user, o->user)))
			continue;
		if (case_alert_covers(alert, s))
			return true;
	}
	return false;
}

static int by_seq(const void *a, const void *b)
{
	long long x = case_int(*(json_t *const *)a, "seq");
	long long y = case_int(*(json_t *const *)b, "seq");

	return x < y ? -1 : x > y;
}

/* Every revision of an episode that covers the query joins the records, in seq order. */
static int merge_user_alerts(const struct case_opts *o, struct case_model *m, json_t *cand)
{
	size_t i, n = 0, total;
	json_t *r, **v, *sorted;

	json_array_foreach(cand, i, r)
		if (covers_query(o, m, latest_revision(m, r)))
			json_array_append(m->records, r), n++;
	if (!n)
		return 0;
	total = json_array_size(m->records);
	v = malloc(total * sizeof(*v));
	sorted = json_array();
	if (!v || !sorted) {
		free(v);
		json_decref(sorted);
		return -ENOMEM;
	}
	json_array_foreach(m->records, i, r)
		v[i] = r;
	qsort(v, total, sizeof(*v), by_seq);
	for (i = 0; i < total; i++)
		json_array_append(sorted, v[i]);
	free(v);
	json_decref(m->records);
	m->records = sorted;
	return 0;
}

/* A per-user episode counts once in each session it covers. */
static void count_user_alerts(struct case_model *m)
{
	json_t *al;
	size_t i;

	json_array_foreach(m->alerts, i, al) {
		if (!json_is_null(json_object_get(json_object_get(al, "exfilmon"), "session_id")))
			continue;
		for (size_t k = 0; k < m->n_sessions; k++)
			if (case_alert_covers(al, &m->sessions[k]))
				m->sessions[k].alerts++;
	}
}

/* A gap for every session belongs in one session's list only if it overlaps its span. */
static bool gap_in_span(const struct case_model *m, uint32_t session_id, const char *type,
			json_t *d)
{
	const struct case_session *s = case_find(m, session_id);
	uint64_t first = (uint64_t)case_int(d, "first_ns"), last = (uint64_t)case_int(d, "last_ns");

	if (strcmp(type, "gap") || !json_is_null(json_object_get(d, "session_id")))
		return true;
	return s && (!last || last >= s->first_ns) && first <= s->last_ns;
}

static void trim_global_gaps(struct case_model *m, uint32_t session_id)
{
	size_t i = 0;

	while (i < json_array_size(m->records)) {
		json_t *r = json_array_get(m->records, i);

		if (gap_in_span(m, session_id, case_str(r, "type"), json_object_get(r, "data")))
			i++;
		else
			json_array_remove(m->records, i);
	}
}

int case_load(const struct case_opts *o, struct case_model *m)
{
	bool narrowed = o->filter.have_session || o->user;
	bool want_alerts = narrowed && (o->keep_records || o->stream);
	struct load_ctx c = { o, m, NULL };
	struct ev_filter f = { .have_session = o->filter.have_session,
			       .session_id = o->filter.session_id, .settle_ms = CTL_SETTLE_MS };
	int err;

	memset(m, 0, sizeof(*m));
	m->alerts = json_array();
	m->records = json_array();
	if (want_alerts)
		c.user_alerts = json_array();
	if (!m->alerts || !m->records || (want_alerts && !c.user_alerts)) {
		fprintf(stderr, "exfilctl: out of memory\n");
		json_decref(c.user_alerts);
		return 1;
	}
	/* The index lets a session query skip other sessions' blocks. Time is applied per
	 * record, so logins before --since still name their users. */
	err = evidence_read(o->dir, &f, on_record, &c, &m->rep);
	if (!err && o->filter.have_session)
		err = load_user_alerts(&c);
	if (!err && c.user_alerts)
		err = merge_user_alerts(o, m, c.user_alerts);
	json_decref(c.user_alerts);
	if (err == -EINVAL) {
		fprintf(stderr, "exfilctl: %s\n", m->rep.problem);
		return 1;
	}
	if (err) {
		fprintf(stderr, "exfilctl: %s: %s\n", o->dir, strerror(-err));
		return 1;
	}
	count_user_alerts(m);
	if (m->rep.index_altered)
		fprintf(stderr, "exfilctl: WARNING: the index was altered; the blocks it "
				"misdescribes were read in full: %s\n", m->rep.index_problem);
	if (!m->rep.intact)
		fprintf(stderr, "exfilctl: WARNING: evidence not intact; nothing after the "
				"problem is shown: %s\n", m->rep.problem);
	if (o->filter.have_session && o->keep_records)
		trim_global_gaps(m, o->filter.session_id);
	ctl_identity_backfill(m->records, &m->first_id);
	return 0;
}

struct stream_ctx {
	struct load_ctx c;           /* with keep_records set, for wanted_record */
	struct case_opts o;
	case_record_fn fn;
	void *arg;
	size_t next_alert;           /* next of m->records (per-user alerts) to emit */
	struct ctl_identity id;      /* host and agent as of the record going by */
};

/* Emits the per-user alert records that come before seq (UINT64_MAX: all). */
static void emit_alerts_before(struct stream_ctx *sc, uint64_t seq)
{
	json_t *pending = sc->c.m->records, *r;

	while (sc->next_alert < json_array_size(pending) &&
	       (uint64_t)case_int(r = json_array_get(pending, sc->next_alert), "seq") < seq) {
		sc->fn(sc->arg, r);
		sc->next_alert++;
	}
}

static int on_stream(void *ctx, const struct ev_record *r)
{
	struct stream_ctx *sc = ctx;
	const struct case_session *s = NULL;
	json_t *d, *sid, *rec;

	/* What the first pass saw, and no more: a live store may have grown since. */
	if (r->seq > sc->c.m->last_seq)
		return 1;
	emit_alerts_before(sc, r->seq);
	d = json_loadb(r->json, r->json_len, 0, NULL);
	if (!d)
		return 0;
	sid = json_object_get(!strcmp(r->type, "alert") ? json_object_get(d, "exfilmon") : d,
			      "session_id");
	if (json_is_integer(sid))
		s = case_find(sc->c.m, (uint32_t)json_integer_value(sid));
	ctl_identity_note(&sc->id, r->type, d);
	if (wanted_record(&sc->c, r, d, s) &&
	    (!sc->o.filter.have_session ||
	     gap_in_span(sc->c.m, sc->o.filter.session_id, r->type, d))) {
		/* Records before the first agent or session record: the first pass found it. */
		rec = record_json(r, d, sc->id.host_name[0] ? &sc->id : &sc->c.m->first_id);
		if (rec)
			sc->fn(sc->arg, rec);
		json_decref(rec);
	}
	json_decref(d);
	return 0;
}

int case_stream(const struct case_opts *o, struct case_model *m, case_record_fn fn, void *arg)
{
	struct stream_ctx sc = { .o = *o, .fn = fn, .arg = arg };
	struct ev_filter f = o->filter;
	struct ev_report rep;
	int err;

	sc.o.keep_records = false;
	sc.o.stream = true;
	if ((err = case_load(&sc.o, m)))
		return err;
	/* Second pass: who every session is, their spans and the per-user alerts are known
	 * now, so each record is decided as it goes by and nothing is kept. */
	sc.o.keep_records = true;
	sc.c = (struct load_ctx){ &sc.o, m, NULL };
	f.settle_ms = CTL_SETTLE_MS;
	if (!m->rep.empty && evidence_read(o->dir, &f, on_stream, &sc, &rep) < 0) {
		fprintf(stderr, "exfilctl: %s: cannot read it again\n", o->dir);
		case_free(m);
		return 1;
	}
	emit_alerts_before(&sc, UINT64_MAX);
	return 0;
}

void case_free(struct case_model *m)
{
	free(m->sessions);
	json_decref(m->alerts);
	json_decref(m->records);
	memset(m, 0, sizeof(*m));
}
