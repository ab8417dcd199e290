// SPDX-License-Identifier: GPL-2.0-only
/*
 * Label counts (bpf/lineage.bpf.h, agent/label_index.c): the programs look a label up
 * only under a slot that counts one, so every label created, copied at fork, deleted at
 * exit, or inserted and deleted by the agent must move its slot's count exactly. Runs in
 * order in one process: it has no label until the source read. Last, a label that starts
 * afresh (label_renew) must be reported at once with its new epoch.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <bpf/bpf.h>

#include "unit.h"
#include "harness.h"
#include "agent/label_index.h"
#include "agent/mounts.h"

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

/* Makes this process's label one whose credit has all gone out, from one origin. */
static void spent_label(const struct harness *h, uint32_t session, struct xm_label *me)
{
	assert_int_equal(bpf_map_lookup_elem(h->maps->labels, &h->pid, me), 0);
	me->passed = me->egressed = me->credit;
	if (session) {
		memset(me->origins, 0, sizeof(me->origins));
		me->origins[0] = (struct xm_origin){ .session = session, .loginuid = 4242 };
		me->n_origins = 1;
	}
	me->flags = 0;
	assert_int_equal(bpf_map_update_elem(h->maps->labels, &h->pid, me, BPF_EXIST), 0);
}

/* One request through the pipe: labelled by origin session (as its writer would have),
 * written (this process's own label, all passed on already, adds nothing) and read. */
static void request(struct harness *h, const int p[2], uint32_t session, size_t len)
{
	struct xm_label obj = { .credit = len, .n_origins = 1 };
	struct stat st;
	struct xm_watch_key k;
	char buf[1024] = { 0 };

	assert_true(len <= sizeof(buf));
	assert_int_equal(fstat(p[0], &st), 0);
	k = (struct xm_watch_key){ .ino = st.st_ino, .dev = mounts_kdev(st.st_dev) };
	obj.origins[0] = (struct xm_origin){ .session = session, .loginuid = 4243 };
	assert_int_equal(label_index_insert_obj(h->maps, &k, &obj), 0);
	assert_int_equal(write(p[1], buf, len), (ssize_t)len);
	assert_int_equal(read(p[0], buf, len), (ssize_t)len);
	harness_consume(h);
}

/*
 * A relay's label whose credit has all gone out starts afresh for data of another
 * origin, and says so at once: the read is reported with the new epoch even where the
 * (process, pipe, read) total alone would hold the record back until it doubled. Without
 * that, userspace kept the old origin and judged the relay's next upload on its session.
 */
static void test_renewed_label_reports_at_once(void **state)
{
	struct harness *h = *state;
	struct xm_label me;
	unsigned seen;
	int p[2];

	assert_int_equal(pipe(p), 0);
	spent_label(h, 777, &me);
	request(h, p, 777, 1000);
	assert_int_equal(h->last_lineage.epoch, me.epoch);
	assert_int_equal(h->last_lineage.origins[0].session, 777);
	spent_label(h, 0, &me);
	seen = h->n_lineage;
	request(h, p, 888, 500);
	assert_int_equal(h->n_lineage, seen + 1);
	assert_int_equal(h->last_lineage.epoch, me.epoch + 1);
	assert_int_equal(h->last_lineage.credit, 500);
	assert_int_equal(h->last_lineage.n_origins, 1);
	assert_int_equal(h->last_lineage.origins[0].session, 888);
	close(p[0]);
	close(p[1]);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_unlabelled_process_counts_nothing),
		cmocka_unit_test(test_source_read_labels_and_counts_the_process),
		cmocka_unit_test(test_labelled_write_labels_and_counts_the_file),
		cmocka_unit_test(test_agent_insert_and_delete_move_the_count),
		cmocka_unit_test(test_fork_counts_the_child_and_exit_uncounts_it),
		cmocka_unit_test(test_renewed_label_reports_at_once),
	};

	return cmocka_run_group_tests_name("bpf_lineage", tests, harness_setup, harness_teardown);
}
