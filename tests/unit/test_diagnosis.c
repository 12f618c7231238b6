// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* The end-of-run diagnosis: bytes per cause, from /proc's view or the ledger's. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <string.h>
#include <cmocka.h>
#include "ledger/ledger.h"

#define MiB (1024 * 1024)

static struct pl_ledger ledger; /* large: static */

static void test_from_the_kernel_view(void **state)
{
	struct pl_balance b = {.when = "end"};
	struct pl_diagnosis d;
	(void)state;
	pl_ledger_init(&ledger, 1, 0);
	b.kernel = (struct pl_kernel_view){.anon = 40 * MiB,
					   .file = 3 * MiB,
					   .shmem = MiB,
					   .swap = 0,
					   .lazy_free = 16 * MiB,
					   .anon_huge = 8 * MiB,
					   .have_status = true,
					   .have_rollup = true};
	pl_ledger_add_balance(&ledger, &b);
	ledger.causes.delta[PL_CAUSE_KHUGEPAGED][PL_RSS_ANON] = 4 * MiB;
	pl_diagnose(&ledger, &d);
	assert_true(d.from_kernel);
	assert_int_equal(d.resident, 44 * MiB);
	assert_int_equal(d.lazy_free, 16 * MiB);
	assert_int_equal(d.thp_filled, 4 * MiB);
	assert_int_equal(d.in_use, 20 * MiB);
	assert_int_equal(d.anon_huge, 8 * MiB);
}

static void test_from_the_ledger_after_exit(void **state)
{
	struct pl_diagnosis d;
	(void)state;
	pl_ledger_init(&ledger, 1, 0);
	ledger.rss_end[PL_RSS_ANON] = 30 * MiB;
	ledger.stats[PL_SYS_MADVISE][8].bytes = 20 * MiB; /* MADV_FREE */
	ledger.stats[PL_SYS_MADVISE][8].rss_released = 0;
	ledger.causes.delta[PL_CAUSE_LAZYFREE_RECLAIM][PL_RSS_ANON] = -8 * MiB;
	ledger.stats[PL_SYS_MADVISE][25].rss_gained = 2 * MiB; /* MADV_COLLAPSE */
	pl_diagnose(&ledger, &d);
	assert_false(d.from_kernel);
	/* Gone: which lazily freed ranges it unmapped is unknown, so no guess. */
	assert_int_equal(d.lazy_free, -1);
	assert_int_equal(d.thp_filled, 2 * MiB);
	assert_int_equal(d.in_use, 28 * MiB);
	assert_int_equal(d.anon_huge, -1);
}

static void test_never_more_than_resident(void **state)
{
	struct pl_diagnosis d;
	(void)state;
	pl_ledger_init(&ledger, 1, 0);
	ledger.rss_end[PL_RSS_ANON] = 4 * MiB;
	ledger.stats[PL_SYS_MADVISE][8].bytes = 64 * MiB; /* later unmapped: not all resident */
	ledger.causes.delta[PL_CAUSE_KHUGEPAGED][PL_RSS_ANON] = 8 * MiB;
	pl_diagnose(&ledger, &d);
	assert_int_equal(d.lazy_free, -1);
	assert_int_equal(d.thp_filled, 4 * MiB);
	assert_int_equal(d.in_use, 0);
}

int main(void)
{
	const struct CMUnitTest diagnosis_tests[] = {
	    cmocka_unit_test(test_from_the_kernel_view),
	    cmocka_unit_test(test_from_the_ledger_after_exit),
	    cmocka_unit_test(test_never_more_than_resident),
	};

	return cmocka_run_group_tests_name("diagnosis", diagnosis_tests, NULL, NULL);
}
