// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * madvstorm CALLS CHUNK_KIB [RATE]: a madvise(MADV_DONTNEED) storm for the
 * benchmark. Maps and touches a 64 MiB region, then CALLS times takes the
 * next CHUNK_KIB chunk (round robin), writes one byte per page of it so it
 * is resident, and drops it with madvise(MADV_DONTNEED).
 *
 * RATE > 0 paces the calls to RATE per second against the start time (call
 * i is not made before start + i/RATE), so a slow stretch is caught up and
 * the rate does not drift. Only the calls are timed. Prints one JSON line:
 *
 *   {"elapsed_ns":N,"calls":C,"rate":ACHIEVED_CALLS_PER_SECOND}
 */
#include "common.h"

#define REGION (64 * MiB)
/* Sleep when the next call is further away than this; spin for the rest. */
#define SPIN_NS 100000ull

static void wait_until(uint64_t deadline)
{
	uint64_t now = now_ns();

	if (now >= deadline)
		return;
	if (deadline - now > SPIN_NS) {
		uint64_t wake = deadline - SPIN_NS;
		struct timespec ts;

		ts.tv_sec = (time_t)(wake / 1000000000ull);
		ts.tv_nsec = (long)(wake % 1000000000ull);
		while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL) == EINTR)
			;
	}
	while (now_ns() < deadline)
		;
}

int main(int argc, char **argv)
{
	size_t chunk, nchunks;
	long calls, rate = 0;
	uint64_t t0, t1, elapsed;
	char *base;

	if (argc != 3 && argc != 4) {
		fprintf(stderr, "usage: madvstorm CALLS CHUNK_KIB [RATE]\n");
		return 2;
	}
	calls = arg_long(argv[1], "calls");
	chunk = (size_t)arg_long(argv[2], "chunk KiB") * 1024;
	if (argc == 4)
		rate = arg_long(argv[3], "rate");
	if (!chunk || chunk % PAGE || chunk > REGION) {
		fprintf(stderr, "madvstorm: CHUNK_KIB must be a multiple of %lu, at most %lu\n",
			PAGE / 1024, REGION / 1024);
		return 2;
	}
	no_thp();
	/* Pacing sleeps are short: ask for them to be honoured closely. */
	prctl(PR_SET_TIMERSLACK, 1, 0, 0, 0);
	nchunks = REGION / chunk;
	base = map_anon(REGION, 0);
	touch(base, REGION);

	t0 = now_ns();
	for (long i = 0; i < calls; i++) {
		char *p = base + (size_t)i % nchunks * chunk;

		if (rate > 0)
			wait_until(t0 + (uint64_t)((__int128)i * 1000000000 / rate));
		touch(p, chunk);
		if (madvise(p, chunk, MADV_DONTNEED))
			die("madvise");
	}
	t1 = now_ns();
	elapsed = t1 - t0;
	printf("{\"elapsed_ns\":%llu,\"calls\":%ld,\"rate\":%.0f}\n", (unsigned long long)elapsed,
	       calls, elapsed ? (double)calls * 1e9 / (double)elapsed : 0.0);
	if (munmap(base, REGION))
		die("munmap");
	return 0;
}
