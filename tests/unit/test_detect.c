// SPDX-License-Identifier: GPL-2.0-only
/* Unit tests for detection: each rule's thresholds and windows with a clock the test
 * controls, episode deduplication and closing, per-user linking and per-user views
 * across sessions, activity outside sessions never alerting, baselines that persist,
 * evidence ranges, reconfiguration and expiry. */
#include <unistd.h>

#include "unit.h"
#include "detect/detect.h"

#define S 1000000000ULL
#define MIB (1ULL << 20)
#define T0 (1795800000ULL * S) /* a fixed wall-clock start */
#define HOUR (3600 * S)
#define DAY (86400 * S)
#define MAX_ALERTS 4096

static struct alert alerts[MAX_ALERTS];
static unsigned n_alerts;

static void emit(void *ctx, const struct alert *a)
{
	assert_true(n_alerts < MAX_ALERTS);
	alerts[n_alerts++] = *a;
}

static void subject(void *ctx, uint32_t sid, uint32_t uid, struct detect_subject *s)
{
	static char tty[32];

	snprintf(tty, sizeof(tty), "pts/%u", sid);
	s->user = uid == 1101 ? "alice" : "bob";
	s->tty = tty;
	s->remote_host = "10.1.2.3";
}

static struct detect_config cfg(void)
{
	return (struct detect_config){
		.window_ns = 600 * S, .bulk_read_bytes = 50 * MIB, .bulk_objects = 100,
		.exfil_bytes = 5 * MIB, .lookback_ns = DAY, .drip_bytes = 200 * MIB,
		.drip_window_ns = DAY, .staging_bytes = 50 * MIB, .baseline_factor = 10,
		.baseline_min_bytes = 100 * MIB,
	};
}

static struct detect *make(const struct detect_config *c, const char *state)
{
	struct detect_ops ops = { emit, subject, NULL };
	struct detect *d;

	n_alerts = 0;
	d = detect_new(c, &ops, state);
	assert_non_null(d);
	detect_set_config_hash(d, "abc123");
	return d;
}

static uint64_t next_seq;

static void feed_obj(struct detect *d, uint32_t sid, uint32_t uid, enum activity_kind k,
		     uint64_t ts, uint64_t bytes, uint64_t obj, const char *name)
{
	struct activity a = { .ts_ns = ts, .first_ns = ts, .session_id = sid, .loginuid = uid,
			      .pid = 100 + sid, .kind = k, .bytes = bytes, .object_id = obj,
			      .object = name, .comm = "psql" };

	if (k == ACT_EGRESS_NET) {
		a.dst_ip = name;
		a.dst_port = 8080;
		a.comm = "curl";
	} else if (k == ACT_EGRESS_MEDIA) {
		a.mount = "/media/stick";
		a.comm = "cp";
	}
	detect_set_evidence_seq(d, ++next_seq);
	detect_feed(d, &a);
}

static void feed(struct detect *d, uint32_t sid, uint32_t uid, enum activity_kind k, uint64_t ts,
		 uint64_t bytes, uint64_t obj)
{
	feed_obj(d, sid, uid, k, ts, bytes, obj,
		 k == ACT_EGRESS_NET ? "127.0.0.77" : k == ACT_STAGING ? "/home/a/x.tgz"
									: "/srv/crm/x.csv");
}

/* Episodes (revision 1) of rule r. */
static unsigned count(enum alert_rule r)
{
	unsigned n = 0;

	for (unsigned i = 0; i < n_alerts; i++)
		n += alerts[i].rule == r && alerts[i].revision == 1;
	return n;
}

static const struct alert *last(enum alert_rule r)
{
	for (unsigned i = n_alerts; i-- > 0;)
		if (alerts[i].rule == r)
			return &alerts[i];
	return NULL;
}

static void test_detect_bulk_read_just_under_and_over(void **state)
{
	struct detect_config c = cfg();
	struct detect *d = make(&c, NULL);
	const struct alert *a;

	feed(d, 1, 1101, ACT_SOURCE_FILE, T0, 50 * MIB, 1);
	assert_int_equal(count(RULE_BULK_READ), 0);
	feed(d, 1, 1101, ACT_SOURCE_FILE, T0 + S, 1, 1);
	assert_int_equal(count(RULE_BULK_READ), 1);
	assert_int_equal(n_alerts, 1);
	a = last(RULE_BULK_READ);
	assert_string_equal(a->user, "alice");
	assert_string_equal(a->tty, "pts/1");
	assert_string_equal(a->remote_host, "10.1.2.3");
	assert_int_equal(a->session_id, 1);
	assert_int_equal(a->loginuid, 1101);
	assert_int_equal(a->threshold, 50 * MIB);
	assert_int_equal(a->source_bytes, 50 * MIB + 1);
	assert_int_equal(a->source_objects, 1);
	assert_int_equal(a->n_sources, 1);
	assert_string_equal(a->sources[0].name, "/srv/crm/x.csv");
	assert_int_equal(a->n_processes, 1);
	assert_string_equal(a->processes[0].name, "psql");
	assert_int_equal(a->processes[0].pid, 101);
	assert_int_equal(a->start_ns, T0);
	assert_int_equal(a->end_ns, T0 + S);
	assert_string_equal(a->config_sha256, "abc123");
	assert_string_equal(alert_rule_name(a->rule), "bulk_collection_bytes");
	detect_free(d);
}

