// SPDX-License-Identifier: GPL-2.0-only
/* Unit tests for config.c: every key round trips, every error path reports FILE:LINE:COL
 * and the key, all errors are collected, a failed load leaves a zeroed struct, the
 * defaults hash, and docs/config.md and examples/exfilmon.yaml cover every key.
 * Run from the repository root (the example and the docs are read by relative path). */
#include <errno.h>
#include <fcntl.h>
#include <unistd.h>

#include "common/array_size.h"
#include "unit.h"
#include "config/config.h"

#define SEC 1000000000ULL
#define MIB (1ULL << 20)

static char *errors;

static int load_file(const char *path, struct config *cfg)
{
	free(errors);
	errors = NULL;
	return config_load(path, cfg, &errors);
}

static int load(const char *text, struct config *cfg)
{
	free(errors);
	errors = NULL;
	return config_load_string("t.yaml", text, strlen(text), cfg, &errors);
}

static void assert_zeroed(const struct config *cfg)
{
	static const struct config zero;

	assert_memory_equal(cfg, &zero, sizeof(zero));
}

/* Loads text, which must fail with an error line containing needle. */
static void expect_error(const char *text, const char *needle)
{
	struct config cfg;

	memset(&cfg, 0xa5, sizeof(cfg));
	if (load(text, &cfg) != -EINVAL || !errors || !strstr(errors, needle)) {
		print_error("text:\n%s\nexpected '%s' in:\n%s", text, needle,
			    errors ? errors : "(no errors)");
		fail();
	}
	assert_zeroed(&cfg);
}

static void mapped_v4(uint8_t out[16], uint8_t a, uint8_t b, uint8_t c, uint8_t d)
{
	memset(out, 0, 16);
	out[10] = out[11] = 0xff;
	out[12] = a;
	out[13] = b;
	out[14] = c;
	out[15] = d;
}

static const char full_text[] =
	"sources:\n"
	"  paths: [/srv/a, /srv/b]\n"
	"  services: [\"127.0.0.2:5432\", \"10.20.0.0/16:443\", \"[::1]:6432\"]\n"
	"egress:\n"
	"  allow: [\"10.0.0.0/8\", \"fd00::/8\"]\n"
	"  removable_media: false\n"
	"  sync_folders: [\"~/Box\", /shared/sync]\n"
	"detect:\n"
	"  window: 5m\n"
	"  bulk_read: 10MiB\n"
	"  bulk_objects: 300\n"
	"  exfil: 1MB\n"
	"  lookback: 2d\n"
	"  drip: 1GiB/7d\n"
	"  staging: 20MiB\n"
	"  baseline_factor: 2.5\n"
	"  baseline_min: 1GiB\n"
	"output:\n"
	"  alerts: /tmp/alerts.jsonl\n"
	"  evidence: /tmp/evidence\n"
	"  syslog: tcp://127.0.0.1:514\n"
	"evidence:\n"
	"  segment_size: 1MiB\n"
	"  retention: 30d\n"
	"  retention_size: 0\n"
	"  seal_interval: 500ms\n"
	"agent:\n"
	"  state_dir: /tmp/state\n"
	"  ring_buffer: 64KiB\n"
	"  poll_interval: 250ms\n";

static void test_config_load_string_full_round_trip(void **state)
{
	struct config cfg;

	assert_int_equal(load(full_text, &cfg), 0);
	assert_null(errors);
	assert_null(cfg.path);
	assert_int_equal(cfg.n_source_paths, 2);
	assert_string_equal(cfg.source_paths[0], "/srv/a");
	assert_string_equal(cfg.source_paths[1], "/srv/b");
	assert_int_equal(cfg.n_services, 3);
	assert_string_equal(cfg.services[1].text, "10.20.0.0/16:443");
	assert_int_equal(cfg.services[2].port, 6432);
	assert_int_equal(cfg.n_allow, 2);
	assert_int_equal(cfg.allow[1].prefix, 8);
	assert_false(cfg.removable_media);
	assert_int_equal(cfg.n_sync_folders, 2);
	assert_string_equal(cfg.sync_folders[0], "~/Box");
	assert_string_equal(cfg.sync_folders[1], "/shared/sync");
	assert_int_equal(cfg.detect.window_ns, 300 * SEC);
	assert_int_equal(cfg.detect.bulk_read_bytes, 10 * MIB);
	assert_int_equal(cfg.detect.bulk_objects, 300);
	assert_int_equal(cfg.detect.exfil_bytes, 1000000);
	assert_int_equal(cfg.detect.lookback_ns, 2 * 86400 * SEC);
	assert_int_equal(cfg.detect.drip_bytes, 1024 * MIB);
	assert_int_equal(cfg.detect.drip_window_ns, 7 * 86400 * SEC);
	assert_int_equal(cfg.detect.staging_bytes, 20 * MIB);
	assert_true(cfg.detect.baseline_factor == 2.5);
	assert_int_equal(cfg.detect.baseline_min_bytes, 1024 * MIB);
	assert_string_equal(cfg.alerts_path, "/tmp/alerts.jsonl");
	assert_string_equal(cfg.evidence_dir, "/tmp/evidence");
	assert_string_equal(cfg.syslog_url, "tcp://127.0.0.1:514");
	assert_int_equal(cfg.evidence_segment_bytes, MIB);
	assert_int_equal(cfg.evidence_retention_ns, 30 * 86400 * SEC);
	assert_int_equal(cfg.evidence_retention_bytes, 0);
	assert_int_equal(cfg.evidence_seal_interval_ns, SEC / 2);
	assert_string_equal(cfg.state_dir, "/tmp/state");
	assert_int_equal(cfg.ring_bytes, 65536);
	assert_int_equal(cfg.poll_interval_ms, 250);
	assert_int_equal(strlen(cfg.sha256), 64);
	config_free(&cfg);
	assert_zeroed(&cfg);
}

