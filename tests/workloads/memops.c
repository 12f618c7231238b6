// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * memops: one memory scenario per run, for the end-to-end tests. Each step
 * prints a JSON line naming the call, its range and what it should do, so a
 * test can check pageledger's report against what really happened.
 *
 *   memops [--wait] SCENARIO MIB
 *
 * --wait: print {"ready":PID} and wait for SIGUSR1 first (for -p attach).
 */
#include <fcntl.h>
#include <signal.h>
#include <stdbool.h>
#include <sys/syscall.h>
#include "common.h"

#ifndef MREMAP_MAYMOVE
#define MREMAP_MAYMOVE 1
#define MREMAP_FIXED 2
#endif

static void step(const char *op, void *addr, size_t len, const char *extra)
{
	printf("{\"op\":\"%s\",\"addr\":%lu,\"len\":%zu%s%s}\n", op, (unsigned long)addr, len,
	       extra ? "," : "", extra ? extra : "");
	fflush(stdout);
}

static void scenario_populate(size_t len)
{
	void *p = map_anon(len, MAP_POPULATE);

	step("mmap-populate", p, len, NULL);
	if (munmap(p, len))
		die("munmap");
	step("munmap", p, len, NULL);
}

static void scenario_touch(size_t len)
{
	void *p = map_anon(len, 0);

	step("mmap", p, len, NULL);
	touch(p, len);
	step("touch", p, len, NULL);
	if (munmap(p, len))
		die("munmap");
	step("munmap", p, len, NULL);
}

static void scenario_advise(size_t len, int advice, const char *name)
{
	char extra[64];
	void *p = map_anon(len, 0);

	touch(p, len);
	if (madvise(p, len, advice))
		die("madvise");
	snprintf(extra, sizeof(extra), "\"advice\":\"%s\"", name);
	step("madvise", p, len, extra);
	if (munmap(p, len))
		die("munmap");
	step("munmap", p, len, NULL);
}

/* Unmaps the middle half of a touched mapping, then the two ends. */
static void scenario_munmap_partial(size_t len)
{
	char *p = map_anon(len, 0);
	size_t q = len / 4;

	touch(p, len);
	if (munmap(p + q, 2 * q))
		die("munmap middle");
	step("munmap-middle", p + q, 2 * q, NULL);
	if (munmap(p, q) || munmap(p + 3 * q, q))
		die("munmap ends");
	step("munmap-ends", p, q, NULL);
}

