// SPDX-License-Identifier: GPL-2.0-only
/* Unit tests for output_json.c: every ECS and exfilmon field of an alert, every activity
 * field, hostile strings (quotes, newlines, control characters, invalid UTF-8, backslashes)
 * parsed back with jansson and compared, and the \xNN escaping decoded back to the bytes. */
#include <arpa/inet.h>
#include <limits.h>
#include <regex.h>
#include <stdbool.h>
#include <stdlib.h>

#include <jansson.h>

#include "common/array_size.h"
#include "unit.h"
#include "output/output_json.h"
#include "model/activity_json.h"

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

/* Inverse of json_sanitize_utf8: every backslash starts "\xNN". */
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

	json_sanitize_utf8("caf\xc3\xa9 \xf0\x9f\x93\x81", 10, out, sizeof(out));
	assert_string_equal(out, "caf\xc3\xa9 \xf0\x9f\x93\x81");
	json_sanitize_utf8("a\xff" "b\xc0\xaf", 5, out, sizeof(out)); /* overlong '/' */
	assert_string_equal(out, "a\\xffb\\xc0\\xaf");
	json_sanitize_utf8("\xed\xa0\x80", 3, out, sizeof(out)); /* a UTF-16 surrogate */
	assert_string_equal(out, "\\xed\\xa0\\x80");
	json_sanitize_utf8("x\xf0\x9f\x93", 4, out, sizeof(out)); /* sequence cut short */
	assert_string_equal(out, "x\\xf0\\x9f\\x93");
	json_sanitize_utf8("\xf4\x90\x80\x80", 4, out, sizeof(out)); /* above U+10FFFF */
	assert_string_equal(out, "\\xf4\\x90\\x80\\x80");
}

static void test_output_sanitize_utf8_escapes_backslash(void **state)
{
	char out[64];

	/* A file literally named "a\xff" must not read as the byte 0xff. */
	json_sanitize_utf8("a\\xff", 5, out, sizeof(out));
	assert_string_equal(out, "a\\x5cxff");
}

