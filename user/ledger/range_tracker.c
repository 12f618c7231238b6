// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include "util/grow.h"
#include "symbolize/procmaps.h"
#include "ledger/procstat.h"
#include "ledger/ledger.h"
#include "ledger/range_tracker.h"
#include "util/clock.h"

/* Chunks scanned for huge pages per khugepaged poll: 128 GiB of mappings. */
#define MAX_HUGE_SCAN 65536
#define MAX_LAZY_LOOK 65536
/* Seeded mappings up to 8 GiB are placed page by page. */
#define MAX_SEED_CHUNKS 4096

/* The per-range ledger and what feeds it: see range_tracker.h. */
struct pl_range_tracker {
	struct pl_ranges ranges;
	struct pl_pagemap pm;
	int maps_fd; /* /proc/PID/maps for PROCMAP_QUERY, -1 if not open */
	pid_t pid;
	struct pl_tracer *tracer;
	bool seed_settled;	  /* no RSS update of the target while the seed was read */
	bool kernel_cut;	  /* the last smaps read stopped at its deadline */
	uint64_t inexact_at_seed; /* the kernel's count of inexact RSS updates at the seed */
	/* One slot per CPU: the fault caches as read (raw), and as the ledger takes them. */
	struct pl_fault_cache *raw_caches;
	struct pl_cached *caches;
};

/* "[heap]" stays, a path becomes its base name, nothing becomes "[anon]". */
static void vma_name(const struct pl_smaps_vma *v, char *buf, size_t len)
{
	const char *p = v->path, *base = v->path;
	size_t n = v->path_len;

	if (!p || !n) {
		snprintf(buf, len, "[anon]");
		return;
	}
	for (size_t i = 0; i < n; i++)
		if (p[i] == '/')
			base = p + i + 1;
	n -= (size_t)(base - p);
	snprintf(buf, len, "%.*s", (int)(n < len - 1 ? n : len - 1), base);
}

/* Keeps the pages of chunk idx that lie in [start, end). */
static void clip_pages(uint64_t idx, uint64_t start, uint64_t end, uint64_t pages[PL_CHUNK_WORDS])
{
	uint64_t base = idx << PL_CHUNK_SHIFT;

	for (unsigned p = 0; p < PL_CHUNK_PAGES; p++) {
		uint64_t addr = base + (uint64_t)p * 4096;

		if (addr < start || addr >= end)
			pages[p / 64] &= ~(1ull << (p % 64));
	}
}

struct seed_place {
	struct pl_range_tracker *t;
	const struct pl_smaps_vma *v;
	uint64_t placed; /* bytes */
};

static void place_chunk(void *ctx, uint64_t idx, const uint64_t present[PL_CHUNK_WORDS])
{
	struct seed_place *sp = ctx;
	uint64_t pages[PL_CHUNK_WORDS];

	memcpy(pages, present, sizeof(pages));
	clip_pages(idx, sp->v->start, sp->v->end, pages);
	pl_ranges_seed_pages(&sp->t->ranges, idx, pages);
	for (int w = 0; w < PL_CHUNK_WORDS; w++)
		sp->placed += (uint64_t)__builtin_popcountll(pages[w]) * 4096;
}

/*
 * Where a seeded mapping's resident bytes are, chunk by chunk, from
 * pagemap read in large batches; a mapping too large to read that way
 * files them at its start.
 */
static void place_seeded(struct pl_range_tracker *t, const struct pl_smaps_vma *v)
{
	uint64_t first = v->start >> PL_CHUNK_SHIFT, last = (v->end - 1) >> PL_CHUNK_SHIFT;
	struct seed_place sp = {t, v, 0};

	if (v->rss <= 0)
		return;
	/* What could not be placed (a failed read, a huge mapping) is filed at the start. */
	if ((last - first >= MAX_SEED_CHUNKS || t->pm.pagemap_fd < 0 ||
	     pl_pagemap_presence_range(&t->pm, v->start, v->end, place_chunk, &sp)) &&
	    sp.placed < (uint64_t)v->rss)
		pl_ranges_add_seeded(&t->ranges, first, (uint64_t)v->rss - sp.placed);
}

struct count_ctx {
	uint64_t start, end, bytes;
};

