// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include "decode/decode.h"

#ifndef MAP_FIXED_NOREPLACE
#define MAP_FIXED_NOREPLACE 0x100000
#endif
#ifndef MREMAP_DONTUNMAP
#define MREMAP_DONTUNMAP 4
#endif

int pl_decode_record(const void *data, size_t size, struct pl_record *out)
{
	const struct pl_event_hdr *h = data;

	if (!data || size < sizeof(*h))
		return -1;
	out->caller = NULL;
	switch (h->type) {
	case PL_EV_SYSCALL:
		if (size < sizeof(struct pl_syscall_event))
			return -1;
		out->sys = data;
		if (out->sys->sys >= PL_SYS_NR)
			return -1;
		break;
	case PL_EV_EXEC:
		if (size < sizeof(struct pl_exec_event))
			return -1;
		out->exec = data;
		break;
	case PL_EV_EXIT:
		if (size < sizeof(struct pl_exit_event))
			return -1;
		out->exit = data;
		break;
	default:
		return -1;
	}
	out->type = h->type;
	return 0;
}

static const char *const syscall_names[PL_SYS_NR] = {
    [PL_SYS_MMAP] = "mmap",	  [PL_SYS_MUNMAP] = "munmap",
    [PL_SYS_MADVISE] = "madvise", [PL_SYS_MREMAP] = "mremap",
    [PL_SYS_BRK] = "brk",	  [PL_SYS_PROCESS_MADVISE] = "process_madvise",
};

const char *pl_syscall_name(uint32_t sys)
{
	return sys < PL_SYS_NR ? syscall_names[sys] : "unknown";
}

/* Linux advice values (include/uapi/asm-generic/mman-common.h). */
static const struct {
	long value;
	const char *name;
} advice_names[] = {
    {0, "MADV_NORMAL"},		  {1, "MADV_RANDOM"},	       {2, "MADV_SEQUENTIAL"},
    {3, "MADV_WILLNEED"},	  {4, "MADV_DONTNEED"},	       {8, "MADV_FREE"},
    {9, "MADV_REMOVE"},		  {10, "MADV_DONTFORK"},       {11, "MADV_DOFORK"},
    {12, "MADV_MERGEABLE"},	  {13, "MADV_UNMERGEABLE"},    {14, "MADV_HUGEPAGE"},
    {15, "MADV_NOHUGEPAGE"},	  {16, "MADV_DONTDUMP"},       {17, "MADV_DODUMP"},
    {18, "MADV_WIPEONFORK"},	  {19, "MADV_KEEPONFORK"},     {20, "MADV_COLD"},
    {21, "MADV_PAGEOUT"},	  {22, "MADV_POPULATE_READ"},  {23, "MADV_POPULATE_WRITE"},
    {24, "MADV_DONTNEED_LOCKED"}, {25, "MADV_COLLAPSE"},       {100, "MADV_HWPOISON"},
    {101, "MADV_SOFT_OFFLINE"},	  {102, "MADV_GUARD_INSTALL"}, {103, "MADV_GUARD_REMOVE"},
};

const char *pl_advice_name(long advice, char *buf, size_t len)
{
	for (size_t i = 0; i < sizeof(advice_names) / sizeof(advice_names[0]); i++)
		if (advice_names[i].value == advice)
			return advice_names[i].name;
	snprintf(buf, len, "MADV_%ld", advice);
	return buf;
}

int pl_syscall_has_advice(uint32_t sys)
{
	return sys == PL_SYS_MADVISE || sys == PL_SYS_PROCESS_MADVISE;
}

long pl_syscall_advice(const struct pl_syscall_event *e)
{
	if (e->sys == PL_SYS_MADVISE)
		return (int)e->args[2];
	if (e->sys == PL_SYS_PROCESS_MADVISE)
		return (int)e->args[3];
	return -1;
}

