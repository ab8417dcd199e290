// SPDX-License-Identifier: GPL-2.0-only
/*
 * fleet_sim: synthetic workstations for exfilmon-central's tests and benchmarks. Their
 * evidence is written by the real evidence writer (user/evidence/evidence_store.c)
 * into temporary stores, so blocks and chains are real; they are then published
 * through JetStream exactly as docs/fleet.md's wire format says (block bytes as on
 * disk, Nats-Msg-Id HOST:SEGMENT:BLOCK, heartbeats, alerts).
 *
 * usage:
 *   fleet_sim mkstream --server URL [--replicas N]
 *   fleet_sim write DIR --user NAME --uid N --session N [--source-bytes N]
 *                 [--egress-bytes N] [--dst IP:PORT] [--records N] [--ts NS]
 *                 [--block-bytes N] [--source OBJ] [--host-name NAME] [--hostile]
 *   fleet_sim publish DIR --server URL --host H [--from N] [--to N] [--tamper-link N]
 *                 [--replay N]  (after the others, block N again as the block after the
 *                                store's last, chained to it: old records, new place)
 *                 [--every-ms N]
 *   fleet_sim heartbeat DIR --server URL --host H [--seq N] [--start-id HEX]
 *                 [--interval S] [--clean] [--config-sha HEX] [--group G]
 *                 [--chain-hash HEX] [--deleted B:R:F:L] [--count N] [--every-ms N]
 *                 [--policy SERIAL:SHA256]  (the policy in force; default null)
 *   fleet_sim alert --server URL --host H --json LINE
 *   fleet_sim count DIR          (prints "BLOCKS RECORDS HEAD_BLOCK HEAD_HASH")
 *   fleet_sim fleet DIR --server URL --hosts N --days N --records-per-day N
 *                 (the scale benchmark: writes and publishes N hosts' stores)
 */
#include <errno.h>
#include <getopt.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <nats/nats.h>

#include "evidence/evidence.h"
#include "common/hash.h"
#include "evidence/evidence_format.h"

#define SEC 1000000000ULL

struct opts {
	const char *dir, *server, *host, *user, *dst, *source, *start_id, *config_sha, *group, *policy;
	const char *chain_hash, *deleted, *json, *host_name;
	unsigned long long uid, session, source_bytes, egress_bytes, records, ts, block_bytes;
	unsigned long long from, to, tamper, replay, seq, interval, count, every_ms, replicas;
	unsigned long long hosts, days, per_day;
	bool clean, hostile;
};

static void die(const char *what)
{
	fprintf(stderr, "fleet_sim: %s\n", what);
	exit(1);
}

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * SEC + (uint64_t)ts.tv_nsec;
}

/* ---- writing a store ---- */

static struct evidence *ev;

static void put(const char *type, uint64_t ts, const char *json)
{
	if (evidence_append(ev, type, ts, json, strlen(json), NULL))
		die("evidence_append failed");
}

static void activity(const struct opts *o, uint64_t ts, const char *comm, const char *kind,
		     const char *object, unsigned long long bytes)
{
	char json[1024], dst[128] = "";
	const char *colon = strrchr(object, ':');

	if (!strcmp(kind, "egress_net") && colon)
		snprintf(dst, sizeof(dst), ",\"dst_ip\":\"%.*s\",\"dst_port\":%s",
			 (int)(colon - object), object, colon + 1);
	snprintf(json, sizeof(json),
		 "{\"session_id\":%llu,\"loginuid\":%llu,\"uid\":%llu,\"pid\":%llu,\"comm\":\"%s\","
		 "\"exe\":\"/usr/bin/%s\",\"kind\":\"%s\",\"object\":\"%s\",\"bytes\":%llu,"
		 "\"ops\":4,\"first_ns\":%llu,\"last_ns\":%llu%s}",
		 o->session, o->uid, o->uid, 4000 + o->session, comm, comm, kind, object, bytes,
		 (unsigned long long)ts - 1000, (unsigned long long)ts, dst);
	put("activity", ts, json);
}

