// SPDX-License-Identifier: GPL-2.0-only
/* Unit tests for detection: each rule's thresholds and windows with a clock the test
 * controls, episode deduplication, per-user linking, services never alerting, baselines
 * that persist. */
#include <unistd.h>

#include "unit.h"
#include "detect.h"

#define S 1000000000ULL
#define MIB (1ULL << 20)
#define T0 (1795800000ULL * S) /* a fixed wall-clock start */

static struct alert alerts[64];
static unsigned n_alerts;

static void emit(void *ctx, const struct alert *a)
{
	if (n_alerts < 64)
		alerts[n_alerts++] = *a;
}

static void subject(void *ctx, uint32_t sid, uint32_t uid, struct detect_subject *s)
{
	s->user = uid == 1101 ? "alice" : "bob";
	s->tty = "pts/1";
	s->remote_host = "10.1.2.3";
}

static struct detect_config cfg(void)
{
	return (struct detect_config){
		.window_ns = 600 * S, .bulk_read_bytes = 50 * MIB, .bulk_objects = 100,
		.exfil_bytes = 5 * MIB, .lookback_ns = 86400 * S, .drip_bytes = 200 * MIB,
		.drip_window_ns = 86400 * S, .staging_bytes = 50 * MIB, .baseline_factor = 10,
		.baseline_min_bytes = 100 * MIB,
	};
}

static struct detect *make(const struct detect_config *c, const char *state)
{
	struct detect_ops ops = { emit, subject, NULL };

	n_alerts = 0;
	return detect_new(c, &ops, state);
}

static void feed(struct detect *d, uint32_t sid, uint32_t uid, enum activity_kind k, uint64_t ts,
		 uint64_t bytes, uint64_t obj)
{
	struct activity a = { .ts_ns = ts, .first_ns = ts, .session_id = sid, .loginuid = uid,
			      .pid = 100 + sid, .kind = k, .bytes = bytes, .object_id = obj,
			      .object = "/srv/crm/x.csv", .comm = "psql" };

	if (k == ACT_EGRESS_NET) {
		a.dst_ip = "127.0.0.77";
		a.dst_port = 8080;
		a.object = "127.0.0.77:8080";
	}
	detect_feed(d, &a);
}

static unsigned count(enum alert_rule r)
{
	unsigned n = 0;

	for (unsigned i = 0; i < n_alerts; i++)
		n += alerts[i].rule == r && alerts[i].revision == 1;
	return n;
}

static void test_detect_bulk_read_just_under_and_over(void **state)
{
	struct detect_config c = cfg();
	struct detect *d = make(&c, NULL);

	feed(d, 1, 1101, ACT_SOURCE_FILE, T0, 50 * MIB, 1);
	assert_int_equal(count(RULE_BULK_READ), 0);
	feed(d, 1, 1101, ACT_SOURCE_FILE, T0 + S, 1, 1);
	assert_int_equal(count(RULE_BULK_READ), 1);
	assert_string_equal(alerts[0].user, "alice");
	assert_string_equal(alerts[0].tty, "pts/1");
	assert_int_equal(alerts[0].session_id, 1);
	assert_int_equal(alerts[0].threshold, 50 * MIB);
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

static void test_detect_bulk_objects(void **state)
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
	detect_free(d);
}

static void test_detect_episode_updates_not_new_alerts(void **state)
{
	struct detect_config c = cfg();
	struct detect *d = make(&c, NULL);
	unsigned revisions = 0;

	for (int i = 0; i < 200; i++)
		feed(d, 1, 1101, ACT_SOURCE_FILE, T0 + i * S, MIB, 1);
	assert_int_equal(count(RULE_BULK_READ), 1);
	for (unsigned i = 0; i < n_alerts; i++)
		revisions = alerts[i].revision > revisions ? alerts[i].revision : revisions;
	/* 51 MiB .. 200 MiB in 10% steps: a handful of revisions, never one per event. */
	assert_true(revisions > 3 && revisions < 20);
	assert_int_equal(alerts[n_alerts - 1].id, alerts[0].id);
	/* Quiet for longer than the window closes the episode; the next one is new. */
	detect_tick(d, T0 + 200 * S + 601 * S);
	feed(d, 1, 1101, ACT_SOURCE_FILE, T0 + 900 * S, 60 * MIB, 1);
	assert_int_equal(count(RULE_BULK_READ), 2);
	assert_true(alerts[n_alerts - 1].id != alerts[0].id);
	detect_free(d);
}

static void test_detect_exfil_needs_prior_collection(void **state)
{
	struct detect_config c = cfg();
	struct detect *d = make(&c, NULL);

	feed(d, 1, 1101, ACT_EGRESS_NET, T0, 20 * MIB, 0);
	assert_int_equal(count(RULE_EXFIL), 0);
	feed(d, 1, 1101, ACT_SOURCE_NET, T0 + S, 60 * MIB, 7);
	feed(d, 1, 1101, ACT_EGRESS_NET, T0 + 2 * S, 5 * MIB, 0);
	assert_int_equal(count(RULE_EXFIL), 0);
	feed(d, 1, 1101, ACT_EGRESS_NET, T0 + 3 * S, 1, 0);
	assert_int_equal(count(RULE_EXFIL), 1);
	assert_string_equal(alerts[n_alerts - 1].destinations[0].name, "127.0.0.77:8080");
	assert_int_equal(alerts[n_alerts - 1].egress_bytes, 5 * MIB + 1);
	detect_free(d);
}

