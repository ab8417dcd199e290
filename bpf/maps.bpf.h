/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Maps every sensor file shares. maps.bpf.c defines them once; the other files see them
 * as extern, and bpftool's static linker joins them into one object and one skeleton.
 */
#ifndef EXFILMON_MAPS_BPF_H
#define EXFILMON_MAPS_BPF_H

#include <bpf/bpf_helpers.h>

#include "abi.h"

#define XM_WATCH_ENTRIES 262144
#define XM_SINK_ENTRIES 131072
#define XM_TOTAL_ENTRIES 16384
#define XM_FILL_ENTRIES 8192
#define XM_FLOW_ENTRIES 65536
#define XM_SOCK_ENTRIES 65536
#define XM_NET_ENTRIES 1024
#define XM_DIRCACHE_ENTRIES 16384

/*
 * The hash maps below but flows are not preallocated (BPF_F_NO_PREALLOC): an entry takes
 * kernel memory from the moment it is created until it is deleted, instead of every
 * slot at load (watch and sinks alone pinned 35 MB preallocated, for a daemon that
 * holds a few thousand entries). max_entries bounds them just the same, and a create
 * that finds no memory fails like a full map: counted (drops, fills) and attributed the
 * same way. Lookups, the hot path, cost the same. flows stays preallocated: a flow is
 * created at the first read of every watched file by every process, and unpreallocated
 * that read cost about 100 ns more (bench/profile.sh --work openclose_watched, both
 * builds attached together, both orders). The LRU maps cannot be unpreallocated.
 */

/* Watched inodes and tree roots, filled by userspace and extended at open time. Sink
 * files found at open time go to a map of their own (sinks, same layout): thousands of
 * files touched in a sync folder must never leave new source files unwatched. */
typedef struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__uint(max_entries, XM_WATCH_ENTRIES);
	__type(key, struct xm_watch_key);
	__type(value, struct xm_watch_val);
} watch_map_t;

typedef struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__uint(max_entries, XM_SINK_ENTRIES);
	__type(key, struct xm_watch_key);
	__type(value, struct xm_watch_val);
} sinks_map_t;

/* Byte counters per process, session and object; userspace drains deltas. */
typedef struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, XM_FLOW_ENTRIES);
	__type(key, struct xm_flow_key);
	__type(value, struct xm_flow_val);
} flows_map_t;

/* Per session, login user and kind; only written when a flow could not be created (the
 * session's quota used up, or the map full), so those bytes keep their attribution. */
typedef struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__uint(max_entries, XM_TOTAL_ENTRIES);
	__type(key, struct xm_total_key);
	__type(value, struct xm_total_val);
} totals_map_t;

/* Entries created and refused per session and map (xm_fill_key). */
typedef struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__uint(max_entries, XM_FILL_ENTRIES);
	__type(key, struct xm_fill_key);
	__type(value, struct xm_fill_val);
} fills_map_t;

/* Flows of each session that userspace deleted (its processes exited), written only by
 * userspace: live flows of a session = fills[session, FLOWS].created - flowfree[session],
 * two counters each with one writer, so neither side loses the other's updates. */
typedef struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__uint(max_entries, XM_FILL_ENTRIES);
	__type(key, __u32);
	__type(value, __u64);
} flowfree_map_t;

/* Processes whose new watched file could not be remembered (map full): their reads of
 * and writes to unwatched regular files count as the class they lost (XM_W_SOURCE,
 * XM_W_SINK). Keyed by tgid. */
typedef struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__uint(max_entries, 16384);
	__type(key, __u32);
	__type(value, __u32);
} suspects_map_t;

typedef struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__uint(max_entries, 4096);
	__type(key, struct xm_gap_key);
	__type(value, struct xm_gap_val);
} gaps_map_t;

typedef struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, XM_DROP_MAX);
	__type(key, __u32);
	__type(value, __u64);
} drops_map_t;

typedef struct {
	__uint(type, BPF_MAP_TYPE_LPM_TRIE);
	__uint(max_entries, XM_NET_ENTRIES);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, struct xm_net_key);
	__type(value, struct xm_net_val);
} net_map_t;

/* Classification cache per struct sock, negative results included, so a socket that
 * is not interesting costs one lookup per operation. LRU bounds it without a close hook. */
typedef struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, XM_SOCK_ENTRIES);
	__type(key, __u64);
	__type(value, struct xm_sock_val);
} socks_map_t;

/* The ancestry walk's verdict per directory (vfs.bpf.h): the tree root found above it,
 * or none. LRU: an evicted verdict only costs one walk. */
struct xm_dir_verdict {
	__u64 gen;			/* dir_gen when the walk began */
	__u64 at_ns;			/* when: older verdicts are walked again */
	struct xm_watch_val root;	/* the root's value; flags 0 when none was found */
};

typedef struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, XM_DIRCACHE_ENTRIES);
	__type(key, struct xm_watch_key);
	__type(value, struct xm_dir_verdict);
} dircache_map_t;

typedef struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 256);
	__type(key, __u32);
	__type(value, struct xm_sinkdev_val);
} sinkdevs_map_t;

typedef struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 4 << 20);
} ring_map_t;

/* Processes that have collected (read a source): their writes to ordinary files are
 * staging. Keyed by tgid, value the boot time of the first collection. */
typedef struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__uint(max_entries, 16384);
	__type(key, __u32);
	__type(value, __u64);
} collectors_map_t;

/* Files a collector wrote (struct xm_staged), bounded by LRU: the oldest staged file
 * forgotten first. */
