// SPDX-License-Identifier: GPL-2.0-only
/*
 * Fills the kernel maps from the configuration. Every directory of a watched tree goes in
 * as a tree root, so the kernel's ancestry walk at open time usually stops one level up,
 * and a filesystem mounted inside a tree is covered by its own root entry. Every regular
 * file goes in too, so files opened before the agent started are counted on first read.
 */
#include <errno.h>
#include <stdarg.h>
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

/* What the policy itself put into watch or sinks, sorted by key for verification. */
struct watch_entry {
	struct xm_watch_key k;
	struct xm_watch_val v;
};

struct entry_set {
	struct watch_entry *v;
	size_t n, cap;
};

struct policy {
	struct sensor_maps maps;
	struct entry_set expect_watch, expect_sinks;
	struct net_match *services, *allow;   /* the rules in force, copied */
	size_t n_services, n_allow;
	uint64_t last_st_dev;                 /* the last stat device resolved, and */
	uint32_t last_kdev;                   /* ...the kernel's device for it */
	char **sync_folders;                  /* as configured, copied */
	size_t n_sync_folders;
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
	free(p->expect_watch.v);
	free(p->expect_sinks.v);
	free(p->services);
	free(p->allow);
	for (size_t i = 0; i < p->n_sync_folders; i++)
		free(p->sync_folders[i]);
	free(p->sync_folders);
	mounts_free(&p->media);
	free(p->ids.v);
	free(p);
}

/* Source files and every tree root go into watch; sink files into sinks (a map of their
 * own, so thousands of files in a sync folder never crowd out a source). A full map is
 * counted, not fatal: the policy stays partial and the caller says so. */
static int expect_add(struct entry_set *s, const struct xm_watch_key *k,
		      const struct xm_watch_val *v)
{
	if (s->n == s->cap) {
		size_t cap = s->cap ? s->cap * 2 : 256;
		struct watch_entry *e = realloc(s->v, cap * sizeof(*e));

		if (!e)
			return -ENOMEM;
		s->v = e;
		s->cap = cap;
	}
	s->v[s->n++] = (struct watch_entry){ *k, *v };
	return 0;
}

/* The kernel's device for a walked file (see mounts_kdev_path): resolved again only when
 * stat's device changes, which a walk does at mount points and btrfs subvolumes. */
static uint32_t kdev_of(struct policy *p, const char *path, const struct stat *st)
{
	if (st->st_dev != p->last_st_dev || !p->last_kdev) {
		p->last_st_dev = st->st_dev;
		p->last_kdev = mounts_kdev_path(p->paths.mountinfo, path, st->st_dev);
	}
	return p->last_kdev;
}

static int watch_put(struct policy *p, const char *path, const struct stat *st, uint32_t flags,
		     uint32_t id)
{
	struct xm_watch_key k = { .ino = st->st_ino, .dev = kdev_of(p, path, st) };
	struct xm_watch_val v = { .flags = flags, .source_id = id };
	bool to_watch = flags & (XM_W_DIR | XM_W_SOURCE);
	int fd = to_watch ? p->maps.watch : p->maps.sinks;

	if (bpf_map_update_elem(fd, &k, &v, BPF_ANY) == 0)
		return expect_add(to_watch ? &p->expect_watch : &p->expect_sinks, &k, &v);
	if (errno != E2BIG && errno != ENOSPC)
		return -errno;
	if (p->stats.refused++ == 0)
		log_error("policy: %s map full: the policy in force is partial",
			  to_watch ? "watch" : "sink");
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
			err = watch_put(p, e->fts_path, e->fts_statp, flags | XM_W_DIR, id);
			p->stats.watched_dirs++;
			break;
		case FTS_F:
			err = watch_put(p, e->fts_path, e->fts_statp, flags, id);
			*(flags & XM_W_SINK ? &p->stats.sink_files : &p->stats.watched_files) += 1;
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
	return err;
}

static const struct watch_entry *expect_find(const struct entry_set *s,
					     const struct xm_watch_key *k);
static void expect_seal(struct entry_set *s);

/* With only_new, a folder whose root is already watched is left alone (discovery). */
static int watch_sink_root(struct policy *p, const char *path, uint32_t id, bool only_new)
{
	struct stat st;

	if (only_new) {
		struct xm_watch_key k;

		if (stat(path, &st) || !S_ISDIR(st.st_mode))
			return 0;
		k = (struct xm_watch_key){ .ino = st.st_ino, .dev = kdev_of(p, path, &st) };
		if (expect_find(&p->expect_watch, &k))
			return 0;
		log_info("policy: sync folder %s appeared: watched from now on", path);
		p->stats.discovered++;
	}
	p->stats.sink_dirs++;
	return watch_tree(p, path, XM_W_SINK, id);
}

/* "~/Dropbox" names that folder in the home of every person with an account. */
static int watch_sync_folder(struct policy *p, const char *folder, bool only_new)
{
	uint32_t id = policy_source_id("sink", folder);
	char path[PATH_MAX];
	struct passwd *pw;
	FILE *f;
	int err = only_new ? 0 : id_add(&p->ids, id);

	if (err)
		return err;
	if (strncmp(folder, "~/", 2))
		return watch_sink_root(p, folder, id, only_new);
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
		err = watch_sink_root(p, path, id, only_new);
	}
	fclose(f);
	return err;
}