/* One workstation's day: agent start, a login, reads from a source in many records,
 * an upload to dst, logout, agent stop. */
static void write_story(const struct opts *o)
{
	uint64_t t = o->ts ? o->ts : now_ns() - 60 * SEC;
	unsigned long long n = o->records ? o->records : 10, left = o->source_bytes;
	char json[1024];

	snprintf(json, sizeof(json), "{\"event\":\"start\",\"host\":\"%s\",\"version\":\"0.1.0\","
		 "\"hooks\":\"fexit\",\"config_sha256\":\"%s\"}", o->host_name,
		 o->config_sha ? o->config_sha : "c0ffee");
	put("agent", t, json);
	snprintf(json, sizeof(json), "{\"session_id\":%llu,\"loginuid\":%llu,\"uid\":%llu,"
		 "\"user\":\"%s\",\"tty\":\"pts/1\",\"remote_host\":\"10.9.8.%llu\","
		 "\"display\":null,\"login_ns\":%llu}", o->session, o->uid, o->uid, o->user,
		 o->session % 250, (unsigned long long)t + 1000000);
	put("session", t + 1000000, json);
	snprintf(json, sizeof(json), "{\"event\":\"exec\",\"pid\":%llu,\"ppid\":1,\"session_id\":%llu,"
		 "\"loginuid\":%llu,\"uid\":%llu,\"comm\":\"psql\",\"exe\":\"/usr/bin/psql\","
		 "\"args\":\"psql -h 10.20.0.5 crm\"}", 4000 + o->session, o->session, o->uid, o->uid);
	put("process", t + 2000000, json);
	for (unsigned long long i = 0; i < n; i++) {
		unsigned long long b = i + 1 == n ? left : o->source_bytes / n;

		activity(o, t + 3000000 + i * 1000000, "psql", "source_net",
			 o->source ? o->source : "10.20.0.5:5432", b);
		left -= b;
	}
	if (o->egress_bytes)
		activity(o, t + 4000000 + n * 1000000, "curl", "egress_net", o->dst, o->egress_bytes);
	if (o->hostile) {
		/* What a hostile process name or argument can put into a record: a NUL escape
		 * (valid JSON, refused by PostgreSQL's jsonb and text), bytes that are not
		 * UTF-8, a terminal escape, and a record that is not JSON at all. */
		snprintf(json, sizeof(json), "{\"event\":\"exec\",\"pid\":9,\"ppid\":1,\"session_id\":%llu,"
			 "\"comm\":\"x\\u001b[2J\",\"args\":\"\\u001b]0;owned\\u0007\\tx\\\\y\"}",
			 o->session);
		put("process", t + 4400000 + n * 1000000, json);
		snprintf(json, sizeof(json), "{\"event\":\"exec\",\"pid\":9,\"session_id\":%llu,"
			 "\"comm\":\"a\\u0000b\"}", o->session);
		put("process", t + 4500000 + n * 1000000, json);
		snprintf(json, sizeof(json), "{\"event\":\"exec\",\"session_id\":%llu,\"comm\":\"\xff\xfe\"}",
			 o->session);
		put("process", t + 4600000 + n * 1000000, json);
		put("process", t + 4700000 + n * 1000000, "not json\tat all\n\\N");
	}
	snprintf(json, sizeof(json), "{\"event\":\"exit\",\"pid\":%llu,\"session_id\":%llu,"
		 "\"comm\":\"psql\"}", 4000 + o->session, o->session);
	put("process", t + 5000000 + n * 1000000, json);
	put("agent", t + 6000000 + n * 1000000, "{\"event\":\"stop\"}");
}

