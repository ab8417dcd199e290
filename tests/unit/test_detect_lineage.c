// SPDX-License-Identifier: GPL-2.0-only
/* Unit tests for lineage in detection (detect_lineage.c through detect.h): the
 * derived_exfiltration threshold and lookback, origins and hand-off from the graph of
 * lineage steps, a relay outside any session judged on its data's origin (also after
 * its label renewed), a service
 * with no known origin never alerting, episode updates and closing, a reused pid. */
#include "unit.h"
#include "detect/detect.h"

#define S 1000000000ULL
#define MIB (1ULL << 20)
#define T0 (1795800000ULL * S)

static struct alert alerts[64];
static unsigned n_alerts;

static void emit(void *ctx, const struct alert *a)
{
	assert_true(n_alerts < 64);
	alerts[n_alerts++] = *a;
}

static void subject(void *ctx, uint32_t sid, uint32_t uid, struct detect_subject *s)
{
	s->user = uid == 1101 ? "alice" : uid == 1102 ? "bob" : "?";
	s->tty = "pts/1";
	s->remote_host = "";
}

static struct detect *make(void)
{
	struct detect_config c = {
		.window_ns = 600 * S, .bulk_read_bytes = 50 * MIB, .bulk_objects = 100,
		.exfil_bytes = 5 * MIB, .lookback_ns = 3600 * S, .drip_bytes = 200 * MIB,
		.drip_window_ns = 86400 * S, .staging_bytes = 50 * MIB, .baseline_factor = 10,
		.baseline_min_bytes = 100 * MIB,
	};
	struct detect_ops ops = { emit, subject, NULL };
	struct detect *d = detect_new(&c, &ops, NULL);

	assert_non_null(d);
	n_alerts = 0;
	return d;
}

/* A lineage step by pid (session sid, user uid) on object oid with one origin, by a
 * label of the given epoch. */
static void step_epoch(struct detect *d, const char *what, uint32_t pid, uint32_t sid,
		       uint32_t uid, uint64_t oid, const char *name, uint64_t bytes, uint32_t osid,
		       uint32_t ouid, uint64_t ts, uint32_t epoch)
{
	struct event ev = { .kind = EV_LINEAGE, .ts_ns = ts, .pid = pid, .session_id = sid,
			    .loginuid = uid };

	snprintf(ev.comm, sizeof(ev.comm), "p%u", pid);
	ev.lin.step = what;
	ev.lin.object_kind = "file";
	ev.lin.object = name;
	ev.lin.object_id = oid;
	ev.lin.bytes = bytes;
	ev.lin.credit = bytes;
	ev.lin.start_ns = 1000 + pid;
	ev.lin.n_origins = 1;
	ev.lin.origin_session[0] = osid;
	ev.lin.origin_loginuid[0] = ouid;
	ev.lin.epoch = epoch;
	detect_lineage(d, &ev);
}

static void step(struct detect *d, const char *what, uint32_t pid, uint32_t sid, uint32_t uid,
		 uint64_t oid, const char *name, uint64_t bytes, uint32_t osid, uint32_t ouid,
		 uint64_t ts)
{
	step_epoch(d, what, pid, sid, uid, oid, name, bytes, osid, ouid, ts, 0);
}

static void act(struct detect *d, enum activity_kind k, uint32_t pid, uint32_t sid,
		uint32_t uid, uint64_t bytes, const char *obj, uint64_t ts)
{
	struct activity a = { .ts_ns = ts, .first_ns = ts, .session_id = sid, .loginuid = uid,
			      .pid = pid, .kind = k, .bytes = bytes, .object = obj, .comm = "x",
			      .dst_ip = k == ACT_DERIVED_EGRESS ? "203.0.113.9" : NULL,
			      .dst_port = 443 };

	detect_feed(d, &a);
}

/* alice (session 1) reads a source and writes a shared file; bob (session 2) reads it. */
static void hand_off(struct detect *d)
{
	act(d, ACT_SOURCE_FILE, 10, 1, 1101, 6 * MIB, "/srv/crm/a.csv", T0);
	step(d, "write", 10, 1, 1101, 77, "/share/x.csv", 6 * MIB, 1, 1101, T0 + S);
	step(d, "read", 20, 2, 1102, 77, "/share/x.csv", 6 * MIB, 1, 1101, T0 + 2 * S);
	step(d, "send", 20, 2, 1102, 0, "203.0.113.9:443", 6 * MIB, 1, 1101, T0 + 3 * S);
}

