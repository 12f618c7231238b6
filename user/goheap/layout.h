/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * Where the Go runtime keeps its page allocator, per Go release, on
 * linux/amd64: the few offsets the reader needs, from the runtime's own
 * sources (runtime/mheap.go, mpagealloc.go, mpallocbits.go) and checked
 * against the DWARF of real binaries of that release. A release without an
 * entry is not read: its layout was never checked.
 *
 *   mheap_.pages              pageAlloc
 *   pageAlloc.chunks          [1<<13]*[1<<13]pallocData, by chunk index
 *   pageAlloc.start, .end     chunkIdx: the chunks the allocator knows
 *   pageAlloc.inUse.ranges    []addrRange{base, limit}: the heap's ranges
 *   pageAlloc.inUse.totalBytes  their sum, a check on the rest
 *   pallocData                pallocBits [8]uint64 (allocated), then
 *                             scavenged [8]uint64, one bit per 8 KiB page
 */
#ifndef PL_GOHEAP_LAYOUT_H
#define PL_GOHEAP_LAYOUT_H

#include <stddef.h>
#include <stdint.h>

/* The runtime's constants on 64-bit Linux (heapAddrBits 48), unchanged since Go 1.14. */
#define PL_GO_PAGE_SIZE 8192ull		       /* the runtime's page */
#define PL_GO_CHUNK_PAGES 512u		       /* pallocChunkPages */
#define PL_GO_CHUNK_BYTES (4ull << 20)	       /* pallocChunkBytes */
#define PL_GO_CHUNK_WORDS 8u		       /* uint64 words of one chunk's bitmap */
#define PL_GO_L2_BITS 13u		       /* pallocChunksL2Bits */
#define PL_GO_L1_ENTRIES (1u << 13)	       /* 1 << pallocChunksL1Bits */
#define PL_GO_ARENA_BASE 0xffff800000000000ull /* arenaBaseOffset on amd64 */

struct pl_go_layout {
	int major, minor;      /* the release: 1, 19 */
	uint32_t pages;	       /* offsetof(mheap, pages) */
	uint32_t chunks;       /* offsetof(pageAlloc, chunks) */
	uint32_t start, end;   /* offsetof(pageAlloc, start), (..., end) */
	uint32_t in_use;       /* offsetof(pageAlloc, inUse): its ranges slice comes first */
	uint32_t in_use_total; /* offsetof(pageAlloc, inUse.totalBytes) */
	uint32_t palloc_size;  /* sizeof(pallocData) */
	uint32_t scavenged;    /* offsetof(pallocData, scavenged) */
	uint32_t range_size;   /* sizeof(addrRange) */
};

/*
 * Parses "go1.19.8", "go1.24rc1", "go1.25-20250209-RC00" into major and
 * minor. Returns 0, or -1 if s does not start like a Go release.
 */
int pl_go_parse_version(const char *s, int *major, int *minor);
/* The entry for a release, or NULL if its layout is not known. */
const struct pl_go_layout *pl_go_layout_for(int major, int minor);
/* "1.19, 1.24": the releases with an entry, for messages. */
const char *pl_go_layouts_known(void);

#endif
