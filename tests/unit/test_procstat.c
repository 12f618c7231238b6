// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* /proc/PID/status and smaps_rollup parsing: exact bytes, and bad input refused. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>
#include "procstat.h"

static const char status_text[] =
    "Name:\tapp\nVmRSS:\t   26184 kB\nRssAnon:\t   24680 kB\n"
    "RssFile:\t    1504 kB\nRssShmem:\t       0 kB\nVmSwap:\t      8 kB\n";
static const char rollup_text[] =
    "555750397000-7ffca47a5000 ---p 00000000 00:00 0     [rollup]\n"
    "Rss:                1748 kB\nAnonymous:           112 kB\nLazyFree:          16384 kB\n"
    "AnonHugePages:      2048 kB\nSwap:                  0 kB\n";

static void test_status_fields_in_bytes(void **state)
{
	struct pl_kernel_view v = {0};
	(void)state;
	pl_parse_status(status_text, strlen(status_text), &v);
	assert_true(v.have_status);
	assert_int_equal(v.anon, 24680 * 1024);
	assert_int_equal(v.file, 1504 * 1024);
	assert_int_equal(v.shmem, 0);
	assert_int_equal(v.swap, 8 * 1024);
}

static void test_rollup_fields_in_bytes(void **state)
{
	struct pl_kernel_view v = {0};
	(void)state;
	pl_parse_rollup(rollup_text, strlen(rollup_text), &v);
	assert_true(v.have_rollup);
	assert_int_equal(v.lazy_free, 16384 * 1024);
	assert_int_equal(v.anon_huge, 2048 * 1024);
}

static void test_bad_input(void **state)
{
	static const char *const bad[] = {
	    "",
	    "RssAnon:\n",
	    "RssAnon:  kB\nRssFile: 1 kB\nRssShmem: 0 kB\n",
	    "RssAnon: 99999999999999999999 kB\nRssFile: 1 kB\nRssShmem: 0 kB\n",
	    "RssAnonX: 1 kB\nRssFile: 1 kB\nRssShmem: 0 kB\n",
	};
	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct pl_kernel_view v = {0};

		pl_parse_status(bad[i], strlen(bad[i]), &v);
		assert_false(v.have_status);
	}
}

static void test_length_bounds_the_parse(void **state)
{
	struct pl_kernel_view v = {0};
	(void)state;
	/* Only the first line is inside len: the rest must not be read. */
	pl_parse_status(status_text, strlen("Name:\tapp\n"), &v);
	assert_false(v.have_status);
}

static void test_reads_own_process(void **state)
{
	struct pl_kernel_view v;
	(void)state;
	assert_int_equal(pl_kernel_view_read(getpid(), &v), 0);
	assert_true(v.have_status && v.have_rollup);
	assert_true(v.anon > 0 && v.file > 0);
	assert_int_equal(pl_kernel_view_read(0x7ffffff0, &v), -1);
}

int main(void)
{
	const struct CMUnitTest procstat_tests[] = {
	    cmocka_unit_test(test_status_fields_in_bytes),
	    cmocka_unit_test(test_rollup_fields_in_bytes),
	    cmocka_unit_test(test_bad_input),
	    cmocka_unit_test(test_length_bounds_the_parse),
	    cmocka_unit_test(test_reads_own_process),
	};

	return cmocka_run_group_tests_name("procstat", procstat_tests, NULL, NULL);
}
