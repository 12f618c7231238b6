/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* Growing arrays: the one doubling realloc that the ledgers and sinks share. */
#ifndef PL_GROW_H
#define PL_GROW_H

#include <stdbool.h>
#include <stddef.h>
#include <stdlib.h>

/*
 * Makes room for element n of *arr (capacity *cap, elements of `size`
 * bytes), doubling from `first`. False when memory ran out: *arr is intact.
 */
static inline bool pl_grow(void **arr, size_t *cap, size_t n, size_t size, size_t first)
{
	size_t want = *cap ? *cap * 2 : first;
	void *p;

	if (n < *cap)
		return true;
	p = realloc(*arr, want * size);
	if (!p)
		return false;
	*arr = p;
	*cap = want;
	return true;
}

#endif
