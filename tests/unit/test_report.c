// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* The --report picture, drawn from synthetic runs: series, shading, markers, text. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include "symbolize/callers.h"
#include "output/report.h"
#include "util/escape.h"

#define MiB (1024 * 1024)
#define T0 5000000000ull
#define MS 1000000ull

static int count(const char *hay, const char *needle)
{
	int n = 0;

	for (const char *p = hay; (p = strstr(p, needle)); p += strlen(needle))
		n++;
	return n;
}

static char *render(const struct pl_report_data *d, enum pl_report_kind kind)
{
	char *text;
	size_t len;
	FILE *f = open_memstream(&text, &len);

	assert_non_null(f);
	pl_report_render(f, d, kind);
	fclose(f);
	return text;
}

/* 5 polls, 100 ms apart, 16 MiB anon at most; lazy as given. */
static void five_points(struct pl_report_point pts[5], const int64_t lazy[5])
{
	for (int i = 0; i < 5; i++) {
		pts[i] = (struct pl_report_point){.ts_ns = T0 + (uint64_t)(i + 1) * 100 * MS,
						  .anon = 16 * MiB - i * MiB,
						  .file = MiB / 2,
						  .shmem = 0,
						  .lazy = lazy[i]};
	}
}

static void test_kind_by_extension(void **state)
{
	(void)state;
	assert_int_equal(pl_report_kind("out.svg"), PL_REPORT_SVG);
	assert_int_equal(pl_report_kind("a/b.SVG"), PL_REPORT_SVG);
	assert_int_equal(pl_report_kind("r.html"), PL_REPORT_HTML);
	assert_int_equal(pl_report_kind("r.htm"), PL_REPORT_HTML);
	assert_int_equal(pl_report_kind("r.png"), PL_REPORT_BAD);
	assert_int_equal(pl_report_kind("svg"), PL_REPORT_BAD);
	assert_int_equal(pl_report_kind(".svg"), PL_REPORT_BAD);
	assert_int_equal(pl_report_kind("dir.svg/file"), PL_REPORT_BAD);
}

static void test_stacked_members(void **state)
{
	const int64_t lazy[5] = {-1, -1, -1, -1, -1};
	struct pl_report_point pts[5];
	struct pl_report_data d = {.comm = "a<b&c", .pid = 9, .t0_ns = T0, .pts = pts, .n_pts = 5};
	char *t;
	(void)state;
	five_points(pts, lazy);
	t = render(&d, PL_REPORT_SVG);
	assert_int_equal(count(t, "data-member=\"anon\""), 1);
	assert_int_equal(count(t, "data-member=\"file\""), 1);
	assert_int_equal(count(t, "data-member=\"shmem\""), 1);
	/*
	 * Top 16.5M: 4M grid steps up to 20M, so the plot (y 74..374) has 15
	 * units per MiB. The first anon point: 16M at 100 ms of the 0.5 s run.
	 */
	assert_non_null(strstr(t, "points=\"216.0,134.0 "));
	/* file sits on anon: its top at 16.5M. */
	assert_non_null(strstr(t, "216.0,126.5"));
	assert_non_null(strstr(t, "20.0M</text>"));
	assert_non_null(strstr(t, "a&lt;b&amp;c (pid 9)"));
	/* Unknown everywhere: nothing shaded, and the legend says so. */
	assert_int_equal(count(t, "class=\"lazy\""), 0);
	assert_non_null(strstr(t, "lazily freed: not measured"));
	assert_null(strstr(t, "<script"));
	free(t);
}

