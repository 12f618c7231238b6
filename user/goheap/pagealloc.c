// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "goheap/pagealloc.h"

struct reading {
	const struct pl_go_layout *l;
	const struct pl_go_mem *m;
	uint64_t pa; /* &mheap_.pages */
	uint64_t start, end;
	uint64_t l1_index, l1_ptr; /* the last chunk-map entry read */
	char *why;
	size_t whylen;
};

struct go_range {
	uint64_t base, limit;
};

static int fail(struct reading *r, const char *what)
{
	snprintf(r->why, r->whylen, "%s", what);
	return -1;
}

static int read_u64(struct reading *r, uint64_t addr, uint64_t *v)
{
	return r->m->read(r->m->ctx, addr, v, sizeof(*v));
}

static uint64_t chunk_index(uint64_t addr)
{
	return (addr - PL_GO_ARENA_BASE) / PL_GO_CHUNK_BYTES;
}

static uint64_t chunk_base(uint64_t ci)
{
	return ci * PL_GO_CHUNK_BYTES + PL_GO_ARENA_BASE;
}

/* start, end and the inUse slice header, with the checks a sane heap passes. */
static int read_header(struct reading *r, uint64_t *ranges, uint64_t *n)
{
	const struct pl_go_layout *l = r->l;
	uint64_t cap;

	if (read_u64(r, r->pa + l->start, &r->start) || read_u64(r, r->pa + l->end, &r->end) ||
	    read_u64(r, r->pa + l->in_use, ranges) || read_u64(r, r->pa + l->in_use + 8, n) ||
	    read_u64(r, r->pa + l->in_use + 16, &cap))
		return fail(r, "runtime.mheap_ is not readable");
	if (r->start > r->end || r->end >= (1ull << 26))
		return fail(r, "the page allocator's chunk bounds are not sane");
	if (*n == 0 || *n > cap || *n > PL_GO_MAX_RANGES || !*ranges)
		return fail(r, "the page allocator's ranges are not sane");
	return 0;
}

static bool chunk_aligned(uint64_t a)
{
	return (a % PL_GO_CHUNK_BYTES) == 0;
}

/* Sorted, disjoint, chunk-aligned, inside [start, end), and summing to totalBytes. */
static int check_ranges(struct reading *r, const struct go_range *v, uint64_t n)
{
	uint64_t chunks = 0, sum = 0, total, prev = 0;

	for (uint64_t i = 0; i < n; i++) {
		if (v[i].base >= v[i].limit || !chunk_aligned(v[i].base) ||
		    !chunk_aligned(v[i].limit) || (i && v[i].base < prev))
			return fail(r, "the page allocator's ranges are not sane");
		if (chunk_index(v[i].base) < r->start || chunk_index(v[i].limit - 1) >= r->end)
			return fail(r, "a range lies outside the page allocator's chunks");
		prev = v[i].limit;
		sum += v[i].limit - v[i].base;
		chunks += (v[i].limit - v[i].base) / PL_GO_CHUNK_BYTES;
	}
	if (chunks > PL_GO_MAX_CHUNKS)
		return fail(r, "the heap has more 4 MiB chunks than are read (64 GiB)");
	if (read_u64(r, r->pa + r->l->in_use_total, &total))
		return fail(r, "runtime.mheap_ is not readable");
	if (total != sum)
		return fail(r, "the page allocator's ranges changed while read");
	return 0;
}

/* The chunk map's second-level array for chunk ci. */
static int l2_array(struct reading *r, uint64_t ci, uint64_t *ptr)
{
	uint64_t l1 = ci >> PL_GO_L2_BITS;

	if (l1 >= PL_GO_L1_ENTRIES)
		return fail(r, "a chunk index is out of range");
	if (r->l1_ptr == 0 || r->l1_index != l1) {
		if (read_u64(r, r->pa + r->l->chunks + l1 * 8, &r->l1_ptr))
			return fail(r, "the chunk map is not readable");
		r->l1_index = l1;
	}
	if (!r->l1_ptr)
		return fail(r, "a chunk of the heap has no bitmap");
	*ptr = r->l1_ptr;
	return 0;
}

static unsigned bit(const uint64_t *w, unsigned i)
{
	return (unsigned)(w[i / 64] >> (i % 64)) & 1;
}

