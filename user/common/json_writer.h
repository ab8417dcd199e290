/* SPDX-License-Identifier: GPL-2.0-only */
#ifndef EXFILMON_JSON_WRITER_H
#define EXFILMON_JSON_WRITER_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

/*
 * A reusable output buffer and a small JSON writer over it, for the records written per
 * event (evidence, trace): no tree is built and nothing is allocated once the buffer has
 * grown to the largest record. Its output is byte for byte what jansson's
 * json_dumps(JSON_COMPACT) gives for the same object (tests/unit/test_output_json.c
 * compares the two): strings go through json_sanitize_utf8, then '"', '\\' and
 * control characters are escaped as jansson does. Keys are literals from our code and are
 * written as they are. A failed allocation sets oom and makes further writes no-ops.
 */
struct json_buf {
	char *p;                /* NUL-terminated text of len bytes */
	size_t len;
	size_t cap;
	int oom;
	int members;            /* members written in the innermost object */
};

void json_buf_reset(struct json_buf *b);
void json_buf_free(struct json_buf *b);
/* Hands the text over (caller frees) and leaves b empty; NULL with errno set on oom. */
char *json_buf_take(struct json_buf *b);
void json_obj_begin(struct json_buf *b);
void json_obj_end(struct json_buf *b);
/* "key":"value" (value sanitized and escaped); NULL writes null. The key is a string
 * literal: the macros pass its length, which the compiler folds. */
void json_keyn_str(struct json_buf *b, const char *key, size_t key_len, const char *val);
void json_keyn_int(struct json_buf *b, const char *key, size_t key_len, int64_t v);
void json_keyn_null(struct json_buf *b, const char *key, size_t key_len);
/* "key":raw, where raw is already valid JSON text (a number list, true, false). */
void json_keyn_raw(struct json_buf *b, const char *key, size_t key_len, const char *raw);
#define json_key_raw(b, key, raw) json_keyn_raw(b, key, strlen(key), raw)
#define json_key_str(b, key, val) json_keyn_str(b, key, strlen(key), val)
#define json_key_int(b, key, v) json_keyn_int(b, key, strlen(key), v)
#define json_key_null(b, key) json_keyn_null(b, key, strlen(key))

/* Makes any byte string safe as a JSON string value: valid UTF-8 is kept, each invalid
 * byte and every backslash becomes the text "\xNN" (so a backslash in the result always
 * starts an escape and the original bytes are recoverable). Stops at in_len or a NUL;
 * never cuts an escape or a UTF-8 sequence. Writes at most len-1 bytes plus NUL. */
void json_sanitize_utf8(const char *in, size_t in_len, char *out, size_t len);

#endif
