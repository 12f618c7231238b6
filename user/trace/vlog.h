/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
#ifndef PL_VLOG_H
#define PL_VLOG_H

#include <stdbool.h>

/* What the verifier's statistics line (log level 4) says about one program. */
struct pl_vlog_stats {
	double verify_ms;     /* its own clock: verification, JIT of subprograms included */
	unsigned long insns;  /* instructions processed, every subprogram's included */
	unsigned long states; /* total_states */
};

/* Reads the figures from a verifier log; false if the log holds none of them. */
bool pl_vlog_parse(const char *log, struct pl_vlog_stats *out);

#endif
