// SPDX-License-Identifier: GPL-2.0-only
/*
 * Detection engine. Two kinds of subject: a login session, and a user (loginuid) across
 * all of their sessions. Collection rules judge sessions; exfiltration links a session's
 * egress to a collection by the same session or by the same user within the lookback;
 * slow drip and baseline judge users. Each (subject, rule) has at most one open episode:
 * crossings update it, quiet for a window closes it. Activity outside any login session
 * (services, cron, package managers) is never judged: it belongs to no person.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <search.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "detect.h"
#include "detect_baseline.h"
#include "detect_window.h"

#define DISTINCT_CAP 8192
#define UPDATE_GROWTH 1.10       /* an open episode is re-emitted when it grew 10% */
#define SAVE_EVERY_NS (300ULL * 1000000000ULL)

struct episode {
	uint64_t id;
	uint32_t revision;
	bool open;
	uint64_t start_ns, end_ns;
	uint64_t emitted_value;
	unsigned emitted_dests;
	uint64_t first_seq, last_seq;
};

struct subject {
	bool is_user;
	uint32_t id;                 /* session id, or loginuid for a user */
	uint32_t loginuid;
	uint32_t last_session;       /* users: the session of the latest activity */
	struct slide_sum window;     /* source bytes in detect.window */
	struct slide_sum drip;       /* users: source bytes in detect.drip window */
	struct distinct_set objects;
	uint64_t collected_ns;       /* last bulk collection (0: none) */
	uint64_t egress_bytes;       /* unapproved egress after a collection */
	uint64_t staging_bytes;
	uint64_t last_ns;
	struct top_list sources, destinations, processes;
	struct episode ep[RULE_BASELINE + 1];
	struct baseline baseline;    /* users only */
};

struct detect {
	struct detect_config cfg;
	struct detect_ops ops;
	char *state_path;
	char config_sha256[65];
	void *subjects;              /* tsearch tree */
	uint64_t next_id;
	uint64_t seq;                /* evidence seq of the activity being fed */
	uint64_t last_save_ns;
	struct baseline *loaded;     /* baselines read at start, claimed by user subjects */
	size_t n_loaded;
};

static int cmp_subject(const void *a, const void *b)
{
	const struct subject *x = a, *y = b;

	if (x->is_user != y->is_user)
		return x->is_user ? 1 : -1;
	return x->id < y->id ? -1 : x->id > y->id;
}

static void subject_free(void *p)
{
	struct subject *s = p;

	distinct_free(&s->objects);
	free(s);
}

static struct subject *subject_get(struct detect *d, bool is_user, uint32_t id, uint32_t loginuid)
{
	struct subject key = { .is_user = is_user, .id = id }, **slot, *s;

	slot = tfind(&key, &d->subjects, cmp_subject);
	if (slot)
		return *slot;
	s = calloc(1, sizeof(*s));
	if (!s)
		return NULL;
	s->is_user = is_user;
	s->id = id;
	s->loginuid = loginuid;
	slide_init(&s->window, d->cfg.window_ns);
	slide_init(&s->drip, d->cfg.drip_window_ns);
	if (!is_user && distinct_init(&s->objects, DISTINCT_CAP, d->cfg.window_ns)) {
		free(s);
		return NULL;
	}
	s->baseline.loginuid = loginuid;
	for (size_t i = 0; is_user && i < d->n_loaded; i++)
		if (d->loaded[i].loginuid == loginuid)
			s->baseline = d->loaded[i];
	slot = tsearch(s, &d->subjects, cmp_subject);
	if (!slot) {
		subject_free(s);
		return NULL;
	}
	return *slot;
}

struct detect *detect_new(const struct detect_config *cfg, const struct detect_ops *ops,
			  const char *state_path)
{
	struct detect *d = calloc(1, sizeof(*d));

	if (!d)
		return NULL;
	d->cfg = *cfg;
	d->ops = *ops;
	if (state_path) {
		d->state_path = strdup(state_path);
		if (baseline_load(state_path, &d->loaded, &d->n_loaded))
			d->n_loaded = 0;
	}
	return d;
}

