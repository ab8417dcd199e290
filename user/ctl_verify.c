// SPDX-License-Identifier: GPL-2.0-only
/*
 * exfilctl verify: checks every block's hash and the whole chain of a live or copied
 * evidence directory. Exit 0 only when everything is intact; otherwise the first
 * altered, missing or reordered block is named by segment, block number and offset.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "ctl.h"
#include "ctl_case.h"

static const char usage[] = "usage: exfilctl verify [--dir DIR] [--json]\n";

int ctl_verify(int argc, char **argv)
{
	struct ctl_args a;
	struct ev_report rep;
	int err = ctl_parse_args(argc, argv, &a, usage);

	if (err)
		return err;
	err = evidence_read(a.o.dir, NULL, NULL, NULL, &rep);
	if (err && err != -EINVAL) {
		fprintf(stderr, "exfilctl verify: %s: %s\n", a.o.dir, strerror(-err));
		return 1;
	}
	if (a.json) {
		printf("{\"intact\":%s,\"segments\":%llu,\"blocks\":%llu,\"records\":%llu,"
		       "\"first_block\":%llu,\"retention_cut\":%s,\"head\":\"%s\",\"problem\":\"%s\"}\n",
		       rep.intact ? "true" : "false", (unsigned long long)rep.segments,
		       (unsigned long long)rep.blocks, (unsigned long long)rep.records,
		       (unsigned long long)rep.first_block, rep.retention_cut ? "true" : "false",
		       rep.head, rep.problem);
		return rep.intact ? 0 : 1;
	}
	if (rep.intact) {
		printf("intact: %llu segments, %llu blocks, %llu records; chain head %s\n",
		       (unsigned long long)rep.segments, (unsigned long long)rep.blocks,
		       (unsigned long long)rep.records, rep.head);
		if (rep.retention_cut)
			printf("note: the chain starts at block %llu, after older segments were "
			       "deleted by retention (recorded in the store)\n",
			       (unsigned long long)rep.first_block);
		return 0;
	}
	printf("NOT INTACT: %s\n", rep.problem);
	printf("verified before the problem: %llu blocks, %llu records\n",
	       (unsigned long long)rep.blocks, (unsigned long long)rep.records);
	return 1;
}
