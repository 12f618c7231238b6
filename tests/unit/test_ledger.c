// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* Unit tests for user/ledger/ledger.c: the per-syscall, per-advice arithmetic. */
#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>
#include "ledger/ledger.h"

#define MADV_DONTNEED_ 4
#define MADV_FREE_ 8
#define MADV_PAGEOUT_ 21
#define OTHER_SLOT (PL_ADVICE_SLOTS - 1)

/* The ledger is ~55 KiB: keep it off the stack, fresh for every test. */
static struct pl_ledger ledger;

static int reset_ledger(void **state)
{
	pl_ledger_init(&ledger, 1234, 1000);
	*state = &ledger;
	return 0;
}

/*
 * A successful call of kind sys over len bytes (advice used by madvise and
 * process_madvise), with no RSS change. Set ret < 0 for a failed call.
 */
static struct pl_syscall_event call(uint32_t sys, long advice, uint64_t len)
{
	struct pl_syscall_event e;

	memset(&e, 0, sizeof(e));
	e.hdr.type = PL_EV_SYSCALL;
	e.sys = sys;
	e.args[0] = 0x7f0000000000;
	e.args[1] = len;
	switch (sys) {
	case PL_SYS_MMAP:
		e.ret = 0x7f0000000000;
		break;
	case PL_SYS_MADVISE:
		e.args[2] = (uint64_t)advice;
		break;
	case PL_SYS_PROCESS_MADVISE:
		e.args[3] = (uint64_t)advice;
		e.iov_bytes = len;
		e.ret = (int64_t)len;
		break;
	}
	return e;
}

static struct pl_syscall_event with_rss(struct pl_syscall_event e, __s64 anon, __s64 file,
					__s64 shmem, __s64 swap)
{
	e.rss_delta[PL_RSS_ANON] = anon;
	e.rss_delta[PL_RSS_FILE] = file;
	e.rss_delta[PL_RSS_SHMEM] = shmem;
	e.rss_delta[PL_RSS_SWAP] = swap;
	return e;
}

static void add(struct pl_ledger *l, struct pl_syscall_event e)
{
	pl_ledger_add_syscall(l, &e);
}

static void set_rss(__s64 rss[PL_RSS_NR], __s64 anon, __s64 file, __s64 shmem, __s64 swap)
{
	rss[PL_RSS_ANON] = anon;
	rss[PL_RSS_FILE] = file;
	rss[PL_RSS_SHMEM] = shmem;
	rss[PL_RSS_SWAP] = swap;
}

static void test_init(void **state)
{
	struct pl_ledger *l = *state;
	struct pl_stat total;

	assert_int_equal(l->pid, 1234);
	assert_int_equal(l->t_start_ns, 1000);
	assert_int_equal(l->events, 0);
	assert_false(l->exited);
	pl_ledger_total(l, &total);
	assert_int_equal(total.calls, 0);
}

static void test_rows_per_syscall_and_advice(void **state)
{
	struct pl_ledger *l = *state;

	add(l, call(PL_SYS_MADVISE, MADV_DONTNEED_, 4096));
	add(l, call(PL_SYS_MADVISE, MADV_DONTNEED_, 8192));
	add(l, call(PL_SYS_MADVISE, MADV_FREE_, 65536));
	add(l, call(PL_SYS_PROCESS_MADVISE, MADV_PAGEOUT_, 1 << 20));
	add(l, call(PL_SYS_MUNMAP, 0, 16384));
	add(l, call(PL_SYS_MMAP, 0, 32768));

	assert_int_equal(l->events, 6);
	assert_int_equal(l->stats[PL_SYS_MADVISE][MADV_DONTNEED_].calls, 2);
	assert_int_equal(l->stats[PL_SYS_MADVISE][MADV_DONTNEED_].bytes, 12288);
	assert_int_equal(l->stats[PL_SYS_MADVISE][MADV_FREE_].calls, 1);
	assert_int_equal(l->stats[PL_SYS_MADVISE][MADV_FREE_].bytes, 65536);
	assert_int_equal(l->stats[PL_SYS_MADVISE][0].calls, 0);
	/* process_madvise takes its advice from args[3] and its bytes from the iovecs. */
	assert_int_equal(l->stats[PL_SYS_PROCESS_MADVISE][MADV_PAGEOUT_].calls, 1);
	assert_int_equal(l->stats[PL_SYS_PROCESS_MADVISE][MADV_PAGEOUT_].bytes, 1 << 20);
	/* Calls without advice all land in slot 0. */
	assert_int_equal(l->stats[PL_SYS_MUNMAP][0].calls, 1);
	assert_int_equal(l->stats[PL_SYS_MUNMAP][0].bytes, 16384);
	assert_int_equal(l->stats[PL_SYS_MMAP][0].calls, 1);
	assert_int_equal(l->stats[PL_SYS_MMAP][0].bytes, 32768);
}

