// SPDX-License-Identifier: GPL-2.0-only
/*
 * Value parsers for the configuration. Units are tables, so adding one is one line;
 * every number goes through strtoull with an end-pointer and overflow check, and
 * addresses through inet_pton. Nothing here allocates, so a hostile string can at
 * worst be refused.
 */
#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/array_size.h"
#include "parse.h"


struct unit {
	const char *name;
	uint64_t mult;
};

/* K, k and KiB are binary, KB and kB decimal: what people mean when they write them. */
static const struct unit size_units[] = {
	{ "", 1 }, { "B", 1 },
	{ "K", 1ULL << 10 }, { "k", 1ULL << 10 }, { "KiB", 1ULL << 10 },
	{ "KB", 1000ULL }, { "kB", 1000ULL },
	{ "M", 1ULL << 20 }, { "MiB", 1ULL << 20 }, { "MB", 1000000ULL },
	{ "G", 1ULL << 30 }, { "GiB", 1ULL << 30 }, { "GB", 1000000000ULL },
	{ "T", 1ULL << 40 }, { "TiB", 1ULL << 40 }, { "TB", 1000000000000ULL },
};

static const struct unit duration_units[] = {
	{ "", 1000000000ULL }, { "ns", 1 }, { "us", 1000ULL }, { "ms", 1000000ULL },
	{ "s", 1000000000ULL }, { "m", 60000000000ULL }, { "h", 3600000000000ULL },
	{ "d", 86400000000000ULL }, { "w", 604800000000000ULL },
};

/* The leading decimal digits of s; strtoull alone would also take "+5", " 5" and "-5". */
static int leading_u64(const char *s, uint64_t *out, const char **end)
{
	unsigned long long v;
	char *e;

	if (!s || !isdigit((unsigned char)s[0]))
		return -EINVAL;
	errno = 0;
	v = strtoull(s, &e, 10);
	if (errno == ERANGE)
		return -ERANGE;
	*out = v;
	*end = e;
	return 0;
}

int parse_u64(const char *s, uint64_t min, uint64_t max, uint64_t *out)
{
	const char *end;
	uint64_t v;
	int err = leading_u64(s, &v, &end);

	if (err)
		return err;
	if (*end)
		return -EINVAL;
	if (v < min || v > max)
		return -ERANGE;
	*out = v;
	return 0;
}

/* A number, at most one space, then a unit from the table matched exactly. */
static int parse_with_units(const char *s, const struct unit *units, size_t n, uint64_t *out)
{
	const char *end;
	uint64_t v;
	int err = leading_u64(s, &v, &end);

	if (err)
		return err;
	if (end[0] == ' ' && end[1] && end[1] != ' ')
		end++;
	for (size_t i = 0; i < n; i++) {
		if (strcmp(end, units[i].name))
			continue;
		if (v && units[i].mult > UINT64_MAX / v)
			return -ERANGE;
		*out = v * units[i].mult;
		return 0;
	}
	return -EINVAL;
}

int parse_size(const char *s, uint64_t *out)
{
	return parse_with_units(s, size_units, ARRAY_SIZE(size_units), out);
}

int parse_duration(const char *s, uint64_t *out)
{
	return parse_with_units(s, duration_units, ARRAY_SIZE(duration_units), out);
}

int parse_rate(const char *s, uint64_t *bytes, uint64_t *per_ns)
{
	uint64_t b, ns;
	char buf[64];
	char *slash;
	int err;

	if (!s || strlen(s) >= sizeof(buf))
		return -EINVAL;
	strcpy(buf, s);
	slash = strchr(buf, '/');
	if (!slash)
		return -EINVAL;
	*slash = '\0';
	err = parse_size(buf, &b);
	if (!err)
		err = parse_duration(slash + 1, &ns);
	if (!err && ns == 0)
		err = -ERANGE;
	if (err)
		return err;
	*bytes = b;
	*per_ns = ns;
	return 0;
}

int parse_double(const char *s, double min, double max, double *out)
{
	char *end;
	double v;

	/* Plain decimals only: keeps out strtod's extras "inf", "nan", "0x1p3", "1e3", " 5". */
	if (!s || !isdigit((unsigned char)s[0]) || s[strspn(s, "0123456789.")])
		return -EINVAL;
	errno = 0;
	v = strtod(s, &end);
	if (*end)
		return -EINVAL;
	if (errno == ERANGE || !isfinite(v) || v < min || v > max)
		return -ERANGE;
	*out = v;
	return 0;
}

