// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* pageledger: orchestration. Everything with a purpose of its own lives elsewhere. */
#include <errno.h>
#include <malloc.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "symbolize/attribution.h"
#include "cli.h"
#include "decode/decode.h"
#include "goheap/goheap.h"
#include "ledger/ledger.h"
#include "trace/loader.h"
#include "output/metrics_http.h"
#include "output/sinks.h"
#include "ledger/procstat.h"
#include "ledger/range_tracker.h"
#include "trace/sysenv.h"
#include "trace/target.h"
#include "util/clock.h"
#include "util/escape.h"
#include "util/outfile.h"

#define POLL_MS 100

static volatile sig_atomic_t stop_requested;

struct run;
static void take_balance(struct run *r, const char *when);
static int64_t flush_causes(struct run *r);

struct run {
	struct pl_config cfg;
	struct pl_target target;
	struct pl_tracer tracer;
	struct pl_ledger ledger;
	struct pl_sinks sinks; /* the stream, then the file sinks */
	struct pl_attributor attr;
	bool attributing;
	struct pl_range_tracker *ranges; /* the per-range ledger; NULL: none */
	uint64_t next_range_look_ns;
	/* The files written (stream, --perfetto, --report, --folded, --pprof), each checked. */
	struct pl_outfile stream, perfetto_file, report_file, folded_file, pprof_file;
	bool reader_gone;		 /* the stream's reader left (EPIPE): end quietly, exit 0 */
	struct pl_metrics_http *metrics; /* --metrics' endpoint: outlives the sinks */
	char metrics_bound[PL_LISTEN_HOST_MAX + 16]; /* the address it listens on */
	/* The RSS stop (below_armed: a started command has been above). */
	bool below_armed;
	bool until_met;
	struct pl_goheap goheap; /* the Go heap, read at each balance */
	bool traced;		 /* tracing started: the end's phases are worth timing */
	bool target_ended;	 /* the run ended because the target exited, not by our hand */
	/* And once a second for the live view (see send_sample). */
	struct pl_go_heap go_now;
	uint64_t next_go_look_ns;
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

/*
 * SIGHUP too: a closed terminal or session ends the run the way Ctrl-C
 * does. SIGPIPE stays ignored (main set it first), so that a reader who
 * leaves is an EPIPE we see and end on cleanly; a started command gets its
 * default SIGPIPE back before exec.
 */
static void install_signals(void)
{
	struct sigaction sa = {.sa_handler = on_stop_signal};

	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
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

#define SEED_STOP_WAIT_NS 200000000ull /* a child not stopped by then is seeded running */

/* A fresh address space (exec): a fresh per-range ledger, its layout from smaps. */
static void restart_ranges(struct run *r, bool after_exec)
{
	uint64_t t0 = pl_now_ns();

	pl_range_tracker_free(r->ranges);
	/*
	 * A command we started stopped itself at its exec (the kernel side sent
	 * SIGSTOP there, before its first instruction): a program faulting from
	 * its first instruction never holds still for a seed otherwise, and an
	 * unsettled seed misplaces the pages faulted while it is read. We wait
	 * for the stop, seed, and let it go (stopped or not: it must not stay
	 * stopped). A traced PID is never stopped: its seed is retried instead.
	 */
	if (after_exec)
		pl_target_wait_stopped(&r->target, SEED_STOP_WAIT_NS);
	r->ranges = pl_range_tracker_new(r->target.pid, &r->tracer, after_exec);
	if (after_exec)
		pl_target_resume(&r->target);
	if (r->cfg.verbose && r->ranges)
		fprintf(stderr, "pageledger: ranges seeded in %.1f ms (%zu mappings)\n",
			(double)(pl_now_ns() - t0) / 1e6, pl_range_tracker_n_maps(r->ranges));
	if (r->ranges && !pl_range_tracker_seed_settled(r->ranges))
		fprintf(stderr,
			"pageledger: warning: the target's RSS kept changing while the "
			"per-range ledger was seeded; pages it faulted meanwhile may be filed "
			"twice or not at all in its ranges (the totals are exact)\n");
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
		if (r->ranges) {
			pl_range_tracker_add_syscall(r->ranges, rec.sys);
			if (pl_syscall_has_advice(rec.sys->sys) &&
			    pl_syscall_advice(rec.sys) == PL_MADV_FREE)
				r->next_range_look_ns = 0; /* see which pages it left resident */
		}
		if (r->attributing)
			attribute(r, &rec, &caller);
		break;
	case PL_EV_EXEC:
		pl_ledger_add_exec(&r->ledger, rec.exec);
		if (r->attributing)
			pl_attributor_exec(&r->attr, (pid_t)rec.exec->hdr.pid);
		restart_ranges(r, true);
		break;
	case PL_EV_EXIT:
		pl_ledger_add_exit(&r->ledger, rec.exit);
		break;
	}
	pl_sinks_record(&r->sinks, &rec);
	return 0;
}

/*
 * --until-rss-below/above: the kernel side decides on every reading it
 * makes (peaks and troughs between polls included, teardown excluded).
 * A target that makes no change is held against the condition here, at
 * each poll: an idle process already below SIZE is below at once.
 */
static bool until_met_now(const struct run *r, const struct pl_totals *t, int64_t *resident)
{
	struct pl_config cond = r->cfg;

	if (t->until_met) {
		*resident = t->until_met_resident;
		return true;
	}
	/* Not while an address space is torn down, nor before a command we started is itself. */
	if (t->exited || t->tearing_down || (r->target.spawned && !t->execs))
		return false;
	*resident = pl_rss_total(t->rss_cur);
	/* A command we start begins near zero: "below" counts once it has been above. */
	if (r->target.spawned && !t->until_armed)
		cond.until_below = false;
	return pl_until_reached(&cond, *resident);
}

static bool until_reached(struct run *r)
{
	struct pl_totals totals;
	int64_t resident = 0;
	char now[16];
	bool below;

	if (r->until_met || (!r->cfg.until_below && !r->cfg.until_above))
		return r->until_met;
	pl_tracer_totals(&r->tracer, &totals);
	if (!until_met_now(r, &totals, &resident))
		return false;
	below = r->cfg.until_below && (uint64_t)resident < r->cfg.until_rss_below;
	pl_format_size(resident, now, sizeof(now));
	fprintf(stderr,
		"pageledger: resident RSS %s (%lld bytes) reached --until-rss-%s; stopping\n", now,
		(long long)resident, below ? "below" : "above");
	r->until_met = true;
	return true;
}

/*
 * The stream on stdout or -o. A file is written beside FILE and renamed at
 * the end: nothing is truncated before tracing can start.
 */
static int open_output(struct run *r)
{
	struct pl_sink_files files = {0};

	if (r->cfg.out_path ? pl_outfile_open(&r->stream, r->cfg.out_path)
			    : pl_outfile_stdout(&r->stream))
		return -1;
	files.stream = r->stream.f;
	files.stream_fd = r->stream.fd;
	if (r->cfg.perfetto_path) {
		if (pl_outfile_open(&r->perfetto_file, r->cfg.perfetto_path))
			return -1;
		files.perfetto = r->perfetto_file.f;
	}
	if (r->cfg.report_path) {
		if (pl_outfile_open(&r->report_file, r->cfg.report_path))
			return -1;
		files.report = r->report_file.f;
	}
	if (r->cfg.folded_path) {
		if (pl_outfile_open(&r->folded_file, r->cfg.folded_path))
			return -1;
		files.folded = r->folded_file.f;
	}
	if (r->cfg.pprof_path) {
		if (pl_outfile_open(&r->pprof_file, r->cfg.pprof_path))
			return -1;
		files.pprof = r->pprof_file.f;
	}
	if (r->cfg.metrics_addr) {
		r->metrics = pl_metrics_http_start(r->cfg.metrics_addr, r->metrics_bound,
						   sizeof(r->metrics_bound));
		if (!r->metrics)
			return -1;
		fprintf(stderr, "pageledger: metrics at http://%s/metrics\n", r->metrics_bound);
		files.metrics = r->metrics;
	}
	return pl_sinks_open(&r->sinks, &files, &r->cfg);
}

static int check_environment(const struct pl_config *cfg)
{
	if (pl_require_root() || pl_require_btf() || pl_require_tracefs(cfg->verbose))
		return -1;
	return 0;
}

static int start_tracing(struct run *r)
{
	struct pl_tracer_opts opts = {
	    .tgid = r->target.kernel_pid,
	    .pidfd = r->target.pidfd,
	    .ringbuf_size = r->cfg.ringbuf_size,
	    .verbose = r->cfg.verbose,
	    .no_stacks = r->cfg.no_stacks,
	    .spawned = r->target.spawned,
	    .until_above = r->cfg.until_above ? r->cfg.until_rss_above : 0,
	    .until_below = r->cfg.until_below ? r->cfg.until_rss_below : 0,
	    .on_record = handle_record,
	    .ctx = r,
	};
	struct pl_run_info info = {0};
	struct pl_totals totals;
	char comm[4 * sizeof(r->target.comm) + 1];
	char kernel_pid[64] = "";

	if (pl_tracer_start(&r->tracer, &opts))
		return -1;
	if (!r->cfg.no_stacks) {
		if (pl_attributor_init(&r->attr, &r->tracer, r->target.pid))
			fprintf(stderr, "pageledger: warning: no symbolizer; callers unknown\n");
		else
			r->attributing = true;
	}
	pl_goheap_init(&r->goheap, r->target.pid, r->cfg.verbose);
	info.pid = (uint32_t)r->target.pid;
	info.comm = r->target.comm;
	info.t0_ns = pl_now_ns();
	info.spawned = r->target.spawned;
	info.cmd = r->cfg.cmd;
	pl_tracer_totals(&r->tracer, &totals);
	memcpy(info.rss_start, totals.rss_start, sizeof(info.rss_start));
	if (!r->target.spawned)
		restart_ranges(r, false);
	pl_ledger_init(&r->ledger, info.pid, info.t0_ns);
	pl_ledger_set_seed(&r->ledger, totals.rss_start);
	pl_sinks_begin(&r->sinks, &info);
	if (!r->target.spawned)
		take_balance(r, "attach");
	if (r->target.kernel_pid != r->target.pid)
		snprintf(kernel_pid, sizeof(kernel_pid), "; pid %d in the kernel's namespace",
			 r->target.kernel_pid);
	pl_escape(comm, sizeof(comm), r->target.comm); /* the target names itself */
	if (r->target.spawned) {
		fprintf(stderr, "pageledger: tracing '%s' (pid %d%s)... Ctrl-C to end.\n", comm,
			r->target.pid, kernel_pid);
		return pl_target_release(&r->target);
	}
	fprintf(stderr, "pageledger: tracing pid %d (%s%s)... Ctrl-C to end.\n", r->target.pid,
		comm, kernel_pid);
	return 0;
}

#define RANGES_SHOWN 4096

/* The per-range ledger to the sinks that show it; rows sized to what there is to show. */
static void send_ranges(struct run *r, const char *when, bool settled)
{
	size_t maps = pl_range_tracker_n_maps(r->ranges),
	       max = maps < RANGES_SHOWN ? maps : RANGES_SHOWN;
	struct pl_ranges_view v = {.when = when,
				   .ts_ns = pl_now_ns(),
				   .pid = (uint32_t)r->target.pid,
				   .settled = settled,
				   .exact = pl_range_tracker_exact(r->ranges)};
	struct pl_range_row *rows = NULL;
	bool wanted = false;

	for (int i = 0; i < r->sinks.n; i++)
		wanted |= r->sinks.out[i].ops->ranges != NULL;
	if (!wanted)
		return;
	rows = max ? calloc(max, sizeof(*rows)) : NULL;
	v.n_rows = rows ? pl_range_tracker_rows(r->ranges, rows, max) : 0;
	v.rows = rows;
	pl_range_tracker_totals(r->ranges, &v.live, &v.gone);
	pl_sinks_ranges(&r->sinks, &v);
	free(rows);
}

static bool same_progress(const struct pl_totals *a, const struct pl_totals *b)
{
	return a->rss_begin == b->rss_begin && a->rss_end == b->rss_end &&
	       b->rss_begin == b->rss_end;
}

#define SETTLE_TRIES 8

/*
 * The ledger's RSS beside /proc's, at one moment: the kernel side's
 * begin/end counts bracket the /proc read, and the reading counts as
 * settled only if no counter update began or ended meanwhile (then the
 * two sides read the same counters). A busy target gets a few tries, then
 * an honest "settled": false. The closing identity is taken in the same
 * bracket, after every record submitted before it was taken.
 */
static void read_settled(struct run *r, struct pl_balance *b, struct pl_totals *totals)
{
	struct pl_totals before;

	for (int i = 0; i < SETTLE_TRIES; i++) {
		pl_tracer_totals(&r->tracer, &before);
		pl_tracer_drain(&r->tracer);
		flush_causes(r);
		if (pl_kernel_view_read_status(r->target.pid, &b->kernel) < 0)
			return;
		pl_tracer_totals(&r->tracer, totals);
		b->settled = same_progress(&before, totals);
		if (b->settled)
			break;
	}
	memcpy(b->ledger, totals->rss_cur, sizeof(b->ledger));
	pl_ledger_closure(&r->ledger, totals, b->closure);
	b->have_closure = b->settled;
}

/*
 * At the end, smaps is read for 150 ms at most (about 25,000 mappings here):
 * the ranges past that show no kernel figures, so the run ends promptly.
 */
#define END_SMAPS_NS 150000000ull
#define RANGES_SETTLE_TRIES 4
#define RANGES_RETRY_NS 100000000ull

/*
 * The per-range ledger beside smaps, at one moment: the kernel's chunks,
 * the fault caches and smaps are read inside the same begin/end bracket as
 * the balance, after every record submitted before it, so a settled reading
 * holds each range's figures and its smaps Rss at the same instant.
 */
static bool read_ranges_settled(struct run *r, struct pl_kernel_view *k, uint64_t deadline_ns)
{
	uint64_t t0 = pl_now_ns();
	struct pl_totals before, after;
	bool settled = false;

	/* A few tries, while they are cheap: a large smaps read is not repeated. */
	for (int i = 0; i < RANGES_SETTLE_TRIES && !settled && pl_now_ns() - t0 < RANGES_RETRY_NS;
	     i++) {
		pl_tracer_totals(&r->tracer, &before);
		pl_tracer_drain(&r->tracer);
		pl_range_tracker_poll(r->ranges, 0);
		pl_range_tracker_read_kernel(r->ranges, k, deadline_ns);
		pl_tracer_totals(&r->tracer, &after);
		settled = same_progress(&before, &after);
		if (pl_range_tracker_kernel_cut(r->ranges)) /* out of time: no second try */
			break;
	}
	return settled;
}

static void take_balance(struct run *r, const char *when)
{
	struct pl_balance b = {.when = when};
	struct pl_totals totals;
	bool ranges_settled = false;

	if (pl_kernel_view_read_status(r->target.pid, &b.kernel) < 0)
		return; /* gone: nothing to hold the ledger against */
	read_settled(r, &b, &totals);
	/* The per-range ledger and smaps (LazyFree, AnonHugePages): not part of the exact check. */
	/* The end's smaps read is bounded, whatever the target's size (see END_SMAPS_NS). */
	if (r->ranges)
		ranges_settled = read_ranges_settled(
		    r, &b.kernel, strcmp(when, "end") ? 0 : pl_now_ns() + END_SMAPS_NS);
	else
		pl_kernel_view_read_rollup(r->target.pid, &b.kernel);
	pl_goheap_read(&r->goheap, &b.go_heap);
	b.ts_ns = pl_now_ns();
	pl_ledger_add_balance(&r->ledger, &b);
	pl_sinks_balance(&r->sinks, &b, (uint32_t)r->target.pid);
	if (r->ranges)
		send_ranges(r, when, ranges_settled);
}

/*
 * Batched rss_change records: what moved, by cause, since the last poll.
 * Returns the anon bytes khugepaged added meanwhile.
 */
static int64_t flush_causes(struct run *r)
{
	struct pl_cause_acc now, delta;

	if (pl_tracer_causes(&r->tracer, &now) < 0)
		return 0;
	if (!pl_ledger_update_causes(&r->ledger, &now, &delta))
		return 0;
	pl_sinks_rss_change(&r->sinks, &delta, pl_now_ns(), (uint32_t)r->target.pid);
	return delta.delta[PL_CAUSE_KHUGEPAGED][PL_RSS_ANON];
}

#define RANGE_LOOK_NS 1000000000ull
#define GO_LOOK_NS 1000000000ull

/*
 * The kernel's chunks, page presence and huge pages: once a second, at
 * once after a MADV_FREE or when khugepaged moved, and at every balance.
 */
static void track_ranges(struct run *r, int64_t khugepaged_grown)
{
	uint64_t t = pl_now_ns();

	if (!r->ranges || (t < r->next_range_look_ns && !khugepaged_grown &&
			   !pl_range_tracker_collapse_pending(r->ranges)))
		return;
	pl_range_tracker_poll(r->ranges, khugepaged_grown);
	r->next_range_look_ns = t + RANGE_LOOK_NS;
}

/* The Go heap for the live view, read again when the last is a second old. */
static const struct pl_go_heap *go_heap_now(struct run *r, uint64_t now_ns)
{
	if (now_ns >= r->next_go_look_ns) {
		pl_goheap_read(&r->goheap, &r->go_now);
		r->next_go_look_ns = now_ns + GO_LOOK_NS;
	}
	return &r->go_now;
}

/* The running figures, for the sinks that draw them. */
static void send_sample(struct run *r)
{
	struct pl_sample s = {.ts_ns = pl_now_ns(), .lazy_pending = -1};
	static struct pl_range_row live, gone;
	struct pl_totals totals;
	struct pl_stat all;

	/* The streams have no use for it: spare the range walk. */
	if (!pl_sinks_want_samples(&r->sinks))
		return;
	pl_tracer_totals(&r->tracer, &totals);
	memcpy(s.rss, totals.rss_cur, sizeof(s.rss));
	s.page_faults = pl_tracer_page_faults(&r->tracer);
	s.lost_events = totals.lost_events + totals.inflight_drops;
	pl_ledger_total(&r->ledger, &all);
	s.released = all.rss_released;
	s.ledger = &r->ledger;
	s.go_heap = go_heap_now(r, s.ts_ns);
	if (r->ranges) {
		static struct pl_range_row top[PL_SAMPLE_TOP_RANGES];

		s.n_top_ranges = (int)pl_range_tracker_rows(r->ranges, top, PL_SAMPLE_TOP_RANGES);
		s.top_ranges = top;
		s.lazy_pending = (int64_t)pl_range_tracker_lazy_pending(r->ranges);
		pl_range_tracker_totals(r->ranges, &live, &gone);
		s.ranges_live = &live;
		s.ranges_gone = &gone;
	}
	pl_sinks_sample(&r->sinks, &s);
}

/*
 * Every poll flushes and checks each file: a write error ends the run
 * (exit 1), and so does the stream's reader going away (quietly, exit 0),
 * even while the target is silent.
 */
static bool outputs_hold(struct run *r)
{
	struct pl_outfile *files[] = {&r->stream, &r->perfetto_file, &r->report_file,
				      &r->folded_file, &r->pprof_file};

	for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
		enum pl_out_state st = pl_outfile_state(files[i]);

		if (st == PL_OUT_FAILED)
			return false;
		/* A --perfetto FIFO's reader may leave: only the stream's ends the run. */
		if (st == PL_OUT_READER_GONE && files[i] == &r->stream) {
			r->reader_gone = true;
			return false;
		}
	}
	return true;
}

