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

/* The rows every output shows: in order, each with its kind, hints with the bytes they concern. */
static void test_rows_are_the_one_diagnosis(void **state)
{
	struct pl_diagnosis d = {.from_kernel = true,
				 .resident = 44 * MiB,
				 .in_use = 20 * MiB,
				 .lazy_free = 16 * MiB,
				 .thp_filled = 4 * MiB,
				 .anon_huge = 8 * MiB,
				 .file = 3 * MiB,
				 .shmem = MiB,
				 .swap = 2 * MiB,
				 .churn = 5 * MiB};
	static const char *const keys[] = {"in_use", "lazy_free", "thp_filled", "file",
					   "shmem",  "anon_huge", "swap",	"churn"};
	static const enum pl_diag_kind kinds[] = {PL_DIAG_PART,	 PL_DIAG_PART,	  PL_DIAG_PART,
						  PL_DIAG_PART,	 PL_DIAG_PART,	  PL_DIAG_OF_WHICH,
						  PL_DIAG_APART, PL_DIAG_OVER_RUN};
	struct pl_diag_row rows[PL_DIAG_ROWS];
	int64_t parts = 0;
	int n;
	(void)state;
	n = pl_diagnosis_rows(&d, rows);
	assert_int_equal(n, 8);
	for (int i = 0; i < n; i++) {
		assert_string_equal(rows[i].key, keys[i]);
		assert_int_equal(rows[i].kind, kinds[i]);
		assert_non_null(rows[i].label);
		assert_non_null(rows[i].brief);
		if (rows[i].kind == PL_DIAG_PART)
			parts += rows[i].bytes;
	}
	/* The parts, and only they, add up to what is resident. */
	assert_int_equal(parts, d.resident);
	/* The hints say what to do, for Go too: the ones the outputs had drifted on. */
	assert_non_null(strstr(rows[1].hint, "GODEBUG=madvdontneed=1"));
	assert_non_null(strstr(rows[2].hint, "GODEBUG=disablethp=1"));
	assert_non_null(strstr(rows[2].hint, "max_ptes_none"));
	assert_non_null(strstr(rows[7].hint, "dirty_decay_ms"));
	assert_null(rows[0].hint);
}

static void test_rows_unknown_and_absent(void **state)
{
	struct pl_diagnosis d = {
	    .resident = 4 * MiB, .in_use = 4 * MiB, .lazy_free = -1, .anon_huge = -1, .churn = -1};
	struct pl_diag_row rows[PL_DIAG_ROWS];
	int n;
	(void)state;
	n = pl_diagnosis_rows(&d, rows);
	/* No huge-page figure without /proc: no such row. Unknown ones say why. */
	assert_int_equal(n, 7);
	for (int i = 0; i < n; i++)
		assert_string_not_equal(rows[i].key, "anon_huge");
	assert_int_equal(rows[1].bytes, -1);
	assert_non_null(strstr(rows[1].unknown, "exited"));
	assert_string_equal(rows[6].key, "churn");
	assert_int_equal(rows[6].bytes, -1);
	assert_non_null(rows[6].unknown);
}

/* While the run goes on: the running figures, split the same way. */
static void test_diagnose_now(void **state)
{
	__s64 rss[PL_RSS_NR] = {[PL_RSS_ANON] = 230 * MiB, [PL_RSS_FILE] = 3 * MiB};
	struct pl_diagnosis d;
	(void)state;
	pl_ledger_init(&ledger, 1, 0);
	ledger.causes.delta[PL_CAUSE_KHUGEPAGED][PL_RSS_ANON] = 2 * MiB;
	pl_diagnose_now(&ledger, rss, 199 * MiB, NULL, &d);
	assert_false(d.from_kernel);
	assert_int_equal(d.resident, 233 * MiB);
	assert_int_equal(d.lazy_free, 199 * MiB);
	assert_int_equal(d.thp_filled, 2 * MiB);
	assert_int_equal(d.in_use, 29 * MiB);
	assert_int_equal(d.churn, -1);
	pl_diagnose_now(&ledger, rss, -1, NULL, &d); /* pending unknown: never guessed */
	assert_int_equal(d.lazy_free, -1);
	assert_int_equal(d.in_use, 228 * MiB);
}

int main(void)
{
	const struct CMUnitTest diagnosis_tests[] = {
	    cmocka_unit_test(test_from_the_kernel_view),
	    cmocka_unit_test(test_from_the_ledger_after_exit),
	    cmocka_unit_test(test_never_more_than_resident),
	    cmocka_unit_test(test_rows_are_the_one_diagnosis),
	    cmocka_unit_test(test_rows_unknown_and_absent),
	    cmocka_unit_test(test_diagnose_now),
	};

	return cmocka_run_group_tests_name("diagnosis", diagnosis_tests, NULL, NULL);
}
