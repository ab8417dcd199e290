// SPDX-License-Identifier: GPL-2.0-only
/*
 * Detection engine. Two kinds of subject: a login session, and a user (loginuid) across
 * all of their sessions. Every slice updates both: monotonic counters, sliding windows,
 * a distinct-object set and top-N lists. Rules are a table: each names the counter it
 * judges, the window that bounds it, its threshold and its gate (exfiltration and
 * staging need a collection first, slow drip needs the absence of one). A user-level
 * episode of a rule stays muted while one of the user's sessions holds that rule open,
 * so the per-user view only speaks for what no single session shows.
 *
 * Each (subject, rule) has at most one open episode. Its figures count from bases taken
 * when it opened (counter minus what the window held), so they keep growing while the
 * episode lasts; a re-emission needs a tenth more or a new destination. Quiet for
 * detect.window closes it, and the next episode of that rule counts only what came after
 * the close, so a still-full long window cannot reopen a finished episode.
 *
 * Slices outside any login session (services, cron, a root backup) are counted and
 * otherwise dropped: they belong to no person. Time comes only from the slices and
 * detect_tick(), never from a clock.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "detect.h"
#include "detect_baseline.h"
#include "detect_lineage.h"
#include "detect_window.h"
#include "common/log.h"

#define N_RULES (RULE_BASELINE + 1)
#define MAX_SUBJECTS 2048         /* sessions plus users (~30 KiB each); beyond, users only */
#define RECENT_SESSIONS 4
#define SAVE_EVERY_NS (300ULL * 1000000000ULL)
#define NS_PER_S 1000000000ULL

enum counter { CNT_SOURCE, CNT_OBJECTS, CNT_EGRESS, CNT_STAGED, N_COUNTERS };
enum act_class { CLASS_SOURCE, CLASS_EGRESS, CLASS_STAGING };

struct episode {
	uint64_t id;
	uint32_t revision;
	bool open;
	uint64_t start_ns, end_ns;
	uint64_t base[N_COUNTERS];   /* counter values the episode's figures count from */
	uint64_t floor;              /* primary counter at the last close */
	uint64_t emitted;            /* primary figure at the last emission */
	unsigned emitted_dests;
	uint64_t threshold;
	uint64_t first_seq, last_seq;
};

/* The latest collection episode of a subject: what an exfiltration or staging links to. */
struct collection {
	uint64_t alert_id;
	uint32_t session_id;
	uint64_t first_seq;
	uint64_t source_bytes, objects;
	struct alert_item sources[ALERT_MAX_ITEMS];
	unsigned n_sources;
};

struct recent_session {
	uint32_t id;
	uint64_t last_ns;
};

struct subject {
	uint64_t key;                /* is_user << 32 | id */
	bool is_user;
	uint32_t id, loginuid;
	struct subject *user;        /* sessions: their user */
	struct subject *next;        /* every subject, for ticks */
	unsigned n_sessions;         /* users: session subjects pointing here */
	uint64_t last_ns, last_src_ns, last_egress_ns, last_staged_ns;
	uint64_t count[N_COUNTERS];  /* monotonic since the subject was created */
	struct slide_sum src_win;    /* detect.window */
	struct slide_sum egress_win; /* detect.lookback; egress after a collection only */
	struct slide_sum staged_win; /* detect.lookback */
	struct slide_sum drip_win;   /* users: drip window */
	struct slide_sum drip_objs;  /* users: objects entering the window, over the drip window */
	struct distinct_set objects; /* detect.window */
	bool saturation_counted;
	uint64_t collected_ns;       /* last slice of a collection episode; 0 none */
	uint64_t bulk_ns;            /* users: last slice of a bulk episode of theirs */
	struct collection coll;
	struct top_list sources, processes, egress_dests, staged;
	struct episode ep[N_RULES];
	unsigned open_in_sessions[N_RULES];             /* users */
	struct recent_session recent[RECENT_SESSIONS];  /* users */
	struct baseline *baseline;                      /* users; NULL when the set is full */
	uint32_t today;                                 /* users: day of today_first_* */
	uint64_t today_first_ns, today_first_seq;
	uint64_t today_objects;                         /* users: count[CNT_OBJECTS] at day start */
};

struct detect {
	struct detect_config cfg;
	struct detect_ops ops;
	char *state_path;
	char config_sha256[65];
	struct subject **tab;        /* open addressing by key */
	uint32_t tab_cap;
	struct subject *all;
	struct subject *hot_session, *hot_user;
	struct baseline_set *baselines;
	uint64_t id_base, n_ids;
	uint64_t seq;                /* evidence seq of the slice being fed */
	uint64_t last_save_ns;
	struct lineage *lineage;     /* derived_exfiltration (detect_lineage.c) */
	struct detect_stats st;
};