const char *pl_errno_name(int err, char *buf, size_t len)
{
	static const struct {
		int err;
		const char *name;
	} names[] = {
	    {EPERM, "EPERM"},	      {ENOENT, "ENOENT"},   {ESRCH, "ESRCH"},
	    {EINTR, "EINTR"},	      {EIO, "EIO"},	    {EBADF, "EBADF"},
	    {EAGAIN, "EAGAIN"},	      {ENOMEM, "ENOMEM"},   {EACCES, "EACCES"},
	    {EFAULT, "EFAULT"},	      {EBUSY, "EBUSY"},	    {EEXIST, "EEXIST"},
	    {ENODEV, "ENODEV"},	      {EINVAL, "EINVAL"},   {ENFILE, "ENFILE"},
	    {EMFILE, "EMFILE"},	      {ETXTBSY, "ETXTBSY"}, {EFBIG, "EFBIG"},
	    {ENOSPC, "ENOSPC"},	      {ENOSYS, "ENOSYS"},   {EOVERFLOW, "EOVERFLOW"},
	    {EHWPOISON, "EHWPOISON"},
	};
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (names[i].err == err)
			return names[i].name;
	snprintf(buf, len, "E%d", err);
	return buf;
}

void pl_prot_str(uint64_t prot, char *buf, size_t len)
{
	snprintf(buf, len, "%c%c%c", (prot & PROT_READ) ? 'r' : '-',
		 (prot & PROT_WRITE) ? 'w' : '-', (prot & PROT_EXEC) ? 'x' : '-');
}

struct flag_name {
	uint64_t bit;
	const char *name;
};

static void flags_str(uint64_t flags, const struct flag_name *names, size_t n, char *buf,
		      size_t len)
{
	size_t used = 0;
	int wrote;

	buf[0] = '\0';
	for (size_t i = 0; i < n; i++) {
		if (!(flags & names[i].bit))
			continue;
		flags &= ~names[i].bit;
		wrote = snprintf(buf + used, len - used, "%s%s", used ? "|" : "", names[i].name);
		if (wrote < 0 || (size_t)wrote >= len - used)
			return;
		used += wrote;
	}
	if (flags)
		snprintf(buf + used, len - used, "%s0x%llx", used ? "|" : "",
			 (unsigned long long)flags);
	else if (!used)
		snprintf(buf, len, "0");
}

void pl_mmap_flags_str(uint64_t flags, char *buf, size_t len)
{
	static const struct flag_name names[] = {
	    {MAP_SHARED, "SHARED"},
	    {MAP_PRIVATE, "PRIVATE"},
	    {MAP_FIXED, "FIXED"},
	    {MAP_ANONYMOUS, "ANONYMOUS"},
	    {MAP_GROWSDOWN, "GROWSDOWN"},
	    {MAP_DENYWRITE, "DENYWRITE"},
	    {MAP_EXECUTABLE, "EXECUTABLE"},
	    {MAP_LOCKED, "LOCKED"},
	    {MAP_NORESERVE, "NORESERVE"},
	    {MAP_POPULATE, "POPULATE"},
	    {MAP_NONBLOCK, "NONBLOCK"},
	    {MAP_STACK, "STACK"},
	    {MAP_HUGETLB, "HUGETLB"},
	    {MAP_SYNC, "SYNC"},
	    {MAP_FIXED_NOREPLACE, "FIXED_NOREPLACE"},
	};
	flags_str(flags, names, sizeof(names) / sizeof(names[0]), buf, len);
}

void pl_mremap_flags_str(uint64_t flags, char *buf, size_t len)
{
	static const struct flag_name names[] = {
	    {MREMAP_MAYMOVE, "MAYMOVE"},
	    {MREMAP_FIXED, "FIXED"},
	    {MREMAP_DONTUNMAP, "DONTUNMAP"},
	};
	flags_str(flags, names, sizeof(names) / sizeof(names[0]), buf, len);
}

