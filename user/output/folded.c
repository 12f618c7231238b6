// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <stdlib.h>
#include <string.h>
#include "output/folded.h"
#include "symbolize/attribution.h"
#include "util/escape.h"

/* One distinct stack and its summed weight, in an open-addressed table. */
struct stack_row {
	char *text; /* NULL: free slot */
	uint64_t weight;
};

struct folded {
	enum pl_folded_weight by;
	struct stack_row *rows;
	size_t cap, n; /* cap a power of two, n at most half of it */
	uint64_t dropped;
};

uint64_t pl_folded_weight(const struct pl_syscall_event *e, enum pl_folded_weight by)
{
	int64_t resident = pl_resident_delta(e->rss_delta);

	if (by == PL_FOLDED_MAPPED)
		return e->sys == PL_SYS_MMAP && !pl_syscall_failed(e) ? pl_syscall_len(e) : 0;
	return resident < 0 ? (uint64_t)-resident : 0;
}

/* A frame's name made safe for the format: ';' separates frames, so it becomes ':'. */
static size_t put_name(char *buf, size_t len, const char *name)
{
	size_t n = pl_escape(buf, len, name);

	for (size_t i = 0; i < n; i++)
		if (buf[i] == ';')
			buf[i] = ':';
	return n;
}

static const char *base_name(const char *path)
{
	const char *slash = strrchr(path, '/');

	return slash ? slash + 1 : path;
}

static size_t put_frame(char *buf, size_t len, const struct pl_frame *f)
{
	char name[512];

	if (f->func)
		return put_name(buf, len, f->func);
	if (f->module) {
		snprintf(name, sizeof(name), "[%s]", base_name(f->module));
		return put_name(buf, len, name);
	}
	snprintf(name, sizeof(name), "0x%llx", (unsigned long long)f->addr);
	return put_name(buf, len, name);
}

size_t pl_folded_stack(const struct pl_record *r, char *buf, size_t len)
{
	const struct pl_caller *c = r->caller;
	char leaf[64], adv[32];
	size_t at = 0;

	buf[0] = '\0';
	for (int i = c ? c->nframes - 1 : -1; i >= 0; i--) {
		size_t room = len - at;

		/* Room for this frame, a ';' and the leaf: else the root side is kept. */
		if (room < 2 + sizeof(leaf))
			break;
		at += put_frame(buf + at, room - sizeof(leaf) - 1, &c->frames[i]);
		buf[at++] = ';';
	}
	if (pl_syscall_has_advice(r->sys->sys))
		snprintf(leaf, sizeof(leaf), "[%s %s]", pl_syscall_name(r->sys->sys),
			 pl_advice_name(pl_syscall_advice(r->sys), adv, sizeof(adv)));
	else
		snprintf(leaf, sizeof(leaf), "[%s]", pl_syscall_name(r->sys->sys));
	return at + put_name(buf + at, len - at, leaf);
}

static uint64_t hash_text(const char *s)
{
	uint64_t h = 0xcbf29ce484222325ull;

	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 0x100000001b3ull;
	return h;
}

static struct stack_row *slot_for(struct stack_row *rows, size_t cap, const char *text)
{
	size_t i = (size_t)hash_text(text) & (cap - 1);

	while (rows[i].text && strcmp(rows[i].text, text))
		i = (i + 1) & (cap - 1);
	return &rows[i];
}

/* Twice the room, every row moved; false (nothing changed) when memory runs out. */
static bool grow(struct folded *fd)
{
	size_t cap = fd->cap ? fd->cap * 2 : 1024;
	struct stack_row *rows = calloc(cap, sizeof(*rows));

	if (!rows)
		return false;
	for (size_t i = 0; i < fd->cap; i++)
		if (fd->rows[i].text)
			*slot_for(rows, cap, fd->rows[i].text) = fd->rows[i];
	free(fd->rows);
	fd->rows = rows;
	fd->cap = cap;
	return true;
}

static void add_stack(struct folded *fd, const char *text, uint64_t weight)
{
	struct stack_row *row = fd->cap ? slot_for(fd->rows, fd->cap, text) : NULL;

	if (row && row->text) {
		row->weight += weight;
		return;
	}
	if (fd->n >= PL_FOLDED_MAX_STACKS || ((fd->n + 1) * 2 > fd->cap && !grow(fd))) {
		fd->dropped++;
		return;
	}
	row = slot_for(fd->rows, fd->cap, text);
	row->text = strdup(text);
	if (!row->text) {
		fd->dropped++;
		return;
	}
	row->weight = weight;
	fd->n++;
}

static void folded_record(struct pl_output *o, const struct pl_record *r)
{
	struct folded *fd = o->priv;
	char text[PL_FOLDED_LINE];
	uint64_t w;

	if (r->type != PL_EV_SYSCALL)
		return;
	w = pl_folded_weight(r->sys, fd->by);
	if (!w)
		return;
	pl_folded_stack(r, text, sizeof(text));
	add_stack(fd, text, w);
}

static int by_text(const void *a, const void *b)
{
	const struct stack_row *x = a, *y = b;

	return strcmp(x->text, y->text);
}

/* The rows in order of their text (one file per run, the same for the same run). */
static void folded_end(struct pl_output *o)
{
	struct folded *fd = o->priv;
	size_t n = 0;

	for (size_t i = 0; i < fd->cap; i++)
		if (fd->rows[i].text)
			fd->rows[n++] = fd->rows[i];
	if (n)
		qsort(fd->rows, n, sizeof(*fd->rows), by_text);
	for (size_t i = 0; i < n; i++) {
		fprintf(o->f, "%s %llu\n", fd->rows[i].text,
			(unsigned long long)fd->rows[i].weight);
		free(fd->rows[i].text);
	}
	if (fd->dropped)
		fprintf(stderr,
			"pageledger: --folded: %llu calls' stacks left out: more than %d distinct "
			"stacks, or no memory\n",
			(unsigned long long)fd->dropped, PL_FOLDED_MAX_STACKS);
	free(fd->rows);
	free(fd);
	o->priv = NULL;
}

static const struct pl_output_ops folded_ops = {
    .record = folded_record,
    .end = folded_end,
};

int pl_output_folded_init(struct pl_output *o, FILE *f, enum pl_folded_weight by)
{
	struct folded *fd = calloc(1, sizeof(*fd));

	if (!fd) {
		fprintf(stderr, "pageledger: out of memory\n");
		return -1;
	}
	fd->by = by;
	*o = (struct pl_output){.ops = &folded_ops, .f = f, .priv = fd};
	return 0;
}
