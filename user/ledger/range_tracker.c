// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "util/grow.h"
#include "symbolize/procmaps.h"
#include "ledger/procstat.h"
#include "ledger/range_tracker.h"

/* Chunks scanned for huge pages per khugepaged poll: 128 GiB of mappings. */
#define MAX_HUGE_SCAN 65536
#define MAX_LAZY_LOOK 65536
/* Seeded mappings up to 8 GiB are placed page by page. */
#define MAX_SEED_CHUNKS 4096

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

/*
 * Where a seeded mapping's resident bytes are, chunk by chunk, from
 * pagemap; a mapping too large to read that way files them at its start.
 */
static void place_seeded(struct pl_range_tracker *t, const struct pl_smaps_vma *v)
{
	uint64_t first = v->start >> PL_CHUNK_SHIFT, last = (v->end - 1) >> PL_CHUNK_SHIFT;
	uint64_t present[PL_CHUNK_WORDS];

	if (v->rss <= 0 || !t->place_rss)
		return;
	if (last - first >= MAX_SEED_CHUNKS || t->pm.pagemap_fd < 0) {
		pl_ranges_add_seeded(&t->ranges, first, (uint64_t)v->rss);
		return;
	}
	for (uint64_t idx = first; idx <= last; idx++) {
		if (pl_pagemap_presence(&t->pm, idx, present))
			continue;
		clip_pages(idx, v->start, v->end, present);
		pl_ranges_seed_pages(&t->ranges, idx, present);
	}
}

static void seed_vma(void *ctx, const struct pl_smaps_vma *v)
{
	struct pl_range_tracker *t = ctx;
	char name[PL_RANGE_NAME];

	vma_name(v, name, sizeof(name));
	pl_ranges_seed(&t->ranges, v->start, v->end, name, !v->path);
	place_seeded(t, v);
}

int pl_range_tracker_init(struct pl_range_tracker *t, pid_t pid, const struct pl_tracer *tracer,
			  bool place_rss)
{
	memset(t, 0, sizeof(*t));
	t->place_rss = place_rss;
	pl_ranges_init(&t->ranges);
	t->pid = pid;
	t->tracer = tracer;
	pl_pagemap_open(&t->pm, pid);
	return pl_smaps_read(pid, seed_vma, t) < 0 ? -1 : 0;
}

void pl_range_tracker_free(struct pl_range_tracker *t)
{
	pl_ranges_free(&t->ranges);
	pl_pagemap_close(&t->pm);
	free(t->forget);
}

static void fold_one(void *ctx, __u64 idx, const struct pl_chunk *c)
{
	struct pl_range_tracker *t = ctx;

	pl_ranges_fold_chunk(&t->ranges, idx, c);
	if (pl_ranges_chunk_mapped(&t->ranges, idx))
		return;
	if (!pl_grow((void **)&t->forget, &t->cap_forget, t->n_forget, sizeof(*t->forget), 64))
		return; /* kept in the kernel map until the next walk */
	t->forget[t->n_forget++] = idx;
}

static void look_at_lazy_pages(struct pl_range_tracker *t)
{
	static uint64_t idx[MAX_LAZY_LOOK];
	size_t n = pl_ranges_lazy_chunks(&t->ranges, idx, MAX_LAZY_LOOK);
	uint64_t present[PL_CHUNK_WORDS];

	for (size_t i = 0; i < n; i++)
		if (!pl_pagemap_presence(&t->pm, idx[i], present))
			pl_ranges_set_presence(&t->ranges, idx[i], present);
}

/* Which chunks of the anonymous mappings are huge pages now. */
static void look_for_collapses(struct pl_range_tracker *t, int64_t grown)
{
	static uint64_t huge[MAX_HUGE_SCAN];
	size_t n = 0;

	for (size_t i = 0; i < t->ranges.n_maps && n < MAX_HUGE_SCAN; i++) {
		const struct pl_mapping *m = &t->ranges.maps[i];
		uint64_t first = (m->start + (1ull << PL_CHUNK_SHIFT) - 1) >> PL_CHUNK_SHIFT;

		if (!m->anon)
			continue;
		for (uint64_t idx = first;
		     (idx + 1) << PL_CHUNK_SHIFT <= m->end && n < MAX_HUGE_SCAN; idx++)
			if (pl_pagemap_is_huge(&t->pm, idx) == 1)
				huge[n++] = idx;
	}
	pl_ranges_note_collapse(&t->ranges, huge, n, grown);
}

/* File mmaps are nameless in the records: name them from maps while the process lives. */
static void name_file_mappings(struct pl_range_tracker *t)
{
	struct pl_maps maps;
	bool nameless = false;

	for (size_t i = 0; i < t->ranges.n_maps && !nameless; i++)
		nameless = !strcmp(t->ranges.maps[i].name, "[file]");
	if (!nameless || pl_maps_read(t->pid, &maps))
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
	t->n_forget = 0;
	pl_tracer_chunks(t->tracer, fold_one, t);
	for (size_t i = 0; i < t->n_forget; i++) {
		struct pl_chunk zero = {0};

		pl_tracer_forget_chunk(t->tracer, t->forget[i]);
		pl_ranges_fold_chunk(&t->ranges, t->forget[i],
				     &zero); /* the kernel starts again at 0 */
	}
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

void pl_range_tracker_read_kernel(struct pl_range_tracker *t, struct pl_kernel_view *view)
{
	struct kernel_read k = {.t = t, .view = view};

	pl_ranges_clear_kernel(&t->ranges);
	view->lazy_free = view->anon_huge = 0;
	view->have_rollup = pl_smaps_read(t->pid, kernel_vma, &k) >= 0;
	if (!view->have_rollup)
		view->lazy_free = view->anon_huge = -1;
}

/* Larger calls are left to the next walk (faults there land in the unmapped row). */
#define MAX_FOLD_CHUNKS 512

static void fold_chunk(void *ctx, __u64 idx, const struct pl_chunk *c)
{
	pl_ranges_fold_chunk(ctx, idx, c);
}

static void fold_range(struct pl_range_tracker *t, uint64_t addr, uint64_t len)
{
	uint64_t first = addr >> PL_CHUNK_SHIFT, last = (addr + len - 1) >> PL_CHUNK_SHIFT;

	if (!len || addr + len < addr || last - first >= MAX_FOLD_CHUNKS)
		return;
	pl_tracer_chunk_range(t->tracer, first, last, fold_chunk, &t->ranges);
}

void pl_range_tracker_before_call(struct pl_range_tracker *t, const struct pl_syscall_event *e)
{
	if (e->ret < 0 && e->ret >= -4095)
		return;
	/*
	 * Not before an mmap: the kernel's figures are newer than the record,
	 * and faults in the new mapping would be filed under what it replaced.
	 */
	if (e->sys == PL_SYS_MREMAP || e->sys == PL_SYS_MUNMAP)
		fold_range(t, e->args[0], e->args[1]);
}
