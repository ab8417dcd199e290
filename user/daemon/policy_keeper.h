/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The daemon's policy keeper: which policy is in force, where it came from, what was
 * refused last, and the rules the next candidate is judged by (docs/policy.md). It picks
 * the policy to start on (the config file, else the last-known-good, else the built-in
 * default) and judges every later candidate (reload, fleet) through the policy gate,
 * re-reading the trusted keys each time so a rotation needs no restart.
 */
#ifndef EXFILMON_POLICY_KEEPER_H
#define EXFILMON_POLICY_KEEPER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "config/bundle.h"
#include "config/config.h"
#include "config/policy_gate.h"
#include "config/policy_store.h"

struct keeper_opts {
	const char *config_path;    /* NULL: built-in default (and no file to judge) */
	const char *trusted_dir;
	const char *state_dir;      /* last-known-good and applied serial */
	const char *const *groups;
	size_t n_groups;
	bool require_signed;        /* --require-signed: in force whatever the policy says */
};

/* Where the policy in force came from. */
enum policy_source {
	POLICY_FROM_FILE,           /* the config file (at start or reload) */
	POLICY_FROM_LKG,            /* last-known-good, because the file was refused */
	POLICY_FROM_BUILTIN,        /* no valid policy at all */
	POLICY_FROM_FLEET,          /* the fleet's key-value bucket */
};

/* What exfilctl status, the evidence and the fleet are told. */
struct policy_status {
	struct policy_info info;    /* of the policy in force */
	enum policy_source source;
	bool require_signed;        /* in force now */
	uint64_t refusals;
	char last_refusal[768];     /* "NAME: reason", "" when none */
	char note[1024];            /* why the agent started where it did, "" when normal */
};

struct keeper {
	struct keeper_opts o;
	struct policy_status st;
	struct policy_applied applied;
	bool have_applied;
};

const char *policy_source_name(enum policy_source s);

/*
 * Chooses the policy to start on and fills *cfg with it: the config file, else the
 * last-known-good of that same file, else (only while require_signed is in force) the
 * built-in default. Returns 0, -ENOMEM, or -EINVAL when there is no usable config and
 * no signed policy ever ran (the caller exits 78); k->st.note says why.
 */
int keeper_boot(struct keeper *k, const struct keeper_opts *o, struct config *cfg);

/*
 * Judges a candidate (the bytes of file or fleet value name) against the policy in force.
 * 0: admitted, *cfg and *info filled (keeper_commit once applied, config_free otherwise).
 * -EPERM/-EINVAL: refused, *why malloc'd (caller frees) and the refusal counted.
 */
int keeper_judge(struct keeper *k, const char *name, const char *text, size_t len,
		 struct config *cfg, struct policy_info *info, char **why);

/* Records an applied candidate as in force and as last-known-good. Returns 0 or -errno
 * (the policy is in force either way; only the store failed). */
int keeper_commit(struct keeper *k, const char *text, size_t len, const struct config *cfg,
		  const struct policy_info *info, enum policy_source from);

#endif
