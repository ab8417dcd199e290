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
	struct xm_gap_val init = { .first_ns = now };
	struct xm_gap_val *v = map_lookup_or_try_init(&gaps, &key, &init);

	if (!v)
		return;
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

/*
 * Submits a reserved record. Waking the consumer costs the producer an irq_work, a
 * self-IPI, which under a hypervisor is a VM exit: 2-4 µs per record measured on the
 * build host, more than everything else a watched open does. So wake-ups are batched:
 * a record wakes the consumer when none did for XM_RING_WAKE_NS or when a sixteenth of
 * the ring waits (so a small ring is drained about as eagerly as before: 256 bytes of a
 * 4 KiB one, test_gaps); the records between ride along with the next wake-up, and the
 * daemon consumes the ring on every tick as well (before each counter drain), which
 * bounds the wait of the last records of a burst. The forced wake-up is needed because the default
 * (adaptive) one only fires when the consumer has read everything before this record.
 */
static __always_inline void record_submit_wake(void *r, bool timely)
{
	__u64 now = ((struct xm_hdr *)r)->ts_ns;

	if ((timely && now - ring_woken_ns >= XM_RING_WAKE_NS) ||
	    bpf_ringbuf_query(&events, BPF_RB_AVAIL_DATA) >=
		    bpf_ringbuf_query(&events, BPF_RB_RING_SIZE) / 16) {
		ring_woken_ns = now;
		bpf_ringbuf_submit(r, BPF_RB_FORCE_WAKEUP);
		return;
	}
	bpf_ringbuf_submit(r, BPF_RB_NO_WAKEUP);
}

static __always_inline void record_submit(void *r)
{
	record_submit_wake(r, true);
}

/*
 * For fork and exit: nothing waits on them (the collector needs them only to be in order
 * with the records around them, which the ring keeps), so they never pay for a wake-up of
 * their own; they ride with the next one, the tick, or a sixteenth-full ring.
 */
static __always_inline void record_submit_lazy(void *r)
{
	record_submit_wake(r, false);
}

#endif
