// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* The verifier's statistics line, as -v prints it per program. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <cmocka.h>
#include "trace/vlog.h"

/* Lines as kernel 6.18 writes them at log level 4. */
static const char STATS[] = "verification time 85123 usec\n"
			    "stack depth 64+0+24+0\n"
			    "processed 28235 insns (limit 1000000) max_states_per_insn 19 "
			    "total_states 2575 peak_states 870 mark_read 0\n";

static void test_every_digit_of_the_time_counts(void **state)
{
	struct pl_vlog_stats s;
	(void)state;
	assert_true(pl_vlog_parse(STATS, &s));
	/* 85.123 ms, not 5.123: the first digit once went missing. */
	assert_true(s.verify_ms > 85.122 && s.verify_ms < 85.124);
	assert_int_equal(s.insns, 28235);
	assert_int_equal(s.states, 2575);
}

static void test_a_log_without_figures_says_so(void **state)
{
	struct pl_vlog_stats s;
	(void)state;
	assert_false(pl_vlog_parse("", &s));
	assert_false(pl_vlog_parse(NULL, &s));
	assert_false(pl_vlog_parse("verification time usec\nprocessed x insns", &s));
	assert_true(s.verify_ms < 0);
	assert_int_equal(s.insns, 0);
}

static void test_only_the_instructions(void **state)
{
	struct pl_vlog_stats s;
	(void)state;
	assert_true(pl_vlog_parse("processed 9 insns (limit 1000000)", &s));
	assert_int_equal(s.insns, 9);
	assert_true(s.verify_ms < 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_every_digit_of_the_time_counts),
	    cmocka_unit_test(test_a_log_without_figures_says_so),
	    cmocka_unit_test(test_only_the_instructions),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
