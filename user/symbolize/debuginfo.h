/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * Separate debug files, when the machine has them: a stripped binary's
 * local function names (glibc's sysmalloc, systrim, _int_free; ld.so's
 * internals) live in a .debug file that packages such as libc6-dbg install
 * under /usr/lib/debug/.build-id/xx/yyyy.debug, named by the binary's
 * NT_GNU_BUILD_ID note, or beside it as .gnu_debuglink names it (checked
 * by its CRC-32). Nothing is ever downloaded.
 *
 * The binary is the target's (untrusted); the debug directory is ours: a
 * debug file is used only if root owns it, no one else may write it, and
 * it carries the same build ID (or, by debuglink, the same CRC).
 */
#ifndef PL_DEBUGINFO_H
#define PL_DEBUGINFO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define PL_BUILD_ID_MAX 64   /* bytes; GNU ld writes 20 (SHA-1) */
#define PL_DEBUGLINK_MAX 256 /* a debuglink file name, NUL included */
#define PL_DEBUG_ROOT "/usr/lib/debug"

struct pl_elf;

/*
 * Pure: the build ID in a note section's bytes (a sequence of notes, each
 * 4-aligned): its length, or 0 if none is there. Bounds-checked.
 */
size_t pl_parse_build_id_notes(const uint8_t *buf, size_t len, bool big_endian, uint8_t *id,
			       size_t cap);
/* Pure: a .gnu_debuglink section: the file name (NUL-terminated into name) and its CRC. */
bool pl_parse_debuglink(const uint8_t *buf, size_t len, bool big_endian, char *name, size_t cap,
			uint32_t *crc);

/* While e loads: its build ID (0: none), and its debuglink (false: none). */
size_t pl_elf_build_id(const struct pl_elf *e, uint8_t *id, size_t cap);
bool pl_elf_debuglink(const struct pl_elf *e, char *name, size_t cap, uint32_t *crc);

/*
 * The debug file of e (still loading), opened and loaded, or NULL: by build
 * ID under root, then by debuglink beside path (the binary's own path, as
 * its process names it, looked up in our root: root/DIR/NAME, then
 * DIR/.debug/NAME under root, then root/.build-id/xx/NAME as Debian writes
 * it). The caller ends its load and closes it.
 */
struct pl_elf *pl_debuginfo_open(const struct pl_elf *e, const char *path, const char *root);

#endif
