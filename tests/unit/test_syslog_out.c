// SPDX-License-Identifier: GPL-2.0-only
/* Unit tests for syslog_out.c: RFC 5424 framing over a real unix datagram socket and a
 * real TCP listener on 127.0.0.1 (octet counting), and drops counted when nobody listens. */
#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "unit.h"
#include "syslog_out.h"

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
	s = syslog_out_open(url, "exfilmon");
	assert_non_null(s);
	assert_int_equal(syslog_out_send(s, 2, "ALERT", "{\"a\":1}"), 0);
	n = recv(fd, buf, sizeof(buf) - 1, 0);
	assert_true(n > 0);
	buf[n] = '\0';
	/* <PRI>1 TIMESTAMP HOST APP PROCID MSGID - MSG, facility authpriv (10). */
	assert_int_equal(strncmp(buf, "<82>1 ", 6), 0);
	assert_non_null(strstr(buf, " exfilmon "));
	assert_non_null(strstr(buf, " ALERT - {\"a\":1}"));
	syslog_out_close(s);
	close(fd);
	unlink(sa.sun_path);
}

static void test_syslog_out_send_tcp_octet_counted(void **state)
{
	struct sockaddr_in sa = { .sin_family = AF_INET };
	socklen_t len = sizeof(sa);
	char url[64], buf[4096], *sp;
	size_t got = 0;
	struct syslog_out *s;
	int lfd = socket(AF_INET, SOCK_STREAM, 0), cfd;

	inet_pton(AF_INET, "127.0.0.1", &sa.sin_addr);
	assert_int_equal(bind(lfd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	assert_int_equal(listen(lfd, 1), 0);
	getsockname(lfd, (struct sockaddr *)&sa, &len);
	snprintf(url, sizeof(url), "tcp://127.0.0.1:%u", ntohs(sa.sin_port));
	s = syslog_out_open(url, "exfilmon");
	assert_non_null(s);
	cfd = accept(lfd, NULL, NULL);
	assert_int_equal(syslog_out_send(s, 6, "CHAIN", "head=abc"), 0);
	assert_int_equal(syslog_out_send(s, 2, "ALERT", "second"), 0);
	while (got < 40) {
		ssize_t n = recv(cfd, buf + got, sizeof(buf) - 1 - got, 0);

		assert_true(n > 0);
		got += n;
		buf[got] = '\0';
		if (strstr(buf, "second"))
			break;
	}
	/* "LEN SP MSG": LEN counts exactly the message bytes. */
	sp = strchr(buf, ' ');
	assert_non_null(sp);
	*sp = '\0';
	assert_true(sp[1 + atoi(buf) - 1] == 'c');   /* first message ends "head=abc" */
	assert_true(isdigit((unsigned char)sp[1 + atoi(buf)]));
	syslog_out_close(s);
	close(cfd);
	close(lfd);
}

static void test_syslog_out_counts_drops_when_down(void **state)
{
	struct syslog_out *s = syslog_out_open("tcp://127.0.0.1:1", "exfilmon");

	assert_non_null(s);
	assert_true(syslog_out_send(s, 2, "ALERT", "x") < 0);
	assert_true(syslog_out_send(s, 2, "ALERT", "y") < 0);
	assert_int_equal(syslog_out_dropped(s), 2);
	syslog_out_close(s);
}

static void test_syslog_out_open_rejects_bad_urls(void **state)
{
	assert_null(syslog_out_open("udp://127.0.0.1:514", "x"));
	assert_null(syslog_out_open("tcp://nohostport", "x"));
	assert_null(syslog_out_open("unix:relative", "x"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_syslog_out_send_unix_datagram),
		cmocka_unit_test(test_syslog_out_send_tcp_octet_counted),
		cmocka_unit_test(test_syslog_out_counts_drops_when_down),
		cmocka_unit_test(test_syslog_out_open_rejects_bad_urls),
	};

	return cmocka_run_group_tests_name("syslog_out", tests, NULL, NULL);
}
