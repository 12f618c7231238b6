// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>
#include "goheap/goheap.h"
#include "goheap/pagealloc.h"
#include "symbolize/procmaps.h"
#include "util/clock.h"

_Static_assert(PL_GO_HEAP_VERSION == PL_GO_VERSION_MAX, "version buffers differ");

/* pagemap entries (the kernel's Documentation/admin-guide/mm/pagemap.rst). */
#define PM_PRESENT (1ull << 63)
#define PM_SWAPPED (1ull << 62)
#define SYS_PAGE 4096ull
#define ATTEMPTS 2 /* a reading that raced a heap growth is taken once more */

/* One reading's state: the target's mappings and what has been spent. */
struct session {
	pid_t pid;
	struct pl_maps maps;
	struct pl_pagemap pm;
	uint64_t spent, deadline_ns;
	uint64_t page, page_entry; /* the last pagemap entry read, by page */
	bool have_page, swapped;
};

static bool spend(struct session *s, uint64_t bytes)
{
	if (bytes > PL_GOHEAP_BUDGET - s->spent)
		return false;
	s->spent += bytes;
	return true;
}

static int page_entry(struct session *s, uint64_t page, uint64_t *e)
{
	if (s->have_page && s->page == page) {
		*e = s->page_entry;
		return 0;
	}
	if (!spend(s, 8) || pread(s->pm.pagemap_fd, e, 8, (off_t)(page / SYS_PAGE * 8)) != 8)
		return -1;
	s->page = page, s->page_entry = *e, s->have_page = true;
	return 0;
}

/* [addr, addr+len) lies in readable mappings, one after the other. */
static bool in_mappings(const struct session *s, uint64_t addr, size_t len)
{
	uint64_t end = addr + len;

	if (end < addr)
		return false;
	while (addr < end) {
		const struct pl_map *m = pl_maps_find(&s->maps, addr);

		if (!m || !m->readable)
			return false;
		addr = m->end;
	}
	return true;
}

/* Copies a part of one page: resident pages only; never-touched ones are zeros. */
static int read_page_part(struct session *s, uint64_t addr, uint8_t *buf, size_t len)
{
	struct iovec local = {.iov_base = buf, .iov_len = len};
	struct iovec remote = {.iov_base = (void *)(uintptr_t)addr, .iov_len = len};
	uint64_t e;

	if (page_entry(s, addr & ~(SYS_PAGE - 1), &e))
		return -1;
	if (e & PM_SWAPPED) {
		s->swapped = true;
		return -1;
	}
	if (!(e & PM_PRESENT)) {
		memset(buf, 0, len);
		return 0;
	}
	if (!spend(s, len))
		return -1;
	return process_vm_readv(s->pid, &local, 1, &remote, 1, 0) == (ssize_t)len ? 0 : -1;
}

static int mem_read(void *ctx, uint64_t addr, void *buf, size_t len)
{
	struct session *s = ctx;
	uint8_t *out = buf;

	if (!in_mappings(s, addr, len))
		return -1;
	while (len) {
		size_t part = SYS_PAGE - (addr & (SYS_PAGE - 1));

		part = part < len ? part : len;
		if (read_page_part(s, addr, out, part))
			return -1;
		addr += part, out += part, len -= part;
	}
	return 0;
}

static int mem_resident(void *ctx, uint64_t base, uint64_t bits[PL_GO_SYS_PAGES / 64])
{
	static uint64_t e[PL_GO_SYS_PAGES]; /* 8 KiB: off the stack */
	struct session *s = ctx;

	if (!spend(s, sizeof(e)) ||
	    pread(s->pm.pagemap_fd, e, sizeof(e), (off_t)(base / SYS_PAGE * 8)) != sizeof(e))
		return -1;
	memset(bits, 0, PL_GO_SYS_PAGES / 8);
	for (unsigned i = 0; i < PL_GO_SYS_PAGES; i++)
		if (e[i] & PM_PRESENT)
			bits[i / 64] |= 1ull << (i % 64);
	return 0;
}

static bool mem_expired(void *ctx)
{
	const struct session *s = ctx;

	return pl_now_ns() > s->deadline_ns;
}

/* ---- the executable ------------------------------------------------------ */

static int stat_exe(pid_t pid, struct stat *st)
{
	char path[64];

	snprintf(path, sizeof(path), "/proc/%d/exe", (int)pid);
	return stat(path, st);
}

/*
 * Load bias: where the executable's mapping at file offset off starts,
 * against where the file puts that offset.
 */