int pl_syscall_failed(const struct pl_syscall_event *e)
{
	/* The kernel returns -errno in [-4095, -1]; mmap addresses never fall there. */
	if (e->ret < 0 && e->ret >= -4095)
		return (int)-e->ret;
	return 0;
}

uint64_t pl_syscall_addr(const struct pl_syscall_event *e)
{
	switch (e->sys) {
	case PL_SYS_MMAP:
	case PL_SYS_MREMAP:
		return pl_syscall_failed(e) ? e->args[0] : (uint64_t)e->ret;
	case PL_SYS_BRK:
		if (pl_syscall_failed(e))
			return e->old_brk;
		return (uint64_t)e->ret < e->old_brk ? (uint64_t)e->ret : e->old_brk;
	case PL_SYS_PROCESS_MADVISE:
		return e->iov_addr;
	default:
		return e->args[0];
	}
}

uint64_t pl_syscall_len(const struct pl_syscall_event *e)
{
	uint64_t brk_now;

	switch (e->sys) {
	case PL_SYS_MREMAP:
		return e->args[2]; /* new_len */
	case PL_SYS_BRK:
		/* brk() returns the break after the call, failed or not. */
		brk_now = (uint64_t)e->ret;
		if (pl_syscall_failed(e) || !e->old_brk)
			return 0;
		return brk_now > e->old_brk ? brk_now - e->old_brk : e->old_brk - brk_now;
	case PL_SYS_PROCESS_MADVISE:
		return e->iov_bytes;
	default:
		return e->args[1];
	}
}

bool pl_syscall_is_release(const struct pl_syscall_event *e)
{
	long advice;

	switch (e->sys) {
	case PL_SYS_MUNMAP:
		return true;
	case PL_SYS_MADVISE:
	case PL_SYS_PROCESS_MADVISE:
		advice = pl_syscall_advice(e);
		return advice == PL_MADV_DONTNEED || advice == PL_MADV_FREE ||
		       advice == PL_MADV_REMOVE || advice == PL_MADV_COLD ||
		       advice == PL_MADV_PAGEOUT || advice == PL_MADV_DONTNEED_LOCKED;
	case PL_SYS_BRK:
		return !pl_syscall_failed(e) && (uint64_t)e->ret < e->old_brk;
	case PL_SYS_MREMAP:
		return e->args[2] < e->args[1];
	default:
		return false;
	}
}

int64_t pl_resident_delta(const __s64 rss[PL_RSS_NR])
{
	return rss[PL_RSS_ANON] + rss[PL_RSS_FILE] + rss[PL_RSS_SHMEM];
}

const char *pl_rss_member_name(int member)
{
	switch (member) {
	case PL_RSS_ANON:
		return "anon";
	case PL_RSS_FILE:
		return "file";
	case PL_RSS_SHMEM:
		return "shmem";
	case PL_RSS_SWAP:
		return "swap";
	default:
		return "unknown";
	}
}

void pl_format_size(int64_t bytes, char *buf, size_t len)
{
	static const char units[] = "KMGTPE";
	uint64_t mag = bytes < 0 ? (uint64_t)0 - (uint64_t)bytes : (uint64_t)bytes;
	const char *sign = bytes < 0 ? "-" : "";
	double v = (double)mag;
	int u = -1;

	if (mag < 1024) {
		snprintf(buf, len, "%s%lluB", sign, (unsigned long long)mag);
		return;
	}
	while (v >= 1024.0 && u < 5) {
		v /= 1024.0;
		u++;
	}
	snprintf(buf, len, "%s%.1f%c", sign, v, units[u]);
}

void pl_format_delta(int64_t bytes, char *buf, size_t len)
{
	if (bytes == 0) {
		snprintf(buf, len, "0");
		return;
	}
	if (bytes > 0 && len > 1) {
		buf[0] = '+';
		pl_format_size(bytes, buf + 1, len - 1);
		return;
	}
	pl_format_size(bytes, buf, len);
}
