// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * The memory syscalls: mmap, munmap, madvise, mremap and brk of the
 * target's own threads, and process_madvise by anyone on the target. One
 * program at syscall entry and one at exit, each attached by user space to
 * the six syscalls' tracepoints: two programs to verify instead of twelve,
 * and no BPF at all runs for any other syscall. (A tp_btf on sys_enter and
 * sys_exit would run for every syscall on the machine: measured here, it
 * costs every untraced process about 170 ns per syscall, where the syscall
 * tracepoints' own filter costs 45-80. The price of this choice is paid at
 * the end: each tracepoint's last perf link waits for two RCU grace
 * periods under the kernel's event_mutex, 25-40 ms each, one after
 * another.) The program reads only the record's syscall number, the one
 * field every syscall's record has, and takes the arguments from the
 * task's registers.
 *
 * Between entry and exit the call lives in the task's storage; rss.bpf.c
 * adds to it every counter update this task makes, so the call's figure is
 * its own whatever the process's other threads do meanwhile.
 */
#include "pageledger.bpf.h"

#define MAX_IOVECS 1024

struct user_stack {
	__u64 ips[PL_MAX_STACK];
};

/*
 * User stacks, deduplicated in the kernel by a 64-bit hash of their frames:
 * a storm of identical calls is one entry. Not a STACK_TRACE map: that one
 * hashes into as many buckets as entries and refuses (or overwrites) a
 * stack whose bucket is taken, which misnames callers at a few hundred
 * distinct stacks. Allocated on demand, so memory follows distinct stacks.
 */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 16384);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, __u64);
	__type(value, struct user_stack);
} stacks SEC(".maps");

/* Scratch for one stack: too big for the BPF stack. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct user_stack);
} stack_scratch SEC(".maps");

static __u64 next_call_id;

/* Which of ours a syscall number is, or -1. */
static __always_inline int traced_sys(long id)
{
	if (id == nr_mmap)
		return PL_SYS_MMAP;
	if (id == nr_munmap)
		return PL_SYS_MUNMAP;
	if (id == nr_madvise)
		return PL_SYS_MADVISE;
	if (id == nr_mremap)
		return PL_SYS_MREMAP;
	if (id == nr_brk)
		return PL_SYS_BRK;
	if (id == nr_process_madvise)
		return PL_SYS_PROCESS_MADVISE;
	return -1;
}

/* ---- who asked ------------------------------------------------------------------ */

/* FNV-1a over the frames, never 0 (0 means "no stack"). Global: verified once. */
__u64 pl_hash_stack(const struct user_stack *st, __u32 n)
{
	__u64 h = 0xcbf29ce484222325ull;

	if (!st)
		return 1;
	for (__u32 i = 0; i < n && i < PL_MAX_STACK; i++) {
		h ^= st->ips[i];
		h *= 0x100000001b3ull;
	}
	return h ? h : 1;
}

static __always_inline __u64 store_user_stack(void *ctx)
{
	__u32 zero = 0;
	struct user_stack *st = bpf_map_lookup_elem(&stack_scratch, &zero);
	long bytes;
	__u64 key;

	if (!st)
		return 0;
	/* The reader stops at the first zero: clear what this stack will not fill. */
	__builtin_memset(st->ips, 0, sizeof(st->ips));
	bytes = bpf_get_stack(ctx, st->ips, sizeof(st->ips), BPF_F_USER_STACK);
	if (bytes <= 0)
		return 0;
	key = pl_hash_stack(st, (__u32)bytes / sizeof(__u64));
	if (!bpf_map_lookup_elem(&stacks, &key) &&
	    bpf_map_update_elem(&stacks, &key, st, BPF_NOEXIST) &&
	    !bpf_map_lookup_elem(&stacks, &key)) {
		__sync_fetch_and_add(&totals.stacks_dropped, 1);
		return 0;
	}
	__sync_fetch_and_add(&totals.stacks_captured, 1);
	return key;
}

/*
 * The frame-pointer walk of the user stack, plus the word at the user stack
 * pointer. Syscall stubs like Go's runtime.madvise and glibc's madvise()
 * set up no frame, so the walk goes from the stub straight to its caller's
 * caller; the word at SP is the return address into the caller.
 */
static __always_inline void capture_caller(void *ctx, struct pt_regs *regs, struct pl_call *c)
{
	if (!capture_stacks)
		return;
	c->stack_key = store_user_stack(ctx);
	c->user_ip = PT_REGS_IP(regs);
	bpf_probe_read_user(&c->ret_addr, sizeof(c->ret_addr), (void *)PT_REGS_SP(regs));
}

/* ---- entry ---------------------------------------------------------------------- */

static __always_inline void copy_args(__u64 *dst, struct pt_regs *regs)
{
	dst[0] = PT_REGS_PARM1_CORE_SYSCALL(regs);
	dst[1] = PT_REGS_PARM2_CORE_SYSCALL(regs);
	dst[2] = PT_REGS_PARM3_CORE_SYSCALL(regs);
	dst[3] = PT_REGS_PARM4_CORE_SYSCALL(regs);
	dst[4] = PT_REGS_PARM5_CORE_SYSCALL(regs);
	dst[5] = PL_SYSCALL_ARG6(regs);
}

