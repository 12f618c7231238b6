// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * The target's RSS counters: a baseline at attach, then every update
 * claimed exactly once and filed to the task that made it.
 *
 * Source: tp_btf/rss_stat, not the classic kmem:rss_stat tracepoint. The
 * classic one computes percpu_counter_sum_positive() for *every* mm in the
 * system on every counter update while it is enabled, so tracing one
 * process would tax every fault on the machine. tp_btf hands us (mm,
 * member) with no work done: we compare the mm pointer first.
 *
 * rss_stat fires right after add_mm_counter(), in the context of the task
 * whose work changed the counter (its fault, its syscall's zap, reclaim,
 * khugepaged, teardown), and on the CPU that changed it: the callers hold a
 * page-table lock, so the update and the event cannot be separated by a
 * migration. Each event therefore asks only "what did my update change?"
 * and files the answer under what its own task is doing.
 */
#include "pageledger.bpf.h"

/* RSS changes outside the target's traced syscalls, by cause (see pl_cause_acc). */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct pl_cause_acc);
} cause_acc SEC(".maps");

/* A per-CPU slot whose kernel layout we use to learn per-CPU offsets. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u64);
} pcpu_probe SEC(".maps");

/* __per_cpu_offset[cpu], learned once at seed time (see learn_percpu_offsets). */
__u64 pcpu_off[PL_MAX_CPUS] = {};

/*
 * percpu_counter_add_batch(): a CPU adds to its own s32 slot; when the slot
 * would reach the batch it "folds" instead, under fbc->lock adding slot +
 * amount to fbc->count and zeroing its slot. So an update is seen exactly
 * from its own CPU: its slot moved (a plain add), or its slot went to zero
 * and fbc->count moved (a fold). slot_cache holds each CPU's slot as that
 * CPU's last event left it.
 *
 * claimed[m] holds fbc->count as claimed so far, and a sequence number
 * that every claim bumps in the same compare-and-swap: a claim and its
 * place in the order of claims are one atomic step.
 */
#define PL_CLAIM_COUNT_BITS 44 /* pages: 64 PiB of 4 KiB pages */
#define PL_CLAIM_COUNT_MASK ((1ull << PL_CLAIM_COUNT_BITS) - 1)
#define PL_CLAIM_SEQ(w) ((__u32)((w) >> PL_CLAIM_COUNT_BITS))
#define PL_CLAIM_TRIES 4

struct slot_line {
	__s32 slot[PL_RSS_NR];
	__u32 seen_seq[PL_RSS_NR];    /* the claim sequence at this CPU's last event */
	__u8 pad[64 - 8 * PL_RSS_NR]; /* one cache line per CPU: no false sharing */
};
static struct slot_line slot_cache[PL_MAX_CPUS];
static __u64 claimed[PL_RSS_NR];
/*
 * Who made each recent claim, by sequence: (seq << 32) | tid, written
 * right after the claim. A fold found taken names the claims made since its
 * CPU's last event, so a taker's call is flagged too (the taker cannot
 * tell; the loser can).
 */
#define PL_RECENT_CLAIMS 64
static __u64 recent_claims[PL_RSS_NR][PL_RECENT_CLAIMS];

/* ---- reading the kernel's counters ---------------------------------------- */

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

/* ---- the baseline: at attach and after exec --------------------------------- */

struct baseline_ctx {
	__u64 mm;
	__u32 member;
	__s64 pages;
};

static long baseline_cpu(__u32 cpu, struct baseline_ctx *b)
{
	struct percpu_counter *fbc = member_counter(as_mm(b->mm), b->member);
	struct slot_line *line = &slot_cache[cpu & (PL_MAX_CPUS - 1)];
	__s32 v = percpu_slot((__u64)fbc->counters, cpu);

	line->slot[b->member & (PL_RSS_NR - 1)] = v;
	b->pages += v;
	return 0;
}

