// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * steady MIB [SECONDS]: a process to watch live. It holds MIB of touched
 * anonymous memory, then ten times a second
 *   - maps 4 MiB, touches it, gives it back with MADV_DONTNEED, unmaps it
 *     (the program itself releases 40 MiB/s);
 *   - mallocs 2 MiB, touches it and frees it (glibc's free unmaps it:
 *     20 MiB/s);
 * so it faults about 15K pages a second. For SECONDS (default 60), or until
 * a signal ends it. Prints nothing: the live view owns the terminal.
 */
#include <malloc.h>
#include "common.h"

#define ROUND_NS 100000000ull
#define OWN (4 * MiB)
#define HEAP (2 * MiB)

static void one_round(void)
{
	void *p = map_anon(OWN, 0);
	void *q;

	touch(p, OWN);
	if (madvise(p, OWN, MADV_DONTNEED))
		die("madvise(MADV_DONTNEED)");
	if (munmap(p, OWN))
		die("munmap");
	q = malloc(HEAP); /* above the mmap threshold: its own mapping */
	if (!q)
		die("malloc");
	touch(q, HEAP);
	free(q);
}

int main(int argc, char **argv)
{
	size_t len;
	long seconds = 60;
	uint64_t end, next;
	void *held;

	if (argc != 2 && argc != 3) {
		fprintf(stderr, "usage: steady MIB [SECONDS]\n");
		return 2;
	}
	len = (size_t)arg_long(argv[1], "MiB") * MiB;
	if (argc == 3)
		seconds = arg_long(argv[2], "seconds");
	/* A fixed threshold: glibc would otherwise raise it after the first free. */
	mallopt(M_MMAP_THRESHOLD, 128 * 1024);
	no_thp(); /* 4 KiB pages: one fault per page, exact sizes */
	held = map_anon(len ? len : PAGE, 0);
	touch(held, len);
	end = now_ns() + (uint64_t)seconds * 1000000000ull;
	for (next = now_ns(); next < end;) {
		struct timespec ts;

		one_round();
		next += ROUND_NS; /* a steady pace, however long a round took */
		ts.tv_sec = (time_t)(next / 1000000000ull);
		ts.tv_nsec = (long)(next % 1000000000ull);
		clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL);
	}
	return 0;
}