static void test_output_sanitize_utf8_truncates_whole_units(void **state)
{
	char out[8];

	json_sanitize_utf8("abcdefghij", 10, out, 4);
	assert_string_equal(out, "abc");
	/* 5 bytes of room for "ab" + escape: the escape does not fit whole, so it is left out. */
	json_sanitize_utf8("ab\xff", 3, out, 6);
	assert_string_equal(out, "ab");
	json_sanitize_utf8("ab\xc3\xa9", 4, out, 4);
	assert_string_equal(out, "ab");
	json_sanitize_utf8("stop\0here", 9, out, sizeof(out));
	assert_string_equal(out, "stop");
	out[0] = 'z';
	json_sanitize_utf8("abc", 3, out, 0);
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
		json_sanitize_utf8(in, n, out, sizeof(out));
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
	char *s = activity_json(&a);
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
	char *s = activity_json(&a);
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
		char *s = activity_json(&a);
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

		json_sanitize_utf8(v[i].name, strlen(v[i].name), want, sizeof(want));
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
	/* @timestamp event rule user host agent ecs process file destination exfilmon */
	assert_int_equal(json_object_size(o), 11);

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

/* The ECS reference rows the agent uses (tests/lib/fixtures/ecs_fields.txt). */
struct ecs_ref {
	char field[64][48];
	char type[64][16];
	size_t n;
	char allowed[4][640];        /* "event.kind alert enrichment ..." */
	size_t n_allowed;
};

static void load_ecs_ref(struct ecs_ref *r)
{
	FILE *f = fopen("tests/lib/fixtures/ecs_fields.txt", "r");
	char line[600];

	assert_non_null(f);
	memset(r, 0, sizeof(*r));
	while (fgets(line, sizeof(line), f)) {
		line[strcspn(line, "\n")] = '\0';
		if (line[0] == '#' || !line[0])
			continue;
		if (!strncmp(line, "allowed ", 8)) {
			assert_true(r->n_allowed < 4);
			snprintf(r->allowed[r->n_allowed++], sizeof(r->allowed[0]), "%s ",
				 line + 8);
			continue;
		}
		assert_true(r->n < 64);
		assert_int_equal(sscanf(line, "%47s %15s", r->field[r->n], r->type[r->n]), 2);
		r->n++;
	}
	fclose(f);
}

static const char *ecs_type(const struct ecs_ref *r, const char *field)
{
	for (size_t i = 0; i < r->n; i++)
		if (!strcmp(r->field[i], field))
			return r->type[i];
	return NULL;
}

/* A value allowed for field, or true when the field has no allowed-values list. */
static bool ecs_allowed(const struct ecs_ref *r, const char *field, const char *value)
{
	char needle[128];

	for (size_t i = 0; i < r->n_allowed; i++) {
		size_t len = strlen(field);

		if (strncmp(r->allowed[i], field, len) || r->allowed[i][len] != ' ')
			continue;
		snprintf(needle, sizeof(needle), " %s ", value);
		return strstr(r->allowed[i] + len, needle) != NULL;
	}
	return true;
}

static void check_ecs_value(const struct ecs_ref *r, const char *field, json_t *v)
{
	const char *type = ecs_type(r, field);
	struct in6_addr a6;
	regex_t re;

	if (!type)
		print_error("%s is not in the ECS reference fixture\n", field);
	assert_non_null(type);
	if (!strcmp(type, "long")) {
		assert_true(json_is_integer(v));
	} else if (!strcmp(type, "keyword")) {
		assert_true(json_is_string(v));
		if (!ecs_allowed(r, field, json_string_value(v)))
			print_error("%s: '%s' is not an allowed value\n", field, json_string_value(v));
		assert_true(ecs_allowed(r, field, json_string_value(v)));
	} else if (!strcmp(type, "date")) {
		assert_int_equal(regcomp(&re, "^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}"
					 "(\\.[0-9]+)?Z$", REG_EXTENDED | REG_NOSUB), 0);
		assert_true(json_is_string(v) && !regexec(&re, json_string_value(v), 0, NULL, 0));
		regfree(&re);
	} else if (!strcmp(type, "ip")) {
		assert_true(json_is_string(v));
		assert_true(inet_pton(AF_INET, json_string_value(v), &a6) == 1 ||
			    inet_pton(AF_INET6, json_string_value(v), &a6) == 1);
	} else {
		fail_msg("fixture type %s not handled", type);
	}
}

/* Every leaf outside exfilmon.* is an ECS field of the right type; arrays hold values of it. */
static void check_ecs_object(const struct ecs_ref *r, const char *prefix, json_t *o)
{
	const char *key;
	json_t *v, *item;
	char path[128];
	size_t i;

	json_object_foreach(o, key, v) {
		snprintf(path, sizeof(path), "%s%s%s", prefix, *prefix ? "." : "", key);
		if (!strcmp(path, "exfilmon"))
			continue;
		if (json_is_object(v))
			check_ecs_object(r, path, v);
		else if (json_is_array(v))
			json_array_foreach(v, i, item)
				check_ecs_value(r, path, item);
		else
			check_ecs_value(r, path, v);
	}
}

static void test_output_alert_json_ecs_fields_match_the_reference(void **state)
{
	const struct output_identity id = { "ws-17", "0123456789abcdef0123456789abcdef",
					    "6b1e0f52-8e7c-4ad3-9f0a-31c455d27e10", "0.1.0" };
	static const char *const required[] = {
		"ecs.version", "event.kind", "event.category", "event.type", "event.severity",
		"agent.type", "agent.name", "agent.id", "agent.version", "host.id", "host.name",
	};
	struct ecs_ref ref;
	struct alert a;
	json_t *o;
	char *s;

	load_ecs_ref(&ref);
	fill_alert(&a);
	s = output_alert_json_ecs(&a, &id, "/usr/bin/curl");
	o = parse_line(s);
	check_ecs_object(&ref, "", o);
	for (size_t i = 0; i < sizeof(required) / sizeof(required[0]); i++) {
		char obj[32];
		const char *dot = strchr(required[i], '.');

		snprintf(obj, sizeof(obj), "%.*s", (int)(dot - required[i]), required[i]);
		if (!json_object_get(json_object_get(o, obj), dot + 1))
			print_error("alert lacks %s\n", required[i]);
		assert_non_null(json_object_get(json_object_get(o, obj), dot + 1));
	}
	assert_string_equal(get_str(o, "ecs.version"), OUTPUT_ECS_VERSION);
	assert_int_equal(get_int(o, "event", "severity"), 73);
	assert_string_equal(get_str(o, "host.id"), id.host_id);
	assert_string_equal(get_str(o, "agent.id"), id.agent_id);
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

/* The writer's string against jansson's dump of the same sanitized string. */
static void assert_str_like_jansson(const char *val)
{
	char clean[PATH_MAX * 4 + 1], *want;
	struct json_buf b = { 0 };
	json_t *o = json_object();

	json_sanitize_utf8(val, strlen(val), clean, sizeof(clean));
	json_object_set_new(o, "k", json_string(clean));
	want = json_dumps(o, JSON_COMPACT);
	json_obj_begin(&b);
	json_key_str(&b, "k", val);
	json_obj_end(&b);
	assert_false(b.oom);
	assert_int_equal(b.len, strlen(b.p));
	if (strcmp(b.p, want))
		fail_msg("writer %s != jansson %s", b.p, want);
	free(want);
	json_decref(o);
	json_buf_free(&b);
}

static void test_output_writer_strings_match_jansson(void **state)
{
	static const char *const cases[] = {
		"", "plain", "/srv/crm exports/a b.csv", "q\"uote", "back\\slash", "nl\nx",
		"\t\r\b\f\x01\x1f\x7f", "caf\xc3\xa9", "\xe2\x80\xa8 sep", "\xf0\x9f\x98\x80",
		"bad\xc3", "\xff\xfe", "\xed\xa0\x80 surrogate", "\xc0\xaf overlong", "/",
	};
	char s[2];
	unsigned seed = 7;

	for (size_t i = 0; i < ARRAY_SIZE(cases); i++)
		assert_str_like_jansson(cases[i]);
	for (int c = 1; c < 256; c++) {
		s[0] = (char)c;
		s[1] = '\0';
		assert_str_like_jansson(s);
	}
	/* Random byte strings, heavy on the ranges that need care. */
	for (int t = 0; t < 2000; t++) {
		char r[64];
		int n = rand_r(&seed) % 63;

		for (int i = 0; i < n; i++) {
			int x = rand_r(&seed) % 256;

			r[i] = (char)(x ? x : 'a');
		}
		r[n] = '\0';
		assert_str_like_jansson(r);
	}
}

static void test_output_writer_long_string_matches_jansson(void **state)
{
	char *s = malloc(PATH_MAX * 5);

	/* Longer than the sanitizer's output: cut where jansson's path cut it. */
	memset(s, 'a', PATH_MAX * 5 - 1);
	s[PATH_MAX * 5 - 1] = '\0';
	assert_str_like_jansson(s);
	memset(s, '\xff', PATH_MAX);
	s[PATH_MAX] = '\0';
	assert_str_like_jansson(s);
	free(s);
}

static void test_output_writer_integers_and_members(void **state)
{
	static const int64_t v[] = { 0, 9, 10, 99, 100, 101, 65535, 4294967295LL,
				     1795000000123456789LL, INT64_MAX, -1, -100, INT64_MIN };
	struct json_buf b = { 0 };
	char want[64];

	for (size_t i = 0; i < ARRAY_SIZE(v); i++) {
		json_buf_reset(&b);
		json_obj_begin(&b);
		json_key_int(&b, "n", v[i]);
		json_key_null(&b, "z");
		json_key_str(&b, "s", NULL);
		json_obj_end(&b);
		snprintf(want, sizeof(want), "{\"n\":%lld,\"z\":null,\"s\":null}", (long long)v[i]);
		assert_string_equal(b.p, want);
	}
	json_buf_free(&b);
	/* take hands the text over and leaves the buffer empty and reusable. */
	json_obj_begin(&b);
	json_obj_end(&b);
	{
		char *t = json_buf_take(&b);

		assert_string_equal(t, "{}");
		free(t);
	}
	assert_null(b.p);
	assert_int_equal(b.len, 0);
}

/* The activity record as the jansson tree built it before the writer replaced it. */
static char *activity_reference(const struct activity *act)
{
	json_t *o = json_object();
	char clean[PATH_MAX * 4 + 1], *s;
#define STR(x) (x ? (json_sanitize_utf8(x, strlen(x), clean, sizeof(clean)), \
		     json_string(clean)) : json_null())
#define U64(x) json_integer((x) > (uint64_t)LLONG_MAX ? LLONG_MAX : (json_int_t)(x))

	json_object_set_new(o, "event", json_string("activity"));
	json_object_set_new(o, "session_id", act->session_id == SESSION_NONE
						     ? json_null() : json_integer(act->session_id));
	json_object_set_new(o, "loginuid", json_integer(act->loginuid));
	json_object_set_new(o, "uid", json_integer(act->uid));
	json_object_set_new(o, "pid", json_integer(act->pid));
	json_object_set_new(o, "comm", STR(act->comm));
	json_object_set_new(o, "exe", STR(act->exe));
	json_object_set_new(o, "kind", json_string(activity_kind_name(act->kind)));
	json_object_set_new(o, "object", STR(act->object));
	json_object_set_new(o, "bytes", U64(act->bytes));
	json_object_set_new(o, "ops", U64(act->ops));
	json_object_set_new(o, "first_ns", U64(act->first_ns));
	json_object_set_new(o, "last_ns", U64(act->ts_ns));
	if (act->dst_ip) {
		json_object_set_new(o, "dst_ip", STR(act->dst_ip));
		json_object_set_new(o, "dst_port", json_integer(act->dst_port));
	}
	if (act->mount)
		json_object_set_new(o, "mount", STR(act->mount));
#undef STR
#undef U64
	s = json_dumps(o, JSON_COMPACT);
	json_decref(o);
	return s;
}

