// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * pmadvise PID ADDR LEN ADVICE: advise another process's memory with
 * process_madvise(2), as a second process would. Prints the result as JSON.
 */
#include <sys/syscall.h>
#include <sys/uio.h>
#include "common.h"

#ifndef SYS_pidfd_open
#define SYS_pidfd_open 434
#endif
#ifndef SYS_process_madvise
#define SYS_process_madvise 440
#endif

int main(int argc, char **argv)
{
	struct iovec iov;
	long ret;
	int pidfd;

	if (argc != 5) {
		fprintf(stderr, "usage: pmadvise PID ADDR LEN ADVICE\n");
		return 2;
	}
	pidfd = (int)syscall(SYS_pidfd_open, (pid_t)arg_long(argv[1], "pid"), 0);
	if (pidfd < 0)
		die("pidfd_open");
	iov.iov_base = (void *)(uintptr_t)strtoul(argv[2], NULL, 0);
	iov.iov_len = (size_t)arg_long(argv[3], "len");
	ret = syscall(SYS_process_madvise, pidfd, &iov, 1, (int)arg_long(argv[4], "advice"), 0);
	if (ret < 0)
		die("process_madvise");
	printf("{\"pid\":%d,\"ret\":%ld}\n", getpid(), ret);
	return 0;
}
