// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * Hostile binaries for the symbolizer's memory budget (issue 14).
 *
 * mapbomb copies BINARY N MIB DIR [THREADS]
 *   Copies BINARY into N new files in DIR, grows each to MIB MiB (a sparse
 *   tail: no disk, no memory), maps each whole file PROT_READ|PROT_EXEC,
 *   then closes and unlinks it: N deleted executable mappings, which a
 *   tracer can only read through /proc/PID/map_files, at attach. THREADS
 *   threads (default 1) share the mappings between them.
 *
 * mapbomb calls [THREADS]
 *   THREADS threads (default 1) each map, touch and unmap 1 MiB four times
 *   in bomb_release_round(), a function named in this binary's symbols:
 *   the calls a tracer symbolizes (the test gives this binary hostile
 *   symbol tables first).
 *
 * mapbomb execmaps MAPPINGS CALLS [THREADS]
 *   Keeps MAPPINGS one-page anonymous mappings that cannot merge
 *   (alternately read-only and read-write), then, after SIGUSR1, THREADS
 *   threads (default 1) share CALLS file mmaps with PROT_EXEC of a
 *   one-page file, each unmapped at once: every one is a new code mapping
 *   a tracer must learn, in a process with a long maps table. Prints
 *   {"done":CALLS} and holds until SIGTERM.
 *
 * All print {"ready":PID} and wait for SIGUSR1 (copies: then unmap
 * everything; calls: then make the calls), and exit 0.
 */
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <sys/stat.h>
#include "common.h"

#define CALL_ROUNDS 4

struct copies {
	const char *binary, *dir;
	long first, count; /* this thread's share */
	size_t size;
	void **maps;
};

static void copy_file(int from, int to)
{
	char buf[65536];
	ssize_t got;

	if (lseek(from, 0, SEEK_SET) < 0)
		die("lseek");
	while ((got = read(from, buf, sizeof(buf))) > 0)
		if (write(to, buf, (size_t)got) != got)
			die("write");
	if (got < 0)
		die("read");
}

/* One sparse copy, mapped executable, then deleted: only the mapping keeps it. */
static void *map_deleted_copy(const struct copies *c, long i, int src)
{
	char path[4096];
	void *p;
	int fd;

	snprintf(path, sizeof(path), "%s/mapbomb-%d-%ld", c->dir, getpid(), i);
	fd = open(path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0700);
	if (fd < 0)
		die(path);
	copy_file(src, fd);
	if (ftruncate(fd, (off_t)c->size) < 0)
		die("ftruncate");
	p = mmap(NULL, c->size, PROT_READ | PROT_EXEC, MAP_PRIVATE, fd, 0);
	if (p == MAP_FAILED)
		die("mmap");
	close(fd);
	if (unlink(path) < 0)
		die("unlink");
	return p;
}

static void *copies_thread(void *arg)
{
	const struct copies *c = arg;
	int src = open(c->binary, O_RDONLY | O_CLOEXEC);

	if (src < 0)
		die(c->binary);
	for (long i = c->first; i < c->first + c->count; i++)
		c->maps[i] = map_deleted_copy(c, i, src);
	close(src);
	return NULL;
}

static void run_threads(void *(*fn)(void *), void *args, size_t arg_size, long threads)
{
	pthread_t *t = calloc((size_t)threads, sizeof(*t));

	if (!t)
		die("calloc");
	for (long i = 0; i < threads; i++)
		if (pthread_create(&t[i], NULL, fn, (char *)args + (size_t)i * arg_size))
			die("pthread_create");
	for (long i = 0; i < threads; i++)
		pthread_join(t[i], NULL);
	free(t);
}

static int copies(int argc, char **argv)
{
	long n, threads = 1;
	struct copies *c;
	void **maps;
	size_t size;

	if (argc != 6 && argc != 7) {
		fprintf(stderr, "usage: mapbomb copies BINARY N MIB DIR [THREADS]\n");
		return 2;
	}
	n = arg_long(argv[3], "count");
	size = (size_t)arg_long(argv[4], "MiB") * MiB;
	if (argc == 7)
		threads = arg_long(argv[6], "threads");
	if (threads < 1 || threads > n)
		threads = n ? n : 1;
	maps = calloc((size_t)n + 1, sizeof(*maps));
	c = calloc((size_t)threads, sizeof(*c));
	if (!maps || !c)
		die("calloc");
	for (long i = 0; i < threads; i++)
		c[i] = (struct copies){
		    argv[2], argv[5], n * i / threads, n * (i + 1) / threads - n * i / threads,
		    size,    maps};
	run_threads(copies_thread, c, sizeof(*c), threads);
	wait_for_go();
	for (long i = 0; i < n; i++)
		if (munmap(maps[i], size) < 0)
			die("munmap");
	free(c);
	free(maps);
	return 0;
}

