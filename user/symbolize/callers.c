// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * The Go paths are in shared/notes (kernel-and-go.md): the background
 * scavenger runs bgscavenge -> (*scavengerState).run -> (*pageAlloc).scavenge;
 * FreeOSMemory runs (*mheap).scavengeAll; eager scavenging runs
 * (*pageAlloc).scavenge under (*mheap).allocSpan or (*mheap).grow; heap
 * growth maps with sysMap. The kernel's frame-pointer walk may stop at a
 * systemstack switch, so every rule looks at every frame it has.
 *
 * Everything else is decided at the call site, the first frame above the
 * plumbing: runtime.goexit is the bottom of every goroutine's stack, so a
 * runtime frame somewhere below says nothing about who asked. The
 * plumbing includes what only passes a call on: Go's syscall packages
 * (syscall, golang.org/x/sys/unix, runtime/internal/syscall) and, in
 * cgo-linked binaries, x_cgo_mmap and x_cgo_munmap, the C shims through
 * which the runtime's own mmap and munmap go.
 */
#include <string.h>
#include "symbolize/callers.h"

static const struct {
	const char *name;
	const char *label;
} classes[PL_CALLER_NR] = {
    [PL_CALLER_UNKNOWN] = {"unknown", "unknown caller"},
    [PL_CALLER_GO_SCAV_BACKGROUND] = {"go-scavenger-background", "Go background scavenger"},
    [PL_CALLER_GO_SCAV_FORCED] = {"go-scavenger-forced", "Go debug.FreeOSMemory"},
    [PL_CALLER_GO_SCAV_EAGER] = {"go-scavenger-eager", "Go eager scavenging"},
    [PL_CALLER_GO_HEAP_GROW] = {"go-heap-grow", "Go heap growth"},
    [PL_CALLER_GO_RUNTIME] = {"go-runtime", "Go runtime (other)"},
    [PL_CALLER_GLIBC_TRIM] = {"glibc-trim", "glibc malloc_trim"},
    [PL_CALLER_GLIBC_FREE] = {"glibc-free", "glibc free"},
    [PL_CALLER_GLIBC_MALLOC] = {"glibc-malloc", "glibc malloc"},
    [PL_CALLER_JEMALLOC_PURGE] = {"jemalloc-purge", "jemalloc purge"},
    [PL_CALLER_JEMALLOC] = {"jemalloc", "jemalloc (other)"},
    [PL_CALLER_TCMALLOC_RELEASE] = {"tcmalloc-release", "tcmalloc release"},
    [PL_CALLER_TCMALLOC] = {"tcmalloc", "tcmalloc (other)"},
    [PL_CALLER_PYTHON_ARENA] = {"python-arena", "Python obmalloc arena"},
    [PL_CALLER_LOADER] = {"loader", "dynamic loader"},
    [PL_CALLER_APP] = {"app", "the program itself"},
};

const char *pl_caller_class_name(enum pl_caller_class c)
{
	return (unsigned)c < PL_CALLER_NR ? classes[c].name : "unknown";
}

const char *pl_caller_class_label(enum pl_caller_class c)
{
	return (unsigned)c < PL_CALLER_NR ? classes[c].label : "unknown caller";
}

static bool starts_with(const char *s, const char *prefix)
{
	return s && !strncmp(s, prefix, strlen(prefix));
}

/* Any frame whose function starts with one of the prefixes. */
static bool any_func(const struct pl_frame *f, int n, const char *const *prefixes)
{
	for (int i = 0; i < n; i++)
		for (const char *const *p = prefixes; *p; p++)
			if (starts_with(f[i].func, *p))
				return true;
	return false;
}

/* The file name of a module path: "/lib/x86_64-linux-gnu/libc.so.6" -> "libc.so.6". */
static const char *base_name(const char *path)
{
	const char *slash = path ? strrchr(path, '/') : NULL;

	return slash ? slash + 1 : path;
}

/* Any frame whose function is exactly one of the names (C symbols). */
static bool any_func_exact(const struct pl_frame *f, int n, const char *const *names)
{
	for (int i = 0; i < n; i++)
		for (const char *const *p = names; *p; p++)
			if (f[i].func && !strcmp(f[i].func, *p))
				return true;
	return false;
}

static bool any_module(const struct pl_frame *f, int n, const char *prefix)
{
	for (int i = 0; i < n; i++)
		if (starts_with(base_name(f[i].module), prefix))
			return true;
	return false;
}

static const char *const go_forced[] = {"runtime.(*mheap).scavengeAll",
					"runtime/debug.freeOSMemory",
					"runtime.runtime_debug_freeOSMemory", NULL};