static void test_output_activity_json_matches_jansson_tree(void **state)
{
	struct activity a = {
		.kind = ACT_EGRESS_MEDIA, .session_id = 7, .loginuid = LOGINUID_NONE, .uid = 0,
		.pid = 4242, .comm = "cp\"x", .exe = "/usr/bin/c\\p", .object = "/media/\xffusb/f",
		.bytes = UINT64_MAX, .ops = 3, .first_ns = 1, .ts_ns = 1795000000123456789ULL,
		.dst_ip = "203.0.113.9", .dst_port = 443, .mount = "/media/usb\n",
	};
	char *got, *want;

	for (int round = 0; round < 3; round++) {
		got = activity_json(&a);
		want = activity_reference(&a);
		assert_string_equal(got, want);
		free(got);
		free(want);
		/* Then with the optional and unknown parts left out. */
		a.session_id = SESSION_NONE;
		a.exe = a.comm = NULL;
		a.dst_ip = round ? NULL : a.dst_ip;
		a.mount = NULL;
		a.kind = round ? 99 : ACT_SOURCE_FILE;
	}
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
		cmocka_unit_test(test_output_alert_json_ecs_fields_match_the_reference),
		cmocka_unit_test(test_output_alert_json_user_rule_without_session),
		cmocka_unit_test(test_output_alert_json_media_and_ipv6_destinations),
		cmocka_unit_test(test_output_alert_json_hostile_user_and_host),
		cmocka_unit_test(test_output_writer_strings_match_jansson),
		cmocka_unit_test(test_output_writer_long_string_matches_jansson),
		cmocka_unit_test(test_output_writer_integers_and_members),
		cmocka_unit_test(test_output_activity_json_matches_jansson_tree),
	};

	return cmocka_run_group_tests_name("output_json", tests, NULL, NULL);
}
