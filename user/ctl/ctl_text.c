// SPDX-License-Identifier: GPL-2.0-only
/*
 * Terminal-safe text for exfilctl's human output. Paths, command lines, comm and user
 * fields are chosen by the people being investigated: a newline in a file name would
 * forge a timeline line, an escape sequence could repaint the investigator's terminal.
 * Control bytes and backslash become \xNN (as in the JSON output), so what is printed
 * can be mapped back to the exact bytes.
 */
#include <stdio.h>

#include "ctl.h"

void ctl_escape(char *dst, size_t len, const char *src)
{
	size_t o = 0;

	if (!len)
		return;
	for (const unsigned char *p = (const unsigned char *)src; *p; p++) {
		int unsafe = *p < 0x20 || *p == 0x7f || *p == '\\';
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

const char *ctl_safe(const char *src, char *buf, size_t len)
{
	ctl_escape(buf, len, src ? src : "");
	return buf;
}
