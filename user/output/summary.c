// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * The text summary: tables that fit the width (columns dropped least useful
 * first), sentences wrapped at it, and sums only of like with like.
 */
#include <string.h>
#include <sys/wait.h>
#include "symbolize/attribution.h"
#include "output/rows.h"
#include "output/text.h"
#include "util/escape.h"

struct out {
	FILE *f;
	int width;
};

static void size_of(uint64_t v, char *buf, size_t len)
{
	pl_format_size((int64_t)v, buf, len);
}

/* "1,204": counts a person reads at a glance. */
static void count_of(uint64_t n, char *buf, size_t len)
{
	if (n >= 1000000)
		snprintf(buf, len, "%llu,%03llu,%03llu", (unsigned long long)(n / 1000000),
			 (unsigned long long)(n / 1000 % 1000), (unsigned long long)(n % 1000));
	else if (n >= 1000)
		snprintf(buf, len, "%llu,%03llu", (unsigned long long)(n / 1000),
			 (unsigned long long)(n % 1000));
	else
		snprintf(buf, len, "%llu", (unsigned long long)n);
}

static void heading(const struct out *o, const char *text)
{
	fputc('\n', o->f);
	pl_layout_wrap(o->f, "  ", text, o->width, 4);
}

static void para(const struct out *o, int indent, const char *text)
{
	char lead[16];

	snprintf(lead, sizeof(lead), "%*s", indent, "");
	pl_layout_wrap(o->f, lead, text, o->width, indent + 2);
}

/* One line as laid out, cut to the width. */
static void line_out(const struct out *o, const char *text)
{
	char line[1024];

	snprintf(line, sizeof(line), "%s", text);
	pl_layout_cut(line, o->width);
	fprintf(o->f, "%s\n", line);
}

static void row_out(const struct out *o, const struct pl_table *t, const char *const *cells)
{
	char line[1024];

	pl_layout_row(t, cells, line, sizeof(line));
	fprintf(o->f, "%s\n", line);
}

/* ---- calls by syscall ---------------------------------------------------------- */

enum { SC_CALL, SC_CALLS, SC_ERRORS, SC_BYTES, SC_FREED, SC_GAINED, SC_NCOLS };

static void stat_row(const struct out *o, const struct pl_table *t, const char *what,
		     const struct pl_stat *s, bool bytes)
{
	char calls[24], errors[24], b[16], freed[16], gained[16];
	const char *cells[SC_NCOLS] = {what, calls, errors, bytes ? b : "-", freed, gained};

	count_of(s->calls, calls, sizeof(calls));
	count_of(s->errors, errors, sizeof(errors));
	size_of(s->bytes, b, sizeof(b));
	size_of(s->rss_released, freed, sizeof(freed));
	size_of(s->rss_gained, gained, sizeof(gained));
	row_out(o, t, cells);
}

/* "MADV_FREE", or "other" for the row of advice values past the table's. */
static const char *slot_advice(unsigned int slot, char *buf, size_t len)
{
	return slot == PL_ADVICE_SLOTS - 1 ? "other" : pl_advice_name(slot, buf, len);
}

/* "madvise MADV_FREE", "munmap". */
static void call_name(uint32_t sys, unsigned int slot, char *buf, size_t len)
{
	char advice[32];

	if (!pl_syscall_has_advice(sys))
		snprintf(buf, len, "%s", pl_syscall_name(sys));
	else
		snprintf(buf, len, "%s %s", pl_syscall_name(sys),
			 slot_advice(slot, advice, sizeof(advice)));
}

/* What the bytes a syscall names are. */
static const char *bytes_kind(uint32_t sys)
{
	switch (sys) {
	case PL_SYS_MMAP:
		return "mapped";
	case PL_SYS_MUNMAP:
		return "unmapped";
	case PL_SYS_MREMAP:
		return "remapped";
	case PL_SYS_BRK:
		return "break moved";
	default:
		return "advised";
	}
}

