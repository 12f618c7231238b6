/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * --folded FILE: folded stacks, one line per distinct user stack, root
 * first, the syscall and advice as the leaf frame, then its weight:
 *
 *   main;serve;free;[madvise MADV_DONTNEED] 33554432
 *
 * for flamegraph.pl, speedscope and inferno. Weighted by the resident bytes
 * the calls released, or (--folded-by mapped) by the bytes mmap mapped.
 * Calls of weight 0 add nothing; stacks past PL_FOLDED_MAX_STACKS are
 * counted and named once on stderr at the end.
 */
#ifndef PL_OUTPUT_FOLDED_H
#define PL_OUTPUT_FOLDED_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include "output/output.h"

#define PL_FOLDED_MAX_STACKS 65536
#define PL_FOLDED_LINE 4096 /* a stack's text, frames cut past it */

enum pl_folded_weight {
	PL_FOLDED_RELEASED, /* resident bytes that left RSS in the call */
	PL_FOLDED_MAPPED,   /* bytes a successful mmap mapped */
};

/* Makes o a sink that writes to f at its end. 0, or -1 after one line on stderr. */
int pl_output_folded_init(struct pl_output *o, FILE *f, enum pl_folded_weight by);

/*
 * Pure: a call's stack as folded text into buf (root first, frames made
 * safe: no ';', no control bytes), and the call's weight.
 */
size_t pl_folded_stack(const struct pl_record *r, char *buf, size_t len);
uint64_t pl_folded_weight(const struct pl_syscall_event *e, enum pl_folded_weight by);

#endif
