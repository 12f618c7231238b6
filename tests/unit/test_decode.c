// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* Unit tests for user/decode/decode.c: record validation, names, ranges, units. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <sys/mman.h>
#include <cmocka.h>
#include "decode/decode.h"

#ifndef MREMAP_DONTUNMAP
#define MREMAP_DONTUNMAP 4
#endif

/* A syscall record with the given kind, first three arguments and return. */
static struct pl_syscall_event sys_event(uint32_t sys, uint64_t a0, uint64_t a1, uint64_t a2,
					 int64_t ret)
{
	struct pl_syscall_event e;

	memset(&e, 0, sizeof(e));
	e.hdr.type = PL_EV_SYSCALL;
	e.sys = sys;
	e.args[0] = a0;
	e.args[1] = a1;
	e.args[2] = a2;
	e.ret = ret;
	return e;
}

static struct pl_syscall_event brk_event(uint64_t old_brk, int64_t ret)
{
	struct pl_syscall_event e = sys_event(PL_SYS_BRK, (uint64_t)ret, 0, 0, ret);

	e.old_brk = old_brk;
	return e;
}

/* ---- pl_decode_record ---------------------------------------------------- */

static void test_decode_valid_syscall_every_kind(void **state)
{
	(void)state;
	for (uint32_t sys = 0; sys < PL_SYS_NR; sys++) {
		struct pl_syscall_event e = sys_event(sys, 0, 0, 0, 0);
		struct pl_record r;

		memset(&r, 0, sizeof(r));
		assert_int_equal(pl_decode_record(&e, sizeof(e), &r), 0);
		assert_int_equal(r.type, PL_EV_SYSCALL);
		assert_ptr_equal(r.sys, &e);
	}
}

static void test_decode_valid_exec_and_exit(void **state)
{
	struct pl_exec_event exec = {.hdr.type = PL_EV_EXEC};
	struct pl_exit_event ex = {.hdr.type = PL_EV_EXIT};
	struct pl_record r;

	(void)state;
	assert_int_equal(pl_decode_record(&exec, sizeof(exec), &r), 0);
	assert_int_equal(r.type, PL_EV_EXEC);
	assert_ptr_equal(r.exec, &exec);

	assert_int_equal(pl_decode_record(&ex, sizeof(ex), &r), 0);
	assert_int_equal(r.type, PL_EV_EXIT);
	assert_ptr_equal(r.exit, &ex);
}

static void test_decode_too_short(void **state)
{
	struct pl_syscall_event sys = sys_event(PL_SYS_MMAP, 0, 0, 0, 0);
	struct pl_exec_event exec = {.hdr.type = PL_EV_EXEC};
	struct pl_exit_event ex = {.hdr.type = PL_EV_EXIT};
	struct pl_record r;

	(void)state;
	assert_int_equal(pl_decode_record(&sys, sizeof(sys) - 1, &r), -1);
	assert_int_equal(pl_decode_record(&exec, sizeof(exec) - 1, &r), -1);
	assert_int_equal(pl_decode_record(&ex, sizeof(ex) - 1, &r), -1);
	/* Shorter than the header itself. */
	assert_int_equal(pl_decode_record(&sys, sizeof(struct pl_event_hdr) - 1, &r), -1);
	assert_int_equal(pl_decode_record(&sys, 0, &r), -1);
}

static void test_decode_unknown_type_null_and_bad_sys(void **state)
{
	struct pl_syscall_event e = sys_event(PL_SYS_MMAP, 0, 0, 0, 0);
	struct pl_record r;

	(void)state;
	e.hdr.type = 0;
	assert_int_equal(pl_decode_record(&e, sizeof(e), &r), -1);
	e.hdr.type = 4;
	assert_int_equal(pl_decode_record(&e, sizeof(e), &r), -1);

	assert_int_equal(pl_decode_record(NULL, sizeof(e), &r), -1);

	e = sys_event(PL_SYS_NR, 0, 0, 0, 0);
	assert_int_equal(pl_decode_record(&e, sizeof(e), &r), -1);
	e = sys_event(0xffffffffu, 0, 0, 0, 0);
	assert_int_equal(pl_decode_record(&e, sizeof(e), &r), -1);
}

