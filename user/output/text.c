// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include "symbolize/attribution.h"
#include "output/output.h"

static void format_balance(const struct pl_balance *b, char *buf, size_t len);
static bool format_go_heap(const struct pl_go_heap *g, char *buf, size_t len);
static void print_causes(FILE *f, const struct pl_ledger *l);
static void print_diagnosis(FILE *f, const struct pl_ledger *l);

#define HDR_FMT "%-11s %-7s %-15s %-27s %8s %-34s %-7s %-23s %s\n"

void pl_text_format_rss(const __s64 rss[PL_RSS_NR], char *buf, size_t len)
{
	static const int order[] = {PL_RSS_ANON, PL_RSS_FILE, PL_RSS_SHMEM, PL_RSS_SWAP};
	size_t used = 0;
	char v[32];
	int n;

	buf[0] = '\0';
	for (size_t i = 0; i < 4; i++) {
		if (!rss[order[i]])
			continue;
		pl_format_delta(rss[order[i]], v, sizeof(v));
		n = snprintf(buf + used, len - used, "%s%s %s", used ? " " : "",
			     pl_rss_member_name(order[i]), v);
		if (n < 0 || (size_t)n >= len - used)
			return;
		used += n;
	}
	if (!used)
		snprintf(buf, len, "0");
}

static void format_detail(const struct pl_syscall_event *e, char *buf, size_t len)
{
	char a[64], b[64];

	switch (e->sys) {
	case PL_SYS_MMAP:
		pl_prot_str(e->args[2], a, sizeof(a));
		pl_mmap_flags_str(e->args[3], b, sizeof(b));
		if ((int)e->args[4] >= 0)
			snprintf(buf, len, "%s %s fd=%d", a, b, (int)e->args[4]);
		else
			snprintf(buf, len, "%s %s", a, b);
		break;
	case PL_SYS_MADVISE:
	case PL_SYS_PROCESS_MADVISE:
		snprintf(buf, len, "%s", pl_advice_name(pl_syscall_advice(e), a, sizeof(a)));
		if (e->sys == PL_SYS_PROCESS_MADVISE) {
			size_t n = strlen(buf);
			snprintf(buf + n, len - n, " pid=%u", e->target_pid);
		}
		break;
	case PL_SYS_MREMAP:
		pl_mremap_flags_str(e->args[3], b, sizeof(b));
		pl_format_size((int64_t)e->args[1], a, sizeof(a));
		snprintf(buf, len, "from %llx/%s %s", (unsigned long long)e->args[0], a, b);
		break;
	case PL_SYS_BRK:
		if (pl_syscall_failed(e) || (uint64_t)e->ret == e->old_brk)
			snprintf(buf, len, "query");
		else
			snprintf(buf, len, "%s", (uint64_t)e->ret > e->old_brk ? "grow" : "shrink");
		break;
	default:
		buf[0] = '\0';
	}
}

void pl_text_format_syscall(const struct pl_syscall_event *e, uint64_t t0_ns, const char *caller,
			    char *buf, size_t len)
{
	char ts[32], tid[16], range[48], size[16], detail[160], result[24], rss[96];
	uint64_t addr = pl_syscall_addr(e), n = pl_syscall_len(e);
	int err = pl_syscall_failed(e);
	const char *res = err ? pl_errno_name(err, result, sizeof(result)) : "ok";

	snprintf(ts, sizeof(ts), "%.6f",
		 e->hdr.ts_ns >= t0_ns ? (double)(e->hdr.ts_ns - t0_ns) / 1e9 : 0.0);
	snprintf(tid, sizeof(tid), "%u", e->hdr.tid);
	snprintf(range, sizeof(range), "%llx-%llx", (unsigned long long)addr,
		 (unsigned long long)(addr + n));
	pl_format_size((int64_t)n, size, sizeof(size));
	format_detail(e, detail, sizeof(detail));
	if (e->flags & PL_SCF_RSS_UNKNOWN)
		snprintf(rss, sizeof(rss), "?");
	else
		pl_text_format_rss(e->rss_delta, rss, sizeof(rss));
	snprintf(buf, len, "%-11s %-7s %-15s %-27s %8s %-34s %-7s %-23s %s", ts, tid,
		 pl_syscall_name(e->sys), range, size, detail, res, caller ? caller : "-", rss);
}