struct rule_def {
	enum act_class feeds;        /* slices of this class extend an open episode */
	enum counter primary;
	bool users_only;
	bool collection;             /* counts as a collection for exfiltration and staging */
	bool bulk;                   /* mutes slow drip */
	uint64_t (*windowed)(struct detect *d, struct subject *s, uint64_t now);
	uint64_t (*threshold)(const struct detect *d, const struct subject *s);
	bool (*gate)(const struct detect *d, const struct subject *s, uint64_t now);
	bool (*first)(const struct subject *s, uint64_t *ns, uint64_t *seq);
	struct top_list *(*dests)(struct subject *s);
};

static struct subject *user_of(struct subject *s)
{
	return s->is_user ? s : s->user;
}

static bool within(uint64_t when, uint64_t now, uint64_t span)
{
	return when && now >= when ? now - when <= span : when && when > now;
}

static uint64_t win_source(struct detect *d, struct subject *s, uint64_t now)
{
	return slide_total(&s->src_win, now);
}

static uint64_t win_objects(struct detect *d, struct subject *s, uint64_t now)
{
	return distinct_count(&s->objects, now);
}

static uint64_t win_egress(struct detect *d, struct subject *s, uint64_t now)
{
	return slide_total(&s->egress_win, now);
}

static uint64_t win_staged(struct detect *d, struct subject *s, uint64_t now)
{
	return slide_total(&s->staged_win, now);
}

static uint64_t win_drip(struct detect *d, struct subject *s, uint64_t now)
{
	return slide_total(&s->drip_win, now);
}

static uint64_t win_today(struct detect *d, struct subject *s, uint64_t now)
{
	if (!s->baseline)
		return 0;
	baseline_roll(s->baseline, now);
	return s->baseline->today_bytes;
}

static uint64_t th_bulk_read(const struct detect *d, const struct subject *s)
{
	return d->cfg.bulk_read_bytes;
}

static uint64_t th_bulk_objects(const struct detect *d, const struct subject *s)
{
	return d->cfg.bulk_objects;
}

static uint64_t th_exfil(const struct detect *d, const struct subject *s)
{
	return d->cfg.exfil_bytes;
}

static uint64_t th_staging(const struct detect *d, const struct subject *s)
{
	return d->cfg.staging_bytes;
}

/* A drip of 0 bytes or over 0 ns is switched off. */
static uint64_t th_drip(const struct detect *d, const struct subject *s)
{
	return d->cfg.drip_bytes && d->cfg.drip_window_ns ? d->cfg.drip_bytes : UINT64_MAX;
}

/* Unarmed (UINT64_MAX) until the user has BASELINE_MIN_DAYS learned days. */
static uint64_t th_baseline(const struct detect *d, const struct subject *s)
{
	double typical = s->baseline ? baseline_typical(s->baseline) : -1, th;

	if (typical < 0)
		return UINT64_MAX;
	th = d->cfg.baseline_factor * typical;
	if (th < (double)d->cfg.baseline_min_bytes)
		return d->cfg.baseline_min_bytes;
	return th >= 1.8e19 ? UINT64_MAX : (uint64_t)th;
}

static bool gate_none(const struct detect *d, const struct subject *s, uint64_t now)
{
	return true;
}

static bool collected(const struct detect *d, const struct subject *s, uint64_t now)
{
	return within(s->collected_ns, now, d->cfg.lookback_ns) ||
	       (!s->is_user && within(s->user->collected_ns, now, d->cfg.lookback_ns));
}

static bool gate_no_bulk(const struct detect *d, const struct subject *s, uint64_t now)
{
	return !within(s->bulk_ns, now, d->cfg.drip_window_ns);
}

static bool first_source(const struct subject *s, uint64_t *ns, uint64_t *seq)
{
	return slide_first(&s->src_win, ns, seq);
}

static bool first_egress(const struct subject *s, uint64_t *ns, uint64_t *seq)
{
	return slide_first(&s->egress_win, ns, seq);
}

static bool first_staged(const struct subject *s, uint64_t *ns, uint64_t *seq)
{
	return slide_first(&s->staged_win, ns, seq);
}

static bool first_drip(const struct subject *s, uint64_t *ns, uint64_t *seq)
{
	return slide_first(&s->drip_win, ns, seq);
}

static bool first_today(const struct subject *s, uint64_t *ns, uint64_t *seq)
{
	*ns = s->today_first_ns;
	*seq = s->today_first_seq;
	return s->today_first_ns != 0;
}

