// SPDX-License-Identifier: GPL-2.0-only
/*
 * exfilmon-central: pulls the fleet's evidence blocks, heartbeats and alerts from a
 * durable JetStream consumer, stores them in PostgreSQL (central_ingest.c) and runs the
 * fleet-wide detections (central_detect.c). Any number of instances may share the
 * consumer. This file parses options, connects, and runs the loop.
 */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <time.h>
#include <unistd.h>

#include <nats/nats.h>

#include "central_alert.h"
#include "central_config.h"
#include "central_db.h"
#include "central_detect.h"
#include "central_ingest.h"
#include "central_policy.h"
#include "common/log.h"

#define MS 1000000ULL
#define RETENTION_EVERY_NS (3600ULL * 1000 * MS)
#define STATS_EVERY_NS (10ULL * 1000 * MS)

struct central {
	struct central_config cfg;
	natsConnection *nc;
	jsCtx *js;
	natsSubscription *sub;
	PGconn *db;
	struct alert_sink *sink;
	struct ingest *in;
	struct policy_watch *pw;
	int sigfd;
	uint64_t next_detect, next_retention, next_stats;
};

static const char usage[] =
	"usage: exfilmon-central -c CONFIG [--check-config] [--foreground] [--once]\n"
	"  -c, --config FILE   central.yaml (docs/central.md)\n"
	"  --check-config      validate the configuration and exit\n"
	"  -f, --foreground    log to stderr\n";

static uint64_t mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 * MS + (uint64_t)ts.tv_nsec;
}

static bool stop_requested(struct central *c)
{
	struct signalfd_siginfo si;

	return read(c->sigfd, &si, sizeof(si)) == (ssize_t)sizeof(si);
}

static void on_reconnected(natsConnection *nc, void *closure)
{
	policy_watch_rewatch(closure);
}

static int nats_open(struct central *c)
{
	const struct central_config *cfg = &c->cfg;
	natsOptions *o = NULL;
	jsSubOptions so;
	jsErrCode jerr = 0;
	natsStatus s;

	s = natsOptions_Create(&o);
	if (s == NATS_OK)
		s = natsOptions_SetServers(o, (const char **)cfg->servers, (int)cfg->n_servers);
	if (s == NATS_OK)
		s = natsOptions_SetMaxReconnect(o, -1);
	if (s == NATS_OK)
		s = natsOptions_SetReconnectWait(o, 250);
	if (s == NATS_OK)
		s = natsOptions_SetReconnectedCB(o, on_reconnected, c->pw);
	if (s == NATS_OK && *cfg->creds)
		s = natsOptions_SetUserCredentialsFromFiles(o, cfg->creds, NULL);
	if (s == NATS_OK && *cfg->tls_ca)
		s = natsOptions_LoadCATrustedCertificates(o, cfg->tls_ca);
	if (s == NATS_OK)
		s = natsConnection_Connect(&c->nc, o);
	natsOptions_Destroy(o);
	if (s == NATS_OK)
		s = natsConnection_JetStream(&c->js, c->nc, NULL);
	if (s == NATS_OK) {
		jsSubOptions_Init(&so);
		so.Stream = cfg->stream;
		so.Config.Durable = cfg->consumer;
		so.Config.AckPolicy = js_AckExplicit;
		so.Config.AckWait = (int64_t)cfg->ack_wait_ns;
		so.Config.MaxAckPending = (int64_t)cfg->max_ack_pending;
		s = js_PullSubscribe(&c->sub, c->js, "exfilmon.>", cfg->consumer, NULL, &so, &jerr);
	}
	if (s != NATS_OK) {
		log_error("nats: %s: %s (jetstream error %d)", cfg->servers[0], natsStatus_GetText(s),
			  (int)jerr);
		return -EIO;
	}
	log_info("nats: consuming %s as %s", cfg->stream, cfg->consumer);
	return 0;
}

static void nats_close(struct central *c)
{
	if (c->sub)
		natsSubscription_Destroy(c->sub);
	if (c->js)
		jsCtx_Destroy(c->js);
	if (c->nc)
		natsConnection_Destroy(c->nc);
	c->sub = NULL;
	c->js = NULL;
	c->nc = NULL;
}

/* Connects to PostgreSQL, retrying every half second until it answers or a signal
 * asks to stop. */
