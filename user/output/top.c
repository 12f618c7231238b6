// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * --top: the live view. Redraws the terminal in place once a second from
 * the per-poll samples; on the way out it gives the terminal back and
 * prints the usual text summary. The layout itself is top_view.c's.
 */
#include <langinfo.h>
#include <locale.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <termios.h>
#include <unistd.h>
#include "symbolize/attribution.h"
#include "output/output.h"
#include "output/top_view.h"

/* Alternate screen, cursor hidden; and the way back. */
#define ENTER_SCREEN "\033[?1049h\033[?25l\033[H\033[2J"
#define LEAVE_SCREEN "\033[?1049l\033[?25h"

struct top {
	struct pl_top_state st;
	struct pl_top_screen screen;
	struct pl_output text; /* a text sink for the summary at the end */
	bool entered;	       /* the screen was taken once: never again after giving it back */
	bool quit;	       /* q was pressed */
	char frame[PL_TOP_MAX_ROWS * (PL_TOP_LINE_BYTES + 8) + 16];
};

/*
 * What the terminal looked like before: file-scope so that a second Ctrl-C
 * and atexit can restore it without the sink.
 */
static volatile sig_atomic_t screen_on, keys_on;
static struct termios saved_termios;

void pl_output_top_restore_terminal(void)
{
	/* Only write(2) and tcsetattr(3): this runs in signal handlers too. */
	if (keys_on) {
		keys_on = 0;
		tcsetattr(STDIN_FILENO, TCSANOW, &saved_termios);
	}
	if (screen_on) {
		screen_on = 0;
		if (write(STDOUT_FILENO, LEAVE_SCREEN, sizeof(LEAVE_SCREEN) - 1) < 0)
			return; /* nothing left to tell it to */
	}
}

static bool locale_is_utf8(void)
{
	char *cur = setlocale(LC_CTYPE, NULL);
	char saved[64];
	bool utf8;

	/* Ask the user's locale, then put the program's back: nothing else changes. */
	snprintf(saved, sizeof(saved), "%s", cur ? cur : "C");
	if (!setlocale(LC_CTYPE, ""))
		return false;
	utf8 = !strcmp(nl_langinfo(CODESET), "UTF-8");
	setlocale(LC_CTYPE, saved);
	return utf8;
}

/* Keys one at a time, without echo, and a read that never waits. */
static void take_keyboard(void)
{
	struct termios raw;

	/* In the background, tcsetattr would stop us with SIGTTOU: no keys then. */
	if (!isatty(STDIN_FILENO) || tcgetpgrp(STDIN_FILENO) != getpgrp() ||
	    tcgetattr(STDIN_FILENO, &saved_termios))
		return;
	raw = saved_termios;
	raw.c_lflag &= ~(tcflag_t)(ICANON | ECHO); /* ISIG stays: Ctrl-C still stops */
	raw.c_cc[VMIN] = 0;
	raw.c_cc[VTIME] = 0;
	if (tcsetattr(STDIN_FILENO, TCSANOW, &raw) == 0)
		keys_on = 1;
}

static void enter_screen(FILE *f)
{
	static bool registered;

	if (!registered && atexit(pl_output_top_restore_terminal) == 0)
		registered = true;
	take_keyboard();
	fputs(ENTER_SCREEN, f);
	fflush(f);
	screen_on = 1;
}

static void top_begin(struct pl_output *o, const struct pl_run_info *info)
{
	struct top *t = o->priv;

	pl_top_init(&t->st, info->pid, info->comm, info->t0_ns, locale_is_utf8());
}

static void top_record(struct pl_output *o, const struct pl_record *r)
{
	struct top *t = o->priv;
	int64_t delta;
	enum pl_caller_class cls;

	/* A command we started is named by its path until the kernel names it. */
	if (r->type == PL_EV_EXEC)
		snprintf(t->st.comm, sizeof(t->st.comm), "%.*s", (int)sizeof(r->exec->comm),
			 r->exec->comm);
	if (r->type != PL_EV_SYSCALL || !pl_syscall_is_release(r->sys) ||
	    (r->sys->flags & PL_SCF_RSS_UNKNOWN))
		return;
	delta = pl_resident_delta(r->sys->rss_delta);
	cls = r->caller ? r->caller->cls : PL_CALLER_UNKNOWN;
	/* Advised: what a madvise asked to give back; MADV_FREE's bytes stay resident. */
	pl_top_add_release(&t->st, cls,
			   pl_syscall_has_advice(r->sys->sys) ? pl_syscall_len(r->sys) : 0,
			   delta < 0 ? (uint64_t)-delta : 0);
}