void pl_format_frame(const struct pl_frame *f, char *buf, size_t len)
{
	const char *module = f->module ? f->module : "[unknown]";

	if (!f->func)
		snprintf(buf, len, "0x%llx (%s)", (unsigned long long)f->addr, module);
	else if (f->file && f->line)
		snprintf(buf, len, "%s%s (%s:%d)", f->func, f->inlined ? " [inlined]" : "", f->file,
			 f->line);
	else
		snprintf(buf, len, "%s+0x%llx (%s)", f->func, (unsigned long long)f->func_off,
			 module);
}

static void print_stack(FILE *f, const struct pl_caller *c)
{
	char frame[512];

	for (int i = 0; i < c->nframes; i++) {
		pl_format_frame(&c->frames[i], frame, sizeof(frame));
		fprintf(f, "            #%-2d %016llx %s%s\n", i,
			(unsigned long long)c->frames[i].addr, frame,
			i == c->site ? "  <- call site" : "");
	}
}

static void text_begin(struct pl_output *o, const struct pl_run_info *info)
{
	o->t0_ns = info->t0_ns;
	if (o->quiet)
		return;
	fprintf(o->f, HDR_FMT, "TIME(s)", "TID", "SYSCALL", "RANGE", "SIZE", "DETAIL", "RESULT",
		"CALLER", "RSS-CHANGE");
	fflush(o->f);
}

/* Seconds since t0; records raised before t0 (between attach and start) show 0. */
static double rel_s(uint64_t ts_ns, uint64_t t0_ns)
{
	return ts_ns >= t0_ns ? (double)(ts_ns - t0_ns) / 1e9 : 0.0;
}

static void text_record(struct pl_output *o, const struct pl_record *r)
{
	char line[512], rss[96];

	if (o->quiet)
		return;
	switch (r->type) {
	case PL_EV_SYSCALL:
		pl_text_format_syscall(r->sys, o->t0_ns,
				       r->caller ? pl_caller_class_name(r->caller->cls) : NULL,
				       line, sizeof(line));
		fprintf(o->f, "%s\n", line);
		if (o->stacks && r->caller)
			print_stack(o->f, r->caller);
		break;
	case PL_EV_EXEC:
		pl_text_format_rss(r->exec->rss, rss, sizeof(rss));
		fprintf(o->f, "%-11.6f %-7u %-15s %s: new address space, rss %s\n",
			rel_s(r->exec->hdr.ts_ns, o->t0_ns), r->exec->hdr.tid, "exec",
			r->exec->comm, rss);
		break;
	case PL_EV_EXIT:
		fprintf(o->f, "%-11.6f %-7u %-15s process exited\n",
			rel_s(r->exit->hdr.ts_ns, o->t0_ns), r->exit->hdr.tid, "exit");
		break;
	}
}

static void print_stat_row(FILE *f, const char *sys, const char *advice, const struct pl_stat *s)
{
	char req[16], freed[16], gained[16];

	pl_format_size((int64_t)s->bytes, req, sizeof(req));
	pl_format_delta(-(int64_t)s->rss_released, freed, sizeof(freed));
	pl_format_delta((int64_t)s->rss_gained, gained, sizeof(gained));
	fprintf(f, "  %-16s %-22s %8llu %7llu %10s %10s %10s\n", sys, advice,
		(unsigned long long)s->calls, (unsigned long long)s->errors, req, freed, gained);
}

static void print_syscall_table(FILE *f, const struct pl_ledger *l)
{
	struct pl_stat total;
	char abuf[32];

	fprintf(f, "  %-16s %-22s %8s %7s %10s %10s %10s\n", "SYSCALL", "ADVICE", "CALLS", "ERRORS",
		"REQUESTED", "RSS-FREED", "RSS-GAINED");
	for (int sys = 0; sys < PL_SYS_NR; sys++) {
		for (int a = 0; a < PL_ADVICE_SLOTS; a++) {
			const struct pl_stat *s = &l->stats[sys][a];
			const char *advice = "-";

			if (!s->calls)
				continue;
			if (pl_syscall_has_advice(sys))
				advice = a == PL_ADVICE_SLOTS - 1
					     ? "other"
					     : pl_advice_name(a, abuf, sizeof(abuf));
			print_stat_row(f, pl_syscall_name(sys), advice, s);
		}
	}
	pl_ledger_total(l, &total);
	print_stat_row(f, "total", "", &total);
}

