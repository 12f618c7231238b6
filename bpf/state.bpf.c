// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* The kernel side's configuration, totals and shared maps (see pageledger.bpf.h). */
#include "pageledger.bpf.h"

char LICENSE[] SEC("license") = "Dual BSD/GPL";

const volatile __u32 targ_tgid = 0;
const volatile __u32 nr_cpus = 1;
const volatile __u32 page_shift = 12;
/* Wake the reader only past this much queued data; it also polls on a timer. */
const volatile __u64 wakeup_bytes = 0;
/* Capture user stacks for syscall events (off with --no-stacks). */
const volatile bool capture_stacks = true;
/* -1: never matches a syscall number, until user space fills them in. */
const volatile long nr_mmap = -1, nr_munmap = -1, nr_madvise = -1, nr_mremap = -1, nr_brk = -1;
const volatile long nr_process_madvise = -1;
const volatile __s64 until_above = 0, until_below = 0;
const volatile bool spawned = false;

struct pl_totals totals = {};

struct pl_tasks_map tasks SEC(".maps");
struct pl_events_map events SEC(".maps");
struct pl_progress_map progress SEC(".maps");
