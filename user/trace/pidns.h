/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * One process, three numbers. The caller names it in its own PID namespace
 * (what kill(2) and pidfd_open(2) take), /proc names it in the namespace
 * /proc was mounted for, and the kernel's tracepoints name it in the
 * initial namespace, which is what the BPF side filters on. Inside a
 * container, or under `unshare --pid --fork --mount-proc`, these differ.
 */
#ifndef PL_PIDNS_H
#define PL_PIDNS_H

#include <stdbool.h>
#include <sys/types.h>

/* Whether pageledger runs in the initial PID namespace (then all three agree). */
bool pl_pidns_is_initial(void);
/* The process a pidfd refers to, as /proc numbers it: > 0, or -1 if unknown. */
pid_t pl_pidns_proc_pid(int pidfd);
/* How many PID namespaces pageledger is below /proc's (0: /proc is its own). */
int pl_pidns_depth_below_proc(void);
/*
 * The pidfd's process as the kernel numbers it (its tgid in the initial
 * namespace), asked of the kernel with a task iterator: /proc cannot say
 * once it was mounted inside the namespace. > 0, or -1 with errno set.
 */
pid_t pl_pidns_kernel_tgid(int pidfd);

#endif
