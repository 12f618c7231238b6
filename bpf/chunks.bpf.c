// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * Page faults, and what happens to each 2 MiB chunk of the target's address
 * space: bytes faulted in, pages released, and faults on released pages
 * (refaults: churn). Aggregated here, never streamed: a fault storm updates
 * a map; user space folds chunks into mappings (user/ledger/ranges.c).
 */
#include "pageledger.bpf.h"

/* Page faults are counted here, never streamed: one slot per CPU, no atomics. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u64);
} fault_count SEC(".maps");

/*
 * Releases and segment bounds per 2 MiB chunk (struct pl_chunk), keyed by
 * address >> PL_CHUNK_SHIFT, and faults per segment (struct pl_seg), keyed
 * by PL_SEG_KEY. Entries are made on demand, so memory follows the address
 * space the target touches; user space drops the entries of what is no
 * longer mapped, and a full map is counted (chunks_dropped).
 */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 65536);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, __u64);
	__type(value, struct pl_chunk);
} chunks SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 262144);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, __u64);
	__type(value, struct pl_seg);
} segs SEC(".maps");

static const struct pl_chunk zero_chunk;
static const struct pl_seg zero_seg;

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct pl_fault_cache);
} fault_cache SEC(".maps");

/*
 * Bumped by every release mark and every new segment bound: a cached
 * segment may have released pages, or be shorter, now.
 */
__u64 chunk_gen = 0;

/* ---- the faults themselves --------------------------------------------------- */

/*
 * Remembers the fault on the task, for the counter update it causes
 * (rss.bpf.c files it as a fault while the task's user regs are these).
 */
static __always_inline void note_fault(unsigned long address, struct pt_regs *user_regs, __u32 kind)
{
	struct task_struct *task = bpf_get_current_task_btf();
	struct pl_task *t =
	    bpf_task_storage_get(&tasks, task, NULL, BPF_LOCAL_STORAGE_GET_F_CREATE);
	__u32 zero = 0;
	__u64 *n;

	if (t) {
		t->fault_kind = kind;
		t->fault_addr = address;
		t->fault_ip = PT_REGS_IP(user_regs);
		t->fault_sp = PT_REGS_SP(user_regs);
	}
	n = bpf_map_lookup_elem(&fault_count, &zero);
	if (n)
		*n += 1;
}

SEC("tp_btf/page_fault_user")
int BPF_PROG(on_page_fault_user, unsigned long address, struct pt_regs *regs,
	     unsigned long error_code)
{
	if (!pl_is_target())
		return 0;
	note_fault(address, regs, PL_FAULT_USER);
	return 0;
}

/* A kernel-mode fault on a user page (a copy to or from user memory inside a syscall). */
SEC("tp_btf/page_fault_kernel")
int BPF_PROG(on_page_fault_kernel, unsigned long address, struct pt_regs *regs,
	     unsigned long error_code)
{
	if (!pl_is_target() || address >= PL_USER_ADDR_END)
		return 0;
	note_fault(address, (struct pt_regs *)bpf_task_pt_regs(bpf_get_current_task_btf()),
		   PL_FAULT_KERNEL);
	return 0;
}

/* ---- per-chunk and per-segment accounts ------------------------------------ */

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
 * born: when its first fault was made. An entry made by a fault cache's
 * flush is as old as the cache's first fault, so a segment whose faults
 * came before a call is known as older than the call, even when the flush
 * came after it (the next fault, in a mapping made there since).
 */
static __always_inline struct pl_seg *seg_get(__u64 idx, __u32 lo, __u64 born)
{
	__u64 key = PL_SEG_KEY(idx, lo);
	struct pl_seg *s = bpf_map_lookup_elem(&segs, &key);

	if (s)
		return s;
	bpf_map_update_elem(&segs, &key, &zero_seg, BPF_NOEXIST);
	s = bpf_map_lookup_elem(&segs, &key);
	if (!s)
		__sync_fetch_and_add(&totals.chunks_dropped, 1);
	else
		__sync_val_compare_and_swap(&s->born_ns, 0, born);
	return s;
}

