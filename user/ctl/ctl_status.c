// SPDX-License-Identifier: GPL-2.0-only
/*
 * exfilctl status: the daemon's health from the status file it rewrites every tick:
 * sensors attached and hooks chosen, config hash and policy (serial, source, refusals),
 * sessions tracked, events and drops.
 * Exit 0 only when the daemon is healthy: its pid is alive and is exfilmond, the file is
 * no older than three ticks (at least STALE_MIN_MS) and sensors are attached. Otherwise
 * 1, with the reason on the first line: a status file left behind by a dead daemon or a
 * hung main loop must never read "running".
 */
#include <errno.h>
#include <stdlib.h>
#include <getopt.h>
#include <signal.h>
#include <stdbool.h>
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

/* The policy in force, where it came from, and the last refusal (docs/policy.md). */
static void print_policy(json_t *p)
{
	if (!p)
		return;
	printf("policy:          %s, %s, serial %lld%s%s, from %s%s\n",
	       json_is_true(json_object_get(p, "signed")) ? "signed" : "unsigned",
	       str(p, "groups")[0] ? str(p, "groups") : "no groups", num(p, "serial"),
	       json_is_true(json_object_get(p, "signed")) ? ", key " : "",
	       json_is_true(json_object_get(p, "signed")) ? str(p, "key_id") : "",
	       str(p, "source"),
	       json_is_true(json_object_get(p, "require_signed")) ? " (require_signed)" : "");
	if (str(p, "note")[0] && strcmp(str(p, "note"), "-"))
		printf("policy note:     %s\n", str(p, "note"));
	if (num(p, "refusals"))
		printf("policy refusals: %lld, last: %s\n", num(p, "refusals"),
		       str(p, "last_refusal"));
	else
		printf("policy refusals: 0\n");
}

/* Seconds since a realtime ns stamp, or -1 for never. */
static double ago_s(long long ns)
{
	if (!ns)
		return -1;
	return ((double)realtime_ns() - (double)ns) / 1e9;
}

static void print_fleet(json_t *f)
{
	json_t *age = json_object_get(f, "oldest_unshipped_age_s");
	double ack = ago_s(num(f, "last_ack_ns")), hb = ago_s(num(f, "last_heartbeat_ns"));
	char age_text[32] = "-";

	if (!json_is_object(f)) {
		printf("fleet:           off (standalone, no fleet.servers)\n");
		return;
	}
	printf("fleet:           %s %s as %s\n", json_is_true(json_object_get(f, "connected"))
		       ? "connected to" : "NOT CONNECTED", json_is_true(json_object_get(f, "connected"))
		       ? str(f, "server") : "", str(f, "host_id"));
	if (json_is_integer(age))
		snprintf(age_text, sizeof(age_text), "%llds old", (long long)json_integer_value(age));
	printf("fleet backlog:   %lld blocks, %lld bytes, oldest unshipped %s\n",
	       num(f, "backlog_blocks"), num(f, "backlog_bytes"), age_text);
	printf("fleet shipped:   %lld blocks, %lld alerts (%lld alerts dropped), last ack %s",
	       num(f, "blocks_shipped"), num(f, "alerts_shipped"), num(f, "alerts_dropped"),
	       str(f, "last_ack"));
	if (ack >= 0)
		printf(" %.0fs ago", ack);
	printf("\n");
	if (hb >= 0)
		printf("fleet heartbeat: %lld sent, last %.0fs ago\n", num(f, "heartbeats_sent"), hb);
	else
		printf("fleet heartbeat: none sent yet\n");
	if (num(f, "deleted_unshipped_blocks"))
		printf("fleet LOST:      retention deleted %lld blocks (%lld records) never shipped\n",
		       num(f, "deleted_unshipped_blocks"), num(f, "deleted_unshipped_records"));
	if (num(f, "unreadable_blocks"))
		printf("fleet SKIPPED:   %lld blocks unreadable in the store (altered? run exfilctl "
		       "verify)\n", num(f, "unreadable_blocks"));
	if (*str(f, "last_error") && strcmp(str(f, "last_error"), "-"))
		printf("fleet error:     %s\n", str(f, "last_error"));
}

/* A busy machine may run a tick late; below this a file is never called stale. */
#define STALE_MIN_MS 2000

struct health {
	bool alive;                  /* the pid exists and is exfilmond */
	double age_s;
	double limit_s;
	char why[256];               /* "" when healthy */
};

/* The pid alone could have been reused by another program since the daemon died. */
static bool is_exfilmond(long long pid)
{
	char path[64], comm[32] = "";
	FILE *f;

	if (pid <= 0 || (kill((pid_t)pid, 0) && errno != EPERM))
		return false;
	snprintf(path, sizeof(path), "/proc/%lld/comm", pid);
	f = fopen(path, "re");
	if (!f)
		return false;
	if (!fgets(comm, sizeof(comm), f))
		comm[0] = '\0';
	fclose(f);
	comm[strcspn(comm, "\n")] = '\0';
	return !strcmp(comm, "exfilmond");
}

