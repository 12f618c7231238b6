// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* Unit tests for user/symbolize/procmaps.c: the maps-line parser and the reader. */
#include <fcntl.h>
#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>
#include <cmocka.h>
#include "symbolize/procmaps.h"

/* Parses a NUL-terminated line; returns the parser's result. */
static int parse(const char *line, struct pl_map *m)
{
	return pl_maps_parse_line(line, strlen(line), m);
}

static void assert_path(const struct pl_map *m, const char *want)
{
	assert_non_null(m->path);
	assert_int_equal(m->path_len, strlen(want));
	assert_memory_equal(m->path, want, m->path_len);
}

/* ---- one line ---------------------------------------------------------- */

static void test_file_mapping(void **state)
{
	struct pl_map m;

	(void)state;
	assert_int_equal(parse("7f9796601000-7f9796757000 r-xp 00026000 fe:00 332835     "
			       "                /usr/lib/x86_64-linux-gnu/libc.so.6",
			       &m),
			 0);
	assert_int_equal(m.start, 0x7f9796601000ull);
	assert_int_equal(m.end, 0x7f9796757000ull);
	assert_int_equal(m.offset, 0x26000);
	assert_int_equal(m.dev_major, 0xfe);
	assert_int_equal(m.dev_minor, 0);
	assert_int_equal(m.inode, 332835);
	assert_true(m.readable);
	assert_false(m.writable);
	assert_true(m.executable);
	assert_false(m.shared);
	assert_false(m.deleted);
	assert_path(&m, "/usr/lib/x86_64-linux-gnu/libc.so.6");
}

static void test_anonymous_without_path(void **state)
{
	struct pl_map m;

	(void)state;
	assert_int_equal(parse("7f9796558000-7f979657a000 rw-p 00000000 00:00 0", &m), 0);
	assert_null(m.path);
	assert_int_equal(m.path_len, 0);
	assert_true(m.writable);
	assert_int_equal(m.inode, 0);
}

/* Some kernels pad anonymous lines with spaces and print nothing after. */
static void test_anonymous_with_trailing_spaces(void **state)
{
	struct pl_map m;

	(void)state;
	assert_int_equal(parse("7f9796558000-7f979657a000 rw-p 00000000 00:00 0      ", &m), 0);
	assert_null(m.path);
	assert_int_equal(parse("7f9796558000-7f979657a000 rw-p 00000000 00:00 0 ", &m), 0);
	assert_null(m.path);
}

static void test_special_names(void **state)
{
	static const char *const names[] = {"[heap]", "[stack]",    "[vdso]",
					    "[vvar]", "[vsyscall]", "[anon:libc_malloc]"};
	char line[256];
	struct pl_map m;

	(void)state;
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		snprintf(line, sizeof(line), "1000-2000 rw-p 00000000 00:00 0   %s", names[i]);
		assert_int_equal(parse(line, &m), 0);
		assert_path(&m, names[i]);
	}
}

static void test_path_with_spaces(void **state)
{
	struct pl_map m;

	(void)state;
	assert_int_equal(parse("1000-2000 r-xp 00001000 08:01 42   /tmp/my dir/lib  x.so", &m), 0);
	assert_path(&m, "/tmp/my dir/lib  x.so");
	assert_false(m.deleted);
}

static void test_deleted_path(void **state)
{
	struct pl_map m;

	(void)state;
	assert_int_equal(parse("1000-2000 r-xp 00000000 08:01 42 /tmp/old lib.so (deleted)", &m),
			 0);
	assert_true(m.deleted);
	assert_path(&m, "/tmp/old lib.so");
	assert_int_equal(parse("1000-2000 rw-s 00000000 00:01 7 /memfd:jit (deleted)", &m), 0);
	assert_true(m.deleted);
	assert_true(m.shared);
	assert_path(&m, "/memfd:jit");
}