static struct top_list *dests_egress(struct subject *s)
{
	return &s->egress_dests;
}

static struct top_list *dests_staged(struct subject *s)
{
	return &s->staged;
}

#define RULE(feeds_, primary_, ...) { .feeds = feeds_, .primary = primary_, __VA_ARGS__ }

static const struct rule_def rules[N_RULES] = {
	[RULE_BULK_READ] = RULE(CLASS_SOURCE, CNT_SOURCE, .collection = true, .bulk = true,
				.windowed = win_source, .threshold = th_bulk_read,
				.gate = gate_none, .first = first_source),
	[RULE_BULK_OBJECTS] = RULE(CLASS_SOURCE, CNT_OBJECTS, .collection = true, .bulk = true,
				   .windowed = win_objects, .threshold = th_bulk_objects,
				   .gate = gate_none, .first = first_source),
	[RULE_EXFIL] = RULE(CLASS_EGRESS, CNT_EGRESS, .windowed = win_egress,
			    .threshold = th_exfil, .gate = collected, .first = first_egress,
			    .dests = dests_egress),
	[RULE_STAGING] = RULE(CLASS_STAGING, CNT_STAGED, .windowed = win_staged,
			      .threshold = th_staging, .gate = collected, .first = first_staged,
			      .dests = dests_staged),
	[RULE_DRIP] = RULE(CLASS_SOURCE, CNT_SOURCE, .users_only = true, .collection = true,
			   .windowed = win_drip, .threshold = th_drip, .gate = gate_no_bulk,
			   .first = first_drip),
	[RULE_BASELINE] = RULE(CLASS_SOURCE, CNT_SOURCE, .users_only = true, .collection = true,
			       .windowed = win_today, .threshold = th_baseline, .gate = gate_none,
			       .first = first_today),
};

/*
 * What counter c held within rule r's span when an episode opens: the long-span rules
 * count sources and objects over their own span, the others over detect.window.
 */
static uint64_t window_of(struct detect *d, struct subject *s, enum alert_rule r,
			  enum counter c, uint64_t now)
{
	static uint64_t (*const win[N_COUNTERS])(struct detect *, struct subject *, uint64_t) = {
		[CNT_SOURCE] = win_source, [CNT_OBJECTS] = win_objects,
		[CNT_EGRESS] = win_egress, [CNT_STAGED] = win_staged,
	};

	if (r == RULE_DRIP && c == CNT_SOURCE)
		return win_drip(d, s, now);
	if (r == RULE_DRIP && c == CNT_OBJECTS)
		return slide_total(&s->drip_objs, now);
	if (r == RULE_BASELINE && c == CNT_SOURCE)
		return win_today(d, s, now);
	if (r == RULE_BASELINE && c == CNT_OBJECTS)
		return s->count[CNT_OBJECTS] - s->today_objects;
	return win[c](d, s, now);
}

static uint64_t act_start(const struct activity *act)
{
	return act->first_ns && act->first_ns <= act->ts_ns ? act->first_ns : act->ts_ns;
}

static uint64_t min_seq(uint64_t a, uint64_t b)
{
	if (!a)
		return b;
	return b && b < a ? b : a;
}

static uint64_t new_id(struct detect *d, uint64_t now)
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

static void copy_items(const struct top_list *t, struct alert_item *out, unsigned *n)
{
	struct top_entry tmp[ALERT_MAX_ITEMS];

	*n = top_sorted(t, tmp, ALERT_MAX_ITEMS);
	for (unsigned i = 0; i < *n; i++) {
		memcpy(out[i].name, tmp[i].name, sizeof(out[i].name));
		out[i].bytes = tmp[i].bytes;
		out[i].pid = tmp[i].pid;
	}
}