/* "bytes named: mapped 67.7M, unmapped 64.0M, advised 64.0M": one sum per kind. */
static void print_bytes_by_kind(const struct out *o, const struct pl_ledger *l)
{
	static const uint32_t order[] = {PL_SYS_MMAP, PL_SYS_MUNMAP, PL_SYS_MADVISE, PL_SYS_MREMAP,
					 PL_SYS_BRK};
	char text[256], v[16];
	size_t used = (size_t)snprintf(text, sizeof(text), "bytes the calls named:");
	int n = 0;

	for (size_t i = 0; i < sizeof(order) / sizeof(order[0]); i++) {
		uint64_t sum = 0;

		for (int a = 0; a < PL_ADVICE_SLOTS; a++) {
			sum += l->stats[order[i]][a].bytes;
			if (order[i] == PL_SYS_MADVISE)
				sum += l->stats[PL_SYS_PROCESS_MADVISE][a].bytes;
		}
		if (!sum)
			continue;
		size_of(sum, v, sizeof(v));
		used += (size_t)snprintf(text + used, sizeof(text) - used, "%s %s %s",
					 n++ ? "," : "", bytes_kind(order[i]), v);
	}
	if (n)
		para(o, 2, text);
}

static void print_syscall_table(const struct out *o, const struct pl_ledger *l)
{
	struct pl_col cols[SC_NCOLS] = {
	    {"SYSCALL", 29, false, true}, {"CALLS", 7, true, true}, {"ERRORS", 6, true, true},
	    {"BYTES", 8, true, true},	  {"FREED", 8, true, true}, {"GAINED", 8, true, true},
	};
	struct pl_table t = {.cols = cols, .n = SC_NCOLS, .indent = 2, .width = o->width};
	struct pl_stat total;
	char what[64];

	pl_layout_fit(&t, NULL, 0, 0);
	row_out(o, &t, NULL);
	for (int sys = 0; sys < PL_SYS_NR; sys++) {
		for (int a = 0; a < PL_ADVICE_SLOTS; a++) {
			const struct pl_stat *s = &l->stats[sys][a];

			if (!s->calls)
				continue;
			call_name((uint32_t)sys, (unsigned)a, what, sizeof(what));
			stat_row(o, &t, what, s, true);
		}
	}
	pl_ledger_total(l, &total);
	stat_row(o, &t, "all calls", &total, false); /* bytes of different kinds: no sum */
	print_bytes_by_kind(o, l);
	para(o, 2,
	     "FREED, GAINED: resident bytes (anon, file, shmem) that left or joined RSS "
	     "during the calls.");
}

/* ---- by caller -------------------------------------------------------------- */

/* "; freed 32.0M", "; RSS unchanged": what the calls did to RSS. */
static void rss_effect(const struct pl_stat *s, char *buf, size_t len)
{
	char freed[16], gained[16];

	size_of(s->rss_released, freed, sizeof(freed));
	size_of(s->rss_gained, gained, sizeof(gained));
	if (s->rss_released && s->rss_gained)
		snprintf(buf, len, "freed %s, gained %s", freed, gained);
	else if (s->rss_released)
		snprintf(buf, len, "freed %s", freed);
	else if (s->rss_gained)
		snprintf(buf, len, "gained %s", gained);
	else
		snprintf(buf, len, "RSS unchanged");
}

/*
 * "Go background scavenger: 199.5M advised in 163 calls (MADV_DONTNEED);
 * freed 199.4M". The break moves by its bytes, so brk reads "moved the
 * break by 132.0K".
 */
static void print_class_row(const struct out *o, const struct pl_class_row *r)
{
	char bytes[16], calls[24], how[48], advice[32], effect[64], text[320];
	uint64_t n = r->st.calls;

	size_of(r->st.bytes, bytes, sizeof(bytes));
	count_of(n, calls, sizeof(calls));
	if (r->sys == PL_SYS_MADVISE) /* the advice says it is madvise */
		snprintf(how, sizeof(how), "%s",
			 slot_advice(r->advice_slot, advice, sizeof(advice)));
	else
		call_name(r->sys, r->advice_slot, how, sizeof(how));
	rss_effect(&r->st, effect, sizeof(effect));
	if (r->sys == PL_SYS_BRK)
		snprintf(text, sizeof(text), "%s: moved the break by %s in %s call%s (brk); %s",
			 pl_caller_class_label(r->cls), bytes, calls, n == 1 ? "" : "s", effect);
	else
		snprintf(text, sizeof(text), "%s: %s %s in %s call%s (%s); %s",
			 pl_caller_class_label(r->cls), bytes, bytes_kind(r->sys), calls,
			 n == 1 ? "" : "s", how, effect);
	para(o, 2, text);
}

