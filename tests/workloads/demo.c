// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * demo: the README's first command traces this. It maps and touches 64 MiB,
 * gives half back with MADV_DONTNEED and half with MADV_FREE, and says what
 * it did and what /proc/self/status showed after each step (on stderr, so
 * pageledger's own stdout stays clean).
 */
#include "common.h"

#define SIZE (64 * MiB)

static void say(const char *what, const void *addr, size_t len)
{
	fprintf(stderr, "demo: %-34s %p +%3zu MiB   RssAnon %6ld kB\n", what, addr, len / MiB,
		status_kb("RssAnon"));
}

static void pause_briefly(void)
{
	struct timespec ts = {.tv_nsec = 200 * 1000 * 1000};

	nanosleep(&ts, NULL);
}

int main(void)
{
	char *p;

	no_thp();
	p = map_anon(SIZE, 0);
	say("mmap (no RSS until touched)", p, SIZE);
	touch(p, SIZE);
	say("touched every page", p, SIZE);
	pause_briefly();
	if (madvise(p, SIZE / 2, MADV_DONTNEED))
		die("madvise(MADV_DONTNEED)");
	say("madvise(MADV_DONTNEED) first half", p, SIZE / 2);
	pause_briefly();
	if (madvise(p + SIZE / 2, SIZE / 2, MADV_FREE))
		die("madvise(MADV_FREE)");
	say("madvise(MADV_FREE) second half", p + SIZE / 2, SIZE / 2);
	fprintf(stderr, "demo: MADV_FREE pages stay resident until reclaim or unmap\n");
	pause_briefly();
	if (munmap(p, SIZE))
		die("munmap");
	say("munmap everything", p, SIZE);
	return 0;
}
