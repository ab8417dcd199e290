// SPDX-License-Identifier: GPL-2.0-only
/* Unit tests for bundle.c, trust.c, policy_gate.c and policy_store.c: a bundle signed here
 * with a fresh Ed25519 key is attacked byte by byte, by key, by time, by serial and by
 * group, and each attack must be refused with its documented reason. */
#define _GNU_SOURCE
#include <errno.h>
#include <stdbool.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/pem.h>

#include "unit.h"
#include "config/bundle.h"
#include "config/policy_gate.h"
#include "config/policy_store.h"
#include "config/trust.h"

#define NOW 1800000000LL   /* 2027-01-15 */
#define DAY 86400

static const char yaml[] = "sources:\n  paths: [/srv/crm]\ndetect:\n  window: 5m\n";

struct fixture {
	char dir[64];              /* trusted.d */
	EVP_PKEY *key, *other;     /* key is trusted, other is not */
	struct trust trust;
	char *text;
	size_t len;
};

static void write_pub(const char *dir, const char *name, EVP_PKEY *k)
{
	char path[128];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	f = fopen(path, "w");
	assert_non_null(f);
	assert_int_equal(PEM_write_PUBKEY(f, k), 1);
	fclose(f);
}

static void sign_with(struct fixture *fx, EVP_PKEY *k, uint64_t serial, int64_t nb,
		      int64_t exp, const char *group)
{
	struct bundle_header h = { .serial = serial, .not_before = nb, .expiry = exp,
				   .n_groups = 1 };

	snprintf(h.groups[0], sizeof(h.groups[0]), "%s", group);
	free(fx->text);
	assert_int_equal(bundle_sign(&h, yaml, strlen(yaml), k, &fx->text, &fx->len), 0);
}

static int setup(void **state)
{
	struct fixture *fx = calloc(1, sizeof(*fx));
	char *errors = NULL;

	snprintf(fx->dir, sizeof(fx->dir), "/tmp/test_bundle.XXXXXX");
	assert_non_null(mkdtemp(fx->dir));
	fx->key = EVP_PKEY_Q_keygen(NULL, NULL, "ED25519");
	fx->other = EVP_PKEY_Q_keygen(NULL, NULL, "ED25519");
	assert_non_null(fx->key);
	assert_non_null(fx->other);
	write_pub(fx->dir, "it-2026.pub", fx->key);
	assert_int_equal(trust_load_dir(fx->dir, &fx->trust, &errors), 0);
	assert_int_equal(fx->trust.n_keys, 1);
	sign_with(fx, fx->key, 5, NOW - DAY, NOW + 30 * DAY, "support");
	*state = fx;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *fx = *state;
	char cmd[96];

	snprintf(cmd, sizeof(cmd), "rm -rf %s", fx->dir);
	assert_int_equal(system(cmd), 0);
	trust_free(&fx->trust);
	EVP_PKEY_free(fx->key);
	EVP_PKEY_free(fx->other);
	free(fx->text);
	free(fx);
	return 0;
}

static const char *const support[] = { "support" };

/* Parse, verify and check fx->text as the agent would; the reason goes to why. */
static int judge(struct fixture *fx, uint64_t in_force, const char *sha_in_force, char *why,
		 size_t why_len)
{
	struct bundle_expect e = { .now = NOW, .check_time = true, .serial_in_force = in_force,
				   .sha_in_force = sha_in_force, .groups = support, .n_groups = 1 };
	struct bundle b;
	char *errors = NULL;
	int err = bundle_parse("b", fx->text, fx->len, &b, &errors);

	if (err) {
		snprintf(why, why_len, "%s", errors);
		free(errors);
		return err;
	}
	err = bundle_verify(&b, fx->text, &fx->trust, why, why_len);
	return err ? err : bundle_check(&b, &e, why, why_len);
}

static void test_bundle_sign_then_verify(void **state)
{
	struct fixture *fx = *state;
	struct bundle b;
	char why[512] = "", sha[65];

	assert_int_equal(judge(fx, 0, NULL, why, sizeof(why)), 0);
	assert_int_equal(bundle_parse("b", fx->text, fx->len, &b, NULL), 0);
	assert_int_equal(b.h.serial, 5);
	assert_string_equal(b.h.groups[0], "support");
	assert_int_equal(b.config_len, strlen(yaml));
	assert_memory_equal(b.config, yaml, strlen(yaml));
	assert_int_equal(bundle_sha256_hex(yaml, strlen(yaml), sha), 0);
	assert_string_equal(b.h.config_sha256, sha);
	assert_string_equal(b.h.key_id, fx->trust.keys[0].key_id);
}

