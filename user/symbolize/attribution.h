/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * Turns a syscall record's stack id and stack-pointer word into symbolized
 * frames and a caller class. Runs when a record is printed, never in the
 * kernel: tracing does not wait for symbols.
 */
#ifndef PL_ATTRIBUTION_H
#define PL_ATTRIBUTION_H

#include "symbolize/callers.h"
#include "events.h"
#include "symbolize/symbolizer.h"

#define PL_MAX_FRAMES 64

struct pl_caller {
	enum pl_caller_class cls;
	int nframes;
	int site; /* index of the call site in frames, or -1 */
	struct pl_frame frames[PL_MAX_FRAMES];
};

struct pl_tracer;

struct pl_caller_cache_entry;

struct pl_attributor {
	const struct pl_tracer *tracer;
	struct pl_symbolizer *sym;
	/* A storm repeats one stack: resolve it once. Direct-mapped by key hash. */
	struct pl_caller_cache_entry *cache;
	uint64_t cache_hits, cache_misses;
};

int pl_attributor_init(struct pl_attributor *a, const struct pl_tracer *tracer, pid_t target);
void pl_attribute(struct pl_attributor *a, const struct pl_syscall_event *e, struct pl_caller *out);
/* pid exec'd: its mappings are read at once, and cached callers forgotten. */
void pl_attributor_exec(struct pl_attributor *a, pid_t pid);
void pl_attributor_free(struct pl_attributor *a);

#endif
