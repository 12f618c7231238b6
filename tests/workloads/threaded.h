/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* The run of a threaded layout workload: threads at once, then hold for the reader. */
#ifndef PL_WORKLOAD_THREADED_H
#define PL_WORKLOAD_THREADED_H

#include <pthread.h>
#include "common.h"

/*
 * Blocks SIGUSR1 and SIGUSR2 (the threads inherit it, so signals wait for
 * main), waits for SIGUSR1 if asked (--wait: the tracer attaches first),
 * runs fn on THREADS threads (1 to 64) at once, prints {"done":1} when all
 * are joined and holds until SIGUSR2, so the layout can be read.
 */
static inline void run_threads_then_hold(long threads, bool wait_first, void *(*fn)(void *))
{
	pthread_t tids[64];
	sigset_t set;

	sigemptyset(&set);
	sigaddset(&set, SIGUSR1);
	sigaddset(&set, SIGUSR2);
	sigprocmask(SIG_BLOCK, &set, NULL);
	if (wait_first)
		wait_for_signal(SIGUSR1, true);
	for (long t = 0; t < threads; t++)
		if (pthread_create(&tids[t], NULL, fn, NULL))
			die("pthread_create");
	for (long t = 0; t < threads; t++)
		pthread_join(tids[t], NULL);
	printf("{\"done\":1}\n");
	fflush(stdout);
	wait_for_signal(SIGUSR2, false);
}

/*
 * main() of such a workload: NAME [--wait] THREADS ROUNDS, ROUNDS to *rounds
 * before the threads start. Returns the exit status (2: bad arguments).
 */
static inline int threaded_main(int argc, char **argv, const char *name, long *rounds,
				void *(*fn)(void *))
{
	int i = argc > 1 && !strcmp(argv[1], "--wait") ? 2 : 1;
	long threads;

	if (argc - i != 2) {
		fprintf(stderr, "usage: %s [--wait] THREADS ROUNDS\n", name);
		return 2;
	}
	threads = arg_long(argv[i], "THREADS");
	*rounds = arg_long(argv[i + 1], "ROUNDS");
	if (threads < 1 || threads > 64 || *rounds < 1 || *rounds > 4096) {
		fprintf(stderr, "workload: THREADS must be 1 to 64 and ROUNDS 1 to 4096\n");
		return 2;
	}
	no_thp();
	run_threads_then_hold(threads, i == 2, fn);
	return 0;
}

#endif