/* Sums one chunk's bitmaps, page by page, with the residency of its 4 KiB pages. */
static void add_chunk(const uint64_t alloc[PL_GO_CHUNK_WORDS],
		      const uint64_t scav[PL_GO_CHUNK_WORDS],
		      const uint64_t res[PL_GO_SYS_PAGES / 64], struct pl_go_heap_figures *f,
		      uint32_t *inconsistent)
{
	for (unsigned p = 0; p < PL_GO_CHUNK_PAGES; p++) {
		uint64_t resident = (uint64_t)(bit(res, 2 * p) + bit(res, 2 * p + 1)) * 4096;

		if (bit(alloc, p)) {
			f->inuse += PL_GO_PAGE_SIZE;
			f->inuse_resident += resident;
			*inconsistent += bit(scav, p);
		} else if (bit(scav, p)) {
			f->idle += PL_GO_PAGE_SIZE;
			f->released += PL_GO_PAGE_SIZE;
		} else {
			f->idle += PL_GO_PAGE_SIZE;
			f->retained += resident;
		}
	}
}

static int read_chunk(struct reading *r, uint64_t ci, struct pl_go_heap_figures *f,
		      uint32_t *inconsistent)
{
	uint64_t data[2 * PL_GO_CHUNK_WORDS], res[PL_GO_SYS_PAGES / 64], l2;
	const struct pl_go_layout *l = r->l;

	if (l2_array(r, ci, &l2))
		return -1;
	l2 += (ci & ((1u << PL_GO_L2_BITS) - 1)) * l->palloc_size;
	if (r->m->read(r->m->ctx, l2, data, PL_GO_CHUNK_WORDS * 8) ||
	    r->m->read(r->m->ctx, l2 + l->scavenged, data + PL_GO_CHUNK_WORDS,
		       PL_GO_CHUNK_WORDS * 8))
		return fail(r, "a chunk's bitmaps are not readable");
	if (r->m->resident(r->m->ctx, chunk_base(ci), res))
		return fail(r, "the heap's residency (pagemap) is not readable");
	add_chunk(data, data + PL_GO_CHUNK_WORDS, res, f, inconsistent);
	return 0;
}

static void add_figures(struct pl_go_heap_figures *to, const struct pl_go_heap_figures *f)
{
	to->inuse += f->inuse;
	to->idle += f->idle;
	to->released += f->released;
	to->retained += f->retained;
	to->inuse_resident += f->inuse_resident;
}

static int read_range(struct reading *r, const struct go_range *g, struct pl_go_heap *out)
{
	struct pl_go_heap_figures f = {0};

	for (uint64_t ci = chunk_index(g->base); ci <= chunk_index(g->limit - 1); ci++) {
		if (r->m->expired && r->m->expired(r->m->ctx))
			return fail(r, "reading the heap took too long");
		if (read_chunk(r, ci, &f, &out->inconsistent_pages))
			return -1;
	}
	if (out->n_ranges < PL_GO_HEAP_RANGES) {
		out->ranges[out->n_ranges].base = g->base;
		out->ranges[out->n_ranges].limit = g->limit;
		out->ranges[out->n_ranges].f = f;
	}
	out->n_ranges++;
	add_figures(&out->total, &f);
	return 0;
}

/* More pages both allocated and scavenged than races explain: not this layout. */
static int check_consistent(struct reading *r, const struct pl_go_heap *out)
{
	uint64_t pages = (out->total.inuse + out->total.idle) / PL_GO_PAGE_SIZE;

	if (out->inconsistent_pages > 64 && out->inconsistent_pages > pages / 16)
		return fail(r, "the bitmaps do not read as a page allocator's");
	return 0;
}

int pl_go_pagealloc_read(const struct pl_go_layout *l, uint64_t mheap, const struct pl_go_mem *m,
			 struct pl_go_heap *out, char *why, size_t whylen)
{
	struct reading r = {.l = l, .m = m, .pa = mheap + l->pages, .why = why, .whylen = whylen};
	struct go_range *v;
	uint64_t at, n;
	int err = -1;

	memset(&out->total, 0, sizeof(out->total));
	out->n_ranges = out->inconsistent_pages = 0;
	if (read_header(&r, &at, &n))
		return -1;
	v = calloc(n, sizeof(*v));
	if (!v)
		return fail(&r, "out of memory");
	if (m->read(m->ctx, at, v, n * sizeof(*v)) || l->range_size != sizeof(*v)) {
		fail(&r, "the page allocator's ranges are not readable");
		goto out;
	}
	if (check_ranges(&r, v, n))
		goto out;
	err = 0;
	for (uint64_t i = 0; i < n && !err; i++)
		err = read_range(&r, &v[i], out);
	if (!err)
		err = check_consistent(&r, out);
out:
	free(v);
	return err;
}
