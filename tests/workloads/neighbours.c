// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * neighbours: mappings that share a 2 MiB chunk, for the per-range
 * ledger's precision. Each of THREADS threads lays out, inside a 2 MiB
 * aligned chunk of its own:
 *
 *   busy   1536 KiB  touched ROUNDS times, half given back with
 *                    MADV_DONTNEED each round (faults and refaults)
 *   (one PROT_NONE page, so the two stay separate VMAs)
 *   small    52 KiB  touched once
 *
 * Then it unmaps the middle of busy (leaving two pieces in the chunk) and
 * moves the last 16 KiB of small elsewhere with mremap. All threads run at
 * once. Each prints {"op":"laid","tid","busy","small","moved"} when done;
 * then the process prints {"done":1} and holds still until SIGUSR2.
 *
 *   neighbours [--wait] THREADS ROUNDS
 *
 * --wait: print {"ready":PID} and wait for SIGUSR1 first (for -p attach).
 */
#include <signal.h>
#include <stdbool.h>
#include <sys/syscall.h>
#include "threaded.h"

#ifndef MREMAP_MAYMOVE
#define MREMAP_MAYMOVE 1
#define MREMAP_FIXED 2
#endif

#define CHUNK (2 * MiB)
#define BUSY (1536 * 1024ul)
#define SMALL (52 * 1024ul)
#define MOVED (16 * 1024ul)

static long rounds;

/* A 2 MiB aligned chunk inside a PROT_NONE reservation of twice that. */
static char *reserve_chunk(void)
{
	char *raw = mmap(NULL, 2 * CHUNK, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	if (raw == MAP_FAILED)
		die("mmap reservation");
	return (char *)(((uintptr_t)raw + CHUNK - 1) & ~(uintptr_t)(CHUNK - 1));
}

static char *map_at(char *at, size_t len)
{
	char *p =
	    mmap(at, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0);

	if (p == MAP_FAILED)
		die("mmap fixed");
	return p;
}

static void *lay_out(void *arg)
{
	char *base = reserve_chunk(), *dest = reserve_chunk(), *busy, *small, *moved;
	char line[200];
	int n;

	(void)arg;
	busy = map_at(base, BUSY);
	small = map_at(base + BUSY + PAGE, SMALL);
	touch(small, SMALL);
	for (long i = 0; i < rounds; i++) {
		touch(busy, BUSY);
		if (madvise(busy, BUSY / 2, MADV_DONTNEED))
			die("madvise");
	}
	if (munmap(busy + 512 * 1024, 256 * 1024))
		die("munmap middle");
	moved = mremap(small + SMALL - MOVED, MOVED, MOVED, MREMAP_MAYMOVE | MREMAP_FIXED, dest);
	if (moved == MAP_FAILED)
		die("mremap");
	n = snprintf(line, sizeof(line),
		     "{\"op\":\"laid\",\"tid\":%ld,\"busy\":%lu,\"small\":%lu,\"moved\":%lu}\n",
		     (long)syscall(SYS_gettid), (unsigned long)busy, (unsigned long)small,
		     (unsigned long)moved);
	if (write(STDOUT_FILENO, line, (size_t)n) != n)
		die("write");
	return NULL;
}

int main(int argc, char **argv)
{
	return threaded_main(argc, argv, "neighbours", &rounds, lay_out);
}
