/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * The text sink's parts, for the live view's summary and for the tests:
 * the event table laid out for a width, its lines, and the summary.
 */
#ifndef PL_OUTPUT_TEXT_H
#define PL_OUTPUT_TEXT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include "output/layout.h"
#include "output/output.h"

/* The event table's columns, in the order shown. */
enum pl_ev_col {
	PL_EVC_TIME,
	PL_EVC_TID,
	PL_EVC_SYSCALL,
	PL_EVC_RANGE, /* start-end, when there is room */
	PL_EVC_ADDR,  /* the start alone */
	PL_EVC_SIZE,
	PL_EVC_RSS,
	PL_EVC_CALLER,
	PL_EVC_DETAIL, /* takes the rest of the line */
	PL_EVC_NCOLS,
};

struct pl_text_events {
	struct pl_col cols[PL_EVC_NCOLS];
	struct pl_table table;
	bool short_advice; /* "DONTNEED" for "MADV_DONTNEED": a narrow line */
	bool wall_clock;
	uint64_t t0_ns;	     /* times are seconds since t0 ... */
	uint64_t wall_t0_ns; /* ... or, with wall_clock, wall-clock times from t0's */
};

/* Lays the event table out for width columns. */
void pl_text_events_layout(struct pl_text_events *ev, int width, bool wall_clock);
/* The header line and one syscall's line, without the newline. caller: a class name, or NULL. */
void pl_text_events_header(const struct pl_text_events *ev, char *buf, size_t len);
void pl_text_syscall_line(const struct pl_text_events *ev, const struct pl_syscall_event *e,
			  const char *caller, char *buf, size_t len);

/* "(end): ledger and /proc agree to the byte: anon 24.1M file 1.4M shmem 0B", or what differs. */
void pl_text_format_balance(const struct pl_balance *b, char *buf, size_t len);
/* "go heap (go1.19.8): in use ... retained ..."; false when the Go heap was not read. */
bool pl_text_format_go_heap(const struct pl_go_heap *g, char *buf, size_t len);
/* The summary, laid out for width columns; verbose adds the run's own counters. */
void pl_text_summary(FILE *f, const struct pl_ledger *l, int width, bool verbose);

#endif
