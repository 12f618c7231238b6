/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * Keeps the per-range ledger (ranges.h) fed: the seed from maps and smaps,
 * the kernel's chunk aggregates, page presence for lazily freed pages, huge
 * pages after khugepaged, and smaps for the kernel's side of the balance.
 */
#ifndef PL_RANGE_TRACKER_H
#define PL_RANGE_TRACKER_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>
#include "trace/loader.h"
#include "ledger/pagemap.h"
#include "ledger/procstat.h"
#include "ledger/ranges.h"

/* Opaque: the per-range ledger and what feeds it, owned here. */
struct pl_range_tracker;
struct pl_ledger;

/*
 * The layout and what is resident now, from smaps and pagemap, with every
 * fault the kernel counted so far taken as part of it (see the seam, in
 * range_tracker.c). NULL when the seed cannot be read or memory runs out.
 */
struct pl_range_tracker *pl_range_tracker_new(pid_t pid, struct pl_tracer *tracer, bool after_exec);
void pl_range_tracker_free(struct pl_range_tracker *t); /* NULL: nothing */
/* No RSS update of the target while the seed was read. */
bool pl_range_tracker_seed_settled(const struct pl_range_tracker *t);
/* The last smaps read stopped at its deadline. */
bool pl_range_tracker_kernel_cut(const struct pl_range_tracker *t);
/* khugepaged grew RSS and no new huge page was seen for it yet: look again soon. */
bool pl_range_tracker_collapse_pending(const struct pl_range_tracker *t);
size_t pl_range_tracker_n_maps(const struct pl_range_tracker *t);
uint64_t pl_range_tracker_alloc_failures(const struct pl_range_tracker *t);
/* The largest rows (up to max) and the totals of what is mapped and what is gone. */
size_t pl_range_tracker_rows(const struct pl_range_tracker *t, struct pl_range_row *rows,
			     size_t max);
void pl_range_tracker_totals(const struct pl_range_tracker *t, struct pl_range_row *live,
			     struct pl_range_row *gone);
/* MADV_FREE'd bytes still resident, as pagemap last showed them. */
uint64_t pl_range_tracker_lazy_pending(const struct pl_range_tracker *t);
/* The end's snapshot, into the ledger: the top rows, the totals and the grand total. */
void pl_range_tracker_end(const struct pl_range_tracker *t, struct pl_ledger *l);
/*
 * No RSS update since the seed was flagged inexact (a fold another CPU's
 * claim took, see rss.bpf.c): then every row's history is exact. After one,
 * the fault that took the fold holds it, and the history of that row and
 * of the loser's stays off by that much.
 */
bool pl_range_tracker_exact(const struct pl_range_tracker *t);
/* Folds the kernel's chunks and looks at lazily freed pages. khugepaged_grown: anon bytes
 * khugepaged added since the last call (0: skip the huge-page scan). */
void pl_range_tracker_poll(struct pl_range_tracker *t, int64_t khugepaged_grown);
/*
 * A syscall's record: first what the kernel counted so far where it moves
 * or unmaps, credited, so that history travels with the pages; then the
 * call itself, applied to the layout.
 */
void pl_range_tracker_add_syscall(struct pl_range_tracker *t, const struct pl_syscall_event *e);
/*
 * The kernel's per-mapping figures and names, from one smaps read, for the
 * balance; view gets their sums (smaps_rollup's LazyFree, AnonHugePages).
 * deadline_ns (CLOCK_MONOTONIC, 0: none) bounds the read: past it, the
 * ranges not reached have no kernel figures (kernel_cut) and the sums
 * come from smaps_rollup.
 */
void pl_range_tracker_read_kernel(struct pl_range_tracker *t, struct pl_kernel_view *view,
				  uint64_t deadline_ns);

#endif
