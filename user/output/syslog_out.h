/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * RFC 5424 syslog sender: to the local socket (unix:/dev/log) or TCP to a collector with
 * octet-counted framing (RFC 6587). Reconnects with backoff; messages that cannot be
 * sent are counted, never block the agent.
 */
#ifndef EXFILMON_SYSLOG_OUT_H
#define EXFILMON_SYSLOG_OUT_H

#include <stddef.h>
#include <stdint.h>

struct syslog_out;

/* Largest message body accepted; a longer one is dropped whole rather than cut, since a
 * cut alert is no longer valid JSON. */
#define SYSLOG_OUT_MAX_MSG (60 * 1024)
/* TCP: bytes of frames held while the collector is slow, connecting or down. */
#define SYSLOG_OUT_QUEUE_BYTES (256 * 1024)

/* url: "unix:/dev/log" (any absolute unix datagram socket path) or "tcp://HOST:PORT"
 * ("tcp://[::1]:514" for IPv6); anything else, "udp://..." included, is EINVAL. HOST is
 * resolved here, once, so later sends never wait on DNS. A destination that is down at
 * open is not an error: it is retried. app_name becomes APP-NAME. NULL + errno. */
struct syslog_out *syslog_out_open(const char *url, const char *app_name);
/* severity: RFC 5424 numeric (0..7), facility authpriv; msgid e.g. "ALERT", "CHAIN".
 * Never blocks. unix: 0 when the datagram was sent. tcp: 0 when the frame was sent or
 * queued behind a connect in progress or a full socket buffer. Otherwise the message is
 * dropped, counted, and -errno returned (-EAGAIN queue or socket full, -EMSGSIZE body
 * above SYSLOG_OUT_MAX_MSG, -ENOTCONN local socket absent, ...). */
int syslog_out_send(struct syslog_out *s, int severity, const char *msgid, const char *msg);
/* Moves queued TCP frames on (finishes a connect, reconnects once the backoff allows, writes
 * what the socket takes). Never blocks; the loop calls it on its timer so queued alerts
 * leave without waiting for the next message. Returns the bytes still queued. */
size_t syslog_out_flush(struct syslog_out *s);
/* Messages dropped so far, including queued frames lost with a broken connection. */
uint64_t syslog_out_dropped(const struct syslog_out *s);
/* Waits at most timeout_ms for the queue to drain (shutdown); then closes. NULL is a no-op. */
void syslog_out_close_wait(struct syslog_out *s, int timeout_ms);
/* Same as syslog_out_close_wait(s, 1000). */
void syslog_out_close(struct syslog_out *s);

#endif