static void print_callers(const struct out *o, const struct pl_ledger *l)
{
	if (!l->n_class_rows)
		return;
	heading(o, "By caller:");
	for (int i = 0; i < l->n_class_rows; i++)
		print_class_row(o, &l->class_rows[i]);
}

/* ---- call sites ------------------------------------------------------------- */

enum { ST_BYTES, ST_CALLS, ST_FREED, ST_CALLER, ST_SYSCALL, ST_SITE, ST_NCOLS };
#define TOP_SITES 10
#define SITE_MIN 30

/*
 * "func (module)", the module by its base name when the whole path does not
 * fit, and left out when even that does not: the function says more.
 */
static void site_cell(const struct pl_site_row *s, int room, char *buf, size_t len)
{
	char func[4 * PL_SITE_NAME + 1], module[4 * PL_SITE_NAME + 1];
	const char *base = strrchr(s->module, '/');

	pl_escape(func, sizeof(func), s->func);
	pl_escape(module, sizeof(module), s->module);
	snprintf(buf, len, "%s (%s)", func, module);
	if (pl_text_width(buf) > room && base && base[1]) {
		pl_escape(module, sizeof(module), base + 1);
		snprintf(buf, len, "%s (%s)", func, module);
	}
	if (pl_text_width(buf) > room && strcmp(s->func, "?"))
		snprintf(buf, len, "%s", func);
}

static void print_top_sites(const struct out *o, const struct pl_ledger *l)
{
	struct pl_col cols[ST_NCOLS] = {
	    {"BYTES", 8, true, true},	 {"CALLS", 7, true, true},
	    {"FREED", 8, true, true},	 {"CALLER", 23, false, true},
	    {"SYSCALL", 7, false, true}, {"SITE", SITE_MIN, false, true},
	};
	static const int drop[] = {ST_CALLER};
	struct pl_table t = {
	    .cols = cols, .n = ST_NCOLS, .indent = 2, .width = o->width, .flex = true};
	char bytes[16], calls[24], freed[16], site[1400];
	const char *cells[ST_NCOLS] = {bytes, calls, freed, NULL, NULL, site};
	int room;

	if (!l->n_sites)
		return;
	heading(o, "Top call sites by bytes (each row one syscall, its bytes of one kind):");
	pl_layout_fit(&t, drop, 1, SITE_MIN);
	room = o->width - (pl_layout_used(&t) - SITE_MIN);
	row_out(o, &t, NULL);
	for (int i = 0; i < l->n_sites && i < TOP_SITES; i++) {
		const struct pl_site_row *s = &l->sites[i];

		size_of(s->st.bytes, bytes, sizeof(bytes));
		count_of(s->st.calls, calls, sizeof(calls));
		size_of(s->st.rss_released, freed, sizeof(freed));
		cells[ST_CALLER] = pl_caller_class_name(s->cls);
		cells[ST_SYSCALL] = pl_syscall_name(s->sys);
		site_cell(s, room, site, sizeof(site));
		row_out(o, &t, cells);
	}
}

/* MADV_FREE looks like a release to the allocator and like nothing to RSS. */
static void print_lazyfree_note(const struct out *o, const struct pl_ledger *l)
{
	uint64_t advised, released;
	char a[16], r[16], left[16], text[512];

	pl_ledger_lazy_free(l, &advised, &released);
	if (!advised)
		return;
	size_of(advised, a, sizeof(a));
	size_of(released, r, sizeof(r));
	size_of(advised > released ? advised - released : 0, left, sizeof(left));
	snprintf(text, sizeof(text),
		 "note: %s advised with MADV_FREE; %s left RSS at the call and %s stayed "
		 "resident, lazily freed (LazyFree in smaps): it goes only when memory pressure "
		 "reclaims it or it is unmapped. Go: GODEBUG=madvdontneed=1 returns memory "
		 "eagerly.",
		 a, r, left);
	fputc('\n', o->f);
	para(o, 2, text);
}