static void test_bundle_verify_rejects_every_flipped_byte(void **state)
{
	struct fixture *fx = *state;
	char why[512];

	/* Every byte of the file, header and config: none may change and still pass. */
	for (size_t i = 0; i < fx->len; i++) {
		fx->text[i] ^= 0x01;
		assert_int_not_equal(judge(fx, 0, NULL, why, sizeof(why)), 0);
		fx->text[i] ^= 0x01;
	}
	assert_int_equal(judge(fx, 0, NULL, why, sizeof(why)), 0);
}

static void test_bundle_verify_config_tamper_reason(void **state)
{
	struct fixture *fx = *state;
	char why[512];

	fx->text[fx->len - 3] = '9';   /* "5m" -> "9m" */
	assert_int_equal(judge(fx, 0, NULL, why, sizeof(why)), -EBADMSG);
	assert_non_null(strstr(why, "config does not match the signed config_sha256"));
}

static void test_bundle_verify_header_tamper_reason(void **state)
{
	struct fixture *fx = *state;
	char *serial = strstr(fx->text, "serial: 5");
	char why[512];

	serial[8] = '7';
	assert_int_equal(judge(fx, 0, NULL, why, sizeof(why)), -EKEYREJECTED);
	assert_non_null(strstr(why, "bad signature"));
}

static void test_bundle_verify_rejects_untrusted_key(void **state)
{
	struct fixture *fx = *state;
	char why[512], *id;

	sign_with(fx, fx->other, 5, NOW - DAY, NOW + DAY, "support");
	assert_int_equal(judge(fx, 0, NULL, why, sizeof(why)), -ENOKEY);
	assert_non_null(strstr(why, "not trusted"));
	/* Claiming the trusted key's id does not help: the signature is checked with it. */
	id = strstr(fx->text, "key_id: ") + 8;
	memcpy(id, fx->trust.keys[0].key_id, TRUST_KEY_ID_LEN);
	assert_int_equal(judge(fx, 0, NULL, why, sizeof(why)), -EKEYREJECTED);
}

static void test_bundle_check_time_window(void **state)
{
	struct fixture *fx = *state;
	char why[512];

	sign_with(fx, fx->key, 5, NOW - 2 * DAY, NOW - DAY, "support");
	assert_int_equal(judge(fx, 0, NULL, why, sizeof(why)), -EKEYEXPIRED);
	assert_non_null(strstr(why, "expired at "));
	sign_with(fx, fx->key, 5, NOW + DAY, NOW + 2 * DAY, "support");
	assert_int_equal(judge(fx, 0, NULL, why, sizeof(why)), -EKEYEXPIRED);
	assert_non_null(strstr(why, "not valid before "));
}

static void test_bundle_check_rollback(void **state)
{
	struct fixture *fx = *state;
	struct bundle b;
	char why[512];

	assert_int_equal(judge(fx, 6, NULL, why, sizeof(why)), -ESTALE);
	assert_non_null(strstr(why, "rollback: serial 5 is below serial 6 in force"));
	/* The same serial with another config is a second policy under one number. */
	assert_int_equal(judge(fx, 5, "00", why, sizeof(why)), -ESTALE);
	assert_int_equal(bundle_parse("b", fx->text, fx->len, &b, NULL), 0);
	assert_int_equal(judge(fx, 5, b.h.config_sha256, why, sizeof(why)), 0);
	assert_int_equal(judge(fx, 4, "00", why, sizeof(why)), 0);
}

static void test_bundle_check_groups(void **state)
{
	struct fixture *fx = *state;
	char why[512];

	sign_with(fx, fx->key, 5, NOW - DAY, NOW + DAY, "finance");
	assert_int_equal(judge(fx, 0, NULL, why, sizeof(why)), -EXDEV);
	assert_non_null(strstr(why, "wrong group: bundle is for finance, this host is in support"));
	sign_with(fx, fx->key, 5, NOW - DAY, NOW + DAY, "all");
	assert_int_equal(judge(fx, 0, NULL, why, sizeof(why)), 0);
}

