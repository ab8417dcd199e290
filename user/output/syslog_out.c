// SPDX-License-Identifier: GPL-2.0-only
/*
 * Syslog (see syslog_out.h): a unix datagram socket with RFC 3164 framing, or a stream to
 * a collector (TCP, or TLS through OpenSSL) with RFC 5424 messages in RFC 6587 octet
 * counting ("LEN SP MSG"). Nothing here blocks the agent: sockets are non-blocking, the
 * name is resolved by getaddrinfo_a in the background, connect and TLS handshake complete
 * across calls, frames wait in a bounded queue while the collector is slow or away, and
 * what does not fit is dropped and counted. Every failure (resolution, connect, handshake,
 * a broken connection) is retried with exponential backoff. The queue only ever holds
 * whole frames from the stream's point of view: a frame cut by a broken connection is
 * dropped rather than resent half, which would desynchronise the receiver.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <ctype.h>
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

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include "common/timeutil.h"
#include "common/endpoint.h"
#include "common/log.h"
#include "syslog_out.h"

#define BACKOFF_FIRST_NS (100ULL * 1000000ULL)
#define BACKOFF_MAX_NS (30ULL * 1000000000ULL)
#define CONNECT_TIMEOUT_NS (5ULL * 1000000000ULL)
#define HEADER_MAX 512

enum transport { T_UNIX, T_TCP, T_TLS };
enum link_state { LINK_DOWN, LINK_RESOLVING, LINK_CONNECTING, LINK_HANDSHAKE, LINK_UP };

struct syslog_out {
	int fd;
	enum transport transport;
	enum link_state state;
	struct sockaddr_storage addr;
	socklen_t addr_len;
	char url[300];
	char host[256];
	char port[8];
	struct addrinfo gai_hints;
	struct gaicb gai;         /* the resolution in progress (LINK_RESOLVING) */
	bool gai_active;
	SSL_CTX *ssl_ctx;
	SSL *ssl;
	int facility;
	char app[49];             /* RFC 5424 APP-NAME: at most 48 printable ASCII */
	char hostname[256];       /* HOSTNAME: at most 255 */
	uint64_t dropped;
	uint64_t retry_at_ns;     /* CLOCK_MONOTONIC; no connect attempt before */
	uint64_t backoff_ns;
	uint64_t connect_ns;      /* when the connect or handshake in progress started */
	bool failing;             /* a failure was logged; log the recovery */
	char *queue;              /* stream: whole frames, the first maybe partly sent */
	size_t queued;
	size_t head_sent;         /* bytes of the first frame already written */
};

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
	s->transport = T_UNIX;
	return 0;
}

/* "HOST:PORT" or "[V6]:PORT"; resolved later, in the background. */
static int parse_stream(struct syslog_out *s, const char *hp, enum transport t)
{
	const char *port_text;
	char *end;
	unsigned long port;

	if (endpoint_split(hp, s->host, sizeof(s->host), &port_text) || !*port_text)
		return -EINVAL;
	errno = 0;
	port = strtoul(port_text, &end, 10);
	if (errno || *end || !port || port > 65535)
		return -EINVAL;
	snprintf(s->port, sizeof(s->port), "%lu", port);
	s->transport = t;
	return 0;
}

static void link_close(struct syslog_out *s)
{
	if (s->ssl)
		SSL_free(s->ssl);
	s->ssl = NULL;
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

/* One log line per failure streak: a collector that is down for a day is one line, and
 * its return another. */
static void link_failed(struct syslog_out *s, uint64_t now, const char *what, const char *why)
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
	if (!s->failing && s->transport != T_UNIX)
		log_warn("syslog: %s: %s: %s (retrying with backoff up to 30s; %zu bytes queued)",
			 s->url, what, why, s->queued);
	s->failing = true;
}

static void link_up(struct syslog_out *s)
{
	s->state = LINK_UP;
	s->backoff_ns = 0;
	if (s->failing && s->transport != T_UNIX)
		log_info("syslog: %s: connected", s->url);
	s->failing = false;
}