static void count_chunk(void *ctx, uint64_t idx, const uint64_t present[PL_CHUNK_WORDS])
{
	struct count_ctx *k = ctx;
	uint64_t pages[PL_CHUNK_WORDS];

	memcpy(pages, present, sizeof(pages));
	clip_pages(idx, k->start, k->end, pages);
	for (int w = 0; w < PL_CHUNK_WORDS; w++)
		k->bytes += (uint64_t)__builtin_popcountll(pages[w]) * 4096;
}

/* Bytes resident in [start, end) now, from pagemap: splits a segment's history at a cut. */
static int64_t resident_now(void *ctx, uint64_t start, uint64_t end)
{
	struct pl_range_tracker *t = ctx;
	struct count_ctx k = {start, end, 0};

	if (end <= start || t->pm.pagemap_fd < 0 ||
	    pl_pagemap_presence_range(&t->pm, start, end, count_chunk, &k))
		return -1;
	return (int64_t)k.bytes;
}

static void seed_vma(void *ctx, const struct pl_smaps_vma *v)
{
	struct pl_range_tracker *t = ctx;
	char name[PL_RANGE_NAME];

	vma_name(v, name, sizeof(name));
	pl_ranges_seed(&t->ranges, v->start, v->end, name, !v->path);
	place_seeded(t, v);
}

static void fold_one(void *ctx, __u64 idx, const struct pl_chunk *c);
static void fold_seg(void *ctx, __u64 idx, __u32 page, const struct pl_seg *s);
static void read_caches(struct pl_range_tracker *t);
static size_t kernel_caches(void *ctx, const struct pl_cached **out);
static bool kernel_seg(void *ctx, uint64_t idx, unsigned page, struct pl_seg *out);
static bool kernel_bounds(void *ctx, uint64_t idx, uint64_t bounds[PL_CHUNK_WORDS]);
static bool mapping_at(void *ctx, uint64_t addr, uint64_t *start, uint64_t *end);

/* The layout and what is resident (smaps, pagemap), and the kernel's figures so far. */
static int seed_once(struct pl_range_tracker *t)
{
	pl_ranges_free(&t->ranges);
	pl_ranges_init(&t->ranges);
	t->ranges.resident = resident_now;
	t->ranges.kernel_seg = kernel_seg;
	t->ranges.kernel_caches = kernel_caches;
	t->ranges.kernel_bounds = kernel_bounds;
	t->ranges.mapping_at = mapping_at;
	t->ranges.resident_ctx = t;
	pl_ranges_set_now(&t->ranges, pl_now_ns());
	if (pl_smaps_read(t->pid, seed_vma, t) < 0)
		return -1;
	pl_tracer_chunks(t->tracer, fold_one, fold_seg, t);
	read_caches(t);
	return 0;
}

static bool no_update_between(const struct pl_totals *a, const struct pl_totals *b)
{
	return a->rss_begin == b->rss_begin && a->rss_end == b->rss_end &&
	       b->rss_begin == b->rss_end;
}

#define SEED_TRIES_MAX 200
#define SEED_RETRY_NS 20000000ull /* retried for 20 ms at most: records wait meanwhile */

/*
 * The seam at attach: the kernel files faults from its baseline on, and the
 * seed reads what is resident a moment later, so a page faulted in between
 * is in both. The seed is taken with no counter update of the target from
 * before to after it (the kernel side's begin/end counts), and then every
 * fault the kernel counted so far is taken as part of it: nothing twice,
 * nothing lost. A target that never holds still for a seed is warned of.
 * After exec, what the seed found resident is the new program's own doing
 * (but for the few pages exec made): rows show it as faulted.
 */
static int open_maps(pid_t pid)
{
	char path[64];

	snprintf(path, sizeof(path), "/proc/%d/maps", (int)pid);
	return open(path, O_RDONLY | O_CLOEXEC);
}

struct pl_range_tracker *pl_range_tracker_new(pid_t pid, struct pl_tracer *tracer, bool after_exec)
{
	struct pl_range_tracker *t = calloc(1, sizeof(*t));
	struct pl_totals before, after;
	uint64_t t0 = pl_now_ns();

