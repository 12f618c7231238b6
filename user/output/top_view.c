// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include "decode/decode.h"
#include "output/top_view.h"

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

void pl_top_add_release(struct pl_top_state *s, enum pl_caller_class cls, uint64_t bytes)
{
	if ((unsigned)cls >= PL_CALLER_NR)
		cls = PL_CALLER_UNKNOWN;
	s->class_released[cls] += bytes;
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
	for (int c = 0; c < PL_CALLER_NR; c++) {
		s->class_rate[c] = per_s(s->class_released[c], s->tick_class[c], dt);
		s->tick_class[c] = s->class_released[c];
	}
	s->tick_faults = s->faults;
	s->tick_released = s->released;
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
	if (n_ranges > PL_TOP_MAX_RANGES)
		n_ranges = PL_TOP_MAX_RANGES;
	memcpy(s->ranges, ranges ? ranges : s->ranges, (size_t)n_ranges * sizeof(*ranges));
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

int pl_top_width(const char *s)
{
	int w = 0;

	for (; *s; s++)
		if (((unsigned char)*s & 0xc0) != 0x80)
			w++;
	return w;
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
	char tmp[PL_TOP_LINE_BYTES];
	char *dst;
	int w = 0;
	size_t i = 0;
	va_list ap;

	if (L->out->n >= L->rows)
		return;
	va_start(ap, fmt);
	vsnprintf(tmp, sizeof(tmp), fmt, ap);
	va_end(ap);
	dst = L->out->line[L->out->n++];
	for (; tmp[i]; i++) {
		bool starts = ((unsigned char)tmp[i] & 0xc0) != 0x80;

		if (starts && ++w > L->cols)
			break;
		dst[i] = tmp[i];
	}
	dst[i] = '\0';
}

static void put_header(struct layout *L, const struct pl_top_state *s)
{
	double up = s->now_ns > s->t0_ns ? (double)(s->now_ns - s->t0_ns) / 1e9 : 0;

	put(L, "pageledger  pid %u (%s)  %.0fs        q: quit and summarize", s->pid, s->comm, up);
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

static void put_rss(struct layout *L, const struct pl_top_state *s)
{
	int width = L->cols - LABEL_COLS;
	char v[32];

	if (width > PL_TOP_HISTORY)
		width = PL_TOP_HISTORY;
	if (width > 0)
		put(L, "%-8s %7s  last %ds", "RSS", "NOW", width);
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
	if (s->lazy_pending < 0)
		snprintf(v, sizeof(v), "?");
	else
		pl_format_size(s->lazy_pending, v, sizeof(v));
	put(L, "lazily freed, still resident (MADV_FREE): %s", v);
}

/* Classes by bytes a second, then by total: the busiest first. */
static int busiest(const struct pl_top_state *s, int *order)
{
	int n = 0;

	for (int c = 0; c < PL_CALLER_NR; c++) {
		int j = n++;

		if (!s->class_released[c]) {
			n--;
			continue;
		}
		for (; j > 0; j--) {
			int p = order[j - 1];

			if (s->class_rate[p] > s->class_rate[c] ||
			    (s->class_rate[p] == s->class_rate[c] &&
			     s->class_released[p] >= s->class_released[c]))
				break;
			order[j] = p;
		}
		order[j] = c;
	}
	return n;
}

static void put_released(struct layout *L, const struct pl_top_state *s)
{
	int order[PL_CALLER_NR];
	int n = busiest(s, order);
	char rate[32], total[32];

	put(L, "");
	pl_top_format_rate(s->released_rate, s->ticks > 0, rate, sizeof(rate));
	pl_format_size((int64_t)s->released, total, sizeof(total));
	put(L, "%-28s %10s %10s", "RELEASED BY CALLER", "PER SEC", "TOTAL");
	put(L, "  %-26s %10s %10s", "all", rate, total);
	for (int i = 0; i < n && i < PL_TOP_CLASS_ROWS; i++) {
		int c = order[i];

		pl_top_format_rate(s->class_rate[c], s->ticks > 0, rate, sizeof(rate));
		pl_format_size((int64_t)s->class_released[c], total, sizeof(total));
		put(L, "  %-26.26s %10s %10s", pl_caller_class_label(c), rate, total);
	}
	if (n > PL_TOP_CLASS_ROWS)
		put(L, "  (%d more classes)", n - PL_TOP_CLASS_ROWS);
}

/* Names come from file paths: keep them one column per byte. */
static void printable(const char *in, char *out, size_t len)
{
	size_t i = 0;

	for (; in[i] && i + 1 < len; i++)
		out[i] = (unsigned char)in[i] >= 0x20 && (unsigned char)in[i] < 0x7f ? in[i] : '?';
	out[i] = '\0';
}

static void put_range(struct layout *L, const struct pl_range_row *r)
{
	char name[PL_RANGE_NAME], v[5][16];
	const uint64_t vals[5] = {r->mapped, r->faulted, r->released, r->lazy_pending,
				  r->refaulted};

	printable(r->name, name, sizeof(name));
	for (int i = 0; i < 5; i++)
		pl_format_size((int64_t)vals[i], v[i], sizeof(v[i]));
	put(L, "%-12llx %-12llx %-10.10s %7s %7s %7s %7s %7s", (unsigned long long)r->start,
	    (unsigned long long)r->end, name, v[0], v[1], v[2], v[3], v[4]);
}

static void put_ranges(struct layout *L, const struct pl_top_state *s)
{
	put(L, "");
	put(L, "%-12s %-12s %-10s %7s %7s %7s %7s %7s", "TOP RANGES", "END", "NAME", "MAPPED",
	    "FAULTED", "RELEASD", "LAZY", "REFAULT");
	if (!s->n_ranges)
		put(L, "(no ranges yet)");
	for (int i = 0; i < s->n_ranges; i++)
		put_range(L, &s->ranges[i]);
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
	put_released(&L, s);
	put_ranges(&L, s);
}