/* ---- RSS ---------------------------------------------------------------------- */

static void print_rss_row(const struct out *o, const struct pl_table *t, const char *label,
			  const __s64 rss[PL_RSS_NR], bool sign)
{
	void (*fmt)(int64_t, char *, size_t) = sign ? pl_format_delta : pl_format_size;
	char v[5][16];
	const char *cells[6] = {label, v[0], v[1], v[2], v[3], v[4]};

	fmt(rss[PL_RSS_ANON], v[0], sizeof(v[0]));
	fmt(rss[PL_RSS_FILE], v[1], sizeof(v[1]));
	fmt(rss[PL_RSS_SHMEM], v[2], sizeof(v[2]));
	fmt(rss[PL_RSS_SWAP], v[3], sizeof(v[3]));
	fmt(pl_rss_total(rss), v[4], sizeof(v[4]));
	row_out(o, t, cells);
}

static void print_rss_table(const struct out *o, const struct pl_ledger *l)
{
	struct pl_col cols[6] = {
	    {"RSS", 16, false, true},  {"ANON", 10, true, true}, {"FILE", 10, true, true},
	    {"SHMEM", 10, true, true}, {"SWAP", 10, true, true}, {"RESIDENT", 10, true, true},
	};
	struct pl_table t = {.cols = cols, .n = 6, .indent = 2, .width = o->width};
	__s64 change[PL_RSS_NR];
	char peak[16], line[128];

	pl_layout_fit(&t, NULL, 0, 0);
	fputc('\n', o->f);
	row_out(o, &t, NULL);
	print_rss_row(o, &t, "start", l->rss_start, false);
	print_rss_row(o, &t, "end", l->rss_end, false);
	print_rss_row(o, &t, "peak", l->rss_peak, false);
	for (int m = 0; m < PL_RSS_NR; m++)
		change[m] = l->rss_end[m] - l->rss_start[m];
	print_rss_row(o, &t, "change", change, true);
	pl_format_size(l->rss_peak_total, peak, sizeof(peak));
	snprintf(line, sizeof(line), "highest resident total: %s", peak);
	para(o, 2, line);
}

static void print_other_changes(const struct out *o, const struct pl_ledger *l)
{
	char rss[96], text[192];

	if (l->rss_other_updates) {
		pl_text_format_rss(l->rss_other_delta, rss, sizeof(rss));
		snprintf(text, sizeof(text),
			 "changed by other tasks (reclaim, khugepaged, ...): %s in %llu update%s",
			 rss, (unsigned long long)l->rss_other_updates,
			 l->rss_other_updates == 1 ? "" : "s");
		para(o, 2, text);
	}
	if (l->exited) {
		pl_text_format_rss(l->rss_exit_delta, rss, sizeof(rss));
		snprintf(text, sizeof(text), "exit teardown: %s", rss);
		para(o, 2, text);
	}
}

static void print_causes(const struct out *o, const struct pl_ledger *l)
{
	char rss[96], text[128];
	bool any = false;

	for (int c = 0; c < PL_CAUSE_NR; c++) {
		const __s64 *d = l->causes.delta[c];

		if (!d[0] && !d[1] && !d[2] && !d[3])
			continue;
		if (!any)
			heading(o, "RSS changes outside the syscalls, by cause:");
		any = true;
		pl_text_format_rss(d, rss, sizeof(rss));
		snprintf(text, sizeof(text), "  %-22s %s", pl_cause_name(c), rss);
		line_out(o, text);
	}
}

/* ---- ranges ------------------------------------------------------------------- */