static void test_config_load_string_hashes_the_bytes(void **state)
{
	struct config cfg;

	/* printf 'sources:\n  paths: [/x]\n' | sha256sum */
	assert_int_equal(load("sources:\n  paths: [/x]\n", &cfg), 0);
	assert_string_equal(cfg.sha256,
			    "268f4b57ec3960819cc1d14602b63b375ee68349d9f2f975c15e20917f9a014b");
	config_free(&cfg);
}

static void test_config_load_string_missing_keys_take_defaults(void **state)
{
	struct config cfg;

	assert_int_equal(load("detect:\n  window: 1m\n", &cfg), 0);
	assert_int_equal(cfg.detect.window_ns, 60 * SEC);
	assert_int_equal(cfg.detect.bulk_read_bytes, 50 * MIB);
	assert_int_equal(cfg.n_source_paths, 1);
	assert_string_equal(cfg.source_paths[0], "/srv/crm-exports");
	assert_int_equal(cfg.n_services, 1);
	assert_int_equal(cfg.n_allow, 3);
	assert_string_equal(cfg.syslog_url, "unix:/dev/log");
	config_free(&cfg);
}

static void test_config_load_string_sources_section_replaces_both_lists(void **state)
{
	struct config cfg;

	assert_int_equal(load("sources:\n  paths: [/data]\n", &cfg), 0);
	assert_int_equal(cfg.n_source_paths, 1);
	assert_int_equal(cfg.n_services, 0);
	assert_null(cfg.services);
	config_free(&cfg);
	assert_int_equal(load("sources:\n  services: [\"10.1.1.1:80\"]\n", &cfg), 0);
	assert_int_equal(cfg.n_source_paths, 0);
	assert_int_equal(cfg.n_services, 1);
	config_free(&cfg);
}

static void test_config_load_string_null_and_scalar_lists(void **state)
{
	struct config cfg;

	assert_int_equal(load("egress:\n  allow:\n  sync_folders: ~\n", &cfg), 0);
	assert_int_equal(cfg.n_allow, 0);
	assert_int_equal(cfg.n_sync_folders, 0);
	config_free(&cfg);
	assert_int_equal(load("sources:\n  paths: /one\ndetect:\n", &cfg), 0);
	assert_int_equal(cfg.n_source_paths, 1);
	assert_string_equal(cfg.source_paths[0], "/one");
	config_free(&cfg);
}

static void test_config_load_string_off_disables_outputs(void **state)
{
	struct config cfg;

	assert_int_equal(load("output:\n  alerts: off\n  syslog: off\n", &cfg), 0);
	assert_null(cfg.alerts_path);
	assert_null(cfg.syslog_url);
	assert_non_null(cfg.evidence_dir);
	config_free(&cfg);
	assert_int_equal(load("egress:\n  removable_media: No\n", &cfg), 0);
	assert_false(cfg.removable_media);
	config_free(&cfg);
}

static void test_config_load_example_file(void **state)
{
	struct config cfg;

	if (load_file("examples/exfilmon.yaml", &cfg)) {
		print_error("%s", errors ? errors : "(no errors)");
		fail();
	}
	assert_string_equal(cfg.path, "examples/exfilmon.yaml");
	assert_int_equal(cfg.n_source_paths, 2);
	assert_string_equal(cfg.source_paths[1], "/var/lib/support-tool/cache");
	assert_int_equal(cfg.n_services, 2);
	assert_int_equal(cfg.detect.drip_bytes, 200 * MIB);
	assert_int_equal(strlen(cfg.sha256), 64);
	config_free(&cfg);
}

struct bad_case {
	const char *text;
	const char *needle;
};

