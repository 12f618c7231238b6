// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * reuse: mappings made again at the address of one just unmapped, for the
 * per-range ledger (a segment that outlives its mapping). Each of THREADS
 * threads reserves ROUNDS slots of 17 pages after one page (PROT_NONE), and
 * in each slot:
 *
 *   maps 16 pages at the slot, touches all 16, unmaps them,
 *   maps 16 pages at the same address again and touches the first 8.
 *
 * The PROT_NONE page after each slot keeps the slots separate VMAs, and the
 * one before the first keeps its hole from joining the free space below
 * (where another thread's stack would go). All
 * threads run at once. Each prints {"op":"laid","tid","first","stride","n"}
 * when done; then the process prints {"done":1} and holds still until
 * SIGUSR2. Every slot ends with 8 pages resident, and 16 went with the
 * mapping unmapped before.
 *
 *   reuse [--wait] THREADS ROUNDS
 *
 * --wait: print {"ready":PID} and wait for SIGUSR1 first (for -p attach).
 */
#include <sys/syscall.h>
#include "threaded.h"

#ifndef MAP_FIXED_NOREPLACE
#define MAP_FIXED_NOREPLACE 0x100000
#endif

#define SLOT (16 * PAGE)
#define STRIDE (SLOT + PAGE)
#define KEPT (8 * PAGE)

static long rounds;

/* Into the hole left at `at`: never over another mapping. */
static char *map_into_hole(char *at)
{
	char *p = mmap(at, SLOT, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0);

	if (p == MAP_FAILED || p != at)
		die("mmap into the hole");
	return p;
}

static void *reuse_slots(void *arg)
{
	char *below = mmap(NULL, PAGE + (size_t)rounds * STRIDE, PROT_NONE,
			   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	char line[200], *first;
	int n;

	(void)arg;
	if (below == MAP_FAILED)
		die("mmap reservation");
	first = below + PAGE;
	for (long i = 0; i < rounds; i++) {
		char *at = first + i * STRIDE;

		if (munmap(at, SLOT))
			die("munmap reservation");
		touch(map_into_hole(at), SLOT);
		if (munmap(at, SLOT))
			die("munmap");
		touch(map_into_hole(at), KEPT);
	}
	n = snprintf(line, sizeof(line),
		     "{\"op\":\"laid\",\"tid\":%ld,\"first\":%lu,\"stride\":%lu,\"n\":%ld}\n",
		     (long)syscall(SYS_gettid), (unsigned long)first, (unsigned long)STRIDE,
		     rounds);
	if (write(STDOUT_FILENO, line, (size_t)n) != n)
		die("write");
	return NULL;
}

int main(int argc, char **argv)
{
	return threaded_main(argc, argv, "reuse", &rounds, reuse_slots);
}
