// SPDX-License-Identifier: GPL-2.0-only
/* Unit tests for the evidence store: round trip of every record type, rotation and
 * retention, truncation at every byte offset, single bit flips, removed and reordered
 * segments. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "unit.h"
#include "evidence.h"
#include "evidence_read.h"

static char dir[64];
static uint64_t written;  /* records written so far: the next sequence number */

static const char *const types[] = { "agent", "config", "session", "process", "connect",
				     "activity", "file", "gap", "alert", "retention" };

static int setup(void **state)
{
	written = 0;
	snprintf(dir, sizeof(dir), "/tmp/test_evidence.XXXXXX");
	assert_non_null(mkdtemp(dir));
	return 0;
}

static int teardown(void **state)
{
	char cmd[128];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	return system(cmd);
}

static struct evidence *open_store(uint64_t segment_bytes, uint64_t block_bytes)
{
	struct evidence_opts o = { .dir = dir, .segment_bytes = segment_bytes,
				   .block_bytes = block_bytes, .seal_interval_ns = 1 };
	struct evidence *ev = evidence_open(&o);

	assert_non_null(ev);
	return ev;
}

/* Writes n records cycling through the types, sealing every 'per_block'; record i
 * carries "n":i where i continues across calls as the store's sequence does. */
static void fill(uint64_t n, unsigned per_block, uint64_t segment_bytes)
{
	struct evidence *ev = open_store(segment_bytes, 1 << 20);
	char json[128];

	for (uint64_t i = written; i < written + n; i++) {
		snprintf(json, sizeof(json), "{\"session_id\":%llu,\"n\":%llu}",
			 (unsigned long long)(i % 3), (unsigned long long)i);
		assert_int_equal(evidence_append(ev, types[i % 10], 1000 + i, json, strlen(json), NULL), 0);
		if ((i + 1 - written) % per_block == 0)
			assert_int_equal(evidence_seal(ev), 0);
	}
	written += n;
	evidence_close(ev);
}

struct seen {
	uint64_t n;
	uint64_t next;
	bool ordered;
};

static int count_cb(void *ctx, const struct ev_record *r)
{
	struct seen *s = ctx;
	char want[64];

	s->ordered &= r->seq == s->next;
	s->next = r->seq + 1;
	snprintf(want, sizeof(want), "\"n\":%llu}", (unsigned long long)r->seq);
	s->ordered &= strstr(r->json, want) != NULL && !strcmp(r->type, types[r->seq % 10]);
	s->n++;
	return 0;
}

static struct ev_report read_all(struct seen *s)
{
	struct ev_report rep;

	memset(s, 0, sizeof(*s));
	s->ordered = true;
	assert_int_equal(evidence_read(dir, NULL, count_cb, s, &rep), 0);
	return rep;
}

static char *only_segment(void)
{
	static char path[128];
	struct dirent *de;
	DIR *d = opendir(dir);

	path[0] = '\0';
	while ((de = readdir(d)))
		if (strstr(de->d_name, ".xev") && !strstr(de->d_name, "torn"))
			snprintf(path, sizeof(path), "%s/%.60s", dir, de->d_name);
	closedir(d);
	return path;
}

