// SPDX-License-Identifier: GPL-2.0-only
/*
 * Value parsers named by the key table: one per value syntax (size, count, duration,
 * rate, factor, bool, path(s), syslog URL, ring size, network rules), each checking
 * bounds once and reporting at the value's node.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "config_int.h"
#include "parse.h"

static int bad_value(struct ctx *c, yaml_node_t *n, const struct key *k, const char *what,
		     const char *s, int err)
{
	if (err == -ERANGE && k->range)
		cfg_error_at(c, n, k->name, "%s \"%s\" out of range (%s)", what, s, k->range);
	else
		cfg_error_at(c, n, k->name, "invalid %s \"%s\" (expected %s)", what, s, k->example);
	return -EINVAL;
}

static int in_bounds(const struct key *k, uint64_t v)
{
	if (v == 0 && (k->flags & F_ZERO_OK))
		return 0;
	return v < k->min || v > k->max ? -ERANGE : 0;
}

int cfg_value_size(struct ctx *c, yaml_node_t *n, const struct key *k)
{
	const char *s = cfg_need_scalar(c, n, k);
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

int cfg_value_count(struct ctx *c, yaml_node_t *n, const struct key *k)
{
	const char *s = cfg_need_scalar(c, n, k);
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
	const char *s = cfg_need_scalar(c, n, k);
	int err;

	if (!s)
		return -EINVAL;
	err = parse_duration(s, v);
	if (!err)
		err = in_bounds(k, *v);
	return err ? bad_value(c, n, k, "duration", s, err) : 0;
}

int cfg_value_duration(struct ctx *c, yaml_node_t *n, const struct key *k)
{
	uint64_t v;

	if (duration_value(c, n, k, &v))
		return -EINVAL;
	*FIELD(uint64_t, k->off) = v;
	return 0;
}

int cfg_value_interval_ms(struct ctx *c, yaml_node_t *n, const struct key *k)
{
	uint64_t v;

	if (duration_value(c, n, k, &v))
		return -EINVAL;
	*FIELD(uint32_t, k->off) = (uint32_t)(v / 1000000);
	return 0;
}

/* SIZE/DURATION; the bounds apply to the duration, the size only has to be non-zero. */
int cfg_value_rate(struct ctx *c, yaml_node_t *n, const struct key *k)
{
	const char *s = cfg_need_scalar(c, n, k);
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

int cfg_value_factor(struct ctx *c, yaml_node_t *n, const struct key *k)
{
	const char *s = cfg_need_scalar(c, n, k);
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

int cfg_value_bool(struct ctx *c, yaml_node_t *n, const struct key *k)
{
	static const struct {
		const char *text;
		bool value;
	} words[] = {
		{ "true", true }, { "yes", true }, { "on", true },
		{ "false", false }, { "no", false }, { "off", false },
	};
	const char *s = cfg_need_scalar(c, n, k);

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
		return cfg_nomem(c);
	free(*dst);
	*dst = copy;
	return 0;
}

static bool path_ok(struct ctx *c, yaml_node_t *n, const struct key *k, const char *s,
		    char *out, size_t len);

int cfg_value_path(struct ctx *c, yaml_node_t *n, const struct key *k)
{
	const char *s = cfg_need_scalar(c, n, k);
	char norm[PATH_MAX];

	if (!s)
		return -EINVAL;
	if ((k->flags & F_OFF) && !strcmp(s, "off"))
		return set_string(c, k, NULL);
	if (!path_ok(c, n, k, s, norm, sizeof(norm)))
		return -EINVAL;
	return set_string(c, k, norm);
}

/* unix:/PATH or tcp://HOST:PORT, checked as far as syslog_out_open() will take them. */
int cfg_value_syslog(struct ctx *c, yaml_node_t *n, const struct key *k)
{
	const char *s = cfg_need_scalar(c, n, k);
	char host[256];
	uint16_t port;

	if (!s)
		return -EINVAL;
	if (!strcmp(s, "off"))
		return set_string(c, k, NULL);
	/* sun_path holds 108 bytes with the terminator. */
	if (!strncmp(s, "unix:/", 6) && strlen(s + 5) < 108)
		return set_string(c, k, s);
	if ((!strncmp(s, "tcp://", 6) || !strncmp(s, "tls://", 6)) &&
	    !parse_host_port(s + 6, host, sizeof(host), &port))
		return set_string(c, k, s);
	return bad_value(c, n, k, "syslog destination", s, -EINVAL);
}

/* The facilities an admin may route on; kern (0) and the obsolete ones are left out. */
int cfg_value_facility(struct ctx *c, yaml_node_t *n, const struct key *k)
{
	static const struct {
		const char *name;
		int number;
	} names[] = {
		{ "user", 1 }, { "daemon", 3 }, { "auth", 4 }, { "syslog", 5 }, { "authpriv", 10 },
		{ "local0", 16 }, { "local1", 17 }, { "local2", 18 }, { "local3", 19 },
		{ "local4", 20 }, { "local5", 21 }, { "local6", 22 }, { "local7", 23 },
	};
	const char *s = cfg_need_scalar(c, n, k);

	if (!s)
		return -EINVAL;
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		if (!strcmp(s, names[i].name)) {
			*FIELD(int, k->off) = names[i].number;
			return 0;
		}
	}
	return bad_value(c, n, k, "syslog facility", s, -EINVAL);
}

/* "system" (the distribution's trust store) or the path of a PEM file. */
int cfg_value_ca(struct ctx *c, yaml_node_t *n, const struct key *k)
{
	const char *s = cfg_need_scalar(c, n, k);

	if (!s)
		return -EINVAL;
	if (!strcmp(s, "system"))
		return set_string(c, k, NULL);
	return cfg_value_path(c, n, k);
}

int cfg_value_ring(struct ctx *c, yaml_node_t *n, const struct key *k)
{
	const char *s = cfg_need_scalar(c, n, k);
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

/* Item count of a list value: a sequence, one cfg_scalar (a one-item list) or null (empty).
 * Reports and returns -EINVAL for a mapping or too many items. */
static long list_length(struct ctx *c, yaml_node_t *n, const struct key *k)
{
	long len;

	if (cfg_is_null(n))
		return 0;
	if (n->type == YAML_SCALAR_NODE)
		return 1;
	if (n->type != YAML_SEQUENCE_NODE) {
		cfg_error_at(c, n, k->name, "expected a list, found %s (expected %s)", cfg_node_kind(n),
			 k->example);
		return -EINVAL;
	}
	len = n->data.sequence.items.top - n->data.sequence.items.start;
	if ((uint64_t)len > k->max) {
		cfg_error_at(c, n, k->name, "%ld items, at most %llu are supported", len,
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
	return cfg_need_scalar(c, *item, k);
}

/*
 * The one spelling of a path: repeated slashes and "." components dropped, no trailing
 * slash, "~/" kept as a prefix. ".." is refused rather than resolved, since through a
 * symlink the kernel would resolve it elsewhere than a string operation. So "//", "/."
 * and "/srv/../" cannot slip past the checks that follow, which compare strings.
 * Returns 0, -EINVAL for a ".." component, -ENAMETOOLONG past len.
 */
static int normalize_path(const char *in, bool tilde, char *out, size_t len)
{
	size_t root = tilde ? 2 : 1, o = root;

	if (len < 3)
		return -ENAMETOOLONG;
	memcpy(out, tilde ? "~/" : "/", root + 1);
	for (const char *p = in + root; *p;) {
		size_t n = strcspn(p, "/");

		if (n == 2 && !strncmp(p, "..", 2))
			return -EINVAL;
		if (n && !(n == 1 && *p == '.')) {
			if (o > root)
				out[o++] = '/';
			if (o + n + 1 > len)
				return -ENAMETOOLONG;
			memcpy(out + o, p, n);
			o += n;
			out[o] = '\0';
		}
		p += n + (p[n] == '/');
	}
	return 0;
}

/* Checks s as a path of key k and writes its normalized spelling to out. */
static bool path_ok(struct ctx *c, yaml_node_t *n, const struct key *k, const char *s,
		    char *out, size_t len)
{
	bool tilde = (k->flags & F_TILDE) && !strncmp(s, "~/", 2);
	int err;

	if (s[0] != '/' && !tilde) {
		cfg_error_at(c, n, k->name, "\"%s\" is not an absolute path (expected %s)", s,
			     k->example);
		return false;
	}
	err = normalize_path(s, tilde, out, len);
	if (err) {
		cfg_error_at(c, n, k->name, "\"%s\": %s", s, err == -EINVAL ?
			     "a \"..\" component is not allowed (write the path without it)" :
			     "path too long");
		return false;
	}
	if ((k->flags & F_TILDE) && (!strcmp(out, "/") || !strcmp(out, "~/"))) {
		cfg_error_at(c, n, k->name, "\"%s\" would make every write egress", s);
		return false;
	}
	if ((k->flags & F_NOT_ROOT) && !strcmp(out, "/")) {
		cfg_error_at(c, n, k->name, "\"%s\" would watch every file on the machine", s);
		return false;
	}
	return true;
}

bool config_path_within(const char *path, const char *tree)
{
	size_t n = strlen(tree);

	if (n == 1 && tree[0] == '/')
		return path[0] == '/';
	return !strncmp(path, tree, n) && (path[n] == '\0' || path[n] == '/');
}

void cfg_free_str_list(char **list, size_t n)
{
	for (size_t i = 0; list && i < n; i++)
		free(list[i]);
	free(list);
}

int cfg_value_paths(struct ctx *c, yaml_node_t *n, const struct key *k)
{
	long len = list_length(c, n, k);
	size_t got = 0;
	char **list;
	int err = 0;

	if (len < 0)
		return -EINVAL;
	list = calloc(len + 1, sizeof(*list));
	if (!list)
		return cfg_nomem(c);
	for (long i = 0; i < len && err != -ENOMEM; i++) {
		char norm[PATH_MAX];
		yaml_node_t *item;
		const char *s = list_item(c, n, k, i, &item);

		if (!s || !path_ok(c, item, k, s, norm, sizeof(norm)))
			err = -EINVAL;
		else if (!(list[got++] = strdup(norm)))
			err = cfg_nomem(c);
	}
	cfg_free_str_list(*FIELD(char **, k->off), *FIELD(size_t, k->off2));
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
		cfg_error_at(c, n, k->name, "\"%s\" needs a port (expected %s)", s, k->example);
		return -EINVAL;
	}
	if ((k->flags & F_PORT_FORBIDDEN) && m->port) {
		cfg_error_at(c, n, k->name, "\"%s\": rules here match addresses only, drop the port",
			 s);
		return -EINVAL;
	}
	return 0;
}

int cfg_value_nets(struct ctx *c, yaml_node_t *n, const struct key *k)
{
	long len = list_length(c, n, k);
	struct net_match *list;
	size_t got = 0;
	int err = 0;

	if (len < 0)
		return -EINVAL;
	list = calloc(len + 1, sizeof(*list));
	if (!list)
		return cfg_nomem(c);
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

/* A NATS server URL as libnats takes it: nats:// or tls://, then HOST:PORT (no user). */
static bool url_ok(const char *s)
{
	char host[256];
	uint16_t port;

	if (!strncmp(s, "nats://", 7))
		s += 7;
	else if (!strncmp(s, "tls://", 6))
		s += 6;
	else
		return false;
	return !parse_host_port(s, host, sizeof(host), &port);
}

/* [A-Za-z0-9_-]{1,64}: one NATS subject token and a message-id part, never a wildcard
 * or separator that would let a host publish for others (docs/fleet.md). */
bool config_name_ok(const char *s)
{
	size_t n = strspn(s, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-");

	return n && n <= 64 && !s[n];
}

/* A list of server URLs (F_URL) or of names. */
int cfg_value_words(struct ctx *c, yaml_node_t *n, const struct key *k)
{
	long len = list_length(c, n, k);
	size_t got = 0;
	char **list;
	int err = 0;

	if (len < 0)
		return -EINVAL;
	list = calloc(len + 1, sizeof(*list));
	if (!list)
		return cfg_nomem(c);
	for (long i = 0; i < len && err != -ENOMEM; i++) {
		yaml_node_t *item;
		const char *s = list_item(c, n, k, i, &item);
		bool url = k->flags & F_URL;

		if (!s)
			err = -EINVAL;
		else if (!(url ? url_ok(s) : config_name_ok(s)))
			err = bad_value(c, item, k, url ? "server URL" : "name", s, -EINVAL);
		else if (!(list[got++] = strdup(s)))
			err = cfg_nomem(c);
	}
	cfg_free_str_list(*FIELD(char **, k->off), *FIELD(size_t, k->off2));
	*FIELD(char **, k->off) = list;
	*FIELD(size_t, k->off2) = got;
	return err;
}

/* A host id as written, or an absolute path of a file holding it (read at start). */
int cfg_value_host_id(struct ctx *c, yaml_node_t *n, const struct key *k)
{
	const char *s = cfg_need_scalar(c, n, k);

	if (!s)
		return -EINVAL;
	if (s[0] == '/')
		return cfg_value_path(c, n, k);
	if (!config_name_ok(s))
		return bad_value(c, n, k, "host id", s, -EINVAL);
	return set_string(c, k, s);
}

/* tls: {ca: PATH, cert: PATH, key: PATH}, every entry optional. */
int cfg_value_tls(struct ctx *c, yaml_node_t *n, const struct key *k)
{
	static const struct {
		const char *name;
		size_t off;
	} parts[] = {
		{ "ca", offsetof(struct config, fleet_tls_ca) },
		{ "cert", offsetof(struct config, fleet_tls_cert) },
		{ "key", offsetof(struct config, fleet_tls_key) },
	};
	int err = 0;

	if (cfg_is_null(n))
		return 0;
	if (n->type != YAML_MAPPING_NODE) {
		cfg_error_at(c, n, k->name, "expected a mapping, found %s (expected %s)",
			     cfg_node_kind(n), k->example);
		return -EINVAL;
	}
	for (yaml_node_pair_t *p = n->data.mapping.pairs.start; p < n->data.mapping.pairs.top;
	     p++) {
		yaml_node_t *kn = yaml_document_get_node(c->doc, p->key);
		yaml_node_t *vn = yaml_document_get_node(c->doc, p->value);
		const char *name = cfg_scalar(kn);
		struct key part = *k;
		size_t i;

		for (i = 0; name && i < ARRAY_SIZE(parts); i++)
			if (!strcmp(name, parts[i].name))
				break;
		if (!name || i == ARRAY_SIZE(parts)) {
			cfg_error_at(c, kn, k->name, "unknown entry \"%s\" (expected ca, cert, key)",
				     name ? name : "?");
			err = -EINVAL;
			continue;
		}
		part.off = parts[i].off;
		if (cfg_value_path(c, vn, &part))
			err = -EINVAL;
	}
	return err;
}
