// SPDX-License-Identifier: GPL-2.0-only
/* The notify protocol for exfilmond (see service.h). */
#include <stdio.h>
#include <time.h>

#include <systemd/sd-daemon.h>

#include "common/timeutil.h"
#include "common/log.h"
#include "service.h"

void service_init(struct service *s)
{
	uint64_t usec = 0;

	s->watchdog_usec = sd_watchdog_enabled(0, &usec) > 0 ? usec : 0;
	s->last_ping_ns = 0;
	if (s->watchdog_usec)
		log_info("service: watchdog every %llu ms, fed by the main loop",
			 (unsigned long long)s->watchdog_usec / 1000);
}

void service_ready(struct service *s, const char *status)
{
	sd_notifyf(0, "READY=1\nSTATUS=%s", status);
	s->last_ping_ns = monotonic_ns();
}

void service_tick(struct service *s, uint64_t now_mono_ns)
{
	if (!s->watchdog_usec || now_mono_ns - s->last_ping_ns < s->watchdog_usec * 1000 / 2)
		return;
	sd_notify(0, "WATCHDOG=1");
	s->last_ping_ns = now_mono_ns;
}

void service_reloading(struct service *s)
{
	struct timespec ts;

	/* systemd 253+ wants the monotonic time with RELOADING=1; older ones ignore it. */
	clock_gettime(CLOCK_MONOTONIC, &ts);
	sd_notifyf(0, "RELOADING=1\nMONOTONIC_USEC=%llu",
		   (unsigned long long)ts.tv_sec * 1000000ULL + (unsigned long long)ts.tv_nsec / 1000);
}

void service_stopping(struct service *s)
{
	sd_notify(0, "STOPPING=1");
}
