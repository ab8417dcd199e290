// SPDX-License-Identifier: GPL-2.0-only
/*
 * Collector throughput and in-process alert latency, on the daemon's real event handling
 * code (build/libexfilmon.a). A recorded-style stream of kernel records goes in where
 * the kernel hands them over: ring records (exec, fork, exit, watched open, connect) through
 * records_handle, the ring callback, and flow counter values through drain_take, what
 * drain_flows calls for each entry it reads from the flow map. From there on everything
 * is the daemon's: decoding, paths from the mount table, the process and session
 * tables, object names, evidence (JSON, compression, SHA-256 chain, fdatasync at each
 * seal), detection and alerts. Only the bpf() syscalls of the map walk are left out
 * (kernel cost, measured in docs/benchmarks.md's drain figures). Virtual time advances
 * with the stream so windows behave as in a live daemon; wall and CPU time are measured
 * around the loop.
 *
 * usage: collector_bench CONFIG EVENTS TRIALS
 * prints: events_per_s N / cpu_events_per_s N / evidence_bytes_per_event N /
 *         alerts N / alert_trials N / alert_p50_us N / alert_p99_us N /
 *         detect_activities_per_s N (one "key value" per line)
 */
#define _GNU_SOURCE
#include <errno.h>
#include <netinet/in.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "agent/agent_int.h"
#include "daemon/collector.h"
#include "config/config.h"
#include "detect/detect.h"
#include "model/event.h"
#include "common/log.h"

#define SESSIONS 50
#define OBJECTS 1000
#define PIDS 4000
#define STEP_NS 1000ULL   /* virtual time between records */
#define DEV ((8u << 20) | 1) /* 8:1, mounted on / in the fixture mountinfo */

