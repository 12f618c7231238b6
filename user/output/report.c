// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * --report. The picture is plain SVG 1.1: shapes, text and one hatch
 * pattern, no scripts and no external references, so it renders the same in
 * a browser, an image viewer or a README. HTML wraps the same SVG inline.
 * It is as wide as the window it is shown in (a viewBox, width 100%).
 */
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>
#include "util/clock.h"
#include "util/escape.h"
#include "util/grow.h"
#include "symbolize/attribution.h"
#include "symbolize/callers.h"
#include "symbolize/procmaps.h"
#include "output/report.h"

/* Layout, in SVG user units. */
#define W 1000
#define PLOT_X0 80
#define PLOT_X1 760
#define PLOT_Y0 74
#define PLOT_Y1 374
#define LEGEND_X 780
#define DIAG_Y 440
#define LINE_H 18
#define HINT_CHARS 130 /* a hint line's characters at 12 px across the page */
#define R_MAX 16.0     /* the radius of the marker of the most bytes */
#define R_MIN 2.0      /* smaller markers are drawn this big, to be seen */

/* Light tints under strong markers: anon, file, shmem (ColorBrewer "Paired"). */
static const char *const member_color[] = {"#a6cee3", "#fdbf6f", "#b2df8a"};
#define LAZY_COLOR "#d55e00"

enum shape { CIRCLE, SQUARE, DIAMOND, TRIANGLE };

/*
 * Each caller class: a colour from Okabe and Ito's palette, which people
 * with any common colour blindness tell apart, and a shape per allocator,
 * so that classes sharing a colour never share a shape.
 */
static const struct {
	const char *color;
	enum shape shape;
} class_style[PL_CALLER_NR] = {
    [PL_CALLER_UNKNOWN] = {"#999999", CIRCLE},
    [PL_CALLER_GO_SCAV_BACKGROUND] = {"#0072b2", CIRCLE},
    [PL_CALLER_GO_SCAV_FORCED] = {"#d55e00", CIRCLE},
    [PL_CALLER_GO_SCAV_EAGER] = {"#e69f00", CIRCLE},
    [PL_CALLER_GO_HEAP_GROW] = {"#009e73", CIRCLE},
    [PL_CALLER_GO_RUNTIME] = {"#cc79a7", CIRCLE},
    [PL_CALLER_GLIBC_TRIM] = {"#d55e00", SQUARE},
    [PL_CALLER_GLIBC_FREE] = {"#0072b2", SQUARE},
    [PL_CALLER_GLIBC_MALLOC] = {"#e69f00", SQUARE},
    [PL_CALLER_JEMALLOC_PURGE] = {"#0072b2", DIAMOND},
    [PL_CALLER_JEMALLOC] = {"#56b4e9", DIAMOND},
    [PL_CALLER_TCMALLOC_RELEASE] = {"#0072b2", TRIANGLE},
    [PL_CALLER_TCMALLOC] = {"#56b4e9", TRIANGLE},
    [PL_CALLER_PYTHON_ARENA] = {"#e69f00", DIAMOND},
    [PL_CALLER_LOADER] = {"#000000", CIRCLE},
    [PL_CALLER_APP] = {"#009e73", SQUARE},
};

enum pl_report_kind pl_report_kind(const char *path)
{
	const char *dot = path ? strrchr(path, '.') : NULL;

	if (!dot || dot == path || strchr(dot, '/'))
		return PL_REPORT_BAD;
	if (!strcasecmp(dot, ".svg"))
		return PL_REPORT_SVG;
	if (!strcasecmp(dot, ".html") || !strcasecmp(dot, ".htm"))
		return PL_REPORT_HTML;
	return PL_REPORT_BAD;
}

/* ---- scales ------------------------------------------------------------------ */

struct scale {
	uint64_t t0_ns;
	double t_span_s; /* seconds across the plot: the run, to its end */
	double y_max;	 /* bytes at the top of the plot */
	double y_step;	 /* bytes between grid lines */
	double t_step;	 /* seconds between ticks */
};

static double x_of(const struct scale *s, uint64_t ts_ns)
{
	double t = (double)(int64_t)(ts_ns - s->t0_ns) / 1e9;

	if (t < 0)
		t = 0;
	if (t > s->t_span_s)
		t = s->t_span_s;
	return PLOT_X0 + (PLOT_X1 - PLOT_X0) * t / s->t_span_s;
}

static double y_of(const struct scale *s, double bytes)
{
	return PLOT_Y1 - (PLOT_Y1 - PLOT_Y0) * bytes / s->y_max;
}