static void test_bundle_parse_errors_name_the_line(void **state)
{
	static const struct {
		const char *text, *error;
	} cases[] = {
		{ "serial: 1\n", "b:1: not a policy bundle of format 1" },
		{ "exfilmon-policy 2\nserial: 1\n", "b:1: not a policy bundle of format 1" },
		{ "exfilmon-policy 1\nserial: 0\n", "b:2: serial: expected a whole number" },
		{ "exfilmon-policy 1\nserial: 1 \n", "b:2: serial: expected a whole number" },
		{ "exfilmon-policy 1\nnot_before: x\n", "b:2: expected \"serial: VALUE\"" },
		{ "exfilmon-policy 1\nserial: 1\nnot_before: 2026-02-30T00:00:00Z\n",
		  "b:3: not_before: expected a UTC time" },
		{ "exfilmon-policy 1\nserial: 1\nnot_before: 2026-02-01T00:00:00Z\r\n",
		  "b:3: not_before: expected a UTC time" },
		{ "exfilmon-policy 1\nserial: 1\nnot_before: 2026-02-01T00:00:00Z\n"
		  "expiry: 2026-02-01T00:00:00Z\n", "b:4: expiry: expiry is not after not_before" },
		{ "exfilmon-policy 1\nserial: 1\nnot_before: 2026-02-01T00:00:00Z\n"
		  "expiry: 2026-03-01T00:00:00Z\ngroups: a,,b\n", "b:5: groups: expected group" },
		{ "exfilmon-policy 1\nserial: 1\nnot_before: 2026-02-01T00:00:00Z\n"
		  "expiry: 2026-03-01T00:00:00Z\ngroups: a b\n", "b:5: groups: expected group" },
		{ "exfilmon-policy 1\nserial: 1\nnot_before: 2026-02-01T00:00:00Z\n"
		  "expiry: 2026-03-01T00:00:00Z\ngroups: a\nkey_id: 0123456789ABCDEF\n",
		  "b:6: key_id: expected 16 lower-case hex digits" },
		{ "exfilmon-policy 1\nserial: 1\nnot_before: 2026-02-01T00:00:00Z\n"
		  "expiry: 2026-03-01T00:00:00Z\ngroups: a\nkey_id: 0123456789abcdef\n"
		  "config_sha256: 00\n", "b:7: config_sha256: expected 64" },
		{ "exfilmon-policy 1\nserial: 1", "b:2: header ends before the serial line" },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct bundle b;
		char *errors = NULL;

		assert_int_equal(bundle_parse("b", cases[i].text, strlen(cases[i].text), &b,
					      &errors), -EINVAL);
		assert_non_null(errors);
		if (strncmp(errors, cases[i].error, strlen(cases[i].error)))
			fail_msg("case %zu: got '%s', expected '%s'", i, errors, cases[i].error);
		free(errors);
	}
}

static void test_bundle_parse_time_round_trip(void **state)
{
	int64_t t;
	char s[21];

	assert_int_equal(bundle_parse_time("2026-12-04T15:00:00Z", &t), 0);
	assert_int_equal(t, 1796396400LL);
	bundle_format_time(t, s);
	assert_string_equal(s, "2026-12-04T15:00:00Z");
	assert_int_equal(bundle_parse_time("2026-12-04 15:00:00Z", &t), -EINVAL);
	assert_int_equal(bundle_parse_time("2026-12-04T15:00:00+01", &t), -EINVAL);
	assert_int_equal(bundle_parse_time("2026-13-04T15:00:00Z", &t), -EINVAL);
	assert_int_equal(bundle_parse_time("+026-12-04T15:00:00Z", &t), -EINVAL);
}

static void test_trust_rotation(void **state)
{
	struct fixture *fx = *state;
	char why[512], path[128], *errors = NULL;

	/* Old and new trusted: bundles from both verify. */
	write_pub(fx->dir, "it-2027.pub", fx->other);
	trust_free(&fx->trust);
	assert_int_equal(trust_load_dir(fx->dir, &fx->trust, &errors), 0);
	assert_int_equal(fx->trust.n_keys, 2);
	assert_int_equal(judge(fx, 0, NULL, why, sizeof(why)), 0);
	sign_with(fx, fx->other, 6, NOW - DAY, NOW + DAY, "support");
	assert_int_equal(judge(fx, 5, NULL, why, sizeof(why)), 0);
	/* Old key removed: its bundles are refused, the new key's still pass. */
	snprintf(path, sizeof(path), "%s/it-2026.pub", fx->dir);
	unlink(path);
	trust_free(&fx->trust);
	assert_int_equal(trust_load_dir(fx->dir, &fx->trust, &errors), 0);
	assert_int_equal(judge(fx, 5, NULL, why, sizeof(why)), 0);
	sign_with(fx, fx->key, 7, NOW - DAY, NOW + DAY, "support");
	assert_int_equal(judge(fx, 5, NULL, why, sizeof(why)), -ENOKEY);
}