static int cmd_write(const struct opts *o)
{
	struct evidence_opts eo = { .dir = o->dir, .segment_bytes = 64 << 10,
				    .block_bytes = o->block_bytes ? o->block_bytes : 4096 };

	if (!o->user || !o->uid || !o->session)
		die("write: give --user, --uid and --session");
	if (o->egress_bytes && !o->dst)
		die("write: --egress-bytes needs --dst");
	if (!(ev = evidence_open(&eo)))
		die("write: cannot open the store");
	write_story(o);
	evidence_close(ev);
	return 0;
}

/* ---- reading blocks back ---- */

struct blk {
	char segment[17];
	unsigned char *data;          /* header and payload */
	size_t len;
	struct ev_block_hdr h;
};

typedef int (*blk_fn)(void *ctx, struct blk *b);

static int each_block(const char *dir, blk_fn fn, void *ctx)
{
	char **names, path[4096];
	size_t n;
	int err = ev_list_segments(dir, &names, &n);

	if (err)
		return err;
	for (size_t i = 0; !err && i < n; i++) {
		FILE *f;
		struct blk b;

		snprintf(path, sizeof(path), "%s/%s", dir, names[i]);
		snprintf(b.segment, sizeof(b.segment), "%.16s", names[i] + 4);
		if (!(f = fopen(path, "r")))
			return -errno;
		while (!err && fread(&b.h, sizeof(b.h), 1, f) == 1) {
			if (!ev_hdr_plausible(&b.h))
				die("store holds a block that is not plausible");
			b.len = sizeof(b.h) + b.h.comp_len;
			if (!(b.data = malloc(b.len)))
				die("out of memory");
			memcpy(b.data, &b.h, sizeof(b.h));
			if (fread(b.data + sizeof(b.h), 1, b.h.comp_len, f) != b.h.comp_len)
				die("short block");
			err = fn(ctx, &b);
			free(b.data);
		}
		fclose(f);
	}
	ev_free_names(names, n);
	return err;
}

struct counts {
	unsigned long long blocks, records, head_block;
	char head[65];
};

static int count_one(void *ctx, struct blk *b)
{
	struct counts *c = ctx;

	c->blocks++;
	c->records += b->h.n_records;
	c->head_block = b->h.block_no;
	hex_encode(b->h.hash, 32, c->head);
	return 0;
}

static int cmd_count(const struct opts *o)
{
	struct counts c = { 0 };

	if (each_block(o->dir, count_one, &c))
		die("count: cannot read the store");
	printf("%llu %llu %llu %s\n", c.blocks, c.records, c.head_block, c.head);
	return 0;
}

/* ---- publishing ---- */

static natsConnection *nc;
static jsCtx *js;

static void connect_js(const char *server)
{
	if (natsConnection_ConnectTo(&nc, server) != NATS_OK ||
	    natsConnection_JetStream(&js, nc, NULL) != NATS_OK)
		die("cannot connect to the NATS server");
}

static void publish(const char *subject, const char *msg_id, const void *data, size_t len,
		    const char *segment, const char *host)
{
	natsMsg *m = NULL;
	jsPubAck *pa = NULL;
	jsErrCode jerr = 0;
	natsStatus s;

	if (natsMsg_Create(&m, subject, NULL, data, (int)len) != NATS_OK)
		die("natsMsg_Create");
	natsMsgHeader_Set(m, "Nats-Msg-Id", msg_id);
	natsMsgHeader_Set(m, "Exfilmon-Host", host);
	if (segment)
		natsMsgHeader_Set(m, "Exfilmon-Segment", segment);
	/* The wire format's publisher: the next message only after this one's ack. */
	for (int tries = 0; (s = js_PublishMsg(&pa, js, m, NULL, &jerr)) != NATS_OK; tries++) {
		if (tries == 50) {
			fprintf(stderr, "fleet_sim: publish %s: %s\n", msg_id, natsStatus_GetText(s));
			exit(1);
		}
		usleep(100000);
	}
	jsPubAck_Destroy(pa);
	natsMsg_Destroy(m);
}

