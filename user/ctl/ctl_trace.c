// SPDX-License-Identifier: GPL-2.0-only
/*
 * exfilctl trace: a live view of classified events on this machine, the way opensnoop
 * and filetop are used, so IT can check a config on one workstation before pushing it.
 * It loads its own copy of the sensors; the daemon may run at the same time.
 */
#include <errno.h>
#include <getopt.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "agent/agent.h"
#include "config/config.h"
#include "ctl.h"
#include "model/event_json.h"
#include "common/log.h"
#include "common/loop.h"

struct trace {
	struct agent *agent;
	struct loop *loop;
	int json;
	int all;
	long pid, uid, session;
	uint64_t deadline_ns;
	uint64_t printed;
};

static uint64_t now_mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + ts.tv_nsec;
}

static bool wanted(const struct trace *t, const struct event *ev)
{
	if (!t->all && (ev->kind == EV_EXEC || ev->kind == EV_FORK || ev->kind == EV_EXIT))
		return false;
	if (t->pid >= 0 && ev->pid != (uint32_t)t->pid)
		return false;
	if (t->uid >= 0 && ev->uid != (uint32_t)t->uid && ev->loginuid != (uint32_t)t->uid)
		return false;
	if (t->session >= 0 && ev->session_id != (uint32_t)t->session)
		return false;
	return true;
}

static const char *const act_names[] = {
	[ACT_SOURCE_FILE] = "read", [ACT_SOURCE_NET] = "recv-src", [ACT_EGRESS_NET] = "send-out",
	[ACT_EGRESS_MEDIA] = "to-media", [ACT_EGRESS_SYNC] = "to-sync", [ACT_STAGING] = "staging",
	[ACT_MMAP_SOURCE] = "mmap",
};

static void print_row(struct trace *t, const struct event *ev)
{
	char when[16], sess[16], user[64], object[600], in[24] = "-", out[24] = "-";
	char comm[80], safe_user[260], safe_obj[2400];
	const char *what = event_kind_name(ev->kind);
	time_t secs = ev->ts_ns / 1000000000ULL;
	struct tm tm;

	localtime_r(&secs, &tm);
	strftime(when, sizeof(when), "%H:%M:%S", &tm);
	snprintf(sess, sizeof(sess), ev->session_id == SESSION_NONE ? "-" : "%u", ev->session_id);
	session_user_name(agent_sessions(t->agent), ev->loginuid == LOGINUID_NONE ? ev->uid
										  : ev->loginuid,
			  user, sizeof(user));
	object[0] = '\0';
	switch (ev->kind) {
	case EV_ACTIVITY:
		what = act_names[ev->act.kind];
		snprintf(activity_class(ev->act.kind) == ACT_CLASS_SOURCE ? in : out, sizeof(in),
			 "%llu", (unsigned long long)ev->act.bytes);
		snprintf(object, sizeof(object), "%s%s%s", ev->act.object,
			 ev->act.mount ? " on " : "", ev->act.mount ? ev->act.mount : "");
		break;
	case EV_CONNECT:
		snprintf(object, sizeof(object), "%s %s:%u -> %s:%u (%s)", ev->conn.proto,
			 ev->conn.local_ip, ev->conn.local_port, ev->conn.remote_ip,
			 ev->conn.remote_port, conn_class_name(ev->conn.cls));
		break;
	case EV_GAP:
		snprintf(object, sizeof(object), "lost %llu %s records (%s)",
			 (unsigned long long)ev->gap.count, ev->gap.what, ev->gap.reason);
		break;
	case EV_MMAP:
		snprintf(in, sizeof(in), "%llu", (unsigned long long)ev->len);
		/* fall through */
	default:
		snprintf(object, sizeof(object), "%s%s%s", ev->path ? ev->path : "",
			 ev->args ? " " : "", ev->args ? ev->args : "");
		break;
	}
	printf("%-8s %-9s %7u %-15s %6s %-10s %10s %10s %s\n", when, what, ev->pid,
	       ctl_safe(ev->comm, comm, sizeof(comm)), sess, ctl_safe(user, safe_user,
	       sizeof(safe_user)), in, out, ctl_safe(object, safe_obj, sizeof(safe_obj)));
}

static void on_event(void *ctx, const struct event *ev)
{
	struct trace *t = ctx;
	char *line;

	if (!wanted(t, ev))
		return;
	t->printed++;
	if (!t->json) {
		print_row(t, ev);
		return;
	}
	line = event_json(ev);
	if (line) {
		puts(line);
		free(line);
	}
}

static void on_ring(void *ctx)
{
	struct trace *t = ctx;

	agent_poll_ring(t->agent);
	fflush(stdout);
}

static void on_tick(void *ctx)
{
	struct trace *t = ctx;

	agent_drain(t->agent);
	fflush(stdout);
	if (t->deadline_ns && now_mono_ns() >= t->deadline_ns)
		loop_stop(t->loop);
}

