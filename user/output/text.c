// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* The text stream: a line per event, laid out for the width it is read at. */
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>
#include "symbolize/attribution.h"
#include "output/text.h"
#include "util/clock.h"
#include "util/escape.h"

struct text_sink {
	struct pl_text_opts opts;
	int width;
	struct pl_text_events ev;
};

/* $COLUMNS, when it holds a width; else 0. */
static int columns_env(void)
{
	const char *s = getenv("COLUMNS");
	char *end;
	long v;

	if (!s || !*s)
		return 0;
	errno = 0;
	v = strtol(s, &end, 10);
	return errno || *end || v <= 0 || v > 1000 ? 0 : (int)v;
}

int pl_text_width_for(FILE *f, int fd, int asked)
{
	struct winsize ws;
	int w = asked > 0 ? asked : columns_env();

	if (fd <= 0 && f) /* never stdin: 0 means "not given" */
		fd = fileno(f);
	if (!w && fd >= 0 && isatty(fd) && ioctl(fd, TIOCGWINSZ, &ws) == 0)
		w = ws.ws_col;
	if (!w)
		w = PL_TEXT_DEFAULT_WIDTH;
	return w < PL_TEXT_MIN_WIDTH ? PL_TEXT_MIN_WIDTH : w;
}

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

/* "MADV_DONTNEED", or "DONTNEED" on a narrow line. */
static const char *advice_text(const struct pl_syscall_event *e, bool short_advice, char *buf,
			       size_t len)
{
	const char *name = pl_advice_name(pl_syscall_advice(e), buf, len);

	return short_advice && !strncmp(name, "MADV_", 5) ? name + 5 : name;
}

/*
 * "r-xp fd=3 FIXED|DENYWRITE", "rw-p anon": protection and sharing as in
 * /proc/PID/maps, what backs the mapping, then the other flags (JSON has them all).
 */
static void mmap_detail(const struct pl_syscall_event *e, char *buf, size_t len)
{
	uint64_t flags = e->args[3],
		 rest = flags & ~(uint64_t)(MAP_SHARED | MAP_PRIVATE | MAP_ANONYMOUS);
	char prot[8], backing[24], others[128] = "";

	pl_prot_str(e->args[2], prot, sizeof(prot));
	if (flags & MAP_ANONYMOUS)
		snprintf(backing, sizeof(backing), "anon");
	else
		snprintf(backing, sizeof(backing), "fd=%d", (int)e->args[4]);
	if (rest)
		pl_mmap_flags_str(rest, others, sizeof(others));
	snprintf(buf, len, "%s%c %s%s%s", prot, flags & MAP_SHARED ? 's' : 'p', backing,
		 rest ? " " : "", others);
}