/*
 * fbc->count plus every CPU's slot, per member, remembered as the claimed
 * state: from here every update is claimed against it. Lockless, so an
 * update racing with this read is claimed by that CPU's next event.
 */
static __noinline void take_baseline(__u64 mm, __s64 *rss)
{
	struct baseline_ctx b = {.mm = mm};

	for (__u32 m = 0; m < PL_RSS_NR; m++) {
		b.member = m;
		b.pages = member_counter(as_mm(mm), m)->count;
		claimed[m] =
		    (claimed[m] & ~PL_CLAIM_COUNT_MASK) | ((__u64)b.pages & PL_CLAIM_COUNT_MASK);
		bpf_loop(nr_cpus, baseline_cpu, &b, 0);
		rss[m] = b.pages << page_shift;
	}
}

static __always_inline __s64 resident_of(const __s64 *rss)
{
	return rss[PL_RSS_ANON] + rss[PL_RSS_FILE] + rss[PL_RSS_SHMEM];
}

static __always_inline void start_epoch(__u64 mm, const __s64 *rss)
{
	totals.target_mm = mm;
	for (int m = 0; m < PL_RSS_NR; m++) {
		totals.rss_start[m] = rss[m];
		totals.rss_cur[m] = rss[m];
		totals.rss_peak[m] = rss[m];
	}
	totals.rss_peak_total = resident_of(rss);
	totals.rss_trough_total = resident_of(rss);
}

/* ---- seeding: runs once, before the other programs attach ----------------- */

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

/* Run by user space with a pid filter: it visits the target's threads only. */
SEC("iter/task")
int seed(struct bpf_iter__task *ctx)
{
	struct task_struct *task = ctx->task;
	__s64 rss[PL_RSS_NR] = {};
	__u64 mm;

	/* Any live thread will do: the group leader may have exited first. */
	if (!task || task->tgid != targ_tgid || totals.seeded)
		return 0;
	mm = (__u64)task->mm;
	if (!mm || learn_percpu_offsets() < 0)
		return 0;
	take_baseline(mm, rss);
	start_epoch(mm, rss);
	totals.seeded = 1;
	return 0;
}

/* ---- claiming an update --------------------------------------------------- */

extern struct task_struct *bpf_task_from_pid(s32 pid) __ksym;
extern void bpf_task_release(struct task_struct *p) __ksym;

static __always_inline bool seq_after(__u32 a, __u32 b)
{
	return (__s32)((a - b) << (32 - (64 - PL_CLAIM_COUNT_BITS))) > 0;
}

/*
 * One thread that claimed since the loser's CPU last looked (sequence
 * `from`): its call in flight may hold the lost fold, so it is flagged; if
 * a call of its ended since `from`, that call may have held it and is
 * already out: counted, so nothing is silent.
 */
static __always_inline void name_claimer(__u32 tid, __u32 i, __u32 from)
{
	struct task_struct *task = bpf_task_from_pid((s32)tid);
	struct pl_task *t;

	if (!task) {
		__sync_fetch_and_add(&totals.rss_inexact_late, 1);
		return;
	}
	t = bpf_task_storage_get(&tasks, task, NULL, 0);
	if (t) {
		if (t->in_call)
			t->call.flags |= PL_SCF_RSS_INEXACT;
		if (seq_after(t->exit_seq[i & (PL_RSS_NR - 1)], from))
			__sync_fetch_and_add(&totals.rss_inexact_late, 1);
	}
	bpf_task_release(task);
}

struct robbed_ctx {
	__u32 member, from, mine, self;
};

static long name_one(__u32 k, struct robbed_ctx *r)
{
	__u32 seq = (r->mine - 1 - k) & ((1u << (64 - PL_CLAIM_COUNT_BITS)) - 1);
	__u64 who;

	if (!seq_after(seq, r->from))
		return 1;
	who = recent_claims[r->member & (PL_RSS_NR - 1)][seq & (PL_RECENT_CLAIMS - 1)];
	if ((__u32)(who >> 32) != seq)
		__sync_fetch_and_add(&totals.rss_inexact_late, 1);
	else if ((__u32)who != r->self)
		name_claimer((__u32)who, r->member, r->from);
	return 0;
}