	if (!t)
		return NULL;
	pl_ranges_init(&t->ranges);
	t->pid = pid;
	t->tracer = tracer;
	pl_pagemap_open(&t->pm, pid);
	t->maps_fd = open_maps(pid);
	t->raw_caches = calloc((size_t)tracer->nr_cpus, sizeof(*t->raw_caches));
	t->caches = calloc((size_t)tracer->nr_cpus, sizeof(*t->caches));
	if (!t->raw_caches || !t->caches)
		goto fail;
	/* After exec the kernel marked the VMAs exec made; those since (mprotect splits) now. */
	pl_tracer_seed_bounds(tracer, pid);
	for (int i = 0; i < SEED_TRIES_MAX && !t->seed_settled; i++) {
		uint64_t seed_ns = pl_now_ns();

		pl_tracer_totals(tracer, &before);
		if (seed_once(t))
			goto fail;
		/* Records of calls that ended before it describe what the seed read. */
		t->ranges.seed_ns = seed_ns;
		pl_tracer_totals(tracer, &after);
		t->seed_settled = no_update_between(&before, &after);
		if (pl_now_ns() - t0 > SEED_RETRY_NS) /* a large seed is not read again and again */
			break;
	}
	pl_ranges_absorb_history(&t->ranges);
	t->ranges.seed_is_faulted = after_exec;
	t->inexact_at_seed = after.rss_inexact_events;
	return t;
fail:
	pl_range_tracker_free(t);
	return NULL;
}

bool pl_range_tracker_exact(const struct pl_range_tracker *t)
{
	struct pl_totals now;

	pl_tracer_totals(t->tracer, &now);
	return now.rss_inexact_events == t->inexact_at_seed;
}

void pl_range_tracker_free(struct pl_range_tracker *t)
{
	if (!t)
		return;
	pl_ranges_free(&t->ranges);
	pl_pagemap_close(&t->pm);
	if (t->maps_fd >= 0)
		close(t->maps_fd);
	free(t->raw_caches);
	free(t->caches);
	free(t);
}

bool pl_range_tracker_seed_settled(const struct pl_range_tracker *t)
{
	return t->seed_settled;
}

bool pl_range_tracker_kernel_cut(const struct pl_range_tracker *t)
{
	return t->kernel_cut;
}

bool pl_range_tracker_collapse_pending(const struct pl_range_tracker *t)
{
	return t->ranges.collapse_pending != 0;
}

size_t pl_range_tracker_n_maps(const struct pl_range_tracker *t)
{
	return pl_ranges_n_maps(&t->ranges);
}

uint64_t pl_range_tracker_alloc_failures(const struct pl_range_tracker *t)
{
	return t->ranges.alloc_failures;
}

size_t pl_range_tracker_rows(const struct pl_range_tracker *t, struct pl_range_row *rows,
			     size_t max)
{
	return pl_ranges_rows(&t->ranges, rows, max);
}

void pl_range_tracker_totals(const struct pl_range_tracker *t, struct pl_range_row *live,
			     struct pl_range_row *gone)
{
	pl_ranges_totals(&t->ranges, live, gone);
}

uint64_t pl_range_tracker_lazy_pending(const struct pl_range_tracker *t)
{
	return pl_ranges_lazy_pending(&t->ranges);
}

void pl_range_tracker_end(const struct pl_range_tracker *t, struct pl_ledger *l)
{
	l->have_ranges = true;
	l->n_ranges_top = pl_ranges_rows(&t->ranges, l->ranges_top, PL_LEDGER_RANGES);
	pl_ranges_totals(&t->ranges, &l->ranges_live, &l->ranges_gone);
	pl_ranges_grand_total(&t->ranges, &l->ranges_all);
}

static void fold_one(void *ctx, __u64 idx, const struct pl_chunk *c)
{
	struct pl_range_tracker *t = ctx;

	pl_ranges_fold_chunk(&t->ranges, idx, c);
}

static void fold_seg(void *ctx, __u64 idx, __u32 page, const struct pl_seg *s)
{
	struct pl_range_tracker *t = ctx;

	pl_ranges_fold_seg(&t->ranges, idx, page, s);
}

/* The CPUs' fault caches now, as the ledger takes them: their count, -1 if unread. */
static int caches_now(struct pl_range_tracker *t)
{
	int n = t->raw_caches && t->caches ? pl_tracer_fault_caches(t->tracer, t->raw_caches) : -1;
	int k = 0;

	for (int i = 0; i < n; i++) {
		const struct pl_fault_cache *fc = &t->raw_caches[i];

		if (!fc->chunk || !fc->faulted)
			continue;
		t->caches[k].idx = fc->chunk - 1;
		t->caches[k].lo = fc->lo;
		t->caches[k].pmin = fc->pmin;
		t->caches[k].pmax = fc->pmax;
		t->caches[k].first_ns = fc->first_ns;
		t->caches[k++].bytes = fc->faulted;
	}
	return n < 0 ? -1 : k;
}