/* One bad value per key, each with the position and the key it must name. */
static const struct bad_case bad_values[] = {
	{ "sources:\n  paths: [relative]\n",
	  "t.yaml:2:11: sources.paths: \"relative\" is not an absolute path" },
	{ "sources:\n  paths: [\"~/x\"]\n", "t.yaml:2:11: sources.paths: \"~/x\" is not an absolute" },
	{ "sources:\n  services: [\"127.0.0.2\"]\n",
	  "t.yaml:2:14: sources.services: \"127.0.0.2\" needs a port" },
	{ "sources:\n  services: [\"db.example:5432\"]\n",
	  "t.yaml:2:14: sources.services: invalid address \"db.example:5432\"" },
	{ "sources:\n  services: [\"1.2.3.4:70000\"]\n",
	  "t.yaml:2:14: sources.services: address \"1.2.3.4:70000\" out of range" },
	{ "egress:\n  allow: [\"300.0.0.1\"]\n",
	  "t.yaml:2:11: egress.allow: invalid address \"300.0.0.1\"" },
	{ "egress:\n  allow: [\"10.0.0.0/33\"]\n",
	  "t.yaml:2:11: egress.allow: address \"10.0.0.0/33\" out of range" },
	{ "egress:\n  allow: [\"10.0.0.1:443\"]\n",
	  "t.yaml:2:11: egress.allow: \"10.0.0.1:443\": rules here match addresses only" },
	{ "egress:\n  removable_media: maybe\n",
	  "t.yaml:2:20: egress.removable_media: invalid boolean \"maybe\"" },
	{ "egress:\n  sync_folders: [Dropbox]\n",
	  "t.yaml:2:18: egress.sync_folders: \"Dropbox\" is not an absolute path" },
	{ "egress:\n  sync_folders: [\"~/\"]\n",
	  "t.yaml:2:18: egress.sync_folders: \"~/\" would make every write egress" },
	{ "detect:\n  window: 10 minutes\n",
	  "t.yaml:2:11: detect.window: invalid duration \"10 minutes\" (expected e.g. 10m, 24h)" },
	{ "detect:\n  window: 8d\n", "t.yaml:2:11: detect.window: duration \"8d\" out of range" },
	{ "detect:\n  bulk_read: 50 megabytes\n",
	  "t.yaml:2:14: detect.bulk_read: invalid size \"50 megabytes\"" },
	{ "detect:\n  bulk_read: 0\n", "t.yaml:2:14: detect.bulk_read: size \"0\" out of range" },
	{ "detect:\n  bulk_objects: 2k\n",
	  "t.yaml:2:17: detect.bulk_objects: invalid number \"2k\"" },
	{ "detect:\n  bulk_objects: 0\n",
	  "t.yaml:2:17: detect.bulk_objects: number \"0\" out of range" },
	{ "detect:\n  exfil: -5MiB\n", "t.yaml:2:10: detect.exfil: invalid size \"-5MiB\"" },
	{ "detect:\n  lookback: 91d\n", "t.yaml:2:13: detect.lookback: duration \"91d\" out of range" },
	{ "detect:\n  drip: 200MiB\n", "t.yaml:2:9: detect.drip: invalid rate \"200MiB\"" },
	{ "detect:\n  drip: 0/24h\n", "t.yaml:2:9: detect.drip: rate \"0/24h\" out of range" },
	{ "detect:\n  staging: 5 MiBs\n", "t.yaml:2:12: detect.staging: invalid size \"5 MiBs\"" },
	{ "detect:\n  baseline_factor: 0.5\n",
	  "t.yaml:2:20: detect.baseline_factor: number \"0.5\" out of range" },
	{ "detect:\n  baseline_factor: ten\n",
	  "t.yaml:2:20: detect.baseline_factor: invalid number \"ten\"" },
	{ "detect:\n  baseline_min: 99999999999TiB\n",
	  "t.yaml:2:17: detect.baseline_min: invalid size \"99999999999TiB\"" },
	{ "output:\n  alerts: relative.jsonl\n",
	  "t.yaml:2:11: output.alerts: \"relative.jsonl\" is not an absolute path" },
	{ "output:\n  evidence: off\n", "t.yaml:2:13: output.evidence: \"off\" is not an absolute" },
	{ "output:\n  syslog: udp://x:514\n",
	  "t.yaml:2:11: output.syslog: invalid syslog destination \"udp://x:514\"" },
	{ "output:\n  syslog: tcp://siem\n", "t.yaml:2:11: output.syslog: invalid syslog" },
	{ "evidence:\n  segment_size: 4KiB\n",
	  "t.yaml:2:17: evidence.segment_size: size \"4KiB\" out of range" },
	{ "evidence:\n  retention: 1m\n",
	  "t.yaml:2:14: evidence.retention: duration \"1m\" out of range" },
	{ "evidence:\n  retention_size: lots\n",
	  "t.yaml:2:19: evidence.retention_size: invalid size \"lots\"" },
	{ "evidence:\n  seal_interval: 2h\n",
	  "t.yaml:2:18: evidence.seal_interval: duration \"2h\" out of range" },
	{ "agent:\n  state_dir: state\n", "t.yaml:2:14: agent.state_dir: \"state\" is not an absolute" },
	{ "agent:\n  ring_buffer: 5000\n",
	  "t.yaml:2:16: agent.ring_buffer: ring size \"5000\" out of range" },
	{ "agent:\n  ring_buffer: 2GiB\n", "t.yaml:2:16: agent.ring_buffer: ring size \"2GiB\" out" },
	{ "agent:\n  poll_interval: 1ms\n",
	  "t.yaml:2:18: agent.poll_interval: duration \"1ms\" out of range" },
	{ "agent:\n  poll_interval: soon\n",
	  "t.yaml:2:18: agent.poll_interval: invalid duration \"soon\"" },
};

static void test_config_load_string_rejects_each_bad_value(void **state)
{
	for (size_t i = 0; i < ARRAY_SIZE(bad_values); i++)
		expect_error(bad_values[i].text, bad_values[i].needle);
}