static void format_detail(const struct pl_syscall_event *e, bool short_advice, char *buf,
			  size_t len)
{
	char a[64], b[64];

	switch (e->sys) {
	case PL_SYS_MMAP:
		mmap_detail(e, buf, len);
		break;
	case PL_SYS_MADVISE:
		snprintf(buf, len, "%s", advice_text(e, short_advice, a, sizeof(a)));
		break;
	case PL_SYS_PROCESS_MADVISE:
		snprintf(buf, len, "%s pid=%u", advice_text(e, short_advice, a, sizeof(a)),
			 e->target_pid);
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

/* ---- the event table -------------------------------------------------------- */

/* Least useful first: the full range, the thread, the address. */
static const int ev_drop[] = {PL_EVC_RANGE, PL_EVC_TID, PL_EVC_ADDR};
#define DETAIL_MIN 15 /* "MADV_NOHUGEPAGE" */
#define CALLER_NARROW 16

void pl_text_events_layout(struct pl_text_events *ev, int width, bool wall_clock)
{
	static const struct pl_col cols[PL_EVC_NCOLS] = {
	    [PL_EVC_TIME] = {"TIME(s)", 10, false, true},
	    [PL_EVC_TID] = {"TID", 7, true, true},
	    [PL_EVC_SYSCALL] = {"SYSCALL", 7, false, true},
	    [PL_EVC_RANGE] = {"RANGE", 25, false, true},
	    [PL_EVC_ADDR] = {"ADDRESS", 12, false, true},
	    [PL_EVC_SIZE] = {"SIZE", 7, true, true},
	    [PL_EVC_RSS] = {"RSS-CHANGE", 13, false, true},
	    [PL_EVC_CALLER] = {"CALLER", 23, false, true},
	    [PL_EVC_DETAIL] = {"DETAIL", DETAIL_MIN, false, true},
	};

	memcpy(ev->cols, cols, sizeof(cols));
	ev->wall_clock = wall_clock;
	if (wall_clock) {
		ev->cols[PL_EVC_TIME].head = "TIME";
		ev->cols[PL_EVC_TIME].width = 15; /* 14:03:59.123456 */
	}
	ev->table =
	    (struct pl_table){.cols = ev->cols, .n = PL_EVC_NCOLS, .width = width, .flex = true};
	pl_layout_fit(&ev->table, ev_drop, sizeof(ev_drop) / sizeof(ev_drop[0]), DETAIL_MIN);
	if (ev->cols[PL_EVC_RANGE].shown) /* the range says where it starts too */
		pl_layout_hide(&ev->table, PL_EVC_ADDR);
	/* Still too wide: advice without its MADV_ prefix, then a narrower caller column. */
	ev->short_advice = pl_layout_used(&ev->table) > width;
	if (pl_layout_used(&ev->table) - DETAIL_MIN + 10 > width)
		ev->cols[PL_EVC_CALLER].width = CALLER_NARROW;
}

static void time_cell(const struct pl_text_events *ev, uint64_t ts_ns, char *buf, size_t len)
{
	/* Records raised before t0 (between attach and the start) show t0. */
	uint64_t since = ts_ns >= ev->t0_ns ? ts_ns - ev->t0_ns : 0;

	if (ev->wall_clock)
		pl_format_wall_time(ev->wall_t0_ns + since, buf, len);
	else
		snprintf(buf, len, "%.6f", (double)since / 1e9);
}

void pl_text_events_header(const struct pl_text_events *ev, char *buf, size_t len)
{
	pl_layout_row(&ev->table, NULL, buf, len);
}

/* "0", "anon -32.0M", "?" when the mm was unknown, and a failed call's errno first. */
static void rss_cell(const struct pl_syscall_event *e, char *buf, size_t len)
{
	char rss[96], err[24];
	int failed = pl_syscall_failed(e);
	bool moved = e->rss_delta[0] || e->rss_delta[1] || e->rss_delta[2] || e->rss_delta[3];

	if (e->flags & PL_SCF_RSS_UNKNOWN)
		snprintf(rss, sizeof(rss), "?");
	else
		pl_text_format_rss(e->rss_delta, rss, sizeof(rss));
	if (!failed)
		snprintf(buf, len, "%s", rss);
	else if (moved || (e->flags & PL_SCF_RSS_UNKNOWN))
		snprintf(buf, len, "%s %s", pl_errno_name(failed, err, sizeof(err)), rss);
	else
		snprintf(buf, len, "%s", pl_errno_name(failed, err, sizeof(err)));
}

void pl_text_syscall_line(const struct pl_text_events *ev, const struct pl_syscall_event *e,
			  const char *caller, char *buf, size_t len)
{
	char ts[32], tid[16], range[48], addr[24], size[16], rss[128], detail[160];
	const char *cells[PL_EVC_NCOLS];
	uint64_t start = pl_syscall_addr(e), n = pl_syscall_len(e);

	time_cell(ev, e->hdr.ts_ns, ts, sizeof(ts));
	snprintf(tid, sizeof(tid), "%u", e->hdr.tid);
	snprintf(range, sizeof(range), "%llx-%llx", (unsigned long long)start,
		 (unsigned long long)(start + n));
	snprintf(addr, sizeof(addr), "%llx", (unsigned long long)start);
	pl_format_size((int64_t)n, size, sizeof(size));
	rss_cell(e, rss, sizeof(rss));
	format_detail(e, ev->short_advice, detail, sizeof(detail));
	cells[PL_EVC_TIME] = ts;
	cells[PL_EVC_TID] = tid;
	cells[PL_EVC_SYSCALL] = pl_syscall_name(e->sys);
	cells[PL_EVC_RANGE] = range;
	cells[PL_EVC_ADDR] = addr;
	cells[PL_EVC_SIZE] = size;
	cells[PL_EVC_RSS] = rss;
	cells[PL_EVC_CALLER] = caller ? caller : "-";
	cells[PL_EVC_DETAIL] = detail;
	pl_layout_row(&ev->table, cells, buf, len);
}

/* "0.104167   rss_change " and the like: the time, thread and syscall columns, as shown. */
static void lead_cells(const struct pl_text_events *ev, uint64_t ts_ns, uint32_t tid,
		       const char *what, char *buf, size_t len)
{
	char ts[32];
	size_t used;

	time_cell(ev, ts_ns, ts, sizeof(ts));
	used = (size_t)snprintf(buf, len, "%-*s ", ev->cols[PL_EVC_TIME].width, ts);
	if (ev->cols[PL_EVC_TID].shown && used < len) {
		if (tid)
			used += (size_t)snprintf(buf + used, len - used, "%*u ",
						 ev->cols[PL_EVC_TID].width, tid);
		else
			used += (size_t)snprintf(buf + used, len - used, "%*s ",
						 ev->cols[PL_EVC_TID].width, "-");
	}
	if (used < len)
		snprintf(buf + used, len - used, "%-*s ", ev->cols[PL_EVC_SYSCALL].width, what);
}

/* A line of free text after the lead columns, wrapped under itself. */
static void text_line(const struct text_sink *s, FILE *f, uint64_t ts_ns, uint32_t tid,
		      const char *what, const char *text)
{
	char lead[96];

	lead_cells(&s->ev, ts_ns, tid, what, lead, sizeof(lead));
	pl_layout_wrap(f, lead, text, s->width, pl_text_width(lead));
}

void pl_format_frame(const struct pl_frame *f, char *buf, size_t len)
{
	char func[1024], where[1024];

	pl_escape(func, sizeof(func), f->func);
	if (f->func && f->file && f->line) {
		pl_escape(where, sizeof(where), f->file);
		snprintf(buf, len, "%s%s (%s:%d)", func, f->inlined ? " [inlined]" : "", where,
			 f->line);
		return;
	}
	pl_escape(where, sizeof(where), f->module ? f->module : "[unknown]");
	if (!f->func)
		snprintf(buf, len, "0x%llx (%s)", (unsigned long long)f->addr, where);
	else
		snprintf(buf, len, "%s+0x%llx (%s)", func, (unsigned long long)f->func_off, where);
}

static void print_stack(const struct text_sink *s, FILE *f, const struct pl_caller *c)
{
	char frame[2048], line[2200];

	for (int i = 0; i < c->nframes; i++) {
		pl_format_frame(&c->frames[i], frame, sizeof(frame));
		snprintf(line, sizeof(line), "    #%-2d %12llx %s%s", i,
			 (unsigned long long)c->frames[i].addr, frame,
			 i == c->site ? "  <- call site" : "");
		pl_layout_cut(line, s->width);
		fprintf(f, "%s\n", line);
	}
}

/* ---- the sink ---------------------------------------------------------------- */

static void text_begin(struct pl_output *o, const struct pl_run_info *info)
{
	struct text_sink *s = o->priv;
	char head[512];

	s->ev.t0_ns = info->t0_ns;
	s->ev.wall_t0_ns = pl_wall_of(info->t0_ns);
	if (o->quiet) /* -q: the summary alone */
		return;
	pl_text_events_header(&s->ev, head, sizeof(head));
	fprintf(o->f, "%s\n", head);
	fflush(o->f);
}

static void text_record(struct pl_output *o, const struct pl_record *r)
{
	struct text_sink *s = o->priv;
	char line[1024], rss[96], comm[4 * PL_COMM_LEN + 1], text[256];

	switch (r->type) {
	case PL_EV_SYSCALL:
		pl_text_syscall_line(&s->ev, r->sys,
				     r->caller ? pl_caller_class_name(r->caller->cls) : NULL, line,
				     sizeof(line));
		fprintf(o->f, "%s\n", line);
		if (s->opts.stacks && r->caller)
			print_stack(s, o->f, r->caller);
		break;
	case PL_EV_EXEC:
		pl_text_format_rss(r->exec->rss, rss, sizeof(rss));
		pl_escape_n(comm, sizeof(comm), r->exec->comm, sizeof(r->exec->comm));
		snprintf(text, sizeof(text), "%s: new address space, rss %s", comm, rss);
		text_line(s, o->f, r->exec->hdr.ts_ns, r->exec->hdr.tid, "exec", text);
		break;
	case PL_EV_EXIT:
		text_line(s, o->f, r->exit->hdr.ts_ns, r->exit->hdr.tid, "exit", "process exited");
		break;
	}
}

static void text_balance(struct pl_output *o, const struct pl_balance *b, uint32_t pid)
{
	struct text_sink *s = o->priv;
	char text[512];

	(void)pid;
	pl_text_format_balance(b, text, sizeof(text));
	text_line(s, o->f, b->ts_ns, 0, "balance", text);
	if (pl_text_format_go_heap(&b->go_heap, text, sizeof(text)))
		text_line(s, o->f, b->ts_ns, 0, "go_heap", text);
}

static void text_rss_change(struct pl_output *o, const struct pl_cause_acc *delta, uint64_t ts_ns,
			    uint32_t pid)
{
	struct text_sink *s = o->priv;
	char rss[96], text[160];

	(void)pid;
	for (int c = 0; c < PL_CAUSE_NR; c++) {
		if (!delta->delta[c][0] && !delta->delta[c][1] && !delta->delta[c][2] &&
		    !delta->delta[c][3])
			continue;
		pl_text_format_rss(delta->delta[c], rss, sizeof(rss));
		snprintf(text, sizeof(text), "%s: %s (%llu update%s)", pl_cause_name(c), rss,
			 (unsigned long long)delta->updates[c], delta->updates[c] == 1 ? "" : "s");
		text_line(s, o->f, ts_ns, 0, "rss_change", text);
	}
}

static void text_summary(struct pl_output *o, const struct pl_ledger *l)
{
	struct text_sink *s = o->priv;

	pl_text_summary(o->f, l, s->width, s->opts.verbose);
	fflush(o->f);
}

static void text_end(struct pl_output *o)
{
	free(o->priv);
	o->priv = NULL;
}

static const struct pl_output_ops text_ops = {
    .begin = text_begin,
    .record = text_record,
    .summary = text_summary,
    .balance = text_balance,
    .rss_change = text_rss_change,
    .end = text_end,
};

int pl_output_text_init(struct pl_output *o, FILE *f, const struct pl_text_opts *opts)
{
	struct text_sink *s = calloc(1, sizeof(*s));

	memset(o, 0, sizeof(*o));
	if (!s) {
		fprintf(stderr, "pageledger: out of memory\n");
		return -1;
	}
	s->opts = *opts;
	s->width = pl_text_width_for(f, opts->fd, opts->width);
	pl_text_events_layout(&s->ev, s->width, opts->wall_clock);
	o->ops = &text_ops;
	o->f = f;
	o->quiet = opts->quiet;
	o->priv = s;
	return 0;
}
