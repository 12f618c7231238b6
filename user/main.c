// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* pageledger: orchestration. Everything with a purpose of its own lives elsewhere. */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include "attribution.h"
#include "cli.h"
#include "decode.h"
#include "ledger.h"
#include "loader.h"
#include "output.h"
#include "procstat.h"
#include "sysenv.h"
#include "target.h"

#define POLL_MS 100

static volatile sig_atomic_t stop_requested;

struct run;
static void take_balance(struct run *r, const char *when);

struct run {
	struct pl_config cfg;
	struct pl_target target;
	struct pl_tracer tracer;
	struct pl_ledger ledger;
	struct pl_output out; /* the stream: text or JSON Lines */
	struct pl_output *sinks[PL_MAX_SINKS]; /* out first, then file sinks */
	int n_sinks;
	struct pl_attributor attr;
	bool attributing;
	FILE *out_file;
};

static void on_stop_signal(int sig)
{
	/* A second Ctrl-C means "now": fall back to the default action. */
	if (stop_requested) {
		pl_output_top_restore_terminal(); /* the live view may hold the terminal */
		signal(sig, SIG_DFL), raise(sig);
	}
	stop_requested = 1;
}

static void install_signals(void)
{
	struct sigaction sa = {.sa_handler = on_stop_signal};

	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
}

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* Names who asked, and files the call under its class and call site. */
static void attribute(struct run *r, struct pl_record *rec, struct pl_caller *caller)
{
	const struct pl_frame *site;

	pl_attribute(&r->attr, rec->sys, caller);
	site = caller->site >= 0 ? &caller->frames[caller->site] : NULL;
	pl_ledger_add_caller(&r->ledger, rec->sys, caller->cls, site ? site->func : NULL,
			     site ? site->module : NULL);
	rec->caller = caller;
}

static int handle_record(void *ctx, void *data, size_t size)
{
	static struct pl_caller caller; /* 3.5 KiB: one at a time, off the stack */
	struct run *r = ctx;
	struct pl_record rec;

	if (pl_decode_record(data, size, &rec)) {
		r->ledger.bad_records++;
		return 0;
	}
	switch (rec.type) {
	case PL_EV_SYSCALL:
		pl_ledger_add_syscall(&r->ledger, rec.sys);
		if (r->attributing)
			attribute(r, &rec, &caller);
		break;
	case PL_EV_EXEC:
		pl_ledger_add_exec(&r->ledger, rec.exec);
		break;
	case PL_EV_EXIT:
		pl_ledger_add_exit(&r->ledger, rec.exit);
		break;
	}
	for (int i = 0; i < r->n_sinks; i++)
		r->sinks[i]->ops->record(r->sinks[i], &rec);
	return 0;
}

static int open_output(struct run *r)
{
	FILE *f = stdout;

	if (r->cfg.out_path) {
		f = fopen(r->cfg.out_path, "w");
		if (!f) {
			fprintf(stderr, "pageledger: cannot write %s: %s\n", r->cfg.out_path,
				strerror(errno));
			return -1;
		}
		r->out_file = f;
	}
	/*
	 * A command started with -- writes to the same stdout: whole lines keep
	 * the two streams from cutting into each other's lines.
	 */
	if (!r->cfg.out_path && r->cfg.cmd)
		setvbuf(stdout, NULL, _IOLBF, 0);
	if (pl_cli_want_top(&r->cfg, isatty(STDOUT_FILENO))) {
		if (pl_output_top_init(&r->out, f))
			return -1;
	} else if (r->cfg.json)
		pl_output_json_init(&r->out, f, r->cfg.quiet);
	else
		pl_output_text_init(&r->out, f, r->cfg.quiet);
	r->out.stacks = r->cfg.stacks;
	r->sinks[r->n_sinks++] = &r->out;
	return 0;
}

static int check_environment(void)
{
	if (pl_require_root() || pl_require_btf() || pl_require_tracefs())
		return -1;
	return 0;
}

