// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * Unit tests for user/symbolize/symbolizer.c, on live processes: this one (a PIE
 * built with -g), children forked from it, and a copy of it run from a
 * file that is then deleted. Run as root, like pageledger: the deleted
 * file is only reachable through /proc/PID/map_files.
 */
#include <dlfcn.h>
#include <fcntl.h>
#include <limits.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <cmocka.h>
#include "symbolize/procmaps.h"
#include "symbolize/symbolizer.h"

#define COUNT(a) (sizeof(a) / sizeof((a)[0]))
#define MAX_FRAMES 8

__attribute__((noinline, used)) int test_function(int x)
{
	return x * 11 + 2;
}

__attribute__((noinline, used)) static int static_test_function(int x)
{
	return x * 13 + 5;
}

/* Volatile pointers keep the compiler from folding the calls away. */
int (*volatile test_function_ptr)(int) = test_function;
int (*volatile static_function_ptr)(int) = static_test_function;

static uint64_t addr_of(const void *p)
{
	return (uint64_t)(uintptr_t)p;
}

static uint64_t ms_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static const char *self_exe(void)
{
	static char exe[PATH_MAX];
	ssize_t len = readlink("/proc/self/exe", exe, sizeof(exe) - 1);

	assert_true(len > 0);
	exe[len] = '\0';
	return exe;
}

/*
 * A function of libc itself: RTLD_DEFAULT could find a sanitizer's
 * interceptor of the same name first.
 */
static void *libc_function(const char *name)
{
	void *libc = dlopen("libc.so.6", RTLD_LAZY | RTLD_NOLOAD);

	assert_non_null(libc);
	return dlsym(libc, name);
}

/* Symbolizes and checks the one frame a C function gives. */
static const struct pl_frame *one_frame(struct pl_symbolizer *s, pid_t pid, uint64_t addr)
{
	static struct pl_frame f[MAX_FRAMES];

	memset(f, 0xa5, sizeof(f));
	assert_int_equal(pl_symbolize(s, pid, addr, f, MAX_FRAMES), 1);
	assert_int_equal(f[0].addr, addr);
	assert_false(f[0].inlined);
	assert_null(f[0].file);
	assert_int_equal(f[0].line, 0);
	return &f[0];
}

static void assert_func(const struct pl_frame *f, const char *func, uint64_t off)
{
	if (!f->func)
		fail_msg("%#llx: expected %s, got nothing", (unsigned long long)f->addr, func);
	assert_string_equal(f->func, func);
	assert_int_equal(f->func_off, off);
}

/* ---- children ------------------------------------------------------- */

/* A forked copy of this process that waits to be killed. */
static pid_t fork_sleeper(void)
{
	int ready[2];
	pid_t pid;
	char c;

	assert_int_equal(pipe(ready), 0);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		close(ready[0]);
		(void)!write(ready[1], "x", 1);
		for (;;)
			pause();
	}
	close(ready[1]);
	assert_int_equal(read(ready[0], &c, 1), 1);
	close(ready[0]);
	return pid;
}

static void kill_and_reap(pid_t pid)
{
	kill(pid, SIGKILL);
	assert_int_equal(waitpid(pid, NULL, 0), pid);
}

/*
 * Child mode of this binary, run from a copy: reports where test_function
 * is in its own address space, then waits to be killed.
 */
static int report_marker_and_wait(int fd)
{
	uint64_t addr = addr_of((const void *)test_function_ptr);

	if (write(fd, &addr, sizeof(addr)) != sizeof(addr))
		return 1;
	close(fd);
	for (;;)
		pause();
}

/* ---- this process ----------------------------------------------------- */

static void test_own_functions(void **state)
{
	struct pl_symbolizer *s = pl_symbolizer_new();
	uint64_t global = addr_of((const void *)test_function_ptr);
	uint64_t local = addr_of((const void *)static_function_ptr);
	const struct pl_frame *f;

	(void)state;
	assert_non_null(s);
	assert_int_equal(pl_symbolizer_add_process(s, getpid()), 0);
	f = one_frame(s, getpid(), global);
	assert_func(f, "test_function", 0);
	assert_string_equal(f->module, self_exe());
	f = one_frame(s, getpid(), global + 3);
	assert_func(f, "test_function", 3);
	f = one_frame(s, getpid(), local);
	assert_func(f, "static_test_function", 0);
	f = one_frame(s, getpid(), local + 1);
	assert_func(f, "static_test_function", 1);
	pl_symbolizer_free(s);
}

