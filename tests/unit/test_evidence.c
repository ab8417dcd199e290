// SPDX-License-Identifier: GPL-2.0-only
/* Unit tests for the evidence store and reader: round trip of every record type, seal
 * interval, rotation and retention (by size and by age, time passed in), truncation at
 * every byte offset, every single bit flip located, removed and reordered segments,
 * tampering that a reopen must not launder, and the index (skips, rebuild, alteration). */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdbool.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/array_size.h"
#include "unit.h"
#include "evidence/evidence.h"
#include "evidence/evidence_format.h"
#include "evidence/evidence_read.h"

#define SEC 1000000000ULL

static char dir[64];
static uint64_t written;  /* records written by fill() so far: the next sequence number */

static const char *const types[] = { "agent", "config", "session", "process", "connect",
				     "activity", "gap", "alert", "file" };
#define N_TYPES (ARRAY_SIZE(types))

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

static struct evidence *open_store(uint64_t segment_bytes)
{
	struct evidence_opts o = { .dir = dir, .segment_bytes = segment_bytes,
				   .block_bytes = 1 << 20, .seal_interval_ns = SEC };
	struct evidence *ev = evidence_open(&o);

	assert_non_null(ev);
	return ev;
}

static void put(struct evidence *ev, const char *type, uint64_t ts, const char *json)
{
	assert_int_equal(evidence_append(ev, type, ts, json, strlen(json), NULL), 0);
}

/* Writes n records cycling through the types, sealing every per_block; record i carries
 * "n":i, where i continues across calls as the store's sequence does. */
static void fill(uint64_t n, unsigned per_block, uint64_t segment_bytes)
{
	struct evidence *ev = open_store(segment_bytes);
	char json[128];

	for (uint64_t i = written; i < written + n; i++) {
		snprintf(json, sizeof(json), "{\"session_id\":%llu,\"n\":%llu}",
			 (unsigned long long)(i % 3), (unsigned long long)i);
		put(ev, types[i % N_TYPES], 1000 + i, json);
		if ((i + 1 - written) % per_block == 0)
			assert_int_equal(evidence_seal(ev), 0);
	}
	written += n;
	evidence_close(ev);
}

struct seen {
	uint64_t n;              /* records written by fill(), in order */
	uint64_t recovery;       /* recovery records the writer added */
	uint64_t next;
	bool ordered;
	char last_recovery[512];
};

