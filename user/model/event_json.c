// SPDX-License-Identifier: GPL-2.0-only
/*
 * Event to JSON, written straight into a reused buffer (common/json_writer.h: the same
 * bytes jansson would dump, without building a tree per event). Every string from the
 * kernel or the file system passes through json_sanitize_utf8 first: a path is
 * attacker-chosen bytes, and the record must stay valid JSON whatever it contains.
 */
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "event_json.h"
#include "activity_json.h"

/* A string the event does not have leaves its key out. */
static void set_str(struct json_buf *b, const char *key, const char *val)
{
	if (val)
		json_key_str(b, key, val);
}

/* As json_integer((json_int_t)v) did: the value's bit pattern as a signed number. */
static void set_u64(struct json_buf *b, const char *key, uint64_t v)
{
	json_key_int(b, key, (int64_t)v);
}

static void set_session(struct json_buf *b, uint32_t session_id)
{
	if (session_id == SESSION_NONE)
		json_key_null(b, "session_id");
	else
		json_key_int(b, "session_id", session_id);
}

const char *event_record_type(const struct event *ev)
{
	switch (ev->kind) {
	case EV_EXEC:
	case EV_FORK:
	case EV_EXIT:
		return "process";
	case EV_CONNECT:
		return "connect";
	case EV_ACTIVITY:
		return "activity";
	case EV_GAP:
		return "gap";
	case EV_INTEGRITY:
		return "integrity";
	default:
		return "file";
	}
}

static void add_common(struct json_buf *o, const struct event *ev)
{
	set_str(o, "event", event_kind_name(ev->kind));
	set_u64(o, "ts_ns", ev->ts_ns);
	set_session(o, ev->session_id);
	set_u64(o, "loginuid", ev->loginuid);
	set_u64(o, "uid", ev->uid);
	set_u64(o, "pid", ev->pid);
	set_u64(o, "ppid", ev->ppid);
	set_str(o, "comm", ev->comm);
}

static void add_specific(struct json_buf *o, const struct event *ev)
{
	switch (ev->kind) {
	case EV_EXEC:
		set_str(o, "exe", ev->path);
		set_str(o, "args", ev->args);
		break;
	case EV_EXIT:
		set_u64(o, "exit_code", ev->exit_code);
		break;
	case EV_OPEN:
		set_str(o, "path", ev->path);
		set_str(o, "class", open_class_name(ev->open_cls));
		break;
	case EV_MMAP:
		set_str(o, "path", ev->path);
		set_u64(o, "bytes", ev->len);
		break;
	case EV_URING:
		set_str(o, "path", ev->path);
		set_u64(o, "opcode", ev->opcode);
		break;
	case EV_CONNECT:
		set_str(o, "direction", ev->conn.accepted ? "accept" : "connect");
		set_str(o, "proto", ev->conn.proto);
		set_str(o, "local_ip", ev->conn.local_ip);
		set_u64(o, "local_port", ev->conn.local_port);
		set_str(o, "remote_ip", ev->conn.remote_ip);
		set_u64(o, "remote_port", ev->conn.remote_port);
		set_str(o, "class", conn_class_name(ev->conn.cls));
		break;
	case EV_GAP:
		set_str(o, "what", ev->gap.what);
		set_u64(o, "count", ev->gap.count);
		set_u64(o, "first_ns", ev->gap.first_ns);
		set_u64(o, "last_ns", ev->gap.last_ns);
		set_str(o, "reason", ev->gap.reason);
		break;
	case EV_INTEGRITY:
		set_str(o, "reason", ev->integrity.reason);
		set_str(o, "detail", ev->integrity.detail);
		break;
	default:
		break;
	}
}

void event_json_write(struct json_buf *b, const struct event *ev)
{
	if (ev->kind == EV_ACTIVITY) {
		activity_json_write(b, &ev->act);
		return;
	}
	json_obj_begin(b);
	add_common(b, ev);
	add_specific(b, ev);
	json_obj_end(b);
}

int64_t event_json_session(const struct event *ev)
{
	uint32_t id = ev->kind == EV_ACTIVITY ? ev->act.session_id : ev->session_id;

	if (id != SESSION_NONE)
		return id;
	/* A gap outside any one session concerns them all (docs/evidence.md, Index). */
	return ev->kind == EV_GAP || ev->kind == EV_INTEGRITY ? EVIDENCE_ALL_SESSIONS : EVIDENCE_NO_SESSION;
}

char *event_json(const struct event *ev)
{
	struct json_buf b = { 0 };

	event_json_write(&b, ev);
	return json_buf_take(&b);
}
