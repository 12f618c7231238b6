/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * --perfetto FILE: a Chrome JSON trace (Trace Event Format) that the Perfetto
 * UI and chrome://tracing open. Counter tracks for the running figures, a
 * complete ("X") event per memory syscall on its thread's track.
 */
#ifndef PL_OUTPUT_PERFETTO_H
#define PL_OUTPUT_PERFETTO_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include "output/output.h"

/*
 * Makes o a sink writing to f. The caller opened f and closes it, after
 * the sink's end, checking every write. 0, or -1 after one line on stderr.
 */
int pl_output_perfetto_init(struct pl_output *o, FILE *f);

/*
 * Pure formatting, one event per call, each a JSON object on its own line
 * preceded by a comma unless *first. Timestamps are microseconds since t0_ns.
 */
struct pl_perfetto_fmt {
	FILE *f;
	uint64_t t0_ns;
	bool first;
};

void pl_perfetto_header(struct pl_perfetto_fmt *p);
void pl_perfetto_footer(struct pl_perfetto_fmt *p);
/* "M" process_name / thread_name metadata. tid 0: the process. */
void pl_perfetto_name(struct pl_perfetto_fmt *p, uint32_t pid, uint32_t tid, const char *name);
/* An "X" event for the call. caller_class: a JSON class name, or NULL. */
void pl_perfetto_syscall(struct pl_perfetto_fmt *p, const struct pl_syscall_event *e,
			 const char *caller_class);
/* A process-scoped instant ("i") event, e.g. exec and exit. */
void pl_perfetto_instant(struct pl_perfetto_fmt *p, const char *name, uint32_t pid, uint32_t tid,
			 uint64_t ts_ns);
/*
 * The counters at one poll. prev: the previous sample (for the fault rate),
 * or NULL for the first one, which then has no rate.
 */
void pl_perfetto_sample(struct pl_perfetto_fmt *p, uint32_t pid, const struct pl_sample *s,
			const struct pl_sample *prev);

#endif