static void test_failed_calls_are_errors_without_bytes(void **state)
{
	struct pl_ledger *l = *state;
	struct pl_syscall_event bad = call(PL_SYS_MADVISE, MADV_DONTNEED_, 4096);
	const struct pl_stat *s = &l->stats[PL_SYS_MADVISE][MADV_DONTNEED_];

	bad.ret = -22; /* EINVAL */
	add(l, bad);
	add(l, call(PL_SYS_MADVISE, MADV_DONTNEED_, 8192));

	assert_int_equal(s->calls, 2);
	assert_int_equal(s->errors, 1);
	assert_int_equal(s->bytes, 8192);
}

static void test_rss_released_and_gained_per_call(void **state)
{
	struct pl_ledger *l = *state;
	const struct pl_stat *s = &l->stats[PL_SYS_MUNMAP][0];

	add(l, with_rss(call(PL_SYS_MUNMAP, 0, 4096), -8192, 0, 0, 0));
	add(l, with_rss(call(PL_SYS_MUNMAP, 0, 4096), 4096, 4096, 0, 0));
	add(l, with_rss(call(PL_SYS_MUNMAP, 0, 4096), 0, 0, -4096, 0));

	/* Summed call by call, not netted across calls. */
	assert_int_equal(s->rss_released, 8192 + 4096);
	assert_int_equal(s->rss_gained, 8192);
	assert_int_equal(s->rss_delta[PL_RSS_ANON], -4096);
	assert_int_equal(s->rss_delta[PL_RSS_FILE], 4096);
	assert_int_equal(s->rss_delta[PL_RSS_SHMEM], -4096);
}

static void test_swap_is_not_resident(void **state)
{
	struct pl_ledger *l = *state;
	const struct pl_stat *s = &l->stats[PL_SYS_MADVISE][MADV_PAGEOUT_];

	/* PAGEOUT: 1M of anon leaves RSS and shows up as 1M of swap entries. */
	add(l, with_rss(call(PL_SYS_MADVISE, MADV_PAGEOUT_, 1 << 20), -(1 << 20), 0, 0, 1 << 20));

	assert_int_equal(s->rss_released, 1 << 20);
	assert_int_equal(s->rss_gained, 0);
	assert_int_equal(s->rss_delta[PL_RSS_SWAP], 1 << 20);
}

static void test_mixed_sign_delta_nets_within_a_call(void **state)
{
	struct pl_ledger *l = *state;
	const struct pl_stat *s = &l->stats[PL_SYS_MREMAP][0];

	add(l, with_rss(call(PL_SYS_MREMAP, 0, 4096), -8192, 4096, 0, 0));
	assert_int_equal(s->rss_released, 4096);
	assert_int_equal(s->rss_gained, 0);

	add(l, with_rss(call(PL_SYS_MREMAP, 0, 4096), -4096, 0, 12288, 0));
	assert_int_equal(s->rss_released, 4096);
	assert_int_equal(s->rss_gained, 8192);
}

