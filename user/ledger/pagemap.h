/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * Which pages of the target are resident, and which are huge, read from
 * /proc/PID/pagemap and /proc/kpageflags (root). Reading them walks page
 * tables; it faults nothing in and changes nothing in the process.
 */
#ifndef PL_PAGEMAP_H
#define PL_PAGEMAP_H

#include <stdint.h>
#include <sys/types.h>
#include "events.h"

struct pl_pagemap {
	int pagemap_fd;	   /* -1: not open */
	int kpageflags_fd; /* -1: unavailable (no huge-page detection) */
};

int pl_pagemap_open(struct pl_pagemap *p, pid_t pid);
void pl_pagemap_close(struct pl_pagemap *p);
/* Bit per page of chunk idx: resident now. 0, or -1. */
int pl_pagemap_presence(const struct pl_pagemap *p, uint64_t idx, uint64_t present[PL_CHUNK_WORDS]);
/*
 * Presence over [start, end), read in large batches: fn gets each chunk's
 * bits, only pages of the range set. 0, or -1.
 */
typedef void (*pl_presence_fn)(void *ctx, uint64_t idx, const uint64_t present[PL_CHUNK_WORDS]);
int pl_pagemap_presence_range(const struct pl_pagemap *p, uint64_t start, uint64_t end,
			      pl_presence_fn fn, void *ctx);
/* 1 if chunk idx is backed by one huge page now, 0 if not, -1 if unknown. */
int pl_pagemap_is_huge(const struct pl_pagemap *p, uint64_t idx);

#endif
