// SPDX-License-Identifier: GPL-2.0-only
/*
 * Unit tests for policy.c against real kernel maps of the sensors' key and value types
 * (created here, no programs loaded; needs root like every BPF map): what a config puts
 * in the watch, network and sink-device maps, and what a second config takes out.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <cmocka.h>

#include "abi.h"
#include "config/config.h"
#include "agent/mounts.h"
#include "agent/policy.h"

static char root[64];
static char mountinfo[128], passwd[128];
static struct sensor_maps maps;

static void path_of(char *buf, size_t len, const char *rel)
{
	snprintf(buf, len, "%s/%s", root, rel);
}

static void put(const char *rel, const char *text)
{
	char path[256];
	FILE *f;

	path_of(path, sizeof(path), rel);
	f = fopen(path, "w");
	assert_non_null(f);
	fputs(text, f);
	fclose(f);
}

static void mk(const char *rel)
{
	char path[256];

	path_of(path, sizeof(path), rel);
	assert_int_equal(mkdir(path, 0755), 0);
}

static int map_new(enum bpf_map_type type, size_t key, size_t val)
{
	LIBBPF_OPTS(bpf_map_create_opts, o,
		    .map_flags = type == BPF_MAP_TYPE_LPM_TRIE ? BPF_F_NO_PREALLOC : 0);
	int fd = bpf_map_create(type, NULL, key, val, 1024, &o);

	assert_true(fd >= 0);
	return fd;
}

static int setup(void **state)
{
	char line[512];

	(void)state;
	snprintf(root, sizeof(root), "/tmp/test_policy.XXXXXX");
	assert_non_null(mkdtemp(root));
	mk("crm");
	mk("crm/2026");
	put("crm/2026/customers.csv", "id,name,phone\n");
	put("accounts.csv", "id\n");
	put("unwatched.csv", "id\n");
	mk("home");
	mk("home/alice");
	mk("home/alice/Dropbox");
	mk("home/daemon");
	mk("home/daemon/Dropbox");   /* a system account's folder is not a person's */
	snprintf(line, sizeof(line),
		 "alice:x:1101:1101::%s/home/alice:/bin/bash\n"
		 "daemon:x:1:1::%s/home/daemon:/usr/sbin/nologin\n", root, root);
	put("passwd", line);
	put("mountinfo",
	    "22 1 254:1 / / rw - ext4 /dev/vda1 rw\n"
	    "32 22 0:55 / /media/alice/STICK rw - fuse.fusefat /dev/loop0 rw\n");
	path_of(mountinfo, sizeof(mountinfo), "mountinfo");
	path_of(passwd, sizeof(passwd), "passwd");
	maps.watch = map_new(BPF_MAP_TYPE_HASH, sizeof(struct xm_watch_key),
			     sizeof(struct xm_watch_val));
	maps.services = map_new(BPF_MAP_TYPE_LPM_TRIE, sizeof(struct xm_net_key),
				sizeof(struct xm_net_val));
	maps.allow = map_new(BPF_MAP_TYPE_LPM_TRIE, sizeof(struct xm_net_key),
			     sizeof(struct xm_net_val));
	maps.sinkdevs = map_new(BPF_MAP_TYPE_HASH, sizeof(uint32_t),
				sizeof(struct xm_sinkdev_val));
	return 0;
}

static int teardown(void **state)
{
	char cmd[128];

	(void)state;
	close(maps.watch);
	close(maps.services);
	close(maps.allow);
	close(maps.sinkdevs);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", root);
	return system(cmd);
}

/* The watch map's flags for a path, or -1 when the path is not in it. */
static long watch_flags(const char *rel)
{
	char path[256];
	struct stat st;
	struct xm_watch_key k = { 0 };
	struct xm_watch_val v;

	path_of(path, sizeof(path), rel);
	assert_int_equal(stat(path, &st), 0);
	k.ino = st.st_ino;
	k.dev = mounts_kdev(st.st_dev);
	return bpf_map_lookup_elem(maps.watch, &k, &v) ? -1 : (long)v.flags;
}

