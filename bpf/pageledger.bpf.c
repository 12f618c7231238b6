// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * pageledger kernel side: memory syscalls of one process, the exact RSS
 * change each one caused, page-fault counts and the process's RSS story.
 *
 * RSS source: tp_btf/rss_stat, not the classic kmem:rss_stat tracepoint.
 * The classic one computes percpu_counter_sum_positive() for *every* mm in
 * the system on every counter update while it is enabled, so tracing one
 * process would tax every fault on the machine (O(nr_cpus) under a lock).
 * tp_btf hands us (mm, member) with no work done: we compare the mm pointer
 * first, and only for the target do we sum the per-CPU counters ourselves.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <bpf/bpf_core_read.h>
#include "events.h"

char LICENSE[] SEC("license") = "Dual BSD/GPL";

#define EINVAL_RET 22
#define MAX_IOVECS 1024
#define PIDFS_MAGIC 0x50494446
#define ANON_INODE_FS_MAGIC 0x09041934

/* Set by user space between open and load. */
const volatile __u32 targ_tgid = 0;
const volatile __u32 nr_cpus = 1;
/* Wake the reader only past this much queued data; it also polls on a timer. */
const volatile __u64 wakeup_bytes = 0;
/* Capture user stacks for syscall events (off with --no-stacks). */
const volatile bool capture_stacks = true;

/* Shared with user space through the skeleton's .bss. */
struct pl_totals totals = {};
/* __per_cpu_offset[cpu], learned once at seed time (see learn_percpu_offsets). */
__u64 pcpu_off[PL_MAX_CPUS] = {};

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 4 << 20); /* resized from --ringbuf-size */
} events SEC(".maps");

/* Page faults are counted here, never streamed: one slot per CPU, no atomics. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u64);
} fault_count SEC(".maps");

/* RSS changes outside the target's syscalls, by cause (see pl_cause_acc). */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct pl_cause_acc);
} cause_acc SEC(".maps");

/*
 * What the target's thread on this CPU last did: (kind << 32) | tid. Set by
 * its syscall entries and exits and by its page faults, read by rss_stat to
 * tell a fault's RSS change from a syscall's.
 */
#define CTX_SYSCALL 1ull
#define CTX_FAULT 2ull
struct cpu_ctx {
	__u64 kind_tid;
	__u64 fault_addr; /* CTX_FAULT: the address that faulted */
};
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct cpu_ctx);
} cpu_ctx SEC(".maps");

/*
 * Faults and releases per 2 MiB chunk (struct pl_chunk), keyed by
 * address >> PL_CHUNK_SHIFT. Entries are made on demand, so memory follows
 * the address space the target touches; user space drops the entries of
 * what is no longer mapped, and a full map is counted (chunks_dropped).
 */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 65536);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, __u64);
	__type(value, struct pl_chunk);
} chunks SEC(".maps");

static const struct pl_chunk zero_chunk;

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct pl_fault_cache);
} fault_cache SEC(".maps");

/* Bumped by every release mark: a cached chunk may have released pages now. */
__u64 release_gen = 0;

/* A per-CPU slot whose kernel layout we use to learn per-CPU offsets. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u64);
} pcpu_probe SEC(".maps");

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

struct inflight {
	__u64 ts;
	__u64 user_ip;
	__u64 ret_addr;
	__u64 stack_key;
	__u64 args[6];
	__s64 rss[PL_RSS_NR];
	__u64 mm;
	__u64 old_brk;
	__u64 iov_bytes;
	__u64 iov_addr;
	__u32 iov_read;
	__u32 sys;
	__u32 target_pid;
	__u32 flags;
};

/* Syscalls between entry and exit, by tid. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 16384);
	__type(key, __u32);
	__type(value, struct inflight);
} inflight SEC(".maps");

/* ---- exact RSS readings ------------------------------------------------ */

/*
 * Reads go through bpf_rdonly_cast(): the verifier turns them into plain
 * loads with an exception-table fixup, a few ns each, where
 * bpf_probe_read_kernel() costs a helper call. This is the fault path.
 */
extern void *bpf_rdonly_cast(const void *obj__ign, __u32 btf_id__k) __ksym;

static __always_inline struct mm_struct *as_mm(__u64 addr)
{
	return bpf_rdonly_cast((void *)addr, bpf_core_type_id_kernel(struct mm_struct));
}

/* One CPU's s32 slot of a percpu_counter. sched_param is { int }: any such type will do. */
static __always_inline __s32 percpu_slot(__u64 counters, __u32 cpu)
{
	struct sched_param *slot;

	slot = bpf_rdonly_cast((void *)(counters + pcpu_off[cpu & (PL_MAX_CPUS - 1)]),
			       bpf_core_type_id_kernel(struct sched_param));
	return slot->sched_priority;
}