static int64_t resident(const struct pl_report_point *p)
{
	return p->anon + p->file + p->shmem;
}

/* The run's last instant: its end, or the last thing drawn. */
static uint64_t last_ns(const struct pl_report_data *d)
{
	uint64_t last = d->t_end_ns > d->t0_ns ? d->t_end_ns : d->t0_ns;

	for (size_t i = 0; i < d->n_pts; i++)
		if (d->pts[i].ts_ns > last)
			last = d->pts[i].ts_ns;
	for (size_t i = 0; i < d->n_marks; i++)
		if (d->marks[i].ts_ns > last)
			last = d->marks[i].ts_ns;
	return last;
}

/* Round byte steps (a power of two); time steps 1, 2, 5 x 10^k, the axis ending with the run. */
static void fit_scale(const struct pl_report_data *d, struct scale *s)
{
	static const double mant[] = {1, 2, 5};
	double top = 1 << 20, span = (double)(last_ns(d) - d->t0_ns) / 1e9, base = 0.001;
	int k = 0;

	for (size_t i = 0; i < d->n_pts; i++)
		if ((double)resident(&d->pts[i]) > top)
			top = (double)resident(&d->pts[i]);
	if (span < 0.001)
		span = 0.001;
	s->t0_ns = d->t0_ns;
	for (s->y_step = 4096; top / s->y_step > 6;)
		s->y_step *= 2;
	s->y_max = s->y_step * (double)(uint64_t)((top + s->y_step - 1) / s->y_step);
	while (span / (mant[k] * base) > 10)
		if (++k == 3)
			k = 0, base *= 10;
	s->t_step = mant[k] * base;
	s->t_span_s = span;
}

static void draw_axes(FILE *f, const struct scale *s)
{
	char label[16];
	double t;

	for (double b = 0; b <= s->y_max + 1; b += s->y_step) {
		pl_format_size((int64_t)b, label, sizeof(label));
		fprintf(f,
			"<line class=\"grid\" x1=\"%d\" y1=\"%.1f\" x2=\"%d\" y2=\"%.1f\"/>"
			"<text x=\"%d\" y=\"%.1f\" text-anchor=\"end\">%s</text>\n",
			PLOT_X0, y_of(s, b), PLOT_X1, y_of(s, b), PLOT_X0 - 6, y_of(s, b) + 4,
			label);
	}
	for (int i = 0; (t = i * s->t_step) <= s->t_span_s + 1e-9; i++) {
		double x = PLOT_X0 + (PLOT_X1 - PLOT_X0) * t / s->t_span_s;

		fprintf(f,
			"<line class=\"axis\" x1=\"%.1f\" y1=\"%d\" x2=\"%.1f\" y2=\"%d\"/>"
			"<text x=\"%.1f\" y=\"%d\" text-anchor=\"middle\">%g</text>\n",
			x, PLOT_Y1, x, PLOT_Y1 + 5, x, PLOT_Y1 + 19, t);
	}
	fprintf(f,
		"<line class=\"axis\" x1=\"%d\" y1=\"%d\" x2=\"%d\" y2=\"%d\"/>"
		"<line class=\"axis\" x1=\"%d\" y1=\"%d\" x2=\"%d\" y2=\"%d\"/>\n"
		"<line class=\"axis\" x1=\"%d\" y1=\"%d\" x2=\"%d\" y2=\"%d\"/>\n"
		"<text x=\"%d\" y=\"%d\" text-anchor=\"end\">end %.3g s</text>\n"
		"<text x=\"%d\" y=\"%d\" text-anchor=\"middle\">time since start (s)</text>\n"
		"<text x=\"16\" y=\"%d\" transform=\"rotate(-90 16 %d)\" "
		"text-anchor=\"middle\">RSS (bytes)</text>\n",
		PLOT_X0, PLOT_Y0, PLOT_X0, PLOT_Y1, PLOT_X0, PLOT_Y1, PLOT_X1, PLOT_Y1, PLOT_X1,
		PLOT_Y1, PLOT_X1, PLOT_Y0, PLOT_X1, PLOT_Y1 + 38, s->t_span_s,
		(PLOT_X0 + PLOT_X1) / 2, PLOT_Y1 + 38, (PLOT_Y0 + PLOT_Y1) / 2,
		(PLOT_Y0 + PLOT_Y1) / 2);
}

/* ---- series ------------------------------------------------------------------ */

/* Bytes below member m's band and at its top, at point p (anon at the bottom). */
static void band(const struct pl_report_point *p, int m, double *lo, double *hi)
{
	const int64_t v[3] = {p->anon, p->file, p->shmem};

	*lo = 0;
	for (int i = 0; i < m; i++)
		*lo += (double)v[i];
	*hi = *lo + (double)v[m];
}

