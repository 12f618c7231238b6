// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * cxxpool [THREADS]: C++ code whose memory calls must be named demangled.
 * THREADS threads (default 1) each fill a pl::Pool<int> and a
 * pl::Pool<std::pair<char, long> >: grow() maps and touches 1 MiB
 * (mmap), release() gives it back (munmap), four times each. Prints
 * {"ready":PID} first and waits for SIGUSR1, so its maps can be read
 * while it lives, then {"calls":N,"len":1048576} when done.
 */
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>
#include <utility>

namespace pl {

template <typename T> class Pool {
      public:
	__attribute__((noinline)) void grow(std::size_t bytes);
	__attribute__((noinline)) void release();

      private:
	void *mem = nullptr;
	std::size_t len = 0;
};

template <typename T> void Pool<T>::grow(std::size_t bytes)
{
	mem = mmap(nullptr, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (mem == MAP_FAILED) {
		perror("mmap");
		exit(1);
	}
	len = bytes;
	for (std::size_t off = 0; off < bytes; off += 4096)
		static_cast<volatile char *>(mem)[off] = 1;
}

template <typename T> void Pool<T>::release()
{
	if (munmap(mem, len) != 0) {
		perror("munmap");
		exit(1);
	}
}

} // namespace pl

static const int rounds = 4;
static const std::size_t region = 1 << 20;

static void *worker(void *)
{
	pl::Pool<int> ints;
	pl::Pool<std::pair<char, long> > pairs;

	for (int i = 0; i < rounds; i++) {
		ints.grow(region);
		ints.release();
		pairs.grow(region);
		pairs.release();
	}
	return nullptr;
}

int main(int argc, char **argv)
{
	long threads = argc > 1 ? strtol(argv[1], nullptr, 10) : 1;
	pthread_t t[64];
	sigset_t set;
	int sig;

	if (threads < 1 || threads > 64) {
		fprintf(stderr, "usage: cxxpool [THREADS 1-64]\n");
		return 2;
	}
	sigemptyset(&set);
	sigaddset(&set, SIGUSR1);
	pthread_sigmask(SIG_BLOCK, &set, nullptr);
	printf("{\"ready\":%d}\n", getpid());
	fflush(stdout);
	sigwait(&set, &sig);
	for (long i = 0; i < threads; i++)
		if (pthread_create(&t[i], nullptr, worker, nullptr) != 0)
			return 1;
	for (long i = 0; i < threads; i++)
		pthread_join(t[i], nullptr);
	printf("{\"calls\":%ld,\"len\":%zu}\n", threads * rounds * 2, region);
	return 0;
}