/*
 * Tests as arithmetic, without a branch. barrier_var() hides each
 * operand's origin from clang, which would otherwise see through the
 * arithmetic and emit the compare-and-branch it stands for: for BPF, a
 * branch is a fork for the verifier to walk, and a chain of them is a
 * fork per link.
 */

/* 1 if v >> shift is not zero (shift <= 32): adding 2^shift - 1 carries into bit `shift`. */
static __always_inline __u64 any_above(__u64 v, __u32 shift)
{
	__u64 high = v >> shift;

	__u64 any;

	barrier_var(high);
	any = (high + ((1ull << shift) - 1)) >> shift;
	barrier_var(any);
	return any;
}

/* 1 if v is not zero: v | -v has the sign bit then. */
static __always_inline __u64 nonzero(__u64 v)
{
	__u64 neg = -v;

	barrier_var(neg);
	return (v | neg) >> 63;
}

/* 1 if a < b, for a, b < 2^32: a - b wraps below zero then. */
static __always_inline __u64 below_u32(__u64 a, __u64 b)
{
	__u64 d = a - b;

	barrier_var(d);
	return d >> 63;
}

/* Index of the highest set bit of v (v != 0). */
static __always_inline __u32 msb64(__u64 v)
{
	__u64 n = 0, s;

	s = any_above(v, 32) << 5;
	v >>= s, n += s;
	s = any_above(v, 16) << 4;
	v >>= s, n += s;
	s = any_above(v, 8) << 3;
	v >>= s, n += s;
	s = any_above(v, 4) << 2;
	v >>= s, n += s;
	s = any_above(v, 2) << 1;
	v >>= s, n += s;
	return (__u32)(n + any_above(v, 1));
}

/* Packs the segment [lo, hi) into one return value. */
#define PL_SEG_SPAN(lo, hi) ((__u64)(lo) | ((__u64)(hi) << 32))
#define PL_SEG_LO(span) ((__u32)(span))
#define PL_SEG_HI(span) ((__u32)((span) >> 32))

/*
 * The segment holding `page`: [lo, hi), from the chunk's bounds: the last
 * bound at or below the page (page 0 if none), the next one above it (the
 * chunk's end if none). The word searches branch on computed 0-or-1 tests:
 * a branch on `i < w` itself teaches the verifier a new range for w at
 * every word, so no two paths look alike and none is pruned. (Masks
 * instead of branches fare worse: this verifier forks on every value known
 * to be 0 or -1.) Global: verified once per program, not at each caller.
 */
__u64 pl_seg_of(const struct pl_chunk *c, __u32 page)
{
	__u32 w = (page >> 6) & (PL_CHUNK_WORDS - 1), b = page & 63, lo = 0, hi = PL_CHUNK_PAGES;
	__u64 below, above;

	if (!c)
		return PL_SEG_SPAN(lo, hi);
	below = c->bounds[w] & (~0ull >> (63 - b));
	above = c->bounds[w] & ((~0ull << b) << 1); /* two shifts: b + 1 may be 64 */
	if (below) {
		lo = w * 64 + msb64(below);
	} else {
		for (__u32 k = 0; k < PL_CHUNK_WORDS; k++) {
			__u32 i = PL_CHUNK_WORDS - 1 - k;

			if (below_u32(i, w) & nonzero(c->bounds[i])) {
				lo = i * 64 + msb64(c->bounds[i]);
				break;
			}
		}
	}
	if (above) {
		hi = w * 64 + msb64(above & -above);
	} else {
		for (__u32 i = 0; i < PL_CHUNK_WORDS; i++) {
			if (below_u32(w, i) & nonzero(c->bounds[i])) {
				hi = i * 64 + msb64(c->bounds[i] & -c->bounds[i]);
				break;
			}
		}
	}
	return PL_SEG_SPAN(lo, hi);
}

