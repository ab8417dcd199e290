// SPDX-License-Identifier: GPL-2.0-only
/* Unit tests for syslog_out.c over real sockets: a unix datagram socket bound under /tmp and
 * a TCP listener on 127.0.0.1 (ephemeral port). They check the RFC 5424 header field by field,
 * the RFC 6587 octet counting byte for byte, that sends never block when the collector does
 * not read, and that a collector that comes up late or restarts gets the queued frames. */
#include <arpa/inet.h>
#include <errno.h>
#include <poll.h>
#include <regex.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "unit.h"
#include "output/syslog_out.h"

/* <PRI>1 TIMESTAMP(UTC, microseconds) HOSTNAME APP-NAME PROCID MSGID - MSG */
static void assert_rfc5424(const char *line, const char *pri, const char *msgid,
			   const char *msg)
{
	char want[256], host[256];
	regex_t re;
	regmatch_t m[2];

	gethostname(host, sizeof(host));
	snprintf(want, sizeof(want),
		 "^<%s>1 [0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}\\.[0-9]{6}Z "
		 "([^ ]+) exfilmon %d %s - ", pri, (int)getpid(), msgid);
	assert_int_equal(regcomp(&re, want, REG_EXTENDED), 0);
	assert_int_equal(regexec(&re, line, 2, m, 0), 0);
	assert_int_equal((int)(m[1].rm_eo - m[1].rm_so), (int)strlen(host));
	assert_memory_equal(line + m[1].rm_so, host, strlen(host));
	assert_string_equal(line + m[0].rm_eo, msg);
	regfree(&re);
}

static struct syslog_out *open_url(const char *url, const char *app)
{
	struct syslog_out_opts o = { .url = url, .app_name = app, .facility = 10 };

	return syslog_out_open(&o);
}

/* <PRI>Mmm dd hh:mm:ss TAG[PID]: MSG, as glibc's syslog(3) sends to /dev/log. */
static void assert_rfc3164(const char *line, const char *pri, const char *tag, const char *msg)
{
	char want[256];
	regex_t re;
	regmatch_t m[1];

	snprintf(want, sizeof(want), "^<%s>[A-Z][a-z]{2} [ 1-3][0-9] [0-9]{2}:[0-9]{2}:[0-9]{2} "
		 "%s\\[%d\\]: ", pri, tag, (int)getpid());
	assert_int_equal(regcomp(&re, want, REG_EXTENDED), 0);
	assert_int_equal(regexec(&re, line, 1, m, 0), 0);
	assert_string_equal(line + m[0].rm_eo, msg);
	regfree(&re);
}

static int tcp_listener(char *url, size_t len, uint16_t port)
{
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons(port) };
	socklen_t alen = sizeof(sa);
	int one = 1, fd = socket(AF_INET, SOCK_STREAM, 0);

	inet_pton(AF_INET, "127.0.0.1", &sa.sin_addr);
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	assert_int_equal(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	assert_int_equal(listen(fd, 4), 0);
	getsockname(fd, (struct sockaddr *)&sa, &alen);
	if (url)
		snprintf(url, len, "tcp://127.0.0.1:%u", ntohs(sa.sin_port));
	return fd;
}

static uint16_t port_of(int fd)
{
	struct sockaddr_in sa;
	socklen_t alen = sizeof(sa);

	getsockname(fd, (struct sockaddr *)&sa, &alen);
	return ntohs(sa.sin_port);
}

static int accept_within(int lfd, int ms)
{
	struct pollfd p = { .fd = lfd, .events = POLLIN };

	assert_int_equal(poll(&p, 1, ms), 1);
	return accept(lfd, NULL, NULL);
}

/* Reads one octet-counted frame: LEN digits, one space, exactly LEN bytes. */
static void read_frame(int fd, char *buf, size_t len)
{
	char c;
	size_t n = 0, want = 0, got = 0;

	for (;;) {
		assert_int_equal(recv(fd, &c, 1, MSG_WAITALL), 1);
		if (c == ' ')
			break;
		assert_true(c >= '0' && c <= '9');
		assert_true(n++ < 6);
		want = want * 10 + (size_t)(c - '0');
	}
	assert_true(n > 0 && want < len);
	while (got < want) {
		ssize_t r = recv(fd, buf + got, want - got, 0);

		assert_true(r > 0);
		got += (size_t)r;
	}
	buf[want] = '\0';
}

static void wait_flushed(struct syslog_out *s, int ms)
{
	for (int i = 0; i < ms / 10 && syslog_out_flush(s); i++)
		poll(NULL, 0, 10);
	assert_int_equal(syslog_out_flush(s), 0);
}

