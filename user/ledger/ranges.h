/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * The per-range ledger: for each mapping of the target, what was mapped,
 * faulted in, advised, released, left lazily freed, reclaimed, refaulted
 * and collapsed into huge pages. Pure: fed the seed (maps, smaps), syscall
 * records, the kernel's per-chunk aggregates and page presence readings.
 *
 * Accounts are kept per 2 MiB chunk (the kernel's unit, struct pl_chunk)
 * and a mapping's row sums the chunks it owns: splits, partial unmaps and
 * mremap moves need no arithmetic on the rows, so nothing is counted twice.
 * A chunk shared by two mappings belongs to the one holding its last fault
 * (else its lowest mapped address). A chunk wholly unmapped moves to the
 * "unmapped" row, so a later mapping at the same address starts clean.
 */
#ifndef PL_RANGES_H
#define PL_RANGES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "events.h"

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
	uint64_t faulted;	  /* resident bytes its page faults brought in */
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

struct pl_chunk_acc {
	uint64_t idx;	      /* address >> PL_CHUNK_SHIFT */
	struct pl_chunk seen; /* kernel figures already credited */
	uint64_t faulted, refaulted, refaults, delay_sum_ns, delay_min_ns, delay_max_ns;
	uint64_t last_addr;
	uint64_t seeded_pages[PL_CHUNK_WORDS]; /* resident at attach, page by page */
	uint64_t seeded_extra;		       /* resident at attach, place unknown */
	uint64_t advised_by[PL_RADV_NR];
	uint64_t released;
	uint64_t collapsed_madvise, collapsed_khugepaged;
	uint64_t lazy[PL_CHUNK_WORDS];		/* pages MADV_FREE'd since */
	uint64_t lazy_unseen[PL_CHUNK_WORDS];	/* of those, not yet looked at */
	uint64_t lazy_resident[PL_CHUNK_WORDS]; /* found resident after the call */
	uint64_t lazy_pending;			/* bytes, at the last look */
	uint64_t reclaimed;
	bool huge; /* a huge page at the last look */
};

struct pl_mapping {
	uint64_t start, end;
	char name[PL_RANGE_NAME];
	bool anon;
	int64_t k_rss, k_lazy_free, k_anon_huge;
};

struct pl_ranges {
	struct pl_mapping *maps; /* sorted by start, disjoint */
	size_t n_maps, cap_maps;
	struct pl_chunk_acc *chunks; /* sorted by idx */
	size_t n_chunks, cap_chunks;
	struct pl_range_row unmapped; /* what was here and is gone */
	uint64_t heap_start;	      /* the brk heap's start, 0 if unknown */
	int64_t collapse_pending;     /* khugepaged growth no new huge page was seen for yet */
	uint64_t alloc_failures;
};

void pl_ranges_init(struct pl_ranges *r);
void pl_ranges_free(struct pl_ranges *r);
/* A mapping present at attach, and where its resident bytes were then. */
int pl_ranges_seed(struct pl_ranges *r, uint64_t start, uint64_t end, const char *name, bool anon);
void pl_ranges_add_seeded(struct pl_ranges *r, uint64_t idx, uint64_t bytes);
void pl_ranges_seed_pages(struct pl_ranges *r, uint64_t idx, const uint64_t pages[PL_CHUNK_WORDS]);
/* A successful or failed syscall record: the layout and the accounts follow it. */
void pl_ranges_add_syscall(struct pl_ranges *r, const struct pl_syscall_event *e);
/*
 * The kernel's figures for chunk idx now: credits what changed since the
 * last look. What lands on a chunk nothing maps goes to the unmapped row.
 */
void pl_ranges_fold_chunk(struct pl_ranges *r, uint64_t idx, const struct pl_chunk *now);
/* Whether any live mapping covers part of chunk idx. */
bool pl_ranges_chunk_mapped(const struct pl_ranges *r, uint64_t idx);
/* Chunks holding MADV_FREE'd pages (to look at their presence): fills idx, returns count. */
size_t pl_ranges_lazy_chunks(const struct pl_ranges *r, uint64_t *idx, size_t max);
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