/* Bytes to a segment; with no room for its entry, to the chunk (counted). */
static __always_inline void seg_add(struct pl_chunk *c, __u64 idx, __u32 lo, __s64 bytes,
				    __u64 born)
{
	struct pl_seg *s = seg_get(idx, lo, born);

	if (s)
		__sync_fetch_and_add(&s->faulted, bytes);
	else if (c)
		__sync_fetch_and_add(&c->spilled, bytes);
}

/*
 * Hands the cached bytes to their segment. The cache is emptied first: a
 * reader between the two steps sees too little for a moment, never twice.
 */
static __always_inline void flush_fault_cache(struct pl_fault_cache *fc)
{
	__s64 bytes = fc->faulted, first;
	__u64 idx = fc->chunk - 1, born = fc->first_ns;
	__u32 pmin = fc->pmin, pmax = fc->pmax, lo, hi, lo2;
	struct pl_chunk *c;
	__u64 span;

	if (!fc->chunk)
		return;
	fc->faulted = 0;
	fc->chunk = 0;
	if (!bytes)
		return;
	c = chunk_get(idx, false);
	if (!c) {
		seg_add(c, idx, fc->lo, bytes, born);
		return;
	}
	/* A bound that came since may cut the pages faulted: each side its share. */
	span = pl_seg_of(c, pmin & (PL_CHUNK_PAGES - 1));
	lo = PL_SEG_LO(span);
	hi = PL_SEG_HI(span);
	if (pmax < hi || pmax <= pmin) {
		seg_add(c, idx, lo, bytes, born);
		return;
	}
	lo2 = PL_SEG_LO(pl_seg_of(c, pmax & (PL_CHUNK_PAGES - 1)));
	/* BPF divides unsigned only: the magnitude, then the sign. */
	first = (__s64)((__u64)(bytes < 0 ? -bytes : bytes) * (hi - pmin) / (pmax - pmin + 1));
	if (bytes < 0)
		first = -first;
	seg_add(c, idx, lo, first, born);
	seg_add(c, idx, lo2, bytes - first, born);
}

static __always_inline bool chunk_clean(const struct pl_chunk *c)
{
	__u64 any = 0;

	for (int w = 0; w < PL_CHUNK_WORDS; w++)
		any |= c->released[w];
	return !any;
}

static __always_inline __u32 page_in_chunk(__u64 addr)
{
	return ((addr & ((1ull << PL_CHUNK_SHIFT) - 1)) >> page_shift) & (PL_CHUNK_PAGES - 1);
}

/* A fault on a page a release named, not faulted back since: churn. */
static __always_inline void note_refault(struct pl_chunk *c, struct pl_seg *s, __u32 page,
					 __s64 bytes)
{
	__u64 bit = 1ull << (page & 63), delay;
	__u32 w = (page >> 6) & (PL_CHUNK_WORDS - 1);

	if (!(c->released[w] & bit))
		return;
	if (bytes >= (1ll << PL_CHUNK_SHIFT)) { /* a whole huge page came back */
		for (int i = 0; i < PL_CHUNK_WORDS; i++)
			c->released[i] = 0;
	} else {
		__sync_fetch_and_and(&c->released[w], ~bit);
	}
	delay = bpf_ktime_get_ns() - c->released_ns;
	if (s) {
		__sync_fetch_and_add(&s->refaulted, bytes);
		__sync_fetch_and_add(&s->refaults, 1);
		__sync_fetch_and_add(&s->delay_sum_ns, delay);
	}
	if (!c->delay_min_ns || delay < c->delay_min_ns)
		c->delay_min_ns = delay;
	if (delay > c->delay_max_ns)
		c->delay_max_ns = delay;
}

/*
 * A fault changed the target's RSS by `bytes` at addr (negative: the file
 * page a copy-on-write replaced). The common case costs one per-CPU array
 * lookup: the same segment as this CPU's last fault, and no release or new
 * bound since it was found. The delay of a refault is from the chunk's last
 * release, so for pages released at different times it is the shortest one.
 */
