// SPDX-License-Identifier: GPL-2.0-only
/*
 * Configuration: YAML through libyaml's document API, so every node keeps the line and
 * column it came from, and one table of keys (name, parser, bounds, default, hints, doc
 * line). The built-in default is YAML generated from that table and goes through the
 * same parsers, so the defaults, their hash and the reference cannot drift apart. A
 * load starts from the defaults and is all-or-nothing: on any error the caller gets a
 * zeroed struct and every error as "FILE:LINE:COL: key: message".
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include <openssl/evp.h>
#include <yaml.h>

#include "config.h"
#include "parse.h"

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))
#define SEC 1000000000ULL
#define DAY (86400 * SEC)
/* A config is a few KiB; anything this big is the wrong file. */
#define MAX_FILE_BYTES (1 << 20)
/*
 * The kernel tries hold XM_NET_ENTRIES (1024, bpf/maps.bpf.h) keys, and a reload adds
 * the new rules before removing stale ones, so a config may use at most half.
 */
#define MAX_NET_RULES 512
#define MAX_PATHS 1024
/* Sections hold lists of values: three levels; the slack is for flow-style writing. */
#define MAX_DEPTH 8
/* Past this many, more errors say nothing new (a file of 10000 aliases of one bad value). */
#define MAX_ERRORS 100

enum key_flags {
	F_OFF = 1 << 0,           /* "off" stores NULL (the output is disabled) */
	F_TILDE = 1 << 1,         /* "~/PATH" is accepted: that folder in every home */
	F_PORT_REQUIRED = 1 << 2, /* services: the kernel keys them by port first */
	F_PORT_FORBIDDEN = 1 << 3,/* allow: the kernel matches addresses only */
	F_ZERO_OK = 1 << 4,       /* 0 means "no limit" whatever min says */
	F_CLEAR_IN_SECTION = 1 << 5, /* absent from a section the file has: empty, not default */
};

struct errbuf {
	char *text;
	size_t len;
	unsigned count;
	bool oom;
};

struct key;

struct ctx {
	const char *file;
	yaml_document_t *doc;
	struct config *cfg;
	struct errbuf errs;
	yaml_node_t *seen[32];     /* per key: the value node, for duplicates and cross checks */
	yaml_node_t *section[32];  /* per key: the name of its section in the file, if there */
};

typedef int (*key_parser)(struct ctx *c, yaml_node_t *n, const struct key *k);

struct key {
	const char *name;          /* "section.key" */
	key_parser parse;
	size_t off, off2;          /* fields in struct config (off2: a list's count, a rate's window) */
	uint64_t min, max;         /* value bounds; for lists the most items */
	unsigned flags;
	const char *def;           /* default, as YAML flow text */
	const char *example;       /* syntax hint for messages */
	const char *range;         /* bounds in words, for messages */
	const char *doc;           /* one line for the reference */
};

static void add_error(struct ctx *c, size_t line, size_t col, const char *key, const char *fmt,
		      va_list ap)
{
	char msg[768], entry[1024];
	size_t add;
	char *t;

	if (c->errs.count > MAX_ERRORS)
		return;
	if (c->errs.count == MAX_ERRORS) {
		fmt = "too many errors, the rest are not shown";
		key = NULL;
	}
	vsnprintf(msg, sizeof(msg), fmt, ap);
	snprintf(entry, sizeof(entry), "%s:%zu:%zu: %s%s%s\n", c->file, line + 1, col + 1,
		 key ? key : "", key ? ": " : "", msg);
	add = strlen(entry);
	c->errs.count++;
	t = realloc(c->errs.text, c->errs.len + add + 1);
	if (!t) {
		c->errs.oom = true;
		return;
	}
	memcpy(t + c->errs.len, entry, add + 1);
	c->errs.text = t;
	c->errs.len += add;
}

/* Reports an error at node n (NULL: the start of the file), naming key when given. */
static void __attribute__((format(printf, 4, 5)))
error_at(struct ctx *c, const yaml_node_t *n, const char *key, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	add_error(c, n ? n->start_mark.line : 0, n ? n->start_mark.column : 0, key, fmt, ap);
	va_end(ap);
}

static void __attribute__((format(printf, 4, 5)))
error_mark(struct ctx *c, yaml_mark_t m, const char *key, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	add_error(c, m.line, m.column, key, fmt, ap);
	va_end(ap);
}

static int nomem(struct ctx *c)
{
	c->errs.oom = true;
	return -ENOMEM;
}

#define FIELD(type, off) ((type *)((char *)c->cfg + (off)))

static const char *scalar(const yaml_node_t *n)
{
	return n && n->type == YAML_SCALAR_NODE ? (const char *)n->data.scalar.value : NULL;
}

/* YAML's null: a plain empty value, "~" or "null". Quoted "" is a string. */
static bool is_null(const yaml_node_t *n)
{
	static const char *const nulls[] = { "", "~", "null", "Null", "NULL" };
	const char *s = scalar(n);

	if (!s || n->data.scalar.style != YAML_PLAIN_SCALAR_STYLE)
		return false;
	for (size_t i = 0; i < ARRAY_SIZE(nulls); i++)
		if (!strcmp(s, nulls[i]))
			return true;
	return false;
}

