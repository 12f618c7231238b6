/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * One ELF binary's function symbols (.symtab and .dynsym) and its PT_LOAD
 * segments, read with libelf from a private in-memory copy of the file.
 * The file belongs to an untrusted user: a malformed or hostile one yields
 * fewer or no symbols, never a crash, and every size is capped.
 *
 * The copy is kept (pl_elf_image) so another parser, Go's pclntab, reads
 * the very same bytes; drop it once nothing needs it. Symbol names are
 * copied out, so they outlive the copy.
 */
#ifndef PL_ELFSYM_H
#define PL_ELFSYM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define PL_ELF_MAX_FILE (1ull << 30)	  /* bytes read from one binary */
#define PL_ELF_MAX_SYMBOLS (1u << 21)	  /* symbols considered per binary */
#define PL_ELF_MAX_NAME 1024		  /* longer names are cut to this */
#define PL_ELF_MAX_NAME_BYTES (64u << 20) /* all names of one binary */
#define PL_ELF_MAX_SEGMENTS 256		  /* PT_LOAD entries kept */

struct pl_elf;

/*
 * Reads the regular file behind fd (which stays open and is not moved)
 * and loads it. Returns NULL if fd is not a regular file that starts like
 * an ELF file, is over PL_ELF_MAX_FILE, or memory ran out. A file that is
 * ELF only at first glance still gives an object, just without symbols.
 */
struct pl_elf *pl_elf_open_fd(int fd);
/* Same, for a trusted path (the symbolizer opens untrusted ones itself). */
struct pl_elf *pl_elf_open_path(const char *path);
/* Loads from a copy of size bytes at image. NULL only if memory ran out. */
struct pl_elf *pl_elf_from_memory(const void *image, size_t size);

/* The file's bytes, or NULL once dropped. */
const uint8_t *pl_elf_image(const struct pl_elf *e, size_t *size);
/* Frees the bytes; symbols and segments stay usable. */
void pl_elf_drop_image(struct pl_elf *e);

size_t pl_elf_symbol_count(const struct pl_elf *e);
size_t pl_elf_segment_count(const struct pl_elf *e);
/*
 * Link-time virtual address of a file offset, through the PT_LOAD segment
 * that holds it (for PIE and shared libraries: an address's file offset is
 * addr - map_start + map_offset). Returns false if no segment holds it.
 */
bool pl_elf_offset_to_vaddr(const struct pl_elf *e, uint64_t file_off, uint64_t *vaddr);
/*
 * The function containing vaddr and its start address, or NULL. The name
 * lives as long as e.
 */
const char *pl_elf_lookup(const struct pl_elf *e, uint64_t vaddr, uint64_t *start);
void pl_elf_close(struct pl_elf *e);

/* ---- for readers of a Go binary's data (user/goheap) ---------------------- */

/* One PT_LOAD segment kept: file bytes [offset, offset+filesz) at vaddr. */
struct pl_elf_segment {
	uint64_t offset, filesz, vaddr, memsz; /* memsz >= filesz; the rest is zeros (bss) */
};

/* The i-th segment kept (i < pl_elf_segment_count). False past the end. */
bool pl_elf_segment(const struct pl_elf *e, size_t i, struct pl_elf_segment *out);
/*
 * The value of the data object (STT_OBJECT) called name in .symtab, read
 * from the kept image (false once dropped, or if there is none). A linear
 * pass over the table, capped at PL_ELF_MAX_SYMBOLS entries.
 */
bool pl_elf_object(const struct pl_elf *e, const char *name, uint64_t *value);

#endif
