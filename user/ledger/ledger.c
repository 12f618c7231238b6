// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "decode/decode.h"
#include "ledger/ledger.h"
#include "symbolize/callers.h"

void pl_ledger_init(struct pl_ledger *l, uint32_t pid, uint64_t t_start_ns)
{
	memset(l, 0, sizeof(*l));
	l->pid = pid;
	l->t_start_ns = t_start_ns;
}

unsigned int pl_advice_slot(long advice)
{
	if (advice < 0 || advice >= PL_ADVICE_SLOTS - 1)
		return PL_ADVICE_SLOTS - 1;
	return (unsigned int)advice;
}

/* One call's contribution to a row. */
static void stat_add(struct pl_stat *s, const struct pl_syscall_event *e)
{
	int64_t resident;

	s->calls++;
	if (pl_syscall_failed(e))
		s->errors++;
	else
		s->bytes += pl_syscall_len(e);
	for (int m = 0; m < PL_RSS_NR; m++)
		s->rss_delta[m] += e->rss_delta[m];
	resident = pl_resident_delta(e->rss_delta);
	if (resident < 0)
		s->rss_released += (uint64_t)-resident;
	else
		s->rss_gained += (uint64_t)resident;
}

static unsigned int advice_slot_of(const struct pl_syscall_event *e)
{
	return pl_syscall_has_advice(e->sys) ? pl_advice_slot(pl_syscall_advice(e)) : 0;
}

void pl_ledger_add_syscall(struct pl_ledger *l, const struct pl_syscall_event *e)
{
	if (e->sys >= PL_SYS_NR)
		return;
	l->events++;
	stat_add(&l->stats[e->sys][advice_slot_of(e)], e);
}

static struct pl_stat *class_row(struct pl_ledger *l, int cls, uint32_t sys, unsigned int slot)
{
	struct pl_class_row *r;

	for (int i = 0; i < l->n_class_rows; i++) {
		r = &l->class_rows[i];
		if (r->cls == cls && r->sys == sys && r->advice_slot == slot)
			return &r->st;
	}
	if (l->n_class_rows >= PL_MAX_CLASS_ROWS)
		return NULL;
	r = &l->class_rows[l->n_class_rows++];
	r->cls = cls;
	r->sys = sys;
	r->advice_slot = slot;
	return &r->st;
}

static struct pl_site_row *site_row(struct pl_ledger *l, int cls, uint32_t sys, const char *func,
				    const char *module)
{
	struct pl_site_row *r;

	func = func ? func : "?";
	module = module ? module : "?";
	for (int i = 0; i < l->n_sites; i++) {
		r = &l->sites[i];
		if (r->cls == cls && r->sys == sys && !strcmp(r->func, func) &&
		    !strcmp(r->module, module))
			return r;
	}
	if (l->n_sites >= PL_MAX_SITES)
		return NULL;
	if (l->n_sites == l->cap_sites) {
		int cap = l->cap_sites ? l->cap_sites * 2 : 64;
		struct pl_site_row *grown = realloc(l->sites, (size_t)cap * sizeof(*grown));

		if (!grown)
			return NULL;
		l->sites = grown;
		l->cap_sites = cap;
	}
	r = &l->sites[l->n_sites++];
	memset(r, 0, sizeof(*r));
	r->cls = cls;
	r->sys = sys;
	snprintf(r->func, sizeof(r->func), "%s", func);
	snprintf(r->module, sizeof(r->module), "%s", module);
	return r;
}

void pl_ledger_add_caller(struct pl_ledger *l, const struct pl_syscall_event *e, int cls,
			  const char *func, const char *module)
{
	struct pl_stat *row;
	struct pl_site_row *site;

	if (e->sys >= PL_SYS_NR)
		return;
	row = class_row(l, cls, e->sys, advice_slot_of(e));
	if (row)
		stat_add(row, e);
	site = site_row(l, cls, e->sys, func, module);
	if (site)
		stat_add(&site->st, e);
	else
		l->sites_dropped++;
}

static int64_t clamp0(int64_t v)
{
	return v > 0 ? v : 0;
}

/* Bytes the background scavenger gave back (RSS) over the run, from the caller classes. */
static uint64_t background_scavenged(const struct pl_ledger *l)
{
	uint64_t sum = 0;

	for (int i = 0; i < l->n_class_rows; i++)
		if (l->class_rows[i].cls == PL_CALLER_GO_SCAV_BACKGROUND)
			sum += l->class_rows[i].st.rss_released;
	return sum;
}