/*
 * A call whose exit we never saw (the task was killed inside it): what it
 * had gathered is reported as lost, never silently dropped.
 */
static __always_inline void drop_stale_call(struct pl_task *t)
{
	if (!t->in_call)
		return;
	for (int m = 0; m < PL_RSS_NR; m++) {
		__sync_fetch_and_add(&totals.inflight_delta[m], -t->call.rss_delta[m]);
		__sync_fetch_and_add(&totals.lost_delta[m], t->call.rss_delta[m]);
	}
	__sync_fetch_and_add(&totals.inflight_drops, 1);
	t->in_call = 0;
}

/* The task's call record, fresh. NULL (counted) if the task has no storage. */
static __always_inline struct pl_task *begin_call(__u32 sys, __u64 mm, __u32 target_pid)
{
	struct pl_task *t = bpf_task_storage_get(&tasks, bpf_get_current_task_btf(), NULL,
						 BPF_LOCAL_STORAGE_GET_F_CREATE);

	if (!t) {
		__sync_fetch_and_add(&totals.inflight_drops, 1);
		return NULL;
	}
	drop_stale_call(t);
	__builtin_memset(&t->call, 0, sizeof(t->call));
	t->call.ts = bpf_ktime_get_ns();
	t->call.id = __sync_fetch_and_add(&next_call_id, 1) + 1;
	t->call.sys = sys;
	t->call.mm = mm;
	t->call.target_pid = target_pid;
	if (!totals.seeded)
		t->call.flags |= PL_SCF_RSS_UNKNOWN;
	return t;
}

static __always_inline int enter_own(void *ctx, struct pt_regs *regs, __u32 sys)
{
	struct task_struct *task = bpf_get_current_task_btf();
	struct pl_task *t = begin_call(sys, (__u64)task->mm, targ_tgid);

	if (!t)
		return 0;
	copy_args(t->call.args, regs);
	if (sys == PL_SYS_BRK)
		t->call.old_brk = task->mm->brk;
	capture_caller(ctx, regs, &t->call);
	t->in_call = 1;
	return 0;
}

/* The tgid a pidfd in the caller's fd table refers to, or 0. */
static __always_inline __u32 pidfd_tgid(int fd)
{
	struct task_struct *task = (struct task_struct *)bpf_get_current_task();
	struct fdtable *fdt = BPF_CORE_READ(task, files, fdt);
	struct file **fds = BPF_CORE_READ(fdt, fd);
	unsigned int max = BPF_CORE_READ(fdt, max_fds);
	struct file *f = NULL;
	struct inode *inode;
	struct pid *pid;
	unsigned long magic;

	if (fd < 0 || (unsigned int)fd >= max)
		return 0;
	bpf_probe_read_kernel(&f, sizeof(f), &fds[fd]);
	if (!f)
		return 0;
	inode = BPF_CORE_READ(f, f_inode);
	magic = BPF_CORE_READ(inode, i_sb, s_magic);
	if (magic == PL_PIDFS_MAGIC) /* 6.9+: the pid hangs off the pidfs inode */
		pid = BPF_CORE_READ(inode, i_private);
	else if (magic == PL_ANON_INODE_FS_MAGIC) /* older: anon inode file */
		pid = BPF_CORE_READ(f, private_data);
	else
		return 0;
	if (!pid)
		return 0;
	return BPF_CORE_READ(pid, numbers[0].nr);
}

struct iov_ctx {
	const struct iovec *vec;
	__u64 bytes;
	__u64 first;
};

static long add_iovec(__u32 i, struct iov_ctx *c)
{
	struct iovec iov = {};

	if (bpf_probe_read_user(&iov, sizeof(iov), &c->vec[i]))
		return 1;
	if (i == 0)
		c->first = (__u64)iov.iov_base;
	c->bytes += iov.iov_len;
	return 0;
}

/* process_madvise(pidfd, iovec, vlen, advice, flags) naming the target, from anyone. */
static __always_inline int enter_process_madvise(void *ctx, struct pt_regs *regs)
{
	__u64 args[6];
	struct iov_ctx iov = {};
	struct pl_task *t;
	__u32 n;

	copy_args(args, regs);
	if (pidfd_tgid((int)args[0]) != targ_tgid)
		return 0;
	t = begin_call(PL_SYS_PROCESS_MADVISE, totals.target_mm, targ_tgid);
	if (!t)
		return 0;
	for (int i = 0; i < 6; i++)
		t->call.args[i] = args[i];
	n = args[2] > MAX_IOVECS ? MAX_IOVECS : (__u32)args[2];
	iov.vec = (const struct iovec *)args[1];
	t->call.iov_read = bpf_loop(n, add_iovec, &iov, 0);
	t->call.iov_bytes = iov.bytes;
	t->call.iov_addr = iov.first;
	if (t->call.iov_read < args[2])
		t->call.flags |= PL_SCF_IOV_PARTIAL;
	capture_caller(ctx, regs, &t->call);
	t->in_call = 1;
	return 0;
}

