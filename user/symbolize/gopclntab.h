/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * Go's pc-line table (.gopclntab), every layout from Go 1.2 to today, read
 * from an ELF image that an untrusted user controls: every read
 * is bounds-checked, and a malformed table yields "not found", never a
 * crash or a hang. Stripped binaries (-ldflags=-s -w) keep this table, so
 * they still symbolize, inlined frames included.
 */
#ifndef PL_GOPCLNTAB_H
#define PL_GOPCLNTAB_H

#include <stddef.h>
#include <stdint.h>

struct pl_pclntab;

struct pl_go_frame {
	const char *func; /* "runtime.(*pageAlloc).scavengeOne"; see pl_pclntab_lookup */
	const char *file; /* may be NULL */
	int line;	  /* 0 if unknown */
};

struct pl_elf;

/*
 * Finds and validates the table in a binary elfsym loaded, while it is
 * loading (before pl_elf_end_load): its sections, symbols and relocations
 * come from that one libelf handle, and the table is read from its image,
 * which the caller keeps until pl_pclntab_close. Returns NULL if there is
 * none or it is malformed.
 */
struct pl_pclntab *pl_pclntab_open(struct pl_elf *elf);
/* The Go version family the magic names: 12, 116, 118 or 120. */
int pl_pclntab_version(const struct pl_pclntab *t);
/*
 * Frames for pc (a link-time virtual address, as in the ELF file), innermost
 * first: inlined callees, then the function that contains pc. Returns the
 * number of frames written (0: pc is in no Go function). The names are
 * copies, valid until the next lookup on t: the file's owner may rewrite
 * the image under us, so nothing returned points into it.
 */
int pl_pclntab_lookup(struct pl_pclntab *t, uint64_t pc, struct pl_go_frame *out, int max);
/*
 * For tests and symbolization checks: the link-time entry address of the
 * (non-inlined) function called name, or 0 if there is none. A linear scan
 * of every function; not for hot paths.
 */
uint64_t pl_pclntab_func_entry(const struct pl_pclntab *t, const char *name);
void pl_pclntab_close(struct pl_pclntab *t);

#endif
