// SPDX-License-Identifier: GPL-2.0-only
/*
 * Configuration: YAML through libyaml's document API (every node keeps its line and
 * column), keys handled by one table (name, parser, bounds, offset, doc line). Loading
 * starts from the defaults and is all-or-nothing: any error and the caller gets nothing
 * but the list of errors, each "FILE:LINE:COL: key: message".
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <openssl/evp.h>
#include <yaml.h>

#include "config.h"
#include "parse.h"

#define MIB (1024ULL * 1024)
#define SEC 1000000000ULL

struct errbuf {
	char *text;
	size_t len;
	unsigned count;
};

struct ctx {
	const char *file;
	yaml_document_t *doc;
	struct config *cfg;
	struct errbuf errs;
};

static void error_at(struct ctx *c, const yaml_node_t *n, const char *key, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

static void error_at(struct ctx *c, const yaml_node_t *n, const char *key, const char *fmt, ...)
{
	char msg[512], line[1024];
	va_list ap;
	size_t add;
	char *t;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	snprintf(line, sizeof(line), "%s:%zu:%zu: %s%s%s\n", c->file,
		 n ? n->start_mark.line + 1 : 1, n ? n->start_mark.column + 1 : 1,
		 key ? key : "", key ? ": " : "", msg);
	add = strlen(line);
	t = realloc(c->errs.text, c->errs.len + add + 1);
	if (!t)
		return;
	memcpy(t + c->errs.len, line, add + 1);
	c->errs.text = t;
	c->errs.len += add;
	c->errs.count++;
}

static const char *scalar(const yaml_node_t *n)
{
	return n && n->type == YAML_SCALAR_NODE ? (const char *)n->data.scalar.value : NULL;
}

struct key;
typedef int (*key_parser)(struct ctx *c, yaml_node_t *n, const struct key *k);

struct key {
	const char *name;        /* "section.key" */
	key_parser parse;
	size_t off;              /* into struct config */
	size_t off2;             /* second field (rate: window) */
	uint64_t min, max;
	const char *expect;      /* shown in errors */
};

#define FIELD(p) ((char *)c->cfg + (p))

static int need_scalar(struct ctx *c, yaml_node_t *n, const struct key *k, const char **out)
{
	*out = scalar(n);
	if (!*out) {
		error_at(c, n, k->name, "expected a single value (%s)", k->expect);
		return -EINVAL;
	}
	return 0;
}

static int p_size(struct ctx *c, yaml_node_t *n, const struct key *k)
{
	const char *s;
	uint64_t v;

	if (need_scalar(c, n, k, &s))
		return -EINVAL;
	if (parse_size(s, &v) || v < k->min || v > k->max) {
		error_at(c, n, k->name, "invalid size \"%s\" (%s)", s, k->expect);
		return -EINVAL;
	}
	*(uint64_t *)FIELD(k->off) = v;
	return 0;
}

static int p_count(struct ctx *c, yaml_node_t *n, const struct key *k)
{
	const char *s;
	uint64_t v;

	if (need_scalar(c, n, k, &s))
		return -EINVAL;
	if (parse_u64(s, k->min, k->max, &v)) {
		error_at(c, n, k->name, "invalid number \"%s\" (%s)", s, k->expect);
		return -EINVAL;
	}
	*(uint64_t *)FIELD(k->off) = v;
	return 0;
}

static int p_duration(struct ctx *c, yaml_node_t *n, const struct key *k)
{
	const char *s;
	uint64_t v;

	if (need_scalar(c, n, k, &s))
		return -EINVAL;
	if (parse_duration(s, &v) || v < k->min || v > k->max) {
		error_at(c, n, k->name, "invalid duration \"%s\" (%s)", s, k->expect);
		return -EINVAL;
	}
	*(uint64_t *)FIELD(k->off) = v;
	return 0;
}

