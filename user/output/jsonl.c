// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* JSON Lines output. The schema is documented in README.md ("JSON schema"). */
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <unistd.h>
#include "symbolize/attribution.h"
#include "output/output.h"
#include "util/clock.h"

static void json_balance_fields(struct pl_json *j, const struct pl_balance *b);
static void json_causes(struct pl_json *j, const struct pl_ledger *l);
static void json_diagnosis(struct pl_json *j, const struct pl_ledger *l);
static void json_run_counters(struct pl_json *j, const struct pl_ledger *l);
static void json_summary_ranges(struct pl_json *j, const struct pl_ledger *l);

/* The JSON sink: the writer, and the target's name for the summary. */
struct json_sink {
	struct pl_json j;
	char comm[64];
};

static void json_rss(struct pl_json *j, const char *key, const __s64 rss[PL_RSS_NR],
		     bool with_total)
{
	pl_json_object_begin(j, key);
	pl_json_s64(j, "anon", rss[PL_RSS_ANON]);
	pl_json_s64(j, "file", rss[PL_RSS_FILE]);
	pl_json_s64(j, "shmem", rss[PL_RSS_SHMEM]);
	pl_json_s64(j, "swap", rss[PL_RSS_SWAP]);
	if (with_total)
		pl_json_s64(j, "resident", pl_rss_total(rss));
	pl_json_object_end(j);
}

static void json_hdr(struct pl_json *j, const char *type, const struct pl_event_hdr *h)
{
	pl_json_object_begin(j, NULL);
	pl_json_str(j, "type", type);
	pl_json_u64(j, "ts_ns", h->ts_ns);
	pl_json_u64(j, "pid", h->pid);
	pl_json_u64(j, "tid", h->tid);
}

static struct pl_json *writer(struct pl_output *o)
{
	return &((struct json_sink *)o->priv)->j;
}

/*
 * Where and when, for records read later or elsewhere: the wall-clock time
 * of ts_ns (CLOCK_REALTIME, ns), the host, its kernel and our version.
 */
static void json_identity(struct pl_json *j, uint64_t t0_ns)
{
	char host[256] = "";
	struct utsname u;
	bool have_uts = uname(&u) == 0;

	if (gethostname(host, sizeof(host) - 1))
		host[0] = '\0';
	pl_json_u64(j, "realtime_ns", pl_wall_of(t0_ns));
	pl_json_str(j, "host", host);
	pl_json_str(j, "kernel", have_uts ? u.release : "");
	pl_json_str(j, "version", PL_VERSION);
}

static void json_begin(struct pl_output *o, const struct pl_run_info *info)
{
	struct json_sink *s = o->priv;
	struct pl_json *j = &s->j;
	struct pl_event_hdr h = {.ts_ns = info->t0_ns, .pid = info->pid, .tid = 0};

	snprintf(s->comm, sizeof(s->comm), "%s", info->comm ? info->comm : "");
	if (o->quiet) /* -q: the summary record alone */
		return;
	json_hdr(j, "start", &h);
	pl_json_u64(j, "schema_version", PL_SCHEMA_VERSION);
	pl_json_str(j, "comm", info->comm);
	pl_json_bool(j, "spawned", info->spawned);
	json_rss(j, "rss", info->rss_start, true);
	json_identity(j, info->t0_ns);
	pl_json_object_end(j);
	pl_json_line_end(j);
	fflush(o->f);
}

