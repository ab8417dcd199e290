// SPDX-License-Identifier: GPL-2.0-only
/*
 * Trusted policy keys: the *.pub files of one directory, read with OpenSSL's PEM reader
 * and kept only when they are Ed25519. Files are read in name order so messages and
 * key order do not depend on the directory's layout on disk.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/pem.h>

#include "trust.h"

int trust_key_id(EVP_PKEY *pkey, char out[TRUST_KEY_ID_LEN + 1])
{
	unsigned char raw[32], md[EVP_MAX_MD_SIZE];
	size_t raw_len = sizeof(raw);
	unsigned int md_len = 0;

	if (!pkey || EVP_PKEY_id(pkey) != EVP_PKEY_ED25519 ||
	    EVP_PKEY_get_raw_public_key(pkey, raw, &raw_len) != 1 || raw_len != 32)
		return -EINVAL;
	if (!EVP_Digest(raw, raw_len, md, &md_len, EVP_sha256(), NULL))
		return -EINVAL;
	for (int i = 0; i < TRUST_KEY_ID_LEN / 2; i++)
		snprintf(out + 2 * i, 3, "%02x", md[i]);
	return 0;
}

/* Appends "PATH:1: WHY\n" to *errors. */
static void append(char **errors, const char *path, const char *why)
{
	char *line = NULL, *joined = NULL;

	if (asprintf(&line, "%s:1: %s\n", path, why) < 0)
		return;
	if (asprintf(&joined, "%s%s", *errors ? *errors : "", line) >= 0) {
		free(*errors);
		*errors = joined;
	}
	free(line);
}

static bool is_pub(const char *name)
{
	size_t n = strlen(name);

	return n > 4 && name[0] != '.' && !strcmp(name + n - 4, ".pub");
}

/* Reads one key file; the reason it is unusable goes to *why. */
static EVP_PKEY *read_key(const char *path, const char **why)
{
	FILE *f = fopen(path, "re");
	EVP_PKEY *k;

	if (!f) {
		*why = strerror(errno);
		return NULL;
	}
	k = PEM_read_PUBKEY(f, NULL, NULL, NULL);
	fclose(f);
	if (!k)
		*why = "not a PEM public key";
	else if (EVP_PKEY_id(k) != EVP_PKEY_ED25519)
		*why = "not an Ed25519 key";
	else
		return k;
	EVP_PKEY_free(k);
	return NULL;
}

static int add_key(struct trust *t, const char *name, char **errors)
{
	char path[8192];
	const char *why = NULL;
	struct trust_key *k = &t->keys[t->n_keys];

	snprintf(path, sizeof(path), "%s/%s", t->dir, name);
	if (t->n_keys == TRUST_MAX_KEYS) {
		append(errors, path, "too many trusted keys (at most 64)");
		return -EINVAL;
	}
	k->pkey = read_key(path, &why);
	if (!k->pkey) {
		append(errors, path, why);
		return -EINVAL;
	}
	trust_key_id(k->pkey, k->key_id);
	snprintf(k->file, sizeof(k->file), "%s", name);
	t->n_keys++;
	return 0;
}

int trust_load_dir(const char *dir, struct trust *t, char **errors)
{
	struct dirent **names = NULL;
	int n, err = 0;

	memset(t, 0, sizeof(*t));
	*errors = NULL;
	snprintf(t->dir, sizeof(t->dir), "%s", dir);
	n = scandir(dir, &names, NULL, alphasort);
	if (n < 0)
		return errno == ENOENT ? 0 : -errno;
	for (int i = 0; i < n; i++) {
		if (is_pub(names[i]->d_name) && add_key(t, names[i]->d_name, errors))
			err = -EINVAL;
		free(names[i]);
	}
	free(names);
	return err;
}

const struct trust_key *trust_find(const struct trust *t, const char *key_id)
{
	for (size_t i = 0; i < t->n_keys; i++)
		if (!strcmp(t->keys[i].key_id, key_id))
			return &t->keys[i];
	return NULL;
}

void trust_free(struct trust *t)
{
	for (size_t i = 0; i < t->n_keys; i++)
		EVP_PKEY_free(t->keys[i].pkey);
	t->n_keys = 0;
}
