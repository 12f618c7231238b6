// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "decode/decode.h"
#include "output/layout.h"
#include "output/rows.h"
#include "output/top_view.h"
#include "util/escape.h"

#define NS_PER_S 1000000000ull
/* "anon     64.1M  ": label, value, gap; the sparkline takes the rest. */
#define LABEL_COLS 18

static const int rss_order[] = {PL_RSS_ANON, PL_RSS_FILE, PL_RSS_SHMEM, PL_RSS_SWAP};

void pl_top_init(struct pl_top_state *s, uint32_t pid, const char *comm, uint64_t t0_ns, bool utf8)
{
	memset(s, 0, sizeof(*s));
	s->pid = pid;
	snprintf(s->comm, sizeof(s->comm), "%s", comm ? comm : "?");
	s->t0_ns = s->tick_ns = s->now_ns = t0_ns;
	s->utf8 = utf8;
	s->lazy_pending = -1;
}

void pl_top_add_release(struct pl_top_state *s, enum pl_caller_class cls, uint64_t advised,
			uint64_t freed)
{
	if ((unsigned)cls >= PL_CALLER_NR)
		cls = PL_CALLER_UNKNOWN;
	s->class_released[cls] += freed;
	s->class_advised[cls] += advised;
	s->advised += advised;
}

void pl_top_set_diagnosis(struct pl_top_state *s, const struct pl_diagnosis *d)
{
	s->diag = *d;
	s->have_diag = true;
}

void pl_top_series_push(struct pl_top_series *h, int64_t v)
{
	h->v[h->next] = v;
	h->next = (h->next + 1) % PL_TOP_HISTORY;
	if (h->n < PL_TOP_HISTORY)
		h->n++;
}

static double per_s(uint64_t now, uint64_t then, double dt)
{
	return now >= then ? (double)(now - then) / dt : 0.0;
}

/* A second (or more) has passed: rates over it, one more point of history. */
static void tick(struct pl_top_state *s, uint64_t ts_ns)
{
	double dt = (double)(ts_ns - s->tick_ns) / 1e9;

	s->faults_rate = per_s(s->faults, s->tick_faults, dt);
	s->released_rate = per_s(s->released, s->tick_released, dt);
	s->advised_rate = per_s(s->advised, s->tick_advised, dt);
	for (int c = 0; c < PL_CALLER_NR; c++) {
		s->class_rate[c] = per_s(s->class_released[c], s->tick_class[c], dt);
		s->tick_class[c] = s->class_released[c];
		s->class_advised_rate[c] = per_s(s->class_advised[c], s->tick_class_advised[c], dt);
		s->tick_class_advised[c] = s->class_advised[c];
	}
	s->tick_faults = s->faults;
	s->tick_released = s->released;
	s->tick_advised = s->advised;
	s->tick_ns = ts_ns;
	for (int m = 0; m < PL_RSS_NR; m++)
		pl_top_series_push(&s->rss_hist[m], s->rss[m]);
	pl_top_series_push(&s->faults_hist, (int64_t)(s->faults_rate + 0.5));
	s->ticks++;
}

bool pl_top_sample(struct pl_top_state *s, uint64_t ts_ns, const __s64 rss[PL_RSS_NR],
		   uint64_t faults, uint64_t released, int64_t lazy_pending,
		   const struct pl_range_row *ranges, int n_ranges)
{
	memcpy(s->rss, rss, sizeof(s->rss));
	s->faults = faults;
	s->released = released;
	s->lazy_pending = lazy_pending;
	s->now_ns = ts_ns;
	if (n_ranges < 0 || !ranges)
		n_ranges = 0;
	if (n_ranges > PL_TOP_MERGE_RANGES)
		n_ranges = PL_TOP_MERGE_RANGES;
	/* The summary shows a region as one row: so does the live view. */
	memcpy(s->merging, ranges ? ranges : s->merging, (size_t)n_ranges * sizeof(*ranges));
	n_ranges = (int)pl_rows_merge_neighbours(s->merging, (size_t)n_ranges);
	if (n_ranges > PL_TOP_MAX_RANGES)
		n_ranges = PL_TOP_MAX_RANGES;
	memcpy(s->ranges, s->merging, (size_t)n_ranges * sizeof(*ranges));
	s->n_ranges = n_ranges;
	if (ts_ns < s->tick_ns + NS_PER_S)
		return false;
	tick(s, ts_ns);
	return true;
}

/* ---- formatting ------------------------------------------------------------ */

void pl_top_format_count(double v, char *buf, size_t len)
{
	static const char units[] = "KMGT";
	int u = -1;

	if (v < 0)
		v = 0;
	if (v < 1000) {
		snprintf(buf, len, "%.0f", v);
		return;
	}
	while (v >= 999.95 && u < 3) {
		v /= 1000;
		u++;
	}
	snprintf(buf, len, "%.1f%c", v, units[u]);
}

