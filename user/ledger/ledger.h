/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * The run's arithmetic: per syscall and per advice, calls, bytes requested
 * and RSS released or gained; plus the RSS story the kernel side kept.
 * Pure: fed decoded records and kernel totals, read by the outputs.
 */
#ifndef PL_LEDGER_H
#define PL_LEDGER_H

#include <stdbool.h>
#include <stdint.h>
#include "events.h"
#include "goheap/view.h"
#include "ledger/procstat.h"
#include "ledger/ranges.h"

/* The ledger's RSS beside the kernel's own, at one instant. */
struct pl_balance {
	const char *when; /* "attach", "interval", "end" */
	uint64_t ts_ns;
	__s64 ledger[PL_RSS_NR];
	struct pl_kernel_view kernel;
	__s64 diff[PL_RSS_NR]; /* ledger - kernel, per member */
	/*
	 * No counter update began or ended while the kernel's figures were
	 * read: only then is diff a statement about the ledger, not timing.
	 */
	bool settled;
	/*
	 * seed + exec + calls + causes + lost + in flight - ledger, per member:
	 * 0 when every change is accounted once (pl_ledger_closure).
	 */
	bool have_closure;
	__s64 closure[PL_RSS_NR];
	struct pl_go_heap go_heap; /* the Go runtime's page allocator, read from outside */
};

/* Advice values 0..127 get their own row; the rest share the last one. */
#define PL_ADVICE_SLOTS 128

struct pl_stat {
	uint64_t calls;
	uint64_t errors;
	uint64_t bytes;	       /* bytes the successful calls named */
	uint64_t rss_released; /* resident bytes that went away, summed per call */
	uint64_t rss_gained;   /* resident bytes that arrived, summed per call */
	__s64 rss_delta[PL_RSS_NR];
};

/* Advised and released bytes by caller class, syscall and advice. */
struct pl_class_row {
	int cls; /* enum pl_caller_class */
	uint32_t sys;
	unsigned int advice_slot;
	struct pl_stat st;
};

#define PL_MAX_CLASS_ROWS 256
/* Ranges the summary keeps: the largest, in the order pl_ranges_rows gives. */
#define PL_LEDGER_RANGES 20
#define PL_MAX_SITES 4096
#define PL_SITE_NAME 160

/* One call site and one syscall: the first frame past the syscall plumbing. */
struct pl_site_row {
	char func[PL_SITE_NAME];
	char module[PL_SITE_NAME];
	int cls;
	uint32_t sys; /* one syscall a row, so that its bytes are of one kind */
	struct pl_stat st;
};

