/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * One ELF binary's function symbols (.symtab and .dynsym) and its PT_LOAD
 * segments, read with libelf. The file belongs to an untrusted user: a
 * malformed or hostile one yields fewer or no symbols, never a crash, and
 * what it may cost is capped (the PL_ELF_MAX_* budgets below). Whatever a
 * budget leaves out is counted in pl_elf_skips().
 *
 * The file is mapped read-only (pl_elf_image: the view) and never copied,
 * so another parser, Go's pclntab, reads it lazily: a page costs memory
 * only once read. Symbol names are copied out, so they outlive the view.
 */
#ifndef PL_ELFSYM_H
#define PL_ELFSYM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/*
 * Budgets, per binary. Mapping a file costs address space, not memory, so
 * the file cap is large; what is read or kept is what is bounded.
 */
#define PL_ELF_MAX_FILE (16ull << 30)	      /* larger files are not read at all */
#define PL_ELF_MAX_SECTIONS 16384u	      /* more section headers: none are read */
#define PL_ELF_MAX_PHDRS 1024u		      /* more program headers: none are read */
#define PL_ELF_MAX_SECTION_NAMES (256u << 10) /* .shstrtab read in */
#define PL_ELF_MAX_TABLE (32u << 20)	      /* one symbol table, streamed */
#define PL_ELF_MAX_STRINGS (16u << 20)	      /* the string table it names */
#define PL_ELF_MAX_READ (64u << 20)	      /* all tables of one file, streamed */
#define PL_ELF_MAX_SYMBOLS (1u << 18)	      /* symbols kept */
#define PL_ELF_MAX_NAME 1024		      /* longer names are cut to this */
#define PL_ELF_MAX_NAME_BYTES (6u << 20)      /* all names kept */
#define PL_ELF_MAX_SEGMENTS 256		      /* PT_LOAD entries kept */

struct pl_elf;

/* What the budgets left out of one binary (all zero when nothing was). */
struct pl_elf_skips {
	unsigned parts;	 /* tables (or header tables, or the whole file) left out */
	uint64_t bytes;	 /* their sizes, as the file gives them */
	char first[112]; /* the first one, e.g. "symbol table [5], 25.0M: over the 32.0M a table may
			    have" */
};

/*
 * Maps the regular file behind fd and loads it. fd stays open and is not
 * moved; the object reads through its own duplicate until pl_elf_end_load.
 * Returns NULL if fd is not a regular file that starts like an ELF file,
 * or memory ran out. A file that is ELF only at first glance, or is over
 * budget, still gives an object, just with fewer or no symbols.
 */
struct pl_elf *pl_elf_open_fd(int fd);
/* Same, for a trusted path (the symbolizer opens untrusted ones itself). */
struct pl_elf *pl_elf_open_path(const char *path);
/* Loads from a private copy of size bytes at image. NULL only if memory ran out. */
struct pl_elf *pl_elf_from_memory(const void *image, size_t size);
/*
 * Loads from image itself, no copy: the caller keeps it alive and
 * unchanged as long as the object (fuzzers and tests, whose buffers end
 * at a guard).
 */
struct pl_elf *pl_elf_from_buffer(const void *image, size_t size);
/*
 * Ends loading: frees what only loading needs (libelf's handle, the
 * headers read in, the duplicate descriptor) and gives back the pages of
 * the view that loading read. Called by the owner once every parser that
 * reads through this object has opened; idempotent.
 */
void pl_elf_end_load(struct pl_elf *e);

/*
 * The file's bytes: the read-only view, or NULL once dropped (or if the
 * file could not be mapped). Another user may change the file under a
 * view: readers check every read, and copy out what they keep. A file cut
 * short under a view reads as zeros past its new end, never faults.
 */
const uint8_t *pl_elf_image(const struct pl_elf *e, size_t *size);
/* Unmaps the view; symbols and segments stay usable. */
void pl_elf_drop_image(struct pl_elf *e);

/*
 * While loading (until pl_elf_end_load), the same libelf handle serves
 * other parsers of the file (Go's pclntab): its class, sections, program
 * headers, relocations and symbols, and reads of its bytes. Reads go
 * through the descriptor, not the view, so they cost no memory of ours.
 */
struct pl_elf_info {
	bool is64, big_endian;
	uint16_t machine;
};
struct pl_elf_section {
	const char *name; /* NULL if it has none (the name table's, while loading) */
	uint32_t type, link;
	uint64_t flags, addr, offset, size, entsize;
};
struct pl_elf_phdr {
	uint32_t type, flags;
	uint64_t offset, vaddr, filesz, memsz;
};
/* False if the file is not ELF (or loading has ended). */
bool pl_elf_info(const struct pl_elf *e, struct pl_elf_info *out);
/* Section i, from 0 (the null section); false past the last one. */
bool pl_elf_section(const struct pl_elf *e, size_t i, struct pl_elf_section *out);
/* Program header i; false past the last one. */
bool pl_elf_program_header(const struct pl_elf *e, size_t i, struct pl_elf_phdr *out);
/* Up to len bytes of the file at off into buf; returns how many. */
size_t pl_elf_read(const struct pl_elf *e, uint64_t off, void *buf, size_t len);
/* Each entry (offset, type, addend) of SHT_RELA section i, until fn returns false. */
typedef bool (*pl_elf_rela_fn)(void *ctx, uint64_t offset, uint32_t type, uint64_t addend);
void pl_elf_each_rela(struct pl_elf *e, size_t i, pl_elf_rela_fn fn, void *ctx);
/* The value of the first symbol called name in symbol table section i. */
bool pl_elf_find_symbol(struct pl_elf *e, size_t i, const char *name, uint64_t *value);

const struct pl_elf_skips *pl_elf_skips(const struct pl_elf *e);
/* Bytes the object keeps (symbols, names, segments): for the caller's own budget. */
size_t pl_elf_kept_bytes(const struct pl_elf *e);

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
 * The value of the symbol called name in .symtab (a data object such as
 * runtime.mheap_), while the file is loading (before pl_elf_end_load): the
 * table is streamed through the loader's budgeted reads.
 */
bool pl_elf_object(struct pl_elf *e, const char *name, uint64_t *value);

#endif
