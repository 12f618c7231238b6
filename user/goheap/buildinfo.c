// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#ifndef _GNU_SOURCE
#define _GNU_SOURCE /* memmem */
#endif
#include <string.h>
#include "goheap/buildinfo.h"

#define MAGIC "\xff Go buildinf:"
#define MAGIC_LEN 14
#define HEADER 32
#define FLAG_BIG_ENDIAN 1
#define FLAG_INLINE 2
#define BLOBS_TRIED 16 /* magic look-alikes a hostile image may plant */

static uint64_t load(const uint8_t *p, unsigned n, bool big)
{
	uint64_t v = 0;

	for (unsigned i = 0; i < n; i++)
		v |= (uint64_t)p[big ? n - 1 - i : i] << (8 * i);
	return v;
}

/* File offset of [va, va+len) if one segment's file bytes hold all of it. */
static bool va_to_off(const struct pl_elf_segment *segs, size_t nsegs, size_t size, uint64_t va,
		      uint64_t len, uint64_t *off)
{
	for (size_t i = 0; i < nsegs; i++) {
		const struct pl_elf_segment *s = &segs[i];

		if (va < s->vaddr || va - s->vaddr > s->filesz || len > s->filesz - (va - s->vaddr))
			continue;
		*off = s->offset + (va - s->vaddr);
		if (*off < s->offset || *off > size || len > size - *off)
			return false;
		return true;
	}
	return false;
}

static int copy_out(const uint8_t *s, uint64_t len, char *out, size_t cap)
{
	size_t n = len < cap - 1 ? (size_t)len : cap - 1;

	if (len == 0)
		return -1;
	/* Printed as it is, so printable ASCII only: "go1.19.8", "devel +abc". */
	for (size_t i = 0; i < n; i++)
		if (s[i] < 0x20 || s[i] > 0x7e)
			return -1;
	memcpy(out, s, n);
	out[n] = '\0';
	return 0;
}

/* Go 1.18+: a uvarint length, then the bytes. */
static int inline_version(const uint8_t *p, size_t avail, char *out, size_t cap)
{
	uint64_t len = 0;
	size_t i;

	for (i = 0; i < avail && i < 10; i++) {
		len |= (uint64_t)(p[i] & 0x7f) << (7 * i);
		if (!(p[i] & 0x80))
			break;
	}
	if (i >= avail || i >= 10 || len > avail - i - 1)
		return -1;
	return copy_out(p + i + 1, len, out, cap);
}

/* Before 1.18: a pointer to a Go string header {data, len}. */
static int pointed_version(const uint8_t *image, size_t size, const struct pl_elf_segment *segs,
			   size_t nsegs, const uint8_t *blob, char *out, size_t cap)
{
	unsigned ps = blob[14];
	bool big = blob[15] & FLAG_BIG_ENDIAN;
	uint64_t hdr, off, data, len;

	if (ps != 4 && ps != 8)
		return -1;
	hdr = load(blob + 16, ps, big);
	if (!va_to_off(segs, nsegs, size, hdr, 2ull * ps, &off))
		return -1;
	data = load(image + off, ps, big);
	len = load(image + off + ps, ps, big);
	if (len > PL_GO_VERSION_MAX || !va_to_off(segs, nsegs, size, data, len, &off))
		return -1;
	return copy_out(image + off, len, out, cap);
}

static int blob_version(const uint8_t *image, size_t size, const struct pl_elf_segment *segs,
			size_t nsegs, uint64_t at, char *out, size_t cap)
{
	const uint8_t *blob = image + at;

	if (blob[15] & FLAG_INLINE)
		return inline_version(blob + HEADER, size - at - HEADER, out, cap);
	return pointed_version(image, size, segs, nsegs, blob, out, cap);
}

/* Blobs in one segment's file bytes, at 16-byte aligned addresses. */
static int scan_segment(const uint8_t *image, size_t size, const struct pl_elf_segment *segs,
			size_t nsegs, const struct pl_elf_segment *s, unsigned *tried, char *out,
			size_t cap)
{
	uint64_t end = s->offset + s->filesz, at = s->offset;

	if (end < s->offset || end > size)
		end = size;
	while (at + HEADER <= end && *tried < BLOBS_TRIED) {
		const uint8_t *hit = memmem(image + at, end - at, MAGIC, MAGIC_LEN);

		if (!hit)
			return -1;
		at = (uint64_t)(hit - image);
		if (at + HEADER <= end && ((s->vaddr + (at - s->offset)) & 15) == 0) {
			(*tried)++;
			if (!blob_version(image, size, segs, nsegs, at, out, cap))
				return 0;
		}
		at++;
	}
	return -1;
}

int pl_go_buildinfo_version(const uint8_t *image, size_t size, const struct pl_elf_segment *segs,
			    size_t nsegs, char *out, size_t cap)
{
	unsigned tried = 0;

	if (!image || cap < 2)
		return -1;
	for (size_t i = 0; i < nsegs; i++) {
		if (segs[i].offset >= size)
			continue;
		if (!scan_segment(image, size, segs, nsegs, &segs[i], &tried, out, cap))
			return 0;
	}
	return -1;
}
