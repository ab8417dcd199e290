// SPDX-License-Identifier: GPL-2.0-only
/*
 * Terminal-safe text for exfilctl's human output. Paths, command lines, comm and user
 * fields are chosen by the people being investigated: a newline in a file name would
 * forge a timeline line, an escape sequence could repaint the investigator's terminal.
 * Control bytes and backslash become \xNN (as in the JSON output), so what is printed
 * can be mapped back to the exact bytes.
 */
#include <ctype.h>
#include <stdbool.h>
#include <stdio.h>

#include "ctl.h"

/* A "\xNN" the JSON output already wrote for a byte (json_sanitize_utf8). */
static bool stored_escape(const unsigned char *p)
{
	return p[0] == '\\' && p[1] == 'x' && isxdigit(p[2]) && isxdigit(p[3]);
}

static void escape(char *dst, size_t len, const char *src, bool stored)
{
	size_t o = 0;

	if (!len)
		return;
	for (const unsigned char *p = (const unsigned char *)src; *p; p++) {
		int unsafe = *p < 0x20 || *p == 0x7f || (*p == '\\' && !(stored && stored_escape(p)));
		size_t need = unsafe ? 4 : 1;

		if (o + need >= len)
			break;
		if (unsafe)
			o += snprintf(dst + o, len - o, "\\x%02x", *p);
		else
			dst[o++] = (char)*p;
	}
	dst[o] = '\0';
}

void ctl_escape(char *dst, size_t len, const char *src)
{
	escape(dst, len, src, false);
}

void ctl_escape_stored(char *dst, size_t len, const char *src)
{
	escape(dst, len, src, true);
}

const char *ctl_safe(const char *src, char *buf, size_t len)
{
	ctl_escape(buf, len, src ? src : "");
	return buf;
}

const char *ctl_safe_stored(const char *src, char *buf, size_t len)
{
	ctl_escape_stored(buf, len, src ? src : "");
	return buf;
}