/*
 * Read after the chunks and segments: new bounds split segments knowing
 * them, then the caches are shared by segment.
 */
static void read_caches(struct pl_range_tracker *t)
{
	int k = caches_now(t);

	pl_ranges_apply_bounds(&t->ranges, t->caches, k < 0 ? 0 : (size_t)k);
	if (k >= 0)
		pl_ranges_set_cached(&t->ranges, t->caches, (size_t)k);
}

static size_t kernel_caches(void *ctx, const struct pl_cached **out)
{
	struct pl_range_tracker *t = ctx;
	int k = caches_now(t);

	*out = t->caches;
	return k < 0 ? 0 : (size_t)k;
}

static bool kernel_seg(void *ctx, uint64_t idx, unsigned page, struct pl_seg *out)
{
	struct pl_range_tracker *t = ctx;

	return !pl_tracer_seg(t->tracer, idx, page, out);
}

static bool kernel_bounds(void *ctx, uint64_t idx, uint64_t bounds[PL_CHUNK_WORDS])
{
	struct pl_range_tracker *t = ctx;
	struct pl_chunk c;

	if (pl_tracer_chunk(t->tracer, idx, &c))
		return false;
	memcpy(bounds, c.bounds, sizeof(c.bounds));
	return true;
}

/* PROCMAP_QUERY (6.11+): one ioctl, however many mappings; false on older kernels. */
static bool mapping_at(void *ctx, uint64_t addr, uint64_t *start, uint64_t *end)
{
	struct pl_range_tracker *t = ctx;
	struct pl_map m;
	char name[8]; /* the path is not needed: a short buffer is enough */

	if (t->maps_fd < 0 || pl_maps_query(t->maps_fd, addr, &m, name, sizeof(name)) != 1 ||
	    m.start > addr)
		return false;
	*start = m.start;
	*end = m.end;
	return true;
}

static void forget_chunk(void *ctx, uint64_t idx, const uint64_t *bounds)
{
	struct pl_range_tracker *t = ctx;

	pl_tracer_forget_chunk(t->tracer, idx, (const __u64 *)bounds);
}

static void look_at_lazy_pages(struct pl_range_tracker *t)
{
	size_t max = pl_ranges_n_chunks(&t->ranges);
	uint64_t *idx = calloc(max ? max : 1, sizeof(*idx));
	size_t n =
	    idx ? pl_ranges_lazy_chunks(&t->ranges, idx, max < MAX_LAZY_LOOK ? max : MAX_LAZY_LOOK)
		: 0;
	uint64_t present[PL_CHUNK_WORDS];

	for (size_t i = 0; i < n; i++)
		if (!pl_pagemap_presence(&t->pm, idx[i], present))
			pl_ranges_set_presence(&t->ranges, idx[i], present);
	free(idx);
}

/* Which chunks of the anonymous mappings are huge pages now. */
static void look_for_collapses(struct pl_range_tracker *t, int64_t grown)
{
	size_t cap = pl_ranges_n_chunks(&t->ranges) + 64, n = 0;
	uint64_t *huge = calloc(cap, sizeof(*huge));

	for (const struct pl_mapping *m = pl_ranges_first_map(&t->ranges, 0);
	     huge && m && n < MAX_HUGE_SCAN; m = pl_ranges_next_map(&t->ranges, m)) {
		uint64_t first = (m->node.key + (1ull << PL_CHUNK_SHIFT) - 1) >> PL_CHUNK_SHIFT;

		if (!m->node.user)
			continue;
		for (uint64_t idx = first;
		     (idx + 1) << PL_CHUNK_SHIFT <= m->end && n < MAX_HUGE_SCAN; idx++) {
			if (pl_pagemap_is_huge(&t->pm, idx) != 1)
				continue;
			if (n == cap) {
				uint64_t *more = realloc(huge, 2 * cap * sizeof(*huge));

				if (!more)
					break;
				huge = more, cap *= 2;
			}
			huge[n++] = idx;
		}
	}
	pl_ranges_note_collapse(&t->ranges, huge, n, grown);
	free(huge);
}