static void json_syscall_extras(struct pl_json *j, const struct pl_syscall_event *e)
{
	char buf[160];

	switch (e->sys) {
	case PL_SYS_MMAP:
		pl_prot_str(e->args[2], buf, sizeof(buf));
		pl_json_str(j, "prot", buf);
		pl_mmap_flags_str(e->args[3], buf, sizeof(buf));
		pl_json_str(j, "flags", buf);
		pl_json_s64(j, "fd", (int)e->args[4]);
		pl_json_u64(j, "offset", e->args[5]);
		break;
	case PL_SYS_MREMAP:
		pl_json_u64(j, "old_addr", e->args[0]);
		pl_json_u64(j, "old_len", e->args[1]);
		pl_json_u64(j, "new_len", e->args[2]);
		pl_mremap_flags_str(e->args[3], buf, sizeof(buf));
		pl_json_str(j, "flags", buf);
		break;
	case PL_SYS_BRK:
		pl_json_u64(j, "requested", e->args[0]);
		pl_json_u64(j, "old_brk", e->old_brk);
		pl_json_u64(j, "new_brk", (uint64_t)e->ret);
		pl_json_s64(j, "brk_delta",
			    pl_syscall_failed(e) ? 0 : (int64_t)((uint64_t)e->ret - e->old_brk));
		break;
	case PL_SYS_PROCESS_MADVISE:
		pl_json_u64(j, "target_pid", e->target_pid);
		pl_json_s64(j, "pidfd", (int)e->args[0]);
		pl_json_u64(j, "vlen", e->args[2]);
		pl_json_u64(j, "iov_read", e->iov_read);
		break;
	default:
		break;
	}
	if (pl_syscall_has_advice(e->sys))
		pl_json_str(j, "advice", pl_advice_name(pl_syscall_advice(e), buf, sizeof(buf)));
}

static void json_frame(struct pl_json *j, const struct pl_frame *f)
{
	pl_json_object_begin(j, NULL);
	pl_json_u64(j, "addr", f->addr);
	if (f->func)
		pl_json_str(j, "func", f->func);
	else
		pl_json_null(j, "func");
	pl_json_u64(j, "offset", f->func_off);
	if (f->module)
		pl_json_str(j, "module", f->module);
	else
		pl_json_null(j, "module");
	if (f->file) {
		pl_json_str(j, "file", f->file);
		pl_json_s64(j, "line", f->line);
	}
	if (f->inlined)
		pl_json_bool(j, "inlined", true);
	pl_json_object_end(j);
}

static void json_caller(struct pl_json *j, const struct pl_caller *c)
{
	pl_json_object_begin(j, "caller");
	pl_json_str(j, "class", pl_caller_class_name(c->cls));
	if (c->site >= 0 && c->frames[c->site].func)
		pl_json_str(j, "site", c->frames[c->site].func);
	else
		pl_json_null(j, "site");
	pl_json_array_begin(j, "frames");
	for (int i = 0; i < c->nframes; i++)
		json_frame(j, &c->frames[i]);
	pl_json_array_end(j);
	pl_json_object_end(j);
}

static void json_syscall(struct pl_output *o, const struct pl_syscall_event *e,
			 const struct pl_caller *caller)
{
	struct pl_json *j = writer(o);
	int err = pl_syscall_failed(e);
	char buf[32];

	json_hdr(j, pl_syscall_name(e->sys), &e->hdr);
	pl_json_str(j, "comm", e->comm);
	pl_json_u64(j, "addr", pl_syscall_addr(e));
	pl_json_u64(j, "len", pl_syscall_len(e));
	pl_json_s64(j, "ret", e->ret);
	if (err)
		pl_json_str(j, "error", pl_errno_name(err, buf, sizeof(buf)));
	json_syscall_extras(j, e);
	json_rss(j, "rss_delta", e->rss_delta, false);
	pl_json_bool(j, "rss_known", !(e->flags & PL_SCF_RSS_UNKNOWN));
	pl_json_bool(j, "rss_exact", !(e->flags & (PL_SCF_RSS_UNKNOWN | PL_SCF_RSS_INEXACT)));
	pl_json_u64(j, "duration_ns", e->duration_ns);
	if (caller)
		json_caller(j, caller);
	pl_json_object_end(j);
	pl_json_line_end(j);
}

