/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * The per-range ledger: for each mapping of the target, what was mapped,
 * faulted in, advised, released, left lazily freed, reclaimed, refaulted
 * and collapsed into huge pages. Pure: fed the seed (maps, smaps), syscall
 * records, the kernel's per-chunk aggregates and page presence readings.
 *
 * Accounts are kept per segment of a 2 MiB chunk (the kernel's unit, struct
 * pl_chunk, cut where mappings start: struct pl_seg), and a mapping's row
 * sums the segments it owns: splits, partial unmaps and mremap moves need no
 * arithmetic on the rows, so nothing is counted twice, and two mappings in
 * one chunk keep their own faults. A segment wholly unmapped hands its
 * history to the "unmapped" row; a chunk nothing maps any more is dropped,
 * here and in the kernel, so memory follows what is mapped, not the history.
 * Mappings and chunks are kept in treaps: every change costs O(log n).
 */
#ifndef PL_RANGES_H
#define PL_RANGES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "events.h"
#include "util/treap.h"

#define PL_RANGE_NAME 64

/* Advice the ledger counts per range; everything else is OTHER. */
enum pl_range_advice {
	PL_RADV_DONTNEED = 0,
	PL_RADV_FREE,
	PL_RADV_PAGEOUT,
	PL_RADV_COLD,
	PL_RADV_REMOVE,
	PL_RADV_COLLAPSE,
	PL_RADV_OTHER,
	PL_RADV_NR,
};

/* One mapping's account, as the outputs show it. Bytes throughout. */
struct pl_range_row {
	uint64_t start, end;	  /* current extent (the unmapped row: 0, 0) */
	char name[PL_RANGE_NAME]; /* "[heap]", "[anon]", a file's base name */
	uint64_t mapped;	  /* bytes mapped now */
	uint64_t seeded;	  /* resident at attach (smaps Rss) */
	uint64_t faulted;	  /* resident bytes its page faults brought in (net) */
	uint64_t advised;	  /* bytes named by madvise calls, any advice */
	uint64_t advised_by[PL_RADV_NR];
	uint64_t released;     /* resident bytes its syscalls gave back */
	uint64_t lazy_pending; /* MADV_FREE'd, still resident */
	uint64_t reclaimed;    /* MADV_FREE'd, then dropped by reclaim */
	uint64_t refaulted;    /* released, then faulted back */
	uint64_t refaults;
	uint64_t refault_delay_min_ns, refault_delay_max_ns, refault_delay_mean_ns;
	uint64_t collapsed_madvise;    /* RSS MADV_COLLAPSE added */
	uint64_t collapsed_khugepaged; /* RSS khugepaged added */
	/* The kernel's own figures for the same extent (smaps), -1: not read. */
	int64_t k_rss, k_lazy_free, k_anon_huge;
};

/* Counters a segment carries that most never need: made on first use. */
struct pl_cell_more {
	uint64_t refaulted, refaults, delay_sum_ns, delay_min_ns, delay_max_ns;
	uint64_t advised_by[PL_RADV_NR];
	uint64_t collapsed_madvise, collapsed_khugepaged;
	uint64_t reclaimed;
};

/*
 * The history of one segment of a chunk: from its first page to the next
 * bound. It belongs to the mapping over its first page (else the first one
 * starting inside it); with none, it counts as unmapped.
 */
struct pl_cell {
	uint16_t start;	       /* first page in the chunk */
	bool holds_older;      /* faults from before the kernel's entry was made (a late cache) */
	int64_t faulted;       /* net bytes its faults brought in */
	uint64_t released;     /* resident bytes calls gave back here */
	uint64_t seeded_extra; /* resident at attach, place unknown */
	struct pl_seg seen;    /* the kernel's segment figures already credited */
	struct pl_cell_more *more;
};

/* MADV_FREE'd pages of a chunk, page by page: made on first use. */
struct pl_lazy {
	uint64_t lazy[PL_CHUNK_WORDS];	   /* pages MADV_FREE'd since */
	uint64_t unseen[PL_CHUNK_WORDS];   /* of those, not yet looked at */
	uint64_t resident[PL_CHUNK_WORDS]; /* found resident after the call */
};

struct pl_chunk_acc {
	struct pl_tnode node;		 /* key: address >> PL_CHUNK_SHIFT */
	uint64_t bounds[PL_CHUNK_WORDS]; /* segment starts: the kernel's and the records' */
	uint64_t
	    ahead[PL_CHUNK_WORDS]; /* bounds read from the kernel before a record brought them */
	uint64_t ahead_ns;	   /* when the last of those was read */
	uint64_t seeded_pages[PL_CHUNK_WORDS];	/* resident at attach, page by page */
	uint64_t released_seen[PL_CHUNK_WORDS]; /* the kernel's released bits, last look */
	uint64_t born_ns;			/* the kernel entry's, last look */
	int64_t spilled_seen;
	uint64_t delay_min_ns, delay_max_ns;
	struct pl_lazy *lazy;
	struct pl_cell *cells; /* sorted by start; only segments with history */
	uint16_t n_cells, cap_cells;
	bool huge;     /* a huge page at the last look */
	bool dropping; /* nothing maps it: dropped at a later walk */
	uint64_t drop_walk;
};

