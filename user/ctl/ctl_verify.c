// SPDX-License-Identifier: GPL-2.0-only
/*
 * exfilctl verify: checks every block's hash and the whole chain of a live or copied
 * evidence directory, and the index against the blocks. Exit 0 only when everything is
 * intact; otherwise the first altered, missing or reordered block is named by segment,
 * block number and byte offset. The chain head printed is what to compare with the last
 * CHAIN message the SIEM received: a cut-off tail leaves a valid but older head;
 * --expect SEGMENT:BLOCK:HASH makes that comparison part of the verdict.
 * Exit status: 0 intact (and the expected head is in the chain), 1 not intact (altered,
 * missing, reordered or cut-off blocks, altered index, expected head absent or different),
 * 2 bad usage, 3 the store could not be read (missing, not a directory, no permission,
 * I/O error, no evidence segments): "could not check" is never reported as "tampered".
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <jansson.h>

#include "ctl.h"
#include "ctl_case.h"

static const char usage[] = "usage: exfilctl verify [--dir DIR] [--json] [--expect SEGMENT:BLOCK:HASH]\n";

enum { EXIT_INTACT = 0, EXIT_TAMPERED = 1, EXIT_UNREADABLE = 3 };

/* Compares the block --expect names with the chain; "" when it matches. */
static void check_expect(const struct ctl_expect *e, const struct ev_report *rep, char *why,
			 size_t len)
{
	why[0] = '\0';
	if (!e->set)
		return;
	if (!rep->probe_found)
		snprintf(why, len, "expected block %llu (%s) is not in the verified chain, which "
			 "ends at block %llu: blocks after it were cut off or never verified",
			 (unsigned long long)e->block, e->segment,
			 (unsigned long long)rep->head_block);
	else if (strcmp(rep->probe_hash, e->hash))
		snprintf(why, len, "block %llu has hash %s, expected %s: the store was rewritten",
			 (unsigned long long)e->block, rep->probe_hash, e->hash);
	else if (strcmp(rep->probe_segment, e->segment))
		snprintf(why, len, "block %llu is in %s, expected %s",
			 (unsigned long long)e->block, rep->probe_segment, e->segment);
}

static int verdict(const struct ev_report *rep, int err, const char *expect_problem)
{
	if (err && err != -EINVAL)
		return EXIT_UNREADABLE;
	if (rep->unreadable)
		return EXIT_UNREADABLE;
	if (rep->empty)
		return expect_problem[0] ? EXIT_TAMPERED : EXIT_UNREADABLE;
	return rep->intact && !rep->index_altered && !expect_problem[0] ? EXIT_INTACT
									  : EXIT_TAMPERED;
}

static const char *verdict_name(int v)
{
	return v == EXIT_INTACT ? "intact" : v == EXIT_TAMPERED ? "not_intact" : "unreadable";
}

static int print_json(const struct ev_report *rep, const char *dir, int v, const char *expect_problem)
{
	json_t *o = json_pack("{s:s, s:s, s:b, s:b, s:I, s:I, s:I, s:s, s:s, s:I, s:I, s:b, s:s?,"
			      " s:s?, s:s?, s:I, s:i, s:s?, s:I, s:I, s:I}",
			      "dir", dir, "verdict", verdict_name(v), "intact", rep->intact,
			      "index_intact", !rep->index_altered,
			      "segments", (json_int_t)rep->segments,
			      "blocks", (json_int_t)rep->blocks, "records", (json_int_t)rep->records,
			      "head", rep->head, "head_segment", rep->head_segment,
			      "head_block", (json_int_t)rep->head_block,
			      "first_block", (json_int_t)rep->first_block,
			      "retention_cut", rep->retention_cut,
			      "retained_segment", rep->retained_segment[0] ? rep->retained_segment : NULL,
			      "problem", rep->problem[0] ? rep->problem : NULL,
			      "index_problem", rep->index_problem[0] ? rep->index_problem : NULL,
			      "index_missing", (json_int_t)rep->index_missing,
			      "torn_files", (int)rep->torn_files,
			      "expect_problem", expect_problem[0] ? expect_problem : NULL,
			      "silence_ns", (json_int_t)rep->silence_ns,
			      "silence_from_ns", (json_int_t)rep->silence_from_ns,
			      "silence_to_ns", (json_int_t)rep->silence_to_ns);

	if (!o)
		return 1;
	json_dumpf(o, stdout, JSON_COMPACT);
	printf("\n");
	json_decref(o);
	return v;
}