int pl_chunk_fault(__u64 addr, __s64 bytes)
{
	__u32 zero = 0, page = page_in_chunk(addr), lo, hi;
	struct pl_fault_cache *fc = bpf_map_lookup_elem(&fault_cache, &zero);
	__u64 key = addr >> PL_CHUNK_SHIFT, gen, span;
	struct pl_chunk *c;
	struct pl_seg *s;

	if (!fc)
		return 0;
	gen = chunk_gen; /* before the bounds and the released bits are read */
	if (fc->chunk == key + 1 && page >= fc->lo && page < fc->hi && fc->gen == gen) {
		fc->faulted += bytes;
		if (page < fc->pmin)
			fc->pmin = page;
		else if (page > fc->pmax)
			fc->pmax = page;
		return 0;
	}
	flush_fault_cache(fc);
	c = chunk_get(key, true);
	if (!c)
		return 0;
	span = pl_seg_of(c, page);
	lo = PL_SEG_LO(span);
	hi = PL_SEG_HI(span);
	c->last_addr = addr;
	if (chunk_clean(c)) {
		fc->chunk = key + 1;
		fc->gen = gen;
		fc->lo = lo;
		fc->hi = hi;
		fc->pmin = fc->pmax = page;
		fc->faulted = bytes;
		fc->first_ns = bpf_ktime_get_ns();
		return 0;
	}
	s = seg_get(key, lo, bpf_ktime_get_ns());
	if (s)
		__sync_fetch_and_add(&s->faulted, bytes);
	else
		__sync_fetch_and_add(&c->spilled, bytes);
	if (bytes > 0)
		note_refault(c, s, page, bytes);
	return 0;
}

/* ---- marks: released pages, forgetting unmapped ones, segment bounds ---------- */

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

struct word_ctx {
	struct pl_chunk *c;
	__u32 lo, hi; /* pages lo..hi-1 of the chunk */
	bool release;
};

/*
 * One 64-page word of a chunk's released-page bitmap. A loop callback of
 * its own: an unrolled loop of eight words, each with its own branches,
 * cost the verifier a quarter of a second at every load.
 */
static long mark_word(__u32 w, struct word_ctx *x)
{
	__u64 mask = word_mask(w, x->lo, x->hi);

	if (!x->c || !mask)
		return 0;
	if (x->release)
		__sync_fetch_and_or(&x->c->released[w & (PL_CHUNK_WORDS - 1)], mask);
	else
		__sync_fetch_and_and(&x->c->released[w & (PL_CHUNK_WORDS - 1)], ~mask);
	return 0;
}

static long mark_chunk(__u32 i, struct mark_ctx *m)
{
	__u64 key = m->first + i, base = key << PL_CHUNK_SHIFT, span = 1ull << PL_CHUNK_SHIFT;
	__u64 lo_addr = m->start > base ? m->start : base;
	__u64 hi_addr = m->end < base + span ? m->end : base + span;
	struct word_ctx x = {.lo = (lo_addr - base) >> page_shift,
			     .hi = (hi_addr - base) >> page_shift,
			     .release = m->release};

	x.c = chunk_get(key, m->release);
	if (!x.c)
		return 0;
	bpf_loop(PL_CHUNK_WORDS, mark_word, &x, 0);
	if (m->release)
		x.c->released_ns = m->now;
	return 0;
}

/* Up to 128 GiB per call is marked page by page; the rest is counted, not marked. */
#define PL_MAX_MARK_CHUNKS 65536

