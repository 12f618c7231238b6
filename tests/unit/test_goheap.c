// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * Unit tests for user/goheap: the layout table, the build information
 * parser, the x86-64 receiver scan and the page-allocator reader.
 *
 * Real binaries: `make workloads` builds tests/workloads/go/goheap (plain,
 * stripped, PIE, PIE stripped) and writes build/go/goheap.offsets with
 * tests/workloads/go/gooffsets: per unstripped binary, its release,
 * runtime.mheap_'s address from .symtab and the page allocator's offsets
 * from its DWARF (also for other releases' binaries with DWARF found on
 * the machine). The table, the symbol lookup and the code scan are held
 * against it. PL_GOHEAP_OFFSETS overrides the file's path.
 *
 * Synthetic: a fake target memory, built here, with known bitmaps.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include "goheap/buildinfo.h"
#include "goheap/gobinary.h"
#include "goheap/layout.h"
#include "goheap/pagealloc.h"
#include "goheap/x86scan.h"
#include "symbolize/elfsym.h"

/* ---- the layout table against DWARF ----------------------------------------- */

struct dwarf_line {
	char path[512], release[64];
	unsigned long long mheap, f[9];
};

static const char *const keys[9] = {"pages",	   "chunks",	"start",
				    "end",	   "in_use",	"in_use_total",
				    "palloc_size", "scavenged", "range_size"};

static bool parse_line(const char *s, struct dwarf_line *d)
{
	char key[32];
	const char *p;

	memset(d, 0, sizeof(*d));
	if (sscanf(s, "%511s release=%63s mheap_=%llu", d->path, d->release, &d->mheap) != 3)
		return false;
	for (int i = 0; i < 9; i++) {
		snprintf(key, sizeof(key), " %s=", keys[i]);
		p = strstr(s, key);
		if (!p || sscanf(p + strlen(key), "%llu", &d->f[i]) != 1)
			return false;
	}
	return true;
}

static int read_offsets(struct dwarf_line *out, int max)
{
	const char *path = getenv("PL_GOHEAP_OFFSETS");
	char buf[2048];
	FILE *f;
	int n = 0;

	f = fopen(path ? path : "build/go/goheap.offsets", "r");
	if (!f)
		fail_msg("no build/go/goheap.offsets: run make workloads");
	while (n < max && fgets(buf, sizeof(buf), f))
		if (parse_line(buf, &out[n]))
			n++;
	fclose(f);
	return n;
}

static void layout_matches(const struct pl_go_layout *l, const struct dwarf_line *d)
{
	const uint32_t ours[9] = {l->pages,	  l->chunks,	l->start,
				  l->end,	  l->in_use,	l->in_use_total,
				  l->palloc_size, l->scavenged, l->range_size};

	for (int i = 0; i < 9; i++)
		if (ours[i] != d->f[i])
			fail_msg("%s (%s): %s is %u in the table, %llu in DWARF", d->path,
				 d->release, keys[i], ours[i], d->f[i]);
}

static void test_layout_table_matches_dwarf(void **state)
{
	struct dwarf_line lines[16];
	int n = read_offsets(lines, 16), checked = 0;

	(void)state;
	assert_true(n >= 2); /* the plain and PIE builds at least */
	for (int i = 0; i < n; i++) {
		const struct pl_go_layout *l;
		int major, minor;

		assert_int_equal(pl_go_parse_version(lines[i].release, &major, &minor), 0);
		l = pl_go_layout_for(major, minor);
		if (!l) {
			print_message("note: %s: %s has no table entry\n", lines[i].path,
				      lines[i].release);
			continue;
		}
		layout_matches(l, &lines[i]);
		checked++;
	}
	assert_true(checked >= 2);
}

/* ---- the binaries: version, symbol, code -------------------------------------- */

static struct pl_elf *open_binary(const char *path)
{
	struct pl_elf *e = pl_elf_open_path(path);

