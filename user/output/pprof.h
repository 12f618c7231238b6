/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * --pprof FILE: a gzipped profile.proto for `go tool pprof` and other
 * readers of the format. One sample per distinct user stack, from the call
 * site up (the syscall wrappers below it are the allocator's plumbing),
 * with four values: calls, bytes advised (a releasing madvise's length),
 * resident bytes released, bytes mapped (successful mmap). Stacks past
 * PL_PPROF_MAX_STACKS are counted and named once on stderr at the end.
 */
#ifndef PL_OUTPUT_PPROF_H
#define PL_OUTPUT_PPROF_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include "output/output.h"

#define PL_PPROF_MAX_STACKS 65536

enum { PL_PPROF_CALLS, PL_PPROF_ADVISED, PL_PPROF_RELEASED, PL_PPROF_MAPPED, PL_PPROF_NVALUES };

/* Makes o a sink that writes to f at its end. 0, or -1 after one line on stderr. */
int pl_output_pprof_init(struct pl_output *o, FILE *f);

/* Pure: a call's four values. */
void pl_pprof_values(const struct pl_syscall_event *e, int64_t v[PL_PPROF_NVALUES]);

/*
 * Pure: the protobuf writer's varint, for the unit tests (at most 10 bytes
 * into out; returns how many).
 */
size_t pl_pb_varint(uint8_t *out, uint64_t v);

#endif