static void draw_stack(FILE *f, const struct pl_report_data *d, const struct scale *s)
{
	static const char *const name[] = {"anon", "file", "shmem"};
	double lo, hi;

	for (int m = 0; m < 3; m++) {
		fprintf(f, "<polygon class=\"area\" data-member=\"%s\" fill=\"%s\" points=\"",
			name[m], member_color[m]);
		for (size_t i = 0; i < d->n_pts; i++) {
			band(&d->pts[i], m, &lo, &hi);
			fprintf(f, "%.1f,%.1f ", x_of(s, d->pts[i].ts_ns), y_of(s, hi));
		}
		for (size_t i = d->n_pts; i-- > 0;) {
			band(&d->pts[i], m, &lo, &hi);
			fprintf(f, "%.1f,%.1f ", x_of(s, d->pts[i].ts_ns), y_of(s, lo));
		}
		fputs("\"/>\n", f);
	}
}

/*
 * The lazily freed bytes, hatched from the bottom of the anon band: they are
 * anon pages still resident. One polygon per run of known samples, so an
 * unknown sample leaves a gap instead of a made-up value.
 */
static void draw_lazy_run(FILE *f, const struct pl_report_data *d, const struct scale *s,
			  size_t from, size_t to)
{
	double pad = from == to ? 1.5 : 0; /* a lone sample still shows */

	fprintf(f, "<polygon class=\"lazy\" fill=\"url(#lazyhatch)\" stroke=\"%s\" points=\"",
		LAZY_COLOR);
	fprintf(f, "%.1f,%.1f ", x_of(s, d->pts[from].ts_ns) - pad, y_of(s, 0));
	for (size_t i = from; i <= to; i++) {
		double x = x_of(s, d->pts[i].ts_ns);
		double y = y_of(s, (double)d->pts[i].lazy);

		if (pad)
			fprintf(f, "%.1f,%.1f %.1f,%.1f ", x - pad, y, x + pad, y);
		else
			fprintf(f, "%.1f,%.1f ", x, y);
	}
	fprintf(f, "%.1f,%.1f\"/>\n", x_of(s, d->pts[to].ts_ns) + pad, y_of(s, 0));
}

static int draw_lazy(FILE *f, const struct pl_report_data *d, const struct scale *s)
{
	size_t i = 0, start;
	int runs = 0;

	while (i < d->n_pts) {
		if (d->pts[i].lazy < 0) {
			i++;
			continue;
		}
		for (start = i; i + 1 < d->n_pts && d->pts[i + 1].lazy >= 0;)
			i++;
		draw_lazy_run(f, d, s, start, i);
		runs++;
		i++;
	}
	return runs;
}

