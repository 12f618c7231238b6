/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * Text that fits: tables whose columns are dropped, least useful first,
 * until they fit a width, rows cut to it, and sentences wrapped at it. The
 * text stream, the summary and the live view share it. Pure. Cells hold
 * text already made safe (util/escape.h): widths count its columns.
 */
#ifndef PL_LAYOUT_H
#define PL_LAYOUT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

struct pl_col {
	const char *head;
	int width;  /* columns; the last column shown takes what is left (see pl_layout_fit) */
	bool right; /* numbers, aligned right */
	bool shown;
};

struct pl_table {
	struct pl_col *cols;
	int n;
	int indent; /* blanks before the first column */
	int width;  /* the line's width: nothing goes past it */
	bool flex;  /* the last column shown takes the rest of the line, cut to it */
};

/* Columns taken by the shown columns, with indent and one blank between each two. */
int pl_layout_used(const struct pl_table *t);
/*
 * Shows every column, then hides columns in drop order (indexes into cols)
 * until the shown ones fit, leaving flex_min columns for a flex last column.
 */
void pl_layout_fit(struct pl_table *t, const int *drop, int n_drop, int flex_min);
/* Hides col if every cell of it would be blank or zero: no use showing it. */
void pl_layout_hide(struct pl_table *t, int col);
/*
 * One row: each shown cell padded to its column (a longer one pushes the
 * rest right), cut to the width with a '~' where it was cut. cells: one per
 * column, NULL as blank; NULL cells altogether for the header row.
 */
void pl_layout_row(const struct pl_table *t, const char *const *cells, char *buf, size_t len);
/* buf cut to cols columns, with a '~' in the last one when anything was cut. */
void pl_layout_cut(char *buf, int cols);
/*
 * Writes lead (laid out already), then text wrapped at width, breaking at
 * blanks; lines after the first start after `rest` blanks. A word longer
 * than a line is cut.
 */
void pl_layout_wrap(FILE *f, const char *lead, const char *text, int width, int rest);

#endif
