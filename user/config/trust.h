/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The public keys an agent trusts to sign its policy: every *.pub file (PEM
 * SubjectPublicKeyInfo, Ed25519) in one directory, /etc/exfilmon/trusted.d by default.
 * Several keys may be trusted at once so a key can be rotated without a gap.
 */
#ifndef EXFILMON_TRUST_H
#define EXFILMON_TRUST_H

#include <stddef.h>

#include <openssl/evp.h>

#define TRUST_DEFAULT_DIR "/etc/exfilmon/trusted.d"
/* A key id is the first 8 bytes of the SHA-256 of the raw 32-byte public key, in hex. */
#define TRUST_KEY_ID_LEN 16
#define TRUST_MAX_KEYS 64

struct trust_key {
	char key_id[TRUST_KEY_ID_LEN + 1];
	char file[256];             /* base name, for messages */
	EVP_PKEY *pkey;
};

struct trust {
	char dir[4096];
	struct trust_key keys[TRUST_MAX_KEYS];
	size_t n_keys;
};

/*
 * Loads every *.pub in dir into *t (other names are ignored). A missing directory is
 * an empty trust, not an error. Returns 0 (*errors NULL), or -EINVAL with *errors a
 * malloc'd "FILE:1: message\n" line per unusable key file (the usable ones are still
 * loaded), or -ENOMEM / -errno when dir cannot be read.
 */
int trust_load_dir(const char *dir, struct trust *t, char **errors);

/* The trusted key with this id, or NULL. */
const struct trust_key *trust_find(const struct trust *t, const char *key_id);

/* Key id of an Ed25519 key (public or private). Returns 0 or -EINVAL. */
int trust_key_id(EVP_PKEY *pkey, char out[TRUST_KEY_ID_LEN + 1]);

/* Releases the keys; t may be zeroed or half loaded. */
void trust_free(struct trust *t);

#endif
