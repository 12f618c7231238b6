/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * The sinks: the event stream (a line per event for a person, JSON Lines for
 * a program, or the live view) and the files drawn beside it (--perfetto,
 * --report). sinks.h fans every event out to them.
 */
#ifndef PL_OUTPUT_H
#define PL_OUTPUT_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stddef.h>
#include "decode/decode.h"
#include "output/json.h"
#include "ledger/ledger.h"
#include "ledger/ranges.h"

#define PL_SCHEMA_VERSION 1

struct pl_run_info {
	uint32_t pid;
	const char *comm;
	uint64_t t0_ns;
	__s64 rss_start[PL_RSS_NR];
	bool spawned;	  /* started by us with -- CMD */
	char *const *cmd; /* that command's argv (NULL-terminated), else NULL */
};

/*
 * The running figures at one poll (about every 100 ms): what live views and
 * timelines draw. Cumulative counters, so a sink that skips polls loses nothing.
 */
struct pl_sample {
	uint64_t ts_ns;
	__s64 rss[PL_RSS_NR]; /* bytes, the ledger's exact running figures */
	uint64_t page_faults; /* the target's faults so far */
	uint64_t released;    /* resident bytes given back by its syscalls so far */
	int64_t lazy_pending; /* MADV_FREE'd bytes still resident; -1: unknown */
	const struct pl_range_row *top_ranges; /* largest first; valid during the call */
	int n_top_ranges;
	/* The per-range ledger's totals over what is mapped and what was unmapped, or NULL. */
	const struct pl_range_row *ranges_live, *ranges_gone;
	uint64_t lost_events;		  /* ring buffer full, untracked syscall entries */
	const struct pl_ledger *ledger;	  /* the run so far (causes, calls), or NULL */
	const struct pl_go_heap *go_heap; /* the latest reading (at most 1 s old), or NULL */
};

/*
 * Ranges a sample carries: enough for a live view to merge the pieces of
 * one region (Go maps its heap 4 MiB at a time) before it keeps the largest.
 */
#define PL_SAMPLE_TOP_RANGES 512

/* The per-range ledger at one instant. */
struct pl_ranges_view {
	const char *when; /* "attach", "interval", "end" */
	uint64_t ts_ns;
	uint32_t pid;
	const struct pl_range_row *rows;
	size_t n_rows;
	struct pl_range_row live, gone;
	bool settled; /* read with no RSS update of the target from start to end */
	bool exact;   /* no RSS update since the seed was inexact (pl_range_tracker_exact) */
};

struct pl_output;

/* What a sink does with each event. Every op is optional (NULL): none is called blind. */
struct pl_output_ops {
	/* The run starts. A quiet sink is told too, to know the run, and writes nothing. */
	void (*begin)(struct pl_output *o, const struct pl_run_info *info);
	void (*record)(struct pl_output *o, const struct pl_record *r);
	void (*balance)(struct pl_output *o, const struct pl_balance *b, uint32_t pid);
	/* One record per cause with a change since the last poll. */
	void (*rss_change)(struct pl_output *o, const struct pl_cause_acc *delta, uint64_t ts_ns,
			   uint32_t pid);
	/* Every poll's running figures. */
	void (*sample)(struct pl_output *o, const struct pl_sample *s);
	/*
	 * The per-range ledger (rows largest first, then the totals of what is
	 * mapped and of what was unmapped), at each balance.
	 */
	void (*ranges)(struct pl_output *o, const struct pl_ranges_view *v);
	void (*summary)(struct pl_output *o, const struct pl_ledger *l);
	/* After the summary: write out and release what the sink holds. */
	void (*end)(struct pl_output *o);
	/* Whether the sink asks the run to end (the live view's q key). */
	bool (*wants_stop)(struct pl_output *o);
};

struct pl_output {
	const struct pl_output_ops *ops;
	FILE *f;
	bool quiet; /* the summary only: the sinks module passes nothing else (but begin) */
	void *priv; /* the sink's own state, released by its end op */
};

/* How the text stream and the text summary are laid out. */
struct pl_text_opts {
	bool quiet;	 /* the summary only */
	bool stacks;	 /* each call's symbolized stack under it */
	bool wall_clock; /* -T: wall-clock times instead of seconds since the start */
	bool verbose;	 /* -v: the run's own counters in the summary too */
	int width;	 /* columns; 0: the terminal's, or 100 when not a terminal */
	int fd; /* the descriptor under the stream (its FILE may be a wrapper); 0: fileno */
};

/* The narrowest and the default (not a terminal) text width. */
#define PL_TEXT_MIN_WIDTH 80
#define PL_TEXT_DEFAULT_WIDTH 100

/* Each init makes o a sink; 0, or -1 after one line on stderr. */
int pl_output_text_init(struct pl_output *o, FILE *f, const struct pl_text_opts *opts);
int pl_output_json_init(struct pl_output *o, FILE *f, bool quiet);
/* --top: the live view on the terminal f, then the text summary laid out by opts. */
int pl_output_top_init(struct pl_output *o, FILE *f, const struct pl_text_opts *opts);
/* Gives the terminal back if the live view holds it. Async-signal-safe. */
void pl_output_top_restore_terminal(void);

/*
 * The width text on f gets: opts->width if set, else $COLUMNS, else the
 * terminal's, else PL_TEXT_DEFAULT_WIDTH; never under PL_TEXT_MIN_WIDTH.
 */
int pl_text_width_for(FILE *f, int fd, int asked);

/* The frame in one line, names made safe: "runtime.madvise+0x1e (/usr/bin/app)". Pure. */
struct pl_frame;
void pl_format_frame(const struct pl_frame *f, char *buf, size_t len);
/* "anon -32.0M file +4.0K", or "0". */
void pl_text_format_rss(const __s64 rss[PL_RSS_NR], char *buf, size_t len);

#endif