static void test_detect_bulk_read_window_slides(void **state)
{
	struct detect_config c = cfg();
	struct detect *d = make(&c, NULL);

	feed(d, 1, 1101, ACT_SOURCE_FILE, T0, 30 * MIB, 1);
	/* 11 minutes later the first read has left the 10-minute window. */
	feed(d, 1, 1101, ACT_SOURCE_FILE, T0 + 660 * S, 30 * MIB, 1);
	assert_int_equal(count(RULE_BULK_READ), 0);
	feed(d, 1, 1101, ACT_SOURCE_FILE, T0 + 700 * S, 30 * MIB, 1);
	assert_int_equal(count(RULE_BULK_READ), 1);
	detect_free(d);
}

static void test_detect_bulk_objects_just_under_and_over(void **state)
{
	struct detect_config c = cfg();
	struct detect *d = make(&c, NULL);

	for (uint64_t i = 0; i < 100; i++)
		feed(d, 1, 1101, ACT_SOURCE_FILE, T0 + i * S, 1000, i);
	assert_int_equal(count(RULE_BULK_OBJECTS), 0);
	feed(d, 1, 1101, ACT_SOURCE_FILE, T0 + 101 * S, 1000, 5); /* seen before */
	assert_int_equal(count(RULE_BULK_OBJECTS), 0);
	feed(d, 1, 1101, ACT_SOURCE_FILE, T0 + 102 * S, 1000, 1000);
	assert_int_equal(count(RULE_BULK_OBJECTS), 1);
	assert_int_equal(last(RULE_BULK_OBJECTS)->source_objects, 101);
	assert_int_equal(last(RULE_BULK_OBJECTS)->threshold, 100);
	assert_int_equal(count(RULE_BULK_READ), 0);
	detect_free(d);
}

static void test_detect_bulk_objects_window_slides(void **state)
{
	struct detect_config c = cfg();
	struct detect *d = make(&c, NULL);

	/* 200 objects, one every 10 s: never more than 60 within 10 minutes. */
	for (uint64_t i = 0; i < 200; i++)
		feed(d, 1, 1101, ACT_SOURCE_FILE, T0 + i * 10 * S, 1000, i);
	assert_int_equal(count(RULE_BULK_OBJECTS), 0);
	detect_free(d);
}

static void test_detect_bulk_objects_episode_updates(void **state)
{
	struct detect_config c = cfg();
	struct detect *d = make(&c, NULL);

	for (uint64_t i = 0; i < 250; i++)
		feed(d, 1, 1101, ACT_SOURCE_FILE, T0 + i * (S / 10), 1000, i);
	assert_int_equal(count(RULE_BULK_OBJECTS), 1);
	/* 101 .. 250 objects in 10% steps: updates happen, and not once per object. */
	assert_true(last(RULE_BULK_OBJECTS)->revision > 5);
	assert_true(last(RULE_BULK_OBJECTS)->revision < 15);
	assert_true(last(RULE_BULK_OBJECTS)->source_objects >= 228);
	detect_free(d);
}

static void test_detect_episode_updates_not_new_alerts(void **state)
{
	struct detect_config c = cfg();
	struct detect *d = make(&c, NULL);
	uint32_t rev = 0;
	uint64_t bytes = 0, end = 0;

	for (int i = 0; i < 200; i++)
		feed(d, 1, 1101, ACT_SOURCE_FILE, T0 + i * S, MIB, 1);
	assert_int_equal(count(RULE_BULK_READ), 1);
	/* 51 MiB .. 200 MiB in 10% steps: a handful of revisions, never one per event. */
	for (unsigned i = 0; i < n_alerts; i++) {
		if (alerts[i].rule != RULE_BULK_READ)
			continue;
		assert_int_equal(alerts[i].id, alerts[0].id);
		assert_int_equal(alerts[i].revision, rev + 1);
		assert_true(alerts[i].source_bytes > bytes && alerts[i].end_ns > end);
		assert_int_equal(alerts[i].start_ns, T0);
		rev = alerts[i].revision;
		bytes = alerts[i].source_bytes;
		end = alerts[i].end_ns;
	}
	assert_true(rev > 3 && rev < 20);
	/* The episode's figure keeps counting past the 10-minute window. */
	assert_true(bytes >= 180 * MIB);
	/* Quiet for longer than the window closes the episode; the next one is new. */
	detect_tick(d, T0 + 200 * S + 611 * S);
	feed(d, 1, 1101, ACT_SOURCE_FILE, T0 + 900 * S, 60 * MIB, 1);
	assert_int_equal(count(RULE_BULK_READ), 2);
	assert_true(last(RULE_BULK_READ)->id != alerts[0].id);
	assert_int_equal(last(RULE_BULK_READ)->source_bytes, 60 * MIB);
	detect_free(d);
}