struct pub {
	const struct opts *o;
	unsigned long long n;
	struct ev_block_hdr last;     /* the store's last block so far */
	unsigned char *replay;        /* a copy of block --replay */
	size_t replay_len;
	char replay_segment[32];
};

/* Recomputes a block's own hash after its header was changed, as a forger would. */
static void rehash(unsigned char *data)
{
	struct ev_block_hdr *h = (struct ev_block_hdr *)data;
	struct ev_session_set ss;
	unsigned char *raw = NULL;
	size_t cap = 0, raw_len;

	if (ev_block_inflate(h, data + sizeof(*h), &raw, &cap, &raw_len, &ss))
		die("forging: block does not inflate");
	free(raw);
	ev_block_hash(h, data + sizeof(*h), &ss, h->hash);
}

static int publish_one(void *ctx, struct blk *b)
{
	struct pub *p = ctx;
	const struct opts *o = p->o;
	char subject[128], id[160];

	p->last = b->h;
	if (b->h.block_no == o->replay && !p->replay) {
		if (!(p->replay = malloc(b->len)))
			die("out of memory");
		memcpy(p->replay, b->data, b->len);
		p->replay_len = b->len;
		snprintf(p->replay_segment, sizeof(p->replay_segment), "%s", b->segment);
	}
	if (b->h.block_no < o->from || (o->to != ~0ULL && b->h.block_no > o->to))
		return 0;
	if (o->tamper != ~0ULL && b->h.block_no == o->tamper) {
		/* A forged block that is consistent in itself but does not continue the
		 * chain: a different predecessor hash, its own hash recomputed. */
		struct ev_block_hdr *h = (struct ev_block_hdr *)b->data;

		h->prev_hash[0] ^= 0xff;
		rehash(b->data);
	}
	snprintf(subject, sizeof(subject), "exfilmon.evidence.%s", o->host);
	/* A forger republishing a block needs its own message id: the stream's duplicate
	 * window would drop one that reuses the original's (and keep the original). */
	snprintf(id, sizeof(id), "%s:%s:%llu%s", o->host, b->segment, (unsigned long long)b->h.block_no,
		 o->tamper == b->h.block_no ? ":forged" : "");
	publish(subject, id, b->data, b->len, b->segment, o->host);
	p->n++;
	if (o->every_ms)
		usleep((useconds_t)o->every_ms * 1000);
	return 0;
}

static int cmd_publish(const struct opts *o)
{
	struct pub p = { .o = o };

	connect_js(o->server);
	if (each_block(o->dir, publish_one, &p))
		die("publish: cannot read the store");
	if (o->replay != ~0ULL) {
		/* Records already sent, in a block that continues the chain correctly. */
		struct ev_block_hdr *h = (struct ev_block_hdr *)p.replay;
		char subject[128], id[160];

		if (!h)
			die("replay: no such block");
		h->block_no = p.last.block_no + 1;
		memcpy(h->prev_hash, p.last.hash, sizeof(h->prev_hash));
		rehash(p.replay);
		snprintf(subject, sizeof(subject), "exfilmon.evidence.%s", o->host);
		snprintf(id, sizeof(id), "%s:%s:%llu:replay", o->host, p.replay_segment,
			 (unsigned long long)h->block_no);
		publish(subject, id, p.replay, p.replay_len, p.replay_segment, o->host);
		free(p.replay);
		p.n++;
	}
	printf("%llu\n", p.n);
	return 0;
}