static void test_trust_load_dir_reports_bad_files(void **state)
{
	struct fixture *fx = *state;
	struct trust t;
	char path[128], *errors = NULL;
	FILE *f;

	snprintf(path, sizeof(path), "%s/junk.pub", fx->dir);
	f = fopen(path, "w");
	fputs("not a key\n", f);
	fclose(f);
	assert_int_equal(trust_load_dir(fx->dir, &t, &errors), -EINVAL);
	assert_non_null(strstr(errors, "junk.pub:1: not a PEM public key"));
	assert_int_equal(t.n_keys, 1);
	free(errors);
	trust_free(&t);
	assert_int_equal(trust_load_dir("/nonexistent/exfilmon", &t, &errors), 0);
	assert_int_equal(t.n_keys, 0);
}

static void test_policy_gate_refuses_plain_yaml_when_required(void **state)
{
	struct fixture *fx = *state;
	struct policy_rules r = { .trust = &fx->trust, .groups = support, .n_groups = 1,
				  .now = NOW, .check_time = true, .require_signed = true };
	struct policy_info info;
	struct config cfg;
	char *why = NULL;

	assert_int_equal(policy_gate_admit("c.yaml", yaml, strlen(yaml), &r, &cfg, &info, &why),
			 -EPERM);
	assert_string_equal(why, "not a signed bundle, and policy.require_signed is in force");
	free(why);
	r.require_signed = false;
	assert_int_equal(policy_gate_admit("c.yaml", yaml, strlen(yaml), &r, &cfg, &info, &why),
			 0);
	assert_false(info.is_signed);
	assert_int_equal(info.serial, 0);
	config_free(&cfg);
	assert_int_equal(policy_gate_admit("b", fx->text, fx->len, &r, &cfg, &info, &why), 0);
	assert_true(info.is_signed);
	assert_int_equal(info.serial, 5);
	assert_string_equal(cfg.sha256, info.sha256);
	assert_string_equal(cfg.source_paths[0], "/srv/crm");
	config_free(&cfg);
}

static void test_policy_gate_config_errors_use_file_lines(void **state)
{
	struct fixture *fx = *state;
	static const char bad[] = "sources:\n  paths: [relative]\n";
	struct bundle_header h = { .serial = 9, .not_before = NOW - DAY, .expiry = NOW + DAY,
				   .n_groups = 1, .groups = { "all" } };
	struct policy_rules r = { .trust = &fx->trust, .now = NOW, .check_time = true };
	struct policy_info info;
	struct config cfg;
	char *why = NULL;

	free(fx->text);
	assert_int_equal(bundle_sign(&h, bad, strlen(bad), fx->key, &fx->text, &fx->len), 0);
	assert_int_equal(policy_gate_admit("b", fx->text, fx->len, &r, &cfg, &info, &why),
			 -EINVAL);
	/* Eight header lines, then the config: its line 2 is the file's line 10. */
	assert_non_null(strstr(why, "b:10:"));
	free(why);
}

static void test_policy_store_round_trip(void **state)
{
	struct fixture *fx = *state;
	struct policy_applied a = { .serial = 42, .require_signed = true }, back;
	char dir[128], *text = NULL;
	size_t len = 0;

	snprintf(dir, sizeof(dir), "%s/state", fx->dir);
	assert_int_equal(policy_store_read(dir, &back), -ENOENT);
	memset(a.sha256, 'a', 64);
	assert_int_equal(policy_store_save(dir, fx->text, fx->len, &a), 0);
	assert_int_equal(policy_store_read(dir, &back), 0);
	assert_int_equal(back.serial, 42);
	assert_true(back.require_signed);
	assert_string_equal(back.sha256, a.sha256);
	assert_int_equal(policy_store_read_lkg(dir, &text, &len), 0);
	assert_int_equal(len, fx->len);
	assert_memory_equal(text, fx->text, len);
	free(text);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_bundle_sign_then_verify, setup, teardown),
		cmocka_unit_test_setup_teardown(test_bundle_verify_rejects_every_flipped_byte,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_bundle_verify_config_tamper_reason, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_bundle_verify_header_tamper_reason, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_bundle_verify_rejects_untrusted_key, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_bundle_check_time_window, setup, teardown),
		cmocka_unit_test_setup_teardown(test_bundle_check_rollback, setup, teardown),
		cmocka_unit_test_setup_teardown(test_bundle_check_groups, setup, teardown),
		cmocka_unit_test(test_bundle_parse_errors_name_the_line),
		cmocka_unit_test(test_bundle_parse_time_round_trip),
		cmocka_unit_test_setup_teardown(test_trust_rotation, setup, teardown),
		cmocka_unit_test_setup_teardown(test_trust_load_dir_reports_bad_files, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_policy_gate_refuses_plain_yaml_when_required,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_policy_gate_config_errors_use_file_lines,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_policy_store_round_trip, setup, teardown),
	};

	return cmocka_run_group_tests_name("bundle", tests, NULL, NULL);
}
