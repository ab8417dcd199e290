// SPDX-License-Identifier: GPL-2.0-only
/*
 * Fleet policy delivery through libnats. The watch thread owns the JetStream context, the
 * key-value handle and the watcher; the daemon's thread only takes values out of the
 * slots (under a mutex) and publishes events (libnats connections are thread-safe).
 * After every reconnect the watch is made anew, so the newest value of each key is
 * delivered again whatever the server lost or the client missed while away; revisions
 * already seen are dropped, so a value is judged once.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>
#include <nats/nats.h>

#include "common/log.h"
#include "fleet_policy.h"

struct slot {
	char key[65];
	char *data;
	size_t len;
	uint64_t revision;          /* newest seen; 0 none */
	bool pending;               /* not taken yet */
};

struct fleet_policy {
	natsOptions *opts;
	natsConnection *nc;
	pthread_t thread;
	bool thread_started;
	pthread_mutex_t lock;
	atomic_bool stop;
	atomic_bool rewatch;
	struct slot slots[FLEET_POLICY_MAX_KEYS];
	size_t n_slots;
	char host_id[65];
};

static bool name_ok(const char *s)
{
	size_t n = s ? strlen(s) : 0;

	return n >= 1 && n <= 64 &&
	       strspn(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-") == n;
}

static void on_reconnected(natsConnection *nc, void *closure)
{
	struct fleet_policy *f = closure;

	atomic_store(&f->rewatch, true);
}

static void on_connected(natsConnection *nc, void *closure)
{
	on_reconnected(nc, closure);
}

/* Options shared by the agent's watch and the one-shot push. */
static natsStatus make_options(const struct fleet_policy_opts *o, natsOptions **out)
{
	natsOptions *opts = NULL;
	natsStatus s = natsOptions_Create(&opts);

	if (s == NATS_OK)
		s = natsOptions_SetURL(opts, o->servers);
	if (s == NATS_OK)
		s = natsOptions_SetName(opts, "exfilmon-policy");
	if (s == NATS_OK && o->creds)
		s = natsOptions_SetUserCredentialsFromFiles(opts, o->creds, NULL);
	if (s == NATS_OK && o->tls_ca)
		s = natsOptions_SetSecure(opts, true);
	if (s == NATS_OK && o->tls_ca)
		s = natsOptions_LoadCATrustedCertificates(opts, o->tls_ca);
	if (s == NATS_OK && o->tls_cert && o->tls_key)
		s = natsOptions_SetSecure(opts, true);
	if (s == NATS_OK && o->tls_cert && o->tls_key)
		s = natsOptions_LoadCertificatesChain(opts, o->tls_cert, o->tls_key);
	if (s != NATS_OK)
		natsOptions_Destroy(opts);
	else
		*out = opts;
	return s;
}

static void close_watch(jsCtx **js, kvStore **kv, kvWatcher **w)
{
	kvWatcher_Destroy(*w);
	kvStore_Destroy(*kv);
	jsCtx_Destroy(*js);
	*w = NULL;
	*kv = NULL;
	*js = NULL;
}

static natsStatus open_watch(struct fleet_policy *f, jsCtx **js, kvStore **kv, kvWatcher **w)
{
	kvWatchOptions wo;
	natsStatus s = natsConnection_JetStream(js, f->nc, NULL);

	if (s == NATS_OK)
		s = js_KeyValue(kv, *js, FLEET_POLICY_BUCKET);
	if (s == NATS_OK)
		s = kvWatchOptions_Init(&wo);
	if (s == NATS_OK) {
		wo.IgnoreDeletes = true;
		s = kvStore_WatchAll(w, *kv, &wo);
	}
	return s;
}

/* Keeps e's value when it is newer than what its key's slot holds. */
static void deliver(struct fleet_policy *f, kvEntry *e)
{
	const char *key = kvEntry_Key(e);
	uint64_t rev = kvEntry_Revision(e);
	int len = kvEntry_ValueLen(e);

	if (kvEntry_Operation(e) != kvOp_Put || len <= 0)
		return;
	pthread_mutex_lock(&f->lock);
	for (size_t i = 0; i < f->n_slots; i++) {
		struct slot *sl = &f->slots[i];
		char *copy;

		if (strcmp(sl->key, key) || rev <= sl->revision)
			continue;
		copy = malloc((size_t)len);
		if (!copy)
			break;
		memcpy(copy, kvEntry_Value(e), (size_t)len);
		free(sl->data);
		sl->data = copy;
		sl->len = (size_t)len;
		sl->revision = rev;
		sl->pending = true;
	}
	pthread_mutex_unlock(&f->lock);
}

static void *watch_thread(void *arg)
{
	struct fleet_policy *f = arg;
	jsCtx *js = NULL;
	kvStore *kv = NULL;
	kvWatcher *w = NULL;
	bool said = false;

	while (!atomic_load(&f->stop)) {
		kvEntry *e = NULL;
		natsStatus s;

		if (!w) {
			if (natsConnection_Status(f->nc) != NATS_CONN_STATUS_CONNECTED) {
				usleep(100 * 1000);
				continue;
			}
			atomic_store(&f->rewatch, false);
			s = open_watch(f, &js, &kv, &w);
			if (s != NATS_OK) {
				if (!said)
					log_warn("fleet-policy: watch %s: %s (retrying)",
						 FLEET_POLICY_BUCKET, natsStatus_GetText(s));
				said = true;
				close_watch(&js, &kv, &w);
				usleep(500 * 1000);
				continue;
			}
			said = false;
		}
		s = kvWatcher_Next(&e, w, 250);
		if (s == NATS_OK && e) {
			deliver(f, e);
			kvEntry_Destroy(e);
		} else if ((s != NATS_OK && s != NATS_TIMEOUT) || atomic_load(&f->rewatch)) {
			close_watch(&js, &kv, &w);
		}
	}
	close_watch(&js, &kv, &w);
	return NULL;
}

static int add_slot(struct fleet_policy *f, const char *key)
{
	for (size_t i = 0; i < f->n_slots; i++)
		if (!strcmp(f->slots[i].key, key))
			return 0;
	if (!name_ok(key) || f->n_slots == FLEET_POLICY_MAX_KEYS)
		return -EINVAL;
	snprintf(f->slots[f->n_slots++].key, sizeof(f->slots[0].key), "%s", key);
	return 0;
}

static int init_slots(struct fleet_policy *f, const struct fleet_policy_opts *o)
{
	if (add_slot(f, "all"))
		return -EINVAL;
	for (size_t i = 0; i < o->n_groups; i++)
		if (add_slot(f, o->groups[i]))
			return -EINVAL;
	return 0;
}

struct fleet_policy *fleet_policy_start(const struct fleet_policy_opts *o)
{
	struct fleet_policy *f = calloc(1, sizeof(*f));
	natsStatus s;

	if (!f)
		return NULL;
	pthread_mutex_init(&f->lock, NULL);
	if (!o->servers || !name_ok(o->host_id) || init_slots(f, o)) {
		errno = EINVAL;
		goto fail;
	}
	snprintf(f->host_id, sizeof(f->host_id), "%s", o->host_id);
	s = make_options(o, &f->opts);
	if (s == NATS_OK)
		s = natsOptions_SetMaxReconnect(f->opts, -1);
	if (s == NATS_OK)
		s = natsOptions_SetReconnectWait(f->opts, 500);
	if (s == NATS_OK)
		s = natsOptions_SetReconnectedCB(f->opts, on_reconnected, f);
	if (s == NATS_OK)
		s = natsOptions_SetRetryOnFailedConnect(f->opts, true, on_connected, f);
	if (s == NATS_OK)
		s = natsConnection_Connect(&f->nc, f->opts);
	if (s != NATS_OK && s != NATS_NOT_YET_CONNECTED) {
		log_error("fleet-policy: %s: %s", o->servers, natsStatus_GetText(s));
		errno = EINVAL;
		goto fail;
	}
	if (pthread_create(&f->thread, NULL, watch_thread, f)) {
		errno = EAGAIN;
		goto fail;
	}
	f->thread_started = true;
	return f;
fail:
	fleet_policy_stop(f);
	return NULL;
}

int fleet_policy_take(struct fleet_policy *f, char key[65], char **data, size_t *len,
		      uint64_t *revision)
{
	int got = 0;

	pthread_mutex_lock(&f->lock);
	for (size_t i = 0; i < f->n_slots && !got; i++) {
		struct slot *sl = &f->slots[i];

		if (!sl->pending)
			continue;
		memcpy(key, sl->key, sizeof(sl->key));
		*data = sl->data;
		*len = sl->len;
		*revision = sl->revision;
		sl->data = NULL;
		sl->pending = false;
		got = 1;
	}
	pthread_mutex_unlock(&f->lock);
	return got;
}

int fleet_policy_connected(struct fleet_policy *f)
{
	return f && f->nc && natsConnection_Status(f->nc) == NATS_CONN_STATUS_CONNECTED;
}

int fleet_policy_event(struct fleet_policy *f, const char *event, uint64_t serial,
		       const char *sha256, const char *reason)
{
	char subject[128], ts[40];
	struct timespec now;
	struct tm tm;
	json_t *o;
	char *text;
	natsStatus s;

	if (!f)
		return 0;
	clock_gettime(CLOCK_REALTIME, &now);
	gmtime_r(&now.tv_sec, &tm);
	strftime(ts, sizeof(ts), "%Y-%m-%dT%H:%M:%S", &tm);
	snprintf(ts + strlen(ts), sizeof(ts) - strlen(ts), ".%03ldZ", now.tv_nsec / 1000000);
	o = json_pack("{s:s, s:s, s:s, s:I, s:s, s:s}", "host_id", f->host_id, "ts", ts,
		      "event", event, "serial", (json_int_t)serial, "sha256", sha256 ? sha256 : "",
		      "reason", reason ? reason : "");
	text = o ? json_dumps(o, JSON_COMPACT) : NULL;
	json_decref(o);
	if (!text)
		return -ENOMEM;
	snprintf(subject, sizeof(subject), "exfilmon.policyevent.%s", f->host_id);
	s = natsConnection_Publish(f->nc, subject, text, (int)strlen(text));
	free(text);
	return s == NATS_OK ? 0 : -EIO;
}

void fleet_policy_stop(struct fleet_policy *f)
{
	if (!f)
		return;
	atomic_store(&f->stop, true);
	if (f->thread_started)
		pthread_join(f->thread, NULL);
	if (f->nc) {
		/* Events published just before a stop still leave. */
		natsConnection_FlushTimeout(f->nc, 1000);
		natsConnection_Close(f->nc);
		natsConnection_Destroy(f->nc);
	}
	natsOptions_Destroy(f->opts);
	for (size_t i = 0; i < f->n_slots; i++)
		free(f->slots[i].data);
	pthread_mutex_destroy(&f->lock);
	free(f);
}

static int push_error(natsStatus s, char *why, size_t why_len)
{
	const char *last = nats_GetLastError(NULL);

	snprintf(why, why_len, "%s%s%s", natsStatus_GetText(s), last ? ": " : "",
		 last ? last : "");
	return s == NATS_TIMEOUT || s == NATS_NO_SERVER ? -ETIMEDOUT : -EIO;
}

int fleet_policy_push(const struct fleet_policy_opts *o, const char *key, const void *data,
		      size_t len, int timeout_ms, uint64_t *revision, char *why, size_t why_len)
{
	natsOptions *opts = NULL;
	natsConnection *nc = NULL;
	jsCtx *js = NULL;
	kvStore *kv = NULL;
	kvConfig kc;
	natsStatus s;
	int err = 0;

	if (!name_ok(key)) {
		snprintf(why, why_len, "invalid key \"%s\"", key);
		return -EINVAL;
	}
	s = make_options(o, &opts);
	if (s == NATS_OK)
		s = natsOptions_SetTimeout(opts, timeout_ms);
	if (s == NATS_OK)
		s = natsConnection_Connect(&nc, opts);
	if (s == NATS_OK)
		s = natsConnection_JetStream(&js, nc, NULL);
	if (s == NATS_OK)
		s = js_KeyValue(&kv, js, FLEET_POLICY_BUCKET);
	if (s == NATS_NOT_FOUND) {
		kvConfig_Init(&kc);
		kc.Bucket = FLEET_POLICY_BUCKET;
		kc.History = 5;
		s = js_CreateKeyValue(&kv, js, &kc);
	}
	if (s == NATS_OK)
		s = kvStore_Put(revision, kv, key, data, (int)len);
	if (s != NATS_OK)
		err = push_error(s, why, why_len);
	kvStore_Destroy(kv);
	jsCtx_Destroy(js);
	natsConnection_Destroy(nc);
	natsOptions_Destroy(opts);
	return err;
}