static __always_inline struct percpu_counter *member_counter(struct mm_struct *mm, __u32 member)
{
	switch (member) { /* constant indexes: CO-RE relocates each */
	case 0:
		return &mm->rss_stat[0];
	case 1:
		return &mm->rss_stat[1];
	case 2:
		return &mm->rss_stat[2];
	default:
		return &mm->rss_stat[3];
	}
}

/*
 * percpu_counter_sum() without the lock: fbc->count plus every CPU's
 * delta. Exact whenever no other CPU is mid-update on the same counter.
 * nr_cpus is frozen read-only data, so the verifier knows the bound.
 */
static __always_inline __s64 read_member(struct mm_struct *mm, __u32 member)
{
	struct percpu_counter *fbc = member_counter(mm, member);
	__u64 counters = (__u64)fbc->counters;
	__s64 sum = fbc->count;

	for (__u32 cpu = 0; cpu < nr_cpus && cpu < PL_MAX_CPUS; cpu++)
		sum += percpu_slot(counters, cpu);
	return sum * 4096;
}

/*
 * The fault path cannot afford the full sum: reading every other CPU's slot
 * pulls cache lines that those CPUs keep writing (the per-CPU area packs
 * many counters together). Every change to the counter fires rss_stat, on
 * the CPU whose slot changed, so an event need only look at fbc->count and
 * its own CPU's slot and add what moved to a running total. Each reading is
 * absolute, so a change seen late (a task that migrated between the update
 * and the tracepoint) is picked up at that CPU's next event: no drift.
 */
struct rss_cache {
	__s64 count[PL_RSS_NR]; /* fbc->count at the last event */
	__s64 pages[PL_RSS_NR]; /* running sum: count + every cached slot */
};
struct slot_line {
	__s32 slot[PL_RSS_NR];
	__u8 pad[64 - 4 * PL_RSS_NR]; /* one cache line per CPU: no false sharing */
};
static struct rss_cache rss_cache;
static struct slot_line slot_cache[PL_MAX_CPUS];

static __always_inline void cache_baseline(__u64 mm_addr)
{
	struct mm_struct *mm = as_mm(mm_addr);

	for (__u32 m = 0; m < PL_RSS_NR; m++) {
		struct percpu_counter *fbc = member_counter(mm, m);
		__u64 counters = (__u64)fbc->counters;
		__s64 pages = fbc->count;

		rss_cache.count[m] = pages;
		for (__u32 cpu = 0; cpu < nr_cpus && cpu < PL_MAX_CPUS; cpu++) {
			__s32 v = percpu_slot(counters, cpu);

			slot_cache[cpu & (PL_MAX_CPUS - 1)].slot[m] = v;
			pages += v;
		}
		rss_cache.pages[m] = pages;
	}
}

/* Bytes of member m after the change that fired this event; *moved: the change. */
static __always_inline __s64 track_member(struct mm_struct *mm, __u32 m, __s64 *moved)
{
	struct percpu_counter *fbc = member_counter(mm, m);
	__u32 cpu = bpf_get_smp_processor_id() & (PL_MAX_CPUS - 1);
	__s64 count = fbc->count;
	__s32 slot = percpu_slot((__u64)fbc->counters, cpu);
	__s64 old_count, delta;

	m &= PL_RSS_NR - 1;
	old_count = __sync_lock_test_and_set(&rss_cache.count[m], count);
	delta = (count - old_count) + (slot - slot_cache[cpu].slot[m]);
	slot_cache[cpu].slot[m] = slot;
	*moved = delta * 4096;
	return (__sync_fetch_and_add(&rss_cache.pages[m], delta) + delta) * 4096;
}

static __always_inline void read_rss_all(__u64 mm_addr, __s64 *out)
{
	struct mm_struct *mm = as_mm(mm_addr);

	out[0] = read_member(mm, 0);
	out[1] = read_member(mm, 1);
	out[2] = read_member(mm, 2);
	out[3] = read_member(mm, 3);
}

/* bytes: member's value after this update; moved: what this update changed. */
static __always_inline void note_reading(__u32 member, __s64 bytes, __s64 moved, bool by_target)
{
	__s64 total;

	totals.rss_cur[member & 3] = bytes;
	if (bytes > totals.rss_peak[member & 3])
		totals.rss_peak[member & 3] = bytes;
	total = totals.rss_cur[PL_RSS_ANON] + totals.rss_cur[PL_RSS_FILE] +
		totals.rss_cur[PL_RSS_SHMEM];
	if (total > totals.rss_peak_total)
		totals.rss_peak_total = total;
	if (totals.exited) {
		__sync_fetch_and_add(&totals.rss_exit_delta[member & 3], moved);
	} else if (!by_target) {
		__sync_fetch_and_add(&totals.rss_updates_other, 1);
		__sync_fetch_and_add(&totals.rss_other_delta[member & 3], moved);
	}
}

