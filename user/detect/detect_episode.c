// SPDX-License-Identifier: GPL-2.0-only
/*
 * Episodes: one per (subject, rule) at most; opening, growing, re-emitting with a new
 * revision, closing when quiet, and filling the alert from the subject's figures.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "detect_int.h"
#include "common/log.h"

uint64_t dx_act_start(const struct activity *act)
{
	return act->first_ns && act->first_ns <= act->ts_ns ? act->first_ns : act->ts_ns;
}

static uint64_t min_seq(uint64_t a, uint64_t b)
{
	if (!a)
		return b;
	return b && b < a ? b : a;
}

uint64_t dx_new_id(struct detect *d, uint64_t now)
{
	if (!d->id_base)
		d->id_base = (now / NS_PER_S) << 20;
	return d->id_base + ++d->n_ids;
}

/* The session a user-level episode belongs to, or SESSION_NONE when several were active
 * since it started. */
static uint32_t single_session(const struct subject *u, uint64_t since)
{
	uint32_t sid = SESSION_NONE;
	unsigned n = 0;

	for (unsigned i = 0; i < RECENT_SESSIONS; i++) {
		if (u->recent[i].last_ns && u->recent[i].last_ns >= since) {
			sid = u->recent[i].id;
			n++;
		}
	}
	return n == 1 ? sid : SESSION_NONE;
}

static void copy_items(const struct window_top *t, struct alert_item *out, unsigned *n)
{
	struct window_top_entry tmp[ALERT_MAX_ITEMS];

	*n = window_top_sorted(t, tmp, ALERT_MAX_ITEMS);
	for (unsigned i = 0; i < *n; i++) {
		memcpy(out[i].name, tmp[i].name, sizeof(out[i].name));
		out[i].bytes = tmp[i].bytes;
		out[i].pid = tmp[i].pid;
	}
}

void dx_fill_who(struct detect *d, struct subject *s, const struct episode *e,
		     struct alert *a)
{
	struct detect_subject who = { 0 };
	struct subject *u = dx_user_of(s);
	uint32_t ask;

	a->session_id = s->is_user ? single_session(s, e->start_ns) : s->id;
	a->loginuid = s->loginuid;
	/* A user-level alert over several sessions names the user, not a terminal. */
	ask = a->session_id != SESSION_NONE ? a->session_id : u->recent[0].id;
	if (d->ops.subject)
		d->ops.subject(d->ops.ctx, ask, s->loginuid, &who);
	snprintf(a->user, sizeof(a->user), "%s", who.user ? who.user : "");
	if (a->session_id == SESSION_NONE)
		return;
	snprintf(a->tty, sizeof(a->tty), "%s", who.tty ? who.tty : "");
	snprintf(a->remote_host, sizeof(a->remote_host), "%s",
		 who.remote_host ? who.remote_host : "");
}

const struct collection *dx_linked(const struct detect *d, struct subject *s, uint64_t now)
{
	if (dx_within(s->collected_ns, now, d->cfg.lookback_ns))
		return &s->coll;
	return &dx_user_of(s)->coll;
}

static void fill_figures(struct detect *d, struct subject *s, enum alert_rule r,
			 const struct episode *e, uint64_t now, struct alert *a)
{
	const struct rule_def *def = &dx_rules[r];

	a->threshold = e->threshold;
	a->baseline_bytes = s->baseline ? baseline_typical(s->baseline) : 0;
	if (a->baseline_bytes < 0)
		a->baseline_bytes = 0;
	if (def->collection) {
		a->source_bytes = s->count[CNT_SOURCE] - e->base[CNT_SOURCE];
		a->source_objects = s->count[CNT_OBJECTS] - e->base[CNT_OBJECTS];
		copy_items(&s->sources, a->sources, &a->n_sources);
	} else {
		const struct collection *c = dx_linked(d, s, now);

		a->source_bytes = c->source_bytes;
		a->source_objects = c->objects;
		memcpy(a->sources, c->sources, sizeof(a->sources));
		a->n_sources = c->n_sources;
		a->egress_bytes = s->count[def->primary] - e->base[def->primary];
		a->evidence_first_seq = min_seq(a->evidence_first_seq, c->first_seq);
	}
	if (def->dests)
		copy_items(def->dests(s), a->destinations, &a->n_destinations);
	copy_items(&s->processes, a->processes, &a->n_processes);
}

/* Remembers a collection alert so a later exfiltration can say what it follows. */
static void note_collection(struct subject *s, const struct alert *a)
{
	struct collection *c = &s->coll;

	c->alert_id = a->id;
	c->session_id = a->session_id;
	c->first_seq = a->evidence_first_seq;
	c->source_bytes = a->source_bytes;
	c->objects = a->source_objects;
	memcpy(c->sources, a->sources, sizeof(c->sources));
	c->n_sources = a->n_sources;
	if (!s->is_user)
		s->user->coll = *c;
}