/*
 * The Go heap's share of in_use: the runtime's resident allocated pages
 * first, then its retained ones, each capped by what is left, so the three
 * parts sum to in_use.
 */
static void split_go(struct pl_diagnosis *d, const struct pl_go_heap *g)
{
	int64_t left = d->in_use;

	d->go_known = true;
	d->go_inuse =
	    (int64_t)g->total.inuse_resident < left ? (int64_t)g->total.inuse_resident : left;
	left -= d->go_inuse;
	d->go_retained = (int64_t)g->total.retained < left ? (int64_t)g->total.retained : left;
	d->go_other = left - d->go_retained;
}

/* At the end, from the end balance's reading. */
static void diagnose_go(const struct pl_ledger *l, struct pl_diagnosis *d)
{
	if (!d->from_kernel || !l->last_balance.go_heap.known)
		return;
	split_go(d, &l->last_balance.go_heap);
	d->go_scavenged = background_scavenged(l);
}

bool pl_diagnosis_go_hint(const struct pl_diagnosis *d, char *buf, size_t len)
{
	char retained[16], scavenged[48], inuse[16];

	if (!d->go_known || d->go_retained < (1 << 20))
		return false;
	pl_format_size(d->go_retained, retained, sizeof(retained));
	pl_format_size((int64_t)d->go_scavenged, inuse, sizeof(inuse));
	if (d->go_scavenged)
		snprintf(scavenged, sizeof(scavenged), "%s in this run", inuse);
	else
		snprintf(scavenged, sizeof(scavenged), "nothing yet");
	pl_format_size(d->go_inuse, inuse, sizeof(inuse));
	snprintf(buf, len,
		 "Go heap retained %s (free in the runtime's eyes, not yet scavenged, still "
		 "resident: %lld%% of in use): the background scavenger returns it at its own "
		 "pace (%s) and stops about 10%% above the heap goal; a GOMEMLIMIT a "
		 "little above the heap in use (%s) makes it return memory down to the limit; "
		 "debug.FreeOSMemory() returns all %s at once",
		 retained, d->in_use ? (long long)(d->go_retained * 100 / d->in_use) : 0, scavenged,
		 inuse, retained);
	return true;
}

/* What the kernel side added to fill huge pages: khugepaged and MADV_COLLAPSE. */
static int64_t thp_grown(const struct pl_ledger *l)
{
	return l->causes.delta[PL_CAUSE_KHUGEPAGED][PL_RSS_ANON] +
	       (int64_t)l->stats[PL_SYS_MADVISE][PL_MADV_COLLAPSE].rss_gained +
	       (int64_t)l->stats[PL_SYS_PROCESS_MADVISE][PL_MADV_COLLAPSE].rss_gained;
}

/* Splits anon into its causes; none more than what is left of it. */
static void split_anon(struct pl_diagnosis *d, int64_t anon)
{
	int64_t lazy = d->lazy_free < 0 ? 0 : d->lazy_free;

	if (d->lazy_free >= 0)
		d->lazy_free = lazy = lazy < anon ? lazy : clamp0(anon);
	d->thp_filled =
	    clamp0(d->thp_filled) < anon - lazy ? clamp0(d->thp_filled) : clamp0(anon - lazy);
	d->resident = anon + d->file + d->shmem;
	d->in_use = clamp0(anon - lazy - d->thp_filled);
}

