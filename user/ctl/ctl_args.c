// SPDX-License-Identifier: GPL-2.0-only
/*
 * Option parsing for the investigator commands. Each command accepts only the options
 * its row of the table below names: an option that would be silently ignored (say
 * `sessions --rule`) is refused with exit 2, so a filter the investigator typed is
 * always a filter that was applied. The same table prints each command's --help, which
 * the man page and the bash completion are built from.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/timeutil.h"
#include "config/parse.h"
#include "ctl.h"
#include "ctl_case.h"

enum opt_bit {
	O_DIR = 1 << 0, O_JSON = 1 << 1, O_SESSION = 1 << 2, O_USER = 1 << 3, O_RULE = 1 << 4,
	O_HOST = 1 << 5, O_SINCE = 1 << 6, O_UNTIL = 1 << 7, O_FORMAT = 1 << 8,
	O_OUTPUT = 1 << 9, O_EXPECT = 1 << 10,
};

struct opt_def {
	const char *name;
	char short_name;             /* 0: long form only */
	unsigned bit;
	const char *metavar;         /* NULL: a flag */
	const char *help;
};

static const struct opt_def opt_defs[] = {
	{ "dir", 0, O_DIR, "DIR", "evidence directory (default " XM_DEFAULT_EVIDENCE_DIR ")" },
	{ "json", 0, O_JSON, NULL, "one JSON object per line (NDJSON)" },
	{ "session", 0, O_SESSION, "N", "only this audit session" },
	{ "user", 0, O_USER, "NAME", "only this user (the login name in the evidence)" },
	{ "rule", 0, O_RULE, "NAME", "only alerts of this rule (rule.name)" },
	{ "host", 0, O_HOST, "NAME", "only alerts from this host (host.name)" },
	{ "since", 0, O_SINCE, "TIME", "from TIME on (RFC 3339, date, unix seconds, -2h, today)" },
	{ "until", 0, O_UNTIL, "TIME", "up to TIME, inclusive (same forms as --since)" },
	{ "format", 0, O_FORMAT, "json|csv", "output format (default json: NDJSON)" },
	{ "output", 'o', O_OUTPUT, "FILE", "write the report to FILE" },
	{ "expect", 0, O_EXPECT, "SEG:BLOCK:HASH",
	  "also require this chain head (from a CHAIN syslog message) in the chain" },
};

#define N_OPTS (sizeof(opt_defs) / sizeof(opt_defs[0]))
#define WINDOW (O_DIR | O_SINCE | O_UNTIL)

static const struct {
	const char *cmd;
	unsigned allowed;
} cmd_opts[] = {
	{ "verify", O_DIR | O_JSON | O_EXPECT },
	{ "sessions", WINDOW | O_JSON | O_SESSION | O_USER },
	{ "alerts", WINDOW | O_JSON | O_SESSION | O_USER | O_RULE | O_HOST },
	{ "timeline", WINDOW | O_JSON | O_SESSION | O_USER },
	{ "export", WINDOW | O_SESSION | O_USER | O_FORMAT },
	{ "report", WINDOW | O_SESSION | O_OUTPUT },
};

static unsigned allowed_for(const char *cmd)
{
	for (size_t i = 0; i < sizeof(cmd_opts) / sizeof(cmd_opts[0]); i++)
		if (!strcmp(cmd, cmd_opts[i].cmd))
			return cmd_opts[i].allowed;
	return 0;
}

void ctl_print_options(FILE *f, const char *cmd)
{
	unsigned allowed = allowed_for(cmd);
	char lhs[64];

	fprintf(f, "options:\n");
	for (size_t i = 0; i < N_OPTS; i++) {
		const struct opt_def *d = &opt_defs[i];

		if (!(allowed & d->bit))
			continue;
		if (d->short_name)
			snprintf(lhs, sizeof(lhs), "-%c, --%s", d->short_name, d->name);
		else
			snprintf(lhs, sizeof(lhs), "    --%s", d->name);
		if (d->metavar)
			snprintf(lhs + strlen(lhs), sizeof(lhs) - strlen(lhs), " %s", d->metavar);
		fprintf(f, "  %-30s %s\n", lhs, d->help);
	}
	fprintf(f, "  %-30s %s\n", "    --help", "this text");
}

/* getopt_long tables holding only the command's options, plus --help. */
static void build_tables(unsigned allowed, struct option *longs, char *shorts)
{
	size_t n = 0, s = 0;

	shorts[s++] = ':';           /* a missing argument is ':' rather than '?' */
	for (size_t i = 0; i < N_OPTS; i++) {
		const struct opt_def *d = &opt_defs[i];

		if (!(allowed & d->bit))
			continue;
		longs[n++] = (struct option){ d->name, d->metavar ? required_argument : no_argument,
					      NULL, (int)d->bit };
		if (d->short_name) {
			shorts[s++] = d->short_name;
			if (d->metavar)
				shorts[s++] = ':';
		}
	}
	longs[n++] = (struct option){ "help", no_argument, NULL, 'h' };
	longs[n] = (struct option){ 0 };
	shorts[s++] = 'h';
	shorts[s] = '\0';
}