static const char *node_kind(const yaml_node_t *n)
{
	return n->type == YAML_SEQUENCE_NODE ? "a list" :
	       n->type == YAML_MAPPING_NODE ? "a mapping" : "a value";
}

/* The value of a single-valued key, or NULL after reporting why there is none. */
static const char *need_scalar(struct ctx *c, yaml_node_t *n, const struct key *k)
{
	const char *s = scalar(n);

	if (!s)
		error_at(c, n, k->name, "expected a single value, found %s (expected %s)",
			 node_kind(n), k->example);
	else if (is_null(n))
		error_at(c, n, k->name, "needs a value (expected %s)", k->example);
	else if (strlen(s) != n->data.scalar.length)
		error_at(c, n, k->name, "value contains a NUL character");
	else
		return s;
	return NULL;
}

/* One message for a value parse_*() refused: out of range, or not that syntax at all. */
static int bad_value(struct ctx *c, yaml_node_t *n, const struct key *k, const char *what,
		     const char *s, int err)
{
	if (err == -ERANGE && k->range)
		error_at(c, n, k->name, "%s \"%s\" out of range (%s)", what, s, k->range);
	else
		error_at(c, n, k->name, "invalid %s \"%s\" (expected %s)", what, s, k->example);
	return -EINVAL;
}

static int in_bounds(const struct key *k, uint64_t v)
{
	if (v == 0 && (k->flags & F_ZERO_OK))
		return 0;
	return v < k->min || v > k->max ? -ERANGE : 0;
}

static int p_size(struct ctx *c, yaml_node_t *n, const struct key *k)
{
	const char *s = need_scalar(c, n, k);
	uint64_t v;
	int err;

	if (!s)
		return -EINVAL;
	err = parse_size(s, &v);
	if (!err)
		err = in_bounds(k, v);
	if (err)
		return bad_value(c, n, k, "size", s, err);
	*FIELD(uint64_t, k->off) = v;
	return 0;
}

static int p_count(struct ctx *c, yaml_node_t *n, const struct key *k)
{
	const char *s = need_scalar(c, n, k);
	uint64_t v;
	int err;

	if (!s)
		return -EINVAL;
	err = parse_u64(s, k->min, k->max, &v);
	if (err)
		return bad_value(c, n, k, "number", s, err);
	*FIELD(uint64_t, k->off) = v;
	return 0;
}

static int duration_value(struct ctx *c, yaml_node_t *n, const struct key *k, uint64_t *v)
{
	const char *s = need_scalar(c, n, k);
	int err;

	if (!s)
		return -EINVAL;
	err = parse_duration(s, v);
	if (!err)
		err = in_bounds(k, *v);
	return err ? bad_value(c, n, k, "duration", s, err) : 0;
}

static int p_duration(struct ctx *c, yaml_node_t *n, const struct key *k)
{
	uint64_t v;

	if (duration_value(c, n, k, &v))
		return -EINVAL;
	*FIELD(uint64_t, k->off) = v;
	return 0;
}

static int p_interval_ms(struct ctx *c, yaml_node_t *n, const struct key *k)
{
	uint64_t v;

	if (duration_value(c, n, k, &v))
		return -EINVAL;
	*FIELD(uint32_t, k->off) = (uint32_t)(v / 1000000);
	return 0;
}

/* SIZE/DURATION; the bounds apply to the duration, the size only has to be non-zero. */
static int p_rate(struct ctx *c, yaml_node_t *n, const struct key *k)
{
	const char *s = need_scalar(c, n, k);
	uint64_t bytes, per;
	int err;

	if (!s)
		return -EINVAL;
	err = parse_rate(s, &bytes, &per);
	if (!err && (bytes == 0 || in_bounds(k, per)))
		err = -ERANGE;
	if (err)
		return bad_value(c, n, k, "rate", s, err);
	*FIELD(uint64_t, k->off) = bytes;
	*FIELD(uint64_t, k->off2) = per;
	return 0;
}

static int p_factor(struct ctx *c, yaml_node_t *n, const struct key *k)
{
	const char *s = need_scalar(c, n, k);
	double v;
	int err;

	if (!s)
		return -EINVAL;
	err = parse_double(s, (double)k->min, (double)k->max, &v);
	if (err)
		return bad_value(c, n, k, "number", s, err);
	*FIELD(double, k->off) = v;
	return 0;
}

static int p_bool(struct ctx *c, yaml_node_t *n, const struct key *k)
{
	static const struct {
		const char *text;
		bool value;
	} words[] = {
		{ "true", true }, { "yes", true }, { "on", true },
		{ "false", false }, { "no", false }, { "off", false },
	};
	const char *s = need_scalar(c, n, k);

	if (!s)
		return -EINVAL;
	for (size_t i = 0; i < ARRAY_SIZE(words); i++) {
		if (!strcasecmp(s, words[i].text)) {
			*FIELD(bool, k->off) = words[i].value;
			return 0;
		}
	}
	return bad_value(c, n, k, "boolean", s, -EINVAL);
}

