// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include "util/treap.h"

static uint32_t next_prio(struct pl_treap *t)
{
	uint32_t x = t->seed ? t->seed : 0x9e3779b9u;

	x ^= x << 13;
	x ^= x >> 17;
	x ^= x << 5;
	t->seed = x;
	return x;
}

/* Splits t into keys < key (*lo) and keys >= key (*hi). */
static void split(struct pl_tnode *t, uint64_t key, struct pl_tnode **lo, struct pl_tnode **hi)
{
	if (!t) {
		*lo = *hi = NULL;
	} else if (t->key < key) {
		split(t->r, key, &t->r, hi);
		*lo = t;
	} else {
		split(t->l, key, lo, &t->l);
		*hi = t;
	}
}

/* Every key of a is below every key of b. */
static struct pl_tnode *merge(struct pl_tnode *a, struct pl_tnode *b)
{
	if (!a || !b)
		return a ? a : b;
	if (a->prio > b->prio) {
		a->r = merge(a->r, b);
		return a;
	}
	b->l = merge(a, b->l);
	return b;
}

/* Descends to where n's priority puts it, and splits what is below around it. */
static struct pl_tnode *insert_at(struct pl_tnode *t, struct pl_tnode *n)
{
	if (!t)
		return n;
	if (n->prio > t->prio) {
		split(t, n->key, &n->l, &n->r);
		return n;
	}
	if (n->key < t->key)
		t->l = insert_at(t->l, n);
	else
		t->r = insert_at(t->r, n);
	return t;
}

struct pl_tnode *pl_treap_insert(struct pl_treap *t, struct pl_tnode *n)
{
	struct pl_tnode *had = pl_treap_find(t, n->key);

	if (had)
		return had;
	n->l = n->r = NULL;
	n->prio = next_prio(t);
	t->root = insert_at(t->root, n);
	t->n++;
	return NULL;
}

static struct pl_tnode *remove_at(struct pl_tnode *t, const struct pl_tnode *n)
{
	if (!t)
		return NULL;
	if (t == n)
		return merge(t->l, t->r);
	if (n->key < t->key)
		t->l = remove_at(t->l, n);
	else
		t->r = remove_at(t->r, n);
	return t;
}

void pl_treap_remove(struct pl_treap *t, struct pl_tnode *n)
{
	t->root = remove_at(t->root, n);
	n->l = n->r = NULL;
	t->n--;
}

struct pl_tnode *pl_treap_find(const struct pl_treap *t, uint64_t key)
{
	struct pl_tnode *n = t->root;

	while (n && n->key != key)
		n = key < n->key ? n->l : n->r;
	return n;
}

struct pl_tnode *pl_treap_ceil(const struct pl_treap *t, uint64_t key)
{
	struct pl_tnode *n = t->root, *best = NULL;

	while (n) {
		if (n->key >= key) {
			best = n;
			n = n->l;
		} else {
			n = n->r;
		}
	}
	return best;
}

struct pl_tnode *pl_treap_floor(const struct pl_treap *t, uint64_t key)
{
	struct pl_tnode *n = t->root, *best = NULL;

	while (n) {
		if (n->key <= key) {
			best = n;
			n = n->r;
		} else {
			n = n->l;
		}
	}
	return best;
}

static void each(struct pl_tnode *n, void (*fn)(void *ctx, struct pl_tnode *n), void *ctx)
{
	while (n) {
		struct pl_tnode *r = n->r;

		each(n->l, fn, ctx);
		fn(ctx, n);
		n = r;
	}
}

void pl_treap_each(const struct pl_treap *t, void (*fn)(void *ctx, struct pl_tnode *n), void *ctx)
{
	each(t->root, fn, ctx);
}