	if (!e)
		fail_msg("cannot read %s", path);
	return e;
}

static bool in_bss(const struct pl_elf *e, uint64_t va);

/* The symbol, and the code scan on the same binary, give DWARF's runtime.mheap_. */
static void check_binary(const struct dwarf_line *d)
{
	struct pl_go_binary b, code;
	struct pl_elf *e = open_binary(d->path);
	char why[256] = "";

	assert_int_equal(pl_go_binary_analyze(e, &b, why, sizeof(why)), PL_GO_BIN_OK);
	assert_string_equal(b.version, d->release);
	assert_string_equal(b.found_by, "symtab");
	assert_int_equal(b.mheap, d->mheap);
	memset(&code, 0, sizeof(code));
	assert_true(pl_go_binary_heap_from_code(e, &code));
	assert_string_equal(code.found_by, "code");
	assert_int_equal(code.mheap, d->mheap);
	assert_true(code.sites >= 2 && 2 * code.sites > code.sites_read);
	assert_true(in_bss(e, code.mheap));
	pl_elf_close(e);
}

/* True if va lies in a segment's zero-filled tail (bss), where mheap_ lives. */
static bool in_bss(const struct pl_elf *e, uint64_t va)
{
	struct pl_elf_segment s;

	for (size_t i = 0; pl_elf_segment(e, i, &s); i++)
		if (va >= s.vaddr + s.filesz && va < s.vaddr + s.memsz)
			return true;
	return false;
}

/*
 * A stripped build: no symbol, so the code scan answers. Its data moves a
 * little against the plain build's (the build settings in .go.buildinfo
 * name the -ldflags), so the address is checked for where it must be
 * here, and against the runtime's own figures end to end (test_goheap.py).
 */
static void check_stripped(const struct dwarf_line *d)
{
	char path[600];
	struct pl_go_binary b;
	struct pl_elf *e;
	char why[256] = "";

	snprintf(path, sizeof(path), "%s-stripped", d->path);
	e = open_binary(path);
	assert_false(pl_elf_object(e, "runtime.mheap_", &b.mheap));
	assert_int_equal(pl_go_binary_analyze(e, &b, why, sizeof(why)), PL_GO_BIN_OK);
	assert_string_equal(b.found_by, "code");
	assert_true(in_bss(e, b.mheap));
	assert_true(b.sites >= 2 && 2 * b.sites > b.sites_read);
	assert_string_equal(b.version, d->release);
	pl_elf_close(e);
}

static void test_mheap_from_symtab_and_from_code(void **state)
{
	struct dwarf_line lines[16];
	int n = read_offsets(lines, 16), stripped = 0;

	(void)state;
	for (int i = 0; i < n; i++) {
		int major, minor;

		pl_go_parse_version(lines[i].release, &major, &minor);
		if (!pl_go_layout_for(major, minor))
			continue;
		check_binary(&lines[i]);
		if (strstr(lines[i].path, "build/go/goheap")) {
			check_stripped(&lines[i]);
			stripped++;
		}
	}
	assert_int_equal(stripped, 2); /* goheap-stripped and goheap-pie-stripped */
}

/* The fuzz seed (make-goheap-seeds.py): two call sites load 0x4005c0, no symbol says so. */
static void test_synthetic_binary_from_code(void **state)
{
	struct pl_elf *e = open_binary("tests/fuzz/corpus/gobinary/mheap-le64.elf");
	struct pl_go_binary b;
	char why[256] = "";

	(void)state;
	assert_int_equal(pl_go_binary_analyze(e, &b, why, sizeof(why)), PL_GO_BIN_OK);
	assert_string_equal(b.version, "go1.19.8");
	assert_string_equal(b.found_by, "code");
	assert_int_equal(b.mheap, 0x4005c0);
	assert_int_equal(b.sites, 2);
	pl_elf_close(e);
}

