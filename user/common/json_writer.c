// SPDX-License-Identifier: GPL-2.0-only
/*
 * A small JSON writer over a reusable buffer, and the UTF-8 sanitiser every string from
 * the system passes through (a path is whatever bytes a user chose). See json_writer.h.
 */
#include <errno.h>
#include <stdbool.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <jansson.h>

#include "json_writer.h"

/* Length of the valid UTF-8 sequence at s (1-4), or 0 when it is not valid. */
static size_t utf8_seq(const unsigned char *s, size_t left)
{
	size_t n;
	uint32_t cp;

	if (s[0] < 0x80)
		return 1;
	if ((s[0] & 0xe0) == 0xc0)
		n = 2, cp = s[0] & 0x1f;
	else if ((s[0] & 0xf0) == 0xe0)
		n = 3, cp = s[0] & 0x0f;
	else if ((s[0] & 0xf8) == 0xf0)
		n = 4, cp = s[0] & 0x07;
	else
		return 0;
	if (n > left)
		return 0;
	for (size_t i = 1; i < n; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		cp = cp << 6 | (s[i] & 0x3f);
	}
	/* Overlong forms, surrogates and out-of-range code points are not UTF-8. */
	if ((n == 2 && cp < 0x80) || (n == 3 && cp < 0x800) || (n == 4 && cp < 0x10000) ||
	    (cp >= 0xd800 && cp <= 0xdfff) || cp > 0x10ffff)
		return 0;
	return n;
}

/* Writes "\xNN" for one byte; the backslash itself is escaped the same way so that every
 * backslash in the output starts an escape and the original bytes are recoverable. */
static size_t escape_byte(unsigned char b, char *out, size_t room)
{
	if (room < 5)
		return 0;
	snprintf(out, 5, "\\x%02x", b);
	return 4;
}

void json_sanitize_utf8(const char *in, size_t in_len, char *out, size_t len)
{
	const unsigned char *s = (const unsigned char *)in;
	size_t o = 0;

	if (!len)
		return;
	for (size_t i = 0; i < in_len && s[i];) {
		size_t n = s[i] == '\\' ? 0 : utf8_seq(s + i, in_len - i), w;

		if (n) {
			if (o + n >= len)
				break;
			memcpy(out + o, s + i, n);
			o += n;
			i += n;
			continue;
		}
		w = escape_byte(s[i], out + o, len - o);
		if (!w)
			break;
		o += w;
		i++;
	}
	out[o] = '\0';
}

void json_buf_reset(struct json_buf *b)
{
	b->len = 0;
	b->oom = 0;
	b->members = 0;
	if (b->p)
		b->p[0] = '\0';
}

void json_buf_free(struct json_buf *b)
{
	free(b->p);
	memset(b, 0, sizeof(*b));
}

char *json_buf_take(struct json_buf *b)
{
	char *s = b->oom ? NULL : b->p;

	if (b->oom)
		free(b->p);
	memset(b, 0, sizeof(*b));
	if (!s)
		errno = ENOMEM;
	return s;
}

/* room()'s slow path: the buffer grows (doubling) or is marked out of memory. */
static bool grow(struct json_buf *b, size_t n)
{
	size_t cap;
	char *p;

	if (b->oom)
		return false;
	cap = b->cap ? b->cap : 256;
	while (cap < b->len + n + 1)
		cap *= 2;
	p = realloc(b->p, cap);
	if (!p) {
		b->oom = 1;
		return false;
	}
	b->p = p;
	b->cap = cap;
	return true;
}

/* Room for n more bytes and the terminator. Inline: it runs for every key and value of
 * every record, and the reused buffer almost never has to grow. */
static inline bool room(struct json_buf *b, size_t n)
{
	return (!b->oom && b->len + n + 1 <= b->cap) || grow(b, n);
}

static void put(struct json_buf *b, const char *s, size_t n)
{
	if (!room(b, n))
		return;
	memcpy(b->p + b->len, s, n);
	b->len += n;
	b->p[b->len] = '\0';
}

void json_obj_begin(struct json_buf *b)
{
	put(b, "{", 1);
	b->members = 0;
}

void json_obj_end(struct json_buf *b)
{
	put(b, "}", 1);
}

