/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Signed policy bundles (docs/policy.md): a text header of "key: value" lines (format
 * version, serial, validity, target groups, signing key id, the config's SHA-256), an
 * Ed25519 signature over those lines, then the YAML config unchanged. The signature
 * covers the header, the header pins the config's hash, so one flipped byte anywhere
 * is caught. Signing and verifying go through OpenSSL's EVP interface only.
 */
#ifndef EXFILMON_BUNDLE_H
#define EXFILMON_BUNDLE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <openssl/evp.h>

#include "trust.h"

/* First line of every bundle; the number is the format version. */
#define BUNDLE_MAGIC "exfilmon-policy 1\n"
#define BUNDLE_MAX_GROUPS 32
#define BUNDLE_GROUP_MAX 64       /* characters in a group name: [A-Za-z0-9_-] */
#define BUNDLE_SIG_LEN 64         /* Ed25519 */
#define BUNDLE_MAX_HEADER 4096    /* a header is a few hundred bytes; more is not one */

struct bundle_header {
	uint64_t serial;            /* 1 .. 2^63-1; higher replaces lower */
	int64_t not_before;         /* UNIX seconds, UTC */
	int64_t expiry;             /* UNIX seconds, UTC; after not_before */
	char groups[BUNDLE_MAX_GROUPS][BUNDLE_GROUP_MAX + 1]; /* "all" targets every host */
	size_t n_groups;
	char key_id[TRUST_KEY_ID_LEN + 1];
	char config_sha256[65];     /* hex SHA-256 of the config bytes after the header */
};

struct bundle {
	struct bundle_header h;
	uint8_t signature[BUNDLE_SIG_LEN];
	size_t signed_len;          /* the signature covers text[0, signed_len) */
	const char *config;         /* points into the parsed text; not NUL-terminated */
	size_t config_len;
};

/* True when text starts like a bundle (BUNDLE_MAGIC's "exfilmon-policy " prefix): any
 * such file is parsed as a bundle, never as a plain YAML config. */
bool bundle_detect(const char *text, size_t len);

/*
 * Parses text (len bytes, named name in messages) into *b, which then points into text.
 * Returns 0, or -EINVAL with *errors (if not NULL) a malloc'd "NAME:LINE: message\n"
 * naming the first problem; -ENOMEM. Checks syntax only: see bundle_verify and
 * bundle_check for trust and validity.
 */
int bundle_parse(const char *name, const char *text, size_t len, struct bundle *b,
		 char **errors);

/*
 * Checks that b (parsed from text) was signed by a trusted key and that its config is the
 * one the header names. Returns 0; -ENOKEY (key id not trusted), -EKEYREJECTED
 * (signature does not verify), -EBADMSG (config bytes do not match config_sha256) or
 * -ENOMEM/-EIO; why gets the one-line reason (docs/policy.md lists them).
 */
int bundle_verify(const struct bundle *b, const char *text, const struct trust *t, char *why,
		  size_t why_len);

/* What the agent expects of a bundle besides a good signature. */
struct bundle_expect {
	int64_t now;                /* UNIX seconds */
	bool check_time;            /* false for the last-known-good at start (docs/policy.md) */
	uint64_t serial_in_force;   /* 0 when none */
	const char *sha_in_force;   /* config hash in force, or NULL */
	const char *const *groups;  /* this host's groups ("all" is implied) */
	size_t n_groups;
};

/*
 * Validity, rollback and group checks. Returns 0, -EKEYEXPIRED (expired or not yet
 * valid), -ESTALE (serial below the one in force, or equal with another config) or
 * -EXDEV (not for this host's groups); why gets the reason.
 */
int bundle_check(const struct bundle *b, const struct bundle_expect *e, char *why,
		 size_t why_len);

/*
 * Signs config (len bytes) with key under h's serial, validity and groups; h->key_id and
 * h->config_sha256 are computed here. *out is the malloc'd bundle (caller frees) and
 * *out_len its length. Returns 0, -EINVAL (bad header values, key not Ed25519), -ENOMEM,
 * -EIO (OpenSSL failed).
 */
int bundle_sign(const struct bundle_header *h, const char *config, size_t len, EVP_PKEY *key,
		char **out, size_t *out_len);

/* "2026-12-04T15:00:00Z" <-> UNIX seconds. parse returns 0 or -EINVAL. */
int bundle_parse_time(const char *s, int64_t *out);
void bundle_format_time(int64_t t, char out[21]);

/* True for a valid group name: 1..BUNDLE_GROUP_MAX of [A-Za-z0-9_-]. */
bool bundle_group_valid(const char *s);

/* Hex SHA-256 of data. Returns 0 or -EIO. */
int bundle_sha256_hex(const void *data, size_t len, char out[65]);

#endif