static void test_non_go_binary_is_not_go(void **state)
{
	struct pl_elf *e = open_binary("/bin/sh");
	struct pl_go_binary b;
	char why[256] = "";

	(void)state;
	assert_int_equal(pl_go_binary_analyze(e, &b, why, sizeof(why)), PL_GO_BIN_NOT_GO);
	assert_non_null(strstr(why, "not a Go binary"));
	pl_elf_close(e);
}

/* ---- versions and build information --------------------------------------------- */

static void test_version_strings(void **state)
{
	int ma, mi;

	(void)state;
	assert_int_equal(pl_go_parse_version("go1.19.8", &ma, &mi), 0);
	assert_true(ma == 1 && mi == 19);
	assert_int_equal(pl_go_parse_version("go1.24rc1", &ma, &mi), 0);
	assert_true(ma == 1 && mi == 24);
	assert_int_equal(pl_go_parse_version("go1.25-20250209-RC00", &ma, &mi), 0);
	assert_true(mi == 25);
	assert_int_equal(pl_go_parse_version("devel +abc", &ma, &mi), -1);
	assert_int_equal(pl_go_parse_version("go1.", &ma, &mi), -1);
	assert_int_equal(pl_go_parse_version("go99999999.1", &ma, &mi), -1);
	assert_null(pl_go_layout_for(1, 18));
	assert_null(pl_go_layout_for(1, 25));
	assert_non_null(pl_go_layout_for(1, 19));
}

#define IMG 256
#define VA 0x500000

static void blob_at(uint8_t *img, size_t at, uint8_t flags)
{
	memcpy(img + at, "\xff Go buildinf:", 14);
	img[at + 14] = 8;
	img[at + 15] = flags;
}

static int version_of(const uint8_t *img, size_t size, char *out, size_t cap)
{
	struct pl_elf_segment seg = {.offset = 0, .filesz = size, .vaddr = VA, .memsz = size};

	return pl_go_buildinfo_version(img, size, &seg, 1, out, cap);
}

static void test_buildinfo_inline_and_pointer_forms(void **state)
{
	uint8_t img[IMG] = {0};
	char v[PL_GO_VERSION_MAX];
	uint64_t hdr = VA + 96, data = VA + 128, len = 8;

	(void)state;
	/* Go 1.18+: uvarint length and the bytes after the 32-byte header. */
	blob_at(img, 16, 2);
	img[48] = 8;
	memcpy(img + 49, "go1.19.8", 8);
	assert_int_equal(version_of(img, sizeof(img), v, sizeof(v)), 0);
	assert_string_equal(v, "go1.19.8");
	/* Cut to the buffer. */
	assert_int_equal(version_of(img, sizeof(img), v, 5), 0);
	assert_string_equal(v, "go1.");
	/* Not 16-byte aligned: not the linker's blob. */
	memset(img, 0, sizeof(img));
	blob_at(img, 24, 2);
	img[56] = 8;
	memcpy(img + 57, "go1.19.8", 8);
	assert_int_equal(version_of(img, sizeof(img), v, sizeof(v)), -1);
	/* Before 1.18: a pointer to a string header {data, len}. */
	memset(img, 0, sizeof(img));
	blob_at(img, 32, 0);
	memcpy(img + 48, &hdr, 8);
	memcpy(img + 96, &data, 8);
	memcpy(img + 104, &len, 8);
	memcpy(img + 128, "go1.16.3", 8);
	assert_int_equal(version_of(img, sizeof(img), v, sizeof(v)), 0);
	assert_string_equal(v, "go1.16.3");
	/* A pointer out of the image, a length past it. */
	hdr = VA + 4096;
	memcpy(img + 48, &hdr, 8);
	assert_int_equal(version_of(img, sizeof(img), v, sizeof(v)), -1);
	hdr = VA + 96, len = 1000;
	memcpy(img + 48, &hdr, 8);
	memcpy(img + 104, &len, 8);
	assert_int_equal(version_of(img, sizeof(img), v, sizeof(v)), -1);
}

