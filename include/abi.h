/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The contract between exfilmon's BPF programs and its userspace: ring-buffer record
 * layouts, map keys and values, limits and their enums. Compiles unchanged under
 * clang -target bpf (after vmlinux.h) and the host compiler (after linux/types.h).
 *
 * Byte accounting does not travel through the ring: the kernel adds bytes to the flow
 * map (struct xm_flow_key -> struct xm_flow_val) and userspace drains deltas, so a full
 * ring loses detail, never totals. The ring carries what userspace needs one by one
 * (exec, exit, watched opens, connects), and every failed reserve is counted both per
 * CPU (drops map) and per session and kind (gaps map) so the loss is reported in-band.
 */
#ifndef EXFILMON_ABI_H
#define EXFILMON_ABI_H

#ifndef __bpf__
#include <linux/types.h>
#endif

#define XM_ABI_VERSION 3

#define XM_COMM_LEN 16
#define XM_PATH_LEN 256     /* kernel-built paths; longer ones keep their last components */
#define XM_ARGS_LEN 192     /* argv summary, NUL-separated as in /proc/PID/cmdline */
#define XM_PATH_DEPTH 24    /* dentry levels walked for ancestry and path building */
/* Live flows one session may hold: one process sending a byte to 131,070 peers must not
 * fill the flow map for everyone. Beyond it the session's bytes go to its totals. */
#define XM_FLOW_SESSION_QUOTA 8192

/* Ring record types. Written out, never reused: a retired type leaves a hole. */
enum xm_rec_type {
	XM_REC_EXEC = 1,
	XM_REC_FORK = 2,
	XM_REC_EXIT = 3,
	XM_REC_OPEN = 4,      /* a watched file (source or sink) was opened */
	XM_REC_MMAP = 5,      /* a watched source file was mapped */
	XM_REC_CONNECT = 6,   /* connect/accept of a classified socket */
	XM_REC_URING = 7,     /* an io_uring read was submitted on a watched file */
	XM_REC_LINEAGE = 8,   /* a data label moved between a process and an object (lineage) */
	XM_REC_EVASION = 9,   /* a session did something that hides reads from the sensors */
};

/* What a flow counts. Stored in xm_flow_key.kind. */
enum xm_flow_kind {
	XM_FLOW_FILE_READ = 1,   /* bytes read from a watched source file */
	XM_FLOW_NET_SOURCE = 2,  /* bytes received from a configured source service */
	XM_FLOW_NET_EGRESS = 3,  /* bytes sent to a destination outside the allowlist */
	XM_FLOW_SINK_WRITE = 4,  /* bytes written to a file on removable media or in a sync folder */
	XM_FLOW_MMAP = 5,        /* bytes of watched files mapped (length of the mapping) */
	XM_FLOW_URING_READ = 6,  /* bytes read from a watched file through io_uring */
	XM_FLOW_STAGING = 7,     /* bytes a collecting process wrote to an unwatched file */
	XM_FLOW_DERIVED_EGRESS = 8, /* egress bytes covered by the sender's label credit */
};

/* Why a ring record was lost or a map update failed; index into the drops map. */
enum xm_drop {
	XM_DROP_RING_EXEC = 0,
	XM_DROP_RING_FORK,
	XM_DROP_RING_EXIT,
	XM_DROP_RING_OPEN,
	XM_DROP_RING_MMAP,
	XM_DROP_RING_CONNECT,
	XM_DROP_RING_URING,
	XM_DROP_FLOW_FULL,       /* flow map full: those bytes went to the session total only */
	XM_DROP_SOCK_FULL,       /* socket classification map full */
	XM_DROP_WATCH_FULL,      /* a newly found watched source could not be added */
	XM_DROP_FLOW_QUOTA,      /* the session's flow quota was used up: its session total */
	XM_DROP_SINK_FULL,       /* a newly found sink file could not be added */
	XM_DROP_TOTALS_FULL,     /* not even a session total could be created */
	XM_DROP_RING_LINEAGE,    /* a lineage record was lost */
	XM_DROP_LABEL_FULL,      /* a label map was full: the label went to the session's
				  * unknown-origin label, or an object was not labelled */
	XM_DROP_RING_EVASION,    /* an evasion record was lost */
	XM_DROP_MAX,
};

