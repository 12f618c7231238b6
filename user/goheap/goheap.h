/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * The Go heap of a live process, read from outside and read-only: the
 * executable is analyzed once per exec (gobinary.c), then each reading
 * copies the page allocator's fields and bitmaps with process_vm_readv
 * and joins them with /proc/PID/pagemap (pagealloc.c).
 *
 * Touching nothing: every read must lie in readable mappings of the
 * target, and only pages pagemap says are resident are copied (a page
 * never touched reads as the zeros it holds; a swapped-out one stops the
 * reading), so no read faults a page in. Bounded: a reading copies at
 * most PL_GOHEAP_BUDGET bytes and takes at most PL_GOHEAP_TIME_MS, with
 * the chunk and range caps of pagealloc.h.
 */
#ifndef PL_GOHEAP_GOHEAP_H
#define PL_GOHEAP_GOHEAP_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>
#include "goheap/gobinary.h"
#include "goheap/view.h"
#include "ledger/pagemap.h"

#define PL_GOHEAP_BUDGET (160ull << 20) /* bytes copied or read from pagemap per reading */
#define PL_GOHEAP_TIME_MS 2000		/* longest reading */

struct pl_goheap {
	pid_t pid;
	bool verbose; /* say why a reading is null, once per reason, on stderr */
	/* The executable analyzed, by /proc/PID/exe's device and inode. */
	bool analyzed;
	uint64_t exe_dev, exe_ino;
	int status; /* enum pl_go_binary_status */
	struct pl_go_binary bin;
	uint64_t mheap; /* runtime address of mheap_ */
	char why[PL_GO_HEAP_REASON];
	char said[PL_GO_HEAP_REASON]; /* the reason last printed */
};

void pl_goheap_init(struct pl_goheap *g, pid_t pid, bool verbose);
/* One reading into out (out->known false, out->reason set, when none). */
void pl_goheap_read(struct pl_goheap *g, struct pl_go_heap *out);

#endif
