// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * evilnames: a target that names things to attack the terminal of whoever
 * traces it. Its release function's symbol, a file it maps, a memfd and its
 * own comm all hold escape sequences, BEL, a newline and bytes that are not
 * UTF-8. The tests run pageledger on it and look for any of that reaching
 * the output raw.
 *
 *   evilnames [--wait] DIR THREADS HOLD_SECONDS
 *
 * DIR: where to create the hostile file. Each of THREADS threads (and the
 * main one) maps, touches and releases 1 MiB through the hostile function.
 * --wait: print {"ready":PID} and wait for SIGUSR1 first (for -p attach).
 * Then it prints {"op":"holding"} and keeps its mappings HOLD_SECONDS.
 * Built with clang: GCC's assembler output cannot carry such a symbol.
 */
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <sys/stat.h>
#include "common.h"

#define CHUNK (1 * MiB)
#define EVIL_COMM "ev\x1b[2Jil\x07"
#define EVIL_FILE "map\x1b]0;owned\x07\xff.bin"
#define EVIL_MEMFD "mfd\x1b[31m\x9b"

/* The call site every release goes through: its name clears a screen and forges a line. */
__attribute__((noinline)) int evil_release(void *p,
					   size_t len) __asm__("evil\x1b[31mRED\x1b]0;pwned\x07\x9b"
							       "2J\nFORGED LINE");

__attribute__((noinline)) int evil_release(void *p, size_t len)
{
	int r;

	if (madvise(p, len / 2, MADV_DONTNEED))
		return -1;
	r = munmap(p, len);
	__asm__ volatile("" ::: "memory"); /* no tail call: this frame stays the call site */
	return r;
}

static void *worker(void *arg)
{
	void *p = map_anon(CHUNK, 0);

	(void)arg;
	touch(p, CHUNK);
	if (evil_release(p, CHUNK))
		die("evil_release");
	return NULL;
}

/* A file and a memfd whose names a terminal would act on, mapped and touched. */
static void map_hostile_names(const char *dir)
{
	char path[4096];
	int fd, mfd;
	void *f, *m;

	snprintf(path, sizeof(path), "%s/" EVIL_FILE, dir);
	fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0600);
	if (fd < 0 || ftruncate(fd, 4 * MiB))
		die("hostile file");
	mfd = memfd_create(EVIL_MEMFD, 0);
	if (mfd < 0 || ftruncate(mfd, 4 * MiB))
		die("memfd");
	f = mmap(NULL, 4 * MiB, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	m = mmap(NULL, 4 * MiB, PROT_READ | PROT_WRITE, MAP_SHARED, mfd, 0);
	if (f == MAP_FAILED || m == MAP_FAILED)
		die("mmap hostile");
	touch(f, 4 * MiB);
	touch(m, 4 * MiB);
}

int main(int argc, char **argv)
{
	bool wait = argc > 1 && !strcmp(argv[1], "--wait");
	char **args = argv + (wait ? 2 : 1);
	int threads, hold;
	pthread_t tid[16];

	if (argc - (wait ? 2 : 1) != 3) {
		fprintf(stderr, "usage: evilnames [--wait] DIR THREADS HOLD_SECONDS\n");
		return 2;
	}
	threads = atoi(args[1]);
	hold = atoi(args[2]);
	if (threads < 0 || threads > 16 || hold < 0)
		return 2;
	prctl(PR_SET_NAME, EVIL_COMM, 0, 0, 0);
	if (wait)
		wait_for_go();
	map_hostile_names(args[0]);
	for (int i = 0; i < threads; i++)
		if (pthread_create(&tid[i], NULL, worker, NULL))
			die("pthread_create");
	worker(NULL);
	for (int i = 0; i < threads; i++)
		pthread_join(tid[i], NULL);
	printf("{\"op\":\"holding\",\"releases\":%d}\n", threads + 1);
	fflush(stdout);
	sleep((unsigned)hold);
	return 0;
}
