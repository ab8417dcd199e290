// SPDX-License-Identifier: GPL-2.0-only
/* Unit tests for output_json.c: ECS alert fields, activity fields, hostile strings. */
#include <jansson.h>

#include "unit.h"
#include "output_json.h"

static void test_output_sanitize_utf8_keeps_valid_escapes_invalid(void **state)
{
	char out[64];

	output_sanitize_utf8("caf\xc3\xa9", 5, out, sizeof(out));
	assert_string_equal(out, "caf\xc3\xa9");
	output_sanitize_utf8("a\xff" "b\xc0\xaf", 5, out, sizeof(out));
	assert_string_equal(out, "a\\xffb\\xc0\\xaf");
	output_sanitize_utf8("\xed\xa0\x80", 3, out, sizeof(out)); /* a UTF-16 surrogate */
	assert_string_equal(out, "\\xed\\xa0\\x80");
	output_sanitize_utf8("abcdef", 6, out, 4);
	assert_string_equal(out, "abc");
}

static void test_output_activity_json_hostile_path(void **state)
{
	struct activity a = {
		.ts_ns = 2000000000, .first_ns = 1000000000, .session_id = 7, .loginuid = 1001,
		.uid = 1001, .pid = 42, .kind = ACT_EGRESS_NET, .bytes = 123, .ops = 2,
		.object = "/tmp/\"quoted\"\nnew\xfeline", .comm = "cu\trl", .dst_ip = "127.0.0.77",
		.dst_port = 8080,
	};
	char *s = output_activity_json(&a);
	json_t *o = json_loads(s, 0, NULL);

	assert_non_null(o);
	assert_null(strchr(s, '\n'));
	assert_string_equal(json_string_value(json_object_get(o, "object")),
			    "/tmp/\"quoted\"\nnew\\xfeline");
	assert_string_equal(json_string_value(json_object_get(o, "kind")), "egress_net");
	assert_int_equal(json_integer_value(json_object_get(o, "session_id")), 7);
	assert_int_equal(json_integer_value(json_object_get(o, "bytes")), 123);
	assert_int_equal(json_integer_value(json_object_get(o, "dst_port")), 8080);
	json_decref(o);
	free(s);
}

static void test_output_activity_json_no_session_is_null(void **state)
{
	struct activity a = { .session_id = SESSION_NONE, .kind = ACT_SOURCE_FILE, .object = "/x" };
	char *s = output_activity_json(&a);
	json_t *o = json_loads(s, 0, NULL);

	assert_true(json_is_null(json_object_get(o, "session_id")));
	json_decref(o);
	free(s);
}

static void test_output_alert_json_ecs_fields(void **state)
{
	struct alert a = {
		.id = 9, .rule = RULE_EXFIL, .revision = 2, .start_ns = 1795850000000000000ULL,
		.end_ns = 1795850001000000000ULL, .raised_ns = 1795850001500000000ULL,
		.session_id = 3, .loginuid = 1101, .source_bytes = 100, .egress_bytes = 50,
		.n_sources = 1, .n_destinations = 1, .n_processes = 1,
	};
	json_t *o, *x;
	char *s;

	strcpy(a.user, "alice");
	strcpy(a.sources[0].name, "/srv/crm/a.csv");
	strcpy(a.destinations[0].name, "127.0.0.77:8080");
	strcpy(a.processes[0].name, "curl");
	a.processes[0].pid = 77;
	strcpy(a.config_sha256, "ab");
	s = output_alert_json(&a, "ws-17");
	o = json_loads(s, 0, NULL);
	assert_non_null(o);
	x = json_object_get(o, "exfilmon");
	assert_string_equal(json_string_value(json_object_get(o, "@timestamp")),
			    "2026-11-28T07:13:21.500Z");
	assert_string_equal(json_string_value(json_object_get(json_object_get(o, "event"), "kind")), "alert");
	assert_string_equal(json_string_value(json_object_get(json_object_get(o, "rule"), "name")), "exfiltration");
	assert_string_equal(json_string_value(json_object_get(json_object_get(o, "user"), "name")), "alice");
	assert_string_equal(json_string_value(json_object_get(json_object_get(o, "user"), "id")), "1101");
	assert_string_equal(json_string_value(json_object_get(json_object_get(o, "host"), "name")), "ws-17");
	assert_string_equal(json_string_value(json_object_get(json_object_get(o, "destination"), "ip")), "127.0.0.77");
	assert_int_equal(json_integer_value(json_object_get(json_object_get(o, "destination"), "port")), 8080);
	assert_string_equal(json_string_value(json_object_get(json_object_get(o, "file"), "path")), "/srv/crm/a.csv");
	assert_int_equal(json_integer_value(json_object_get(json_object_get(o, "process"), "pid")), 77);
	assert_int_equal(json_integer_value(json_object_get(x, "session_id")), 3);
	assert_int_equal(json_integer_value(json_object_get(x, "revision")), 2);
	assert_string_equal(json_string_value(json_object_get(x, "config_sha256")), "ab");
	json_decref(o);
	free(s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_output_sanitize_utf8_keeps_valid_escapes_invalid),
		cmocka_unit_test(test_output_activity_json_hostile_path),
		cmocka_unit_test(test_output_activity_json_no_session_is_null),
		cmocka_unit_test(test_output_alert_json_ecs_fields),
	};

	return cmocka_run_group_tests_name("output_json", tests, NULL, NULL);
}
