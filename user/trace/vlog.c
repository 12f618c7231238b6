// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * The verifier's statistics, from the end of a program's log:
 *   "verification time 85123 usec"
 *   "processed 28235 insns (limit 1000000) max_states_per_insn 19 total_states 2575 ..."
 * Only the figures after a key are read, so a kernel that adds fields
 * still parses.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include "vlog.h"

/* The number right after `key` in log, or false. */
static bool number_after(const char *log, const char *key, unsigned long *out)
{
	const char *at = strstr(log, key);
	char *end;
	unsigned long v;

	if (!at)
		return false;
	at += strlen(key);
	if (*at < '0' || *at > '9')
		return false;
	errno = 0;
	v = strtoul(at, &end, 10);
	if (errno || end == at)
		return false;
	*out = v;
	return true;
}

bool pl_vlog_parse(const char *log, struct pl_vlog_stats *out)
{
	unsigned long usec = 0;
	bool time, insns;

	memset(out, 0, sizeof(*out));
	if (!log)
		return false;
	time = number_after(log, "verification time ", &usec);
	insns = number_after(log, "processed ", &out->insns);
	number_after(log, "total_states ", &out->states);
	out->verify_ms = time ? usec / 1e3 : -1.0;
	return time || insns;
}
