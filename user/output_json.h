/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * JSON rendering of what the agent emits: alerts in ECS field names (docs/alerts.md),
 * and evidence/trace records. jansson builds the objects, so hostile paths (quotes,
 * newlines, invalid UTF-8) are escaped correctly: invalid UTF-8 bytes are replaced by
 * the text "\xNN" (and a backslash by "\x5c") so the original bytes stay recoverable.
 */
#ifndef EXFILMON_OUTPUT_JSON_H
#define EXFILMON_OUTPUT_JSON_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "activity.h"
#include "alert.h"

/* An alert as one line of ECS JSON (field table in docs/alerts.md): a malloc'd string
 * without newline (caller frees), or NULL with errno set. exe, when known (the collector
 * finds it in the process table by processes[0].pid), becomes process.executable. */
char *output_alert_json_exe(const struct alert *a, const char *host_name, const char *exe);
/* Same as output_alert_json_exe(a, host_name, NULL). */
char *output_alert_json(const struct alert *a, const char *host_name);
/* An activity slice as one line of JSON: event "activity", session_id (null outside a
 * login), loginuid, uid, pid, comm, exe, kind, object, bytes, ops, first_ns, last_ns, and
 * for egress dst_ip/dst_port or mount. Caller frees; NULL with errno set. */
char *output_activity_json(const struct activity *act);
/* "source_file", "source_net", "egress_net", "egress_media", "egress_sync", "staging",
 * "mmap_source"; "unknown" for anything else. */
const char *output_activity_kind_name(enum activity_kind kind);
/*
 * A reusable output buffer and a small JSON writer over it, for the records written per
 * event (evidence, trace): no tree is built and nothing is allocated once the buffer has
 * grown to the largest record. Its output is byte for byte what jansson's
 * json_dumps(JSON_COMPACT) gives for the same object (tests/unit/test_output_json.c
 * compares the two): strings go through output_sanitize_utf8, then '"', '\\' and
 * control characters are escaped as jansson does. Keys are literals from our code and are
 * written as they are. A failed allocation sets oom and makes further writes no-ops.
 */
struct output_buf {
	char *p;                /* NUL-terminated text of len bytes */
	size_t len;
	size_t cap;
	int oom;
	int members;            /* members written in the innermost object */
};

void output_buf_reset(struct output_buf *b);
void output_buf_free(struct output_buf *b);
/* Hands the text over (caller frees) and leaves b empty; NULL with errno set on oom. */
char *output_buf_take(struct output_buf *b);
void output_obj_begin(struct output_buf *b);
void output_obj_end(struct output_buf *b);
/* "key":"value" (value sanitized and escaped); NULL writes null. The key is a string
 * literal: the macros pass its length, which the compiler folds. */
void output_keyn_str(struct output_buf *b, const char *key, size_t key_len, const char *val);
void output_keyn_int(struct output_buf *b, const char *key, size_t key_len, int64_t v);
void output_keyn_null(struct output_buf *b, const char *key, size_t key_len);
#define output_key_str(b, key, val) output_keyn_str(b, key, strlen(key), val)
#define output_key_int(b, key, v) output_keyn_int(b, key, strlen(key), v)
#define output_key_null(b, key) output_keyn_null(b, key, strlen(key))
/* The activity record of output_activity_json, appended to b (not reset first). */
void output_activity_write(struct output_buf *b, const struct activity *act);

/* Makes any byte string safe as a JSON string value: valid UTF-8 is kept, each invalid
 * byte and every backslash becomes the text "\xNN" (so a backslash in the result always
 * starts an escape and the original bytes are recoverable). Stops at in_len or a NUL;
 * never cuts an escape or a UTF-8 sequence. Writes at most len-1 bytes plus NUL. */
void output_sanitize_utf8(const char *in, size_t in_len, char *out, size_t len);

#endif