/* " (deleted)" alone, or without its space, is just a strange name. */
static void test_deleted_lookalikes(void **state)
{
	struct pl_map m;

	(void)state;
	assert_int_equal(parse("1000-2000 r--p 00000000 08:01 42 /tmp/x(deleted)", &m), 0);
	assert_false(m.deleted);
	assert_path(&m, "/tmp/x(deleted)");
	assert_int_equal(parse("1000-2000 r--p 00000000 08:01 42  (deleted)", &m), 0);
	assert_false(m.deleted);
	assert_path(&m, "(deleted)");
}

/* The kernel escapes a newline in a path as \012; it stays as printed. */
static void test_escaped_newline_kept(void **state)
{
	struct pl_map m;

	(void)state;
	assert_int_equal(parse("1000-2000 r--p 00000000 08:01 42 /tmp/a\\012b", &m), 0);
	assert_path(&m, "/tmp/a\\012b");
}

static void test_largest_values(void **state)
{
	struct pl_map m;

	(void)state;
	assert_int_equal(parse("fffffffffffff000-ffffffffffffffff --xp ffffffffffffffff "
			       "ffffffff:ffffffff 18446744073709551615 /x",
			       &m),
			 0);
	assert_int_equal(m.start, 0xfffffffffffff000ull);
	assert_int_equal(m.end, UINT64_MAX);
	assert_int_equal(m.offset, UINT64_MAX);
	assert_int_equal(m.dev_major, UINT32_MAX);
	assert_int_equal(m.dev_minor, UINT32_MAX);
	assert_int_equal(m.inode, UINT64_MAX);
	assert_false(m.readable);
	assert_true(m.executable);
}

static void test_overflowing_numbers_rejected(void **state)
{
	static const char *const lines[] = {
	    "10000000000000000-20000000000000000 r--p 00000000 08:01 1 /x", /* 17 digits */
	    "1000-2000 r--p 10000000000000000 08:01 1 /x",
	    "1000-2000 r--p 00000000 100000000:01 1 /x",
	    "1000-2000 r--p 00000000 08:100000000 1 /x",
	    "1000-2000 r--p 00000000 08:01 18446744073709551616 /x", /* 2^64 */
	    "1000-2000 r--p 00000000 08:01 99999999999999999999999 /x",
	};
	struct pl_map m;

	(void)state;
	for (size_t i = 0; i < sizeof(lines) / sizeof(lines[0]); i++)
		assert_int_equal(parse(lines[i], &m), -1);
}

static void test_malformed_lines_rejected(void **state)
{
	static const char *const lines[] = {
	    "",
	    "   ",
	    "garbage",
	    "1000",
	    "1000-",
	    "1000-2000",
	    "1000-2000 ",
	    "1000-2000 r-xp",
	    "1000-2000 r-xp 0",
	    "1000-2000 r-xp 0 08:01",
	    "1000-2000 r-xp 0 08:01 ",
	    "2000-1000 r-xp 0 08:01 1 /x",    /* end before start */
	    "1000-1000 r-xp 0 08:01 1 /x",    /* empty */
	    "1000-2000 rwxz 0 08:01 1 /x",    /* bad perms */
	    "1000-2000 r-x 0 08:01 1 /x",     /* short perms */
	    "1000-2000 r-xpp 0 08:01 1 /x",   /* long perms */
	    "1000-2000 r-xp 0 0801 1 /x",     /* dev without colon */
	    "1000-2000 r-xp 0 08:01 -1 /x",   /* negative inode */
	    "1000-2000 r-xp 0 08:01 1x /x",   /* junk after inode */
	    "1000 2000 r-xp 0 08:01 1 /x",    /* no dash */
	    "-1000-2000 r-xp 0 08:01 1 /x",   /* leading dash */
	    " 1000-2000 r-xp 0 08:01 1 /x",   /* leading space */
	    "1000-2000  r-xp 0 08:01 1 /x",   /* two spaces */
	    "0x1000-0x2000 r-xp 0 08:01 1 /x" /* prefixes */
	};
	struct pl_map m;

	(void)state;
	for (size_t i = 0; i < sizeof(lines) / sizeof(lines[0]); i++) {
		if (parse(lines[i], &m) != -1)
			fail_msg("accepted: \"%s\"", lines[i]);
	}
}

