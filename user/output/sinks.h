/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * The sinks, as one: it opens the stream the options ask for (the live
 * view, JSON Lines or text) and the files beside it (--perfetto,
 * --report), hands every event to each sink that takes it, keeps a quiet
 * sink to its summary, and tells the trace loop when a sink asks it to stop.
 */
#ifndef PL_SINKS_H
#define PL_SINKS_H

#include <stdbool.h>
#include <stdio.h>
#include "cli.h"
#include "output/metrics_http.h"
#include "output/output.h"

/* The stream, plus the file sinks. */
#define PL_MAX_SINKS 6

struct pl_sinks {
	struct pl_output out[PL_MAX_SINKS]; /* the stream first */
	int n;
	struct pl_filter filter; /* the call records they are shown (-e, --min-size, -t) */
};

/* Where the sinks write: files the caller opened (and checks, and closes). */
struct pl_sink_files {
	FILE *stream;	/* stdout or -o */
	int stream_fd;	/* its descriptor (the FILE may be a checked wrapper): the terminal's width
			 */
	FILE *perfetto; /* --perfetto, or NULL */
	FILE *report;	/* --report, or NULL */
	FILE *folded;	/* --folded, or NULL */
	FILE *pprof;	/* --pprof, or NULL */
	struct pl_metrics_http *metrics; /* --metrics' endpoint, or NULL */
};

/*
 * Opens the stream (the live view when cfg and a terminal ask for it, else
 * JSON Lines with -j, else text) and the file sinks. 0, or -1 after one
 * line on stderr.
 */
int pl_sinks_open(struct pl_sinks *s, const struct pl_sink_files *files,
		  const struct pl_config *cfg);
/* Adds a sink made by its own init; 0, or -1 when there is no room. */
int pl_sinks_add(struct pl_sinks *s, const struct pl_output *o);

void pl_sinks_begin(struct pl_sinks *s, const struct pl_run_info *info);
void pl_sinks_record(struct pl_sinks *s, const struct pl_record *r);
void pl_sinks_balance(struct pl_sinks *s, const struct pl_balance *b, uint32_t pid);
void pl_sinks_rss_change(struct pl_sinks *s, const struct pl_cause_acc *delta, uint64_t ts_ns,
			 uint32_t pid);
/* Whether any sink draws samples: building one walks the ranges, so ask first. */
bool pl_sinks_want_samples(const struct pl_sinks *s);
void pl_sinks_sample(struct pl_sinks *s, const struct pl_sample *smp);
void pl_sinks_ranges(struct pl_sinks *s, const struct pl_ranges_view *v);
void pl_sinks_summary(struct pl_sinks *s, const struct pl_ledger *l);
/* Every sink writes out what it holds and lets it go; the sinks are empty after. */
void pl_sinks_end(struct pl_sinks *s);
/* The stream's pending output, written. */
void pl_sinks_flush(struct pl_sinks *s);
/* A sink asked the run to end (the live view's q). */
bool pl_sinks_stop_requested(struct pl_sinks *s);

#endif