void pl_top_format_rate(double bytes_per_s, bool known, char *buf, size_t len)
{
	char size[24];

	if (!known) {
		snprintf(buf, len, "-");
		return;
	}
	pl_format_size((int64_t)(bytes_per_s + 0.5), size, sizeof(size));
	snprintf(buf, len, "%s/s", size);
}

/* Eight heights and a blank: U+2581..U+2588, or their ASCII stand-ins. */
static const char *const blocks[] = {" ", "▁", "▂", "▃", "▄", "▅", "▆", "▇", "█"};
static const char ramp[] = " .:-=+*#@";

static int level(int64_t v, int64_t max)
{
	if (v <= 0 || max <= 0)
		return 0;
	/* Anything above zero shows: a small value is not the same as none. */
	return 1 + (int)((v * 7 + max / 2) / max);
}

static int64_t series_at(const struct pl_top_series *h, int age)
{
	return h->v[(h->next - 1 - age + 2 * PL_TOP_HISTORY) % PL_TOP_HISTORY];
}

void pl_top_sparkline(const struct pl_top_series *h, int width, bool utf8, char *buf, size_t len)
{
	int64_t max = 0;
	int shown;
	size_t used = 0;

	if (width > PL_TOP_HISTORY)
		width = PL_TOP_HISTORY;
	shown = width < h->n ? width : h->n;
	for (int age = 0; age < shown; age++)
		if (series_at(h, age) > max)
			max = series_at(h, age);
	buf[0] = '\0';
	for (int col = 0; col < width; col++) {
		int age = width - 1 - col;
		int lv = age < shown ? level(series_at(h, age), max) : 0;
		char ascii[2] = {ramp[lv], '\0'};
		const char *ch = utf8 ? blocks[lv] : ascii;
		size_t n = strlen(ch);

		if (used + n >= len)
			break;
		memcpy(buf + used, ch, n + 1);
		used += n;
	}
}

/* ---- layout ---------------------------------------------------------------- */

struct layout {
	struct pl_top_screen *out;
	int cols, rows;
};

/* Appends one line, cut to the screen's width; nothing once the screen is full. */
static void put(struct layout *L, const char *fmt, ...)
{
	char *dst;
	va_list ap;

	if (L->out->n >= L->rows)
		return;
	dst = L->out->line[L->out->n++];
	va_start(ap, fmt);
	vsnprintf(dst, PL_TOP_LINE_BYTES, fmt, ap);
	va_end(ap);
	dst[pl_text_cut(dst, L->cols)] = '\0';
}

/* "pageledger  pid 42 (app)  up 3s   q: quit and summarize": the name is cut, never the key. */
static void put_header(struct layout *L, const struct pl_top_state *s)
{
	double up = s->now_ns > s->t0_ns ? (double)(s->now_ns - s->t0_ns) / 1e9 : 0;
	char comm[4 * sizeof(s->comm) + 1], left[96], right[64];
	int room;

	pl_escape_n(comm, sizeof(comm), s->comm, sizeof(s->comm));
	snprintf(left, sizeof(left), "pageledger  pid %u (", s->pid);
	snprintf(right, sizeof(right), ")  up %.0fs   q: quit and summarize", up);
	room = L->cols - pl_text_width(left) - pl_text_width(right);
	if (room < pl_text_width(comm))
		pl_layout_cut(comm, room > 1 ? room : 1);
	put(L, "%s%s%s", left, comm, right);
}

static void put_spark_row(struct layout *L, const char *label, const char *value,
			  const struct pl_top_series *h, bool utf8)
{
	char spark[PL_TOP_LINE_BYTES];
	int width = L->cols - LABEL_COLS;

	spark[0] = '\0';
	if (width > 0)
		pl_top_sparkline(h, width, utf8, spark, sizeof(spark));
	put(L, "%-8s %7s  %s", label, value, spark);
}

/* The seconds the sparklines show: no more than they hold. */
static int history_shown(const struct layout *L, const struct pl_top_state *s)
{
	int width = L->cols - LABEL_COLS;

	if (width > PL_TOP_HISTORY)
		width = PL_TOP_HISTORY;
	return width < s->rss_hist[PL_RSS_ANON].n ? width : s->rss_hist[PL_RSS_ANON].n;
}

static void put_rss(struct layout *L, const struct pl_top_state *s)
{
	int shown = history_shown(L, s);
	char v[32];

	if (shown > 0)
		put(L, "%-8s %7s  last %ds", "RSS", "NOW", shown);
	else
		put(L, "%-8s %7s", "RSS", "NOW");
	for (int i = 0; i < PL_RSS_NR; i++) {
		int m = rss_order[i];

		pl_format_size(s->rss[m], v, sizeof(v));
		put_spark_row(L, pl_rss_member_name(m), v, &s->rss_hist[m], s->utf8);
	}
	if (s->ticks)
		pl_top_format_count(s->faults_rate, v, sizeof(v));
	else
		snprintf(v, sizeof(v), "-");
	put_spark_row(L, "faults/s", v, &s->faults_hist, s->utf8);
}