/* Start a fresh baseline for mm: at attach, and after exec. */
static __always_inline void set_baseline(__u64 mm, __s64 *rss)
{
	totals.target_mm = mm;
	cache_baseline(mm);
	for (int m = 0; m < PL_RSS_NR; m++) {
		rss[m] = rss_cache.pages[m] * 4096;
		totals.rss_start[m] = rss[m];
		totals.rss_cur[m] = rss[m];
		totals.rss_peak[m] = rss[m];
	}
	totals.rss_peak_total = rss[PL_RSS_ANON] + rss[PL_RSS_FILE] + rss[PL_RSS_SHMEM];
}

/* ---- seeding: runs once, before the other programs attach ------------- */

/*
 * This kernel exports no data symbols (no KALLSYMS_ALL) and its BTF carries
 * no __percpu tags, so neither a __ksym nor bpf_per_cpu_ptr() can reach
 * mm->rss_stat[].counters. A per-CPU array map can: the kernel stores the
 * raw per-CPU pointer in bpf_array.pptrs[0], and bpf_map_lookup_percpu_elem()
 * returns that pointer plus __per_cpu_offset[cpu]. The difference is the
 * offset we need.
 */
static long learn_one_offset(__u32 cpu, __u64 *pptr0)
{
	__u32 zero = 0;
	void *slot = bpf_map_lookup_percpu_elem(&pcpu_probe, &zero, cpu);
	__u64 addr = 0;

	if (!slot)
		return 0;
	/* Launder the pointer into a plain number via the stack. */
	bpf_probe_read_kernel(&addr, sizeof(addr), &slot);
	pcpu_off[cpu & (PL_MAX_CPUS - 1)] = addr - *pptr0;
	return 0;
}

static __always_inline int learn_percpu_offsets(void)
{
	void *map = &pcpu_probe;
	__u64 map_addr = 0, pptr0 = 0;

	bpf_probe_read_kernel(&map_addr, sizeof(map_addr), &map);
	bpf_probe_read_kernel(&pptr0, sizeof(pptr0),
			      (void *)(map_addr + bpf_core_field_offset(struct bpf_array, pptrs)));
	if (!pptr0)
		return -1;
	bpf_loop(nr_cpus, learn_one_offset, &pptr0, 0);
	return 0;
}

SEC("iter/task")
int seed(struct bpf_iter__task *ctx)
{
	struct task_struct *task = ctx->task;
	__s64 rss[PL_RSS_NR];
	__u64 mm;

	/* Any live thread will do: the group leader may have exited first. */
	if (!task || task->tgid != targ_tgid || totals.seeded)
		return 0;
	if (learn_percpu_offsets() < 0)
		return 0;
	mm = (__u64)BPF_CORE_READ(task, mm);
	if (!mm)
		return 0;
	set_baseline(mm, rss);
	totals.seeded = 1;
	return 0;
}

/* ---- syscalls ----------------------------------------------------------- */

static __always_inline bool is_target(void)
{
	return (bpf_get_current_pid_tgid() >> 32) == targ_tgid;
}

static __always_inline __u64 current_mm(void)
{
	struct task_struct *task = (struct task_struct *)bpf_get_current_task();

	return (__u64)BPF_CORE_READ(task, mm);
}

/* FNV-1a over the frames, never 0 (0 means "no stack"). */
static __always_inline __u64 hash_stack(const struct user_stack *st, __u32 n)
{
	__u64 h = 0xcbf29ce484222325ull;

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
	__u32 n;
	__u64 key;

	if (!st)
		return 0;
	/* The reader stops at the first zero: clear what this stack will not fill. */
	__builtin_memset(st->ips, 0, sizeof(st->ips));
	bytes = bpf_get_stack(ctx, st->ips, sizeof(st->ips), BPF_F_USER_STACK);
	if (bytes <= 0)
		return 0;
	n = (__u32)bytes / sizeof(__u64);
	key = hash_stack(st, n);
	if (!bpf_map_lookup_elem(&stacks, &key) &&
	    bpf_map_update_elem(&stacks, &key, st, BPF_NOEXIST) &&
	    !bpf_map_lookup_elem(&stacks, &key)) {
		__sync_fetch_and_add(&totals.stacks_dropped, 1);
		return 0;
	}
	return key;
}

/*
 * Who asked: the frame-pointer walk of the user stack, plus the word at the
 * user stack pointer. Syscall stubs like Go's runtime.madvise and glibc's
 * madvise() set up no frame, so the walk goes from the stub straight to its
 * caller's caller; the word at SP is the return address into the caller.
 */
