/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * What the kernel side's files share: configuration, the run's totals, the
 * maps more than one file uses, per-task state and the global functions
 * one file offers the others. The files, by concern:
 *
 *   state.bpf.c     configuration, totals, the ring buffer, per-task state
 *   rss.bpf.c       RSS counters: the seed, each update claimed and filed
 *                   to the task that made it (a call or a cause), exec, exit
 *   syscalls.bpf.c  the memory syscalls: entry, exit, callers' stacks
 *   chunks.bpf.c    page faults, and faults/releases/refaults per 2 MiB chunk
 *
 * They are linked into one object (bpftool gen object) and one skeleton.
 */
#ifndef PAGELEDGER_BPF_H
#define PAGELEDGER_BPF_H

#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <bpf/bpf_core_read.h>
#include "events.h"
#include "kernel.h"

/* ---- configuration: set by user space between open and load ------------ */
extern const volatile __u32 targ_tgid;
extern const volatile __u32 nr_cpus;
extern const volatile __u32 page_shift; /* log2 of the page size */
extern const volatile __u64 wakeup_bytes;
extern const volatile bool capture_stacks;
/* The syscall numbers we trace, from user space's <asm/unistd.h>. */
extern const volatile long nr_mmap, nr_munmap, nr_madvise, nr_mremap, nr_brk;
extern const volatile long nr_process_madvise;
/* --until-rss-above/below, resident bytes (0: off); spawned: we started it. */
extern const volatile __s64 until_above, until_below;
extern const volatile bool spawned;

extern struct pl_totals totals;

/* ---- per-task state ------------------------------------------------------ */

/* A traced call between its entry and its exit. */
struct pl_call {
	__u64 ts;
	__u64 id; /* unique for the run: names the call when another update flags it */
	__u64 user_ip;
	__u64 ret_addr;
	__u64 stack_key;
	__u64 args[6];
	__s64 rss_delta[PL_RSS_NR]; /* the task's own updates of the target mm, so far */
	__u64 mm;		    /* the address space the call acts on */
	__u64 old_brk;
	__u64 iov_bytes;
	__u64 iov_addr;
	__u32 iov_read;
	__u32 sys;
	__u32 target_pid;
	__u32 flags;
};

#define PL_SIGSTOP 19 /* SIGSTOP on every Linux architecture we build for */

#define PL_FAULT_NONE 0
#define PL_FAULT_USER 1	  /* a user-mode fault: its regs are the task's user regs */
#define PL_FAULT_KERNEL 2 /* a kernel-mode fault on a user address, inside a syscall */

struct pl_task {
	struct pl_call call;
	__u32 in_call;
	__u32 fault_kind;
	__u64 fault_addr;
	/* The task's user regs at the fault: the fault is still being handled
	 * while they are the same (see in_fault in rss.bpf.c). */
	__u64 fault_ip, fault_sp;
	__u32 exit_seq[PL_RSS_NR]; /* the claim sequence when its last call left */
};

/* Per-task state, made at the task's first traced call or fault. */
struct pl_tasks_map {
	__uint(type, BPF_MAP_TYPE_TASK_STORAGE);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, int);
	__type(value, struct pl_task);
};
extern struct pl_tasks_map tasks SEC(".maps");

/* Records for user space; resized from --ringbuf-size. */
struct pl_events_map {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 4 << 20);
};
extern struct pl_events_map events SEC(".maps");

/*
 * Updates of the target's mm (and call emissions) begun and ended, per CPU:
 * a reading is settled when the sums are equal and did not move (see
 * pl_totals). Per CPU, so the fault path pays no shared atomic for it.
 */
struct pl_progress {
	__u64 begun, ended;
};
struct pl_progress_map {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct pl_progress);
};
extern struct pl_progress_map progress SEC(".maps");

/* ---- shared helpers --------------------------------------------------------- */

static __always_inline struct pl_progress *pl_begin_update(void)
{
	__u32 zero = 0;
	struct pl_progress *p = bpf_map_lookup_elem(&progress, &zero);

	if (p)
		p->begun++;
	return p;
}

static __always_inline void pl_end_update(struct pl_progress *p)
{
	if (p)
		p->ended++;
}

static __always_inline bool pl_is_target(void)
{
	return (bpf_get_current_pid_tgid() >> 32) == targ_tgid;
}

static __always_inline __u64 pl_page_size(void)
{
	return 1ull << (page_shift & 31);
}

static __always_inline void pl_fill_hdr(struct pl_event_hdr *h, __u32 type)
{
	__u64 id = bpf_get_current_pid_tgid();

	h->type = type;
	h->cpu = bpf_get_smp_processor_id();
	h->ts_ns = bpf_ktime_get_ns();
	h->pid = id >> 32;
	h->tid = (__u32)id;
}

/*
 * ---- global functions: verified once, called across files -----------------
 *
 * Plain globals, never __hidden: libbpf marks a hidden function static in
 * the BTF it loads, and the verifier then walks it again at every call, in
 * every caller's state (this cost 28,000 instructions and 0.1 s per load
 * for on_rss_stat alone). A global one is verified once per program,
 * against its prototype: a pointer argument is sized memory that may be
 * NULL (each one checks), a scalar is any value, and it returns a scalar.
 */

/* chunks.bpf.c: a fault changed RSS by `bytes` at addr (a page of the target). */
int pl_chunk_fault(__u64 addr, __s64 bytes);
/* chunks.bpf.c: after exec (current: the task), the old chunks go and the new VMAs start segments.
 */
int pl_chunk_exec(void);
/* chunks.bpf.c: after a successful call, mark released pages or forget unmapped ones. */
int pl_chunk_mark_after_call(struct pl_call *c, long ret);
/* rss.bpf.c: a call leaves; a fold found taken later can tell it may have been in it. */
int pl_note_call_exit(struct pl_task *t);

#endif
