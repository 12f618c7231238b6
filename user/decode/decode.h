/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* Decoding of kernel records into names, ranges and human units. Pure. */
#ifndef PL_DECODE_H
#define PL_DECODE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "events.h"

/* A record that passed validation, with a typed view of it. */
struct pl_caller;

struct pl_record {
	enum pl_event_type type;
	const struct pl_caller *caller; /* syscall records: who asked, or NULL */
	union {
		const struct pl_syscall_event *sys;
		const struct pl_exec_event *exec;
		const struct pl_exit_event *exit;
	};
};

/* Validates a raw ring-buffer record. Returns 0, or -1 if malformed. */
int pl_decode_record(const void *data, size_t size, struct pl_record *out);

const char *pl_syscall_name(uint32_t sys);
/* "MADV_DONTNEED", or "MADV_<n>" (written into buf) for unknown values. */
const char *pl_advice_name(long advice, char *buf, size_t len);
/* Whether a syscall carries an advice argument (madvise, process_madvise). */
int pl_syscall_has_advice(uint32_t sys);
long pl_syscall_advice(const struct pl_syscall_event *e);
/* "ENOMEM", or "E<n>" (in buf). */
const char *pl_errno_name(int err, char *buf, size_t len);
/* "rw-" style protection and "PRIVATE|ANONYMOUS" style mmap flags. */
void pl_prot_str(uint64_t prot, char *buf, size_t len);
void pl_mmap_flags_str(uint64_t flags, char *buf, size_t len);
void pl_mremap_flags_str(uint64_t flags, char *buf, size_t len);

/* Whether the call failed, and its errno if so. */
int pl_syscall_failed(const struct pl_syscall_event *e);
/* The range a call covers: its start address and length in bytes. */
uint64_t pl_syscall_addr(const struct pl_syscall_event *e);
uint64_t pl_syscall_len(const struct pl_syscall_event *e);
/* The call gives memory back: munmap, a releasing madvise, a shrinking brk or mremap. */
bool pl_syscall_is_release(const struct pl_syscall_event *e);
/* anon + file + shmem: what counts toward RSS (swap entries do not). */
int64_t pl_resident_delta(const __s64 rss[PL_RSS_NR]);
const char *pl_rss_member_name(int member);

/* "32.0M", "-4.0K", "512B": binary units, one decimal. */
void pl_format_size(int64_t bytes, char *buf, size_t len);
/* Signed variant: always carries a sign, "0" for zero. */
void pl_format_delta(int64_t bytes, char *buf, size_t len);

#endif
