// SPDX-License-Identifier: GPL-2.0-only
/*
 * RFC 5424 syslog: a unix datagram socket (the local syslog daemon) or TCP to a
 * collector with RFC 6587 octet counting ("LEN SP MSG"). Nothing here blocks the agent:
 * sockets are non-blocking, the TCP connect completes in the background, TCP frames wait
 * in a bounded queue while the collector is slow or away, and what does not fit is dropped
 * and counted. A broken connection is retried with exponential backoff. The queue only
 * ever holds whole frames from the stream's point of view: a frame cut by a broken
 * connection is dropped rather than resent half, which would desynchronise the receiver.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <netdb.h>
#include <poll.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "common/endpoint.h"
#include "syslog_out.h"

#define FACILITY_AUTHPRIV 10
#define BACKOFF_FIRST_NS (100ULL * 1000000ULL)
#define BACKOFF_MAX_NS (30ULL * 1000000000ULL)
#define CONNECT_TIMEOUT_NS (5ULL * 1000000000ULL)
#define HEADER_MAX 512

enum link_state { LINK_DOWN, LINK_CONNECTING, LINK_UP };

struct syslog_out {
	int fd;
	bool tcp;
	enum link_state state;
	struct sockaddr_storage addr;
	socklen_t addr_len;
	char app[49];             /* RFC 5424 APP-NAME: at most 48 printable ASCII */
	char hostname[256];       /* HOSTNAME: at most 255 */
	uint64_t dropped;
	uint64_t retry_at_ns;     /* CLOCK_MONOTONIC; no connect attempt before */
	uint64_t backoff_ns;
	uint64_t connect_ns;      /* when the connect in progress started */
	char *queue;              /* TCP: whole frames, the first maybe partly sent */
	size_t queued;
	size_t head_sent;         /* bytes of the first frame already written */
};

static uint64_t mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + ts.tv_nsec;
}

/* RFC 5424 header fields are PRINTUSASCII (33..126); an empty one is the NILVALUE "-". */
static void header_field(char *dst, size_t len, const char *src)
{
	size_t o = 0;

	for (; src && *src && o + 1 < len; src++)
		dst[o++] = (*src > 32 && *src < 127) ? *src : '_';
	if (!o && len > 1)
		dst[o++] = '-';
	dst[o] = '\0';
}

static int parse_unix(struct syslog_out *s, const char *path)
{
	struct sockaddr_un *sa = (struct sockaddr_un *)&s->addr;

	if (path[0] != '/' || strlen(path) >= sizeof(sa->sun_path))
		return -EINVAL;
	sa->sun_family = AF_UNIX;
	memcpy(sa->sun_path, path, strlen(path) + 1);
	s->addr_len = sizeof(*sa);
	return 0;
}

/* "HOST:PORT" or "[V6]:PORT", resolved once to a numeric address. */
static int parse_tcp(struct syslog_out *s, const char *hp)
{
	struct addrinfo hints = { .ai_socktype = SOCK_STREAM }, *res;
	const char *port;
	char host[256];

	if (endpoint_split(hp, host, sizeof(host), &port) || !*port)
		return -EINVAL;
	if (getaddrinfo(host, port, &hints, &res))
		return -EINVAL;
	memcpy(&s->addr, res->ai_addr, res->ai_addrlen);
	s->addr_len = res->ai_addrlen;
	freeaddrinfo(res);
	s->tcp = true;
	return 0;
}

static void link_close(struct syslog_out *s)
{
	if (s->fd >= 0)
		close(s->fd);
	s->fd = -1;
	s->state = LINK_DOWN;
}

/* Length of the first queued frame: its decimal LEN, the space, and LEN bytes. */
static size_t head_frame_len(const struct syslog_out *s)
{
	size_t digits = strspn(s->queue, "0123456789");

	return digits + 1 + strtoul(s->queue, NULL, 10);
}

static void pop_head(struct syslog_out *s)
{
	size_t n = head_frame_len(s);

	memmove(s->queue, s->queue + n, s->queued - n);
	s->queued -= n;
	s->head_sent = 0;
}

/* A lost connection takes the partly sent frame with it; whole frames stay queued. */
static void link_failed(struct syslog_out *s, uint64_t now)
{
	link_close(s);
	if (s->head_sent) {
		pop_head(s);
		s->dropped++;
	}
	s->backoff_ns = s->backoff_ns ? s->backoff_ns * 2 : BACKOFF_FIRST_NS;
	if (s->backoff_ns > BACKOFF_MAX_NS)
		s->backoff_ns = BACKOFF_MAX_NS;
	s->retry_at_ns = now + s->backoff_ns;
}

