// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <stdio.h>
#include <string.h>
#include "goheap/gobinary.h"
#include "goheap/x86scan.h"
#include "symbolize/gopclntab.h"

#define SEGMENTS_MAX PL_ELF_MAX_SEGMENTS

/* Methods only ever called on &mheap_, the one heap there is. */
static const char *const heap_methods[] = {
    "runtime.(*mheap).alloc",
    "runtime.(*mheap).allocManual",
    "runtime.(*mheap).freeManual",
    "runtime.(*mheap).freeSpan",
};

struct image {
	const uint8_t *b;
	size_t n;
	struct pl_elf_segment segs[SEGMENTS_MAX];
	size_t nsegs;
};

static void load_segments(struct pl_elf *e, struct image *im)
{
	im->nsegs = 0;
	while (im->nsegs < SEGMENTS_MAX && pl_elf_segment(e, im->nsegs, &im->segs[im->nsegs]))
		im->nsegs++;
}

/* ELFCLASS64, little-endian, EM_X86_64: the only code this reader decodes. */
static bool is_x86_64(const struct image *im)
{
	return im->n >= 20 && im->b[4] == 2 && im->b[5] == 1 && im->b[18] == 62 && im->b[19] == 0;
}

/* The segment whose memory image holds va (bss included), or NULL. */
static const struct pl_elf_segment *segment_of(const struct image *im, uint64_t va, bool file_only)
{
	for (size_t i = 0; i < im->nsegs; i++) {
		const struct pl_elf_segment *s = &im->segs[i];
		uint64_t size = file_only ? s->filesz : s->memsz;

		if (va >= s->vaddr && va - s->vaddr < size)
			return s;
	}
	return NULL;
}

#define SCAN_WINDOW (1u << 20)

/*
 * The receivers the callers of one method load, from the segment holding
 * its code, read through the file in windows: scanning a server's tens of
 * MiB of code through the mapping would make every page of it our RSS.
 */
static size_t method_receivers(struct pl_elf *e, const struct image *im, uint64_t entry,
			       uint64_t *out, size_t max)
{
	static uint8_t buf[PL_X86_LEA_WINDOW + SCAN_WINDOW + 4];
	const struct pl_elf_segment *s = segment_of(im, entry, true);
	size_t found = 0;

	if (!s || s->offset >= im->n)
		return 0;
	for (uint64_t at = 0; at < s->filesz && found < max; at += SCAN_WINDOW) {
		size_t back = at < PL_X86_LEA_WINDOW ? (size_t)at : PL_X86_LEA_WINDOW;
		uint64_t left = s->filesz - at;
		size_t want = back + (left < SCAN_WINDOW + 4 ? (size_t)left : SCAN_WINDOW + 4);
		size_t got = pl_elf_read(e, s->offset + at - back, buf, want);

		found += pl_x86_call_receivers_in(buf, got, back, back + SCAN_WINDOW,
						  s->vaddr + at - back, entry, out + found,
						  max - found, NULL);
		if (got < want)
			break;
	}
	return found;
}

/* The address most call sites agree on; *votes gets how many do. */
static uint64_t majority(const uint64_t *v, size_t n, unsigned *votes)
{
	uint64_t best = 0;
	unsigned best_n = 0;

	for (size_t i = 0; i < n; i++) {
		unsigned c = 0;

		for (size_t j = 0; j < n; j++)
			c += v[j] == v[i];
		if (c > best_n)
			best = v[i], best_n = c;
	}
	*votes = best_n;
	return best;
}

/*
 * Every method's call sites, until two agree. An address taken must be a
 * strict majority of the receivers read and lie in the binary's memory.
 */
static bool heap_from_code(struct pl_elf *e, const struct image *im, const struct pl_pclntab *t,
			   struct pl_go_binary *out)
{
	uint64_t found[PL_GO_SITES_MAX * 4];
	size_t n = 0;
	unsigned votes = 0;
	uint64_t addr = 0;

	for (size_t m = 0; m < sizeof(heap_methods) / sizeof(heap_methods[0]); m++) {
		uint64_t entry = pl_pclntab_func_entry(t, heap_methods[m]);

		if (entry)
			n += method_receivers(e, im, entry, found + n, PL_GO_SITES_MAX);
		addr = majority(found, n, &votes);
		if (votes >= 2 && 2 * votes > n)
			break;
	}
	if (!votes || 2 * votes <= n || !segment_of(im, addr, false))
		return false;
	out->mheap = addr;
	out->found_by = "code";
	out->sites = votes;
	out->sites_read = (unsigned)n;
	return true;
}