void pl_diagnose(const struct pl_ledger *l, struct pl_diagnosis *d)
{
	const struct pl_kernel_view *k = &l->last_balance.kernel;
	int64_t anon;

	memset(d, 0, sizeof(*d));
	d->churn = l->have_ranges ? (int64_t)l->ranges_all.refaulted : -1;
	d->churn_refaults = l->ranges_all.refaults;
	d->churn_delay_min_ns = l->ranges_all.refault_delay_min_ns;
	d->churn_delay_mean_ns = l->ranges_all.refault_delay_mean_ns;
	d->from_kernel = l->have_balance && !strcmp(l->last_balance.when, "end");
	d->thp_filled = thp_grown(l);
	if (d->from_kernel) {
		anon = k->anon;
		d->file = k->file;
		d->shmem = k->shmem;
		d->swap = clamp0(k->swap);
		d->lazy_free = k->have_rollup ? k->lazy_free : 0;
		d->anon_huge = k->have_rollup ? k->anon_huge : -1;
	} else {
		/*
		 * The process is gone: the per-range ledger knows which lazily
		 * freed pages were still mapped at its last look; without it,
		 * unknown, not guessed.
		 */
		anon = l->rss_end[PL_RSS_ANON];
		d->file = l->rss_end[PL_RSS_FILE];
		d->shmem = l->rss_end[PL_RSS_SHMEM];
		d->swap = clamp0(l->rss_end[PL_RSS_SWAP]);
		d->lazy_free = l->have_ranges ? (int64_t)l->ranges_live.lazy_pending : -1;
		d->anon_huge = -1;
	}
	split_anon(d, anon);
	diagnose_go(l, d);
	if (!pl_diagnosis_go_hint(d, d->go_hint, sizeof(d->go_hint)))
		d->go_hint[0] = '\0';
}

void pl_diagnose_now(const struct pl_ledger *l, const __s64 rss[PL_RSS_NR], int64_t lazy_pending,
		     const struct pl_go_heap *go, struct pl_diagnosis *d)
{
	memset(d, 0, sizeof(*d));
	d->churn = -1;
	d->anon_huge = -1;
	d->thp_filled = thp_grown(l);
	d->file = rss[PL_RSS_FILE];
	d->shmem = rss[PL_RSS_SHMEM];
	d->swap = clamp0(rss[PL_RSS_SWAP]);
	d->lazy_free = lazy_pending;
	split_anon(d, rss[PL_RSS_ANON]);
	if (go && go->known)
		split_go(d, go);
}

int pl_diagnosis_rows(const struct pl_diagnosis *d, struct pl_diag_row rows[PL_DIAG_ROWS])
{
	const struct pl_diag_row all[] = {
	    {"in_use", "in use (mapped and touched)", "in use", PL_DIAG_PART, d->in_use, NULL,
	     NULL},
	    /* Go's own view of in use, from its page allocator (user/goheap): absent if not Go. */
	    {"go_heap_inuse", "Go heap in use", "Go in use", PL_DIAG_OF_WHICH,
	     d->go_known ? d->go_inuse : -1, NULL, NULL},
	    {"go_heap_retained", "Go heap retained (not scavenged)", "Go retained",
	     PL_DIAG_OF_WHICH, d->go_known ? d->go_retained : -1, NULL,
	     d->go_hint[0] ? d->go_hint : NULL},
	    {"go_heap_other", "other anon (stacks, runtime, non-heap)", "other", PL_DIAG_OF_WHICH,
	     d->go_known ? d->go_other : -1, NULL, NULL},
	    {"lazy_free", "MADV_FREE'd, not yet reclaimed", "MADV_FREE'd", PL_DIAG_PART,
	     d->lazy_free, "the process exited before /proc could be read",
	     "MADV_FREE'd pages stay resident until memory pressure reclaims them; for Go, "
	     "GODEBUG=madvdontneed=1 returns memory eagerly"},
	    {"thp_filled", "huge-page holes filled (THP collapse)", "THP-filled", PL_DIAG_PART,
	     d->thp_filled, NULL,
	     "THP collapse refilled released holes: lower "
	     "/sys/kernel/mm/transparent_hugepage/khugepaged/max_ptes_none, or for Go 1.21.6+ "
	     "GODEBUG=disablethp=1"},
	    {"file", "file-backed", "file", PL_DIAG_PART, d->file, NULL, NULL},
	    {"shmem", "shmem", "shmem", PL_DIAG_PART, d->shmem, NULL, NULL},
	    {"anon_huge", "(of which anon in huge pages)", "huge", PL_DIAG_OF_WHICH, d->anon_huge,
	     NULL, NULL},
	    {"swap", "swapped out (not resident)", "swapped", PL_DIAG_APART, d->swap, NULL, NULL},
	    {"churn", "released, then faulted back (churn)", "churn", PL_DIAG_OVER_RUN, d->churn,
	     "not measured (no per-range ledger)",
	     "released pages were faulted straight back: the allocator gives memory back too "
	     "eagerly (Go: raise GOGC/GOMEMLIMIT headroom; glibc: M_TRIM_THRESHOLD; jemalloc: "
	     "dirty_decay_ms)"},
	};
	int n = 0;

	for (size_t i = 0; i < sizeof(all) / sizeof(all[0]) && n < PL_DIAG_ROWS; i++)
		if (all[i].bytes >= 0 || all[i].unknown) /* unknown with no reason: no such row */
			rows[n++] = all[i];
	return n;
}

