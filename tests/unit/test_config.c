// SPDX-License-Identifier: GPL-2.0-only
/* Unit tests for config.c: every error path reports FILE:LINE:COL and the key; a good
 * file and the shipped example load; a failed load leaves nothing behind. */
#include <errno.h>

#include "unit.h"
#include "config.h"

static char *errors;

static int load(const char *text, struct config *cfg)
{
	free(errors);
	errors = NULL;
	return config_load_string("t.yaml", text, strlen(text), cfg, &errors);
}

static void expect_error(const char *text, const char *needle)
{
	struct config cfg;

	assert_int_equal(load(text, &cfg), -EINVAL);
	assert_non_null(errors);
	if (!strstr(errors, needle)) {
		print_error("expected '%s' in:\n%s", needle, errors);
		fail();
	}
	assert_null(cfg.source_paths);
}

static void test_config_load_full(void **state)
{
	struct config cfg;
	static const uint8_t a[16] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 127, 0, 0, 2 };

	assert_int_equal(load("sources:\n  paths: [/srv/a, /srv/b]\n  services: [\"127.0.0.2:5432\"]\n"
			      "egress:\n  allow: [\"10.0.0.0/8\"]\n  removable_media: false\n"
			      "detect:\n  window: 5m\n  bulk_read: 10MiB\n  drip: 1GiB/7d\n"
			      "agent:\n  ring_buffer: 64KiB\n  poll_interval: 250ms\n", &cfg), 0);
	assert_int_equal(cfg.n_source_paths, 2);
	assert_string_equal(cfg.source_paths[1], "/srv/b");
	assert_false(cfg.removable_media);
	assert_int_equal(cfg.detect.window_ns, 300ULL * 1000000000ULL);
	assert_int_equal(cfg.detect.bulk_read_bytes, 10ULL << 20);
	assert_int_equal(cfg.detect.drip_bytes, 1ULL << 30);
	assert_int_equal(cfg.detect.drip_window_ns, 7ULL * 86400 * 1000000000ULL);
	assert_int_equal(cfg.ring_bytes, 65536);
	assert_int_equal(cfg.poll_interval_ms, 250);
	assert_int_equal(cfg.detect.exfil_bytes, 5ULL << 20); /* default kept */
	assert_true(config_net_match(cfg.services, cfg.n_services, a, 5432));
	assert_false(config_net_match(cfg.services, cfg.n_services, a, 5433));
	assert_int_equal(strlen(cfg.sha256), 64);
	config_free(&cfg);
}

static void test_config_load_example_file(void **state)
{
	struct config cfg;

	free(errors);
	errors = NULL;
	if (config_load("examples/exfilmon.yaml", &cfg, &errors)) {
		print_error("%s", errors ? errors : "?");
		fail();
	}
	assert_int_equal(cfg.n_source_paths, 2);
	assert_string_equal(cfg.path, "examples/exfilmon.yaml");
	config_free(&cfg);
}

static void test_config_load_errors_name_position_and_key(void **state)
{
	expect_error("detect:\n  window: ten minutes\n",
		     "t.yaml:2:11: detect.window: invalid duration \"ten minutes\"");
	expect_error("sources:\n  paths: [relative]\n", "t.yaml:2:11: sources.paths: \"relative\" is not an absolute path");
	expect_error("sources:\n  paths: [/a]\n  bogus: 1\n", "t.yaml:3:3: sources.bogus: unknown key");
	expect_error("nonsense:\n  x: 1\n", "t.yaml:1:1: nonsense: unknown section");
	expect_error("sources:\n  paths: [/a]\n  paths: [/b]\n", "t.yaml:3:3: sources.paths: given twice");
	expect_error("sources:\n  paths: {a: 1}\n", "sources.paths: expected a list");
	expect_error("sources:\n  paths: [/a]\ndetect:\n  bulk_read: [1]\n", "detect.bulk_read: expected a single value");
	expect_error("egress:\n  allow: [\"300.0.0.1\"]\nsources:\n  paths: [/a]\n",
		     "t.yaml:2:11: egress.allow: invalid address \"300.0.0.1\"");
	expect_error("sources:\n  paths: [/a]\negress:\n  removable_media: maybe\n",
		     "egress.removable_media: invalid boolean");
	expect_error("sources:\n  paths: [/a]\nagent:\n  ring_buffer: 5000\n", "agent.ring_buffer: invalid ring size");
	expect_error("sources:\n  paths: [/a]\noutput:\n  alerts: relative.jsonl\n", "output.alerts");
	expect_error("sources:\n  paths: [/a]\noutput:\n  syslog: udp://x:514\n", "output.syslog");
	expect_error("sources:\n  paths: [/a]\ndetect:\n  drip: 200MiB\n", "detect.drip: invalid rate");
	expect_error("sources:\n  paths: [/a]\ndetect:\n  baseline_factor: 0.5\n", "detect.baseline_factor");
	expect_error("sources:\n  paths: [/a]\ndetect:\n  bulk_objects: 0\n", "detect.bulk_objects");
	expect_error("sources: [\n", "t.yaml:2:1: YAML syntax");
	expect_error("", "empty configuration");
	expect_error("- a\n- b\n", "expected a mapping of sections");
	expect_error("egress:\n  removable_media: true\n", "nothing would be watched");
}

static void test_config_load_reports_every_error(void **state)
{
	struct config cfg;
	unsigned lines = 0;

	assert_int_equal(load("sources:\n  paths: [rel]\n  x: 1\ndetect:\n  window: 1y\n", &cfg), -EINVAL);
	for (const char *p = errors; (p = strchr(p, '\n')); p++)
		lines++;
	assert_int_equal(lines, 3);
}

static void test_config_load_missing_file(void **state)
{
	struct config cfg;

	free(errors);
	errors = NULL;
	assert_int_equal(config_load("/nonexistent/exfilmon.yaml", &cfg, &errors), -ENOENT);
	assert_non_null(strstr(errors, "/nonexistent/exfilmon.yaml:1:1: cannot read"));
}

static void test_config_defaults_builtin(void **state)
{
	struct config cfg;

	config_defaults(&cfg);
	assert_int_equal(cfg.n_source_paths, 1);
	assert_string_equal(cfg.source_paths[0], "/srv/crm-exports");
	assert_int_equal(cfg.n_allow, 3);
	assert_int_equal(strlen(cfg.sha256), 64);
	assert_int_equal(cfg.detect.bulk_read_bytes, 50ULL << 20);
	config_free(&cfg);
}

static int teardown(void **state)
{
	free(errors);
	return 0;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_config_load_full),
		cmocka_unit_test(test_config_load_example_file),
		cmocka_unit_test(test_config_load_errors_name_position_and_key),
		cmocka_unit_test(test_config_load_reports_every_error),
		cmocka_unit_test(test_config_load_missing_file),
		cmocka_unit_test(test_config_defaults_builtin),
	};

	return cmocka_run_group_tests_name("config", tests, NULL, teardown);
}
