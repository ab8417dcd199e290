// SPDX-License-Identifier: GPL-2.0-only
/*
 * The centre's watch on the policy bucket: every value of every group's key is parsed
 * with the agent's bundle parser and verified with the agent's verifier against the
 * keys in policy.trusted (re-read for each value, so a key rotation needs no restart),
 * exactly as an agent would judge the signature, and recorded when believed.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "central_db.h"
#include "central_policy.h"
#include "common/log.h"
#include "config/bundle.h"
#include "config/trust.h"

#define BUCKET "exfilmon-policy"
#define MAX_PER_POLL 256
#define RETRY_NS 1000000000ULL

struct policy_watch {
	char *dir;
	jsCtx *js;
	kvStore *kv;
	kvWatcher *w;
	atomic_bool rewatch;
	uint64_t next_try_ns;
	bool said;                  /* "bucket not there yet" logged once */
};

static uint64_t mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

struct policy_watch *policy_watch_new(const char *trusted_dir)
{
	struct policy_watch *w = calloc(1, sizeof(*w));

	if (!w || !(w->dir = strdup(trusted_dir))) {
		free(w);
		return NULL;
	}
	return w;
}

static void close_watch(struct policy_watch *w)
{
	kvWatcher_Destroy(w->w);
	kvStore_Destroy(w->kv);
	jsCtx_Destroy(w->js);
	w->w = NULL;
	w->kv = NULL;
	w->js = NULL;
}

void policy_watch_free(struct policy_watch *w)
{
	if (!w)
		return;
	close_watch(w);
	free(w->dir);
	free(w);
}

void policy_watch_rewatch(struct policy_watch *w)
{
	if (w)
		atomic_store(&w->rewatch, true);
}

int policy_trust_check(const char *dir, char **errors, size_t *keys)
{
	struct trust *t;
	struct stat st;
	char *errs = NULL;
	int err;

	*errors = NULL;
	*keys = 0;
	if (!*dir)
		return 0;
	if (stat(dir, &st) || !S_ISDIR(st.st_mode)) {
		err = errno ? -errno : -ENOTDIR;
		if (asprintf(errors, "policy.trusted: %s: %s\n", dir,
			     S_ISDIR(st.st_mode) ? strerror(-err) : "not a directory") < 0)
			*errors = NULL;
		return -EINVAL;
	}
	if (!(t = calloc(1, sizeof(*t))))
		return -ENOMEM;
	err = trust_load_dir(dir, t, &errs);
	*keys = t->n_keys;
	trust_free(t);
	free(t);
	if (err && asprintf(errors, "policy.trusted: %s%s", errs ? errs : strerror(-err),
			    errs ? "" : "\n") < 0)
		*errors = NULL;
	free(errs);
	return err ? -EINVAL : 0;
}

static natsStatus open_watch(struct policy_watch *w, natsConnection *nc)
{
	kvWatchOptions wo;
	natsStatus s = natsConnection_JetStream(&w->js, nc, NULL);

	if (s == NATS_OK)
		s = js_KeyValue(&w->kv, w->js, BUCKET);
	if (s == NATS_OK)
		s = kvWatchOptions_Init(&wo);
	if (s == NATS_OK) {
		/* Every value the bucket still holds, not only the newest: a centre that was
		 * down during two pushes records both. */
		wo.IncludeHistory = true;
		wo.IgnoreDeletes = true;
		s = kvStore_WatchAll(&w->w, w->kv, &wo);
	}
	return s;
}

/* Judges a value as an agent judges its signature. 0 when believed (*b filled). */
static int judge(const struct policy_watch *w, const char *name, const char *group,
		 const char *text, size_t len, struct bundle *b)
{
	char why[512] = "", *errors = NULL;
	struct trust *t = calloc(1, sizeof(*t));
	int err;

	if (!t)
		return -ENOMEM;
	if ((err = bundle_parse(name, text, len, b, &errors))) {
		snprintf(why, sizeof(why), "%s", errors ? errors : "not a bundle");
		why[strcspn(why, "\n")] = 0;
	} else {
		trust_load_dir(w->dir, t, &errors);     /* bad key files: logged at start */
		err = bundle_verify(b, text, t, why, sizeof(why));
	}
	if (!err) {
		err = -EXDEV;
		for (size_t i = 0; i < b->h.n_groups; i++)
			if (!strcmp(b->h.groups[i], group))
				err = 0;
		if (err)
			snprintf(why, sizeof(why), "stored under key %s, which its header does not name",
				 group);
	}
	if (err)
		log_warn("policy: %s ignored (not believed): %s", name, why);
	free(errors);
	trust_free(t);
	free(t);
	return err;
}