/*
 * A fold of ours was taken by a claim made after this CPU's last event and
 * before our own (sequences from+1 .. mine-1): each such claimer is named.
 * A claim whose record is gone or not yet written counts as late.
 */
static __always_inline void note_robbed(__u32 i, __u32 from, __u32 mine)
{
	struct robbed_ctx r = {
	    .member = i, .from = from, .mine = mine, .self = (__u32)bpf_get_current_pid_tgid()};

	__sync_fetch_and_add(&totals.robbed_folds, 1);
	if (mine - from > PL_RECENT_CLAIMS)
		__sync_fetch_and_add(&totals.rss_inexact_late, 1);
	bpf_loop(PL_RECENT_CLAIMS, name_one, &r, 0);
}

/* A call leaving: where the claims stood, for a late loser to compare with. */
int pl_note_call_exit(struct pl_task *t)
{
	if (!t)
		return 0;
	for (int m = 0; m < PL_RSS_NR; m++)
		t->exit_seq[m] = PL_CLAIM_SEQ(claimed[m]);
	return 0;
}

/*
 * An update that left this CPU's slot at zero may be a fold: it claims
 * fbc->count's unclaimed movement at once, first thing in the event (the
 * sooner the claim, the smaller the window in which another CPU's fold can
 * land in it). Returns the pages claimed, and the claim's sequence number.
 */
static __always_inline __s64 claim_fold(struct percpu_counter *fbc, __u32 m, __u32 *seq,
					bool *inexact)
{
	__u32 i = m;

	barrier_var(i); /* keep the mask: the verifier needs the bound the compiler knows */
	i &= PL_RSS_NR - 1;

	for (int k = 0; k < PL_CLAIM_TRIES; k++) {
		__u64 old = claimed[i], count = (__u64)fbc->count & PL_CLAIM_COUNT_MASK;
		__u64 next = ((__u64)(PL_CLAIM_SEQ(old) + 1) << PL_CLAIM_COUNT_BITS) | count;

		if (__sync_val_compare_and_swap(&claimed[i], old, next) != old)
			continue;
		*seq = PL_CLAIM_SEQ(next) & ((1u << (64 - PL_CLAIM_COUNT_BITS)) - 1);
		recent_claims[i][*seq & (PL_RECENT_CLAIMS - 1)] =
		    ((__u64)*seq << 32) | (__u32)bpf_get_current_pid_tgid();
		/* The movement, as a signed difference of 44-bit counts. */
		return ((__s64)((count - (old & PL_CLAIM_COUNT_MASK))
				<< (64 - PL_CLAIM_COUNT_BITS))) >>
		       (64 - PL_CLAIM_COUNT_BITS);
	}
	*inexact = true; /* claims racing this hard: this one stays unclaimed for the next */
	return 0;
}

/*
 * What this event's update changed, in pages. A plain add moved this CPU's
 * slot and nothing else: exact whatever the other CPUs do. A fold zeroed
 * the slot and moved fbc->count, whose unclaimed movement claim_fold took.
 * That is exact unless another CPU folded in the same instant, before
 * either event claimed: then the first event takes both folds and the
 * other finds nothing. No reading can split them afterwards (the amounts
 * are in no register we can see), so the loser, which can tell, flags
 * itself and names the takers: its slot went to zero, nothing was left to
 * claim, and another claim was made since this CPU's last event (a loss
 * for certain if its slot was already zero: a fold it must have made; else
 * possibly a plain add that landed on zero, flagged all the same).
 */
