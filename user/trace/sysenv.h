/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* What the machine must offer before we load anything. */
#ifndef PL_SYSENV_H
#define PL_SYSENV_H

#include <stdbool.h>
#include <stddef.h>

/* Each returns 0, or -1 after writing one line to stderr. */
int pl_require_root(void);
int pl_require_btf(void);
/*
 * Finds tracefs (the syscall tracepoints are attached through it), mounting
 * it at /sys/kernel/tracing if it is not mounted; says so only if verbose.
 */
int pl_require_tracefs(bool verbose);
/* The tracefs root in use ($PAGELEDGER_TRACEFS overrides, for tests). */
const char *pl_tracefs_root(void);
/* Whether tracefs has events/CATEGORY/NAME. */
bool pl_tracepoint_exists(const char *category, const char *name);
/* The running kernel's BTF, loaded once; NULL if it cannot be read. */
struct btf;
const struct btf *pl_vmlinux_btf(void);
/* Whether the kernel's BTF has the tp_btf target btf_trace_NAME. */
bool pl_btf_tracepoint_exists(const char *name);

#endif
