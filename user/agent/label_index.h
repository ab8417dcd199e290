/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The agent's side of the label counts (bpf/lineage.bpf.h, abi.h xm_lslot_*): the
 * programs look a label up only under a slot that counts one, so every label the agent
 * inserts or deletes itself is counted the way the programs count theirs, and the counts
 * (not pinned) are recounted from the pinned label maps before the programs attach.
 */
#ifndef EXFILMON_LABEL_INDEX_H
#define EXFILMON_LABEL_INDEX_H

#include <stdint.h>

#include "abi.h"
#include "sensors.h"

/* Counts every label in the label maps; the counts must be zero and nothing attached. */
void label_index_rebuild(const struct sensor_maps *m);
/* Inserts an object label unless the key has one. Returns 0 or -errno (-EEXIST). */
int label_index_insert_obj(const struct sensor_maps *m, const struct xm_watch_key *k,
			   const struct xm_label *v);
/* Deletes an object or a process label. Returns 0 or -errno (-ENOENT). */
int label_index_delete_obj(const struct sensor_maps *m, const struct xm_watch_key *k);
int label_index_delete_proc(const struct sensor_maps *m, uint32_t tgid);

#endif