static int cmd_heartbeat(const struct opts *o)
{
	struct counts c = { 0 };
	char subject[128], id[200], json[4096], ts[40], start[17], groups[160] = "[]";
	char policy[160] = "null";
	unsigned long long pserial;
	char psha[65];
	unsigned long long db = 0, dr = 0, df = 0, dl = 0;

	if (o->dir && each_block(o->dir, count_one, &c))
		die("heartbeat: cannot read the store");
	if (o->deleted && sscanf(o->deleted, "%llu:%llu:%llu:%llu", &db, &dr, &df, &dl) != 4)
		die("heartbeat: --deleted B:R:F:L");
	snprintf(start, sizeof(start), "%s", o->start_id ? o->start_id : "0123456789abcdef");
	if (o->group)
		snprintf(groups, sizeof(groups), "[\"%s\"]", o->group);
	if (o->policy) {
		if (sscanf(o->policy, "%llu:%64[0-9a-f]", &pserial, psha) != 2)
			die("heartbeat: --policy SERIAL:SHA256");
		snprintf(policy, sizeof(policy), "{\"serial\":%llu,\"sha256\":\"%s\"}", pserial, psha);
	}
	connect_js(o->server);
	snprintf(subject, sizeof(subject), "exfilmon.heartbeat.%s", o->host);
	for (unsigned long long i = 0; i < (o->count ? o->count : 1); i++) {
		uint64_t now = now_ns();
		time_t t = (time_t)(now / SEC);
		struct tm tm;
		unsigned long long seq = (o->seq ? o->seq : 1) + i;
		bool last = o->clean && i + 1 == (o->count ? o->count : 1);

		gmtime_r(&t, &tm);
		strftime(ts, sizeof(ts), "%Y-%m-%dT%H:%M:%S", &tm);
		snprintf(json, sizeof(json),
			 "{\"host_id\":\"%s\",\"host_name\":\"%s\",\"agent_version\":\"0.1.0\","
			 "\"config_sha256\":\"%s\",\"seq\":%llu,\"start_id\":\"%s\","
			 "\"ts\":\"%s.%03lluZ\",\"interval_s\":%llu,"
			 "\"chain\":{\"segment\":\"%016llx\",\"block\":%llu,\"hash\":\"%s\"},"
			 "\"records_written\":%llu,\"blocks_written\":%llu,\"blocks_shipped\":%llu,"
			 "\"backlog_blocks\":0,\"ring_drops\":0,\"gap_records\":0,\"map_full\":0,"
			 "\"syslog_drops\":0,\"sensors_attached\":12,\"deleted_unshipped\":{\"blocks\":%llu,"
			 "\"records\":%llu,\"first_block\":%llu,\"last_block\":%llu},\"groups\":%s,"
			 "\"policy\":%s,\"clean_shutdown\":%s}",
			 o->host, o->host_name, o->config_sha ? o->config_sha : "c0ffee", seq, start,
			 ts, (unsigned long long)(now % SEC / 1000000), o->interval ? o->interval : 15,
			 0ULL, c.head_block, o->chain_hash ? o->chain_hash : c.head, c.records, c.blocks,
			 c.blocks, db, dr, df, dl, groups, policy, last ? "true" : "false");
		snprintf(id, sizeof(id), "%s:hb:%s:%llu", o->host, start, seq);
		publish(subject, id, json, strlen(json), NULL, o->host);
		if (i + 1 < o->count && o->every_ms)
			usleep((useconds_t)o->every_ms * 1000);
	}
	return 0;
}

static int cmd_alert(const struct opts *o)
{
	char subject[128], id[200];

	if (!o->json)
		die("alert: give --json LINE");
	connect_js(o->server);
	snprintf(subject, sizeof(subject), "exfilmon.alert.%s", o->host);
	snprintf(id, sizeof(id), "%s:alert:%lu", o->host, (unsigned long)strlen(o->json));
	publish(subject, id, o->json, strlen(o->json), NULL, o->host);
	return 0;
}

