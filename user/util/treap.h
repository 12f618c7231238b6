/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * An ordered set keyed by uint64_t, intrusive: the node lives in its
 * owner. A treap (random priorities), so insert, remove, find and the
 * ordered look-ups are O(log n) expected, whatever the order of the keys.
 * Keys are unique; the caller keeps a node's key fixed while it is in the
 * set, unless the change keeps the order.
 */
#ifndef PL_TREAP_H
#define PL_TREAP_H

#include <stddef.h>
#include <stdint.h>

struct pl_tnode {
	struct pl_tnode *l, *r;
	uint64_t key;
	uint32_t prio;
	uint32_t user; /* the owner's, in what would be padding */
};

struct pl_treap {
	struct pl_tnode *root;
	size_t n;
	uint32_t seed;
};

/* Inserts n (n->key set). Returns the node already holding the key, if any, else NULL. */
struct pl_tnode *pl_treap_insert(struct pl_treap *t, struct pl_tnode *n);
void pl_treap_remove(struct pl_treap *t, struct pl_tnode *n);
struct pl_tnode *pl_treap_find(const struct pl_treap *t, uint64_t key);
/* The node with the smallest key >= key, or NULL. */
struct pl_tnode *pl_treap_ceil(const struct pl_treap *t, uint64_t key);
/* The node with the largest key <= key, or NULL. */
struct pl_tnode *pl_treap_floor(const struct pl_treap *t, uint64_t key);
static inline struct pl_tnode *pl_treap_next(const struct pl_treap *t, const struct pl_tnode *n)
{
	return n->key == UINT64_MAX ? NULL : pl_treap_ceil(t, n->key + 1);
}
static inline struct pl_tnode *pl_treap_first(const struct pl_treap *t)
{
	return pl_treap_ceil(t, 0);
}
/* Calls fn on every node in key order; fn may not change the set. */
void pl_treap_each(const struct pl_treap *t, void (*fn)(void *ctx, struct pl_tnode *n), void *ctx);

#define pl_container_of(p, type, member) ((type *)((char *)(p)-offsetof(type, member)))

#endif
