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

#include <jansson.h>

#include "model/activity.h"
#include "model/alert.h"

/* An alert as one line of ECS JSON (field table in docs/alerts.md): a malloc'd string
 * without newline (caller frees), or NULL with errno set. exe, when known (the collector
 * finds it in the process table by processes[0].pid), becomes process.executable. */
char *output_alert_json_exe(const struct alert *a, const char *host_name, const char *exe);
/* Same as output_alert_json_exe(a, host_name, NULL). */
char *output_alert_json(const struct alert *a, const char *host_name);

/* ECS version the alerts and exported records follow (the field reference they were
 * checked against: tests/fixtures/ecs_fields.txt). */
#define OUTPUT_ECS_VERSION "8.11.0"

/* Who raised it: ECS host.* and agent.*. Empty strings are left out. */
struct output_identity {
	const char *host_name;
	const char *host_id;         /* /etc/machine-id */
	const char *agent_id;        /* per host and application, derived from the machine id */
	const char *agent_version;
};

/* output_alert_json_exe with the whole identity: host.name, host.id, agent.type/name/id/
 * version. */
char *output_alert_json_ecs(const struct alert *a, const struct output_identity *id,
			    const char *exe);
/* Sets host.* and agent.* of an ECS object from id (also used for exported records). */
void output_ecs_identity(json_t *o, const struct output_identity *id);
/* ECS event.severity of a rule: exfiltration 73 (high), collection and staging 47
 * (medium), baseline deviation 21 (low). */
int output_rule_severity(enum alert_rule rule);
#include "common/json_writer.h"

#endif