static void test_buildinfo_rejects_bad_strings(void **state)
{
	uint8_t img[IMG] = {0};
	char v[PL_GO_VERSION_MAX];

	(void)state;
	blob_at(img, 0, 2);
	img[32] = 8;
	memcpy(img + 33, "go1\n19.8", 8); /* a control byte */
	assert_int_equal(version_of(img, sizeof(img), v, sizeof(v)), -1);
	img[32] = 0x80 | 0x7f; /* a length running off the end */
	img[33] = 0x7f;
	assert_int_equal(version_of(img, sizeof(img), v, sizeof(v)), -1);
	/* Header cut by the end of the image. */
	memset(img, 0, sizeof(img));
	blob_at(img, IMG - 16, 2);
	assert_int_equal(version_of(img, sizeof(img), v, sizeof(v)), -1);
}

/* ---- x86-64 receivers ---------------------------------------------------------- */

/* lea 0x1000(%rip),%rax; [between]; call callee: the receiver, or 0. */
static uint64_t receiver(const uint8_t *between, size_t n, int64_t call_delta)
{
	uint8_t code[128] = {0x48, 0x8d, 0x05, 0x00, 0x10, 0x00, 0x00};
	uint64_t out[4] = {0}, va = 0x401000, callee = 0x402000;
	size_t at = 7 + n, calls = 0;
	int32_t rel;

	if (n) /* between is NULL for none */
		memcpy(code + 7, between, n);
	code[at] = 0xe8;
	rel = (int32_t)((int64_t)callee + call_delta - (int64_t)(va + at + 5));
	memcpy(code + at + 1, &rel, 4);
	if (!pl_x86_call_receivers(code, at + 5, va, callee, out, 4, &calls))
		return 0;
	assert_int_equal(calls, 1);
	return out[0];
}

static void test_x86_receiver_through_harmless_forms(void **state)
{
	/* As Go 1.19 emits them between the LEAQ and the CALL. */
	static const uint8_t forms[] = {
	    0xb9, 0x02, 0x00, 0x00, 0x00,		 /* movl $2, %ecx */
	    0x48, 0x89, 0xd3,				 /* movq %rdx, %rbx */
	    0x0f, 0x1f, 0x40, 0x00,			 /* nopl 0(%rax) */
	    0x48, 0x8b, 0x5c, 0x24, 0x30,		 /* movq 0x30(%rsp), %rbx */
	    0x66, 0x90,					 /* nopw */
	    0x89, 0xd1,					 /* movl %edx, %ecx */
	    0x0f, 0x1f, 0x44, 0x00, 0x00,		 /* nopl 0(%rax,%rax,1) */
	    0x48, 0xc7, 0x43, 0x70, 0,	  0,	0,    0, /* movq $0, 0x70(%rbx) */
	    0x0f, 0xb6, 0x4c, 0x24, 0x60,		 /* movzbl 0x60(%rsp), %ecx */
	    0x88, 0x4c, 0x24, 0x27,			 /* movb %cl, 0x27(%rsp) */
	    0x48, 0x8d, 0x35, 0x3c, 0x10, 0x14, 0x00,	 /* leaq x(%rip), %rsi */
	};

	(void)state;
	assert_int_equal(receiver(NULL, 0, 0), 0x401000 + 7 + 0x1000);
	assert_int_equal(receiver(forms, sizeof(forms), 0), 0x401000 + 7 + 0x1000);
}