/* "ADDR[/N]" into the mapped form; an IPv4 prefix is shifted by the 96 mapping bits. */
static int parse_addr_prefix(char *a, struct net_match *m)
{
	unsigned char v4[4];
	char *slash = strchr(a, '/');
	uint64_t prefix;
	int max, err;

	if (slash)
		*slash = '\0';
	memset(m->addr, 0, sizeof(m->addr));
	if (inet_pton(AF_INET, a, v4) == 1) {
		m->addr[10] = m->addr[11] = 0xff;
		memcpy(&m->addr[12], v4, 4);
		max = 32;
	} else if (inet_pton(AF_INET6, a, m->addr) == 1) {
		max = 128;
	} else {
		return -EINVAL;
	}
	prefix = max;
	if (slash) {
		err = parse_u64(slash + 1, 0, max, &prefix);
		if (err)
			return err;
	}
	m->prefix = (uint8_t)(max == 32 ? prefix + 96 : prefix);
	return 0;
}

/*
 * Finds where the address ends and the port begins. IPv6 with a port needs brackets
 * ("[::1]:443", "[fd00::/8]:443"); without brackets one colon means IPv4 with a port
 * and several mean a bare IPv6 address, so "::ffff:10.0.0.1" is not mistaken for one.
 */
static int split_port(char *buf, char **addr, char **port)
{
	char *colon = strchr(buf, ':');

	*addr = buf;
	*port = NULL;
	if (buf[0] == '[') {
		char *close = strchr(buf, ']');

		if (!close || (close[1] && close[1] != ':'))
			return -EINVAL;
		*close = '\0';
		*addr = buf + 1;
		if (close[1] == ':')
			*port = close + 2;
		return 0;
	}
	if (colon && !strchr(colon + 1, ':')) {
		*colon = '\0';
		*port = colon + 1;
	}
	return 0;
}

int parse_net_match(const char *s, struct net_match *out)
{
	struct net_match m = { 0 };
	char buf[96], *addr, *port;
	uint64_t p;
	int err;

	if (!s || !*s || strlen(s) >= sizeof(buf))
		return -EINVAL;
	strcpy(buf, s);
	err = split_port(buf, &addr, &port);
	if (!err)
		err = parse_addr_prefix(addr, &m);
	if (!err && port) {
		/* Port 0 is "any" inside the struct; in the file "any" is written by omission. */
		err = parse_u64(port, 1, 65535, &p);
		m.port = (uint16_t)p;
	}
	if (err)
		return err;
	/* Host bits beyond the prefix are cleared so equal rules compare equal. */
	for (int bit = m.prefix; bit < 128; bit++)
		m.addr[bit / 8] &= (uint8_t)~(0x80 >> (bit % 8));
	snprintf(m.text, sizeof(m.text), "%s", s);
	*out = m;
	return 0;
}

/* A DNS name as RFC 1123 allows it: dot-separated labels of 1-63 letters, digits and
 * hyphens, not starting or ending with a hyphen, at most 253 characters. */
static bool host_name_ok(const char *h, size_t len)
{
	size_t label = 0;

	if (!len || len > 253)
		return false;
	for (size_t i = 0; i <= len; i++) {
		char ch = i < len ? h[i] : '.';

		if (ch == '.') {
			if (!label || h[i - 1] == '-')
				return false;
			label = 0;
		} else if (isalnum((unsigned char)ch) || (ch == '-' && label)) {
			if (++label > 63)
				return false;
		} else {
			return false;
		}
	}
	/* All digits and dots is an IPv4 address or nothing ("300.1.1.1"). */
	return strspn(h, "0123456789.") != len;
}

int parse_host_port(const char *s, char *host, size_t host_len, uint16_t *port)
{
	const char *colon = s ? strrchr(s, ':') : NULL, *h = s;
	unsigned char addr[16];
	char buf[256];
	size_t hl;
	uint64_t p;
	int err;

	if (!colon || colon == s)
		return -EINVAL;
	hl = (size_t)(colon - s);
	if (s[0] == '[') {
		/* "[v6]:port": the bracket must close right before the port's colon. */
		if (hl < 3 || colon[-1] != ']')
			return -EINVAL;
		h++;
		hl -= 2;
	}
	if (hl >= sizeof(buf) || hl >= host_len)
		return -EINVAL;
	memcpy(buf, h, hl);
	buf[hl] = '\0';
	if (s[0] == '[' ? inet_pton(AF_INET6, buf, addr) != 1
			: !(inet_pton(AF_INET, buf, addr) == 1 || host_name_ok(buf, hl)))
		return -EINVAL;
	err = parse_u64(colon + 1, 1, 65535, &p);
	if (err)
		return err;
	memcpy(host, buf, hl + 1);
	*port = (uint16_t)p;
	return 0;
}