static void test_detect_episode_closes_without_tick(void **state)
{
	struct detect_config c = cfg();
	struct detect *d = make(&c, NULL);

	feed(d, 1, 1101, ACT_SOURCE_FILE, T0, 60 * MIB, 1);
	/* Activity within the window of the last one keeps the episode open... */
	feed(d, 1, 1101, ACT_SOURCE_FILE, T0 + 590 * S, 60 * MIB, 1);
	feed(d, 1, 1101, ACT_SOURCE_FILE, T0 + 1180 * S, 60 * MIB, 1);
	assert_int_equal(count(RULE_BULK_READ), 1);
	assert_int_equal(last(RULE_BULK_READ)->end_ns, T0 + 1180 * S);
	/* ...and a gap longer than the window starts a new one, tick or no tick. */
	feed(d, 1, 1101, ACT_SOURCE_FILE, T0 + 1800 * S, 60 * MIB, 1);
	assert_int_equal(count(RULE_BULK_READ), 2);
	detect_free(d);
}

static void test_detect_exfil_needs_prior_collection(void **state)
{
	struct detect_config c = cfg();
	struct detect *d = make(&c, NULL);
	const struct alert *a;

	feed(d, 1, 1101, ACT_EGRESS_NET, T0, 20 * MIB, 0);
	assert_int_equal(count(RULE_EXFIL), 0);
	feed(d, 1, 1101, ACT_SOURCE_NET, T0 + S, 60 * MIB, 7);
	/* The upload before the collection is not counted afterwards either. */
	feed(d, 1, 1101, ACT_EGRESS_NET, T0 + 2 * S, 5 * MIB, 0);
	assert_int_equal(count(RULE_EXFIL), 0);
	feed(d, 1, 1101, ACT_EGRESS_NET, T0 + 3 * S, 1, 0);
	assert_int_equal(count(RULE_EXFIL), 1);
	a = last(RULE_EXFIL);
	assert_string_equal(a->destinations[0].name, "127.0.0.77:8080");
	assert_int_equal(a->egress_bytes, 5 * MIB + 1);
	assert_int_equal(a->threshold, 5 * MIB);
	/* The alert carries the collection it follows. */
	assert_int_equal(a->source_bytes, 60 * MIB);
	assert_string_equal(a->sources[0].name, "/srv/crm/x.csv");
	assert_int_equal(a->start_ns, T0 + 2 * S);
	detect_free(d);
}

static void test_detect_exfil_updates_on_new_destination(void **state)
{
	struct detect_config c = cfg();
	struct detect *d = make(&c, NULL);

	feed(d, 1, 1101, ACT_SOURCE_NET, T0, 60 * MIB, 7);
	feed(d, 1, 1101, ACT_EGRESS_NET, T0 + S, 6 * MIB, 0);
	assert_int_equal(last(RULE_EXFIL)->revision, 1);
	/* Small and to the same place: no update. */
	feed(d, 1, 1101, ACT_EGRESS_NET, T0 + 2 * S, 1000, 0);
	assert_int_equal(last(RULE_EXFIL)->revision, 1);
	/* Small but somewhere new: an update naming it. */
	feed_obj(d, 1, 1101, ACT_EGRESS_NET, T0 + 3 * S, 1000, 0, "203.0.113.9");
	assert_int_equal(count(RULE_EXFIL), 1);
	assert_int_equal(last(RULE_EXFIL)->revision, 2);
	assert_int_equal(last(RULE_EXFIL)->n_destinations, 2);
	feed(d, 1, 1101, ACT_EGRESS_MEDIA, T0 + 4 * S, 1000, 0);
	assert_int_equal(last(RULE_EXFIL)->revision, 3);
	assert_string_equal(last(RULE_EXFIL)->destinations[2].name, "/media/stick");
	detect_free(d);
}