static void test_nul_inside_line_rejected(void **state)
{
	static const char line[] = "1000-2000 r-xp 0 08:01 1 /a\0b";
	struct pl_map m;

	(void)state;
	assert_int_equal(pl_maps_parse_line(line, sizeof(line) - 1, &m), -1);
	assert_int_equal(pl_maps_parse_line(NULL, 0, &m), -1);
}

/* The length bounds the parse: nothing past it is read. */
static void test_length_bounds_line(void **state)
{
	static const char line[] = "1000-2000 r-xp 0 08:01 1 /abc";
	struct pl_map m;

	(void)state;
	assert_int_equal(pl_maps_parse_line(line, sizeof(line) - 3, &m), 0);
	assert_path(&m, "/a");
	assert_int_equal(pl_maps_parse_line(line, 12, &m), -1);
}

/* ---- a whole table --------------------------------------------------- */

static const char sample[] =
    "559fb9ffb000-559fb9ffd000 r--p 00000000 fe:00 247134                     /usr/bin/cat\n"
    "559fb9ffd000-559fba002000 r-xp 00002000 fe:00 247134                     /usr/bin/cat\n"
    "559fd47d6000-559fd47f7000 rw-p 00000000 00:00 0                          [heap]\n"
    "this line is garbage\n"
    "\n"
    "7f9796558000-7f979657a000 rw-p 00000000 00:00 0 \n"
    "7f97965db000-7f9796601000 r--p 00000000 fe:00 332835  /lib/my libc.so.6 (deleted)\n"
    "7ffd5e9d1000-7ffd5e9f2000 rw-p 00000000 00:00 0                          [stack]";

static void test_table(void **state)
{
	struct pl_maps t;

	(void)state;
	assert_int_equal(pl_maps_parse(sample, strlen(sample), &t), 0);
	assert_int_equal(t.n, 6);
	assert_int_equal(t.bad_lines, 1);
	assert_string_equal(t.v[0].path, "/usr/bin/cat");
	assert_string_equal(t.v[2].path, "[heap]");
	assert_null(t.v[3].path);
	assert_string_equal(t.v[4].path, "/lib/my libc.so.6");
	assert_true(t.v[4].deleted);
	assert_string_equal(t.v[5].path, "[stack]");
	pl_maps_free(&t);
}

static void test_find(void **state)
{
	struct pl_maps t;
	const struct pl_map *m;

	(void)state;
	assert_int_equal(pl_maps_parse(sample, strlen(sample), &t), 0);
	m = pl_maps_find(&t, 0x559fb9ffd000ull);
	assert_non_null(m);
	assert_int_equal(m->offset, 0x2000);
	m = pl_maps_find(&t, 0x559fba001fffull);
	assert_non_null(m);
	assert_int_equal(m->start, 0x559fb9ffd000ull);
	assert_null(pl_maps_find(&t, 0x559fba002000ull)); /* end is exclusive */
	assert_null(pl_maps_find(&t, 0));
	assert_null(pl_maps_find(&t, 0x559fb9ffafffull));
	assert_null(pl_maps_find(&t, UINT64_MAX));
	assert_non_null(pl_maps_find(&t, 0x7ffd5e9f1fffull));
	pl_maps_free(&t);
}

static void test_unsorted_table_sorted(void **state)
{
	static const char text[] = "3000-4000 r--p 0 00:00 0 /c\n"
				   "1000-2000 r--p 0 00:00 0 /a\n"
				   "2000-3000 r--p 0 00:00 0 /b\n";
	struct pl_maps t;

	(void)state;
	assert_int_equal(pl_maps_parse(text, strlen(text), &t), 0);
	assert_int_equal(t.n, 3);
	assert_string_equal(t.v[0].path, "/a");
	assert_string_equal(t.v[2].path, "/c");
	assert_string_equal(pl_maps_find(&t, 0x2fff)->path, "/b");
	pl_maps_free(&t);
}