/* Resident bytes at ts, between the polls around it: where a marker sits. */
static double resident_at(const struct pl_report_data *d, uint64_t ts)
{
	size_t lo = 0, hi = d->n_pts;
	const struct pl_report_point *a, *b;

	if (!d->n_pts)
		return 0;
	while (lo < hi) { /* first point at or after ts */
		size_t mid = (lo + hi) / 2;

		if (d->pts[mid].ts_ns < ts)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (lo == 0 || lo == d->n_pts)
		return (double)resident(&d->pts[lo ? lo - 1 : 0]);
	a = &d->pts[lo - 1];
	b = &d->pts[lo];
	return (double)resident(a) + (double)(resident(b) - resident(a)) * (double)(ts - a->ts_ns) /
					 (double)(b->ts_ns - a->ts_ns);
}

static int valid_class(int cls)
{
	return cls >= 0 && cls < PL_CALLER_NR ? cls : PL_CALLER_UNKNOWN;
}

/* ---- release markers ------------------------------------------------------------ */

/* The releasing calls of one class that fall in one pixel column: one marker. */
struct marker {
	int cls;
	int px;
	double x, y;
	uint64_t named, freed;
	unsigned calls;
	const struct pl_report_mark *first;
};

/* A call storm draws thousands of calls on one pixel: one marker per class and column. */
static size_t gather_markers(const struct pl_report_data *d, const struct scale *s,
			     struct marker **out, unsigned counts[PL_CALLER_NR])
{
	int last[PL_CALLER_NR];
	struct marker *m = NULL;
	size_t n = 0, cap = 0;

	for (int c = 0; c < PL_CALLER_NR; c++)
		last[c] = -1;
	for (size_t i = 0; i < d->n_marks; i++) {
		const struct pl_report_mark *k = &d->marks[i];
		int cls = valid_class(k->cls);
		double x = x_of(s, k->ts_ns);

		counts[cls]++;
		if (last[cls] < 0 || m[last[cls]].px != (int)x) {
			if (!pl_grow((void **)&m, &cap, n, sizeof(*m), 64))
				break; /* the legend's counts stay right; fewer markers drawn */
			m[n] = (struct marker){.cls = cls, .px = (int)x, .x = x, .first = k};
			m[n].y = y_of(s, resident_at(d, k->ts_ns));
			last[cls] = (int)n++;
		}
		m[last[cls]].named += k->len;
		m[last[cls]].freed += k->resident_delta < 0 ? (uint64_t)-k->resident_delta : 0;
		m[last[cls]].calls++;
	}
	*out = m;
	return n;
}

/* Largest first, so that small markers are drawn over big ones and stay seen. */
static int by_named_desc(const void *a, const void *b)
{
	const struct marker *x = a, *y = b;

	return x->named < y->named ? 1 : x->named > y->named ? -1 : 0;
}

/* A radius whose area is in proportion to bytes, against the largest marker's. */
static double radius(uint64_t bytes, uint64_t max)
{
	double r = max ? R_MAX * sqrt((double)bytes / (double)max) : R_MIN;

	return r < R_MIN ? R_MIN : r;
}

/* A shape of the area of a circle of radius r, centred at x, y. */
static void shape_at(FILE *f, enum shape sh, double x, double y, double r, const char *attrs)
{
	double a = r * sqrt(M_PI);		 /* a square's side */
	double t = r * sqrt(4 * M_PI / sqrt(3)); /* a triangle's side */

	switch (sh) {
	case SQUARE:
		fprintf(f, "<rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\" %s",
			x - a / 2, y - a / 2, a, a, attrs);
		break;
	case DIAMOND:
		fprintf(f, "<polygon points=\"%.1f,%.1f %.1f,%.1f %.1f,%.1f %.1f,%.1f\" %s", x,
			y - a / M_SQRT2, x + a / M_SQRT2, y, x, y + a / M_SQRT2, x - a / M_SQRT2, y,
			attrs);
		break;
	case TRIANGLE:
		fprintf(f, "<polygon points=\"%.1f,%.1f %.1f,%.1f %.1f,%.1f\" %s", x,
			y - t / sqrt(3), x + t / 2, y + t / (2 * sqrt(3)), x - t / 2,
			y + t / (2 * sqrt(3)), attrs);
		break;
	default:
		fprintf(f, "<circle cx=\"%.1f\" cy=\"%.1f\" r=\"%.1f\" %s", x, y, r, attrs);
	}
}

static const char *shape_tag(enum shape sh)
{
	return sh == SQUARE ? "rect" : sh == CIRCLE ? "circle" : "polygon";
}

/* "madvise MADV_DONTNEED 32.0M, RSS -32.0M, app", or the sums of several calls. */
static void marker_title(FILE *f, const struct marker *m)
{
	char len[16], rss[16], adv[32];
	const char *advice = "";

	pl_format_size((int64_t)m->named, len, sizeof(len));
	pl_format_delta(-(int64_t)m->freed, rss, sizeof(rss));
	if (pl_syscall_has_advice(m->first->sys))
		advice = pl_advice_name(m->first->advice, adv, sizeof(adv));
	if (m->calls == 1)
		fprintf(f, "<title>%s%s%s %s, RSS %s, %s</title>", pl_syscall_name(m->first->sys),
			*advice ? " " : "", advice, len, rss, pl_caller_class_name(m->cls));
	else
		fprintf(f, "<title>%u calls, %s named, RSS %s, %s</title>", m->calls, len, rss,
			pl_caller_class_name(m->cls));
}

/*
 * A marker per class and pixel column, at the top of the stack: its area is
 * in proportion to the bytes the calls named, and the filled part to the RSS
 * they freed, so a MADV_FREE (which frees nothing at the call) is an empty ring.
 */
static uint64_t draw_marks(FILE *f, const struct pl_report_data *d, const struct scale *s,
			   unsigned counts[PL_CALLER_NR])
{
	struct marker *m;
	size_t n = gather_markers(d, s, &m, counts);
	uint64_t max = 0;
	char attrs[160];

	for (size_t i = 0; i < n; i++)
		max = m[i].named > max ? m[i].named : max;
	if (n) /* m is NULL when there are none, and qsort's base must not be */
		qsort(m, n, sizeof(*m), by_named_desc);
	for (size_t i = 0; i < n; i++) {
		const char *color = class_style[m[i].cls].color;
		enum shape sh = class_style[m[i].cls].shape;
		double r = radius(m[i].named, max);

		snprintf(attrs, sizeof(attrs),
			 "class=\"release\" data-class=\"%s\" fill=\"%s\" fill-opacity=\"0.2\" "
			 "stroke=\"%s\">",
			 pl_caller_class_name(m[i].cls), color, color);
		shape_at(f, sh, m[i].x, m[i].y, r, attrs);
		marker_title(f, &m[i]);
		fprintf(f, "</%s>\n", shape_tag(sh));
		if (!m[i].freed)
			continue;
		snprintf(attrs, sizeof(attrs), "class=\"freed\" fill=\"%s\"/>\n", color);
		shape_at(f, sh, m[i].x, m[i].y, fmin(radius(m[i].freed, max), r), attrs);
	}
	free(m);
	return max;
}

/* ---- legend and text -------------------------------------------------------- */

static int legend_swatch(FILE *f, int y, const char *fill, const char *label)
{
	fprintf(f, "<rect x=\"%d\" y=\"%d\" width=\"14\" height=\"12\" fill=\"%s\"/>", LEGEND_X,
		y - 10, fill);
	fprintf(f, "<text x=\"%d\" y=\"%d\">", LEGEND_X + 20, y);
	pl_escape_xml(f, label);
	fputs("</text>\n", f);
	return y + LINE_H;
}

static int legend_marker(FILE *f, int y, int cls, const char *label)
{
	char attrs[96];

	snprintf(attrs, sizeof(attrs), "fill=\"%s\" stroke=\"%s\"/>", class_style[cls].color,
		 class_style[cls].color);
	shape_at(f, class_style[cls].shape, LEGEND_X + 7, y - 4, 5, attrs);
	fprintf(f, "<text x=\"%d\" y=\"%d\">", LEGEND_X + 20, y);
	pl_escape_xml(f, label);
	fputs("</text>\n", f);
	return y + LINE_H;
}

/* What a marker's size says: two rings, the largest and a quarter of it. */
static int legend_sizes(FILE *f, int y, uint64_t max)
{
	char big[16], small[16];

	pl_format_size((int64_t)max, big, sizeof(big));
	pl_format_size((int64_t)(max / 4), small, sizeof(small));
	fprintf(f,
		"<text x=\"%d\" y=\"%d\">area: bytes the calls named;</text>\n"
		"<text x=\"%d\" y=\"%d\">filled: RSS they freed</text>\n",
		LEGEND_X, y, LEGEND_X, y + LINE_H);
	y += 2 * LINE_H + (int)R_MAX;
	fprintf(f,
		"<circle cx=\"%d\" cy=\"%d\" r=\"%.1f\" fill=\"none\" stroke=\"#444\"/>"
		"<text x=\"%d\" y=\"%d\">%s</text>\n"
		"<circle cx=\"%d\" cy=\"%d\" r=\"%.1f\" fill=\"none\" stroke=\"#444\"/>"
		"<text x=\"%d\" y=\"%d\">%s</text>\n",
		LEGEND_X + (int)R_MAX, y, R_MAX, LEGEND_X + 2 * (int)R_MAX + 6, y + 4, big,
		LEGEND_X + 130, y, radius(max / 4, max), LEGEND_X + 140 + (int)R_MAX / 2, y + 4,
		small);
	return y + (int)R_MAX + LINE_H;
}

static void draw_legend(FILE *f, const unsigned counts[PL_CALLER_NR], bool lazy_known, uint64_t max)
{
	int y = PLOT_Y0 + 10;
	bool any = false;
	char label[64];

	fputs("<g class=\"legend\">\n", f);
	fprintf(f, "<text class=\"head\" x=\"%d\" y=\"%d\">RSS by member</text>\n", LEGEND_X, y);
	y += LINE_H;
	y = legend_swatch(f, y, member_color[0], "anon");
	y = legend_swatch(f, y, member_color[1], "file");
	y = legend_swatch(f, y, member_color[2], "shmem");
	y = legend_swatch(f, y, "url(#lazyhatch)",
			  lazy_known ? "lazily freed, pending" : "lazily freed: not measured");
	y += LINE_H / 2;
	fprintf(f, "<text class=\"head\" x=\"%d\" y=\"%d\">releases, by caller</text>\n", LEGEND_X,
		y);
	y += LINE_H;
	for (int c = 0; c < PL_CALLER_NR; c++) {
		if (!counts[c])
			continue;
		snprintf(label, sizeof(label), "%s (%u)", pl_caller_class_name(c), counts[c]);
		y = legend_marker(f, y, c, label);
		any = true;
	}
	if (!any)
		y = legend_swatch(f, y, "none", "none");
	else
		legend_sizes(f, y + LINE_H / 2, max);
	fputs("</g>\n", f);
}

/* Splits text into lines of at most HINT_CHARS characters, at blanks. Returns the count. */
static int hint_lines(const char *text, const char *line[], int len[], int max)
{
	int n = 0;

	while (*text && n < max) {
		int take = (int)strlen(text);

		if (take > HINT_CHARS) {
			take = HINT_CHARS;
			while (take > 0 && text[take] != ' ')
				take--;
			if (!take)
				take = HINT_CHARS;
		}
		line[n] = text;
		len[n++] = take;
		text += take;
		text += strspn(text, " ");
	}
	return n;
}

static const char *const kind_head[] = {
    [PL_DIAG_APART] = "Apart from them:",
    [PL_DIAG_OVER_RUN] = "Over the run (summed: not a share of what is resident):",
};

/* Lines the diagnosis takes, so that the picture is as tall as it needs. */
static int diag_height(const struct pl_report_data *d)
{
	struct pl_diag_row rows[PL_DIAG_ROWS];
	const char *line[8];
	int len[8], n, lines = 1;
	enum pl_diag_kind kind = PL_DIAG_PART;

	if (!d->have_diag)
		return 1;
	n = pl_diagnosis_rows(&d->diag, rows);
	for (int i = 0; i < n; i++) {
		if (rows[i].kind > PL_DIAG_OF_WHICH && rows[i].kind != kind)
			kind = rows[i].kind, lines++;
		lines++;
		if (rows[i].hint && rows[i].bytes > 0)
			lines += hint_lines(rows[i].hint, line, len, 8);
	}
	return lines;
}

static int diag_row(FILE *f, int y, const struct pl_diag_row *r)
{
	const char *line[8];
	int len[8], n;
	char v[16];

	if (r->bytes < 0)
		snprintf(v, sizeof(v), "unknown");
	else
		pl_format_size(r->bytes, v, sizeof(v));
	fprintf(f, "<text x=\"%d\" y=\"%d\">", PLOT_X0 + 16, y);
	pl_escape_xml(f, r->label);
	fprintf(f, "</text><text x=\"%d\" y=\"%d\" text-anchor=\"end\">%s</text>", PLOT_X0 + 400, y,
		v);
	if (r->bytes < 0) {
		fprintf(f, "<text class=\"note\" x=\"%d\" y=\"%d\">", PLOT_X0 + 416, y);
		pl_escape_xml(f, r->unknown);
		fputs("</text>", f);
	}
	fputc('\n', f);
	y += LINE_H;
	if (!r->hint || r->bytes <= 0)
		return y;
	n = hint_lines(r->hint, line, len, 8);
	for (int i = 0; i < n; i++, y += LINE_H)
		fprintf(f, "<text class=\"note\" x=\"%d\" y=\"%d\">%.*s</text>\n", PLOT_X0 + 32, y,
			len[i], line[i]);
	return y;
}

static void draw_diagnosis(FILE *f, const struct pl_report_data *d)
{
	struct pl_diag_row rows[PL_DIAG_ROWS];
	enum pl_diag_kind kind = PL_DIAG_PART;
	char total[16];
	int y = DIAG_Y, n;

	fputs("<g class=\"diagnosis\">\n", f);
	if (!d->have_diag) {
		fprintf(f, "<text x=\"%d\" y=\"%d\">Diagnosis: none (the run ended early)</text>\n",
			PLOT_X0, y);
		fputs("</g>\n", f);
		return;
	}
	pl_format_size(d->diag.resident, total, sizeof(total));
	fprintf(f,
		"<text class=\"head\" x=\"%d\" y=\"%d\">Diagnosis: resident %s at the end "
		"(%s), by cause:</text>\n",
		PLOT_X0, y, total,
		d->diag.from_kernel ? "/proc's figures" : "the ledger's figures");
	y += LINE_H;
	n = pl_diagnosis_rows(&d->diag, rows);
	for (int i = 0; i < n; i++) {
		if (rows[i].kind > PL_DIAG_OF_WHICH && rows[i].kind != kind) {
			kind = rows[i].kind;
			fprintf(f, "<text class=\"head\" x=\"%d\" y=\"%d\">%s</text>\n", PLOT_X0, y,
				kind_head[kind]);
			y += LINE_H;
		}
		y = diag_row(f, y, &rows[i]);
	}
	fputs("</g>\n", f);
}

/* "pageledger: ./app --port 8080 (pid 42)", then when it started and for how long. */
static void draw_title(FILE *f, const struct pl_report_data *d)
{
	const char *what = d->command && *d->command ? d->command : d->comm ? d->comm : "?";
	size_t cut = pl_text_cut(what, 90);
	char head[1024], date[64];

	/* The command as the user ran it, made safe, and cut to the page. */
	snprintf(head, sizeof(head), "%.*s%s", (int)cut, what, what[cut] ? "..." : "");
	fprintf(f, "<text class=\"title\" x=\"%d\" y=\"28\">pageledger: ", PLOT_X0);
	pl_escape_xml(f, head);
	fprintf(f, " (pid %u)</text>\n", d->pid);
	pl_format_wall_date(d->wall_t0_ns, date, sizeof(date));
	fprintf(f,
		"<text class=\"note\" x=\"%d\" y=\"50\">started %s, traced %.3f s: RSS over time "
		"and the calls that released memory</text>\n",
		PLOT_X0, date, (double)(last_ns(d) - d->t0_ns) / 1e9);
}

static void svg_open(FILE *f, int height)
{
	fprintf(f,
		"<svg xmlns=\"http://www.w3.org/2000/svg\" version=\"1.1\" width=\"100%%\" "
		"viewBox=\"0 0 %d %d\" preserveAspectRatio=\"xMinYMin meet\" "
		"font-family=\"DejaVu Sans, Arial, sans-serif\" font-size=\"12\">\n"
		"<style>.grid{stroke:#ddd}.axis{stroke:#333}.title{font-size:16px;"
		"font-weight:bold}.head{font-weight:bold}.note{fill:#555}"
		".release{stroke-width:1.5}.area{stroke:none}</style>\n"
		"<defs><pattern id=\"lazyhatch\" width=\"6\" height=\"6\" "
		"patternUnits=\"userSpaceOnUse\" patternTransform=\"rotate(45)\">"
		"<rect width=\"6\" height=\"6\" fill=\"%s\" fill-opacity=\"0.2\"/>"
		"<line x1=\"0\" y1=\"0\" x2=\"0\" y2=\"6\" stroke=\"%s\" stroke-width=\"2\"/>"
		"</pattern></defs>\n"
		"<rect width=\"100%%\" height=\"100%%\" fill=\"#ffffff\"/>\n",
		W, height, LAZY_COLOR, LAZY_COLOR);
}

static void render_svg(FILE *f, const struct pl_report_data *d)
{
	unsigned counts[PL_CALLER_NR] = {0};
	struct scale s;
	int lazy_runs;
	uint64_t max;

	fit_scale(d, &s);
	svg_open(f, DIAG_Y + diag_height(d) * LINE_H + 12);
	draw_title(f, d);
	draw_axes(f, &s);
	draw_stack(f, d, &s);
	lazy_runs = draw_lazy(f, d, &s);
	max = draw_marks(f, d, &s, counts);
	draw_legend(f, counts, lazy_runs > 0, max);
	draw_diagnosis(f, d);
	fputs("</svg>\n", f);
}

void pl_report_render(FILE *f, const struct pl_report_data *d, enum pl_report_kind kind)
{
	if (kind != PL_REPORT_HTML) {
		fputs("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n", f);
		render_svg(f, d);
		return;
	}
	/* Well-formed XML too, so that tools (and the tests) can parse it. */
	fputs("<!DOCTYPE html>\n<html xmlns=\"http://www.w3.org/1999/xhtml\" lang=\"en\">\n"
	      "<head><meta charset=\"utf-8\"/><title>pageledger report: ",
	      f);
	pl_escape_xml(f, d->comm ? d->comm : "?");
	fputs("</title><style>body{margin:16px;background:#fff}</style></head>\n<body>\n", f);
	render_svg(f, d);
	fputs("</body>\n</html>\n", f);
}

/* ---- the sink --------------------------------------------------------------- */

#define COMMAND_LEN 1024

struct report_sink {
	enum pl_report_kind kind;
	struct pl_report_data d;
	struct pl_report_point *pts;
	struct pl_report_mark *marks;
	size_t cap_pts, cap_marks;
	char comm[PL_COMM_LEN + 1];
	char command[COMMAND_LEN];
};

/* argv joined by blanks, as far as it fits. */
static void join_args(char *const *argv, char *buf, size_t len)
{
	size_t used = 0;

	buf[0] = '\0';
	for (; *argv && used + 1 < len; argv++)
		used += (size_t)snprintf(buf + used, len - used, "%s%s", used ? " " : "", *argv);
}

/* A running process's command line, from /proc (its NULs as blanks); "" if unreadable. */
static void read_cmdline(uint32_t pid, char *buf, size_t len)
{
	char path[64], *text;
	size_t n = 0;
	int fd;

	buf[0] = '\0';
	snprintf(path, sizeof(path), "/proc/%u/cmdline", pid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return;
	text = pl_read_all(fd, &n);
	close(fd);
	if (!text)
		return;
	n = n < len ? n : len - 1;
	for (size_t i = 0; i < n; i++)
		buf[i] = text[i] ? text[i] : ' ';
	while (n > 0 && buf[n - 1] == ' ')
		n--;
	buf[n] = '\0';
	free(text);
}

static void report_begin(struct pl_output *o, const struct pl_run_info *info)
{
	struct report_sink *s = o->priv;

	snprintf(s->comm, sizeof(s->comm), "%s", info->comm ? info->comm : "?");
	if (info->cmd)
		join_args(info->cmd, s->command, sizeof(s->command));
	else
		read_cmdline(info->pid, s->command, sizeof(s->command));
	s->d.comm = s->comm;
	s->d.command = s->command;
	s->d.pid = info->pid;
	s->d.t0_ns = info->t0_ns;
	s->d.wall_t0_ns = pl_wall_of(info->t0_ns);
}

static void report_record(struct pl_output *o, const struct pl_record *r)
{
	struct report_sink *s = o->priv;
	const struct pl_syscall_event *e = r->sys;
	struct pl_report_mark *m;

	if (r->type == PL_EV_EXEC) /* a spawned command's name comes with its exec */
		snprintf(s->comm, sizeof(s->comm), "%s", r->exec->comm);
	if (r->type != PL_EV_SYSCALL || !pl_syscall_is_release(e) || pl_syscall_failed(e))
		return;
	if (!pl_grow((void **)&s->marks, &s->cap_marks, s->d.n_marks, sizeof(*m), 256))
		return;
	m = &s->marks[s->d.n_marks++];
	m->ts_ns = e->hdr.ts_ns;
	m->cls = r->caller ? (int)r->caller->cls : PL_CALLER_UNKNOWN;
	m->sys = e->sys;
	m->advice = pl_syscall_has_advice(e->sys) ? pl_syscall_advice(e) : 0;
	m->len = pl_syscall_len(e);
	m->resident_delta = pl_resident_delta(e->rss_delta);
}

static void report_sample(struct pl_output *o, const struct pl_sample *smp)
{
	struct report_sink *s = o->priv;
	struct pl_report_point *p;

	if (!pl_grow((void **)&s->pts, &s->cap_pts, s->d.n_pts, sizeof(*p), 256))
		return;
	p = &s->pts[s->d.n_pts++];
	p->ts_ns = smp->ts_ns;
	p->anon = smp->rss[PL_RSS_ANON];
	p->file = smp->rss[PL_RSS_FILE];
	p->shmem = smp->rss[PL_RSS_SHMEM];
	p->lazy = smp->lazy_pending;
}

static void report_summary(struct pl_output *o, const struct pl_ledger *l)
{
	struct report_sink *s = o->priv;

	pl_diagnose(l, &s->d.diag);
	s->d.have_diag = true;
	s->d.t_end_ns = l->t_end_ns;
}

/* The picture needs the whole run (its scales): drawn once, at the end. */
static void report_end(struct pl_output *o)
{
	struct report_sink *s = o->priv;

	s->d.pts = s->pts;
	s->d.marks = s->marks;
	pl_report_render(o->f, &s->d, s->kind); /* the caller checks and closes the file */
	o->f = NULL;
	free(s->pts);
	free(s->marks);
	free(s);
	o->priv = NULL;
}

static const struct pl_output_ops report_ops = {
    .begin = report_begin,
    .record = report_record,
    .sample = report_sample,
    .summary = report_summary,
    .end = report_end,
};

int pl_output_report_init(struct pl_output *o, FILE *f, const char *path)
{
	struct report_sink *s;

	memset(o, 0, sizeof(*o));
	if (pl_report_kind(path) == PL_REPORT_BAD) {
		fprintf(stderr, "pageledger: report '%s': the name must end in .svg or .html\n",
			path);
		return -1;
	}
	s = calloc(1, sizeof(*s));
	if (!s) {
		fprintf(stderr, "pageledger: out of memory\n");
		return -1;
	}
	o->f = f;
	s->kind = pl_report_kind(path);
	o->ops = &report_ops;
	o->priv = s;
	return 0;
}
