// SPDX-License-Identifier: GPL-2.0-only
/* Unit tests for output_json.c: every ECS and exfilmon field of an alert, every activity
 * field, hostile strings (quotes, newlines, control characters, invalid UTF-8, backslashes)
 * parsed back with jansson and compared, and the \xNN escaping decoded back to the bytes. */
#include <stdbool.h>

#include <jansson.h>

#include "unit.h"
#include "output_json.h"

static json_t *parse_line(const char *s)
{
	json_error_t err;
	json_t *o;

	assert_non_null(s);
	/* One line: a raw newline would split the record in a JSON-lines file. */
	assert_null(strchr(s, '\n'));
	o = json_loads(s, JSON_REJECT_DUPLICATES, &err);
	if (!o)
		fail_msg("not JSON: %s: %s", err.text, s);
	return o;
}

static const char *get_str(json_t *o, const char *path)
{
	char key[64], *dot;

	snprintf(key, sizeof(key), "%s", path);
	while ((dot = strchr(key, '.'))) {
		*dot = '\0';
		o = json_object_get(o, key);
		memmove(key, dot + 1, strlen(dot + 1) + 1);
	}
	o = json_object_get(o, key);
	if (!json_is_string(o))
		fail_msg("%s is not a string", path);
	return json_string_value(o);
}

static json_int_t get_int(json_t *o, const char *a, const char *b)
{
	json_t *v = json_object_get(b ? json_object_get(o, a) : o, b ? b : a);

	if (!json_is_integer(v))
		fail_msg("%s.%s is not an integer", a, b ? b : "");
	return json_integer_value(v);
}

/* Inverse of output_sanitize_utf8: every backslash starts "\xNN". */
static size_t unescape(const char *in, char *out)
{
	size_t o = 0;

	for (; *in; o++) {
		if (*in == '\\') {
			assert_int_equal(in[1], 'x');
			out[o] = (char)strtoul((char[3]){ in[2], in[3], 0 }, NULL, 16);
			in += 4;
		} else {
			out[o] = *in++;
		}
	}
	return o;
}

static void test_output_sanitize_utf8_keeps_valid_escapes_invalid(void **state)
{
	char out[64];

	output_sanitize_utf8("caf\xc3\xa9 \xf0\x9f\x93\x81", 10, out, sizeof(out));
	assert_string_equal(out, "caf\xc3\xa9 \xf0\x9f\x93\x81");
	output_sanitize_utf8("a\xff" "b\xc0\xaf", 5, out, sizeof(out)); /* overlong '/' */
	assert_string_equal(out, "a\\xffb\\xc0\\xaf");
	output_sanitize_utf8("\xed\xa0\x80", 3, out, sizeof(out)); /* a UTF-16 surrogate */
	assert_string_equal(out, "\\xed\\xa0\\x80");
	output_sanitize_utf8("x\xf0\x9f\x93", 4, out, sizeof(out)); /* sequence cut short */
	assert_string_equal(out, "x\\xf0\\x9f\\x93");
	output_sanitize_utf8("\xf4\x90\x80\x80", 4, out, sizeof(out)); /* above U+10FFFF */
	assert_string_equal(out, "\\xf4\\x90\\x80\\x80");
}

static void test_output_sanitize_utf8_escapes_backslash(void **state)
{
	char out[64];

	/* A file literally named "a\xff" must not read as the byte 0xff. */
	output_sanitize_utf8("a\\xff", 5, out, sizeof(out));
	assert_string_equal(out, "a\\x5cxff");
}

static void test_output_sanitize_utf8_truncates_whole_units(void **state)
{
	char out[8];

	output_sanitize_utf8("abcdefghij", 10, out, 4);
	assert_string_equal(out, "abc");
	/* 5 bytes of room for "ab" + escape: the escape does not fit whole, so it is left out. */
	output_sanitize_utf8("ab\xff", 3, out, 6);
	assert_string_equal(out, "ab");
	output_sanitize_utf8("ab\xc3\xa9", 4, out, 4);
	assert_string_equal(out, "ab");
	output_sanitize_utf8("stop\0here", 9, out, sizeof(out));
	assert_string_equal(out, "stop");
	out[0] = 'z';
	output_sanitize_utf8("abc", 3, out, 0);
	assert_int_equal(out[0], 'z');
}

