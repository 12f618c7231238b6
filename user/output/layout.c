// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <string.h>
#include "output/layout.h"
#include "util/escape.h"

int pl_layout_used(const struct pl_table *t)
{
	int used = t->indent, shown = 0;

	for (int i = 0; i < t->n; i++)
		if (t->cols[i].shown)
			used += t->cols[i].width + (shown++ ? 1 : 0);
	return used;
}

static int last_shown(const struct pl_table *t)
{
	for (int i = t->n - 1; i >= 0; i--)
		if (t->cols[i].shown)
			return i;
	return -1;
}

/* Columns the shown columns need: a flex last column counts flex_min. */
static int needed(const struct pl_table *t, int flex_min)
{
	int last = last_shown(t);

	if (!t->flex || last < 0)
		return pl_layout_used(t);
	return pl_layout_used(t) - t->cols[last].width + flex_min;
}

void pl_layout_fit(struct pl_table *t, const int *drop, int n_drop, int flex_min)
{
	for (int i = 0; i < t->n; i++)
		t->cols[i].shown = true;
	for (int i = 0; i < n_drop && needed(t, flex_min) > t->width; i++)
		if (drop[i] >= 0 && drop[i] < t->n)
			t->cols[drop[i]].shown = false;
}

void pl_layout_hide(struct pl_table *t, int col)
{
	if (col >= 0 && col < t->n)
		t->cols[col].shown = false;
}

void pl_layout_cut(char *buf, int cols)
{
	size_t cut;

	if (cols <= 0) {
		buf[0] = '\0';
		return;
	}
	if (pl_text_width(buf) <= cols)
		return;
	cut = pl_text_cut(buf, cols - 1);
	buf[cut] = '~';
	buf[cut + 1] = '\0';
}

/* Appends s padded to w columns (on the left when right), plus sep; keeps buf terminated. */
static size_t put_cell(char *buf, size_t used, size_t len, const char *s, int w, bool right,
		       bool sep)
{
	int pad = w - pl_text_width(s);
	int n;

	if (pad < 0)
		pad = 0;
	n = snprintf(buf + used, len - used, "%s%*s%s%*s", sep ? " " : "", right ? pad : 0, "", s,
		     right ? 0 : pad, "");
	if (n < 0 || (size_t)n >= len - used)
		return len - 1;
	return used + (size_t)n;
}

void pl_layout_row(const struct pl_table *t, const char *const *cells, char *buf, size_t len)
{
	int last = last_shown(t), shown = 0;
	size_t used;

	if (!len)
		return;
	used = (size_t)snprintf(buf, len, "%*s", t->indent, "");
	for (int i = 0; i < t->n && used < len - 1; i++) {
		const struct pl_col *c = &t->cols[i];
		const char *s = cells ? cells[i] : c->head;

		if (!c->shown)
			continue;
		/* The flex column is never padded: trailing blanks help no one. */
		used = put_cell(buf, used, len, s ? s : "", t->flex && i == last ? 0 : c->width,
				c->right, shown++ > 0);
	}
	while (used > 0 && buf[used - 1] == ' ') /* a blank last cell leaves no tail */
		used--;
	buf[used] = '\0';
	pl_layout_cut(buf, t->width);
}

/* Length of the word at s, and of the blanks before it. */
static size_t word_at(const char *s, size_t *blanks)
{
	size_t b = strspn(s, " ");

	*blanks = b;
	return strcspn(s + b, " ");
}

void pl_layout_wrap(FILE *f, const char *lead, const char *text, int width, int rest)
{
	char word[1024];
	int col = pl_text_width(lead), indent = col;
	bool line_empty = true;
	size_t blanks, n;

	fputs(lead, f);
	for (const char *p = text; *p; p += blanks + n) {
		n = word_at(p, &blanks);
		if (!n)
			break;
		snprintf(word, sizeof(word), "%.*s", (int)(n < sizeof(word) ? n : sizeof(word) - 1),
			 p + blanks);
		if (!line_empty && col + 1 + pl_text_width(word) > width) {
			fprintf(f, "\n%*s", rest, "");
			col = indent = rest;
			line_empty = true;
		}
		pl_layout_cut(word, width - indent);
		fprintf(f, "%s%s", line_empty ? "" : " ", word);
		col += pl_text_width(word) + (line_empty ? 0 : 1);
		line_empty = false;
	}
	fputc('\n', f);
}
