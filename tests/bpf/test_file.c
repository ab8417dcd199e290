// SPDX-License-Identifier: GPL-2.0-only
/*
 * File sensors (file.bpf.c, fast.bpf.c, fileio.bpf.h, flow.bpf.h): one syscall of this
 * process against a file the test put into the watch map, then the one map entry the
 * kernel side must have written, with exact bytes and ops.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <bpf/bpf.h>

#include "unit.h"
#include "harness.h"

static void read_once(const char *path, size_t len)
{
	char buf[8192];
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	assert_true(fd >= 0 && len <= sizeof(buf));
	assert_int_equal(read(fd, buf, len), (ssize_t)len);
	close(fd);
}

static void write_once(const char *path, size_t len)
{
	char buf[4096] = { 0 };
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);

	assert_true(fd >= 0 && len <= sizeof(buf));
	assert_int_equal(write(fd, buf, len), (ssize_t)len);
	close(fd);
}

static void test_read_of_watched_source_counts_exact_bytes(void **state)
{
	struct harness *h = *state;
	char path[PATH_MAX];
	struct xm_flow_key k;
	struct xm_flow_val v;
	uint64_t marked;

	harness_file(h, "source.csv", 8192, path);
	harness_watch(h, path, XM_W_SOURCE);
	read_once(path, 3000);
	k = harness_file_flow(h, path, XM_FLOW_FILE_READ);
	assert_true(harness_flow(h, &k, &v));
	assert_int_equal(v.bytes, 3000);
	assert_int_equal(v.ops, 1);
	assert_int_equal(v.uid, getuid());
	assert_true(v.first_ns > 0 && v.last_ns >= v.first_ns);
	read_once(path, 100);
	assert_true(harness_flow(h, &k, &v));
	assert_int_equal(v.bytes, 3100);
	assert_int_equal(v.ops, 2);
	/* Reading a source makes this process a collector (FLOW_COLLECTS). */
	assert_int_equal(bpf_map_lookup_elem(h->maps->collectors, &h->pid, &marked), 0);
}

static void test_read_of_unwatched_file_leaves_no_flow(void **state)
{
	struct harness *h = *state;
	char path[PATH_MAX];
	struct xm_flow_key k;
	struct xm_flow_val v;

	harness_file(h, "unwatched.csv", 4096, path);
	read_once(path, 4096);
	k = harness_file_flow(h, path, XM_FLOW_FILE_READ);
	assert_false(harness_flow(h, &k, &v));
}

static void test_write_to_sink_counts_as_sink_write(void **state)
{
	struct harness *h = *state;
	char path[PATH_MAX];
	struct xm_flow_key k;
	struct xm_flow_val v;

	harness_file(h, "synced.bin", 0, path);
	harness_watch(h, path, XM_W_SINK);
	write_once(path, 1234);
	k = harness_file_flow(h, path, XM_FLOW_SINK_WRITE);
	assert_true(harness_flow(h, &k, &v));
	assert_int_equal(v.bytes, 1234);
	assert_int_equal(v.ops, 1);
}

/* After the source read above, a write to an ordinary file is staging, and the file is
 * named once through an open record. */
static void test_collector_write_to_ordinary_file_is_staging(void **state)
{
	struct harness *h = *state;
	char path[PATH_MAX];
	struct xm_flow_key k;
	struct xm_flow_val v;
	uint64_t marked;
	unsigned opens;

	/* The source read of the first case made this process a collector. */
	assert_int_equal(bpf_map_lookup_elem(h->maps->collectors, &h->pid, &marked), 0);
	harness_file(h, "staged.tmp", 0, path);
	harness_consume(h);
	opens = h->n_open;
	write_once(path, 777);
	k = harness_file_flow(h, path, XM_FLOW_STAGING);
	assert_true(harness_flow(h, &k, &v));
	assert_int_equal(v.bytes, 777);
	harness_consume(h);
	assert_int_equal(h->n_open, opens + 1);
	assert_int_equal(h->last_open.ino, k.ino);
	assert_memory_equal(h->last_open.path, "staged.tmp/", 11);
}

/* An open below a watched tree root adds the file to the watch map (without the DIR
 * flag, with the root's source id) and emits one open record carrying its path. */
