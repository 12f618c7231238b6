/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * --report FILE.svg | FILE.html: one picture of the run. RSS over time
 * stacked by member, the lazily freed bytes shaded, each releasing call as a
 * marker colored by who asked, and the diagnosis as text.
 */
#ifndef PL_OUTPUT_REPORT_H
#define PL_OUTPUT_REPORT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include "ledger/ledger.h"
#include "output/output.h"

enum pl_report_kind {
	PL_REPORT_BAD = -1,
	PL_REPORT_SVG = 0,
	PL_REPORT_HTML, /* self-contained: the SVG inline, nothing fetched */
};

/* By the file name's extension (.svg, .html or .htm, any case). */
enum pl_report_kind pl_report_kind(const char *path);

/*
 * Makes o a sink drawing into f, of the kind path names. The caller opened
 * f and closes it, after the sink's end, checking every write. 0, or -1
 * after one line on stderr.
 */
int pl_output_report_init(struct pl_output *o, FILE *f, const char *path);

/* One poll's figures, as drawn. */
struct pl_report_point {
	uint64_t ts_ns;
	int64_t anon, file, shmem;
	int64_t lazy; /* lazily freed bytes pending; -1: unknown, nothing drawn */
};

/* One releasing call. */
struct pl_report_mark {
	uint64_t ts_ns;
	int cls;		/* enum pl_caller_class */
	uint32_t sys;		/* enum pl_syscall */
	long advice;		/* madvise family only */
	uint64_t len;		/* bytes the call named */
	int64_t resident_delta; /* its exact RSS change */
};

struct pl_report_data {
	const char *comm;
	const char *command; /* the command line traced, or NULL */
	uint32_t pid;
	uint64_t t0_ns;
	uint64_t wall_t0_ns; /* t0 on the wall clock, for the title */
	uint64_t t_end_ns;   /* the run's end: where the time axis stops (0: the last point) */
	const struct pl_report_point *pts; /* in time order */
	size_t n_pts;
	const struct pl_report_mark *marks;
	size_t n_marks;
	bool have_diag;
	struct pl_diagnosis diag;
};

/* Pure: the whole document for d. */
void pl_report_render(FILE *f, const struct pl_report_data *d, enum pl_report_kind kind);

#endif