static void test_lazy_shading_skips_unknown_samples(void **state)
{
	const int64_t lazy[5] = {-1, 8 * MiB, 8 * MiB, -1, 4 * MiB};
	struct pl_report_point pts[5];
	struct pl_report_data d = {.comm = "x", .t0_ns = T0, .pts = pts, .n_pts = 5};
	char *t;
	(void)state;
	five_points(pts, lazy);
	t = render(&d, PL_REPORT_SVG);
	/* Two runs of known samples: 2..3 and 5 alone. */
	assert_int_equal(count(t, "class=\"lazy\""), 2);
	/* 8M is 120 units up from the axis at 374; samples 2, 3 at x 352, 488. */
	assert_non_null(strstr(t, "points=\"352.0,374.0 352.0,254.0 488.0,254.0 488.0,374.0\""));
	/* A lone sample is a thin column: 4M is 60 units up, at x 760. */
	assert_non_null(strstr(t, "758.5,314.0 761.5,314.0"));
	assert_non_null(strstr(t, "lazily freed, pending"));
	free(t);
}

static void test_release_markers_and_legend(void **state)
{
	const int64_t lazy[5] = {-1, -1, -1, -1, -1};
	struct pl_report_point pts[5];
	struct pl_report_mark marks[102];
	struct pl_report_data d = {
	    .comm = "x", .t0_ns = T0, .pts = pts, .n_pts = 5, .marks = marks, .n_marks = 102};
	char *t;
	(void)state;
	five_points(pts, lazy);
	/* A storm: 100 calls within one pixel column, then two other callers. */
	for (int i = 0; i < 100; i++)
		marks[i] = (struct pl_report_mark){.ts_ns = T0 + 200 * MS + (uint64_t)i,
						   .cls = PL_CALLER_GO_SCAV_BACKGROUND,
						   .sys = PL_SYS_MADVISE,
						   .advice = 4,
						   .len = 64 * 1024,
						   .resident_delta = -64 * 1024};
	marks[100] = (struct pl_report_mark){
	    .ts_ns = T0 + 250 * MS, .cls = PL_CALLER_APP, .sys = PL_SYS_MUNMAP, .len = MiB};
	marks[101] = (struct pl_report_mark){
	    .ts_ns = T0 + 260 * MS, .cls = 99 /* out of range: unknown */, .sys = PL_SYS_BRK};
	t = render(&d, PL_REPORT_SVG);
	assert_int_equal(count(t, "class=\"release\""), 3);
	assert_int_equal(count(t, "data-class=\"go-scavenger-background\""), 1);
	assert_non_null(strstr(t, "go-scavenger-background (100)</text>"));
	assert_non_null(strstr(t, "app (1)</text>"));
	assert_non_null(strstr(t, "unknown (1)</text>"));
	/* The storm's marker sums its calls. */
	assert_non_null(
	    strstr(t, "<title>100 calls, 6.2M named, RSS -6.2M, go-scavenger-background"));
	assert_non_null(strstr(t, "<title>munmap 1.0M, RSS 0, app</title>"));
	/*
	 * At 200 ms the stack's top is 15.5M: 374 - 15.5 * 15 = 141.5. The
	 * storm named the most bytes: the largest marker, filled as it freed them all.
	 */
	assert_non_null(
	    strstr(t, "<circle cx=\"352.0\" cy=\"141.5\" r=\"16.0\" class=\"release\""));
	assert_non_null(strstr(t, "<circle cx=\"352.0\" cy=\"141.5\" r=\"16.0\" class=\"freed\""));
	/* Area in proportion to bytes: 1M against 6.25M is a radius of 16 * 0.4, a square's
	 * side of 6.4 * sqrt(pi); the munmap freed nothing: no filled part. */
	assert_non_null(
	    strstr(t, "width=\"11.3\" height=\"11.3\" class=\"release\" data-class=\"app\""));
	assert_int_equal(count(t, "class=\"freed\""), 1);
	/* The smallest are drawn last, over the big ones. */
	assert_true(strstr(t, "data-class=\"go-scavenger-background\"") <
		    strstr(t, "data-class=\"app\""));
	free(t);
}

