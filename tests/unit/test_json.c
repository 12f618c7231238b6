// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* Unit tests for user/output/json.c and the two output back ends that use it. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <cmocka.h>
#include "output/output.h"
#include "output/sinks.h"

#define MIB (1024 * 1024)

/* ---- fixtures -------------------------------------------------------------- */

/* Everything a test writes goes to an in-memory FILE. */
struct mem {
	char *buf;
	size_t len;
	FILE *f;
	struct pl_json j;
};

static int mem_open(void **state)
{
	struct mem *m = calloc(1, sizeof(*m));

	if (!m)
		return -1;
	m->f = open_memstream(&m->buf, &m->len);
	if (!m->f) {
		free(m);
		return -1;
	}
	pl_json_init(&m->j, m->f);
	*state = m;
	return 0;
}

static int mem_close(void **state)
{
	struct mem *m = *state;

	fclose(m->f);
	free(m->buf);
	free(m);
	return 0;
}

/* Starts over with an empty buffer. */
static void mem_reset(struct mem *m)
{
	fclose(m->f);
	free(m->buf);
	m->buf = NULL;
	m->len = 0;
	m->f = open_memstream(&m->buf, &m->len);
	assert_non_null(m->f);
	pl_json_init(&m->j, m->f);
}

/* What has been written so far, NUL-terminated. */
static const char *text(struct mem *m)
{
	fflush(m->f);
	return m->buf;
}

#define assert_contains(haystack, needle)                                                          \
	do {                                                                                       \
		const char *h_ = (haystack), *n_ = (needle);                                       \
		if (!strstr(h_, n_))                                                               \
			fail_msg("expected to find\n  %s\nin\n  %s", n_, h_);                      \
	} while (0)

#define assert_not_contains(haystack, needle)                                                      \
	do {                                                                                       \
		const char *h_ = (haystack), *n_ = (needle);                                       \
		if (strstr(h_, n_))                                                                \
			fail_msg("did not expect\n  %s\nin\n  %s", n_, h_);                        \
	} while (0)

/* One JSON Lines record: an object, brackets balanced outside strings, "}\n" last. */
static void assert_json_line(const char *s)
{
	int depth = 0;
	int in_str = 0;
	size_t n = strlen(s);

	assert_true(n >= 3);
	assert_int_equal(s[0], '{');
	assert_string_equal(s + n - 2, "}\n");
	assert_ptr_equal(strchr(s, '\n'), s + n - 1);
	for (const char *p = s; *p; p++) {
		if (in_str) {
			if (*p == '\\')
				p++;
			else if (*p == '"')
				in_str = 0;
			continue;
		}
		if (*p == '"')
			in_str = 1;
		else if (*p == '{' || *p == '[')
			depth++;
		else if (*p == '}' || *p == ']')
			depth--;
		assert_true(depth >= 0);
	}
	assert_false(in_str);
	assert_int_equal(depth, 0);
}

static struct pl_syscall_event sys_event(uint32_t sys, uint64_t addr, uint64_t len, int64_t ret)
{
	struct pl_syscall_event e;

	memset(&e, 0, sizeof(e));
	e.hdr.type = PL_EV_SYSCALL;
	e.hdr.ts_ns = 1000;
	e.hdr.pid = 42;
	e.hdr.tid = 43;
	e.sys = sys;
	e.target_pid = 42;
	e.args[0] = addr;
	e.args[1] = len;
	e.ret = ret;
	e.duration_ns = 1500;
	strcpy(e.comm, "memops");
	return e;
}

/* madvise(0x7f0000000000, 32M, MADV_DONTNEED) that released 32M of anon. */
static struct pl_syscall_event madvise_dontneed(void)
{
	struct pl_syscall_event e = sys_event(PL_SYS_MADVISE, 0x7f0000000000, 32 * MIB, 0);

	e.args[2] = 4;
	e.rss_delta[PL_RSS_ANON] = -32 * MIB;
	return e;
}