/* ---- names ------------------------------------------------------------------ */

static void test_syscall_name(void **state)
{
	(void)state;
	assert_string_equal(pl_syscall_name(PL_SYS_MMAP), "mmap");
	assert_string_equal(pl_syscall_name(PL_SYS_MUNMAP), "munmap");
	assert_string_equal(pl_syscall_name(PL_SYS_MADVISE), "madvise");
	assert_string_equal(pl_syscall_name(PL_SYS_MREMAP), "mremap");
	assert_string_equal(pl_syscall_name(PL_SYS_BRK), "brk");
	assert_string_equal(pl_syscall_name(PL_SYS_PROCESS_MADVISE), "process_madvise");
	assert_string_equal(pl_syscall_name(PL_SYS_NR), "unknown");
}

static void test_advice_name(void **state)
{
	char buf[32];

	(void)state;
	assert_string_equal(pl_advice_name(0, buf, sizeof(buf)), "MADV_NORMAL");
	assert_string_equal(pl_advice_name(4, buf, sizeof(buf)), "MADV_DONTNEED");
	assert_string_equal(pl_advice_name(8, buf, sizeof(buf)), "MADV_FREE");
	assert_string_equal(pl_advice_name(21, buf, sizeof(buf)), "MADV_PAGEOUT");
	assert_string_equal(pl_advice_name(25, buf, sizeof(buf)), "MADV_COLLAPSE");
	assert_string_equal(pl_advice_name(102, buf, sizeof(buf)), "MADV_GUARD_INSTALL");
	assert_string_equal(pl_advice_name(103, buf, sizeof(buf)), "MADV_GUARD_REMOVE");
	/* Unknown values are spelled out in the caller's buffer. */
	assert_ptr_equal(pl_advice_name(77, buf, sizeof(buf)), buf);
	assert_string_equal(buf, "MADV_77");
	assert_string_equal(pl_advice_name(-1, buf, sizeof(buf)), "MADV_-1");
}

static void test_syscall_advice(void **state)
{
	struct pl_syscall_event mad = sys_event(PL_SYS_MADVISE, 0x1000, 4096, 8, 0);
	struct pl_syscall_event pmad = sys_event(PL_SYS_PROCESS_MADVISE, 3, 0, 1, 0);
	struct pl_syscall_event mm = sys_event(PL_SYS_MMAP, 0, 4096, 3, 0);

	(void)state;
	pmad.args[3] = 21;
	assert_true(pl_syscall_has_advice(PL_SYS_MADVISE));
	assert_true(pl_syscall_has_advice(PL_SYS_PROCESS_MADVISE));
	assert_false(pl_syscall_has_advice(PL_SYS_MMAP));
	assert_int_equal(pl_syscall_advice(&mad), 8);
	assert_int_equal(pl_syscall_advice(&pmad), 21);
	assert_int_equal(pl_syscall_advice(&mm), -1);
}

static void test_errno_name(void **state)
{
	char buf[16];

	(void)state;
	assert_string_equal(pl_errno_name(ENOMEM, buf, sizeof(buf)), "ENOMEM");
	assert_string_equal(pl_errno_name(EINVAL, buf, sizeof(buf)), "EINVAL");
	assert_string_equal(pl_errno_name(EHWPOISON, buf, sizeof(buf)), "EHWPOISON");
	assert_ptr_equal(pl_errno_name(4000, buf, sizeof(buf)), buf);
	assert_string_equal(buf, "E4000");
}

static void test_rss_member_name(void **state)
{
	(void)state;
	assert_string_equal(pl_rss_member_name(PL_RSS_ANON), "anon");
	assert_string_equal(pl_rss_member_name(PL_RSS_FILE), "file");
	assert_string_equal(pl_rss_member_name(PL_RSS_SHMEM), "shmem");
	assert_string_equal(pl_rss_member_name(PL_RSS_SWAP), "swap");
	assert_string_equal(pl_rss_member_name(PL_RSS_NR), "unknown");
}