void detect_reconfigure(struct detect *d, const struct detect_config *cfg)
{
	/* Windows keep their buckets; a changed span applies to buckets from now on. */
	d->cfg = *cfg;
}

void detect_set_config_hash(struct detect *d, const char *sha256_hex)
{
	snprintf(d->config_sha256, sizeof(d->config_sha256), "%s", sha256_hex);
}

void detect_set_evidence_seq(struct detect *d, uint64_t seq)
{
	d->seq = seq;
}

static void copy_top(const struct top_list *t, struct alert_item *out, unsigned *n)
{
	struct top_entry tmp[ALERT_MAX_ITEMS];

	*n = top_sorted(t, tmp, ALERT_MAX_ITEMS);
	for (unsigned i = 0; i < *n; i++) {
		memcpy(out[i].name, tmp[i].name, sizeof(out[i].name));
		out[i].bytes = tmp[i].bytes;
		out[i].pid = tmp[i].pid;
	}
}

static void emit(struct detect *d, struct subject *s, enum alert_rule rule, uint64_t now,
		 uint64_t threshold, uint64_t source_bytes, double baseline)
{
	struct episode *e = &s->ep[rule];
	struct detect_subject who = { 0 };
	struct alert a = { 0 };

	a.id = e->id;
	a.rule = rule;
	a.revision = e->revision;
	a.start_ns = e->start_ns;
	a.end_ns = e->end_ns;
	a.raised_ns = now;
	a.session_id = s->is_user ? s->last_session : s->id;
	a.loginuid = s->loginuid;
	if (d->ops.subject)
		d->ops.subject(d->ops.ctx, a.session_id, s->loginuid, &who);
	snprintf(a.user, sizeof(a.user), "%s", who.user ? who.user : "");
	snprintf(a.tty, sizeof(a.tty), "%s", who.tty ? who.tty : "");
	snprintf(a.remote_host, sizeof(a.remote_host), "%s", who.remote_host ? who.remote_host : "");
	a.source_bytes = source_bytes;
	a.source_objects = s->objects.n;
	a.egress_bytes = rule == RULE_STAGING ? s->staging_bytes : s->egress_bytes;
	a.threshold = threshold;
	a.baseline_bytes = baseline;
	copy_top(&s->sources, a.sources, &a.n_sources);
	copy_top(&s->destinations, a.destinations, &a.n_destinations);
	copy_top(&s->processes, a.processes, &a.n_processes);
	a.evidence_first_seq = e->first_seq;
	a.evidence_last_seq = e->last_seq;
	snprintf(a.config_sha256, sizeof(a.config_sha256), "%s", d->config_sha256);
	e->emitted_value = source_bytes > a.egress_bytes ? source_bytes : a.egress_bytes;
	e->emitted_dests = a.n_destinations;
	d->ops.emit(d->ops.ctx, &a);
}

/*
 * A rule's figure crossed its threshold: open an episode, or grow the open one and
 * re-emit it only when it grew meaningfully or gained a destination.
 */
static void crossed(struct detect *d, struct subject *s, enum alert_rule rule,
		    const struct activity *act, uint64_t value, uint64_t threshold,
		    uint64_t source_bytes, double baseline)
{
	struct episode *e = &s->ep[rule];

	if (!e->open) {
		e->open = true;
		e->id = ++d->next_id;
		e->revision = 1;
		e->start_ns = act->first_ns ? act->first_ns : act->ts_ns;
		e->end_ns = act->ts_ns;
		e->first_seq = e->last_seq = d->seq;
		emit(d, s, rule, act->ts_ns, threshold, source_bytes, baseline);
		return;
	}
	e->end_ns = act->ts_ns;
	e->last_seq = d->seq;
	if ((double)value >= (double)e->emitted_value * UPDATE_GROWTH ||
	    s->destinations.n > e->emitted_dests) {
		e->revision++;
		emit(d, s, rule, act->ts_ns, threshold, source_bytes, baseline);
	}
}