/* Global: its loop callback is verified once, not at each of its call sites. */
int pl_mark_range(__u64 addr, __u64 len, bool release)
{
	struct mark_ctx m = {.release = release, .now = bpf_ktime_get_ns()};
	__u64 page = pl_page_size(), n;

	if (!len || addr + len < addr)
		return 0;
	m.start = addr & ~(page - 1);
	m.end = (addr + len + page - 1) & ~(page - 1);
	m.first = m.start >> PL_CHUNK_SHIFT;
	n = ((m.end - 1) >> PL_CHUNK_SHIFT) - m.first + 1;
	if (n > PL_MAX_MARK_CHUNKS) {
		__sync_fetch_and_add(&totals.marks_truncated, 1);
		n = PL_MAX_MARK_CHUNKS;
	}
	bpf_loop((__u32)n, mark_chunk, &m, 0);
	/* After the bits: a fault that sees the new generation sees them too. */
	if (release)
		__sync_fetch_and_add(&chunk_gen, 1);
	return 0;
}

/*
 * A mapping starts at addr (rounded up to its page): that page starts a
 * segment of its chunk. Faults there from now on are that mapping's.
 */
static __always_inline void mark_bound(__u64 addr)
{
	__u64 page = pl_page_size();
	__u64 at = (addr + page - 1) & ~(page - 1);
	__u32 p = page_in_chunk(at);
	struct pl_chunk *c;

	if (!p || at >= PL_USER_ADDR_END) /* page 0 starts a segment anyway */
		return;
	c = chunk_get(at >> PL_CHUNK_SHIFT, true);
	if (!c)
		return;
	__sync_fetch_and_or(&c->bounds[(p >> 6) & (PL_CHUNK_WORDS - 1)], 1ull << (p & 63));
	__sync_fetch_and_add(&chunk_gen, 1);
}

static __always_inline bool advice_releases(__u64 advice)
{
	return advice == PL_MADV_DONTNEED || advice == PL_MADV_FREE || advice == PL_MADV_REMOVE ||
	       advice == PL_MADV_PAGEOUT || advice == PL_MADV_DONTNEED_LOCKED;
}

#define PL_MAP_FIXED 0x10
#define PL_MREMAP_FIXED 2

/*
 * Segment bounds a successful layout change makes: where the new mapping
 * starts, and where what it cut leaves a remnant (the end of a fixed
 * mapping, of an unmapped range, of a moved one).
 */
static __always_inline void mark_layout(struct pl_call *c, long ret)
{
	__u64 page = pl_page_size();

	switch (c->sys) {
	case PL_SYS_MMAP:
		mark_bound((__u64)ret);
		if (c->args[3] & PL_MAP_FIXED)
			mark_bound((__u64)ret + c->args[1]);
		break;
	case PL_SYS_MUNMAP:
		mark_bound(c->args[0] + c->args[1]);
		break;
	case PL_SYS_MREMAP:
		if ((__u64)ret == c->args[0])
			break;
		mark_bound((__u64)ret);
		mark_bound(c->args[0] + c->args[1]);
		if (c->args[3] & PL_MREMAP_FIXED)
			mark_bound((__u64)ret + c->args[2]);
		break;
	case PL_SYS_BRK: { /* the heap's first growth starts its mapping */
		struct task_struct *task = bpf_get_current_task_btf();
		__u64 start_brk = task->mm ? task->mm->start_brk : 0;

		if ((__u64)ret > c->old_brk && ((c->old_brk + page - 1) & ~(page - 1)) ==
						   ((start_brk + page - 1) & ~(page - 1)))
			mark_bound(c->old_brk);
		break;
	}
	}
}

/*
 * After a successful call: pages a release named are marked, so a fault
 * on them counts as a refault; an unmapped range is forgotten, so a new
 * mapping there starts clean; new mappings start segments.
 */