/* How a watched inode or directory is classified (xm_watch_val.flags). */
enum xm_watch_flag {
	XM_W_SOURCE = 1 << 0,    /* reads count as collection */
	XM_W_SINK = 1 << 1,      /* writes count as egress (sync folder, media) */
	XM_W_DIR = 1 << 2,       /* a watched tree's root: files below inherit its class */
	XM_W_MEDIA = 1 << 3,     /* sink is removable/external media (else a sync folder) */
};

/* Socket classes (xm_sock_val.cls, xm_connect.cls). */
enum xm_sock_class {
	XM_SOCK_OTHER = 0,       /* allowlisted destination: not counted */
	XM_SOCK_SOURCE = 1,      /* peer is a configured source service */
	XM_SOCK_EGRESS = 2,      /* peer is outside the egress allowlist */
};

struct xm_hdr {
	__u16 type;
	__u16 version;
	__u32 size;          /* bytes of the whole record */
	__u64 ts_ns;         /* bpf_ktime_get_boot_ns(): boot-time clock, converted by userspace */
};
_Static_assert(sizeof(struct xm_hdr) == 16, "xm_hdr layout changed");

/* Who did it: common to every record. */
struct xm_task {
	__u64 cgroup_id;
	__u64 start_ns;      /* task start (boot clock), tells pid reuse apart */
	__u32 pid;           /* tgid */
	__u32 tid;
	__u32 ppid;          /* real parent's tgid */
	__u32 uid;
	__u32 loginuid;      /* audit loginuid as the kernel keeps it, (u32)-1 when unset */
	__u32 session;       /* audit sessionid as the kernel keeps it, (u32)-1 when unset */
	__u32 tty_nr;        /* new_encode_dev of the controlling tty, 0 when none */
	__u32 _pad;
	char comm[XM_COMM_LEN];
};
_Static_assert(sizeof(struct xm_task) == 64, "xm_task layout changed");

struct xm_exec {
	struct xm_hdr hdr;
	struct xm_task task;
	__u16 path_len;      /* bytes of path used, no terminator counted */
	__u16 args_len;      /* bytes of args used */
	__u16 argc;          /* argv count in the kernel's view */
	__u16 _pad;
	__u32 _pad2;
	char path[XM_PATH_LEN];
	char args[XM_ARGS_LEN];
};
_Static_assert(sizeof(struct xm_exec) == 16 + 64 + 12 + 4 + 256 + 192, "xm_exec layout changed");

struct xm_fork {
	struct xm_hdr hdr;
	struct xm_task task;  /* the child */
};
_Static_assert(sizeof(struct xm_fork) == 80, "xm_fork layout changed");

struct xm_exit {
	struct xm_hdr hdr;
	struct xm_task task;
	__u32 exit_code;
	__u32 _pad;
};
_Static_assert(sizeof(struct xm_exit) == 88, "xm_exit layout changed");

/*
 * A watched file was opened. path is built from the dentry chain inside its filesystem
 * (the part below the mount root of the filesystem, so a bind mount shows its real
 * place); userspace prefixes the mount point found for dev.
 */
struct xm_open {
	struct xm_hdr hdr;
	struct xm_task task;
	__u64 ino;
	__u32 dev;           /* kernel encoding: major << 20 | minor */
	__u32 flags;         /* xm_watch_flag of the file */
	__u32 open_flags;    /* O_* of the open */
	__u16 path_len;
	__u16 _pad;
	char path[XM_PATH_LEN];
};
_Static_assert(sizeof(struct xm_open) == 16 + 64 + 24 + 256, "xm_open layout changed");

struct xm_mmap {
	struct xm_hdr hdr;
	struct xm_task task;
	__u64 ino;
	__u64 len;
	__u32 dev;
	__u32 prot;
	__u32 flags;
	__u32 _pad;
};
_Static_assert(sizeof(struct xm_mmap) == 16 + 64 + 32, "xm_mmap layout changed");

struct xm_connect {
	struct xm_hdr hdr;
	struct xm_task task;
	__u8 laddr[16];      /* IPv4 mapped as ::ffff:a.b.c.d */
	__u8 raddr[16];
	__u16 lport;         /* host order */
	__u16 rport;
	__u16 family;        /* AF_INET or AF_INET6 as the socket was created */
	__u8 proto;          /* IPPROTO_TCP / IPPROTO_UDP */
	__u8 accepted;       /* 1 for accept, 0 for connect */
	__u32 cls;           /* xm_sock_class */
	__u32 _pad;
};
_Static_assert(sizeof(struct xm_connect) == 16 + 64 + 48, "xm_connect layout changed");