static void fill_who(struct detect *d, struct subject *s, const struct episode *e,
		     struct alert *a)
{
	struct detect_subject who = { 0 };
	struct subject *u = user_of(s);
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

static const struct collection *linked(const struct detect *d, struct subject *s, uint64_t now)
{
	if (within(s->collected_ns, now, d->cfg.lookback_ns))
		return &s->coll;
	return &user_of(s)->coll;
}

static void fill_figures(struct detect *d, struct subject *s, enum alert_rule r,
			 const struct episode *e, uint64_t now, struct alert *a)
{
	const struct rule_def *def = &rules[r];

	a->threshold = e->threshold;
	a->baseline_bytes = s->baseline ? baseline_typical(s->baseline) : 0;
	if (a->baseline_bytes < 0)
		a->baseline_bytes = 0;
	if (def->collection) {
		a->source_bytes = s->count[CNT_SOURCE] - e->base[CNT_SOURCE];
		a->source_objects = s->count[CNT_OBJECTS] - e->base[CNT_OBJECTS];
		copy_items(&s->sources, a->sources, &a->n_sources);
	} else {
		const struct collection *c = linked(d, s, now);

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

static void emit(struct detect *d, struct subject *s, enum alert_rule r, uint64_t now)
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
	fill_who(d, s, e, &a);
	fill_figures(d, s, r, e, now, &a);
	snprintf(a.config_sha256, sizeof(a.config_sha256), "%s", d->config_sha256);
	e->emitted = s->count[rules[r].primary] - e->base[rules[r].primary];
	e->emitted_dests = a.n_destinations;
	if (rules[r].collection)
		note_collection(s, &a);
	if (a.revision == 1)
		d->st.alerts++;
	else
		d->st.updates++;
	d->ops.emit(d->ops.ctx, &a);
}

static void mark_collected(struct subject *s, enum alert_rule r, uint64_t now)
{
	struct subject *u = user_of(s);

	if (!rules[r].collection)
		return;
	if (now > s->collected_ns)
		s->collected_ns = now;
	if (now > u->collected_ns)
		u->collected_ns = now;
	if (rules[r].bulk && now > u->bulk_ns)
		u->bulk_ns = now;
}

static void close_episode(struct subject *s, enum alert_rule r)
{
	enum counter c = rules[r].primary;

	s->ep[r].open = false;
	s->ep[r].floor = s->count[c];
	if (s->is_user)
		return;
	/* The session's episode spoke for the user's figure too: the user's view starts over. */
	s->user->open_in_sessions[r]--;
	s->user->ep[r].floor = s->user->count[c];
}

static void close_quiet(struct detect *d, struct subject *s, uint64_t now)
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
	const struct rule_def *def = &rules[r];
	struct episode *e = &s->ep[r];
	uint64_t now = act->ts_ns, first_ns = 0, first_seq = 0;

	e->open = true;
	e->id = new_id(d, now);
	e->revision = 1;
	e->threshold = threshold;
	if (!def->first(s, &first_ns, &first_seq) || first_ns > act_start(act))
		first_ns = act_start(act);
	e->start_ns = first_ns;
	e->end_ns = now;
	e->first_seq = min_seq(first_seq, d->seq);
	e->last_seq = d->seq;
	for (int c = 0; c < N_COUNTERS; c++)
		e->base[c] = s->count[c] - window_of(d, s, r, c, now);
	e->base[def->primary] = s->count[def->primary] - value;
	if (!s->is_user)
		s->user->open_in_sessions[r]++;
	mark_collected(s, r, now);
	emit(d, s, r, now);
}

/* Destinations an alert shows: a new one is worth an update only while the list grows,
 * so a staging run over thousands of files updates at most ALERT_MAX_ITEMS times. */
static unsigned shown(const struct top_list *t)
{
	return t->n < ALERT_MAX_ITEMS ? t->n : ALERT_MAX_ITEMS;
}

/* An open episode took one more slice: push its end and re-emit if it grew enough. */
static void grow_episode(struct detect *d, struct subject *s, enum alert_rule r,
			 const struct activity *act)
{
	const struct rule_def *def = &rules[r];
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
		emit(d, s, r, act->ts_ns);
	}
}

