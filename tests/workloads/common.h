/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* Helpers shared by the workloads that tests, the demo and the benchmark run. */
#ifndef PL_WORKLOAD_COMMON_H
#define PL_WORKLOAD_COMMON_H

#include <errno.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <time.h>
#include <unistd.h>

#define PAGE 4096ul
#define MiB (1024ul * 1024ul)

static inline void die(const char *what)
{
	fprintf(stderr, "workload: %s: %s\n", what, strerror(errno));
	exit(1);
}

static inline uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* One write per page: every page becomes resident, anonymous and dirty. */
static inline void touch(void *p, size_t len)
{
	for (size_t off = 0; off < len; off += PAGE)
		((volatile char *)p)[off] = 1;
}

/* One read per page. */
static inline unsigned long read_pages(const void *p, size_t len)
{
	unsigned long sum = 0;

	for (size_t off = 0; off < len; off += PAGE)
		sum += ((const volatile char *)p)[off];
	return sum;
}

static inline void *map_anon(size_t len, int extra_flags)
{
	void *p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | extra_flags,
		       -1, 0);

	if (p == MAP_FAILED)
		die("mmap");
	return p;
}

/* RssAnon/RssFile in bytes, from /proc/self/status. */
static inline long status_kb(const char *field)
{
	char line[256];
	size_t n = strlen(field);
	long kb = -1;
	FILE *f = fopen("/proc/self/status", "re");

	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		if (!strncmp(line, field, n) && line[n] == ':')
			kb = strtol(line + n + 1, NULL, 10);
	fclose(f);
	return kb;
}

/* Keeps tests exact where THP is "always": no huge pages for this process. */
static inline void no_thp(void)
{
	prctl(PR_SET_THP_DISABLE, 1, 0, 0, 0);
}

static inline long arg_long(const char *s, const char *what)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(s, &end, 10);
	if (errno || end == s || *end || v < 0) {
		fprintf(stderr, "workload: bad %s '%s'\n", what, s);
		exit(2);
	}
	return v;
}

/* For -p attach: print {"ready":PID}, then wait for the test's SIGUSR1. */
static inline void wait_for_go(void)
{
	sigset_t set;
	int sig;

	sigemptyset(&set);
	sigaddset(&set, SIGUSR1);
	sigprocmask(SIG_BLOCK, &set, NULL);
	printf("{\"ready\":%d}\n", (int)getpid());
	fflush(stdout);
	sigwait(&set, &sig);
}

/* Waits for signo (blocked by the caller), first printing {"ready":PID} when announce. */
static inline void wait_for_signal(int signo, bool announce)
{
	sigset_t set;
	int sig;

	sigemptyset(&set);
	sigaddset(&set, signo);
	if (announce) {
		printf("{\"ready\":%d}\n", getpid());
		fflush(stdout);
	}
	sigwait(&set, &sig);
}

#endif
