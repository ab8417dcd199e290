// SPDX-License-Identifier: GPL-2.0-only
/*
 * Label counts (bpf/lineage.bpf.h, agent/label_index.c): the programs look a label up
 * only under a slot that counts one, so every label created, copied at fork, deleted at
 * exit, or inserted and deleted by the agent must move its slot's count exactly. Runs in
 * order in one process: it has no label until the source read.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <bpf/bpf.h>

#include "unit.h"
#include "harness.h"
#include "agent/label_index.h"

static void io_once(const char *path, size_t len, int flags)
{
	char buf[4096] = { 0 };
	int fd = open(path, flags | O_CLOEXEC, 0600);

	assert_true(fd >= 0 && len <= sizeof(buf));
	if (flags & O_WRONLY)
		assert_int_equal(write(fd, buf, len), (ssize_t)len);
	else
		assert_int_equal(read(fd, buf, len), (ssize_t)len);
	close(fd);
}

static uint64_t proc_count(const struct harness *h, uint32_t tgid)
{
	return h->maps->lcount_proc[xm_lslot_proc(tgid)];
}

static uint64_t obj_count(const struct harness *h, const struct xm_watch_key *k)
{
	return h->maps->lcount_obj[xm_lslot_obj(k)];
}

static bool has_label(int map, const void *key)
{
	struct xm_label v;

	return bpf_map_lookup_elem(map, key, &v) == 0;
}

static void test_unlabelled_process_counts_nothing(void **state)
{
	struct harness *h = *state;
	char path[PATH_MAX];
	struct xm_watch_key k;

	harness_file(h, "plain.txt", 4096, path);
	io_once(path, 4096, O_RDONLY);
	io_once(path, 4096, O_WRONLY);
	k = harness_watch_key(path);
	assert_false(has_label(h->maps->labels, &h->pid));
	assert_int_equal(proc_count(h, h->pid), 0);
	assert_false(has_label(h->maps->ilabels, &k));
	assert_int_equal(obj_count(h, &k), 0);
}

static void test_source_read_labels_and_counts_the_process(void **state)
{
	struct harness *h = *state;
	char path[PATH_MAX];

	harness_file(h, "customers.csv", 4096, path);
	harness_watch(h, path, XM_W_SOURCE);
	io_once(path, 4096, O_RDONLY);
	assert_true(has_label(h->maps->labels, &h->pid));
	assert_int_equal(proc_count(h, h->pid), 1);
	io_once(path, 4096, O_RDONLY);
	assert_int_equal(proc_count(h, h->pid), 1);
}

static void test_labelled_write_labels_and_counts_the_file(void **state)
{
	struct harness *h = *state;
	char path[PATH_MAX];
	struct xm_watch_key k;

	snprintf(path, sizeof(path), "%s/export.csv", h->dir);
	io_once(path, 2048, O_WRONLY | O_CREAT | O_TRUNC);
	k = harness_watch_key(path);
	assert_true(has_label(h->maps->ilabels, &k));
	assert_int_equal(obj_count(h, &k), 1);
	io_once(path, 2048, O_WRONLY | O_TRUNC);
	assert_int_equal(obj_count(h, &k), 1);
}

static void test_agent_insert_and_delete_move_the_count(void **state)
{
	struct harness *h = *state;
	struct xm_watch_key k = { .ino = 0x7ffffff0, .dev = 0xfffff };
	struct xm_label v = { .credit = 1 };
	uint64_t before = obj_count(h, &k);

	assert_int_equal(label_index_insert_obj(h->maps, &k, &v), 0);
	assert_int_equal(obj_count(h, &k), before + 1);
	assert_int_equal(label_index_insert_obj(h->maps, &k, &v), -EEXIST);
	assert_int_equal(obj_count(h, &k), before + 1);
	assert_int_equal(label_index_delete_obj(h->maps, &k), 0);
	assert_int_equal(obj_count(h, &k), before);
	assert_int_equal(label_index_delete_obj(h->maps, &k), -ENOENT);
	assert_int_equal(obj_count(h, &k), before);
}

/* A forked child carries the label (counted under its pid) until it exits. */
static void test_fork_counts_the_child_and_exit_uncounts_it(void **state)
{
	struct harness *h = *state;
	pid_t child = fork();
	uint32_t tgid;

	assert_true(child >= 0);
	if (!child) {
		pause();
		_exit(0);
	}
	tgid = (uint32_t)child;
	assert_true(has_label(h->maps->labels, &tgid));
	assert_int_equal(proc_count(h, tgid), 1);
	kill(child, SIGKILL);
	assert_int_equal(waitpid(child, NULL, 0), child);
	assert_false(has_label(h->maps->labels, &tgid));
	assert_int_equal(proc_count(h, tgid), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_unlabelled_process_counts_nothing),
		cmocka_unit_test(test_source_read_labels_and_counts_the_process),
		cmocka_unit_test(test_labelled_write_labels_and_counts_the_file),
		cmocka_unit_test(test_agent_insert_and_delete_move_the_count),
		cmocka_unit_test(test_fork_counts_the_child_and_exit_uncounts_it),
	};

	return cmocka_run_group_tests_name("bpf_lineage", tests, harness_setup, harness_teardown);
}
