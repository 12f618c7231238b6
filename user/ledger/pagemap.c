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

/* Chunks per pread: 64 chunks of entries is 256 KiB, read in one system call. */
#define PRESENCE_BATCH 64

int pl_pagemap_presence_range(const struct pl_pagemap *p, uint64_t start, uint64_t end,
			      pl_presence_fn fn, void *ctx)
{
	uint64_t first = start >> PL_CHUNK_SHIFT, last = (end - 1) >> PL_CHUNK_SHIFT;
	size_t batch = last - first + 1 < PRESENCE_BATCH ? last - first + 1 : PRESENCE_BATCH;
	uint64_t *e = end > start ? malloc(batch * PL_CHUNK_PAGES * 8) : NULL;
	int err = e ? 0 : -1;

	for (uint64_t idx = first; !err && idx <= last; idx += batch) {
		size_t n = last - idx + 1 < batch ? last - idx + 1 : batch;

		err = read_entries(p, idx, e, n * PL_CHUNK_PAGES);
		for (size_t c = 0; !err && c < n; c++) {
			uint64_t present[PL_CHUNK_WORDS] = {0};
			const uint64_t *ce = e + c * PL_CHUNK_PAGES;

			for (unsigned i = 0; i < PL_CHUNK_PAGES; i++)
				if (ce[i] & PM_PRESENT)
					present[i / 64] |= 1ull << (i % 64);
			fn(ctx, idx + c, present);
		}
	}
	free(e);
	return err;
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
