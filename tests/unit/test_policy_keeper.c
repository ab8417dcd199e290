// SPDX-License-Identifier: GPL-2.0-only
/* Unit tests for policy_keeper.c: the order the agent falls back in at start (config file,
 * last-known-good, built-in default), the rollback floor and require_signed kept across
 * restarts in the policy store, all on scratch directories without root. */
#define _GNU_SOURCE
#include <errno.h>
#include <stdbool.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <openssl/pem.h>

#include "unit.h"
#include "config/bundle.h"
#include "daemon/policy_keeper.h"

struct fixture {
	char root[64], config[96], trusted[96], state[96];
	EVP_PKEY *key;
};

static const char *const support[] = { "support" };

static void put(const char *path, const char *text, size_t len)
{
	FILE *f = fopen(path, "w");

	assert_non_null(f);
	assert_int_equal(fwrite(text, 1, len, f), len);
	fclose(f);
}

/* Writes a bundle of serial for group "support" (window minutes mark it) to path. */
static void put_bundle(struct fixture *fx, const char *path, uint64_t serial, bool required)
{
	struct bundle_header h = { .serial = serial, .not_before = time(NULL) - 60,
				   .expiry = time(NULL) + 3600, .n_groups = 1,
				   .groups = { "support" } };
	char yaml[256], *text;
	size_t len;

	snprintf(yaml, sizeof(yaml), "sources:\n  paths: [/srv/crm]\ndetect:\n  window: %llum\n"
		 "policy:\n  require_signed: %s\n", (unsigned long long)serial,
		 required ? "true" : "false");
	assert_int_equal(bundle_sign(&h, yaml, strlen(yaml), fx->key, &text, &len), 0);
	put(path, text, len);
	free(text);
}

static int setup(void **state)
{
	struct fixture *fx = calloc(1, sizeof(*fx));
	char pub[128];
	FILE *f;

	snprintf(fx->root, sizeof(fx->root), "/tmp/test_keeper.XXXXXX");
	assert_non_null(mkdtemp(fx->root));
	snprintf(fx->config, sizeof(fx->config), "%s/exfilmon.yaml", fx->root);
	snprintf(fx->trusted, sizeof(fx->trusted), "%s/trusted.d", fx->root);
	snprintf(fx->state, sizeof(fx->state), "%s/state/policy", fx->root);
	assert_int_equal(mkdir(fx->trusted, 0755), 0);
	fx->key = EVP_PKEY_Q_keygen(NULL, NULL, "ED25519");
	snprintf(pub, sizeof(pub), "%s/it.pub", fx->trusted);
	f = fopen(pub, "w");
	assert_int_equal(PEM_write_PUBKEY(f, fx->key), 1);
	fclose(f);
	*state = fx;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *fx = *state;
	char cmd[96];

	snprintf(cmd, sizeof(cmd), "rm -rf %s", fx->root);
	assert_int_equal(system(cmd), 0);
	EVP_PKEY_free(fx->key);
	free(fx);
	return 0;
}

static void boot(struct fixture *fx, struct keeper *k, struct config *cfg)
{
	struct keeper_opts o = { .config_path = fx->config, .trusted_dir = fx->trusted,
				 .state_dir = fx->state, .groups = support, .n_groups = 1 };

	assert_int_equal(keeper_boot(k, &o, cfg), 0);
}

static void test_keeper_boot_file_then_lkg_then_builtin(void **state)
{
	struct fixture *fx = *state;
	struct keeper k;
	struct config cfg;

	put_bundle(fx, fx->config, 7, true);
	boot(fx, &k, &cfg);
	assert_int_equal(k.st.source, POLICY_FROM_FILE);
	assert_int_equal(k.st.info.serial, 7);
	assert_true(k.st.require_signed);
	assert_string_equal(k.st.note, "");
	assert_int_equal(cfg.detect.window_ns, 7 * 60 * 1000000000ULL);
	config_free(&cfg);

	/* A corrupted file: the last-known-good runs, and the note says why. */
	put(fx->config, "sources: [", 10);
	boot(fx, &k, &cfg);
	assert_int_equal(k.st.source, POLICY_FROM_LKG);
	assert_int_equal(k.st.info.serial, 7);
	assert_int_equal(k.st.refusals, 1);
	assert_non_null(strstr(k.st.note, "started on last-known-good (serial 7"));
	assert_int_equal(cfg.detect.window_ns, 7 * 60 * 1000000000ULL);
	config_free(&cfg);

	/* Nothing valid left: the built-in default, and the note is loud. */
	unlink(fx->config);
	{
		char lkg[128];

		snprintf(lkg, sizeof(lkg), "%s/last-known-good", fx->state);
		assert_int_equal(unlink(lkg), 0);
	}
	boot(fx, &k, &cfg);
	assert_int_equal(k.st.source, POLICY_FROM_BUILTIN);
	assert_non_null(strstr(k.st.note, "NO VALID POLICY"));
	assert_non_null(strstr(k.st.last_refusal, "cannot read"));
	config_free(&cfg);
}