static void test_detect_exfil_after_close_needs_new_bytes(void **state)
{
	struct detect_config c = cfg();
	struct detect *d = make(&c, NULL);

	feed(d, 1, 1101, ACT_SOURCE_NET, T0, 60 * MIB, 7);
	feed(d, 1, 1101, ACT_EGRESS_NET, T0 + S, 6 * MIB, 0);
	assert_int_equal(count(RULE_EXFIL), 1);
	detect_tick(d, T0 + HOUR);
	/* The lookback still holds 6 MiB, but that episode is over. */
	feed(d, 1, 1101, ACT_EGRESS_NET, T0 + HOUR + S, 1, 0);
	assert_int_equal(count(RULE_EXFIL), 0 + 1);
	feed(d, 1, 1101, ACT_EGRESS_NET, T0 + HOUR + 2 * S, 5 * MIB, 0);
	assert_int_equal(count(RULE_EXFIL), 2);
	assert_int_equal(last(RULE_EXFIL)->egress_bytes, 5 * MIB + 1);
	detect_free(d);
}

static void test_detect_exfil_egress_accumulates_within_lookback(void **state)
{
	struct detect_config c = cfg();
	struct detect *d = make(&c, NULL);

	c.lookback_ns = 2 * HOUR;
	detect_reconfigure(d, &c);
	feed(d, 1, 1101, ACT_SOURCE_NET, T0, 60 * MIB, 7);
	feed(d, 1, 1101, ACT_EGRESS_NET, T0 + 60 * S, 3 * MIB, 0);
	/* Collect again later so the gate is open; the first 3 MiB left the lookback. */
	feed(d, 1, 1101, ACT_SOURCE_NET, T0 + 3 * HOUR, 60 * MIB, 7);
	feed(d, 1, 1101, ACT_EGRESS_NET, T0 + 3 * HOUR + S, 3 * MIB, 0);
	assert_int_equal(count(RULE_EXFIL), 0);
	feed(d, 1, 1101, ACT_EGRESS_NET, T0 + 3 * HOUR + 2 * S, 3 * MIB, 0);
	assert_int_equal(count(RULE_EXFIL), 1);
	assert_int_equal(last(RULE_EXFIL)->egress_bytes, 6 * MIB);
	detect_free(d);
}

static void test_detect_exfil_linked_across_sessions_of_one_user(void **state)
{
	struct detect_config c = cfg();
	struct detect *d = make(&c, NULL);
	const struct alert *a;

	feed(d, 1, 1101, ACT_SOURCE_FILE, T0, 60 * MIB, 1);
	/* Next day, alice logs in again and copies to a stick: linked by user. */
	feed(d, 2, 1101, ACT_EGRESS_MEDIA, T0 + 20 * HOUR, 6 * MIB, 0);
	assert_int_equal(count(RULE_EXFIL), 1);
	a = last(RULE_EXFIL);
	assert_int_equal(a->session_id, 2);
	assert_string_equal(a->tty, "pts/2");
	assert_int_equal(a->source_bytes, 60 * MIB);
	assert_string_equal(a->destinations[0].name, "/media/stick");
	assert_true(a->evidence_first_seq < a->evidence_last_seq);
	/* Bob's upload is not linked to alice's collection. */
	feed(d, 3, 1102, ACT_EGRESS_NET, T0 + 20 * HOUR, 60 * MIB, 0);
	assert_int_equal(count(RULE_EXFIL), 1);
	/* Past the lookback nothing links. */
	feed(d, 4, 1101, ACT_EGRESS_NET, T0 + 25 * HOUR, 60 * MIB, 0);
	assert_int_equal(count(RULE_EXFIL), 1);
	detect_free(d);
}

static void test_detect_user_bulk_across_sessions(void **state)
{
	struct detect_config c = cfg();
	struct detect *d = make(&c, NULL);
	const struct alert *a;

	/* Two logins, each under the threshold, together over it. */
	feed(d, 1, 1101, ACT_SOURCE_FILE, T0, 30 * MIB, 1);
	feed(d, 2, 1101, ACT_SOURCE_FILE, T0 + S, 30 * MIB, 2);
	assert_int_equal(count(RULE_BULK_READ), 1);
	a = last(RULE_BULK_READ);
	assert_int_equal(a->session_id, SESSION_NONE);
	assert_int_equal(a->loginuid, 1101);
	assert_string_equal(a->user, "alice");
	assert_string_equal(a->tty, "");
	assert_int_equal(a->source_bytes, 60 * MIB);
	assert_int_equal(a->source_objects, 2);
	assert_int_equal(a->n_sources, 2);
	/* Bob's sessions are his own. */
	feed(d, 3, 1102, ACT_SOURCE_FILE, T0 + 2 * S, 30 * MIB, 1);
	assert_int_equal(count(RULE_BULK_READ), 1);
	detect_free(d);
}

