/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * The Go heap as the runtime's page allocator sees it, joined with the
 * kernel's residency, at one reading: what a balance record carries as
 * go_heap. Plain data, for the ledger and the outputs.
 */
#ifndef PL_GOHEAP_VIEW_H
#define PL_GOHEAP_VIEW_H

#include <stdbool.h>
#include <stdint.h>

#define PL_GO_HEAP_RANGES 8   /* ranges a view keeps, lowest first */
#define PL_GO_HEAP_REASON 192 /* why a view is unknown, in a few words */
#define PL_GO_HEAP_VERSION 64

/* Bytes, over the allocator's in-use address ranges (each a run of 4 MiB chunks). */
struct pl_go_heap_figures {
	uint64_t inuse;		 /* pages allocated: spans, stacks, per-P page caches */
	uint64_t idle;		 /* pages free, scavenged or not (HeapIdle) */
	uint64_t released;	 /* free and scavenged: given back (HeapReleased) */
	uint64_t retained;	 /* free, not scavenged, and resident */
	uint64_t inuse_resident; /* allocated and resident */
};

struct pl_go_heap_range {
	uint64_t base, limit;
	struct pl_go_heap_figures f;
};

struct pl_go_heap {
	bool known; /* false: reason says why; the figures are zero */
	char version[PL_GO_HEAP_VERSION];
	struct pl_go_heap_figures total;
	uint32_t n_ranges; /* all of them; the first PL_GO_HEAP_RANGES are kept */
	struct pl_go_heap_range ranges[PL_GO_HEAP_RANGES];
	uint32_t inconsistent_pages; /* both allocated and scavenged: a racing reading */
	char reason[PL_GO_HEAP_REASON];
};

#endif