/* mmap(NULL, 4096, rw-, PRIVATE|ANONYMOUS, -1, 0) that failed with ENOMEM. */
static struct pl_syscall_event mmap_enomem(void)
{
	struct pl_syscall_event e = sys_event(PL_SYS_MMAP, 0, 4096, -12);

	e.args[2] = PROT_READ | PROT_WRITE;
	e.args[3] = MAP_PRIVATE | MAP_ANONYMOUS;
	e.args[4] = (uint64_t)-1;
	return e;
}

static struct pl_syscall_event brk_move(uint64_t old_brk, uint64_t new_brk)
{
	struct pl_syscall_event e = sys_event(PL_SYS_BRK, new_brk, 0, (int64_t)new_brk);

	e.old_brk = old_brk;
	return e;
}

/* process_madvise(pidfd 3, iov, 2, MADV_PAGEOUT) on pid 77, over 2M. */
static struct pl_syscall_event pmadvise_pageout(void)
{
	struct pl_syscall_event e = sys_event(PL_SYS_PROCESS_MADVISE, 3, 0x7ffd00000000, 2 * MIB);

	e.args[1] = 0x7ffd00000000;
	e.args[2] = 2;
	e.args[3] = 21;
	e.target_pid = 77;
	e.iov_addr = 0x7f0000200000;
	e.iov_bytes = 2 * MIB;
	e.iov_read = 2;
	return e;
}

static struct pl_ledger ledger; /* large: off the stack */
static void build_ledger(void);

/* A JSON stream on m, as the sinks module holds it. */
static void json_sinks(struct mem *m, bool quiet, struct pl_sinks *s)
{
	struct pl_output o;

	memset(s, 0, sizeof(*s));
	assert_int_equal(pl_output_json_init(&o, m->f, quiet), 0);
	assert_int_equal(pl_sinks_add(s, &o), 0);
}

static void emit_json(struct mem *m, const struct pl_syscall_event *e, bool quiet)
{
	struct pl_sinks s;
	struct pl_record r = {.type = PL_EV_SYSCALL, .sys = e};

	json_sinks(m, quiet, &s);
	pl_sinks_record(&s, &r);
	pl_sinks_end(&s);
}

/* ---- the writer ------------------------------------------------------------ */

static void test_writer_nesting_and_commas(void **state)
{
	struct mem *m = *state;
	struct pl_json *j = &m->j;

	pl_json_object_begin(j, NULL);
	pl_json_u64(j, "a", 1);
	pl_json_array_begin(j, "b");
	pl_json_s64(j, NULL, 1);
	pl_json_s64(j, NULL, -2);
	pl_json_object_begin(j, NULL);
	pl_json_bool(j, "c", true);
	pl_json_object_end(j);
	pl_json_array_begin(j, NULL);
	pl_json_array_end(j);
	pl_json_array_end(j);
	pl_json_object_begin(j, "d");
	pl_json_object_end(j);
	pl_json_null(j, "e");
	pl_json_bool(j, "f", false);
	pl_json_str(j, "g", "x");
	pl_json_object_end(j);
	pl_json_line_end(j);

	assert_string_equal(text(m), "{\"a\":1,\"b\":[1,-2,{\"c\":true},[]],\"d\":{},\"e\":null,"
				     "\"f\":false,\"g\":\"x\"}\n");
}

static void test_writer_lines_start_fresh(void **state)
{
	struct mem *m = *state;

	for (int i = 1; i <= 2; i++) {
		pl_json_object_begin(&m->j, NULL);
		pl_json_s64(&m->j, "n", i);
		pl_json_object_end(&m->j);
		pl_json_line_end(&m->j);
	}
	assert_string_equal(text(m), "{\"n\":1}\n{\"n\":2}\n");
}