static void test_evidence_round_trip_every_type(void **state)
{
	struct seen s;
	struct ev_report rep;
	struct stat st;

	fill(100, 7, 1 << 20);
	rep = read_all(&s);
	assert_true(rep.intact);
	assert_int_equal(s.n, 100);
	assert_true(s.ordered);
	assert_int_equal(rep.blocks, 15);
	assert_int_equal(stat(dir, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0700);
	assert_int_equal(stat(only_segment(), &st), 0);
	assert_int_equal(st.st_mode & 0777, 0600);
}

static void test_evidence_reopen_continues_chain(void **state)
{
	struct seen s;

	fill(10, 5, 1 << 20);
	fill(10, 5, 1 << 20);
	assert_true(read_all(&s).intact);
	assert_int_equal(s.n, 20);
	assert_true(s.ordered);
}

static void test_evidence_session_filter_skips_blocks(void **state)
{
	struct ev_filter f = { .have_session = true, .session_id = 1 };
	struct ev_report rep;
	struct seen s = { .ordered = true };

	fill(30, 1, 1 << 20);  /* one record per block: sessions 0,1,2,0,1,2,... */
	assert_int_equal(evidence_read(dir, &f, count_cb, &s, &rep), 0);
	assert_true(rep.intact);
	assert_int_equal(s.n, 10);
}

static void test_evidence_truncation_at_every_offset(void **state)
{
	char *seg, copy[256];
	unsigned char *data;
	struct stat st;
	int fd;

	int boundaries;

	fill(40, 10, 1 << 20);
	seg = only_segment();
	assert_int_equal(stat(seg, &st), 0);
	data = malloc(st.st_size);
	fd = open(seg, O_RDONLY);
	assert_int_equal(read(fd, data, st.st_size), st.st_size);
	close(fd);
	snprintf(copy, sizeof(copy), "%s", seg);
	boundaries = 0;
	for (off_t cut = 1; cut < st.st_size; cut++) {
		struct seen s;
		struct ev_report rep;
		struct evidence *ev;

		fd = open(copy, O_WRONLY | O_TRUNC);
		assert_int_equal(write(fd, data, cut), cut);
		close(fd);
		/* The reader delivers every whole block before the cut and flags the rest; a
		 * cut exactly between blocks looks like a shorter store (the chain heads sent
		 * to syslog are what catches that). */
		rep = read_all(&s);
		boundaries += rep.intact;
		assert_int_equal(s.n % 10, 0);
		assert_true(s.ordered);
		/* Reopening sets the torn tail aside and goes on from the last whole block. */
		ev = open_store(1 << 20, 1 << 20);
		evidence_close(ev);
		rep = read_all(&s);
		assert_true(rep.intact);
		if (cut % 97 == 0)
			assert_true(s.n < 40);
	}
	assert_int_equal(boundaries, 3);
	free(data);
}

static void test_evidence_every_bit_flip_is_caught(void **state)
{
	unsigned char *data;
	struct stat st;
	char *seg;
	int fd;

	fill(12, 4, 1 << 20);
	seg = only_segment();
	assert_int_equal(stat(seg, &st), 0);
	data = malloc(st.st_size);
	fd = open(seg, O_RDONLY);
	assert_int_equal(read(fd, data, st.st_size), st.st_size);
	close(fd);
	for (off_t byte = 0; byte < st.st_size; byte++) {
		for (int bit = 0; bit < 8; bit++) {
			struct seen s;
			struct ev_report rep;

			data[byte] ^= 1 << bit;
			fd = open(seg, O_WRONLY);
			assert_int_equal(pwrite(fd, data + byte, 1, byte), 1);
			close(fd);
			rep = read_all(&s);
			if (rep.intact) {
				print_error("flip of bit %d at byte %lld not caught\n", bit, (long long)byte);
				fail();
			}
			assert_non_null(strstr(rep.problem, "block"));
			data[byte] ^= 1 << bit;
			fd = open(seg, O_WRONLY);
			assert_int_equal(pwrite(fd, data + byte, 1, byte), 1);
			close(fd);
		}
	}
	free(data);
}

static void segments(char names[][128], int *n)
{
	struct dirent *de;
	DIR *d = opendir(dir);

	*n = 0;
	while ((de = readdir(d)))
		if (strstr(de->d_name, ".xev") && *n < 16)
			snprintf(names[(*n)++], 128, "%.100s", de->d_name);
	closedir(d);
	qsort(names, *n, 128, (int (*)(const void *, const void *))strcmp);
}

static void test_evidence_rotation_and_removed_segment(void **state)
{
	char names[16][128], path[256];
	struct seen s;
	struct ev_report rep;
	int n;

	fill(60, 5, 400);  /* tiny segments: a new one for nearly every block */
	segments(names, &n);
	assert_true(n >= 4);
	assert_true(read_all(&s).intact);
	snprintf(path, sizeof(path), "%s/%s", dir, names[1]);
	unlink(path);
	rep = read_all(&s);
	assert_false(rep.intact);
	assert_non_null(strstr(rep.problem, "missing or reordered"));
	assert_non_null(strstr(rep.problem, names[2]));
}

static void test_evidence_reordered_segments(void **state)
{
	char names[16][128], a[256], b[256], t[256];
	struct ev_report rep;
	struct seen s;
	int n;

	fill(60, 5, 400);
	segments(names, &n);
	snprintf(a, sizeof(a), "%s/%s", dir, names[1]);
	snprintf(b, sizeof(b), "%s/%s", dir, names[2]);
	snprintf(t, sizeof(t), "%s/tmp", dir);
	rename(a, t);
	rename(b, a);
	rename(t, b);
	rep = read_all(&s);
	assert_false(rep.intact);
	assert_non_null(strstr(rep.problem, "chain broken"));
}

static void test_evidence_retention_is_recorded_and_verifies(void **state)
{
	struct evidence_opts o = { .dir = dir, .segment_bytes = 400, .block_bytes = 1 << 20,
				   .seal_interval_ns = 1, .retention_bytes = 2000 };
	char names[16][128];
	struct ev_report rep;
	struct evidence *ev;
	struct seen s;
	int before, after;

	fill(60, 5, 400);
	segments(names, &before);
	ev = evidence_open(&o);
	assert_non_null(ev);
	assert_int_equal(evidence_maintain(ev, 1ULL << 62), 0);
	evidence_close(ev);
	segments(names, &after);
	assert_true(after < before);
	memset(&s, 0, sizeof(s));
	assert_int_equal(evidence_read(dir, NULL, NULL, NULL, &rep), 0);
	assert_true(rep.intact);
	assert_true(rep.retention_cut);
}

static void test_evidence_read_bad_directories(void **state)
{
	struct ev_report rep;

	assert_int_equal(evidence_read("/nonexistent/dir", NULL, NULL, NULL, &rep), -ENOENT);
	assert_int_equal(evidence_read("/etc/hostname", NULL, NULL, NULL, &rep), -ENOTDIR);
	assert_int_equal(evidence_read(dir, NULL, NULL, NULL, &rep), -EINVAL);
	assert_true(rep.empty);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_evidence_round_trip_every_type, setup, teardown),
		cmocka_unit_test_setup_teardown(test_evidence_reopen_continues_chain, setup, teardown),
		cmocka_unit_test_setup_teardown(test_evidence_session_filter_skips_blocks, setup, teardown),
		cmocka_unit_test_setup_teardown(test_evidence_truncation_at_every_offset, setup, teardown),
		cmocka_unit_test_setup_teardown(test_evidence_every_bit_flip_is_caught, setup, teardown),
		cmocka_unit_test_setup_teardown(test_evidence_rotation_and_removed_segment, setup, teardown),
		cmocka_unit_test_setup_teardown(test_evidence_reordered_segments, setup, teardown),
		cmocka_unit_test_setup_teardown(test_evidence_retention_is_recorded_and_verifies, setup, teardown),
		cmocka_unit_test_setup_teardown(test_evidence_read_bad_directories, setup, teardown),
	};

	return cmocka_run_group_tests_name("evidence", tests, NULL, NULL);
}
