// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "decode/decode.h"
#include "util/grow.h"
#include "ledger/ranges.h"

#define PAGE_SIZE 4096ull
#define CHUNK_BYTES (1ull << PL_CHUNK_SHIFT)
/*
 * A call naming more chunks than this (16 GiB) files its bytes under its
 * first chunk instead of spreading them: the accounts stay whole, and a huge
 * call on a reservation costs no more than a small one.
 */
#define MAX_SPREAD_CHUNKS 8192
/* An mremap move larger than this (2 TiB) moves the layout but not the history. */
#define MAX_CALL_CHUNKS (1ull << 20)
#define PL_MMAP_ANONYMOUS 0x20
#define PL_MMAP_FIXED 0x10
#define PL_MREMAP_FIXED 2

static uint64_t page_up(uint64_t v)
{
	return (v + PAGE_SIZE - 1) & ~(PAGE_SIZE - 1);
}

static uint64_t chunk_base(uint64_t idx)
{
	return idx << PL_CHUNK_SHIFT;
}

#define MAP_OF(n) pl_container_of(n, struct pl_mapping, node)
#define MAP_ANON(m) ((m)->node.user)
#define SLAB_BLOCK 1024
#define CHUNK_OF(n) pl_container_of(n, struct pl_chunk_acc, node)

static void init_unmapped(struct pl_ranges *r)
{
	memset(&r->unmapped, 0, sizeof(r->unmapped));
	snprintf(r->unmapped.name, sizeof(r->unmapped.name), "(unmapped)");
	r->unmapped.k_rss = r->unmapped.k_lazy_free = r->unmapped.k_anon_huge = -1;
}

void pl_ranges_init(struct pl_ranges *r)
{
	memset(r, 0, sizeof(*r));
	r->call_ns = UINT64_MAX;
	init_unmapped(r);
}

static void chunk_free(struct pl_chunk_acc *c)
{
	for (size_t i = 0; i < c->n_cells; i++)
		free(c->cells[i].more);
	free(c->cells);
	free(c->lazy);
	free(c);
}

static void free_chunk_node(void *ctx, struct pl_tnode *n)
{
	(void)ctx;
	chunk_free(CHUNK_OF(n));
}

static void *slab_get(struct pl_slab *s, size_t size)
{
	void *p = s->free;

	if (p) {
		s->free = *(void **)p;
		return memset(p, 0, size);
	}
	if (!s->n_blocks || s->used == SLAB_BLOCK) {
		void *block;

		if (!pl_grow((void **)&s->blocks, &s->cap_blocks, s->n_blocks, sizeof(*s->blocks),
			     8) ||
		    !(block = calloc(SLAB_BLOCK, size)))
			return NULL;
		s->blocks[s->n_blocks++] = block;
		s->used = 0;
	}
	return (char *)s->blocks[s->n_blocks - 1] + size * s->used++;
}

static void slab_put(struct pl_slab *s, void *p)
{
	*(void **)p = s->free;
	s->free = p;
}

static void slab_free(struct pl_slab *s)
{
	for (size_t i = 0; i < s->n_blocks; i++)
		free(s->blocks[i]);
	free(s->blocks);
	memset(s, 0, sizeof(*s));
}

void pl_ranges_free(struct pl_ranges *r)
{
	pl_treap_each(&r->chunks, free_chunk_node, NULL);
	slab_free(&r->map_slab);
	for (size_t i = 0; i < r->n_names; i++)
		free(r->names[i]);
	free(r->names);
	free(r->cached);
	free(r->pending);
	r->pending = NULL;
	r->n_pending = r->cap_pending = 0;
	memset(&r->maps, 0, sizeof(r->maps));
	memset(&r->chunks, 0, sizeof(r->chunks));
	r->names = NULL;
	r->cached = NULL;
	r->n_names = r->cap_names = r->n_cached = r->cap_cached = 0;
}

const char *pl_range_advice_name(int a)
{
	static const char *const names[PL_RADV_NR] = {
	    [PL_RADV_DONTNEED] = "MADV_DONTNEED",
	    [PL_RADV_FREE] = "MADV_FREE",
	    [PL_RADV_PAGEOUT] = "MADV_PAGEOUT",
	    [PL_RADV_COLD] = "MADV_COLD",
	    [PL_RADV_REMOVE] = "MADV_REMOVE",
	    [PL_RADV_COLLAPSE] = "MADV_COLLAPSE",
	    [PL_RADV_OTHER] = "other",
	};

	return a >= 0 && a < PL_RADV_NR ? names[a] : "other";
}

static int range_advice(long advice)
{
	switch (advice) {
	case PL_MADV_DONTNEED:
	case PL_MADV_DONTNEED_LOCKED:
		return PL_RADV_DONTNEED;
	case PL_MADV_FREE:
		return PL_RADV_FREE;
	case PL_MADV_PAGEOUT:
		return PL_RADV_PAGEOUT;
	case PL_MADV_COLD:
		return PL_RADV_COLD;
	case PL_MADV_REMOVE:
		return PL_RADV_REMOVE;
	case PL_MADV_COLLAPSE:
		return PL_RADV_COLLAPSE;
	default:
		return PL_RADV_OTHER;
	}
}

/* One copy per distinct name, kept for the ledger's life: mappings point at it. */
static const char *intern(struct pl_ranges *r, const char *name)
{
	char *copy;

	for (size_t i = r->n_names; i-- > 0;)
		if (!strcmp(r->names[i], name))
			return r->names[i];
	copy = strndup(name, PL_RANGE_NAME - 1);
	if (!copy ||
	    !pl_grow((void **)&r->names, &r->cap_names, r->n_names, sizeof(*r->names), 16)) {
		free(copy);
		r->alloc_failures++;
		return "[anon]";
	}
	r->names[r->n_names++] = copy;
	return copy;
}

/* ---- page bitmaps ------------------------------------------------------- */

static void bits_range(uint64_t bits[PL_CHUNK_WORDS], unsigned lo, unsigned hi, bool set)
{
	for (unsigned p = lo; p < hi; p++) {
		uint64_t bit = 1ull << (p % 64);

		if (set)
			bits[p / 64] |= bit;
		else
			bits[p / 64] &= ~bit;
	}
}

static unsigned popcount_range(const uint64_t bits[PL_CHUNK_WORDS], unsigned lo, unsigned hi)
{
	unsigned n = 0;

	for (unsigned p = lo; p < hi; p++)
		n += (bits[p / 64] >> (p % 64)) & 1;
	return n;
}

static unsigned popcount_words(const uint64_t bits[PL_CHUNK_WORDS])
{
	unsigned n = 0;

	for (int w = 0; w < PL_CHUNK_WORDS; w++)
		n += (unsigned)__builtin_popcountll(bits[w]);
	return n;
}

/* The pages of chunk idx that [a, b) covers, as [*lo, *hi). Returns the bytes. */
static uint64_t chunk_overlap(uint64_t idx, uint64_t a, uint64_t b, unsigned *lo, unsigned *hi)
{
	uint64_t base = chunk_base(idx);
	uint64_t s = a > base ? a : base, e = b < base + CHUNK_BYTES ? b : base + CHUNK_BYTES;

	if (e <= s)
		return *lo = *hi = 0, 0;
	*lo = (unsigned)((s - base) / PAGE_SIZE);
	*hi = (unsigned)((page_up(e) - base) / PAGE_SIZE);
	return e - s;
}

/* Smallest non-zero delay (0: none yet) and largest, kept as figures merge. */
static void merge_delays(uint64_t *min, uint64_t *max, uint64_t other_min, uint64_t other_max)
{
	if (other_min && (!*min || other_min < *min))
		*min = other_min;
	if (other_max > *max)
		*max = other_max;
}

/* ---- chunks and their segments -------------------------------------------- */

static struct pl_chunk_acc *chunk_find(const struct pl_ranges *r, uint64_t idx)
{
	struct pl_tnode *n = pl_treap_find(&r->chunks, idx);

	return n ? CHUNK_OF(n) : NULL;
}

static struct pl_chunk_acc *chunk_get(struct pl_ranges *r, uint64_t idx)
{
	struct pl_chunk_acc *c = chunk_find(r, idx);

	if (c)
		return c;
	c = calloc(1, sizeof(*c));
	if (!c) {
		r->alloc_failures++;
		return NULL;
	}
	c->node.key = idx;
	pl_treap_insert(&r->chunks, &c->node);
	return c;
}

/* The first chunk we hold at or after idx. */
static struct pl_chunk_acc *chunk_from(const struct pl_ranges *r, uint64_t idx)
{
	struct pl_tnode *n = pl_treap_ceil(&r->chunks, idx);

	return n ? CHUNK_OF(n) : NULL;
}

static struct pl_chunk_acc *chunk_next(const struct pl_ranges *r, const struct pl_chunk_acc *c)
{
	struct pl_tnode *n = pl_treap_next(&r->chunks, &c->node);

	return n ? CHUNK_OF(n) : NULL;
}

/* The segment start at or below page: the last bound there, else page 0. */
static unsigned seg_start(const struct pl_chunk_acc *c, unsigned page)
{
	unsigned w = page / 64, b = page % 64;
	uint64_t m = c->bounds[w] & (b == 63 ? ~0ull : (2ull << b) - 1);

	for (;;) {
		if (m)
			return w * 64 + 63 - (unsigned)__builtin_clzll(m);
		if (!w)
			return 0;
		m = c->bounds[--w];
	}
}