static void test_empty_and_garbage_tables(void **state)
{
	static const char junk[] = "\n\n\x01\x02\xff\n-\n:\n";
	struct pl_maps t;

	(void)state;
	assert_int_equal(pl_maps_parse("", 0, &t), 0);
	assert_int_equal(t.n, 0);
	assert_null(pl_maps_find(&t, 0x1000));
	pl_maps_free(&t);
	assert_int_equal(pl_maps_parse(junk, sizeof(junk) - 1, &t), 0);
	assert_int_equal(t.n, 0);
	assert_int_equal(t.bad_lines, 3);
	pl_maps_free(&t);
	assert_int_equal(pl_maps_parse(NULL, 0, &t), -1);
	pl_maps_free(&t);
}

/* The copy the table keeps is independent of the caller's buffer. */
static void test_table_owns_text(void **state)
{
	char *text = strdup("1000-2000 r--p 0 00:00 5 /owned\n");
	struct pl_maps t;

	(void)state;
	assert_non_null(text);
	assert_int_equal(pl_maps_parse(text, strlen(text), &t), 0);
	memset(text, 'x', strlen(text));
	free(text);
	assert_string_equal(t.v[0].path, "/owned");
	pl_maps_free(&t);
}

static void test_many_lines(void **state)
{
	size_t n = 20000, len = 0;
	char *text = malloc(n * 64);
	struct pl_maps t;

	(void)state;
	assert_non_null(text);
	for (size_t i = 0; i < n; i++)
		len += (size_t)sprintf(text + len, "%zx-%zx r--p 0 00:00 %zu /f%zu\n",
				       (i + 1) << 12, (i + 2) << 12, i, i);
	assert_int_equal(pl_maps_parse(text, len, &t), 0);
	assert_int_equal(t.n, n);
	assert_string_equal(pl_maps_find(&t, (12345 + 1) << 12)->path, "/f12345");
	pl_maps_free(&t);
	free(text);
}

/* ---- the live reader ---------------------------------------------------- */

static void test_read_self(void **state)
{
	char exe[PATH_MAX];
	ssize_t len = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	const struct pl_map *m;
	struct pl_maps t;

	(void)state;
	assert_true(len > 0);
	exe[len] = '\0';
	assert_int_equal(pl_maps_read(getpid(), &t), 0);
	assert_true(t.n > 5);
	assert_int_equal(t.bad_lines, 0);
	m = pl_maps_find(&t, (uint64_t)(uintptr_t)&test_read_self);
	assert_non_null(m);
	assert_true(m->executable);
	assert_string_equal(m->path, exe);
	m = pl_maps_find(&t, (uint64_t)(uintptr_t)&len);
	assert_non_null(m);
	assert_true(m->writable);
	/* Under valgrind the stack is plain anonymous memory. */
	if (m->path)
		assert_string_equal(m->path, "[stack]");
	pl_maps_free(&t);
}

static void test_read_missing_process(void **state)
{
	struct pl_maps t;

	(void)state;
	/* Above the kernel's PID_MAX_LIMIT (4M), so no process has it. */
	assert_int_equal(pl_maps_read(0x7ffffff0, &t), -1);
	assert_int_equal(t.n, 0);
	pl_maps_free(&t);
}

/* ---- one mapping by PROCMAP_QUERY --------------------------------------- */

/* The query and the maps text agree, field by field, for the mapping at addr. */
static void assert_query_matches_text(int fd, uint64_t addr)
{
	char name[4096];
	struct pl_maps maps;
	const struct pl_map *want;
	struct pl_map got;

	assert_int_equal(pl_maps_read(getpid(), &maps), 0);
	want = pl_maps_find(&maps, addr);
	assert_non_null(want);
	assert_int_equal(pl_maps_query(fd, addr, &got, name, sizeof(name)), 1);
	assert_int_equal(got.start, want->start);
	assert_int_equal(got.end, want->end);
	assert_int_equal(got.offset, want->offset);
	assert_int_equal(got.inode, want->inode);
	assert_int_equal(got.dev_major, want->dev_major);
	assert_int_equal(got.dev_minor, want->dev_minor);
	assert_int_equal(got.executable, want->executable);
	assert_int_equal(got.writable, want->writable);
	assert_int_equal(got.deleted, want->deleted);
	if (!want->path) {
		assert_null(got.path);
	} else {
		assert_non_null(got.path);
		assert_string_equal(got.path, want->path);
	}
	pl_maps_free(&maps);
}

