/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * What the agent remembers about its policy across restarts, in its own directory
 * (/var/lib/exfilmon/state/policy by default; the daemon's --policy-state): the last
 * policy that was admitted and applied, byte for byte (last-known-good), and the serial,
 * hash and require_signed setting applied with it, which a rollback is judged against,
 * and the config file path they belong to.
 * Both files are replaced atomically (temporary file, fsync, rename, fsync of the dir).
 */
#ifndef EXFILMON_POLICY_STORE_H
#define EXFILMON_POLICY_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define POLICY_STORE_DEFAULT_DIR "/var/lib/exfilmon/state/policy"

struct policy_applied {
	uint64_t serial;            /* 0: a plain YAML config */
	char sha256[65];
	bool require_signed;
	char path[4096];            /* the config file these belong to ("" for none) */
};

/* Reads DIR/applied. Returns 0, -ENOENT (nothing applied yet), -EINVAL (damaged). */
int policy_store_read(const char *dir, struct policy_applied *a);

/* Reads DIR/last-known-good into a malloc'd *text. Returns 0 or -errno. */
int policy_store_read_lkg(const char *dir, char **text, size_t *len);

/* Records text (the admitted file's bytes) as last-known-good and a as applied,
 * creating dir (0700) when missing. Returns 0 or -errno. */
int policy_store_save(const char *dir, const char *text, size_t len,
		      const struct policy_applied *a);

#endif