static void link_up(struct syslog_out *s)
{
	s->state = LINK_UP;
	s->backoff_ns = 0;
}

static void link_start(struct syslog_out *s, uint64_t now)
{
	int type = (s->tcp ? SOCK_STREAM : SOCK_DGRAM) | SOCK_NONBLOCK | SOCK_CLOEXEC;

	s->fd = socket(s->addr.ss_family, type, 0);
	if (s->fd < 0) {
		link_failed(s, now);
		return;
	}
	s->connect_ns = now;
	if (!connect(s->fd, (struct sockaddr *)&s->addr, s->addr_len))
		link_up(s);
	else if (errno == EINPROGRESS)
		s->state = LINK_CONNECTING;
	else
		link_failed(s, now);
}

/* Finishes a background connect when the socket turned writable (SO_ERROR tells how). */
static void link_check_connect(struct syslog_out *s, uint64_t now)
{
	struct pollfd p = { .fd = s->fd, .events = POLLOUT };
	socklen_t len = sizeof(int);
	int err = 0;

	if (poll(&p, 1, 0) <= 0) {
		if (now - s->connect_ns > CONNECT_TIMEOUT_NS)
			link_failed(s, now);
		return;
	}
	if (getsockopt(s->fd, SOL_SOCKET, SO_ERROR, &err, &len) || err)
		link_failed(s, now);
	else
		link_up(s);
}

/* A collector never talks back, so a readable socket means it closed or reset: without
 * this check the first message after a collector restart would vanish into a dead socket. */
static void link_check_peer(struct syslog_out *s, uint64_t now)
{
	char c;
	ssize_t n = recv(s->fd, &c, 1, MSG_PEEK | MSG_DONTWAIT);

	if (n == 0 || (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK))
		link_failed(s, now);
}

static void link_progress(struct syslog_out *s, uint64_t now)
{
	if (s->state == LINK_DOWN && now >= s->retry_at_ns)
		link_start(s, now);
	if (s->state == LINK_CONNECTING)
		link_check_connect(s, now);
	if (s->state == LINK_UP && s->tcp)
		link_check_peer(s, now);
}

/* Writes what the socket takes and forgets the frames that went out whole. */
static void queue_drain(struct syslog_out *s, uint64_t now)
{
	while (s->state == LINK_UP && s->queued) {
		ssize_t w = send(s->fd, s->queue + s->head_sent, s->queued - s->head_sent,
				 MSG_DONTWAIT | MSG_NOSIGNAL);

		if (w < 0) {
			if (errno != EAGAIN && errno != EWOULDBLOCK)
				link_failed(s, now);
			return;
		}
		s->head_sent += (size_t)w;
		while (s->queued && s->head_sent >= head_frame_len(s)) {
			size_t n = head_frame_len(s);

			s->head_sent -= n;
			memmove(s->queue, s->queue + n, s->queued - n);
			s->queued -= n;
		}
	}
}

struct syslog_out *syslog_out_open(const char *url, const char *app_name)
{
	struct syslog_out *s = calloc(1, sizeof(*s));
	char host[256] = "";
	int err = -EINVAL;

	if (!s)
		return NULL;
	s->fd = -1;
	if (url && !strncmp(url, "unix:", 5))
		err = parse_unix(s, url + 5);
	else if (url && !strncmp(url, "tcp://", 6))
		err = parse_tcp(s, url + 6);
	if (!err && s->tcp && !(s->queue = malloc(SYSLOG_OUT_QUEUE_BYTES)))
		err = -ENOMEM;
	if (err) {
		free(s);
		errno = -err;
		return NULL;
	}
	header_field(s->app, sizeof(s->app), app_name);
	if (gethostname(host, sizeof(host) - 1))
		host[0] = '\0';
	header_field(s->hostname, sizeof(s->hostname), host);
	/* A destination that is down at start is retried later; it is not a failure. */
	link_progress(s, mono_ns());
	return s;
}

