// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * Unit tests for the live view: user/output/top_view.c (rates, sparklines, number
 * formats, the screen laid out from a state) and the --top flags in cli.c.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include "cli.h"
#include "output/top_view.h"
#include "util/escape.h"

#define MIB (1ll << 20)
#define S 1000000000ull
#define T0 (5 * S)

/* ---- formatting -------------------------------------------------------------- */

static void check_count(double v, const char *want)
{
	char buf[32];

	pl_top_format_count(v, buf, sizeof(buf));
	assert_string_equal(buf, want);
}

static void test_format_count(void **state)
{
	(void)state;
	check_count(0, "0");
	check_count(-3, "0");
	check_count(950, "950");
	check_count(999.4, "999");
	check_count(1000, "1.0K");
	check_count(10240, "10.2K");
	check_count(999960, "1.0M"); /* never "1000.0K" */
	check_count(3.4e6, "3.4M");
	check_count(1.25e9, "1.2G");
}

static void test_format_rate(void **state)
{
	char buf[32];

	(void)state;
	pl_top_format_rate(40 * MIB, true, buf, sizeof(buf));
	assert_string_equal(buf, "40.0M/s");
	pl_top_format_rate(0, true, buf, sizeof(buf));
	assert_string_equal(buf, "0B/s");
	pl_top_format_rate(40 * MIB, false, buf, sizeof(buf));
	assert_string_equal(buf, "-");
}

static void test_width_counts_code_points(void **state)
{
	(void)state;
	assert_int_equal(pl_text_width(""), 0);
	assert_int_equal(pl_text_width("abc"), 3);
	assert_int_equal(pl_text_width("▁▅█"), 3);
	assert_int_equal(strlen("▁▅█"), 9);
}

/* ---- sparklines ---------------------------------------------------------------- */

static void series_of(struct pl_top_series *h, const int64_t *v, int n)
{
	memset(h, 0, sizeof(*h));
	for (int i = 0; i < n; i++)
		pl_top_series_push(h, v[i]);
}

static void test_sparkline_scales_to_max(void **state)
{
	static const int64_t v[] = {0, 4, 8};
	struct pl_top_series h;
	char buf[128];

	(void)state;
	series_of(&h, v, 3);
	/* Newest on the right; two columns of padding; zero is blank. */
	pl_top_sparkline(&h, 5, true, buf, sizeof(buf));
	assert_string_equal(buf, "   ▅█");
	pl_top_sparkline(&h, 5, false, buf, sizeof(buf));
	assert_string_equal(buf, "   +@");
	/* Narrower than the history: only the newest, scaled among themselves. */
	pl_top_sparkline(&h, 1, true, buf, sizeof(buf));
	assert_string_equal(buf, "█");
}

static void test_sparkline_small_values_show(void **state)
{
	static const int64_t v[] = {1, 1000, 500, 0};
	struct pl_top_series h;
	char buf[128];

	(void)state;
	series_of(&h, v, 4);
	pl_top_sparkline(&h, 4, true, buf, sizeof(buf));
	assert_string_equal(buf, "▁█▅ ");
	pl_top_sparkline(&h, 4, false, buf, sizeof(buf));
	assert_string_equal(buf, ".@+ ");
}

static void test_sparkline_wraps_history(void **state)
{
	struct pl_top_series h;
	char buf[1024];

	(void)state;
	memset(&h, 0, sizeof(h));
	for (int i = 0; i < PL_TOP_HISTORY + 10; i++)
		pl_top_series_push(&h, i < PL_TOP_HISTORY + 7 ? 0 : 8 * (i - PL_TOP_HISTORY - 6));
	assert_int_equal(h.n, PL_TOP_HISTORY);
	/* The three newest are 8, 16, 24: levels 3, 6 and 8. */
	pl_top_sparkline(&h, 4, true, buf, sizeof(buf));
	assert_string_equal(buf, " ▃▆█");
	/* Wider than the history: capped, never past the buffer. */
	pl_top_sparkline(&h, PL_TOP_HISTORY + 50, false, buf, sizeof(buf));
	assert_int_equal(strlen(buf), PL_TOP_HISTORY);
	pl_top_sparkline(&h, 10, true, buf, 7); /* room for six bytes and the NUL */
	assert_int_equal(strlen(buf), 6);
}

/* ---- rates ----------------------------------------------------------------------- */

static const __s64 rss64[PL_RSS_NR] = {[PL_RSS_ANON] = 64 * MIB, [PL_RSS_FILE] = MIB + MIB / 2};