static void test_advice_slot_bounds(void **state)
{
	(void)state;
	assert_int_equal(pl_advice_slot(0), 0);
	assert_int_equal(pl_advice_slot(4), 4);
	assert_int_equal(pl_advice_slot(126), 126);
	assert_int_equal(pl_advice_slot(127), OTHER_SLOT);
	assert_int_equal(pl_advice_slot(1000), OTHER_SLOT);
	assert_int_equal(pl_advice_slot(-1), OTHER_SLOT);
	assert_int_equal(pl_advice_slot(LONG_MIN), OTHER_SLOT);
	assert_int_equal(pl_advice_slot(LONG_MAX), OTHER_SLOT);
}

static void test_out_of_range_advice_goes_to_other_row(void **state)
{
	struct pl_ledger *l = *state;

	add(l, call(PL_SYS_MADVISE, 200, 4096));
	add(l, call(PL_SYS_MADVISE, 0xffffffff, 4096)); /* the int argument -1 */
	add(l, call(PL_SYS_PROCESS_MADVISE, -5, 4096));

	assert_int_equal(l->stats[PL_SYS_MADVISE][OTHER_SLOT].calls, 2);
	assert_int_equal(l->stats[PL_SYS_PROCESS_MADVISE][OTHER_SLOT].calls, 1);
}

static void test_unknown_syscall_is_ignored(void **state)
{
	struct pl_ledger *l = *state;
	struct pl_stat total;

	add(l, call(PL_SYS_NR, 0, 4096));
	pl_ledger_total(l, &total);
	assert_int_equal(l->events, 0);
	assert_int_equal(total.calls, 0);
}

static void test_total_sums_rows(void **state)
{
	struct pl_ledger *l = *state;
	struct pl_syscall_event bad = call(PL_SYS_MMAP, 0, 4096);
	struct pl_stat total;

	bad.ret = -12;
	add(l, with_rss(call(PL_SYS_MMAP, 0, 8192), 8192, 0, 0, 0));
	add(l, bad);
	add(l, with_rss(call(PL_SYS_MADVISE, MADV_DONTNEED_, 8192), -8192, 0, 0, 0));
	add(l, with_rss(call(PL_SYS_MADVISE, 300, 4096), 0, -4096, 0, 4096));
	add(l, with_rss(call(PL_SYS_MUNMAP, 0, 4096), 0, 0, -4096, 0));

	pl_ledger_total(l, &total);
	assert_int_equal(total.calls, 5);
	assert_int_equal(total.errors, 1);
	assert_int_equal(total.bytes, 8192 + 8192 + 4096 + 4096);
	assert_int_equal(total.rss_released, 8192 + 4096 + 4096);
	assert_int_equal(total.rss_gained, 8192);
	assert_int_equal(total.rss_delta[PL_RSS_ANON], 0);
	assert_int_equal(total.rss_delta[PL_RSS_FILE], -4096);
	assert_int_equal(total.rss_delta[PL_RSS_SHMEM], -4096);
	assert_int_equal(total.rss_delta[PL_RSS_SWAP], 4096);
}

static void fill_totals(struct pl_totals *t)
{
	memset(t, 0, sizeof(*t));
	set_rss(t->rss_start, 1000, 2000, 300, 0);
	set_rss(t->rss_cur, 5000, 2000, 300, 64);
	set_rss(t->rss_peak, 9000, 2100, 300, 64);
	set_rss(t->rss_other_delta, -100, 0, 0, 100);
	set_rss(t->rss_exit_delta, -5000, -2000, -300, -64);
	t->rss_peak_total = 11000;
	t->rss_updates_other = 7;
	t->lost_events = 3;
	t->inflight_drops = 4;
}

