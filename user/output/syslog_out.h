/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Syslog sender. Locally (unix:/dev/log) RFC 3164 framing, which rsyslog's and journald's
 * default parsers take apart: "<PRI>Mmm dd hh:mm:ss TAG[PID]: MSG" with TAG
 * "APP-MSGID" in lower case (exfilmon-alert, exfilmon-chain) and MSG the body as given.
 * Remotely RFC 5424 with octet-counted framing (RFC 6587), over TCP or over TLS (RFC
 * 5425, OpenSSL, the server's certificate verified against a CA and the host name).
 * Names are resolved in the background (getaddrinfo_a) and again on every reconnect;
 * resolution, connection and handshake failures are retried with backoff. Messages that
 * cannot be sent are counted, and nothing here ever blocks the agent.
 */
#ifndef EXFILMON_SYSLOG_OUT_H
#define EXFILMON_SYSLOG_OUT_H

#include <stddef.h>
#include <stdint.h>

struct syslog_out;

/* Largest message body accepted; a longer one is dropped whole rather than cut, since a
 * cut alert is no longer valid JSON. */
#define SYSLOG_OUT_MAX_MSG (60 * 1024)
/* TCP/TLS: bytes of frames held while the collector is slow, connecting or down. */
#define SYSLOG_OUT_QUEUE_BYTES (256 * 1024)

struct syslog_out_opts {
	/* "unix:/dev/log" (any absolute unix datagram socket path), "tcp://HOST:PORT" or
	 * "tls://HOST:PORT" ("[::1]:6514" for IPv6). Anything else is EINVAL. */
	const char *url;
	const char *app_name;        /* APP-NAME, and the start of the local TAG */
	int facility;                /* 0..23 */
	/* tls: PEM file of the CA(s) that sign the collector's certificate; NULL: the
	 * system's trust store. */
	const char *ca_file;
};

/* Opens the sender. A destination that is down or a name that does not resolve yet is not
 * an error: it is retried with backoff (0.1 s doubling to 30 s) while frames queue. NULL +
 * errno (EINVAL bad url or facility, ENOMEM, or a TLS setup error such as an unreadable
 * ca_file: EIO). */
struct syslog_out *syslog_out_open(const struct syslog_out_opts *o);
/* severity: numeric (0..7); msgid e.g. "ALERT", "CHAIN". Never blocks. unix: 0 when the
 * datagram was sent. tcp/tls: 0 when the frame was sent or queued behind a resolution,
 * connect or handshake in progress or a full socket buffer. Otherwise the message is
 * dropped, counted, and -errno returned (-EAGAIN queue or socket full, -EMSGSIZE body
 * above SYSLOG_OUT_MAX_MSG, -ENOTCONN local socket absent, ...). */
int syslog_out_send(struct syslog_out *s, int severity, const char *msgid, const char *msg);
/* Moves the link and the queue on (resolution, connect, handshake, reconnect once the
 * backoff allows, writes what the socket takes). Never blocks; the loop calls it on its
 * timer. Returns the bytes still queued. */
size_t syslog_out_flush(struct syslog_out *s);
/* Messages dropped so far, including queued frames lost with a broken connection. */
uint64_t syslog_out_dropped(const struct syslog_out *s);
/* Waits at most timeout_ms for the queue to drain (shutdown, reopen), drops and counts
 * what is left, closes, and returns the final dropped count. NULL is a no-op (0). */
uint64_t syslog_out_close_wait(struct syslog_out *s, int timeout_ms);
/* Same as syslog_out_close_wait(s, 1000). */
uint64_t syslog_out_close(struct syslog_out *s);

#endif
