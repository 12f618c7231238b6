// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * faultstorm MIB ROUNDS: a page-fault storm for the benchmark. Each round
 * maps MIB of anonymous memory, writes one byte per page (one fault each)
 * and unmaps it. Only the rounds are timed, so whatever runs before main()
 * (a tracer attaching, the loader) is not counted. Prints one JSON line:
 *
 *   {"elapsed_ns":N,"faults":F,"rounds":R}
 *
 * where F is the number of pages touched (= minor faults caused).
 */
#include "common.h"

int main(int argc, char **argv)
{
	size_t len;
	long rounds;
	uint64_t t0, t1;

	if (argc != 3) {
		fprintf(stderr, "usage: faultstorm MIB ROUNDS\n");
		return 2;
	}
	len = (size_t)arg_long(argv[1], "MiB") * MiB;
	rounds = arg_long(argv[2], "rounds");
	if (!len || !rounds) {
		fprintf(stderr, "faultstorm: MIB and ROUNDS must be > 0\n");
		return 2;
	}
	no_thp();
	t0 = now_ns();
	for (long r = 0; r < rounds; r++) {
		void *p = map_anon(len, 0);

		touch(p, len);
		if (munmap(p, len))
			die("munmap");
	}
	t1 = now_ns();
	printf("{\"elapsed_ns\":%llu,\"faults\":%llu,\"rounds\":%ld}\n",
	       (unsigned long long)(t1 - t0),
	       (unsigned long long)(len / PAGE) * (unsigned long long)rounds, rounds);
	return 0;
}