static void json_record(struct pl_output *o, const struct pl_record *r)
{
	struct json_sink *sink = o->priv;
	struct pl_json *j = &sink->j;

	switch (r->type) {
	case PL_EV_SYSCALL:
		json_syscall(o, r->sys, r->caller);
		return;
	case PL_EV_EXEC:
		snprintf(sink->comm, sizeof(sink->comm), "%.*s", (int)sizeof(r->exec->comm),
			 r->exec->comm);
		json_hdr(j, "exec", &r->exec->hdr);
		pl_json_str(j, "comm", r->exec->comm);
		json_rss(j, "rss", r->exec->rss, true);
		break;
	case PL_EV_EXIT:
		json_hdr(j, "exit", &r->exit->hdr);
		pl_json_s64(j, "wait_status", r->exit->exit_code);
		json_rss(j, "rss", r->exit->rss, true);
		break;
	}
	pl_json_object_end(j);
	pl_json_line_end(j);
}

static void json_stat_fields(struct pl_json *j, const struct pl_stat *s)
{
	pl_json_u64(j, "calls", s->calls);
	pl_json_u64(j, "errors", s->errors);
	pl_json_u64(j, "bytes", s->bytes);
	pl_json_u64(j, "rss_released", s->rss_released);
	pl_json_u64(j, "rss_gained", s->rss_gained);
	json_rss(j, "rss_delta", s->rss_delta, false);
}

static void json_syscall_rows(struct pl_json *j, const struct pl_ledger *l)
{
	char abuf[32];

	pl_json_array_begin(j, "syscalls");
	for (int sys = 0; sys < PL_SYS_NR; sys++) {
		for (int a = 0; a < PL_ADVICE_SLOTS; a++) {
			const struct pl_stat *s = &l->stats[sys][a];

			if (!s->calls)
				continue;
			pl_json_object_begin(j, NULL);
			pl_json_str(j, "syscall", pl_syscall_name(sys));
			if (!pl_syscall_has_advice(sys))
				pl_json_null(j, "advice");
			else if (a == PL_ADVICE_SLOTS - 1)
				pl_json_str(j, "advice", "other");
			else
				pl_json_str(j, "advice", pl_advice_name(a, abuf, sizeof(abuf)));
			json_stat_fields(j, s);
			pl_json_object_end(j);
		}
	}
	pl_json_array_end(j);
}

static void json_callers(struct pl_json *j, const struct pl_ledger *l)
{
	char abuf[32];

	pl_json_array_begin(j, "callers");
	for (int i = 0; i < l->n_class_rows; i++) {
		const struct pl_class_row *r = &l->class_rows[i];

		pl_json_object_begin(j, NULL);
		pl_json_str(j, "class", pl_caller_class_name(r->cls));
		pl_json_str(j, "syscall", pl_syscall_name(r->sys));
		if (pl_syscall_has_advice(r->sys))
			pl_json_str(j, "advice",
				    pl_advice_name(r->advice_slot, abuf, sizeof(abuf)));
		else
			pl_json_null(j, "advice");
		json_stat_fields(j, &r->st);
		pl_json_object_end(j);
	}
	pl_json_array_end(j);
}

static void json_lazy_free(struct pl_json *j, const struct pl_ledger *l)
{
	uint64_t advised, released;

	pl_ledger_lazy_free(l, &advised, &released);
	pl_json_object_begin(j, "lazy_free");
	pl_json_u64(j, "advised", advised);
	pl_json_u64(j, "released_at_call", released);
	pl_json_u64(j, "resident_after_call", advised > released ? advised - released : 0);
	pl_json_object_end(j);
}

#define JSON_TOP_SITES 20

static void json_sites(struct pl_json *j, const struct pl_ledger *l)
{
	pl_json_array_begin(j, "call_sites");
	for (int i = 0; i < l->n_sites && i < JSON_TOP_SITES; i++) {
		const struct pl_site_row *s = &l->sites[i];

		pl_json_object_begin(j, NULL);
		pl_json_str(j, "site", s->func);
		pl_json_str(j, "module", s->module);
		pl_json_str(j, "class", pl_caller_class_name(s->cls));
		pl_json_str(j, "syscall", pl_syscall_name(s->sys));
		json_stat_fields(j, &s->st);
		pl_json_object_end(j);
	}
	pl_json_array_end(j);
}