static void test_output_sanitize_utf8_round_trips_any_bytes(void **state)
{
	char in[200], out[1024], back[200];
	json_t *js;

	srand(42);
	for (int round = 0; round < 2000; round++) {
		size_t n = 1 + (size_t)rand() % sizeof(in);

		for (size_t i = 0; i < n; i++)
			in[i] = (char)(1 + rand() % 255);
		output_sanitize_utf8(in, n, out, sizeof(out));
		assert_int_equal(unescape(out, back), n);
		assert_memory_equal(back, in, n);
		js = json_string(out);
		if (!js)
			fail_msg("jansson refused %s", out);
		json_decref(js);
	}
}

static void test_output_activity_json_hostile_path(void **state)
{
	struct activity a = {
		.ts_ns = 2000000000, .first_ns = 1000000000, .session_id = 7, .loginuid = 1001,
		.uid = 1002, .pid = 42, .kind = ACT_EGRESS_NET, .bytes = 123, .ops = 2,
		.object = "/tmp/\"quoted\"\nnew\xfeline\x01\x1b[31m", .comm = "cu\trl",
		.exe = "/usr/bin/curl", .dst_ip = "127.0.0.77", .dst_port = 8080,
	};
	char *s = output_activity_json(&a);
	json_t *o = parse_line(s);

	assert_string_equal(get_str(o, "object"), "/tmp/\"quoted\"\nnew\\xfeline\x01\x1b[31m");
	assert_string_equal(get_str(o, "comm"), "cu\trl");
	assert_string_equal(get_str(o, "exe"), "/usr/bin/curl");
	assert_string_equal(get_str(o, "event"), "activity");
	assert_string_equal(get_str(o, "kind"), "egress_net");
	assert_string_equal(get_str(o, "dst_ip"), "127.0.0.77");
	assert_int_equal(get_int(o, "session_id", NULL), 7);
	assert_int_equal(get_int(o, "loginuid", NULL), 1001);
	assert_int_equal(get_int(o, "uid", NULL), 1002);
	assert_int_equal(get_int(o, "pid", NULL), 42);
	assert_int_equal(get_int(o, "bytes", NULL), 123);
	assert_int_equal(get_int(o, "ops", NULL), 2);
	assert_int_equal(get_int(o, "first_ns", NULL), 1000000000);
	assert_int_equal(get_int(o, "last_ns", NULL), 2000000000);
	assert_int_equal(get_int(o, "dst_port", NULL), 8080);
	assert_null(json_object_get(o, "mount"));
	assert_int_equal(json_object_size(o), 15);
	json_decref(o);
	free(s);
}

static void test_output_activity_json_no_session_is_null(void **state)
{
	struct activity a = { .session_id = SESSION_NONE, .loginuid = LOGINUID_NONE,
			      .kind = ACT_SOURCE_FILE, .object = "/x" };
	char *s = output_activity_json(&a);
	json_t *o = parse_line(s);

	assert_true(json_is_null(json_object_get(o, "session_id")));
	assert_true(json_is_null(json_object_get(o, "exe")));
	assert_true(json_is_null(json_object_get(o, "comm")));
	assert_null(json_object_get(o, "dst_ip"));
	assert_null(json_object_get(o, "dst_port"));
	json_decref(o);
	free(s);
}

static void test_output_activity_json_every_kind_and_mount(void **state)
{
	static const char *const names[] = { "unknown", "source_file", "source_net", "egress_net",
					     "egress_media", "egress_sync", "staging",
					     "mmap_source", "unknown" };

	for (int k = 0; k <= ACT_MMAP_SOURCE + 1; k++) {
		struct activity a = { .kind = k, .object = "/media/usb/x", .mount = "/media/usb" };
		char *s = output_activity_json(&a);
		json_t *o = parse_line(s);

		assert_string_equal(get_str(o, "kind"), names[k]);
		assert_string_equal(get_str(o, "mount"), "/media/usb");
		json_decref(o);
		free(s);
	}
}