static void on_mounts(void *ctx)
{
	struct trace *t = ctx;

	agent_mounts_changed(t->agent);
}

static void usage(FILE *f)
{
	fprintf(f, "usage: exfilctl trace [-c CONFIG] [--json] [--all] [--pid N] [--uid N]\n"
		   "                      [--user NAME] [--session N] [--interval MS] [--duration S]\n"
		   "  Live view of what the sensors classify: reads of sources, bytes from source\n"
		   "  services, bytes leaving, media and sync-folder writes, connects, gaps.\n"
		   "  --all also shows exec/fork/exit. Byte rows are deltas per --interval (1000).\n");
}

static int parse_args(int argc, char **argv, struct trace *t, const char **cfg_path,
		      long *interval_ms, long *duration_s)
{
	static const struct option opts[] = {
		{ "config", required_argument, NULL, 'c' }, { "json", no_argument, NULL, 'j' },
		{ "all", no_argument, NULL, 'a' }, { "pid", required_argument, NULL, 'p' },
		{ "uid", required_argument, NULL, 'u' }, { "user", required_argument, NULL, 'U' },
		{ "session", required_argument, NULL, 's' },
		{ "interval", required_argument, NULL, 'i' },
		{ "duration", required_argument, NULL, 'd' }, { "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	struct passwd *pw;
	char *end;
	long v;
	int c;

	while ((c = getopt_long(argc, argv, "c:jap:u:U:s:i:d:h", opts, NULL)) != -1) {
		if (c == 'h') {
			usage(stdout);
			exit(0);
		}
		if (c == 'c') {
			*cfg_path = optarg;
			continue;
		}
		if (c == 'j' || c == 'a') {
			*(c == 'j' ? &t->json : &t->all) = 1;
			continue;
		}
		if (c == 'U') {
			pw = getpwnam(optarg);
			if (!pw) {
				fprintf(stderr, "exfilctl trace: --user: no such user '%s'\n", optarg);
				return 2;
			}
			t->uid = pw->pw_uid;
			continue;
		}
		if (c == '?')
			return 2;
		errno = 0;
		v = strtol(optarg, &end, 10);
		if (errno || *end || v < 0) {
			fprintf(stderr, "exfilctl trace: invalid number '%s'\n", optarg);
			return 2;
		}
		switch (c) {
		case 'p': t->pid = v; break;
		case 'u': t->uid = v; break;
		case 's': t->session = v; break;
		case 'i': *interval_ms = v ? v : 1; break;
		case 'd': *duration_s = v; break;
		}
	}
	return 0;
}

static int load_config(const char *path, struct config *cfg)
{
	char *errors = NULL;
	int err = config_load(path, cfg, &errors);

	if (err)
		fprintf(stderr, "%s", errors ? errors : "exfilctl trace: cannot load config\n");
	free(errors);
	return err ? 1 : 0;
}

int ctl_trace(int argc, char **argv)
{
	struct trace t = { .pid = -1, .uid = -1, .session = -1 };
	long interval_ms = 1000, duration_s = 0;
	struct agent_opts ao = { .sink = { on_event, &t } };
	struct loop_ops lo = { on_ring, on_tick, NULL, on_mounts, NULL, &t };
	struct loop_opts lopts = { .mountinfo = "/proc/self/mountinfo" };
	const char *cfg_path = NULL;
	struct config cfg;
	int err;

	log_setup("exfilctl", 1, LOG_LVL_WARN);
	err = parse_args(argc, argv, &t, &cfg_path, &interval_ms, &duration_s);
	if (err)
		return err;
	if (load_config(cfg_path, &cfg))
		return 1;
	ao.cfg = &cfg;
	t.agent = agent_start(&ao);
	if (!t.agent) {
		fprintf(stderr, "exfilctl trace: cannot start sensors: %s\n", strerror(errno));
		config_free(&cfg);
		return 1;
	}
	lopts.ring_fd = agent_ring_fd(t.agent);
	lopts.tick_ms = interval_ms;
	t.loop = loop_new(&lopts, &lo);
	if (!t.loop) {
		err = 1;
		goto out;
	}
	if (duration_s)
		t.deadline_ns = now_mono_ns() + duration_s * 1000000000ULL;
	if (!t.json)
		printf("%-8s %-9s %7s %-15s %6s %-10s %10s %10s %s\n", "TIME", "EVENT", "PID", "COMM",
		       "SESS", "USER", "IN", "OUT", "OBJECT");
	fprintf(stderr, "exfilctl trace: ready (%s)\n", agent_hooks_text(t.agent));
	err = loop_run(t.loop) ? 1 : 0;
out:
	agent_stop(t.agent);
	fflush(stdout);
	loop_free(t.loop);
	config_free(&cfg);
	return err;
}
