/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * JSON rendering of what the agent emits: alerts in ECS field names (docs/alerts.md),
 * and evidence/trace records. jansson builds the objects, so hostile paths (quotes,
 * newlines, invalid UTF-8) are escaped correctly: invalid UTF-8 bytes are replaced by
 * \ufffd-free escapes "\\xNN" so the original bytes stay recoverable.
 */
#ifndef EXFILMON_OUTPUT_JSON_H
#define EXFILMON_OUTPUT_JSON_H

#include <stddef.h>

#include "activity.h"
#include "alert.h"

/* Returns a malloc'd single-line JSON object (caller frees), or NULL with errno set. */
char *output_alert_json(const struct alert *a, const char *host_name);
char *output_activity_json(const struct activity *act);
/* Makes any byte string safe as a JSON string value: valid UTF-8 is kept, each invalid
 * byte becomes the text "\xNN". Writes at most len-1 bytes plus NUL. */
void output_sanitize_utf8(const char *in, size_t in_len, char *out, size_t len);

#endif
