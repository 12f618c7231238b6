// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * libFuzzer target for user/goheap/pagealloc.c: the input is a fake target
 * memory, as a hostile process could lay it out: a u64 residency mask, the
 * u64 address of mheap_, then records (u64 address, u16 length, bytes).
 * Reads outside the records fail, as unmapped memory does. The reader must
 * end (time is capped by a count of reads) and its figures must add up.
 *
 * Seeds: tests/fuzz/make-goheap-seeds.py (tests/fuzz/corpus/goheap_mem).
 */
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include "goheap/pagealloc.h"

#define MAX_RECORDS 64
#define MAX_READS 200000

struct record {
	uint64_t addr;
	const uint8_t *bytes;
	size_t len;
};

struct memory {
	struct record r[MAX_RECORDS];
	int n;
	uint64_t resident;
	unsigned reads;
};

static int mem_read(void *ctx, uint64_t addr, void *buf, size_t len)
{
	struct memory *m = ctx;

	m->reads++;
	for (int i = 0; i < m->n; i++) {
		const struct record *r = &m->r[i];

		if (addr >= r->addr && addr - r->addr <= r->len &&
		    len <= r->len - (addr - r->addr)) {
			memcpy(buf, r->bytes + (addr - r->addr), len);
			return 0;
		}
	}
	return -1;
}

static int mem_resident(void *ctx, uint64_t base, uint64_t bits[PL_GO_SYS_PAGES / 64])
{
	struct memory *m = ctx;

	m->reads++;
	for (unsigned i = 0; i < PL_GO_SYS_PAGES / 64; i++)
		bits[i] = m->resident ^ (base * i);
	return 0;
}

static bool mem_expired(void *ctx)
{
	const struct memory *m = ctx;

	return m->reads > MAX_READS;
}

static void parse(struct memory *m, const uint8_t *d, size_t size)
{
	while (size >= 10 && m->n < MAX_RECORDS) {
		struct record *r = &m->r[m->n++];
		uint16_t len;

		memcpy(&r->addr, d, 8);
		memcpy(&len, d + 8, 2);
		d += 10, size -= 10;
		r->len = len < size ? len : size;
		r->bytes = d;
		d += r->len, size -= r->len;
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct pl_go_heap h;
	struct memory m = {0};
	const struct pl_go_mem ops = {mem_read, mem_resident, mem_expired, &m};
	uint64_t mheap;
	char why[128];

	if (size < 16)
		return 0;
	memcpy(&m.resident, data, 8);
	memcpy(&mheap, data + 8, 8);
	parse(&m, data + 16, size - 16);
	memset(&h, 0, sizeof(h));
	if (pl_go_pagealloc_read(pl_go_layout_for(1, 19), mheap, &ops, &h, why, sizeof(why)))
		return (int)(strlen(why) & 0);
	if (h.total.released > h.total.idle || h.total.retained > h.total.idle - h.total.released ||
	    h.total.inuse_resident > h.total.inuse || h.n_ranges == 0)
		__builtin_trap();
	return 0;
}