/* Structure errors: names, types, repetition, YAML itself. */
static const struct bad_case bad_structure[] = {
	{ "sources:\n  paths: [/a]\n  bogus: 1\n",
	  "t.yaml:3:3: sources.bogus: unknown key (sources takes paths, services)" },
	{ "detect:\n  windw: 5m\n", "t.yaml:2:3: detect.windw: unknown key (detect takes window," },
	{ "nonsense:\n  x: 1\n", "t.yaml:1:1: nonsense: unknown section (expected sources, egress," },
	{ "sources:\n  paths: [/a]\n  paths: [/b]\n",
	  "t.yaml:3:3: sources.paths: given twice (first at line 2)" },
	{ "detect: {}\ndetect: {}\n", "t.yaml:2:1: detect: section given twice (first at line 1)" },
	{ "sources:\n  paths: {a: 1}\n", "t.yaml:2:10: sources.paths: expected a list, found a mapping" },
	{ "sources:\n  paths: [[/a]]\n",
	  "t.yaml:2:11: sources.paths: expected a single value, found a list" },
	{ "detect:\n  bulk_read: [1]\n",
	  "t.yaml:2:14: detect.bulk_read: expected a single value, found a list" },
	{ "detect:\n  window:\n", "t.yaml:2:10: detect.window: needs a value" },
	{ "detect: 5\n", "t.yaml:1:9: detect: expected a mapping of keys, found a value" },
	{ "detect:\n  [a]: 1\n", "t.yaml:2:3: detect: expected a key name, found a list" },
	{ "- a\n- b\n", "t.yaml:1:1: expected a mapping of sections" },
	{ "sources: [\n", "t.yaml:2:1: YAML syntax error: did not find expected node content" },
	{ "sources:\n  paths: [/a\n detect: 1\n", "t.yaml:3:8: YAML syntax error: did not find " },
	{ "sources:\n\tpaths: [/a]\n", "t.yaml:2:1: YAML syntax error" },
	{ "sources:\n  paths: [\"/a\xff\"]\n", "t.yaml:2:14: YAML syntax error: invalid leading UTF-8" },
	{ "sources:\n  paths: [\"/a\\0b\"]\n", "t.yaml:2:11: sources.paths: value contains a NUL" },
	{ "detect: {}\n---\ndetect: {}\n", "t.yaml:3:1: a second YAML document" },
	{ "detect: {}\n...\n[\n", "t.yaml:3:1: YAML syntax error" },
	{ "", "t.yaml:1:1: empty configuration" },
	{ "# only a comment\n", "t.yaml:1:1: empty configuration" },
	{ "sources: {}\n", "t.yaml:1:1: sources: no paths and no services: nothing would be watched" },
	{ "sources:\n  paths: []\n  services: []\n",
	  "t.yaml:2:10: sources: no paths and no services" },
	{ "evidence:\n  retention_size: 1MiB\n",
	  "t.yaml:2:19: evidence.retention_size: smaller than evidence.segment_size" },
};

static void test_config_load_string_rejects_bad_structure(void **state)
{
	for (size_t i = 0; i < ARRAY_SIZE(bad_structure); i++)
		expect_error(bad_structure[i].text, bad_structure[i].needle);
}

/* Issue 11 item 20: spellings that used to slip past the string checks, an open bracket
 * in a syslog address, and sink trees overlapping source trees. */
static const struct bad_case bad_paths[] = {
	{ "sources:\n  paths: [/]\n",
	  "t.yaml:2:11: sources.paths: \"/\" would watch every file on the machine" },
	{ "sources:\n  paths: [\"//\"]\n", "t.yaml:2:11: sources.paths: \"//\" would watch every" },
	{ "sources:\n  paths: [/a, /.]\n", "t.yaml:2:15: sources.paths: \"/.\" would watch every" },
	{ "sources:\n  paths: [/srv/../]\n",
	  "t.yaml:2:11: sources.paths: \"/srv/../\": a \"..\" component is not allowed" },
	{ "egress:\n  sync_folders: [\"//\"]\n",
	  "t.yaml:2:18: egress.sync_folders: \"//\" would make every write egress" },
	{ "egress:\n  sync_folders: [/.]\n",
	  "t.yaml:2:18: egress.sync_folders: \"/.\" would make every write egress" },
	{ "egress:\n  sync_folders: [\"/./\"]\n",
	  "t.yaml:2:18: egress.sync_folders: \"/./\" would make every write egress" },
	{ "egress:\n  sync_folders: [\"~/.\"]\n",
	  "t.yaml:2:18: egress.sync_folders: \"~/.\" would make every write egress" },
	{ "egress:\n  sync_folders: [\"~//\"]\n",
	  "t.yaml:2:18: egress.sync_folders: \"~//\" would make every write egress" },
	{ "egress:\n  sync_folders: [\"~/..\"]\n",
	  "t.yaml:2:18: egress.sync_folders: \"~/..\": a \"..\" component is not allowed" },
	{ "egress:\n  sync_folders: [\"~/Box/../..\"]\n",
	  "t.yaml:2:18: egress.sync_folders: \"~/Box/../..\": a \"..\" component" },
	{ "output:\n  evidence: /var/lib/../../etc\n",
	  "t.yaml:2:13: output.evidence: \"/var/lib/../../etc\": a \"..\" component" },
	{ "output:\n  syslog: \"tcp://[::1:514\"\n",
	  "t.yaml:2:11: output.syslog: invalid syslog destination \"tcp://[::1:514\"" },
	{ "output:\n  syslog: \"tcp://::1:514\"\n", "t.yaml:2:11: output.syslog: invalid syslog" },
	{ "output:\n  syslog: \"tcp://[]:514\"\n", "t.yaml:2:11: output.syslog: invalid syslog" },
	{ "output:\n  syslog: \"tcp://[10.0.0.1]:514\"\n", "t.yaml:2:11: output.syslog: invalid" },
	{ "output:\n  syslog: \"tcp://300.1.1.1:514\"\n", "t.yaml:2:11: output.syslog: invalid" },
	{ "output:\n  syslog: \"tcp://-siem:514\"\n", "t.yaml:2:11: output.syslog: invalid" },
	{ "output:\n  syslog: \"tcp://si em:514\"\n", "t.yaml:2:11: output.syslog: invalid" },
	{ "output:\n  syslog: \"tcp://siem:0\"\n", "t.yaml:2:11: output.syslog: invalid" },
	{ "sources:\n  paths: [/srv/crm]\negress:\n  sync_folders: [/tmp/x, /srv/crm/share]\n",
	  "t.yaml:4:26: egress.sync_folders: \"/srv/crm/share\" overlaps the source \"/srv/crm\" "
	  "(sources.paths, line 2): a file cannot be both a source and a sink" },
	{ "sources:\n  paths:\n    - /a\n    - /srv/crm/db\negress:\n  sync_folders: [/srv]\n",
	  "t.yaml:6:18: egress.sync_folders: \"/srv\" overlaps the source \"/srv/crm/db\" "
	  "(sources.paths, line 4)" },
	{ "sources:\n  paths: [/srv/crm]\negress:\n  sync_folders: [\"/srv//crm/./\"]\n",
	  "t.yaml:4:18: egress.sync_folders: \"/srv/crm\" overlaps the source \"/srv/crm\"" },
	{ "egress:\n  sync_folders: [/srv/crm-exports/out]\n",
	  "t.yaml:2:18: egress.sync_folders: \"/srv/crm-exports/out\" overlaps the source "
	  "\"/srv/crm-exports\" (sources.paths, default)" },
};

