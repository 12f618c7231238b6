// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <string.h>
#include "decode.h"
#include "ledger.h"

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

void pl_ledger_add_syscall(struct pl_ledger *l, const struct pl_syscall_event *e)
{
	unsigned int slot = 0;
	struct pl_stat *s;
	int64_t resident;

	if (e->sys >= PL_SYS_NR)
		return;
	if (pl_syscall_has_advice(e->sys))
		slot = pl_advice_slot(pl_syscall_advice(e));
	s = &l->stats[e->sys][slot];
	l->events++;
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