static const char *ssl_reason(void)
{
	static char buf[256];
	unsigned long e = ERR_get_error();

	if (!e)
		return "connection closed";
	ERR_error_string_n(e, buf, sizeof(buf));
	ERR_clear_error();
	return buf;
}

static void tls_start(struct syslog_out *s, uint64_t now)
{
	struct in6_addr a6;
	struct in_addr a4;
	bool is_ip = inet_pton(AF_INET, s->host, &a4) == 1 || inet_pton(AF_INET6, s->host, &a6) == 1;

	ERR_clear_error();
	s->ssl = SSL_new(s->ssl_ctx);
	if (!s->ssl || !SSL_set_fd(s->ssl, s->fd)) {
		link_failed(s, now, "tls", ssl_reason());
		return;
	}
	SSL_set_mode(s->ssl, SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
	/* The certificate must name the host we were told to reach, not merely chain to the CA. */
	if (is_ip)
		X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(s->ssl), s->host);
	else if (!SSL_set_tlsext_host_name(s->ssl, s->host) || !SSL_set1_host(s->ssl, s->host)) {
		link_failed(s, now, "tls", ssl_reason());
		return;
	}
	s->state = LINK_HANDSHAKE;
	s->connect_ns = now;
}

static void tls_handshake(struct syslog_out *s, uint64_t now)
{
	int r, e;

	ERR_clear_error();
	r = SSL_connect(s->ssl);
	if (r == 1) {
		link_up(s);
		return;
	}
	e = SSL_get_error(s->ssl, r);
	if (e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE) {
		if (now - s->connect_ns > CONNECT_TIMEOUT_NS)
			link_failed(s, now, "tls handshake", "timed out");
		return;
	}
	if (SSL_get_verify_result(s->ssl) != X509_V_OK)
		link_failed(s, now, "tls handshake",
			    X509_verify_cert_error_string(SSL_get_verify_result(s->ssl)));
	else
		link_failed(s, now, "tls handshake", ssl_reason());
}

static void connect_addr(struct syslog_out *s, uint64_t now)
{
	int type = (s->transport == T_UNIX ? SOCK_DGRAM : SOCK_STREAM) | SOCK_NONBLOCK |
		   SOCK_CLOEXEC;

	s->fd = socket(s->addr.ss_family, type, 0);
	if (s->fd < 0) {
		link_failed(s, now, "socket", strerror(errno));
		return;
	}
	s->connect_ns = now;
	if (!connect(s->fd, (struct sockaddr *)&s->addr, s->addr_len)) {
		if (s->transport == T_TLS)
			tls_start(s, now);
		else
			link_up(s);
	} else if (errno == EINPROGRESS) {
		s->state = LINK_CONNECTING;
	} else {
		link_failed(s, now, "connect", strerror(errno));
	}
}

/* Every (re)connect resolves the name again, so a collector that moved is found. An
 * address needs no resolver (and no resolver thread). */
static void resolve_start(struct syslog_out *s, uint64_t now)
{
	struct addrinfo numeric = { .ai_socktype = SOCK_STREAM,
				    .ai_flags = AI_NUMERICHOST | AI_NUMERICSERV }, *res;
	struct gaicb *list[1] = { &s->gai };
	int err;

	if (!getaddrinfo(s->host, s->port, &numeric, &res)) {
		memcpy(&s->addr, res->ai_addr, res->ai_addrlen);
		s->addr_len = res->ai_addrlen;
		freeaddrinfo(res);
		connect_addr(s, now);
		return;
	}

	memset(&s->gai, 0, sizeof(s->gai));
	s->gai_hints = (struct addrinfo){ .ai_socktype = SOCK_STREAM };
	s->gai.ar_name = s->host;
	s->gai.ar_service = s->port;
	s->gai.ar_request = &s->gai_hints;
	err = getaddrinfo_a(GAI_NOWAIT, list, 1, NULL);
	if (err) {
		link_failed(s, now, "resolve", gai_strerror(err));
		return;
	}
	s->gai_active = true;
	s->state = LINK_RESOLVING;
}

