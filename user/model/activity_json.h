/* SPDX-License-Identifier: GPL-2.0-only */
/* Activity slices as JSON: the record written to evidence and printed by trace. */
#ifndef EXFILMON_ACTIVITY_JSON_H
#define EXFILMON_ACTIVITY_JSON_H

#include "common/json_writer.h"
#include "activity.h"

/* An activity slice as one line of JSON: event "activity", session_id (null outside a
 * login), loginuid, uid, pid, comm, exe, kind, object, bytes, ops, first_ns, last_ns, and
 * for egress dst_ip/dst_port or mount. Caller frees; NULL with errno set. */
char *activity_json(const struct activity *act);
/* The activity record of activity_json, appended to b (not reset first). */
void activity_json_write(struct json_buf *b, const struct activity *act);


#endif
