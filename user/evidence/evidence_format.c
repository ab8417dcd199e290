// SPDX-License-Identifier: GPL-2.0-only
/*
 * What the evidence writer and reader must agree on: the block hash, record framing in a
 * payload, which sessions a record concerns, the index line and segment naming. Kept in
 * one place so the writer's index and verify's recomputation cannot drift apart.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <lz4.h>
#include <openssl/evp.h>
#include <zlib.h>

#include "common/array_size.h"
#include "evidence_format.h"

static int cmp_u32(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

	return x < y ? -1 : x > y;
}

/* The canonical bytes of a session set: sorted unique ids (u32, little-endian as
 * everything here), then the "every session" byte. Returns the length. */
static size_t sessions_canonical(const struct ev_session_set *s, unsigned char *out)
{
	uint32_t ids[EV_INDEX_MAX_SESSIONS];
	unsigned n = 0;

	memcpy(ids, s->ids, s->n * sizeof(ids[0]));
	qsort(ids, s->n, sizeof(ids[0]), cmp_u32);
	for (unsigned i = 0; i < s->n; i++)
		if (!i || ids[i] != ids[i - 1])
			ids[n++] = ids[i];
	memcpy(out, ids, n * sizeof(ids[0]));
	out[n * sizeof(ids[0])] = s->all;
	return n * sizeof(ids[0]) + 1;
}

void ev_block_hash(const struct ev_block_hdr *h, const void *payload,
		   const struct ev_session_set *s, uint8_t out[32])
{
	unsigned char canon[EV_INDEX_MAX_SESSIONS * 4 + 1];
	struct ev_block_hdr copy = *h;
	EVP_MD_CTX *ctx;
	unsigned int n = 0;
	size_t canon_len = 0;

	/* A hash that cannot be computed must never match a stored one. */
	memset(out, 0xff, 32);
	if (h->flags & EV_FLAG_SESSIONS) {
		if (!s || s->n > EV_INDEX_MAX_SESSIONS)
			return;
		canon_len = sessions_canonical(s, canon);
	}
	memset(copy.hash, 0, sizeof(copy.hash));
	ctx = EVP_MD_CTX_new();
	if (ctx && EVP_DigestInit_ex(ctx, EVP_sha256(), NULL) &&
	    EVP_DigestUpdate(ctx, h->prev_hash, sizeof(h->prev_hash)) &&
	    EVP_DigestUpdate(ctx, &copy, sizeof(copy)) &&
	    EVP_DigestUpdate(ctx, payload, h->comp_len) &&
	    EVP_DigestUpdate(ctx, canon, canon_len))
		EVP_DigestFinal_ex(ctx, out, &n);
	EVP_MD_CTX_free(ctx);
}

static uint32_t block_codec(const struct ev_block_hdr *h)
{
	return h->version < 3 ? EV_CODEC_ZLIB : (h->flags & EV_CODEC_MASK) >> EV_CODEC_SHIFT;
}

/* Version 1: zlib, no flags. 2: zlib, the session set hashed. 3: as 2, with the codec
 * named in the flags. */
static bool version_known(const struct ev_block_hdr *h)
{
	switch (h->version) {
	case 1:
		return h->flags == 0;
	case 2:
		return !(h->flags & ~EV_FLAG_SESSIONS);
	case 3:
		return !(h->flags & ~(EV_FLAG_SESSIONS | EV_CODEC_MASK)) &&
		       (block_codec(h) == EV_CODEC_ZLIB || block_codec(h) == EV_CODEC_LZ4);
	default:
		return false;
	}
}

int ev_block_inflate(const struct ev_block_hdr *h, const void *comp, unsigned char **raw,
		     size_t *cap, size_t *raw_len, struct ev_session_set *s)
{
	if (*cap < (size_t)h->raw_len + 1) {
		unsigned char *p = realloc(*raw, h->raw_len + 1);

		if (!p)
			return -ENOMEM;
		*raw = p;
		*cap = h->raw_len + 1;
	}
	if (ev_block_decompress(h, comp, *raw))
		return -EINVAL;
	*raw_len = h->raw_len;
	if (s && ev_payload_sessions(*raw, *raw_len, s) < 0)
		return -EINVAL;
	return 0;
}

bool ev_block_hash_matches(const struct ev_block_hdr *h, const void *comp,
			   const struct ev_session_set *s)
{
	uint8_t hash[32];

	ev_block_hash(h, comp, h->flags & EV_FLAG_SESSIONS ? s : NULL, hash);
	return !memcmp(hash, h->hash, 32);
}

bool ev_block_hash_ok(const struct ev_block_hdr *h, const void *comp)
{
	struct ev_session_set s;
	unsigned char *raw = NULL;
	size_t cap = 0, raw_len;
	bool ok = false;

	if (!(h->flags & EV_FLAG_SESSIONS))
		return ev_block_hash_matches(h, comp, NULL);
	if (ev_block_inflate(h, comp, &raw, &cap, &raw_len, &s) == 0)
		ok = ev_block_hash_matches(h, comp, &s);
	free(raw);
	return ok;
}