static void print_rss_row(FILE *f, const char *label, const __s64 rss[PL_RSS_NR], bool sign)
{
	void (*fmt)(int64_t, char *, size_t) = sign ? pl_format_delta : pl_format_size;
	char a[16], fl[16], sh[16], sw[16], t[16];

	fmt(rss[PL_RSS_ANON], a, sizeof(a));
	fmt(rss[PL_RSS_FILE], fl, sizeof(fl));
	fmt(rss[PL_RSS_SHMEM], sh, sizeof(sh));
	fmt(rss[PL_RSS_SWAP], sw, sizeof(sw));
	fmt(pl_rss_total(rss), t, sizeof(t));
	fprintf(f, "  %-16s %10s %10s %10s %10s %10s\n", label, a, fl, sh, sw, t);
}

static void print_rss_table(FILE *f, const struct pl_ledger *l)
{
	__s64 change[PL_RSS_NR];
	char peak[16];

	fprintf(f, "  %-16s %10s %10s %10s %10s %10s\n", "RSS", "ANON", "FILE", "SHMEM", "SWAP",
		"RESIDENT");
	print_rss_row(f, "start", l->rss_start, false);
	print_rss_row(f, "end", l->rss_end, false);
	print_rss_row(f, "peak", l->rss_peak, false);
	for (int m = 0; m < PL_RSS_NR; m++)
		change[m] = l->rss_end[m] - l->rss_start[m];
	print_rss_row(f, "change", change, true);
	pl_format_size(l->rss_peak_total, peak, sizeof(peak));
	fprintf(f, "  highest resident total: %s\n", peak);
}

static void print_other_changes(FILE *f, const struct pl_ledger *l)
{
	char rss[96];

	if (l->rss_other_updates) {
		pl_text_format_rss(l->rss_other_delta, rss, sizeof(rss));
		fprintf(f,
			"  changed by other tasks (reclaim, khugepaged, ...): %s in %llu updates\n",
			rss, (unsigned long long)l->rss_other_updates);
	}
	if (l->exited) {
		pl_text_format_rss(l->rss_exit_delta, rss, sizeof(rss));
		fprintf(f, "  exit teardown: %s\n", rss);
	}
}

/* The closing identity, and the calls a concurrent counter fold may have moved. */
static void print_ledger_check(FILE *f, const struct pl_ledger *l)
{
	char rss[96];

	if (pl_rss_zero(l->closure_end)) {
		fprintf(f,
			"  ledger closes: start + every call + every cause = end, to the byte\n");
	} else {
		pl_text_format_rss(l->closure_end, rss, sizeof(rss));
		fprintf(f, "  ledger does not close by %s (please report)\n", rss);
	}
	if (l->rss_inexact_calls || l->rss_inexact_late)
		fprintf(f,
			"  %llu calls may be off by another CPU's counter fold in the same instant"
			" (flagged), %llu more already out\n",
			(unsigned long long)l->rss_inexact_calls,
			(unsigned long long)l->rss_inexact_late);
}

/* MADV_FREE looks like a release to the allocator and like nothing to RSS. */
static void print_lazyfree_note(FILE *f, const struct pl_ledger *l)
{
	uint64_t advised, released;
	char a[16], r[16], left[16];

	pl_ledger_lazy_free(l, &advised, &released);
	if (!advised)
		return;
	pl_format_size((int64_t)advised, a, sizeof(a));
	pl_format_size((int64_t)released, r, sizeof(r));
	pl_format_size(advised > released ? (int64_t)(advised - released) : 0, left, sizeof(left));
	fprintf(f,
		"\n  note: %s advised with MADV_FREE; %s left RSS at the call and %s stayed\n"
		"  resident, lazily freed (LazyFree in smaps): it goes only when memory\n"
		"  pressure reclaims it or it is unmapped. Go: GODEBUG=madvdontneed=1\n"
		"  returns memory eagerly.\n",
		a, r, left);
}

static const char *verb_of(uint32_t sys)
{
	switch (sys) {
	case PL_SYS_MMAP:
		return "mapped";
	case PL_SYS_MUNMAP:
		return "unmapped";
	case PL_SYS_MREMAP:
		return "remapped";
	case PL_SYS_BRK:
		return "moved the break by";
	default:
		return "advised";
	}
}