struct pl_ledger {
	uint32_t pid;
	uint64_t t_start_ns, t_end_ns;
	struct pl_stat stats[PL_SYS_NR][PL_ADVICE_SLOTS];
	uint64_t events;      /* records decoded */
	uint64_t bad_records; /* records that failed validation */
	uint64_t page_faults;
	__s64 rss_start[PL_RSS_NR];
	__s64 rss_end[PL_RSS_NR];
	__s64 rss_peak[PL_RSS_NR];
	int64_t rss_peak_total;
	__s64 rss_other_delta[PL_RSS_NR];
	uint64_t rss_other_updates;
	__s64 rss_exit_delta[PL_RSS_NR];
	uint64_t lost_events;
	uint64_t inflight_drops;
	uint64_t stacks_dropped; /* callers unknown: the stacks map was full */
	bool exited;
	int exit_status; /* raw wait status */
	bool have_exit_rss;
	__s64 exit_rss[PL_RSS_NR];
	uint64_t execs;
	struct pl_class_row class_rows[PL_MAX_CLASS_ROWS];
	int n_class_rows;
	struct pl_site_row *sites; /* grows on demand; pl_ledger_free */
	int n_sites, cap_sites;
	uint64_t sites_dropped;	    /* calls whose site did not fit */
	struct pl_cause_acc causes; /* RSS changes outside syscalls, by cause, so far */
	struct pl_balance last_balance;
	bool have_balance;
	uint64_t balances_off; /* readings where ledger and kernel differed */
	/* The per-range ledger at the end: its largest rows and its totals. */
	bool have_ranges;
	struct pl_range_row ranges_top[PL_LEDGER_RANGES];
	size_t n_ranges_top;
	struct pl_range_row ranges_live, ranges_gone, ranges_all;
	uint64_t chunks_dropped, marks_truncated;
	/* The closing identity (pl_ledger_closure) and the races it may carry. */
	__s64 seed_start[PL_RSS_NR]; /* the baseline at attach, before any exec */
	__s64 exec_adjust[PL_RSS_NR];
	__s64 lost_delta[PL_RSS_NR];
	__s64 inflight_delta[PL_RSS_NR];
	__s64 closure_end[PL_RSS_NR];
	uint64_t rss_inexact_calls;  /* calls whose figure a concurrent fold may have moved */
	uint64_t rss_inexact_events; /* counter updates of that kind, calls or causes */
	uint64_t robbed_folds;	     /* folds found taken by another CPU's claim */
	uint64_t rss_inexact_late;   /* emitted calls such a fold may be in, unflagged */
	uint64_t stacks_captured;
	uint64_t tracer_maxrss; /* bytes: pageledger's own peak RSS (VmHWM) */
	/* The run's own losses and costs, for the summary (main.c copies them in). */
	uint64_t ranges_alloc_failures; /* range rows or chunks that found no memory */
	unsigned int probes_skipped;	/* tracepoints this kernel lacks */
	uint64_t symbol_cache_hits, symbol_cache_misses;
};

void pl_ledger_init(struct pl_ledger *l, uint32_t pid, uint64_t t_start_ns);
/* Row index for an advice value. */
unsigned int pl_advice_slot(long advice);
void pl_ledger_add_syscall(struct pl_ledger *l, const struct pl_syscall_event *e);
void pl_ledger_add_exec(struct pl_ledger *l, const struct pl_exec_event *e);
void pl_ledger_add_exit(struct pl_ledger *l, const struct pl_exit_event *e);
/* Copies the kernel's totals in; call once tracing is over. */
void pl_ledger_finish(struct pl_ledger *l, const struct pl_totals *t, uint64_t page_faults,
		      uint64_t t_end_ns);
/*
 * Files a syscall under its caller class and call site (func/module may be
 * NULL when unknown).
 */
void pl_ledger_add_caller(struct pl_ledger *l, const struct pl_syscall_event *e, int cls,
			  const char *func, const char *module);
/* Bytes advised with MADV_FREE (madvise and process_madvise), and RSS those calls released. */
void pl_ledger_lazy_free(const struct pl_ledger *l, uint64_t *advised, uint64_t *released);
/* Sites sorted by bytes requested, largest first. */
void pl_ledger_sort_sites(struct pl_ledger *l);
void pl_ledger_free(struct pl_ledger *l);
const char *pl_cause_name(int cause);
/*
 * Takes the kernel's running sums by cause, splits anon drops paired with
 * swap-entry growth into swap-out, and writes into delta what changed since
 * the last call. Returns true if anything did.
 */
bool pl_ledger_update_causes(struct pl_ledger *l, const struct pl_cause_acc *now,
			     struct pl_cause_acc *delta);
/* Fills b->diff from b->ledger and b->kernel, and keeps b as the latest. */
void pl_ledger_add_balance(struct pl_ledger *l, struct pl_balance *b);
/* The attach-time baseline: where the closing identity starts. */
void pl_ledger_set_seed(struct pl_ledger *l, const __s64 rss[PL_RSS_NR]);
/*
 * The closing identity, per member, against the kernel side's totals t:
 * seed + exec adjustments + every call record taken + every cause so far +
 * calls lost + calls in flight - t->rss_cur. All zeros when nothing was
 * counted twice or missed; meaningful when t was read settled and every
 * record submitted before it was taken.
 */
