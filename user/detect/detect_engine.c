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

#include "common/endpoint.h"
#include "detect_int.h"
#include "common/log.h"

static void touch(struct detect *d, struct subject *s, const struct activity *act)
{
	if (!s)
		return;
	dx_close_quiet(d, s, act->ts_ns);
	dx_reset_lists(d, s, act->ts_ns);
	if (act->ts_ns > s->last_ns)
		s->last_ns = act->ts_ns;
	window_top_add(&s->processes, act->pid, act->comm ? act->comm : "?", act->pid, act->bytes);
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
	window_sum_add(&s->src_win, act->ts_ns, act->bytes, d->seq);
	if (s->is_user)
		window_sum_add(&s->drip_win, act->ts_ns, act->bytes, d->seq);
	added = window_distinct_add(&s->objects, key, act->ts_ns);
	if (added > 0) {
		s->count[CNT_OBJECTS]++;
		if (s->is_user)
			window_sum_add(&s->drip_objs, act->ts_ns, 1, d->seq);
	}
	else if (added == -ENOSPC && !s->saturation_counted) {
		s->saturation_counted = true;
		d->st.saturated++;
	}
	window_top_add(&s->sources, key, act->object, 0, act->bytes);
}

static void count_today(struct detect *d, struct subject *u, const struct activity *act)
{
	if (!u->baseline)
		return;
	baseline_add(u->baseline, act->ts_ns, act->bytes);
	if (u->today != u->baseline->day || !u->today_first_ns) {
		u->today = u->baseline->day;
		u->today_first_ns = dx_act_start(act);
		u->today_first_seq = d->seq;
		u->today_objects = u->count[CNT_OBJECTS];
	}
}

static void on_source(struct detect *d, struct subject *s, struct subject *u,
		      const struct activity *act)
{
	uint64_t key = act->object_id ? act->object_id : window_top_key(act->object, 0);

	count_today(d, u, act);
	count_source(d, s, act, key);
	count_source(d, u, act, key);
	dx_judge_class(d, s, u, ACT_CLASS_SOURCE, act);
	/* A collection just found makes earlier staged bytes (same drain) count. */
	if (s && s->count[CNT_STAGED])
		dx_judge(d, s, RULE_STAGING, act, false);
	if (u->count[CNT_STAGED])
		dx_judge(d, u, RULE_STAGING, act, false);
}

static void dest_name(const struct activity *act, char *buf, size_t len)
{
	if (act->dst_ip)
		endpoint_format(buf, len, act->dst_ip, act->dst_port);
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
	window_sum_add(&s->egress_win, act->ts_ns, act->bytes, d->seq);
	window_top_add(&s->egress_dests, key, name, 0, act->bytes);
}

/* Egress counts only after a collection by this session or this user: before one, it is
 * a developer's push or a user's own upload. */
static void on_egress(struct detect *d, struct subject *s, struct subject *u,
		      const struct activity *act)
{
	char name[TOP_NAME];
	uint64_t key;

	if (!dx_collected(d, s ? s : u, act->ts_ns))
		return;
	dest_name(act, name, sizeof(name));
	key = window_top_key(name, act->kind);
	count_egress(d, s, act, key, name);
	count_egress(d, u, act, key, name);
	dx_judge_class(d, s, u, ACT_CLASS_EGRESS, act);
}

static void count_staged(struct detect *d, struct subject *s, const struct activity *act,
			 uint64_t key)
{
	if (!s)
		return;
	s->count[CNT_STAGED] += act->bytes;
	if (act->ts_ns > s->last_staged_ns)
		s->last_staged_ns = act->ts_ns;
	window_sum_add(&s->staged_win, act->ts_ns, act->bytes, d->seq);
	window_top_add(&s->staged, key, act->object, 0, act->bytes);
}

static void on_staging(struct detect *d, struct subject *s, struct subject *u,
		       const struct activity *act)
{
	uint64_t key = act->object_id ? act->object_id : window_top_key(act->object, 0);

	count_staged(d, s, act, key);
	count_staged(d, u, act, key);
	dx_judge_class(d, s, u, ACT_CLASS_STAGING, act);
}

/* Collection (sources), unapproved egress, and staging by a collecting process. */
static void (*const by_class[])(struct detect *, struct subject *, struct subject *,
				const struct activity *) = {
	[ACT_CLASS_SOURCE] = on_source,
	[ACT_CLASS_EGRESS] = on_egress,
	[ACT_CLASS_STAGING] = on_staging,
};

void detect_feed(struct detect *d, const struct activity *act)
{
	enum activity_class cls = activity_class(act->kind);
	struct subject *s, *u;

	if (cls == ACT_CLASS_NONE || !act->bytes)
		return;
	d->st.activities++;
	if (act->session_id == SESSION_NONE || act->loginuid == LOGINUID_NONE) {
		d->st.unattributed++;
		d->st.unattributed_bytes += act->bytes;
		return;
	}
	u = dx_find_user(d, act->loginuid);
	if (!u) {
		d->st.untracked++;
		return;
	}
	/* Without a session subject (table full) the user's dx_rules still dx_judge the slice. */
	s = dx_find_session(d, act->session_id, u);
	dx_note_session(u, act->session_id, act->ts_ns);
	touch(d, s, act);
	touch(d, u, act);
	by_class[cls](d, s, u, act);
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
	if (!d->baselines || dx_tab_rebuild(d, 64))
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
	/* Windows keep what they hold; only the bucket width changes. */
	for (struct subject *s = d->all; s; s = s->next) {
		window_sum_resize(&s->src_win, cfg->window_ns);
		window_sum_resize(&s->egress_win, cfg->lookback_ns);
		window_sum_resize(&s->staged_win, cfg->lookback_ns);
		window_sum_resize(&s->drip_win, cfg->drip_window_ns);
		window_sum_resize(&s->drip_objs, cfg->drip_window_ns);
		window_distinct_set_limit(&s->objects, cfg->bulk_objects);
		if (window_distinct_resize(&s->objects, cfg->window_ns))
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

void detect_tick(struct detect *d, uint64_t now_ns)
{
	unsigned gone;

	if (!d->id_base)
		d->id_base = (now_ns / NS_PER_S) << 20;
	for (struct subject *s = d->all; s; s = s->next)
		dx_close_quiet(d, s, now_ns);
	baseline_roll_all(d->baselines, now_ns);
	gone = dx_expire(d, false, now_ns);
	gone += dx_expire(d, true, now_ns);
	if (gone && dx_tab_rebuild(d, d->tab_cap))
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
		dx_subject_free(s);
	}
	free(d->tab);
	baseline_set_free(d->baselines);
	free(d->state_path);
	free(d);
}