static void resolve_check(struct syslog_out *s, uint64_t now)
{
	int err = gai_error(&s->gai);
	struct addrinfo *res;

	if (err == EAI_INPROGRESS)
		return;
	s->gai_active = false;
	s->state = LINK_DOWN;
	res = s->gai.ar_result;
	if (err || !res) {
		link_failed(s, now, "resolve", gai_strerror(err ? err : EAI_NONAME));
		return;
	}
	memcpy(&s->addr, res->ai_addr, res->ai_addrlen);
	s->addr_len = res->ai_addrlen;
	freeaddrinfo(res);
	s->gai.ar_result = NULL;
	connect_addr(s, now);
}

static void link_start(struct syslog_out *s, uint64_t now)
{
	if (s->transport == T_UNIX)
		connect_addr(s, now);
	else
		resolve_start(s, now);
}

/* Finishes a background connect when the socket turned writable (SO_ERROR tells how). */
static void link_check_connect(struct syslog_out *s, uint64_t now)
{
	struct pollfd p = { .fd = s->fd, .events = POLLOUT };
	socklen_t len = sizeof(int);
	int err = 0;

	if (poll(&p, 1, 0) <= 0) {
		if (now - s->connect_ns > CONNECT_TIMEOUT_NS)
			link_failed(s, now, "connect", "timed out");
		return;
	}
	if (getsockopt(s->fd, SOL_SOCKET, SO_ERROR, &err, &len) || err)
		link_failed(s, now, "connect", strerror(err ? err : errno));
	else if (s->transport == T_TLS)
		tls_start(s, now);
	else
		link_up(s);
}

/* A collector never talks back, so a readable socket means it closed or reset: without
 * this check the first message after a collector restart would vanish into a dead socket.
 * Over TLS the server does send records after the handshake (TLS 1.3 session tickets):
 * SSL_read consumes them and reports a close or an error. */
static void link_check_peer(struct syslog_out *s, uint64_t now)
{
	struct pollfd p = { .fd = s->fd, .events = POLLIN };
	char c[256];
	ssize_t n;
	int r, e;

	if (poll(&p, 1, 0) <= 0)
		return;
	if (s->transport == T_TCP) {
		n = recv(s->fd, c, 1, MSG_PEEK | MSG_DONTWAIT);
		if (n == 0 || (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK))
			link_failed(s, now, "connection", n ? strerror(errno) : "closed by the collector");
		return;
	}
	ERR_clear_error();
	while ((r = SSL_read(s->ssl, c, sizeof(c))) > 0)
		;
	e = SSL_get_error(s->ssl, r);
	if (e != SSL_ERROR_WANT_READ && e != SSL_ERROR_WANT_WRITE)
		link_failed(s, now, "connection", e == SSL_ERROR_ZERO_RETURN ?
			    "closed by the collector" : ssl_reason());
}

static void link_progress(struct syslog_out *s, uint64_t now)
{
	if (s->state == LINK_DOWN && now >= s->retry_at_ns)
		link_start(s, now);
	if (s->state == LINK_RESOLVING)
		resolve_check(s, now);
	if (s->state == LINK_CONNECTING)
		link_check_connect(s, now);
	if (s->state == LINK_HANDSHAKE)
		tls_handshake(s, now);
	if (s->state == LINK_UP && s->transport != T_UNIX)
		link_check_peer(s, now);
}