static void fill_alert(struct alert *a)
{
	*a = (struct alert){
		.id = 9, .rule = RULE_EXFIL, .revision = 2, .start_ns = 1795850000000000000ULL,
		.end_ns = 1795850001000000000ULL, .raised_ns = 1795850001500000000ULL,
		.session_id = 3, .loginuid = 1101, .source_bytes = 100, .source_objects = 4,
		.egress_bytes = 50, .threshold = 5242880, .baseline_bytes = 1.5,
		.n_sources = 2, .n_destinations = 1, .n_processes = 2,
		.evidence_first_seq = 17, .evidence_last_seq = 99,
	};
	strcpy(a->user, "alice");
	strcpy(a->tty, "pts/3");
	strcpy(a->remote_host, "10.9.8.7");
	strcpy(a->sources[0].name, "/srv/crm/a \"b\"\n\xff.csv");
	a->sources[0].bytes = 80;
	strcpy(a->sources[1].name, "127.0.0.2:5432");
	a->sources[1].bytes = 20;
	strcpy(a->destinations[0].name, "127.0.0.77:8080");
	a->destinations[0].bytes = 50;
	strcpy(a->processes[0].name, "curl");
	a->processes[0].pid = 77;
	a->processes[0].bytes = 50;
	strcpy(a->processes[1].name, "psql");
	a->processes[1].pid = 76;
	a->processes[1].bytes = 20;
	memset(a->config_sha256, 'a', 64);
}

static void assert_items(json_t *arr, const struct alert_item *v, unsigned n, bool pid)
{
	assert_int_equal(json_array_size(arr), n);
	for (unsigned i = 0; i < n; i++) {
		json_t *it = json_array_get(arr, i);
		char want[1024];

		output_sanitize_utf8(v[i].name, strlen(v[i].name), want, sizeof(want));
		assert_string_equal(get_str(it, "name"), want);
		assert_int_equal(get_int(it, "bytes", NULL), v[i].bytes);
		if (pid)
			assert_int_equal(get_int(it, "pid", NULL), v[i].pid);
		else
			assert_null(json_object_get(it, "pid"));
	}
}

static void test_output_alert_json_ecs_fields(void **state)
{
	struct alert a;
	json_t *o, *x, *cat;
	char *s;

	fill_alert(&a);
	s = output_alert_json_exe(&a, "ws-17", "/usr/bin/curl");
	o = parse_line(s);
	assert_string_equal(get_str(o, "@timestamp"), "2026-11-28T07:13:21.500Z");
	assert_string_equal(get_str(o, "event.kind"), "alert");
	assert_string_equal(get_str(o, "event.action"), "exfiltration");
	assert_string_equal(get_str(o, "event.id"), "9");
	assert_int_equal(get_int(o, "event", "sequence"), 2);
	assert_string_equal(get_str(o, "event.start"), "2026-11-28T07:13:20.000Z");
	assert_string_equal(get_str(o, "event.end"), "2026-11-28T07:13:21.000Z");
	cat = json_object_get(json_object_get(o, "event"), "category");
	assert_int_equal(json_array_size(cat), 2);
	assert_string_equal(json_string_value(json_array_get(cat, 0)), "file");
	assert_string_equal(json_string_value(json_array_get(cat, 1)), "network");
	assert_string_equal(get_str(o, "rule.name"), "exfiltration");
	assert_non_null(strstr(get_str(o, "rule.description"), "Exfiltration"));
	assert_string_equal(get_str(o, "user.name"), "alice");
	assert_string_equal(get_str(o, "user.id"), "1101");
	assert_string_equal(get_str(o, "host.name"), "ws-17");
	assert_int_equal(get_int(o, "process", "pid"), 77);
	assert_string_equal(get_str(o, "process.name"), "curl");
	assert_string_equal(get_str(o, "process.executable"), "/usr/bin/curl");
	assert_string_equal(get_str(o, "file.path"), "/srv/crm/a \"b\"\n\\xff.csv");
	assert_string_equal(get_str(o, "destination.ip"), "127.0.0.77");
	assert_int_equal(get_int(o, "destination", "port"), 8080);
	assert_int_equal(json_object_size(o), 9);

	x = json_object_get(o, "exfilmon");
	assert_int_equal(get_int(x, "alert_id", NULL), 9);
	assert_int_equal(get_int(x, "revision", NULL), 2);
	assert_int_equal(get_int(x, "session_id", NULL), 3);
	assert_int_equal(get_int(x, "loginuid", NULL), 1101);
	assert_string_equal(get_str(x, "tty"), "pts/3");
	assert_string_equal(get_str(x, "remote_host"), "10.9.8.7");
	assert_string_equal(get_str(x, "episode_start"), "2026-11-28T07:13:20.000Z");
	assert_string_equal(get_str(x, "episode_end"), "2026-11-28T07:13:21.000Z");
	assert_int_equal(get_int(x, "source_bytes", NULL), 100);
	assert_int_equal(get_int(x, "source_objects", NULL), 4);
	assert_int_equal(get_int(x, "egress_bytes", NULL), 50);
	assert_int_equal(get_int(x, "threshold", NULL), 5242880);
	assert_true(json_real_value(json_object_get(x, "baseline_bytes")) == 1.5);
	assert_items(json_object_get(x, "sources"), a.sources, a.n_sources, false);
	assert_items(json_object_get(x, "destinations"), a.destinations, a.n_destinations, false);
	assert_items(json_object_get(x, "processes"), a.processes, a.n_processes, true);
	assert_int_equal(get_int(x, "evidence_first_seq", NULL), 17);
	assert_int_equal(get_int(x, "evidence_last_seq", NULL), 99);
	assert_string_equal(get_str(x, "config_sha256"), a.config_sha256);
	assert_int_equal(json_object_size(x), 19);
	json_decref(o);
	free(s);
}