static int set_string(struct ctx *c, const struct key *k, const char *s)
{
	char **dst = FIELD(char *, k->off);
	char *copy = NULL;

	if (s && !(copy = strdup(s)))
		return nomem(c);
	free(*dst);
	*dst = copy;
	return 0;
}

static int p_path(struct ctx *c, yaml_node_t *n, const struct key *k)
{
	const char *s = need_scalar(c, n, k);

	if (!s)
		return -EINVAL;
	if ((k->flags & F_OFF) && !strcmp(s, "off"))
		return set_string(c, k, NULL);
	if (s[0] != '/') {
		error_at(c, n, k->name, "\"%s\" is not an absolute path (expected %s)", s,
			 k->example);
		return -EINVAL;
	}
	return set_string(c, k, s);
}

/* unix:/PATH or tcp://HOST:PORT, checked as far as syslog_out_open() will take them. */
static int p_syslog(struct ctx *c, yaml_node_t *n, const struct key *k)
{
	const char *s = need_scalar(c, n, k), *colon;
	uint64_t port;

	if (!s)
		return -EINVAL;
	if (!strcmp(s, "off"))
		return set_string(c, k, NULL);
	/* sun_path holds 108 bytes with the terminator. */
	if (!strncmp(s, "unix:/", 6) && strlen(s + 5) < 108)
		return set_string(c, k, s);
	if (!strncmp(s, "tcp://", 6)) {
		colon = strrchr(s + 6, ':');
		if (colon && colon > s + 6 && colon - (s + 6) < 256 &&
		    !parse_u64(colon + 1, 1, 65535, &port))
			return set_string(c, k, s);
	}
	return bad_value(c, n, k, "syslog destination", s, -EINVAL);
}

static int p_ring(struct ctx *c, yaml_node_t *n, const struct key *k)
{
	const char *s = need_scalar(c, n, k);
	uint64_t v;
	int err;

	if (!s)
		return -EINVAL;
	err = parse_size(s, &v);
	/* The kernel refuses a ring that is not a power-of-two number of pages. */
	if (!err && (in_bounds(k, v) || (v & (v - 1))))
		err = -ERANGE;
	if (err)
		return bad_value(c, n, k, "ring size", s, err);
	*FIELD(uint32_t, k->off) = (uint32_t)v;
	return 0;
}

/* Item count of a list value: a sequence, one scalar (a one-item list) or null (empty).
 * Reports and returns -EINVAL for a mapping or too many items. */
static long list_length(struct ctx *c, yaml_node_t *n, const struct key *k)
{
	long len;

	if (is_null(n))
		return 0;
	if (n->type == YAML_SCALAR_NODE)
		return 1;
	if (n->type != YAML_SEQUENCE_NODE) {
		error_at(c, n, k->name, "expected a list, found %s (expected %s)", node_kind(n),
			 k->example);
		return -EINVAL;
	}
	len = n->data.sequence.items.top - n->data.sequence.items.start;
	if ((uint64_t)len > k->max) {
		error_at(c, n, k->name, "%ld items, at most %llu are supported", len,
			 (unsigned long long)k->max);
		return -EINVAL;
	}
	return len;
}

/* Item i of a list value as text, or NULL after reporting why it is not one. */
static const char *list_item(struct ctx *c, yaml_node_t *n, const struct key *k, long i,
			     yaml_node_t **item)
{
	*item = n;
	if (n->type == YAML_SEQUENCE_NODE)
		*item = yaml_document_get_node(c->doc, n->data.sequence.items.start[i]);
	return need_scalar(c, *item, k);
}

static bool path_ok(struct ctx *c, yaml_node_t *n, const struct key *k, const char *s)
{
	bool tilde = (k->flags & F_TILDE) && !strncmp(s, "~/", 2);

	if (s[0] != '/' && !tilde) {
		error_at(c, n, k->name, "\"%s\" is not an absolute path (expected %s)", s,
			 k->example);
		return false;
	}
	if ((k->flags & F_TILDE) && (!strcmp(s, "/") || !strcmp(s, "~/"))) {
		error_at(c, n, k->name, "\"%s\" would make every write egress", s);
		return false;
	}
	return true;
}

static void free_str_list(char **list, size_t n)
{
	for (size_t i = 0; list && i < n; i++)
		free(list[i]);
	free(list);
}

static int p_paths(struct ctx *c, yaml_node_t *n, const struct key *k)
{
	long len = list_length(c, n, k);
	size_t got = 0;
	char **list;
	int err = 0;

	if (len < 0)
		return -EINVAL;
	list = calloc(len + 1, sizeof(*list));
	if (!list)
		return nomem(c);
	for (long i = 0; i < len && err != -ENOMEM; i++) {
		yaml_node_t *item;
		const char *s = list_item(c, n, k, i, &item);

		if (!s || !path_ok(c, item, k, s))
			err = -EINVAL;
		else if (!(list[got++] = strdup(s)))
			err = nomem(c);
	}
	free_str_list(*FIELD(char **, k->off), *FIELD(size_t, k->off2));
	*FIELD(char **, k->off) = list;
	*FIELD(size_t, k->off2) = got;
	return err;
}

