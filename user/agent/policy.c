// SPDX-License-Identifier: GPL-2.0-only
/*
 * Fills the kernel maps from the configuration. Every directory of a watched tree goes in
 * as a tree root, so the kernel's ancestry walk at open time usually stops one level up,
 * and a filesystem mounted inside a tree is covered by its own root entry. Every regular
 * file goes in too, so files opened before the agent started are counted on first read.
 */
#include <errno.h>
#include <fts.h>
#include <limits.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <bpf/bpf.h>
#include <openssl/evp.h>

#include "common/array_size.h"
#include "abi.h"
#include "common/log.h"
#include "policy.h"

struct id_set {
	uint32_t *v;
	size_t n, cap;
};

struct policy {
	struct sensor_maps maps;
	struct policy_paths paths;
	struct mount_list media;
	struct policy_stats stats;
	struct id_set ids;           /* source ids of the config in force */
	bool media_enabled;          /* egress.removable_media */
};

static int id_add(struct id_set *s, uint32_t id)
{
	if (s->n == s->cap) {
		size_t cap = s->cap ? s->cap * 2 : 16;
		uint32_t *v = realloc(s->v, cap * sizeof(*v));

		if (!v)
			return -ENOMEM;
		s->v = v;
		s->cap = cap;
	}
	s->v[s->n++] = id;
	return 0;
}

static bool id_has(const struct id_set *s, uint32_t id)
{
	for (size_t i = 0; i < s->n; i++)
		if (s->v[i] == id)
			return true;
	return false;
}

uint32_t policy_source_id(const char *kind, const char *path)
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int len = 0;
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	uint32_t id = 0;

	if (ctx && EVP_DigestInit_ex(ctx, EVP_sha256(), NULL) &&
	    EVP_DigestUpdate(ctx, kind, strlen(kind) + 1) &&
	    EVP_DigestUpdate(ctx, path, strlen(path)) && EVP_DigestFinal_ex(ctx, md, &len))
		memcpy(&id, md, sizeof(id));
	EVP_MD_CTX_free(ctx);
	/* 0 is reserved for media entries. */
	return id ? id : 1;
}

struct policy *policy_new(const struct sensor_maps *maps, const struct policy_paths *paths)
{
	struct policy *p = calloc(1, sizeof(*p));

	if (!p)
		return NULL;
	p->maps = *maps;
	p->paths = *paths;
	return p;
}

void policy_free(struct policy *p)
{
	if (!p)
		return;
	mounts_free(&p->media);
	free(p->ids.v);
	free(p);
}

static int watch_put(struct policy *p, const struct stat *st, uint32_t flags, uint32_t id)
{
	struct xm_watch_key k = { .ino = st->st_ino, .dev = mounts_kdev(st->st_dev) };
	struct xm_watch_val v = { .flags = flags, .source_id = id };

	if (bpf_map_update_elem(p->maps.watch, &k, &v, BPF_ANY))
		return -errno;
	return 0;
}

/* Puts a tree (or a single file) into the watch map. A path that does not exist yet is
 * not an error: it is logged, and watched once a later apply finds it. */
static int watch_tree(struct policy *p, const char *root, uint32_t flags, uint32_t id)
{
	char *const argv[] = { (char *)root, NULL };
	FTS *fts = fts_open(argv, FTS_PHYSICAL | FTS_NOCHDIR, NULL);
	FTSENT *e;
	int err = 0;

	if (!fts)
		return -errno;
	while (!err && (e = fts_read(fts))) {
		switch (e->fts_info) {
		case FTS_D:
			err = watch_put(p, e->fts_statp, flags | XM_W_DIR, id);
			p->stats.watched_dirs++;
			break;
		case FTS_F:
			err = watch_put(p, e->fts_statp, flags, id);
			p->stats.watched_files++;
			break;
		case FTS_NS:
		case FTS_ERR:
			if (e->fts_level == 0)
				log_warn("policy: %s: %s (not watched until it exists)", root,
					 strerror(e->fts_errno));
			break;
		default:
			break;
		}
	}
	fts_close(fts);
	if (err == -E2BIG || err == -ENOSPC)
		log_error("policy: watch map full while adding %s", root);
	return err;
}

/* "~/Dropbox" names that folder in the home of every person with an account. */
static int watch_sync_folder(struct policy *p, const char *folder)
{
	uint32_t id = policy_source_id("sink", folder);
	char path[PATH_MAX];
	struct passwd *pw;
	FILE *f;
	int err = id_add(&p->ids, id);

	if (err)
		return err;
	if (strncmp(folder, "~/", 2)) {
		p->stats.sink_dirs++;
		return watch_tree(p, folder, XM_W_SINK, id);
	}
	f = fopen(p->paths.passwd, "r");
	if (!f)
		return -errno;
	while (!err && (pw = fgetpwent(f))) {
		struct stat st;

		if ((pw->pw_uid != 0 && pw->pw_uid < 1000) || pw->pw_uid == 65534)
			continue;
		snprintf(path, sizeof(path), "%s/%s", pw->pw_dir, folder + 2);
		if (stat(path, &st) || !S_ISDIR(st.st_mode))
			continue;
		p->stats.sink_dirs++;
		err = watch_tree(p, path, XM_W_SINK, id);
	}
	fclose(f);
	return err;
}

