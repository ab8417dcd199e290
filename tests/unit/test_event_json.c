// SPDX-License-Identifier: GPL-2.0-only
/* Unit tests for event_json.c: every event kind, with hostile strings, rendered byte for
 * byte as the jansson tree that the writer replaced rendered it; event_json_write into a
 * reused buffer gives the same text; and the session the collector hands the evidence
 * index (event_json_session) is the one ev_session_set_note finds in the JSON, which is
 * what verify recomputes. */
#include <limits.h>

#include <jansson.h>

#include "unit.h"
#include "abi.h"
#include "model/event_json.h"
#include "evidence/evidence.h"
#include "evidence/evidence_format.h"

/* The jansson rendering event_json did before the writer. */
static void ref_str(json_t *o, const char *key, const char *val)
{
	char clean[PATH_MAX * 4 + 1];

	if (!val)
		return;
	json_sanitize_utf8(val, strlen(val), clean, sizeof(clean));
	json_object_set_new(o, key, json_string(clean));
}

static void ref_u64(json_t *o, const char *key, uint64_t v)
{
	json_object_set_new(o, key, json_integer((json_int_t)v));
}

static char *reference(const struct event *ev)
{
	json_t *o;
	char *s;

	if (ev->kind == EV_ACTIVITY)
		return activity_json(&ev->act);
	o = json_object();
	ref_str(o, "event", event_kind_name(ev->kind));
	ref_u64(o, "ts_ns", ev->ts_ns);
	json_object_set_new(o, "session_id", ev->session_id == SESSION_NONE
						     ? json_null() : json_integer(ev->session_id));
	ref_u64(o, "loginuid", ev->loginuid);
	ref_u64(o, "uid", ev->uid);
	ref_u64(o, "pid", ev->pid);
	ref_u64(o, "ppid", ev->ppid);
	ref_str(o, "comm", ev->comm);
	switch (ev->kind) {
	case EV_EXEC:
		ref_str(o, "exe", ev->path);
		ref_str(o, "args", ev->args);
		break;
	case EV_EXIT:
		ref_u64(o, "exit_code", ev->exit_code);
		break;
	case EV_OPEN:
		ref_str(o, "path", ev->path);
		ref_str(o, "class", ev->open_cls == OPEN_SOURCE  ? "source"
				    : ev->open_cls == OPEN_SINK_MEDIA ? "media"
				    : ev->open_cls == OPEN_SINK_SYNC  ? "sync"
								   : "staging");
		break;
	case EV_MMAP:
		ref_str(o, "path", ev->path);
		ref_u64(o, "bytes", ev->len);
		break;
	case EV_URING:
		ref_str(o, "path", ev->path);
		ref_u64(o, "opcode", ev->opcode);
		break;
	case EV_CONNECT:
		ref_str(o, "direction", ev->conn.accepted ? "accept" : "connect");
		ref_str(o, "proto", ev->conn.proto);
		ref_str(o, "local_ip", ev->conn.local_ip);
		ref_u64(o, "local_port", ev->conn.local_port);
		ref_str(o, "remote_ip", ev->conn.remote_ip);
		ref_u64(o, "remote_port", ev->conn.remote_port);
		ref_str(o, "class", ev->conn.cls == CONN_EGRESS ? "egress" : "source");
		break;
	case EV_GAP:
		ref_str(o, "what", ev->gap.what);
		ref_u64(o, "count", ev->gap.count);
		ref_u64(o, "first_ns", ev->gap.first_ns);
		ref_u64(o, "last_ns", ev->gap.last_ns);
		ref_str(o, "reason", ev->gap.reason);
		break;
	default:
		break;
	}
	s = json_dumps(o, JSON_COMPACT);
	json_decref(o);
	return s;
}

/* One event of kind k; odd variants are outside a session, carry hostile strings, or
 * leave optional strings out. */
