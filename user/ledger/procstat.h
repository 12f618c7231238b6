/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * The kernel's own account of a process's memory, for the cross-check
 * against the ledger: /proc/PID/status (RssAnon, RssFile, RssShmem, VmSwap,
 * exact sums on current kernels) and /proc/PID/smaps_rollup (LazyFree,
 * AnonHugePages, Swap). Reading them walks page tables but faults nothing in.
 */
#ifndef PL_PROCSTAT_H
#define PL_PROCSTAT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

struct pl_kernel_view {
	int64_t anon, file, shmem, swap; /* bytes, from status */
	int64_t lazy_free, anon_huge;	 /* bytes, from smaps_rollup */
	bool have_status, have_rollup;
};

/* Parses "Key:   123 kB" lines of a status or smaps_rollup text. Pure. */
void pl_parse_status(const char *text, size_t len, struct pl_kernel_view *v);
void pl_parse_rollup(const char *text, size_t len, struct pl_kernel_view *v);
/*
 * pageledger's own RSS and peak (VmRSS, VmHWM), in bytes; 0 when unknown.
 * VmHWM, not getrusage(): ru_maxrss carries the peak of the address space
 * we were forked with (exec folds it in), so a tracer started by a big
 * parent would report the parent's size.
 */
void pl_self_rss(uint64_t *rss, uint64_t *peak);
/* Reads both files. Returns 0, or -1 if the process is gone. */
int pl_kernel_view_read(pid_t pid, struct pl_kernel_view *v);
/* Only status: for a caller that sums smaps itself (the rollup is that sum). */
int pl_kernel_view_read_status(pid_t pid, struct pl_kernel_view *v);
/* Only smaps_rollup, into v's rollup fields. */
void pl_kernel_view_read_rollup(pid_t pid, struct pl_kernel_view *v);

/* One VMA of /proc/PID/smaps. Figures in bytes, -1 when absent. */
struct pl_smaps_vma {
	uint64_t start, end;
	int64_t rss, lazy_free, anon_huge, swap;
	const char *path; /* into the text, not NUL-terminated; NULL: anonymous */
	size_t path_len;
};
typedef void (*pl_smaps_fn)(void *ctx, const struct pl_smaps_vma *v);
/*
 * Parses a smaps text (untrusted: paths are the process's): fn per VMA.
 * Lines that are neither a VMA header nor a known field are skipped.
 * Returns the VMA count.
 */
int pl_smaps_parse(const char *text, size_t len, pl_smaps_fn fn, void *ctx);
/* Reads and parses /proc/PID/smaps. Returns the VMA count, or -1. */
int pl_smaps_read(pid_t pid, pl_smaps_fn fn, void *ctx);
/*
 * The same, stopping at CLOCK_MONOTONIC deadline_ns (0: none): *cut says
 * whether it stopped before the end, the VMAs after it unread.
 */
int pl_smaps_read_until(pid_t pid, pl_smaps_fn fn, void *ctx, uint64_t deadline_ns, bool *cut);

#endif
