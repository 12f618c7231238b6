// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * sysloop N: N getppid() calls, timed, for the benchmark's question "what
 * does pageledger cost a process it is NOT tracing?". Enabling syscall
 * tracepoints runs a probe on every task's syscalls, so this loop runs
 * untraced, once alone and once while pageledger traces another process.
 * Prints {"elapsed_ns":N,"calls":N}.
 */
#include <sys/syscall.h>
#include "common.h"

int main(int argc, char **argv)
{
	long n;
	uint64_t t0, t1;

	if (argc != 2) {
		fprintf(stderr, "usage: sysloop N\n");
		return 2;
	}
	n = arg_long(argv[1], "N");
	t0 = now_ns();
	for (long i = 0; i < n; i++)
		syscall(SYS_getppid); /* not getppid(): no libc cache may skip the kernel */
	t1 = now_ns();
	printf("{\"elapsed_ns\":%llu,\"calls\":%ld}\n", (unsigned long long)(t1 - t0), n);
	return 0;
}