static void test_detect_user_view_muted_while_session_open(void **state)
{
	struct detect_config c = cfg();
	struct detect *d = make(&c, NULL);

	feed(d, 1, 1101, ACT_SOURCE_FILE, T0, 60 * MIB, 1);
	feed(d, 2, 1101, ACT_SOURCE_FILE, T0 + S, 30 * MIB, 2);
	/* Session 1's episode speaks for alice; her user view stays quiet. */
	assert_int_equal(count(RULE_BULK_READ), 1);
	assert_int_equal(last(RULE_BULK_READ)->session_id, 1);
	feed(d, 1, 1101, ACT_EGRESS_NET, T0 + 2 * S, 6 * MIB, 0);
	assert_int_equal(count(RULE_EXFIL), 1);
	detect_tick(d, T0 + HOUR);
	/* After it closed, a byte more (lookback still full) raises nothing at either level. */
	feed(d, 1, 1101, ACT_EGRESS_NET, T0 + HOUR + S, 1, 0);
	assert_int_equal(count(RULE_EXFIL), 1);
	detect_free(d);
}

static void test_detect_no_session_never_alerts(void **state)
{
	struct detect_config c = cfg();
	struct detect *d = make(&c, NULL);
	struct detect_stats st;

	feed(d, SESSION_NONE, LOGINUID_NONE, ACT_SOURCE_FILE, T0, 500 * MIB, 1);
	feed(d, SESSION_NONE, LOGINUID_NONE, ACT_STAGING, T0 + S, 500 * MIB, 2);
	feed(d, SESSION_NONE, LOGINUID_NONE, ACT_EGRESS_NET, T0 + 2 * S, 500 * MIB, 1);
	/* A service running under a loginuid but outside a session is no person's either. */
	feed(d, SESSION_NONE, 1101, ACT_SOURCE_FILE, T0 + 3 * S, 40 * MIB, 3);
	assert_int_equal(n_alerts, 0);
	/* ...and does not count towards alice's own windows. */
	feed(d, 1, 1101, ACT_SOURCE_FILE, T0 + 4 * S, 40 * MIB, 3);
	assert_int_equal(n_alerts, 0);
	detect_get_stats(d, &st);
	assert_int_equal(st.activities, 5);
	assert_int_equal(st.unattributed, 4);
	assert_int_equal(st.unattributed_bytes, 1540 * MIB);
	assert_int_equal(st.sessions, 1);
	assert_int_equal(st.users, 1);
	detect_free(d);
}

static void test_detect_staging_after_collection(void **state)
{
	struct detect_config c = cfg();
	struct detect *d = make(&c, NULL);
	const struct alert *a;

	/* The staged file arrives in the same drain before the source bytes: still linked. */
	feed(d, 1, 1101, ACT_STAGING, T0, 70 * MIB, 9);
	assert_int_equal(count(RULE_STAGING), 0);
	feed(d, 1, 1101, ACT_SOURCE_NET, T0 + S, 70 * MIB, 1);
	assert_int_equal(count(RULE_STAGING), 1);
	a = last(RULE_STAGING);
	assert_int_equal(a->session_id, 1);
	assert_int_equal(a->egress_bytes, 70 * MIB);
	assert_string_equal(a->destinations[0].name, "/home/a/x.tgz");
	assert_int_equal(a->source_bytes, 70 * MIB);
	assert_int_equal(a->threshold, 50 * MIB);
	detect_free(d);
}

static void test_detect_staging_needs_collection_and_threshold(void **state)
{
	struct detect_config c = cfg();
	struct detect *d = make(&c, NULL);

	/* Without a collection, writes by a process that read a little are not staging. */
	feed(d, 1, 1101, ACT_SOURCE_FILE, T0, MIB, 1);
	feed(d, 1, 1101, ACT_STAGING, T0 + S, 70 * MIB, 9);
	assert_int_equal(count(RULE_STAGING), 0);
	/* After one, just at the threshold is not over it; one byte more is. */
	feed(d, 2, 1102, ACT_SOURCE_FILE, T0 + 2 * S, 60 * MIB, 1);
	feed(d, 2, 1102, ACT_STAGING, T0 + 3 * S, 50 * MIB, 9);
	assert_int_equal(count(RULE_STAGING), 0);
	feed(d, 2, 1102, ACT_STAGING, T0 + 4 * S, 1, 9);
	assert_int_equal(count(RULE_STAGING), 1);
	assert_int_equal(last(RULE_STAGING)->loginuid, 1102);
	detect_free(d);
}

