// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * The per-range ledger (user/ledger/ranges.c) fed by hand-built syscall records and
 * kernel chunk readings: exact bytes per row, and live + gone = all counted.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <string.h>
#include <cmocka.h>
#include "decode/decode.h"
#include "ledger/ranges.h"

#define KIB (1ull << 10)
#define MIB (1ull << 20)
#define CHUNK (2 * MIB)
#define PAGE 4096ull
#define BASE 0x7f0000000000ull /* 2 MiB aligned */
#define IDX(a) ((uint64_t)(a) >> PL_CHUNK_SHIFT)
#define MAP_PRIV_ANON 0x22
#define MREMAP_MAYMOVE 1
#define MAX_ROWS 16

static struct pl_syscall_event call(uint32_t sys, uint64_t a0, uint64_t a1, uint64_t a2,
				    uint64_t a3, int64_t ret, int64_t resident)
{
	static uint64_t clock_ns =
	    1000; /* records come after the folds' kernel entries were made */
	struct pl_syscall_event e;

	memset(&e, 0, sizeof(e));
	e.hdr.type = PL_EV_SYSCALL;
	e.hdr.ts_ns = clock_ns += 1000;
	e.sys = sys;
	e.args[0] = a0;
	e.args[1] = a1;
	e.args[2] = a2;
	e.args[3] = a3;
	e.ret = ret;
	e.rss_delta[PL_RSS_ANON] = resident;
	return e;
}

static void do_mmap(struct pl_ranges *r, uint64_t addr, uint64_t len)
{
	struct pl_syscall_event e = call(PL_SYS_MMAP, 0, len, 3, MAP_PRIV_ANON, (int64_t)addr, 0);

	pl_ranges_add_syscall(r, &e);
}

static void do_munmap(struct pl_ranges *r, uint64_t addr, uint64_t len, int64_t resident)
{
	struct pl_syscall_event e = call(PL_SYS_MUNMAP, addr, len, 0, 0, 0, resident);

	pl_ranges_add_syscall(r, &e);
}

static void do_madvise(struct pl_ranges *r, uint64_t addr, uint64_t len, long advice,
		       int64_t resident)
{
	struct pl_syscall_event e =
	    call(PL_SYS_MADVISE, addr, len, (uint64_t)advice, 0, 0, resident);

	pl_ranges_add_syscall(r, &e);
}

static void do_mremap(struct pl_ranges *r, uint64_t old, uint64_t old_len, uint64_t new_len,
		      uint64_t to, int64_t resident)
{
	struct pl_syscall_event e =
	    call(PL_SYS_MREMAP, old, old_len, new_len, MREMAP_MAYMOVE, (int64_t)to, resident);

	pl_ranges_add_syscall(r, &e);
}

static void do_brk(struct pl_ranges *r, uint64_t old_brk, uint64_t new_brk, int64_t resident)
{
	struct pl_syscall_event e = call(PL_SYS_BRK, new_brk, 0, 0, 0, (int64_t)new_brk, resident);

	e.old_brk = old_brk;
	pl_ranges_add_syscall(r, &e);
}

/* A kernel reading of the segment at page 0 of chunk idx, with only its faulted bytes. */
static void fold(struct pl_ranges *r, uint64_t idx, uint64_t faulted)
{
	struct pl_seg s = {.faulted = (int64_t)faulted, .born_ns = 1};

	pl_ranges_fold_seg(r, idx, 0, &s);
}

/* The same for the segment starting at `page`. */
static void fold_at(struct pl_ranges *r, uint64_t idx, uint32_t page, uint64_t faulted)
{
	struct pl_seg s = {.faulted = (int64_t)faulted, .born_ns = 1};

	pl_ranges_fold_seg(r, idx, page, &s);
}

/* The row starting at start among pl_ranges_rows' output; fails the test if absent. */
static struct pl_range_row row_at(const struct pl_ranges *r, uint64_t start)
{
	struct pl_range_row rows[MAX_ROWS];
	size_t n = pl_ranges_rows(r, rows, MAX_ROWS);

	for (size_t i = 0; i < n; i++)
		if (rows[i].start == start)
			return rows[i];
	fail_msg("no row at %#llx", (unsigned long long)start);
	return rows[0];
}

static size_t row_count(const struct pl_ranges *r)
{
	struct pl_range_row rows[MAX_ROWS];

	return pl_ranges_rows(r, rows, MAX_ROWS);
}

static struct pl_range_row gone_row(const struct pl_ranges *r)
{
	struct pl_range_row live, gone;

	pl_ranges_totals(r, &live, &gone);
	return gone;
}

static struct pl_range_row live_row(const struct pl_ranges *r)
{
	struct pl_range_row live, gone;

	pl_ranges_totals(r, &live, &gone);
	return live;
}

static int setup(void **state)
{
	static struct pl_ranges r;

	pl_ranges_init(&r);
	*state = &r;
	return 0;
}

static int teardown(void **state)
{
	pl_ranges_free(*state);
	return 0;
}

/* ---- folds ----------------------------------------------------------------- */

static void test_fold_credits_growth_to_the_row(void **state)
{
	struct pl_ranges *r = *state;

	do_mmap(r, BASE, 4 * MIB);
	fold(r, IDX(BASE), 1 * MIB);
	assert_int_equal(row_at(r, BASE).faulted, 1 * MIB);
	fold(r, IDX(BASE), 1536 * KIB);
	assert_int_equal(row_at(r, BASE).faulted, 1536 * KIB);
	fold(r, IDX(BASE + CHUNK), 256 * KIB);
	assert_int_equal(row_at(r, BASE).faulted, 1792 * KIB);
	assert_int_equal(row_at(r, BASE).mapped, 4 * MIB);
	assert_string_equal(row_at(r, BASE).name, "[anon]");
}

static void test_fold_same_reading_twice_adds_nothing(void **state)
{
	struct pl_ranges *r = *state;

	do_mmap(r, BASE, 2 * MIB);
	fold(r, IDX(BASE), 1 * MIB);
	fold(r, IDX(BASE), 1 * MIB);
	fold(r, IDX(BASE), 1 * MIB);
	assert_int_equal(row_at(r, BASE).faulted, 1 * MIB);
}

static void fold_born(struct pl_ranges *r, uint64_t idx, uint64_t faulted, uint64_t born)
{
	struct pl_seg s = {.faulted = (int64_t)faulted, .born_ns = born};

	pl_ranges_fold_seg(r, idx, 0, &s);
}

static void test_fold_new_kernel_entry_counts_from_zero(void **state)
{
	struct pl_ranges *r = *state;

	do_mmap(r, BASE, 2 * MIB);
	fold_born(r, IDX(BASE), 1 * MIB, 100);
	fold_born(r, IDX(BASE), 256 * KIB, 200); /* dropped and made again */
	assert_int_equal(row_at(r, BASE).faulted, 1280 * KIB);
	fold_born(r, IDX(BASE), 512 * KIB, 200);
	assert_int_equal(row_at(r, BASE).faulted, 1536 * KIB);
}

static void test_fold_net_figure_can_fall(void **state)
{
	struct pl_ranges *r = *state;

	do_mmap(r, BASE, 2 * MIB);
	fold_born(r, IDX(BASE), 1 * MIB, 100);
	/* Net bytes: a file page a copy-on-write replaced leaves the figure lower. */
	fold_born(r, IDX(BASE), 768 * KIB, 100);
	assert_int_equal(row_at(r, BASE).faulted, 768 * KIB);
	fold_born(r, IDX(BASE), 1280 * KIB, 100);
	assert_int_equal(row_at(r, BASE).faulted, 1280 * KIB);
}

/* ---- segments: mappings sharing a chunk ------------------------------------- */

#define BUSY_LEN (1536 * KIB)
#define SMALL_AT (BASE + BUSY_LEN + PAGE)
#define SMALL_PAGE ((BUSY_LEN + PAGE) / PAGE)
#define SMALL_LEN (52 * KIB)

/* A busy mapping and a small one beside it, in one chunk, each with its own faults. */
static void busy_and_small(struct pl_ranges *r)
{
	do_mmap(r, BASE, BUSY_LEN);
	do_mmap(r, SMALL_AT, SMALL_LEN);
	fold(r, IDX(BASE), BUSY_LEN);
	fold_at(r, IDX(BASE), SMALL_PAGE, SMALL_LEN);
}

static void test_two_mappings_in_one_chunk_keep_their_own_faults(void **state)
{
	struct pl_ranges *r = *state;

	busy_and_small(r);
	assert_int_equal(row_at(r, BASE).faulted, BUSY_LEN);
	assert_int_equal(row_at(r, SMALL_AT).faulted, SMALL_LEN);
	/* The busy one faults on: none of it lands beside it. */
	fold(r, IDX(BASE), 3 * BUSY_LEN);
	assert_int_equal(row_at(r, SMALL_AT).faulted, SMALL_LEN);
	assert_int_equal(row_at(r, BASE).faulted, 3 * BUSY_LEN);
}