static int open_own_maps(void)
{
	int fd = open("/proc/self/maps", O_RDONLY | O_CLOEXEC);

	assert_true(fd >= 0);
	return fd;
}

/* Code, stack, anonymous memory, and a mapping past the last one. */
static void test_query_own_mappings(void **state)
{
	int local = 0, fd = open_own_maps();
	void *anon = mmap(NULL, 8192, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	struct pl_map m;
	char name[64];

	(void)state;
	assert_true(anon != MAP_FAILED);
	assert_query_matches_text(fd, (uint64_t)(uintptr_t)test_file_mapping);
	assert_query_matches_text(fd, (uint64_t)(uintptr_t)&local);
	assert_query_matches_text(fd, (uint64_t)(uintptr_t)anon);
	/* Nothing at or above the top of the address space. */
	assert_int_equal(pl_maps_query(fd, UINT64_MAX - 4096, &m, name, sizeof(name)), 0);
	munmap(anon, 8192);
	close(fd);
}

/* A deleted file, and a name with a newline: as the maps text prints them. */
static void test_query_deleted_and_odd_names(void **state)
{
	char path[] = "/tmp/pl-query-a\nb-XXXXXX";
	int fd = mkstemp(path), maps = open_own_maps();
	void *p;

	(void)state;
	assert_true(fd >= 0);
	assert_int_equal(ftruncate(fd, 4096), 0);
	p = mmap(NULL, 4096, PROT_READ, MAP_PRIVATE, fd, 0);
	assert_true(p != MAP_FAILED);
	close(fd);
	assert_query_matches_text(maps, (uint64_t)(uintptr_t)p);
	unlink(path);
	assert_query_matches_text(maps, (uint64_t)(uintptr_t)p);
	munmap(p, 4096);
	close(maps);
}

/* A name longer than the caller's buffer is cut, never overrun. */
static void test_query_name_cut_to_buffer(void **state)
{
	int fd = open_own_maps();
	struct pl_map m;
	char name[8];

	(void)state;
	memset(name, 'x', sizeof(name));
	assert_int_equal(pl_maps_query(fd, (uint64_t)(uintptr_t)test_file_mapping, &m, name, 6), 1);
	assert_true(strlen(name) < 6);
	assert_int_equal(name[7], 'x');
	assert_int_equal(pl_maps_query(-1, 0, &m, name, sizeof(name)), -1);
	close(fd);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_file_mapping),
	    cmocka_unit_test(test_anonymous_without_path),
	    cmocka_unit_test(test_anonymous_with_trailing_spaces),
	    cmocka_unit_test(test_special_names),
	    cmocka_unit_test(test_path_with_spaces),
	    cmocka_unit_test(test_deleted_path),
	    cmocka_unit_test(test_deleted_lookalikes),
	    cmocka_unit_test(test_escaped_newline_kept),
	    cmocka_unit_test(test_largest_values),
	    cmocka_unit_test(test_overflowing_numbers_rejected),
	    cmocka_unit_test(test_malformed_lines_rejected),
	    cmocka_unit_test(test_nul_inside_line_rejected),
	    cmocka_unit_test(test_length_bounds_line),
	    cmocka_unit_test(test_table),
	    cmocka_unit_test(test_find),
	    cmocka_unit_test(test_unsorted_table_sorted),
	    cmocka_unit_test(test_empty_and_garbage_tables),
	    cmocka_unit_test(test_table_owns_text),
	    cmocka_unit_test(test_many_lines),
	    cmocka_unit_test(test_read_self),
	    cmocka_unit_test(test_read_missing_process),
	    cmocka_unit_test(test_query_own_mappings),
	    cmocka_unit_test(test_query_deleted_and_odd_names),
	    cmocka_unit_test(test_query_name_cut_to_buffer),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
