/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* What the escaping fuzz targets share: a failed property stops the run, and hex digits. */
#ifndef PL_FUZZ_CHECK_H
#define PL_FUZZ_CHECK_H

static inline void check(int ok)
{
	if (!ok)
		__builtin_trap();
}

/* 0..15, or -1 when c is not a hex digit (either case). */
static inline int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

#endif