/* "seg-0000000000000000.xev:12:<64 hex>" */
static int parse_expect(const char *s, struct ctl_expect *e)
{
	const char *c1 = strchr(s, ':'), *c2 = c1 ? strchr(c1 + 1, ':') : NULL;
	char num[24];
	uint64_t block;
	size_t seg_len = c1 ? (size_t)(c1 - s) : 0, num_len = c2 ? (size_t)(c2 - c1 - 1) : 0;

	if (!c2 || !seg_len || seg_len >= sizeof(e->segment) || !num_len ||
	    num_len >= sizeof(num) || strlen(c2 + 1) != 64 || c2[1 + strspn(c2 + 1, "0123456789abcdef")])
		return -EINVAL;
	memcpy(num, c1 + 1, num_len);
	num[num_len] = '\0';
	if (parse_u64(num, 0, UINT64_MAX, &block))
		return -EINVAL;
	memcpy(e->segment, s, seg_len);
	e->segment[seg_len] = '\0';
	e->block = block;
	memcpy(e->hash, c2 + 1, 65);
	e->set = true;
	return 0;
}

static int bad_value(const char *cmd, const char *opt, const char *val, const char *want)
{
	fprintf(stderr, "exfilctl %s: --%s: '%s' is not %s\n", cmd, opt, val, want);
	return 2;
}

static int take(struct ctl_args *a, const char *cmd, unsigned bit, const char *v)
{
	uint64_t n;

	switch (bit) {
	case O_DIR: a->o.dir = v; return 0;
	case O_JSON: a->json = true; return 0;
	case O_USER: a->o.user = v; return 0;
	case O_RULE: a->rule = v; return 0;
	case O_HOST: a->host = v; return 0;
	case O_FORMAT: a->format = v; return 0;
	case O_OUTPUT: a->output = v; return 0;
	case O_SESSION:
		if (parse_u64(v, 0, UINT32_MAX, &n))
			return bad_value(cmd, "session", v, "a session id");
		a->o.filter.session_id = (uint32_t)n;
		a->o.filter.have_session = a->have_session = true;
		return 0;
	case O_SINCE:
	case O_UNTIL:
		if (parse_time(v, realtime_ns(), bit == O_SINCE ? &a->o.filter.since_ns
							    : &a->o.filter.until_ns))
			return bad_value(cmd, bit == O_SINCE ? "since" : "until", v,
					 "a time (2026-11-28T07:31:54.500Z, 2026-11-28T09:31:54+02:00, "
					 "2026-11-28, unix seconds, -2h, today, yesterday, now)");
		return 0;
	case O_EXPECT:
		if (parse_expect(v, &a->expect))
			return bad_value(cmd, "expect", v, "SEGMENT:BLOCK:HASH "
					 "(seg-0000000000000000.xev:12:<64 hex digits>)");
		return 0;
	}
	return 2;
}

/* Names the offending option as typed: "--rule" for sessions, "--dir" without a value. */
static int refuse(const char *cmd, int c, char **argv, const char *usage)
{
	const char *typed = argv[optind - 1];

	if (c == ':')
		fprintf(stderr, "exfilctl %s: %s needs a value\n", cmd, typed);
	else
		fprintf(stderr, "exfilctl %s: %s is not an option of %s\n", cmd, typed, cmd);
	fprintf(stderr, "%s", usage);
	ctl_print_options(stderr, cmd);
	return 2;
}

int ctl_parse_args(int argc, char **argv, struct ctl_args *a, const char *usage)
{
	const char *cmd = argv[0];
	struct option longs[N_OPTS + 2];
	char shorts[2 * N_OPTS + 4];
	int c, err;

	memset(a, 0, sizeof(*a));
	a->o.dir = XM_DEFAULT_EVIDENCE_DIR;
	build_tables(allowed_for(cmd), longs, shorts);
	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, shorts, longs, NULL)) != -1) {
		if (c == 'h') {
			printf("%s", usage);
			ctl_print_options(stdout, cmd);
			exit(0);
		}
		if (c == 'o')
			c = O_OUTPUT;
		if (c == '?' || c == ':')
			return refuse(cmd, c, argv, usage);
		if ((err = take(a, cmd, (unsigned)c, optarg)))
			return err;
	}
	if (optind < argc) {
		fprintf(stderr, "exfilctl %s: unexpected argument '%s'\n%s", cmd, argv[optind], usage);
		return 2;
	}
	return 0;
}