/*
 * -v: an ending phase and how long it took since t0; returns now, the next
 * one's start. Only for a run that traced: a failed start says one line.
 */
static uint64_t phase_done(const struct run *r, const char *what, uint64_t t0)
{
	uint64_t now = pl_now_ns();

	if (r->cfg.verbose && r->traced)
		fprintf(stderr, "pageledger: %s in %.1f ms\n", what, (double)(now - t0) / 1e6);
	return now;
}

/* Polls until the target exits, the duration passes or a signal arrives. */
static void trace_loop(struct run *r)
{
	uint64_t deadline = r->cfg.duration_ns ? pl_now_ns() + r->cfg.duration_ns : 0;
	uint64_t step = r->cfg.interval_ns;
	uint64_t next_balance = step ? pl_now_ns() + step : 0;
	uint64_t t;

	while (!stop_requested) {
		if (pl_tracer_poll(&r->tracer, POLL_MS) < 0)
			break;
		track_ranges(r, flush_causes(r));
		send_sample(r);
		pl_sinks_flush(&r->sinks);
		if (!outputs_hold(r))
			break;
		if (until_reached(r))
			break;
		if (pl_sinks_stop_requested(&r->sinks)) /* q in the live view */
			break;
		if (pl_target_exited(&r->target)) {
			r->target_ended = true; /* by itself: --metrics keeps its figures up */
			break;
		}
		if (deadline && pl_now_ns() >= deadline)
			break;
		if (next_balance && pl_now_ns() >= next_balance) {
			pl_tracer_drain(&r->tracer);
			take_balance(r, "interval");
			next_balance += step;
		}
	}
	t = pl_now_ns();
	pl_tracer_drain(&r->tracer);
	if (!pl_target_exited(&r->target))
		take_balance(r, "end");
	phase_done(r, "drained and balanced at the end", t);
}

