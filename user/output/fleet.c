// SPDX-License-Identifier: GPL-2.0-only
/*
 * The shipping thread. Its loop: connect (retrying with backoff and one log line per new
 * reason), publish queued alerts, a heartbeat when due, then the next sealed block read
 * back from the evidence store, each published with a message id the stream
 * de-duplicates on and acknowledged before the cursor moves. The main thread only takes
 * the mutex for a few field copies, so nothing it does waits on the network.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include <nats/nats.h>

#include "common/hash.h"
#include "common/log.h"
#include "common/timeutil.h"
#include "evidence/evidence_format.h"
#include "evidence/evidence_read.h"
#include "fleet.h"

#define STREAM "EXFILMON"
#define ALERT_QUEUE_MAX 1024
#define PUBLISH_WAIT_MS 5000
/* Backlog drain rate: far above what the collector seals (about 100 blocks/s of at most
 * 1 MiB at its peak), far below what would compete with it for the disk and a core. */
#define BACKLOG_BYTES_PER_S (32ULL << 20)
#define STOP_DRAIN_NS (3ULL * 1000000000ULL)
#define STOP_WAIT_MS 1000
#define BACKOFF_MAX_MS 5000
#define STATUS_REFRESH_NS (2ULL * 1000000000ULL)
#define NS 1000000000ULL

struct alert_item {
	char *json;
	char id[128];
};

struct fleet {
	/* fixed at start */
	char host_id[65], host_name[256], config_sha256[65], start_id[17];
	char evidence_dir[PATH_MAX], cursor_path[PATH_MAX];
	struct config cfg;            /* only the fleet keys are set (owned copies) */
	uint64_t heartbeat_ns;
	pthread_t thread;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	/* under mu */
	bool stop, clean;
	bool cursor_dirty;            /* deleted-unshipped totals changed: save the cursor */
	bool closed;                  /* libnats delivered the connection's last callback */
	uint64_t sealed_next;
	bool have_chain;
	char chain_seg[32], chain_hash[65];
	uint64_t chain_block;
	struct alert_item q[ALERT_QUEUE_MAX];
	size_t q_head, q_len;
	struct fleet_counters counters;
	struct fleet_status st;
	struct fleet_cursor cur;
	/* the thread's own */
	natsConnection *nc;
	jsCtx *js;
	uint64_t hb_seq, next_hb_ns, block_at_ns, status_at_ns;
	int64_t wait_ms;              /* for an acknowledgement; shorter while stopping */
	struct ev_block blk;
};

static uint64_t mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * NS + ts.tv_nsec;
}

static void cond_wait_until(struct fleet *f, uint64_t mono_deadline_ns)
{
	struct timespec ts = { .tv_sec = mono_deadline_ns / NS, .tv_nsec = mono_deadline_ns % NS };

	pthread_cond_timedwait(&f->cv, &f->mu, &ts);
}

bool fleet_enabled(const struct config *cfg)
{
	return cfg->n_fleet_servers > 0;
}

int fleet_host_id(const struct config *cfg, char out[65])
{
	const char *v = cfg->fleet_host_id ? cfg->fleet_host_id : "/etc/machine-id";
	char line[128] = "";
	FILE *f;

	if (v[0] != '/') {
		snprintf(out, 65, "%s", v);
		return config_name_ok(out) ? 0 : -EINVAL;
	}
	f = fopen(v, "re");
	if (!f)
		return -errno;
	if (!fgets(line, sizeof(line), f))
		line[0] = '\0';
	fclose(f);
	line[strcspn(line, "\r\n")] = '\0';
	if (!config_name_ok(line))
		return -EINVAL;
	snprintf(out, 65, "%s", line);
	return 0;
}

