// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * mapchurn: many small mappings at random addresses, replaced without end,
 * for the tracer's cost under churn (work per change, memory that stays
 * flat, an end that comes at once).
 *
 *   mapchurn THREADS SECONDS [SLOTS]
 *
 * SLOTS mappings (default 2000) are shared out among THREADS threads. Each
 * thread picks one of its slots at random, again and again: an empty slot
 * gets a mapping of 1 to 16 pages at a random address in a 4 TiB window
 * (MAP_FIXED_NOREPLACE), touched; a full one is unmapped, given back with
 * MADV_DONTNEED or MADV_FREE, split by an mprotect of one page, or touched
 * again. Runs SECONDS (0: until SIGTERM or SIGINT), then prints
 * {"ops":N,"elapsed_ns":T} and exits 0.
 */
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include "common.h"

#ifndef MAP_FIXED_NOREPLACE
#define MAP_FIXED_NOREPLACE 0x100000
#endif

#define WINDOW_BASE 0x100000000000ul /* 16 TiB */
#define WINDOW_PAGES ((4ul << 40) / PAGE)
#define MAX_PAGES 16

struct slot {
	char *addr;
	size_t len;
};

struct worker {
	struct slot *slots;
	long n;
	unsigned int seed;
	long ops;
};

static volatile sig_atomic_t stop;
static atomic_long total_ops;

static void on_stop(int sig)
{
	(void)sig;
	stop = 1;
}

static uint64_t rnd(unsigned int *seed)
{
	return ((uint64_t)rand_r(seed) << 31) ^ (uint64_t)rand_r(seed);
}

static void fill(struct slot *s, unsigned int *seed)
{
	size_t len = (1 + rnd(seed) % MAX_PAGES) * PAGE;

	for (int tries = 0; tries < 8; tries++) {
		char *want = (char *)(WINDOW_BASE + (rnd(seed) % WINDOW_PAGES) * PAGE);
		char *p = mmap(want, len, PROT_READ | PROT_WRITE,
			       MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0);

		if (p == MAP_FAILED)
			continue;
		touch(p, len);
		s->addr = p;
		s->len = len;
		return;
	}
}

static void change(struct slot *s, unsigned int *seed)
{
	switch (rnd(seed) % 5) {
	case 0:
		if (munmap(s->addr, s->len))
			die("munmap");
		s->addr = NULL;
		break;
	case 1:
		if (madvise(s->addr, s->len, MADV_DONTNEED))
			die("madvise(MADV_DONTNEED)");
		break;
	case 2:
		if (madvise(s->addr, s->len, MADV_FREE))
			die("madvise(MADV_FREE)");
		break;
	case 3: /* one page read-only: the kernel splits the VMA there */
		if (mprotect(s->addr + (rnd(seed) % (s->len / PAGE)) * PAGE, PAGE, PROT_READ))
			die("mprotect");
		break;
	default:
		if (mprotect(s->addr, s->len, PROT_READ | PROT_WRITE))
			die("mprotect");
		touch(s->addr, s->len);
	}
}

static void *work(void *arg)
{
	struct worker *w = arg;

	while (!stop) {
		struct slot *s = &w->slots[rnd(&w->seed) % (uint64_t)w->n];

		if (s->addr)
			change(s, &w->seed);
		else
			fill(s, &w->seed);
		w->ops++;
	}
	atomic_fetch_add(&total_ops, w->ops);
	return NULL;
}

int main(int argc, char **argv)
{
	struct sigaction sa = {.sa_handler = on_stop};
	long threads, seconds, slots;
	pthread_t *tids;
	struct worker *w;
	uint64_t t0;

	if (argc < 3 || argc > 4) {
		fprintf(stderr, "usage: mapchurn THREADS SECONDS [SLOTS]\n");
		return 2;
	}
	threads = arg_long(argv[1], "THREADS");
	seconds = arg_long(argv[2], "SECONDS");
	slots = argc > 3 ? arg_long(argv[3], "SLOTS") : 2000;
	if (threads < 1 || slots < threads) {
		fprintf(stderr, "workload: need 1 <= THREADS <= SLOTS\n");
		return 2;
	}
	no_thp();
	sigemptyset(&sa.sa_mask);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	tids = calloc((size_t)threads, sizeof(*tids));
	w = calloc((size_t)threads, sizeof(*w));
	if (!tids || !w)
		die("calloc");
	t0 = now_ns();
	for (long i = 0; i < threads; i++) {
		w[i].n = slots / threads;
		w[i].slots = calloc((size_t)w[i].n, sizeof(*w[i].slots));
		w[i].seed = (unsigned int)(i * 7919 + 1);
		if (!w[i].slots || pthread_create(&tids[i], NULL, work, &w[i]))
			die("thread");
	}
	while (!stop && (!seconds || now_ns() - t0 < (uint64_t)seconds * 1000000000ull))
		usleep(20000);
	stop = 1;
	for (long i = 0; i < threads; i++)
		pthread_join(tids[i], NULL);
	printf("{\"ops\":%ld,\"elapsed_ns\":%llu}\n", (long)atomic_load(&total_ops),
	       (unsigned long long)(now_ns() - t0));
	return 0;
}
