// SPDX-License-Identifier: GPL-2.0-only
/*
 * The YAML side of the config: libyaml document walking (sections, keys, duplicates,
 * depth), error collection as "FILE:LINE:COL: key: message", and the checks between
 * keys that run once every key parsed.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "config_int.h"
#include "parse.h"

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
void __attribute__((format(printf, 4, 5)))
cfg_error_at(struct ctx *c, const yaml_node_t *n, const char *key, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	add_error(c, n ? n->start_mark.line : 0, n ? n->start_mark.column : 0, key, fmt, ap);
	va_end(ap);
}

void __attribute__((format(printf, 4, 5)))
cfg_error_mark(struct ctx *c, yaml_mark_t m, const char *key, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	add_error(c, m.line, m.column, key, fmt, ap);
	va_end(ap);
}

int cfg_nomem(struct ctx *c)
{
	c->errs.oom = true;
	return -ENOMEM;
}

const char *cfg_scalar(const yaml_node_t *n)
{
	return n && n->type == YAML_SCALAR_NODE ? (const char *)n->data.scalar.value : NULL;
}

/* YAML's null: a plain empty value, "~" or "null". Quoted "" is a string. */
bool cfg_is_null(const yaml_node_t *n)
{
	static const char *const nulls[] = { "", "~", "null", "Null", "NULL" };
	const char *s = cfg_scalar(n);

	if (!s || n->data.scalar.style != YAML_PLAIN_SCALAR_STYLE)
		return false;
	for (size_t i = 0; i < ARRAY_SIZE(nulls); i++)
		if (!strcmp(s, nulls[i]))
			return true;
	return false;
}

const char *cfg_node_kind(const yaml_node_t *n)
{
	return n->type == YAML_SEQUENCE_NODE ? "a list" :
	       n->type == YAML_MAPPING_NODE ? "a mapping" : "a value";
}

/* The value of a single-valued key, or NULL after reporting why there is none. */
const char *cfg_need_scalar(struct ctx *c, yaml_node_t *n, const struct key *k)
{
	const char *s = cfg_scalar(n);

	if (!s)
		cfg_error_at(c, n, k->name, "expected a single value, found %s (expected %s)",
			 cfg_node_kind(n), k->example);
	else if (cfg_is_null(n))
		cfg_error_at(c, n, k->name, "needs a value (expected %s)", k->example);
	else if (strlen(s) != n->data.scalar.length)
		cfg_error_at(c, n, k->name, "value contains a NUL character");
	else
		return s;
	return NULL;
}

/* One message for a value parse_*() refused: out of range, or not that syntax at all. */

static void parse_pair(struct ctx *c, const char *section, yaml_node_pair_t *p)
{
	yaml_node_t *kn = yaml_document_get_node(c->doc, p->key);
	yaml_node_t *vn = yaml_document_get_node(c->doc, p->value);
	const char *name = cfg_scalar(kn);
	char full[160], list[512];
	long i;

	if (!name) {
		cfg_error_at(c, kn, section, "expected a key name, found %s", cfg_node_kind(kn));
		return;
	}
	snprintf(full, sizeof(full), "%s.%.100s", section, name);
	i = cfg_find_key(section, name);
	if (i < 0) {
		cfg_error_at(c, kn, full, "unknown key (%s takes %s)", section,
			 cfg_key_names(section, list, sizeof(list)));
	} else if (c->seen[i]) {
		cfg_error_at(c, kn, full, "given twice (first at line %zu)",
			 c->seen[i]->start_mark.line + 1);
	} else {
		c->seen[i] = vn;
		cfg_keys[i].parse(c, vn, &cfg_keys[i]);
	}
}

static void parse_section(struct ctx *c, yaml_node_t *name, yaml_node_t *map)
{
	const char *section = cfg_scalar(name);

	for (size_t i = 0; i < cfg_n_keys; i++)
		if (cfg_in_section(&cfg_keys[i], section))
			c->section[i] = name;
	if (cfg_is_null(map))
		return;
	if (map->type != YAML_MAPPING_NODE) {
		cfg_error_at(c, map, section, "expected a mapping of keys, found %s", cfg_node_kind(map));
		return;
	}
	for (yaml_node_pair_t *p = map->data.mapping.pairs.start; p < map->data.mapping.pairs.top;
	     p++)
		parse_pair(c, section, p);
}

static bool known_section(const char *name)
{
	for (size_t i = 0; i < cfg_n_keys; i++)
		if (cfg_in_section(&cfg_keys[i], name))
			return true;
	return false;
}

/* The key node of the first pair before upto named name, or NULL. */
static yaml_node_t *earlier_key(struct ctx *c, yaml_node_t *map, yaml_node_pair_t *upto,
				const char *name)
{
	for (yaml_node_pair_t *p = map->data.mapping.pairs.start; p < upto; p++) {
		yaml_node_t *kn = yaml_document_get_node(c->doc, p->key);
		const char *k = cfg_scalar(kn);

		if (k && !strcmp(k, name))
			return kn;
	}
	return NULL;
}