static void test_detect_lineage_hand_off_names_origin(void **state)
{
	struct detect *d = make();
	const struct alert *a;

	hand_off(d);
	act(d, ACT_DERIVED_EGRESS, 20, 2, 1102, 5 * MIB, NULL, T0 + 3 * S);
	assert_int_equal(n_alerts, 0);
	act(d, ACT_DERIVED_EGRESS, 20, 2, 1102, 1, NULL, T0 + 4 * S);
	assert_int_equal(n_alerts, 1);
	a = &alerts[0];
	assert_int_equal(a->rule, RULE_DERIVED_EXFIL);
	assert_string_equal(alert_rule_name(a->rule), "derived_exfiltration");
	assert_int_equal(a->session_id, 2);
	assert_string_equal(a->user, "bob");
	assert_int_equal(a->egress_bytes, 5 * MIB + 1);
	assert_int_equal(a->n_origins, 1);
	assert_int_equal(a->origins[0].session_id, 1);
	assert_string_equal(a->origins[0].user, "alice");
	assert_true(a->hand_off);
	assert_int_equal(a->n_sources, 1);
	assert_string_equal(a->sources[0].name, "/srv/crm/a.csv");
	assert_int_equal(a->n_chain, 3);
	assert_non_null(strstr(a->chain[0].name, "p10[10] session 1"));
	assert_string_equal(a->chain[1].name, "file /share/x.csv");
	assert_non_null(strstr(a->chain[2].name, "p20[20] session 2"));
	assert_string_equal(a->destinations[0].name, "203.0.113.9:443");
	detect_free(d);
}

static void test_detect_lineage_own_data_is_no_hand_off(void **state)
{
	struct detect *d = make();

	act(d, ACT_SOURCE_FILE, 10, 1, 1101, 6 * MIB, "/srv/crm/a.csv", T0);
	act(d, ACT_DERIVED_EGRESS, 10, 1, 1101, 6 * MIB, NULL, T0 + S);
	assert_int_equal(n_alerts, 1);
	assert_false(alerts[0].hand_off);
	assert_int_equal(alerts[0].origins[0].session_id, 1);
	detect_free(d);
}

static void test_detect_lineage_relay_judged_on_origin(void **state)
{
	struct detect *d = make();

	step(d, "write", 10, 1, 1101, 99, "unix socket 1", 6 * MIB, 1, 1101, T0);
	step(d, "read", 30, SESSION_NONE, LOGINUID_NONE, 99, "unix socket 1", 6 * MIB, 1, 1101,
	     T0 + S);
	act(d, ACT_DERIVED_EGRESS, 30, SESSION_NONE, LOGINUID_NONE, 6 * MIB, NULL, T0 + 2 * S);
	assert_int_equal(n_alerts, 1);
	assert_int_equal(alerts[0].session_id, 1);
	assert_string_equal(alerts[0].user, "alice");
	assert_true(alerts[0].hand_off);
	detect_free(d);
}

/* The relay's label renewed (a new epoch) for bob's request after alice's had all gone
 * out. Both requests were the same size, so the credit in the kernel's report did not
 * shrink: only the epoch says alice's origin is gone, and bob's upload is his alone. */
static void test_detect_lineage_renewed_relay_judged_on_new_origin(void **state)
{
	struct detect *d = make();

	step(d, "read", 30, SESSION_NONE, LOGINUID_NONE, 99, "unix socket 1", 6 * MIB, 1, 1101,
	     T0);
	act(d, ACT_DERIVED_EGRESS, 30, SESSION_NONE, LOGINUID_NONE, 6 * MIB, NULL, T0 + S);
	assert_int_equal(n_alerts, 1);
	assert_int_equal(alerts[0].session_id, 1);
	step_epoch(d, "read", 30, SESSION_NONE, LOGINUID_NONE, 98, "unix socket 2", 6 * MIB, 2,
		   1102, T0 + 2 * S, 1);
	act(d, ACT_DERIVED_EGRESS, 30, SESSION_NONE, LOGINUID_NONE, 6 * MIB, NULL, T0 + 3 * S);
	assert_int_equal(n_alerts, 2);
	assert_int_equal(alerts[1].session_id, 2);
	assert_string_equal(alerts[1].user, "bob");
	assert_int_equal(alerts[1].n_origins, 1);
	assert_int_equal(alerts[1].origins[0].session_id, 2);
	detect_free(d);
}