static __always_inline __s64 settle_update(__u32 m, __u32 cpu, __s32 slot, __s64 folded, __u32 seq,
					   bool *inexact)
{
	struct slot_line *line = &slot_cache[cpu & (PL_MAX_CPUS - 1)];
	__u32 i = m & (PL_RSS_NR - 1), from = line->seen_seq[i];
	__s32 prev = line->slot[i];

	line->slot[i] = slot;
	line->seen_seq[i] = PL_CLAIM_SEQ(claimed[i]);
	if (slot != 0)
		return (__s64)slot - prev;
	if (!folded && (prev == 0 || seq_after(seq, from + 1))) {
		note_robbed(i, from, seq);
		*inexact = true;
	}
	return folded - prev;
}

/* ---- filing: the call or the cause of the task that made the change ---- */

static __always_inline bool current_is_khugepaged(void)
{
	char comm[PL_COMM_LEN] = {};

	bpf_get_current_comm(comm, sizeof(comm));
	return comm[0] == 'k' && comm[1] == 'h' && comm[2] == 'u' && comm[3] == 'g' &&
	       comm[4] == 'e' && comm[5] == 'p' && comm[6] == 'a' && comm[7] == 'g' &&
	       comm[8] == 'e' && comm[9] == 'd' && comm[10] == '\0';
}

/* What reclaim did: dropped anon (lazily freed, or to swap), or file/shmem pages. */
static __always_inline __u32 reclaim_cause(__u32 m, __s64 bytes)
{
	if (m == PL_RSS_ANON)
		return bytes < 0 ? PL_CAUSE_LAZYFREE_RECLAIM : PL_CAUSE_UNKNOWN;
	if (m == PL_RSS_SWAP)
		return bytes > 0 ? PL_CAUSE_SWAP_OUT : PL_CAUSE_UNKNOWN;
	return bytes < 0 ? PL_CAUSE_RECLAIM : PL_CAUSE_UNKNOWN;
}

/*
 * The task is still handling the fault it last took while its user regs
 * are the ones the fault saw: a user-mode fault's regs are the task's, a
 * kernel-mode fault's are those of the syscall it happened in. Once the
 * task returns to user space and enters a syscall, they differ.
 */
static __always_inline bool in_fault(struct task_struct *task, const struct pl_task *t)
{
	struct pt_regs *regs;

	if (!t || t->fault_kind == PL_FAULT_NONE)
		return false;
	regs = (struct pt_regs *)bpf_task_pt_regs(task);
	return PT_REGS_IP(regs) == t->fault_ip && PT_REGS_SP(regs) == t->fault_sp;
}

/* A change the task made outside a traced call of its own. */
static __always_inline __u32 cause_of(struct task_struct *task, const struct pl_task *t, __u64 mm,
				      __u32 m, __s64 bytes)
{
	__u64 task_mm = (__u64)task->mm;
	bool reclaiming = task->flags & PL_PF_MEMALLOC;

	if (totals.exited)
		return PL_CAUSE_EXIT;
	if (task_mm != mm) {
		if (pl_is_target()) /* exec switched it away, or exit let it go */
			return task_mm ? PL_CAUSE_EXEC : PL_CAUSE_EXIT;
		if (reclaiming)
			return reclaim_cause(m, bytes);
		if (current_is_khugepaged())
			return PL_CAUSE_KHUGEPAGED;
		if (as_mm(mm)->mm_users.counter == 0) /* the last reference was not the target's */
			return PL_CAUSE_EXIT;
		return PL_CAUSE_REMOTE;
	}
	if (reclaiming) /* the target's own direct reclaim */
		return reclaim_cause(m, bytes);
	if (in_fault(task, t)) /* a fault never lowers anon: that would be something else */
		return m == PL_RSS_ANON && bytes < 0 ? PL_CAUSE_UNKNOWN : PL_CAUSE_FAULT;
	return PL_CAUSE_SYSCALL;
}

