// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <string.h>
#include <unistd.h>
#include "output/folded.h"
#include "output/metrics.h"
#include "output/perfetto.h"
#include "output/pprof.h"
#include "output/report.h"
#include "output/sinks.h"

int pl_sinks_add(struct pl_sinks *s, const struct pl_output *o)
{
	if (s->n >= PL_MAX_SINKS) {
		fprintf(stderr, "pageledger: too many outputs\n");
		return -1;
	}
	s->out[s->n++] = *o;
	return 0;
}

static int open_stream(struct pl_sinks *s, FILE *f, int fd, const struct pl_config *cfg)
{
	struct pl_text_opts text = {
	    .quiet = cfg->quiet,
	    .stacks = cfg->stacks,
	    .wall_clock = cfg->wall_clock,
	    .verbose = cfg->verbose,
	    .fd = fd,
	};
	struct pl_output o;
	int err;

	if (pl_cli_want_top(cfg, isatty(STDOUT_FILENO)))
		err = pl_output_top_init(&o, f, &text);
	else if (cfg->json)
		err = pl_output_json_init(&o, f, cfg->quiet);
	else
		err = pl_output_text_init(&o, f, &text);
	return err ? -1 : pl_sinks_add(s, &o);
}

/*
 * --perfetto, --report, --folded, --pprof: beside the stream, each on a file
 * the caller opened; --metrics on the endpoint it started.
 */
static int open_files(struct pl_sinks *s, const struct pl_sink_files *files,
		      const struct pl_config *cfg)
{
	struct pl_output o;

	if (files->perfetto &&
	    (pl_output_perfetto_init(&o, files->perfetto) || pl_sinks_add(s, &o)))
		return -1;
	if (files->report &&
	    (pl_output_report_init(&o, files->report, cfg->report_path) || pl_sinks_add(s, &o)))
		return -1;
	if (files->folded &&
	    (pl_output_folded_init(&o, files->folded,
				   cfg->folded_by_mapped ? PL_FOLDED_MAPPED : PL_FOLDED_RELEASED) ||
	     pl_sinks_add(s, &o)))
		return -1;
	if (files->pprof && (pl_output_pprof_init(&o, files->pprof) || pl_sinks_add(s, &o)))
		return -1;
	if (files->metrics && (pl_output_metrics_init(&o, files->metrics) || pl_sinks_add(s, &o)))
		return -1;
	return 0;
}

int pl_sinks_open(struct pl_sinks *s, const struct pl_sink_files *files,
		  const struct pl_config *cfg)
{
	memset(s, 0, sizeof(*s));
	s->filter = cfg->filter;
	if (open_stream(s, files->stream, files->stream_fd, cfg))
		return -1;
	return open_files(s, files, cfg);
}

/*
 * Whether o is handed an event its op (if any) takes: a quiet sink gets
 * the run's start (what it is about, never written out), its summary and
 * its end.
 */
static bool takes(const struct pl_output *o, bool has_op)
{
	return has_op && !o->quiet;
}

void pl_sinks_begin(struct pl_sinks *s, const struct pl_run_info *info)
{
	for (struct pl_output *o = s->out; o < s->out + s->n; o++)
		if (o->ops->begin)
			o->ops->begin(o, info);
}

void pl_sinks_record(struct pl_sinks *s, const struct pl_record *r)
{
	if (r->type == PL_EV_SYSCALL &&
	    !pl_filter_shows(&s->filter, r->sys->sys, pl_syscall_len(r->sys), r->sys->hdr.tid))
		return;
	for (struct pl_output *o = s->out; o < s->out + s->n; o++)
		if (takes(o, o->ops->record))
			o->ops->record(o, r);
}

void pl_sinks_balance(struct pl_sinks *s, const struct pl_balance *b, uint32_t pid)
{
	for (struct pl_output *o = s->out; o < s->out + s->n; o++)
		if (takes(o, o->ops->balance))
			o->ops->balance(o, b, pid);
}

void pl_sinks_rss_change(struct pl_sinks *s, const struct pl_cause_acc *delta, uint64_t ts_ns,
			 uint32_t pid)
{
	for (struct pl_output *o = s->out; o < s->out + s->n; o++)
		if (takes(o, o->ops->rss_change))
			o->ops->rss_change(o, delta, ts_ns, pid);
}

bool pl_sinks_want_samples(const struct pl_sinks *s)
{
	for (const struct pl_output *o = s->out; o < s->out + s->n; o++)
		if (takes(o, o->ops->sample))
			return true;
	return false;
}

void pl_sinks_sample(struct pl_sinks *s, const struct pl_sample *smp)
{
	for (struct pl_output *o = s->out; o < s->out + s->n; o++)
		if (takes(o, o->ops->sample))
			o->ops->sample(o, smp);
}

void pl_sinks_ranges(struct pl_sinks *s, const struct pl_ranges_view *v)
{
	for (struct pl_output *o = s->out; o < s->out + s->n; o++)
		if (takes(o, o->ops->ranges))
			o->ops->ranges(o, v);
}

void pl_sinks_summary(struct pl_sinks *s, const struct pl_ledger *l)
{
	for (struct pl_output *o = s->out; o < s->out + s->n; o++)
		if (o->ops->summary)
			o->ops->summary(o, l);
}

void pl_sinks_end(struct pl_sinks *s)
{
	for (struct pl_output *o = s->out; o < s->out + s->n; o++)
		if (o->ops->end)
			o->ops->end(o);
	s->n = 0;
}

void pl_sinks_flush(struct pl_sinks *s)
{
	if (s->n && s->out[0].f)
		fflush(s->out[0].f);
}

bool pl_sinks_stop_requested(struct pl_sinks *s)
{
	for (struct pl_output *o = s->out; o < s->out + s->n; o++)
		if (o->ops->wants_stop && o->ops->wants_stop(o))
			return true;
	return false;
}
