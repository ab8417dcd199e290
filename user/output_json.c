// SPDX-License-Identifier: GPL-2.0-only
/*
 * JSON rendering with jansson: alerts in ECS field names (docs/alerts.md) and activity
 * slices. Strings from the system pass through output_sanitize_utf8 first, because a
 * path is whatever bytes a user chose and jansson refuses invalid UTF-8.
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>

#include "output_json.h"

/* Length of the valid UTF-8 sequence at s (1-4), or 0 when it is not valid. */
static size_t utf8_seq(const unsigned char *s, size_t left)
{
	size_t n;
	uint32_t cp;

	if (s[0] < 0x80)
		return 1;
	if ((s[0] & 0xe0) == 0xc0)
		n = 2, cp = s[0] & 0x1f;
	else if ((s[0] & 0xf0) == 0xe0)
		n = 3, cp = s[0] & 0x0f;
	else if ((s[0] & 0xf8) == 0xf0)
		n = 4, cp = s[0] & 0x07;
	else
		return 0;
	if (n > left)
		return 0;
	for (size_t i = 1; i < n; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		cp = cp << 6 | (s[i] & 0x3f);
	}
	/* Overlong forms, surrogates and out-of-range code points are not UTF-8. */
	if ((n == 2 && cp < 0x80) || (n == 3 && cp < 0x800) || (n == 4 && cp < 0x10000) ||
	    (cp >= 0xd800 && cp <= 0xdfff) || cp > 0x10ffff)
		return 0;
	return n;
}

void output_sanitize_utf8(const char *in, size_t in_len, char *out, size_t len)
{
	const unsigned char *s = (const unsigned char *)in;
	size_t o = 0;

	if (!len)
		return;
	for (size_t i = 0; i < in_len && s[i];) {
		size_t n = utf8_seq(s + i, in_len - i);

		if (n) {
			if (o + n >= len)
				break;
			memcpy(out + o, s + i, n);
			o += n;
			i += n;
		} else {
			if (o + 4 >= len)
				break;
			snprintf(out + o, 5, "\\x%02x", s[i]);
			o += 4;
			i++;
		}
	}
	out[o] = '\0';
}

static json_t *str(const char *s)
{
	char clean[PATH_MAX * 4 + 1];

	if (!s)
		return json_null();
	output_sanitize_utf8(s, strlen(s), clean, sizeof(clean));
	return json_string(clean);
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

	for (unsigned i = 0; i < n; i++) {
		json_t *o = json_object();

		json_object_set_new(o, "name", str(v[i].name));
		json_object_set_new(o, "bytes", json_integer((json_int_t)v[i].bytes));
		if (with_pid)
			json_object_set_new(o, "pid", json_integer(v[i].pid));
		json_array_append_new(a, o);
	}
	return a;
}

static const char *const rule_descriptions[] = {
	[RULE_BULK_READ] = "Bulk collection: source bytes in one window above the threshold",
	[RULE_BULK_OBJECTS] = "Bulk collection: distinct source objects in one window above the threshold",
	[RULE_EXFIL] = "Exfiltration: collected data followed by bytes leaving through an unapproved channel",
	[RULE_STAGING] = "Staging: collected data written to files outside the sources",
	[RULE_DRIP] = "Slow drip: cumulative source volume over a long window above the threshold",
	[RULE_BASELINE] = "Deviation from the user's own daily baseline",
};

static json_t *ecs_event(const struct alert *a)
{
	json_t *e = json_object(), *cat = json_array();
	char id[32];

	snprintf(id, sizeof(id), "%llu", (unsigned long long)a->id);
	json_array_append_new(cat, json_string(a->rule == RULE_EXFIL && a->n_destinations &&
							       a->destinations[0].name[0] != '/'
						       ? "network" : "file"));
	json_object_set_new(e, "kind", json_string("alert"));
	json_object_set_new(e, "category", cat);
	json_object_set_new(e, "action", json_string(alert_rule_name(a->rule)));
	json_object_set_new(e, "id", json_string(id));
	json_object_set_new(e, "sequence", json_integer(a->revision));
	json_object_set_new(e, "start", when(a->start_ns));
	json_object_set_new(e, "end", when(a->end_ns));
	return e;
}

/* destination.ip/port from the top "ip:port" destination, when it is one. */
static void ecs_destination(json_t *root, const struct alert *a)
{
	char ip[64];
	const char *name, *colon;
	json_t *d;

	if (!a->n_destinations)
		return;
	name = a->destinations[0].name;
	colon = strrchr(name, ':');
	if (name[0] == '/' || !colon || colon == name)
		return;
	snprintf(ip, sizeof(ip), "%.*s", (int)(colon - name), name);
	if (ip[0] == '[') {
		memmove(ip, ip + 1, strlen(ip));
		ip[strcspn(ip, "]")] = '\0';
	}
	d = json_object();
	json_object_set_new(d, "ip", json_string(ip));
	json_object_set_new(d, "port", json_integer(atoi(colon + 1)));
	json_object_set_new(root, "destination", d);
}

