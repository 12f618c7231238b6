/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * The live view's state and its screen, without a terminal: fed records'
 * released bytes and per-poll samples, it keeps one-second rates and
 * histories and lays them out as lines that fit a given size. Pure.
 */
#ifndef PL_TOP_VIEW_H
#define PL_TOP_VIEW_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "symbolize/callers.h"
#include "ledger/ledger.h"
#include "ledger/ranges.h"

#define PL_TOP_HISTORY 120 /* seconds of history kept for the sparklines */
#define PL_TOP_MAX_ROWS 100
#define PL_TOP_MAX_COLS 300
/* Three bytes per column: the sparkline's block characters are U+2581..U+2588. */
#define PL_TOP_LINE_BYTES (PL_TOP_MAX_COLS * 3 + 1)
#define PL_TOP_MAX_RANGES 32
/* Ranges a sample may bring, before neighbours are merged: PL_SAMPLE_TOP_RANGES. */
#define PL_TOP_MERGE_RANGES 512
#define PL_TOP_CLASS_ROWS 4 /* caller classes shown, busiest first */

/* The last PL_TOP_HISTORY values, one a second. */
struct pl_top_series {
	int64_t v[PL_TOP_HISTORY];
	int n;	  /* values held, up to PL_TOP_HISTORY */
	int next; /* where the next value goes */
};

struct pl_top_state {
	uint32_t pid;
	char comm[16];
	uint64_t t0_ns;
	bool utf8; /* block characters; otherwise an ASCII ramp */

	/* Cumulative, as of the last sample or record. */
	__s64 rss[PL_RSS_NR];
	uint64_t faults;
	uint64_t released;
	uint64_t class_released[PL_CALLER_NR];
	uint64_t advised, class_advised[PL_CALLER_NR]; /* bytes releasing madvises named */
	int64_t lazy_pending;			       /* -1: unknown */
	uint64_t now_ns;

	/* Per-second figures, from the last tick. */
	int ticks; /* 0: no full second yet, rates unknown */
	uint64_t tick_ns;
	uint64_t tick_faults, tick_released, tick_class[PL_CALLER_NR];
	uint64_t tick_advised, tick_class_advised[PL_CALLER_NR];
	double faults_rate, released_rate, class_rate[PL_CALLER_NR];
	double advised_rate, class_advised_rate[PL_CALLER_NR];
	struct pl_top_series rss_hist[PL_RSS_NR];
	struct pl_top_series faults_hist;

	/* A copy, neighbours merged: the sample's rows are valid only during its call. */
	struct pl_range_row ranges[PL_TOP_MAX_RANGES];
	int n_ranges;
	struct pl_range_row merging[PL_TOP_MERGE_RANGES];

	/* Why RSS is what it is now: the rows every output shows. */
	bool have_diag;
	struct pl_diagnosis diag;
};

struct pl_top_screen {
	int n;
	char line[PL_TOP_MAX_ROWS][PL_TOP_LINE_BYTES];
};

void pl_top_init(struct pl_top_state *s, uint32_t pid, const char *comm, uint64_t t0_ns, bool utf8);
/*
 * A releasing syscall, by its caller's class: the bytes it advised (a
 * releasing madvise's length, else 0) and the resident bytes it gave back.
 */
void pl_top_add_release(struct pl_top_state *s, enum pl_caller_class cls, uint64_t advised,
			uint64_t freed);
/* The diagnosis of the running figures, drawn from now on. */
void pl_top_set_diagnosis(struct pl_top_state *s, const struct pl_diagnosis *d);
/*
 * Takes a poll's figures. Returns true when a second has passed since the
 * last tick: the rates and histories moved on and the screen is due.
 */
bool pl_top_sample(struct pl_top_state *s, uint64_t ts_ns, const __s64 rss[PL_RSS_NR],
		   uint64_t faults, uint64_t released, int64_t lazy_pending,
		   const struct pl_range_row *ranges, int n_ranges);

/* Lays the state out on a cols x rows screen: no line wider, no more lines. */
void pl_top_render(const struct pl_top_state *s, int cols, int rows, struct pl_top_screen *out);

void pl_top_series_push(struct pl_top_series *h, int64_t v);
/*
 * The last width values of h as a sparkline, newest on the right, scaled
 * to the largest shown; padded on the left while the history is short.
 */
void pl_top_sparkline(const struct pl_top_series *h, int width, bool utf8, char *buf, size_t len);
/* "950", "10.2K", "3.4M", "1.2G": decimal units for counts. */
void pl_top_format_count(double v, char *buf, size_t len);
/* "40.0M/s" (binary units), or "-" when the rate is not known yet. */
void pl_top_format_rate(double bytes_per_s, bool known, char *buf, size_t len);

#endif