static void test_detect_lineage_service_without_origin_never_alerts(void **state)
{
	struct detect *d = make();

	act(d, ACT_SOURCE_FILE, 40, SESSION_NONE, LOGINUID_NONE, 60 * MIB, "/srv/crm/a.csv", T0);
	act(d, ACT_DERIVED_EGRESS, 40, SESSION_NONE, LOGINUID_NONE, 60 * MIB, NULL, T0 + S);
	act(d, ACT_DERIVED_EGRESS, 41, SESSION_NONE, LOGINUID_NONE, 60 * MIB, NULL, T0 + S);
	assert_int_equal(n_alerts, 0);
	detect_free(d);
}

static void test_detect_lineage_lookback_and_episode(void **state)
{
	struct detect *d = make();

	hand_off(d);
	act(d, ACT_DERIVED_EGRESS, 20, 2, 1102, 3 * MIB, NULL, T0 + 3 * S);
	/* Past the lookback the first 3 MiB no longer count. */
	act(d, ACT_DERIVED_EGRESS, 20, 2, 1102, 3 * MIB, NULL, T0 + 3 * S + 3700 * S);
	assert_int_equal(n_alerts, 0);
	act(d, ACT_DERIVED_EGRESS, 20, 2, 1102, 3 * MIB, NULL, T0 + 3 * S + 3701 * S);
	assert_int_equal(n_alerts, 1);
	/* Less than a tenth more: no update; more: revision 2 of the same episode. */
	act(d, ACT_DERIVED_EGRESS, 20, 2, 1102, 100, NULL, T0 + 3 * S + 3702 * S);
	assert_int_equal(n_alerts, 1);
	act(d, ACT_DERIVED_EGRESS, 20, 2, 1102, 2 * MIB, NULL, T0 + 3 * S + 3703 * S);
	assert_int_equal(n_alerts, 2);
	assert_int_equal(alerts[1].id, alerts[0].id);
	assert_int_equal(alerts[1].revision, 2);
	/* Quiet for the window closes it; the next crossing is a new episode. */
	detect_tick(d, T0 + 3 * S + 3703 * S + 601 * S);
	act(d, ACT_DERIVED_EGRESS, 20, 2, 1102, 6 * MIB, NULL, T0 + 3 * S + 4400 * S);
	assert_int_equal(n_alerts, 3);
	assert_int_not_equal(alerts[2].id, alerts[0].id);
	assert_int_equal(alerts[2].revision, 1);
	detect_free(d);
}

static void test_detect_lineage_reused_pid_starts_clean(void **state)
{
	struct detect *d = make();
	struct event ev = { .kind = EV_LINEAGE, .ts_ns = T0 + 5 * S, .pid = 20,
			    .session_id = 2, .loginuid = 1102 };

	hand_off(d);
	/* pid 20 again, another process (start time): its old links must not show. */
	ev.lin.step = "send";
	ev.lin.object_kind = "peer";
	ev.lin.object = "203.0.113.9:443";
	ev.lin.credit = 6 * MIB;
	ev.lin.start_ns = 99999;
	detect_lineage(d, &ev);
	act(d, ACT_DERIVED_EGRESS, 20, 2, 1102, 6 * MIB, NULL, T0 + 6 * S);
	assert_int_equal(n_alerts, 1);
	assert_int_equal(alerts[0].n_chain, 1);
	assert_false(alerts[0].hand_off);
	detect_free(d);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_detect_lineage_hand_off_names_origin),
		cmocka_unit_test(test_detect_lineage_own_data_is_no_hand_off),
		cmocka_unit_test(test_detect_lineage_relay_judged_on_origin),
		cmocka_unit_test(test_detect_lineage_renewed_relay_judged_on_new_origin),
		cmocka_unit_test(test_detect_lineage_service_without_origin_never_alerts),
		cmocka_unit_test(test_detect_lineage_lookback_and_episode),
		cmocka_unit_test(test_detect_lineage_reused_pid_starts_clean),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