/* Bytes written, 0 when the socket is full, -1 after a failure (the link is then down). */
static ssize_t stream_write(struct syslog_out *s, const char *buf, size_t len, uint64_t now)
{
	ssize_t w;
	int e;

	if (s->transport == T_TCP) {
		w = send(s->fd, buf, len, MSG_DONTWAIT | MSG_NOSIGNAL);
		if (w >= 0)
			return w;
		if (errno == EAGAIN || errno == EWOULDBLOCK)
			return 0;
		link_failed(s, now, "send", strerror(errno));
		return -1;
	}
	ERR_clear_error();
	w = SSL_write(s->ssl, buf, (int)(len > INT32_MAX ? INT32_MAX : len));
	if (w > 0)
		return w;
	e = SSL_get_error(s->ssl, (int)w);
	if (e == SSL_ERROR_WANT_WRITE || e == SSL_ERROR_WANT_READ)
		return 0;
	link_failed(s, now, "send", ssl_reason());
	return -1;
}

/* Writes what the socket takes and forgets the frames that went out whole. */
static void queue_drain(struct syslog_out *s, uint64_t now)
{
	while (s->state == LINK_UP && s->queued) {
		ssize_t w = stream_write(s, s->queue + s->head_sent, s->queued - s->head_sent, now);

		if (w <= 0)
			return;
		s->head_sent += (size_t)w;
		while (s->queued && s->head_sent >= head_frame_len(s)) {
			size_t n = head_frame_len(s);

			s->head_sent -= n;
			memmove(s->queue, s->queue + n, s->queued - n);
			s->queued -= n;
		}
	}
}

static int tls_setup(struct syslog_out *s, const char *ca_file)
{
	s->ssl_ctx = SSL_CTX_new(TLS_client_method());
	if (!s->ssl_ctx)
		return -ENOMEM;
	SSL_CTX_set_min_proto_version(s->ssl_ctx, TLS1_2_VERSION);
	SSL_CTX_set_verify(s->ssl_ctx, SSL_VERIFY_PEER, NULL);
	if (ca_file ? !SSL_CTX_load_verify_locations(s->ssl_ctx, ca_file, NULL)
		    : !SSL_CTX_set_default_verify_paths(s->ssl_ctx)) {
		log_error("syslog: tls: CA %s: %s", ca_file ? ca_file : "(system)", ssl_reason());
		return -EIO;
	}
	return 0;
}

static int parse_url(struct syslog_out *s, const char *url)
{
	if (!url)
		return -EINVAL;
	if (!strncmp(url, "unix:", 5))
		return parse_unix(s, url + 5);
	if (!strncmp(url, "tcp://", 6))
		return parse_stream(s, url + 6, T_TCP);
	if (!strncmp(url, "tls://", 6))
		return parse_stream(s, url + 6, T_TLS);
	return -EINVAL;
}

static void free_sender(struct syslog_out *s)
{
	link_close(s);
	SSL_CTX_free(s->ssl_ctx);
	free(s->queue);
	free(s);
}

struct syslog_out *syslog_out_open(const struct syslog_out_opts *o)
{
	struct syslog_out *s = calloc(1, sizeof(*s));
	char host[256] = "";
	int err;

	if (!s)
		return NULL;
	s->fd = -1;
	err = parse_url(s, o->url);
	if (!err && (o->facility < 0 || o->facility > 23))
		err = -EINVAL;
	if (!err && s->transport != T_UNIX && !(s->queue = malloc(SYSLOG_OUT_QUEUE_BYTES)))
		err = -ENOMEM;
	if (!err && s->transport == T_TLS)
		err = tls_setup(s, o->ca_file);
	if (err) {
		free_sender(s);
		errno = -err;
		return NULL;
	}
	snprintf(s->url, sizeof(s->url), "%s", o->url);
	s->facility = o->facility;
	header_field(s->app, sizeof(s->app), o->app_name);
	if (gethostname(host, sizeof(host) - 1))
		host[0] = '\0';
	header_field(s->hostname, sizeof(s->hostname), host);
	/* A destination that is down at start is retried later; it is not a failure. */
	link_progress(s, monotonic_ns());
	return s;
}

