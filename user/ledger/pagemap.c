// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "ledger/pagemap.h"

/* Documented in the kernel's Documentation/admin-guide/mm/pagemap.rst. */
#define PM_PRESENT (1ull << 63)
#define PM_PFN_MASK ((1ull << 55) - 1)
#define KPF_THP 22

int pl_pagemap_open(struct pl_pagemap *p, pid_t pid)
{
	char path[64];

	snprintf(path, sizeof(path), "/proc/%d/pagemap", (int)pid);
	p->pagemap_fd = open(path, O_RDONLY | O_CLOEXEC);
	p->kpageflags_fd = open("/proc/kpageflags", O_RDONLY | O_CLOEXEC);
	return p->pagemap_fd < 0 ? -1 : 0;
}

void pl_pagemap_close(struct pl_pagemap *p)
{
	if (p->pagemap_fd >= 0)
		close(p->pagemap_fd);
	if (p->kpageflags_fd >= 0)
		close(p->kpageflags_fd);
	p->pagemap_fd = p->kpageflags_fd = -1;
}

/* Entries are 8 bytes per virtual page, at offset (address / 4096) * 8. */
static int read_entries(const struct pl_pagemap *p, uint64_t idx, uint64_t *e, size_t n)
{
	off_t off = (off_t)((idx << PL_CHUNK_SHIFT) / 4096 * 8);

	if (p->pagemap_fd < 0)
		return -1;
	return pread(p->pagemap_fd, e, n * 8, off) == (ssize_t)(n * 8) ? 0 : -1;
}

int pl_pagemap_presence(const struct pl_pagemap *p, uint64_t idx, uint64_t present[PL_CHUNK_WORDS])
{
	uint64_t e[PL_CHUNK_PAGES];

	memset(present, 0, PL_CHUNK_WORDS * sizeof(uint64_t));
	if (read_entries(p, idx, e, PL_CHUNK_PAGES))
		return -1;
	for (unsigned i = 0; i < PL_CHUNK_PAGES; i++)
		if (e[i] & PM_PRESENT)
			present[i / 64] |= 1ull << (i % 64);
	return 0;
}

/* Entries per pread: 64 chunks' worth, 256 KiB, in one system call. */
#define PRESENCE_BATCH (64 * PL_CHUNK_PAGES)

/*
 * Only [start, end) is read: the kernel walks only the page tables and the
 * VMAs of that range, so a small mapping costs a small read, not its chunk.
 */
int pl_pagemap_presence_range(const struct pl_pagemap *p, uint64_t start, uint64_t end,
			      pl_presence_fn fn, void *ctx)
{
	uint64_t first = start / 4096, last = (end + 4095) / 4096, cur = first / PL_CHUNK_PAGES;
	size_t batch = last - first < PRESENCE_BATCH ? (size_t)(last - first) : PRESENCE_BATCH;
	uint64_t *e = end > start && p->pagemap_fd >= 0 ? malloc(batch * 8) : NULL;
	uint64_t present[PL_CHUNK_WORDS] = {0};

	if (!e)
		return -1;
	for (uint64_t pg = first; pg < last; pg += batch) {
		size_t n = last - pg < batch ? (size_t)(last - pg) : batch;

		if (pread(p->pagemap_fd, e, n * 8, (off_t)(pg * 8)) != (ssize_t)(n * 8)) {
			free(e);
			return -1;
		}
		for (size_t i = 0; i < n; i++) {
			uint64_t page = pg + i, idx = page / PL_CHUNK_PAGES;
			unsigned bit = (unsigned)(page % PL_CHUNK_PAGES);

			if (idx != cur) {
				fn(ctx, cur, present);
				memset(present, 0, sizeof(present));
				cur = idx;
			}
			if (e[i] & PM_PRESENT)
				present[bit / 64] |= 1ull << (bit % 64);
		}
	}
	fn(ctx, cur, present);
	free(e);
	return 0;
}

/*
 * KPF_THP marks any large folio, 64 KiB ones too: a PMD-sized huge page
 * also has its first and last pages present and physically contiguous.
 */
int pl_pagemap_is_huge(const struct pl_pagemap *p, uint64_t idx)
{
	uint64_t head, tail, flags, first, last;
	off_t at = (off_t)((idx << PL_CHUNK_SHIFT) / 4096 * 8);

	if (p->kpageflags_fd < 0 || p->pagemap_fd < 0 || pread(p->pagemap_fd, &head, 8, at) != 8 ||
	    pread(p->pagemap_fd, &tail, 8, at + (PL_CHUNK_PAGES - 1) * 8) != 8)
		return -1;
	first = head & PM_PFN_MASK;
	last = tail & PM_PFN_MASK;
	if (!(head & PM_PRESENT) || !(tail & PM_PRESENT) || !first ||
	    last != first + PL_CHUNK_PAGES - 1)
		return 0;
	if (pread(p->kpageflags_fd, &flags, 8, (off_t)(first * 8)) != 8)
		return -1;
	return (flags >> KPF_THP) & 1;
}
