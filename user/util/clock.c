// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <stdio.h>
#include <time.h>
#include "util/clock.h"

static uint64_t read_clock(clockid_t id)
{
	struct timespec ts;

	clock_gettime(id, &ts);
	return (uint64_t)ts.tv_sec * PL_NS_PER_S + (uint64_t)ts.tv_nsec;
}

uint64_t pl_now_ns(void)
{
	return read_clock(CLOCK_MONOTONIC);
}

uint64_t pl_wall_of(uint64_t mono_ns)
{
	/* The offset between the two clocks now; NTP slews it by microseconds at most. */
	uint64_t mono = read_clock(CLOCK_MONOTONIC);
	uint64_t wall = read_clock(CLOCK_REALTIME);

	return mono_ns <= mono ? wall - (mono - mono_ns) : wall + (mono_ns - mono);
}

static int local_tm(uint64_t wall_ns, struct tm *tm)
{
	time_t secs = (time_t)(wall_ns / PL_NS_PER_S);

	return localtime_r(&secs, tm) ? 0 : -1;
}

void pl_format_wall_time(uint64_t wall_ns, char *buf, size_t len)
{
	struct tm tm;

	if (local_tm(wall_ns, &tm)) {
		snprintf(buf, len, "?");
		return;
	}
	snprintf(buf, len, "%02d:%02d:%02d.%06u", tm.tm_hour, tm.tm_min, tm.tm_sec,
		 (unsigned)(wall_ns % PL_NS_PER_S / 1000));
}

void pl_format_wall_date(uint64_t wall_ns, char *buf, size_t len)
{
	struct tm tm;

	if (local_tm(wall_ns, &tm) || !strftime(buf, len, "%Y-%m-%d %H:%M:%S %z", &tm))
		snprintf(buf, len, "?");
}