static void test_config_load_string_rejects_path_tricks(void **state)
{
	for (size_t i = 0; i < ARRAY_SIZE(bad_paths); i++)
		expect_error(bad_paths[i].text, bad_paths[i].needle);
}

static void test_config_load_string_normalizes_paths(void **state)
{
	struct config cfg;

	assert_int_equal(load("sources:\n  paths: [\"/srv//a/./b/\", /srv/crm]\n"
			      "egress:\n  sync_folders: [\"~//Box/./\", /srv/crm2, /srv/a/bc]\n"
			      "output:\n  evidence: /var//ev/\n"
			      "  syslog: \"tcp://[::1]:514\"\n", &cfg), 0);
	assert_string_equal(cfg.source_paths[0], "/srv/a/b");
	assert_string_equal(cfg.sync_folders[0], "~/Box");
	assert_string_equal(cfg.sync_folders[1], "/srv/crm2");
	assert_string_equal(cfg.evidence_dir, "/var/ev");
	assert_string_equal(cfg.syslog_url, "tcp://[::1]:514");
	config_free(&cfg);
	assert_int_equal(load("output:\n  syslog: \"tcp://siem-1.corp.example:6514\"\n", &cfg), 0);
	config_free(&cfg);
	assert_int_equal(load("output:\n  syslog: \"tcp://10.0.0.9:514\"\n", &cfg), 0);
	config_free(&cfg);
}

static void test_config_path_within(void **state)
{
	assert_true(config_path_within("/srv/crm", "/srv/crm"));
	assert_true(config_path_within("/srv/crm/x", "/srv/crm"));
	assert_true(config_path_within("/srv/crm", "/"));
	assert_false(config_path_within("/srv/crm2", "/srv/crm"));
	assert_false(config_path_within("/srv", "/srv/crm"));
}

static void test_config_load_string_rejects_too_many_rules(void **state)
{
	size_t cap = 64 + 513 * 16;
	char *text = malloc(cap), *p = text;

	assert_non_null(text);
	p += sprintf(p, "egress:\n  allow: [");
	for (int i = 0; i < 513; i++)
		p += sprintf(p, "%s\"::%x\"", i ? ", " : "", i + 1);
	strcpy(p, "]\n");
	expect_error(text, "t.yaml:2:10: egress.allow: 513 items, at most 512");
	free(text);
}

static unsigned count_lines(const char *s)
{
	unsigned lines = 0;

	for (; s && (s = strchr(s, '\n')); s++)
		lines++;
	return lines;
}

static void test_config_load_string_reports_every_error(void **state)
{
	struct config cfg;

	assert_int_equal(load("sources:\n  paths: [rel, /ok, rel2]\n  x: 1\n"
			      "detect:\n  window: 1y\n  exfil: lots\nagent: {ring_buffer: 3}\n",
			      &cfg), -EINVAL);
	assert_int_equal(count_lines(errors), 6);
	assert_non_null(strstr(errors, "t.yaml:2:11: sources.paths"));
	assert_non_null(strstr(errors, "t.yaml:2:21: sources.paths"));
	assert_non_null(strstr(errors, "t.yaml:3:3: sources.x"));
	assert_non_null(strstr(errors, "t.yaml:5:11: detect.window"));
	assert_non_null(strstr(errors, "t.yaml:6:10: detect.exfil"));
	assert_non_null(strstr(errors, "t.yaml:7:22: agent.ring_buffer"));
	assert_zeroed(&cfg);
}

static void test_config_load_string_refuses_deep_nesting_quickly(void **state)
{
	size_t depth = 200000;
	char *text = malloc(2 * depth + 16);

	/* libyaml's loader alone spends minutes on this; the event pre-pass stops at once. */
	assert_non_null(text);
	strcpy(text, "sources: ");
	memset(text + 9, '[', depth);
	memset(text + 9 + depth, ']', depth);
	strcpy(text + 9 + 2 * depth, "\n");
	expect_error(text, "t.yaml:1:17: nested more than 8 levels deep");
	free(text);
}