static void test_writer_integer_limits(void **state)
{
	struct mem *m = *state;

	pl_json_array_begin(&m->j, NULL);
	pl_json_u64(&m->j, NULL, UINT64_MAX);
	pl_json_s64(&m->j, NULL, INT64_MIN);
	pl_json_s64(&m->j, NULL, INT64_MAX);
	pl_json_u64(&m->j, NULL, 0);
	pl_json_array_end(&m->j);
	assert_string_equal(text(m), "[18446744073709551615,-9223372036854775808,"
				     "9223372036854775807,0]");
}

static void test_writer_doubles(void **state)
{
	struct mem *m = *state;

	pl_json_array_begin(&m->j, NULL);
	pl_json_double(&m->j, NULL, 1.5);
	pl_json_double(&m->j, NULL, -0.25);
	pl_json_double(&m->j, NULL, 1e20);
	pl_json_double(&m->j, NULL, NAN);
	pl_json_double(&m->j, NULL, INFINITY);
	pl_json_double(&m->j, NULL, -INFINITY);
	pl_json_array_end(&m->j);
	assert_string_equal(text(m), "[1.5,-0.25,1e+20,null,null,null]");
}

static void check_escaped(struct mem *m, const char *in, const char *want)
{
	mem_reset(m);
	pl_json_write_string(m->f, in);
	assert_string_equal(text(m), want);
}

static void test_string_escapes(void **state)
{
	struct mem *m = *state;

	check_escaped(m, "plain", "\"plain\"");
	check_escaped(m, "a\"b", "\"a\\\"b\"");
	check_escaped(m, "a\\b", "\"a\\\\b\"");
	check_escaped(m, "\n\r\t\b\f", "\"\\n\\r\\t\\b\\f\"");
	check_escaped(m, "", "\"\"");
	check_escaped(m, NULL, "\"\"");
}

static void test_string_control_bytes(void **state)
{
	struct mem *m = *state;

	check_escaped(m, "\x01", "\"\\u0001\"");
	check_escaped(m, "\x1f", "\"\\u001f\"");
	check_escaped(m, "a\013b", "\"a\\u000bb\"");
	/* DEL is not a control character for JSON. */
	check_escaped(m, "\x7f", "\"\x7f\"");
}

static void test_string_utf8_passes_through(void **state)
{
	struct mem *m = *state;

	check_escaped(m, "caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x90\x98",
		      "\"caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x90\x98\"");
}

static void test_keys_and_null_values(void **state)
{
	struct mem *m = *state;

	pl_json_object_begin(&m->j, NULL);
	pl_json_str(&m->j, "k\"1", NULL);
	pl_json_object_end(&m->j);
	assert_string_equal(text(m), "{\"k\\\"1\":\"\"}");
}

static void test_writer_depth_limit(void **state)
{
	struct mem *m = *state;

	for (int i = 0; i < PL_JSON_MAX_DEPTH - 1; i++)
		pl_json_array_begin(&m->j, NULL);
	assert_false(m->j.overflow);
	pl_json_array_begin(&m->j, NULL);
	assert_true(m->j.overflow);
	assert_int_equal(m->j.depth, PL_JSON_MAX_DEPTH - 1);
}

/* ---- JSON output ----------------------------------------------------------- */

static void test_json_madvise_record(void **state)
{
	struct mem *m = *state;
	struct pl_syscall_event e = madvise_dontneed();

	emit_json(m, &e, false);
	assert_json_line(text(m));
	assert_contains(text(m), "\"type\":\"madvise\"");
	assert_contains(text(m), "\"advice\":\"MADV_DONTNEED\"");
	assert_contains(text(m), "\"rss_delta\":{\"anon\":-33554432,\"file\":0,\"shmem\":0,"
				 "\"swap\":0}");
	assert_string_equal(
	    text(m), "{\"type\":\"madvise\",\"ts_ns\":1000,\"pid\":42,\"tid\":43,"
		     "\"comm\":\"memops\",\"addr\":139637976727552,\"len\":33554432,"
		     "\"ret\":0,\"advice\":\"MADV_DONTNEED\",\"rss_delta\":{\"anon\":-33554432,"
		     "\"file\":0,\"shmem\":0,\"swap\":0},\"rss_known\":true,"
		     "\"rss_exact\":true,\"duration_ns\":1500}\n");
}

