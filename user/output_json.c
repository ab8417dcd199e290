// SPDX-License-Identifier: GPL-2.0-only
/*
 * JSON rendering with jansson: alerts in ECS field names (docs/alerts.md) and activity
 * slices. Strings from the system pass through output_sanitize_utf8 first, because a
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

/* Writes "\xNN" for one byte; the backslash itself is escaped the same way so that every
 * backslash in the output starts an escape and the original bytes are recoverable. */
static size_t escape_byte(unsigned char b, char *out, size_t room)
{
	if (room < 5)
		return 0;
	snprintf(out, 5, "\\x%02x", b);
	return 4;
}

void output_sanitize_utf8(const char *in, size_t in_len, char *out, size_t len)
{
	const unsigned char *s = (const unsigned char *)in;
	size_t o = 0;

	if (!len)
		return;
	for (size_t i = 0; i < in_len && s[i];) {
		size_t n = s[i] == '\\' ? 0 : utf8_seq(s + i, in_len - i), w;

		if (n) {
			if (o + n >= len)
				break;
			memcpy(out + o, s + i, n);
			o += n;
			i += n;
			continue;
		}
		w = escape_byte(s[i], out + o, len - o);
		if (!w)
			break;
		o += w;
		i++;
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
	size_t n = sizeof(rule_descriptions) / sizeof(rule_descriptions[0]);

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
	const char *name, *colon;
	char ip[64], *end;
	unsigned long port;
	json_t *d;

	if (!a->n_destinations || is_path(a->destinations[0].name))
		return;
	name = a->destinations[0].name;
	colon = strrchr(name, ':');
	if (!colon || colon == name || (size_t)(colon - name) >= sizeof(ip))
		return;
	if (name[0] == '[' && colon[-1] == ']')
		snprintf(ip, sizeof(ip), "%.*s", (int)(colon - name - 2), name + 1);
	else
		snprintf(ip, sizeof(ip), "%.*s", (int)(colon - name), name);
	errno = 0;
	port = strtoul(colon + 1, &end, 10);
	d = json_object();
	json_object_set_new(d, "ip", str(ip));
	if (!errno && end != colon + 1 && !*end && port <= 65535)
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

char *output_alert_json_exe(const struct alert *a, const char *host_name, const char *exe)
{
	json_t *o = json_object(), *host = json_object();

	if (!o || !host) {
		json_decref(o);
		json_decref(host);
		errno = ENOMEM;
		return NULL;
	}
	json_object_set_new(o, "@timestamp", when(a->raised_ns));
	json_object_set_new(o, "event", ecs_event(a));
	json_object_set_new(o, "rule", ecs_rule(a));
	json_object_set_new(o, "user", ecs_user(a));
	json_object_set_new(host, "name", str(host_name));
	json_object_set_new(o, "host", host);
	ecs_process(o, a, exe);
	ecs_file(o, a);
	ecs_destination(o, a);
	json_object_set_new(o, "exfilmon", exfilmon_obj(a));
	return dump(o);
}

char *output_alert_json(const struct alert *a, const char *host_name)
{
	return output_alert_json_exe(a, host_name, NULL);
}

static const char *const kind_names[] = {
	[ACT_SOURCE_FILE] = "source_file", [ACT_SOURCE_NET] = "source_net",
	[ACT_EGRESS_NET] = "egress_net", [ACT_EGRESS_MEDIA] = "egress_media",
	[ACT_EGRESS_SYNC] = "egress_sync", [ACT_STAGING] = "staging",
	[ACT_MMAP_SOURCE] = "mmap_source",
};

const char *output_activity_kind_name(enum activity_kind kind)
{
	size_t n = sizeof(kind_names) / sizeof(kind_names[0]);

	return (size_t)kind < n && kind_names[kind] ? kind_names[kind] : "unknown";
}

void output_buf_reset(struct output_buf *b)
{
	b->len = 0;
	b->oom = 0;
	b->members = 0;
	if (b->p)
		b->p[0] = '\0';
}

void output_buf_free(struct output_buf *b)
{
	free(b->p);
	memset(b, 0, sizeof(*b));
}

char *output_buf_take(struct output_buf *b)
{
	char *s = b->oom ? NULL : b->p;

	if (b->oom)
		free(b->p);
	memset(b, 0, sizeof(*b));
	if (!s)
		errno = ENOMEM;
	return s;
}

/* Room for n more bytes and the terminator. */
static bool room(struct output_buf *b, size_t n)
{
	size_t cap;
	char *p;

	if (b->oom)
		return false;
	if (b->len + n + 1 <= b->cap)
		return true;
	cap = b->cap ? b->cap : 256;
	while (cap < b->len + n + 1)
		cap *= 2;
	p = realloc(b->p, cap);
	if (!p) {
		b->oom = 1;
		return false;
	}
	b->p = p;
	b->cap = cap;
	return true;
}

static void put(struct output_buf *b, const char *s, size_t n)
{
	if (!room(b, n))
		return;
	memcpy(b->p + b->len, s, n);
	b->len += n;
	b->p[b->len] = '\0';
}

void output_obj_begin(struct output_buf *b)
{
	put(b, "{", 1);
	b->members = 0;
}

void output_obj_end(struct output_buf *b)
{
	put(b, "}", 1);
}

static void key(struct output_buf *b, const char *k, size_t n)
{
	if (!room(b, n + 4))
		return;
	if (b->members++)
		b->p[b->len++] = ',';
	b->p[b->len++] = '"';
	memcpy(b->p + b->len, k, n);
	b->len += n;
	b->p[b->len++] = '"';
	b->p[b->len++] = ':';
	b->p[b->len] = '\0';
}

/* JSON string escaping of valid UTF-8 as jansson's dump does it without flags: quote,
 * backslash and control characters only; "\u%04X" where no short form exists. */
static void put_escaped(struct output_buf *b, const char *s, size_t n)
{
	static const char hex[] = "0123456789ABCDEF";

	/* Worst case six bytes per input byte, plus the quotes. */
	if (!room(b, 6 * n + 2))
		return;
	b->p[b->len++] = '"';
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		char *o = b->p + b->len;

		if (c >= 0x20 && c != '"' && c != '\\') {
			*o = (char)c;
			b->len++;
			continue;
		}
		o[0] = '\\';
		b->len += 2;
		switch (c) {
		case '"': o[1] = '"'; break;
		case '\\': o[1] = '\\'; break;
		case '\b': o[1] = 'b'; break;
		case '\f': o[1] = 'f'; break;
		case '\n': o[1] = 'n'; break;
		case '\r': o[1] = 'r'; break;
		case '\t': o[1] = 't'; break;
		default:
			memcpy(o + 1, "u00", 3);
			o[4] = hex[c >> 4];
			o[5] = hex[c & 15];
			b->len += 4;
		}
	}
	b->p[b->len++] = '"';
	b->p[b->len] = '\0';
}

/* The common case, printable ASCII without quote or backslash, needs neither pass. */
static bool plain(const char *s, size_t *len)
{
	size_t i = 0;

	for (; s[i]; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c < 0x20 || c > 0x7e || c == '"' || c == '\\')
			return false;
	}
	*len = i;
	return i <= PATH_MAX * 4;
}