static void json_summary(struct pl_output *o, const struct pl_ledger *l)
{
	struct pl_json *j = writer(o);
	struct pl_event_hdr h = {.ts_ns = pl_now_ns(), .pid = l->pid, .tid = 0};
	struct pl_stat total;

	json_hdr(j, "summary", &h);
	pl_json_str(j, "comm", ((struct json_sink *)o->priv)->comm); /* the name it has now */
	pl_json_u64(j, "duration_ns", l->t_end_ns - l->t_start_ns);
	json_syscall_rows(j, l);
	pl_ledger_total(l, &total);
	pl_json_object_begin(j, "total");
	json_stat_fields(j, &total);
	pl_json_object_end(j);
	json_callers(j, l);
	json_sites(j, l);
	json_lazy_free(j, l);
	json_causes(j, l);
	json_diagnosis(j, l);
	json_summary_ranges(j, l);
	pl_json_u64(j, "page_faults", l->page_faults);
	pl_json_object_begin(j, "rss");
	json_rss(j, "start", l->rss_start, true);
	json_rss(j, "end", l->rss_end, true);
	json_rss(j, "peak", l->rss_peak, true);
	pl_json_s64(j, "peak_resident", l->rss_peak_total);
	pl_json_object_end(j);
	pl_json_object_begin(j, "other_tasks");
	pl_json_u64(j, "updates", l->rss_other_updates);
	json_rss(j, "rss_delta", l->rss_other_delta, false);
	pl_json_object_end(j);
	pl_json_bool(j, "exited", l->exited);
	if (l->exited) {
		pl_json_s64(j, "wait_status", l->exit_status);
		json_rss(j, "exit_teardown", l->rss_exit_delta, false);
	}
	if (l->have_balance) {
		pl_json_object_begin(j, "balance");
		json_balance_fields(j, &l->last_balance);
		pl_json_object_end(j);
	}
	pl_json_u64(j, "events", l->events);
	pl_json_u64(j, "lost_events", l->lost_events + l->inflight_drops);
	pl_json_u64(j, "lost_ringbuf", l->lost_events);
	pl_json_u64(j, "lost_untracked", l->inflight_drops);
	pl_json_u64(j, "stacks_dropped", l->stacks_dropped);
	pl_json_u64(j, "chunks_dropped", l->chunks_dropped);
	pl_json_u64(j, "marks_truncated", l->marks_truncated);
	json_run_counters(j, l);
	pl_json_u64(j, "stacks_captured", l->stacks_captured);
	pl_json_u64(j, "rss_inexact_calls", l->rss_inexact_calls);
	pl_json_u64(j, "rss_inexact_updates", l->rss_inexact_events);
	pl_json_u64(j, "rss_inexact_late", l->rss_inexact_late);
	pl_json_u64(j, "rss_robbed_folds", l->robbed_folds);
	json_rss(j, "closure", l->closure_end, false);
	pl_json_bool(j, "closed", pl_rss_zero(l->closure_end));
	pl_json_object_begin(j, "tracer");
	pl_json_u64(j, "maxrss", l->tracer_maxrss);
	pl_json_object_end(j);
	pl_json_object_end(j);
	pl_json_line_end(j);
	fflush(o->f);
}

static void json_kernel_view(struct pl_json *j, const struct pl_kernel_view *k)
{
	pl_json_object_begin(j, "kernel");
	pl_json_s64(j, "anon", k->anon);
	pl_json_s64(j, "file", k->file);
	pl_json_s64(j, "shmem", k->shmem);
	pl_json_s64(j, "swap", k->swap);
	pl_json_s64(j, "resident", k->anon + k->file + k->shmem);
	if (k->have_rollup) {
		pl_json_s64(j, "lazy_free", k->lazy_free);
		pl_json_s64(j, "anon_huge", k->anon_huge);
	}
	pl_json_object_end(j);
}