static void test_sample_ticks_once_a_second(void **state)
{
	static struct pl_top_state s;

	(void)state;
	pl_top_init(&s, 42, "steady", T0, true);
	assert_int_equal(s.lazy_pending, -1);
	assert_false(pl_top_sample(&s, T0 + S / 2, rss64, 5000, 0, -1, NULL, 0));
	assert_int_equal(s.ticks, 0);
	assert_int_equal(s.rss[PL_RSS_ANON], 64 * MIB);

	pl_top_add_release(&s, PL_CALLER_APP, 30 * MIB, 30 * MIB);
	pl_top_add_release(&s, PL_CALLER_GLIBC_FREE, 10 * MIB, 10 * MIB);
	pl_top_add_release(&s, (enum pl_caller_class)999, MIB, MIB); /* out of range: unknown */
	assert_true(pl_top_sample(&s, T0 + S, rss64, 15000, 41 * MIB, 2 * MIB, NULL, 0));
	assert_int_equal(s.ticks, 1);
	assert_true(s.faults_rate == 15000.0);
	assert_true(s.released_rate == 41.0 * MIB);
	assert_true(s.class_rate[PL_CALLER_APP] == 30.0 * MIB);
	assert_true(s.class_rate[PL_CALLER_UNKNOWN] == 1.0 * MIB);
	assert_int_equal(s.lazy_pending, 2 * MIB);
	assert_int_equal(s.faults_hist.n, 1);
	assert_int_equal(s.rss_hist[PL_RSS_ANON].n, 1);

	/* Two seconds with nothing new: the rates are per second of the gap. */
	pl_top_add_release(&s, PL_CALLER_APP, 4 * MIB, 4 * MIB);
	assert_false(pl_top_sample(&s, T0 + S + S / 2, rss64, 16000, 45 * MIB, 0, NULL, 0));
	assert_true(pl_top_sample(&s, T0 + 3 * S, rss64, 17000, 45 * MIB, 0, NULL, 0));
	assert_true(s.faults_rate == 1000.0);
	assert_true(s.class_rate[PL_CALLER_APP] == 2.0 * MIB);
	assert_true(s.class_rate[PL_CALLER_GLIBC_FREE] == 0.0);
	assert_int_equal(s.class_released[PL_CALLER_APP], 34 * MIB);
}

/* ---- the screen -------------------------------------------------------------------- */

static struct pl_top_state st;
static struct pl_top_screen scr;

/* A state as after three seconds of the steady workload. */
static void steady_state(bool utf8)
{
	pl_top_init(&st, 4242, "steady", T0, utf8);
	for (int i = 1; i <= 3; i++) {
		pl_top_add_release(&st, PL_CALLER_APP, 40 * MIB, 40 * MIB);
		pl_top_add_release(&st, PL_CALLER_GLIBC_FREE, 20 * MIB, 20 * MIB);
		pl_top_sample(&st, T0 + (uint64_t)i * S, rss64, 15000ull * (uint64_t)i,
			      60ull * MIB * (uint64_t)i, -1, NULL, 0);
	}
}

static int find_line(const char *prefix)
{
	for (int i = 0; i < scr.n; i++)
		if (!strncmp(scr.line[i], prefix, strlen(prefix)))
			return i;
	fail_msg("no line starts with '%s'", prefix);
	return -1;
}

static void assert_fits(int cols, int rows)
{
	assert_true(scr.n <= rows);
	for (int i = 0; i < scr.n; i++)
		if (pl_text_width(scr.line[i]) > cols)
			fail_msg("line %d is %d columns: '%s'", i, pl_text_width(scr.line[i]),
				 scr.line[i]);
}

