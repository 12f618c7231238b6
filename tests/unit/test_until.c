// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* --until-rss-below/above, --perfetto and --report on the command line. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <cmocka.h>
#include "cli.h"

#define MIB (1ull << 20)
#define GIB (1ull << 30)

static int parse(struct pl_config *cfg, int argc, char **argv)
{
	return pl_cli_parse(argc, argv, cfg);
}

static void test_sizes_and_files(void **state)
{
	char *argv[] = {"pageledger", "--until-rss-below",
			"512M",	      "--until-rss-above",
			"1G",	      "--perfetto",
			"t.json",     "--report",
			"r.html",     "-p",
			"1"};
	struct pl_config cfg;
	(void)state;
	assert_int_equal(parse(&cfg, 11, argv), PL_EXIT_OK);
	assert_true(cfg.until_below && cfg.until_above);
	assert_int_equal(cfg.until_rss_below, 512 * MIB);
	assert_int_equal(cfg.until_rss_above, GIB);
	assert_string_equal(cfg.perfetto_path, "t.json");
	assert_string_equal(cfg.report_path, "r.html");
}

static void test_bad_input_is_a_usage_error(void **state)
{
	char *bad_size[] = {"pageledger", "--until-rss-above", "12X", "-p", "1"};
	char *negative[] = {"pageledger", "--until-rss-below", "-5", "-p", "1"};
	char *empty[] = {"pageledger", "--until-rss-below", "", "-p", "1"};
	char *bad_report[] = {"pageledger", "--report", "r.png", "-p", "1"};
	struct pl_config cfg;
	(void)state;
	assert_int_equal(parse(&cfg, 5, bad_size), PL_EXIT_USAGE);
	assert_int_equal(parse(&cfg, 5, negative), PL_EXIT_USAGE);
	assert_int_equal(parse(&cfg, 5, empty), PL_EXIT_USAGE);
	assert_int_equal(parse(&cfg, 5, bad_report), PL_EXIT_USAGE);
}

static void test_reached(void **state)
{
	struct pl_config cfg = {0};
	(void)state;
	/* Neither given: never. */
	assert_false(pl_until_reached(&cfg, 0));
	cfg.until_below = true;
	cfg.until_rss_below = 64 * MIB;
	assert_true(pl_until_reached(&cfg, 64 * MIB - 1));
	assert_false(pl_until_reached(&cfg, 64 * MIB)); /* below: strictly */
	cfg.until_below = false;
	cfg.until_above = true;
	cfg.until_rss_above = GIB;
	assert_false(pl_until_reached(&cfg, GIB));
	assert_true(pl_until_reached(&cfg, GIB + 4096));
	/* Both: whichever comes first. */
	cfg.until_below = true;
	assert_true(pl_until_reached(&cfg, MIB));
	assert_false(pl_until_reached(&cfg, 512 * MIB));
}

int main(void)
{
	const struct CMUnitTest until_tests[] = {
	    cmocka_unit_test(test_sizes_and_files),
	    cmocka_unit_test(test_bad_input_is_a_usage_error),
	    cmocka_unit_test(test_reached),
	};

	return cmocka_run_group_tests_name("until", until_tests, NULL, NULL);
}