/*
 * " + brief size" at the end of line; if it would not fit, the line is put
 * and the next one starts with indent.
 */
static void put_part(struct layout *L, char *line, size_t size, const char *indent, bool first,
		     const struct pl_diag_row *row)
{
	char part[96], v[16];

	if (row->bytes < 0)
		snprintf(v, sizeof(v), "?");
	else
		pl_format_size(row->bytes, v, sizeof(v));
	snprintf(part, sizeof(part), "%s%s %s", first ? "" : "+ ", row->brief, v);
	if (pl_text_width(line) + 1 + pl_text_width(part) > L->cols) {
		put(L, "%s", line);
		snprintf(line, size, "%s", indent);
	}
	snprintf(line + strlen(line), size - strlen(line), " %s", part);
}

/*
 * "in use 130.0M = Go in use 8.0M + Go retained 120.0M + other 2.0M": the
 * rows a part is split into (the Go heap's, for in use), on a line of
 * their own; none when it has none.
 */
static void put_split(struct layout *L, const struct pl_diag_row *rows, int n, int part)
{
	char line[PL_TOP_LINE_BYTES], v[16];
	int i = part + 1;

	if (i >= n || rows[i].kind != PL_DIAG_OF_WHICH || rows[part].bytes < 0)
		return;
	pl_format_size(rows[part].bytes, v, sizeof(v));
	snprintf(line, sizeof(line), "  %s %s =", rows[part].brief, v);
	for (; i < n && rows[i].kind == PL_DIAG_OF_WHICH; i++)
		put_part(L, line, sizeof(line), "   ", i == part + 1, &rows[i]);
	put(L, "%s", line);
}

/*
 * "resident 65.5M = in use 1.5M + MADV_FREE'd 64.0M + ...": the diagnosis's
 * parts, now, a part never split over two lines; then what a part holds.
 */
static void put_diagnosis(struct layout *L, const struct pl_top_state *s)
{
	struct pl_diag_row rows[PL_DIAG_ROWS];
	char line[PL_TOP_LINE_BYTES], v[16];
	int n;

	if (!s->have_diag)
		return;
	n = pl_diagnosis_rows(&s->diag, rows);
	pl_format_size(s->diag.resident, v, sizeof(v));
	snprintf(line, sizeof(line), "resident %s =", v);
	for (int i = 0, parts = 0; i < n; i++)
		if (rows[i].kind == PL_DIAG_PART)
			put_part(L, line, sizeof(line), " ", !parts++, &rows[i]);
	put(L, "%s", line);
	for (int i = 0; i < n; i++)
		if (rows[i].kind == PL_DIAG_PART)
			put_split(L, rows, n, i);
}

/* How busy a class is: bytes it named and freed, a second, then in all. */
static bool busier(const struct pl_top_state *s, int a, int b)
{
	double ra = s->class_rate[a] + s->class_advised_rate[a];
	double rb = s->class_rate[b] + s->class_advised_rate[b];

	if (ra != rb)
		return ra > rb;
	return s->class_released[a] + s->class_advised[a] >=
	       s->class_released[b] + s->class_advised[b];
}

/* Classes that released or advised anything, the busiest first. */
static int busiest(const struct pl_top_state *s, int *order)
{
	int n = 0;

	for (int c = 0; c < PL_CALLER_NR; c++) {
		int j = n;

		if (!s->class_released[c] && !s->class_advised[c])
			continue;
		for (; j > 0 && !busier(s, order[j - 1], c); j--)
			order[j] = order[j - 1];
		order[j] = c;
		n++;
	}
	return n;
}

enum { RL_WHO, RL_ADV_RATE, RL_ADVISED, RL_FREE_RATE, RL_FREED, RL_NCOLS };

static void released_row(struct layout *L, const struct pl_table *t, const char *who,
			 double adv_rate, uint64_t advised, double free_rate, uint64_t freed,
			 bool known)
{
	char v[4][32], line[PL_TOP_LINE_BYTES];
	const char *cells[RL_NCOLS] = {who, v[0], v[1], v[2], v[3]};

	pl_top_format_rate(adv_rate, known, v[0], sizeof(v[0]));
	pl_format_size((int64_t)advised, v[1], sizeof(v[1]));
	pl_top_format_rate(free_rate, known, v[2], sizeof(v[2]));
	pl_format_size((int64_t)freed, v[3], sizeof(v[3]));
	pl_layout_row(t, cells, line, sizeof(line));
	put(L, "%s", line);
}

