/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * RFC 5424 syslog sender: to the local socket (unix:/dev/log) or TCP to a collector with
 * octet-counted framing (RFC 6587). Reconnects with backoff; messages that cannot be
 * sent are counted, never block the agent.
 */
#ifndef EXFILMON_SYSLOG_OUT_H
#define EXFILMON_SYSLOG_OUT_H

#include <stdint.h>

struct syslog_out;

/* url: "unix:/dev/log", "tcp://127.0.0.1:514", "udp://..." is refused. NULL + errno. */
struct syslog_out *syslog_out_open(const char *url, const char *app_name);
/* severity: RFC 5424 numeric (0..7); msgid e.g. "ALERT", "CHAIN". Returns 0 or -errno. */
int syslog_out_send(struct syslog_out *s, int severity, const char *msgid, const char *msg);
uint64_t syslog_out_dropped(const struct syslog_out *s);
void syslog_out_close(struct syslog_out *s);

#endif