/* File mmaps are nameless in the records: name them from maps while the process lives. */
static void name_file_mappings(struct pl_range_tracker *t)
{
	struct pl_maps maps;

	if (!pl_ranges_has_nameless(&t->ranges) || pl_maps_read(t->pid, &maps))
		return;
	for (size_t i = 0; i < maps.n; i++) {
		const struct pl_map *m = &maps.v[i];
		struct pl_smaps_vma v = {
		    .start = m->start, .end = m->end, .path = m->path, .path_len = m->path_len};
		char name[PL_RANGE_NAME];

		if (!m->path)
			continue;
		vma_name(&v, name, sizeof(name));
		pl_ranges_rename(&t->ranges, m->start, m->end, name, false);
	}
	pl_maps_free(&maps);
}

void pl_range_tracker_poll(struct pl_range_tracker *t, int64_t khugepaged_grown)
{
	pl_ranges_set_now(&t->ranges, pl_now_ns());
	pl_tracer_chunks(t->tracer, fold_one, fold_seg, t);
	read_caches(t);
	pl_ranges_end_walk(&t->ranges, forget_chunk, t);
	look_at_lazy_pages(t);
	name_file_mappings(t);
	if (khugepaged_grown || t->ranges.collapse_pending)
		look_for_collapses(t, khugepaged_grown);
}

struct kernel_read {
	struct pl_range_tracker *t;
	struct pl_kernel_view *view;
};

static void kernel_vma(void *ctx, const struct pl_smaps_vma *v)
{
	struct kernel_read *k = ctx;
	struct pl_range_tracker *t = k->t;
	char name[PL_RANGE_NAME];

	k->view->lazy_free += v->lazy_free > 0 ? v->lazy_free : 0;
	k->view->anon_huge += v->anon_huge > 0 ? v->anon_huge : 0;
	vma_name(v, name, sizeof(name));
	pl_ranges_rename(&t->ranges, v->start, v->end, name, !v->path);
	pl_ranges_set_kernel(&t->ranges, v->start, v->end, v->rss, v->lazy_free, v->anon_huge);
}

void pl_range_tracker_read_kernel(struct pl_range_tracker *t, struct pl_kernel_view *view,
				  uint64_t deadline_ns)
{
	struct kernel_read k = {.t = t, .view = view};
	bool cut = false;

	pl_ranges_clear_kernel(&t->ranges);
	view->lazy_free = view->anon_huge = 0;
	view->have_rollup = pl_smaps_read_until(t->pid, kernel_vma, &k, deadline_ns, &cut) >= 0;
	t->kernel_cut = cut;
	if (cut) { /* ranges past the cut have no kernel figures; the sums come from the rollup */
		view->lazy_free = view->anon_huge = -1;
		view->have_rollup = false;
		pl_kernel_view_read_rollup(t->pid, view);
	} else if (!view->have_rollup) {
		view->lazy_free = view->anon_huge = -1;
	}
}

/* Larger calls are left to the next walk (faults there land in the unmapped row). */
#define MAX_FOLD_CHUNKS 512

static void fold_range(struct pl_range_tracker *t, uint64_t addr, uint64_t len)
{
	uint64_t first = addr >> PL_CHUNK_SHIFT, last = (addr + len - 1) >> PL_CHUNK_SHIFT;

	if (!len || addr + len < addr || last - first >= MAX_FOLD_CHUNKS)
		return;
	pl_ranges_set_now(&t->ranges, pl_now_ns());
	pl_tracer_chunk_range(t->tracer, first, last, fold_one, fold_seg, t);
	read_caches(t);
}

void pl_range_tracker_add_syscall(struct pl_range_tracker *t, const struct pl_syscall_event *e)
{
	/*
	 * Not before an mmap: the kernel's figures are newer than the record,
	 * and faults in the new mapping would be filed under what it replaced.
	 */
	if (!(e->ret < 0 && e->ret >= -4095) &&
	    (e->sys == PL_SYS_MREMAP || e->sys == PL_SYS_MUNMAP))
		fold_range(t, e->args[0], e->args[1]);
	pl_ranges_add_syscall(&t->ranges, e);
}
