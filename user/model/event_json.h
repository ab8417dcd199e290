/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * JSON for agent events: the object written to the evidence store and printed by
 * exfilctl trace --json. Activity events use activity_json's shape; the others
 * carry the process, session, object and byte fields named in docs/evidence.md.
 */
#ifndef EXFILMON_EVENT_JSON_H
#define EXFILMON_EVENT_JSON_H

#include <stdint.h>

#include "event.h"
#include "activity_json.h"

/* The evidence record type for an event ("process", "connect", "activity", ...). */
const char *event_record_type(const struct event *ev);
/* malloc'd one-line JSON object, or NULL with errno set. */
char *event_json(const struct event *ev);
/* The same object appended to b (the collector reuses one buffer for every event). */
void event_json_write(struct json_buf *b, const struct event *ev);
/* The session the record concerns, as the evidence index counts it: the id,
 * EVIDENCE_ALL_SESSIONS for a gap outside any session, else EVIDENCE_NO_SESSION. */
int64_t event_json_session(const struct event *ev);

#endif