static void test_render_80x24(void **state)
{
	(void)state;
	steady_state(true);
	pl_top_render(&st, 80, 24, &scr);
	assert_fits(80, 24);
	assert_string_equal(scr.line[0],
			    "pageledger  pid 4242 (steady)  up 3s   q: quit and summarize");
	/* Three seconds of history: the label says three, not the 62 columns of room. */
	assert_string_equal(scr.line[1], "RSS          NOW  last 3s");
	assert_string_equal(scr.line[find_line("anon ")] + 18 + 59, "███");
	assert_int_equal(pl_text_width(scr.line[find_line("anon ")]), 80);
	assert_int_equal(strncmp(scr.line[find_line("anon ")], "anon       64.0M  ", 18), 0);
	assert_int_equal(strncmp(scr.line[find_line("file ")], "file        1.5M  ", 18), 0);
	/* Nothing in shmem, ever: a blank sparkline. */
	assert_int_equal(strncmp(scr.line[find_line("shmem")], "shmem         0B  ", 18), 0);
	assert_int_equal(strspn(scr.line[find_line("shmem")] + 18, " "), 62);
	assert_int_equal(strncmp(scr.line[find_line("faults/s")], "faults/s   15.0K  ", 18), 0);
	/* No diagnosis given: no line for it. */
	assert_int_equal(find_line("RELEASING CALLS"), find_line("faults/s") + 2);
	assert_string_equal(
	    scr.line[find_line("RELEASING CALLS")],
	    "RELEASING CALLS BY CALLER     ADVISED/s   ADVISED    FREED/s     FREED");
	assert_string_equal(
	    scr.line[find_line("  all")],
	    "  all                           60.0M/s    180.0M    60.0M/s    180.0M");
	/* Busiest first. */
	assert_int_equal(find_line("  the program itself") + 1, find_line("  glibc free"));
	assert_string_equal(
	    scr.line[find_line("  glibc free")],
	    "  glibc free                    20.0M/s     60.0M    20.0M/s     60.0M");
	assert_string_equal(scr.line[find_line("TOP RANGES") + 1], "(no ranges yet)");
}

static void test_render_before_first_second(void **state)
{
	struct pl_diagnosis d = {.resident = 65 * MIB + MIB / 2,
				 .in_use = 52 * MIB,
				 .lazy_free = 12 * MIB,
				 .file = MIB + MIB / 2,
				 .anon_huge = -1,
				 .churn = -1};
	(void)state;
	pl_top_init(&st, 7, "x", T0, false);
	pl_top_add_release(&st, PL_CALLER_UNKNOWN, 8192, 4096);
	pl_top_sample(&st, T0 + S / 10, rss64, 10, 4096, 12 * MIB, NULL, 0);
	pl_top_set_diagnosis(&st, &d);
	pl_top_render(&st, 80, 24, &scr);
	assert_fits(80, 24);
	/* Rates and history are unknown, not zero, until a second has passed. */
	assert_string_equal(scr.line[1], "RSS          NOW");
	assert_int_equal(strncmp(scr.line[find_line("faults/s")], "faults/s       -   ", 19), 0);
	assert_string_equal(
	    scr.line[find_line("  unknown caller")],
	    "  unknown caller                      -      8.0K          -      4.0K");
	/* The diagnosis's parts, the same rows as the summary's. */
	assert_string_equal(
	    scr.line[find_line("resident")],
	    "resident 65.5M = in use 52.0M + MADV_FREE'd 12.0M + THP-filled 0B + file "
	    "1.5M");
	assert_string_equal(scr.line[find_line("resident") + 1], "  + shmem 0B");
	assert_int_equal(find_line("resident"), find_line("faults/s") + 1);
}

static const struct pl_range_row rows2[] = {
    {.start = 0x7f0000000000,
     .end = 0x7f0004000000,
     .name = "[anon]",
     .mapped = 64 * MIB,
     .faulted = 60 * MIB,
     .released = 32 * MIB,
     .lazy_pending = 0,
     .refaulted = 4096},
    {.start = 0x55d0c0de0000,
     .end = 0x55d0c0e01000,
     .name = "bad\033]0;x\007\377.so-with-a-long-tail",
     .mapped = 132 * 1024,
     .faulted = 8192,
     .lazy_pending = 2 * MIB},
};

static void test_render_ranges(void **state)
{
	int hdr;

	(void)state;
	steady_state(true);
	pl_top_sample(&st, T0 + 3 * S + S / 10, rss64, 45000, 180 * MIB, -1, rows2, 2);
	pl_top_render(&st, 80, 24, &scr);
	assert_fits(80, 24);
	hdr = find_line("TOP RANGES");
	assert_string_equal(
	    scr.line[hdr],
	    "TOP RANGES   NAME       RESIDENT  MAPPED FAULTED RELEASD    LAZY REFAULT");
	assert_string_equal(
	    scr.line[hdr + 1],
	    "7f0000000000 [anon]        28.0M   64.0M   60.0M   32.0M      0B    4.0K");
	/* What the target named is escaped, and cut to its column. */
	assert_string_equal(
	    scr.line[hdr + 2],
	    "55d0c0de0000 bad\\x1b]0~     8.0K  132.0K    8.0K      0B    2.0M      0B");
	assert_int_equal(hdr + 3, scr.n);
	/* Wider, the end address too. */
	pl_top_render(&st, 100, 24, &scr);
	assert_int_equal(
	    strncmp(scr.line[find_line("TOP RANGES")], "TOP RANGES   END          NAME", 30), 0);
}