static void test_output_alert_json_user_rule_without_session(void **state)
{
	struct alert a;
	json_t *o;
	char *s;

	fill_alert(&a);
	a.rule = RULE_BASELINE;
	a.session_id = SESSION_NONE;
	a.n_destinations = 0;
	a.n_processes = 0;
	a.sources[0] = a.sources[1]; /* top source a service: no file.path */
	a.n_sources = 1;
	s = output_alert_json(&a, "ws-17");
	o = parse_line(s);
	assert_true(json_is_null(json_object_get(json_object_get(o, "exfilmon"), "session_id")));
	assert_string_equal(get_str(o, "user.name"), "alice");
	assert_string_equal(get_str(o, "rule.name"), "baseline_deviation");
	assert_null(json_object_get(o, "process"));
	assert_null(json_object_get(o, "file"));
	assert_null(json_object_get(o, "destination"));
	assert_string_equal(json_string_value(json_array_get(
				    json_object_get(json_object_get(o, "event"), "category"), 0)),
			    "network");
	json_decref(o);
	free(s);
}

static void test_output_alert_json_media_and_ipv6_destinations(void **state)
{
	struct alert a;
	json_t *o, *cat;
	char *s;

	fill_alert(&a);
	a.n_sources = 1;
	strcpy(a.destinations[0].name, "/media/usb0");
	s = output_alert_json(&a, "ws-17");
	o = parse_line(s);
	assert_null(json_object_get(o, "destination"));
	assert_null(json_object_get(json_object_get(o, "process"), "executable"));
	cat = json_object_get(json_object_get(o, "event"), "category");
	assert_int_equal(json_array_size(cat), 1);
	assert_string_equal(json_string_value(json_array_get(cat, 0)), "file");
	json_decref(o);
	free(s);

	strcpy(a.destinations[0].name, "[2001:db8::7]:443");
	s = output_alert_json(&a, "ws-17");
	o = parse_line(s);
	assert_string_equal(get_str(o, "destination.ip"), "2001:db8::7");
	assert_int_equal(get_int(o, "destination", "port"), 443);
	json_decref(o);
	free(s);
}

static void test_output_alert_json_hostile_user_and_host(void **state)
{
	struct alert a;
	json_t *o;
	char *s;

	fill_alert(&a);
	strcpy(a.user, "ev\"il\n\xc3");
	strcpy(a.tty, "pts/\x7f");
	s = output_alert_json(&a, "host\\name");
	o = parse_line(s);
	assert_string_equal(get_str(o, "user.name"), "ev\"il\n\\xc3");
	assert_string_equal(get_str(o, "host.name"), "host\\x5cname");
	assert_string_equal(get_str(json_object_get(o, "exfilmon"), "tty"), "pts/\x7f");
	json_decref(o);
	free(s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_output_sanitize_utf8_keeps_valid_escapes_invalid),
		cmocka_unit_test(test_output_sanitize_utf8_escapes_backslash),
		cmocka_unit_test(test_output_sanitize_utf8_truncates_whole_units),
		cmocka_unit_test(test_output_sanitize_utf8_round_trips_any_bytes),
		cmocka_unit_test(test_output_activity_json_hostile_path),
		cmocka_unit_test(test_output_activity_json_no_session_is_null),
		cmocka_unit_test(test_output_activity_json_every_kind_and_mount),
		cmocka_unit_test(test_output_alert_json_ecs_fields),
		cmocka_unit_test(test_output_alert_json_user_rule_without_session),
		cmocka_unit_test(test_output_alert_json_media_and_ipv6_destinations),
		cmocka_unit_test(test_output_alert_json_hostile_user_and_host),
	};

	return cmocka_run_group_tests_name("output_json", tests, NULL, NULL);
}
