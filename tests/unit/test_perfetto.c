// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* The --perfetto formatting: Trace Event Format objects, byte for byte. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include "output/perfetto.h"

#define MiB (1024 * 1024)
#define T0 1000000000ull

struct buf {
	char *text;
	size_t len;
	struct pl_perfetto_fmt fmt;
};

static void open_buf(struct buf *b)
{
	b->fmt.f = open_memstream(&b->text, &b->len);
	assert_non_null(b->fmt.f);
	b->fmt.t0_ns = T0;
	b->fmt.first = true;
}

static char *close_buf(struct buf *b)
{
	fclose(b->fmt.f);
	return b->text;
}

static void test_document_and_names(void **state)
{
	struct buf b;
	char *t;
	(void)state;
	open_buf(&b);
	pl_perfetto_header(&b.fmt);
	pl_perfetto_name(&b.fmt, 42, 0, "de\"mo");
	pl_perfetto_name(&b.fmt, 42, 43, "worker");
	pl_perfetto_footer(&b.fmt);
	t = close_buf(&b);
	assert_string_equal(t, "{\"displayTimeUnit\":\"ms\",\"traceEvents\":[\n"
			       "{\"ph\":\"M\",\"name\":\"process_name\",\"pid\":42,\"tid\":42,"
			       "\"args\":{\"name\":\"de\\\"mo\"}},\n"
			       "{\"ph\":\"M\",\"name\":\"thread_name\",\"pid\":42,\"tid\":43,"
			       "\"args\":{\"name\":\"worker\"}}\n"
			       "]}\n");
	free(t);
}

static void test_madvise_complete_event(void **state)
{
	struct pl_syscall_event e = {0};
	struct buf b;
	char *t;
	(void)state;
	e.hdr.type = PL_EV_SYSCALL;
	e.hdr.pid = 42;
	e.hdr.tid = 43;
	e.hdr.ts_ns = T0 + 1500000; /* exit at 1.5 ms, after 2.5 us */
	e.duration_ns = 2500;
	e.sys = PL_SYS_MADVISE;
	e.args[0] = 0x7f0000000000;
	e.args[1] = 32 * MiB;
	e.args[2] = 4; /* MADV_DONTNEED */
	e.rss_delta[PL_RSS_ANON] = -32 * MiB;
	e.rss_delta[PL_RSS_FILE] = 4096;
	open_buf(&b);
	pl_perfetto_syscall(&b.fmt, &e, "go-scavenger-background");
	t = close_buf(&b);
	assert_string_equal(t, "\n{\"ph\":\"X\",\"name\":\"madvise\",\"pid\":42,\"tid\":43,"
			       "\"cat\":\"syscall\",\"ts\":1497.500,\"dur\":2.500,\"args\":{"
			       "\"addr\":\"0x7f0000000000\",\"len\":33554432,\"ret\":0,"
			       "\"advice\":\"MADV_DONTNEED\",\"rss_delta\":{\"anon\":-33554432,"
			       "\"file\":4096,\"shmem\":0,\"swap\":0,\"resident\":-33550336},"
			       "\"caller\":\"go-scavenger-background\"}}");
	free(t);
}

static void test_failed_call_without_rss_or_caller(void **state)
{
	struct pl_syscall_event e = {0};
	struct buf b;
	char *t;
	(void)state;
	e.hdr.pid = e.hdr.tid = 7;
	e.hdr.ts_ns = T0 + 1000;
	e.duration_ns = 1000;
	e.sys = PL_SYS_MUNMAP;
	e.args[1] = 4096;
	e.ret = -22;
	e.flags = PL_SCF_RSS_UNKNOWN;
	open_buf(&b);
	b.fmt.first = false; /* not the first event: a comma first */
	pl_perfetto_syscall(&b.fmt, &e, NULL);
	t = close_buf(&b);
	assert_non_null(strstr(t, ",\n{\"ph\":\"X\",\"name\":\"munmap\""));
	assert_non_null(strstr(t, "\"ts\":0.000,\"dur\":1.000"));
	assert_non_null(strstr(t, "\"error\":\"EINVAL\""));
	assert_null(strstr(t, "rss_delta"));
	assert_null(strstr(t, "caller"));
	assert_null(strstr(t, "advice"));
	free(t);
}

static void test_counters_and_fault_rate(void **state)
{
	struct pl_sample s1 = {.ts_ns = T0 + 100000000, .page_faults = 500, .lazy_pending = -1};
	struct pl_sample s2 = {.ts_ns = T0 + 300000000, .page_faults = 2500, .lazy_pending = 8192};
	struct buf b;
	char *t;
	(void)state;
	s1.rss[PL_RSS_ANON] = 64 * MiB;
	s1.rss[PL_RSS_FILE] = MiB;
	s2.rss[PL_RSS_ANON] = 32 * MiB;
	s2.rss[PL_RSS_SWAP] = 4096;
	open_buf(&b);
	pl_perfetto_sample(&b.fmt, 42, &s1, NULL);
	pl_perfetto_sample(&b.fmt, 42, &s2, &s1);
	t = close_buf(&b);
	assert_string_equal(
	    t, "\n{\"ph\":\"C\",\"name\":\"rss\",\"pid\":42,\"tid\":42,\"ts\":100000.000,"
	       "\"args\":{\"anon\":67108864,\"file\":1048576,\"shmem\":0,\"swap\":0}},\n"
	       "{\"ph\":\"C\",\"name\":\"page_faults\",\"pid\":42,\"tid\":42,\"ts\":100000.000,"
	       "\"args\":{\"total\":500}},\n"
	       "{\"ph\":\"C\",\"name\":\"rss\",\"pid\":42,\"tid\":42,\"ts\":300000.000,"
	       "\"args\":{\"anon\":33554432,\"file\":0,\"shmem\":0,\"swap\":4096}},\n"
	       "{\"ph\":\"C\",\"name\":\"lazy_free_pending\",\"pid\":42,\"tid\":42,"
	       "\"ts\":300000.000,\"args\":{\"bytes\":8192}},\n"
	       "{\"ph\":\"C\",\"name\":\"page_faults\",\"pid\":42,\"tid\":42,\"ts\":300000.000,"
	       "\"args\":{\"total\":2500}},\n"
	       "{\"ph\":\"C\",\"name\":\"page_faults_per_sec\",\"pid\":42,\"tid\":42,"
	       "\"ts\":300000.000,\"args\":{\"rate\":10000.0}}");
	free(t);
}

static void test_instant(void **state)
{
	struct buf b;
	char *t;
	(void)state;
	open_buf(&b);
	pl_perfetto_instant(&b.fmt, "exit", 42, 42, T0 + 2000000);
	t = close_buf(&b);
	assert_string_equal(t, "\n{\"ph\":\"i\",\"name\":\"exit\",\"pid\":42,\"tid\":42,"
			       "\"s\":\"p\",\"ts\":2000.000}");
	free(t);
}

int main(void)
{
	const struct CMUnitTest perfetto_tests[] = {
	    cmocka_unit_test(test_document_and_names),
	    cmocka_unit_test(test_madvise_complete_event),
	    cmocka_unit_test(test_failed_call_without_rss_or_caller),
	    cmocka_unit_test(test_counters_and_fault_rate),
	    cmocka_unit_test(test_instant),
	};

	return cmocka_run_group_tests_name("perfetto", perfetto_tests, NULL, NULL);
}
