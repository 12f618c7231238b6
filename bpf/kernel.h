/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * What the BPF side needs from the kernel that BTF does not carry: flag
 * values, and the few facts that differ by architecture. Everything
 * architecture-specific lives here; the .bpf.c files use these names only.
 */
#ifndef PAGELEDGER_KERNEL_H
#define PAGELEDGER_KERNEL_H

/* task_struct.flags (include/linux/sched.h); macros, so absent from BTF. */
#define PL_PF_MEMALLOC 0x00000800 /* in reclaim: kswapd, or a task's direct reclaim */
#define PL_PF_KTHREAD 0x00200000

/* mmap(2) prot and flags (uapi, the same on every architecture we build for). */
#define PL_PROT_EXEC 0x4
#define PL_MAP_ANONYMOUS 0x20

#define PL_PIDFS_MAGIC 0x50494446
#define PL_ANON_INODE_FS_MAGIC 0x09041934
#define PL_MAX_ERRNO 4095

#if defined(__TARGET_ARCH_x86)
/* bpf_tracing.h of libbpf 1.1 stops at the fifth syscall argument. */
#define PL_SYSCALL_ARG6(regs) BPF_CORE_READ(regs, r9)
/* Above this, a fault address is the kernel's own (x86-64 4-level user space). */
#define PL_USER_ADDR_END 0x0000800000000000ull
#elif defined(__TARGET_ARCH_arm64)
#define PL_SYSCALL_ARG6(regs) BPF_CORE_READ(regs, regs[5])
#define PL_USER_ADDR_END 0x0001000000000000ull
#else
#error                                                                                             \
    "pageledger: add this architecture's sixth syscall argument and user address end to bpf/kernel.h"
#endif

#endif
