// SPDX-License-Identifier: GPL-2.0-only
/* Unit tests for loop.c: ticks, signals through the signalfd, config-file changes. */
#include <fcntl.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include <cmocka.h>

#include "common/loop.h"

struct counts {
	struct loop *loop;
	int ticks, hups, config, ring;
	char cfg[64];
	int pipe_w;
};

static void on_ring(void *ctx)
{
	struct counts *c = ctx;
	char b;

	c->ring++;
	(void)!read(c->pipe_w - 1, &b, 1);
}

static void on_tick(void *ctx)
{
	struct counts *c = ctx;

	c->ticks++;
	if (c->ticks == 2) {
		/* Replace the config by rename, as a push would. */
		char tmp[80];
		FILE *f;

		snprintf(tmp, sizeof(tmp), "%s.new", c->cfg);
		f = fopen(tmp, "w");
		fputs("x: 2\n", f);
		fclose(f);
		rename(tmp, c->cfg);
	}
	if (c->ticks == 3) {
		(void)!write(c->pipe_w, "r", 1);
		kill(getpid(), SIGHUP);
	}
	if (c->ticks == 5)
		kill(getpid(), SIGTERM);
}

static void on_signal(void *ctx, int sig)
{
	struct counts *c = ctx;

	if (sig == SIGHUP)
		c->hups++;
}

static void on_config(void *ctx)
{
	((struct counts *)ctx)->config++;
}

static void test_loop_run_dispatches_every_source(void **state)
{
	struct counts c = { 0 };
	struct loop_ops ops = { on_ring, on_tick, on_signal, NULL, on_config, &c };
	char dir[] = "/tmp/test_loop.XXXXXX";
	int p[2];
	FILE *f;

	assert_non_null(mkdtemp(dir));
	snprintf(c.cfg, sizeof(c.cfg), "%s/exfilmon.yaml", dir);
	f = fopen(c.cfg, "w");
	fputs("x: 1\n", f);
	fclose(f);
	assert_int_equal(pipe(p), 0);
	assert_int_equal(p[1], p[0] + 1);
	c.pipe_w = p[1];
	struct loop_opts opts = { .ring_fd = p[0], .tick_ms = 20, .config_path = c.cfg };
	c.loop = loop_new(&opts, &ops);
	assert_non_null(c.loop);
	assert_int_equal(loop_run(c.loop), 0);
	assert_int_equal(c.ticks, 5);
	assert_int_equal(c.hups, 1);
	assert_int_equal(c.ring, 1);
	assert_true(c.config >= 1);
	loop_free(c.loop);
	unlink(c.cfg);
	rmdir(dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_loop_run_dispatches_every_source),
	};

	return cmocka_run_group_tests_name("loop", tests, NULL, NULL);
}
