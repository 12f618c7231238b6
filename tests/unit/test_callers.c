// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* Caller classes from symbolized frames: pure rules, exact answers. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>
#include "symbolize/callers.h"

#define MAXF 16

/* Frames from names, innermost first; "mod:func" sets the module too. */
static int frames_of(struct pl_frame *f, const char *const *names)
{
	static char mods[MAXF][64];
	int n = 0;

	memset(f, 0, sizeof(*f) * MAXF);
	for (; names[n] && n < MAXF; n++) {
		const char *colon = strchr(names[n], ':');

		if (colon) {
			snprintf(mods[n], sizeof(mods[n]), "%.*s", (int)(colon - names[n]),
				 names[n]);
			f[n].module = mods[n];
			f[n].func = colon[1] ? colon + 1 : NULL;
		} else {
			f[n].func = names[n];
			f[n].module = "/usr/bin/app";
		}
	}
	return n;
}

static enum pl_caller_class classify(const char *const *names, bool release)
{
	struct pl_frame f[MAXF];
	int n = frames_of(f, names);

	return pl_classify_caller(f, n, release);
}

/* The stacks pageledger captured from Go 1.19 (see tests/workloads/go/scavenge). */
static void test_go_background_scavenger(void **state)
{
	const char *const s[] = {"runtime.madvise",
				 "runtime.sysUnused",
				 "runtime.(*pageAlloc).scavengeOne",
				 "runtime.(*pageAlloc).scavenge.func1",
				 "runtime.systemstack",
				 "runtime.(*scavengerState).init.func2",
				 "runtime.(*scavengerState).run",
				 "runtime.bgscavenge",
				 "runtime.goexit",
				 NULL};
	(void)state;
	assert_int_equal(classify(s, true), PL_CALLER_GO_SCAV_BACKGROUND);
	assert_string_equal(pl_caller_class_name(PL_CALLER_GO_SCAV_BACKGROUND),
			    "go-scavenger-background");
}

static void test_go_free_os_memory(void **state)
{
	const char *const s[] = {"runtime.madvise",
				 "runtime.sysUnused",
				 "runtime.(*pageAlloc).scavengeOne",
				 "runtime.(*pageAlloc).scavenge.func1",
				 "runtime.(*pageAlloc).scavenge",
				 "runtime.(*mheap).scavengeAll",
				 "runtime.runtime_debug_freeOSMemory.func1",
				 "runtime.systemstack",
				 "main.main",
				 NULL};
	(void)state;
	assert_int_equal(classify(s, true), PL_CALLER_GO_SCAV_FORCED);
}

static void test_go_eager_and_growth(void **state)
{
	const char *const eager[] = {"runtime.madvise",
				     "runtime.sysUnused",
				     "runtime.(*pageAlloc).scavenge",
				     "runtime.(*mheap).allocSpan",
				     "runtime.mallocgc",
				     NULL};
	const char *const grow[] = {"runtime.mmap",	     "runtime.sysMap",
				    "runtime.(*mheap).grow", "runtime.(*mheap).allocSpan",
				    "runtime.mallocgc",	     NULL};
	const char *const other[] = {"runtime.madvise", "runtime.sysHugePage", "runtime.main",
				     NULL};
	(void)state;
	assert_int_equal(classify(eager, true), PL_CALLER_GO_SCAV_EAGER);
	assert_int_equal(classify(grow, false), PL_CALLER_GO_HEAP_GROW);
	assert_int_equal(classify(other, false), PL_CALLER_GO_RUNTIME);
}

static void test_glibc(void **state)
{
	const char *const trim[] = {"/lib/libc.so.6:__madvise", "/lib/libc.so.6:malloc_trim",
				    "/usr/bin/app:main", NULL};
	/* Debian's libc keeps no static symbols: free's internals are unknown frames. */
	const char *const freed[] = {"/lib/libc.so.6:__munmap", "/lib/libc.so.6:", NULL};
	const char *const freed_named[] = {"/lib/libc.so.6:__munmap", "/lib/libc.so.6:free",
					   "/usr/bin/app:main", NULL};
	const char *const malloced[] = {"/lib/libc.so.6:__mmap", "/lib/libc.so.6:", NULL};
	const char *const systrim[] = {"/lib/libc.so.6:brk", "/lib/libc.so.6:__sbrk", NULL};
	(void)state;
	assert_int_equal(classify(trim, true), PL_CALLER_GLIBC_TRIM);
	assert_int_equal(classify(freed, true), PL_CALLER_GLIBC_FREE);
	assert_int_equal(classify(freed_named, true), PL_CALLER_GLIBC_FREE);
	assert_int_equal(classify(malloced, false), PL_CALLER_GLIBC_MALLOC);
	assert_int_equal(classify(systrim, true), PL_CALLER_GLIBC_TRIM);
	assert_int_equal(classify(systrim, false), PL_CALLER_UNKNOWN);
}