static void json_go_figures(struct pl_json *j, const struct pl_go_heap_figures *f)
{
	pl_json_u64(j, "inuse", f->inuse);
	pl_json_u64(j, "idle", f->idle);
	pl_json_u64(j, "released", f->released);
	pl_json_u64(j, "retained", f->retained);
	pl_json_u64(j, "inuse_resident", f->inuse_resident);
}

/* go_heap: the Go runtime's page allocator read from outside (user/goheap), or null. */
static void json_go_heap(struct pl_json *j, const struct pl_go_heap *g)
{
	uint32_t kept = g->n_ranges < PL_GO_HEAP_RANGES ? g->n_ranges : PL_GO_HEAP_RANGES;

	if (!g->known) {
		pl_json_null(j, "go_heap");
		return;
	}
	pl_json_object_begin(j, "go_heap");
	pl_json_str(j, "version", g->version);
	json_go_figures(j, &g->total);
	pl_json_u64(j, "n_ranges", g->n_ranges);
	pl_json_array_begin(j, "ranges");
	for (uint32_t i = 0; i < kept; i++) {
		pl_json_object_begin(j, NULL);
		pl_json_u64(j, "base", g->ranges[i].base);
		pl_json_u64(j, "limit", g->ranges[i].limit);
		json_go_figures(j, &g->ranges[i].f);
		pl_json_object_end(j);
	}
	pl_json_array_end(j);
	pl_json_object_end(j);
}

static void json_balance_fields(struct pl_json *j, const struct pl_balance *b)
{
	pl_json_str(j, "when", b->when);
	json_rss(j, "ledger", b->ledger, true);
	json_kernel_view(j, &b->kernel);
	json_rss(j, "diff", b->diff, false);
	pl_json_bool(j, "settled", b->settled);
	/* Only a settled reading can say the ledger matches the kernel. */
	pl_json_bool(j, "exact", b->settled && pl_rss_zero(b->diff));
	if (b->have_closure) {
		json_rss(j, "closure", b->closure, false);
		pl_json_bool(j, "closed", pl_rss_zero(b->closure));
	}
	json_go_heap(j, &b->go_heap);
}

static bool cause_moved(const struct pl_cause_acc *a, int c)
{
	return a->delta[c][0] || a->delta[c][1] || a->delta[c][2] || a->delta[c][3];
}

static void json_rss_change(struct pl_output *o, const struct pl_cause_acc *delta, uint64_t ts_ns,
			    uint32_t pid)
{
	struct pl_json *j = writer(o);
	struct pl_event_hdr h = {.ts_ns = ts_ns, .pid = pid, .tid = 0};

	for (int c = 0; c < PL_CAUSE_NR; c++) {
		if (!cause_moved(delta, c))
			continue;
		json_hdr(j, "rss_change", &h);
		pl_json_str(j, "cause", pl_cause_name(c));
		json_rss(j, "rss_delta", delta->delta[c], false);
		pl_json_u64(j, "updates", delta->updates[c]);
		pl_json_object_end(j);
		pl_json_line_end(j);
	}
}

/* The Go heap's part of in_use (user/goheap), or null: one object, not three rows. */
static void json_diagnosis_go(struct pl_json *j, const struct pl_diagnosis *d)
{
	if (!d->go_known) {
		pl_json_null(j, "go_heap");
		return;
	}
	pl_json_object_begin(j, "go_heap");
	pl_json_s64(j, "inuse", d->go_inuse);
	pl_json_s64(j, "retained", d->go_retained);
	pl_json_s64(j, "other", d->go_other);
	pl_json_object_end(j);
}