static int net_item(struct ctx *c, yaml_node_t *n, const struct key *k, const char *s,
		    struct net_match *m)
{
	int err = parse_net_match(s, m);

	if (err)
		return bad_value(c, n, k, "address", s, err);
	if ((k->flags & F_PORT_REQUIRED) && !m->port) {
		error_at(c, n, k->name, "\"%s\" needs a port (expected %s)", s, k->example);
		return -EINVAL;
	}
	if ((k->flags & F_PORT_FORBIDDEN) && m->port) {
		error_at(c, n, k->name, "\"%s\": rules here match addresses only, drop the port",
			 s);
		return -EINVAL;
	}
	return 0;
}

static int p_nets(struct ctx *c, yaml_node_t *n, const struct key *k)
{
	long len = list_length(c, n, k);
	struct net_match *list;
	size_t got = 0;
	int err = 0;

	if (len < 0)
		return -EINVAL;
	list = calloc(len + 1, sizeof(*list));
	if (!list)
		return nomem(c);
	for (long i = 0; i < len; i++) {
		yaml_node_t *item;
		const char *s = list_item(c, n, k, i, &item);

		if (!s || net_item(c, item, k, s, &list[got]))
			err = -EINVAL;
		else
			got++;
	}
	free(*FIELD(struct net_match *, k->off));
	*FIELD(struct net_match *, k->off) = list;
	*FIELD(size_t, k->off2) = got;
	return err;
}

#define OFF(f) offsetof(struct config, f)
#define DOFF(f) (offsetof(struct config, detect) + offsetof(struct detect_config, f))