static void screen_size(int *cols, int *rows)
{
	struct winsize ws;

	*cols = 80;
	*rows = 24;
	if (ioctl(STDOUT_FILENO, TIOCGWINSZ, &ws) == 0 && ws.ws_col && ws.ws_row) {
		*cols = ws.ws_col;
		*rows = ws.ws_row;
	}
}

/* One write per frame: home, each line over the old one, clear the rest. */
static void draw(struct top *t, FILE *f)
{
	size_t used = 0, cap = sizeof(t->frame);
	int cols, rows;

	screen_size(&cols, &rows);
	pl_top_render(&t->st, cols, rows, &t->screen);
	used += (size_t)snprintf(t->frame, cap, "\033[H");
	for (int i = 0; i < t->screen.n && used < cap; i++)
		/* Erase first: erasing after a full-width line would eat its last column. */
		used += (size_t)snprintf(t->frame + used, cap - used, "\033[2K%s%s",
					 t->screen.line[i], i + 1 < t->screen.n ? "\r\n" : "");
	if (t->screen.n < rows && used < cap)
		used += (size_t)snprintf(t->frame + used, cap - used, "\r\n\033[J");
	fwrite(t->frame, 1, used < cap ? used : cap - 1, f);
	fflush(f);
}

/* 'q' asks the trace loop to stop; other keys are ignored. */
static void read_keys(struct top *t)
{
	char keys[32];
	ssize_t n;

	if (!keys_on)
		return;
	while ((n = read(STDIN_FILENO, keys, sizeof(keys))) > 0)
		for (ssize_t i = 0; i < n; i++)
			if (keys[i] == 'q' || keys[i] == 'Q')
				t->quit = true;
}

static bool top_wants_stop(struct pl_output *o)
{
	return ((struct top *)o->priv)->quit;
}

static void top_sample(struct pl_output *o, const struct pl_sample *s)
{
	struct top *t = o->priv;
	bool due = pl_top_sample(&t->st, s->ts_ns, s->rss, s->page_faults, s->released,
				 s->lazy_pending, s->top_ranges, s->n_top_ranges);
	struct pl_diagnosis d;

	if (s->ledger) {
		pl_diagnose_now(s->ledger, s->rss, s->lazy_pending, s->go_heap, &d);
		pl_top_set_diagnosis(&t->st, &d);
	}

	/*
	 * The screen is taken at the first sample, once tracing runs: a failure
	 * to start is then still on the terminal after we exit.
	 */
	if (!t->entered) {
		enter_screen(o->f);
		t->entered = true;
		due = true;
	}
	read_keys(t);
	if (screen_on && due)
		draw(t, o->f);
}

static void top_summary(struct pl_output *o, const struct pl_ledger *l)
{
	struct top *t = o->priv;

	pl_output_top_restore_terminal();
	t->text.ops->summary(&t->text, l);
}

static void top_end(struct pl_output *o)
{
	struct top *t = o->priv;

	pl_output_top_restore_terminal();
	t->text.ops->end(&t->text);
	free(t);
	o->priv = NULL;
}

/* Balances and causes: the summary shows the last one and their sums. */
static const struct pl_output_ops top_ops = {
    .begin = top_begin,
    .record = top_record,
    .sample = top_sample,
    .summary = top_summary,
    .end = top_end,
    .wants_stop = top_wants_stop,
};

int pl_output_top_init(struct pl_output *o, FILE *f, const struct pl_text_opts *opts)
{
	struct top *t = calloc(1, sizeof(*t));
	struct pl_text_opts summary = *opts;

	memset(o, 0, sizeof(*o));
	if (!t) {
		fprintf(stderr, "pageledger: out of memory for the live view\n");
		return -1;
	}
	summary.quiet = true;
	if (pl_output_text_init(&t->text, f, &summary)) {
		free(t);
		return -1;
	}
	o->ops = &top_ops;
	o->f = f;
	o->priv = t;
	return 0;
}
