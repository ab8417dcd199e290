// SPDX-License-Identifier: GPL-2.0-only
/* Unit tests for the fleet pieces that need no server: the heartbeat message (every field
 * of FLEET_WIRE.md), the cursor file (round trip, damage, atomic replacement) and the host
 * id (literal, from a file, refused). The shipping itself runs against real nats-servers
 * in tests/integration/test_fleet.sh. */
#include <errno.h>
#include <unistd.h>

#include <jansson.h>

#include "unit.h"
#include "output/fleet.h"

static char dir[64];

static int setup(void **state)
{
	snprintf(dir, sizeof(dir), "/tmp/test_fleet.XXXXXX");
	assert_non_null(mkdtemp(dir));
	return 0;
}

static int teardown(void **state)
{
	char cmd[128];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	return system(cmd);
}

static void test_fleet_heartbeat_json_has_every_field(void **state)
{
	char *groups[] = { "support", "emea" };
	struct fleet_heartbeat hb = {
		.host_id = "hostA", .host_name = "ws-17", .agent_version = "0.1.0",
		.config_sha256 = "ab", .start_id = "0123456789abcdef", .seq = 7,
		.ts_ns = 1795000000123456789ULL, .interval_s = 15, .have_chain = true,
		.chain_segment = "seg-000000000000002a.xev", .chain_block = 43, .chain_hash = "cd",
		.counters = { .records_written = 100, .blocks_written = 44, .ring_drops = 1,
			      .gap_records = 2, .map_full = 3, .syslog_drops = 4,
			      .sensors_attached = 30 },
		.blocks_shipped = 40, .backlog_blocks = 4,
		.deleted = { .blocks = 2, .records = 9, .first_block = 5, .last_block = 6 },
		.groups = groups, .n_groups = 2,
	};
	static const char *const keys[] = {
		"host_id", "host_name", "agent_version", "config_sha256", "seq", "start_id", "ts",
		"interval_s", "chain", "records_written", "blocks_written", "blocks_shipped",
		"backlog_blocks", "ring_drops", "gap_records", "map_full", "syslog_drops",
		"sensors_attached", "deleted_unshipped", "groups", "policy", "clean_shutdown",
	};
	char *s = fleet_heartbeat_json(&hb);
	json_t *o = json_loads(s, 0, NULL), *chain, *del;

	assert_non_null(o);
	for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++)
		assert_non_null(json_object_get(o, keys[i]));
	assert_int_equal(json_object_size(o), sizeof(keys) / sizeof(keys[0]));
	assert_string_equal(json_string_value(json_object_get(o, "ts")),
			    "2026-11-18T11:06:40.123Z");
	chain = json_object_get(o, "chain");
	assert_string_equal(json_string_value(json_object_get(chain, "segment")),
			    "000000000000002a");
	assert_int_equal(json_integer_value(json_object_get(chain, "block")), 43);
	del = json_object_get(o, "deleted_unshipped");
	assert_int_equal(json_integer_value(json_object_get(del, "records")), 9);
	assert_int_equal(json_integer_value(json_object_get(del, "last_block")), 6);
	assert_int_equal(json_array_size(json_object_get(o, "groups")), 2);
	assert_true(json_is_null(json_object_get(o, "policy")));
	assert_true(json_is_false(json_object_get(o, "clean_shutdown")));
	json_decref(o);
	free(s);
	/* With the policy keeper's figures: {"serial", "sha256"}. */
	hb.counters.have_policy = true;
	hb.counters.policy_serial = 2026120401;
	snprintf(hb.counters.policy_sha256, sizeof(hb.counters.policy_sha256), "%s", "ef");
	s = fleet_heartbeat_json(&hb);
	o = json_loads(s, 0, NULL);
	assert_int_equal(json_integer_value(json_object_get(json_object_get(o, "policy"),
							    "serial")), 2026120401);
	assert_string_equal(json_string_value(json_object_get(json_object_get(o, "policy"),
							      "sha256")), "ef");
	json_decref(o);
	free(s);
}

