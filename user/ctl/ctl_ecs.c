// SPDX-License-Identifier: GPL-2.0-only
/*
 * ECS fields for exported evidence records, so a SIEM import files them beside the
 * alerts: @timestamp, ecs.version, event.kind/category/type/severity/dataset, host.* and
 * agent.* (from the agent and session records that name the host). The record itself
 * stays as stored under seq, ts_ns, type and data. Categories and types are ECS's allowed
 * values (tests/lib/fixtures/ecs_fields.txt).
 */
#include <string.h>

#include <jansson.h>

#include "output/output_json.h"
#include "ctl_case.h"

struct ecs_class {
	const char *type;            /* evidence record type */
	const char *kind;            /* activity kind prefix, or NULL for any */
	const char *category, *ecs_type;
};

static const struct ecs_class classes[] = {
	{ "activity", "source_file", "file", "access" },
	{ "activity", "mmap_source", "file", "access" },
	{ "activity", "source_net", "network", "access" },
	{ "activity", "egress_net", "network", "connection" },
	{ "activity", "egress_media", "file", "creation" },
	{ "activity", "egress_sync", "file", "creation" },
	{ "activity", "staging", "file", "creation" },
	{ "process", NULL, "process", "start" },
	{ "file", NULL, "file", "access" },
	{ "connect", NULL, "network", "connection" },
	{ "session", NULL, "session", "start" },
	{ "config", NULL, "configuration", "change" },
};

static void classify(const char *type, json_t *d, const char **cat, const char **ecs_type)
{
	const char *kind = case_str(d, "kind");

	*cat = "host";
	*ecs_type = "info";
	if (!strcmp(type, "process") && !strcmp(case_str(d, "event"), "exit")) {
		*cat = "process";
		*ecs_type = "end";
		return;
	}
	for (size_t i = 0; i < sizeof(classes) / sizeof(classes[0]); i++) {
		if (strcmp(type, classes[i].type) || (classes[i].kind && strcmp(kind, classes[i].kind)))
			continue;
		*cat = classes[i].category;
		*ecs_type = classes[i].ecs_type;
		return;
	}
}

void ctl_identity_note(struct ctl_identity *id, const char *type, json_t *d)
{
	if (strcmp(type, "agent") && strcmp(type, "session"))
		return;
	if (*case_str(d, "host"))
		snprintf(id->host_name, sizeof(id->host_name), "%s", case_str(d, "host"));
	if (*case_str(d, "host_id"))
		snprintf(id->host_id, sizeof(id->host_id), "%s", case_str(d, "host_id"));
	if (*case_str(d, "agent_id"))
		snprintf(id->agent_id, sizeof(id->agent_id), "%s", case_str(d, "agent_id"));
	if (*case_str(d, "version"))
		snprintf(id->version, sizeof(id->version), "%s", case_str(d, "version"));
}

void ctl_identity_backfill(json_t *records, const struct ctl_identity *first)
{
	const struct output_identity oid = { first->host_name, first->host_id, first->agent_id,
					     first->version };
	json_t *rec;
	size_t i;

	if (!first->host_name[0])
		return;
	json_array_foreach(records, i, rec)
		if (!*case_str(json_object_get(rec, "host"), "name"))
			output_ecs_identity(rec, &oid);
}

void ctl_ecs_record(json_t *rec, const char *type, json_t *d, uint64_t ts_ns,
		    const struct ctl_identity *id)
{
	const struct output_identity oid = { id->host_name, id->host_id, id->agent_id,
					     id->version };
	const char *cat, *ecs_type;
	char when[40], dataset[48];
	json_t *ev, *alert_ev = json_object_get(d, "event");
	int severity = 0;

	ctl_fmt_rfc3339(ts_ns, when, sizeof(when));
	classify(type, d, &cat, &ecs_type);
	snprintf(dataset, sizeof(dataset), "exfilmon.%s", type);
	if (!strcmp(type, "alert"))
		severity = (int)case_int(alert_ev, "severity");
	ev = json_pack("{s:s, s:[s], s:[s], s:i, s:s}", "kind",
		       !strcmp(type, "alert") ? "alert" : "event", "category", cat, "type",
		       ecs_type, "severity", severity, "dataset", dataset);
	/* An alert record keeps the categories the alert itself was raised with. */
	if (!strcmp(type, "alert") && json_is_array(json_object_get(alert_ev, "category"))) {
		json_object_set(ev, "category", json_object_get(alert_ev, "category"));
		json_object_set(ev, "type", json_object_get(alert_ev, "type"));
	}
	json_object_set_new(rec, "@timestamp", json_string(when));
	json_object_set_new(rec, "event", ev);
	output_ecs_identity(rec, &oid);
}