/* "Go background scavenger: 502.0M advised in 1,204 calls (MADV_DONTNEED) -> RSS -498.0M" */
static void print_class_row(FILE *f, const struct pl_class_row *r)
{
	char bytes[16], freed[16], gained[16], what[40], calls[32];
	unsigned long long n = (unsigned long long)r->st.calls;
	const char *how = pl_syscall_has_advice(r->sys)
			      ? pl_advice_name(r->advice_slot, what, sizeof(what))
			      : pl_syscall_name(r->sys);

	pl_format_size((int64_t)r->st.bytes, bytes, sizeof(bytes));
	pl_format_delta(-(int64_t)r->st.rss_released, freed, sizeof(freed));
	pl_format_delta((int64_t)r->st.rss_gained, gained, sizeof(gained));
	if (n >= 1000)
		snprintf(calls, sizeof(calls), "%llu,%03llu", n / 1000, n % 1000);
	else
		snprintf(calls, sizeof(calls), "%llu", n);
	fprintf(f, "  %s: %s %s in %s call%s (%s) -> RSS %s", pl_caller_class_label(r->cls), bytes,
		verb_of(r->sys), calls, n == 1 ? "" : "s", how, freed);
	if (r->st.rss_gained)
		fprintf(f, ", %s", gained);
	fputc('\n', f);
}

static void print_callers(FILE *f, const struct pl_ledger *l)
{
	if (!l->n_class_rows)
		return;
	fprintf(f, "\n  By caller:\n");
	for (int i = 0; i < l->n_class_rows; i++)
		print_class_row(f, &l->class_rows[i]);
}

#define TOP_SITES 10

static void print_top_sites(FILE *f, const struct pl_ledger *l)
{
	char bytes[16], freed[16];

	if (!l->n_sites)
		return;
	fprintf(f, "\n  Top call sites by bytes:\n  %10s %8s %10s  %-23s %s\n", "BYTES", "CALLS",
		"RSS-FREED", "CALLER", "SITE");
	for (int i = 0; i < l->n_sites && i < TOP_SITES; i++) {
		const struct pl_site_row *s = &l->sites[i];

		pl_format_size((int64_t)s->st.bytes, bytes, sizeof(bytes));
		pl_format_delta(-(int64_t)s->st.rss_released, freed, sizeof(freed));
		fprintf(f, "  %10s %8llu %10s  %-23s %s (%s)\n", bytes,
			(unsigned long long)s->st.calls, freed, pl_caller_class_name(s->cls),
			s->func, s->module);
	}
}

static void print_range_row(FILE *f, const char *where, const struct pl_range_row *w)
{
	char mapped[16], faulted[16], released[16], lazy[16], reclaimed[16], refaulted[16], thp[16];

	pl_format_size((int64_t)w->mapped, mapped, sizeof(mapped));
	pl_format_size((int64_t)w->faulted, faulted, sizeof(faulted));
	pl_format_size((int64_t)w->released, released, sizeof(released));
	pl_format_size((int64_t)w->lazy_pending, lazy, sizeof(lazy));
	pl_format_size((int64_t)w->reclaimed, reclaimed, sizeof(reclaimed));
	pl_format_size((int64_t)w->refaulted, refaulted, sizeof(refaulted));
	pl_format_size((int64_t)(w->collapsed_madvise + w->collapsed_khugepaged), thp, sizeof(thp));
	fprintf(f, "    %-27s %-14.14s %8s %8s %8s %8s %8s %6s %8s", where, w->name, mapped,
		faulted, released, lazy, reclaimed, thp, refaulted);
	if (w->refaults)
		fprintf(f, " after %.1f ms", (double)w->refault_delay_mean_ns / 1e6);
	fprintf(f, "\n");
}

#define TEXT_RANGES 10