/* "<PRI>1 TIMESTAMP HOSTNAME APP-NAME PROCID MSGID - " (no structured data). */
static int format_rfc5424(const struct syslog_out *s, int severity, const char *msgid, char *buf)
{
	struct timespec ts;
	struct tm tm;
	char stamp[32], id[33];

	clock_gettime(CLOCK_REALTIME, &ts);
	gmtime_r(&ts.tv_sec, &tm);
	strftime(stamp, sizeof(stamp), "%Y-%m-%dT%H:%M:%S", &tm);
	header_field(id, sizeof(id), msgid);
	return snprintf(buf, HEADER_MAX, "<%d>1 %s.%06ldZ %s %s %d %s - ",
			s->facility * 8 + (severity & 7), stamp, ts.tv_nsec / 1000,
			s->hostname, s->app, (int)getpid(), id);
}

/* "<PRI>Mmm dd hh:mm:ss TAG[PID]: " as glibc's syslog(3) writes to /dev/log: local time,
 * no host name; TAG "app-msgid" in lower case, only characters every parser keeps. */
static int format_rfc3164(const struct syslog_out *s, int severity, const char *msgid, char *buf)
{
	char tag[64], stamp[32];
	time_t now = time(NULL);
	struct tm tm;
	size_t o = 0;

	for (const char *p = s->app; *p && o < 31; p++)
		tag[o++] = isalnum((unsigned char)*p) || *p == '-' || *p == '_' || *p == '.' ? *p : '_';
	if (msgid && *msgid && o < 31)
		tag[o++] = '-';
	for (const char *p = msgid; p && *p && o < 32; p++)
		tag[o++] = isalnum((unsigned char)*p) ? (char)tolower((unsigned char)*p) : '_';
	tag[o] = '\0';
	localtime_r(&now, &tm);
	strftime(stamp, sizeof(stamp), "%b %e %H:%M:%S", &tm);
	return snprintf(buf, HEADER_MAX, "<%d>%s %s[%d]: ", s->facility * 8 + (severity & 7),
			stamp, tag, (int)getpid());
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

static int send_stream(struct syslog_out *s, const char *hdr, size_t hlen, const char *msg,
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
	int hlen = s->transport == T_UNIX ? format_rfc3164(s, severity, msgid, hdr)
					  : format_rfc5424(s, severity, msgid, hdr);

	if (hlen < 0 || hlen >= HEADER_MAX || mlen > SYSLOG_OUT_MAX_MSG)
		return drop(s, -EMSGSIZE);
	if (s->transport == T_UNIX)
		return send_unix(s, hdr, hlen, msg, mlen, monotonic_ns());
	return send_stream(s, hdr, hlen, msg, mlen, monotonic_ns());
}

size_t syslog_out_flush(struct syslog_out *s)
{
	uint64_t now = monotonic_ns();

	if (s->transport == T_UNIX)
		return 0;
	link_progress(s, now);
	queue_drain(s, now);
	return s->queued;
}

uint64_t syslog_out_dropped(const struct syslog_out *s)
{
	return s->dropped;
}

uint64_t syslog_out_close_wait(struct syslog_out *s, int timeout_ms)
{
	uint64_t deadline = monotonic_ns() + (uint64_t)timeout_ms * 1000000ULL, dropped;

	if (!s)
		return 0;
	/* Waiting makes sense on a live connection or one being made; a dead one would not
	 * drain. */
	while (s->transport != T_UNIX && s->state != LINK_DOWN && syslog_out_flush(s) &&
	       monotonic_ns() < deadline)
		poll(NULL, 0, 10);
	while (s->queued) {
		pop_head(s);
		s->dropped++;
	}
	/* The resolver thread writes into s->gai: it must be done before s goes. */
	if (s->gai_active && gai_cancel(&s->gai) != EAI_CANCELED) {
		const struct gaicb *list[1] = { &s->gai };

		while (gai_error(&s->gai) == EAI_INPROGRESS)
			gai_suspend(list, 1, NULL);
	}
	if (s->gai.ar_result)
		freeaddrinfo(s->gai.ar_result);
	dropped = s->dropped;
	free_sender(s);
	return dropped;
}

uint64_t syslog_out_close(struct syslog_out *s)
{
	return syslog_out_close_wait(s, 1000);
}