/* The page after the segment that starts at `start`: the next bound, or the chunk's end. */
static unsigned seg_end(const struct pl_chunk_acc *c, unsigned start)
{
	unsigned p = start + 1, w = p / 64;
	uint64_t m;

	if (p >= PL_CHUNK_PAGES)
		return PL_CHUNK_PAGES;
	m = c->bounds[w] & (~0ull << (p % 64));
	for (;;) {
		if (m)
			return w * 64 + (unsigned)__builtin_ctzll(m);
		if (++w >= PL_CHUNK_WORDS)
			return PL_CHUNK_PAGES;
		m = c->bounds[w];
	}
}

static void set_bound(struct pl_chunk_acc *c, unsigned page)
{
	if (page && page < PL_CHUNK_PAGES)
		c->bounds[page / 64] |= 1ull << (page % 64);
}

/* Index of the first cell with start >= page. */
static size_t cell_lower(const struct pl_chunk_acc *c, unsigned page)
{
	size_t lo = 0, hi = c->n_cells;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (c->cells[mid].start < page)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

/* The history of the segment starting at `start` (a bound, or 0). */
static struct pl_cell *cell_get(struct pl_ranges *r, struct pl_chunk_acc *c, unsigned start)
{
	size_t at = cell_lower(c, start), cap = c->cap_cells;
	struct pl_cell *cell;

	if (at < c->n_cells && c->cells[at].start == start)
		return &c->cells[at];
	if (!pl_grow((void **)&c->cells, &cap, c->n_cells, sizeof(*cell), 2)) {
		r->alloc_failures++;
		return NULL;
	}
	c->cap_cells = (uint16_t)cap;
	memmove(&c->cells[at + 1], &c->cells[at], (c->n_cells - at) * sizeof(*cell));
	c->n_cells++;
	cell = &c->cells[at];
	memset(cell, 0, sizeof(*cell));
	cell->start = (uint16_t)start;
	return cell;
}

static struct pl_cell_more *cell_more(struct pl_ranges *r, struct pl_cell *cell)
{
	if (!cell->more && !(cell->more = calloc(1, sizeof(*cell->more))))
		r->alloc_failures++;
	return cell->more;
}

static struct pl_lazy *chunk_lazy(struct pl_ranges *r, struct pl_chunk_acc *c)
{
	if (!c->lazy && !(c->lazy = calloc(1, sizeof(*c->lazy))))
		r->alloc_failures++;
	return c->lazy;
}

/* Counters a cell carries for its owner. */
static void cell_add_to_row(struct pl_range_row *row, const struct pl_chunk_acc *c,
			    const struct pl_cell *cell)
{
	const struct pl_cell_more *m = cell->more;

	row->seeded += cell->seeded_extra;
	row->faulted += (uint64_t)cell->faulted;
	row->released += cell->released;
	if (!m)
		return;
	row->refaulted += m->refaulted;
	row->refaults += m->refaults;
	row->refault_delay_mean_ns += m->delay_sum_ns; /* a sum until the row is finished */
	merge_delays(&row->refault_delay_min_ns, &row->refault_delay_max_ns, m->delay_min_ns,
		     m->delay_max_ns);
	for (int a = 0; a < PL_RADV_NR; a++) {
		row->advised_by[a] += m->advised_by[a];
		row->advised += m->advised_by[a];
	}
	row->collapsed_madvise += m->collapsed_madvise;
	row->collapsed_khugepaged += m->collapsed_khugepaged;
	row->reclaimed += m->reclaimed;
	(void)c;
}

/* Forget a cell's history (into the unmapped row when keep), keeping what the kernel said. */
static void cell_retire(struct pl_ranges *r, const struct pl_chunk_acc *c, struct pl_cell *cell,
			bool keep)
{
	if (keep)
		cell_add_to_row(&r->unmapped, c, cell);
	cell->faulted = 0;
	cell->released = cell->seeded_extra = 0;
	cell->holds_older = false;
	if (cell->more)
		memset(cell->more, 0, sizeof(*cell->more));
}

/* Moves one cell's history onto another (an mremap move). */
static void cell_move(struct pl_ranges *r, struct pl_cell *to, struct pl_cell *from)
{
	to->faulted += from->faulted;
	to->released += from->released;
	to->seeded_extra += from->seeded_extra;
	if (from->more && cell_more(r, to)) {
		struct pl_cell_more *t = to->more, *f = from->more;

		t->refaulted += f->refaulted;
		t->refaults += f->refaults;
		t->delay_sum_ns += f->delay_sum_ns;
		merge_delays(&t->delay_min_ns, &t->delay_max_ns, f->delay_min_ns, f->delay_max_ns);
		for (int a = 0; a < PL_RADV_NR; a++)
			t->advised_by[a] += f->advised_by[a];
		t->collapsed_madvise += f->collapsed_madvise;
		t->collapsed_khugepaged += f->collapsed_khugepaged;
		t->reclaimed += f->reclaimed;
	}
	cell_retire(r, NULL, from, false);
}

/* ---- mappings ----------------------------------------------------------- */

/* The live mapping containing addr, or NULL. */
static struct pl_mapping *mapping_at(const struct pl_ranges *r, uint64_t addr)
{
	struct pl_tnode *n = pl_treap_floor(&r->maps, addr);

	return n && MAP_OF(n)->end > addr ? MAP_OF(n) : NULL;
}

/* The first live mapping ending after addr (it may start after it), or NULL. */
static struct pl_mapping *mapping_from(const struct pl_ranges *r, uint64_t addr)
{
	struct pl_mapping *m = mapping_at(r, addr);
	struct pl_tnode *n;

	if (m)
		return m;
	n = addr == UINT64_MAX ? NULL : pl_treap_ceil(&r->maps, addr + 1);
	return n ? MAP_OF(n) : NULL;
}

static struct pl_mapping *mapping_next(const struct pl_ranges *r, const struct pl_mapping *m)
{
	struct pl_tnode *n = pl_treap_next(&r->maps, &m->node);

	return n ? MAP_OF(n) : NULL;
}

const struct pl_mapping *pl_ranges_first_map(const struct pl_ranges *r, uint64_t addr)
{
	return mapping_from(r, addr);
}

const struct pl_mapping *pl_ranges_next_map(const struct pl_ranges *r, const struct pl_mapping *m)
{
	return mapping_next(r, m);
}

size_t pl_ranges_n_maps(const struct pl_ranges *r)
{
	return r->maps.n;
}

size_t pl_ranges_n_chunks(const struct pl_ranges *r)
{
	return r->chunks.n;
}

/* Whether a live mapping overlaps [a, b). */
static bool mapped_within(const struct pl_ranges *r, uint64_t a, uint64_t b)
{
	struct pl_mapping *m = mapping_from(r, a);

	return m && m->node.key < b;
}

bool pl_ranges_chunk_mapped(const struct pl_ranges *r, uint64_t idx)
{
	return mapped_within(r, chunk_base(idx), chunk_base(idx) + CHUNK_BYTES);
}

/* Who owns a segment: the mapping over its first page, else the first one inside it. */
static struct pl_mapping *cell_owner(const struct pl_ranges *r, const struct pl_chunk_acc *c,
				     unsigned start)
{
	uint64_t base = chunk_base(c->node.key);
	struct pl_mapping *m = mapping_from(r, base + start * PAGE_SIZE);

	return m && m->node.key < base + seg_end(c, start) * PAGE_SIZE ? m : NULL;
}

static struct pl_mapping *insert_mapping(struct pl_ranges *r, uint64_t a, uint64_t b,
					 const char *name, bool anon)
{
	struct pl_mapping *m = slab_get(&r->map_slab, sizeof(*m));

	if (!m) {
		r->alloc_failures++;
		return NULL;
	}
	m->node.key = a;
	m->end = b;
	m->name = intern(r, name);
	MAP_ANON(m) = anon;
	m->k_rss_kib = m->k_lazy_free_kib = m->k_anon_huge_kib = -1;
	if (pl_treap_insert(&r->maps, &m->node)) { /* cannot be: the range was cut first */
		slab_put(&r->map_slab, m);
		return NULL;
	}
	return m;
}

static void remove_mapping(struct pl_ranges *r, struct pl_mapping *m)
{
	pl_treap_remove(&r->maps, &m->node);
	slab_put(&r->map_slab, m);
}

/*
 * A remnant of a mapping now starts at page `page` of c, inside the segment
 * that starts at s (which holds the faults of both parts): the remnant's
 * share is what it holds now, less what was seeded there and what its own
 * new segment has counted since the cut.
 */
/* A cache's bytes on pages below hi, as the kernel's hand-over shares them (by pages). */
static int64_t cached_first(const struct pl_cached *k, unsigned hi)
{
	int64_t span = (int64_t)k->pmax - k->pmin + 1;

	if (k->pmax < hi || k->pmax <= k->pmin)
		return k->bytes;
	if (k->pmin >= hi)
		return 0;
	return k->bytes < 0 ? -(-k->bytes * (int64_t)(hi - k->pmin) / span)
			    : k->bytes * (int64_t)(hi - k->pmin) / span;
}

/*
 * Of the caches held under segment s of chunk idx, the bytes at or after
 * `page`: they are the remnant's, in the figure pagemap gives, and reach its
 * own segment when handed over.
 */
static int64_t cached_beyond(const struct pl_ranges *r, uint64_t idx, unsigned s, unsigned page)
{
	int64_t n = 0;

	for (size_t i = 0; i < r->n_raw; i++)
		if (r->raw_cached[i].idx == idx && r->raw_cached[i].lo == s)
			n += r->raw_cached[i].bytes - cached_first(&r->raw_cached[i], page);
	return n;
}

/*
 * Bytes the kernel counted for the remnant at `page` that its cell does not
 * hold yet: its segment beyond the last fold, caches begun under it, and
 * the part of caches under s the hand-over will give it. The program ran on
 * while its records waited: those faults are in "resident now" too.
 */
static int64_t unfolded_for(const struct pl_ranges *r, const struct pl_chunk_acc *c, unsigned s,
			    unsigned page, const struct pl_cell *to)
{
	const struct pl_cached *k;
	struct pl_seg now;
	int64_t n = 0;
	size_t nk;

	if (!r->kernel_seg || !r->kernel_caches)
		return 0;
	if (r->kernel_seg(r->resident_ctx, c->node.key, page, &now))
		n += now.born_ns == to->seen.born_ns || !to->seen.born_ns
			 ? now.faulted - to->seen.faulted
			 : now.faulted;
	nk = r->kernel_caches(r->resident_ctx, &k);
	for (size_t i = 0; i < nk; i++) {
		if (k[i].idx != c->node.key)
			continue;
		if (k[i].lo == page)
			n += k[i].bytes;
		else if (k[i].lo == s)
			n += k[i].bytes - cached_first(&k[i], page);
	}
	return n;
}

/* The first bound above page the kernel has now, as an address; end if none before it. */
static uint64_t kernel_end(const struct pl_ranges *r, const struct pl_chunk_acc *c, unsigned page,
			   uint64_t end)
{
	uint64_t bounds[PL_CHUNK_WORDS], base = chunk_base(c->node.key);

	if (!r->kernel_bounds || !r->kernel_bounds(r->resident_ctx, c->node.key, bounds))
		return end;
	for (unsigned p = page + 1; p < PL_CHUNK_PAGES && base + p * PAGE_SIZE < end; p++)
		if ((bounds[p / 64] >> (p % 64)) & 1)
			return base + p * PAGE_SIZE;
	return end;
}

/*
 * Resident now in the remnant from at, up to the next bound the kernel
 * has. The bounds are read again after pagemap: a page it counted was
 * faulted in a mapping whose bound the kernel set at its mmap's exit, so
 * a mapping made above the remnant since (its record still to come) shows
 * there, and its pages are not taken for the remnant's.
 */
static int64_t remnant_resident(const struct pl_ranges *r, const struct pl_chunk_acc *c,
				unsigned page, uint64_t at, uint64_t *end)
{
	int64_t n = -1;

	*end = kernel_end(r, c, page, *end);
	for (int tries = 0; tries < 4; tries++) {
		uint64_t again;

		n = r->resident(r->resident_ctx, at, *end);
		again = kernel_end(r, c, page, *end);
		if (n < 0 || again == *end)
			break;
		*end = again;
	}
	return n;
}

/* Moves share of from's faults to to: never more than from holds, never less than none. */
static void hand_over(struct pl_cell *from, struct pl_cell *to, int64_t share)
{
	if (share > from->faulted)
		share = from->faulted;
	if (share <= 0)
		return;
	to->faulted += share;
	from->faulted -= share;
}

static void split_history(struct pl_ranges *r, struct pl_chunk_acc *c, unsigned s, unsigned old_end,
			  unsigned page)
{
	uint64_t base = chunk_base(c->node.key), at = base + page * PAGE_SIZE;
	struct pl_mapping *m = mapping_at(r, at);
	struct pl_cell *from, *to;
	uint64_t end;
	int64_t share;

	if (!m || !(from = cell_get(r, c, s)) || (!from->faulted && !from->released))
		return;
	end = base + old_end * PAGE_SIZE < m->end ? base + old_end * PAGE_SIZE : m->end;
	share = r->resident ? remnant_resident(r, c, page, at, &end) : -1;
	if (share < 0) {
		r->splits_unplaced++;
		return;
	}
	if (end < base + old_end * PAGE_SIZE)
		old_end = (unsigned)((end - base) / PAGE_SIZE);
	to = cell_get(r, c, page);
	from = cell_get(r, c, s); /* the array may have moved */
	if (!to || !from)
		return;
	share -= (int64_t)(popcount_range(c->seeded_pages, page, old_end) * PAGE_SIZE) +
		 to->faulted - (int64_t)to->released +
		 (r->raw_cached ? cached_beyond(r, c->node.key, s, page)
				: unfolded_for(r, c, s, page, to));
	hand_over(from, to, share);
}

/* A new bound at page of c: the segment it cuts shares its history with the remnant. */
static void add_bound(struct pl_ranges *r, struct pl_chunk_acc *c, unsigned page)
{
	unsigned s = seg_start(c, page), old_end = seg_end(c, s);

	if (!page || s == page)
		return;
	set_bound(c, page);
	split_history(r, c, s, old_end, page);
}

/* A new bound in the chunk of addr (a mapping, or what is left of one, starts there). */
static void bound_at(struct pl_ranges *r, uint64_t addr)
{
	unsigned page = (unsigned)((addr & (CHUNK_BYTES - 1)) / PAGE_SIZE);
	struct pl_chunk_acc *c;

	if (!page)
		return;
	c = chunk_get(r, addr >> PL_CHUNK_SHIFT);
	if (!c)
		return;
	c->ahead[page / 64] &= ~(1ull << (page % 64)); /* the record that made it has come */
	add_bound(r, c, page);
}

/* A chunk that nothing maps goes at a later walk; one mapped again stays. */
static void note_dropping(struct pl_ranges *r, struct pl_chunk_acc *c)
{
	bool mapped = pl_ranges_chunk_mapped(r, c->node.key);

	if (!mapped && !c->dropping)
		c->drop_walk = r->walks;
	c->dropping = !mapped;
}

static void clear_lazy(struct pl_chunk_acc *c, unsigned lo, unsigned hi)
{
	if (!c->lazy)
		return;
	bits_range(c->lazy->lazy, lo, hi, false);
	bits_range(c->lazy->unseen, lo, hi, false);
	bits_range(c->lazy->resident, lo, hi, false);
}

/*
 * Records come after the fact: a segment the kernel made after the call
 * began belongs to what is mapped there now (faults of a new mapping read
 * before its record), not to what the call cut.
 */
static bool cell_predates_call(const struct pl_ranges *r, const struct pl_cell *cell)
{
	return cell->holds_older || !cell->seen.born_ns || cell->seen.born_ns < r->call_ns;
}

/*
 * Of a cell's faults, those a later mapping made in its segment: the call
 * that unmapped it is over, so what pagemap finds there now is that
 * mapping's, and the part of it the kernel has counted but this cell not
 * yet is still to come. The segment outlives its mapping when the new one
 * starts at the same page, and its faults are folded before the cut.
 */
static int64_t faulted_after_cut(const struct pl_ranges *r, const struct pl_chunk_acc *c,
				 const struct pl_cell *cell)
{
	uint64_t base = chunk_base(c->node.key), start = base + cell->start * PAGE_SIZE;
	uint64_t end = base + seg_end(c, cell->start) * PAGE_SIZE, from, to;
	int64_t now;

	/*
	 * Only a mapping that starts where the segment does (or, at a chunk's
	 * first page, runs into it from below) reuses it: pages of one made
	 * elsewhere in it go to that one's own segment when its bound comes,
	 * and kept here they would never be released.
	 */
	if (!r->resident || !r->mapping_at || cell->faulted <= 0 ||
	    !r->mapping_at(r->resident_ctx, start, &from, &to))
		return 0;
	if (from != start && !(cell->start == 0 && from < start))
		return 0;
	now = r->resident(r->resident_ctx, start, to < end ? to : end);
	if (now <= 0)
		return 0;
	now -= unfolded_for(r, c, cell->start, cell->start, cell);
	return now < 0 ? 0 : now < cell->faulted ? now : cell->faulted;
}

/* A cell whose mapping went: its history retires, but a later mapping's faults stay. */
static void cell_cut(struct pl_ranges *r, const struct pl_chunk_acc *c, struct pl_cell *cell,
		     bool keep)
{
	int64_t stays = keep ? faulted_after_cut(r, c, cell) : 0;

	cell->faulted -= stays;
	cell_retire(r, c, cell, keep);
	cell->faulted = stays;
}

/*
 * The pages [lo, hi) of chunk c are unmapped: seeded pages there go (to
 * the unmapped row when keep), and segments wholly inside hand on their
 * history. A segment partly inside keeps it, with whatever still maps it.
 */
static void cut_chunk(struct pl_ranges *r, struct pl_chunk_acc *c, unsigned lo, unsigned hi,
		      bool keep)
{
	unsigned gone = popcount_range(c->seeded_pages, lo, hi);

	bits_range(c->seeded_pages, lo, hi, false);
	if (keep)
		r->unmapped.seeded += gone * PAGE_SIZE;
	clear_lazy(c, lo, hi);
	for (size_t i = 0; i < c->n_cells; i++) {
		struct pl_cell *cell = &c->cells[i];

		if (cell->start >= lo && seg_end(c, cell->start) <= hi &&
		    cell_predates_call(r, cell))
			cell_cut(r, c, cell, keep);
	}
	note_dropping(r, c);
	if (c->dropping)
		for (size_t i = 0; i < c->n_cells; i++)
			if (cell_predates_call(r, &c->cells[i]))
				cell_cut(r, c, &c->cells[i], keep);
}

/*
 * Fault-cache bytes in [a, b), which is about to move or go: taken into
 * their segment's history now, and marked as seen, so the flush that
 * brings them to the kernel's segment later is not counted again. A cache
 * begun after the call did is the new layout's (a reading came before its
 * record): it stays, and its flush counts there.
 */
static void absorb_cached(struct pl_ranges *r, uint64_t a, uint64_t b)
{
	size_t kept = 0;

	for (size_t i = 0; i < r->n_cached; i++) {
		struct pl_cached *k = &r->cached[i];
		uint64_t addr = chunk_base(k->idx) + k->lo * PAGE_SIZE;
		bool before = k->first_ns < r->call_ns;
		struct pl_chunk_acc *c =
		    before && addr >= a && addr < b ? chunk_get(r, k->idx) : NULL;
		struct pl_cell *cell = c ? cell_get(r, c, seg_start(c, k->lo)) : NULL;

		if (!cell) {
			r->cached[kept++] = *k;
			continue;
		}
		cell->faulted += k->bytes;
		cell->seen.faulted += k->bytes;
		/* A thread moved CPU: its old cache is older than the entry another one made. */
		cell->holds_older = true;
	}
	r->n_cached = kept;
}

/* Cuts [a, b) out of the live layout, and out of the chunks' accounts. */
static void cut_range(struct pl_ranges *r, uint64_t a, uint64_t b, bool keep_history)
{
	struct pl_mapping *m = mapping_from(r, a);
	struct pl_chunk_acc *c;

	absorb_cached(r, a, b);

	while (m && m->node.key < b) {
		struct pl_mapping *next = mapping_next(r, m);

		if (m->node.key < a && m->end > b) { /* a hole in the middle: two pieces */
			struct pl_mapping *tail;
			uint64_t end = m->end;

			m->end = a;
			tail = insert_mapping(r, b, end, m->name, MAP_ANON(m));
			if (tail)
				tail->k_rss_kib = tail->k_lazy_free_kib = tail->k_anon_huge_kib =
				    -1;
			break;
		}
		if (m->node.key < a)
			m->end = a;
		else if (m->end > b)
			m->node.key = b; /* order kept: nothing else lies in [start, b) */
		else
			remove_mapping(r, m);
		m = next;
	}
	bound_at(r, b); /* what is left after b starts a segment */
	for (c = chunk_from(r, a >> PL_CHUNK_SHIFT);
	     c && b > a && c->node.key <= (b - 1) >> PL_CHUNK_SHIFT; c = chunk_next(r, c)) {
		unsigned lo, hi;

		chunk_overlap(c->node.key, a, b, &lo, &hi);
		cut_chunk(r, c, lo, hi, keep_history);
	}
}

static void add_mapping(struct pl_ranges *r, uint64_t a, uint64_t b, const char *name, bool anon)
{
	struct pl_chunk_acc *c;

	if (b <= a)
		return;
	cut_range(r, a, b, true);
	insert_mapping(r, a, b, name, anon);
	bound_at(r, a);
	for (c = chunk_from(r, a >> PL_CHUNK_SHIFT); c && c->node.key <= (b - 1) >> PL_CHUNK_SHIFT;
	     c = chunk_next(r, c))
		c->dropping = false;
}

int pl_ranges_seed(struct pl_ranges *r, uint64_t start, uint64_t end, const char *name, bool anon)
{
	add_mapping(r, start, end, name, anon);
	if (!strcmp(name, "[heap]"))
		r->heap_start = start;
	return mapping_at(r, start) ? 0 : -1;
}

void pl_ranges_add_seeded(struct pl_ranges *r, uint64_t idx, uint64_t bytes)
{
	struct pl_chunk_acc *c = chunk_get(r, idx);
	struct pl_mapping *m = mapping_from(r, chunk_base(idx));
	uint64_t base = chunk_base(idx);
	unsigned page = m && m->node.key > base ? (unsigned)((m->node.key - base) / PAGE_SIZE) : 0;
	struct pl_cell *cell = c ? cell_get(r, c, seg_start(c, page)) : NULL;

	if (cell)
		cell->seeded_extra += bytes;
}

void pl_ranges_seed_pages(struct pl_ranges *r, uint64_t idx, const uint64_t pages[PL_CHUNK_WORDS])
{
	struct pl_chunk_acc *c = chunk_get(r, idx);

	for (int w = 0; c && w < PL_CHUNK_WORDS; w++)
		c->seeded_pages[w] |= pages[w];
}

static void absorb_chunk(void *ctx, struct pl_tnode *n)
{
	struct pl_chunk_acc *c = CHUNK_OF(n);

	(void)ctx;
	for (size_t i = 0; i < c->n_cells; i++)
		cell_retire(NULL, c, &c->cells[i], false);
}

void pl_ranges_absorb_history(struct pl_ranges *r)
{
	for (size_t i = 0; i < r->n_cached; i++) {
		struct pl_chunk_acc *c = chunk_get(r, r->cached[i].idx);
		struct pl_cell *cell = c ? cell_get(r, c, seg_start(c, r->cached[i].lo)) : NULL;

		if (cell) /* in the seed already: its flush is not a new fault */
			cell->seen.faulted += r->cached[i].bytes;
	}
	r->n_cached = 0;
	pl_treap_each(&r->chunks, absorb_chunk, NULL);
	init_unmapped(r);
}

void pl_ranges_rename(struct pl_ranges *r, uint64_t start, uint64_t end, const char *name,
		      bool anon)
{
	for (struct pl_mapping *m = mapping_from(r, start); m && m->node.key < end;
	     m = mapping_next(r, m)) {
		if (m->node.key >= start && m->end <= end && (m->name[0] == '[' || !m->name[0])) {
			m->name = intern(r, name);
			MAP_ANON(m) = anon;
		}
	}
}

bool pl_ranges_has_nameless(const struct pl_ranges *r)
{
	for (struct pl_mapping *m = mapping_from(r, 0); m; m = mapping_next(r, m))
		if (!strcmp(m->name, "[file]"))
			return true;
	return false;
}

void pl_ranges_bounds(const struct pl_ranges *r, uint64_t idx, uint64_t bounds[PL_CHUNK_WORDS])
{
	struct pl_chunk_acc *c = chunk_find(r, idx);

	memset(bounds, 0, PL_CHUNK_WORDS * sizeof(*bounds));
	if (c)
		memcpy(bounds, c->bounds, sizeof(c->bounds));
}

/* ---- syscalls ------------------------------------------------------------ */

enum cell_field { F_RELEASED, F_ADVISED, F_COLLAPSED };

static void cell_credit(struct pl_ranges *r, struct pl_cell *cell, enum cell_field f, int ra,
			uint64_t bytes)
{
	struct pl_cell_more *m;

	if (f == F_RELEASED) {
		cell->released += bytes;
		return;
	}
	m = cell_more(r, cell);
	if (!m)
		return;
	if (f == F_ADVISED)
		m->advised_by[ra] += bytes;
	else
		m->collapsed_madvise += bytes;
}

/*
 * Adds `total` bytes to a counter of the segments [a, b) covers, in
 * proportion to their overlap; the last one gets the remainder.
 */
/*
 * The segment that held page s when the call being applied was made: a
 * segment this ledger learned of after it (a bound read from the kernel
 * before the call's record came) is skipped for the one before it.
 */
static unsigned segment_then(const struct pl_ranges *r, const struct pl_chunk_acc *c, unsigned s)
{
	while (s > 0 && c->ahead_ns > r->call_ns && ((c->ahead[s / 64] >> (s % 64)) & 1))
		s = seg_start(c, s - 1);
	return s;
}

static void spread(struct pl_ranges *r, uint64_t a, uint64_t b, uint64_t total, enum cell_field f,
		   int ra)
{
	uint64_t first = a >> PL_CHUNK_SHIFT, last = (b - 1) >> PL_CHUNK_SHIFT, given = 0;

	if (b <= a || !total)
		return;
	if (last - first >= MAX_SPREAD_CHUNKS)
		last = first;
	for (uint64_t idx = first; idx <= last; idx++) {
		struct pl_chunk_acc *c = chunk_get(r, idx);
		unsigned lo, hi;

		if (!c)
			return;
		chunk_overlap(idx, a, idx == last ? b : chunk_base(idx + 1), &lo, &hi);
		if (idx == first && idx == last && hi <= lo)
			hi = lo + 1;
		for (unsigned s = seg_start(c, lo); s < hi; s = seg_end(c, s)) {
			unsigned from = s > lo ? s : lo,
				 to = seg_end(c, s) < hi ? seg_end(c, s) : hi;
			uint64_t over = (uint64_t)(to - from) * PAGE_SIZE;
			bool final = idx == last && seg_end(c, s) >= hi;
			uint64_t share =
			    final ? total - given
				  : (uint64_t)((unsigned __int128)total * over / (b - a));
			struct pl_cell *cell = cell_get(r, c, segment_then(r, c, s));

			if (share > total - given)
				share = total - given;
			if (cell)
				cell_credit(r, cell, f, ra, share);
			given += share;
		}
	}
}

static void mark_lazy(struct pl_ranges *r, uint64_t a, uint64_t b, bool lazy)
{
	uint64_t first = a >> PL_CHUNK_SHIFT, last = b > a ? (b - 1) >> PL_CHUNK_SHIFT : 0;

	if (b <= a)
		return;
	if (lazy && last - first < MAX_SPREAD_CHUNKS) /* make the chunks the bits live in */
		for (uint64_t idx = first; idx <= last; idx++)
			chunk_get(r, idx);
	for (struct pl_chunk_acc *c = chunk_from(r, first); c && c->node.key <= last;
	     c = chunk_next(r, c)) {
		unsigned lo, hi;

		chunk_overlap(c->node.key, a, b, &lo, &hi);
		if (!lazy) {
			clear_lazy(c, lo, hi);
		} else if (chunk_lazy(r, c)) {
			bits_range(c->lazy->lazy, lo, hi, true);
			bits_range(c->lazy->unseen, lo, hi, true);
		}
	}
}

static void add_advice(struct pl_ranges *r, uint64_t a, uint64_t len, long advice,
		       const struct pl_syscall_event *e)
{
	int64_t resident = pl_resident_delta(e->rss_delta);
	uint64_t b = a + page_up(len);
	int ra = range_advice(advice);

	if (!len || b < a)
		return;
	spread(r, a, b, b - a, F_ADVISED, ra);
	if (resident < 0)
		spread(r, a, b, (uint64_t)-resident, F_RELEASED, 0);
	if (ra == PL_RADV_COLLAPSE && resident > 0)
		spread(r, a, b, (uint64_t)resident, F_COLLAPSED, 0);
	if (ra == PL_RADV_FREE)
		mark_lazy(r, a, b, true);
	else if (ra == PL_RADV_DONTNEED || ra == PL_RADV_REMOVE)
		mark_lazy(r, a, b, false);
}

/* Seeded bytes in [a, b): page-exact, they leave with the cut to the unmapped row. */
static uint64_t seeded_within(const struct pl_ranges *r, uint64_t a, uint64_t b)
{
	uint64_t n = 0;

	for (struct pl_chunk_acc *c = chunk_from(r, a >> PL_CHUNK_SHIFT);
	     c && b > a && c->node.key <= (b - 1) >> PL_CHUNK_SHIFT; c = chunk_next(r, c)) {
		unsigned lo, hi;

		chunk_overlap(c->node.key, a, b, &lo, &hi);
		n += popcount_range(c->seeded_pages, lo, hi);
	}
	return n * PAGE_SIZE;
}

/*
 * Releases by a call that also unmaps: credit the range first, then cut it.
 * The seeded pages the cut takes to the unmapped row take their share of
 * the release along, so what stays keeps seeded + faulted - released whole.
 */
static void release_and_cut(struct pl_ranges *r, uint64_t a, uint64_t b,
			    const struct pl_syscall_event *e)
{
	int64_t resident = pl_resident_delta(e->rss_delta);
	uint64_t released = resident < 0 ? (uint64_t)-resident : 0, seeded;

	if (b <= a)
		return;
	seeded = seeded_within(r, a, b);
	seeded = seeded < released ? seeded : released;
	r->unmapped.released += seeded;
	spread(r, a, b, released - seeded, F_RELEASED, 0);
	cut_range(r, a, b, true);
}

/* Takes pages [lo, hi) out of the seeded bitmap; returns their bytes. */
static uint64_t take_seeded(struct pl_chunk_acc *c, unsigned lo, unsigned hi)
{
	uint64_t n = popcount_range(c->seeded_pages, lo, hi);

	bits_range(c->seeded_pages, lo, hi, false);
	return n * PAGE_SIZE;
}

/* A moved segment's history, on its way to where its first page lands. */
struct moving {
	uint64_t to; /* address its first page moves to */
	struct pl_cell cell;
	/* Part of a segment moved: its share is what the piece holds at `to` (span bytes). */
	bool partial;
	uint64_t src_idx, span, seeded;
	unsigned src_start;
};

/* Seeded pages [lo, hi) of c travel as seeded bytes, to `to`. Returns the new count. */
static size_t move_seeded(struct pl_ranges *r, struct pl_chunk_acc *c, unsigned lo, unsigned hi,
			  uint64_t to, struct moving **mv, size_t *cap, size_t n)
{
	uint64_t seeded = take_seeded(c, lo, hi);

	if (!seeded)
		return n;
	if (!pl_grow((void **)mv, cap, n, sizeof(**mv), 8)) {
		r->alloc_failures++;
		return n;
	}
	memset(&(*mv)[n], 0, sizeof((*mv)[n]));
	(*mv)[n].to = to;
	(*mv)[n].cell.seeded_extra = seeded;
	return n + 1;
}

/*
 * A piece of a segment moved to `to`: it takes the faults of what it holds
 * there now, less its seeded pages (they travel as such) and what its new
 * segment counted since (already there).
 */
static void move_share(struct pl_ranges *r, const struct moving *mv, struct pl_cell *to)
{
	struct pl_chunk_acc *c = chunk_find(r, mv->src_idx);
	struct pl_cell *from = c ? cell_get(r, c, mv->src_start) : NULL;
	int64_t share = r->resident(r->resident_ctx, mv->to, mv->to + mv->span);

	if (!from || share < 0) {
		r->splits_unplaced++;
		return;
	}
	hand_over(from, to, (int64_t)(share - (int64_t)mv->seeded - to->faulted));
}

/*
 * An mremap move: segment histories travel with their pages, to the segment
 * each one's first page lands in; then the layout (what the move replaced
 * at the destination becomes history).
 */
static void move_mapping(struct pl_ranges *r, uint64_t old, uint64_t old_len, uint64_t to,
			 uint64_t new_len)
{
	struct pl_mapping *m = mapping_at(r, old);
	uint64_t first = old >> PL_CHUNK_SHIFT, end = old + old_len;
	size_t n = 0, cap = 0;
	int64_t shift = (int64_t)(to - old);
	struct moving *mv = NULL;
	const char *name;
	bool anon;

	if (!m)
		return;
	absorb_cached(r, old, end);
	name = m->name;
	anon = MAP_ANON(m);
	for (struct pl_chunk_acc *c = chunk_from(r, first);
	     old_len && old_len / CHUNK_BYTES <= MAX_CALL_CHUNKS && c &&
	     c->node.key <= (end - 1) >> PL_CHUNK_SHIFT;
	     c = chunk_next(r, c)) {
		uint64_t base = chunk_base(c->node.key);
		unsigned lo, hi;

		chunk_overlap(c->node.key, old, end, &lo, &hi);
		for (size_t i = 0; i < c->n_cells; i++) {
			struct pl_cell *cell = &c->cells[i];
			unsigned from = cell->start > lo ? cell->start : lo,
				 end_pg = seg_end(c, cell->start);

			if (end_pg <= lo || cell->start >= hi ||
			    (cell->start < lo && base + cell->start * PAGE_SIZE < m->node.key))
				continue; /* not this mapping's, or it stays with the part left */
			if (!pl_grow((void **)&mv, &cap, n, sizeof(*mv), 8)) {
				r->alloc_failures++;
				break;
			}
			memset(&mv[n], 0, sizeof(mv[n]));
			mv[n].to = (uint64_t)((int64_t)(base + from * PAGE_SIZE) + shift);
			if ((cell->start < lo || end_pg > hi) && r->resident) {
				/* Part of the segment goes: it takes what it holds, the rest stays.
				 */
				mv[n].partial = true;
				mv[n].src_idx = c->node.key;
				mv[n].src_start = cell->start;
				mv[n].span = ((end_pg < hi ? end_pg : hi) - from) * PAGE_SIZE;
				mv[n].seeded = popcount_range(c->seeded_pages, from,
							      end_pg < hi ? end_pg : hi) *
					       PAGE_SIZE;
				n++;
				continue;
			}
			mv[n].cell = *cell;
			if (cell->more && (mv[n].cell.more = malloc(sizeof(*cell->more))))
				*mv[n].cell.more = *cell->more;
			cell_retire(r, c, cell, false);
			n++;
		}
		n = move_seeded(r, c, lo, hi, (uint64_t)((int64_t)(base + lo * PAGE_SIZE) + shift),
				&mv, &cap, n);
	}
	cut_range(r, old, end, false);
	add_mapping(r, to, to + new_len, name, anon);
	for (size_t i = 0; i < n; i++) {
		struct pl_chunk_acc *dst = chunk_get(r, mv[i].to >> PL_CHUNK_SHIFT);
		unsigned page = (unsigned)((mv[i].to & (CHUNK_BYTES - 1)) / PAGE_SIZE);
		struct pl_cell *cell = dst ? cell_get(r, dst, seg_start(dst, page)) : NULL;

		if (cell && mv[i].partial)
			move_share(r, &mv[i], cell);
		else if (cell)
			cell_move(r, cell, &mv[i].cell);
		free(mv[i].cell.more);
	}
	free(mv);
}

static void add_mremap(struct pl_ranges *r, const struct pl_syscall_event *e)
{
	uint64_t old = e->args[0], old_len = page_up(e->args[1]), new_len = page_up(e->args[2]);
	uint64_t to = (uint64_t)e->ret;
	struct pl_mapping *m;

	if (to != old) {
		move_mapping(r, old, old_len, to, new_len);
		if (e->args[3] & PL_MREMAP_FIXED)
			bound_at(r, to + new_len);
		return;
	}
	if (new_len < old_len) {
		release_and_cut(r, old + new_len, old + old_len, e);
		return;
	}
	m = mapping_at(r, old);
	if (m && m->end < old + new_len)
		m->end = old + new_len;
	else if (!m)
		add_mapping(r, old, old + new_len, "[anon]", true);
}

static void add_brk(struct pl_ranges *r, const struct pl_syscall_event *e)
{
	uint64_t old_end = page_up(e->old_brk), new_end = page_up((uint64_t)e->ret);
	struct pl_mapping *heap;

	if (new_end < old_end) {
		release_and_cut(r, new_end, old_end, e);
		return;
	}
	if (new_end == old_end)
		return;
	heap = old_end ? mapping_at(r, old_end - 1) : NULL;
	if (heap && heap->end == old_end && !strcmp(heap->name, "[heap]")) {
		heap->end = new_end;
		return;
	}
	add_mapping(r, old_end, new_end, "[heap]", true);
	if (!r->heap_start)
		r->heap_start = old_end;
}

static void apply_syscall(struct pl_ranges *r, const struct pl_syscall_event *e, uint64_t a)
{
	switch (e->sys) {
	case PL_SYS_MMAP: /* a fixed one may replace what was there: its pages go with it */
		release_and_cut(r, (uint64_t)e->ret, (uint64_t)e->ret + page_up(e->args[1]), e);
		add_mapping(r, (uint64_t)e->ret, (uint64_t)e->ret + page_up(e->args[1]),
			    (e->args[3] & PL_MMAP_ANONYMOUS) ? "[anon]" : "[file]",
			    (e->args[3] & PL_MMAP_ANONYMOUS) != 0);
		if (e->args[3] & PL_MMAP_FIXED)
			bound_at(r, (uint64_t)e->ret + page_up(e->args[1]));
		break;
	case PL_SYS_MUNMAP:
		release_and_cut(r, a, a + page_up(e->args[1]), e);
		break;
	case PL_SYS_MREMAP:
		add_mremap(r, e);
		break;
	case PL_SYS_BRK:
		add_brk(r, e);
		break;
	case PL_SYS_MADVISE:
		add_advice(r, a, e->args[1], (long)e->args[2], e);
		break;
	case PL_SYS_PROCESS_MADVISE:
		if (e->iov_read == 1) /* only the first iovec's base is known */
			add_advice(r, e->iov_addr, e->iov_bytes, (long)e->args[3], e);
		break;
	}
}

void pl_ranges_set_now(struct pl_ranges *r, uint64_t now_ns)
{
	r->now_ns = now_ns;
}

void pl_ranges_add_syscall(struct pl_ranges *r, const struct pl_syscall_event *e)
{
	uint64_t a = e->args[0];

	if (pl_syscall_failed(e) || e->hdr.ts_ns < r->seed_ns) /* an older one is in the seed */
		return;
	r->call_ns = e->hdr.ts_ns - e->duration_ns; /* when it began */
	r->now_ns = r->call_ns;
	apply_syscall(r, e, a);
	r->call_ns = UINT64_MAX;
}
/* ---- the kernel's figures --------------------------------------------------- */

static void note_pending_bound(struct pl_ranges *r, uint64_t idx, unsigned page)
{
	if (!pl_grow((void **)&r->pending, &r->cap_pending, r->n_pending, sizeof(*r->pending),
		     16)) {
		r->alloc_failures++;
		return;
	}
	r->pending[r->n_pending].idx = idx;
	r->pending[r->n_pending++].lo = page;
}

static bool has_bound(const struct pl_chunk_acc *c, unsigned page)
{
	return !page || ((c->bounds[page / 64] >> (page % 64)) & 1);
}

/* Highest first: see pl_ranges_apply_bounds. */
static int by_bound_desc(const void *a, const void *b)
{
	const struct pl_cached *x = a, *y = b;

	if (x->idx != y->idx)
		return x->idx < y->idx ? 1 : -1;
	return x->lo < y->lo ? 1 : x->lo > y->lo ? -1 : 0;
}

void pl_ranges_apply_bounds(struct pl_ranges *r, const struct pl_cached *raw, size_t n)
{
	/*
	 * A cache's segment starts at a bound the kernel had when it began: one
	 * whose record has not come yet is a bound now, or its bytes would be
	 * shared out as the segment below's (and that one's faults taken as seen).
	 */
	for (size_t i = 0; i < n; i++) {
		struct pl_chunk_acc *c = raw[i].bytes ? chunk_get(r, raw[i].idx) : NULL;

		if (c && raw[i].lo < PL_CHUNK_PAGES && !has_bound(c, raw[i].lo))
			note_pending_bound(r, raw[i].idx, raw[i].lo);
	}
	r->raw_cached = raw;
	r->n_raw = n;
	/*
	 * A split shares a segment's history by what is resident now from the
	 * new bound to the segment's end. Bounds applied from the highest down
	 * end each remnant at the next bound the kernel knows, so pages of the
	 * mappings made above it since (their records still to come) are not
	 * taken for the remnant's.
	 */
	if (r->n_pending) /* qsort's base must not be NULL, even for no elements */
		qsort(r->pending, r->n_pending, sizeof(*r->pending), by_bound_desc);
	for (size_t i = 0; i < r->n_pending; i++) {
		struct pl_chunk_acc *c = chunk_find(r, r->pending[i].idx);

		if (!c)
			continue;
		c->ahead[r->pending[i].lo / 64] |= 1ull << (r->pending[i].lo % 64);
		c->ahead_ns = r->now_ns;
		add_bound(r, c, r->pending[i].lo);
	}
	r->n_pending = 0;
	r->raw_cached = NULL;
	r->n_raw = 0;
}

void pl_ranges_fold_chunk(struct pl_ranges *r, uint64_t idx, const struct pl_chunk *now)
{
	struct pl_chunk_acc *c = chunk_get(r, idx);
	int64_t spilled;

	if (!c)
		return;
	/* A kernel entry made anew (after we dropped it) counts from 0 again. */
	if (now->born_ns != c->born_ns) {
		c->spilled_seen = 0;
		c->born_ns = now->born_ns;
	}
	/*
	 * Bounds the kernel set that the records have not brought yet (a cut's
	 * remnant) split a segment's history: once its segments are folded too.
	 */
	for (int w = 0; w < PL_CHUNK_WORDS; w++)
		for (uint64_t fresh = now->bounds[w] & ~c->bounds[w]; fresh; fresh &= fresh - 1)
			note_pending_bound(r, idx,
					   (unsigned)w * 64 + (unsigned)__builtin_ctzll(fresh));
	memcpy(c->released_seen, now->released, sizeof(c->released_seen));
	merge_delays(&c->delay_min_ns, &c->delay_max_ns, now->delay_min_ns, now->delay_max_ns);
	spilled = now->spilled - c->spilled_seen;
	c->spilled_seen = now->spilled;
	if (spilled) { /* no segment entry had room: the segment of the last fault */
		unsigned page = (unsigned)((now->last_addr & (CHUNK_BYTES - 1)) / PAGE_SIZE);
		struct pl_cell *cell = cell_get(r, c, seg_start(c, page));

		if (cell)
			cell->faulted += spilled;
	}
	note_dropping(r, c);
}

void pl_ranges_fold_seg(struct pl_ranges *r, uint64_t idx, uint32_t page, const struct pl_seg *now)
{
	struct pl_chunk_acc *c = chunk_get(r, idx);
	struct pl_cell *cell;
	struct pl_seg *s;
	uint64_t refaults;

	if (!c || page >= PL_CHUNK_PAGES)
		return;
	/* A segment the kernel made where no bound is known yet: a bound, applied like the chunk's.
	 */
	if (!has_bound(c, page))
		note_pending_bound(r, idx, page);
	cell = cell_get(r, c, page);
	if (!cell)
		return;
	s = &cell->seen;
	/* An entry made anew counts from 0; at first sight, cached bytes already taken stay. */
	if (now->born_ns != s->born_ns && s->born_ns)
		memset(s, 0, sizeof(*s));
	s->born_ns = now->born_ns;
	/* Plain differences: a reading that lags (a cache not yet flushed) is made up later. */
	cell->faulted += now->faulted - s->faulted;
	refaults = now->refaults - s->refaults;
	if ((refaults || now->refaulted != s->refaulted) && cell_more(r, cell)) {
		cell->more->refaulted += now->refaulted - s->refaulted;
		cell->more->refaults += refaults;
		cell->more->delay_sum_ns += now->delay_sum_ns - s->delay_sum_ns;
		merge_delays(&cell->more->delay_min_ns, &cell->more->delay_max_ns, c->delay_min_ns,
			     c->delay_max_ns);
	}
	*s = *now;
	note_dropping(r, c);
}

/* Their segment gets a cell, so rows find them there. */
static void add_cached(struct pl_ranges *r, struct pl_chunk_acc *c, unsigned s, int64_t bytes,
		       uint64_t first_ns)
{
	struct pl_cached *k;

	if (!bytes)
		return;
	cell_get(r, c, s);
	if (!pl_grow((void **)&r->cached, &r->cap_cached, r->n_cached, sizeof(*k), 8)) {
		r->alloc_failures++;
		return;
	}
	k = &r->cached[r->n_cached++];
	memset(k, 0, sizeof(*k));
	k->idx = c->node.key;
	k->lo = k->pmin = k->pmax = s;
	k->bytes = bytes;
	k->first_ns = first_ns;
}

void pl_ranges_set_cached(struct pl_ranges *r, const struct pl_cached *c, size_t n)
{
	r->n_cached = 0;
	for (size_t i = 0; i < n; i++) {
		struct pl_chunk_acc *chunk = c[i].bytes ? chunk_get(r, c[i].idx) : NULL;
		unsigned s1, s2;
		int64_t first;

		if (!chunk || c[i].pmin >= PL_CHUNK_PAGES || c[i].pmax >= PL_CHUNK_PAGES)
			continue;
		/* As the hand-over will share them: by the segments of their first and last page.
		 */
		s1 = seg_start(chunk, c[i].pmin);
		s2 = seg_start(chunk, c[i].pmax);
		first = cached_first(&c[i], seg_end(chunk, s1));
		add_cached(r, chunk, s1, first, c[i].first_ns);
		add_cached(r, chunk, s2, c[i].bytes - first, c[i].first_ns);
	}
}

struct drop_list {
	struct pl_chunk_acc **v;
	size_t n, cap;
	uint64_t walk;
	bool failed;
};

static void collect_drop(void *ctx, struct pl_tnode *n)
{
	struct drop_list *d = ctx;
	struct pl_chunk_acc *c = CHUNK_OF(n);

	if (!c->dropping || c->drop_walk + 1 >= d->walk)
		return;
	if (!pl_grow((void **)&d->v, &d->cap, d->n, sizeof(*d->v), 64)) {
		d->failed = true;
		return;
	}
	d->v[d->n++] = c;
}

void pl_ranges_end_walk(struct pl_ranges *r,
			void (*forget)(void *ctx, uint64_t idx, const uint64_t *bounds), void *ctx)
{
	struct drop_list d = {.walk = ++r->walks};

	pl_treap_each(&r->chunks, collect_drop, &d);
	if (d.failed)
		r->alloc_failures++;
	for (size_t i = 0; i < d.n; i++) {
		struct pl_chunk_acc *c = d.v[i];

		if (pl_ranges_chunk_mapped(r, c->node.key)) {
			c->dropping = false;
			continue;
		}
		for (size_t k = 0; k < c->n_cells; k++)
			cell_retire(r, c, &c->cells[k], true);
		if (forget)
			forget(ctx, c->node.key, c->bounds);
		pl_treap_remove(&r->chunks, &c->node);
		chunk_free(c);
	}
	free(d.v);
}

size_t pl_ranges_lazy_chunks(const struct pl_ranges *r, uint64_t *idx, size_t max)
{
	size_t n = 0;

	for (struct pl_chunk_acc *c = chunk_from(r, 0); c && n < max; c = chunk_next(r, c))
		if (c->lazy && popcount_words(c->lazy->lazy))
			idx[n++] = c->node.key;
	return n;
}

/*
 * A page MADV_FREE'd and resident at the first look after the call is
 * pending until it is gone (reclaim dropped it) or faulted back (it was
 * dropped and reused: the kernel cleared its released bit).
 */
void pl_ranges_set_presence(struct pl_ranges *r, uint64_t idx,
			    const uint64_t present[PL_CHUNK_WORDS])
{
	struct pl_chunk_acc *c = chunk_find(r, idx);
	struct pl_lazy *l = c ? c->lazy : NULL;

	if (!l)
		return;
	for (int w = 0; w < PL_CHUNK_WORDS; w++) {
		uint64_t gone;

		l->resident[w] |= l->unseen[w] & present[w];
		l->unseen[w] = 0;
		gone = l->resident[w] & ~present[w];
		for (uint64_t g = gone; g; g &= g - 1) {
			unsigned page = (unsigned)w * 64 + (unsigned)__builtin_ctzll(g);
			struct pl_cell *cell = cell_get(r, c, seg_start(c, page));

			if (cell && cell_more(r, cell))
				cell->more->reclaimed += PAGE_SIZE;
		}
		l->resident[w] &= present[w] & c->released_seen[w];
		l->lazy[w] &= ~gone & c->released_seen[w];
	}
}

/*
 * Growth is counted when khugepaged changes the counters; the huge page may
 * show in pagemap a poll later. Growth that finds no new huge page waits.
 */
void pl_ranges_note_collapse(struct pl_ranges *r, const uint64_t *huge, size_t n, int64_t grown)
{
	size_t fresh = 0, seen = 0;
	int64_t total = r->collapse_pending + grown;
	uint64_t given = 0;

	for (size_t i = 0; i < n; i++) {
		struct pl_chunk_acc *c = chunk_find(r, huge[i]);

		if (!c || !c->huge)
			fresh++;
	}
	r->collapse_pending = fresh ? 0 : total;
	for (size_t i = 0; i < n; i++) {
		struct pl_chunk_acc *c = chunk_find(r, huge[i]);
		struct pl_cell *cell;
		uint64_t share;

		if (c && c->huge)
			continue;
		c = chunk_get(r, huge[i]);
		if (!c)
			return;
		c->huge = true;
		seen++;
		if (total <= 0)
			continue;
		share = seen == fresh ? (uint64_t)total - given : (uint64_t)total / fresh;
		cell = cell_get(r, c, 0); /* a huge page fills the chunk: one mapping's */
		if (cell && cell_more(r, cell))
			cell->more->collapsed_khugepaged += share;
		given += share;
	}
}

void pl_ranges_clear_kernel(struct pl_ranges *r)
{
	for (struct pl_mapping *m = mapping_from(r, 0); m; m = mapping_next(r, m))
		m->k_rss_kib = m->k_lazy_free_kib = m->k_anon_huge_kib = -1;
}

static void add_known(int64_t *to, int64_t v)
{
	if (v < 0)
		return;
	*to = (*to < 0 ? 0 : *to) + v;
}

/* smaps counts in KiB: kept so, in 32 bits (2 TiB per mapping), -1 for unknown. */
static void add_known_kib(int32_t *to, int64_t bytes)
{
	int64_t kib;

	if (bytes < 0)
		return;
	kib = (*to < 0 ? 0 : *to) + bytes / 1024;
	*to = kib > INT32_MAX ? INT32_MAX : (int32_t)kib;
}

static int64_t kib_bytes(int32_t kib)
{
	return kib < 0 ? -1 : (int64_t)kib * 1024;
}

/*
 * The kernel merges adjacent mappings that look alike into one VMA: so do
 * we, when its figures span several of ours. Rows are views over segments,
 * so a merge moves no counters.
 */
static struct pl_mapping *merge_over(struct pl_ranges *r, uint64_t start, uint64_t end)
{
	struct pl_mapping *first = mapping_from(r, start), *m;

	if (!first || first->node.key >= end)
		return NULL;
	/* The kernel's extent wins where ours has a gap: it is what is mapped. */
	if (start < first->node.key)
		first->node.key = start; /* order kept: nothing lies in [start, first) */
	while ((m = mapping_next(r, first)) && m->node.key < end) {
		if (first->name[0] == '[' && m->name[0] != '[')
			first->name = m->name;
		first->end = m->end;
		remove_mapping(r, m);
	}
	if (first->end < end)
		first->end = end;
	return first;
}

void pl_ranges_set_kernel(struct pl_ranges *r, uint64_t start, uint64_t end, int64_t rss,
			  int64_t lazy_free, int64_t anon_huge)
{
	struct pl_mapping *m = merge_over(r, start, end);

	if (!m) { /* a mapping no record told us of (made before a lost event) */
		add_mapping(r, start, end, "[unknown]", true);
		m = mapping_at(r, start);
	}
	/* A VMA lies inside one of our mappings; ours may span several VMAs. */
	if (!m || end > m->end || start < m->node.key)
		return;
	add_known_kib(&m->k_rss_kib, rss);
	add_known_kib(&m->k_lazy_free_kib, lazy_free);
	add_known_kib(&m->k_anon_huge_kib, anon_huge);
}

/* ---- rows ------------------------------------------------------------------ */

static void mapping_row(const struct pl_mapping *m, struct pl_range_row *row)
{
	memset(row, 0, sizeof(*row));
	row->start = m->node.key;
	row->end = m->end;
	row->mapped = m->end - m->node.key;
	row->k_rss = kib_bytes(m->k_rss_kib);
	row->k_lazy_free = kib_bytes(m->k_lazy_free_kib);
	row->k_anon_huge = kib_bytes(m->k_anon_huge_kib);
	snprintf(row->name, sizeof(row->name), "%s", m->name);
}

static void row_finish(const struct pl_ranges *r, struct pl_range_row *row)
{
	row->refault_delay_mean_ns = row->refaults ? row->refault_delay_mean_ns / row->refaults : 0;
	/* After exec every page the seed found the program had faulted itself (exec's few aside).
	 */
	if (r->seed_is_faulted) {
		row->faulted += row->seeded;
		row->seeded = 0;
	}
}

/* Page-exact figures inside a mapping: seeded and lazily freed pages, whoever owns segments. */
static void pages_in(const struct pl_ranges *r, const struct pl_mapping *m, uint64_t *seeded,
		     uint64_t *lazy)
{
	uint64_t s = 0, l = 0;

	for (struct pl_chunk_acc *c = chunk_from(r, m->node.key >> PL_CHUNK_SHIFT);
	     c && c->node.key <= (m->end - 1) >> PL_CHUNK_SHIFT; c = chunk_next(r, c)) {
		unsigned lo, hi;

		chunk_overlap(c->node.key, m->node.key, m->end, &lo, &hi);
		s += popcount_range(c->seeded_pages, lo, hi);
		if (c->lazy)
			l += popcount_range(c->lazy->resident, lo, hi);
	}
	*seeded = s * PAGE_SIZE;
	*lazy = l * PAGE_SIZE;
}

/* The bytes the fault caches held for a segment at the last reading. */
static int64_t cached_for(const struct pl_ranges *r, uint64_t idx, unsigned start, unsigned end)
{
	int64_t n = 0;

	for (size_t i = 0; i < r->n_cached; i++)
		if (r->cached[i].idx == idx && r->cached[i].lo >= start && r->cached[i].lo < end)
			n += r->cached[i].bytes;
	return n;
}

/* The row of one mapping: the segments it owns and the pages it covers. */
static void build_row(const struct pl_ranges *r, const struct pl_mapping *m,
		      struct pl_range_row *row)
{
	uint64_t seeded, lazy;

	mapping_row(m, row);
	for (struct pl_chunk_acc *c = chunk_from(r, m->node.key >> PL_CHUNK_SHIFT);
	     c && c->node.key <= (m->end - 1) >> PL_CHUNK_SHIFT; c = chunk_next(r, c)) {
		unsigned lo, hi;

		chunk_overlap(c->node.key, m->node.key, m->end, &lo, &hi);
		/* Only the segments over the mapping: from the one holding its first page. */
		for (size_t i = cell_lower(c, seg_start(c, lo)); i < c->n_cells; i++) {
			const struct pl_cell *cell = &c->cells[i];

			if (cell->start >= hi)
				break;

			if (cell_owner(r, c, cell->start) != m)
				continue;
			cell_add_to_row(row, c, cell);
			row->faulted += (uint64_t)cached_for(r, c->node.key, cell->start,
							     seg_end(c, cell->start));
		}
	}
	pages_in(r, m, &seeded, &lazy);
	row->seeded += seeded;
	row->lazy_pending += lazy;
}

static int64_t row_weight(const struct pl_range_row *w)
{
	return (int64_t)(w->seeded + w->faulted + w->collapsed_madvise + w->collapsed_khugepaged) -
	       (int64_t)(w->released + w->reclaimed);
}

static bool row_has_activity(const struct pl_range_row *w)
{
	return w->seeded || w->faulted || w->advised || w->released || w->collapsed_khugepaged;
}

/* What ordering and choosing rows needs, per mapping: small, so every mapping gets one. */
struct row_key {
	const struct pl_mapping *m;
	int64_t weight;
};

static int by_weight_desc(const void *a, const void *b)
{
	const struct row_key *x = a, *y = b;

	if (x->weight != y->weight)
		return x->weight < y->weight ? 1 : -1;
	return x->m->node.key < y->m->node.key ? -1 : 1;
}

size_t pl_ranges_rows(const struct pl_ranges *r, struct pl_range_row *out, size_t max)
{
	struct row_key *keys = calloc(r->maps.n ? r->maps.n : 1, sizeof(*keys));
	size_t n = 0, shown = 0;

	if (!keys)
		return 0;
	for (const struct pl_mapping *m = mapping_from(r, 0); m; m = mapping_next(r, m)) {
		struct pl_range_row row;

		build_row(r, m, &row);
		if (!row_has_activity(&row))
			continue;
		keys[n].m = m;
		keys[n].weight = row_weight(&row);
		n++;
	}
	qsort(keys, n, sizeof(*keys), by_weight_desc);
	for (size_t i = 0; i < n && shown < max; i++) {
		build_row(r, keys[i].m, &out[shown]);
		row_finish(r, &out[shown++]);
	}
	free(keys);
	return shown;
}

/* Sums a row into another; delay means are still sums (before row_finish). */
static void row_merge(struct pl_range_row *to, const struct pl_range_row *w)
{
	to->mapped += w->mapped;
	to->seeded += w->seeded;
	to->faulted += w->faulted;
	to->refaulted += w->refaulted;
	to->refaults += w->refaults;
	to->refault_delay_mean_ns += w->refault_delay_mean_ns;
	merge_delays(&to->refault_delay_min_ns, &to->refault_delay_max_ns, w->refault_delay_min_ns,
		     w->refault_delay_max_ns);
	for (int a = 0; a < PL_RADV_NR; a++)
		to->advised_by[a] += w->advised_by[a];
	to->advised += w->advised;
	to->released += w->released;
	to->lazy_pending += w->lazy_pending;
	to->reclaimed += w->reclaimed;
	to->collapsed_madvise += w->collapsed_madvise;
	to->collapsed_khugepaged += w->collapsed_khugepaged;
	add_known(&to->k_rss, w->k_rss);
	add_known(&to->k_lazy_free, w->k_lazy_free);
	add_known(&to->k_anon_huge, w->k_anon_huge);
}

uint64_t pl_ranges_lazy_pending(const struct pl_ranges *r)
{
	uint64_t n = 0;

	/* An unmapped page is never pending (cuts clear it), so every chunk counts. */
	for (struct pl_chunk_acc *c = chunk_from(r, 0); c; c = chunk_next(r, c))
		if (c->lazy)
			n += popcount_words(c->lazy->resident);
	return n * PAGE_SIZE;
}

/*
 * Every live mapping's row summed (live), and what is gone: the unmapped
 * row plus segments no live mapping owns. One pass over the segments.
 * The kernel's figures are summed only when every mapping has them: a sum
 * of the mappings a time-bounded smaps read reached is not smaps' total.
 */
static void sum_rows(const struct pl_ranges *r, struct pl_range_row *live,
		     struct pl_range_row *gone)
{
	bool kernel_whole = true;

	memset(live, 0, sizeof(*live));
	snprintf(live->name, sizeof(live->name), "(mapped)");
	live->k_rss = live->k_lazy_free = live->k_anon_huge = -1;
	*gone = r->unmapped;
	for (const struct pl_mapping *m = mapping_from(r, 0); m; m = mapping_next(r, m)) {
		struct pl_range_row row;

		mapping_row(m, &row);
		live->mapped += row.mapped;
		kernel_whole = kernel_whole && row.k_rss >= 0;
		add_known(&live->k_rss, row.k_rss);
		add_known(&live->k_lazy_free, row.k_lazy_free);
		add_known(&live->k_anon_huge, row.k_anon_huge);
	}
	if (!kernel_whole)
		live->k_rss = live->k_lazy_free = live->k_anon_huge = -1;
	for (struct pl_chunk_acc *c = chunk_from(r, 0); c; c = chunk_next(r, c)) {
		live->seeded += popcount_words(c->seeded_pages) * PAGE_SIZE;
		if (c->lazy)
			live->lazy_pending += popcount_words(c->lazy->resident) * PAGE_SIZE;
		for (size_t i = 0; i < c->n_cells; i++) {
			const struct pl_cell *cell = &c->cells[i];
			struct pl_range_row *to = cell_owner(r, c, cell->start) ? live : gone;

			cell_add_to_row(to, c, cell);
			to->faulted += (uint64_t)cached_for(r, c->node.key, cell->start,
							    seg_end(c, cell->start));
		}
	}
}

void pl_ranges_grand_total(const struct pl_ranges *r, struct pl_range_row *all)
{
	struct pl_range_row live, gone;

	sum_rows(r, &live, &gone);
	memset(all, 0, sizeof(*all));
	snprintf(all->name, sizeof(all->name), "(all)");
	all->k_rss = all->k_lazy_free = all->k_anon_huge = -1;
	row_merge(all, &live);
	row_merge(all, &gone);
	row_finish(r, all);
}

void pl_ranges_totals(const struct pl_ranges *r, struct pl_range_row *live,
		      struct pl_range_row *gone)
{
	sum_rows(r, live, gone);
	row_finish(r, live);
	row_finish(r, gone);
}

int64_t pl_range_row_resident(const struct pl_range_row *w)
{
	return row_weight(w);
}

void pl_range_row_add(struct pl_range_row *to, const struct pl_range_row *w)
{
	row_merge(to, w);
}