const char *pl_cause_name(int cause)
{
	static const char *const names[PL_CAUSE_NR] = {
	    [PL_CAUSE_FAULT] = "fault",
	    [PL_CAUSE_LAZYFREE_RECLAIM] = "lazyfree-reclaim",
	    [PL_CAUSE_SWAP_OUT] = "swap-out",
	    [PL_CAUSE_RECLAIM] = "reclaim",
	    [PL_CAUSE_KHUGEPAGED] = "khugepaged-collapse",
	    [PL_CAUSE_EXEC] = "exec",
	    [PL_CAUSE_EXIT] = "exit",
	    [PL_CAUSE_SYSCALL] = "other-syscall",
	    [PL_CAUSE_REMOTE] = "remote",
	    [PL_CAUSE_UNKNOWN] = "unknown",
	};

	return cause >= 0 && cause < PL_CAUSE_NR ? names[cause] : "unknown";
}

/* Anon pages dropped while swap entries grew went to swap, not to a lazy-free discard. */
static void split_swap_out(struct pl_cause_acc *a)
{
	__s64 dropped = -a->delta[PL_CAUSE_LAZYFREE_RECLAIM][PL_RSS_ANON];
	__s64 swapped = a->delta[PL_CAUSE_SWAP_OUT][PL_RSS_SWAP];
	__s64 moved = dropped < swapped ? dropped : swapped;

	if (moved <= 0)
		return;
	a->delta[PL_CAUSE_LAZYFREE_RECLAIM][PL_RSS_ANON] += moved;
	a->delta[PL_CAUSE_SWAP_OUT][PL_RSS_ANON] -= moved;
}

bool pl_ledger_update_causes(struct pl_ledger *l, const struct pl_cause_acc *now,
			     struct pl_cause_acc *delta)
{
	struct pl_cause_acc cur = *now;
	bool changed = false;

	split_swap_out(&cur);
	for (int c = 0; c < PL_CAUSE_NR; c++) {
		for (int m = 0; m < PL_RSS_NR; m++) {
			delta->delta[c][m] = cur.delta[c][m] - l->causes.delta[c][m];
			changed |= delta->delta[c][m] != 0;
		}
		delta->updates[c] = cur.updates[c] - l->causes.updates[c];
	}
	l->causes = cur;
	return changed;
}

bool pl_rss_zero(const __s64 v[PL_RSS_NR])
{
	return !v[0] && !v[1] && !v[2] && !v[3];
}

void pl_ledger_set_seed(struct pl_ledger *l, const __s64 rss[PL_RSS_NR])
{
	memcpy(l->seed_start, rss, sizeof(l->seed_start));
}

void pl_ledger_closure(const struct pl_ledger *l, const struct pl_totals *t, __s64 out[PL_RSS_NR])
{
	struct pl_stat calls;

	pl_ledger_total(l, &calls);
	for (int m = 0; m < PL_RSS_NR; m++) {
		__s64 causes = 0;

		for (int c = 0; c < PL_CAUSE_NR; c++)
			causes += l->causes.delta[c][m];
		out[m] = l->seed_start[m] + t->exec_adjust[m] + calls.rss_delta[m] + causes +
			 t->lost_delta[m] + t->inflight_delta[m] - t->rss_cur[m];
	}
}

void pl_ledger_add_balance(struct pl_ledger *l, struct pl_balance *b)
{
	b->diff[PL_RSS_ANON] = b->ledger[PL_RSS_ANON] - b->kernel.anon;
	b->diff[PL_RSS_FILE] = b->ledger[PL_RSS_FILE] - b->kernel.file;
	b->diff[PL_RSS_SHMEM] = b->ledger[PL_RSS_SHMEM] - b->kernel.shmem;
	b->diff[PL_RSS_SWAP] = b->kernel.swap >= 0 ? b->ledger[PL_RSS_SWAP] - b->kernel.swap : 0;
	if (b->settled && !pl_rss_zero(b->diff))
		l->balances_off++;
	l->last_balance = *b;
	l->have_balance = true;
}