static const char *const go_background[] = {"runtime.bgscavenge", "runtime.(*scavengerState).",
					    NULL};
static const char *const go_scavenge[] = {"runtime.(*pageAlloc).scavenge", "runtime.sysUnused",
					  NULL};
static const char *const go_alloc[] = {"runtime.(*mheap).allocSpan", "runtime.(*mheap).grow",
				       "runtime.(*mheap).alloc", NULL};
static const char *const go_grow[] = {"runtime.(*mheap).grow", "runtime.sysMap", NULL};
static const char *const glibc_trim[] = {"malloc_trim", "__malloc_trim", "mtrim",
					 "systrim",	"heap_trim",	 NULL};
static const char *const glibc_free[] = {
    "free", "__libc_free", "cfree", "_int_free", "munmap_chunk", "realloc", "__libc_realloc", NULL};
static const char *const glibc_sbrk[] = {"sbrk", "__sbrk", NULL};
static const char *const jemalloc_funcs[] = {"je_", "pages_purge", "extent_purge", NULL};
static const char *const tcmalloc_funcs[] = {"tcmalloc::", "TCMalloc_SystemRelease", NULL};
/*
 * CPython's own raw memory: obmalloc's arenas (1 MiB since 3.10) and 3.11's
 * frame-stack chunks, through _PyObject_ArenaMmap and _PyObject_ArenaMunmap.
 * The interpreter makes no other mmap, munmap or madvise of its own but
 * for the mmap module's, so a call site in it is one of these, named or
 * not: Debian's LTO build inlines _PyObject_Free (and the munmap under it)
 * into every dealloc function.
 */
static bool is_python_arena(const struct pl_frame *site)
{
	const char *mod = base_name(site->module);

	return starts_with(mod, "python3") || starts_with(mod, "libpython3");
}

/* Only the runtime calls these: a frame of one is the runtime asking (not runtime.goexit). */
static bool is_go_runtime(const char *func)
{
	return func && ((starts_with(func, "runtime.") && strcmp(func, "runtime.goexit") != 0) ||
			!strcmp(func, "x_cgo_mmap") || !strcmp(func, "x_cgo_munmap"));
}

static bool any_go_runtime(const struct pl_frame *f, int n)
{
	for (int i = 0; i < n; i++)
		if (is_go_runtime(f[i].func))
			return true;
	return false;
}

/* site: the call site's index, or -1 when the stack is plumbing alone. */
static enum pl_caller_class classify_go(const struct pl_frame *f, int n, int site)
{
	if (any_func(f, n, go_forced))
		return PL_CALLER_GO_SCAV_FORCED;
	if (any_func(f, n, go_background))
		return PL_CALLER_GO_SCAV_BACKGROUND;
	if (any_func(f, n, go_scavenge) && any_func(f, n, go_alloc))
		return PL_CALLER_GO_SCAV_EAGER;
	if (any_func(f, n, go_grow))
		return PL_CALLER_GO_HEAP_GROW;
	if (site >= 0 ? is_go_runtime(f[site].func) : any_go_runtime(f, n))
		return PL_CALLER_GO_RUNTIME;
	return PL_CALLER_UNKNOWN;
}

/*
 * Allocators are found by function name where their symbols survive, and
 * by module where they do not (Debian strips libc's and jemalloc's
 * internals): a releasing call made from inside the allocator is a release.
 */
static enum pl_caller_class classify_native(const struct pl_frame *f, int n, bool is_release)
{
	if (any_func_exact(f, n, glibc_trim))
		return PL_CALLER_GLIBC_TRIM;
	if (any_func(f, n, jemalloc_funcs) || any_module(f, n, "libjemalloc"))
		return is_release ? PL_CALLER_JEMALLOC_PURGE : PL_CALLER_JEMALLOC;
	if (any_func(f, n, tcmalloc_funcs) || any_module(f, n, "libtcmalloc"))
		return is_release ? PL_CALLER_TCMALLOC_RELEASE : PL_CALLER_TCMALLOC;
	if (any_func_exact(f, n, glibc_free))
		return PL_CALLER_GLIBC_FREE;
	return PL_CALLER_UNKNOWN;
}

enum pl_caller_class pl_classify_caller(const struct pl_frame *frames, int n, bool is_release)
{
	enum pl_caller_class c;
	int site;

