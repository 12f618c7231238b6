// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * --perfetto FILE. The format is the Trace Event Format's JSON object form:
 * {"traceEvents":[...]}, one event per line so that a truncated file is
 * easy to read and repair. Counters ("C") take their args as the series.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include "symbolize/attribution.h"
#include "symbolize/callers.h"
#include "util/grow.h"
#include "output/perfetto.h"

/* Microseconds since t0, signed: a call may have entered just before t0. */
static double rel_us(const struct pl_perfetto_fmt *p, uint64_t ts_ns)
{
	return (double)(int64_t)(ts_ns - p->t0_ns) / 1000.0;
}

static void event_open(struct pl_perfetto_fmt *p, const char *ph, const char *name, uint32_t pid,
		       uint32_t tid)
{
	fputs(p->first ? "\n" : ",\n", p->f);
	p->first = false;
	fprintf(p->f, "{\"ph\":\"%s\",\"name\":", ph);
	pl_json_write_string(p->f, name);
	fprintf(p->f, ",\"pid\":%" PRIu32 ",\"tid\":%" PRIu32, pid, tid);
}

void pl_perfetto_header(struct pl_perfetto_fmt *p)
{
	fputs("{\"displayTimeUnit\":\"ms\",\"traceEvents\":[", p->f);
	p->first = true;
}

void pl_perfetto_footer(struct pl_perfetto_fmt *p)
{
	fputs("\n]}\n", p->f);
}

void pl_perfetto_name(struct pl_perfetto_fmt *p, uint32_t pid, uint32_t tid, const char *name)
{
	event_open(p, "M", tid ? "thread_name" : "process_name", pid, tid ? tid : pid);
	fputs(",\"args\":{\"name\":", p->f);
	pl_json_write_string(p->f, name);
	fputs("}}", p->f);
}

static void rss_delta_args(FILE *f, const __s64 rss[PL_RSS_NR])
{
	fprintf(f,
		",\"rss_delta\":{\"anon\":%lld,\"file\":%lld,\"shmem\":%lld,\"swap\":%lld,"
		"\"resident\":%lld}",
		(long long)rss[PL_RSS_ANON], (long long)rss[PL_RSS_FILE],
		(long long)rss[PL_RSS_SHMEM], (long long)rss[PL_RSS_SWAP],
		(long long)pl_resident_delta(rss));
}

/* The call's own arguments: what a person looks for when clicking a slice. */
static void syscall_args(FILE *f, const struct pl_syscall_event *e)
{
	char a[64], b[64];
	int err = pl_syscall_failed(e);

	fprintf(f, "\"addr\":\"0x%" PRIx64 "\",\"len\":%" PRIu64 ",\"ret\":%lld",
		pl_syscall_addr(e), pl_syscall_len(e), (long long)e->ret);
	if (err) {
		fputs(",\"error\":", f);
		pl_json_write_string(f, pl_errno_name(err, a, sizeof(a)));
	}
	if (pl_syscall_has_advice(e->sys)) {
		fputs(",\"advice\":", f);
		pl_json_write_string(f, pl_advice_name(pl_syscall_advice(e), a, sizeof(a)));
	}
	if (e->sys == PL_SYS_MMAP) {
		pl_prot_str(e->args[2], a, sizeof(a));
		pl_mmap_flags_str(e->args[3], b, sizeof(b));
		fprintf(f, ",\"prot\":\"%s\",\"flags\":", a);
		pl_json_write_string(f, b);
	}
}

void pl_perfetto_syscall(struct pl_perfetto_fmt *p, const struct pl_syscall_event *e,
			 const char *caller_class)
{
	uint64_t start = e->hdr.ts_ns - e->duration_ns;

	event_open(p, "X", pl_syscall_name(e->sys), e->hdr.pid, e->hdr.tid);
	fprintf(p->f, ",\"cat\":\"syscall\",\"ts\":%.3f,\"dur\":%.3f,\"args\":{", rel_us(p, start),
		(double)e->duration_ns / 1000.0);
	syscall_args(p->f, e);
	if (!(e->flags & PL_SCF_RSS_UNKNOWN))
		rss_delta_args(p->f, e->rss_delta);
	if (caller_class) {
		fputs(",\"caller\":", p->f);
		pl_json_write_string(p->f, caller_class);
	}
	fputs("}}", p->f);
}

void pl_perfetto_instant(struct pl_perfetto_fmt *p, const char *name, uint32_t pid, uint32_t tid,
			 uint64_t ts_ns)
{
	event_open(p, "i", name, pid, tid);
	fprintf(p->f, ",\"s\":\"p\",\"ts\":%.3f}", rel_us(p, ts_ns));
}

static void counter(struct pl_perfetto_fmt *p, const char *name, uint32_t pid, uint64_t ts_ns)
{
	event_open(p, "C", name, pid, pid);
	fprintf(p->f, ",\"ts\":%.3f,\"args\":{", rel_us(p, ts_ns));
}

