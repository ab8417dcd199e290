/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The one decision every candidate policy goes through, whoever brought it (the config
 * file at start or reload, the last-known-good copy, the fleet's key-value bucket): is
 * it a config this agent may run? Plain YAML passes only while policy.require_signed is
 * not in force; a bundle must verify against the trusted keys, be valid now, not roll
 * back the serial in force and target one of this host's groups.
 */
#ifndef EXFILMON_POLICY_GATE_H
#define EXFILMON_POLICY_GATE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "bundle.h"
#include "config.h"
#include "trust.h"

/* What was admitted, for the status file, the evidence and the fleet. */
struct policy_info {
	bool is_signed;
	uint64_t serial;            /* 0 for a plain YAML config */
	char sha256[65];            /* of the config bytes (== the bundle's config_sha256) */
	char key_id[TRUST_KEY_ID_LEN + 1];
	int64_t not_before, expiry; /* 0 for a plain config */
	char groups[256];           /* "support,finance"; "" for a plain config */
};

struct policy_rules {
	const struct trust *trust;
	const char *const *groups;  /* this host's groups */
	size_t n_groups;
	int64_t now;                /* UNIX seconds */
	bool check_time;            /* not for the last-known-good at start */
	uint64_t serial_in_force;
	const char *sha_in_force;   /* NULL when nothing is in force yet */
	bool require_signed;
};

/*
 * Decides about text (len bytes of the file or value named name). Returns 0 with *cfg
 * (owned, config_free) and *info filled; -EPERM when the policy is refused (*why: one
 * line, the reason as docs/policy.md lists it); -EINVAL when the bundle header or the
 * config does not parse (*why: "NAME:LINE[:COL]: ..." lines, with line numbers of the
 * whole file); -ENOMEM. *why is malloc'd (caller frees), NULL on success.
 */
int policy_gate_admit(const char *name, const char *text, size_t len,
		      const struct policy_rules *r, struct config *cfg, struct policy_info *info,
		      char **why);

#endif