/* The churn row's figures: refaulted bytes, how many refaults, how soon. */
static void json_churn(struct pl_json *j, const struct pl_diagnosis *d)
{
	if (d->churn < 0) {
		pl_json_null(j, "churn");
		return;
	}
	pl_json_object_begin(j, "churn");
	pl_json_s64(j, "refaulted", d->churn);
	pl_json_u64(j, "refaults", d->churn_refaults);
	pl_json_u64(j, "delay_min_ns", d->churn_delay_min_ns);
	pl_json_u64(j, "delay_mean_ns", d->churn_delay_mean_ns);
	pl_json_object_end(j);
}

/* The rows every output shows, as fields (null: unknown), and their hints. */
static void json_diagnosis(struct pl_json *j, const struct pl_ledger *l)
{
	struct pl_diag_row rows[PL_DIAG_ROWS];
	struct pl_diagnosis d;
	int n;

	pl_diagnose(l, &d);
	n = pl_diagnosis_rows(&d, rows);
	pl_json_object_begin(j, "diagnosis");
	pl_json_str(j, "source", d.from_kernel ? "kernel" : "ledger");
	pl_json_s64(j, "resident", d.resident);
	for (int i = 0; i < n; i++) {
		if (!strcmp(rows[i].key, "churn"))
			json_churn(j, &d);
		else if (!strncmp(rows[i].key, "go_heap_", 8))
			continue; /* in the go_heap object below */
		else if (rows[i].bytes < 0)
			pl_json_null(j, rows[i].key);
		else
			pl_json_s64(j, rows[i].key, rows[i].bytes);
	}
	json_diagnosis_go(j, &d);
	pl_json_array_begin(j, "hints");
	for (int i = 0; i < n; i++)
		if (rows[i].hint && rows[i].bytes > 0)
			pl_json_str(j, NULL, rows[i].hint);
	pl_json_array_end(j);
	pl_json_object_end(j);
}

/* What the run itself could not keep or had to skip, and what its caches did. */
static void json_run_counters(struct pl_json *j, const struct pl_ledger *l)
{
	pl_json_u64(j, "sites_dropped", l->sites_dropped);
	pl_json_u64(j, "ranges_alloc_failures", l->ranges_alloc_failures);
	pl_json_u64(j, "probes_skipped", l->probes_skipped);
	pl_json_u64(j, "bad_records", l->bad_records);
	pl_json_u64(j, "balances_off", l->balances_off);
	pl_json_object_begin(j, "symbol_cache");
	pl_json_u64(j, "hits", l->symbol_cache_hits);
	pl_json_u64(j, "misses", l->symbol_cache_misses);
	pl_json_object_end(j);
}

static void json_causes(struct pl_json *j, const struct pl_ledger *l)
{
	pl_json_array_begin(j, "rss_changes");
	for (int c = 0; c < PL_CAUSE_NR; c++) {
		if (!cause_moved(&l->causes, c))
			continue;
		pl_json_object_begin(j, NULL);
		pl_json_str(j, "cause", pl_cause_name(c));
		json_rss(j, "rss_delta", l->causes.delta[c], false);
		pl_json_u64(j, "updates", l->causes.updates[c]);
		pl_json_object_end(j);
	}
	pl_json_array_end(j);
}

static void json_balance(struct pl_output *o, const struct pl_balance *b, uint32_t pid)
{
	struct pl_json *j = writer(o);
	struct pl_event_hdr h = {.ts_ns = b->ts_ns, .pid = pid, .tid = 0};

	json_hdr(j, "balance", &h);
	json_balance_fields(j, b);
	pl_json_object_end(j);
	pl_json_line_end(j);
}

static void json_known(struct pl_json *j, const char *key, int64_t v)
{
	if (v >= 0)
		pl_json_s64(j, key, v);
	else
		pl_json_null(j, key);
}