static bool recently(uint64_t when, uint64_t now, uint64_t span)
{
	return when && now >= when && now - when <= span;
}

static void check_staging(struct detect *d, struct subject *s, const struct activity *act)
{
	if (s->collected_ns && s->staging_bytes > d->cfg.staging_bytes)
		crossed(d, s, RULE_STAGING, act, s->staging_bytes, d->cfg.staging_bytes,
			slide_total(&s->window, act->ts_ns), 0);
}

static void collected(struct detect *d, struct subject *s, struct subject *u, uint64_t ts)
{
	s->collected_ns = ts;
	u->collected_ns = ts;
}

static void on_collection(struct detect *d, struct subject *s, struct subject *u,
			  const struct activity *act)
{
	uint64_t ts = act->ts_ns, in_window, objects;
	double mean;

	slide_add(&s->window, ts, act->bytes);
	slide_add(&u->drip, ts, act->bytes);
	baseline_add(&u->baseline, ts, act->bytes);
	objects = distinct_add(&s->objects, act->object_id, ts);
	top_add(&s->sources, act->object ? act->object : "?", 0, act->bytes);
	in_window = slide_total(&s->window, ts);
	if (in_window > d->cfg.bulk_read_bytes) {
		collected(d, s, u, ts);
		crossed(d, s, RULE_BULK_READ, act, in_window, d->cfg.bulk_read_bytes, in_window, 0);
	}
	if (objects > d->cfg.bulk_objects) {
		collected(d, s, u, ts);
		crossed(d, s, RULE_BULK_OBJECTS, act, objects, d->cfg.bulk_objects, in_window, 0);
	}
	check_staging(d, s, act);
	/* Slow drip: a long-window volume that never crossed a per-window threshold. */
	if (slide_total(&u->drip, ts) > d->cfg.drip_bytes &&
	    !recently(u->collected_ns, ts, d->cfg.drip_window_ns))
		crossed(d, u, RULE_DRIP, act, slide_total(&u->drip, ts), d->cfg.drip_bytes,
			slide_total(&u->drip, ts), 0);
	mean = baseline_mean(&u->baseline);
	if (mean >= 0 && u->baseline.today_bytes > d->cfg.baseline_min_bytes &&
	    (double)u->baseline.today_bytes > d->cfg.baseline_factor * mean)
		crossed(d, u, RULE_BASELINE, act, u->baseline.today_bytes,
			(uint64_t)(d->cfg.baseline_factor * mean), u->baseline.today_bytes, mean);
}

static void on_egress(struct detect *d, struct subject *s, struct subject *u,
		      const struct activity *act)
{
	char dest[256];

	/* Egress counts only after a collection by this session or this user. */
	if (!recently(s->collected_ns, act->ts_ns, d->cfg.lookback_ns) &&
	    !recently(u->collected_ns, act->ts_ns, d->cfg.lookback_ns))
		return;
	if (act->dst_ip)
		snprintf(dest, sizeof(dest), strchr(act->dst_ip, ':') ? "[%s]:%u" : "%s:%u",
			 act->dst_ip, act->dst_port);
	else
		snprintf(dest, sizeof(dest), "%s", act->mount ? act->mount : act->object);
	s->egress_bytes += act->bytes;
	top_add(&s->destinations, dest, 0, act->bytes);
	if (s->egress_bytes > d->cfg.exfil_bytes)
		crossed(d, s, RULE_EXFIL, act, s->egress_bytes, d->cfg.exfil_bytes,
			slide_total(&s->window, act->ts_ns), 0);
}

