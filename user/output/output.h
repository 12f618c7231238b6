/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* Output back ends: a line per event for a person, JSON Lines for a program. */
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
	bool spawned; /* started by us with -- CMD */
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
};

/* Ranges a sample carries: what a live view has room for. */
#define PL_SAMPLE_TOP_RANGES 16

/* The per-range ledger at one instant. */
struct pl_ranges_view {
	const char *when; /* "attach", "interval", "end" */
	uint64_t ts_ns;
	uint32_t pid;
	const struct pl_range_row *rows;
	size_t n_rows;
	struct pl_range_row live, gone;
	bool settled; /* read with no RSS update of the target from start to end */
};

struct pl_output;

struct pl_output_ops {
	void (*begin)(struct pl_output *o, const struct pl_run_info *info);
	void (*record)(struct pl_output *o, const struct pl_record *r);
	void (*summary)(struct pl_output *o, const struct pl_ledger *l);
	void (*balance)(struct pl_output *o, const struct pl_balance *b, uint32_t pid);
	/* One record per cause with a change since the last poll. */
	void (*rss_change)(struct pl_output *o, const struct pl_cause_acc *delta, uint64_t ts_ns,
			   uint32_t pid);
	/* Optional (NULL): every poll's running figures. */
	void (*sample)(struct pl_output *o, const struct pl_sample *s);
	/*
	 * Optional (NULL): the per-range ledger (rows largest first, then the
	 * totals of what is mapped and of what was unmapped), at each balance.
	 */
	void (*ranges)(struct pl_output *o, const struct pl_ranges_view *v);
	/* Optional (NULL): after the summary; write out and release what the sink holds. */
	void (*end)(struct pl_output *o);
};

struct pl_output {
	const struct pl_output_ops *ops;
	FILE *f;
	uint64_t t0_ns;
	bool quiet;  /* summary only */
	bool stacks; /* full stacks under each event (text) */
	bool header_done;
	struct pl_json json;
	void *priv; /* a sink's own state */
	bool quit;  /* the sink asks the trace loop to end (the live view's q key) */
};

/* The stream on stdout or -o, plus optional file sinks (--perfetto, --report). */
#define PL_MAX_SINKS 4

void pl_output_text_init(struct pl_output *o, FILE *f, bool quiet);
/* The frame in one line: "runtime.madvise+0x1e (/usr/bin/app)". Pure. */
struct pl_frame;
void pl_format_frame(const struct pl_frame *f, char *buf, size_t len);
void pl_output_json_init(struct pl_output *o, FILE *f, bool quiet);

/* --top: the live view on the terminal f, then the text summary. 0 or -1. */
int pl_output_top_init(struct pl_output *o, FILE *f);
/* Gives the terminal back if the live view holds it. Async-signal-safe. */
void pl_output_top_restore_terminal(void);

/* One text line for a syscall record, without the newline. Pure. */
/* caller: a class name, or NULL for "-". */
void pl_text_format_syscall(const struct pl_syscall_event *e, uint64_t t0_ns, const char *caller,
			    char *buf, size_t len);
/* "anon -32.0M file +4.0K", or "0". */
void pl_text_format_rss(const __s64 rss[PL_RSS_NR], char *buf, size_t len);

#endif