static int cmd_mkstream(const struct opts *o)
{
	static const char *subjects[] = { "exfilmon.evidence.*", "exfilmon.alert.*",
					  "exfilmon.heartbeat.*", "exfilmon.policyevent.*" };
	jsStreamConfig sc;
	jsStreamInfo *si = NULL;
	jsErrCode jerr = 0;
	natsStatus s;

	connect_js(o->server);
	jsStreamConfig_Init(&sc);
	sc.Name = "EXFILMON";
	sc.Subjects = subjects;
	sc.SubjectsLen = 4;
	sc.Storage = js_FileStorage;
	sc.Duplicates = 120 * (int64_t)SEC;
	sc.Replicas = o->replicas ? (int64_t)o->replicas : 1;
	s = js_AddStream(&si, js, &sc, NULL, &jerr);
	if (s != NATS_OK && jerr != JSStreamNameExistErr) {
		fprintf(stderr, "fleet_sim: add stream: %s (%d)\n", natsStatus_GetText(s), (int)jerr);
		return 1;
	}
	jsStreamInfo_Destroy(si);
	return 0;
}

/* The scale run: N hosts, each D days of R records a day, written then published. */
static int cmd_fleet(const struct opts *o)
{
	char dir[4096], host[64], user[32], dst[64];
	uint64_t t0 = now_ns() - o->days * 86400 * SEC;
	struct opts h = *o;
	struct pub p = { .o = &h };
	struct timespec a, b;

	connect_js(o->server);
	clock_gettime(CLOCK_MONOTONIC, &a);
	for (unsigned long long i = 0; i < o->hosts; i++) {
		struct evidence_opts eo = { .dir = dir, .segment_bytes = 64 << 20,
					    .block_bytes = 1 << 20 };

		snprintf(dir, sizeof(dir), "%s/h%04llu", o->dir, i);
		snprintf(host, sizeof(host), "sim-%04llu", i);
		snprintf(user, sizeof(user), "user%04llu", i);
		h.host = host;
		h.host_name = host;
		h.user = user;
		h.uid = 2000 + i;
		h.from = 0;
		h.to = ~0ULL;
		h.tamper = h.replay = ~0ULL;
		/* Each host uploads a little to its own network: the ring pass has egress to
		 * group, and finds no ring. */
		snprintf(dst, sizeof(dst), "10.%llu.%llu.5:443", i / 256 % 256, i % 256);
		h.dst = dst;
		if (!(ev = evidence_open(&eo)))
			die("fleet: cannot open a store");
		for (unsigned long long d = 0; d < o->days; d++) {
			h.session = d + 1;
			h.ts = t0 + d * 86400 * SEC;
			h.records = o->per_day;
			h.source_bytes = o->per_day * 4096;
			h.egress_bytes = o->per_day * 1024;
			write_story(&h);
		}
		evidence_close(ev);
		if (each_block(dir, publish_one, &p))
			die("fleet: cannot read a store");
	}
	clock_gettime(CLOCK_MONOTONIC, &b);
	printf("published %llu blocks in %.1f s\n", p.n,
	       (double)(b.tv_sec - a.tv_sec) + (double)(b.tv_nsec - a.tv_nsec) / 1e9);
	return 0;
}

