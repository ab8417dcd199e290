// SPDX-License-Identifier: GPL-2.0-only
/* Quoted CSV fields with formula cells neutralised (csv.h says why). */
#include <string.h>

#include "csv.h"

bool csv_is_formula(const char *s)
{
	return s && *s && strchr("=+-@\t\r", *s);
}

void csv_write_field(FILE *f, const char *s, bool last)
{
	fputc('"', f);
	if (csv_is_formula(s))
		fputc('\'', f);
	for (; s && *s; s++) {
		if (*s == '"')
			fputc('"', f);
		fputc(*s == '\n' || *s == '\r' ? ' ' : *s, f);
	}
	fputc('"', f);
	fputc(last ? '\n' : ',', f);
}
