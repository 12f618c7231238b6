/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * The per-range ledger: for each mapping of the target, what was mapped,
 * faulted in, advised, released, left lazily freed, reclaimed, refaulted
 * and collapsed into huge pages. Pure: fed syscall records, the kernel's
 * per-chunk aggregates and /proc readings.
 */
#ifndef PL_RANGES_H
#define PL_RANGES_H

#include <stdint.h>

#define PL_RANGE_NAME 64

/* One mapping's account, as the outputs show it. Bytes throughout. */
struct pl_range_row {
	uint64_t start, end; /* current extent; end == start once fully unmapped */
	char name[PL_RANGE_NAME]; /* "[heap]", "[anon]", a file's base name */
	uint64_t mapped;	  /* bytes mapped now */
	uint64_t faulted;	  /* resident bytes its page faults brought in */
	uint64_t advised;	  /* bytes named by releasing madvise calls */
	uint64_t released;	  /* resident bytes its syscalls gave back */
	uint64_t lazy_pending;	  /* MADV_FREE'd, still resident */
	uint64_t refaulted;	  /* released, then faulted back */
};

#endif