static int db_open(struct central *c, bool migrate)
{
	for (;;) {
		if ((c->db = db_connect(c->cfg.conninfo, "exfilmon-central"))) {
			if ((!migrate || !db_migrate(c->db)) && !ingest_prepare(c->in, c->db))
				return 0;
			PQfinish(c->db);
			c->db = NULL;
		}
		if (stop_requested(c))
			return -EINTR;
		usleep(500000);
	}
}

static void settle(natsMsgList *l, bool ok)
{
	for (int i = 0; i < l->Count; i++) {
		if (ok)
			natsMsg_Ack(l->Msgs[i], NULL);
		else
			natsMsg_NakWithDelay(l->Msgs[i], 1000, NULL);
	}
}

/* A pull whose transaction failed with the database still there: each message alone,
 * so that one message PostgreSQL refuses (logged each time it comes back) does not
 * hold up the others. */
static void one_by_one(struct central *c, natsMsgList *l, const struct ingest_msg *m)
{
	for (int i = 0; i < l->Count; i++) {
		if (!db_broken(c->db) && !ingest_batch(c->in, c->db, &m[i], 1)) {
			natsMsg_Ack(l->Msgs[i], NULL);
			continue;
		}
		log_error("ingest: message on %s refused; it will be redelivered", m[i].subject);
		ingest_forget_partitions(c->in);
		natsMsg_NakWithDelay(l->Msgs[i], 1000, NULL);
	}
}

/* One pull: stores the messages, then acks them, or naks them all when the
 * transaction failed (they come back; the keys drop what was stored before). */
static int pull_once(struct central *c)
{
	struct ingest_msg m[10000];
	natsMsgList l = { 0 };
	jsErrCode jerr = 0;
	natsStatus s = natsSubscription_Fetch(&l, c->sub, (int)c->cfg.fetch_batch, 1000, &jerr);
	int err;

	if (s == NATS_TIMEOUT)
		return 0;
	if (s != NATS_OK) {
		log_warn("nats: fetch: %s", natsStatus_GetText(s));
		usleep(200000);
		return 0;
	}
	for (int i = 0; i < l.Count; i++) {
		natsMsg *msg = l.Msgs[i];

		m[i].subject = natsMsg_GetSubject(msg);
		m[i].data = (const unsigned char *)natsMsg_GetData(msg);
		m[i].len = (size_t)natsMsg_GetDataLength(msg);
		if (natsMsgHeader_Get(msg, "Exfilmon-Segment", &m[i].segment) != NATS_OK)
			m[i].segment = NULL;
	}
	err = ingest_batch(c->in, c->db, m, (size_t)l.Count);
	if (err)
		ingest_forget_partitions(c->in);
	if (!err || db_broken(c->db))
		settle(&l, !err);
	else
		one_by_one(c, &l, m);
	natsMsgList_Destroy(&l);
	if (err)
		usleep(200000);
	return 0;
}

/* After any failed statement: when the connection is gone, connect again (the
 * transaction in flight was rolled back by the server; its messages were nak'ed). */
static int db_check(struct central *c)
{
	if (!db_broken(c->db))
		return 0;
	log_warn("db: connection lost; reconnecting");
	PQfinish(c->db);
	c->db = NULL;
	if (db_open(c, false))
		return -EINTR;
	log_info("db: reconnected");
	return 0;
}

static void periodic(struct central *c)
{
	uint64_t now = mono_ns();
	const struct ingest_stats *st;

	if (now >= c->next_detect) {
		ingest_resolve_gaps(c->in, c->db);
		detect_run(&c->cfg, c->db, c->sink);
		c->next_detect = mono_ns();
		log_debug("detect: pass took %.1f ms", (double)(c->next_detect - now) / 1e6);
		c->next_detect += c->cfg.detect_interval_ns;
	}
	if (now >= c->next_retention && c->cfg.retention_days) {
		char d[32];
		const char *p[1] = { d };
		PGresult *r;

		sprintf(d, "%llu", (unsigned long long)c->cfg.retention_days);
		if ((r = db_query(c->db, "SELECT exfilmon_retention($1::int)", 1, p))) {
			if (atoi(PQgetvalue(r, 0, 0)))
				log_info("retention: dropped %s day partitions", PQgetvalue(r, 0, 0));
			PQclear(r);
		}
		ingest_forget_partitions(c->in);
		c->next_retention = now + RETENTION_EVERY_NS;
	}
	if (now >= c->next_stats) {
		st = ingest_stats(c->in);
		log_info("ingest: blocks %llu records %llu duplicates %llu parked %llu heartbeats %llu"
			 " alerts %llu rejected %llu", (unsigned long long)st->blocks,
			 (unsigned long long)st->records, (unsigned long long)st->duplicates,
			 (unsigned long long)st->pending, (unsigned long long)st->heartbeats,
			 (unsigned long long)st->alerts, (unsigned long long)st->rejected);
		c->next_stats = now + STATS_EVERY_NS;
	}
}