static void test_release_goes_to_the_mapping_the_call_names(void **state)
{
	struct pl_ranges *r = *state;

	busy_and_small(r);
	do_madvise(r, SMALL_AT, SMALL_LEN, PL_MADV_DONTNEED, -(int64_t)SMALL_LEN);
	assert_int_equal(row_at(r, SMALL_AT).released, SMALL_LEN);
	assert_int_equal(row_at(r, BASE).released, 0);
	do_madvise(r, BASE, 512 * KIB, PL_MADV_DONTNEED, -512 * (int64_t)KIB);
	assert_int_equal(row_at(r, BASE).released, 512 * KIB);
	assert_int_equal(row_at(r, SMALL_AT).released, SMALL_LEN);
}

static void test_unmapping_the_small_one_leaves_the_busy_one_whole(void **state)
{
	struct pl_ranges *r = *state;

	busy_and_small(r);
	do_munmap(r, SMALL_AT, SMALL_LEN, -(int64_t)SMALL_LEN);
	assert_int_equal(row_count(r), 1);
	assert_int_equal(row_at(r, BASE).faulted, BUSY_LEN);
	assert_int_equal(gone_row(r).faulted, SMALL_LEN);
	assert_int_equal(gone_row(r).released, SMALL_LEN);
}

static void test_kernel_bounds_split_a_seeded_chunk(void **state)
{
	struct pl_ranges *r = *state;
	struct pl_chunk k = {0};

	/* Mapped before we looked: no record, only the kernel's bound from its VMAs. */
	assert_int_equal(pl_ranges_seed(r, BASE, BASE + 64 * PAGE, "liba.so", false), 0);
	assert_int_equal(pl_ranges_seed(r, BASE + 64 * PAGE, BASE + 80 * PAGE, "liba.so", false),
			 0);
	k.bounds[1] = 1; /* page 64 */
	pl_ranges_fold_chunk(r, IDX(BASE), &k);
	fold(r, IDX(BASE), 10 * PAGE);
	fold_at(r, IDX(BASE), 64, 3 * PAGE);
	assert_int_equal(row_at(r, BASE).faulted, 10 * PAGE);
	assert_int_equal(row_at(r, BASE + 64 * PAGE).faulted, 3 * PAGE);
}

static void test_cached_fault_bytes_count_until_flushed(void **state)
{
	struct pl_ranges *r = *state;
	struct pl_cached c = {.idx = IDX(BASE),
			      .lo = SMALL_PAGE,
			      .pmin = SMALL_PAGE,
			      .pmax = SMALL_PAGE + 7,
			      .bytes = 8 * PAGE};

	busy_and_small(r);
	pl_ranges_set_cached(r, &c, 1);
	assert_int_equal(row_at(r, SMALL_AT).faulted, SMALL_LEN + 8 * PAGE);
	assert_int_equal(row_at(r, BASE).faulted, BUSY_LEN);
	/* Flushed to the segment: the same figure, once. */
	pl_ranges_set_cached(r, NULL, 0);
	fold_at(r, IDX(BASE), SMALL_PAGE, SMALL_LEN + 8 * PAGE);
	assert_int_equal(row_at(r, SMALL_AT).faulted, SMALL_LEN + 8 * PAGE);
}

static void test_cached_fault_bytes_travel_with_a_move(void **state)
{
	struct pl_ranges *r = *state;
	uint64_t to = BASE + 64 * MIB;
	struct pl_cached c = {.idx = IDX(BASE), .lo = 0, .pmin = 0, .pmax = 15, .bytes = 16 * PAGE};

	do_mmap(r, BASE, 2 * MIB);
	fold(r, IDX(BASE), 1 * MIB);
	pl_ranges_set_cached(r, &c, 1);
	do_mremap(r, BASE, 2 * MIB, 2 * MIB, to, 0);
	assert_int_equal(row_at(r, to).faulted, 1 * MIB + 16 * PAGE);
	/* The cache reaches the old segment later: already counted. */
	pl_ranges_set_cached(r, NULL, 0);
	fold(r, IDX(BASE), 1 * MIB + 16 * PAGE);
	assert_int_equal(row_at(r, to).faulted, 1 * MIB + 16 * PAGE);
	assert_int_equal(gone_row(r).faulted, 0);
}

/*
 * A reading came between a call and its record: the cache began after the
 * call did, so its faults are the new mapping's, not the history the call
 * ended (a spawned program runs on while we catch up with its records).
 */
static void test_cache_begun_after_a_call_is_the_new_mappings(void **state)
{
	struct pl_ranges *r = *state;
	struct pl_cached c = {.idx = IDX(BASE),
			      .lo = 0,
			      .pmin = 0,
			      .pmax = 15,
			      .bytes = 16 * PAGE,
			      .first_ns = UINT64_MAX - 1};

	do_mmap(r, BASE, 4 * MIB); /* a reservation */
	pl_ranges_set_cached(r, &c, 1);
	do_mmap(r, BASE, 1 * MIB); /* mapped over it, then faulted: the cache */
	assert_int_equal(row_at(r, BASE).faulted, 16 * PAGE);
	pl_ranges_set_cached(r, NULL, 0);
	fold(r, IDX(BASE), 16 * PAGE);
	assert_int_equal(row_at(r, BASE).faulted, 16 * PAGE);
	assert_int_equal(gone_row(r).faulted, 0);
}

/*
 * A file mapped at page 100 and read (11 pages, cached under the kernel's
 * segment at 100) before its record came; then a mapping below it is made,
 * and the file is unmapped. The cache is the file's, not the segment below's.
 */
static void test_cache_under_a_bound_not_yet_recorded_keeps_its_segment(void **state)
{
	struct pl_ranges *r = *state;
	struct pl_cached c = {.idx = IDX(BASE),
			      .lo = 100,
			      .pmin = 100,
			      .pmax = 110,
			      .bytes = 11 * PAGE,
			      .first_ns = 1};

	pl_ranges_apply_bounds(r, &c, 1); /* a reading, as range_tracker.c takes it */
	pl_ranges_set_cached(r, &c, 1);
	do_mmap(r, BASE + 100 * PAGE, 11 * PAGE);
	do_mmap(r, BASE, 100 * PAGE);
	do_munmap(r, BASE + 100 * PAGE, 11 * PAGE, -11 * (int64_t)PAGE);
	pl_ranges_set_cached(r, NULL, 0); /* the next reading: the cache was flushed */
	fold_at(r, IDX(BASE), 100, 11 * PAGE);
	fold(r, IDX(BASE), 5 * PAGE);
	assert_int_equal(row_at(r, BASE).faulted, 5 * PAGE);
	assert_int_equal(gone_row(r).faulted, 11 * PAGE);
	assert_int_equal(gone_row(r).released, 11 * PAGE);
}

static void test_cache_across_a_new_bound_is_shared_by_pages(void **state)
{
	struct pl_ranges *r = *state;
	/* Pages 100-139 faulted, cached under segment 0; then a cut leaves a remnant at 120. */
	struct pl_cached c = {
	    .idx = IDX(BASE), .lo = 0, .pmin = 100, .pmax = 139, .bytes = 40 * PAGE};
	struct pl_chunk k = {0};

	do_mmap(r, BASE, 2 * MIB);
	pl_ranges_set_cached(r, &c, 1);
	do_munmap(r, BASE + 110 * PAGE, 10 * PAGE,
		  0); /* nothing resident there: the bound at 120 */
	k.bounds[1] = 1ull << (120 - 64);
	pl_ranges_fold_chunk(r, IDX(BASE), &k);
	pl_ranges_apply_bounds(r, &c, 1);
	pl_ranges_set_cached(r, &c, 1);
	assert_int_equal(row_at(r, BASE).faulted, 20 * PAGE);
	assert_int_equal(row_at(r, BASE + 120 * PAGE).faulted, 20 * PAGE);
}

static uint64_t forgotten[8];
static size_t n_forgotten;

static void note_forget(void *ctx, uint64_t idx, const uint64_t *bounds)
{
	(void)ctx;
	(void)bounds;
	if (n_forgotten < 8)
		forgotten[n_forgotten++] = idx;
}

static void test_unmapped_chunks_are_dropped_after_a_walk(void **state)
{
	struct pl_ranges *r = *state;

	n_forgotten = 0;
	do_mmap(r, BASE, 4 * MIB);
	fold(r, IDX(BASE), 1 * MIB);
	fold(r, IDX(BASE) + 1, 1 * MIB);
	pl_ranges_end_walk(r, note_forget, NULL);
	do_munmap(r, BASE, 4 * MIB, -2 * (int64_t)MIB);
	assert_int_equal(pl_ranges_n_chunks(r), 2);
	pl_ranges_end_walk(r, note_forget, NULL); /* a fold may still come from this walk */
	assert_int_equal(n_forgotten, 0);
	fold(r, IDX(BASE), 1 * MIB + 4 * PAGE); /* faults just before the unmap, read late */
	pl_ranges_end_walk(r, note_forget, NULL);
	assert_int_equal(pl_ranges_n_chunks(r), 0);
	assert_int_equal(n_forgotten, 2);
	assert_int_equal(gone_row(r).faulted, 2 * MIB + 4 * PAGE);
	assert_int_equal(gone_row(r).released, 2 * MIB);
	assert_int_equal(live_row(r).faulted, 0);
}

