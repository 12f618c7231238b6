/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * Records shared by the BPF programs and user space. Plain fixed-width
 * fields only, no vmlinux.h: both sides include this file, and user space
 * decodes records by their leading type tag.
 */
#ifndef PAGELEDGER_EVENTS_H
#define PAGELEDGER_EVENTS_H

#ifdef __BPF__
/* vmlinux.h already provides the __u* types on the BPF side. */
#else
#include <linux/types.h>
#endif

#define PL_COMM_LEN 16
/* Deepest user stack kept (the kernel's perf_event_max_stack default). */
#define PL_MAX_STACK 127
/* Upper bound for CPUs whose per-CPU RSS counters we sum in the kernel. */
#define PL_MAX_CPUS 1024

/* Every record starts with one of these tags. */
enum pl_event_type {
	PL_EV_SYSCALL = 1, /* a memory syscall, emitted at its exit */
	PL_EV_EXEC = 2,	   /* the target exec'd: a fresh mm, a fresh baseline */
	PL_EV_EXIT = 3,	   /* the target's last thread exited */
};

enum pl_syscall {
	PL_SYS_MMAP = 0,
	PL_SYS_MUNMAP,
	PL_SYS_MADVISE,
	PL_SYS_MREMAP,
	PL_SYS_BRK,
	PL_SYS_PROCESS_MADVISE,
	PL_SYS_NR,
};

/* Linux advice values both sides single out (uapi asm-generic/mman-common.h). */
#define PL_MADV_DONTNEED 4
#define PL_MADV_FREE 8
#define PL_MADV_REMOVE 9
#define PL_MADV_COLD 20
#define PL_MADV_PAGEOUT 21
#define PL_MADV_DONTNEED_LOCKED 24
#define PL_MADV_COLLAPSE 25

/* Indexes match the kernel's MM_* counters (enum in include/linux/mm_types_task.h). */
enum pl_rss_member {
	PL_RSS_FILE = 0,
	PL_RSS_ANON = 1,
	PL_RSS_SWAP = 2,
	PL_RSS_SHMEM = 3,
	PL_RSS_NR = 4,
};

/*
 * Why the target's RSS changed outside its own traced memory syscalls. Each
 * counter update is filed by the task that made it (rss_stat fires in that
 * task's context), so these follow from what the task was doing.
 */
enum pl_cause {
	PL_CAUSE_FAULT = 0,	   /* a page fault of the target's own (user or kernel mode) */
	PL_CAUSE_LAZYFREE_RECLAIM, /* reclaim dropped anon pages (lazily freed ones, without swap)
				    */
	PL_CAUSE_SWAP_OUT,	   /* reclaim wrote anon pages to swap */
	PL_CAUSE_RECLAIM,	   /* reclaim dropped file or shmem pages */
	PL_CAUSE_KHUGEPAGED,	   /* khugepaged collapsed ranges into huge pages */
	PL_CAUSE_EXEC,		   /* the old address space torn down at exec */
	PL_CAUSE_EXIT,		   /* exit teardown */
	PL_CAUSE_SYSCALL,	   /* the target's own syscalls that are not traced (mlock, ...) */
	PL_CAUSE_REMOTE,	   /* another process (process_vm_writev, ptrace, /proc/PID/mem) */
	PL_CAUSE_UNKNOWN,
	PL_CAUSE_NR,
};

/*
 * Per-CPU sums of RSS changes by cause, in bytes. User space reads and
 * diffs them on every poll: a fault storm becomes one record per poll.
 */
struct pl_cause_acc {
	__s64 delta[PL_CAUSE_NR][PL_RSS_NR];
	__u64 updates[PL_CAUSE_NR];
};

/*
 * Page faults are aggregated per 2 MiB-aligned chunk of the target's
 * address space, in the kernel: a fault storm updates a map, never the ring
 * buffer. User space folds chunks into mappings (user/ledger/ranges.c).
 *
 * A chunk is cut into segments at the pages where a mapping starts inside
 * it (`bounds`, a bit per page; page 0 always starts one), and faults are
 * summed per segment (struct pl_seg), so two mappings sharing a chunk keep
 * their own faults. Bits are set by the kernel side at the exit of mmap,
 * munmap, mremap and brk, and from the VMAs at attach and at exec; they are
 * never cleared while the chunk lives (a stale bit only splits finer).
 */