static void judge(json_t *o, struct health *h)
{
	long long tick_ms = num(o, "tick_ms");
	long long limit_ms = 3 * (tick_ms > 0 ? tick_ms : 1000);

	if (limit_ms < STALE_MIN_MS)
		limit_ms = STALE_MIN_MS;
	h->age_s = ((double)realtime_ns() - (double)num(o, "updated_ns")) / 1e9;
	h->limit_s = limit_ms / 1000.0;
	h->alive = is_exfilmond(num(o, "pid"));
	h->why[0] = '\0';
	if (!h->alive)
		snprintf(h->why, sizeof(h->why), "daemon pid %lld is gone (or is not exfilmond): "
			 "the status file is left over", num(o, "pid"));
	else if (h->age_s > h->limit_s)
		snprintf(h->why, sizeof(h->why), "status is %.1fs old, more than three ticks "
			 "(%.1fs): the main loop is stuck", h->age_s, h->limit_s);
	else if (h->age_s < -h->limit_s)
		snprintf(h->why, sizeof(h->why), "status is %.1fs in the future: the clock "
			 "was changed", -h->age_s);
	else if (num(o, "programs_attached") <= 0)
		snprintf(h->why, sizeof(h->why), "no sensors attached");
}

static void print_human(json_t *o, const struct health *h)
{
	const char *key;
	json_t *v, *drops = json_object_get(o, "drops");
	long long total_drops = 0;

	if (h->why[0])
		printf("daemon:          NOT HEALTHY: %s\n", h->why);
	printf("daemon:          %s (pid %lld, version %s, status %.1fs old, stale after %.1fs)\n",
	       h->why[0] ? (h->alive ? "stale" : "NOT RUNNING") : "running", num(o, "pid"),
	       str(o, "version"), h->age_s, h->limit_s);
	printf("sensors:         %lld programs attached\n", num(o, "programs_attached"));
	printf("hooks:           %s\n", str(o, "hooks"));
	printf("config:          %s\n", str(o, "config_path"));
	printf("config sha256:   %s\n", str(o, "config_sha256"));
	print_policy(json_object_get(o, "policy"));
	printf("sessions:        %lld tracked, %lld processes, %lld new processes not tracked "
	       "(process table full)\n", num(o, "sessions"), num(o, "processes"),
	       num(o, "processes_refused"));
	printf("events:          %lld records, %lld activity slices, %lld flows live\n",
	       num(o, "records"), num(o, "activities"), num(o, "flows"));
	printf("alerts:          %lld\n", num(o, "alerts"));
	printf("evidence:        next seq %lld, %lld bytes, %lld write errors\n",
	       num(o, "evidence_next_seq"), num(o, "evidence_bytes"), num(o, "evidence_errors"));
	printf("syslog:          %lld messages dropped (collector unreachable, queue full)\n",
	       num(o, "syslog_dropped"));
	printf("metrics:         %s\n", str(o, "metrics_path"));
	printf("lost detail:     %lld gap records covering %lld lost ring records\n",
	       num(o, "gaps"), num(o, "lost_records"));
	json_object_foreach(drops, key, v)
		total_drops += json_integer_value(v);
	printf("drops:           %lld", total_drops);
	json_object_foreach(drops, key, v)
		if (json_integer_value(v))
			printf(" %s=%lld", key, (long long)json_integer_value(v));
	printf("\n");
	print_fleet(json_object_get(o, "fleet"));
}

int ctl_status(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "json", no_argument, NULL, 'j' }, { "file", required_argument, NULL, 'f' },
		{ "help", no_argument, NULL, 'h' }, { 0 },
	};
	const char *path = XM_STATUS_PATH;
	int json = 0, c;
	struct health h;
	json_error_t jerr;
	json_t *o;

	while ((c = getopt_long(argc, argv, "jf:h", opts, NULL)) != -1) {
		switch (c) {
		case 'j': json = 1; break;
		case 'f': path = optarg; break;
		case 'h':
			printf("usage: exfilctl status [--json] [--file STATUS_FILE]\n"
			       "exit 0 healthy; 1 not running, stale (older than three ticks), no "
			       "sensors, or no status file\n");
			return 0;
		default: return 2;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "exfilctl status: unexpected argument '%s'\n", argv[optind]);
		return 2;
	}
	o = json_load_file(path, 0, &jerr);
	if (!o) {
		fprintf(stderr, "exfilctl status: %s: %s (is exfilmond running?)\n", path,
			jerr.text);
		return 1;
	}
	judge(o, &h);
	if (json) {
		json_object_set_new(o, "running", json_boolean(h.alive));
		json_object_set_new(o, "healthy", json_boolean(!h.why[0]));
		json_object_set_new(o, "age_s", json_real(h.age_s));
		json_object_set_new(o, "problem", h.why[0] ? json_string(h.why) : json_null());
		json_dumpf(o, stdout, JSON_COMPACT);
		printf("\n");
	} else {
		print_human(o, &h);
	}
	if (h.why[0])
		fprintf(stderr, "exfilctl status: NOT HEALTHY: %s\n", h.why);
	json_decref(o);
	return h.why[0] ? 1 : 0;
}