static unsigned map_count(int fd, size_t key_size)
{
	unsigned char key[64], next[64];
	unsigned n = 0;
	void *prev = NULL;

	assert_true(key_size <= sizeof(key));
	while (bpf_map_get_next_key(fd, prev, next) == 0) {
		memcpy(key, next, key_size);
		prev = key;
		n++;
	}
	return n;
}

/* The template with every "%s" replaced by the fixture root (not a printf format, so the
 * compiler can check every real one). */
static void expand_root(char *out, size_t len, const char *tmpl)
{
	size_t o = 0, root_len = strlen(root);

	for (; *tmpl; tmpl++) {
		if (tmpl[0] == '%' && tmpl[1] == 's') {
			assert_true(o + root_len < len);
			memcpy(out + o, root, root_len);
			o += root_len;
			tmpl++;
			continue;
		}
		assert_true(o + 1 < len);
		out[o++] = *tmpl;
	}
	out[o] = '\0';
}

static struct policy *policy_for(const char *yaml_tmpl)
{
	struct policy_paths paths = { mountinfo, "/nonexistent-sys", passwd };
	char yaml[2048];
	struct config cfg;
	char *errors = NULL;
	struct policy *p = policy_new(&maps, &paths);

	assert_non_null(p);
	expand_root(yaml, sizeof(yaml), yaml_tmpl);
	if (config_load_string("test.yaml", yaml, strlen(yaml), &cfg, &errors))
		fail_msg("config: %s", errors);
	assert_int_equal(policy_apply(p, &cfg), 0);
	config_free(&cfg);
	return p;
}

static const char first[] =
	"sources:\n"
	"  paths: [\"%s/crm\", \"%s/accounts.csv\", \"%s/not-there-yet\"]\n"
	"  services: [\"127.0.0.2:5432\", \"10.1.0.0/16:443\"]\n"
	"egress:\n"
	"  allow: [\"127.0.0.0/8\", \"::1/128\"]\n"
	"  removable_media: true\n"
	"  sync_folders: [\"~/Dropbox\"]\n";

static void test_policy_apply_fills_every_map(void **state)
{
	struct policy *p;
	uint32_t dev = mounts_kdev(makedev(0, 55));
	struct xm_sinkdev_val sv;

	(void)state;
	p = policy_for(first);
	assert_int_equal(watch_flags("crm"), XM_W_SOURCE | XM_W_DIR);
	assert_int_equal(watch_flags("crm/2026"), XM_W_SOURCE | XM_W_DIR);
	assert_int_equal(watch_flags("crm/2026/customers.csv"), XM_W_SOURCE);
	assert_int_equal(watch_flags("accounts.csv"), XM_W_SOURCE);
	assert_int_equal(watch_flags("unwatched.csv"), -1);
	assert_int_equal(watch_flags("home/alice/Dropbox"), XM_W_SINK | XM_W_DIR);
	assert_int_equal(watch_flags("home/daemon/Dropbox"), -1);
	assert_int_equal(policy_stats(p)->watched_dirs, 3);
	assert_int_equal(policy_stats(p)->watched_files, 2);
	assert_int_equal(map_count(maps.services, sizeof(struct xm_net_key)), 2);
	assert_int_equal(map_count(maps.allow, sizeof(struct xm_net_key)), 2);
	assert_int_equal(policy_media(p)->n, 1);
	assert_int_equal(policy_media(p)->v[0].dev, dev);
	assert_int_equal(bpf_map_lookup_elem(maps.sinkdevs, &dev, &sv), 0);
	assert_int_equal(sv.flags, XM_W_SINK | XM_W_MEDIA);
	policy_free(p);
}