static void test_x86_receiver_refused(void **state)
{
	static const uint8_t mov_eax[] = {0xb8, 0x02, 0x00, 0x00, 0x00}; /* movl $2, %eax */
	static const uint8_t mov_to_rax[] = {0x48, 0x89, 0xd8};		 /* movq %rbx, %rax */
	static const uint8_t load_rax[] = {0x48, 0x8b, 0x44, 0x24,
					   0x30};   /* movq 0x30(%rsp), %rax */
	static const uint8_t jump[] = {0xeb, 0x00}; /* jmp .+2 */
	static const uint8_t al[] = {0x88, 0xc8};   /* movb %cl, %al */
	static const uint8_t ah[] = {0x88, 0xcc};   /* movb %cl, %ah */
	static const uint8_t xchg[] = {0x41, 0x90}; /* xchg %r8, %rax */

	(void)state;
	assert_int_equal(receiver(mov_eax, sizeof(mov_eax), 0), 0);
	assert_int_equal(receiver(mov_to_rax, sizeof(mov_to_rax), 0), 0);
	assert_int_equal(receiver(load_rax, sizeof(load_rax), 0), 0);
	assert_int_equal(receiver(jump, sizeof(jump), 0), 0);
	assert_int_equal(receiver(al, sizeof(al), 0), 0);
	assert_int_equal(receiver(ah, sizeof(ah), 0), 0);
	assert_int_equal(receiver(xchg, sizeof(xchg), 0), 0);
}

static void test_x86_other_callee_and_truncation(void **state)
{
	uint8_t code[] = {0x48, 0x8d, 0x05, 0, 0, 0, 0, 0xe8, 0, 0, 0};
	uint64_t out[2];
	size_t calls = 7;
	bool w;

	(void)state;
	assert_int_equal(
	    pl_x86_call_receivers(code, sizeof(code), 0x1000, 0x1000 + 12, out, 2, &calls), 0);
	assert_int_equal(calls, 0);
	/* Every prefix of an instruction is refused, none read past its end. */
	for (size_t n = 0; n < 5; n++)
		assert_int_equal(
		    pl_x86_harmless_len((const uint8_t *)"\x48\x8b\x5c\x24\x30", n, &w), 0);
	assert_int_equal(pl_x86_harmless_len((const uint8_t *)"\x48\x8b\x5c\x24\x30", 5, &w), 5);
	assert_false(w);
}

/* ---- the page allocator over a fake memory -------------------------------------- */

#define MHEAP 0x580000ull
#define L2 0x7f0000000000ull
#define RANGES 0x7f1000000000ull
#define HEAP_BASE 0xc000000000ull

struct region {
	uint64_t addr;
	uint8_t *bytes;
	size_t len;
};

struct fake {
	struct region r[8];
	int n;
	uint64_t resident_mask; /* per 64 pages, repeated */
	int reads, expire_after;
};

static struct region *add_region(struct fake *f, uint64_t addr, size_t len)
{
	struct region *r = &f->r[f->n++];

	r->addr = addr;
	r->len = len;
	r->bytes = calloc(1, len);
	return r;
}

static int fake_read(void *ctx, uint64_t addr, void *buf, size_t len)
{
	struct fake *f = ctx;

	f->reads++;
	for (int i = 0; i < f->n; i++)
		if (addr >= f->r[i].addr && addr - f->r[i].addr <= f->r[i].len &&
		    len <= f->r[i].len - (addr - f->r[i].addr)) {
			memcpy(buf, f->r[i].bytes + (addr - f->r[i].addr), len);
			return 0;
		}
	return -1;
}

static int fake_resident(void *ctx, uint64_t base, uint64_t bits[PL_GO_SYS_PAGES / 64])
{
	struct fake *f = ctx;

	(void)base;
	for (unsigned i = 0; i < PL_GO_SYS_PAGES / 64; i++)
		bits[i] = f->resident_mask;
	return 0;
}

static bool fake_expired(void *ctx)
{
	struct fake *f = ctx;

	return f->expire_after && f->reads > f->expire_after;
}

static void put64(struct region *r, uint64_t off, uint64_t v)
{
	memcpy(r->bytes + off, &v, 8);
}

