// SPDX-License-Identifier: GPL-2.0-only
/*
 * Value parsers for the configuration. Units are tables, so adding one is one line;
 * every number goes through strtoull with an end-pointer and overflow check.
 */
#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "parse.h"

struct unit {
	const char *name;
	uint64_t mult;
};

static const struct unit size_units[] = {
	{ "", 1 }, { "B", 1 },
	{ "K", 1ULL << 10 }, { "KiB", 1ULL << 10 }, { "KB", 1000ULL },
	{ "M", 1ULL << 20 }, { "MiB", 1ULL << 20 }, { "MB", 1000000ULL },
	{ "G", 1ULL << 30 }, { "GiB", 1ULL << 30 }, { "GB", 1000000000ULL },
	{ "T", 1ULL << 40 }, { "TiB", 1ULL << 40 }, { "TB", 1000000000000ULL },
};

static const struct unit duration_units[] = {
	{ "", 1000000000ULL }, { "ns", 1 }, { "us", 1000ULL }, { "ms", 1000000ULL },
	{ "s", 1000000000ULL }, { "m", 60000000000ULL }, { "h", 3600000000000ULL },
	{ "d", 86400000000000ULL }, { "w", 604800000000000ULL },
};

int parse_u64(const char *s, uint64_t min, uint64_t max, uint64_t *out)
{
	unsigned long long v;
	char *end;

	if (!s || !isdigit((unsigned char)s[0]))
		return -EINVAL;
	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno == ERANGE)
		return -ERANGE;
	if (*end)
		return -EINVAL;
	if (v < min || v > max)
		return -ERANGE;
	*out = v;
	return 0;
}

/* A number followed by a unit from the table; the unit must match exactly. */
static int parse_with_units(const char *s, const struct unit *units, size_t n, uint64_t *out)
{
	unsigned long long v;
	char *end;

	if (!s || !isdigit((unsigned char)s[0]))
		return -EINVAL;
	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno == ERANGE)
		return -ERANGE;
	while (*end == ' ')
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
	return parse_with_units(s, size_units, sizeof(size_units) / sizeof(size_units[0]), out);
}

int parse_duration(const char *s, uint64_t *out)
{
	return parse_with_units(s, duration_units,
				sizeof(duration_units) / sizeof(duration_units[0]), out);
}

int parse_rate(const char *s, uint64_t *bytes, uint64_t *per_ns)
{
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
	err = parse_size(buf, bytes);
	if (!err)
		err = parse_duration(slash + 1, per_ns);
	if (!err && *per_ns == 0)
		err = -ERANGE;
	return err;
}

int parse_double(const char *s, double min, double max, double *out)
{
	char *end;
	double v;

	if (!s || !*s)
		return -EINVAL;
	errno = 0;
	v = strtod(s, &end);
	if (errno == ERANGE || isnan(v))
		return -ERANGE;
	if (*end)
		return -EINVAL;
	if (v < min || v > max)
		return -ERANGE;
	*out = v;
	return 0;
}

/* Splits "ADDR[/N]" into the address and prefix; v4 addresses become mapped. */
static int parse_addr_prefix(char *a, struct net_match *m)
{
	unsigned char v4[4];
	char *slash = strchr(a, '/');
	uint64_t prefix = 0;
	int max;

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
	if (slash && parse_u64(slash + 1, 0, max, &prefix))
		return -ERANGE;
	if (!slash)
		prefix = max;
	m->prefix = (uint8_t)(max == 32 ? prefix + 96 : prefix);
	return 0;
}

int parse_net_match(const char *s, struct net_match *out)
{
	struct net_match m = { 0 };
	char buf[96], *addr = buf, *port = NULL;
	uint64_t p;

	if (!s || strlen(s) >= sizeof(buf) || !*s)
		return -EINVAL;
	strcpy(buf, s);
	if (buf[0] == '[') {
		char *close = strchr(buf, ']');

		if (!close)
			return -EINVAL;
		*close = '\0';
		addr = buf + 1;
		if (close[1] == '/') {
			/* "[v6]/n:port": move the prefix inside for one code path. */
			return -EINVAL;
		}
		if (close[1] == ':')
			port = close + 2;
		else if (close[1])
			return -EINVAL;
	} else if (strchr(buf, '.') && strchr(buf, ':')) {
		port = strrchr(buf, ':');
		*port++ = '\0';
	} else if (!strchr(buf, ':') && strchr(buf, '.') == NULL) {
		return -EINVAL;
	}
	if (parse_addr_prefix(addr, &m))
		return -EINVAL;
	if (port) {
		if (parse_u64(port, 1, 65535, &p))
			return -EINVAL;
		m.port = (uint16_t)p;
	}
	/* Host bits beyond the prefix are cleared so equal rules compare equal. */
	for (int bit = m.prefix; bit < 128; bit++)
		m.addr[bit / 8] &= (uint8_t)~(0x80 >> (bit % 8));
	snprintf(m.text, sizeof(m.text), "%s", s);
	*out = m;
	return 0;
}
