/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* What the machine must offer before we load anything. */
#ifndef PL_SYSENV_H
#define PL_SYSENV_H

#include <stdbool.h>
#include <stddef.h>

/* Each returns 0, or -1 after writing one line to stderr. */
int pl_require_root(void);
int pl_require_btf(void);
/* Whether the kernel's BTF has the tp_btf target btf_trace_NAME. */
bool pl_btf_tracepoint_exists(const char *name);

#endif