/* The user's case: Go arenas mapped 4 MiB at a time and MADV_FREE'd. */
static void test_render_go_madv_free(void **state)
{
	static struct pl_range_row arenas[17];
	struct pl_diagnosis d;
	struct pl_ledger *l = calloc(1, sizeof(*l));
	int hdr;

	(void)state;
	for (int i = 0; i < 16; i++)
		arenas[i] = (struct pl_range_row){.start = 0xc000000000 + (uint64_t)i * 4 * MIB,
						  .end = 0xc000400000 + (uint64_t)i * 4 * MIB,
						  .name = "[anon]",
						  .mapped = 4 * MIB,
						  .faulted = 4 * MIB,
						  .lazy_pending = 3 * MIB};
	arenas[16] = (struct pl_range_row){.start = 0x400000,
					   .end = 0x600000,
					   .name = "scavenge",
					   .mapped = 2 * MIB,
					   .faulted = MIB};
	pl_top_init(&st, 9, "scavenge", T0, true);
	pl_ledger_init(l, 9, T0);
	for (int i = 1; i <= 4; i++) {
		pl_top_add_release(&st, PL_CALLER_GO_SCAV_BACKGROUND, 50 * MIB, 0);
		pl_top_sample(&st, T0 + (uint64_t)i * S, rss64, 1000ull * (uint64_t)i, 0, 48 * MIB,
			      arenas, 17);
	}
	pl_diagnose_now(l, rss64, 48 * MIB, NULL, &d);
	pl_top_set_diagnosis(&st, &d);
	pl_top_render(&st, 80, 24, &scr);
	assert_fits(80, 24);
	/* MADV_FREE frees nothing at the call: the advised rate says what it did. */
	assert_string_equal(
	    scr.line[find_line("  Go background scavenger")],
	    "  Go background scavenger       50.0M/s    200.0M       0B/s        0B");
	assert_non_null(strstr(scr.line[find_line("resident")], "MADV_FREE'd 48.0M"));
	/* Sixteen arenas, one region: one row, as the summary shows it. */
	assert_int_equal(st.n_ranges, 2);
	hdr = find_line("TOP RANGES");
	assert_string_equal(
	    scr.line[hdr + 1],
	    "c000000000   [anon]        64.0M   64.0M   64.0M      0B   48.0M      0B");
	free(l);
}

/*
 * A Go heap reading splits in use on a line of its own, the three parts
 * summing to it: retained is what the scavenger could still give back.
 * Figures over what in use holds are capped, never shown as more.
 */
static void test_render_go_heap_split(void **state)
{
	struct pl_go_heap go = {.known = true, .version = "go1.19.8"};
	struct pl_diagnosis d;
	struct pl_ledger *l = calloc(1, sizeof(*l));

	(void)state;
	pl_top_init(&st, 9, "goheap", T0, true);
	pl_ledger_init(l, 9, T0);
	pl_top_sample(&st, T0 + S, rss64, 1000, 0, 48 * MIB, NULL, 0);
	go.total.inuse_resident = 4 * MIB;
	go.total.retained = 10 * MIB;
	pl_diagnose_now(l, rss64, 48 * MIB, &go, &d);
	pl_top_set_diagnosis(&st, &d);
	pl_top_render(&st, 80, 24, &scr);
	assert_fits(80, 24);
	assert_string_equal(scr.line[find_line("  in use")],
			    "  in use 16.0M = Go in use 4.0M + Go retained 10.0M + other 2.0M");

	go.total.retained = 100 * MIB; /* a racing reading: more than in use holds */
	pl_diagnose_now(l, rss64, 48 * MIB, &go, &d);
	pl_top_set_diagnosis(&st, &d);
	pl_top_render(&st, 80, 24, &scr);
	assert_string_equal(scr.line[find_line("  in use")],
			    "  in use 16.0M = Go in use 4.0M + Go retained 12.0M + other 0B");

	/* Not Go, or not read: no such line. */
	pl_diagnose_now(l, rss64, 48 * MIB, NULL, &d);
	pl_top_set_diagnosis(&st, &d);
	pl_top_render(&st, 80, 24, &scr);
	for (int i = 0; i < scr.n; i++)
		assert_null(strstr(scr.line[i], "Go retained"));
	free(l);
}