static void test_cut_keeps_segments_made_after_the_call(void **state)
{
	struct pl_ranges *r = *state;
	struct pl_syscall_event gone =
	    call(PL_SYS_MUNMAP, BASE, 2 * MIB, 0, 0, 0, -1 * (int64_t)MIB);
	struct pl_syscall_event anew =
	    call(PL_SYS_MMAP, 0, 1 * MIB, 3, MAP_PRIV_ANON, (int64_t)(BASE + 7 * PAGE), 0);
	struct pl_seg late = {.faulted = 64 * (int64_t)PAGE, .born_ns = anew.hdr.ts_ns + 1};

	do_mmap(r, BASE, 2 * MIB);
	fold(r, IDX(BASE), 1 * MIB);
	/* A new mapping at the same place faulted, and was read, before either record came. */
	pl_ranges_fold_seg(r, IDX(BASE), 7, &late);
	pl_ranges_add_syscall(r, &gone);
	pl_ranges_add_syscall(r, &anew);
	assert_int_equal(row_at(r, BASE + 7 * PAGE).faulted, 64 * PAGE);
	assert_int_equal(gone_row(r).faulted, 1 * MIB);
}

static void test_chunk_mapped_again_is_kept(void **state)
{
	struct pl_ranges *r = *state;

	n_forgotten = 0;
	do_mmap(r, BASE, 2 * MIB);
	fold(r, IDX(BASE), 1 * MIB);
	do_munmap(r, BASE, 2 * MIB, -1 * (int64_t)MIB);
	pl_ranges_end_walk(r, note_forget, NULL);
	do_mmap(r, BASE, 2 * MIB);
	fold(r, IDX(BASE), 1 * MIB + 8 * PAGE);
	pl_ranges_end_walk(r, note_forget, NULL);
	pl_ranges_end_walk(r, note_forget, NULL);
	assert_int_equal(n_forgotten, 0);
	assert_int_equal(row_at(r, BASE).faulted, 8 * PAGE);
}

/* ---- the ordered sets under the ledger ------------------------------------------ */

struct tkey {
	struct pl_tnode node;
};

static void test_treap_orders_many_keys(void **state)
{
	enum { N = 20000 };
	static struct tkey k[N];
	struct pl_treap t = {0};
	uint64_t x = 88172645463325252ull, prev = 0;
	size_t seen = 0;

	(void)state;
	for (size_t i = 0; i < N; i++) {
		x ^= x << 13, x ^= x >> 7, x ^= x << 17;
		k[i].node.key = (x % (1ull << 40)) * 2 + 1; /* odd keys */
		if (pl_treap_insert(&t, &k[i].node))
			k[i].node.key = 0; /* a duplicate: not in the set */
	}
	for (size_t i = 0; i < N; i += 2)
		if (k[i].node.key)
			pl_treap_remove(&t, &k[i].node);
	for (struct pl_tnode *n = pl_treap_first(&t); n; n = pl_treap_next(&t, n)) {
		assert_true(n->key > prev);
		prev = n->key;
		seen++;
	}
	assert_int_equal(seen, t.n);
	for (size_t i = 1; i < N; i += 2) {
		if (!k[i].node.key)
			continue;
		assert_ptr_equal(pl_treap_find(&t, k[i].node.key), &k[i].node);
		assert_ptr_equal(pl_treap_floor(&t, k[i].node.key + 1),
				 &k[i].node); /* even: absent */
		assert_ptr_equal(pl_treap_ceil(&t, k[i].node.key - 1), &k[i].node);
	}
}

static void test_failed_call_changes_nothing(void **state)
{
	struct pl_ranges *r = *state;
	struct pl_syscall_event e = call(PL_SYS_MUNMAP, BASE, 2 * MIB, 0, 0, -22, 0);

	do_mmap(r, BASE, 2 * MIB);
	fold(r, IDX(BASE), 1 * MIB);
	pl_ranges_add_syscall(r, &e);
	assert_int_equal(row_at(r, BASE).mapped, 2 * MIB);
	assert_int_equal(gone_row(r).faulted, 0);
}

/* ---- munmap ---------------------------------------------------------------- */

/* An 8 MiB mapping, chunks faulted 1, 2, 2 and 0.5 MiB, its middle 4 MiB unmapped. */
static void unmap_middle(struct pl_ranges *r)
{
	do_mmap(r, BASE, 8 * MIB);
	fold(r, IDX(BASE), 1 * MIB);
	fold(r, IDX(BASE) + 1, 2 * MIB);
	fold(r, IDX(BASE) + 2, 2 * MIB);
	fold(r, IDX(BASE) + 3, 512 * KIB);
	do_munmap(r, BASE + 2 * MIB, 4 * MIB, -3 * (int64_t)MIB);
}

static void test_munmap_middle_leaves_two_rows(void **state)
{
	struct pl_ranges *r = *state;
	struct pl_range_row head, tail;

	unmap_middle(r);
	assert_int_equal(row_count(r), 2);
	head = row_at(r, BASE);
	tail = row_at(r, BASE + 6 * MIB);
	assert_int_equal(head.end, BASE + 2 * MIB);
	assert_int_equal(head.mapped, 2 * MIB);
	assert_int_equal(head.faulted, 1 * MIB);
	assert_int_equal(head.released, 0);
	assert_int_equal(tail.end, BASE + 8 * MIB);
	assert_int_equal(tail.mapped, 2 * MIB);
	assert_int_equal(tail.faulted, 512 * KIB);
	assert_int_equal(tail.released, 0);
}

static void test_munmap_middle_goes_to_unmapped_row(void **state)
{
	struct pl_ranges *r = *state;
	struct pl_range_row gone;

	unmap_middle(r);
	gone = gone_row(r);
	assert_int_equal(gone.start, 0);
	assert_int_equal(gone.end, 0);
	assert_string_equal(gone.name, "(unmapped)");
	assert_int_equal(gone.faulted, 4 * MIB);
	assert_int_equal(gone.released, 3 * MIB);
}

static void test_munmap_totals_count_everything_once(void **state)
{
	struct pl_ranges *r = *state;
	struct pl_range_row all;

	unmap_middle(r);
	/* The poller reads the same kernel entries again: nothing new. */
	fold(r, IDX(BASE) + 1, 2 * MIB);
	fold(r, IDX(BASE) + 2, 2 * MIB);
	fold(r, IDX(BASE), 1 * MIB);
	assert_int_equal(live_row(r).faulted, 1536 * KIB);
	assert_int_equal(gone_row(r).faulted, 4 * MIB);
	assert_int_equal(live_row(r).faulted + gone_row(r).faulted, 5632 * KIB);
	assert_int_equal(live_row(r).released + gone_row(r).released, 3 * MIB);
	assert_int_equal(live_row(r).mapped, 4 * MIB);
	pl_ranges_grand_total(r, &all);
	assert_int_equal(all.faulted, 5632 * KIB);
	assert_int_equal(all.released, 3 * MIB);
}

static void test_munmap_then_mmap_same_address_starts_clean(void **state)
{
	struct pl_ranges *r = *state;
	struct pl_range_row fresh;

	unmap_middle(r);
	do_mmap(r, BASE + 2 * MIB, 4 * MIB);
	assert_int_equal(row_count(r), 2); /* nothing to show on the new one yet */
	fold(r, IDX(BASE) + 1, 2 * MIB + 256 * KIB);
	fresh = row_at(r, BASE + 2 * MIB);
	assert_int_equal(fresh.mapped, 4 * MIB);
	assert_int_equal(fresh.faulted, 256 * KIB);
	assert_int_equal(fresh.released, 0);
	assert_int_equal(gone_row(r).faulted, 4 * MIB);
	assert_int_equal(gone_row(r).released, 3 * MIB);
}

static void test_fold_on_unmapped_chunk_goes_to_unmapped_row(void **state)
{
	struct pl_ranges *r = *state;

	do_mmap(r, BASE, 2 * MIB);
	fold(r, IDX(BASE), 1 * MIB);
	do_munmap(r, BASE, 2 * MIB, -(int64_t)MIB);
	fold(r, IDX(BASE), 1 * MIB + 64 * KIB); /* faults just before the unmap */
	assert_int_equal(gone_row(r).faulted, 1 * MIB + 64 * KIB);
	assert_int_equal(live_row(r).faulted, 0);
	assert_int_equal(row_count(r), 0);
}

/* ---- mremap ---------------------------------------------------------------- */

static void test_mremap_grows_in_place(void **state)
{
	struct pl_ranges *r = *state;
	struct pl_range_row row;

	do_mmap(r, BASE, 2 * MIB);
	fold(r, IDX(BASE), 1 * MIB);
	do_mremap(r, BASE, 2 * MIB, 4 * MIB, BASE, 0);
	fold(r, IDX(BASE) + 1, 512 * KIB);
	row = row_at(r, BASE);
	assert_int_equal(row_count(r), 1);
	assert_int_equal(row.end, BASE + 4 * MIB);
	assert_int_equal(row.mapped, 4 * MIB);
	assert_int_equal(row.faulted, 1536 * KIB);
	assert_int_equal(gone_row(r).faulted, 0);
}

static void test_mremap_shrink_releases_the_cut_tail(void **state)
{
	struct pl_ranges *r = *state;
	struct pl_range_row row, gone;

	do_mmap(r, BASE, 8 * MIB);
	for (int i = 0; i < 4; i++)
		fold(r, IDX(BASE) + (uint64_t)i, 1 * MIB);
	do_mremap(r, BASE, 8 * MIB, 2 * MIB, BASE, -3 * (int64_t)MIB);
	row = row_at(r, BASE);
	gone = gone_row(r);
	assert_int_equal(row.mapped, 2 * MIB);
	assert_int_equal(row.faulted, 1 * MIB);
	assert_int_equal(row.released, 0);
	assert_int_equal(gone.faulted, 3 * MIB);
	assert_int_equal(gone.released, 3 * MIB);
}