static void make(struct event *ev, enum event_kind k, int variant)
{
	static const char *const paths[] = {
		"/srv/crm/customers.csv", "/tmp/we\"ird\n\\name\xff.csv", NULL,
	};

	memset(ev, 0, sizeof(*ev));
	ev->kind = k;
	ev->ts_ns = variant == 2 ? UINT64_MAX : 1795000000123456789ULL + variant;
	ev->pid = 4242;
	ev->ppid = 1;
	ev->uid = 1000;
	ev->loginuid = variant & 1 ? LOGINUID_NONE : 1000;
	ev->session_id = variant & 1 ? SESSION_NONE : 17u + (unsigned)variant;
	snprintf(ev->comm, sizeof(ev->comm), variant == 1 ? "ev\til\x01" : "psql");
	ev->path = paths[variant % 3];
	ev->args = variant % 3 == 1 ? "sh -c \"cat /srv/*\" \x7f" : variant % 3 ? NULL : "psql crm";
	ev->exit_code = variant ? 256 : 0;
	ev->open_cls = variant % 3 == 0 ? OPEN_SOURCE : variant % 3 == 1 ? OPEN_SINK_MEDIA
								  : OPEN_STAGING;
	ev->len = 1 << 20;
	ev->opcode = 22;
	snprintf(ev->conn.local_ip, sizeof(ev->conn.local_ip), variant ? "fe80::1" : "127.0.0.1");
	snprintf(ev->conn.remote_ip, sizeof(ev->conn.remote_ip), "127.0.0.2");
	ev->conn.local_port = 40000;
	ev->conn.remote_port = 5432;
	ev->conn.proto = variant ? "udp" : "tcp";
	ev->conn.cls = variant ? CONN_EGRESS : CONN_SOURCE;
	ev->conn.accepted = variant & 1;
	ev->gap.what = "open";
	ev->gap.count = 12;
	ev->gap.first_ns = 1;
	ev->gap.last_ns = 2;
	ev->gap.reason = "ring buffer full";
	ev->act.kind = ACT_SOURCE_FILE;
	ev->act.session_id = ev->session_id;
	ev->act.loginuid = ev->loginuid;
	ev->act.comm = ev->comm;
	ev->act.object = ev->path ? ev->path : "/srv/x";
	ev->act.bytes = 4096;
	ev->act.ts_ns = ev->ts_ns;
}

static void test_event_json_matches_jansson_tree(void **state)
{
	struct json_buf b = { 0 };
	struct event ev;

	for (int k = EV_EXEC; k <= EV_GAP; k++) {
		for (int v = 0; v < 4; v++) {
			char *want, *got;

			make(&ev, k, v);
			want = reference(&ev);
			got = event_json(&ev);
			assert_non_null(got);
			if (strcmp(got, want))
				fail_msg("kind %d variant %d:\n got  %s\n want %s", k, v, got, want);
			/* The reused buffer gives the same text, whatever it held before. */
			json_buf_reset(&b);
			event_json_write(&b, &ev);
			assert_false(b.oom);
			assert_string_equal(b.p, want);
			free(got);
			free(want);
		}
	}
	json_buf_free(&b);
}

static void test_event_json_session_is_what_the_index_finds(void **state)
{
	struct event ev;

	for (int k = EV_EXEC; k <= EV_GAP; k++) {
		for (int v = 0; v < 4; v++) {
			struct ev_session_set parsed = { 0 }, hinted = { 0 };
			const char *type;
			int64_t sid;
			char *json;

			make(&ev, k, v);
			json = event_json(&ev);
			type = event_record_type(&ev);
			ev_session_set_note(&parsed, type, strlen(type), json, strlen(json));
			sid = event_json_session(&ev);
			if (sid >= 0)
				ev_session_set_add(&hinted, (uint32_t)sid);
			else if (sid == EVIDENCE_ALL_SESSIONS)
				hinted.all = true;
			else
				assert_int_equal(sid, EVIDENCE_NO_SESSION);
			if (!ev_session_set_equal(&parsed, &hinted))
				fail_msg("kind %d variant %d: index would differ for %s", k, v, json);
			free(json);
		}
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_event_json_matches_jansson_tree),
		cmocka_unit_test(test_event_json_session_is_what_the_index_finds),
	};

	return cmocka_run_group_tests_name("event_json", tests, NULL, NULL);
}