static void test_config_load_string_caps_the_error_list(void **state)
{
	char *text = malloc(16 + 150 * 16), *p = text;
	struct config cfg;

	assert_non_null(text);
	p += sprintf(p, "detect:\n");
	for (int i = 0; i < 150; i++)
		p += sprintf(p, "  bad%d: 1\n", i);
	assert_int_equal(load(text, &cfg), -EINVAL);
	assert_int_equal(count_lines(errors), 101);
	assert_non_null(strstr(errors, "t.yaml:101:3: detect.bad99: unknown key"));
	assert_non_null(strstr(errors, "t.yaml:102:3: too many errors, the rest are not shown\n"));
	assert_null(strstr(errors, "bad100"));
	free(text);
}

static char tmpdir[64];

static int make_tmpdir(void **state)
{
	strcpy(tmpdir, "/tmp/test_config.XXXXXX");
	return mkdtemp(tmpdir) ? 0 : -1;
}

static int remove_tmpdir(void **state)
{
	char cmd[128];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmpdir);
	free(errors);
	errors = NULL;
	return system(cmd);
}

static void write_file(const char *path, const char *text, size_t len)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);

	assert_true(fd >= 0);
	assert_int_equal(write(fd, text, len), (ssize_t)len);
	close(fd);
}

static void test_config_load_file_errors_name_the_path(void **state)
{
	char path[128];
	struct config cfg;

	snprintf(path, sizeof(path), "%s/exfilmon.yaml", tmpdir);
	write_file(path, "detect:\n  window: 10 minutes\n", 29);
	memset(&cfg, 0x5a, sizeof(cfg));
	assert_int_equal(load_file(path, &cfg), -EINVAL);
	assert_zeroed(&cfg);
	assert_non_null(strstr(errors, path));
	assert_non_null(strstr(errors, ".yaml:2:11: detect.window: invalid duration \"10 minutes\""));
}

static void test_config_load_missing_file(void **state)
{
	struct config cfg;

	memset(&cfg, 0x5a, sizeof(cfg));
	assert_int_equal(load_file("/nonexistent/exfilmon.yaml", &cfg), -ENOENT);
	assert_zeroed(&cfg);
	assert_non_null(strstr(errors, "/nonexistent/exfilmon.yaml:1:1: cannot read: "));
	assert_int_equal(load_file(tmpdir, &cfg), -EISDIR);
	assert_zeroed(&cfg);
}

static void test_config_load_refuses_huge_file(void **state)
{
	size_t len = (1 << 20) + 1;
	char *big = malloc(len), path[128];
	struct config cfg;

	assert_non_null(big);
	memset(big, '#', len);
	snprintf(path, sizeof(path), "%s/big.yaml", tmpdir);
	write_file(path, big, len);
	free(big);
	assert_int_equal(load_file(path, &cfg), -EFBIG);
	assert_non_null(strstr(errors, "larger than 1 MiB"));
	assert_zeroed(&cfg);
}

static void test_config_load_accepts_null_errors(void **state)
{
	struct config cfg;

	assert_int_equal(config_load_string("t", "x: 1\n", 5, &cfg, NULL), -EINVAL);
	assert_zeroed(&cfg);
	assert_int_equal(config_load_string("t", "detect: {}\n", 11, &cfg, NULL), 0);
	config_free(&cfg);
}

static void test_config_defaults_builtin(void **state)
{
	struct config cfg, again;
	uint8_t a[16];

	assert_int_equal(config_defaults(&cfg), 0);
	assert_null(cfg.path);
	assert_int_equal(cfg.n_source_paths, 1);
	assert_string_equal(cfg.source_paths[0], "/srv/crm-exports");
	assert_int_equal(cfg.n_services, 1);
	assert_string_equal(cfg.services[0].text, "127.0.0.2:5432");
	assert_int_equal(cfg.n_allow, 3);
	mapped_v4(a, 127, 0, 0, 77); /* the demo's drop site must not be allowed */
	assert_false(config_net_match(cfg.allow, cfg.n_allow, a, 443));
	mapped_v4(a, 127, 0, 0, 1);
	assert_true(config_net_match(cfg.allow, cfg.n_allow, a, 443));
	assert_true(cfg.removable_media);
	assert_int_equal(cfg.n_sync_folders, 2);
	assert_string_equal(cfg.sync_folders[1], "~/Nextcloud");
	assert_int_equal(cfg.detect.window_ns, 600 * SEC);
	assert_int_equal(cfg.detect.bulk_read_bytes, 50 * MIB);
	assert_int_equal(cfg.detect.bulk_objects, 2000);
	assert_int_equal(cfg.detect.exfil_bytes, 5 * MIB);
	assert_int_equal(cfg.detect.lookback_ns, 86400 * SEC);
	assert_int_equal(cfg.detect.drip_bytes, 200 * MIB);
	assert_int_equal(cfg.detect.drip_window_ns, 86400 * SEC);
	assert_int_equal(cfg.detect.staging_bytes, 50 * MIB);
	assert_true(cfg.detect.baseline_factor == 10);
	assert_int_equal(cfg.detect.baseline_min_bytes, 100 * MIB);
	assert_string_equal(cfg.alerts_path, "/var/log/exfilmon/alerts.jsonl");
	assert_string_equal(cfg.evidence_dir, "/var/lib/exfilmon/evidence");
	assert_string_equal(cfg.syslog_url, "unix:/dev/log");
	assert_int_equal(cfg.evidence_segment_bytes, 16 * MIB);
	assert_int_equal(cfg.evidence_retention_ns, 180 * 86400 * SEC);
	assert_int_equal(cfg.evidence_retention_bytes, 2048 * MIB);
	assert_int_equal(cfg.evidence_seal_interval_ns, 5 * SEC);
	assert_string_equal(cfg.state_dir, "/var/lib/exfilmon/state");
	assert_int_equal(cfg.ring_bytes, 4 * MIB);
	assert_int_equal(cfg.poll_interval_ms, 250);
	assert_int_equal(strlen(cfg.sha256), 64);
	assert_int_equal(config_defaults(&again), 0);
	assert_string_equal(cfg.sha256, again.sha256);
	config_free(&again);
	/* No file given: config_load runs on the same defaults. */
	assert_int_equal(config_load(NULL, &again, NULL), 0);
	assert_null(again.path);
	assert_string_equal(cfg.sha256, again.sha256);
	config_free(&again);
	config_free(&cfg);
}