static void test_mremap_shrink_inside_a_chunk_splits_released(void **state)
{
	struct pl_ranges *r = *state;

	do_mmap(r, BASE, 8 * MIB);
	/* Cut [3M, 8M): 1 MiB of it in chunk 1 (kept), 4 MiB in chunks 2-3 (gone). */
	do_mremap(r, BASE, 8 * MIB, 3 * MIB, BASE, -5 * (int64_t)MIB);
	assert_int_equal(row_at(r, BASE).released, 1 * MIB);
	assert_int_equal(row_at(r, BASE).mapped, 3 * MIB);
	assert_int_equal(gone_row(r).released, 4 * MIB);
}

static void test_mremap_move_takes_history_along(void **state)
{
	struct pl_ranges *r = *state;
	uint64_t to = BASE + 64 * MIB;
	struct pl_range_row row;

	do_mmap(r, BASE, 4 * MIB);
	fold(r, IDX(BASE), 1 * MIB);
	fold(r, IDX(BASE) + 1, 2 * MIB);
	do_madvise(r, BASE, 1 * MIB, PL_MADV_DONTNEED, -512 * (int64_t)KIB);
	do_mremap(r, BASE, 4 * MIB, 4 * MIB, to, 0);
	assert_int_equal(row_count(r), 1);
	row = row_at(r, to);
	assert_int_equal(row.end, to + 4 * MIB);
	assert_int_equal(row.faulted, 3 * MIB);
	assert_int_equal(row.released, 512 * KIB);
	assert_int_equal(row.advised_by[PL_RADV_DONTNEED], 1 * MIB);
	assert_int_equal(gone_row(r).faulted, 0);
	assert_int_equal(gone_row(r).released, 0);
	assert_false(pl_ranges_chunk_mapped(r, IDX(BASE)));
	assert_true(pl_ranges_chunk_mapped(r, IDX(to)));
}

static void test_mremap_move_then_old_readings_add_nothing(void **state)
{
	struct pl_ranges *r = *state;
	uint64_t to = BASE + 64 * MIB;

	do_mmap(r, BASE, 4 * MIB);
	fold(r, IDX(BASE), 1 * MIB);
	do_mremap(r, BASE, 4 * MIB, 4 * MIB, to, 0);
	fold(r, IDX(BASE), 1 * MIB);	 /* the old kernel entry, unchanged */
	fold(r, IDX(to) + 1, 128 * KIB); /* new faults at the destination */
	assert_int_equal(row_at(r, to).faulted, 1 * MIB + 128 * KIB);
	assert_int_equal(gone_row(r).faulted, 0);
}

static void test_mremap_move_carries_seeded_pages(void **state)
{
	struct pl_ranges *r = *state;
	uint64_t pages[PL_CHUNK_WORDS] = {0x3ff}, to = BASE + 64 * MIB;

	assert_int_equal(pl_ranges_seed(r, BASE, BASE + 2 * MIB, "[anon]", true), 0);
	pl_ranges_seed_pages(r, IDX(BASE), pages);
	do_mremap(r, BASE, 2 * MIB, 2 * MIB, to, 0);
	assert_int_equal(row_count(r), 1);
	assert_int_equal(row_at(r, to).seeded, 10 * PAGE);
	assert_int_equal(gone_row(r).seeded, 0);
}

static void test_mmap_fixed_over_seeded_pages_moves_them_to_unmapped(void **state)
{
	struct pl_ranges *r = *state;
	uint64_t pages[PL_CHUNK_WORDS] = {0xffff};

	assert_int_equal(pl_ranges_seed(r, BASE, BASE + 2 * MIB, "[anon]", true), 0);
	pl_ranges_seed_pages(r, IDX(BASE), pages);
	do_mmap(r, BASE + 4 * PAGE, 4 * PAGE); /* MAP_FIXED over pages 4-7 */
	assert_int_equal(gone_row(r).seeded, 4 * PAGE);
	assert_int_equal(row_at(r, BASE).seeded, 4 * PAGE);
	assert_int_equal(row_at(r, BASE + 8 * PAGE).seeded, 8 * PAGE);
	assert_int_equal(live_row(r).seeded, 12 * PAGE);
}

static void test_release_then_unmap_counts_release_once(void **state)
{
	struct pl_ranges *r = *state;

	do_mmap(r, BASE, 4 * MIB);
	fold(r, IDX(BASE), 2 * MIB);
	do_madvise(r, BASE, 2 * MIB, PL_MADV_DONTNEED, -2 * (int64_t)MIB);
	do_munmap(r, BASE, 4 * MIB, 0);
	assert_int_equal(gone_row(r).released, 2 * MIB);
	assert_int_equal(gone_row(r).faulted, 2 * MIB);
	assert_int_equal(gone_row(r).advised_by[PL_RADV_DONTNEED], 2 * MIB);
	assert_int_equal(live_row(r).released, 0);
	assert_int_equal(live_row(r).mapped, 0);
}

/* ---- brk ------------------------------------------------------------------- */

static void test_brk_grows_the_heap_row(void **state)
{
	struct pl_ranges *r = *state;
	struct pl_range_row heap;

	do_brk(r, BASE, BASE + 1 * MIB, 0);
	do_brk(r, BASE + 1 * MIB, BASE + 3 * MIB, 0);
	fold(r, IDX(BASE), 1 * MIB);
	heap = row_at(r, BASE);
	assert_string_equal(heap.name, "[heap]");
	assert_int_equal(heap.end, BASE + 3 * MIB);
	assert_int_equal(heap.mapped, 3 * MIB);
	assert_int_equal(r->heap_start, BASE);
	assert_int_equal(row_count(r), 1);
}

static void test_brk_shrink_releases_the_cut(void **state)
{
	struct pl_ranges *r = *state;
	struct pl_range_row heap, gone;

	do_brk(r, BASE, BASE + 3 * MIB, 0);
	fold(r, IDX(BASE), 1 * MIB);
	fold(r, IDX(BASE) + 1, 512 * KIB);
	/* Cut [1M, 3M): 1 MiB in chunk 0 (kept), 1 MiB in chunk 1 (gone). */
	do_brk(r, BASE + 3 * MIB, BASE + 1 * MIB, -1536 * (int64_t)KIB);
	heap = row_at(r, BASE);
	gone = gone_row(r);
	assert_int_equal(heap.mapped, 1 * MIB);
	assert_int_equal(heap.faulted, 1 * MIB);
	assert_int_equal(heap.released, 768 * KIB);
	assert_int_equal(gone.faulted, 512 * KIB);
	assert_int_equal(gone.released, 768 * KIB);
}

static void test_brk_extends_a_seeded_heap(void **state)
{
	struct pl_ranges *r = *state;

	assert_int_equal(pl_ranges_seed(r, BASE, BASE + 132 * KIB, "[heap]", true), 0);
	do_brk(r, BASE + 132 * KIB, BASE + 1 * MIB, 0);
	fold(r, IDX(BASE), 64 * KIB);
	assert_int_equal(row_count(r), 1);
	assert_int_equal(row_at(r, BASE).mapped, 1 * MIB);
	assert_int_equal(r->heap_start, BASE);
}

/* ---- madvise --------------------------------------------------------------- */

static void test_dontneed_two_chunks_advised_and_released(void **state)
{
	struct pl_ranges *r = *state;
	struct pl_range_row a, b;

	do_mmap(r, BASE, 4 * MIB);
	do_mmap(r, BASE + 4 * MIB, 4 * MIB);
	fold(r, IDX(BASE), 2 * MIB);
	fold(r, IDX(BASE) + 1, 2 * MIB);
	fold(r, IDX(BASE) + 2, 4 * KIB);
	do_madvise(r, BASE, 4 * MIB, PL_MADV_DONTNEED, -4 * (int64_t)MIB);
	a = row_at(r, BASE);
	b = row_at(r, BASE + 4 * MIB);
	assert_int_equal(a.advised_by[PL_RADV_DONTNEED], 4 * MIB);
	assert_int_equal(a.advised, 4 * MIB);
	assert_int_equal(a.released, 4 * MIB);
	assert_int_equal(a.faulted, 4 * MIB);
	assert_int_equal(b.advised, 0);
	assert_int_equal(b.released, 0);
}

static void test_dontneed_locked_counts_as_dontneed(void **state)
{
	struct pl_ranges *r = *state;

	do_mmap(r, BASE, 2 * MIB);
	do_madvise(r, BASE, 64 * KIB, PL_MADV_DONTNEED_LOCKED, 0);
	do_madvise(r, BASE, 8 * KIB, 14 /* MADV_HUGEPAGE */, 0);
	assert_int_equal(row_at(r, BASE).advised_by[PL_RADV_DONTNEED], 64 * KIB);
	assert_int_equal(row_at(r, BASE).advised_by[PL_RADV_OTHER], 8 * KIB);
	assert_int_equal(row_at(r, BASE).advised, 72 * KIB);
	assert_int_equal(row_at(r, BASE).released, 0);
}

