// SPDX-License-Identifier: GPL-2.0-only
/*
 * libFuzzer target for signed policy bundles. The first input byte picks the mode:
 *   0: the rest is a bundle file as the agent would read it: header parse, signature
 *      check against a trusted key made at start, validity checks, and the gate;
 *   1: the rest is a YAML config, signed here with the trusted key, so the gate's path
 *      past a good signature (the YAML parser with shifted line numbers) is reached;
 *      the result is flipped at one input-chosen byte and judged again.
 * Nothing may crash, hang, read out of bounds, or admit a bundle whose bytes changed.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/pem.h>

#include "config/bundle.h"
#include "config/policy_gate.h"
#include "config/trust.h"

static struct trust trust;
static EVP_PKEY *key;

static void init(void)
{
	char dir[] = "/tmp/bundle_fuzz.XXXXXX", path[64], *errors = NULL;
	FILE *f;

	key = EVP_PKEY_Q_keygen(NULL, NULL, "ED25519");
	if (!key || !mkdtemp(dir))
		abort();
	snprintf(path, sizeof(path), "%s/k.pub", dir);
	f = fopen(path, "w");
	if (!f || PEM_write_PUBKEY(f, key) != 1)
		abort();
	fclose(f);
	if (trust_load_dir(dir, &trust, &errors) || trust.n_keys != 1)
		abort();
	unlink(path);
	rmdir(dir);
}

static int judge(const char *text, size_t len)
{
	static const char *const groups[] = { "support" };
	struct policy_rules r = { .trust = &trust, .groups = groups, .n_groups = 1,
				  .now = 1800000000, .check_time = true, .require_signed = true };
	struct policy_info info;
	struct config cfg;
	char *why = NULL;
	int err = policy_gate_admit("fuzz", text, len, &r, &cfg, &info, &why);

	free(why);
	if (!err)
		config_free(&cfg);
	return err;
}

static void signed_config(const uint8_t *data, size_t size)
{
	struct bundle_header h = { .serial = 1, .not_before = 1700000000, .expiry = 1900000000,
				   .n_groups = 1, .groups = { "all" } };
	char *text = NULL;
	size_t len = 0, at;

	if (size < 2 || bundle_sign(&h, (const char *)data + 1, size - 1, key, &text, &len))
		return;
	judge(text, len);
	at = data[0] % len;
	text[at] ^= 0x20;
	/* Whatever the config, a bundle with one changed byte is never admitted. */
	if (judge(text, len) == 0)
		abort();
	free(text);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *copy;

	if (!key)
		init();
	if (size < 1)
		return 0;
	if (data[0] == 1) {
		signed_config(data + 1, size - 1);
		return 0;
	}
	/* An exact-size heap copy, so ASan sees any read past the end. */
	copy = malloc(size - 1 ? size - 1 : 1);
	if (!copy)
		return 0;
	memcpy(copy, data + 1, size - 1);
	judge(copy, size - 1);
	free(copy);
	return 0;
}