/* Counts the loader and the attributor kept, for the summary. */
static void note_counters(struct run *r)
{
	r->ledger.probes_skipped = r->tracer.probes_skipped;
	if (r->ranges)
		r->ledger.ranges_alloc_failures = pl_range_tracker_alloc_failures(r->ranges);
	if (r->attributing) {
		r->ledger.symbol_cache_hits = r->attr.cache_hits;
		r->ledger.symbol_cache_misses = r->attr.cache_misses;
	}
}

static void finish(struct run *r)
{
	struct pl_totals totals;
	uint64_t rss_now; /* only the peak is the summary's */

	pl_tracer_drain(&r->tracer);
	track_ranges(r, flush_causes(r));
	if (r->ranges && pl_target_exited(&r->target)) {
		pl_range_tracker_poll(r->ranges, 0);
		send_ranges(r, "end", false);
	}
	pl_tracer_totals(&r->tracer, &totals);
	pl_ledger_finish(&r->ledger, &totals, pl_tracer_page_faults(&r->tracer), pl_now_ns());
	pl_self_rss(&rss_now, &r->ledger.tracer_maxrss);
	pl_ledger_sort_sites(&r->ledger);
	if (r->ranges) /* the end, for the summary and the diagnosis (churn) */
		pl_range_tracker_end(r->ranges, &r->ledger);
	if (r->target.reaped) {
		r->ledger.exited = true;
		r->ledger.exit_status = r->target.wait_status;
	}
	note_counters(r);
	send_sample(r);
	pl_sinks_summary(&r->sinks, &r->ledger);
	pl_sinks_end(&r->sinks);
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

/* A started command's stdout joins our stderr when our stream owns stdout. */
static int prepare_target(struct run *r)
{
	if (r->cfg.cmd)
		return pl_target_spawn(&r->target, r->cfg.cmd, pl_outfile_is_stdout(&r->stream));
	return pl_target_attach(&r->target, r->cfg.pid);
}

/*
 * Each file closed and checked; a temporary becomes FILE. A reader that
 * left is no error. PL_EXIT_OK, or PL_EXIT_ERROR after one line per file.
 */
static int close_outputs(struct run *r)
{
	int rc = PL_EXIT_OK;

	if (pl_outfile_finish(&r->stream) == PL_OUT_FAILED)
		rc = PL_EXIT_ERROR;
	if (pl_outfile_finish(&r->perfetto_file) == PL_OUT_FAILED)
		rc = PL_EXIT_ERROR;
	if (pl_outfile_finish(&r->report_file) == PL_OUT_FAILED)
		rc = PL_EXIT_ERROR;
	if (pl_outfile_finish(&r->folded_file) == PL_OUT_FAILED)
		rc = PL_EXIT_ERROR;
	if (pl_outfile_finish(&r->pprof_file) == PL_OUT_FAILED)
		rc = PL_EXIT_ERROR;
	return rc;
}

/* A run that never got going leaves no file behind, and FILE as it was. */
static void discard_outputs(struct run *r)
{
	pl_outfile_discard(&r->stream);
	pl_outfile_discard(&r->perfetto_file);
	pl_outfile_discard(&r->report_file);
	pl_outfile_discard(&r->folded_file);
	pl_outfile_discard(&r->pprof_file);
}

/*
 * --metrics: a target that exited by itself leaves its final figures up
 * (target_up 0) until Ctrl-C or the end of -d, so that the last scrape
 * sees them. A run we ended (--until-rss-*, q, the reader gone) ends now.
 * Called once the programs are detached: nothing is traced meanwhile.
 */
static void serve_final_metrics(struct run *r)
{
	uint64_t deadline = r->cfg.duration_ns ? r->ledger.t_start_ns + r->cfg.duration_ns : 0;

	if (!r->metrics || stop_requested)
		return;
	fprintf(stderr,
		"pageledger: the target exited; its final metrics stay at http://%s/metrics "
		"until Ctrl-C\n",
		r->metrics_bound);
	while (!stop_requested && (!deadline || pl_now_ns() < deadline))
		usleep(POLL_MS * 1000);
}

/* --help, --usage, --version: checked like any output (a reader that left is fine). */
static int stdout_written(void)
{
	if (fflush(stdout) == 0 && !ferror(stdout))
		return PL_EXIT_OK;
	if (errno == EPIPE)
		return PL_EXIT_OK;
	fprintf(stderr, "pageledger: cannot write stdout: %s\n", strerror(errno ? errno : EIO));
	return PL_EXIT_ERROR;
}

int main(int argc, char **argv)
{
	static struct run r; /* large: the ledger has a row per syscall and advice */
	uint64_t t;
	int status;
	int err = PL_EXIT_ERROR;
	bool linger = false;

	signal(SIGPIPE, SIG_IGN); /* even --help | head: an EPIPE we see, exit 0 */
	/*
	 * A fixed threshold: glibc would raise it after the first big free,
	 * and the next big buffers (the maps text, the vmlinux BTF) would then
	 * stay in the heap after use, in our own RSS: the very pattern this
	 * tool diagnoses in others.
	 */
	mallopt(M_MMAP_THRESHOLD, 128 * 1024);
	status = pl_cli_parse(argc, argv, &r.cfg);
	if (status != PL_EXIT_OK)
		return status;
	if (r.cfg.help_shown)
		return stdout_written();
	/* First: a signal during start-up must not leave a temporary file behind. */
	install_signals();
	r.target.pidfd = r.target.go_fd = r.target.err_fd = -1;
	if (check_environment(&r.cfg))
		return PL_EXIT_ERROR;
	/* Every check that needs no BPF comes first: the command, the PID, the files. */
	if (open_output(&r) || prepare_target(&r) || start_tracing(&r))
		goto cleanup;
	r.traced = true;
	trace_loop(&r);
	until_reached(&r); /* a peak the last poll had no time to see */
	if (r.reader_gone && r.cfg.verbose)
		fprintf(stderr, "pageledger: the stream's reader went away: ending the run\n");
	t = pl_now_ns();
	if (r.target.spawned && !pl_target_exited(&r.target))
		pl_target_stop(&r.target);
	finish(&r);
	t = phase_done(&r, "summarized", t);
	err = close_outputs(&r);
	t = phase_done(&r, "outputs closed", t);
	linger = err == PL_EXIT_OK && r.target_ended;
	if (err == PL_EXIT_OK && (r.cfg.until_below || r.cfg.until_above) && !r.until_met)
		err = PL_EXIT_UNTIL_UNMET;
cleanup:
	if (r.target.spawned && !r.target.reaped)
		pl_target_stop(&r.target);
	t = pl_now_ns();
	pl_tracer_stop(&r.tracer);
	t = phase_done(&r, "detached", t);
	if (linger) {
		serve_final_metrics(&r);
		t = pl_now_ns();
	}
	if (r.attributing)
		pl_attributor_free(&r.attr);
	pl_range_tracker_free(r.ranges);
	pl_metrics_http_stop(r.metrics);
	pl_ledger_free(&r.ledger);
	pl_target_close(&r.target);
	discard_outputs(&r);
	phase_done(&r, "freed", t);
	return err;
}