static void test_madvise_spanning_two_mappings_splits_exactly(void **state)
{
	struct pl_ranges *r = *state;
	struct pl_range_row a, b;

	do_mmap(r, BASE, 2 * MIB);
	do_mmap(r, BASE + 2 * MIB, 2 * MIB);
	/* [1M, 4M): a third of it in a, two thirds in b; 7 pages released. */
	do_madvise(r, BASE + 1 * MIB, 3 * MIB, PL_MADV_DONTNEED, -7 * (int64_t)PAGE);
	a = row_at(r, BASE);
	b = row_at(r, BASE + 2 * MIB);
	assert_int_equal(a.advised, 1 * MIB);
	assert_int_equal(b.advised, 2 * MIB);
	assert_int_equal(a.released, 9557); /* 28672 / 3, rounded down */
	assert_int_equal(b.released, 19115);
	assert_int_equal(a.released + b.released, 7 * PAGE);
	assert_int_equal(live_row(r).released, 7 * PAGE);
}

static void test_madvise_length_rounds_up_to_pages(void **state)
{
	struct pl_ranges *r = *state;

	do_mmap(r, BASE, 2 * MIB);
	do_madvise(r, BASE, 100, PL_MADV_COLD, 0);
	assert_int_equal(row_at(r, BASE).advised_by[PL_RADV_COLD], PAGE);
}

static void test_process_madvise_uses_first_iovec(void **state)
{
	struct pl_ranges *r = *state;
	struct pl_syscall_event e =
	    call(PL_SYS_PROCESS_MADVISE, 3, 0x1000, 1, PL_MADV_PAGEOUT, 0, -64 * (int64_t)KIB);

	do_mmap(r, BASE, 2 * MIB);
	e.iov_addr = BASE + 1 * MIB;
	e.iov_bytes = 256 * KIB;
	e.iov_read = 1;
	pl_ranges_add_syscall(r, &e);
	e.iov_read = 2; /* where the second iovec lies is unknown: not counted */
	pl_ranges_add_syscall(r, &e);
	assert_int_equal(row_at(r, BASE).advised_by[PL_RADV_PAGEOUT], 256 * KIB);
	assert_int_equal(row_at(r, BASE).released, 64 * KIB);
}

/* ---- MADV_FREE and presence -------------------------------------------------- */

/* 16 pages MADV_FREE'd in a faulted 2 MiB mapping; the kernel marks them released. */
static void lazy_setup(struct pl_ranges *r, struct pl_chunk *k)
{
	uint64_t idx;

	memset(k, 0, sizeof(*k));
	do_mmap(r, BASE, 2 * MIB);
	fold(r, IDX(BASE), 2 * MIB);
	pl_ranges_fold_chunk(r, IDX(BASE), k);
	do_madvise(r, BASE, 16 * PAGE, PL_MADV_FREE, 0);
	k->released[0] = 0xffff;
	pl_ranges_fold_chunk(r, IDX(BASE), k);
	assert_int_equal(pl_ranges_lazy_chunks(r, &idx, 1), 1);
	assert_int_equal(idx, IDX(BASE));
}

static void test_lazy_pending_counts_resident_at_first_look(void **state)
{
	struct pl_ranges *r = *state;
	uint64_t present[PL_CHUNK_WORDS] = {0xfff}; /* pages 0-11 resident, 12-15 not */
	struct pl_chunk k;

	lazy_setup(r, &k);
	pl_ranges_set_presence(r, IDX(BASE), present);
	assert_int_equal(row_at(r, BASE).advised_by[PL_RADV_FREE], 16 * PAGE);
	assert_int_equal(row_at(r, BASE).lazy_pending, 12 * PAGE);
	assert_int_equal(row_at(r, BASE).reclaimed, 0);
	assert_int_equal(row_at(r, BASE).released, 0);
}

static void test_lazy_pages_gone_later_are_reclaimed(void **state)
{
	struct pl_ranges *r = *state;
	uint64_t first[PL_CHUNK_WORDS] = {0xfff}, later[PL_CHUNK_WORDS] = {0xff};
	struct pl_chunk k;

	lazy_setup(r, &k);
	pl_ranges_set_presence(r, IDX(BASE), first);
	pl_ranges_set_presence(r, IDX(BASE), later); /* pages 8-11 dropped by reclaim */
	assert_int_equal(row_at(r, BASE).lazy_pending, 8 * PAGE);
	assert_int_equal(row_at(r, BASE).reclaimed, 4 * PAGE);
	pl_ranges_set_presence(r, IDX(BASE), later); /* the same look again: no change */
	assert_int_equal(row_at(r, BASE).lazy_pending, 8 * PAGE);
	assert_int_equal(row_at(r, BASE).reclaimed, 4 * PAGE);
	assert_int_equal(live_row(r).reclaimed, 4 * PAGE);
}

static void test_lazy_pages_refaulted_leave_pending(void **state)
{
	struct pl_ranges *r = *state;
	uint64_t first[PL_CHUNK_WORDS] = {0xff}, all[PL_CHUNK_WORDS] = {0xffff};
	struct pl_chunk k;

	lazy_setup(r, &k);
	pl_ranges_set_presence(r, IDX(BASE), first);
	assert_int_equal(row_at(r, BASE).lazy_pending, 8 * PAGE);
	/* Pages 0-3 were dropped and faulted back: the kernel cleared their bits. */
	k.released[0] = 0xfff0;
	fold(r, IDX(BASE), 2 * MIB + 4 * PAGE);
	pl_ranges_fold_chunk(r, IDX(BASE), &k);
	pl_ranges_set_presence(r, IDX(BASE), all);
	assert_int_equal(row_at(r, BASE).lazy_pending, 4 * PAGE);
	assert_int_equal(row_at(r, BASE).reclaimed, 0);
	assert_int_equal(row_at(r, BASE).faulted, 2 * MIB + 4 * PAGE);
}

/* What pagemap would say: every page of the range resident. */
static int64_t all_resident(void *ctx, uint64_t start, uint64_t end)
{
	(void)ctx;
	return (int64_t)(end - start);
}

/* Resident now in the new mapping: the 50 pages faulted since it was made. */
static int64_t fifty_resident(void *ctx, uint64_t start, uint64_t end)
{
	(void)ctx;
	(void)start;
	(void)end;
	return 50 * PAGE;
}

static bool seg_of_fifty(void *ctx, uint64_t idx, unsigned page, struct pl_seg *out)
{
	(void)ctx;
	memset(out, 0, sizeof(*out));
	out->faulted = 50 * PAGE;
	out->born_ns = 7;
	return idx == IDX(BASE) && page == 256;
}

static size_t no_caches(void *ctx, const struct pl_cached **out)
{
	(void)ctx;
	*out = NULL;
	return 0;
}

/*
 * The record of a mapping made over half another comes after the program
 * faulted 50 pages in it: those are in "resident now" and in the kernel's
 * new segment, not in the old mapping's history, so nothing moves.
 */
static void test_split_behind_the_program_leaves_its_new_faults(void **state)
{
	struct pl_ranges *r = *state;

	r->resident = fifty_resident;
	r->kernel_seg = seg_of_fifty;
	r->kernel_caches = no_caches;
	do_mmap(r, BASE, 2 * MIB);
	fold(r, IDX(BASE), 100 * PAGE);
	do_mmap(r, BASE + 1 * MIB, 1 * MIB);
	fold_at(r, IDX(BASE), 256, 50 * PAGE);
	assert_int_equal(row_at(r, BASE).faulted, 100 * PAGE);
	assert_int_equal(row_at(r, BASE + 1 * MIB).faulted, 50 * PAGE);
}

static void test_dontneed_clears_lazy_pages(void **state)
{
	struct pl_ranges *r = *state;
	uint64_t all[PL_CHUNK_WORDS] = {0xffff};
	struct pl_chunk k;

	r->resident = all_resident;
	lazy_setup(r, &k);
	pl_ranges_set_presence(r, IDX(BASE), all);
	do_madvise(r, BASE, 4 * PAGE, PL_MADV_DONTNEED, -4 * (int64_t)PAGE);
	assert_int_equal(row_at(r, BASE).lazy_pending, 12 * PAGE);
	do_munmap(r, BASE + 4 * PAGE, 4 * PAGE, -4 * (int64_t)PAGE);
	/* Page-exact per mapping: pages 8-15 are the tail's, the head has none left. */
	assert_int_equal(row_at(r, BASE + 8 * PAGE).lazy_pending, 8 * PAGE);
	assert_int_equal(live_row(r).lazy_pending, 8 * PAGE);
	/* The segment's faults split at the cut by what each part holds. */
	assert_int_equal(row_at(r, BASE + 8 * PAGE).faulted, 2 * MIB - 8 * PAGE);
	assert_int_equal(row_at(r, BASE).faulted, 8 * PAGE);
	assert_int_equal(row_at(r, BASE).released, 8 * PAGE);
}

static void test_split_without_pagemap_keeps_history_and_counts(void **state)
{
	struct pl_ranges *r = *state;

	do_mmap(r, BASE, 2 * MIB);
	fold(r, IDX(BASE), 2 * MIB);
	do_munmap(r, BASE + 4 * PAGE, 4 * PAGE, -4 * (int64_t)PAGE);
	assert_int_equal(row_at(r, BASE).faulted, 2 * MIB);
	assert_int_equal(r->splits_unplaced, 1);
}