struct xm_uring {
	struct xm_hdr hdr;
	struct xm_task task;
	__u64 ino;
	__u32 dev;
	__u32 opcode;        /* IORING_OP_* */
};
_Static_assert(sizeof(struct xm_uring) == 16 + 64 + 16, "xm_uring layout changed");

/* Map: watch (hash). A watched inode or a watched tree's root directory. */
struct xm_watch_key {
	__u64 ino;
	__u32 dev;
	__u32 _pad;
};
_Static_assert(sizeof(struct xm_watch_key) == 16, "xm_watch_key layout changed");

struct xm_watch_val {
	__u32 flags;         /* xm_watch_flag */
	__u32 source_id;     /* index of the configured path that made it watched */
};
_Static_assert(sizeof(struct xm_watch_val) == 8, "xm_watch_val layout changed");

/* Map: flows (hash). One per process, session and object; values only grow. */
struct xm_flow_key {
	__u64 ino;           /* files; 0 for sockets */
	__u8 addr[16];       /* sockets: the peer; zero for files */
	__u32 pid;           /* tgid */
	__u32 session;
	__u32 dev;           /* files; 0 for sockets */
	__u16 port;          /* sockets: the peer's port */
	__u8 kind;           /* xm_flow_kind */
	__u8 _pad;
};
_Static_assert(sizeof(struct xm_flow_key) == 40, "xm_flow_key layout changed");

struct xm_flow_val {
	__u64 bytes;
	__u64 ops;
	__u64 first_ns;      /* boot clock */
	__u64 last_ns;
	__u32 loginuid;
	__u32 uid;
	__u64 start_ns;      /* the task's start time, to tell a reused pid apart */
	char comm[XM_COMM_LEN];
};
_Static_assert(sizeof(struct xm_flow_val) == 64, "xm_flow_val layout changed");

/* Map: totals (hash). Per session, login user and flow kind: what a session moved when
 * it could not have a flow of its own (quota used up, flow map full), still attributed. */
struct xm_total_key {
	__u32 session;
	__u32 loginuid;
	__u32 kind;          /* xm_flow_kind */
	__u32 _pad;
};
_Static_assert(sizeof(struct xm_total_key) == 16, "xm_total_key layout changed");

struct xm_total_val {
	__u64 bytes;
	__u64 ops;
};
_Static_assert(sizeof(struct xm_total_val) == 16, "xm_total_val layout changed");

/* Which map an xm_fill_key counts entries of. */
enum xm_fill_map {
	XM_FILL_FLOWS = 1,
	XM_FILL_WATCH = 2,       /* sources found at open time */
	XM_FILL_SINKS = 3,       /* sink files found at open time */
	XM_FILL_TOTALS = 4,
};

/* Map: fills (hash). Entries each session's activity created in a map, and creations
 * refused (map full or quota), so userspace can name the session that fills a map. */
struct xm_fill_key {
	__u32 session;
	__u32 loginuid;
	__u32 map;           /* xm_fill_map */
	__u32 _pad;
};
_Static_assert(sizeof(struct xm_fill_key) == 16, "xm_fill_key layout changed");

struct xm_fill_val {
	__u64 created;
	__u64 refused;
};
_Static_assert(sizeof(struct xm_fill_val) == 16, "xm_fill_val layout changed");

/* Map: staged (LRU hash) keyed by xm_watch_key: ordinary files a collector wrote, so a
 * rename or hard link of one into a sync folder (no byte written there) still counts. */
struct xm_staged {
	__u64 bytes;         /* staged into this inode so far */
	__u32 pid;           /* the collector that wrote them */
	__u32 session;
};
_Static_assert(sizeof(struct xm_staged) == 16, "xm_staged layout changed");

/* Map: gaps (hash). Ring records lost, per session and record type. */
struct xm_gap_key {
	__u32 session;
	__u32 type;          /* xm_rec_type that was lost */
};
_Static_assert(sizeof(struct xm_gap_key) == 8, "xm_gap_key layout changed");

struct xm_gap_val {
	__u64 count;
	__u64 first_ns;
	__u64 last_ns;
};
_Static_assert(sizeof(struct xm_gap_val) == 24, "xm_gap_val layout changed");