/* The calls a tracer must name: this function, in this binary's .symtab. */
__attribute__((noinline)) void bomb_release_round(void)
{
	void *p = map_anon(MiB, 0);

	touch(p, MiB);
	if (munmap(p, MiB) < 0)
		die("munmap");
}

static void *calls_thread(void *arg)
{
	(void)arg;
	for (int i = 0; i < CALL_ROUNDS; i++)
		bomb_release_round();
	return NULL;
}

static int calls(int argc, char **argv)
{
	long threads = argc == 3 ? arg_long(argv[2], "threads") : 1;

	if (argc != 2 && argc != 3) {
		fprintf(stderr, "usage: mapbomb calls [THREADS]\n");
		return 2;
	}
	wait_for_go();
	if (threads <= 1) {
		calls_thread(NULL);
		return 0;
	}
	run_threads(calls_thread, NULL, 0, threads);
	return 0;
}

struct exec_calls {
	int fd;
	long count;
};

static void *exec_calls_thread(void *arg)
{
	const struct exec_calls *c = arg;

	for (long i = 0; i < c->count; i++) {
		void *p = mmap(NULL, PAGE, PROT_READ | PROT_EXEC, MAP_PRIVATE, c->fd, 0);

		if (p == MAP_FAILED)
			die("mmap");
		if (munmap(p, PAGE) < 0)
			die("munmap");
	}
	return NULL;
}

/* A one-page file to map, deleted at once: only the descriptor keeps it. */
static int page_file(void)
{
	char path[] = "/tmp/mapbomb-page-XXXXXX";
	int fd = mkstemp(path);

	if (fd < 0)
		die("mkstemp");
	if (unlink(path) < 0 || ftruncate(fd, PAGE) < 0)
		die("page file");
	return fd;
}

static int execmaps(int argc, char **argv)
{
	long mappings, calls, threads = 1;
	struct exec_calls *c;
	sigset_t set;
	int fd, sig;

	if (argc != 4 && argc != 5) {
		fprintf(stderr, "usage: mapbomb execmaps MAPPINGS CALLS [THREADS]\n");
		return 2;
	}
	mappings = arg_long(argv[2], "mappings");
	calls = arg_long(argv[3], "calls");
	if (argc == 5)
		threads = arg_long(argv[4], "threads");
	if (threads < 1)
		threads = 1;
	for (long i = 0; i < mappings; i++)
		if (mmap(NULL, PAGE, i % 2 ? PROT_READ : PROT_READ | PROT_WRITE,
			 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0) == MAP_FAILED)
			die("mmap");
	fd = page_file();
	c = calloc((size_t)threads, sizeof(*c));
	if (!c)
		die("calloc");
	for (long i = 0; i < threads; i++)
		c[i] = (struct exec_calls){fd, calls * (i + 1) / threads - calls * i / threads};
	wait_for_go();
	run_threads(exec_calls_thread, c, sizeof(*c), threads);
	printf("{\"done\":%ld}\n", calls);
	fflush(stdout);
	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	pthread_sigmask(SIG_BLOCK, &set, NULL);
	sigwait(&set, &sig);
	free(c);
	return 0;
}

int main(int argc, char **argv)
{
	sigset_t set;

	/* SIGUSR1 is taken with sigwait, by whichever thread runs it. */
	sigemptyset(&set);
	sigaddset(&set, SIGUSR1);
	pthread_sigmask(SIG_BLOCK, &set, NULL);
	if (argc >= 2 && !strcmp(argv[1], "copies"))
		return copies(argc, argv);
	if (argc >= 2 && !strcmp(argv[1], "calls"))
		return calls(argc, argv);
	if (argc >= 2 && !strcmp(argv[1], "execmaps"))
		return execmaps(argc, argv);
	fprintf(stderr, "usage: mapbomb copies BINARY N MIB DIR [THREADS] | calls [THREADS] | "
			"execmaps MAPPINGS CALLS [THREADS]\n");
	return 2;
}
