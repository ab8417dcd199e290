// SPDX-License-Identifier: GPL-2.0-only
/*
 * Event to JSON with jansson. Every string from the kernel or the file system passes
 * through output_sanitize_utf8 first: a path is attacker-chosen bytes, and the record
 * must stay valid JSON whatever it contains.
 */
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "abi.h"
#include "event_json.h"
#include "output_json.h"

static void set_str(json_t *o, const char *key, const char *val)
{
	char clean[PATH_MAX * 4 + 1];

	if (!val)
		return;
	output_sanitize_utf8(val, strlen(val), clean, sizeof(clean));
	json_object_set_new(o, key, json_string(clean));
}

static void set_u64(json_t *o, const char *key, uint64_t v)
{
	json_object_set_new(o, key, json_integer((json_int_t)v));
}

static void set_session(json_t *o, uint32_t session_id)
{
	json_object_set_new(o, "session_id", session_id == SESSION_NONE ? json_null()
									: json_integer(session_id));
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
	default:
		return "file";
	}
}

static void add_common(json_t *o, const struct event *ev)
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

static void add_specific(json_t *o, const struct event *ev)
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
		set_str(o, "class", ev->watch_flags & XM_W_SOURCE  ? "source"
				    : ev->watch_flags & XM_W_MEDIA ? "media"
				    : ev->watch_flags & XM_W_SINK  ? "sync"
								   : "staging");
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
		set_str(o, "class", ev->conn.cls);
		break;
	case EV_GAP:
		set_str(o, "what", ev->gap.what);
		set_u64(o, "count", ev->gap.count);
		set_u64(o, "first_ns", ev->gap.first_ns);
		set_u64(o, "last_ns", ev->gap.last_ns);
		set_str(o, "reason", ev->gap.reason);
		break;
	default:
		break;
	}
}

char *event_json(const struct event *ev)
{
	json_t *o;
	char *s;

	if (ev->kind == EV_ACTIVITY)
		return output_activity_json(&ev->act);
	o = json_object();
	if (!o) {
		errno = ENOMEM;
		return NULL;
	}
	add_common(o, ev);
	add_specific(o, ev);
	s = json_dumps(o, JSON_COMPACT);
	json_decref(o);
	if (!s)
		errno = ENOMEM;
	return s;
}
