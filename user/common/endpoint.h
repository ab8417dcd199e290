/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Network endpoints as text: "host:port", with IPv6 addresses bracketed ("[::1]:443") so
 * the last colon always separates the port. One writer and one reader, so what the agent
 * prints as an object name the outputs and the syslog target parse back the same way.
 */
#ifndef EXFILMON_ENDPOINT_H
#define EXFILMON_ENDPOINT_H

#include <stddef.h>

/* Writes "ip:port", or "[ip]:port" when ip contains a colon (IPv6), into buf (always
 * terminated, truncated to len). */
void endpoint_format(char *buf, size_t len, const char *ip, unsigned int port);
/* Splits "host:port" or "[v6]:port" at its last colon: the host, brackets removed, into
 * host (host_len bytes), and *port pointing at the text after the colon (possibly empty,
 * not validated). Returns 0, or -EINVAL when there is no colon, the host is empty or it
 * does not fit. */
int endpoint_split(const char *s, char *host, size_t host_len, const char **port);

#endif
