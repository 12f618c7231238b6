// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <stdlib.h>
#include <string.h>
#include "output/rows.h"

uint64_t pl_row_resident(const struct pl_range_row *w)
{
	int64_t v = pl_range_row_resident(w);

	return v > 0 ? (uint64_t)v : 0;
}

static int by_start(const void *a, const void *b)
{
	const struct pl_range_row *x = a, *y = b;

	return x->start < y->start ? -1 : x->start > y->start;
}

static int by_resident_desc(const void *a, const void *b)
{
	uint64_t x = pl_row_resident(a), y = pl_row_resident(b);

	if (x != y)
		return x < y ? 1 : -1;
	return by_start(a, b);
}

/* to += w, for finished rows: their delay means weighed by their refaults. */
static void add_finished(struct pl_range_row *to, const struct pl_range_row *w)
{
	uint64_t refaults = to->refaults + w->refaults;
	uint64_t sum =
	    to->refault_delay_mean_ns * to->refaults + w->refault_delay_mean_ns * w->refaults;
	uint64_t end = w->end;

	pl_range_row_add(to, w);
	to->refault_delay_mean_ns = refaults ? sum / refaults : 0;
	to->end = end;
}

size_t pl_rows_merge_neighbours(struct pl_range_row *rows, size_t n)
{
	size_t out = 0;

	qsort(rows, n, sizeof(*rows), by_start);
	for (size_t i = 0; i < n; i++) {
		struct pl_range_row *prev = out ? &rows[out - 1] : NULL;

		if (prev && prev->end == rows[i].start && !strcmp(prev->name, rows[i].name))
			add_finished(prev, &rows[i]);
		else
			rows[out++] = rows[i];
	}
	qsort(rows, out, sizeof(*rows), by_resident_desc);
	return out;
}
