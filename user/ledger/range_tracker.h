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

/*
 * The layout and what is resident now, from smaps and pagemap, with every
 * fault the kernel counted so far taken as part of it (see the seam, in
 * range_tracker.c).
 */
int pl_range_tracker_init(struct pl_range_tracker *t, pid_t pid, struct pl_tracer *tracer,
			  bool after_exec);
void pl_range_tracker_free(struct pl_range_tracker *t);
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
 * Before a call moves or unmaps [addr, addr + len): credit what the kernel
 * counted there so far, so that history travels with the pages.
 */
void pl_range_tracker_before_call(struct pl_range_tracker *t, const struct pl_syscall_event *e);
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