static __always_inline void capture_caller(void *ctx, struct inflight *in)
{
	struct pt_regs *regs;

	if (!capture_stacks)
		return;
	in->stack_key = store_user_stack(ctx);
	regs = (struct pt_regs *)bpf_task_pt_regs(bpf_get_current_task_btf());
	in->user_ip = regs->ip;
	bpf_probe_read_user(&in->ret_addr, sizeof(in->ret_addr), (void *)regs->sp);
}

static __always_inline void set_cpu_ctx(__u64 kind);

static __always_inline void track_entry(struct inflight *in)
{
	__u32 tid = (__u32)bpf_get_current_pid_tgid();

	if (in->target_pid == (__u32)(bpf_get_current_pid_tgid() >> 32))
		set_cpu_ctx(CTX_SYSCALL);
	in->ts = bpf_ktime_get_ns();
	if (in->mm && totals.seeded)
		read_rss_all(in->mm, in->rss);
	else
		in->flags |= PL_SCF_RSS_UNKNOWN;
	if (bpf_map_update_elem(&inflight, &tid, in, BPF_ANY))
		__sync_fetch_and_add(&totals.inflight_drops, 1);
}

/*
 * Constant offsets only: the verifier rejects a ctx pointer moved by a loop.
 * And no read past the syscall's own arguments: a syscall tracepoint's
 * record is only as long as its arguments, and the kernel refuses to attach
 * a program whose reads go further (EACCES).
 */
static __always_inline void copy_args(__u64 *dst, struct trace_event_raw_sys_enter *ctx, int n)
{
	dst[0] = ctx->args[0];
	if (n > 1)
		dst[1] = ctx->args[1];
	if (n > 2)
		dst[2] = ctx->args[2];
	if (n > 3)
		dst[3] = ctx->args[3];
	if (n > 4)
		dst[4] = ctx->args[4];
	if (n > 5)
		dst[5] = ctx->args[5];
}

static __always_inline int enter_own(__u32 sys, int nargs, struct trace_event_raw_sys_enter *ctx)
{
	struct inflight in = {};

	if (!is_target())
		return 0;
	in.sys = sys;
	in.target_pid = targ_tgid;
	in.mm = current_mm();
	copy_args(in.args, ctx, nargs);
	capture_caller(ctx, &in);
	track_entry(&in);
	return 0;
}

static __always_inline void fill_hdr(struct pl_event_hdr *h, __u32 type)
{
	__u64 id = bpf_get_current_pid_tgid();

	h->type = type;
	h->cpu = bpf_get_smp_processor_id();
	h->ts_ns = bpf_ktime_get_ns();
	h->pid = id >> 32;
	h->tid = (__u32)id;
}

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

#define PL_PROT_EXEC 0x4
#define PL_MAP_ANONYMOUS 0x20

/*
 * A new executable file mapping: the reader should look at the process's
 * maps now, while it lives, or a short-lived process's library addresses
 * cannot be symbolized later. Rare (a few per library load).
 */
static __always_inline bool maps_code(const struct inflight *in, long ret)
{
	return in->sys == PL_SYS_MMAP && (in->args[2] & PL_PROT_EXEC) &&
	       !(in->args[3] & PL_MAP_ANONYMOUS) && (ret < 0 ? ret < -4095 : true);
}

/* ---- per-chunk faults, releases and refaults ---------------------------- */

static __always_inline struct pl_chunk *chunk_get(__u64 key, bool create)
{
	struct pl_chunk *c = bpf_map_lookup_elem(&chunks, &key);

	if (c || !create)
		return c;
	/* Two CPUs may race to make it: either insert will do. */
	bpf_map_update_elem(&chunks, &key, &zero_chunk, BPF_NOEXIST);
	c = bpf_map_lookup_elem(&chunks, &key);
	if (!c)
		__sync_fetch_and_add(&totals.chunks_dropped, 1);
	else
		__sync_val_compare_and_swap(&c->born_ns, 0, bpf_ktime_get_ns());
	return c;
}

/*
 * Hands the cached bytes to their chunk. The cache is emptied first: a
 * reader between the two steps sees too little for a moment, never twice.
 */
static __always_inline void flush_fault_cache(struct pl_fault_cache *fc)
{
	__u64 bytes = fc->faulted, key = fc->key - 1;
	struct pl_chunk *c;

	if (!fc->key)
		return;
	fc->faulted = 0;
	fc->key = 0;
	if (!bytes)
		return;
	c = chunk_get(key, true);
	if (!c)
		return;
	__sync_fetch_and_add(&c->faulted, bytes);
	c->last_addr = fc->last_addr;
}

static __always_inline bool chunk_clean(const struct pl_chunk *c)
{
	__u64 any = 0;

	for (int w = 0; w < PL_CHUNK_WORDS; w++)
		any |= c->released[w];
	return !any;
}