static void test_finish_without_exit_uses_rss_cur(void **state)
{
	struct pl_ledger *l = *state;
	struct pl_totals t;

	fill_totals(&t);
	pl_ledger_finish(l, &t, 42, 9000);

	assert_int_equal(l->t_end_ns, 9000);
	assert_int_equal(l->page_faults, 42);
	assert_memory_equal(l->rss_start, t.rss_start, sizeof(l->rss_start));
	assert_memory_equal(l->rss_end, t.rss_cur, sizeof(l->rss_end));
	assert_memory_equal(l->rss_peak, t.rss_peak, sizeof(l->rss_peak));
	assert_memory_equal(l->rss_other_delta, t.rss_other_delta, sizeof(l->rss_other_delta));
	assert_memory_equal(l->rss_exit_delta, t.rss_exit_delta, sizeof(l->rss_exit_delta));
	assert_int_equal(l->rss_peak_total, 11000);
	assert_int_equal(l->rss_other_updates, 7);
	assert_int_equal(l->lost_events, 3);
	assert_int_equal(l->inflight_drops, 4);
	assert_false(l->exited);
}

static void test_finish_after_exit_uses_exit_rss(void **state)
{
	struct pl_ledger *l = *state;
	struct pl_exit_event ex = {.hdr.type = PL_EV_EXIT, .exit_code = 3 << 8};
	struct pl_totals t;

	set_rss(ex.rss, 4096, 8192, 0, 12);
	pl_ledger_add_exit(l, &ex);
	assert_int_equal(l->events, 1);
	assert_true(l->exited);
	assert_int_equal(l->exit_status, 3 << 8);

	fill_totals(&t);
	t.exited = 1;
	set_rss(t.rss_cur, 0, 0, 0, 0); /* after teardown */
	pl_ledger_finish(l, &t, 0, 9000);

	assert_memory_equal(l->rss_end, ex.rss, sizeof(l->rss_end));
	assert_true(l->exited);
}

static void test_finish_kernel_exited_flag_without_exit_record(void **state)
{
	struct pl_ledger *l = *state;
	struct pl_totals t;

	fill_totals(&t);
	t.exited = 1;
	pl_ledger_finish(l, &t, 0, 9000);

	assert_true(l->exited);
	assert_memory_equal(l->rss_end, t.rss_cur, sizeof(l->rss_end));
}

static void test_exec_counts(void **state)
{
	struct pl_ledger *l = *state;
	struct pl_exec_event ex = {.hdr.type = PL_EV_EXEC};

	pl_ledger_add_exec(l, &ex);
	pl_ledger_add_exec(l, &ex);
	assert_int_equal(l->execs, 2);
	assert_int_equal(l->events, 2);
}

static void test_rss_total_excludes_swap(void **state)
{
	__s64 rss[PL_RSS_NR];

	(void)state;
	set_rss(rss, 100, 20, 3, 1000);
	assert_int_equal(pl_rss_total(rss), 123);
}

#define LEDGER_TEST(f) cmocka_unit_test_setup(f, reset_ledger)

int main(void)
{
	const struct CMUnitTest ledger_tests[] = {
	    LEDGER_TEST(test_init),
	    LEDGER_TEST(test_rows_per_syscall_and_advice),
	    LEDGER_TEST(test_failed_calls_are_errors_without_bytes),
	    LEDGER_TEST(test_rss_released_and_gained_per_call),
	    LEDGER_TEST(test_swap_is_not_resident),
	    LEDGER_TEST(test_mixed_sign_delta_nets_within_a_call),
	    LEDGER_TEST(test_advice_slot_bounds),
	    LEDGER_TEST(test_out_of_range_advice_goes_to_other_row),
	    LEDGER_TEST(test_unknown_syscall_is_ignored),
	    LEDGER_TEST(test_total_sums_rows),
	    LEDGER_TEST(test_finish_without_exit_uses_rss_cur),
	    LEDGER_TEST(test_finish_after_exit_uses_exit_rss),
	    LEDGER_TEST(test_finish_kernel_exited_flag_without_exit_record),
	    LEDGER_TEST(test_exec_counts),
	    LEDGER_TEST(test_rss_total_excludes_swap),
	};

	return cmocka_run_group_tests(ledger_tests, NULL, NULL);
}