bool ev_hdr_plausible(const struct ev_block_hdr *h)
{
	/* zlib never expands more than about 1032:1 and LZ4 about 255:1, so a larger
	 * raw_len is a lie that would only make a reader allocate. */
	return !memcmp(h->magic, EV_MAGIC, 8) && version_known(h) &&
	       h->hdr_len == EV_HDR_LEN && h->comp_len <= EV_MAX_PAYLOAD &&
	       h->raw_len <= EV_MAX_PAYLOAD && h->raw_len <= (uint64_t)h->comp_len * 1040 + 64;
}

/* LZ4's block format at its default (fastest) setting: about seven times fewer
 * instructions per event than zlib level 1 on our records, for blocks about 1.5 times
 * larger (docs/benchmarks.md). */
size_t ev_block_compress(const void *raw, size_t raw_len, unsigned char **out,
			 uint32_t *flags)
{
	int bound = LZ4_compressBound((int)raw_len);
	int n;

	*out = NULL;
	*flags = EV_CODEC_LZ4 << EV_CODEC_SHIFT;
	if (raw_len > EV_MAX_PAYLOAD || bound <= 0)
		return 0;
	*out = malloc(bound);
	if (!*out)
		return 0;
	n = LZ4_compress_default(raw, (char *)*out, (int)raw_len, bound);
	return n > 0 ? (size_t)n : 0;
}

int ev_block_decompress(const struct ev_block_hdr *h, const void *comp, void *raw)
{
	uLongf zlen = h->raw_len;

	if (!version_known(h) || h->raw_len > EV_MAX_PAYLOAD || h->comp_len > EV_MAX_PAYLOAD)
		return -EINVAL;
	switch (block_codec(h)) {
	case EV_CODEC_ZLIB:
		if (uncompress(raw, &zlen, comp, h->comp_len) != Z_OK || zlen != h->raw_len)
			return -EINVAL;
		return 0;
	case EV_CODEC_LZ4:
		/* _safe never writes past raw_len nor reads past comp_len, whatever the
		 * payload says. */
		if (LZ4_decompress_safe(comp, raw, (int)h->comp_len, (int)h->raw_len) !=
		    (int)h->raw_len)
			return -EINVAL;
		return 0;
	default:
		return -EINVAL;
	}
}

int ev_payload_next(const unsigned char *raw, size_t raw_len, size_t *pos,
		    struct ev_raw_record *r)
{
	uint32_t len;
	size_t p = *pos;

	if (p == raw_len)
		return 0;
	if (raw_len - p < 4)
		return -EINVAL;
	memcpy(&len, raw + p, 4);
	if (len < EV_REC_FIXED || len > raw_len - p - 4 || raw[p + 20] > len - EV_REC_FIXED)
		return -EINVAL;
	memcpy(&r->seq, raw + p + 4, 8);
	memcpy(&r->ts_ns, raw + p + 12, 8);
	r->type_len = raw[p + 20];
	r->type = (const char *)raw + p + 21;
	r->json = r->type + r->type_len;
	r->json_len = len - EV_REC_FIXED - r->type_len;
	*pos = p + 4 + len;
	return 1;
}

void ev_session_set_add(struct ev_session_set *s, uint32_t id)
{
	for (unsigned i = 0; i < s->n; i++)
		if (s->ids[i] == id)
			return;
	if (s->n == EV_INDEX_MAX_SESSIONS)
		s->all = true;
	else
		s->ids[s->n++] = id;
}

static bool type_is(const char *type, size_t len, const char *name)
{
	return strlen(name) == len && !memcmp(type, name, len);
}

void ev_session_set_note_doc(struct ev_session_set *s, const char *type, size_t type_len,
			     const json_t *doc)
{
	json_t *sid;

	if (type_is(type, type_len, "retention") || type_is(type, type_len, "recovery")) {
		s->all = true;
		return;
	}
	if (!doc)
		return;
	sid = json_object_get(type_is(type, type_len, "alert") ? json_object_get(doc, "exfilmon")
							       : doc, "session_id");
	if (json_is_integer(sid) && json_integer_value(sid) >= 0 &&
	    json_integer_value(sid) <= UINT32_MAX)
		ev_session_set_add(s, (uint32_t)json_integer_value(sid));
	else if (json_is_null(sid) &&
		 (type_is(type, type_len, "gap") || type_is(type, type_len, "integrity")))
		s->all = true;
}

void ev_session_set_note(struct ev_session_set *s, const char *type, size_t type_len,
			 const char *json, size_t json_len)
{
	json_t *o = NULL;

	/* Only the record types whose set does not follow from the type need the parse. */
	if (!type_is(type, type_len, "retention") && !type_is(type, type_len, "recovery"))
		o = json_loadb(json, json_len, 0, NULL);
	ev_session_set_note_doc(s, type, type_len, o);
	json_decref(o);
}

bool ev_session_set_has(const struct ev_session_set *s, uint32_t session_id)
{
	if (s->all)
		return true;
	for (unsigned i = 0; i < s->n; i++)
		if (s->ids[i] == session_id)
			return true;
	return false;
}