/* 64 bytes: a target may have 65,000 of these. */
struct pl_mapping {
	struct pl_tnode node; /* key: start; node.user: 1 if anonymous */
	uint64_t end;
	const char *name; /* interned: one copy per distinct name */
	int32_t k_rss_kib, k_lazy_free_kib, k_anon_huge_kib; /* smaps' figures; -1: not read */
};

/* Fixed-size objects in blocks, a free list through their first word: no malloc per mapping. */
struct pl_slab {
	void **blocks;
	size_t n_blocks, cap_blocks, used; /* objects handed out of the last block */
	void *free;
};

/* What the per-CPU fault caches held at the last reading, per segment. */
struct pl_cached {
	uint64_t idx;
	uint32_t lo;	     /* the segment it was cached under */
	uint32_t pmin, pmax; /* the pages faulted: a bound between them shares the bytes */
	int64_t bytes;
	uint64_t first_ns; /* its first fault */
};

struct pl_ranges {
	struct pl_treap maps; /* struct pl_mapping by start: disjoint */
	struct pl_slab map_slab;
	struct pl_treap chunks;	      /* struct pl_chunk_acc by index */
	struct pl_range_row unmapped; /* what was here and is gone */
	uint64_t heap_start;	      /* the brk heap's start, 0 if unknown */
	int64_t collapse_pending;     /* khugepaged growth no new huge page was seen for yet */
	uint64_t alloc_failures;
	uint64_t walks;		  /* kernel walks so far: paces the dropping of chunks */
	struct pl_cached *cached; /* the fault caches' bytes, last reading */
	size_t n_cached, cap_cached;
	struct pl_cached *pending; /* kernel bounds read, to split once segments are folded */
	size_t n_pending, cap_pending;
	const struct pl_cached *raw_cached; /* while bounds are applied: the caches just read */
	size_t n_raw;
	uint64_t now_ns; /* the moment of what is being applied (a walk, a call) */
	char **names;	 /* interned names */
	size_t n_names, cap_names;
	/*
	 * Optional: bytes resident now in [start, end) (pagemap). When a cut
	 * leaves a remnant inside a segment, its share of the segment's history
	 * is what it holds now; without this, the history stays with the segment.
	 */
	int64_t (*resident)(void *ctx, uint64_t start, uint64_t end);
	/*
	 * Optional, with resident: the kernel's segment at (idx, page) now
	 * (false if it has none), and its fault caches now. Records come late,
	 * so "resident now" holds faults made after the call too; what the
	 * kernel counted for the remnant since is not its share of the history.
	 */
	bool (*kernel_seg)(void *ctx, uint64_t idx, unsigned page, struct pl_seg *out);
	size_t (*kernel_caches)(void *ctx, const struct pl_cached **out);
	/* Optional, with resident: the kernel's segment bounds of chunk idx now. */
	bool (*kernel_bounds)(void *ctx, uint64_t idx, uint64_t bounds[PL_CHUNK_WORDS]);
	/*
	 * Optional, with resident: the mapping covering addr now (the kernel's
	 * own view) in [start, end); false if none does or it cannot say.
	 */
	bool (*mapping_at)(void *ctx, uint64_t addr, uint64_t *start, uint64_t *end);
	void *resident_ctx;
	uint64_t splits_unplaced; /* remnants whose share could not be read */
	uint64_t call_ns;	  /* the call being applied began then (UINT64_MAX: none) */
	uint64_t seed_ns;     /* the seed was read after this: calls that ended before are in it */
	bool seed_is_faulted; /* the seed came after exec: rows show it as faulted, not seeded */
};

void pl_ranges_init(struct pl_ranges *r);
void pl_ranges_free(struct pl_ranges *r);
/* A mapping present at attach, and where its resident bytes were then. */
int pl_ranges_seed(struct pl_ranges *r, uint64_t start, uint64_t end, const char *name, bool anon);
void pl_ranges_add_seeded(struct pl_ranges *r, uint64_t idx, uint64_t bytes);
void pl_ranges_seed_pages(struct pl_ranges *r, uint64_t idx, const uint64_t pages[PL_CHUNK_WORDS]);
/*
 * The seed holds everything resident now: history credited so far (faults
 * since the kernel's baseline) becomes part of it, taken as seen.
 */