/* The stacks Debian's python3.11 gives its obmalloc arenas (tests/e2e/test_callers.py). */
static void test_python_arenas(void **state)
{
	const char *const arena_map[] = {"/lib/libc.so.6:__mmap",
					 "/usr/bin/python3.11:_PyObject_ArenaMmap", NULL};
	const char *const arena_unmap[] = {"/lib/libc.so.6:__munmap",
					   "/usr/bin/python3.11:_PyObject_Free",
					   "/usr/bin/python3.11:", NULL};
	const char *const shared[] = {"/lib/libc.so.6:__munmap",
				      "/usr/lib/libpython3.11.so.1.0:_PyObject_Free", NULL};
	/* A large object's free goes through glibc's free: glibc's, not an arena. */
	const char *const big_object[] = {"/lib/libc.so.6:__munmap", "/lib/libc.so.6:free",
					  "/usr/bin/python3.11:_PyObject_Free", NULL};
	/* Past glibc's mremap, which keeps a frame, the walk is not the arena's. */
	const char *const remapped[] = {"/lib/libc.so.6:mremap", "/usr/bin/python3.11:", NULL};
	/* The same name in another program is that program's. */
	const char *const not_python[] = {"/lib/libc.so.6:__munmap", "/usr/bin/app:_PyObject_Free",
					  NULL};
	(void)state;
	assert_int_equal(classify(arena_map, false), PL_CALLER_PYTHON_ARENA);
	assert_int_equal(classify(arena_unmap, true), PL_CALLER_PYTHON_ARENA);
	assert_int_equal(classify(shared, true), PL_CALLER_PYTHON_ARENA);
	assert_int_equal(classify(big_object, true), PL_CALLER_GLIBC_FREE);
	assert_int_equal(classify(not_python, true), PL_CALLER_APP);
	assert_int_equal(classify(remapped, true), PL_CALLER_UNKNOWN);
	assert_string_equal(pl_caller_class_name(PL_CALLER_PYTHON_ARENA), "python-arena");
}

static void test_jemalloc_and_tcmalloc_by_module(void **state)
{
	const char *const je[] = {"/lib/libc.so.6:__madvise",
				  "/usr/lib/x86_64-linux-gnu/libjemalloc.so.2:", NULL};
	const char *const je_named[] = {"/lib/libc.so.6:__madvise", "/x/app:je_pages_purge_forced",
					NULL};
	const char *const tc[] = {"/lib/libc.so.6:__madvise", "/lib/libtcmalloc.so.4:", NULL};
	(void)state;
	assert_int_equal(classify(je, true), PL_CALLER_JEMALLOC_PURGE);
	assert_int_equal(classify(je, false), PL_CALLER_JEMALLOC);
	assert_int_equal(classify(je_named, true), PL_CALLER_JEMALLOC_PURGE);
	assert_int_equal(classify(tc, true), PL_CALLER_TCMALLOC_RELEASE);
	assert_string_equal(pl_caller_class_name(PL_CALLER_TCMALLOC_RELEASE), "tcmalloc-release");
}

static void test_app_loader_and_unknown(void **state)
{
	const char *const app[] = {"/lib/libc.so.6:__madvise", "/usr/bin/app:release_buffers",
				   NULL};
	const char *const loader[] = {"/lib64/ld-linux-x86-64.so.2:", NULL};
	const char *const nothing[] = {"[anon]:", NULL};
	struct pl_frame f[MAXF];
	(void)state;
	assert_int_equal(classify(app, true), PL_CALLER_APP);
	assert_int_equal(classify(loader, false), PL_CALLER_LOADER);
	assert_int_equal(classify(nothing, true), PL_CALLER_UNKNOWN);
	assert_int_equal(pl_classify_caller(f, 0, true), PL_CALLER_UNKNOWN);
	assert_int_equal(pl_classify_caller(NULL, 3, true), PL_CALLER_UNKNOWN);
	assert_string_equal(pl_caller_class_name(PL_CALLER_NR), "unknown");
	assert_string_equal(pl_caller_class_name((enum pl_caller_class) - 1), "unknown");
}

static void test_call_site_skips_plumbing(void **state)
{
	const char *const go[] = {"runtime.madvise", "runtime.sysUnusedOS", "runtime.sysUnused",
				  "runtime.(*pageAlloc).scavengeOne", NULL};
	const char *const c[] = {"/lib/libc.so.6:", "/usr/bin/app:main", NULL};
	const char *const direct[] = {"/usr/bin/app:inline_syscall", NULL};
	const char *const stub_only[] = {"/lib/libc.so.6:__madvise", NULL};
	struct pl_frame f[MAXF];
	int n;
	(void)state;
	n = frames_of(f, go);
	assert_int_equal(pl_call_site(f, n), 3);
	n = frames_of(f, c);
	assert_int_equal(pl_call_site(f, n), 1);
	n = frames_of(f, direct);
	assert_int_equal(pl_call_site(f, n), 0);
	n = frames_of(f, stub_only);
	assert_int_equal(pl_call_site(f, n), -1);
	assert_int_equal(pl_call_site(f, 0), -1);
}