static const struct key keys[] = {
	{ "sources.paths", p_paths, OFF(source_paths), OFF(n_source_paths), 0, MAX_PATHS,
	  F_CLEAR_IN_SECTION, "[/srv/crm-exports]", "a list of absolute paths", NULL,
	  "files or directory trees holding customer data" },
	{ "sources.services", p_nets, OFF(services), OFF(n_services), 0, MAX_NET_RULES,
	  F_PORT_REQUIRED | F_CLEAR_IN_SECTION, "[\"127.0.0.2:5432\"]",
	  "ADDR[/N]:PORT, e.g. 127.0.0.2:5432, 10.20.0.0/16:443, [::1]:5432",
	  "prefix at most /32 for IPv4, /128 for IPv6; port 1-65535",
	  "servers that return customer records" },
	{ "egress.allow", p_nets, OFF(allow), OFF(n_allow), 0, MAX_NET_RULES, F_PORT_FORBIDDEN,
	  "[127.0.0.1/32, 127.0.0.2/32, \"::1/128\"]", "ADDR[/N], e.g. 10.0.0.0/8, ::1/128",
	  "prefix at most /32 for IPv4, /128 for IPv6",
	  "destinations that are not exfiltration channels" },
	{ "egress.removable_media", p_bool, OFF(removable_media), 0, 0, 0, 0, "true",
	  "true or false", NULL, "writes to removable media count as egress" },
	{ "egress.sync_folders", p_paths, OFF(sync_folders), OFF(n_sync_folders), 0, MAX_PATHS,
	  F_TILDE, "[~/Dropbox, ~/Nextcloud]", "a list of absolute paths or ~/PATH", NULL,
	  "writes below these folders count as egress" },
	{ "detect.window", p_duration, DOFF(window_ns), 0, SEC, 7 * DAY, 0, "10m",
	  "e.g. 10m, 24h", "1s to 7d", "sliding window of the bulk rules" },
	{ "detect.bulk_read", p_size, DOFF(bulk_read_bytes), 0, 1, UINT64_MAX, 0, "50MiB",
	  "e.g. 50MiB, 5MB", "at least 1 byte", "source bytes in one window that make a collection" },
	{ "detect.bulk_objects", p_count, DOFF(bulk_objects), 0, 1, 100000000, 0, "2000",
	  "a whole number, e.g. 2000", "1 to 100000000",
	  "distinct source objects in one window that make a collection" },
	{ "detect.exfil", p_size, DOFF(exfil_bytes), 0, 1, UINT64_MAX, 0, "5MiB",
	  "e.g. 5MiB", "at least 1 byte", "unapproved egress bytes after a collection" },
	{ "detect.lookback", p_duration, DOFF(lookback_ns), 0, SEC, 90 * DAY, 0, "24h",
	  "e.g. 24h, 7d", "1s to 90d", "how long a collection stays linked to later egress" },
	{ "detect.drip", p_rate, DOFF(drip_bytes), DOFF(drip_window_ns), 60 * SEC, 90 * DAY, 0,
	  "200MiB/24h", "SIZE/DURATION, e.g. 200MiB/24h", "size at least 1 byte, duration 1m to 90d",
	  "slow collection per user over a long window" },
	{ "detect.staging", p_size, DOFF(staging_bytes), 0, 1, UINT64_MAX, 0, "50MiB",
	  "e.g. 50MiB", "at least 1 byte", "bytes a collecting session writes outside the sources" },
	{ "detect.baseline_factor", p_factor, DOFF(baseline_factor), 0, 1, 1000000, 0, "10",
	  "a number, e.g. 10 or 2.5", "1 to 1000000",
	  "a day above this many times the user's baseline is a deviation" },
	{ "detect.baseline_min", p_size, DOFF(baseline_min_bytes), 0, 0, UINT64_MAX, 0, "100MiB",
	  "e.g. 100MiB", NULL, "below this a day never counts as a deviation" },
	{ "output.alerts", p_path, OFF(alerts_path), 0, 0, 0, F_OFF,
	  "/var/log/exfilmon/alerts.jsonl", "an absolute path or off", NULL,
	  "alerts as JSON lines" },
	{ "output.evidence", p_path, OFF(evidence_dir), 0, 0, 0, 0, "/var/lib/exfilmon/evidence",
	  "an absolute path", NULL, "evidence store directory" },
	{ "output.syslog", p_syslog, OFF(syslog_url), 0, 0, 0, F_OFF, "unix:/dev/log",
	  "unix:/PATH, tcp://HOST:PORT or off", NULL, "RFC 5424 syslog destination" },
	{ "evidence.segment_size", p_size, OFF(evidence_segment_bytes), 0, 64 * 1024, 1ULL << 40,
	  0, "16MiB", "e.g. 16MiB", "64KiB to 1TiB", "segment file size before rotation" },
	{ "evidence.retention", p_duration, OFF(evidence_retention_ns), 0, 3600 * SEC,
	  100 * 365 * DAY, F_ZERO_OK, "180d", "e.g. 180d, or 0 to keep everything",
	  "0, or 1h to 100 years", "segments older than this are deleted" },
	{ "evidence.retention_size", p_size, OFF(evidence_retention_bytes), 0, 0, UINT64_MAX, 0,
	  "2GiB", "e.g. 2GiB, or 0 for no limit", NULL,
	  "oldest segments are deleted while the store is bigger" },
	{ "evidence.seal_interval", p_duration, OFF(evidence_seal_interval_ns), 0, SEC / 10,
	  3600 * SEC, 0, "5s", "e.g. 5s, 500ms", "100ms to 1h",
	  "a block is sealed at least this often" },
	{ "evidence.heartbeat", p_duration, OFF(evidence_heartbeat_ns), 0, SEC, 3600 * SEC, 0,
	  "60s", "e.g. 60s", "1s to 1h",
	  "a heartbeat block is sealed this often, so a stopped agent shows as a silence" },
	{ "agent.state_dir", p_path, OFF(state_dir), 0, 0, 0, 0, "/var/lib/exfilmon/state",
	  "an absolute path", NULL, "learned baselines and agent state" },
	{ "agent.ring_buffer", p_ring, OFF(ring_bytes), 0, 4096, 1ULL << 30, 0, "4MiB",
	  "a size, e.g. 4MiB", "a power of two from 4KiB to 1GiB", "kernel-to-agent ring buffer" },
	{ "agent.poll_interval", p_interval_ms, OFF(poll_interval_ms), 0, 10000000ULL, 60 * SEC,
	  0, "250ms", "e.g. 1s, 250ms", "10ms to 60s", "how often kernel counters are drained" },
};

_Static_assert(ARRAY_SIZE(keys) <= 32, "grow ctx.seen and ctx.section");

/* Length of the section part of a key name ("detect" in "detect.window"). */
static size_t section_len(const struct key *k)
{
	return strchr(k->name, '.') - k->name;
}

static bool in_section(const struct key *k, const char *section)
{
	size_t len = section_len(k);

	return strlen(section) == len && !strncmp(k->name, section, len);
}

/* Index of "section.name" in the table, or -1. */
static long find_key(const char *section, const char *name)
{
	for (size_t i = 0; i < ARRAY_SIZE(keys); i++)
		if (in_section(&keys[i], section) &&
		    !strcmp(keys[i].name + section_len(&keys[i]) + 1, name))
			return (long)i;
	return -1;
}

/* "window, bulk_read, ..." for section, or the section names for NULL; for messages. */
static const char *key_names(const char *section, char *buf, size_t size)
{
	size_t used = 0;

	buf[0] = '\0';
	for (size_t i = 0; i < ARRAY_SIZE(keys); i++) {
		const struct key *k = &keys[i];
		int len = (int)section_len(k);
		const char *name = section ? k->name + len + 1 : k->name;

		if (section && !in_section(k, section))
			continue;
		if (!section && i && !strncmp(keys[i - 1].name, k->name, len + 1))
			continue;
		used += snprintf(buf + used, used < size ? size - used : 0, "%s%.*s",
				 used ? ", " : "", section ? (int)strlen(name) : len, name);
	}
	return buf;
}