static int p_interval_ms(struct ctx *c, yaml_node_t *n, const struct key *k)
{
	const char *s;
	uint64_t v;

	if (need_scalar(c, n, k, &s))
		return -EINVAL;
	if (parse_duration(s, &v) || v < k->min || v > k->max) {
		error_at(c, n, k->name, "invalid duration \"%s\" (%s)", s, k->expect);
		return -EINVAL;
	}
	*(uint32_t *)FIELD(k->off) = (uint32_t)(v / 1000000);
	return 0;
}

static int p_rate(struct ctx *c, yaml_node_t *n, const struct key *k)
{
	uint64_t bytes, per;
	const char *s;

	if (need_scalar(c, n, k, &s))
		return -EINVAL;
	if (parse_rate(s, &bytes, &per) || bytes == 0) {
		error_at(c, n, k->name, "invalid rate \"%s\" (%s)", s, k->expect);
		return -EINVAL;
	}
	*(uint64_t *)FIELD(k->off) = bytes;
	*(uint64_t *)FIELD(k->off2) = per;
	return 0;
}

static int p_double(struct ctx *c, yaml_node_t *n, const struct key *k)
{
	const char *s;
	double v;

	if (need_scalar(c, n, k, &s))
		return -EINVAL;
	if (parse_double(s, (double)k->min, (double)k->max, &v)) {
		error_at(c, n, k->name, "invalid number \"%s\" (%s)", s, k->expect);
		return -EINVAL;
	}
	*(double *)FIELD(k->off) = v;
	return 0;
}

static int p_bool(struct ctx *c, yaml_node_t *n, const struct key *k)
{
	static const char *const yes[] = { "true", "yes", "on" }, *const no[] = { "false", "no", "off" };
	const char *s;

	if (need_scalar(c, n, k, &s))
		return -EINVAL;
	for (int i = 0; i < 3; i++) {
		if (!strcasecmp(s, yes[i]) || !strcasecmp(s, no[i])) {
			*(bool *)FIELD(k->off) = !strcasecmp(s, yes[i]);
			return 0;
		}
	}
	error_at(c, n, k->name, "invalid boolean \"%s\" (%s)", s, k->expect);
	return -EINVAL;
}

static int set_string(struct ctx *c, const struct key *k, const char *s)
{
	char **dst = (char **)FIELD(k->off);

	free(*dst);
	*dst = strdup(s);
	return *dst ? 0 : -ENOMEM;
}

static int p_abs_path(struct ctx *c, yaml_node_t *n, const struct key *k)
{
	const char *s;

	if (need_scalar(c, n, k, &s))
		return -EINVAL;
	if (s[0] != '/') {
		error_at(c, n, k->name, "\"%s\" is not an absolute path", s);
		return -EINVAL;
	}
	return set_string(c, k, s);
}

static int p_syslog(struct ctx *c, yaml_node_t *n, const struct key *k)
{
	const char *s;

	if (need_scalar(c, n, k, &s))
		return -EINVAL;
	if (!strcmp(s, "off") || !strcmp(s, "")) {
		char **dst = (char **)FIELD(k->off);

		free(*dst);
		*dst = NULL;
		return 0;
	}
	if (strncmp(s, "unix:/", 6) && strncmp(s, "tcp://", 6)) {
		error_at(c, n, k->name, "\"%s\": expected unix:/PATH, tcp://HOST:PORT or off", s);
		return -EINVAL;
	}
	return set_string(c, k, s);
}

static int p_ring(struct ctx *c, yaml_node_t *n, const struct key *k)
{
	const char *s;
	uint64_t v;

	if (need_scalar(c, n, k, &s))
		return -EINVAL;
	if (parse_size(s, &v) || v < k->min || v > k->max || (v & (v - 1))) {
		error_at(c, n, k->name, "invalid ring size \"%s\" (%s)", s, k->expect);
		return -EINVAL;
	}
	*(uint32_t *)FIELD(k->off) = (uint32_t)v;
	return 0;
}