void pl_ledger_lazy_free(const struct pl_ledger *l, uint64_t *advised, uint64_t *released)
{
	*advised = l->stats[PL_SYS_MADVISE][PL_MADV_FREE].bytes +
		   l->stats[PL_SYS_PROCESS_MADVISE][PL_MADV_FREE].bytes;
	*released = l->stats[PL_SYS_MADVISE][PL_MADV_FREE].rss_released +
		    l->stats[PL_SYS_PROCESS_MADVISE][PL_MADV_FREE].rss_released;
}

static int by_bytes_desc(const void *a, const void *b)
{
	const struct pl_site_row *x = a, *y = b;

	if (x->st.bytes != y->st.bytes)
		return x->st.bytes < y->st.bytes ? 1 : -1;
	return x->st.calls < y->st.calls ? 1 : (x->st.calls > y->st.calls ? -1 : 0);
}

void pl_ledger_sort_sites(struct pl_ledger *l)
{
	if (l->n_sites > 1)
		qsort(l->sites, (size_t)l->n_sites, sizeof(*l->sites), by_bytes_desc);
}

void pl_ledger_free(struct pl_ledger *l)
{
	free(l->sites);
	l->sites = NULL;
	l->n_sites = l->cap_sites = 0;
}

void pl_ledger_add_exec(struct pl_ledger *l, const struct pl_exec_event *e)
{
	l->events++;
	l->execs++;
	(void)e;
}

void pl_ledger_add_exit(struct pl_ledger *l, const struct pl_exit_event *e)
{
	l->events++;
	l->exited = true;
	l->exit_status = e->exit_code;
	l->have_exit_rss = true;
	memcpy(l->exit_rss, e->rss, sizeof(l->exit_rss));
}

void pl_ledger_finish(struct pl_ledger *l, const struct pl_totals *t, uint64_t page_faults,
		      uint64_t t_end_ns)
{
	l->t_end_ns = t_end_ns;
	l->page_faults = page_faults;
	memcpy(l->rss_start, t->rss_start, sizeof(l->rss_start));
	memcpy(l->rss_peak, t->rss_peak, sizeof(l->rss_peak));
	memcpy(l->rss_other_delta, t->rss_other_delta, sizeof(l->rss_other_delta));
	memcpy(l->rss_exit_delta, t->rss_exit_delta, sizeof(l->rss_exit_delta));
	l->rss_peak_total = t->rss_peak_total;
	l->rss_other_updates = t->rss_updates_other;
	l->lost_events = t->lost_events;
	l->inflight_drops = t->inflight_drops;
	l->stacks_dropped = t->stacks_dropped;
	l->chunks_dropped = t->chunks_dropped;
	l->marks_truncated = t->marks_truncated;
	l->rss_inexact_calls = t->rss_inexact_calls;
	l->rss_inexact_events = t->rss_inexact_events;
	l->robbed_folds = t->robbed_folds;
	l->rss_inexact_late = t->rss_inexact_late;
	l->stacks_captured = t->stacks_captured;
	memcpy(l->exec_adjust, t->exec_adjust, sizeof(l->exec_adjust));
	memcpy(l->lost_delta, t->lost_delta, sizeof(l->lost_delta));
	memcpy(l->inflight_delta, t->inflight_delta, sizeof(l->inflight_delta));
	pl_ledger_closure(l, t, l->closure_end);
	/* After exit the counters fall to zero in teardown; the story ends before it. */
	if (l->have_exit_rss)
		memcpy(l->rss_end, l->exit_rss, sizeof(l->rss_end));
	else
		memcpy(l->rss_end, t->rss_cur, sizeof(l->rss_end));
	if (t->exited)
		l->exited = true;
}

void pl_ledger_total(const struct pl_ledger *l, struct pl_stat *out)
{
	memset(out, 0, sizeof(*out));
	for (int sys = 0; sys < PL_SYS_NR; sys++) {
		for (int a = 0; a < PL_ADVICE_SLOTS; a++) {
			const struct pl_stat *s = &l->stats[sys][a];

			out->calls += s->calls;
			out->errors += s->errors;
			out->bytes += s->bytes;
			out->rss_released += s->rss_released;
			out->rss_gained += s->rss_gained;
			for (int m = 0; m < PL_RSS_NR; m++)
				out->rss_delta[m] += s->rss_delta[m];
		}
	}
}

int64_t pl_rss_total(const __s64 rss[PL_RSS_NR])
{
	return pl_resident_delta(rss);
}