static void test_diagnosis_text_and_html(void **state)
{
	struct pl_report_data d = {.comm = "x", .t0_ns = T0, .have_diag = true};
	char *t;
	(void)state;
	d.diag = (struct pl_diagnosis){.from_kernel = true,
				       .resident = 40 * MiB,
				       .in_use = 8 * MiB,
				       .lazy_free = 30 * MiB,
				       .file = 2 * MiB,
				       .anon_huge = -1};
	t = render(&d, PL_REPORT_HTML);
	assert_true(strncmp(t, "<!DOCTYPE html>", 15) == 0);
	assert_int_equal(count(t, "<svg "), 1);
	assert_non_null(strstr(t, "Diagnosis: resident 40.0M at the end (/proc's figures)"));
	assert_non_null(strstr(t, "MADV_FREE'd, not yet reclaimed</text>"));
	assert_non_null(strstr(t, ">30.0M</text>"));
	assert_non_null(strstr(t, "GODEBUG=madvdontneed=1"));
	assert_non_null(strstr(t, "</html>\n"));
	assert_null(strstr(t, "<script"));
	assert_null(strstr(t, "src="));
	free(t);
	d.diag.lazy_free = -1;
	t = render(&d, PL_REPORT_SVG);
	assert_non_null(strstr(t, ">unknown</text>"));
	assert_non_null(strstr(t, "the process exited before /proc could be read"));
	free(t);
}

/* The page's width, the run's own span, and its command and start in the title. */
static void test_width_axis_and_title(void **state)
{
	const int64_t lazy[5] = {-1, -1, -1, -1, -1};
	struct pl_report_point pts[5];
	struct pl_report_data d = {.comm = "srv",
				   .command = "./srv --port 8080",
				   .pid = 9,
				   .t0_ns = T0,
				   .wall_t0_ns = 1700000000ull * 1000000000ull,
				   .t_end_ns = T0 + 730 * MS,
				   .pts = pts,
				   .n_pts = 5};
	char *t;
	(void)state;
	five_points(pts, lazy);
	t = render(&d, PL_REPORT_SVG);
	assert_non_null(strstr(t, "width=\"100%\" viewBox=\"0 0 1000 "));
	assert_null(strstr(t, " height=\"5")); /* the height follows the width */
	assert_non_null(strstr(t, "pageledger: ./srv --port 8080 (pid 9)</text>"));
	assert_non_null(strstr(t, "started 2023-11-1"));
	assert_non_null(strstr(t, "traced 0.730 s"));
	/* Ticks every 0.1 s up to 0.7, none past the end; the axis ends at the run's 0.73 s. */
	assert_non_null(strstr(t, ">0.7</text>"));
	assert_null(strstr(t, ">0.8</text>"));
	assert_non_null(strstr(t, ">end 0.73 s</text>"));
	assert_non_null(strstr(t, "x2=\"760\" y2=\"374\""));
	free(t);
}

/* Names that are not UTF-8, or hold control bytes, still make a valid UTF-8 document. */
static void test_hostile_names_stay_valid(void **state)
{
	struct pl_report_data d = {
	    .comm = "a\xff\x1b[31m", .command = "/tmp/\xfe\x07x", .t0_ns = T0};
	char *t;
	(void)state;
	t = render(&d, PL_REPORT_HTML);
	assert_true(pl_utf8_valid(t, strlen(t)));
	for (const char *p = t; *p; p++)
		assert_true((unsigned char)*p >= 0x20 || *p == '\n');
	assert_non_null(strstr(t, "pageledger: /tmp/\\xfe\\x07x (pid 0)"));
	assert_non_null(strstr(t, "<title>pageledger report: a\\xff\\x1b[31m</title>"));
	free(t);
}

int main(void)
{
	const struct CMUnitTest report_tests[] = {
	    cmocka_unit_test(test_kind_by_extension),
	    cmocka_unit_test(test_stacked_members),
	    cmocka_unit_test(test_lazy_shading_skips_unknown_samples),
	    cmocka_unit_test(test_release_markers_and_legend),
	    cmocka_unit_test(test_diagnosis_text_and_html),
	    cmocka_unit_test(test_width_axis_and_title),
	    cmocka_unit_test(test_hostile_names_stay_valid),
	};

	return cmocka_run_group_tests_name("report", report_tests, NULL, NULL);
}