static void test_detect_exfil_linked_across_sessions_of_one_user(void **state)
{
	struct detect_config c = cfg();
	struct detect *d = make(&c, NULL);

	feed(d, 1, 1101, ACT_SOURCE_FILE, T0, 60 * MIB, 1);
	/* Next day, alice logs in again and uploads: linked by user within the lookback. */
	feed(d, 2, 1101, ACT_EGRESS_MEDIA, T0 + 20 * 3600 * S, 6 * MIB, 0);
	assert_int_equal(count(RULE_EXFIL), 1);
	assert_int_equal(alerts[n_alerts - 1].session_id, 2);
	/* Bob's upload is not linked to alice's collection. */
	feed(d, 3, 1102, ACT_EGRESS_NET, T0 + 20 * 3600 * S, 60 * MIB, 0);
	assert_int_equal(count(RULE_EXFIL), 1);
	/* Past the lookback nothing links. */
	feed(d, 4, 1101, ACT_EGRESS_NET, T0 + 25 * 3600 * S, 60 * MIB, 0);
	assert_int_equal(count(RULE_EXFIL), 1);
	detect_free(d);
}

static void test_detect_no_session_never_alerts(void **state)
{
	struct detect_config c = cfg();
	struct detect *d = make(&c, NULL);

	feed(d, SESSION_NONE, LOGINUID_NONE, ACT_SOURCE_FILE, T0, 500 * MIB, 1);
	feed(d, SESSION_NONE, LOGINUID_NONE, ACT_EGRESS_NET, T0 + S, 500 * MIB, 1);
	assert_int_equal(n_alerts, 0);
	detect_free(d);
}

static void test_detect_staging_after_collection(void **state)
{
	struct detect_config c = cfg();
	struct detect *d = make(&c, NULL);

	/* The staged file arrives in the same drain before the source bytes: still linked. */
	feed(d, 1, 1101, ACT_STAGING, T0, 70 * MIB, 9);
	assert_int_equal(count(RULE_STAGING), 0);
	feed(d, 1, 1101, ACT_SOURCE_NET, T0 + S, 70 * MIB, 1);
	assert_int_equal(count(RULE_STAGING), 1);
	detect_free(d);
}

static void test_detect_slow_drip_under_window_thresholds(void **state)
{
	struct detect_config c = cfg();
	struct detect *d = make(&c, NULL);

	/* 45 MiB per hour: never 50 MiB in 10 minutes, 225 MiB in 5 hours. */
	for (int h = 0; h < 5; h++)
		feed(d, 1, 1101, ACT_SOURCE_FILE, T0 + h * 3600 * S, 45 * MIB, h);
	assert_int_equal(count(RULE_BULK_READ), 0);
	assert_int_equal(count(RULE_DRIP), 1);
	detect_free(d);
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
	for (int day = 0; day < 4; day++)
		feed(d, 1, 1101, ACT_SOURCE_FILE, T0 + day * 86400 * S, 20 * MIB, 1);
	detect_tick(d, T0 + 4 * 86400 * S);
	assert_int_equal(detect_save(d), 0);
	detect_free(d);
	/* A restart keeps the learned days; a day of 300 MiB is 15x the 20 MiB usual. */
	d = make(&c, path);
	feed(d, 2, 1101, ACT_SOURCE_FILE, T0 + 4 * 86400 * S + S, 150 * MIB, 1);
	assert_int_equal(count(RULE_BASELINE), 0);
	feed(d, 2, 1101, ACT_SOURCE_FILE, T0 + 4 * 86400 * S + 2 * S, 150 * MIB, 1);
	assert_int_equal(count(RULE_BASELINE), 1);
	assert_true(alerts[n_alerts - 1].baseline_bytes > 19.0 * MIB);
	detect_free(d);
	unlink(path);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_detect_bulk_read_just_under_and_over),
		cmocka_unit_test(test_detect_bulk_read_window_slides),
		cmocka_unit_test(test_detect_bulk_objects),
		cmocka_unit_test(test_detect_episode_updates_not_new_alerts),
		cmocka_unit_test(test_detect_exfil_needs_prior_collection),
		cmocka_unit_test(test_detect_exfil_linked_across_sessions_of_one_user),
		cmocka_unit_test(test_detect_no_session_never_alerts),
		cmocka_unit_test(test_detect_staging_after_collection),
		cmocka_unit_test(test_detect_slow_drip_under_window_thresholds),
		cmocka_unit_test(test_detect_baseline_learns_persists_and_flags),
	};

	return cmocka_run_group_tests_name("detect", tests, NULL, NULL);
}
