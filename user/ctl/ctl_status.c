// SPDX-License-Identifier: GPL-2.0-only
/*
 * exfilctl status: the daemon's health from the status file it rewrites every tick:
 * sensors attached and hooks chosen, config hash, sessions tracked, events and drops.
 * Exit 0 when the daemon is running and fresh, 1 otherwise.
 */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <jansson.h>

#include "common/timeutil.h"
#include "ctl.h"

static long long num(json_t *o, const char *key)
{
	return json_integer_value(json_object_get(o, key));
}

static const char *str(json_t *o, const char *key)
{
	const char *s = json_string_value(json_object_get(o, key));

	return s ? s : "-";
}

static void print_human(json_t *o, int running, double age_s)
{
	const char *key;
	json_t *v, *drops = json_object_get(o, "drops");
	long long total_drops = 0;

	printf("daemon:          %s (pid %lld, status %.0fs old)\n",
	       running ? "running" : "NOT RUNNING", num(o, "pid"), age_s);
	printf("sensors:         %lld programs attached\n", num(o, "programs_attached"));
	printf("hooks:           %s\n", str(o, "hooks"));
	printf("config:          %s\n", str(o, "config_path"));
	printf("config sha256:   %s\n", str(o, "config_sha256"));
	printf("sessions:        %lld tracked, %lld processes, %lld new processes not tracked "
	       "(process table full)\n", num(o, "sessions"), num(o, "processes"),
	       num(o, "processes_refused"));
	printf("events:          %lld records, %lld activity slices, %lld flows live\n",
	       num(o, "records"), num(o, "activities"), num(o, "flows"));
	printf("alerts:          %lld\n", num(o, "alerts"));
	printf("evidence:        next seq %lld, %lld write errors\n", num(o, "evidence_next_seq"),
	       num(o, "evidence_errors"));
	printf("syslog:          %lld messages dropped (collector unreachable, queue full)\n",
	       num(o, "syslog_dropped"));
	printf("lost detail:     %lld gap records covering %lld lost ring records\n",
	       num(o, "gaps"), num(o, "lost_records"));
	json_object_foreach(drops, key, v)
		total_drops += json_integer_value(v);
	printf("drops:           %lld", total_drops);
	json_object_foreach(drops, key, v)
		if (json_integer_value(v))
			printf(" %s=%lld", key, (long long)json_integer_value(v));
	printf("\n");
}

int ctl_status(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "json", no_argument, NULL, 'j' }, { "file", required_argument, NULL, 'f' },
		{ "help", no_argument, NULL, 'h' }, { 0 },
	};
	const char *path = XM_STATUS_PATH;
	int json = 0, c, running;
	json_error_t jerr;
	double age_s;
	json_t *o;

	while ((c = getopt_long(argc, argv, "jf:h", opts, NULL)) != -1) {
		switch (c) {
		case 'j': json = 1; break;
		case 'f': path = optarg; break;
		case 'h':
			printf("usage: exfilctl status [--json] [--file STATUS_FILE]\n");
			return 0;
		default: return 2;
		}
	}
	o = json_load_file(path, 0, &jerr);
	if (!o) {
		fprintf(stderr, "exfilctl status: %s: %s (is exfilmond running?)\n", path,
			jerr.text);
		return 1;
	}
	age_s = ((double)realtime_ns() - (double)num(o, "updated_ns")) / 1e9;
	running = kill((pid_t)num(o, "pid"), 0) == 0 || errno == EPERM;
	if (json) {
		json_object_set_new(o, "running", json_boolean(running));
		json_dumpf(o, stdout, JSON_INDENT(2));
		printf("\n");
	} else {
		print_human(o, running, age_s);
	}
	json_decref(o);
	return running ? 0 : 1;
}