static void test_detect_slow_drip_under_window_thresholds(void **state)
{
	struct detect_config c = cfg();
	struct detect *d = make(&c, NULL);
	const struct alert *a;

	/* 45 MiB per hour: never 50 MiB in 10 minutes, 225 MiB in 5 hours. */
	for (int h = 0; h < 4; h++)
		feed(d, 1, 1101, ACT_SOURCE_FILE, T0 + h * HOUR, 45 * MIB, h);
	assert_int_equal(count(RULE_DRIP), 0);
	feed(d, 1, 1101, ACT_SOURCE_FILE, T0 + 4 * HOUR, 45 * MIB, 4);
	assert_int_equal(count(RULE_BULK_READ), 0);
	assert_int_equal(count(RULE_DRIP), 1);
	a = last(RULE_DRIP);
	assert_int_equal(a->source_bytes, 225 * MIB);
	assert_int_equal(a->source_objects, 5);
	assert_int_equal(a->session_id, 1);     /* one session did it all */
	assert_int_equal(a->start_ns, T0);
	assert_int_equal(a->threshold, 200 * MIB);
	/* The drip goes on: the episode closes between reads, and the still-full long
	 * window does not reopen it hour after hour. */
	for (int h = 5; h < 9; h++)
		feed(d, 1, 1101, ACT_SOURCE_FILE, T0 + h * HOUR, 45 * MIB, h);
	assert_int_equal(count(RULE_DRIP), 1);
	/* 200 MiB more after the close is a new episode. */
	feed(d, 1, 1101, ACT_SOURCE_FILE, T0 + 9 * HOUR, 45 * MIB, 9);
	assert_int_equal(count(RULE_DRIP), 2);
	detect_free(d);
}

static void test_detect_slow_drip_muted_by_bulk(void **state)
{
	struct detect_config c = cfg();
	struct detect *d = make(&c, NULL);

	feed(d, 1, 1101, ACT_SOURCE_FILE, T0, 60 * MIB, 0);
	assert_int_equal(count(RULE_BULK_READ), 1);
	for (int h = 1; h < 6; h++)
		feed(d, 1, 1101, ACT_SOURCE_FILE, T0 + h * HOUR, 45 * MIB, h);
	/* The collection was already reported; the same day's reads are not a drip. */
	assert_int_equal(count(RULE_DRIP), 0);
	detect_free(d);
}

static void learn_days(struct detect *d, uint32_t sid, int days, uint64_t bytes)
{
	for (int day = 0; day < days; day++)
		feed(d, sid, 1101, ACT_SOURCE_FILE, T0 + day * DAY, bytes, 1);
}

static void test_detect_baseline_learns_persists_and_flags(void **state)
{
	char path[] = "/tmp/test_detect_baseline.XXXXXX";
	struct detect_config c = cfg();
	int fd = mkstemp(path);
	struct detect *d;

	close(fd);
	unlink(path);
	c.bulk_read_bytes = 1ULL << 40;  /* keep the bulk rules out of the way */
	c.drip_bytes = 1ULL << 40;
	d = make(&c, path);
	learn_days(d, 1, 4, 20 * MIB);
	detect_tick(d, T0 + 4 * DAY);
	assert_int_equal(detect_save(d), 0);
	detect_free(d);
	/* A restart keeps the learned days; a day of 300 MiB is 15x the 20 MiB usual. */
	d = make(&c, path);
	feed(d, 2, 1101, ACT_SOURCE_FILE, T0 + 4 * DAY + S, 150 * MIB, 1);
	assert_int_equal(count(RULE_BASELINE), 0);
	feed(d, 2, 1101, ACT_SOURCE_FILE, T0 + 4 * DAY + 2 * S, 150 * MIB, 1);
	assert_int_equal(count(RULE_BASELINE), 1);
	assert_true(last(RULE_BASELINE)->baseline_bytes == 20.0 * MIB);
	assert_int_equal(last(RULE_BASELINE)->threshold, 200 * MIB);
	assert_int_equal(last(RULE_BASELINE)->source_bytes, 300 * MIB);
	assert_int_equal(last(RULE_BASELINE)->session_id, 2);
	detect_free(d);
	unlink(path);
}

static void test_detect_baseline_needs_three_days_and_minimum(void **state)
{
	struct detect_config c = cfg();
	struct detect *d;

	c.bulk_read_bytes = 1ULL << 40;
	c.drip_bytes = 1ULL << 40;
	d = make(&c, NULL);
	learn_days(d, 1, 2, MIB);
	/* Two learned days are not enough to judge a third. */
	feed(d, 1, 1101, ACT_SOURCE_FILE, T0 + 2 * DAY, 500 * MIB, 1);
	assert_int_equal(count(RULE_BASELINE), 0);
	detect_free(d);
	d = make(&c, NULL);
	learn_days(d, 1, 3, MIB);
	/* 99 MiB is 99x the usual 1 MiB but under baseline_min. */
	feed(d, 1, 1101, ACT_SOURCE_FILE, T0 + 3 * DAY, 99 * MIB, 1);
	assert_int_equal(count(RULE_BASELINE), 0);
	feed(d, 1, 1101, ACT_SOURCE_FILE, T0 + 3 * DAY + S, 2 * MIB, 1);
	assert_int_equal(count(RULE_BASELINE), 1);
	assert_int_equal(last(RULE_BASELINE)->threshold, 100 * MIB);
	detect_free(d);
}

