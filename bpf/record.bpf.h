/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Ring records: reserve with the common header filled, and when the ring is full count
 * the loss per CPU (drops) and per session and type (gaps), so userspace can write a gap
 * record that says whose detail is missing and for which span.
 */
#ifndef EXFILMON_RECORD_BPF_H
#define EXFILMON_RECORD_BPF_H

#include "maps.bpf.h"

static __always_inline void drop_count(__u32 why)
{
	__u64 *n = bpf_map_lookup_elem(&drops, &why);

	if (n)
		*n += 1;
}

static __always_inline void gap_note(__u32 session, __u32 type, __u64 now)
{
	struct xm_gap_key key = { .session = session, .type = type };
	struct xm_gap_val *v = bpf_map_lookup_elem(&gaps, &key);

	if (!v) {
		struct xm_gap_val init = { .first_ns = now };

		bpf_map_update_elem(&gaps, &key, &init, BPF_NOEXIST);
		v = bpf_map_lookup_elem(&gaps, &key);
		if (!v)
			return;
	}
	__sync_fetch_and_add(&v->count, 1);
	v->last_ns = now;
}

/* Returns a zeroed-header reservation, or NULL after accounting for the loss. */
static __always_inline void *record_reserve(__u32 size, __u16 type, __u32 drop, __u32 session)
{
	__u64 now = bpf_ktime_get_boot_ns();
	struct xm_hdr *h = bpf_ringbuf_reserve(&events, size, 0);

	if (!h) {
		drop_count(drop);
		gap_note(session, type, now);
		return NULL;
	}
	h->type = type;
	h->version = XM_ABI_VERSION;
	h->size = size;
	h->ts_ns = now;
	return h;
}

#endif