static void test_open_below_watched_dir_learns_file(void **state)
{
	struct harness *h = *state;
	char dir[PATH_MAX], path[PATH_MAX];
	struct xm_watch_key wk;
	struct xm_watch_val wv;
	unsigned opens;
	int fd;

	snprintf(dir, sizeof(dir), "%s/tree", h->dir);
	assert_int_equal(mkdir(dir, 0700), 0);
	harness_file(h, "tree/deep.csv", 10, path);
	harness_watch(h, dir, XM_W_SOURCE | XM_W_DIR);
	wk = harness_watch_key(path);
	/* Only the root is in the map: the open must learn the file. */
	assert_int_not_equal(bpf_map_lookup_elem(h->maps->watch, &wk, &wv), 0);
	harness_consume(h);
	opens = h->n_open;
	fd = open(path, O_RDONLY | O_CLOEXEC);
	assert_true(fd >= 0);
	close(fd);
	assert_int_equal(bpf_map_lookup_elem(h->maps->watch, &wk, &wv), 0);
	assert_int_equal(wv.flags, XM_W_SOURCE);
	assert_int_equal(wv.source_id, 7);
	harness_consume(h);
	assert_int_equal(h->n_open, opens + 1);
	assert_int_equal(h->last_open.ino, wk.ino);
	assert_int_equal(h->last_open.dev, wk.dev);
	assert_int_equal(h->last_open.flags, XM_W_SOURCE);
	/* Leaf first, up to the filesystem's root: "deep.csv/tree/xm-bpf-test.../tmp/". */
	assert_true(h->last_open.path_len > strlen("deep.csv/tree/"));
	assert_memory_equal(h->last_open.path, "deep.csv/tree/", strlen("deep.csv/tree/"));
}

static void test_mmap_of_watched_source_counts_length(void **state)
{
	struct harness *h = *state;
	char path[PATH_MAX];
	struct xm_flow_key k;
	struct xm_flow_val v;
	unsigned mmaps;
	void *p;
	int fd;

	harness_file(h, "mapped.csv", 16384, path);
	harness_watch(h, path, XM_W_SOURCE);
	harness_consume(h);
	mmaps = h->n_mmap;
	fd = open(path, O_RDONLY | O_CLOEXEC);
	assert_true(fd >= 0);
	p = mmap(NULL, 16384, PROT_READ, MAP_PRIVATE, fd, 0);
	assert_true(p != MAP_FAILED);
	munmap(p, 16384);
	close(fd);
	k = harness_file_flow(h, path, XM_FLOW_MMAP);
	assert_true(harness_flow(h, &k, &v));
	assert_int_equal(v.bytes, 16384);
	harness_consume(h);
	assert_int_equal(h->n_mmap, mmaps + 1);
	assert_int_equal(h->last_mmap.len, 16384);
	assert_int_equal(h->last_mmap.ino, k.ino);
}

/* With the flow map full the bytes still reach the session total, keyed by session and
 * loginuid so they stay that person's, and the loss is counted (degrade towards
 * suspicion, never towards silence). */
static void test_full_flow_map_bytes_reach_totals(void **state)
{
	struct harness *h = *state;
	struct xm_total_key tk = { .session = h->session, .loginuid = h->loginuid,
				   .kind = XM_FLOW_FILE_READ };
	struct xm_total_val before = { 0 }, after = { 0 };
	struct xm_flow_key fill = { .kind = 200 };
	struct xm_flow_val zero = { 0 };
	char path[PATH_MAX];
	uint64_t drops;
	uint32_t n = 0;

	harness_file(h, "overflow.csv", 4096, path);
	harness_watch(h, path, XM_W_SOURCE);
	bpf_map_lookup_elem(h->maps->totals, &tk, &before);
	for (;; n++) {
		fill.ino = n;
		if (bpf_map_update_elem(h->maps->flows, &fill, &zero, BPF_NOEXIST))
			break;
	}
	assert_int_equal(errno, E2BIG);
	drops = harness_drops(h, XM_DROP_FLOW_FULL);
	read_once(path, 2500);
	assert_int_equal(bpf_map_lookup_elem(h->maps->totals, &tk, &after), 0);
	assert_int_equal(after.bytes - before.bytes, 2500);
	assert_true(harness_drops(h, XM_DROP_FLOW_FULL) > drops);
	for (uint32_t i = 0; i < n; i++) {
		fill.ino = i;
		bpf_map_delete_elem(h->maps->flows, &fill);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_read_of_watched_source_counts_exact_bytes),
		cmocka_unit_test(test_read_of_unwatched_file_leaves_no_flow),
		cmocka_unit_test(test_write_to_sink_counts_as_sink_write),
		cmocka_unit_test(test_collector_write_to_ordinary_file_is_staging),
		cmocka_unit_test(test_open_below_watched_dir_learns_file),
		cmocka_unit_test(test_mmap_of_watched_source_counts_length),
		cmocka_unit_test(test_full_flow_map_bytes_reach_totals),
	};

	return cmocka_run_group_tests_name("bpf_file", tests, harness_setup, harness_teardown);
}