#define PL_CHUNK_SHIFT 21
#define PL_CHUNK_PAGES 512
#define PL_CHUNK_WORDS (PL_CHUNK_PAGES / 64)

struct pl_chunk {
	__u64 delay_min_ns; /* release to refault, over the chunk's refaults; 0: none yet */
	__u64 delay_max_ns;
	__u64 released_ns;		/* the last release that named this chunk */
	__u64 last_addr;		/* the last faulting address on the slow path */
	__u64 born_ns;			/* when this entry was made: a new one starts again at 0 */
	__s64 spilled;			/* fault bytes no segment entry had room for (counted) */
	__u64 released[PL_CHUNK_WORDS]; /* pages released, not faulted back since */
	__u64 bounds[PL_CHUNK_WORDS];	/* pages where a mapping starts: segment starts */
};

/* A segment's key in the segs map: its chunk and its first page. */
#define PL_SEG_KEY(idx, page) (((__u64)(idx) << 9) | ((page) & (PL_CHUNK_PAGES - 1)))

struct pl_seg {
	__s64 faulted;	 /* net bytes faults changed RSS by (a copy-on-write of a file page: 0) */
	__u64 refaulted; /* bytes faulted on pages released since */
	__u64 refaults;	 /* faults that were refaults */
	__u64 delay_sum_ns; /* release to refault, summed over refaults */
	__u64 born_ns;	    /* when this entry was made */
};

/*
 * The fault path's per-CPU cache: faults in the segment it last touched are
 * summed here and added to the segment when the CPU moves on, so a fault
 * storm costs one array lookup and a page-range check per fault, not a hash
 * lookup. Readers add `faulted` to segment (chunk - 1, lo) (chunk 0: empty).
 */
struct pl_fault_cache {
	__u64 chunk;   /* chunk index + 1 */
	__u64 gen;     /* chunk_gen when the segment was found, its chunk with no released page */
	__u32 lo, hi;  /* the segment's pages: [lo, hi) */
	__s64 faulted; /* bytes not yet added to the segment */
	/* The lowest and highest page faulted meanwhile: if a bound lands between them
	 * before the hand-over, the bytes are shared by the two segments, by pages. */
	__u32 pmin, pmax;
	/* When its first fault came: user space, behind on the records, tells the
	 * faults of a mapping made since a call from those of the one it replaced. */
	__u64 first_ns;
};

struct pl_event_hdr {
	__u32 type; /* enum pl_event_type */
	__u32 cpu;
	__u64 ts_ns; /* CLOCK_MONOTONIC */
	__u32 pid;   /* tgid of the task that raised the event */
	__u32 tid;
};

struct pl_syscall_event {
	struct pl_event_hdr hdr;
	__u32 sys;	  /* enum pl_syscall */
	__u32 target_pid; /* the process whose memory was affected */
	__u64 args[6];	  /* raw syscall arguments */
	__s64 ret;
	__s64 rss_delta[PL_RSS_NR]; /* bytes: the calling task's own changes to the target mm */
	__u64 duration_ns;
	__u64 old_brk;	 /* brk only: the break before the call */
	__u64 iov_bytes; /* process_madvise only: bytes named by the iovecs */
	__u64 iov_addr;	 /* process_madvise only: first iovec's base */
	__u32 iov_read;	 /* process_madvise only: iovecs actually read */
	__u32 flags;	 /* PL_SCF_* */
	__u64 stack_key; /* the user stack's key in the stacks map; 0: none */
	__u64 user_ip;	 /* where the syscall instruction is */
	__u64 ret_addr;	 /* word at the user stack pointer at entry: the return
			  * address a frameless stub (Go's runtime.madvise,
			  * glibc's madvise) leaves there, which the frame-pointer
			  * walk skips */
	char comm[PL_COMM_LEN];
};

