// SPDX-License-Identifier: GPL-2.0-only
/*
 * Drives the real syslog sender (user/output/syslog_out.c) for test_syslog.sh: sends COUNT
 * alert-like JSON messages (and one CHAIN) to URL, then keeps flushing until the queue is
 * empty or WAIT_S seconds passed, and prints "sent N dropped D queued Q".
 * usage: syslog_send URL FACILITY CA_FILE|- COUNT WAIT_S [TAG_TEXT]
 */
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "common/log.h"
#include "output/syslog_out.h"

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

int main(int argc, char **argv)
{
	struct syslog_out_opts o = { .app_name = "exfilmon" };
	struct syslog_out *s;
	char msg[256];
	long count, sent = 0;
	double deadline;
	size_t queued;

	if (argc < 6) {
		fprintf(stderr, "usage: syslog_send URL FACILITY CA_FILE|- COUNT WAIT_S [TEXT]\n");
		return 2;
	}
	log_setup("syslog_send", 1, LOG_LVL_INFO);
	o.url = argv[1];
	o.facility = atoi(argv[2]);
	o.ca_file = argv[3][0] == '-' ? NULL : argv[3];
	count = atol(argv[4]);
	deadline = now_s() + atof(argv[5]);
	s = syslog_out_open(&o);
	if (!s) {
		perror(argv[1]);
		return 1;
	}
	for (long i = 0; i < count; i++) {
		snprintf(msg, sizeof(msg),
			 "{\"event\":{\"kind\":\"alert\"},\"n\":%ld,\"text\":\"%s\"}", i,
			 argc > 6 ? argv[6] : "x");
		sent += syslog_out_send(s, 2, "ALERT", msg) == 0;
	}
	sent += syslog_out_send(s, 6, "CHAIN",
				"evidence sealed segment=seg-0 block=1 head=ab") == 0;
	while ((queued = syslog_out_flush(s)) && now_s() < deadline)
		poll(NULL, 0, 20);
	printf("sent %ld dropped %llu queued %zu\n", sent,
	       (unsigned long long)syslog_out_close_wait(s, 0), queued);
	return 0;
}