/* Removes entries of fd (watch or sinks) that belong to no configured source, sink or
 * media mount. */
static int watch_prune(struct policy *p, int fd)
{
	struct xm_watch_key key, next, *prev = NULL;
	struct xm_watch_val v;

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
		err = watch_sync_folder(p, cfg->sync_folders[i], false);
	return err;
}

static int cmp_entry(const void *a, const void *b)
{
	return memcmp(&((const struct watch_entry *)a)->k, &((const struct watch_entry *)b)->k,
		      sizeof(struct xm_watch_key));
}

/* Sorted, and the later of two entries for one inode (a file in two trees) kept, as the
 * map kept it. */
static void expect_seal(struct entry_set *s)
{
	size_t out = 0;

	if (!s->n)
		return; /* v may be NULL, and qsort's pointer must not be */
	qsort(s->v, s->n, sizeof(*s->v), cmp_entry);
	for (size_t i = 0; i < s->n; i++) {
		if (out && !cmp_entry(&s->v[out - 1], &s->v[i]))
			out--;
		s->v[out++] = s->v[i];
	}
	s->n = out;
}

static int copy_rules(struct net_match **dst, size_t *n_dst, const struct net_match *src,
		      size_t n)
{
	struct net_match *c = n ? malloc(n * sizeof(*c)) : NULL;

	if (n && !c)
		return -ENOMEM;
	if (n)
		memcpy(c, src, n * sizeof(*c));
	free(*dst);
	*dst = c;
	*n_dst = n;
	return 0;
}

static int copy_folders(struct policy *p, const struct config *cfg)
{
	for (size_t i = 0; i < p->n_sync_folders; i++)
		free(p->sync_folders[i]);
	free(p->sync_folders);
	p->n_sync_folders = 0;
	p->sync_folders = calloc(cfg->n_sync_folders + 1, sizeof(char *));
	if (!p->sync_folders)
		return -ENOMEM;
	for (size_t i = 0; i < cfg->n_sync_folders; i++) {
		p->sync_folders[i] = strdup(cfg->sync_folders[i]);
		if (!p->sync_folders[i])
			return -ENOMEM;
		p->n_sync_folders++;
	}
	return 0;
}

int policy_discover(struct policy *p)
{
	size_t before = p->stats.discovered;
	int err = 0;

	for (size_t i = 0; !err && i < p->n_sync_folders; i++)
		err = watch_sync_folder(p, p->sync_folders[i], true);
	if (p->stats.discovered != before) {
		expect_seal(&p->expect_watch);
		expect_seal(&p->expect_sinks);
	}
	return err;
}

/* Tree roots came or went: the kernel's cached directory verdicts (bpf/vfs.bpf.h) may
 * name the old ones. Atomic, as the BPF side moves it too (renames). */
static void dir_verdicts_stale(struct policy *p)
{
	if (p->maps.dir_gen)
		__atomic_fetch_add(p->maps.dir_gen, 1, __ATOMIC_SEQ_CST);
}

/* The services and allow rules were written: the kernel's cached peer classes (socks,
 * bpf/sockclass.bpf.h) may name the old ones, for connections already open. */
static void net_classes_stale(struct policy *p)
{
	if (p->maps.net_gen)
		__atomic_fetch_add(p->maps.net_gen, 1, __ATOMIC_SEQ_CST);
}

