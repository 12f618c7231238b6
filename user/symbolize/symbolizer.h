/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * User-space addresses of a live process to function names: its mappings
 * from /proc/PID/maps, each binary's ELF .symtab/.dynsym (libelf) and Go
 * .gopclntab. Each binary is read once and cached, keyed by device and
 * inode. Binaries are opened through /proc/PID/map_files (then
 * /proc/PID/root) so a replaced or deleted file still resolves.
 */
#ifndef PL_SYMBOLIZER_H
#define PL_SYMBOLIZER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

struct pl_symbolizer;

struct pl_frame {
	uint64_t addr;	    /* the address asked about */
	const char *func;   /* symbol or Go function; NULL if unknown */
	uint64_t func_off;  /* addr - symbol start (0 for Go inlined frames) */
	const char *module; /* path of the mapped binary; NULL if unmapped */
	const char *file;   /* Go source file, or NULL */
	int line;	    /* Go source line, or 0 */
	bool inlined;	    /* an inlined Go frame inside the next one */
	bool code;	    /* addr is in an executable mapping */
};

struct pl_symbolizer *pl_symbolizer_new(void);
/*
 * Where the symbolizer's one-line warnings go (a binary over budget, named
 * once). msg holds the binary's name as its mappings give it: raw, not
 * escaped. Without a function, warnings are only counted.
 */
typedef void (*pl_symbolizer_warn_fn)(void *ctx, const char *msg);
void pl_symbolizer_set_warn(struct pl_symbolizer *s, pl_symbolizer_warn_fn fn, void *ctx);
/* Binaries that a budget cut short (or left unread) so far. */
size_t pl_symbolizer_over_budget(const struct pl_symbolizer *s);
/*
 * Where separate debug files are looked for (debuginfo.h; default
 * PL_DEBUG_ROOT). root must outlive s. And how many modules one named.
 */
void pl_symbolizer_set_debug_root(struct pl_symbolizer *s, const char *root);
size_t pl_symbolizer_debug_files(const struct pl_symbolizer *s);
/*
 * Remembers pid's mappings now (call at attach: a process may be gone by
 * the time its addresses are printed). Returns 0, or -1 if /proc/PID/maps
 * cannot be read.
 */
int pl_symbolizer_add_process(struct pl_symbolizer *s, pid_t pid);
/*
 * pid mapped [start, end) (a new code mapping): learns the mappings there
 * alone, by PROCMAP_QUERY, and reads what vanishes with the process.
 * Without that query (Linux < 6.11), re-reads all of pid's maps, at most
 * every 100 ms. Returns 0, or -1 if nothing could be read.
 */
int pl_symbolizer_add_range(struct pl_symbolizer *s, pid_t pid, uint64_t start, uint64_t end);
/*
 * Frames for addr in pid, innermost first (inlined Go frames expand one
 * address into several). Re-reads pid's maps once if addr is in no known
 * mapping. Always writes at least one frame when max >= 1 (func NULL when
 * unknown); returns the number written. Strings live as long as s.
 */
int pl_symbolize(struct pl_symbolizer *s, pid_t pid, uint64_t addr, struct pl_frame *out, int max);
/* Mappings held, over all processes (touching anonymous non-code ones count as one). */
size_t pl_symbolizer_mappings(const struct pl_symbolizer *s);
/* Whole reads of a maps file so far (attach, and misses past the 100 ms limit). */
size_t pl_symbolizer_snapshots(const struct pl_symbolizer *s);
void pl_symbolizer_free(struct pl_symbolizer *s);

#endif
