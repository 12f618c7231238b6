/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* The BPF side's lifecycle: open, configure, load, seed, attach, read. */
#ifndef PL_LOADER_H
#define PL_LOADER_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>
#include "events.h"

struct pageledger_bpf;
struct ring_buffer;
struct bpf_link;

typedef int (*pl_record_fn)(void *ctx, void *data, size_t size);

#define PL_MAX_PROGS 16
#define PL_MAX_SYS_LINKS (2 * PL_SYS_NR)

struct pl_tracer {
	struct pageledger_bpf *skel;
	struct ring_buffer *rb;
	int nr_cpus;
	unsigned int probes_skipped;
	bool bounds_unseeded;	  /* the attach-time walk of the VMAs failed: coarser ranges */
	char *vlog[PL_MAX_PROGS]; /* -v: each program's verifier statistics */
	struct bpf_link *sys_links[PL_MAX_SYS_LINKS]; /* the syscall programs, on each call */
	int n_sys_links;
};

struct pl_tracer_opts {
	pid_t tgid; /* in the initial PID namespace: what the kernel side filters on */
	int pidfd;  /* the target's pidfd, or -1 */
	uint64_t ringbuf_size;
	int verbose; /* 1: phases and verifier times; 2: libbpf's own log too */
	bool no_stacks;
	bool spawned;	      /* we started it: --until-rss-below arms once above */
	uint64_t until_above; /* --until-rss-above bytes, 0: off */
	uint64_t until_below; /* --until-rss-below bytes, 0: off */
	pl_record_fn on_record;
	void *ctx;
};

/*
 * Opens, configures, loads and attaches everything. Probes this kernel
 * lacks are skipped with a warning. Returns 0, or -1 after one line on
 * stderr.
 */
int pl_tracer_start(struct pl_tracer *t, const struct pl_tracer_opts *o);
/* Waits up to timeout_ms for records and hands each to on_record. */
int pl_tracer_poll(struct pl_tracer *t, int timeout_ms);
/* Hands over whatever is still queued, without waiting. */
int pl_tracer_drain(struct pl_tracer *t);
void pl_tracer_totals(const struct pl_tracer *t, struct pl_totals *out);
uint64_t pl_tracer_page_faults(const struct pl_tracer *t);
/* RSS changes by cause so far, summed over CPUs. 0, or -1. */
int pl_tracer_causes(const struct pl_tracer *t, struct pl_cause_acc *out);
/* The user stack stored under key, innermost first. Returns the frame count, 0 if none. */
int pl_tracer_stack(const struct pl_tracer *t, __u64 key, __u64 *ips, int max);
/*
 * Calls chunk_fn for every chunk the kernel aggregates (releases, bounds),
 * then seg_fn for every segment (faults). Returns the chunk count.
 */
typedef void (*pl_chunk_fn)(void *ctx, __u64 idx, const struct pl_chunk *c);
typedef void (*pl_seg_fn)(void *ctx, __u64 idx, __u32 page, const struct pl_seg *s);
int pl_tracer_chunks(const struct pl_tracer *t, pl_chunk_fn chunk_fn, pl_seg_fn seg_fn, void *ctx);
/* The same for chunks first..last only (those the kernel has). */
void pl_tracer_chunk_range(const struct pl_tracer *t, __u64 first, __u64 last, pl_chunk_fn chunk_fn,
			   pl_seg_fn seg_fn, void *ctx);
/* Every CPU's fault cache (nr_cpus entries in out). Returns the count, or -1. */
int pl_tracer_fault_caches(const struct pl_tracer *t, struct pl_fault_cache *out);
/* The kernel's chunk idx now: 0, or -1 if it has none. */
int pl_tracer_chunk(const struct pl_tracer *t, __u64 idx, struct pl_chunk *out);
/* The kernel's segment of chunk idx starting at page: 0, or -1 if it has none. */
int pl_tracer_seg(const struct pl_tracer *t, __u64 idx, __u32 page, struct pl_seg *out);
/*
 * Every VMA of tgid starts a segment now (a task_vma iterator): at attach,
 * and when the per-range ledger starts again after exec. A failure is noted
 * in bounds_unseeded and costs only precision.
 */
void pl_tracer_seed_bounds(struct pl_tracer *t, pid_t tgid);
/* Drops a chunk the target no longer maps, and its segments, so the maps never fill with history.
 */
void pl_tracer_forget_chunk(const struct pl_tracer *t, __u64 idx, const __u64 *bounds);
void pl_tracer_stop(struct pl_tracer *t);

#endif
