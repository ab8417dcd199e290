// SPDX-License-Identifier: GPL-2.0-only
/* The one definition of every shared map (declared in maps.bpf.h). */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>

#include "maps.bpf.h"
#include "lineage.bpf.h"

watch_map_t watch SEC(".maps");
sinks_map_t sinks SEC(".maps");
fills_map_t fills SEC(".maps");
flowfree_map_t flowfree SEC(".maps");
suspects_map_t suspects SEC(".maps");
flows_map_t flows SEC(".maps");
totals_map_t totals SEC(".maps");
gaps_map_t gaps SEC(".maps");
drops_map_t drops SEC(".maps");
net_map_t services SEC(".maps");
net_map_t allow SEC(".maps");
socks_map_t socks SEC(".maps");
sinkdevs_map_t sinkdevs SEC(".maps");
ring_map_t events SEC(".maps");
scratch_map_t scratch SEC(".maps");
collectors_map_t collectors SEC(".maps");
sysargs_map_t sysargs SEC(".maps");
dircache_map_t dircache SEC(".maps");
dgramdst_map_t dgramdst SEC(".maps");
staged_map_t staged SEC(".maps");

/* Lineage (lineage.bpf.h). */
labels_map_t labels SEC(".maps");
ilabels_map_t ilabels SEC(".maps");
lsess_map_t lsess SEC(".maps");
lseen_map_t lseen SEC(".maps");
lcount_proc_map_t lcount_proc SEC(".maps");
lcount_obj_map_t lcount_obj SEC(".maps");
__u32 label_overflow = 0;

const volatile __u32 args_from_enter = 0;
const volatile __u32 sock_via_syscalls = 0;
const volatile __u64 dircache_ttl_ns = 1000000000ULL;
__u64 ring_woken_ns = 0;
__u64 dir_gen = 0;
__u64 net_gen = 0;
__u32 suspects_any = 0;
__u32 stream_labels_any = 0;
__u32 dgram_hooks_on = 0;

char LICENSE[] SEC("license") = "GPL";