static void print_notes(const struct ev_report *rep)
{
	if (rep->retention_cut && rep->retained_segment[0])
		printf("note: the chain starts at block %llu, after retention of %s (the deletion "
		       "is recorded in the store)\n",
		       (unsigned long long)rep->first_block, rep->retained_segment);
	if (rep->torn_files)
		printf("note: %u torn tail(s) from crashes were set aside by the writer "
		       "(seg-*.torn-*; each named by a \"recovery\" record)\n", rep->torn_files);
	if (rep->index_missing)
		printf("note: %llu block(s) have no index line; queries read them in full\n",
		       (unsigned long long)rep->index_missing);
	if (rep->index_altered)
		printf("INDEX ALTERED: %s\n", rep->index_problem);
	if (rep->silence_ns)
		printf("longest silence between heartbeats: %llu s (one is sealed every "
		       "evidence.heartbeat while the agent runs)\n",
		       (unsigned long long)(rep->silence_ns / 1000000000ULL));
}

static void print_human(const struct ev_report *rep, int v, const char *expect_problem,
			uint64_t expect_block)
{
	if (v == EXIT_UNREADABLE)
		printf("CANNOT VERIFY: %s\n", rep->problem);
	else if (rep->intact)
		printf("intact: %llu segments, %llu blocks, %llu records; chain head %s "
		       "(%s block %llu)\n",
		       (unsigned long long)rep->segments, (unsigned long long)rep->blocks,
		       (unsigned long long)rep->records, rep->head, rep->head_segment,
		       (unsigned long long)rep->head_block);
	else if (rep->empty)
		printf("NOT INTACT: %s\n", rep->problem);
	else
		printf("NOT INTACT: %s\nverified before the problem: %llu blocks, %llu records%s%s\n",
		       rep->problem, (unsigned long long)rep->blocks, (unsigned long long)rep->records,
		       rep->blocks ? "; last good chain head " : "", rep->head);
	if (expect_problem[0])
		printf("EXPECTED HEAD NOT MATCHED: %s\n", expect_problem);
	else if (v != EXIT_UNREADABLE && rep->probe_found)
		printf("expected head matched: %s block %llu %s\n", rep->probe_segment,
		       (unsigned long long)expect_block, rep->probe_hash);
	print_notes(rep);
}

int ctl_verify(int argc, char **argv)
{
	struct ev_filter settle = { .settle_ms = CTL_SETTLE_MS };
	struct ctl_args a;
	struct ev_report rep;
	char expect_problem[512];
	int err = ctl_parse_args(argc, argv, &a, usage), v;

	if (err)
		return err;
	settle.probe = a.expect.set;
	settle.probe_block = a.expect.block;
	err = evidence_read(a.o.dir, &settle, NULL, NULL, &rep);
	if (err && err != -EINVAL) {
		snprintf(rep.problem, sizeof(rep.problem), "%s: %s", a.o.dir, strerror(-err));
		fprintf(stderr, "exfilctl verify: %s\n", rep.problem);
		if (a.json)
			print_json(&rep, a.o.dir, EXIT_UNREADABLE, "");
		return EXIT_UNREADABLE;
	}
	check_expect(&a.expect, &rep, expect_problem, sizeof(expect_problem));
	v = verdict(&rep, err, expect_problem);
	if (a.json)
		return print_json(&rep, a.o.dir, v, expect_problem);
	print_human(&rep, v, expect_problem, a.expect.block);
	return v;
}
