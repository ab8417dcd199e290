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


#include "common/hash.h"
#include "config.h"
#include "config_int.h"

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
	char *text = cfg_builtin_text(&len);
	int err;

	memset(cfg, 0, sizeof(*cfg));
	if (!text)
		return -ENOMEM;
	cfg_parse_text(&c, text, len);
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
	cfg_parse_text(&c, text, len);
	err = finish(&c, errors);
	if (!err && sha256_hex(text, len, cfg->sha256)) {
		config_free(cfg);
		err = -EIO;
	}
	return err;
}

int config_read_file(const char *path, char **text, size_t *len)
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
	err = config_read_file(path, &text, &len);
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
	cfg_free_str_list(cfg->source_paths, cfg->n_source_paths);
	free(cfg->services);
	free(cfg->allow);
	cfg_free_str_list(cfg->sync_folders, cfg->n_sync_folders);
	free(cfg->alerts_path);
	free(cfg->evidence_dir);
	free(cfg->syslog_url);
	free(cfg->metrics_path);
	free(cfg->syslog_ca);
	free(cfg->state_dir);
	cfg_free_str_list(cfg->fleet_servers, cfg->n_fleet_servers);
	free(cfg->fleet_tls_ca);
	free(cfg->fleet_tls_cert);
	free(cfg->fleet_tls_key);
	free(cfg->fleet_credentials);
	free(cfg->fleet_host_id);
	cfg_free_str_list(cfg->fleet_groups, cfg->n_fleet_groups);
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