bool ev_session_set_equal(const struct ev_session_set *a, const struct ev_session_set *b)
{
	if (a->all != b->all || a->n != b->n)
		return false;
	for (unsigned i = 0; i < a->n; i++) {
		unsigned j = 0;

		while (j < b->n && b->ids[j] != a->ids[i])
			j++;
		if (j == b->n)
			return false;
	}
	return true;
}

int ev_payload_sessions(const unsigned char *raw, size_t raw_len, struct ev_session_set *s)
{
	struct ev_raw_record r;
	size_t pos = 0;
	int got;

	memset(s, 0, sizeof(*s));
	while ((got = ev_payload_next(raw, raw_len, &pos, &r)) > 0)
		ev_session_set_note(s, r.type, r.type_len, r.json, r.json_len);
	return got;
}

size_t ev_index_format(const struct ev_index_entry *e, char *buf, size_t len)
{
	const struct ev_session_set *s = &e->sessions;
	size_t used = snprintf(buf, len, "%llu %llu %llu %llu %llu %u ",
			       (unsigned long long)e->block_no, (unsigned long long)e->offset,
			       (unsigned long long)e->first_ts, (unsigned long long)e->last_ts,
			       (unsigned long long)e->first_seq, e->n_records);

	if (!s->all && !s->n)
		used += snprintf(buf + used, len - used, "-");
	if (s->all)
		used += snprintf(buf + used, len - used, "*");
	for (unsigned i = 0; i < s->n && used < len; i++)
		used += snprintf(buf + used, len - used, "%s%u", i || s->all ? "," : "", s->ids[i]);
	if (used < len)
		used += snprintf(buf + used, len - used, "\n");
	return used < len ? used : len - 1;
}

static int parse_u64(const char **p, uint64_t *v)
{
	char *end;

	if (**p < '0' || **p > '9')
		return -EINVAL;
	errno = 0;
	*v = strtoull(*p, &end, 10);
	if (errno || (*end != ' ' && *end != ',' && *end != '\n'))
		return -EINVAL;
	*p = end;
	return 0;
}

static int parse_sessions(const char *p, struct ev_session_set *s)
{
	uint64_t v;

	memset(s, 0, sizeof(*s));
	if (!strcmp(p, "-\n"))
		return 0;
	for (;;) {
		if (*p == '*') {
			s->all = true;
			p++;
		} else if (parse_u64(&p, &v) || v > UINT32_MAX || s->n == EV_INDEX_MAX_SESSIONS) {
			return -EINVAL;
		} else {
			s->ids[s->n++] = (uint32_t)v;
		}
		if (*p == '\n' && !p[1])
			return 0;
		if (*p++ != ',')
			return -EINVAL;
	}
}

int ev_index_parse(const char *line, struct ev_index_entry *e)
{
	uint64_t *fields[] = { &e->block_no, &e->offset, &e->first_ts, &e->last_ts, &e->first_seq };
	const char *p = line;
	uint64_t n;

	for (size_t i = 0; i < ARRAY_SIZE(fields); i++)
		if (parse_u64(&p, fields[i]) || *p++ != ' ')
			return -EINVAL;
	if (parse_u64(&p, &n) || n > UINT32_MAX || *p++ != ' ')
		return -EINVAL;
	e->n_records = (uint32_t)n;
	return parse_sessions(p, &e->sessions);
}

void ev_index_path(const char *dir, const char *seg, char *out, size_t len)
{
	snprintf(out, len, "%s/%.20s.idx", dir, seg);
}

static int cmp_name(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static bool is_segment_name(const char *name)
{
	if (strlen(name) != EV_SEG_NAME_LEN || strncmp(name, "seg-", 4) ||
	    strcmp(name + 20, ".xev"))
		return false;
	for (int i = 4; i < 20; i++)
		if (!strchr("0123456789abcdef", name[i]))
			return false;
	return true;
}

int ev_list_segments(const char *dir, char ***names, size_t *n)
{
	DIR *d = opendir(dir);
	struct dirent *de;
	size_t cap = 0;
	int err = 0;

	*names = NULL;
	*n = 0;
	if (!d)
		return -errno;
	while ((de = readdir(d))) {
		if (!is_segment_name(de->d_name))
			continue;
		if (*n == cap) {
			char **v = realloc(*names, (cap = cap ? cap * 2 : 16) * sizeof(char *));

			if (!v) {
				err = -ENOMEM;
				break;
			}
			*names = v;
		}
		if (!((*names)[*n] = strdup(de->d_name))) {
			err = -ENOMEM;
			break;
		}
		(*n)++;
	}
	closedir(d);
	if (err) {
		ev_free_names(*names, *n);
		*names = NULL;
		*n = 0;
		return err;
	}
	/* An empty directory leaves *names NULL, which qsort may not be given. */
	if (*n)
		qsort(*names, *n, sizeof(char *), cmp_name);
	return 0;
}

void ev_free_names(char **names, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(names[i]);
	free(names);
}