/*
 * A fault brought `moved` bytes in at addr. If a release named that page
 * and nothing faulted it back since, this is churn: count it and how long
 * after the release it came. The delay is from the chunk's last release,
 * so for pages released at different times it is the shortest one.
 */
static __always_inline void note_fault_in_chunk(__u64 addr, __s64 moved)
{
	__u32 zero = 0, page = (addr >> 12) & (PL_CHUNK_PAGES - 1);
	struct pl_fault_cache *fc = bpf_map_lookup_elem(&fault_cache, &zero);
	__u64 key = addr >> PL_CHUNK_SHIFT, bit = 1ull << (page & 63), delay;
	struct pl_chunk *c;

	if (!fc)
		return;
	/* The common case: the same chunk, and no release since it was clean. */
	if (fc->key == key + 1 && fc->gen == release_gen) {
		fc->faulted += moved;
		fc->last_addr = addr;
		return;
	}
	flush_fault_cache(fc);
	c = chunk_get(key, true);
	if (!c)
		return;
	if (chunk_clean(c)) {
		fc->key = key + 1;
		fc->gen = release_gen;
		fc->faulted = moved;
		fc->last_addr = addr;
		return;
	}
	__sync_fetch_and_add(&c->faulted, moved);
	c->last_addr = addr;
	if (!(c->released[(page >> 6) & (PL_CHUNK_WORDS - 1)] & bit))
		return;
	if (moved >= (PL_CHUNK_PAGES << 12)) { /* a whole huge page came back */
		for (int w = 0; w < PL_CHUNK_WORDS; w++)
			c->released[w] = 0;
	} else {
		__sync_fetch_and_and(&c->released[(page >> 6) & (PL_CHUNK_WORDS - 1)], ~bit);
	}
	delay = bpf_ktime_get_ns() - c->released_ns;
	__sync_fetch_and_add(&c->refaulted, moved);
	__sync_fetch_and_add(&c->refaults, 1);
	__sync_fetch_and_add(&c->delay_sum_ns, delay);
	if (!c->delay_min_ns || delay < c->delay_min_ns)
		c->delay_min_ns = delay;
	if (delay > c->delay_max_ns)
		c->delay_max_ns = delay;
}

struct mark_ctx {
	__u64 start, end; /* page-aligned byte range */
	__u64 first;	  /* its first chunk */
	__u64 now;
	bool release; /* true: mark released; false: forget (unmapped) */
};

/* Bits lo..hi-1 of one 64-page word. */
static __always_inline __u64 word_mask(__u32 w, __u32 lo, __u32 hi)
{
	__u32 a = lo > w * 64 ? lo - w * 64 : 0;
	__u32 b = hi < (w + 1) * 64 ? hi - w * 64 : 64;

	if (hi <= w * 64 || lo >= (w + 1) * 64 || a >= b)
		return 0;
	return (b - a == 64 ? ~0ull : ((1ull << (b - a)) - 1)) << a;
}

static long mark_chunk(__u32 i, struct mark_ctx *m)
{
	__u64 key = m->first + i, base = key << PL_CHUNK_SHIFT;
	__u64 lo_addr = m->start > base ? m->start : base;
	__u64 hi_addr =
	    m->end < base + (1ull << PL_CHUNK_SHIFT) ? m->end : base + (1ull << PL_CHUNK_SHIFT);
	__u32 lo = (lo_addr - base) >> 12, hi = (hi_addr - base) >> 12;
	struct pl_chunk *c = chunk_get(key, m->release);

	if (!c)
		return 0;
	for (__u32 w = 0; w < PL_CHUNK_WORDS; w++) {
		__u64 mask = word_mask(w, lo, hi);

		if (!mask)
			continue;
		if (m->release)
			__sync_fetch_and_or(&c->released[w], mask);
		else
			__sync_fetch_and_and(&c->released[w], ~mask);
	}
	if (m->release)
		c->released_ns = m->now;
	return 0;
}

/* Up to 128 GiB per call is marked page by page; the rest is counted, not marked. */
#define PL_MAX_MARK_CHUNKS 65536

static __always_inline void mark_range(__u64 addr, __u64 len, bool release)
{
	struct mark_ctx m = {.release = release, .now = bpf_ktime_get_ns()};
	__u64 n;

	if (!len || addr + len < addr)
		return;
	m.start = addr & ~4095ull;
	m.end = (addr + len + 4095) & ~4095ull;
	m.first = m.start >> PL_CHUNK_SHIFT;
	n = ((m.end - 1) >> PL_CHUNK_SHIFT) - m.first + 1;
	if (n > PL_MAX_MARK_CHUNKS) {
		__sync_fetch_and_add(&totals.marks_truncated, 1);
		n = PL_MAX_MARK_CHUNKS;
	}
	bpf_loop((__u32)n, mark_chunk, &m, 0);
	/* After the bits: a fault that sees the new generation sees them too. */
	if (release)
		__sync_fetch_and_add(&release_gen, 1);
}