/* A sequence of scalars (a single scalar is taken as a one-item list). */
static int each_item(struct ctx *c, yaml_node_t *n, const struct key *k,
		     int (*item)(struct ctx *c, yaml_node_t *n, const struct key *k, size_t i),
		     size_t *count)
{
	yaml_node_item_t *it;
	size_t i = 0;
	int err = 0;

	if (n->type == YAML_SCALAR_NODE) {
		*count = 1;
		return item(c, n, k, 0);
	}
	if (n->type != YAML_SEQUENCE_NODE) {
		error_at(c, n, k->name, "expected a list (%s)", k->expect);
		return -EINVAL;
	}
	*count = n->data.sequence.items.top - n->data.sequence.items.start;
	for (it = n->data.sequence.items.start; it < n->data.sequence.items.top; it++, i++) {
		yaml_node_t *e = yaml_document_get_node(c->doc, *it);

		if (!scalar(e)) {
			error_at(c, e, k->name, "list items must be single values");
			err = -EINVAL;
			continue;
		}
		err |= item(c, e, k, i);
	}
	return err ? -EINVAL : 0;
}

static char **str_list_slot(struct ctx *c, const struct key *k, size_t **count)
{
	*count = (size_t *)FIELD(k->off2);
	return (char **)FIELD(k->off);
}

static int str_item(struct ctx *c, yaml_node_t *n, const struct key *k, size_t i)
{
	size_t *count;
	char ***list = (char ***)str_list_slot(c, k, &count);
	const char *s = scalar(n);

	if (k->min && s[0] != '/') {
		error_at(c, n, k->name, "\"%s\" is not an absolute path", s);
		return -EINVAL;
	}
	if (!k->min && s[0] != '/' && strncmp(s, "~/", 2)) {
		error_at(c, n, k->name, "\"%s\": expected an absolute path or ~/PATH", s);
		return -EINVAL;
	}
	(*list)[i] = strdup(s);
	return (*list)[i] ? 0 : -ENOMEM;
}

static void free_str_list(char **list, size_t n)
{
	for (size_t i = 0; list && i < n; i++)
		free(list[i]);
	free(list);
}

static int p_paths(struct ctx *c, yaml_node_t *n, const struct key *k)
{
	size_t *count;
	char ***list = (char ***)str_list_slot(c, k, &count);
	size_t cap = n->type == YAML_SEQUENCE_NODE
			     ? (size_t)(n->data.sequence.items.top - n->data.sequence.items.start)
			     : 1;

	free_str_list(*list, *count);
	*count = 0;
	*list = calloc(cap + 1, sizeof(char *));
	if (!*list)
		return -ENOMEM;
	return each_item(c, n, k, str_item, count);
}

static int net_item(struct ctx *c, yaml_node_t *n, const struct key *k, size_t i)
{
	struct net_match *list = *(struct net_match **)FIELD(k->off);
	const char *s = scalar(n);

	if (parse_net_match(s, &list[i])) {
		error_at(c, n, k->name, "invalid address \"%s\" (%s)", s, k->expect);
		return -EINVAL;
	}
	return 0;
}

static int p_nets(struct ctx *c, yaml_node_t *n, const struct key *k)
{
	struct net_match **list = (struct net_match **)FIELD(k->off);
	size_t *count = (size_t *)FIELD(k->off2);
	size_t cap = n->type == YAML_SEQUENCE_NODE
			     ? (size_t)(n->data.sequence.items.top - n->data.sequence.items.start)
			     : 1;

	free(*list);
	*count = 0;
	*list = calloc(cap + 1, sizeof(**list));
	if (!*list)
		return -ENOMEM;
	return each_item(c, n, k, net_item, count);
}

#define OFF(f) offsetof(struct config, f)
#define DOFF(f) (offsetof(struct config, detect) + offsetof(struct detect_config, f))