void pl_perfetto_sample(struct pl_perfetto_fmt *p, uint32_t pid, const struct pl_sample *s,
			const struct pl_sample *prev)
{
	counter(p, "rss", pid, s->ts_ns);
	fprintf(p->f, "\"anon\":%lld,\"file\":%lld,\"shmem\":%lld,\"swap\":%lld}}",
		(long long)s->rss[PL_RSS_ANON], (long long)s->rss[PL_RSS_FILE],
		(long long)s->rss[PL_RSS_SHMEM], (long long)s->rss[PL_RSS_SWAP]);
	/* Unknown is no sample at all: a 0 would draw a drop that never happened. */
	if (s->lazy_pending >= 0) {
		counter(p, "lazy_free_pending", pid, s->ts_ns);
		fprintf(p->f, "\"bytes\":%lld}}", (long long)s->lazy_pending);
	}
	counter(p, "page_faults", pid, s->ts_ns);
	fprintf(p->f, "\"total\":%" PRIu64 "}}", s->page_faults);
	if (prev && s->ts_ns > prev->ts_ns && s->page_faults >= prev->page_faults) {
		double dt = (double)(s->ts_ns - prev->ts_ns) / 1e9;

		counter(p, "page_faults_per_sec", pid, s->ts_ns);
		fprintf(p->f, "\"rate\":%.1f}}", (double)(s->page_faults - prev->page_faults) / dt);
	}
}

/* ---- the sink --------------------------------------------------------------- */

struct perfetto_sink {
	struct pl_perfetto_fmt fmt;
	struct pl_sample prev;
	bool have_prev;
	uint32_t pid;	/* the target: its counters are process tracks */
	uint64_t *seen; /* (pid << 32 | tid) of threads already named */
	size_t n_seen, cap_seen;
};

/* Names each thread once, from the comm of its first call. */
static void name_thread(struct perfetto_sink *s, uint32_t pid, uint32_t tid, const char *comm)
{
	uint64_t key = (uint64_t)pid << 32 | tid;

	for (size_t i = 0; i < s->n_seen; i++)
		if (s->seen[i] == key)
			return;
	if (!pl_grow((void **)&s->seen, &s->cap_seen, s->n_seen, sizeof(*s->seen), 16))
		return; /* unnamed tracks, nothing worse */
	s->seen[s->n_seen++] = key;
	pl_perfetto_name(&s->fmt, pid, tid, comm);
}

static void perfetto_begin(struct pl_output *o, const struct pl_run_info *info)
{
	struct perfetto_sink *s = o->priv;

	s->fmt.t0_ns = info->t0_ns;
	s->pid = info->pid;
	pl_perfetto_header(&s->fmt);
	pl_perfetto_name(&s->fmt, info->pid, 0, info->comm);
	name_thread(s, info->pid, info->pid, info->comm);
}

static void perfetto_record(struct pl_output *o, const struct pl_record *r)
{
	struct perfetto_sink *s = o->priv;
	const struct pl_event_hdr *h;

	switch (r->type) {
	case PL_EV_SYSCALL:
		h = &r->sys->hdr;
		name_thread(s, h->pid, h->tid, r->sys->comm);
		pl_perfetto_syscall(&s->fmt, r->sys,
				    r->caller ? pl_caller_class_name(r->caller->cls) : NULL);
		break;
	case PL_EV_EXEC:
		h = &r->exec->hdr;
		pl_perfetto_instant(&s->fmt, "exec", h->pid, h->tid, h->ts_ns);
		/* The later name wins: a spawned command's own, not the path we ran. */
		pl_perfetto_name(&s->fmt, h->pid, 0, r->exec->comm);
		pl_perfetto_name(&s->fmt, h->pid, h->pid, r->exec->comm);
		break;
	case PL_EV_EXIT:
		h = &r->exit->hdr;
		pl_perfetto_instant(&s->fmt, "exit", h->pid, h->tid, h->ts_ns);
		break;
	}
}

static void perfetto_sample(struct pl_output *o, const struct pl_sample *smp)
{
	struct perfetto_sink *s = o->priv;

	pl_perfetto_sample(&s->fmt, s->pid, smp, s->have_prev ? &s->prev : NULL);
	s->prev = *smp;
	s->prev.top_ranges = NULL; /* valid only during the call */
	s->prev.n_top_ranges = 0;
	s->have_prev = true;
}

static void perfetto_end(struct pl_output *o)
{
	struct perfetto_sink *s = o->priv;

	pl_perfetto_footer(&s->fmt); /* the caller owns the file: it checks and closes it */
	o->f = NULL;
	free(s->seen);
	free(s);
	o->priv = NULL;
}

/* The trace carries no summary, balances or causes: the stream has them. */
static const struct pl_output_ops perfetto_ops = {
    .begin = perfetto_begin,
    .record = perfetto_record,
    .sample = perfetto_sample,
    .end = perfetto_end,
};

int pl_output_perfetto_init(struct pl_output *o, FILE *f)
{
	struct perfetto_sink *s = calloc(1, sizeof(*s));

	memset(o, 0, sizeof(*o));
	if (!s) {
		fprintf(stderr, "pageledger: out of memory\n");
		return -1;
	}
	o->f = f;
	s->fmt.f = o->f;
	o->ops = &perfetto_ops;
	o->priv = s;
	return 0;
}