static int start_tracing(struct run *r)
{
	struct pl_tracer_opts opts = {
	    .tgid = r->target.pid,
	    .ringbuf_size = r->cfg.ringbuf_size,
	    .verbose = r->cfg.verbose,
	    .on_record = handle_record,
	    .ctx = r,
	};
	struct pl_run_info info = {0};
	struct pl_totals totals;

	if (pl_tracer_start(&r->tracer, &opts))
		return -1;
	if (!r->cfg.no_stacks) {
		if (pl_attributor_init(&r->attr, &r->tracer, r->target.pid))
			fprintf(stderr, "pageledger: warning: no symbolizer; callers unknown\n");
		else
			r->attributing = true;
	}
	info.pid = (uint32_t)r->target.pid;
	info.comm = r->target.comm;
	info.t0_ns = now_ns();
	info.spawned = r->target.spawned;
	pl_tracer_totals(&r->tracer, &totals);
	memcpy(info.rss_start, totals.rss_start, sizeof(info.rss_start));
	pl_ledger_init(&r->ledger, info.pid, info.t0_ns);
	for (int i = 0; i < r->n_sinks; i++)
		r->sinks[i]->ops->begin(r->sinks[i], &info);
	if (!r->target.spawned)
		take_balance(r, "attach");
	if (r->target.spawned) {
		fprintf(stderr, "pageledger: tracing '%s' (pid %d)... Ctrl-C to end.\n",
			r->target.comm, r->target.pid);
		return pl_target_release(&r->target);
	}
	fprintf(stderr, "pageledger: tracing pid %d (%s)... Ctrl-C to end.\n", r->target.pid,
		r->target.comm);
	return 0;
}

/*
 * The ledger's RSS beside /proc's, now. Quiescent, they are equal to the
 * byte: rss_stat tracks the same exact counters that /proc sums.
 */
static void take_balance(struct run *r, const char *when)
{
	struct pl_balance b = {.when = when};
	struct pl_totals totals;

	if (pl_kernel_view_read(r->target.pid, &b.kernel) < 0)
		return; /* gone: nothing to hold the ledger against */
	pl_tracer_totals(&r->tracer, &totals);
	memcpy(b.ledger, totals.rss_cur, sizeof(b.ledger));
	b.ts_ns = now_ns();
	pl_ledger_add_balance(&r->ledger, &b);
	for (int i = 0; i < r->n_sinks; i++)
		r->sinks[i]->ops->balance(r->sinks[i], &b, (uint32_t)r->target.pid);
}

/* Batched rss_change records: what moved, by cause, since the last poll. */
static void flush_causes(struct run *r)
{
	struct pl_cause_acc now, delta;

	if (pl_tracer_causes(&r->tracer, &now) < 0)
		return;
	if (!pl_ledger_update_causes(&r->ledger, &now, &delta))
		return;
	for (int i = 0; i < r->n_sinks; i++)
		r->sinks[i]->ops->rss_change(r->sinks[i], &delta, now_ns(), (uint32_t)r->target.pid);
}

/* The running figures, for the sinks that draw them. */
static void send_sample(struct run *r)
{
	struct pl_sample s = {.ts_ns = now_ns(), .lazy_pending = -1};
	struct pl_totals totals;
	struct pl_stat all;

	pl_tracer_totals(&r->tracer, &totals);
	memcpy(s.rss, totals.rss_cur, sizeof(s.rss));
	s.page_faults = pl_tracer_page_faults(&r->tracer);
	pl_ledger_total(&r->ledger, &all);
	s.released = all.rss_released;
	for (int i = 0; i < r->n_sinks; i++)
		if (r->sinks[i]->ops->sample)
			r->sinks[i]->ops->sample(r->sinks[i], &s);
}