static const struct key keys[] = {
	{ "sources.paths", p_paths, OFF(source_paths), OFF(n_source_paths), 1, 0,
	  "absolute paths of files or directory trees" },
	{ "sources.services", p_nets, OFF(services), OFF(n_services), 0, 0,
	  "e.g. 127.0.0.2:5432, 10.20.0.0/16:443, [::1]:5432" },
	{ "egress.allow", p_nets, OFF(allow), OFF(n_allow), 0, 0, "e.g. 10.0.0.0/8, 127.0.0.1/32" },
	{ "egress.removable_media", p_bool, OFF(removable_media), 0, 0, 0, "true or false" },
	{ "egress.sync_folders", p_paths, OFF(sync_folders), OFF(n_sync_folders), 0, 0,
	  "absolute paths or ~/PATH" },
	{ "detect.window", p_duration, DOFF(window_ns), 0, SEC, 7 * 86400 * SEC,
	  "e.g. 10m; 1s to 7d" },
	{ "detect.bulk_read", p_size, DOFF(bulk_read_bytes), 0, 1, UINT64_MAX, "e.g. 50MiB" },
	{ "detect.bulk_objects", p_count, DOFF(bulk_objects), 0, 1, 100000000, "e.g. 2000" },
	{ "detect.exfil", p_size, DOFF(exfil_bytes), 0, 1, UINT64_MAX, "e.g. 5MiB" },
	{ "detect.lookback", p_duration, DOFF(lookback_ns), 0, SEC, 90 * 86400 * SEC,
	  "e.g. 24h; 1s to 90d" },
	{ "detect.drip", p_rate, DOFF(drip_bytes), DOFF(drip_window_ns), 0, 0, "e.g. 200MiB/24h" },
	{ "detect.staging", p_size, DOFF(staging_bytes), 0, 1, UINT64_MAX, "e.g. 50MiB" },
	{ "detect.baseline_factor", p_double, DOFF(baseline_factor), 0, 1, 1000000,
	  "a number from 1, e.g. 10" },
	{ "detect.baseline_min", p_size, DOFF(baseline_min_bytes), 0, 0, UINT64_MAX,
	  "e.g. 100MiB" },
	{ "output.alerts", p_abs_path, OFF(alerts_path), 0, 0, 0, "an absolute path" },
	{ "output.evidence", p_abs_path, OFF(evidence_dir), 0, 0, 0, "an absolute path" },
	{ "output.syslog", p_syslog, OFF(syslog_url), 0, 0, 0,
	  "unix:/dev/log, tcp://HOST:PORT or off" },
	{ "evidence.segment_size", p_size, OFF(evidence_segment_bytes), 0, 64 * 1024,
	  1ULL << 40, "e.g. 16MiB; at least 64KiB" },
	{ "evidence.retention", p_duration, OFF(evidence_retention_ns), 0, 0, UINT64_MAX,
	  "e.g. 180d; 0 keeps everything" },
	{ "evidence.retention_size", p_size, OFF(evidence_retention_bytes), 0, 0, UINT64_MAX,
	  "e.g. 2GiB; 0 keeps everything" },
	{ "evidence.seal_interval", p_duration, OFF(evidence_seal_interval_ns), 0, SEC / 10,
	  3600 * SEC, "e.g. 5s; 100ms to 1h" },
	{ "agent.state_dir", p_abs_path, OFF(state_dir), 0, 0, 0, "an absolute path" },
	{ "agent.ring_buffer", p_ring, OFF(ring_bytes), 0, 4096, 1ULL << 30,
	  "a power of two from 4KiB to 1GiB" },
	{ "agent.poll_interval", p_interval_ms, OFF(poll_interval_ms), 0, 10000000ULL,
	  60 * SEC, "e.g. 1s; 10ms to 60s" },
};

static const char *const sections[] = { "sources", "egress", "detect", "output", "evidence",
					"agent" };

static const struct key *find_key(const char *section, const char *name)
{
	char full[128];

	snprintf(full, sizeof(full), "%s.%s", section, name);
	for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++)
		if (!strcmp(keys[i].name, full))
			return &keys[i];
	return NULL;
}

static bool known_section(const char *s)
{
	for (size_t i = 0; i < sizeof(sections) / sizeof(sections[0]); i++)
		if (!strcmp(sections[i], s))
			return true;
	return false;
}

/* Walks a mapping, reporting keys given twice (YAML allows it; a config must not). */
static bool duplicate(struct ctx *c, yaml_node_t *map, yaml_node_pair_t *upto, const char *name)
{
	for (yaml_node_pair_t *p = map->data.mapping.pairs.start; p < upto; p++) {
		const char *k = scalar(yaml_document_get_node(c->doc, p->key));

		if (k && !strcmp(k, name))
			return true;
	}
	return false;
}