/* The kernel's segment at BASE now, and what pagemap finds there: set by each test. */
static int64_t reused_seg_faulted, reused_resident;

static bool reused_seg(void *ctx, uint64_t idx, unsigned page, struct pl_seg *out)
{
	(void)ctx;
	memset(out, 0, sizeof(*out));
	out->faulted = reused_seg_faulted;
	out->born_ns = 1;
	return idx == IDX(BASE) && page == 0;
}

static int64_t reused_pages(void *ctx, uint64_t start, uint64_t end)
{
	(void)ctx;
	return start == BASE && end == BASE + 16 * PAGE ? reused_resident : 0;
}

/* The kernel's mappings now: 16-page ones at each 16-page step, or none. */
static bool mapped_in_steps;

static bool steps_mapping_at(void *ctx, uint64_t addr, uint64_t *start, uint64_t *end)
{
	(void)ctx;
	*start = addr - (addr - BASE) % (16 * PAGE);
	*end = *start + 16 * PAGE;
	return mapped_in_steps;
}

/*
 * A 16-page mapping at BASE, FOLDED faulted, is unmapped while pagemap
 * finds 3 pages there and the kernel's segment holds KERNEL; the kernel
 * shows a mapping at BASE then if MAPPED. Then one is made at BASE again.
 */
static void unmap_and_map_again(struct pl_ranges *r, int64_t folded, int64_t kernel, bool mapped)
{
	r->resident = reused_pages;
	r->kernel_seg = reused_seg;
	r->kernel_caches = no_caches;
	r->mapping_at = steps_mapping_at;
	mapped_in_steps = mapped;
	do_mmap(r, BASE, 16 * PAGE);
	fold(r, IDX(BASE), folded);
	reused_seg_faulted = kernel;
	reused_resident = 3 * PAGE;
	do_munmap(r, BASE, 16 * PAGE, -16 * (int64_t)PAGE);
	do_mmap(r, BASE, 16 * PAGE);
}

/*
 * A 16-page mapping is unmapped and a new one made at the same address
 * (the same segment) faults 3 pages before the munmap's record comes. The
 * fold before the cut holds 2 of them, the kernel the third: the 16 old
 * pages retire, the 2 stay for the new mapping, and the third comes later.
 */
static void test_segment_reused_at_the_same_address_keeps_the_new_faults(void **state)
{
	struct pl_ranges *r = *state;

	/* Folded: 16 of the old mapping, 2 of the new; the kernel has a third. */
	unmap_and_map_again(r, 18 * PAGE, 19 * PAGE, true);
	assert_int_equal(row_at(r, BASE).faulted, 2 * PAGE);
	assert_int_equal(gone_row(r).faulted, 16 * PAGE);
	fold(r, IDX(BASE), 19 * PAGE);
	assert_int_equal(row_at(r, BASE).faulted, 3 * PAGE);
	assert_int_equal(gone_row(r).faulted + live_row(r).faulted, 19 * PAGE);
}

/*
 * Pages resident in the segment now, but the kernel shows no mapping that
 * starts there (they are another mapping's, for its own segment): the whole
 * history retires. Kept, they would never be released.
 */
static void test_segment_not_reused_retires_whole(void **state)
{
	struct pl_ranges *r = *state;

	unmap_and_map_again(r, 16 * PAGE, 16 * PAGE, false);
	assert_int_equal(live_row(r).faulted, 0);
	assert_int_equal(gone_row(r).faulted, 16 * PAGE);
}

/* Pagemap with 4 pages resident in each 16-page block from page 16 to 48. */
static int64_t blocks_resident(void *ctx, uint64_t start, uint64_t end)
{
	int64_t n = 0;

	(void)ctx;
	for (uint64_t b = BASE + 16 * PAGE; b < BASE + 48 * PAGE; b += 16 * PAGE)
		if (b >= start && b < end)
			n += 4 * PAGE;
	return n;
}

/*
 * Two mappings made inside a 64-page one, each faulting 4 pages, are read
 * from the kernel before their records come: its bounds at 16, 32 and 48
 * and their segments. Each remnant's share ends at the next bound the
 * kernel knows, so neither takes the other's pages, and the old mapping's
 * 2 pages stay its own.
 */
static void test_bounds_read_ahead_split_from_the_highest(void **state)
{
	struct pl_ranges *r = *state;
	struct pl_chunk k = {.born_ns = 1};

	r->resident = blocks_resident;
	r->mapping_at = steps_mapping_at;
	mapped_in_steps = true;
	do_mmap(r, BASE, 64 * PAGE);
	fold(r, IDX(BASE), 2 * PAGE);
	k.bounds[0] = 1ull << 16 | 1ull << 32 | 1ull << 48;
	pl_ranges_fold_chunk(r, IDX(BASE), &k);
	fold_at(r, IDX(BASE), 16, 4 * PAGE);
	fold_at(r, IDX(BASE), 32, 4 * PAGE);
	pl_ranges_apply_bounds(r, NULL, 0);
	do_mmap(r, BASE + 16 * PAGE, 16 * PAGE);
	do_mmap(r, BASE + 32 * PAGE, 16 * PAGE);
	assert_int_equal(row_at(r, BASE).faulted, 2 * PAGE);
	assert_int_equal(row_at(r, BASE + 16 * PAGE).faulted, 4 * PAGE);
	assert_int_equal(row_at(r, BASE + 32 * PAGE).faulted, 4 * PAGE);
	assert_int_equal(gone_row(r).faulted, 0);
}

/* ---- refaults -------------------------------------------------------------- */

static void test_refault_figures_from_folds(void **state)
{
	struct pl_ranges *r = *state;
	struct pl_chunk k = {.delay_min_ns = 500, .delay_max_ns = 3000};
	struct pl_seg s = {.faulted = 1 * MIB,
			   .refaulted = 256 * KIB,
			   .refaults = 64,
			   .delay_sum_ns = 64000,
			   .born_ns = 1};
	struct pl_range_row row;

	do_mmap(r, BASE, 2 * MIB);
	pl_ranges_fold_chunk(r, IDX(BASE), &k);
	pl_ranges_fold_seg(r, IDX(BASE), 0, &s);
	row = row_at(r, BASE);
	assert_int_equal(row.refaulted, 256 * KIB);
	assert_int_equal(row.refaults, 64);
	assert_int_equal(row.refault_delay_min_ns, 500);
	assert_int_equal(row.refault_delay_mean_ns, 1000);
	assert_int_equal(row.refault_delay_max_ns, 3000);
	s.faulted = 1536 * KIB;
	s.refaulted = 512 * KIB;
	s.refaults = 128;
	s.delay_sum_ns = 256000;
	k.delay_min_ns = 200;
	k.delay_max_ns = 9000;
	pl_ranges_fold_chunk(r, IDX(BASE), &k);
	pl_ranges_fold_seg(r, IDX(BASE), 0, &s);
	row = row_at(r, BASE);
	assert_int_equal(row.refaulted, 512 * KIB);
	assert_int_equal(row.refaults, 128);
	assert_int_equal(row.refault_delay_min_ns, 200);
	assert_int_equal(row.refault_delay_mean_ns, 2000);
	assert_int_equal(row.refault_delay_max_ns, 9000);
}

static void test_refault_figures_sum_over_chunks(void **state)
{
	struct pl_ranges *r = *state;
	struct pl_chunk a = {.delay_min_ns = 100, .delay_max_ns = 200};
	struct pl_chunk b = {.delay_min_ns = 900, .delay_max_ns = 900};
	struct pl_seg sa = {.faulted = 8 * PAGE,
			    .refaulted = 2 * PAGE,
			    .refaults = 2,
			    .delay_sum_ns = 300,
			    .born_ns = 1};
	struct pl_seg sb = {.faulted = 4 * PAGE,
			    .refaulted = 1 * PAGE,
			    .refaults = 1,
			    .delay_sum_ns = 900,
			    .born_ns = 1};
	struct pl_range_row row;

	do_mmap(r, BASE, 4 * MIB);
	pl_ranges_fold_chunk(r, IDX(BASE), &a);
	pl_ranges_fold_seg(r, IDX(BASE), 0, &sa);
	pl_ranges_fold_chunk(r, IDX(BASE) + 1, &b);
	pl_ranges_fold_seg(r, IDX(BASE) + 1, 0, &sb);
	row = row_at(r, BASE);
	assert_int_equal(row.refaulted, 3 * PAGE);
	assert_int_equal(row.refaults, 3);
	assert_int_equal(row.refault_delay_min_ns, 100);
	assert_int_equal(row.refault_delay_mean_ns, 400);
	assert_int_equal(row.refault_delay_max_ns, 900);
	assert_int_equal(live_row(r).refault_delay_mean_ns, 400);
}

/* ---- seeded pages ---------------------------------------------------------- */

/* Two small mappings in chunk 0: a (pages 0-15) and b (pages 256-287). */
static void seed_two_in_one_chunk(struct pl_ranges *r)
{
	uint64_t pages[PL_CHUNK_WORDS] = {0};

	assert_int_equal(pl_ranges_seed(r, BASE, BASE + 16 * PAGE, "[anon]", true), 0);
	assert_int_equal(pl_ranges_seed(r, BASE + 256 * PAGE, BASE + 288 * PAGE, "libx.so", false),
			 0);
	pages[0] = 0xff;   /* a: pages 0-7 */
	pages[4] = 0xffff; /* b: pages 256-271 */
	pl_ranges_seed_pages(r, IDX(BASE), pages);
}