/* policy.trusted must be a directory of good keys: a central that trusts nothing would
 * believe no push and call every host's config unknown. */
static int check_trusted(const char *path, const char *dir)
{
	char *errors = NULL;
	size_t keys = 0;
	int err = policy_trust_check(dir, &errors, &keys);

	if (errors)
		fprintf(stderr, "%s: %s", path, errors);
	free(errors);
	if (!err && *dir && !keys)
		fprintf(stderr, "%s: policy.trusted: %s holds no *.pub key: no push will be believed\n",
			path, dir);
	return err;
}

static int load_config(const char *path, struct central_config *cfg)
{
	char *errors = NULL;
	enum log_level lvl;
	int err;

	if (central_config_defaults(cfg))
		return -ENOMEM;
	err = central_config_load(path, cfg, &errors);
	if (!err && cfg->gap_timeout_ns < 2 * cfg->ack_wait_ns) {
		/* A block whose predecessor was delivered to an instance that died comes back
		 * after ack_wait; declaring the gap sooner would call a redelivery a gap. */
		fprintf(stderr, "%s: detect.gap_timeout: must be at least twice nats.ack_wait\n", path);
		err = -EINVAL;
	}
	if (!err && log_parse_level(cfg->log_level, &lvl)) {
		fprintf(stderr, "%s: log.level: '%s' is not error, warn, info or debug\n", path,
			cfg->log_level);
		err = -EINVAL;
	}
	if (errors)
		fputs(errors, stderr);
	free(errors);
	if (!err)
		err = check_trusted(path, cfg->trusted_dir);
	if (!err)
		log_set_level(lvl);
	return err;
}

static int setup_signals(void)
{
	sigset_t set;

	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigprocmask(SIG_BLOCK, &set, NULL);
	signal(SIGPIPE, SIG_IGN);
	return signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC);
}

static int run(struct central *c)
{
	int err;

	if (!(c->sink = alert_sink_open(c->cfg.alerts_path, c->cfg.syslog))) {
		log_error("central: %s: %s", c->cfg.alerts_path, strerror(errno));
		return 1;
	}
	if (!(c->in = ingest_new(&c->cfg, c->sink)) || !(c->pw = policy_watch_new(c->cfg.trusted_dir)))
		return 1;
	if (db_open(c, true))
		return 1;
	if (nats_open(c))
		return 1;
	log_info("central: running");
	while (!stop_requested(c)) {
		if ((err = db_check(c)) || (err = pull_once(c)) || (err = db_check(c)))
			break;
		if ((err = policy_watch_poll(c->pw, c->nc, c->db)) && (err = db_check(c)))
			break;
		periodic(c);
	}
	log_info("central: stopping");
	return 0;
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "config", required_argument, NULL, 'c' }, { "check-config", no_argument, NULL, 'k' },
		{ "foreground", no_argument, NULL, 'f' }, { "help", no_argument, NULL, 'h' }, { 0 } };
	struct central c = { .sigfd = -1 };
	const char *path = NULL;
	bool check = false, fg = false;
	int o, ret;

	while ((o = getopt_long(argc, argv, "c:fh", opts, NULL)) != -1) {
		switch (o) {
		case 'c': path = optarg; break;
		case 'k': check = true; break;
		case 'f': fg = true; break;
		case 'h': fputs(usage, stdout); return 0;
		default: fputs(usage, stderr); return 2;
		}
	}
	if (!path || optind != argc) {
		fputs(usage, stderr);
		return 2;
	}
	log_setup("exfilmon-central", fg ? 1 : -1, LOG_LVL_INFO);
	if (load_config(path, &c.cfg))
		return 1;
	if (check) {
		printf("%s: configuration OK\n", path);
		central_config_free(&c.cfg);
		return 0;
	}
	c.sigfd = setup_signals();
	ret = run(&c);
	nats_close(&c);
	PQfinish(c.db);
	ingest_free(c.in);
	policy_watch_free(c.pw);
	alert_sink_close(c.sink);
	central_config_free(&c.cfg);
	close(c.sigfd);
	nats_Close();
	return ret;
}