/* Maps: services, allow (LPM tries). Peer address in the mapped 128-bit form. */
struct xm_net_key {
	__u32 prefixlen;     /* services: 16 (port) + address bits; allow: address bits */
	__u8 data[18];       /* services: port (big endian) then address; allow: address */
	__u16 _pad;
};
_Static_assert(sizeof(struct xm_net_key) == 24, "xm_net_key layout changed");

struct xm_net_val {
	__u32 id;            /* index of the configured rule */
	__u32 _pad;
};
_Static_assert(sizeof(struct xm_net_val) == 8, "xm_net_val layout changed");

/* Map: socks (LRU hash), keyed by struct sock address; classification of the peer. */
struct xm_sock_val {
	__u8 raddr[16];
	__u16 rport;
	__u16 cls;           /* xm_sock_class */
	__u32 gen;           /* net_gen (low half) the class was computed under */
};
_Static_assert(sizeof(struct xm_sock_val) == 24, "xm_sock_val layout changed");

/* Map: sinkdevs (hash) keyed by __u32 dev: filesystems whose writes are egress. */
struct xm_sinkdev_val {
	__u32 flags;         /* XM_W_SINK | XM_W_MEDIA */
	__u32 _pad;
};
_Static_assert(sizeof(struct xm_sinkdev_val) == 8, "xm_sinkdev_val layout changed");

/*
 * Lineage (bpf/lineage.bpf.h). A label says "this holds customer data": how many source
 * bytes (credit) and from which login sessions (a bounded set of origins). Processes carry
 * one (map labels, keyed by tgid), so do files, pipes and FIFOs (map ilabels, keyed by
 * (dev, ino) as the watch map) and sockets in flight (ilabels with the pseudo devices
 * below: the receiving struct sock for unix sockets, a hash of the 4-tuple for loopback).
 */
#define XM_LABEL_ORIGINS 4
#define XM_LDEV_UNIX 0xffffffffu    /* ilabels key dev: ino is the receiving struct sock */
#define XM_LDEV_INET 0xfffffffeu    /* ilabels key dev: ino hashes the loopback 4-tuple */

enum xm_label_flag {
	XM_L_UNKNOWN = 1 << 0,   /* an origin was lost (map full, more origins than kept) */
	XM_L_FORKED = 1 << 1,    /* carried across fork from the parent */
	XM_L_SESSION = 1 << 2,   /* a session's fallback label (lsess), never renewed */
};

/* What a lineage record reports (xm_lineage.step). */
enum xm_lineage_step {
	XM_LS_WRITE = 1,         /* a labelled process wrote to the object: the object is derived */
	XM_LS_READ = 2,          /* a process read a derived object and took its label */
	XM_LS_SEND = 3,          /* a labelled process sent to an egress peer */
};

/* What kind of object (xm_lineage.obj). */
enum xm_lineage_obj {
	XM_LO_FILE = 1,
	XM_LO_PIPE = 2,          /* pipe or FIFO */
	XM_LO_UNIX = 3,
	XM_LO_INET = 4,          /* loopback TCP/UDP to an allowlisted local peer */
	XM_LO_PEER = 5,          /* an egress peer (XM_LS_SEND) */
};

struct xm_origin {
	__u32 session;
	__u32 loginuid;
};

/*
 * Label counts (bpf/lineage.bpf.h): arrays lcount_proc and lcount_obj count the labels
 * of labels and ilabels under each slot of their key, so a process or object whose slot
 * counts none is known unlabelled without a hash lookup. The slot functions are the
 * contract: the programs count with them and the agent recounts and adjusts with them.
 */
#define XM_LSLOTS_PROC 65536
#define XM_LSLOTS_OBJ_BITS 18
#define XM_LSLOTS_OBJ (1U << XM_LSLOTS_OBJ_BITS)

static inline __u32 xm_lslot_proc(__u32 tgid)
{
	return tgid & (XM_LSLOTS_PROC - 1);
}

/* Multiplicative (Fibonacci) hashing: inode numbers and struct sock addresses differ in
 * their low bits, which the multiplication carries into the top bits taken. */
static inline __u32 xm_lslot_obj(const struct xm_watch_key *k)
{
	__u64 h = (k->ino ^ ((__u64)k->dev << 40)) * 0x9e3779b97f4a7c15ULL;

	return (__u32)(h >> (64 - XM_LSLOTS_OBJ_BITS));
}