static void test_render_never_overflows(void **state)
{
	static struct pl_range_row many[PL_TOP_MAX_RANGES + 5];
	static const int sizes[][2] = {{80, 24}, {40, 10}, {20, 5}, {1, 1}, {300, 100}, {500, 300}};
	char more[64];

	(void)state;
	for (size_t i = 0; i < sizeof(many) / sizeof(many[0]); i++) {
		many[i] = rows2[0];
		many[i].start += i << 27; /* apart: neighbours would be one row */
		many[i].end += i << 27;
	}
	steady_state(true);
	for (int c = 0; c < PL_CALLER_NR; c++)
		pl_top_add_release(&st, (enum pl_caller_class)c, MIB, MIB);
	pl_top_sample(&st, T0 + 4 * S, rss64, 45000, 180 * MIB, 0, many,
		      (int)(sizeof(many) / sizeof(many[0])));
	assert_int_equal(st.n_ranges, PL_TOP_MAX_RANGES);
	for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		int cols = sizes[i][0], rows = sizes[i][1];

		pl_top_render(&st, cols, rows, &scr);
		assert_fits(cols < PL_TOP_MAX_COLS ? cols : PL_TOP_MAX_COLS, rows);
	}
	/* 80x24 is filled to the last row (four class rows), and the extra classes are counted. */
	pl_top_render(&st, 80, 24, &scr);
	assert_int_equal(scr.n, 24);
	snprintf(more, sizeof(more), "  (%d more classes)", PL_CALLER_NR - 4);
	find_line(more);
	pl_top_render(&st, 0, 24, &scr);
	assert_int_equal(scr.n, 0);
}

/* ---- --top on the command line ----------------------------------------------------- */

static int parse(struct pl_config *cfg, int argc, const char **args)
{
	char store[8][32];
	char *argv[9] = {NULL};

	for (int i = 0; i < argc; i++) {
		snprintf(store[i], sizeof(store[i]), "%s", args[i]);
		argv[i] = store[i];
	}
	return pl_cli_parse(argc, argv, cfg);
}

#define PARSE(cfg, ...)                                                                            \
	parse(cfg, (int)(sizeof((const char *[]){__VA_ARGS__}) / sizeof(const char *)),            \
	      (const char *[]){__VA_ARGS__})

static void test_cli_top(void **state)
{
	struct pl_config cfg;

	(void)state;
	assert_int_equal(PARSE(&cfg, "pageledger", "--top", "-p", "1"), PL_EXIT_OK);
	assert_true(cfg.top);
	assert_true(pl_cli_want_top(&cfg, false)); /* asked for: even off a terminal */

	assert_int_equal(PARSE(&cfg, "pageledger", "-p", "1"), PL_EXIT_OK);
	assert_true(pl_cli_want_top(&cfg, true)); /* the default on a terminal */
	assert_false(pl_cli_want_top(&cfg, false));
	assert_int_equal(PARSE(&cfg, "pageledger", "-j", "-p", "1"), PL_EXIT_OK);
	assert_false(pl_cli_want_top(&cfg, true));
	assert_int_equal(PARSE(&cfg, "pageledger", "-q", "-p", "1"), PL_EXIT_OK);
	assert_false(pl_cli_want_top(&cfg, true));
	assert_int_equal(PARSE(&cfg, "pageledger", "-o", "f", "-p", "1"), PL_EXIT_OK);
	assert_false(pl_cli_want_top(&cfg, true));
	assert_int_equal(PARSE(&cfg, "pageledger", "--no-top", "-p", "1"), PL_EXIT_OK);
	assert_false(pl_cli_want_top(&cfg, true));

	assert_int_equal(PARSE(&cfg, "pageledger", "--top", "-j", "-p", "1"), PL_EXIT_USAGE);
	assert_int_equal(PARSE(&cfg, "pageledger", "--top", "-q", "-p", "1"), PL_EXIT_USAGE);
	assert_int_equal(PARSE(&cfg, "pageledger", "--top", "-o", "f", "-p", "1"), PL_EXIT_USAGE);
	assert_int_equal(PARSE(&cfg, "pageledger", "--top", "--no-top", "-p", "1"), PL_EXIT_USAGE);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_format_count),
	    cmocka_unit_test(test_format_rate),
	    cmocka_unit_test(test_width_counts_code_points),
	    cmocka_unit_test(test_sparkline_scales_to_max),
	    cmocka_unit_test(test_sparkline_small_values_show),
	    cmocka_unit_test(test_sparkline_wraps_history),
	    cmocka_unit_test(test_sample_ticks_once_a_second),
	    cmocka_unit_test(test_render_80x24),
	    cmocka_unit_test(test_render_before_first_second),
	    cmocka_unit_test(test_render_ranges),
	    cmocka_unit_test(test_render_go_madv_free),
	    cmocka_unit_test(test_render_go_heap_split),
	    cmocka_unit_test(test_render_never_overflows),
	    cmocka_unit_test(test_cli_top),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