static void test_detect_evidence_range_covers_contributing_slices(void **state)
{
	struct detect_config c = cfg();
	struct detect *d = make(&c, NULL);
	uint64_t first;

	feed(d, 1, 1101, ACT_SOURCE_FILE, T0, 10 * MIB, 1);        /* leaves the window */
	feed(d, 1, 1101, ACT_SOURCE_FILE, T0 + 700 * S, 30 * MIB, 1);
	first = next_seq;
	feed(d, 2, 1102, ACT_SOURCE_FILE, T0 + 701 * S, MIB, 1);   /* someone else */
	feed(d, 1, 1101, ACT_SOURCE_FILE, T0 + 710 * S, 30 * MIB, 1);
	assert_int_equal(count(RULE_BULK_READ), 1);
	assert_int_equal(last(RULE_BULK_READ)->evidence_first_seq, first);
	assert_int_equal(last(RULE_BULK_READ)->evidence_last_seq, next_seq);
	assert_int_equal(last(RULE_BULK_READ)->start_ns, T0 + 700 * S);
	detect_free(d);
}

static void test_detect_reconfigure_keeps_windows(void **state)
{
	struct detect_config c = cfg();
	struct detect *d = make(&c, NULL);

	feed(d, 1, 1101, ACT_SOURCE_FILE, T0, 40 * MIB, 1);
	c.bulk_read_bytes = 45 * MIB;
	c.window_ns = 1200 * S;
	detect_reconfigure(d, &c);
	/* 40 MiB from before the reload are still in the (now 20-minute) window. */
	feed(d, 1, 1101, ACT_SOURCE_FILE, T0 + 900 * S, 10 * MIB, 1);
	assert_int_equal(count(RULE_BULK_READ), 1);
	assert_int_equal(last(RULE_BULK_READ)->threshold, 45 * MIB);
	assert_int_equal(last(RULE_BULK_READ)->source_bytes, 50 * MIB);
	detect_free(d);
}

static void test_detect_tick_expires_idle_subjects(void **state)
{
	struct detect_config c = cfg();
	struct detect *d = make(&c, NULL);
	struct detect_stats st;

	feed(d, 1, 1101, ACT_SOURCE_FILE, T0, 60 * MIB, 1);
	feed(d, 2, 1102, ACT_SOURCE_FILE, T0 + 20 * HOUR, MIB, 1);
	detect_tick(d, T0 + 25 * HOUR);
	detect_get_stats(d, &st);
	/* Alice is past the lookback; bob is not. */
	assert_int_equal(st.sessions, 1);
	assert_int_equal(st.users, 1);
	assert_int_equal(st.alerts, 1);
	detect_tick(d, T0 + 50 * HOUR);
	detect_get_stats(d, &st);
	assert_int_equal(st.sessions + st.users, 0);
	/* A returning user starts clean. */
	feed(d, 1, 1101, ACT_SOURCE_FILE, T0 + 51 * HOUR, 60 * MIB, 1);
	assert_int_equal(count(RULE_BULK_READ), 2);
	assert_int_equal(last(RULE_BULK_READ)->source_bytes, 60 * MIB);
	detect_free(d);
}

static void test_detect_many_objects_stay_bounded(void **state)
{
	struct detect_config c = cfg();
	struct detect *d = make(&c, NULL);
	struct detect_stats st;

	/* A million distinct objects in a minute: the sets saturate, the alert stands. */
	for (uint64_t i = 0; i < 1000000; i++)
		feed(d, 1, 1101, ACT_SOURCE_FILE, T0 + i * 60000, 10, i + 1);
	detect_get_stats(d, &st);
	assert_int_equal(st.saturated, 2);
	assert_int_equal(count(RULE_BULK_OBJECTS), 1);
	assert_true(last(RULE_BULK_OBJECTS)->source_objects > 100);
	assert_true(last(RULE_BULK_OBJECTS)->revision < 20);
	detect_free(d);
}

static void test_detect_many_destinations_bounded_updates(void **state)
{
	struct detect_config c = cfg();
	struct detect *d = make(&c, NULL);
	char name[64];

	feed(d, 1, 1101, ACT_SOURCE_NET, T0, 60 * MIB, 7);
	/* Thousands of staged files and upload peers: the lists fill, alerts do not flood. */
	for (int i = 0; i < 5000; i++) {
		snprintf(name, sizeof(name), "/home/a/part%04d.gz", i);
		feed_obj(d, 1, 1101, ACT_STAGING, T0 + S + i * (S / 100), 20 * 1024, 100 + i, name);
		snprintf(name, sizeof(name), "198.51.100.%d", i % 250);
		feed_obj(d, 1, 1101, ACT_EGRESS_NET, T0 + S + i * (S / 100), 2 * 1024, 0, name);
	}
	assert_int_equal(count(RULE_STAGING), 1);
	assert_int_equal(count(RULE_EXFIL), 1);
	assert_true(last(RULE_EXFIL)->revision <= ALERT_MAX_ITEMS + 1);
	assert_int_equal(last(RULE_EXFIL)->n_destinations, ALERT_MAX_ITEMS);
	assert_true(n_alerts < 30);
	detect_free(d);
}