static void test_syslog_out_send_unix_datagram(void **state)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	char url[128], buf[1024];
	struct syslog_out *s;
	ssize_t n;
	int fd = socket(AF_UNIX, SOCK_DGRAM, 0);

	snprintf(sa.sun_path, sizeof(sa.sun_path), "/tmp/test_syslog.%d", getpid());
	unlink(sa.sun_path);
	assert_int_equal(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	snprintf(url, sizeof(url), "unix:%s", sa.sun_path);
	s = open_url(url, "exfilmon");
	assert_non_null(s);
	assert_int_equal(syslog_out_send(s, 2, "ALERT", "{\"a\":\"x y\"}"), 0);
	n = recv(fd, buf, sizeof(buf) - 1, MSG_DONTWAIT);
	assert_true(n > 0);
	buf[n] = '\0';
	/* Facility authpriv (10) * 8 + severity 2; locally RFC 3164, the MSGID in the tag. */
	assert_rfc3164(buf, "82", "exfilmon-alert", "{\"a\":\"x y\"}");
	assert_int_equal(syslog_out_dropped(s), 0);
	syslog_out_close(s);
	close(fd);
	unlink(sa.sun_path);
}

static void test_syslog_out_send_unix_reconnects_after_restart(void **state)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	char url[128], buf[256];
	struct syslog_out *s;
	ssize_t n;
	int fd = socket(AF_UNIX, SOCK_DGRAM, 0);

	snprintf(sa.sun_path, sizeof(sa.sun_path), "/tmp/test_syslog_r.%d", getpid());
	unlink(sa.sun_path);
	assert_int_equal(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	snprintf(url, sizeof(url), "unix:%s", sa.sun_path);
	s = open_url(url, "exfilmon");
	/* The syslog daemon restarts: a new socket at the same path. */
	close(fd);
	unlink(sa.sun_path);
	fd = socket(AF_UNIX, SOCK_DGRAM, 0);
	assert_int_equal(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	assert_int_equal(syslog_out_send(s, 6, "CHAIN", "after restart"), 0);
	n = recv(fd, buf, sizeof(buf) - 1, MSG_DONTWAIT);
	assert_true(n > 0);
	buf[n] = '\0';
	assert_rfc3164(buf, "86", "exfilmon-chain", "after restart");
	syslog_out_close(s);
	close(fd);
	unlink(sa.sun_path);
}

static void test_syslog_out_send_unix_absent_socket_drops(void **state)
{
	struct syslog_out *s = open_url("unix:/tmp/test_syslog.absent/none", "exfilmon");

	assert_non_null(s);
	assert_int_equal(syslog_out_send(s, 2, "ALERT", "x"), -ENOTCONN);
	assert_int_equal(syslog_out_dropped(s), 1);
	syslog_out_close(s);
}

static void test_syslog_out_send_tcp_octet_counted(void **state)
{
	char url[64], buf[4096];
	struct syslog_out *s;
	int lfd = tcp_listener(url, sizeof(url), 0), cfd;

	s = open_url(url, "exfilmon");
	assert_non_null(s);
	cfd = accept_within(lfd, 2000);
	assert_int_equal(syslog_out_send(s, 6, "CHAIN", "head=abc"), 0);
	assert_int_equal(syslog_out_send(s, 2, "ALERT", "second\nline \"q\""), 0);
	wait_flushed(s, 2000);
	read_frame(cfd, buf, sizeof(buf));
	assert_rfc5424(buf, "86", "CHAIN", "head=abc");
	read_frame(cfd, buf, sizeof(buf));
	assert_rfc5424(buf, "82", "ALERT", "second\nline \"q\"");
	assert_int_equal(syslog_out_dropped(s), 0);
	syslog_out_close(s);
	close(cfd);
	close(lfd);
}

static void test_syslog_out_send_tcp_queues_until_collector_is_up(void **state)
{
	char url[64], buf[256];
	struct syslog_out *s;
	uint16_t port;
	int lfd = tcp_listener(url, sizeof(url), 0), cfd;

	/* Learn a free port, then close it: the collector is down when the agent starts. */
	port = port_of(lfd);
	close(lfd);
	s = open_url(url, "exfilmon");
	assert_non_null(s);
	assert_int_equal(syslog_out_send(s, 2, "ALERT", "held"), 0);
	assert_true(syslog_out_flush(s) > 0);
	lfd = tcp_listener(NULL, 0, port);
	wait_flushed(s, 3000);
	cfd = accept_within(lfd, 1000);
	read_frame(cfd, buf, sizeof(buf));
	assert_rfc5424(buf, "82", "ALERT", "held");
	assert_int_equal(syslog_out_dropped(s), 0);
	syslog_out_close(s);
	close(cfd);
	close(lfd);
}

static void test_syslog_out_send_tcp_reconnects_after_collector_restart(void **state)
{
	char url[64], buf[256];
	struct syslog_out *s;
	int lfd = tcp_listener(url, sizeof(url), 0), cfd;

	s = open_url(url, "exfilmon");
	cfd = accept_within(lfd, 2000);
	assert_int_equal(syslog_out_send(s, 2, "ALERT", "one"), 0);
	wait_flushed(s, 2000);
	read_frame(cfd, buf, sizeof(buf));
	assert_rfc5424(buf, "82", "ALERT", "one");
	close(cfd);
	poll(NULL, 0, 50);
	/* The next send notices the closed peer and queues instead of writing into it. */
	assert_int_equal(syslog_out_send(s, 2, "ALERT", "two"), 0);
	wait_flushed(s, 3000);
	cfd = accept_within(lfd, 1000);
	read_frame(cfd, buf, sizeof(buf));
	assert_rfc5424(buf, "82", "ALERT", "two");
	assert_int_equal(syslog_out_dropped(s), 0);
	syslog_out_close(s);
	close(cfd);
	close(lfd);
}

static uint64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void test_syslog_out_send_tcp_never_blocks_on_a_stalled_collector(void **state)
{
	static char msg[SYSLOG_OUT_MAX_MSG];
	char url[64];
	struct syslog_out *s;
	uint64_t start;
	int lfd = tcp_listener(url, sizeof(url), 0), cfd, fails = 0;

	memset(msg, 'm', sizeof(msg) - 1);
	s = open_url(url, "exfilmon");
	cfd = accept_within(lfd, 2000);
	/* The collector accepts but never reads: kernel buffers, then the queue, fill up. */
	start = now_ms();
	for (int i = 0; i < 400; i++)
		fails += syslog_out_send(s, 2, "ALERT", msg) == -EAGAIN;
	assert_true(now_ms() - start < 2000);
	assert_true(fails > 0);
	assert_int_equal(syslog_out_dropped(s), fails);
	start = now_ms();
	syslog_out_close_wait(s, 100);
	assert_true(now_ms() - start < 1000);
	close(cfd);
	close(lfd);
}

static void test_syslog_out_send_rejects_oversized_message(void **state)
{
	static char msg[SYSLOG_OUT_MAX_MSG + 2];
	char url[64];
	int lfd = tcp_listener(url, sizeof(url), 0);
	struct syslog_out *s = open_url(url, "exfilmon");

	memset(msg, 'm', sizeof(msg) - 1);
	assert_int_equal(syslog_out_send(s, 2, "ALERT", msg), -EMSGSIZE);
	assert_int_equal(syslog_out_dropped(s), 1);
	syslog_out_close_wait(s, 0);
	close(lfd);
}

static void test_syslog_out_open_sanitizes_header_fields(void **state)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	char url[128], buf[512];
	struct syslog_out *s;
	ssize_t n;
	int fd = socket(AF_UNIX, SOCK_DGRAM, 0);

	snprintf(sa.sun_path, sizeof(sa.sun_path), "/tmp/test_syslog_h.%d", getpid());
	unlink(sa.sun_path);
	assert_int_equal(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	snprintf(url, sizeof(url), "unix:%s", sa.sun_path);
	/* Spaces in APP-NAME or MSGID would shift every later header field. */
	s = open_url(url, "exfil mon");
	assert_int_equal(syslog_out_send(s, 3, "BAD ID", "body"), 0);
	n = recv(fd, buf, sizeof(buf) - 1, MSG_DONTWAIT);
	assert_true(n > 0);
	buf[n] = '\0';
	assert_non_null(strstr(buf, " exfil_mon-bad_id["));
	assert_non_null(strstr(buf, "]: body"));
	syslog_out_close(s);
	close(fd);
	unlink(sa.sun_path);
}

static void test_syslog_out_open_rejects_bad_urls(void **state)
{
	errno = 0;
	assert_null(open_url("udp://127.0.0.1:514", "x"));
	assert_int_equal(errno, EINVAL);
	assert_null(open_url("tcp://nohostport", "x"));
	assert_null(open_url("tcp://127.0.0.1:", "x"));
	assert_null(open_url("tls://127.0.0.1:0", "x"));
	assert_null(open_url("tcp://127.0.0.1:65536", "x"));
	assert_null(open_url("unix:relative", "x"));
	assert_null(open_url(NULL, "x"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_syslog_out_send_unix_datagram),
		cmocka_unit_test(test_syslog_out_send_unix_reconnects_after_restart),
		cmocka_unit_test(test_syslog_out_send_unix_absent_socket_drops),
		cmocka_unit_test(test_syslog_out_send_tcp_octet_counted),
		cmocka_unit_test(test_syslog_out_send_tcp_queues_until_collector_is_up),
		cmocka_unit_test(test_syslog_out_send_tcp_reconnects_after_collector_restart),
		cmocka_unit_test(test_syslog_out_send_tcp_never_blocks_on_a_stalled_collector),
		cmocka_unit_test(test_syslog_out_send_rejects_oversized_message),
		cmocka_unit_test(test_syslog_out_open_sanitizes_header_fields),
		cmocka_unit_test(test_syslog_out_open_rejects_bad_urls),
	};

	return cmocka_run_group_tests_name("syslog_out", tests, NULL, NULL);
}