static __always_inline bool advice_releases(__u64 advice)
{
	return advice == PL_MADV_DONTNEED || advice == PL_MADV_FREE || advice == PL_MADV_REMOVE ||
	       advice == PL_MADV_PAGEOUT || advice == PL_MADV_DONTNEED_LOCKED;
}

/*
 * After a successful call: pages a release named are marked, so a fault
 * on them counts as a refault; an unmapped range is forgotten, so a new
 * mapping there starts clean.
 */
static __always_inline void mark_after_call(const struct inflight *in, long ret)
{
	if (ret < 0 && ret >= -4095)
		return;
	switch (in->sys) {
	case PL_SYS_MADVISE:
		if (advice_releases(in->args[2]))
			mark_range(in->args[0], in->args[1], true);
		break;
	case PL_SYS_PROCESS_MADVISE:
		if (advice_releases(in->args[3]) && in->iov_read == 1)
			mark_range(in->iov_addr, in->iov_bytes, true);
		break;
	case PL_SYS_BRK:
		if ((__u64)ret < in->old_brk)
			mark_range((__u64)ret, in->old_brk - (__u64)ret, true);
		break;
	case PL_SYS_MUNMAP:
		mark_range(in->args[0], in->args[1], false);
		break;
	case PL_SYS_MREMAP: /* a move or a shrink leaves the old pages unmapped */
		if ((__u64)ret != in->args[0])
			mark_range(in->args[0], in->args[1], false);
		else if (in->args[2] < in->args[1])
			mark_range(in->args[0] + in->args[2], in->args[1] - in->args[2], false);
		break;
	}
}

static __always_inline int emit_exit(long ret)
{
	__u32 tid = (__u32)bpf_get_current_pid_tgid();
	struct pl_syscall_event *e;
	struct inflight *in;
	__s64 now[PL_RSS_NR] = {};

	in = bpf_map_lookup_elem(&inflight, &tid);
	if (!in)
		return 0;
	if (!(in->flags & PL_SCF_RSS_UNKNOWN))
		read_rss_all(in->mm, now);
	mark_after_call(in, ret);
	e = bpf_ringbuf_reserve(&events, sizeof(*e), 0);
	if (!e) {
		__sync_fetch_and_add(&totals.lost_events, 1);
		goto out;
	}
	fill_hdr(&e->hdr, PL_EV_SYSCALL);
	e->sys = in->sys;
	e->target_pid = in->target_pid;
	for (int i = 0; i < 6; i++)
		e->args[i] = in->args[i];
	e->ret = ret;
	for (int m = 0; m < PL_RSS_NR; m++)
		e->rss_delta[m] = (in->flags & PL_SCF_RSS_UNKNOWN) ? 0 : now[m] - in->rss[m];
	e->duration_ns = e->hdr.ts_ns - in->ts;
	e->old_brk = in->old_brk;
	e->iov_bytes = in->iov_bytes;
	e->iov_addr = in->iov_addr;
	e->iov_read = in->iov_read;
	e->flags = in->flags;
	e->stack_key = in->stack_key;
	e->user_ip = in->user_ip;
	e->ret_addr = in->ret_addr;
	bpf_get_current_comm(e->comm, sizeof(e->comm));
	submit_batched(e, maps_code(in, ret));
out:
	bpf_map_delete_elem(&inflight, &tid);
	return 0;
}

static __always_inline int exit_own(struct trace_event_raw_sys_exit *ctx)
{
	if (!is_target())
		return 0;
	set_cpu_ctx(0);
	return emit_exit(ctx->ret);
}

