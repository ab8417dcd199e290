// SPDX-License-Identifier: GPL-2.0-only
/*
 * Collector throughput and in-process alert latency, on the daemon's real event handling
 * code (build/libexfilmon.a): a synthesized stream shaped like what the agent emits
 * (byte deltas per flow, watched opens, process churn, connects) goes through
 * collector_on_event, which writes evidence (JSON, zlib, SHA-256 chain), feeds detection
 * and writes alerts. Virtual time advances with the stream so windows behave as in a
 * live daemon; wall and CPU time are measured around the loop.
 *
 * usage: collector_bench CONFIG EVENTS TRIALS
 * prints: events_per_s N / cpu_events_per_s N / detect_events_per_s N / alerts N /
 *         alert_p50_us N / alert_p99_us N (one "key value" per line)
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <time.h>

#include "collector.h"
#include "config.h"
#include "detect.h"
#include "event.h"
#include "log.h"

#define SESSIONS 50
#define OBJECTS 1000
#define STEP_NS 1000ULL   /* virtual time between events */

static uint64_t clock_ns(clockid_t id)
{
	struct timespec ts;

	clock_gettime(id, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + ts.tv_nsec;
}

static char paths[OBJECTS][64];

static void fill_identity(struct event *ev, uint64_t i, uint64_t ts)
{
	uint32_t s = i % SESSIONS;

	ev->ts_ns = ts;
	ev->session_id = 100 + s;
	ev->loginuid = 1000 + s;
	ev->uid = 1000 + s;
	ev->pid = 10000 + (i % 4000);
	ev->ppid = 1;
	snprintf(ev->comm, sizeof(ev->comm), "worker%u", s);
}

/* The i-th event of the stream: 40% source reads, 10% egress, 20% opens, 10% exec,
 * 10% fork, 5% exit, 5% connect. */
static void make_event(struct event *ev, uint64_t i, uint64_t ts)
{
	unsigned slot = i % 20;

	memset(ev, 0, sizeof(*ev));
	fill_identity(ev, i, ts);
	if (slot < 8 || slot == 8 || slot == 9) {
		struct activity *a = &ev->act;

		ev->kind = EV_ACTIVITY;
		a->ts_ns = ts;
		a->first_ns = ts - 500000;
		a->session_id = ev->session_id;
		a->loginuid = ev->loginuid;
		a->pid = ev->pid;
		a->uid = ev->uid;
		a->bytes = 4096;
		a->ops = 1;
		a->comm = ev->comm;
		a->object_id = i % OBJECTS;
		if (slot < 8) {
			a->kind = ACT_SOURCE_FILE;
			a->object = paths[i % OBJECTS];
		} else {
			a->kind = ACT_EGRESS_NET;
			a->object = "203.0.113.9:443";
			a->dst_ip = "203.0.113.9";
			a->dst_port = 443;
		}
	} else if (slot < 14) {
		ev->kind = EV_OPEN;
		ev->path = paths[i % OBJECTS];
		ev->watch_flags = 1;
	} else if (slot < 16) {
		ev->kind = EV_EXEC;
		ev->path = "/usr/bin/psql";
		ev->args = "psql -h 127.0.0.2 crm";
	} else if (slot < 18) {
		ev->kind = EV_FORK;
	} else if (slot < 19) {
		ev->kind = EV_EXIT;
	} else {
		ev->kind = EV_CONNECT;
		snprintf(ev->conn.local_ip, sizeof(ev->conn.local_ip), "127.0.0.1");
		snprintf(ev->conn.remote_ip, sizeof(ev->conn.remote_ip), "127.0.0.2");
		ev->conn.local_port = 40000;
		ev->conn.remote_port = 5432;
		ev->conn.proto = "tcp";
		ev->conn.cls = "source";
	}
}

static double cpu_seconds(void)
{
	struct rusage ru;

	getrusage(RUSAGE_SELF, &ru);
	return ru.ru_utime.tv_sec + ru.ru_stime.tv_sec +
	       (ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6;
}

static void throughput(struct collector *c, uint64_t n)
{
	uint64_t start = clock_ns(CLOCK_REALTIME), w0, w1;
	double c0, c1;
	struct event ev;

	w0 = clock_ns(CLOCK_MONOTONIC);
	c0 = cpu_seconds();
	for (uint64_t i = 0; i < n; i++) {
		uint64_t ts = start + i * STEP_NS;

		make_event(&ev, i, ts);
		collector_on_event(c, &ev);
		if (i % 1000000 == 999999)
			collector_tick(c, ts);
	}
	w1 = clock_ns(CLOCK_MONOTONIC);
	c1 = cpu_seconds();
	printf("events_per_s %.0f\n", n / ((w1 - w0) / 1e9));
	printf("cpu_events_per_s %.0f\n", n / (c1 - c0));
	printf("alerts %llu\n", (unsigned long long)collector_alerts(c));
}

static void no_emit(void *ctx, const struct alert *a)
{
	(*(uint64_t *)ctx)++;
}

/* Detection alone: the activity slices of the same stream, no evidence or output. */
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
		make_event(&ev, i, start + i * STEP_NS);
		if (ev.kind == EV_ACTIVITY) {
			detect_feed(d, &ev.act);
			m++;
		}
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

			make_event(&ev, 0, ts += 1000000);
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
	char *errors = NULL;
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
	throughput(c, n);
	alert_latency(c, &cfg, trials);
	collector_free(c);
	detect_only(&cfg, n);
	config_free(&cfg);
	return 0;
}