enum {
	RG_START,
	RG_NAME,
	RG_RESIDENT,
	RG_MAPPED,
	RG_SEEDED,
	RG_FAULTED,
	RG_RELEASED,
	RG_LAZY,
	RG_RECLAIMED,
	RG_THP,
	RG_REFAULTED,
	RG_DELAY,
	RG_NCOLS
};
#define TEXT_RANGES 10
#define NAME_COLS 14

/* A row's figures, column by column (RG_RESIDENT onwards). */
static void range_figures(const struct pl_range_row *w, uint64_t v[RG_NCOLS])
{
	v[RG_RESIDENT] = pl_row_resident(w);
	v[RG_MAPPED] = w->mapped;
	v[RG_SEEDED] = w->seeded;
	v[RG_FAULTED] = w->faulted;
	v[RG_RELEASED] = w->released;
	v[RG_LAZY] = w->lazy_pending;
	v[RG_RECLAIMED] = w->reclaimed;
	v[RG_THP] = w->collapsed_madvise + w->collapsed_khugepaged;
	v[RG_REFAULTED] = w->refaulted;
	v[RG_DELAY] = w->refaults ? w->refault_delay_mean_ns : 0;
}

/* One row; gone: what was unmapped, which holds nothing now. */
static void range_row(const struct out *o, const struct pl_table *t, const char *start,
		      const char *name, const struct pl_range_row *w, bool gone)
{
	char v[RG_NCOLS][24], shown_name[4 * PL_RANGE_NAME + 1];
	const char *cells[RG_NCOLS];
	uint64_t fig[RG_NCOLS];

	range_figures(w, fig);
	pl_escape(shown_name, sizeof(shown_name), name);
	pl_layout_cut(shown_name, NAME_COLS); /* the columns stay in line */
	cells[RG_START] = start;
	cells[RG_NAME] = shown_name;
	for (int c = RG_RESIDENT; c < RG_NCOLS; c++) {
		size_of(fig[c], v[c], sizeof(v[c]));
		cells[c] = v[c];
	}
	if (gone)
		cells[RG_RESIDENT] = "-";
	if (w->refaults)
		snprintf(v[RG_DELAY], sizeof(v[RG_DELAY]), "%.1fms",
			 (double)w->refault_delay_mean_ns / 1e6);
	else
		cells[RG_DELAY] = "-";
	row_out(o, t, cells);
}

/* Columns whose every figure is zero go first, then the least useful. */
static int range_drops(const struct pl_range_row *rows, size_t n, const struct pl_ledger *l,
		       int *drop)
{
	static const int by_use[] = {RG_SEEDED,	 RG_RECLAIMED, RG_DELAY, RG_THP,
				     RG_FAULTED, RG_MAPPED,    RG_START};
	int k = 0;

	for (int c = RG_SEEDED; c < RG_NCOLS; c++) {
		uint64_t fig[RG_NCOLS], any = 0;

		for (size_t i = 0; i < n + 2; i++) {
			range_figures(i < n    ? &rows[i]
				      : i == n ? &l->ranges_live
					       : &l->ranges_gone,
				      fig);
			any |= fig[c];
		}
		if (!any)
			drop[k++] = c;
	}
	memcpy(drop + k, by_use, sizeof(by_use));
	return k + (int)(sizeof(by_use) / sizeof(by_use[0]));
}

/* What the columns shown mean: "refaulted" and the rest, in words. */
static void explain_ranges(const struct out *o, const struct pl_table *t)
{
	static const char *const meaning[RG_NCOLS] = {
	    [RG_SEEDED] = "resident at attach",
	    [RG_FAULTED] = "brought in by page faults",
	    [RG_RELEASED] = "given back by its calls",
	    [RG_LAZY] = "MADV_FREE'd, still resident",
	    [RG_RECLAIMED] = "lazily freed pages that reclaim dropped",
	    [RG_THP] = "added by huge-page collapses",
	    [RG_REFAULTED] = "released, then faulted back in (churn)",
	    [RG_DELAY] = "the mean time from a release to its refault",
	};
	char text[1024];
	size_t used =
	    (size_t)snprintf(text, sizeof(text),
			     "RESIDENT: held now (seeded + faulted + collapsed - released "
			     "- reclaimed); the other columns are totals since attach.");

	for (int c = 0; c < RG_NCOLS && used < sizeof(text); c++)
		if (meaning[c] && t->cols[c].shown)
			used += (size_t)snprintf(text + used, sizeof(text) - used, " %s: %s.",
						 t->cols[c].head, meaning[c]);
	para(o, 4, text);
}

