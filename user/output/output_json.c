// SPDX-License-Identifier: GPL-2.0-only
/*
 * JSON rendering with jansson: alerts in ECS field names (docs/alerts.md) and activity
 * slices. Strings from the system pass through json_sanitize_utf8 first, because a
 * path is whatever bytes a user chose and jansson refuses invalid UTF-8.
 */
#include <errno.h>
#include <stdbool.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>

#include "common/endpoint.h"
#include "common/array_size.h"
#include "output_json.h"


static json_t *str(const char *s)
{
	char clean[PATH_MAX * 4 + 1];

	if (!s)
		return json_null();
	json_sanitize_utf8(s, strlen(s), clean, sizeof(clean));
	return json_string(clean);
}

/* An empty text field means "not known": null says so without an empty-string guess. */
static json_t *str_or_null(const char *s)
{
	return s && s[0] ? str(s) : json_null();
}

static json_t *u64(uint64_t v)
{
	return json_integer(v > (uint64_t)LLONG_MAX ? LLONG_MAX : (json_int_t)v);
}

static json_t *audit_id(uint32_t id)
{
	return id == SESSION_NONE ? json_null() : json_integer(id);
}

static void rfc3339(uint64_t ns, char *buf, size_t len)
{
	time_t secs = ns / 1000000000ULL;
	struct tm tm;
	char base[32];

	gmtime_r(&secs, &tm);
	strftime(base, sizeof(base), "%Y-%m-%dT%H:%M:%S", &tm);
	snprintf(buf, len, "%s.%03uZ", base, (unsigned)(ns / 1000000ULL % 1000));
}

static json_t *when(uint64_t ns)
{
	char buf[40];

	rfc3339(ns, buf, sizeof(buf));
	return json_string(buf);
}

static json_t *items(const struct alert_item *v, unsigned n, int with_pid)
{
	json_t *a = json_array();

	for (unsigned i = 0; i < n && i < ALERT_MAX_ITEMS; i++) {
		json_t *o = json_object();

		json_object_set_new(o, "name", str(v[i].name));
		json_object_set_new(o, "bytes", u64(v[i].bytes));
		if (with_pid)
			json_object_set_new(o, "pid", json_integer(v[i].pid));
		json_array_append_new(a, o);
	}
	return a;
}

static const char *const rule_descriptions[] = {
	[RULE_BULK_READ] = "Bulk collection: source bytes in one window above the threshold",
	[RULE_BULK_OBJECTS] =
		"Bulk collection: distinct source objects in one window above the threshold",
	[RULE_EXFIL] =
		"Exfiltration: collected data followed by bytes leaving through an unapproved channel",
	[RULE_STAGING] = "Staging: collected data written to files outside the sources",
	[RULE_DRIP] = "Slow drip: cumulative source volume over a long window above the threshold",
	[RULE_BASELINE] = "Deviation from the user's own daily baseline",
	[RULE_INTEGRITY] = "Sensor integrity: the agent was blinded, tampered with or evaded",
};

/* Items name files and mount points by absolute path, services and peers as "ip:port". */
static bool is_path(const char *name)
{
	return name[0] == '/';
}

/* ECS event.category: "file" when files are read or written, "network" when a service is
 * read or bytes leave over a socket; both when both. */
static json_t *categories(const struct alert *a)
{
	bool file = false, net = false;
	json_t *cat = json_array();

	for (unsigned i = 0; i < a->n_sources && i < ALERT_MAX_ITEMS; i++)
		*(is_path(a->sources[i].name) ? &file : &net) = true;
	for (unsigned i = 0; i < a->n_destinations && i < ALERT_MAX_ITEMS; i++)
		*(is_path(a->destinations[i].name) ? &file : &net) = true;
	if (file || !net)
		json_array_append_new(cat, json_string("file"));
	if (net)
		json_array_append_new(cat, json_string("network"));
	return cat;
}

static const char *rule_text(enum alert_rule r, const char *const *table, size_t n)
{
	return (size_t)r < n && table[r] ? table[r] : "unknown";
}

static json_t *ecs_event(const struct alert *a)
{
	json_t *e = json_object();
	char id[32];

	snprintf(id, sizeof(id), "%llu", (unsigned long long)a->id);
	json_object_set_new(e, "kind", json_string("alert"));
	json_object_set_new(e, "category", categories(a));
	/* "access" is an allowed type of both the file and the network category. */
	json_object_set_new(e, "type", json_pack("[s]", "access"));
	json_object_set_new(e, "severity", json_integer(output_rule_severity(a->rule)));
	json_object_set_new(e, "action", json_string(alert_rule_name(a->rule)));
	json_object_set_new(e, "id", json_string(id));
	json_object_set_new(e, "sequence", json_integer(a->revision));
	json_object_set_new(e, "start", when(a->start_ns));
	json_object_set_new(e, "end", when(a->end_ns));
	return e;
}

static json_t *ecs_rule(const struct alert *a)
{
	json_t *r = json_object();
	size_t n = ARRAY_SIZE(rule_descriptions);

	json_object_set_new(r, "name", json_string(alert_rule_name(a->rule)));
	json_object_set_new(r, "description",
			    json_string(rule_text(a->rule, rule_descriptions, n)));
	return r;
}

/* user.id is text in ECS; a loginuid that was never set is no user at all. */
static json_t *ecs_user(const struct alert *a)
{
	json_t *u = json_object();
	char uid[16];

	snprintf(uid, sizeof(uid), "%u", a->loginuid);
	json_object_set_new(u, "name", str_or_null(a->user));
	json_object_set_new(u, "id", a->loginuid == LOGINUID_NONE ? json_null() : json_string(uid));
	return u;
}

