/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * Reads a Go runtime's page allocator (mheap_.pages) through a memory
 * interface and sums its bitmaps per address range: pages allocated, free
 * and not scavenged, free and scavenged; joined with residency per 4 KiB
 * page, pages free and still resident (retained). Pure: the live reader
 * (goheap.c) supplies process memory and pagemap, tests and the fuzzer a
 * fake. Everything read is the target's, so nothing is trusted: every
 * count has a cap, every structure is checked before it is followed.
 */
#ifndef PL_GOHEAP_PAGEALLOC_H
#define PL_GOHEAP_PAGEALLOC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "goheap/layout.h"
#include "goheap/view.h"

#define PL_GO_MAX_RANGES 1024	    /* inUse ranges followed */
#define PL_GO_MAX_CHUNKS (1u << 14) /* 4 MiB chunks read: a 64 GiB heap */
#define PL_GO_SYS_PAGES 1024	    /* 4 KiB pages in a chunk */

struct pl_go_mem {
	/* Copies len bytes of target memory at addr into buf. 0, or -1. */
	int (*read)(void *ctx, uint64_t addr, void *buf, size_t len);
	/* Bit i: 4 KiB page i of the chunk at base is resident. 0, or -1. */
	int (*resident)(void *ctx, uint64_t base, uint64_t bits[PL_GO_SYS_PAGES / 64]);
	/* True once the reading has taken too long (NULL: never). */
	bool (*expired)(void *ctx);
	void *ctx;
};

/*
 * Reads the page allocator of the heap at mheap (a runtime address) laid
 * out as l, into out's figures and ranges. Returns 0, or -1 with why set
 * (out->known is left to the caller).
 */
int pl_go_pagealloc_read(const struct pl_go_layout *l, uint64_t mheap, const struct pl_go_mem *m,
			 struct pl_go_heap *out, char *why, size_t whylen);

#endif
