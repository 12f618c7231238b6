/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * Who asked: a class for each memory call, from its symbolized user stack.
 * Pure: fed frames (innermost first), no I/O.
 */
#ifndef PL_CALLERS_H
#define PL_CALLERS_H

#include <stdbool.h>
#include "symbolize/symbolizer.h"

enum pl_caller_class {
	PL_CALLER_UNKNOWN = 0,
	PL_CALLER_GO_SCAV_BACKGROUND,
	PL_CALLER_GO_SCAV_FORCED,
	PL_CALLER_GO_SCAV_EAGER,
	PL_CALLER_GO_HEAP_GROW,
	PL_CALLER_GO_RUNTIME,
	PL_CALLER_GLIBC_TRIM,
	PL_CALLER_GLIBC_FREE,
	PL_CALLER_GLIBC_MALLOC,
	PL_CALLER_JEMALLOC_PURGE,
	PL_CALLER_JEMALLOC,
	PL_CALLER_TCMALLOC_RELEASE,
	PL_CALLER_TCMALLOC,
	PL_CALLER_PYTHON_ARENA,
	PL_CALLER_LOADER,
	PL_CALLER_APP,
	PL_CALLER_NR,
};

/* "go-scavenger-background": the JSON and script-facing name. */
const char *pl_caller_class_name(enum pl_caller_class c);
/*
 * glibc's syscall stubs that keep no stack frame (__mmap, __munmap,
 * madvise, __brk; not mremap, whose varargs take one): at the syscall the
 * word at the stack pointer is their return address.
 */
struct pl_frame;
bool pl_is_leaf_syscall_stub(const struct pl_frame *f);
/* "Go background scavenger": the name a person reads. */
const char *pl_caller_class_label(enum pl_caller_class c);

/*
 * Classifies a call. frames: innermost first. is_release: the call gives
 * memory back (munmap, a releasing madvise, a shrinking brk or mremap).
 */
enum pl_caller_class pl_classify_caller(const struct pl_frame *frames, int n, bool is_release);

/*
 * The call site: the first frame that is neither a syscall stub nor the
 * runtime's or libc's plumbing around it (Go's syscall packages, cgo's
 * x_cgo_mmap and x_cgo_munmap included): the caller that asked. Returns an
 * index into frames, or -1 if there are no frames.
 */
int pl_call_site(const struct pl_frame *frames, int n);

#endif