static uint64_t chunk_of(uint64_t addr)
{
	return (addr - PL_GO_ARENA_BASE) / PL_GO_CHUNK_BYTES;
}

/*
 * One range of two chunks at HEAP_BASE. Chunk 0: pages 0-99 allocated,
 * 100-299 free and scavenged, 300-511 free. Chunk 1: all free, the first
 * 64 scavenged.
 */
static void build_heap(struct fake *f, const struct pl_go_layout *l)
{
	struct region *h = add_region(f, MHEAP, l->pages + l->in_use_total + 8);
	struct region *ch =
	    add_region(f, L2 + (chunk_of(HEAP_BASE) & 8191) * l->palloc_size, 2 * l->palloc_size);
	struct region *rg = add_region(f, RANGES, 16);
	uint64_t pa = l->pages, ci = chunk_of(HEAP_BASE);
	uint64_t *alloc0 = (uint64_t *)ch->bytes, *scav0 = (uint64_t *)(ch->bytes + l->scavenged);
	uint64_t *scav1 = (uint64_t *)(ch->bytes + l->palloc_size + l->scavenged);

	put64(h, pa + l->start, ci);
	put64(h, pa + l->end, ci + 2);
	put64(h, pa + l->in_use, RANGES);
	put64(h, pa + l->in_use + 8, 1);
	put64(h, pa + l->in_use + 16, 4);
	put64(h, pa + l->in_use_total, 2 * PL_GO_CHUNK_BYTES);
	put64(h, pa + l->chunks + (ci >> 13) * 8, L2);
	put64(rg, 0, HEAP_BASE);
	put64(rg, 8, HEAP_BASE + 2 * PL_GO_CHUNK_BYTES);
	for (unsigned p = 0; p < 100; p++)
		alloc0[p / 64] |= 1ull << (p % 64);
	for (unsigned p = 100; p < 300; p++)
		scav0[p / 64] |= 1ull << (p % 64);
	scav1[0] = ~0ull;
	f->resident_mask = ~0ull;
}

static void free_fake(struct fake *f)
{
	for (int i = 0; i < f->n; i++)
		free(f->r[i].bytes);
}

static int read_fake(struct fake *f, struct pl_go_heap *out, char *why)
{
	const struct pl_go_mem m = {fake_read, fake_resident, fake_expired, f};

	memset(out, 0, sizeof(*out));
	return pl_go_pagealloc_read(pl_go_layout_for(1, 19), MHEAP, &m, out, why, 128);
}

static void test_pagealloc_sums_the_bitmaps(void **state)
{
	const struct pl_go_layout *l = pl_go_layout_for(1, 19);
	struct fake f = {0};
	struct pl_go_heap h;
	char why[128] = "";

	(void)state;
	build_heap(&f, l);
	assert_int_equal(read_fake(&f, &h, why), 0);
	assert_int_equal(h.total.inuse, 100 * 8192);
	assert_int_equal(h.total.released, (200 + 64) * 8192);
	assert_int_equal(h.total.idle, (200 + 212 + 512) * 8192);
	assert_int_equal(h.total.retained, (212 + 448) * 8192);
	assert_int_equal(h.total.inuse_resident, 100 * 8192);
	assert_int_equal(h.n_ranges, 1);
	assert_int_equal(h.ranges[0].base, HEAP_BASE);
	assert_int_equal(h.inconsistent_pages, 0);
	/* Every other 4 KiB page resident: half of each Go page. */
	f.resident_mask = 0x5555555555555555ull;
	assert_int_equal(read_fake(&f, &h, why), 0);
	assert_int_equal(h.total.retained, (212 + 448) * 4096);
	assert_int_equal(h.total.inuse_resident, 100 * 4096);
	free_fake(&f);
}

static void expect_refused(struct fake *f, const char *needle)
{
	struct pl_go_heap h;
	char why[128] = "";

	assert_int_equal(read_fake(f, &h, why), -1);
	if (!strstr(why, needle))
		fail_msg("expected \"%s\", got \"%s\"", needle, why);
}