static void test_json_failed_mmap_record(void **state)
{
	struct mem *m = *state;
	struct pl_syscall_event e = mmap_enomem();

	e.flags = PL_SCF_RSS_UNKNOWN;
	emit_json(m, &e, false);
	assert_json_line(text(m));
	assert_contains(text(m), "\"type\":\"mmap\"");
	assert_contains(text(m), "\"addr\":0,\"len\":4096,\"ret\":-12,\"error\":\"ENOMEM\"");
	assert_contains(text(m), "\"prot\":\"rw-\",\"flags\":\"PRIVATE|ANONYMOUS\",\"fd\":-1,"
				 "\"offset\":0");
	assert_contains(text(m), "\"rss_known\":false");
	assert_not_contains(text(m), "\"advice\"");
}

static void test_json_brk_records(void **state)
{
	struct mem *m = *state;
	struct pl_syscall_event grow = brk_move(0x1000000, 0x1021000);
	struct pl_syscall_event shrink = brk_move(0x1021000, 0x1000000);

	emit_json(m, &grow, false);
	assert_json_line(text(m));
	assert_contains(text(m), "\"addr\":16777216,\"len\":135168");
	assert_contains(text(m), "\"requested\":16912384,\"old_brk\":16777216,"
				 "\"new_brk\":16912384,\"brk_delta\":135168");

	mem_reset(m);
	emit_json(m, &shrink, false);
	assert_contains(text(m), "\"brk_delta\":-135168");
}

static void test_json_process_madvise_record(void **state)
{
	struct mem *m = *state;
	struct pl_syscall_event e = pmadvise_pageout();

	emit_json(m, &e, false);
	assert_json_line(text(m));
	assert_contains(text(m), "\"type\":\"process_madvise\"");
	assert_contains(text(m), "\"addr\":139637978824704,\"len\":2097152");
	assert_contains(text(m), "\"target_pid\":77,\"pidfd\":3,\"vlen\":2,\"iov_read\":2,"
				 "\"advice\":\"MADV_PAGEOUT\"");
}

static void test_json_comm_is_escaped(void **state)
{
	struct mem *m = *state;
	struct pl_syscall_event e = madvise_dontneed();

	strcpy(e.comm, "a\"b\x01\\c");
	emit_json(m, &e, false);
	assert_json_line(text(m));
	assert_contains(text(m), "\"comm\":\"a\\\"b\\u0001\\\\c\"");
}

static void test_json_exec_and_exit_records(void **state)
{
	struct mem *m = *state;
	struct pl_exec_event exec = {.hdr = {.type = PL_EV_EXEC, .ts_ns = 5, .pid = 9, .tid = 9}};
	struct pl_exit_event ex = {.hdr = {.type = PL_EV_EXIT, .ts_ns = 6, .pid = 9, .tid = 9},
				   .exit_code = 1 << 8};
	struct pl_record r;
	struct pl_sinks s;
	const char *second;

	exec.rss[PL_RSS_ANON] = 4096;
	exec.rss[PL_RSS_FILE] = 8192;
	exec.rss[PL_RSS_SWAP] = 100;
	strcpy(exec.comm, "true");
	json_sinks(m, false, &s);
	r = (struct pl_record){.type = PL_EV_EXEC, .exec = &exec};
	pl_sinks_record(&s, &r);
	r = (struct pl_record){.type = PL_EV_EXIT, .exit = &ex};
	pl_sinks_record(&s, &r);
	pl_sinks_end(&s);

	assert_string_equal(text(m), "{\"type\":\"exec\",\"ts_ns\":5,\"pid\":9,\"tid\":9,"
				     "\"comm\":\"true\",\"rss\":{\"anon\":4096,\"file\":8192,"
				     "\"shmem\":0,\"swap\":100,\"resident\":12288}}\n"
				     "{\"type\":\"exit\",\"ts_ns\":6,\"pid\":9,\"tid\":9,"
				     "\"wait_status\":256,\"rss\":{\"anon\":0,\"file\":0,"
				     "\"shmem\":0,\"swap\":0,\"resident\":0}}\n");
	second = strchr(text(m), '\n') + 1;
	assert_json_line(second);
}

