// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <stdlib.h>
#include <string.h>
#include "ledger/procstat.h"
#include "output/metrics.h"
#include "symbolize/callers.h"
#include "util/clock.h"
#include "util/escape.h"

void pl_metrics_label_value(FILE *f, const char *s)
{
	for (; *s; s++) {
		if (*s == '\\')
			fputs("\\\\", f);
		else if (*s == '"')
			fputs("\\\"", f);
		else if (*s == '\n')
			fputs("\\n", f);
		else
			fputc(*s, f);
	}
}

/* One family's header. */
static void family(FILE *f, const char *name, const char *type, const char *help)
{
	fprintf(f, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

/*
 * A sample's name and its labels: the target's first, then the pairs in
 * extra ("member", "anon", ..., NULL).
 */
static void sample_head(FILE *f, const struct pl_metrics_view *v, const char *name,
			const char *const *extra)
{
	char comm[4 * 16 + 1];

	pl_escape(comm, sizeof(comm), v->comm ? v->comm : "");
	fprintf(f, "%s{pid=\"%u\",comm=\"", name, v->pid);
	pl_metrics_label_value(f, comm);
	fputc('"', f);
	for (; extra && extra[0]; extra += 2) {
		fprintf(f, ",%s=\"", extra[0]);
		pl_metrics_label_value(f, extra[1] ? extra[1] : "");
		fputc('"', f);
	}
	fputc('}', f);
}

static void sample_u(FILE *f, const struct pl_metrics_view *v, const char *name,
		     const char *const *extra, uint64_t value)
{
	sample_head(f, v, name, extra);
	fprintf(f, " %llu\n", (unsigned long long)value);
}

static void sample_i(FILE *f, const struct pl_metrics_view *v, const char *name,
		     const char *const *extra, int64_t value)
{
	sample_head(f, v, name, extra);
	fprintf(f, " %lld\n", (long long)value);
}

static const char *const member_names[PL_RSS_NR] = {"file", "anon", "swap", "shmem"};

static void render_rss(FILE *f, const struct pl_metrics_view *v)
{
	family(f, "pageledger_target_up", "gauge", "1 while the traced process is alive");
	sample_u(f, v, "pageledger_target_up", NULL, v->up);
	family(f, "pageledger_rss_bytes", "gauge",
	       "The target's RSS by member (file, anon, shmem; swap entries), from the kernel's "
	       "own counter updates");
	for (int m = 0; m < PL_RSS_NR; m++) {
		const char *labels[] = {"member", member_names[m], NULL};

		sample_i(f, v, "pageledger_rss_bytes", labels, v->rss[m]);
	}
}

/* A syscall's calls (or failed calls), summed over advice. */
static uint64_t per_syscall(const struct pl_ledger *l, int sys, bool errors)
{
	uint64_t n = 0;

	for (int a = 0; a < PL_ADVICE_SLOTS; a++)
		n += errors ? l->stats[sys][a].errors : l->stats[sys][a].calls;
	return n;
}

static void render_calls(FILE *f, const struct pl_metrics_view *v)
{
	static const struct {
		const char *name, *help;
		bool errors;
	} fams[] = {{"pageledger_calls_total", "Calls the target made, by syscall", false},
		    {"pageledger_call_errors_total", "Calls that failed, by syscall", true}};

	for (size_t i = 0; i < sizeof(fams) / sizeof(fams[0]); i++) {
		family(f, fams[i].name, "counter", fams[i].help);
		for (int sys = 0; sys < PL_SYS_NR; sys++) {
			const char *labels[] = {"syscall", pl_syscall_name(sys), NULL};

			sample_u(f, v, fams[i].name, labels,
				 per_syscall(v->ledger, sys, fams[i].errors));
		}
	}
}

/* One row of the released/advised families: its class, syscall and advice. */
struct class_row_view {
	const char *cls;
	uint32_t sys;
	unsigned int slot;
	const struct pl_stat *st;
};

static void class_row_sample(FILE *f, const struct pl_metrics_view *v, const char *name,
			     const struct class_row_view *r, uint64_t value)
{
	char abuf[32];
	/* Calls that take no advice get no advice label: the list ends before it. */
	const char *labels[] = {"class", r->cls, "syscall", pl_syscall_name(r->sys),
				NULL,	 NULL,	 NULL};

	if (pl_syscall_has_advice(r->sys)) {
		labels[4] = "advice";
		labels[5] = r->slot == PL_ADVICE_SLOTS - 1
				? "other"
				: pl_advice_name((long)r->slot, abuf, sizeof(abuf));
	}
	sample_u(f, v, name, labels, value);
}

/*
 * The rows by caller class when callers are named, else (--no-stacks) the
 * syscall rows, all of class unknown.
 */
static int class_rows(const struct pl_ledger *l, struct class_row_view *out, int cap)
{
	int n = 0;

	for (int i = 0; i < l->n_class_rows && n < cap; i++, n++)
		out[n] = (struct class_row_view){pl_caller_class_name(l->class_rows[i].cls),
						 l->class_rows[i].sys, l->class_rows[i].advice_slot,
						 &l->class_rows[i].st};
	if (l->n_class_rows)
		return n;
	for (uint32_t sys = 0; sys < PL_SYS_NR; sys++)
		for (unsigned int a = 0; a < PL_ADVICE_SLOTS && n < cap; a++)
			if (l->stats[sys][a].calls)
				out[n++] =
				    (struct class_row_view){pl_caller_class_name(PL_CALLER_UNKNOWN),
							    sys, a, &l->stats[sys][a]};
	return n;
}

#define CLASS_ROWS_SHOWN (PL_MAX_CLASS_ROWS + PL_SYS_NR * 16)

static void render_released(FILE *f, const struct pl_metrics_view *v)
{
	static struct class_row_view rows[CLASS_ROWS_SHOWN];
	int n = class_rows(v->ledger, rows, CLASS_ROWS_SHOWN);

	family(f, "pageledger_released_bytes_total", "counter",
	       "Resident bytes the target's calls gave back, by caller class, syscall and advice");
	for (int i = 0; i < n; i++)
		class_row_sample(f, v, "pageledger_released_bytes_total", &rows[i],
				 rows[i].st->rss_released);
	family(f, "pageledger_advised_bytes_total", "counter",
	       "Bytes named by successful madvise and process_madvise calls, by caller class "
	       "and advice");
	for (int i = 0; i < n; i++)
		if (pl_syscall_has_advice(rows[i].sys))
			class_row_sample(f, v, "pageledger_advised_bytes_total", &rows[i],
					 rows[i].st->bytes);
}

static void render_causes(FILE *f, const struct pl_metrics_view *v)
{
	const struct pl_cause_acc *c = &v->ledger->causes;
	/* Reclaim only ever lowers RSS: its negated running sums are counters. */
	static const struct {
		int cause, member;
		const char *kind;
	} reclaim[] = {{PL_CAUSE_LAZYFREE_RECLAIM, PL_RSS_ANON, "lazyfree"},
		       {PL_CAUSE_SWAP_OUT, PL_RSS_ANON, "swap_out"},
		       {PL_CAUSE_RECLAIM, PL_RSS_FILE, "file"},
		       {PL_CAUSE_RECLAIM, PL_RSS_SHMEM, "shmem"}};

	family(f, "pageledger_page_faults_total", "counter", "Page faults of the target");
	sample_u(f, v, "pageledger_page_faults_total", NULL, v->page_faults);
	family(f, "pageledger_rss_change_bytes", "gauge",
	       "Net RSS change outside the traced calls, by cause and member");
	for (int k = 0; k < PL_CAUSE_NR; k++)
		for (int m = 0; m < PL_RSS_NR; m++) {
			const char *labels[] = {"cause", pl_cause_name(k), "member",
						member_names[m], NULL};

			if (c->updates[k])
				sample_i(f, v, "pageledger_rss_change_bytes", labels,
					 c->delta[k][m]);
		}
	family(f, "pageledger_reclaimed_bytes_total", "counter",
	       "Resident bytes the kernel's reclaim took from the target");
	for (size_t i = 0; i < sizeof(reclaim) / sizeof(reclaim[0]); i++) {
		const char *labels[] = {"kind", reclaim[i].kind, NULL};
		int64_t d = c->delta[reclaim[i].cause][reclaim[i].member];

		sample_u(f, v, "pageledger_reclaimed_bytes_total", labels,
			 d < 0 ? (uint64_t)-d : 0);
	}
}

/* Each family's samples follow its own header: the format wants them together. */
static void render_ranges(FILE *f, const struct pl_metrics_view *v)
{
	const struct pl_range_row *a = v->ranges_live, *b = v->ranges_gone;
	const char *khugepaged[] = {"by", "khugepaged", NULL}, *madv[] = {"by", "madvise", NULL};
	bool have = a && b;

	family(f, "pageledger_lazy_free_pending_bytes", "gauge",
	       "MADV_FREE'd bytes still resident, not yet reclaimed");
	if (v->lazy_pending >= 0)
		sample_i(f, v, "pageledger_lazy_free_pending_bytes", NULL, v->lazy_pending);
	family(f, "pageledger_collapsed_bytes_total", "counter",
	       "RSS added by collapsing ranges into huge pages");
	if (have) {
		sample_u(f, v, "pageledger_collapsed_bytes_total", khugepaged,
			 a->collapsed_khugepaged + b->collapsed_khugepaged);
		sample_u(f, v, "pageledger_collapsed_bytes_total", madv,
			 a->collapsed_madvise + b->collapsed_madvise);
	}
	family(f, "pageledger_refaulted_bytes_total", "counter",
	       "Resident bytes faulted back after the target released them");
	if (have)
		sample_u(f, v, "pageledger_refaulted_bytes_total", NULL,
			 a->refaulted + b->refaulted);
	family(f, "pageledger_refaults_total", "counter", "Faults that were refaults");
	if (have)
		sample_u(f, v, "pageledger_refaults_total", NULL, a->refaults + b->refaults);
}

static void render_balance(FILE *f, const struct pl_metrics_view *v)
{
	const struct pl_ledger *l = v->ledger;

	family(f, "pageledger_balance_difference_bytes", "gauge",
	       "The ledger's RSS minus /proc's at the last balance, by member");
	for (int m = 0; l->have_balance && m < PL_RSS_NR; m++) {
		const char *labels[] = {"member", member_names[m], NULL};

		sample_i(f, v, "pageledger_balance_difference_bytes", labels,
			 l->last_balance.diff[m]);
	}
	family(f, "pageledger_balance_settled", "gauge",
	       "1 if the last balance was read while no counter update was in flight");
	if (l->have_balance)
		sample_u(f, v, "pageledger_balance_settled", NULL, l->last_balance.settled);
}

static void render_go_heap(FILE *f, const struct pl_metrics_view *v)
{
	static const char *const states[] = {"inuse", "idle", "released", "retained"};
	uint64_t figures[4];

	family(f, "pageledger_go_heap_bytes", "gauge",
	       "The Go heap by its page allocator's state, read from outside; retained: free, "
	       "not scavenged and resident");
	if (!v->go || !v->go->known)
		return;
	figures[0] = v->go->total.inuse;
	figures[1] = v->go->total.idle;
	figures[2] = v->go->total.released;
	figures[3] = v->go->total.retained;
	for (int i = 0; i < 4; i++) {
		const char *labels[] = {"state", states[i], "version", v->go->version, NULL};

		sample_u(f, v, "pageledger_go_heap_bytes", labels, figures[i]);
	}
}

static void render_tracer(FILE *f, const struct pl_metrics_view *v)
{
	const char *version[] = {"version", PL_VERSION, NULL};

	family(f, "pageledger_lost_events_total", "counter",
	       "Events the tracer lost (ring buffer full, untracked syscall entries)");
	sample_u(f, v, "pageledger_lost_events_total", NULL, v->lost_events);
	family(f, "pageledger_tracer_rss_bytes", "gauge", "pageledger's own RSS");
	sample_u(f, v, "pageledger_tracer_rss_bytes", NULL, v->tracer_rss);
	family(f, "pageledger_tracer_max_rss_bytes", "gauge", "pageledger's own peak RSS");
	sample_u(f, v, "pageledger_tracer_max_rss_bytes", NULL, v->tracer_maxrss);
	family(f, "pageledger_scrapes_total", "counter", "Scrapes this endpoint answered");
	sample_u(f, v, "pageledger_scrapes_total", NULL, v->scrapes);
	family(f, "pageledger_scrapes_refused_total", "counter",
	       "Requests this endpoint refused or could not finish");
	sample_u(f, v, "pageledger_scrapes_refused_total", NULL, v->refused);
	family(f, "pageledger_build_info", "gauge", "pageledger's version");
	sample_u(f, v, "pageledger_build_info", version, 1);
}

int pl_metrics_render(FILE *f, const struct pl_metrics_view *v)
{
	render_rss(f, v);
	render_calls(f, v);
	render_released(f, v);
	render_causes(f, v);
	render_ranges(f, v);
	render_balance(f, v);
	render_go_heap(f, v);
	render_tracer(f, v);
	return fflush(f) || ferror(f) ? -1 : 0;
}

/* The sink: the target's name and the endpoint. */
struct metrics {
	struct pl_metrics_http *http;
	uint32_t pid;
	char comm[PL_COMM_LEN + 1];
	uint64_t next_render_ns;
	uint64_t render_failures;
};

/* Renders v and hands the text to the endpoint; a failure keeps the last text up. */
static void publish(struct metrics *m, struct pl_metrics_view *v)
{
	char *text = NULL;
	size_t len = 0;
	FILE *f;

	v->pid = m->pid;
	v->comm = m->comm;
	pl_self_rss(&v->tracer_rss, &v->tracer_maxrss);
	pl_metrics_http_counts(m->http, &v->scrapes, &v->refused);
	f = open_memstream(&text, &len);
	if (!f) {
		m->render_failures++;
		return;
	}
	if (pl_metrics_render(f, v) | fclose(f) || !pl_metrics_http_publish(m->http, text, len))
		m->render_failures++;
	free(text);
}

static void metrics_begin(struct pl_output *o, const struct pl_run_info *info)
{
	struct metrics *m = o->priv;

	m->pid = info->pid;
	snprintf(m->comm, sizeof(m->comm), "%s", info->comm ? info->comm : "");
}

/* After an exec the target goes by its new name. */
static void metrics_record(struct pl_output *o, const struct pl_record *r)
{
	struct metrics *m = o->priv;

	if (r->type == PL_EV_EXEC)
		snprintf(m->comm, sizeof(m->comm), "%.*s", PL_COMM_LEN, r->exec->comm);
}

static void metrics_sample(struct pl_output *o, const struct pl_sample *s)
{
	struct metrics *m = o->priv;
	struct pl_metrics_view v = {
	    .up = true,
	    .rss = s->rss,
	    .page_faults = s->page_faults,
	    .lazy_pending = s->lazy_pending,
	    .ledger = s->ledger,
	    .ranges_live = s->ranges_live,
	    .ranges_gone = s->ranges_gone,
	    .lost_events = s->lost_events,
	    .go = s->go_heap,
	};

	if (!s->ledger || s->ts_ns < m->next_render_ns)
		return;
	m->next_render_ns = s->ts_ns + PL_METRICS_RENDER_NS;
	publish(m, &v);
}

/* The end's figures: what stays up after the target exits. */
static void metrics_summary(struct pl_output *o, const struct pl_ledger *l)
{
	struct metrics *m = o->priv;
	struct pl_diagnosis d;
	struct pl_metrics_view v = {
	    .up = !l->exited,
	    .rss = l->rss_end,
	    .page_faults = l->page_faults,
	    .lazy_pending = -1,
	    .ledger = l,
	    .ranges_live = l->have_ranges ? &l->ranges_live : NULL,
	    .ranges_gone = l->have_ranges ? &l->ranges_gone : NULL,
	    .lost_events = l->lost_events + l->inflight_drops,
	    .go = l->have_balance ? &l->last_balance.go_heap : NULL,
	};

	pl_diagnose(l, &d);
	v.lazy_pending = d.lazy_free;
	publish(m, &v);
	if (m->render_failures)
		fprintf(stderr, "pageledger: warning: %llu metrics renderings failed (no memory)\n",
			(unsigned long long)m->render_failures);
}

static void metrics_end(struct pl_output *o)
{
	free(o->priv);
	o->priv = NULL;
}

static const struct pl_output_ops metrics_ops = {
    .begin = metrics_begin,
    .record = metrics_record,
    .sample = metrics_sample,
    .summary = metrics_summary,
    .end = metrics_end,
};

int pl_output_metrics_init(struct pl_output *o, struct pl_metrics_http *http)
{
	struct metrics *m = calloc(1, sizeof(*m));

	if (!m) {
		fprintf(stderr, "pageledger: --metrics: out of memory\n");
		return -1;
	}
	m->http = http;
	*o = (struct pl_output){.ops = &metrics_ops, .priv = m};
	return 0;
}