static void parse_pair(struct ctx *c, const char *section, yaml_node_pair_t *p)
{
	yaml_node_t *kn = yaml_document_get_node(c->doc, p->key);
	yaml_node_t *vn = yaml_document_get_node(c->doc, p->value);
	const char *name = scalar(kn);
	char full[160], list[512];
	long i;

	if (!name) {
		error_at(c, kn, section, "expected a key name, found %s", node_kind(kn));
		return;
	}
	snprintf(full, sizeof(full), "%s.%.100s", section, name);
	i = find_key(section, name);
	if (i < 0) {
		error_at(c, kn, full, "unknown key (%s takes %s)", section,
			 key_names(section, list, sizeof(list)));
	} else if (c->seen[i]) {
		error_at(c, kn, full, "given twice (first at line %zu)",
			 c->seen[i]->start_mark.line + 1);
	} else {
		c->seen[i] = vn;
		keys[i].parse(c, vn, &keys[i]);
	}
}

static void parse_section(struct ctx *c, yaml_node_t *name, yaml_node_t *map)
{
	const char *section = scalar(name);

	for (size_t i = 0; i < ARRAY_SIZE(keys); i++)
		if (in_section(&keys[i], section))
			c->section[i] = name;
	if (is_null(map))
		return;
	if (map->type != YAML_MAPPING_NODE) {
		error_at(c, map, section, "expected a mapping of keys, found %s", node_kind(map));
		return;
	}
	for (yaml_node_pair_t *p = map->data.mapping.pairs.start; p < map->data.mapping.pairs.top;
	     p++)
		parse_pair(c, section, p);
}

static bool known_section(const char *name)
{
	for (size_t i = 0; i < ARRAY_SIZE(keys); i++)
		if (in_section(&keys[i], name))
			return true;
	return false;
}

/* The key node of the first pair before upto named name, or NULL. */
static yaml_node_t *earlier_key(struct ctx *c, yaml_node_t *map, yaml_node_pair_t *upto,
				const char *name)
{
	for (yaml_node_pair_t *p = map->data.mapping.pairs.start; p < upto; p++) {
		yaml_node_t *kn = yaml_document_get_node(c->doc, p->key);
		const char *k = scalar(kn);

		if (k && !strcmp(k, name))
			return kn;
	}
	return NULL;
}

static void parse_root(struct ctx *c, yaml_node_t *root)
{
	char list[256];

	if (root->type != YAML_MAPPING_NODE) {
		error_at(c, root, NULL, "expected a mapping of sections (%s), found %s",
			 key_names(NULL, list, sizeof(list)), node_kind(root));
		return;
	}
	for (yaml_node_pair_t *p = root->data.mapping.pairs.start;
	     p < root->data.mapping.pairs.top; p++) {
		yaml_node_t *kn = yaml_document_get_node(c->doc, p->key);
		const char *name = scalar(kn);
		yaml_node_t *first;

		if (!name || !known_section(name))
			error_at(c, kn, name, "unknown section (expected %s)",
				 key_names(NULL, list, sizeof(list)));
		else if ((first = earlier_key(c, root, p, name)))
			error_at(c, kn, name, "section given twice (first at line %zu)",
				 first->start_mark.line + 1);
		else
			parse_section(c, kn, yaml_document_get_node(c->doc, p->value));
	}
}

/* Lists such as sources.services are dropped, not defaulted, from a section the file
 * writes out: "sources: {paths: [/data]}" watches /data and nothing else. */
static void clear_unset(struct ctx *c)
{
	for (size_t i = 0; i < ARRAY_SIZE(keys); i++) {
		const struct key *k = &keys[i];

		if (!(k->flags & F_CLEAR_IN_SECTION) || !c->section[i] || c->seen[i])
			continue;
		if (k->parse == p_paths)
			free_str_list(*FIELD(char **, k->off), *FIELD(size_t, k->off2));
		else
			free(*FIELD(void *, k->off));
		*FIELD(void *, k->off) = NULL;
		*FIELD(size_t, k->off2) = 0;
	}
}

/* Where to point at key name: its value, else its section, else the top of the file. */
static yaml_node_t *where(struct ctx *c, const char *name)
{
	for (size_t i = 0; i < ARRAY_SIZE(keys); i++)
		if (!strcmp(keys[i].name, name))
			return c->seen[i] ? c->seen[i] : c->section[i];
	return NULL;
}

/* Rules between keys, checked once every key parsed. */
static void cross_checks(struct ctx *c)
{
	const struct config *cfg = c->cfg;

	if (cfg->n_source_paths == 0 && cfg->n_services == 0)
		error_at(c, where(c, "sources.paths"), "sources",
			 "no paths and no services: nothing would be watched");
	if (cfg->evidence_retention_bytes &&
	    cfg->evidence_retention_bytes < cfg->evidence_segment_bytes)
		error_at(c, where(c, "evidence.retention_size"), "evidence.retention_size",
			 "smaller than evidence.segment_size: every segment would be deleted");
}