static void test_config_net_match_ipv4(void **state)
{
	struct config cfg;
	uint8_t a[16];

	assert_int_equal(load("sources:\n  services: [\"10.20.0.0/16:443\", \"127.0.0.2:5432\"]\n",
			      &cfg), 0);
	mapped_v4(a, 10, 20, 255, 9);
	assert_true(config_net_match(cfg.services, cfg.n_services, a, 443));
	assert_false(config_net_match(cfg.services, cfg.n_services, a, 444));
	mapped_v4(a, 10, 21, 0, 1);
	assert_false(config_net_match(cfg.services, cfg.n_services, a, 443));
	mapped_v4(a, 127, 0, 0, 2);
	assert_true(config_net_match(cfg.services, cfg.n_services, a, 5432));
	assert_false(config_net_match(cfg.services, cfg.n_services, a, 5433));
	mapped_v4(a, 127, 0, 0, 3);
	assert_false(config_net_match(cfg.services, cfg.n_services, a, 5432));
	assert_false(config_net_match(cfg.services, 0, a, 5432));
	config_free(&cfg);
}

static void test_config_net_match_any_port_and_ipv6(void **state)
{
	static const uint8_t v6_in[16] = { 0xfd, 0x12, [15] = 7 };
	static const uint8_t v6_out[16] = { 0xfe, 0x80, [15] = 1 };
	static const uint8_t loop6[16] = { [15] = 1 };
	struct config cfg;
	uint8_t a[16];

	assert_int_equal(load("egress:\n  allow: [\"10.0.0.0/8\", \"fd00::/8\", \"::1/128\", "
			      "\"192.168.1.0/25\"]\n", &cfg), 0);
	mapped_v4(a, 10, 200, 3, 4);
	assert_true(config_net_match(cfg.allow, cfg.n_allow, a, 1));
	assert_true(config_net_match(cfg.allow, cfg.n_allow, a, 65535));
	mapped_v4(a, 11, 0, 0, 1);
	assert_false(config_net_match(cfg.allow, cfg.n_allow, a, 443));
	mapped_v4(a, 192, 168, 1, 127);
	assert_true(config_net_match(cfg.allow, cfg.n_allow, a, 443));
	mapped_v4(a, 192, 168, 1, 128); /* a /25 boundary inside a byte */
	assert_false(config_net_match(cfg.allow, cfg.n_allow, a, 443));
	assert_true(config_net_match(cfg.allow, cfg.n_allow, v6_in, 443));
	assert_false(config_net_match(cfg.allow, cfg.n_allow, v6_out, 443));
	assert_true(config_net_match(cfg.allow, cfg.n_allow, loop6, 22));
	config_free(&cfg);
	/* An IPv4 /0 covers every IPv4 address and no IPv6 one. */
	assert_int_equal(load("egress:\n  allow: [\"0.0.0.0/0\"]\n", &cfg), 0);
	mapped_v4(a, 203, 0, 113, 5);
	assert_true(config_net_match(cfg.allow, cfg.n_allow, a, 80));
	assert_false(config_net_match(cfg.allow, cfg.n_allow, v6_out, 80));
	config_free(&cfg);
	assert_int_equal(load("sources:\n  services: [\"[fd00::/16]:5432\"]\n", &cfg), 0);
	assert_false(config_net_match(cfg.services, cfg.n_services, v6_in, 5432));
	config_free(&cfg);
}

/* Reads a whole small text file into a static buffer. */
static const char *slurp(const char *path)
{
	static char buf[65536];
	FILE *f = fopen(path, "r");
	size_t n;

	assert_non_null(f);
	n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = '\0';
	return buf;
}

static void test_config_key_describe_docs_and_example_cover_every_key(void **state)
{
	const char *name, *def, *doc;
	char needle[256];
	size_t i;

	for (i = 0; config_key_describe(i, &name, &def, &doc); i++) {
		const char *short_name = strchr(name, '.') + 1;

		assert_non_null(doc);
		snprintf(needle, sizeof(needle), "| `%s` |", name);
		if (!strstr(slurp("docs/config.md"), needle)) {
			print_error("docs/config.md has no row for %s\n", name);
			fail();
		}
		snprintf(needle, sizeof(needle), "%s: %s", short_name, def);
		if (!strstr(slurp("docs/config.md"), needle)) {
			print_error("docs/config.md does not show the default '%s'\n", needle);
			fail();
		}
		snprintf(needle, sizeof(needle), "\n  %s:", short_name);
		if (!strstr(slurp("examples/exfilmon.yaml"), needle)) {
			print_error("examples/exfilmon.yaml does not set %s\n", name);
			fail();
		}
	}
	assert_int_equal(i, 35);
}


