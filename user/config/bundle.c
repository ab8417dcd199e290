// SPDX-License-Identifier: GPL-2.0-only
/*
 * Policy bundles: a strict line parser (one table of header fields, each exactly once and
 * in order, no whitespace games, so one text has one meaning), the writer that signs, and
 * the verifier. Ed25519 is used through EVP_DigestSign/EVP_DigestVerify with no digest
 * (Ed25519 hashes the whole message itself); nothing cryptographic is written here.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "bundle.h"
#include "parse.h"

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

typedef int (*field_parser)(const char *value, struct bundle *b, const char **why);

struct field {
	const char *name;
	field_parser parse;
};

static int hex_value(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

/* Lower-case hex of exactly 2 * n digits into out (NULL: check only). */
static int parse_hex(const char *s, uint8_t *out, size_t n)
{
	if (strlen(s) != 2 * n)
		return -EINVAL;
	for (size_t i = 0; i < n; i++) {
		int hi = hex_value(s[2 * i]), lo = hex_value(s[2 * i + 1]);

		if (hi < 0 || lo < 0)
			return -EINVAL;
		if (out)
			out[i] = (uint8_t)(hi << 4 | lo);
	}
	return 0;
}

int bundle_parse_time(const char *s, int64_t *out)
{
	struct tm tm = { 0 }, back;
	char tail;
	time_t t;

	if (strlen(s) != 20 || sscanf(s, "%4d-%2d-%2dT%2d:%2d:%2d%c", &tm.tm_year, &tm.tm_mon,
				      &tm.tm_mday, &tm.tm_hour, &tm.tm_min, &tm.tm_sec,
				      &tail) != 7 || tail != 'Z')
		return -EINVAL;
	for (int i = 0; i < 19; i++)
		if ((i == 4 || i == 7) ? s[i] != '-' : i == 10 ? s[i] != 'T' :
		    (i == 13 || i == 16) ? s[i] != ':' : (s[i] < '0' || s[i] > '9'))
			return -EINVAL;
	tm.tm_year -= 1900;
	tm.tm_mon -= 1;
	back = tm;
	t = timegm(&tm);
	/* timegm normalizes Feb 30 into March; a date that moved was not a date. */
	if (t == (time_t)-1 || tm.tm_year != back.tm_year || tm.tm_mon != back.tm_mon ||
	    tm.tm_mday != back.tm_mday || tm.tm_hour != back.tm_hour ||
	    tm.tm_min != back.tm_min || tm.tm_sec != back.tm_sec)
		return -EINVAL;
	*out = t;
	return 0;
}

void bundle_format_time(int64_t t, char out[21])
{
	time_t tt = (time_t)t;
	struct tm tm;

	if (!gmtime_r(&tt, &tm) || !strftime(out, 21, "%Y-%m-%dT%H:%M:%SZ", &tm))
		snprintf(out, 21, "(invalid time)");
}

bool bundle_group_valid(const char *s)
{
	size_t n = strlen(s);

	if (n < 1 || n > BUNDLE_GROUP_MAX)
		return false;
	return strspn(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-") == n;
}

int bundle_sha256_hex(const void *data, size_t len, char out[65])
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int n = 0;

	if (!EVP_Digest(data, len, md, &n, EVP_sha256(), NULL) || n != 32)
		return -EIO;
	for (unsigned int i = 0; i < n; i++)
		snprintf(out + 2 * i, 3, "%02x", md[i]);
	return 0;
}

static int f_serial(const char *v, struct bundle *b, const char **why)
{
	*why = "expected a whole number from 1 to 9223372036854775807";
	return parse_u64(v, 1, INT64_MAX, &b->h.serial);
}

static int f_not_before(const char *v, struct bundle *b, const char **why)
{
	*why = "expected a UTC time such as 2026-12-04T15:00:00Z";
	return bundle_parse_time(v, &b->h.not_before);
}

static int f_expiry(const char *v, struct bundle *b, const char **why)
{
	*why = "expected a UTC time such as 2027-03-04T15:00:00Z";
	if (bundle_parse_time(v, &b->h.expiry))
		return -EINVAL;
	*why = "expiry is not after not_before";
	return b->h.expiry > b->h.not_before ? 0 : -EINVAL;
}