void pl_ranges_absorb_history(struct pl_ranges *r);
/* A successful or failed syscall record: the layout and the accounts follow it. */
void pl_ranges_add_syscall(struct pl_ranges *r, const struct pl_syscall_event *e);
/*
 * The kernel's figures for chunk idx now (its bounds, released pages and
 * spilled bytes) and for one of its segments: credit what changed since the
 * last look. Segment history with no mapping over it counts as unmapped.
 */
void pl_ranges_fold_chunk(struct pl_ranges *r, uint64_t idx, const struct pl_chunk *now);
void pl_ranges_fold_seg(struct pl_ranges *r, uint64_t idx, uint32_t page, const struct pl_seg *now);
/* The moment of the reading about to be folded (CLOCK_MONOTONIC). */
void pl_ranges_set_now(struct pl_ranges *r, uint64_t now_ns);
/*
 * After a reading's chunks and segments: new kernel bounds split their
 * segments' history; raw is the fault caches read after them (their bytes
 * are no segment's history yet).
 */
void pl_ranges_apply_bounds(struct pl_ranges *r, const struct pl_cached *raw, size_t n);
/* The per-CPU fault caches' bytes now, shared by segment as the kernel will: replaces the last. */
void pl_ranges_set_cached(struct pl_ranges *r, const struct pl_cached *c, size_t n);
/*
 * After a kernel walk: chunks nothing has mapped since the walk before are
 * dropped (their history is in the unmapped row). forget() is told first,
 * with the chunk's bounds, so the kernel's entries go too.
 */
void pl_ranges_end_walk(struct pl_ranges *r,
			void (*forget)(void *ctx, uint64_t idx, const uint64_t *bounds), void *ctx);
size_t pl_ranges_n_chunks(const struct pl_ranges *r);
size_t pl_ranges_n_maps(const struct pl_ranges *r);
/* Live mappings in address order: the first at or after addr, then the next. */
const struct pl_mapping *pl_ranges_first_map(const struct pl_ranges *r, uint64_t addr);
const struct pl_mapping *pl_ranges_next_map(const struct pl_ranges *r, const struct pl_mapping *m);
/* Whether any live mapping still has a bracketed name ("[file]": nameless as yet). */
bool pl_ranges_has_nameless(const struct pl_ranges *r);
/* Whether any live mapping covers part of chunk idx. */
bool pl_ranges_chunk_mapped(const struct pl_ranges *r, uint64_t idx);
/* Chunks holding MADV_FREE'd pages (to look at their presence): fills idx, returns count. */
size_t pl_ranges_lazy_chunks(const struct pl_ranges *r, uint64_t *idx, size_t max);
/* Segment starts known for chunk idx (a mapping starts there): fills bounds. */
void pl_ranges_bounds(const struct pl_ranges *r, uint64_t idx, uint64_t bounds[PL_CHUNK_WORDS]);
/* Which of chunk idx's pages are resident now (bit per page). */
void pl_ranges_set_presence(struct pl_ranges *r, uint64_t idx,
			    const uint64_t present[PL_CHUNK_WORDS]);
/*
 * khugepaged added `grown` bytes of RSS; `huge` lists the chunks now backed
 * by a huge page. Chunks that were not before share the growth.
 */
void pl_ranges_note_collapse(struct pl_ranges *r, const uint64_t *huge, size_t n, int64_t grown);
/* The kernel's smaps figures for [start, end) (summed over its VMAs). */
void pl_ranges_set_kernel(struct pl_ranges *r, uint64_t start, uint64_t end, int64_t rss,
			  int64_t lazy_free, int64_t anon_huge);
void pl_ranges_clear_kernel(struct pl_ranges *r);
/* Renames live mappings from a fresh maps reading (file mmaps are nameless until then). */
void pl_ranges_rename(struct pl_ranges *r, uint64_t start, uint64_t end, const char *name,
		      bool anon);
/*
 * Rows for the live mappings with anything to show, ordered by what they
 * hold (seeded + faulted - released, largest first). Returns the count.
 */
size_t pl_ranges_rows(const struct pl_ranges *r, struct pl_range_row *out, size_t max);
/* Every live mapping's row summed, plus the unmapped row: the ledger's totals. */
void pl_ranges_totals(const struct pl_ranges *r, struct pl_range_row *live,
		      struct pl_range_row *gone);
/* MADV_FREE'd bytes still resident, over every mapping: no rows built. */
uint64_t pl_ranges_lazy_pending(const struct pl_ranges *r);
/* Both of those in one row: everything the run saw, mapped or not. */
void pl_ranges_grand_total(const struct pl_ranges *r, struct pl_range_row *all);
const char *pl_range_advice_name(int a);
/* What a row holds now, as its rows are ordered: seeded + faulted + collapsed - released -
 * reclaimed. */
int64_t pl_range_row_resident(const struct pl_range_row *w);
/* Adds w's figures into to; delay means are taken as sums (what unfinished rows hold). */
void pl_range_row_add(struct pl_range_row *to, const struct pl_range_row *w);

#endif
