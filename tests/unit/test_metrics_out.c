// SPDX-License-Identifier: GPL-2.0-only
/* Unit tests for metrics_out.c: the file parses as Prometheus text format (every sample
 * announced by HELP and TYPE, counters named _total), label values are escaped, and the
 * write is atomic: no temp file is left and a failed write keeps the old file. */
#include <errno.h>
#include <sys/stat.h>
#include <unistd.h>

#include "unit.h"
#include "output/metrics_out.h"

static char dir[] = "/tmp/exfilmon-metrics.XXXXXX";
static char path[256];

static int setup(void **state)
{
	if (!mkdtemp(dir))
		return -1;
	snprintf(path, sizeof(path), "%s/exfilmon.prom", dir);
	return 0;
}

static int teardown(void **state)
{
	char tmp[300];

	unlink(path);
	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	unlink(tmp);
	rmdir(dir);
	return 0;
}

static char *slurp(const char *p)
{
	static char buf[16384];
	FILE *f = fopen(p, "r");
	size_t n;

	assert_non_null(f);
	n = fread(buf, 1, sizeof(buf) - 1, f);
	buf[n] = '\0';
	fclose(f);
	return buf;
}

static struct metrics_snapshot sample(void)
{
	struct metrics_snapshot s = {
		.version = "0.1.0", .config_sha256 = "ab\"c\\d\ne", .hooks = "fexit",
		.start_time_ns = 1795000000000000000ULL, .now_ns = 1795000060500000000ULL,
		.programs_attached = 21, .events = 1234, .gaps = 2, .lost_records = 9,
		.drop_names = { "ring_exec", "flow_full" }, .drops = { 3, 4 }, .n_drops = 2,
		.maps = { { "flows", 10, 65536 } }, .n_maps = 1, .evidence_bytes = 4096,
	};
	return s;
}

static void test_metrics_write_text_format(void **state)
{
	struct metrics_snapshot s = sample();
	char *text, *line, *save = NULL, last_type[128] = "";

	assert_int_equal(metrics_write(path, &s), 0);
	text = slurp(path);
	assert_non_null(strstr(text, "exfilmon_events_total 1234\n"));
	assert_non_null(strstr(text, "exfilmon_drops_total{reason=\"flow_full\"} 4\n"));
	assert_non_null(strstr(text, "exfilmon_map_entries{map=\"flows\"} 10\n"));
	assert_non_null(strstr(text, "exfilmon_map_capacity{map=\"flows\"} 65536\n"));
	assert_non_null(strstr(text, "exfilmon_gaps_total 2\n"));
	assert_non_null(strstr(text, "exfilmon_evidence_bytes 4096\n"));
	assert_non_null(strstr(text, "exfilmon_last_update_seconds 1795000060.500\n"));
	assert_non_null(strstr(text, "config_sha256=\"ab\\\"c\\\\d\\ne\""));
	/* Every sample belongs to the metric the last TYPE line announced. */
	for (line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		char name[128];

		if (!strncmp(line, "# TYPE ", 7)) {
			assert_int_equal(sscanf(line + 7, "%127s", last_type), 1);
			assert_true(strstr(line, " counter") ? strstr(last_type, "_total") != NULL
							      : strstr(line, " gauge") != NULL);
			continue;
		}
		if (line[0] == '#')
			continue;
		assert_int_equal(sscanf(line, "%127[a-z_]", name), 1);
		assert_string_equal(name, last_type);
	}
}

static void test_metrics_write_is_atomic(void **state)
{
	struct metrics_snapshot s = sample();
	char tmp[300];
	struct stat st;

	assert_int_equal(metrics_write(path, &s), 0);
	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	assert_int_equal(stat(tmp, &st), -1);
	/* A directory where the temp file goes makes the write fail; the old file stays. */
	assert_int_equal(mkdir(tmp, 0700), 0);
	s.events = 99;
	assert_true(metrics_write(path, &s) < 0);
	assert_non_null(strstr(slurp(path), "exfilmon_events_total 1234\n"));
	rmdir(tmp);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_metrics_write_text_format),
		cmocka_unit_test(test_metrics_write_is_atomic),
	};

	return cmocka_run_group_tests_name("metrics_out", tests, setup, teardown);
}
