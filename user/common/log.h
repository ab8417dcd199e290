/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * One logging module for the daemon and the CLI. Lines go to stderr when it is a
 * terminal (or when forced) and to syslog otherwise; each line starts with the module
 * that speaks ("sensors: attach sys_exit_read: Operation not permitted").
 */
#ifndef EXFILMON_LOG_H
#define EXFILMON_LOG_H

enum log_level { LOG_LVL_ERROR, LOG_LVL_WARN, LOG_LVL_INFO, LOG_LVL_DEBUG };

/* Chooses the sink: to_stderr=1 always stderr, 0 syslog with ident, -1 decide by isatty(2). */
void log_setup(const char *ident, int to_stderr, enum log_level level);
void log_set_level(enum log_level level);
enum log_level log_get_level(void);
/* Parses "error|warn|info|debug"; returns 0 or -EINVAL. */
int log_parse_level(const char *s, enum log_level *out);

void log_msg(enum log_level level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* The level is tested before any argument is formatted. */
#define log_error(...) log_msg(LOG_LVL_ERROR, __VA_ARGS__)
#define log_warn(...)  do { if (log_get_level() >= LOG_LVL_WARN) log_msg(LOG_LVL_WARN, __VA_ARGS__); } while (0)
#define log_info(...)  do { if (log_get_level() >= LOG_LVL_INFO) log_msg(LOG_LVL_INFO, __VA_ARGS__); } while (0)
#define log_debug(...) do { if (log_get_level() >= LOG_LVL_DEBUG) log_msg(LOG_LVL_DEBUG, __VA_ARGS__); } while (0)

#endif