/* Attached to each syscall's tracepoint by the loader (see the top of this file). */
SEC("tp/syscalls/sys_enter_mmap")
int on_sys_enter(struct trace_event_raw_sys_enter *ctx)
{
	struct pt_regs *regs = (struct pt_regs *)bpf_task_pt_regs(bpf_get_current_task_btf());
	long id = ctx->id;
	int sys;

	/* By anyone, the target included: one call site, so the verifier walks it once. */
	if (id == nr_process_madvise)
		return enter_process_madvise(ctx, regs);
	if (!pl_is_target())
		return 0;
	sys = traced_sys(id);
	if (sys < 0)
		return 0;
	return enter_own(ctx, regs, (__u32)sys);
}

/* ---- exit ------------------------------------------------------------------------ */

/*
 * A wakeup per event costs the traced thread microseconds (irq_work, then a
 * context switch to us): batch them. The reader wakes on its poll timeout
 * anyway, so a quiet stream is at most one poll interval late.
 */
static __always_inline void submit_batched(void *e, bool urgent)
{
	__u64 queued = bpf_ringbuf_query(&events, BPF_RB_AVAIL_DATA);

	bpf_ringbuf_submit(e, urgent || queued >= wakeup_bytes ? BPF_RB_FORCE_WAKEUP
							       : BPF_RB_NO_WAKEUP);
}

/*
 * A new executable file mapping: the reader should look at the process's
 * maps now, while it lives, or a short-lived process's library addresses
 * cannot be symbolized later. Rare (a few per library load).
 */
static __always_inline bool maps_code(const struct pl_call *c, long ret)
{
	return c->sys == PL_SYS_MMAP && (c->args[2] & PL_PROT_EXEC) &&
	       !(c->args[3] & PL_MAP_ANONYMOUS) && (ret < 0 ? ret < -PL_MAX_ERRNO : true);
}

static __always_inline void fill_call_event(struct pl_syscall_event *e, const struct pl_call *c,
					    long ret)
{
	pl_fill_hdr(&e->hdr, PL_EV_SYSCALL);
	e->sys = c->sys;
	e->target_pid = c->target_pid;
	for (int i = 0; i < 6; i++)
		e->args[i] = c->args[i];
	e->ret = ret;
	for (int m = 0; m < PL_RSS_NR; m++)
		e->rss_delta[m] = c->rss_delta[m];
	e->duration_ns = e->hdr.ts_ns - c->ts;
	e->old_brk = c->old_brk;
	e->iov_bytes = c->iov_bytes;
	e->iov_addr = c->iov_addr;
	e->iov_read = c->iov_read;
	e->flags = c->flags;
	e->stack_key = c->stack_key;
	e->user_ip = c->user_ip;
	e->ret_addr = c->ret_addr;
	bpf_get_current_comm(e->comm, sizeof(e->comm));
}

/*
 * The call's figure moves from "in flight" to "emitted" (or "lost"), inside
 * the same begin/end bracket as the updates, so a settled reading never
 * sees it in neither place. Global: verified once.
 */
int pl_emit_call(struct pl_task *t, long ret)
{
	struct pl_progress *progress;
	struct pl_syscall_event *e;
	struct pl_call *c;

	if (!t)
		return 0;
	c = &t->call;
	progress = pl_begin_update();
	pl_note_call_exit(t);
	if (c->flags & PL_SCF_RSS_INEXACT)
		__sync_fetch_and_add(&totals.rss_inexact_calls, 1);
	pl_chunk_mark_after_call(c, ret);
	for (int m = 0; m < PL_RSS_NR; m++)
		__sync_fetch_and_add(&totals.inflight_delta[m], -c->rss_delta[m]);
	e = bpf_ringbuf_reserve(&events, sizeof(*e), 0);
	if (e) {
		fill_call_event(e, c, ret);
		submit_batched(e, maps_code(c, ret));
	} else {
		__sync_fetch_and_add(&totals.lost_events, 1);
		for (int m = 0; m < PL_RSS_NR; m++)
			__sync_fetch_and_add(&totals.lost_delta[m], c->rss_delta[m]);
	}
	t->in_call = 0;
	pl_end_update(progress);
	return 0;
}

SEC("tp/syscalls/sys_exit_mmap")
int on_sys_exit(struct trace_event_raw_sys_exit *ctx)
{
	long id = ctx->id, ret = ctx->ret;
	struct pl_task *t;

	if (!pl_is_target() ? id != nr_process_madvise : traced_sys(id) < 0)
		return 0;
	t = bpf_task_storage_get(&tasks, bpf_get_current_task_btf(), NULL, 0);
	if (!t || !t->in_call)
		return 0;
	return pl_emit_call(t, ret);
}
