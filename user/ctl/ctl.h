/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * exfilctl subcommands: one file each (ctl_<name>.c), one entry point each. An entry
 * point gets argv with argv[0] = the subcommand name and returns the exit status:
 * 0 success, 1 failure, 2 bad usage.
 */
#ifndef EXFILMON_CTL_H
#define EXFILMON_CTL_H

#include <stdbool.h>
#include <stddef.h>

#include "model/paths.h"

int ctl_trace(int argc, char **argv);
int ctl_status(int argc, char **argv);
int ctl_verify(int argc, char **argv);
int ctl_sessions(int argc, char **argv);
int ctl_alerts(int argc, char **argv);
int ctl_timeline(int argc, char **argv);
int ctl_export(int argc, char **argv);
int ctl_report(int argc, char **argv);
int ctl_policy(int argc, char **argv);
/* exfilctl COMMAND --db CONNINFO ...: the views over the central store (ctl_db.c).
 * argv[0] is the command. ctl_wants_db says whether argv has --db. */
int ctl_db_main(int argc, char **argv);
bool ctl_wants_db(int argc, char **argv);

/* Copies SRC into DST (LEN bytes with the NUL) with control bytes and backslash as
 * \xNN, cut at a whole character: attacker-chosen strings printed for a human. */
void ctl_escape(char *dst, size_t len, const char *src);
/* ctl_escape into BUF, returning BUF: for printf arguments. */
const char *ctl_safe(const char *src, char *buf, size_t len);
/* As ctl_escape for a string decoded from the evidence or an alert, where the writer
 * already turned each backslash and each byte that is not UTF-8 into \xNN: those
 * escapes pass through unchanged (escaping them again would print \x5cx5c), control
 * bytes and any other backslash are escaped. */
void ctl_escape_stored(char *dst, size_t len, const char *src);
const char *ctl_safe_stored(const char *src, char *buf, size_t len);


#endif