void output_keyn_str(struct output_buf *b, const char *k, size_t k_len, const char *val)
{
	char clean[PATH_MAX * 4 + 1];
	size_t n;

	if (!val) {
		output_keyn_null(b, k, k_len);
		return;
	}
	key(b, k, k_len);
	if (plain(val, &n)) {
		if (!room(b, n + 2))
			return;
		b->p[b->len++] = '"';
		memcpy(b->p + b->len, val, n);
		b->len += n;
		b->p[b->len++] = '"';
		b->p[b->len] = '\0';
		return;
	}
	output_sanitize_utf8(val, strlen(val), clean, sizeof(clean));
	put_escaped(b, clean, strlen(clean));
}

void output_keyn_int(struct output_buf *b, const char *k, size_t k_len, int64_t v)
{
	static const char pairs[] =
		"00010203040506070809101112131415161718192021222324252627282930313233343536373839"
		"40414243444546474849505152535455565758596061626364656667686970717273747576777879"
		"8081828384858687888990919293949596979899";
	char digits[24];
	size_t i = sizeof(digits);
	/* Unsigned negation is defined for INT64_MIN too. */
	uint64_t u = v < 0 ? -(uint64_t)v : (uint64_t)v;

	while (u >= 100) {
		unsigned d = (unsigned)(u % 100);

		u /= 100;
		i -= 2;
		memcpy(digits + i, pairs + 2 * d, 2);
	}
	if (u >= 10) {
		i -= 2;
		memcpy(digits + i, pairs + 2 * u, 2);
	} else {
		digits[--i] = (char)('0' + u);
	}
	if (v < 0)
		digits[--i] = '-';
	key(b, k, k_len);
	put(b, digits + i, sizeof(digits) - i);
}

void output_keyn_null(struct output_buf *b, const char *k, size_t k_len)
{
	key(b, k, k_len);
	put(b, "null", 4);
}

static int64_t clamp_u64(uint64_t v)
{
	return v > (uint64_t)LLONG_MAX ? LLONG_MAX : (int64_t)v;
}

/* Keys always present, null when unknown, except dst_ip/dst_port and mount, which only
 * egress slices carry (readers test for their presence). */
void output_activity_write(struct output_buf *b, const struct activity *act)
{
	output_obj_begin(b);
	output_key_str(b, "event", "activity");
	if (act->session_id == SESSION_NONE)
		output_key_null(b, "session_id");
	else
		output_key_int(b, "session_id", act->session_id);
	output_key_int(b, "loginuid", act->loginuid);
	output_key_int(b, "uid", act->uid);
	output_key_int(b, "pid", act->pid);
	output_key_str(b, "comm", act->comm);
	output_key_str(b, "exe", act->exe);
	output_key_str(b, "kind", output_activity_kind_name(act->kind));
	output_key_str(b, "object", act->object);
	output_key_int(b, "bytes", clamp_u64(act->bytes));
	output_key_int(b, "ops", clamp_u64(act->ops));
	output_key_int(b, "first_ns", clamp_u64(act->first_ns));
	output_key_int(b, "last_ns", clamp_u64(act->ts_ns));
	if (act->dst_ip) {
		output_key_str(b, "dst_ip", act->dst_ip);
		output_key_int(b, "dst_port", act->dst_port);
	}
	if (act->mount)
		output_key_str(b, "mount", act->mount);
	output_obj_end(b);
}

char *output_activity_json(const struct activity *act)
{
	struct output_buf b = { 0 };

	output_activity_write(&b, act);
	return output_buf_take(&b);
}