static void test_json_quiet_skips_records(void **state)
{
	struct mem *m = *state;
	struct pl_syscall_event e = madvise_dontneed();

	emit_json(m, &e, true);
	assert_string_equal(text(m), "");
}

/* -q -j: the summary record and nothing else, not even the start or the balances. */
static void test_json_quiet_is_the_summary_only(void **state)
{
	struct mem *m = *state;
	struct pl_run_info info = {.pid = 42, .comm = "x", .t0_ns = 77};
	struct pl_balance b = {.when = "end"};
	struct pl_ranges_view v = {.when = "end"};
	struct pl_cause_acc delta = {0};
	const char *head = "{\"type\":\"summary\",";
	struct pl_sinks s;

	delta.delta[PL_CAUSE_FAULT][PL_RSS_ANON] = 4096;
	build_ledger();
	json_sinks(m, true, &s);
	pl_sinks_begin(&s, &info);
	pl_sinks_balance(&s, &b, 42);
	pl_sinks_rss_change(&s, &delta, 100, 42);
	pl_sinks_ranges(&s, &v);
	assert_string_equal(text(m), "");
	pl_sinks_summary(&s, &ledger);
	pl_sinks_end(&s);
	assert_json_line(text(m));
	assert_int_equal(strncmp(text(m), head, strlen(head)), 0);
	/* What the scripts read from it: which process it is about. */
	assert_contains(text(m), "\"pid\":42,\"tid\":0,\"comm\":\"x\",\"duration_ns\":");
}

static void test_json_start_record(void **state)
{
	struct mem *m = *state;
	struct pl_run_info info = {.pid = 42, .comm = "srv\"x", .t0_ns = 77, .spawned = true};
	struct pl_sinks s;

	info.rss_start[PL_RSS_ANON] = 4096;
	json_sinks(m, false, &s);
	pl_sinks_begin(&s, &info);
	pl_sinks_end(&s);
	assert_json_line(text(m));
	/* Then where and when: the values are the machine's (e2e test_syscalls checks them). */
	static const char head[] = "{\"type\":\"start\",\"ts_ns\":77,\"pid\":42,\"tid\":0,"
				   "\"schema_version\":1,\"comm\":\"srv\\\"x\",\"spawned\":true,"
				   "\"rss\":{\"anon\":4096,\"file\":0,\"shmem\":0,\"swap\":0,"
				   "\"resident\":4096},\"realtime_ns\":";
	assert_int_equal(strncmp(text(m), head, strlen(head)), 0);
	assert_contains(text(m), ",\"host\":\"");
	assert_contains(text(m), ",\"kernel\":\"");
	assert_contains(text(m), ",\"version\":\"" PL_VERSION "\"}\n");
}

static void build_ledger(void)
{
	struct pl_syscall_event e = madvise_dontneed();
	struct pl_syscall_event other = madvise_dontneed();
	struct pl_syscall_event un = sys_event(PL_SYS_MUNMAP, 0x7f0000000000, 4096, 0);
	struct pl_totals t;

	other.args[1] = 4096;
	other.args[2] = 200;
	other.rss_delta[PL_RSS_ANON] = 0;
	pl_ledger_init(&ledger, 42, 1000);
	pl_ledger_add_syscall(&ledger, &e);
	pl_ledger_add_syscall(&ledger, &other);
	pl_ledger_add_syscall(&ledger, &un);
	memset(&t, 0, sizeof(t));
	t.lost_events = 3;
	t.inflight_drops = 4;
	t.rss_cur[PL_RSS_ANON] = 8192;
	pl_ledger_finish(&ledger, &t, 11, 9000);
}