static void print_ranges(const struct out *o, const struct pl_ledger *l)
{
	struct pl_col cols[RG_NCOLS] = {
	    {"START", 12, false, true},	  {"NAME", NAME_COLS, false, true},
	    {"RESIDENT", 8, true, true},  {"MAPPED", 8, true, true},
	    {"SEEDED", 8, true, true},	  {"FAULTED", 8, true, true},
	    {"RELEASED", 8, true, true},  {"LAZYFREE", 8, true, true},
	    {"RECLAIMED", 9, true, true}, {"THP+", 7, true, true},
	    {"REFAULTED", 9, true, true}, {"DELAY", 8, true, true},
	};
	struct pl_table t = {.cols = cols, .n = RG_NCOLS, .indent = 4, .width = o->width};
	struct pl_range_row rows[PL_LEDGER_RANGES];
	int drop[2 * RG_NCOLS];
	size_t n;
	char start[24];

	if (!l->have_ranges)
		return;
	memcpy(rows, l->ranges_top, l->n_ranges_top * sizeof(rows[0]));
	n = pl_rows_merge_neighbours(rows, l->n_ranges_top);
	n = n < TEXT_RANGES ? n : TEXT_RANGES;
	pl_layout_fit(&t, drop, range_drops(rows, n, l, drop), 0);
	heading(o, "Ranges by resident bytes:");
	row_out(o, &t, NULL);
	for (size_t i = 0; i < n; i++) {
		snprintf(start, sizeof(start), "%llx", (unsigned long long)rows[i].start);
		range_row(o, &t, start, rows[i].name, &rows[i], false);
	}
	range_row(o, &t, "all mapped", "", &l->ranges_live, false);
	range_row(o, &t, "unmapped", "since attach", &l->ranges_gone, true);
	explain_ranges(o, &t);
}

/* ---- diagnosis ----------------------------------------------------------------- */

/* The row, then (when it has one) a line more about it and what to do. */
static void diag_row(const struct out *o, const struct pl_diag_row *r, const char *more)
{
	char v[16], line[256];

	if (r->bytes < 0)
		snprintf(v, sizeof(v), "unknown");
	else
		size_of((uint64_t)r->bytes, v, sizeof(v));
	snprintf(line, sizeof(line), "    %-38s %10s", r->label, v);
	line_out(o, line);
	if (r->bytes < 0)
		para(o, 6, r->unknown);
	if (more)
		para(o, 6, more);
	if (r->hint && r->bytes > 0)
		para(o, 6, r->hint);
}

/* "512 refaults, the soonest 1.5 ms after its release, 12.0 ms on average" */
static void churn_note(const struct pl_diagnosis *d, char *buf, size_t len)
{
	char n[24];

	count_of(d->churn_refaults, n, sizeof(n));
	snprintf(buf, len,
		 "%s refault%s, the soonest %.1f ms after its release, %.1f ms on average", n,
		 d->churn_refaults == 1 ? "" : "s", (double)d->churn_delay_min_ns / 1e6,
		 (double)d->churn_delay_mean_ns / 1e6);
}