static void test_config_fleet_section_parses(void **state)
{
	struct config cfg;

	assert_int_equal(load("fleet:\n"
			      "  servers: [tls://nats1:4222, \"nats://[::1]:4222\"]\n"
			      "  tls: {ca: /etc/x/ca.pem, cert: /etc/x/h.pem, key: /etc/x/h.key}\n"
			      "  credentials: /etc/x/h.creds\n"
			      "  host_id: ws-17\n"
			      "  heartbeat: 30s\n"
			      "  groups: [support, emea]\n", &cfg), 0);
	assert_int_equal(cfg.n_fleet_servers, 2);
	assert_string_equal(cfg.fleet_servers[0], "tls://nats1:4222");
	assert_string_equal(cfg.fleet_tls_ca, "/etc/x/ca.pem");
	assert_string_equal(cfg.fleet_tls_key, "/etc/x/h.key");
	assert_string_equal(cfg.fleet_credentials, "/etc/x/h.creds");
	assert_string_equal(cfg.fleet_host_id, "ws-17");
	assert_int_equal(cfg.fleet_heartbeat_ns, 30000000000ULL);
	assert_int_equal(cfg.n_fleet_groups, 2);
	config_free(&cfg);
	/* No fleet section: standalone, host id from the machine id. */
	assert_int_equal(load("detect:\n  window: 5m\n", &cfg), 0);
	assert_int_equal(cfg.n_fleet_servers, 0);
	assert_string_equal(cfg.fleet_host_id, "/etc/machine-id");
	assert_int_equal(cfg.fleet_heartbeat_ns, 15000000000ULL);
	config_free(&cfg);
}

static void test_config_fleet_section_refuses(void **state)
{
	expect_error("fleet:\n  servers: [http://x:1]\n",
		     "t.yaml:2:13: fleet.servers: invalid server URL \"http://x:1\"");
	expect_error("fleet:\n  servers: [nats://x]\n", "invalid server URL \"nats://x\"");
	expect_error("fleet:\n  servers: [\"nats://u:p@x:1\"]\n", "invalid server URL");
	expect_error("fleet:\n  tls: {ca: /a, cart: /b}\n",
		     "fleet.tls: unknown entry \"cart\" (expected ca, cert, key)");
	expect_error("fleet:\n  tls: {ca: rel.pem}\n", "\"rel.pem\" is not an absolute path");
	expect_error("fleet:\n  tls: {cert: /a.pem}\n",
		     "fleet.tls: cert and key go together: give both or neither");
	expect_error("fleet:\n  host_id: \"a.>\"\n", "fleet.host_id: invalid host id \"a.>\"");
	expect_error("fleet:\n  host_id: \"\"\n", "fleet.host_id");
	expect_error("fleet:\n  groups: [ok, \"no*\"]\n", "fleet.groups: invalid name \"no*\"");
	expect_error("fleet:\n  heartbeat: 0s\n", "fleet.heartbeat: duration \"0s\" out of range");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_config_load_string_full_round_trip),
		cmocka_unit_test(test_config_load_string_hashes_the_bytes),
		cmocka_unit_test(test_config_load_string_missing_keys_take_defaults),
		cmocka_unit_test(test_config_load_string_sources_section_replaces_both_lists),
		cmocka_unit_test(test_config_load_string_null_and_scalar_lists),
		cmocka_unit_test(test_config_load_string_off_disables_outputs),
		cmocka_unit_test(test_config_load_example_file),
		cmocka_unit_test(test_config_load_string_rejects_each_bad_value),
		cmocka_unit_test(test_config_load_string_rejects_bad_structure),
		cmocka_unit_test(test_config_load_string_rejects_too_many_rules),
		cmocka_unit_test(test_config_load_string_reports_every_error),
		cmocka_unit_test(test_config_load_string_refuses_deep_nesting_quickly),
		cmocka_unit_test(test_config_load_string_caps_the_error_list),
		cmocka_unit_test(test_config_load_file_errors_name_the_path),
		cmocka_unit_test(test_config_load_missing_file),
		cmocka_unit_test(test_config_load_refuses_huge_file),
		cmocka_unit_test(test_config_load_accepts_null_errors),
		cmocka_unit_test(test_config_defaults_builtin),
		cmocka_unit_test(test_config_fleet_section_parses),
		cmocka_unit_test(test_config_fleet_section_refuses),
		cmocka_unit_test(test_config_load_string_rejects_path_tricks),
		cmocka_unit_test(test_config_load_string_normalizes_paths),
		cmocka_unit_test(test_config_path_within),
		cmocka_unit_test(test_config_net_match_ipv4),
		cmocka_unit_test(test_config_net_match_any_port_and_ipv6),
		cmocka_unit_test(test_config_key_describe_docs_and_example_cover_every_key),
	};

	return cmocka_run_group_tests_name("config", tests, make_tmpdir, remove_tmpdir);
}