static void parse_section(struct ctx *c, const char *section, yaml_node_t *map)
{
	char full[128];

	if (map->type != YAML_MAPPING_NODE) {
		if (!(map->type == YAML_SCALAR_NODE && !*scalar(map)))
			error_at(c, map, section, "expected a mapping of keys");
		return;
	}
	for (yaml_node_pair_t *p = map->data.mapping.pairs.start; p < map->data.mapping.pairs.top;
	     p++) {
		yaml_node_t *kn = yaml_document_get_node(c->doc, p->key);
		yaml_node_t *vn = yaml_document_get_node(c->doc, p->value);
		const char *name = scalar(kn);
		const struct key *k;

		if (!name) {
			error_at(c, kn, section, "keys must be plain names");
			continue;
		}
		snprintf(full, sizeof(full), "%s.%s", section, name);
		k = find_key(section, name);
		if (!k)
			error_at(c, kn, full, "unknown key");
		else if (duplicate(c, map, p, name))
			error_at(c, kn, full, "given twice");
		else
			k->parse(c, vn, k);
	}
}

static void parse_root(struct ctx *c)
{
	yaml_node_t *root = yaml_document_get_root_node(c->doc);

	if (!root) {
		error_at(c, NULL, NULL, "empty configuration");
		return;
	}
	if (root->type != YAML_MAPPING_NODE) {
		error_at(c, root, NULL, "expected a mapping of sections (sources, egress, ...)");
		return;
	}
	for (yaml_node_pair_t *p = root->data.mapping.pairs.start;
	     p < root->data.mapping.pairs.top; p++) {
		yaml_node_t *kn = yaml_document_get_node(c->doc, p->key);
		const char *name = scalar(kn);

		if (!name || !known_section(name))
			error_at(c, kn, name, "unknown section (expected sources, egress, detect, "
					      "output, evidence or agent)");
		else if (duplicate(c, root, p, name))
			error_at(c, kn, name, "section given twice");
		else
			parse_section(c, name, yaml_document_get_node(c->doc, p->value));
	}
}

static void cross_checks(struct ctx *c)
{
	if (c->cfg->n_source_paths == 0 && c->cfg->n_services == 0)
		error_at(c, yaml_document_get_root_node(c->doc), "sources",
			 "no paths and no services: nothing would be watched");
}

static void sha256_hex(const void *data, size_t len, char out[65])
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int n = 0;

	EVP_Digest(data, len, md, &n, EVP_sha256(), NULL);
	for (unsigned i = 0; i < n && i < 32; i++)
		sprintf(out + 2 * i, "%02x", md[i]);
	out[64] = '\0';
}

static const char builtin_text[] =
	"sources: {paths: [/srv/crm-exports], services: [\"127.0.0.2:5432\"]}\n"
	"egress: {allow: [127.0.0.1/32, 127.0.0.2/32, \"::1/128\"], removable_media: true,\n"
	"         sync_folders: [~/Dropbox, ~/Nextcloud]}\n"
	"detect: {window: 10m, bulk_read: 50MiB, bulk_objects: 2000, exfil: 5MiB, lookback: 24h,\n"
	"         drip: 200MiB/24h, staging: 50MiB, baseline_factor: 10, baseline_min: 100MiB}\n"
	"output: {alerts: /var/log/exfilmon/alerts.jsonl, evidence: /var/lib/exfilmon/evidence,\n"
	"         syslog: unix:/dev/log}\n"
	"evidence: {segment_size: 16MiB, retention: 180d, retention_size: 2GiB, seal_interval: 5s}\n"
	"agent: {state_dir: /var/lib/exfilmon/state, ring_buffer: 4MiB, poll_interval: 1s}\n";