int policy_apply(struct policy *p, const struct config *cfg)
{
	int err;

	p->ids.n = 0;
	p->last_kdev = 0;   /* mounts may have changed since the last apply */
	p->expect_watch.n = 0;
	p->expect_sinks.n = 0;
	memset(&p->stats, 0, sizeof(p->stats));
	err = copy_rules(&p->services, &p->n_services, cfg->services, cfg->n_services);
	if (!err)
		err = copy_rules(&p->allow, &p->n_allow, cfg->allow, cfg->n_allow);
	if (!err)
		err = copy_folders(p, cfg);
	if (!err)
		err = apply_sources(p, cfg);
	dir_verdicts_stale(p);
	expect_seal(&p->expect_watch);
	expect_seal(&p->expect_sinks);
	if (!err)
		err = net_apply(p->maps.services, cfg->services, cfg->n_services, true);
	if (!err)
		err = net_apply(p->maps.allow, cfg->allow, cfg->n_allow, false);
	net_classes_stale(p);
	if (err)
		return err;
	p->media_enabled = cfg->removable_media;
	err = policy_refresh_media(p);
	if (!err)
		err = watch_prune(p, p->maps.watch);
	if (!err)
		err = watch_prune(p, p->maps.sinks);
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

/* One difference found by policy_verify, reported and then repaired. */
struct verify {
	struct policy *p;
	policy_report_fn report;
	void *ctx;
	unsigned n;
};

static void differs(struct verify *vf, const char *map, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void differs(struct verify *vf, const char *map, const char *fmt, ...)
{
	char what[200];
	va_list ap;

	if (vf->n++ >= 8)   /* the first few name the tampering; the count says the rest */
		return;
	va_start(ap, fmt);
	vsnprintf(what, sizeof(what), fmt, ap);
	va_end(ap);
	vf->report(vf->ctx, map, what);
}

static void verify_net(struct verify *vf, int fd, const char *map, const struct net_match *rules,
		       size_t n, bool with_port)
{
	struct xm_net_key k, next, *prev = NULL;
	struct xm_net_val v;
	unsigned before = vf->n;

	while (bpf_map_get_next_key(fd, prev, &next) == 0) {
		k = next;
		prev = &k;
		if (bpf_map_lookup_elem(fd, &k, &v))
			continue;
		if (!net_key_in(&k, rules, n, with_port) || v.id >= n)
			differs(vf, map, "entry /%u not in the policy", k.prefixlen);
	}
	for (size_t i = 0; i < n; i++) {
		net_key(&rules[i], with_port, &k);
		if (bpf_map_lookup_elem(fd, &k, &v) || v.id != i)
			differs(vf, map, "rule %s missing or changed", rules[i].text);
	}
	if (vf->n != before)
		net_apply(fd, rules, n, with_port);
}

static const struct watch_entry *expect_find(const struct entry_set *s,
					     const struct xm_watch_key *k)
{
	struct watch_entry key = { .k = *k };

	return bsearch(&key, s->v, s->n, sizeof(*s->v), cmp_entry);
}

static bool media_dev(const struct policy *p, uint32_t dev)
{
	for (size_t i = 0; i < p->media.n; i++)
		if (p->media.v[i].dev == dev)
			return true;
	return false;
}

/* An entry the kernel may have learned at open time: a file below a configured tree, with
 * its tree's class, or a file on a media sink. */
static bool learned_ok(const struct policy *p, bool sinks, const struct xm_watch_key *k,
		       const struct xm_watch_val *v)
{
	if (!sinks)
		return v->flags == XM_W_SOURCE && id_has(&p->ids, v->source_id);
	if (v->flags == (XM_W_SINK | XM_W_MEDIA))
		return v->source_id == 0 && media_dev(p, k->dev);
	return v->flags == XM_W_SINK && id_has(&p->ids, v->source_id);
}

#define VERIFY_BATCH 512

/* Every entry of a watch map is either the policy's own, unchanged, or one the kernel
 * could have learned; and every entry the policy put in is still there. */
static void verify_watch(struct verify *vf, int fd, const char *map, struct entry_set *s,
			 bool sinks)
{
	static struct xm_watch_key keys[VERIFY_BATCH];
	static struct xm_watch_val vals[VERIFY_BATCH];
	uint8_t *seen = calloc(s->n ? s->n : 1, 1);
	uint64_t token = 0;
	void *in = NULL;
	int err = 0;

	if (!seen)
		return;
	while (err != -ENOENT) {
		__u32 count = VERIFY_BATCH;

		err = bpf_map_lookup_batch(fd, in, &token, keys, vals, &count, NULL);
		if (err && err != -ENOENT)
			break;
		for (__u32 i = 0; i < count && i < VERIFY_BATCH; i++) {
			const struct watch_entry *e = expect_find(s, &keys[i]);

			if (e)
				seen[e - s->v] = 1;
			if (e && !memcmp(&e->v, &vals[i], sizeof(e->v)))
				continue;
			if (!e && learned_ok(vf->p, sinks, &keys[i], &vals[i]))
				continue;
			differs(vf, map, "inode %u:%u/%llu %s (flags %#x)", keys[i].dev >> 20,
				keys[i].dev & 0xfffff, (unsigned long long)keys[i].ino,
				e ? "changed" : "not from the policy", vals[i].flags);
			if (e)
				bpf_map_update_elem(fd, &e->k, &e->v, BPF_ANY);
			else
				bpf_map_delete_elem(fd, &keys[i]);
		}
		in = &token;
	}
	for (size_t i = 0; i < s->n; i++) {
		if (seen[i] || bpf_map_update_elem(fd, &s->v[i].k, &s->v[i].v, BPF_NOEXIST) != 0)
			continue;
		differs(vf, map, "inode %u:%u/%llu of the policy was deleted",
			s->v[i].k.dev >> 20, s->v[i].k.dev & 0xfffff,
			(unsigned long long)s->v[i].k.ino);
	}
	free(seen);
}

int policy_verify(struct policy *p, policy_report_fn report, void *ctx)
{
	struct verify vf = { .p = p, .report = report, .ctx = ctx };

	verify_net(&vf, p->maps.allow, "allow", p->allow, p->n_allow, false);
	verify_net(&vf, p->maps.services, "services", p->services, p->n_services, true);
	verify_watch(&vf, p->maps.watch, "watch", &p->expect_watch, false);
	verify_watch(&vf, p->maps.sinks, "sinks", &p->expect_sinks, true);
	return (int)vf.n;
}