static void parse_root(struct ctx *c, yaml_node_t *root)
{
	char list[256];

	if (root->type != YAML_MAPPING_NODE) {
		cfg_error_at(c, root, NULL, "expected a mapping of sections (%s), found %s",
			 cfg_key_names(NULL, list, sizeof(list)), cfg_node_kind(root));
		return;
	}
	for (yaml_node_pair_t *p = root->data.mapping.pairs.start;
	     p < root->data.mapping.pairs.top; p++) {
		yaml_node_t *kn = yaml_document_get_node(c->doc, p->key);
		const char *name = cfg_scalar(kn);
		yaml_node_t *first;

		if (!name || !known_section(name))
			cfg_error_at(c, kn, name, "unknown section (expected %s)",
				 cfg_key_names(NULL, list, sizeof(list)));
		else if ((first = earlier_key(c, root, p, name)))
			cfg_error_at(c, kn, name, "section given twice (first at line %zu)",
				 first->start_mark.line + 1);
		else
			parse_section(c, kn, yaml_document_get_node(c->doc, p->value));
	}
}

/* Lists such as sources.services are dropped, not defaulted, from a section the file
 * writes out: "sources: {paths: [/data]}" watches /data and nothing else. */
static void clear_unset(struct ctx *c)
{
	for (size_t i = 0; i < cfg_n_keys; i++) {
		const struct key *k = &cfg_keys[i];

		if (!(k->flags & F_CLEAR_IN_SECTION) || !c->section[i] || c->seen[i])
			continue;
		if (k->parse == cfg_value_paths)
			cfg_free_str_list(*FIELD(char **, k->off), *FIELD(size_t, k->off2));
		else
			free(*FIELD(void *, k->off));
		*FIELD(void *, k->off) = NULL;
		*FIELD(size_t, k->off2) = 0;
	}
}

/* Where to point at key name: its value, else its section, else the top of the file. */
static yaml_node_t *where(struct ctx *c, const char *name)
{
	for (size_t i = 0; i < cfg_n_keys; i++)
		if (!strcmp(cfg_keys[i].name, name))
			return c->seen[i] ? c->seen[i] : c->section[i];
	return NULL;
}

/* Item i of the list given for key name: its node in the file, or where the key is set
 * (its section, the top of the file) when the value is the default. */
static yaml_node_t *item_where(struct ctx *c, const char *name, size_t i)
{
	yaml_node_t *n = where(c, name);

	for (size_t k = 0; k < cfg_n_keys; k++) {
		if (strcmp(cfg_keys[k].name, name) || n != c->seen[k] || !n)
			continue;
		if (n->type == YAML_SEQUENCE_NODE &&
		    (long)i < n->data.sequence.items.top - n->data.sequence.items.start)
			return yaml_document_get_node(c->doc, n->data.sequence.items.start[i]);
	}
	return n;
}

/*
 * A file cannot be both a source and a sink: the watch map keeps one role per inode, so
 * a sync folder inside a source tree (or around one) would silently turn source files
 * into sinks. "~/PATH" folders depend on the homes on each machine and are not compared.
 */
static void overlap_checks(struct ctx *c)
{
	const struct config *cfg = c->cfg;

	for (size_t i = 0; i < cfg->n_sync_folders; i++) {
		const char *sink = cfg->sync_folders[i];

		for (size_t j = 0; sink[0] == '/' && j < cfg->n_source_paths; j++) {
			const char *src = cfg->source_paths[j];
			yaml_node_t *at = item_where(c, "sources.paths", j);
			char line[32] = "default";

			if (!config_path_within(sink, src) && !config_path_within(src, sink))
				continue;
			/* No node: the built-in default, which the file left alone. */
			if (at)
				snprintf(line, sizeof(line), "line %zu", at->start_mark.line + 1);
			cfg_error_at(c, item_where(c, "egress.sync_folders", i), "egress.sync_folders",
				     "\"%s\" overlaps the source \"%s\" (sources.paths, %s): a file "
				     "cannot be both a source and a sink", sink, src, line);
			break;
		}
	}
}

/* Rules between cfg_keys, checked once every key parsed. */
static void cross_checks(struct ctx *c)
{
	const struct config *cfg = c->cfg;

	overlap_checks(c);
	if (cfg->n_source_paths == 0 && cfg->n_services == 0)
		cfg_error_at(c, where(c, "sources.paths"), "sources",
			 "no paths and no services: nothing would be watched");
	if (!cfg->fleet_tls_cert != !cfg->fleet_tls_key)
		cfg_error_at(c, where(c, "fleet.tls"), "fleet.tls",
			     "cert and key go together: give both or neither");
	if (cfg->evidence_retention_bytes &&
	    cfg->evidence_retention_bytes < cfg->evidence_segment_bytes)
		cfg_error_at(c, where(c, "evidence.retention_size"), "evidence.retention_size",
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
		cfg_nomem(c);
		return;
	}
	if (parser->error == YAML_READER_ERROR)
		at = offset_mark(text, parser->problem_offset);
	if (parser->context)
		cfg_error_mark(c, at, NULL, "YAML syntax error: %s (%s at line %zu column %zu)",
			   problem, parser->context, parser->context_mark.line + 1,
			   parser->context_mark.column + 1);
	else
		cfg_error_mark(c, at, NULL, "YAML syntax error: %s", problem);
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
		cfg_error_at(c, root, NULL, "a second YAML document; a configuration is one document");
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
		cfg_nomem(c);
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
			cfg_error_mark(c, ev.start_mark, NULL, "nested more than %d levels deep",
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
void cfg_parse_text(struct ctx *c, const char *text, size_t len)
{
	yaml_parser_t parser;
	yaml_document_t doc;
	yaml_node_t *root;

	if (!shallow_enough(c, text, len))
		return;
	if (!yaml_parser_initialize(&parser)) {
		cfg_nomem(c);
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
		cfg_error_at(c, NULL, NULL, "empty configuration (expected sections such as sources, "
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