static void test_fleet_heartbeat_json_without_chain_is_null(void **state)
{
	struct fleet_heartbeat hb = { .host_id = "h", .agent_version = "v", .config_sha256 = "x",
				      .start_id = "s", .clean_shutdown = true };
	char *s = fleet_heartbeat_json(&hb);

	assert_non_null(strstr(s, "\"chain\":null"));
	assert_non_null(strstr(s, "\"clean_shutdown\":true"));
	free(s);
}

static void test_fleet_cursor_round_trip(void **state)
{
	struct fleet_cursor c = { .next_block = 1234, .last_acked = "00000000000004c0:1233",
				  .host_id = "host-A_1",
				  .deleted = { 3, 300, 10, 12 } }, back;
	char path[128], tmp[140];

	snprintf(path, sizeof(path), "%s/fleet.cursor", dir);
	assert_int_equal(fleet_cursor_load(path, &back), -ENOENT);
	assert_int_equal(fleet_cursor_save(path, &c), 0);
	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	assert_int_not_equal(access(tmp, F_OK), 0);
	assert_int_equal(fleet_cursor_load(path, &back), 0);
	assert_int_equal(back.next_block, 1234);
	assert_string_equal(back.last_acked, "00000000000004c0:1233");
	assert_string_equal(back.host_id, "host-A_1");
	assert_int_equal(back.deleted.records, 300);
	assert_int_equal(back.deleted.last_block, 12);
	c.next_block = 1235;
	assert_int_equal(fleet_cursor_save(path, &c), 0);
	assert_int_equal(fleet_cursor_load(path, &back), 0);
	assert_int_equal(back.next_block, 1235);
}

static void write_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");

	assert_non_null(f);
	fputs(text, f);
	fclose(f);
}

static void test_fleet_cursor_load_refuses_damage(void **state)
{
	static const char *const bad[] = {
		"", "exfilmon-fleet-cursor 1 last=- next=12 host=h deleted=0,0,0\n",
		"exfilmon-fleet-cursor 1 last=- next=x host=h deleted=0,0,0,0\n",
		"exfilmon-fleet-cursor 1 last=- next=1 host=a.b deleted=0,0,0,0\n",
		"exfilmon-fleet-cursor 1 next=1 host=h deleted=0,0,0,0\n",
		"something else\n",
	};
	struct fleet_cursor c;
	char path[128];

	snprintf(path, sizeof(path), "%s/fleet.cursor", dir);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		write_file(path, bad[i]);
		assert_int_equal(fleet_cursor_load(path, &c), -EINVAL);
	}
}

static void test_fleet_host_id_literal_file_and_refused(void **state)
{
	struct config cfg = { 0 };
	char path[128], out[65];

	cfg.fleet_host_id = "ws-17";
	assert_int_equal(fleet_host_id(&cfg, out), 0);
	assert_string_equal(out, "ws-17");
	snprintf(path, sizeof(path), "%s/machine-id", dir);
	write_file(path, "0123456789abcdef0123456789abcdef\n");
	cfg.fleet_host_id = path;
	assert_int_equal(fleet_host_id(&cfg, out), 0);
	assert_string_equal(out, "0123456789abcdef0123456789abcdef");
	/* A subject wildcard or separator in the id would let it publish for others. */
	write_file(path, "a.>\n");
	assert_int_equal(fleet_host_id(&cfg, out), -EINVAL);
	write_file(path, "");
	assert_int_equal(fleet_host_id(&cfg, out), -EINVAL);
	snprintf(path, sizeof(path), "%s/missing", dir);
	assert_int_equal(fleet_host_id(&cfg, out), -ENOENT);
}

int main(void)
{
#define T(name) cmocka_unit_test_setup_teardown(name, setup, teardown)
	const struct CMUnitTest tests[] = {
		T(test_fleet_heartbeat_json_has_every_field),
		T(test_fleet_heartbeat_json_without_chain_is_null),
		T(test_fleet_cursor_round_trip),
		T(test_fleet_cursor_load_refuses_damage),
		T(test_fleet_host_id_literal_file_and_refused),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