static json_t *exfilmon_obj(const struct alert *a)
{
	json_t *x = json_object();

	json_object_set_new(x, "alert_id", json_integer((json_int_t)a->id));
	json_object_set_new(x, "revision", json_integer(a->revision));
	json_object_set_new(x, "session_id", a->session_id == SESSION_NONE ? json_null()
									   : json_integer(a->session_id));
	json_object_set_new(x, "loginuid", json_integer(a->loginuid));
	json_object_set_new(x, "tty", str(a->tty));
	json_object_set_new(x, "remote_host", str(a->remote_host));
	json_object_set_new(x, "episode_start", when(a->start_ns));
	json_object_set_new(x, "episode_end", when(a->end_ns));
	json_object_set_new(x, "source_bytes", json_integer((json_int_t)a->source_bytes));
	json_object_set_new(x, "source_objects", json_integer((json_int_t)a->source_objects));
	json_object_set_new(x, "egress_bytes", json_integer((json_int_t)a->egress_bytes));
	json_object_set_new(x, "threshold", json_integer((json_int_t)a->threshold));
	json_object_set_new(x, "baseline_bytes", json_real(a->baseline_bytes));
	json_object_set_new(x, "sources", items(a->sources, a->n_sources, 0));
	json_object_set_new(x, "destinations", items(a->destinations, a->n_destinations, 0));
	json_object_set_new(x, "processes", items(a->processes, a->n_processes, 1));
	json_object_set_new(x, "evidence_first_seq", json_integer((json_int_t)a->evidence_first_seq));
	json_object_set_new(x, "evidence_last_seq", json_integer((json_int_t)a->evidence_last_seq));
	json_object_set_new(x, "config_sha256", json_string(a->config_sha256));
	return x;
}

static char *dump(json_t *o)
{
	char *s = json_dumps(o, JSON_COMPACT);

	json_decref(o);
	if (!s)
		errno = ENOMEM;
	return s;
}

char *output_alert_json(const struct alert *a, const char *host_name)
{
	json_t *o = json_object(), *rule = json_object(), *user = json_object(),
	       *host = json_object();
	char uid[16];

	if (!o)
		return NULL;
	json_object_set_new(o, "@timestamp", when(a->raised_ns));
	json_object_set_new(o, "event", ecs_event(a));
	json_object_set_new(rule, "name", json_string(alert_rule_name(a->rule)));
	if (a->rule >= RULE_BULK_READ && a->rule <= RULE_BASELINE)
		json_object_set_new(rule, "description", json_string(rule_descriptions[a->rule]));
	json_object_set_new(o, "rule", rule);
	snprintf(uid, sizeof(uid), "%u", a->loginuid);
	json_object_set_new(user, "name", str(a->user));
	json_object_set_new(user, "id", json_string(uid));
	json_object_set_new(o, "user", user);
	json_object_set_new(host, "name", str(host_name));
	json_object_set_new(o, "host", host);
	if (a->n_processes) {
		json_t *p = json_object();

		json_object_set_new(p, "pid", json_integer(a->processes[0].pid));
		json_object_set_new(p, "name", str(a->processes[0].name));
		json_object_set_new(o, "process", p);
	}
	if (a->n_sources && a->sources[0].name[0] == '/') {
		json_t *f = json_object();

		json_object_set_new(f, "path", str(a->sources[0].name));
		json_object_set_new(o, "file", f);
	}
	ecs_destination(o, a);
	json_object_set_new(o, "exfilmon", exfilmon_obj(a));
	return dump(o);
}

static const char *const kind_names[] = {
	[ACT_SOURCE_FILE] = "source_file", [ACT_SOURCE_NET] = "source_net",
	[ACT_EGRESS_NET] = "egress_net", [ACT_EGRESS_MEDIA] = "egress_media",
	[ACT_EGRESS_SYNC] = "egress_sync", [ACT_STAGING] = "staging",
	[ACT_MMAP_SOURCE] = "mmap_source",
};

char *output_activity_json(const struct activity *act)
{
	json_t *o = json_object();

	if (!o)
		return NULL;
	json_object_set_new(o, "event", json_string("activity"));
	json_object_set_new(o, "session_id", act->session_id == SESSION_NONE
						     ? json_null() : json_integer(act->session_id));
	json_object_set_new(o, "loginuid", json_integer(act->loginuid));
	json_object_set_new(o, "uid", json_integer(act->uid));
	json_object_set_new(o, "pid", json_integer(act->pid));
	json_object_set_new(o, "comm", str(act->comm));
	json_object_set_new(o, "exe", str(act->exe));
	json_object_set_new(o, "kind", json_string(act->kind > 0 && act->kind <= ACT_MMAP_SOURCE
							   ? kind_names[act->kind] : "unknown"));
	json_object_set_new(o, "object", str(act->object));
	json_object_set_new(o, "bytes", json_integer((json_int_t)act->bytes));
	json_object_set_new(o, "ops", json_integer((json_int_t)act->ops));
	json_object_set_new(o, "first_ns", json_integer((json_int_t)act->first_ns));
	json_object_set_new(o, "last_ns", json_integer((json_int_t)act->ts_ns));
	if (act->dst_ip) {
		json_object_set_new(o, "dst_ip", json_string(act->dst_ip));
		json_object_set_new(o, "dst_port", json_integer(act->dst_port));
	}
	if (act->mount)
		json_object_set_new(o, "mount", str(act->mount));
	return dump(o);
}