/* pl_syscall_event.flags */
#define PL_SCF_RSS_UNKNOWN (1u << 0) /* target mm unknown at entry: no delta */
#define PL_SCF_IOV_PARTIAL (1u << 1) /* more iovecs than we read */
/*
 * A per-CPU counter fold of another CPU may be inside this call's figure, or
 * one of its own may have gone to another: the delta may be off (see
 * rss.bpf.c, claim_update). Counted in pl_totals.rss_inexact_calls.
 */
#define PL_SCF_RSS_INEXACT (1u << 2)

struct pl_exec_event {
	struct pl_event_hdr hdr;
	__s64 rss[PL_RSS_NR];	  /* bytes, fresh mm right after exec */
	__s64 old_rss[PL_RSS_NR]; /* bytes the old mm's ledger held when it was let go */
	char comm[PL_COMM_LEN];
};

struct pl_exit_event {
	struct pl_event_hdr hdr;
	__s32 exit_code; /* raw wait status, as task->exit_code */
	__u32 pad;
	__s64 rss[PL_RSS_NR]; /* bytes, just before exit teardown */
};

/*
 * Counters the BPF side keeps for the whole run, read by user space through
 * the skeleton's .bss. The ledger closes by construction, per member:
 *
 *   rss_start + exec_adjust + (call deltas emitted) + lost_delta
 *     + inflight_delta + (cause totals) == rss_cur
 *
 * and rss_cur equals the kernel's own counters whenever no update is in
 * flight (rss_begin == rss_end across a reading: "settled").
 */
struct pl_totals {
	__u64 target_mm;		  /* kernel address, used only for equality */
	__s64 rss_start[PL_RSS_NR];	  /* bytes at attach */
	__s64 rss_cur[PL_RSS_NR];	  /* bytes: start plus every update claimed since */
	__s64 rss_peak[PL_RSS_NR];	  /* bytes, highest running figure per member */
	__s64 rss_peak_total;		  /* highest anon+file+shmem figure */
	__s64 rss_trough_total;		  /* lowest anon+file+shmem figure (before exit) */
	__s64 exec_adjust[PL_RSS_NR];	  /* each exec: new baseline minus the old mm's figure */
	__s64 inflight_delta[PL_RSS_NR];  /* filed to calls not yet emitted */
	__s64 lost_delta[PL_RSS_NR];	  /* filed to calls whose records were lost */
	__u64 rss_begin, rss_end;	  /* updates of the target mm begun and ended: filled by the
					   * loader from the per-CPU progress map (pl_tracer_totals) */
	__u64 rss_inexact_events;	  /* updates whose amount may be another CPU's */
	__u64 rss_inexact_calls;	  /* emitted calls carrying PL_SCF_RSS_INEXACT */
	__u64 robbed_folds;		  /* folds found claimed by another update */
	__u64 rss_inexact_late;		  /* calls such a fold may be in, already emitted */
	__u64 rss_updates_other;	  /* updates made by tasks of other processes */
	__s64 rss_other_delta[PL_RSS_NR]; /* their net change */
	__s64 rss_exit_delta[PL_RSS_NR];  /* change made by exit teardown */
	__u64 until_met;		  /* --until-rss-*: 1 once a reading met it */
	__u64 until_met_ns;
	__s64 until_met_resident; /* the reading that met it, bytes */
	__u64 until_armed;	  /* --until-rss-below on a started command: been above */
	__u64 execs;		  /* exec's of the target since attach */
	__u64 tearing_down;	  /* an address space of the target is being torn down */
	__u64 lost_events;	  /* ring buffer reserve failures */
	__u64 inflight_drops;	  /* syscall entries we could not track */
	__u64 stacks_dropped;	  /* user stacks the stacks map had no room for */
	__u64 stacks_captured;	  /* user stacks taken (0 with --no-stacks) */
	__u64 chunks_dropped;	  /* faults, releases or bounds the chunk maps had no room for */
	__u64 marks_truncated;	  /* releases too large to mark page by page */
	__u64 seeded;		  /* 1 once the attach-time reading is taken */
	__u64 exited;		  /* 1 once the target's last thread exited */
};

#endif /* PAGELEDGER_EVENTS_H */