/* Grow in place or by moving, move to a fixed address, shrink. */
static void scenario_mremap(size_t len)
{
	char *p = map_anon(len, 0), *q, *dest, *r;
	char extra[96];

	touch(p, len);
	q = mremap(p, len, 2 * len, MREMAP_MAYMOVE);
	if (q == MAP_FAILED)
		die("mremap grow");
	snprintf(extra, sizeof(extra), "\"old_addr\":%lu,\"old_len\":%zu", (unsigned long)p, len);
	step("mremap-grow", q, 2 * len, extra);
	/* A reserved destination, replaced by the move. */
	dest = mmap(NULL, 2 * len, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (dest == MAP_FAILED)
		die("mmap dest");
	r = mremap(q, 2 * len, 2 * len, MREMAP_MAYMOVE | MREMAP_FIXED, dest);
	if (r == MAP_FAILED)
		die("mremap move");
	snprintf(extra, sizeof(extra), "\"old_addr\":%lu,\"old_len\":%zu", (unsigned long)q,
		 2 * len);
	step("mremap-move", r, 2 * len, extra);
	touch(r + len, len);
	if (mremap(r, 2 * len, len, 0) == MAP_FAILED)
		die("mremap shrink");
	snprintf(extra, sizeof(extra), "\"old_len\":%zu", 2 * len);
	step("mremap-shrink", r, len, extra);
	if (munmap(r, len))
		die("munmap");
	step("munmap", r, len, NULL);
}

/*
 * Raw brk calls, above glibc's heap. stdout gets its buffer first: malloc
 * would otherwise sbrk from glibc's cached break and cut our region short.
 */
static void scenario_brk(size_t len)
{
	unsigned long cur, base, grown;
	char extra[64];

	step("brk-start", NULL, 0, NULL);
	cur = (unsigned long)syscall(SYS_brk, 0);
	base = (cur + PAGE - 1) & ~(PAGE - 1);

	grown = (unsigned long)syscall(SYS_brk, base + len);
	if (grown != base + len)
		die("brk grow");
	snprintf(extra, sizeof(extra), "\"old_brk\":%lu", cur);
	step("brk-grow", (void *)cur, base + len - cur, extra);
	touch((void *)base, len);
	if ((unsigned long)syscall(SYS_brk, base) != base)
		die("brk shrink");
	snprintf(extra, sizeof(extra), "\"old_brk\":%lu", base + len);
	step("brk-shrink", (void *)base, len, extra);
}

/*
 * For process_madvise: maps a file we create, reads every page so it is
 * resident and clean, then waits for another process to advise it.
 */
static void scenario_file_target(size_t len)
{
	char path[] = "/var/tmp/pageledger-memops-XXXXXX";
	char chunk[4096] = {1};
	sigset_t set;
	int fd = mkstemp(path), sig;
	void *p;

	if (fd < 0)
		die("mkstemp");
	unlink(path);
	for (size_t off = 0; off < len; off += sizeof(chunk))
		if (write(fd, chunk, sizeof(chunk)) != (ssize_t)sizeof(chunk))
			die("write");
	fsync(fd);
	p = mmap(NULL, len, PROT_READ, MAP_SHARED, fd, 0);
	if (p == MAP_FAILED)
		die("mmap file");
	read_pages(p, len);
	sigemptyset(&set);
	sigaddset(&set, SIGUSR2);
	sigprocmask(SIG_BLOCK, &set, NULL);
	step("file-mapped", p, len, NULL);
	sigwait(&set, &sig);
	step("done", p, len, NULL);
}

/*
 * Touches a mapping (and gives it back with MADV_FREE if lazy), then holds
 * still until SIGUSR2: a quiescent point.
 */
static void scenario_hold(size_t len, bool lazy)
{
	sigset_t set;
	void *p = map_anon(len, 0);
	int sig;

	sigemptyset(&set);
	sigaddset(&set, SIGUSR2);
	sigprocmask(SIG_BLOCK, &set, NULL);
	touch(p, len);
	if (lazy && madvise(p, len, MADV_FREE))
		die("madvise(MADV_FREE)");
	step("holding", p, len, NULL);
	sigwait(&set, &sig);
}

#define HUGE (2 * MiB)

/* Blocks SIGUSR2 now, so a signal sent early waits for hold(). */
static void block_hold_signal(void)
{
	sigset_t set;

	sigemptyset(&set);
	sigaddset(&set, SIGUSR2);
	sigprocmask(SIG_BLOCK, &set, NULL);
}

/* A quiescent point: still until SIGUSR2. */
static void hold(void)
{
	sigset_t set;
	int sig;

	sigemptyset(&set);
	sigaddset(&set, SIGUSR2);
	sigwait(&set, &sig);
}

/* len bytes at a 2 MiB boundary, inside a mapping 2 MiB longer. */
static char *map_aligned(size_t len)
{
	char *raw = map_anon(len + HUGE, 0);

	return (char *)(((uintptr_t)raw + HUGE - 1) & ~(uintptr_t)(HUGE - 1));
}

#define CHURN_DELAY_MS 300

/*
 * Churn: touch, give it all back with MADV_DONTNEED, wait, touch it all
 * again. Every page is a refault, CHURN_DELAY_MS or more after its release.
 */
static void scenario_churn(size_t len)
{
	struct timespec delay = {0, CHURN_DELAY_MS * 1000000L};
	char *p = map_aligned(len), extra[64];

	block_hold_signal();
	touch(p, len);
	if (madvise(p, len, MADV_DONTNEED))
		die("madvise(MADV_DONTNEED)");
	step("released", p, len, NULL);
	nanosleep(&delay, NULL);
	touch(p, len);
	snprintf(extra, sizeof(extra), "\"delay_ms\":%d", CHURN_DELAY_MS);
	step("refaulted", p, len, extra);
	hold();
}

/*
 * Splits a touched, 2 MiB-aligned mapping in four quarters: unmaps the
 * middle two, moves the last to a reserved 2 MiB-aligned place, then holds.
 */
static void scenario_split(size_t len)
{
	char *p = map_aligned(len), *dest = map_aligned(len / 4), *moved;
	size_t q = len / 4;
	char extra[96];

	block_hold_signal();
	touch(p, len);
	if (munmap(p + q, 2 * q))
		die("munmap middle");
	step("munmap-middle", p + q, 2 * q, NULL);
	moved = mremap(p + 3 * q, q, q, MREMAP_MAYMOVE | MREMAP_FIXED, dest);
	if (moved == MAP_FAILED)
		die("mremap move");
	snprintf(extra, sizeof(extra), "\"old_addr\":%lu", (unsigned long)(p + 3 * q));
	step("mremap-move", moved, q, extra);
	step("holding", p, q, NULL);
	hold();
}

#ifndef MADV_COLLAPSE
#define MADV_COLLAPSE 25
#endif

/*
 * Huge-page holes: a 2 MiB-aligned region, one 4 KiB page touched per huge
 * page, then MADV_HUGEPAGE (after the touches, so the faults were 4 KiB).
 * khugepaged may now fill each range back to 2 MiB; with collapse, the
 * process asks for it itself with MADV_COLLAPSE. Then it holds still.
 */
static void scenario_holes(size_t len, bool collapse)
{
	char *raw = map_anon(len + HUGE, 0);
	char *p = (char *)(((uintptr_t)raw + HUGE - 1) & ~(uintptr_t)(HUGE - 1));
	char extra[48];
	sigset_t set;
	int sig;

	sigemptyset(&set);
	sigaddset(&set, SIGUSR2);
	sigprocmask(SIG_BLOCK, &set, NULL);
	for (size_t off = 0; off < len; off += HUGE)
		p[off] = 1;
	if (madvise(p, len, MADV_HUGEPAGE))
		die("madvise(MADV_HUGEPAGE)");
	if (collapse && madvise(p, len, MADV_COLLAPSE))
		die("madvise(MADV_COLLAPSE)");
	snprintf(extra, sizeof(extra), "\"huge_pages\":%zu", len / HUGE);
	step("holding", p, len, extra);
	sigwait(&set, &sig);
}

int main(int argc, char **argv)
{
	int i = 1;
	size_t len;

	if (argc > 1 && !strcmp(argv[1], "--wait"))
		i++;
	if (argc - i != 2) {
		fprintf(stderr, "usage: memops [--wait] SCENARIO MIB\n");
		return 2;
	}
	/* Exact figures need 4 KiB pages; only the huge-page scenarios want THP. */
	if (strncmp(argv[i], "holes", 5))
		no_thp();
	len = (size_t)arg_long(argv[i + 1], "MiB") * MiB;
	if (i == 2)
		wait_for_go();
	if (!strcmp(argv[i], "populate"))
		scenario_populate(len);
	else if (!strcmp(argv[i], "touch"))
		scenario_touch(len);
	else if (!strcmp(argv[i], "dontneed"))
		scenario_advise(len, MADV_DONTNEED, "MADV_DONTNEED");
	else if (!strcmp(argv[i], "free"))
		scenario_advise(len, MADV_FREE, "MADV_FREE");
	else if (!strcmp(argv[i], "munmap-partial"))
		scenario_munmap_partial(len);
	else if (!strcmp(argv[i], "mremap"))
		scenario_mremap(len);
	else if (!strcmp(argv[i], "brk"))
		scenario_brk(len);
	else if (!strcmp(argv[i], "hold"))
		scenario_hold(len, false);
	else if (!strcmp(argv[i], "free-hold"))
		scenario_hold(len, true);
	else if (!strcmp(argv[i], "holes"))
		scenario_holes(len, false);
	else if (!strcmp(argv[i], "holes-collapse"))
		scenario_holes(len, true);
	else if (!strcmp(argv[i], "churn"))
		scenario_churn(len);
	else if (!strcmp(argv[i], "split"))
		scenario_split(len);
	else if (!strcmp(argv[i], "file-target"))
		scenario_file_target(len);
	else {
		fprintf(stderr, "memops: unknown scenario '%s'\n", argv[i]);
		return 2;
	}
	return 0;
}