/* The hard-wired base every file is applied on top of. */
static void base_defaults(struct config *cfg)
{
	memset(cfg, 0, sizeof(*cfg));
	cfg->removable_media = true;
	cfg->detect = (struct detect_config){
		.window_ns = 600 * SEC,
		.bulk_read_bytes = 50 * MIB,
		.bulk_objects = 2000,
		.exfil_bytes = 5 * MIB,
		.lookback_ns = 86400 * SEC,
		.drip_bytes = 200 * MIB,
		.drip_window_ns = 86400 * SEC,
		.staging_bytes = 50 * MIB,
		.baseline_factor = 10,
		.baseline_min_bytes = 100 * MIB,
	};
	cfg->alerts_path = strdup("/var/log/exfilmon/alerts.jsonl");
	cfg->evidence_dir = strdup("/var/lib/exfilmon/evidence");
	cfg->syslog_url = strdup("unix:/dev/log");
	cfg->state_dir = strdup("/var/lib/exfilmon/state");
	cfg->evidence_segment_bytes = 16 * MIB;
	cfg->evidence_retention_ns = 180 * 86400 * SEC;
	cfg->evidence_retention_bytes = 2048 * MIB;
	cfg->evidence_seal_interval_ns = 5 * SEC;
	cfg->ring_bytes = 4 * MIB;
	cfg->poll_interval_ms = 1000;
}

static int load_text(const char *name, const char *text, size_t len, struct config *cfg,
		     char **errors)
{
	struct ctx c = { .file = name, .cfg = cfg };
	yaml_parser_t parser;
	yaml_document_t doc;

	base_defaults(cfg);
	yaml_parser_initialize(&parser);
	yaml_parser_set_input_string(&parser, (const unsigned char *)text, len);
	if (!yaml_parser_load(&parser, &doc)) {
		yaml_node_t at = { .start_mark = parser.problem_mark };

		error_at(&c, &at, NULL, "YAML syntax: %s%s%s", parser.problem,
			 parser.context ? " " : "", parser.context ? parser.context : "");
		yaml_parser_delete(&parser);
		goto out;
	}
	c.doc = &doc;
	parse_root(&c);
	if (!c.errs.count)
		cross_checks(&c);
	yaml_document_delete(&doc);
	yaml_parser_delete(&parser);
out:
	if (c.errs.count) {
		config_free(cfg);
		if (errors)
			*errors = c.errs.text;
		else
			free(c.errs.text);
		return -EINVAL;
	}
	sha256_hex(text, len, cfg->sha256);
	if (errors)
		*errors = NULL;
	return 0;
}

void config_defaults(struct config *cfg)
{
	if (load_text("(builtin)", builtin_text, sizeof(builtin_text) - 1, cfg, NULL))
		base_defaults(cfg);
}

int config_load_string(const char *name, const char *text, size_t len, struct config *cfg,
		       char **errors)
{
	return load_text(name, text, len, cfg, errors);
}

int config_load(const char *path, struct config *cfg, char **errors)
{
	FILE *f = fopen(path, "rb");
	char *text = NULL;
	size_t len = 0;
	int err;

	memset(cfg, 0, sizeof(*cfg));
	if (!f || (text = malloc(1 << 20)) == NULL) {
		err = -errno;
		if (errors && asprintf(errors, "%s:1:1: cannot read: %s\n", path, strerror(errno)) < 0)
			*errors = NULL;
		if (f)
			fclose(f);
		return err;
	}
	len = fread(text, 1, (1 << 20) - 1, f);
	fclose(f);
	text[len] = '\0';
	err = load_text(path, text, len, cfg, errors);
	free(text);
	if (!err)
		cfg->path = strdup(path);
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

bool config_net_match(const struct net_match *rules, size_t n, const uint8_t addr[16],
		      uint16_t port)
{
	for (size_t i = 0; i < n; i++) {
		const struct net_match *r = &rules[i];
		int bits = r->prefix, full = bits / 8;

		if (r->port && r->port != port)
			continue;
		if (memcmp(r->addr, addr, full))
			continue;
		if (bits % 8 && ((r->addr[full] ^ addr[full]) & (uint8_t)(0xff << (8 - bits % 8))))
			continue;
		return true;
	}
	return false;
}