static int f_groups(const char *v, struct bundle *b, const char **why)
{
	const char *p = v;

	*why = "expected group names ([A-Za-z0-9_-], 1-64 characters) separated by ','";
	b->h.n_groups = 0;
	for (;;) {
		size_t n = strcspn(p, ",");
		char *g;

		if (b->h.n_groups == BUNDLE_MAX_GROUPS) {
			*why = "more than 32 groups";
			return -EINVAL;
		}
		if (n < 1 || n > BUNDLE_GROUP_MAX)
			return -EINVAL;
		g = b->h.groups[b->h.n_groups++];
		memcpy(g, p, n);
		g[n] = '\0';
		if (!bundle_group_valid(g))
			return -EINVAL;
		if (!p[n])
			return 0;
		p += n + 1;
	}
}

static int f_key_id(const char *v, struct bundle *b, const char **why)
{
	*why = "expected 16 lower-case hex digits";
	if (parse_hex(v, NULL, TRUST_KEY_ID_LEN / 2))
		return -EINVAL;
	memcpy(b->h.key_id, v, TRUST_KEY_ID_LEN + 1);
	return 0;
}

static int f_config_sha256(const char *v, struct bundle *b, const char **why)
{
	*why = "expected 64 lower-case hex digits";
	if (parse_hex(v, NULL, 32))
		return -EINVAL;
	memcpy(b->h.config_sha256, v, 65);
	return 0;
}

static int f_signature(const char *v, struct bundle *b, const char **why)
{
	*why = "expected 128 lower-case hex digits (an Ed25519 signature)";
	return parse_hex(v, b->signature, BUNDLE_SIG_LEN);
}

/* The header, in the only order accepted; the signature line must come last. */
static const struct field fields[] = {
	{ "serial", f_serial },
	{ "not_before", f_not_before },
	{ "expiry", f_expiry },
	{ "groups", f_groups },
	{ "key_id", f_key_id },
	{ "config_sha256", f_config_sha256 },
	{ "signature", f_signature },
};

bool bundle_detect(const char *text, size_t len)
{
	static const char prefix[] = "exfilmon-policy ";

	return len >= sizeof(prefix) - 1 && !memcmp(text, prefix, sizeof(prefix) - 1);
}

static int __attribute__((format(printf, 4, 5)))
fail(char **errors, const char *name, unsigned line, const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (errors && asprintf(errors, "%s:%u: %s\n", name, line, msg) < 0) {
		*errors = NULL;
		return -ENOMEM;
	}
	return -EINVAL;
}

/* One header line at text[*off]: "NAME: VALUE\n" for field f. */
static int parse_line(const char *name, const char *text, size_t len, size_t *off,
		      unsigned line, const struct field *f, struct bundle *b, char **errors)
{
	const char *start = text + *off, *nl;
	size_t n = strlen(f->name), vlen;
	char value[256];
	const char *why = NULL;

	nl = memchr(start, '\n', len - *off);
	if (!nl)
		return fail(errors, name, line, "header ends before the %s line (or a line has "
			    "no newline)", f->name);
	if ((size_t)(nl - start) < n + 2 || memcmp(start, f->name, n) || start[n] != ':' ||
	    start[n + 1] != ' ')
		return fail(errors, name, line, "expected \"%s: VALUE\" (header fields come in "
			    "a fixed order, docs/policy.md)", f->name);
	vlen = (size_t)(nl - start) - n - 2;
	if (vlen >= sizeof(value) || memchr(start + n + 2, '\0', vlen))
		return fail(errors, name, line, "%s: value too long or contains a NUL", f->name);
	memcpy(value, start + n + 2, vlen);
	value[vlen] = '\0';
	if (f->parse(value, b, &why))
		return fail(errors, name, line, "%s: %s", f->name, why);
	*off = (size_t)(nl - text) + 1;
	return 0;
}

