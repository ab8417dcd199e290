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

#include "model/activity.h"
#include "model/alert.h"

/* An alert as one line of ECS JSON (field table in docs/alerts.md): a malloc'd string
 * without newline (caller frees), or NULL with errno set. exe, when known (the collector
 * finds it in the process table by processes[0].pid), becomes process.executable. */
char *output_alert_json_exe(const struct alert *a, const char *host_name, const char *exe);
/* Same as output_alert_json_exe(a, host_name, NULL). */
char *output_alert_json(const struct alert *a, const char *host_name);
#include "common/json_writer.h"

#endif
