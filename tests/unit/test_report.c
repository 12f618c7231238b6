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
	 * Top 16.5M: 4M grid steps up to 20M, so the plot (y 60..360) has 15
	 * units per MiB. The first anon point: 16M at 100 ms of 0.5 s.
	 */
	assert_non_null(strstr(t, "points=\"216.0,120.0 "));
	/* file sits on anon: its top at 16.5M. */
	assert_non_null(strstr(t, "216.0,112.5"));
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
	/* 8M is 120 units up from the axis at 360; samples 2, 3 at x 352, 488. */
	assert_non_null(strstr(t, "points=\"352.0,360.0 352.0,240.0 488.0,240.0 488.0,360.0\""));
	/* A lone sample is a thin column: 4M is 60 units up, at x 760. */
	assert_non_null(strstr(t, "758.5,300.0 761.5,300.0"));
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
	assert_non_null(strstr(t, "<title>madvise MADV_DONTNEED 64.0K, RSS -64.0K"));
	/* At 200 ms the stack's top is 15.5M: 300 - 15.5 * 15 = 127.5 units down. */
	assert_non_null(strstr(t, "cx=\"352.0\" cy=\"127.5\""));
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

int main(void)
{
	const struct CMUnitTest report_tests[] = {
	    cmocka_unit_test(test_kind_by_extension),
	    cmocka_unit_test(test_stacked_members),
	    cmocka_unit_test(test_lazy_shading_skips_unknown_samples),
	    cmocka_unit_test(test_release_markers_and_legend),
	    cmocka_unit_test(test_diagnosis_text_and_html),
	};

	return cmocka_run_group_tests_name("report", report_tests, NULL, NULL);
}