static void test_json_summary(void **state)
{
	struct mem *m = *state;
	struct pl_sinks s;

	build_ledger();
	json_sinks(m, true, &s);
	pl_sinks_summary(&s, &ledger);
	pl_sinks_end(&s);

	assert_json_line(text(m));
	assert_contains(text(m), "{\"type\":\"summary\",");
	assert_contains(text(m), "\"duration_ns\":8000,\"syscalls\":[");
	assert_contains(text(m), "{\"syscall\":\"madvise\",\"advice\":\"MADV_DONTNEED\","
				 "\"calls\":1,\"errors\":0,\"bytes\":33554432,"
				 "\"rss_released\":33554432,\"rss_gained\":0,");
	assert_contains(text(m), "{\"syscall\":\"madvise\",\"advice\":\"other\",\"calls\":1,");
	assert_contains(text(m), "{\"syscall\":\"munmap\",\"advice\":null,\"calls\":1,");
	assert_contains(text(m), "\"total\":{\"calls\":3,\"errors\":0,\"bytes\":33562624,");
	assert_contains(text(m), "\"page_faults\":11,");
	assert_contains(text(m), "\"end\":{\"anon\":8192,\"file\":0,\"shmem\":0,\"swap\":0,"
				 "\"resident\":8192}");
	assert_contains(text(m), "\"exited\":false,\"events\":3,");
	assert_contains(text(m), "\"lost_events\":7,\"lost_ringbuf\":3,\"lost_untracked\":4,");
	/* Every counter the run keeps is in the record. */
	assert_contains(text(m), "\"stacks_dropped\":0,\"chunks_dropped\":0,\"marks_truncated\":0,"
				 "\"sites_dropped\":0,\"ranges_alloc_failures\":0,"
				 "\"probes_skipped\":0,\"bad_records\":0,\"balances_off\":0,"
				 "\"symbol_cache\":{\"hits\":0,\"misses\":0},");
	/* The concurrency counts, the closing identity and the tracer's cost close the record. */
	assert_contains(text(m), "\"rss_inexact_calls\":0,\"rss_inexact_updates\":0,"
				 "\"rss_inexact_late\":0,\"rss_robbed_folds\":0,\"closure\":{");
	assert_contains(text(m), "\"tracer\":{\"maxrss\":0}}\n");
	/* The diagnosis: its rows as fields, in the order every output shows them. */
	assert_contains(text(m),
			"\"diagnosis\":{\"source\":\"ledger\",\"resident\":8192,"
			"\"in_use\":8192,\"lazy_free\":null,\"thp_filled\":0,\"file\":0,"
			"\"shmem\":0,\"swap\":0,\"churn\":null,\"go_heap\":null,\"hints\":[]}");
}

#define MEM_TEST(f) cmocka_unit_test_setup_teardown(f, mem_open, mem_close)

int main(void)
{
	const struct CMUnitTest json_output_tests[] = {
	    MEM_TEST(test_writer_nesting_and_commas),
	    MEM_TEST(test_writer_lines_start_fresh),
	    MEM_TEST(test_writer_integer_limits),
	    MEM_TEST(test_writer_doubles),
	    MEM_TEST(test_string_escapes),
	    MEM_TEST(test_string_control_bytes),
	    MEM_TEST(test_string_utf8_passes_through),
	    MEM_TEST(test_keys_and_null_values),
	    MEM_TEST(test_writer_depth_limit),
	    MEM_TEST(test_json_madvise_record),
	    MEM_TEST(test_json_failed_mmap_record),
	    MEM_TEST(test_json_brk_records),
	    MEM_TEST(test_json_process_madvise_record),
	    MEM_TEST(test_json_comm_is_escaped),
	    MEM_TEST(test_json_exec_and_exit_records),
	    MEM_TEST(test_json_quiet_skips_records),
	    MEM_TEST(test_json_quiet_is_the_summary_only),
	    MEM_TEST(test_json_start_record),
	    MEM_TEST(test_json_summary),
	};

	return cmocka_run_group_tests(json_output_tests, NULL, NULL);
}