static void print_ranges(FILE *f, const struct pl_ledger *l)
{
	char where[40];

	if (!l->have_ranges)
		return;
	fprintf(f, "\n  Ranges, largest first (refaulted: after a release; mean delay):\n");
	fprintf(f, "    %-27s %-14s %8s %8s %8s %8s %8s %6s %8s\n", "range", "name", "mapped",
		"faulted", "released", "lazyfree", "reclaimd", "THP+", "refaultd");
	for (size_t i = 0; i < l->n_ranges_top && i < TEXT_RANGES; i++) {
		const struct pl_range_row *w = &l->ranges_top[i];

		snprintf(where, sizeof(where), "%llx-%llx", (unsigned long long)w->start,
			 (unsigned long long)w->end);
		print_range_row(f, where, w);
	}
	print_range_row(f, "all mapped", &l->ranges_live);
	print_range_row(f, "unmapped since attach", &l->ranges_gone);
}

static void text_summary(struct pl_output *o, const struct pl_ledger *l)
{
	FILE *f = o->f;

	fprintf(f, "\nSummary for pid %u over %.3f s\n", l->pid,
		(double)(l->t_end_ns - l->t_start_ns) / 1e9);
	print_syscall_table(f, l);
	print_callers(f, l);
	print_top_sites(f, l);
	print_lazyfree_note(f, l);
	fprintf(f, "\n  page faults: %llu\n", (unsigned long long)l->page_faults);
	print_ledger_check(f, l);
	fputc('\n', f);
	print_rss_table(f, l);
	print_other_changes(f, l);
	print_causes(f, l);
	print_ranges(f, l);
	print_diagnosis(f, l);
	if (l->have_balance) {
		char line[320], lazy[16];

		format_balance(&l->last_balance, line, sizeof(line));
		fprintf(f, "  %s\n", line);
		if (format_go_heap(&l->last_balance.go_heap, line, sizeof(line)))
			fprintf(f, "  %s\n", line);
		if (l->last_balance.kernel.have_rollup) {
			pl_format_size(l->last_balance.kernel.lazy_free, lazy, sizeof(lazy));
			fprintf(f, "  kernel LazyFree (MADV_FREE'd, not yet reclaimed): %s\n",
				lazy);
		}
	}
	if (l->exited) {
		if (WIFSIGNALED(l->exit_status))
			fprintf(f, "  target exited on signal %d\n", WTERMSIG(l->exit_status));
		else
			fprintf(f, "  target exited with status %d\n", WEXITSTATUS(l->exit_status));
	}
	fprintf(f, "  lost events: %llu\n",
		(unsigned long long)(l->lost_events + l->inflight_drops));
	fflush(f);
}

/* "balance (end): ledger anon 24.1M file 1.4M shmem 0B | kernel ... | exact" */
static void format_balance(const struct pl_balance *b, char *buf, size_t len)
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
	snprintf(buf, len,
		 "balance (%s): ledger anon %s file %s shmem %s | /proc anon %s file %s shmem %s | "
		 "%s%s",
		 b->when, la, lf, ls, ka, kf, ks, exact ? "exact" : "off by ", exact ? "" : d);
}

/* "go heap (go1.19.8): in use 100.9M idle 103.1M released 48.3M retained 54.9M"; false if unread.
 */
static bool format_go_heap(const struct pl_go_heap *g, char *buf, size_t len)
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

static void text_balance(struct pl_output *o, const struct pl_balance *b, uint32_t pid)
{
	char line[320];

	(void)pid;
	if (o->quiet)
		return;
	format_balance(b, line, sizeof(line));
	fprintf(o->f, "%-11.6f %-7s %s\n", rel_s(b->ts_ns, o->t0_ns), "-", line);
	if (format_go_heap(&b->go_heap, line, sizeof(line)))
		fprintf(o->f, "%-11.6f %-7s %s\n", rel_s(b->ts_ns, o->t0_ns), "-", line);
}

static void text_rss_change(struct pl_output *o, const struct pl_cause_acc *delta, uint64_t ts_ns,
			    uint32_t pid)
{
	char rss[96];

	(void)pid;
	if (o->quiet)
		return;
	for (int c = 0; c < PL_CAUSE_NR; c++) {
		if (!delta->delta[c][0] && !delta->delta[c][1] && !delta->delta[c][2] &&
		    !delta->delta[c][3])
			continue;
		pl_text_format_rss(delta->delta[c], rss, sizeof(rss));
		fprintf(o->f, "%-11.6f %-7s %-15s %s: %s (%llu updates)\n", rel_s(ts_ns, o->t0_ns),
			"-", "rss_change", pl_cause_name(c), rss,
			(unsigned long long)delta->updates[c]);
	}
}