int bundle_parse(const char *name, const char *text, size_t len, struct bundle *b,
		 char **errors)
{
	size_t off = strlen(BUNDLE_MAGIC);
	int err;

	memset(b, 0, sizeof(*b));
	if (errors)
		*errors = NULL;
	if (len < off || memcmp(text, BUNDLE_MAGIC, off))
		return fail(errors, name, 1, "not a policy bundle of format 1 (first line must be "
			    "\"exfilmon-policy 1\")");
	for (size_t i = 0; i < ARRAY_SIZE(fields); i++) {
		if (fields[i].parse == f_signature)
			b->signed_len = off;
		err = parse_line(name, text, len < BUNDLE_MAX_HEADER ? len : BUNDLE_MAX_HEADER,
				 &off, (unsigned)i + 2, &fields[i], b, errors);
		if (err)
			return err;
	}
	b->config = text + off;
	b->config_len = len - off;
	if (!b->config_len)
		return fail(errors, name, (unsigned)ARRAY_SIZE(fields) + 2,
			    "no config after the header");
	return 0;
}

static int verify_sig(EVP_PKEY *key, const uint8_t *sig, const void *msg, size_t len)
{
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	int ok;

	if (!ctx)
		return -ENOMEM;
	ok = EVP_DigestVerifyInit(ctx, NULL, NULL, NULL, key) == 1 &&
	     EVP_DigestVerify(ctx, sig, BUNDLE_SIG_LEN, msg, len) == 1;
	EVP_MD_CTX_free(ctx);
	return ok ? 0 : -EKEYREJECTED;
}

int bundle_verify(const struct bundle *b, const char *text, const struct trust *t, char *why,
		  size_t why_len)
{
	const struct trust_key *k = trust_find(t, b->h.key_id);
	char sha[65];
	int err;

	if (!k) {
		snprintf(why, why_len, "signed by key %s, which is not trusted (not in %s)",
			 b->h.key_id, t->dir);
		return -ENOKEY;
	}
	err = verify_sig(k->pkey, b->signature, text, b->signed_len);
	if (err) {
		snprintf(why, why_len, "bad signature (key %s, %s): the header was altered or "
			 "not signed by this key", b->h.key_id, k->file);
		return err;
	}
	if (bundle_sha256_hex(b->config, b->config_len, sha))
		return -EIO;
	if (strcmp(sha, b->h.config_sha256)) {
		snprintf(why, why_len, "config does not match the signed config_sha256 (signed "
			 "%.12s..., config is %.12s...): the config was altered",
			 b->h.config_sha256, sha);
		return -EBADMSG;
	}
	return 0;
}

static bool for_host(const struct bundle *b, const struct bundle_expect *e)
{
	for (size_t i = 0; i < b->h.n_groups; i++) {
		if (!strcmp(b->h.groups[i], "all"))
			return true;
		for (size_t j = 0; j < e->n_groups; j++)
			if (!strcmp(b->h.groups[i], e->groups[j]))
				return true;
	}
	return false;
}

static void join_groups(char *out, size_t len, const char *const *g, size_t n)
{
	size_t used = 0;

	out[0] = '\0';
	for (size_t i = 0; i < n && used < len; i++)
		used += (size_t)snprintf(out + used, len - used, "%s%s", i ? "," : "", g[i]);
	if (!n)
		snprintf(out, len, "(none)");
}

static int check_groups(const struct bundle *b, const struct bundle_expect *e, char *why,
			size_t why_len)
{
	const char *bg[BUNDLE_MAX_GROUPS];
	char have[512], want[512];

	if (for_host(b, e))
		return 0;
	for (size_t i = 0; i < b->h.n_groups; i++)
		bg[i] = b->h.groups[i];
	join_groups(want, sizeof(want), bg, b->h.n_groups);
	join_groups(have, sizeof(have), e->groups, e->n_groups);
	snprintf(why, why_len, "wrong group: bundle is for %s, this host is in %s (and all)",
		 want, have);
	return -EXDEV;
}

