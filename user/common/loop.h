/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * One epoll set for the whole process: the ring buffer fd, a periodic tick (counter
 * drain, evidence sealing), signals through a signalfd, mount changes (mountinfo
 * polls with EPOLLPRI) and changes to the config file (inotify on its directory, since
 * pushed configs usually arrive by rename).
 */
#ifndef EXFILMON_LOOP_H
#define EXFILMON_LOOP_H

#include <stdint.h>

struct loop_ops {
	void (*on_ring)(void *ctx);
	void (*on_tick)(void *ctx);
	/* SIGINT/SIGTERM stop the loop after this returns; SIGHUP and SIGUSR1 only call it. */
	void (*on_signal)(void *ctx, int sig);
	void (*on_mounts)(void *ctx);
	void (*on_config_file)(void *ctx);
	void *ctx;
};

struct loop_opts {
	int ring_fd;               /* -1 for none */
	uint32_t tick_ms;
	const char *mountinfo;     /* NULL: not watched */
	const char *config_path;   /* NULL: not watched */
};

struct loop;

/* Blocks SIGINT, SIGTERM, SIGHUP, SIGUSR1 for the process and takes them through a signalfd. */
struct loop *loop_new(const struct loop_opts *opts, const struct loop_ops *ops);
/* Runs until a terminating signal or loop_stop. Returns 0 or -errno. */
int loop_run(struct loop *l);
void loop_stop(struct loop *l);
int loop_set_tick(struct loop *l, uint32_t tick_ms);
void loop_free(struct loop *l);

#endif
