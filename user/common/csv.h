/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * CSV cells that are safe to open in a spreadsheet. The people being investigated choose
 * much of what a cell holds (comm via prctl(PR_SET_NAME), file names, command lines); a
 * cell starting with =, +, -, @, tab or carriage return is a live formula in Excel,
 * LibreOffice and Google Sheets (OWASP "CSV Injection"). Such a cell gets a leading
 * single quote, which spreadsheets show as text and a reader can strip.
 */
#ifndef EXFILMON_CSV_H
#define EXFILMON_CSV_H

#include <stdbool.h>
#include <stdio.h>

/* True when a spreadsheet would take s as a formula: its first byte is one of =+-@,
 * tab or carriage return. */
bool csv_is_formula(const char *s);

/* Writes s as one quoted field (RFC 4180: quotes doubled), a leading ' when
 * csv_is_formula(s), CR and LF as spaces so a record stays one line; then ',' or, for
 * the last field, '\n'. NULL is an empty field. */
void csv_write_field(FILE *f, const char *s, bool last);

#endif
