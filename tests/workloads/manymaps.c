// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * manymaps: a process with N mappings and M MiB resident in them, for
 * measuring attach, end and the tracer's own memory at scale.
 *
 *   manymaps N MIB [HOLD_S]
 *
 * One anonymous region of N equal mappings, every page touched, then every
 * other mapping made read-only so the kernel keeps N separate VMAs (adjacent
 * anonymous mappings alike would merge into one). Prints
 * {"ready":PID,"mappings":N,"resident":BYTES} and holds still until SIGTERM
 * or SIGINT (or HOLD_S seconds), then exits 0.
 */
#include <signal.h>
#include "common.h"

static volatile sig_atomic_t stop;

static void on_stop(int sig)
{
	(void)sig;
	stop = 1;
}

int main(int argc, char **argv)
{
	struct sigaction sa = {.sa_handler = on_stop};
	long n, hold_s = argc > 3 ? arg_long(argv[3], "HOLD_S") : 0;
	size_t each, total;
	char *p;

	if (argc < 3 || argc > 4) {
		fprintf(stderr, "usage: manymaps N MIB [HOLD_S]\n");
		return 2;
	}
	n = arg_long(argv[1], "N");
	if (n < 1) {
		fprintf(stderr, "workload: N must be at least 1\n");
		return 2;
	}
	no_thp(); /* 4 KiB pages: the resident figure is exactly what was touched */
	each = ((size_t)arg_long(argv[2], "MIB") * MiB / (size_t)n) & ~(PAGE - 1);
	each = each ? each : PAGE;
	total = each * (size_t)n;
	p = map_anon(total, 0);
	touch(p, total);
	for (long i = 1; i < n; i += 2)
		if (mprotect(p + (size_t)i * each, each, PROT_READ))
			die("mprotect");
	sigemptyset(&sa.sa_mask);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	printf("{\"ready\":%d,\"mappings\":%ld,\"resident\":%zu}\n", getpid(), n, total);
	fflush(stdout);
	for (long waited = 0; !stop && (!hold_s || waited < hold_s * 10); waited++)
		usleep(100000);
	return 0;
}
