/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * The one clock: CLOCK_MONOTONIC in ns, the clock of bpf_ktime_get_ns, so a
 * record's ts_ns and "now" compare directly; and its wall-clock reading.
 */
#ifndef PL_CLOCK_H
#define PL_CLOCK_H

#include <stddef.h>
#include <stdint.h>

#define PL_NS_PER_S 1000000000ull

/* CLOCK_MONOTONIC now, in ns. */
uint64_t pl_now_ns(void);
/* The wall-clock time (CLOCK_REALTIME, ns since the epoch) of a CLOCK_MONOTONIC instant. */
uint64_t pl_wall_of(uint64_t mono_ns);
/* "14:03:59.123456" in local time: a wall-clock instant for a text line. */
void pl_format_wall_time(uint64_t wall_ns, char *buf, size_t len);
/* "2025-03-01 14:03:59 +0100" in local time: when a run started. */
void pl_format_wall_date(uint64_t wall_ns, char *buf, size_t len);

#endif
