// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * threads N MIB: a multi-threaded target for attach tests (-p by a thread
 * id, inside PID namespaces). N threads start and park; the process prints
 *   {"ready":PID,"tids":[TID,...]}
 * (ids as its own PID namespace numbers them) and waits for SIGUSR1. Then
 * each thread in turn maps MIB, touches it, gives it back with
 * MADV_DONTNEED and unmaps it, printing one step line per call:
 *   {"op":"madvise","tid":TID,"addr":A,"len":L}
 * One thread at a time, so each call's RSS change is its own to the byte.
 * It prints {"done":true} and waits for SIGUSR2 before it exits, so that a
 * tracer can read its /proc at the end.
 */
#include <pthread.h>
#include <signal.h>
#include <sys/syscall.h>
#include "common.h"

#define MAX_THREADS 64

static pthread_mutex_t turn_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t turn_cond = PTHREAD_COND_INITIALIZER;
static int turn = -1; /* whose turn it is: -1 until the go signal */
static size_t len;
static pid_t tids[MAX_THREADS];
static int n_threads;

static void step(const char *op, pid_t tid, void *addr)
{
	printf("{\"op\":\"%s\",\"tid\":%d,\"addr\":%lu,\"len\":%zu}\n", op, tid,
	       (unsigned long)addr, len);
	fflush(stdout);
}

static void release_once(pid_t tid)
{
	void *p = map_anon(len, 0);

	touch(p, len);
	if (madvise(p, len, MADV_DONTNEED))
		die("madvise(MADV_DONTNEED)");
	step("madvise", tid, p);
	if (munmap(p, len))
		die("munmap");
	step("munmap", tid, p);
}

static void *worker(void *arg)
{
	int me = (int)(long)arg;

	pthread_mutex_lock(&turn_lock);
	tids[me] = (pid_t)syscall(SYS_gettid);
	pthread_cond_broadcast(&turn_cond);
	while (turn != me)
		pthread_cond_wait(&turn_cond, &turn_lock);
	pthread_mutex_unlock(&turn_lock);
	release_once(tids[me]);
	pthread_mutex_lock(&turn_lock);
	turn++;
	pthread_cond_broadcast(&turn_cond);
	pthread_mutex_unlock(&turn_lock);
	return NULL;
}

static void wait_signal(int sig)
{
	sigset_t set;
	int got;

	sigemptyset(&set);
	sigaddset(&set, sig);
	sigwait(&set, &got);
}

static void print_ready(void)
{
	printf("{\"ready\":%d,\"tids\":[", getpid());
	for (int i = 0; i < n_threads; i++)
		printf("%s%d", i ? "," : "", tids[i]);
	printf("]}\n");
	fflush(stdout);
}

int main(int argc, char **argv)
{
	pthread_t th[MAX_THREADS];
	sigset_t set;

	if (argc != 3) {
		fprintf(stderr, "usage: threads N MIB\n");
		return 2;
	}
	n_threads = (int)arg_long(argv[1], "N");
	len = (size_t)arg_long(argv[2], "MiB") * MiB;
	if (n_threads < 1 || n_threads > MAX_THREADS) {
		fprintf(stderr, "workload: N must be 1 to %d\n", MAX_THREADS);
		return 2;
	}
	no_thp();
	/* Blocked in every thread: sigwait in main takes them. */
	sigemptyset(&set);
	sigaddset(&set, SIGUSR1);
	sigaddset(&set, SIGUSR2);
	pthread_sigmask(SIG_BLOCK, &set, NULL);
	for (long i = 0; i < n_threads; i++)
		if (pthread_create(&th[i], NULL, worker, (void *)i))
			die("pthread_create");
	pthread_mutex_lock(&turn_lock);
	for (int i = 0; i < n_threads; i++)
		while (!tids[i])
			pthread_cond_wait(&turn_cond, &turn_lock);
	pthread_mutex_unlock(&turn_lock);
	print_ready();
	wait_signal(SIGUSR1);
	pthread_mutex_lock(&turn_lock);
	turn = 0;
	pthread_cond_broadcast(&turn_cond);
	pthread_mutex_unlock(&turn_lock);
	for (int i = 0; i < n_threads; i++)
		pthread_join(th[i], NULL);
	printf("{\"done\":true}\n");
	fflush(stdout);
	wait_signal(SIGUSR2);
	return 0;
}