/* Maps: labels (hash, tgid -> label), ilabels (hash, xm_watch_key -> label). */
struct xm_label {
	__u64 credit;        /* source bytes carried; for a stream object, bytes not yet read */
	__u64 passed;        /* bytes handed on into streams, at most credit (processes) */
	__u64 egressed;      /* egress already counted as derived, at most credit (processes) */
	__u64 last_ns;       /* boot clock of the last labelling step */
	struct xm_origin origins[XM_LABEL_ORIGINS];
	__u32 n_origins;
	__u32 flags;         /* xm_label_flag */
	__u32 gen;           /* files: the inode's i_generation, so a reused inode is not derived */
	__u32 epoch;         /* processes: times the label started afresh (label_renew) */
};
_Static_assert(sizeof(struct xm_label) == 80, "xm_label layout changed");

/* Map: lseen (LRU), when each (process, object, step) was last reported. */
struct xm_lseen_key {
	__u64 ino;
	__u32 dev;
	__u32 pid;
	__u32 step;
	__u32 epoch;         /* the process label's: a renewed label reports afresh */
};
_Static_assert(sizeof(struct xm_lseen_key) == 24, "xm_lseen_key layout changed");

/*
 * A label moved. Sent the first time a (process, object, step) moves label bytes and
 * again each time its running total doubles, so an investigator sees every hand-off with
 * its size within a factor of two, and a busy pipe costs a few records, not one per write.
 */
struct xm_lineage {
	struct xm_hdr hdr;
	struct xm_task task;
	__u64 ino;           /* object: inode, struct sock, or 4-tuple hash */
	__u64 bytes;         /* label bytes this process moved on this object so far */
	__u64 credit;        /* the process's credit after the step */
	struct xm_origin origins[XM_LABEL_ORIGINS];
	__u8 addr[16];       /* XM_LO_PEER and XM_LO_INET: the peer */
	__u32 dev;
	__u32 n_origins;
	__u32 flags;         /* xm_label_flag of the process's label */
	__u16 step;          /* xm_lineage_step */
	__u16 obj;           /* xm_lineage_obj */
	__u16 port;          /* XM_LO_PEER and XM_LO_INET: the peer's port */
	__u16 path_len;      /* XM_LO_FILE: bytes of path (reversed, as xm_open) */
	__u32 epoch;         /* xm_label.epoch: a change means the label started afresh */
	char path[XM_PATH_LEN];
};
_Static_assert(sizeof(struct xm_lineage) == 16 + 64 + 24 + 32 + 16 + 24 + 256,
	       "xm_lineage layout changed");

/* What an evasion record reports (xm_evasion.what). */
enum xm_evasion_what {
	/* An overlay mounted from inside a user namespace (mount(2) of type overlay, or
	 * fsconfig's lowerdir/upperdir): reads through it reach the lower files by
	 * vfs_iter_read on another device, past every syscall hook. */
	XM_EV_USERNS_OVERLAY = 1,
	/* A USB device node (usbfs, /dev/bus/usb/BBB/DDD) opened in a session: adb, libusb
	 * and fastboot move data with USBDEVFS_* ioctls, which no sensor counts. detail is
	 * the node's name, made from its device number. */
	XM_EV_USBFS = 2,
	/* Before 5.19 no io_uring tracepoint names the file of a request through a
	 * registered (fixed) file, nor where a write or a send goes: a session's first such
	 * request is reported (detail: "fixed-file read", "write" or "send"). */
	XM_EV_URING_UNSEEN = 3,
};

/* usbfs device nodes: major 189, minor (bus - 1) * 128 + (device - 1). */
#define XM_USB_DEVICE_MAJOR 189

#define XM_EVASION_DETAIL 128

/* Evasions that the sensors cannot count through: each becomes a sensor_integrity alert
 * naming the session. detail is the text the syscall was given (mount options, a path),
 * detail_len bytes of it, no terminator relied on. */
struct xm_evasion {
	struct xm_hdr hdr;
	struct xm_task task;
	__u32 what;          /* xm_evasion_what */
	__u16 detail_len;
	__u16 _pad;
	char detail[XM_EVASION_DETAIL];
};
_Static_assert(sizeof(struct xm_evasion) == 16 + 64 + 8 + 128, "xm_evasion layout changed");

#endif