int pl_chunk_mark_after_call(struct pl_call *c, long ret)
{
	__u32 zero = 0;
	struct pl_fault_cache *fc;

	if (!c || (ret < 0 && ret >= -PL_MAX_ERRNO))
		return 0;
	/* A layout change: this CPU's cached faults go to their segment before it moves or goes. */
	if (c->sys != PL_SYS_MADVISE && c->sys != PL_SYS_PROCESS_MADVISE &&
	    (fc = bpf_map_lookup_elem(&fault_cache, &zero)))
		flush_fault_cache(fc);
	switch (c->sys) {
	case PL_SYS_MADVISE:
		if (advice_releases(c->args[2]))
			pl_mark_range(c->args[0], c->args[1], true);
		break;
	case PL_SYS_PROCESS_MADVISE:
		if (advice_releases(c->args[3]) && c->iov_read == 1)
			pl_mark_range(c->iov_addr, c->iov_bytes, true);
		break;
	case PL_SYS_BRK:
		if ((__u64)ret < c->old_brk)
			pl_mark_range((__u64)ret, c->old_brk - (__u64)ret, true);
		break;
	case PL_SYS_MUNMAP:
		pl_mark_range(c->args[0], c->args[1], false);
		break;
	case PL_SYS_MREMAP: /* a move or a shrink leaves the old pages unmapped */
		if ((__u64)ret != c->args[0])
			pl_mark_range(c->args[0], c->args[1], false);
		else if (c->args[2] < c->args[1])
			pl_mark_range(c->args[0] + c->args[2], c->args[1] - c->args[2], false);
		break;
	}
	mark_layout(c, ret);
	return 0;
}

/* ---- bounds from the VMAs: at attach and at exec ---------------------------- */

extern int bpf_iter_task_vma_new(struct bpf_iter_task_vma *it, struct task_struct *task,
				 __u64 addr) __ksym;
extern struct vm_area_struct *bpf_iter_task_vma_next(struct bpf_iter_task_vma *it) __ksym;
extern void bpf_iter_task_vma_destroy(struct bpf_iter_task_vma *it) __ksym;

/*
 * Every VMA of the current task starts a segment: the layout the kernel
 * made itself (exec maps the binary, its interpreter and the stack without
 * a traced call). A walk that cannot take the mmap lock is counted
 * (chunks_dropped). Returns the VMAs walked.
 */
static __always_inline int mark_own_vmas(void)
{
	struct bpf_iter_task_vma it;
	struct vm_area_struct *vma;
	int n = 0;

	if (bpf_iter_task_vma_new(&it, bpf_get_current_task_btf(), 0)) {
		__sync_fetch_and_add(&totals.chunks_dropped, 1);
	} else {
		while ((vma = bpf_iter_task_vma_next(&it))) {
			mark_bound(vma->vm_start);
			n++;
		}
	}
	bpf_iter_task_vma_destroy(&it);
	return n;
}

/* At attach, run once by user space over the target's VMAs: the layout made before we looked. */
SEC("iter/task_vma")
int seed_bounds(struct bpf_iter__task_vma *ctx)
{
	struct vm_area_struct *vma = ctx->vma;
	struct task_struct *task = ctx->task;

	if (vma && task && task->tgid == targ_tgid)
		mark_bound(vma->vm_start);
	return 0;
}

static long drop_entry(struct bpf_map *map, __u64 *key, void *val, void *ctx)
{
	bpf_map_delete_elem(map, key);
	return 0;
}

/* One CPU's fault cache emptied (bpf_loop callback). */
static long empty_cache(__u32 cpu, void *ctx)
{
	__u32 zero = 0;
	struct pl_fault_cache *fc = bpf_map_lookup_percpu_elem(&fault_cache, &zero, cpu);

	if (fc) {
		fc->chunk = 0;
		fc->faulted = 0;
	}
	return 0;
}

/*
 * After exec: the chunks and segments of the old address space describe
 * nothing now (user space starts a fresh ledger at the exec record), and the
 * kernel mapped the new binary, its interpreter and the stack itself.
 */
int pl_chunk_exec(void)
{
	/* Faults cached on any CPU were the old address space's: they go with it. */
	bpf_loop(nr_cpus, empty_cache, NULL, 0);
	bpf_for_each_map_elem(&chunks, drop_entry, NULL, 0);
	bpf_for_each_map_elem(&segs, drop_entry, NULL, 0);
	return mark_own_vmas();
}