static int count_cb(void *ctx, const struct ev_record *r)
{
	struct seen *s = ctx;
	char want[64];

	if (!strcmp(r->type, "recovery")) {
		s->recovery++;
		snprintf(s->last_recovery, sizeof(s->last_recovery), "%s", r->json);
		return 0;
	}
	snprintf(want, sizeof(want), "\"n\":%llu}", (unsigned long long)s->n);
	s->ordered &= strstr(r->json, want) != NULL && !strcmp(r->type, types[s->n % N_TYPES]) &&
		      r->ts_ns == 1000 + s->n && r->json_len == strlen(r->json);
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

static struct ev_report verify(void)
{
	struct ev_report rep;

	assert_int_equal(evidence_read(dir, NULL, NULL, NULL, &rep), 0);
	return rep;
}

/* Segment names in order. */
static int segments(char names[][64], int max)
{
	struct dirent *de;
	DIR *d = opendir(dir);
	int n = 0;

	while ((de = readdir(d)))
		if (strlen(de->d_name) == 24 && strstr(de->d_name, ".xev") && n < max)
			snprintf(names[n++], 64, "%s", de->d_name);
	closedir(d);
	qsort(names, n, 64, (int (*)(const void *, const void *))strcmp);
	return n;
}

static char *seg_path(const char *name)
{
	static char path[128];

	snprintf(path, sizeof(path), "%s/%.60s", dir, name);
	return path;
}

static unsigned char *slurp(const char *path, off_t *len)
{
	struct stat st;
	unsigned char *data;
	int fd = open(path, O_RDONLY);

	assert_true(fd >= 0);
	assert_int_equal(fstat(fd, &st), 0);
	data = malloc(st.st_size + 1);
	assert_int_equal(read(fd, data, st.st_size), st.st_size);
	close(fd);
	*len = st.st_size;
	return data;
}

static void spit(const char *path, const void *data, off_t len)
{
	int fd = open(path, O_WRONLY | O_TRUNC);

	assert_true(fd >= 0);
	assert_int_equal(write(fd, data, len), len);
	close(fd);
}

static void test_evidence_round_trip_every_type(void **state)
{
	char names[16][64];
	struct ev_report rep;
	struct seen s;
	struct stat st;

	fill(100, 7, 1 << 20);
	rep = read_all(&s);
	assert_true(rep.intact);
	assert_int_equal(s.n, 100);
	assert_true(s.ordered);
	assert_int_equal(rep.blocks, 15);
	assert_int_equal(rep.records, 100);
	assert_int_equal(rep.head_block, 14);
	assert_int_equal(stat(dir, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0700);
	assert_int_equal(segments(names, 16), 1);
	assert_int_equal(stat(seg_path(names[0]), &st), 0);
	assert_int_equal(st.st_mode & 0777, 0600);
	assert_int_equal(stat(seg_path("seg-0000000000000000.idx"), &st), 0);
	assert_int_equal(st.st_mode & 0777, 0600);
	rep = verify();
	assert_true(rep.intact);
	assert_false(rep.index_altered);
	assert_int_equal(rep.index_missing, 0);
}

static void test_evidence_open_tightens_directory_mode(void **state)
{
	struct stat st;

	assert_int_equal(chmod(dir, 0755), 0);
	evidence_close(open_store(1 << 20));
	assert_int_equal(stat(dir, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0700);
}

static void test_evidence_reopen_continues_chain(void **state)
{
	struct seen s;

	fill(10, 5, 1 << 20);
	fill(10, 5, 1 << 20);
	assert_true(read_all(&s).intact);
	assert_int_equal(s.n, 20);
	assert_int_equal(s.recovery, 0);
	assert_true(s.ordered);
}

static void test_evidence_maintain_seals_after_interval(void **state)
{
	struct evidence *ev = open_store(1 << 20);
	struct ev_report rep;
	struct seen s;

	put(ev, "agent", 1000, "{\"event\":\"start\",\"n\":0}");
	assert_int_equal(evidence_maintain(ev, 50 * SEC), 0);
	assert_int_equal(evidence_maintain(ev, 51 * SEC - 1), 0);
	assert_int_equal(evidence_read(dir, NULL, NULL, NULL, &rep), 0);
	assert_int_equal(rep.blocks, 0);
	assert_false(rep.intact);
	assert_int_equal(evidence_maintain(ev, 51 * SEC), 0);
	rep = read_all(&s);
	assert_int_equal(rep.blocks, 1);
	assert_int_equal(s.n, 1);
	assert_true(rep.intact);
	evidence_close(ev);
}

static char seal_heads[2][65];
static unsigned seal_calls;

static void on_seal(void *ctx, const char *segment, uint64_t block_no, const char *head)
{
	assert_ptr_equal(ctx, &seal_calls);
	assert_string_equal(segment, "seg-0000000000000000.xev");
	assert_int_equal(block_no, seal_calls);
	snprintf(seal_heads[seal_calls++ % 2], 65, "%s", head);
}

static void test_evidence_on_seal_gets_chain_head(void **state)
{
	struct evidence_opts o = { .dir = dir, .block_bytes = 1 << 20, .on_seal = on_seal,
				   .ctx = &seal_calls };
	struct ev_report rep;
	struct evidence *ev;

	seal_calls = 0;
	ev = evidence_open(&o);
	assert_non_null(ev);
	put(ev, "agent", 1, "{}");
	assert_int_equal(evidence_seal(ev), 0);
	put(ev, "agent", 2, "{}");
	evidence_close(ev);
	assert_int_equal(seal_calls, 2);
	rep = verify();
	assert_string_equal(rep.head, seal_heads[1]);
	assert_string_not_equal(seal_heads[0], seal_heads[1]);
}

static int session_cb(void *ctx, const struct ev_record *r)
{
	char *got = ctx;

	strcat(got, r->type);
	strcat(got, " ");
	return 0;
}

static void test_evidence_session_filter_skips_blocks(void **state)
{
	static const struct { const char *type, *json; } recs[] = {
		{ "session", "{\"session_id\":1,\"user\":\"alice\"}" },
		{ "session", "{\"session_id\":2,\"user\":\"bob\"}" },
		{ "activity", "{\"session_id\":1,\"bytes\":5}" },
		{ "agent", "{\"event\":\"start\"}" },
		{ "gap", "{\"session_id\":null,\"what\":\"exec\"}" },
		{ "alert", "{\"exfilmon\":{\"session_id\":2}}" },
		{ "process", "{\"session_id\":2,\"event\":\"exec\"}" },
	};
	struct ev_filter f = { .have_session = true, .session_id = 2 };
	struct evidence *ev = open_store(1 << 20);
	struct ev_report rep;
	char got[256] = "";

	/* One record per block, so the index decides block by block. */
	for (size_t i = 0; i < ARRAY_SIZE(recs); i++) {
		put(ev, recs[i].type, 10 + i, recs[i].json);
		assert_int_equal(evidence_seal(ev), 0);
	}
	evidence_close(ev);
	assert_int_equal(evidence_read(dir, &f, session_cb, got, &rep), 0);
	assert_true(rep.intact);
	assert_string_equal(got, "session gap alert process ");
	assert_int_equal(rep.skipped_blocks, 3);
	assert_int_equal(rep.blocks, 7);
}

static void test_evidence_time_filter(void **state)
{
	struct ev_filter f = { .since_ns = 1010, .until_ns = 1019 };
	struct ev_report rep;
	struct seen s = { .ordered = true };

	fill(30, 5, 1 << 20);  /* times 1000..1029, blocks of 5 */
	s.n = 10;
	assert_int_equal(evidence_read(dir, &f, count_cb, &s, &rep), 0);
	assert_true(rep.intact);
	assert_int_equal(s.n, 20);
	assert_true(s.ordered);
	assert_int_equal(rep.skipped_blocks, 4);
}

static void test_evidence_missing_index_reads_blocks_in_full(void **state)
{
	struct ev_filter f = { .have_session = true, .session_id = 1 };
	struct ev_report rep;
	char got[1024] = "";

	fill(9, 1, 1 << 20);
	assert_int_equal(unlink(seg_path("seg-0000000000000000.idx")), 0);
	rep = verify();
	assert_true(rep.intact);
	assert_int_equal(rep.index_missing, 9);
	assert_int_equal(evidence_read(dir, &f, session_cb, got, &rep), 0);
	assert_int_equal(rep.skipped_blocks, 0);
	/* Without an index every block is read; the reader does not filter records. */
	assert_string_equal(got, "agent config session process connect activity gap alert file ");
	/* A reopen rebuilds it; then only blocks with session 1 (records 1 and 4: the alert
	 * at 7 carries its session under "exfilmon") are read. */
	evidence_close(open_store(1 << 20));
	rep = verify();
	assert_int_equal(rep.index_missing, 0);
	assert_false(rep.index_altered);
	got[0] = '\0';
	assert_int_equal(evidence_read(dir, &f, session_cb, got, &rep), 0);
	assert_string_equal(got, "config connect ");
	assert_int_equal(rep.skipped_blocks, 7);
}

static void test_evidence_altered_index_is_reported(void **state)
{
	char *idx = seg_path("seg-0000000000000000.idx");
	unsigned char *data;
	struct ev_report rep;
	char *p;
	off_t len;

	fill(6, 1, 1 << 20);
	data = slurp(idx, &len);
	data[len] = '\0';
	/* Block 1 holds session 1: the index now claims session 2. */
	p = strchr(strchr((char *)data, '\n') + 1, '\n') - 1;
	assert_int_equal(*p, '1');
	*p = '2';
	spit(idx, data, len);
	rep = verify();
	assert_true(rep.intact);
	assert_true(rep.index_altered);
	assert_non_null(strstr(rep.index_problem, "block 1: session list"));
	free(data);
}

/* Issue 11 C16: an index edited to hide a session from a query does not: the block hash
 * covers the session list, the lie fails it, and the block is read in full. */
static void test_evidence_read_edited_index_hides_no_session(void **state)
{
	struct ev_filter f = { .have_session = true, .session_id = 1 };
	char *idx = seg_path("seg-0000000000000000.idx");
	unsigned char *data;
	struct ev_report rep;
	char got[1024] = "";
	char *p;
	off_t len;

	fill(6, 1, 1 << 20);
	data = slurp(idx, &len);
	data[len] = '\0';
	/* Block 1 holds session 1: the index now claims session 2. */
	p = strchr(strchr((char *)data, '\n') + 1, '\n') - 1;
	assert_int_equal(*p, '1');
	*p = '2';
	spit(idx, data, len);
	assert_int_equal(evidence_read(dir, &f, session_cb, got, &rep), 0);
	assert_true(rep.intact);
	assert_true(rep.index_altered);
	assert_non_null(strstr(got, "config"));
	free(data);
}

static void test_evidence_torn_index_line_is_rebuilt(void **state)
{
	char *idx = seg_path("seg-0000000000000000.idx");
	unsigned char *data;
	struct ev_report rep;
	off_t len;

	fill(6, 2, 1 << 20);
	data = slurp(idx, &len);
	spit(idx, data, len - 3);
	evidence_close(open_store(1 << 20));
	free(data);
	data = slurp(idx, &len);
	assert_int_equal(data[len - 1], '\n');
	rep = verify();
	assert_false(rep.index_altered);
	assert_int_equal(rep.index_missing, 0);
	free(data);
}

/* Cuts the only segment at every byte offset: the reader delivers every whole block
 * before the cut, and a reopen sets the torn tail aside and goes on writing. */
static void test_evidence_truncation_at_every_offset(void **state)
{
	char names[16][64], seg[128];
	unsigned char *data;
	int boundaries = 0;
	off_t len;

	fill(40, 10, 1 << 20);
	assert_int_equal(segments(names, 16), 1);
	snprintf(seg, sizeof(seg), "%s", seg_path(names[0]));
	data = slurp(seg, &len);
	for (off_t cut = 0; cut < len; cut++) {
		struct ev_report rep;
		struct evidence *ev;
		struct seen s;
		uint64_t before;
		bool torn;

		spit(seg, data, cut);
		rep = read_all(&s);
		torn = cut && !rep.intact;
		/* A cut exactly between blocks looks like a shorter store (the chain heads
		 * sent to syslog are what catch that). */
		boundaries += rep.intact;
		assert_int_equal(s.n % 10, 0);
		assert_true(s.ordered);
		if (!rep.intact && cut)
			assert_non_null(strstr(rep.problem, "torn"));
		before = s.n;
		ev = open_store(1 << 20);
		put(ev, types[before % N_TYPES], 1000 + before, "{\"after\":1}");
		evidence_close(ev);
		rep = read_all(&s);
		assert_true(rep.intact);
		assert_int_equal(s.n, before + 1);
		assert_int_equal(s.recovery, torn);
		if (torn)
			assert_non_null(strstr(s.last_recovery, "\"event\":\"torn_tail\""));
	}
	assert_int_equal(boundaries, 3);
	free(data);
}

/* Offset of the block holding byte b of a pristine segment. */
static off_t block_of(const unsigned char *data, off_t len, off_t b, uint64_t *block_no)
{
	off_t off = 0;

	for (;;) {
		struct ev_block_hdr h;
		off_t next;

		/* Blocks sit at any byte offset: copy the header out rather than cast. */
		memcpy(&h, data + off, sizeof(h));
		next = off + EV_HDR_LEN + h.comp_len;
		if (b < next || next >= len) {
			*block_no = h.block_no;
			return off;
		}
		off = next;
	}
}

static void test_evidence_every_bit_flip_is_caught(void **state)
{
	char names[4][64], seg[128], want[128];
	unsigned char *data;
	off_t len;

	fill(12, 4, 1 << 20);
	segments(names, 4);
	snprintf(seg, sizeof(seg), "%s", seg_path(names[0]));
	data = slurp(seg, &len);
	for (off_t byte = 0; byte < len; byte++) {
		uint64_t block_no;
		off_t off = block_of(data, len, byte, &block_no);

		snprintf(want, sizeof(want), "%s: block %llu at offset %lld: ", names[0],
			 (unsigned long long)block_no, (long long)off);
		for (int bit = 0; bit < 8; bit++) {
			struct ev_report rep;
			int fd = open(seg, O_WRONLY);
			unsigned char c = data[byte] ^ (1 << bit);

			assert_int_equal(pwrite(fd, &c, 1, byte), 1);
			rep = verify();
			if (rep.intact || strncmp(rep.problem, want, strlen(want))) {
				print_error("bit %d of byte %lld: '%s', wanted '%s...'\n", bit,
					    (long long)byte, rep.problem, want);
				fail();
			}
			assert_int_equal(pwrite(fd, data + byte, 1, byte), 1);
			close(fd);
		}
	}
	assert_true(verify().intact);
	free(data);
}

/* An edited block in the middle of the last segment is tampering, not a torn write: a
 * restart must not cut it away and leave a store that verifies. */
static void test_evidence_reopen_does_not_launder_tampering(void **state)
{
	char names[4][64], seg[128];
	unsigned char *data;
	struct ev_report rep;
	unsigned char flipped;
	struct seen s;
	off_t len;

	fill(12, 4, 1 << 20);
	segments(names, 4);
	snprintf(seg, sizeof(seg), "%s", seg_path(names[0]));
	data = slurp(seg, &len);

	data[EV_HDR_LEN + 3] ^= 0x40;  /* payload of block 0 */
	flipped = data[EV_HDR_LEN + 3];
	spit(seg, data, len);
	fill(3, 3, 1 << 20);
	rep = read_all(&s);
	assert_false(rep.intact);
	assert_non_null(strstr(rep.problem, "block 0 at offset 0: hash mismatch"));
	assert_int_equal(segments(names, 4), 2);
	free(data);
	data = slurp(seg, &len);
	assert_int_equal(data[EV_HDR_LEN + 3], flipped);
	free(data);
}

static void test_evidence_rotation_and_removed_segment(void **state)
{
	char names[32][64];
	struct ev_report rep;
	struct seen s;
	int n;

	fill(60, 5, 400);  /* tiny segments: a new one for nearly every block */
	n = segments(names, 32);
	assert_true(n >= 4);
	for (int i = 0; i < n; i++) {
		struct ev_block_hdr h;
		int fd = open(seg_path(names[i]), O_RDONLY);
		char want[32];

		/* A segment is named after its first block. */
		assert_int_equal(read(fd, &h, sizeof(h)), sizeof(h));
		close(fd);
		snprintf(want, sizeof(want), "seg-%016llx.xev", (unsigned long long)h.block_no);
		assert_string_equal(names[i], want);
	}
	rep = read_all(&s);
	assert_true(rep.intact);
	assert_int_equal(s.n, 60);
	assert_int_equal(rep.segments, n);
	unlink(seg_path(names[1]));
	rep = read_all(&s);
	assert_false(rep.intact);
	assert_non_null(strstr(rep.problem, "missing"));
	assert_int_equal(strncmp(rep.problem, names[2], 24), 0);
}

static void test_evidence_removed_first_segment_without_retention(void **state)
{
	char names[32][64];
	struct ev_report rep;

	fill(60, 5, 400);
	segments(names, 32);
	unlink(seg_path(names[0]));
	rep = verify();
	assert_false(rep.intact);
	assert_non_null(strstr(rep.problem, "no retention record"));
	assert_int_equal(strncmp(rep.problem, names[1], 24), 0);
}

static void test_evidence_reordered_segments(void **state)
{
	char names[32][64], a[128], b[128], t[128];
	struct ev_report rep;

	fill(60, 5, 400);
	segments(names, 32);
	snprintf(a, sizeof(a), "%s", seg_path(names[1]));
	snprintf(b, sizeof(b), "%s", seg_path(names[2]));
	snprintf(t, sizeof(t), "%s/tmp", dir);
	rename(a, t);
	rename(b, a);
	rename(t, b);
	rep = verify();
	assert_false(rep.intact);
	assert_non_null(strstr(rep.problem, "chain broken"));
	assert_int_equal(strncmp(rep.problem, names[1], 24), 0);
}

static struct evidence *open_retaining(uint64_t retention_ns, uint64_t retention_bytes)
{
	struct evidence_opts o = { .dir = dir, .segment_bytes = 400, .block_bytes = 1 << 20,
				   .seal_interval_ns = SEC, .retention_ns = retention_ns,
				   .retention_bytes = retention_bytes };
	struct evidence *ev = evidence_open(&o);

	assert_non_null(ev);
	return ev;
}

static void test_evidence_retention_by_size_is_recorded(void **state)
{
	char names[32][64], first[64];
	struct ev_report rep;
	struct evidence *ev;
	int before, after;
	uint64_t total = 0;

	char torn[160];
	int fd;

	fill(60, 5, 400);
	before = segments(names, 32);
	/* A torn tail once set aside from the oldest segment is deleted with it. */
	snprintf(torn, sizeof(torn), "%s.torn-17", seg_path(names[0]));
	fd = open(torn, O_WRONLY | O_CREAT, 0600);
	close(fd);
	ev = open_retaining(0, 2000);
	assert_int_equal(evidence_maintain(ev, 5000), 0);
	evidence_close(ev);
	after = segments(names, 32);
	assert_true(after < before);
	for (int i = 0; i < after; i++) {
		struct stat st;

		assert_int_equal(stat(seg_path(names[i]), &st), 0);
		total += st.st_size;
	}
	assert_true(total <= 3000);
	snprintf(first, sizeof(first), "seg-%016llx.xev", 0ULL);
	assert_int_not_equal(access(seg_path(first), F_OK), 0);
	assert_int_not_equal(access(torn, F_OK), 0);
	rep = verify();
	assert_true(rep.intact);
	assert_true(rep.retention_cut);
	assert_true(rep.first_block > 0);
	/* The chain starts right after the last segment deleted. */
	assert_true(strcmp(rep.retained_segment, names[0]) < 0);
	assert_int_equal(strlen(rep.retained_segment), 24);
}

static int retention_cb(void *ctx, const struct ev_record *r)
{
	unsigned *n = ctx;

	if (!strcmp(r->type, "retention")) {
		assert_non_null(strstr(r->json, "\"reason\":\"age\""));
		(*n)++;
	}
	return 0;
}

static void test_evidence_retention_by_age_uses_given_time(void **state)
{
	char names[32][64], after[32][64];
	struct ev_report rep;
	struct evidence *ev;
	unsigned deleted = 0;
	int before;

	fill(60, 5, 400);  /* record times 1000..1059, two blocks of 5 per segment */
	before = segments(names, 32);
	assert_true(before >= 4);
	ev = open_retaining(100, 0);
	/* At 1100 nothing is older than 100 ns; at 1130 segments ending before 1030 are. */
	assert_int_equal(evidence_maintain(ev, 1100), 0);
	assert_int_equal(segments(after, 32), before);
	evidence_close(ev);
	ev = open_retaining(100, 0);
	assert_int_equal(evidence_maintain(ev, 1130), 0);
	evidence_close(ev);
	assert_int_not_equal(access(seg_path(names[0]), F_OK), 0);
	assert_int_not_equal(access(seg_path(names[2]), F_OK), 0);
	assert_int_equal(access(seg_path(names[3]), F_OK), 0);
	assert_int_equal(evidence_read(dir, NULL, retention_cb, &deleted, &rep), 0);
	assert_true(rep.intact);
	assert_int_equal(deleted, 3);
	assert_true(rep.retention_cut);
	assert_string_equal(rep.retained_segment, names[2]);
}

static void test_evidence_retention_then_removed_segment_fails(void **state)
{
	char names[32][64];
	struct evidence *ev;
	struct ev_report rep;

	fill(60, 5, 400);
	ev = open_retaining(0, 2000);
	assert_int_equal(evidence_maintain(ev, 5000), 0);
	evidence_close(ev);
	segments(names, 32);
	unlink(seg_path(names[0]));
	rep = verify();
	assert_false(rep.intact);
	assert_non_null(strstr(rep.problem, "no retention record"));
}

static void test_evidence_empty_last_segment_resumes_chain(void **state)
{
	char name[64];
	struct seen s;
	int fd;

	fill(10, 5, 1 << 20);
	/* A crash right after rotation leaves an empty newest segment. */
	snprintf(name, sizeof(name), "seg-%016llx.xev", 2ULL);
	fd = open(seg_path(name), O_WRONLY | O_CREAT, 0600);
	close(fd);
	fill(5, 5, 1 << 20);
	assert_true(read_all(&s).intact);
	assert_int_equal(s.n, 15);
	assert_true(s.ordered);
}

struct late_write {
	const char *path;
	const unsigned char *data;
	off_t len;
};

static void *finish_write(void *arg)
{
	struct late_write *lw = arg;

	int fd = open(lw->path, O_WRONLY);

	/* The rest of the block arrives the way a writer's writev ends: appended. */
	usleep(100 * 1000);
	assert_int_equal(pwrite(fd, lw->data + lw->len - 20, 20, lw->len - 20), 20);
	close(fd);
	return NULL;
}

/* A reader of a live store meets the writer mid-seal: with settle_ms it waits for the
 * block to complete; without, it reports the short block as torn. */
static void test_evidence_read_waits_for_seal_in_progress(void **state)
{
	struct ev_filter settle = { .settle_ms = 2000 };
	char names[4][64], seg[128];
	struct late_write lw;
	struct ev_report rep;
	unsigned char *data;
	pthread_t t;
	off_t len;

	fill(10, 5, 1 << 20);
	segments(names, 4);
	snprintf(seg, sizeof(seg), "%s", seg_path(names[0]));
	data = slurp(seg, &len);
	spit(seg, data, len - 20);
	rep = verify();
	assert_false(rep.intact);
	assert_non_null(strstr(rep.problem, "block 1 at offset"));
	assert_non_null(strstr(rep.problem, "torn block (truncated payload)"));
	lw = (struct late_write){ seg, data, len };
	assert_int_equal(pthread_create(&t, NULL, finish_write, &lw), 0);
	assert_int_equal(evidence_read(dir, &settle, NULL, NULL, &rep), 0);
	pthread_join(t, NULL);
	assert_true(rep.intact);
	assert_int_equal(rep.blocks, 2);
	free(data);
}

static int nul_cb(void *ctx, const struct ev_record *r)
{
	assert_int_equal(r->json_len, 10);
	assert_memory_equal(r->json, "{\"a\":\"\0b\"}", 11);
	(*(int *)ctx)++;
	return 0;
}

/* Found by the fuzzer: a NUL inside a record's JSON made the delivered copy shorter
 * than json_len, and readers parsing json_len bytes read past it. */
static void test_evidence_read_json_with_nul_keeps_length(void **state)
{
	struct evidence *ev = open_store(1 << 20);
	struct ev_report rep;
	int calls = 0;

	assert_int_equal(evidence_append(ev, "activity", 1, "{\"a\":\"\0b\"}", 10, NULL), 0);
	evidence_close(ev);
	assert_int_equal(evidence_read(dir, NULL, nul_cb, &calls, &rep), 0);
	assert_int_equal(calls, 1);
}

static void test_evidence_read_bad_directories(void **state)
{
	struct ev_report rep;
	char path[128], junk[200];
	int fd;

	assert_int_equal(evidence_read("/nonexistent/dir", NULL, NULL, NULL, &rep), -ENOENT);
	assert_int_equal(evidence_read("/etc/hostname", NULL, NULL, NULL, &rep), -ENOTDIR);
	assert_int_equal(evidence_read(dir, NULL, NULL, NULL, &rep), -EINVAL);
	assert_true(rep.empty);
	assert_non_null(strstr(rep.problem, "no evidence segments"));
	/* A foreign file under a segment's name. */
	snprintf(path, sizeof(path), "%s/seg-0000000000000000.xev", dir);
	fd = open(path, O_WRONLY | O_CREAT, 0600);
	memset(junk, '#', sizeof(junk));
	assert_int_equal(write(fd, junk, sizeof(junk)), sizeof(junk));
	close(fd);
	rep = verify();
	assert_false(rep.intact);
	assert_non_null(strstr(rep.problem, "block 0 at offset 0: not an evidence block"));
}


struct unshipped_seen {
	uint64_t first, last, records;
	unsigned calls;
};

static void on_unshipped(void *ctx, uint64_t first, uint64_t last, uint64_t records)
{
	struct unshipped_seen *u = ctx;

	if (!u->calls++)
		u->first = first;
	u->last = last;
	u->records += records;
}

static int unshipped_cb(void *ctx, const struct ev_record *r)
{
	char *out = ctx;

	if (!strcmp(r->type, "retention") && strstr(r->json, "\"unshipped\""))
		snprintf(out, 512, "%s", r->json);
	return 0;
}

/* Retention of blocks a shipper has not acknowledged says so, in the store and to the
 * callback; blocks below the shipped mark are not counted. */
static void test_evidence_retention_records_unshipped_blocks(void **state)
{
	struct evidence_opts o = { .dir = dir, .segment_bytes = 400, .block_bytes = 1 << 20,
				   .seal_interval_ns = SEC, .retention_bytes = 2000,
				   .on_unshipped_deleted = on_unshipped };
	struct unshipped_seen u = { 0 };
	char last[512] = "";
	struct ev_report rep;
	struct evidence *ev;

	fill(60, 5, 400);   /* 12 blocks of 5 records, two per segment */
	o.ctx = &u;
	ev = evidence_open(&o);
	assert_non_null(ev);
	evidence_set_unshipped(ev, 1);   /* block 0 shipped, the rest not */
	assert_int_equal(evidence_maintain(ev, 5000), 0);
	evidence_close(ev);
	assert_true(u.calls >= 1);
	assert_int_equal(u.first, 1);
	assert_int_equal(u.records, 5 * (u.last - u.first + 1));
	assert_int_equal(evidence_read(dir, NULL, unshipped_cb, last, &rep), 0);
	assert_true(rep.intact);
	/* the last deletion's record names its own two unshipped blocks */
	assert_non_null(strstr(last, "\"unshipped\":{\"blocks\":2,\"records\":10"));
}

static void test_evidence_block_read_by_number(void **state)
{
	struct ev_block b = { 0 };
	struct ev_block_hdr h;
	uint64_t first = 99, bytes, ts;

	fill(60, 5, 400);   /* blocks 0..11 over six segments */
	for (uint64_t n = 0; n < 12; n++) {
		assert_int_equal(evidence_block_read(dir, n, &b), 0);
		memcpy(&h, b.bytes, sizeof(h));
		assert_int_equal(h.block_no, n);
		assert_int_equal(b.len, EV_HDR_LEN + h.comp_len);
		assert_true(ev_block_hash_ok(&h, b.bytes + EV_HDR_LEN));
		assert_memory_equal(h.hash, b.hash, 32);
		assert_int_equal(strtoull(b.segment + 4, NULL, 16), n - n % 2);
	}
	assert_int_equal(evidence_block_read(dir, 12, &b), -EAGAIN);
	assert_int_equal(evidence_range_size(dir, 10, 12, &bytes, &ts), 0);
	assert_true(bytes > 2 * EV_HDR_LEN);
	assert_int_equal(ts, 1000 + 54);   /* block 10 holds records 50..54 */
	/* Retention removed the first segment: its blocks are gone, not pending. */
	assert_int_equal(unlink(seg_path("seg-0000000000000000.xev")), 0);
	assert_int_equal(evidence_block_read(dir, 1, &b), -ENOENT);
	assert_int_equal(evidence_first_block(dir, &first), 0);
	assert_int_equal(first, 2);
	ev_block_free(&b);
}

int main(void)
{
#define T(name) cmocka_unit_test_setup_teardown(name, setup, teardown)
	const struct CMUnitTest tests[] = {
		T(test_evidence_round_trip_every_type),
		T(test_evidence_open_tightens_directory_mode),
		T(test_evidence_reopen_continues_chain),
		T(test_evidence_maintain_seals_after_interval),
		T(test_evidence_on_seal_gets_chain_head),
		T(test_evidence_session_filter_skips_blocks),
		T(test_evidence_time_filter),
		T(test_evidence_missing_index_reads_blocks_in_full),
		T(test_evidence_altered_index_is_reported),
		T(test_evidence_read_edited_index_hides_no_session),
		T(test_evidence_torn_index_line_is_rebuilt),
		T(test_evidence_truncation_at_every_offset),
		T(test_evidence_every_bit_flip_is_caught),
		T(test_evidence_reopen_does_not_launder_tampering),
		T(test_evidence_rotation_and_removed_segment),
		T(test_evidence_removed_first_segment_without_retention),
		T(test_evidence_reordered_segments),
		T(test_evidence_retention_by_size_is_recorded),
		T(test_evidence_retention_by_age_uses_given_time),
		T(test_evidence_retention_then_removed_segment_fails),
		T(test_evidence_retention_records_unshipped_blocks),
		T(test_evidence_block_read_by_number),
		T(test_evidence_empty_last_segment_resumes_chain),
		T(test_evidence_read_waits_for_seal_in_progress),
		T(test_evidence_read_json_with_nul_keeps_length),
		T(test_evidence_read_bad_directories),
	};

	return cmocka_run_group_tests_name("evidence", tests, NULL, NULL);
}