static void test_libc_function(void **state)
{
	struct pl_symbolizer *s = pl_symbolizer_new();
	void *fn = libc_function("malloc");
	char want[PATH_MAX], got[PATH_MAX];
	const struct pl_frame *f;
	Dl_info info;

	(void)state;
	assert_non_null(fn);
	assert_true(dladdr(fn, &info) != 0);
	assert_int_equal(pl_symbolizer_add_process(s, getpid()), 0);
	f = one_frame(s, getpid(), addr_of(fn) + 5);
	assert_non_null(f->func);
	/* Either alias is right as long as it is the function dladdr sees. */
	assert_ptr_equal(libc_function(f->func), info.dli_saddr);
	assert_int_equal(f->func_off, 5);
	assert_non_null(realpath(info.dli_fname, want));
	assert_non_null(realpath(f->module, got));
	assert_string_equal(got, want);
	pl_symbolizer_free(s);
}

static void test_many_libc_addresses(void **state)
{
	struct pl_symbolizer *s = pl_symbolizer_new();
	uint64_t base = addr_of(libc_function("malloc"));
	const char *module = NULL;
	int named = 0;

	(void)state;
	assert_int_equal(pl_symbolizer_add_process(s, getpid()), 0);
	for (uint64_t a = base - 0x40000; a < base + 0x40000; a += 0x100) {
		struct pl_frame f[MAX_FRAMES];

		assert_int_equal(pl_symbolize(s, getpid(), a, f, MAX_FRAMES), 1);
		assert_non_null(f[0].module);
		if (!module)
			module = f[0].module;
		assert_ptr_equal(f[0].module, module); /* one interned string */
		named += f[0].func != NULL;
	}
	assert_true(named > 100);
	pl_symbolizer_free(s);
}