static int site_of(const char *const *names, struct pl_frame *f)
{
	return pl_call_site(f, frames_of(f, names));
}

/*
 * Debian's prometheus 2.42 (cgo-linked, stripped), opening a TSDB block:
 * the frames pageledger captured. runtime.goexit at the bottom says nothing
 * about who asked; the x/sys/unix and syscall wrappers only pass it on.
 */
static void test_prometheus_tsdb_mmap_is_app(void **state)
{
	const char *const s[] = {
	    "runtime/internal/syscall.Syscall6",
	    "syscall.RawSyscall6",
	    "syscall.Syscall6",
	    "syscall.Syscall6",
	    "golang.org/x/sys/unix.mmap",
	    "golang.org/x/sys/unix.(*mmapper).Mmap",
	    "golang.org/x/sys/unix.Mmap",
	    "github.com/prometheus/prometheus/tsdb/fileutil.mmap",
	    "github.com/prometheus/prometheus/tsdb/fileutil.OpenMmapFileWithSize",
	    "github.com/prometheus/prometheus/tsdb/fileutil.OpenMmapFile",
	    "github.com/prometheus/prometheus/tsdb/chunks.NewDirReader",
	    "github.com/prometheus/prometheus/tsdb.OpenBlock",
	    "main.openDBWithMetrics",
	    "github.com/oklog/run.(*Group).Run.func1",
	    "runtime.goexit",
	    NULL};
	const char *const unmap[] = {
	    "runtime/internal/syscall.Syscall6",
	    "syscall.RawSyscall6",
	    "syscall.Syscall",
	    "golang.org/x/sys/unix.munmap",
	    "golang.org/x/sys/unix.(*mmapper).Munmap",
	    "golang.org/x/sys/unix.Munmap",
	    "github.com/prometheus/prometheus/tsdb/fileutil.munmap",
	    "github.com/prometheus/prometheus/tsdb/fileutil.(*MmapFile).Close",
	    "runtime.goexit",
	    NULL};
	struct pl_frame f[MAXF];
	(void)state;
	assert_int_equal(classify(s, false), PL_CALLER_APP);
	assert_string_equal(f[site_of(s, f)].func,
			    "github.com/prometheus/prometheus/tsdb/fileutil.mmap");
	assert_int_equal(classify(unmap, true), PL_CALLER_APP);
	assert_string_equal(f[site_of(unmap, f)].func,
			    "github.com/prometheus/prometheus/tsdb/fileutil.munmap");
}

/* The std library's wrappers, called from a named function (tests/workloads/go/callers). */
static void test_go_syscall_wrappers_name_the_app(void **state)
{
	const char *const s[] = {"runtime/internal/syscall.Syscall6",
				 "syscall.RawSyscall6",
				 "syscall.Syscall",
				 "syscall.munmap",
				 "syscall.(*mmapper).Munmap",
				 "syscall.Munmap",
				 "main.mapRegion",
				 "main.main.func2",
				 "main.onThreads.func1",
				 "runtime.goexit",
				 NULL};
	const char *const vendored[] = {"vendor/golang.org/x/sys/unix.Madvise",
					"internal/runtime/syscall.Syscall6", "main.release", NULL};
	const char *const abi0[] = {"runtime/internal/syscall.Syscall6.abi0", "main.direct", NULL};
	struct pl_frame f[MAXF];
	(void)state;
	assert_int_equal(classify(s, true), PL_CALLER_APP);
	assert_string_equal(f[site_of(s, f)].func, "main.mapRegion");
	assert_int_equal(classify(vendored, true), PL_CALLER_APP);
	assert_int_equal(site_of(vendored, f), 2);
	assert_int_equal(site_of(abi0, f), 1);
}

/* An app function with the runtime below it (main.main under runtime.main) is the app. */
static void test_runtime_below_the_app_is_not_runtime(void **state)
{
	const char *const under_main[] = {"runtime/internal/syscall.Syscall6",
					  "syscall.Mmap",
					  "main.main",
					  "runtime.main",
					  "runtime.goexit",
					  NULL};
	const char *const only_goexit[] = {"runtime.madvise", "[anon]:", "runtime.goexit", NULL};
	(void)state;
	assert_int_equal(classify(under_main, false), PL_CALLER_APP);
	/* An unnamed frame between: who asked is not known, and not claimed. */
	assert_int_equal(classify(only_goexit, true), PL_CALLER_UNKNOWN);
}

