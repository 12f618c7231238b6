// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* /proc/PID/status and smaps_rollup parsing: exact bytes, and bad input refused. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>
#include "ledger/procstat.h"

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
	/* Status alone: the rollup is left to a caller that reads smaps anyway. */
	assert_int_equal(pl_kernel_view_read_status(getpid(), &v), 0);
	assert_true(v.have_status && !v.have_rollup && v.anon > 0);
	assert_int_equal(pl_kernel_view_read_status(0x7ffffff0, &v), -1);
}

/* ---- smaps ------------------------------------------------------------------ */

#define MAX_VMAS 8

struct vmas {
	struct pl_smaps_vma v[MAX_VMAS];
	char path[MAX_VMAS][64];
	int n;
};

static void keep_vma(void *ctx, const struct pl_smaps_vma *v)
{
	struct vmas *out = ctx;

	assert_true(out->n < MAX_VMAS);
	out->v[out->n] = *v;
	if (v->path) {
		assert_true(v->path_len < sizeof(out->path[0]));
		memcpy(out->path[out->n], v->path, v->path_len);
	}
	out->n++;
}

static int parse_smaps(const char *text, size_t len, struct vmas *out)
{
	memset(out, 0, sizeof(*out));
	return pl_smaps_parse(text, len, keep_vma, out);
}

static const char smaps_text[] =
    "55d20bf29000-55d20c0b8000 rw-p 00000000 00:00 0                          [heap]\n"
    "Size:               1596 kB\n"
    "Rss:                1540 kB\n"
    "Pss:                1540 kB\n"
    "Anonymous:          1540 kB\n"
    "LazyFree:             64 kB\n"
    "AnonHugePages:         0 kB\n"
    "Swap:                  8 kB\n"
    "SwapPss:               8 kB\n"
    "VmFlags: rd wr mr mw me ac sd\n"
    "7f3a1a000000-7f3a1a600000 rw-p 00000000 00:00 0 \n"
    "Rss:                6144 kB\n"
    "LazyFree:              0 kB\n"
    "AnonHugePages:      4096 kB\n"
    "Swap:                  0 kB\n"
    "7f3a1b185000-7f3a1b1a7000 r-xp 00002000 fe:00 332835                     "
    "/opt/my app/lib x.so\n"
    "Rss:                 136 kB\n"
    "LazyFree:              0 kB\n"
    "AnonHugePages:         0 kB\n"
    "Swap:                  0 kB\n";

static void test_smaps_figures_in_bytes_per_vma(void **state)
{
	struct vmas out;
	(void)state;
	assert_int_equal(parse_smaps(smaps_text, strlen(smaps_text), &out), 3);
	assert_int_equal(out.n, 3);
	assert_int_equal(out.v[0].start, 0x55d20bf29000);
	assert_int_equal(out.v[0].end, 0x55d20c0b8000);
	assert_int_equal(out.v[0].rss, 1540 * 1024);
	assert_int_equal(out.v[0].lazy_free, 64 * 1024);
	assert_int_equal(out.v[0].anon_huge, 0);
	assert_int_equal(out.v[0].swap, 8 * 1024);
	assert_string_equal(out.path[0], "[heap]");
	assert_int_equal(out.v[1].rss, 6144 * 1024);
	assert_int_equal(out.v[1].lazy_free, 0);
	assert_int_equal(out.v[1].anon_huge, 4096 * 1024);
	assert_int_equal(out.v[1].swap, 0);
	assert_int_equal(out.v[2].rss, 136 * 1024);
}

static void test_smaps_path_with_spaces(void **state)
{
	struct vmas out;
	(void)state;
	parse_smaps(smaps_text, strlen(smaps_text), &out);
	assert_int_equal(out.v[2].path_len, strlen("/opt/my app/lib x.so"));
	assert_string_equal(out.path[2], "/opt/my app/lib x.so");
	assert_int_equal(out.v[2].start, 0x7f3a1b185000);
}

static void test_smaps_anonymous_vma_has_no_path(void **state)
{
	struct vmas out;
	(void)state;
	parse_smaps(smaps_text, strlen(smaps_text), &out);
	assert_null(out.v[1].path);
	assert_int_equal(out.v[1].path_len, 0);
	assert_int_equal(out.v[1].start, 0x7f3a1a000000);
	assert_int_equal(out.v[1].end, 0x7f3a1a600000);
}

