// SPDX-License-Identifier: GPL-2.0-only
/*
 * Points in time as an investigator types them: RFC 3339 as the alerts carry it
 * ("2026-11-28T07:31:54.500Z", offsets "+02:00"), a date, unix seconds, or relative to
 * now ("-2h", "now", "today", "yesterday"). Hand-scanned rather than strptime, which
 * knows neither fractions nor "+02:00" and accepts trailing text in some forms.
 */
#include <ctype.h>
#include <errno.h>
#include <stdbool.h>
#include <string.h>
#include <time.h>

#include "parse.h"

#define NS 1000000000ULL
#define DAY_NS (86400ULL * NS)

/* Exactly n digits into *v; advances *p. */
static int digits(const char **p, int n, int *v)
{
	int x = 0;

	for (int i = 0; i < n; i++) {
		if (!isdigit((unsigned char)(*p)[i]))
			return -EINVAL;
		x = x * 10 + ((*p)[i] - '0');
	}
	*p += n;
	*v = x;
	return 0;
}

static int lit(const char **p, const char *set)
{
	if (!**p || !strchr(set, **p))
		return -EINVAL;
	(*p)++;
	return 0;
}

/* ".123456789" (1..9 digits; more are accepted and cut) into nanoseconds. */
static int fraction(const char **p, uint64_t *ns)
{
	uint64_t scale = NS / 10;
	int n = 0;

	*ns = 0;
	if (**p != '.' && **p != ',')
		return 0;
	for ((*p)++; isdigit((unsigned char)**p); (*p)++, n++) {
		*ns += (uint64_t)(**p - '0') * scale;
		scale /= 10;
	}
	return n ? 0 : -EINVAL;
}

/* "Z", "z", "+HH:MM", "-HH:MM", "+HHMM", or nothing (UTC), into seconds east of UTC. */
static int offset(const char **p, long *east_s)
{
	int sign, hh, mm;

	*east_s = 0;
	if (!**p)
		return 0;
	if (!lit(p, "Zz"))
		return 0;
	if (**p != '+' && **p != '-')
		return -EINVAL;
	sign = **p == '-' ? -1 : 1;
	(*p)++;
	if (digits(p, 2, &hh) || (**p == ':' && lit(p, ":")) || digits(p, 2, &mm) ||
	    hh > 23 || mm > 59)
		return -EINVAL;
	*east_s = sign * (hh * 3600L + mm * 60L);
	return 0;
}

static int days_in_month(int y, int m)
{
	static const int days[] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
	bool leap = (y % 4 == 0 && y % 100) || y % 400 == 0;

	return m == 2 && leap ? 29 : days[m - 1];
}

static int rfc3339(const char *s, uint64_t *out)
{
	struct tm tm = { 0 };
	int y, mo, d, h = 0, mi = 0, sec = 0;
	uint64_t frac = 0;
	long east = 0;
	time_t t;

	if (digits(&s, 4, &y) || lit(&s, "-") || digits(&s, 2, &mo) || lit(&s, "-") ||
	    digits(&s, 2, &d))
		return -EINVAL;
	if (*s && (lit(&s, "Tt ") || digits(&s, 2, &h) || lit(&s, ":") || digits(&s, 2, &mi)))
		return -EINVAL;
	if (*s == ':' && (lit(&s, ":") || digits(&s, 2, &sec) || fraction(&s, &frac)))
		return -EINVAL;
	if (offset(&s, &east) || *s)
		return -EINVAL;
	/* sec 60: a leap second, which time_t folds into the next one. */
	if (y < 1970 || mo < 1 || mo > 12 || d < 1 || d > days_in_month(y, mo) || h > 23 ||
	    mi > 59 || sec > 60)
		return -ERANGE;
	tm.tm_year = y - 1900;
	tm.tm_mon = mo - 1;
	tm.tm_mday = d;
	tm.tm_hour = h;
	tm.tm_min = mi;
	tm.tm_sec = sec;
	t = timegm(&tm) - east;
	if (t < 0)
		return -ERANGE;
	*out = (uint64_t)t * NS + frac;
	return 0;
}

/* Unix seconds, optionally with a fraction: "1795000008", "1795000008.25". */
static int unix_seconds(const char *s, uint64_t *out)
{
	const char *p = s;
	uint64_t secs = 0, frac;

	if (!isdigit((unsigned char)*p))
		return -EINVAL;
	for (; isdigit((unsigned char)*p); p++) {
		if (secs > (UINT64_MAX / NS - 9) / 10)
			return -ERANGE;
		secs = secs * 10 + (uint64_t)(*p - '0');
	}
	if (fraction(&p, &frac) || *p)
		return -EINVAL;
	*out = secs * NS + frac;
	return 0;
}

/* Local midnight days_back days before now: "today" is where the investigator sits. */
static int local_midnight(uint64_t now_ns, int days_back, uint64_t *out)
{
	time_t t = (time_t)(now_ns / NS);
	struct tm tm;

	if (!localtime_r(&t, &tm))
		return -ERANGE;
	tm.tm_hour = tm.tm_min = tm.tm_sec = 0;
	tm.tm_mday -= days_back;
	tm.tm_isdst = -1;
	t = mktime(&tm);
	if (t < 0)
		return -ERANGE;
	*out = (uint64_t)t * NS;
	return 0;
}

int parse_time(const char *s, uint64_t now_ns, uint64_t *out)
{
	uint64_t ago;
	int err;

	if (!s || !*s)
		return -EINVAL;
	if (!strcmp(s, "now")) {
		*out = now_ns;
		return 0;
	}
	if (!strcmp(s, "today"))
		return local_midnight(now_ns, 0, out);
	if (!strcmp(s, "yesterday"))
		return local_midnight(now_ns, 1, out);
	if (s[0] == '-') {
		err = parse_duration(s + 1, &ago);
		if (err)
			return err;
		if (ago > now_ns)
			return -ERANGE;
		*out = now_ns - ago;
		return 0;
	}
	if (strlen(s) >= 10 && s[4] == '-')
		return rfc3339(s, out);
	return unix_seconds(s, out);
}
