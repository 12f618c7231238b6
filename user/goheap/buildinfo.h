/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * The Go version a binary was built with, from its build information blob
 * (.go.buildinfo, which stripped binaries keep too): a 32-byte header
 * "\xff Go buildinf:", pointer size, flags, then either (flags bit 2, Go
 * 1.18+) the version as a uvarint-prefixed string, or (before) two
 * pointers to Go strings, of which the first is the version. Read from an
 * image a user controls: every read is bounds-checked and capped.
 */
#ifndef PL_GOHEAP_BUILDINFO_H
#define PL_GOHEAP_BUILDINFO_H

#include <stddef.h>
#include <stdint.h>
#include "symbolize/elfsym.h"

#define PL_GO_VERSION_MAX 64 /* longest version string kept */

/*
 * Finds the blob in the segments' file bytes (16-byte aligned, as the
 * linker puts it) and copies the version ("go1.19.8") into out, cut to
 * cap - 1 bytes and NUL-terminated. Returns 0, or -1 if there is none or it
 * does not parse.
 */
int pl_go_buildinfo_version(const uint8_t *image, size_t size, const struct pl_elf_segment *segs,
			    size_t nsegs, char *out, size_t cap);

#endif