/* process.* names the process that moved the most bytes: items are sorted by bytes. */
static void ecs_process(json_t *root, const struct alert *a, const char *exe)
{
	json_t *p;

	if (!a->n_processes)
		return;
	p = json_object();
	json_object_set_new(p, "pid", json_integer(a->processes[0].pid));
	json_object_set_new(p, "name", str(a->processes[0].name));
	if (exe && exe[0])
		json_object_set_new(p, "executable", str(exe));
	json_object_set_new(root, "process", p);
}

static void ecs_file(json_t *root, const struct alert *a)
{
	json_t *f;

	if (!a->n_sources || !is_path(a->sources[0].name))
		return;
	f = json_object();
	json_object_set_new(f, "path", str(a->sources[0].name));
	json_object_set_new(root, "file", f);
}

/* destination.ip/port from the top "ip:port" or "[v6]:port" destination, when it is one. */
static void ecs_destination(json_t *root, const struct alert *a)
{
	const char *port_text;
	char ip[64], *end;
	unsigned long port;
	json_t *d;

	if (!a->n_destinations || is_path(a->destinations[0].name))
		return;
	if (endpoint_split(a->destinations[0].name, ip, sizeof(ip), &port_text))
		return;
	errno = 0;
	port = strtoul(port_text, &end, 10);
	d = json_object();
	json_object_set_new(d, "ip", str(ip));
	if (!errno && end != port_text && !*end && port <= 65535)
		json_object_set_new(d, "port", json_integer((json_int_t)port));
	json_object_set_new(root, "destination", d);
}

static void exfilmon_who(json_t *x, const struct alert *a)
{
	json_object_set_new(x, "alert_id", u64(a->id));
	json_object_set_new(x, "revision", json_integer(a->revision));
	json_object_set_new(x, "session_id", audit_id(a->session_id));
	json_object_set_new(x, "loginuid", json_integer(a->loginuid));
	json_object_set_new(x, "tty", str(a->tty));
	json_object_set_new(x, "remote_host", str(a->remote_host));
	json_object_set_new(x, "episode_start", when(a->start_ns));
	json_object_set_new(x, "episode_end", when(a->end_ns));
}

static json_t *exfilmon_obj(const struct alert *a)
{
	json_t *x = json_object();

	exfilmon_who(x, a);
	json_object_set_new(x, "source_bytes", u64(a->source_bytes));
	json_object_set_new(x, "source_objects", u64(a->source_objects));
	json_object_set_new(x, "egress_bytes", u64(a->egress_bytes));
	json_object_set_new(x, "threshold", u64(a->threshold));
	json_object_set_new(x, "baseline_bytes", json_real(a->baseline_bytes));
	json_object_set_new(x, "sources", items(a->sources, a->n_sources, 0));
	json_object_set_new(x, "destinations", items(a->destinations, a->n_destinations, 0));
	json_object_set_new(x, "processes", items(a->processes, a->n_processes, 1));
	json_object_set_new(x, "evidence_first_seq", u64(a->evidence_first_seq));
	json_object_set_new(x, "evidence_last_seq", u64(a->evidence_last_seq));
	json_object_set_new(x, "config_sha256", str(a->config_sha256));
	if (a->rule == RULE_INTEGRITY) {
		json_object_set_new(x, "reason", str(a->reason));
		json_object_set_new(x, "detail", str(a->detail));
	}
	return x;
}

static char *dump(json_t *o)
{
	char *s;

	if (!o) {
		errno = ENOMEM;
		return NULL;
	}
	s = json_dumps(o, JSON_COMPACT);
	json_decref(o);
	if (!s)
		errno = ENOMEM;
	return s;
}

int output_rule_severity(enum alert_rule rule)
{
	switch (rule) {
	case RULE_EXFIL: return 73;
	case RULE_BASELINE: return 21;
	default: return 47;
	}
}

static void set_nonempty(json_t *o, const char *key, const char *v)
{
	if (v && *v)
		json_object_set_new(o, key, str(v));
}

void output_ecs_identity(json_t *o, const struct output_identity *id)
{
	json_t *host = json_object(), *agent = json_object();

	json_object_set_new(host, "name", str(id->host_name));
	set_nonempty(host, "id", id->host_id);
	json_object_set_new(agent, "type", json_string("exfilmon"));
	json_object_set_new(agent, "name", str(id->host_name));
	set_nonempty(agent, "id", id->agent_id);
	set_nonempty(agent, "version", id->agent_version);
	json_object_set_new(o, "host", host);
	json_object_set_new(o, "agent", agent);
	json_object_set_new(o, "ecs", json_pack("{s:s}", "version", OUTPUT_ECS_VERSION));
}

char *output_alert_json_ecs(const struct alert *a, const struct output_identity *id,
			    const char *exe)
{
	json_t *o = json_object();

	if (!o) {
		errno = ENOMEM;
		return NULL;
	}
	json_object_set_new(o, "@timestamp", when(a->raised_ns));
	json_object_set_new(o, "event", ecs_event(a));
	json_object_set_new(o, "rule", ecs_rule(a));
	json_object_set_new(o, "user", ecs_user(a));
	output_ecs_identity(o, id);
	ecs_process(o, a, exe);
	ecs_file(o, a);
	ecs_destination(o, a);
	json_object_set_new(o, "exfilmon", exfilmon_obj(a));
	return dump(o);
}

char *output_alert_json_exe(const struct alert *a, const char *host_name, const char *exe)
{
	const struct output_identity id = { .host_name = host_name,
					    .agent_version = EXFILMON_VERSION };

	return output_alert_json_ecs(a, &id, exe);
}

char *output_alert_json(const struct alert *a, const char *host_name)
{
	return output_alert_json_exe(a, host_name, NULL);
}