void dx_emit(struct detect *d, struct subject *s, enum alert_rule r, uint64_t now)
{
	struct episode *e = &s->ep[r];
	struct alert a;

	memset(&a, 0, sizeof(a));
	a.id = e->id;
	a.rule = r;
	a.revision = e->revision;
	a.start_ns = e->start_ns;
	a.end_ns = e->end_ns;
	a.raised_ns = now;
	a.evidence_first_seq = e->first_seq;
	a.evidence_last_seq = e->last_seq;
	dx_fill_who(d, s, e, &a);
	fill_figures(d, s, r, e, now, &a);
	snprintf(a.config_sha256, sizeof(a.config_sha256), "%s", d->config_sha256);
	e->emitted = s->count[dx_rules[r].primary] - e->base[dx_rules[r].primary];
	e->emitted_dests = a.n_destinations;
	if (dx_rules[r].collection)
		note_collection(s, &a);
	if (a.revision == 1)
		d->st.alerts++;
	else
		d->st.updates++;
	d->ops.emit(d->ops.ctx, &a);
}

static void mark_collected(struct subject *s, enum alert_rule r, uint64_t now)
{
	struct subject *u = dx_user_of(s);

	if (!dx_rules[r].collection)
		return;
	if (now > s->collected_ns)
		s->collected_ns = now;
	if (now > u->collected_ns)
		u->collected_ns = now;
	if (dx_rules[r].bulk && now > u->bulk_ns)
		u->bulk_ns = now;
}

static void close_episode(struct subject *s, enum alert_rule r)
{
	enum counter c = dx_rules[r].primary;

	s->ep[r].open = false;
	s->ep[r].floor = s->count[c];
	if (s->is_user)
		return;
	/* The session's episode spoke for the user's figure too: the user's view starts over. */
	s->user->open_in_sessions[r]--;
	s->user->ep[r].floor = s->user->count[c];
}

void dx_close_quiet(struct detect *d, struct subject *s, uint64_t now)
{
	for (int r = RULE_BULK_READ; r < N_RULES; r++) {
		struct episode *e = &s->ep[r];

		if (e->open && now > e->end_ns && now - e->end_ns > d->cfg.window_ns)
			close_episode(s, r);
	}
}

static void open_episode(struct detect *d, struct subject *s, enum alert_rule r,
			 const struct activity *act, uint64_t value, uint64_t threshold)
{
	const struct rule_def *def = &dx_rules[r];
	struct episode *e = &s->ep[r];
	uint64_t now = act->ts_ns, first_ns = 0, first_seq = 0;

	e->open = true;
	e->id = dx_new_id(d, now);
	e->revision = 1;
	e->threshold = threshold;
	if (!def->first(s, &first_ns, &first_seq) || first_ns > dx_act_start(act))
		first_ns = dx_act_start(act);
	e->start_ns = first_ns;
	e->end_ns = now;
	e->first_seq = min_seq(first_seq, d->seq);
	e->last_seq = d->seq;
	for (int c = 0; c < N_COUNTERS; c++)
		e->base[c] = s->count[c] - dx_window_of(d, s, r, c, now);
	e->base[def->primary] = s->count[def->primary] - value;
	if (!s->is_user)
		s->user->open_in_sessions[r]++;
	mark_collected(s, r, now);
	dx_emit(d, s, r, now);
}

/* Destinations an alert shows: a new one is worth an update only while the list grows,
 * so a staging run over thousands of files updates at most ALERT_MAX_ITEMS times. */
static unsigned shown(const struct window_top *t)
{
	return t->n < ALERT_MAX_ITEMS ? t->n : ALERT_MAX_ITEMS;
}

/* An open episode took one more slice: push its end and re-dx_emit if it grew enough. */
static void grow_episode(struct detect *d, struct subject *s, enum alert_rule r,
			 const struct activity *act)
{
	const struct rule_def *def = &dx_rules[r];
	struct episode *e = &s->ep[r];
	uint64_t fig = s->count[def->primary] - e->base[def->primary];
	unsigned dests = def->dests ? shown(def->dests(s)) : 0;
	uint64_t step = e->emitted / 10 ? e->emitted / 10 : 1;

	if (act->ts_ns > e->end_ns)
		e->end_ns = act->ts_ns;
	e->last_seq = d->seq;
	mark_collected(s, r, act->ts_ns);
	if (fig >= e->emitted + step || dests > e->emitted_dests) {
		e->revision++;
		dx_emit(d, s, r, act->ts_ns);
	}
}

/* Rule r against subject s after a slice; extend says the slice feeds r's counter. */
void dx_judge(struct detect *d, struct subject *s, enum alert_rule r,
		  const struct activity *act, bool extend)
{
	const struct rule_def *def = &dx_rules[r];
	uint64_t now = act->ts_ns, value, since, th;
	struct episode *e;

	if (!s || (def->users_only && !s->is_user))
		return;
	e = &s->ep[r];
	if (e->open) {
		if (extend)
			grow_episode(d, s, r, act);
		return;
	}
	if (s->is_user && s->open_in_sessions[r])
		return;
	th = def->threshold(d, s);
	if (th == UINT64_MAX || !def->gate(d, s, now))
		return;
	value = def->windowed(d, s, now);
	since = s->count[def->primary] - e->floor;
	if (since < value)
		value = since;
	if (value > th)
		open_episode(d, s, r, act, value, th);
}

void dx_judge_class(struct detect *d, struct subject *s, struct subject *u,
			enum activity_class cls, const struct activity *act)
{
	for (int r = RULE_BULK_READ; r < N_RULES; r++) {
		if (dx_rules[r].feeds != cls)
			continue;
		if (s)
			dx_judge(d, s, r, act, true);
		dx_judge(d, u, r, act, true);
	}
}