/*
 * The version, from the .go.buildinfo section when the binary names one
 * (it is listed first, so the scan finds the blob at once instead of
 * reading the segments that come before it), else from a scan of every
 * segment.
 */
static int buildinfo_version(struct pl_elf *e, const struct image *im, char *out, size_t cap)
{
	struct pl_elf_segment segs[SEGMENTS_MAX + 1];
	struct pl_elf_section sec;
	size_t n = 0;

	for (size_t i = 1; pl_elf_section(e, i, &sec); i++) {
		if (sec.name && !strcmp(sec.name, ".go.buildinfo") && sec.size) {
			segs[n++] = (struct pl_elf_segment){.offset = sec.offset,
							    .filesz = sec.size,
							    .vaddr = sec.addr,
							    .memsz = sec.size};
			break;
		}
	}
	memcpy(segs + n, im->segs, im->nsegs * sizeof(segs[0]));
	return pl_go_buildinfo_version(im->b, im->n, segs, n + im->nsegs, out, cap);
}

static enum pl_go_binary_status check_release(struct pl_go_binary *out, char *why, size_t len)
{
	int major, minor;

	if (pl_go_parse_version(out->version, &major, &minor)) {
		snprintf(why, len, "Go binary with an unreadable version \"%s\"", out->version);
		return PL_GO_BIN_UNSUPPORTED;
	}
	out->layout = pl_go_layout_for(major, minor);
	if (!out->layout) {
		snprintf(why, len, "%s: no page-allocator layout for Go %d.%d (known: %s)",
			 out->version, major, minor, pl_go_layouts_known());
		return PL_GO_BIN_UNSUPPORTED;
	}
	return PL_GO_BIN_OK;
}

static enum pl_go_binary_status find_heap(struct pl_elf *e, const struct image *im,
					  const struct pl_pclntab *t, struct pl_go_binary *out,
					  char *why, size_t len)
{
	if (pl_elf_object(e, "runtime.mheap_", &out->mheap)) {
		out->found_by = "symtab";
		return PL_GO_BIN_OK;
	}
	if (heap_from_code(e, im, t, out))
		return PL_GO_BIN_OK;
	snprintf(why, len,
		 "%s: no runtime.mheap_ in .symtab, and no caller of runtime.(*mheap).alloc "
		 "loads it",
		 out->version);
	return PL_GO_BIN_NO_HEAP;
}

bool pl_go_binary_heap_from_code(struct pl_elf *e, struct pl_go_binary *out)
{
	struct pl_pclntab *t;
	struct image im;
	bool found;

	im.b = pl_elf_image(e, &im.n);
	load_segments(e, &im);
	t = im.b && is_x86_64(&im) ? pl_pclntab_open(e) : NULL;
	if (!t)
		return false;
	found = heap_from_code(e, &im, t, out);
	pl_pclntab_close(t);
	return found;
}

enum pl_go_binary_status pl_go_binary_analyze(struct pl_elf *e, struct pl_go_binary *out, char *why,
					      size_t whylen)
{
	struct image im;
	enum pl_go_binary_status st;
	struct pl_pclntab *t;

	memset(out, 0, sizeof(*out));
	im.b = pl_elf_image(e, &im.n);
	load_segments(e, &im);
	t = im.b ? pl_pclntab_open(e) : NULL;
	if (!t) {
		snprintf(why, whylen, "not a Go binary (no Go function table)");
		return PL_GO_BIN_NOT_GO;
	}
	if (buildinfo_version(e, &im, out->version, sizeof(out->version))) {
		snprintf(why, whylen, "Go binary without build information: release unknown");
		st = PL_GO_BIN_UNSUPPORTED;
	} else if (!is_x86_64(&im)) {
		snprintf(why, whylen, "%s: not an x86-64 binary", out->version);
		st = PL_GO_BIN_UNSUPPORTED;
	} else {
		st = check_release(out, why, whylen);
		if (st == PL_GO_BIN_OK)
			st = find_heap(e, &im, t, out, why, whylen);
	}
	pl_pclntab_close(t);
	return st;
}
