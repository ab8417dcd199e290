/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * What the daemon tells its service manager (systemd's notify protocol through libsystemd's
 * sd_notify): READY once the sensors are attached, WATCHDOG pings from the main loop's
 * tick, RELOADING/READY around a reload, STOPPING at shutdown. Without a manager
 * (NOTIFY_SOCKET unset) every call is a no-op.
 */
#ifndef EXFILMON_SERVICE_H
#define EXFILMON_SERVICE_H

#include <stdint.h>

/* Exit status for a config that cannot be used (sysexits.h EX_CONFIG); the unit has
 * RestartPreventExitStatus=78, so systemd does not restart into the same error. */
#define SERVICE_EXIT_CONFIG 78

struct service {
	uint64_t watchdog_usec;      /* 0: no watchdog asked for */
	uint64_t last_ping_ns;       /* CLOCK_MONOTONIC */
};

/* Reads WATCHDOG_USEC (via sd_watchdog_enabled). */
void service_init(struct service *s);
/* READY=1 with a STATUS line. */
void service_ready(struct service *s, const char *status);
/* From the loop's tick: WATCHDOG=1 once half the watchdog interval has passed. A stuck
 * loop stops the pings and systemd restarts the agent. */
void service_tick(struct service *s, uint64_t now_mono_ns);
/* RELOADING=1 before a reload; service_ready after it. */
void service_reloading(struct service *s);
void service_stopping(struct service *s);

#endif
