// SPDX-License-Identifier: GPL-2.0-only
/*
 * Sensor integrity: what makes the agent's picture of a session incomplete is reported
 * as an EV_INTEGRITY event naming the session, so detection raises it as an alert and
 * the evidence keeps it. Here: sessions whose flows, watched files or totals were
 * refused (quota used up, map full), and any of those maps reaching 80%, named after the
 * session that filled it. The same fact is reported again at most once a minute.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <search.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <bpf/bpf.h>

#include "agent_int.h"

#define REPEAT_NS (60ULL * 1000000000ULL)
#define PRESSURE_PCT 80

uint64_t agent_realtime_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + ts.tv_nsec;
}

uint64_t agent_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + ts.tv_nsec;
}

void agent_integrity(struct agent *a, uint32_t session, uint32_t loginuid, const char *reason,
		     const char *fmt, ...)
{
	struct event ev = { .kind = EV_INTEGRITY };
	char detail[256];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(detail, sizeof(detail), fmt, ap);
	va_end(ap);
	ev.ts_ns = agent_realtime_now();
	ev.session_id = session;
	ev.loginuid = loginuid;
	ev.uid = loginuid;
	snprintf(ev.comm, sizeof(ev.comm), "exfilmond");
	ev.integrity.reason = reason;
	ev.integrity.detail = detail;
	a->stats.integrity++;
	a->sink.emit(a->sink.ctx, &ev);
}

/* What was last reported for one (session, map). */
struct fill_seen {
	struct xm_fill_key key;
	uint64_t refused;
	uint64_t reported_ns;
};

static int cmp_fill(const void *x, const void *y)
{
	return memcmp(x, y, sizeof(struct xm_fill_key));
}

static struct fill_seen *fill_seen_get(struct agent *a, const struct xm_fill_key *k)
{
	struct fill_seen *s, **slot = tfind(k, &a->fill_cache, cmp_fill);

	if (slot)
		return *slot;
	s = calloc(1, sizeof(*s));
	if (!s)
		return NULL;
	s->key = *k;
	slot = tsearch(s, &a->fill_cache, cmp_fill);
	if (!slot) {
		free(s);
		return NULL;
	}
	return *slot;
}

/* Reported when new, then at most once per REPEAT_NS. */
static bool due(struct fill_seen *s, uint64_t now)
{
	if (s->reported_ns && now - s->reported_ns < REPEAT_NS)
		return false;
	s->reported_ns = now;
	return true;
}

void integrity_flow_pressure(struct agent *a, uint64_t live, uint32_t max,
			     const struct flow_top *top)
{
	struct xm_fill_key k = { .session = top->session, .loginuid = top->loginuid, .map = 0 };
	struct fill_seen *s;

	if (!max || live * 100 < (uint64_t)max * PRESSURE_PCT)
		return;
	s = fill_seen_get(a, &k);
	if (s && due(s, agent_now_ns()))
		agent_integrity(a, top->session, top->loginuid, "map_pressure",
				"flow map %llu of %u entries; session %d holds the most (%llu)",
				(unsigned long long)live, max, (int)top->session,
				(unsigned long long)top->flows);
}

static const char *const refused_text[] = {
	[XM_FILL_FLOWS] = "flows refused (session quota or flow map full): its bytes count as session totals",
	[XM_FILL_WATCH] = "new source files could not be watched (watch map full): the "
			  "session's reads of unwatched files count as collection",
	[XM_FILL_SINKS] = "new sink files could not be watched (sink map full): the session's "
			  "writes to unwatched files count as egress",
	[XM_FILL_TOTALS] = "session totals could not be created (totals map full): bytes lost",
};

static const char *const refused_reason[] = {
	[XM_FILL_FLOWS] = "flow_quota", [XM_FILL_WATCH] = "watch_full",
	[XM_FILL_SINKS] = "sink_full", [XM_FILL_TOTALS] = "totals_full",
};

/* Sum of created per map, and who created most, for the 80% check. */
struct fill_sum {
	uint64_t created;
	uint32_t top_session, top_loginuid;
	uint64_t top_created;
};

static void check_refused(struct agent *a, const struct xm_fill_key *k,
			  const struct xm_fill_val *v, uint64_t now)
{
	struct fill_seen *s = fill_seen_get(a, k);

	if (!s || v->refused <= s->refused || k->map > XM_FILL_TOTALS || !refused_reason[k->map])
		return;
	if (due(s, now)) {
		agent_integrity(a, k->session, k->loginuid,
				refused_reason[k->map], "session %d: %llu %s", (int)k->session,
				(unsigned long long)(v->refused), refused_text[k->map]);
		s->refused = v->refused;
	}
}

static void check_pressure(struct agent *a, const struct fill_sum *sum, unsigned map)
{
	const struct sensor_maps *m = sensors_maps(a->sensors);
	const struct policy_stats *ps = policy_stats(a->policy);
	uint64_t used = sum[map].created, max = 0;
	struct xm_fill_key k = { .session = sum[map].top_session,
				 .loginuid = sum[map].top_loginuid, .map = map | 0x100 };
	struct fill_seen *s;

	if (map == XM_FILL_WATCH) {
		used += ps->watched_files + ps->watched_dirs;
		max = m->watch_max;
	} else if (map == XM_FILL_SINKS) {
		used += ps->sink_files;
		max = m->sinks_max;
	} else if (map == XM_FILL_TOTALS) {
		max = m->totals_max;
	}
	if (!max || used * 100 < max * PRESSURE_PCT || !sum[map].top_created)
		return;
	s = fill_seen_get(a, &k);
	if (s && due(s, agent_now_ns()))
		agent_integrity(a, k.session, k.loginuid, "map_pressure",
				"%s map about %llu of %llu entries; session %d added the most (%llu)",
				map == XM_FILL_WATCH ? "watch" : map == XM_FILL_SINKS ? "sink" : "totals",
				(unsigned long long)used, (unsigned long long)max, (int)k.session,
				(unsigned long long)sum[map].top_created);
}

int integrity_fills(struct agent *a)
{
	const struct sensor_maps *m = sensors_maps(a->sensors);
	struct xm_fill_key key, next, *prev = NULL;
	struct fill_sum sum[XM_FILL_TOTALS + 1] = { 0 };
	uint64_t now = agent_now_ns();
	struct xm_fill_val v;

	while (bpf_map_get_next_key(m->fills, prev, &next) == 0) {
		key = next;
		prev = &key;
		if (bpf_map_lookup_elem(m->fills, &key, &v) || key.map > XM_FILL_TOTALS)
			continue;
		check_refused(a, &key, &v, now);
		sum[key.map].created += v.created;
		if (key.map != XM_FILL_FLOWS && v.created > sum[key.map].top_created) {
			sum[key.map].top_created = v.created;
			sum[key.map].top_session = key.session;
			sum[key.map].top_loginuid = key.loginuid;
		}
	}
	check_pressure(a, sum, XM_FILL_WATCH);
	check_pressure(a, sum, XM_FILL_SINKS);
	check_pressure(a, sum, XM_FILL_TOTALS);
	return 0;
}