static void test_keeper_boot_keeps_rollback_floor(void **state)
{
	struct fixture *fx = *state;
	struct keeper k;
	struct config cfg;

	put_bundle(fx, fx->config, 9, false);
	boot(fx, &k, &cfg);
	config_free(&cfg);
	/* An older bundle put back while the agent was down is a rollback at start. */
	put_bundle(fx, fx->config, 8, false);
	boot(fx, &k, &cfg);
	assert_int_equal(k.st.source, POLICY_FROM_LKG);
	assert_int_equal(k.st.info.serial, 9);
	assert_non_null(strstr(k.st.last_refusal, "rollback: serial 8 is below serial 9"));
	config_free(&cfg);
}

static void test_keeper_boot_require_signed_survives_restart(void **state)
{
	struct fixture *fx = *state;
	static const char plain[] = "sources:\n  paths: [/srv/other]\n";
	struct keeper k;
	struct config cfg;

	put_bundle(fx, fx->config, 3, true);
	boot(fx, &k, &cfg);
	config_free(&cfg);
	/* Plain YAML dropped in while the agent was down: refused at start. */
	put(fx->config, plain, strlen(plain));
	boot(fx, &k, &cfg);
	assert_int_equal(k.st.source, POLICY_FROM_LKG);
	assert_non_null(strstr(k.st.last_refusal, "not a signed bundle"));
	assert_string_equal(cfg.source_paths[0], "/srv/crm");
	config_free(&cfg);
}

static void test_keeper_judge_counts_refusals(void **state)
{
	struct fixture *fx = *state;
	struct policy_info info;
	struct keeper k;
	struct config cfg, fresh;
	char *why = NULL;

	put_bundle(fx, fx->config, 5, true);
	boot(fx, &k, &cfg);
	config_free(&cfg);
	assert_int_equal(keeper_judge(&k, "x.yaml", "a: b\n", 5, &fresh, &info, &why), -EPERM);
	assert_int_equal(k.st.refusals, 1);
	assert_string_equal(k.st.last_refusal,
			    "x.yaml: not a signed bundle, and policy.require_signed is in force");
	free(why);
}

static void test_keeper_require_signed_option_refuses_plain_yaml(void **state)
{
	struct fixture *fx = *state;
	static const char plain[] = "sources:\n  paths: [/srv/other]\n";
	struct keeper_opts o = { .config_path = fx->config, .trusted_dir = fx->trusted,
				 .state_dir = fx->state, .groups = support, .n_groups = 1,
				 .require_signed = true };
	struct keeper k;
	struct config cfg;

	/* --require-signed holds on a first start, before any policy was ever applied. */
	put(fx->config, plain, strlen(plain));
	assert_int_equal(keeper_boot(&k, &o, &cfg), 0);
	assert_int_equal(k.st.source, POLICY_FROM_BUILTIN);
	assert_non_null(strstr(k.st.last_refusal, "not a signed bundle"));
	config_free(&cfg);
	/* A signed bundle saying require_signed: false does not switch the option off. */
	put_bundle(fx, fx->config, 4, false);
	assert_int_equal(keeper_boot(&k, &o, &cfg), 0);
	assert_int_equal(k.st.source, POLICY_FROM_FILE);
	assert_true(k.st.require_signed);
	config_free(&cfg);
}

static void test_keeper_boot_unusable_config_without_signed_history(void **state)
{
	struct fixture *fx = *state;
	struct keeper_opts o = { .config_path = fx->config, .trusted_dir = fx->trusted,
				 .state_dir = fx->state, .groups = support, .n_groups = 1 };
	struct keeper k;
	struct config cfg;

	/* Never signed here: a broken file is a config error (exit 78), as before. */
	put(fx->config, "sources: [", 10);
	assert_int_equal(keeper_boot(&k, &o, &cfg), -EINVAL);
	assert_non_null(strstr(k.st.note, "no usable config"));
	/* The store is per config file: another file's history is not used. */
	put_bundle(fx, fx->config, 6, true);
	assert_int_equal(keeper_boot(&k, &o, &cfg), 0);
	config_free(&cfg);
	snprintf(fx->config, sizeof(fx->config), "%s/other.yaml", fx->root);
	put(fx->config, "sources: [", 10);
	o.config_path = fx->config;
	assert_int_equal(keeper_boot(&k, &o, &cfg), -EINVAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_keeper_boot_file_then_lkg_then_builtin, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_keeper_boot_keeps_rollback_floor, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_keeper_boot_require_signed_survives_restart,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_keeper_judge_counts_refusals, setup, teardown),
		cmocka_unit_test_setup_teardown(
			test_keeper_boot_unusable_config_without_signed_history, setup, teardown),
		cmocka_unit_test_setup_teardown(
			test_keeper_require_signed_option_refuses_plain_yaml, setup, teardown),
	};

	return cmocka_run_group_tests_name("policy_keeper", tests, NULL, NULL);
}
