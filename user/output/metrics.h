/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * --metrics: the run's figures in the Prometheus text exposition format
 * (0.0.4), rendered from the running figures at most every
 * PL_METRICS_RENDER_NS and once more at the end, and published to the HTTP
 * endpoint (metrics_http.h), which outlives the sink so that the final
 * figures stay up after the target exits. Every sample carries the
 * target's pid and comm labels; comm, which the target picks, is made safe
 * (valid UTF-8, no control bytes) and then escaped as a label value.
 */
#ifndef PL_OUTPUT_METRICS_H
#define PL_OUTPUT_METRICS_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include "output/metrics_http.h"
#include "output/output.h"

#define PL_METRICS_RENDER_NS 200000000ull

/* What one rendering shows. Pointers may be NULL where noted. */
struct pl_metrics_view {
	uint32_t pid;
	const char *comm; /* as the target named itself: escaped here */
	bool up;	  /* the target is alive */
	const __s64 *rss; /* PL_RSS_NR bytes: the ledger's running figures */
	uint64_t page_faults;
	int64_t lazy_pending; /* MADV_FREE'd bytes still resident; -1: unknown */
	const struct pl_ledger *ledger;
	const struct pl_range_row *ranges_live, *ranges_gone; /* NULL: no per-range ledger */
	uint64_t lost_events;	     /* ring buffer full, untracked entries */
	const struct pl_go_heap *go; /* NULL or not known: no Go heap samples */
	uint64_t tracer_rss, tracer_maxrss;
	uint64_t scrapes, refused; /* the endpoint's own counts */
};

/* Pure: the exposition text of v to f. 0, or -1 when a write failed. */
int pl_metrics_render(FILE *f, const struct pl_metrics_view *v);
/* A label value as the format wants it: backslash, quote and newline escaped. */
void pl_metrics_label_value(FILE *f, const char *s);

/* Makes o a sink that publishes to http (owned by the caller). 0, or -1 after one line. */
int pl_output_metrics_init(struct pl_output *o, struct pl_metrics_http *http);

#endif