void pl_ledger_closure(const struct pl_ledger *l, const struct pl_totals *t, __s64 out[PL_RSS_NR]);
bool pl_rss_zero(const __s64 v[PL_RSS_NR]);
/*
 * Why RSS is above what the process still uses, in bytes per cause, at the
 * end of the run: from the kernel's own figures when the target is alive
 * (the last balance), else from the ledger.
 */
struct pl_diagnosis {
	bool from_kernel;
	int64_t resident;   /* anon + file + shmem */
	int64_t in_use;	    /* anon not accounted for below: mapped and touched */
	int64_t lazy_free;  /* MADV_FREE'd, not yet reclaimed; -1: unknown (process gone) */
	int64_t thp_filled; /* holes filled by khugepaged or MADV_COLLAPSE */
	int64_t anon_huge;  /* AnonHugePages (kernel view only, else -1) */
	int64_t file, shmem, swap;
	int64_t churn;		 /* refaulted after release; -1: not measured */
	uint64_t churn_refaults; /* faults that were refaults */
	uint64_t churn_delay_min_ns, churn_delay_mean_ns;
	/*
	 * in_use split by the Go heap at the end balance: resident
	 * pages the runtime has allocated, resident pages free in its eyes and
	 * not yet scavenged, and the rest (non-heap anon, runtime metadata).
	 */
	bool go_known;
	int64_t go_inuse, go_retained, go_other;
	uint64_t go_scavenged; /* bytes the background scavenger released in the run */
	char go_hint[640];     /* pl_diagnosis_go_hint's text, for the rows */
};
void pl_diagnose(const struct pl_ledger *l, struct pl_diagnosis *d);
/*
 * The hint on what lowers the Go heap's retained bytes, with the figures
 * that motivate it, into buf. False (buf untouched) when there is no
 * retained heap worth a hint (under 1 MiB).
 */
bool pl_diagnosis_go_hint(const struct pl_diagnosis *d, char *buf, size_t len);
/*
 * The same while the run goes on, from its running figures: the ledger's
 * RSS now, the lazily freed bytes pending (-1: unknown) and the latest Go
 * heap reading (NULL or not known: no Go rows). No churn or hint yet.
 */
void pl_diagnose_now(const struct pl_ledger *l, const __s64 rss[PL_RSS_NR], int64_t lazy_pending,
		     const struct pl_go_heap *go, struct pl_diagnosis *d);

/* How a diagnosis row relates to the resident bytes. */
enum pl_diag_kind {
	PL_DIAG_PART,	  /* a share of them: the parts add up to the resident bytes */
	PL_DIAG_OF_WHICH, /* a part of the parts above, not one more */
	PL_DIAG_APART,	  /* not resident at all (swap) */
	PL_DIAG_OVER_RUN, /* summed over the run: never a share of what is resident now */
};

/* One line of the diagnosis, as every output shows it. */
struct pl_diag_row {
	const char *key;   /* the JSON field */
	const char *label; /* "MADV_FREE'd, not yet reclaimed" */
	const char *brief; /* "MADV_FREE'd": for one-line layouts */
	enum pl_diag_kind kind;
	int64_t bytes;	     /* -1: unknown */
	const char *unknown; /* why, when unknown */
	const char *hint;    /* what to do about it, shown when bytes > 0; or NULL */
};

#define PL_DIAG_ROWS 11
/*
 * The diagnosis as rows, in the order shown: the parts of the resident
 * bytes, then what is apart from them. Rows that do not apply (no huge-page
 * figure from /proc) are left out. Returns the count.
 */
int pl_diagnosis_rows(const struct pl_diagnosis *d, struct pl_diag_row rows[PL_DIAG_ROWS]);
/* Sum over every row: the totals line. */
void pl_ledger_total(const struct pl_ledger *l, struct pl_stat *out);
int64_t pl_rss_total(const __s64 rss[PL_RSS_NR]);

#endif
