/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Inside the config module, shared by its files and nobody else: the key table's
 * types (config_keys.c), the value parsers it names (config_values.c), the YAML walker
 * and error collection (config_yaml.c) and the loader (config.c).
 */
#ifndef EXFILMON_CONFIG_INT_H
#define EXFILMON_CONFIG_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <yaml.h>

#include "common/array_size.h"
#include "config.h"

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
	F_NOT_ROOT = 1 << 6,      /* "/" itself is refused */
	F_URL = 1 << 7,           /* list items are NATS server URLs, not names */
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
	yaml_node_t *seen[48];     /* per key: the value node, for duplicates and cross checks */
	yaml_node_t *section[48];  /* per key: the name of its section in the file, if there */
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

#define FIELD(type, off) ((type *)((char *)c->cfg + (off)))

/* The key table, in reference order. */
extern const struct key cfg_keys[];
extern const size_t cfg_n_keys;

/* Reports an error at node n (NULL: the start of the file), naming key when given. */
void __attribute__((format(printf, 4, 5)))
cfg_error_at(struct ctx *c, const yaml_node_t *n, const char *key, const char *fmt, ...);
void __attribute__((format(printf, 4, 5)))
cfg_error_mark(struct ctx *c, yaml_mark_t m, const char *key, const char *fmt, ...);
int cfg_nomem(struct ctx *c);
const char *cfg_scalar(const yaml_node_t *n);
bool cfg_is_null(const yaml_node_t *n);
const char *cfg_node_kind(const yaml_node_t *n);
const char *cfg_need_scalar(struct ctx *c, yaml_node_t *n, const struct key *k);
/* Value parsers, one per syntax; the key table names them. */
int cfg_value_size(struct ctx *c, yaml_node_t *n, const struct key *k);
int cfg_value_count(struct ctx *c, yaml_node_t *n, const struct key *k);
int cfg_value_duration(struct ctx *c, yaml_node_t *n, const struct key *k);
int cfg_value_interval_ms(struct ctx *c, yaml_node_t *n, const struct key *k);
int cfg_value_rate(struct ctx *c, yaml_node_t *n, const struct key *k);
int cfg_value_factor(struct ctx *c, yaml_node_t *n, const struct key *k);
int cfg_value_bool(struct ctx *c, yaml_node_t *n, const struct key *k);
int cfg_value_path(struct ctx *c, yaml_node_t *n, const struct key *k);
int cfg_value_syslog(struct ctx *c, yaml_node_t *n, const struct key *k);
int cfg_value_facility(struct ctx *c, yaml_node_t *n, const struct key *k);
int cfg_value_ca(struct ctx *c, yaml_node_t *n, const struct key *k);
int cfg_value_ring(struct ctx *c, yaml_node_t *n, const struct key *k);
void cfg_free_str_list(char **list, size_t n);
int cfg_value_paths(struct ctx *c, yaml_node_t *n, const struct key *k);
int cfg_value_nets(struct ctx *c, yaml_node_t *n, const struct key *k);
int cfg_value_words(struct ctx *c, yaml_node_t *n, const struct key *k);
int cfg_value_host_id(struct ctx *c, yaml_node_t *n, const struct key *k);
int cfg_value_tls(struct ctx *c, yaml_node_t *n, const struct key *k);
size_t cfg_section_len(const struct key *k);
bool cfg_in_section(const struct key *k, const char *section);
long cfg_find_key(const char *section, const char *name);
const char *cfg_key_names(const char *section, char *buf, size_t size);
void cfg_parse_text(struct ctx *c, const char *text, size_t len);
char *cfg_builtin_text(size_t *len);

#endif
