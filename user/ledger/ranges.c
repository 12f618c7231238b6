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

static uint64_t page_up(uint64_t v)
{
	return (v + PAGE_SIZE - 1) & ~(PAGE_SIZE - 1);
}

static uint64_t chunk_base(uint64_t idx)
{
	return idx << PL_CHUNK_SHIFT;
}

void pl_ranges_init(struct pl_ranges *r)
{
	memset(r, 0, sizeof(*r));
	snprintf(r->unmapped.name, sizeof(r->unmapped.name), "(unmapped)");
	r->unmapped.k_rss = r->unmapped.k_lazy_free = r->unmapped.k_anon_huge = -1;
}

void pl_ranges_free(struct pl_ranges *r)
{
	free(r->maps);
	free(r->chunks);
	r->maps = NULL;
	r->chunks = NULL;
	r->n_maps = r->n_chunks = r->cap_maps = r->cap_chunks = 0;
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

/* ---- chunks ------------------------------------------------------------- */

/* Index of the first chunk with idx >= key. */
static size_t chunk_lower_bound(const struct pl_ranges *r, uint64_t key)
{
	size_t lo = 0, hi = r->n_chunks;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (r->chunks[mid].idx < key)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

static struct pl_chunk_acc *chunk_find(const struct pl_ranges *r, uint64_t idx)
{
	size_t at = chunk_lower_bound(r, idx);

	return at < r->n_chunks && r->chunks[at].idx == idx ? &r->chunks[at] : NULL;
}

static struct pl_chunk_acc *chunk_get(struct pl_ranges *r, uint64_t idx)
{
	size_t at = chunk_lower_bound(r, idx);
	struct pl_chunk_acc *c;

	if (at < r->n_chunks && r->chunks[at].idx == idx)
		return &r->chunks[at];
	if (!pl_grow((void **)&r->chunks, &r->cap_chunks, r->n_chunks, sizeof(*c), 256)) {
		r->alloc_failures++;
		return NULL;
	}
	memmove(&r->chunks[at + 1], &r->chunks[at], (r->n_chunks - at) * sizeof(*c));
	r->n_chunks++;
	c = &r->chunks[at];
	memset(c, 0, sizeof(*c));
	c->idx = idx;
	return c;
}

/* Bits [lo, hi) of a chunk's page bitmap. */
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

/* Counters a chunk carries for its owner (not the kernel's last reading). */
static void chunk_add_counters(struct pl_range_row *row, const struct pl_chunk_acc *c)
{
	row->seeded += c->seeded_extra;
	row->faulted += c->faulted;
	row->refaulted += c->refaulted;
	row->refaults += c->refaults;
	row->refault_delay_mean_ns += c->delay_sum_ns; /* a sum until the row is finished */
	merge_delays(&row->refault_delay_min_ns, &row->refault_delay_max_ns, c->delay_min_ns,
		     c->delay_max_ns);
	for (int a = 0; a < PL_RADV_NR; a++) {
		row->advised_by[a] += c->advised_by[a];
		row->advised += c->advised_by[a];
	}
	row->released += c->released;
	row->collapsed_madvise += c->collapsed_madvise;
	row->collapsed_khugepaged += c->collapsed_khugepaged;
	row->lazy_pending += c->lazy_pending;
	row->reclaimed += c->reclaimed;
}

static void row_finish(struct pl_range_row *row)
{
	row->refault_delay_mean_ns = row->refaults ? row->refault_delay_mean_ns / row->refaults : 0;
}

/*
 * Forget a chunk's history, keeping the kernel reading it was credited
 * against and the seeded pages (page-exact: cut_range clears its own).
 */
static void chunk_reset(struct pl_chunk_acc *c)
{
	struct pl_chunk_acc keep = *c;

	memset(c, 0, sizeof(*c));
	c->idx = keep.idx;
	c->seen = keep.seen;
	memcpy(c->seeded_pages, keep.seeded_pages, sizeof(c->seeded_pages));
}

/* Takes pages [lo, hi) out of the seeded bitmap; returns their bytes. */
static uint64_t take_seeded(struct pl_chunk_acc *c, unsigned lo, unsigned hi)
{
	uint64_t mask[PL_CHUNK_WORDS] = {0}, n = 0;

	bits_range(mask, lo, hi, true);
	for (int w = 0; w < PL_CHUNK_WORDS; w++) {
		n += (uint64_t)__builtin_popcountll(c->seeded_pages[w] & mask[w]);
		c->seeded_pages[w] &= ~mask[w];
	}
	return n * PAGE_SIZE;
}

/* Moves a chunk's history to another chunk (an mremap move). */
static void chunk_move_counters(struct pl_chunk_acc *to, const struct pl_chunk_acc *from)
{
	to->seeded_extra += from->seeded_extra;
	to->faulted += from->faulted;
	to->refaulted += from->refaulted;
	to->refaults += from->refaults;
	to->delay_sum_ns += from->delay_sum_ns;
	merge_delays(&to->delay_min_ns, &to->delay_max_ns, from->delay_min_ns, from->delay_max_ns);
	for (int a = 0; a < PL_RADV_NR; a++)
		to->advised_by[a] += from->advised_by[a];
	to->released += from->released;
	to->collapsed_madvise += from->collapsed_madvise;
	to->collapsed_khugepaged += from->collapsed_khugepaged;
	to->reclaimed += from->reclaimed;
}

/* ---- mappings ----------------------------------------------------------- */

/* The live mapping containing addr, or NULL. */
static struct pl_mapping *mapping_at(const struct pl_ranges *r, uint64_t addr)
{
	size_t lo = 0, hi = r->n_maps;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (r->maps[mid].end <= addr)
			lo = mid + 1;
		else if (r->maps[mid].start > addr)
			hi = mid;
		else
			return &r->maps[mid];
	}
	return NULL;
}

/* The first live mapping ending after addr (it may start after it), or NULL. */
static struct pl_mapping *mapping_from(const struct pl_ranges *r, uint64_t addr)
{
	size_t lo = 0, hi = r->n_maps;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (r->maps[mid].end <= addr)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo < r->n_maps ? &r->maps[lo] : NULL;
}

/* Who owns a chunk: the mapping of its last fault, else the lowest one over it. */
static struct pl_mapping *chunk_owner(const struct pl_ranges *r, const struct pl_chunk_acc *c)
{
	struct pl_mapping *m = c->last_addr ? mapping_at(r, c->last_addr) : NULL;

	if (m && (m->start >> PL_CHUNK_SHIFT) <= c->idx &&
	    ((m->end - 1) >> PL_CHUNK_SHIFT) >= c->idx)
		return m;
	m = mapping_from(r, chunk_base(c->idx));
	return m && m->start < chunk_base(c->idx) + CHUNK_BYTES ? m : NULL;
}

bool pl_ranges_chunk_mapped(const struct pl_ranges *r, uint64_t idx)
{
	struct pl_mapping *m = mapping_from(r, chunk_base(idx));

	return m && m->start < chunk_base(idx) + CHUNK_BYTES;
}

static int insert_mapping(struct pl_ranges *r, const struct pl_mapping *m)
{
	struct pl_mapping *next = mapping_from(r, m->start); /* disjoint: the one after m */
	size_t at = next ? (size_t)(next - r->maps) : r->n_maps;

	if (!pl_grow((void **)&r->maps, &r->cap_maps, r->n_maps, sizeof(*m), 64)) {
		r->alloc_failures++;
		return -1;
	}
	memmove(&r->maps[at + 1], &r->maps[at], (r->n_maps - at) * sizeof(*m));
	r->maps[at] = *m;
	r->n_maps++;
	return 0;
}

/* The chunks we hold for [a, b), in order: [*from, *to) of r->chunks. */
static void chunks_within(const struct pl_ranges *r, uint64_t a, uint64_t b, size_t *from,
			  size_t *to)
{
	*from = *to = chunk_lower_bound(r, a >> PL_CHUNK_SHIFT);
	while (b > a && *to < r->n_chunks && r->chunks[*to].idx <= (b - 1) >> PL_CHUNK_SHIFT)
		(*to)++;
}

static void mark_lazy(struct pl_ranges *r, uint64_t a, uint64_t b, bool lazy)
{
	uint64_t first = a >> PL_CHUNK_SHIFT, last = b > a ? (b - 1) >> PL_CHUNK_SHIFT : 0;
	size_t from, to;

	if (b <= a)
		return;
	if (lazy && last - first < MAX_SPREAD_CHUNKS) /* make the chunks the bits live in */
		for (uint64_t idx = first; idx <= last; idx++)
			chunk_get(r, idx);
	chunks_within(r, a, b, &from, &to);
	for (size_t i = from; i < to; i++) {
		struct pl_chunk_acc *c = &r->chunks[i];
		uint64_t idx = c->idx;
		unsigned lo, hi;

		chunk_overlap(idx, a, b, &lo, &hi);
		bits_range(c->lazy, lo, hi, lazy);
		bits_range(c->lazy_unseen, lo, hi, lazy);
		if (!lazy) {
			bits_range(c->lazy_resident, lo, hi, false);
			c->lazy_pending = (uint64_t)popcount_words(c->lazy_resident) * PAGE_SIZE;
		}
	}
}

/*
 * Cuts [a, b) out of the live layout. Chunks left with no mapping over them
 * hand their history to the unmapped row (when keep_history) and start clean.
 */
static void cut_range(struct pl_ranges *r, uint64_t a, uint64_t b, bool keep_history)
{
	size_t i = 0, from, to;

	while (i < r->n_maps) {
		struct pl_mapping *m = &r->maps[i];

		if (m->end <= a || m->start >= b) {
			i++;
			continue;
		}
		if (m->start < a && m->end > b) { /* a hole in the middle: two pieces */
			struct pl_mapping tail = *m;

			tail.start = b;
			m->end = a;
			insert_mapping(r, &tail);
			break;
		}
		if (m->start < a) {
			m->end = a;
			i++;
		} else if (m->end > b) {
			m->start = b;
			i++;
		} else {
			memmove(m, m + 1, (r->n_maps - i - 1) * sizeof(*m));
			r->n_maps--;
		}
	}
	mark_lazy(r, a, b, false); /* those pages are gone: not lazy any more */
	chunks_within(r, a, b, &from, &to);
	for (size_t i = from; i < to; i++) {
		struct pl_chunk_acc *c = &r->chunks[i];
		uint64_t seeded_gone;
		unsigned lo, hi;

		chunk_overlap(c->idx, a, b, &lo, &hi);
		seeded_gone = take_seeded(c, lo, hi);
		if (keep_history)
			r->unmapped.seeded += seeded_gone;
		if (pl_ranges_chunk_mapped(r, c->idx))
			continue;
		if (keep_history)
			chunk_add_counters(&r->unmapped, c);
		chunk_reset(c);
	}
}

static void add_mapping(struct pl_ranges *r, uint64_t a, uint64_t b, const char *name, bool anon)
{
	struct pl_mapping m = {.start = a, .end = b, .anon = anon};

	if (b <= a)
		return;
	cut_range(r, a, b, true);
	snprintf(m.name, sizeof(m.name), "%s", name);
	m.k_rss = m.k_lazy_free = m.k_anon_huge = -1;
	insert_mapping(r, &m);
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

	if (c)
		c->seeded_extra += bytes;
}

void pl_ranges_seed_pages(struct pl_ranges *r, uint64_t idx, const uint64_t pages[PL_CHUNK_WORDS])
{
	struct pl_chunk_acc *c = chunk_get(r, idx);

	for (int w = 0; c && w < PL_CHUNK_WORDS; w++)
		c->seeded_pages[w] |= pages[w];
}

void pl_ranges_rename(struct pl_ranges *r, uint64_t start, uint64_t end, const char *name,
		      bool anon)
{
	for (struct pl_mapping *m = mapping_from(r, start);
	     m && m < r->maps + r->n_maps && m->start < end; m++) {
		if (m->start >= start && m->end <= end && (m->name[0] == '[' || !m->name[0])) {
			snprintf(m->name, sizeof(m->name), "%s", name);
			m->anon = anon;
		}
	}
}

/* ---- syscalls ------------------------------------------------------------ */

/* Adds `total` bytes to a counter of the chunks [a, b) covers, in proportion to their overlap. */
static void spread(struct pl_ranges *r, uint64_t a, uint64_t b, uint64_t total, size_t field)
{
	uint64_t first = a >> PL_CHUNK_SHIFT, last = (b - 1) >> PL_CHUNK_SHIFT, given = 0;

	if (b <= a || !total)
		return;
	if (last - first >= MAX_SPREAD_CHUNKS)
		last = first;
	for (uint64_t idx = first; idx <= last; idx++) {
		struct pl_chunk_acc *c = chunk_get(r, idx);
		unsigned lo, hi;
		uint64_t share = idx == last
				     ? total - given
				     : (uint64_t)((unsigned __int128)total *
						  chunk_overlap(idx, a, b, &lo, &hi) / (b - a));

		if (!c)
			return;
		*(uint64_t *)((char *)c + field) += share;
		given += share;
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
	spread(r, a, b, b - a,
	       offsetof(struct pl_chunk_acc, advised_by) + (size_t)ra * sizeof(uint64_t));
	if (resident < 0)
		spread(r, a, b, (uint64_t)-resident, offsetof(struct pl_chunk_acc, released));
	if (ra == PL_RADV_COLLAPSE && resident > 0)
		spread(r, a, b, (uint64_t)resident,
		       offsetof(struct pl_chunk_acc, collapsed_madvise));
	if (ra == PL_RADV_FREE)
		mark_lazy(r, a, b, true);
	else if (ra == PL_RADV_DONTNEED || ra == PL_RADV_REMOVE)
		mark_lazy(r, a, b, false);
}

/* Releases by a call that also unmaps: credit the range first, then cut it. */
static void release_and_cut(struct pl_ranges *r, uint64_t a, uint64_t b,
			    const struct pl_syscall_event *e)
{
	int64_t resident = pl_resident_delta(e->rss_delta);

	if (b <= a)
		return;
	if (resident < 0)
		spread(r, a, b, (uint64_t)-resident, offsetof(struct pl_chunk_acc, released));
	cut_range(r, a, b, true);
}

/*
 * An mremap move: the layout first (what the move replaced at the
 * destination becomes history), then chunk histories travel with their
 * pages, to the chunk each one's first page lands in.
 */
static void move_mapping(struct pl_ranges *r, uint64_t old, uint64_t old_len, uint64_t to,
			 uint64_t new_len)
{
	struct pl_mapping *m = mapping_at(r, old), copy;
	uint64_t first = old >> PL_CHUNK_SHIFT,
		 n = old_len ? ((old + old_len - 1) >> PL_CHUNK_SHIFT) - first + 1 : 0;
	struct pl_chunk_acc *moving = n && n <= MAX_CALL_CHUNKS ? calloc(n, sizeof(*moving)) : NULL;
	int64_t shift = (int64_t)(to - old);

	if (!m) {
		free(moving);
		return;
	}
	copy = *m;
	for (uint64_t i = 0; moving && i < n; i++) {
		struct pl_chunk_acc *from = chunk_find(r, first + i);
		unsigned lo, hi;

		if (!from)
			continue;
		chunk_overlap(first + i, old, old + old_len, &lo, &hi);
		moving[i] = *from;
		moving[i].seeded_extra += take_seeded(from, lo, hi);
		chunk_reset(from);
	}
	cut_range(r, old, old + old_len, false);
	add_mapping(r, to, to + new_len, copy.name, copy.anon);
	for (uint64_t i = 0; moving && i < n; i++) {
		uint64_t base = chunk_base(first + i) < old ? old : chunk_base(first + i);
		struct pl_chunk_acc *dst =
		    chunk_get(r, (uint64_t)((int64_t)base + shift) >> PL_CHUNK_SHIFT);

		if (dst)
			chunk_move_counters(dst, &moving[i]);
	}
	free(moving);
}

static void add_mremap(struct pl_ranges *r, const struct pl_syscall_event *e)
{
	uint64_t old = e->args[0], old_len = page_up(e->args[1]), new_len = page_up(e->args[2]);
	uint64_t to = (uint64_t)e->ret;
	struct pl_mapping *m;

	if (to != old) {
		move_mapping(r, old, old_len, to, new_len);
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

void pl_ranges_add_syscall(struct pl_ranges *r, const struct pl_syscall_event *e)
{
	uint64_t a = e->args[0];

	if (pl_syscall_failed(e))
		return;
	switch (e->sys) {
	case PL_SYS_MMAP:
		add_mapping(r, (uint64_t)e->ret, (uint64_t)e->ret + page_up(e->args[1]),
			    (e->args[3] & PL_MMAP_ANONYMOUS) ? "[anon]" : "[file]",
			    (e->args[3] & PL_MMAP_ANONYMOUS) != 0);
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

/* ---- the kernel's figures --------------------------------------------------- */

/* now - seen for a counter that only grows; a reading below is a brief lag, not a loss. */
static uint64_t grown(uint64_t now, __u64 *seen)
{
	uint64_t d = now > *seen ? now - *seen : 0;

	if (now > *seen)
		*seen = now;
	return d;
}

void pl_ranges_fold_chunk(struct pl_ranges *r, uint64_t idx, const struct pl_chunk *now)
{
	struct pl_chunk_acc *c = chunk_get(r, idx);
	struct pl_chunk *s;

	if (!c)
		return;
	s = &c->seen;
	/* A kernel entry made anew (after we dropped it) counts from 0 again. */
	if (now->born_ns != s->born_ns)
		memset(s, 0, sizeof(*s));
	c->faulted += grown(now->faulted, &s->faulted);
	c->refaulted += grown(now->refaulted, &s->refaulted);
	c->refaults += grown(now->refaults, &s->refaults);
	c->delay_sum_ns += grown(now->delay_sum_ns, &s->delay_sum_ns);
	merge_delays(&c->delay_min_ns, &c->delay_max_ns, now->delay_min_ns, now->delay_max_ns);
	if (now->last_addr)
		c->last_addr = now->last_addr;
	s->born_ns = now->born_ns;
	s->released_ns = now->released_ns;
	s->last_addr = now->last_addr;
	s->delay_min_ns = now->delay_min_ns;
	s->delay_max_ns = now->delay_max_ns;
	memcpy(s->released, now->released, sizeof(s->released));
	if (!pl_ranges_chunk_mapped(r, idx)) { /* faults just before an unmap: history */
		chunk_add_counters(&r->unmapped, c);
		chunk_reset(c);
	}
}

size_t pl_ranges_lazy_chunks(const struct pl_ranges *r, uint64_t *idx, size_t max)
{
	size_t n = 0;

	for (size_t i = 0; i < r->n_chunks && n < max; i++)
		if (popcount_words(r->chunks[i].lazy))
			idx[n++] = r->chunks[i].idx;
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
	unsigned reclaimed = 0;

	if (!c)
		return;
	for (int w = 0; w < PL_CHUNK_WORDS; w++) {
		uint64_t gone;

		c->lazy_resident[w] |= c->lazy_unseen[w] & present[w];
		c->lazy_unseen[w] = 0;
		gone = c->lazy_resident[w] & ~present[w];
		reclaimed += (unsigned)__builtin_popcountll(gone);
		c->lazy_resident[w] &= present[w] & c->seen.released[w];
		c->lazy[w] &= ~gone & c->seen.released[w];
	}
	c->reclaimed += (uint64_t)reclaimed * PAGE_SIZE;
	c->lazy_pending = (uint64_t)popcount_words(c->lazy_resident) * PAGE_SIZE;
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
		c->collapsed_khugepaged += share;
		given += share;
	}
}

void pl_ranges_clear_kernel(struct pl_ranges *r)
{
	for (size_t i = 0; i < r->n_maps; i++)
		r->maps[i].k_rss = r->maps[i].k_lazy_free = r->maps[i].k_anon_huge = -1;
}

static void add_known(int64_t *to, int64_t v)
{
	if (v < 0)
		return;
	*to = (*to < 0 ? 0 : *to) + v;
}

/*
 * The kernel merges adjacent mappings that look alike into one VMA: so do
 * we, when its figures span several of ours. Rows are views over chunks,
 * so a merge moves no counters.
 */
static struct pl_mapping *merge_over(struct pl_ranges *r, uint64_t start, uint64_t end)
{
	struct pl_mapping *first = mapping_from(r, start), *last = first;
	size_t at, gone;

	if (!first || first->start >= end)
		return NULL;
	while (last + 1 < r->maps + r->n_maps && (last + 1)->start < end)
		last++;
	/* The kernel's extent wins where ours has a gap: it is what is mapped. */
	first->start = first->start < start ? first->start : start;
	first->end = last->end > end ? last->end : end;
	if (last == first)
		return first;
	if (first->name[0] == '[' && last->name[0] != '[')
		snprintf(first->name, sizeof(first->name), "%s", last->name);
	at = (size_t)(first - r->maps) + 1;
	gone = (size_t)(last - first);
	memmove(&r->maps[at], &r->maps[at + gone], (r->n_maps - at - gone) * sizeof(*first));
	r->n_maps -= gone;
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
	if (!m || end > m->end || start < m->start)
		return;
	add_known(&m->k_rss, rss);
	add_known(&m->k_lazy_free, lazy_free);
	add_known(&m->k_anon_huge, anon_huge);
}

/* ---- rows ------------------------------------------------------------------ */

static void mapping_row(const struct pl_mapping *m, struct pl_range_row *row)
{
	memset(row, 0, sizeof(*row));
	row->start = m->start;
	row->end = m->end;
	row->mapped = m->end - m->start;
	row->k_rss = m->k_rss;
	row->k_lazy_free = m->k_lazy_free;
	row->k_anon_huge = m->k_anon_huge;
	snprintf(row->name, sizeof(row->name), "%s", m->name);
}

static int64_t row_weight(const struct pl_range_row *w)
{
	return (int64_t)(w->seeded + w->faulted + w->collapsed_madvise + w->collapsed_khugepaged) -
	       (int64_t)(w->released + w->reclaimed);
}

static int by_weight_desc(const void *a, const void *b)
{
	int64_t x = row_weight(a), y = row_weight(b);

	if (x != y)
		return x < y ? 1 : -1;
	return ((const struct pl_range_row *)a)->start < ((const struct pl_range_row *)b)->start
		   ? -1
		   : 1;
}

static bool row_has_activity(const struct pl_range_row *w)
{
	return w->seeded || w->faulted || w->advised || w->released || w->collapsed_khugepaged;
}

/* Seeded pages inside a mapping: page-exact, whoever owns the chunks. */
static uint64_t seeded_in(const struct pl_ranges *r, const struct pl_mapping *m)
{
	uint64_t n = 0;

	for (size_t at = chunk_lower_bound(r, m->start >> PL_CHUNK_SHIFT);
	     at < r->n_chunks && r->chunks[at].idx <= (m->end - 1) >> PL_CHUNK_SHIFT; at++) {
		uint64_t mask[PL_CHUNK_WORDS] = {0};
		unsigned lo, hi;

		chunk_overlap(r->chunks[at].idx, m->start, m->end, &lo, &hi);
		bits_range(mask, lo, hi, true);
		for (int w = 0; w < PL_CHUNK_WORDS; w++)
			n +=
			    (uint64_t)__builtin_popcountll(r->chunks[at].seeded_pages[w] & mask[w]);
	}
	return n * PAGE_SIZE;
}

/* Every live mapping's row, in address order. Caller frees. */
static struct pl_range_row *all_rows(const struct pl_ranges *r, bool finish)
{
	struct pl_range_row *rows = calloc(r->n_maps ? r->n_maps : 1, sizeof(*rows));

	if (!rows)
		return NULL;
	for (size_t i = 0; i < r->n_maps; i++)
		mapping_row(&r->maps[i], &rows[i]);
	for (size_t i = 0; i < r->n_chunks; i++) {
		struct pl_mapping *m = chunk_owner(r, &r->chunks[i]);

		if (m)
			chunk_add_counters(&rows[m - r->maps], &r->chunks[i]);
	}
	for (size_t i = 0; i < r->n_maps; i++)
		rows[i].seeded += seeded_in(r, &r->maps[i]);
	for (size_t i = 0; finish && i < r->n_maps; i++)
		row_finish(&rows[i]);
	return rows;
}

size_t pl_ranges_rows(const struct pl_ranges *r, struct pl_range_row *out, size_t max)
{
	struct pl_range_row *rows = all_rows(r, true);
	size_t n = 0;

	if (!rows)
		return 0;
	for (size_t i = 0; i < r->n_maps; i++)
		if (row_has_activity(&rows[i]))
			rows[n++] = rows[i];
	qsort(rows, n, sizeof(*rows), by_weight_desc);
	n = n < max ? n : max;
	memcpy(out, rows, n * sizeof(*rows));
	free(rows);
	return n;
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

	/* An unmapped page is never pending (cut_range clears it), so every chunk counts. */
	for (size_t i = 0; i < r->n_chunks; i++)
		n += r->chunks[i].lazy_pending;
	return n;
}

void pl_ranges_grand_total(const struct pl_ranges *r, struct pl_range_row *all)
{
	struct pl_range_row *rows = all_rows(r, false);

	memset(all, 0, sizeof(*all));
	snprintf(all->name, sizeof(all->name), "(all)");
	all->k_rss = all->k_lazy_free = all->k_anon_huge = -1;
	for (size_t i = 0; rows && i < r->n_maps; i++)
		row_merge(all, &rows[i]);
	free(rows);
	row_merge(all, &r->unmapped);
	row_finish(all);
}

void pl_ranges_totals(const struct pl_ranges *r, struct pl_range_row *live,
		      struct pl_range_row *gone)
{
	struct pl_range_row *rows = all_rows(r, false);

	memset(live, 0, sizeof(*live));
	snprintf(live->name, sizeof(live->name), "(mapped)");
	live->k_rss = live->k_lazy_free = live->k_anon_huge = -1;
	for (size_t i = 0; rows && i < r->n_maps; i++)
		row_merge(live, &rows[i]);
	free(rows);
	row_finish(live);
	*gone = r->unmapped;
	row_finish(gone);
}

int64_t pl_range_row_resident(const struct pl_range_row *w)
{
	return row_weight(w);
}

void pl_range_row_add(struct pl_range_row *to, const struct pl_range_row *w)
{
	row_merge(to, w);
}