static bool exe_bias(const struct pl_elf *e, const struct pl_maps *maps, uint64_t ino,
		     uint64_t *bias)
{
	for (size_t i = 0; i < maps->n; i++) {
		const struct pl_map *m = &maps->v[i];
		uint64_t va;

		if (m->inode != ino || !m->path || !pl_elf_offset_to_vaddr(e, m->offset, &va))
			continue;
		*bias = m->start - (va & ~(SYS_PAGE - 1));
		return true;
	}
	return false;
}

static void set_why(struct pl_goheap *g, const char *what)
{
	snprintf(g->why, sizeof(g->why), "%s", what);
}

/* Reads /proc/PID/exe once per executable: release, layout, mheap_ and the bias. */
static void analyze(struct pl_goheap *g, const struct pl_maps *maps, const struct stat *st)
{
	char path[64];
	struct pl_elf *e;
	uint64_t bias = 0;
	int fd;

	g->analyzed = true;
	g->exe_dev = st->st_dev, g->exe_ino = st->st_ino;
	snprintf(path, sizeof(path), "/proc/%d/exe", (int)g->pid);
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
	e = fd >= 0 ? pl_elf_open_fd(fd) : NULL;
	if (fd >= 0)
		close(fd);
	if (!e) {
		g->status = PL_GO_BIN_NOT_GO;
		set_why(g, "the executable is not a readable ELF file");
		return;
	}
	g->status = pl_go_binary_analyze(e, &g->bin, g->why, sizeof(g->why));
	if (g->status == PL_GO_BIN_OK && !exe_bias(e, maps, st->st_ino, &bias)) {
		g->status = PL_GO_BIN_NO_HEAP;
		set_why(g, "the executable's mapping is not in /proc/PID/maps");
	}
	g->mheap = g->bin.mheap + bias;
	pl_elf_close(e);
}

void pl_goheap_init(struct pl_goheap *g, pid_t pid, bool verbose)
{
	memset(g, 0, sizeof(*g));
	g->pid = pid;
	g->verbose = verbose;
}

static void say_once(struct pl_goheap *g, const char *reason)
{
	if (!g->verbose || !strcmp(g->said, reason))
		return;
	snprintf(g->said, sizeof(g->said), "%s", reason);
	fprintf(stderr, "pageledger: go_heap: null: %s\n", reason);
}

static void unknown(struct pl_goheap *g, struct pl_go_heap *out, const char *reason)
{
	out->known = false;
	snprintf(out->reason, sizeof(out->reason), "%s", reason);
	say_once(g, reason);
}

static int read_heap(struct pl_goheap *g, struct session *s, struct pl_go_heap *out)
{
	const struct pl_go_mem mem = {mem_read, mem_resident, mem_expired, s};
	int err = -1;

	for (int i = 0; i < ATTEMPTS && err; i++) {
		s->spent = 0, s->have_page = s->swapped = false;
		s->deadline_ns = pl_now_ns() + PL_GOHEAP_TIME_MS * 1000000ull;
		err = pl_go_pagealloc_read(g->bin.layout, g->mheap, &mem, out, g->why,
					   sizeof(g->why));
	}
	if (err && s->swapped)
		set_why(g, "the runtime's page-allocator data is swapped out");
	return err;
}

void pl_goheap_read(struct pl_goheap *g, struct pl_go_heap *out)
{
	struct session s = {.pid = g->pid, .pm = {.pagemap_fd = -1, .kpageflags_fd = -1}};
	struct stat st;

	memset(out, 0, sizeof(*out));
	if (stat_exe(g->pid, &st)) {
		unknown(g, out, "the process is gone");
		return;
	}
	/* The same executable as last time, and nothing to read in it: no more work. */
	if (g->analyzed && g->exe_dev == st.st_dev && g->exe_ino == st.st_ino &&
	    g->status != PL_GO_BIN_OK) {
		snprintf(out->version, sizeof(out->version), "%s", g->bin.version);
		unknown(g, out, g->why);
		return;
	}
	if (pl_maps_read(g->pid, &s.maps)) {
		unknown(g, out, "the process is gone");
		return;
	}
	if (!g->analyzed || g->exe_dev != st.st_dev || g->exe_ino != st.st_ino)
		analyze(g, &s.maps, &st);
	snprintf(out->version, sizeof(out->version), "%s", g->bin.version);
	if (g->status != PL_GO_BIN_OK) {
		unknown(g, out, g->why);
	} else if (pl_pagemap_open(&s.pm, g->pid)) {
		unknown(g, out, "/proc/PID/pagemap is not readable");
	} else {
		if (read_heap(g, &s, out))
			unknown(g, out, g->why);
		else
			out->known = true;
	}
	pl_pagemap_close(&s.pm);
	pl_maps_free(&s.maps);
}