static void json_range_row(struct pl_json *j, const char *key, const struct pl_range_row *w,
			   bool extent)
{
	pl_json_object_begin(j, key);
	if (extent) {
		pl_json_u64(j, "start", w->start);
		pl_json_u64(j, "end", w->end);
		pl_json_str(j, "name", w->name);
	}
	pl_json_u64(j, "mapped", w->mapped);
	pl_json_u64(j, "seeded", w->seeded);
	pl_json_u64(j, "faulted", w->faulted);
	pl_json_object_begin(j, "advised");
	for (int a = 0; a < PL_RADV_NR; a++)
		if (w->advised_by[a])
			pl_json_u64(j, pl_range_advice_name(a), w->advised_by[a]);
	pl_json_object_end(j);
	pl_json_u64(j, "released", w->released);
	pl_json_u64(j, "lazy_pending", w->lazy_pending);
	pl_json_u64(j, "reclaimed", w->reclaimed);
	pl_json_u64(j, "refaulted", w->refaulted);
	pl_json_u64(j, "refaults", w->refaults);
	pl_json_u64(j, "refault_delay_min_ns", w->refault_delay_min_ns);
	pl_json_u64(j, "refault_delay_mean_ns", w->refault_delay_mean_ns);
	pl_json_u64(j, "refault_delay_max_ns", w->refault_delay_max_ns);
	pl_json_object_begin(j, "collapsed");
	pl_json_u64(j, "madvise", w->collapsed_madvise);
	pl_json_u64(j, "khugepaged", w->collapsed_khugepaged);
	pl_json_object_end(j);
	pl_json_object_begin(j, "kernel");
	json_known(j, "rss", w->k_rss);
	json_known(j, "lazy_free", w->k_lazy_free);
	json_known(j, "anon_huge", w->k_anon_huge);
	pl_json_object_end(j);
	pl_json_object_end(j);
}

/* The end's largest ranges in the summary too: -q scripts read it alone. */
static void json_summary_ranges(struct pl_json *j, const struct pl_ledger *l)
{
	if (!l->have_ranges)
		return;
	pl_json_object_begin(j, "ranges");
	pl_json_array_begin(j, "top");
	for (size_t i = 0; i < l->n_ranges_top; i++)
		json_range_row(j, NULL, &l->ranges_top[i], true);
	pl_json_array_end(j);
	json_range_row(j, "mapped", &l->ranges_live, false);
	json_range_row(j, "unmapped", &l->ranges_gone, false);
	pl_json_object_end(j);
}

static void json_ranges(struct pl_output *o, const struct pl_ranges_view *v)
{
	struct pl_json *j = writer(o);
	struct pl_event_hdr h = {.ts_ns = v->ts_ns, .pid = v->pid};

	json_hdr(j, "ranges", &h);
	pl_json_str(j, "when", v->when);
	pl_json_bool(j, "settled", v->settled);
	pl_json_bool(j, "exact", v->exact);
	pl_json_array_begin(j, "ranges");
	for (size_t i = 0; i < v->n_rows; i++)
		json_range_row(j, NULL, &v->rows[i], true);
	pl_json_array_end(j);
	json_range_row(j, "mapped", &v->live, false);
	json_range_row(j, "unmapped", &v->gone, false);
	pl_json_object_end(j);
	pl_json_line_end(j);
}

static void json_end(struct pl_output *o)
{
	free(o->priv);
	o->priv = NULL;
}

static const struct pl_output_ops json_ops = {
    .begin = json_begin,
    .record = json_record,
    .balance = json_balance,
    .rss_change = json_rss_change,
    .ranges = json_ranges,
    .summary = json_summary,
    .end = json_end,
};

int pl_output_json_init(struct pl_output *o, FILE *f, bool quiet)
{
	struct json_sink *s = calloc(1, sizeof(*s));

	memset(o, 0, sizeof(*o));
	if (!s) {
		fprintf(stderr, "pageledger: out of memory\n");
		return -1;
	}
	pl_json_init(&s->j, f);
	o->ops = &json_ops;
	o->f = f;
	o->quiet = quiet;
	o->priv = s;
	return 0;
}