/*
 * What the releasing madvises asked for and what left RSS, a second and in
 * all: MADV_FREE asks for bytes that stay, so the two differ.
 */
static void put_released(struct layout *L, const struct pl_top_state *s)
{
	struct pl_col cols[RL_NCOLS] = {
	    {"RELEASING CALLS BY CALLER", 28, false, true},
	    {"ADVISED/s", 10, true, true},
	    {"ADVISED", 9, true, true},
	    {"FREED/s", 10, true, true},
	    {"FREED", 9, true, true},
	};
	struct pl_table t = {.cols = cols, .n = RL_NCOLS, .width = L->cols};
	int order[PL_CALLER_NR], n = busiest(s, order);
	char who[40], line[PL_TOP_LINE_BYTES];

	pl_layout_fit(&t, NULL, 0, 0);
	put(L, "");
	pl_layout_row(&t, NULL, line, sizeof(line));
	put(L, "%s", line);
	released_row(L, &t, "  all", s->advised_rate, s->advised, s->released_rate, s->released,
		     s->ticks > 0);
	for (int i = 0; i < n && i < PL_TOP_CLASS_ROWS; i++) {
		int c = order[i];

		snprintf(who, sizeof(who), "  %.26s", pl_caller_class_label(c));
		released_row(L, &t, who, s->class_advised_rate[c], s->class_advised[c],
			     s->class_rate[c], s->class_released[c], s->ticks > 0);
	}
	if (n > PL_TOP_CLASS_ROWS)
		put(L, "  (%d more classes)", n - PL_TOP_CLASS_ROWS);
}

enum {
	TR_START,
	TR_END,
	TR_NAME,
	TR_RESIDENT,
	TR_MAPPED,
	TR_FAULTED,
	TR_RELEASED,
	TR_LAZY,
	TR_REFAULT,
	TR_NCOLS
};

static void put_range(struct layout *L, const struct pl_table *t, const struct pl_range_row *r)
{
	char start[24], end[24], name[4 * PL_RANGE_NAME + 1], v[6][16], line[PL_TOP_LINE_BYTES];
	const uint64_t vals[6] = {pl_row_resident(r), r->mapped,       r->faulted,
				  r->released,	      r->lazy_pending, r->refaulted};
	const char *cells[TR_NCOLS] = {start, end, name, v[0], v[1], v[2], v[3], v[4], v[5]};

	snprintf(start, sizeof(start), "%llx", (unsigned long long)r->start);
	snprintf(end, sizeof(end), "%llx", (unsigned long long)r->end);
	pl_escape(name, sizeof(name), r->name); /* names come from the target's files */
	pl_layout_cut(name, t->cols[TR_NAME].width);
	for (int i = 0; i < 6; i++)
		pl_format_size((int64_t)vals[i], v[i], sizeof(v[i]));
	pl_layout_row(t, cells, line, sizeof(line));
	put(L, "%s", line);
}

/* The largest ranges now, as many as the screen has room for. */
static void put_ranges(struct layout *L, const struct pl_top_state *s)
{
	struct pl_col cols[TR_NCOLS] = {
	    {"TOP RANGES", 12, false, true}, {"END", 12, false, true},	{"NAME", 10, false, true},
	    {"RESIDENT", 8, true, true},     {"MAPPED", 7, true, true}, {"FAULTED", 7, true, true},
	    {"RELEASD", 7, true, true},	     {"LAZY", 7, true, true},	{"REFAULT", 7, true, true},
	};
	static const int drop[] = {TR_END, TR_FAULTED, TR_MAPPED, TR_START};
	struct pl_table t = {.cols = cols, .n = TR_NCOLS, .width = L->cols};
	char line[PL_TOP_LINE_BYTES];

	pl_layout_fit(&t, drop, sizeof(drop) / sizeof(drop[0]), 0);
	put(L, "");
	pl_layout_row(&t, NULL, line, sizeof(line));
	put(L, "%s", line);
	if (!s->n_ranges)
		put(L, "(no ranges yet)");
	for (int i = 0; i < s->n_ranges; i++)
		put_range(L, &t, &s->ranges[i]);
}

void pl_top_render(const struct pl_top_state *s, int cols, int rows, struct pl_top_screen *out)
{
	struct layout L = {.out = out, .cols = cols, .rows = rows};

	if (L.cols > PL_TOP_MAX_COLS)
		L.cols = PL_TOP_MAX_COLS;
	if (L.rows > PL_TOP_MAX_ROWS)
		L.rows = PL_TOP_MAX_ROWS;
	out->n = 0;
	if (L.cols < 1 || L.rows < 1)
		return;
	put_header(&L, s);
	put_rss(&L, s);
	put_diagnosis(&L, s);
	put_released(&L, s);
	put_ranges(&L, s);
}
