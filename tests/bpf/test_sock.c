// SPDX-License-Identifier: GPL-2.0-only
/*
 * Socket sensors (sock.bpf.c, sockclass.bpf.h): one exchange of this process over
 * loopback, with the peer put into the services or allow map first, then the flow entry
 * that exchange must have produced. Ports are the kernel's choice (bound to port 0).
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <bpf/bpf.h>

#include "unit.h"
#include "harness.h"

static int bound_socket(int type, const char *ip4, uint16_t *port)
{
	struct sockaddr_in sa = { .sin_family = AF_INET };
	socklen_t len = sizeof(sa);
	int fd = socket(AF_INET, type | SOCK_CLOEXEC, 0);

	assert_true(fd >= 0);
	assert_int_equal(inet_pton(AF_INET, ip4, &sa.sin_addr), 1);
	assert_int_equal(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	assert_int_equal(getsockname(fd, (struct sockaddr *)&sa, &len), 0);
	*port = ntohs(sa.sin_port);
	return fd;
}

static void udp_send(const char *ip4, uint16_t port, size_t len)
{
	struct sockaddr_in to = { .sin_family = AF_INET, .sin_port = htons(port) };
	char buf[2048] = { 0 };
	int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);

	assert_true(fd >= 0 && len <= sizeof(buf));
	assert_int_equal(inet_pton(AF_INET, ip4, &to.sin_addr), 1);
	assert_int_equal(sendto(fd, buf, len, 0, (struct sockaddr *)&to, sizeof(to)),
			 (ssize_t)len);
	close(fd);
}

static void test_udp_sendto_unlisted_peer_is_egress(void **state)
{
	struct harness *h = *state;
	struct xm_flow_key k;
	struct xm_flow_val v;
	uint16_t port;
	int rx = bound_socket(SOCK_DGRAM, "127.0.0.1", &port);

	udp_send("127.0.0.1", port, 1000);
	k = harness_net_flow(h, "127.0.0.1", port, XM_FLOW_NET_EGRESS);
	assert_true(harness_flow(h, &k, &v));
	assert_int_equal(v.bytes, 1000);
	assert_int_equal(v.ops, 1);
	close(rx);
}

static void test_udp_sendto_allowlisted_peer_is_not_counted(void **state)
{
	struct harness *h = *state;
	struct xm_flow_key k;
	struct xm_flow_val v;
	uint16_t port;
	int rx = bound_socket(SOCK_DGRAM, "127.0.0.3", &port);

	harness_allow(h, "127.0.0.3", 32);
	udp_send("127.0.0.3", port, 1000);
	k = harness_net_flow(h, "127.0.0.3", port, XM_FLOW_NET_EGRESS);
	assert_false(harness_flow(h, &k, &v));
	close(rx);
}

/* Bytes received from a configured service are source bytes (and make a collector);
 * what the service side sent back to the unlisted client is egress, just as exactly. */
static void test_tcp_from_service_is_source_and_reply_is_egress(void **state)
{
	struct harness *h = *state;
	struct sockaddr_in sa = { .sin_family = AF_INET }, local;
	socklen_t len = sizeof(local);
	char buf[5000] = { 0 };
	struct xm_flow_key k;
	struct xm_flow_val v;
	uint16_t port;
	size_t got = 0;
	int lfd = bound_socket(SOCK_STREAM, "127.0.0.4", &port), cfd, sfd;
	ssize_t n;

	harness_service(h, "127.0.0.4", port);
	assert_int_equal(listen(lfd, 1), 0);
	cfd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	assert_true(cfd >= 0);
	sa.sin_port = htons(port);
	inet_pton(AF_INET, "127.0.0.4", &sa.sin_addr);
	assert_int_equal(connect(cfd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	sfd = accept(lfd, NULL, NULL);
	assert_true(sfd >= 0);
	assert_int_equal(send(sfd, buf, sizeof(buf), 0), (ssize_t)sizeof(buf));
	while (got < sizeof(buf) && (n = recv(cfd, buf, sizeof(buf) - got, 0)) > 0)
		got += (size_t)n;
	assert_int_equal(got, sizeof(buf));

	k = harness_net_flow(h, "127.0.0.4", port, XM_FLOW_NET_SOURCE);
	assert_true(harness_flow(h, &k, &v));
	assert_int_equal(v.bytes, sizeof(buf));
	assert_true(v.ops >= 1);

	assert_int_equal(getsockname(cfd, (struct sockaddr *)&local, &len), 0);
	k = harness_net_flow(h, inet_ntoa(local.sin_addr), ntohs(local.sin_port),
			     XM_FLOW_NET_EGRESS);
	assert_true(harness_flow(h, &k, &v));
	assert_int_equal(v.bytes, sizeof(buf));
	close(sfd);
	close(cfd);
	close(lfd);
}

/*
 * Issue 11 A1: one session may hold XM_FLOW_SESSION_QUOTA flows. A byte to each of
 * QUOTA + 10 peers creates flows up to the quota; every datagram beyond it lands in the
 * session's totals under its own loginuid (never nobody's), counted as a quota drop.
 */
static void test_session_flow_quota_sends_the_rest_to_session_totals(void **state)
{
	struct harness *h = *state;
	struct xm_fill_key fk = { .session = h->session, .loginuid = h->loginuid,
				  .map = XM_FILL_FLOWS };
	struct xm_total_key tk = { .session = h->session, .loginuid = h->loginuid,
				   .kind = XM_FLOW_NET_EGRESS };
	struct xm_total_val before = { 0 }, after = { 0 };
	struct xm_fill_val fill = { 0 };
	struct sockaddr_in to = { .sin_family = AF_INET, .sin_port = htons(9) };
	uint32_t n = XM_FLOW_SESSION_QUOTA + 10, base = 127u << 24 | 91u << 16 | 1;
	uint64_t drops = harness_drops(h, XM_DROP_FLOW_QUOTA), live;
	int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);

	assert_true(fd >= 0);
	bpf_map_lookup_elem(h->maps->fills, &fk, &fill);
	live = fill.created;   /* nothing frees quota here: no drain runs */
	bpf_map_lookup_elem(h->maps->totals, &tk, &before);
	for (uint32_t i = 0; i < n; i++) {
		to.sin_addr.s_addr = htonl(base + i);
		sendto(fd, "x", 1, 0, (struct sockaddr *)&to, sizeof(to));
	}
	close(fd);
	/* The quota is reached and not passed; each datagram refused a flow is one byte in
	 * the session's totals. (Other flows of this process created meanwhile, on the
	 * pre-5.15 path, may take a slot of their own: hence "at least".) */
	assert_int_equal(bpf_map_lookup_elem(h->maps->fills, &fk, &fill), 0);
	assert_int_equal(fill.created, XM_FLOW_SESSION_QUOTA);
	assert_int_equal(bpf_map_lookup_elem(h->maps->totals, &tk, &after), 0);
	assert_true(after.bytes - before.bytes >= n - (XM_FLOW_SESSION_QUOTA - live));
	assert_int_equal(harness_drops(h, XM_DROP_FLOW_QUOTA) - drops,
			 after.bytes - before.bytes);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_udp_sendto_unlisted_peer_is_egress),
		cmocka_unit_test(test_udp_sendto_allowlisted_peer_is_not_counted),
		cmocka_unit_test(test_tcp_from_service_is_source_and_reply_is_egress),
		/* Last: it uses up this session's flow quota. */
		cmocka_unit_test(test_session_flow_quota_sends_the_rest_to_session_totals),
	};

	return cmocka_run_group_tests_name("bpf_sock", tests, harness_setup, harness_teardown);
}