/* ---- flag strings ---------------------------------------------------------- */

static void test_prot_str(void **state)
{
	char buf[8];

	(void)state;
	pl_prot_str(PROT_NONE, buf, sizeof(buf));
	assert_string_equal(buf, "---");
	pl_prot_str(PROT_READ | PROT_WRITE, buf, sizeof(buf));
	assert_string_equal(buf, "rw-");
	pl_prot_str(PROT_READ | PROT_EXEC, buf, sizeof(buf));
	assert_string_equal(buf, "r-x");
	pl_prot_str(PROT_READ | PROT_WRITE | PROT_EXEC, buf, sizeof(buf));
	assert_string_equal(buf, "rwx");
}

static void test_mmap_flags_str(void **state)
{
	char buf[128];

	(void)state;
	pl_mmap_flags_str(MAP_PRIVATE | MAP_ANONYMOUS, buf, sizeof(buf));
	assert_string_equal(buf, "PRIVATE|ANONYMOUS");
	pl_mmap_flags_str(MAP_SHARED | MAP_FIXED | MAP_POPULATE, buf, sizeof(buf));
	assert_string_equal(buf, "SHARED|FIXED|POPULATE");
	pl_mmap_flags_str(MAP_PRIVATE | MAP_FIXED_NOREPLACE, buf, sizeof(buf));
	assert_string_equal(buf, "PRIVATE|FIXED_NOREPLACE");
	/* Bits without a name come last, as hex. */
	pl_mmap_flags_str(MAP_PRIVATE | 0x4000000, buf, sizeof(buf));
	assert_string_equal(buf, "PRIVATE|0x4000000");
	pl_mmap_flags_str(0x4000000, buf, sizeof(buf));
	assert_string_equal(buf, "0x4000000");
	pl_mmap_flags_str(0, buf, sizeof(buf));
	assert_string_equal(buf, "0");
}

static void test_mmap_flags_str_truncates_safely(void **state)
{
	char buf[12];

	(void)state;
	memset(buf, 'Z', sizeof(buf));
	pl_mmap_flags_str(MAP_PRIVATE | MAP_ANONYMOUS, buf, 8);
	assert_string_equal(buf, "PRIVATE");
	for (size_t i = 8; i < sizeof(buf); i++)
		assert_int_equal(buf[i], 'Z');
}

static void test_mremap_flags_str(void **state)
{
	char buf[64];

	(void)state;
	pl_mremap_flags_str(MREMAP_MAYMOVE, buf, sizeof(buf));
	assert_string_equal(buf, "MAYMOVE");
	pl_mremap_flags_str(MREMAP_MAYMOVE | MREMAP_FIXED, buf, sizeof(buf));
	assert_string_equal(buf, "MAYMOVE|FIXED");
	pl_mremap_flags_str(MREMAP_MAYMOVE | MREMAP_DONTUNMAP, buf, sizeof(buf));
	assert_string_equal(buf, "MAYMOVE|DONTUNMAP");
	pl_mremap_flags_str(MREMAP_MAYMOVE | 0x10, buf, sizeof(buf));
	assert_string_equal(buf, "MAYMOVE|0x10");
	pl_mremap_flags_str(0, buf, sizeof(buf));
	assert_string_equal(buf, "0");
}

/* ---- results and ranges ---------------------------------------------------- */