void detect_feed(struct detect *d, const struct activity *act)
{
	struct subject *s, *u;

	if (act->session_id == SESSION_NONE || act->loginuid == LOGINUID_NONE || !act->bytes)
		return;
	s = subject_get(d, false, act->session_id, act->loginuid);
	u = subject_get(d, true, act->loginuid, act->loginuid);
	if (!s || !u)
		return;
	s->last_ns = u->last_ns = act->ts_ns;
	u->last_session = act->session_id;
	top_add(&s->processes, act->comm ? act->comm : "?", act->pid, act->bytes);
	switch (act->kind) {
	case ACT_SOURCE_FILE:
	case ACT_SOURCE_NET:
	case ACT_MMAP_SOURCE:
		on_collection(d, s, u, act);
		break;
	case ACT_EGRESS_NET:
	case ACT_EGRESS_MEDIA:
	case ACT_EGRESS_SYNC:
		on_egress(d, s, u, act);
		break;
	case ACT_STAGING:
		s->staging_bytes += act->bytes;
		top_add(&s->destinations, act->object ? act->object : "?", 0, act->bytes);
		check_staging(d, s, act);
		break;
	}
}

struct tick_ctx {
	struct detect *d;
	uint64_t now;
	struct subject **idle;
	size_t n_idle, cap;
};

static struct tick_ctx *tick_walk;

static void tick_visit(const void *node, VISIT which, int depth)
{
	struct subject *s = *(struct subject *const *)node;
	struct tick_ctx *c = tick_walk;
	bool any_open = false;

	(void)depth;
	if (which != postorder && which != leaf)
		return;
	for (int r = RULE_BULK_READ; r <= RULE_BASELINE; r++) {
		struct episode *e = &s->ep[r];

		if (e->open && c->now > e->end_ns && c->now - e->end_ns > c->d->cfg.window_ns)
			e->open = false;
		any_open |= e->open;
	}
	if (s->is_user)
		baseline_roll(&s->baseline, c->now);
	/* Sessions quiet past the lookback have nothing left to link; users keep baselines. */
	if (!s->is_user && !any_open && c->now > s->last_ns &&
	    c->now - s->last_ns > c->d->cfg.lookback_ns && c->n_idle < c->cap)
		c->idle[c->n_idle++] = s;
}

void detect_tick(struct detect *d, uint64_t now_ns)
{
	struct subject *idle[1024];
	struct tick_ctx c = { d, now_ns, idle, 0, 1024 };

	/* twalk has no context argument; detection is single-threaded. */
	tick_walk = &c;
	twalk(d->subjects, tick_visit);
	for (size_t i = 0; i < c.n_idle; i++) {
		tdelete(idle[i], &d->subjects, cmp_subject);
		subject_free(idle[i]);
	}
	if (now_ns - d->last_save_ns > SAVE_EVERY_NS) {
		d->last_save_ns = now_ns;
		detect_save(d);
	}
}

struct save_ctx {
	struct baseline *v;
	size_t n, cap;
};

static struct save_ctx *save_walk;

static void save_visit(const void *node, VISIT which, int depth)
{
	const struct subject *s = *(const struct subject *const *)node;

	(void)depth;
	if ((which == postorder || which == leaf) && s->is_user && save_walk->n < save_walk->cap)
		save_walk->v[save_walk->n++] = s->baseline;
}

int detect_save(struct detect *d)
{
	struct save_ctx c = { 0 };
	int err;

	if (!d->state_path)
		return 0;
	c.cap = 65536;
	c.v = calloc(c.cap, sizeof(*c.v));
	if (!c.v)
		return -ENOMEM;
	save_walk = &c;
	twalk(d->subjects, save_visit);
	/* Users not seen since start keep what was loaded for them. */
	for (size_t i = 0; i < d->n_loaded && c.n < c.cap; i++) {
		bool have = false;

		for (size_t j = 0; j < c.n && !have; j++)
			have = c.v[j].loginuid == d->loaded[i].loginuid;
		if (!have)
			c.v[c.n++] = d->loaded[i];
	}
	err = baseline_save(d->state_path, c.v, c.n);
	free(c.v);
	return err;
}

void detect_free(struct detect *d)
{
	if (!d)
		return;
	tdestroy(d->subjects, subject_free);
	free(d->loaded);
	free(d->state_path);
	free(d);
}