static void test_smaps_junk_lines_skipped(void **state)
{
	static const char text[] = "Rss: 4 kB\n" /* before any VMA: ignored */
				   "garbage\n"
				   "1000-3000 rw-p 00000000 00:00 0\n"
				   "not a field at all\n"
				   "Rss: lots kB\n"
				   "RssX: 4 kB\n"
				   "Rss: 8 kB\n"
				   "2000-1000 rw-p 00000000 00:00 0\n" /* end before start: junk */
				   "Swap: 4 kB\n"
				   "\n";
	struct vmas out;
	(void)state;
	assert_int_equal(parse_smaps(text, strlen(text), &out), 1);
	assert_int_equal(out.v[0].start, 0x1000);
	assert_int_equal(out.v[0].end, 0x3000);
	assert_int_equal(out.v[0].rss, 8 * 1024);
	assert_int_equal(out.v[0].swap, 4 * 1024);
	assert_int_equal(out.v[0].lazy_free, -1);
	assert_int_equal(out.v[0].anon_huge, -1);
}

static void test_smaps_truncated_last_vma(void **state)
{
	static const char text[] = "1000-2000 r--p 00000000 08:01 42 /a\n"
				   "Rss: 4 kB\n"
				   "3000-5000 rw-p 00000000 00:00 0\n"
				   "Rss: 8 kB\n"
				   "LazyFree: 4 kB\n"
				   "AnonHugePages: 0 kB\n";
	size_t cut = strlen(text) - strlen("4 kB\nAnonHugePages: 0 kB\n");
	struct vmas out;
	(void)state;
	/* The text ends inside "LazyFree:": the VMA is still reported, the field not. */
	assert_int_equal(parse_smaps(text, cut, &out), 2);
	assert_string_equal(out.path[0], "/a");
	assert_int_equal(out.v[0].path_len, 2);
	assert_int_equal(out.v[1].start, 0x3000);
	assert_int_equal(out.v[1].rss, 8 * 1024);
	assert_int_equal(out.v[1].lazy_free, -1);
	assert_int_equal(out.v[1].anon_huge, -1);
	assert_int_equal(out.v[1].swap, -1);
}

static void test_smaps_empty_and_header_only(void **state)
{
	static const char text[] = "1000-2000 rw-p 00000000 00:00 0";
	struct vmas out;
	(void)state;
	assert_int_equal(parse_smaps("", 0, &out), 0);
	assert_int_equal(parse_smaps(text, strlen(text), &out), 1);
	assert_int_equal(out.v[0].rss, -1);
	assert_null(out.v[0].path);
}

static void count_vma(void *ctx, const struct pl_smaps_vma *v)
{
	struct vmas *out = ctx;

	assert_true(v->start < v->end);
	out->n++;
}

static void test_smaps_reads_own_process(void **state)
{
	struct vmas out;
	int n;
	(void)state;
	memset(&out, 0, sizeof(out));
	n = pl_smaps_read(getpid(), count_vma, &out);
	assert_true(n > 0);
	assert_int_equal(n, out.n);
	assert_int_equal(pl_smaps_read(0x7ffffff0, count_vma, &out), -1);
}

int main(void)
{
	const struct CMUnitTest procstat_tests[] = {
	    cmocka_unit_test(test_status_fields_in_bytes),
	    cmocka_unit_test(test_rollup_fields_in_bytes),
	    cmocka_unit_test(test_bad_input),
	    cmocka_unit_test(test_length_bounds_the_parse),
	    cmocka_unit_test(test_reads_own_process),
	    cmocka_unit_test(test_smaps_figures_in_bytes_per_vma),
	    cmocka_unit_test(test_smaps_path_with_spaces),
	    cmocka_unit_test(test_smaps_anonymous_vma_has_no_path),
	    cmocka_unit_test(test_smaps_junk_lines_skipped),
	    cmocka_unit_test(test_smaps_truncated_last_vma),
	    cmocka_unit_test(test_smaps_empty_and_header_only),
	    cmocka_unit_test(test_smaps_reads_own_process),
	};

	return cmocka_run_group_tests_name("procstat", procstat_tests, NULL, NULL);
}