static void test_syscall_failed(void **state)
{
	struct pl_syscall_event e = sys_event(PL_SYS_MMAP, 0, 4096, 3, -12);

	(void)state;
	assert_int_equal(pl_syscall_failed(&e), ENOMEM);
	e.ret = -1;
	assert_int_equal(pl_syscall_failed(&e), 1);
	e.ret = -4095;
	assert_int_equal(pl_syscall_failed(&e), 4095);
	e.ret = -4096; /* below the errno range: an address */
	assert_int_equal(pl_syscall_failed(&e), 0);
	e.ret = 0x7f0000000000;
	assert_int_equal(pl_syscall_failed(&e), 0);
	e.ret = (int64_t)0xffffffffff600000ull; /* a kernel-half address */
	assert_int_equal(pl_syscall_failed(&e), 0);
	e.ret = 0;
	assert_int_equal(pl_syscall_failed(&e), 0);
}

static void test_range_mmap(void **state)
{
	struct pl_syscall_event ok = sys_event(PL_SYS_MMAP, 0, 8192, 3, 0x7f0000001000);
	struct pl_syscall_event bad = sys_event(PL_SYS_MMAP, 0x500000, 8192, 3, -12);

	(void)state;
	assert_int_equal(pl_syscall_addr(&ok), 0x7f0000001000);
	assert_int_equal(pl_syscall_len(&ok), 8192);
	/* A failed call has no mapping: report the hint it asked for. */
	assert_int_equal(pl_syscall_addr(&bad), 0x500000);
	assert_int_equal(pl_syscall_len(&bad), 8192);
}

static void test_range_munmap_madvise(void **state)
{
	struct pl_syscall_event un = sys_event(PL_SYS_MUNMAP, 0x7f0000000000, 65536, 0, 0);
	struct pl_syscall_event mad = sys_event(PL_SYS_MADVISE, 0x7f0000002000, 4096, 4, 0);

	(void)state;
	assert_int_equal(pl_syscall_addr(&un), 0x7f0000000000);
	assert_int_equal(pl_syscall_len(&un), 65536);
	assert_int_equal(pl_syscall_addr(&mad), 0x7f0000002000);
	assert_int_equal(pl_syscall_len(&mad), 4096);
}

static void test_range_mremap(void **state)
{
	struct pl_syscall_event ok =
	    sys_event(PL_SYS_MREMAP, 0x7f0000000000, 4096, 16384, 0x7f1000000000);
	struct pl_syscall_event bad = sys_event(PL_SYS_MREMAP, 0x7f0000000000, 4096, 16384, -12);

	(void)state;
	assert_int_equal(pl_syscall_addr(&ok), 0x7f1000000000);
	assert_int_equal(pl_syscall_len(&ok), 16384); /* new_len, not old_len */
	assert_int_equal(pl_syscall_addr(&bad), 0x7f0000000000);
	assert_int_equal(pl_syscall_len(&bad), 16384);
}

static void test_range_brk(void **state)
{
	struct pl_syscall_event grow = brk_event(0x1000000, 0x1021000);
	struct pl_syscall_event shrink = brk_event(0x1021000, 0x1000000);
	struct pl_syscall_event query = brk_event(0x1000000, 0x1000000);
	struct pl_syscall_event failed = brk_event(0x1000000, -12);
	struct pl_syscall_event no_old = brk_event(0, 0x1000000);

	(void)state;
	assert_int_equal(pl_syscall_addr(&grow), 0x1000000);
	assert_int_equal(pl_syscall_len(&grow), 0x21000);
	assert_int_equal(pl_syscall_addr(&shrink), 0x1000000);
	assert_int_equal(pl_syscall_len(&shrink), 0x21000);
	assert_int_equal(pl_syscall_addr(&query), 0x1000000);
	assert_int_equal(pl_syscall_len(&query), 0);
	assert_int_equal(pl_syscall_addr(&failed), 0x1000000);
	assert_int_equal(pl_syscall_len(&failed), 0);
	assert_int_equal(pl_syscall_len(&no_old), 0);
}