static void print_diagnosis(const struct out *o, const struct pl_ledger *l)
{
	static const char *const kind_head[] = {
	    [PL_DIAG_APART] = "  Apart from them:",
	    [PL_DIAG_OVER_RUN] = "  Over the run (summed: not a share of what is resident):",
	};
	struct pl_diag_row rows[PL_DIAG_ROWS];
	struct pl_diagnosis d;
	char total[16], text[160], note[96];
	int n;
	enum pl_diag_kind kind = PL_DIAG_PART;

	pl_diagnose(l, &d);
	n = pl_diagnosis_rows(&d, rows);
	pl_format_size(d.resident, total, sizeof(total));
	snprintf(text, sizeof(text), "Diagnosis: resident %s at the end (%s), by cause:", total,
		 d.from_kernel ? "/proc's figures" : "the ledger's figures");
	heading(o, text);
	for (int i = 0; i < n; i++) {
		if (rows[i].kind > PL_DIAG_OF_WHICH && rows[i].kind != kind) {
			kind = rows[i].kind;
			line_out(o, kind_head[kind]);
		}
		churn_note(&d, note, sizeof(note));
		diag_row(o, &rows[i],
			 rows[i].kind == PL_DIAG_OVER_RUN && d.churn_refaults ? note : NULL);
	}
}

/* ---- balance and the run's own counts -------------------------------------------- */

void pl_text_format_balance(const struct pl_balance *b, char *buf, size_t len)
{
	char la[16], lf[16], ls[16], ka[16], kf[16], ks[16], d[96];
	bool exact = !b->diff[0] && !b->diff[1] && !b->diff[2] && !b->diff[3];

	pl_format_size(b->ledger[PL_RSS_ANON], la, sizeof(la));
	pl_format_size(b->ledger[PL_RSS_FILE], lf, sizeof(lf));
	pl_format_size(b->ledger[PL_RSS_SHMEM], ls, sizeof(ls));
	pl_format_size(b->kernel.anon, ka, sizeof(ka));
	pl_format_size(b->kernel.file, kf, sizeof(kf));
	pl_format_size(b->kernel.shmem, ks, sizeof(ks));
	pl_text_format_rss(b->diff, d, sizeof(d));
	if (!b->settled)
		snprintf(buf, len,
			 "(%s): not settled, the target changed the counters during the reading: "
			 "ledger anon %s file %s shmem %s | /proc anon %s file %s shmem %s",
			 b->when, la, lf, ls, ka, kf, ks);
	else if (exact)
		snprintf(buf, len,
			 "(%s): ledger and /proc agree to the byte: anon %s file %s shmem %s",
			 b->when, la, lf, ls);
	else
		snprintf(buf, len,
			 "(%s): ledger anon %s file %s shmem %s | /proc anon %s file %s shmem %s | "
			 "off by %s",
			 b->when, la, lf, ls, ka, kf, ks, d);
}

bool pl_text_format_go_heap(const struct pl_go_heap *g, char *buf, size_t len)
{
	char in[16], idle[16], rel[16], ret[16];

	if (!g->known)
		return false;
	pl_format_size((int64_t)g->total.inuse, in, sizeof(in));
	pl_format_size((int64_t)g->total.idle, idle, sizeof(idle));
	pl_format_size((int64_t)g->total.released, rel, sizeof(rel));
	pl_format_size((int64_t)g->total.retained, ret, sizeof(ret));
	snprintf(buf, len, "go heap (%s): in use %s idle %s released %s retained %s", g->version,
		 in, idle, rel, ret);
	return true;
}

static void print_balance(const struct out *o, const struct pl_ledger *l)
{
	char text[512], lazy[16];

	if (!l->have_balance)
		return;
	memcpy(text, "balance ", 8);
	pl_text_format_balance(&l->last_balance, text + 8, sizeof(text) - 8);
	para(o, 2, text);
	if (pl_text_format_go_heap(&l->last_balance.go_heap, text, sizeof(text)))
		para(o, 2, text);
	if (l->last_balance.kernel.have_rollup) {
		pl_format_size(l->last_balance.kernel.lazy_free, lazy, sizeof(lazy));
		snprintf(text, sizeof(text), "kernel LazyFree (MADV_FREE'd, not yet reclaimed): %s",
			 lazy);
		para(o, 2, text);
	}
}

/* Appends "what: N" to a list when N is not zero. */
static void list_count(char *buf, size_t len, size_t *used, uint64_t n, const char *what)
{
	char v[24];

	if (!n || *used >= len)
		return;
	count_of(n, v, sizeof(v));
	*used += (size_t)snprintf(buf + *used, len - *used, "%s %s: %s", *used ? ";" : "", what, v);
}

