/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* The per-range ledger's rows as people read them: the text summary and the live view. Pure. */
#ifndef PL_OUTPUT_ROWS_H
#define PL_OUTPUT_ROWS_H

#include <stddef.h>
#include <stdint.h>
#include "ledger/ranges.h"

/* Resident bytes of a row now (the ledger's figure, what rows are ordered by), at least 0. */
uint64_t pl_row_resident(const struct pl_range_row *w);
/*
 * Merges rows that are one region to a person, the same name and each one
 * ending where the next starts (Go maps its heap arenas 4 MiB at a time),
 * then orders them by resident bytes, largest first. Returns the new count.
 */
size_t pl_rows_merge_neighbours(struct pl_range_row *rows, size_t n);

#endif