typedef struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 65536);
	__type(key, struct xm_watch_key);
	__type(value, struct xm_staged);
} staged_map_t;

/* Destination of the datagram a thread is sending (cgroup sendmsg hooks), keyed by
 * pid_tgid, consumed by the byte accounting of the same send. A thread's entry stays
 * and is rewritten in place (set, then cleared when taken): an LRU update and delete
 * per datagram cost about 250 ns, a lookup a tenth of that. LRU: the entries of
 * threads that are gone, or sends the accounting never saw, must not pin slots. */
struct xm_dgram_dst {
	__u8 addr[16];
	__u16 port;
	__u16 set;           /* a destination waits to be taken */
	__u32 _pad;
};

typedef struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 16384);
	__type(key, __u64);
	__type(value, struct xm_dgram_dst);
} dgramdst_map_t;

/* Syscall arguments saved at entry, for kernels without bpf_task_pt_regs (before 5.15)
 * where an exit program cannot read them itself. LRU: a task that dies inside a syscall
 * never reaches its exit, and its entry must not pin a slot forever. */
struct xm_sys_args {
	__u64 a[5];
};

typedef struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 16384);
	__type(key, __u64);
	__type(value, struct xm_sys_args);
} sysargs_map_t;

/* Scratch space for building paths: too big for the 512-byte stack. */
struct xm_scratch {
	char buf[XM_PATH_LEN * 2];
};

typedef struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct xm_scratch);
} scratch_map_t;

extern watch_map_t watch SEC(".maps");
extern sinks_map_t sinks SEC(".maps");
extern fills_map_t fills SEC(".maps");
extern flowfree_map_t flowfree SEC(".maps");
extern suspects_map_t suspects SEC(".maps");
extern flows_map_t flows SEC(".maps");
extern totals_map_t totals SEC(".maps");
extern gaps_map_t gaps SEC(".maps");
extern drops_map_t drops SEC(".maps");
extern net_map_t services SEC(".maps");
extern net_map_t allow SEC(".maps");
extern socks_map_t socks SEC(".maps");
extern sinkdevs_map_t sinkdevs SEC(".maps");
extern ring_map_t events SEC(".maps");
extern scratch_map_t scratch SEC(".maps");
extern collectors_map_t collectors SEC(".maps");
extern sysargs_map_t sysargs SEC(".maps");
extern dircache_map_t dircache SEC(".maps");
extern dgramdst_map_t dgramdst SEC(".maps");
extern staged_map_t staged SEC(".maps");

/* Set by user/agent/sensors.c: 1 when exit programs take their arguments from sysargs. */
extern const volatile __u32 args_from_enter;
/* Set by user/agent/sensors.c: 1 when the kernel has no sock:sock_{send,recv}_length. */
extern const volatile __u32 sock_via_syscalls;
/*
 * Age past which a directory verdict (vfs.bpf.h) is walked again even if its generation
 * still matches: it bounds what the generation cannot see (renames done inside the
 * kernel by nfsd or ksmbd, by another host on a network filesystem, or by io_uring with
 * IOSQE_CQE_SKIP_SUCCESS, which posts no completion). 1 s; tests lengthen it
 * (EXFILMON_DIRCACHE_TTL_MS) to prove that the generation alone keeps verdicts right.
 */
extern const volatile __u64 dircache_ttl_ns;

/* Boot time of the last forced ring wake-up (record.bpf.h); racy by design, any CPU's
 * recent value will do. */
#define XM_RING_WAKE_NS 10000000ULL
extern __u64 ring_woken_ns;
/* Set once a process is in suspects: until then no read pays for that lookup. */
extern __u32 suspects_any;
/* Set once a stream (pipe, socket) carries a label: until then a read at end of file,
 * the commonest read of all, leaves before resolving its fd (lineage_eof has nothing to
 * hand over). Only ever set, so no handover can be skipped by a race. */
extern __u32 stream_labels_any;
/* Set by userspace once the cgroup sendmsg hooks are attached: datagrams with an address
 * are then accounted through dgramdst, not by the sendto exit. */
extern __u32 dgram_hooks_on;

/* Generation of the directory verdicts in dircache: moved by every rename, directory
 * removal and policy apply (userspace, through the skeleton's mapped .bss), each of
 * which can change which tree a directory lies in or free its inode number for reuse.
 * A verdict of another generation is stale. */
extern __u64 dir_gen;

/* Generation of the peer classes cached in socks: moved by userspace after every policy
 * apply, as the services and allow rules a class was judged by may have changed. A
 * class of another generation is judged again, so a connection opened while its peer
 * was allowed is counted as egress from the moment the allowlist drops the peer. */
extern __u64 net_gen;

static __always_inline void dir_gen_bump(void)
{
	__sync_fetch_and_add(&dir_gen, 1);
}

/*
 * Inserts init under key unless an entry is there already, and returns the entry that
 * is there after that (ours or a concurrent inserter's), or NULL when the map is full.
 * BPF_NOEXIST keeps a racing CPU's counts; the lookup after it is what makes the race
 * harmless, so the update's own result does not matter.
 */
static __always_inline void *map_try_init(void *map, const void *key, const void *init)
{
	bpf_map_update_elem(map, key, init, BPF_NOEXIST);
	return bpf_map_lookup_elem(map, key);
}

/* The entry under key, created from init first when there is none (as libbpf-tools'
 * bpf_map_lookup_or_try_init). NULL only when the map is full. */
static __always_inline void *map_lookup_or_try_init(void *map, const void *key,
						    const void *init)
{
	void *v = bpf_map_lookup_elem(map, key);

	return v ? v : map_try_init(map, key, init);
}

#endif