static __always_inline void file_cause(__u32 cause, __u32 m, __s64 bytes)
{
	__u32 zero = 0;
	struct pl_cause_acc *acc = bpf_map_lookup_elem(&cause_acc, &zero);

	if (!acc || cause >= PL_CAUSE_NR || m >= PL_RSS_NR)
		return;
	acc->delta[cause][m] += bytes;
	acc->updates[cause]++;
	if (cause == PL_CAUSE_EXIT)
		__sync_fetch_and_add(&totals.rss_exit_delta[m], bytes);
	if (cause == PL_CAUSE_EXIT || cause == PL_CAUSE_EXEC)
		totals.tearing_down = 1;
}

/* --until-rss-*: decided on every reading, so a short peak or trough counts. */
static __always_inline void check_until(__s64 resident)
{
	/* A command we start counts from its exec: before it, it is our own fork. */
	if (totals.until_met || (spawned && !totals.execs))
		return;
	if (until_below && resident >= until_below)
		totals.until_armed = 1;
	if ((until_above && resident > until_above) ||
	    (until_below && resident < until_below && (totals.until_armed || !spawned))) {
		totals.until_met_resident = resident;
		totals.until_met_ns = bpf_ktime_get_ns();
		totals.until_met = 1;
	}
}

/* The running figures after this update; teardown moves them but sets no peak or trough. */
static __always_inline void note_running(__u32 m, __s64 bytes, bool teardown)
{
	__s64 cur = __sync_fetch_and_add(&totals.rss_cur[m & (PL_RSS_NR - 1)], bytes) + bytes;
	__s64 resident;

	if (teardown)
		return;
	if (cur > totals.rss_peak[m & (PL_RSS_NR - 1)])
		totals.rss_peak[m & (PL_RSS_NR - 1)] = cur;
	resident = totals.rss_cur[PL_RSS_ANON] + totals.rss_cur[PL_RSS_FILE] +
		   totals.rss_cur[PL_RSS_SHMEM];
	if (resident > totals.rss_peak_total)
		totals.rss_peak_total = resident;
	if (resident < totals.rss_trough_total)
		totals.rss_trough_total = resident;
	check_until(resident);
}

/*
 * One update of the target's counter `m`: claimed, then filed to the
 * calling task's in-flight call if it has one for this mm, else to the
 * cause its task's state names. Global: verified once, not per caller.
 */
/* What the entry saw, in one argument (BPF functions take five): see PL_SEEN(). */
#define PL_SEEN(member, inexact, seq) ((member) | ((__u64)(inexact) << 8) | ((__u64)(seq) << 32))

int pl_account_update(__u64 mm, __s32 slot, __s64 folded, __u64 seen)
{
	__u32 m = (__u32)seen & 0xff, seq = (__u32)(seen >> 32);
	bool inexact = (seen >> 8) & 1;
	struct task_struct *task = bpf_get_current_task_btf();
	struct pl_task *t = bpf_task_storage_get(&tasks, task, NULL, 0);
	bool in_call = t && t->in_call && t->call.mm == mm;
	struct pl_progress *progress;
	__s64 bytes;
	__u32 cause;

	if (m >= PL_RSS_NR)
		return 0;
	progress = pl_begin_update();
	bytes = settle_update(m, bpf_get_smp_processor_id(), slot, folded, seq, &inexact)
		<< page_shift;
	if (inexact)
		__sync_fetch_and_add(&totals.rss_inexact_events, 1);
	if (!pl_is_target()) {
		__sync_fetch_and_add(&totals.rss_updates_other, 1);
		__sync_fetch_and_add(&totals.rss_other_delta[m], bytes);
	}
	if (in_call) {
		t->call.rss_delta[m] += bytes;
		if (inexact)
			t->call.flags |= PL_SCF_RSS_INEXACT;
		__sync_fetch_and_add(&totals.inflight_delta[m], bytes);
		note_running(m, bytes, false);
	} else {
		cause = cause_of(task, t, mm, m, bytes);
		file_cause(cause, m, bytes);
		note_running(m, bytes, cause == PL_CAUSE_EXIT || cause == PL_CAUSE_EXEC);
		/* Resident members only: a swap-in's swap entry is not a page of the range. */
		if (cause == PL_CAUSE_FAULT && bytes && m != PL_RSS_SWAP && t)
			pl_chunk_fault(t->fault_addr, bytes);
	}
	pl_end_update(progress);
	return 0;
}

