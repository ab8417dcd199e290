// SPDX-License-Identifier: GPL-2.0-only
/*
 * The subject table (sessions and users, open addressing keyed by id), session lists
 * of users, and expiry of subjects nothing refers to any more.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "detect_int.h"
#include "common/log.h"

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

int dx_tab_rebuild(struct detect *d, uint32_t cap)
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

void dx_subject_free(struct subject *s)
{
	window_distinct_free(&s->objects);
	free(s);
}

static int subject_init(struct detect *d, struct subject *s, bool is_user, uint32_t id,
			uint32_t loginuid)
{
	s->key = (uint64_t)is_user << 32 | id;
	s->is_user = is_user;
	s->id = id;
	s->loginuid = loginuid;
	window_sum_init(&s->src_win, d->cfg.window_ns);
	window_sum_init(&s->egress_win, d->cfg.lookback_ns);
	window_sum_init(&s->staged_win, d->cfg.lookback_ns);
	window_sum_init(&s->drip_win, d->cfg.drip_window_ns);
	window_sum_init(&s->drip_objs, d->cfg.drip_window_ns);
	if (is_user)
		s->baseline = baseline_get(d->baselines, loginuid);
	return window_distinct_init(&s->objects, d->cfg.window_ns, d->cfg.bulk_objects);
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
		if (dx_tab_rebuild(d, d->tab_cap * 2))
			return NULL;
		slot = tab_slot(d, key);
	}
	s = calloc(1, sizeof(*s));
	if (!s)
		return NULL;
	if (subject_init(d, s, is_user, id, loginuid)) {
		dx_subject_free(s);
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
struct subject *dx_find_user(struct detect *d, uint32_t loginuid)
{
	if (!d->hot_user || d->hot_user->id != loginuid)
		d->hot_user = subject_get(d, true, loginuid, loginuid);
	return d->hot_user;
}

struct subject *dx_find_session(struct detect *d, uint32_t sid, struct subject *u)
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
	 * person's: it is not dx_linked to the old user's subject. */
	if (s && s->user != u)
		s = NULL;
	d->hot_session = s;
	return s;
}

void dx_note_session(struct subject *u, uint32_t sid, uint64_t now)
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
	/* recent[0] is the latest session, which dx_fill_who() asks about. */
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
void dx_reset_lists(struct detect *d, struct subject *s, uint64_t now)
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
		window_top_reset(&s->sources);
	if (stale(s->last_egress_ns, now, d->cfg.lookback_ns) && !s->ep[RULE_EXFIL].open)
		window_top_reset(&s->egress_dests);
	if (stale(s->last_staged_ns, now, d->cfg.lookback_ns) && !s->ep[RULE_STAGING].open)
		window_top_reset(&s->staged);
	if (stale(s->last_ns, now, long_span) && !any_open(s, all, 6))
		window_top_reset(&s->processes);
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
unsigned dx_expire(struct detect *d, bool users, uint64_t now)
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
		dx_subject_free(s);
		n++;
	}
	return n;
}

