// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * --report. The picture is plain SVG 1.1: shapes, text and one hatch
 * pattern, no scripts and no external references, so it renders the same in
 * a browser, an image viewer or a README. HTML wraps the same SVG inline.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include "util/grow.h"
#include "symbolize/attribution.h"
#include "symbolize/callers.h"
#include "output/report.h"

/* Layout, in SVG user units. */
#define W 1000
#define PLOT_X0 80
#define PLOT_X1 760
#define PLOT_Y0 60
#define PLOT_Y1 360
#define LEGEND_X 780
#define DIAG_Y 420
#define LINE_H 18
#define H (DIAG_Y + 8 * LINE_H + 12)

static const char *const member_color[] = {"#4e79a7", "#f28e2b", "#59a14f"}; /* anon file shmem */
#define LAZY_COLOR "#e15759"

/* One color per enum pl_caller_class, told apart at marker size. */
static const char *const class_color[PL_CALLER_NR] = {
    "#9e9e9e", "#d62728", "#ff7f0e", "#bcbd22", "#8c564b", "#e377c2", "#17becf", "#1f77b4",
    "#aec7e8", "#9467bd", "#c5b0d5", "#2ca02c", "#98df8a", "#7f7f7f", "#ffd700",
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

static void xml_text(FILE *f, const char *s)
{
	for (; s && *s; s++) {
		switch (*s) {
		case '<':
			fputs("&lt;", f);
			break;
		case '>':
			fputs("&gt;", f);
			break;
		case '&':
			fputs("&amp;", f);
			break;
		case '"':
			fputs("&quot;", f);
			break;
		default:
			/* XML 1.0 forbids most control characters, even escaped. */
			fputc((unsigned char)*s < 0x20 ? '?' : *s, f);
		}
	}
}

/* ---- scales ------------------------------------------------------------------ */

struct scale {
	uint64_t t0_ns;
	double t_span_s; /* seconds across the plot */
	double y_max;	 /* bytes at the top of the plot */
	double y_step;	 /* bytes between grid lines */
	double t_step;	 /* seconds between ticks */
};

static double x_of(const struct scale *s, uint64_t ts_ns)
{
	double t = (double)(int64_t)(ts_ns - s->t0_ns) / 1e9;

	if (t < 0)
		t = 0;
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

/* Round byte steps (a power of two) and time steps (1, 2, 5 x 10^k) */
static void fit_scale(const struct pl_report_data *d, struct scale *s)
{
	static const double mant[] = {1, 2, 5};
	double top = 1 << 20, span = 0.001, base = 0.001;
	uint64_t last = d->t0_ns;
	int k = 0;

	for (size_t i = 0; i < d->n_pts; i++) {
		if ((double)resident(&d->pts[i]) > top)
			top = (double)resident(&d->pts[i]);
		if (d->pts[i].ts_ns > last)
			last = d->pts[i].ts_ns;
	}
	for (size_t i = 0; i < d->n_marks; i++)
		if (d->marks[i].ts_ns > last)
			last = d->marks[i].ts_ns;
	if ((double)(last - d->t0_ns) / 1e9 > span)
		span = (double)(last - d->t0_ns) / 1e9;
	s->t0_ns = d->t0_ns;
	for (s->y_step = 4096; top / s->y_step > 6;)
		s->y_step *= 2;
	s->y_max = s->y_step * (double)(uint64_t)((top + s->y_step - 1) / s->y_step);
	while (span / (mant[k] * base) > 10)
		if (++k == 3)
			k = 0, base *= 10;
	s->t_step = mant[k] * base;
	s->t_span_s = s->t_step * (double)(uint64_t)(span / s->t_step + 0.999999);
}

static void draw_axes(FILE *f, const struct scale *s)
{
	char label[16];

	for (double b = 0; b <= s->y_max + 1; b += s->y_step) {
		pl_format_size((int64_t)b, label, sizeof(label));
		fprintf(f,
			"<line class=\"grid\" x1=\"%d\" y1=\"%.1f\" x2=\"%d\" y2=\"%.1f\"/>"
			"<text x=\"%d\" y=\"%.1f\" text-anchor=\"end\">%s</text>\n",
			PLOT_X0, y_of(s, b), PLOT_X1, y_of(s, b), PLOT_X0 - 6, y_of(s, b) + 4,
			label);
	}
	for (double t = 0; t <= s->t_span_s + 1e-9; t += s->t_step) {
		double x = PLOT_X0 + (PLOT_X1 - PLOT_X0) * t / s->t_span_s;

		fprintf(f,
			"<line class=\"axis\" x1=\"%.1f\" y1=\"%d\" x2=\"%.1f\" y2=\"%d\"/>"
			"<text x=\"%.1f\" y=\"%d\" text-anchor=\"middle\">%g</text>\n",
			x, PLOT_Y1, x, PLOT_Y1 + 5, x, PLOT_Y1 + 19, t);
	}
	fprintf(f,
		"<line class=\"axis\" x1=\"%d\" y1=\"%d\" x2=\"%d\" y2=\"%d\"/>"
		"<line class=\"axis\" x1=\"%d\" y1=\"%d\" x2=\"%d\" y2=\"%d\"/>\n"
		"<text x=\"%d\" y=\"%d\" text-anchor=\"middle\">time since start (s)</text>\n"
		"<text x=\"16\" y=\"%d\" transform=\"rotate(-90 16 %d)\" "
		"text-anchor=\"middle\">RSS (bytes)</text>\n",
		PLOT_X0, PLOT_Y0, PLOT_X0, PLOT_Y1, PLOT_X0, PLOT_Y1, PLOT_X1, PLOT_Y1,
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

/*
 * A marker per releasing call, at the top of the stack. A call storm would
 * draw thousands on one pixel: one per class and pixel column is enough.
 */
static void draw_marks(FILE *f, const struct pl_report_data *d, const struct scale *s,
		       unsigned counts[PL_CALLER_NR])
{
	int last_px[PL_CALLER_NR];
	char len[16], rss[16], adv[32];
	const char *advice;

	for (int c = 0; c < PL_CALLER_NR; c++)
		last_px[c] = -1;
	for (size_t i = 0; i < d->n_marks; i++) {
		const struct pl_report_mark *m = &d->marks[i];
		int cls = valid_class(m->cls);
		double x = x_of(s, m->ts_ns);

		counts[cls]++;
		if ((int)x == last_px[cls])
			continue;
		last_px[cls] = (int)x;
		pl_format_size((int64_t)m->len, len, sizeof(len));
		pl_format_delta(m->resident_delta, rss, sizeof(rss));
		advice = "";
		if (pl_syscall_has_advice(m->sys))
			advice = pl_advice_name(m->advice, adv, sizeof(adv));
		fprintf(
		    f,
		    "<circle class=\"release\" data-class=\"%s\" cx=\"%.1f\" cy=\"%.1f\" r=\"5\" "
		    "fill=\"%s\"><title>%s%s%s %s, RSS %s, %s</title></circle>\n",
		    pl_caller_class_name(cls), x, y_of(s, resident_at(d, m->ts_ns)),
		    class_color[cls], pl_syscall_name(m->sys), *advice ? " " : "", advice, len, rss,
		    pl_caller_class_name(cls));
	}
}

/* ---- legend and text -------------------------------------------------------- */

static int legend_row(FILE *f, int y, const char *fill, const char *shape, const char *label)
{
	if (!strcmp(shape, "circle"))
		fprintf(f, "<circle cx=\"%d\" cy=\"%d\" r=\"5\" fill=\"%s\"/>", LEGEND_X + 7, y - 4,
			fill);
	else
		fprintf(f, "<rect x=\"%d\" y=\"%d\" width=\"14\" height=\"12\" fill=\"%s\"/>",
			LEGEND_X, y - 10, fill);
	fprintf(f, "<text x=\"%d\" y=\"%d\">", LEGEND_X + 20, y);
	xml_text(f, label);
	fputs("</text>\n", f);
	return y + LINE_H;
}

static void draw_legend(FILE *f, const unsigned counts[PL_CALLER_NR], bool lazy_known)
{
	int y = PLOT_Y0 + 10;
	bool any = false;
	char label[64];

	fputs("<g class=\"legend\">\n", f);
	fprintf(f, "<text class=\"head\" x=\"%d\" y=\"%d\">RSS by member</text>\n", LEGEND_X, y);
	y += LINE_H;
	y = legend_row(f, y, member_color[0], "rect", "anon");
	y = legend_row(f, y, member_color[1], "rect", "file");
	y = legend_row(f, y, member_color[2], "rect", "shmem");
	y = legend_row(f, y, "url(#lazyhatch)", "rect",
		       lazy_known ? "lazily freed, pending" : "lazily freed: not measured");
	y += LINE_H / 2;
	fprintf(f, "<text class=\"head\" x=\"%d\" y=\"%d\">releases, by caller</text>\n", LEGEND_X,
		y);
	y += LINE_H;
	for (int c = 0; c < PL_CALLER_NR; c++) {
		if (!counts[c])
			continue;
		snprintf(label, sizeof(label), "%s (%u)", pl_caller_class_name(c), counts[c]);
		y = legend_row(f, y, class_color[c], "circle", label);
		any = true;
	}
	if (!any)
		legend_row(f, y, "none", "rect", "none");
	fputs("</g>\n", f);
}

static int diag_row(FILE *f, int y, const char *what, int64_t bytes, const char *note)
{
	char v[16];

	if (bytes < 0)
		snprintf(v, sizeof(v), "unknown");
	else
		pl_format_size(bytes, v, sizeof(v));
	fprintf(f, "<text x=\"%d\" y=\"%d\">", PLOT_X0 + 16, y);
	xml_text(f, what);
	fprintf(f, "</text><text x=\"%d\" y=\"%d\" text-anchor=\"end\">%s</text>", PLOT_X0 + 400, y,
		v);
	if (note && bytes) {
		fprintf(f, "<text class=\"note\" x=\"%d\" y=\"%d\">", PLOT_X0 + 416, y);
		xml_text(f, note);
		fputs("</text>", f);
	}
	fputc('\n', f);
	return y + LINE_H;
}

static void draw_diagnosis(FILE *f, const struct pl_report_data *d)
{
	const struct pl_diagnosis *g = &d->diag;
	char total[16];
	int y = DIAG_Y;

	fputs("<g class=\"diagnosis\">\n", f);
	if (!d->have_diag) {
		fprintf(f, "<text x=\"%d\" y=\"%d\">Diagnosis: none (the run ended early)</text>\n",
			PLOT_X0, y);
		fputs("</g>\n", f);
		return;
	}
	pl_format_size(g->resident, total, sizeof(total));
	fprintf(f,
		"<text class=\"head\" x=\"%d\" y=\"%d\">Diagnosis: resident %s at the end "
		"(%s), by cause:</text>\n",
		PLOT_X0, y, total, g->from_kernel ? "/proc's figures" : "the ledger's figures");
	y += LINE_H;
	y = diag_row(f, y, "in use (mapped and touched)", g->in_use, NULL);
	y = diag_row(f, y, "MADV_FREE'd, not yet reclaimed", g->lazy_free,
		     g->lazy_free < 0 ? "the process exited before /proc could be read"
				      : "goes under memory pressure; Go: GODEBUG=madvdontneed=1");
	y = diag_row(f, y, "huge-page holes filled (THP collapse)", g->thp_filled,
		     "see khugepaged/max_ptes_none");
	y = diag_row(f, y, "file-backed", g->file, NULL);
	y = diag_row(f, y, "shmem", g->shmem, NULL);
	y = diag_row(f, y, "swapped out (not resident)", g->swap, NULL);
	if (g->churn >= 0)
		diag_row(f, y, "churn: released, then faulted back", g->churn,
			 "part of the above: the allocator gives memory back too eagerly");
	fputs("</g>\n", f);
}

static void draw_title(FILE *f, const struct pl_report_data *d)
{
	fprintf(f, "<text class=\"title\" x=\"%d\" y=\"32\">pageledger: ", PLOT_X0);
	xml_text(f, d->comm ? d->comm : "?");
	fprintf(f, " (pid %u), RSS over time and the calls that released memory</text>\n", d->pid);
}

static void svg_open(FILE *f)
{
	fprintf(f,
		"<svg xmlns=\"http://www.w3.org/2000/svg\" version=\"1.1\" width=\"%d\" "
		"height=\"%d\" viewBox=\"0 0 %d %d\" font-family=\"DejaVu Sans, Arial, "
		"sans-serif\" font-size=\"12\">\n"
		"<style>.grid{stroke:#ddd}.axis{stroke:#333}.title{font-size:16px;"
		"font-weight:bold}.head{font-weight:bold}.note{fill:#555}"
		".release{stroke:#222;stroke-width:1}.area{stroke:none;opacity:0.9}</style>\n"
		"<defs><pattern id=\"lazyhatch\" width=\"6\" height=\"6\" "
		"patternUnits=\"userSpaceOnUse\" patternTransform=\"rotate(45)\">"
		"<rect width=\"6\" height=\"6\" fill=\"%s\" fill-opacity=\"0.25\"/>"
		"<line x1=\"0\" y1=\"0\" x2=\"0\" y2=\"6\" stroke=\"%s\" stroke-width=\"3\"/>"
		"</pattern></defs>\n"
		"<rect width=\"100%%\" height=\"100%%\" fill=\"#ffffff\"/>\n",
		W, H, W, H, LAZY_COLOR, LAZY_COLOR);
}

static void render_svg(FILE *f, const struct pl_report_data *d)
{
	unsigned counts[PL_CALLER_NR] = {0};
	struct scale s;
	int lazy_runs;

	fit_scale(d, &s);
	svg_open(f);
	draw_title(f, d);
	draw_axes(f, &s);
	draw_stack(f, d, &s);
	lazy_runs = draw_lazy(f, d, &s);
	draw_marks(f, d, &s, counts);
	draw_legend(f, counts, lazy_runs > 0);
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
	xml_text(f, d->comm ? d->comm : "?");
	fputs("</title><style>body{margin:16px;background:#fff}</style></head>\n<body>\n", f);
	render_svg(f, d);
	fputs("</body>\n</html>\n", f);
}

/* ---- the sink --------------------------------------------------------------- */

struct report_sink {
	enum pl_report_kind kind;
	struct pl_report_data d;
	struct pl_report_point *pts;
	struct pl_report_mark *marks;
	size_t cap_pts, cap_marks;
	char comm[PL_COMM_LEN + 1];
};

static void report_begin(struct pl_output *o, const struct pl_run_info *info)
{
	struct report_sink *s = o->priv;

	snprintf(s->comm, sizeof(s->comm), "%s", info->comm ? info->comm : "?");
	s->d.comm = s->comm;
	s->d.pid = info->pid;
	s->d.t0_ns = info->t0_ns;
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
}

static void report_balance(struct pl_output *o, const struct pl_balance *b, uint32_t pid)
{
	(void)o;
	(void)b;
	(void)pid;
}

static void report_rss_change(struct pl_output *o, const struct pl_cause_acc *delta, uint64_t ts_ns,
			      uint32_t pid)
{
	(void)o;
	(void)delta;
	(void)ts_ns;
	(void)pid;
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
    .summary = report_summary,
    .balance = report_balance,
    .rss_change = report_rss_change,
    .sample = report_sample,
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
