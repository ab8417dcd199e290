/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Places the daemon and the CLI agree on: where the daemon publishes its status and
 * where the evidence lives when no --dir or config says otherwise.
 */
#ifndef EXFILMON_PATHS_H
#define EXFILMON_PATHS_H

/* Default evidence directory when --dir is not given. */
#define XM_DEFAULT_EVIDENCE_DIR "/var/lib/exfilmon/evidence"
/* Where the daemon publishes its status (JSON, rewritten atomically). */
#define XM_STATUS_PATH "/run/exfilmon/status.json"

/* Where the daemon pins the lineage label maps (a bpf filesystem), so a restart or an
 * upgrade of the daemon does not make derived data clean. EXFILMON_PIN_DIR overrides it
 * (tests that run a daemon beside another one). */
#define XM_LABEL_PIN_DIR "/sys/fs/bpf/exfilmon"

#endif