static void parse(int argc, char **argv, struct opts *o)
{
	static const struct option lo[] = {
		{ "server", 1, NULL, 'S' }, { "host", 1, NULL, 'H' }, { "user", 1, NULL, 'u' },
		{ "uid", 1, NULL, 'U' }, { "session", 1, NULL, 's' }, { "source-bytes", 1, NULL, 'b' },
		{ "egress-bytes", 1, NULL, 'e' }, { "dst", 1, NULL, 'd' }, { "records", 1, NULL, 'r' },
		{ "ts", 1, NULL, 't' }, { "block-bytes", 1, NULL, 'B' }, { "source", 1, NULL, 'o' },
		{ "from", 1, NULL, 'f' }, { "to", 1, NULL, 'T' }, { "tamper-link", 1, NULL, 'x' },
		{ "replay", 1, NULL, 'z' },
		{ "seq", 1, NULL, 'q' }, { "start-id", 1, NULL, 'i' }, { "interval", 1, NULL, 'I' },
		{ "clean", 0, NULL, 'c' }, { "config-sha", 1, NULL, 'C' }, { "group", 1, NULL, 'g' },
		{ "chain-hash", 1, NULL, 'h' }, { "deleted", 1, NULL, 'D' }, { "count", 1, NULL, 'n' },
		{ "every-ms", 1, NULL, 'm' }, { "json", 1, NULL, 'j' }, { "replicas", 1, NULL, 'R' },
		{ "hosts", 1, NULL, 'N' }, { "days", 1, NULL, 'y' }, { "records-per-day", 1, NULL, 'p' },
		{ "host-name", 1, NULL, 'a' }, { "hostile", 0, NULL, 'X' }, { "policy", 1, NULL, 'P' }, { 0 } };
	int c;

	o->to = o->tamper = o->replay = ~0ULL;
	while ((c = getopt_long(argc, argv, "", lo, NULL)) != -1) {
		unsigned long long v = optarg ? strtoull(optarg, NULL, 0) : 0;

		switch (c) {
		case 'S': o->server = optarg; break;
		case 'H': o->host = optarg; break;
		case 'a': o->host_name = optarg; break;
		case 'u': o->user = optarg; break;
		case 'U': o->uid = v; break;
		case 's': o->session = v; break;
		case 'b': o->source_bytes = v; break;
		case 'e': o->egress_bytes = v; break;
		case 'd': o->dst = optarg; break;
		case 'r': o->records = v; break;
		case 't': o->ts = v; break;
		case 'B': o->block_bytes = v; break;
		case 'o': o->source = optarg; break;
		case 'f': o->from = v; break;
		case 'T': o->to = v; break;
		case 'x': o->tamper = v; break;
		case 'z': o->replay = v; break;
		case 'q': o->seq = v; break;
		case 'i': o->start_id = optarg; break;
		case 'I': o->interval = v; break;
		case 'c': o->clean = true; break;
		case 'X': o->hostile = true; break;
		case 'C': o->config_sha = optarg; break;
		case 'g': o->group = optarg; break;
		case 'P': o->policy = optarg; break;
		case 'h': o->chain_hash = optarg; break;
		case 'D': o->deleted = optarg; break;
		case 'n': o->count = v; break;
		case 'm': o->every_ms = v; break;
		case 'j': o->json = optarg; break;
		case 'R': o->replicas = v; break;
		case 'N': o->hosts = v; break;
		case 'y': o->days = v; break;
		case 'p': o->per_day = v; break;
		default: exit(2);
		}
	}
	if (optind < argc)
		o->dir = argv[optind];
	if (!o->host_name)
		o->host_name = o->host ? o->host : "ws";
}

int main(int argc, char **argv)
{
	static const struct {
		const char *name;
		int (*run)(const struct opts *o);
		bool need_dir, need_server, need_host;
	} cmds[] = {
		{ "mkstream", cmd_mkstream, false, true, false },
		{ "write", cmd_write, true, false, false },
		{ "publish", cmd_publish, true, true, true },
		{ "heartbeat", cmd_heartbeat, false, true, true },
		{ "alert", cmd_alert, false, true, true },
		{ "count", cmd_count, true, false, false },
		{ "fleet", cmd_fleet, true, true, false },
	};
	struct opts o = { 0 };
	int ret;

	if (argc < 2) {
		fprintf(stderr, "usage: fleet_sim mkstream|write|publish|heartbeat|alert|count|fleet ...\n");
		return 2;
	}
	parse(argc - 1, argv + 1, &o);
	for (size_t i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++) {
		if (strcmp(argv[1], cmds[i].name))
			continue;
		if ((cmds[i].need_dir && !o.dir) || (cmds[i].need_server && !o.server) ||
		    (cmds[i].need_host && !o.host)) {
			fprintf(stderr, "fleet_sim %s: missing DIR, --server or --host\n", argv[1]);
			return 2;
		}
		ret = cmds[i].run(&o);
		if (js)
			jsCtx_Destroy(js);
		if (nc)
			natsConnection_Destroy(nc);
		return ret;
	}
	fprintf(stderr, "fleet_sim: unknown command %s\n", argv[1]);
	return 2;
}