static void test_range_process_madvise(void **state)
{
	/* pidfd 3, iovec array at 0x7ffd00000000, 2 iovecs, advice MADV_PAGEOUT. */
	struct pl_syscall_event e =
	    sys_event(PL_SYS_PROCESS_MADVISE, 3, 0x7ffd00000000, 2, 2 * 1048576);

	(void)state;
	e.args[3] = 21;
	e.iov_addr = 0x7f0000200000;
	e.iov_bytes = 2 * 1048576;
	e.iov_read = 2;
	assert_int_equal(pl_syscall_addr(&e), 0x7f0000200000);
	assert_int_equal(pl_syscall_len(&e), 2 * 1048576);
}

static void test_resident_delta_excludes_swap(void **state)
{
	__s64 rss[PL_RSS_NR] = {0};

	(void)state;
	rss[PL_RSS_ANON] = -8192;
	rss[PL_RSS_FILE] = 4096;
	rss[PL_RSS_SHMEM] = 1;
	rss[PL_RSS_SWAP] = 1 << 20;
	assert_int_equal(pl_resident_delta(rss), -8192 + 4096 + 1);
}

/* ---- units -------------------------------------------------------------------- */

static void check_size(int64_t bytes, const char *want)
{
	char buf[32];

	pl_format_size(bytes, buf, sizeof(buf));
	assert_string_equal(buf, want);
}

static void check_delta(int64_t bytes, const char *want)
{
	char buf[32];

	pl_format_delta(bytes, buf, sizeof(buf));
	assert_string_equal(buf, want);
}

static void test_format_size(void **state)
{
	(void)state;
	check_size(0, "0B");
	check_size(512, "512B");
	check_size(1023, "1023B");
	check_size(1024, "1.0K");
	check_size(1536, "1.5K");
	check_size(33554432, "32.0M");
	check_size(-33554432, "-32.0M");
	check_size(-1023, "-1023B");
	check_size(1610612736, "1.5G");
	check_size(1LL << 40, "1.0T");
	check_size(INT64_MAX, "8.0E");
	check_size(INT64_MIN, "-8.0E");
}

static void test_format_size_truncates_safely(void **state)
{
	char buf[8];

	(void)state;
	memset(buf, 'Z', sizeof(buf));
	pl_format_size(-33554432, buf, 4);
	assert_string_equal(buf, "-32");
	assert_int_equal(buf[4], 'Z');
}

static void test_format_delta(void **state)
{
	(void)state;
	check_delta(0, "0");
	check_delta(512, "+512B");
	check_delta(4096, "+4.0K");
	check_delta(-4096, "-4.0K");
	check_delta(33554432, "+32.0M");
	check_delta(-33554432, "-32.0M");
	check_delta(INT64_MIN, "-8.0E");
}

int main(void)
{
	const struct CMUnitTest decode_tests[] = {
	    cmocka_unit_test(test_decode_valid_syscall_every_kind),
	    cmocka_unit_test(test_decode_valid_exec_and_exit),
	    cmocka_unit_test(test_decode_too_short),
	    cmocka_unit_test(test_decode_unknown_type_null_and_bad_sys),
	    cmocka_unit_test(test_syscall_name),
	    cmocka_unit_test(test_advice_name),
	    cmocka_unit_test(test_syscall_advice),
	    cmocka_unit_test(test_errno_name),
	    cmocka_unit_test(test_rss_member_name),
	    cmocka_unit_test(test_prot_str),
	    cmocka_unit_test(test_mmap_flags_str),
	    cmocka_unit_test(test_mmap_flags_str_truncates_safely),
	    cmocka_unit_test(test_mremap_flags_str),
	    cmocka_unit_test(test_syscall_failed),
	    cmocka_unit_test(test_range_mmap),
	    cmocka_unit_test(test_range_munmap_madvise),
	    cmocka_unit_test(test_range_mremap),
	    cmocka_unit_test(test_range_brk),
	    cmocka_unit_test(test_range_process_madvise),
	    cmocka_unit_test(test_resident_delta_excludes_swap),
	    cmocka_unit_test(test_format_size),
	    cmocka_unit_test(test_format_size_truncates_safely),
	    cmocka_unit_test(test_format_delta),
	};

	return cmocka_run_group_tests(decode_tests, NULL, NULL);
}