/* libyaml's reader errors carry a byte offset instead of a mark. */
static yaml_mark_t offset_mark(const char *text, size_t offset)
{
	yaml_mark_t m = { .index = offset };

	for (size_t i = 0; i < offset; i++) {
		if (text[i] == '\n') {
			m.line++;
			m.column = 0;
		} else {
			m.column++;
		}
	}
	return m;
}

static void syntax_error(struct ctx *c, const yaml_parser_t *parser, const char *text)
{
	yaml_mark_t at = parser->problem_mark;
	const char *problem = parser->problem ? parser->problem : "unreadable";

	if (parser->error == YAML_MEMORY_ERROR) {
		nomem(c);
		return;
	}
	if (parser->error == YAML_READER_ERROR)
		at = offset_mark(text, parser->problem_offset);
	if (parser->context)
		error_mark(c, at, NULL, "YAML syntax error: %s (%s at line %zu column %zu)",
			   problem, parser->context, parser->context_mark.line + 1,
			   parser->context_mark.column + 1);
	else
		error_mark(c, at, NULL, "YAML syntax error: %s", problem);
}

/* yaml_parser_load() stops after the first document; whatever follows must be nothing. */
static void expect_end(struct ctx *c, yaml_parser_t *parser, const char *text)
{
	yaml_document_t next;
	yaml_node_t *root;

	if (!yaml_parser_load(parser, &next)) {
		syntax_error(c, parser, text);
		return;
	}
	root = yaml_document_get_root_node(&next);
	if (root)
		error_at(c, root, NULL, "a second YAML document; a configuration is one document");
	yaml_document_delete(&next);
}

/*
 * A pass over the events before loading: libyaml's loader takes minutes over a file of
 * nothing but nested brackets, and a config never nests deeper than a list in a section.
 * Returns false after reporting a syntax error or too deep a nesting.
 */
static bool shallow_enough(struct ctx *c, const char *text, size_t len)
{
	yaml_parser_t parser;
	yaml_event_t ev;
	int depth = 0;
	bool ok = true, done = false;

	if (!yaml_parser_initialize(&parser)) {
		nomem(c);
		return false;
	}
	yaml_parser_set_input_string(&parser, (const unsigned char *)text, len);
	while (ok && !done) {
		if (!yaml_parser_parse(&parser, &ev)) {
			syntax_error(c, &parser, text);
			ok = false;
			break;
		}
		if (ev.type == YAML_SEQUENCE_START_EVENT || ev.type == YAML_MAPPING_START_EVENT)
			depth++;
		else if (ev.type == YAML_SEQUENCE_END_EVENT || ev.type == YAML_MAPPING_END_EVENT)
			depth--;
		if (depth > MAX_DEPTH) {
			error_mark(c, ev.start_mark, NULL, "nested more than %d levels deep",
				   MAX_DEPTH);
			ok = false;
		}
		done = ev.type == YAML_STREAM_END_EVENT;
		yaml_event_delete(&ev);
	}
	yaml_parser_delete(&parser);
	return ok;
}

/* Parses text into c->cfg on top of what is there; errors go to c->errs. */
static void parse_text(struct ctx *c, const char *text, size_t len)
{
	yaml_parser_t parser;
	yaml_document_t doc;
	yaml_node_t *root;

	if (!shallow_enough(c, text, len))
		return;
	if (!yaml_parser_initialize(&parser)) {
		nomem(c);
		return;
	}
	yaml_parser_set_input_string(&parser, (const unsigned char *)text, len);
	if (!yaml_parser_load(&parser, &doc)) {
		syntax_error(c, &parser, text);
		goto out_delete_parser;
	}
	c->doc = &doc;
	root = yaml_document_get_root_node(&doc);
	if (!root) {
		error_at(c, NULL, NULL, "empty configuration (expected sections such as sources, "
					"egress, detect)");
		goto out_delete_doc;
	}
	parse_root(c, root);
	expect_end(c, &parser, text);
	clear_unset(c);
	if (!c->errs.count && !c->errs.oom)
		cross_checks(c);
out_delete_doc:
	yaml_document_delete(&doc);
	c->doc = NULL;
out_delete_parser:
	yaml_parser_delete(&parser);
}

/* The default as YAML, one "section:" block per section in table order; caller frees. */
static char *builtin_text(size_t *len)
{
	char *text = NULL;
	FILE *f = open_memstream(&text, len);

	if (!f)
		return NULL;
	fputs("# exfilmon built-in default\n", f);
	for (size_t i = 0; i < ARRAY_SIZE(keys); i++) {
		const struct key *k = &keys[i];
		int slen = (int)section_len(k);

		if (!i || strncmp(keys[i - 1].name, k->name, slen + 1))
			fprintf(f, "%.*s:\n", slen, k->name);
		fprintf(f, "  %s: %s\n", k->name + slen + 1, k->def);
	}
	if (fclose(f)) {
		free(text);
		return NULL;
	}
	return text;
}

