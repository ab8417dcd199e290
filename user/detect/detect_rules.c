// SPDX-License-Identifier: GPL-2.0-only
/*
 * The rule table: per rule the counter it judges, the window that bounds it, its
 * threshold, its gate and where its first activity and destinations come from.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "detect_int.h"
#include "common/log.h"

struct subject *dx_user_of(struct subject *s)
{
	return s->is_user ? s : s->user;
}

bool dx_within(uint64_t when, uint64_t now, uint64_t span)
{
	return when && now >= when ? now - when <= span : when && when > now;
}

static uint64_t win_source(struct detect *d, struct subject *s, uint64_t now)
{
	return window_sum_total(&s->src_win, now);
}

static uint64_t win_objects(struct detect *d, struct subject *s, uint64_t now)
{
	return window_distinct_count(&s->objects, now);
}

static uint64_t win_egress(struct detect *d, struct subject *s, uint64_t now)
{
	return window_sum_total(&s->egress_win, now);
}

static uint64_t win_staged(struct detect *d, struct subject *s, uint64_t now)
{
	return window_sum_total(&s->staged_win, now);
}

static uint64_t win_drip(struct detect *d, struct subject *s, uint64_t now)
{
	return window_sum_total(&s->drip_win, now);
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

bool dx_collected(const struct detect *d, const struct subject *s, uint64_t now)
{
	return dx_within(s->collected_ns, now, d->cfg.lookback_ns) ||
	       (!s->is_user && dx_within(s->user->collected_ns, now, d->cfg.lookback_ns));
}

static bool gate_no_bulk(const struct detect *d, const struct subject *s, uint64_t now)
{
	return !dx_within(s->bulk_ns, now, d->cfg.drip_window_ns);
}

static bool first_source(const struct subject *s, uint64_t *ns, uint64_t *seq)
{
	return window_sum_first(&s->src_win, ns, seq);
}

static bool first_egress(const struct subject *s, uint64_t *ns, uint64_t *seq)
{
	return window_sum_first(&s->egress_win, ns, seq);
}

static bool first_staged(const struct subject *s, uint64_t *ns, uint64_t *seq)
{
	return window_sum_first(&s->staged_win, ns, seq);
}

static bool first_drip(const struct subject *s, uint64_t *ns, uint64_t *seq)
{
	return window_sum_first(&s->drip_win, ns, seq);
}

static bool first_today(const struct subject *s, uint64_t *ns, uint64_t *seq)
{
	*ns = s->today_first_ns;
	*seq = s->today_first_seq;
	return s->today_first_ns != 0;
}

static struct window_top *dests_egress(struct subject *s)
{
	return &s->egress_dests;
}

static struct window_top *dests_staged(struct subject *s)
{
	return &s->staged;
}

#define RULE(feeds_, primary_, ...) { .feeds = feeds_, .primary = primary_, __VA_ARGS__ }

const struct rule_def dx_rules[N_RULES] = {
	[RULE_BULK_READ] = RULE(ACT_CLASS_SOURCE, CNT_SOURCE, .collection = true, .bulk = true,
				.windowed = win_source, .threshold = th_bulk_read,
				.gate = gate_none, .first = first_source),
	[RULE_BULK_OBJECTS] = RULE(ACT_CLASS_SOURCE, CNT_OBJECTS, .collection = true, .bulk = true,
				   .windowed = win_objects, .threshold = th_bulk_objects,
				   .gate = gate_none, .first = first_source),
	[RULE_EXFIL] = RULE(ACT_CLASS_EGRESS, CNT_EGRESS, .windowed = win_egress,
			    .threshold = th_exfil, .gate = dx_collected, .first = first_egress,
			    .dests = dests_egress),
	[RULE_STAGING] = RULE(ACT_CLASS_STAGING, CNT_STAGED, .windowed = win_staged,
			      .threshold = th_staging, .gate = dx_collected, .first = first_staged,
			      .dests = dests_staged),
	[RULE_DRIP] = RULE(ACT_CLASS_SOURCE, CNT_SOURCE, .users_only = true, .collection = true,
			   .windowed = win_drip, .threshold = th_drip, .gate = gate_no_bulk,
			   .first = first_drip),
	[RULE_BASELINE] = RULE(ACT_CLASS_SOURCE, CNT_SOURCE, .users_only = true, .collection = true,
			       .windowed = win_today, .threshold = th_baseline, .gate = gate_none,
			       .first = first_today),
};

/*
 * What counter c held dx_within rule r's span when an episode opens: the long-span dx_rules
 * count sources and objects over their own span, the others over detect.window.
 */
uint64_t dx_window_of(struct detect *d, struct subject *s, enum alert_rule r,
			  enum counter c, uint64_t now)
{
	static uint64_t (*const win[N_COUNTERS])(struct detect *, struct subject *, uint64_t) = {
		[CNT_SOURCE] = win_source, [CNT_OBJECTS] = win_objects,
		[CNT_EGRESS] = win_egress, [CNT_STAGED] = win_staged,
	};

	if (r == RULE_DRIP && c == CNT_SOURCE)
		return win_drip(d, s, now);
	if (r == RULE_DRIP && c == CNT_OBJECTS)
		return window_sum_total(&s->drip_objs, now);
	if (r == RULE_BASELINE && c == CNT_SOURCE)
		return win_today(d, s, now);
	if (r == RULE_BASELINE && c == CNT_OBJECTS)
		return s->count[CNT_OBJECTS] - s->today_objects;
	return win[c](d, s, now);
}