int bundle_check(const struct bundle *b, const struct bundle_expect *e, char *why,
		 size_t why_len)
{
	char t[21];

	if (e->check_time && e->now >= b->h.expiry) {
		bundle_format_time(b->h.expiry, t);
		snprintf(why, why_len, "expired at %s (serial %llu)", t,
			 (unsigned long long)b->h.serial);
		return -EKEYEXPIRED;
	}
	if (e->check_time && e->now < b->h.not_before) {
		bundle_format_time(b->h.not_before, t);
		snprintf(why, why_len, "not valid before %s (serial %llu)", t,
			 (unsigned long long)b->h.serial);
		return -EKEYEXPIRED;
	}
	if (b->h.serial < e->serial_in_force ||
	    (b->h.serial == e->serial_in_force && e->sha_in_force &&
	     strcmp(b->h.config_sha256, e->sha_in_force))) {
		snprintf(why, why_len, "rollback: serial %llu is %s serial %llu in force",
			 (unsigned long long)b->h.serial,
			 b->h.serial < e->serial_in_force ? "below" : "not above",
			 (unsigned long long)e->serial_in_force);
		return -ESTALE;
	}
	return check_groups(b, e, why, why_len);
}

static int sign_bytes(EVP_PKEY *key, const void *msg, size_t len, uint8_t sig[BUNDLE_SIG_LEN])
{
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	size_t sig_len = BUNDLE_SIG_LEN;
	int ok;

	if (!ctx)
		return -ENOMEM;
	ok = EVP_DigestSignInit(ctx, NULL, NULL, NULL, key) == 1 &&
	     EVP_DigestSign(ctx, sig, &sig_len, msg, len) == 1 && sig_len == BUNDLE_SIG_LEN;
	EVP_MD_CTX_free(ctx);
	return ok ? 0 : -EIO;
}

static int header_valid(const struct bundle_header *h)
{
	if (h->serial < 1 || h->serial > INT64_MAX || h->expiry <= h->not_before ||
	    h->n_groups < 1 || h->n_groups > BUNDLE_MAX_GROUPS)
		return -EINVAL;
	for (size_t i = 0; i < h->n_groups; i++)
		if (!bundle_group_valid(h->groups[i]))
			return -EINVAL;
	return 0;
}

/* The signed part: magic and every field but the signature. */
static int write_header(FILE *f, const struct bundle_header *h)
{
	char nb[21], ex[21];

	bundle_format_time(h->not_before, nb);
	bundle_format_time(h->expiry, ex);
	fprintf(f, "%sserial: %llu\nnot_before: %s\nexpiry: %s\ngroups: ", BUNDLE_MAGIC,
		(unsigned long long)h->serial, nb, ex);
	for (size_t i = 0; i < h->n_groups; i++)
		fprintf(f, "%s%s", i ? "," : "", h->groups[i]);
	return fprintf(f, "\nkey_id: %s\nconfig_sha256: %s\n", h->key_id, h->config_sha256) < 0
		? -EIO : 0;
}

int bundle_sign(const struct bundle_header *hdr, const char *config, size_t len, EVP_PKEY *key,
		char **out, size_t *out_len)
{
	struct bundle_header h = *hdr;
	uint8_t sig[BUNDLE_SIG_LEN];
	char *text = NULL;
	size_t size;        /* bytes written so far; after fclose, the whole bundle */
	FILE *f;
	int err;

	*out = NULL;
	if (header_valid(&h) || trust_key_id(key, h.key_id) || !len)
		return -EINVAL;
	if ((err = bundle_sha256_hex(config, len, h.config_sha256)))
		return err;
	f = open_memstream(&text, &size);
	if (!f)
		return -ENOMEM;
	err = write_header(f, &h);
	if (fflush(f) || err || (err = sign_bytes(key, text, size, sig)))
		goto out_close;
	fputs("signature: ", f);
	for (int i = 0; i < BUNDLE_SIG_LEN; i++)
		fprintf(f, "%02x", sig[i]);
	fputc('\n', f);
	if (fwrite(config, 1, len, f) != len)
		err = -EIO;
out_close:
	if (fclose(f) && !err)
		err = -ENOMEM;
	if (err) {
		free(text);
		return err;
	}
	*out = text;
	*out_len = size;
	return 0;
}