static void test_seeded_pages_are_page_exact_per_mapping(void **state)
{
	struct pl_ranges *r = *state;

	seed_two_in_one_chunk(r);
	assert_int_equal(row_at(r, BASE).seeded, 8 * PAGE);
	assert_int_equal(row_at(r, BASE + 256 * PAGE).seeded, 16 * PAGE);
	assert_string_equal(row_at(r, BASE + 256 * PAGE).name, "libx.so");
	assert_int_equal(live_row(r).seeded, 24 * PAGE);
}

static void test_cut_moves_exactly_its_seeded_pages(void **state)
{
	struct pl_ranges *r = *state;

	seed_two_in_one_chunk(r);
	/* Pages 256-259 (4 seeded) and 272-287 (none seeded) unmapped. */
	do_munmap(r, BASE + 256 * PAGE, 4 * PAGE, -4 * (int64_t)PAGE);
	do_munmap(r, BASE + 272 * PAGE, 16 * PAGE, 0);
	assert_int_equal(row_at(r, BASE + 260 * PAGE).seeded, 12 * PAGE);
	assert_int_equal(row_at(r, BASE + 260 * PAGE).end, BASE + 272 * PAGE);
	assert_int_equal(row_at(r, BASE).seeded, 8 * PAGE);
	assert_int_equal(gone_row(r).seeded, 4 * PAGE);
	assert_int_equal(live_row(r).seeded + gone_row(r).seeded, 24 * PAGE);
	assert_int_equal(live_row(r).released + gone_row(r).released, 4 * PAGE);
}

static void test_seeded_extra_goes_to_chunk_owner(void **state)
{
	struct pl_ranges *r = *state;

	assert_int_equal(pl_ranges_seed(r, BASE, BASE + 4 * MIB, "[anon]", true), 0);
	pl_ranges_add_seeded(r, IDX(BASE), 3 * MIB);
	assert_int_equal(row_at(r, BASE).seeded, 3 * MIB);
	do_munmap(r, BASE, 4 * MIB, -3 * (int64_t)MIB);
	assert_int_equal(gone_row(r).seeded, 3 * MIB);
	assert_int_equal(gone_row(r).released, 3 * MIB);
	assert_int_equal(live_row(r).seeded, 0);
}

/* ---- collapses -------------------------------------------------------------- */

/* Four 2 MiB mappings, one per chunk, so each row shows one chunk. */
static void four_chunk_rows(struct pl_ranges *r)
{
	for (int i = 0; i < 4; i++) {
		do_mmap(r, BASE + (uint64_t)i * CHUNK, CHUNK);
		fold(r, IDX(BASE) + (uint64_t)i, 4 * KIB);
	}
}

static void test_collapse_shares_growth_exactly(void **state)
{
	struct pl_ranges *r = *state;
	uint64_t huge[] = {IDX(BASE), IDX(BASE) + 1, IDX(BASE) + 2};

	four_chunk_rows(r);
	pl_ranges_note_collapse(r, huge, 3, 20480);
	assert_int_equal(row_at(r, BASE).collapsed_khugepaged, 6826);
	assert_int_equal(row_at(r, BASE + CHUNK).collapsed_khugepaged, 6826);
	assert_int_equal(row_at(r, BASE + 2 * CHUNK).collapsed_khugepaged, 6828);
	assert_int_equal(row_at(r, BASE + 3 * CHUNK).collapsed_khugepaged, 0);
	assert_int_equal(live_row(r).collapsed_khugepaged, 20480);
}

static void test_collapse_skips_chunks_already_huge(void **state)
{
	struct pl_ranges *r = *state;
	uint64_t first[] = {IDX(BASE), IDX(BASE) + 1};
	uint64_t all[] = {IDX(BASE), IDX(BASE) + 1, IDX(BASE) + 2, IDX(BASE) + 3};

	four_chunk_rows(r);
	pl_ranges_note_collapse(r, first, 2, 4 * MIB - 8 * KIB);
	pl_ranges_note_collapse(r, all, 4, 4 * MIB - 8 * KIB);
	assert_int_equal(row_at(r, BASE).collapsed_khugepaged, 2 * MIB - 4 * KIB);
	assert_int_equal(row_at(r, BASE + CHUNK).collapsed_khugepaged, 2 * MIB - 4 * KIB);
	assert_int_equal(row_at(r, BASE + 2 * CHUNK).collapsed_khugepaged, 2 * MIB - 4 * KIB);
	assert_int_equal(row_at(r, BASE + 3 * CHUNK).collapsed_khugepaged, 2 * MIB - 4 * KIB);
	pl_ranges_note_collapse(r, all, 4, 1 * MIB); /* none new: credited nowhere */
	assert_int_equal(live_row(r).collapsed_khugepaged, 8 * MIB - 16 * KIB);
}

static void test_collapse_madvise_counts_growth(void **state)
{
	struct pl_ranges *r = *state;

	do_mmap(r, BASE, 4 * MIB);
	do_madvise(r, BASE, 4 * MIB, PL_MADV_COLLAPSE, 3 * (int64_t)MIB);
	assert_int_equal(row_at(r, BASE).collapsed_madvise, 3 * MIB);
	assert_int_equal(row_at(r, BASE).advised_by[PL_RADV_COLLAPSE], 4 * MIB);
	assert_int_equal(row_at(r, BASE).released, 0);
}

/* ---- the kernel's figures ----------------------------------------------------- */

static void test_set_kernel_merges_adjacent_mappings(void **state)
{
	struct pl_ranges *r = *state;
	struct pl_range_row row;

	do_mmap(r, BASE, 2 * MIB);
	do_mmap(r, BASE + 2 * MIB, 2 * MIB);
	fold(r, IDX(BASE), 1 * MIB);
	fold(r, IDX(BASE) + 1, 512 * KIB);
	assert_int_equal(row_count(r), 2);
	pl_ranges_set_kernel(r, BASE, BASE + 4 * MIB, 1536 * KIB, -1, 0);
	assert_int_equal(row_count(r), 1);
	row = row_at(r, BASE);
	assert_int_equal(row.end, BASE + 4 * MIB);
	assert_int_equal(row.mapped, 4 * MIB);
	assert_int_equal(row.faulted, 1536 * KIB);
	assert_int_equal(row.k_rss, 1536 * KIB);
	assert_int_equal(row.k_lazy_free, -1);
	assert_int_equal(row.k_anon_huge, 0);
}

static void test_set_kernel_vmas_inside_a_mapping_add_up(void **state)
{
	struct pl_ranges *r = *state;
	struct pl_range_row row;

	do_mmap(r, BASE, 4 * MIB);
	fold(r, IDX(BASE), 4 * KIB);
	pl_ranges_set_kernel(r, BASE, BASE + 1 * MIB, 100 * KIB, 0, -1);
	pl_ranges_set_kernel(r, BASE + 1 * MIB, BASE + 4 * MIB, 200 * KIB, 8 * KIB, -1);
	row = row_at(r, BASE);
	assert_int_equal(row.k_rss, 300 * KIB);
	assert_int_equal(row.k_lazy_free, 8 * KIB);
	assert_int_equal(row.k_anon_huge, -1);
	assert_int_equal(row.mapped, 4 * MIB);
	assert_int_equal(live_row(r).k_rss, 300 * KIB);
}

/*
 * A time-bounded smaps read reached only the first mapping: the total of
 * the mappings has no kernel figures, rather than the first one's.
 */
static void test_kernel_total_only_when_every_mapping_was_read(void **state)
{
	struct pl_ranges *r = *state;

	do_mmap(r, BASE, 2 * MIB);
	do_mmap(r, BASE + 8 * MIB, 2 * MIB);
	fold(r, IDX(BASE), 4 * KIB);
	fold(r, IDX(BASE + 8 * MIB), 8 * KIB);
	pl_ranges_set_kernel(r, BASE, BASE + 2 * MIB, 4 * KIB, 0, 0);
	assert_int_equal(row_at(r, BASE).k_rss, 4 * KIB);
	assert_int_equal(live_row(r).k_rss, -1);
	assert_int_equal(live_row(r).k_lazy_free, -1);
	assert_int_equal(live_row(r).k_anon_huge, -1);
	pl_ranges_set_kernel(r, BASE + 8 * MIB, BASE + 10 * MIB, 8 * KIB, 0, 0);
	assert_int_equal(live_row(r).k_rss, 12 * KIB);
	assert_int_equal(live_row(r).k_lazy_free, 0);
}

static void test_set_kernel_outside_and_clear(void **state)
{
	struct pl_ranges *r = *state;

	do_mmap(r, BASE, 2 * MIB);
	fold(r, IDX(BASE), 4 * KIB);
	assert_int_equal(row_at(r, BASE).k_rss, -1);
	pl_ranges_set_kernel(r, BASE + 8 * MIB, BASE + 10 * MIB, 1 * MIB, 0, 0);
	assert_int_equal(row_at(r, BASE).k_rss, -1);
	pl_ranges_set_kernel(r, BASE, BASE + 2 * MIB, 64 * KIB, 0, 0);
	assert_int_equal(row_at(r, BASE).k_rss, 64 * KIB);
	pl_ranges_clear_kernel(r);
	assert_int_equal(row_at(r, BASE).k_rss, -1);
	assert_int_equal(row_at(r, BASE).k_lazy_free, -1);
	assert_int_equal(row_at(r, BASE).k_anon_huge, -1);
}