/* A service key is port then address; a lookup for the service's own peer matches it and
 * a neighbour's port does not (the same LPM lookup the kernel does). */
static void test_policy_service_keys_match_like_the_kernel(void **state)
{
	struct policy *p;
	struct xm_net_key k = { .prefixlen = 16 + 128 };
	struct xm_net_val v;
	static const uint8_t v4[12] = { [10] = 0xff, [11] = 0xff };

	(void)state;
	p = policy_for(first);
	k.data[0] = 5432 >> 8;
	k.data[1] = 5432 & 0xff;
	memcpy(&k.data[2], v4, 12);
	k.data[14] = 127;
	k.data[17] = 2;
	assert_int_equal(bpf_map_lookup_elem(maps.services, &k, &v), 0);
	assert_int_equal(v.id, 0);
	k.data[14] = 10;
	k.data[15] = 1;
	k.data[16] = 200;
	k.data[17] = 9;
	k.data[0] = 443 >> 8;
	k.data[1] = 443 & 0xff;
	assert_int_equal(bpf_map_lookup_elem(maps.services, &k, &v), 0);
	assert_int_equal(v.id, 1);
	k.data[1] = 444 & 0xff;
	k.data[0] = 444 >> 8;
	assert_int_not_equal(bpf_map_lookup_elem(maps.services, &k, &v), 0);
	policy_free(p);
}

/* A pushed config that drops a source, a sync folder, a service and media: their entries
 * leave, what both configs name stays. */
static void test_policy_reapply_removes_what_is_gone(void **state)
{
	static const char second[] =
		"sources:\n"
		"  paths: [\"%s/crm\"]\n"
		"  services: [\"127.0.0.2:5432\"]\n"
		"egress:\n"
		"  allow: [\"127.0.0.0/8\"]\n"
		"  removable_media: false\n"
		"  sync_folders: []\n"
		"# %s %s\n";
	struct policy *p;

	(void)state;
	policy_free(policy_for(first));
	p = policy_for(second);
	assert_int_equal(watch_flags("crm/2026/customers.csv"), XM_W_SOURCE);
	assert_int_equal(watch_flags("crm"), XM_W_SOURCE | XM_W_DIR);
	assert_int_equal(watch_flags("accounts.csv"), -1);
	assert_int_equal(watch_flags("home/alice/Dropbox"), -1);
	assert_int_equal(map_count(maps.watch, sizeof(struct xm_watch_key)), 3);
	assert_int_equal(map_count(maps.services, sizeof(struct xm_net_key)), 1);
	assert_int_equal(map_count(maps.allow, sizeof(struct xm_net_key)), 1);
	assert_int_equal(map_count(maps.sinkdevs, sizeof(uint32_t)), 0);
	assert_int_equal(policy_media(p)->n, 0);
	policy_free(p);
}

/* A source created after the config was applied is watched by the next apply. */
static void test_policy_late_source_watched_on_next_apply(void **state)
{
	struct policy *p;

	(void)state;
	policy_free(policy_for(first));
	mk("not-there-yet");
	put("not-there-yet/new.csv", "x\n");
	p = policy_for(first);
	assert_int_equal(watch_flags("not-there-yet/new.csv"), XM_W_SOURCE);
	policy_free(p);
}

static void test_policy_source_ids_are_stable(void **state)
{
	(void)state;
	assert_int_equal(policy_source_id("source", "/srv/crm"),
			 policy_source_id("source", "/srv/crm"));
	assert_int_not_equal(policy_source_id("source", "/srv/crm"),
			     policy_source_id("sink", "/srv/crm"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_policy_apply_fills_every_map, setup, teardown),
		cmocka_unit_test_setup_teardown(test_policy_service_keys_match_like_the_kernel,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_policy_reapply_removes_what_is_gone, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_policy_late_source_watched_on_next_apply,
						setup, teardown),
		cmocka_unit_test(test_policy_source_ids_are_stable),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