static void print_diagnosis_row(FILE *f, const char *what, int64_t bytes, const char *hint)
{
	char v[16];

	pl_format_size(bytes, v, sizeof(v));
	fprintf(f, "    %-38s %10s%s%s\n", what, v, hint && bytes ? "  " : "",
		hint && bytes ? hint : "");
}

/* Under "in use": the Go heap's part (user/goheap), then its hint, wrapped. */
static void print_diagnosis_go(FILE *f, const struct pl_diagnosis *d)
{
	char hint[512];
	const char *p = hint;

	if (!d->go_known)
		return;
	print_diagnosis_row(f, "  Go heap in use", d->go_inuse, NULL);
	print_diagnosis_row(f, "  Go heap retained (not scavenged)", d->go_retained, NULL);
	print_diagnosis_row(f, "  the rest (stacks, runtime, non-heap)", d->go_other, NULL);
	if (!pl_diagnosis_go_hint(d, hint, sizeof(hint)))
		return;
	while (*p) {
		int n = (int)strlen(p), cut = n;

		if (n > 66)
			for (cut = 66; cut > 0 && p[cut] != ' '; cut--)
				;
		cut = cut > 0 ? cut : (n < 66 ? n : 66);
		fprintf(f, "      %s%.*s\n", p == hint ? "hint: " : "      ", cut, p);
		p += cut;
		while (*p == ' ')
			p++;
	}
}

static void print_diagnosis(FILE *f, const struct pl_ledger *l)
{
	struct pl_diagnosis d;
	char total[16];

	pl_diagnose(l, &d);
	pl_format_size(d.resident, total, sizeof(total));
	fprintf(f, "\n  Diagnosis: resident %s at the end (%s), by cause:\n", total,
		d.from_kernel ? "/proc's figures" : "the ledger's figures");
	print_diagnosis_row(f, "in use (mapped and touched)", d.in_use, NULL);
	print_diagnosis_go(f, &d);
	if (d.lazy_free >= 0)
		print_diagnosis_row(f, "MADV_FREE'd, not yet reclaimed", d.lazy_free,
				    "goes under memory pressure; Go: GODEBUG=madvdontneed=1");
	else
		fprintf(f, "    %-38s %10s  (the process exited before /proc could be read)\n",
			"MADV_FREE'd, not yet reclaimed", "unknown");
	print_diagnosis_row(f, "huge-page holes filled (THP collapse)", d.thp_filled,
			    "see khugepaged/max_ptes_none; Go: GODEBUG=disablethp=1 (1.21.6+)");
	print_diagnosis_row(f, "file-backed", d.file, NULL);
	print_diagnosis_row(f, "shmem", d.shmem, NULL);
	print_diagnosis_row(f, "swapped out (not resident)", d.swap, NULL);
	if (d.churn < 0) {
		fprintf(f, "    churn (released, then faulted back): not measured\n");
		return;
	}
	print_diagnosis_row(f, "churn: released, then faulted back", d.churn,
			    "(part of the above) the allocator gives memory back too eagerly");
	if (d.churn_refaults)
		fprintf(f, "    %-38s %10llu  first after %.1f ms, mean %.1f ms\n", "  refaults",
			(unsigned long long)d.churn_refaults, (double)d.churn_delay_min_ns / 1e6,
			(double)d.churn_delay_mean_ns / 1e6);
}

static void print_causes(FILE *f, const struct pl_ledger *l)
{
	char rss[96];
	bool any = false;

	for (int c = 0; c < PL_CAUSE_NR; c++) {
		const __s64 *d = l->causes.delta[c];

		if (!d[0] && !d[1] && !d[2] && !d[3])
			continue;
		if (!any)
			fprintf(f, "\n  RSS changes outside the syscalls, by cause:\n");
		any = true;
		pl_text_format_rss(d, rss, sizeof(rss));
		fprintf(f, "  %-22s %s\n", pl_cause_name(c), rss);
	}
}

static const struct pl_output_ops text_ops = {
    .begin = text_begin,
    .record = text_record,
    .summary = text_summary,
    .balance = text_balance,
    .rss_change = text_rss_change,
};

void pl_output_text_init(struct pl_output *o, FILE *f, bool quiet)
{
	memset(o, 0, sizeof(*o));
	o->ops = &text_ops;
	o->f = f;
	o->quiet = quiet;
}
