// SPDX-License-Identifier: GPL-2.0-only
/*
 * exfilctl: the command-line tool for IT (trace, status, policy) and for investigators
 * (verify, sessions, alerts, timeline, export, report). This file only dispatches.
 */
#include <stdio.h>
#include <string.h>

#include "common/array_size.h"
#include "ctl.h"
#include "common/log.h"

struct subcommand {
	const char *name;
	int (*run)(int argc, char **argv);
	const char *help;
};

static const struct subcommand subcommands[] = {
	{ "trace", ctl_trace, "live view of classified events (-c CONFIG, --json, --pid/--uid/--session)" },
	{ "status", ctl_status, "health of the running daemon" },
	{ "verify", ctl_verify, "check every evidence block and the whole hash chain" },
	{ "sessions", ctl_sessions, "list login sessions in the evidence" },
	{ "alerts", ctl_alerts, "list alerts in the evidence" },
	{ "timeline", ctl_timeline, "what a session or user read and where it went, in order" },
	{ "export", ctl_export, "export evidence records as JSON lines or CSV" },
	{ "report", ctl_report, "self-contained HTML incident report for a session" },
	{ "policy", ctl_policy, "signed policy bundles: keygen, sign, verify, show, push" },
};

static void usage(FILE *f)
{
	fprintf(f, "usage: exfilctl COMMAND [OPTIONS]\n\ncommands:\n");
	for (size_t i = 0; i < ARRAY_SIZE(subcommands); i++)
		fprintf(f, "  %-9s %s\n", subcommands[i].name, subcommands[i].help);
	fprintf(f, "\nexfilctl COMMAND --help shows a command's options; exfilctl --version the "
		   "version.\n");
}

int main(int argc, char **argv)
{
	log_setup("exfilctl", 1, LOG_LVL_WARN);
	if (argc < 2) {
		usage(stderr);
		return 2;
	}
	if (!strcmp(argv[1], "-h") || !strcmp(argv[1], "--help") || !strcmp(argv[1], "help")) {
		usage(stdout);
		return 0;
	}
	if (!strcmp(argv[1], "--version") || !strcmp(argv[1], "version")) {
		printf("exfilctl %s\n", EXFILMON_VERSION);
		return 0;
	}
	if (ctl_wants_db(argc - 1, argv + 1))
		return ctl_db_main(argc - 1, argv + 1);
	for (size_t i = 0; i < ARRAY_SIZE(subcommands); i++)
		if (!strcmp(argv[1], subcommands[i].name))
			return subcommands[i].run(argc - 1, argv + 1);
	fprintf(stderr, "exfilctl: unknown command '%s'\n", argv[1]);
	usage(stderr);
	return 2;
}