static void test_detect_full_subject_table_still_judges_users(void **state)
{
	struct detect_config c = cfg();
	struct detect *d = make(&c, NULL);
	struct detect_stats st;

	/* More logins than the table holds, each reading a little. */
	for (uint32_t sid = 1; sid <= 2100; sid++)
		feed(d, sid, 1101, ACT_SOURCE_FILE, T0 + sid * (S / 10), 10 * 1024, 1);
	detect_get_stats(d, &st);
	assert_int_equal(st.sessions + st.users, 2048);
	assert_int_equal(st.untracked, 0);
	assert_int_equal(n_alerts, 0);
	/* A login the table cannot hold still pulls into alice's user view. */
	feed(d, 2101, 1101, ACT_SOURCE_FILE, T0 + 300 * S, 60 * MIB, 1);
	assert_int_equal(count(RULE_BULK_READ), 1);
	assert_int_equal(last(RULE_BULK_READ)->loginuid, 1101);
	/* A new user cannot be held: counted, not judged. */
	feed(d, 1, 1102, ACT_SOURCE_FILE, T0 + 301 * S, 60 * MIB, 1);
	detect_get_stats(d, &st);
	assert_int_equal(st.untracked, 1);
	detect_free(d);
}

static void test_detect_ids_unique_per_episode(void **state)
{
	struct detect_config c = cfg();
	struct detect *d = make(&c, NULL);

	feed(d, 1, 1101, ACT_SOURCE_FILE, T0, 60 * MIB, 1);
	feed(d, 2, 1102, ACT_SOURCE_FILE, T0 + S, 60 * MIB, 1);
	feed(d, 2, 1102, ACT_EGRESS_NET, T0 + 2 * S, 6 * MIB, 0);
	assert_int_equal(n_alerts, 3);
	assert_true(alerts[0].id != alerts[1].id && alerts[1].id != alerts[2].id &&
		    alerts[0].id != alerts[2].id);
	/* Ids carry the run's start, so a restart does not reuse them. */
	assert_true(alerts[0].id >> 20 == T0 / S);
	detect_free(d);
}

static void test_detect_new_rejects_missing_emit(void **state)
{
	struct detect_config c = cfg();
	struct detect_ops ops = { NULL, subject, NULL };

	assert_null(detect_new(&c, &ops, NULL));
	assert_null(detect_new(NULL, &ops, NULL));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_detect_bulk_read_just_under_and_over),
		cmocka_unit_test(test_detect_bulk_read_window_slides),
		cmocka_unit_test(test_detect_bulk_objects_just_under_and_over),
		cmocka_unit_test(test_detect_bulk_objects_window_slides),
		cmocka_unit_test(test_detect_bulk_objects_episode_updates),
		cmocka_unit_test(test_detect_episode_updates_not_new_alerts),
		cmocka_unit_test(test_detect_episode_closes_without_tick),
		cmocka_unit_test(test_detect_exfil_needs_prior_collection),
		cmocka_unit_test(test_detect_exfil_updates_on_new_destination),
		cmocka_unit_test(test_detect_exfil_after_close_needs_new_bytes),
		cmocka_unit_test(test_detect_exfil_egress_accumulates_within_lookback),
		cmocka_unit_test(test_detect_exfil_linked_across_sessions_of_one_user),
		cmocka_unit_test(test_detect_user_bulk_across_sessions),
		cmocka_unit_test(test_detect_user_view_muted_while_session_open),
		cmocka_unit_test(test_detect_no_session_never_alerts),
		cmocka_unit_test(test_detect_staging_after_collection),
		cmocka_unit_test(test_detect_staging_needs_collection_and_threshold),
		cmocka_unit_test(test_detect_slow_drip_under_window_thresholds),
		cmocka_unit_test(test_detect_slow_drip_muted_by_bulk),
		cmocka_unit_test(test_detect_baseline_learns_persists_and_flags),
		cmocka_unit_test(test_detect_baseline_needs_three_days_and_minimum),
		cmocka_unit_test(test_detect_evidence_range_covers_contributing_slices),
		cmocka_unit_test(test_detect_reconfigure_keeps_windows),
		cmocka_unit_test(test_detect_tick_expires_idle_subjects),
		cmocka_unit_test(test_detect_many_objects_stay_bounded),
		cmocka_unit_test(test_detect_many_destinations_bounded_updates),
		cmocka_unit_test(test_detect_full_subject_table_still_judges_users),
		cmocka_unit_test(test_detect_ids_unique_per_episode),
		cmocka_unit_test(test_detect_new_rejects_missing_emit),
	};

	return cmocka_run_group_tests_name("detect", tests, NULL, NULL);
}