static int sha256_hex(const void *data, size_t len, char out[65])
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int n = 0;

	if (!EVP_Digest(data, len, md, &n, EVP_sha256(), NULL) || n != 32)
		return -EIO;
	for (unsigned int i = 0; i < n; i++)
		snprintf(out + 2 * i, 3, "%02x", md[i]);
	return 0;
}

/* Hands the collected errors to the caller (or frees them) and the verdict back. */
static int finish(struct ctx *c, char **errors)
{
	int err = c->errs.oom ? -ENOMEM : c->errs.count ? -EINVAL : 0;

	if (err)
		config_free(c->cfg);
	if (errors)
		*errors = c->errs.text;
	else
		free(c->errs.text);
	return err;
}

/* Fills cfg from the built-in text; a failure here is memory or a bug in the table. */
static int apply_builtin(struct config *cfg, char **errors)
{
	struct ctx c = { .file = "(builtin)", .cfg = cfg };
	size_t len;
	char *text = builtin_text(&len);
	int err;

	memset(cfg, 0, sizeof(*cfg));
	if (!text)
		return -ENOMEM;
	parse_text(&c, text, len);
	err = finish(&c, errors);
	if (!err && sha256_hex(text, len, cfg->sha256)) {
		config_free(cfg);
		err = -EIO;
	}
	free(text);
	return err;
}

int config_defaults(struct config *cfg)
{
	return apply_builtin(cfg, NULL);
}

int config_load_string(const char *name, const char *text, size_t len, struct config *cfg,
		       char **errors)
{
	struct ctx c = { .file = name, .cfg = cfg };
	int err;

	if (errors)
		*errors = NULL;
	err = apply_builtin(cfg, errors);
	if (err)
		return err;
	parse_text(&c, text, len);
	err = finish(&c, errors);
	if (!err && sha256_hex(text, len, cfg->sha256)) {
		config_free(cfg);
		err = -EIO;
	}
	return err;
}

/* Whole file into a malloc'd buffer; refuses files that cannot be a config. */
static int read_file(const char *path, char **text, size_t *len)
{
	size_t used = 0, cap = 16384;
	char *buf = malloc(cap);
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	int err = 0;

	if (fd < 0 || !buf) {
		err = -errno;
		goto out_close;
	}
	for (;;) {
		ssize_t n;

		if (used == cap) {
			char *bigger = cap >= MAX_FILE_BYTES ? NULL : realloc(buf, cap * 2);

			if (!bigger) {
				err = cap >= MAX_FILE_BYTES ? -EFBIG : -ENOMEM;
				goto out_close;
			}
			buf = bigger;
			cap *= 2;
		}
		n = read(fd, buf + used, cap - used);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			err = -errno;
			goto out_close;
		}
		if (n == 0)
			break;
		used += (size_t)n;
	}
	*text = buf;
	*len = used;
	buf = NULL;
out_close:
	if (fd >= 0)
		close(fd);
	free(buf);
	return err;
}

int config_load(const char *path, struct config *cfg, char **errors)
{
	char *text = NULL;
	size_t len = 0;
	int err;

	memset(cfg, 0, sizeof(*cfg));
	if (errors)
		*errors = NULL;
	if (!path)
		return config_defaults(cfg);
	err = read_file(path, &text, &len);
	if (err) {
		if (errors && asprintf(errors, "%s:1:1: cannot read: %s\n", path,
				       err == -EFBIG ? "larger than 1 MiB, not a configuration" :
				       strerror(-err)) < 0)
			*errors = NULL;
		return err;
	}
	err = config_load_string(path, text, len, cfg, errors);
	free(text);
	if (!err && !(cfg->path = strdup(path))) {
		config_free(cfg);
		err = -ENOMEM;
	}
	return err;
}

void config_free(struct config *cfg)
{
	free(cfg->path);
	free_str_list(cfg->source_paths, cfg->n_source_paths);
	free(cfg->services);
	free(cfg->allow);
	free_str_list(cfg->sync_folders, cfg->n_sync_folders);
	free(cfg->alerts_path);
	free(cfg->evidence_dir);
	free(cfg->syslog_url);
	free(cfg->state_dir);
	memset(cfg, 0, sizeof(*cfg));
}

static bool net_rule_matches(const struct net_match *r, const uint8_t addr[16], uint16_t port)
{
	int full = r->prefix / 8, rest = r->prefix % 8;

	if (r->port && r->port != port)
		return false;
	if (memcmp(r->addr, addr, full))
		return false;
	return !rest || !((r->addr[full] ^ addr[full]) & (uint8_t)(0xff << (8 - rest)));
}

bool config_net_match(const struct net_match *rules, size_t n, const uint8_t addr[16],
		      uint16_t port)
{
	for (size_t i = 0; i < n; i++)
		if (net_rule_matches(&rules[i], addr, port))
			return true;
	return false;
}

bool config_key_describe(size_t i, const char **name, const char **default_text,
			 const char **doc)
{
	if (i >= ARRAY_SIZE(keys))
		return false;
	*name = keys[i].name;
	*default_text = keys[i].def;
	*doc = keys[i].doc;
	return true;
}
