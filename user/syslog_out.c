// SPDX-License-Identifier: GPL-2.0-only
/*
 * RFC 5424 syslog: a unix datagram socket (the local syslog daemon) or TCP to a
 * collector with RFC 6587 octet counting. Sending never blocks the agent: the socket is
 * non-blocking, a message that does not fit is dropped and counted, and a broken TCP
 * connection is retried with exponential backoff.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "syslog_out.h"

#define FACILITY_AUTHPRIV 10
#define BACKOFF_MAX_NS (60ULL * 1000000000ULL)

struct syslog_out {
	int fd;
	int tcp;
	char host[256];
	char port[16];
	char path[108];
	char app[48];
	char hostname[256];
	uint64_t dropped;
	uint64_t retry_at_ns;
	uint64_t backoff_ns;
};

static uint64_t mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + ts.tv_nsec;
}

static int connect_unix(struct syslog_out *s)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };

	s->fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (s->fd < 0)
		return -errno;
	memcpy(sa.sun_path, s->path, sizeof(sa.sun_path) - 1);
	if (connect(s->fd, (struct sockaddr *)&sa, sizeof(sa))) {
		int err = -errno;

		close(s->fd);
		s->fd = -1;
		return err;
	}
	return 0;
}

/* Connects synchronously with a short timeout: collectors are near (loopback, LAN). */
static int connect_tcp(struct syslog_out *s)
{
	struct addrinfo hints = { .ai_socktype = SOCK_STREAM }, *res;
	struct timeval tv = { .tv_sec = 1 };
	int err = getaddrinfo(s->host, s->port, &hints, &res);

	if (err)
		return -EHOSTUNREACH;
	s->fd = socket(res->ai_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (s->fd < 0) {
		err = -errno;
		goto out;
	}
	setsockopt(s->fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	if (connect(s->fd, res->ai_addr, res->ai_addrlen)) {
		err = -errno;
		close(s->fd);
		s->fd = -1;
		goto out;
	}
	fcntl(s->fd, F_SETFL, fcntl(s->fd, F_GETFL) | O_NONBLOCK);
	err = 0;
out:
	freeaddrinfo(res);
	return err;
}

static int reconnect(struct syslog_out *s)
{
	uint64_t now = mono_ns();
	int err;

	if (now < s->retry_at_ns)
		return -EAGAIN;
	err = s->tcp ? connect_tcp(s) : connect_unix(s);
	if (err) {
		s->backoff_ns = s->backoff_ns ? s->backoff_ns * 2 : 500000000ULL;
		if (s->backoff_ns > BACKOFF_MAX_NS)
			s->backoff_ns = BACKOFF_MAX_NS;
		s->retry_at_ns = now + s->backoff_ns;
		return err;
	}
	s->backoff_ns = 0;
	return 0;
}

static int parse_url(struct syslog_out *s, const char *url)
{
	const char *hp, *colon;

	if (!strncmp(url, "unix:", 5)) {
		if (strlen(url + 5) >= sizeof(s->path) || url[5] != '/')
			return -EINVAL;
		snprintf(s->path, sizeof(s->path), "%s", url + 5);
		return 0;
	}
	if (strncmp(url, "tcp://", 6))
		return -EINVAL;
	hp = url + 6;
	colon = strrchr(hp, ':');
	if (!colon || colon == hp || !colon[1] || (size_t)(colon - hp) >= sizeof(s->host))
		return -EINVAL;
	s->tcp = 1;
	snprintf(s->host, sizeof(s->host), "%.*s", (int)(colon - hp), hp);
	if (s->host[0] == '[') {
		memmove(s->host, s->host + 1, strlen(s->host));
		s->host[strcspn(s->host, "]")] = '\0';
	}
	snprintf(s->port, sizeof(s->port), "%s", colon + 1);
	return 0;
}

struct syslog_out *syslog_out_open(const char *url, const char *app_name)
{
	struct syslog_out *s = calloc(1, sizeof(*s));
	int err;

	if (!s)
		return NULL;
	s->fd = -1;
	err = parse_url(s, url);
	if (err) {
		free(s);
		errno = -err;
		return NULL;
	}
	snprintf(s->app, sizeof(s->app), "%s", app_name);
	gethostname(s->hostname, sizeof(s->hostname) - 1);
	/* A collector that is down at start is retried later; it is not a failure. */
	reconnect(s);
	return s;
}

static size_t format(struct syslog_out *s, int severity, const char *msgid, const char *msg,
		     char *buf, size_t len)
{
	struct timespec ts;
	struct tm tm;
	char stamp[40];
	int n;

	clock_gettime(CLOCK_REALTIME, &ts);
	gmtime_r(&ts.tv_sec, &tm);
	strftime(stamp, sizeof(stamp), "%Y-%m-%dT%H:%M:%S", &tm);
	n = snprintf(buf, len, "<%d>1 %s.%06ldZ %s %s %d %s - %s", FACILITY_AUTHPRIV * 8 + severity,
		     stamp, ts.tv_nsec / 1000, s->hostname[0] ? s->hostname : "-", s->app,
		     (int)getpid(), msgid, msg);
	return n < 0 ? 0 : (size_t)n < len ? (size_t)n : len - 1;
}

int syslog_out_send(struct syslog_out *s, int severity, const char *msgid, const char *msg)
{
	char body[8192], frame[8216];
	size_t n = format(s, severity, msgid, msg, body, sizeof(body)), flen;
	const char *out = body;
	ssize_t w;

	if (s->fd < 0 && reconnect(s)) {
		s->dropped++;
		return -ENOTCONN;
	}
	flen = n;
	if (s->tcp) {
		flen = (size_t)snprintf(frame, sizeof(frame), "%zu %s", n, body);
		out = frame;
	}
	w = send(s->fd, out, flen, MSG_NOSIGNAL | MSG_DONTWAIT);
	if (w == (ssize_t)flen)
		return 0;
	/* A partial TCP frame would corrupt the stream: drop the connection, count the loss. */
	if (s->tcp || (w < 0 && errno != EAGAIN)) {
		close(s->fd);
		s->fd = -1;
	}
	s->dropped++;
	return w < 0 ? -errno : -EPIPE;
}

uint64_t syslog_out_dropped(const struct syslog_out *s)
{
	return s->dropped;
}

void syslog_out_close(struct syslog_out *s)
{
	if (!s)
		return;
	if (s->fd >= 0)
		close(s->fd);
	free(s);
}
