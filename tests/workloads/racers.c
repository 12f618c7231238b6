// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * racers: releases from several threads at once, each checkable to the byte.
 *
 *   racers [--wait] THREADS ROUNDS [LINGER_MS]
 *
 * THREADS releasing threads each own a 2 MiB window. Every round a thread
 * touches a random half of its window's pages, counts the resident ones
 * with mincore() and releases the window: MADV_DONTNEED, munmap (then maps
 * a fresh window) or MADV_FREE, in turn. Nobody else touches that window,
 * so the kernel's RSS change for the call is exactly -resident (0 for
 * MADV_FREE). One more thread faults continuously in a region of its own
 * and unmaps it whole every 8 MiB, so other threads' faults and folds of
 * the per-CPU RSS counters land inside every call.
 *
 * Each call prints one JSON line: {"op","tid","addr","len","resident"}.
 * --wait: print {"ready":PID} and wait for SIGUSR1 first (for -p attach).
 * LINGER_MS: stay alive and idle this long at the end, printing {"done":1}
 * first, so a tracer can take settled balances of the final state.
 */
#include <pthread.h>
#include <sched.h>
#include <stdbool.h>
#include <signal.h>
#include <stdatomic.h>
#include <sys/syscall.h>
#include "common.h"

#define WINDOW (2 * MiB)
#define FAULT_REGION (8 * MiB)

static long rounds;

/* RACERS_PIN=1: each thread on one CPU (threads in turn), to tell races from migrations. */
static void maybe_pin(long i)
{
	cpu_set_t set;

	if (!getenv("RACERS_PIN"))
		return;
	CPU_ZERO(&set);
	CPU_SET((int)(i % sysconf(_SC_NPROCESSORS_ONLN)), &set);
	sched_setaffinity(0, sizeof(set), &set);
}
static atomic_int releasers_left;

static void report(const char *op, void *addr, size_t len, long resident)
{
	char line[160];
	int n = snprintf(line, sizeof(line),
			 "{\"op\":\"%s\",\"tid\":%ld,\"addr\":%lu,\"len\":%zu,\"resident\":%ld}\n",
			 op, (long)syscall(SYS_gettid), (unsigned long)addr, len, resident);

	/* One write per line: lines from several threads never interleave. */
	if (write(STDOUT_FILENO, line, (size_t)n) != n)
		die("write");
}

static long resident_bytes(void *p, size_t len)
{
	unsigned char vec[WINDOW / PAGE];
	long n = 0;

	if (mincore(p, len, vec))
		die("mincore");
	for (size_t i = 0; i < len / PAGE; i++)
		n += vec[i] & 1;
	return n * (long)PAGE;
}

/* A random half of the pages, chosen afresh every round. */
static void touch_half(char *p, unsigned int *seed)
{
	for (size_t off = 0; off < WINDOW; off += PAGE)
		if (rand_r(seed) & 1)
			p[off] = 1;
}

static void *releaser(void *arg)
{
	unsigned int seed = (unsigned int)(uintptr_t)arg * 2654435761u;
	char *p = map_anon(WINDOW, 0);

	maybe_pin((long)(uintptr_t)arg);
	for (long r = 0; r < rounds; r++) {
		long resident;

		touch_half(p, &seed);
		resident = resident_bytes(p, WINDOW);
		switch (r % 3) {
		case 0:
			if (madvise(p, WINDOW, MADV_DONTNEED))
				die("madvise");
			report("dontneed", p, WINDOW, resident);
			break;
		case 1:
			if (munmap(p, WINDOW))
				die("munmap");
			report("munmap", p, WINDOW, resident);
			p = map_anon(WINDOW, 0);
			break;
		default:
			if (madvise(p, WINDOW, MADV_FREE))
				die("madvise");
			report("free", p, WINDOW, resident);
			/* Written again: kept, not reclaimed, so the next count stays exact. */
			break;
		}
	}
	munmap(p, WINDOW);
	atomic_fetch_sub(&releasers_left, 1);
	return NULL;
}

static void *faulter(void *arg)
{
	(void)arg;
	maybe_pin(0);
	while (atomic_load(&releasers_left) > 0) {
		char *p = map_anon(FAULT_REGION, 0);
		long resident;

		touch(p, FAULT_REGION);
		resident = resident_bytes(p, WINDOW) + resident_bytes(p + WINDOW, WINDOW) +
			   resident_bytes(p + 2 * WINDOW, WINDOW) +
			   resident_bytes(p + 3 * WINDOW, WINDOW);
		if (munmap(p, FAULT_REGION))
			die("munmap");
		report("faulter-munmap", p, FAULT_REGION, resident);
	}
	return NULL;
}

int main(int argc, char **argv)
{
	bool wait = argc > 1 && !strcmp(argv[1], "--wait");
	pthread_t tids[64], fault_tid;
	long threads;

	long linger = 0;

	if (argc != 3 + wait && argc != 4 + wait) {
		fprintf(stderr, "usage: racers [--wait] THREADS ROUNDS [LINGER_MS]\n");
		return 2;
	}
	if (argc == 4 + wait)
		linger = arg_long(argv[3 + wait], "LINGER_MS");
	no_thp();
	threads = arg_long(argv[1 + wait], "THREADS");
	rounds = arg_long(argv[2 + wait], "ROUNDS");
	if (threads < 1 || threads > 64) {
		fprintf(stderr, "workload: THREADS must be 1..64\n");
		return 2;
	}
	if (wait)
		wait_for_go();
	atomic_store(&releasers_left, (int)threads);
	if (pthread_create(&fault_tid, NULL, faulter, NULL))
		die("pthread_create");
	for (long i = 0; i < threads; i++)
		if (pthread_create(&tids[i], NULL, releaser, (void *)(uintptr_t)(i + 1)))
			die("pthread_create");
	for (long i = 0; i < threads; i++)
		pthread_join(tids[i], NULL);
	pthread_join(fault_tid, NULL);
	if (linger) {
		struct timespec ts = {linger / 1000, (linger % 1000) * 1000000};

		printf("{\"done\":1}\n");
		fflush(stdout);
		nanosleep(&ts, NULL);
	}
	return 0;
}