	if (!frames || n <= 0)
		return PL_CALLER_UNKNOWN;
	site = pl_call_site(frames, n);
	c = classify_go(frames, n, site);
	if (c != PL_CALLER_UNKNOWN)
		return c;
	/*
	 * Only straight above a frameless stub, where the caller is the stub's
	 * own return address: past a stub that keeps a frame (glibc's mremap,
	 * under realloc) the walk through libc is not to be trusted.
	 */
	if (site == 1 && pl_is_leaf_syscall_stub(&frames[0]) && is_python_arena(&frames[1]))
		return PL_CALLER_PYTHON_ARENA;
	c = classify_native(frames, n, is_release);
	if (c != PL_CALLER_UNKNOWN)
		return c;
	/*
	 * A shrinking break from libc's sbrk with nothing above it: malloc's
	 * systrim (malloc_trim, or free past M_TRIM_THRESHOLD). libc keeps no
	 * frame pointers, so the walk ends there.
	 */
	if (site < 0 && is_release && any_func_exact(frames, n, glibc_sbrk) &&
	    any_module(frames, n, "libc.so"))
		return PL_CALLER_GLIBC_TRIM;
	if (site < 0)
		return PL_CALLER_UNKNOWN;
	if (starts_with(base_name(frames[site].module), "ld-linux"))
		return PL_CALLER_LOADER;
	if (starts_with(base_name(frames[site].module), "libc.so"))
		return is_release ? PL_CALLER_GLIBC_FREE : PL_CALLER_GLIBC_MALLOC;
	if (frames[site].func)
		return PL_CALLER_APP;
	return PL_CALLER_UNKNOWN;
}

/* Syscall stubs and the thin layers that only pass the call on. */
static const char *const plumbing[] = {
    "runtime.madvise",
    "runtime.munmap",
    "runtime.mmap",
    "runtime.sysMmap",
    "runtime.sysMunmap",
    "runtime.sysUnused",
    "runtime.sysFree",
    "runtime.sysMap",
    "runtime.sysReserve",
    "runtime.sysAlloc",
    "runtime.sysHugePage",
    "runtime.sysNoHugePage",
    "runtime.sysUsed",
    "runtime.callCgoMmap",
    "runtime.callCgoMunmap",
    "runtime.asmcgocall",
    "runtime.systemstack",
    "x_cgo_mmap",
    "x_cgo_munmap",
    "madvise",
    "__madvise",
    "munmap",
    "__munmap",
    "mmap",
    "mmap64",
    "__mmap",
    "__mmap64",
    "mremap",
    "__mremap",
    "brk",
    "__brk",
    "sbrk",
    "__sbrk",
    "syscall",
    "process_madvise",
    NULL,
};

/* Go packages that only wrap system calls: every function of theirs is plumbing. */
static const char *const plumbing_packages[] = {
    "syscall.",
    "runtime/internal/syscall.",
    "internal/runtime/syscall.",
    "internal/syscall/unix.",
    "golang.org/x/sys/unix.",
    "vendor/golang.org/x/sys/unix.",
    NULL,
};

/* ".func1", ".func2.1": a closure inside the function whose name precedes it. */
static bool is_closure_suffix(const char *s)
{
	if (strncmp(s, ".func", 5) != 0 || s[5] < '0' || s[5] > '9')
		return false;
	for (s += 5; *s; s++)
		if ((*s < '0' || *s > '9') && *s != '.')
			return false;
	return true;
}

/*
 * The name itself, its OS variant ("runtime.sysUnusedOS"), its closures
 * ("runtime.mmap.func1") and its ABI wrapper in ELF symbols (".abi0").
 */
static bool is_variant_suffix(const char *s)
{
	if (!strncmp(s, "OS", 2))
		s += 2;
	return !*s || !strcmp(s, ".abi0") || is_closure_suffix(s);
}

static bool is_plumbing(const char *func)
{
	if (!func)
		return false;
	for (const char *const *p = plumbing_packages; *p; p++)
		if (starts_with(func, *p))
			return true;
	for (const char *const *p = plumbing; *p; p++) {
		size_t len = strlen(*p);

		if (!strncmp(func, *p, len) && is_variant_suffix(func + len))
			return true;
	}
	return false;
}

int pl_call_site(const struct pl_frame *frames, int n)
{
	if (!frames || n <= 0)
		return -1;
	for (int i = 0; i < n; i++)
		if (!is_plumbing(frames[i].func) && (frames[i].func || i > 0))
			return i;
	/* Only the stub itself: the caller is unknown, unless the stub is all there is. */
	return n == 1 && !is_plumbing(frames[0].func) ? 0 : -1;
}

bool pl_is_leaf_syscall_stub(const struct pl_frame *f)
{
	static const char *const stubs[] = {"__mmap",  "__mmap64",  "mmap64", "__munmap", "munmap",
					    "madvise", "__madvise", "brk",    "__brk",	  NULL};

	return f->func && starts_with(base_name(f->module), "libc.so") &&
	       any_func_exact(f, 1, stubs);
}
