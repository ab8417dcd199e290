// SPDX-License-Identifier: GPL-2.0-only
/*
 * exfilctl verify: checks every block's hash and the whole chain of a live or copied
 * evidence directory, and the index against the blocks. Exit 0 only when everything is
 * intact; otherwise the first altered, missing or reordered block is named by segment,
 * block number and byte offset. The chain head printed is what to compare with the last
 * CHAIN message the SIEM received: a cut-off tail leaves a valid but older head.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <jansson.h>

#include "ctl.h"
#include "ctl_case.h"

static const char usage[] =
	"usage: exfilctl verify [--dir DIR] [--json] [--anchor BLOCK:HASH | --anchor-log FILE]\n"
	"  --anchor, --anchor-log: the last chain head sent off the box (the CHAIN message\n"
	"  syslog received); a store cut back or rewritten since fails against it\n";

static bool all_good(const struct ev_report *rep)
{
	return rep->intact && !rep->index_altered;
}

static int print_json(const struct ev_report *rep, const char *dir)
{
	json_t *o = json_pack("{s:s, s:b, s:b, s:I, s:I, s:I, s:s, s:s, s:I, s:I, s:b, s:s?,"
			      " s:s?, s:s?, s:I, s:i, s:b, s:I, s:I, s:I}",
			      "dir", dir, "intact", rep->intact, "index_intact", !rep->index_altered,
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
			      "anchor_checked", rep->anchor_checked,
			      "silence_ns", (json_int_t)rep->silence_ns,
			      "silence_from_ns", (json_int_t)rep->silence_from_ns,
			      "silence_to_ns", (json_int_t)rep->silence_to_ns);

	if (!o)
		return 1;
	json_dumpf(o, stdout, JSON_INDENT(2));
	printf("\n");
	json_decref(o);
	return all_good(rep) ? 0 : 1;
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
	if (rep->anchor_checked)
		printf("anchor: the chain holds the head sent off the box\n");
	if (rep->silence_ns)
		printf("longest silence between heartbeats: %llu s (one is sealed every "
		       "evidence.heartbeat while the agent runs)\n",
		       (unsigned long long)(rep->silence_ns / 1000000000ULL));
}

int ctl_verify(int argc, char **argv)
{
	struct ev_filter settle = { .settle_ms = CTL_SETTLE_MS };
	struct ctl_args a;
	struct ev_report rep;
	int err = ctl_parse_args(argc, argv, &a, usage);

	if (err)
		return err;
	settle.have_anchor = a.o.filter.have_anchor;
	settle.anchor_block = a.o.filter.anchor_block;
	memcpy(settle.anchor_hash, a.o.filter.anchor_hash, sizeof(settle.anchor_hash));
	err = evidence_read(a.o.dir, &settle, NULL, NULL, &rep);
	if (err && err != -EINVAL) {
		fprintf(stderr, "exfilctl verify: %s: %s\n", a.o.dir, strerror(-err));
		return 1;
	}
	if (a.json)
		return print_json(&rep, a.o.dir);
	if (rep.intact)
		printf("intact: %llu segments, %llu blocks, %llu records; chain head %s "
		       "(%s block %llu)\n",
		       (unsigned long long)rep.segments, (unsigned long long)rep.blocks,
		       (unsigned long long)rep.records, rep.head, rep.head_segment,
		       (unsigned long long)rep.head_block);
	else if (err)
		printf("NOT INTACT: %s\n", rep.problem);
	else
		printf("NOT INTACT: %s\nverified before the problem: %llu blocks, %llu records%s%s\n",
		       rep.problem, (unsigned long long)rep.blocks, (unsigned long long)rep.records,
		       rep.blocks ? "; last good chain head " : "", rep.head);
	print_notes(&rep);
	return all_good(&rep) ? 0 : 1;
}