/* An entry/exit pair for a syscall of the target's own, with its arg count. */
#define TRACE_OWN_SYSCALL(name, sys, nargs)                                                        \
	SEC("tp/syscalls/sys_enter_" #name)                                                        \
	int enter_##name(struct trace_event_raw_sys_enter *ctx)                                    \
	{                                                                                          \
		return enter_own(sys, nargs, ctx);                                                 \
	}                                                                                          \
	SEC("tp/syscalls/sys_exit_" #name)                                                         \
	int exit_##name(struct trace_event_raw_sys_exit *ctx)                                      \
	{                                                                                          \
		return exit_own(ctx);                                                              \
	}

TRACE_OWN_SYSCALL(mmap, PL_SYS_MMAP, 6)
TRACE_OWN_SYSCALL(munmap, PL_SYS_MUNMAP, 2)
TRACE_OWN_SYSCALL(madvise, PL_SYS_MADVISE, 3)
TRACE_OWN_SYSCALL(mremap, PL_SYS_MREMAP, 5)

SEC("tp/syscalls/sys_enter_brk")
int enter_brk(struct trace_event_raw_sys_enter *ctx)
{
	struct task_struct *task;
	struct inflight in = {};

	if (!is_target())
		return 0;
	task = (struct task_struct *)bpf_get_current_task();
	in.sys = PL_SYS_BRK;
	in.target_pid = targ_tgid;
	in.mm = current_mm();
	in.old_brk = BPF_CORE_READ(task, mm, brk);
	copy_args(in.args, ctx, 1);
	capture_caller(ctx, &in);
	track_entry(&in);
	return 0;
}

SEC("tp/syscalls/sys_exit_brk")
int exit_brk(struct trace_event_raw_sys_exit *ctx)
{
	return exit_own(ctx);
}

/* ---- process_madvise: the target is the advised process, any caller ---- */

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
	if (magic == PIDFS_MAGIC) /* 6.9+: the pid hangs off the pidfs inode */
		pid = BPF_CORE_READ(inode, i_private);
	else if (magic == ANON_INODE_FS_MAGIC) /* older: anon inode file */
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

SEC("tp/syscalls/sys_enter_process_madvise")
int enter_process_madvise(struct trace_event_raw_sys_enter *ctx)
{
	struct inflight in = {};
	struct iov_ctx iov = {};
	__u64 vlen = ctx->args[2];
	__u32 n;

	if (pidfd_tgid((int)ctx->args[0]) != targ_tgid)
		return 0;
	in.sys = PL_SYS_PROCESS_MADVISE;
	in.target_pid = targ_tgid;
	in.mm = totals.target_mm;
	copy_args(in.args, ctx, 5);
	n = vlen > MAX_IOVECS ? MAX_IOVECS : (__u32)vlen;
	iov.vec = (const struct iovec *)ctx->args[1];
	in.iov_read = bpf_loop(n, add_iovec, &iov, 0);
	in.iov_bytes = iov.bytes;
	in.iov_addr = iov.first;
	if (in.iov_read < vlen)
		in.flags |= PL_SCF_IOV_PARTIAL;
	capture_caller(ctx, &in);
	track_entry(&in);
	return 0;
}

SEC("tp/syscalls/sys_exit_process_madvise")
int exit_process_madvise(struct trace_event_raw_sys_exit *ctx)
{
	/* Callers outside the target reach here too: the map says if it is ours. */
	return emit_exit(ctx->ret);
}

/* ---- RSS counters, page faults, exec and exit -------------------------- */

/* The mm is unknown (before seeding finished, or after exec): learn it. */
static __always_inline bool adopt_current_mm(__u64 mm)
{
	if (!is_target() || current_mm() != mm)
		return false;
	totals.target_mm = mm;
	return true;
}

static __always_inline void set_cpu_ctx(__u64 kind)
{
	__u32 zero = 0;
	struct cpu_ctx *c = bpf_map_lookup_elem(&cpu_ctx, &zero);

	if (c)
		c->kind_tid = kind ? (kind << 32) | (__u32)bpf_get_current_pid_tgid() : 0;
}

/*
 * The target's own change: inside a traced syscall (no cause: the call has
 * it), a fault, or the old address space's teardown at exec (the mm being
 * changed is no longer the task's own).
 */
static __always_inline __u32 own_cause(__u64 mm, __u64 *fault_addr)
{
	__u32 zero = 0;
	struct cpu_ctx *c = bpf_map_lookup_elem(&cpu_ctx, &zero);

	if (c && (__u32)c->kind_tid == (__u32)bpf_get_current_pid_tgid()) {
		if ((c->kind_tid >> 32) != CTX_FAULT)
			return PL_CAUSE_NR;
		*fault_addr = c->fault_addr;
		return PL_CAUSE_FAULT;
	}
	return current_mm() != mm ? PL_CAUSE_EXIT : PL_CAUSE_UNKNOWN;
}

static __always_inline bool current_is_khugepaged(void)
{
	char comm[PL_COMM_LEN] = {};

	bpf_get_current_comm(comm, sizeof(comm));
	return comm[0] == 'k' && comm[1] == 'h' && comm[2] == 'u' && comm[3] == 'g' &&
	       comm[4] == 'e' && comm[5] == 'p' && comm[6] == 'a' && comm[7] == 'g' &&
	       comm[8] == 'e' && comm[9] == 'd';
}

/*
 * Another task changed the target's counters. With no swap, reclaim can
 * only drop lazily freed anon pages; with swap, user space pairs anon drops
 * with swap-entry growth to tell swap-out from lazy-free discards.
 */
static __always_inline __u32 other_cause(__u32 member, __s64 moved)
{
	__u32 tid = (__u32)bpf_get_current_pid_tgid();

	if (totals.exited)
		return PL_CAUSE_EXIT;
	if (bpf_map_lookup_elem(&inflight, &tid)) /* a process_madvise caller: its event has it */
		return PL_CAUSE_NR;
	if (current_is_khugepaged())
		return PL_CAUSE_KHUGEPAGED;
	if (member == PL_RSS_SWAP && moved > 0)
		return PL_CAUSE_SWAP_OUT;
	if (member == PL_RSS_ANON && moved < 0)
		return PL_CAUSE_LAZYFREE_RECLAIM;
	return PL_CAUSE_UNKNOWN;
}

static __always_inline void file_cause(__u32 cause, __u32 member, __s64 moved)
{
	__u32 zero = 0;
	struct pl_cause_acc *acc = bpf_map_lookup_elem(&cause_acc, &zero);

	if (!acc || cause >= PL_CAUSE_NR || member >= PL_RSS_NR)
		return;
	acc->delta[cause][member] += moved;
	acc->updates[cause]++;
}

SEC("tp_btf/rss_stat")
int BPF_PROG(on_rss_stat, struct mm_struct *mm, int member)
{
	__u32 m = (__u32)member, cause;
	__s64 bytes, moved = 0;
	__u64 fault_addr = 0;
	bool target;

	if ((__u64)mm != totals.target_mm) {
		if (totals.target_mm || !adopt_current_mm((__u64)mm))
			return 0;
	}
	if (m >= PL_RSS_NR || !totals.seeded)
		return 0;
	bytes = track_member(as_mm((__u64)mm), m, &moved);
	target = is_target();
	note_reading(m, bytes, moved, target);
	if (totals.exited) /* the dying thread zaps its own mm: still teardown */
		cause = PL_CAUSE_EXIT;
	else
		cause = target ? own_cause((__u64)mm, &fault_addr) : other_cause(m, moved);
	if (cause < PL_CAUSE_NR)
		file_cause(cause, m, moved);
	if (cause == PL_CAUSE_FAULT && moved > 0)
		note_fault_in_chunk(fault_addr, moved);
	return 0;
}

SEC("tp_btf/page_fault_user")
int BPF_PROG(on_page_fault, unsigned long address, struct pt_regs *regs, unsigned long error_code)
{
	__u32 zero = 0;
	struct cpu_ctx *c;
	__u64 *n;

	if (!is_target())
		return 0;
	c = bpf_map_lookup_elem(&cpu_ctx, &zero);
	if (c) {
		c->kind_tid = (CTX_FAULT << 32) | (__u32)bpf_get_current_pid_tgid();
		c->fault_addr = address;
	}
	n = bpf_map_lookup_elem(&fault_count, &zero);
	if (n)
		*n += 1;
	return 0;
}

SEC("tp_btf/sched_process_exec")
int BPF_PROG(on_exec, struct task_struct *p, pid_t old_pid, struct linux_binprm *bprm)
{
	struct pl_exec_event *e;
	__s64 rss[PL_RSS_NR] = {};
	__u64 mm;

	if (p->tgid != targ_tgid || !totals.seeded)
		return 0;
	mm = (__u64)p->mm;
	set_baseline(mm, rss);
	e = bpf_ringbuf_reserve(&events, sizeof(*e), 0);
	if (!e) {
		__sync_fetch_and_add(&totals.lost_events, 1);
		return 0;
	}
	fill_hdr(&e->hdr, PL_EV_EXEC);
	for (int m = 0; m < PL_RSS_NR; m++)
		e->rss[m] = rss[m];
	bpf_get_current_comm(e->comm, sizeof(e->comm));
	bpf_ringbuf_submit(e, 0);
	return 0;
}

SEC("tp_btf/sched_process_exit")
int BPF_PROG(on_exit, struct task_struct *p, bool group_dead)
{
	struct pl_exit_event *e;
	__s64 rss[PL_RSS_NR] = {};
	__u64 mm;
	int code;

	if (p->tgid != targ_tgid || !group_dead)
		return 0;
	mm = totals.target_mm;
	if (mm && totals.seeded)
		read_rss_all(mm, rss);
	totals.exited = 1;
	e = bpf_ringbuf_reserve(&events, sizeof(*e), 0);
	if (!e) {
		__sync_fetch_and_add(&totals.lost_events, 1);
		return 0;
	}
	fill_hdr(&e->hdr, PL_EV_EXIT);
	code = BPF_CORE_READ(p, signal, group_exit_code);
	e->exit_code = code ? code : p->exit_code;
	for (int m = 0; m < PL_RSS_NR; m++)
		e->rss[m] = rss[m];
	bpf_ringbuf_submit(e, 0);
	return 0;
}

/* The mm is gone: forget its address so a reused one is never mistaken. */
SEC("tp_btf/exit_mmap")
int BPF_PROG(on_exit_mmap, struct mm_struct *mm)
{
	if ((__u64)mm == totals.target_mm)
		totals.target_mm = 0;
	return 0;
}