static const char insert_sql[] =
	"INSERT INTO policy_pushes (grp, revision, serial, config_sha256, key_id, groups,"
	" not_before, expiry, pushed_at) VALUES ($1, $2, $3, $4, $5, $6::text[],"
	" to_timestamp($7::bigint), to_timestamp($8::bigint), to_timestamp($9::double precision / 1e9))"
	" ON CONFLICT DO NOTHING RETURNING 1";

static int record(PGconn *db, const char *name, const char *group, uint64_t rev,
		  int64_t created_ns, const struct bundle *b)
{
	char r[24], ser[24], nb[24], ex[24], at[24], groups[BUNDLE_MAX_GROUPS * 70 + 4] = "{";
	const char *p[9] = { group, r, ser, b->h.config_sha256, b->h.key_id, groups, nb, ex, at };
	PGresult *res;

	for (size_t i = 0; i < b->h.n_groups; i++)   /* names are [A-Za-z0-9_-]: no quoting */
		snprintf(groups + strlen(groups), sizeof(groups) - strlen(groups), "%s%s",
			 i ? "," : "", b->h.groups[i]);
	strcat(groups, "}");
	sprintf(r, "%llu", (unsigned long long)rev);
	sprintf(ser, "%llu", (unsigned long long)b->h.serial);
	sprintf(nb, "%lld", (long long)b->h.not_before);
	sprintf(ex, "%lld", (long long)b->h.expiry);
	sprintf(at, "%lld", (long long)created_ns);
	if (!(res = db_query(db, insert_sql, 9, p)))
		return -EIO;
	if (PQntuples(res))
		log_info("policy: %s recorded: serial %llu sha256=%s key %s", name,
			 (unsigned long long)b->h.serial, b->h.config_sha256, b->h.key_id);
	PQclear(res);
	return 0;
}

static int one_entry(struct policy_watch *w, PGconn *db, kvEntry *e)
{
	const char *group = kvEntry_Key(e);
	uint64_t rev = kvEntry_Revision(e);
	int len = kvEntry_ValueLen(e);
	char name[160];
	struct bundle b;

	if (kvEntry_Operation(e) != kvOp_Put || len <= 0)
		return 0;
	snprintf(name, sizeof(name), "%s/%s revision %llu", BUCKET, group, (unsigned long long)rev);
	if (!bundle_group_valid(group)) {
		log_warn("policy: %s ignored: not a group name", name);
		return 0;
	}
	if (judge(w, name, group, kvEntry_Value(e), (size_t)len, &b))
		return 0;
	return record(db, name, group, rev, kvEntry_Created(e), &b);
}

static int ensure_open(struct policy_watch *w, natsConnection *nc)
{
	natsStatus s;

	if (atomic_exchange(&w->rewatch, false))
		close_watch(w);
	if (w->w)
		return 0;
	if (mono_ns() < w->next_try_ns || natsConnection_Status(nc) != NATS_CONN_STATUS_CONNECTED)
		return -EAGAIN;
	w->next_try_ns = mono_ns() + RETRY_NS;
	if ((s = open_watch(w, nc)) != NATS_OK) {
		if (!w->said)
			log_info("policy: watch %s: %s (retrying every second)", BUCKET,
				 natsStatus_GetText(s));
		w->said = true;
		close_watch(w);
		return -EAGAIN;
	}
	w->said = false;
	log_info("policy: watching %s", BUCKET);
	return 0;
}

int policy_watch_poll(struct policy_watch *w, natsConnection *nc, PGconn *db)
{
	if (!w || !*w->dir || !nc || ensure_open(w, nc))
		return 0;
	for (int i = 0; i < MAX_PER_POLL; i++) {
		kvEntry *e = NULL;
		natsStatus s = kvWatcher_Next(&e, w->w, 1);
		int err;

		if (s == NATS_TIMEOUT)
			return 0;
		if (s != NATS_OK) {
			close_watch(w);          /* made again, with the history, next time */
			return 0;
		}
		if (!e)
			continue;                /* the end of the initial values */
		err = one_entry(w, db, e);
		kvEntry_Destroy(e);
		if (err) {
			close_watch(w);
			return err;
		}
	}
	return 0;
}
