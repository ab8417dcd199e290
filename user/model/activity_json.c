// SPDX-License-Identifier: GPL-2.0-only
/*
 * Activity slices as JSON records (evidence, trace).
 */
#include <limits.h>
#include <stdint.h>

#include "activity_json.h"

static int64_t clamp_u64(uint64_t v)
{
	return v > (uint64_t)LLONG_MAX ? LLONG_MAX : (int64_t)v;
}

/* Keys always present, null when unknown, except dst_ip/dst_port and mount, which only
 * egress slices carry (readers test for their presence). */
void activity_json_write(struct json_buf *b, const struct activity *act)
{
	json_obj_begin(b);
	json_key_str(b, "event", "activity");
	if (act->session_id == SESSION_NONE)
		json_key_null(b, "session_id");
	else
		json_key_int(b, "session_id", act->session_id);
	json_key_int(b, "loginuid", act->loginuid);
	json_key_int(b, "uid", act->uid);
	json_key_int(b, "pid", act->pid);
	json_key_str(b, "comm", act->comm);
	json_key_str(b, "exe", act->exe);
	json_key_str(b, "kind", activity_kind_name(act->kind));
	json_key_str(b, "object", act->object);
	json_key_int(b, "bytes", clamp_u64(act->bytes));
	json_key_int(b, "ops", clamp_u64(act->ops));
	json_key_int(b, "first_ns", clamp_u64(act->first_ns));
	json_key_int(b, "last_ns", clamp_u64(act->ts_ns));
	if (act->dst_ip) {
		json_key_str(b, "dst_ip", act->dst_ip);
		json_key_int(b, "dst_port", act->dst_port);
	}
	if (act->mount)
		json_key_str(b, "mount", act->mount);
	json_obj_end(b);
}

char *activity_json(const struct activity *act)
{
	struct json_buf b = { 0 };

	activity_json_write(&b, act);
	return json_buf_take(&b);
}
