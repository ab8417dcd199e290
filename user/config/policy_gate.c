// SPDX-License-Identifier: GPL-2.0-only
/*
 * Policy gate: parse, verify, check, then parse the config itself, in that order, so no
 * byte of an unverified config ever reaches the YAML parser when signatures are required.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "policy_gate.h"

static int refuse(char **why, const char *reason)
{
	*why = strdup(reason);
	return *why ? -EPERM : -ENOMEM;
}

/*
 * The config part of a bundle, parsed with each header line replaced by an empty
 * comment, so YAML errors carry the line numbers of the whole file; the hash is the
 * signed one, of the config bytes alone.
 */
static int load_bundled_config(const char *name, const char *text, const struct bundle *b,
			       struct config *cfg, char **why)
{
	size_t head = (size_t)(b->config - text), lines = 0;
	char *copy;
	int err;

	for (size_t i = 0; i < head; i++)
		lines += text[i] == '\n';
	copy = malloc(2 * lines + b->config_len);
	if (!copy)
		return -ENOMEM;
	for (size_t i = 0; i < lines; i++)
		memcpy(copy + 2 * i, "#\n", 2);
	memcpy(copy + 2 * lines, b->config, b->config_len);
	err = config_load_string(name, copy, 2 * lines + b->config_len, cfg, why);
	free(copy);
	if (!err)
		memcpy(cfg->sha256, b->h.config_sha256, sizeof(cfg->sha256));
	return err;
}

static void describe(const struct bundle *b, struct policy_info *info)
{
	size_t used = 0;

	info->is_signed = true;
	info->serial = b->h.serial;
	memcpy(info->sha256, b->h.config_sha256, sizeof(info->sha256));
	memcpy(info->key_id, b->h.key_id, sizeof(info->key_id));
	info->not_before = b->h.not_before;
	info->expiry = b->h.expiry;
	for (size_t i = 0; i < b->h.n_groups && used < sizeof(info->groups); i++)
		used += (size_t)snprintf(info->groups + used, sizeof(info->groups) - used, "%s%s",
					 i ? "," : "", b->h.groups[i]);
}

static int admit_bundle(const char *name, const char *text, size_t len,
			const struct policy_rules *r, struct config *cfg, struct policy_info *info,
			char **why)
{
	struct bundle_expect e = {
		.now = r->now, .check_time = r->check_time, .serial_in_force = r->serial_in_force,
		.sha_in_force = r->sha_in_force, .groups = r->groups, .n_groups = r->n_groups,
	};
	struct bundle b;
	char reason[512];
	int err;

	err = bundle_parse(name, text, len, &b, why);
	if (err)
		return err;
	err = bundle_verify(&b, text, r->trust, reason, sizeof(reason));
	if (!err)
		err = bundle_check(&b, &e, reason, sizeof(reason));
	if (err == -ENOMEM || err == -EIO)
		return err;
	if (err)
		return refuse(why, reason);
	err = load_bundled_config(name, text, &b, cfg, why);
	if (!err)
		describe(&b, info);
	return err;
}

int policy_gate_admit(const char *name, const char *text, size_t len,
		      const struct policy_rules *r, struct config *cfg, struct policy_info *info,
		      char **why)
{
	int err;

	memset(cfg, 0, sizeof(*cfg));
	memset(info, 0, sizeof(*info));
	*why = NULL;
	if (bundle_detect(text, len))
		return admit_bundle(name, text, len, r, cfg, info, why);
	if (r->require_signed)
		return refuse(why, "not a signed bundle, and policy.require_signed is in force");
	err = config_load_string(name, text, len, cfg, why);
	if (!err)
		memcpy(info->sha256, cfg->sha256, sizeof(info->sha256));
	return err;
}