/* Remembers why the last attempt failed; logs it once per new reason. */
static void note_error(struct fleet *f, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void note_error(struct fleet *f, const char *fmt, ...)
{
	char msg[256];
	va_list ap;
	bool fresh;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	pthread_mutex_lock(&f->mu);
	fresh = strcmp(msg, f->st.last_error) != 0;
	snprintf(f->st.last_error, sizeof(f->st.last_error), "%s", msg);
	pthread_mutex_unlock(&f->mu);
	if (fresh)
		log_error("fleet: %s", msg);
}

/* libnats' description of the last failure in this thread, without its source location
 * ("(conn.c:733): "). */
static const char *nats_why(natsStatus s)
{
	const char *t = nats_GetLastError(NULL);

	if (!t || !*t)
		return natsStatus_GetText(s);
	if (t[0] == '(' && strstr(t, "): "))
		t = strstr(t, "): ") + 3;
	return t;
}

static void set_connected(struct fleet *f, natsConnection *nc, bool up)
{
	char url[256] = "";

	if (up)
		natsConnection_GetConnectedUrl(nc, url, sizeof(url));
	pthread_mutex_lock(&f->mu);
	f->st.connected = up;
	snprintf(f->st.server, sizeof(f->st.server), "%s", url);
	pthread_mutex_unlock(&f->mu);
	if (up)
		log_info("fleet: connected to %s as %s", url, f->host_id);
}

static void on_disconnected(natsConnection *nc, void *closure)
{
	set_connected(closure, nc, false);
	log_warn("fleet: disconnected; evidence keeps going to the local store");
}

static void on_reconnected(natsConnection *nc, void *closure)
{
	set_connected(closure, nc, true);
}

/* The last callback libnats delivers for a connection: after it, none refers to f. */
static void on_closed(natsConnection *nc, void *closure)
{
	struct fleet *f = closure;

	pthread_mutex_lock(&f->mu);
	f->closed = true;
	pthread_cond_broadcast(&f->cv);
	pthread_mutex_unlock(&f->mu);
}

/* Asynchronous server errors, e.g. a publish the server's permissions refuse. */
static void on_async_error(natsConnection *nc, natsSubscription *sub, natsStatus err,
			   void *closure)
{
	const char *text = NULL;

	natsConnection_GetLastError(nc, &text);
	note_error(closure, "server refused: %s", text && *text ? text : natsStatus_GetText(err));
}

/* A .creds file holds a user JWT and its nkey seed (decentralized authentication). */
static natsStatus tls_and_credentials(struct fleet *f, natsOptions *o)
{
	const struct config *c = &f->cfg;
	bool tls = c->fleet_tls_ca || c->fleet_tls_cert;
	natsStatus s = NATS_OK;

	for (size_t i = 0; i < c->n_fleet_servers; i++)
		tls |= !strncmp(c->fleet_servers[i], "tls://", 6);
	if (tls)
		s = natsOptions_SetSecure(o, true);
	if (s == NATS_OK && c->fleet_tls_ca)
		s = natsOptions_LoadCATrustedCertificates(o, c->fleet_tls_ca);
	if (s == NATS_OK && c->fleet_tls_cert)
		s = natsOptions_LoadCertificatesChain(o, c->fleet_tls_cert, c->fleet_tls_key);
	if (s == NATS_OK && c->fleet_credentials)
		s = natsOptions_SetUserCredentialsFromFiles(o, c->fleet_credentials, NULL);
	return s;
}

static natsStatus make_options(struct fleet *f, natsOptions **out)
{
	char inbox[96], name[128];
	natsOptions *o = NULL;
	natsStatus s = natsOptions_Create(&o);

	/* Replies come to this host's own inbox, the only subjects it may subscribe to. */
	snprintf(inbox, sizeof(inbox), "_INBOX.%s", f->host_id);
	snprintf(name, sizeof(name), "exfilmond %s", f->host_id);
	if (s == NATS_OK)
		s = natsOptions_SetServers(o, (const char **)f->cfg.fleet_servers,
					   (int)f->cfg.n_fleet_servers);
	if (s == NATS_OK)
		s = natsOptions_SetName(o, name);
	if (s == NATS_OK)
		s = natsOptions_SetCustomInboxPrefix(o, inbox);
	if (s == NATS_OK)
		s = natsOptions_SetMaxReconnect(o, -1);
	if (s == NATS_OK)
		s = natsOptions_SetReconnectWait(o, 500);
	if (s == NATS_OK)
		s = natsOptions_SetTimeout(o, 2000);
	if (s == NATS_OK)
		s = natsOptions_SetPingInterval(o, 5000);
	if (s == NATS_OK)
		s = natsOptions_SetMaxPingsOut(o, 2);
	if (s == NATS_OK)
		s = natsOptions_SetDisconnectedCB(o, on_disconnected, f);
	if (s == NATS_OK)
		s = natsOptions_SetReconnectedCB(o, on_reconnected, f);
	if (s == NATS_OK)
		s = natsOptions_SetClosedCB(o, on_closed, f);
	if (s == NATS_OK)
		s = natsOptions_SetErrorHandler(o, on_async_error, f);
	if (s == NATS_OK)
		s = tls_and_credentials(f, o);
	if (s != NATS_OK) {
		natsOptions_Destroy(o);
		o = NULL;
	}
	*out = o;
	return s;
}


/* Closes and waits (bounded) for the closed callback, so no callback outlives f. */
static void disconnect(struct fleet *f)
{
	uint64_t deadline = mono_ns() + 5 * NS;

	jsCtx_Destroy(f->js);
	f->js = NULL;
	if (f->nc) {
		pthread_mutex_lock(&f->mu);
		f->closed = false;
		pthread_mutex_unlock(&f->mu);
		natsConnection_Close(f->nc);
		pthread_mutex_lock(&f->mu);
		while (!f->closed && mono_ns() < deadline)
			cond_wait_until(f, deadline);
		pthread_mutex_unlock(&f->mu);
		natsConnection_Destroy(f->nc);
	}
	f->nc = NULL;
	pthread_mutex_lock(&f->mu);
	f->st.connected = false;
	f->st.server[0] = '\0';
	pthread_mutex_unlock(&f->mu);
}

static int connect_server(struct fleet *f)
{
	jsOptions jo;
	natsOptions *o;
	natsStatus s = make_options(f, &o);

	if (s != NATS_OK) {
		note_error(f, "options (TLS files, credentials): %s", nats_why(s));
		return -EINVAL;
	}
	s = natsConnection_Connect(&f->nc, o);
	natsOptions_Destroy(o);
	if (s == NATS_OK) {
		jsOptions_Init(&jo);
		jo.Wait = PUBLISH_WAIT_MS;
		s = natsConnection_JetStream(&f->js, f->nc, &jo);
	}
	if (s != NATS_OK) {
		note_error(f, "connect %s%s: %s", f->cfg.fleet_servers[0],
			   f->cfg.n_fleet_servers > 1 ? " (and the other servers)" : "",
			   nats_why(s));
		disconnect(f);
		return -ECONNREFUSED;
	}
	set_connected(f, f->nc, true);
	return 0;
}

static bool is_connected(struct fleet *f)
{
	return f->nc && natsConnection_Status(f->nc) == NATS_CONN_STATUS_CONNECTED;
}

/* Publishes and waits for the stream's acknowledgement. 0, or -EIO after noting why. */
static int publish(struct fleet *f, const char *kind, const char *msg_id, const void *data,
		   int len, const char *segment_hex, bool *duplicate)
{
	char subject[128];
	jsPubOptions po;
	jsPubAck *pa = NULL;
	jsErrCode jerr = 0;
	natsMsg *m = NULL;
	natsStatus s;

	snprintf(subject, sizeof(subject), "exfilmon.%s.%s", kind, f->host_id);
	s = natsMsg_Create(&m, subject, NULL, data, len);
	if (s == NATS_OK)
		s = natsMsgHeader_Set(m, "Exfilmon-Host", f->host_id);
	if (s == NATS_OK && segment_hex)
		s = natsMsgHeader_Set(m, "Exfilmon-Segment", segment_hex);
	if (s == NATS_OK) {
		jsPubOptions_Init(&po);
		po.MsgId = msg_id;
		po.ExpectStream = STREAM;
		po.MaxWait = f->wait_ms;
		s = js_PublishMsg(&pa, f->js, m, &po, &jerr);
	}
	if (s == NATS_OK && duplicate)
		*duplicate = pa->Duplicate;
	if (s != NATS_OK)
		note_error(f, "publish %s (%s): %s%s", msg_id, subject, nats_why(s),
			   s == NATS_NO_RESPONDERS ? " (no stream " STREAM " holds the subject)" : "");
	jsPubAck_Destroy(pa);
	natsMsg_Destroy(m);
	return s == NATS_OK ? 0 : -EIO;
}

static int ship_alerts(struct fleet *f)
{
	for (;;) {
		struct alert_item it;
		int err;

		pthread_mutex_lock(&f->mu);
		if (!f->q_len) {
			pthread_mutex_unlock(&f->mu);
			return 0;
		}
		it = f->q[f->q_head];
		pthread_mutex_unlock(&f->mu);
		err = publish(f, "alert", it.id, it.json, (int)strlen(it.json), NULL, NULL);
		if (err)
			return err;
		pthread_mutex_lock(&f->mu);
		/* The producer may have dropped the head meanwhile (queue full): only pop our own. */
		if (f->q_len && f->q[f->q_head].json == it.json) {
			free(it.json);
			f->q[f->q_head].json = NULL;
			f->q_head = (f->q_head + 1) % ALERT_QUEUE_MAX;
			f->q_len--;
			f->st.alerts_shipped++;
		}
		pthread_mutex_unlock(&f->mu);
	}
}

static int send_heartbeat(struct fleet *f, bool clean)
{
	struct fleet_heartbeat hb = {
		.host_id = f->host_id, .host_name = f->host_name, .agent_version = EXFILMON_VERSION,
		.config_sha256 = f->config_sha256, .start_id = f->start_id, .ts_ns = realtime_ns(),
		.interval_s = f->heartbeat_ns / NS, .groups = f->cfg.fleet_groups,
		.n_groups = f->cfg.n_fleet_groups, .clean_shutdown = clean,
	};
	char seg[32], hash[65], id[128];
	char *json;
	int err;

	pthread_mutex_lock(&f->mu);
	hb.seq = ++f->hb_seq;
	hb.have_chain = f->have_chain;
	snprintf(seg, sizeof(seg), "%s", f->chain_seg);
	snprintf(hash, sizeof(hash), "%s", f->chain_hash);
	hb.chain_segment = seg;
	hb.chain_hash = hash;
	hb.chain_block = f->chain_block;
	hb.counters = f->counters;
	if (hb.counters.config_sha256[0])
		hb.config_sha256 = hb.counters.config_sha256;
	hb.blocks_shipped = f->st.blocks_shipped;
	hb.backlog_blocks = f->sealed_next - f->cur.next_block;
	hb.deleted = f->cur.deleted;
	pthread_mutex_unlock(&f->mu);
	json = fleet_heartbeat_json(&hb);
	if (!json)
		return -ENOMEM;
	snprintf(id, sizeof(id), "%s:hb:%s:%llu", f->host_id, f->start_id,
		 (unsigned long long)hb.seq);
	err = publish(f, "heartbeat", id, json, (int)strlen(json), NULL, NULL);
	free(json);
	if (!err) {
		pthread_mutex_lock(&f->mu);
		f->st.heartbeats_sent++;
		f->st.last_heartbeat_ns = realtime_ns();
		pthread_mutex_unlock(&f->mu);
	}
	return err;
}

static int save_cursor(struct fleet *f)
{
	struct fleet_cursor c;
	int err;

	pthread_mutex_lock(&f->mu);
	c = f->cur;
	pthread_mutex_unlock(&f->mu);
	err = fleet_cursor_save(f->cursor_path, &c);
	if (err)
		note_error(f, "save cursor %s: %s", f->cursor_path, strerror(-err));
	return err;
}

/* The store no longer has block next: retention deleted it (recorded by the store and
 * counted through fleet_unshipped_deleted); go on from the oldest block there is. */
static int skip_deleted(struct fleet *f, uint64_t next)
{
	uint64_t first = 0;

	if (evidence_first_block(f->evidence_dir, &first) || first <= next) {
		note_error(f, "block %llu: missing from %s", (unsigned long long)next,
			   f->evidence_dir);
		return -ENOENT;
	}
	log_warn("fleet: blocks %llu..%llu were deleted by retention before they were shipped",
		 (unsigned long long)next, (unsigned long long)first - 1);
	pthread_mutex_lock(&f->mu);
	f->cur.next_block = first;
	pthread_mutex_unlock(&f->mu);
	return save_cursor(f);
}

/* Block next cannot be found where its segment says (a header altered on disk). Stopping
 * there would let one edited byte silence every later block: skip to the next segment
 * (the writer starts one after finding damage) and say so; the receiver sees the gap in
 * the chain, and `exfilctl verify` locates the damage. */
static int skip_unreadable(struct fleet *f, uint64_t next)
{
	uint64_t first;

	if (evidence_segment_after(f->evidence_dir, next, &first)) {
		note_error(f, "block %llu in %s cannot be read (altered?); waiting for the next "
			   "segment", (unsigned long long)next, f->evidence_dir);
		return -EBADMSG;
	}
	log_error("fleet: blocks %llu..%llu in %s cannot be read (altered?); not shipped, "
		  "going on with block %llu", (unsigned long long)next,
		  (unsigned long long)first - 1, f->evidence_dir, (unsigned long long)first);
	pthread_mutex_lock(&f->mu);
	f->st.unreadable_blocks += first - next;
	f->cur.next_block = first;
	pthread_mutex_unlock(&f->mu);
	return save_cursor(f);
}

/* Ships the next sealed block if there is one; 1 when it did, 0 when idle, -errno. */
static int ship_block(struct fleet *f)
{
	uint64_t next, sealed;
	char id[160], seg_hex[17];
	bool dup = false;
	int err;

	pthread_mutex_lock(&f->mu);
	next = f->cur.next_block;
	sealed = f->sealed_next;
	pthread_mutex_unlock(&f->mu);
	if (next >= sealed)
		return 0;
	err = evidence_block_read(f->evidence_dir, next, &f->blk);
	if (err == -ENOENT)
		return skip_deleted(f, next);
	if (err == -EBADMSG)
		return skip_unreadable(f, next);
	if (err) {
		note_error(f, "read block %llu from %s: %s", (unsigned long long)next,
			   f->evidence_dir, strerror(-err));
		return err;
	}
	snprintf(seg_hex, sizeof(seg_hex), "%.16s", f->blk.segment + 4);
	snprintf(id, sizeof(id), "%s:%s:%llu", f->host_id, seg_hex, (unsigned long long)next);
	err = publish(f, "evidence", id, f->blk.bytes, (int)f->blk.len, seg_hex, &dup);
	if (err)
		return err;
	pthread_mutex_lock(&f->mu);
	f->cur.next_block = next + 1;
	snprintf(f->cur.last_acked, sizeof(f->cur.last_acked), "%s:%llu", seg_hex,
		 (unsigned long long)next);
	f->st.blocks_shipped++;
	f->st.duplicates += dup;
	f->st.last_ack_ns = realtime_ns();
	snprintf(f->st.last_ack, sizeof(f->st.last_ack), "%s", id);
	pthread_mutex_unlock(&f->mu);
	f->block_at_ns = mono_ns() + f->blk.len * NS / BACKLOG_BYTES_PER_S;
	err = save_cursor(f);
	return err ? err : 1;
}

static void refresh_backlog(struct fleet *f)
{
	uint64_t next, sealed, bytes = 0, ts = 0;

	pthread_mutex_lock(&f->mu);
	next = f->cur.next_block;
	sealed = f->sealed_next;
	pthread_mutex_unlock(&f->mu);
	if (next < sealed)
		evidence_range_size(f->evidence_dir, next, sealed, &bytes, &ts);
	pthread_mutex_lock(&f->mu);
	f->st.backlog_bytes = bytes;
	f->st.oldest_unshipped_ns = ts;
	pthread_mutex_unlock(&f->mu);
	f->status_at_ns = mono_ns() + STATUS_REFRESH_NS;
}

static uint64_t min_u64(uint64_t a, uint64_t b)
{
	return a < b ? a : b;
}

/* With mu held: sleeps until there is work (not before not_before_ns) or a stop. */
static void wait_for_work(struct fleet *f, uint64_t not_before_ns)
{
	/* A backoff holds everything back, or a refused connect would spin. */
	while (!f->stop && mono_ns() < not_before_ns)
		cond_wait_until(f, not_before_ns);
	while (!f->stop) {
		uint64_t now = mono_ns(), deadline;
		bool blocks = f->cur.next_block < f->sealed_next;

		if (now >= f->next_hb_ns || now >= f->status_at_ns || f->cursor_dirty || f->q_len ||
		    (blocks && now >= f->block_at_ns))
			return;
		deadline = min_u64(f->next_hb_ns, f->status_at_ns);
		if (blocks)
			deadline = min_u64(deadline, f->block_at_ns);
		cond_wait_until(f, deadline);
	}
}

/* One round of work; 0 when it went well, -errno to back off. */
static int work(struct fleet *f)
{
	int err;

	bool dirty;

	pthread_mutex_lock(&f->mu);
	dirty = f->cursor_dirty;
	f->cursor_dirty = false;
	pthread_mutex_unlock(&f->mu);
	if (dirty)
		save_cursor(f);
	if (mono_ns() >= f->status_at_ns)
		refresh_backlog(f);
	/* libnats gives a connection up for good on some refusals: start a new one. */
	if (f->nc && natsConnection_IsClosed(f->nc))
		disconnect(f);
	if (!f->nc && (err = connect_server(f)))
		return err;
	if ((err = ship_alerts(f)))
		return err;
	if (mono_ns() >= f->next_hb_ns) {
		f->next_hb_ns = mono_ns() + f->heartbeat_ns;
		if ((err = send_heartbeat(f, false)))
			return err;
	}
	/* Alerts go first: a block waits for them, they never wait for the backlog. */
	if (mono_ns() >= f->block_at_ns && (err = ship_block(f)) < 0)
		return err;
	return 0;
}

/* A clean stop ships what is sealed while the server answers, then says goodbye. */
static void finish(struct fleet *f)
{
	uint64_t deadline = mono_ns() + STOP_DRAIN_NS;
	bool clean;

	pthread_mutex_lock(&f->mu);
	clean = f->clean;
	pthread_mutex_unlock(&f->mu);
	/* A server that does not answer must not hold up the daemon's stop for long; a
	 * reload (not clean) does not drain at all, the next thread goes on from the cursor. */
	f->wait_ms = STOP_WAIT_MS;
	while (clean && is_connected(f) && mono_ns() < deadline && !ship_alerts(f)) {
		f->block_at_ns = 0;
		if (ship_block(f) != 1)
			break;
	}
	if (is_connected(f))
		send_heartbeat(f, clean);
	if (f->nc)
		natsConnection_FlushTimeout(f->nc, 1000);
}

static void *run(void *arg)
{
	struct fleet *f = arg;
	unsigned backoff_ms = 0;

	/* Below the sensors' drain and detection when a core is contended. */
	setpriority(PRIO_PROCESS, (id_t)gettid(), 10);
	for (;;) {
		pthread_mutex_lock(&f->mu);
		wait_for_work(f, mono_ns() + backoff_ms * 1000000ULL);
		if (f->stop) {
			pthread_mutex_unlock(&f->mu);
			break;
		}
		pthread_mutex_unlock(&f->mu);
		if (work(f))
			backoff_ms = backoff_ms ? min_u64(backoff_ms * 2, BACKOFF_MAX_MS) : 200;
		else
			backoff_ms = 0;
	}
	finish(f);
	disconnect(f);
	if (f->cursor_dirty)
		save_cursor(f);
	ev_block_free(&f->blk);
	nats_ReleaseThreadMemory();
	return NULL;
}

static char *dup_or_null(const char *s)
{
	return s ? strdup(s) : NULL;
}

static char **dup_list(char *const *v, size_t n)
{
	char **out = calloc(n + 1, sizeof(*out));

	for (size_t i = 0; out && i < n; i++)
		out[i] = strdup(v[i]);
	return out;
}

static void copy_config(struct fleet *f, const struct config *c)
{
	f->cfg.fleet_servers = dup_list(c->fleet_servers, c->n_fleet_servers);
	f->cfg.n_fleet_servers = c->n_fleet_servers;
	f->cfg.fleet_groups = dup_list(c->fleet_groups, c->n_fleet_groups);
	f->cfg.n_fleet_groups = c->n_fleet_groups;
	f->cfg.fleet_tls_ca = dup_or_null(c->fleet_tls_ca);
	f->cfg.fleet_tls_cert = dup_or_null(c->fleet_tls_cert);
	f->cfg.fleet_tls_key = dup_or_null(c->fleet_tls_key);
	f->cfg.fleet_credentials = dup_or_null(c->fleet_credentials);
	f->heartbeat_ns = c->fleet_heartbeat_ns ? c->fleet_heartbeat_ns : 15 * NS;
	snprintf(f->evidence_dir, sizeof(f->evidence_dir), "%s", c->evidence_dir);
	snprintf(f->cursor_path, sizeof(f->cursor_path), "%s/fleet.cursor",
		 c->state_dir ? c->state_dir : ".");
}

/* Where to start: after the cursor, unless it belongs to another host id or store. */
static void load_cursor(struct fleet *f, uint64_t next_block)
{
	int err = fleet_cursor_load(f->cursor_path, &f->cur);
	uint64_t first = 0;

	if (!err && strcmp(f->cur.host_id, f->host_id)) {
		log_warn("fleet: cursor %s was for host id %s; shipping the whole store as %s",
			 f->cursor_path, f->cur.host_id, f->host_id);
		err = -ESTALE;
	} else if (!err && f->cur.next_block > next_block) {
		log_warn("fleet: cursor %s is ahead of the store (block %llu > %llu): the store "
			 "was replaced; shipping it from its start", f->cursor_path,
			 (unsigned long long)f->cur.next_block, (unsigned long long)next_block);
		err = -ESTALE;
	} else if (err && err != -ENOENT) {
		log_warn("fleet: cursor %s: %s; shipping the whole store (the stream drops "
			 "what it already holds)", f->cursor_path, strerror(-err));
	}
	if (err) {
		evidence_first_block(f->evidence_dir, &first);
		memset(&f->cur, 0, sizeof(f->cur));
		f->cur.next_block = first;
		snprintf(f->cur.host_id, sizeof(f->cur.host_id), "%s", f->host_id);
	}
	log_info("fleet: shipping as %s from block %llu (%llu sealed)", f->host_id,
		 (unsigned long long)f->cur.next_block, (unsigned long long)next_block);
}

/* The chain head at start: the last sealed block's segment and hash. */
static void load_head(struct fleet *f)
{
	if (!f->sealed_next || evidence_block_read(f->evidence_dir, f->sealed_next - 1, &f->blk))
		return;
	f->have_chain = true;
	f->chain_block = f->blk.block_no;
	snprintf(f->chain_seg, sizeof(f->chain_seg), "%s", f->blk.segment);
	hex_encode(f->blk.hash, 32, f->chain_hash);
	ev_block_free(&f->blk);
}

static void free_fleet(struct fleet *f)
{
	for (size_t i = 0; i < f->q_len; i++)
		free(f->q[(f->q_head + i) % ALERT_QUEUE_MAX].json);
	pthread_mutex_destroy(&f->mu);
	pthread_cond_destroy(&f->cv);
	config_free(&f->cfg);
	free(f);
}

static int init_sync(struct fleet *f)
{
	pthread_condattr_t ca;
	int err;

	pthread_mutex_init(&f->mu, NULL);
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	err = pthread_cond_init(&f->cv, &ca);
	pthread_condattr_destroy(&ca);
	return -err;
}

/* Signals belong to the daemon's signalfd: the thread, and the libnats threads it
 * creates, inherit a mask that blocks them all. */
static int start_thread(struct fleet *f)
{
	sigset_t all, old;
	int err;

	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	err = pthread_create(&f->thread, NULL, run, f);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	/* Named, so its CPU time can be told apart in /proc/PID/task (bench/fleet_bench.sh). */
	if (!err)
		pthread_setname_np(f->thread, "xm-fleet");
	return -err;
}

struct fleet *fleet_start(const struct fleet_opts *o)
{
	struct fleet *f = calloc(1, sizeof(*f));
	uint8_t rnd[8];
	int err;

	if (!f)
		return NULL;
	if ((err = init_sync(f))) {
		free(f);
		errno = -err;
		return NULL;
	}
	copy_config(f, o->cfg);
	err = fleet_host_id(o->cfg, f->host_id);
	if (err) {
		log_error("fleet: host id from %s: %s", o->cfg->fleet_host_id ? o->cfg->fleet_host_id
									     : "/etc/machine-id",
			  err == -EINVAL ? "not 1-64 of A-Z a-z 0-9 _ -" : strerror(-err));
		goto fail;
	}
	snprintf(f->host_name, sizeof(f->host_name), "%s", o->host_name ? o->host_name : "");
	snprintf(f->config_sha256, sizeof(f->config_sha256), "%s", o->config_sha256);
	if (getrandom(rnd, sizeof(rnd), 0) != sizeof(rnd)) {
		err = -errno;
		goto fail;
	}
	hex_encode(rnd, sizeof(rnd), f->start_id);
	snprintf(f->st.host_id, sizeof(f->st.host_id), "%s", f->host_id);
	f->sealed_next = o->next_block;
	f->wait_ms = PUBLISH_WAIT_MS;
	load_cursor(f, o->next_block);
	load_head(f);
	/* The first heartbeat goes out as soon as the server answers. */
	f->next_hb_ns = 0;
	if ((err = start_thread(f)))
		goto fail;
	return f;
fail:
	free_fleet(f);
	errno = -err;
	return NULL;
}

void fleet_sealed(struct fleet *f, const char *segment, uint64_t block_no, const char *head_hex)
{
	pthread_mutex_lock(&f->mu);
	if (block_no + 1 > f->sealed_next)
		f->sealed_next = block_no + 1;
	f->have_chain = true;
	f->chain_block = block_no;
	snprintf(f->chain_seg, sizeof(f->chain_seg), "%s", segment);
	snprintf(f->chain_hash, sizeof(f->chain_hash), "%s", head_hex);
	pthread_cond_signal(&f->cv);
	pthread_mutex_unlock(&f->mu);
}

int fleet_alert(struct fleet *f, const char *json, uint64_t alert_id, unsigned revision)
{
	char *copy = strdup(json), id[sizeof(f->q[0].id)];
	struct alert_item *it;

	if (!copy)
		return -ENOMEM;
	snprintf(id, sizeof(id), "%s:alert:%llu:%u", f->host_id, (unsigned long long)alert_id,
		 revision);
	pthread_mutex_lock(&f->mu);
	if (f->q_len == ALERT_QUEUE_MAX) {
		free(f->q[f->q_head].json);
		f->q[f->q_head].json = NULL;
		f->q_head = (f->q_head + 1) % ALERT_QUEUE_MAX;
		f->q_len--;
		f->st.alerts_dropped++;
	}
	it = &f->q[(f->q_head + f->q_len) % ALERT_QUEUE_MAX];
	it->json = copy;
	memcpy(it->id, id, sizeof(id));
	f->q_len++;
	pthread_cond_signal(&f->cv);
	pthread_mutex_unlock(&f->mu);
	return 0;
}

void fleet_set_counters(struct fleet *f, const struct fleet_counters *c)
{
	pthread_mutex_lock(&f->mu);
	f->counters = *c;
	pthread_mutex_unlock(&f->mu);
}

void fleet_unshipped_deleted(struct fleet *f, uint64_t first, uint64_t last, uint64_t records)
{
	struct fleet_deleted *d;

	pthread_mutex_lock(&f->mu);
	d = &f->cur.deleted;
	if (!d->blocks || first < d->first_block)
		d->first_block = first;
	if (last > d->last_block)
		d->last_block = last;
	d->blocks += last - first + 1;
	d->records += records;
	f->cursor_dirty = true;
	pthread_cond_signal(&f->cv);
	pthread_mutex_unlock(&f->mu);
}

uint64_t fleet_first_unshipped(struct fleet *f)
{
	uint64_t n;

	pthread_mutex_lock(&f->mu);
	n = f->cur.next_block;
	pthread_mutex_unlock(&f->mu);
	return n;
}

void fleet_get_status(struct fleet *f, struct fleet_status *st)
{
	pthread_mutex_lock(&f->mu);
	*st = f->st;
	st->next_block = f->cur.next_block;
	st->backlog_blocks = f->sealed_next - f->cur.next_block;
	st->deleted = f->cur.deleted;
	pthread_mutex_unlock(&f->mu);
}

void fleet_stop(struct fleet *f, bool clean)
{
	if (!f)
		return;
	pthread_mutex_lock(&f->mu);
	f->stop = true;
	f->clean = clean;
	pthread_cond_signal(&f->cv);
	pthread_mutex_unlock(&f->mu);
	pthread_join(f->thread, NULL);
	free_fleet(f);
}
