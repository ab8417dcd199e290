// SPDX-License-Identifier: GPL-2.0-only
/* Unit tests for central/central_config.c: defaults, a full file, and the errors a
 * hand-edited central.yaml produces (unknown key, out of range, bad list, bad YAML),
 * each located as FILE:LINE:COL with the key named. */
#include <errno.h>
#include <unistd.h>

#include "unit.h"
#include "../../central/central_config.h"

#define SEC 1000000000ULL

static char *write_tmp(const char *text)
{
	static char path[64];
	FILE *f;

	snprintf(path, sizeof(path), "/tmp/central-cfg-XXXXXX");
	close(mkstemp(path));
	f = fopen(path, "w");
	fputs(text, f);
	fclose(f);
	return path;
}

static void test_central_config_defaults_match_docs(void **state)
{
	struct central_config c;

	assert_int_equal(central_config_defaults(&c), 0);
	assert_int_equal(c.n_servers, 1);
	assert_string_equal(c.servers[0], "nats://127.0.0.1:4222");
	assert_int_equal(c.ring_min_users, 3);
	assert_int_equal(c.ring_window_ns, 7 * 86400 * SEC);
	assert_int_equal(c.fu_bulk_bytes, 50ULL << 20);
	assert_int_equal(c.fu_drip_bytes, 200ULL << 20);
	assert_int_equal(c.fu_drip_window_ns, 86400 * SEC);
	assert_int_equal(c.silent_intervals, 3);
	assert_int_equal(c.drift_grace_ns, 600 * SEC);
	assert_string_equal(c.trusted_dir, "/etc/exfilmon/trusted.d");
	assert_true(c.syslog);
	central_config_free(&c);
}

static void test_central_config_drift_grace_and_trusted(void **state)
{
	struct central_config c;
	char *errors, *path = write_tmp("detect:\n  drift_grace: 3s\npolicy:\n  trusted: \"\"\n");

	central_config_defaults(&c);
	assert_int_equal(central_config_load(path, &c, &errors), 0);
	assert_null(errors);
	assert_int_equal(c.drift_grace_ns, 3 * SEC);
	assert_string_equal(c.trusted_dir, "");
	central_config_free(&c);
	unlink(path);
	path = write_tmp("detect:\n  drift_grace: 0s\n");
	central_config_defaults(&c);
	assert_int_equal(central_config_load(path, &c, &errors), -EINVAL);
	assert_non_null(strstr(errors, "detect.drift_grace: '0s' is out of range"));
	free(errors);
	central_config_free(&c);
	unlink(path);
}

static void test_central_config_load_full_file(void **state)
{
	struct central_config c;
	char *errors, *path = write_tmp("nats:\n  servers: [nats://a:1, tls://b:2]\n"
					"ring:\n  min_users: 4\n  window: 2d\n"
					"output:\n  syslog: false\n  alerts: \"\"\n");

	central_config_defaults(&c);
	assert_int_equal(central_config_load(path, &c, &errors), 0);
	assert_null(errors);
	assert_int_equal(c.n_servers, 2);
	assert_string_equal(c.servers[1], "tls://b:2");
	assert_int_equal(c.ring_min_users, 4);
	assert_int_equal(c.ring_window_ns, 2 * 86400 * SEC);
	assert_false(c.syslog);
	assert_string_equal(c.alerts_path, "");
	central_config_free(&c);
	unlink(path);
}

static void test_central_config_errors_are_located(void **state)
{
	struct central_config c;
	char *errors, want[256], *path = write_tmp("ring:\n  min_users: 1\n  windw: 7d\n"
						   "nats:\n  servers: [http://x]\n");

	central_config_defaults(&c);
	assert_int_equal(central_config_load(path, &c, &errors), -EINVAL);
	assert_non_null(errors);
	snprintf(want, sizeof(want), "%s:2:14: ring.min_users: '1' is out of range", path);
	assert_non_null(strstr(errors, want));
	snprintf(want, sizeof(want), "%s:3:3: ring.windw: unknown key", path);
	assert_non_null(strstr(errors, want));
	snprintf(want, sizeof(want), "%s:5:13: nats.servers:", path);
	assert_non_null(strstr(errors, want));
	assert_int_equal(c.ring_min_users, 3);          /* a refused value leaves the default */
	free(errors);
	central_config_free(&c);
	unlink(path);
}

static void test_central_config_rejects_bad_yaml(void **state)
{
	struct central_config c;
	char *errors, *path = write_tmp("ring: [\n");

	central_config_defaults(&c);
	assert_int_equal(central_config_load(path, &c, &errors), -EINVAL);
	assert_non_null(strstr(errors, path));
	free(errors);
	central_config_free(&c);
	unlink(path);
}

static void test_central_config_every_key_documented(void **state)
{
	const char *name, *def, *doc;
	size_t i;

	for (i = 0; central_config_key(i, &name, &def, &doc); i++) {
		assert_non_null(strchr(name, '.'));
		assert_true(strlen(doc) > 5);
	}
	assert_true(i >= 20);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_central_config_defaults_match_docs),
		cmocka_unit_test(test_central_config_load_full_file),
		cmocka_unit_test(test_central_config_drift_grace_and_trusted),
		cmocka_unit_test(test_central_config_errors_are_located),
		cmocka_unit_test(test_central_config_rejects_bad_yaml),
		cmocka_unit_test(test_central_config_every_key_documented),
	};

	return cmocka_run_group_tests_name("central_config", tests, NULL, NULL);
}