/* What the run could not keep: never lost silently. */
static void print_dropped(const struct out *o, const struct pl_ledger *l, bool verbose)
{
	char list[512], text[600];
	size_t used = 0;

	list[0] = '\0';
	list_count(list, sizeof(list), &used, l->stacks_dropped,
		   "user stacks the stack map had no room for (callers unknown)");
	list_count(list, sizeof(list), &used, l->sites_dropped,
		   "calls whose site the site table had no room for");
	list_count(list, sizeof(list), &used, l->chunks_dropped,
		   "range updates the kernel's chunk map had no room for");
	list_count(list, sizeof(list), &used, l->marks_truncated,
		   "releases too large to mark page by page");
	list_count(list, sizeof(list), &used, l->ranges_alloc_failures,
		   "range rows that found no memory");
	list_count(list, sizeof(list), &used, l->probes_skipped, "probes this kernel lacks");
	list_count(list, sizeof(list), &used, l->bad_records, "malformed records");
	if (used) {
		snprintf(text, sizeof(text), "not counted:%s", list);
		para(o, 2, text);
	}
	if (!verbose)
		return;
	snprintf(text, sizeof(text),
		 "run: records decoded: %llu; balances off: %llu; symbol cache: %llu hits, %llu "
		 "misses",
		 (unsigned long long)l->events, (unsigned long long)l->balances_off,
		 (unsigned long long)l->symbol_cache_hits,
		 (unsigned long long)l->symbol_cache_misses);
	para(o, 2, text);
}

/* The closing identity, and the calls a concurrent counter fold may have moved. */
static void print_ledger_check(const struct out *o, const struct pl_ledger *l)
{
	char rss[96], text[320];

	if (pl_rss_zero(l->closure_end)) {
		para(o, 2, "ledger closes: start + every call + every cause = end, to the byte");
	} else {
		pl_text_format_rss(l->closure_end, rss, sizeof(rss));
		snprintf(text, sizeof(text), "ledger does not close by %s (please report)", rss);
		para(o, 2, text);
	}
	if (l->rss_inexact_calls || l->rss_inexact_late) {
		snprintf(text, sizeof(text),
			 "%llu calls may be off by another CPU's counter fold in the same instant "
			 "(flagged), %llu more already out",
			 (unsigned long long)l->rss_inexact_calls,
			 (unsigned long long)l->rss_inexact_late);
		para(o, 2, text);
	}
}

static void print_end(const struct out *o, const struct pl_ledger *l, bool verbose)
{
	char text[96];

	if (l->exited) {
		if (WIFSIGNALED(l->exit_status))
			snprintf(text, sizeof(text), "target exited on signal %d",
				 WTERMSIG(l->exit_status));
		else
			snprintf(text, sizeof(text), "target exited with status %d",
				 WEXITSTATUS(l->exit_status));
		para(o, 2, text);
	}
	snprintf(text, sizeof(text), "lost events: %llu",
		 (unsigned long long)(l->lost_events + l->inflight_drops));
	para(o, 2, text);
	print_dropped(o, l, verbose);
}

void pl_text_summary(FILE *f, const struct pl_ledger *l, int width, bool verbose)
{
	const struct out o = {.f = f, .width = width};
	char text[96];

	snprintf(text, sizeof(text), "Summary for pid %u over %.3f s", l->pid,
		 (double)(l->t_end_ns - l->t_start_ns) / 1e9);
	fputc('\n', f);
	line_out(&o, text);
	print_syscall_table(&o, l);
	print_callers(&o, l);
	print_top_sites(&o, l);
	print_lazyfree_note(&o, l);
	snprintf(text, sizeof(text), "page faults: %llu", (unsigned long long)l->page_faults);
	fputc('\n', f);
	para(&o, 2, text);
	print_ledger_check(&o, l);
	print_rss_table(&o, l);
	print_other_changes(&o, l);
	print_causes(&o, l);
	print_ranges(&o, l);
	print_diagnosis(&o, l);
	fputc('\n', f);
	print_balance(&o, l);
	print_end(&o, l, verbose);
}