/* Polls until the target exits, the duration passes or a signal arrives. */
static void trace_loop(struct run *r)
{
	uint64_t deadline =
	    r->cfg.duration_s ? now_ns() + (uint64_t)r->cfg.duration_s * 1000000000ull : 0;
	uint64_t step = (uint64_t)r->cfg.interval_s * 1000000000ull;
	uint64_t next_balance = step ? now_ns() + step : 0;

	while (!stop_requested) {
		if (pl_tracer_poll(&r->tracer, POLL_MS) < 0)
			break;
		flush_causes(r);
		send_sample(r);
		fflush(r->out.f);
		if (r->out.quit) /* q in the live view */
			break;
		if (pl_target_exited(&r->target))
			break;
		if (deadline && now_ns() >= deadline)
			break;
		if (next_balance && now_ns() >= next_balance) {
			pl_tracer_drain(&r->tracer);
			take_balance(r, "interval");
			next_balance += step;
		}
	}
	pl_tracer_drain(&r->tracer);
	if (!pl_target_exited(&r->target))
		take_balance(r, "end");
}

static void finish(struct run *r)
{
	struct pl_totals totals;

	pl_tracer_drain(&r->tracer);
	flush_causes(r);
	pl_tracer_totals(&r->tracer, &totals);
	pl_ledger_finish(&r->ledger, &totals, pl_tracer_page_faults(&r->tracer), now_ns());
	pl_ledger_sort_sites(&r->ledger);
	if (r->target.reaped) {
		r->ledger.exited = true;
		r->ledger.exit_status = r->target.wait_status;
	}
	send_sample(r);
	for (int i = 0; i < r->n_sinks; i++)
		r->sinks[i]->ops->summary(r->sinks[i], &r->ledger);
	for (int i = 0; i < r->n_sinks; i++)
		if (r->sinks[i]->ops->end)
			r->sinks[i]->ops->end(r->sinks[i]);
	if (r->ledger.lost_events || r->ledger.inflight_drops)
		fprintf(stderr,
			"pageledger: warning: %llu events lost (ring buffer full: %llu, "
			"untracked syscall entries: %llu); raise --ringbuf-size\n",
			(unsigned long long)(r->ledger.lost_events + r->ledger.inflight_drops),
			(unsigned long long)r->ledger.lost_events,
			(unsigned long long)r->ledger.inflight_drops);
	if (r->ledger.stacks_dropped)
		fprintf(stderr,
			"pageledger: warning: %llu user stacks did not fit the stacks map; "
			"those calls' callers are unknown\n",
			(unsigned long long)r->ledger.stacks_dropped);
	if (r->ledger.bad_records)
		fprintf(stderr, "pageledger: warning: %llu malformed records ignored\n",
			(unsigned long long)r->ledger.bad_records);
}

static int prepare_target(struct run *r)
{
	if (r->cfg.cmd)
		return pl_target_spawn(&r->target, r->cfg.cmd);
	return pl_target_attach(&r->target, r->cfg.pid);
}

int main(int argc, char **argv)
{
	static struct run r; /* large: the ledger has a row per syscall and advice */
	int status;
	int err = PL_EXIT_ERROR;

	status = pl_cli_parse(argc, argv, &r.cfg);
	if (status != PL_EXIT_OK || r.cfg.help_shown)
		return status;
	r.target.pidfd = r.target.go_fd = r.target.err_fd = -1;
	if (check_environment() || open_output(&r))
		return PL_EXIT_ERROR;
	if (prepare_target(&r))
		goto cleanup;
	install_signals();
	if (start_tracing(&r))
		goto cleanup;
	trace_loop(&r);
	if (r.target.spawned && !pl_target_exited(&r.target))
		pl_target_stop(&r.target);
	finish(&r);
	err = PL_EXIT_OK;
cleanup:
	if (r.target.spawned && !r.target.reaped)
		pl_target_stop(&r.target);
	pl_tracer_stop(&r.tracer);
	if (r.attributing)
		pl_attributor_free(&r.attr);
	pl_ledger_free(&r.ledger);
	pl_target_close(&r.target);
	if (r.out_file)
		fclose(r.out_file);
	return err;
}