/* Rule r against subject s after a slice; extend says the slice feeds r's counter. */
static void judge(struct detect *d, struct subject *s, enum alert_rule r,
		  const struct activity *act, bool extend)
{
	const struct rule_def *def = &rules[r];
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

static void judge_class(struct detect *d, struct subject *s, struct subject *u,
			enum act_class cls, const struct activity *act)
{
	for (int r = RULE_BULK_READ; r < N_RULES; r++) {
		if (rules[r].feeds != cls)
			continue;
		if (s)
			judge(d, s, r, act, true);
		judge(d, u, r, act, true);
	}
}

static uint32_t slot_of(const struct detect *d, uint64_t key)
{
	return (uint32_t)((key * 0x9e3779b97f4a7c15ULL) >> 32) & (d->tab_cap - 1);
}

static struct subject **tab_slot(struct detect *d, uint64_t key)
{
	uint32_t i = slot_of(d, key);

	while (d->tab[i] && d->tab[i]->key != key)
		i = (i + 1) & (d->tab_cap - 1);
	return &d->tab[i];
}

static int tab_rebuild(struct detect *d, uint32_t cap)
{
	struct subject **tab = calloc(cap, sizeof(*tab));

	if (!tab)
		return -ENOMEM;
	free(d->tab);
	d->tab = tab;
	d->tab_cap = cap;
	for (struct subject *s = d->all; s; s = s->next)
		*tab_slot(d, s->key) = s;
	d->hot_session = d->hot_user = NULL;
	return 0;
}

static void subject_free(struct subject *s)
{
	distinct_free(&s->objects);
	free(s);
}

static int subject_init(struct detect *d, struct subject *s, bool is_user, uint32_t id,
			uint32_t loginuid)
{
	s->key = (uint64_t)is_user << 32 | id;
	s->is_user = is_user;
	s->id = id;
	s->loginuid = loginuid;
	slide_init(&s->src_win, d->cfg.window_ns);
	slide_init(&s->egress_win, d->cfg.lookback_ns);
	slide_init(&s->staged_win, d->cfg.lookback_ns);
	slide_init(&s->drip_win, d->cfg.drip_window_ns);
	slide_init(&s->drip_objs, d->cfg.drip_window_ns);
	if (is_user)
		s->baseline = baseline_get(d->baselines, loginuid);
	return distinct_init(&s->objects, d->cfg.window_ns, d->cfg.bulk_objects);
}

static struct subject *subject_get(struct detect *d, bool is_user, uint32_t id,
				   uint32_t loginuid)
{
	uint64_t key = (uint64_t)is_user << 32 | id;
	struct subject **slot = tab_slot(d, key), *s;

	if (*slot)
		return *slot;
	if (d->st.sessions + d->st.users >= MAX_SUBJECTS)
		return NULL;
	if ((d->st.sessions + d->st.users + 1) * 2 > d->tab_cap) {
		if (tab_rebuild(d, d->tab_cap * 2))
			return NULL;
		slot = tab_slot(d, key);
	}
	s = calloc(1, sizeof(*s));
	if (!s)
		return NULL;
	if (subject_init(d, s, is_user, id, loginuid)) {
		subject_free(s);
		return NULL;
	}
	s->next = d->all;
	d->all = s;
	*slot = s;
	if (is_user)
		d->st.users++;
	else
		d->st.sessions++;
	return s;
}

/* The session and user subjects of a slice; consecutive slices mostly share them. */
static struct subject *find_user(struct detect *d, uint32_t loginuid)
{
	if (!d->hot_user || d->hot_user->id != loginuid)
		d->hot_user = subject_get(d, true, loginuid, loginuid);
	return d->hot_user;
}

static struct subject *find_session(struct detect *d, uint32_t sid, struct subject *u)
{
	struct subject *s = d->hot_session;

	if (s && s->id == sid && s->user == u)
		return s;
	s = subject_get(d, false, sid, u->loginuid);
	if (s && !s->user) {
		s->user = u;
		u->n_sessions++;
	}
	/* A session id reused by another login (after a reboot of the id space) is a new
	 * person's: it is not linked to the old user's subject. */
	if (s && s->user != u)
		s = NULL;
	d->hot_session = s;
	return s;
}

static void note_session(struct subject *u, uint32_t sid, uint64_t now)
{
	unsigned oldest = 0;

	for (unsigned i = 0; i < RECENT_SESSIONS; i++) {
		if (u->recent[i].id == sid && u->recent[i].last_ns) {
			if (now > u->recent[i].last_ns)
				u->recent[i].last_ns = now;
			oldest = i;
			goto front;
		}
		if (u->recent[i].last_ns < u->recent[oldest].last_ns)
			oldest = i;
	}
	u->recent[oldest].id = sid;
	u->recent[oldest].last_ns = now;
front:
	/* recent[0] is the latest session, which fill_who() asks about. */
	if (oldest && u->recent[oldest].last_ns >= u->recent[0].last_ns) {
		struct recent_session t = u->recent[0];

		u->recent[0] = u->recent[oldest];
		u->recent[oldest] = t;
	}
}

static bool any_open(const struct subject *s, const enum alert_rule *rs, unsigned n)
{
	for (unsigned i = 0; i < n; i++)
		if (s->ep[rs[i]].open)
			return true;
	return false;
}

static bool stale(uint64_t last, uint64_t now, uint64_t span)
{
	return !last || (now > last && now - last > span);
}

/* Top lists describe the current stretch of activity: each starts over once the windows
 * it describes are empty and no episode shows it. */
static void reset_lists(struct detect *d, struct subject *s, uint64_t now)
{
	static const enum alert_rule coll[] = { RULE_BULK_READ, RULE_BULK_OBJECTS, RULE_DRIP,
						RULE_BASELINE };
	static const enum alert_rule all[] = { RULE_BULK_READ, RULE_BULK_OBJECTS, RULE_EXFIL,
					       RULE_STAGING, RULE_DRIP, RULE_BASELINE };
	uint64_t src_span = d->cfg.window_ns, long_span = d->cfg.lookback_ns;

	if (s->is_user && d->cfg.drip_window_ns > src_span)
		src_span = d->cfg.drip_window_ns;
	if (src_span > long_span)
		long_span = src_span;
	if (stale(s->last_src_ns, now, src_span) && !any_open(s, coll, 4))
		top_reset(&s->sources);
	if (stale(s->last_egress_ns, now, d->cfg.lookback_ns) && !s->ep[RULE_EXFIL].open)
		top_reset(&s->egress_dests);
	if (stale(s->last_staged_ns, now, d->cfg.lookback_ns) && !s->ep[RULE_STAGING].open)
		top_reset(&s->staged);
	if (stale(s->last_ns, now, long_span) && !any_open(s, all, 6))
		top_reset(&s->processes);
}

static void touch(struct detect *d, struct subject *s, const struct activity *act)
{
	if (!s)
		return;
	close_quiet(d, s, act->ts_ns);
	reset_lists(d, s, act->ts_ns);
	if (act->ts_ns > s->last_ns)
		s->last_ns = act->ts_ns;
	top_add(&s->processes, act->pid, act->comm ? act->comm : "?", act->pid, act->bytes);
}

static void count_source(struct detect *d, struct subject *s, const struct activity *act,
			 uint64_t key)
{
	int added;

	if (!s)
		return;
	s->count[CNT_SOURCE] += act->bytes;
	if (act->ts_ns > s->last_src_ns)
		s->last_src_ns = act->ts_ns;
	slide_add(&s->src_win, act->ts_ns, act->bytes, d->seq);
	if (s->is_user)
		slide_add(&s->drip_win, act->ts_ns, act->bytes, d->seq);
	added = distinct_add(&s->objects, key, act->ts_ns);
	if (added > 0) {
		s->count[CNT_OBJECTS]++;
		if (s->is_user)
			slide_add(&s->drip_objs, act->ts_ns, 1, d->seq);
	}
	else if (added == -ENOSPC && !s->saturation_counted) {
		s->saturation_counted = true;
		d->st.saturated++;
	}
	top_add(&s->sources, key, act->object, 0, act->bytes);
}

static void count_today(struct detect *d, struct subject *u, const struct activity *act)
{
	if (!u->baseline)
		return;
	baseline_add(u->baseline, act->ts_ns, act->bytes);
	if (u->today != u->baseline->day || !u->today_first_ns) {
		u->today = u->baseline->day;
		u->today_first_ns = act_start(act);
		u->today_first_seq = d->seq;
		u->today_objects = u->count[CNT_OBJECTS];
	}
}

static void on_source(struct detect *d, struct subject *s, struct subject *u,
		      const struct activity *act)
{
	uint64_t key = act->object_id ? act->object_id : top_key_of(act->object, 0);

	count_today(d, u, act);
	count_source(d, s, act, key);
	count_source(d, u, act, key);
	judge_class(d, s, u, CLASS_SOURCE, act);
	/* A collection just found makes earlier staged bytes (same drain) count. */
	if (s && s->count[CNT_STAGED])
		judge(d, s, RULE_STAGING, act, false);
	if (u->count[CNT_STAGED])
		judge(d, u, RULE_STAGING, act, false);
}

static void dest_name(const struct activity *act, char *buf, size_t len)
{
	if (act->dst_ip)
		snprintf(buf, len, strchr(act->dst_ip, ':') ? "[%s]:%u" : "%s:%u", act->dst_ip,
			 act->dst_port);
	else
		snprintf(buf, len, "%s", act->mount ? act->mount : act->object ? act->object : "?");
}

static void count_egress(struct detect *d, struct subject *s, const struct activity *act,
			 uint64_t key, const char *name)
{
	if (!s)
		return;
	s->count[CNT_EGRESS] += act->bytes;
	if (act->ts_ns > s->last_egress_ns)
		s->last_egress_ns = act->ts_ns;
	slide_add(&s->egress_win, act->ts_ns, act->bytes, d->seq);
	top_add(&s->egress_dests, key, name, 0, act->bytes);
}

/* Egress counts only after a collection by this session or this user: before one, it is
 * a developer's push or a user's own upload. */
static void on_egress(struct detect *d, struct subject *s, struct subject *u,
		      const struct activity *act)
{
	char name[TOP_NAME];
	uint64_t key;

	if (!collected(d, s ? s : u, act->ts_ns))
		return;
	dest_name(act, name, sizeof(name));
	key = top_key_of(name, act->kind);
	count_egress(d, s, act, key, name);
	count_egress(d, u, act, key, name);
	judge_class(d, s, u, CLASS_EGRESS, act);
}

static void count_staged(struct detect *d, struct subject *s, const struct activity *act,
			 uint64_t key)
{
	if (!s)
		return;
	s->count[CNT_STAGED] += act->bytes;
	if (act->ts_ns > s->last_staged_ns)
		s->last_staged_ns = act->ts_ns;
	slide_add(&s->staged_win, act->ts_ns, act->bytes, d->seq);
	top_add(&s->staged, key, act->object, 0, act->bytes);
}

static void on_staging(struct detect *d, struct subject *s, struct subject *u,
		       const struct activity *act)
{
	uint64_t key = act->object_id ? act->object_id : top_key_of(act->object, 0);

	count_staged(d, s, act, key);
	count_staged(d, u, act, key);
	judge_class(d, s, u, CLASS_STAGING, act);
}

/* Collection (sources), unapproved egress, and staging by a collecting process. */
static void (*const kinds[])(struct detect *, struct subject *, struct subject *,
			     const struct activity *) = {
	[ACT_SOURCE_FILE] = on_source,
	[ACT_SOURCE_NET] = on_source,
	[ACT_MMAP_SOURCE] = on_source,
	[ACT_EGRESS_NET] = on_egress,
	[ACT_EGRESS_MEDIA] = on_egress,
	[ACT_EGRESS_SYNC] = on_egress,
	[ACT_STAGING] = on_staging,
};

const struct detect_config *detect_cfg(const struct detect *d)
{
	return &d->cfg;
}

uint64_t detect_alert_id(struct detect *d, uint64_t now_ns)
{
	return new_id(d, now_ns);
}

uint64_t detect_evidence_seq(const struct detect *d)
{
	return d->seq;
}

void detect_who(struct detect *d, uint32_t session_id, uint32_t loginuid, struct alert *a)
{
	struct detect_subject who = { 0 };

	if (d->ops.subject)
		d->ops.subject(d->ops.ctx, session_id, loginuid, &who);
	snprintf(a->user, sizeof(a->user), "%s", who.user ? who.user : "");
	snprintf(a->tty, sizeof(a->tty), "%s", who.tty ? who.tty : "");
	snprintf(a->remote_host, sizeof(a->remote_host), "%s",
		 who.remote_host ? who.remote_host : "");
}

void detect_publish(struct detect *d, struct alert *a)
{
	snprintf(a->config_sha256, sizeof(a->config_sha256), "%s", d->config_sha256);
	if (a->revision == 1)
		d->st.alerts++;
	else
		d->st.updates++;
	d->ops.emit(d->ops.ctx, a);
}

void detect_lineage(struct detect *d, const struct event *ev)
{
	lineage_step(d->lineage, ev);
}

/* Lineage sees every source slice (services included: a service's reads can reach a
 * person through a file) and judges derived egress, which the volume rules never see. */
static bool lineage_feed(struct detect *d, const struct activity *act)
{
	if (act->kind == ACT_DERIVED_EGRESS) {
		lineage_egress(d->lineage, act);
		return true;
	}
	if (act->kind == ACT_SOURCE_FILE || act->kind == ACT_SOURCE_NET ||
	    act->kind == ACT_MMAP_SOURCE)
		lineage_source(d->lineage, act);
	return false;
}

void detect_feed(struct detect *d, const struct activity *act)
{
	struct subject *s, *u;

	if (act->bytes && lineage_feed(d, act))
		return;

	if ((unsigned)act->kind >= sizeof(kinds) / sizeof(kinds[0]) ||
	    !kinds[act->kind] || !act->bytes)
		return;
	d->st.activities++;
	if (act->session_id == SESSION_NONE || act->loginuid == LOGINUID_NONE) {
		d->st.unattributed++;
		d->st.unattributed_bytes += act->bytes;
		return;
	}
	u = find_user(d, act->loginuid);
	if (!u) {
		d->st.untracked++;
		return;
	}
	/* Without a session subject (table full) the user's rules still judge the slice. */
	s = find_session(d, act->session_id, u);
	note_session(u, act->session_id, act->ts_ns);
	touch(d, s, act);
	touch(d, u, act);
	kinds[act->kind](d, s, u, act);
}

struct detect *detect_new(const struct detect_config *cfg, const struct detect_ops *ops,
			  const char *state_path)
{
	struct detect *d;
	int err;

	if (!cfg || !ops || !ops->emit) {
		errno = EINVAL;
		return NULL;
	}
	d = calloc(1, sizeof(*d));
	if (!d)
		return NULL;
	d->cfg = *cfg;
	d->ops = *ops;
	d->baselines = baseline_set_new();
	d->lineage = lineage_new(d);
	if (!d->baselines || !d->lineage || tab_rebuild(d, 64))
		goto out_free;
	if (state_path) {
		d->state_path = strdup(state_path);
		if (!d->state_path)
			goto out_free;
		err = baseline_load(d->baselines, state_path);
		if (err)
			log_warn("detect: baselines %s unreadable (%s); learning again", state_path,
				 strerror(-err));
	}
	return d;
out_free:
	detect_free(d);
	errno = ENOMEM;
	return NULL;
}

void detect_reconfigure(struct detect *d, const struct detect_config *cfg)
{
	d->cfg = *cfg;
	lineage_reconfigure(d->lineage);
	/* Windows keep what they hold; only the bucket width changes. */
	for (struct subject *s = d->all; s; s = s->next) {
		slide_resize(&s->src_win, cfg->window_ns);
		slide_resize(&s->egress_win, cfg->lookback_ns);
		slide_resize(&s->staged_win, cfg->lookback_ns);
		slide_resize(&s->drip_win, cfg->drip_window_ns);
		slide_resize(&s->drip_objs, cfg->drip_window_ns);
		distinct_set_limit(&s->objects, cfg->bulk_objects);
		if (distinct_resize(&s->objects, cfg->window_ns))
			log_warn("detect: no memory to resize a distinct-object window");
	}
}

void detect_set_config_hash(struct detect *d, const char *sha256_hex)
{
	snprintf(d->config_sha256, sizeof(d->config_sha256), "%s", sha256_hex ? sha256_hex : "");
}

void detect_set_evidence_seq(struct detect *d, uint64_t seq)
{
	d->seq = seq;
}

static bool expired(const struct detect *d, const struct subject *s, uint64_t now)
{
	static const enum alert_rule all[] = { RULE_BULK_READ, RULE_BULK_OBJECTS, RULE_EXFIL,
					       RULE_STAGING, RULE_DRIP, RULE_BASELINE };
	uint64_t span = d->cfg.lookback_ns > d->cfg.window_ns ? d->cfg.lookback_ns
							      : d->cfg.window_ns;

	if (s->is_user && d->cfg.drip_window_ns > span)
		span = d->cfg.drip_window_ns;
	if (s->is_user && s->n_sessions)
		return false;
	/* Past the longest window nothing of theirs is left to count or to link. */
	return stale(s->last_ns, now, span) && !any_open(s, all, 6);
}

/* Frees expired subjects of one kind (sessions first: they hold their users). */
static unsigned expire(struct detect *d, bool users, uint64_t now)
{
	struct subject **pp = &d->all;
	unsigned n = 0;

	while (*pp) {
		struct subject *s = *pp;

		if (s->is_user != users || !expired(d, s, now)) {
			pp = &s->next;
			continue;
		}
		*pp = s->next;
		if (users)
			d->st.users--;
		else {
			s->user->n_sessions--;
			d->st.sessions--;
		}
		subject_free(s);
		n++;
	}
	return n;
}

void detect_tick(struct detect *d, uint64_t now_ns)
{
	unsigned gone;

	if (!d->id_base)
		d->id_base = (now_ns / NS_PER_S) << 20;
	for (struct subject *s = d->all; s; s = s->next)
		close_quiet(d, s, now_ns);
	lineage_tick(d->lineage, now_ns);
	baseline_roll_all(d->baselines, now_ns);
	gone = expire(d, false, now_ns);
	gone += expire(d, true, now_ns);
	if (gone && tab_rebuild(d, d->tab_cap))
		log_warn("detect: no memory to rebuild the subject table");
	if (!d->last_save_ns)
		d->last_save_ns = now_ns;
	if (now_ns >= d->last_save_ns + SAVE_EVERY_NS) {
		int err = detect_save(d);

		d->last_save_ns = now_ns;
		if (err)
			log_warn("detect: save baselines %s: %s", d->state_path, strerror(-err));
	}
}

int detect_save(struct detect *d)
{
	if (!d->state_path)
		return 0;
	return baseline_save(d->baselines, d->state_path);
}

void detect_get_stats(const struct detect *d, struct detect_stats *st)
{
	*st = d->st;
	st->baselines = baseline_count(d->baselines);
}

void detect_free(struct detect *d)
{
	struct subject *next;
	int err;

	if (!d)
		return;
	if (d->baselines && (err = detect_save(d)))
		log_warn("detect: save baselines %s: %s", d->state_path, strerror(-err));
	for (struct subject *s = d->all; s; s = next) {
		next = s->next;
		subject_free(s);
	}
	free(d->tab);
	baseline_set_free(d->baselines);
	lineage_free(d->lineage);
	free(d->state_path);
	free(d);
}