static uint64_t clock_ns(clockid_t id)
{
	struct timespec ts;

	clock_gettime(id, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + ts.tv_nsec;
}

/* The recording: one record of each shape per pid or object, stamped as they are fed. */
static struct xm_open opens[OBJECTS];
static struct xm_exec execs[PIDS];
static struct xm_fork forks[PIDS];
static struct xm_exit exits[PIDS];
static struct xm_connect connects[PIDS];
static struct xm_flow_key flow_keys[PIDS];
static struct xm_flow_val flow_vals[PIDS];

static void task_of(struct xm_task *t, uint32_t i)
{
	uint32_t s = i % SESSIONS;

	memset(t, 0, sizeof(*t));
	t->pid = t->tid = 10000 + i;
	t->ppid = 1;
	t->uid = t->loginuid = 1000 + s;
	t->session = 100 + s;
	t->tty_nr = (136u << 20) | s;
	snprintf(t->comm, sizeof(t->comm), "worker%u", s);
}

static void hdr_of(struct xm_hdr *h, uint16_t type, uint32_t size)
{
	h->type = type;
	h->version = XM_ABI_VERSION;
	h->size = size;
}

static void make_recording(void)
{
	for (uint32_t o = 0; o < OBJECTS; o++) {
		struct xm_open *r = &opens[o];

		hdr_of(&r->hdr, XM_REC_OPEN, sizeof(*r));
		task_of(&r->task, o % PIDS);
		r->ino = 500000 + o;
		r->dev = DEV;
		r->flags = XM_W_SOURCE;
		/* The kernel sends the dentry chain leaf first. */
		r->path_len = snprintf(r->path, sizeof(r->path),
				       "customers-%04u.csv/2024/crm-exports/srv/", o);
	}
	for (uint32_t i = 0; i < PIDS; i++) {
		struct xm_connect *c = &connects[i];
		struct xm_flow_key *k = &flow_keys[i];
		struct xm_flow_val *v = &flow_vals[i];
		struct xm_exec *e = &execs[i];
		static const char args[] = "psql\0-h\0127.0.0.2\0crm\0";

		hdr_of(&e->hdr, XM_REC_EXEC, sizeof(*e));
		task_of(&e->task, i);
		e->path_len = snprintf(e->path, sizeof(e->path), "/usr/bin/psql");
		memcpy(e->args, args, sizeof(args));
		e->args_len = sizeof(args) - 1;
		e->argc = 4;
		hdr_of(&forks[i].hdr, XM_REC_FORK, sizeof(forks[i]));
		task_of(&forks[i].task, i);
		hdr_of(&exits[i].hdr, XM_REC_EXIT, sizeof(exits[i]));
		task_of(&exits[i].task, i);
		hdr_of(&c->hdr, XM_REC_CONNECT, sizeof(*c));
		task_of(&c->task, i);
		c->laddr[10] = c->laddr[11] = c->raddr[10] = c->raddr[11] = 0xff;
		memcpy(c->laddr + 12, "\x7f\0\0\x01", 4);
		memcpy(c->raddr + 12, "\x7f\0\0\x02", 4);
		c->lport = 40000 + i % 20000;
		c->rport = 5432;
		c->family = 2;
		c->proto = IPPROTO_TCP;
		c->cls = XM_SOCK_SOURCE;
		/* One flow per process: four in five read a source file, one sends out. */
		k->pid = 10000 + i;
		k->session = 100 + i % SESSIONS;
		if (i % 5 < 4) {
			k->kind = XM_FLOW_FILE_READ;
			k->dev = DEV;
			k->ino = 500000 + i % OBJECTS;
		} else {
			k->kind = XM_FLOW_NET_EGRESS;
			k->addr[10] = k->addr[11] = 0xff;
			memcpy(k->addr + 12, "\xcb\x00\x71\x09", 4); /* 203.0.113.9 */
			k->port = 443;
		}
		v->loginuid = v->uid = 1000 + i % SESSIONS;
		memcpy(v->comm, e->task.comm, sizeof(v->comm));
	}
}

/*
 * The i-th record of the stream, in the proportions of a busy workstation under
 * exfiltration: of every 20, 10 flow deltas (8 source reads, 2 egress), 4 watched opens,
 * 2 execs, 2 forks, 1 exit, 1 connect.
 */
static void feed(struct agent *a, uint64_t i, uint64_t boot_ns)
{
	unsigned slot = i % 20;
	uint32_t p = (uint32_t)(i / 20 * 7 + slot) % PIDS;
	struct xm_hdr *h;

	if (slot < 10) {
		struct xm_flow_val *v = &flow_vals[p];

		if (!v->first_ns)
			v->first_ns = boot_ns;
		v->bytes += 4096 * 16;
		v->ops += 16;
		v->last_ns = boot_ns;
		drain_take(a, &flow_keys[p], v);
		return;
	}
	if (slot < 14)
		h = &opens[(i / 20 * 4 + slot) % OBJECTS].hdr;
	else if (slot < 16)
		h = &execs[p].hdr;
	else if (slot < 18)
		h = &forks[p].hdr;
	else if (slot < 19)
		h = &exits[p].hdr;
	else
		h = &connects[p].hdr;
	h->ts_ns = boot_ns;
	records_handle(a, h, h->size);
}

/* An agent without sensors: what records_handle and drain_take use, over a fixture
 * /proc, passwd and mountinfo under dir. */
static struct agent *bench_agent(const char dir[96], struct collector *c)
{
	struct agent *a = calloc(1, sizeof(*a));
	struct session_sources src = { 0 };
	static char proc[112], utmp[112], logind[112], passwd[112];
	FILE *f;

	if (!a)
		return NULL;
	snprintf(proc, sizeof(proc), "%s/proc", dir);
	snprintf(utmp, sizeof(utmp), "%s/utmp", dir);
	snprintf(logind, sizeof(logind), "%s/sessions", dir);
	snprintf(passwd, sizeof(passwd), "%s/passwd", dir);
	mkdir(proc, 0755);
	mkdir(logind, 0755);
	if (!(f = fopen(utmp, "w")))
		goto fail;
	fclose(f);
	if (!(f = fopen(passwd, "w")))
		goto fail;
	for (int s = 0; s < SESSIONS; s++)
		fprintf(f, "agent%02d:x:%d:%d::/home/agent%02d:/bin/bash\n", s, 1000 + s, 1000 + s, s);
	fclose(f);
	snprintf(a->proc_root, sizeof(a->proc_root), "%s", proc);
	snprintf(a->mountinfo, sizeof(a->mountinfo), "%s/mountinfo", dir);
	if (!(f = fopen(a->mountinfo, "w")))
		goto fail;
	fprintf(f, "25 1 8:1 / / rw,relatime shared:1 - ext4 /dev/sda1 rw\n");
	fclose(f);
	src.proc_root = proc;
	src.utmp_path = utmp;
	src.logind_dir = logind;
	src.passwd_path = passwd;
	a->sessions = session_table_new(&src);
	a->names = objnames_new(65536);
	a->sink.emit = collector_on_event;
	a->sink.ctx = c;
	agent_refresh_clock(a);
	return a;
fail:
	free(a);
	return NULL;
}

static void bench_agent_free(struct agent *a)
{
	session_table_free(a->sessions);
	objnames_free(a->names);
	drain_free(a);
	free(a);
}

/* An activity slice for the detection-only and latency runs. */
static char paths[OBJECTS][64];

static void make_activity(struct event *ev, uint64_t i, uint64_t ts)
{
	struct activity *a = &ev->act;
	uint32_t s = i % SESSIONS;

	memset(ev, 0, sizeof(*ev));
	ev->kind = EV_ACTIVITY;
	ev->ts_ns = a->ts_ns = ts;
	a->first_ns = ts - 500000;
	ev->session_id = a->session_id = 100 + s;
	ev->loginuid = a->loginuid = 1000 + s;
	ev->uid = a->uid = 1000 + s;
	ev->pid = a->pid = 10000 + (i % PIDS);
	snprintf(ev->comm, sizeof(ev->comm), "worker%u", s);
	a->comm = ev->comm;
	a->bytes = 4096;
	a->ops = 1;
	a->object_id = i % OBJECTS;
	if (i % 5 < 4) {
		a->kind = ACT_SOURCE_FILE;
		a->object = paths[i % OBJECTS];
	} else {
		a->kind = ACT_EGRESS_NET;
		a->object = "203.0.113.9:443";
		a->dst_ip = "203.0.113.9";
		a->dst_port = 443;
	}
}

static double cpu_seconds(void)
{
	struct rusage ru;

	getrusage(RUSAGE_SELF, &ru);
	return ru.ru_utime.tv_sec + ru.ru_stime.tv_sec +
	       (ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6;
}

static uint64_t dir_bytes(const char *dir)
{
	char cmd[512], out[64] = "0";
	FILE *f;

	snprintf(cmd, sizeof(cmd), "du -sb '%s' 2>/dev/null", dir);
	f = popen(cmd, "r");
	if (f) {
		if (!fgets(out, sizeof(out), f))
			out[0] = '0';
		pclose(f);
	}
	return strtoull(out, NULL, 10);
}

static void throughput(struct collector *c, struct agent *a, const struct config *cfg,
		       uint64_t n)
{
	struct timespec bt;
	uint64_t boot, w0, w1, ev0;
	double c0, c1;

	clock_gettime(CLOCK_BOOTTIME, &bt);
	boot = (uint64_t)bt.tv_sec * 1000000000ULL + bt.tv_nsec;
	/* What a running daemon already knows: every watched file opened once, every
	 * process exec'd once (names and executables resolve from memory). */
	for (uint32_t o = 0; o < OBJECTS; o++) {
		opens[o].hdr.ts_ns = boot;
		records_handle(a, &opens[o], sizeof(opens[o]));
	}
	for (uint32_t p = 0; p < PIDS; p++) {
		execs[p].hdr.ts_ns = boot;
		records_handle(a, &execs[p], sizeof(execs[p]));
	}
	collector_tick(c, boot + a->boot_to_real_ns);
	ev0 = dir_bytes(cfg->evidence_dir);
	w0 = clock_ns(CLOCK_MONOTONIC);
	c0 = cpu_seconds();
	for (uint64_t i = 0; i < n; i++) {
		uint64_t ts = boot + i * STEP_NS;

		feed(a, i, ts);
		/* The daemon's tick: every second of virtual time. */
		if (i % 1000000 == 999999)
			collector_tick(c, ts + a->boot_to_real_ns);
	}
	w1 = clock_ns(CLOCK_MONOTONIC);
	c1 = cpu_seconds();
	printf("events_per_s %.0f\n", n / ((w1 - w0) / 1e9));
	printf("cpu_events_per_s %.0f\n", n / (c1 - c0));
	printf("evidence_bytes_per_event %.1f\n", (double)(dir_bytes(cfg->evidence_dir) - ev0) / n);
	printf("alerts %llu\n", (unsigned long long)collector_alerts(c));
}

static void no_emit(void *ctx, const struct alert *a)
{
	(*(uint64_t *)ctx)++;
}

/* Detection alone: activity slices like the stream's, no evidence or output. */
static void detect_only(const struct config *cfg, uint64_t n)
{
	uint64_t alerts = 0, start = clock_ns(CLOCK_REALTIME), w0, m = 0;
	struct detect_ops ops = { .emit = no_emit, .ctx = &alerts };
	struct detect *d = detect_new(&cfg->detect, &ops, NULL);
	struct event ev;

	if (!d)
		return;
	w0 = clock_ns(CLOCK_MONOTONIC);
	for (uint64_t i = 0; i < n; i++) {
		make_activity(&ev, i, start + i * STEP_NS);
		detect_feed(d, &ev.act);
		m++;
	}
	printf("detect_activities_per_s %.0f\n", m / ((clock_ns(CLOCK_MONOTONIC) - w0) / 1e9));
	detect_free(d);
}

static off_t file_size(const char *path)
{
	struct stat st;

	return stat(path, &st) ? 0 : st.st_size;
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

/*
 * For each trial a fresh session reads a source in 1 MiB slices until it crosses
 * bulk_read; the time is taken from entering collector_on_event with the crossing slice
 * to the alerts file having grown (the line is written and fdatasync'd inside the call).
 */
static void alert_latency(struct collector *c, const struct config *cfg, int trials)
{
	uint64_t *lat = calloc(trials, sizeof(*lat)), ts = clock_ns(CLOCK_REALTIME);
	uint64_t slice = 1 << 20;
	int done = 0;
	struct event ev;

	if (!lat || !cfg->alerts_path)
		return;
	for (int t = 0; t < trials; t++) {
		uint64_t sent = 0;

		for (int k = 0; sent <= cfg->detect.bulk_read_bytes && k < 100000; k++) {
			off_t before = file_size(cfg->alerts_path);
			uint64_t t0;

			make_activity(&ev, 0, ts += 1000000);
			ev.session_id = ev.act.session_id = 5000 + t;
			ev.loginuid = ev.act.loginuid = 5000 + t;
			ev.act.bytes = slice;
			t0 = clock_ns(CLOCK_MONOTONIC);
			collector_on_event(c, &ev);
			sent += slice;
			if (file_size(cfg->alerts_path) > before) {
				lat[done++] = clock_ns(CLOCK_MONOTONIC) - t0;
				break;
			}
		}
	}
	if (!done) {
		printf("alert_trials 0\n");
		free(lat);
		return;
	}
	qsort(lat, done, sizeof(*lat), cmp_u64);
	printf("alert_trials %d\n", done);
	printf("alert_p50_us %.1f\n", lat[done / 2] / 1e3);
	printf("alert_p99_us %.1f\n", lat[(done * 99) / 100 < done ? (done * 99) / 100 : done - 1] / 1e3);
	free(lat);
}

int main(int argc, char **argv)
{
	struct config cfg;
	struct collector *c;
	struct agent *a;
	char *errors = NULL, fixture[96];
	uint64_t n;
	int trials, err;

	if (argc < 4) {
		fprintf(stderr, "usage: collector_bench CONFIG EVENTS TRIALS\n");
		return 2;
	}
	n = strtoull(argv[2], NULL, 10);
	trials = atoi(argv[3]);
	log_setup("collector_bench", 1, LOG_LVL_ERROR);
	err = config_load(argv[1], &cfg, &errors);
	if (err) {
		fprintf(stderr, "%s", errors ? errors : strerror(-err));
		return 1;
	}
	for (int i = 0; i < OBJECTS; i++)
		snprintf(paths[i], sizeof(paths[i]), "/srv/crm-exports/2024/customers-%04d.csv", i);
	c = collector_new(&cfg, NULL);
	if (!c) {
		fprintf(stderr, "collector_bench: collector_new: %s\n", strerror(errno));
		return 1;
	}
	snprintf(fixture, sizeof(fixture), "%s/bench-fixture", cfg.state_dir ? cfg.state_dir : "/tmp");
	mkdir(fixture, 0700);
	a = bench_agent(fixture, c);
	if (!a || !a->sessions || !a->names) {
		fprintf(stderr, "collector_bench: agent: %s\n", strerror(errno));
		return 1;
	}
	make_recording();
	collector_set_agent(c, a);
	throughput(c, a, &cfg, n);
	alert_latency(c, &cfg, trials);
	collector_free(c);
	bench_agent_free(a);
	detect_only(&cfg, n);
	config_free(&cfg);
	return 0;
}