/* Removes watch entries that belong to no configured source, sink or media mount. */
static int watch_prune(struct policy *p)
{
	struct xm_watch_key key, next, *prev = NULL;
	struct xm_watch_val v;
	int fd = p->maps.watch;

	while (bpf_map_get_next_key(fd, prev, &next) == 0) {
		key = next;
		prev = &key;
		if (bpf_map_lookup_elem(fd, &key, &v))
			continue;
		if (v.flags & XM_W_MEDIA) {
			bool still = false;

			for (size_t i = 0; i < p->media.n; i++)
				still |= p->media.v[i].dev == key.dev;
			if (still)
				continue;
		} else if (id_has(&p->ids, v.source_id)) {
			continue;
		}
		/* Deleting the current key is safe: get_next_key from a missing key restarts
		 * at the first, and already-kept keys are skipped again cheaply. */
		bpf_map_delete_elem(fd, &key);
		prev = NULL;
	}
	return 0;
}

static void net_key(const struct net_match *m, bool with_port, struct xm_net_key *k)
{
	memset(k, 0, sizeof(*k));
	if (with_port) {
		k->prefixlen = 16 + m->prefix;
		k->data[0] = m->port >> 8;
		k->data[1] = m->port & 0xff;
		memcpy(&k->data[2], m->addr, 16);
	} else {
		k->prefixlen = m->prefix;
		memcpy(k->data, m->addr, 16);
	}
}

static bool net_key_in(const struct xm_net_key *k, const struct net_match *rules, size_t n,
		       bool with_port)
{
	struct xm_net_key r;

	for (size_t i = 0; i < n; i++) {
		net_key(&rules[i], with_port, &r);
		if (!memcmp(&r, k, sizeof(r)))
			return true;
	}
	return false;
}

/* Puts every rule into an LPM trie, then drops keys no rule produces. */
static int net_apply(int fd, const struct net_match *rules, size_t n, bool with_port)
{
	struct xm_net_key k, next, stale[64];
	size_t n_stale = 0;
	bool more = true;

	for (size_t i = 0; i < n; i++) {
		struct xm_net_val v = { .id = (uint32_t)i };

		net_key(&rules[i], with_port, &k);
		if (bpf_map_update_elem(fd, &k, &v, BPF_ANY))
			return -errno;
	}
	while (more) {
		n_stale = 0;
		more = false;
		if (bpf_map_get_next_key(fd, NULL, &next))
			break;
		do {
			k = next;
			if (!net_key_in(&k, rules, n, with_port)) {
				if (n_stale == ARRAY_SIZE(stale)) {
					more = true;
					break;
				}
				stale[n_stale++] = k;
			}
		} while (bpf_map_get_next_key(fd, &k, &next) == 0);
		for (size_t i = 0; i < n_stale; i++)
			bpf_map_delete_elem(fd, &stale[i]);
	}
	return 0;
}

int policy_refresh_media(struct policy *p)
{
	struct mount_list fresh = { 0 };
	struct xm_sinkdev_val v = { .flags = XM_W_SINK | XM_W_MEDIA };
	uint32_t dev, next, *prev = NULL;
	int err = 0;

	if (p->media_enabled)
		err = mounts_scan_media(p->paths.mountinfo, p->paths.sysfs, &fresh);
	if (err)
		return err;
	for (size_t i = 0; i < fresh.n; i++)
		bpf_map_update_elem(p->maps.sinkdevs, &fresh.v[i].dev, &v, BPF_ANY);
	while (bpf_map_get_next_key(p->maps.sinkdevs, prev, &next) == 0) {
		bool keep = false;

		dev = next;
		prev = &dev;
		for (size_t i = 0; i < fresh.n; i++)
			keep |= fresh.v[i].dev == dev;
		if (!keep) {
			bpf_map_delete_elem(p->maps.sinkdevs, &dev);
			prev = NULL;
		}
	}
	for (size_t i = 0; i < fresh.n; i++)
		if (i >= p->media.n || fresh.v[i].dev != p->media.v[i].dev)
			log_info("policy: media sink %s (%s, %s)", fresh.v[i].mountpoint,
				 fresh.v[i].fstype, fresh.v[i].why);
	mounts_free(&p->media);
	p->media = fresh;
	p->stats.media_mounts = fresh.n;
	return 0;
}

static int apply_sources(struct policy *p, const struct config *cfg)
{
	int err = 0;

	for (size_t i = 0; !err && i < cfg->n_source_paths; i++) {
		uint32_t id = policy_source_id("source", cfg->source_paths[i]);

		err = id_add(&p->ids, id);
		if (!err)
			err = watch_tree(p, cfg->source_paths[i], XM_W_SOURCE, id);
	}
	for (size_t i = 0; !err && i < cfg->n_sync_folders; i++)
		err = watch_sync_folder(p, cfg->sync_folders[i]);
	return err;
}

/* Tree roots came or went: the kernel's cached directory verdicts (bpf/vfs.bpf.h) may
 * name the old ones. Atomic, as the BPF side moves it too (renames). */
static void dir_verdicts_stale(struct policy *p)
{
	if (p->maps.dir_gen)
		__atomic_fetch_add(p->maps.dir_gen, 1, __ATOMIC_SEQ_CST);
}

int policy_apply(struct policy *p, const struct config *cfg)
{
	int err;

	p->ids.n = 0;
	memset(&p->stats, 0, sizeof(p->stats));
	err = apply_sources(p, cfg);
	dir_verdicts_stale(p);
	if (!err)
		err = net_apply(p->maps.services, cfg->services, cfg->n_services, true);
	if (!err)
		err = net_apply(p->maps.allow, cfg->allow, cfg->n_allow, false);
	if (err)
		return err;
	p->media_enabled = cfg->removable_media;
	err = policy_refresh_media(p);
	if (!err)
		err = watch_prune(p);
	dir_verdicts_stale(p);
	p->stats.services = cfg->n_services;
	p->stats.allow = cfg->n_allow;
	return err;
}

const struct mount_list *policy_media(const struct policy *p)
{
	return &p->media;
}

const struct policy_stats *policy_stats(const struct policy *p)
{
	return &p->stats;
}