/* "<PRI>1 TIMESTAMP HOSTNAME APP-NAME PROCID MSGID - " (no structured data). */
static int format_header(const struct syslog_out *s, int severity, const char *msgid, char *buf)
{
	struct timespec ts;
	struct tm tm;
	char stamp[32], id[33];

	clock_gettime(CLOCK_REALTIME, &ts);
	gmtime_r(&ts.tv_sec, &tm);
	strftime(stamp, sizeof(stamp), "%Y-%m-%dT%H:%M:%S", &tm);
	header_field(id, sizeof(id), msgid);
	return snprintf(buf, HEADER_MAX, "<%d>1 %s.%06ldZ %s %s %d %s - ",
			FACILITY_AUTHPRIV * 8 + (severity & 7), stamp, ts.tv_nsec / 1000,
			s->hostname, s->app, (int)getpid(), id);
}

static int drop(struct syslog_out *s, int err)
{
	s->dropped++;
	return err;
}

/* One datagram; a vanished receiver (syslog daemon restarted) gets one reconnect. */
static int send_unix(struct syslog_out *s, const char *hdr, size_t hlen, const char *msg,
		     size_t mlen, uint64_t now)
{
	struct iovec iov[] = { { (void *)hdr, hlen }, { (void *)msg, mlen } };
	struct msghdr mh = { .msg_iov = iov, .msg_iovlen = 2 };

	for (int attempt = 0; attempt < 2; attempt++) {
		if (s->state != LINK_UP) {
			s->retry_at_ns = attempt ? 0 : s->retry_at_ns;
			link_progress(s, now);
			if (s->state != LINK_UP)
				return drop(s, -ENOTCONN);
		}
		if (sendmsg(s->fd, &mh, MSG_DONTWAIT | MSG_NOSIGNAL) >= 0)
			return 0;
		if (errno == EAGAIN || errno == EWOULDBLOCK || errno == ENOBUFS)
			return drop(s, -EAGAIN);
		if (errno != ECONNREFUSED && errno != ENOTCONN && errno != ENOENT)
			return drop(s, -errno);
		link_close(s);
	}
	return drop(s, -ENOTCONN);
}

static int send_tcp(struct syslog_out *s, const char *hdr, size_t hlen, const char *msg,
		    size_t mlen, uint64_t now)
{
	char len_text[24];
	int llen = snprintf(len_text, sizeof(len_text), "%zu ", hlen + mlen);
	size_t flen = (size_t)llen + hlen + mlen;

	link_progress(s, now);
	queue_drain(s, now);
	if (s->queued + flen > SYSLOG_OUT_QUEUE_BYTES)
		return drop(s, -EAGAIN);
	memcpy(s->queue + s->queued, len_text, llen);
	memcpy(s->queue + s->queued + llen, hdr, hlen);
	memcpy(s->queue + s->queued + llen + hlen, msg, mlen);
	s->queued += flen;
	queue_drain(s, now);
	return 0;
}

int syslog_out_send(struct syslog_out *s, int severity, const char *msgid, const char *msg)
{
	char hdr[HEADER_MAX];
	size_t mlen = strlen(msg);
	int hlen = format_header(s, severity, msgid, hdr);

	if (hlen < 0 || hlen >= HEADER_MAX || mlen > SYSLOG_OUT_MAX_MSG)
		return drop(s, -EMSGSIZE);
	if (s->tcp)
		return send_tcp(s, hdr, hlen, msg, mlen, mono_ns());
	return send_unix(s, hdr, hlen, msg, mlen, mono_ns());
}

size_t syslog_out_flush(struct syslog_out *s)
{
	uint64_t now = mono_ns();

	if (!s->tcp)
		return 0;
	link_progress(s, now);
	queue_drain(s, now);
	return s->queued;
}

uint64_t syslog_out_dropped(const struct syslog_out *s)
{
	return s->dropped;
}

void syslog_out_close_wait(struct syslog_out *s, int timeout_ms)
{
	uint64_t deadline = mono_ns() + (uint64_t)timeout_ms * 1000000ULL;

	if (!s)
		return;
	/* Waiting only makes sense on a live connection; a dead one would not drain. */
	while (s->tcp && s->state == LINK_UP && syslog_out_flush(s) && mono_ns() < deadline) {
		struct pollfd p = { .fd = s->fd, .events = POLLOUT };

		poll(&p, 1, 10);
	}
	while (s->queued) {
		pop_head(s);
		s->dropped++;
	}
	link_close(s);
	free(s->queue);
	free(s);
}

void syslog_out_close(struct syslog_out *s)
{
	syslog_out_close_wait(s, 1000);
}