static void test_anonymous_memory(void **state)
{
	struct pl_symbolizer *s = pl_symbolizer_new();
	void *anon = mmap(NULL, 8192, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	const struct pl_frame *f;

	(void)state;
	assert_true(anon != MAP_FAILED);
	assert_int_equal(pl_symbolizer_add_process(s, getpid()), 0);
	f = one_frame(s, getpid(), addr_of(anon) + 100);
	assert_null(f->func);
	assert_null(f->module);
	assert_int_equal(f->func_off, 0);
	munmap(anon, 8192);
	pl_symbolizer_free(s);
}

/*
 * A heap split into many mappings (here 2,000, by mprotect) costs the
 * table one entry, and reads as before: no module, not code. A page made
 * executable in its middle stays a mapping of its own.
 */
static void test_split_anonymous_memory_is_one_entry(void **state)
{
	const size_t pages = 2000, page = (size_t)sysconf(_SC_PAGESIZE);
	struct pl_symbolizer *s = pl_symbolizer_new(), *before = pl_symbolizer_new();
	char *anon =
	    mmap(NULL, pages * page, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	const struct pl_frame *f;
	size_t base;

	(void)state;
	assert_true(anon != MAP_FAILED);
	assert_int_equal(pl_symbolizer_add_process(before, getpid()), 0);
	base = pl_symbolizer_mappings(before);
	for (size_t i = 1; i < pages; i += 2)
		assert_int_equal(mprotect(anon + i * page, page, PROT_READ), 0);
	assert_int_equal(mprotect(anon + 1000 * page, page, PROT_READ | PROT_EXEC), 0);
	assert_int_equal(pl_symbolizer_add_process(s, getpid()), 0);
	/*
	 * The region was one entry (or joined a neighbour); now it is three:
	 * before, code, after. A little room for mappings malloc made since:
	 * without the joining it would be 2,000 more.
	 */
	assert_true(pl_symbolizer_mappings(s) <= base + 8);
	f = one_frame(s, getpid(), addr_of(anon + 10 * page + 8));
	assert_null(f->module);
	assert_false(f->code);
	f = one_frame(s, getpid(), addr_of(anon + 1999 * page + 8));
	assert_null(f->module);
	assert_false(f->code);
	f = one_frame(s, getpid(), addr_of(anon + 1000 * page + 8));
	assert_true(f->code);
	munmap(anon, pages * page);
	pl_symbolizer_free(before);
	pl_symbolizer_free(s);
}

/*
 * A file mapped over the start of a split anonymous region, learned alone
 * (PROCMAP_QUERY): the rest of the region's one entry stays, so an address
 * further in is still known and costs no whole re-read of the maps.
 */
static void test_mapping_over_joined_anonymous_memory_keeps_the_rest(void **state)
{
	const size_t pages = 80, page = (size_t)sysconf(_SC_PAGESIZE);
	struct pl_symbolizer *s = pl_symbolizer_new();
	char *anon =
	    mmap(NULL, pages * page, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	struct timespec past_limit = {0, 150 * 1000 * 1000}; /* re-reads wait 100 ms */
	const struct pl_frame *f;
	size_t reads;
	int fd = open("/proc/self/exe", O_RDONLY);

	(void)state;
	assert_true(anon != MAP_FAILED && fd >= 0);
	for (size_t i = 9; i < pages; i += 2)
		assert_int_equal(mprotect(anon + i * page, page, PROT_READ), 0);
	assert_int_equal(pl_symbolizer_add_process(s, getpid()), 0);
	assert_true(mmap(anon, 4 * page, PROT_READ | PROT_EXEC, MAP_PRIVATE | MAP_FIXED, fd, 0) !=
		    MAP_FAILED);
	assert_int_equal(
	    pl_symbolizer_add_range(s, getpid(), addr_of(anon), addr_of(anon + 4 * page)), 0);
	nanosleep(&past_limit, NULL); /* so that a miss now would re-read */
	reads = pl_symbolizer_snapshots(s);
	f = one_frame(s, getpid(), addr_of(anon + 40 * page + 8));
	assert_null(f->module);
	assert_false(f->code);
	assert_int_equal(pl_symbolizer_snapshots(s), reads);
	f = one_frame(s, getpid(), addr_of(anon + 8));
	assert_true(f->code);
	assert_non_null(f->module);
	close(fd);
	munmap(anon, pages * page);
	pl_symbolizer_free(s);
}

/* Special mappings name themselves but have no functions. */
static void test_stack_is_special(void **state)
{
	struct pl_symbolizer *s = pl_symbolizer_new();
	const struct pl_map *m;
	const struct pl_frame *f;
	struct pl_maps maps;
	int on_stack = 0;

	(void)state;
	assert_int_equal(pl_symbolizer_add_process(s, getpid()), 0);
	f = one_frame(s, getpid(), addr_of(&on_stack));
	assert_null(f->func);
	assert_int_equal(pl_maps_read(getpid(), &maps), 0);
	m = pl_maps_find(&maps, addr_of(&on_stack));
	assert_non_null(m);
	/* "[stack]", except under valgrind: there it is anonymous memory. */
	if (m->path)
		assert_string_equal(f->module, "[stack]");
	else
		assert_null(f->module);
	pl_maps_free(&maps);
	pl_symbolizer_free(s);
}

static void test_vdso(void **state)
{
	void *vdso = dlopen("linux-vdso.so.1", RTLD_LAZY | RTLD_NOLOAD);
	void *fn = vdso ? dlsym(vdso, "__vdso_clock_gettime") : NULL;
	struct pl_symbolizer *s;
	const struct pl_frame *f;

	(void)state;
	if (!fn) {
		print_message("this process has no vDSO (vdso=0 on the kernel command line?)\n");
		skip();
	}
	s = pl_symbolizer_new();
	assert_int_equal(pl_symbolizer_add_process(s, getpid()), 0);
	f = one_frame(s, getpid(), addr_of(fn) + 2);
	assert_string_equal(f->module, "[vdso]");
	assert_func(f, "__vdso_clock_gettime", 2);
	pl_symbolizer_free(s);
}

/* ---- the interface's edges ------------------------------------------- */

static void test_no_room_and_no_symbolizer(void **state)
{
	struct pl_symbolizer *s = pl_symbolizer_new();
	struct pl_frame f[2];

	(void)state;
	assert_int_equal(pl_symbolize(s, getpid(), addr_of((const void *)test_function_ptr), f, 0),
			 0);
	assert_int_equal(pl_symbolize(s, getpid(), 0x1000, NULL, 4), 0);
	assert_int_equal(pl_symbolize(NULL, getpid(), 0x1234, f, 2), 1);
	assert_int_equal(f[0].addr, 0x1234);
	assert_null(f[0].func);
	assert_null(f[0].module);
	assert_int_equal(pl_symbolizer_add_process(NULL, getpid()), -1);
	pl_symbolizer_free(s);
	pl_symbolizer_free(NULL);
}

static void test_unknown_process(void **state)
{
	struct pl_symbolizer *s = pl_symbolizer_new();
	const pid_t nobody = 0x7ffffff0; /* above PID_MAX_LIMIT */
	const struct pl_frame *f;

	(void)state;
	assert_int_equal(pl_symbolizer_add_process(s, nobody), -1);
	f = one_frame(s, nobody, 0x401000);
	assert_null(f->func);
	assert_null(f->module);
	f = one_frame(s, nobody, 0x401000); /* rate-limited: no new read */
	assert_null(f->module);
	pl_symbolizer_free(s);
}

/* A process never added is read on its first address. */
static void test_process_added_lazily(void **state)
{
	struct pl_symbolizer *s = pl_symbolizer_new();
	const struct pl_frame *f;

	(void)state;
	f = one_frame(s, getpid(), addr_of((const void *)test_function_ptr));
	assert_func(f, "test_function", 0);
	pl_symbolizer_free(s);
}

/* Module names are interned: frames stay valid across re-snapshots. */
static void test_strings_outlive_snapshots(void **state)
{
	struct pl_symbolizer *s = pl_symbolizer_new();
	struct pl_frame f;

	(void)state;
	assert_int_equal(pl_symbolizer_add_process(s, getpid()), 0);
	assert_int_equal(pl_symbolize(s, getpid(), addr_of((const void *)test_function_ptr), &f, 1),
			 1);
	for (int i = 0; i < 5; i++)
		assert_int_equal(pl_symbolizer_add_process(s, getpid()), 0);
	assert_string_equal(f.module, self_exe());
	assert_string_equal(f.func, "test_function");
	pl_symbolizer_free(s);
}

/* ---- other processes ------------------------------------------------- */

/* Two processes mapping one binary share its module (and its strings). */
static void test_module_shared_between_processes(void **state)
{
	struct pl_symbolizer *s = pl_symbolizer_new();
	uint64_t addr = addr_of((const void *)test_function_ptr);
	struct pl_frame a, b;
	pid_t child = fork_sleeper();

	(void)state;
	assert_int_equal(pl_symbolizer_add_process(s, getpid()), 0);
	assert_int_equal(pl_symbolizer_add_process(s, child), 0);
	assert_int_equal(pl_symbolize(s, getpid(), addr, &a, 1), 1);
	assert_int_equal(pl_symbolize(s, child, addr, &b, 1), 1);
	assert_non_null(a.func);
	assert_ptr_equal(a.func, b.func);
	kill_and_reap(child);
	pl_symbolizer_free(s);
}

/* Mappings remembered at add time still resolve once the process is gone. */
static void test_exited_process(void **state)
{
	struct pl_symbolizer *s = pl_symbolizer_new();
	uint64_t addr = addr_of((const void *)test_function_ptr);
	uint64_t libc = addr_of(libc_function("malloc"));
	pid_t child = fork_sleeper();
	const struct pl_frame *f;

	(void)state;
	assert_int_equal(pl_symbolizer_add_process(s, child), 0);
	kill_and_reap(child);
	f = one_frame(s, child, addr + 4);
	assert_func(f, "test_function", 4);
	assert_string_equal(f->module, self_exe());
	f = one_frame(s, child, libc);
	assert_non_null(f->func);
	pl_symbolizer_free(s);
}

/* Copies this binary to dir and runs it in child mode; returns its pid. */
static pid_t run_copy(const char *copy, uint64_t *marker)
{
	int report[2];
	char fdarg[16];
	pid_t pid;

	assert_int_equal(pipe(report), 0);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		close(report[0]);
		snprintf(fdarg, sizeof(fdarg), "%d", report[1]);
		execl(copy, copy, "--report-marker", fdarg, (char *)NULL);
		_exit(127);
	}
	close(report[1]);
	if (read(report[0], marker, sizeof(*marker)) != sizeof(*marker)) {
		close(report[0]);
		waitpid(pid, NULL, 0);
		return -1;
	}
	close(report[0]);
	return pid;
}

static int copy_file(const char *from, const char *to)
{
	char buf[65536];
	int in = open(from, O_RDONLY | O_CLOEXEC);
	int out = open(to, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0755);
	ssize_t n = 0;

	while (in >= 0 && out >= 0 && (n = read(in, buf, sizeof(buf))) > 0)
		if (write(out, buf, (size_t)n) != n)
			n = -1;
	if (in >= 0)
		close(in);
	if (out >= 0)
		close(out);
	return in >= 0 && out >= 0 && n == 0 ? 0 : -1;
}

/*
 * The binary is deleted while it runs: only map_files still reaches it,
 * and add_process reads it then, so it resolves even after the exit.
 */
static void test_deleted_binary(void **state)
{
	/* Under build/, not /tmp: a noexec /tmp would make this a skip. */
	char dir[PATH_MAX], copy[PATH_MAX + 16], name[PATH_MAX + 32];
	struct pl_symbolizer *s = pl_symbolizer_new();
	const struct pl_frame *f;
	uint64_t marker;
	pid_t child;

	(void)state;
	if (geteuid() != 0) {
		print_message("not root: /proc/PID/map_files needs CAP_SYS_ADMIN\n");
		skip();
	}
	assert_non_null(getcwd(dir, sizeof(dir) - 32));
	strcat(dir, "/build/pl-symbolizer-XXXXXX");
	assert_non_null(mkdtemp(dir));
	snprintf(copy, sizeof(copy), "%s/copy of test", dir);
	assert_int_equal(copy_file(self_exe(), copy), 0);
	child = run_copy(copy, &marker);
	unlink(copy);
	rmdir(dir);
	if (child < 0) {
		print_message("cannot run a copy from %s (mounted noexec?)\n", dir);
		skip();
	}
	assert_int_equal(pl_symbolizer_add_process(s, child), 0);
	f = one_frame(s, child, marker + 2);
	assert_func(f, "test_function", 2);
	snprintf(name, sizeof(name), "%s (deleted)", copy);
	assert_string_equal(f->module, name);
	kill_and_reap(child);
	f = one_frame(s, child, marker);
	assert_func(f, "test_function", 0);
	pl_symbolizer_free(s);
}

/* ---- re-reading maps --------------------------------------------------- */

/* Maps the page of this binary holding test_function again, at where (or anywhere if NULL). */
static void *map_function_at(void *where, uint64_t *alias)
{
	uint64_t fn = addr_of((const void *)test_function_ptr), page = fn & ~0xfffull;
	const struct pl_map *m;
	struct pl_maps maps;
	void *p;
	int fd;

	assert_int_equal(pl_maps_read(getpid(), &maps), 0);
	m = pl_maps_find(&maps, fn);
	assert_non_null(m);
	fd = open(m->path, O_RDONLY | O_CLOEXEC);
	assert_true(fd >= 0);
	p = mmap(where, 4096, PROT_READ | PROT_EXEC, MAP_PRIVATE | (where ? MAP_FIXED : 0), fd,
		 (off_t)(m->offset + page - m->start));
	assert_true(p != MAP_FAILED);
	close(fd);
	pl_maps_free(&maps);
	*alias = addr_of(p) + (fn & 0xfff);
	return p;
}

static void *map_function_again(uint64_t *alias)
{
	return map_function_at(NULL, alias);
}

/* A mapping made after add_process is found by a (rate-limited) re-read. */
static void test_new_mapping_found_by_reread(void **state)
{
	struct pl_symbolizer *s = pl_symbolizer_new();
	const struct pl_frame *f;
	uint64_t alias, added;
	void *page;

	(void)state;
	added = ms_now();
	assert_int_equal(pl_symbolizer_add_process(s, getpid()), 0);
	page = map_function_again(&alias);
	f = one_frame(s, getpid(), alias);
	/* Within 100 ms of the last read, no re-read: not found yet. */
	if (ms_now() - added < 90)
		assert_null(f->module);
	usleep(120 * 1000);
	f = one_frame(s, getpid(), alias);
	assert_func(f, "test_function", 0);
	munmap(page, 4096);
	pl_symbolizer_free(s);
}

/* A file unmapped since it was seen keeps resolving (events came before). */
static void test_unmapped_file_remembered(void **state)
{
	struct pl_symbolizer *s = pl_symbolizer_new();
	const struct pl_frame *f;
	uint64_t alias;
	void *page = map_function_again(&alias);

	(void)state;
	assert_int_equal(pl_symbolizer_add_process(s, getpid()), 0);
	munmap(page, 4096);
	usleep(120 * 1000);
	f = one_frame(s, getpid(), 0x1000); /* unknown: triggers a re-read */
	assert_null(f->module);
	f = one_frame(s, getpid(), alias + 1);
	assert_func(f, "test_function", 1);
	pl_symbolizer_free(s);
}

/*
 * Memory is bounded: past 4096 processes the least recently used one is
 * forgotten, so an exited process's mappings go with it.
 */
static void test_least_recently_used_forgotten(void **state)
{
	struct pl_symbolizer *s = pl_symbolizer_new();
	uint64_t addr = addr_of((const void *)test_function_ptr);
	pid_t child = fork_sleeper();
	const struct pl_frame *f;

	(void)state;
	assert_int_equal(pl_symbolizer_add_process(s, child), 0);
	assert_int_equal(pl_symbolizer_add_process(s, getpid()), 0);
	kill_and_reap(child);
	for (pid_t fake = 0x7ff00000; fake < 0x7ff00000 + 4095; fake++)
		one_frame(s, fake, addr);
	f = one_frame(s, getpid(), addr); /* still known: used recently */
	assert_func(f, "test_function", 0);
	one_frame(s, 0x7ff00000 + 4095, addr); /* one more: child goes */
	f = one_frame(s, child, addr);
	assert_null(f->module);
	pl_symbolizer_free(s);
}

/*
 * A new code mapping is learned alone, at once (no re-read, no 100 ms
 * wait), with the mappings of the same file right beside it (a library's
 * other segments), and nothing else.
 */
static void test_new_mapping_learned_alone(void **state)
{
	struct pl_symbolizer *s = pl_symbolizer_new();
	const struct pl_frame *f;
	uint64_t alias, other_alias, beside_alias, added;
	void *page, *other;

	(void)state;
	added = ms_now();
	assert_int_equal(pl_symbolizer_add_process(s, getpid()), 0);
	/* Side by side, low to high: other, an anonymous spacer, page, beside. */
	other = mmap(NULL, 4 * 4096, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	assert_true(other != MAP_FAILED);
	map_function_at(other, &other_alias);
	page = map_function_at((char *)other + 2 * 4096, &alias);
	map_function_at((char *)other + 3 * 4096, &beside_alias);
	assert_int_equal(pl_symbolizer_add_range(s, getpid(), addr_of(page), addr_of(page) + 4096),
			 0);
	f = one_frame(s, getpid(), alias);
	assert_func(f, "test_function", 0);
	f = one_frame(s, getpid(), beside_alias); /* the same file, right beside it */
	assert_func(f, "test_function", 0);
	/* Past a mapping of something else, nothing was looked at. */
	f = one_frame(s, getpid(), other_alias);
	if (ms_now() - added < 90)
		assert_null(f->module);
	munmap(other, 4 * 4096);
	assert_int_equal(pl_symbolizer_add_range(s, getpid(), 4096, 4096), -1);
	assert_int_equal(pl_symbolizer_add_range(NULL, getpid(), 4096, 8192), -1);
	pl_symbolizer_free(s);
}

int main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_own_functions),
	    cmocka_unit_test(test_libc_function),
	    cmocka_unit_test(test_many_libc_addresses),
	    cmocka_unit_test(test_anonymous_memory),
	    cmocka_unit_test(test_split_anonymous_memory_is_one_entry),
	    cmocka_unit_test(test_mapping_over_joined_anonymous_memory_keeps_the_rest),
	    cmocka_unit_test(test_stack_is_special),
	    cmocka_unit_test(test_vdso),
	    cmocka_unit_test(test_no_room_and_no_symbolizer),
	    cmocka_unit_test(test_unknown_process),
	    cmocka_unit_test(test_process_added_lazily),
	    cmocka_unit_test(test_strings_outlive_snapshots),
	    cmocka_unit_test(test_module_shared_between_processes),
	    cmocka_unit_test(test_exited_process),
	    cmocka_unit_test(test_deleted_binary),
	    cmocka_unit_test(test_new_mapping_found_by_reread),
	    cmocka_unit_test(test_unmapped_file_remembered),
	    cmocka_unit_test(test_least_recently_used_forgotten),
	    cmocka_unit_test(test_new_mapping_learned_alone),
	};

	if (argc == 3 && !strcmp(argv[1], "--report-marker"))
		return report_marker_and_wait(atoi(argv[2]));
	return cmocka_run_group_tests(tests, NULL, NULL);
}