static void test_pagealloc_refuses_what_no_heap_looks_like(void **state)
{
	const struct pl_go_layout *l = pl_go_layout_for(1, 19);
	struct fake f = {0};
	struct region *h, *rg;

	(void)state;
	build_heap(&f, l);
	h = &f.r[0], rg = &f.r[2];
	put64(h, l->pages + l->in_use + 8, 5); /* len > cap */
	expect_refused(&f, "ranges are not sane");
	put64(h, l->pages + l->in_use + 8, 1);
	put64(h, l->pages + l->in_use_total, 3 * PL_GO_CHUNK_BYTES);
	expect_refused(&f, "changed while read");
	put64(h, l->pages + l->in_use_total, 2 * PL_GO_CHUNK_BYTES);
	put64(rg, 8, HEAP_BASE + 8 * PL_GO_CHUNK_BYTES); /* past end */
	expect_refused(&f, "outside");
	put64(rg, 8, HEAP_BASE + 2 * PL_GO_CHUNK_BYTES + 4096); /* not chunk-aligned */
	expect_refused(&f, "not sane");
	put64(rg, 8, HEAP_BASE + 2 * PL_GO_CHUNK_BYTES);
	put64(h, l->pages + l->chunks + (chunk_of(HEAP_BASE) >> 13) * 8, 0);
	expect_refused(&f, "no bitmap");
	put64(h, l->pages + l->chunks + (chunk_of(HEAP_BASE) >> 13) * 8, L2 + 4096);
	expect_refused(&f, "not readable");
	put64(h, l->pages + l->chunks + (chunk_of(HEAP_BASE) >> 13) * 8, L2);
	/* Bitmaps that say allocated and scavenged at once, everywhere. */
	memset(f.r[1].bytes, 0xff, 2 * l->palloc_size);
	expect_refused(&f, "do not read as a page allocator's");
	f.expire_after = 3;
	expect_refused(&f, "too long");
	free_fake(&f);
}

static void test_pagealloc_caps_the_chunks(void **state)
{
	const struct pl_go_layout *l = pl_go_layout_for(1, 19);
	uint64_t ci = chunk_of(HEAP_BASE), big = (uint64_t)(PL_GO_MAX_CHUNKS + 1);
	struct fake f = {0};
	struct region *h, *rg;

	(void)state;
	build_heap(&f, l);
	h = &f.r[0], rg = &f.r[2];
	put64(h, l->pages + l->end, ci + big);
	put64(rg, 8, HEAP_BASE + big * PL_GO_CHUNK_BYTES);
	put64(h, l->pages + l->in_use_total, big * PL_GO_CHUNK_BYTES);
	expect_refused(&f, "more 4 MiB chunks");
	/* Not read at all: chunk bounds past the address space. */
	put64(h, l->pages + l->end, 1ull << 40);
	expect_refused(&f, "chunk bounds");
	free_fake(&f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_layout_table_matches_dwarf),
	    cmocka_unit_test(test_mheap_from_symtab_and_from_code),
	    cmocka_unit_test(test_synthetic_binary_from_code),
	    cmocka_unit_test(test_non_go_binary_is_not_go),
	    cmocka_unit_test(test_version_strings),
	    cmocka_unit_test(test_buildinfo_inline_and_pointer_forms),
	    cmocka_unit_test(test_buildinfo_rejects_bad_strings),
	    cmocka_unit_test(test_x86_receiver_through_harmless_forms),
	    cmocka_unit_test(test_x86_receiver_refused),
	    cmocka_unit_test(test_x86_other_callee_and_truncation),
	    cmocka_unit_test(test_pagealloc_sums_the_bitmaps),
	    cmocka_unit_test(test_pagealloc_refuses_what_no_heap_looks_like),
	    cmocka_unit_test(test_pagealloc_caps_the_chunks),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