static void test_rename_names_bracketed_mappings(void **state)
{
	struct pl_ranges *r = *state;
	struct pl_syscall_event e =
	    call(PL_SYS_MMAP, 0, 2 * MIB, 1, 0x2 /* MAP_PRIVATE */, (int64_t)BASE, 0);

	pl_ranges_add_syscall(r, &e);
	fold(r, IDX(BASE), 4 * KIB);
	assert_string_equal(row_at(r, BASE).name, "[file]");
	pl_ranges_rename(r, BASE, BASE + 2 * MIB, "data.bin", false);
	assert_string_equal(row_at(r, BASE).name, "data.bin");
	pl_ranges_rename(r, BASE, BASE + 2 * MIB, "other", false);
	assert_string_equal(row_at(r, BASE).name, "data.bin");
}

/* ---- rows ------------------------------------------------------------------ */

static void test_rows_ordered_by_weight_and_capped(void **state)
{
	struct pl_ranges *r = *state;
	struct pl_range_row rows[MAX_ROWS];

	do_mmap(r, BASE, 2 * MIB);
	do_mmap(r, BASE + 2 * MIB, 2 * MIB);
	do_mmap(r, BASE + 4 * MIB, 2 * MIB);
	do_mmap(r, BASE + 6 * MIB, 2 * MIB); /* nothing happens here: no row */
	fold(r, IDX(BASE), 1 * MIB);
	fold(r, IDX(BASE) + 1, 2 * MIB);
	fold(r, IDX(BASE) + 2, 1536 * KIB);
	assert_int_equal(pl_ranges_rows(r, rows, MAX_ROWS), 3);
	assert_int_equal(rows[0].start, BASE + 2 * MIB);
	assert_int_equal(rows[1].start, BASE + 4 * MIB);
	assert_int_equal(rows[2].start, BASE);
	assert_int_equal(pl_ranges_rows(r, rows, 2), 2);
	assert_int_equal(rows[0].start, BASE + 2 * MIB);
	assert_int_equal(rows[1].start, BASE + 4 * MIB);
	assert_int_equal(pl_ranges_rows(r, rows, 0), 0);
}

static void test_rows_weight_subtracts_released(void **state)
{
	struct pl_ranges *r = *state;
	struct pl_range_row rows[MAX_ROWS];

	do_mmap(r, BASE, 2 * MIB);
	do_mmap(r, BASE + 2 * MIB, 2 * MIB);
	fold(r, IDX(BASE), 2 * MIB);
	fold(r, IDX(BASE) + 1, 1 * MIB);
	do_madvise(r, BASE, 2 * MIB, PL_MADV_DONTNEED, -2 * (int64_t)MIB);
	assert_int_equal(pl_ranges_rows(r, rows, MAX_ROWS), 2);
	assert_int_equal(rows[0].start, BASE + 2 * MIB);
	assert_int_equal(rows[1].start, BASE);
}

static void test_rows_equal_weight_by_address(void **state)
{
	struct pl_ranges *r = *state;
	struct pl_range_row rows[MAX_ROWS];

	do_mmap(r, BASE + 4 * MIB, 2 * MIB);
	do_mmap(r, BASE, 2 * MIB);
	fold(r, IDX(BASE) + 2, 1 * MIB);
	fold(r, IDX(BASE), 1 * MIB);
	assert_int_equal(pl_ranges_rows(r, rows, MAX_ROWS), 2);
	assert_int_equal(rows[0].start, BASE);
	assert_int_equal(rows[1].start, BASE + 4 * MIB);
}

static void test_chunk_mapped(void **state)
{
	struct pl_ranges *r = *state;

	do_mmap(r, BASE + 4 * PAGE, 2 * PAGE); /* a sliver of chunk 0 */
	do_mmap(r, BASE + 4 * MIB, 2 * MIB);   /* exactly chunk 2 */
	assert_true(pl_ranges_chunk_mapped(r, IDX(BASE)));
	assert_false(pl_ranges_chunk_mapped(r, IDX(BASE) + 1));
	assert_true(pl_ranges_chunk_mapped(r, IDX(BASE) + 2));
	assert_false(pl_ranges_chunk_mapped(r, IDX(BASE) + 3));
	assert_false(pl_ranges_chunk_mapped(r, 0));
	do_munmap(r, BASE + 4 * MIB, 2 * MIB, 0);
	assert_false(pl_ranges_chunk_mapped(r, IDX(BASE) + 2));
}

static void test_advice_names(void **state)
{
	(void)state;
	assert_string_equal(pl_range_advice_name(PL_RADV_DONTNEED), "MADV_DONTNEED");
	assert_string_equal(pl_range_advice_name(PL_RADV_FREE), "MADV_FREE");
	assert_string_equal(pl_range_advice_name(PL_RADV_OTHER), "other");
	assert_string_equal(pl_range_advice_name(-1), "other");
	assert_string_equal(pl_range_advice_name(PL_RADV_NR), "other");
}

#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)

int main(void)
{
	const struct CMUnitTest ranges_tests[] = {
	    T(test_fold_credits_growth_to_the_row),
	    T(test_fold_same_reading_twice_adds_nothing),
	    T(test_fold_new_kernel_entry_counts_from_zero),
	    T(test_fold_net_figure_can_fall),
	    T(test_two_mappings_in_one_chunk_keep_their_own_faults),
	    T(test_release_goes_to_the_mapping_the_call_names),
	    T(test_unmapping_the_small_one_leaves_the_busy_one_whole),
	    T(test_kernel_bounds_split_a_seeded_chunk),
	    T(test_cached_fault_bytes_count_until_flushed),
	    T(test_cached_fault_bytes_travel_with_a_move),
	    T(test_cache_begun_after_a_call_is_the_new_mappings),
	    T(test_split_behind_the_program_leaves_its_new_faults),
	    T(test_cache_under_a_bound_not_yet_recorded_keeps_its_segment),
	    T(test_cache_across_a_new_bound_is_shared_by_pages),
	    T(test_unmapped_chunks_are_dropped_after_a_walk),
	    T(test_chunk_mapped_again_is_kept),
	    T(test_cut_keeps_segments_made_after_the_call),
	    T(test_treap_orders_many_keys),
	    T(test_failed_call_changes_nothing),
	    T(test_munmap_middle_leaves_two_rows),
	    T(test_munmap_middle_goes_to_unmapped_row),
	    T(test_munmap_totals_count_everything_once),
	    T(test_munmap_then_mmap_same_address_starts_clean),
	    T(test_fold_on_unmapped_chunk_goes_to_unmapped_row),
	    T(test_mremap_grows_in_place),
	    T(test_mremap_shrink_releases_the_cut_tail),
	    T(test_mremap_shrink_inside_a_chunk_splits_released),
	    T(test_mremap_move_takes_history_along),
	    T(test_mremap_move_then_old_readings_add_nothing),
	    T(test_mremap_move_carries_seeded_pages),
	    T(test_mmap_fixed_over_seeded_pages_moves_them_to_unmapped),
	    T(test_release_then_unmap_counts_release_once),
	    T(test_brk_grows_the_heap_row),
	    T(test_brk_shrink_releases_the_cut),
	    T(test_brk_extends_a_seeded_heap),
	    T(test_dontneed_two_chunks_advised_and_released),
	    T(test_dontneed_locked_counts_as_dontneed),
	    T(test_madvise_spanning_two_mappings_splits_exactly),
	    T(test_madvise_length_rounds_up_to_pages),
	    T(test_process_madvise_uses_first_iovec),
	    T(test_lazy_pending_counts_resident_at_first_look),
	    T(test_lazy_pages_gone_later_are_reclaimed),
	    T(test_lazy_pages_refaulted_leave_pending),
	    T(test_dontneed_clears_lazy_pages),
	    T(test_split_without_pagemap_keeps_history_and_counts),
	    T(test_segment_reused_at_the_same_address_keeps_the_new_faults),
	    T(test_segment_not_reused_retires_whole),
	    T(test_bounds_read_ahead_split_from_the_highest),
	    T(test_refault_figures_from_folds),
	    T(test_refault_figures_sum_over_chunks),
	    T(test_seeded_pages_are_page_exact_per_mapping),
	    T(test_cut_moves_exactly_its_seeded_pages),
	    T(test_seeded_extra_goes_to_chunk_owner),
	    T(test_collapse_shares_growth_exactly),
	    T(test_collapse_skips_chunks_already_huge),
	    T(test_collapse_madvise_counts_growth),
	    T(test_set_kernel_merges_adjacent_mappings),
	    T(test_set_kernel_vmas_inside_a_mapping_add_up),
	    T(test_kernel_total_only_when_every_mapping_was_read),
	    T(test_set_kernel_outside_and_clear),
	    T(test_rename_names_bracketed_mappings),
	    T(test_rows_ordered_by_weight_and_capped),
	    T(test_rows_weight_subtracts_released),
	    T(test_rows_equal_weight_by_address),
	    T(test_chunk_mapped),
	    T(test_advice_names),
	};

	return cmocka_run_group_tests_name("ranges", ranges_tests, NULL, NULL);
}