SEC("tp_btf/rss_stat")
int BPF_PROG(on_rss_stat, struct mm_struct *mm, int member)
{
	struct percpu_counter *fbc;
	bool inexact = false;
	__s64 folded = 0;
	__u64 target = totals.target_mm, mm_nr = target;
	__u32 seq = 0;
	__s32 slot;

	/*
	 * mm_nr is the address as a number, for the global function (to the
	 * verifier mm is a pointer). The barrier keeps clang from passing mm
	 * itself once the test below has shown the two equal.
	 */
	barrier_var(mm_nr);
	/* Every process's counter updates come here: one comparison for the others. */
	if ((__u64)mm != target || !totals.seeded || (__u32)member >= PL_RSS_NR)
		return 0;
	fbc = member_counter(as_mm((__u64)mm), (__u32)member);
	slot = percpu_slot((__u64)fbc->counters, bpf_get_smp_processor_id());
	if (slot == 0)
		folded = claim_fold(fbc, (__u32)member, &seq, &inexact);
	return pl_account_update(mm_nr, slot, folded, PL_SEEN((__u32)member, inexact, seq));
}

/* ---- exec and exit ----------------------------------------------------------- */

SEC("tp_btf/sched_process_exec")
int BPF_PROG(on_exec, struct task_struct *p, pid_t old_pid, struct linux_binprm *bprm)
{
	struct pl_exec_event *e;
	__s64 rss[PL_RSS_NR] = {}, old[PL_RSS_NR];
	__u64 mm;

	if (p->tgid != targ_tgid || !totals.seeded)
		return 0;
	mm = (__u64)p->mm;
	for (int m = 0; m < PL_RSS_NR; m++)
		old[m] = totals.rss_cur[m];
	take_baseline(mm, rss);
	pl_chunk_exec(); /* the old address space's chunks go; the new one's bounds */
	for (int m = 0; m < PL_RSS_NR; m++)
		totals.exec_adjust[m] += rss[m] - old[m];
	start_epoch(mm, rss);
	totals.execs++;
	totals.tearing_down = 0; /* the old address space is gone; this one is new */
	e = bpf_ringbuf_reserve(&events, sizeof(*e), 0);
	if (!e) {
		__sync_fetch_and_add(&totals.lost_events, 1);
		return 0;
	}
	pl_fill_hdr(&e->hdr, PL_EV_EXEC);
	for (int m = 0; m < PL_RSS_NR; m++) {
		e->rss[m] = rss[m];
		e->old_rss[m] = old[m];
	}
	bpf_get_current_comm(e->comm, sizeof(e->comm));
	bpf_ringbuf_submit(e, 0);
	/*
	 * A command we started stops here, before its first instruction and
	 * while it is one thread, until user space has read the record and
	 * seeded the new address space (it sends SIGCONT then). Only once the
	 * record is on its way: a lost record must not leave it stopped.
	 */
	if (spawned)
		bpf_send_signal(PL_SIGSTOP);
	return 0;
}

SEC("tp_btf/sched_process_exit")
int BPF_PROG(on_exit, struct task_struct *p, bool group_dead)
{
	struct pl_exit_event *e;
	int code;

	if (p->tgid != targ_tgid || !group_dead)
		return 0;
	totals.exited = 1;
	e = bpf_ringbuf_reserve(&events, sizeof(*e), 0);
	if (!e) {
		__sync_fetch_and_add(&totals.lost_events, 1);
		return 0;
	}
	pl_fill_hdr(&e->hdr, PL_EV_EXIT);
	code = BPF_CORE_READ(p, signal, group_exit_code);
	e->exit_code = code ? code : p->exit_code;
	for (int m = 0; m < PL_RSS_NR; m++)
		e->rss[m] = totals.rss_cur[m];
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