static void key(struct json_buf *b, const char *k, size_t n)
{
	if (!room(b, n + 4))
		return;
	if (b->members++)
		b->p[b->len++] = ',';
	b->p[b->len++] = '"';
	memcpy(b->p + b->len, k, n);
	b->len += n;
	b->p[b->len++] = '"';
	b->p[b->len++] = ':';
	b->p[b->len] = '\0';
}

/* JSON string escaping of valid UTF-8 as jansson's dump does it without flags: quote,
 * backslash and control characters only; "\u%04X" where no short form exists. */
static void put_escaped(struct json_buf *b, const char *s, size_t n)
{
	static const char hex[] = "0123456789ABCDEF";

	/* Worst case six bytes per input byte, plus the quotes. */
	if (!room(b, 6 * n + 2))
		return;
	b->p[b->len++] = '"';
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		char *o = b->p + b->len;

		if (c >= 0x20 && c != '"' && c != '\\') {
			*o = (char)c;
			b->len++;
			continue;
		}
		o[0] = '\\';
		b->len += 2;
		switch (c) {
		case '"': o[1] = '"'; break;
		case '\\': o[1] = '\\'; break;
		case '\b': o[1] = 'b'; break;
		case '\f': o[1] = 'f'; break;
		case '\n': o[1] = 'n'; break;
		case '\r': o[1] = 'r'; break;
		case '\t': o[1] = 't'; break;
		default:
			memcpy(o + 1, "u00", 3);
			o[4] = hex[c >> 4];
			o[5] = hex[c & 15];
			b->len += 4;
		}
	}
	b->p[b->len++] = '"';
	b->p[b->len] = '\0';
}

/* Bytes a plain string may hold: printable ASCII but quote (0x22) and backslash (0x5c). */
static const bool plain_byte[256] = {
	[0x20 ... 0x21] = true, [0x23 ... 0x5b] = true, [0x5d ... 0x7e] = true,
};

/* The common case, printable ASCII without quote or backslash, needs neither pass. */
static bool plain(const char *s, size_t *len)
{
	size_t i = 0;

	for (; s[i]; i++)
		if (!plain_byte[(unsigned char)s[i]])
			return false;
	*len = i;
	return i <= PATH_MAX * 4;
}

void json_keyn_str(struct json_buf *b, const char *k, size_t k_len, const char *val)
{
	char clean[PATH_MAX * 4 + 1];
	size_t n;

	if (!val) {
		json_keyn_null(b, k, k_len);
		return;
	}
	key(b, k, k_len);
	if (plain(val, &n)) {
		if (!room(b, n + 2))
			return;
		b->p[b->len++] = '"';
		memcpy(b->p + b->len, val, n);
		b->len += n;
		b->p[b->len++] = '"';
		b->p[b->len] = '\0';
		return;
	}
	json_sanitize_utf8(val, strlen(val), clean, sizeof(clean));
	put_escaped(b, clean, strlen(clean));
}

void json_keyn_int(struct json_buf *b, const char *k, size_t k_len, int64_t v)
{
	static const char pairs[] =
		"00010203040506070809101112131415161718192021222324252627282930313233343536373839"
		"40414243444546474849505152535455565758596061626364656667686970717273747576777879"
		"8081828384858687888990919293949596979899";
	char digits[24];
	size_t i = sizeof(digits);
	/* Unsigned negation is defined for INT64_MIN too. */
	uint64_t u = v < 0 ? -(uint64_t)v : (uint64_t)v;

	while (u >= 100) {
		unsigned d = (unsigned)(u % 100);

		u /= 100;
		i -= 2;
		memcpy(digits + i, pairs + 2 * d, 2);
	}
	if (u >= 10) {
		i -= 2;
		memcpy(digits + i, pairs + 2 * u, 2);
	} else {
		digits[--i] = (char)('0' + u);
	}
	if (v < 0)
		digits[--i] = '-';
	key(b, k, k_len);
	put(b, digits + i, sizeof(digits) - i);
}

void json_keyn_raw(struct json_buf *b, const char *k, size_t k_len, const char *raw)
{
	key(b, k, k_len);
	put(b, raw, strlen(raw));
}

void json_keyn_null(struct json_buf *b, const char *k, size_t k_len)
{
	key(b, k, k_len);
	put(b, "null", 4);
}

