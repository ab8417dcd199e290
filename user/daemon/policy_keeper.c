// SPDX-License-Identifier: GPL-2.0-only
/*
 * Policy keeper: start-up choice and the rules every later candidate is judged by. The
 * serial and hash a rollback is judged against come from the store, not from the policy
 * that happens to be running, so a restart (or a start on the built-in default) never
 * lowers the bar.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/log.h"
#include "policy_keeper.h"

const char *policy_source_name(enum policy_source s)
{
	static const char *const names[] = {
		[POLICY_FROM_FILE] = "config file",
		[POLICY_FROM_LKG] = "last-known-good",
		[POLICY_FROM_BUILTIN] = "built-in default",
		[POLICY_FROM_FLEET] = "fleet",
	};

	return s < sizeof(names) / sizeof(names[0]) ? names[s] : "?";
}

static void load_trust(struct keeper *k, struct trust *t)
{
	char *errors = NULL, *line, *save = NULL;
	int err = trust_load_dir(k->o.trusted_dir, t, &errors);

	if (err && err != -EINVAL)
		log_warn("policy: trusted keys %s: %s", k->o.trusted_dir, strerror(-err));
	for (line = errors ? strtok_r(errors, "\n", &save) : NULL; line;
	     line = strtok_r(NULL, "\n", &save))
		log_warn("policy: trusted key %s (ignored)", line);
	free(errors);
}

static int judge(struct keeper *k, const char *name, const char *text, size_t len,
		 bool check_time, struct config *cfg, struct policy_info *info, char **why)
{
	struct policy_rules r = {
		.groups = k->o.groups, .n_groups = k->o.n_groups, .now = time(NULL),
		.check_time = check_time, .require_signed = k->st.require_signed,
		.serial_in_force = k->have_applied ? k->applied.serial : 0,
		.sha_in_force = k->have_applied ? k->applied.sha256 : NULL,
	};
	struct trust t;
	int err;

	load_trust(k, &t);
	r.trust = &t;
	err = policy_gate_admit(name, text, len, &r, cfg, info, why);
	trust_free(&t);
	return err;
}

static void note_refusal(struct keeper *k, const char *name, const char *why)
{
	size_t n = strcspn(why, "\n");

	k->st.refusals++;
	/* Parse errors already start with the file name; a refusal reason does not. */
	if (!strncmp(why, name, strlen(name)))
		snprintf(k->st.last_refusal, sizeof(k->st.last_refusal), "%.*s", (int)n, why);
	else
		snprintf(k->st.last_refusal, sizeof(k->st.last_refusal), "%s: %.*s", name, (int)n,
			 why);
}

int keeper_judge(struct keeper *k, const char *name, const char *text, size_t len,
		 struct config *cfg, struct policy_info *info, char **why)
{
	int err = judge(k, name, text, len, true, cfg, info, why);

	if (err && *why)
		note_refusal(k, name, *why);
	return err;
}

int keeper_commit(struct keeper *k, const char *text, size_t len, const struct config *cfg,
		  const struct policy_info *info, enum policy_source from)
{
	k->st.info = *info;
	k->st.source = from;
	k->st.require_signed = k->o.require_signed || cfg->require_signed;
	k->applied.serial = info->serial;
	memcpy(k->applied.sha256, info->sha256, sizeof(k->applied.sha256));
	k->applied.require_signed = cfg->require_signed;
	snprintf(k->applied.path, sizeof(k->applied.path), "%s",
		 k->o.config_path ? k->o.config_path : "");
	k->have_applied = true;
	return policy_store_save(k->o.state_dir, text, len, &k->applied);
}

/* The config file at start: 0 when admitted and in force. */
static int boot_file(struct keeper *k, struct config *cfg)
{
	struct policy_info info;
	char *text = NULL, *why = NULL;
	size_t len;
	int err = config_read_file(k->o.config_path, &text, &len);

	if (err) {
		k->st.refusals++;
		snprintf(k->st.last_refusal, sizeof(k->st.last_refusal), "%s: cannot read: %s",
			 k->o.config_path, strerror(-err));
		return err;
	}
	err = keeper_judge(k, k->o.config_path, text, len, cfg, &info, &why);
	if (!err && (err = keeper_commit(k, text, len, cfg, &info, POLICY_FROM_FILE)))
		log_error("policy: saving last-known-good in %s: %s", k->o.state_dir,
			  strerror(-err));
	free(text);
	free(why);
	return cfg->sha256[0] ? 0 : -EINVAL;
}

static int boot_lkg(struct keeper *k, struct config *cfg)
{
	struct policy_info info;
	char name[4200], *text = NULL, *why = NULL;
	size_t len;
	int err;

	if (!k->have_applied)
		return -ENOENT;
	err = policy_store_read_lkg(k->o.state_dir, &text, &len);
	if (err)
		return err;
	snprintf(name, sizeof(name), "%s/last-known-good", k->o.state_dir);
	/* Running on the policy that ran last is no replay: its validity dates do not count. */
	err = judge(k, name, text, len, false, cfg, &info, &why);
	if (err) {
		log_error("policy: last-known-good refused: %s", why ? why : strerror(-err));
	} else {
		k->st.info = info;
		k->st.source = POLICY_FROM_LKG;
		k->st.require_signed = k->o.require_signed || cfg->require_signed;
	}
	free(text);
	free(why);
	return err;
}

int keeper_boot(struct keeper *k, const struct keeper_opts *o, struct config *cfg)
{
	int err;

	memset(k, 0, sizeof(*k));
	memset(cfg, 0, sizeof(*cfg));
	k->o = *o;
	err = policy_store_read(o->state_dir, &k->applied);
	k->have_applied = !err;
	if (err && err != -ENOENT)
		log_error("policy: %s/applied is damaged (%s); no rollback floor", o->state_dir,
			  strerror(-err));
	/* The store belongs to one config file: another file starts without its history. */
	if (k->have_applied && strcmp(k->applied.path, o->config_path ? o->config_path : "")) {
		log_info("policy: %s holds the policy of %s, not of %s: not used", o->state_dir,
			 k->applied.path, o->config_path ? o->config_path : "(builtin)");
		k->have_applied = false;
	}
	k->st.require_signed = o->require_signed || (k->have_applied && k->applied.require_signed);
	if (!o->config_path) {
		k->st.source = POLICY_FROM_BUILTIN;
		err = config_defaults(cfg);
		if (!err)
			memcpy(k->st.info.sha256, cfg->sha256, sizeof(k->st.info.sha256));
		return err;
	}
	if (!boot_file(k, cfg))
		return 0;
	if (!boot_lkg(k, cfg)) {
		snprintf(k->st.note, sizeof(k->st.note), "started on last-known-good (serial %llu, "
			 "sha256=%.12s...): %s", (unsigned long long)k->st.info.serial,
			 k->st.info.sha256, k->st.last_refusal);
		return 0;
	}
	if (!k->st.require_signed) {
		/* No signed policy ever ran here: a config error, as before signed policies. */
		snprintf(k->st.note, sizeof(k->st.note), "no usable config: %s",
			 k->st.last_refusal);
		return -EINVAL;
	}
	k->st.source = POLICY_FROM_BUILTIN;
	snprintf(k->st.note, sizeof(k->st.note), "NO VALID POLICY, running the built-in "
		 "default: %s", k->st.last_refusal);
	err = config_defaults(cfg);
	if (!err)
		memcpy(k->st.info.sha256, cfg->sha256, sizeof(k->st.info.sha256));
	return err;
}