/*
 * cgo-linked binaries (Debian's prometheus, the callers workload built with
 * cgo): the runtime's mmap goes through libc's mmap from x_cgo_mmap. The
 * site is the Go caller, not the shim.
 */
static void test_cgo_shims_name_the_go_caller(void **state)
{
	const char *const grow[] = {"/lib/x86_64-linux-gnu/libc.so.6:__mmap",
				    "x_cgo_mmap",
				    "runtime.mmap.func1",
				    "runtime.mmap",
				    "runtime.sysMapOS",
				    "runtime.sysMap",
				    "runtime.(*mheap).grow",
				    "runtime.(*mheap).allocSpan",
				    "runtime.(*mheap).alloc.func1",
				    "runtime.systemstack",
				    "runtime.(*mcache).allocLarge",
				    "runtime.mallocgc",
				    "main.allocate",
				    NULL};
	const char *const persistent[] = {"/lib/x86_64-linux-gnu/libc.so.6:__mmap",
					  "x_cgo_mmap",
					  "runtime.mmap.func1",
					  "runtime.mmap",
					  "runtime.sysAllocOS",
					  "runtime.sysAlloc",
					  "runtime.persistentalloc1",
					  "runtime.persistentalloc.func1",
					  "runtime.persistentalloc",
					  NULL};
	const char *const heap_alloc[] = {"/lib/x86_64-linux-gnu/libc.so.6:__mmap",
					  "x_cgo_mmap",
					  "runtime.mmap.func1",
					  "runtime.mmap",
					  "runtime.sysAllocOS",
					  "runtime.sysAlloc",
					  "runtime.(*mheap).sysAlloc",
					  "runtime.(*mheap).grow",
					  NULL};
	const char *const unmap[] = {"/lib/x86_64-linux-gnu/libc.so.6:__munmap",
				     "x_cgo_munmap",
				     "runtime.munmap.func1",
				     "runtime.systemstack",
				     "runtime.munmap",
				     "runtime.sysFreeOS",
				     "runtime.sysFree",
				     "runtime.(*gcBits).free",
				     NULL};
	const char *const shim_only[] = {"/lib/x86_64-linux-gnu/libc.so.6:__mmap", "x_cgo_mmap",
					 NULL};
	const char *const huge[] = {
	    "runtime.madvise", "runtime.sysHugePageOS",		"runtime.sysUsedOS",
	    "runtime.sysUsed", "runtime.(*scavengeIndex).grow", NULL};
	struct pl_frame f[MAXF];
	(void)state;
	assert_int_equal(classify(grow, false), PL_CALLER_GO_HEAP_GROW);
	assert_string_equal(f[site_of(grow, f)].func, "runtime.(*mheap).grow");
	assert_int_equal(classify(persistent, false), PL_CALLER_GO_RUNTIME);
	assert_string_equal(f[site_of(persistent, f)].func, "runtime.persistentalloc1");
	assert_int_equal(classify(heap_alloc, false), PL_CALLER_GO_HEAP_GROW);
	assert_string_equal(f[site_of(heap_alloc, f)].func, "runtime.(*mheap).sysAlloc");
	assert_int_equal(classify(unmap, true), PL_CALLER_GO_RUNTIME);
	assert_string_equal(f[site_of(unmap, f)].func, "runtime.(*gcBits).free");
	/* The walk cut at the shim: still the runtime (nothing else calls x_cgo_mmap). */
	assert_int_equal(classify(shim_only, false), PL_CALLER_GO_RUNTIME);
	assert_int_equal(site_of(shim_only, f), -1);
	assert_string_equal(f[site_of(huge, f)].func, "runtime.(*scavengeIndex).grow");
}

int main(void)
{
	const struct CMUnitTest caller_tests[] = {
	    cmocka_unit_test(test_go_background_scavenger),
	    cmocka_unit_test(test_go_free_os_memory),
	    cmocka_unit_test(test_go_eager_and_growth),
	    cmocka_unit_test(test_glibc),
	    cmocka_unit_test(test_python_arenas),
	    cmocka_unit_test(test_jemalloc_and_tcmalloc_by_module),
	    cmocka_unit_test(test_app_loader_and_unknown),
	    cmocka_unit_test(test_call_site_skips_plumbing),
	    cmocka_unit_test(test_prometheus_tsdb_mmap_is_app),
	    cmocka_unit_test(test_go_syscall_wrappers_name_the_app),
	    cmocka_unit_test(test_runtime_below_the_app_is_not_runtime),
	    cmocka_unit_test(test_cgo_shims_name_the_go_caller),
	};

	return cmocka_run_group_tests_name("callers", caller_tests, NULL, NULL);
}
