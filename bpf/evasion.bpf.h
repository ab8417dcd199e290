/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Evasion records: something a session did that takes its bytes past every counter the
 * kernel allows here (an overlay in a user namespace, raw USB through usbfs). The act is
 * reported instead, and the agent turns it into a sensor_integrity alert naming the
 * session: suspicion, not silence.
 */
#ifndef EXFILMON_EVASION_BPF_H
#define EXFILMON_EVASION_BPF_H

#include "record.bpf.h"
#include "task.bpf.h"

/* A reserved evasion record with its task filled and no detail yet, or NULL (the loss is
 * counted by record_reserve). */
static __always_inline struct xm_evasion *evasion_reserve(__u32 what)
{
	struct task_struct *task = current_task();
	struct xm_evasion *r;

	r = record_reserve(sizeof(*r), XM_REC_EVASION, XM_DROP_RING_EVASION,
			   task_session(task));
	if (!r)
		return NULL;
	task_fill(&r->task, task);
	r->what = what;
	r->_pad = 0;
	r->detail_len = 0;
	return r;
}

/* Three decimal digits of v at p (v < 1000), for details made in the kernel. */
static __always_inline void put3(char *p, __u32 v)
{
	p[0] = '0' + v / 100 % 10;
	p[1] = '0' + v / 10 % 10;
	p[2] = '0' + v % 10;
}

#endif
