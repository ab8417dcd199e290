// SPDX-License-Identifier: GPL-2.0-only
/*
 * The event loop. Signals are data here (signalfd), so no work ever runs in a signal
 * handler; the tick is a timerfd so a slow drain delays the next tick instead of
 * stacking them.
 */
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <limits.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/inotify.h>
#include <sys/signalfd.h>
#include <sys/timerfd.h>
#include <unistd.h>

#include "log.h"
#include "loop.h"

enum { SRC_RING, SRC_TICK, SRC_SIGNAL, SRC_MOUNTS, SRC_CONFIG };

struct loop {
	struct loop_ops ops;
	int epfd, tfd, sfd, mfd, ifd;
	char config_name[NAME_MAX + 1];
	int running;
};

static int watch(struct loop *l, int fd, uint32_t events, int src)
{
	struct epoll_event ev = { .events = events, .data.u32 = src };

	return epoll_ctl(l->epfd, EPOLL_CTL_ADD, fd, &ev) ? -errno : 0;
}

int loop_set_tick(struct loop *l, uint32_t tick_ms)
{
	struct itimerspec its = {
		.it_interval = { tick_ms / 1000, (tick_ms % 1000) * 1000000L },
		.it_value = { tick_ms / 1000, (tick_ms % 1000) * 1000000L },
	};

	return timerfd_settime(l->tfd, 0, &its, NULL) ? -errno : 0;
}

static int setup_signals(struct loop *l)
{
	sigset_t set;

	sigemptyset(&set);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGHUP);
	sigaddset(&set, SIGUSR1);
	if (sigprocmask(SIG_BLOCK, &set, NULL))
		return -errno;
	l->sfd = signalfd(-1, &set, SFD_CLOEXEC | SFD_NONBLOCK);
	return l->sfd < 0 ? -errno : watch(l, l->sfd, EPOLLIN, SRC_SIGNAL);
}

/* Watches the directory: an editor or a config push replaces the file by rename. */
static int setup_config_watch(struct loop *l, const char *path)
{
	char copy[PATH_MAX], copy2[PATH_MAX];

	snprintf(copy, sizeof(copy), "%s", path);
	snprintf(copy2, sizeof(copy2), "%s", path);
	snprintf(l->config_name, sizeof(l->config_name), "%s", basename(copy));
	l->ifd = inotify_init1(IN_CLOEXEC | IN_NONBLOCK);
	if (l->ifd < 0)
		return -errno;
	if (inotify_add_watch(l->ifd, dirname(copy2),
			      IN_CLOSE_WRITE | IN_MOVED_TO | IN_CREATE) < 0)
		return -errno;
	return watch(l, l->ifd, EPOLLIN, SRC_CONFIG);
}

static int setup(struct loop *l, const struct loop_opts *o)
{
	int err;

	l->epfd = epoll_create1(EPOLL_CLOEXEC);
	if (l->epfd < 0)
		return -errno;
	if (o->ring_fd >= 0 && (err = watch(l, o->ring_fd, EPOLLIN, SRC_RING)))
		return err;
	l->tfd = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC | TFD_NONBLOCK);
	if (l->tfd < 0)
		return -errno;
	if ((err = watch(l, l->tfd, EPOLLIN, SRC_TICK)) || (err = loop_set_tick(l, o->tick_ms)))
		return err;
	if ((err = setup_signals(l)))
		return err;
	if (o->mountinfo) {
		l->mfd = open(o->mountinfo, O_RDONLY | O_CLOEXEC);
		if (l->mfd < 0 || (err = watch(l, l->mfd, EPOLLPRI | EPOLLERR, SRC_MOUNTS)))
			return l->mfd < 0 ? -errno : err;
	}
	if (o->config_path)
		return setup_config_watch(l, o->config_path);
	return 0;
}

struct loop *loop_new(const struct loop_opts *opts, const struct loop_ops *ops)
{
	struct loop *l = calloc(1, sizeof(*l));
	int err;

	if (!l)
		return NULL;
	l->ops = *ops;
	l->epfd = l->tfd = l->sfd = l->mfd = l->ifd = -1;
	err = setup(l, opts);
	if (err) {
		loop_free(l);
		errno = -err;
		return NULL;
	}
	return l;
}

static void drain_fd(int fd)
{
	char buf[4096];

	while (read(fd, buf, sizeof(buf)) > 0)
		;
}

static bool config_touched(struct loop *l)
{
	char buf[4096] __attribute__((aligned(__alignof__(struct inotify_event))));
	bool hit = false;
	ssize_t n;

	while ((n = read(l->ifd, buf, sizeof(buf))) > 0) {
		for (char *p = buf; p < buf + n;) {
			struct inotify_event *e = (struct inotify_event *)p;

			if (e->len && !strcmp(e->name, l->config_name))
				hit = true;
			p += sizeof(*e) + e->len;
		}
	}
	return hit;
}

static void on_signal(struct loop *l)
{
	struct signalfd_siginfo si;

	while (read(l->sfd, &si, sizeof(si)) == sizeof(si)) {
		if (l->ops.on_signal)
			l->ops.on_signal(l->ops.ctx, (int)si.ssi_signo);
		if (si.ssi_signo == SIGINT || si.ssi_signo == SIGTERM)
			l->running = 0;
	}
}

static void dispatch(struct loop *l, uint32_t src)
{
	switch (src) {
	case SRC_RING:
		l->ops.on_ring(l->ops.ctx);
		break;
	case SRC_TICK:
		drain_fd(l->tfd);
		l->ops.on_tick(l->ops.ctx);
		break;
	case SRC_SIGNAL:
		on_signal(l);
		break;
	case SRC_MOUNTS:
		if (l->ops.on_mounts)
			l->ops.on_mounts(l->ops.ctx);
		break;
	case SRC_CONFIG:
		if (config_touched(l) && l->ops.on_config_file)
			l->ops.on_config_file(l->ops.ctx);
		break;
	}
}

int loop_run(struct loop *l)
{
	struct epoll_event evs[8];

	l->running = 1;
	while (l->running) {
		int n = epoll_wait(l->epfd, evs, 8, -1);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		for (int i = 0; i < n && l->running; i++)
			dispatch(l, evs[i].data.u32);
	}
	return 0;
}

void loop_stop(struct loop *l)
{
	l->running = 0;
}

void loop_free(struct loop *l)
{
	if (!l)
		return;
	for (int *fd = &l->epfd; fd <= &l->ifd; fd++)
		if (*fd >= 0)
			close(*fd);
	free(l);
}
